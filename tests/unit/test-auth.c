/* test-auth.c - WWW-Authenticate parsing tables, and the Basic / token
 * flows against a local token server (anonymous, Basic, OAuth2 refresh
 * token, denials, malformed answers, caching and expiry, realm rules). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "testserver.h"
#include "auth.h"
#include "bounds.h"
#include "errors.h"
#include "http.h"

/* --- parser tables ---------------------------------------------------- */

typedef struct pos_case {
	const char *in;
	size_t n;
	const char *scheme[3], *realm[3], *service[3], *scope[3];
} pos_case;

static const pos_case positives[] = {
	{ "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
	  "scope=\"repository:library/nginx:pull\"", 1,
	  { "bearer" }, { "https://auth.docker.io/token" }, { "registry.docker.io" },
	  { "repository:library/nginx:pull" } },
	{ "Basic realm=\"Registry Realm\"", 1, { "basic" }, { "Registry Realm" }, { "" }, { "" } },
	{ "BASIC realm=simple", 1, { "basic" }, { "simple" }, { "" }, { "" } },
	{ "Bearer realm=\"a\", Basic realm=\"b\"", 2, { "bearer", "basic" }, { "a", "b" },
	  { "", "" }, { "", "" } },
	{ "Basic dXNlcjpwYXNz==, Bearer realm=\"r\"", 2, { "basic", "bearer" }, { "", "r" },
	  { "", "" }, { "", "" } },
	{ "Basic", 1, { "basic" }, { "" }, { "" }, { "" } },
	{ "Basic abc/def+g", 1, { "basic" }, { "" }, { "" }, { "" } },
	{ "Bearer realm=\"a\\\"b\\\\c\"", 1, { "bearer" }, { "a\"b\\c" }, { "" }, { "" } },
	{ "Bearer  realm = \"x\" ,\tservice = y", 1, { "bearer" }, { "x" }, { "y" }, { "" } },
	{ ", Bearer realm=\"x\",, service=\"s\",", 1, { "bearer" }, { "x" }, { "s" }, { "" } },
	{ "Bearer realm=\"x\", foo=\"bar\", error=insufficient_scope, service=\"s\"", 1,
	  { "bearer" }, { "x" }, { "s" }, { "" } },
	/* RFC 7235 §4.1's example */
	{ "Newauth realm=\"apps\", type=1, title=\"Login to \\\"apps\\\"\", Basic realm=\"simple\"",
	  2, { "newauth", "basic" }, { "apps", "simple" }, { "", "" }, { "", "" } },
	{ "Bearer REALM=\"x\",Service=\"s\",SCOPE=\"a b\"", 1, { "bearer" }, { "x" }, { "s" },
	  { "a b" } },
	{ "Bearer realm=\"\"", 1, { "bearer" }, { "" }, { "" }, { "" } },
	{ "Bearer realm=\"caf\xc3\xa9\"", 1, { "bearer" }, { "caf\xc3\xa9" }, { "" }, { "" } },
	{ "Basic, Bearer realm=\"r\", Digest", 3, { "basic", "bearer", "digest" }, { "", "r", "" },
	  { "", "", "" }, { "", "", "" } },
};

typedef struct neg_case {
	const char *in;
	sigil_category cat;
	const char *msg;
} neg_case;

static const neg_case negatives[] = {
	{ "", SIGIL_ERR_MALFORMED, "no challenge" },
	{ "  , ,", SIGIL_ERR_MALFORMED, "no challenge" },
	{ "Bearer realm=\"unterminated", SIGIL_ERR_MALFORMED, "unterminated quoted string" },
	{ "Bearer realm=\"x\\", SIGIL_ERR_MALFORMED, "unterminated quoted string" },
	{ "Bearer realm x", SIGIL_ERR_MALFORMED, "expected '=' after parameter realm" },
	{ "Bearer realm=\"a\", realm=\"b\"", SIGIL_ERR_MALFORMED, "realm repeated" },
	{ "Bearer realm=\"a\"x", SIGIL_ERR_MALFORMED, "expected ','" },
	{ "Bearer realm=a b", SIGIL_ERR_MALFORMED, "expected ','" },
	{ "Bearer realm=\"a\x01\"", SIGIL_ERR_MALFORMED, "control character 0x01" },
	{ "Bearer realm=\"a\\\x7f\"", SIGIL_ERR_MALFORMED, "invalid escaped character" },
	{ "=x", SIGIL_ERR_MALFORMED, "expected an authentication scheme" },
	{ "Bearer\"realm\"", SIGIL_ERR_MALFORMED, "unexpected character after scheme bearer" },
	{ "Bearer realm=@", SIGIL_ERR_MALFORMED, "expected a token or quoted string" },
	{ "Bearer realm=\"x\", service=", SIGIL_ERR_MALFORMED, "expected a token or quoted string" },
	{ "Bearer realm=\"x\", =y", SIGIL_ERR_MALFORMED, "expected an authentication scheme" },
	{ "Averyveryveryverylongauthenticationscheme realm=x", SIGIL_ERR_LIMIT,
	  "scheme longer than 31 bytes" },
	{ "A, B, C, D, E, F, G, H, I", SIGIL_ERR_LIMIT, "more than 8 challenges" },
};

static void test_parse_positive(void)
{
	for (size_t i = 0; i < sizeof(positives) / sizeof(positives[0]); i++) {
		const pos_case *t = &positives[i];
		sigil__challenge ch[SIGIL_MAX_CHALLENGES];
		size_t n = 99;
		sigil_error err = SIGIL_ERROR_INIT;
		sigil_status st = sigil__www_authenticate_parse(t->in, strlen(t->in), ch,
			SIGIL_MAX_CHALLENGES, &n, &err);
		CHECK(st == SIGIL_STATUS_OK);
		if (st != SIGIL_STATUS_OK) {
			fprintf(stderr, "  case %zu: %s: %s\n", i, t->in, err.message);
			continue;
		}
		CHECK(err.category == SIGIL_ERR_NONE);
		CHECK_INTEQ(n, t->n);
		for (size_t k = 0; k < t->n && k < n; k++) {
			CHECK_STREQ(ch[k].scheme, t->scheme[k]);
			CHECK_STREQ(ch[k].realm, t->realm[k]);
			CHECK_STREQ(ch[k].service, t->service[k]);
			CHECK_STREQ(ch[k].scope, t->scope[k]);
		}
	}
}

static void test_parse_negative(void)
{
	for (size_t i = 0; i < sizeof(negatives) / sizeof(negatives[0]); i++) {
		const neg_case *t = &negatives[i];
		sigil__challenge ch[SIGIL_MAX_CHALLENGES];
		memset(ch, 0x5a, sizeof(ch));
		size_t n = 99;
		sigil_error err = SIGIL_ERROR_INIT;
		CHECK(sigil__www_authenticate_parse(t->in, strlen(t->in), ch, SIGIL_MAX_CHALLENGES, &n,
			&err) == SIGIL_STATUS_ERROR);
		CHECK_INTEQ(err.category, t->cat);
		CHECK_CONTAINS(err.message, t->msg);
		CHECK_INTEQ(n, 99); /* outputs untouched */
		CHECK(((unsigned char *)ch)[0] == 0x5a);
	}
}

static void test_parse_bounds(void)
{
	sigil__challenge ch[SIGIL_MAX_CHALLENGES];
	size_t n = 0;
	sigil_error err = SIGIL_ERROR_INIT;

	/* max is honoured */
	const char *two = "Basic realm=a, Bearer realm=b";
	CHECK(sigil__www_authenticate_parse(two, strlen(two), ch, 1, &n, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_LIMIT);
	CHECK_CONTAINS(err.message, "more than 1 challenges");

	/* a realm that does not fit the struct, an oversized header */
	size_t big = 20000;
	char *s = malloc(big + 1);
	if (!s)
		abort();
	memcpy(s, "Bearer realm=\"", 14);
	memset(s + 14, 'a', 1100);
	memcpy(s + 1114, "\"", 2);
	CHECK(sigil__www_authenticate_parse(s, strlen(s), ch, 8, &n, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_LIMIT);
	CHECK_CONTAINS(err.message, "parameter realm longer than 1023 bytes");
	/* an unknown parameter of any length up to the header bound is fine */
	memcpy(s, "Bearer other=\"", 14);
	CHECK(sigil__www_authenticate_parse(s, strlen(s), ch, 8, &n, &err) == SIGIL_STATUS_OK);
	memset(s, ' ', big);
	s[big] = 0;
	CHECK(sigil__www_authenticate_parse(s, big, ch, 8, &n, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_LIMIT);
	CHECK_CONTAINS(err.message, "WWW-Authenticate longer than 16384 bytes");
	free(s);

	/* the length is what counts, not a NUL */
	const char *cut = "Bearer realm=\"x\"GARBAGE";
	CHECK(sigil__www_authenticate_parse(cut, 16, ch, 8, &n, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(ch[0].realm, "x");
	const char *nul = "Basic realm=\"a\0b\"";
	CHECK(sigil__www_authenticate_parse(nul, 18, ch, 8, &n, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_MALFORMED);

	CHECK(sigil__www_authenticate_parse(NULL, 0, ch, 8, &n, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_USAGE);
}

/* --- token flows ------------------------------------------------------ */

static test_server srv, tls;
static sigil__http *client;
static char tmpdir[] = "/tmp/sigil-test-auth-XXXXXX";
static char ca_path[512];
static const char *SCOPE = "repository:app:pull";

static sigil__registry_host reg_http(const char *hostport)
{
	sigil__registry_host h = { .scheme = "http", .path = "/v2" };
	snprintf(h.host, sizeof(h.host), "%s", hostport);
	return h;
}

static sigil__challenge bearer(const char *kind, const char *service, const char *scope)
{
	sigil__challenge c = { .scheme = "bearer" };
	snprintf(c.realm, sizeof(c.realm), "http://127.0.0.1:%d/token/%s", srv.port, kind);
	snprintf(c.service, sizeof(c.service), "%s", service);
	snprintf(c.scope, sizeof(c.scope), "%s", scope);
	return c;
}

/* server_state - a field of /_state: counts[path] (as a number) or a string. */
static json_object *server_state(void)
{
	char u[128];
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/_state", srv.port);
	sigil__http_request req = { .method = "GET", .url = u, .max_body = 1 << 20,
		.deadline_ms = sigil__now_ms() + 5000 };
	sigil__http_response r = { .content_length = -1 };
	sigil_error err = SIGIL_ERROR_INIT;
	if (sigil__http_do(client, &req, &r, &err) != SIGIL_STATUS_OK)
		return NULL;
	json_object *o = json_tokener_parse((char *)r.body);
	sigil__http_response_clear(&r);
	return o;
}

static int count_of(const char *path)
{
	json_object *o = server_state(), *c = NULL, *v = NULL;
	int n = 0;
	if (o && json_object_object_get_ex(o, "counts", &c) && json_object_object_get_ex(c, path, &v))
		n = json_object_get_int(v);
	json_object_put(o);
	return n;
}

static char last_buf[4096];
static const char *last(const char *field)
{
	json_object *o = server_state(), *v = NULL;
	last_buf[0] = 0;
	if (o && json_object_object_get_ex(o, field, &v))
		snprintf(last_buf, sizeof(last_buf), "%s", json_object_get_string(v));
	json_object_put(o);
	return last_buf;
}

static sigil_status auth(sigil__token_cache *cache, const sigil__challenge *ch, size_t n,
	const sigil__credential *cred, const char *scope, const sigil__registry_host *host,
	char **hdr, sigil_error *err)
{
	return sigil__auth_header(client, cache, ch, n, cred, scope, host, sigil__now_ms() + 5000,
		hdr, err);
}

static void test_anonymous_and_cache(void)
{
	sigil__token_cache *cache = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigil__token_cache_new(&cache, &err) == SIGIL_STATUS_OK);
	sigil__registry_host host = reg_http("127.0.0.1:5000");
	sigil__challenge ch = bearer("anon", "reg svc", "");
	char *hdr = NULL;
	int before = count_of("/token/anon");

	CHECK(auth(cache, &ch, 1, NULL, SCOPE, &host, &hdr, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(hdr, "Authorization: Bearer anon-token");
	free(hdr);
	/* token spec: GET realm?service=…&scope=…, URL-encoded, no credentials */
	CHECK_STREQ(last("last_query"), "service=reg%20svc&scope=repository%3Aapp%3Apull");
	CHECK_STREQ(last("last_auth"), "");
	CHECK_STREQ(last("last_method"), "GET");
	CHECK_INTEQ(count_of("/token/anon"), before + 1);

	/* second call: from the cache */
	hdr = NULL;
	CHECK(auth(cache, &ch, 1, NULL, SCOPE, &host, &hdr, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(hdr, "Authorization: Bearer anon-token");
	free(hdr);
	CHECK_INTEQ(count_of("/token/anon"), before + 1);

	/* another scope is another token */
	hdr = NULL;
	CHECK(auth(cache, &ch, 1, NULL, "repository:other:pull", &host, &hdr, &err) == SIGIL_STATUS_OK);
	free(hdr);
	CHECK_INTEQ(count_of("/token/anon"), before + 2);

	/* expires_in 300 - margin: still cached after 200 s, gone after 300 s */
	sigil__token_cache_set_skew(cache, 200 * 1000);
	hdr = NULL;
	CHECK(auth(cache, &ch, 1, NULL, SCOPE, &host, &hdr, &err) == SIGIL_STATUS_OK);
	free(hdr);
	CHECK_INTEQ(count_of("/token/anon"), before + 2);
	sigil__token_cache_set_skew(cache, 300 * 1000);
	hdr = NULL;
	CHECK(auth(cache, &ch, 1, NULL, SCOPE, &host, &hdr, &err) == SIGIL_STATUS_OK);
	free(hdr);
	CHECK_INTEQ(count_of("/token/anon"), before + 3);

	/* the challenge's own scope is requested as well */
	sigil__challenge ch2 = bearer("anon", "svc", "repository:app:pull,push");
	hdr = NULL;
	CHECK(auth(cache, &ch2, 1, NULL, SCOPE, &host, &hdr, &err) == SIGIL_STATUS_OK);
	free(hdr);
	CHECK_STREQ(last("last_query"),
		"service=svc&scope=repository%3Aapp%3Apull&scope=repository%3Aapp%3Apull%2Cpush");

	/* without a cache every call asks */
	int b2 = count_of("/token/anon");
	for (int i = 0; i < 2; i++) {
		hdr = NULL;
		CHECK(auth(NULL, &ch, 1, NULL, SCOPE, &host, &hdr, &err) == SIGIL_STATUS_OK);
		free(hdr);
	}
	CHECK_INTEQ(count_of("/token/anon"), b2 + 2);
	sigil__token_cache_free(cache);
	sigil__token_cache_free(NULL);
}

static void test_short_lifetime(void)
{
	sigil__token_cache *cache = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigil__token_cache_new(&cache, &err) == SIGIL_STATUS_OK);
	sigil__registry_host host = reg_http("127.0.0.1:5000");
	sigil__challenge ch = bearer("short", "svc", "");
	char *hdr = NULL;
	int before = count_of("/token/short");
	/* expires_in 1 is raised to the spec's 60 s minimum (less a margin) */
	CHECK(auth(cache, &ch, 1, NULL, SCOPE, &host, &hdr, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(hdr, "Authorization: Bearer short-token");
	free(hdr);
	sigil__token_cache_set_skew(cache, 40 * 1000);
	CHECK(auth(cache, &ch, 1, NULL, SCOPE, &host, &hdr, &err) == SIGIL_STATUS_OK);
	free(hdr);
	CHECK_INTEQ(count_of("/token/short"), before + 1);
	sigil__token_cache_set_skew(cache, 55 * 1000);
	CHECK(auth(cache, &ch, 1, NULL, SCOPE, &host, &hdr, &err) == SIGIL_STATUS_OK);
	free(hdr);
	CHECK_INTEQ(count_of("/token/short"), before + 2);
	sigil__token_cache_free(cache);
}

static void test_cache_bounded(void)
{
	sigil__token_cache *cache = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigil__token_cache_new(&cache, &err) == SIGIL_STATUS_OK);
	sigil__registry_host host = reg_http("127.0.0.1:5000");
	sigil__challenge ch = bearer("anon", "svc", "");
	char scope[64], *hdr = NULL;
	int before = count_of("/token/anon");
	for (int i = 0; i <= SIGIL_MAX_TOKEN_CACHE_ENTRIES; i++) {
		snprintf(scope, sizeof(scope), "repository:r%d:pull", i);
		CHECK(auth(cache, &ch, 1, NULL, scope, &host, &hdr, &err) == SIGIL_STATUS_OK);
		free(hdr);
	}
	CHECK_INTEQ(count_of("/token/anon"), before + SIGIL_MAX_TOKEN_CACHE_ENTRIES + 1);
	/* the newest is cached, the oldest was evicted */
	snprintf(scope, sizeof(scope), "repository:r%d:pull", SIGIL_MAX_TOKEN_CACHE_ENTRIES);
	CHECK(auth(cache, &ch, 1, NULL, scope, &host, &hdr, &err) == SIGIL_STATUS_OK);
	free(hdr);
	CHECK_INTEQ(count_of("/token/anon"), before + SIGIL_MAX_TOKEN_CACHE_ENTRIES + 1);
	CHECK(auth(cache, &ch, 1, NULL, "repository:r0:pull", &host, &hdr, &err) == SIGIL_STATUS_OK);
	free(hdr);
	CHECK_INTEQ(count_of("/token/anon"), before + SIGIL_MAX_TOKEN_CACHE_ENTRIES + 2);
	sigil__token_cache_free(cache);
}

static void test_basic_credentials(void)
{
	sigil__token_cache *cache = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigil__token_cache_new(&cache, &err) == SIGIL_STATUS_OK);
	sigil__registry_host host = reg_http("127.0.0.1:5000");
	sigil__challenge ch = bearer("basic", "svc", "");
	sigil__credential cred = { .username = "alice", .password = "s3cr:et" };
	char *hdr = NULL, want[256];

	CHECK(auth(cache, &ch, 1, &cred, SCOPE, &host, &hdr, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(hdr, "Authorization: Bearer basic-token");
	free(hdr);
	CHECK_STREQ(last("last_auth"), "Basic YWxpY2U6czNjcjpldA==");

	/* a wrong password is not served from alice's cached token */
	sigil__credential wrong = { .username = "alice", .password = "nope" };
	hdr = NULL;
	CHECK(auth(cache, &ch, 1, &wrong, SCOPE, &host, &hdr, &err) == SIGIL_STATUS_ERROR);
	CHECK(hdr == NULL);
	CHECK_INTEQ(err.category, SIGIL_ERR_POLICY);
	snprintf(want, sizeof(want),
		"401 from 127.0.0.1:%d for repository:app:pull: check the credentials for 127.0.0.1:5000",
		srv.port);
	CHECK_STREQ(err.message, want);

	/* the token server needs credentials and we have none */
	CHECK(auth(cache, &ch, 1, NULL, SCOPE, &host, &hdr, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_POLICY);
	snprintf(want, sizeof(want), "401 from 127.0.0.1:%d for repository:app:pull: the registry "
		"requires credentials; none found for 127.0.0.1:5000", srv.port);
	CHECK_STREQ(err.message, want);

	/* 403 from the token server */
	sigil__challenge deny = bearer("deny?x=403", "svc", "");
	CHECK(auth(cache, &deny, 1, &cred, SCOPE, &host, &hdr, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_POLICY);
	snprintf(want, sizeof(want),
		"403 from 127.0.0.1:%d for repository:app:pull: check the credentials for 127.0.0.1:5000",
		srv.port);
	CHECK_STREQ(err.message, want);
	/* the realm's own query is kept */
	CHECK_STREQ(last("last_query"), "x=403&service=svc&scope=repository%3Aapp%3Apull");
	sigil__token_cache_free(cache);
}

static void test_refresh_token(void)
{
	sigil_error err = SIGIL_ERROR_INIT;
	sigil__registry_host host = reg_http("127.0.0.1:5000");
	sigil__challenge ch = bearer("oauth", "my svc", "");
	sigil__credential cred = { .username = "<token>", .identity_token = "rt-123" };
	char *hdr = NULL, want[256];

	CHECK(auth(NULL, &ch, 1, &cred, SCOPE, &host, &hdr, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(hdr, "Authorization: Bearer oauth-token");
	free(hdr);
	CHECK_STREQ(last("last_method"), "POST");
	CHECK_STREQ(last("last_body"), "grant_type=refresh_token&service=my%20svc&"
		"scope=repository%3Aapp%3Apull&client_id=sigil&refresh_token=rt-123");
	CHECK_STREQ(last("last_query"), "");

	sigil__credential bad = { .identity_token = "rt-999" };
	hdr = NULL;
	CHECK(auth(NULL, &ch, 1, &bad, SCOPE, &host, &hdr, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_POLICY);
	snprintf(want, sizeof(want),
		"401 from 127.0.0.1:%d for repository:app:pull: check the credentials for 127.0.0.1:5000",
		srv.port);
	CHECK_STREQ(err.message, want);

	/* a token server without the OAuth2 endpoint (405): GET with Basic */
	sigil__challenge basic_realm = bearer("basic", "svc", "");
	sigil__credential both = { .username = "alice", .password = "s3cr:et",
		.identity_token = "rt-123" };
	CHECK(auth(NULL, &basic_realm, 1, &both, SCOPE, &host, &hdr, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(hdr, "Authorization: Bearer basic-token");
	free(hdr);
	CHECK_STREQ(last("last_method"), "GET");
}

static void test_bad_token_responses(void)
{
	sigil_error err = SIGIL_ERROR_INIT;
	sigil__registry_host host = reg_http("127.0.0.1:5000");
	char *hdr = NULL, want[256];
	struct { const char *kind; sigil_category cat; const char *msg; } cases[] = {
		{ "notjson", SIGIL_ERR_MALFORMED, "token response from 127.0.0.1:" },
		{ "notoken", SIGIL_ERR_MALFORMED, ": no token" },
		{ "badchars", SIGIL_ERR_MALFORMED, "token has characters not allowed in a header" },
		{ "error", SIGIL_ERR_NETWORK, "/token/error for repository:app:pull: token request failed" },
		{ "missing", SIGIL_ERR_NETWORK, "404 from 127.0.0.1:" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sigil__challenge ch = bearer(cases[i].kind, "svc", "");
		hdr = NULL;
		CHECK(auth(NULL, &ch, 1, NULL, SCOPE, &host, &hdr, &err) == SIGIL_STATUS_ERROR);
		CHECK(hdr == NULL);
		CHECK_INTEQ(err.category, cases[i].cat);
		CHECK_CONTAINS(err.message, cases[i].msg);
	}
	snprintf(want, sizeof(want), "500 from 127.0.0.1:%d/token/error for", srv.port);
	sigil__challenge ch = bearer("error", "svc", "");
	CHECK(auth(NULL, &ch, 1, NULL, SCOPE, &host, &hdr, &err) == SIGIL_STATUS_ERROR);
	CHECK_CONTAINS(err.message, want);

	/* the deadline covers the token request */
	ch = bearer("anon", "svc", "");
	CHECK(sigil__auth_header(client, NULL, &ch, 1, NULL, SCOPE, &host, sigil__now_ms() - 1, &hdr,
		&err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_NETWORK);
	CHECK_CONTAINS(err.message, "fetching a token for repository:app:pull: ");
	CHECK_CONTAINS(err.message, "deadline passed");

	/* a token server that is down */
	int port = closed_port();
	snprintf(ch.realm, sizeof(ch.realm), "http://127.0.0.1:%d/token", port);
	CHECK(auth(NULL, &ch, 1, NULL, SCOPE, &host, &hdr, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_NETWORK);
	snprintf(want, sizeof(want), "127.0.0.1:%d: connection refused", port);
	CHECK_CONTAINS(err.message, want);
}

static void test_basic_scheme_and_registry_token(void)
{
	sigil_error err = SIGIL_ERROR_INIT;
	sigil__registry_host host = reg_http("127.0.0.1:5000");
	sigil__challenge ch = { .scheme = "basic", .realm = "Registry" };
	sigil__credential cred = { .username = "alice", .password = "s3cr:et" };
	char *hdr = NULL;
	int before = count_of("/token/anon");

	/* RFC 7617: no request to any realm */
	CHECK(auth(NULL, &ch, 1, &cred, SCOPE, &host, &hdr, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(hdr, "Authorization: Basic YWxpY2U6czNjcjpldA==");
	free(hdr);
	hdr = NULL;
	sigil__credential empty_pw = { .username = "bob", .password = "" };
	CHECK(auth(NULL, &ch, 1, &empty_pw, SCOPE, &host, &hdr, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(hdr, "Authorization: Basic Ym9iOg==");
	free(hdr);

	hdr = NULL;
	CHECK(auth(NULL, &ch, 1, NULL, SCOPE, &host, &hdr, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_POLICY);
	CHECK_STREQ(err.message, "401 from 127.0.0.1:5000 for repository:app:pull: the registry "
		"requires credentials; none found for 127.0.0.1:5000");
	sigil__credential only_id = { .identity_token = "rt" };
	CHECK(auth(NULL, &ch, 1, &only_id, SCOPE, &host, &hdr, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_POLICY);

	/* registrytoken: sent as is, whatever the challenge */
	sigil__credential rt = { .registry_token = "reg.tok-1" };
	sigil__challenge b = bearer("anon", "svc", "");
	CHECK(auth(NULL, &b, 1, &rt, SCOPE, &host, &hdr, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(hdr, "Authorization: Bearer reg.tok-1");
	free(hdr);
	CHECK_INTEQ(count_of("/token/anon"), before);
	sigil__credential rt_bad = { .registry_token = "a\nb" };
	CHECK(auth(NULL, &b, 1, &rt_bad, SCOPE, &host, &hdr, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_MALFORMED);

	/* bearer is preferred over basic when both are offered */
	sigil__challenge both[2] = { ch, b };
	CHECK(auth(NULL, both, 2, &cred, SCOPE, &host, &hdr, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(hdr, "Authorization: Bearer anon-token");
	free(hdr);

	/* nothing we speak */
	sigil__challenge dig = { .scheme = "digest", .realm = "x" };
	CHECK(auth(NULL, &dig, 1, &cred, SCOPE, &host, &hdr, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_UNSUPPORTED);
	CHECK_CONTAINS(err.message, "no supported authentication scheme (digest)");
	CHECK(auth(NULL, NULL, 0, &cred, SCOPE, &host, &hdr, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_UNSUPPORTED);

	sigil__challenge norealm = { .scheme = "bearer" };
	CHECK(auth(NULL, &norealm, 1, NULL, SCOPE, &host, &hdr, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_MALFORMED);
	CHECK_CONTAINS(err.message, "Bearer challenge without a realm");
}

static void test_realm_rules(void)
{
	sigil_error err = SIGIL_ERROR_INIT;
	char *hdr = NULL;
	sigil__credential cred = { .username = "alice", .password = "s3cr:et" };
	int before = count_of("/token/basic");

	/* https registry, http realm: refused, even anonymously */
	sigil__registry_host https_reg = { .scheme = "https", .host = "registry.example" };
	sigil__challenge ch = bearer("anon", "svc", "");
	CHECK(auth(NULL, &ch, 1, NULL, SCOPE, &https_reg, &hdr, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_NETWORK);
	CHECK_CONTAINS(err.message, "is plain http for an https registry: refused");
	CHECK(auth(NULL, &ch, 1, NULL, SCOPE, NULL, &hdr, &err) == SIGIL_STATUS_ERROR);
	CHECK_CONTAINS(err.message, "plain http");

	/* http registry: credentials over http only to the registry's host name */
	sigil__registry_host other = reg_http("localhost:5000");
	sigil__challenge cb = bearer("basic", "svc", "");
	CHECK(auth(NULL, &cb, 1, &cred, SCOPE, &other, &hdr, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_NETWORK);
	CHECK_CONTAINS(err.message, "refusing to send the credentials for localhost:5000 over plain "
		"http to another host (127.0.0.1:");
	CHECK_INTEQ(count_of("/token/basic"), before);
	/* anonymous is fine: no secret goes out */
	CHECK(auth(NULL, &ch, 1, NULL, SCOPE, &other, &hdr, &err) == SIGIL_STATUS_OK);
	free(hdr);

	sigil__challenge ftp = { .scheme = "bearer", .realm = "ftp://127.0.0.1/token" };
	CHECK(auth(NULL, &ftp, 1, NULL, SCOPE, &other, &hdr, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_NETWORK);
	CHECK_CONTAINS(err.message, "is not an http(s) URL");
	sigil__challenge junk = { .scheme = "bearer", .realm = "not a url" };
	CHECK(auth(NULL, &junk, 1, NULL, SCOPE, &other, &hdr, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_MALFORMED);
	CHECK_CONTAINS(err.message, "invalid token realm \"not a url\"");

	/* https realm on another host: credentials allowed, host CA files apply */
	char *cas[] = { ca_path };
	sigil__registry_host tls_reg = { .scheme = "https", .host = "registry.example",
		.ca_files = cas, .ca_count = 1 };
	sigil__challenge ct = { .scheme = "bearer", .service = "svc" };
	snprintf(ct.realm, sizeof(ct.realm), "https://127.0.0.1:%d/token/basic", tls.port);
	CHECK(auth(NULL, &ct, 1, &cred, SCOPE, &tls_reg, &hdr, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(hdr, "Authorization: Bearer basic-token");
	free(hdr);
	tls_reg.ca_count = 0;
	CHECK(auth(NULL, &ct, 1, &cred, SCOPE, &tls_reg, &hdr, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_NETWORK);
	CHECK_CONTAINS(err.message, "TLS certificate problem");
}

static void test_credential_clear(void)
{
	sigil__credential c = { strdup("u"), strdup("p"), strdup("i"), strdup("r") };
	sigil__credential_clear(&c);
	CHECK(!c.username && !c.password && !c.identity_token && !c.registry_token);
	sigil__credential_clear(&c);
	sigil__credential_clear(NULL);
}

int main(void)
{
	RUN(test_parse_positive);
	RUN(test_parse_negative);
	RUN(test_parse_bounds);
	RUN(test_credential_clear);

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	make_certs(tmpdir);
	snprintf(ca_path, sizeof(ca_path), "%s/ca.pem", tmpdir);
	char srv_cert[512], srv_key[512];
	snprintf(srv_cert, sizeof(srv_cert), "%s/srv.pem", tmpdir);
	snprintf(srv_key, sizeof(srv_key), "%s/srv.key", tmpdir);
	test_server_start(&srv, NULL);
	const char *tls_args[] = { "--tls", srv_cert, srv_key, NULL };
	test_server_start(&tls, tls_args);
	sigil_error err = SIGIL_ERROR_INIT;
	if (sigil__http_new(&client, &err) != SIGIL_STATUS_OK) {
		fprintf(stderr, "http_new: %s\n", err.message);
		return 2;
	}
	RUN(test_anonymous_and_cache);
	RUN(test_short_lifetime);
	RUN(test_cache_bounded);
	RUN(test_basic_credentials);
	RUN(test_refresh_token);
	RUN(test_bad_token_responses);
	RUN(test_basic_scheme_and_registry_token);
	RUN(test_realm_rules);
	sigil__http_free(client);
	test_server_stop(&srv);
	test_server_stop(&tls);
	remove_dir(tmpdir);
	return check_summary();
}
