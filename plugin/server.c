/* server.c - sigild's gRPC server: a unix socket, one event-loop thread
 * for all I/O, and a fixed pool of workers for the service calls.
 *
 * Why not gRPC C core (what this file used until issue 7's benchmark):
 * every pull is a fresh sigil-verifier process and so a fresh connection,
 * and gRPC core spent ~555 000 instructions per cached Verify setting up
 * and tearing down that connection (a minimal libnghttp2 server: ~38 000),
 * capping sigild at ~3 000 cached verdicts/s at concurrency 10 against a
 * 20 000/s target; its shared libraries were 8.3 MiB of sigild's 36.6 MiB
 * resident. A unary call needs little of gRPC (see grpc_client.c, the
 * forwarder's side): libnghttp2 does HTTP/2, grpc_conn.c the gRPC framing.
 * Measured after the change (bench/README.md): ~124 000 instructions per
 * cached Verify (59 000 of them the service's), ~3x the cached verdicts
 * per second, and 25.9 MiB resident with 10 000 cached verdicts.
 *
 * Threading: the loop thread (epoll) accepts, reads, feeds each
 * connection's protocol handler (grpc_conn.c) and writes. A request that
 * is whole and can be answered without waiting is answered right there,
 * in the same loop round (answer_inline): Status (counters, locks held
 * only for a copy) and a Verify whose verdict is cached or allow-listed
 * (sigild_service_verify_cached: same answer, counters, metrics and audit
 * line as the worker path, and no side effect when it cannot answer). The
 * rest goes on a queue that the workers (config "workers") take from; a
 * worker runs the service call and puts the answer on a done list, and an
 * eventfd wakes the loop to send it. So a slow Verify (a registry round
 * trip, seconds) holds one worker and nothing else: cached answers on
 * other connections never wait for a worker at all.
 * Why inline (issue 7): the handoff loop -> worker -> loop costs two
 * thread wake-ups per call, and with cached verdicts it kept sigild at
 * about half the nghttp2 floor server's rate (under load the loop used
 * ~58 % of a core and eight workers ~52 %). Answering inline (and the
 * audit line without json-c's object tree, audit.c): callgrind 124 900 ->
 * 101 500 instructions per cached Verify (the floor: 38 000); cached
 * verdicts per second, medians of 6 rounds alternated with the old binary
 * and the floor on a loaded 2-core machine, concurrency 1 / 2 / 10:
 * 3 600 / 9 000 / 9 900 -> 6 000 / 11 600 / 16 300 (floor 7 100 / 12 800
 * / 18 100; bench/README.md). The cost: while the loop decides a cached
 * verdict (~55 000 instructions) no other connection is read; a worker
 * would spend the same CPU, plus the two wake-ups. The audit line is
 * written (write(2), under the audit lock) from the loop too: an audit
 * destination that blocks (a full stderr pipe) now stalls the loop, where
 * it stalled every worker before. Since, a cached verdict's answer is
 * the bytes stored in the cache, not unpacked and packed again
 * (service.c, "the cache's value"): 99 700 -> 64 100 instructions.
 * A thread per connection would need as many threads as concurrent pulls
 * and would still need bounding.
 *
 * Bounds: SIGILD_MAX_CONNECTIONS (beyond it the listener is not polled and
 * clients wait in the kernel backlog), SIGILD_CONN_MAX_STREAMS per
 * connection, SIGILD_MAX_REQUEST_BYTES per message and
 * SIGILD_MAX_BUFFERED_BYTES for all, the header list size, and timeouts
 * (grpc_conn.h): a request must arrive within SIGILD_CONN_READ_TIMEOUT_MS,
 * an answer must be taken by the client within SIGILD_WRITE_TIMEOUT_MS,
 * an idle connection goes after SIGILD_CONN_IDLE_TIMEOUT_MS. A client
 * never holds a worker: workers only see whole requests.
 *
 * Shutdown: the listener closes, every connection gets GOAWAY(NO_ERROR);
 * requests already taken are served and answered. After the grace period
 * what is still open is reset (CANCEL); workers finish their current call
 * (bounded by verify_timeout_ms) and are joined. */
#include "server.h"
#include "grpc_conn.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#include <sigil/registry.h>

/* Connections open at once (each is one pull, or one long-lived client). */
#define SIGILD_MAX_CONNECTIONS 512
/* Request bytes buffered across all connections. */
#define SIGILD_MAX_BUFFERED_BYTES ((size_t)64 << 20)
/* An answer not taken by the client within this closes the connection. */
#define SIGILD_WRITE_TIMEOUT_MS 10000
/* How often the loop looks for expired connections. */
#define SWEEP_MS 250
#define READ_CHUNK 16384

typedef struct client {
	int fd;
	sigild_conn *conn;
	uint32_t events;          /* registered with epoll */
	int64_t stalled_since;    /* output waiting since, 0 if none */
	bool dead;                /* dropped; freed after this loop round */
	struct client *prev, *next;
} client;

typedef struct worker {
	pthread_t thread;
	struct sigild_server *srv;
	size_t index;
} worker;

/* A call travels loop -> jobs -> worker -> done -> loop. */
typedef struct job {
	sigild_call *call;
	struct job *next;
} job;

struct sigild_server {
	int listen_fd, epfd, wake_fd;
	bool listening;           /* listen_fd registered for EPOLLIN */
	pthread_t loop;
	bool loop_started;
	worker *workers;
	size_t nworkers;
	size_t started;
	sigild_service *svc;
	sigild_log_fn log;
	bool debug;
	int64_t verify_timeout_ms;
	char *socket_path;
	sigild_conn_config conn_cfg;
	size_t buffered;          /* loop thread only */
	client *clients;
	size_t nclients;
	client *graveyard;        /* dropped this round (events may name them) */

	pthread_mutex_t mu;       /* jobs, quit, done */
	pthread_cond_t cv;
	job *jobs_head, *jobs_tail;
	job *done_head, *done_tail;
	bool quit;

	atomic_bool stopping;
	int64_t grace_ms;
};

/* epoll tags for the two non-client descriptors. */
static char tag_listen, tag_wake;

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

/* Milliseconds left of the client's grpc-timeout, INT64_MAX for none. */
static int64_t call_remaining_ms(const sigild_call *call, int64_t now)
{
	int64_t left;

	if (call->timeout_ms == INT64_MAX)
		return INT64_MAX;
	left = call->timeout_ms - (now - call->received_ms);
	return left < 0 ? 0 : left;
}

static bool pack_message(const ProtobufCMessage *msg, sigild_call *call)
{
	size_t n = protobuf_c_message_get_packed_size(msg);

	call->payload = malloc(n ? n : 1);
	if (!call->payload) {
		call->code = SIGILD_GRPC_INTERNAL;
		snprintf(call->message, sizeof call->message, "out of memory");
		return false;
	}
	call->payload_len = protobuf_c_message_pack(msg, call->payload);
	call->code = SIGILD_GRPC_OK;
	return true;
}

static int status_for(sigil_category cat)
{
	switch (cat) {
	case SIGIL_ERR_USAGE:
	case SIGIL_ERR_MALFORMED:
	case SIGIL_ERR_LIMIT:
		return SIGILD_GRPC_INVALID_ARGUMENT;
	default:
		return SIGILD_GRPC_INTERNAL;
	}
}

static void do_verify(sigild_server *srv, sigild_call *call)
{
	Sigil__V1__VerifyRequest *req;
	Sigil__V1__VerifyResponse *resp = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	int64_t now = sigil_registry_now_ms();
	int64_t deadline = sigild_server_deadline_ms(now, call_remaining_ms(call, now),
		srv->verify_timeout_ms);

	req = sigil__v1__verify_request__unpack(NULL, call->msg_len, call->msg);
	if (!req) {
		call->code = SIGILD_GRPC_INVALID_ARGUMENT;
		snprintf(call->message, sizeof call->message,
			"malformed VerifyRequest: not a sigil.v1.VerifyRequest protobuf message");
		return;
	}
	if (sigild_service_verify(srv->svc, req, deadline, &resp, &err) != SIGIL_STATUS_OK) {
		call->code = status_for(err.category);
		snprintf(call->message, sizeof call->message, "%s", err.message);
		srv->log(call->code == SIGILD_GRPC_INTERNAL ? SIGILD_LOG_ERR : SIGILD_LOG_INFO,
			"Verify rejected (%s): %s", sigil_category_name(err.category), err.message);
	} else {
		(void)pack_message(&resp->base, call);
		sigild_verify_response_free(resp);
	}
	sigil__v1__verify_request__free_unpacked(req, NULL);
}

static void do_status(sigild_server *srv, sigild_call *call)
{
	Sigil__V1__StatusRequest *req;
	Sigil__V1__StatusResponse *resp = NULL;
	sigil_error err = SIGIL_ERROR_INIT;

	req = sigil__v1__status_request__unpack(NULL, call->msg_len, call->msg);
	if (!req) {
		call->code = SIGILD_GRPC_INVALID_ARGUMENT;
		snprintf(call->message, sizeof call->message,
			"malformed StatusRequest: not a sigil.v1.StatusRequest protobuf message");
		return;
	}
	sigil__v1__status_request__free_unpacked(req, NULL);
	if (sigild_service_status(srv->svc, &resp, &err) != SIGIL_STATUS_OK) {
		call->code = status_for(err.category);
		snprintf(call->message, sizeof call->message, "%s", err.message);
		srv->log(SIGILD_LOG_ERR, "Status failed (%s): %s",
			sigil_category_name(err.category), err.message);
		return;
	}
	(void)pack_message(&resp->base, call);
	sigild_status_response_free(resp);
}

/* j at the tail of a queue (jobs or done; the caller holds srv->mu) */
static void job_append(job **head, job **tail, job *j)
{
	j->next = NULL;
	if (*tail)
		(*tail)->next = j;
	else
		*head = j;
	*tail = j;
}

static void *worker_main(void *arg)
{
	worker *w = arg;
	sigild_server *srv = w->srv;

	for (;;) {
		job *j;
		bool wake;

		pthread_mutex_lock(&srv->mu);
		while (!srv->jobs_head && !srv->quit)
			pthread_cond_wait(&srv->cv, &srv->mu);
		if (srv->quit) {
			pthread_mutex_unlock(&srv->mu);
			break;
		}
		j = srv->jobs_head;
		srv->jobs_head = j->next;
		if (!srv->jobs_head)
			srv->jobs_tail = NULL;
		pthread_mutex_unlock(&srv->mu);

		int64_t t0 = sigil_registry_now_ms();
		/* only a Verify reaches a worker: answer_inline answers Status,
		 * and grpc_conn.c refuses other methods before dispatch */
		do_verify(srv, j->call);
		if (srv->debug)
			srv->log(SIGILD_LOG_DEBUG, "worker %zu: %.200s served in %lld ms", w->index,
				j->call->method_name, (long long)(sigil_registry_now_ms() - t0));

		pthread_mutex_lock(&srv->mu);
		wake = srv->done_head == NULL;
		job_append(&srv->done_head, &srv->done_tail, j);
		pthread_mutex_unlock(&srv->mu);
		if (wake) {
			uint64_t one = 1;
			/* EAGAIN: the counter is already non-zero, the loop wakes. */
			if (write(srv->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
				srv->log(SIGILD_LOG_ERR, "worker %zu: waking the loop: %s", w->index,
					strerror(errno));
		}
	}
	return NULL;
}

/* The answers that never wait, given on the loop thread (see the file
 * comment): Status (counters and short-held locks) and a Verify whose
 * verdict is cached or allow-listed. false: the call goes to a worker,
 * and nothing about it has been counted or logged yet. */
static bool answer_inline(sigild_server *srv, sigild_call *call)
{
	Sigil__V1__VerifyRequest *req;
	uint8_t *payload = NULL;
	size_t payload_len = 0;
	sigil_error err = SIGIL_ERROR_INIT;
	sigil_status st;

	if (call->method == SIGILD_METHOD_STATUS) {
		do_status(srv, call);
		return true;
	}
	/* a Verify (grpc_conn.c dispatches no other method); a malformed one is refused by do_verify, where it always was */
	req = sigil__v1__verify_request__unpack(NULL, call->msg_len, call->msg);
	if (!req)
		return false;
	st = sigild_service_verify_cached(srv->svc, req, &payload, &payload_len, &err);
	sigil__v1__verify_request__free_unpacked(req, NULL);
	if (st != SIGIL_STATUS_OK) {
		/* as do_verify answers the same failure */
		call->code = status_for(err.category);
		snprintf(call->message, sizeof call->message, "%s", err.message);
		srv->log(call->code == SIGILD_GRPC_INTERNAL ? SIGILD_LOG_ERR : SIGILD_LOG_INFO,
			"Verify rejected (%s): %s", sigil_category_name(err.category), err.message);
		return true;
	}
	if (!payload)
		return false;
	/* already the message's bytes: a cached verdict is not unpacked
	 * and packed again (issue 7) */
	call->payload = payload;
	call->payload_len = payload_len;
	call->code = SIGILD_GRPC_OK;
	return true;
}

/* Called by a connection, in the loop thread, for each whole request. */
static void dispatch(void *ctx, sigild_call *call)
{
	sigild_server *srv = ctx;
	job *j;

	if (answer_inline(srv, call)) {
		/* queued on its stream now; read_client() writes it out after
		 * this read, in the same loop round */
		(void)sigild_conn_complete(call, sigil_registry_now_ms());
		return;
	}
	j = malloc(sizeof(*j));
	if (!j) {
		/* Answered now, with the error. */
		call->code = SIGILD_GRPC_RESOURCE_EXHAUSTED;
		snprintf(call->message, sizeof call->message, "out of memory");
		(void)sigild_conn_complete(call, sigil_registry_now_ms());
		return;
	}
	j->call = call;
	pthread_mutex_lock(&srv->mu);
	job_append(&srv->jobs_head, &srv->jobs_tail, j);
	pthread_cond_signal(&srv->cv);
	pthread_mutex_unlock(&srv->mu);
}

static void set_events(sigild_server *srv, client *cl, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = cl };

	if (events == cl->events)
		return;
	if (epoll_ctl(srv->epfd, EPOLL_CTL_MOD, cl->fd, &ev) == 0)
		cl->events = events;
}

static void listen_poll(sigild_server *srv, bool on)
{
	struct epoll_event ev = { .events = on ? EPOLLIN : 0, .data.ptr = &tag_listen };

	if (srv->listen_fd < 0 || srv->listening == on)
		return;
	if (epoll_ctl(srv->epfd, EPOLL_CTL_MOD, srv->listen_fd, &ev) == 0)
		srv->listening = on;
}

static void drop_client(sigild_server *srv, client *cl)
{
	if (cl->prev)
		cl->prev->next = cl->next;
	else
		srv->clients = cl->next;
	if (cl->next)
		cl->next->prev = cl->prev;
	close(cl->fd); /* also leaves the epoll set */
	sigild_conn_close(cl->conn);
	cl->conn = NULL;
	cl->dead = true;
	cl->prev = NULL;
	cl->next = srv->graveyard;
	srv->graveyard = cl;
	srv->nclients--;
	if (!atomic_load(&srv->stopping) && srv->nclients < SIGILD_MAX_CONNECTIONS)
		listen_poll(srv, true);
}

/* Write what the connection has to say; false when the client is gone
 * (and dropped). */
static bool flush_client(sigild_server *srv, client *cl, int64_t now)
{
	for (;;) {
		const uint8_t *p;
		size_t n;
		ssize_t w;

		if (sigild_conn_output(cl->conn, &p, &n, now) != 0) {
			drop_client(srv, cl);
			return false;
		}
		if (n == 0) {
			cl->stalled_since = 0;
			break;
		}
		w = send(cl->fd, p, n, MSG_NOSIGNAL);
		if (w > 0) {
			sigild_conn_consumed(cl->conn, (size_t)w);
			cl->stalled_since = 0;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!cl->stalled_since)
				cl->stalled_since = now;
			/* Stop reading until the client takes what it asked for. */
			set_events(srv, cl, EPOLLOUT);
			return true;
		}
		drop_client(srv, cl);
		return false;
	}
	if (sigild_conn_done(cl->conn) ||
	    (atomic_load(&srv->stopping) && sigild_conn_streams(cl->conn) == 0)) {
		drop_client(srv, cl);
		return false;
	}
	set_events(srv, cl, EPOLLIN);
	return true;
}

static void read_client(sigild_server *srv, client *cl, int64_t now)
{
	uint8_t buf[READ_CHUNK];
	bool got = false;

	for (;;) {
		ssize_t n = recv(cl->fd, buf, sizeof buf, 0);
		if (n > 0) {
			got = true;
			if (sigild_conn_recv(cl->conn, buf, (size_t)n, now) != 0) {
				/* Best effort: the GOAWAY nghttp2 may have queued. */
				if (flush_client(srv, cl, now))
					drop_client(srv, cl);
				return;
			}
			if ((size_t)n < sizeof buf)
				break;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		drop_client(srv, cl); /* EOF or error: the client is gone */
		return;
	}
	if (got)
		(void)flush_client(srv, cl, now);
}

static void accept_clients(sigild_server *srv, int64_t now)
{
	while (srv->nclients < SIGILD_MAX_CONNECTIONS) {
		int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		client *cl;
		struct epoll_event ev;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				srv->log(SIGILD_LOG_WARN, "accept: %s", strerror(errno));
			return;
		}
		cl = calloc(1, sizeof(*cl));
		if (cl)
			cl->conn = sigild_conn_new(&srv->conn_cfg, cl, now);
		if (!cl || !cl->conn) {
			srv->log(SIGILD_LOG_ERR, "out of memory for a connection");
			free(cl);
			close(fd);
			return;
		}
		cl->fd = fd;
		cl->events = EPOLLIN;
		ev.events = EPOLLIN;
		ev.data.ptr = cl;
		if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
			srv->log(SIGILD_LOG_ERR, "epoll_ctl: %s", strerror(errno));
			sigild_conn_close(cl->conn);
			free(cl);
			close(fd);
			return;
		}
		cl->next = srv->clients;
		if (srv->clients)
			srv->clients->prev = cl;
		srv->clients = cl;
		srv->nclients++;
		/* The client speaks first (its preface, RFC 9113 §3.4), often
		 * with the request: our SETTINGS go out with the first answer to
		 * what it sent, one send() fewer per connection. */
		read_client(srv, cl, now);
	}
	listen_poll(srv, false); /* at the bound: clients wait in the backlog */
}

/* Answers the workers have finished. */
static void take_done(sigild_server *srv, int64_t now)
{
	uint64_t v;
	job *j;

	if (read(srv->wake_fd, &v, sizeof v) < 0 && errno != EAGAIN)
		srv->log(SIGILD_LOG_ERR, "reading the wake-up counter: %s", strerror(errno));
	pthread_mutex_lock(&srv->mu);
	j = srv->done_head;
	srv->done_head = srv->done_tail = NULL;
	pthread_mutex_unlock(&srv->mu);
	while (j) {
		job *next = j->next;
		client *cl = sigild_conn_complete(j->call, now);
		free(j);
		if (cl)
			(void)flush_client(srv, cl, now);
		j = next;
	}
}

static void sweep(sigild_server *srv, int64_t now)
{
	client *next;

	for (client *cl = srv->clients; cl; cl = next) {
		next = cl->next;
		if ((cl->stalled_since && now - cl->stalled_since > SIGILD_WRITE_TIMEOUT_MS) ||
		    now >= sigild_conn_deadline(cl->conn)) {
			if (srv->debug)
				srv->log(SIGILD_LOG_DEBUG, "closing a connection that made no progress");
			if (!cl->stalled_since && sigild_conn_streams(cl->conn) == 0) {
				/* idle: say goodbye properly */
				sigild_conn_goaway(cl->conn);
				if (!flush_client(srv, cl, now))
					continue;
			}
			drop_client(srv, cl);
		}
	}
}

static size_t count_inflight(sigild_server *srv)
{
	size_t n = 0;

	for (client *cl = srv->clients; cl; cl = cl->next)
		n += sigild_conn_inflight(cl->conn);
	return n;
}

static void begin_shutdown(sigild_server *srv, int64_t now)
{
	client *next;

	if (srv->listen_fd >= 0) {
		(void)epoll_ctl(srv->epfd, EPOLL_CTL_DEL, srv->listen_fd, NULL);
		close(srv->listen_fd);
		srv->listen_fd = -1;
		srv->listening = false;
	}
	for (client *cl = srv->clients; cl; cl = next) {
		next = cl->next;
		sigild_conn_goaway(cl->conn);
		(void)flush_client(srv, cl, now); /* drops idle connections */
	}
}

static void free_graveyard(sigild_server *srv)
{
	while (srv->graveyard) {
		client *cl = srv->graveyard;
		srv->graveyard = cl->next;
		free(cl);
	}
}

static void *loop_main(void *arg)
{
	sigild_server *srv = arg;
	struct epoll_event evs[64];
	int64_t last_sweep = sigil_registry_now_ms();
	int64_t grace_end = 0;
	bool shutting = false;

	for (;;) {
		int64_t now = sigil_registry_now_ms();
		int timeout = -1;
		int n;

		if (!shutting && atomic_load(&srv->stopping)) {
			shutting = true;
			grace_end = now + (srv->grace_ms > 0 ? srv->grace_ms : 0);
			begin_shutdown(srv, now);
		}
		if (shutting) {
			if (!srv->clients)
				break;
			if (now >= grace_end) {
				client *next;
				srv->log(SIGILD_LOG_WARN,
					"cancelling %zu call(s) still in flight after %lld ms",
					count_inflight(srv), (long long)srv->grace_ms);
				for (client *cl = srv->clients; cl; cl = next) {
					next = cl->next;
					sigild_conn_cancel(cl->conn);
					if (flush_client(srv, cl, now))
						drop_client(srv, cl);
				}
				break;
			}
			timeout = (int)(grace_end - now < SWEEP_MS ? grace_end - now : SWEEP_MS);
		} else if (srv->clients) {
			timeout = SWEEP_MS;
		}
		n = epoll_wait(srv->epfd, evs, (int)(sizeof evs / sizeof evs[0]), timeout);
		if (n < 0 && errno != EINTR) {
			srv->log(SIGILD_LOG_ERR, "epoll_wait: %s", strerror(errno));
			break;
		}
		now = sigil_registry_now_ms();
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;
			if (p == &tag_wake) {
				take_done(srv, now);
				continue;
			}
			if (p == &tag_listen) {
				if (srv->listen_fd >= 0)
					accept_clients(srv, now);
				continue;
			}
			client *cl = p;
			if (cl->dead)
				continue; /* dropped earlier in this round */
			if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
				read_client(srv, cl, now);
			else if (evs[i].events & EPOLLOUT)
				(void)flush_client(srv, cl, now);
		}
		if (now - last_sweep >= SWEEP_MS) {
			last_sweep = now;
			sweep(srv, now);
		}
		free_graveyard(srv);
	}
	free_graveyard(srv);
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

static void socket_address(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, strlen(path)); /* length checked by the caller */
}

/* Another daemon on the socket must not be displaced (binding over it
 * would need an unlink); a file nobody answers on is left over from a
 * crash and goes. Anything but a socket is not ours to delete. */
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
	socket_address(&sa, path);
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

/* The listening socket, 0600 from its first moment (umask) and for sure
 * (chmod): only root (containerd's forwarder runs as root) may ask for
 * verdicts. */
static sigil_status listen_on(sigild_server *srv, const char *path, sigil_error *err)
{
	struct sockaddr_un sa;
	mode_t old_umask;
	int rc, e;

	srv->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->listen_fd < 0) {
		(void)sigil__err(err, SIGIL_ERR_IO, "socket(): %s", strerror(errno));
		return SIGIL_STATUS_ERROR;
	}
	socket_address(&sa, path);
	old_umask = umask(0177);
	rc = bind(srv->listen_fd, (struct sockaddr *)&sa, sizeof(sa));
	e = errno;
	umask(old_umask);
	if (rc != 0) {
		(void)sigil__err(err, SIGIL_ERR_IO, "cannot listen on unix:%s: bind: %s", path,
			strerror(e));
		return SIGIL_STATUS_ERROR;
	}
	if (chmod(path, 0600) != 0) {
		(void)sigil__err(err, SIGIL_ERR_IO, "chmod 0600 %s: %s", path, strerror(errno));
		(void)unlink(path);
		return SIGIL_STATUS_ERROR;
	}
	if (listen(srv->listen_fd, SOMAXCONN) != 0) {
		(void)sigil__err(err, SIGIL_ERR_IO, "cannot listen on unix:%s: %s", path,
			strerror(errno));
		(void)unlink(path);
		return SIGIL_STATUS_ERROR;
	}
	return SIGIL_STATUS_OK;
}

static void free_server(sigild_server *srv)
{
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	if (srv->epfd >= 0)
		close(srv->epfd);
	if (srv->wake_fd >= 0)
		close(srv->wake_fd);
	pthread_mutex_destroy(&srv->mu);
	pthread_cond_destroy(&srv->cv);
	free(srv->workers);
	free(srv->socket_path);
	free(srv);
}

sigil_status sigild_server_start(sigild_server **out, sigild_service *svc,
	const sigild_server_options *opts, sigil_error *err)
{
	sigild_server *srv = NULL;
	struct epoll_event ev;
	int rc;

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
	srv->listen_fd = srv->epfd = srv->wake_fd = -1;
	pthread_mutex_init(&srv->mu, NULL);
	pthread_cond_init(&srv->cv, NULL);
	srv->workers = calloc(opts->workers, sizeof(*srv->workers));
	srv->socket_path = strdup(opts->socket_path);
	if (!srv->workers || !srv->socket_path)
		goto oom;
	srv->nworkers = opts->workers;
	srv->svc = svc;
	srv->log = opts->log;
	srv->debug = opts->log_debug;
	srv->verify_timeout_ms = opts->verify_timeout_ms;
	atomic_init(&srv->stopping, false);
	srv->conn_cfg.dispatch = dispatch;
	srv->conn_cfg.ctx = srv;
	srv->conn_cfg.log = opts->log;
	srv->conn_cfg.max_message = SIGILD_MAX_REQUEST_BYTES;
	srv->conn_cfg.buffered = &srv->buffered;
	srv->conn_cfg.max_buffered = SIGILD_MAX_BUFFERED_BYTES;

	srv->epfd = epoll_create1(EPOLL_CLOEXEC);
	srv->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (srv->epfd < 0 || srv->wake_fd < 0) {
		(void)sigil__err(err, SIGIL_ERR_IO, "epoll/eventfd: %s", strerror(errno));
		free_server(srv);
		return SIGIL_STATUS_ERROR;
	}
	if (listen_on(srv, opts->socket_path, err) != SIGIL_STATUS_OK) {
		free_server(srv);
		return SIGIL_STATUS_ERROR;
	}
	ev.events = EPOLLIN;
	ev.data.ptr = &tag_wake;
	rc = epoll_ctl(srv->epfd, EPOLL_CTL_ADD, srv->wake_fd, &ev);
	ev.data.ptr = &tag_listen;
	if (rc == 0)
		rc = epoll_ctl(srv->epfd, EPOLL_CTL_ADD, srv->listen_fd, &ev);
	if (rc != 0) {
		(void)sigil__err(err, SIGIL_ERR_IO, "epoll_ctl: %s", strerror(errno));
		(void)unlink(srv->socket_path);
		free_server(srv);
		return SIGIL_STATUS_ERROR;
	}
	srv->listening = true;

	for (size_t i = 0; i < srv->nworkers; i++) {
		srv->workers[i].srv = srv;
		srv->workers[i].index = i;
		rc = pthread_create(&srv->workers[i].thread, NULL, worker_main, &srv->workers[i]);
		if (rc != 0) {
			(void)sigil__err(err, SIGIL_ERR_INTERNAL, "starting worker thread %zu: %s", i,
				strerror(rc));
			sigild_server_stop(srv, 0);
			return SIGIL_STATUS_ERROR;
		}
		srv->started++;
	}
	rc = pthread_create(&srv->loop, NULL, loop_main, srv);
	if (rc != 0) {
		(void)sigil__err(err, SIGIL_ERR_INTERNAL, "starting the server thread: %s",
			strerror(rc));
		sigild_server_stop(srv, 0);
		return SIGIL_STATUS_ERROR;
	}
	srv->loop_started = true;
	*out = srv;
	return SIGIL_STATUS_OK;

oom:
	(void)sigil__err(err, SIGIL_ERR_INTERNAL, "out of memory");
	if (srv)
		free_server(srv);
	return SIGIL_STATUS_ERROR;
}

/* After the loop and the workers have stopped: every call still queued
 * or answered goes back to its (closed) connection, which frees it. */
static void drain_calls(sigild_server *srv)
{
	job *lists[2] = { srv->jobs_head, srv->done_head };

	srv->jobs_head = srv->jobs_tail = srv->done_head = srv->done_tail = NULL;
	for (size_t i = 0; i < 2; i++) {
		for (job *j = lists[i], *next; j; j = next) {
			next = j->next;
			(void)sigild_conn_complete(j->call, sigil_registry_now_ms());
			free(j);
		}
	}
}

void sigild_server_stop(sigild_server *srv, int64_t grace_ms)
{
	uint64_t one = 1;

	if (!srv)
		return;
	srv->grace_ms = grace_ms;
	atomic_store(&srv->stopping, true);
	if (srv->loop_started) {
		if (write(srv->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
			srv->log(SIGILD_LOG_ERR, "waking the server thread: %s", strerror(errno));
		pthread_join(srv->loop, NULL);
	}
	/* Every connection is closed now; a worker still in a service call
	 * (bounded by verify_timeout_ms) finishes it, its answer is dropped. */
	pthread_mutex_lock(&srv->mu);
	srv->quit = true;
	pthread_cond_broadcast(&srv->cv);
	pthread_mutex_unlock(&srv->mu);
	for (size_t i = 0; i < srv->started; i++)
		pthread_join(srv->workers[i].thread, NULL);
	for (client *cl = srv->clients, *next; cl; cl = next) {
		next = cl->next;
		close(cl->fd);
		sigild_conn_close(cl->conn);
		free(cl);
	}
	srv->clients = NULL;
	free_graveyard(srv);
	drain_calls(srv);
	if (unlink(srv->socket_path) != 0 && errno != ENOENT)
		srv->log(SIGILD_LOG_WARN, "removing the socket %s: %s", srv->socket_path,
			strerror(errno));
	free_server(srv);
}
