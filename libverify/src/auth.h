/* auth.h - registry authentication: WWW-Authenticate challenges (RFC 7235
 * §4.1), Basic (RFC 7617), and the distribution token flow (docker
 * registry token spec, OAuth2 refresh tokens for identity tokens), with
 * tokens cached per (realm, service, scope, user) until they expire. */
#ifndef SIGIL_AUTH_H
#define SIGIL_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sigil/error.h>
#include "http.h"

#define SIGIL_MAX_CHALLENGES 8

typedef struct sigil__challenge {
	char scheme[32];     /* "basic", "bearer" (lower-cased) */
	char realm[1024];
	char service[256];
	char scope[1024];
} sigil__challenge;

/* sigil__www_authenticate_parse - every challenge in a WWW-Authenticate
 * value (several may be comma-joined), at most `max`. Auth-params with
 * quoted-string or token values; unknown params ignored. SIGIL_ERR_MALFORMED
 * on syntax errors, SIGIL_ERR_LIMIT on oversize values. */
SIGIL_MUST_CHECK sigil_status sigil__www_authenticate_parse(const char *value, size_t len,
	sigil__challenge *out, size_t max, size_t *count, sigil_error *err);

/* Credentials for one registry, all owned strings, any may be NULL. */
typedef struct sigil__credential {
	char *username;
	char *password;
	char *identity_token;   /* docker config "identitytoken": OAuth2 refresh token */
	char *registry_token;   /* a bearer token to send as is ("registrytoken") */
} sigil__credential;

void sigil__credential_clear(sigil__credential *c);

typedef struct sigil__token_cache sigil__token_cache;

SIGIL_MUST_CHECK sigil_status sigil__token_cache_new(sigil__token_cache **out, sigil_error *err);
void sigil__token_cache_free(sigil__token_cache *c);

/* sigil__token_cache_set_skew - for tests: the cache's clock runs skew_ms
 * ahead of sigil__now_ms, so expiry can be tested without waiting. */
void sigil__token_cache_set_skew(sigil__token_cache *c, int64_t skew_ms);

/* sigil__auth_header - the Authorization header line to retry a request
 * with after a 401 carrying `challenges`, for `scope`
 * ("repository:<name>:pull"): Basic from the credential, or a bearer token
 * from the cache or fetched from the realm (GET with Basic credentials, or
 * POST grant_type=refresh_token with an identity token; anonymous when
 * cred has nothing), within deadline_ms. *header is malloc'd
 * ("Authorization: Bearer …"). Errors say which realm and status:
 * SIGIL_ERR_NETWORK / SIGIL_ERR_POLICY ("401 from <realm> for
 * repository:app:pull: check the credentials for <host>"). */
SIGIL_MUST_CHECK sigil_status sigil__auth_header(sigil__http *h, sigil__token_cache *cache,
	const sigil__challenge *challenges, size_t count, const sigil__credential *cred,
	const char *scope, const sigil__registry_host *host, int64_t deadline_ms,
	char **header, sigil_error *err);

#endif
