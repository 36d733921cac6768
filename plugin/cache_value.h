/* cache_value.h - the value sigild's verdict cache holds for a verdict:
 * the packed VerifyResponse, ready to be sent as the answer to a hit, and
 * where in it the strings that counters, metrics and the audit line need
 * are (cache_value.c says why and how). */
#ifndef SIGILD_CACHE_VALUE_H
#define SIGILD_CACHE_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sigil/v1/verifier.pb-c.h"

/* A string of the packed response: bytes [off, off + len). */
typedef struct sigild_span {
	size_t off, len;
} sigild_span;

/* The summary's strings: reason, policy, level, failure (VerifyResponse
 * fields 2-5), the signer of the first verified signature, and the check
 * that failed (the first signature's failed_check when failure is
 * "signatures"; empty otherwise). An absent string is empty. */
enum {
	SIGILD_SPAN_REASON, SIGILD_SPAN_POLICY, SIGILD_SPAN_LEVEL, SIGILD_SPAN_FAILURE,
	SIGILD_SPAN_SIGNER, SIGILD_SPAN_CHECK, SIGILD_SUMMARY_SPANS
};

/* sigild_cache_value_pack - r's cache value (malloc'd, *len bytes); NULL
 * on allocation failure or a response of 4 GiB or more. */
uint8_t *sigild_cache_value_pack(const Sigil__V1__VerifyResponse *r, size_t *len);

/* sigild_cache_value_parse - a cache value's answer (its first
 * *answer_len bytes: a VerifyResponse with cached = true, elapsed_us = 0),
 * verdict and spans, each within the answer; false when val is not a
 * cache value. */
bool sigild_cache_value_parse(const uint8_t *val, size_t len, size_t *answer_len, bool *allow,
	sigild_span sp[SIGILD_SUMMARY_SPANS]);

/* sigild_cache_value_spans - the spans of the packed response b[0..n);
 * false when b is not well-formed protobuf wire format. Reads nothing
 * outside b[0..n). */
bool sigild_cache_value_spans(const uint8_t *b, size_t n, sigild_span sp[SIGILD_SUMMARY_SPANS]);

#endif
