/* grpc_conn.c - one connection of sigild's gRPC server: HTTP/2 by
 * libnghttp2 (framing, HPACK, flow control, stream states, the protocol
 * checks of RFC 9113), unary gRPC calls on top of it (PROTOCOL-HTTP2.md):
 *
 *   request:  HEADERS :method POST, :path /sigil.v1.Verifier/<Method>,
 *             content-type application/grpc[+proto|;...], grpc-timeout;
 *             DATA: exactly one length-prefixed message (1-byte
 *             compressed flag, 4-byte big-endian length), END_STREAM.
 *   response: HEADERS :status 200, content-type application/grpc; DATA:
 *             the length-prefixed answer; trailers grpc-status and
 *             grpc-message (percent-encoded). An error is "trailers only":
 *             one HEADERS frame with all of them and END_STREAM.
 *
 * A request that can be refused from its headers or its message prefix
 * (unknown method, not gRPC, compressed, too large) is answered at once;
 * the stream is then reset with NO_ERROR so the client stops sending
 * (RFC 9113 §8.1). Everything else is checked when the request is whole
 * and handed to the dispatch callback; the answer is queued when the call
 * comes back (sigild_conn_complete). No I/O and no clock here: the caller
 * passes bytes and the time, so a fuzzer can drive it from a buffer. */
#include "grpc_conn.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#define GRPC_PREFIX 5
#define METHOD_VERIFY "/sigil.v1.Verifier/Verify"
#define METHOD_STATUS "/sigil.v1.Verifier/Status"
/* Output is taken from nghttp2 in chunks up to this before a write. */
#define OUT_CHUNK 16384
#define PATH_MAX_KEPT 256

typedef enum stream_state {
	ST_RECEIVING,  /* request headers/data arriving */
	ST_DISPATCHED, /* whole request handed to the dispatch callback */
	ST_ANSWERED,   /* answer queued in nghttp2 */
} stream_state;

/* A request stream; its sigild_call is what the dispatcher sees. */
typedef struct sigild_call_priv {
	sigild_call call;
	sigild_conn *conn;
	int32_t id;
	struct sigild_call_priv *prev, *next;
	stream_state state;
	bool receiving;        /* no END_STREAM (nor reset) yet */
	bool gone;             /* nghttp2 closed the stream while dispatched */
	bool early;            /* answered before the request ended */
	size_t header_bytes;
	bool is_post, grpc_ct;
	char path[PATH_MAX_KEPT];
	uint8_t prefix[GRPC_PREFIX];
	size_t prefix_have;
	bool msg_seen;         /* one whole message received */
	uint8_t *buf;          /* the message being received */
	size_t want, have;
	size_t budgeted;       /* bytes counted in cfg->buffered */
	uint8_t *resp;         /* the framed answer being sent */
	size_t resp_len, resp_off;
	int64_t answered_ms;   /* when the answer was queued */
} stream;

struct sigild_conn {
	nghttp2_session *s;
	const sigild_conn_config *cfg;
	void *owner;
	stream *streams;       /* every stream known to nghttp2 */
	size_t nstreams;
	size_t inflight;       /* dispatched, not completed (incl. detached) */
	bool closed;           /* the owner let go; freed when inflight == 0 */
	bool got_frame;        /* the client preface and a frame arrived */
	int64_t now, accepted_ms, idle_since;
	uint8_t *out;
	size_t out_len, out_off, out_cap;
};

static nghttp2_session_callbacks *callbacks;
static pthread_once_t callbacks_once = PTHREAD_ONCE_INIT;

void sigild_conn_percent_encode(const char *in, char *out, size_t out_len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	if (out_len == 0)
		return;
	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		if (*p >= 0x20 && *p <= 0x7e && *p != '%') {
			if (o + 1 >= out_len)
				break;
			out[o++] = (char)*p;
		} else {
			if (o + 3 >= out_len)
				break;
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
}

int64_t sigild_conn_parse_timeout(const char *v, size_t len)
{
	int64_t n = 0;

	/* TimeoutValue: 1 to 8 ASCII digits; TimeoutUnit: H M S m u n. */
	if (len < 2 || len > 9)
		return -1;
	for (size_t i = 0; i + 1 < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		n = n * 10 + (v[i] - '0');
	}
	switch (v[len - 1]) {
	case 'H': return n * 3600000;
	case 'M': return n * 60000;
	case 'S': return n * 1000;
	case 'm': return n;
	case 'u': return (n + 999) / 1000;
	case 'n': return (n + 999999) / 1000000;
	default: return -1;
	}
}

static void release_buffer(stream *st)
{
	sigild_conn *c = st->conn;

	if (st->budgeted && c->cfg->buffered)
		*c->cfg->buffered -= st->budgeted;
	st->budgeted = 0;
	free(st->buf);
	st->buf = NULL;
	st->call.msg = NULL;
}

static void unlink_stream(stream *st)
{
	sigild_conn *c = st->conn;

	if (st->prev)
		st->prev->next = st->next;
	else if (c->streams == st)
		c->streams = st->next;
	if (st->next)
		st->next->prev = st->prev;
	st->prev = st->next = NULL;
	c->nstreams--;
	if (c->nstreams == 0)
		c->idle_since = c->now;
}

static void free_stream(stream *st)
{
	release_buffer(st);
	free(st->resp);
	free(st->call.payload);
	free(st);
}

static ssize_t read_answer(nghttp2_session *s, int32_t id, uint8_t *buf, size_t length,
	uint32_t *flags, nghttp2_data_source *source, void *user_data)
{
	stream *st = source->ptr;
	size_t left = st->resp_len - st->resp_off;
	size_t n = left < length ? left : length;

	(void)user_data;
	memcpy(buf, st->resp + st->resp_off, n);
	st->resp_off += n;
	if (st->resp_off == st->resp_len) {
		static const nghttp2_nv ok[] = {
			{ (uint8_t *)"grpc-status", (uint8_t *)"0", 11, 1, NGHTTP2_NV_FLAG_NONE },
		};
		*flags |= NGHTTP2_DATA_FLAG_EOF;
		/* The status follows as trailers (nghttp2 allows submitting them
		 * from here); without them END_STREAM would end the call. */
		if (nghttp2_submit_trailer(s, id, ok, 1) == 0)
			*flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
	}
	return (ssize_t)n;
}

#define NV(n, v, vlen) { (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, (vlen), \
	NGHTTP2_NV_FLAG_NONE }

/* Queue the call's answer on its stream (it is still open). */
static void submit_answer(stream *st, int http_status)
{
	sigild_conn *c = st->conn;
	sigild_call *call = &st->call;
	char status_text[4], code_text[12];
	char msg[SIGILD_CONN_MESSAGE_MAX * 3 + 1];

	st->state = ST_ANSWERED;
	st->answered_ms = c->now;
	if (call->code == SIGILD_GRPC_OK && http_status == 200) {
		nghttp2_nv hdrs[] = {
			NV(":status", "200", 3),
			NV("content-type", "application/grpc", 16),
		};
		nghttp2_data_provider prd;
		size_t n = call->payload_len;

		st->resp = malloc(GRPC_PREFIX + n);
		if (!st->resp) {
			call->code = SIGILD_GRPC_INTERNAL;
			snprintf(call->message, sizeof call->message, "out of memory");
		} else {
			st->resp[0] = 0;
			st->resp[1] = (uint8_t)(n >> 24);
			st->resp[2] = (uint8_t)(n >> 16);
			st->resp[3] = (uint8_t)(n >> 8);
			st->resp[4] = (uint8_t)n;
			if (n)
				memcpy(st->resp + GRPC_PREFIX, call->payload, n);
			st->resp_len = GRPC_PREFIX + n;
			free(call->payload);
			call->payload = NULL;
			prd.source.ptr = st;
			prd.read_callback = read_answer;
			(void)nghttp2_submit_response(c->s, st->id, hdrs, 2, &prd);
			return;
		}
	}
	/* Trailers-Only: the status in the only HEADERS frame. */
	free(call->payload);
	call->payload = NULL;
	if (call->code == SIGILD_GRPC_OK)
		call->code = SIGILD_GRPC_INTERNAL; /* never OK without a message */
	snprintf(status_text, sizeof status_text, "%d", http_status);
	snprintf(code_text, sizeof code_text, "%d", call->code);
	sigild_conn_percent_encode(call->message, msg, sizeof msg);
	nghttp2_nv hdrs[] = {
		NV(":status", status_text, strlen(status_text)),
		NV("content-type", "application/grpc", 16),
		NV("grpc-status", code_text, strlen(code_text)),
		NV("grpc-message", msg, strlen(msg)),
	};
	(void)nghttp2_submit_response(c->s, st->id, hdrs, msg[0] ? 4 : 3, NULL);
}

/* Answer now, before (or instead of) serving the request. */
__attribute__((format(printf, 4, 5)))
static void answer_early(stream *st, int http_status, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st->call.message, sizeof st->call.message, fmt, ap);
	va_end(ap);
	st->call.code = code;
	st->early = true;
	release_buffer(st);
	submit_answer(st, http_status);
}

static void end_receiving(stream *st)
{
	if (st->receiving)
		st->receiving = false;
}

/* The request is whole: check it and hand it over. */
static void request_complete(stream *st)
{
	sigild_conn *c = st->conn;

	end_receiving(st);
	if (st->state != ST_RECEIVING || st->early)
		return;
	if (st->prefix_have != 0 || (!st->msg_seen && st->want)) {
		answer_early(st, 200, SIGILD_GRPC_INTERNAL,
			"request message truncated (%zu of %zu bytes)", st->have, st->want);
		return;
	}
	if (!st->msg_seen) {
		answer_early(st, 200, SIGILD_GRPC_INVALID_ARGUMENT, "request message missing");
		return;
	}
	st->call.msg = st->buf ? st->buf : (const uint8_t *)"";
	st->call.msg_len = st->want;
	st->state = ST_DISPATCHED;
	c->inflight++;
	c->cfg->dispatch(c->cfg->ctx, &st->call);
}

/* The request headers are whole: refuse what cannot be served. */
static void headers_complete(stream *st)
{
	if (!st->is_post) {
		answer_early(st, 405, SIGILD_GRPC_UNIMPLEMENTED, "gRPC requests are POST");
		return;
	}
	if (!st->grpc_ct) {
		/* PROTOCOL-HTTP2.md: not application/grpc -> HTTP 415 */
		answer_early(st, 415, SIGILD_GRPC_INTERNAL, "content-type is not application/grpc");
		return;
	}
	if (strcmp(st->path, METHOD_VERIFY) == 0) {
		st->call.method = SIGILD_METHOD_VERIFY;
		st->call.method_name = METHOD_VERIFY;
	} else if (strcmp(st->path, METHOD_STATUS) == 0) {
		st->call.method = SIGILD_METHOD_STATUS;
		st->call.method_name = METHOD_STATUS;
	} else {
		st->conn->cfg->log(SIGILD_LOG_INFO, "call to unknown method %.200s", st->path);
		answer_early(st, 200, SIGILD_GRPC_UNIMPLEMENTED, "unknown method %.200s", st->path);
	}
}

static int on_begin_headers(nghttp2_session *s, const nghttp2_frame *frame, void *user_data)
{
	sigild_conn *c = user_data;
	stream *st;

	if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	st = calloc(1, sizeof(*st));
	if (!st)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	st->conn = c;
	st->id = frame->hd.stream_id;
	st->state = ST_RECEIVING;
	st->receiving = true;
	st->call.priv = st;
	st->call.timeout_ms = INT64_MAX;
	st->call.received_ms = c->now;
	if (nghttp2_session_set_stream_user_data(s, st->id, st) != 0) {
		free(st);
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	}
	st->next = c->streams;
	if (c->streams)
		c->streams->prev = st;
	c->streams = st;
	c->nstreams++;
	return 0;
}

static bool name_is(const uint8_t *name, size_t len, const char *want)
{
	return len == strlen(want) && memcmp(name, want, len) == 0;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *frame, const uint8_t *name,
	size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *user_data)
{
	stream *st = nghttp2_session_get_stream_user_data(s, frame->hd.stream_id);

	(void)flags;
	(void)user_data;
	if (!st)
		return 0;
	/* RFC 9113 §6.5.2 counts 32 bytes of overhead per field. */
	st->header_bytes += namelen + valuelen + 32;
	if (st->header_bytes > SIGILD_CONN_MAX_HEADER_LIST)
		return NGHTTP2_ERR_CALLBACK_FAILURE; /* the connection goes */
	if (frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0; /* request trailers: gRPC defines none */
	if (name_is(name, namelen, ":method")) {
		st->is_post = valuelen == 4 && memcmp(value, "POST", 4) == 0;
	} else if (name_is(name, namelen, ":path")) {
		size_t n = valuelen < sizeof st->path - 1 ? valuelen : sizeof st->path - 1;
		memcpy(st->path, value, n);
		st->path[n] = '\0';
	} else if (name_is(name, namelen, "content-type")) {
		/* "application/grpc" [("+proto" / "+json" / {custom}) / ";" ...] */
		st->grpc_ct = valuelen >= 16 && memcmp(value, "application/grpc", 16) == 0 &&
			(valuelen == 16 || value[16] == '+' || value[16] == ';');
	} else if (name_is(name, namelen, "grpc-timeout")) {
		int64_t ms = sigild_conn_parse_timeout((const char *)value, valuelen);
		/* A malformed timeout is ignored: the configured bound applies. */
		if (ms >= 0)
			st->call.timeout_ms = ms;
	}
	return 0;
}

static void data_bytes(stream *st, const uint8_t *data, size_t len)
{
	sigild_conn *c = st->conn;
	const sigild_conn_config *cfg = c->cfg;

	while (len > 0 && !st->early) {
		if (st->prefix_have < GRPC_PREFIX) {
			size_t n = GRPC_PREFIX - st->prefix_have;
			if (n > len)
				n = len;
			memcpy(st->prefix + st->prefix_have, data, n);
			st->prefix_have += n;
			data += n;
			len -= n;
			if (st->prefix_have < GRPC_PREFIX)
				return;
			if (st->msg_seen) {
				answer_early(st, 200, SIGILD_GRPC_INVALID_ARGUMENT,
					"more than one request message in a unary call");
				return;
			}
			if (st->prefix[0] == 1) {
				/* Only identity is implemented (we never advertise
				 * grpc-accept-encoding): a compressed message cannot be read. */
				answer_early(st, 200, SIGILD_GRPC_UNIMPLEMENTED,
					"compressed request messages are not supported");
				return;
			}
			if (st->prefix[0] != 0) {
				answer_early(st, 200, SIGILD_GRPC_INTERNAL,
					"request message flags 0x%02x are not defined", st->prefix[0]);
				return;
			}
			st->want = (size_t)st->prefix[1] << 24 | (size_t)st->prefix[2] << 16 |
				(size_t)st->prefix[3] << 8 | st->prefix[4];
			if (st->want > cfg->max_message) {
				answer_early(st, 200, SIGILD_GRPC_RESOURCE_EXHAUSTED,
					"request message larger than %zu bytes (%zu)", cfg->max_message,
					st->want);
				return;
			}
			if (cfg->buffered && *cfg->buffered + st->want > cfg->max_buffered) {
				answer_early(st, 200, SIGILD_GRPC_RESOURCE_EXHAUSTED,
					"too many request bytes buffered; try again");
				return;
			}
			st->have = 0;
			if (st->want) {
				st->buf = malloc(st->want);
				if (!st->buf) {
					answer_early(st, 200, SIGILD_GRPC_RESOURCE_EXHAUSTED, "out of memory");
					return;
				}
				st->budgeted = st->want;
				if (cfg->buffered)
					*cfg->buffered += st->want;
			}
		}
		size_t n = st->want - st->have;
		if (n > len)
			n = len;
		if (n) {
			memcpy(st->buf + st->have, data, n);
			st->have += n;
			data += n;
			len -= n;
		}
		if (st->have == st->want) {
			st->msg_seen = true;
			st->prefix_have = 0;
		}
	}
}

static int on_data_chunk(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data,
	size_t len, void *user_data)
{
	stream *st = nghttp2_session_get_stream_user_data(s, id);

	(void)flags;
	(void)user_data;
	if (st && st->state == ST_RECEIVING && !st->early)
		data_bytes(st, data, len);
	return 0;
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *frame, void *user_data)
{
	sigild_conn *c = user_data;
	stream *st;

	c->got_frame = true;
	if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)
		return 0;
	st = nghttp2_session_get_stream_user_data(s, frame->hd.stream_id);
	if (!st)
		return 0;
	if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST)
		headers_complete(st);
	if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)
		request_complete(st);
	return 0;
}

/* After an answer's last HEADERS, a client still sending is told to stop
 * (RFC 9113 §8.1: a complete response, then RST_STREAM NO_ERROR). */
static int on_frame_send(nghttp2_session *s, const nghttp2_frame *frame, void *user_data)
{
	(void)user_data;
	if (frame->hd.type == NGHTTP2_HEADERS && (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) &&
	    nghttp2_session_get_stream_remote_close(s, frame->hd.stream_id) == 0)
		(void)nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, frame->hd.stream_id,
			NGHTTP2_NO_ERROR);
	return 0;
}

static int on_stream_close(nghttp2_session *s, int32_t id, uint32_t error_code, void *user_data)
{
	stream *st = nghttp2_session_get_stream_user_data(s, id);

	(void)error_code;
	(void)user_data;
	if (!st)
		return 0;
	end_receiving(st);
	unlink_stream(st);
	if (st->state == ST_DISPATCHED)
		st->gone = true; /* freed when the call comes back */
	else
		free_stream(st);
	return 0;
}

static void make_callbacks(void)
{
	if (nghttp2_session_callbacks_new(&callbacks) != 0) {
		callbacks = NULL;
		return;
	}
	nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(callbacks, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, on_data_chunk);
	nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, on_frame_recv);
	nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, on_frame_send);
	nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, on_stream_close);
}

sigild_conn *sigild_conn_new(const sigild_conn_config *cfg, void *owner, int64_t now_ms)
{
	sigild_conn *c;
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, SIGILD_CONN_MAX_STREAMS },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, SIGILD_CONN_MAX_HEADER_LIST },
	};

	(void)pthread_once(&callbacks_once, make_callbacks);
	if (!callbacks)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->cfg = cfg;
	c->owner = owner;
	c->now = c->accepted_ms = c->idle_since = now_ms;
	if (nghttp2_session_server_new(&c->s, callbacks, c) != 0) {
		free(c);
		return NULL;
	}
	if (nghttp2_submit_settings(c->s, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0]) != 0) {
		nghttp2_session_del(c->s);
		free(c);
		return NULL;
	}
	return c;
}

int sigild_conn_recv(sigild_conn *c, const uint8_t *buf, size_t len, int64_t now_ms)
{
	ssize_t rv;

	if (c->closed || !c->s)
		return -1;
	c->now = now_ms;
	rv = nghttp2_session_mem_recv(c->s, buf, len);
	if (rv < 0) {
		c->cfg->log(SIGILD_LOG_DEBUG, "closing a client connection: %s",
			nghttp2_strerror((int)rv));
		return -1;
	}
	return 0;
}

int sigild_conn_output(sigild_conn *c, const uint8_t **out, size_t *len, int64_t now_ms)
{
	*out = NULL;
	*len = 0;
	if (c->closed || !c->s)
		return -1;
	c->now = now_ms;
	if (c->out_off == c->out_len) {
		c->out_off = c->out_len = 0;
		while (c->out_len < OUT_CHUNK) {
			const uint8_t *p;
			ssize_t n = nghttp2_session_mem_send(c->s, &p);
			if (n < 0)
				return -1;
			if (n == 0)
				break;
			if (c->out_len + (size_t)n > c->out_cap) {
				size_t cap = c->out_cap ? c->out_cap : 4096;
				uint8_t *nb;
				while (cap < c->out_len + (size_t)n)
					cap *= 2;
				nb = realloc(c->out, cap);
				if (!nb)
					return -1;
				c->out = nb;
				c->out_cap = cap;
			}
			memcpy(c->out + c->out_len, p, (size_t)n);
			c->out_len += (size_t)n;
		}
	}
	*out = c->out + c->out_off;
	*len = c->out_len - c->out_off;
	return 0;
}

void sigild_conn_consumed(sigild_conn *c, size_t n)
{
	if (n > c->out_len - c->out_off)
		n = c->out_len - c->out_off;
	c->out_off += n;
}

bool sigild_conn_done(sigild_conn *c)
{
	return c->closed || !c->s ||
		(c->out_off == c->out_len && !nghttp2_session_want_read(c->s) &&
		 !nghttp2_session_want_write(c->s));
}

int64_t sigild_conn_deadline(sigild_conn *c)
{
	int64_t d = INT64_MAX;

	if (c->closed)
		return INT64_MAX;
	if (!c->got_frame)
		return c->accepted_ms + SIGILD_CONN_READ_TIMEOUT_MS;
	for (stream *st = c->streams; st; st = st->next) {
		if (st->receiving && st->call.received_ms + SIGILD_CONN_READ_TIMEOUT_MS < d)
			d = st->call.received_ms + SIGILD_CONN_READ_TIMEOUT_MS;
		/* an answer the client does not take (no WINDOW_UPDATE) */
		if (st->state == ST_ANSWERED && st->answered_ms + SIGILD_CONN_READ_TIMEOUT_MS < d)
			d = st->answered_ms + SIGILD_CONN_READ_TIMEOUT_MS;
	}
	if (c->nstreams == 0)
		d = c->idle_since + SIGILD_CONN_IDLE_TIMEOUT_MS;
	return d;
}

size_t sigild_conn_inflight(sigild_conn *c)
{
	size_t n = 0;

	for (stream *st = c->streams; st; st = st->next)
		if (st->state == ST_DISPATCHED)
			n++;
	return n;
}

size_t sigild_conn_streams(sigild_conn *c)
{
	return c->nstreams;
}

void sigild_conn_goaway(sigild_conn *c)
{
	if (c->closed || !c->s)
		return;
	(void)nghttp2_submit_goaway(c->s, NGHTTP2_FLAG_NONE,
		nghttp2_session_get_last_proc_stream_id(c->s), NGHTTP2_NO_ERROR, NULL, 0);
}

void sigild_conn_cancel(sigild_conn *c)
{
	if (c->closed || !c->s)
		return;
	for (stream *st = c->streams; st; st = st->next)
		(void)nghttp2_submit_rst_stream(c->s, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_CANCEL);
	(void)nghttp2_submit_goaway(c->s, NGHTTP2_FLAG_NONE,
		nghttp2_session_get_last_proc_stream_id(c->s), NGHTTP2_NO_ERROR, NULL, 0);
}

static void conn_free(sigild_conn *c)
{
	free(c->out);
	free(c);
}

void sigild_conn_close(sigild_conn *c)
{
	stream *st, *next;

	if (!c)
		return;
	/* Detach every stream first: nghttp2_session_del does not call
	 * on_stream_close. Dispatched ones wait for their completion. */
	for (st = c->streams; st; st = next) {
		next = st->next;
		st->prev = st->next = NULL;
		if (st->state == ST_DISPATCHED)
			st->gone = true;
		else
			free_stream(st);
	}
	c->streams = NULL;
	c->nstreams = 0;
	nghttp2_session_del(c->s);
	c->s = NULL;
	c->closed = true;
	if (c->inflight == 0)
		conn_free(c);
}

void *sigild_conn_complete(sigild_call *call, int64_t now_ms)
{
	stream *st = call->priv;
	sigild_conn *c = st->conn;

	c->inflight--;
	if (!c->closed)
		c->now = now_ms;
	if (st->gone || c->closed) {
		free_stream(st);
		if (c->closed && c->inflight == 0)
			conn_free(c);
		return NULL;
	}
	release_buffer(st);
	submit_answer(st, 200);
	return c->owner;
}
