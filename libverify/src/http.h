/* http.h - HTTP requests over libcurl with the bounds a verifier on a
 * node's pull path needs: an absolute deadline, capped bodies, limited
 * redirects, TLS verification on (system CAs plus per-host CA files),
 * connections reused across requests. */
#ifndef SIGIL_HTTP_H
#define SIGIL_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sigil/error.h>
#include "hosts.h"

typedef struct sigil__http sigil__http;

/* sigil__http_new - a client whose connections, DNS and TLS sessions are
 * shared by every request made through it. *out owned by the caller. */
SIGIL_MUST_CHECK sigil_status sigil__http_new(sigil__http **out, sigil_error *err);
void sigil__http_free(sigil__http *h);

typedef struct sigil__http_request {
	const char *method;          /* "GET" or "HEAD" (POST for token endpoints) */
	const char *url;
	const char *const *headers;  /* "Name: value" lines */
	size_t header_count;
	const uint8_t *body;         /* request body (POST), or NULL */
	size_t body_len;
	size_t max_body;             /* a longer response body fails (SIGIL_ERR_LIMIT) */
	int64_t deadline_ms;         /* absolute, sigil__now_ms clock; required */
	int64_t timeout_ms;          /* per-request cap (0: none beyond the deadline) */
	int max_redirects;           /* 0: not followed, the 3xx is the response;
	                              * N: more than N fail (SIGIL_ERR_NETWORK).
	                              * Headers such as Authorization are not sent
	                              * on to another host (libcurl's rule). */
	const sigil__registry_host *host; /* TLS settings (CA files, client cert, skip_verify) or NULL;
	                              * its header_names/values are NOT added here:
	                              * the caller puts them in headers */
} sigil__http_request;

typedef struct sigil__http_response {
	long status;
	uint8_t *body;               /* NUL-terminated for convenience, not counted */
	size_t body_len;
	/* selected response headers, NULL if absent (last occurrence wins;
	 * WWW-Authenticate keeps all occurrences joined by ", ") */
	char *content_type;
	char *www_authenticate;
	char *link;
	char *docker_content_digest;
	char *oci_filters_applied;
	int64_t content_length;      /* -1 if absent */
	char *effective_url;         /* after redirects */
} sigil__http_response;

/* sigil__http_do - perform one request. Transport failures, timeouts and
 * TLS errors are SIGIL_ERR_NETWORK with the URL's host and curl's reason
 * ("127.0.0.1:5000: connection refused", "...: timed out after 2000 ms");
 * an oversized body SIGIL_ERR_LIMIT. Any HTTP status is a success here:
 * the caller judges it. resp is cleared with sigil__http_response_clear. */
SIGIL_MUST_CHECK sigil_status sigil__http_do(sigil__http *h, const sigil__http_request *req,
	sigil__http_response *resp, sigil_error *err);

void sigil__http_response_clear(sigil__http_response *resp);

/* sigil__now_ms - CLOCK_MONOTONIC milliseconds. */
int64_t sigil__now_ms(void);

#endif
