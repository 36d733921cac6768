/* http.c - bounded HTTP requests over libcurl (see http.h).
 *
 * One CURLSH per client shares the connection cache, DNS cache and TLS
 * sessions; every request uses a fresh easy handle attached to that share
 * (cheap, and safe when several threads use one client: the share is
 * locked through the mutexes below). Everything a peer controls is
 * bounded: the time (an absolute deadline plus a per-request cap), the
 * body (max_body), each captured header (SIGIL_MAX_HTTP_HEADER_VALUE), the
 * redirects (max_redirects, http and https only). */
#include "http.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <curl/curl.h>

#include "bounds.h"
#include "cleanup.h"
#include "errors.h"

#ifndef SIGIL_VERSION
#define SIGIL_VERSION "0"
#endif

#define USER_AGENT "sigil/" SIGIL_VERSION
/* Debian's bundle, used when libcurl does not say where its own is. */
#define DEFAULT_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

struct sigil__http {
	CURLSH *share;
	pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
	/* The system CA bundle, read once when a host first needs extra CAs
	 * (libcurl's CAINFO replaces the default bundle: to ADD a host's CA
	 * files the combination is passed as a blob). */
	pthread_mutex_t ca_lock;
	bool ca_loaded;
	char *sys_ca;
	size_t sys_ca_len;
};

/* --- global init ------------------------------------------------------ */

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int64_t sigil__now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- client ----------------------------------------------------------- */

static void share_lock(CURL *handle, curl_lock_data data, curl_lock_access access, void *userp)
{
	(void)handle;
	(void)access;
	sigil__http *h = userp;
	if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
		pthread_mutex_lock(&h->locks[data]);
}

static void share_unlock(CURL *handle, curl_lock_data data, void *userp)
{
	(void)handle;
	sigil__http *h = userp;
	if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
		pthread_mutex_unlock(&h->locks[data]);
}

sigil_status sigil__http_new(sigil__http **out, sigil_error *err)
{
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK)
		return sigil__err(err, SIGIL_ERR_INTERNAL, "libcurl initialisation failed: %s",
			curl_easy_strerror(global_rc));

	sigil__http *h = calloc(1, sizeof(*h));
	if (!h)
		return sigil__err_oom(err);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&h->locks[i], NULL);
	pthread_mutex_init(&h->ca_lock, NULL);

	h->share = curl_share_init();
	if (!h->share ||
	    curl_share_setopt(h->share, CURLSHOPT_LOCKFUNC, share_lock) != CURLSHE_OK ||
	    curl_share_setopt(h->share, CURLSHOPT_UNLOCKFUNC, share_unlock) != CURLSHE_OK ||
	    curl_share_setopt(h->share, CURLSHOPT_USERDATA, h) != CURLSHE_OK ||
	    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK ||
	    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK ||
	    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK) {
		sigil__http_free(h);
		return sigil__err(err, SIGIL_ERR_INTERNAL, "libcurl share setup failed");
	}
	*out = h;
	return SIGIL_STATUS_OK;
}

void sigil__http_free(sigil__http *h)
{
	if (!h)
		return;
	if (h->share)
		curl_share_cleanup(h->share);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&h->locks[i]);
	pthread_mutex_destroy(&h->ca_lock);
	free(h->sys_ca);
	free(h);
}

void sigil__http_response_clear(sigil__http_response *resp)
{
	if (!resp)
		return;
	free(resp->body);
	free(resp->content_type);
	free(resp->www_authenticate);
	free(resp->link);
	free(resp->docker_content_digest);
	free(resp->oci_filters_applied);
	free(resp->effective_url);
	memset(resp, 0, sizeof(*resp));
	resp->content_length = -1;
}

/* --- small helpers ---------------------------------------------------- */

/* read_file_bounded - append the file at path to buf (growing it), failing
 * if the total would pass `cap`. */
static sigil_status append_file(char **buf, size_t *len, const char *path, size_t cap,
	sigil_error *err)
{
	_cleanup_(fclosep) FILE *f = fopen(path, "rb");
	if (!f)
		return sigil__err(err, SIGIL_ERR_IO, "cannot open CA file %s: %s", path, strerror(errno));
	char chunk[16384];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (n > cap - *len)
			return sigil__err(err, SIGIL_ERR_LIMIT, "CA certificates exceed %zu bytes (at %s)",
				cap, path);
		char *nb = realloc(*buf, *len + n + 2);
		if (!nb)
			return sigil__err_oom(err);
		*buf = nb;
		memcpy(*buf + *len, chunk, n);
		*len += n;
	}
	if (ferror(f))
		return sigil__err(err, SIGIL_ERR_IO, "cannot read CA file %s", path);
	/* PEM files may lack a final newline: keep the next file's BEGIN line
	 * on its own line. */
	if (*len > 0 && (*buf)[*len - 1] != '\n') {
		if (*len >= cap)
			return sigil__err(err, SIGIL_ERR_LIMIT, "CA certificates exceed %zu bytes", cap);
		(*buf)[(*len)++] = '\n';
	}
	return SIGIL_STATUS_OK;
}

static void load_system_ca(sigil__http *h)
{
	pthread_mutex_lock(&h->ca_lock);
	if (!h->ca_loaded) {
		curl_version_info_data *vi = curl_version_info(CURLVERSION_NOW);
		const char *path = vi && vi->cainfo ? vi->cainfo : DEFAULT_CA_BUNDLE;
		char *buf = NULL;
		size_t len = 0;
		sigil_error e = SIGIL_ERROR_INIT;
		/* A missing system bundle is not an error: the host's own CA files
		 * (and libcurl's CA path) still apply. */
		if (append_file(&buf, &len, path, SIGIL_MAX_CA_BUNDLE_SIZE, &e) == SIGIL_STATUS_OK) {
			h->sys_ca = buf;
			h->sys_ca_len = len;
		} else {
			free(buf);
		}
		h->ca_loaded = true;
	}
	pthread_mutex_unlock(&h->ca_lock);
}

/* The parts of a URL errors name: "host[:port]" and the path. */
typedef struct url_parts {
	char host[300];
	char path[512];
} url_parts;

static void url_parts_of(const char *url, url_parts *p)
{
	snprintf(p->host, sizeof(p->host), "%s", "(invalid URL)");
	p->path[0] = 0;
	if (!url)
		return;
	CURLU *u = curl_url();
	if (!u)
		return;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
		char *host = NULL, *port = NULL, *path = NULL;
		if (curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
			if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK && port)
				snprintf(p->host, sizeof(p->host), "%s:%s", host, port);
			else
				snprintf(p->host, sizeof(p->host), "%s", host);
		}
		if (curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK)
			snprintf(p->path, sizeof(p->path), "%s", path);
		curl_free(host);
		curl_free(port);
		curl_free(path);
	}
	curl_url_cleanup(u);
}

/* --- transfer state --------------------------------------------------- */

typedef struct xfer {
	const sigil__http_request *req;
	sigil__http_response resp;
	size_t body_cap;
	bool body_too_large;
	bool header_too_large;
	char header_name[40];
} xfer;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	xfer *x = userdata;
	size_t n = size * nmemb; /* libcurl guarantees size == 1 */
	if (n == 0)
		return 0;
	if (n > x->req->max_body || x->resp.body_len > x->req->max_body - n) {
		x->body_too_large = true;
		return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
	}
	size_t need = x->resp.body_len + n + 1;
	if (need > x->body_cap) {
		size_t cap = x->body_cap ? x->body_cap : 16384;
		while (cap < need)
			cap = cap > SIZE_MAX / 2 ? need : cap * 2;
		if (x->req->max_body < SIZE_MAX && cap > x->req->max_body + 1)
			cap = x->req->max_body + 1;
		if (cap < need)
			cap = need;
		uint8_t *nb = realloc(x->resp.body, cap);
		if (!nb)
			return 0;
		x->resp.body = nb;
		x->body_cap = cap;
	}
	memcpy(x->resp.body + x->resp.body_len, ptr, n);
	x->resp.body_len += n;
	x->resp.body[x->resp.body_len] = 0;
	return n;
}

static void clear_headers(sigil__http_response *r)
{
	free(r->content_type);
	free(r->www_authenticate);
	free(r->link);
	free(r->docker_content_digest);
	free(r->oci_filters_applied);
	r->content_type = r->www_authenticate = r->link = NULL;
	r->docker_content_digest = r->oci_filters_applied = NULL;
	r->content_length = -1;
}

/* set_value - *slot = value (replacing), or appended with ", " when join. */
static bool set_value(char **slot, const char *v, size_t vlen, bool join, xfer *x)
{
	size_t old = (join && *slot) ? strlen(*slot) : 0;
	size_t total = old + (old ? 2 : 0) + vlen;
	if (total > SIGIL_MAX_HTTP_HEADER_VALUE) {
		x->header_too_large = true;
		return false;
	}
	char *s = malloc(total + 1);
	if (!s)
		return false;
	size_t o = 0;
	if (old) {
		memcpy(s, *slot, old);
		memcpy(s + old, ", ", 2);
		o = old + 2;
	}
	memcpy(s + o, v, vlen);
	s[total] = 0;
	free(*slot);
	*slot = s;
	return true;
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
	xfer *x = userdata;
	size_t n = size * nitems;
	/* A status line starts a new response (a redirect's or a 100's
	 * headers must not leak into the final response). */
	if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
		clear_headers(&x->resp);
		return n;
	}
	const char *colon = memchr(buf, ':', n);
	if (!colon)
		return n;
	size_t nlen = (size_t)(colon - buf);
	const char *v = colon + 1;
	size_t vlen = n - nlen - 1;
	while (vlen && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' ' ||
		v[vlen - 1] == '\t'))
		vlen--;
	if (memchr(v, 0, vlen))
		return n; /* not representable as a C string: ignore */

#define IS(name) (nlen == sizeof(name) - 1 && strncasecmp(buf, name, nlen) == 0)
	char **slot = NULL;
	bool join = false;
	if (IS("content-type"))
		slot = &x->resp.content_type;
	else if (IS("www-authenticate")) {
		slot = &x->resp.www_authenticate;
		join = true;
	} else if (IS("link"))
		slot = &x->resp.link;
	else if (IS("docker-content-digest"))
		slot = &x->resp.docker_content_digest;
	else if (IS("oci-filters-applied"))
		slot = &x->resp.oci_filters_applied;
	else if (IS("content-length")) {
		int64_t cl = 0;
		bool ok = vlen > 0 && vlen <= 18;
		for (size_t i = 0; ok && i < vlen; i++) {
			if (v[i] < '0' || v[i] > '9')
				ok = false;
			else
				cl = cl * 10 + (v[i] - '0');
		}
		x->resp.content_length = ok ? cl : -1;
		return n;
	}
#undef IS
	if (!slot)
		return n;
	if (!set_value(slot, v, vlen, join, x)) {
		if (x->header_too_large)
			snprintf(x->header_name, sizeof(x->header_name), "%.*s",
				(int)(nlen < 32 ? nlen : 32), buf);
		return 0; /* aborts the transfer */
	}
	return n;
}

/* --- the request ------------------------------------------------------ */

static void curl_easy_cleanupp(CURL **c) { if (*c) curl_easy_cleanup(*c); }
static void curl_slist_freep(struct curl_slist **l) { curl_slist_free_all(*l); }

static bool header_line_ok(const char *s)
{
	if (!s || !strchr(s, ':'))
		return false;
	for (const char *p = s; *p; p++)
		if (*p == '\r' || *p == '\n')
			return false;
	return true;
}

/* tls_reason - libcurl's message without its "SSL certificate problem: "
 * prefix. */
static const char *tls_reason(const char *msg)
{
	const char *p = strstr(msg, "problem: ");
	return p ? p + strlen("problem: ") : msg;
}

static sigil_status transfer_error(CURL *c, CURLcode rc, const char *errbuf,
	const url_parts *where, int64_t timeout_ms, const sigil__http_request *req,
	sigil_error *err)
{
	const char *msg = errbuf[0] ? errbuf : curl_easy_strerror(rc);
	const char *host = where->host;
	long oserr = 0;
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		return sigil__err(err, SIGIL_ERR_NETWORK, "%s: timed out after %" PRId64 " ms",
			host, timeout_ms);
	case CURLE_COULDNT_RESOLVE_HOST:
		return sigil__err(err, SIGIL_ERR_NETWORK, "%s: DNS lookup failed: %s", host, msg);
	case CURLE_COULDNT_RESOLVE_PROXY:
		return sigil__err(err, SIGIL_ERR_NETWORK, "%s: proxy DNS lookup failed: %s", host, msg);
	case CURLE_COULDNT_CONNECT:
		if (curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &oserr) == CURLE_OK && oserr == ECONNREFUSED)
			return sigil__err(err, SIGIL_ERR_NETWORK, "%s: connection refused", host);
		return sigil__err(err, SIGIL_ERR_NETWORK, "%s: cannot connect: %s", host, msg);
	case CURLE_PEER_FAILED_VERIFICATION:
		return sigil__err(err, SIGIL_ERR_NETWORK, "%s: TLS certificate problem: %s", host,
			tls_reason(msg));
	case CURLE_SSL_CONNECT_ERROR:
		return sigil__err(err, SIGIL_ERR_NETWORK, "%s: TLS handshake failed: %s", host, msg);
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
		return sigil__err(err, SIGIL_ERR_NETWORK, "%s: TLS client certificate problem: %s",
			host, msg);
	case CURLE_SSL_CACERT_BADFILE:
		return sigil__err(err, SIGIL_ERR_NETWORK, "%s: cannot load TLS CA certificates: %s",
			host, msg);
	case CURLE_TOO_MANY_REDIRECTS:
		return sigil__err(err, SIGIL_ERR_NETWORK, "%s: too many redirects (more than %d)",
			host, req->max_redirects);
	case CURLE_UNSUPPORTED_PROTOCOL:
		return sigil__err(err, SIGIL_ERR_NETWORK,
			"%s: redirect or URL to a protocol other than http/https: %s", host, msg);
	case CURLE_PARTIAL_FILE:
		return sigil__err(err, SIGIL_ERR_NETWORK, "%s%s: response body truncated: %s",
			host, where->path, msg);
	case CURLE_GOT_NOTHING:
		return sigil__err(err, SIGIL_ERR_NETWORK, "%s: empty reply from server", host);
	case CURLE_URL_MALFORMAT:
		return sigil__err(err, SIGIL_ERR_USAGE, "invalid URL: %s", msg);
	default:
		return sigil__err(err, SIGIL_ERR_NETWORK, "%s: %s", host, msg);
	}
}

#define SETOPT(c, opt, val) do { if (curl_easy_setopt((c), (opt), (val)) != CURLE_OK) \
	return sigil__err(err, SIGIL_ERR_INTERNAL, "libcurl option %s rejected", #opt); } while (0)

static sigil_status set_tls(sigil__http *h, CURL *c, const sigil__registry_host *host,
	char **ca_blob, sigil_error *err)
{
	if (!host)
		return SIGIL_STATUS_OK;
	if (host->skip_verify) {
		SETOPT(c, CURLOPT_SSL_VERIFYPEER, 0L);
		SETOPT(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (host->ca_count > 0 && !host->skip_verify) {
		load_system_ca(h);
		size_t len = 0;
		char *buf = NULL;
		if (h->sys_ca_len) {
			buf = malloc(h->sys_ca_len + 2);
			if (!buf)
				return sigil__err_oom(err);
			memcpy(buf, h->sys_ca, h->sys_ca_len);
			len = h->sys_ca_len;
			if (buf[len - 1] != '\n')
				buf[len++] = '\n';
		}
		for (size_t i = 0; i < host->ca_count; i++) {
			if (!host->ca_files[i])
				continue;
			if (append_file(&buf, &len, host->ca_files[i], SIGIL_MAX_CA_BUNDLE_SIZE, err)
			    != SIGIL_STATUS_OK) {
				free(buf);
				return sigil__err_wrap(err, "%s", host->host);
			}
		}
		*ca_blob = buf;
		/* copied: cached connections keep the blob to compare TLS configs */
		struct curl_blob blob = { .data = buf, .len = len, .flags = CURL_BLOB_COPY };
		SETOPT(c, CURLOPT_CAINFO_BLOB, &blob);
	}
	/* libcurl takes one client certificate; containerd offers every pair
	 * and Go picks the first the server accepts. The first pair is used. */
	if (host->client_count > 0 && host->client_certs && host->client_certs[0]) {
		SETOPT(c, CURLOPT_SSLCERT, host->client_certs[0]);
		SETOPT(c, CURLOPT_SSLCERTTYPE, "PEM");
		if (host->client_keys && host->client_keys[0])
			SETOPT(c, CURLOPT_SSLKEY, host->client_keys[0]);
	}
	return SIGIL_STATUS_OK;
}

/* Loopback is never proxied (as Go's ProxyFromEnvironment, which
 * containerd uses); no_proxy from the environment still applies. */
static void no_proxy_list(char *out, size_t cap)
{
	const char *env = secure_getenv("NO_PROXY");
	if (!env || !*env)
		env = secure_getenv("no_proxy");
	if (env && *env && strlen(env) < cap - 64)
		snprintf(out, cap, "localhost,127.0.0.0/8,::1,%s", env);
	else
		snprintf(out, cap, "localhost,127.0.0.0/8,::1");
}

sigil_status sigil__http_do(sigil__http *h, const sigil__http_request *req,
	sigil__http_response *resp, sigil_error *err)
{
	if (!h || !req || !req->url || !resp)
		return sigil__err(err, SIGIL_ERR_USAGE, "http: missing client, request or URL");
	url_parts where;
	url_parts_of(req->url, &where);

	const char *method = req->method ? req->method : "GET";
	bool head = strcmp(method, "HEAD") == 0, post = strcmp(method, "POST") == 0;
	if (!head && !post && strcmp(method, "GET") != 0)
		return sigil__err(err, SIGIL_ERR_USAGE, "http: unsupported method %s", method);
	if (req->max_redirects < 0)
		return sigil__err(err, SIGIL_ERR_USAGE, "http: negative max_redirects");

	int64_t now = sigil__now_ms();
	if (req->deadline_ms <= now)
		return sigil__err(err, SIGIL_ERR_NETWORK,
			"%s: deadline passed before the request to %s could start", where.host,
			where.path[0] ? where.path : "/");
	int64_t timeout = req->deadline_ms - now;
	if (req->timeout_ms > 0 && req->timeout_ms < timeout)
		timeout = req->timeout_ms;

	_cleanup_(curl_easy_cleanupp) CURL *c = curl_easy_init();
	if (!c)
		return sigil__err(err, SIGIL_ERR_INTERNAL, "libcurl: cannot create a handle");
	_cleanup_(curl_slist_freep) struct curl_slist *hdrs = NULL;
	_cleanup_free_ char *ca_blob = NULL;
	char errbuf[CURL_ERROR_SIZE];
	errbuf[0] = 0;
	char noproxy[1024];
	no_proxy_list(noproxy, sizeof(noproxy));

	xfer x = { .req = req };
	x.resp.content_length = -1;

	SETOPT(c, CURLOPT_SHARE, h->share);
	SETOPT(c, CURLOPT_URL, req->url);
	SETOPT(c, CURLOPT_ERRORBUFFER, errbuf);
	SETOPT(c, CURLOPT_NOSIGNAL, 1L);
	SETOPT(c, CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SETOPT(c, CURLOPT_TIMEOUT_MS, (long)timeout);
	SETOPT(c, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout);
	SETOPT(c, CURLOPT_USERAGENT, USER_AGENT);
	SETOPT(c, CURLOPT_NOPROXY, noproxy);
	SETOPT(c, CURLOPT_WRITEFUNCTION, on_body);
	SETOPT(c, CURLOPT_WRITEDATA, &x);
	SETOPT(c, CURLOPT_HEADERFUNCTION, on_header);
	SETOPT(c, CURLOPT_HEADERDATA, &x);
	SETOPT(c, CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(c, CURLOPT_SSL_VERIFYHOST, 2L);
	/* A 3xx with max_redirects 0 comes back as the response: the caller
	 * judges it. On a redirect to another host libcurl drops our
	 * Authorization header (CURLOPT_UNRESTRICTED_AUTH stays off), so
	 * registry credentials never reach object storage. */
	if (req->max_redirects > 0) {
		SETOPT(c, CURLOPT_FOLLOWLOCATION, 1L);
		SETOPT(c, CURLOPT_MAXREDIRS, (long)req->max_redirects);
	}
	if (head)
		SETOPT(c, CURLOPT_NOBODY, 1L);
	else if (post) {
		SETOPT(c, CURLOPT_POST, 1L);
		SETOPT(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		SETOPT(c, CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
	} else
		SETOPT(c, CURLOPT_HTTPGET, 1L);

	for (size_t i = 0; i < req->header_count; i++) {
		if (!header_line_ok(req->headers[i]))
			return sigil__err(err, SIGIL_ERR_USAGE, "http: invalid request header line %zu", i);
		struct curl_slist *n = curl_slist_append(hdrs, req->headers[i]);
		if (!n)
			return sigil__err_oom(err);
		hdrs = n;
	}
	if (hdrs)
		SETOPT(c, CURLOPT_HTTPHEADER, hdrs);
	if (set_tls(h, c, req->host, &ca_blob, err) != SIGIL_STATUS_OK)
		return SIGIL_STATUS_ERROR;

	CURLcode rc = curl_easy_perform(c);

	char *eff = NULL;
	if (curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff)
		url_parts_of(eff, &where);

	if (rc != CURLE_OK) {
		sigil_status st;
		if (x.body_too_large)
			st = sigil__err(err, SIGIL_ERR_LIMIT, "response body from %s%s exceeds %zu bytes",
				where.host, where.path, req->max_body);
		else if (x.header_too_large)
			st = sigil__err(err, SIGIL_ERR_LIMIT,
				"response header %s from %s%s exceeds %u bytes", x.header_name,
				where.host, where.path, SIGIL_MAX_HTTP_HEADER_VALUE);
		else if (rc == CURLE_WRITE_ERROR)
			st = sigil__err_oom(err);
		else
			st = transfer_error(c, rc, errbuf, &where, timeout, req, err);
		sigil__http_response_clear(&x.resp);
		return st;
	}

	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	x.resp.status = status;
	if (eff && !(x.resp.effective_url = strdup(eff))) {
		sigil__http_response_clear(&x.resp);
		return sigil__err_oom(err);
	}
	if (!x.resp.body) {
		x.resp.body = calloc(1, 1);
		if (!x.resp.body) {
			sigil__http_response_clear(&x.resp);
			return sigil__err_oom(err);
		}
	}
	*resp = x.resp;
	return SIGIL_STATUS_OK;
}
