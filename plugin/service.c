/* service.c - sigild's verification service (service.h): one pull's
 * decision, independent of gRPC.
 *
 * Order of a decision (architecture.md "The path of one pull"):
 *   validate the request (name, digest, descriptor digest) -> break-glass
 *   allow-list -> verdict cache (single flight) -> registry discovery +
 *   sigil_verify within the deadline -> dry-run override -> counters,
 *   audit line.
 * Fail closed (design rule 1): every path that is not an explicit allow
 * from sigil_verify, a skip-level policy, the allow-list or dry-run is a
 * deny with a reason. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <sigil/sigil.h>
#include "service.h"
#include "cache.h"
#include "cache_value.h"
#include "audit.h"
#include "reload.h"
#include "refresh.h"
#include "metrics.h"
#include "util.h"

/* notation caps user metadata requirements too (bounds.h
 * SIGIL_MAX_USER_METADATA) */
#define SIGILD_MAX_USER_METADATA 256
#define SIGILD_MAX_NAME 1024

#define REASON_ALLOW_LISTED "allow-listed by sigild configuration (break-glass)"
#define REASON_WAIT_TIMEOUT "timed out waiting for a verification in progress"

struct sigild_service {
	sigild_config cfg;
	char *revocation_cache;  /* <stateDir>/revocation, or NULL */
	sigild_refresher *refresher; /* refreshes revocation_cache, or NULL */

	pthread_mutex_t lock; /* snap, last_reload_error */
	sigild_snapshot *snap;
	char *last_reload_error;
	pthread_mutex_t reload_lock; /* one reload at a time */

	/* registry clients: one per concurrent verification (a client is
	 * safe from one thread at a time), created on demand up to workers */
	pthread_mutex_t pool_lock;
	pthread_cond_t pool_cond;
	sigil_registry **pool_free;
	size_t pool_free_count, pool_created, pool_max;

	sigild_cache *cache;
	sigild_audit *audit;
	int64_t started_ms;

	atomic_uint_fast64_t allows, denies, errors, dry_run_would_deny;

	/* docs/metrics.md; counted where the event happens, or read from
	 * the cache's and the refresher's own counters at each scrape */
	sigild_metrics *metrics;
	struct {
		sigild_metric *verifications, *failures, *duration, *invalid, *errors;
		sigild_metric *cache_hits, *cache_misses, *cache_evictions, *cache_entries, *cache_capacity;
		sigild_metric *registry_requests, *rev_fetches;
		sigild_metric *rev_passes, *rev_refreshed, *rev_failures, *rev_deferred, *rev_crls, *rev_ocsp;
		sigild_metric *reloads, *revision, *reload_failed;
		sigild_metric *build_info, *up, *ready;
	} m;
};

static int64_t now_ms(void)
{
	return sigil_registry_now_ms();
}

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* --- registry client pool ------------------------------------------- */

/* one registry request: counted by host and status class; hosts come
 * from image names, so the family folds them into "other" past its cap */
static void on_registry_request(void *ctx, const char *host, long status)
{
	static const char *const classes[] = { "error", "1xx", "2xx", "3xx", "4xx", "5xx" };
	long c = status / 100;
	const char *v[2] = { host, classes[c >= 1 && c <= 5 ? c : 0] };
	sigild_metric_add(ctx, v, 1);
}

/* sigil_revocation_options.on_fetch: kind and outcome come from
 * libsigil's fixed set (verify.h), so the family stays at 10 series
 * (an outcome a later libsigil adds would fold into "other") */
static void on_revocation_fetch(void *ctx, const char *kind, const char *outcome)
{
	const char *v[2] = { kind, outcome };
	sigild_metric_add(ctx, v, 1);
}

static sigil_status registry_new(const sigild_config *cfg, sigild_metric *requests,
	sigil_registry **out, sigil_error *err)
{
	sigil_registry_options o = SIGIL_REGISTRY_OPTIONS_INIT;
	o.on_request = requests ? on_registry_request : NULL;
	o.on_request_ctx = requests;
	o.hosts_dir = cfg->registry_config && cfg->registry_config[0] ? cfg->registry_config : NULL;
	o.docker_config = cfg->docker_config;
	o.credential_provider_config = cfg->credential_provider_config;
	o.credential_provider_bin_dir = cfg->credential_provider_bin_dir;
	o.plain_http = cfg->plain_http;
	o.request_timeout_ms = cfg->request_timeout_ms;
	return sigil_registry_new(out, &o, err);
}

static sigil_status pool_acquire(sigild_service *s, int64_t deadline_ms, sigil_registry **out,
	sigil_error *err)
{
	struct timespec ts = { (time_t)(deadline_ms / 1000), (long)(deadline_ms % 1000) * 1000000L };
	pthread_mutex_lock(&s->pool_lock);
	for (;;) {
		if (s->pool_free_count) {
			*out = s->pool_free[--s->pool_free_count];
			pthread_mutex_unlock(&s->pool_lock);
			return SIGIL_STATUS_OK;
		}
		if (s->pool_created < s->pool_max) {
			s->pool_created++;
			pthread_mutex_unlock(&s->pool_lock);
			if (registry_new(&s->cfg, s->m.registry_requests, out, err) == SIGIL_STATUS_OK)
				return SIGIL_STATUS_OK;
			pthread_mutex_lock(&s->pool_lock);
			s->pool_created--;
			pthread_cond_signal(&s->pool_cond);
			pthread_mutex_unlock(&s->pool_lock);
			return sigil__err_wrap(err, "registry client");
		}
		if (pthread_cond_timedwait(&s->pool_cond, &s->pool_lock, &ts) != 0 && !s->pool_free_count &&
		    s->pool_created >= s->pool_max) {
			pthread_mutex_unlock(&s->pool_lock);
			return sigil__err(err, SIGIL_ERR_LIMIT,
				"all %zu registry clients were busy until the deadline (workers)", s->pool_max);
		}
	}
}

static void pool_release(sigild_service *s, sigil_registry *reg)
{
	pthread_mutex_lock(&s->pool_lock);
	s->pool_free[s->pool_free_count++] = reg;
	pthread_cond_signal(&s->pool_cond);
	pthread_mutex_unlock(&s->pool_lock);
}

/* --- snapshot --------------------------------------------------------- */

static sigild_snapshot *snapshot_get(sigild_service *s)
{
	pthread_mutex_lock(&s->lock);
	sigild_snapshot *snap = sigild__snapshot_ref(s->snap);
	pthread_mutex_unlock(&s->lock);
	return snap;
}

/* --- lifecycle -------------------------------------------------------- */

void sigild_service_free(sigild_service *s)
{
	if (!s)
		return;
	/* first: its pass may be using the revocation cache directory */
	sigild_refresher_stop(s->refresher);
	for (size_t i = 0; i < s->pool_free_count; i++)
		sigil_registry_free(s->pool_free[i]);
	free(s->pool_free);
	sigild__snapshot_unref(s->snap);
	free(s->revocation_cache);
	free(s->last_reload_error);
	sigild_cache_free(s->cache);
	sigild_audit_close(s->audit);
	sigild_metrics_free(s->metrics);
	sigild_config_clear(&s->cfg);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->reload_lock);
	pthread_mutex_destroy(&s->pool_lock);
	pthread_cond_destroy(&s->pool_cond);
	free(s);
}

/* --- metrics (docs/metrics.md) ---------------------------------------- */

/* 100 µs (a cache hit) to 10 s (beyond the forwarder's 8 s deadline) */
static const double DURATION_BUCKETS[] = { 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
	0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };

/* Caps on the label values that come from outside sigild's code: policy
 * names (bounded by the trust policy's statements, but a reload can bring
 * new ones) and registry hosts (bounded by nothing but the images
 * pulled). Past them, the value is "other". */
#define METRICS_MAX_POLICIES 64
#define METRICS_MAX_HOSTS 32

#define COUNTER(n, h) .name = n, .help = h, .type = SIGILD_METRIC_COUNTER, .fold_label = -1, .max_series = 1
#define GAUGE(n, h) .name = n, .help = h, .type = SIGILD_METRIC_GAUGE, .fold_label = -1, .max_series = 1

static void metrics_collect(sigild_metrics *m, void *ctx);

/* sigil_revocation_options.on_fetch's outcomes (verify.h), created at 0 */
#define REV_FETCH_OUTCOMES 5
static const char *const rev_fetch_outcomes[REV_FETCH_OUTCOMES] = {
	"ok", "http_error", "network_error", "too_large", "invalid",
};

static sigil_status metrics_init(sigild_service *s, sigil_error *err)
{
	const struct { sigild_metric_desc d; sigild_metric **out; } defs[] = {
		{ { .name = "sigil_verifications_total",
		    .help = "Verification requests answered, by final verdict (allow, deny, or would-deny: "
			    "denied by verification but let through in dry-run mode) and trust policy "
			    "statement (\"none\" when none applied)",
		    .type = SIGILD_METRIC_COUNTER, .label_count = 2, .labels = { "verdict", "policy" },
		    .fold_label = 1, .max_series = 3 * METRICS_MAX_POLICIES }, &s->m.verifications },
		{ { .name = "sigil_verification_failures_total",
		    .help = "Verifications that failed (including dry-run would-denies), by the failing check "
			    "(integrity, authenticity, ..., or no-signature, retrieval, error)",
		    .type = SIGILD_METRIC_COUNTER, .label_count = 1, .labels = { "check" },
		    .fold_label = 0, .max_series = 32 }, &s->m.failures },
		{ { .name = "sigil_verification_duration_seconds",
		    .help = "Time to answer a verification request: from the verdict cache (cached) or "
			    "verified now (cold); break-glass allow-list answers are not observed",
		    .type = SIGILD_METRIC_HISTOGRAM, .label_count = 1, .labels = { "path" },
		    .fold_label = -1, .max_series = 2, .buckets = DURATION_BUCKETS,
		    .bucket_count = sizeof DURATION_BUCKETS / sizeof DURATION_BUCKETS[0] }, &s->m.duration },
		{ { COUNTER("sigil_invalid_requests_total",
		    "Verification requests refused as unusable (missing or malformed name or digest)") },
		  &s->m.invalid },
		{ { COUNTER("sigil_verification_errors_total",
		    "Verifications that could not run to a verdict (registry unreachable, deadline, busy "
		    "workers, internal errors): each is a deny") }, &s->m.errors },
		{ { COUNTER("sigil_cache_hits_total",
		    "Verdicts served from the cache, or from a concurrent request's verification") },
		  &s->m.cache_hits },
		{ { COUNTER("sigil_cache_misses_total", "Cache lookups that had to verify") }, &s->m.cache_misses },
		{ { COUNTER("sigil_cache_evictions_total",
		    "Cached verdicts dropped to make room (least recently used first)") }, &s->m.cache_evictions },
		{ { GAUGE("sigil_cache_entries", "Verdicts in the cache") }, &s->m.cache_entries },
		{ { GAUGE("sigil_cache_capacity", "Verdict cache size (cache.maxEntries)") }, &s->m.cache_capacity },
		{ { .name = "sigil_registry_requests_total",
		    .help = "HTTP requests to registries (token servers excluded), by registry host "
			    "(\"other\" past 32 hosts) and status class (2xx..5xx, error: no response)",
		    .type = SIGILD_METRIC_COUNTER, .label_count = 2, .labels = { "host", "status" },
		    .fold_label = 0, .max_series = 6 * METRICS_MAX_HOSTS }, &s->m.registry_requests },
		{ { .name = "sigil_revocation_fetches_total",
		    .help = "OCSP requests and CRL downloads made during verifications (not by the "
			    "refresher; cache hits excluded), by kind (ocsp, crl) and outcome (ok, "
			    "http_error, network_error, too_large, invalid)",
		    .type = SIGILD_METRIC_COUNTER, .label_count = 2, .labels = { "kind", "outcome" },
		    .fold_label = 1, .max_series = 2 * (REV_FETCH_OUTCOMES + 1) }, &s->m.rev_fetches },
		{ { COUNTER("sigil_revocation_refresh_passes_total",
		    "Completed passes of the background CRL / OCSP refresher") }, &s->m.rev_passes },
		{ { COUNTER("sigil_revocation_refreshed_total",
		    "CRLs and OCSP responses downloaded again by the refresher") }, &s->m.rev_refreshed },
		{ { COUNTER("sigil_revocation_refresh_failures_total",
		    "Refresher downloads that failed (endpoint down, invalid answer)") }, &s->m.rev_failures },
		{ { COUNTER("sigil_revocation_refresh_deferred_total",
		    "Due entries left to a later pass (back-off, per-pass bounds)") }, &s->m.rev_deferred },
		{ { GAUGE("sigil_revocation_cached_crls", "CRLs in the revocation cache at the last pass") },
		  &s->m.rev_crls },
		{ { GAUGE("sigil_revocation_cached_ocsp_responses",
		    "OCSP responses in the revocation cache at the last pass") }, &s->m.rev_ocsp },
		{ { .name = "sigil_policy_reloads_total",
		    .help = "Reloads of the trust policy and trust store, by result (success, failure: the "
			    "previous configuration stays in force)",
		    .type = SIGILD_METRIC_COUNTER, .label_count = 1, .labels = { "result" },
		    .fold_label = -1, .max_series = 2 }, &s->m.reloads },
		{ { .name = "sigil_policy_revision_info",
		    .help = "The trust configuration revision in force (sha256 of the policy and trust "
			    "store files, as sigil status shows it); always 1, one series",
		    .type = SIGILD_METRIC_GAUGE, .label_count = 1, .labels = { "revision" },
		    .fold_label = -1, .max_series = 1 }, &s->m.revision },
		{ { GAUGE("sigil_policy_reload_failed",
		    "1 when the last reload failed and an older configuration is in force") },
		  &s->m.reload_failed },
		{ { .name = "sigil_build_info", .help = "sigil's version; always 1",
		    .type = SIGILD_METRIC_GAUGE, .label_count = 1, .labels = { "version" },
		    .fold_label = -1, .max_series = 1 }, &s->m.build_info },
		{ { GAUGE("sigil_up", "1 while sigild runs") }, &s->m.up },
		{ { GAUGE("sigil_ready",
		    "1 when a valid trust policy is loaded and sigild serves its socket (as /readyz)") },
		  &s->m.ready },
	};
	if (sigild_metrics_new(&s->metrics, err) != SIGIL_STATUS_OK)
		return SIGIL_STATUS_ERROR;
	for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++)
		if (sigild_metrics_add(s->metrics, &defs[i].d, defs[i].out, err) != SIGIL_STATUS_OK)
			return SIGIL_STATUS_ERROR;
	const char *version[1] = { sigil_version() };
	sigild_metric_set(s->m.build_info, version, 1);
	sigild_metric_set(s->m.up, NULL, 1);
	/* the families read at scrape time exist from the start, at 0 */
	sigild_metric_add(s->m.invalid, NULL, 0);
	sigild_metric_add(s->m.errors, NULL, 0);
	static const char *const results[] = { "success", "failure" };
	for (size_t i = 0; i < 2; i++)
		sigild_metric_add(s->m.reloads, &results[i], 0);
	for (size_t k = 0; k < 2; k++)
		for (size_t o = 0; o < REV_FETCH_OUTCOMES; o++) {
			const char *v[2] = { k ? "crl" : "ocsp", rev_fetch_outcomes[o] };
			sigild_metric_add(s->m.rev_fetches, v, 0);
		}
	sigild_metrics_set_collector(s->metrics, metrics_collect, s);
	return SIGIL_STATUS_OK;
}

static void metrics_collect(sigild_metrics *m, void *ctx)
{
	sigild_service *s = ctx;
	(void)m;
	if (!s->cache || !s->snap)
		return; /* still starting */
	sigild_cache_stats cs;
	sigild_cache_stats_get(s->cache, &cs);
	sigild_metric_set(s->m.cache_hits, NULL, (double)cs.hits);
	sigild_metric_set(s->m.cache_misses, NULL, (double)cs.misses);
	sigild_metric_set(s->m.cache_evictions, NULL, (double)cs.evictions);
	sigild_metric_set(s->m.cache_entries, NULL, (double)cs.entries);
	sigild_metric_set(s->m.cache_capacity, NULL, (double)cs.capacity);
	sigild_metric_set(s->m.errors, NULL, (double)atomic_load(&s->errors));
	if (s->refresher) {
		sigild_refresh_stats fs;
		sigild_refresher_stats(s->refresher, &fs);
		sigild_metric_set(s->m.rev_passes, NULL, (double)fs.passes);
		sigild_metric_set(s->m.rev_refreshed, NULL, (double)fs.refreshed);
		sigild_metric_set(s->m.rev_failures, NULL, (double)fs.failures);
		sigild_metric_set(s->m.rev_deferred, NULL, (double)fs.deferred);
		sigild_metric_set(s->m.rev_crls, NULL, (double)fs.crl_entries);
		sigild_metric_set(s->m.rev_ocsp, NULL, (double)fs.ocsp_entries);
	}
	sigild_snapshot *snap = snapshot_get(s);
	const char *rev[1] = { snap->revision };
	sigild_metric_set_only(s->m.revision, rev, 1);
	sigild__snapshot_unref(snap);
	pthread_mutex_lock(&s->lock);
	bool failed = s->last_reload_error != NULL;
	pthread_mutex_unlock(&s->lock);
	sigild_metric_set(s->m.reload_failed, NULL, failed ? 1 : 0);
	sigild_metric_set(s->m.ready, NULL, sigild_service_ready(s, NULL, 0) ? 1 : 0);
}

/* failure_check - the failing check of a deny, for the failures counter:
 * the first failed signature's check when every signature failed, else
 * the failure ("no-signature", "retrieval", ...), "none" when unnamed */
static const char *failure_check(const Sigil__V1__VerifyResponse *r)
{
	if (r->failure && strcmp(r->failure, "signatures") == 0)
		for (size_t i = 0; i < r->n_signatures; i++)
			if (r->signatures[i]->failed_check && r->signatures[i]->failed_check[0])
				return r->signatures[i]->failed_check;
	return r->failure && r->failure[0] ? r->failure : "none";
}

/* verdict_summary - what counters, metrics and the audit line need of a
 * response; the strings are borrowed (from the response, or copied out
 * of a cache value: summary_of_spans) */
typedef struct verdict_summary {
	bool allow, cached, dry_run_override, allow_listed;
	const char *reason, *policy, *level, *failure, *signer;
	const char *check; /* failure_check() */
} verdict_summary;

static void metrics_count(sigild_service *s, const verdict_summary *r, bool denied, int64_t elapsed_us)
{
	const char *v[2] = { !denied ? "allow" : r->dry_run_override ? "would-deny" : "deny",
		r->policy && r->policy[0] ? r->policy : "none" };
	sigild_metric_add(s->m.verifications, v, 1);
	if (denied) {
		const char *c[1] = { r->check };
		sigild_metric_add(s->m.failures, c, 1);
	}
	if (!r->allow_listed) {
		const char *p[1] = { r->cached ? "cached" : "cold" };
		sigild_metric_observe(s->m.duration, p, (double)elapsed_us / 1e6);
	}
}

sigild_metrics *sigild_service_metrics(sigild_service *s)
{
	return s ? s->metrics : NULL;
}

bool sigild_service_ready(void *svc, char *why, size_t why_len)
{
	sigild_service *s = svc;
	/* a failed reload keeps the previous (valid) configuration in force,
	 * so the service stays ready; only a missing one is not */
	pthread_mutex_lock(&s->lock);
	bool ok = s->snap != NULL && s->snap->verifier != NULL;
	pthread_mutex_unlock(&s->lock);
	if (!ok && why && why_len)
		snprintf(why, why_len, "no trust policy loaded");
	return ok;
}

static sigil_revocation_options revocation_options(const sigild_service *s);

sigil_status sigild_service_new(sigild_service **out, const sigild_config *cfg, sigil_error *err)
{
	if (!out || !cfg || !cfg->config_dir)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigild_service_new: missing argument");
	if (cfg->workers == 0 || cfg->cache_entries == 0)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigild_service_new: workers and cache entries must be >= 1");
	sigild_service *s = calloc(1, sizeof *s);
	if (!s)
		return sigil__err_oom(err);
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->reload_lock, NULL);
	pthread_mutex_init(&s->pool_lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC); /* deadlines are monotonic */
	pthread_cond_init(&s->pool_cond, &attr);
	pthread_condattr_destroy(&attr);
	s->started_ms = now_ms();
	atomic_init(&s->allows, 0);
	atomic_init(&s->denies, 0);
	atomic_init(&s->errors, 0);
	atomic_init(&s->dry_run_would_deny, 0);
	if (sigild_config_copy(&s->cfg, cfg, err) != SIGIL_STATUS_OK) {
		sigild_service_free(s);
		return SIGIL_STATUS_ERROR;
	}
	s->pool_max = cfg->workers;
	s->pool_free = calloc(s->pool_max, sizeof *s->pool_free);
	if (!s->pool_free) {
		sigild_service_free(s);
		return sigil__err_oom(err);
	}
	/* one client now: invalid registry options (an unreadable hosts.toml
	 * directory, docker config, credential providers) fail at startup,
	 * not on the first pull */
	sigil_registry *reg = NULL;
	if (metrics_init(s, err) != SIGIL_STATUS_OK) {
		sigild_service_free(s);
		return SIGIL_STATUS_ERROR;
	}
	if (registry_new(&s->cfg, s->m.registry_requests, &reg, err) != SIGIL_STATUS_OK) {
		sigild_service_free(s);
		return sigil__err_wrap(err, "registry configuration");
	}
	s->pool_free[s->pool_free_count++] = reg;
	s->pool_created = 1;
	/* the revocation cache lives in the state directory; without one (or
	 * if it cannot be created) revocation data is cached in memory only */
	if (s->cfg.state_dir && s->cfg.state_dir[0]) {
		char *dir = NULL;
		if (asprintf(&dir, "%s/revocation", s->cfg.state_dir) < 0) {
			sigild_service_free(s);
			return sigil__err_oom(err);
		}
		(void)mkdir(s->cfg.state_dir, 0700);
		if (mkdir(dir, 0700) == 0 || errno == EEXIST)
			s->revocation_cache = dir;
		else
			free(dir);
	}
	sigil_revocation_options rev = revocation_options(s);
	if (sigild__snapshot_load(s->cfg.config_dir, &rev, &s->snap, err) != SIGIL_STATUS_OK) {
		sigild_service_free(s);
		return sigil__err_wrap(err, "trust configuration in %s", cfg->config_dir);
	}
	if (sigild_cache_new(&s->cache, cfg->cache_entries, cfg->cache_max_ttl_s, cfg->cache_deny_ttl_s,
		err) != SIGIL_STATUS_OK ||
	    sigild_cache_set_revision(s->cache, s->snap->revision, err) != SIGIL_STATUS_OK ||
	    sigild_audit_open(&s->audit, cfg->audit_log, cfg->audit_format, err) != SIGIL_STATUS_OK) {
		sigild_service_free(s);
		return SIGIL_STATUS_ERROR;
	}
	/* CRLs and OCSP responses are downloaded again in the background
	 * before their nextUpdate, so that a pull does not wait for it
	 * (issue 6) */
	if (s->revocation_cache &&
	    sigild_refresher_start(&s->refresher, s->revocation_cache, &rev, SIGILD_REFRESH_FIRST_DELAY_MS,
		SIGILD_REFRESH_INTERVAL_MS, SIGILD_REFRESH_HORIZON_S, err) != SIGIL_STATUS_OK) {
		sigild_service_free(s);
		return SIGIL_STATUS_ERROR;
	}
	*out = s;
	return SIGIL_STATUS_OK;
}

/* --- reload ----------------------------------------------------------- */

/* How every verification checks revocation: the cache in sigild's state,
 * the offline seed and the endpoint rules of sigild.json. */
static sigil_revocation_options revocation_options(const sigild_service *s)
{
	sigil_revocation_options rev = SIGIL_REVOCATION_OPTIONS_INIT;
	rev.cache_dir = s->revocation_cache;
	rev.seed_dir = s->cfg.revocation_seed_dir;
	rev.allow_https = s->cfg.revocation_allow_https;
	rev.ocsp_timeout_ms = s->cfg.revocation_ocsp_timeout_ms;
	rev.crl_timeout_ms = s->cfg.revocation_crl_timeout_ms;
	/* downloads during verifications; the refresher's are counted apart */
	rev.on_fetch = s->m.rev_fetches ? on_revocation_fetch : NULL;
	rev.on_fetch_ctx = s->m.rev_fetches;
	return rev;
}

static void set_reload_error(sigild_service *s, const char *msg)
{
	char *copy = msg ? strdup(msg) : NULL;
	pthread_mutex_lock(&s->lock);
	free(s->last_reload_error);
	s->last_reload_error = copy;
	pthread_mutex_unlock(&s->lock);
}

static void reload_count(sigild_service *s, bool ok)
{
	const char *v[1] = { ok ? "success" : "failure" };
	sigild_metric_add(s->m.reloads, v, 1);
}

static sigil_status reload_now(sigild_service *s, sigil_error *err)
{
	sigild_snapshot *snap = NULL;
	sigil_revocation_options rev = revocation_options(s);
	if (sigild__snapshot_load(s->cfg.config_dir, &rev, &snap, err) != SIGIL_STATUS_OK) {
		/* the configuration in force stays (issue 4: reload) */
		sigil__err_wrap(err, "reload of %s failed, the previous trust configuration stays in force",
			s->cfg.config_dir);
		set_reload_error(s, err ? err->message : "reload failed");
		return SIGIL_STATUS_ERROR;
	}
	if (sigild_cache_set_revision(s->cache, snap->revision, err) != SIGIL_STATUS_OK) {
		sigild__snapshot_unref(snap);
		set_reload_error(s, err ? err->message : "reload failed");
		return SIGIL_STATUS_ERROR;
	}
	pthread_mutex_lock(&s->lock);
	sigild_snapshot *old = s->snap;
	s->snap = snap;
	free(s->last_reload_error);
	s->last_reload_error = NULL;
	pthread_mutex_unlock(&s->lock);
	sigild__snapshot_unref(old);
	return SIGIL_STATUS_OK;
}

static sigil_status reload_locked(sigild_service *s, sigil_error *err)
{
	sigil_status st = reload_now(s, err);
	reload_count(s, st == SIGIL_STATUS_OK);
	return st;
}

sigil_status sigild_service_reload(sigild_service *s, sigil_error *err)
{
	if (!s)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigild_service_reload: missing argument");
	pthread_mutex_lock(&s->reload_lock);
	sigil_status st = reload_locked(s, err);
	pthread_mutex_unlock(&s->reload_lock);
	return st;
}

sigil_status sigild_service_reload_if_changed(sigild_service *s, bool *changed, sigil_error *err)
{
	if (!s || !changed)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigild_service_reload_if_changed: missing argument");
	*changed = false;
	pthread_mutex_lock(&s->reload_lock);
	char *rev = NULL;
	sigil_status st = sigild__trust_revision(s->cfg.config_dir, &rev, err);
	if (st != SIGIL_STATUS_OK)
		reload_count(s, false); /* the files could not even be read */
	if (st == SIGIL_STATUS_OK) {
		sigild_snapshot *cur = snapshot_get(s);
		int same = strcmp(cur->revision, rev) == 0;
		sigild__snapshot_unref(cur);
		if (!same) {
			*changed = true;
			st = reload_locked(s, err);
		} else {
			/* the files are back to the configuration in force: an
			 * earlier failed reload no longer describes them */
			set_reload_error(s, NULL);
		}
	}
	free(rev);
	pthread_mutex_unlock(&s->reload_lock);
	return st;
}

char *sigild_service_revision(sigild_service *s)
{
	if (!s)
		return NULL;
	sigild_snapshot *snap = snapshot_get(s);
	char *r = strdup(snap->revision);
	sigild__snapshot_unref(snap);
	return r;
}

/* --- responses -------------------------------------------------------- */

void sigild_verify_response_free(Sigil__V1__VerifyResponse *resp)
{
	if (resp)
		sigil__v1__verify_response__free_unpacked(resp, NULL);
}

void sigild_status_response_free(Sigil__V1__StatusResponse *resp)
{
	if (resp)
		sigil__v1__status_response__free_unpacked(resp, NULL);
}

/* set_str - replace a string field with a malloc'd copy (free_unpacked
 * frees every string that is not the shared empty default) */
static int set_str(char **field, const char *v)
{
	char *copy = strdup(v ? v : "");
	if (!copy)
		return -1;
	if (*field && *field != protobuf_c_empty_string)
		free(*field);
	*field = copy;
	return 0;
}

static Sigil__V1__VerifyResponse *response_new(void)
{
	Sigil__V1__VerifyResponse *r = malloc(sizeof *r);
	if (r)
		sigil__v1__verify_response__init(r);
	return r;
}

static Sigil__V1__VerifyResponse *response_simple(bool allow, const char *reason, const char *failure)
{
	Sigil__V1__VerifyResponse *r = response_new();
	if (!r)
		return NULL;
	r->verdict = allow ? SIGIL__V1__VERDICT__VERDICT_ALLOW : SIGIL__V1__VERDICT__VERDICT_DENY;
	if (set_str(&r->reason, reason) || set_str(&r->failure, failure)) {
		sigild_verify_response_free(r);
		return NULL;
	}
	return r;
}

static Sigil__V1__CheckOutcome outcome_of(sigil_outcome o)
{
	switch (o) {
	case SIGIL_OUTCOME_NOT_RUN: return SIGIL__V1__CHECK_OUTCOME__CHECK_OUTCOME_NOT_RUN;
	case SIGIL_OUTCOME_PASS: return SIGIL__V1__CHECK_OUTCOME__CHECK_OUTCOME_PASS;
	case SIGIL_OUTCOME_FAIL: return SIGIL__V1__CHECK_OUTCOME__CHECK_OUTCOME_FAIL;
	case SIGIL_OUTCOME_SKIPPED: return SIGIL__V1__CHECK_OUTCOME__CHECK_OUTCOME_SKIPPED;
	}
	return SIGIL__V1__CHECK_OUTCOME__CHECK_OUTCOME_UNSPECIFIED;
}

static Sigil__V1__SignatureResult *signature_of(const sigil_signature_result *sr)
{
	Sigil__V1__SignatureResult *p = malloc(sizeof *p);
	if (!p)
		return NULL;
	sigil__v1__signature_result__init(p);
	sigil_check failed = sigil_signature_result_failed_check(sr);
	p->verified = sigil_signature_result_verdict(sr) == SIGIL_VERDICT_PASS;
	int bad = set_str(&p->digest, sigil_signature_result_digest(sr)) ||
		set_str(&p->envelope_media_type, sigil_signature_result_media_type(sr)) ||
		set_str(&p->failed_check, failed < SIGIL_CHECK__COUNT ? sigil_check_name(failed) : "") ||
		set_str(&p->signer, sigil_signature_result_signer(sr));
	if (!bad) {
		p->checks = calloc(SIGIL_CHECK__COUNT, sizeof *p->checks);
		bad = !p->checks;
	}
	for (int c = 0; !bad && c < SIGIL_CHECK__COUNT; c++) {
		Sigil__V1__CheckResult *cr = malloc(sizeof *cr);
		if (!cr) {
			bad = 1;
			break;
		}
		sigil__v1__check_result__init(cr);
		p->checks[p->n_checks++] = cr;
		sigil_outcome o = sigil_signature_result_outcome(sr, (sigil_check)c);
		cr->outcome = outcome_of(o);
		bad = set_str(&cr->check, sigil_check_name((sigil_check)c)) ||
			set_str(&cr->action, sigil_action_name(sigil_signature_result_action(sr, (sigil_check)c))) ||
			set_str(&cr->message, sigil_signature_result_message(sr, (sigil_check)c)) ||
			set_str(&cr->category, o == SIGIL_OUTCOME_FAIL ?
				sigil_category_name(sigil_signature_result_category(sr, (sigil_check)c)) : "");
	}
	if (bad) {
		sigil__v1__signature_result__free_unpacked(p, NULL);
		return NULL;
	}
	return p;
}

static Sigil__V1__VerifyResponse *response_of(const sigil_result *res)
{
	Sigil__V1__VerifyResponse *r = response_new();
	if (!r)
		return NULL;
	int pass = sigil_result_verdict(res) == SIGIL_VERDICT_PASS;
	const char *policy = sigil_result_policy_name(res);
	r->verdict = pass ? SIGIL__V1__VERDICT__VERDICT_ALLOW : SIGIL__V1__VERDICT__VERDICT_DENY;
	int bad = set_str(&r->reason, sigil_result_reason(res)) || set_str(&r->policy, policy) ||
		set_str(&r->level, policy && policy[0] ? sigil_level_name(sigil_result_level(res)) : "") ||
		set_str(&r->failure, pass ? "" : sigil_failure_name(sigil_result_failure(res)));
	size_t n = sigil_result_signature_count(res);
	if (!bad && n) {
		r->signatures = calloc(n, sizeof *r->signatures);
		bad = !r->signatures;
	}
	for (size_t i = 0; !bad && i < n; i++) {
		Sigil__V1__SignatureResult *p = signature_of(sigil_result_signature_get(res, i));
		if (!p)
			bad = 1;
		else
			r->signatures[r->n_signatures++] = p;
	}
	if (bad) {
		sigild_verify_response_free(r);
		return NULL;
	}
	return r;
}

/* --- one verification ---------------------------------------------- */

typedef struct request {
	const char *image;
	const char *digest;
	sigil_reference *ref;
	const char **md_keys;
	const char **md_values;
	size_t md_count;
	/* the cache key's third part: the repository (it selects the policy
	 * statement and where signatures are discovered, so one digest can
	 * have different verdicts under different names) and the sorted,
	 * length-prefixed user metadata requirements */
	char *md_canonical;
} request;

static void request_clear(request *q)
{
	sigil_reference_free(q->ref);
	free(q->md_keys);
	free(q->md_values);
	free(q->md_canonical);
}

static int md_cmp(const void *a, const void *b)
{
	const Sigil__V1__VerifyRequest__UserMetadataEntry *x = *(Sigil__V1__VerifyRequest__UserMetadataEntry *const *)a;
	const Sigil__V1__VerifyRequest__UserMetadataEntry *y = *(Sigil__V1__VerifyRequest__UserMetadataEntry *const *)b;
	return strcmp(x->key, y->key);
}

/* request_parse - validate what the gRPC layer received. Every failure is
 * SIGIL_ERR_USAGE: the forwarder (or CLI) sent something unusable. */
static sigil_status request_parse(const Sigil__V1__VerifyRequest *req, request *q, sigil_error *err)
{
	memset(q, 0, sizeof *q);
	if (!req)
		return sigil__err(err, SIGIL_ERR_USAGE, "missing request");
	q->image = req->image_name ? req->image_name : "";
	q->digest = req->digest ? req->digest : "";
	if (!q->image[0])
		return sigil__err(err, SIGIL_ERR_USAGE, "missing image name");
	if (strlen(q->image) > SIGILD_MAX_NAME)
		return sigil__err(err, SIGIL_ERR_USAGE, "image name longer than %d bytes", SIGILD_MAX_NAME);
	if (!q->digest[0])
		return sigil__err(err, SIGIL_ERR_USAGE, "missing digest");
	/* design rule 2: the digest is what is verified, so it must be
	 * well-formed and agree with the descriptor containerd gave */
	if (!sigild__digest_valid(q->digest))
		return sigil__err(err, SIGIL_ERR_USAGE,
			"digest \"%.200s\" is not sha256:<64 lower-case hex> or sha512:<128 lower-case hex>", q->digest);
	if (req->descriptor) {
		const char *dd = req->descriptor->digest ? req->descriptor->digest : "";
		if (strcmp(dd, q->digest) != 0)
			return sigil__err(err, SIGIL_ERR_USAGE, "descriptor digest \"%.200s\" does not match digest %s",
				dd, q->digest);
	}
	sigil_error e = SIGIL_ERROR_INIT;
	if (sigil_reference_parse(&q->ref, q->image, 1, &e) != SIGIL_STATUS_OK)
		return sigil__err(err, SIGIL_ERR_USAGE, "image name \"%.200s\": %s", q->image, e.message);
	const char *rd = sigil_reference_digest(q->ref);
	if (rd[0] && strcmp(rd, q->digest) != 0)
		return sigil__err(err, SIGIL_ERR_USAGE, "image name \"%.200s\" names digest %s, not %s", q->image,
			rd, q->digest);
	size_t n = req->n_user_metadata;
	if (n > SIGILD_MAX_USER_METADATA)
		return sigil__err(err, SIGIL_ERR_USAGE, "%zu user metadata requirements, more than the %d allowed", n,
			SIGILD_MAX_USER_METADATA);
	Sigil__V1__VerifyRequest__UserMetadataEntry **sorted = n ? calloc(n, sizeof *sorted) : NULL;
	q->md_keys = n ? calloc(n, sizeof *q->md_keys) : NULL;
	q->md_values = n ? calloc(n, sizeof *q->md_values) : NULL;
	if (n && (!sorted || !q->md_keys || !q->md_values)) {
		free(sorted);
		return sigil__err_oom(err);
	}
	const char *repo = sigil_reference_repository(q->ref);
	size_t total = strlen(repo) + 32;
	for (size_t i = 0; i < n; i++) {
		Sigil__V1__VerifyRequest__UserMetadataEntry *m = req->user_metadata[i];
		if (!m || !m->key || !m->key[0] || !m->value) {
			free(sorted);
			return sigil__err(err, SIGIL_ERR_USAGE, "user metadata entry %zu has an empty key", i);
		}
		sorted[i] = m;
		total += strlen(m->key) + strlen(m->value) + 48;
	}
	if (n)
		qsort(sorted, n, sizeof *sorted, md_cmp);
	q->md_canonical = malloc(total);
	if (!q->md_canonical) {
		free(sorted);
		return sigil__err_oom(err);
	}
	size_t off = (size_t)snprintf(q->md_canonical, total, "%zu:%s", strlen(repo), repo);
	for (size_t i = 0; i < n; i++) {
		if (i && strcmp(sorted[i - 1]->key, sorted[i]->key) == 0) {
			sigil_status st = sigil__err(err, SIGIL_ERR_USAGE, "user metadata key \"%.200s\" given twice",
				sorted[i]->key);
			free(sorted);
			return st;
		}
		q->md_keys[i] = sorted[i]->key;
		q->md_values[i] = sorted[i]->value;
		/* length-prefixed: no key or value can forge another pair */
		off += (size_t)snprintf(q->md_canonical + off, total - off, "%zu:%s%zu:%s", strlen(sorted[i]->key),
			sorted[i]->key, strlen(sorted[i]->value), sorted[i]->value);
	}
	q->md_count = n;
	free(sorted);
	return SIGIL_STATUS_OK;
}

/* verify_now - registry discovery + sigil_verify. *store tells whether the
 * verdict may be cached (local failures such as a busy pool may not). */
static Sigil__V1__VerifyResponse *verify_now(sigild_service *s, sigild_snapshot *snap, const request *q,
	int64_t deadline_ms, int64_t *valid_until, bool *store)
{
	*valid_until = INT64_MAX;
	*store = true;
	int64_t limit = now_ms() + s->cfg.verify_timeout_ms;
	/* design rule 4: never work past the caller's deadline */
	int64_t deadline = deadline_ms > 0 && deadline_ms < limit ? deadline_ms : limit;
	char reason[SIGIL_ERROR_MESSAGE_MAX + 64];
	if (now_ms() >= deadline) {
		*store = false;
		atomic_fetch_add(&s->errors, 1);
		return response_simple(false, "the request's deadline passed before verification started", "retrieval");
	}
	sigil_error e = SIGIL_ERROR_INIT;
	sigil_registry *reg = NULL;
	if (pool_acquire(s, deadline, &reg, &e) != SIGIL_STATUS_OK) {
		*store = false;
		atomic_fetch_add(&s->errors, 1);
		snprintf(reason, sizeof reason, "could not verify: %s", e.message);
		return response_simple(false, reason, "retrieval");
	}
	sigil_source *src = NULL;
	if (sigil_registry_source(reg, q->ref, deadline, &src, &e) != SIGIL_STATUS_OK) {
		pool_release(s, reg);
		atomic_fetch_add(&s->errors, 1);
		snprintf(reason, sizeof reason, "could not reach the registry of %s: %s",
			sigil_reference_repository(q->ref), e.message);
		return response_simple(false, reason, "retrieval");
	}
	sigil_verify_options o = SIGIL_VERIFY_OPTIONS_INIT;
	o.scope = sigil_reference_repository(q->ref);
	o.digest = q->digest;
	o.max_signatures = s->cfg.max_signatures;
	o.deadline_ms = deadline;
	o.user_metadata_keys = q->md_keys;
	o.user_metadata_values = q->md_values;
	o.user_metadata_count = q->md_count;
	sigil_result *res = NULL;
	sigil_status st = sigil_verify(snap->verifier, src, &o, &res, &e);
	sigil_source_free(src);
	pool_release(s, reg);
	if (st != SIGIL_STATUS_OK) {
		atomic_fetch_add(&s->errors, 1);
		snprintf(reason, sizeof reason, "could not verify: %s", e.message);
		return response_simple(false, reason, "error");
	}
	Sigil__V1__VerifyResponse *r = response_of(res);
	*valid_until = sigil_result_valid_until(res);
	sigil_result_free(res);
	return r;
}

static const char *signer_of(const Sigil__V1__VerifyResponse *r)
{
	for (size_t i = 0; i < r->n_signatures; i++)
		if (r->signatures[i]->verified)
			return r->signatures[i]->signer;
	return "";
}

static verdict_summary summary_of(const Sigil__V1__VerifyResponse *r)
{
	return (verdict_summary){
		.allow = r->verdict == SIGIL__V1__VERDICT__VERDICT_ALLOW,
		.cached = r->cached,
		.dry_run_override = r->dry_run_override,
		.allow_listed = r->allow_listed,
		.reason = r->reason,
		.policy = r->policy,
		.level = r->level,
		.failure = r->failure,
		.signer = signer_of(r),
		.check = failure_check(r),
	};
}

/* summary_strings_len - the bytes summary_of_spans needs in buf */
static size_t summary_strings_len(const sigild_span sp[SIGILD_SUMMARY_SPANS])
{
	size_t need = 0;
	for (size_t i = 0; i < SIGILD_SUMMARY_SPANS; i++)
		need += sp[i].len + 1;
	return need;
}

/* summary_of_spans - a cached verdict's summary, its strings copied out
 * of val and NUL-terminated in buf (summary_strings_len bytes) */
static verdict_summary summary_of_spans(const uint8_t *val, bool allow, const sigild_span sp[SIGILD_SUMMARY_SPANS],
	char *buf)
{
	const char *str[SIGILD_SUMMARY_SPANS];
	for (size_t i = 0; i < SIGILD_SUMMARY_SPANS; i++) {
		memcpy(buf, val + sp[i].off, sp[i].len);
		buf[sp[i].len] = 0;
		str[i] = buf;
		buf += sp[i].len + 1;
	}
	return (verdict_summary){
		.allow = allow,
		.cached = true,
		.reason = str[SIGILD_SPAN_REASON],
		.policy = str[SIGILD_SPAN_POLICY],
		.level = str[SIGILD_SPAN_LEVEL],
		.failure = str[SIGILD_SPAN_FAILURE],
		.signer = str[SIGILD_SPAN_SIGNER],
		.check = str[SIGILD_SPAN_CHECK][0] ? str[SIGILD_SPAN_CHECK] : str[SIGILD_SPAN_FAILURE][0] ? str[SIGILD_SPAN_FAILURE] : "none",
	};
}

static void audit_request(sigild_service *s, const char *image, const char *digest,
	const verdict_summary *r, int64_t elapsed_us)
{
	sigild_audit_record rec = {
		.image = image,
		.digest = digest,
		.allow = r->allow,
		.reason = r->reason,
		.policy = r->policy,
		.level = r->level,
		.failure = r->failure,
		.signer = r->signer,
		.cached = r->cached,
		.dry_run_override = r->dry_run_override,
		.allow_listed = r->allow_listed,
		.elapsed_us = elapsed_us,
	};
	sigild_audit_log(s->audit, &rec);
}

static int allow_listed(const sigild_service *s, const char *digest)
{
	for (size_t i = 0; i < s->cfg.allow_count; i++)
		if (strcmp(s->cfg.allow_digests[i], digest) == 0)
			return 1;
	return 0;
}

/* A verification's cache flight, completed only after the verifying
 * request's audit line is written: the requests that waited for it are
 * answered from the cache and audited then, so the log shows the
 * verification before the cached answers it gave. */
typedef struct pending_flight {
	sigild_cache_flight *flight; /* NULL: nothing pending */
	uint8_t *value;              /* NULL: abandon the flight */
	size_t len;
	bool store, allow;
	int64_t valid_until;
} pending_flight;

static void pending_complete(sigild_service *s, pending_flight *p)
{
	if (!p->flight)
		return;
	if (!p->value)
		sigild_cache_abandon(s->cache, p->flight);
	else if (p->store)
		sigild_cache_finish(s->cache, p->flight, p->value, p->len, p->allow, p->valid_until);
	else
		sigild_cache_publish(s->cache, p->flight, p->value, p->len);
	free(p->value);
	*p = (pending_flight){ 0 };
}

/* decide - the verdict before the dry-run override; a verification this
 * request led leaves its flight in *pend (pending_complete) */
static Sigil__V1__VerifyResponse *decide(sigild_service *s, const request *q, bool no_cache,
	int64_t deadline_ms, pending_flight *pend, sigil_error *err)
{
	if (allow_listed(s, q->digest)) {
		/* design rule 1: the break-glass list is one of the three ways
		 * an unverified image gets through; it is audited as such */
		Sigil__V1__VerifyResponse *r = response_simple(true, REASON_ALLOW_LISTED, "");
		if (r)
			r->allow_listed = true;
		return r;
	}
	sigild_snapshot *snap = snapshot_get(s);
	Sigil__V1__VerifyResponse *r = NULL;
	int64_t valid_until = 0;
	bool store = false;
	if (no_cache) {
		r = verify_now(s, snap, q, deadline_ms, &valid_until, &store);
		sigild__snapshot_unref(snap);
		return r;
	}
	sigild_cache_outcome oc;
	uint8_t *val = NULL;
	size_t len = 0;
	bool shared = false;
	sigild_cache_flight *flight = NULL;
	int64_t wait_deadline = deadline_ms > 0 ? deadline_ms : now_ms() + s->cfg.verify_timeout_ms;
	if (sigild_cache_begin(s->cache, snap->revision, q->digest, q->md_canonical, wait_deadline, &oc, &val,
		&len, &shared, &flight, err) != SIGIL_STATUS_OK) {
		sigild__snapshot_unref(snap);
		return NULL;
	}
	switch (oc) {
	case SIGILD_CACHE_HIT: {
		/* the answer's bytes, as the I/O thread gives them */
		size_t answer_len;
		bool allow;
		sigild_span sp[SIGILD_SUMMARY_SPANS];
		r = sigild_cache_value_parse(val, len, &answer_len, &allow, sp) ?
			sigil__v1__verify_response__unpack(NULL, answer_len, val) : NULL;
		free(val);
		if (r) {
			r->cached = true;
			r->elapsed_us = 0;
		}
		break;
	}
	case SIGILD_CACHE_TIMEOUT:
		atomic_fetch_add(&s->errors, 1);
		r = response_simple(false, REASON_WAIT_TIMEOUT, "retrieval");
		break;
	case SIGILD_CACHE_LEAD:
		r = verify_now(s, snap, q, deadline_ms, &valid_until, &store);
		pend->flight = flight;
		pend->value = r ? sigild_cache_value_pack(r, &pend->len) : NULL;
		pend->store = store;
		pend->allow = r && r->verdict == SIGIL__V1__VERDICT__VERDICT_ALLOW;
		pend->valid_until = valid_until;
		break;
	}
	sigild__snapshot_unref(snap);
	if (!r)
		sigil__err_oom(err);
	return r;
}

/* count_and_audit - the counters, metrics and audit line of an answer,
 * v being the verdict returned (after the dry-run override) */
static void count_and_audit(sigild_service *s, const request *q, const verdict_summary *v, bool denied,
	int64_t elapsed)
{
	if (v->allow)
		atomic_fetch_add(&s->allows, 1);
	else
		atomic_fetch_add(&s->denies, 1);
	metrics_count(s, v, denied, elapsed);
	audit_request(s, q->image, q->digest, v, elapsed);
}

/* conclude - everything after the verdict, shared by sigild_service_verify
 * and sigild_service_verify_cached so that a decision is counted, observed
 * and audited alike whichever thread took it: elapsed time, the dry-run
 * override, the allow/deny counters, metrics, the audit line. Takes r;
 * *out = r on success. */
static sigil_status conclude(sigild_service *s, const request *q, Sigil__V1__VerifyResponse *r,
	int64_t t0, Sigil__V1__VerifyResponse **out, sigil_error *err)
{
	int64_t elapsed = now_us() - t0;
	if (!r->cached)
		r->elapsed_us = elapsed;
	bool denied = r->verdict != SIGIL__V1__VERDICT__VERDICT_ALLOW;
	if (denied && s->cfg.mode == SIGILD_MODE_DRY_RUN) {
		/* design rule 1: dry-run lets the pull through, and says what
		 * enforce mode would have done */
		char *reason = NULL;
		if (asprintf(&reason, "dry-run: would deny: %s", r->reason ? r->reason : "") < 0) {
			sigild_verify_response_free(r);
			return sigil__err_oom(err);
		}
		if (r->reason != protobuf_c_empty_string)
			free(r->reason);
		r->reason = reason;
		r->verdict = SIGIL__V1__VERDICT__VERDICT_ALLOW;
		r->dry_run_override = true;
		atomic_fetch_add(&s->dry_run_would_deny, 1);
	}
	verdict_summary v = summary_of(r);
	count_and_audit(s, q, &v, denied, elapsed);
	*out = r;
	return SIGIL_STATUS_OK;
}

sigil_status sigild_service_verify(sigild_service *s, const Sigil__V1__VerifyRequest *req, int64_t deadline_ms,
	Sigil__V1__VerifyResponse **out, sigil_error *err)
{
	if (!s || !out)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigild_service_verify: missing argument");
	int64_t t0 = now_us();
	request q;
	if (request_parse(req, &q, err) != SIGIL_STATUS_OK) {
		request_clear(&q);
		atomic_fetch_add(&s->errors, 1);
		sigild_metric_add(s->m.invalid, NULL, 1);
		/* an unusable request is denied by the caller; the log still
		 * records that a pull was refused and why */
		char reason[SIGIL_ERROR_MESSAGE_MAX + 32];
		snprintf(reason, sizeof reason, "invalid request: %s", err ? err->message : "");
		Sigil__V1__VerifyResponse tmp = SIGIL__V1__VERIFY_RESPONSE__INIT;
		tmp.verdict = SIGIL__V1__VERDICT__VERDICT_DENY;
		tmp.reason = reason;
		verdict_summary v = summary_of(&tmp);
		audit_request(s, req && req->image_name ? req->image_name : "",
			req && req->digest ? req->digest : "", &v, now_us() - t0);
		return SIGIL_STATUS_ERROR;
	}
	pending_flight pend = { 0 };
	Sigil__V1__VerifyResponse *r = decide(s, &q, req->no_cache, deadline_ms, &pend, err);
	if (!r) {
		pending_complete(s, &pend);
		request_clear(&q);
		atomic_fetch_add(&s->errors, 1);
		return SIGIL_STATUS_ERROR;
	}
	sigil_status st = conclude(s, &q, r, t0, out, err);
	pending_complete(s, &pend);
	request_clear(&q);
	return st;
}

/* answer_packed - conclude's answer as the bytes of the call; takes r */
static sigil_status answer_packed(Sigil__V1__VerifyResponse *r, uint8_t **out, size_t *out_len,
	sigil_error *err)
{
	size_t n = sigil__v1__verify_response__get_packed_size(r);
	uint8_t *p = malloc(n ? n : 1);
	if (!p) {
		sigild_verify_response_free(r);
		return sigil__err_oom(err);
	}
	*out_len = sigil__v1__verify_response__pack(r, p);
	*out = p;
	sigild_verify_response_free(r);
	return SIGIL_STATUS_OK;
}

sigil_status sigild_service_verify_cached(sigild_service *s, const Sigil__V1__VerifyRequest *req,
	uint8_t **out, size_t *out_len, sigil_error *err)
{
	if (!s || !out || !out_len)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigild_service_verify_cached: missing argument");
	*out = NULL;
	*out_len = 0;
	/* no_cache asks for a registry round trip; an unusable request is
	 * refused, counted and audited by sigild_service_verify alone */
	if (!req || req->no_cache)
		return SIGIL_STATUS_OK;
	int64_t t0 = now_us();
	request q;
	sigil_error ignored = SIGIL_ERROR_INIT;
	if (request_parse(req, &q, &ignored) != SIGIL_STATUS_OK) {
		request_clear(&q);
		return SIGIL_STATUS_OK;
	}
	Sigil__V1__VerifyResponse *r = NULL;
	sigil_status st;
	if (allow_listed(s, q.digest)) {
		/* as decide() does: the allow-list before the cache */
		r = response_simple(true, REASON_ALLOW_LISTED, "");
		if (!r) {
			/* nothing counted yet: the worker path tries again */
			request_clear(&q);
			return SIGIL_STATUS_OK;
		}
		r->allow_listed = true;
		st = conclude(s, &q, r, t0, &r, err);
		request_clear(&q);
		return st == SIGIL_STATUS_OK ? answer_packed(r, out, out_len, err) : st;
	}
	sigild_snapshot *snap = snapshot_get(s);
	uint8_t *val = NULL;
	size_t len = 0;
	bool hit = sigild_cache_peek(s->cache, snap->revision, q.digest, q.md_canonical, &val, &len);
	sigild__snapshot_unref(snap);
	if (!hit) {
		request_clear(&q);
		return SIGIL_STATUS_OK;
	}
	/* the hit is counted: from here on, as decide() after a hit */
	size_t answer_len;
	bool allow;
	sigild_span sp[SIGILD_SUMMARY_SPANS];
	if (!sigild_cache_value_parse(val, len, &answer_len, &allow, sp)) {
		free(val);
		request_clear(&q);
		atomic_fetch_add(&s->errors, 1);
		return sigil__err(err, SIGIL_ERR_INTERNAL, "a cached verdict is not a cache value");
	}
	if (!allow && s->cfg.mode == SIGILD_MODE_DRY_RUN) {
		/* the answer changes (conclude's override): unpacked, as the
		 * worker path does */
		r = sigil__v1__verify_response__unpack(NULL, answer_len, val);
		free(val);
		if (!r) {
			request_clear(&q);
			atomic_fetch_add(&s->errors, 1);
			return sigil__err_oom(err);
		}
		r->cached = true;
		r->elapsed_us = 0;
		st = conclude(s, &q, r, t0, &r, err);
		request_clear(&q);
		return st == SIGIL_STATUS_OK ? answer_packed(r, out, out_len, err) : st;
	}
	/* as conclude() for a cached answer that stays as it is; the
	 * strings NUL-terminated for the audit line and the metrics */
	char small[1024];
	size_t need = summary_strings_len(sp);
	char *buf = need <= sizeof small ? small : malloc(need);
	if (!buf) {
		free(val);
		request_clear(&q);
		atomic_fetch_add(&s->errors, 1);
		return sigil__err_oom(err);
	}
	verdict_summary v = summary_of_spans(val, allow, sp, buf);
	count_and_audit(s, &q, &v, !allow, now_us() - t0);
	if (buf != small)
		free(buf);
	request_clear(&q);
	/* the answer is the value's head; the summary behind it goes with
	 * it (freed with the call's payload) */
	*out = val;
	*out_len = answer_len;
	return SIGIL_STATUS_OK;
}

/* --- status ----------------------------------------------------------- */

sigil_status sigild_service_status(sigild_service *s, Sigil__V1__StatusResponse **out, sigil_error *err)
{
	if (!s || !out)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigild_service_status: missing argument");
	Sigil__V1__StatusResponse *r = malloc(sizeof *r);
	Sigil__V1__CacheStats *cs = malloc(sizeof *cs);
	if (!r || !cs) {
		free(r);
		free(cs);
		return sigil__err_oom(err);
	}
	sigil__v1__status_response__init(r);
	sigil__v1__cache_stats__init(cs);
	r->cache = cs;
	sigild_cache_stats st;
	sigild_cache_stats_get(s->cache, &st);
	cs->entries = st.entries;
	cs->capacity = st.capacity;
	cs->hits = st.hits;
	cs->misses = st.misses;
	cs->evictions = st.evictions;
	sigild_snapshot *snap = snapshot_get(s);
	pthread_mutex_lock(&s->lock);
	int bad = set_str(&r->last_reload_error, s->last_reload_error);
	pthread_mutex_unlock(&s->lock);
	bad = bad || set_str(&r->version, sigil_version()) || set_str(&r->policy_revision, snap->revision) ||
		set_str(&r->config_dir, s->cfg.config_dir) || set_str(&r->mode, sigild_config_mode_name(s->cfg.mode));
	sigild__snapshot_unref(snap);
	if (bad) {
		sigild_status_response_free(r);
		return sigil__err_oom(err);
	}
	r->uptime_seconds = (now_ms() - s->started_ms) / 1000;
	r->allows = atomic_load(&s->allows);
	r->denies = atomic_load(&s->denies);
	r->errors = atomic_load(&s->errors);
	r->dry_run_would_deny = atomic_load(&s->dry_run_would_deny);
	if (s->refresher) {
		Sigil__V1__RevocationStats *rs = malloc(sizeof *rs);
		if (!rs) {
			sigild_status_response_free(r);
			return sigil__err_oom(err);
		}
		sigil__v1__revocation_stats__init(rs);
		sigild_refresh_stats fs;
		sigild_refresher_stats(s->refresher, &fs);
		rs->refresh_passes = fs.passes;
		rs->refreshed = fs.refreshed;
		rs->refresh_failures = fs.failures;
		rs->refresh_deferred = fs.deferred;
		rs->cached_crls = fs.crl_entries;
		rs->cached_ocsp_responses = fs.ocsp_entries;
		r->revocation = rs;
	}
	*out = r;
	return SIGIL_STATUS_OK;
}

sigil_status sigild_service_reopen_audit(sigild_service *s, sigil_error *err)
{
	if (!s)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigild_service_reopen_audit: missing argument");
	return sigild_audit_reopen(s->audit, err);
}
