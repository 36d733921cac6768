/* check.h - a minimal test harness: each test is a function; CHECK*
 * macros record failures with file:line and keep going; main() runs the
 * listed tests and exits non-zero if any failed.
 *
 *   static void test_x(void) { CHECK(1 + 1 == 2); CHECK_STREQ(a, b); }
 *   int main(void) { RUN(test_x); return check_summary(); }
 *
 * SIGIL_TEST_DATA is the source tree's tests/ directory (set by meson),
 * so tests can read tests/corpus/... as TEST_DATA "/corpus/...". */
#ifndef SIGIL_TESTS_CHECK_H
#define SIGIL_TESTS_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check__failures;
static int check__checks;
static const char *check__current;

#define CHECK(cond) do { check__checks++; if (!(cond)) { check__failures++; \
	fprintf(stderr, "FAIL %s:%d [%s]: %s\n", __FILE__, __LINE__, check__current, #cond); } } while (0)

#define CHECK_STREQ(a, b) do { const char *check__a = (a), *check__b = (b); check__checks++; \
	if (!check__a || !check__b || strcmp(check__a, check__b) != 0) { check__failures++; \
	fprintf(stderr, "FAIL %s:%d [%s]: %s == %s\n    got:      \"%s\"\n    expected: \"%s\"\n", \
		__FILE__, __LINE__, check__current, #a, #b, check__a ? check__a : "(null)", \
		check__b ? check__b : "(null)"); } } while (0)

/* CHECK_CONTAINS - haystack contains needle */
#define CHECK_CONTAINS(h, n) do { const char *check__h = (h), *check__n = (n); check__checks++; \
	if (!check__h || !check__n || !strstr(check__h, check__n)) { check__failures++; \
	fprintf(stderr, "FAIL %s:%d [%s]: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__, \
		check__current, check__h ? check__h : "(null)", check__n ? check__n : "(null)"); } } while (0)

#define CHECK_INTEQ(a, b) do { long long check__x = (long long)(a), check__y = (long long)(b); \
	check__checks++; if (check__x != check__y) { check__failures++; \
	fprintf(stderr, "FAIL %s:%d [%s]: %s == %s (got %lld, expected %lld)\n", __FILE__, __LINE__, \
		check__current, #a, #b, check__x, check__y); } } while (0)

#define RUN(fn) do { check__current = #fn; int check__before = check__failures; fn(); \
	printf("%s %s\n", check__failures == check__before ? "ok  " : "FAIL", #fn); } while (0)

static inline int check_summary(void)
{
	printf("%d checks, %d failed\n", check__checks, check__failures);
	return check__failures ? 1 : 0;
}

/* check_read_file - whole file into a malloc'd buffer (NUL-terminated);
 * aborts the test program if unreadable. */
static inline unsigned char *check_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f) { fprintf(stderr, "cannot open %s\n", path); exit(2); }
	size_t cap = 4096, n = 0;
	unsigned char *buf = malloc(cap + 1);
	size_t r;
	while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) { cap *= 2; buf = realloc(buf, cap + 1); }
	}
	fclose(f);
	if (!buf) exit(2);
	buf[n] = 0;
	*len = n;
	return buf;
}

#endif
