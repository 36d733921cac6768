/* timeutil.h - time parsing and formatting in UTC epoch seconds. */
#ifndef SIGIL_TIMEUTIL_H
#define SIGIL_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/asn1.h>
#include <sigil/error.h>

/* sigil__time_parse_rfc3339 - "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)",
 * 'T'/'Z' case-insensitive as Go accepts; fractional seconds truncated.
 * Returns epoch seconds (UTC) in *out. SIGIL_ERR_MALFORMED otherwise. */
SIGIL_MUST_CHECK sigil_status sigil__time_parse_rfc3339(const char *s, size_t len,
	int64_t *out, sigil_error *err);

/* sigil__time_from_asn1 - ASN1_TIME (UTCTime/GeneralizedTime) to epoch. */
SIGIL_MUST_CHECK sigil_status sigil__time_from_asn1(const ASN1_TIME *t, int64_t *out,
	sigil_error *err);

/* sigil__time_format - RFC 3339 "2006-01-02T15:04:05Z" into buf (>= 32). */
void sigil__time_format(int64_t t, char *buf, size_t buflen);

/* sigil__time_format_rfc1123z - "Mon, 02 Jan 2006 15:04:05 +0000", the
 * format notation uses in "digital signature has expired on %q". */
void sigil__time_format_rfc1123z(int64_t t, char *buf, size_t buflen);

/* sigil__time_now - current time, epoch seconds. */
int64_t sigil__time_now(void);

#endif
