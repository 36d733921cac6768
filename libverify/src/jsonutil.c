/* jsonutil.c - bounded JSON parsing over json-c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "jsonutil.h"
#include "errors.h"
#include "bounds.h"

static int is_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* json-c accepts some non-JSON syntax even in strict mode (single-quoted
 * strings, comments). RFC 8259 allows only these bytes outside strings,
 * so one pass over the input closes that gap without a second parser. */
static sigil_status check_outside_strings(const uint8_t *buf, size_t len, sigil_error *err)
{
	int in_string = 0;
	/* Inside a string only '"' and '\\' matter; memchr skips the rest
	 * (base64 certificate chains make most of an envelope string). q is
	 * the next '"' at or after i (len if none), kept while ahead of i so
	 * that a run of escapes does not rescan to the same quote. */
	size_t q = 0;
	int q_known = 0;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = buf[i];
		if (in_string) {
			if (!q_known || q < i) {
				const uint8_t *p = memchr(buf + i, '"', len - i);
				q = p ? (size_t)(p - buf) : len;
				q_known = 1;
			}
			const uint8_t *b = memchr(buf + i, '\\', q - i);
			if (b) {
				i = (size_t)(b - buf) + 1; /* skip the escaped byte */
				continue;
			}
			if (q == len)
				break;
			i = q;
			in_string = 0;
			continue;
		}
		if (c == '"') {
			in_string = 1;
			continue;
		}
		if (!strchr("{}[],: \t\r\n0123456789+-.eEtruefalsn", c))
			return sigil__err_at(err, SIGIL_ERR_MALFORMED, i,
				"invalid JSON: unexpected character at byte %zu", i);
	}
	return SIGIL_STATUS_OK;
}

/* ---- fast path -------------------------------------------------------------
 *
 * json-c reads a document one byte at a time through its state machine,
 * checking UTF-8 on every byte; most of a signature document is long ASCII
 * strings (base64 certificate chains, digests), where that costs more than
 * the rest of the envelope's handling together. The fast path below builds
 * the same json-c tree for the common case only: strict RFC 8259 syntax,
 * strings of printable ASCII (two-character escapes allowed in values, none
 * in keys), integers of at most 18 digits, nesting well inside the bound,
 * an object, array or string at the top. Whatever else it meets (a \u
 * escape, a non-ASCII byte, a fraction, an error of any kind) makes it
 * give up, and the document goes through json-c as before,
 * so that every rejection, its category, message and offset, is json-c's
 * and the pre-scan's as they were. Everything it accepts, json-c in strict
 * mode accepts with the same tree (tests/unit/test-jsonutil.c compares). */

typedef struct fast_parser {
	const uint8_t *p, *end;
	int depth, max_depth;
} fast_parser;

#define FAST_ONES UINT64_C(0x0101010101010101)
#define FAST_HIGHS UINT64_C(0x8080808080808080)
/* a byte of x below n (n <= 128); exact, no false positives */
#define FAST_HAS_LESS(x, n) (((x) - FAST_ONES * (n)) & ~(x) & FAST_HIGHS)
#define FAST_HAS_ZERO(x) FAST_HAS_LESS(x, 1)
/* Longest object key the fast path copies on the stack. */
#define FAST_KEY_MAX 256
/* Longest integer it converts: 18 digits cannot overflow int64. */
#define FAST_INT_DIGITS 18

static void fast_ws(fast_parser *f)
{
	while (f->p < f->end && is_ws(*f->p))
		f->p++;
}

/* true when s[0..n) holds only 0x20-0x7e and no backslash: a string json-c
 * would copy unchanged. Eight bytes at a time. */
static bool fast_plain(const uint8_t *s, size_t n)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t x;
		memcpy(&x, s + i, sizeof x);
		if ((x & FAST_HIGHS) | FAST_HAS_LESS(x, 0x20) |
		    FAST_HAS_ZERO(x ^ (FAST_ONES * 0x7f)) | FAST_HAS_ZERO(x ^ (FAST_ONES * '\\')))
			return false;
	}
	for (; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '\\')
			return false;
	return true;
}

/* RFC 8259 §7's two-character escapes, decoded as json-c decodes them;
 * 0 for anything else (\u escapes are left to json-c). */
static uint8_t fast_unescape(uint8_t c)
{
	switch (c) {
	case '"': return '"';
	case '\\': return '\\';
	case '/': return '/';
	case 'b': return '\b';
	case 'f': return '\f';
	case 'n': return '\n';
	case 'r': return '\r';
	case 't': return '\t';
	default: return 0;
	}
}

/* At a '"': the string's bytes and their length (not NUL-terminated). A
 * plain string is returned in place; with escapes allowed (owned not NULL)
 * one with two-character escapes is decoded into *owned (free it). */
static bool fast_string(fast_parser *f, const uint8_t **s, size_t *n, uint8_t **owned)
{
	const uint8_t *start = f->p + 1;
	const uint8_t *q = memchr(start, '"', (size_t)(f->end - start));
	if (!q)
		return false;
	const uint8_t *bs = memchr(start, '\\', (size_t)(q - start));
	if (!bs) {
		if (!fast_plain(start, (size_t)(q - start)))
			return false;
		*s = start;
		*n = (size_t)(q - start);
		f->p = q + 1;
		return true;
	}
	if (!owned || !fast_plain(start, (size_t)(bs - start)))
		return false;
	/* first pass: find the closing quote and the decoded length */
	size_t out_len = (size_t)(bs - start);
	const uint8_t *p = bs;
	for (;;) {
		if (p == f->end)
			return false;
		if (*p == '"')
			break;
		if (*p == '\\') {
			if (f->end - p < 2 || !fast_unescape(p[1]))
				return false;
			p += 2;
		} else if (*p < 0x20 || *p > 0x7e) {
			return false;
		} else {
			p++;
		}
		out_len++;
	}
	uint8_t *out = malloc(out_len ? out_len : 1);
	if (!out)
		return false;
	size_t o = 0;
	for (const uint8_t *c = start; c < p; o++)
		if (*c == '\\') {
			out[o] = fast_unescape(c[1]);
			c += 2;
		} else {
			out[o] = *c++;
		}
	*owned = out;
	*s = out;
	*n = out_len;
	f->p = p + 1;
	return true;
}

static bool fast_delim(const fast_parser *f)
{
	return f->p == f->end || is_ws(*f->p) || *f->p == ',' || *f->p == ']' || *f->p == '}';
}

static bool fast_literal(fast_parser *f, const char *word, size_t n)
{
	if ((size_t)(f->end - f->p) < n || memcmp(f->p, word, n) != 0)
		return false;
	f->p += n;
	return fast_delim(f);
}

static bool fast_value(fast_parser *f, json_object **out);

/* At a container's opening bracket: steps past it and the whitespace after
 * it; true when the container closes right there (consumed: it is empty). */
static bool fast_open_empty(fast_parser *f, uint8_t close)
{
	f->p++;
	fast_ws(f);
	if (f->p < f->end && *f->p == close) {
		f->p++;
		return true;
	}
	return false;
}

/* After a member or an element: 1 at the container's close, 0 at a comma
 * (each consumed, with the whitespace after a comma), -1 at anything else. */
static int fast_next(fast_parser *f, uint8_t close)
{
	fast_ws(f);
	if (f->p == f->end || (*f->p != close && *f->p != ','))
		return -1;
	if (*f->p++ == close)
		return 1;
	fast_ws(f);
	return 0;
}

static bool fast_object(fast_parser *f, json_object **out)
{
	json_object *obj = json_object_new_object();
	if (!obj)
		return false;
	if (fast_open_empty(f, '}')) {
		*out = obj;
		return true;
	}
	for (;;) {
		const uint8_t *k = NULL;
		size_t kn = 0;
		char key[FAST_KEY_MAX];
		json_object *v = NULL;
		if (f->p == f->end || *f->p != '"' || !fast_string(f, &k, &kn, NULL) || kn == 0 ||
		    kn >= sizeof key)
			break;
		memcpy(key, k, kn);
		key[kn] = '\0';
		fast_ws(f);
		if (f->p == f->end || *f->p != ':')
			break;
		f->p++;
		fast_ws(f);
		if (!fast_value(f, &v))
			break;
		/* a repeated key replaces the value in place, as json-c does */
		if (json_object_object_add(obj, key, v) != 0) {
			json_object_put(v);
			break;
		}
		int next = fast_next(f, '}');
		if (next > 0) {
			*out = obj;
			return true;
		}
		if (next < 0)
			break;
	}
	json_object_put(obj);
	return false;
}

static bool fast_array(fast_parser *f, json_object **out)
{
	json_object *arr = json_object_new_array();
	if (!arr)
		return false;
	if (fast_open_empty(f, ']')) {
		*out = arr;
		return true;
	}
	for (;;) {
		json_object *v = NULL;
		if (!fast_value(f, &v))
			break;
		if (json_object_array_add(arr, v) != 0) {
			json_object_put(v);
			break;
		}
		int next = fast_next(f, ']');
		if (next > 0) {
			*out = arr;
			return true;
		}
		if (next < 0)
			break;
	}
	json_object_put(arr);
	return false;
}

static bool fast_int(fast_parser *f, json_object **out)
{
	bool neg = *f->p == '-';
	const uint8_t *d = f->p + (neg ? 1 : 0);
	size_t n = 0;
	while (d + n < f->end && d[n] >= '0' && d[n] <= '9')
		n++;
	/* leading zeros and -0 are left to json-c, and so are fractions and
	 * exponents (the delimiter test below fails on '.', 'e', 'E') */
	if (n == 0 || n > FAST_INT_DIGITS || (d[0] == '0' && (n > 1 || neg)))
		return false;
	int64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (d[i] - '0');
	f->p = d + n;
	if (!fast_delim(f))
		return false;
	*out = json_object_new_int64(neg ? -v : v);
	return *out != NULL;
}

static bool fast_value(fast_parser *f, json_object **out)
{
	if (f->p == f->end)
		return false;
	switch (*f->p) {
	case '{':
	case '[': {
		/* well inside json-c's bound: whether a document at the edge
		 * passes or fails is json-c's to say */
		if (f->depth + 2 >= f->max_depth)
			return false;
		f->depth++;
		bool ok = *f->p == '{' ? fast_object(f, out) : fast_array(f, out);
		f->depth--;
		return ok;
	}
	case '"': {
		const uint8_t *s = NULL;
		uint8_t *owned = NULL;
		size_t n = 0;
		if (!fast_string(f, &s, &n, &owned))
			return false;
		*out = json_object_new_string_len((const char *)s, (int)n);
		free(owned);
		return *out != NULL;
	}
	case 't':
		if (!fast_literal(f, "true", 4))
			return false;
		*out = json_object_new_boolean(1);
		return *out != NULL;
	case 'f':
		if (!fast_literal(f, "false", 5))
			return false;
		*out = json_object_new_boolean(0);
		return *out != NULL;
	case 'n':
		/* null is a member or element without an object, as json-c has it */
		*out = NULL;
		return fast_literal(f, "null", 4);
	default:
		return fast_int(f, out);
	}
}

/* The document's tree when the fast path can build it, else NULL (nothing
 * is reported: the caller falls back to json-c). */
static json_object *fast_parse(const uint8_t *buf, size_t len, int max_depth)
{
	fast_parser f = { buf, buf + len, 0, max_depth };
	fast_ws(&f);
	/* top-level scalars other than strings (numbers, whose end json-c
	 * finds by a flush, and null, which is an error here) go to json-c */
	if (f.p == f.end || (*f.p != '{' && *f.p != '[' && *f.p != '"'))
		return NULL;
	json_object *obj = NULL;
	if (!fast_value(&f, &obj))
		return NULL;
	fast_ws(&f);
	if (f.p != f.end) {
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

sigil_status sigil__json_parse(const uint8_t *buf, size_t len, json_object **out, sigil_error *err)
{
	return sigil__json_parse_depth(buf, len, SIGIL_MAX_JSON_DEPTH, out, err);
}

sigil_status sigil__json_parse_depth(const uint8_t *buf, size_t len, int max_depth,
	json_object **out, sigil_error *err)
{
	if (len <= (size_t)INT32_MAX) {
		json_object *obj = fast_parse(buf, len, max_depth);
		if (obj) {
			*out = obj;
			return SIGIL_STATUS_OK;
		}
	}
	return sigil__json_parse_reference(buf, len, max_depth, out, err);
}

sigil_status sigil__json_parse_reference(const uint8_t *buf, size_t len, int max_depth,
	json_object **out, sigil_error *err)
{
	if (len > (size_t)INT32_MAX)
		return sigil__err(err, SIGIL_ERR_LIMIT, "JSON document too large");
	/* json-c treats NUL as the end of input; a NUL inside the document
	 * would make it parse a prefix, so reject it outright. */
	if (len && memchr(buf, 0, len))
		return sigil__err_at(err, SIGIL_ERR_MALFORMED, (size_t)((const uint8_t *)memchr(buf, 0, len) - buf),
			"invalid JSON: NUL byte in document");
	SIGIL_TRY(check_outside_strings(buf, len, err));
	json_tokener *tok = json_tokener_new_ex(max_depth);
	if (!tok)
		return sigil__err_oom(err);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	json_object *obj = json_tokener_parse_ex(tok, (const char *)buf, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t consumed = json_tokener_get_parse_end(tok);
	if (jerr == json_tokener_continue && !obj) {
		/* The whole input was consumed but the value is incomplete; a
		 * number at the very end also lands here: flush with a '\0'. */
		obj = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		consumed = len;
	}
	json_tokener_free(tok);
	if (!obj || jerr != json_tokener_success) {
		if (obj)
			json_object_put(obj);
		if (jerr == json_tokener_error_depth)
			return sigil__err(err, SIGIL_ERR_LIMIT, "invalid JSON: nesting deeper than %d",
				max_depth);
		/* a literal null parses to NULL with success */
		if (jerr == json_tokener_success)
			return sigil__err(err, SIGIL_ERR_MALFORMED, "invalid JSON: expected a document, got null");
		return sigil__err_at(err, SIGIL_ERR_MALFORMED, consumed, "invalid JSON at byte %zu: %s",
			consumed, json_tokener_error_desc(jerr));
	}
	for (size_t i = consumed; i < len; i++) {
		if (!is_ws(buf[i])) {
			json_object_put(obj);
			return sigil__err_at(err, SIGIL_ERR_MALFORMED, i,
				"invalid JSON: unexpected data after the document at byte %zu", i);
		}
	}
	*out = obj;
	return SIGIL_STATUS_OK;
}

sigil_status sigil__json_parse_object(const uint8_t *buf, size_t len, const char *what,
	json_object **out, sigil_error *err)
{
	json_object *obj = NULL;
	if (sigil__json_parse(buf, len, &obj, err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "%s", what);
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return sigil__err(err, SIGIL_ERR_MALFORMED, "%s: expected a JSON object", what);
	}
	*out = obj;
	return SIGIL_STATUS_OK;
}

static sigil_status get_typed(json_object *obj, const char *key, json_type type,
	const char *tname, json_object **val, bool *present, sigil_error *err)
{
	json_object *v = NULL;
	if (!json_object_object_get_ex(obj, key, &v) || v == NULL) {
		*present = false;
		return SIGIL_STATUS_OK;
	}
	if (!json_object_is_type(v, type))
		return sigil__err(err, SIGIL_ERR_MALFORMED, "%s: expected %s", key, tname);
	*val = v;
	*present = true;
	return SIGIL_STATUS_OK;
}

sigil_status sigil__json_get_string(json_object *obj, const char *key, const char **out,
	bool *present, sigil_error *err)
{
	json_object *v = NULL;
	bool p = false;
	SIGIL_TRY(get_typed(obj, key, json_type_string, "a string", &v, &p, err));
	*present = p;
	if (p)
		*out = json_object_get_string(v);
	return SIGIL_STATUS_OK;
}

sigil_status sigil__json_get_int64(json_object *obj, const char *key, int64_t *out,
	bool *present, sigil_error *err)
{
	json_object *v = NULL;
	bool p = false;
	SIGIL_TRY(get_typed(obj, key, json_type_int, "an integer", &v, &p, err));
	*present = p;
	if (p) {
		errno = 0;
		int64_t x = json_object_get_int64(v);
		if (errno != 0)
			return sigil__err(err, SIGIL_ERR_MALFORMED, "%s: integer out of range", key);
		*out = x;
	}
	return SIGIL_STATUS_OK;
}

sigil_status sigil__json_get_object(json_object *obj, const char *key, json_object **out,
	bool *present, sigil_error *err)
{
	return get_typed(obj, key, json_type_object, "an object", out, present, err);
}

sigil_status sigil__json_get_array(json_object *obj, const char *key, json_object **out,
	bool *present, sigil_error *err)
{
	return get_typed(obj, key, json_type_array, "an array", out, present, err);
}
