/* testserver.h - start and stop tests/unit/http-test-server.py for the
 * HTTP and auth unit tests, and generate a throwaway CA and certificates
 * with the openssl CLI in a private temporary directory. */
#ifndef SIGIL_TESTS_TESTSERVER_H
#define SIGIL_TESTS_TESTSERVER_H

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <json-c/json.h>

#ifndef SIGIL_TEST_DATA
#define SIGIL_TEST_DATA "tests"
#endif

typedef struct test_server {
	pid_t pid;
	int in_fd;   /* the server's stdin: closing it stops the server */
	int port;
} test_server;

/* test_server_start - argv extra arguments (NULL-terminated, may be
 * NULL). Exits the test program if the server does not come up. */
static inline void test_server_start(test_server *s, const char *const *extra)
{
	int in[2], out[2];
	if (pipe(in) != 0 || pipe(out) != 0) {
		perror("pipe");
		exit(2);
	}
	const char *argv[16] = { "/usr/bin/python3", SIGIL_TEST_DATA "/unit/http-test-server.py" };
	int n = 2;
	for (int i = 0; extra && extra[i] && n < 15; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(2);
	}
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]); close(in[1]); close(out[0]); close(out[1]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	char line[64];
	size_t got = 0;
	while (got < sizeof(line) - 1) {
		ssize_t r = read(out[0], line + got, 1);
		if (r <= 0)
			break;
		if (line[got] == '\n')
			break;
		got++;
	}
	line[got] = 0;
	close(out[0]);
	if (strncmp(line, "PORT ", 5) != 0) {
		fprintf(stderr, "test server did not start (%s)\n", line);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		exit(2);
	}
	s->pid = pid;
	s->in_fd = in[1];
	s->port = (int)strtol(line + 5, NULL, 10);
}

static inline void test_server_stop(test_server *s)
{
	if (s->pid <= 0)
		return;
	close(s->in_fd);
	kill(s->pid, SIGTERM);
	waitpid(s->pid, NULL, 0);
	s->pid = 0;
}

/* closed_port - a port nothing listens on (bound, then closed). */
static inline int closed_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
		perror("closed_port");
		exit(2);
	}
	close(fd);
	return ntohs(a.sin_port);
}

/* make_certs - in dir: ca.pem/ca.key, srv.pem/srv.key (127.0.0.1,
 * localhost), cli.pem/cli.key (client auth), all from one fresh CA. */
static inline void make_certs(const char *dir)
{
	char cmd[4096];
	snprintf(cmd, sizeof(cmd),
		"set -e; cd '%s'; { "
		"printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > srv.ext; "
		"printf 'extendedKeyUsage=clientAuth\\n' > cli.ext; "
		"openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
		"  -keyout ca.key -out ca.pem -subj /CN=sigil-test-ca; "
		"for n in srv cli; do "
		"  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		"    -keyout $n.key -out $n.csr -subj /CN=sigil-test-$n; "
		"  openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
		"    -extfile $n.ext -out $n.pem; "
		"done; } >/dev/null 2>&1", dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "openssl certificate generation failed\n");
		exit(2);
	}
}

static inline void remove_dir(const char *dir)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

#endif
