/* audit.c - one line per decision (issue 4: time, image name, digest,
 * verdict, reason, policy, signer, cached or not, duration). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include "audit.h"
#include "util.h"

struct sigild_audit {
	pthread_mutex_t lock;
	char *path; /* NULL: stderr */
	int fd;
	sigild_audit_format format;
	uint64_t write_errors;
};

static sigil_status open_fd(const char *path, int *fd, sigil_error *err)
{
	int f = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	if (f < 0)
		return sigil__err(err, SIGIL_ERR_IO, "audit log %s: %s", path, strerror(errno));
	*fd = f;
	return SIGIL_STATUS_OK;
}

sigil_status sigild_audit_open(sigild_audit **out, const char *path, sigild_audit_format format,
	sigil_error *err)
{
	if (!out)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigild_audit_open: missing argument");
	sigild_audit *a = calloc(1, sizeof *a);
	if (!a)
		return sigil__err_oom(err);
	a->format = format;
	a->fd = STDERR_FILENO;
	if (path && path[0]) {
		a->path = strdup(path);
		if (!a->path) {
			free(a);
			return sigil__err_oom(err);
		}
		if (open_fd(path, &a->fd, err) != SIGIL_STATUS_OK) {
			free(a->path);
			free(a);
			return SIGIL_STATUS_ERROR;
		}
	}
	pthread_mutex_init(&a->lock, NULL);
	*out = a;
	return SIGIL_STATUS_OK;
}

sigil_status sigild_audit_reopen(sigild_audit *a, sigil_error *err)
{
	if (!a)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigild_audit_reopen: missing argument");
	if (!a->path)
		return SIGIL_STATUS_OK;
	int fd = -1;
	if (open_fd(a->path, &fd, err) != SIGIL_STATUS_OK)
		return SIGIL_STATUS_ERROR;
	pthread_mutex_lock(&a->lock);
	close(a->fd);
	a->fd = fd;
	pthread_mutex_unlock(&a->lock);
	return SIGIL_STATUS_OK;
}

void sigild_audit_close(sigild_audit *a)
{
	if (!a)
		return;
	if (a->path)
		close(a->fd);
	free(a->path);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

uint64_t sigild_audit_write_errors(sigild_audit *a)
{
	if (!a)
		return 0;
	pthread_mutex_lock(&a->lock);
	uint64_t n = a->write_errors;
	pthread_mutex_unlock(&a->lock);
	return n;
}

static void format_time(int64_t time_us, char *buf, size_t size)
{
	time_t secs = (time_t)(time_us / 1000000);
	struct tm tm;
	if (!gmtime_r(&secs, &tm)) {
		snprintf(buf, size, "%lld", (long long)time_us);
		return;
	}
	char base[32];
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%s.%06lldZ", base, (long long)(time_us % 1000000));
}

static const char *nz(const char *s)
{
	return s ? s : "";
}

/* text lines are read by people and grep: no control characters from a
 * request may break a line or move the cursor */
static char *sanitize(const char *s)
{
	s = nz(s);
	size_t n = strlen(s);
	char *o = malloc(n + 1);
	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++)
		o[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	o[n] = '\0';
	return o;
}

/* The JSON line is written straight into one buffer sized in a first pass,
 * not built as a json-c object tree: on a cached verdict the tree (13
 * objects, a hash table, a printbuf) cost ~35 000 instructions, a third of
 * sigild's whole call (issue 7). The bytes are exactly what json-c 0.16
 * printed with JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
 * which log readers already parse (tests/unit/test-sigild-audit.c compares
 * the two on every byte value): '"' and '\' escaped, \b \t \n \f \r
 * short, other bytes below 0x20 as \u00xx (lower-case hex), everything
 * else (0x7f, and bytes >= 0x80 whether valid UTF-8 or not) as is. */

/* What each byte becomes inside a JSON string: 1 (itself), 2 (a short
 * escape, the letter in json_short[]) or 6 (\u00xx). A table, because the
 * escaper runs over every byte of every line (~800 per cached verdict). */
static const uint8_t json_width[256] = {
	6, 6, 6, 6, 6, 6, 6, 6, 2, 2, 2, 6, 2, 2, 6, 6, /* \b \t \n \f \r: 2 */
	6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
	1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* '"': 2 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, /* '\\': 2 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

static char json_short(unsigned char c)
{
	switch (c) {
	case '"': return '"';
	case '\\': return '\\';
	case '\b': return 'b';
	case '\t': return 't';
	case '\n': return 'n';
	case '\f': return 'f';
	default: return 'r'; /* '\r', the last byte of width 2 */
	}
}

/* the escaped length of s; *len receives strlen(s) */
static size_t json_escaped_len(const char *s, size_t *len)
{
	size_t n = 0;
	const unsigned char *p = (const unsigned char *)s;
	for (; *p; p++)
		n += json_width[*p];
	*len = (size_t)(p - (const unsigned char *)s);
	return n;
}

/* s (len bytes) escaped into o; returns the end. Runs of bytes that stand
 * for themselves are copied whole. */
static char *json_escape_into(char *o, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	while (p < end) {
		const unsigned char *run = p;
		while (p < end && json_width[*p] == 1)
			p++;
		memcpy(o, run, (size_t)(p - run));
		o += p - run;
		if (p == end)
			break;
		unsigned char c = *p++;
		*o++ = '\\';
		if (json_width[c] == 2) {
			*o++ = json_short(c);
		} else {
			memcpy(o, "u00", 3);
			o[3] = hex[c >> 4];
			o[4] = hex[c & 0xf];
			o += 5;
		}
	}
	return o;
}

/* the decimal digits of v, as "%" PRId64 prints them; returns the length */
static size_t int64_text(int64_t v, char buf[21])
{
	char tmp[20];
	size_t n = 0, len = 0;
	/* through unsigned: -INT64_MIN does not fit an int64_t */
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		buf[len++] = '-';
	while (n)
		buf[len++] = tmp[--n];
	return len;
}

#define JSON_FIELDS 9

/* json_line_into - the JSON line (with '\n' and a NUL) into buf when it
 * fits in size bytes, else into a malloc'd buffer returned in *heap (NULL
 * on allocation failure: returns NULL). Returns the line. */
static char *json_line_into(const char *when, const sigild_audit_record *r, char *buf, size_t size,
	char **heap)
{
	/* "key": and the string fields in the order json-c printed them */
	const char *keys[JSON_FIELDS] = { "time", "image", "digest", "verdict", "reason", "policy",
		"level", "failure", "signer" };
	const char *vals[JSON_FIELDS] = { when, nz(r->image), nz(r->digest),
		r->allow ? "allow" : "deny", nz(r->reason), nz(r->policy), nz(r->level), nz(r->failure),
		nz(r->signer) };
	const char *cached = r->cached ? "true" : "false";
	const char *dry = r->dry_run_override ? "true" : "false";
	const char *listed = r->allow_listed ? "true" : "false";
	char elapsed[21];
	size_t elapsed_len = int64_text(r->elapsed_us, elapsed);
	size_t esc[JSON_FIELDS], raw[JSON_FIELDS];

	/* {"k":"v",...,"cached":b,"dryRunOverride":b,"allowListed":b,"elapsedUs":n}\n\0
	 * First the bound with every byte escaped to 6 (strlen is cheap): when
	 * it fits the caller's buffer, nothing is measured twice. */
	size_t fixed = sizeof "{\"cached\":,\"dryRunOverride\":,\"allowListed\":,\"elapsedUs\":}\n" +
		strlen(cached) + strlen(dry) + strlen(listed) + elapsed_len;
	size_t worst = fixed;
	bool fits = true;
	for (size_t i = 0; i < JSON_FIELDS; i++) {
		raw[i] = strlen(vals[i]);
		size_t field = strlen(keys[i]) + sizeof "\"\":\"\",";
		if (raw[i] > (SIZE_MAX - field) / 6 || worst > size) {
			fits = false;
			break;
		}
		worst += field + 6 * raw[i];
	}
	*heap = NULL;
	char *line = buf;
	if (!fits || worst > size) {
		/* the exact length; each escaped byte takes at most 6, so the
		 * sums cannot overflow for strings that fit in memory (checked
		 * anyway) */
		size_t need = fixed;
		for (size_t i = 0; i < JSON_FIELDS; i++) {
			esc[i] = json_escaped_len(vals[i], &raw[i]);
			size_t field = strlen(keys[i]) + esc[i] + sizeof "\"\":\"\",";
			if (esc[i] > SIZE_MAX / 2 || need > SIZE_MAX - field)
				return NULL;
			need += field;
		}
		line = *heap = malloc(need);
		if (!line)
			return NULL;
	}
	char *o = line;
	*o++ = '{';
	for (size_t i = 0; i < JSON_FIELDS; i++) {
		size_t k = strlen(keys[i]);
		*o++ = '"';
		memcpy(o, keys[i], k);
		o += k;
		memcpy(o, "\":\"", 3);
		o += 3;
		o = json_escape_into(o, vals[i], raw[i]);
		*o++ = '"';
		*o++ = ',';
	}
	const char *tail[] = { "\"cached\":", cached, ",\"dryRunOverride\":", dry, ",\"allowListed\":",
		listed, ",\"elapsedUs\":" };
	for (size_t i = 0; i < sizeof tail / sizeof tail[0]; i++) {
		size_t n = strlen(tail[i]);
		memcpy(o, tail[i], n);
		o += n;
	}
	memcpy(o, elapsed, elapsed_len);
	o += elapsed_len;
	*o++ = '}';
	*o++ = '\n';
	*o = '\0';
	return line;
}

static char *json_line(const char *when, const sigild_audit_record *r)
{
	char *heap = NULL;
	/* size 0: always the heap, the caller frees the line */
	return json_line_into(when, r, NULL, 0, &heap);
}

static char *text_line(const char *when, const sigild_audit_record *r)
{
	char *image = sanitize(r->image), *digest = sanitize(r->digest), *reason = sanitize(r->reason);
	char *policy = sanitize(r->policy), *level = sanitize(r->level), *signer = sanitize(r->signer);
	char *line = NULL;
	if (image && digest && reason && policy && level && signer) {
		const char *tag = r->allow_listed ? " allow-listed" : r->dry_run_override ? " dry-run" : "";
		char *out = NULL;
		if (asprintf(&out, "%s %s%s %s@%s policy=\"%s\" level=%s signer=\"%s\" cached=%s elapsed=%lldus: %s\n",
			when, r->allow ? "ALLOW" : "DENY", tag, image, digest, policy, level[0] ? level : "-",
			signer, r->cached ? "yes" : "no", (long long)r->elapsed_us, reason) >= 0)
			line = out;
	}
	free(image);
	free(digest);
	free(reason);
	free(policy);
	free(level);
	free(signer);
	return line;
}

char *sigild_audit_format_line(sigild_audit_format format, int64_t time_us, const sigild_audit_record *rec)
{
	if (!rec)
		return NULL;
	char when[64];
	format_time(time_us, when, sizeof when);
	return format == SIGILD_AUDIT_TEXT ? text_line(when, rec) : json_line(when, rec);
}

/* A JSON line whose fields, every byte escaped to 6, fit in this is
 * formatted on the stack: a typical line is ~800 bytes, and sigild writes
 * one per decision. */
#define AUDIT_STACK_LINE 8192

void sigild_audit_log(sigild_audit *a, const sigild_audit_record *rec)
{
	if (!a || !rec)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t time_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	char stack[AUDIT_STACK_LINE];
	char *heap = NULL, *line;
	if (a->format == SIGILD_AUDIT_TEXT) {
		line = heap = sigild_audit_format_line(a->format, time_us, rec);
	} else {
		char when[64];
		format_time(time_us, when, sizeof when);
		line = json_line_into(when, rec, stack, sizeof stack, &heap);
	}
	pthread_mutex_lock(&a->lock);
	if (!line) {
		a->write_errors++;
		pthread_mutex_unlock(&a->lock);
		return;
	}
	size_t n = strlen(line), off = 0;
	while (off < n) {
		ssize_t w = write(a->fd, line + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			a->write_errors++;
			break;
		}
		off += (size_t)w;
	}
	pthread_mutex_unlock(&a->lock);
	free(heap);
}
