/* doctor_probe.c - `containerd --version` and sigild's Status RPC for
 * `sigil doctor` (see doctor_probe.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "doctor_probe.h"
#include "forwarder_args.h"
#include "status_rpc.h"

extern char **environ;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int sigil__doctor_parse_version(const char *output, char *version, size_t version_len)
{
	const char *p = output;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		const char *w = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			p++;
		const char *t = w;
		if (t < p && *t == 'v')
			t++;
		const char *d = t;
		while (d < p && *d >= '0' && *d <= '9')
			d++;
		if (d > t && d + 1 < p && *d == '.' && d[1] >= '0' && d[1] <= '9') {
			size_t n = (size_t)(p - t);
			if (n >= version_len)
				return -1;
			memcpy(version, t, n);
			version[n] = '\0';
			return 0;
		}
	}
	return -1;
}

int sigil__doctor_version_at_least(const char *version, unsigned major, unsigned minor)
{
	char *end = NULL;
	errno = 0;
	unsigned long ma = strtoul(version, &end, 10);
	if (errno || end == version || *end != '.')
		return -1;
	const char *m = end + 1;
	unsigned long mi = strtoul(m, &end, 10);
	if (errno || end == m)
		return -1;
	if (ma != major)
		return ma > major;
	return mi >= minor;
}

int sigil__doctor_containerd_version(const char *exe, char *version, size_t version_len,
	char *why, size_t why_len)
{
	const char *prog = exe ? exe : "containerd";
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) != 0) {
		snprintf(why, why_len, "pipe: %s", strerror(errno));
		return -1;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
	char *argv[] = { (char *)prog, (char *)"--version", NULL };
	pid_t pid;
	/* a bare name is looked up in PATH, as a shell would */
	int r = strchr(prog, '/') ? posix_spawn(&pid, prog, &fa, NULL, argv, environ) :
		posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (r != 0) {
		close(fds[0]);
		snprintf(why, why_len, "cannot run %s%s: %s", prog,
			strchr(prog, '/') ? "" : " (looked up in PATH)", strerror(r));
		return -1;
	}
	char out[4096];
	size_t n = 0;
	int64_t deadline = now_ms() + SIGIL_DOCTOR_VERSION_TIMEOUT_MS;
	int timed_out = 0;
	for (;;) {
		int64_t left = deadline - now_ms();
		if (left <= 0) {
			timed_out = 1;
			break;
		}
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		int pr = poll(&pfd, 1, (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0) {
			timed_out = pr == 0;
			break;
		}
		char tmp[1024];
		ssize_t k = read(fds[0], tmp, sizeof tmp);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		/* keep the first 4 KiB; drain the rest so the child can exit */
		size_t take = (size_t)k < sizeof out - 1 - n ? (size_t)k : sizeof out - 1 - n;
		memcpy(out + n, tmp, take);
		n += take;
	}
	close(fds[0]);
	out[n] = '\0';
	if (timed_out)
		kill(pid, SIGKILL);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	char *nl = strchr(out, '\n');
	if (timed_out) {
		snprintf(why, why_len, "%s --version did not finish within %d ms", prog,
			SIGIL_DOCTOR_VERSION_TIMEOUT_MS);
		return -1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (nl)
			*nl = '\0';
		if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
			snprintf(why, why_len, "cannot run %s: not found or not executable", prog);
		else
			snprintf(why, why_len, "%s --version failed (%s %d): %.200s", prog,
				WIFEXITED(status) ? "exit status" : "signal",
				WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), out);
		return -1;
	}
	if (sigil__doctor_parse_version(out, version, version_len) != 0) {
		if (nl)
			*nl = '\0';
		snprintf(why, why_len, "%s --version printed no version: \"%.200s\"", prog, out);
		return -1;
	}
	return 0;
}

int sigil__doctor_sigild_status(const char *socket, char *about, size_t about_len)
{
	Sigil__V1__StatusResponse *r = sigil__status_rpc(socket, SIGIL_DOCTOR_SIGILD_TIMEOUT_MS, about, about_len);
	if (!r)
		return -1;
	snprintf(about, about_len, "sigild %s, mode %s", r->version, r->mode);
	sigil__v1__status_response__free_unpacked(r, NULL);
	return 0;
}
