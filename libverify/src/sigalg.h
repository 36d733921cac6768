/* sigalg.h - the signature algorithms of notary-verification.md §1.5, bound
 * to the signing key, and primitive signature verification. */
#ifndef SIGIL_SIGALG_H
#define SIGIL_SIGALG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include <sigil/error.h>

typedef enum sigil__sigalg {
	SIGIL_SIGALG_NONE = 0,
	SIGIL_SIGALG_PS256,
	SIGIL_SIGALG_PS384,
	SIGIL_SIGALG_PS512,
	SIGIL_SIGALG_ES256,
	SIGIL_SIGALG_ES384,
	SIGIL_SIGALG_ES512,
} sigil__sigalg;

typedef enum sigil__pss_salt {
	SIGIL_PSS_SALT_AUTO = 0,    /* JWS: golang-jwt verifies with PSSSaltLengthAuto */
	SIGIL_PSS_SALT_HASH_LEN,    /* COSE: go-cose requires salt == hash length */
} sigil__pss_salt;

/* sigil__sigalg_from_key - the only algorithm allowed for this key: RSA of
 * exactly 2048/3072/4096 bits, EC on P-256/P-384/P-521 (§1.5 [IMPL]).
 * Other keys: SIGIL_ERR_UNSUPPORTED "rsa key size %d bits is not supported"
 * / "ecdsa key size %d bits is not supported" / "unsupported public key type". */
SIGIL_MUST_CHECK sigil_status sigil__sigalg_from_key(EVP_PKEY *key, sigil__sigalg *out,
	sigil_error *err);

/* sigil__sigalg_from_jws - "PS256".."ES512"; anything else (none, HS256,
 * RS256...) fails with SIGIL_ERR_UNSUPPORTED
 * `signature algorithm "<x>" is not supported`. */
SIGIL_MUST_CHECK sigil_status sigil__sigalg_from_jws(const char *name, sigil__sigalg *out,
	sigil_error *err);

/* sigil__sigalg_from_cose - -37/-38/-39/-7/-35/-36; otherwise as above. */
SIGIL_MUST_CHECK sigil_status sigil__sigalg_from_cose(int64_t label, sigil__sigalg *out,
	sigil_error *err);

const char *sigil__sigalg_name(sigil__sigalg alg);    /* "PS256"... */
const EVP_MD *sigil__sigalg_md(sigil__sigalg alg);    /* sigil__md_sha256()... */

/* sigil__md_sha256, _sha384, _sha512 - the digests, fetched once from the
 * default library context and kept for the library's lifetime (never
 * freed): EVP_sha256() and friends make every EVP_DigestInit look the
 * implementation up again by name. EVP_sha256() etc. if the fetch fails. */
const EVP_MD *sigil__md_sha256(void);
const EVP_MD *sigil__md_sha384(void);
const EVP_MD *sigil__md_sha512(void);
size_t sigil__sigalg_hash_len(sigil__sigalg alg);     /* 32/48/64 */

/* sigil__sigalg_verify - verify `sig` over `msg` with `key` under `alg`.
 * RSA: RSASSA-PSS, MGF1 with the same hash, salt per `salt`.
 * ECDSA: sig is raw r||s, each exactly the curve byte length (32/48/66);
 * converted to DER for OpenSSL. A bad signature is SIGIL_ERR_CRYPTO
 * ("signature is invalid"), a wrong length SIGIL_ERR_MALFORMED. */
SIGIL_MUST_CHECK sigil_status sigil__sigalg_verify(sigil__sigalg alg, sigil__pss_salt salt,
	EVP_PKEY *key, const uint8_t *msg, size_t msg_len,
	const uint8_t *sig, size_t sig_len, sigil_error *err);

#endif
