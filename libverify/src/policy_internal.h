/* policy_internal.h - the parsed trust policy, shared with verify.c. */
#ifndef SIGIL_POLICY_INTERNAL_H
#define SIGIL_POLICY_INTERNAL_H

#include <stdbool.h>
#include <sigil/policy.h>
#include "dn.h"
#include "truststore.h"

typedef struct sigil__store_ref {
	sigil__store_type type;
	char *name;
} sigil__store_ref;

struct sigil_policy_statement {
	char *name;
	char **scopes;              /* registryScopes as written */
	size_t scope_count;
	bool wildcard_scope;        /* registryScopes == ["*"] */
	sigil_level level;
	sigil_action actions[SIGIL_CHECK__COUNT]; /* level table + overrides */
	bool has_overrides;
	sigil_verify_timestamp verify_timestamp;
	sigil__store_ref *stores;   /* de-duplicated, in listed order */
	size_t store_count;
	bool identity_wildcard;     /* trustedIdentities == ["*"] */
	sigil__dn *identities;      /* parsed x509.subject identities */
	size_t identity_count;
	char **identity_strings;    /* the same, as written (for messages) */
	size_t other_identity_count; /* identities with another prefix (plugins) */
};

struct sigil_policy {
	char *path;
	sigil_policy_statement *statements;
	size_t count;
};

#endif
