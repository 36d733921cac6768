/* oci.c - OCI image-spec documents: digests, descriptors, image manifests
 * and image indexes, parsed with bounds over json-c.
 *
 * OCI image-spec descriptor.md: mediaType, digest and size are REQUIRED;
 * manifest.md: config + layers (+ optional subject, artifactType);
 * image-index.md: manifests[]. notary-verification.md §2.1 / §2.2 for the
 * two signature-manifest shapes and the legacy artifact manifest (blobs[]).
 */
#include <stdint.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include "oci.h"
#include "sigalg.h"
#include "cleanup.h"
#include "errors.h"
#include "jsonutil.h"
#include "bounds.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* OCI image-spec descriptor.md "Registered algorithms": sha256 is
 * [a-f0-9]{64}, sha512 is [a-f0-9]{128}; upper case is not allowed. */
static const EVP_MD *digest_md(const char *digest, size_t *hex_len, const char **hex)
{
	if (strncmp(digest, "sha256:", 7) == 0) {
		*hex_len = 64;
		*hex = digest + 7;
		return sigil__md_sha256();
	}
	if (strncmp(digest, "sha512:", 7) == 0) {
		*hex_len = 128;
		*hex = digest + 7;
		return sigil__md_sha512();
	}
	return NULL;
}

sigil_status sigil__digest_validate(const char *digest, sigil_error *err)
{
	if (!digest)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "invalid digest: missing");
	size_t hex_len = 0;
	const char *hex = NULL;
	if (!digest_md(digest, &hex_len, &hex))
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			"invalid digest \"%.80s\": algorithm must be sha256 or sha512", digest);
	size_t n = strnlen(hex, hex_len + 1);
	if (n != hex_len)
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			"invalid digest \"%.160s\": expected %zu hex characters", digest, hex_len);
	for (size_t i = 0; i < n; i++)
		if (hexval(hex[i]) < 0)
			return sigil__err(err, SIGIL_ERR_MALFORMED,
				"invalid digest \"%.160s\": not lower-case hex", digest);
	return SIGIL_STATUS_OK;
}

sigil_status sigil__digest_check(const char *digest, const uint8_t *buf, size_t len,
	sigil_error *err)
{
	SIGIL_TRY(sigil__digest_validate(digest, err));
	size_t hex_len = 0;
	const char *hex = NULL;
	const EVP_MD *md = digest_md(digest, &hex_len, &hex);
	uint8_t want[EVP_MAX_MD_SIZE], got[EVP_MAX_MD_SIZE];
	unsigned int got_len = 0;
	for (size_t i = 0; i < hex_len / 2; i++)
		want[i] = (uint8_t)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
	if (EVP_Digest(buf ? (const void *)buf : (const void *)"", len, got, &got_len, md, NULL) != 1)
		return sigil__err_openssl(err, SIGIL_ERR_INTERNAL, "computing the digest");
	if (got_len != hex_len / 2 || CRYPTO_memcmp(want, got, got_len) != 0)
		return sigil__err(err, SIGIL_ERR_CRYPTO, "digest mismatch: content does not hash to %s",
			digest);
	return SIGIL_STATUS_OK;
}

/* copy_bounded - a string member into a fixed buffer; too long is LIMIT. */
static sigil_status copy_bounded(char *dst, size_t cap, const char *src, const char *field,
	sigil_error *err)
{
	size_t n = strnlen(src, cap);
	if (n >= cap)
		return sigil__err(err, SIGIL_ERR_LIMIT, "%s: longer than %zu bytes", field, cap - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
	return SIGIL_STATUS_OK;
}

sigil_status sigil__descriptor_from_json(json_object *obj, sigil_descriptor *out, sigil_error *err)
{
	if (!obj || !json_object_is_type(obj, json_type_object))
		return sigil__err(err, SIGIL_ERR_MALFORMED, "descriptor: expected an object");
	sigil_descriptor d;
	memset(&d, 0, sizeof d);
	const char *s = NULL;
	bool present = false;

	SIGIL_TRY(sigil__json_get_string(obj, "mediaType", &s, &present, err));
	if (!present || s[0] == '\0')
		return sigil__err(err, SIGIL_ERR_MALFORMED, "mediaType: missing");
	SIGIL_TRY(copy_bounded(d.media_type, sizeof d.media_type, s, "mediaType", err));

	SIGIL_TRY(sigil__json_get_string(obj, "digest", &s, &present, err));
	if (!present)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "digest: missing");
	if (sigil__digest_validate(s, err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "digest");
	SIGIL_TRY(copy_bounded(d.digest, sizeof d.digest, s, "digest", err));

	int64_t size = 0;
	SIGIL_TRY(sigil__json_get_int64(obj, "size", &size, &present, err));
	if (!present)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "size: missing");
	/* json-c saturates unsigned 64-bit values at INT64_MAX; no real blob
	 * has that size, so treat it as out of range. */
	if (size < 0 || size == INT64_MAX)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "size: must be a non-negative int64");
	d.size = size;

	SIGIL_TRY(sigil__json_get_string(obj, "artifactType", &s, &present, err));
	if (present)
		SIGIL_TRY(copy_bounded(d.artifact_type, sizeof d.artifact_type, s, "artifactType", err));

	*out = d;
	return SIGIL_STATUS_OK;
}

/* descriptor_array - arr[] of descriptors, at most `max` of them. */
static sigil_status descriptor_array(json_object *arr, const char *field, size_t max,
	sigil_descriptor **out, size_t *count, sigil_error *err)
{
	size_t n = json_object_array_length(arr);
	if (n > max)
		return sigil__err(err, SIGIL_ERR_LIMIT, "%s: more than %zu entries", field, max);
	sigil_descriptor *v = NULL;
	if (n) {
		v = calloc(n, sizeof *v);
		if (!v)
			return sigil__err_oom(err);
	}
	for (size_t i = 0; i < n; i++) {
		if (sigil__descriptor_from_json(json_object_array_get_idx(arr, i), &v[i], err)
				!= SIGIL_STATUS_OK) {
			free(v);
			return sigil__err_wrap(err, "%s[%zu]", field, i);
		}
	}
	*out = v;
	*count = n;
	return SIGIL_STATUS_OK;
}

static sigil_status optional_string(json_object *obj, const char *key, char *dst, size_t cap,
	sigil_error *err)
{
	const char *s = NULL;
	bool present = false;
	SIGIL_TRY(sigil__json_get_string(obj, key, &s, &present, err));
	if (present)
		SIGIL_TRY(copy_bounded(dst, cap, s, key, err));
	return SIGIL_STATUS_OK;
}

/* schemaVersion is 2 for both manifests and indexes (image-spec
 * manifest.md, image-index.md); absence is tolerated as Go's decoders do. */
static sigil_status check_schema_version(json_object *obj, sigil_error *err)
{
	int64_t v = 0;
	bool present = false;
	SIGIL_TRY(sigil__json_get_int64(obj, "schemaVersion", &v, &present, err));
	if (present && v != 2)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "schemaVersion: must be 2");
	return SIGIL_STATUS_OK;
}

void sigil__manifest_free(sigil__manifest *m)
{
	if (!m)
		return;
	free(m->layers);
	free(m);
}

static void manifest_freep(sigil__manifest **m) { sigil__manifest_free(*m); }

sigil_status sigil__manifest_parse(const uint8_t *buf, size_t len, sigil__manifest **out,
	sigil_error *err)
{
	if (len > SIGIL_MAX_MANIFEST_SIZE)
		return sigil__err(err, SIGIL_ERR_LIMIT, "manifest: larger than %u bytes",
			SIGIL_MAX_MANIFEST_SIZE);
	_cleanup_(json_object_putp) json_object *root = NULL;
	SIGIL_TRY(sigil__json_parse_object(buf, len, "manifest", &root, err));
	_cleanup_(manifest_freep) sigil__manifest *m = calloc(1, sizeof *m);
	if (!m)
		return sigil__err_oom(err);

	if (check_schema_version(root, err) != SIGIL_STATUS_OK ||
	    optional_string(root, "mediaType", m->media_type, sizeof m->media_type, err) != SIGIL_STATUS_OK ||
	    optional_string(root, "artifactType", m->artifact_type, sizeof m->artifact_type, err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "manifest");

	json_object *o = NULL;
	bool present = false;
	if (sigil__json_get_object(root, "config", &o, &present, err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "manifest");
	if (present) {
		if (sigil__descriptor_from_json(o, &m->config, err) != SIGIL_STATUS_OK)
			return sigil__err_wrap(err, "manifest: config");
		m->has_config = true;
	}

	/* The legacy artifact manifest keeps its content in blobs[]
	 * (notary-verification.md §2.1, "How notation 1.3 reads"). */
	const char *list = strcmp(m->media_type, SIGIL_MT_ARTIFACT_MANIFEST) == 0 ? "blobs" : "layers";
	if (sigil__json_get_array(root, list, &o, &present, err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "manifest");
	if (present && descriptor_array(o, list, SIGIL_MAX_INDEX_ENTRIES, &m->layers,
			&m->layer_count, err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "manifest");

	if (sigil__json_get_object(root, "subject", &o, &present, err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "manifest");
	if (present) {
		if (sigil__descriptor_from_json(o, &m->subject, err) != SIGIL_STATUS_OK)
			return sigil__err_wrap(err, "manifest: subject");
		m->has_subject = true;
	}
	*out = TAKE_PTR(m);
	return SIGIL_STATUS_OK;
}

void sigil__index_free(sigil__index *idx)
{
	if (!idx)
		return;
	free(idx->manifests);
	free(idx);
}

static void index_freep(sigil__index **p) { sigil__index_free(*p); }

sigil_status sigil__index_parse(const uint8_t *buf, size_t len, sigil__index **out,
	sigil_error *err)
{
	/* an index is either the layout's index.json or a manifest-sized blob */
	size_t max = SIGIL_MAX_LAYOUT_INDEX_SIZE > SIGIL_MAX_MANIFEST_SIZE ?
		SIGIL_MAX_LAYOUT_INDEX_SIZE : SIGIL_MAX_MANIFEST_SIZE;
	if (len > max)
		return sigil__err(err, SIGIL_ERR_LIMIT, "image index: larger than %zu bytes", max);
	_cleanup_(json_object_putp) json_object *root = NULL;
	SIGIL_TRY(sigil__json_parse_object(buf, len, "image index", &root, err));
	_cleanup_(index_freep) sigil__index *idx = calloc(1, sizeof *idx);
	if (!idx)
		return sigil__err_oom(err);
	if (check_schema_version(root, err) != SIGIL_STATUS_OK ||
	    optional_string(root, "mediaType", idx->media_type, sizeof idx->media_type, err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "image index");
	json_object *arr = NULL;
	bool present = false;
	if (sigil__json_get_array(root, "manifests", &arr, &present, err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "image index");
	/* image-index.md: manifests is REQUIRED. */
	if (!present)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "image index: manifests: missing");
	if (descriptor_array(arr, "manifests", SIGIL_MAX_INDEX_ENTRIES, &idx->manifests,
			&idx->count, err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "image index");
	*out = TAKE_PTR(idx);
	return SIGIL_STATUS_OK;
}

sigil_status sigil__media_type_of(const uint8_t *buf, size_t len, char *out, sigil_error *err)
{
	_cleanup_(json_object_putp) json_object *root = NULL;
	SIGIL_TRY(sigil__json_parse_object(buf, len, "document", &root, err));
	char mt[SIGIL_MEDIA_TYPE_MAX] = "";
	if (optional_string(root, "mediaType", mt, sizeof mt, err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "document");
	memcpy(out, mt, sizeof mt);
	return SIGIL_STATUS_OK;
}
