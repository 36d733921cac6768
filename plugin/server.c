/* server.c - sigild's gRPC server on gRPC C core.
 *
 * Threading: a fixed pool of workers, each with its own completion queue
 * registered with the server. A worker asks for one call
 * (grpc_server_request_call), serves it synchronously with two batches
 * (initial metadata + request message; response + status + close), then
 * asks for the next. Calls that arrive while every worker is busy wait in
 * the server's own pending-call queue. The service layer is thread-safe,
 * so a slow Verify (a registry round trip) holds only its own worker.
 *
 * Shutdown: grpc_server_shutdown_and_notify stops new calls and fails the
 * workers' outstanding requests (success == 0), which ends their loops;
 * in-flight calls finish within the grace period or are cancelled. */
#include "server.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/status.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <sigil/registry.h>

#define METHOD_VERIFY "/sigil.v1.Verifier/Verify"
#define METHOD_STATUS "/sigil.v1.Verifier/Status"

/* Completion-queue tags: a worker has at most one operation outstanding,
 * so fixed tags are enough to tell them apart. */
static char tag_new_call, tag_batch, tag_shutdown;

typedef struct worker {
	pthread_t thread;
	grpc_completion_queue *cq;
	struct sigild_server *srv;
	size_t index;
} worker;

struct sigild_server {
	grpc_server *server;
	grpc_completion_queue *shutdown_cq;
	worker *workers;
	size_t nworkers;
	size_t started;           /* threads actually running */
	sigild_service *svc;
	sigild_log_fn log;
	bool debug;
	int64_t verify_timeout_ms;
	char *socket_path;
	atomic_size_t in_flight;
};

int64_t sigild_server_deadline_ms(int64_t now_ms, int64_t call_remaining_ms,
	int64_t verify_timeout_ms)
{
	int64_t budget = verify_timeout_ms > 0 ? verify_timeout_ms : 7500;

	if (call_remaining_ms != INT64_MAX) {
		/* Keep a margin to send the deny "not verified in time" before
		 * the client gives up; with a very short deadline, half of it. */
		int64_t usable = call_remaining_ms > 2 * SIGILD_DEADLINE_MARGIN_MS
			? call_remaining_ms - SIGILD_DEADLINE_MARGIN_MS
			: call_remaining_ms / 2;
		if (usable < budget)
			budget = usable;
	}
	if (budget < 0)
		budget = 0;
	return now_ms + budget;
}

/* Milliseconds left until a call's deadline, INT64_MAX for none. gRPC's
 * clocks do not share an epoch with CLOCK_MONOTONIC (its monotonic clock
 * is offset), so only the difference to its own "now" is meaningful. */
static int64_t call_remaining_ms(gpr_timespec deadline)
{
	gpr_timespec left;

	if (deadline.tv_sec == INT64_MAX ||
	    gpr_time_cmp(deadline, gpr_inf_future(deadline.clock_type)) == 0)
		return INT64_MAX;
	left = gpr_time_sub(deadline, gpr_now(deadline.clock_type));
	if (left.tv_sec < 0)
		return 0;
	if (left.tv_sec > INT64_MAX / 1000 - 1)
		return INT64_MAX;
	return left.tv_sec * 1000 + left.tv_nsec / 1000000;
}

/* Wait for the only operation outstanding on a worker's queue. */
static bool wait_for(grpc_completion_queue *cq, void *tag)
{
	for (;;) {
		grpc_event ev = grpc_completion_queue_next(cq,
			gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
		if (ev.type == GRPC_QUEUE_SHUTDOWN)
			return false;
		if (ev.type == GRPC_OP_COMPLETE && ev.tag == tag)
			return ev.success != 0;
	}
}

/* The request message, bounded. false with a status message otherwise. */
static bool read_message(grpc_byte_buffer *bb, grpc_slice *out, char *why, size_t why_len)
{
	grpc_byte_buffer_reader reader;
	grpc_slice s;

	if (!bb) {
		snprintf(why, why_len, "request message missing");
		return false;
	}
	if (grpc_byte_buffer_length(bb) > SIGILD_MAX_REQUEST_BYTES) {
		snprintf(why, why_len, "request message larger than %zu bytes",
			SIGILD_MAX_REQUEST_BYTES);
		return false;
	}
	if (!grpc_byte_buffer_reader_init(&reader, bb)) {
		snprintf(why, why_len, "request message cannot be decompressed");
		return false;
	}
	s = grpc_byte_buffer_reader_readall(&reader);
	grpc_byte_buffer_reader_destroy(&reader);
	if (GRPC_SLICE_LENGTH(s) > SIGILD_MAX_REQUEST_BYTES) {
		grpc_slice_unref(s);
		snprintf(why, why_len, "request message larger than %zu bytes",
			SIGILD_MAX_REQUEST_BYTES);
		return false;
	}
	*out = s;
	return true;
}

static grpc_byte_buffer *pack_message(const ProtobufCMessage *msg)
{
	size_t n = protobuf_c_message_get_packed_size(msg);
	grpc_slice s = grpc_slice_malloc(n);
	grpc_byte_buffer *bb;

	protobuf_c_message_pack(msg, GRPC_SLICE_START_PTR(s));
	bb = grpc_raw_byte_buffer_create(&s, 1);
	grpc_slice_unref(s);
	return bb;
}

static grpc_status_code status_for(sigil_category cat)
{
	switch (cat) {
	case SIGIL_ERR_USAGE:
	case SIGIL_ERR_MALFORMED:
	case SIGIL_ERR_LIMIT:
		return GRPC_STATUS_INVALID_ARGUMENT;
	default:
		return GRPC_STATUS_INTERNAL;
	}
}

typedef struct reply {
	grpc_status_code code;
	char message[SIGIL_ERROR_MESSAGE_MAX + 64];
	grpc_byte_buffer *payload; /* NULL unless code == OK */
} reply;

static void do_verify(worker *w, const grpc_call_details *details, const grpc_slice *msg,
	reply *r)
{
	sigild_server *srv = w->srv;
	Sigil__V1__VerifyRequest *req;
	Sigil__V1__VerifyResponse *resp = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	int64_t now = sigil_registry_now_ms();
	int64_t deadline = sigild_server_deadline_ms(now,
		call_remaining_ms(details->deadline), srv->verify_timeout_ms);

	req = sigil__v1__verify_request__unpack(NULL, GRPC_SLICE_LENGTH(*msg),
		GRPC_SLICE_START_PTR(*msg));
	if (!req) {
		r->code = GRPC_STATUS_INVALID_ARGUMENT;
		snprintf(r->message, sizeof(r->message),
			"malformed VerifyRequest: not a sigil.v1.VerifyRequest protobuf message");
		return;
	}
	if (sigild_service_verify(srv->svc, req, deadline, &resp, &err) != SIGIL_STATUS_OK) {
		r->code = status_for(err.category);
		snprintf(r->message, sizeof(r->message), "%s", err.message);
		srv->log(r->code == GRPC_STATUS_INTERNAL ? SIGILD_LOG_ERR : SIGILD_LOG_INFO,
			"Verify rejected (%s): %s", sigil_category_name(err.category), err.message);
	} else {
		r->code = GRPC_STATUS_OK;
		r->payload = pack_message(&resp->base);
		sigild_verify_response_free(resp);
	}
	sigil__v1__verify_request__free_unpacked(req, NULL);
}

static void do_status(worker *w, const grpc_slice *msg, reply *r)
{
	Sigil__V1__StatusRequest *req;
	Sigil__V1__StatusResponse *resp = NULL;
	sigil_error err = SIGIL_ERROR_INIT;

	req = sigil__v1__status_request__unpack(NULL, GRPC_SLICE_LENGTH(*msg),
		GRPC_SLICE_START_PTR(*msg));
	if (!req) {
		r->code = GRPC_STATUS_INVALID_ARGUMENT;
		snprintf(r->message, sizeof(r->message),
			"malformed StatusRequest: not a sigil.v1.StatusRequest protobuf message");
		return;
	}
	sigil__v1__status_request__free_unpacked(req, NULL);
	if (sigild_service_status(w->srv->svc, &resp, &err) != SIGIL_STATUS_OK) {
		r->code = status_for(err.category);
		snprintf(r->message, sizeof(r->message), "%s", err.message);
		w->srv->log(SIGILD_LOG_ERR, "Status failed (%s): %s",
			sigil_category_name(err.category), err.message);
		return;
	}
	r->code = GRPC_STATUS_OK;
	r->payload = pack_message(&resp->base);
	sigild_status_response_free(resp);
}

/* Send the reply: message (if any), status, and wait for the close. */
static void finish_call(worker *w, grpc_call *call, reply *r, bool send_initial_md)
{
	grpc_op ops[4];
	size_t n = 0;
	int cancelled = 0;
	grpc_slice details = grpc_slice_from_copied_string(r->message);
	grpc_call_error e;

	memset(ops, 0, sizeof(ops));
	if (send_initial_md) {
		ops[n].op = GRPC_OP_SEND_INITIAL_METADATA;
		ops[n].data.send_initial_metadata.count = 0;
		n++;
	}
	if (r->payload) {
		ops[n].op = GRPC_OP_SEND_MESSAGE;
		ops[n].data.send_message.send_message = r->payload;
		n++;
	}
	ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
	ops[n].data.send_status_from_server.trailing_metadata_count = 0;
	ops[n].data.send_status_from_server.status = r->code;
	ops[n].data.send_status_from_server.status_details = &details;
	n++;
	ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
	ops[n].data.recv_close_on_server.cancelled = &cancelled;
	n++;
	e = grpc_call_start_batch(call, ops, n, &tag_batch, NULL);
	if (e != GRPC_CALL_OK)
		w->srv->log(SIGILD_LOG_ERR, "worker %zu: starting the reply failed (%d)",
			w->index, (int)e);
	else if (!wait_for(w->cq, &tag_batch) || cancelled)
		w->srv->log(SIGILD_LOG_DEBUG, "worker %zu: call cancelled (client gone, or shutdown)",
			w->index);
	grpc_slice_unref(details);
	if (r->payload) {
		grpc_byte_buffer_destroy(r->payload);
		r->payload = NULL;
	}
}

static void handle_call(worker *w, grpc_call *call, const grpc_call_details *details)
{
	bool is_verify = grpc_slice_str_cmp(details->method, METHOD_VERIFY) == 0;
	bool is_status = grpc_slice_str_cmp(details->method, METHOD_STATUS) == 0;
	reply r;
	grpc_op ops[2];
	grpc_byte_buffer *payload = NULL;
	grpc_slice msg;
	grpc_call_error e;

	memset(&r, 0, sizeof(r));
	if (!is_verify && !is_status) {
		char *m = grpc_slice_to_c_string(details->method);
		r.code = GRPC_STATUS_UNIMPLEMENTED;
		snprintf(r.message, sizeof(r.message), "unknown method %.200s", m);
		w->srv->log(SIGILD_LOG_INFO, "call to unknown method %.200s", m);
		gpr_free(m);
		finish_call(w, call, &r, true);
		return;
	}

	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[0].data.send_initial_metadata.count = 0;
	ops[1].op = GRPC_OP_RECV_MESSAGE;
	ops[1].data.recv_message.recv_message = &payload;
	e = grpc_call_start_batch(call, ops, 2, &tag_batch, NULL);
	if (e != GRPC_CALL_OK) {
		w->srv->log(SIGILD_LOG_ERR, "worker %zu: reading the request failed (%d)",
			w->index, (int)e);
		return;
	}
	if (!wait_for(w->cq, &tag_batch)) {
		/* the client went away (or the server is being torn down) */
		if (payload)
			grpc_byte_buffer_destroy(payload);
		return;
	}
	if (!read_message(payload, &msg, r.message, sizeof(r.message))) {
		r.code = GRPC_STATUS_INVALID_ARGUMENT;
	} else {
		if (is_verify)
			do_verify(w, details, &msg, &r);
		else
			do_status(w, &msg, &r);
		grpc_slice_unref(msg);
	}
	if (payload)
		grpc_byte_buffer_destroy(payload);
	finish_call(w, call, &r, false);
}

static void *worker_main(void *arg)
{
	worker *w = arg;
	sigild_server *srv = w->srv;

	for (;;) {
		grpc_call *call = NULL;
		grpc_call_details details;
		grpc_metadata_array md;
		grpc_call_error e;
		bool ok;

		grpc_call_details_init(&details);
		grpc_metadata_array_init(&md);
		e = grpc_server_request_call(srv->server, &call, &details, &md, w->cq, w->cq,
			&tag_new_call);
		if (e != GRPC_CALL_OK) {
			srv->log(SIGILD_LOG_ERR, "worker %zu: grpc_server_request_call: %d",
				w->index, (int)e);
			grpc_call_details_destroy(&details);
			grpc_metadata_array_destroy(&md);
			break;
		}
		ok = wait_for(w->cq, &tag_new_call);
		if (ok && call) {
			int64_t t0 = sigil_registry_now_ms();
			atomic_fetch_add(&srv->in_flight, 1);
			handle_call(w, call, &details);
			atomic_fetch_sub(&srv->in_flight, 1);
			if (srv->debug) {
				char *m = grpc_slice_to_c_string(details.method);
				srv->log(SIGILD_LOG_DEBUG, "worker %zu: %.200s served in %lld ms",
					w->index, m, (long long)(sigil_registry_now_ms() - t0));
				gpr_free(m);
			}
		}
		if (call)
			grpc_call_unref(call);
		grpc_call_details_destroy(&details);
		grpc_metadata_array_destroy(&md);
		if (!ok)
			break; /* the server is shutting down */
	}
	return NULL;
}

/* mkdir -p for the socket's directory: missing components get 0755 (the
 * socket itself is 0600, the directory only needs to be traversable). */
static sigil_status make_parent_dirs(const char *path, sigil_error *err)
{
	char buf[sizeof(((struct sockaddr_un *)0)->sun_path)];
	size_t len = strlen(path);
	char *slash;

	if (len >= sizeof(buf)) {
		(void)sigil__err(err, SIGIL_ERR_LIMIT, "socket path %s is longer than %zu bytes", path,
			sizeof(buf) - 1);
		return SIGIL_STATUS_ERROR;
	}
	memcpy(buf, path, len + 1);
	slash = strrchr(buf, '/');
	if (!slash || slash == buf)
		return SIGIL_STATUS_OK;
	*slash = '\0';
	for (char *p = buf + 1; ; p++) {
		bool end = *p == '\0';
		if (*p == '/' || end) {
			*p = '\0';
			if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
				(void)sigil__err(err, SIGIL_ERR_IO, "creating the socket directory %s: %s",
					buf, strerror(errno));
				return SIGIL_STATUS_ERROR;
			}
			if (end)
				break;
			*p = '/';
		}
	}
	return SIGIL_STATUS_OK;
}

/* Another daemon on the socket must not be displaced (gRPC would unlink
 * the file and bind over it); a file nobody answers on is left over from
 * a crash and goes. Anything but a socket is not ours to delete. */
static sigil_status clear_stale_socket(const char *path, sigild_log_fn log, sigil_error *err)
{
	struct stat st;
	struct sockaddr_un sa;
	int fd, rc, saved;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return SIGIL_STATUS_OK;
		(void)sigil__err(err, SIGIL_ERR_IO, "socket %s: %s", path, strerror(errno));
		return SIGIL_STATUS_ERROR;
	}
	if (!S_ISSOCK(st.st_mode)) {
		(void)sigil__err(err, SIGIL_ERR_USAGE, "socket path %s exists and is not a socket", path);
		return SIGIL_STATUS_ERROR;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path)); /* length checked by the caller */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		(void)sigil__err(err, SIGIL_ERR_IO, "socket(): %s", strerror(errno));
		return SIGIL_STATUS_ERROR;
	}
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	saved = errno;
	close(fd);
	if (rc == 0) {
		(void)sigil__err(err, SIGIL_ERR_USAGE,
			"another process answers on %s (is sigild already running?)", path);
		return SIGIL_STATUS_ERROR;
	}
	if (saved != ECONNREFUSED) {
		(void)sigil__err(err, SIGIL_ERR_IO, "probing the existing socket %s: %s", path,
			strerror(saved));
		return SIGIL_STATUS_ERROR;
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		(void)sigil__err(err, SIGIL_ERR_IO, "removing the stale socket %s: %s", path,
			strerror(errno));
		return SIGIL_STATUS_ERROR;
	}
	log(SIGILD_LOG_INFO, "removed stale socket %s", path);
	return SIGIL_STATUS_OK;
}

static void destroy_queues(sigild_server *srv)
{
	for (size_t i = 0; i < srv->nworkers; i++) {
		grpc_completion_queue *cq = srv->workers[i].cq;
		if (!cq)
			continue;
		grpc_completion_queue_shutdown(cq);
		while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME),
			       NULL).type != GRPC_QUEUE_SHUTDOWN)
			;
		grpc_completion_queue_destroy(cq);
		srv->workers[i].cq = NULL;
	}
	if (srv->shutdown_cq) {
		grpc_completion_queue_shutdown(srv->shutdown_cq);
		while (grpc_completion_queue_next(srv->shutdown_cq,
			       gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type != GRPC_QUEUE_SHUTDOWN)
			;
		grpc_completion_queue_destroy(srv->shutdown_cq);
		srv->shutdown_cq = NULL;
	}
}

sigil_status sigild_server_start(sigild_server **out, sigild_service *svc,
	const sigild_server_options *opts, sigil_error *err)
{
	sigild_server *srv = NULL;
	grpc_arg args[1];
	grpc_channel_args chargs;
	grpc_server_credentials *creds;
	char *addr = NULL;
	size_t addr_len;
	mode_t old_umask;
	int port;

	if (!out || !svc || !opts || !opts->socket_path || !opts->log ||
	    opts->socket_path[0] == '\0') {
		(void)sigil__err(err, SIGIL_ERR_USAGE, "sigild_server_start: missing argument");
		return SIGIL_STATUS_ERROR;
	}
	if (opts->workers == 0 || opts->workers > SIGILD_MAX_WORKERS) {
		(void)sigil__err(err, SIGIL_ERR_USAGE, "workers: %zu is not between 1 and %d",
			opts->workers, SIGILD_MAX_WORKERS);
		return SIGIL_STATUS_ERROR;
	}
	if (make_parent_dirs(opts->socket_path, err) != SIGIL_STATUS_OK)
		return SIGIL_STATUS_ERROR;
	if (clear_stale_socket(opts->socket_path, opts->log, err) != SIGIL_STATUS_OK)
		return SIGIL_STATUS_ERROR;

	srv = calloc(1, sizeof(*srv));
	if (!srv)
		goto oom;
	srv->workers = calloc(opts->workers, sizeof(*srv->workers));
	srv->socket_path = strdup(opts->socket_path);
	addr_len = strlen(opts->socket_path) + sizeof("unix:");
	addr = malloc(addr_len);
	if (!srv->workers || !srv->socket_path || !addr)
		goto oom;
	snprintf(addr, addr_len, "unix:%s", opts->socket_path);
	srv->nworkers = opts->workers;
	srv->svc = svc;
	srv->log = opts->log;
	srv->debug = opts->log_debug;
	srv->verify_timeout_ms = opts->verify_timeout_ms;
	atomic_init(&srv->in_flight, 0);

	/* gRPC enforces the request bound itself (RESOURCE_EXHAUSTED). */
	args[0].type = GRPC_ARG_INTEGER;
	args[0].key = (char *)GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
	args[0].value.integer = (int)SIGILD_MAX_REQUEST_BYTES;
	chargs.num_args = 1;
	chargs.args = args;
	srv->server = grpc_server_create(&chargs, NULL);
	if (!srv->server)
		goto oom;
	srv->shutdown_cq = grpc_completion_queue_create_for_next(NULL);
	grpc_server_register_completion_queue(srv->server, srv->shutdown_cq, NULL);
	for (size_t i = 0; i < srv->nworkers; i++) {
		srv->workers[i].cq = grpc_completion_queue_create_for_next(NULL);
		srv->workers[i].srv = srv;
		srv->workers[i].index = i;
		grpc_server_register_completion_queue(srv->server, srv->workers[i].cq, NULL);
	}

	/* gRPC 1.51 binds in grpc_server_add_http2_port: the umask makes the
	 * socket 0600 from its first moment, the chmod makes sure of it. Only
	 * root (containerd's forwarder runs as root) may ask for verdicts. */
	creds = grpc_insecure_server_credentials_create();
	old_umask = umask(0177);
	port = grpc_server_add_http2_port(srv->server, addr, creds);
	umask(old_umask);
	grpc_server_credentials_release(creds);
	if (port == 0) {
		(void)sigil__err(err, SIGIL_ERR_IO, "cannot listen on %s", addr);
		goto fail_unstarted;
	}
	if (chmod(opts->socket_path, 0600) != 0) {
		(void)sigil__err(err, SIGIL_ERR_IO, "chmod 0600 %s: %s", opts->socket_path,
			strerror(errno));
		goto fail_unstarted;
	}
	grpc_server_start(srv->server);

	for (size_t i = 0; i < srv->nworkers; i++) {
		int rc = pthread_create(&srv->workers[i].thread, NULL, worker_main,
			&srv->workers[i]);
		if (rc != 0) {
			(void)sigil__err(err, SIGIL_ERR_INTERNAL, "starting worker thread %zu: %s", i,
				strerror(rc));
			sigild_server_stop(srv, 0);
			free(addr);
			return SIGIL_STATUS_ERROR;
		}
		srv->started++;
	}
	free(addr);
	*out = srv;
	return SIGIL_STATUS_OK;

oom:
	(void)sigil__err(err, SIGIL_ERR_INTERNAL, "out of memory");
	if (!srv || !srv->server) {
		if (srv) {
			free(srv->workers);
			free(srv->socket_path);
		}
		free(srv);
		free(addr);
		return SIGIL_STATUS_ERROR;
	}
fail_unstarted:
	/* A server that was never started still needs the shutdown dance. */
	grpc_server_start(srv->server);
	sigild_server_stop(srv, 0);
	free(addr);
	return SIGIL_STATUS_ERROR;
}

void sigild_server_stop(sigild_server *srv, int64_t grace_ms)
{
	grpc_event ev;

	if (!srv)
		return;
	grpc_server_shutdown_and_notify(srv->server, srv->shutdown_cq, &tag_shutdown);
	ev = grpc_completion_queue_next(srv->shutdown_cq,
		gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
			gpr_time_from_millis(grace_ms > 0 ? grace_ms : 0, GPR_TIMESPAN)),
		NULL);
	if (ev.type != GRPC_OP_COMPLETE) {
		size_t n = atomic_load(&srv->in_flight);
		srv->log(SIGILD_LOG_WARN, "cancelling %zu call(s) still in flight after %lld ms",
			n, (long long)grace_ms);
		grpc_server_cancel_all_calls(srv->server);
		do {
			ev = grpc_completion_queue_next(srv->shutdown_cq,
				gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
		} while (ev.type != GRPC_OP_COMPLETE && ev.type != GRPC_QUEUE_SHUTDOWN);
	}
	for (size_t i = 0; i < srv->started; i++)
		pthread_join(srv->workers[i].thread, NULL);
	grpc_server_destroy(srv->server);
	destroy_queues(srv);
	if (unlink(srv->socket_path) != 0 && errno != ENOENT)
		srv->log(SIGILD_LOG_WARN, "removing the socket %s: %s", srv->socket_path,
			strerror(errno));
	free(srv->workers);
	free(srv->socket_path);
	free(srv);
}
