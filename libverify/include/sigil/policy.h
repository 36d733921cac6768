/* sigil/policy.h - the Notary Project OCI trust policy (trustpolicy.json /
 * trustpolicy.oci.json, version 1.0): parse, validate, select.
 * Rules: notary-verification.md §3.3, §3.4, §3.7, §4.1.
 */
#ifndef SIGIL_POLICY_H
#define SIGIL_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <sigil/error.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sigil_policy sigil_policy;
typedef struct sigil_policy_statement sigil_policy_statement;

typedef enum sigil_level {
	SIGIL_LEVEL_STRICT = 0,
	SIGIL_LEVEL_PERMISSIVE,
	SIGIL_LEVEL_AUDIT,
	SIGIL_LEVEL_SKIP,
} sigil_level;

typedef enum sigil_action {
	SIGIL_ACTION_ENFORCE = 0,
	SIGIL_ACTION_LOG,
	SIGIL_ACTION_SKIP,
} sigil_action;

/* The checks of notary-verification.md §4.3. TRUSTED_IDENTITY takes its
 * action from authenticity (as notation does); PLUGIN and USER_METADATA are
 * always enforced. Payload binding (targetArtifact vs. the verified
 * descriptor) is reported under INTEGRITY. */
typedef enum sigil_check {
	SIGIL_CHECK_INTEGRITY = 0,
	SIGIL_CHECK_AUTHENTICITY,
	SIGIL_CHECK_TRUSTED_IDENTITY,
	SIGIL_CHECK_EXPIRY,
	SIGIL_CHECK_AUTHENTIC_TIMESTAMP,
	SIGIL_CHECK_REVOCATION,
	SIGIL_CHECK_PLUGIN,
	SIGIL_CHECK_USER_METADATA,
	SIGIL_CHECK__COUNT
} sigil_check;

typedef enum sigil_verify_timestamp {
	SIGIL_VERIFY_TIMESTAMP_ALWAYS = 0,
	SIGIL_VERIFY_TIMESTAMP_AFTER_CERT_EXPIRY,
} sigil_verify_timestamp;

/* sigil_policy_parse - parse and fully validate a trust policy document.
 * On failure err->message names every problem found, separated by "; ",
 * and err->category is SIGIL_ERR_POLICY (or MALFORMED for bad JSON).
 * *out is owned by the caller (sigil_policy_free). */
SIGIL_EXPORT SIGIL_MUST_CHECK sigil_status sigil_policy_parse(
	sigil_policy **out, const uint8_t *buf, size_t len, sigil_error *err);

/* sigil_policy_load - read trustpolicy.oci.json from config_dir, or
 * trustpolicy.json when the former does not exist, and parse it.
 * Symlinks and non-regular files are rejected (§3.3). */
SIGIL_EXPORT SIGIL_MUST_CHECK sigil_status sigil_policy_load(
	sigil_policy **out, const char *config_dir, sigil_error *err);

SIGIL_EXPORT void sigil_policy_free(sigil_policy *policy);

/* sigil_policy_path - the file the policy was loaded from ("" if parsed
 * from memory). Borrowed. */
SIGIL_EXPORT const char *sigil_policy_path(const sigil_policy *policy);

SIGIL_EXPORT size_t sigil_policy_statement_count(const sigil_policy *policy);
SIGIL_EXPORT const sigil_policy_statement *sigil_policy_statement_get(
	const sigil_policy *policy, size_t index);

/* sigil_policy_select - the statement that applies to repository scope
 * `scope` ("registry/repository", no tag or digest): an exact registryScopes
 * match, else the "*" statement (§3.7). Returns SIGIL_ERR_POLICY when no
 * statement applies. *out is borrowed from policy. */
SIGIL_EXPORT SIGIL_MUST_CHECK sigil_status sigil_policy_select(
	const sigil_policy *policy, const char *scope,
	const sigil_policy_statement **out, sigil_error *err);

SIGIL_EXPORT const char *sigil_statement_name(const sigil_policy_statement *st);
SIGIL_EXPORT sigil_level sigil_statement_level(const sigil_policy_statement *st);
/* sigil_statement_action - the action for a check after the level's table
 * and the statement's overrides (§4.1). */
SIGIL_EXPORT sigil_action sigil_statement_action(
	const sigil_policy_statement *st, sigil_check check);
SIGIL_EXPORT int sigil_statement_has_overrides(const sigil_policy_statement *st);

SIGIL_EXPORT const char *sigil_level_name(sigil_level level);
SIGIL_EXPORT const char *sigil_action_name(sigil_action action);
/* sigil_check_name - "integrity", "authenticity", "trusted-identity",
 * "expiry", "authentic-timestamp", "revocation", "plugin", "user-metadata". */
SIGIL_EXPORT const char *sigil_check_name(sigil_check check);

#ifdef __cplusplus
}
#endif

#endif
