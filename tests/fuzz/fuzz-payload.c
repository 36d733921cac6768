/* fuzz-payload.c - the Notary payload with Go decoding semantics
 * (payload.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "oci.h"
#include "payload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sigil_error err = SIGIL_ERROR_INIT;
	sigil__payload *p = NULL;
	if (sigil__payload_parse(data, size, &p, &err) != SIGIL_STATUS_OK)
		return 0;
	/* a parsed payload always carries a valid digest and size >= 0 */
	if (sigil__digest_validate(p->target.digest, &err) != SIGIL_STATUS_OK || p->target.size < 0)
		abort();
	for (size_t i = 0; i < p->annotation_count; i++)
		if (sigil__payload_annotation(p, p->annotation_keys[i]) == NULL)
			abort();
	sigil__payload_free(p);
	return 0;
}
