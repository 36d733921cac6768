/* inline_fallback.c - verify without sigild by running the sigil CLI. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "forwarder_args.h"
#include "inline_fallback.h"

extern char **environ;

static int say(char *reason, size_t len, const char *msg, const char *detail)
{
	snprintf(reason, len, "%s%s%s", msg, detail ? ": " : "", detail ? detail : "");
	return 1;
}

int sigil_forwarder_inline(const char *cli, const char *config_dir, const char *name,
	const char *digest, int64_t deadline_ms, char *reason, size_t reason_len)
{
	int64_t left = deadline_ms - sigil_forwarder_now_ms();
	if (left < 500)
		return say(reason, reason_len, "no time left for inline verification", NULL);
	char ref[2048], timeout[32];
	/* "<name>@<digest>": the reference grammar keeps the tag and verifies
	 * the digest; a name that already carries the digest is used as is */
	if (strstr(name, "@"))
		snprintf(ref, sizeof ref, "%s", name);
	else
		snprintf(ref, sizeof ref, "%s@%s", name, digest);
	/* whole seconds, rounded down, at least 1: the CLI's own deadline */
	snprintf(timeout, sizeof timeout, "%lld", (long long)(left / 1000 > 0 ? left / 1000 : 1));
	int out[2];
	if (pipe2(out, O_CLOEXEC) != 0)
		return say(reason, reason_len, "inline verification: pipe", strerror(errno));
	pid_t pid = fork();
	if (pid < 0) {
		close(out[0]);
		close(out[1]);
		return say(reason, reason_len, "inline verification: fork", strerror(errno));
	}
	if (pid == 0) {
		dup2(out[1], STDOUT_FILENO);
		int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (devnull >= 0) {
			dup2(devnull, STDIN_FILENO);
			dup2(devnull, STDERR_FILENO);
		}
		setpgid(0, 0);
		char *const argv[] = { (char *)cli, "verify", "--config-dir", (char *)config_dir,
			"--timeout", timeout, ref, NULL };
		execve(cli, argv, environ);
		_exit(127);
	}
	close(out[1]);
	char buf[4096];
	size_t n = 0;
	int killed = 0;
	for (;;) {
		int64_t wait = deadline_ms - sigil_forwarder_now_ms();
		if (wait <= 0) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			killed = 1;
			break;
		}
		struct pollfd p = { .fd = out[0], .events = POLLIN };
		int r = poll(&p, 1, (int)(wait > 1000 ? 1000 : wait));
		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0)
			continue;
		ssize_t got = read(out[0], buf + n, sizeof buf - 1 - n);
		if (got <= 0)
			break;
		n += (size_t)got;
		if (n == sizeof buf - 1)
			break; /* the first line is all we want; the rest is bounded away */
	}
	close(out[0]);
	buf[n] = '\0';
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	char *nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	if (killed)
		return say(reason, reason_len, "inline verification did not finish in time", NULL);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return say(reason, reason_len, "inline verification: cannot run", cli);
	snprintf(reason, reason_len, "%s", buf[0] ? buf : "inline verification gave no reason");
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
