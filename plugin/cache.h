/* cache.h - sigild's verdict cache (architecture.md design rule 6).
 *
 * Key: trust configuration revision + digest + extra (the canonical user
 * metadata requirements). Value: opaque bytes (sigild stores a packed
 * VerifyResponse and what a hit needs of it: service.c, "the cache's
 * value"). An allow lives until min(valid_until, now +
 * max_allow_s), a deny lives deny_s; bounded, least recently used entries
 * are evicted first. Entries of a revision other than the current one
 * (sigild_cache_set_revision) are never served.
 *
 * Single flight: sigild_cache_begin either returns a cached value, or
 * makes the caller the one that verifies (LEAD: it must call
 * sigild_cache_finish or sigild_cache_abandon), or, when another request is
 * already verifying the same key, waits for its value until the caller's
 * deadline. Thread-safe. */
#ifndef SIGILD_CACHE_H
#define SIGILD_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sigil/error.h>

typedef struct sigild_cache sigild_cache;
typedef struct sigild_cache_flight sigild_cache_flight;

/* Wall clock, epoch seconds (expiry is compared with certificate and
 * signature validity, which are epoch times). Tests inject their own. */
typedef int64_t (*sigild_cache_clock)(void *ctx);

typedef struct sigild_cache_stats {
	uint64_t entries;
	uint64_t capacity;
	uint64_t hits;      /* served from an entry, or from another request's verification */
	uint64_t misses;    /* the caller had to verify */
	uint64_t evictions; /* entries dropped to make room */
	uint64_t collapsed; /* of the hits: waited for a verification in progress */
} sigild_cache_stats;

typedef enum sigild_cache_outcome {
	SIGILD_CACHE_HIT = 0,   /* *value holds a copy; *shared tells whether it came from a flight */
	SIGILD_CACHE_LEAD,      /* verify, then sigild_cache_finish / _abandon(*flight) */
	SIGILD_CACHE_TIMEOUT,   /* the deadline passed while waiting for another request */
} sigild_cache_outcome;

/* sigild_cache_new - capacity >= 1 entries. */
SIGIL_MUST_CHECK sigil_status sigild_cache_new(sigild_cache **out, size_t capacity,
	int64_t max_allow_s, int64_t deny_s, sigil_error *err);
void sigild_cache_free(sigild_cache *c);

/* sigild_cache_set_clock - replace the wall clock (tests). Not thread-safe:
 * call before use. */
void sigild_cache_set_clock(sigild_cache *c, sigild_cache_clock clock, void *ctx);

/* sigild_cache_set_revision - the trust configuration revision in force;
 * entries of any other revision are dropped now and never served. */
SIGIL_MUST_CHECK sigil_status sigild_cache_set_revision(sigild_cache *c, const char *revision,
	sigil_error *err);

/* sigild_cache_begin - see the file comment. deadline_ms is absolute,
 * CLOCK_MONOTONIC milliseconds (sigil_registry_now_ms). On HIT *value
 * (malloc'd, caller frees) and *len are set. Fails only on allocation
 * failure. */
SIGIL_MUST_CHECK sigil_status sigild_cache_begin(sigild_cache *c, const char *revision,
	const char *digest, const char *extra, int64_t deadline_ms, sigild_cache_outcome *outcome,
	uint8_t **value, size_t *len, bool *shared, sigild_cache_flight **flight, sigil_error *err);

/* sigild_cache_peek - the non-blocking half of sigild_cache_begin, for
 * sigild's I/O thread: a stored entry of the current revision that has not
 * expired is a hit (true: *value malloc'd, caller frees, and *len set;
 * counted as a hit and moved to the front of the LRU list exactly as
 * sigild_cache_begin does). Anything else is a miss (false) with no effect
 * at all: nothing counted, no expired entry dropped, *value and *len
 * untouched; the caller then goes through sigild_cache_begin, which counts
 * the miss once and does the dropping. Never waits on a verification in
 * progress. An allocation failure is a miss. */
bool sigild_cache_peek(sigild_cache *c, const char *revision, const char *digest,
	const char *extra, uint8_t **value, size_t *len);

/* sigild_cache_finish - publish the leader's value to its waiters and store
 * it (allow: until min(valid_until, now + max_allow_s); deny: now +
 * deny_s; not stored when that is not in the future, or when the
 * revision is no longer current). Consumes flight. */
void sigild_cache_finish(sigild_cache *c, sigild_cache_flight *flight, const uint8_t *value,
	size_t len, bool allow, int64_t valid_until);

/* sigild_cache_publish - give the leader's value to its waiters without
 * storing it (a local failure that must not outlive this moment).
 * Consumes flight. */
void sigild_cache_publish(sigild_cache *c, sigild_cache_flight *flight, const uint8_t *value,
	size_t len);

/* sigild_cache_abandon - the leader could not produce a value; waiters
 * start over (one of them becomes the leader). Consumes flight. */
void sigild_cache_abandon(sigild_cache *c, sigild_cache_flight *flight);

void sigild_cache_stats_get(sigild_cache *c, sigild_cache_stats *out);

#endif
