/* referrers.c - referrers index pages and Link pagination. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "referrers.h"
#include "bounds.h"
#include "errors.h"
#include "oci.h"

sigil_status sigil__referrers_page_parse(const uint8_t *body, size_t len, sigil_descriptor **list,
	size_t *count, size_t max, sigil_error *err)
{
	sigil__index *idx = NULL;
	SIGIL_TRY(sigil__index_parse(body, len, &idx, err));
	for (size_t i = 0; i < idx->count && *count < max; i++) {
		const sigil_descriptor *d = &idx->manifests[i];
		/* §2.2: the referrers descriptor's artifactType is the manifest's
		 * artifactType, or its config media type; both shapes match */
		if (strcmp(d->artifact_type, SIGIL_MT_NOTARY_SIGNATURE) != 0)
			continue;
		int dup = 0;
		for (size_t k = 0; k < *count && !dup; k++)
			dup = strcmp((*list)[k].digest, d->digest) == 0;
		if (dup)
			continue;
		sigil_descriptor *n = realloc(*list, (*count + 1) * sizeof *n);
		if (!n) {
			sigil__index_free(idx);
			return sigil__err_oom(err);
		}
		*list = n;
		(*list)[(*count)++] = *d;
	}
	sigil__index_free(idx);
	return SIGIL_STATUS_OK;
}

/* RFC 8288 §3: Link = link-value *( "," link-value );
 * link-value = "<" URI-Reference ">" *( OWS ";" OWS link-param ) */
sigil_status sigil__link_next(const char *value, char **next, sigil_error *err)
{
	*next = NULL;
	if (!value)
		return SIGIL_STATUS_OK;
	size_t vlen = strlen(value);
	if (vlen > SIGIL_MAX_LINK_HEADER)
		return sigil__err(err, SIGIL_ERR_LIMIT, "Link header longer than %d bytes",
			SIGIL_MAX_LINK_HEADER);
	const char *p = value;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		if (*p != '<')
			return sigil__err(err, SIGIL_ERR_MALFORMED, "malformed Link header: expected '<'");
		const char *uri = ++p;
		const char *end = strchr(uri, '>');
		if (!end)
			return sigil__err(err, SIGIL_ERR_MALFORMED, "malformed Link header: missing '>'");
		p = end + 1;
		int is_next = 0;
		/* params up to the next link-value */
		while (*p && *p != ',') {
			while (*p == ' ' || *p == '\t' || *p == ';')
				p++;
			const char *name = p;
			while (*p && *p != '=' && *p != ';' && *p != ',' && *p != ' ')
				p++;
			size_t nlen = (size_t)(p - name);
			while (*p == ' ')
				p++;
			const char *val = NULL;
			size_t val_len = 0;
			if (*p == '=') {
				p++;
				while (*p == ' ')
					p++;
				if (*p == '"') {
					val = ++p;
					while (*p && *p != '"')
						p++;
					if (*p != '"')
						return sigil__err(err, SIGIL_ERR_MALFORMED,
							"malformed Link header: unterminated quoted string");
					val_len = (size_t)(p - val);
					p++;
				} else {
					val = p;
					while (*p && *p != ';' && *p != ',' && *p != ' ')
						p++;
					val_len = (size_t)(p - val);
				}
			}
			/* rel may hold several space-separated relation types */
			if (nlen == 3 && strncasecmp(name, "rel", 3) == 0 && val) {
				const char *r = val, *rend = val + val_len;
				while (r < rend) {
					while (r < rend && *r == ' ')
						r++;
					const char *w = r;
					while (r < rend && *r != ' ')
						r++;
					if (r - w == 4 && strncasecmp(w, "next", 4) == 0)
						is_next = 1;
				}
			}
			if (nlen == 0 && !val && *p && *p != ',' && *p != ';')
				p++; /* skip a stray byte rather than loop */
		}
		if (is_next) {
			if (end == uri)
				return sigil__err(err, SIGIL_ERR_MALFORMED, "malformed Link header: empty target");
			*next = strndup(uri, (size_t)(end - uri));
			if (!*next)
				return sigil__err_oom(err);
			return SIGIL_STATUS_OK;
		}
	}
	return SIGIL_STATUS_OK;
}
