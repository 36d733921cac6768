/* jsonutil.h - bounded JSON parsing over json-c and typed field access. */
#ifndef SIGIL_JSONUTIL_H
#define SIGIL_JSONUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include <sigil/error.h>

/* sigil__json_parse - parse exactly one JSON value from buf[0..len) with
 * nesting depth <= SIGIL_MAX_JSON_DEPTH; only whitespace may follow it.
 * Strings must be valid UTF-8 and may not contain NUL. Duplicate object
 * keys: the last one wins (as Go's encoding/json). The input need not be
 * NUL-terminated. Fails with SIGIL_ERR_MALFORMED (offset set) or
 * SIGIL_ERR_LIMIT. *out is owned by the caller (json_object_put). */
SIGIL_MUST_CHECK sigil_status sigil__json_parse(const uint8_t *buf, size_t len,
	json_object **out, sigil_error *err);

/* sigil__json_parse_depth - as sigil__json_parse with another depth bound
 * (sigild's configuration allows less nesting than signature documents). */
SIGIL_MUST_CHECK sigil_status sigil__json_parse_depth(const uint8_t *buf, size_t len,
	int max_depth, json_object **out, sigil_error *err);

/* sigil__json_parse_reference - as sigil__json_parse_depth, always through
 * json-c (sigil__json_parse_depth takes a faster path for common documents
 * and falls back to this one; tests compare the two). */
SIGIL_MUST_CHECK sigil_status sigil__json_parse_reference(const uint8_t *buf, size_t len,
	int max_depth, json_object **out, sigil_error *err);

/* sigil__json_parse_object - as sigil__json_parse, and the value must be an
 * object. `what` names the document in error messages. */
SIGIL_MUST_CHECK sigil_status sigil__json_parse_object(const uint8_t *buf, size_t len,
	const char *what, json_object **out, sigil_error *err);

/* Field access. Each returns:
 *   SIGIL_STATUS_OK with *present=false when the key is absent (or null,
 *   for _opt variants: JSON null counts as absent, as in Go);
 *   SIGIL_STATUS_ERROR (SIGIL_ERR_MALFORMED, "<key>: expected a string")
 *   when the type is wrong.
 * Strings are borrowed from the json_object. */
SIGIL_MUST_CHECK sigil_status sigil__json_get_string(json_object *obj, const char *key,
	const char **out, bool *present, sigil_error *err);
SIGIL_MUST_CHECK sigil_status sigil__json_get_int64(json_object *obj, const char *key,
	int64_t *out, bool *present, sigil_error *err);
SIGIL_MUST_CHECK sigil_status sigil__json_get_object(json_object *obj, const char *key,
	json_object **out, bool *present, sigil_error *err);
SIGIL_MUST_CHECK sigil_status sigil__json_get_array(json_object *obj, const char *key,
	json_object **out, bool *present, sigil_error *err);

#endif
