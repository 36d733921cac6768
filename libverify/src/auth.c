/* auth.c - registry authentication (see auth.h): WWW-Authenticate parsing
 * (RFC 9110 §11.6.1, RFC 7235 §2.1 and §4.1), Basic (RFC 7617) and the
 * distribution token flow ("Token Authentication Specification" and its
 * "OAuth2" refresh-token variant), with a bounded token cache.
 *
 * Where tokens are fetched from. The realm comes from the registry, so it
 * is checked before any credential is sent to it:
 *  - https realms are always allowed;
 *  - an http realm only when the registry itself is reached over plain
 *    http (hosts.toml, --plain-http, localhost): no downgrade from an https
 *    registry to a cleartext token endpoint;
 *  - and then credentials (Basic or a refresh token) go over plain http
 *    only to the registry's own host name (any port: a token server next to
 *    a local registry); anonymous token requests may go elsewhere, they
 *    carry no secret.
 * The distribution token spec leaves this to clients; docker and
 * containerd accept any realm, which lets a registry on one host harvest
 * the credentials a node holds for another over cleartext. */
#include "auth.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>
#include <openssl/evp.h>

#include "bounds.h"
#include "cleanup.h"
#include "errors.h"
#include "jsonutil.h"

/* --- WWW-Authenticate ------------------------------------------------- */

static bool is_tchar(unsigned char c)
{
	/* RFC 9110 §5.6.2 token */
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_t68char(unsigned char c)
{
	/* RFC 9110 §11.2 token68 (without the trailing '=') */
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("-._~+/", c) != NULL;
}

typedef struct cursor {
	const unsigned char *s;
	size_t len, pos;
} cursor;

static bool at_end(const cursor *c) { return c->pos >= c->len; }
static unsigned char peek(const cursor *c) { return at_end(c) ? 0 : c->s[c->pos]; }

static void skip_ows(cursor *c)
{
	while (!at_end(c) && (c->s[c->pos] == ' ' || c->s[c->pos] == '\t'))
		c->pos++;
}

/* RFC 9110 §5.6.1: recipients accept empty list elements. */
static void skip_ows_commas(cursor *c)
{
	while (!at_end(c) && (c->s[c->pos] == ' ' || c->s[c->pos] == '\t' || c->s[c->pos] == ','))
		c->pos++;
}

static size_t token_len(const cursor *c, size_t from)
{
	size_t i = from;
	while (i < c->len && is_tchar(c->s[i]))
		i++;
	return i - from;
}

/* parse_value - token or quoted-string (RFC 9110 §5.6.4, with quoted-pair
 * escapes) at the cursor, unescaped into dst (cap bytes incl. NUL) when
 * dst is non-NULL. *overflow when it does not fit. */
static sigil_status parse_value(cursor *c, char *dst, size_t cap, bool *overflow, sigil_error *err)
{
	size_t o = 0;
	*overflow = false;
	if (peek(c) == '"') {
		c->pos++;
		for (;;) {
			if (at_end(c))
				return sigil__err_at(err, SIGIL_ERR_MALFORMED, c->pos,
					"WWW-Authenticate: unterminated quoted string");
			unsigned char ch = c->s[c->pos++];
			if (ch == '"')
				break;
			if (ch == '\\') {
				if (at_end(c))
					return sigil__err_at(err, SIGIL_ERR_MALFORMED, c->pos,
						"WWW-Authenticate: unterminated quoted string");
				ch = c->s[c->pos++];
				/* quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ) */
				if (ch != '\t' && (ch < 0x20 || ch == 0x7f))
					return sigil__err_at(err, SIGIL_ERR_MALFORMED, c->pos - 1,
						"WWW-Authenticate: invalid escaped character 0x%02x", ch);
			} else if (ch != '\t' && (ch < 0x20 || ch == 0x7f)) {
				/* qdtext excludes controls */
				return sigil__err_at(err, SIGIL_ERR_MALFORMED, c->pos - 1,
					"WWW-Authenticate: control character 0x%02x in quoted string", ch);
			}
			if (dst) {
				if (o + 1 >= cap)
					*overflow = true;
				else
					dst[o++] = (char)ch;
			}
		}
	} else {
		size_t n = token_len(c, c->pos);
		if (n == 0)
			return sigil__err_at(err, SIGIL_ERR_MALFORMED, c->pos,
				"WWW-Authenticate: expected a token or quoted string");
		if (dst) {
			if (n >= cap)
				*overflow = true;
			else {
				memcpy(dst, c->s + c->pos, n);
				o = n;
			}
		}
		c->pos += n;
	}
	if (dst)
		dst[*overflow ? 0 : o] = 0;
	return SIGIL_STATUS_OK;
}

/* parse_param - auth-param = token BWS "=" BWS ( token / quoted-string ) */
static sigil_status parse_param(cursor *c, sigil__challenge *ch, unsigned *seen, sigil_error *err)
{
	size_t start = c->pos;
	size_t n = token_len(c, c->pos);
	if (n == 0)
		return sigil__err_at(err, SIGIL_ERR_MALFORMED, c->pos,
			"WWW-Authenticate: expected an auth-param");
	const char *name = (const char *)c->s + c->pos;
	c->pos += n;
	skip_ows(c);
	if (peek(c) != '=')
		return sigil__err_at(err, SIGIL_ERR_MALFORMED, c->pos,
			"WWW-Authenticate: expected '=' after parameter %.*s", (int)(n > 64 ? 64 : n), name);
	c->pos++;
	skip_ows(c);

	char *dst = NULL;
	size_t cap = 0;
	unsigned bit = 0;
	if (n == 5 && strncasecmp(name, "realm", 5) == 0) {
		dst = ch->realm; cap = sizeof(ch->realm); bit = 1;
	} else if (n == 7 && strncasecmp(name, "service", 7) == 0) {
		dst = ch->service; cap = sizeof(ch->service); bit = 2;
	} else if (n == 5 && strncasecmp(name, "scope", 5) == 0) {
		dst = ch->scope; cap = sizeof(ch->scope); bit = 4;
	}
	/* RFC 7235 §2.1: each parameter name MUST only occur once per challenge */
	if (bit && (*seen & bit))
		return sigil__err_at(err, SIGIL_ERR_MALFORMED, start,
			"WWW-Authenticate: parameter %.*s repeated in one challenge", (int)n, name);
	*seen |= bit;
	bool overflow;
	SIGIL_TRY(parse_value(c, dst, cap, &overflow, err));
	if (overflow)
		return sigil__err_at(err, SIGIL_ERR_LIMIT, start,
			"WWW-Authenticate: parameter %.*s longer than %zu bytes", (int)n, name, cap - 1);
	return SIGIL_STATUS_OK;
}

sigil_status sigil__www_authenticate_parse(const char *value, size_t len,
	sigil__challenge *out, size_t max, size_t *count, sigil_error *err)
{
	if (!value || !out || !count)
		return sigil__err(err, SIGIL_ERR_USAGE, "WWW-Authenticate: missing argument");
	if (len > SIGIL_MAX_HTTP_HEADER_VALUE)
		return sigil__err(err, SIGIL_ERR_LIMIT, "WWW-Authenticate longer than %u bytes",
			SIGIL_MAX_HTTP_HEADER_VALUE);
	_cleanup_free_ sigil__challenge *tmp = NULL;
	if (max > 0 && !(tmp = calloc(max, sizeof(*tmp))))
		return sigil__err_oom(err);

	cursor c = { (const unsigned char *)value, len, 0 };
	size_t n = 0;
	skip_ows_commas(&c);
	while (!at_end(&c)) {
		/* challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ] */
		size_t sl = token_len(&c, c.pos);
		if (sl == 0)
			return sigil__err_at(err, SIGIL_ERR_MALFORMED, c.pos,
				"WWW-Authenticate: expected an authentication scheme");
		if (n >= max)
			return sigil__err(err, SIGIL_ERR_LIMIT, "WWW-Authenticate: more than %zu challenges",
				max);
		sigil__challenge *ch = &tmp[n++];
		if (sl >= sizeof(ch->scheme))
			return sigil__err_at(err, SIGIL_ERR_LIMIT, c.pos,
				"WWW-Authenticate: authentication scheme longer than %zu bytes",
				sizeof(ch->scheme) - 1);
		/* RFC 9110 §11.1: the scheme is case-insensitive */
		for (size_t i = 0; i < sl; i++) {
			unsigned char u = c.s[c.pos + i];
			ch->scheme[i] = (char)(u >= 'A' && u <= 'Z' ? u + 32 : u);
		}
		ch->scheme[sl] = 0;
		c.pos += sl;

		bool next_challenge = false;
		if (at_end(&c))
			break;
		if (peek(&c) == ',') {
			skip_ows_commas(&c);
			continue;
		}
		if (peek(&c) != ' ' && peek(&c) != '\t')
			return sigil__err_at(err, SIGIL_ERR_MALFORMED, c.pos,
				"WWW-Authenticate: unexpected character after scheme %s", ch->scheme);
		skip_ows(&c);
		if (at_end(&c))
			break;
		if (peek(&c) == ',') {
			skip_ows_commas(&c);
			continue;
		}
		/* token68 (Basic's old form): a run of token68 characters and
		 * '='s that ends the element. Anything else is auth-params. */
		size_t j = c.pos;
		while (j < c.len && is_t68char(c.s[j]))
			j++;
		if (j > c.pos) {
			size_t k = j;
			while (k < c.len && c.s[k] == '=')
				k++;
			size_t e = k;
			while (e < c.len && (c.s[e] == ' ' || c.s[e] == '\t'))
				e++;
			if (e == c.len || c.s[e] == ',') {
				c.pos = e;
				skip_ows_commas(&c);
				continue;
			}
		}
		unsigned seen = 0;
		while (!next_challenge) {
			SIGIL_TRY(parse_param(&c, ch, &seen, err));
			skip_ows(&c);
			if (at_end(&c))
				break;
			if (peek(&c) != ',')
				return sigil__err_at(err, SIGIL_ERR_MALFORMED, c.pos,
					"WWW-Authenticate: expected ',' between parameters");
			skip_ows_commas(&c);
			if (at_end(&c))
				break;
			/* a token followed by '=' is another parameter; a token
			 * followed by anything else starts the next challenge */
			size_t tl = token_len(&c, c.pos);
			size_t e = c.pos + tl;
			while (e < c.len && (c.s[e] == ' ' || c.s[e] == '\t'))
				e++;
			if (tl == 0 || e >= c.len || c.s[e] != '=')
				next_challenge = true;
		}
	}
	if (n == 0)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "WWW-Authenticate: no challenge");
	memcpy(out, tmp, n * sizeof(*out));
	*count = n;
	return SIGIL_STATUS_OK;
}

/* --- credentials ------------------------------------------------------ */

static void free_secret(char **s)
{
	if (*s) {
		explicit_bzero(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

void sigil__credential_clear(sigil__credential *c)
{
	if (!c)
		return;
	free_secret(&c->username);
	free_secret(&c->password);
	free_secret(&c->identity_token);
	free_secret(&c->registry_token);
}

/* --- token cache ------------------------------------------------------ */

typedef struct cache_entry {
	char *key;
	char *token;
	int64_t expires_at_ms;
	uint64_t seq;
} cache_entry;

struct sigil__token_cache {
	pthread_mutex_t lock;
	cache_entry e[SIGIL_MAX_TOKEN_CACHE_ENTRIES];
	size_t n;
	uint64_t seq;
	int64_t skew_ms;
};

sigil_status sigil__token_cache_new(sigil__token_cache **out, sigil_error *err)
{
	sigil__token_cache *c = calloc(1, sizeof(*c));
	if (!c)
		return sigil__err_oom(err);
	pthread_mutex_init(&c->lock, NULL);
	*out = c;
	return SIGIL_STATUS_OK;
}

static void entry_clear(cache_entry *e)
{
	free(e->key);
	free_secret(&e->token);
	memset(e, 0, sizeof(*e));
}

void sigil__token_cache_set_skew(sigil__token_cache *c, int64_t skew_ms)
{
	pthread_mutex_lock(&c->lock);
	c->skew_ms = skew_ms;
	pthread_mutex_unlock(&c->lock);
}

void sigil__token_cache_free(sigil__token_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		entry_clear(&c->e[i]);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* cache_get - a copy of the unexpired token for key, or NULL. */
static char *cache_get(sigil__token_cache *c, const char *key)
{
	char *tok = NULL;
	pthread_mutex_lock(&c->lock);
	int64_t now = sigil__now_ms() + c->skew_ms;
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->e[i].key, key) == 0 && c->e[i].expires_at_ms > now) {
			tok = strdup(c->e[i].token);
			break;
		}
	pthread_mutex_unlock(&c->lock);
	return tok;
}

static void cache_put(sigil__token_cache *c, const char *key, const char *token,
	int64_t expires_at_ms)
{
	char *k = strdup(key), *t = strdup(token);
	if (!k || !t) {
		free(k);
		free_secret(&t);
		return; /* caching is an optimisation */
	}
	pthread_mutex_lock(&c->lock);
	int64_t now = sigil__now_ms() + c->skew_ms;
	size_t slot = c->n;
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->e[i].key, key) == 0 || c->e[i].expires_at_ms <= now) {
			slot = i;
			break;
		}
	if (slot == SIGIL_MAX_TOKEN_CACHE_ENTRIES) {
		/* full of live entries: evict the oldest */
		slot = 0;
		for (size_t i = 1; i < c->n; i++)
			if (c->e[i].seq < c->e[slot].seq)
				slot = i;
	}
	if (slot < c->n)
		entry_clear(&c->e[slot]);
	else
		c->n++;
	c->e[slot] = (cache_entry){ k, t, expires_at_ms, ++c->seq };
	pthread_mutex_unlock(&c->lock);
}

/* --- helpers ---------------------------------------------------------- */

static void curl_url_cleanupp(CURLU **u) { if (*u) curl_url_cleanup(*u); }
static void curl_freep(char **p) { if (*p) curl_free(*p); }

/* host_of - "host[:port]" and the bare host name of a URL. */
static bool host_of(const char *url, char *hostport, size_t hpcap, char *name, size_t ncap)
{
	_cleanup_(curl_url_cleanupp) CURLU *u = curl_url();
	_cleanup_(curl_freep) char *h = NULL;
	_cleanup_(curl_freep) char *p = NULL;
	if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK)
		return false;
	if (curl_url_get(u, CURLUPART_PORT, &p, 0) == CURLUE_OK && p)
		snprintf(hostport, hpcap, "%s:%s", h, p);
	else
		snprintf(hostport, hpcap, "%s", h);
	snprintf(name, ncap, "%s", h);
	return true;
}

/* header-safe token: RFC 6750 b64token and the JWTs registries issue are
 * visible ASCII; anything else could split the request header. */
static bool token_ok(const char *t)
{
	if (!*t)
		return false;
	for (const unsigned char *p = (const unsigned char *)t; *p; p++)
		if (*p < 0x21 || *p > 0x7e)
			return false;
	return true;
}

static char *concat(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 1);
	if (!s)
		return NULL;
	memcpy(s, a, la);
	memcpy(s + la, b, lb + 1);
	return s;
}

static sigil_status basic_header(const sigil__credential *cred, char **out, sigil_error *err)
{
	/* RFC 7617 §2: base64(user-id ":" password) */
	size_t lu = strlen(cred->username), lp = cred->password ? strlen(cred->password) : 0;
	if (lu > SIGIL_MAX_AUTH_TOKEN_SIZE || lp > SIGIL_MAX_AUTH_TOKEN_SIZE)
		return sigil__err(err, SIGIL_ERR_LIMIT, "credentials longer than %u bytes",
			SIGIL_MAX_AUTH_TOKEN_SIZE);
	size_t raw_len = lu + 1 + lp;
	_cleanup_free_ unsigned char *raw = malloc(raw_len);
	const char prefix[] = "Authorization: Basic ";
	size_t enc = 4 * ((raw_len + 2) / 3);
	char *h = malloc(sizeof(prefix) + enc + 1);
	if (!raw || !h) {
		free(h);
		return sigil__err_oom(err);
	}
	memcpy(raw, cred->username, lu);
	raw[lu] = ':';
	if (lp)
		memcpy(raw + lu + 1, cred->password, lp);
	memcpy(h, prefix, sizeof(prefix) - 1);
	EVP_EncodeBlock((unsigned char *)h + sizeof(prefix) - 1, raw, (int)raw_len);
	explicit_bzero(raw, raw_len);
	*out = h;
	return SIGIL_STATUS_OK;
}

/* add_query - "name=<escaped value>" appended to an
 * application/x-www-form-urlencoded string (a query or a POST body). */
static sigil_status add_query(char **form, const char *name, const char *value,
	sigil_error *err)
{
	_cleanup_(curl_freep) char *esc = curl_easy_escape(NULL, value, 0);
	if (!esc)
		return sigil__err_oom(err);
	size_t lf = *form ? strlen(*form) : 0, ln = strlen(name), le = strlen(esc);
	char *nf = malloc(lf + 1 + ln + 1 + le + 1);
	if (!nf)
		return sigil__err_oom(err);
	size_t o = 0;
	if (lf) {
		memcpy(nf, *form, lf);
		nf[lf] = '&';
		o = lf + 1;
	}
	memcpy(nf + o, name, ln);
	nf[o + ln] = '=';
	memcpy(nf + o + ln + 1, esc, le + 1);
	free_secret(form);
	*form = nf;
	return SIGIL_STATUS_OK;
}

typedef struct token_req {
	sigil__http *h;
	const sigil__challenge *ch;
	const sigil__credential *cred;
	const char *scopes[2];
	size_t nscopes;
	const char *scope_msg;     /* caller's scope, for messages */
	const char *reg_host;      /* registry host[:port], for messages */
	const sigil__registry_host *host;
	int64_t deadline_ms;
	char realm_host[300];
} token_req;

static sigil_status token_status_error(const token_req *t, long status, bool sent_creds,
	const char *path, sigil_error *err)
{
	if (status == 401 || status == 403) {
		if (sent_creds)
			return sigil__err(err, SIGIL_ERR_POLICY,
				"%ld from %s for %s: check the credentials for %s", status,
				t->realm_host, t->scope_msg, t->reg_host);
		return sigil__err(err, SIGIL_ERR_POLICY,
			"%ld from %s for %s: the registry requires credentials; none found for %s",
			status, t->realm_host, t->scope_msg, t->reg_host);
	}
	return sigil__err(err, SIGIL_ERR_NETWORK, "%ld from %s%s for %s: token request failed",
		status, t->realm_host, path, t->scope_msg);
}

static sigil_status parse_token_response(const token_req *t, const sigil__http_response *r,
	char **token, int64_t *expires_in, sigil_error *err)
{
	_cleanup_(json_object_putp) json_object *o = NULL;
	if (sigil__json_parse_object(r->body, r->body_len, "token response", &o, err)
	    != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "token response from %s", t->realm_host);
	const char *tok = NULL, *acc = NULL, *issued = NULL;
	bool has_tok = false, has_acc = false, has_exp = false, has_issued = false;
	int64_t exp = 0;
	/* token spec: "token"; OAuth2: "access_token"; either may appear */
	if (sigil__json_get_string(o, "token", &tok, &has_tok, err) != SIGIL_STATUS_OK ||
	    sigil__json_get_string(o, "access_token", &acc, &has_acc, err) != SIGIL_STATUS_OK ||
	    sigil__json_get_int64(o, "expires_in", &exp, &has_exp, err) != SIGIL_STATUS_OK ||
	    sigil__json_get_string(o, "issued_at", &issued, &has_issued, err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "token response from %s", t->realm_host);
	const char *v = has_tok && tok && *tok ? tok : (has_acc ? acc : NULL);
	if (!v || !*v)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "token response from %s: no token",
			t->realm_host);
	if (strlen(v) > SIGIL_MAX_AUTH_TOKEN_SIZE)
		return sigil__err(err, SIGIL_ERR_LIMIT, "token from %s longer than %u bytes",
			t->realm_host, SIGIL_MAX_AUTH_TOKEN_SIZE);
	if (!token_ok(v))
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			"token response from %s: token has characters not allowed in a header",
			t->realm_host);
	/* Token spec: expires_in defaults to 60 s and "a token should never be
	 * returned with less than 60 seconds to live" (containerd raises
	 * shorter lifetimes to 60 s likewise). issued_at is wall-clock time
	 * and is not needed: the lifetime is counted on the monotonic clock
	 * from before the request. */
	if (!has_exp || exp < 60)
		exp = 60;
	if (exp > 86400 * 365)
		exp = 86400 * 365;
	char *dup = strdup(v);
	if (!dup)
		return sigil__err_oom(err);
	*token = dup;
	*expires_in = exp;
	return SIGIL_STATUS_OK;
}

/* fetch_token - one token from the realm: POST (refresh token) or GET. */
static sigil_status fetch_token(token_req *t, char **token, int64_t *expires_in, sigil_error *err)
{
	const sigil__challenge *ch = t->ch;
	const sigil__credential *cred = t->cred;
	_cleanup_(curl_url_cleanupp) CURLU *u = curl_url();
	_cleanup_(curl_freep) char *scheme = NULL;
	_cleanup_(curl_freep) char *rname = NULL;
	if (!u)
		return sigil__err_oom(err);
	if (curl_url_set(u, CURLUPART_URL, ch->realm, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &rname, 0) != CURLUE_OK)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "401 from %s: invalid token realm \"%.200s\"",
			t->reg_host, ch->realm);
	char rname_only[300];
	if (!host_of(ch->realm, t->realm_host, sizeof(t->realm_host), rname_only, sizeof(rname_only)))
		return sigil__err(err, SIGIL_ERR_MALFORMED, "401 from %s: invalid token realm \"%.200s\"",
			t->reg_host, ch->realm);

	bool has_refresh = cred && cred->identity_token && *cred->identity_token;
	bool has_basic = cred && cred->username && *cred->username && cred->password;
	bool sends_creds = has_refresh || has_basic;

	bool registry_http = t->host && strcmp(t->host->scheme, "http") == 0;
	if (strcmp(scheme, "https") != 0) {
		if (strcmp(scheme, "http") != 0)
			return sigil__err(err, SIGIL_ERR_NETWORK,
				"401 from %s: token realm %s is not an http(s) URL", t->reg_host, t->realm_host);
		if (!registry_http)
			return sigil__err(err, SIGIL_ERR_NETWORK,
				"401 from %s: token realm http://%s is plain http for an https registry: refused",
				t->reg_host, t->realm_host);
		if (sends_creds) {
			char rh[300], reg_name[300];
			char url[600];
			snprintf(url, sizeof(url), "http://%s/", t->host->host);
			if (!host_of(url, rh, sizeof(rh), reg_name, sizeof(reg_name)) ||
			    strcasecmp(reg_name, rname_only) != 0)
				return sigil__err(err, SIGIL_ERR_NETWORK,
					"401 from %s: refusing to send the credentials for %s over plain http "
					"to another host (%s)", t->reg_host, t->reg_host, t->realm_host);
		}
	}

	_cleanup_(free_secret) char *form = NULL;
	_cleanup_(free_secret) char *auth = NULL;
	bool post = has_refresh;
	/* Token spec: GET realm?service=…&scope=…; OAuth2 spec: POST form
	 * grant_type=refresh_token&service=…&scope=…&client_id=…&refresh_token=… */
	/* the realm without a fragment; parameters are appended as built
	 * (CURLU would re-case the percent-encoding) */
	_cleanup_(curl_freep) char *base = NULL;
	_cleanup_(curl_freep) char *rquery = NULL;
	_cleanup_(curl_freep) char *rpath = NULL;
	if (curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &base, 0) != CURLUE_OK)
		return sigil__err(err, SIGIL_ERR_INTERNAL, "cannot build the token URL");
	bool has_query = curl_url_get(u, CURLUPART_QUERY, &rquery, 0) == CURLUE_OK && rquery;
	if (curl_url_get(u, CURLUPART_PATH, &rpath, 0) != CURLUE_OK)
		rpath = NULL;
	for (int attempt = 0; attempt < 2; attempt++) {
		_cleanup_free_ char *query = NULL;
		_cleanup_free_ char *url = NULL;
		if (post) {
			SIGIL_TRY(add_query(&form, "grant_type", "refresh_token", err));
			if (ch->service[0])
				SIGIL_TRY(add_query(&form, "service", ch->service, err));
			for (size_t i = 0; i < t->nscopes; i++)
				SIGIL_TRY(add_query(&form, "scope", t->scopes[i], err));
			SIGIL_TRY(add_query(&form, "client_id", "sigil", err));
			SIGIL_TRY(add_query(&form, "refresh_token", cred->identity_token, err));
			url = strdup(base);
		} else {
			if (ch->service[0])
				SIGIL_TRY(add_query(&query, "service", ch->service, err));
			for (size_t i = 0; i < t->nscopes; i++)
				SIGIL_TRY(add_query(&query, "scope", t->scopes[i], err));
			if (has_basic && !auth)
				SIGIL_TRY(basic_header(cred, &auth, err));
			if (query) {
				_cleanup_free_ char *sep = concat(base, has_query ? "&" : "?");
				url = sep ? concat(sep, query) : NULL;
			} else {
				url = strdup(base);
			}
		}
		if (!url)
			return sigil__err_oom(err);
		const char *hdrs[2];
		size_t nh = 0;
		if (post)
			hdrs[nh++] = "Content-Type: application/x-www-form-urlencoded";
		else if (auth)
			hdrs[nh++] = auth;
		sigil__http_request req = {
			.method = post ? "POST" : "GET",
			.url = url,
			.headers = hdrs,
			.header_count = nh,
			.body = post ? (const uint8_t *)form : NULL,
			.body_len = post ? strlen(form) : 0,
			.max_body = SIGIL_MAX_TOKEN_RESPONSE_SIZE,
			.deadline_ms = t->deadline_ms,
			.max_redirects = SIGIL_MAX_TOKEN_REDIRECTS,
			.host = t->host,
		};
		sigil__http_response r = { .content_length = -1 };
		if (sigil__http_do(t->h, &req, &r, err) != SIGIL_STATUS_OK)
			return sigil__err_wrap(err, "fetching a token for %s", t->scope_msg);
		if (post)
			free_secret(&form);
		/* OAuth2 spec: a token server without the POST endpoint answers
		 * 404/405; containerd then falls back to GET with Basic. */
		if (post && (r.status == 404 || r.status == 405) && has_basic) {
			sigil__http_response_clear(&r);
			post = false;
			continue;
		}
		sigil_status st;
		if (r.status != 200)
			st = token_status_error(t, r.status, sends_creds, rpath ? rpath : "", err);
		else
			st = parse_token_response(t, &r, token, expires_in, err);
		sigil__http_response_clear(&r);
		return st;
	}
	return sigil__err(err, SIGIL_ERR_INTERNAL, "token request loop");
}

/* cache_key - (realm, service, scope, user) and a digest of the secrets,
 * so a changed password or token never reuses another credential's token. */
static char *cache_key(const token_req *t)
{
	const sigil__credential *cred = t->cred;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	const char *parts[3] = {
		cred && cred->username ? cred->username : "",
		cred && cred->password ? cred->password : "",
		cred && cred->identity_token ? cred->identity_token : "",
	};
	bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
	for (int i = 0; ok && i < 3; i++)
		ok = EVP_DigestUpdate(ctx, parts[i], strlen(parts[i]) + 1) == 1;
	ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return NULL;
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	hex[2 * mdlen] = 0;
	const char *s0 = t->nscopes > 0 ? t->scopes[0] : "";
	const char *s1 = t->nscopes > 1 ? t->scopes[1] : "";
	size_t len = strlen(t->ch->realm) + strlen(t->ch->service) + strlen(s0) + strlen(s1) +
		strlen(parts[0]) + strlen(hex) + 8;
	char *k = malloc(len);
	if (k)
		snprintf(k, len, "%s\n%s\n%s %s\n%s\n%s", t->ch->realm, t->ch->service, s0, s1,
			parts[0], hex);
	return k;
}

sigil_status sigil__auth_header(sigil__http *h, sigil__token_cache *cache,
	const sigil__challenge *challenges, size_t count, const sigil__credential *cred,
	const char *scope, const sigil__registry_host *host, int64_t deadline_ms,
	char **header, sigil_error *err)
{
	if (!h || !header || (count && !challenges))
		return sigil__err(err, SIGIL_ERR_USAGE, "auth: missing argument");
	const char *reg_host = host && host->host[0] ? host->host : "registry";
	const char *scope_msg = scope && *scope ? scope : "(no scope)";

	const sigil__challenge *bearer = NULL, *basic = NULL;
	for (size_t i = 0; i < count; i++) {
		if (!bearer && strcmp(challenges[i].scheme, "bearer") == 0)
			bearer = &challenges[i];
		else if (!basic && strcmp(challenges[i].scheme, "basic") == 0)
			basic = &challenges[i];
	}
	if (!bearer && !basic)
		return sigil__err(err, SIGIL_ERR_UNSUPPORTED,
			"401 from %s for %s: no supported authentication scheme (%s)", reg_host, scope_msg,
			count ? challenges[0].scheme : "no challenge");

	/* docker config "registrytoken": a bearer token sent as is */
	if (cred && cred->registry_token && *cred->registry_token) {
		if (strlen(cred->registry_token) > SIGIL_MAX_AUTH_TOKEN_SIZE ||
		    !token_ok(cred->registry_token))
			return sigil__err(err, SIGIL_ERR_MALFORMED,
				"the registry token for %s has characters not allowed in a header", reg_host);
		char *hd = concat("Authorization: Bearer ", cred->registry_token);
		if (!hd)
			return sigil__err_oom(err);
		*header = hd;
		return SIGIL_STATUS_OK;
	}

	if (!bearer) {
		if (!cred || !cred->username || !*cred->username || !cred->password)
			return sigil__err(err, SIGIL_ERR_POLICY,
				"401 from %s for %s: the registry requires credentials; none found for %s",
				reg_host, scope_msg, reg_host);
		return basic_header(cred, header, err);
	}

	if (!bearer->realm[0])
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			"401 from %s for %s: Bearer challenge without a realm", reg_host, scope_msg);
	token_req t = {
		.h = h, .ch = bearer, .cred = cred, .scope_msg = scope_msg, .reg_host = reg_host,
		.host = host, .deadline_ms = deadline_ms,
	};
	if (scope && *scope)
		t.scopes[t.nscopes++] = scope;
	/* the registry may name a scope of its own: ask for it as well */
	if (bearer->scope[0] && !(scope && strcmp(scope, bearer->scope) == 0))
		t.scopes[t.nscopes++] = bearer->scope;

	_cleanup_free_ char *key = cache ? cache_key(&t) : NULL;
	char *tok = key ? cache_get(cache, key) : NULL;
	if (!tok) {
		int64_t started = sigil__now_ms();
		int64_t expires_in = 0;
		SIGIL_TRY(fetch_token(&t, &tok, &expires_in, err));
		/* margin: a token about to expire is not reused */
		int64_t margin = expires_in >= 120 ? 30 : 10;
		if (key)
			cache_put(cache, key, tok, started + (expires_in - margin) * 1000);
	}
	char *hd = concat("Authorization: Bearer ", tok);
	free_secret(&tok);
	if (!hd)
		return sigil__err_oom(err);
	*header = hd;
	return SIGIL_STATUS_OK;
}
