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
#include "audit.h"
#include "reload.h"
#include "refresh.h"
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

static sigil_status registry_new(const sigild_config *cfg, sigil_registry **out, sigil_error *err)
{
	sigil_registry_options o = SIGIL_REGISTRY_OPTIONS_INIT;
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
			if (registry_new(&s->cfg, out, err) == SIGIL_STATUS_OK)
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
	sigild_config_clear(&s->cfg);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->reload_lock);
	pthread_mutex_destroy(&s->pool_lock);
	pthread_cond_destroy(&s->pool_cond);
	free(s);
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
	if (registry_new(&s->cfg, &reg, err) != SIGIL_STATUS_OK) {
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

static sigil_status reload_locked(sigild_service *s, sigil_error *err)
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

static void audit_request(sigild_service *s, const char *image, const char *digest,
	const Sigil__V1__VerifyResponse *r, int64_t elapsed_us)
{
	sigild_audit_record rec = {
		.image = image,
		.digest = digest,
		.allow = r->verdict == SIGIL__V1__VERDICT__VERDICT_ALLOW,
		.reason = r->reason,
		.policy = r->policy,
		.level = r->level,
		.failure = r->failure,
		.signer = signer_of(r),
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

/* decide - the verdict before the dry-run override */
static Sigil__V1__VerifyResponse *decide(sigild_service *s, const request *q, bool no_cache,
	int64_t deadline_ms, sigil_error *err)
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
	int64_t valid_until;
	bool store;
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
	case SIGILD_CACHE_HIT:
		r = sigil__v1__verify_response__unpack(NULL, len, val);
		free(val);
		if (r) {
			r->cached = true;
			r->elapsed_us = 0;
		}
		break;
	case SIGILD_CACHE_TIMEOUT:
		atomic_fetch_add(&s->errors, 1);
		r = response_simple(false, REASON_WAIT_TIMEOUT, "retrieval");
		break;
	case SIGILD_CACHE_LEAD: {
		r = verify_now(s, snap, q, deadline_ms, &valid_until, &store);
		size_t n = r ? sigil__v1__verify_response__get_packed_size(r) : 0;
		uint8_t *packed = r ? malloc(n ? n : 1) : NULL;
		if (!packed) {
			sigild_cache_abandon(s->cache, flight);
		} else {
			sigil__v1__verify_response__pack(r, packed);
			if (store)
				sigild_cache_finish(s->cache, flight, packed, n,
					r->verdict == SIGIL__V1__VERDICT__VERDICT_ALLOW, valid_until);
			else
				sigild_cache_publish(s->cache, flight, packed, n);
		}
		free(packed);
		break;
	}
	}
	sigild__snapshot_unref(snap);
	if (!r)
		sigil__err_oom(err);
	return r;
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
		/* an unusable request is denied by the caller; the log still
		 * records that a pull was refused and why */
		char reason[SIGIL_ERROR_MESSAGE_MAX + 32];
		snprintf(reason, sizeof reason, "invalid request: %s", err ? err->message : "");
		Sigil__V1__VerifyResponse tmp = SIGIL__V1__VERIFY_RESPONSE__INIT;
		tmp.verdict = SIGIL__V1__VERDICT__VERDICT_DENY;
		tmp.reason = reason;
		audit_request(s, req && req->image_name ? req->image_name : "",
			req && req->digest ? req->digest : "", &tmp, now_us() - t0);
		return SIGIL_STATUS_ERROR;
	}
	Sigil__V1__VerifyResponse *r = decide(s, &q, req->no_cache, deadline_ms, err);
	if (!r) {
		request_clear(&q);
		atomic_fetch_add(&s->errors, 1);
		return SIGIL_STATUS_ERROR;
	}
	int64_t elapsed = now_us() - t0;
	if (!r->cached)
		r->elapsed_us = elapsed;
	if (r->verdict != SIGIL__V1__VERDICT__VERDICT_ALLOW && s->cfg.mode == SIGILD_MODE_DRY_RUN) {
		/* design rule 1: dry-run lets the pull through, and says what
		 * enforce mode would have done */
		char *reason = NULL;
		if (asprintf(&reason, "dry-run: would deny: %s", r->reason ? r->reason : "") < 0) {
			sigild_verify_response_free(r);
			request_clear(&q);
			return sigil__err_oom(err);
		}
		if (r->reason != protobuf_c_empty_string)
			free(r->reason);
		r->reason = reason;
		r->verdict = SIGIL__V1__VERDICT__VERDICT_ALLOW;
		r->dry_run_override = true;
		atomic_fetch_add(&s->dry_run_would_deny, 1);
	}
	if (r->verdict == SIGIL__V1__VERDICT__VERDICT_ALLOW)
		atomic_fetch_add(&s->allows, 1);
	else
		atomic_fetch_add(&s->denies, 1);
	audit_request(s, q.image, q.digest, r, elapsed);
	request_clear(&q);
	*out = r;
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
