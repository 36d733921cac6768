/* server.h - sigild's gRPC server (gRPC over HTTP/2 on libnghttp2, not
 * libgrpc: server.c says why): the unix socket, an I/O thread, a fixed
 * pool of worker threads, and the sigil.v1.Verifier methods mapped onto
 * the service layer (service.h). Any standard gRPC client can call it. */
#ifndef SIGILD_SERVER_H
#define SIGILD_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sigil/error.h>
#include "service.h"

/* The largest request message accepted. A VerifyRequest is an image name,
 * a digest, a descriptor and some user metadata: a few KiB at most.
 * Anything larger is refused from its length prefix (RESOURCE_EXHAUSTED)
 * before it is buffered (grpc_conn.c). */
#define SIGILD_MAX_REQUEST_BYTES ((size_t)1 << 20)
/* Worker threads: at least one, and a sane ceiling for a typo'd config. */
#define SIGILD_MAX_WORKERS 256
/* Time kept free at the end of a call's deadline to send the answer. */
#define SIGILD_DEADLINE_MARGIN_MS 100

typedef enum sigild_log_level {
	SIGILD_LOG_ERR = 3,  /* syslog priorities, for journald's <N> prefix */
	SIGILD_LOG_WARN = 4,
	SIGILD_LOG_INFO = 6,
	SIGILD_LOG_DEBUG = 7,
} sigild_log_level;

/* The daemon decides where logs go; the server only reports. */
typedef void (*sigild_log_fn)(sigild_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

typedef struct sigild_server_options {
	const char *socket_path;  /* the unix socket; its directory is created */
	size_t workers;           /* worker threads (config "workers") */
	int64_t verify_timeout_ms; /* upper bound of one Verify's work */
	sigild_log_fn log;        /* required */
	bool log_debug;           /* log every call (the log level is debug) */
} sigild_server_options;

typedef struct sigild_server sigild_server;

/* sigild_server_start - create the socket's directory if missing (0755),
 * refuse when another process answers on the socket, remove a stale socket
 * file, bind it with mode 0600 and start serving with opts->workers
 * threads. svc is borrowed and must outlive the server. */
SIGIL_MUST_CHECK sigil_status sigild_server_start(sigild_server **out, sigild_service *svc,
	const sigild_server_options *opts, sigil_error *err);

/* sigild_server_stop - stop accepting calls, let in-flight calls finish
 * for up to grace_ms, cancel what is left, join the workers, free the
 * server and remove the socket file. NULL-safe. */
void sigild_server_stop(sigild_server *srv, int64_t grace_ms);

/* sigild_server_deadline_ms - the absolute deadline (sigil_registry_now_ms
 * clock) for one Verify: the call's deadline less a margin to answer in,
 * capped by verify_timeout_ms from now. Exposed for tests. */
int64_t sigild_server_deadline_ms(int64_t now_ms, int64_t call_remaining_ms,
	int64_t verify_timeout_ms);

#endif
