/* payload.h - the Notary signature payload (notary-verification.md §1.2):
 * {"targetArtifact": <OCI descriptor>}. */
#ifndef SIGIL_PAYLOAD_H
#define SIGIL_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sigil/error.h>
#include <sigil/source.h>

typedef struct sigil__payload {
	sigil_descriptor target;  /* mediaType, digest, size (artifactType too) */
	char **annotation_keys;   /* targetArtifact.annotations */
	char **annotation_values;
	size_t annotation_count;
} sigil__payload;

/* sigil__payload_parse - parse with Go's decoding semantics: unknown
 * members ignored, keys matched case-insensitively, the last duplicate
 * wins; targetArtifact must be an object; mediaType/digest strings, size an
 * integer, annotations an object of strings. SIGIL_ERR_MALFORMED otherwise.
 * *out owned by the caller (sigil__payload_free). */
SIGIL_MUST_CHECK sigil_status sigil__payload_parse(const uint8_t *buf, size_t len,
	sigil__payload **out, sigil_error *err);

/* sigil__payload_parse_checked - as sigil__payload_parse for bytes that
 * sigil__json_parse_object has already accepted as a JSON object (the JWS
 * envelope checks its payload so, §1.6 step 3): the same result, without
 * a second json-c pass over them. */
SIGIL_MUST_CHECK sigil_status sigil__payload_parse_checked(const uint8_t *buf, size_t len,
	sigil__payload **out, sigil_error *err);

/* sigil__payload_annotation - value for key, or NULL. Borrowed. */
const char *sigil__payload_annotation(const sigil__payload *p, const char *key);

void sigil__payload_free(sigil__payload *p);

#endif
