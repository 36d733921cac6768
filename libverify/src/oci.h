/* oci.h - OCI image-spec documents: descriptors, image manifests, image
 * indexes (bounded parsing over json-c). */
#ifndef SIGIL_OCI_H
#define SIGIL_OCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include <sigil/error.h>
#include <sigil/source.h>

#define SIGIL_MT_IMAGE_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define SIGIL_MT_IMAGE_INDEX "application/vnd.oci.image.index.v1+json"
#define SIGIL_MT_ARTIFACT_MANIFEST "application/vnd.oci.artifact.manifest.v1+json"
#define SIGIL_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define SIGIL_MT_DOCKER_MANIFEST_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define SIGIL_MT_NOTARY_SIGNATURE "application/vnd.cncf.notary.signature"
#define SIGIL_MT_EMPTY_JSON "application/vnd.oci.empty.v1+json"

/* sigil__digest_validate - "<alg>:<hex>" with alg sha256 (64 lower-case
 * hex) or sha512 (128). SIGIL_ERR_MALFORMED otherwise. */
SIGIL_MUST_CHECK sigil_status sigil__digest_validate(const char *digest, sigil_error *err);

/* sigil__digest_check - whether buf hashes to digest (constant-time
 * compare). SIGIL_ERR_CRYPTO "digest mismatch" otherwise. */
SIGIL_MUST_CHECK sigil_status sigil__digest_check(const char *digest, const uint8_t *buf,
	size_t len, sigil_error *err);

/* sigil__descriptor_from_json - a descriptor object: mediaType (string,
 * required, <= SIGIL_MEDIA_TYPE_MAX-1), digest (valid), size (integer >= 0),
 * artifactType (optional string). */
SIGIL_MUST_CHECK sigil_status sigil__descriptor_from_json(json_object *obj,
	sigil_descriptor *out, sigil_error *err);

typedef struct sigil__manifest {
	char media_type[SIGIL_MEDIA_TYPE_MAX];    /* "" if absent */
	char artifact_type[SIGIL_MEDIA_TYPE_MAX]; /* "" if absent */
	bool has_config;
	sigil_descriptor config;
	sigil_descriptor *layers;   /* layers[] (or blobs[] of an artifact manifest) */
	size_t layer_count;
	bool has_subject;
	sigil_descriptor subject;
} sigil__manifest;

/* sigil__manifest_parse - an OCI image manifest (or legacy artifact
 * manifest, whose blobs[] become layers). */
SIGIL_MUST_CHECK sigil_status sigil__manifest_parse(const uint8_t *buf, size_t len,
	sigil__manifest **out, sigil_error *err);
void sigil__manifest_free(sigil__manifest *m);
static inline void sigil__manifest_freep(sigil__manifest **m) { sigil__manifest_free(*m); }

typedef struct sigil__index {
	char media_type[SIGIL_MEDIA_TYPE_MAX];
	sigil_descriptor *manifests;
	size_t count;
} sigil__index;

/* sigil__index_parse - an OCI image index (manifests[] of descriptors; at
 * most SIGIL_MAX_INDEX_ENTRIES). */
SIGIL_MUST_CHECK sigil_status sigil__index_parse(const uint8_t *buf, size_t len,
	sigil__index **out, sigil_error *err);
void sigil__index_free(sigil__index *idx);

/* sigil__media_type_of - the top-level "mediaType" of a manifest or index
 * document, into out (>= SIGIL_MEDIA_TYPE_MAX). "" if absent. */
SIGIL_MUST_CHECK sigil_status sigil__media_type_of(const uint8_t *buf, size_t len,
	char *out, sigil_error *err);

#endif
