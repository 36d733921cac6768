/* sigalg.c - the signature algorithms of notary-verification.md §1.5, bound
 * to the signing key, and primitive signature verification. */
#include <pthread.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include "sigalg.h"
#include "cleanup.h"
#include "errors.h"

static inline void ECDSA_SIG_freep(ECDSA_SIG **p) { ECDSA_SIG_free(*p); }
static inline void BN_freep(BIGNUM **p) { BN_free(*p); }

static const struct {
	sigil__sigalg alg;
	const char *jws;
	int64_t cose;    /* RFC 9053 §2.1 (ECDSA), RFC 8230 §2 (PSS) */
	size_t hash_len;
	size_t ec_coord; /* ECDSA: bytes per coordinate, 0 for RSA */
} algs[] = {
	{ SIGIL_SIGALG_PS256, "PS256", -37, 32, 0 },
	{ SIGIL_SIGALG_PS384, "PS384", -38, 48, 0 },
	{ SIGIL_SIGALG_PS512, "PS512", -39, 64, 0 },
	{ SIGIL_SIGALG_ES256, "ES256", -7, 32, 32 },
	{ SIGIL_SIGALG_ES384, "ES384", -35, 48, 48 },
	{ SIGIL_SIGALG_ES512, "ES512", -36, 64, 66 },
};

#define N_ALGS (sizeof(algs) / sizeof(algs[0]))

static int alg_index(sigil__sigalg alg)
{
	for (size_t i = 0; i < N_ALGS; i++)
		if (algs[i].alg == alg)
			return (int)i;
	return -1;
}

sigil_status sigil__sigalg_from_key(EVP_PKEY *key, sigil__sigalg *out, sigil_error *err)
{
	if (!key)
		return sigil__err(err, SIGIL_ERR_UNSUPPORTED, "unsupported public key type");
	int bits = EVP_PKEY_get_bits(key);
	/* Only these exact sizes/curves (§1.5 [IMPL] ExtractKeySpec): RSA-2049
	 * or RSA-8192 are rejected, not rounded. An RSASSA-PSS-only key
	 * (id-RSASSA-PSS SPKI) is not a key type Go's x509 accepts. */
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_RSA:
		switch (bits) {
		case 2048: *out = SIGIL_SIGALG_PS256; return SIGIL_STATUS_OK;
		case 3072: *out = SIGIL_SIGALG_PS384; return SIGIL_STATUS_OK;
		case 4096: *out = SIGIL_SIGALG_PS512; return SIGIL_STATUS_OK;
		default:
			return sigil__err(err, SIGIL_ERR_UNSUPPORTED,
				"rsa key size %d bits is not supported", bits);
		}
	case EVP_PKEY_EC: {
		char curve[64] = { 0 };
		size_t clen = 0;
		if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, curve,
			    sizeof(curve), &clen) != 1) {
			ERR_clear_error();
			return sigil__err(err, SIGIL_ERR_UNSUPPORTED,
				"ecdsa key size %d bits is not supported", bits);
		}
		int nid = OBJ_sn2nid(curve);
		if (nid == NID_undef)
			nid = EC_curve_nist2nid(curve);
		if (nid == NID_X9_62_prime256v1 && bits == 256) {
			*out = SIGIL_SIGALG_ES256;
			return SIGIL_STATUS_OK;
		}
		if (nid == NID_secp384r1 && bits == 384) {
			*out = SIGIL_SIGALG_ES384;
			return SIGIL_STATUS_OK;
		}
		if (nid == NID_secp521r1 && bits == 521) {
			*out = SIGIL_SIGALG_ES512;
			return SIGIL_STATUS_OK;
		}
		return sigil__err(err, SIGIL_ERR_UNSUPPORTED, "ecdsa key size %d bits is not supported",
			bits);
	}
	default:
		return sigil__err(err, SIGIL_ERR_UNSUPPORTED, "unsupported public key type");
	}
}

sigil_status sigil__sigalg_from_jws(const char *name, sigil__sigalg *out, sigil_error *err)
{
	/* §1.5: none, HMAC, RS256 and every other JOSE alg are refused. */
	for (size_t i = 0; name && i < N_ALGS; i++) {
		if (strcmp(name, algs[i].jws) == 0) {
			*out = algs[i].alg;
			return SIGIL_STATUS_OK;
		}
	}
	return sigil__err(err, SIGIL_ERR_UNSUPPORTED, "signature algorithm \"%s\" is not supported",
		name ? name : "");
}

sigil_status sigil__sigalg_from_cose(int64_t label, sigil__sigalg *out, sigil_error *err)
{
	for (size_t i = 0; i < N_ALGS; i++) {
		if (label == algs[i].cose) {
			*out = algs[i].alg;
			return SIGIL_STATUS_OK;
		}
	}
	return sigil__err(err, SIGIL_ERR_UNSUPPORTED, "signature algorithm \"%lld\" is not supported",
		(long long)label);
}

const char *sigil__sigalg_name(sigil__sigalg alg)
{
	int i = alg_index(alg);
	return i < 0 ? "unknown" : algs[i].jws;
}

static pthread_once_t mds_once = PTHREAD_ONCE_INIT;
static EVP_MD *mds[3];

static void mds_fetch(void)
{
	/* OpenSSL's own names (providers/implementations.h); a NULL entry
	 * falls back to the implicitly fetched EVP_shaN() below */
	mds[0] = EVP_MD_fetch(NULL, "SHA2-256", NULL);
	mds[1] = EVP_MD_fetch(NULL, "SHA2-384", NULL);
	mds[2] = EVP_MD_fetch(NULL, "SHA2-512", NULL);
}

const EVP_MD *sigil__md_sha256(void)
{
	pthread_once(&mds_once, mds_fetch);
	return mds[0] ? mds[0] : EVP_sha256();
}

const EVP_MD *sigil__md_sha384(void)
{
	pthread_once(&mds_once, mds_fetch);
	return mds[1] ? mds[1] : EVP_sha384();
}

const EVP_MD *sigil__md_sha512(void)
{
	pthread_once(&mds_once, mds_fetch);
	return mds[2] ? mds[2] : EVP_sha512();
}

const EVP_MD *sigil__sigalg_md(sigil__sigalg alg)
{
	switch (alg) {
	case SIGIL_SIGALG_PS256:
	case SIGIL_SIGALG_ES256:
		return sigil__md_sha256();
	case SIGIL_SIGALG_PS384:
	case SIGIL_SIGALG_ES384:
		return sigil__md_sha384();
	case SIGIL_SIGALG_PS512:
	case SIGIL_SIGALG_ES512:
		return sigil__md_sha512();
	default:
		return NULL;
	}
}

size_t sigil__sigalg_hash_len(sigil__sigalg alg)
{
	int i = alg_index(alg);
	return i < 0 ? 0 : algs[i].hash_len;
}

/* raw r||s (RFC 7518 §3.4, RFC 9053 §2.1) to the DER ECDSA-Sig-Value that
 * OpenSSL verifies. */
static sigil_status ecdsa_raw_to_der(const uint8_t *sig, size_t coord, uint8_t **der,
	size_t *der_len, sigil_error *err)
{
	_cleanup_(ECDSA_SIG_freep) ECDSA_SIG *es = ECDSA_SIG_new();
	_cleanup_(BN_freep) BIGNUM *r = BN_bin2bn(sig, (int)coord, NULL);
	_cleanup_(BN_freep) BIGNUM *s = BN_bin2bn(sig + coord, (int)coord, NULL);
	if (!es || !r || !s)
		return sigil__err_oom(err);
	if (ECDSA_SIG_set0(es, r, s) != 1)
		return sigil__err_oom(err);
	r = s = NULL; /* owned by es now */
	unsigned char *buf = NULL;
	int n = i2d_ECDSA_SIG(es, &buf);
	if (n <= 0)
		return sigil__err_openssl(err, SIGIL_ERR_INTERNAL, "encoding ECDSA signature");
	*der = buf;
	*der_len = (size_t)n;
	return SIGIL_STATUS_OK;
}

sigil_status sigil__sigalg_verify(sigil__sigalg alg, sigil__pss_salt salt, EVP_PKEY *key,
	const uint8_t *msg, size_t msg_len, const uint8_t *sig, size_t sig_len, sigil_error *err)
{
	int i = alg_index(alg);
	const EVP_MD *md = sigil__sigalg_md(alg);
	if (i < 0 || !md || !key)
		return sigil__err(err, SIGIL_ERR_UNSUPPORTED, "signature algorithm \"%s\" is not supported",
			sigil__sigalg_name(alg));
	bool is_ec = algs[i].ec_coord != 0;
	int base = EVP_PKEY_get_base_id(key);
	if ((is_ec && base != EVP_PKEY_EC) || (!is_ec && base != EVP_PKEY_RSA))
		return sigil__err(err, SIGIL_ERR_CRYPTO,
			"signature is invalid. Error: key type does not match algorithm %s",
			algs[i].jws);

	_cleanup_free_ uint8_t *der = NULL;
	size_t der_len = 0;
	const uint8_t *vsig = sig;
	size_t vsig_len = sig_len;
	if (is_ec) {
		size_t coord = algs[i].ec_coord;
		/* The key's field size must match the algorithm's curve, else r||s
		 * would be split at the wrong place (§1.5: 64/96/132 bytes). */
		if ((size_t)(EVP_PKEY_get_bits(key) + 7) / 8 != coord)
			return sigil__err(err, SIGIL_ERR_CRYPTO,
				"signature is invalid. Error: key curve does not match algorithm %s",
				algs[i].jws);
		if (sig_len != 2 * coord)
			return sigil__err(err, SIGIL_ERR_MALFORMED,
				"signature is invalid. Error: ecdsa signature is %zu bytes, expected %zu",
				sig_len, 2 * coord);
		SIGIL_TRY(ecdsa_raw_to_der(sig, coord, &der, &der_len, err));
		vsig = der;
		vsig_len = der_len;
	} else if (sig_len == 0) {
		return sigil__err(err, SIGIL_ERR_MALFORMED, "signature is invalid. Error: empty signature");
	}

	_cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return sigil__err_oom(err);
	EVP_PKEY_CTX *pctx = NULL; /* owned by ctx */
	if (EVP_DigestVerifyInit(ctx, &pctx, md, NULL, key) != 1)
		return sigil__err_openssl(err, SIGIL_ERR_CRYPTO, "signature is invalid. Error");
	if (!is_ec) {
		/* §1.5: RSASSA-PSS, MGF1 with the message hash; JWS accepts any
		 * salt (golang-jwt PSSSaltLengthAuto), COSE requires salt ==
		 * hash length (go-cose PSSSaltLengthEqualsHash). */
		/* One OSSL_PARAM array: what EVP_PKEY_CTX_set_rsa_padding,
		 * _set_rsa_mgf1_md and _set_rsa_pss_saltlen set, without their
		 * legacy-control translation, three times per signature. */
		char pad[] = OSSL_PKEY_RSA_PAD_MODE_PSS;
		char mgf1[] = OSSL_DIGEST_NAME_SHA2_512;
		char saltlen[] = OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST;
		const char *mdname = EVP_MD_get0_name(md);
		if (!mdname || strlen(mdname) >= sizeof mgf1)
			return sigil__err(err, SIGIL_ERR_INTERNAL, "configuring RSASSA-PSS: digest name");
		memcpy(mgf1, mdname, strlen(mdname) + 1);
		if (salt == SIGIL_PSS_SALT_AUTO)
			memcpy(saltlen, OSSL_PKEY_RSA_PSS_SALT_LEN_AUTO, sizeof OSSL_PKEY_RSA_PSS_SALT_LEN_AUTO);
		OSSL_PARAM params[] = {
			OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, pad, 0),
			OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, mgf1, 0),
			OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, saltlen, 0),
			OSSL_PARAM_construct_end(),
		};
		if (EVP_PKEY_CTX_set_params(pctx, params) != 1)
			return sigil__err_openssl(err, SIGIL_ERR_INTERNAL, "configuring RSASSA-PSS");
	}
	int rc = EVP_DigestVerify(ctx, vsig, vsig_len, msg, msg_len);
	ERR_clear_error();
	if (rc != 1)
		return sigil__err(err, SIGIL_ERR_CRYPTO,
			"signature is invalid. Error: the signature value does not verify with the signing certificate's %s key",
			is_ec ? "ECDSA" : "RSA");
	return SIGIL_STATUS_OK;
}
