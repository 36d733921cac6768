/* result.h - building a sigil_result (internal to verify.c). */
#ifndef SIGIL_RESULT_H
#define SIGIL_RESULT_H

#include <stdbool.h>
#include <sigil/verify.h>
#include "errors.h"

typedef struct sigil__check_result {
	sigil_outcome outcome;
	sigil_action action;
	sigil_category category;
	char *message;
} sigil__check_result;

struct sigil_signature_result {
	char digest[SIGIL_DIGEST_MAX];
	char media_type[SIGIL_MEDIA_TYPE_MAX];
	sigil_verdict verdict;
	sigil_check failed_check;     /* SIGIL_CHECK__COUNT when it passed */
	sigil__check_result checks[SIGIL_CHECK__COUNT];
	char *signer;
};

struct sigil_result {
	sigil_verdict verdict;
	sigil_failure failure;
	char *reason;
	char *scope;
	char *digest;
	bool has_policy;
	char *policy_name;
	sigil_level level;
	sigil_descriptor artifact;
	int64_t valid_until;
	sigil_signature_result *sigs;
	size_t count, cap;
};

SIGIL_MUST_CHECK sigil_status sigil__result_new(sigil_result **out, const char *scope,
	const char *digest, sigil_error *err);

/* sigil__result_add_signature - append a zeroed signature result (all
 * checks NOT_RUN); *out is borrowed from r and valid until the next add. */
SIGIL_MUST_CHECK sigil_status sigil__result_add_signature(sigil_result *r,
	const sigil_descriptor *manifest, sigil_signature_result **out, sigil_error *err);

/* sigil__check_set - record a check's outcome; message printf-style. The
 * outcome is always recorded; only the message is lost if memory runs out
 * (err is then filled), so a verdict never depends on an allocation. */
void sigil__check_set(sigil_signature_result *sr, sigil_check check,
	sigil_outcome outcome, sigil_action action, sigil_category category, sigil_error *err,
	const char *fmt, ...) SIGIL__PRINTF(7, 8);

/* sigil__result_set_reason - replace the one-line reason. */
SIGIL_MUST_CHECK sigil_status sigil__result_set_reason(sigil_result *r, sigil_error *err,
	const char *fmt, ...) SIGIL__PRINTF(3, 4);

#endif
