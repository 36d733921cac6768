/* bench-lib-util.h - what the library (3) and growth (5) benchmarks share:
 * clocks, medians, fixture files, one sigil verification through the
 * public API, and a small JSON writer for the results file run.sh reads. */
#ifndef SIGIL_BENCH_LIB_UTIL_H
#define SIGIL_BENCH_LIB_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sigil/sigil.h>

/* Thread CPU time (user + system) in seconds: a rate per core that other
 * processes on this shared machine disturb far less than wall time. */
double bench_cpu_now(void);
/* CLOCK_MONOTONIC in seconds. */
double bench_wall_now(void);

/* Median of v[0..n) (sorts v in place); 0 when n == 0. */
double bench_median(double *v, size_t n);

/* Exit with a message on stderr (the benchmarks stop at the first
 * problem: a number measured on a broken fixture means nothing). */
__attribute__((noreturn, format(printf, 1, 2)))
void bench_die(const char *fmt, ...);

/* The whole file, NUL-terminated, *len without the NUL; dies on error. */
uint8_t *bench_read_file(const char *path, size_t *len);
/* The first line of a text file without its newline, into buf. */
void bench_read_line(const char *path, char *buf, size_t cap);
/* Each non-empty line of a fixture index (make-fixtures.py's index.txt),
 * in order, to parse(path, line, i, ctx); dies on more than max lines (parse
 * dies on a line it cannot read). The number of lines. */
size_t bench_read_index(const char *path, size_t max,
	void (*parse)(const char *path, const char *line, size_t i, void *ctx), void *ctx);

/* One verification target: a trust configuration and a signed artifact
 * in an OCI layout (<dir>/config, <dir>/layout, <dir>/scope, <dir>/digest). */
typedef struct bench_target {
	char dir[1024];
	char config[1100];
	char layout[1100];
	char scope[512];
	char digest[256];
	sigil_verifier *verifier;
	sigil_source *source;
} bench_target;

/* Read the target's files, load its verifier (sigil_verifier_new) and open
 * its layout (sigil_source_oci_layout_open): both long-lived, as in sigild,
 * which keeps the verifier and a registry connection across pulls. */
void bench_target_open(bench_target *t, const char *dir);
void bench_target_close(bench_target *t);

/* One verification: sigil_verify on the open source, then free the
 * result. Dies unless the verdict is PASS; returns the number of
 * signatures examined. */
size_t bench_verify_once(bench_target *t);

/* Batch sizing: how many calls of fn(arg) take about `seconds` of CPU,
 * measured with a few calls first. At least 1. */
size_t bench_calibrate(void (*fn)(void *), void *arg, double seconds);

/* Run fn(arg) n times; the CPU and wall seconds it took. */
void bench_time(void (*fn)(void *), void *arg, size_t n, double *cpu, double *wall);

/* Minimal JSON writer: enough for flat objects and arrays of them. */
typedef struct bench_json {
	FILE *f;
	int depth;
	int first[16];
} bench_json;

void bench_json_open(bench_json *j, FILE *f);
void bench_json_begin_object(bench_json *j, const char *key);
void bench_json_end_object(bench_json *j);
void bench_json_begin_array(bench_json *j, const char *key);
void bench_json_end_array(bench_json *j);
void bench_json_str(bench_json *j, const char *key, const char *value);
void bench_json_num(bench_json *j, const char *key, double value);
void bench_json_int(bench_json *j, const char *key, long long value);
void bench_json_bool(bench_json *j, const char *key, int value);

/* Common command line: --fixtures DIR --json FILE --smoke --rounds N
 * --batch-ms MS. Unknown options print usage and exit 2. */
typedef struct bench_args {
	const char *fixtures;
	const char *json;
	int smoke;
	int rounds;
	double batch_s;
	double warmup_s;
} bench_args;

void bench_parse_args(bench_args *a, int argc, char **argv, const char *usage);

#endif
