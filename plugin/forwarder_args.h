/* forwarder_args.h - sigil-verifier's input handling: containerd's
 * arguments, the descriptor JSON on stdin, the SIGIL_* environment, and the
 * one line it prints. Pure functions (except sigil_forwarder_read_input),
 * so every rejection is unit-tested with its exact reason.
 *
 * Contract: containerd.md §1 (bindir image verifier). Every function that
 * can reject returns 0 (ok) or -1 (deny) and then writes a one-line reason
 * (no prefix) into reason[reason_len]; outputs are untouched on failure. */
#ifndef SIGIL_FORWARDER_ARGS_H
#define SIGIL_FORWARDER_ARGS_H

#include <stddef.h>
#include <stdint.h>

/* The only stdin format containerd sends (containerd.md §1.1). */
#define SIGIL_FORWARDER_STDIN_MEDIA_TYPE "application/vnd.oci.descriptor.v1+json"
#define SIGIL_FORWARDER_DEFAULT_SOCKET "/run/sigil/sigild.sock"
/* Below containerd's default per_verifier_timeout of 10 s (containerd.md §1.5). */
#define SIGIL_FORWARDER_DEFAULT_TIMEOUT_MS 8000
/* Long enough to ride out a sigild restart. */
#define SIGIL_FORWARDER_DEFAULT_CONNECT_RETRY_MS 2000
/* Upper bound accepted for both durations (an hour: anything longer is a typo). */
#define SIGIL_FORWARDER_MAX_DURATION_MS 3600000
/* Size of a reason buffer that holds every reason this module writes. */
#define SIGIL_FORWARDER_REASON_SIZE 512

typedef struct sigil_forwarder_args {
	const char *name;             /* -name (borrowed from argv) */
	const char *digest;           /* -digest (borrowed from argv) */
	const char *stdin_media_type; /* -stdin-media-type, NULL if absent */
} sigil_forwarder_args;

/* sigil_forwarder_parse_args - containerd's flags: -name, -digest,
 * -stdin-media-type, each as "-flag value", "-flag=value", "--flag value"
 * or "--flag=value" (Go's flag package syntax). Unknown flags are ignored
 * together with their value (the next argument when it does not start with
 * '-'), since containerd may add flags (containerd.md §1.13). Denies a
 * missing, empty, repeated or malformed -name / -digest, and a stdin media
 * type other than the OCI descriptor. out borrows from argv. */
int sigil_forwarder_parse_args(int argc, char *const argv[], sigil_forwarder_args *out,
	char *reason, size_t reason_len);

/* sigil_forwarder_digest_valid - "sha256:" + 64 or "sha512:" + 128
 * lowercase hex digits (OCI image-spec descriptor.md, registered algorithms). */
int sigil_forwarder_digest_valid(const char *s);

typedef struct sigil_forwarder_descriptor {
	char media_type[256]; /* RFC 6838 §4.2: type and subtype are <= 127 each */
	char digest[136];     /* "sha512:" + 128 hex + NUL */
	int64_t size;
} sigil_forwarder_descriptor;

/* sigil_forwarder_parse_descriptor - the OCI descriptor containerd writes on
 * stdin (buf[len], not NUL-terminated; trailing whitespace allowed, since
 * containerd's json.Encoder appends "\n"). Requires a JSON object with a
 * string mediaType, a string digest equal to expected_digest and an integer
 * size >= 0; other members (annotations, platform, ...) are ignored. */
int sigil_forwarder_parse_descriptor(const uint8_t *buf, size_t len, const char *expected_digest,
	sigil_forwarder_descriptor *out, char *reason, size_t reason_len);

/* sigil_forwarder_read_input - read fd to EOF into buf[cap]; denies more
 * than SIGIL_MAX_FORWARDER_STDIN bytes, none at all, a read error, or no
 * EOF by deadline_ms (sigil_forwarder_now_ms clock; < 0: no deadline).
 * cap must exceed SIGIL_MAX_FORWARDER_STDIN. */
int sigil_forwarder_read_input(int fd, int64_t deadline_ms, uint8_t *buf, size_t cap,
	size_t *len, char *reason, size_t reason_len);

typedef struct sigil_forwarder_env {
	const char *socket;       /* borrowed from the environment, or the default */
	int64_t timeout_ms;       /* whole run, sent to sigild as grpc-timeout */
	int64_t connect_retry_ms; /* how long connect() is retried */
} sigil_forwarder_env;

/* sigil_forwarder_parse_env - SIGIL_SOCKET, SIGIL_VERIFIER_TIMEOUT_MS and
 * SIGIL_VERIFIER_CONNECT_RETRY_MS as read from the environment (NULL or ""
 * = default). An invalid value denies (fail closed) naming the variable. */
int sigil_forwarder_parse_env(const char *socket, const char *timeout_ms,
	const char *connect_retry_ms, sigil_forwarder_env *out, char *reason, size_t reason_len);

/* sigil_forwarder_format_line - the line containerd shows the user:
 * "sigil: <verdict> <name>@<digest>: <reason>" ("sigil: <verdict>: <reason>"
 * when name or digest is NULL; name alone when it already ends in
 * "@<digest>"; no ": <reason>" when reason is empty). Control characters
 * become '?' so it stays one line; truncated at a UTF-8 boundary to
 * SIGIL_MAX_FORWARDER_LINE - 1 bytes. Writes a NUL-terminated line without
 * newline into out[cap] and returns its length. */
size_t sigil_forwarder_format_line(char *out, size_t cap, const char *verdict, const char *name,
	const char *digest, const char *reason);

/* sigil_forwarder_fail - format the reason (if reason_len > 0) and return
 * -1: the failure convention of every forwarder function. */
__attribute__((format(printf, 3, 4)))
int sigil_forwarder_fail(char *reason, size_t reason_len, const char *fmt, ...);

/* sigil_forwarder_now_ms - CLOCK_MONOTONIC in milliseconds. */
int64_t sigil_forwarder_now_ms(void);

#endif
