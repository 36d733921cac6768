/* grpc_client.c - a minimal gRPC unary client over a unix socket.
 *
 * Why not libgrpc: containerd execs sigil-verifier on every pull
 * (containerd.md §1.11). Measured on Debian 12 (issue 4): merely loading the
 * shared libgrpc (55 shared libraries) costs ~5 ms and a unary call 7 ms /
 * 12.7 MiB, against ~1 ms for /bin/true. One unary call needs little of
 * gRPC: HTTP/2 with prior knowledge (h2c) on the socket, one POST stream
 * with the headers of PROTOCOL-HTTP2.md, the request as one
 * length-prefixed message, and the answer's DATA and trailers. libnghttp2
 * does the HTTP/2 framing, HPACK and flow control.
 *
 * Every byte from the server is bounded (max_response), every wait is
 * bounded by the deadline, and anything unexpected is an error: the caller
 * fails closed. */
#include "grpc_client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#include "forwarder_args.h"

/* gRPC length-prefixed message: compressed flag + 4-byte big-endian length. */
#define GRPC_PREFIX 5

typedef struct call_state {
	const sigil_grpc_call *call;
	size_t sent;              /* bytes of the framed request handed to nghttp2 */
	uint8_t *framed;          /* prefix + request */
	size_t framed_len;
	int32_t stream_id;
	int closed;               /* stream closed (answered or reset) */
	uint32_t close_error;     /* RST_STREAM code */
	int http_status;          /* :status, 0 if absent */
	int grpc_content_type;    /* content-type application/grpc[+...;...] seen */
	int has_grpc_status;
	int grpc_status;
	int over_limit;           /* DATA exceeded max_response */
	int bad_header;           /* malformed grpc-status */
	uint8_t *data;
	size_t data_len;
	size_t data_cap;
	char message[512];
} call_state;


const char *sigil_grpc_status_name(int status)
{
	static const char *const names[] = {
		"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
		"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
		"ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
		"UNAUTHENTICATED",
	};
	if (status < 0 || (size_t)status >= sizeof names / sizeof names[0])
		return "UNKNOWN_STATUS";
	return names[status];
}

static const char *connect_errno_text(int e)
{
	switch (e) {
	case ECONNREFUSED: return "connection refused";
	case ENOENT: return "no such socket";
	case EACCES: return "permission denied";
	case EAGAIN: return "listen backlog full";
	default: return strerror(e);
	}
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Connects, retrying the errors a restarting sigild produces (socket file
 * absent, or present with nobody listening yet) with short sleeps, so a
 * restart does not fail pulls (issue 4: "about 2 s"). */
static int connect_retry(const sigil_grpc_call *call, char *reason, size_t reason_len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t plen = strlen(call->socket_path);
	if (plen == 0 || plen >= sizeof sa.sun_path)
		return sigil_forwarder_fail(reason, reason_len, "sigild socket path \"%.120s\" is not usable",
			call->socket_path);
	memcpy(sa.sun_path, call->socket_path, plen);
	int64_t pause = 10;
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			return sigil_forwarder_fail(reason, reason_len, "cannot create a socket: %s", strerror(errno));
		if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
			return fd;
		int e = errno;
		close(fd);
		int64_t now = sigil_forwarder_now_ms();
		int64_t until = call->connect_retry_until_ms < call->deadline_ms
			? call->connect_retry_until_ms : call->deadline_ms;
		int retryable = e == ECONNREFUSED || e == ENOENT || e == EAGAIN || e == EINTR;
		if (!retryable || now >= until)
			return sigil_forwarder_fail(reason, reason_len,
				"sigild is not reachable at %s (%s) \xe2\x80\x94 is sigild running?",
				call->socket_path, connect_errno_text(e));
		int64_t wait = until - now < pause ? until - now : pause;
		sleep_ms(wait);
		if (pause < 100)
			pause *= 2;
	}
}

static ssize_t read_request(nghttp2_session *s, int32_t stream_id, uint8_t *buf, size_t length,
	uint32_t *data_flags, nghttp2_data_source *source, void *user_data)
{
	call_state *st = user_data;
	size_t left = st->framed_len - st->sent;
	size_t n = left < length ? left : length;
	memcpy(buf, st->framed + st->sent, n);
	st->sent += n;
	if (st->sent == st->framed_len)
		*data_flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* grpc-message is percent-encoded (PROTOCOL-HTTP2.md "Responses"). */
static void decode_message(char *dst, size_t cap, const uint8_t *v, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len && n + 1 < cap; i++) {
		uint8_t c = v[i];
		if (c == '%' && i + 2 < len && hexval(v[i + 1]) >= 0 && hexval(v[i + 2]) >= 0) {
			c = (uint8_t)(hexval(v[i + 1]) << 4 | hexval(v[i + 2]));
			i += 2;
		}
		dst[n++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	dst[n] = '\0';
}

static int header_is(const uint8_t *name, size_t namelen, const char *want)
{
	return namelen == strlen(want) && memcmp(name, want, namelen) == 0;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *frame, const uint8_t *name,
	size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *user_data)
{
	call_state *st = user_data;
	if (frame->hd.type != NGHTTP2_HEADERS || frame->hd.stream_id != st->stream_id)
		return 0;
	if (header_is(name, namelen, ":status")) {
		int v = 0;
		for (size_t i = 0; i < valuelen && i < 3; i++)
			v = v * 10 + (value[i] >= '0' && value[i] <= '9' ? value[i] - '0' : 0);
		st->http_status = v;
	} else if (header_is(name, namelen, "content-type")) {
		/* "application/grpc" optionally followed by "+proto" / ";..." */
		static const char ct[] = "application/grpc";
		size_t l = sizeof ct - 1;
		st->grpc_content_type = valuelen >= l && memcmp(value, ct, l) == 0 &&
			(valuelen == l || value[l] == '+' || value[l] == ';');
	} else if (header_is(name, namelen, "grpc-status")) {
		int v = 0;
		if (valuelen == 0 || valuelen > 4)
			st->bad_header = 1;
		for (size_t i = 0; i < valuelen; i++) {
			if (value[i] < '0' || value[i] > '9') {
				st->bad_header = 1;
				break;
			}
			v = v * 10 + (value[i] - '0');
		}
		st->has_grpc_status = 1;
		st->grpc_status = v;
	} else if (header_is(name, namelen, "grpc-message")) {
		decode_message(st->message, sizeof st->message, value, valuelen);
	}
	return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t stream_id, const uint8_t *data,
	size_t len, void *user_data)
{
	call_state *st = user_data;
	if (stream_id != st->stream_id || st->over_limit)
		return 0;
	size_t limit = st->call->max_response + GRPC_PREFIX;
	if (len > limit - st->data_len) {
		st->over_limit = 1;
		nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
		return 0;
	}
	if (st->data_len + len > st->data_cap) {
		size_t cap = st->data_cap ? st->data_cap : 4096;
		while (cap < st->data_len + len)
			cap *= 2;
		if (cap > limit)
			cap = limit;
		uint8_t *nb = realloc(st->data, cap);
		if (!nb)
			return NGHTTP2_ERR_CALLBACK_FAILURE;
		st->data = nb;
		st->data_cap = cap;
	}
	memcpy(st->data + st->data_len, data, len);
	st->data_len += len;
	return 0;
}

static int on_stream_close(nghttp2_session *s, int32_t stream_id, uint32_t error_code,
	void *user_data)
{
	call_state *st = user_data;
	if (stream_id == st->stream_id) {
		st->closed = 1;
		st->close_error = error_code;
	}
	return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n, int64_t deadline_ms)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN)
			return -1;
		int64_t left = deadline_ms - sigil_forwarder_now_ms();
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			return -1;
	}
	return 0;
}

static int exchange(int fd, call_state *st, char *reason, size_t reason_len)
{
	const sigil_grpc_call *call = st->call;
	nghttp2_session_callbacks *cbs;
	if (nghttp2_session_callbacks_new(&cbs) != 0)
		return sigil_forwarder_fail(reason, reason_len, "out of memory");
	nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
	nghttp2_session *s;
	int rv = nghttp2_session_client_new(&s, cbs, st);
	nghttp2_session_callbacks_del(cbs);
	if (rv != 0)
		return sigil_forwarder_fail(reason, reason_len, "out of memory");

	int ret = -1;
	nghttp2_settings_entry settings[] = { { NGHTTP2_SETTINGS_ENABLE_PUSH, 0 } };
	rv = nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, settings, 1);
	/* grpc-timeout: "TimeoutValue is ... at most 8 digits" with unit m. */
	char timeout[24];
	int64_t left = call->deadline_ms - sigil_forwarder_now_ms();
	if (left < 1)
		left = 1;
	snprintf(timeout, sizeof timeout, "%lldm", (long long)left);
#define NV(n, v) { (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE }
	nghttp2_nv hdrs[] = {
		NV(":method", "POST"),
		NV(":scheme", "http"),
		NV(":path", call->method),
		NV(":authority", "localhost"),
		NV("content-type", "application/grpc"),
		NV("te", "trailers"),
		NV("grpc-timeout", timeout),
		NV("user-agent", "sigil-verifier"),
	};
#undef NV
	nghttp2_data_provider prd = { .read_callback = read_request };
	if (rv == 0) {
		st->stream_id = nghttp2_submit_request(s, NULL, hdrs, sizeof hdrs / sizeof hdrs[0], &prd, st);
		if (st->stream_id < 0)
			rv = st->stream_id;
	}
	if (rv != 0) {
		sigil_forwarder_fail(reason, reason_len, "cannot build the request: %s", nghttp2_strerror(rv));
		goto out;
	}

	uint8_t buf[16384];
	for (;;) {
		/* Once the stream is closed the answer is complete: no need to
		 * acknowledge the server's SETTINGS or PING. */
		if (st->closed)
			break;
		/* Coalesce nghttp2's frames (preface, SETTINGS, HEADERS, DATA)
		 * into as few writes as possible: each write wakes sigild. */
		const uint8_t *chunk;
		ssize_t n;
		size_t queued = 0;
		int werr = 0;
		while ((n = nghttp2_session_mem_send(s, &chunk)) > 0) {
			if ((size_t)n > sizeof buf - queued) {
				werr = write_all(fd, buf, queued, call->deadline_ms);
				queued = 0;
				if (werr)
					break;
			}
			if ((size_t)n > sizeof buf) {
				werr = write_all(fd, chunk, (size_t)n, call->deadline_ms);
				if (werr)
					break;
				continue;
			}
			memcpy(buf + queued, chunk, (size_t)n);
			queued += (size_t)n;
		}
		if (!werr && queued)
			werr = write_all(fd, buf, queued, call->deadline_ms);
		if (werr) {
			if (errno == ETIMEDOUT)
				goto timeout;
			sigil_forwarder_fail(reason, reason_len, "sigild at %s dropped the connection: %s",
				call->socket_path, strerror(errno));
			goto out;
		}
		if (n < 0) {
			sigil_forwarder_fail(reason, reason_len, "HTTP/2 error talking to sigild at %s: %s",
				call->socket_path, nghttp2_strerror((int)n));
			goto out;
		}
		if (!nghttp2_session_want_read(s) && !nghttp2_session_want_write(s)) {
			sigil_forwarder_fail(reason, reason_len, "sigild at %s ended the HTTP/2 session without answering",
				call->socket_path);
			goto out;
		}
		left = call->deadline_ms - sigil_forwarder_now_ms();
		if (left <= 0)
			goto timeout;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int pr = poll(&pfd, 1, (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0) {
			sigil_forwarder_fail(reason, reason_len, "cannot wait for sigild: %s", strerror(errno));
			goto out;
		}
		if (pr == 0)
			goto timeout;
		ssize_t r = read(fd, buf, sizeof buf);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0) {
			sigil_forwarder_fail(reason, reason_len, "sigild at %s closed the connection without answering%s%s",
				call->socket_path, r < 0 ? ": " : "", r < 0 ? strerror(errno) : "");
			goto out;
		}
		ssize_t used = nghttp2_session_mem_recv(s, buf, (size_t)r);
		if (used < 0) {
			sigil_forwarder_fail(reason, reason_len, "sigild at %s sent invalid HTTP/2: %s",
				call->socket_path, nghttp2_strerror((int)used));
			goto out;
		}
	}
	ret = 0;
	goto out;
timeout:
	sigil_forwarder_fail(reason, reason_len, "sigild at %s did not answer within %lld ms", call->socket_path,
		(long long)call->timeout_ms);
out:
	nghttp2_session_del(s);
	return ret;
}

int sigil_grpc_unary(const sigil_grpc_call *call, sigil_grpc_result *res,
	char *reason, size_t reason_len)
{
	if (call->request_len > UINT32_MAX - GRPC_PREFIX)
		return sigil_forwarder_fail(reason, reason_len, "request too large");
	res->unreachable = 0;
	int fd = connect_retry(call, reason, reason_len);
	if (fd < 0) {
		res->unreachable = 1;
		return -1;
	}
	call_state st = { .call = call, .framed_len = call->request_len + GRPC_PREFIX };
	st.framed = malloc(st.framed_len);
	if (!st.framed) {
		close(fd);
		return sigil_forwarder_fail(reason, reason_len, "out of memory");
	}
	/* uncompressed; big-endian length (PROTOCOL-HTTP2.md Length-Prefixed-Message) */
	uint32_t l = (uint32_t)call->request_len;
	st.framed[0] = 0;
	st.framed[1] = (uint8_t)(l >> 24);
	st.framed[2] = (uint8_t)(l >> 16);
	st.framed[3] = (uint8_t)(l >> 8);
	st.framed[4] = (uint8_t)l;
	if (call->request_len)
		memcpy(st.framed + GRPC_PREFIX, call->request, call->request_len);

	int ret = exchange(fd, &st, reason, reason_len);
	close(fd);
	free(st.framed);
	if (ret != 0)
		goto bad;
	if (st.over_limit) {
		ret = sigil_forwarder_fail(reason, reason_len, "sigild at %s sent a response larger than %zu bytes",
			call->socket_path, call->max_response);
		goto bad;
	}
	if (!st.has_grpc_status) {
		if (st.http_status && st.http_status != 200)
			ret = sigil_forwarder_fail(reason, reason_len, "sigild at %s answered HTTP %d, not gRPC",
				call->socket_path, st.http_status);
		else if (st.close_error)
			ret = sigil_forwarder_fail(reason, reason_len, "sigild at %s reset the call (HTTP/2 error %u)",
				call->socket_path, st.close_error);
		else
			ret = sigil_forwarder_fail(reason, reason_len, "sigild at %s answered without a grpc-status",
				call->socket_path);
		goto bad;
	}
	if (st.bad_header || st.http_status != 200) {
		ret = sigil_forwarder_fail(reason, reason_len, "sigild at %s sent a malformed gRPC answer (HTTP %d)",
			call->socket_path, st.http_status);
		goto bad;
	}
	if (st.grpc_status != 0) {
		/* a gRPC error: a real answer, the caller decides */
		res->status = st.grpc_status;
		memcpy(res->message, st.message, sizeof res->message);
		res->response = NULL;
		res->response_len = 0;
		free(st.data);
		return 0;
	}
	/* OK: exactly one uncompressed message (we sent no grpc-accept-encoding). */
	if (!st.grpc_content_type) {
		ret = sigil_forwarder_fail(reason, reason_len, "sigild at %s answered without content-type application/grpc",
			call->socket_path);
		goto bad;
	}
	if (st.data_len < GRPC_PREFIX) {
		ret = sigil_forwarder_fail(reason, reason_len, "sigild at %s answered OK without a response message",
			call->socket_path);
		goto bad;
	}
	uint32_t mlen = (uint32_t)st.data[1] << 24 | (uint32_t)st.data[2] << 16 |
		(uint32_t)st.data[3] << 8 | st.data[4];
	if (st.data[0] != 0 || (size_t)mlen != st.data_len - GRPC_PREFIX) {
		ret = sigil_forwarder_fail(reason, reason_len, "sigild at %s sent a malformed response message",
			call->socket_path);
		goto bad;
	}
	memmove(st.data, st.data + GRPC_PREFIX, mlen);
	res->status = 0;
	memcpy(res->message, st.message, sizeof res->message);
	res->response = st.data;
	res->response_len = mlen;
	return 0;
bad:
	free(st.data);
	return -1;
}
