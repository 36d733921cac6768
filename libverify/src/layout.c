/* layout.c - a sigil_source over an OCI image layout directory
 * (OCI image-spec image-layout.md: oci-layout, index.json, blobs/<alg>/<hex>).
 *
 * Discovery follows notary-verification.md §2.2 for OCI layouts: the
 * manifests reachable from index.json are walked in listing order and the
 * image manifests whose subject is the artifact are kept when they are
 * Notary signature manifests of either shape (§2.1: artifactType
 * application/vnd.cncf.notary.signature, or the legacy config.mediaType).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cleanup.h"
#include "errors.h"
#include "fileio.h"
#include "jsonutil.h"
#include "bounds.h"
#include "oci.h"
#include "source_internal.h"

/* Nested image indexes followed below index.json during discovery. */
#define LAYOUT_MAX_NESTING 8

/* The signature manifests read by the last discovery, kept so that the
 * verifier's fetch of each of them right after (verify.c fetch_envelope)
 * is served from memory instead of a second open, read and hash: blobs are
 * content-addressed and these were digest-checked, so the bytes are those
 * a second read would return. Their parse is kept too (listed_manifest):
 * parsing the same bytes again can only give the same manifest. Bounded by
 * SIGIL_LAYOUT_MEMO_MAX_ENTRY and SIGIL_LAYOUT_MEMO_MAX_BYTES (larger ones
 * are read again). A source serves one verification at a time, as the
 * others do. */
typedef struct memo_entry {
	char digest[SIGIL_DIGEST_MAX];
	uint8_t *buf;
	size_t len;
	sigil__manifest *manifest; /* buf parsed */
} memo_entry;

typedef struct layout_ctx {
	int dirfd;
	sigil__index *index;
	memo_entry *memo;
	size_t memo_count, memo_cap, memo_bytes;
	size_t memo_next; /* fetches come in listing order: look here first */
} layout_ctx;

static void memo_clear(layout_ctx *ctx)
{
	for (size_t i = 0; i < ctx->memo_count; i++) {
		free(ctx->memo[i].buf);
		sigil__manifest_free(ctx->memo[i].manifest);
	}
	free(ctx->memo);
	ctx->memo = NULL;
	ctx->memo_count = ctx->memo_cap = ctx->memo_bytes = ctx->memo_next = 0;
}

/* Keep a digest-checked manifest and its parse; takes *buf and *m when
 * it is kept. */
static void memo_keep(layout_ctx *ctx, const char *digest, uint8_t **buf, size_t len,
	sigil__manifest **m)
{
	if (len > SIGIL_LAYOUT_MEMO_MAX_ENTRY || ctx->memo_bytes + len > SIGIL_LAYOUT_MEMO_MAX_BYTES)
		return;
	if (ctx->memo_count == ctx->memo_cap) {
		size_t ncap = ctx->memo_cap ? ctx->memo_cap * 2 : 8;
		memo_entry *n = realloc(ctx->memo, ncap * sizeof *n);
		if (!n)
			return; /* only an optimisation */
		ctx->memo = n;
		ctx->memo_cap = ncap;
	}
	memo_entry *e = &ctx->memo[ctx->memo_count++];
	snprintf(e->digest, sizeof e->digest, "%s", digest);
	e->buf = *buf;
	e->len = len;
	e->manifest = *m;
	*buf = NULL;
	*m = NULL;
	ctx->memo_bytes += len;
}

static const memo_entry *memo_find(layout_ctx *ctx, const char *digest)
{
	for (size_t k = 0; k < ctx->memo_count; k++) {
		size_t i = (ctx->memo_next + k) % ctx->memo_count;
		if (strcmp(ctx->memo[i].digest, digest) == 0) {
			ctx->memo_next = i + 1;
			return &ctx->memo[i];
		}
	}
	return NULL;
}

/* read_at - a regular file under the layout, at most max bytes. A missing
 * file is SIGIL_ERR_IO with errno ENOENT reported through *enoent. */
static sigil_status read_at(int dirfd, const char *path, size_t max, uint8_t **out, size_t *len,
	bool *enoent, sigil_error *err)
{
	sigil__file_why why;
	sigil_status st = sigil__file_read_at(dirfd, path, NULL, max, 0, out, len, &why, err);
	if (enoent)
		*enoent = st != SIGIL_STATUS_OK && why.problem == SIGIL__FILE_OPEN && why.errnum == ENOENT;
	return st;
}

/* blob_path - "blobs/<alg>/<hex>" for a validated digest. */
static void blob_path(const char *digest, char *path, size_t cap)
{
	const char *colon = strchr(digest, ':');
	snprintf(path, cap, "blobs/%.*s/%s", (int)(colon - digest), digest, colon + 1);
}

#define BLOB_PATH_MAX (SIGIL_DIGEST_MAX + 16)

/* fetch_blob - read a blob and check its size and digest; with memo, a
 * signature manifest the last discovery kept is served from memory. */
static sigil_status fetch_blob(layout_ctx *ctx, bool memo, const sigil_descriptor *desc,
	size_t max_size, uint8_t **out, size_t *len, sigil_error *err)
{
	if (sigil__digest_validate(desc->digest, err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "fetching blob");
	if (desc->size < 0)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "blob %s: negative size", desc->digest);
	if ((uint64_t)desc->size > max_size)
		return sigil__err(err, SIGIL_ERR_LIMIT, "blob %s: size %lld exceeds the limit of %zu bytes",
			desc->digest, (long long)desc->size, max_size);
	const memo_entry *m = memo ? memo_find(ctx, desc->digest) : NULL;
	if (m && m->len == (size_t)desc->size) {
		uint8_t *copy = malloc(m->len ? m->len : 1);
		if (!copy)
			return sigil__err_oom(err);
		memcpy(copy, m->buf, m->len);
		*out = copy;
		*len = m->len;
		return SIGIL_STATUS_OK;
	}
	char path[BLOB_PATH_MAX];
	blob_path(desc->digest, path, sizeof path);
	_cleanup_free_ uint8_t *buf = NULL;
	size_t n = 0;
	bool enoent = false;
	/* Read one byte past the descriptor's size so a longer blob is seen
	 * as a size mismatch rather than silently truncated. */
	if (read_at(ctx->dirfd, path, (size_t)desc->size + 1, &buf, &n, &enoent, err) != SIGIL_STATUS_OK) {
		if (enoent)
			return sigil__err(err, SIGIL_ERR_IO, "blob %s not found in the OCI layout", desc->digest);
		if (err && err->category == SIGIL_ERR_LIMIT)
			return sigil__err(err, SIGIL_ERR_CRYPTO,
				"blob %s: size mismatch: larger than the descriptor's %lld bytes",
				desc->digest, (long long)desc->size);
		return sigil__err_wrap(err, "blob %s", desc->digest);
	}
	/* OCI descriptor.md: the content's length must equal size, and its
	 * hash the digest, before the content is used. */
	if (n != (size_t)desc->size)
		return sigil__err(err, SIGIL_ERR_CRYPTO, "blob %s: size mismatch: descriptor says %lld bytes, blob has %zu",
			desc->digest, (long long)desc->size, n);
	if (sigil__digest_check(desc->digest, buf, n, err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "blob %s", desc->digest);
	*out = TAKE_PTR(buf);
	*len = n;
	return SIGIL_STATUS_OK;
}

static const sigil__manifest *layout_listed_manifest(void *vctx, const sigil_descriptor *desc,
	size_t max_size)
{
	/* the checks fetch_blob makes before it looks at the memo, so that an
	 * answer here is one a fetch and parse would have given */
	sigil_error ignored = SIGIL_ERROR_INIT;
	if (sigil__digest_validate(desc->digest, &ignored) != SIGIL_STATUS_OK || desc->size < 0 ||
	    (uint64_t)desc->size > max_size)
		return NULL;
	const memo_entry *m = memo_find(vctx, desc->digest);
	return m && m->len == (size_t)desc->size ? m->manifest : NULL;
}

static sigil_status layout_fetch(void *vctx, const sigil_descriptor *desc, size_t max_size,
	uint8_t **out, size_t *len, sigil_error *err)
{
	return fetch_blob(vctx, true, desc, max_size, out, len, err);
}

static sigil_status layout_resolve(void *vctx, const char *digest, sigil_descriptor *out,
	sigil_error *err)
{
	layout_ctx *ctx = vctx;
	SIGIL_TRY(sigil__digest_validate(digest, err));
	for (size_t i = 0; i < ctx->index->count; i++) {
		if (strcmp(ctx->index->manifests[i].digest, digest) == 0) {
			*out = ctx->index->manifests[i];
			return SIGIL_STATUS_OK;
		}
	}
	/* Not tagged in index.json (a child of an index, for instance): take
	 * the descriptor from the blob itself, checked against its name. */
	char path[BLOB_PATH_MAX];
	blob_path(digest, path, sizeof path);
	_cleanup_free_ uint8_t *buf = NULL;
	size_t n = 0;
	bool enoent = false;
	if (read_at(ctx->dirfd, path, SIGIL_MAX_MANIFEST_SIZE, &buf, &n, &enoent, err) != SIGIL_STATUS_OK) {
		if (enoent)
			return sigil__err(err, SIGIL_ERR_IO, "artifact %s not found in the OCI layout", digest);
		return sigil__err_wrap(err, "artifact %s", digest);
	}
	if (sigil__digest_check(digest, buf, n, err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "artifact %s", digest);
	sigil_descriptor d;
	memset(&d, 0, sizeof d);
	if (sigil__media_type_of(buf, n, d.media_type, err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "artifact %s", digest);
	memcpy(d.digest, digest, strlen(digest) + 1);
	d.size = (int64_t)n;
	*out = d;
	return SIGIL_STATUS_OK;
}

typedef struct discovery {
	layout_ctx *ctx;
	const sigil_descriptor *subject;
	size_t max;
	sigil_descriptor *found;
	size_t count;
	size_t visited;       /* manifests examined, bounded */
	char **seen_indexes;  /* digests of indexes on the current path */
	size_t depth;
} discovery;

static bool is_index_type(const char *mt)
{
	return strcmp(mt, SIGIL_MT_IMAGE_INDEX) == 0 || strcmp(mt, SIGIL_MT_DOCKER_MANIFEST_LIST) == 0;
}

static bool is_signature(const sigil__manifest *m)
{
	/* §2.1 [Smain]: both shapes, the newer artifactType form and the
	 * legacy config.mediaType form (adversarial 071). */
	return strcmp(m->artifact_type, SIGIL_MT_NOTARY_SIGNATURE) == 0 ||
	       (m->has_config && strcmp(m->config.media_type, SIGIL_MT_NOTARY_SIGNATURE) == 0);
}

static sigil_status add_found(discovery *d, const sigil_descriptor *desc, const sigil__manifest *m,
	sigil_error *err)
{
	for (size_t i = 0; i < d->count; i++)
		if (strcmp(d->found[i].digest, desc->digest) == 0)
			return SIGIL_STATUS_OK;
	sigil_descriptor *nf = realloc(d->found, (d->count + 1) * sizeof *nf);
	if (!nf)
		return sigil__err_oom(err);
	d->found = nf;
	sigil_descriptor *o = &d->found[d->count++];
	memset(o, 0, sizeof *o);
	memcpy(o->media_type, desc->media_type, sizeof o->media_type);
	memcpy(o->digest, desc->digest, sizeof o->digest);
	o->size = desc->size;
	/* As the Referrers API reports it (§2.2): the manifest's
	 * artifactType, or its config.mediaType when it has none. */
	if (m->artifact_type[0])
		memcpy(o->artifact_type, m->artifact_type, sizeof o->artifact_type);
	else
		memcpy(o->artifact_type, m->config.media_type, sizeof o->artifact_type);
	return SIGIL_STATUS_OK;
}

static sigil_status walk(discovery *d, const sigil_descriptor *list, size_t count, sigil_error *err);

static sigil_status visit(discovery *d, const sigil_descriptor *desc, sigil_error *err)
{
	if (d->count >= d->max || d->visited >= SIGIL_MAX_INDEX_ENTRIES)
		return SIGIL_STATUS_OK;
	d->visited++;
	/* The subject itself is never read: a manifest cannot name its own
	 * digest as its subject (nor hold one that does), so reading,
	 * hashing and parsing it on every verification finds nothing. */
	if (strcmp(desc->digest, d->subject->digest) == 0)
		return SIGIL_STATUS_OK;
	sigil_error ignored = SIGIL_ERROR_INIT;
	_cleanup_free_ uint8_t *buf = NULL;
	size_t n = 0;
	/* Unreadable, oversize or corrupt documents are skipped: discovery
	 * must not be broken by an unrelated manifest, and a listed signature
	 * is fetched (and checked) again by the verifier. */
	if (fetch_blob(d->ctx, false, desc, SIGIL_MAX_MANIFEST_SIZE, &buf, &n, &ignored) != SIGIL_STATUS_OK)
		return SIGIL_STATUS_OK;
	if (is_index_type(desc->media_type)) {
		if (d->depth >= LAYOUT_MAX_NESTING)
			return SIGIL_STATUS_OK;
		for (size_t i = 0; i < d->depth; i++)
			if (strcmp(d->seen_indexes[i], desc->digest) == 0)
				return SIGIL_STATUS_OK;
		sigil__index *idx = NULL;
		if (sigil__index_parse(buf, n, &idx, &ignored) != SIGIL_STATUS_OK)
			return SIGIL_STATUS_OK;
		char digest[SIGIL_DIGEST_MAX];
		memcpy(digest, desc->digest, sizeof digest);
		d->seen_indexes[d->depth++] = digest;
		sigil_status st = walk(d, idx->manifests, idx->count, err);
		d->depth--;
		sigil__index_free(idx);
		return st;
	}
	sigil__manifest *m = NULL;
	if (sigil__manifest_parse(buf, n, &m, &ignored) != SIGIL_STATUS_OK)
		return SIGIL_STATUS_OK;
	sigil_status st = SIGIL_STATUS_OK;
	if (m->has_subject && strcmp(m->subject.digest, d->subject->digest) == 0 && is_signature(m)) {
		size_t before = d->count;
		st = add_found(d, desc, m, err);
		if (st == SIGIL_STATUS_OK && d->count > before)
			memo_keep(d->ctx, desc->digest, &buf, n, &m);
	}
	sigil__manifest_free(m);
	return st;
}

static sigil_status walk(discovery *d, const sigil_descriptor *list, size_t count, sigil_error *err)
{
	for (size_t i = 0; i < count && d->count < d->max; i++)
		SIGIL_TRY(visit(d, &list[i], err));
	return SIGIL_STATUS_OK;
}

static sigil_status layout_list_signatures(void *vctx, const sigil_descriptor *subject, size_t max,
	sigil_descriptor **out, size_t *count, sigil_error *err)
{
	layout_ctx *ctx = vctx;
	if (sigil__digest_validate(subject->digest, err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "subject");
	char *seen[LAYOUT_MAX_NESTING];
	discovery d = { ctx, subject, max, NULL, 0, 0, seen, 0 };
	memo_clear(ctx);
	if (walk(&d, ctx->index->manifests, ctx->index->count, err) != SIGIL_STATUS_OK) {
		free(d.found);
		return SIGIL_STATUS_ERROR;
	}
	*out = d.found;
	*count = d.count;
	return SIGIL_STATUS_OK;
}

static void layout_free(void *vctx)
{
	layout_ctx *ctx = vctx;
	if (!ctx)
		return;
	if (ctx->dirfd >= 0)
		close(ctx->dirfd);
	sigil__index_free(ctx->index);
	memo_clear(ctx);
	free(ctx);
}

static const sigil__source_ops layout_ops = {
	.resolve = layout_resolve,
	.list_signatures = layout_list_signatures,
	.fetch = layout_fetch,
	.listed_manifest = layout_listed_manifest,
	.free = layout_free,
};

static void layout_ctx_freep(layout_ctx **p) { layout_free(*p); }

SIGIL_EXPORT sigil_status sigil_source_oci_layout_open(sigil_source **out, const char *dir,
	sigil_error *err)
{
	if (!out || !dir)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigil_source_oci_layout_open: NULL argument");
	_cleanup_(layout_ctx_freep) layout_ctx *ctx = calloc(1, sizeof *ctx);
	if (!ctx)
		return sigil__err_oom(err);
	ctx->dirfd = -1;
	/* The layout directory itself may be a symbolic link (image-layout.md
	 * says nothing against it); blobs are opened relative to it. */
	ctx->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ctx->dirfd < 0)
		return sigil__err(err, SIGIL_ERR_IO, "OCI layout %s: %s", dir, strerror(errno));

	/* image-layout.md: oci-layout is REQUIRED, {"imageLayoutVersion": "1.0.0"}. */
	_cleanup_free_ uint8_t *buf = NULL;
	size_t n = 0;
	if (read_at(ctx->dirfd, "oci-layout", SIGIL_MAX_LAYOUT_INDEX_SIZE, &buf, &n, NULL, err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "OCI layout %s", dir);
	{
		_cleanup_(json_object_putp) json_object *o = NULL;
		if (sigil__json_parse_object(buf, n, "oci-layout", &o, err) != SIGIL_STATUS_OK)
			return sigil__err_wrap(err, "OCI layout %s", dir);
		const char *v = NULL;
		bool present = false;
		if (sigil__json_get_string(o, "imageLayoutVersion", &v, &present, err) != SIGIL_STATUS_OK)
			return sigil__err_wrap(err, "OCI layout %s: oci-layout", dir);
		if (!present)
			return sigil__err(err, SIGIL_ERR_MALFORMED,
				"OCI layout %s: oci-layout: imageLayoutVersion: missing", dir);
		if (strcmp(v, "1.0.0") != 0)
			return sigil__err(err, SIGIL_ERR_MALFORMED,
				"OCI layout %s: oci-layout: imageLayoutVersion \"%.32s\" is not supported (want 1.0.0)",
				dir, v);
	}
	free(buf);
	buf = NULL;
	if (read_at(ctx->dirfd, "index.json", SIGIL_MAX_LAYOUT_INDEX_SIZE, &buf, &n, NULL, err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "OCI layout %s", dir);
	if (sigil__index_parse(buf, n, &ctx->index, err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "OCI layout %s: index.json", dir);

	sigil_source *s = calloc(1, sizeof *s);
	if (!s)
		return sigil__err_oom(err);
	s->ops = &layout_ops;
	s->ctx = TAKE_PTR(ctx);
	*out = s;
	return SIGIL_STATUS_OK;
}
