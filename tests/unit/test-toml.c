/* test-toml.c - the bounded TOML reader: syntax (TOML v1.0), definition
 * rules, errors with line numbers, bounds, and containerd config files. */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "bounds.h"
#include "toml.h"
#include "check.h"

static sigil__toml_value *parse_ok(const char *doc)
{
	sigil__toml_value *v = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	sigil_status st = sigil__toml_parse((const uint8_t *)doc, strlen(doc), &v, &err);
	CHECK_INTEQ(st, SIGIL_STATUS_OK);
	if (st != SIGIL_STATUS_OK)
		fprintf(stderr, "  unexpected error: %s\n  in: %s\n", err.message, doc);
	return v;
}

/* parse_bad - expect failure with category and message part */
#define parse_bad(doc, cat, msg) do { \
	sigil__toml_value *pb_v = (sigil__toml_value *)(uintptr_t)1; \
	sigil_error pb_err = SIGIL_ERROR_INIT; \
	const char *pb_doc = (doc); \
	sigil_status pb_st = sigil__toml_parse((const uint8_t *)pb_doc, strlen(pb_doc), &pb_v, &pb_err); \
	CHECK_INTEQ(pb_st, SIGIL_STATUS_ERROR); \
	if (pb_st == SIGIL_STATUS_OK) { fprintf(stderr, "  accepted: %s\n", pb_doc); sigil__toml_free(pb_v); } \
	else { CHECK(pb_v == (sigil__toml_value *)(uintptr_t)1); CHECK_INTEQ(pb_err.category, (cat)); \
		CHECK_CONTAINS(pb_err.message, (msg)); } \
} while (0)

static const sigil__toml_value *path(const sigil__toml_value *t, const char *a, const char *b, const char *c)
{
	const char *ks[3] = { a, b, c };
	for (int i = 0; i < 3 && ks[i] && t; i++)
		t = sigil__toml_get(t, ks[i]);
	return t;
}

static void test_scalars(void)
{
	sigil__toml_value *v = parse_ok(
		"# comment\n"
		"a = \"basic \\\"q\\\" \\t \\\\ \\u00e9 \\U0001F600\"  # trailing comment\n"
		"b = 'literal \\n'\n"
		"c = true\n"
		"d = false\n"
		"e = 42\n"
		"f = -17\n"
		"g = +5\n"
		"h = 1_000_000\n"
		"i = 0xdead_BEEF\n"
		"j = 0o755\n"
		"k = 0b1010\n"
		"l = 9223372036854775807\n"
		"m = -9223372036854775808\n"
		"n = 0\n"
		"\"quoted key\" = 1\n"
		"'lit key' = 2\n"
		"\"\" = 3\n"
		"bare-key_1 = 4\n"
		"1234 = 5\r\n"
		"o = \"\"\n");
	if (!v)
		return;
	CHECK_INTEQ(v->type, SIGIL_TOML_TABLE);
	CHECK_STREQ(sigil__toml_get(v, "a")->str, "basic \"q\" \t \\ \xc3\xa9 \xf0\x9f\x98\x80");
	CHECK_STREQ(sigil__toml_get(v, "b")->str, "literal \\n");
	CHECK(sigil__toml_get(v, "c")->b == true);
	CHECK(sigil__toml_get(v, "d")->b == false);
	CHECK_INTEQ(sigil__toml_get(v, "c")->type, SIGIL_TOML_BOOL);
	CHECK_INTEQ(sigil__toml_get(v, "e")->i, 42);
	CHECK_INTEQ(sigil__toml_get(v, "e")->type, SIGIL_TOML_INT);
	CHECK_INTEQ(sigil__toml_get(v, "f")->i, -17);
	CHECK_INTEQ(sigil__toml_get(v, "g")->i, 5);
	CHECK_INTEQ(sigil__toml_get(v, "h")->i, 1000000);
	CHECK_INTEQ(sigil__toml_get(v, "i")->i, 0xdeadbeef);
	CHECK_INTEQ(sigil__toml_get(v, "j")->i, 0755);
	CHECK_INTEQ(sigil__toml_get(v, "k")->i, 10);
	CHECK(sigil__toml_get(v, "l")->i == INT64_MAX);
	CHECK(sigil__toml_get(v, "m")->i == INT64_MIN);
	CHECK_INTEQ(sigil__toml_get(v, "n")->i, 0);
	CHECK_INTEQ(sigil__toml_get(v, "quoted key")->i, 1);
	CHECK_INTEQ(sigil__toml_get(v, "lit key")->i, 2);
	CHECK_INTEQ(sigil__toml_get(v, "")->i, 3);
	CHECK_INTEQ(sigil__toml_get(v, "bare-key_1")->i, 4);
	CHECK_INTEQ(sigil__toml_get(v, "1234")->i, 5);
	CHECK_STREQ(sigil__toml_get(v, "o")->str, "");
	CHECK_INTEQ(sigil__toml_get(v, "e")->line, 6);
	CHECK(sigil__toml_get(v, "missing") == NULL);
	CHECK(sigil__toml_get(NULL, "a") == NULL);
	CHECK(sigil__toml_get(sigil__toml_get(v, "e"), "a") == NULL);
	/* key order is file order */
	CHECK_STREQ(v->keys[0], "a");
	CHECK_STREQ(v->keys[v->count - 1], "o");
	sigil__toml_free(v);
}

static void test_floats(void)
{
	sigil__toml_value *v = parse_ok(
		"a = 0.02\n"           /* containerd config default: pause_threshold */
		"b = -1.5\n"
		"c = +3.25\n"
		"d = 1e3\n"
		"e = 6.626e-34\n"
		"f = 1_000.000_5\n"
		"g = 5E+2\n"
		"h = -0.0\n"
		"i = inf\n"
		"j = -inf\n"
		"k = +nan\n"
		"l = 123e-4\n"         /* not a date, although t[4] is '-' */
		"m = [0.5, 1, 2.5e1]\n"
		"n = 1e-400\n");       /* underflow: imprecise, not invalid */
	if (v) {
		const sigil__toml_value *x = sigil__toml_get(v, "a");
		CHECK(x && x->type == SIGIL_TOML_FLOAT && x->f == 0.02);
		CHECK(sigil__toml_get(v, "b")->f == -1.5);
		CHECK(sigil__toml_get(v, "c")->f == 3.25);
		CHECK(sigil__toml_get(v, "d")->f == 1000.0);
		CHECK(sigil__toml_get(v, "e")->f == 6.626e-34);
		CHECK(sigil__toml_get(v, "f")->f == 1000.0005);
		CHECK(sigil__toml_get(v, "g")->f == 500.0);
		CHECK(sigil__toml_get(v, "h")->f == 0.0 && signbit(sigil__toml_get(v, "h")->f));
		CHECK(isinf(sigil__toml_get(v, "i")->f) && sigil__toml_get(v, "i")->f > 0);
		CHECK(isinf(sigil__toml_get(v, "j")->f) && sigil__toml_get(v, "j")->f < 0);
		CHECK(isnan(sigil__toml_get(v, "k")->f));
		CHECK(sigil__toml_get(v, "l")->f == 123e-4);
		x = sigil__toml_get(v, "m");
		CHECK(x && x->count == 3 && x->items[0]->type == SIGIL_TOML_FLOAT &&
			x->items[1]->type == SIGIL_TOML_INT && x->items[2]->f == 25.0);
		CHECK(sigil__toml_get(v, "n")->type == SIGIL_TOML_FLOAT && sigil__toml_get(v, "n")->f == 0.0);
	}
	sigil__toml_free(v);
	v = parse_ok("i = 10\n");
	if (v)
		CHECK_INTEQ(sigil__toml_get(v, "i")->type, SIGIL_TOML_INT);
	sigil__toml_free(v);
}

static void test_multiline_strings(void)
{
	sigil__toml_value *v = parse_ok(
		"a = \"\"\"\nline1\nline2\"\"\"\n"
		"b = \"\"\"one \\\n    two \\\n\n   three\"\"\"\n"
		"c = '''\n  raw \\n\n'''\n"
		"d = \"\"\"x\"\"\"\"\"\n"
		"e = '''it''s'''\n"
		"f = \"\"\"a\r\nb\"\"\"\n"
		"g = 1\n");
	if (!v)
		return;
	CHECK_STREQ(sigil__toml_get(v, "a")->str, "line1\nline2");
	CHECK_STREQ(sigil__toml_get(v, "b")->str, "one two three");
	CHECK_STREQ(sigil__toml_get(v, "c")->str, "  raw \\n\n");
	CHECK_STREQ(sigil__toml_get(v, "d")->str, "x\"\"");
	CHECK_STREQ(sigil__toml_get(v, "e")->str, "it''s");
	CHECK_STREQ(sigil__toml_get(v, "f")->str, "a\nb");
	/* lines are counted through multi-line strings */
	CHECK_INTEQ(sigil__toml_get(v, "g")->line, 15);
	sigil__toml_free(v);

	/* every escape, in both basic forms; backslash-space-newline; a BOM */
	v = parse_ok("\xef\xbb\xbf"
		"a = \"\\b\\n\\f\\r\\u0800\"\n"
		"b = \"\"\"\\t\\\"\\u00e9 x \\  \n\n  y\"\"\"\n"
		"[[p.q]]\n[p]\nz = 1\n");
	if (!v)
		return;
	CHECK_STREQ(sigil__toml_get(v, "a")->str, "\b\n\f\r\xe0\xa0\x80");
	CHECK_STREQ(sigil__toml_get(v, "b")->str, "\t\"\xc3\xa9 x y");
	CHECK_INTEQ(sigil__toml_get(v, "p")->header_seq, 1);
	sigil__toml_free(v);
}

static void test_arrays_and_inline(void)
{
	sigil__toml_value *v = parse_ok(
		"a = [1, 2, 3]\n"
		"b = [\n  \"x\", # comment\n  'y',\n\n]\n"
		"c = [[1, 2], [\"m\", true], []]\n"
		"d = []\n"
		"e = { x = 1, y.z = \"w\", 'q' = [1] }\n"
		"f = {}\n"
		"g = [{ a = 1 }, { a = 2 }]\n");
	if (!v)
		return;
	const sigil__toml_value *a = sigil__toml_get(v, "a");
	CHECK_INTEQ(a->type, SIGIL_TOML_ARRAY);
	CHECK_INTEQ(a->count, 3);
	CHECK_INTEQ(a->items[2]->i, 3);
	const sigil__toml_value *b = sigil__toml_get(v, "b");
	CHECK_INTEQ(b->count, 2);
	CHECK_STREQ(b->items[1]->str, "y");
	const sigil__toml_value *c = sigil__toml_get(v, "c");
	CHECK_INTEQ(c->count, 3);
	CHECK_INTEQ(c->items[1]->items[1]->type, SIGIL_TOML_BOOL);
	CHECK_INTEQ(c->items[2]->count, 0);
	CHECK_INTEQ(sigil__toml_get(v, "d")->count, 0);
	const sigil__toml_value *e = sigil__toml_get(v, "e");
	CHECK_INTEQ(e->type, SIGIL_TOML_TABLE);
	CHECK_INTEQ(sigil__toml_get(e, "x")->i, 1);
	CHECK_STREQ(path(e, "y", "z", NULL)->str, "w");
	CHECK_INTEQ(sigil__toml_get(e, "q")->count, 1);
	CHECK_INTEQ(sigil__toml_get(v, "f")->count, 0);
	CHECK_INTEQ(sigil__toml_get(sigil__toml_get(v, "g")->items[1], "a")->i, 2);
	sigil__toml_free(v);
}

static void test_tables(void)
{
	sigil__toml_value *v = parse_ok(
		"top = 1\n"
		"[a]\n"
		"x = 1\n"
		"[ a . \"b.c\" ]\n"
		"y = 2\n"
		"[d.e.f]\n"
		"z = 3\n"
		"[d]\n"                 /* defining an implicitly created table is fine */
		"w = 4\n"
		"[fruit]\n"
		"apple.color = \"red\"\n"
		"apple.taste.sweet = true\n"
		"[fruit.apple.texture]\n" /* sub-table of a dotted-key table: allowed */
		"smooth = true\n"
		"[[products]]\n"
		"name = \"Hammer\"\n"
		"[[products]]\n"
		"[[products]]\n"
		"name = \"Nail\"\n"
		"[products.dims]\n"     /* goes into the last element */
		"h = 1\n");
	if (!v)
		return;
	CHECK_INTEQ(sigil__toml_get(v, "top")->i, 1);
	CHECK_INTEQ(path(v, "a", "x", NULL)->i, 1);
	CHECK_INTEQ(path(v, "a", "b.c", "y")->i, 2);
	CHECK_INTEQ(path(v, "d", "e", "f")->type, SIGIL_TOML_TABLE);
	CHECK_INTEQ(path(path(v, "d", "e", "f"), "z", NULL, NULL)->i, 3);
	CHECK_INTEQ(path(v, "d", "w", NULL)->i, 4);
	CHECK_STREQ(path(v, "fruit", "apple", "color")->str, "red");
	CHECK(path(path(v, "fruit", "apple", "taste"), "sweet", NULL, NULL)->b);
	CHECK(path(path(v, "fruit", "apple", "texture"), "smooth", NULL, NULL)->b);
	const sigil__toml_value *p = sigil__toml_get(v, "products");
	CHECK_INTEQ(p->type, SIGIL_TOML_ARRAY);
	CHECK_INTEQ(p->count, 3);
	CHECK_STREQ(sigil__toml_get(p->items[0], "name")->str, "Hammer");
	CHECK_INTEQ(p->items[1]->count, 0);
	CHECK_INTEQ(path(p->items[2], "dims", "h", NULL)->i, 1);
	/* header order: [a]=1, [a."b.c"]=2, [d.e.f]=3 (d is implicit but
	 * passed through), [d]=4, [fruit]=5 */
	CHECK_INTEQ(sigil__toml_get(v, "a")->header_seq, 1);
	CHECK_INTEQ(path(v, "a", "b.c", NULL)->header_seq, 2);
	CHECK_INTEQ(sigil__toml_get(v, "d")->header_seq, 3);
	CHECK_INTEQ(sigil__toml_get(v, "fruit")->header_seq, 5);
	CHECK_INTEQ(sigil__toml_get(v, "top")->line, 1);
	CHECK_INTEQ(sigil__toml_get(v, "a")->line, 2);
	sigil__toml_free(v);
}

static void test_errors(void)
{
	/* syntax, with the line of the problem */
	parse_bad("a = 1\nb = \n", SIGIL_ERR_MALFORMED, "line 2: missing value");
	parse_bad("a = 1\n\n= 2\n", SIGIL_ERR_MALFORMED, "line 3: invalid character in key");
	parse_bad("a 1\n", SIGIL_ERR_MALFORMED, "line 1: expected '=' after key \"a\"");
	parse_bad("a = 1 b = 2\n", SIGIL_ERR_MALFORMED, "line 1: expected a newline after the expression");
	parse_bad("a = bare\n", SIGIL_ERR_MALFORMED, "invalid value (strings must be quoted)");
	parse_bad("a = \"open\n", SIGIL_ERR_MALFORMED, "line 1: unterminated string");
	parse_bad("a = 'open", SIGIL_ERR_MALFORMED, "unterminated string");
	parse_bad("x = 1\na = \"\"\"open\n\n", SIGIL_ERR_MALFORMED, "line 4: unterminated multi-line string");
	parse_bad("a = \"\\x\"\n", SIGIL_ERR_MALFORMED, "invalid escape sequence");
	parse_bad("a = \"\\e\"\n", SIGIL_ERR_MALFORMED, "invalid escape sequence");
	parse_bad("a = \"\\u12\"\n", SIGIL_ERR_MALFORMED, "\\u escape needs 4 hex digits");
	parse_bad("a = \"\\ud800\"\n", SIGIL_ERR_MALFORMED, "not a Unicode scalar value");
	parse_bad("a = \"\\U00110000\"\n", SIGIL_ERR_MALFORMED, "not a Unicode scalar value");
	parse_bad("a = \"\\u0000\"\n", SIGIL_ERR_UNSUPPORTED, "NUL character in string");
	parse_bad("a = \"tab\tok but \x01 not\"\n", SIGIL_ERR_MALFORMED, "control character in string");
	parse_bad("a = \"\xff\"\n", SIGIL_ERR_MALFORMED, "invalid UTF-8 in string");
	parse_bad("a = \"\xc0\xaf\"\n", SIGIL_ERR_MALFORMED, "invalid UTF-8");      /* overlong */
	parse_bad("a = \"\xed\xa0\x80\"\n", SIGIL_ERR_MALFORMED, "invalid UTF-8");  /* surrogate */
	parse_bad("# a \x7f comment\n", SIGIL_ERR_MALFORMED, "control character in comment");
	parse_bad("a = 1\rb = 2\n", SIGIL_ERR_MALFORMED, "expected a newline");
	parse_bad("a = \"\"\"x\"\"\"\"\"\"\n", SIGIL_ERR_MALFORMED, "too many quotes");
	parse_bad("\"\"\"k\"\"\" = 1\n", SIGIL_ERR_MALFORMED, "multi-line string cannot be a key");
	/* integers */
	parse_bad("a = 012\n", SIGIL_ERR_MALFORMED, "leading zero in integer");
	parse_bad("a = 1__0\n", SIGIL_ERR_MALFORMED, "misplaced underscore");
	parse_bad("a = 1_\n", SIGIL_ERR_MALFORMED, "misplaced underscore");
	parse_bad("a = _1\n", SIGIL_ERR_MALFORMED, "invalid value");
	parse_bad("a = 0xg\n", SIGIL_ERR_MALFORMED, "invalid integer");
	parse_bad("a = 0b102\n", SIGIL_ERR_MALFORMED, "invalid integer");
	parse_bad("a = +0x10\n", SIGIL_ERR_MALFORMED, "leading zero");
	parse_bad("a = 9223372036854775808\n", SIGIL_ERR_MALFORMED, "integer out of range");
	parse_bad("a = -9223372036854775809\n", SIGIL_ERR_MALFORMED, "integer out of range");
	parse_bad("a = 0x10000000000000000\n", SIGIL_ERR_MALFORMED, "integer out of range");
	/* floats (TOML §Float) */
	parse_bad("a = 01.5\n", SIGIL_ERR_MALFORMED, "line 1: leading zero in float");
	parse_bad("a = 1.\n", SIGIL_ERR_MALFORMED, "a float needs digits after '.'");
	parse_bad("a = 1.e5\n", SIGIL_ERR_MALFORMED, "a float needs digits after '.'");
	parse_bad("a = .5\n", SIGIL_ERR_MALFORMED, "invalid value");
	parse_bad("a = 1e\n", SIGIL_ERR_MALFORMED, "a float needs digits in its exponent");
	parse_bad("a = 1e+\n", SIGIL_ERR_MALFORMED, "a float needs digits in its exponent");
	parse_bad("a = 1_.5\n", SIGIL_ERR_MALFORMED, "misplaced underscore in float");
	parse_bad("a = 1._5\n", SIGIL_ERR_MALFORMED, "misplaced underscore in float");
	parse_bad("a = 1.5_\n", SIGIL_ERR_MALFORMED, "misplaced underscore in float");
	parse_bad("a = 1e_5\n", SIGIL_ERR_MALFORMED, "misplaced underscore in float");
	parse_bad("a = 1.5.3\n", SIGIL_ERR_MALFORMED, "invalid float");
	parse_bad("a = 1.5x\n", SIGIL_ERR_MALFORMED, "invalid float");
	parse_bad("a = 1e400\n", SIGIL_ERR_MALFORMED, "float out of range");
	parse_bad("a = -1e400\n", SIGIL_ERR_MALFORMED, "float out of range");
	parse_bad("a = Inf\n", SIGIL_ERR_MALFORMED, "invalid value");
	parse_bad("a = 0.000000000000000000000000000000000000000000000000000000000000000000000000000"
		"00000000000000000000000000000000000000000000000000000001\n", SIGIL_ERR_LIMIT,
		"float longer than 128 characters");
	/* dates: recognised, unsupported */
	parse_bad("a = 1979-05-27\n", SIGIL_ERR_UNSUPPORTED, "dates and times are not supported");
	parse_bad("a = 07:32:00\n", SIGIL_ERR_UNSUPPORTED, "dates and times are not supported");
	/* arrays and inline tables */
	parse_bad("a = [1 2]\n", SIGIL_ERR_MALFORMED, "expected ',' or ']' in array");
	parse_bad("a = [1,\n", SIGIL_ERR_MALFORMED, "missing value");
	parse_bad("a = [,]\n", SIGIL_ERR_MALFORMED, "invalid value");
	parse_bad("a = [1", SIGIL_ERR_MALFORMED, "unterminated array");
	parse_bad("a = { x = 1, }\n", SIGIL_ERR_MALFORMED, "trailing comma in inline table");
	parse_bad("a = { x = 1\n}\n", SIGIL_ERR_MALFORMED, "inline tables are one line");
	parse_bad("a = { x = 1 y = 2 }\n", SIGIL_ERR_MALFORMED, "expected ',' or '}'");
	parse_bad("a = { x = 1, x = 2 }\n", SIGIL_ERR_MALFORMED, "duplicate key \"x\"");
	/* headers */
	parse_bad("[a\n", SIGIL_ERR_MALFORMED, "expected ']' to close the table header");
	parse_bad("[[a]\n", SIGIL_ERR_MALFORMED, "expected ']]'");
	parse_bad("[]\n", SIGIL_ERR_MALFORMED, "invalid character in key");
	parse_bad("[a] x = 1\n", SIGIL_ERR_MALFORMED, "expected a newline");
}

static void test_definition_rules(void)
{
	/* TOML §Keys / §Table: nothing is defined twice */
	parse_bad("a = 1\na = 2\n", SIGIL_ERR_MALFORMED, "line 2: duplicate key \"a\"");
	parse_bad("a = 1\n\"a\" = 2\n", SIGIL_ERR_MALFORMED, "duplicate key \"a\"");
	parse_bad("[t]\n[t]\n", SIGIL_ERR_MALFORMED, "line 2: duplicate table \"t\"");
	parse_bad("[t.u]\n[t]\n[t]\n", SIGIL_ERR_MALFORMED, "line 3: duplicate table \"t\"");
	parse_bad("a = 1\n[a]\n", SIGIL_ERR_MALFORMED, "duplicate table \"a\"");
	parse_bad("a = 1\n[a.b]\n", SIGIL_ERR_MALFORMED, "\"a\" is already defined as a value");
	parse_bad("a = {}\n[a.b]\n", SIGIL_ERR_MALFORMED, "\"a\" is already defined as a inline table");
	parse_bad("a = { b = {} }\n[a.b.c]\n", SIGIL_ERR_MALFORMED, "already defined");
	parse_bad("a = {}\na.b = 1\n", SIGIL_ERR_MALFORMED, "cannot add key \"b\" to \"a\"");
	parse_bad("a = 1\na.b = 1\n", SIGIL_ERR_MALFORMED, "cannot add key \"b\" to \"a\"");
	parse_bad("[fruit]\napple.color = 1\n[fruit.apple]\n", SIGIL_ERR_MALFORMED, "duplicate table \"apple\"");
	parse_bad("[a.b.c]\nz = 1\n[a]\nb.c.t = 2\n", SIGIL_ERR_MALFORMED, "cannot add key \"t\" to \"b\"");
	parse_bad("[a.b]\n[a]\nb.x = 1\n", SIGIL_ERR_MALFORMED, "cannot add key \"x\" to \"b\"");
	parse_bad("a = [1]\n[[a]]\n", SIGIL_ERR_MALFORMED, "cannot define array of tables \"a\"");
	parse_bad("[a]\n[[a]]\n", SIGIL_ERR_MALFORMED, "cannot define array of tables");
	parse_bad("[[a]]\n[a]\n", SIGIL_ERR_MALFORMED, "duplicate table \"a\"");
	parse_bad("a = [{}]\n[a.b]\n", SIGIL_ERR_MALFORMED, "already defined as a value");
	parse_bad("a.b = 1\na.b.c = 2\n", SIGIL_ERR_MALFORMED, "cannot add key \"c\" to \"b\"");
	/* and the allowed ones */
	sigil__toml_value *v = parse_ok("a.b = 1\na.c = 2\n[x.y]\n[x.z]\n");
	if (v) {
		CHECK_INTEQ(path(v, "a", "c", NULL)->i, 2);
		CHECK_INTEQ(sigil__toml_get(v, "x")->count, 2);
	}
	sigil__toml_free(v);
}

static void test_bounds(void)
{
	sigil_error err = SIGIL_ERROR_INIT;
	sigil__toml_value *v = NULL;
	/* document size */
	size_t big = SIGIL_MAX_TOML_SIZE + 1;
	char *doc = malloc(big);
	memset(doc, '\n', big);
	CHECK_INTEQ(sigil__toml_parse((const uint8_t *)doc, big, &v, &err), SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_LIMIT);
	CHECK_CONTAINS(err.message, "TOML document larger than");

	/* nesting */
	size_t n = 0;
	n += (size_t)snprintf(doc, 16, "a = ");
	for (int i = 0; i < SIGIL_MAX_TOML_DEPTH + 2; i++)
		doc[n++] = '[';
	doc[n] = '\0';
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK_INTEQ(sigil__toml_parse((const uint8_t *)doc, n, &v, &err), SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_LIMIT);
	CHECK_CONTAINS(err.message, "nesting deeper than");

	/* dotted key parts */
	n = 0;
	for (int i = 0; i < SIGIL_MAX_TOML_DEPTH + 1; i++) {
		doc[n++] = 'k';
		doc[n++] = '.';
	}
	memcpy(doc + n, "k = 1\n", 6);
	n += 6;
	CHECK_INTEQ(sigil__toml_parse((const uint8_t *)doc, n, &v, &err), SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_LIMIT);
	CHECK_CONTAINS(err.message, "key has more than");

	/* keys per table */
	n = 0;
	for (int i = 0; i <= SIGIL_MAX_TOML_KEYS; i++)
		n += (size_t)snprintf(doc + n, 32, "k%d = %d\n", i, i);
	CHECK_INTEQ(sigil__toml_parse((const uint8_t *)doc, n, &v, &err), SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_LIMIT);
	CHECK_CONTAINS(err.message, "keys in a table");

	/* elements per array */
	n = (size_t)snprintf(doc, 16, "a = [");
	for (int i = 0; i <= SIGIL_MAX_TOML_KEYS; i++)
		n += (size_t)snprintf(doc + n, 8, "1,");
	doc[n++] = ']';
	CHECK_INTEQ(sigil__toml_parse((const uint8_t *)doc, n, &v, &err), SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_LIMIT);
	CHECK_CONTAINS(err.message, "elements in an array");

	/* values in the document */
	n = 0;
	for (int t = 0; t < 40; t++) {
		n += (size_t)snprintf(doc + n, 32, "[t%d]\na = [", t);
		for (int i = 0; i < 500; i++)
			n += (size_t)snprintf(doc + n, 8, "1,");
		n += (size_t)snprintf(doc + n, 8, "]\n");
	}
	CHECK_INTEQ(sigil__toml_parse((const uint8_t *)doc, n, &v, &err), SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_LIMIT);
	CHECK_CONTAINS(err.message, "more than 16384 values");

	/* one string */
	n = (size_t)snprintf(doc, 16, "a = \"");
	memset(doc + n, 'x', SIGIL_MAX_TOML_STRING + 1);
	n += SIGIL_MAX_TOML_STRING + 1;
	doc[n++] = '"';
	CHECK_INTEQ(sigil__toml_parse((const uint8_t *)doc, n, &v, &err), SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_LIMIT);
	CHECK_CONTAINS(err.message, "string longer than");
	free(doc);

	/* the input is not NUL-terminated: the parser stops at len */
	const char *two = "a = 1\nb = 2";
	v = NULL;
	CHECK_INTEQ(sigil__toml_parse((const uint8_t *)two, 5, &v, &err), SIGIL_STATUS_OK);
	CHECK(v && v->count == 1);
	sigil__toml_free(v);
	v = NULL;
	CHECK_INTEQ(sigil__toml_parse((const uint8_t *)"", 0, &v, &err), SIGIL_STATUS_OK);
	CHECK(v && v->count == 0);
	sigil__toml_free(v);
	/* offset points at the problem */
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK_INTEQ(sigil__toml_parse((const uint8_t *)"a = 1\nb = ?\n", 12, &v, &err), SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.offset, 10);
}

/* containerd's own configuration, as `containerd config default` (2.x,
 * version 3) and the docs write it */
static void test_containerd_config(void)
{
	sigil__toml_value *v = parse_ok(
		"version = 3\n"
		"root = '/var/lib/containerd'\n"
		"state = '/run/containerd'\n"
		"temp = ''\n"
		"plugin_dir = ''\n"
		"disabled_plugins = []\n"
		"required_plugins = []\n"
		"oom_score = 0\n"
		"imports = []\n"
		"\n"
		"[grpc]\n"
		"  address = '/run/containerd/containerd.sock'\n"
		"  tcp_address = ''\n"
		"  uid = 0\n"
		"  max_recv_message_size = 16777216\n"
		"\n"
		"[plugins]\n"
		"  [plugins.'io.containerd.cri.v1.images']\n"
		"    snapshotter = 'overlayfs'\n"
		"    disable_snapshot_annotations = true\n"
		"    max_concurrent_downloads = 3\n"
		"    image_pull_progress_timeout = '5m0s'\n"
		"\n"
		"    [plugins.'io.containerd.cri.v1.images'.pinned_images]\n"
		"      sandbox = 'registry.k8s.io/pause:3.10'\n"
		"\n"
		"    [plugins.'io.containerd.cri.v1.images'.registry]\n"
		"      config_path = '/etc/containerd/certs.d:/etc/docker/certs.d'\n"
		"\n"
		"    [plugins.'io.containerd.cri.v1.images'.image_decryption]\n"
		"      key_model = 'node'\n"
		"\n"
		"  [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]\n"
		"    runtime_type = 'io.containerd.runc.v2'\n"
		"    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]\n"
		"      SystemdCgroup = true\n"
		"\n"
		"  [plugins.'io.containerd.gc.v1.scheduler']\n"
		"    pause_threshold = 0.02\n"
		"    deletion_threshold = 0\n"
		"    schedule_delay = '0s'\n"
		"\n"
		"[plugins.\"io.containerd.image-verifier.v1.bindir\"]\n"
		"  bin_dir = \"/opt/containerd/image-verifier/bin\"\n"
		"  max_verifiers = 10\n"
		"  per_verifier_timeout = \"10s\"\n"
		"\n"
		"[cgroup]\n"
		"  path = ''\n"
		"\n"
		"[timeouts]\n"
		"  'io.containerd.timeout.bolt.open' = '0s'\n"
		"\n"
		"[stream_processors]\n"
		"  [stream_processors.'io.containerd.ocicrypt.decoder.v1.tar']\n"
		"    accepts = ['application/vnd.oci.image.layer.v1.tar+encrypted']\n"
		"    args = ['--decryption-keys-path', '/etc/containerd/ocicrypt/keys']\n"
		"    env = ['OCICRYPT_KEYPROVIDER_CONFIG=/etc/containerd/ocicrypt/ocicrypt_keyprovider.conf']\n"
		"    path = 'ctd-decoder'\n"
		"    returns = 'application/vnd.oci.image.layer.v1.tar'\n");
	if (!v)
		return;
	CHECK_INTEQ(sigil__toml_get(v, "version")->i, 3);
	const sigil__toml_value *images = path(v, "plugins", "io.containerd.cri.v1.images", NULL);
	CHECK_STREQ(path(images, "registry", "config_path", NULL)->str, "/etc/containerd/certs.d:/etc/docker/certs.d");
	CHECK_INTEQ(path(v, "plugins", "io.containerd.image-verifier.v1.bindir", "max_verifiers")->i, 10);
	CHECK(path(path(v, "plugins", "io.containerd.cri.v1.runtime", "containerd"), "runtimes", "runc",
		"options") != NULL);
	CHECK_INTEQ(path(v, "stream_processors", "io.containerd.ocicrypt.decoder.v1.tar", "args")->count, 2);
	CHECK(path(v, "plugins", "io.containerd.gc.v1.scheduler", "pause_threshold")->f == 0.02);
	sigil__toml_free(v);
}

int main(void)
{
	RUN(test_scalars);
	RUN(test_floats);
	RUN(test_multiline_strings);
	RUN(test_arrays_and_inline);
	RUN(test_tables);
	RUN(test_errors);
	RUN(test_definition_rules);
	RUN(test_bounds);
	RUN(test_containerd_config);
	return check_summary();
}
