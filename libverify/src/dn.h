/* dn.h - X.509 distinguished names as notation reads trusted identities
 * (notary-verification.md §3.5). */
#ifndef SIGIL_DN_H
#define SIGIL_DN_H

#include <stdbool.h>
#include <stddef.h>
#include <openssl/x509.h>
#include <sigil/error.h>
#include "bounds.h"

typedef struct sigil__dn_attr {
	char *type;   /* "C", "ST", "O", ... as written; "S" renamed to "ST" */
	char *value;  /* unescaped */
} sigil__dn_attr;

typedef struct sigil__dn {
	sigil__dn_attr attrs[SIGIL_MAX_DN_ATTRS];
	size_t count;
} sigil__dn;

/* sigil__dn_parse - parse an RFC 4514 DN with notation's rules: "=#"
 * anywhere is rejected; ',' and ';' separate RDNs; multi-valued RDNs ('+')
 * rejected; escapes decoded; duplicate types rejected; C, ST (or S) and O
 * required and non-empty. SIGIL_ERR_POLICY with notation's wording. The
 * caller releases with sigil__dn_clear. */
SIGIL_MUST_CHECK sigil_status sigil__dn_parse(const char *s, size_t len, sigil__dn *out,
	sigil_error *err);

/* sigil__dn_from_name - a certificate subject as notation sees it (Go's
 * pkix.Name.String() re-parsed): known types C, ST, L, STREET, POSTALCODE,
 * O, OU, CN, SERIALNUMBER; a repeated known type (CN and SERIALNUMBER
 * excepted: the last value wins) or any other attribute type makes it fail,
 * as does a missing C/ST/O. RDN grouping does not matter. */
SIGIL_MUST_CHECK sigil_status sigil__dn_from_name(const X509_NAME *name, sigil__dn *out,
	sigil_error *err);

/* sigil__dn_is_subset - every (type, value) of `sub` equals that type's
 * value in `full`, byte-exact. */
bool sigil__dn_is_subset(const sigil__dn *sub, const sigil__dn *full);

void sigil__dn_clear(sigil__dn *dn);

#endif
