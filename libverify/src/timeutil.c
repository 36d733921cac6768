/* timeutil.c - times as UTC epoch seconds. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "timeutil.h"
#include "errors.h"

/* days_from_civil - days since 1970-01-01 of a proleptic Gregorian date
 * (Howard Hinnant's algorithm); no timegm() so that TZ never matters. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, size_t n, int *out)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int days_in_month(int y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

sigil_status sigil__time_parse_rfc3339(const char *s, size_t len, int64_t *out, sigil_error *err)
{
	/* RFC 3339 §5.6 date-time: full-date "T" full-time */
	int Y, M, D, h, mi, sec;
	if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
	    s[13] != ':' || s[16] != ':' ||
	    digits(s, 4, &Y) || digits(s + 5, 2, &M) || digits(s + 8, 2, &D) ||
	    digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &sec))
		return sigil__err(err, SIGIL_ERR_MALFORMED, "invalid RFC 3339 time \"%.*s\"",
			(int)(len > 64 ? 64 : len), s);
	if (M < 1 || M > 12 || D < 1 || D > days_in_month(Y, M) || h > 23 || mi > 59 || sec > 59)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "RFC 3339 time out of range \"%.*s\"",
			(int)(len > 64 ? 64 : len), s);
	size_t i = 19;
	if (i < len && s[i] == '.') {
		size_t start = ++i;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		/* RFC 3339 §5.6: time-secfrac = "." 1*DIGIT, unbounded (Go
		 * accepts any count too); the fraction is truncated away */
		if (i == start)
			return sigil__err(err, SIGIL_ERR_MALFORMED, "invalid fractional seconds in \"%.*s\"",
				(int)(len > 64 ? 64 : len), s);
	}
	int64_t offset = 0;
	if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i + 6 == len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
		int oh, om;
		if (digits(s + i + 1, 2, &oh) || digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
			return sigil__err(err, SIGIL_ERR_MALFORMED, "invalid time zone offset in \"%.*s\"",
				(int)(len > 64 ? 64 : len), s);
		offset = (int64_t)oh * 3600 + om * 60;
		if (s[i] == '-')
			offset = -offset;
		i += 6;
	} else {
		return sigil__err(err, SIGIL_ERR_MALFORMED, "missing time zone in \"%.*s\"",
			(int)(len > 64 ? 64 : len), s);
	}
	if (i != len)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "trailing data in time \"%.*s\"",
			(int)(len > 64 ? 64 : len), s);
	int64_t t = days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400 + h * 3600 + mi * 60 + sec;
	*out = t - offset;
	return SIGIL_STATUS_OK;
}

sigil_status sigil__time_from_asn1(const ASN1_TIME *t, int64_t *out, sigil_error *err)
{
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "invalid ASN.1 time");
	*out = days_from_civil((int64_t)tm.tm_year + 1900, (unsigned)tm.tm_mon + 1,
		(unsigned)tm.tm_mday) * 86400 + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
	return SIGIL_STATUS_OK;
}

static void to_tm(int64_t t, struct tm *tm)
{
	time_t tt = (time_t)t;
	if (!gmtime_r(&tt, tm))
		memset(tm, 0, sizeof *tm);
}

void sigil__time_format(int64_t t, char *buf, size_t buflen)
{
	struct tm tm;
	to_tm(t, &tm);
	if (strftime(buf, buflen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0 && buflen)
		buf[0] = '\0';
}

void sigil__time_format_rfc1123z(int64_t t, char *buf, size_t buflen)
{
	static const char *wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *mo[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	to_tm(t, &tm);
	/* fixed English names: strftime's %a/%b depend on the locale */
	snprintf(buf, buflen, "%s, %02d %s %04d %02d:%02d:%02d +0000", wd[tm.tm_wday % 7],
		tm.tm_mday, mo[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int64_t sigil__time_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}
