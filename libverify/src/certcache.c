/* certcache.c - see certcache.h. A small array scanned under a mutex: the
 * working set is a few signers' chains, so a scan of SIGIL_CERT_CACHE_ENTRIES
 * 64-bit hashes is cheaper than anything cleverer; the oldest entry is
 * replaced when it is full. */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "bounds.h"
#include "certcache.h"

typedef struct cache_entry {
	uint64_t hash;
	size_t len;
	uint8_t *der;
	X509 *cert;
} cache_entry;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static cache_entry cache[SIGIL_CERT_CACHE_ENTRIES];
static size_t cache_next;

/* FNV-1a: only to skip most memcmp calls; equality is the full bytes. */
static uint64_t der_hash(const uint8_t *p, size_t n)
{
	uint64_t h = 14695981039346656037ull;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 1099511628211ull;
	}
	return h;
}

/* The entry holding exactly these bytes; under cache_lock. */
static cache_entry *find(uint64_t hash, const uint8_t *der, size_t len)
{
	for (size_t i = 0; i < SIGIL_CERT_CACHE_ENTRIES; i++) {
		cache_entry *e = &cache[i];
		if (e->cert && e->hash == hash && e->len == len && memcmp(e->der, der, len) == 0)
			return e;
	}
	return NULL;
}

static X509 *parse_exact(const uint8_t *der, size_t len)
{
	if (len == 0 || len > LONG_MAX)
		return NULL;
	const unsigned char *p = der;
	X509 *cert = d2i_X509(NULL, &p, (long)len);
	if (cert && p != der + len) {
		X509_free(cert);
		return NULL;
	}
	return cert;
}

X509 *sigil__certcache_parse(const uint8_t *der, size_t len)
{
	if (len == 0 || len > SIGIL_CERT_CACHE_MAX_DER)
		return parse_exact(der, len);
	uint64_t hash = der_hash(der, len);
	pthread_mutex_lock(&cache_lock);
	cache_entry *hit = find(hash, der, len);
	X509 *cert = hit && X509_up_ref(hit->cert) ? hit->cert : NULL;
	pthread_mutex_unlock(&cache_lock);
	if (cert)
		return cert;

	/* parsed outside the lock: parsing is the slow part */
	if (!(cert = parse_exact(der, len)))
		return NULL;
	uint8_t *copy = malloc(len);
	if (!copy || !X509_up_ref(cert)) {
		free(copy);
		return cert; /* uncached, still a valid result */
	}
	memcpy(copy, der, len);
	uint8_t *old_der = copy;
	X509 *old_cert = cert;
	pthread_mutex_lock(&cache_lock);
	/* another thread may have added the same bytes meanwhile: keep its
	 * entry and drop ours (old_* then name our copy and extra reference) */
	if (!find(hash, der, len)) {
		cache_entry *e = &cache[cache_next];
		cache_next = (cache_next + 1) % SIGIL_CERT_CACHE_ENTRIES;
		old_der = e->der;
		old_cert = e->cert;
		*e = (cache_entry){ hash, len, copy, cert };
	}
	pthread_mutex_unlock(&cache_lock);
	free(old_der);
	X509_free(old_cert);
	return cert;
}
