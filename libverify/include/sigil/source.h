/* sigil/source.h - where an artifact's signatures come from.
 *
 * A source resolves a digest to a descriptor, lists the signature manifests
 * whose subject is that descriptor, and fetches blobs by descriptor
 * (size-capped and digest-checked). sigil_verify() works on any source.
 */
#ifndef SIGIL_SOURCE_H
#define SIGIL_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include <sigil/error.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIGIL_MEDIA_TYPE_MAX 256
#define SIGIL_DIGEST_MAX 160

/* An OCI content descriptor, reduced to what verification uses. */
typedef struct sigil_descriptor {
	char media_type[SIGIL_MEDIA_TYPE_MAX];
	char digest[SIGIL_DIGEST_MAX];     /* "<alg>:<hex>" */
	int64_t size;
	char artifact_type[SIGIL_MEDIA_TYPE_MAX]; /* "" when absent */
} sigil_descriptor;

typedef struct sigil_source sigil_source;

/* sigil_source_oci_layout_open - a source over an OCI image layout
 * directory (oci-layout, index.json, blobs/). The layout's oci-layout
 * file and index.json are read and validated here. *out is owned by the
 * caller (sigil_source_free). */
SIGIL_EXPORT SIGIL_MUST_CHECK sigil_status sigil_source_oci_layout_open(
	sigil_source **out, const char *dir, sigil_error *err);

SIGIL_EXPORT void sigil_source_free(sigil_source *source);

#ifdef __cplusplus
}
#endif

#endif
