/* refresh.h - sigild's background revocation refresher: a thread that
 * periodically calls sigil_revocation_refresh over the revocation cache in
 * the state directory, so that CRLs are downloaded again before their
 * nextUpdate and a pull finds them fresh on disk instead of waiting for
 * the download (issue 6). */
#ifndef SIGILD_REFRESH_H
#define SIGILD_REFRESH_H

#include <stdint.h>
#include <sigil/error.h>

/* Defaults used by sigild: the first pass soon after start, then every
 * minute; a CRL is refreshed within an hour (or a tenth of its validity
 * period, whichever is shorter) of its nextUpdate. */
#define SIGILD_REFRESH_FIRST_DELAY_MS 5000
#define SIGILD_REFRESH_INTERVAL_MS 60000
#define SIGILD_REFRESH_HORIZON_S 3600

typedef struct sigild_refresher sigild_refresher;

/* sigild_refresher_start - start the thread over cache_dir (copied): the
 * first pass after first_delay_ms, then every interval_ms (>= 1). */
SIGIL_MUST_CHECK sigil_status sigild_refresher_start(sigild_refresher **out, const char *cache_dir,
	int64_t first_delay_ms, int64_t interval_ms, int64_t horizon_s, sigil_error *err);

/* sigild_refresher_stop - wake the thread, wait for it (a pass in progress
 * ends after its current download, bounded by the CRL timeout) and free
 * everything. NULL-safe. */
void sigild_refresher_stop(sigild_refresher *r);

/* Completed passes and CRLs replaced so far (for tests and Status). */
uint64_t sigild_refresher_passes(sigild_refresher *r);
uint64_t sigild_refresher_refreshed(sigild_refresher *r);

#endif
