/* bench-lib-util.c - see bench-lib-util.h. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bench-lib-util.h"

double bench_cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double bench_wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double bench_median(double *v, size_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void bench_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "bench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

uint8_t *bench_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		bench_die("%s: %s", path, strerror(errno));
	size_t cap = 4096, n = 0;
	uint8_t *buf = malloc(cap);
	if (!buf)
		bench_die("out of memory");
	for (;;) {
		if (n + 1 >= cap) {
			cap *= 2;
			uint8_t *nb = realloc(buf, cap);
			if (!nb)
				bench_die("out of memory");
			buf = nb;
		}
		size_t r = fread(buf + n, 1, cap - n - 1, f);
		if (r == 0)
			break;
		n += r;
	}
	if (ferror(f))
		bench_die("%s: read error", path);
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

void bench_read_line(const char *path, char *buf, size_t cap)
{
	size_t len = 0;
	uint8_t *s = bench_read_file(path, &len);
	size_t n = strcspn((char *)s, "\r\n");
	if (n >= cap)
		bench_die("%s: first line longer than %zu bytes", path, cap - 1);
	memcpy(buf, s, n);
	buf[n] = '\0';
	free(s);
}

size_t bench_read_index(const char *path, size_t max,
	void (*parse)(const char *path, const char *line, size_t i, void *ctx), void *ctx)
{
	size_t len = 0;
	char *text = (char *)bench_read_file(path, &len);
	size_t n = 0;
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!*line)
			continue;
		if (n == max)
			bench_die("%s: more than %zu cases", path, max);
		parse(path, line, n, ctx);
		n++;
	}
	free(text);
	return n;
}

void bench_target_open(bench_target *t, const char *dir)
{
	memset(t, 0, sizeof *t);
	char path[1200];
	snprintf(t->dir, sizeof t->dir, "%s", dir);
	snprintf(t->config, sizeof t->config, "%s/config", dir);
	snprintf(t->layout, sizeof t->layout, "%s/layout", dir);
	snprintf(path, sizeof path, "%s/scope", dir);
	bench_read_line(path, t->scope, sizeof t->scope);
	snprintf(path, sizeof path, "%s/digest", dir);
	bench_read_line(path, t->digest, sizeof t->digest);
	sigil_error err = SIGIL_ERROR_INIT;
	if (sigil_verifier_new(&t->verifier, t->config, &err) != SIGIL_STATUS_OK)
		bench_die("%s: %s", t->config, err.message);
	/* a trust store that did not load is a broken fixture, not a verdict */
	if (sigil_verifier_warning_count(t->verifier) > 0)
		bench_die("%s: %s", t->config, sigil_verifier_warning_get(t->verifier, 0));
	if (sigil_source_oci_layout_open(&t->source, t->layout, &err) != SIGIL_STATUS_OK)
		bench_die("%s: %s", t->layout, err.message);
}

void bench_target_close(bench_target *t)
{
	sigil_verifier_free(t->verifier);
	sigil_source_free(t->source);
	t->verifier = NULL;
	t->source = NULL;
}

size_t bench_verify_once(bench_target *t)
{
	sigil_error err = SIGIL_ERROR_INIT;
	sigil_result *res = NULL;
	sigil_verify_options opts = SIGIL_VERIFY_OPTIONS_INIT;
	opts.scope = t->scope;
	opts.digest = t->digest;
	if (sigil_verify(t->verifier, t->source, &opts, &res, &err) != SIGIL_STATUS_OK)
		bench_die("%s: sigil_verify: %s", t->dir, err.message);
	if (sigil_result_verdict(res) != SIGIL_VERDICT_PASS)
		bench_die("%s: expected PASS, got: %s", t->dir, sigil_result_reason(res));
	size_t n = sigil_result_signature_count(res);
	sigil_result_free(res);
	return n;
}

void bench_time(void (*fn)(void *), void *arg, size_t n, double *cpu, double *wall)
{
	double c0 = bench_cpu_now(), w0 = bench_wall_now();
	for (size_t i = 0; i < n; i++)
		fn(arg);
	*cpu = bench_cpu_now() - c0;
	*wall = bench_wall_now() - w0;
}

size_t bench_calibrate(void (*fn)(void *), void *arg, double seconds)
{
	/* grow the probe until it is long enough to time (1 ms at least) */
	size_t n = 1;
	double cpu = 0, wall = 0;
	for (;;) {
		bench_time(fn, arg, n, &cpu, &wall);
		if (cpu >= 1e-3 || n >= ((size_t)1 << 20))
			break;
		n *= 4;
	}
	double per = cpu / (double)n;
	if (per <= 0)
		return n;
	double want = ceil(seconds / per);
	return want < 1 ? 1 : (size_t)want;
}

/* ---- JSON ---------------------------------------------------------------- */

static void json_sep(bench_json *j, const char *key)
{
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = 0;
	fputc('\n', j->f);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->f);
	if (key)
		fprintf(j->f, "\"%s\": ", key);
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

void bench_json_open(bench_json *j, FILE *f)
{
	memset(j, 0, sizeof *j);
	j->f = f;
	j->first[0] = 1;
}

static void json_begin(bench_json *j, const char *key, char open)
{
	if (j->depth == 0 && j->first[0]) {
		fputc(open, j->f);
		j->first[0] = 0;
	} else {
		json_sep(j, key);
		fputc(open, j->f);
	}
	if (j->depth + 1 >= (int)(sizeof j->first / sizeof j->first[0]))
		bench_die("JSON nesting too deep");
	j->first[++j->depth] = 1;
}

static void json_end(bench_json *j, char close)
{
	j->depth--;
	fputc('\n', j->f);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->f);
	fputc(close, j->f);
	if (j->depth == 0)
		fputc('\n', j->f);
}

void bench_json_begin_object(bench_json *j, const char *key) { json_begin(j, key, '{'); }
void bench_json_end_object(bench_json *j) { json_end(j, '}'); }
void bench_json_begin_array(bench_json *j, const char *key) { json_begin(j, key, '['); }
void bench_json_end_array(bench_json *j) { json_end(j, ']'); }

void bench_json_str(bench_json *j, const char *key, const char *value)
{
	json_sep(j, key);
	json_string(j->f, value);
}

void bench_json_num(bench_json *j, const char *key, double value)
{
	json_sep(j, key);
	/* JSON has no NaN or infinity */
	if (isfinite(value))
		fprintf(j->f, "%.6g", value);
	else
		fputs("null", j->f);
}

void bench_json_int(bench_json *j, const char *key, long long value)
{
	json_sep(j, key);
	fprintf(j->f, "%lld", value);
}

void bench_json_bool(bench_json *j, const char *key, int value)
{
	json_sep(j, key);
	fputs(value ? "true" : "false", j->f);
}

/* ---- command line -------------------------------------------------------- */

void bench_parse_args(bench_args *a, int argc, char **argv, const char *usage)
{
	static const struct option longopts[] = {
		{ "fixtures", required_argument, NULL, 'f' },
		{ "json", required_argument, NULL, 'j' },
		{ "smoke", no_argument, NULL, 's' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "batch-ms", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	memset(a, 0, sizeof *a);
	int rounds = 0;
	double batch_ms = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		char *end = NULL;
		switch (opt) {
		case 'f': a->fixtures = optarg; break;
		case 'j': a->json = optarg; break;
		case 's': a->smoke = 1; break;
		case 'r':
			errno = 0;
			rounds = (int)strtol(optarg, &end, 10);
			if (errno || !end || *end || rounds < 1 || rounds > 1000)
				bench_die("--rounds must be 1..1000, not \"%s\"", optarg);
			break;
		case 'b':
			errno = 0;
			batch_ms = strtod(optarg, &end);
			if (errno || !end || *end || !(batch_ms > 0) || batch_ms > 60000)
				bench_die("--batch-ms must be in (0, 60000], not \"%s\"", optarg);
			break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		default:
			fputs(usage, stderr);
			exit(2);
		}
	}
	if (optind != argc || !a->fixtures) {
		fputs(usage, stderr);
		exit(2);
	}
	/* smoke: one short round, to check the harness, not to measure */
	a->rounds = rounds ? rounds : (a->smoke ? 1 : 7);
	a->batch_s = (batch_ms ? batch_ms : (a->smoke ? 5 : 150)) / 1000.0;
	a->warmup_s = a->smoke ? 0.005 : 0.3;
}
