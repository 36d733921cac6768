/* referrers.h - one page of an OCI referrers response (distribution spec
 * v1.1 "Listing Referrers") or a referrers-tag-schema index, reduced to the
 * Notary signature manifests it lists, and the Link header's next page. */
#ifndef SIGIL_REFERRERS_H
#define SIGIL_REFERRERS_H

#include <stddef.h>
#include <sigil/error.h>
#include <sigil/source.h>

/* sigil__referrers_page_parse - parse an image index and append to
 * (*list, *count) every descriptor whose artifactType is
 * application/vnd.cncf.notary.signature and whose digest is not already in
 * the list, until *count reaches max. The filter is always applied, even
 * when the registry says it filtered (OCI-Filters-Applied), because a
 * registry is not trusted to. *list is realloc'd; the caller frees it. */
SIGIL_MUST_CHECK sigil_status sigil__referrers_page_parse(const uint8_t *body, size_t len,
	sigil_descriptor **list, size_t *count, size_t max, sigil_error *err);

/* sigil__link_next - the target of the rel="next" link in a Link header
 * value (RFC 8288), malloc'd into *next, or NULL when there is none.
 * SIGIL_ERR_MALFORMED for a header that does not parse. */
SIGIL_MUST_CHECK sigil_status sigil__link_next(const char *value, char **next, sigil_error *err);

#endif
