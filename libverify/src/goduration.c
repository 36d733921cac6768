/* goduration.c - Go's time.ParseDuration, for the durations kubelet's
 * credential provider configuration and responses carry ("12h0m0s"). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "credentials_internal.h"
#include "errors.h"

sigil_status sigil__go_duration_parse(const char *s, int64_t *ms, sigil_error *err)
{
	static const struct { const char *u; uint64_t ns; } units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 }, { "\xce\xbcs", 1000 },
		{ "ms", 1000000 }, { "s", 1000000000ull }, { "m", 60000000000ull },
		{ "h", 3600000000000ull },
	};
	const char *orig = s;
	const uint64_t lim = 1ull << 63;
	uint64_t d = 0;
	bool neg = false;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (strcmp(s, "0") == 0) {
		*ms = 0;
		return SIGIL_STATUS_OK;
	}
	if (!*s)
		goto invalid;
	while (*s) {
		if (!(*s == '.' || (*s >= '0' && *s <= '9')))
			goto invalid;
		uint64_t v = 0, f = 0;
		double scale = 1;
		const char *p = s;
		while (*s >= '0' && *s <= '9') {
			if (v > (lim - 1) / 10)
				goto invalid;
			v = v * 10 + (uint64_t)(*s++ - '0');
			if (v > lim)
				goto invalid;
		}
		bool pre = s != p, post = false, overflow = false;
		if (*s == '.') {
			s++;
			p = s;
			while (*s >= '0' && *s <= '9') {
				if (!overflow) {
					if (f > (lim - 1) / 10) {
						overflow = true;
					} else {
						uint64_t y = f * 10 + (uint64_t)(*s - '0');
						if (y > lim)
							overflow = true;
						else {
							f = y;
							scale *= 10;
						}
					}
				}
				s++;
			}
			post = s != p;
		}
		if (!pre && !post)
			goto invalid;
		p = s;
		while (*s && *s != '.' && !(*s >= '0' && *s <= '9'))
			s++;
		size_t ul = (size_t)(s - p);
		if (ul == 0)
			return sigil__err(err, SIGIL_ERR_MALFORMED, "time: missing unit in duration \"%.64s\"",
				orig);
		uint64_t unit = 0;
		for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
			if (strlen(units[i].u) == ul && memcmp(units[i].u, p, ul) == 0)
				unit = units[i].ns;
		if (!unit)
			return sigil__err(err, SIGIL_ERR_MALFORMED,
				"time: unknown unit \"%.*s\" in duration \"%.64s\"", (int)(ul > 16 ? 16 : ul), p,
				orig);
		if (v > lim / unit)
			goto invalid;
		v *= unit;
		if (f > 0) {
			v += (uint64_t)((double)f * ((double)unit / scale));
			if (v > lim)
				goto invalid;
		}
		d += v;
		if (d > lim)
			goto invalid;
	}
	if (!neg && d > lim - 1)
		goto invalid;
	*ms = neg ? -(int64_t)(d / 1000000) : (int64_t)(d / 1000000);
	return SIGIL_STATUS_OK;
invalid:
	return sigil__err(err, SIGIL_ERR_MALFORMED, "time: invalid duration \"%.64s\"", orig);
}
