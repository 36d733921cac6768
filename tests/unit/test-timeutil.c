/* test-timeutil.c - RFC 3339 parsing and time formatting. */
#include <string.h>
#include "timeutil.h"
#include "check.h"

static int64_t t(const char *s, sigil_category *cat)
{
	int64_t out = -1;
	sigil_error e = SIGIL_ERROR_INIT;
	*cat = sigil__time_parse_rfc3339(s, strlen(s), &out, &e) == SIGIL_STATUS_OK ? SIGIL_ERR_NONE : e.category;
	return out;
}

static void test_rfc3339(void)
{
	sigil_category c;
	CHECK_INTEQ(t("1970-01-01T00:00:00Z", &c), 0);
	CHECK_INTEQ(c, SIGIL_ERR_NONE);
	CHECK_INTEQ(t("2026-11-24T22:02:02Z", &c), 1795557722);
	CHECK_INTEQ(t("2026-11-25T03:32:02.123456+05:30", &c), 1795557722); /* offset + fraction */
	CHECK_INTEQ(t("2026-11-24t21:02:02-01:00", &c), 1795557722);
	CHECK_INTEQ(t("2024-02-29T00:00:00Z", &c), 1709164800);
	CHECK_INTEQ(c, SIGIL_ERR_NONE);
	CHECK_INTEQ(t("0001-01-01T00:00:00Z", &c), -62135596800LL);
	/* RFC 3339 §5.6 time-secfrac = "." 1*DIGIT: any number of digits (Go
	 * accepts them too, notary-verification.md §1.6 "RFC 3339 times") */
	CHECK_INTEQ(t("2026-11-24T22:02:02.1234567890123Z", &c), 1795557722);
	CHECK_INTEQ(c, SIGIL_ERR_NONE);
}

static void test_rfc3339_rejects(void)
{
	sigil_category c;
	const char *bad[] = {
		"2026-11-24T22:02:02", "2026-11-24 22:02:02Z", "2026-13-01T00:00:00Z",
		"2023-02-29T00:00:00Z", "2026-11-24T24:00:00Z", "2026-11-24T22:02:02.Z",
		"2026-11-24T22:02:02+0530", "2026-11-24T22:02:02Zjunk", "26-11-24T22:02:02Z", "",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		t(bad[i], &c);
		CHECK_INTEQ(c, SIGIL_ERR_MALFORMED);
	}
}

static void test_format(void)
{
	char buf[64];
	sigil__time_format(1795557722, buf, sizeof buf);
	CHECK_STREQ(buf, "2026-11-24T22:02:02Z");
	sigil__time_format_rfc1123z(1795557722, buf, sizeof buf);
	CHECK_STREQ(buf, "Tue, 24 Nov 2026 22:02:02 +0000");
}

static void test_asn1(void)
{
	ASN1_TIME *a = ASN1_TIME_set(NULL, 1795557722);
	int64_t out = 0;
	sigil_error e = SIGIL_ERROR_INIT;
	CHECK(sigil__time_from_asn1(a, &out, &e) == SIGIL_STATUS_OK);
	CHECK_INTEQ(out, 1795557722);
	ASN1_TIME_free(a);
	CHECK(sigil__time_from_asn1(NULL, &out, &e) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(e.category, SIGIL_ERR_MALFORMED);
}

int main(void)
{
	RUN(test_rfc3339);
	RUN(test_rfc3339_rejects);
	RUN(test_format);
	RUN(test_asn1);
	return check_summary();
}
