/* grpc_client.h - one unary gRPC call over a unix socket, spoken directly
 * (HTTP/2 with prior knowledge via libnghttp2, the 5-byte gRPC message
 * framing), so sigil-verifier does not load libgrpc (see grpc_client.c for
 * the measurement behind that choice). Protocol: gRPC's PROTOCOL-HTTP2.md. */
#ifndef SIGIL_GRPC_CLIENT_H
#define SIGIL_GRPC_CLIENT_H

#include <stddef.h>
#include <stdint.h>

typedef struct sigil_grpc_call {
	const char *socket_path;        /* unix socket */
	const char *method;             /* ":path", e.g. "/sigil.v1.Verifier/Verify" */
	const uint8_t *request;         /* serialized protobuf message */
	size_t request_len;
	int64_t deadline_ms;            /* absolute, sigil_forwarder_now_ms clock */
	int64_t timeout_ms;             /* the budget deadline_ms came from (for messages) */
	int64_t connect_retry_until_ms; /* retry refused/absent sockets until then */
	size_t max_response;            /* bound on the response message */
} sigil_grpc_call;

typedef struct sigil_grpc_result {
	int status;          /* grpc-status (0 = OK) */
	char message[512];   /* grpc-message, percent-decoded, control chars as '?' */
	uint8_t *response;   /* the response message (status 0 only); free() it */
	size_t response_len;
	int unreachable;     /* set when -1 is returned because nothing accepted
	                        the connection within the retry window */
} sigil_grpc_result;

/* sigil_grpc_unary - connect (retrying ECONNREFUSED/ENOENT/EAGAIN with
 * short sleeps until connect_retry_until_ms, bounded by the deadline), send
 * the request with grpc-timeout set to the time left, and read the answer.
 * Returns 0 when the server answered with a grpc-status (which may be
 * non-zero: see res->status/message), -1 otherwise with a one-line reason
 * naming the socket (unreachable, deadline passed, protocol violation). */
int sigil_grpc_unary(const sigil_grpc_call *call, sigil_grpc_result *res,
	char *reason, size_t reason_len);

/* sigil_grpc_status_name - "OK", "CANCELLED", ... ("UNKNOWN_STATUS" beyond 16). */
const char *sigil_grpc_status_name(int status);

#endif
