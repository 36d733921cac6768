/* floor-client.c - MEASUREMENT ONLY: the floor of any registry-mode
 * verifier on this machine. A static program that makes the same GETs
 * `sigil verify` makes (paths given as arguments), in sequence on one
 * keep-alive connection to 127.0.0.1:PORT, bodies read and discarded: exec
 * plus the registry's answers, no TLS, no parsing, no cryptography.
 *   floor-client PORT PATH... */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <netinet/tcp.h>
int main(int argc, char **argv) {
	int port = atoi(argv[1]);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (connect(fd, (struct sockaddr *)&a, sizeof a)) return 2;
	int one = 1; setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	static char buf[1 << 16];
	for (int i = 2; i < argc; i++) {
		char req[1024];
		int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json\r\n\r\n", argv[i], port);
		if (write(fd, req, (size_t)n) != n) return 3;
		size_t len = 0; long want = -1; char *he = NULL;
		for (;;) {
			ssize_t r = read(fd, buf + len, sizeof buf - len);
			if (r <= 0) return 4;
			len += (size_t)r;
			if (!he && (he = memmem(buf, len, "\r\n\r\n", 4))) {
				char *cl = strcasestr(buf, "content-length:");
				if (!cl || cl > he) return 5;
				want = (he + 4 - buf) + atol(cl + 15);
			}
			if (he && (long)len >= want) break;
		}
	}
	return 0;
}
