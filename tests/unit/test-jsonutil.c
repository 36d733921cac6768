/* test-jsonutil.c - bounded JSON parsing. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <string.h>
#include <sys/stat.h>
#include "jsonutil.h"
#include "bounds.h"
#include "check.h"

static sigil_category parse(const char *s, json_object **out)
{
	sigil_error e = SIGIL_ERROR_INIT;
	json_object *o = NULL;
	if (sigil__json_parse((const uint8_t *)s, strlen(s), &o, &e) != SIGIL_STATUS_OK)
		return e.category;
	if (out)
		*out = o;
	else
		json_object_put(o);
	return SIGIL_ERR_NONE;
}

static void test_values(void)
{
	CHECK_INTEQ(parse("{\"a\":1}", NULL), SIGIL_ERR_NONE);
	CHECK_INTEQ(parse("  [1,2] \n", NULL), SIGIL_ERR_NONE);
	CHECK_INTEQ(parse("123", NULL), SIGIL_ERR_NONE);
	CHECK_INTEQ(parse("\"x\"", NULL), SIGIL_ERR_NONE);
}

static void test_rejects(void)
{
	CHECK_INTEQ(parse("", NULL), SIGIL_ERR_MALFORMED);
	CHECK_INTEQ(parse("{\"a\":1} x", NULL), SIGIL_ERR_MALFORMED);   /* trailing data */
	CHECK_INTEQ(parse("{\"a\":1}{}", NULL), SIGIL_ERR_MALFORMED);
	CHECK_INTEQ(parse("{'a':1}", NULL), SIGIL_ERR_MALFORMED);       /* strict mode */
	CHECK_INTEQ(parse("[1,]", NULL), SIGIL_ERR_MALFORMED);
	CHECK_INTEQ(parse("{\"a\":\"\xff\"}", NULL), SIGIL_ERR_MALFORMED); /* bad UTF-8 */
	CHECK_INTEQ(parse("null", NULL), SIGIL_ERR_MALFORMED);
	CHECK_INTEQ(parse("{\"a\":", NULL), SIGIL_ERR_MALFORMED);
	const uint8_t nul[] = "{\"a\":\"x\0y\"}";
	sigil_error e = SIGIL_ERROR_INIT;
	json_object *o = NULL;
	CHECK(sigil__json_parse(nul, sizeof nul - 1, &o, &e) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(e.category, SIGIL_ERR_MALFORMED);
}

static void test_depth_limit(void)
{
	char deep[2 * (SIGIL_MAX_JSON_DEPTH + 2) + 1];
	size_t n = SIGIL_MAX_JSON_DEPTH + 2;
	memset(deep, '[', n);
	memset(deep + n, ']', n);
	deep[2 * n] = 0;
	CHECK_INTEQ(parse(deep, NULL), SIGIL_ERR_LIMIT);
	n = SIGIL_MAX_JSON_DEPTH - 1;
	memset(deep, '[', n);
	memset(deep + n, ']', n);
	deep[2 * n] = 0;
	CHECK_INTEQ(parse(deep, NULL), SIGIL_ERR_NONE);
}

static void test_duplicate_last_wins(void)
{
	json_object *o = NULL;
	CHECK_INTEQ(parse("{\"a\":\"first\",\"a\":\"last\"}", &o), SIGIL_ERR_NONE);
	const char *v = NULL;
	bool present = false;
	sigil_error e = SIGIL_ERROR_INIT;
	CHECK(o && sigil__json_get_string(o, "a", &v, &present, &e) == SIGIL_STATUS_OK);
	CHECK(present);
	CHECK_STREQ(v, "last");
	json_object_put(o);
}

static void test_getters(void)
{
	json_object *o = NULL;
	CHECK_INTEQ(parse("{\"s\":\"x\",\"i\":42,\"o\":{},\"a\":[],\"n\":null}", &o), SIGIL_ERR_NONE);
	sigil_error e = SIGIL_ERROR_INIT;
	bool p = false;
	const char *s = NULL;
	int64_t i = 0;
	json_object *sub = NULL;
	CHECK(sigil__json_get_string(o, "s", &s, &p, &e) == SIGIL_STATUS_OK && p);
	CHECK(sigil__json_get_int64(o, "i", &i, &p, &e) == SIGIL_STATUS_OK && p && i == 42);
	CHECK(sigil__json_get_object(o, "o", &sub, &p, &e) == SIGIL_STATUS_OK && p);
	CHECK(sigil__json_get_array(o, "a", &sub, &p, &e) == SIGIL_STATUS_OK && p);
	CHECK(sigil__json_get_string(o, "n", &s, &p, &e) == SIGIL_STATUS_OK && !p); /* null = absent */
	CHECK(sigil__json_get_string(o, "zz", &s, &p, &e) == SIGIL_STATUS_OK && !p);
	CHECK(sigil__json_get_string(o, "i", &s, &p, &e) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(e.category, SIGIL_ERR_MALFORMED);
	CHECK_CONTAINS(e.message, "i: expected a string");
	CHECK(sigil__json_get_int64(o, "s", &i, &p, &e) == SIGIL_STATUS_ERROR);
	json_object_put(o);
}

static void test_parse_object(void)
{
	json_object *o = NULL;
	sigil_error e = SIGIL_ERROR_INIT;
	CHECK(sigil__json_parse_object((const uint8_t *)"[]", 2, "manifest", &o, &e) == SIGIL_STATUS_ERROR);
	CHECK_CONTAINS(e.message, "manifest: expected a JSON object");
}

/* sigil__json_parse_depth's fast path must give exactly what json-c gives:
 * the same verdict, the same error (category, message, offset) and, on
 * success, the same tree (types, values, member order). */
static size_t compared;

static void compare_paths(const uint8_t *buf, size_t len, int depth, const char *what)
{
	json_object *a = NULL, *b = NULL;
	sigil_error ea = SIGIL_ERROR_INIT, eb = SIGIL_ERROR_INIT;
	sigil_status sa = sigil__json_parse_depth(buf, len, depth, &a, &ea);
	sigil_status sb = sigil__json_parse_reference(buf, len, depth, &b, &eb);
	compared++;
	if (sa != sb || ea.category != eb.category || ea.offset != eb.offset ||
	    strcmp(ea.message, eb.message) != 0) {
		CHECK(!"fast path and json-c disagree");
		fprintf(stderr, "    %s: %d/%d \"%s\" vs \"%s\"\n", what, (int)sa, (int)sb, ea.message,
			eb.message);
	} else if (sa == SIGIL_STATUS_OK) {
		const int fl = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;
		if (!json_object_equal(a, b) ||
		    strcmp(json_object_to_json_string_ext(a, fl), json_object_to_json_string_ext(b, fl)) != 0) {
			CHECK(!"fast path and json-c build different trees");
			fprintf(stderr, "    %s\n", what);
		}
	}
	json_object_put(a);
	json_object_put(b);
}

static void compare(const char *s)
{
	compare_paths((const uint8_t *)s, strlen(s), SIGIL_MAX_JSON_DEPTH, s);
}

static int compare_file(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type != FTW_F || st->st_size <= 0 || st->st_size > 1024 * 1024)
		return 0;
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	uint8_t *buf = malloc((size_t)st->st_size);
	size_t n = buf ? fread(buf, 1, (size_t)st->st_size, f) : 0;
	fclose(f);
	if (buf)
		compare_paths(buf, n, SIGIL_MAX_JSON_DEPTH, path);
	free(buf);
	return 0;
}

static void test_fast_path_matches_json_c(void)
{
	static const char *const docs[] = {
		"{}", "[]", " { } ", "\t[\r\n]\n", "{\"a\":1}", "[1,2,3]", "{\"a\":{\"b\":[{},[]]}}",
		"{\"a\":true,\"b\":false,\"c\":null}", "[true,false,null]", "[null]",
		"{\"a\":\"first\",\"b\":2,\"a\":\"last\"}", "{\"\":1}", "{\"a\" : \"b\" , \"c\" :[ ] }",
		"[0]", "[-0]", "[00]", "[01]", "[-1]", "[-]", "[1.5]", "[1e3]", "[1E3]", "[1.]", "[.5]",
		"[123456789012345678]", "[-123456789012345678]", "[1234567890123456789]",
		"[9223372036854775807]", "[9223372036854775808]", "[-9223372036854775809]",
		"[18446744073709551616]", "[1 2]", "[1,]", "[,1]", "{\"a\":1,}", "{,}", "{\"a\"}",
		"{\"a\":}", "{\"a\" 1}", "{a:1}", "{'a':1}", "[tru]", "[truex]", "[nul]", "[True]",
		"[\"a\\\"b\"]", "[\"\\u0041\"]", "[\"\\u0000\"]", "[\"\\n\"]", "[\"caf\xc3\xa9\"]",
		"[\"\xff\"]", "[\"\x7f\"]", "[\"a\tb\"]", "[\"abcdefghijklmnop\\\\qrstuv\"]",
		"[\"abcdefgh\x01ijklmnop\"]", "[\"0123456789abcdef0123456789abcdef0123456789\"]",
		" \"x\" ", "\"\"", "\"x\" y", "\"x\"\"y\"", "\"a\\\"\"", "\"\xc3\xa9\"", "\"\x01\"", "\"abc",
		"[\"x\\/y\\b\\f\\r\\t\"]", "{\"k\":\"[\\\"a\\\",\\\"b\\\"]\"}", "[\"ab\\\"]",
		"[\"a\\x\"]", "[\"a\\", "[\"a\\\"", "{\"a\\\"b\":1}", "[\"\\\\\"]", "[\"\\\"\\u00e9\"]",
		"[\"a\\n\x01\"]", "[\"a\\n\xc3\xa9\"]",
		"{\"a\":1} x", "{\"a\":1}{}", "{\"a\":1}  \n", "[1]]", "[[1]", "\"x\"", "123", "null",
		"true", "", " ", "[", "{", "{\"a\":\"b", "[\"abc", "[/*c*/1]", "[1]//c", "[+1]",
		"{\"a\":[1,{\"b\":null,\"c\":\"d\"}],\"e\":-42}",
	};
	for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++)
		compare(docs[i]);
	/* around the depth bound, both sides of it */
	char deep[2 * (SIGIL_MAX_JSON_DEPTH + 4) + 1];
	for (size_t n = SIGIL_MAX_JSON_DEPTH - 4; n <= SIGIL_MAX_JSON_DEPTH + 3; n++) {
		memset(deep, '[', n);
		memset(deep + n, ']', n);
		compare_paths((const uint8_t *)deep, 2 * n, SIGIL_MAX_JSON_DEPTH, "nested arrays");
		for (size_t k = 0; k < n; k++)
			deep[k] = k % 2 ? '[' : '{';
		compare_paths((const uint8_t *)deep, 2 * n, 4, "nested, small bound");
	}
	/* a document need not be NUL-terminated: parse a prefix of a longer one */
	static const char longer[] = "{\"a\":[1,2]}{\"b\":3}";
	compare_paths((const uint8_t *)longer, 11, SIGIL_MAX_JSON_DEPTH, "prefix");
	compare_paths((const uint8_t *)longer, 10, SIGIL_MAX_JSON_DEPTH, "cut prefix");
	/* every file of the test data: corpora, fixtures, fuzz seeds */
	compared = 0;
	CHECK(nftw(SIGIL_TEST_DATA, compare_file, 16, FTW_PHYS) == 0);
	CHECK(compared > 500);
}

int main(void)
{
	RUN(test_values);
	RUN(test_rejects);
	RUN(test_depth_limit);
	RUN(test_duplicate_last_wins);
	RUN(test_getters);
	RUN(test_parse_object);
	RUN(test_fast_path_matches_json_c);
	return check_summary();
}
