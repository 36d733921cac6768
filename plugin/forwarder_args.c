/* forwarder_args.c - sigil-verifier's arguments, stdin descriptor,
 * environment and output line (see forwarder_args.h; contract:
 * containerd.md §1). */
#include "forwarder_args.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "bounds.h"

/* The descriptor is flat (annotations and platform are one level deeper):
 * a small depth keeps json-c's work on hostile input trivially bounded. */
#define DESCRIPTOR_MAX_DEPTH 8

int sigil_forwarder_fail(char *reason, size_t reason_len, const char *fmt, ...)
{
	if (reason && reason_len) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(reason, reason_len, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int64_t sigil_forwarder_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

int sigil_forwarder_digest_valid(const char *s)
{
	size_t want;
	if (strncmp(s, "sha256:", 7) == 0)
		want = 64;
	else if (strncmp(s, "sha512:", 7) == 0)
		want = 128;
	else
		return 0;
	const char *hex = s + 7;
	size_t n = 0;
	for (; hex[n]; n++)
		if (n >= want || !is_lower_hex(hex[n]))
			return 0;
	return n == want;
}

/* A reference as containerd passes it: non-empty, bounded, no whitespace or
 * control characters (the daemon parses the grammar; this keeps garbage out
 * of the request and of the printed line). */
static int name_valid(const char *s, char *reason, size_t reason_len)
{
	size_t n = strlen(s);
	if (n > SIGIL_MAX_REFERENCE_LENGTH)
		return sigil_forwarder_fail(reason, reason_len, "-name is longer than %u bytes",
			(unsigned)SIGIL_MAX_REFERENCE_LENGTH);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f)
			return sigil_forwarder_fail(reason, reason_len,
				"-name contains a character not allowed in an image reference (byte %zu)", i);
	}
	return 0;
}

enum { FLAG_NAME, FLAG_DIGEST, FLAG_MEDIA_TYPE, FLAG_COUNT };
static const char *const flag_names[FLAG_COUNT] = { "name", "digest", "stdin-media-type" };

int sigil_forwarder_parse_args(int argc, char *const argv[], sigil_forwarder_args *out,
	char *reason, size_t reason_len)
{
	const char *val[FLAG_COUNT] = { NULL, NULL, NULL };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!a)
			break;
		if (strcmp(a, "--") == 0)
			break; /* Go's flag package: the rest is positional */
		if (a[0] != '-' || a[1] == '\0')
			continue; /* positional: containerd passes none; ignore */
		const char *key = a + 1;
		if (*key == '-')
			key++;
		const char *eq = strchr(key, '=');
		size_t key_len = eq ? (size_t)(eq - key) : strlen(key);
		int which = -1;
		for (int f = 0; f < FLAG_COUNT; f++)
			if (strlen(flag_names[f]) == key_len && strncmp(key, flag_names[f], key_len) == 0)
				which = f;
		if (which < 0) {
			/* An unknown flag: containerd passes "-flag value" pairs, so
			 * a following argument that is not a flag is its value. */
			if (!eq && i + 1 < argc && argv[i + 1] && argv[i + 1][0] != '-')
				i++;
			continue;
		}
		const char *v;
		if (eq) {
			v = eq + 1;
		} else {
			if (i + 1 >= argc || !argv[i + 1])
				return sigil_forwarder_fail(reason, reason_len, "-%s needs a value", flag_names[which]);
			v = argv[++i];
		}
		/* Two values for one flag: which one containerd meant is unknowable. */
		if (val[which])
			return sigil_forwarder_fail(reason, reason_len, "-%s given more than once", flag_names[which]);
		val[which] = v;
	}
	for (int f = 0; f < FLAG_MEDIA_TYPE; f++) {
		if (!val[f])
			return sigil_forwarder_fail(reason, reason_len, "missing -%s argument", flag_names[f]);
		if (!*val[f])
			return sigil_forwarder_fail(reason, reason_len, "-%s is empty", flag_names[f]);
	}
	if (name_valid(val[FLAG_NAME], reason, reason_len) != 0)
		return -1;
	if (!sigil_forwarder_digest_valid(val[FLAG_DIGEST]))
		return sigil_forwarder_fail(reason, reason_len,
			"-digest \"%.150s\" is not a sha256 or sha512 digest (lowercase hex)",
			val[FLAG_DIGEST]);
	/* We can only read the format containerd documents; anything else is
	 * a contract change we must not guess at. */
	if (val[FLAG_MEDIA_TYPE] && strcmp(val[FLAG_MEDIA_TYPE], SIGIL_FORWARDER_STDIN_MEDIA_TYPE) != 0)
		return sigil_forwarder_fail(reason, reason_len, "unsupported -stdin-media-type \"%.150s\" (expected %s)",
			val[FLAG_MEDIA_TYPE], SIGIL_FORWARDER_STDIN_MEDIA_TYPE);
	out->name = val[FLAG_NAME];
	out->digest = val[FLAG_DIGEST];
	out->stdin_media_type = val[FLAG_MEDIA_TYPE];
	return 0;
}

int sigil_forwarder_read_input(int fd, int64_t deadline_ms, uint8_t *buf, size_t cap,
	size_t *len, char *reason, size_t reason_len)
{
	if (cap <= SIGIL_MAX_FORWARDER_STDIN)
		return sigil_forwarder_fail(reason, reason_len, "internal error: stdin buffer too small");
	size_t n = 0;
	for (;;) {
		if (deadline_ms >= 0) {
			int64_t left = deadline_ms - sigil_forwarder_now_ms();
			if (left <= 0)
				return sigil_forwarder_fail(reason, reason_len, "timed out reading the descriptor on stdin");
			struct pollfd p = { .fd = fd, .events = POLLIN };
			int pr = poll(&p, 1, left > 60000 ? 60000 : (int)left);
			if (pr < 0 && errno == EINTR)
				continue;
			if (pr < 0)
				return sigil_forwarder_fail(reason, reason_len, "cannot wait for stdin: %s", strerror(errno));
			if (pr == 0)
				continue; /* re-checks the deadline */
		}
		/* Read one byte past the limit to tell "exactly at" from "over". */
		ssize_t r = read(fd, buf + n, SIGIL_MAX_FORWARDER_STDIN + 1 - n);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
			return sigil_forwarder_fail(reason, reason_len, "cannot read stdin: %s", strerror(errno));
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > SIGIL_MAX_FORWARDER_STDIN)
			return sigil_forwarder_fail(reason, reason_len, "descriptor on stdin exceeds %u bytes",
				(unsigned)SIGIL_MAX_FORWARDER_STDIN);
	}
	if (n == 0)
		return sigil_forwarder_fail(reason, reason_len, "no descriptor on stdin");
	*len = n;
	return 0;
}

static void put_json(json_object **o)
{
	if (*o)
		json_object_put(*o);
}

/* A string member without NUL bytes or control characters, at most max-1 bytes. */
static int get_string(json_object *obj, const char *key, char *dst, size_t max,
	char *reason, size_t reason_len)
{
	json_object *v;
	if (!json_object_object_get_ex(obj, key, &v) || !v)
		return sigil_forwarder_fail(reason, reason_len, "descriptor on stdin has no %s", key);
	if (!json_object_is_type(v, json_type_string))
		return sigil_forwarder_fail(reason, reason_len, "descriptor %s is not a string", key);
	const char *s = json_object_get_string(v);
	size_t n = (size_t)json_object_get_string_len(v);
	if (n == 0)
		return sigil_forwarder_fail(reason, reason_len, "descriptor %s is empty", key);
	if (n >= max)
		return sigil_forwarder_fail(reason, reason_len, "descriptor %s is longer than %zu bytes", key, max - 1);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return sigil_forwarder_fail(reason, reason_len, "descriptor %s contains a control character", key);
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

int sigil_forwarder_parse_descriptor(const uint8_t *buf, size_t len, const char *expected_digest,
	sigil_forwarder_descriptor *out, char *reason, size_t reason_len)
{
	if (len > SIGIL_MAX_FORWARDER_STDIN)
		return sigil_forwarder_fail(reason, reason_len, "descriptor on stdin exceeds %u bytes",
			(unsigned)SIGIL_MAX_FORWARDER_STDIN);
	if (len == 0)
		return sigil_forwarder_fail(reason, reason_len, "no descriptor on stdin");
	json_tokener *tok = json_tokener_new_ex(DESCRIPTOR_MAX_DEPTH);
	if (!tok)
		return sigil_forwarder_fail(reason, reason_len, "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	__attribute__((cleanup(put_json))) json_object *root =
		json_tokener_parse_ex(tok, (const char *)buf, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!root || jerr != json_tokener_success) {
		if (jerr == json_tokener_continue)
			return sigil_forwarder_fail(reason, reason_len, "descriptor on stdin is not valid JSON: unexpected end of input");
		return sigil_forwarder_fail(reason, reason_len, "descriptor on stdin is not valid JSON: %s at byte %zu",
			json_tokener_error_desc(jerr), end);
	}
	for (size_t i = end; i < len; i++)
		if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\n' && buf[i] != '\r')
			return sigil_forwarder_fail(reason, reason_len, "descriptor on stdin has trailing data at byte %zu", i);
	if (!json_object_is_type(root, json_type_object))
		return sigil_forwarder_fail(reason, reason_len, "descriptor on stdin is not a JSON object");

	sigil_forwarder_descriptor d;
	if (get_string(root, "mediaType", d.media_type, sizeof d.media_type, reason, reason_len) != 0)
		return -1;
	if (get_string(root, "digest", d.digest, sizeof d.digest, reason, reason_len) != 0) {
		/* an over-long digest is simply not the digest we were given */
		if (strstr(reason, "longer than"))
			return sigil_forwarder_fail(reason, reason_len, "descriptor digest does not match -digest %s",
				expected_digest);
		return -1;
	}
	/* What containerd pulls is the descriptor; what we verify is -digest:
	 * they must be the same object (containerd.md §1.13). */
	if (strcmp(d.digest, expected_digest) != 0)
		return sigil_forwarder_fail(reason, reason_len, "descriptor digest %.140s does not match -digest %s",
			d.digest, expected_digest);
	json_object *sz;
	if (!json_object_object_get_ex(root, "size", &sz) || !sz)
		return sigil_forwarder_fail(reason, reason_len, "descriptor on stdin has no size");
	if (!json_object_is_type(sz, json_type_int))
		return sigil_forwarder_fail(reason, reason_len, "descriptor size is not an integer");
	int64_t size = json_object_get_int64(sz);
	if (size < 0)
		return sigil_forwarder_fail(reason, reason_len, "descriptor size is negative");
	/* json-c saturates values beyond int64 (and keeps them as uint64) */
	if (size == INT64_MAX)
		return sigil_forwarder_fail(reason, reason_len, "descriptor size is out of range");
	d.size = size;
	*out = d;
	return 0;
}

/* Milliseconds as decimal digits only, 0..SIGIL_FORWARDER_MAX_DURATION_MS. */
static int parse_ms(const char *s, int64_t *out)
{
	int64_t v = 0;
	if (!*s)
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
		if (v > SIGIL_FORWARDER_MAX_DURATION_MS)
			return -1;
	}
	*out = v;
	return 0;
}

int sigil_forwarder_parse_env(const char *socket, const char *timeout_ms,
	const char *connect_retry_ms, sigil_forwarder_env *out, char *reason, size_t reason_len)
{
	sigil_forwarder_env e = {
		.socket = SIGIL_FORWARDER_DEFAULT_SOCKET,
		.timeout_ms = SIGIL_FORWARDER_DEFAULT_TIMEOUT_MS,
		.connect_retry_ms = SIGIL_FORWARDER_DEFAULT_CONNECT_RETRY_MS,
	};
	if (socket && *socket) {
		if (strlen(socket) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return sigil_forwarder_fail(reason, reason_len, "SIGIL_SOCKET is longer than %zu bytes",
				sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		e.socket = socket;
	}
	if (timeout_ms && *timeout_ms) {
		if (parse_ms(timeout_ms, &e.timeout_ms) != 0 || e.timeout_ms == 0)
			return sigil_forwarder_fail(reason, reason_len,
				"invalid SIGIL_VERIFIER_TIMEOUT_MS \"%.40s\" (expected milliseconds, 1-%d)",
				timeout_ms, SIGIL_FORWARDER_MAX_DURATION_MS);
	}
	if (connect_retry_ms && *connect_retry_ms) {
		if (parse_ms(connect_retry_ms, &e.connect_retry_ms) != 0)
			return sigil_forwarder_fail(reason, reason_len,
				"invalid SIGIL_VERIFIER_CONNECT_RETRY_MS \"%.40s\" (expected milliseconds, 0-%d)",
				connect_retry_ms, SIGIL_FORWARDER_MAX_DURATION_MS);
	}
	*out = e;
	return 0;
}

/* Appends src to out[*n], control characters as '?', stopping at limit. */
static void append_clean(char *out, size_t *n, size_t limit, const char *src)
{
	for (; *src && *n < limit; src++) {
		unsigned char c = (unsigned char)*src;
		out[(*n)++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
}

size_t sigil_forwarder_format_line(char *out, size_t cap, const char *verdict, const char *name,
	const char *digest, const char *reason)
{
	if (cap == 0)
		return 0;
	size_t limit = cap - 1;
	if (limit > SIGIL_MAX_FORWARDER_LINE - 1)
		limit = SIGIL_MAX_FORWARDER_LINE - 1;
	size_t n = 0;
	append_clean(out, &n, limit, "sigil: ");
	append_clean(out, &n, limit, verdict);
	if (name && digest) {
		append_clean(out, &n, limit, " ");
		append_clean(out, &n, limit, name);
		/* pull by digest: containerd's name is already "repo@<digest>" */
		size_t nl = strlen(name), dl = strlen(digest);
		if (!(nl > dl && name[nl - dl - 1] == '@' && strcmp(name + nl - dl, digest) == 0)) {
			append_clean(out, &n, limit, "@");
			append_clean(out, &n, limit, digest);
		}
	}
	if (reason && *reason) {
		append_clean(out, &n, limit, ": ");
		append_clean(out, &n, limit, reason);
	}
	/* Cut inside a UTF-8 sequence? Drop the partial character. */
	if (n == limit && limit > 0) {
		size_t k = n;
		while (k > 0 && ((unsigned char)out[k - 1] & 0xc0) == 0x80)
			k--;
		if (k > 0 && ((unsigned char)out[k - 1] & 0x80)) {
			unsigned char lead = (unsigned char)out[k - 1];
			size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
			if (n - (k - 1) < need)
				n = k - 1;
		}
	}
	out[n] = '\0';
	return n;
}
