/* test-sigild-cache.c - the verdict cache: expiry (injected clock),
 * revisions, LRU eviction, single-flight collapsing with threads, waiter
 * deadlines, abandon and publish, the non-blocking peek. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "check.h"
#include "cache.h"

static int64_t fake_now = 1700000000;

static int64_t fake_clock(void *ctx)
{
	(void)ctx;
	return fake_now;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"

static sigild_cache *new_cache(size_t cap, int64_t max_allow, int64_t deny)
{
	sigild_cache *c = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	if (sigild_cache_new(&c, cap, max_allow, deny, &err) != SIGIL_STATUS_OK) {
		fprintf(stderr, "sigild_cache_new: %s\n", err.message);
		exit(2);
	}
	sigild_cache_set_clock(c, fake_clock, NULL);
	return c;
}

/* lookup - begin; returns the outcome; on HIT compares the value */
static sigild_cache_outcome lookup(sigild_cache *c, const char *rev, const char *digest, const char *extra,
	const char *want, sigild_cache_flight **flight)
{
	sigild_cache_outcome oc = SIGILD_CACHE_TIMEOUT;
	uint8_t *v = NULL;
	size_t len = 0;
	bool shared = true;
	sigild_cache_flight *f = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigild_cache_begin(c, rev, digest, extra, mono_ms() + 1000, &oc, &v, &len, &shared, &f, &err) ==
		SIGIL_STATUS_OK);
	if (oc == SIGILD_CACHE_HIT) {
		CHECK(!shared);
		if (want) {
			CHECK_INTEQ(len, strlen(want));
			CHECK(v && memcmp(v, want, len) == 0);
		}
		free(v);
	}
	if (flight)
		*flight = f;
	else if (f)
		sigild_cache_abandon(c, f);
	return oc;
}

static void put(sigild_cache *c, const char *rev, const char *digest, const char *extra, const char *val,
	bool allow, int64_t valid_until)
{
	sigild_cache_flight *f = NULL;
	CHECK_INTEQ(lookup(c, rev, digest, extra, NULL, &f), SIGILD_CACHE_LEAD);
	sigild_cache_finish(c, f, (const uint8_t *)val, strlen(val), allow, valid_until);
}

static void test_hit_miss(void)
{
	sigild_cache *c = new_cache(10, 3600, 10);
	put(c, "r1", D1, "", "allow-1", true, INT64_MAX);
	CHECK_INTEQ(lookup(c, "r1", D1, "", "allow-1", NULL), SIGILD_CACHE_HIT);
	CHECK_INTEQ(lookup(c, "r1", D1, "", "allow-1", NULL), SIGILD_CACHE_HIT);
	/* other digest, other metadata requirements, other revision: misses */
	CHECK_INTEQ(lookup(c, "r1", D2, "", NULL, NULL), SIGILD_CACHE_LEAD);
	CHECK_INTEQ(lookup(c, "r1", D1, "3:env4:prod", NULL, NULL), SIGILD_CACHE_LEAD);
	CHECK_INTEQ(lookup(c, "r2", D1, "", NULL, NULL), SIGILD_CACHE_LEAD);
	/* NULL extra is the same as "" */
	CHECK_INTEQ(lookup(c, "r1", D1, NULL, "allow-1", NULL), SIGILD_CACHE_HIT);
	sigild_cache_stats st;
	sigild_cache_stats_get(c, &st);
	CHECK_INTEQ(st.entries, 1);
	CHECK_INTEQ(st.capacity, 10);
	CHECK_INTEQ(st.hits, 3);
	CHECK_INTEQ(st.misses, 4);
	CHECK_INTEQ(st.evictions, 0);
	CHECK_INTEQ(st.collapsed, 0);
	/* an empty value is a value */
	put(c, "r1", D3, "", "", false, 0);
	CHECK_INTEQ(lookup(c, "r1", D3, "", "", NULL), SIGILD_CACHE_HIT);
	sigild_cache_free(c);

	sigil_error err = SIGIL_ERROR_INIT;
	sigild_cache *bad = NULL;
	CHECK(sigild_cache_new(&bad, 0, 1, 1, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_USAGE);
	CHECK(sigild_cache_new(&bad, 1, -1, 1, &err) == SIGIL_STATUS_ERROR);
	sigild_cache_free(NULL);
}

static void test_allow_expiry(void)
{
	sigild_cache *c = new_cache(10, 100, 10);
	int64_t t0 = fake_now;
	/* bounded by maxAllowSeconds */
	put(c, "r", D1, "", "a", true, INT64_MAX);
	fake_now = t0 + 99;
	CHECK_INTEQ(lookup(c, "r", D1, "", "a", NULL), SIGILD_CACHE_HIT);
	fake_now = t0 + 100;
	CHECK_INTEQ(lookup(c, "r", D1, "", NULL, NULL), SIGILD_CACHE_LEAD);
	sigild_cache_stats st;
	sigild_cache_stats_get(c, &st);
	CHECK_INTEQ(st.entries, 0); /* the expired entry is gone */
	/* bounded by the result's valid_until when that is earlier */
	fake_now = t0;
	put(c, "r", D2, "", "b", true, t0 + 5);
	fake_now = t0 + 4;
	CHECK_INTEQ(lookup(c, "r", D2, "", "b", NULL), SIGILD_CACHE_HIT);
	fake_now = t0 + 5;
	CHECK_INTEQ(lookup(c, "r", D2, "", NULL, NULL), SIGILD_CACHE_LEAD);
	/* already expired: not stored at all */
	fake_now = t0;
	put(c, "r", D3, "", "c", true, t0);
	CHECK_INTEQ(lookup(c, "r", D3, "", NULL, NULL), SIGILD_CACHE_LEAD);
	sigild_cache_stats_get(c, &st);
	CHECK_INTEQ(st.entries, 0);
	sigild_cache_free(c);

	/* maxAllowSeconds 0: allows are never cached */
	c = new_cache(10, 0, 10);
	put(c, "r", D1, "", "a", true, INT64_MAX);
	CHECK_INTEQ(lookup(c, "r", D1, "", NULL, NULL), SIGILD_CACHE_LEAD);
	sigild_cache_free(c);
	fake_now = t0;
}

static void test_deny_expiry(void)
{
	sigild_cache *c = new_cache(10, 3600, 10);
	int64_t t0 = fake_now;
	/* a deny ignores valid_until: it lives denySeconds */
	put(c, "r", D1, "", "deny", false, INT64_MAX);
	fake_now = t0 + 9;
	CHECK_INTEQ(lookup(c, "r", D1, "", "deny", NULL), SIGILD_CACHE_HIT);
	fake_now = t0 + 10;
	CHECK_INTEQ(lookup(c, "r", D1, "", NULL, NULL), SIGILD_CACHE_LEAD);
	sigild_cache_free(c);
	/* denySeconds 0: denies are never cached */
	fake_now = t0;
	c = new_cache(10, 3600, 0);
	put(c, "r", D1, "", "deny", false, INT64_MAX);
	CHECK_INTEQ(lookup(c, "r", D1, "", NULL, NULL), SIGILD_CACHE_LEAD);
	sigild_cache_free(c);
}

static void test_revisions(void)
{
	sigil_error err = SIGIL_ERROR_INIT;
	sigild_cache *c = new_cache(10, 3600, 10);
	CHECK(sigild_cache_set_revision(c, "r1", &err) == SIGIL_STATUS_OK);
	put(c, "r1", D1, "", "old", true, INT64_MAX);
	put(c, "r1", D2, "", "old2", false, 0);
	CHECK_INTEQ(lookup(c, "r1", D1, "", "old", NULL), SIGILD_CACHE_HIT);
	/* a reload: every entry of r1 goes, and r1 is never served again */
	CHECK(sigild_cache_set_revision(c, "r2", &err) == SIGIL_STATUS_OK);
	sigild_cache_stats st;
	sigild_cache_stats_get(c, &st);
	CHECK_INTEQ(st.entries, 0);
	CHECK_INTEQ(lookup(c, "r1", D1, "", NULL, NULL), SIGILD_CACHE_LEAD);
	CHECK_INTEQ(lookup(c, "r2", D1, "", NULL, NULL), SIGILD_CACHE_LEAD);
	/* a verification that started under r2 and ends after the switch
	 * to r3 is not stored */
	sigild_cache_flight *f = NULL;
	CHECK_INTEQ(lookup(c, "r2", D3, "", NULL, &f), SIGILD_CACHE_LEAD);
	CHECK(sigild_cache_set_revision(c, "r3", &err) == SIGIL_STATUS_OK);
	sigild_cache_finish(c, f, (const uint8_t *)"x", 1, true, INT64_MAX);
	sigild_cache_stats_get(c, &st);
	CHECK_INTEQ(st.entries, 0);
	/* an old-revision request does not store into the cache either */
	put(c, "r2", D3, "", "x", true, INT64_MAX);
	sigild_cache_stats_get(c, &st);
	CHECK_INTEQ(st.entries, 0);
	put(c, "r3", D3, "", "new", true, INT64_MAX);
	CHECK_INTEQ(lookup(c, "r3", D3, "", "new", NULL), SIGILD_CACHE_HIT);
	/* setting the same revision again keeps its entries */
	CHECK(sigild_cache_set_revision(c, "r3", &err) == SIGIL_STATUS_OK);
	CHECK_INTEQ(lookup(c, "r3", D3, "", "new", NULL), SIGILD_CACHE_HIT);
	CHECK(sigild_cache_set_revision(c, NULL, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_USAGE);
	sigild_cache_free(c);
}

static void test_lru(void)
{
	sigild_cache *c = new_cache(2, 3600, 10);
	put(c, "r", D1, "", "1", true, INT64_MAX);
	put(c, "r", D2, "", "2", true, INT64_MAX);
	/* touch D1: D2 becomes the least recently used */
	CHECK_INTEQ(lookup(c, "r", D1, "", "1", NULL), SIGILD_CACHE_HIT);
	put(c, "r", D3, "", "3", true, INT64_MAX);
	sigild_cache_stats st;
	sigild_cache_stats_get(c, &st);
	CHECK_INTEQ(st.entries, 2);
	CHECK_INTEQ(st.evictions, 1);
	CHECK_INTEQ(lookup(c, "r", D1, "", "1", NULL), SIGILD_CACHE_HIT);
	CHECK_INTEQ(lookup(c, "r", D3, "", "3", NULL), SIGILD_CACHE_HIT);
	CHECK_INTEQ(lookup(c, "r", D2, "", NULL, NULL), SIGILD_CACHE_LEAD);
	sigild_cache_free(c);

	/* many keys through a small cache: bounded, every eviction counted */
	c = new_cache(16, 3600, 10);
	for (int i = 0; i < 200; i++) {
		char d[80];
		snprintf(d, sizeof d, "sha256:%064d", i);
		put(c, "r", d, "", "v", true, INT64_MAX);
	}
	sigild_cache_stats_get(c, &st);
	CHECK_INTEQ(st.entries, 16);
	CHECK_INTEQ(st.evictions, 184);
	char last[80];
	snprintf(last, sizeof last, "sha256:%064d", 199);
	CHECK_INTEQ(lookup(c, "r", last, "", "v", NULL), SIGILD_CACHE_HIT);
	sigild_cache_free(c);
}

/* sigild_cache_peek: a hit counts and touches as sigild_cache_begin's; a
 * miss changes nothing and never waits for a verification in progress */
static void test_peek(void)
{
	sigild_cache *c = new_cache(2, 3600, 10);
	uint8_t *v = (uint8_t *)"untouched";
	size_t len = 12345;
	sigild_cache_stats st;

	put(c, "r", D1, "", "1", true, INT64_MAX);
	put(c, "r", D2, "", "2", false, 0); /* a deny: lives 10 s */
	CHECK(sigild_cache_peek(c, "r", D1, NULL, &v, &len));
	CHECK(len == 1 && memcmp(v, "1", 1) == 0);
	free(v);
	sigild_cache_stats_get(c, &st);
	CHECK_INTEQ(st.hits, 1);
	CHECK_INTEQ(st.misses, 2);
	/* D1 was touched by the peek: D2 is the one evicted */
	put(c, "r", D3, "", "3", true, INT64_MAX);
	v = (uint8_t *)"untouched";
	len = 12345;
	CHECK(!sigild_cache_peek(c, "r", D2, "", &v, &len));
	CHECK(sigild_cache_peek(c, "r", D1, "", &v, &len));
	free(v);
	/* a miss: unknown key, other metadata, other revision; outputs
	 * untouched, nothing counted */
	v = (uint8_t *)"untouched";
	len = 12345;
	CHECK(!sigild_cache_peek(c, "r", D2, "", &v, &len));
	CHECK(!sigild_cache_peek(c, "r", D1, "3:env4:prod", &v, &len));
	CHECK(!sigild_cache_peek(c, "other", D1, "", &v, &len));
	CHECK(len == 12345 && strcmp((const char *)v, "untouched") == 0);
	sigild_cache_stats_get(c, &st);
	CHECK_INTEQ(st.hits, 2);
	CHECK_INTEQ(st.misses, 3);
	CHECK_INTEQ(st.evictions, 1);
	sigild_cache_free(c);

	/* expiry honoured; the expired entry is left for begin to drop */
	c = new_cache(4, 3600, 10);
	put(c, "r", D2, "", "deny", false, 0);
	fake_now += 10;
	CHECK(!sigild_cache_peek(c, "r", D2, "", &v, &len));
	sigild_cache_stats_get(c, &st);
	CHECK_INTEQ(st.entries, 1);
	CHECK_INTEQ(st.hits, 0);
	CHECK_INTEQ(st.misses, 1);
	CHECK_INTEQ(lookup(c, "r", D2, "", NULL, NULL), SIGILD_CACHE_LEAD);
	sigild_cache_stats_get(c, &st);
	CHECK_INTEQ(st.entries, 0);
	CHECK_INTEQ(st.misses, 2);

	/* a verification in progress: a miss at once, not a wait */
	sigild_cache_flight *f = NULL;
	CHECK_INTEQ(lookup(c, "r", D1, "", NULL, &f), SIGILD_CACHE_LEAD);
	int64_t t0 = mono_ms();
	CHECK(!sigild_cache_peek(c, "r", D1, "", &v, &len));
	CHECK(mono_ms() - t0 < 500);
	sigild_cache_finish(c, f, (const uint8_t *)"late", 4, true, INT64_MAX);
	CHECK(sigild_cache_peek(c, "r", D1, "", &v, &len));
	CHECK(len == 4 && memcmp(v, "late", 4) == 0);
	free(v);
	sigild_cache_stats_get(c, &st);
	CHECK_INTEQ(st.hits, 1);
	CHECK_INTEQ(st.misses, 3);
	CHECK(!sigild_cache_peek(NULL, "r", D1, "", &v, &len));
	sigild_cache_free(c);
}

/* --- single flight ---------------------------------------------------- */

#define NTHREADS 16

typedef struct flight_arg {
	sigild_cache *c;
	pthread_barrier_t *barrier;
	atomic_int *leads, *shared_hits, *plain_hits, *timeouts, *bad_values;
	int64_t deadline_ms;
	int lead_sleep_ms;
	int lead_action; /* 0 finish, 1 abandon, 2 publish */
	const char *digest;
} flight_arg;

static void *flight_thread(void *p)
{
	flight_arg *a = p;
	pthread_barrier_wait(a->barrier);
	sigild_cache_outcome oc;
	uint8_t *v = NULL;
	size_t len = 0;
	bool shared = false;
	sigild_cache_flight *f = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	if (sigild_cache_begin(a->c, "r", a->digest, "", a->deadline_ms, &oc, &v, &len, &shared, &f, &err) !=
	    SIGIL_STATUS_OK)
		return NULL;
	if (oc == SIGILD_CACHE_LEAD) {
		int n = atomic_fetch_add(a->leads, 1);
		usleep((useconds_t)a->lead_sleep_ms * 1000);
		/* with abandon, only the first leader gives up */
		if (a->lead_action == 1 && n == 0)
			sigild_cache_abandon(a->c, f);
		else if (a->lead_action == 2)
			sigild_cache_publish(a->c, f, (const uint8_t *)"verdict", 7);
		else
			sigild_cache_finish(a->c, f, (const uint8_t *)"verdict", 7, true, INT64_MAX);
	} else if (oc == SIGILD_CACHE_HIT) {
		if (len != 7 || memcmp(v, "verdict", 7) != 0)
			atomic_fetch_add(a->bad_values, 1);
		atomic_fetch_add(shared ? a->shared_hits : a->plain_hits, 1);
		free(v);
	} else {
		atomic_fetch_add(a->timeouts, 1);
	}
	return NULL;
}

static void run_flight(sigild_cache *c, const char *digest, int lead_sleep_ms, int64_t deadline_ms,
	int lead_action, int *leads, int *shared_hits, int *plain_hits, int *timeouts)
{
	pthread_barrier_t barrier;
	pthread_barrier_init(&barrier, NULL, NTHREADS);
	atomic_int l = 0, sh = 0, ph = 0, to = 0, bad = 0;
	flight_arg a = { c, &barrier, &l, &sh, &ph, &to, &bad, deadline_ms, lead_sleep_ms, lead_action, digest };
	pthread_t t[NTHREADS];
	for (int i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, flight_thread, &a);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&barrier);
	CHECK_INTEQ(atomic_load(&bad), 0);
	*leads = atomic_load(&l);
	*shared_hits = atomic_load(&sh);
	*plain_hits = atomic_load(&ph);
	*timeouts = atomic_load(&to);
}

static void test_single_flight(void)
{
	sigild_cache *c = new_cache(10, 3600, 10);
	int leads, shared, plain, timeouts;
	/* the leader takes 300 ms: every other request waits for it */
	run_flight(c, D1, 300, mono_ms() + 5000, 0, &leads, &shared, &plain, &timeouts);
	CHECK_INTEQ(leads, 1);
	CHECK_INTEQ(shared + plain, NTHREADS - 1);
	CHECK(shared >= 1);
	CHECK_INTEQ(timeouts, 0);
	sigild_cache_stats st;
	sigild_cache_stats_get(c, &st);
	CHECK_INTEQ(st.misses, 1);
	CHECK_INTEQ(st.hits, NTHREADS - 1);
	CHECK_INTEQ(st.collapsed, shared);
	/* ... and it was stored */
	CHECK_INTEQ(lookup(c, "r", D1, "", "verdict", NULL), SIGILD_CACHE_HIT);
	sigild_cache_free(c);
}

static void test_waiter_deadline(void)
{
	sigild_cache *c = new_cache(10, 3600, 10);
	/* the leader takes 1.5 s; the others give up at their deadline,
	 * 300 ms from now, and not much later */
	int64_t t0 = mono_ms();
	int leads, shared, plain, timeouts;
	run_flight(c, D1, 1500, t0 + 300, 0, &leads, &shared, &plain, &timeouts);
	CHECK_INTEQ(leads, 1);
	CHECK_INTEQ(timeouts, NTHREADS - 1);
	CHECK_INTEQ(shared + plain, 0);
	/* an already-passed deadline times out at once */
	sigild_cache_flight *f = NULL;
	CHECK_INTEQ(lookup(c, "r", D2, "", NULL, &f), SIGILD_CACHE_LEAD);
	sigild_cache_outcome oc;
	uint8_t *v = NULL;
	size_t len;
	bool sh;
	sigild_cache_flight *f2 = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	int64_t t1 = mono_ms();
	CHECK(sigild_cache_begin(c, "r", D2, "", t1 - 1, &oc, &v, &len, &sh, &f2, &err) == SIGIL_STATUS_OK);
	CHECK_INTEQ(oc, SIGILD_CACHE_TIMEOUT);
	CHECK(mono_ms() - t1 < 200);
	sigild_cache_finish(c, f, (const uint8_t *)"v", 1, false, 0);
	CHECK_INTEQ(lookup(c, "r", D2, "", "v", NULL), SIGILD_CACHE_HIT);
	sigild_cache_free(c);
}

static void test_abandon_and_publish(void)
{
	/* the first leader abandons: one waiter takes over, the rest get its
	 * value; nobody times out */
	sigild_cache *c = new_cache(10, 3600, 10);
	int leads, shared, plain, timeouts;
	run_flight(c, D1, 200, mono_ms() + 5000, 1, &leads, &shared, &plain, &timeouts);
	CHECK_INTEQ(leads, 2);
	CHECK_INTEQ(shared + plain, NTHREADS - 2);
	CHECK_INTEQ(timeouts, 0);
	sigild_cache_free(c);

	/* publish: the waiters share the value, the cache does not keep it */
	c = new_cache(10, 3600, 10);
	run_flight(c, D1, 200, mono_ms() + 5000, 2, &leads, &shared, &plain, &timeouts);
	CHECK(leads >= 1);
	CHECK(shared >= 1);
	CHECK_INTEQ(plain, 0);
	CHECK_INTEQ(leads + shared, NTHREADS);
	sigild_cache_stats st;
	sigild_cache_stats_get(c, &st);
	CHECK_INTEQ(st.entries, 0);
	sigild_cache_free(c);
}

int main(void)
{
	RUN(test_hit_miss);
	RUN(test_allow_expiry);
	RUN(test_deny_expiry);
	RUN(test_revisions);
	RUN(test_lru);
	RUN(test_peek);
	RUN(test_single_flight);
	RUN(test_waiter_deadline);
	RUN(test_abandon_and_publish);
	return check_summary();
}
