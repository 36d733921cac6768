/* metrics_http.c - the metrics and probe endpoint (metrics_http.h) on
 * libmicrohttpd: a maintained HTTP/1.1 server (issue 8 asks for one
 * rather than a hand-written parser), with its own polling thread, a cap
 * on connections and per-connection memory, and a timeout for idle
 * clients, so a slow or hostile scraper cannot hold sigild's resources. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>
#include "metrics_http.h"
#include "util.h"

#define HTTP_MAX_CONNECTIONS 16
#define HTTP_CONNECTION_TIMEOUT_S 10
#define HTTP_CONNECTION_MEMORY ((size_t)32 * 1024)

struct sigild_metrics_server {
	struct MHD_Daemon *d;
	sigild_metrics *m;
	sigild_ready_fn ready;
	void *ctx;
	uint16_t port;
};

static int parse_port(const char *s, uint16_t *out)
{
	unsigned long v = 0;
	if (!s[0] || strlen(s) > 5)
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

sigil_status sigild_metrics_listen_parse(const char *listen, struct sockaddr_storage *out,
	socklen_t *out_len, sigil_error *err)
{
	char host[64];
	uint16_t port;
	if (!listen || !out || !out_len)
		return sigil__err(err, SIGIL_ERR_USAGE, "metrics listen address: missing argument");
	const char *colon = strrchr(listen, ':');
	if (!colon)
		return sigil__err(err, SIGIL_ERR_USAGE,
			"\"%.100s\" is not <IPv4>:<port> or [<IPv6>]:<port>", listen);
	size_t hl = (size_t)(colon - listen);
	bool v6 = hl >= 2 && listen[0] == '[' && listen[hl - 1] == ']';
	if (v6) {
		listen++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof host)
		return sigil__err(err, SIGIL_ERR_USAGE, "\"%.100s\": missing or overlong address", listen);
	memcpy(host, listen, hl);
	host[hl] = '\0';
	if (parse_port(colon + 1, &port) != 0)
		return sigil__err(err, SIGIL_ERR_USAGE, "\"%.100s\": port must be 0-65535", colon + 1);
	memset(out, 0, sizeof *out);
	if (!v6) {
		struct sockaddr_in *a = (struct sockaddr_in *)out;
		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return sigil__err(err, SIGIL_ERR_USAGE,
				"\"%s\" is not an IPv4 address (IPv6 is written [addr]:port; names are not resolved)",
				host);
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		*out_len = sizeof *a;
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)out;
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return sigil__err(err, SIGIL_ERR_USAGE, "\"%s\" is not an IPv6 address", host);
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		*out_len = sizeof *a;
	}
	return SIGIL_STATUS_OK;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int code, const char *type,
	char *body, size_t len, bool owned)
{
	struct MHD_Response *r = owned ?
		MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE) :
		MHD_create_response_from_buffer(len, body, MHD_RESPMEM_PERSISTENT);
	if (!r) {
		if (owned)
			free(body);
		return MHD_NO;
	}
	enum MHD_Result ok = MHD_YES;
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES ||
	    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") != MHD_YES)
		ok = MHD_NO;
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED &&
	    MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD") != MHD_YES)
		ok = MHD_NO;
	if (ok == MHD_YES)
		ok = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ok;
}

static char TEXT[] = "text/plain; charset=utf-8";

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
	const char *method, const char *version, const char *upload, size_t *upload_size,
	void **req_cls)
{
	static int first_call_marker;
	sigild_metrics_server *srv = cls;
	(void)version;
	(void)upload;
	/* the headers arrive first; answer once the (ignored) body is read */
	if (*req_cls == NULL) {
		*req_cls = &first_call_marker;
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		static char msg[] = "method not allowed\n";
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, TEXT, msg, strlen(msg), false);
	}
	if (strcmp(url, "/metrics") == 0) {
		char *body = NULL;
		size_t len = 0;
		sigil_error e = SIGIL_ERROR_INIT;
		if (sigild_metrics_expose(srv->m, &body, &len, &e) != SIGIL_STATUS_OK) {
			static char msg[] = "metrics unavailable\n";
			return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, TEXT, msg, strlen(msg), false);
		}
		return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", body, len, true);
	}
	if (strcmp(url, "/healthz") == 0) {
		static char msg[] = "ok\n";
		return reply(c, MHD_HTTP_OK, TEXT, msg, strlen(msg), false);
	}
	if (strcmp(url, "/readyz") == 0) {
		char why[256] = "";
		if (srv->ready && !srv->ready(srv->ctx, why, sizeof why)) {
			char *body = NULL;
			if (asprintf(&body, "not ready: %s\n", why) < 0)
				return MHD_NO;
			return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, TEXT, body, strlen(body), true);
		}
		static char msg[] = "ready\n";
		return reply(c, MHD_HTTP_OK, TEXT, msg, strlen(msg), false);
	}
	static char msg[] = "not found: /metrics, /healthz, /readyz\n";
	return reply(c, MHD_HTTP_NOT_FOUND, TEXT, msg, strlen(msg), false);
}

sigil_status sigild_metrics_server_start(sigild_metrics_server **out, const char *listen,
	sigild_metrics *m, sigild_ready_fn ready, void *ctx, sigil_error *err)
{
	struct sockaddr_storage addr;
	socklen_t alen;
	if (!out || !m)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigild_metrics_server_start: missing argument");
	if (sigild_metrics_listen_parse(listen, &addr, &alen, err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "metricsListen");
	sigild_metrics_server *srv = calloc(1, sizeof *srv);
	if (!srv)
		return sigil__err_oom(err);
	srv->m = m;
	srv->ready = ready;
	srv->ctx = ctx;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
	if (addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	uint16_t port = addr.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&addr)->sin6_port) :
		ntohs(((struct sockaddr_in *)&addr)->sin_port);
	srv->d = MHD_start_daemon(flags, port, NULL, NULL, handle, srv,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_MAX_CONNECTIONS,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_CONNECTION_TIMEOUT_S,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, HTTP_CONNECTION_MEMORY,
		MHD_OPTION_END);
	if (!srv->d) {
		free(srv);
		/* libmicrohttpd does not say why; the usual cause is a port in use */
		return sigil__err(err, SIGIL_ERR_IO, "cannot listen on %s for metrics (address in use?)",
			listen);
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->d, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = info ? info->port : port;
	*out = srv;
	return SIGIL_STATUS_OK;
}

uint16_t sigild_metrics_server_port(const sigild_metrics_server *srv)
{
	return srv ? srv->port : 0;
}

void sigild_metrics_server_stop(sigild_metrics_server *srv)
{
	if (!srv)
		return;
	MHD_stop_daemon(srv->d);
	free(srv);
}
