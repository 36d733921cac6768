/* revocation_refresh.c - background refresh of a revocation cache
 * directory (sigil_revocation_refresher in <sigil/verify.h>): CRLs and
 * OCSP responses are downloaded again before their nextUpdate, so that a
 * pull never waits for a download that could have been done earlier
 * (issue 6).
 *
 * A pass (1) lists the entries of <cache>/crl and <cache>/ocsp and learns
 * each one's thisUpdate/nextUpdate (remembered per file between passes,
 * so a large CRL is parsed again only when it changes), (2) takes the due
 * ones, most urgent first, and downloads them again from their source
 * record (revocation_source.c) within the pass's bounds, skipping
 * endpoints that are backing off after failures. What comes back is
 * validated as a pull would validate it (§6.3, §6.4) and replaces the
 * entry only when newer. */
#include <dirent.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include "bounds.h"
#include "cleanup.h"
#include "errors.h"
#include "http.h"
#include "revocation.h"
#include "revocation_internal.h"
#include "timeutil.h"
#include <sigil/verify.h>

/* What a pass learnt about one cache file, reused while the file is the
 * same (device, inode, size, modification time). */
typedef struct memo {
	sigil__rev_kind kind;
	char name[65];
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	int usable;            /* its times could be read */
	int delta;             /* CRL entries: a delta CRL (its URL serves deltas) */
	int64_t this_update, next_update;
	/* downloaded again and nothing newer came: not before this (epoch s),
	 * so that entries the CA has not renewed yet do not take every pass's
	 * downloads from the others */
	int64_t recheck_at;
} memo;

/* An endpoint that failed: not asked again before retry_at (epoch s). */
typedef struct backoff {
	char key[65];          /* hex(SHA-256(URL)) */
	uint32_t failures;
	int64_t retry_at;
} backoff;

struct sigil_revocation_refresher {
	sigil__revocation *rv;  /* its own checker: HTTP handle, timeouts, schemes */
	memo *memos;
	size_t nmemos;
	backoff *backoffs;
	size_t nbackoffs;
	atomic_int cancelled;
};

typedef struct due {
	memo *m;               /* in the refresher's memos, stable during a pass */
	int64_t next_update;
} due;

static inline void closedirp(DIR **d) { if (*d) closedir(*d); }

/* ---- back-off ---------------------------------------------------------------- */

static backoff *backoff_find(sigil_revocation_refresher *r, const char *key)
{
	for (size_t i = 0; i < r->nbackoffs; i++)
		if (strcmp(r->backoffs[i].key, key) == 0)
			return &r->backoffs[i];
	return NULL;
}

static int backing_off(sigil_revocation_refresher *r, const char *url, int64_t now)
{
	char key[65];
	sigil__rev_hex_sha256(url, strlen(url), key);
	backoff *b = backoff_find(r, key);
	return b && now < b->retry_at;
}

static void backoff_failed(sigil_revocation_refresher *r, const char *url, int64_t now)
{
	char key[65];
	sigil__rev_hex_sha256(url, strlen(url), key);
	backoff *b = backoff_find(r, key);
	if (!b) {
		if (r->nbackoffs < SIGIL_MAX_REVOCATION_REFRESH_BACKOFFS) {
			backoff *n = realloc(r->backoffs, (r->nbackoffs + 1) * sizeof *n);
			if (!n)
				return;
			r->backoffs = n;
			b = &r->backoffs[r->nbackoffs++];
		} else {
			/* full: forget the endpoint due back soonest */
			b = &r->backoffs[0];
			for (size_t i = 1; i < r->nbackoffs; i++)
				if (r->backoffs[i].retry_at < b->retry_at)
					b = &r->backoffs[i];
		}
		memset(b, 0, sizeof *b);
		memcpy(b->key, key, sizeof b->key);
	}
	if (b->failures < 31)
		b->failures++;
	int64_t delay = SIGIL_REVOCATION_REFRESH_BACKOFF_S;
	for (uint32_t i = 1; i < b->failures && delay < SIGIL_REVOCATION_REFRESH_MAX_BACKOFF_S; i++)
		delay *= 2;
	if (delay > SIGIL_REVOCATION_REFRESH_MAX_BACKOFF_S)
		delay = SIGIL_REVOCATION_REFRESH_MAX_BACKOFF_S;
	b->retry_at = now + delay;
}

static void backoff_answered(sigil_revocation_refresher *r, const char *url)
{
	char key[65];
	sigil__rev_hex_sha256(url, strlen(url), key);
	backoff *b = backoff_find(r, key);
	if (b)
		*b = r->backoffs[--r->nbackoffs];
}

/* ---- the times of a cache entry ------------------------------------------------ */

static int crl_times(const uint8_t *buf, size_t len, int64_t *this_update, int64_t *next_update,
	int *delta)
{
	X509_CRL *crl = sigil__rev_crl_from_bytes(buf, len);
	int ok = crl && X509_CRL_get0_nextUpdate(crl) &&
		sigil__time_from_asn1(X509_CRL_get0_lastUpdate(crl), this_update, NULL) == SIGIL_STATUS_OK &&
		sigil__time_from_asn1(X509_CRL_get0_nextUpdate(crl), next_update, NULL) == SIGIL_STATUS_OK;
	if (ok)
		*delta = sigil__rev_crl_is_delta(crl);
	X509_CRL_free(crl);
	ERR_clear_error();
	return ok;
}

/* The times of the response's first SingleResponse: sigil asks about one
 * certificate per request (§6.3), responders answer with one. The full
 * checks are made on what replaces it. */
static int ocsp_times(const uint8_t *buf, size_t len, int64_t *this_update, int64_t *next_update)
{
	if (len > SIGIL_MAX_OCSP_RESPONSE_SIZE)
		return 0;
	const unsigned char *p = buf;
	OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
	OCSP_BASICRESP *bs = resp ? OCSP_response_get1_basic(resp) : NULL;
	OCSP_SINGLERESP *single = bs && OCSP_resp_count(bs) > 0 ? OCSP_resp_get0(bs, 0) : NULL;
	ASN1_GENERALIZEDTIME *tu = NULL, *nu = NULL;
	int ok = single && OCSP_single_get0_status(single, NULL, NULL, &tu, &nu) >= 0 && tu && nu &&
		sigil__time_from_asn1(tu, this_update, NULL) == SIGIL_STATUS_OK &&
		sigil__time_from_asn1(nu, next_update, NULL) == SIGIL_STATUS_OK;
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	ERR_clear_error();
	return ok;
}

static int memo_cmp(const void *a, const void *b)
{
	const memo *x = a, *y = b;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The memo of (kind, name) if the file is still the same; memos are
 * sorted by memo_cmp. */
static const memo *memo_find(const memo *memos, size_t n, sigil__rev_kind kind, const char *name,
	const struct stat *st)
{
	memo key;
	memset(&key, 0, sizeof key);
	key.kind = kind;
	snprintf(key.name, sizeof key.name, "%s", name);
	const memo *m = n ? bsearch(&key, memos, n, sizeof *memos, memo_cmp) : NULL;
	if (m && m->dev == st->st_dev && m->ino == st->st_ino && m->size == st->st_size &&
	    m->mtime.tv_sec == st->st_mtim.tv_sec && m->mtime.tv_nsec == st->st_mtim.tv_nsec)
		return m;
	return NULL;
}

/* Step (1) for one kind: the entries of <cache>/<kind>, their times into
 * *next (the memo for the following pass); the count in *entries. */
static sigil_status scan(sigil_revocation_refresher *r, sigil__rev_kind kind, memo **next,
	size_t *nnext, uint64_t *entries, sigil_error *err)
{
	const char *cache = r->rv->cache_dir, *sub = sigil__rev_kind_dir(kind);
	char path[4096];
	if (snprintf(path, sizeof path, "%s/%s", cache, sub) >= (int)sizeof path)
		return sigil__err(err, SIGIL_ERR_USAGE, "revocation refresh: cache directory path too long");
	_cleanup_(closedirp) DIR *d = opendir(path);
	struct dirent *de;
	/* entries, their source records and a little else */
	size_t seen = 0, looked = 0;
	while (d && (de = readdir(d)) && seen < SIGIL_MAX_REVOCATION_REFRESH_FILES &&
	       looked++ < 3 * (size_t)SIGIL_MAX_REVOCATION_REFRESH_FILES) {
		struct stat st;
		if (!sigil__rev_is_entry_name(de->d_name) ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
			continue;
		seen++;
		memo m;
		const memo *old = memo_find(r->memos, r->nmemos, kind, de->d_name, &st);
		if (old) {
			m = *old;
		} else {
			memset(&m, 0, sizeof m);
			m.kind = kind;
			memcpy(m.name, de->d_name, sizeof m.name);
			m.dev = st.st_dev;
			m.ino = st.st_ino;
			m.size = st.st_size;
			m.mtime = st.st_mtim;
			uint8_t *buf = NULL;
			size_t len = 0;
			size_t max = kind == SIGIL__REV_KIND_CRL ? SIGIL_MAX_CRL_SIZE :
				SIGIL_MAX_OCSP_RESPONSE_SIZE + 1;
			if (sigil__rev_file_read(cache, sub, m.name, max, &buf, &len)) {
				m.usable = kind == SIGIL__REV_KIND_CRL ?
					crl_times(buf, len, &m.this_update, &m.next_update, &m.delta) :
					ocsp_times(buf, len, &m.this_update, &m.next_update);
				free(buf);
			}
		}
		memo *grown = realloc(*next, (*nnext + 1) * sizeof *grown);
		if (!grown)
			return sigil__err_oom(err);
		*next = grown;
		(*next)[(*nnext)++] = m;
	}
	*entries = seen;
	return SIGIL_STATUS_OK;
}

static int by_next_update(const void *a, const void *b)
{
	const due *x = a, *y = b;
	return (x->next_update > y->next_update) - (x->next_update < y->next_update);
}

/* How long before its nextUpdate an entry is refreshed: horizon_s, or a
 * tenth of its validity period when that is shorter. */
static int64_t margin_of(const memo *m, int64_t horizon_s)
{
	int64_t margin = horizon_s;
	if (m->next_update > m->this_update && (m->next_update - m->this_update) / 10 < margin)
		margin = (m->next_update - m->this_update) / 10;
	return margin;
}

/* Due at now: within its margin of its nextUpdate, or past it. */
static int is_due(const memo *m, int64_t now, int64_t horizon_s)
{
	int64_t left = 0;
	return __builtin_sub_overflow(m->next_update, now, &left) || left <= margin_of(m, horizon_s);
}

/* After an unchanged download: a few more tries within the margin. */
static int64_t recheck_delay(const memo *m, int64_t horizon_s)
{
	int64_t d = margin_of(m, horizon_s) / 3;
	if (d > SIGIL_REVOCATION_REFRESH_RECHECK_S)
		d = SIGIL_REVOCATION_REFRESH_RECHECK_S;
	return d < 1 ? 1 : d;
}

/* ---- step (2): one entry ------------------------------------------------------- */

typedef enum outcome { OUT_SKIPPED, OUT_REFRESHED, OUT_UNCHANGED, OUT_FAILED, OUT_DEFERRED } outcome;

typedef struct pass {
	int64_t now;
	int64_t deadline_ms;
	sigil_revocation_refresh_report *rep;
} pass;

/* May another download start? */
static int may_download(sigil_revocation_refresher *r, const pass *p)
{
	return !atomic_load(&r->cancelled) &&
		p->rep->downloads < SIGIL_MAX_REVOCATION_REFRESH_DOWNLOADS &&
		(p->deadline_ms == 0 || sigil__now_ms() < p->deadline_ms);
}

/* the deadline of one download: its own timeout, within the pass's */
static int64_t download_deadline(const pass *p, int64_t timeout_ms)
{
	int64_t d = sigil__now_ms() + timeout_ms;
	return p->deadline_ms && p->deadline_ms < d ? p->deadline_ms : d;
}

static outcome refresh_crl(sigil_revocation_refresher *r, pass *p, const memo *e,
	const sigil__rev_source *src)
{
	sigil__revocation *rv = r->rv;
	char scheme[16];
	if (!sigil__rev_scheme_ok(rv, src->url, scheme, sizeof scheme))
		return OUT_SKIPPED;
	if (backing_off(r, src->url, p->now) || !may_download(r, p))
		return OUT_DEFERRED;
	sigil__http_response resp;
	memset(&resp, 0, sizeof resp);
	sigil_error e2 = SIGIL_ERROR_INIT;
	p->rep->downloads++;
	if (sigil__rev_http(rv, "GET", src->url, NULL, 0, NULL, 0, SIGIL_MAX_CRL_SIZE - 1,
		rv->crl_timeout_ms, download_deadline(p, rv->crl_timeout_ms), &resp, &e2) != SIGIL_STATUS_OK) {
		backoff_failed(r, src->url, p->now);
		return OUT_FAILED;
	}
	outcome o = OUT_FAILED;
	X509_CRL *crl = NULL;
	int64_t nu = 0, last = 0;
	/* the same validation as a pull (§6.4), of the same kind (a delta
	 * CRL's URL serves delta CRLs) */
	if (resp.status == 200 &&
	    sigil__crl_parse(resp.body, resp.body_len, &crl, &e2) == SIGIL_STATUS_OK &&
	    sigil__rev_crl_usable(crl, src->issuer, p->now, e->delta, &nu) &&
	    sigil__time_from_asn1(X509_CRL_get0_lastUpdate(crl), &last, NULL) == SIGIL_STATUS_OK) {
		backoff_answered(r, src->url);
		if (last <= e->this_update)
			o = OUT_UNCHANGED;
		else if (sigil__rev_cache_write(rv, "crl", e->name, resp.body, resp.body_len))
			o = OUT_REFRESHED;
	} else {
		backoff_failed(r, src->url, p->now);
	}
	X509_CRL_free(crl);
	sigil__http_response_clear(&resp);
	ERR_clear_error();
	return o;
}

static outcome refresh_ocsp(sigil_revocation_refresher *r, pass *p, const memo *e,
	const sigil__rev_source *src)
{
	sigil__revocation *rv = r->rv;
	uint8_t *req = NULL;
	size_t req_len = 0;
	sigil_error err = SIGIL_ERROR_INIT;
	if (sigil__ocsp_request(src->cert, src->issuer, &req, &req_len, &err) != SIGIL_STATUS_OK)
		return OUT_SKIPPED;
	char *urls[SIGIL_MAX_REVOCATION_URLS];
	size_t n = 0;
	sigil__rev_ocsp_urls(src->cert, urls, &n);
	outcome o = OUT_SKIPPED;
	/* the responders in the certificate's order, as a pull asks them
	 * (§6.3), passing over those backing off */
	for (size_t i = 0; i < n && o != OUT_REFRESHED && o != OUT_UNCHANGED; i++) {
		char scheme[16];
		if (!sigil__rev_scheme_ok(rv, urls[i], scheme, sizeof scheme))
			continue;
		if (backing_off(r, urls[i], p->now) || !may_download(r, p)) {
			if (o == OUT_SKIPPED)
				o = OUT_DEFERRED;
			continue;
		}
		sigil__http_response resp;
		memset(&resp, 0, sizeof resp);
		sigil_error e2 = SIGIL_ERROR_INIT;
		p->rep->downloads++;
		if (sigil__rev_ocsp_exchange(rv, urls[i], req, req_len,
			download_deadline(p, rv->ocsp_timeout_ms), &resp, &e2) != SIGIL_STATUS_OK) {
			backoff_failed(r, urls[i], p->now);
			o = OUT_FAILED;
			continue;
		}
		sigil__rev_status st = SIGIL__REV_UNKNOWN;
		int64_t nu = 0, tu = 0, ignored = 0;
		/* a definitive, valid answer (good or revoked: a revocation is
		 * news a pull must get) that is newer than the entry */
		if (resp.status == 200 &&
		    sigil__ocsp_response_check(resp.body, resp.body_len, src->cert, src->issuer, p->now,
			0, &st, &nu, &e2) == SIGIL_STATUS_OK && st != SIGIL__REV_UNKNOWN &&
		    ocsp_times(resp.body, resp.body_len, &tu, &ignored)) {
			backoff_answered(r, urls[i]);
			if (tu <= e->this_update)
				o = OUT_UNCHANGED;
			else if (sigil__rev_cache_write(rv, "ocsp", e->name, resp.body, resp.body_len))
				o = OUT_REFRESHED;
			else
				o = OUT_FAILED;
		} else {
			backoff_failed(r, urls[i], p->now);
			o = OUT_FAILED;
		}
		sigil__http_response_clear(&resp);
	}
	sigil__rev_free_urls(urls, n);
	free(req);
	ERR_clear_error();
	return o;
}

/* ---- the refresher ------------------------------------------------------------- */

/* The options both entry points take, checked in the words of the one
 * the caller called. */
static sigil_status check_options(const char *fn, const sigil_revocation_options *opts, sigil_error *err)
{
	if (!opts)
		return sigil__err(err, SIGIL_ERR_USAGE, "%s: missing argument", fn);
	if (opts->version < 1 || opts->version > SIGIL_REVOCATION_OPTIONS_VERSION)
		return sigil__err(err, SIGIL_ERR_USAGE, "%s: options of another version", fn);
	if (!opts->cache_dir || !opts->cache_dir[0])
		return sigil__err(err, SIGIL_ERR_USAGE, "%s: a cache directory is required", fn);
	return SIGIL_STATUS_OK;
}

SIGIL_EXPORT sigil_status sigil_revocation_refresher_new(sigil_revocation_refresher **out,
	const sigil_revocation_options *opts, sigil_error *err)
{
	if (!out)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigil_revocation_refresher_new: missing argument");
	SIGIL_TRY(check_options("sigil_revocation_refresher_new", opts, err));
	sigil_revocation_refresher *r = calloc(1, sizeof *r);
	if (!r)
		return sigil__err_oom(err);
	atomic_init(&r->cancelled, 0);
	/* no on_fetch: a pass's downloads are counted in its report */
	sigil__rev_config cfg = { opts->cache_dir, NULL, opts->allow_https != 0,
		opts->ocsp_timeout_ms, opts->crl_timeout_ms, NULL, NULL };
	if (sigil__revocation_new(&r->rv, &cfg, err) != SIGIL_STATUS_OK) {
		free(r);
		return SIGIL_STATUS_ERROR;
	}
	*out = r;
	return SIGIL_STATUS_OK;
}

SIGIL_EXPORT void sigil_revocation_refresher_cancel(sigil_revocation_refresher *r)
{
	if (r)
		atomic_store(&r->cancelled, 1);
}

SIGIL_EXPORT void sigil_revocation_refresher_free(sigil_revocation_refresher *r)
{
	if (!r)
		return;
	sigil__revocation_free(r->rv);
	free(r->memos);
	free(r->backoffs);
	free(r);
}

SIGIL_EXPORT sigil_status sigil_revocation_refresher_run(sigil_revocation_refresher *r,
	int64_t now, int64_t horizon_s, int64_t deadline_ms, sigil_revocation_refresh_report *report,
	sigil_error *err)
{
	if (!r)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigil_revocation_refresher_run: missing argument");
	if (horizon_s < 0)
		return sigil__err(err, SIGIL_ERR_USAGE, "revocation refresh: negative horizon");
	if (report && report->version != SIGIL_REVOCATION_REFRESH_REPORT_VERSION)
		return sigil__err(err, SIGIL_ERR_USAGE,
			"sigil_revocation_refresher_run: report of another version");
	sigil_revocation_refresh_report rep = SIGIL_REVOCATION_REFRESH_REPORT_INIT;
	memo *next = NULL;
	size_t nnext = 0;
	/* (1) the entries and their times, before anything is replaced */
	if (scan(r, SIGIL__REV_KIND_CRL, &next, &nnext, &rep.crl_entries, err) != SIGIL_STATUS_OK ||
	    scan(r, SIGIL__REV_KIND_OCSP, &next, &nnext, &rep.ocsp_entries, err) != SIGIL_STATUS_OK) {
		free(next);
		return SIGIL_STATUS_ERROR;
	}
	if (nnext > 1) {
		qsort(next, nnext, sizeof *next, memo_cmp);
		/* a file a verifier replaced while the directory was read can
		 * show up twice */
		size_t k = 1;
		for (size_t i = 1; i < nnext; i++)
			if (memo_cmp(&next[i], &next[k - 1]) != 0)
				next[k++] = next[i];
		nnext = k;
	}
	free(r->memos);
	r->memos = next;
	r->nmemos = nnext;
	due *todo = NULL;
	size_t ntodo = 0;
	for (size_t i = 0; i < r->nmemos; i++) {
		const memo *m = &r->memos[i];
		if (!m->usable || !is_due(m, now, horizon_s))
			continue;
		due *grown = realloc(todo, (ntodo + 1) * sizeof *grown);
		if (!grown) {
			free(todo);
			return sigil__err_oom(err);
		}
		todo = grown;
		todo[ntodo].m = &r->memos[i];
		todo[ntodo++].next_update = m->next_update;
	}
	/* (2) the most urgent first: when the pass's bounds cut it short, what
	 * is left is what can wait */
	if (ntodo > 1)
		qsort(todo, ntodo, sizeof *todo, by_next_update);
	pass p = { now, deadline_ms, &rep };
	for (size_t i = 0; i < ntodo; i++) {
		memo *m = todo[i].m;
		sigil__rev_source src;
		memset(&src, 0, sizeof src);
		if (!sigil__rev_source_load(r->rv->cache_dir, m->kind, m->name, &src))
			continue;
		outcome o = OUT_DEFERRED;
		if (now >= m->recheck_at)
			o = m->kind == SIGIL__REV_KIND_CRL ? refresh_crl(r, &p, m, &src) :
				refresh_ocsp(r, &p, m, &src);
		sigil__rev_source_clear(&src);
		if (o == OUT_SKIPPED)
			continue;
		rep.due++;
		switch (o) {
		case OUT_REFRESHED: rep.refreshed++; break;
		case OUT_UNCHANGED:
			rep.unchanged++;
			m->recheck_at = now + recheck_delay(m, horizon_s);
			break;
		case OUT_FAILED: rep.failed++; break;
		default: rep.deferred++; break;
		}
	}
	free(todo);
	if (report)
		*report = rep;
	return SIGIL_STATUS_OK;
}

SIGIL_EXPORT sigil_status sigil_revocation_refresh(const sigil_revocation_options *opts,
	int64_t now, int64_t horizon_s, size_t *refreshed, sigil_error *err)
{
	SIGIL_TRY(check_options("sigil_revocation_refresh", opts, err));
	sigil_revocation_refresher *r = NULL;
	SIGIL_TRY(sigil_revocation_refresher_new(&r, opts, err));
	sigil_revocation_refresh_report rep = SIGIL_REVOCATION_REFRESH_REPORT_INIT;
	sigil_status st = sigil_revocation_refresher_run(r, now, horizon_s, 0, &rep, err);
	sigil_revocation_refresher_free(r);
	if (st == SIGIL_STATUS_OK && refreshed)
		*refreshed = (size_t)rep.refreshed;
	return st;
}
