/* test-jws.c - the JWS envelope (notary-verification.md §1.3, §1.6,
 * RFC 7515). Synthetic envelopes reuse the baseline case's x5c; the
 * format half (sigil__jws_parse) does not verify the signature, the corpus
 * cases exercise that through sigil__envelope_parse. */
#include <time.h>
#include "envelope.h"
#include "envelope-corpus.h"
#include "bounds.h"

static char x5c[16384]; /* JSON array text from adversarial 001 */

static char *b64url(const char *in, size_t n)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char *out = malloc(n / 3 * 4 + 5), *p = out;
	const unsigned char *s = (const unsigned char *)in;
	size_t i = 0;
	for (; i + 3 <= n; i += 3) {
		*p++ = tbl[s[i] >> 2];
		*p++ = tbl[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
		*p++ = tbl[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)];
		*p++ = tbl[s[i + 2] & 63];
	}
	if (n - i == 1) {
		*p++ = tbl[s[i] >> 2];
		*p++ = tbl[(s[i] & 3) << 4];
	} else if (n - i == 2) {
		*p++ = tbl[s[i] >> 2];
		*p++ = tbl[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
		*p++ = tbl[(s[i + 1] & 15) << 2];
	}
	*p = 0;
	return out;
}

#define CTY "\"cty\":\"application/vnd.cncf.notary.payload.v1+json\""
#define X509_HDR "{\"alg\":\"PS256\",\"crit\":[\"io.cncf.notary.signingScheme\"]," CTY "," \
	"\"io.cncf.notary.signingScheme\":\"notary.x509\",\"io.cncf.notary.signingTime\":\"2024-01-02T03:04:05Z\""
#define PAYLOAD "{\"targetArtifact\":{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"," \
	"\"digest\":\"sha256:1ead33caa781ec0653e8d8e174f78daad7b8aedd6c37c59247a9437a1dcb3ab4\",\"size\":401}}"

/* protected / payload are JSON text (encoded here unless raw_* is set);
 * header_extra and top_extra are appended members. */
static char *make_jws(const char *prot, const char *payload, const char *header_extra,
	const char *top_extra)
{
	char *p = b64url(prot, strlen(prot)), *y = b64url(payload, strlen(payload));
	size_t cap = strlen(p) + strlen(y) + strlen(x5c) + 512 + (header_extra ? strlen(header_extra) : 0) +
		(top_extra ? strlen(top_extra) : 0);
	char *out = malloc(cap);
	snprintf(out, cap, "{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"AAAA\","
		"\"header\":{\"x5c\":%s%s%s}%s%s}", p, y, x5c, header_extra ? "," : "",
		header_extra ? header_extra : "", top_extra ? "," : "", top_extra ? top_extra : "");
	free(p);
	free(y);
	return out;
}

static sigil__envelope *parse_ok(const char *doc)
{
	sigil_error err = SIGIL_ERROR_INIT;
	sigil__envelope *env = NULL;
	sigil_status st = sigil__jws_parse((const uint8_t *)doc, strlen(doc), &env, &err);
	if (st != SIGIL_STATUS_OK)
		fprintf(stderr, "    unexpected error: %s\n", err.message);
	CHECK(st == SIGIL_STATUS_OK);
	CHECK_INTEQ(err.category, SIGIL_ERR_NONE);
	return env;
}

static void parse_fail(const char *doc, sigil_category cat, const char *substr)
{
	sigil_error err = SIGIL_ERROR_INIT;
	sigil__envelope *env = (sigil__envelope *)(uintptr_t)0x1; /* must stay untouched */
	CHECK(sigil__jws_parse((const uint8_t *)doc, strlen(doc), &env, &err) == SIGIL_STATUS_ERROR);
	CHECK(env == (sigil__envelope *)(uintptr_t)0x1);
	CHECK_INTEQ(err.category, cat);
	CHECK_CONTAINS(err.message, substr);
}

static void hdr_fail(const char *prot, sigil_category cat, const char *substr)
{
	char *d = make_jws(prot, PAYLOAD, NULL, NULL);
	parse_fail(d, cat, substr);
	free(d);
}

static void test_baseline(void)
{
	size_t len = 0;
	unsigned char *buf = corpus_envelope_of("adversarial", "001-jws-baseline-rsa2048", &len);
	sigil_error err = SIGIL_ERROR_INIT;
	sigil__envelope *env = NULL;
	CHECK(sigil__jws_parse(buf, len, &env, &err) == SIGIL_STATUS_OK);
	if (!env) {
		free(buf);
		return;
	}
	CHECK_INTEQ(env->format, SIGIL_ENVELOPE_JWS);
	CHECK_INTEQ(env->alg, SIGIL_SIGALG_PS256);
	CHECK_INTEQ(env->scheme, SIGIL_SCHEME_X509);
	CHECK_INTEQ(env->pss_salt, SIGIL_PSS_SALT_AUTO);
	struct tm tm = { .tm_year = 2026 - 1900, .tm_mon = 10, .tm_mday = 24, .tm_hour = 22,
		.tm_min = 14, .tm_sec = 36 };
	CHECK_INTEQ(env->signing_time, (long long)timegm(&tm));
	CHECK(!env->has_expiry);
	CHECK_INTEQ(sk_X509_num(env->chain), 3);
	CHECK_STREQ(env->signing_agent, "conformance-signer/1.0");
	CHECK(env->timestamp == NULL);
	CHECK(env->verification_plugin == NULL);
	CHECK(env->payload_len > 0 && env->payload[0] == '{');
	CHECK(env->signature_len == 256);
	/* signing input = protected "." payload exactly as in the envelope */
	json_object *o = json_tokener_parse((const char *)buf);
	char want[8192];
	snprintf(want, sizeof want, "%s.%s", corpus_str(o, "protected"), corpus_str(o, "payload"));
	CHECK_INTEQ(env->signed_input_len, strlen(want));
	CHECK(env->signed_input && memcmp(env->signed_input, want, strlen(want)) == 0);
	json_object *hdr = NULL, *arr = NULL;
	json_object_object_get_ex(o, "header", &hdr);
	json_object_object_get_ex(hdr, "x5c", &arr);
	snprintf(x5c, sizeof x5c, "%s", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN |
		JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	sigil__envelope_free(env);
	free(buf);
}

static void test_signing_time_offset(void)
{
	/* §1.6: any RFC 3339 offset, fractional seconds (adversarial 005) */
	char *d = make_jws("{\"alg\":\"PS256\",\"crit\":[\"io.cncf.notary.signingScheme\"]," CTY ","
		"\"io.cncf.notary.signingScheme\":\"notary.x509\","
		"\"io.cncf.notary.signingTime\":\"2024-01-02T08:34:05.999+05:30\"}", PAYLOAD, NULL, NULL);
	sigil__envelope *env = parse_ok(d);
	struct tm tm = { .tm_year = 124, .tm_mon = 0, .tm_mday = 2, .tm_hour = 3, .tm_min = 4, .tm_sec = 5 };
	CHECK(env && env->signing_time == (int64_t)timegm(&tm));
	sigil__envelope_free(env);
	free(d);
}

static void test_minimal_valid(void)
{
	char *d = make_jws(X509_HDR "}", PAYLOAD, "\"foo\":1", NULL);
	sigil__envelope *env = parse_ok(d);
	CHECK(env && env->signing_agent == NULL && env->signature_len == 3);
	sigil__envelope_free(env);
	free(d);
	/* an unknown non-critical extended attribute is informational */
	d = make_jws(X509_HDR ",\"io.example.info\":{\"a\":[1,2]}}", PAYLOAD, NULL, NULL);
	sigil__envelope_free(parse_ok(d));
	free(d);
}

static void test_top_level(void)
{
	char *d = make_jws(X509_HDR "}", PAYLOAD, NULL, "\"signatures\":[]");
	parse_fail(d, SIGIL_ERR_MALFORMED, "unexpected member \"signatures\"");
	free(d);
	parse_fail("[]", SIGIL_ERR_MALFORMED, "signature envelope format is invalid");
	parse_fail("{\"payload\":", SIGIL_ERR_MALFORMED, "signature envelope format is invalid");
	parse_fail("{\"payload\":\"e30\",\"signature\":\"AAAA\",\"header\":{}}", SIGIL_ERR_MALFORMED,
		"missing \"protected\"");
	parse_fail("{\"protected\":\"e30\",\"signature\":\"AAAA\",\"header\":{}}", SIGIL_ERR_MALFORMED,
		"missing \"payload\"");
	parse_fail("{\"protected\":\"e30\",\"payload\":\"e30\",\"header\":{}}", SIGIL_ERR_MALFORMED,
		"missing \"signature\"");
	parse_fail("{\"protected\":1,\"payload\":\"e30\",\"signature\":\"AAAA\",\"header\":{}}",
		SIGIL_ERR_MALFORMED, "protected: expected a string");
	parse_fail("{\"protected\":\"e30\",\"payload\":\"e30\",\"signature\":\"AAAA\"}", SIGIL_ERR_MALFORMED,
		"certificate chain is not present");
	/* nesting bomb */
	char deep[200];
	memset(deep, '[', sizeof deep);
	deep[0] = '{';
	memcpy(deep + 1, "\"a\":", 4);
	deep[sizeof deep - 1] = 0;
	parse_fail(deep, SIGIL_ERR_LIMIT, "nesting");
	/* size bound (§ bounds.h SIGIL_MAX_ENVELOPE_SIZE) */
	size_t big = SIGIL_MAX_ENVELOPE_SIZE + 1;
	uint8_t *b = calloc(1, big);
	sigil_error err = SIGIL_ERROR_INIT;
	sigil__envelope *env = NULL;
	CHECK(sigil__jws_parse(b, big, &env, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_LIMIT);
	free(b);
}

static void test_encodings(void)
{
	/* RFC 7515 §2: base64url without padding */
	char *p = b64url(X509_HDR "}", strlen(X509_HDR "}"));
	char *y = b64url(PAYLOAD, strlen(PAYLOAD));
	char doc[20000];
	snprintf(doc, sizeof doc, "{\"protected\":\"%s=\",\"payload\":\"%s\",\"signature\":\"AAAA\","
		"\"header\":{\"x5c\":%s}}", p, y, x5c);
	parse_fail(doc, SIGIL_ERR_MALFORMED, "protected header: illegal base64 data");
	snprintf(doc, sizeof doc, "{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"AA+/\","
		"\"header\":{\"x5c\":%s}}", p, y, x5c);
	parse_fail(doc, SIGIL_ERR_MALFORMED, "signature: illegal base64 data");
	snprintf(doc, sizeof doc, "{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"\","
		"\"header\":{\"x5c\":%s}}", p, y, x5c);
	parse_fail(doc, SIGIL_ERR_MALFORMED, "signature is empty");
	snprintf(doc, sizeof doc, "{\"protected\":\"%s\",\"payload\":\"\",\"signature\":\"AAAA\","
		"\"header\":{\"x5c\":%s}}", p, x5c);
	parse_fail(doc, SIGIL_ERR_MALFORMED, "payload is empty");
	free(p);
	free(y);
	/* protected header and payload must be JSON objects */
	hdr_fail("[1]", SIGIL_ERR_MALFORMED, "protected header: expected a JSON object");
	hdr_fail("not json", SIGIL_ERR_MALFORMED, "signature is invalid. Error: protected header");
	char *d = make_jws(X509_HDR "}", "not a json document", NULL, NULL);
	parse_fail(d, SIGIL_ERR_MALFORMED, "signature is invalid. Error: payload");
	free(d);
	d = make_jws(X509_HDR "}", "[1,2]", NULL, NULL);
	parse_fail(d, SIGIL_ERR_MALFORMED, "payload: expected a JSON object");
	free(d);
}

static void test_x5c(void)
{
	char saved[sizeof x5c];
	memcpy(saved, x5c, sizeof x5c);
	struct { const char *arr; sigil_category cat; const char *msg; } cases[] = {
		{ "[]", SIGIL_ERR_MALFORMED, "certificate chain is not present" },
		{ "\"MIIB\"", SIGIL_ERR_MALFORMED, "x5c: expected an array" },
		{ "[1]", SIGIL_ERR_MALFORMED, "x5c[0] is not a string" },
		{ "[\"AAAA\"]", SIGIL_ERR_MALFORMED, "malformed leaf certificate" },
		{ "[\"MIIB\"]", SIGIL_ERR_MALFORMED, "malformed leaf certificate" },
		{ "[\"AA\"]", SIGIL_ERR_MALFORMED, "x5c[0]" }, /* unpadded */
		{ "[\"AA-_\"]", SIGIL_ERR_MALFORMED, "x5c[0]" }, /* base64url alphabet */
		{ "[\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"]", SIGIL_ERR_LIMIT, "more than 10" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(x5c, sizeof x5c, "%s", cases[i].arr);
		char *d = make_jws(X509_HDR "}", PAYLOAD, NULL, NULL);
		parse_fail(d, cases[i].cat, cases[i].msg);
		free(d);
	}
	/* a bad second certificate; a leaf with trailing bytes after the DER */
	char *first_end = strchr(saved + 2, '"');
	snprintf(x5c, sizeof x5c, "%.*s,\"AAAA\"]", (int)(first_end + 1 - saved), saved);
	char *d = make_jws(X509_HDR "}", PAYLOAD, NULL, NULL);
	parse_fail(d, SIGIL_ERR_MALFORMED, "malformed certificate at index 1 in the chain");
	free(d);
	memcpy(x5c, saved, sizeof x5c);
}

static void test_unprotected_header(void)
{
	struct { const char *extra; sigil_category cat; const char *msg; } cases[] = {
		/* adversarial 057; RFC 7515 §7.2.1 disjoint headers */
		{ "\"alg\":\"PS256\"", SIGIL_ERR_MALFORMED, "\"alg\" header must not appear in both" },
		{ "\"kid\":\"x\"", SIGIL_ERR_MALFORMED, "\"kid\" header is not allowed in the unprotected header" },
		{ "\"io.cncf.notary.expiry\":\"2030-01-01T00:00:00Z\"", SIGIL_ERR_MALFORMED,
			"\"io.cncf.notary.expiry\" header is not allowed in the unprotected header" },
		{ "\"io.cncf.notary.timestampSignature\":\"MIIB-_\"", SIGIL_ERR_MALFORMED,
			"\"io.cncf.notary.timestampSignature\"" },
		{ "\"io.cncf.notary.timestampSignature\":5", SIGIL_ERR_MALFORMED, "expected a string" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *d = make_jws(X509_HDR "}", PAYLOAD, cases[i].extra, NULL);
		parse_fail(d, cases[i].cat, cases[i].msg);
		free(d);
	}
	char *d = make_jws(X509_HDR "}", PAYLOAD, "\"io.cncf.notary.timestampSignature\":\"MAMCAQE=\","
		"\"io.cncf.notary.signingAgent\":\"notation/1.0.0 x/0.1\"", NULL);
	sigil__envelope *env = parse_ok(d);
	CHECK(env && env->timestamp_len == 5 && memcmp(env->timestamp, "\x30\x03\x02\x01\x01", 5) == 0);
	CHECK(env && env->signing_agent && strcmp(env->signing_agent, "notation/1.0.0 x/0.1") == 0);
	sigil__envelope_free(env);
	free(d);
	/* §1.4: the signing agent is opaque; the verifier must neither
	 * validate it nor fail on it, whatever its JSON type or content */
	static const char *const agents[] = {
		"\"io.cncf.notary.signingAgent\":[]",
		"\"io.cncf.notary.signingAgent\":7",
		"\"io.cncf.notary.signingAgent\":null",
		"\"io.cncf.notary.signingAgent\":\"notation/1.0.0\\u0000x\"",
	};
	for (size_t i = 0; i < sizeof(agents) / sizeof(agents[0]); i++) {
		d = make_jws(X509_HDR "}", PAYLOAD, agents[i], NULL);
		env = parse_ok(d);
		CHECK(env && env->signing_agent == NULL);
		sigil__envelope_free(env);
		free(d);
	}
}

#define SCHEME_X509 "\"io.cncf.notary.signingScheme\":\"notary.x509\""
#define SCHEME_SA "\"io.cncf.notary.signingScheme\":\"notary.x509.signingAuthority\""
#define ST "\"io.cncf.notary.signingTime\":\"2024-01-02T03:04:05Z\""
#define AST "\"io.cncf.notary.authenticSigningTime\":\"2024-01-02T03:04:05Z\""
#define EXP "\"io.cncf.notary.expiry\":\"2024-01-02T03:04:05Z\""
#define C_SCHEME "\"io.cncf.notary.signingScheme\""

static void test_protected_attrs(void)
{
	struct { const char *hdr; sigil_category cat; const char *msg; } cases[] = {
		{ "{\"crit\":[" C_SCHEME "]," CTY "," SCHEME_X509 "," ST "}", SIGIL_ERR_MALFORMED, "missing \"alg\" header" },
		{ "{\"alg\":\"none\",\"crit\":[" C_SCHEME "]," CTY "," SCHEME_X509 "," ST "}", SIGIL_ERR_UNSUPPORTED, "signature algorithm \"none\" is not supported" },
		{ "{\"alg\":\"HS256\",\"crit\":[" C_SCHEME "]," CTY "," SCHEME_X509 "," ST "}", SIGIL_ERR_UNSUPPORTED, "signature algorithm \"HS256\" is not supported" },
		{ "{\"alg\":256,\"crit\":[" C_SCHEME "]," CTY "," SCHEME_X509 "," ST "}", SIGIL_ERR_MALFORMED, "alg: expected a string" },
		{ "{\"alg\":\"PS256\",\"crit\":[" C_SCHEME "]," SCHEME_X509 "," ST "}", SIGIL_ERR_UNSUPPORTED, "payload content type \"\" not supported" },
		{ "{\"alg\":\"PS256\",\"crit\":[" C_SCHEME "],\"cty\":\"application/json\"," SCHEME_X509 "," ST "}", SIGIL_ERR_UNSUPPORTED, "payload content type \"application/json\" not supported" },
		/* signing scheme */
		{ "{\"alg\":\"PS256\",\"crit\":[" C_SCHEME "]," CTY "," ST "}", SIGIL_ERR_MALFORMED, "missing \"io.cncf.notary.signingScheme\" header" },
		{ "{\"alg\":\"PS256\",\"crit\":[" C_SCHEME "]," CTY ",\"io.cncf.notary.signingScheme\":\"notary.x509.v2\"," ST "}", SIGIL_ERR_UNSUPPORTED, "unsupported SigningScheme" },
		/* times per scheme (§1.3, §8 row 21) */
		{ "{\"alg\":\"PS256\",\"crit\":[" C_SCHEME "]," CTY "," SCHEME_X509 "}", SIGIL_ERR_MALFORMED, "signing-time not present" },
		{ "{\"alg\":\"PS256\",\"crit\":[" C_SCHEME "]," CTY "," SCHEME_X509 ",\"io.cncf.notary.signingTime\":\"0001-01-01T00:00:00Z\"}", SIGIL_ERR_MALFORMED, "signing-time not present" },
		{ "{\"alg\":\"PS256\",\"crit\":[" C_SCHEME "]," CTY "," SCHEME_X509 ",\"io.cncf.notary.signingTime\":\"2024-01-02 03:04:05\"}", SIGIL_ERR_MALFORMED, "\"io.cncf.notary.signingTime\" header" },
		{ "{\"alg\":\"PS256\",\"crit\":[" C_SCHEME "]," CTY "," SCHEME_X509 ",\"io.cncf.notary.signingTime\":1704164645}", SIGIL_ERR_MALFORMED, "expected a string" },
		{ "{\"alg\":\"PS256\",\"crit\":[" C_SCHEME "]," CTY "," SCHEME_X509 "," ST "," AST "}", SIGIL_ERR_MALFORMED, "\"io.cncf.notary.authenticSigningTime\" header must not be present for notary.x509 signing scheme" },
		{ "{\"alg\":\"PS256\",\"crit\":[" C_SCHEME ",\"io.cncf.notary.authenticSigningTime\"]," CTY "," SCHEME_SA "," ST "," AST "}", SIGIL_ERR_MALFORMED, "\"io.cncf.notary.signingTime\" header must not be present for notary.x509.signingAuthority signing scheme" },
		{ "{\"alg\":\"PS256\",\"crit\":[" C_SCHEME "]," CTY "," SCHEME_SA "}", SIGIL_ERR_MALFORMED, "\"io.cncf.notary.authenticSigningTime\" header must be present for notary.x509.signingAuthority signing scheme" },
		{ "{\"alg\":\"PS256\",\"crit\":[" C_SCHEME "]," CTY "," SCHEME_SA "," AST "}", SIGIL_ERR_MALFORMED, "these required headers are not marked as critical: [io.cncf.notary.authenticSigningTime]" },
		{ "{\"alg\":\"PS256\",\"crit\":[" C_SCHEME "]," CTY "," SCHEME_X509 "," ST "," EXP "}", SIGIL_ERR_MALFORMED, "these required headers are not marked as critical: [io.cncf.notary.expiry]" },
		{ "{\"alg\":\"PS256\",\"crit\":[\"io.cncf.notary.expiry\"]," CTY "," SCHEME_X509 "," ST "," EXP ",\"io.cncf.notary.verificationPlugin\":\"p\"}", SIGIL_ERR_MALFORMED, "these required headers are not marked as critical: [io.cncf.notary.signingScheme io.cncf.notary.verificationPlugin]" },
		{ "{\"alg\":\"PS256\",\"crit\":[" C_SCHEME "]," CTY "," SCHEME_X509 "," ST ",\"io.cncf.notary.verificationPluginMinVersion\":\"1.0.0\"}", SIGIL_ERR_MALFORMED, "[io.cncf.notary.verificationPluginMinVersion]" },
		{ "{\"alg\":\"PS256\",\"crit\":[" C_SCHEME ",\"io.cncf.notary.verificationPlugin\"]," CTY "," SCHEME_X509 "," ST ",\"io.cncf.notary.verificationPlugin\":7}", SIGIL_ERR_MALFORMED, "expected a string" },
		/* crit (§1.6 step 6) */
		{ "{\"alg\":\"PS256\"," CTY "," SCHEME_X509 "," ST "}", SIGIL_ERR_MALFORMED, "missing \"crit\" header" },
		{ "{\"alg\":\"PS256\",\"crit\":[]," CTY "," SCHEME_X509 "," ST "}", SIGIL_ERR_MALFORMED, "missing \"crit\" header" },
		{ "{\"alg\":\"PS256\",\"crit\":" C_SCHEME "," CTY "," SCHEME_X509 "," ST "}", SIGIL_ERR_MALFORMED, "crit: expected an array" },
		{ "{\"alg\":\"PS256\",\"crit\":[" C_SCHEME ",1]," CTY "," SCHEME_X509 "," ST "}", SIGIL_ERR_MALFORMED, "\"crit\" header: entry 1 is not a header name" },
		{ "{\"alg\":\"PS256\",\"crit\":[\"io.cncf.notary.signingScheme\\u0000x\"]," CTY "," SCHEME_X509 "," ST "}", SIGIL_ERR_MALFORMED, "not a header name" },
		{ "{\"alg\":\"PS256\",\"crit\":[" C_SCHEME "," C_SCHEME "]," CTY "," SCHEME_X509 "," ST "}", SIGIL_ERR_MALFORMED, "\"io.cncf.notary.signingScheme\" header is marked critical more than once" },
		{ "{\"alg\":\"PS256\",\"crit\":[" C_SCHEME ",\"io.example.absent\"]," CTY "," SCHEME_X509 "," ST "}", SIGIL_ERR_MALFORMED, "\"io.example.absent\" header is marked critical but not present" },
		{ "{\"alg\":\"PS256\",\"crit\":[" C_SCHEME ",\"io.example.x\"]," CTY "," SCHEME_X509 "," ST ",\"io.example.x\":true}", SIGIL_ERR_UNSUPPORTED, "\"io.example.x\" header is marked critical but is not supported" },
		{ "{\"alg\":\"PS256\",\"crit\":[" C_SCHEME ",\"alg\"]," CTY "," SCHEME_X509 "," ST "}", SIGIL_ERR_MALFORMED, "\"alg\" header must not be marked critical" },
		{ "{\"alg\":\"PS256\",\"crit\":[" C_SCHEME ",\"cty\"]," CTY "," SCHEME_X509 "," ST "}", SIGIL_ERR_MALFORMED, "\"cty\" header must not be marked critical" },
		{ "{\"alg\":\"PS256\",\"crit\":[" C_SCHEME ",\"io.cncf.notary.signingTime\"]," CTY "," SCHEME_X509 "," ST "}", SIGIL_ERR_MALFORMED, "\"io.cncf.notary.signingTime\" header must not be marked critical" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		hdr_fail(cases[i].hdr, cases[i].cat, cases[i].msg);
}

static void test_valid_variants(void)
{
	/* SA with a critical authentic signing time, expiry and a plugin */
	char *d = make_jws("{\"alg\":\"ES384\",\"crit\":[" C_SCHEME ",\"io.cncf.notary.authenticSigningTime\","
		"\"io.cncf.notary.expiry\",\"io.cncf.notary.verificationPlugin\","
		"\"io.cncf.notary.verificationPluginMinVersion\"]," CTY "," SCHEME_SA ","
		"\"io.cncf.notary.authenticSigningTime\":\"2024-01-02T03:04:05Z\","
		"\"io.cncf.notary.expiry\":\"2024-01-02T03:04:05Z\","
		"\"io.cncf.notary.verificationPlugin\":\"com.example.plugin\","
		"\"io.cncf.notary.verificationPluginMinVersion\":\"1.2.3\"}", PAYLOAD, NULL, NULL);
	sigil__envelope *env = parse_ok(d);
	struct tm tm = { .tm_year = 124, .tm_mon = 0, .tm_mday = 2, .tm_hour = 3, .tm_min = 4, .tm_sec = 5 };
	int64_t t = (int64_t)timegm(&tm);
	if (env) {
		CHECK_INTEQ(env->alg, SIGIL_SIGALG_ES384);
		CHECK_INTEQ(env->scheme, SIGIL_SCHEME_SIGNING_AUTHORITY);
		CHECK_INTEQ(env->signing_time, t);
		/* expiry == signing time is the expiry check's business */
		CHECK(env->has_expiry && env->expiry == t);
		CHECK_STREQ(env->verification_plugin, "com.example.plugin");
		CHECK_STREQ(env->verification_plugin_min_version, "1.2.3");
	}
	sigil__envelope_free(env);
	free(d);
	/* an explicit zero expiry counts as absent (§1.6) */
	d = make_jws("{\"alg\":\"PS512\",\"crit\":[" C_SCHEME "]," CTY "," SCHEME_X509 "," ST ","
		"\"io.cncf.notary.expiry\":\"0001-01-01T00:00:00Z\"}", PAYLOAD, NULL, NULL);
	env = parse_ok(d);
	CHECK(env && !env->has_expiry && env->alg == SIGIL_SIGALG_PS512);
	sigil__envelope_free(env);
	free(d);
}

int main(void)
{
	RUN(test_baseline);
	RUN(test_signing_time_offset);
	RUN(test_minimal_valid);
	RUN(test_top_level);
	RUN(test_encodings);
	RUN(test_x5c);
	RUN(test_unprotected_header);
	RUN(test_protected_attrs);
	RUN(test_valid_variants);
	return check_summary();
}
