/* test-sigild-refresh.c - sigild's background revocation refresher thread
 * (plugin/refresh.c): passes run periodically, stop is prompt even in the
 * middle of a long wait, bad arguments are refused. What a pass does is
 * tested with sigil_revocation_refresh in test-revocation.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "check.h"
#include "refresh.h"

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char dir[] = "/tmp/sigil-refresh-XXXXXX";

static void test_passes(void)
{
	sigild_refresher *r = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigild_refresher_start(&r, dir, 0, 20, 3600, &err) == SIGIL_STATUS_OK);
	int64_t until = mono_ms() + 5000;
	while (sigild_refresher_passes(r) < 3 && mono_ms() < until)
		usleep(10000);
	CHECK(sigild_refresher_passes(r) >= 3);
	/* an empty cache: nothing to refresh */
	CHECK_INTEQ(sigild_refresher_refreshed(r), 0);
	sigild_refresher_stop(r);
}

static void test_stop_is_prompt(void)
{
	sigild_refresher *r = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigild_refresher_start(&r, dir, 60000, 60000, 3600, &err) == SIGIL_STATUS_OK);
	usleep(20000);
	CHECK_INTEQ(sigild_refresher_passes(r), 0);
	int64_t t0 = mono_ms();
	sigild_refresher_stop(r);
	CHECK(mono_ms() - t0 < 1000);
	sigild_refresher_stop(NULL);
}

static void test_bad_arguments(void)
{
	sigild_refresher *r = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigild_refresher_start(&r, "", 0, 20, 3600, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_USAGE);
	CHECK_CONTAINS(err.message, "sigild_refresher_start: invalid argument");
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(sigild_refresher_start(&r, dir, 0, 0, 3600, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_USAGE);
	CHECK(sigild_refresher_start(&r, dir, 0, 20, -1, &err) == SIGIL_STATUS_ERROR);
	CHECK(r == NULL);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	RUN(test_passes);
	RUN(test_stop_is_prompt);
	RUN(test_bad_arguments);
	rmdir(dir);
	return check_summary();
}
