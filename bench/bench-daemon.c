/* bench-daemon.c - the client side of the daemon benchmark (issue 7,
 * benchmark 4), driven by bench/bench-daemon.py.
 *
 * It speaks to sigild with the forwarder's own RPC code
 * (plugin/grpc_client.c, linked in), one process, one thread per
 * concurrent caller, and each call on its own connection exactly as a
 * sigil-verifier process makes it: what is measured is what a pull costs
 * sigild, minus the exec. Every answer is checked (verdict, cached flag):
 * a benchmark that counts errors as throughput would measure nothing.
 *
 *   bench-daemon rpc --socket S --name REF --digest D [--size N]
 *                    --concurrency C --seconds T [--warmup T] [--no-cache]
 *                    [--expect allow|deny] [--expect-cached yes|no|any]
 *       calls per second and latency percentiles over T seconds, after a
 *       warm-up of the same load (whose calls are not counted); with
 *       --calls N instead, exactly N calls one after the other.
 *   bench-daemon list --socket S --file F --concurrency C [--expect allow|deny]
 *       one Verify per line of F ("<name> <digest> <size>"), each digest
 *       once: how fast sigild verifies distinct images it has not seen
 *       (and how its cache fills).
 *   bench-daemon rpc ... --method status
 *       the same load on sigild's Status RPC: the gRPC server's own cost
 *       with a trivial handler, the comparator of the cached Verify.
 *   bench-daemon serve --socket S --response FILE [--threads N]
 *       the transport comparator: a minimal h2c gRPC server (libnghttp2,
 *       as the forwarder's client) answering every call with the
 *       VerifyResponse bytes in FILE (saved by rpc --save-response), one
 *       connection per thread at a time. What this machine can do per
 *       connection-per-call RPC, without gRPC core and without sigild.
 *   bench-daemon spawn --rounds N [--warmup K] --stdin FILE
 *                      [--expect-exit-a E] [--expect-exit-b E]
 *                      -- PROGRAM_A ARGS... -- PROGRAM_B ARGS...
 *       runs A and B alternately (fresh process each, stdin from FILE,
 *       output discarded): wall time from spawn to reaped; then the peak
 *       resident memory (VmHWM at exit, see peak_kib) of each.
 *
 * Output: one JSON object on stdout. Exit 0, or 1 when any call or run
 * did not give the expected answer (the first such answer is in the JSON
 * and on stderr), 2 on usage errors. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#include "forwarder_args.h"
#include "grpc_client.h"
#include "sigil/v1/verifier.pb-c.h"

extern char **environ;

#define MAX_THREADS 64
#define CALL_TIMEOUT_MS 8000
#define MAX_RESPONSE (1u << 20)
#define MEDIA_TYPE "application/vnd.oci.image.manifest.v1+json"

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_s(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9) };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static _Noreturn void usage(const char *why)
{
	fprintf(stderr, "bench-daemon: %s\n"
		"usage: bench-daemon rpc --socket S --name REF --digest D [--size N] --concurrency C\n"
		"                        --seconds T [--warmup T] [--no-cache] [--expect allow|deny]\n"
		"                        [--expect-cached yes|no|any] [--method verify|status]\n"
		"                        [--calls N] [--save-response FILE]\n"
		"       bench-daemon list --socket S --file F --concurrency C [--expect allow|deny]\n"
		"       bench-daemon spawn --rounds N [--warmup K] --stdin FILE [--expect-exit-a E]\n"
		"                          [--expect-exit-b E] -- A ARGS... -- B ARGS...\n"
		"       bench-daemon serve --socket S --response FILE [--threads N]\n", why);
	exit(2);
}

static long parse_long(const char *s, long lo, long hi, const char *what)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		char m[160];
		snprintf(m, sizeof m, "%s: \"%.40s\" is not an integer in [%ld, %ld]", what, s, lo, hi);
		usage(m);
	}
	return v;
}

static double parse_seconds(const char *s, const char *what)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0 && v <= 3600)) {
		char m[160];
		snprintf(m, sizeof m, "%s: \"%.40s\" is not a number of seconds", what, s);
		usage(m);
	}
	return v;
}

/* ------------------------------------------------------------------ */
/* one Verify call, as sigil-verifier makes it                         */

typedef struct expectation {
	int verdict;    /* SIGIL__V1__VERDICT__VERDICT_ALLOW / _DENY, 0 = any */
	int cached;     /* 1 yes, 0 no, -1 any */
} expectation;

static pthread_mutex_t save_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *save_path; /* rpc --save-response: written once */

static void save_response(const uint8_t *msg, size_t len)
{
	pthread_mutex_lock(&save_lock);
	if (save_path) {
		FILE *f = fopen(save_path, "wb");
		if (!f || fwrite(msg, 1, len, f) != len || fclose(f) != 0)
			fprintf(stderr, "bench-daemon: cannot write %s\n", save_path);
		save_path = NULL;
	}
	pthread_mutex_unlock(&save_lock);
}

static int unary(const char *sock, const char *method, const uint8_t *req, size_t req_len,
	sigil_grpc_result *res, char *why, size_t why_len)
{
	int64_t start = sigil_forwarder_now_ms();
	sigil_grpc_call call = {
		.socket_path = sock,
		.method = method,
		.request = req,
		.request_len = req_len,
		.deadline_ms = start + CALL_TIMEOUT_MS,
		.timeout_ms = CALL_TIMEOUT_MS,
		.connect_retry_until_ms = start + 2000,
		.max_response = MAX_RESPONSE,
	};
	if (sigil_grpc_unary(&call, res, why, why_len) != 0)
		return 0;
	if (res->status != 0) {
		snprintf(why, why_len, "gRPC %s: %s", sigil_grpc_status_name(res->status), res->message);
		return 0;
	}
	return 1;
}

/* Status: the comparator's call (same server, same transport, a handler
 * that only reads counters). 1 when it answered a StatusResponse. */
static int status_once(const char *sock, char *why, size_t why_len)
{
	sigil_grpc_result res;
	if (!unary(sock, "/sigil.v1.Verifier/Status", (const uint8_t *)"", 0, &res, why, why_len))
		return 0;
	Sigil__V1__StatusResponse *r = sigil__v1__status_response__unpack(NULL, res.response_len, res.response);
	free(res.response);
	if (!r) {
		snprintf(why, why_len, "the answer is not a StatusResponse");
		return 0;
	}
	sigil__v1__status_response__free_unpacked(r, NULL);
	return 1;
}

/* Returns 1 when the answer is the expected one, else 0 with why[]. */
static int verify_once(const char *sock, const char *name, const char *digest, int64_t size,
	bool no_cache, const expectation *ex, char *why, size_t why_len)
{
	Sigil__V1__Descriptor pd = SIGIL__V1__DESCRIPTOR__INIT;
	pd.media_type = (char *)MEDIA_TYPE;
	pd.digest = (char *)digest;
	pd.size = size;
	Sigil__V1__VerifyRequest req = SIGIL__V1__VERIFY_REQUEST__INIT;
	req.image_name = (char *)name;
	req.digest = (char *)digest;
	req.descriptor = &pd;
	req.no_cache = no_cache;
	uint8_t packed[4096];
	size_t packed_len = sigil__v1__verify_request__get_packed_size(&req);
	if (packed_len > sizeof packed) {
		snprintf(why, why_len, "request too large");
		return 0;
	}
	sigil__v1__verify_request__pack(&req, packed);
	sigil_grpc_result res;
	if (!unary(sock, "/sigil.v1.Verifier/Verify", packed, packed_len, &res, why, why_len))
		return 0;
	Sigil__V1__VerifyResponse *r = sigil__v1__verify_response__unpack(NULL, res.response_len, res.response);
	if (r && save_path)
		save_response(res.response, res.response_len);
	free(res.response);
	if (!r) {
		snprintf(why, why_len, "the answer is not a VerifyResponse");
		return 0;
	}
	int ok = 1;
	if (ex->verdict && (int)r->verdict != ex->verdict) {
		snprintf(why, why_len, "%s %s: verdict %d, expected %d: %s", name, digest, (int)r->verdict,
			ex->verdict, r->reason ? r->reason : "");
		ok = 0;
	} else if (ex->cached >= 0 && (int)r->cached != ex->cached) {
		snprintf(why, why_len, "%s %s: cached=%d, expected %d: %s", name, digest, (int)r->cached,
			ex->cached, r->reason ? r->reason : "");
		ok = 0;
	}
	sigil__v1__verify_response__free_unpacked(r, NULL);
	return ok;
}

/* ------------------------------------------------------------------ */
/* shared result bookkeeping                                          */

static pthread_mutex_t first_lock = PTHREAD_MUTEX_INITIALIZER;
static char first_failure[SIGIL_FORWARDER_REASON_SIZE];

static void note_failure(const char *why)
{
	pthread_mutex_lock(&first_lock);
	if (!first_failure[0]) {
		snprintf(first_failure, sizeof first_failure, "%s", why);
		fprintf(stderr, "bench-daemon: unexpected answer: %s\n", why);
	}
	pthread_mutex_unlock(&first_lock);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* p-th percentile (0..100) of sorted v[n], nearest rank */
static int64_t percentile(const int64_t *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

/* JSON-safe copy of a message: quotes, backslashes and control characters
 * become '?' (it is a diagnostic, not data). */
static void json_text(char *dst, size_t cap, const char *s)
{
	size_t n = 0;
	for (; *s && n + 1 < cap; s++)
		dst[n++] = (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20) ? '?' : *s;
	dst[n] = '\0';
}

/* ------------------------------------------------------------------ */
/* rpc: calls per second at a given concurrency                        */

enum { PHASE_WARMUP, PHASE_MEASURE, PHASE_STOP };

typedef struct rpc_opts {
	const char *sock, *name, *digest;
	int64_t size;
	bool no_cache;
	bool status; /* --method status */
	expectation ex;
} rpc_opts;

typedef struct rpc_thread {
	pthread_t tid;
	const rpc_opts *o;
	int64_t *lat;     /* ns, calls started and ended inside the measurement */
	size_t n, cap;
	uint64_t warm, failed;
	int oom;
} rpc_thread;

static _Atomic int phase = PHASE_WARMUP;
static _Atomic int64_t measure_end_ns;

static void *rpc_main(void *arg)
{
	rpc_thread *t = arg;
	char why[SIGIL_FORWARDER_REASON_SIZE];
	for (;;) {
		int ph = atomic_load(&phase);
		if (ph == PHASE_STOP)
			break;
		int64_t t0 = now_ns();
		int ok = t->o->status ? status_once(t->o->sock, why, sizeof why)
			: verify_once(t->o->sock, t->o->name, t->o->digest, t->o->size, t->o->no_cache,
				&t->o->ex, why, sizeof why);
		int64_t t1 = now_ns();
		if (!ok) {
			t->failed++;
			note_failure(why);
			continue;
		}
		if (ph == PHASE_WARMUP) {
			t->warm++;
			continue;
		}
		/* a call that ends after the window closed is not counted */
		int64_t end = atomic_load(&measure_end_ns);
		if (end && t1 > end)
			continue;
		if (t->n == t->cap) {
			size_t cap = t->cap ? t->cap * 2 : 4096;
			int64_t *nl = realloc(t->lat, cap * sizeof *nl);
			if (!nl) {
				t->oom = 1;
				break;
			}
			t->lat = nl;
			t->cap = cap;
		}
		t->lat[t->n++] = t1 - t0;
	}
	return NULL;
}

static int cmd_rpc(int argc, char **argv)
{
	rpc_opts o = { .size = 512, .ex = { .verdict = 0, .cached = -1 } };
	long conc = 1, calls = 0;
	double seconds = 3, warmup = 0.5;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--no-cache") == 0) {
			o.no_cache = true;
			continue;
		}
		if (!v)
			usage("option without a value");
		i++;
		if (strcmp(a, "--socket") == 0) o.sock = v;
		else if (strcmp(a, "--name") == 0) o.name = v;
		else if (strcmp(a, "--digest") == 0) o.digest = v;
		else if (strcmp(a, "--size") == 0) o.size = parse_long(v, 0, 1L << 30, "--size");
		else if (strcmp(a, "--concurrency") == 0) conc = parse_long(v, 1, MAX_THREADS, "--concurrency");
		else if (strcmp(a, "--seconds") == 0) seconds = parse_seconds(v, "--seconds");
		else if (strcmp(a, "--warmup") == 0) warmup = parse_seconds(v, "--warmup");
		else if (strcmp(a, "--save-response") == 0) save_path = v;
		else if (strcmp(a, "--calls") == 0) calls = parse_long(v, 1, 1000000, "--calls");
		else if (strcmp(a, "--method") == 0) {
			if (strcmp(v, "status") == 0) o.status = true;
			else if (strcmp(v, "verify") != 0) usage("--method verify|status");
		} else if (strcmp(a, "--expect") == 0) {
			if (strcmp(v, "allow") == 0) o.ex.verdict = SIGIL__V1__VERDICT__VERDICT_ALLOW;
			else if (strcmp(v, "deny") == 0) o.ex.verdict = SIGIL__V1__VERDICT__VERDICT_DENY;
			else usage("--expect allow|deny");
		} else if (strcmp(a, "--expect-cached") == 0) {
			o.ex.cached = strcmp(v, "yes") == 0 ? 1 : strcmp(v, "no") == 0 ? 0 : -1;
		} else usage("unknown option");
	}
	if (!o.sock || (!o.status && (!o.name || !o.digest)) || seconds <= 0)
		usage("rpc needs --socket, --name, --digest (Verify) and --seconds > 0");

	rpc_thread th[MAX_THREADS];
	memset(th, 0, sizeof th);
	if (calls > 0) {
		/* exactly N calls, one after the other, all counted (priming
		 * the cache, checking an answer): no window, no warm-up */
		conc = 1;
		warmup = 0;
	}
	atomic_store(&phase, warmup > 0 ? PHASE_WARMUP : PHASE_MEASURE);
	int64_t t0 = now_ns();
	for (long n = 0; n < calls; n++) {
		char why[SIGIL_FORWARDER_REASON_SIZE];
		int64_t c0 = now_ns();
		int ok = o.status ? status_once(o.sock, why, sizeof why)
			: verify_once(o.sock, o.name, o.digest, o.size, o.no_cache, &o.ex, why, sizeof why);
		if (!ok) {
			th[0].failed++;
			note_failure(why);
		} else if (th[0].n < 4096) {
			if (!th[0].lat && !(th[0].lat = malloc(4096 * sizeof *th[0].lat)))
				return 1;
			th[0].lat[th[0].n++] = now_ns() - c0;
		}
	}
	for (long i = 0; calls == 0 && i < conc; i++) {
		th[i].o = &o;
		if (pthread_create(&th[i].tid, NULL, rpc_main, &th[i]) != 0) {
			fprintf(stderr, "bench-daemon: pthread_create failed\n");
			exit(1);
		}
	}
	if (calls == 0 && warmup > 0) {
		sleep_s(warmup);
		atomic_store(&phase, PHASE_MEASURE);
	}
	/* calls in flight at the switch started in the warm-up: each thread
	 * counts only calls it starts after reading PHASE_MEASURE */
	if (calls == 0) {
		t0 = now_ns();
		sleep_s(seconds);
	}
	int64_t t1 = now_ns();
	atomic_store(&measure_end_ns, t1);
	atomic_store(&phase, PHASE_STOP);
	size_t total = 0;
	uint64_t failed = 0, warm = 0;
	int oom = 0;
	for (long i = 0; i < conc; i++) {
		if (calls == 0)
			pthread_join(th[i].tid, NULL);
		total += th[i].n;
		failed += th[i].failed;
		warm += th[i].warm;
		oom |= th[i].oom;
	}
	int64_t *all = malloc((total ? total : 1) * sizeof *all);
	if (!all || oom) {
		fprintf(stderr, "bench-daemon: out of memory\n");
		return 1;
	}
	size_t k = 0;
	for (long i = 0; i < conc; i++) {
		if (th[i].n)
			memcpy(all + k, th[i].lat, th[i].n * sizeof *all);
		k += th[i].n;
		free(th[i].lat);
	}
	qsort(all, total, sizeof *all, cmp_i64);
	double elapsed = (double)(t1 - t0) / 1e9;
	char ff[sizeof first_failure];
	json_text(ff, sizeof ff, first_failure);
	printf("{\"mode\":\"rpc\",\"method\":\"%s\",\"concurrency\":%ld,\"no_cache\":%s,\"seconds\":%.3f,\"calls\":%zu,"
		"\"calls_per_second\":%.1f,\"latency_us\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"max\":%.1f},"
		"\"warmup_calls\":%llu,\"failed\":%llu,\"first_failure\":\"%s\"}\n",
		o.status ? "status" : "verify", conc, o.no_cache ? "true" : "false", elapsed, total, (double)total / elapsed,
		(double)percentile(all, total, 50) / 1e3, (double)percentile(all, total, 90) / 1e3,
		(double)percentile(all, total, 99) / 1e3, total ? (double)all[total - 1] / 1e3 : 0.0,
		(unsigned long long)warm, (unsigned long long)failed, ff);
	free(all);
	return failed || total == 0 ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* list: each digest once                                              */

typedef struct item {
	char *name, *digest;
	int64_t size;
} item;

typedef struct list_ctx {
	const char *sock;
	item *items;
	size_t n;
	_Atomic size_t next;
	expectation ex;
	_Atomic uint64_t failed;
} list_ctx;

static void *list_main(void *arg)
{
	list_ctx *c = arg;
	char why[SIGIL_FORWARDER_REASON_SIZE];
	for (;;) {
		size_t i = atomic_fetch_add(&c->next, 1);
		if (i >= c->n)
			break;
		if (!verify_once(c->sock, c->items[i].name, c->items[i].digest, c->items[i].size, false, &c->ex,
				why, sizeof why)) {
			atomic_fetch_add(&c->failed, 1);
			note_failure(why);
		}
	}
	return NULL;
}

static int cmd_list(int argc, char **argv)
{
	list_ctx c = { .ex = { .verdict = 0, .cached = 0 } };
	const char *file = NULL;
	long conc = 1;
	for (int i = 0; i + 1 < argc; i += 2) {
		const char *a = argv[i], *v = argv[i + 1];
		if (strcmp(a, "--socket") == 0) c.sock = v;
		else if (strcmp(a, "--file") == 0) file = v;
		else if (strcmp(a, "--concurrency") == 0) conc = parse_long(v, 1, MAX_THREADS, "--concurrency");
		else if (strcmp(a, "--expect") == 0) {
			if (strcmp(v, "allow") == 0) c.ex.verdict = SIGIL__V1__VERDICT__VERDICT_ALLOW;
			else if (strcmp(v, "deny") == 0) c.ex.verdict = SIGIL__V1__VERDICT__VERDICT_DENY;
			else usage("--expect allow|deny");
		} else usage("unknown option");
	}
	if (argc % 2 || !c.sock || !file)
		usage("list needs --socket and --file");
	FILE *f = fopen(file, "r");
	if (!f) {
		fprintf(stderr, "bench-daemon: %s: %s\n", file, strerror(errno));
		return 2;
	}
	size_t cap = 0;
	char line[2048];
	while (fgets(line, sizeof line, f)) {
		char name[1024], digest[160];
		long long size;
		if (sscanf(line, "%1023s %159s %lld", name, digest, &size) != 3)
			continue;
		if (c.n == cap) {
			cap = cap ? cap * 2 : 1024;
			item *ni = realloc(c.items, cap * sizeof *ni);
			if (!ni)
				return 1;
			c.items = ni;
		}
		c.items[c.n].name = strdup(name);
		c.items[c.n].digest = strdup(digest);
		c.items[c.n].size = size;
		if (!c.items[c.n].name || !c.items[c.n].digest)
			return 1;
		c.n++;
	}
	fclose(f);
	if (c.n == 0)
		usage("the list is empty");
	pthread_t tid[MAX_THREADS];
	int64_t t0 = now_ns();
	for (long i = 0; i < conc; i++)
		if (pthread_create(&tid[i], NULL, list_main, &c) != 0)
			return 1;
	for (long i = 0; i < conc; i++)
		pthread_join(tid[i], NULL);
	double elapsed = (double)(now_ns() - t0) / 1e9;
	char ff[sizeof first_failure];
	json_text(ff, sizeof ff, first_failure);
	uint64_t failed = atomic_load(&c.failed);
	printf("{\"mode\":\"list\",\"concurrency\":%ld,\"calls\":%zu,\"seconds\":%.3f,"
		"\"calls_per_second\":%.1f,\"failed\":%llu,\"first_failure\":\"%s\"}\n",
		conc, c.n, elapsed, (double)c.n / elapsed, (unsigned long long)failed, ff);
	for (size_t i = 0; i < c.n; i++) {
		free(c.items[i].name);
		free(c.items[i].digest);
	}
	free(c.items);
	return failed ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* spawn: two programs, alternately                                    */

typedef struct run_result {
	int64_t wall_ns;
	int64_t cpu_ns;  /* user + system time of the program */
	long maxrss_kib;
	int exit_code; /* -1: killed by a signal */
} run_result;

static int spawn_once(char **cmd, const char *stdin_path, run_result *r)
{
	posix_spawn_file_actions_t fa;
	if (posix_spawn_file_actions_init(&fa) != 0)
		return -1;
	posix_spawn_file_actions_addopen(&fa, 0, stdin_path, O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	pid_t pid;
	int64_t t0 = now_ns();
	int e = posix_spawn(&pid, cmd[0], &fa, NULL, cmd, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (e != 0) {
		fprintf(stderr, "bench-daemon: cannot run %s: %s\n", cmd[0], strerror(e));
		return -1;
	}
	int status;
	struct rusage ru;
	pid_t w;
	while ((w = wait4(pid, &status, 0, &ru)) < 0 && errno == EINTR)
		;
	r->wall_ns = now_ns() - t0;
	if (w != pid)
		return -1;
	r->maxrss_kib = ru.ru_maxrss;
	r->cpu_ns = ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
		((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
	r->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	return 0;
}

/* Peak resident memory of one run of cmd, as the kernel counts it for the
 * program itself: VmHWM read from /proc at its exit (PTRACE_O_TRACEEXIT
 * stops it there, before its memory is released). wait4's ru_maxrss
 * cannot be used: at exec the kernel folds in the high-water mark of the
 * address space being replaced, i.e. of the spawning process (the parent
 * itself with posix_spawn's CLONE_VM, its copy with fork). */
static long peak_kib(char **cmd, const char *stdin_path)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int in = open(stdin_path, O_RDONLY | O_CLOEXEC);
		int out = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
			_exit(127);
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0)
			_exit(127);
		raise(SIGSTOP);
		execve(cmd[0], cmd, environ);
		_exit(127);
	}
	long hwm = -1;
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status))
		return -1;
	ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(long)(PTRACE_O_TRACEEXIT | PTRACE_O_TRACEEXEC));
	ptrace(PTRACE_CONT, pid, NULL, NULL);
	while (waitpid(pid, &status, 0) == pid) {
		if (WIFEXITED(status) || WIFSIGNALED(status))
			break;
		int sig = 0;
		if (status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXIT << 8))) {
			char path[64], line[256];
			snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
			FILE *f = fopen(path, "r");
			while (f && fgets(line, sizeof line, f))
				if (strncmp(line, "VmHWM:", 6) == 0)
					hwm = strtol(line + 6, NULL, 10);
			if (f)
				fclose(f);
		} else if (WIFSTOPPED(status) && WSTOPSIG(status) != SIGTRAP && WSTOPSIG(status) != SIGSTOP) {
			sig = WSTOPSIG(status); /* pass the program's own signals on */
		}
		ptrace(PTRACE_CONT, pid, NULL, (void *)(long)sig);
	}
	return hwm;
}

static void print_series(const char *key, run_result *rs, size_t n, long peak)
{
	int64_t *w = malloc((n ? n : 1) * sizeof *w);
	int64_t *m = malloc((n ? n : 1) * sizeof *m);
	int64_t *c = malloc((n ? n : 1) * sizeof *c);
	if (!w || !m || !c) {
		free(w);
		free(m);
		free(c);
		printf("\"%s\":null", key);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		w[i] = rs[i].wall_ns;
		m[i] = rs[i].maxrss_kib;
		c[i] = rs[i].cpu_ns;
	}
	qsort(w, n, sizeof *w, cmp_i64);
	qsort(c, n, sizeof *c, cmp_i64);
	qsort(m, n, sizeof *m, cmp_i64);
	/* ru_maxrss is kept for reference: it is max(spawner, program) */
	printf("\"%s\":{\"runs\":%zu,\"wall_ms\":{\"median\":%.3f,\"p10\":%.3f,\"p90\":%.3f},"
		"\"cpu_ms\":{\"median\":%.3f},\"peak_rss_kib\":%ld,\"ru_maxrss_kib\":{\"median\":%lld,\"max\":%lld}}", key, n,
		(double)percentile(w, n, 50) / 1e6, (double)percentile(w, n, 10) / 1e6,
		(double)percentile(w, n, 90) / 1e6, (double)percentile(c, n, 50) / 1e6, peak,
		(long long)percentile(m, n, 50),
		(long long)(n ? m[n - 1] : 0));
	free(w);
	free(m);
	free(c);
}

static int cmd_spawn(int argc, char **argv)
{
	long rounds = 20, warm = 3;
	const char *stdin_path = "/dev/null";
	long expect_a = 0, expect_b = 0;
	int i = 0;
	for (; i < argc && strcmp(argv[i], "--") != 0; i += 2) {
		if (i + 1 >= argc)
			usage("option without a value");
		const char *a = argv[i], *v = argv[i + 1];
		if (strcmp(a, "--rounds") == 0) rounds = parse_long(v, 1, 1000000, "--rounds");
		else if (strcmp(a, "--warmup") == 0) warm = parse_long(v, 0, 1000, "--warmup");
		else if (strcmp(a, "--stdin") == 0) stdin_path = v;
		else if (strcmp(a, "--expect-exit-a") == 0) expect_a = parse_long(v, 0, 255, "--expect-exit-a");
		else if (strcmp(a, "--expect-exit-b") == 0) expect_b = parse_long(v, 0, 255, "--expect-exit-b");
		else usage("unknown option");
	}
	/* -- A... -- B... */
	if (i >= argc)
		usage("spawn needs -- A ARGS... -- B ARGS...");
	char **a = argv + i + 1;
	int j = i + 1;
	while (j < argc && strcmp(argv[j], "--") != 0)
		j++;
	if (j >= argc || j == i + 1 || j + 1 >= argc)
		usage("spawn needs -- A ARGS... -- B ARGS...");
	argv[j] = NULL;
	char **b = argv + j + 1;
	run_result *ra = calloc((size_t)rounds, sizeof *ra), *rb = calloc((size_t)rounds, sizeof *rb);
	if (!ra || !rb)
		return 1;
	long bad = 0;
	for (long r = -warm; r < rounds; r++) {
		run_result x, y;
		/* alternate which one goes first, so that neither always runs
		 * just after the other */
		int a_first = (r & 1) == 0;
		if (spawn_once(a_first ? a : b, stdin_path, a_first ? &x : &y) != 0 ||
		    spawn_once(a_first ? b : a, stdin_path, a_first ? &y : &x) != 0)
			return 1;
		if (x.exit_code != expect_a || y.exit_code != expect_b) {
			char m[200];
			snprintf(m, sizeof m, "round %ld: exit codes %d and %d, expected %ld and %ld", r,
				x.exit_code, y.exit_code, expect_a, expect_b);
			note_failure(m);
			bad++;
		}
		if (r >= 0) {
			ra[r] = x;
			rb[r] = y;
		}
	}
	/* peak memory: the largest of three traced runs of each */
	long pa = -1, pb = -1;
	for (int k = 0; k < 3; k++) {
		long x = peak_kib(a, stdin_path), y = peak_kib(b, stdin_path);
		pa = x > pa ? x : pa;
		pb = y > pb ? y : pb;
	}
	if (pa < 0 || pb < 0) {
		note_failure("cannot read the peak memory of a traced run");
		bad++;
	}
	printf("{\"mode\":\"spawn\",\"rounds\":%ld,", rounds);
	print_series("a", ra, (size_t)rounds, pa);
	printf(",");
	print_series("b", rb, (size_t)rounds, pb);
	char ff[sizeof first_failure];
	json_text(ff, sizeof ff, first_failure);
	printf(",\"failed\":%ld,\"first_failure\":\"%s\"}\n", bad, ff);
	free(ra);
	free(rb);
	return bad ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* serve: the transport comparator                                     */

typedef struct serve_ctx {
	int lfd;
	const uint8_t *framed; /* 5-byte gRPC prefix + canned response */
	size_t framed_len;
} serve_ctx;

typedef struct serve_stream {
	const serve_ctx *ctx;
	size_t sent;
	int32_t answered; /* stream id answered, 0 none */
} serve_stream;

static ssize_t serve_read(nghttp2_session *s, int32_t stream_id, uint8_t *buf, size_t length,
	uint32_t *data_flags, nghttp2_data_source *source, void *user_data)
{
	serve_stream *st = user_data;
	size_t left = st->ctx->framed_len - st->sent;
	size_t n = left < length ? left : length;
	memcpy(buf, st->ctx->framed + st->sent, n);
	st->sent += n;
	if (st->sent == st->ctx->framed_len) {
		/* the trailers end the stream (PROTOCOL-HTTP2.md "Responses") */
		*data_flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
		static const nghttp2_nv trailer[] = {
			{ (uint8_t *)"grpc-status", (uint8_t *)"0", 11, 1, NGHTTP2_NV_FLAG_NONE },
		};
		if (nghttp2_submit_trailer(s, stream_id, trailer, 1) != 0)
			return NGHTTP2_ERR_CALLBACK_FAILURE;
	}
	return (ssize_t)n;
}

static int serve_frame(nghttp2_session *s, const nghttp2_frame *f, void *user_data)
{
	serve_stream *st = user_data;
	/* the request is complete when its stream half-closes; its bytes
	 * are not looked at (the comparator answers from memory) */
	if ((f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA) ||
	    !(f->hd.flags & NGHTTP2_FLAG_END_STREAM) || st->answered)
		return 0;
	static const nghttp2_nv hdrs[] = {
		{ (uint8_t *)":status", (uint8_t *)"200", 7, 3, NGHTTP2_NV_FLAG_NONE },
		{ (uint8_t *)"content-type", (uint8_t *)"application/grpc", 12, 16, NGHTTP2_NV_FLAG_NONE },
	};
	nghttp2_data_provider prd = { .read_callback = serve_read };
	st->answered = f->hd.stream_id;
	st->sent = 0;
	return nghttp2_submit_response(s, f->hd.stream_id, hdrs, 2, &prd) == 0 ? 0 : NGHTTP2_ERR_CALLBACK_FAILURE;
}

static void serve_conn(const serve_ctx *ctx, int fd, nghttp2_session_callbacks *cbs)
{
	serve_stream st = { .ctx = ctx };
	nghttp2_session *s;
	if (nghttp2_session_server_new(&s, cbs, &st) != 0)
		return;
	nghttp2_settings_entry set[] = { { NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100 } };
	nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, set, 1);
	uint8_t buf[16384];
	for (;;) {
		const uint8_t *chunk;
		ssize_t n;
		size_t queued = 0;
		int bad = 0;
		while (!bad && (n = nghttp2_session_mem_send(s, &chunk)) > 0) {
			if ((size_t)n > sizeof buf - queued) {
				bad = write(fd, buf, queued) != (ssize_t)queued;
				queued = 0;
			}
			if ((size_t)n > sizeof buf)
				bad = bad || write(fd, chunk, (size_t)n) != n;
			else {
				memcpy(buf + queued, chunk, (size_t)n);
				queued += (size_t)n;
			}
		}
		if (bad || (queued && write(fd, buf, queued) != (ssize_t)queued))
			break;
		if (!nghttp2_session_want_read(s) && !nghttp2_session_want_write(s))
			break;
		ssize_t r = read(fd, buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || nghttp2_session_mem_recv(s, buf, (size_t)r) < 0)
			break;
	}
	nghttp2_session_del(s);
}

static void *serve_main(void *arg)
{
	const serve_ctx *ctx = arg;
	nghttp2_session_callbacks *cbs;
	if (nghttp2_session_callbacks_new(&cbs) != 0)
		return NULL;
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, serve_frame);
	for (;;) {
		int fd = accept4(ctx->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			break;
		}
		serve_conn(ctx, fd, cbs);
		close(fd);
	}
	nghttp2_session_callbacks_del(cbs);
	return NULL;
}

static int cmd_serve(int argc, char **argv)
{
	const char *sock = NULL, *resp = NULL;
	long threads = 8;
	for (int i = 0; i + 1 < argc; i += 2) {
		const char *a = argv[i], *v = argv[i + 1];
		if (strcmp(a, "--socket") == 0) sock = v;
		else if (strcmp(a, "--response") == 0) resp = v;
		else if (strcmp(a, "--threads") == 0) threads = parse_long(v, 1, MAX_THREADS, "--threads");
		else usage("unknown option");
	}
	if (argc % 2 || !sock || !resp)
		usage("serve needs --socket and --response");
	static uint8_t framed[5 + MAX_RESPONSE];
	FILE *f = fopen(resp, "rb");
	if (!f) {
		fprintf(stderr, "bench-daemon: %s: %s\n", resp, strerror(errno));
		return 2;
	}
	size_t n = fread(framed + 5, 1, MAX_RESPONSE, f);
	fclose(f);
	framed[0] = 0;
	framed[1] = (uint8_t)(n >> 24);
	framed[2] = (uint8_t)(n >> 16);
	framed[3] = (uint8_t)(n >> 8);
	framed[4] = (uint8_t)n;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(sock) >= sizeof sa.sun_path)
		usage("socket path too long");
	memcpy(sa.sun_path, sock, strlen(sock));
	unlink(sock);
	serve_ctx ctx = { .framed = framed, .framed_len = n + 5 };
	ctx.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ctx.lfd < 0 || bind(ctx.lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(ctx.lfd, 512) != 0) {
		fprintf(stderr, "bench-daemon: cannot listen on %s: %s\n", sock, strerror(errno));
		return 1;
	}
	/* serves until SIGTERM or SIGINT, then exits normally (so that a
	 * profiler running it writes its data) */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	pthread_t tid;
	for (long i = 0; i < threads; i++)
		if (pthread_create(&tid, NULL, serve_main, &ctx) != 0)
			return 1;
	int sig;
	sigwait(&stop, &sig);
	unlink(sock);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2)
		usage("no mode");
	if (strcmp(argv[1], "rpc") == 0)
		return cmd_rpc(argc - 2, argv + 2);
	if (strcmp(argv[1], "list") == 0)
		return cmd_list(argc - 2, argv + 2);
	if (strcmp(argv[1], "spawn") == 0)
		return cmd_spawn(argc - 2, argv + 2);
	if (strcmp(argv[1], "serve") == 0)
		return cmd_serve(argc - 2, argv + 2);
	usage("unknown mode");
}
