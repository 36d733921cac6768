/* fuzz-grpc-server.c - sigild's per-connection gRPC/HTTP/2 handler
 * (plugin/grpc_conn.c) on arbitrary bytes as what a client sends.
 *
 * The input is fed in pieces (frames split anywhere), the server's output
 * is drained between pieces as the event loop would, and dispatched calls
 * are answered out of order, some with a message, some with an error, and
 * on odd-sized inputs some only after the connection has been closed (a
 * client gone while a worker serves it). Invariants: a dispatched call is
 * a known method with a message within the bound; no request bytes stay
 * counted once everything is answered; ASan sees no leak or overrun.
 * Seeds: tests/fuzz/corpus/grpc-server/, whole client connections
 * captured from sigil-verifier (grpc_client.c) and python3-grpcio. */
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grpc_conn.h"
#include "sigil/v1/verifier.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PENDING 64
#define MAX_MESSAGE 4096 /* small, so the fuzzer reaches the bound */
#define PIECE 333

typedef struct pending {
	sigild_call *calls[MAX_PENDING];
	size_t n;
	size_t total;
} pending;

static void quiet(sigild_log_level level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
}

static void dispatch(void *ctx, sigild_call *call)
{
	pending *p = ctx;

	if ((call->method != SIGILD_METHOD_VERIFY && call->method != SIGILD_METHOD_STATUS) ||
	    call->msg_len > MAX_MESSAGE || (call->msg_len && !call->msg))
		__builtin_trap();
	/* at most SIGILD_CONN_MAX_STREAMS at once on one connection, and the
	 * harness answers often: a full list means the bound did not hold */
	if (p->n >= MAX_PENDING)
		__builtin_trap();
	p->calls[p->n++] = call;
	p->total++;
}

/* Serve a call the way server.c's worker does. */
static void answer(sigild_call *call, size_t i)
{
	if (call->method == SIGILD_METHOD_VERIFY) {
		Sigil__V1__VerifyRequest *req =
			sigil__v1__verify_request__unpack(NULL, call->msg_len, call->msg);
		if (req)
			sigil__v1__verify_request__free_unpacked(req, NULL);
	}
	if (i % 3 == 2) {
		call->code = SIGILD_GRPC_INVALID_ARGUMENT;
		snprintf(call->message, sizeof call->message, "bad\n%%request \xe2\x80\x94 %zu", i);
		return;
	}
	call->payload_len = i % 2 ? 0 : 16;
	call->payload = malloc(call->payload_len ? call->payload_len : 1);
	if (!call->payload)
		__builtin_trap();
	memset(call->payload, 0x2a, call->payload_len ? call->payload_len : 1);
	call->code = SIGILD_GRPC_OK;
}

static void complete_some(pending *p, size_t keep, int64_t now)
{
	/* newest first: answers go out in another order than requests came */
	while (p->n > keep) {
		sigild_call *call = p->calls[--p->n];
		answer(call, p->n);
		(void)sigild_conn_complete(call, now);
	}
}

static int drain(sigild_conn *c, int64_t now)
{
	for (int rounds = 0; rounds < 1000; rounds++) {
		const uint8_t *out;
		size_t n;
		if (sigild_conn_output(c, &out, &n, now) != 0)
			return -1;
		if (n == 0)
			return 0;
		/* write in two parts, as a short send() would */
		sigild_conn_consumed(c, n / 2 + 1);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pending p = { .n = 0 };
	size_t buffered = 0;
	int64_t now = 1000;
	bool failed = false;
	sigild_conn_config cfg = {
		.dispatch = dispatch,
		.ctx = &p,
		.log = quiet,
		.max_message = MAX_MESSAGE,
		.buffered = &buffered,
		.max_buffered = 3 * MAX_MESSAGE,
	};
	int owner;
	sigild_conn *c = sigild_conn_new(&cfg, &owner, now);

	if (!c)
		return 0;
	for (size_t off = 0; off < size && !failed; off += PIECE) {
		size_t n = size - off < PIECE ? size - off : PIECE;
		now += 7;
		if (sigild_conn_recv(c, data + off, n, now) != 0)
			failed = true;
		if (drain(c, now) != 0)
			failed = true;
		complete_some(&p, p.n / 2, now);
		if (drain(c, now) != 0)
			failed = true;
	}
	(void)sigild_conn_deadline(c);
	(void)sigild_conn_inflight(c);
	if (size % 2 && p.n > 0) {
		/* the client goes while calls are being served */
		sigild_conn_close(c);
		complete_some(&p, 0, now);
	} else {
		complete_some(&p, 0, now);
		if (!failed) {
			sigild_conn_goaway(c);
			(void)drain(c, now);
			sigild_conn_cancel(c);
			(void)drain(c, now);
			(void)sigild_conn_done(c);
		}
		sigild_conn_close(c);
	}
	if (buffered != 0)
		__builtin_trap(); /* request bytes still counted after the last answer */
	return 0;
}
