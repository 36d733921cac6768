/* test-sigild-audit.c - sigild's JSON audit line (plugin/audit.c) is
 * written without json-c's object tree since issue 7; log readers rely on
 * the bytes json-c 0.16 printed. This test builds those bytes with json-c
 * itself (the code audit.c used before) and compares them with
 * sigild_audit_format_line and with what sigild_audit_log writes, for
 * records with every byte value 0x01-0xff in every string field, random
 * bytes, invalid UTF-8, long strings (past the stack buffer of
 * sigild_audit_log, and within it), NULL and empty fields, and extreme elapsed times; and
 * parses each line back with json_tokener to the record's values. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include "check.h"
#include "audit.h"

#define FIELDS 7 /* the record's string fields but the time */

/* --- the reference: json-c, as plugin/audit.c did it before --------------- */

static const char *nz(const char *s)
{
	return s ? s : "";
}

/* the time field as audit.c's format_time prints it (unchanged code) */
static void ref_time(int64_t time_us, char *buf, size_t size)
{
	time_t secs = (time_t)(time_us / 1000000);
	struct tm tm;
	char base[32];
	if (!gmtime_r(&secs, &tm)) {
		snprintf(buf, size, "%lld", (long long)time_us);
		return;
	}
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%s.%06lldZ", base, (long long)(time_us % 1000000));
}

static void add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(nz(v)));
}

/* malloc'd, with the '\n' */
static char *ref_line(const char *when, const sigild_audit_record *r)
{
	json_object *o = json_object_new_object();
	add_str(o, "time", when);
	add_str(o, "image", r->image);
	add_str(o, "digest", r->digest);
	add_str(o, "verdict", r->allow ? "allow" : "deny");
	add_str(o, "reason", r->reason);
	add_str(o, "policy", r->policy);
	add_str(o, "level", r->level);
	add_str(o, "failure", r->failure);
	add_str(o, "signer", r->signer);
	json_object_object_add(o, "cached", json_object_new_boolean(r->cached));
	json_object_object_add(o, "dryRunOverride", json_object_new_boolean(r->dry_run_override));
	json_object_object_add(o, "allowListed", json_object_new_boolean(r->allow_listed));
	json_object_object_add(o, "elapsedUs", json_object_new_int64(r->elapsed_us));
	const char *s = json_object_to_json_string_ext(o,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t n = strlen(s);
	char *line = malloc(n + 2);
	if (!line)
		exit(2);
	memcpy(line, s, n);
	line[n] = '\n';
	line[n + 1] = '\0';
	json_object_put(o);
	return line;
}

/* --- records ------------------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
	/* xorshift64*: deterministic, so a failure reproduces */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ull;
}

typedef struct strings {
	char *f[FIELDS];
} strings;

static const char **field(sigild_audit_record *r, int i)
{
	const char **p[FIELDS] = { &r->image, &r->digest, &r->reason, &r->policy, &r->level,
		&r->failure, &r->signer };
	return p[i];
}

/* a random string: every byte value, or a bias toward the ones that are
 * escaped, or ASCII, or valid and invalid UTF-8 sequences */
static char *random_string(size_t max)
{
	size_t n = max ? (size_t)(next() % (max + 1)) : 0;
	char *s = malloc(n + 1);
	int style = (int)(next() % 4);
	if (!s)
		exit(2);
	for (size_t i = 0; i < n; i++) {
		unsigned char c;
		switch (style) {
		case 0: c = (unsigned char)(1 + next() % 255); break;
		case 1: {
			static const unsigned char hot[] = { '"', '\\', '/', '\b', '\t', '\n', '\f', '\r',
				0x01, 0x1f, 0x7f, 0x80, 0xff, 'u', '0' };
			c = hot[next() % sizeof hot];
			break;
		}
		case 2: c = (unsigned char)(0x20 + next() % 0x5f); break;
		default: {
			/* é (c3 a9), a lone continuation byte, an overlong NUL,
			 * a truncated 3-byte sequence */
			static const unsigned char utf[] = { 0xc3, 0xa9, 0x80, 0xc0, 0x80, 0xe2, 0x82 };
			c = utf[next() % sizeof utf];
			break;
		}
		}
		s[i] = (char)c;
	}
	s[n] = '\0';
	return s;
}

static int64_t random_elapsed(void)
{
	static const int64_t edge[] = { 0, 1, -1, 42, INT64_MAX, INT64_MIN, INT64_MIN + 1, 999999,
		-1000000, (int64_t)1 << 53 };
	if (next() % 3 == 0)
		return edge[next() % (sizeof edge / sizeof edge[0])];
	return (int64_t)next();
}

static void random_record(sigild_audit_record *r, strings *st, size_t max)
{
	memset(r, 0, sizeof *r);
	for (int i = 0; i < FIELDS; i++) {
		int kind = (int)(next() % 8);
		st->f[i] = kind == 0 ? NULL : random_string(kind == 1 ? 0 : max);
		*field(r, i) = st->f[i];
	}
	r->allow = next() & 1;
	r->cached = next() & 1;
	r->dry_run_override = next() & 1;
	r->allow_listed = next() & 1;
	r->elapsed_us = random_elapsed();
}

static void strings_free(strings *st)
{
	for (int i = 0; i < FIELDS; i++)
		free(st->f[i]);
}

/* --- checks -------------------------------------------------------------- */

static const char *jstr(json_object *o, const char *k, size_t *len)
{
	json_object *v = NULL;
	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	*len = (size_t)json_object_get_string_len(v);
	return json_object_get_string(v);
}

static int jbool(json_object *o, const char *k)
{
	json_object *v = NULL;
	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_boolean))
		return -1;
	return json_object_get_boolean(v);
}

/* the line parses back to exactly the record's values */
static bool parses_back(const char *line, const char *when, const sigild_audit_record *r)
{
	json_object *o = json_tokener_parse(line);
	bool ok = o != NULL && json_object_is_type(o, json_type_object) &&
		json_object_object_length(o) == 13;
	const char *names[] = { "image", "digest", "reason", "policy", "level", "failure", "signer" };
	sigild_audit_record copy = *r;
	size_t len;
	const char *v;
	for (int i = 0; ok && i < FIELDS; i++) {
		const char *want = nz(*field(&copy, i));
		v = jstr(o, names[i], &len);
		ok = v && len == strlen(want) && memcmp(v, want, len) == 0;
	}
	ok = ok && (v = jstr(o, "time", &len)) && strcmp(v, when) == 0;
	ok = ok && (v = jstr(o, "verdict", &len)) && strcmp(v, r->allow ? "allow" : "deny") == 0;
	ok = ok && jbool(o, "cached") == r->cached && jbool(o, "dryRunOverride") == r->dry_run_override &&
		jbool(o, "allowListed") == r->allow_listed;
	json_object *e = NULL;
	ok = ok && json_object_object_get_ex(o, "elapsedUs", &e) && json_object_is_type(e, json_type_int) &&
		json_object_get_int64(e) == r->elapsed_us;
	json_object_put(o);
	return ok;
}

static int mismatches;

static void compare(const char *what, const char *got, const char *want, size_t n)
{
	check__checks++;
	if (got && strcmp(got, want) == 0)
		return;
	check__failures++;
	if (mismatches++ < 3) {
		size_t i = 0;
		while (got && got[i] && got[i] == want[i])
			i++;
		fprintf(stderr, "FAIL %s record %zu: differs from json-c at byte %zu\n"
			"    got:  %.120s\n    want: %.120s\n", what, n, i, got ? got + (i > 20 ? i - 20 : 0) : "(null)",
			want + (i > 20 ? i - 20 : 0));
	}
}

/* --- tests --------------------------------------------------------------- */

/* every byte value 0x01-0xff in every string field at once */
static void test_every_byte(void)
{
	char all[256];
	for (int c = 1; c < 256; c++)
		all[c - 1] = (char)c;
	all[255] = '\0';
	sigild_audit_record r = {
		.image = all, .digest = all, .reason = all, .policy = all, .level = all, .failure = all,
		.signer = all, .allow = true, .cached = true, .elapsed_us = -1,
	};
	char *got = sigild_audit_format_line(SIGILD_AUDIT_JSON, 1700000000123456LL, &r);
	char *want = ref_line("2023-11-14T22:13:20.123456Z", &r);
	compare("every byte", got, want, 0);
	CHECK(got && parses_back(got, "2023-11-14T22:13:20.123456Z", &r));
	/* a spot check of the escapes themselves, independent of json-c */
	CHECK_CONTAINS(got, "\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r"
		"\\u000e\\u000f\\u0010");
	CHECK_CONTAINS(got, "\\u001f !\\\"#$%&'()*+,-./0");
	CHECK_CONTAINS(got, "[\\\\]");
	CHECK_CONTAINS(got, "}~\x7f\x80\x81");
	CHECK_CONTAINS(got, "\xfe\xff\",\"digest\":\"\\u0001");
	free(got);
	free(want);

	/* a NUL ends a field, as it ended json_object_new_string's copy */
	char cut[] = "before\0after";
	sigild_audit_record z = { .image = cut, .digest = "", .reason = NULL };
	got = sigild_audit_format_line(SIGILD_AUDIT_JSON, 0, &z);
	want = ref_line("1970-01-01T00:00:00.000000Z", &z);
	compare("embedded NUL", got, want, 0);
	CHECK_STREQ(got, "{\"time\":\"1970-01-01T00:00:00.000000Z\",\"image\":\"before\",\"digest\":\"\","
		"\"verdict\":\"deny\",\"reason\":\"\",\"policy\":\"\",\"level\":\"\",\"failure\":\"\","
		"\"signer\":\"\",\"cached\":false,\"dryRunOverride\":false,\"allowListed\":false,"
		"\"elapsedUs\":0}\n");
	free(got);
	free(want);
}

/* many random records through sigild_audit_format_line */
static void test_random_records(void)
{
	size_t n = 20000;
	size_t unparsed = 0;
	for (size_t i = 0; i < n; i++) {
		sigild_audit_record r;
		strings st;
		random_record(&r, &st, i % 100 == 0 ? 6000 : 200);
		int64_t t = (int64_t)(next() % 4102444800000000ull); /* up to 2100 */
		char when[64];
		ref_time(t, when, sizeof when);
		char *got = sigild_audit_format_line(SIGILD_AUDIT_JSON, t, &r);
		char *want = ref_line(when, &r);
		compare("random", got, want, i);
		if (!got || !parses_back(got, when, &r))
			unparsed++;
		free(got);
		free(want);
		strings_free(&st);
	}
	CHECK_INTEQ(unparsed, 0);
	CHECK_INTEQ(mismatches, 0);
}

/* what sigild_audit_log writes (a stack buffer, or the heap past it) */
static void test_log_file(void)
{
	char dir[] = "/tmp/sigild-audit-XXXXXX";
	char path[64];
	sigil_error err = SIGIL_ERROR_INIT;
	sigild_audit *a = NULL;
	enum { N = 400 };
	sigild_audit_record recs[N];
	strings sts[N];

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/audit.log", dir);
	CHECK(sigild_audit_open(&a, path, SIGILD_AUDIT_JSON, &err) == SIGIL_STATUS_OK);
	if (!a)
		return;
	for (size_t i = 0; i < N; i++) {
		/* lines on either side of sigild_audit_log's stack buffer */
		random_record(&recs[i], &sts[i], i % 10 == 0 ? 4000 : i % 2 ? 300 : 600);
		sigild_audit_log(a, &recs[i]);
	}
	CHECK_INTEQ(sigild_audit_write_errors(a), 0);
	sigild_audit_close(a);

	size_t len, lines = 0, off = 0, big = 0, small = 0;
	char *b = (char *)check_read_file(path, &len);
	for (size_t i = 0; i < N && off < len; i++) {
		char *nl = memchr(b + off, '\n', len - off);
		if (!nl)
			break;
		size_t ll = (size_t)(nl - (b + off)) + 1;
		char *line = malloc(ll + 1);
		if (!line)
			exit(2);
		memcpy(line, b + off, ll);
		line[ll] = '\0';
		off += ll;
		lines++;
		/* audit.c formats on its 8 KiB stack buffer when every byte
		 * escaped to 6 would fit, else on the heap */
		if (ll > 8192)
			big++;
		if (ll < 1200)
			small++;
		/* the time is the wall clock's, formatted by unchanged code:
		 * take it from the line, then the rest must match json-c */
		char when[64] = "";
		const char *p = line + strlen("{\"time\":\"");
		const char *q = strchr(p, '"');
		if (strncmp(line, "{\"time\":\"", 9) == 0 && q && (size_t)(q - p) < sizeof when)
			memcpy(when, p, (size_t)(q - p));
		char *want = ref_line(when, &recs[i]);
		compare("audit log", line, want, i);
		CHECK(parses_back(line, when, &recs[i]));
		free(want);
		free(line);
	}
	CHECK_INTEQ(lines, N);
	CHECK(off == len);
	CHECK(big > 0 && small > 0); /* both the heap and the stack path ran */
	free(b);
	for (size_t i = 0; i < N; i++)
		strings_free(&sts[i]);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	RUN(test_every_byte);
	RUN(test_random_records);
	RUN(test_log_file);
	return check_summary();
}
