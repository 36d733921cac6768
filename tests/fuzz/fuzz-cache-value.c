/* fuzz-cache-value.c - sigild's cache value (plugin/cache_value.c): its
 * protobuf wire reading against protobuf-c's. For any bytes: the spans
 * stay inside them; when both the wire reading and protobuf-c accept the
 * bytes, each span names the string protobuf-c finds (reason, policy,
 * level, failure, the first verified signer, the failed check as
 * service.c's failure_check picks it); and for every response protobuf-c
 * decodes, the cache value packed from it - what sigild stores - is
 * accepted, its spans name the same strings, and it answers with the same
 * response, cached = true and elapsed_us = 0. (The wire reading refuses a
 * known field with another wire type, which protobuf-c reads leniently;
 * protobuf-c never writes one.) */
#include <stdlib.h>
#include <string.h>
#include "cache_value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *nz(const char *s)
{
	return s ? s : "";
}

/* the span's bytes as the C string a reader of them gets */
static void expect_span(const uint8_t *b, sigild_span sp, const char *want)
{
	char *got = malloc(sp.len + 1);
	if (!got)
		return;
	memcpy(got, b + sp.off, sp.len);
	got[sp.len] = '\0';
	if (strcmp(got, nz(want)) != 0)
		abort();
	free(got);
}

static const char *signer_of(const Sigil__V1__VerifyResponse *r);
static const char *check_of(const Sigil__V1__VerifyResponse *r);

static void expect_spans(const uint8_t *b, const sigild_span sp[SIGILD_SUMMARY_SPANS],
	const Sigil__V1__VerifyResponse *r)
{
	expect_span(b, sp[SIGILD_SPAN_REASON], r->reason);
	expect_span(b, sp[SIGILD_SPAN_POLICY], r->policy);
	expect_span(b, sp[SIGILD_SPAN_LEVEL], r->level);
	expect_span(b, sp[SIGILD_SPAN_FAILURE], r->failure);
	expect_span(b, sp[SIGILD_SPAN_SIGNER], signer_of(r));
	expect_span(b, sp[SIGILD_SPAN_CHECK], check_of(r));
}

static const char *signer_of(const Sigil__V1__VerifyResponse *r)
{
	for (size_t i = 0; i < r->n_signatures; i++)
		if (r->signatures[i]->verified)
			return r->signatures[i]->signer;
	return "";
}

static const char *check_of(const Sigil__V1__VerifyResponse *r)
{
	if (r->failure && strcmp(r->failure, "signatures") == 0)
		for (size_t i = 0; i < r->n_signatures; i++)
			if (r->signatures[i]->failed_check && r->signatures[i]->failed_check[0])
				return r->signatures[i]->failed_check;
	return "";
}

/* protobuf-c re-packs unknown fields as it read them, and some (field
 * number 0, say) it then refuses to read back: a response sigild packs
 * itself has none, so only what protobuf-c can round-trip is checked */
static bool protobuf_c_round_trips(const Sigil__V1__VerifyResponse *r)
{
	size_t n = sigil__v1__verify_response__get_packed_size(r);
	uint8_t *b = malloc(n ? n : 1);
	if (!b)
		return false;
	sigil__v1__verify_response__pack(r, b);
	Sigil__V1__VerifyResponse *back = sigil__v1__verify_response__unpack(NULL, n, b);
	free(b);
	if (!back)
		return false;
	sigil__v1__verify_response__free_unpacked(back, NULL);
	return true;
}

static void round_trip(const Sigil__V1__VerifyResponse *r)
{
	size_t len = 0, answer_len = 0;
	bool allow = false;
	sigild_span sp[SIGILD_SUMMARY_SPANS];
	if (!protobuf_c_round_trips(r))
		return;
	uint8_t *val = sigild_cache_value_pack(r, &len);
	/* NULL: out of memory (not in a fuzzing run) or the wire reading
	 * refused protobuf-c's own packing - a bug */
	if (!val)
		abort();
	if (!sigild_cache_value_parse(val, len, &answer_len, &allow, sp))
		abort();
	if (allow != (r->verdict == SIGIL__V1__VERDICT__VERDICT_ALLOW))
		abort();
	Sigil__V1__VerifyResponse *a = sigil__v1__verify_response__unpack(NULL, answer_len, val);
	if (!a || !a->cached || a->elapsed_us != 0 || a->verdict != r->verdict ||
		strcmp(nz(a->reason), nz(r->reason)) != 0 || a->n_signatures != r->n_signatures)
		abort();
	expect_spans(val, sp, r);
	sigil__v1__verify_response__free_unpacked(a, NULL);
	free(val);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sigild_span sp[SIGILD_SUMMARY_SPANS];
	bool ok = sigild_cache_value_spans(data, size, sp);
	if (ok)
		for (size_t i = 0; i < SIGILD_SUMMARY_SPANS; i++)
			if (sp[i].off > size || sp[i].len > size - sp[i].off)
				abort();
	Sigil__V1__VerifyResponse *r = sigil__v1__verify_response__unpack(NULL, size, data);
	if (!r)
		return 0;
	if (ok)
		expect_spans(data, sp, r);
	round_trip(r);
	sigil__v1__verify_response__free_unpacked(r, NULL);
	return 0;
}
