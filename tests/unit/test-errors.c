/* test-errors.c - error filling and wrapping. */
#include <string.h>
#include "errors.h"
#include "check.h"

static void test_set_and_wrap(void)
{
	sigil_error e = SIGIL_ERROR_INIT;
	CHECK(sigil__err(&e, SIGIL_ERR_NETWORK, "HTTP %d", 404) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(e.category, SIGIL_ERR_NETWORK);
	CHECK_STREQ(e.message, "HTTP 404");
	sigil__err_wrap(&e, "registry %s", "127.0.0.1:5000");
	sigil__err_wrap(&e, "fetching signature %s", "sha256:ab");
	CHECK_STREQ(e.message, "fetching signature sha256:ab: registry 127.0.0.1:5000: HTTP 404");
	CHECK_INTEQ(e.category, SIGIL_ERR_NETWORK); /* the inner cause's category stays */
	CHECK(sigil__err_at(&e, SIGIL_ERR_MALFORMED, 17, "bad byte") == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(e.offset, 17);
	CHECK(sigil__err(NULL, SIGIL_ERR_IO, "x") == SIGIL_STATUS_ERROR);
}

static void test_wrap_truncates(void)
{
	sigil_error e = SIGIL_ERROR_INIT;
	char long_msg[2000];
	memset(long_msg, 'x', sizeof long_msg - 1);
	long_msg[sizeof long_msg - 1] = 0;
	sigil__err(&e, SIGIL_ERR_IO, "%s", long_msg);
	CHECK_INTEQ(strlen(e.message), SIGIL_ERROR_MESSAGE_MAX - 1);
	sigil__err_wrap(&e, "context");
	CHECK_INTEQ(strlen(e.message), SIGIL_ERROR_MESSAGE_MAX - 1);
	CHECK(strncmp(e.message, "context: xxx", 12) == 0);
}

static void test_category_names(void)
{
	CHECK_STREQ(sigil_category_name(SIGIL_ERR_MALFORMED), "malformed");
	CHECK_STREQ(sigil_category_name(SIGIL_ERR_POLICY), "policy");
	CHECK_STREQ(sigil_category_name((sigil_category)999), "unknown");
}

int main(void)
{
	RUN(test_set_and_wrap);
	RUN(test_wrap_truncates);
	RUN(test_category_names);
	return check_summary();
}
