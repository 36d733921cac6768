/* jsonutil.c - bounded JSON parsing over json-c. */
#include <errno.h>
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

sigil_status sigil__json_parse(const uint8_t *buf, size_t len, json_object **out, sigil_error *err)
{
	return sigil__json_parse_depth(buf, len, SIGIL_MAX_JSON_DEPTH, out, err);
}

sigil_status sigil__json_parse_depth(const uint8_t *buf, size_t len, int max_depth,
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
