/* test-sigild-server.c - the gRPC server's pure parts: the Verify deadline
 * arithmetic and the checks sigild_server_start makes before it binds
 * (arguments, socket path length, what already sits at the socket path).
 * Serving itself is tested for real by tests/daemon/test-sigild.py. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "check.h"
#include "server.h"

static char tmpdir[] = "/tmp/sigil-server-test-XXXXXX";
static int logged;

static void quiet_log(sigild_log_level level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
	logged++;
}

static void test_deadline(void)
{
	const int64_t now = 1000000;

	/* no client deadline: the configured bound */
	CHECK_INTEQ(sigild_server_deadline_ms(now, INT64_MAX, 7500), now + 7500);
	/* a default when the configuration gives none */
	CHECK_INTEQ(sigild_server_deadline_ms(now, INT64_MAX, 0), now + 7500);
	/* the client's deadline, less the margin to answer in */
	CHECK_INTEQ(sigild_server_deadline_ms(now, 2500, 7500), now + 2500 - SIGILD_DEADLINE_MARGIN_MS);
	/* the configured bound when it is the nearer one */
	CHECK_INTEQ(sigild_server_deadline_ms(now, 10000, 7500), now + 7500);
	/* very short deadlines: half of what is left */
	CHECK_INTEQ(sigild_server_deadline_ms(now, 150, 7500), now + 75);
	CHECK_INTEQ(sigild_server_deadline_ms(now, 0, 7500), now);
	CHECK_INTEQ(sigild_server_deadline_ms(now, -5, 7500), now);
}

static sigil_status start(const char *path, size_t workers, sigil_error *err)
{
	sigild_server *srv = NULL;
	sigild_server_options o;

	memset(&o, 0, sizeof(o));
	o.socket_path = path;
	o.workers = workers;
	o.verify_timeout_ms = 7500;
	o.log = quiet_log;
	/* every case below fails before the service is used */
	return sigild_server_start(&srv, (sigild_service *)(uintptr_t)1, &o, err);
}

static void test_bad_arguments(void)
{
	sigil_error err = SIGIL_ERROR_INIT;
	char path[256];

	snprintf(path, sizeof(path), "%s/a.sock", tmpdir);
	CHECK(start(path, 0, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_USAGE);
	CHECK_CONTAINS(err.message, "workers: 0 is not between 1 and");

	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(start(path, SIGILD_MAX_WORKERS + 1, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_USAGE);

	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(start("", 1, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_USAGE);
}

static void test_path_too_long(void)
{
	sigil_error err = SIGIL_ERROR_INIT;
	char path[300];

	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	CHECK(start(path, 1, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_LIMIT);
	CHECK_CONTAINS(err.message, "is longer than");
}

static void test_not_a_socket(void)
{
	sigil_error err = SIGIL_ERROR_INIT;
	char path[256];
	FILE *f;
	struct stat st;

	snprintf(path, sizeof(path), "%s/file.sock", tmpdir);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f)
		fclose(f);
	CHECK(start(path, 1, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_USAGE);
	CHECK_CONTAINS(err.message, "exists and is not a socket");
	CHECK(stat(path, &st) == 0 && S_ISREG(st.st_mode)); /* left alone */
	unlink(path);
}

static void test_live_socket(void)
{
	sigil_error err = SIGIL_ERROR_INIT;
	struct sockaddr_un sa;
	struct stat st;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/live.sock", tmpdir);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(fd >= 0);
	CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	CHECK(listen(fd, 1) == 0);
	CHECK(start(sa.sun_path, 1, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_USAGE);
	CHECK_CONTAINS(err.message, "another process answers on");
	CHECK(stat(sa.sun_path, &st) == 0 && S_ISSOCK(st.st_mode)); /* not displaced */
	close(fd);
	unlink(sa.sun_path);
}

/* A server with no client never calls the service: start and stop it for
 * real to see the directory, the socket's mode and its removal. */
static void test_start_stop(void)
{
	sigil_error err = SIGIL_ERROR_INIT;
	sigild_server *srv = NULL;
	sigild_server_options o;
	char dir[256], path[256];
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/run/sigil", tmpdir);
	snprintf(path, sizeof(path), "%s/sigild.sock", dir);
	memset(&o, 0, sizeof(o));
	o.socket_path = path;
	o.workers = 2;
	o.verify_timeout_ms = 7500;
	o.log = quiet_log;
	umask(022);
	CHECK(sigild_server_start(&srv, (sigild_service *)(uintptr_t)1, &o, &err) ==
		SIGIL_STATUS_OK);
	CHECK_STREQ(err.message, "");
	CHECK(stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0755);
	CHECK(lstat(path, &st) == 0 && S_ISSOCK(st.st_mode));
	CHECK_INTEQ(st.st_mode & 07777, 0600);
	CHECK_INTEQ(umask(022), 022); /* restored after the bind */

	/* a second server on the same path is refused while the first lives */
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(start(path, 1, &err) == SIGIL_STATUS_ERROR);
	CHECK_CONTAINS(err.message, "another process answers on");

	sigild_server_stop(srv, 1000);
	CHECK(lstat(path, &st) != 0 && errno == ENOENT);
	sigild_server_stop(NULL, 0);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	RUN(test_deadline);
	RUN(test_bad_arguments);
	RUN(test_path_too_long);
	RUN(test_not_a_socket);
	RUN(test_live_socket);
	RUN(test_start_stop);
	{
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmpdir);
	}
	return check_summary();
}
