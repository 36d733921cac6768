/* fuzz-reference.c - sigil_reference_parse over arbitrary bytes (as a C
 * string: up to the first NUL). A parsed reference must print as a
 * reference that parses back to itself (normalisation is idempotent). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sigil/reference.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		size = 4096;
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	for (int imply = 0; imply <= 1; imply++) {
		sigil_reference *r = NULL;
		sigil_error err = SIGIL_ERROR_INIT;
		if (sigil_reference_parse(&r, s, imply, &err) != SIGIL_STATUS_OK) {
			if (r || err.category == SIGIL_ERR_NONE || !err.message[0])
				abort();
			continue;
		}
		const char *dom = sigil_reference_domain(r), *path = sigil_reference_path(r);
		const char *repo = sigil_reference_repository(r);
		size_t dl = strlen(dom);
		if (!dl || !*path || strncmp(repo, dom, dl) != 0 || repo[dl] != '/' || strcmp(repo + dl + 1, path) != 0)
			abort();
		if (imply && !*sigil_reference_tag(r) && !*sigil_reference_digest(r))
			abort();
		sigil_reference *again = NULL;
		sigil_error e2 = SIGIL_ERROR_INIT;
		if (sigil_reference_parse(&again, sigil_reference_string(r), 0, &e2) != SIGIL_STATUS_OK)
			abort();
		if (strcmp(sigil_reference_string(again), sigil_reference_string(r)) != 0)
			abort();
		sigil_reference_free(again);
		sigil_reference_free(r);
	}
	free(s);
	return 0;
}
