/* test-envelope.c - sigil__envelope_parse over every envelope of the
 * adversarial and conformance corpora, and the media-type dispatch.
 * notary-verification.md §1.3-§1.7; adversarial/CASES.md. */
#include <dirent.h>
#include <stdbool.h>
#include "envelope.h"
#include "envelope-corpus.h"

typedef enum { EXPECT_OK, EXPECT_FAIL, EXPECT_EITHER } expect_kind;

typedef struct expectation {
	const char *corpus;
	const char *name;
	int index;            /* envelope index in the case, -1 = all */
	expect_kind kind;
	sigil_category cat;   /* EXPECT_FAIL */
	const char *substr;   /* EXPECT_FAIL */
} expectation;

/* Envelopes that must NOT parse. Everything not listed must parse (the
 * test cross-checks "must parse" against each case's expected.json: a
 * passing case is never listed as failing, and a case failing integrity
 * that is not listed here must be a payload-binding or manifest defect,
 * see PAYLOAD_OR_MANIFEST below). */
static const expectation fails[] = {
	/* crit (§1.6 step 6, §8 row 1) */
	{ "adversarial", "006-jws-crit-unknown-header", -1, EXPECT_FAIL, SIGIL_ERR_UNSUPPORTED, "\"io.example.mustUnderstand\" header is marked critical but is not supported" },
	{ "adversarial", "007-cose-crit-unknown-label", -1, EXPECT_FAIL, SIGIL_ERR_UNSUPPORTED, "\"99\" header is marked critical but is not supported" },
	{ "adversarial", "008-jws-crit-lists-absent-header", -1, EXPECT_FAIL, SIGIL_ERR_MALFORMED, "\"io.example.absent\" header is marked critical but not present" },
	{ "adversarial", "009-cose-crit-lists-absent-label", -1, EXPECT_FAIL, SIGIL_ERR_MALFORMED, "\"io.example.absent\" header is marked critical but not present" },
	{ "adversarial", "010-jws-crit-missing-expiry", -1, EXPECT_FAIL, SIGIL_ERR_MALFORMED, "these required headers are not marked as critical: [io.cncf.notary.expiry]" },
	{ "adversarial", "011-cose-crit-missing-signingscheme", -1, EXPECT_FAIL, SIGIL_ERR_MALFORMED, "these required headers are not marked as critical: [io.cncf.notary.signingScheme]" },
	{ "adversarial", "012-jws-crit-duplicate-entry", -1, EXPECT_FAIL, SIGIL_ERR_MALFORMED, "marked critical more than once" },
	{ "adversarial", "013-cose-crit-duplicate-entry", -1, EXPECT_FAIL, SIGIL_ERR_MALFORMED, "marked critical more than once" },
	/* algorithms (§1.5) */
	{ "adversarial", "014-jws-alg-ps384-rsa2048-key", -1, EXPECT_FAIL, SIGIL_ERR_MALFORMED, "mismatch between signature algorithm derived from signing certificate (PS256) and signing algorithm specified (PS384)" },
	{ "adversarial", "015-cose-alg-ps384-rsa2048-key", -1, EXPECT_FAIL, SIGIL_ERR_MALFORMED, "(PS256) and signing algorithm specified (PS384)" },
	{ "adversarial", "016-jws-alg-es256-p384-key", -1, EXPECT_FAIL, SIGIL_ERR_MALFORMED, "(ES384) and signing algorithm specified (ES256)" },
	{ "adversarial", "017-cose-alg-es256-p384-key", -1, EXPECT_FAIL, SIGIL_ERR_MALFORMED, "(ES384) and signing algorithm specified (ES256)" },
	{ "adversarial", "018-jws-alg-rs256", -1, EXPECT_FAIL, SIGIL_ERR_UNSUPPORTED, "signature algorithm \"RS256\" is not supported" },
	{ "adversarial", "019-cose-alg-rs256", -1, EXPECT_FAIL, SIGIL_ERR_UNSUPPORTED, "signature algorithm \"-257\" is not supported" },
	/* alg none comes with an empty signature, refused first */
	{ "adversarial", "020-jws-alg-none", -1, EXPECT_FAIL, SIGIL_ERR_MALFORMED, "signature is empty" },
	{ "adversarial", "021-jws-alg-hs256", -1, EXPECT_FAIL, SIGIL_ERR_UNSUPPORTED, "signature algorithm \"HS256\" is not supported" },
	{ "adversarial", "022-cose-alg-hmac256", -1, EXPECT_FAIL, SIGIL_ERR_UNSUPPORTED, "signature algorithm \"5\" is not supported" },
	{ "adversarial", "023-jws-leaf-rsa1024", -1, EXPECT_FAIL, SIGIL_ERR_UNSUPPORTED, "rsa key size 1024 bits is not supported" },
	{ "adversarial", "024-cose-leaf-rsa8192", -1, EXPECT_FAIL, SIGIL_ERR_UNSUPPORTED, "rsa key size 8192 bits is not supported" },
	{ "adversarial", "025-jws-leaf-ec-p224", -1, EXPECT_FAIL, SIGIL_ERR_UNSUPPORTED, "ecdsa key size 224 bits is not supported" },
	/* certificate chain structure (certchain.c, §1.9) */
	{ "adversarial", "026-jws-leaf-eku-anyextendedkeyusage", -1, EXPECT_FAIL, SIGIL_ERR_NONE, "" },
	{ "adversarial", "027-cose-leaf-eku-codesigning-serverauth", -1, EXPECT_FAIL, SIGIL_ERR_NONE, "" },
	{ "adversarial", "028-jws-leaf-basicconstraints-ca-true", -1, EXPECT_FAIL, SIGIL_ERR_NONE, "" },
	{ "adversarial", "029-cose-intermediate-without-keycertsign", -1, EXPECT_FAIL, SIGIL_ERR_NONE, "" },
	{ "adversarial", "030-jws-intermediate-basicconstraints-noncritical", -1, EXPECT_FAIL, SIGIL_ERR_NONE, "" },
	{ "adversarial", "031-cose-root-pathlen0-with-intermediate", -1, EXPECT_FAIL, SIGIL_ERR_NONE, "" },
	{ "adversarial", "032-jws-chain-out-of-order", -1, EXPECT_FAIL, SIGIL_ERR_NONE, "" },
	{ "adversarial", "033-cose-chain-without-root", -1, EXPECT_FAIL, SIGIL_ERR_NONE, "" },
	{ "adversarial", "034-jws-chain-duplicate-intermediate", -1, EXPECT_FAIL, SIGIL_ERR_NONE, "" },
	/* signed attributes (§1.3) */
	{ "adversarial", "035-jws-signingscheme-unknown", -1, EXPECT_FAIL, SIGIL_ERR_UNSUPPORTED, "unsupported SigningScheme" },
	{ "adversarial", "036-cose-signingtime-missing", -1, EXPECT_FAIL, SIGIL_ERR_MALFORMED, "signing-time not present" },
	{ "adversarial", "038-jws-authenticsigningtime-under-x509", -1, EXPECT_FAIL, SIGIL_ERR_MALFORMED, "\"io.cncf.notary.authenticSigningTime\" header must not be present for notary.x509 signing scheme" },
	{ "adversarial", "039-cose-authenticsigningtime-under-x509", -1, EXPECT_FAIL, SIGIL_ERR_MALFORMED, "\"io.cncf.notary.authenticSigningTime\" header must not be present for notary.x509 signing scheme" },
	{ "adversarial", "041-jws-cty-wrong", -1, EXPECT_FAIL, SIGIL_ERR_UNSUPPORTED, "payload content type \"application/json\" not supported" },
	{ "adversarial", "042-cose-cty-wrong", -1, EXPECT_FAIL, SIGIL_ERR_UNSUPPORTED, "payload content type \"application/vnd.oci.image.manifest.v1+json\" not supported" },
	/* json-c keeps the last duplicate (RFC 7515 §4 allows it) */
	{ "adversarial", "048-jws-protected-duplicate-cty-last-wrong", -1, EXPECT_FAIL, SIGIL_ERR_UNSUPPORTED, "payload content type \"application/json\" not supported" },
	{ "adversarial", "049-jws-protected-duplicate-cty-last-right", -1, EXPECT_EITHER, SIGIL_ERR_NONE, NULL },
	/* golang-jwt needs a JSON object payload (§1.6 step 3) */
	{ "adversarial", "050-jws-payload-not-json", -1, EXPECT_FAIL, SIGIL_ERR_MALFORMED, "signature is invalid. Error: payload" },
	/* COSE payload JSON is the verifier's payload step */
	{ "adversarial", "051-cose-payload-not-json", -1, EXPECT_EITHER, SIGIL_ERR_NONE, NULL },
	/* encodings (RFC 7515 §2, §4.1.6) */
	{ "adversarial", "052-jws-b64-protected-padded", -1, EXPECT_FAIL, SIGIL_ERR_MALFORMED, "protected header: illegal base64 data" },
	{ "adversarial", "053-jws-b64-signature-std-alphabet", -1, EXPECT_FAIL, SIGIL_ERR_MALFORMED, "signature: illegal base64 data" },
	{ "adversarial", "054-jws-b64-payload-std-alphabet", -1, EXPECT_FAIL, SIGIL_ERR_MALFORMED, "payload: illegal base64 data" },
	{ "adversarial", "055-jws-x5c-base64url", -1, EXPECT_FAIL, SIGIL_ERR_MALFORMED, "x5c[0]" },
	{ "adversarial", "056-jws-x5c-empty", -1, EXPECT_FAIL, SIGIL_ERR_MALFORMED, "certificate chain is not present" },
	{ "adversarial", "057-jws-header-param-protected-and-unprotected", -1, EXPECT_FAIL, SIGIL_ERR_MALFORMED, "header must not appear in both the protected and unprotected header" },
	{ "adversarial", "058-jws-extra-top-level-member", -1, EXPECT_FAIL, SIGIL_ERR_MALFORMED, "unexpected member \"signatures\"" },
	/* JWS PSS salt is AUTO (§8 row 22): salt 0 verifies */
	{ "adversarial", "059-jws-pss-salt-zero", -1, EXPECT_EITHER, SIGIL_ERR_NONE, NULL },
	{ "adversarial", "060-cose-pss-salt-max", -1, EXPECT_FAIL, SIGIL_ERR_CRYPTO, "signature is invalid. Error:" },
	{ "adversarial", "061-jws-ecdsa-der-signature", -1, EXPECT_FAIL, SIGIL_ERR_MALFORMED, "ecdsa signature is 71 bytes, expected 64" },
	{ "adversarial", "062-cose-untagged", -1, EXPECT_FAIL, SIGIL_ERR_MALFORMED, "invalid COSE_Sign1_Tagged object" },
	{ "adversarial", "063-cose-x5chain-single-bstr", -1, EXPECT_FAIL, SIGIL_ERR_MALFORMED, "certificate chain is not present" },
	{ "adversarial", "065-cose-signingtime-untagged", -1, EXPECT_FAIL, SIGIL_ERR_MALFORMED, "invalid timeValue type" },
	{ "adversarial", "066-cose-unprotected-indefinite-map", -1, EXPECT_EITHER, SIGIL_ERR_NONE, NULL },
	{ "adversarial", "067-cose-trailing-bytes", -1, EXPECT_FAIL, SIGIL_ERR_MALFORMED, "2 bytes of extraneous data" },
	/* a JWS stored under layer media type application/cose */
	{ "adversarial", "068-manifest-layer-mediatype-mismatch", -1, EXPECT_FAIL, SIGIL_ERR_MALFORMED, "invalid COSE_Sign1_Tagged object" },
	/* conformance: chain structure and tampered signatures */
	{ "conformance", "047-leaf-serverauth-eku", -1, EXPECT_FAIL, SIGIL_ERR_NONE, "" },
	{ "conformance", "048-jws-leaf-serverauth-eku", -1, EXPECT_FAIL, SIGIL_ERR_NONE, "" },
	{ "conformance", "050-jws-tampered-signature", -1, EXPECT_FAIL, SIGIL_ERR_CRYPTO, "signature is invalid. Error:" },
	{ "conformance", "051-cose-tampered-signature", -1, EXPECT_FAIL, SIGIL_ERR_CRYPTO, "signature is invalid. Error:" },
	{ "conformance", "052-tampered-signature-audit", -1, EXPECT_FAIL, SIGIL_ERR_CRYPTO, "signature is invalid. Error:" },
	{ "conformance", "057-multi-tampered-and-good", 0, EXPECT_FAIL, SIGIL_ERR_CRYPTO, "signature is invalid. Error:" },
};

/* Adversarial cases failing integrity whose defect is not in the envelope
 * (payload binding, checked by the verifier after parsing). */
static const char *const payload_defects[] = {
	"043-cose-payload-size-mismatch", "044-jws-payload-mediatype-mismatch",
	"046-cose-payload-duplicate-key-last-wrong", "047-jws-payload-duplicate-key-last-wrong",
};

static const expectation *find_expectation(const char *corpus, const char *name, int index)
{
	for (size_t i = 0; i < sizeof(fails) / sizeof(fails[0]); i++)
		if (strcmp(fails[i].corpus, corpus) == 0 && strcmp(fails[i].name, name) == 0 &&
		    (fails[i].index < 0 || fails[i].index == index))
			return &fails[i];
	return NULL;
}

static bool is_payload_defect(const char *name)
{
	for (size_t i = 0; i < sizeof(payload_defects) / sizeof(payload_defects[0]); i++)
		if (strcmp(payload_defects[i], name) == 0)
			return true;
	return false;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void walk_corpus(const char *corpus, int *n_envelopes)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/%s/cases", CORPUS_DIR, corpus);
	DIR *d = opendir(dir);
	CHECK(d != NULL);
	if (!d)
		return;
	char *names[512];
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL && n < 512)
		if (e->d_name[0] != '.')
			names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		char cdir[8192], path[8400];
		snprintf(cdir, sizeof cdir, "%s/%s", dir, names[i]);
		snprintf(path, sizeof path, "%s/expected.json", cdir);
		json_object *exp = corpus_read_json(path);
		const char *verdict = corpus_str(exp, "verdict");
		const char *check = corpus_str(exp, "failing_check");
		corpus_envelope envs[CORPUS_MAX_ENVELOPES];
		size_t k = corpus_envelopes(cdir, envs, CORPUS_MAX_ENVELOPES);
		bool adv = strcmp(corpus, "adversarial") == 0;
		for (size_t j = 0; j < k; j++) {
			const expectation *x = find_expectation(corpus, names[i], (int)j);
			/* cross-check the table against expected.json */
			if (adv && verdict && strcmp(verdict, "pass") == 0)
				CHECK(!x || x->kind != EXPECT_FAIL);
			if (adv && verdict && strcmp(verdict, "fail") == 0 && check &&
			    strcmp(check, "integrity") == 0 && !x && !is_payload_defect(names[i])) {
				fprintf(stderr, "  unlisted integrity failure: %s\n", names[i]);
				CHECK(x != NULL);
			}
			sigil_error err = SIGIL_ERROR_INIT;
			sigil__envelope *env = NULL;
			sigil_status st = sigil__envelope_parse(envs[j].media_type, envs[j].buf, envs[j].len,
				&env, &err);
			(*n_envelopes)++;
			if (!x || x->kind == EXPECT_OK) {
				if (st != SIGIL_STATUS_OK)
					fprintf(stderr, "  %s/%s[%zu]: unexpected failure: %s\n", corpus, names[i], j,
						err.message);
				CHECK(st == SIGIL_STATUS_OK);
			} else if (x->kind == EXPECT_FAIL) {
				if (st == SIGIL_STATUS_OK)
					fprintf(stderr, "  %s/%s[%zu]: unexpectedly parsed\n", corpus, names[i], j);
				CHECK(st == SIGIL_STATUS_ERROR);
				CHECK(env == NULL);
				if (x->cat != SIGIL_ERR_NONE)
					CHECK_INTEQ(err.category, x->cat);
				if (st == SIGIL_STATUS_ERROR && x->substr[0])
					CHECK_CONTAINS(err.message, x->substr);
			}
			if (st == SIGIL_STATUS_OK) {
				CHECK(env->chain && sk_X509_num(env->chain) > 0);
				CHECK(env->payload_len > 0 && env->signature_len > 0);
				CHECK(env->signed_input == NULL); /* released after verification */
			}
			sigil__envelope_free(env);
			free(envs[j].buf);
		}
		json_object_put(exp);
		free(names[i]);
	}
}

static void test_adversarial_corpus(void)
{
	int n = 0;
	walk_corpus("adversarial", &n);
	CHECK(n >= 71);
}

static void test_conformance_corpus(void)
{
	int n = 0;
	walk_corpus("conformance", &n);
	CHECK(n >= 75);
}

static void test_media_type(void)
{
	size_t len = 0;
	unsigned char *buf = corpus_envelope_of("adversarial", "001-jws-baseline-rsa2048", &len);
	sigil_error err = SIGIL_ERROR_INIT;
	sigil__envelope *env = NULL;
	CHECK(sigil__envelope_parse("application/json", buf, len, &env, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_UNSUPPORTED);
	CHECK_STREQ(err.message,
		"signature envelope format with media type \"application/json\" is not supported");
	CHECK(env == NULL);
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(sigil__envelope_parse(NULL, buf, len, &env, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_UNSUPPORTED);
	/* the JWS under the COSE media type */
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(sigil__envelope_parse(SIGIL_MEDIA_TYPE_COSE, buf, len, &env, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_MALFORMED);
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(sigil__envelope_parse(SIGIL_MEDIA_TYPE_JWS, buf, len, &env, &err) == SIGIL_STATUS_OK);
	CHECK(env != NULL);
	CHECK_INTEQ(err.category, SIGIL_ERR_NONE); /* untouched on success */
	if (env) {
		CHECK_INTEQ(env->format, SIGIL_ENVELOPE_JWS);
		CHECK_INTEQ(env->alg, SIGIL_SIGALG_PS256);
	}
	sigil__envelope_free(env);
	sigil__envelope_free(NULL);
	free(buf);
}

static void test_plugin_returned(void)
{
	/* §4.6: a verification-plugin attribute does not fail here. */
	size_t len = 0;
	unsigned char *buf = corpus_envelope_of("adversarial", "040-cose-verificationplugin-absent", &len);
	sigil_error err = SIGIL_ERROR_INIT;
	sigil__envelope *env = NULL;
	CHECK(sigil__envelope_parse(SIGIL_MEDIA_TYPE_COSE, buf, len, &env, &err) == SIGIL_STATUS_OK);
	CHECK(env && env->verification_plugin && env->verification_plugin[0]);
	sigil__envelope_free(env);
	free(buf);
}

static void test_expiry_before_signing_time_parses(void)
{
	/* envelope.h: expiry <= signing time is left to the expiry check. */
	size_t len = 0;
	unsigned char *buf = corpus_envelope_of("adversarial", "037-jws-expiry-before-signingtime", &len);
	sigil_error err = SIGIL_ERROR_INIT;
	sigil__envelope *env = NULL;
	CHECK(sigil__envelope_parse(SIGIL_MEDIA_TYPE_JWS, buf, len, &env, &err) == SIGIL_STATUS_OK);
	CHECK(env && env->has_expiry && env->expiry <= env->signing_time);
	sigil__envelope_free(env);
	free(buf);
}

static void test_timestamps(void)
{
	const char *cases[] = { "063-ts-jws-valid", "064-ts-cose-valid" };
	const char *types[] = { SIGIL_MEDIA_TYPE_JWS, SIGIL_MEDIA_TYPE_COSE };
	for (int i = 0; i < 2; i++) {
		size_t len = 0;
		unsigned char *buf = corpus_envelope_of("conformance", cases[i], &len);
		sigil_error err = SIGIL_ERROR_INIT;
		sigil__envelope *env = NULL;
		CHECK(sigil__envelope_parse(types[i], buf, len, &env, &err) == SIGIL_STATUS_OK);
		/* a DER SEQUENCE (CMS ContentInfo) */
		CHECK(env && env->timestamp && env->timestamp_len > 100 && env->timestamp[0] == 0x30);
		sigil__envelope_free(env);
		free(buf);
	}
}

int main(void)
{
	RUN(test_adversarial_corpus);
	RUN(test_conformance_corpus);
	RUN(test_media_type);
	RUN(test_plugin_returned);
	RUN(test_expiry_before_signing_time_parses);
	RUN(test_timestamps);
	return check_summary();
}
