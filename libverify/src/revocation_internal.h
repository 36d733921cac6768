/* revocation_internal.h - what the parts of the revocation checker share:
 * the checker's state, its cache files, its downloads, and the source
 * records that let the background refresh download an entry again.
 *
 *   revocation.c          §6 checking, the memory cache, cache files, downloads
 *   revocation_source.c   source records (<cache>/{crl,ocsp}/<hex>.src)
 *   revocation_refresh.c  background refresh passes (sigil_revocation_refresher)
 *
 * Cache layout (cache_dir, and the same layout inside a seed directory):
 *   crl/<hex(SHA-256(url))>            a DER CRL downloaded from url
 *   crl/<hex>.src                      its source record (URL, issuer)
 *   ocsp/<hex(SHA-256(request DER))>   a DER OCSPResponse for that request
 *   ocsp/<hex>.src                     its source record (certificate, issuer) */
#ifndef SIGIL_REVOCATION_INTERNAL_H
#define SIGIL_REVOCATION_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/x509.h>
#include "http.h"
#include "revocation.h"

typedef struct sigil__rev_mem_entry {
	char key[72];          /* "crl:<hex>" or "ocsp:<hex>" */
	X509_CRL *crl;         /* CRL entries */
	uint8_t *der;          /* OCSP entries */
	size_t len;
	int64_t next_update;
	uint64_t used;
} sigil__rev_mem_entry;

struct sigil__revocation {
	char *cache_dir;
	char *seed_dir;
	bool allow_https;
	int64_t ocsp_timeout_ms;
	int64_t crl_timeout_ms;
	void (*on_fetch)(void *ctx, const char *kind, const char *outcome);
	void *on_fetch_ctx;
	sigil__http *http;
	pthread_mutex_t lock;   /* the memory cache and the statistics */
	sigil__rev_mem_entry *entries;
	size_t count;
	size_t bytes;
	uint64_t tick;
	sigil__rev_stats stats;
};

/* hex(SHA-256(data)): the name of a cache entry. */
void sigil__rev_hex_sha256(const void *data, size_t len, char out[65]);

/* 1 if n is an entry name (64 lowercase hex digits). */
int sigil__rev_is_entry_name(const char *n);

/* §6.3/§6.4: 1 if url's scheme may be fetched (http, or https when
 * allowed); the scheme is copied to scheme either way. */
int sigil__rev_scheme_ok(const sigil__revocation *rv, const char *url, char *scheme, size_t cap);

/* The OCSP responder URLs of cert's AIA, in order (malloc'd, at most
 * SIGIL_MAX_REVOCATION_URLS); released with sigil__rev_free_urls. */
void sigil__rev_ocsp_urls(X509 *cert, char **urls, size_t *n);
void sigil__rev_free_urls(char **urls, size_t n);

/* Read <dir>/<sub>/<name> (sub "" for dir itself): a regular file, not a
 * symlink, smaller than max. 1 with *out malloc'd, else 0. */
int sigil__rev_file_read(const char *dir, const char *sub, const char *name, size_t max,
	uint8_t **out, size_t *out_len);

/* Write <cache>/<sub>/<name> atomically (temporary file, fsync, rename).
 * 1 on success; failures only lose the caching. */
int sigil__rev_cache_write(sigil__revocation *rv, const char *sub, const char *name,
	const uint8_t *der, size_t len);

/* One HTTP exchange for revocation data, bounded by timeout_ms and the
 * absolute deadline_ms (sigil__now_ms clock), redirects limited and kept
 * to fetchable schemes; counted in rv's network_requests. */
SIGIL_MUST_CHECK sigil_status sigil__rev_http(sigil__revocation *rv, const char *method,
	const char *url, const uint8_t *body, size_t body_len, const char *const *headers,
	size_t nheaders, size_t max_body, int64_t timeout_ms, int64_t deadline_ms,
	sigil__http_response *resp, sigil_error *err);

/* §6.3 transport: the DER request to the responder at url, GET
 * <url>/<escaped base64> when that is shorter than 255 characters, POST
 * otherwise. resp is filled whatever the HTTP status. */
SIGIL_MUST_CHECK sigil_status sigil__rev_ocsp_exchange(sigil__revocation *rv, const char *url,
	const uint8_t *req, size_t req_len, int64_t deadline_ms, sigil__http_response *resp,
	sigil_error *err);

/* A CRL from DER, or PEM (seed directories); NULL if neither. */
X509_CRL *sigil__rev_crl_from_bytes(const uint8_t *buf, size_t len);

/* 1 if crl carries a DeltaCRLIndicator. */
int sigil__rev_crl_is_delta(X509_CRL *crl);

/* 1 if crl is of the wanted kind and valid for issuer at now
 * (sigil__crl_validate); *nu its nextUpdate. */
int sigil__rev_crl_usable(X509_CRL *crl, X509 *issuer, int64_t now, int want_delta, int64_t *nu);

/* ---- source records (revocation_source.c) ---- */

/* The subdirectory of the cache holding entries of kind. */
const char *sigil__rev_kind_dir(sigil__rev_kind kind);

/* sigil__rev_source_write_crl / _ocsp - record where the entry `name`
 * came from, next to it, before the entry itself is written: an entry
 * without a record is only not refreshed in the background. */
void sigil__rev_source_write_crl(sigil__revocation *rv, const char *name, const char *url,
	X509 *issuer);
void sigil__rev_source_write_ocsp(sigil__revocation *rv, const char *name, X509 *cert,
	X509 *issuer);

/* sigil__rev_source_load - the record of entry `name` of kind in
 * cache_dir, parsed (sigil__rev_source_parse, bound to name). 1 if usable. */
int sigil__rev_source_load(const char *cache_dir, sigil__rev_kind kind, const char *name,
	sigil__rev_source *out);

#endif
