/* credhelper.c - running credential programs on a deadline: docker's
 * `docker-credential-<name> get` helpers (docker-credential-helpers
 * client.Get) and, for kubecred.c, kubelet's exec plugins.
 *
 * A verifier sits on containerd's pull path: a helper that hangs must not
 * hang the pull. Each program runs in its own process group so that the
 * whole group (a shell script and what it started) is killed when the
 * deadline passes, and its output is capped. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "bounds.h"
#include "cleanup.h"
#include "credentials_internal.h"
#include "errors.h"
#include "jsonutil.h"

extern char **environ;

int64_t sigil__cred_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sigil__proc_result_clear(sigil__proc_result *r)
{
	if (!r)
		return;
	if (r->out)
		explicit_bzero(r->out, r->out_len);
	free(r->out);
	free(r->errout);
	memset(r, 0, sizeof *r);
}

typedef struct obuf {
	char *data;
	size_t len, cap, max;
	bool overflow;
} obuf;

/* append; past `max` bytes only the overflow flag is set */
static int obuf_add(obuf *b, const char *p, size_t n)
{
	if (n > b->max - b->len) {
		n = b->max - b->len;
		b->overflow = true;
	}
	if (n == 0)
		return 0;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *d = realloc(b->data, cap);
		if (!d)
			return -1;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
	return 0;
}

static void obuf_free(obuf *b)
{
	if (b->data)
		explicit_bzero(b->data, b->len);
	free(b->data);
	b->data = NULL;
}

static void kill_and_reap(pid_t pid)
{
	/* the child is its group's leader (POSIX_SPAWN_SETPGROUP, pgid 0) */
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

sigil_status sigil__cred_run(const char *path, char *const argv[], char *const envp[],
	const uint8_t *in, size_t in_len, int64_t deadline_ms, const char *what,
	sigil__proc_result *res, sigil_error *err)
{
	if (sigil__cred_now_ms() >= deadline_ms)
		return sigil__err(err, SIGIL_ERR_NETWORK, "%s: deadline passed before it could run", what);

	/* stdin is a socket so that a child which exits without reading it
	 * gets us EPIPE from send(MSG_NOSIGNAL), not a SIGPIPE for the whole
	 * daemon. */
	int insv[2] = { -1, -1 }, outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, insv) < 0)
		return sigil__err(err, SIGIL_ERR_IO, "%s: socketpair: %s", what, strerror(errno));
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		int e = errno;
		close_fd(&insv[0]); close_fd(&insv[1]);
		close_fd(&outp[0]); close_fd(&outp[1]);
		return sigil__err(err, SIGIL_ERR_IO, "%s: pipe: %s", what, strerror(e));
	}

	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_adddup2(&fa, insv[1], 0);
	posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	sigset_t none, dfl;
	sigemptyset(&none);
	sigemptyset(&dfl);
	/* a daemon may ignore or catch these; the program gets the defaults */
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGHUP);
	sigaddset(&dfl, SIGQUIT);
	sigaddset(&dfl, SIGCHLD);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
		POSIX_SPAWN_SETSIGDEF);
	pid_t pid;
	int rc = posix_spawn(&pid, path, &fa, &attr, argv, envp ? envp : environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close_fd(&insv[1]);
	close_fd(&outp[1]);
	close_fd(&errp[1]);
	if (rc != 0) {
		close_fd(&insv[0]); close_fd(&outp[0]); close_fd(&errp[0]);
		return sigil__err(err, SIGIL_ERR_IO, "%s: cannot run %s: %s", what, path, strerror(rc));
	}
	fcntl(insv[0], F_SETFL, O_NONBLOCK);
	fcntl(outp[0], F_SETFL, O_NONBLOCK);
	fcntl(errp[0], F_SETFL, O_NONBLOCK);
	if (in_len == 0)
		close_fd(&insv[0]);

	obuf out = { .max = SIGIL_MAX_CRED_OUTPUT }, eo = { .max = SIGIL_MAX_CRED_STDERR };
	size_t written = 0;
	sigil_status st = SIGIL_STATUS_OK;
	bool timed_out = false;
	while (outp[0] >= 0 || errp[0] >= 0) {
		int64_t left = deadline_ms - sigil__cred_now_ms();
		if (left <= 0) {
			timed_out = true;
			break;
		}
		struct pollfd pf[3];
		nfds_t n = 0;
		int idx_in = -1, idx_out = -1, idx_err = -1;
		if (insv[0] >= 0) { idx_in = (int)n; pf[n++] = (struct pollfd){ insv[0], POLLOUT, 0 }; }
		if (outp[0] >= 0) { idx_out = (int)n; pf[n++] = (struct pollfd){ outp[0], POLLIN, 0 }; }
		if (errp[0] >= 0) { idx_err = (int)n; pf[n++] = (struct pollfd){ errp[0], POLLIN, 0 }; }
		int pr = poll(pf, n, left > INT_MAX ? INT_MAX : (int)left);
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			st = sigil__err(err, SIGIL_ERR_IO, "%s: poll: %s", what, strerror(errno));
			break;
		}
		if (idx_in >= 0 && pf[idx_in].revents) {
			ssize_t w = send(insv[0], in + written, in_len - written, MSG_NOSIGNAL);
			if (w > 0)
				written += (size_t)w;
			/* EPIPE: the program does not read its input; that is its
			 * business, its answer still counts */
			if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == in_len)
				close_fd(&insv[0]);
		}
		int fds[2] = { idx_out, idx_err };
		for (int k = 0; k < 2; k++) {
			if (fds[k] < 0 || !pf[fds[k]].revents)
				continue;
			int *fd = k == 0 ? &outp[0] : &errp[0];
			obuf *b = k == 0 ? &out : &eo;
			char buf[4096];
			ssize_t r = read(*fd, buf, sizeof buf);
			if (r > 0) {
				if (obuf_add(b, buf, (size_t)r) < 0) {
					st = sigil__err_oom(err);
					break;
				}
			} else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
				close_fd(fd);
			}
		}
		if (st != SIGIL_STATUS_OK)
			break;
		if (out.overflow) {
			st = sigil__err(err, SIGIL_ERR_LIMIT, "%s: output exceeds %u bytes", what,
				SIGIL_MAX_CRED_OUTPUT);
			break;
		}
	}
	close_fd(&insv[0]);
	close_fd(&outp[0]);
	close_fd(&errp[0]);

	int wstatus = 0;
	bool reaped = false;
	if (st == SIGIL_STATUS_OK && !timed_out) {
		/* both outputs closed: the program is exiting; wait for it until
		 * the deadline */
		for (;;) {
			pid_t w = waitpid(pid, &wstatus, WNOHANG);
			if (w == pid) {
				reaped = true;
				break;
			}
			if (w < 0 && errno != EINTR) {
				st = sigil__err(err, SIGIL_ERR_IO, "%s: waitpid: %s", what, strerror(errno));
				kill_and_reap(pid);
				reaped = true;
				break;
			}
			int64_t left = deadline_ms - sigil__cred_now_ms();
			if (left <= 0) {
				timed_out = true;
				break;
			}
			poll(NULL, 0, left < 10 ? (int)left : 10);
		}
	}
	if (!reaped)
		kill_and_reap(pid);
	if (timed_out) {
		obuf_free(&out);
		obuf_free(&eo);
		return sigil__err(err, SIGIL_ERR_NETWORK, "%s: timed out (killed at the deadline)", what);
	}
	if (st != SIGIL_STATUS_OK) {
		obuf_free(&out);
		obuf_free(&eo);
		return st;
	}
	if (!out.data && !(out.data = calloc(1, 1))) {
		obuf_free(&eo);
		return sigil__err_oom(err);
	}
	if (!eo.data && !(eo.data = calloc(1, 1))) {
		obuf_free(&out);
		return sigil__err_oom(err);
	}
	res->out = out.data;
	res->out_len = out.len;
	res->errout = eo.data;
	res->errout_len = eo.len;
	res->exit_status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
	return SIGIL_STATUS_OK;
}

sigil_status sigil__cred_path_search(const char *name, const char *path_env, char **out,
	bool *found, sigil_error *err)
{
	if (!path_env)
		path_env = "/usr/local/bin:/usr/bin:/bin";
	const char *p = path_env;
	size_t name_len = strlen(name);
	for (unsigned n = 0; n < SIGIL_MAX_PATH_ENTRIES; n++) {
		const char *end = strchr(p, ':');
		size_t dlen = end ? (size_t)(end - p) : strlen(p);
		if (dlen > 0 && p[0] == '/' && dlen + 1 + name_len < PATH_MAX) {
			char cand[PATH_MAX];
			memcpy(cand, p, dlen);
			cand[dlen] = '/';
			memcpy(cand + dlen + 1, name, name_len + 1);
			struct stat sb;
			if (stat(cand, &sb) == 0 && S_ISREG(sb.st_mode) && access(cand, X_OK) == 0) {
				char *r = strdup(cand);
				if (!r)
					return sigil__err_oom(err);
				*out = r;
				*found = true;
				return SIGIL_STATUS_OK;
			}
		}
		if (!end)
			break;
		p = end + 1;
	}
	*found = false;
	return SIGIL_STATUS_OK;
}

/* a short printable excerpt of a program's output for an error message */
static void excerpt(const char *s, size_t len, char *dst, size_t cap)
{
	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' '))
		len--;
	size_t o = 0;
	for (size_t i = 0; i < len && o + 4 < cap; i++)
		dst[o++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : ' ';
	if (len > 0 && o + 4 >= cap) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = 0;
}

static bool is_not_found(const char *s, size_t len)
{
	/* credentials/error.go: the helper prints "credentials not found in
	 * native keychain"; compare its start, after leading blanks */
	static const char msg[] = "credentials not found";
	while (len > 0 && (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')) {
		s++;
		len--;
	}
	return len >= sizeof msg - 1 && memcmp(s, msg, sizeof msg - 1) == 0;
}

static sigil_status dup_field(json_object *o, const char *key, const char *what, char **dst,
	sigil_error *err)
{
	const char *v = NULL;
	bool present = false;
	if (sigil__json_get_string(o, key, &v, &present, err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "%s: invalid output", what);
	if (present && v[0] && !(*dst = strdup(v)))
		return sigil__err_oom(err);
	return SIGIL_STATUS_OK;
}

sigil_status sigil__credhelper_get(const char *helper, const char *server_url,
	int64_t deadline_ms, sigil__credential *out, bool *found, sigil_error *err)
{
	char prog[256];
	int n = snprintf(prog, sizeof prog, "docker-credential-%s", helper);
	if (n < 0 || (size_t)n >= sizeof prog || strchr(helper, '/') || !helper[0])
		return sigil__err(err, SIGIL_ERR_POLICY, "invalid credential helper name \"%.64s\"",
			helper);
	_cleanup_free_ char *path = NULL;
	bool have = false;
	SIGIL_TRY(sigil__cred_path_search(prog, secure_getenv("PATH"), &path, &have, err));
	if (!have)
		return sigil__err(err, SIGIL_ERR_NETWORK, "%s: executable file not found in $PATH", prog);

	char *argv[] = { prog, (char *)"get", NULL };
	sigil__proc_result r = { 0 };
	SIGIL_TRY(sigil__cred_run(path, argv, NULL, (const uint8_t *)server_url, strlen(server_url),
		deadline_ms, prog, &r, err));
	if (r.exit_status != 0) {
		if (is_not_found(r.out, r.out_len)) {
			sigil__proc_result_clear(&r);
			*found = false;
			return SIGIL_STATUS_OK;
		}
		char ex[160];
		excerpt(r.out_len ? r.out : r.errout, r.out_len ? r.out_len : r.errout_len, ex, sizeof ex);
		int code = r.exit_status;
		sigil__proc_result_clear(&r);
		if (code < 0)
			return sigil__err(err, SIGIL_ERR_NETWORK,
				"%s get for %s: killed by a signal: %s", prog, server_url, ex);
		return sigil__err(err, SIGIL_ERR_NETWORK, "%s get for %s: exit status %d: %s", prog,
			server_url, code, ex);
	}

	/* client.Get decodes {"ServerURL","Username","Secret"}; the output is
	 * a secret, so it never goes into a message */
	json_object *j = NULL;
	sigil_error perr = SIGIL_ERROR_INIT;
	sigil_status ps = sigil__json_parse_object((const uint8_t *)r.out, r.out_len, "output", &j, &perr);
	sigil__proc_result_clear(&r);
	if (ps != SIGIL_STATUS_OK)
		return sigil__err(err, SIGIL_ERR_NETWORK, "%s get for %s: output is not a JSON object",
			prog, server_url);
	_cleanup_(json_object_putp) json_object *jo = j;
	char *user = NULL, *secret = NULL;
	if (dup_field(jo, "Username", prog, &user, err) != SIGIL_STATUS_OK ||
	    dup_field(jo, "Secret", prog, &secret, err) != SIGIL_STATUS_OK) {
		free(user);
		if (secret)
			explicit_bzero(secret, strlen(secret));
		free(secret);
		if (err)
			err->category = SIGIL_ERR_NETWORK;
		return SIGIL_STATUS_ERROR;
	}
	if (!secret) {
		/* nothing usable: as if not found */
		free(user);
		*found = false;
		return SIGIL_STATUS_OK;
	}
	sigil__credential c = { 0 };
	if (user && strcmp(user, "<token>") == 0) {
		/* docker/cli native_store.go: tokenUsername */
		free(user);
		c.identity_token = secret;
	} else {
		c.username = user;
		c.password = secret;
	}
	*out = c;
	*found = true;
	return SIGIL_STATUS_OK;
}
