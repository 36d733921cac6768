/* cache_value.c - what sigild keeps in its verdict cache for one verdict,
 * and the protobuf wire reading that locates its summary.
 *
 * A cached verdict is answered on sigild's I/O thread without unpacking
 * and packing its VerifyResponse again (issue 7: that was ~34 000 of the
 * ~100 000 instructions of a cached Verify). The value stored is
 *
 *   the packed VerifyResponse          n bytes
 *   CACHED_SUFFIX                      cached = true, elapsed_us = 0
 *   verdict                            1 byte: 1 allow, 0 deny
 *   SIGILD_SUMMARY_SPANS spans     8 bytes each: offset, length (u32
 *                                      little-endian) of a string in
 *                                      the packed response
 *
 * and the answer to a hit is its first n + sizeof CACHED_SUFFIX bytes:
 * concatenated protobuf messages merge, and for a singular scalar field
 * the last value on the wire wins (protobuf encoding, "Last One Wins"), so
 * they decode as the stored response with cached = true and elapsed_us =
 * 0, which is what a hit answered before. The spans locate what counters,
 * metrics and the audit line take from a hit (verdict_summary) in bytes
 * the value holds anyway: 53 bytes an entry, where copies of the strings
 * cost ~430 (bench/README.md).
 *
 * The wire reading is bounded by the buffer it is given and fuzzed
 * (tests/fuzz/fuzz-cache-value.c: on any bytes protobuf-c decodes, the
 * spans name exactly the strings protobuf-c finds). */
#include <stdlib.h>
#include <string.h>
#include "cache_value.h"

/* sigil.v1.VerifyResponse field 7 (bool cached) = 1 and field 8 (int64
 * elapsed_us) = 0: tag (field << 3 | wire type 0, varint), value */
static const uint8_t CACHED_SUFFIX[4] = { 7 << 3, 1, 8 << 3, 0 };

#define CACHE_VALUE_TRAILER (sizeof CACHED_SUFFIX + 1 + 8 * SIGILD_SUMMARY_SPANS)

static bool wire_varint(const uint8_t *b, size_t end, size_t *pos, uint64_t *v)
{
	uint64_t x = 0;
	for (unsigned shift = 0; shift < 64 && *pos < end; shift += 7) {
		uint8_t c = b[(*pos)++];
		x |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*v = x;
			return true;
		}
	}
	return false;
}

enum { WIRE_VARINT = 0, WIRE_LEN = 2 };

/* wire_field - the protobuf field at *pos (< end) of b: its number, its
 * wire type, its value for a varint, its bytes (*bytes, positions in b)
 * for a length-delimited one; *pos moves past it. false when malformed. */
static bool wire_field(const uint8_t *b, size_t end, size_t *pos, uint64_t *no, unsigned *type,
	uint64_t *varint, sigild_span *bytes)
{
	uint64_t key, v;
	*varint = 0;
	*bytes = (sigild_span){ 0, 0 };
	if (!wire_varint(b, end, pos, &key))
		return false;
	*no = key >> 3;
	*type = (unsigned)(key & 7);
	switch (key & 7) {
	case 0:
		return wire_varint(b, end, pos, varint);
	case 1:
	case 5: {
		size_t w = (key & 7) == 1 ? 8 : 4;
		if (end - *pos < w)
			return false;
		*pos += w;
		return true;
	}
	case 2:
		if (!wire_varint(b, end, pos, &v) || v > end - *pos)
			return false;
		*bytes = (sigild_span){ *pos, (size_t)v };
		*pos += (size_t)v;
		return true;
	default:
		return false;
	}
}

static bool span_is(const uint8_t *b, sigild_span sp, const char *s)
{
	return sp.len == strlen(s) && memcmp(b + sp.off, s, sp.len) == 0;
}

/* sigild_cache_value_spans - where summary_of's strings are in the packed response
 * b[0..n): reason, policy, level, failure (fields 2-5), the signer of the
 * first verified signature (field 6: SignatureResult verified = 3, signer
 * = 5) and, when failure is "signatures", failure_check's failed_check of
 * the first signature with one (4); a string proto3 leaves out is empty
 * (length 0), SIGILD_SPAN_CHECK empty means "failure or none". A field
 * it reads with another wire type than its declared one is refused (false)
 * rather than read some other way: protobuf-c, which packed the value,
 * never writes one, and readers disagree on what it would mean. */
bool sigild_cache_value_spans(const uint8_t *b, size_t n, sigild_span sp[SIGILD_SUMMARY_SPANS])
{
	sigild_span check = { 0, 0 };
	bool signer = false, failed = false;
	uint64_t no, v;
	unsigned type;
	sigild_span f;
	for (size_t i = 0; i < SIGILD_SUMMARY_SPANS; i++)
		sp[i] = (sigild_span){ 0, 0 };
	for (size_t pos = 0; pos < n;) {
		if (!wire_field(b, n, &pos, &no, &type, &v, &f))
			return false;
		if (no >= 2 && no <= 6 && type != WIRE_LEN)
			return false;
		if (no >= 2 && no <= 5)
			sp[SIGILD_SPAN_REASON + (no - 2)] = f;
		if (no != 6)
			continue;
		sigild_span who = { 0, 0 }, fc = { 0, 0 };
		bool verified = false;
		for (size_t q = f.off, end = f.off + f.len; q < end;) {
			uint64_t sno, sv;
			unsigned st;
			sigild_span sf;
			if (!wire_field(b, end, &q, &sno, &st, &sv, &sf))
				return false;
			if ((sno == 3 && st != WIRE_VARINT) || ((sno == 4 || sno == 5) && st != WIRE_LEN))
				return false;
			if (sno == 3)
				verified = sv != 0;
			else if (sno == 4)
				fc = sf;
			else if (sno == 5)
				who = sf;
		}
		if (verified && !signer) {
			sp[SIGILD_SPAN_SIGNER] = who;
			signer = true;
		}
		if (fc.len && !failed) {
			check = fc;
			failed = true;
		}
	}
	if (failed && span_is(b, sp[SIGILD_SPAN_FAILURE], "signatures"))
		sp[SIGILD_SPAN_CHECK] = check;
	return true;
}

static void put_u32(uint8_t *p, size_t v)
{
	for (size_t i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static size_t get_u32(const uint8_t *p)
{
	size_t v = 0;
	for (size_t i = 0; i < 4; i++)
		v |= (size_t)p[i] << (8 * i);
	return v;
}

/* sigild_cache_value_pack - the cache value of r (malloc'd), NULL on allocation
 * failure or a response too large for the spans (4 GiB) */
uint8_t *sigild_cache_value_pack(const Sigil__V1__VerifyResponse *r, size_t *len)
{
	size_t n = sigil__v1__verify_response__get_packed_size(r);
	if (n > 0xffffffffu)
		return NULL;
	uint8_t *val = malloc(n + CACHE_VALUE_TRAILER);
	if (!val)
		return NULL;
	sigild_span sp[SIGILD_SUMMARY_SPANS];
	if (sigil__v1__verify_response__pack(r, val) != n || !sigild_cache_value_spans(val, n, sp)) {
		free(val);
		return NULL;
	}
	uint8_t *t = val + n;
	memcpy(t, CACHED_SUFFIX, sizeof CACHED_SUFFIX);
	t += sizeof CACHED_SUFFIX;
	*t++ = r->verdict == SIGIL__V1__VERDICT__VERDICT_ALLOW ? 1 : 0;
	for (size_t i = 0; i < SIGILD_SUMMARY_SPANS; i++, t += 8) {
		put_u32(t, sp[i].off);
		put_u32(t + 4, sp[i].len);
	}
	*len = n + CACHE_VALUE_TRAILER;
	return val;
}

/* sigild_cache_value_parse - a cache value's answer (its first *answer_len
 * bytes: the packed response and CACHED_SUFFIX), verdict and spans;
 * false when val is not a cache value */
bool sigild_cache_value_parse(const uint8_t *val, size_t len, size_t *answer_len, bool *allow,
	sigild_span sp[SIGILD_SUMMARY_SPANS])
{
	if (len < CACHE_VALUE_TRAILER)
		return false;
	size_t n = len - CACHE_VALUE_TRAILER;
	const uint8_t *t = val + n;
	if (memcmp(t, CACHED_SUFFIX, sizeof CACHED_SUFFIX) != 0)
		return false;
	t += sizeof CACHED_SUFFIX;
	if (*t > 1)
		return false;
	*allow = *t++ == 1;
	for (size_t i = 0; i < SIGILD_SUMMARY_SPANS; i++, t += 8) {
		sp[i] = (sigild_span){ get_u32(t), get_u32(t + 4) };
		if (sp[i].off > n || sp[i].len > n - sp[i].off)
			return false;
	}
	*answer_len = n + sizeof CACHED_SUFFIX;
	return true;
}

