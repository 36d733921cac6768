/* status_rpc.h - reaching sigild from the CLI: its socket and its Status
 * RPC, as `sigil status` and `sigil doctor` both do it. */
#ifndef SIGIL_CLI_STATUS_RPC_H
#define SIGIL_CLI_STATUS_RPC_H

#include <stddef.h>
#include <stdint.h>
#include "sigil/v1/verifier.pb-c.h"

/* sigil__sigild_socket - the socket a verb talks to: given (--socket) when
 * not NULL, else $SIGIL_SOCKET when set and not empty, else the default
 * SIGIL_FORWARDER_DEFAULT_SOCKET (the forwarder's and sigild's). The string
 * is borrowed. */
const char *sigil__sigild_socket(const char *given);

/* sigil__status_rpc - call /sigil.v1.Verifier/Status on the unix socket,
 * answering within timeout_ms (a refused or absent socket is not retried:
 * sigild is either up or it is not). Returns the response, which the caller
 * frees with sigil__v1__status_response__free_unpacked, or NULL with a
 * one-line reason in why: the transport's, "sigild at <socket> answered
 * <code>: <message>", or "sigild at <socket> sent a StatusResponse that
 * does not parse". */
Sigil__V1__StatusResponse *sigil__status_rpc(const char *socket, int64_t timeout_ms, char *why,
	size_t why_len);

#endif
