/* test-sigalg.c - algorithms bound to keys and primitive verification,
 * notary-verification.md §1.5. Keys are generated at run time. */
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>
#include "sigalg.h"
#include "check.h"

static EVP_PKEY *rsa_key(unsigned bits)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	if (!k)
		exit(2);
	return k;
}

static EVP_PKEY *ec_key(const char *curve)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
	if (!k)
		exit(2);
	return k;
}

static const uint8_t msg[] = "eyJhbGciOiJQUzI1NiJ9.eyJ0YXJnZXRBcnRpZmFjdCI6e319";

/* RSASSA-PSS with an explicit salt length, or ECDSA (DER) */
static size_t sign(EVP_PKEY *key, const EVP_MD *md, int saltlen, uint8_t *sig, size_t cap)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	size_t n = cap;
	if (EVP_DigestSignInit(ctx, &pctx, md, NULL, key) != 1)
		exit(2);
	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) {
		if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
		    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1 ||
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, saltlen) != 1)
			exit(2);
	}
	if (EVP_DigestSign(ctx, sig, &n, msg, sizeof(msg) - 1) != 1)
		exit(2);
	EVP_MD_CTX_free(ctx);
	return n;
}

/* DER ECDSA-Sig-Value to raw r||s */
static size_t der_to_raw(const uint8_t *der, size_t der_len, size_t coord, uint8_t *raw)
{
	const unsigned char *p = der;
	ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	if (!es)
		exit(2);
	memset(raw, 0, 2 * coord);
	BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, (int)coord);
	BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + coord, (int)coord);
	ECDSA_SIG_free(es);
	return 2 * coord;
}

static void expect_key(EVP_PKEY *k, sigil_status st_want, sigil__sigalg want, const char *msg_want)
{
	sigil_error err = SIGIL_ERROR_INIT;
	sigil__sigalg got = SIGIL_SIGALG_NONE;
	sigil_status st = sigil__sigalg_from_key(k, &got, &err);
	CHECK_INTEQ(st, st_want);
	if (st_want == SIGIL_STATUS_OK) {
		CHECK_INTEQ(got, want);
		CHECK_INTEQ(err.category, SIGIL_ERR_NONE);
	} else {
		CHECK_INTEQ(got, SIGIL_SIGALG_NONE); /* output untouched */
		CHECK_INTEQ(err.category, SIGIL_ERR_UNSUPPORTED);
		CHECK_STREQ(err.message, msg_want);
	}
}

static EVP_PKEY *k_rsa2048, *k_p256, *k_p384, *k_p521;

static void test_from_key(void)
{
	expect_key(k_rsa2048, SIGIL_STATUS_OK, SIGIL_SIGALG_PS256, NULL);
	EVP_PKEY *k = rsa_key(3072);
	expect_key(k, SIGIL_STATUS_OK, SIGIL_SIGALG_PS384, NULL);
	EVP_PKEY_free(k);
	expect_key(k_p256, SIGIL_STATUS_OK, SIGIL_SIGALG_ES256, NULL);
	expect_key(k_p384, SIGIL_STATUS_OK, SIGIL_SIGALG_ES384, NULL);
	expect_key(k_p521, SIGIL_STATUS_OK, SIGIL_SIGALG_ES512, NULL);
	/* exact sizes only (§1.5 [IMPL]) */
	k = rsa_key(1024);
	expect_key(k, SIGIL_STATUS_ERROR, 0, "rsa key size 1024 bits is not supported");
	EVP_PKEY_free(k);
	k = rsa_key(2056);
	expect_key(k, SIGIL_STATUS_ERROR, 0, "rsa key size 2056 bits is not supported");
	EVP_PKEY_free(k);
	k = ec_key("P-224");
	expect_key(k, SIGIL_STATUS_ERROR, 0, "ecdsa key size 224 bits is not supported");
	EVP_PKEY_free(k);
	/* 256 bits but not P-256 */
	k = ec_key("secp256k1");
	expect_key(k, SIGIL_STATUS_ERROR, 0, "ecdsa key size 256 bits is not supported");
	EVP_PKEY_free(k);
	k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	expect_key(k, SIGIL_STATUS_ERROR, 0, "unsupported public key type");
	EVP_PKEY_free(k);
	expect_key(NULL, SIGIL_STATUS_ERROR, 0, "unsupported public key type");
}

static void test_from_jws(void)
{
	const char *names[] = { "PS256", "PS384", "PS512", "ES256", "ES384", "ES512" };
	sigil__sigalg want[] = { SIGIL_SIGALG_PS256, SIGIL_SIGALG_PS384, SIGIL_SIGALG_PS512,
		SIGIL_SIGALG_ES256, SIGIL_SIGALG_ES384, SIGIL_SIGALG_ES512 };
	for (int i = 0; i < 6; i++) {
		sigil_error err = SIGIL_ERROR_INIT;
		sigil__sigalg got = SIGIL_SIGALG_NONE;
		CHECK(sigil__sigalg_from_jws(names[i], &got, &err) == SIGIL_STATUS_OK);
		CHECK_INTEQ(got, want[i]);
		CHECK_STREQ(sigil__sigalg_name(got), names[i]);
	}
	const char *bad[] = { "none", "HS256", "RS256", "ps256", "PS256 ", "EdDSA", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sigil_error err = SIGIL_ERROR_INIT;
		sigil__sigalg got = SIGIL_SIGALG_NONE;
		char want_msg[64];
		snprintf(want_msg, sizeof want_msg, "signature algorithm \"%s\" is not supported", bad[i]);
		CHECK(sigil__sigalg_from_jws(bad[i], &got, &err) == SIGIL_STATUS_ERROR);
		CHECK_INTEQ(err.category, SIGIL_ERR_UNSUPPORTED);
		CHECK_STREQ(err.message, want_msg);
		CHECK_INTEQ(got, SIGIL_SIGALG_NONE);
	}
}

static void test_from_cose(void)
{
	int64_t labels[] = { -37, -38, -39, -7, -35, -36 };
	sigil__sigalg want[] = { SIGIL_SIGALG_PS256, SIGIL_SIGALG_PS384, SIGIL_SIGALG_PS512,
		SIGIL_SIGALG_ES256, SIGIL_SIGALG_ES384, SIGIL_SIGALG_ES512 };
	for (int i = 0; i < 6; i++) {
		sigil_error err = SIGIL_ERROR_INIT;
		sigil__sigalg got = SIGIL_SIGALG_NONE;
		CHECK(sigil__sigalg_from_cose(labels[i], &got, &err) == SIGIL_STATUS_OK);
		CHECK_INTEQ(got, want[i]);
	}
	int64_t bad[] = { -257, 5, 0, -8, 1 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sigil_error err = SIGIL_ERROR_INIT;
		sigil__sigalg got = SIGIL_SIGALG_NONE;
		CHECK(sigil__sigalg_from_cose(bad[i], &got, &err) == SIGIL_STATUS_ERROR);
		CHECK_INTEQ(err.category, SIGIL_ERR_UNSUPPORTED);
		CHECK_CONTAINS(err.message, "is not supported");
	}
}

static void test_md_and_lengths(void)
{
	/* fetched once (sigil__md_sha256...), so compared by type, not address */
	CHECK_INTEQ(EVP_MD_get_type(sigil__sigalg_md(SIGIL_SIGALG_PS256)), NID_sha256);
	CHECK_INTEQ(EVP_MD_get_type(sigil__sigalg_md(SIGIL_SIGALG_ES384)), NID_sha384);
	CHECK_INTEQ(EVP_MD_get_type(sigil__sigalg_md(SIGIL_SIGALG_PS512)), NID_sha512);
	CHECK(sigil__sigalg_md(SIGIL_SIGALG_PS256) == sigil__md_sha256());
	CHECK(sigil__md_sha256() == sigil__md_sha256());
	CHECK(sigil__sigalg_md(SIGIL_SIGALG_NONE) == NULL);
	CHECK_INTEQ(sigil__sigalg_hash_len(SIGIL_SIGALG_ES256), 32);
	CHECK_INTEQ(sigil__sigalg_hash_len(SIGIL_SIGALG_PS384), 48);
	CHECK_INTEQ(sigil__sigalg_hash_len(SIGIL_SIGALG_ES512), 64);
	CHECK_INTEQ(sigil__sigalg_hash_len(SIGIL_SIGALG_NONE), 0);
}

static sigil_status verify(sigil__sigalg alg, sigil__pss_salt salt, EVP_PKEY *k, const uint8_t *sig,
	size_t n, sigil_error *err)
{
	return sigil__sigalg_verify(alg, salt, k, msg, sizeof(msg) - 1, sig, n, err);
}

static void test_verify_pss_salt(void)
{
	uint8_t sig[512];
	sigil_error err = SIGIL_ERROR_INIT;
	/* salt == hash length: both rules accept */
	size_t n = sign(k_rsa2048, EVP_sha256(), RSA_PSS_SALTLEN_DIGEST, sig, sizeof sig);
	CHECK(verify(SIGIL_SIGALG_PS256, SIGIL_PSS_SALT_AUTO, k_rsa2048, sig, n, &err) == SIGIL_STATUS_OK);
	CHECK(verify(SIGIL_SIGALG_PS256, SIGIL_PSS_SALT_HASH_LEN, k_rsa2048, sig, n, &err) == SIGIL_STATUS_OK);
	CHECK_INTEQ(err.category, SIGIL_ERR_NONE);
	/* salt 0 and max: JWS (AUTO) accepts, COSE (hash length) refuses (§8 row 22) */
	int salts[] = { 0, RSA_PSS_SALTLEN_MAX };
	for (int i = 0; i < 2; i++) {
		n = sign(k_rsa2048, EVP_sha256(), salts[i], sig, sizeof sig);
		err = (sigil_error)SIGIL_ERROR_INIT;
		CHECK(verify(SIGIL_SIGALG_PS256, SIGIL_PSS_SALT_AUTO, k_rsa2048, sig, n, &err) == SIGIL_STATUS_OK);
		CHECK(verify(SIGIL_SIGALG_PS256, SIGIL_PSS_SALT_HASH_LEN, k_rsa2048, sig, n, &err) ==
			SIGIL_STATUS_ERROR);
		CHECK_INTEQ(err.category, SIGIL_ERR_CRYPTO);
		CHECK_STREQ(err.message, "signature is invalid. Error: the signature value does not verify with the signing certificate's RSA key");
	}
	/* a different hash than the algorithm's */
	n = sign(k_rsa2048, EVP_sha384(), RSA_PSS_SALTLEN_DIGEST, sig, sizeof sig);
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(verify(SIGIL_SIGALG_PS256, SIGIL_PSS_SALT_AUTO, k_rsa2048, sig, n, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_CRYPTO);
	/* tampered */
	n = sign(k_rsa2048, EVP_sha256(), RSA_PSS_SALTLEN_DIGEST, sig, sizeof sig);
	sig[10] ^= 1;
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(verify(SIGIL_SIGALG_PS256, SIGIL_PSS_SALT_AUTO, k_rsa2048, sig, n, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_CRYPTO);
	/* empty */
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(verify(SIGIL_SIGALG_PS256, SIGIL_PSS_SALT_AUTO, k_rsa2048, sig, 0, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_MALFORMED);
	/* PKCS#1 v1.5 (RS256) is not PSS */
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	n = sizeof sig;
	if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k_rsa2048) != 1 ||
	    EVP_DigestSign(ctx, sig, &n, msg, sizeof(msg) - 1) != 1)
		exit(2);
	EVP_MD_CTX_free(ctx);
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(verify(SIGIL_SIGALG_PS256, SIGIL_PSS_SALT_AUTO, k_rsa2048, sig, n, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_CRYPTO);
}

static void test_verify_ecdsa(void)
{
	struct { EVP_PKEY **k; const EVP_MD *(*md)(void); sigil__sigalg alg; size_t coord; } cases[] = {
		{ &k_p256, EVP_sha256, SIGIL_SIGALG_ES256, 32 },
		{ &k_p384, EVP_sha384, SIGIL_SIGALG_ES384, 48 },
		{ &k_p521, EVP_sha512, SIGIL_SIGALG_ES512, 66 },
	};
	for (int i = 0; i < 3; i++) {
		uint8_t der[256], raw[200];
		sigil_error err = SIGIL_ERROR_INIT;
		size_t dn = sign(*cases[i].k, cases[i].md(), 0, der, sizeof der);
		size_t rn = der_to_raw(der, dn, cases[i].coord, raw);
		CHECK_INTEQ(rn, 2 * cases[i].coord);
		CHECK(verify(cases[i].alg, SIGIL_PSS_SALT_AUTO, *cases[i].k, raw, rn, &err) == SIGIL_STATUS_OK);
		/* DER instead of raw r||s (adversarial 061) */
		CHECK(verify(cases[i].alg, SIGIL_PSS_SALT_AUTO, *cases[i].k, der, dn, &err) == SIGIL_STATUS_ERROR);
		CHECK_INTEQ(err.category, SIGIL_ERR_MALFORMED);
		CHECK_CONTAINS(err.message, "signature is invalid. Error: ecdsa signature is");
		/* one byte short */
		err = (sigil_error)SIGIL_ERROR_INIT;
		CHECK(verify(cases[i].alg, SIGIL_PSS_SALT_AUTO, *cases[i].k, raw, rn - 1, &err) == SIGIL_STATUS_ERROR);
		CHECK_INTEQ(err.category, SIGIL_ERR_MALFORMED);
		/* tampered */
		raw[rn - 1] ^= 0x80;
		err = (sigil_error)SIGIL_ERROR_INIT;
		CHECK(verify(cases[i].alg, SIGIL_PSS_SALT_AUTO, *cases[i].k, raw, rn, &err) == SIGIL_STATUS_ERROR);
		CHECK_INTEQ(err.category, SIGIL_ERR_CRYPTO);
		CHECK_STREQ(err.message, "signature is invalid. Error: the signature value does not verify with the signing certificate's ECDSA key");
	}
	/* zero r and s */
	uint8_t zero[64] = { 0 };
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(verify(SIGIL_SIGALG_ES256, SIGIL_PSS_SALT_AUTO, k_p256, zero, 64, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_CRYPTO);
}

static void test_verify_key_mismatch(void)
{
	uint8_t sig[512];
	sigil_error err = SIGIL_ERROR_INIT;
	/* ES256 with a P-384 key (adversarial 016): never split r||s wrongly */
	uint8_t der[256], raw[96];
	size_t dn = sign(k_p384, EVP_sha256(), 0, der, sizeof der);
	size_t rn = der_to_raw(der, dn, 48, raw);
	CHECK(verify(SIGIL_SIGALG_ES256, SIGIL_PSS_SALT_AUTO, k_p384, raw, rn, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_CRYPTO);
	CHECK_CONTAINS(err.message, "key curve does not match");
	/* a PS algorithm with an EC key, and ES with RSA */
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(verify(SIGIL_SIGALG_PS256, SIGIL_PSS_SALT_AUTO, k_p256, sig, 64, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_CRYPTO);
	CHECK_CONTAINS(err.message, "key type does not match");
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(verify(SIGIL_SIGALG_ES256, SIGIL_PSS_SALT_AUTO, k_rsa2048, sig, 64, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_CRYPTO);
	/* no algorithm */
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(verify(SIGIL_SIGALG_NONE, SIGIL_PSS_SALT_AUTO, k_rsa2048, sig, 64, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_UNSUPPORTED);
}

int main(void)
{
	k_rsa2048 = rsa_key(2048);
	k_p256 = ec_key("P-256");
	k_p384 = ec_key("P-384");
	k_p521 = ec_key("P-521");
	RUN(test_from_key);
	RUN(test_from_jws);
	RUN(test_from_cose);
	RUN(test_md_and_lengths);
	RUN(test_verify_pss_salt);
	RUN(test_verify_ecdsa);
	RUN(test_verify_key_mismatch);
	EVP_PKEY_free(k_rsa2048);
	EVP_PKEY_free(k_p256);
	EVP_PKEY_free(k_p384);
	EVP_PKEY_free(k_p521);
	return check_summary();
}
