/* registry.c - signature discovery from an OCI distribution registry
 * (notary-verification.md §2.2): the referrers API, the referrers tag
 * schema when the registry has none, manifests and blobs fetched by digest
 * and checked, through containerd's host order, with the node's
 * credentials, inside one deadline. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>
#include <sigil/registry.h>
#include "auth.h"
#include "bounds.h"
#include "cleanup.h"
#include "credentials.h"
#include "errors.h"
#include "hosts.h"
#include "http.h"
#include "oci.h"
#include "referrers.h"
#include "source_internal.h"

struct sigil_registry {
	char *hosts_dir;
	int plain_http;
	int64_t request_timeout_ms;
	sigil__http *http;
	sigil__token_cache *tokens;
	sigil__credstore *creds;
	void (*on_request)(void *ctx, const char *host, long http_status);
	void *on_request_ctx;
};

/* Accept lists. Manifests by digest may be any manifest or index type. */
static const char ACCEPT_MANIFESTS[] =
	"Accept: " SIGIL_MT_IMAGE_MANIFEST ", " SIGIL_MT_IMAGE_INDEX ", "
	SIGIL_MT_DOCKER_MANIFEST ", " SIGIL_MT_DOCKER_MANIFEST_LIST ", " SIGIL_MT_ARTIFACT_MANIFEST;
static const char ACCEPT_INDEX[] = "Accept: " SIGIL_MT_IMAGE_INDEX;

SIGIL_EXPORT int64_t sigil_registry_now_ms(void)
{
	return sigil__now_ms();
}

SIGIL_EXPORT sigil_status sigil_registry_new(sigil_registry **out, const sigil_registry_options *opts,
	sigil_error *err)
{
	if (!out || !opts || opts->version < 1 || opts->version > SIGIL_REGISTRY_OPTIONS_VERSION)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigil_registry_new: options missing or of another version");
	if (opts->request_timeout_ms < 0)
		return sigil__err(err, SIGIL_ERR_USAGE, "request timeout must not be negative");
	sigil_registry *r = calloc(1, sizeof *r);
	if (!r)
		return sigil__err_oom(err);
	r->plain_http = opts->plain_http;
	if (opts->version >= 2) {
		/* a version 1 struct ends before these fields */
		r->on_request = opts->on_request;
		r->on_request_ctx = opts->on_request_ctx;
	}
	r->request_timeout_ms = opts->request_timeout_ms ? opts->request_timeout_ms :
		SIGIL_DEFAULT_REQUEST_TIMEOUT_MS;
	if (opts->hosts_dir && !(r->hosts_dir = strdup(opts->hosts_dir))) {
		sigil_registry_free(r);
		return sigil__err_oom(err);
	}
	if (sigil__http_new(&r->http, err) != SIGIL_STATUS_OK ||
	    sigil__token_cache_new(&r->tokens, err) != SIGIL_STATUS_OK ||
	    sigil__credstore_new(&r->creds, opts->docker_config, opts->credential_provider_config,
		opts->credential_provider_bin_dir, err) != SIGIL_STATUS_OK) {
		sigil_registry_free(r);
		return SIGIL_STATUS_ERROR;
	}
	*out = r;
	return SIGIL_STATUS_OK;
}

SIGIL_EXPORT void sigil_registry_free(sigil_registry *r)
{
	if (!r)
		return;
	sigil__credstore_free(r->creds);
	sigil__token_cache_free(r->tokens);
	sigil__http_free(r->http);
	free(r->hosts_dir);
	free(r);
}

/* ---- one repository on one registry, for one verification ------------- */

typedef struct reg_source {
	sigil_registry *reg;
	char *domain;
	char *name;        /* repository path on the registry: "library/nginx" */
	char *image;       /* normalised reference, for credential providers */
	int64_t deadline_ms;
	sigil__registry_hosts hosts;
	char **auth;       /* per host: the Authorization header that worked */
	bool cred_looked_up;
	bool cred_found;
	sigil__credential cred;
} reg_source;

static void reg_source_free(void *ctx)
{
	reg_source *s = ctx;
	if (!s)
		return;
	if (s->auth)
		for (size_t i = 0; i < s->hosts.count; i++)
			free(s->auth[i]);
	free(s->auth);
	sigil__hosts_clear(&s->hosts);
	sigil__credential_clear(&s->cred);
	free(s->domain);
	free(s->name);
	free(s->image);
	free(s);
}

static int64_t request_timeout(const reg_source *s)
{
	return s->reg->request_timeout_ms;
}

/* is_mirror - whether host h stands in for the registry rather than
 * being it (docker.io's API host registry-1.docker.io is the registry) */
static int is_mirror(const reg_source *s, const sigil__registry_host *h)
{
	if (strcmp(h->host, s->domain) == 0)
		return 0;
	if (strcmp(s->domain, "docker.io") == 0 && strcmp(h->host, "registry-1.docker.io") == 0)
		return 0;
	return 1;
}

/* Perform GET/HEAD `path` (below the repository: "/manifests/<d>") on
 * host i, answering a 401 challenge once with the node's credentials. */
/* Prefix "registry <host>" to a transfer error, unless the HTTP layer's
 * message already starts with that host (it names the host it talked to):
 * a reason that says the host twice reads like two hops. */
static sigil_status wrap_host(const reg_source *s, size_t i, sigil_error *err)
{
	const char *host = s->hosts.hosts[i].host;
	size_t n = strlen(host);
	if (err && strncmp(err->message, host, n) == 0 && err->message[n] == ':')
		return sigil__err_wrap(err, "registry");
	return sigil__err_wrap(err, "registry %s", host);
}

static sigil_status host_request(reg_source *s, size_t i, const char *method, const char *path,
	const char *accept, size_t max_body, int max_redirects, sigil__http_response *resp,
	sigil_error *err)
{
	sigil__registry_host *h = &s->hosts.hosts[i];
	char url[4096];
	for (int attempt = 0; attempt < 4; attempt++) {
		int n;
		if (strncmp(path, "http://", 7) == 0 || strncmp(path, "https://", 8) == 0)
			n = snprintf(url, sizeof url, "%s", path);
		else if (path[0] == '/' && strncmp(path, h->path, strlen(h->path)) == 0 &&
			 path[strlen(h->path)] == '/')
			/* a Link target relative to the host: "/v2/<name>/referrers/…" */
			n = snprintf(url, sizeof url, "%s://%s%s", h->scheme, h->host, path);
		else
			n = snprintf(url, sizeof url, "%s://%s%s/%s%s", h->scheme, h->host, h->path, s->name, path);
		if (n < 0 || (size_t)n >= sizeof url)
			return sigil__err(err, SIGIL_ERR_LIMIT, "request URL too long");
		if (is_mirror(s, h)) {
			/* containerd tells a mirror which registry it stands in for
			 * (remotes/docker/resolver.go: the "ns" query parameter) */
			int m = snprintf(url + n, sizeof url - (size_t)n, "%sns=%s",
				strchr(url, '?') ? "&" : "?", s->domain);
			if (m < 0 || (size_t)m >= sizeof url - (size_t)n)
				return sigil__err(err, SIGIL_ERR_LIMIT, "request URL too long");
		}
		/* Accept, the host's configured headers ("Name: value"), and
		 * the Authorization that worked before on this host */
		const char *headers[64];
		char *owned[64] = { 0 };
		size_t oc = 0, hc = 0;
		if (accept)
			headers[hc++] = accept;
		for (size_t k = 0; k < h->header_count && hc < 60; k++) {
			if (asprintf(&owned[oc], "%s: %s", h->header_names[k], h->header_values[k]) < 0) {
				for (size_t z = 0; z < oc; z++)
					free(owned[z]);
				return sigil__err_oom(err);
			}
			headers[hc++] = owned[oc++];
		}
		if (s->auth[i])
			headers[hc++] = s->auth[i];
		sigil__http_request req = {
			.method = method, .url = url, .headers = headers, .header_count = hc,
			.max_body = max_body, .deadline_ms = s->deadline_ms,
			.timeout_ms = request_timeout(s), .max_redirects = max_redirects, .host = h,
		};
		sigil__http_response_clear(resp);
		sigil_status st = sigil__http_do(s->reg->http, &req, resp, err);
		if (s->reg->on_request)
			s->reg->on_request(s->reg->on_request_ctx, h->host,
				st == SIGIL_STATUS_OK ? resp->status : 0);
		for (size_t z = 0; z < oc; z++)
			free(owned[z]);
		if (st != SIGIL_STATUS_OK && h->http_fallback && strcmp(h->scheme, "https") == 0 &&
		    err && strstr(err->message, "TLS handshake failed")) {
			/* containerd's HTTPFallback (remotes/docker/resolver.go): a
			 * localhost registry that answers a TLS handshake in plain
			 * HTTP is spoken to over http from then on */
			snprintf(h->scheme, sizeof h->scheme, "http");
			continue;
		}
		if (st != SIGIL_STATUS_OK) {
			/* idempotent: one retry of a transport failure while time is left */
			if (attempt == 0 && err && err->category == SIGIL_ERR_NETWORK &&
			    sigil__now_ms() + 100 < s->deadline_ms)
				continue;
			return SIGIL_STATUS_ERROR;
		}
		if (resp->status == 401 && attempt < 2 && resp->www_authenticate) {
			sigil__challenge ch[SIGIL_MAX_CHALLENGES];
			size_t nch = 0;
			if (sigil__www_authenticate_parse(resp->www_authenticate, strlen(resp->www_authenticate),
				ch, SIGIL_MAX_CHALLENGES, &nch, err) != SIGIL_STATUS_OK)
				return sigil__err_wrap(err, "%s: WWW-Authenticate", h->host);
			if (s->auth[i]) {
				/* the credentials we sent were refused */
				return sigil__err(err, SIGIL_ERR_POLICY,
					"401 from %s for repository:%s:pull: the registry refused the credentials "
					"found for %s; check them (docker config.json, credential helpers or kubelet "
					"credential providers)", h->host, s->name, s->domain);
			}
			if (!s->cred_looked_up) {
				s->cred_looked_up = true;
				if (sigil__credstore_lookup(s->reg->creds, s->domain, s->image, s->deadline_ms,
					&s->cred, &s->cred_found, err) != SIGIL_STATUS_OK)
					return sigil__err_wrap(err, "looking up credentials for %s", s->domain);
			}
			char scope[1024];
			snprintf(scope, sizeof scope, "repository:%s:pull", s->name);
			if (sigil__auth_header(s->reg->http, s->reg->tokens, ch, nch,
				s->cred_found ? &s->cred : NULL, scope, h, s->deadline_ms, &s->auth[i], err) !=
			    SIGIL_STATUS_OK) {
				/* say where credentials were looked for, so the
				 * operator knows what to fix */
				if (err && err->category == SIGIL_ERR_POLICY) {
					char where[512];
					sigil__credstore_describe(s->reg->creds, where, sizeof where);
					size_t ml = strlen(err->message);
					snprintf(err->message + ml, sizeof err->message - ml, " (looked in %s)", where);
				}
				return SIGIL_STATUS_ERROR;
			}
			continue;
		}
		if (resp->status >= 500 && attempt == 0 && sigil__now_ms() + 100 < s->deadline_ms)
			continue; /* one retry of a server error (GET and HEAD are idempotent) */
		return SIGIL_STATUS_OK;
	}
	return SIGIL_STATUS_OK;
}

static sigil_status status_error(const reg_source *s, size_t i, const char *method,
	const char *path, const sigil__http_response *resp, sigil_error *err)
{
	const sigil__registry_host *h = &s->hosts.hosts[i];
	char snippet[160] = "";
	if (resp->body_len) {
		size_t k = 0;
		for (size_t j = 0; j < resp->body_len && k + 1 < sizeof snippet; j++) {
			unsigned char c = resp->body[j];
			snippet[k++] = (c >= 0x20 && c < 0x7f) ? (char)c : ' ';
		}
		snippet[k] = 0;
	}
	return sigil__err(err, resp->status == 401 || resp->status == 403 ? SIGIL_ERR_POLICY :
		SIGIL_ERR_NETWORK, "%s %s%s/%s%s: HTTP %ld%s%s", method, h->host, h->path, s->name, path,
		resp->status, snippet[0] ? ": " : "", snippet);
}

/* Run `fn` on each host with capability `cap` in containerd's order; the
 * first that succeeds wins; the last error is reported. */
typedef sigil_status (*host_fn)(reg_source *s, size_t i, void *arg, sigil_error *err);

static sigil_status each_host(reg_source *s, unsigned cap, host_fn fn, void *arg, sigil_error *err)
{
	sigil_status st = SIGIL_STATUS_ERROR;
	int tried = 0;
	for (size_t i = 0; i < s->hosts.count; i++) {
		if (!(s->hosts.hosts[i].caps & cap))
			continue;
		if (tried && sigil__now_ms() >= s->deadline_ms)
			break;
		tried = 1;
		st = fn(s, i, arg, err);
		if (st == SIGIL_STATUS_OK)
			return st;
	}
	if (!tried)
		return sigil__err(err, SIGIL_ERR_USAGE, "no host configured for %s can %s", s->domain,
			cap == SIGIL_HOST_CAP_RESOLVE ? "resolve tags" : "pull");
	return st;
}

/* ---- manifests by digest ------------------------------------------------ */

typedef struct manifest_arg {
	const char *ref;          /* digest or tag */
	int by_tag;
	const char *want_digest;  /* for by-digest */
	uint8_t *body;
	size_t len;
	char media_type[SIGIL_MEDIA_TYPE_MAX];
	char digest[SIGIL_DIGEST_MAX];
} manifest_arg;

static sigil_status get_manifest(reg_source *s, size_t i, void *argp, sigil_error *err)
{
	manifest_arg *a = argp;
	char path[SIGIL_DIGEST_MAX + 32];
	snprintf(path, sizeof path, "/manifests/%s", a->ref);
	sigil__http_response resp = { 0 };
	sigil_status st = host_request(s, i, "GET", path, ACCEPT_MANIFESTS, SIGIL_MAX_MANIFEST_SIZE, 0,
		&resp, err);
	if (st != SIGIL_STATUS_OK) {
		sigil__http_response_clear(&resp);
		return wrap_host(s, i, err);
	}
	if (resp.status != 200) {
		st = status_error(s, i, "GET", path, &resp, err);
		sigil__http_response_clear(&resp);
		return st;
	}
	if (a->by_tag) {
		/* the digest is the hash of the bytes received (sha256, as
		 * containerd computes it), cross-checked with the header */
		unsigned char md[32];
		char hex[65];
		EVP_Digest(resp.body, resp.body_len, md, NULL, EVP_sha256(), NULL);
		for (int k = 0; k < 32; k++)
			snprintf(hex + 2 * k, 3, "%02x", md[k]);
		snprintf(a->digest, sizeof a->digest, "sha256:%s", hex);
		if (resp.docker_content_digest && strncmp(resp.docker_content_digest, "sha256:", 7) == 0 &&
		    strcmp(resp.docker_content_digest, a->digest) != 0) {
			st = sigil__err(err, SIGIL_ERR_CRYPTO,
				"registry %s: manifest for tag %s hashes to %s but the registry says %s",
				s->hosts.hosts[i].host, a->ref, a->digest, resp.docker_content_digest);
			sigil__http_response_clear(&resp);
			return st;
		}
	} else if (sigil__digest_check(a->want_digest, resp.body, resp.body_len, err) != SIGIL_STATUS_OK) {
		sigil__http_response_clear(&resp);
		return sigil__err_wrap(err, "registry %s: manifest %s", s->hosts.hosts[i].host, a->ref);
	}
	/* the media type is what the document says; Content-Type only when it
	 * says nothing (Docker schema 2 documents always carry mediaType) */
	if (sigil__media_type_of(resp.body, resp.body_len, a->media_type, err) != SIGIL_STATUS_OK) {
		sigil__http_response_clear(&resp);
		return sigil__err_wrap(err, "registry %s: manifest %s", s->hosts.hosts[i].host, a->ref);
	}
	if (!a->media_type[0] && resp.content_type) {
		const char *ct = resp.content_type;
		size_t l = strcspn(ct, "; ");
		if (l >= sizeof a->media_type)
			l = sizeof a->media_type - 1;
		memcpy(a->media_type, ct, l);
		a->media_type[l] = 0;
	}
	a->body = resp.body;
	a->len = resp.body_len;
	resp.body = NULL;
	sigil__http_response_clear(&resp);
	return SIGIL_STATUS_OK;
}

static sigil_status reg_resolve(void *ctx, const char *digest, sigil_descriptor *out, sigil_error *err)
{
	reg_source *s = ctx;
	SIGIL_TRY(sigil__digest_validate(digest, err));
	manifest_arg a = { .ref = digest, .want_digest = digest };
	SIGIL_TRY(each_host(s, SIGIL_HOST_CAP_PULL, get_manifest, &a, err));
	memset(out, 0, sizeof *out);
	snprintf(out->media_type, sizeof out->media_type, "%s", a.media_type);
	snprintf(out->digest, sizeof out->digest, "%s", digest);
	out->size = (int64_t)a.len;
	free(a.body);
	return SIGIL_STATUS_OK;
}

/* ---- referrers ---------------------------------------------------------- */

typedef struct list_arg {
	const sigil_descriptor *subject;
	size_t max;
	sigil_descriptor *list;
	size_t count;
} list_arg;

static int is_index_type(const char *ct)
{
	return ct && strncasecmp(ct, SIGIL_MT_IMAGE_INDEX, strlen(SIGIL_MT_IMAGE_INDEX)) == 0;
}

/* The referrers tag schema (distribution spec v1.1 "Referrers Tag
 * Schema"): tag <alg>-<hex> names an index of the referrers. */
static sigil_status list_by_tag(reg_source *s, size_t i, list_arg *a, sigil_error *err)
{
	char path[SIGIL_DIGEST_MAX + 32];
	char tag[SIGIL_DIGEST_MAX];
	snprintf(tag, sizeof tag, "%s", a->subject->digest);
	char *colon = strchr(tag, ':');
	if (colon)
		*colon = '-';
	snprintf(path, sizeof path, "/manifests/%s", tag);
	sigil__http_response resp = { 0 };
	if (host_request(s, i, "GET", path, ACCEPT_INDEX, SIGIL_MAX_MANIFEST_SIZE, 0, &resp, err) !=
	    SIGIL_STATUS_OK) {
		sigil__http_response_clear(&resp);
		return wrap_host(s, i, err);
	}
	sigil_status st = SIGIL_STATUS_OK;
	if (resp.status == 404) {
		/* no tag: no signatures */
	} else if (resp.status != 200) {
		st = status_error(s, i, "GET", path, &resp, err);
	} else {
		st = sigil__referrers_page_parse(resp.body, resp.body_len, &a->list, &a->count, a->max, err);
		if (st != SIGIL_STATUS_OK)
			sigil__err_wrap(err, "registry %s: referrers tag %s", s->hosts.hosts[i].host, tag);
	}
	sigil__http_response_clear(&resp);
	return st;
}

static sigil_status list_on_host(reg_source *s, size_t i, void *argp, sigil_error *err)
{
	list_arg *a = argp;
	a->count = 0;
	char first[SIGIL_DIGEST_MAX + 128];
	char *escaped = curl_easy_escape(NULL, SIGIL_MT_NOTARY_SIGNATURE, 0);
	if (!escaped)
		return sigil__err_oom(err);
	snprintf(first, sizeof first, "/referrers/%s?artifactType=%s", a->subject->digest, escaped);
	curl_free(escaped);
	_cleanup_free_ char *page = strdup(first);
	if (!page)
		return sigil__err_oom(err);
	for (int pages = 0; page && a->count < a->max; pages++) {
		if (pages == SIGIL_MAX_REFERRERS_PAGES)
			return sigil__err(err, SIGIL_ERR_LIMIT,
				"registry %s: referrers of %s span more than %d pages",
				s->hosts.hosts[i].host, a->subject->digest, SIGIL_MAX_REFERRERS_PAGES);
		sigil__http_response resp = { 0 };
		if (host_request(s, i, "GET", page, ACCEPT_INDEX, SIGIL_MAX_MANIFEST_SIZE, 0, &resp, err) !=
		    SIGIL_STATUS_OK) {
			sigil__http_response_clear(&resp);
			return wrap_host(s, i, err);
		}
		if (pages == 0 && (resp.status == 404 || (resp.status == 200 && !is_index_type(resp.content_type)))) {
			/* §2.2: no referrers API (404, as distribution 2.8 and Docker
			 * Hub answer) or not an index: the tag schema. A 404 whose
			 * error code is NAME_UNKNOWN means no such repository. */
			int name_unknown = resp.status == 404 && resp.body &&
				strstr((const char *)resp.body, "NAME_UNKNOWN") != NULL;
			sigil__http_response_clear(&resp);
			if (name_unknown)
				return sigil__err(err, SIGIL_ERR_NETWORK, "registry %s: repository %s not found (NAME_UNKNOWN)",
					s->hosts.hosts[i].host, s->name);
			return list_by_tag(s, i, a, err);
		}
		if (resp.status != 200) {
			sigil_status st = status_error(s, i, "GET", page, &resp, err);
			sigil__http_response_clear(&resp);
			return st;
		}
		if (sigil__referrers_page_parse(resp.body, resp.body_len, &a->list, &a->count, a->max, err) !=
		    SIGIL_STATUS_OK) {
			sigil__http_response_clear(&resp);
			return sigil__err_wrap(err, "registry %s: referrers of %s", s->hosts.hosts[i].host,
				a->subject->digest);
		}
		char *next = NULL;
		sigil_status st = sigil__link_next(resp.link, &next, err);
		sigil__http_response_clear(&resp);
		if (st != SIGIL_STATUS_OK)
			return wrap_host(s, i, err);
		if (next && strncmp(next, "http", 4) == 0) {
			/* an absolute next link must stay on the same host: the
			 * credentials we hold are for it */
			const sigil__registry_host *h = &s->hosts.hosts[i];
			char prefix[300];
			snprintf(prefix, sizeof prefix, "%s://%s/", h->scheme, h->host);
			if (strncmp(next, prefix, strlen(prefix)) != 0) {
				free(next);
				return sigil__err(err, SIGIL_ERR_NETWORK,
					"registry %s: referrers pagination points at another host", h->host);
			}
		}
		free(page);
		page = next;
	}
	return SIGIL_STATUS_OK;
}

static sigil_status reg_list(void *ctx, const sigil_descriptor *subject, size_t max,
	sigil_descriptor **out, size_t *count, sigil_error *err)
{
	reg_source *s = ctx;
	list_arg a = { .subject = subject, .max = max };
	if (each_host(s, SIGIL_HOST_CAP_PULL, list_on_host, &a, err) != SIGIL_STATUS_OK) {
		free(a.list);
		return SIGIL_STATUS_ERROR;
	}
	*out = a.list;
	*count = a.count;
	return SIGIL_STATUS_OK;
}

/* ---- blobs and manifests by descriptor ---------------------------------- */

typedef struct fetch_arg {
	const sigil_descriptor *desc;
	size_t max;
	uint8_t *body;
	size_t len;
} fetch_arg;

static int is_manifest_type(const char *mt)
{
	return strcmp(mt, SIGIL_MT_IMAGE_MANIFEST) == 0 || strcmp(mt, SIGIL_MT_IMAGE_INDEX) == 0 ||
		strcmp(mt, SIGIL_MT_ARTIFACT_MANIFEST) == 0 || strcmp(mt, SIGIL_MT_DOCKER_MANIFEST) == 0 ||
		strcmp(mt, SIGIL_MT_DOCKER_MANIFEST_LIST) == 0;
}

static sigil_status fetch_on_host(reg_source *s, size_t i, void *argp, sigil_error *err)
{
	fetch_arg *a = argp;
	int manifest = is_manifest_type(a->desc->media_type);
	char path[SIGIL_DIGEST_MAX + 32];
	snprintf(path, sizeof path, "/%s/%s", manifest ? "manifests" : "blobs", a->desc->digest);
	sigil__http_response resp = { 0 };
	/* blobs may redirect to object storage; manifests are served directly */
	if (host_request(s, i, "GET", path, manifest ? ACCEPT_MANIFESTS : NULL, a->max,
		manifest ? 0 : SIGIL_MAX_REDIRECTS, &resp, err) != SIGIL_STATUS_OK) {
		sigil__http_response_clear(&resp);
		return wrap_host(s, i, err);
	}
	sigil_status st = SIGIL_STATUS_OK;
	if (resp.status != 200)
		st = status_error(s, i, "GET", path, &resp, err);
	else if ((int64_t)resp.body_len != a->desc->size)
		st = sigil__err(err, SIGIL_ERR_CRYPTO, "registry %s: %s is %zu bytes, its descriptor says %lld",
			s->hosts.hosts[i].host, a->desc->digest, resp.body_len, (long long)a->desc->size);
	else if (sigil__digest_check(a->desc->digest, resp.body, resp.body_len, err) != SIGIL_STATUS_OK)
		st = sigil__err_wrap(err, "registry %s: %s", s->hosts.hosts[i].host, a->desc->digest);
	if (st == SIGIL_STATUS_OK) {
		a->body = resp.body;
		a->len = resp.body_len;
		resp.body = NULL;
	}
	sigil__http_response_clear(&resp);
	return st;
}

static sigil_status reg_fetch(void *ctx, const sigil_descriptor *desc, size_t max_size, uint8_t **out,
	size_t *len, sigil_error *err)
{
	reg_source *s = ctx;
	SIGIL_TRY(sigil__digest_validate(desc->digest, err));
	if (desc->size < 0 || (uint64_t)desc->size > max_size)
		return sigil__err(err, SIGIL_ERR_LIMIT, "%s is %lld bytes, more than the %zu allowed",
			desc->digest, (long long)desc->size, max_size);
	fetch_arg a = { .desc = desc, .max = (size_t)desc->size };
	SIGIL_TRY(each_host(s, SIGIL_HOST_CAP_PULL, fetch_on_host, &a, err));
	*out = a.body;
	*len = a.len;
	return SIGIL_STATUS_OK;
}

static const sigil__source_ops registry_ops = {
	.resolve = reg_resolve,
	.list_signatures = reg_list,
	.fetch = reg_fetch,
	.free = reg_source_free,
};

static sigil_status reg_source_new(sigil_registry *reg, const sigil_reference *ref, int64_t deadline_ms,
	reg_source **out, sigil_error *err)
{
	reg_source *s = calloc(1, sizeof *s);
	if (!s)
		return sigil__err_oom(err);
	s->reg = reg;
	s->deadline_ms = deadline_ms ? deadline_ms : sigil__now_ms() + SIGIL_DEFAULT_DISCOVERY_DEADLINE_MS;
	s->domain = strdup(sigil_reference_domain(ref));
	s->name = strdup(sigil_reference_path(ref));
	s->image = strdup(sigil_reference_string(ref));
	if (!s->domain || !s->name || !s->image) {
		reg_source_free(s);
		return sigil__err_oom(err);
	}
	if (sigil__hosts_resolve(reg->hosts_dir, s->domain, reg->plain_http, &s->hosts, err) !=
	    SIGIL_STATUS_OK) {
		reg_source_free(s);
		return SIGIL_STATUS_ERROR;
	}
	s->auth = calloc(s->hosts.count ? s->hosts.count : 1, sizeof *s->auth);
	if (!s->auth) {
		reg_source_free(s);
		return sigil__err_oom(err);
	}
	*out = s;
	return SIGIL_STATUS_OK;
}

SIGIL_EXPORT sigil_status sigil_registry_source(sigil_registry *reg, const sigil_reference *ref,
	int64_t deadline_ms, sigil_source **out, sigil_error *err)
{
	if (!reg || !ref || !out)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigil_registry_source: missing argument");
	sigil_source *src = calloc(1, sizeof *src);
	if (!src)
		return sigil__err_oom(err);
	reg_source *s = NULL;
	if (reg_source_new(reg, ref, deadline_ms, &s, err) != SIGIL_STATUS_OK) {
		free(src);
		return SIGIL_STATUS_ERROR;
	}
	src->ops = &registry_ops;
	src->ctx = s;
	*out = src;
	return SIGIL_STATUS_OK;
}

SIGIL_EXPORT sigil_status sigil_registry_resolve_tag(sigil_registry *reg, const sigil_reference *ref,
	int64_t deadline_ms, sigil_descriptor *out, sigil_error *err)
{
	if (!reg || !ref || !out)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigil_registry_resolve_tag: missing argument");
	if (!sigil_reference_tag(ref)[0])
		return sigil__err(err, SIGIL_ERR_USAGE, "%s has no tag to resolve", sigil_reference_string(ref));
	reg_source *s = NULL;
	SIGIL_TRY(reg_source_new(reg, ref, deadline_ms, &s, err));
	manifest_arg a = { .ref = sigil_reference_tag(ref), .by_tag = 1 };
	sigil_status st = each_host(s, SIGIL_HOST_CAP_RESOLVE, get_manifest, &a, err);
	if (st == SIGIL_STATUS_OK) {
		memset(out, 0, sizeof *out);
		snprintf(out->media_type, sizeof out->media_type, "%s", a.media_type);
		snprintf(out->digest, sizeof out->digest, "%s", a.digest);
		out->size = (int64_t)a.len;
	}
	free(a.body);
	reg_source_free(s);
	return st;
}
