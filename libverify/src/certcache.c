/* certcache.c - see certcache.h. A small array scanned under a mutex: the
 * working set is a few signers' chains, so a scan of SIGIL_CERT_CACHE_ENTRIES
 * 64-bit hashes is cheaper than anything cleverer; the oldest entry is
 * replaced when it is full. */
#include <limits.h>
#include <stdbool.h>
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
	/* the certificate's signature has been seen to verify under its own
	 * public key (sigil__certcache_self_signature_ok) */
	bool self_signed_ok;
} cache_entry;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static cache_entry cache[SIGIL_CERT_CACHE_ENTRIES];
static size_t cache_next;
static uint64_t self_signature_hits;

/* Only to skip most memcmp calls; equality is the full bytes. Eight bytes
 * per multiply (FNV-1a's byte at a time made the chain of multiplies the
 * largest cost of a cache hit), mixed so that every input bit moves the
 * result. */
static uint64_t der_hash(const uint8_t *p, size_t n)
{
	uint64_t h = 14695981039346656037ull ^ n;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, sizeof w);
		h = (h ^ w) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 32;
	}
	for (; i < n; i++) {
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
		*e = (cache_entry){ hash, len, copy, cert, false };
	}
	pthread_mutex_unlock(&cache_lock);
	free(old_der);
	X509_free(old_cert);
	return cert;
}

/* The entry whose object is `cert`; under cache_lock. Identity of the
 * object is enough: the caller holds a reference, so while it asks, no
 * other certificate can live at that address, and an evicted entry no
 * longer names it. */
static cache_entry *find_object(const X509 *cert)
{
	for (size_t i = 0; i < SIGIL_CERT_CACHE_ENTRIES; i++)
		if (cache[i].cert == cert)
			return &cache[i];
	return NULL;
}

int sigil__certcache_self_signature_ok(X509 *cert, int (*verify)(X509 *cert, void *ctx),
	void *ctx)
{
	if (!cert)
		return 0;
	/* Notary spec §1.9.1 requires the chain to end in a valid self-signed
	 * root, so every verification checks the root's signature under its
	 * own key. Whether it verifies depends on nothing but the signed
	 * TBSCertificate, the signature algorithm, the signature and the
	 * public key, all inside the DER bytes the entry is keyed by
	 * (exactly, not by hash): the same bytes always give the same answer,
	 * so one success is remembered. Failures are not remembered; they are
	 * recomputed (and reported with their reason) each time. */
	pthread_mutex_lock(&cache_lock);
	cache_entry *e = find_object(cert);
	bool known = e && e->self_signed_ok;
	if (known)
		self_signature_hits++;
	pthread_mutex_unlock(&cache_lock);
	if (known)
		return 1;

	/* verified outside the lock: it is the slow part */
	if (verify(cert, ctx) != 1)
		return 0;
	pthread_mutex_lock(&cache_lock);
	if ((e = find_object(cert)))
		e->self_signed_ok = true;
	pthread_mutex_unlock(&cache_lock);
	return 1;
}

uint64_t sigil__certcache_self_signature_hits(void)
{
	pthread_mutex_lock(&cache_lock);
	uint64_t n = self_signature_hits;
	pthread_mutex_unlock(&cache_lock);
	return n;
}
