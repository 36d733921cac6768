/* certchain.h - structural rules for the envelope's certificate chain and
 * a TSA chain (notary-verification.md §1.9; the stricter spec rules where
 * §8 rows 3-5 say so). No time checks and no trust-store lookup here. */
#ifndef SIGIL_CERTCHAIN_H
#define SIGIL_CERTCHAIN_H

#include <stdint.h>
#include <openssl/x509.h>
#include <sigil/error.h>

/* sigil__chain_validate_codesigning - chain[0] is the leaf, the last
 * certificate a self-signed root; strictly ordered, each certificate issued
 * by the next (name + signature), no SHA-1/MD5 signatures, CA rules
 * (basicConstraints critical cA=TRUE, pathLen, keyUsage critical with
 * keyCertSign, CA keys RSA>=2048 / EC>=256), leaf rules (cA false if
 * present, keyUsage critical with digitalSignature and none of the forbidden
 * bits, EKU without serverAuth/clientAuth/emailProtection/timeStamping/
 * OCSPSigning/anyExtendedKeyUsage, key exactly RSA 2048/3072/4096 or EC
 * P-256/384/521). A one-certificate chain is a self-signed leaf that must
 * satisfy the leaf rules. Fails with SIGIL_ERR_MALFORMED or SIGIL_ERR_CRYPTO
 * and a notation-style message. */
SIGIL_MUST_CHECK sigil_status sigil__chain_validate_codesigning(STACK_OF(X509) *chain,
	sigil_error *err);

/* sigil__chain_validate_timestamping - the same for a TSA chain (leaf ...
 * root): keyUsage need not be critical; leaf EKU critical and exactly
 * {timeStamping}. */
SIGIL_MUST_CHECK sigil_status sigil__chain_validate_timestamping(STACK_OF(X509) *chain,
	sigil_error *err);

/* sigil__cert_subject - the subject as an RFC 2253-style string (as Go's
 * pkix.Name.String(), most specific RDN first: "CN=x,O=y,C=z"), malloc'd. */
char *sigil__cert_subject(X509 *cert);

/* sigil__cert_validity - notBefore/notAfter as epoch seconds. */
SIGIL_MUST_CHECK sigil_status sigil__cert_validity(X509 *cert, int64_t *not_before,
	int64_t *not_after, sigil_error *err);

/* sigil__cert_has_revocation_info - whether the certificate carries an OCSP
 * URL (AIA id-ad-ocsp) or a CRL distribution point. */
int sigil__cert_has_revocation_info(X509 *cert);

/* sigil__cert_is_ca - basicConstraints present exactly once, decodable,
 * with cA=TRUE (Go's Certificate.IsCA). */
int sigil__cert_is_ca(X509 *cert);

/* sigil__cert_self_signature_ok - the signature verifies with the
 * certificate's own key, as Go's cert.CheckSignature (SHA-1 accepted, MD5
 * not; no CA or name checks). Used for non-CA trust-store entries
 * (notary-verification.md §3.2). */
int sigil__cert_self_signature_ok(X509 *cert);

/* sigil__cert_is_root - a self-signed root as Go's CheckSignatureFrom(self)
 * plus RawSubject == RawIssuer: the certificate may sign certificates
 * (cA=TRUE, or v1/v2 without basicConstraints; keyCertSign if keyUsage is
 * present), its signature (not SHA-1/MD5) verifies with its own key. On 0,
 * `why` (if not NULL) receives a NUL-terminated reason. */
int sigil__cert_is_root(X509 *cert, char *why, size_t whylen);

#endif
