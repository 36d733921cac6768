/* test-jsonutil.c - bounded JSON parsing. */
#include <string.h>
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

int main(void)
{
	RUN(test_values);
	RUN(test_rejects);
	RUN(test_depth_limit);
	RUN(test_duplicate_last_wins);
	RUN(test_getters);
	RUN(test_parse_object);
	return check_summary();
}
