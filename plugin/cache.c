/* cache.c - the verdict cache: hash table + LRU list + in-flight table,
 * one mutex. See cache.h for the contract. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>
#include "cache.h"
#include "util.h"

typedef struct entry {
	struct entry *hnext;       /* hash chain */
	struct entry *prev, *next; /* LRU list, head = most recently used */
	uint64_t hash;
	char *revision, *digest, *extra;
	uint8_t *value;
	size_t len;
	int64_t expires; /* epoch seconds; served while now < expires */
} entry;

enum { FLIGHT_PENDING = 0, FLIGHT_DONE, FLIGHT_ABANDONED };

struct sigild_cache_flight {
	struct sigild_cache_flight *next; /* in-flight list */
	uint64_t hash;
	char *revision, *digest, *extra;
	int refs;  /* the leader and every waiter */
	int state;
	uint8_t *value;
	size_t len;
	pthread_cond_t cond;
};

struct sigild_cache {
	pthread_mutex_t lock;
	entry **buckets;
	size_t nbuckets; /* power of two */
	entry *head, *tail;
	size_t count, capacity;
	int64_t max_allow_s, deny_s;
	char *revision; /* NULL: any revision is current */
	sigild_cache_flight *flights;
	uint64_t seed;
	sigild_cache_clock clock;
	void *clock_ctx;
	uint64_t hits, misses, evictions, collapsed;
};

static int64_t wall_clock(void *ctx)
{
	(void)ctx;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* FNV-1a over the three fields with a per-process random seed, so that
 * request-chosen digests cannot be crafted into one long hash chain. */
static uint64_t key_hash(uint64_t seed, const char *rev, const char *digest, const char *extra)
{
	uint64_t h = 14695981039346656037ull ^ seed;
	const char *parts[3] = { rev, digest, extra };
	for (int p = 0; p < 3; p++) {
		for (const unsigned char *s = (const unsigned char *)parts[p]; *s; s++) {
			h ^= *s;
			h *= 1099511628211ull;
		}
		h ^= 0xff; /* separator: ("ab","c") != ("a","bc") */
		h *= 1099511628211ull;
	}
	h ^= h >> 33;
	return h;
}

static int key_eq(uint64_t h1, const char *r1, const char *d1, const char *e1, uint64_t h2,
	const char *r2, const char *d2, const char *e2)
{
	return h1 == h2 && strcmp(r1, r2) == 0 && strcmp(d1, d2) == 0 && strcmp(e1, e2) == 0;
}

sigil_status sigild_cache_new(sigild_cache **out, size_t capacity, int64_t max_allow_s, int64_t deny_s,
	sigil_error *err)
{
	if (!out || capacity == 0 || max_allow_s < 0 || deny_s < 0)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigild_cache_new: invalid argument");
	sigild_cache *c = calloc(1, sizeof *c);
	if (!c)
		return sigil__err_oom(err);
	size_t nb = 16;
	while (nb < capacity && nb < ((size_t)1 << 20))
		nb <<= 1;
	c->buckets = calloc(nb, sizeof *c->buckets);
	if (!c->buckets) {
		free(c);
		return sigil__err_oom(err);
	}
	c->nbuckets = nb;
	c->capacity = capacity;
	c->max_allow_s = max_allow_s;
	c->deny_s = deny_s;
	c->clock = wall_clock;
	if (getrandom(&c->seed, sizeof c->seed, GRND_NONBLOCK) != (ssize_t)sizeof c->seed)
		c->seed = (uint64_t)mono_ms() ^ (uint64_t)(uintptr_t)c;
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c->buckets);
		free(c);
		return sigil__err(err, SIGIL_ERR_INTERNAL, "pthread_mutex_init failed");
	}
	*out = c;
	return SIGIL_STATUS_OK;
}

static void entry_free(entry *e)
{
	if (!e)
		return;
	free(e->revision);
	free(e->digest);
	free(e->extra);
	free(e->value);
	free(e);
}

static void lru_unlink(sigild_cache *c, entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = NULL;
}

static void lru_push_front(sigild_cache *c, entry *e)
{
	e->prev = NULL;
	e->next = c->head;
	if (c->head)
		c->head->prev = e;
	c->head = e;
	if (!c->tail)
		c->tail = e;
}

/* remove e from the table and the list, and free it */
static void entry_remove(sigild_cache *c, entry *e)
{
	entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];
	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	lru_unlink(c, e);
	c->count--;
	entry_free(e);
}

void sigild_cache_free(sigild_cache *c)
{
	if (!c)
		return;
	entry *e = c->head;
	while (e) {
		entry *n = e->next;
		entry_free(e);
		e = n;
	}
	/* flights still referenced belong to their callers; a cache is freed
	 * only once no request uses it */
	free(c->buckets);
	free(c->revision);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

void sigild_cache_set_clock(sigild_cache *c, sigild_cache_clock clock, void *ctx)
{
	if (!c)
		return;
	c->clock = clock ? clock : wall_clock;
	c->clock_ctx = clock ? ctx : NULL;
}

static int revision_current(const sigild_cache *c, const char *rev)
{
	return !c->revision || strcmp(c->revision, rev) == 0;
}

sigil_status sigild_cache_set_revision(sigild_cache *c, const char *revision, sigil_error *err)
{
	if (!c || !revision)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigild_cache_set_revision: missing argument");
	char *copy = strdup(revision);
	if (!copy)
		return sigil__err_oom(err);
	pthread_mutex_lock(&c->lock);
	free(c->revision);
	c->revision = copy;
	entry *e = c->head;
	while (e) {
		entry *n = e->next;
		if (strcmp(e->revision, revision) != 0)
			entry_remove(c, e);
		e = n;
	}
	pthread_mutex_unlock(&c->lock);
	return SIGIL_STATUS_OK;
}

static void flight_release(sigild_cache_flight *f)
{
	/* caller holds the cache lock */
	if (--f->refs > 0)
		return;
	pthread_cond_destroy(&f->cond);
	free(f->revision);
	free(f->digest);
	free(f->extra);
	free(f->value);
	free(f);
}

static void flight_unlink(sigild_cache *c, sigild_cache_flight *f)
{
	sigild_cache_flight **pp = &c->flights;
	while (*pp && *pp != f)
		pp = &(*pp)->next;
	if (*pp)
		*pp = f->next;
	f->next = NULL;
}

static sigil_status flight_new(uint64_t h, const char *rev, const char *digest, const char *extra,
	sigild_cache_flight **out, sigil_error *err)
{
	sigild_cache_flight *f = calloc(1, sizeof *f);
	if (!f)
		return sigil__err_oom(err);
	f->hash = h;
	f->revision = strdup(rev);
	f->digest = strdup(digest);
	f->extra = strdup(extra);
	if (!f->revision || !f->digest || !f->extra) {
		free(f->revision);
		free(f->digest);
		free(f->extra);
		free(f);
		return sigil__err_oom(err);
	}
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	/* waiters' deadlines are CLOCK_MONOTONIC, as the registry client's */
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	int rc = pthread_cond_init(&f->cond, &attr);
	pthread_condattr_destroy(&attr);
	if (rc != 0) {
		free(f->revision);
		free(f->digest);
		free(f->extra);
		free(f);
		return sigil__err(err, SIGIL_ERR_INTERNAL, "pthread_cond_init failed");
	}
	f->refs = 1;
	*out = f;
	return SIGIL_STATUS_OK;
}

static uint8_t *dup_bytes(const uint8_t *v, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);
	if (p && len)
		memcpy(p, v, len);
	return p;
}

sigil_status sigild_cache_begin(sigild_cache *c, const char *revision, const char *digest,
	const char *extra, int64_t deadline_ms, sigild_cache_outcome *outcome, uint8_t **value,
	size_t *len, bool *shared, sigild_cache_flight **flight, sigil_error *err)
{
	if (!c || !revision || !digest || !outcome || !value || !len || !shared || !flight)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigild_cache_begin: missing argument");
	if (!extra)
		extra = "";
	uint64_t h = key_hash(c->seed, revision, digest, extra);
	pthread_mutex_lock(&c->lock);
	for (;;) {
		/* 1. a stored entry of the current revision */
		entry *e = c->buckets[h & (c->nbuckets - 1)];
		while (e && !key_eq(e->hash, e->revision, e->digest, e->extra, h, revision, digest, extra))
			e = e->hnext;
		if (e && (!revision_current(c, e->revision) || c->clock(c->clock_ctx) >= e->expires)) {
			entry_remove(c, e);
			e = NULL;
		}
		if (e) {
			uint8_t *copy = dup_bytes(e->value, e->len);
			if (!copy) {
				pthread_mutex_unlock(&c->lock);
				return sigil__err_oom(err);
			}
			lru_unlink(c, e);
			lru_push_front(c, e);
			c->hits++;
			*value = copy;
			*len = e->len;
			*shared = false;
			*outcome = SIGILD_CACHE_HIT;
			pthread_mutex_unlock(&c->lock);
			return SIGIL_STATUS_OK;
		}
		/* 2. a verification of the same key in progress: wait for it */
		sigild_cache_flight *f = c->flights;
		while (f && !key_eq(f->hash, f->revision, f->digest, f->extra, h, revision, digest, extra))
			f = f->next;
		if (!f) {
			/* 3. nobody: the caller verifies */
			sigild_cache_flight *nf = NULL;
			if (flight_new(h, revision, digest, extra, &nf, err) != SIGIL_STATUS_OK || !nf) {
				pthread_mutex_unlock(&c->lock);
				return SIGIL_STATUS_ERROR;
			}
			nf->next = c->flights;
			c->flights = nf;
			c->misses++;
			*flight = nf;
			*outcome = SIGILD_CACHE_LEAD;
			pthread_mutex_unlock(&c->lock);
			return SIGIL_STATUS_OK;
		}
		f->refs++;
		struct timespec ts = { (time_t)(deadline_ms / 1000), (long)(deadline_ms % 1000) * 1000000L };
		int rc = 0;
		while (f->state == FLIGHT_PENDING && rc != ETIMEDOUT)
			rc = pthread_cond_timedwait(&f->cond, &c->lock, &ts);
		if (f->state == FLIGHT_DONE) {
			uint8_t *copy = dup_bytes(f->value, f->len);
			if (!copy) {
				flight_release(f);
				pthread_mutex_unlock(&c->lock);
				return sigil__err_oom(err);
			}
			c->hits++;
			c->collapsed++;
			*value = copy;
			*len = f->len;
			*shared = true;
			*outcome = SIGILD_CACHE_HIT;
			flight_release(f);
			pthread_mutex_unlock(&c->lock);
			return SIGIL_STATUS_OK;
		}
		int abandoned = f->state == FLIGHT_ABANDONED;
		flight_release(f);
		if (!abandoned) {
			*outcome = SIGILD_CACHE_TIMEOUT;
			pthread_mutex_unlock(&c->lock);
			return SIGIL_STATUS_OK;
		}
		/* the leader gave up: start over, perhaps as the new leader */
		if (mono_ms() >= deadline_ms) {
			*outcome = SIGILD_CACHE_TIMEOUT;
			pthread_mutex_unlock(&c->lock);
			return SIGIL_STATUS_OK;
		}
	}
}

bool sigild_cache_peek(sigild_cache *c, const char *revision, const char *digest,
	const char *extra, uint8_t **value, size_t *len)
{
	if (!c || !revision || !digest || !value || !len)
		return false;
	if (!extra)
		extra = "";
	uint64_t h = key_hash(c->seed, revision, digest, extra);
	bool hit = false;
	pthread_mutex_lock(&c->lock);
	entry *e = c->buckets[h & (c->nbuckets - 1)];
	while (e && !key_eq(e->hash, e->revision, e->digest, e->extra, h, revision, digest, extra))
		e = e->hnext;
	/* the same tests as sigild_cache_begin's step 1; an entry that fails
	 * them is left for sigild_cache_begin to drop */
	if (e && revision_current(c, e->revision) && c->clock(c->clock_ctx) < e->expires) {
		uint8_t *copy = dup_bytes(e->value, e->len);
		if (copy) {
			lru_unlink(c, e);
			lru_push_front(c, e);
			c->hits++;
			*value = copy;
			*len = e->len;
			hit = true;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return hit;
}

static void store(sigild_cache *c, sigild_cache_flight *f, int64_t expires)
{
	/* caller holds the lock; f->value is set */
	entry *e = c->buckets[f->hash & (c->nbuckets - 1)];
	while (e && !key_eq(e->hash, e->revision, e->digest, e->extra, f->hash, f->revision, f->digest,
		f->extra))
		e = e->hnext;
	if (e)
		entry_remove(c, e); /* a no_cache request's result replaces it */
	entry *n = calloc(1, sizeof *n);
	if (!n)
		return; /* caching is an optimisation: skip on allocation failure */
	n->hash = f->hash;
	n->revision = strdup(f->revision);
	n->digest = strdup(f->digest);
	n->extra = strdup(f->extra);
	n->value = dup_bytes(f->value, f->len);
	n->len = f->len;
	n->expires = expires;
	if (!n->revision || !n->digest || !n->extra || !n->value) {
		entry_free(n);
		return;
	}
	while (c->count >= c->capacity && c->tail) {
		entry_remove(c, c->tail);
		c->evictions++;
	}
	size_t b = n->hash & (c->nbuckets - 1);
	n->hnext = c->buckets[b];
	c->buckets[b] = n;
	lru_push_front(c, n);
	c->count++;
}

static void complete(sigild_cache *c, sigild_cache_flight *f, const uint8_t *value, size_t len,
	bool keep, bool allow, int64_t valid_until)
{
	if (!c || !f)
		return;
	uint8_t *copy = value ? dup_bytes(value, len) : NULL;
	if (!copy) {
		sigild_cache_abandon(c, f);
		return;
	}
	pthread_mutex_lock(&c->lock);
	flight_unlink(c, f);
	f->value = copy;
	f->len = len;
	f->state = FLIGHT_DONE;
	pthread_cond_broadcast(&f->cond);
	int64_t now = c->clock(c->clock_ctx);
	int64_t expires;
	if (allow) {
		/* design rule 6: reusable until the earliest expiry among the
		 * signature and its certificates, bounded by the maximum */
		expires = now > INT64_MAX - c->max_allow_s ? INT64_MAX : now + c->max_allow_s;
		if (valid_until < expires)
			expires = valid_until;
	} else {
		expires = now + c->deny_s;
	}
	if (keep && expires > now && revision_current(c, f->revision))
		store(c, f, expires);
	flight_release(f);
	pthread_mutex_unlock(&c->lock);
}

void sigild_cache_finish(sigild_cache *c, sigild_cache_flight *f, const uint8_t *value, size_t len,
	bool allow, int64_t valid_until)
{
	complete(c, f, value, len, true, allow, valid_until);
}

void sigild_cache_publish(sigild_cache *c, sigild_cache_flight *f, const uint8_t *value, size_t len)
{
	complete(c, f, value, len, false, false, 0);
}

void sigild_cache_abandon(sigild_cache *c, sigild_cache_flight *f)
{
	if (!c || !f)
		return;
	pthread_mutex_lock(&c->lock);
	flight_unlink(c, f);
	f->state = FLIGHT_ABANDONED;
	pthread_cond_broadcast(&f->cond);
	flight_release(f);
	pthread_mutex_unlock(&c->lock);
}

void sigild_cache_stats_get(sigild_cache *c, sigild_cache_stats *out)
{
	if (!out)
		return;
	memset(out, 0, sizeof *out);
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	out->entries = c->count;
	out->capacity = c->capacity;
	out->hits = c->hits;
	out->misses = c->misses;
	out->evictions = c->evictions;
	out->collapsed = c->collapsed;
	pthread_mutex_unlock(&c->lock);
}
