/* metrics_http.h - sigild's HTTP endpoint for metrics and probes, served
 * by libmicrohttpd (Debian's libmicrohttpd12) on its own thread:
 *
 *   GET /metrics  the registry in the Prometheus text format
 *   GET /healthz  liveness: 200 "ok" while the process serves HTTP at all
 *   GET /readyz   readiness: 200 "ready" when the ready callback says so,
 *                 else 503 with its reason
 *
 * Anything else is 404; methods other than GET and HEAD are 405. */
#ifndef SIGILD_METRICS_HTTP_H
#define SIGILD_METRICS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sigil/error.h>
#include "metrics.h"

/* Fills why (a short reason, NUL-terminated) when it returns false. */
typedef bool (*sigild_ready_fn)(void *ctx, char *why, size_t why_len);

typedef struct sigild_metrics_server sigild_metrics_server;

/* sigild_metrics_listen_parse - "IPv4:port" or "[IPv6]:port", literal
 * addresses only (no name resolution at startup), port 0-65535 (0: any
 * free port). SIGIL_ERR_USAGE saying what is wrong. */
SIGIL_MUST_CHECK sigil_status sigild_metrics_listen_parse(const char *listen,
	struct sockaddr_storage *out, socklen_t *out_len, sigil_error *err);

/* sigild_metrics_server_start - listen on `listen` and serve until stop.
 * m, ready and ctx are borrowed and must outlive the server. */
SIGIL_MUST_CHECK sigil_status sigild_metrics_server_start(sigild_metrics_server **out,
	const char *listen, sigild_metrics *m, sigild_ready_fn ready, void *ctx, sigil_error *err);

/* sigild_metrics_server_port - the port bound (useful with port 0). */
uint16_t sigild_metrics_server_port(const sigild_metrics_server *srv);

/* sigild_metrics_server_stop - close the listening socket, finish the
 * connections, join the thread, free. NULL-safe. */
void sigild_metrics_server_stop(sigild_metrics_server *srv);

#endif
