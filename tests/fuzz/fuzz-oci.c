/* fuzz-oci.c - OCI manifests, image indexes and the media-type sniffer
 * over the same input (oci.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "oci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sigil_error err = SIGIL_ERROR_INIT;
	sigil__manifest *m = NULL;
	if (sigil__manifest_parse(data, size, &m, &err) == SIGIL_STATUS_OK) {
		/* touch everything the parser returned */
		size_t n = strlen(m->media_type) + strlen(m->artifact_type);
		for (size_t i = 0; i < m->layer_count; i++)
			n += strlen(m->layers[i].digest) + (size_t)m->layers[i].size;
		if (m->has_subject)
			n += strlen(m->subject.digest);
		(void)n;
		sigil__manifest_free(m);
	}
	sigil__index *idx = NULL;
	if (sigil__index_parse(data, size, &idx, &err) == SIGIL_STATUS_OK) {
		for (size_t i = 0; i < idx->count; i++)
			if (sigil__digest_validate(idx->manifests[i].digest, &err) != SIGIL_STATUS_OK)
				abort(); /* the parser only returns valid digests */
		sigil__index_free(idx);
	}
	char mt[SIGIL_MEDIA_TYPE_MAX];
	if (sigil__media_type_of(data, size, mt, &err) == SIGIL_STATUS_OK && strlen(mt) >= sizeof mt)
		abort();
	return 0;
}
