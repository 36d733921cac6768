/* hosts.c - containerd's registry host configuration, as containerd 2.1
 * builds it in core/remotes/docker/config/hosts.go (ConfigureHosts,
 * loadHostDir, parseHostsFile, parseHostConfig, getSortedHosts,
 * loadCertFiles) and config_unix.go (hostPaths), documented in
 * docs/hosts.md. Function comments name the Go function they follow. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include "bounds.h"
#include "cleanup.h"
#include "errors.h"
#include "fileio.h"
#include "hosts.h"
#include "pathclean.h"
#include "toml.h"

#define HOSTS_PATH_MAX 4096

/* one host while it is being built: hosts.go hostConfig */
typedef struct host_cfg {
	sigil__registry_host h;
	bool has_host;          /* host == "" means "the default for the domain" */
	bool ca_set;            /* caCerts != nil (an empty `ca = []` counts) */
	bool skip_verify_set;   /* skipVerify != nil */
} host_cfg;

static void host_clear(sigil__registry_host *h)
{
	for (size_t i = 0; i < h->ca_count; i++)
		free(h->ca_files[i]);
	free(h->ca_files);
	for (size_t i = 0; i < h->client_count; i++) {
		free(h->client_certs[i]);
		free(h->client_keys[i]);
	}
	free(h->client_certs);
	free(h->client_keys);
	for (size_t i = 0; i < h->header_count; i++) {
		free(h->header_names[i]);
		free(h->header_values[i]);
	}
	free(h->header_names);
	free(h->header_values);
	memset(h, 0, sizeof *h);
}

void sigil__hosts_clear(sigil__registry_hosts *hosts)
{
	if (!hosts)
		return;
	for (size_t i = 0; i < hosts->count; i++)
		host_clear(&hosts->hosts[i]);
	free(hosts->hosts);
	hosts->hosts = NULL;
	hosts->count = 0;
}

typedef struct cfg_list {
	host_cfg *items;
	size_t count;
} cfg_list;

static void cfg_list_clear(cfg_list *l)
{
	for (size_t i = 0; i < l->count; i++)
		host_clear(&l->items[i].h);
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

/* ---- small string helpers -------------------------------------------- */

/* append a string to a (char **, count) list, bounded */
static sigil_status list_add(char ***list, size_t *count, char *s, sigil_error *err)
{
	if (!s)
		return sigil__err_oom(err);
	if (*count >= SIGIL_MAX_HOST_FILES) {
		free(s);
		return sigil__err(err, SIGIL_ERR_LIMIT, "more than %d entries", SIGIL_MAX_HOST_FILES);
	}
	char **n = realloc(*list, (*count + 1) * sizeof *n);
	if (!n) {
		free(s);
		return sigil__err_oom(err);
	}
	n[(*count)++] = s;
	*list = n;
	return SIGIL_STATUS_OK;
}

/* makeAbsPath (hosts.go): absolute paths as given, others joined to the
 * hosts.toml directory and cleaned (filepath.Join) */
static char *abs_path(const char *p, const char *base)
{
	if (p[0] == '/' || !base)
		return strdup(p);
	size_t bl = strlen(base), pl = strlen(p);
	if (bl > HOSTS_PATH_MAX || pl > HOSTS_PATH_MAX)
		return NULL;
	char *out = malloc(bl + pl + 2);
	if (!out)
		return NULL;
	memcpy(out, base, bl);
	out[bl] = '/';
	memcpy(out + bl + 1, p, pl + 1);
	sigil__path_clean(out);
	return out;
}

/* SplitHostPort - Go's net.SplitHostPort, reduced to what hosts.go needs:
 * on success host and port (port may be ""); on failure returns false */
static bool split_host_port(const char *hp, char *host, size_t hostcap, const char **port)
{
	const char *colon;
	if (hp[0] == '[') {
		const char *end = strchr(hp, ']');
		if (!end || end[1] != ':')
			return false;
		size_t hl = (size_t)(end - hp - 1);
		if (hl >= hostcap || memchr(hp + 1, '[', hl))
			return false;
		memcpy(host, hp + 1, hl);
		host[hl] = '\0';
		colon = end + 1;
	} else {
		colon = strrchr(hp, ':');
		if (!colon)
			return false;
		size_t hl = (size_t)(colon - hp);
		if (hl >= hostcap || memchr(hp, ':', hl) || memchr(hp, '[', hl) || memchr(hp, ']', hl))
			return false;
		memcpy(host, hp, hl);
		host[hl] = '\0';
	}
	if (strchr(colon + 1, '[') || strchr(colon + 1, ']'))
		return false;
	*port = colon + 1;
	return true;
}

/* Go's net.ParseIP for dotted IPv4: four decimal fields 0-255, no leading
 * zeros */
static bool parse_ipv4(const char *s, unsigned char out[4])
{
	for (int i = 0; i < 4; i++) {
		if (*s < '0' || *s > '9')
			return false;
		unsigned v = 0;
		int nd = 0;
		while (*s >= '0' && *s <= '9') {
			if (nd > 0 && v == 0)
				return false;
			v = v * 10 + (unsigned)(*s - '0');
			nd++;
			s++;
			if (v > 255)
				return false;
		}
		out[i] = (unsigned char)v;
		if (i < 3 && *s++ != '.')
			return false;
	}
	return *s == '\0';
}

/* docker.IsLocalhost (core/remotes/docker/resolver.go): "localhost" or a
 * loopback IP, after removing a port if SplitHostPort accepts the string */
static bool is_localhost(const char *domain)
{
	char h[256];
	const char *port;
	const char *host = domain;
	if (split_host_port(domain, h, sizeof h, &port))
		host = h;
	if (strcmp(host, "localhost") == 0)
		return true;
	unsigned char v4[4];
	if (parse_ipv4(host, v4))
		return v4[0] == 127;
	struct in6_addr a6;
	if (strchr(host, ':') && inet_pton(AF_INET6, host, &a6) == 1) {
		static const unsigned char loop6[16] = { [15] = 1 };
		static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };
		if (memcmp(a6.s6_addr, loop6, 16) == 0)
			return true;
		/* net.IP.IsLoopback: an IPv4-mapped address counts as IPv4 */
		return memcmp(a6.s6_addr, mapped, 12) == 0 && a6.s6_addr[12] == 127;
	}
	return false;
}

static const char *port_of(const char *hostport)
{
	char h[256];
	const char *port;
	if (split_host_port(hostport, h, sizeof h, &port))
		return port;
	return "";
}

/* Go's time.ParseDuration, non-negative, into milliseconds rounded up */
static bool parse_duration_ms(const char *s, uint64_t *out)
{
	if (strcmp(s, "0") == 0) {
		*out = 0;
		return true;
	}
	if (*s == '+')
		s++;
	if (*s == '\0')
		return false;
	double total_ns = 0;
	while (*s) {
		double v = 0, scale = 1;
		bool digits = false;
		while (*s >= '0' && *s <= '9') {
			v = v * 10 + (*s++ - '0');
			digits = true;
		}
		if (*s == '.') {
			s++;
			while (*s >= '0' && *s <= '9') {
				scale /= 10;
				v += (*s++ - '0') * scale;
				digits = true;
			}
		}
		if (!digits)
			return false;
		double unit;
		if (strncmp(s, "ns", 2) == 0) { unit = 1; s += 2; }
		else if (strncmp(s, "us", 2) == 0) { unit = 1e3; s += 2; }
		else if (strncmp(s, "\xc2\xb5s", 3) == 0 || strncmp(s, "\xce\xbcs", 3) == 0) { unit = 1e3; s += 3; }
		else if (strncmp(s, "ms", 2) == 0) { unit = 1e6; s += 2; }
		else if (*s == 's') { unit = 1e9; s++; }
		else if (*s == 'm') { unit = 60e9; s++; }
		else if (*s == 'h') { unit = 3600e9; s++; }
		else return false;
		total_ns += v * unit;
		/* time.Duration is int64 nanoseconds */
		if (total_ns > 9.2e18)
			return false;
	}
	uint64_t ns = (uint64_t)total_ns;
	*out = ns / 1000000u + (ns % 1000000u ? 1 : 0);
	return true;
}

/* ---- hosts.toml ------------------------------------------------------ */

typedef struct ctx {
	const char *dir;
	const char *file;     /* for messages */
	sigil_error *err;
} ctx;

__attribute__((format(printf, 3, 4)))
static sigil_status cerr(ctx *C, const sigil__toml_value *at, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		msg[0] = '\0';
	if (at)
		return sigil__err(C->err, SIGIL_ERR_MALFORMED, "%s: line %zu: %s", C->file, at->line, msg);
	return sigil__err(C->err, SIGIL_ERR_MALFORMED, "%s: %s", C->file, msg);
}

static bool valid_host(const char *h, size_t n)
{
	size_t i = 0;
	if (n == 0)
		return false;
	if (h[0] == '[') {
		i = 1;
		while (i < n && h[i] != ']') {
			char c = h[i];
			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
					c == ':' || c == '.'))
				return false;
			i++;
		}
		if (i >= n || i == 1)
			return false;
		i++;
	} else {
		while (i < n && h[i] != ':') {
			char c = h[i];
			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
					c == '.' || c == '-' || c == '_'))
				return false;
			i++;
		}
		if (i == 0)
			return false;
	}
	if (i == n)
		return true;
	if (h[i] != ':' || i + 1 == n || n - i - 1 > 5)
		return false;
	for (i++; i < n; i++)
		if (h[i] < '0' || h[i] > '9')
			return false;
	return true;
}

static bool valid_path_char(char c)
{
	/* RFC 3986 pchar without pct-encoded (Go would decode it; we refuse
	 * rather than guess) */
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		strchr("-._~!$&'()*+,;=:@/", c) != NULL;
}

/* the URL part of parseHostConfig: "[scheme://]host[:port][/path]" */
static sigil_status parse_server(ctx *C, const sigil__toml_value *at, const char *server,
	bool override_path, host_cfg *out)
{
	const char *s = server;
	const char *scheme = "https";
	/* hosts.go: `if !strings.HasPrefix(server, "http") { server = "https://" + server }` */
	if (strncmp(s, "http", 4) == 0) {
		const char *sep = strstr(s, "://");
		if (!sep)
			return cerr(C, at, "host URL \"%s\" has no \"://\"", server);
		size_t sl = (size_t)(sep - s);
		if (sl == 4 && memcmp(s, "http", 4) == 0)
			scheme = "http";
		else if (!(sl == 5 && memcmp(s, "https", 5) == 0))
			return cerr(C, at, "host URL \"%s\": scheme must be http or https", server);
		s = sep + 3;
	}
	size_t hl = strcspn(s, "/?#");
	if (s[hl] == '?' || s[hl] == '#' || strchr(s + hl, '?') || strchr(s + hl, '#'))
		return cerr(C, at, "host URL \"%s\": query and fragment are not supported", server);
	if (memchr(s, '@', hl))
		return cerr(C, at, "host URL \"%s\": user information is not supported", server);
	if (!valid_host(s, hl) || hl >= sizeof out->h.host)
		return cerr(C, at, "host URL \"%s\": invalid host", server);
	const char *path = s + hl;
	size_t pl = strlen(path);
	for (size_t i = 0; i < pl; i++)
		if (!valid_path_char(path[i]))
			return cerr(C, at, "host URL \"%s\": unsupported character in path", server);
	if (pl + 4 >= sizeof out->h.path)
		return cerr(C, at, "host URL \"%s\": path too long", server);

	memcpy(out->h.scheme, scheme, strlen(scheme) + 1);
	memcpy(out->h.host, s, hl);
	out->h.host[hl] = '\0';
	out->has_host = true;
	/* hosts.go: a path is cleaned and gets "/v2" unless it already ends in
	 * /v2 or override_path says the path is the API root; no path: "/v2"
	 * (or "" with override_path) */
	char *p = out->h.path;
	if (pl > 0) {
		memcpy(p, path, pl + 1);
		sigil__path_clean(p);
		/* containerd would make "https://h/" into "//v2"; a bare "/" is
		 * taken as no path */
		if (strcmp(p, "/") == 0)
			p[0] = '\0';
		size_t cl = strlen(p);
		if (!(cl >= 3 && memcmp(p + cl - 3, "/v2", 3) == 0) && !override_path)
			memcpy(p + cl, "/v2", 4);
	} else {
		memcpy(p, override_path ? "" : "/v2", override_path ? 1 : 4);
	}
	return SIGIL_STATUS_OK;
}

static const sigil__toml_value *get_typed(ctx *C, const sigil__toml_value *t, const char *key,
	sigil__toml_type type, const char *what, sigil_status *st)
{
	const sigil__toml_value *v = sigil__toml_get(t, key);
	*st = SIGIL_STATUS_OK;
	if (v && v->type != type) {
		*st = cerr(C, v, "\"%s\" must be %s", key, what);
		return NULL;
	}
	return v;
}

static bool valid_header_name(const char *s)
{
	/* RFC 9110 §5.6.2 token */
	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				strchr("!#$%&'*+-.^_`|~", c)))
			return false;
	}
	return true;
}

static bool valid_header_value(const char *s)
{
	/* RFC 9110 §5.5: no CR, LF or NUL (no header injection) */
	for (; *s; s++)
		if (*s == '\r' || *s == '\n' || ((unsigned char)*s < 0x20 && *s != '\t'))
			return false;
	return true;
}

static sigil_status add_header(ctx *C, const sigil__toml_value *at, host_cfg *hc, const char *name,
	const char *value)
{
	if (!valid_header_value(value))
		return cerr(C, at, "header \"%s\": value has control characters", name);
	if (hc->h.header_count >= SIGIL_MAX_HOST_HEADERS)
		return sigil__err(C->err, SIGIL_ERR_LIMIT, "%s: line %zu: more than %d header values",
			C->file, at->line, SIGIL_MAX_HOST_HEADERS);
	size_t n = hc->h.header_count;
	char **names = realloc(hc->h.header_names, (n + 1) * sizeof *names);
	if (!names)
		return sigil__err_oom(C->err);
	hc->h.header_names = names;
	char **values = realloc(hc->h.header_values, (n + 1) * sizeof *values);
	if (!values)
		return sigil__err_oom(C->err);
	hc->h.header_values = values;
	names[n] = strdup(name);
	values[n] = strdup(value);
	if (!names[n] || !values[n]) {
		free(names[n]);
		free(values[n]);
		return sigil__err_oom(C->err);
	}
	hc->h.header_count++;
	return SIGIL_STATUS_OK;
}

static sigil_status add_path(ctx *C, const sigil__toml_value *at, const char *field, const char *p,
	char ***list, size_t *count)
{
	if (!*p)
		return cerr(C, at, "empty path in \"%s\"", field);
	if (list_add(list, count, abs_path(p, C->dir), C->err) != SIGIL_STATUS_OK)
		return C->err && C->err->category == SIGIL_ERR_LIMIT ?
			sigil__err_wrap(C->err, "%s: line %zu: \"%s\"", C->file, at->line, field) : SIGIL_STATUS_ERROR;
	return SIGIL_STATUS_OK;
}

static sigil_status add_client(ctx *C, const sigil__toml_value *at, host_cfg *hc, const char *cert,
	const char *key)
{
	size_t n = hc->h.client_count;
	SIGIL_TRY(add_path(C, at, "client", cert, &hc->h.client_certs, &hc->h.client_count));
	char **keys = realloc(hc->h.client_keys, (n + 1) * sizeof *keys);
	if (!keys)
		return sigil__err_oom(C->err);
	hc->h.client_keys = keys;
	keys[n] = NULL;
	/* "" (docs/hosts.md: ["/etc/certs/client.pem", ""]) means the key is in
	 * the certificate file; containerd itself would join "" to the
	 * directory and then fail to read it */
	if (key && *key) {
		keys[n] = abs_path(key, C->dir);
		if (!keys[n])
			return sigil__err_oom(C->err);
	}
	return SIGIL_STATUS_OK;
}

/* parseHostConfig (hosts.go): one [host."…"] table or the root */
static sigil_status parse_host_config(ctx *C, const char *server, const sigil__toml_value *server_at,
	const sigil__toml_value *t, host_cfg *hc)
{
	sigil_status st;
	const sigil__toml_value *v;

	v = get_typed(C, t, "override_path", SIGIL_TOML_BOOL, "a boolean", &st);
	SIGIL_TRY(st);
	bool override_path = v && v->b;
	if (server && *server)
		SIGIL_TRY(parse_server(C, server_at, server, override_path, hc));

	v = get_typed(C, t, "skip_verify", SIGIL_TOML_BOOL, "a boolean", &st);
	SIGIL_TRY(st);
	if (v) {
		hc->skip_verify_set = true;
		hc->h.skip_verify = v->b;
	}

	v = get_typed(C, t, "capabilities", SIGIL_TOML_ARRAY, "an array of strings", &st);
	SIGIL_TRY(st);
	if (v && v->count > 0) {
		for (size_t i = 0; i < v->count; i++) {
			const sigil__toml_value *c = v->items[i];
			if (c->type != SIGIL_TOML_STRING)
				return cerr(C, v, "\"capabilities\" must be an array of strings");
			/* strings.ToLower: capabilities are case-insensitive */
			if (strcasecmp(c->str, "pull") == 0)
				hc->h.caps |= SIGIL_HOST_CAP_PULL;
			else if (strcasecmp(c->str, "resolve") == 0)
				hc->h.caps |= SIGIL_HOST_CAP_RESOLVE;
			else if (strcasecmp(c->str, "push") == 0)
				hc->h.caps |= SIGIL_HOST_CAP_PUSH;
			else
				return cerr(C, c, "unknown capability \"%s\"", c->str);
		}
	} else {
		/* hosts.go: no capabilities listed means all of them */
		hc->h.caps = SIGIL_HOST_CAP_PULL | SIGIL_HOST_CAP_RESOLVE | SIGIL_HOST_CAP_PUSH;
	}

	v = sigil__toml_get(t, "ca");
	if (v) {
		hc->ca_set = true;
		if (v->type == SIGIL_TOML_STRING) {
			SIGIL_TRY(add_path(C, v, "ca", v->str, &hc->h.ca_files, &hc->h.ca_count));
		} else if (v->type == SIGIL_TOML_ARRAY) {
			for (size_t i = 0; i < v->count; i++) {
				if (v->items[i]->type != SIGIL_TOML_STRING)
					return cerr(C, v, "\"ca\" must be a string or an array of strings");
				SIGIL_TRY(add_path(C, v, "ca", v->items[i]->str, &hc->h.ca_files, &hc->h.ca_count));
			}
		} else {
			return cerr(C, v, "invalid type for \"ca\": must be a string or an array of strings");
		}
	}

	v = sigil__toml_get(t, "client");
	if (v) {
		if (v->type == SIGIL_TOML_STRING) {
			SIGIL_TRY(add_client(C, v, hc, v->str, NULL));
		} else if (v->type == SIGIL_TOML_ARRAY) {
			for (size_t i = 0; i < v->count; i++) {
				const sigil__toml_value *p = v->items[i];
				if (p->type == SIGIL_TOML_STRING) {
					SIGIL_TRY(add_client(C, v, hc, p->str, NULL));
				} else if (p->type == SIGIL_TOML_ARRAY) {
					for (size_t j = 0; j < p->count; j++)
						if (p->items[j]->type != SIGIL_TOML_STRING)
							return cerr(C, p, "\"client\" pair must hold strings");
					if (p->count != 2)
						return cerr(C, p, "invalid pair for \"client\": need [certificate, key]");
					SIGIL_TRY(add_client(C, v, hc, p->items[0]->str, p->items[1]->str));
				} else {
					return cerr(C, p, "invalid type for \"client\"");
				}
			}
		} else {
			return cerr(C, v, "invalid type for \"client\": must be a path, an array of paths "
				"or an array of [certificate, key] pairs");
		}
	}

	v = get_typed(C, t, "header", SIGIL_TOML_TABLE, "a table", &st);
	SIGIL_TRY(st);
	if (v) {
		for (size_t i = 0; i < v->count; i++) {
			const char *name = v->keys[i];
			const sigil__toml_value *hv = v->items[i];
			if (!valid_header_name(name))
				return cerr(C, hv, "invalid header name \"%s\"", name);
			if (hv->type == SIGIL_TOML_STRING) {
				SIGIL_TRY(add_header(C, hv, hc, name, hv->str));
			} else if (hv->type == SIGIL_TOML_ARRAY) {
				for (size_t j = 0; j < hv->count; j++) {
					if (hv->items[j]->type != SIGIL_TOML_STRING)
						return cerr(C, hv, "header \"%s\" must be a string or an array of strings", name);
					SIGIL_TRY(add_header(C, hv, hc, name, hv->items[j]->str));
				}
			} else {
				return cerr(C, hv, "invalid type for header \"%s\"", name);
			}
		}
	}

	v = get_typed(C, t, "dial_timeout", SIGIL_TOML_STRING, "a string", &st);
	SIGIL_TRY(st);
	if (v && *v->str && !parse_duration_ms(v->str, &hc->h.dial_timeout_ms))
		return cerr(C, v, "invalid duration \"%s\" for \"dial_timeout\"", v->str);
	return SIGIL_STATUS_OK;
}

static host_cfg *cfg_new(cfg_list *l, sigil_error *err)
{
	if (l->count >= SIGIL_MAX_REGISTRY_HOSTS) {
		(void)sigil__err(err, SIGIL_ERR_LIMIT, "more than %d registry hosts", SIGIL_MAX_REGISTRY_HOSTS);
		return NULL;
	}
	host_cfg *n = realloc(l->items, (l->count + 1) * sizeof *n);
	if (!n) {
		(void)sigil__err_oom(err);
		return NULL;
	}
	l->items = n;
	memset(&n[l->count], 0, sizeof n[l->count]);
	return &n[l->count++];
}

/* parseHostsFile (hosts.go): the [host."…"] entries in file order, then the
 * root (server) entry */
static sigil_status parse_hosts_file(ctx *C, const uint8_t *buf, size_t len, cfg_list *out)
{
	sigil__toml_value *doc = NULL;
	if (sigil__toml_parse(buf, len, &doc, C->err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(C->err, "%s", C->file);
	sigil_status st = SIGIL_STATUS_ERROR;
	const sigil__toml_value *server = get_typed(C, doc, "server", SIGIL_TOML_STRING, "a string", &st);
	if (st != SIGIL_STATUS_OK)
		goto out;
	st = SIGIL_STATUS_ERROR;
	const sigil__toml_value *hosts = get_typed(C, doc, "host", SIGIL_TOML_TABLE, "a table", &st);
	if (st != SIGIL_STATUS_OK)
		goto out;
	st = SIGIL_STATUS_ERROR;
	if (hosts) {
		/* every entry must decode (toml.Unmarshal into
		 * map[string]hostFileConfig), but only hosts named in a [host.X…]
		 * table header are used, ordered by the first such header
		 * (getSortedHosts); the order list is deduplicated */
		size_t next = 0;
		for (;;) {
			size_t best = (size_t)-1, bestseq = (size_t)-1;
			for (size_t i = 0; i < hosts->count; i++) {
				const sigil__toml_value *h = hosts->items[i];
				if (h->type == SIGIL_TOML_TABLE && h->header_seq > next && h->header_seq < bestseq) {
					best = i;
					bestseq = h->header_seq;
				}
			}
			if (best == (size_t)-1)
				break;
			next = bestseq;
			host_cfg *hc = cfg_new(out, C->err);
			if (!hc)
				goto out;
			if (parse_host_config(C, hosts->keys[best], hosts->items[best], hosts->items[best], hc)
					!= SIGIL_STATUS_OK)
				goto out;
			if (!hc->has_host) {
				cerr(C, hosts->items[best], "host \"%s\" has no host name", hosts->keys[best]);
				goto out;
			}
		}
		for (size_t i = 0; i < hosts->count; i++) {
			const sigil__toml_value *h = hosts->items[i];
			if (h->type != SIGIL_TOML_TABLE) {
				cerr(C, h, "host \"%s\" must be a table", hosts->keys[i]);
				goto out;
			}
			if (h->header_seq == 0) {
				host_cfg tmp;
				memset(&tmp, 0, sizeof tmp);
				sigil_status s2 = parse_host_config(C, hosts->keys[i], h, h, &tmp);
				host_clear(&tmp.h);
				if (s2 != SIGIL_STATUS_OK)
					goto out;
			}
		}
	}
	host_cfg *root = cfg_new(out, C->err);
	if (!root)
		goto out;
	if (parse_host_config(C, server ? server->str : NULL, server, doc, root) != SIGIL_STATUS_OK)
		goto out;
	st = SIGIL_STATUS_OK;
out:
	sigil__toml_free(doc);
	return st;
}

/* ---- ConfigureHosts --------------------------------------------------- */

static sigil_status finish(const char *domain, int plain_http, cfg_list *l, sigil__registry_hosts *out,
	sigil_error *err)
{
	if (l->count > 0 && !l->items[l->count - 1].has_host) {
		host_cfg *d = &l->items[l->count - 1];
		size_t dl = strlen(domain);
		if (dl >= sizeof d->h.host)
			return sigil__err(err, SIGIL_ERR_USAGE, "registry domain too long");
		if (strcmp(domain, "docker.io") == 0) {
			memcpy(d->h.scheme, "https", 6);
			memcpy(d->h.host, "registry-1.docker.io", sizeof "registry-1.docker.io");
		} else if (is_localhost(domain)) {
			/* hosts.go ConfigureHosts, containerd 2.1: without a default
			 * scheme, localhost on no port or 443 is https; on another
			 * port http, which becomes https-with-http-fallback below
			 * because TLS verification is skipped for it (port != 80) */
			memcpy(d->h.host, domain, dl + 1);
			if (!plain_http) {
				const char *port = port_of(domain);
				bool https = !*port || strcmp(port, "443") == 0;
				memcpy(d->h.scheme, https ? "https" : "http", https ? 6 : 5);
				if (strcmp(port, "80") != 0) {
					d->skip_verify_set = true;
					d->h.skip_verify = true;
				}
			} else {
				memcpy(d->h.scheme, "http", 5);
			}
		} else {
			memcpy(d->h.host, domain, dl + 1);
			memcpy(d->h.scheme, plain_http ? "http" : "https", plain_http ? 5 : 6);
		}
		d->has_host = true;
		memcpy(d->h.path, "/v2", 4);
		d->h.caps = SIGIL_HOST_CAP_PULL | SIGIL_HOST_CAP_RESOLVE | SIGIL_HOST_CAP_PUSH;
	}
	for (size_t i = 0; i < l->count; i++) {
		host_cfg *hc = &l->items[i];
		/* hosts.go ConfigureHosts: an http host with TLS settings of its
		 * own (ca, client, skip_verify) tries https first and falls back
		 * to http, unless the port is 80 */
		bool explicit_tls = hc->ca_set || hc->h.client_count > 0 || hc->skip_verify_set;
		if (strcmp(hc->h.scheme, "http") == 0 && explicit_tls && strcmp(port_of(hc->h.host), "80") != 0) {
			memcpy(hc->h.scheme, "https", 6);
			hc->h.http_fallback = true;
		}
	}
	sigil__registry_host *hs = calloc(l->count ? l->count : 1, sizeof *hs);
	if (!hs)
		return sigil__err_oom(err);
	for (size_t i = 0; i < l->count; i++) {
		hs[i] = l->items[i].h;
		memset(&l->items[i].h, 0, sizeof l->items[i].h);
	}
	out->hosts = hs;
	out->count = l->count;
	return SIGIL_STATUS_OK;
}

static sigil_status check_domain(const char *domain, sigil_error *err)
{
	if (!domain || !*domain)
		return sigil__err(err, SIGIL_ERR_USAGE, "hosts: no registry domain");
	size_t n = strnlen(domain, 256);
	if (n >= 256)
		return sigil__err(err, SIGIL_ERR_USAGE, "hosts: registry domain too long");
	/* the domain names a directory: no separators or dot-dot */
	if (strchr(domain, '/') || strcmp(domain, ".") == 0 || strcmp(domain, "..") == 0 ||
			strcmp(domain, "_default") == 0)
		return sigil__err(err, SIGIL_ERR_USAGE, "hosts: invalid registry domain \"%s\"", domain);
	for (const char *p = domain; *p; p++) {
		char c = *p;
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				strchr(".-_:[]", c)))
			return sigil__err(err, SIGIL_ERR_USAGE, "hosts: invalid registry domain \"%s\"", domain);
	}
	return SIGIL_STATUS_OK;
}

sigil_status sigil__hosts_parse(const uint8_t *buf, size_t len, const char *dir, const char *domain,
	int plain_http, sigil__registry_hosts *out, sigil_error *err)
{
	if (!out || (!buf && len))
		return sigil__err(err, SIGIL_ERR_USAGE, "hosts: no output");
	SIGIL_TRY(check_domain(domain, err));
	ctx C = { .dir = dir, .file = "hosts.toml", .err = err };
	cfg_list l = { NULL, 0 };
	sigil_status st = parse_hosts_file(&C, buf, len, &l);
	if (st == SIGIL_STATUS_OK)
		st = finish(domain, plain_http, &l, out, err);
	cfg_list_clear(&l);
	return st;
}

static int cmp_names(const struct dirent **a, const struct dirent **b)
{
	/* os.ReadDir sorts by file name, bytewise */
	return strcmp((*a)->d_name, (*b)->d_name);
}

static bool has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);
	return n >= m && memcmp(s + n - m, suf, m) == 0;
}

/* loadCertFiles (hosts.go): Docker's certs.d layout: *.crt are CA files,
 * *.cert client certificates with the key in the *.key of the same name
 * (or in the .cert itself) */
static sigil_status load_cert_files(const char *dir, cfg_list *l, sigil_error *err)
{
	host_cfg *hc = cfg_new(l, err);
	if (!hc)
		return SIGIL_STATUS_ERROR;
	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, NULL, cmp_names);
	if (n < 0) {
		if (errno == ENOENT)
			return SIGIL_STATUS_OK;
		return sigil__err(err, SIGIL_ERR_IO, "%s: %s", dir, strerror(errno));
	}
	sigil_status st = SIGIL_STATUS_OK;
	char path[HOSTS_PATH_MAX];
	for (int i = 0; i < n && st == SIGIL_STATUS_OK; i++) {
		const char *name = ents[i]->d_name;
		bool crt = has_suffix(name, ".crt"), cert = has_suffix(name, ".cert");
		if (!crt && !cert)
			continue;
		if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) {
			st = sigil__err(err, SIGIL_ERR_LIMIT, "%s: path too long", dir);
			break;
		}
		struct stat sb;
		/* DirEntry.IsDir: the entry itself, not a symlink's target */
		if (lstat(path, &sb) != 0 || S_ISDIR(sb.st_mode))
			continue;
		if (crt) {
			hc->ca_set = true;
			st = list_add(&hc->h.ca_files, &hc->h.ca_count, strdup(path), err);
			continue;
		}
		size_t before = hc->h.client_count;
		st = list_add(&hc->h.client_certs, &hc->h.client_count, strdup(path), err);
		if (st != SIGIL_STATUS_OK)
			break;
		char **keys = realloc(hc->h.client_keys, (before + 1) * sizeof *keys);
		if (!keys) {
			st = sigil__err_oom(err);
			break;
		}
		hc->h.client_keys = keys;
		keys[before] = NULL;
		char key[HOSTS_PATH_MAX];
		size_t pl = strlen(path);
		memcpy(key, path, pl - 5);
		memcpy(key + pl - 5, ".key", 5);
		if (stat(key, &sb) == 0) {
			keys[before] = strdup(key);
			if (!keys[before])
				st = sigil__err_oom(err);
		} else if (errno != ENOENT) {
			st = sigil__err(err, SIGIL_ERR_IO, "%s: %s", key, strerror(errno));
		}
	}
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	return st;
}

sigil_status sigil__hosts_resolve(const char *hosts_dir, const char *domain, int plain_http,
	sigil__registry_hosts *out, sigil_error *err)
{
	if (!out)
		return sigil__err(err, SIGIL_ERR_USAGE, "hosts: no output");
	SIGIL_TRY(check_domain(domain, err));
	cfg_list l = { NULL, 0 };
	sigil_status st = SIGIL_STATUS_OK;
	char dir[HOSTS_PATH_MAX];
	bool found = false;
	if (hosts_dir && *hosts_dir) {
		/* config_unix.go hostPaths: "<host>_<port>_" (hostDirectory: the
		 * last ':' becomes '_' and a '_' is appended), then the domain as
		 * is, then _default; the first that exists is used */
		char alt[256 + 2];
		const char *cands[3];
		size_t nc = 0;
		const char *colon = strrchr(domain, ':');
		if (colon && colon > domain) {
			size_t hl = (size_t)(colon - domain);
			(void)snprintf(alt, sizeof alt, "%.*s_%s_", (int)hl, domain, colon + 1);
			cands[nc++] = alt;
		}
		cands[nc++] = domain;
		cands[nc++] = "_default";
		for (size_t i = 0; i < nc && !found; i++) {
			if (snprintf(dir, sizeof dir, "%s/%s", hosts_dir, cands[i]) >= (int)sizeof dir)
				return sigil__err(err, SIGIL_ERR_USAGE, "hosts: directory path too long");
			struct stat sb;
			if (stat(dir, &sb) == 0)
				found = true;
			else if (errno != ENOENT)
				return sigil__err(err, SIGIL_ERR_IO, "%s: %s", dir, strerror(errno));
		}
	}
	if (found) {
		char file[HOSTS_PATH_MAX + 16];
		(void)snprintf(file, sizeof file, "%s/hosts.toml", dir);
		uint8_t *buf = NULL;
		size_t len = 0;
		st = sigil__file_read(file, NULL, SIGIL_MAX_TOML_SIZE, SIGIL__FILE_MISSING_OK, &buf, &len, NULL, err);
		if (st == SIGIL_STATUS_OK) {
			if (!buf || len == 0) {
				/* loadHostDir: no (or an empty) hosts.toml: certs.d files */
				st = load_cert_files(dir, &l, err);
			} else {
				/* containerd logs a hosts.toml it cannot decode and falls
				 * back to certs.d files; a verifier must not silently
				 * ignore the operator's registry configuration */
				ctx C = { .dir = dir, .file = file, .err = err };
				st = parse_hosts_file(&C, buf, len, &l);
			}
		}
		free(buf);
	}
	if (st == SIGIL_STATUS_OK && l.count == 0 && !cfg_new(&l, err))
		st = SIGIL_STATUS_ERROR;
	if (st == SIGIL_STATUS_OK)
		st = finish(domain, plain_http, &l, out, err);
	cfg_list_clear(&l);
	return st;
}
