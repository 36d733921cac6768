/* sigil/verify.h - verify an artifact's Notary Project signatures against
 * a trust policy and trust store (notary-verification.md §4).
 */
#ifndef SIGIL_VERIFY_H
#define SIGIL_VERIFY_H

#include <stddef.h>
#include <stdint.h>
#include <sigil/error.h>
#include <sigil/policy.h>
#include <sigil/source.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sigil_verifier sigil_verifier;
typedef struct sigil_result sigil_result;
typedef struct sigil_signature_result sigil_signature_result;

/* sigil_verifier_new - load the trust policy and every trust store it
 * references from config_dir (notation's layout: trustpolicy[.oci].json and
 * truststore/x509/{ca,signingAuthority,tsa}/<name>/). An invalid policy
 * fails here (SIGIL_ERR_POLICY, naming every problem). A referenced store
 * that cannot be loaded does not: as in notation it fails the checks that
 * need it (authenticity, or the timestamp for a tsa store), and it is
 * listed among the warnings. *out is owned by the caller. */
SIGIL_EXPORT SIGIL_MUST_CHECK sigil_status sigil_verifier_new(
	sigil_verifier **out, const char *config_dir, sigil_error *err);

SIGIL_EXPORT void sigil_verifier_free(sigil_verifier *verifier);

/* sigil_verifier_policy - the policy in force. Borrowed. */
SIGIL_EXPORT const sigil_policy *sigil_verifier_policy(const sigil_verifier *verifier);

/* sigil_verifier_warning_count / _get - notes gathered while loading the
 * configuration (trust stores that cannot be used, ignored trust store
 * subdirectories, ...). Borrowed. */
SIGIL_EXPORT size_t sigil_verifier_warning_count(const sigil_verifier *verifier);
SIGIL_EXPORT const char *sigil_verifier_warning_get(const sigil_verifier *verifier, size_t i);

/* Certificate revocation checking (notary-verification.md §6): OCSP, then
 * CRLs, for every certificate of the signing chain (and of a timestamp's
 * TSA chain) but the root. Responses and CRLs are cached in memory per
 * verifier and used until their nextUpdate; with cache_dir also on disk
 * (one file per CRL URL / OCSP CertID, written atomically), so that a
 * restarted verifier does not download them again. seed_dir holds
 * pre-staged CRLs and OCSP responses (DER or PEM CRLs, DER OCSP responses,
 * any file name; or a copy of a cache_dir) for nodes that cannot reach the
 * CA's endpoints. Everything read from cache_dir or seed_dir is validated
 * again (issuer signature, freshness) before use. */
typedef struct sigil_revocation_options {
	unsigned version;
	const char *cache_dir;   /* NULL: memory cache only */
	const char *seed_dir;    /* NULL: no offline seed */
	int allow_https;         /* also fetch https OCSP/CRL URLs (default: http only) */
	int64_t ocsp_timeout_ms; /* per OCSP URL; 0 = 2000 */
	int64_t crl_timeout_ms;  /* per CRL URL; 0 = 5000 */
	/* All revocation traffic of one sigil_verify call ends within this
	 * many milliseconds (or by sigil_verify_options.deadline_ms, whichever
	 * comes first); 0 = 8000. */
	int64_t budget_ms;
	/* Version 2: called once per OCSP request and per CRL download
	 * (base or delta) that a verification makes, after it ends; not for
	 * answers found in the memory cache, cache_dir or seed_dir, and not by
	 * the background refresher (its report counts its own downloads).
	 * kind is "ocsp" or "crl"; outcome one of (static strings, a fixed
	 * set, so that a caller's metric stays bounded; never the URL):
	 *   "ok"            a response that parsed and validated (an OCSP
	 *                   "unknown" answer included)
	 *   "http_error"    an HTTP status other than 200
	 *   "network_error" no response: connection, TLS, timeout, deadline,
	 *                   a redirect to a scheme that is not fetched
	 *   "too_large"     the body or a header exceeded its bound (bounds.h)
	 *   "invalid"       a body that did not parse or validate (signature,
	 *                   freshness, wrong CRL kind, OCSP error status)
	 * For the caller's metrics: the library keeps no counters of its own.
	 * Called from the thread running sigil_verify, so it must be
	 * thread-safe; NULL: not called. */
	void (*on_fetch)(void *ctx, const char *kind, const char *outcome);
	void *on_fetch_ctx;
} sigil_revocation_options;

/* Version 1 callers (without on_fetch) are still accepted. */
#define SIGIL_REVOCATION_OPTIONS_VERSION 2
#define SIGIL_REVOCATION_OPTIONS_INIT { SIGIL_REVOCATION_OPTIONS_VERSION, NULL, NULL, 0, 0, 0, 0, NULL, NULL }

/* sigil_verifier_set_revocation - configure revocation checking (the
 * default: memory cache, http only, default timeouts). Replaces the
 * previous configuration and empties the memory cache. Not to be called
 * while a sigil_verify on the same verifier is running. */
SIGIL_EXPORT SIGIL_MUST_CHECK sigil_status sigil_verifier_set_revocation(
	sigil_verifier *verifier, const sigil_revocation_options *opts, sigil_error *err);

/* Background refresh of a revocation cache directory (sigild, issue 6):
 * CRLs and OCSP responses that a verification downloaded are downloaded
 * again before their nextUpdate, so that a later pull finds them fresh on
 * disk instead of waiting for the download.
 *
 * A pass looks at every entry of opts->cache_dir. An entry is due when its
 * nextUpdate is at most min(horizon_s, a tenth of its validity period)
 * after `now` (epoch seconds), or already passed. A due entry is
 * downloaded again from where it came from (a CRL from its URL; an OCSP
 * response from the certificate's responders, asking the same question),
 * as recorded next to it when a verification first downloaded it (entries
 * without that record, such as seeded ones, are left alone), and
 * validated as a pull would validate it (issuer signature, freshness at
 * `now`). It replaces the entry only when valid and newer (thisUpdate),
 * so a failed, forged or replayed download never replaces a valid entry.
 * The most urgent entries go first. A pass makes at most
 * SIGIL_MAX_REVOCATION_REFRESH_DOWNLOADS (bounds.h: 64) downloads, each
 * bounded by the per-URL timeouts of opts, and starts none after
 * deadline_ms (sigil_registry_now_ms clock; 0: no bound). An endpoint
 * that failed is not asked again before a back-off delay (1 minute,
 * doubling per consecutive failure up to 30 minutes, on the `now` clock)
 * that the refresher remembers across passes; the due entries it serves
 * are counted as deferred meanwhile. So is an entry that was downloaded
 * again without anything newer (the CA has not published yet): it is
 * asked again after 5 minutes (a third of its margin when shorter), so
 * that it does not take every pass's downloads from the others. Safe to run while verifiers use the
 * same cache_dir (files are replaced atomically). */
typedef struct sigil_revocation_refresh_report {
	unsigned version;
	uint64_t crl_entries;  /* CRLs in the cache directory */
	uint64_t ocsp_entries; /* OCSP responses in the cache directory */
	uint64_t due;          /* due entries with a source record */
	uint64_t refreshed;    /* replaced by a newer valid download */
	uint64_t unchanged;    /* downloaded again, nothing newer */
	uint64_t failed;       /* download failed, or nothing usable came back */
	uint64_t deferred;     /* due, left for a later pass: the endpoint is
	                        * backing off, or the pass's bounds were reached */
	uint64_t downloads;    /* HTTP requests made */
} sigil_revocation_refresh_report;

#define SIGIL_REVOCATION_REFRESH_REPORT_VERSION 1
#define SIGIL_REVOCATION_REFRESH_REPORT_INIT { SIGIL_REVOCATION_REFRESH_REPORT_VERSION, 0, 0, 0, 0, 0, 0, 0, 0 }

typedef struct sigil_revocation_refresher sigil_revocation_refresher;

/* sigil_revocation_refresher_new - a refresher for opts->cache_dir
 * (required; the strings of opts are copied; seed_dir, budget_ms and
 * on_fetch are not used). Owned by the caller: sigil_revocation_refresher_free. */
SIGIL_EXPORT SIGIL_MUST_CHECK sigil_status sigil_revocation_refresher_new(
	sigil_revocation_refresher **out, const sigil_revocation_options *opts, sigil_error *err);

/* sigil_revocation_refresher_run - one pass (see above); report (may be
 * NULL; its version set by SIGIL_REVOCATION_REFRESH_REPORT_INIT) is
 * overwritten with this pass's counts. Failing downloads are not errors;
 * only invalid arguments (SIGIL_ERR_USAGE) or out of memory are. Not to
 * be called concurrently on the same refresher. */
SIGIL_EXPORT SIGIL_MUST_CHECK sigil_status sigil_revocation_refresher_run(
	sigil_revocation_refresher *refresher, int64_t now, int64_t horizon_s, int64_t deadline_ms,
	sigil_revocation_refresh_report *report, sigil_error *err);

/* sigil_revocation_refresher_cancel - from any thread: a pass in progress
 * starts no further download (it ends after the current one) and later
 * passes do nothing. */
SIGIL_EXPORT void sigil_revocation_refresher_cancel(sigil_revocation_refresher *refresher);

/* NULL-safe. */
SIGIL_EXPORT void sigil_revocation_refresher_free(sigil_revocation_refresher *refresher);

/* sigil_revocation_refresh - one pass with a refresher of its own (so no
 * back-off memory between calls); *refreshed (may be NULL) counts the
 * entries replaced. */
SIGIL_EXPORT SIGIL_MUST_CHECK sigil_status sigil_revocation_refresh(
	const sigil_revocation_options *opts, int64_t now, int64_t horizon_s, size_t *refreshed,
	sigil_error *err);

#define SIGIL_DEFAULT_MAX_SIGNATURES 100

typedef struct sigil_verify_options {
	unsigned version;
	/* The repository the policy is matched against: "registry/repo"
	 * (notation's --scope). Required. */
	const char *scope;
	/* Digest of the artifact to verify ("sha256:<hex>"). Required. */
	const char *digest;
	/* At most this many signatures are examined; 0 = default (100). */
	size_t max_signatures;
	/* User metadata that must all be present in the payload annotations. */
	const char *const *user_metadata_keys;
	const char *const *user_metadata_values;
	size_t user_metadata_count;
	/* Verification time, seconds since the epoch; 0 = now. */
	int64_t now;
	/* Since version 2: an absolute deadline for the network work of this
	 * verification (revocation checks), on the sigil_registry_now_ms
	 * clock; 0 = none beyond the revocation budget. */
	int64_t deadline_ms;
} sigil_verify_options;

/* Version 1 callers (without deadline_ms) are still accepted. */
#define SIGIL_VERIFY_OPTIONS_VERSION 2
#define SIGIL_VERIFY_OPTIONS_INIT { SIGIL_VERIFY_OPTIONS_VERSION, NULL, NULL, 0, NULL, NULL, 0, 0, 0 }

typedef enum sigil_verdict {
	SIGIL_VERDICT_FAIL = 0,
	SIGIL_VERDICT_PASS,
} sigil_verdict;

/* Why an artifact failed, when it did (or SIGIL_FAILURE_NONE). */
typedef enum sigil_failure {
	SIGIL_FAILURE_NONE = 0,
	SIGIL_FAILURE_NO_POLICY,        /* no trust policy statement applies */
	SIGIL_FAILURE_NO_SIGNATURE,     /* the artifact has no signature */
	SIGIL_FAILURE_RETRIEVAL,        /* the artifact or a signature could not be read */
	SIGIL_FAILURE_SIGNATURE_MANIFEST, /* a signature manifest is malformed */
	SIGIL_FAILURE_SIGNATURES,       /* every signature examined failed */
	SIGIL_FAILURE_LIMIT,            /* the max-signatures limit was reached */
} sigil_failure;

typedef enum sigil_outcome {
	SIGIL_OUTCOME_NOT_RUN = 0, /* an earlier enforced failure stopped it */
	SIGIL_OUTCOME_PASS,
	SIGIL_OUTCOME_FAIL,
	SIGIL_OUTCOME_SKIPPED,     /* the policy skips it, or it does not apply */
} sigil_outcome;

/* sigil_verify - verify the artifact opts->digest from source against the
 * verifier's policy. Returns an error only when the request cannot be
 * evaluated (invalid options); every verdict, including "no signature",
 * is a result. *out is owned by the caller (sigil_result_free). */
SIGIL_EXPORT SIGIL_MUST_CHECK sigil_status sigil_verify(
	sigil_verifier *verifier, sigil_source *source,
	const sigil_verify_options *opts, sigil_result **out, sigil_error *err);

SIGIL_EXPORT void sigil_result_free(sigil_result *result);

SIGIL_EXPORT sigil_verdict sigil_result_verdict(const sigil_result *result);
SIGIL_EXPORT sigil_failure sigil_result_failure(const sigil_result *result);
/* sigil_result_failure_name - "no-policy", "no-signature", ... or "". */
SIGIL_EXPORT const char *sigil_failure_name(sigil_failure failure);
/* sigil_result_reason - one line an operator can act on. Borrowed. */
SIGIL_EXPORT const char *sigil_result_reason(const sigil_result *result);
/* Name and level of the applied statement ("" / STRICT when none). */
SIGIL_EXPORT const char *sigil_result_policy_name(const sigil_result *result);
SIGIL_EXPORT sigil_level sigil_result_level(const sigil_result *result);
/* The descriptor of the verified artifact (zeroed if it was not resolved). */
SIGIL_EXPORT const sigil_descriptor *sigil_result_artifact(const sigil_result *result);
/* Earliest time (epoch seconds) at which this verdict may change because a
 * signature or certificate it relied on expires; INT64_MAX if none. */
SIGIL_EXPORT int64_t sigil_result_valid_until(const sigil_result *result);

SIGIL_EXPORT size_t sigil_result_signature_count(const sigil_result *result);
SIGIL_EXPORT const sigil_signature_result *sigil_result_signature_get(
	const sigil_result *result, size_t index);

SIGIL_EXPORT const char *sigil_signature_result_digest(const sigil_signature_result *sr);
SIGIL_EXPORT const char *sigil_signature_result_media_type(const sigil_signature_result *sr);
SIGIL_EXPORT sigil_verdict sigil_signature_result_verdict(const sigil_signature_result *sr);
/* The check whose enforced failure failed this signature, or
 * SIGIL_CHECK__COUNT when it passed. */
SIGIL_EXPORT sigil_check sigil_signature_result_failed_check(const sigil_signature_result *sr);
SIGIL_EXPORT sigil_outcome sigil_signature_result_outcome(const sigil_signature_result *sr, sigil_check check);
SIGIL_EXPORT sigil_action sigil_signature_result_action(const sigil_signature_result *sr, sigil_check check);
/* Message of a failed check ("" otherwise), notation-compatible wording. */
SIGIL_EXPORT const char *sigil_signature_result_message(const sigil_signature_result *sr, sigil_check check);
SIGIL_EXPORT sigil_category sigil_signature_result_category(const sigil_signature_result *sr, sigil_check check);
/* Subject DN of the signing certificate, "" if not parsed. */
SIGIL_EXPORT const char *sigil_signature_result_signer(const sigil_signature_result *sr);

/* sigil_result_to_json - the whole result as a JSON document. *out is a
 * NUL-terminated string owned by the caller (free()). */
SIGIL_EXPORT SIGIL_MUST_CHECK sigil_status sigil_result_to_json(
	const sigil_result *result, char **out, sigil_error *err);

#ifdef __cplusplus
}
#endif

#endif
