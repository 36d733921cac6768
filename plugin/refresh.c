/* refresh.c - the background revocation refresher (see refresh.h). */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sigil/sigil.h>
#include "refresh.h"
#include "util.h"

struct sigild_refresher {
	sigil_revocation_refresher *rr; /* used by the thread only, but cancel */
	int64_t first_delay_ms, interval_ms, horizon_s;
	pthread_t thread;
	pthread_mutex_t lock;  /* stop, stats */
	pthread_cond_t cond;   /* signalled on stop */
	bool stop;
	sigild_refresh_stats stats;
};

static struct timespec deadline_after(int64_t ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* Sleep ms unless stopped first; true when stopped. */
static bool wait_or_stop(sigild_refresher *r, int64_t ms)
{
	struct timespec until = deadline_after(ms);
	pthread_mutex_lock(&r->lock);
	while (!r->stop && pthread_cond_timedwait(&r->cond, &r->lock, &until) == 0)
		;
	bool stop = r->stop;
	pthread_mutex_unlock(&r->lock);
	return stop;
}

static void *refresher_main(void *arg)
{
	sigild_refresher *r = arg;
	int64_t delay = r->first_delay_ms;
	while (!wait_or_stop(r, delay)) {
		sigil_revocation_refresh_report rep = SIGIL_REVOCATION_REFRESH_REPORT_INIT;
		sigil_error e = SIGIL_ERROR_INIT;
		/* failures (an unreachable CA, a bad download) leave the cached
		 * entry as it is; a later pass tries again once the endpoint's
		 * back-off has passed */
		sigil_status st = sigil_revocation_refresher_run(r->rr, (int64_t)time(NULL), r->horizon_s,
			sigil_registry_now_ms() + SIGILD_REFRESH_PASS_BUDGET_MS, &rep, &e);
		pthread_mutex_lock(&r->lock);
		r->stats.passes++;
		if (st == SIGIL_STATUS_OK) {
			r->stats.refreshed += rep.refreshed;
			r->stats.failures += rep.failed;
			r->stats.deferred += rep.deferred;
			r->stats.crl_entries = rep.crl_entries;
			r->stats.ocsp_entries = rep.ocsp_entries;
		}
		pthread_mutex_unlock(&r->lock);
		delay = r->interval_ms;
	}
	return NULL;
}

sigil_status sigild_refresher_start(sigild_refresher **out, const char *cache_dir,
	const sigil_revocation_options *endpoints, int64_t first_delay_ms, int64_t interval_ms,
	int64_t horizon_s, sigil_error *err)
{
	if (!out || !cache_dir || !cache_dir[0] || first_delay_ms < 0 || interval_ms < 1 ||
	    horizon_s < 0)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigild_refresher_start: invalid argument");
	sigild_refresher *r = calloc(1, sizeof *r);
	if (!r)
		return sigil__err_oom(err);
	sigil_revocation_options ro = SIGIL_REVOCATION_OPTIONS_INIT;
	if (endpoints) {
		ro.allow_https = endpoints->allow_https;
		ro.ocsp_timeout_ms = endpoints->ocsp_timeout_ms;
		ro.crl_timeout_ms = endpoints->crl_timeout_ms;
	}
	ro.cache_dir = cache_dir;
	if (sigil_revocation_refresher_new(&r->rr, &ro, err) != SIGIL_STATUS_OK) {
		free(r);
		return SIGIL_STATUS_ERROR;
	}
	r->first_delay_ms = first_delay_ms;
	r->interval_ms = interval_ms;
	r->horizon_s = horizon_s;
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cond, &attr);
	pthread_condattr_destroy(&attr);
	int rc = pthread_create(&r->thread, NULL, refresher_main, r);
	if (rc != 0) {
		pthread_cond_destroy(&r->cond);
		pthread_mutex_destroy(&r->lock);
		sigil_revocation_refresher_free(r->rr);
		free(r);
		return sigil__err(err, SIGIL_ERR_IO, "cannot start the revocation refresher: %s",
			strerror(rc));
	}
	*out = r;
	return SIGIL_STATUS_OK;
}

void sigild_refresher_stop(sigild_refresher *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	/* a pass in progress starts no further download */
	sigil_revocation_refresher_cancel(r->rr);
	pthread_join(r->thread, NULL);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	sigil_revocation_refresher_free(r->rr);
	free(r);
}

void sigild_refresher_stats(sigild_refresher *r, sigild_refresh_stats *out)
{
	pthread_mutex_lock(&r->lock);
	*out = r->stats;
	pthread_mutex_unlock(&r->lock);
}

uint64_t sigild_refresher_passes(sigild_refresher *r)
{
	sigild_refresh_stats st;
	sigild_refresher_stats(r, &st);
	return st.passes;
}

uint64_t sigild_refresher_refreshed(sigild_refresher *r)
{
	sigild_refresh_stats st;
	sigild_refresher_stats(r, &st);
	return st.refreshed;
}
