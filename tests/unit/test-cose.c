/* test-cose.c - the COSE_Sign1 envelope (notary-verification.md §1.3,
 * §1.7, RFC 9052) and its CBOR pre-validation bounds. Synthetic messages
 * reuse the baseline case's certificates; sigil__cose_parse does not verify
 * the signature (the corpus walk in test-envelope.c does). */
#include "envelope.h"
#include "envelope-corpus.h"
#include "bounds.h"

typedef struct buf {
	uint8_t *b;
	size_t n, cap;
} buf;

static void put(buf *b, const void *p, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 64;
		b->b = realloc(b->b, b->cap);
		if (!b->b)
			exit(2);
	}
	if (n)
		memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void byte(buf *b, uint8_t c) { put(b, &c, 1); }

static void head(buf *b, int major, uint64_t v)
{
	uint8_t m = (uint8_t)(major << 5);
	if (v < 24) {
		byte(b, m | (uint8_t)v);
	} else if (v <= 0xff) {
		byte(b, m | 24);
		byte(b, (uint8_t)v);
	} else if (v <= 0xffff) {
		byte(b, m | 25);
		byte(b, (uint8_t)(v >> 8));
		byte(b, (uint8_t)v);
	} else if (v <= 0xffffffffu) {
		byte(b, m | 26);
		for (int s = 24; s >= 0; s -= 8)
			byte(b, (uint8_t)(v >> s));
	} else {
		byte(b, m | 27);
		for (int s = 56; s >= 0; s -= 8)
			byte(b, (uint8_t)(v >> s));
	}
}

static void uint_(buf *b, uint64_t v) { head(b, 0, v); }
static void int_(buf *b, int64_t v) { if (v >= 0) head(b, 0, (uint64_t)v); else head(b, 1, (uint64_t)(-1 - v)); }
static void tstr(buf *b, const char *s) { head(b, 3, strlen(s)); put(b, s, strlen(s)); }
static void bstr(buf *b, const void *p, size_t n) { head(b, 2, n); put(b, p, n); }
static void append(buf *b, const buf *o) { put(b, o->b, o->n); }

#define CTY "application/vnd.cncf.notary.payload.v1+json"
#define H_SCHEME "io.cncf.notary.signingScheme"
#define H_ST "io.cncf.notary.signingTime"
#define H_AST "io.cncf.notary.authenticSigningTime"
#define H_EXP "io.cncf.notary.expiry"
#define T0 1704164645

static buf certs; /* x5chain array (encoded) from adversarial 002 */
static size_t n_certs;

enum { OMIT_ALG = 1, OMIT_CRIT = 2, OMIT_CTY = 4, OMIT_SCHEME = 8, OMIT_ST = 16 };

/* the standard protected pairs, minus omitted ones; returns the count */
static size_t std_pairs(buf *p, int omit)
{
	size_t n = 0;
	if (!(omit & OMIT_ALG)) { uint_(p, 1); int_(p, -37); n++; }
	if (!(omit & OMIT_CRIT)) { uint_(p, 2); head(p, 4, 1); tstr(p, H_SCHEME); n++; }
	if (!(omit & OMIT_CTY)) { uint_(p, 3); tstr(p, CTY); n++; }
	if (!(omit & OMIT_SCHEME)) { tstr(p, H_SCHEME); tstr(p, "notary.x509"); n++; }
	if (!(omit & OMIT_ST)) { tstr(p, H_ST); head(p, 6, 1); uint_(p, T0); n++; }
	return n;
}

/* D2 84 [bstr(map(prot)), unprot, payload, signature]; unprot NULL means
 * {33: certs}. */
static buf make_msg(const buf *prot_pairs, size_t n_prot, const buf *unprot)
{
	buf pm = { 0 }, m = { 0 };
	head(&pm, 5, n_prot);
	append(&pm, prot_pairs);
	byte(&m, 0xd2);
	byte(&m, 0x84);
	bstr(&m, pm.b, pm.n);
	if (unprot) {
		append(&m, unprot);
	} else {
		head(&m, 5, 1);
		uint_(&m, 33);
		append(&m, &certs);
	}
	const char *payload = "{\"targetArtifact\":{}}";
	bstr(&m, payload, strlen(payload));
	bstr(&m, "\x01\x02\x03", 3);
	free(pm.b);
	return m;
}

static sigil__envelope *parse_ok(const buf *m)
{
	sigil_error err = SIGIL_ERROR_INIT;
	sigil__envelope *env = NULL;
	sigil_status st = sigil__cose_parse(m->b, m->n, &env, &err);
	if (st != SIGIL_STATUS_OK)
		fprintf(stderr, "    unexpected error: %s\n", err.message);
	CHECK(st == SIGIL_STATUS_OK);
	CHECK_INTEQ(err.category, SIGIL_ERR_NONE);
	return env;
}

static void parse_fail(const buf *m, sigil_category cat, const char *substr)
{
	sigil_error err = SIGIL_ERROR_INIT;
	sigil__envelope *env = (sigil__envelope *)(uintptr_t)0x1;
	CHECK(sigil__cose_parse(m->b, m->n, &env, &err) == SIGIL_STATUS_ERROR);
	CHECK(env == (sigil__envelope *)(uintptr_t)0x1);
	CHECK_INTEQ(err.category, cat);
	CHECK_CONTAINS(err.message, substr);
}

/* protected = standard pairs minus `omit` plus extra pairs */
static void prot_fail(int omit, const buf *extra, size_t n_extra, sigil_category cat, const char *substr)
{
	buf p = { 0 };
	size_t n = std_pairs(&p, omit);
	if (extra)
		append(&p, extra);
	buf m = make_msg(&p, n + n_extra, NULL);
	parse_fail(&m, cat, substr);
	free(p.b);
	free(m.b);
}

static void test_baseline(void)
{
	const char *cases[] = { "002-cose-baseline-rsa2048", "004-cose-baseline-ec-p256" };
	sigil__sigalg algs[] = { SIGIL_SIGALG_PS256, SIGIL_SIGALG_ES256 };
	for (int i = 0; i < 2; i++) {
		size_t len = 0;
		unsigned char *b = corpus_envelope_of("adversarial", cases[i], &len);
		sigil_error err = SIGIL_ERROR_INIT;
		sigil__envelope *env = NULL;
		CHECK(sigil__cose_parse(b, len, &env, &err) == SIGIL_STATUS_OK);
		if (env) {
			CHECK_INTEQ(env->format, SIGIL_ENVELOPE_COSE);
			CHECK_INTEQ(env->alg, algs[i]);
			CHECK_INTEQ(env->scheme, SIGIL_SCHEME_X509);
			CHECK_INTEQ(env->pss_salt, SIGIL_PSS_SALT_HASH_LEN);
			CHECK(env->signing_time > 1700000000);
			CHECK(sk_X509_num(env->chain) >= 1);
			CHECK(env->payload_len > 0 && env->payload[0] == '{');
			/* RFC 9052 §4.4 Sig_structure header */
			CHECK(env->signed_input_len > 12 &&
				memcmp(env->signed_input, "\x84\x6aSignature1", 12) == 0);
			if (i == 0 && env->chain) {
				for (int c = 0; c < sk_X509_num(env->chain); c++) {
					unsigned char *der = NULL;
					int dl = i2d_X509(sk_X509_value(env->chain, c), &der);
					bstr(&certs, der, (size_t)dl);
					OPENSSL_free(der);
					n_certs++;
				}
			}
		}
		sigil__envelope_free(env);
		free(b);
	}
	/* re-wrap the certificate bstrs as an array */
	buf arr = { 0 };
	head(&arr, 4, n_certs);
	append(&arr, &certs);
	free(certs.b);
	certs = arr;
	CHECK_INTEQ(n_certs, 3);
}

static void test_valid_synthetic(void)
{
	buf p = { 0 };
	size_t n = std_pairs(&p, 0);
	buf m = make_msg(&p, n, NULL);
	sigil__envelope *env = parse_ok(&m);
	if (env) {
		CHECK_INTEQ(env->signing_time, T0);
		CHECK_INTEQ(sk_X509_num(env->chain), 3);
		CHECK(env->timestamp == NULL && env->signing_agent == NULL);
		/* Sig_structure = [ "Signature1", bstr(protected as received), h'', payload ] */
		buf want = { 0 };
		head(&want, 4, 4);
		tstr(&want, "Signature1");
		size_t prot_off = 2 + (m.b[2] == 0x58 ? 2 : m.b[2] == 0x59 ? 3 : 1);
		size_t prot_len = m.b[2] == 0x58 ? m.b[3] : m.b[2] == 0x59 ? (size_t)(m.b[3] << 8 | m.b[4]) : 0;
		bstr(&want, m.b + prot_off, prot_len);
		bstr(&want, "", 0);
		bstr(&want, env->payload, env->payload_len);
		CHECK_INTEQ(env->signed_input_len, want.n);
		CHECK(memcmp(env->signed_input, want.b, want.n) == 0);
		free(want.b);
	}
	sigil__envelope_free(env);
	free(m.b);

	/* float time in tag 1, SA scheme, expiry, timestamp and agent */
	buf q = { 0 };
	uint_(&q, 1); int_(&q, -7);
	uint_(&q, 2); head(&q, 4, 3); tstr(&q, H_SCHEME); tstr(&q, H_AST); tstr(&q, H_EXP);
	uint_(&q, 3); tstr(&q, CTY);
	tstr(&q, H_SCHEME); tstr(&q, "notary.x509.signingAuthority");
	tstr(&q, H_AST); head(&q, 6, 1); byte(&q, 0xfb); /* 1704164645.75 */
	{ double d = 1704164645.75; uint64_t u; memcpy(&u, &d, 8); for (int s = 56; s >= 0; s -= 8) byte(&q, (uint8_t)(u >> s)); }
	tstr(&q, H_EXP); head(&q, 6, 1); uint_(&q, T0 - 10);
	tstr(&q, "io.example.info"); head(&q, 5, 1); tstr(&q, "k"); head(&q, 6, 32); tstr(&q, "x");
	buf u = { 0 };
	head(&u, 5, 4);
	uint_(&u, 33); append(&u, &certs);
	tstr(&u, "io.cncf.notary.timestampSignature"); bstr(&u, "\x30\x00", 2);
	tstr(&u, "io.cncf.notary.signingAgent"); tstr(&u, "notation/1.3.0");
	int_(&u, 99); tstr(&u, "unknown unprotected label");
	m = make_msg(&q, 7, &u);
	env = parse_ok(&m);
	if (env) {
		CHECK_INTEQ(env->alg, SIGIL_SIGALG_ES256);
		CHECK_INTEQ(env->scheme, SIGIL_SCHEME_SIGNING_AUTHORITY);
		CHECK_INTEQ(env->signing_time, T0);
		CHECK(env->has_expiry && env->expiry == T0 - 10);
		CHECK(env->timestamp_len == 2 && env->timestamp[0] == 0x30);
		CHECK_STREQ(env->signing_agent, "notation/1.3.0");
	}
	sigil__envelope_free(env);
	free(m.b);

	/* [IMPL] a non-bstr timestamp / non-tstr agent is ignored */
	u.n = 0;
	head(&u, 5, 3);
	uint_(&u, 33); append(&u, &certs);
	tstr(&u, "io.cncf.notary.timestampSignature"); tstr(&u, "MAA=");
	tstr(&u, "io.cncf.notary.signingAgent"); uint_(&u, 7);
	p.n = 0;
	n = std_pairs(&p, 0);
	m = make_msg(&p, n, &u);
	env = parse_ok(&m);
	CHECK(env && env->timestamp == NULL && env->signing_agent == NULL);
	sigil__envelope_free(env);
	free(m.b);

	/* §8 row 10: x5chain in the protected header (adversarial 064) */
	p.n = 0;
	n = std_pairs(&p, 0);
	uint_(&p, 33); append(&p, &certs);
	u.n = 0;
	head(&u, 5, 0);
	m = make_msg(&p, n + 1, &u);
	env = parse_ok(&m);
	CHECK(env && sk_X509_num(env->chain) == 3);
	sigil__envelope_free(env);
	free(m.b);

	/* indefinite-length unprotected map (adversarial 066, either verdict) */
	u.n = 0;
	byte(&u, 0xbf); uint_(&u, 33); append(&u, &certs); byte(&u, 0xff);
	p.n = 0;
	n = std_pairs(&p, 0);
	m = make_msg(&p, n, &u);
	env = parse_ok(&m);
	sigil__envelope_free(env);
	free(m.b);
	free(p.b);
	free(q.b);
	free(u.b);
}

static void test_structure(void)
{
	buf p = { 0 };
	size_t n = std_pairs(&p, 0);
	buf good = make_msg(&p, n, NULL);
	buf m = { 0 };

	/* untagged (adversarial 062), tag 18 with a two-byte head, 3 elements */
	put(&m, good.b + 1, good.n - 1);
	parse_fail(&m, SIGIL_ERR_MALFORMED, "invalid COSE_Sign1_Tagged object");
	m.n = 0; byte(&m, 0xd8); byte(&m, 0x12); put(&m, good.b + 1, good.n - 1);
	parse_fail(&m, SIGIL_ERR_MALFORMED, "invalid COSE_Sign1_Tagged object");
	m.n = 0; put(&m, good.b, good.n); m.b[1] = 0x83;
	parse_fail(&m, SIGIL_ERR_MALFORMED, "invalid COSE_Sign1_Tagged object");
	parse_fail(&(buf){ (uint8_t *)"\xd2", 1, 1 }, SIGIL_ERR_MALFORMED, "invalid COSE_Sign1_Tagged object");
	/* trailing bytes (adversarial 067), truncation */
	m.n = 0; put(&m, good.b, good.n); byte(&m, 0); byte(&m, 0);
	parse_fail(&m, SIGIL_ERR_MALFORMED, "2 bytes of extraneous data");
	m.n = 0; put(&m, good.b, good.n - 1);
	parse_fail(&m, SIGIL_ERR_MALFORMED, "unexpected EOF");

	/* element types */
	const char *payload = "{}";
	struct { int which; sigil_category cat; const char *msg; } cases[] = {
		{ 0, SIGIL_ERR_MALFORMED, "protected header must be a bstr" },
		{ 1, SIGIL_ERR_MALFORMED, "unprotected header must be a map" },
		{ 2, SIGIL_ERR_MALFORMED, "payload not present" },       /* detached (nil) */
		{ 3, SIGIL_ERR_MALFORMED, "payload not present" },       /* empty */
		{ 4, SIGIL_ERR_MALFORMED, "signature is empty" },
		{ 5, SIGIL_ERR_MALFORMED, "signature must be a bstr" },
		{ 6, SIGIL_ERR_MALFORMED, "protected header must be a map" },
		{ 7, SIGIL_ERR_MALFORMED, "protected header: cbor: 1 bytes of extraneous data" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf pm = { 0 };
		head(&pm, 5, n);
		append(&pm, &p);
		if (cases[i].which == 7)
			byte(&pm, 0);
		m.n = 0;
		byte(&m, 0xd2); byte(&m, 0x84);
		if (cases[i].which == 0) tstr(&m, "x");
		else if (cases[i].which == 6) bstr(&m, "\x80", 1);
		else bstr(&m, pm.b, pm.n);
		if (cases[i].which == 1) head(&m, 4, 0);
		else { head(&m, 5, 1); uint_(&m, 33); append(&m, &certs); }
		if (cases[i].which == 2) byte(&m, 0xf6);
		else if (cases[i].which == 3) bstr(&m, "", 0);
		else bstr(&m, payload, 2);
		if (cases[i].which == 4) bstr(&m, "", 0);
		else if (cases[i].which == 5) tstr(&m, "sig");
		else bstr(&m, "\x01", 1);
		parse_fail(&m, cases[i].cat, cases[i].msg);
		free(pm.b);
	}
	/* an empty protected bstr is an empty map: no alg */
	m.n = 0;
	byte(&m, 0xd2); byte(&m, 0x84); bstr(&m, "", 0);
	head(&m, 5, 1); uint_(&m, 33); append(&m, &certs);
	bstr(&m, payload, 2); bstr(&m, "\x01", 1);
	parse_fail(&m, SIGIL_ERR_MALFORMED, "missing \"alg\" header");
	free(m.b);
	free(good.b);
	free(p.b);
}

/* unprotected header = {33: certs, 99: <value>} */
static void unprot_value_fail(const buf *value, sigil_category cat, const char *substr)
{
	buf p = { 0 }, u = { 0 };
	size_t n = std_pairs(&p, 0);
	head(&u, 5, 2);
	uint_(&u, 33); append(&u, &certs);
	uint_(&u, 99); append(&u, value);
	buf m = make_msg(&p, n, &u);
	parse_fail(&m, cat, substr);
	free(m.b);
	free(p.b);
	free(u.b);
}

static void test_cbor_bounds(void)
{
	buf v = { 0 };
	/* nesting deeper than SIGIL_MAX_CBOR_DEPTH */
	for (int i = 0; i < SIGIL_MAX_CBOR_DEPTH + 4; i++)
		head(&v, 4, 1);
	uint_(&v, 0);
	unprot_value_fail(&v, SIGIL_ERR_LIMIT, "nesting deeper than");
	/* a deep tag chain as well */
	v.n = 0;
	for (int i = 0; i < 100; i++)
		head(&v, 6, 100);
	uint_(&v, 0);
	unprot_value_fail(&v, SIGIL_ERR_LIMIT, "nesting deeper than");
	/* announced sizes beyond the bounds: never allocated */
	v.n = 0;
	head(&v, 4, UINT32_MAX);
	unprot_value_fail(&v, SIGIL_ERR_LIMIT, "more than 256 items");
	v.n = 0;
	head(&v, 5, (uint64_t)1 << 40);
	unprot_value_fail(&v, SIGIL_ERR_LIMIT, "more than 256 items");
	v.n = 0;
	head(&v, 2, (uint64_t)1 << 60);
	unprot_value_fail(&v, SIGIL_ERR_MALFORMED, "unexpected EOF");
	v.n = 0;
	byte(&v, 0x9f);
	for (int i = 0; i < SIGIL_MAX_CBOR_ITEMS + 1; i++)
		uint_(&v, 1);
	byte(&v, 0xff);
	unprot_value_fail(&v, SIGIL_ERR_LIMIT, "more than 256 items");
	/* many items overall */
	v.n = 0;
	head(&v, 4, 255);
	for (int i = 0; i < 255; i++) {
		head(&v, 4, 255);
		for (int j = 0; j < 255; j++)
			uint_(&v, 0);
	}
	unprot_value_fail(&v, SIGIL_ERR_LIMIT, "data items");
	/* well-formedness (RFC 8949 §3) */
	v.n = 0; byte(&v, 0x5f); bstr(&v, "a", 1); byte(&v, 0xff);
	unprot_value_fail(&v, SIGIL_ERR_MALFORMED, "indefinite-length strings");
	v.n = 0; byte(&v, 0x1c);
	unprot_value_fail(&v, SIGIL_ERR_MALFORMED, "invalid additional information");
	v.n = 0; byte(&v, 0xf8); byte(&v, 0x10);
	unprot_value_fail(&v, SIGIL_ERR_MALFORMED, "invalid data item");
	v.n = 0; byte(&v, 0x81); byte(&v, 0xff);
	unprot_value_fail(&v, SIGIL_ERR_MALFORMED, "unexpected \"break\"");
	v.n = 0; byte(&v, 0xbf); uint_(&v, 1); byte(&v, 0xff);
	unprot_value_fail(&v, SIGIL_ERR_MALFORMED, "map key without value");
	/* duplicate keys, nested and in the header itself */
	v.n = 0; head(&v, 5, 2); tstr(&v, "a"); uint_(&v, 1); tstr(&v, "a"); uint_(&v, 2);
	unprot_value_fail(&v, SIGIL_ERR_MALFORMED, "duplicate map key");
	buf u = { 0 }, p = { 0 };
	size_t n = std_pairs(&p, 0);
	head(&u, 5, 2);
	uint_(&u, 33); append(&u, &certs);
	byte(&u, 0x18); byte(&u, 33); append(&u, &certs); /* 33 again, wider head */
	buf m = make_msg(&p, n, &u);
	parse_fail(&m, SIGIL_ERR_MALFORMED, "duplicate map key");
	free(m.b);
	/* a float header label */
	u.n = 0;
	head(&u, 5, 2);
	uint_(&u, 33); append(&u, &certs);
	byte(&u, 0xf9); byte(&u, 0x3c); byte(&u, 0x00); uint_(&u, 1);
	m = make_msg(&p, n, &u);
	parse_fail(&m, SIGIL_ERR_MALFORMED, "header label must be an int or a tstr");
	free(m.b);
	free(u.b);
	free(p.b);
	free(v.b);
}

static void test_x5chain(void)
{
	buf p = { 0 }, u = { 0 };
	size_t n = std_pairs(&p, 0);
	struct { int which; sigil_category cat; const char *msg; } cases[] = {
		{ 0, SIGIL_ERR_MALFORMED, "certificate chain is not present" }, /* absent */
		{ 1, SIGIL_ERR_MALFORMED, "certificate chain is not present" }, /* single bstr (063) */
		{ 2, SIGIL_ERR_MALFORMED, "certificate chain is not present" }, /* empty array */
		{ 3, SIGIL_ERR_MALFORMED, "malformed leaf certificate" },       /* [1] */
		{ 4, SIGIL_ERR_MALFORMED, "malformed leaf certificate" },       /* [h'00'] */
		{ 5, SIGIL_ERR_LIMIT, "more than 10 certificates" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		u.n = 0;
		head(&u, 5, cases[i].which == 0 ? 0 : 1);
		if (cases[i].which)
			uint_(&u, 33);
		if (cases[i].which == 1) bstr(&u, "\x30\x00", 2);
		if (cases[i].which == 2) head(&u, 4, 0);
		if (cases[i].which == 3) { head(&u, 4, 1); uint_(&u, 1); }
		if (cases[i].which == 4) { head(&u, 4, 1); bstr(&u, "", 1); }
		if (cases[i].which == 5) { head(&u, 4, 11); for (int k = 0; k < 11; k++) bstr(&u, "", 0); }
		buf m = make_msg(&p, n, &u);
		parse_fail(&m, cases[i].cat, cases[i].msg);
		free(m.b);
	}
	/* the same label in both buckets (RFC 9052 §3) */
	buf q = { 0 };
	n = std_pairs(&q, 0);
	uint_(&q, 33); append(&q, &certs);
	buf m = make_msg(&q, n + 1, NULL);
	parse_fail(&m, SIGIL_ERR_MALFORMED, "both the protected and unprotected header");
	free(m.b);
	free(q.b);
	free(p.b);
	free(u.b);
}

static void test_protected_attrs(void)
{
	buf x = { 0 };
	prot_fail(OMIT_ALG, NULL, 0, SIGIL_ERR_MALFORMED, "missing \"alg\" header");
	uint_(&x, 1); tstr(&x, "PS256");
	prot_fail(OMIT_ALG, &x, 1, SIGIL_ERR_UNSUPPORTED, "signature algorithm \"PS256\" is not supported");
	x.n = 0; uint_(&x, 1); int_(&x, -257);
	prot_fail(OMIT_ALG, &x, 1, SIGIL_ERR_UNSUPPORTED, "signature algorithm \"-257\" is not supported");
	x.n = 0; uint_(&x, 1); bstr(&x, "x", 1);
	prot_fail(OMIT_ALG, &x, 1, SIGIL_ERR_MALFORMED, "\"alg\" header must be an int");
	/* content type */
	prot_fail(OMIT_CTY, NULL, 0, SIGIL_ERR_UNSUPPORTED, "payload content type \"\" not supported");
	x.n = 0; uint_(&x, 3); uint_(&x, 50);
	prot_fail(OMIT_CTY, &x, 1, SIGIL_ERR_UNSUPPORTED, "payload content type \"50\" not supported");
	x.n = 0; uint_(&x, 3); tstr(&x, "application/json");
	prot_fail(OMIT_CTY, &x, 1, SIGIL_ERR_UNSUPPORTED, "payload content type \"application/json\" not supported");
	/* countersignature labels */
	x.n = 0; uint_(&x, 7); bstr(&x, "", 0);
	prot_fail(0, &x, 1, SIGIL_ERR_MALFORMED, "must not contain label 7");
	/* scheme */
	prot_fail(OMIT_SCHEME, NULL, 0, SIGIL_ERR_MALFORMED, "missing \"io.cncf.notary.signingScheme\" header");
	x.n = 0; tstr(&x, H_SCHEME); tstr(&x, "notary.x509.v2");
	prot_fail(OMIT_SCHEME, &x, 1, SIGIL_ERR_UNSUPPORTED, "unsupported SigningScheme");
	x.n = 0; tstr(&x, H_SCHEME); uint_(&x, 1);
	prot_fail(OMIT_SCHEME, &x, 1, SIGIL_ERR_MALFORMED, "must be a tstr");
	/* times: tag 1 only (adversarial 065) */
	prot_fail(OMIT_ST, NULL, 0, SIGIL_ERR_MALFORMED, "signing-time not present");
	x.n = 0; tstr(&x, H_ST); uint_(&x, T0);
	prot_fail(OMIT_ST, &x, 1, SIGIL_ERR_MALFORMED, "invalid timeValue type");
	x.n = 0; tstr(&x, H_ST); head(&x, 6, 0); tstr(&x, "2024-01-02T03:04:05Z");
	prot_fail(OMIT_ST, &x, 1, SIGIL_ERR_MALFORMED, "only Tag `1` Datetime CBOR object is supported");
	x.n = 0; tstr(&x, H_ST); head(&x, 6, 1); tstr(&x, "2024");
	prot_fail(OMIT_ST, &x, 1, SIGIL_ERR_MALFORMED, "invalid timeValue type");
	x.n = 0; tstr(&x, H_ST); head(&x, 6, 1); byte(&x, 0xf9); byte(&x, 0x7e); byte(&x, 0x00); /* NaN */
	prot_fail(OMIT_ST, &x, 1, SIGIL_ERR_MALFORMED, "time out of range");
	x.n = 0; tstr(&x, H_ST); head(&x, 6, 1); head(&x, 0, UINT64_MAX);
	prot_fail(OMIT_ST, &x, 1, SIGIL_ERR_MALFORMED, "time out of range");
	/* stray authenticSigningTime under notary.x509 (adversarial 039, §8 row 21) */
	x.n = 0; tstr(&x, H_AST); head(&x, 6, 1); uint_(&x, T0);
	prot_fail(0, &x, 1, SIGIL_ERR_MALFORMED,
		"\"io.cncf.notary.authenticSigningTime\" header must not be present for notary.x509 signing scheme");
	/* stray signingTime under SA */
	x.n = 0;
	tstr(&x, H_SCHEME); tstr(&x, "notary.x509.signingAuthority");
	tstr(&x, H_AST); head(&x, 6, 1); uint_(&x, T0);
	uint_(&x, 2); head(&x, 4, 2); tstr(&x, H_SCHEME); tstr(&x, H_AST);
	prot_fail(OMIT_SCHEME | OMIT_CRIT, &x, 3, SIGIL_ERR_MALFORMED,
		"\"io.cncf.notary.signingTime\" header must not be present for notary.x509.signingAuthority signing scheme");
	/* expiry must be critical */
	x.n = 0; tstr(&x, H_EXP); head(&x, 6, 1); uint_(&x, T0 + 1);
	prot_fail(0, &x, 1, SIGIL_ERR_MALFORMED, "these required headers are not marked as critical: [io.cncf.notary.expiry]");
	free(x.b);
}

static void crit_fail(const buf *crit_value, const buf *extra, size_t n_extra, sigil_category cat,
	const char *substr)
{
	buf x = { 0 };
	size_t n = 0;
	if (crit_value) { uint_(&x, 2); append(&x, crit_value); n++; }
	if (extra) { append(&x, extra); n += n_extra; }
	prot_fail(OMIT_CRIT, &x, n, cat, substr);
	free(x.b);
}

static void test_crit(void)
{
	buf c = { 0 }, e = { 0 };
	crit_fail(NULL, NULL, 0, SIGIL_ERR_MALFORMED, "missing \"crit\" header");
	head(&c, 4, 0);
	crit_fail(&c, NULL, 0, SIGIL_ERR_MALFORMED, "missing \"crit\" header");
	c.n = 0; tstr(&c, H_SCHEME);
	crit_fail(&c, NULL, 0, SIGIL_ERR_MALFORMED, "\"crit\" header must be an array");
	/* adversarial 007: unknown integer and text labels */
	c.n = 0; head(&c, 4, 2); tstr(&c, H_SCHEME); uint_(&c, 99);
	e.n = 0; uint_(&e, 99); uint_(&e, 1);
	crit_fail(&c, &e, 1, SIGIL_ERR_UNSUPPORTED, "\"99\" header is marked critical but is not supported");
	c.n = 0; head(&c, 4, 2); tstr(&c, H_SCHEME); tstr(&c, "io.example.x");
	e.n = 0; tstr(&e, "io.example.x"); uint_(&e, 1);
	crit_fail(&c, &e, 1, SIGIL_ERR_UNSUPPORTED, "\"io.example.x\" header is marked critical but is not supported");
	/* RFC 9052 §3.1: labels 0-8 must not be listed */
	c.n = 0; head(&c, 4, 2); tstr(&c, H_SCHEME); uint_(&c, 1);
	crit_fail(&c, NULL, 0, SIGIL_ERR_MALFORMED, "\"1\" header must not be marked critical");
	/* absent (009), duplicate (013) */
	c.n = 0; head(&c, 4, 2); tstr(&c, H_SCHEME); int_(&c, -65537);
	crit_fail(&c, NULL, 0, SIGIL_ERR_MALFORMED, "\"-65537\" header is marked critical but not present");
	c.n = 0; head(&c, 4, 2); tstr(&c, H_SCHEME); tstr(&c, "io.example.absent");
	crit_fail(&c, NULL, 0, SIGIL_ERR_MALFORMED, "\"io.example.absent\" header is marked critical but not present");
	c.n = 0; head(&c, 4, 2); tstr(&c, H_SCHEME); tstr(&c, H_SCHEME);
	crit_fail(&c, NULL, 0, SIGIL_ERR_MALFORMED, "marked critical more than once");
	/* 011: signingScheme not critical */
	c.n = 0; head(&c, 4, 1); tstr(&c, H_EXP);
	e.n = 0; tstr(&e, H_EXP); head(&e, 6, 1); uint_(&e, T0 + 1);
	crit_fail(&c, &e, 1, SIGIL_ERR_MALFORMED, "these required headers are not marked as critical: [io.cncf.notary.signingScheme]");
	/* entries must be labels */
	c.n = 0; head(&c, 4, 2); tstr(&c, H_SCHEME); bstr(&c, "x", 1);
	crit_fail(&c, NULL, 0, SIGIL_ERR_MALFORMED, "\"crit\" header");
	c.n = 0; head(&c, 4, 2); tstr(&c, H_SCHEME); head(&c, 3, 3); put(&c, "a\0b", 3);
	crit_fail(&c, NULL, 0, SIGIL_ERR_MALFORMED, "label contains a NUL");
	/* plugin attributes marked critical are accepted and returned */
	buf p = { 0 };
	size_t n = std_pairs(&p, OMIT_CRIT);
	uint_(&p, 2); head(&p, 4, 2); tstr(&p, H_SCHEME); tstr(&p, "io.cncf.notary.verificationPlugin");
	tstr(&p, "io.cncf.notary.verificationPlugin"); tstr(&p, "com.example.p");
	buf m = make_msg(&p, n + 2, NULL);
	sigil__envelope *env = parse_ok(&m);
	CHECK(env && env->verification_plugin && strcmp(env->verification_plugin, "com.example.p") == 0);
	sigil__envelope_free(env);
	free(m.b);
	free(p.b);
	free(c.b);
	free(e.b);
}

static void test_size_bound(void)
{
	size_t big = SIGIL_MAX_ENVELOPE_SIZE + 1;
	uint8_t *b = calloc(1, big);
	b[0] = 0xd2;
	b[1] = 0x84;
	sigil_error err = SIGIL_ERROR_INIT;
	sigil__envelope *env = NULL;
	CHECK(sigil__cose_parse(b, big, &env, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_LIMIT);
	free(b);
}

int main(void)
{
	RUN(test_baseline);
	RUN(test_valid_synthetic);
	RUN(test_structure);
	RUN(test_cbor_bounds);
	RUN(test_x5chain);
	RUN(test_protected_attrs);
	RUN(test_crit);
	RUN(test_size_bound);
	free(certs.b);
	return check_summary();
}
