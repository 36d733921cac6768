/* status_rpc.c - sigild's Status RPC; see status_rpc.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "forwarder_args.h"
#include "grpc_client.h"
#include "status_rpc.h"

/* a StatusResponse is a few hundred bytes; anything near this is not sigild */
#define STATUS_MAX_RESPONSE (1u << 20)

const char *sigil__sigild_socket(const char *given)
{
	if (given)
		return given;
	const char *env = secure_getenv("SIGIL_SOCKET");
	return env && env[0] ? env : SIGIL_FORWARDER_DEFAULT_SOCKET;
}

Sigil__V1__StatusResponse *sigil__status_rpc(const char *socket, int64_t timeout_ms, char *why,
	size_t why_len)
{
	Sigil__V1__StatusRequest req = SIGIL__V1__STATUS_REQUEST__INIT;
	uint8_t buf[16];
	size_t len = sigil__v1__status_request__pack(&req, buf);
	int64_t now = sigil_forwarder_now_ms();
	sigil_grpc_call call = {
		.socket_path = socket,
		.method = "/sigil.v1.Verifier/Status",
		.request = buf,
		.request_len = len,
		.deadline_ms = now + timeout_ms,
		.timeout_ms = timeout_ms,
		.connect_retry_until_ms = now,
		.max_response = STATUS_MAX_RESPONSE,
	};
	sigil_grpc_result res;
	memset(&res, 0, sizeof res);
	if (sigil_grpc_unary(&call, &res, why, why_len) != 0)
		return NULL;
	if (res.status != 0) {
		snprintf(why, why_len, "sigild at %s answered %s: %s", socket, sigil_grpc_status_name(res.status),
			res.message);
		free(res.response);
		return NULL;
	}
	Sigil__V1__StatusResponse *r = sigil__v1__status_response__unpack(NULL, res.response_len, res.response);
	free(res.response);
	if (!r)
		snprintf(why, why_len, "sigild at %s sent a StatusResponse that does not parse", socket);
	return r;
}
