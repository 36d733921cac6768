/* revocation.h - certificate revocation checking over OCSP and CRLs
 * (notary-verification.md §6), with an in-memory cache per verifier, an
 * optional on-disk cache and an optional offline seed directory.
 *
 * Every network request is bounded by a per-URL timeout and by the
 * caller's absolute deadline. Cached and seeded material is validated
 * again on every use (signature by the issuer, freshness), so a cache can
 * make a check cheaper but never change its answer. */
#ifndef SIGIL_REVOCATION_H
#define SIGIL_REVOCATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/x509.h>
#include <sigil/error.h>

/* Result values of notation's revocation/result (§7.6). */
typedef enum sigil__rev_status {
	SIGIL__REV_OK = 0,
	SIGIL__REV_NON_REVOKABLE,
	SIGIL__REV_UNKNOWN,
	SIGIL__REV_REVOKED,
} sigil__rev_status;

typedef enum sigil__rev_purpose {
	SIGIL__REV_CODE_SIGNING = 0,
	SIGIL__REV_TIMESTAMPING,
} sigil__rev_purpose;

typedef struct sigil__rev_config {
	const char *cache_dir;    /* NULL: memory cache only */
	const char *seed_dir;     /* NULL: no offline seed */
	bool allow_https;         /* §6.3/§6.4: only http unless configured */
	int64_t ocsp_timeout_ms;  /* per URL; 0: SIGIL_DEFAULT_OCSP_TIMEOUT_MS */
	int64_t crl_timeout_ms;   /* per URL; 0: SIGIL_DEFAULT_CRL_TIMEOUT_MS */
	/* sigil_revocation_options.on_fetch: every download of a check;
	 * NULL: none */
	void (*on_fetch)(void *ctx, const char *kind, const char *outcome);
	void *on_fetch_ctx;
} sigil__rev_config;

typedef struct sigil__revocation sigil__revocation;

/* sigil__revocation_new - a checker; the strings of cfg are copied. */
SIGIL_MUST_CHECK sigil_status sigil__revocation_new(sigil__revocation **out,
	const sigil__rev_config *cfg, sigil_error *err);
void sigil__revocation_free(sigil__revocation *rv);

/* Statistics for tests and operators. */
typedef struct sigil__rev_stats {
	uint64_t network_requests; /* HTTP requests attempted */
	uint64_t memory_hits;
	uint64_t disk_hits;
	uint64_t seed_hits;
} sigil__rev_stats;
void sigil__revocation_stats(sigil__revocation *rv, sigil__rev_stats *out);

typedef struct sigil__rev_outcome {
	sigil__rev_status status;  /* the aggregated result (§6.2 step 4) */
	int index;                 /* the certificate it is about, -1 if OK */
	char subject[512];         /* its subject (Go's pkix.Name.String()) */
	/* why the certificate's status is what it is, for operators
	 * ("CRL at http://...: failed to download CRL from ...: ...") */
	char detail[SIGIL_ERROR_MESSAGE_MAX];
	/* the earliest nextUpdate of the revocation information relied on,
	 * INT64_MAX if none: a verdict must not be reused beyond it */
	int64_t valid_until;
} sigil__rev_outcome;

/* sigil__revocation_check_chain - §6.2 for chain (leaf ... root).
 * signing_time is the authentic signing time (signingAuthority scheme) or
 * 0; now the verification time (epoch seconds); deadline_ms absolute on
 * the sigil__now_ms clock. Fails only for notation's InvalidChainError
 * (SIGIL_ERR_MALFORMED/CRYPTO, "invalid chain: expected chain to be
 * correct and complete: ...") or out of memory. */
SIGIL_MUST_CHECK sigil_status sigil__revocation_check_chain(sigil__revocation *rv,
	STACK_OF(X509) *chain, sigil__rev_purpose purpose, int64_t signing_time, int64_t now,
	int64_t deadline_ms, sigil__rev_outcome *out, sigil_error *err);

/* sigil__revocation_check_validated_chain - the same for a chain the
 * caller has already validated for `purpose` (sigil__chain_validate_
 * codesigning / _timestamping: the envelope parse and the timestamp check
 * do): §6.2 step 1 is not repeated, which would verify every certificate
 * signature of the chain a second time on every verification. */
SIGIL_MUST_CHECK sigil_status sigil__revocation_check_validated_chain(sigil__revocation *rv,
	STACK_OF(X509) *chain, sigil__rev_purpose purpose, int64_t signing_time, int64_t now,
	int64_t deadline_ms, sigil__rev_outcome *out, sigil_error *err);

/* ---- the parsing and validation steps, exposed for tests and fuzzing ---- */

/* sigil__ocsp_response_check - §6.3 "Response handling" steps 3-7 for a
 * DER OCSPResponse about cert (issued by issuer): status successful, basic
 * response, no trailing data, the first SingleResponse with cert's serial,
 * signature by the issuer or by the first embedded certificate which the
 * issuer signed, no critical singleExtensions, CertID hash SHA-1/2,
 * nextUpdate present and not passed at `now`, the invalidityDate rule for
 * signing_time. *status is OK, REVOKED or UNKNOWN (the responder's
 * "unknown"); *next_update its nextUpdate. Any other problem fails
 * (SIGIL_ERR_MALFORMED/CRYPTO/POLICY) and means "unknown" to the caller. */
SIGIL_MUST_CHECK sigil_status sigil__ocsp_response_check(const uint8_t *der, size_t len,
	X509 *cert, X509 *issuer, int64_t now, int64_t signing_time, sigil__rev_status *status,
	int64_t *next_update, sigil_error *err);

/* sigil__ocsp_request - the DER OCSPRequest notation sends (§6.3): one
 * CertID with SHA-1, unsigned, no nonce. *out malloc'd. */
SIGIL_MUST_CHECK sigil_status sigil__ocsp_request(X509 *cert, X509 *issuer, uint8_t **out,
	size_t *out_len, sigil_error *err);

/* sigil__crl_parse - one DER CertificateList, no trailing data, smaller
 * than SIGIL_MAX_CRL_SIZE. */
SIGIL_MUST_CHECK sigil_status sigil__crl_parse(const uint8_t *der, size_t len, X509_CRL **out,
	sigil_error *err);

/* sigil__crl_validate - §6.4 "Validate each CRL": issued by issuer (name
 * and signature; the issuer a CA with cRLSign when keyUsage is present),
 * nextUpdate present and not passed at `now`, critical extensions only
 * IssuingDistributionPoint and DeltaCRLIndicator. *next_update set. */
SIGIL_MUST_CHECK sigil_status sigil__crl_validate(X509_CRL *crl, X509 *issuer, int64_t now,
	int64_t *next_update, sigil_error *err);

/* sigil__crl_validate_delta - a delta CRL for base: DeltaCRLIndicator
 * present and <= base's CRLNumber, its CRLNumber > base's. */
SIGIL_MUST_CHECK sigil_status sigil__crl_validate_delta(X509_CRL *base, X509_CRL *delta,
	sigil_error *err);

/* sigil__crl_cert_status - §6.4 "Status" over base then delta (may be
 * NULL): OK or REVOKED; critical entry extensions other than
 * invalidityDate fail. */
SIGIL_MUST_CHECK sigil_status sigil__crl_cert_status(X509_CRL *base, X509_CRL *delta,
	X509 *cert, int64_t signing_time, sigil__rev_status *status, sigil_error *err);

/* sigil__rev_source_parse - a source record of the revocation cache: the
 * file <cache>/{crl,ocsp}/<name>.src that says where entry <name> came
 * from, so that the background refresh can download it again and validate
 * it the way a pull would. Two formats:
 *   "sigil-crl-source 1\n" URL "\n" issuer-DER
 *       (name = hex(SHA-256(URL)))
 *   "sigil-ocsp-source 1\n" certificate-DER issuer-DER
 *       (name = hex(SHA-256(the OCSP request notation sends for them)));
 *       the responder URLs are the certificate's own.
 * With name non-NULL the record must be the one of that entry. Fails with
 * SIGIL_ERR_MALFORMED for anything else. The record is as trusted as the
 * cache directory; what is downloaded with it is validated in full. */
typedef enum sigil__rev_kind {
	SIGIL__REV_KIND_CRL = 0,
	SIGIL__REV_KIND_OCSP,
} sigil__rev_kind;

typedef struct sigil__rev_source {
	sigil__rev_kind kind;
	char *url;      /* CRL records: the distribution point */
	X509 *cert;     /* OCSP records: the certificate asked about */
	X509 *issuer;   /* the issuer the answer is validated against */
} sigil__rev_source;

SIGIL_MUST_CHECK sigil_status sigil__rev_source_parse(const uint8_t *buf, size_t len,
	const char *name, sigil__rev_source *out, sigil_error *err);
void sigil__rev_source_clear(sigil__rev_source *s);

#endif
