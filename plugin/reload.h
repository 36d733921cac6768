/* reload.h - the trust configuration as an immutable, refcounted snapshot
 * (internal to sigild's service). A reload builds a new snapshot and swaps
 * it in; requests in progress keep the one they started with. */
#ifndef SIGILD_RELOAD_H
#define SIGILD_RELOAD_H

#include <stdatomic.h>
#include <sigil/sigil.h>

typedef struct sigild_snapshot {
	atomic_int refs;
	sigil_verifier *verifier;
	/* "sha256:<hex>" over the policy file(s) and every trust store file */
	char *revision;
} sigild_snapshot;

/* sigild__trust_revision - hash of trustpolicy.json, trustpolicy.oci.json
 * and the truststore/ tree under config_dir: names, types and bytes, in a
 * fixed order, so any change to what sigil_verifier_new reads changes the
 * revision. *out malloc'd. */
SIGIL_MUST_CHECK sigil_status sigild__trust_revision(const char *config_dir, char **out,
	sigil_error *err);

/* sigild__snapshot_load - revision + verifier, consistent with each other;
 * revocation (NULL: libsigil's defaults, memory cache only) is how the
 * verifier checks revocation: its cache_dir is where OCSP responses and
 * CRLs are kept across verifications and restarts, seed_dir ("" = none)
 * an offline seed, and the endpoint rules and timeouts from sigild.json:
 * the revision is computed before and after loading, and the load is
 * retried when a file changed in between. refs = 1. */
SIGIL_MUST_CHECK sigil_status sigild__snapshot_load(const char *config_dir,
	const sigil_revocation_options *revocation, sigild_snapshot **out, sigil_error *err);

sigild_snapshot *sigild__snapshot_ref(sigild_snapshot *s);
void sigild__snapshot_unref(sigild_snapshot *s);

#endif
