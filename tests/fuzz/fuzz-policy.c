/* fuzz-policy.c - sigil_policy_parse over arbitrary bytes; on success the
 * selection and action accessors are exercised too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sigil/policy.h>
#include "policy_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sigil_policy *p = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	if (sigil_policy_parse(&p, data, size, &err) != SIGIL_STATUS_OK) {
		/* the error must be filled and terminated */
		if (err.category == SIGIL_ERR_NONE || memchr(err.message, 0, sizeof err.message) == NULL)
			abort();
		if (p)
			abort();
		return 0;
	}
	size_t n = sigil_policy_statement_count(p);
	for (size_t i = 0; i < n; i++) {
		const sigil_policy_statement *st = sigil_policy_statement_get(p, i);
		for (int c = 0; c < SIGIL_CHECK__COUNT; c++)
			(void)sigil_action_name(sigil_statement_action(st, (sigil_check)c));
		(void)sigil_level_name(sigil_statement_level(st));
		/* every listed scope selects a statement that lists it */
		for (size_t j = 0; j < st->scope_count; j++) {
			const sigil_policy_statement *sel = NULL;
			if (st->wildcard_scope)
				continue;
			if (sigil_policy_select(p, st->scopes[j], &sel, &err) != SIGIL_STATUS_OK || sel != st)
				abort();
		}
		for (size_t j = 0; j < st->identity_count; j++)
			if (!sigil__dn_is_subset(&st->identities[j], &st->identities[j]))
				abort();
	}
	const sigil_policy_statement *sel = NULL;
	if (sigil_policy_select(p, "example.com/none", &sel, &err) == SIGIL_STATUS_OK && !sel)
		abort();
	sigil_policy_free(p);
	return 0;
}
