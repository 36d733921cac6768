/* go_duration.c - Go's time.ParseDuration (see go_duration.h). The rules
 * below follow Go's src/time/format.go ParseDuration, leadingInt and
 * leadingFraction, including where they are surprising: a lone "0" needs
 * no unit, "1.s" and ".5s" are valid, digits of a fraction beyond what a
 * uint64 holds are dropped, each term may reach 1<<63 ns, and the running
 * total is a uint64 whose overflow past 1<<64 wraps (Go checks it only
 * against 1<<63 after the addition). */
#include <stdbool.h>
#include <stdio.h>
#include "errors.h"
#include "go_duration.h"

#define LIM ((uint64_t)1 << 63)

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* nanoseconds per unit (Go's unitMap), 0 for an unknown unit */
static uint64_t unit_ns(const uint8_t *u, size_t n)
{
	if (n == 1) {
		switch (u[0]) {
		case 's': return 1000000000ULL;
		case 'm': return 60ULL * 1000000000ULL;
		case 'h': return 3600ULL * 1000000000ULL;
		default: return 0;
		}
	}
	if (n == 2 && u[1] == 's') {
		switch (u[0]) {
		case 'n': return 1;
		case 'u': return 1000;
		case 'm': return 1000000;
		default: return 0;
		}
	}
	/* µ MICRO SIGN (U+00B5) and μ GREEK SMALL LETTER MU (U+03BC), in UTF-8 */
	if (n == 3 && u[2] == 's' && ((u[0] == 0xc2 && u[1] == 0xb5) || (u[0] == 0xce && u[1] == 0xbc)))
		return 1000;
	return 0;
}

/* the input for a message: printable ASCII kept, anything else as \xNN,
 * cut at 64 bytes */
static void quote(const uint8_t *buf, size_t len, char *out, size_t out_len)
{
	size_t n = 0;
	out[n++] = '"';
	for (size_t i = 0; i < len && i < 64 && n + 6 < out_len; i++) {
		if (buf[i] >= 0x20 && buf[i] < 0x7f && buf[i] != '"' && buf[i] != '\\')
			out[n++] = (char)buf[i];
		else
			n += (size_t)snprintf(out + n, out_len - n, "\\x%02x", buf[i]);
	}
	if (len > 64 && n + 5 < out_len) {
		out[n++] = '.';
		out[n++] = '.';
		out[n++] = '.';
	}
	out[n++] = '"';
	out[n] = '\0';
}

static sigil_status fail(sigil_error *err, sigil_category cat, size_t at, const char *what,
	const uint8_t *buf, size_t len)
{
	char q[300];
	quote(buf, len, q, sizeof q);
	return sigil__err_at(err, cat, at, "time: %s %s", what, q);
}

sigil_status sigil__go_duration_parse(const uint8_t *buf, size_t len, int64_t *out, sigil_error *err)
{
	size_t i = 0;
	bool neg = false;
	if (len > 0 && (buf[0] == '-' || buf[0] == '+')) {
		neg = buf[0] == '-';
		i = 1;
	}
	/* "0", "-0" and "+0" are the only numbers allowed without a unit */
	if (len - i == 1 && buf[i] == '0') {
		*out = 0;
		return SIGIL_STATUS_OK;
	}
	if (i == len)
		return fail(err, SIGIL_ERR_MALFORMED, i, "invalid duration", buf, len);
	uint64_t total = 0;
	while (i < len) {
		size_t start = i;
		if (buf[i] != '.' && !is_digit(buf[i]))
			return fail(err, SIGIL_ERR_MALFORMED, i, "invalid duration", buf, len);
		/* the integer part: at most 1<<63 */
		uint64_t v = 0;
		for (; i < len && is_digit(buf[i]); i++) {
			if (v > LIM / 10)
				return fail(err, SIGIL_ERR_LIMIT, start, "invalid duration", buf, len);
			v = v * 10 + (uint64_t)(buf[i] - '0');
			if (v > LIM)
				return fail(err, SIGIL_ERR_LIMIT, start, "invalid duration", buf, len);
		}
		bool pre = i > start, post = false;
		/* the fraction: digits that no longer fit are skipped, not an error */
		uint64_t f = 0;
		double scale = 1;
		if (i < len && buf[i] == '.') {
			size_t fstart = ++i;
			bool full = false;
			for (; i < len && is_digit(buf[i]); i++) {
				if (full)
					continue;
				if (f > (LIM - 1) / 10) {
					full = true;
					continue;
				}
				uint64_t y = f * 10 + (uint64_t)(buf[i] - '0');
				if (y > LIM) {
					full = true;
					continue;
				}
				f = y;
				scale *= 10;
			}
			post = i > fstart;
		}
		if (!pre && !post)
			return fail(err, SIGIL_ERR_MALFORMED, start, "invalid duration", buf, len);
		/* the unit: everything up to the next '.' or digit */
		size_t ustart = i;
		while (i < len && buf[i] != '.' && !is_digit(buf[i]))
			i++;
		if (i == ustart)
			return fail(err, SIGIL_ERR_MALFORMED, ustart, "missing unit in duration", buf, len);
		uint64_t unit = unit_ns(buf + ustart, i - ustart);
		if (!unit) {
			char u[300], what[400];
			quote(buf + ustart, i - ustart, u, sizeof u);
			snprintf(what, sizeof what, "unknown unit %s in duration", u);
			return fail(err, SIGIL_ERR_MALFORMED, ustart, what, buf, len);
		}
		if (v > LIM / unit)
			return fail(err, SIGIL_ERR_LIMIT, start, "invalid duration", buf, len);
		v *= unit;
		if (f > 0) {
			/* f < scale, so this is below unit (at most 3.6e12): in range */
			v += (uint64_t)((double)f * ((double)unit / scale));
			if (v > LIM)
				return fail(err, SIGIL_ERR_LIMIT, start, "invalid duration", buf, len);
		}
		total += v;  /* may wrap past 1<<64, as Go's uint64 does */
		if (total > LIM)
			return fail(err, SIGIL_ERR_LIMIT, start, "invalid duration", buf, len);
	}
	if (neg) {
		*out = total == LIM ? INT64_MIN : -(int64_t)total;
		return SIGIL_STATUS_OK;
	}
	if (total > LIM - 1)
		return fail(err, SIGIL_ERR_LIMIT, 0, "invalid duration", buf, len);
	*out = (int64_t)total;
	return SIGIL_STATUS_OK;
}
