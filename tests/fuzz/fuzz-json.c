/* fuzz-json.c - libsigil's JSON reader (jsonutil.c), differentially: the
 * fast path of sigil__json_parse_depth must give exactly what json-c gives
 * through sigil__json_parse_reference - the same tree, or the same error
 * category, message and offset - for every input. The first byte picks the
 * depth bound, so inputs near the bound are explored too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "bounds.h"
#include "jsonutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int depth = 1 + data[0] % SIGIL_MAX_JSON_DEPTH;
	data++;
	size--;
	sigil_error e1 = SIGIL_ERROR_INIT, e2 = SIGIL_ERROR_INIT;
	json_object *a = NULL, *b = NULL;
	sigil_status s1 = sigil__json_parse_depth(data, size, depth, &a, &e1);
	sigil_status s2 = sigil__json_parse_reference(data, size, depth, &b, &e2);
	if (s1 != s2)
		abort();
	if (s1 == SIGIL_STATUS_OK) {
		/* json_object_equal compares types and values, object members
		 * regardless of order, arrays in order */
		if (!json_object_equal(a, b))
			abort();
		/* and the same member order, which json_object_equal ignores */
		if (strcmp(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN),
			json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN)) != 0)
			abort();
	} else if (e1.category != e2.category || strcmp(e1.message, e2.message) != 0 ||
		e1.offset != e2.offset) {
		abort();
	}
	json_object_put(a);
	json_object_put(b);
	return 0;
}
