/* test-forwarder.c - sigil-verifier's argument, stdin, environment and
 * output handling (plugin/forwarder_args.c), with exact reasons. Built by
 * tests/forwarder/meson.build (the forwarder does not link libverify). */
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "bounds.h"
#include "forwarder_args.h"
#include "grpc_client.h"

#define D1 "sha256:e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6"
#define D2 "sha256:0b5c0b5c0b5c0b5c0b5c0b5c0b5c0b5c0b5c0b5c0b5c0b5c0b5c0b5c0b5c0b5c"
#define D512 "sha512:" \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define MEDIA "application/vnd.oci.descriptor.v1+json"
#define MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define NAME "docker.io/library/app:v1"

static char reason[SIGIL_FORWARDER_REASON_SIZE];

/* Runs the parser on a NULL-terminated argument list (argv[0] added). */
static int args(sigil_forwarder_args *a, ...)
{
	char *argv[32] = { "sigil-verifier" };
	int argc = 1;
	va_list ap;
	va_start(ap, a);
	char *s;
	while ((s = va_arg(ap, char *)) != NULL && argc < 31)
		argv[argc++] = s;
	va_end(ap);
	argv[argc] = NULL;
	reason[0] = '\0';
	memset(a, 0, sizeof *a);
	return sigil_forwarder_parse_args(argc, argv, a, reason, sizeof reason);
}

static void test_args_containerd(void)
{
	sigil_forwarder_args a;
	/* exactly what containerd passes (containerd.md §1.1) */
	CHECK_INTEQ(args(&a, "-name", NAME, "-digest", D1, "-stdin-media-type", MEDIA, NULL), 0);
	CHECK_STREQ(a.name, NAME);
	CHECK_STREQ(a.digest, D1);
	CHECK_STREQ(a.stdin_media_type, MEDIA);
	/* -stdin-media-type is optional */
	CHECK_INTEQ(args(&a, "-digest", D512, "-name", NAME, NULL), 0);
	CHECK_STREQ(a.digest, D512);
	CHECK(a.stdin_media_type == NULL);
}

static void test_args_spellings(void)
{
	sigil_forwarder_args a;
	CHECK_INTEQ(args(&a, "--name", NAME, "--digest", D1, "--stdin-media-type", MEDIA, NULL), 0);
	CHECK_STREQ(a.name, NAME);
	CHECK_INTEQ(args(&a, "-name=" NAME, "-digest=" D1, "-stdin-media-type=" MEDIA, NULL), 0);
	CHECK_STREQ(a.name, NAME);
	CHECK_STREQ(a.digest, D1);
	CHECK_STREQ(a.stdin_media_type, MEDIA);
	CHECK_INTEQ(args(&a, "--name=" NAME, "--digest=" D1, NULL), 0);
	CHECK_STREQ(a.name, NAME);
	/* a value with '=' in it is kept whole */
	CHECK_INTEQ(args(&a, "-name", "reg.example/a=b:v1", "-digest", D1, NULL), 0);
	CHECK_STREQ(a.name, "reg.example/a=b:v1");
}

static void test_args_unknown(void)
{
	sigil_forwarder_args a;
	/* unknown flag with a value, before and between known ones */
	CHECK_INTEQ(args(&a, "-operation", "pull", "-name", NAME, "-digest", D1, NULL), 0);
	CHECK_STREQ(a.name, NAME);
	CHECK_INTEQ(args(&a, "-name", NAME, "-operation", "pull", "-digest", D1, NULL), 0);
	CHECK_STREQ(a.digest, D1);
	/* unknown boolean flag right before a known one */
	CHECK_INTEQ(args(&a, "-verbose", "-name", NAME, "--debug", "-digest", D1, NULL), 0);
	CHECK_STREQ(a.name, NAME);
	/* unknown flag with an inline value, and one last with none */
	CHECK_INTEQ(args(&a, "-pod=ns/x", "-name", NAME, "-digest", D1, "-last", NULL), 0);
	CHECK_STREQ(a.digest, D1);
	/* an unknown flag's value that looks like a known flag's name is a value */
	CHECK_INTEQ(args(&a, "-label", "name", "-name", NAME, "-digest", D1, NULL), 0);
	CHECK_STREQ(a.name, NAME);
	/* positional arguments and a lone "-" are ignored */
	CHECK_INTEQ(args(&a, "extra", "-", "-name", NAME, "-digest", D1, NULL), 0);
	/* Go's "--" ends the flags */
	CHECK_INTEQ(args(&a, "-name", NAME, "--", "-digest", D1, NULL), -1);
	CHECK_STREQ(reason, "missing -digest argument");
	/* a flag must match whole: -names / -digestx are unknown */
	CHECK_INTEQ(args(&a, "-names", "x", "-name", NAME, "-digestx", D2, "-digest", D1, NULL), 0);
	CHECK_STREQ(a.digest, D1);
}

static void test_args_missing(void)
{
	sigil_forwarder_args a;
	CHECK_INTEQ(args(&a, NULL), -1);
	CHECK_STREQ(reason, "missing -name argument");
	CHECK_INTEQ(args(&a, "-digest", D1, NULL), -1);
	CHECK_STREQ(reason, "missing -name argument");
	CHECK_INTEQ(args(&a, "-name", NAME, "-stdin-media-type", MEDIA, NULL), -1);
	CHECK_STREQ(reason, "missing -digest argument");
	CHECK(a.name == NULL); /* outputs untouched on failure */
	CHECK_INTEQ(args(&a, "-digest", D1, "-name", NULL), -1);
	CHECK_STREQ(reason, "-name needs a value");
	CHECK_INTEQ(args(&a, "-name", NAME, "--digest", NULL), -1);
	CHECK_STREQ(reason, "-digest needs a value");
	CHECK_INTEQ(args(&a, "-name=", "-digest", D1, NULL), -1);
	CHECK_STREQ(reason, "-name is empty");
	CHECK_INTEQ(args(&a, "-name", NAME, "-digest", "", NULL), -1);
	CHECK_STREQ(reason, "-digest is empty");
	CHECK_INTEQ(args(&a, "-name", NAME, "-digest", D1, "-name", "other:v1", NULL), -1);
	CHECK_STREQ(reason, "-name given more than once");
	CHECK_INTEQ(args(&a, "-digest", D1, "-name", NAME, "--digest=" D2, NULL), -1);
	CHECK_STREQ(reason, "-digest given more than once");
	CHECK_INTEQ(args(&a, "-name", NAME, "-digest", D1, "-stdin-media-type", MEDIA,
		"-stdin-media-type", MEDIA, NULL), -1);
	CHECK_STREQ(reason, "-stdin-media-type given more than once");
}

static void test_args_malformed(void)
{
	sigil_forwarder_args a;
	CHECK_INTEQ(args(&a, "-name", "docker.io/library/app v1", "-digest", D1, NULL), -1);
	CHECK_STREQ(reason, "-name contains a character not allowed in an image reference (byte 21)");
	CHECK_INTEQ(args(&a, "-name", "app\n:v1", "-digest", D1, NULL), -1);
	CHECK_STREQ(reason, "-name contains a character not allowed in an image reference (byte 3)");
	CHECK_INTEQ(args(&a, "-name", "app\xc3\xa9:v1", "-digest", D1, NULL), -1);
	CHECK_STREQ(reason, "-name contains a character not allowed in an image reference (byte 3)");
	char long_name[SIGIL_MAX_REFERENCE_LENGTH + 2];
	memset(long_name, 'a', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = '\0';
	CHECK_INTEQ(args(&a, "-name", long_name, "-digest", D1, NULL), -1);
	CHECK_STREQ(reason, "-name is longer than 1024 bytes");
	long_name[SIGIL_MAX_REFERENCE_LENGTH] = '\0';
	CHECK_INTEQ(args(&a, "-name", long_name, "-digest", D1, NULL), 0);

	CHECK_INTEQ(args(&a, "-name", NAME, "-digest", "sha256:E1D6", NULL), -1);
	CHECK_STREQ(reason, "-digest \"sha256:E1D6\" is not a sha256 or sha512 digest (lowercase hex)");
	CHECK_INTEQ(args(&a, "-name", NAME, "-digest", "latest", NULL), -1);
	CHECK_STREQ(reason, "-digest \"latest\" is not a sha256 or sha512 digest (lowercase hex)");
	CHECK_INTEQ(args(&a, "-name", NAME, "-stdin-media-type", "application/json", "-digest", D1, NULL), -1);
	CHECK_STREQ(reason, "unsupported -stdin-media-type \"application/json\" (expected " MEDIA ")");
}

static void test_digest_valid(void)
{
	CHECK(sigil_forwarder_digest_valid(D1));
	CHECK(sigil_forwarder_digest_valid(D512));
	CHECK(!sigil_forwarder_digest_valid(D1 "0"));                 /* too long */
	CHECK(!sigil_forwarder_digest_valid("sha256:e1d6"));          /* too short */
	CHECK(!sigil_forwarder_digest_valid("sha256:"));
	CHECK(!sigil_forwarder_digest_valid(""));
	CHECK(!sigil_forwarder_digest_valid("sha384:e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6"));
	CHECK(!sigil_forwarder_digest_valid("SHA256:e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6"));
	CHECK(!sigil_forwarder_digest_valid("sha256:e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1dg"));
	CHECK(!sigil_forwarder_digest_valid("sha256:e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1D6"));
	CHECK(!sigil_forwarder_digest_valid(D512 "a"));
	/* a sha512-length hex under sha256 */
	CHECK(!sigil_forwarder_digest_valid("sha256:" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
}

static int desc(const char *json, sigil_forwarder_descriptor *d)
{
	reason[0] = '\0';
	memset(d, 0x5a, sizeof *d);
	return sigil_forwarder_parse_descriptor((const uint8_t *)json, strlen(json), D1, d, reason,
		sizeof reason);
}

static void test_descriptor_ok(void)
{
	sigil_forwarder_descriptor d;
	/* what containerd writes: json.Encoder, with the trailing newline */
	CHECK_INTEQ(desc("{\"mediaType\":\"" MANIFEST "\",\"digest\":\"" D1 "\",\"size\":539}\n", &d), 0);
	CHECK_STREQ(d.media_type, MANIFEST);
	CHECK_STREQ(d.digest, D1);
	CHECK_INTEQ(d.size, 539);
	/* other members are ignored; whitespace anywhere */
	CHECK_INTEQ(desc(" { \"size\" : 0 , \"digest\":\"" D1 "\", \"annotations\":{\"a\":\"b\"},"
		"\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"},\"urls\":[],"
		"\"mediaType\":\"application/vnd.oci.image.index.v1+json\"}\r\n\t ", &d), 0);
	CHECK_STREQ(d.media_type, "application/vnd.oci.image.index.v1+json");
	CHECK_INTEQ(d.size, 0);
	/* no trailing newline is fine too */
	CHECK_INTEQ(desc("{\"mediaType\":\"m/t\",\"digest\":\"" D1 "\",\"size\":9007199254740993}", &d), 0);
	CHECK_INTEQ(d.size, 9007199254740993LL);
}

static void test_descriptor_bad_json(void)
{
	sigil_forwarder_descriptor d, before;
	CHECK_INTEQ(desc("{\"mediaType\":\"m/t\",\"digest\":\"" D1 "\",\"size\":5", &d), -1);
	CHECK_STREQ(reason, "descriptor on stdin is not valid JSON: unexpected end of input");
	CHECK_INTEQ(desc("{\"mediaType\":\"m/t\",}", &d), -1);
	CHECK_CONTAINS(reason, "descriptor on stdin is not valid JSON: ");
	CHECK_INTEQ(desc("{'mediaType':'m/t'}", &d), -1); /* strict: no single quotes */
	CHECK_CONTAINS(reason, "descriptor on stdin is not valid JSON: ");
	CHECK_INTEQ(desc("not json", &d), -1);
	CHECK_CONTAINS(reason, "descriptor on stdin is not valid JSON: ");
	CHECK_INTEQ(desc("{\"mediaType\":\"m/t\",\"digest\":\"" D1 "\",\"size\":5} {}", &d), -1);
	/* json-c's strict mode stops at the second value itself */
	CHECK_STREQ(reason, "descriptor on stdin is not valid JSON: unexpected character at byte 112");
	CHECK_INTEQ(desc("{\"mediaType\":\"m/t\",\"digest\":\"" D1 "\",\"size\":5}\n\nx", &d), -1);
	CHECK_STREQ(reason, "descriptor on stdin is not valid JSON: unexpected character at byte 113");
	CHECK_INTEQ(desc("[]", &d), -1);
	CHECK_STREQ(reason, "descriptor on stdin is not a JSON object");
	CHECK_INTEQ(desc("\"" D1 "\"", &d), -1);
	CHECK_STREQ(reason, "descriptor on stdin is not a JSON object");
	/* nesting bomb inside an ignored member: bounded by the depth limit */
	char deep[400] = "{\"annotations\":";
	for (int i = 0; i < 100; i++)
		strcat(deep, "[");
	CHECK_INTEQ(desc(deep, &d), -1);
	CHECK_STREQ(reason, "descriptor on stdin is not valid JSON: nesting too deep at byte 22");
	/* outputs untouched on failure */
	memset(&before, 0x5a, sizeof before);
	CHECK(memcmp(&d, &before, sizeof d) == 0);
	/* a NUL byte after the object is trailing data, not an end */
	static const uint8_t nul[] = "{\"mediaType\":\"m/t\",\"digest\":\"" D1 "\",\"size\":5}\0x";
	CHECK_INTEQ(sigil_forwarder_parse_descriptor(nul, sizeof nul - 1, D1, &d, reason, sizeof reason), -1);
	CHECK_STREQ(reason, "descriptor on stdin has trailing data at byte 111");
	CHECK_INTEQ(sigil_forwarder_parse_descriptor(nul, 0, D1, &d, reason, sizeof reason), -1);
	CHECK_STREQ(reason, "no descriptor on stdin");
	CHECK_INTEQ(sigil_forwarder_parse_descriptor(nul, SIGIL_MAX_FORWARDER_STDIN + 1, D1, &d, reason,
		sizeof reason), -1);
	CHECK_STREQ(reason, "descriptor on stdin exceeds 65536 bytes");
}

static void test_descriptor_fields(void)
{
	sigil_forwarder_descriptor d;
	CHECK_INTEQ(desc("{\"digest\":\"" D1 "\",\"size\":5}", &d), -1);
	CHECK_STREQ(reason, "descriptor on stdin has no mediaType");
	CHECK_INTEQ(desc("{\"mediaType\":null,\"digest\":\"" D1 "\",\"size\":5}", &d), -1);
	CHECK_STREQ(reason, "descriptor on stdin has no mediaType");
	CHECK_INTEQ(desc("{\"mediaType\":7,\"digest\":\"" D1 "\",\"size\":5}", &d), -1);
	CHECK_STREQ(reason, "descriptor mediaType is not a string");
	CHECK_INTEQ(desc("{\"mediaType\":\"\",\"digest\":\"" D1 "\",\"size\":5}", &d), -1);
	CHECK_STREQ(reason, "descriptor mediaType is empty");
	CHECK_INTEQ(desc("{\"mediaType\":\"m\\u0000t\",\"digest\":\"" D1 "\",\"size\":5}", &d), -1);
	CHECK_STREQ(reason, "descriptor mediaType contains a control character");
	CHECK_INTEQ(desc("{\"mediaType\":\"m\\nt\",\"digest\":\"" D1 "\",\"size\":5}", &d), -1);
	CHECK_STREQ(reason, "descriptor mediaType contains a control character");
	char longmt[400];
	snprintf(longmt, sizeof longmt, "{\"mediaType\":\"%0256d\",\"digest\":\"" D1 "\",\"size\":5}", 0);
	CHECK_INTEQ(desc(longmt, &d), -1);
	CHECK_STREQ(reason, "descriptor mediaType is longer than 255 bytes");

	CHECK_INTEQ(desc("{\"mediaType\":\"m/t\",\"size\":5}", &d), -1);
	CHECK_STREQ(reason, "descriptor on stdin has no digest");
	CHECK_INTEQ(desc("{\"mediaType\":\"m/t\",\"digest\":[],\"size\":5}", &d), -1);
	CHECK_STREQ(reason, "descriptor digest is not a string");
	CHECK_INTEQ(desc("{\"mediaType\":\"m/t\",\"digest\":\"" D2 "\",\"size\":5}", &d), -1);
	CHECK_STREQ(reason, "descriptor digest " D2 " does not match -digest " D1);
	CHECK_INTEQ(desc("{\"mediaType\":\"m/t\",\"digest\":\"" D1 "0\",\"size\":5}", &d), -1);
	CHECK_STREQ(reason, "descriptor digest " D1 "0 does not match -digest " D1);
	CHECK_INTEQ(desc("{\"mediaType\":\"m/t\",\"digest\":\"" D512 D512 "\",\"size\":5}", &d), -1);
	CHECK_STREQ(reason, "descriptor digest does not match -digest " D1);
	/* case matters: the digest is compared byte for byte */
	CHECK_INTEQ(desc("{\"mediaType\":\"m/t\",\"digest\":\"sha256:E1D6e1d6e1d6e1d6e1d6e1d6e1d6e1d6"
		"e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6\",\"size\":5}", &d), -1);
	CHECK_CONTAINS(reason, "does not match -digest " D1);

	CHECK_INTEQ(desc("{\"mediaType\":\"m/t\",\"digest\":\"" D1 "\"}", &d), -1);
	CHECK_STREQ(reason, "descriptor on stdin has no size");
	CHECK_INTEQ(desc("{\"mediaType\":\"m/t\",\"digest\":\"" D1 "\",\"size\":\"5\"}", &d), -1);
	CHECK_STREQ(reason, "descriptor size is not an integer");
	CHECK_INTEQ(desc("{\"mediaType\":\"m/t\",\"digest\":\"" D1 "\",\"size\":5.0}", &d), -1);
	CHECK_STREQ(reason, "descriptor size is not an integer");
	CHECK_INTEQ(desc("{\"mediaType\":\"m/t\",\"digest\":\"" D1 "\",\"size\":-1}", &d), -1);
	CHECK_STREQ(reason, "descriptor size is negative");
	CHECK_INTEQ(desc("{\"mediaType\":\"m/t\",\"digest\":\"" D1 "\",\"size\":18446744073709551615}", &d), -1);
	CHECK_STREQ(reason, "descriptor size is out of range");
}

/* stdin from a file with the given content */
static int input_fd(const char *content, size_t len)
{
	FILE *f = tmpfile();
	if (!f)
		exit(2);
	if (len && fwrite(content, 1, len, f) != len)
		exit(2);
	fflush(f);
	int fd = dup(fileno(f));
	fclose(f);
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static void test_read_input(void)
{
	static uint8_t buf[SIGIL_MAX_FORWARDER_STDIN + 1];
	size_t len = 12345;
	int fd = input_fd("{}\n", 3);
	CHECK_INTEQ(sigil_forwarder_read_input(fd, sigil_forwarder_now_ms() + 5000, buf, sizeof buf, &len,
		reason, sizeof reason), 0);
	CHECK_INTEQ(len, 3);
	CHECK(memcmp(buf, "{}\n", 3) == 0);
	close(fd);

	char *big = malloc(SIGIL_MAX_FORWARDER_STDIN + 1);
	memset(big, ' ', SIGIL_MAX_FORWARDER_STDIN + 1);
	fd = input_fd(big, SIGIL_MAX_FORWARDER_STDIN);
	CHECK_INTEQ(sigil_forwarder_read_input(fd, -1, buf, sizeof buf, &len, reason, sizeof reason), 0);
	CHECK_INTEQ(len, SIGIL_MAX_FORWARDER_STDIN);
	close(fd);
	fd = input_fd(big, SIGIL_MAX_FORWARDER_STDIN + 1);
	len = 7;
	CHECK_INTEQ(sigil_forwarder_read_input(fd, -1, buf, sizeof buf, &len, reason, sizeof reason), -1);
	CHECK_STREQ(reason, "descriptor on stdin exceeds 65536 bytes");
	CHECK_INTEQ(len, 7);
	close(fd);
	free(big);

	fd = input_fd("", 0);
	CHECK_INTEQ(sigil_forwarder_read_input(fd, -1, buf, sizeof buf, &len, reason, sizeof reason), -1);
	CHECK_STREQ(reason, "no descriptor on stdin");
	close(fd);

	/* a writer that never closes: bounded by the deadline */
	int p[2];
	CHECK(pipe(p) == 0);
	CHECK(write(p[1], "{", 1) == 1);
	int64_t t0 = sigil_forwarder_now_ms();
	CHECK_INTEQ(sigil_forwarder_read_input(p[0], t0 + 150, buf, sizeof buf, &len, reason, sizeof reason), -1);
	CHECK_STREQ(reason, "timed out reading the descriptor on stdin");
	CHECK(sigil_forwarder_now_ms() - t0 >= 150);
	close(p[0]);
	close(p[1]);

	CHECK_INTEQ(sigil_forwarder_read_input(0, -1, buf, SIGIL_MAX_FORWARDER_STDIN, &len, reason, sizeof reason), -1);
	CHECK_STREQ(reason, "internal error: stdin buffer too small");
}

static void test_env(void)
{
	sigil_forwarder_env e;
	CHECK_INTEQ(sigil_forwarder_parse_env(NULL, NULL, NULL, &e, reason, sizeof reason), 0);
	CHECK_STREQ(e.socket, "/run/sigil/sigild.sock");
	CHECK_INTEQ(e.timeout_ms, 8000);
	CHECK_INTEQ(e.connect_retry_ms, 2000);
	CHECK_INTEQ(sigil_forwarder_parse_env("", "", "", &e, reason, sizeof reason), 0);
	CHECK_STREQ(e.socket, "/run/sigil/sigild.sock");
	CHECK_INTEQ(sigil_forwarder_parse_env("/tmp/s.sock", "1500", "0", &e, reason, sizeof reason), 0);
	CHECK_STREQ(e.socket, "/tmp/s.sock");
	CHECK_INTEQ(e.timeout_ms, 1500);
	CHECK_INTEQ(e.connect_retry_ms, 0);
	CHECK_INTEQ(sigil_forwarder_parse_env(NULL, "3600000", "3600000", &e, reason, sizeof reason), 0);

	sigil_forwarder_env before = e;
	const char *bad_timeouts[] = { "0", "abc", "-1", "1.5", " 10", "3600001", "99999999999999999999", "8s" };
	for (size_t i = 0; i < sizeof bad_timeouts / sizeof bad_timeouts[0]; i++) {
		CHECK_INTEQ(sigil_forwarder_parse_env(NULL, bad_timeouts[i], NULL, &e, reason, sizeof reason), -1);
		CHECK_CONTAINS(reason, "invalid SIGIL_VERIFIER_TIMEOUT_MS \"");
	}
	CHECK_INTEQ(sigil_forwarder_parse_env(NULL, "8s", NULL, &e, reason, sizeof reason), -1);
	CHECK_STREQ(reason, "invalid SIGIL_VERIFIER_TIMEOUT_MS \"8s\" (expected milliseconds, 1-3600000)");
	CHECK_INTEQ(sigil_forwarder_parse_env(NULL, NULL, "-5", &e, reason, sizeof reason), -1);
	CHECK_STREQ(reason, "invalid SIGIL_VERIFIER_CONNECT_RETRY_MS \"-5\" (expected milliseconds, 0-3600000)");
	char long_sock[200];
	memset(long_sock, 's', sizeof long_sock - 1);
	long_sock[0] = '/';
	long_sock[sizeof long_sock - 1] = '\0';
	CHECK_INTEQ(sigil_forwarder_parse_env(long_sock, NULL, NULL, &e, reason, sizeof reason), -1);
	CHECK_STREQ(reason, "SIGIL_SOCKET is longer than 107 bytes");
	CHECK(memcmp(&e, &before, sizeof e) == 0);
}

static void test_format_line(void)
{
	char line[SIGIL_MAX_FORWARDER_LINE];
	size_t n = sigil_forwarder_format_line(line, sizeof line, "denied", NAME, D1, "no signature");
	CHECK_STREQ(line, "sigil: denied " NAME "@" D1 ": no signature");
	CHECK_INTEQ(n, strlen(line));
	sigil_forwarder_format_line(line, sizeof line, "denied", NULL, NULL, "missing -name argument");
	CHECK_STREQ(line, "sigil: denied: missing -name argument");
	sigil_forwarder_format_line(line, sizeof line, "allowed", "docker.io/library/app@" D1, D1, "");
	CHECK_STREQ(line, "sigil: allowed docker.io/library/app@" D1);
	/* a different digest in the name is not "already there" */
	sigil_forwarder_format_line(line, sizeof line, "allowed", "r/app@" D2, D1, NULL);
	CHECK_STREQ(line, "sigil: allowed r/app@" D2 "@" D1);
	sigil_forwarder_format_line(line, sizeof line, "denied", NAME, D1, "a\nb\rc\x7f" "d \xe2\x80\x94 e");
	CHECK_STREQ(line, "sigil: denied " NAME "@" D1 ": a?b?c?d \xe2\x80\x94 e");

	/* truncation never splits a UTF-8 character */
	char *longr = malloc(4001);
	for (int i = 0; i < 4000; i += 2)
		memcpy(longr + i, "\xc3\xa9", 2);
	longr[4000] = '\0';
	n = sigil_forwarder_format_line(line, sizeof line, "denied", "n", D1, longr);
	CHECK(n <= SIGIL_MAX_FORWARDER_LINE - 1);
	CHECK_INTEQ(strlen(line), n);
	/* prefix "sigil: denied n@<71>: " is 89 bytes: 979 whole characters fit */
	CHECK_INTEQ(n, SIGIL_MAX_FORWARDER_LINE - 1);
	CHECK(((unsigned char)line[n - 1]) == 0xa9 && ((unsigned char)line[n - 2]) == 0xc3);
	/* one byte more of prefix: the last character would be split, so it goes */
	n = sigil_forwarder_format_line(line, sizeof line, "denied", "nn", D1, longr);
	CHECK_INTEQ(n, SIGIL_MAX_FORWARDER_LINE - 2);
	CHECK_INTEQ(strlen(line), n);
	CHECK(((unsigned char)line[n - 1]) == 0xa9 && ((unsigned char)line[n - 2]) == 0xc3);
	free(longr);
	/* a small buffer */
	char tiny[8];
	n = sigil_forwarder_format_line(tiny, sizeof tiny, "denied", NAME, D1, "x");
	CHECK_STREQ(tiny, "sigil: ");
	CHECK_INTEQ(n, 7);
	CHECK_INTEQ(sigil_forwarder_format_line(tiny, 0, "denied", NULL, NULL, NULL), 0);
}

static void test_grpc_unreachable(void)
{
	char dir[] = "/tmp/sigil-fwd-unit-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char path[128];
	snprintf(path, sizeof path, "%s/none.sock", dir);
	static const uint8_t req[] = { 0x0a, 0x01, 'x' };
	int64_t now = sigil_forwarder_now_ms();
	sigil_grpc_call call = {
		.socket_path = path, .method = "/sigil.v1.Verifier/Verify",
		.request = req, .request_len = sizeof req,
		.deadline_ms = now + 5000, .timeout_ms = 5000,
		.connect_retry_until_ms = now + 120, .max_response = 1024,
	};
	sigil_grpc_result res;
	char why[SIGIL_FORWARDER_REASON_SIZE];
	CHECK_INTEQ(sigil_grpc_unary(&call, &res, why, sizeof why), -1);
	char want[256];
	snprintf(want, sizeof want, "sigild is not reachable at %s (no such socket) \xe2\x80\x94 is sigild running?",
		path);
	CHECK_STREQ(why, want);
	/* retried for the window, not longer */
	int64_t took = sigil_forwarder_now_ms() - now;
	CHECK(took >= 120 && took < 1000);
	/* the deadline bounds the retry window */
	now = sigil_forwarder_now_ms();
	call.deadline_ms = now + 50;
	call.connect_retry_until_ms = now + 5000;
	CHECK_INTEQ(sigil_grpc_unary(&call, &res, why, sizeof why), -1);
	CHECK(sigil_forwarder_now_ms() - now < 1000);
	rmdir(dir);

	CHECK_STREQ(sigil_grpc_status_name(0), "OK");
	CHECK_STREQ(sigil_grpc_status_name(4), "DEADLINE_EXCEEDED");
	CHECK_STREQ(sigil_grpc_status_name(16), "UNAUTHENTICATED");
	CHECK_STREQ(sigil_grpc_status_name(17), "UNKNOWN_STATUS");
	CHECK_STREQ(sigil_grpc_status_name(-1), "UNKNOWN_STATUS");
}

int main(void)
{
	RUN(test_args_containerd);
	RUN(test_args_spellings);
	RUN(test_args_unknown);
	RUN(test_args_missing);
	RUN(test_args_malformed);
	RUN(test_digest_valid);
	RUN(test_descriptor_ok);
	RUN(test_descriptor_bad_json);
	RUN(test_descriptor_fields);
	RUN(test_read_input);
	RUN(test_env);
	RUN(test_format_line);
	RUN(test_grpc_unreachable);
	return check_summary();
}
