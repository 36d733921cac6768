/* source_internal.h - the operations behind a sigil_source. */
#ifndef SIGIL_SOURCE_INTERNAL_H
#define SIGIL_SOURCE_INTERNAL_H

#include <sigil/source.h>

typedef struct sigil__source_ops {
	/* Resolve the artifact digest to its descriptor (media type, size). */
	sigil_status (*resolve)(void *ctx, const char *digest, sigil_descriptor *out,
		sigil_error *err);
	/* The signature manifests (descriptors) whose subject is `subject`, in
	 * listing order, at most `max` of them; *out malloc'd. */
	sigil_status (*list_signatures)(void *ctx, const sigil_descriptor *subject,
		size_t max, sigil_descriptor **out, size_t *count, sigil_error *err);
	/* Fetch the blob named by desc: at most max_size bytes, size equal to
	 * desc->size, digest checked. *out malloc'd. */
	sigil_status (*fetch)(void *ctx, const sigil_descriptor *desc, size_t max_size,
		uint8_t **out, size_t *len, sigil_error *err);
	/* Optional (NULL: not offered). The signature manifest named by desc,
	 * parsed, when the source already parsed exactly its bytes while
	 * listing signatures (list_signatures above), or NULL, and then the
	 * caller fetches and parses it. Borrowed: valid until the next
	 * list_signatures or free. desc must satisfy what fetch checks
	 * (valid digest, 0 <= size <= max_size) for a non-NULL answer. */
	const struct sigil__manifest *(*listed_manifest)(void *ctx, const sigil_descriptor *desc,
		size_t max_size);
	void (*free)(void *ctx);
} sigil__source_ops;

struct sigil_source {
	const sigil__source_ops *ops;
	void *ctx;
};

#endif
