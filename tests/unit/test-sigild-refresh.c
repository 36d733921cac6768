/* test-sigild-refresh.c - sigild's background revocation refresher thread
 * (plugin/refresh.c): passes run periodically, stop is prompt even in the
 * middle of a long wait, bad arguments are refused, and the counters
 * Status reports (passes, failures, deferred, the cache's entries) add up,
 * with a CRL endpoint that is down asked once, not on every pass. What a
 * pass does in detail is tested with sigil_revocation_refresher in
 * test-revocation.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
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
	CHECK(sigild_refresher_start(&r, dir, NULL, 0, 20, 3600, &err) == SIGIL_STATUS_OK);
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
	CHECK(sigild_refresher_start(&r, dir, NULL, 60000, 60000, 3600, &err) == SIGIL_STATUS_OK);
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
	CHECK(sigild_refresher_start(&r, "", NULL, 0, 20, 3600, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_USAGE);
	CHECK_CONTAINS(err.message, "sigild_refresher_start: invalid argument");
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(sigild_refresher_start(&r, dir, NULL, 0, 0, 3600, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_USAGE);
	CHECK(sigild_refresher_start(&r, dir, NULL, 0, 20, -1, &err) == SIGIL_STATUS_ERROR);
	CHECK(r == NULL);
}

/* a port nothing listens on */
static int closed_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof a;
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &l) != 0)
		exit(2);
	close(fd);
	return ntohs(a.sin_port);
}

static void test_counters_and_backoff(void)
{
	/* a cache with one CRL due (nextUpdate in a minute) whose source
	 * record names an endpoint that is down, as a pull would have left it
	 * (revocation_source.c: "sigil-crl-source 1\n" URL "\n" issuer DER) */
	char cache[256], cmd[2048], url[128];
	snprintf(cache, sizeof cache, "%s/counters", dir);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/ca.crl", closed_port());
	snprintf(cmd, sizeof cmd,
		"set -e; cd '%s'; mkdir -p counters/crl pki; cd pki\n"
		"openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key "
		"-out ca.pem -subj /CN=sigild-refresh-test -days 2 "
		"-addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign,cRLSign\n"
		": > index.txt; echo 1000 > crlnumber\n"
		"printf '[ca]\\ndefault_ca=d\\n[d]\\ndatabase=index.txt\\ncrlnumber=crlnumber\\n"
		"default_md=sha256\\n' > ca.cnf\n"
		"openssl ca -config ca.cnf -gencrl -keyfile ca.key -cert ca.pem "
		"-crl_lastupdate $(date -u -d '-1 day' +%%Y%%m%%d%%H%%M%%SZ) "
		"-crl_nextupdate $(date -u -d '+1 min' +%%Y%%m%%d%%H%%M%%SZ) -out crl.pem\n"
		"N=$(printf %%s '%s' | sha256sum | cut -d' ' -f1)\n"
		"openssl crl -in crl.pem -outform DER -out ../counters/crl/$N\n"
		"{ printf 'sigil-crl-source 1\\n%%s\\n' '%s'; openssl x509 -in ca.pem -outform DER; } "
		"> ../counters/crl/$N.src\n", dir, url, url);
	FILE *sh = popen("sh", "w");
	CHECK(sh != NULL);
	if (!sh)
		return;
	fputs(cmd, sh);
	CHECK(pclose(sh) == 0);
	sigild_refresher *r = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigild_refresher_start(&r, cache, NULL, 0, 20, 3600, &err) == SIGIL_STATUS_OK);
	if (!r)
		return;
	int64_t until = mono_ms() + 10000;
	while (sigild_refresher_passes(r) < 4 && mono_ms() < until)
		usleep(10000);
	sigild_refresh_stats st;
	sigild_refresher_stats(r, &st);
	sigild_refresher_stop(r);
	CHECK(st.passes >= 4);
	CHECK_INTEQ(st.crl_entries, 1);
	CHECK_INTEQ(st.ocsp_entries, 0);
	CHECK_INTEQ(st.refreshed, 0);
	/* the endpoint is asked once; the passes after it wait (back-off) */
	CHECK_INTEQ(st.failures, 1);
	CHECK_INTEQ(st.deferred, st.passes - 1);
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
	RUN(test_counters_and_backoff);
	char rm[128];
	snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
	if (!getenv("SIGIL_TEST_KEEP") && system(rm) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return check_summary();
}
