/* test-timestamp.c - RFC 3161 countersignatures (notary-verification.md §5).
 *
 * Two sources of tokens: the real ones notation's signer put into the
 * conformance corpus (cases 063-072), and tokens built here at run time
 * with OpenSSL from freshly generated test keys, one defect each, for the
 * rules the corpus does not exercise. */
#include <dirent.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cbor.h>
#include <json-c/json.h>
#include <openssl/ess.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "check.h"
#include "b64.h"
#include "timestamp.h"
#include "timeutil.h"

#define CASES SIGIL_TEST_DATA "/corpus/conformance/cases/"

/* ------------------------------------------------------------------ */
/* Corpus material                                                      */

typedef struct corpus_tok {
	uint8_t *token;
	size_t token_len;
	uint8_t *sig;
	size_t sig_len;
	int64_t signing_time; /* io.cncf.notary.signingTime (JWS only), or 0 */
} corpus_tok;

static void corpus_tok_free(corpus_tok *t)
{
	free(t->token);
	free(t->sig);
	memset(t, 0, sizeof *t);
}

static unsigned char *read_blob(const char *case_dir, const char *digest, size_t *len)
{
	char path[1024];
	const char *hex = strchr(digest, ':');
	snprintf(path, sizeof path, "%s%s/layout/blobs/sha256/%s", CASES, case_dir, hex ? hex + 1 : digest);
	return check_read_file(path, len);
}

/* The envelope: the single layer of the signature manifest listed in the
 * layout's index.json (tests/corpus/conformance/README.md). */
static unsigned char *find_envelope(const char *case_dir, size_t *len, int *is_cose)
{
	char path[1024];
	size_t ilen;
	snprintf(path, sizeof path, "%s%s/layout/index.json", CASES, case_dir);
	unsigned char *idx = check_read_file(path, &ilen);
	json_object *root = json_tokener_parse((const char *)idx);
	free(idx);
	json_object *mans = NULL;
	unsigned char *env = NULL;
	if (!root || !json_object_object_get_ex(root, "manifests", &mans))
		goto out;
	for (size_t i = 0; i < json_object_array_length(mans) && !env; i++) {
		json_object *m = json_object_array_get_idx(mans, i), *at = NULL, *dg = NULL;
		if (!json_object_object_get_ex(m, "artifactType", &at) ||
		    strcmp(json_object_get_string(at), "application/vnd.cncf.notary.signature") != 0 ||
		    !json_object_object_get_ex(m, "digest", &dg))
			continue;
		size_t mlen;
		unsigned char *mb = read_blob(case_dir, json_object_get_string(dg), &mlen);
		json_object *man = json_tokener_parse((const char *)mb), *layers = NULL;
		free(mb);
		if (man && json_object_object_get_ex(man, "layers", &layers) &&
		    json_object_array_length(layers) == 1) {
			json_object *l = json_object_array_get_idx(layers, 0), *mt = NULL, *ld = NULL;
			json_object_object_get_ex(l, "mediaType", &mt);
			json_object_object_get_ex(l, "digest", &ld);
			*is_cose = strcmp(json_object_get_string(mt), "application/cose") == 0;
			env = read_blob(case_dir, json_object_get_string(ld), len);
		}
		json_object_put(man);
	}
out:
	json_object_put(root);
	if (!env) {
		fprintf(stderr, "no envelope in %s\n", case_dir);
		exit(2);
	}
	return env;
}

static uint8_t *dup_bytes(const void *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);
	if (!d)
		exit(2);
	memcpy(d, p, n);
	return d;
}

/* JWS: header["io.cncf.notary.timestampSignature"] (std base64) over the
 * base64url-decoded signature (§5.1). */
static void jws_token(const unsigned char *env, corpus_tok *t)
{
	json_object *root = json_tokener_parse((const char *)env), *hdr = NULL, *ts = NULL, *sig = NULL,
		*prot = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	if (!root || !json_object_object_get_ex(root, "header", &hdr) ||
	    !json_object_object_get_ex(hdr, "io.cncf.notary.timestampSignature", &ts) ||
	    !json_object_object_get_ex(root, "signature", &sig) ||
	    !json_object_object_get_ex(root, "protected", &prot))
		exit(2);
	if (sigil__b64std_decode(json_object_get_string(ts), (size_t)json_object_get_string_len(ts),
		&t->token, &t->token_len, &err) != SIGIL_STATUS_OK ||
	    sigil__b64url_decode(json_object_get_string(sig), (size_t)json_object_get_string_len(sig),
		&t->sig, &t->sig_len, &err) != SIGIL_STATUS_OK)
		exit(2);
	uint8_t *ph = NULL;
	size_t ph_len = 0;
	if (sigil__b64url_decode(json_object_get_string(prot), (size_t)json_object_get_string_len(prot),
		&ph, &ph_len, &err) != SIGIL_STATUS_OK)
		exit(2);
	json_object *pj = json_tokener_parse((const char *)ph), *st = NULL;
	if (pj && json_object_object_get_ex(pj, "io.cncf.notary.signingTime", &st) &&
	    sigil__time_parse_rfc3339(json_object_get_string(st), (size_t)json_object_get_string_len(st),
		&t->signing_time, &err) != SIGIL_STATUS_OK)
		t->signing_time = 0;
	json_object_put(pj);
	free(ph);
	json_object_put(root);
}

/* COSE_Sign1: unprotected["io.cncf.notary.timestampSignature"] over the
 * content of the signature bstr (§5.1). */
static void cose_token(const unsigned char *env, size_t len, corpus_tok *t)
{
	/* tag 18 (COSE_Sign1) is skipped by hand: libcbor 0.8's cbor_load
	 * rejects this top-level tag */
	if (len < 2 || env[0] != 0xd2)
		exit(2);
	struct cbor_load_result res;
	cbor_item_t *arr = cbor_load(env + 1, len - 1, &res);
	if (!arr || !cbor_isa_array(arr) || cbor_array_size(arr) != 4)
		exit(2);
	cbor_item_t *unprot = cbor_array_get(arr, 1), *sig = cbor_array_get(arr, 3);
	struct cbor_pair *pairs = cbor_map_handle(unprot);
	for (size_t i = 0; i < cbor_map_size(unprot); i++) {
		const char *want = "io.cncf.notary.timestampSignature";
		if (cbor_isa_string(pairs[i].key) && cbor_string_length(pairs[i].key) == strlen(want) &&
		    memcmp(cbor_string_handle(pairs[i].key), want, strlen(want)) == 0) {
			t->token_len = cbor_bytestring_length(pairs[i].value);
			t->token = dup_bytes(cbor_bytestring_handle(pairs[i].value), t->token_len);
		}
	}
	t->sig_len = cbor_bytestring_length(sig);
	t->sig = dup_bytes(cbor_bytestring_handle(sig), t->sig_len);
	cbor_decref(&unprot);
	cbor_decref(&sig);
	cbor_decref(&arr);
	if (!t->token)
		exit(2);
}

static void load_case(const char *case_dir, corpus_tok *t)
{
	memset(t, 0, sizeof *t);
	size_t len;
	int is_cose = 0;
	unsigned char *env = find_envelope(case_dir, &len, &is_cose);
	if (is_cose)
		cose_token(env, len, t);
	else
		jws_token(env, t);
	free(env);
}

/* The certificates of truststore/x509/tsa/tsa/ (PEM). */
static STACK_OF(X509) *load_tsa_store(const char *case_dir)
{
	char dir[1024];
	snprintf(dir, sizeof dir, "%s%s/truststore/x509/tsa/tsa", CASES, case_dir);
	STACK_OF(X509) *sk = sk_X509_new_null();
	DIR *d = opendir(dir);
	if (!d || !sk)
		exit(2);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char path[2048];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "r");
		X509 *c;
		while (f && (c = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
			sk_X509_push(sk, c);
		if (f)
			fclose(f);
	}
	closedir(d);
	return sk;
}

static void free_certs(STACK_OF(X509) *sk) { sk_X509_pop_free(sk, X509_free); }

static int64_t asn1_epoch(const ASN1_TIME *t)
{
	int64_t v = 0;
	sigil_error err = SIGIL_ERROR_INIT;
	if (sigil__time_from_asn1(t, &v, &err) != SIGIL_STATUS_OK)
		return -1;
	return v;
}

/* ------------------------------------------------------------------ */
/* Corpus tests                                                         */

static const char *valid_cases[] = {
	"063-ts-jws-valid", "064-ts-cose-valid", "068-ts-expired-cert-after-expiry",
	"069-cose-ts-expired-cert-always", "072-ts-present-no-tsa-store",
};

static void test_corpus_valid(void)
{
	for (size_t i = 0; i < sizeof valid_cases / sizeof *valid_cases; i++) {
		corpus_tok t;
		load_case(valid_cases[i], &t);
		STACK_OF(X509) *roots = load_tsa_store(valid_cases[i]);
		sigil__tst tst = { -1, -1 };
		STACK_OF(X509) *chain = NULL;
		sigil_error err = SIGIL_ERROR_INIT;
		sigil_status rc = sigil__timestamp_verify(t.token, t.token_len, t.sig, t.sig_len, roots, &tst,
			&chain, &err);
		CHECK_INTEQ(rc, SIGIL_STATUS_OK);
		if (rc != SIGIL_STATUS_OK)
			fprintf(stderr, "  %s: %s\n", valid_cases[i], err.message);
		CHECK_INTEQ(err.category, SIGIL_ERR_NONE); /* untouched on success */
		/* these TSA tokens carry accuracy seconds=1 */
		CHECK_INTEQ(tst.accuracy, 1);
		CHECK(chain != NULL && sk_X509_num(chain) == 2);
		if (chain && sk_X509_num(chain) == 2) {
			X509 *leaf = sk_X509_value(chain, 0), *root = sk_X509_value(chain, 1);
			/* genTime sanity: inside the TSA chain's validity */
			CHECK(tst.gen_time >= asn1_epoch(X509_get0_notBefore(leaf)));
			CHECK(tst.gen_time <= asn1_epoch(X509_get0_notAfter(leaf)));
			/* the root is the store's certificate */
			CHECK_INTEQ(X509_cmp(root, sk_X509_value(roots, 0)), 0);
			char cn[256];
			X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_commonName, cn, sizeof cn);
			CHECK_CONTAINS(cn, "Timestamp Unit");
		}
		/* genTime sanity: within a day of the envelope's signing time */
		if (t.signing_time) {
			CHECK(tst.gen_time >= t.signing_time - 86400);
			CHECK(tst.gen_time <= t.signing_time + 86400);
		}
		/* parse agrees with verify */
		sigil__tst p = { -1, -1 };
		CHECK_INTEQ(sigil__timestamp_parse(t.token, t.token_len, &p, &err), SIGIL_STATUS_OK);
		CHECK_INTEQ(p.gen_time, tst.gen_time);
		CHECK_INTEQ(p.accuracy, tst.accuracy);
		/* chain_out is optional */
		CHECK_INTEQ(sigil__timestamp_verify(t.token, t.token_len, t.sig, t.sig_len, roots, NULL, NULL,
			&err), SIGIL_STATUS_OK);
		free_certs(chain);
		free_certs(roots);
		corpus_tok_free(&t);
	}
}

static void test_corpus_gen_time(void)
{
	corpus_tok t;
	load_case("063-ts-jws-valid", &t);
	sigil__tst p;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK_INTEQ(sigil__timestamp_parse(t.token, t.token_len, &p, &err), SIGIL_STATUS_OK);
	/* genTime 20261124220211Z, as printed by `openssl cms -cmsout -print` */
	CHECK_INTEQ(p.gen_time, 1795557731);
	corpus_tok_free(&t);
}

/* 066/070: the token's TSA root is not in the case's tsa store. */
static void test_corpus_untrusted_tsa(void)
{
	const char *cases[] = { "066-ts-untrusted-tsa", "070-ts-expired-cert-untrusted-tsa",
		"067-ts-untrusted-tsa-after-expiry-cert-valid" };
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		corpus_tok t;
		load_case(cases[i], &t);
		STACK_OF(X509) *roots = load_tsa_store(cases[i]);
		sigil__tst tst = { -7, -7 };
		STACK_OF(X509) *chain = NULL;
		sigil_error err = SIGIL_ERROR_INIT;
		CHECK_INTEQ(sigil__timestamp_verify(t.token, t.token_len, t.sig, t.sig_len, roots, &tst,
			&chain, &err), SIGIL_STATUS_ERROR);
		CHECK_INTEQ(err.category, SIGIL_ERR_POLICY);
		CHECK_STREQ(err.message, "failed to verify the timestamp countersignature with error: "
			"failed to verify signed token: cms verification failure: x509: certificate signed by "
			"unknown authority (certificate at depth 1)");
		/* outputs untouched on failure */
		CHECK(chain == NULL);
		CHECK_INTEQ(tst.gen_time, -7);
		free_certs(roots);
		corpus_tok_free(&t);
	}
}

static void test_corpus_wrong_signature(void)
{
	corpus_tok t;
	load_case("063-ts-jws-valid", &t);
	STACK_OF(X509) *roots = load_tsa_store("063-ts-jws-valid");
	sigil_error err = SIGIL_ERROR_INIT;
	t.sig[0] ^= 1;
	CHECK_INTEQ(sigil__timestamp_verify(t.token, t.token_len, t.sig, t.sig_len, roots, NULL, NULL,
		&err), SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_CRYPTO);
	CHECK_STREQ(err.message, "failed to get timestamp from timestamp countersignature with error: "
		"invalid TSTInfo: mismatched message");
	t.sig[0] ^= 1;
	/* a prefix of the right signature is not the signature */
	CHECK_INTEQ(sigil__timestamp_verify(t.token, t.token_len, t.sig, t.sig_len - 1, roots, NULL, NULL,
		&err), SIGIL_STATUS_ERROR);
	CHECK_CONTAINS(err.message, "invalid TSTInfo: mismatched message");
	/* another case's signature bytes */
	corpus_tok o;
	load_case("068-ts-expired-cert-after-expiry", &o);
	CHECK_INTEQ(sigil__timestamp_verify(t.token, t.token_len, o.sig, o.sig_len, roots, NULL, NULL,
		&err), SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_CRYPTO);
	CHECK_CONTAINS(err.message, "mismatched message");
	corpus_tok_free(&o);
	free_certs(roots);
	corpus_tok_free(&t);
}

static void test_corpus_roots(void)
{
	corpus_tok t;
	load_case("063-ts-jws-valid", &t);
	sigil_error err = SIGIL_ERROR_INIT;
	/* §5.3 step 5: no TSA certificate at all */
	STACK_OF(X509) *empty = sk_X509_new_null();
	CHECK_INTEQ(sigil__timestamp_verify(t.token, t.token_len, t.sig, t.sig_len, empty, NULL, NULL,
		&err), SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_POLICY);
	CHECK_STREQ(err.message, "no trusted TSA certificate found in trust store");
	memset(&err, 0, sizeof err);
	CHECK_INTEQ(sigil__timestamp_verify(t.token, t.token_len, t.sig, t.sig_len, NULL, NULL, NULL,
		&err), SIGIL_STATUS_ERROR);
	CHECK_STREQ(err.message, "no trusted TSA certificate found in trust store");
	sk_X509_free(empty);
	/* the signing CA root is no TSA anchor */
	STACK_OF(X509) *wrong = sk_X509_new_null();
	FILE *f = fopen(CASES "063-ts-jws-valid/truststore/x509/ca/main/00-chain-ec-p256-root.crt", "r");
	CHECK(f != NULL);
	if (f) {
		sk_X509_push(wrong, PEM_read_X509(f, NULL, NULL, NULL));
		fclose(f);
	}
	CHECK_INTEQ(sigil__timestamp_verify(t.token, t.token_len, t.sig, t.sig_len, wrong, NULL, NULL,
		&err), SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_POLICY);
	CHECK_CONTAINS(err.message, "certificate signed by unknown authority");
	free_certs(wrong);
	/* the TSA leaf (not self-signed) as the only anchor: no partial chains */
	STACK_OF(X509) *roots = load_tsa_store("063-ts-jws-valid");
	STACK_OF(X509) *chain = NULL;
	CHECK_INTEQ(sigil__timestamp_verify(t.token, t.token_len, t.sig, t.sig_len, roots, NULL, &chain,
		&err), SIGIL_STATUS_OK);
	STACK_OF(X509) *leaf_only = sk_X509_new_null();
	if (chain) {
		X509 *leaf = sk_X509_value(chain, 0);
		X509_up_ref(leaf);
		sk_X509_push(leaf_only, leaf);
	}
	CHECK_INTEQ(sigil__timestamp_verify(t.token, t.token_len, t.sig, t.sig_len, leaf_only, NULL, NULL,
		&err), SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_POLICY);
	free_certs(leaf_only);
	free_certs(chain);
	free_certs(roots);
	corpus_tok_free(&t);
}

static void expect_malformed(const uint8_t *tok, size_t len, const char *what)
{
	sigil_error err = SIGIL_ERROR_INIT;
	sigil__tst p = { -5, -5 };
	sigil_status rc = sigil__timestamp_parse(tok, len, &p, &err);
	CHECK_INTEQ(rc, SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_MALFORMED);
	CHECK_INTEQ(p.gen_time, -5);
	if (rc == SIGIL_STATUS_OK || err.category != SIGIL_ERR_MALFORMED)
		fprintf(stderr, "  %s: %s\n", what, err.message);
}

static void test_corpus_truncated(void)
{
	corpus_tok t;
	load_case("063-ts-jws-valid", &t);
	STACK_OF(X509) *roots = load_tsa_store("063-ts-jws-valid");
	/* every prefix is malformed (exact-size copies so ASan sees over-reads) */
	for (size_t n = 0; n < t.token_len; n += (n < 64 ? 1 : 37)) {
		uint8_t *cut = dup_bytes(t.token, n);
		expect_malformed(n ? cut : NULL, n, "truncated");
		sigil_error err = SIGIL_ERROR_INIT;
		CHECK_INTEQ(sigil__timestamp_verify(cut, n, t.sig, t.sig_len, roots, NULL, NULL, &err),
			SIGIL_STATUS_ERROR);
		CHECK_INTEQ(err.category, SIGIL_ERR_MALFORMED);
		free(cut);
	}
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK_INTEQ(sigil__timestamp_parse(t.token, 0, NULL, &err), SIGIL_STATUS_ERROR);
	CHECK_STREQ(err.message, "no timestamp countersignature was found in the signature envelope");
	uint8_t *cut = dup_bytes(t.token, t.token_len - 1);
	CHECK_INTEQ(sigil__timestamp_parse(cut, t.token_len - 1, NULL, &err), SIGIL_STATUS_ERROR);
	CHECK_CONTAINS(err.message, "failed to parse timestamp countersignature with error: ");
	free(cut);
	free_certs(roots);
	corpus_tok_free(&t);
}

static void test_corpus_corrupted(void)
{
	corpus_tok t;
	load_case("063-ts-jws-valid", &t);
	STACK_OF(X509) *roots = load_tsa_store("063-ts-jws-valid");
	sigil_error err = SIGIL_ERROR_INIT;
	uint8_t *c = dup_bytes(t.token, t.token_len);
	/* 30 82 0d 6d | 06 09 <signedData> | a0 82 0d 5e | 30 82 0d 5a | 02 01 03 */
	CHECK_INTEQ(c[23], 0x02);
	CHECK_INTEQ(c[25], 0x03);
	c[25] = 0x01; /* SignedData.version 1 */
	CHECK_INTEQ(sigil__timestamp_parse(c, t.token_len, NULL, &err), SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_MALFORMED);
	CHECK_STREQ(err.message, "failed to parse timestamp countersignature with error: cms: syntax "
		"error: invalid signed data: version must be 3, got 1");
	c[25] = 0x03;
	/* ContentInfo.contentType id-data (…7.1) instead of id-signedData */
	CHECK_INTEQ(c[14], 0x02);
	c[14] = 0x01;
	CHECK_INTEQ(sigil__timestamp_parse(c, t.token_len, NULL, &err), SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_MALFORMED);
	c[14] = 0x02;
	/* the last byte is in the SignerInfo's signature value */
	c[t.token_len - 1] ^= 0x55;
	CHECK_INTEQ(sigil__timestamp_parse(c, t.token_len, NULL, &err), SIGIL_STATUS_OK);
	CHECK_INTEQ(sigil__timestamp_verify(c, t.token_len, t.sig, t.sig_len, roots, NULL, NULL, &err),
		SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_CRYPTO);
	CHECK_STREQ(err.message, "failed to verify the timestamp countersignature with error: failed "
		"to verify signed token: cms verification failure: signature verification failed");
	c[t.token_len - 1] ^= 0x55;
	/* genTime's seconds digit inside the eContent: messageDigest no longer
	 * matches (step 6, signed attributes) */
	uint8_t *g = memmem(c, t.token_len, "20261124220211Z", 15);
	CHECK(g != NULL);
	if (g) {
		g[13] = '0';
		CHECK_INTEQ(sigil__timestamp_verify(c, t.token_len, t.sig, t.sig_len, roots, NULL, NULL, &err),
			SIGIL_STATUS_ERROR);
		CHECK_INTEQ(err.category, SIGIL_ERR_CRYPTO);
		CHECK_CONTAINS(err.message, "cms verification failure: mismatch message digest");
		/* not a GeneralizedTime any more */
		g[13] = 'x';
		CHECK_INTEQ(sigil__timestamp_parse(c, t.token_len, NULL, &err), SIGIL_STATUS_ERROR);
		CHECK_INTEQ(err.category, SIGIL_ERR_MALFORMED);
		CHECK_CONTAINS(err.message, "failed to get the timestamp TSTInfo with error: invalid genTime");
		g[13] = '1';
	}
	/* TSTInfo.version 2: eContent starts 30 81 e1 02 01 01 */
	uint8_t *v = memmem(c, t.token_len, "\x30\x81\xe1\x02\x01\x01\x06\x09", 8);
	CHECK(v != NULL);
	if (v) {
		v[5] = 2;
		CHECK_INTEQ(sigil__timestamp_parse(c, t.token_len, NULL, &err), SIGIL_STATUS_ERROR);
		CHECK_INTEQ(err.category, SIGIL_ERR_MALFORMED);
		CHECK_CONTAINS(err.message, "timestamp token info version must be 1, but got 2");
		v[5] = 1;
	}
	/* trailing data after the ContentInfo */
	uint8_t *tr = malloc(t.token_len + 2);
	memcpy(tr, t.token, t.token_len);
	tr[t.token_len] = 0;
	tr[t.token_len + 1] = 0;
	CHECK_INTEQ(sigil__timestamp_parse(tr, t.token_len + 2, NULL, &err), SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_MALFORMED);
	CHECK_CONTAINS(err.message, "trailing data");
	free(tr);
	/* too large */
	uint8_t *big = calloc(1, 70000);
	CHECK_INTEQ(sigil__timestamp_parse(big, 70000, NULL, &err), SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_LIMIT);
	free(big);
	free(c);
	free_certs(roots);
	corpus_tok_free(&t);
}

/* BER: the outer ContentInfo and [0] with indefinite lengths. */
static void test_corpus_ber(void)
{
	corpus_tok t;
	load_case("063-ts-jws-valid", &t);
	STACK_OF(X509) *roots = load_tsa_store("063-ts-jws-valid");
	/* 30 82 LL LL  06 09 ...(11)  a0 82 LL LL  <signedData> */
	CHECK(t.token[0] == 0x30 && t.token[1] == 0x82 && t.token[15] == 0xa0 && t.token[16] == 0x82);
	size_t inner = t.token_len - 19, n = 0;
	uint8_t *ber = malloc(t.token_len + 4);
	ber[n++] = 0x30;
	ber[n++] = 0x80;
	memcpy(ber + n, t.token + 4, 11);
	n += 11;
	ber[n++] = 0xa0;
	ber[n++] = 0x80;
	memcpy(ber + n, t.token + 19, inner);
	n += inner;
	memset(ber + n, 0, 4);
	n += 4;
	uint8_t *exact = dup_bytes(ber, n);
	free(ber);
	sigil__tst tst;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK_INTEQ(sigil__timestamp_verify(exact, n, t.sig, t.sig_len, roots, &tst, NULL, &err),
		SIGIL_STATUS_OK);
	CHECK_INTEQ(tst.gen_time, 1795557731);
	/* missing end-of-contents */
	CHECK_INTEQ(sigil__timestamp_parse(exact, n - 2, NULL, &err), SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_MALFORMED);
	free(exact);
	free_certs(roots);
	corpus_tok_free(&t);
}

/* ------------------------------------------------------------------ */
/* Generated material                                                   */

static EVP_PKEY *ec_key(void) { return EVP_EC_gen("P-256"); }

static long serial_counter = 1000;

/* A certificate valid [now+nb, now+na]; issuer NULL = self-signed. */
static X509 *mk_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey, int ca,
	const char *eku, long nb, long na)
{
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial_counter++);
	X509_NAME *name = X509_NAME_new();
	X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC, (const unsigned char *)"US", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"Sigil Test", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	X509_NAME_free(name);
	X509_gmtime_adj(X509_getm_notBefore(x), nb);
	X509_gmtime_adj(X509_getm_notAfter(x), na);
	X509_set_pubkey(x, key);
	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	struct { int nid; const char *v; } exts[] = {
		{ NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE" },
		{ NID_key_usage, ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature" },
		{ NID_subject_key_identifier, "hash" },
		{ NID_authority_key_identifier, issuer ? "keyid:always" : NULL },
		{ NID_ext_key_usage, eku },
	};
	for (size_t i = 0; i < sizeof exts / sizeof *exts; i++) {
		if (!exts[i].v)
			continue;
		X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, exts[i].nid, exts[i].v);
		if (!e)
			exit(3);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	if (!X509_sign(x, issuer ? ikey : key, EVP_sha256()))
		exit(3);
	return x;
}

enum ess_kind { ESS_V2 = 0, ESS_V1, ESS_NONE, ESS_V2_SERIAL, ESS_V2_SHA384, ESS_V2_SHA1, ESS_V2_OTHER };

typedef struct tok_opts {
	X509 *signer;
	EVP_PKEY *key;
	X509 *extra_cert;         /* embedded after the signer (e.g. an intermediate) */
	X509 *ess_cert;           /* ESS_V2_OTHER */
	int omit_signer_cert;
	const EVP_MD *md;         /* digestAlgorithm; default SHA-256 */
	int pss, pss_salt;        /* RSASSA-PSS; salt length (0 = hash length) */
	const EVP_MD *imprint_md; /* default SHA-256 */
	const uint8_t *msg;
	size_t msg_len;
	const char *policy;       /* default 1.3.6.1.4.1.99999.1 */
	int acc_s, acc_ms, acc_us; /* -1 absent; all -1 = no accuracy */
	const char *gen_time;     /* GeneralizedTime; default: 1 h ago */
	long tst_version, si_version;
	const char *econtent_oid; /* default id-ct-TSTInfo */
	int ct_attr;              /* 0 TSTInfo, -1 omitted, else an NID */
	int bad_md_attr, dup_md_attr;
	enum ess_kind ess;
	long signing_time_off;    /* signingTime = now + off; LONG_MIN = omitted */
	int flip_sig;
	int bad_first_signer;     /* a SignerInfo without attributes before the real one */
} tok_opts;

static void tok_defaults(tok_opts *o, X509 *signer, EVP_PKEY *key, const uint8_t *msg, size_t len)
{
	memset(o, 0, sizeof *o);
	o->signer = signer;
	o->key = key;
	o->msg = msg;
	o->msg_len = len;
	o->acc_s = o->acc_ms = o->acc_us = -1;
	o->tst_version = 1;
	o->si_version = 1;
	o->signing_time_off = -3600;
}

static void add_attr(PKCS7_SIGNER_INFO *si, int nid, int type, const void *data, int len)
{
	if (!X509at_add1_attr_by_NID(&si->auth_attr, nid, type, data, len))
		exit(3);
}

static uint8_t *build_token(const tok_opts *o, size_t *out_len)
{
	const EVP_MD *md = o->md ? o->md : EVP_sha256();
	const EVP_MD *imd = o->imprint_md ? o->imprint_md : EVP_sha256();
	/* TSTInfo (RFC 3161 §2.4.2) */
	TS_TST_INFO *tst = TS_TST_INFO_new();
	TS_TST_INFO_set_version(tst, o->tst_version);
	ASN1_OBJECT *pol = OBJ_txt2obj(o->policy ? o->policy : "1.3.6.1.4.1.99999.1", 1);
	TS_TST_INFO_set_policy_id(tst, pol);
	ASN1_OBJECT_free(pol);
	TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
	X509_ALGOR *alg = X509_ALGOR_new();
	X509_ALGOR_set_md(alg, imd);
	TS_MSG_IMPRINT_set_algo(mi, alg);
	X509_ALGOR_free(alg);
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hl;
	EVP_Digest(o->msg, o->msg_len, h, &hl, imd, NULL);
	TS_MSG_IMPRINT_set_msg(mi, h, (int)hl);
	TS_TST_INFO_set_msg_imprint(tst, mi);
	TS_MSG_IMPRINT_free(mi);
	ASN1_INTEGER *serial = ASN1_INTEGER_new();
	ASN1_INTEGER_set(serial, 42);
	TS_TST_INFO_set_serial(tst, serial);
	ASN1_INTEGER_free(serial);
	ASN1_GENERALIZEDTIME *gt = ASN1_GENERALIZEDTIME_new();
	if (o->gen_time)
		ASN1_GENERALIZEDTIME_set_string(gt, o->gen_time);
	else
		ASN1_GENERALIZEDTIME_adj(gt, time(NULL), 0, -3600);
	TS_TST_INFO_set_time(tst, gt);
	ASN1_GENERALIZEDTIME_free(gt);
	if (o->acc_s >= 0 || o->acc_ms >= 0 || o->acc_us >= 0) {
		TS_ACCURACY *acc = TS_ACCURACY_new();
		ASN1_INTEGER *i = ASN1_INTEGER_new();
		if (o->acc_s >= 0) { ASN1_INTEGER_set(i, o->acc_s); TS_ACCURACY_set_seconds(acc, i); }
		if (o->acc_ms >= 0) { ASN1_INTEGER_set(i, o->acc_ms); TS_ACCURACY_set_millis(acc, i); }
		if (o->acc_us >= 0) { ASN1_INTEGER_set(i, o->acc_us); TS_ACCURACY_set_micros(acc, i); }
		ASN1_INTEGER_free(i);
		TS_TST_INFO_set_accuracy(tst, acc);
		TS_ACCURACY_free(acc);
	}
	unsigned char *tder = NULL;
	int tlen = i2d_TS_TST_INFO(tst, &tder);
	TS_TST_INFO_free(tst);
	if (tlen <= 0)
		exit(3);

	/* SignedData (RFC 5652 §5) */
	PKCS7 *p7 = PKCS7_new();
	PKCS7_set_type(p7, NID_pkcs7_signed);
	ASN1_INTEGER_set(p7->d.sign->version, 3);
	if (o->bad_first_signer && !PKCS7_add_signature(p7, o->signer, o->key, md))
		exit(3);
	PKCS7_SIGNER_INFO *si = PKCS7_add_signature(p7, o->signer, o->key, md);
	if (!si)
		exit(3);
	ASN1_INTEGER_set(si->version, o->si_version);
	if (o->pss)
		X509_ALGOR_set0(si->digest_enc_alg, OBJ_nid2obj(NID_rsassaPss), V_ASN1_UNDEF, NULL);
	if (!o->omit_signer_cert)
		PKCS7_add_certificate(p7, o->signer);
	if (o->extra_cert)
		PKCS7_add_certificate(p7, o->extra_cert);
	PKCS7 *inner = PKCS7_new();
	ASN1_OBJECT_free(inner->type);
	inner->type = OBJ_txt2obj(o->econtent_oid ? o->econtent_oid : "1.2.840.113549.1.9.16.1.4", 1);
	inner->d.other = ASN1_TYPE_new();
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	ASN1_OCTET_STRING_set(os, tder, tlen);
	ASN1_TYPE_set(inner->d.other, V_ASN1_OCTET_STRING, os);
	PKCS7_set_content(p7, inner);

	/* signed attributes */
	if (o->ct_attr >= 0)
		add_attr(si, NID_pkcs9_contentType, V_ASN1_OBJECT,
			OBJ_nid2obj(o->ct_attr ? o->ct_attr : NID_id_smime_ct_TSTInfo), -1);
	if (o->signing_time_off != LONG_MIN) {
		ASN1_UTCTIME *st = ASN1_UTCTIME_adj(NULL, time(NULL), 0, o->signing_time_off);
		add_attr(si, NID_pkcs9_signingTime, V_ASN1_UTCTIME, st, -1);
		ASN1_UTCTIME_free(st);
	}
	EVP_Digest(tder, (size_t)tlen, h, &hl, md, NULL);
	if (o->bad_md_attr)
		h[0] ^= 1;
	add_attr(si, NID_pkcs9_messageDigest, V_ASN1_OCTET_STRING, h, (int)hl);
	if (o->dup_md_attr) {
		/* pushed by hand: X509at_add1_attr refuses duplicates */
		X509_ATTRIBUTE *dup = X509_ATTRIBUTE_create_by_NID(NULL, NID_pkcs9_messageDigest,
			V_ASN1_OCTET_STRING, h, (int)hl);
		if (!dup || !sk_X509_ATTRIBUTE_push(si->auth_attr, dup))
			exit(3);
	}
	OPENSSL_free(tder);
	unsigned char *ess = NULL;
	int elen = 0, enid = NID_id_smime_aa_signingCertificateV2;
	if (o->ess == ESS_V1) {
		ESS_SIGNING_CERT *sc = OSSL_ESS_signing_cert_new_init(o->signer, NULL, 0);
		elen = i2d_ESS_SIGNING_CERT(sc, &ess);
		ESS_SIGNING_CERT_free(sc);
		enid = NID_id_smime_aa_signingCertificate;
	} else if (o->ess != ESS_NONE) {
		const EVP_MD *emd = o->ess == ESS_V2_SHA384 ? EVP_sha384() :
			o->ess == ESS_V2_SHA1 ? EVP_sha1() : EVP_sha256();
		ESS_SIGNING_CERT_V2 *sc = OSSL_ESS_signing_cert_v2_new_init(emd,
			o->ess == ESS_V2_OTHER ? o->ess_cert : o->signer, NULL, o->ess == ESS_V2_SERIAL);
		elen = i2d_ESS_SIGNING_CERT_V2(sc, &ess);
		ESS_SIGNING_CERT_V2_free(sc);
	}
	if (ess) {
		add_attr(si, enid, V_ASN1_SEQUENCE, ess, elen);
		OPENSSL_free(ess);
	}

	/* the signature over the DER SET of signed attributes (RFC 5652 §5.4) */
	unsigned char *abuf = NULL;
	int alen = ASN1_item_i2d((ASN1_VALUE *)si->auth_attr, &abuf, ASN1_ITEM_rptr(PKCS7_ATTR_SIGN));
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	size_t slen = 0;
	if (EVP_DigestSignInit(mctx, &pctx, md, NULL, o->key) != 1)
		exit(3);
	if (o->pss) {
		EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
		EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, o->pss_salt ? o->pss_salt : RSA_PSS_SALTLEN_DIGEST);
		EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md);
	}
	EVP_DigestSign(mctx, NULL, &slen, abuf, (size_t)alen);
	unsigned char *sig = malloc(slen);
	if (EVP_DigestSign(mctx, sig, &slen, abuf, (size_t)alen) != 1)
		exit(3);
	if (o->flip_sig)
		sig[slen / 2] ^= 1;
	ASN1_STRING_set(si->enc_digest, sig, (int)slen);
	free(sig);
	EVP_MD_CTX_free(mctx);
	OPENSSL_free(abuf);

	unsigned char *der = NULL;
	int dlen = i2d_PKCS7(p7, &der);
	PKCS7_free(p7);
	if (dlen <= 0)
		exit(3);
	uint8_t *out = dup_bytes(der, (size_t)dlen);
	OPENSSL_free(der);
	*out_len = (size_t)dlen;
	return out;
}

/* The generated PKI: root -> TSA leaf (EC P-256), plus variants. */
static struct pki {
	EVP_PKEY *root_key, *leaf_key, *rsa_key, *int_key;
	X509 *root, *leaf, *rsa_leaf, *leaf_noncrit, *leaf_extra_eku, *leaf_no_eku, *leaf_expired;
	X509 *inter_cs, *leaf_under_inter, *inter_ok, *leaf_under_inter_ok;
	STACK_OF(X509) *roots;
	uint8_t msg[64];
} P;

static void pki_setup(void)
{
	const long day = 86400;
	P.root_key = ec_key();
	P.leaf_key = ec_key();
	P.int_key = ec_key();
	P.rsa_key = EVP_RSA_gen(2048);
	if (!P.root_key || !P.leaf_key || !P.int_key || !P.rsa_key)
		exit(3);
	P.root = mk_cert("Sigil Test TSA Root", P.root_key, NULL, NULL, 1, NULL, -30 * day, 3650 * day);
	P.leaf = mk_cert("Sigil Test TSA", P.leaf_key, P.root, P.root_key, 0, "critical,timeStamping",
		-30 * day, 365 * day);
	P.rsa_leaf = mk_cert("Sigil Test TSA RSA", P.rsa_key, P.root, P.root_key, 0,
		"critical,timeStamping", -30 * day, 365 * day);
	P.leaf_noncrit = mk_cert("Sigil Test TSA noncrit", P.leaf_key, P.root, P.root_key, 0,
		"timeStamping", -30 * day, 365 * day);
	P.leaf_extra_eku = mk_cert("Sigil Test TSA extra", P.leaf_key, P.root, P.root_key, 0,
		"critical,timeStamping,codeSigning", -30 * day, 365 * day);
	P.leaf_no_eku = mk_cert("Sigil Test TSA no EKU", P.leaf_key, P.root, P.root_key, 0, NULL,
		-30 * day, 365 * day);
	/* expired before genTime (1 h ago) */
	P.leaf_expired = mk_cert("Sigil Test TSA expired", P.leaf_key, P.root, P.root_key, 0,
		"critical,timeStamping", -30 * day, -2 * day);
	P.inter_cs = mk_cert("Sigil Test TSA CA codeSigning", P.int_key, P.root, P.root_key, 1,
		"codeSigning", -30 * day, 365 * day);
	P.leaf_under_inter = mk_cert("Sigil Test TSA under CS CA", P.leaf_key, P.inter_cs, P.int_key, 0,
		"critical,timeStamping", -30 * day, 365 * day);
	P.inter_ok = mk_cert("Sigil Test TSA CA", P.int_key, P.root, P.root_key, 1, NULL, -30 * day,
		365 * day);
	P.leaf_under_inter_ok = mk_cert("Sigil Test TSA under CA", P.leaf_key, P.inter_ok, P.int_key, 0,
		"critical,timeStamping", -30 * day, 365 * day);
	P.roots = sk_X509_new_null();
	X509_up_ref(P.root);
	sk_X509_push(P.roots, P.root);
	RAND_bytes(P.msg, sizeof P.msg);
}

static void pki_teardown(void)
{
	X509 *all[] = { P.root, P.leaf, P.rsa_leaf, P.leaf_noncrit, P.leaf_extra_eku, P.leaf_no_eku,
		P.leaf_expired, P.inter_cs, P.leaf_under_inter, P.inter_ok, P.leaf_under_inter_ok };
	for (size_t i = 0; i < sizeof all / sizeof *all; i++)
		X509_free(all[i]);
	EVP_PKEY_free(P.root_key);
	EVP_PKEY_free(P.leaf_key);
	EVP_PKEY_free(P.int_key);
	EVP_PKEY_free(P.rsa_key);
	free_certs(P.roots);
}

/* Build, verify against P.roots; returns the status, fills *tst/err. */
static sigil_status run(const tok_opts *o, sigil__tst *tst, sigil_error *err)
{
	size_t len;
	uint8_t *tok = build_token(o, &len);
	memset(err, 0, sizeof *err);
	sigil_status rc = sigil__timestamp_verify(tok, len, P.msg, sizeof P.msg, P.roots, tst, NULL, err);
	free(tok);
	return rc;
}

#define EXPECT_FAIL(o, cat, text) do { sigil__tst t_; sigil_error e_; \
	CHECK_INTEQ(run((o), &t_, &e_), SIGIL_STATUS_ERROR); CHECK_INTEQ(e_.category, (cat)); \
	CHECK_CONTAINS(e_.message, (text)); } while (0)

#define EXPECT_OK(o) do { sigil__tst t_; sigil_error e_; sigil_status r_ = run((o), &t_, &e_); \
	CHECK_INTEQ(r_, SIGIL_STATUS_OK); if (r_ != SIGIL_STATUS_OK) fprintf(stderr, "  %s\n", e_.message); \
	} while (0)

static void test_gen_algorithms(void)
{
	tok_opts o;
	tok_defaults(&o, P.leaf, P.leaf_key, P.msg, sizeof P.msg);
	EXPECT_OK(&o); /* ecdsa-with-SHA256 */
	o.md = EVP_sha384();
	EXPECT_OK(&o);
	o.md = EVP_sha512();
	EXPECT_OK(&o);
	/* §5.3 step 6: SHA-1 is rejected (ecdsa-with-SHA1) */
	o.md = EVP_sha1();
	EXPECT_FAIL(&o, SIGIL_ERR_CRYPTO, "cms verification failure: unknown signature algorithm");
	/* RSA PKCS#1 v1.5 with rsaEncryption + digestAlgorithm */
	tok_defaults(&o, P.rsa_leaf, P.rsa_key, P.msg, sizeof P.msg);
	EXPECT_OK(&o);
	o.md = EVP_sha512();
	EXPECT_OK(&o);
	o.md = EVP_sha1();
	EXPECT_FAIL(&o, SIGIL_ERR_CRYPTO, "unknown signature algorithm");
	/* RSASSA-PSS, salt = hash length */
	o.md = EVP_sha256();
	o.pss = 1;
	EXPECT_OK(&o);
	o.md = EVP_sha384();
	EXPECT_OK(&o);
	o.pss_salt = 20;
	EXPECT_FAIL(&o, SIGIL_ERR_CRYPTO, "signature verification failed");
	/* a tampered signature */
	tok_defaults(&o, P.leaf, P.leaf_key, P.msg, sizeof P.msg);
	o.flip_sig = 1;
	EXPECT_FAIL(&o, SIGIL_ERR_CRYPTO, "failed to verify the timestamp countersignature with error: "
		"failed to verify signed token: cms verification failure: signature verification failed");
	/* the signature does not come from the signer certificate's key */
	tok_defaults(&o, P.leaf, P.root_key, P.msg, sizeof P.msg);
	EXPECT_FAIL(&o, SIGIL_ERR_CRYPTO, "signature verification failed");
}

static void test_gen_imprint(void)
{
	tok_opts o;
	tok_defaults(&o, P.leaf, P.leaf_key, P.msg, sizeof P.msg);
	o.imprint_md = EVP_sha384();
	EXPECT_OK(&o);
	o.imprint_md = EVP_sha512();
	EXPECT_OK(&o);
	/* §5.3 step 3: SHA-1 / MD5 imprints are not accepted */
	o.imprint_md = EVP_sha1();
	EXPECT_FAIL(&o, SIGIL_ERR_CRYPTO, "failed to get timestamp from timestamp countersignature with "
		"error: invalid TSTInfo: unrecognized hash algorithm: 1.3.14.3.2.26");
	o.imprint_md = EVP_md5();
	EXPECT_FAIL(&o, SIGIL_ERR_CRYPTO, "unrecognized hash algorithm");
	/* an imprint of other bytes */
	static const uint8_t other[] = "not the signature";
	tok_defaults(&o, P.leaf, P.leaf_key, other, sizeof other);
	EXPECT_FAIL(&o, SIGIL_ERR_CRYPTO, "invalid TSTInfo: mismatched message");
}

static void check_accuracy(tok_opts *o, int64_t want)
{
	sigil__tst t = { -1, -1 };
	sigil_error e;
	sigil_status rc = run(o, &t, &e);
	CHECK_INTEQ(rc, SIGIL_STATUS_OK);
	CHECK_INTEQ(t.accuracy, want);
	size_t len;
	uint8_t *tok = build_token(o, &len);
	sigil__tst p = { -1, -1 };
	CHECK_INTEQ(sigil__timestamp_parse(tok, len, &p, &e), SIGIL_STATUS_OK);
	CHECK_INTEQ(p.accuracy, want);
	free(tok);
}

static void test_gen_accuracy(void)
{
	tok_opts o;
	tok_defaults(&o, P.leaf, P.leaf_key, P.msg, sizeof P.msg);
	check_accuracy(&o, 0); /* no accuracy, not the baseline policy */
	o.policy = "0.4.0.2023.1.1";
	check_accuracy(&o, 1); /* §5.3 step 4: baseline policy, 1 s */
	o.acc_s = 0;
	o.acc_ms = -1;
	check_accuracy(&o, 1); /* explicit zero, baseline */
	o.policy = NULL;
	check_accuracy(&o, 0);
	o.acc_s = 2;
	o.acc_ms = 500;
	check_accuracy(&o, 3); /* rounded up */
	o.acc_s = -1;
	o.acc_ms = 1;
	check_accuracy(&o, 1);
	o.acc_ms = -1;
	o.acc_us = 1;
	check_accuracy(&o, 1);
	o.acc_s = 5;
	o.acc_us = -1;
	o.policy = "0.4.0.2023.1.1";
	check_accuracy(&o, 5);
	/* a negative accuracy is malformed */
	o.acc_s = -1;
	o.acc_ms = -1;
	o.acc_us = -1;
	size_t len;
	tok_opts neg = o;
	neg.acc_s = 0;
	uint8_t *tok = build_token(&neg, &len);
	/* patch "seconds INTEGER 0" (30 03 02 01 00) into -1 (ff) */
	uint8_t *a = memmem(tok, len, "\x30\x03\x02\x01\x00", 5);
	CHECK(a != NULL);
	if (a) {
		a[4] = 0xff;
		sigil_error e;
		CHECK_INTEQ(sigil__timestamp_parse(tok, len, NULL, &e), SIGIL_STATUS_ERROR);
		CHECK_INTEQ(e.category, SIGIL_ERR_MALFORMED);
		CHECK_CONTAINS(e.message, "invalid accuracy");
	}
	free(tok);
}

static void test_gen_time(void)
{
	tok_opts o;
	tok_defaults(&o, P.leaf, P.leaf_key, P.msg, sizeof P.msg);
	/* fractional seconds are truncated (§5.3 step 4) */
	time_t now = time(NULL) - 7200;
	struct tm tm;
	gmtime_r(&now, &tm);
	char buf[64];
	strftime(buf, sizeof buf, "%Y%m%d%H%M%S.987Z", &tm);
	o.gen_time = buf;
	sigil__tst t;
	sigil_error e;
	CHECK_INTEQ(run(&o, &t, &e), SIGIL_STATUS_OK);
	CHECK_INTEQ(t.gen_time, (int64_t)now);
	/* genTime outside the TSA leaf's validity: the chain is checked at
	 * genTime, not now */
	o.gen_time = "20000101000000Z";
	EXPECT_FAIL(&o, SIGIL_ERR_POLICY, "x509: certificate has expired or is not yet valid");
	tok_defaults(&o, P.leaf_expired, P.leaf_key, P.msg, sizeof P.msg);
	o.signing_time_off = LONG_MIN;
	EXPECT_FAIL(&o, SIGIL_ERR_POLICY, "certificate has expired or is not yet valid");
	/* ... but a genTime inside it passes although it has expired now */
	gmtime_r(&(time_t){ time(NULL) - 3 * 86400 }, &tm);
	strftime(buf, sizeof buf, "%Y%m%d%H%M%SZ", &tm);
	o.gen_time = buf;
	EXPECT_OK(&o);
}

static void test_gen_structure(void)
{
	tok_opts o;
	tok_defaults(&o, P.leaf, P.leaf_key, P.msg, sizeof P.msg);
	o.tst_version = 2;
	EXPECT_FAIL(&o, SIGIL_ERR_MALFORMED, "timestamp token info version must be 1, but got 2");
	tok_defaults(&o, P.leaf, P.leaf_key, P.msg, sizeof P.msg);
	o.econtent_oid = "1.2.840.113549.1.9.16.1.9";
	EXPECT_FAIL(&o, SIGIL_ERR_MALFORMED, "failed to parse timestamp countersignature with error: "
		"unexpected content type: 1.2.840.113549.1.9.16.1.9");
	/* SignerInfo version 3 (subjectKeyIdentifier sids are not supported) */
	tok_defaults(&o, P.leaf, P.leaf_key, P.msg, sizeof P.msg);
	o.si_version = 3;
	EXPECT_FAIL(&o, SIGIL_ERR_MALFORMED, "invalid signer info version: only version 1 is supported; got 3");
	/* the signer's certificate is not embedded */
	tok_defaults(&o, P.leaf, P.leaf_key, P.msg, sizeof P.msg);
	o.omit_signer_cert = 1;
	EXPECT_FAIL(&o, SIGIL_ERR_MALFORMED, "signing certificate not found in the timestamp token");
}

static void test_gen_signing_certificate(void)
{
	tok_opts o;
	tok_defaults(&o, P.leaf, P.leaf_key, P.msg, sizeof P.msg);
	o.ess = ESS_V2_SERIAL;
	EXPECT_OK(&o);
	o.ess = ESS_V2_SHA384;
	EXPECT_OK(&o);
	/* §5.3 step 6: v1 signingCertificate is not accepted */
	o.ess = ESS_V1;
	EXPECT_FAIL(&o, SIGIL_ERR_MALFORMED, "failed to verify the timestamp countersignature with error: "
		"failed to verify signed token: failed to get SigningCertificateV2 from signed attributes");
	EXPECT_FAIL(&o, SIGIL_ERR_MALFORMED, "legacy signingCertificate");
	o.ess = ESS_NONE;
	EXPECT_FAIL(&o, SIGIL_ERR_MALFORMED, "failed to get SigningCertificateV2 from signed attributes: "
		"attribute not found");
	o.ess = ESS_V2_SHA1;
	EXPECT_FAIL(&o, SIGIL_ERR_CRYPTO, "unsupported certificate hash algorithm in SigningCertificateV2");
	/* the hash of another certificate */
	o.ess = ESS_V2_OTHER;
	o.ess_cert = P.root;
	o.extra_cert = P.root;
	EXPECT_FAIL(&o, SIGIL_ERR_CRYPTO, "signing certificate hash does not match CertHash in signed attribute");
}

static void test_gen_signed_attrs(void)
{
	tok_opts o;
	tok_defaults(&o, P.leaf, P.leaf_key, P.msg, sizeof P.msg);
	o.ct_attr = NID_pkcs7_data;
	EXPECT_FAIL(&o, SIGIL_ERR_CRYPTO, "cms verification failure: mismatch content type");
	o.ct_attr = -1;
	EXPECT_FAIL(&o, SIGIL_ERR_MALFORMED, "cms verification failure: invalid content type");
	tok_defaults(&o, P.leaf, P.leaf_key, P.msg, sizeof P.msg);
	o.bad_md_attr = 1;
	EXPECT_FAIL(&o, SIGIL_ERR_CRYPTO, "cms verification failure: mismatch message digest");
	o.bad_md_attr = 0;
	o.dup_md_attr = 1;
	EXPECT_FAIL(&o, SIGIL_ERR_MALFORMED, "cms verification failure: invalid message digest");
	/* signingTime is optional ... */
	tok_defaults(&o, P.leaf, P.leaf_key, P.msg, sizeof P.msg);
	o.signing_time_off = LONG_MIN;
	EXPECT_OK(&o);
	/* ... but when present it must lie inside every chain certificate */
	o.signing_time_off = -40L * 86400;
	EXPECT_FAIL(&o, SIGIL_ERR_POLICY, "cms verification failure: signing time, ");
	o.signing_time_off = 400L * 86400;
	EXPECT_FAIL(&o, SIGIL_ERR_POLICY, "is outside certificate's validity period");
}

static void test_gen_eku(void)
{
	tok_opts o;
	tok_defaults(&o, P.leaf_noncrit, P.leaf_key, P.msg, sizeof P.msg);
	EXPECT_FAIL(&o, SIGIL_ERR_POLICY, "failed to verify the timestamp countersignature with error: "
		"failed to verify signed token: signing certificate extended key usage extension must be set as critical");
	tok_defaults(&o, P.leaf_extra_eku, P.leaf_key, P.msg, sizeof P.msg);
	EXPECT_FAIL(&o, SIGIL_ERR_POLICY, "signing certificate must have and only have "
		"ExtKeyUsageTimeStamping as extended key usage");
	tok_defaults(&o, P.leaf_no_eku, P.leaf_key, P.msg, sizeof P.msg);
	EXPECT_FAIL(&o, SIGIL_ERR_POLICY, "signing certificate must have and only have "
		"ExtKeyUsageTimeStamping as extended key usage");
	/* an intermediate whose EKU excludes timeStamping */
	tok_defaults(&o, P.leaf_under_inter, P.leaf_key, P.msg, sizeof P.msg);
	o.extra_cert = P.inter_cs;
	EXPECT_FAIL(&o, SIGIL_ERR_POLICY, "x509: certificate specifies an incompatible key usage");
	/* a three-certificate chain */
	tok_defaults(&o, P.leaf_under_inter_ok, P.leaf_key, P.msg, sizeof P.msg);
	o.extra_cert = P.inter_ok;
	EXPECT_OK(&o);
	/* without the intermediate in the token there is no path */
	o.extra_cert = NULL;
	EXPECT_FAIL(&o, SIGIL_ERR_POLICY, "certificate signed by unknown authority");
}

static void test_gen_signer_infos(void)
{
	/* §5.3 step 6: the first SignerInfo that verifies wins */
	tok_opts o;
	tok_defaults(&o, P.leaf, P.leaf_key, P.msg, sizeof P.msg);
	o.bad_first_signer = 1;
	EXPECT_OK(&o);
	/* when none does, the last error is reported */
	o.flip_sig = 1;
	EXPECT_FAIL(&o, SIGIL_ERR_CRYPTO, "cms verification failure: signature verification failed");
}

static void test_gen_no_partial_chain(void)
{
	/* the intermediate alone is no anchor: the chain must end in a
	 * self-signed root of the store */
	tok_opts o;
	tok_defaults(&o, P.leaf_under_inter_ok, P.leaf_key, P.msg, sizeof P.msg);
	o.extra_cert = P.inter_ok;
	size_t len;
	uint8_t *tok = build_token(&o, &len);
	STACK_OF(X509) *inter = sk_X509_new_null();
	X509_up_ref(P.inter_ok);
	sk_X509_push(inter, P.inter_ok);
	sigil_error e = SIGIL_ERROR_INIT;
	STACK_OF(X509) *chain = NULL;
	CHECK_INTEQ(sigil__timestamp_verify(tok, len, P.msg, sizeof P.msg, inter, NULL, &chain, &e),
		SIGIL_STATUS_ERROR);
	CHECK_INTEQ(e.category, SIGIL_ERR_POLICY);
	CHECK(chain == NULL);
	/* with the root the chain is leaf, intermediate, root */
	CHECK_INTEQ(sigil__timestamp_verify(tok, len, P.msg, sizeof P.msg, P.roots, NULL, &chain, &e),
		SIGIL_STATUS_OK);
	CHECK(chain && sk_X509_num(chain) == 3);
	if (chain && sk_X509_num(chain) == 3)
		CHECK_INTEQ(X509_cmp(sk_X509_value(chain, 2), P.root), 0);
	free_certs(chain);
	free_certs(inter);
	free(tok);
}

int main(void)
{
	RUN(test_corpus_valid);
	RUN(test_corpus_gen_time);
	RUN(test_corpus_untrusted_tsa);
	RUN(test_corpus_wrong_signature);
	RUN(test_corpus_roots);
	RUN(test_corpus_truncated);
	RUN(test_corpus_corrupted);
	RUN(test_corpus_ber);
	pki_setup();
	RUN(test_gen_algorithms);
	RUN(test_gen_imprint);
	RUN(test_gen_accuracy);
	RUN(test_gen_time);
	RUN(test_gen_structure);
	RUN(test_gen_signing_certificate);
	RUN(test_gen_signed_attrs);
	RUN(test_gen_eku);
	RUN(test_gen_signer_infos);
	RUN(test_gen_no_partial_chain);
	pki_teardown();
	return check_summary();
}
