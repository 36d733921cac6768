/* timestamp.h - RFC 3161 timestamp countersignatures
 * (notary-verification.md §5, S1.1). */
#ifndef SIGIL_TIMESTAMP_H
#define SIGIL_TIMESTAMP_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/x509.h>
#include <sigil/error.h>

typedef struct sigil__tst {
	int64_t gen_time;     /* TSTInfo.genTime, epoch seconds (truncated) */
	int64_t accuracy;     /* seconds, rounded up; 1 for the baseline policy
	                         with no accuracy (§5.3 step 4) */
} sigil__tst;

/* sigil__timestamp_parse - parse a TimeStampToken (BER or DER CMS
 * ContentInfo/SignedData, version 3, eContentType id-ct-TSTInfo, TSTInfo
 * version 1) without verifying it. For the fuzz target and for
 * sigil__timestamp_verify. SIGIL_ERR_MALFORMED on any violation. */
SIGIL_MUST_CHECK sigil_status sigil__timestamp_parse(const uint8_t *token, size_t len,
	sigil__tst *out, sigil_error *err);

/* sigil__timestamp_verify - §5.3 steps 2-7: parse; messageImprint (SHA-256/
 * 384/512) equals H(signature); signingCertificateV2 identifies the signer
 * cert (hash checked); SignerInfo version 1; CMS signature over the signed
 * attributes (contentType, messageDigest present and right; no SHA-1/MD5);
 * the TSA chain is built from tsa_roots and the token's certificates and
 * verified at genTime with EKU timeStamping (leaf EKU critical and only
 * timeStamping), then sigil__chain_validate_timestamping. The caller checks
 * the genTime range against the signing chain (step 8). *chain_out, if not
 * NULL, receives the verified TSA chain (leaf ... root), owned by the
 * caller. Errors carry notation-style messages (category CRYPTO, MALFORMED
 * or POLICY). */
SIGIL_MUST_CHECK sigil_status sigil__timestamp_verify(const uint8_t *token, size_t len,
	const uint8_t *signature, size_t signature_len, STACK_OF(X509) *tsa_roots,
	sigil__tst *out, STACK_OF(X509) **chain_out, sigil_error *err);

#endif
