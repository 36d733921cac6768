/* refresh.h - sigild's background revocation refresher: a thread that
 * periodically runs a sigil_revocation_refresher pass over the revocation
 * cache in the state directory, so that CRLs and OCSP responses are
 * downloaded again before their nextUpdate and a pull finds them fresh on
 * disk instead of waiting for the download (issue 6). The refresher keeps
 * its back-off of failing endpoints across passes. */
#ifndef SIGILD_REFRESH_H
#define SIGILD_REFRESH_H

#include <stdint.h>
#include <sigil/error.h>
#include <sigil/verify.h>

/* Defaults used by sigild: the first pass soon after start, then every
 * minute; an entry is refreshed within an hour (or a tenth of its validity
 * period, whichever is shorter) of its nextUpdate; a pass starts no
 * download after 30 s (and makes at most 64, bounds.h), so the next one
 * is never far behind. */
#define SIGILD_REFRESH_FIRST_DELAY_MS 5000
#define SIGILD_REFRESH_INTERVAL_MS 60000
#define SIGILD_REFRESH_HORIZON_S 3600
#define SIGILD_REFRESH_PASS_BUDGET_MS 30000

typedef struct sigild_refresher sigild_refresher;

/* sigild_refresher_start - start the thread over cache_dir (copied): the
 * first pass after first_delay_ms, then every interval_ms (>= 1).
 * endpoints (NULL: defaults) gives allow_https and the per-URL timeouts,
 * the same as the verifications use; its cache_dir/seed_dir are ignored. */
SIGIL_MUST_CHECK sigil_status sigild_refresher_start(sigild_refresher **out, const char *cache_dir,
	const sigil_revocation_options *endpoints, int64_t first_delay_ms, int64_t interval_ms,
	int64_t horizon_s, sigil_error *err);

/* sigild_refresher_stop - wake the thread, cancel a pass in progress (it
 * ends after its current download, bounded by the CRL timeout), wait for
 * it and free everything. NULL-safe. */
void sigild_refresher_stop(sigild_refresher *r);

/* Counters since start (sums over the passes) and the cache's size at the
 * last pass, for Status. */
typedef struct sigild_refresh_stats {
	uint64_t passes;       /* completed passes */
	uint64_t refreshed;    /* entries replaced by newer ones */
	uint64_t failures;     /* refreshes that failed (endpoint down, bad answer) */
	uint64_t deferred;     /* due entries left to a later pass (back-off, bounds) */
	uint64_t crl_entries;  /* CRLs in the cache at the last pass */
	uint64_t ocsp_entries; /* OCSP responses in the cache at the last pass */
} sigild_refresh_stats;

void sigild_refresher_stats(sigild_refresher *r, sigild_refresh_stats *out);

/* Completed passes and entries replaced so far (for tests). */
uint64_t sigild_refresher_passes(sigild_refresher *r);
uint64_t sigild_refresher_refreshed(sigild_refresher *r);

#endif
