/* grpc_conn.h - one client connection of sigild's gRPC server: HTTP/2
 * (libnghttp2, server side) with gRPC's unary call framing on top
 * (PROTOCOL-HTTP2.md), and no I/O of its own. Bytes read from the socket
 * go in (sigild_conn_recv), bytes to write come out (sigild_conn_output),
 * each complete request goes to the dispatch callback, and its answer
 * comes back through sigild_conn_complete. server.c drives it from a
 * socket, tests/fuzz/fuzz-grpc-server.c from a buffer.
 *
 * Not thread-safe: a connection and its calls' completion belong to one
 * thread (server.c's event loop). A dispatched call's request fields are
 * read, and its answer fields written, by whoever serves it (a worker). */
#ifndef SIGILD_GRPC_CONN_H
#define SIGILD_GRPC_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server.h"

/* Requests being received or served at once on one connection
 * (SETTINGS_MAX_CONCURRENT_STREAMS; the forwarder and `sigil` use one, a
 * grpcio channel queues the excess on its side). */
#define SIGILD_CONN_MAX_STREAMS 16
/* Request header list (names + values + 32 each, RFC 9113 §6.5.2): a gRPC
 * call sends a handful of short headers. More closes the connection. */
#define SIGILD_CONN_MAX_HEADER_LIST 16384
/* A request (HEADERS to END_STREAM), or the connection preface, must
 * arrive within this: a client trickling bytes cannot hold a slot. */
#define SIGILD_CONN_READ_TIMEOUT_MS 10000
/* A connection with no call at all is closed (GOAWAY) after this. */
#define SIGILD_CONN_IDLE_TIMEOUT_MS 60000
/* grpc-message is cut to this before percent-encoding. */
#define SIGILD_CONN_MESSAGE_MAX 600

/* gRPC status codes used here (doc/statuscodes.md). */
enum {
	SIGILD_GRPC_OK = 0,
	SIGILD_GRPC_CANCELLED = 1,
	SIGILD_GRPC_INVALID_ARGUMENT = 3,
	SIGILD_GRPC_RESOURCE_EXHAUSTED = 8,
	SIGILD_GRPC_UNIMPLEMENTED = 12,
	SIGILD_GRPC_INTERNAL = 13,
	SIGILD_GRPC_UNAVAILABLE = 14,
};

typedef enum sigild_method {
	SIGILD_METHOD_VERIFY = 1,
	SIGILD_METHOD_STATUS = 2,
} sigild_method;

typedef struct sigild_conn sigild_conn;

typedef struct sigild_call {
	/* The request, set before dispatch. */
	sigild_method method;
	const char *method_name;  /* the :path, for logs */
	const uint8_t *msg;       /* the request message, without the prefix */
	size_t msg_len;
	int64_t timeout_ms;       /* grpc-timeout, INT64_MAX when absent */
	int64_t received_ms;      /* now_ms when its headers arrived */
	/* The answer, set by whoever serves the call: code SIGILD_GRPC_*,
	 * message (grpc-message, may be empty), payload (malloc'd, taken over
	 * by the connection; only with code OK). */
	int code;
	char message[SIGILD_CONN_MESSAGE_MAX];
	uint8_t *payload;
	size_t payload_len;
	/* The rest is the connection's. */
	struct sigild_call_priv *priv;
} sigild_call;

/* Hands a complete request over; it comes back by sigild_conn_complete. */
typedef void (*sigild_dispatch_fn)(void *ctx, sigild_call *call);

typedef struct sigild_conn_config {
	sigild_dispatch_fn dispatch;
	void *ctx;                /* for dispatch */
	sigild_log_fn log;        /* required */
	size_t max_message;       /* request message bound (RESOURCE_EXHAUSTED) */
	/* Request bytes buffered by all connections sharing this counter, and
	 * its bound: more is refused with RESOURCE_EXHAUSTED. NULL: none. */
	size_t *buffered;
	size_t max_buffered;
} sigild_conn_config;

/* sigild_conn_new - a connection that has just been accepted; queues the
 * server's SETTINGS. owner is returned by sigild_conn_complete. NULL when
 * out of memory. cfg must outlive the connection. */
sigild_conn *sigild_conn_new(const sigild_conn_config *cfg, void *owner, int64_t now_ms);

/* sigild_conn_recv - process bytes read from the client (may dispatch
 * calls). -1: the connection is unusable (protocol error, over a bound);
 * send what sigild_conn_output still gives and close it. */
int sigild_conn_recv(sigild_conn *c, const uint8_t *buf, size_t len, int64_t now_ms);

/* sigild_conn_output - bytes to write next (*len 0: nothing). After
 * writing n of them, sigild_conn_consumed(c, n). -1: fatal, close. */
int sigild_conn_output(sigild_conn *c, const uint8_t **out, size_t *len, int64_t now_ms);
void sigild_conn_consumed(sigild_conn *c, size_t n);

/* sigild_conn_done - true when nothing more will be read or written. */
bool sigild_conn_done(sigild_conn *c);

/* sigild_conn_deadline - when the connection should be given up
 * (read timeout, idle timeout) unless it makes progress; INT64_MAX: not
 * while its calls are being served. */
int64_t sigild_conn_deadline(sigild_conn *c);

/* sigild_conn_inflight - calls dispatched and not yet completed. */
size_t sigild_conn_inflight(sigild_conn *c);
/* sigild_conn_streams - requests open (being received, served or sent). */
size_t sigild_conn_streams(sigild_conn *c);

/* sigild_conn_goaway - graceful shutdown: GOAWAY(NO_ERROR) naming the
 * last request taken; requests already taken are still answered. */
void sigild_conn_goaway(sigild_conn *c);

/* sigild_conn_cancel - RST_STREAM(CANCEL) every open request and end the
 * session (the grace period is over). */
void sigild_conn_cancel(sigild_conn *c);

/* sigild_conn_close - the owner is done with the connection (socket
 * closed). It is freed now, or when its last dispatched call completes. */
void sigild_conn_close(sigild_conn *c);

/* sigild_conn_complete - a dispatched call's answer is set: queue it on
 * its stream. Returns the connection's owner when the connection is still
 * open (its output should be written), NULL when the call was dropped
 * (client gone, stream reset, connection closed). Frees the call. */
void *sigild_conn_complete(sigild_call *call, int64_t now_ms);

/* sigild_conn_percent_encode - grpc-message encoding (PROTOCOL-HTTP2.md:
 * bytes outside 0x20..0x7E and '%' as %XX). Always NUL-terminates out;
 * cuts at a whole escape. Exposed for tests. */
void sigild_conn_percent_encode(const char *in, char *out, size_t out_len);

/* sigild_conn_parse_timeout - a grpc-timeout value (1-8 digits and one
 * of H M S m u n) in milliseconds, rounded up; -1 when malformed. */
int64_t sigild_conn_parse_timeout(const char *v, size_t len);

#endif
