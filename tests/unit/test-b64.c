/* test-b64.c - strict base64 / base64url decoding (RFC 4648). */
#include <stdlib.h>
#include <string.h>
#include "b64.h"
#include "check.h"

static int url(const char *s, const char *want)
{
	uint8_t *out = NULL;
	size_t n = 0;
	sigil_error e = SIGIL_ERROR_INIT;
	if (sigil__b64url_decode(s, strlen(s), &out, &n, &e) != SIGIL_STATUS_OK)
		return e.category == SIGIL_ERR_MALFORMED ? -1 : -2;
	int ok = n == strlen(want) && memcmp(out, want, n) == 0;
	free(out);
	return ok;
}

static int std(const char *s, const char *want)
{
	uint8_t *out = NULL;
	size_t n = 0;
	sigil_error e = SIGIL_ERROR_INIT;
	if (sigil__b64std_decode(s, strlen(s), &out, &n, &e) != SIGIL_STATUS_OK)
		return e.category == SIGIL_ERR_MALFORMED ? -1 : -2;
	int ok = n == strlen(want) && memcmp(out, want, n) == 0;
	free(out);
	return ok;
}

static void test_url_valid(void)
{
	CHECK_INTEQ(url("", ""), 1);
	CHECK_INTEQ(url("Zg", "f"), 1);
	CHECK_INTEQ(url("Zm8", "fo"), 1);
	CHECK_INTEQ(url("Zm9v", "foo"), 1);
	CHECK_INTEQ(url("Pz8_", "??\x3f"), 1);
	CHECK_INTEQ(url("-_-_", "\xfb\xff\xbf"), 1);
}

static void test_url_rejects(void)
{
	CHECK_INTEQ(url("Zg==", ""), -1);    /* RFC 7515 §2: no padding */
	CHECK_INTEQ(url("+/+/", ""), -1);    /* standard alphabet */
	CHECK_INTEQ(url("Z", ""), -1);       /* impossible length */
	CHECK_INTEQ(url("Zh", ""), -1);      /* non-zero trailing bits */
	CHECK_INTEQ(url("Zm 9v", ""), -1);   /* whitespace */
	CHECK_INTEQ(url("Zm9v\n", ""), -1);
}

static void test_std_valid(void)
{
	CHECK_INTEQ(std("", ""), 1);
	CHECK_INTEQ(std("Zg==", "f"), 1);
	CHECK_INTEQ(std("Zm8=", "fo"), 1);
	CHECK_INTEQ(std("Zm9v", "foo"), 1);
	CHECK_INTEQ(std("+/+/", "\xfb\xff\xbf"), 1);
}

static void test_std_rejects(void)
{
	CHECK_INTEQ(std("Zg", ""), -1);      /* padding required */
	CHECK_INTEQ(std("Zm8", ""), -1);
	CHECK_INTEQ(std("-_-_", ""), -1);    /* url alphabet */
	CHECK_INTEQ(std("Z===", ""), -1);
	CHECK_INTEQ(std("Zh==", ""), -1);    /* non-zero trailing bits */
	CHECK_INTEQ(std("Zg=a", ""), -1);
	CHECK_INTEQ(std("=Zg=", ""), -1);
}

int main(void)
{
	RUN(test_url_valid);
	RUN(test_url_rejects);
	RUN(test_std_valid);
	RUN(test_std_rejects);
	return check_summary();
}
