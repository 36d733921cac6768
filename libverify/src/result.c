/* result.c - the verification result: a value, not an error. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "result.h"
#include "cleanup.h"

sigil_status sigil__result_new(sigil_result **out, const char *scope, const char *digest,
	sigil_error *err)
{
	sigil_result *r = calloc(1, sizeof *r);
	if (!r)
		return sigil__err_oom(err);
	r->verdict = SIGIL_VERDICT_FAIL;
	r->valid_until = INT64_MAX;
	r->scope = strdup(scope ? scope : "");
	r->digest = strdup(digest ? digest : "");
	r->reason = strdup("");
	r->policy_name = strdup("");
	if (!r->scope || !r->digest || !r->reason || !r->policy_name) {
		sigil_result_free(r);
		return sigil__err_oom(err);
	}
	*out = r;
	return SIGIL_STATUS_OK;
}

sigil_status sigil__result_add_signature(sigil_result *r, const sigil_descriptor *manifest,
	sigil_signature_result **out, sigil_error *err)
{
	if (r->count == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 4;
		sigil_signature_result *n = realloc(r->sigs, ncap * sizeof *n);
		if (!n)
			return sigil__err_oom(err);
		r->sigs = n;
		r->cap = ncap;
	}
	sigil_signature_result *sr = &r->sigs[r->count++];
	memset(sr, 0, sizeof *sr);
	snprintf(sr->digest, sizeof sr->digest, "%s", manifest->digest);
	sr->verdict = SIGIL_VERDICT_FAIL;
	sr->failed_check = SIGIL_CHECK__COUNT;
	*out = sr;
	return SIGIL_STATUS_OK;
}

void sigil__check_set(sigil_signature_result *sr, sigil_check check, sigil_outcome outcome,
	sigil_action action, sigil_category category, sigil_error *err, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0) {
		msg = NULL;
		(void)sigil__err_oom(err);
	}
	sigil__check_result *c = &sr->checks[check];
	free(c->message);
	c->message = msg;
	c->outcome = outcome;
	c->action = action;
	c->category = category;
}

sigil_status sigil__result_set_reason(sigil_result *r, sigil_error *err, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return sigil__err_oom(err);
	/* the reason is one line: fold any newline a message carried */
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	free(r->reason);
	r->reason = msg;
	return SIGIL_STATUS_OK;
}

SIGIL_EXPORT void sigil_result_free(sigil_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->count; i++) {
		for (int c = 0; c < SIGIL_CHECK__COUNT; c++)
			free(r->sigs[i].checks[c].message);
		free(r->sigs[i].signer);
	}
	free(r->sigs);
	free(r->reason);
	free(r->scope);
	free(r->digest);
	free(r->policy_name);
	free(r);
}

SIGIL_EXPORT sigil_verdict sigil_result_verdict(const sigil_result *r) { return r->verdict; }
SIGIL_EXPORT sigil_failure sigil_result_failure(const sigil_result *r) { return r->failure; }
SIGIL_EXPORT const char *sigil_result_reason(const sigil_result *r) { return r->reason; }
SIGIL_EXPORT const char *sigil_result_policy_name(const sigil_result *r) { return r->policy_name; }
SIGIL_EXPORT sigil_level sigil_result_level(const sigil_result *r) { return r->level; }
SIGIL_EXPORT const sigil_descriptor *sigil_result_artifact(const sigil_result *r) { return &r->artifact; }
SIGIL_EXPORT int64_t sigil_result_valid_until(const sigil_result *r) { return r->valid_until; }
SIGIL_EXPORT size_t sigil_result_signature_count(const sigil_result *r) { return r->count; }

SIGIL_EXPORT const sigil_signature_result *sigil_result_signature_get(const sigil_result *r, size_t i)
{
	return i < r->count ? &r->sigs[i] : NULL;
}

SIGIL_EXPORT const char *sigil_failure_name(sigil_failure f)
{
	switch (f) {
	case SIGIL_FAILURE_NONE: return "";
	case SIGIL_FAILURE_NO_POLICY: return "no-policy";
	case SIGIL_FAILURE_NO_SIGNATURE: return "no-signature";
	case SIGIL_FAILURE_RETRIEVAL: return "retrieval";
	case SIGIL_FAILURE_SIGNATURE_MANIFEST: return "signature-manifest";
	case SIGIL_FAILURE_SIGNATURES: return "signatures";
	case SIGIL_FAILURE_LIMIT: return "limit";
	}
	return "unknown";
}

SIGIL_EXPORT const char *sigil_signature_result_digest(const sigil_signature_result *sr) { return sr->digest; }
SIGIL_EXPORT const char *sigil_signature_result_media_type(const sigil_signature_result *sr) { return sr->media_type; }
SIGIL_EXPORT sigil_verdict sigil_signature_result_verdict(const sigil_signature_result *sr) { return sr->verdict; }
SIGIL_EXPORT sigil_check sigil_signature_result_failed_check(const sigil_signature_result *sr) { return sr->failed_check; }
SIGIL_EXPORT const char *sigil_signature_result_signer(const sigil_signature_result *sr) { return sr->signer ? sr->signer : ""; }

SIGIL_EXPORT sigil_outcome sigil_signature_result_outcome(const sigil_signature_result *sr, sigil_check c)
{
	return (unsigned)c < SIGIL_CHECK__COUNT ? sr->checks[c].outcome : SIGIL_OUTCOME_NOT_RUN;
}

SIGIL_EXPORT sigil_action sigil_signature_result_action(const sigil_signature_result *sr, sigil_check c)
{
	return (unsigned)c < SIGIL_CHECK__COUNT ? sr->checks[c].action : SIGIL_ACTION_ENFORCE;
}

SIGIL_EXPORT const char *sigil_signature_result_message(const sigil_signature_result *sr, sigil_check c)
{
	if ((unsigned)c >= SIGIL_CHECK__COUNT || !sr->checks[c].message)
		return "";
	return sr->checks[c].message;
}

SIGIL_EXPORT sigil_category sigil_signature_result_category(const sigil_signature_result *sr, sigil_check c)
{
	return (unsigned)c < SIGIL_CHECK__COUNT ? sr->checks[c].category : SIGIL_ERR_NONE;
}

static const char *outcome_name(sigil_outcome o)
{
	switch (o) {
	case SIGIL_OUTCOME_NOT_RUN: return "not-run";
	case SIGIL_OUTCOME_PASS: return "pass";
	case SIGIL_OUTCOME_FAIL: return "fail";
	case SIGIL_OUTCOME_SKIPPED: return "skipped";
	}
	return "unknown";
}

static int add_str(json_object *o, const char *k, const char *v)
{
	json_object *s = json_object_new_string(v ? v : "");
	return s ? json_object_object_add(o, k, s) : -1;
}

SIGIL_EXPORT sigil_status sigil_result_to_json(const sigil_result *r, char **out, sigil_error *err)
{
	_cleanup_(json_object_putp) json_object *root = json_object_new_object();
	json_object *sigs = json_object_new_array();
	if (!root || !sigs) {
		json_object_put(sigs);
		return sigil__err_oom(err);
	}
	int rc = 0;
	rc |= add_str(root, "verdict", r->verdict == SIGIL_VERDICT_PASS ? "pass" : "fail");
	rc |= add_str(root, "reason", r->reason);
	rc |= add_str(root, "failure", sigil_failure_name(r->failure));
	rc |= add_str(root, "scope", r->scope);
	rc |= add_str(root, "digest", r->digest);
	if (r->has_policy) {
		rc |= add_str(root, "policy", r->policy_name);
		rc |= add_str(root, "level", sigil_level_name(r->level));
	}
	if (r->artifact.digest[0]) {
		json_object *a = json_object_new_object();
		rc |= a ? 0 : -1;
		if (a) {
			rc |= add_str(a, "mediaType", r->artifact.media_type);
			rc |= add_str(a, "digest", r->artifact.digest);
			rc |= json_object_object_add(a, "size", json_object_new_int64(r->artifact.size));
			rc |= json_object_object_add(root, "artifact", a);
		}
	}
	if (r->valid_until != INT64_MAX)
		rc |= json_object_object_add(root, "validUntil", json_object_new_int64(r->valid_until));
	for (size_t i = 0; i < r->count; i++) {
		const sigil_signature_result *sr = &r->sigs[i];
		json_object *s = json_object_new_object();
		json_object *checks = json_object_new_array();
		if (!s || !checks) {
			json_object_put(s);
			json_object_put(checks);
			json_object_put(sigs);
			return sigil__err_oom(err);
		}
		rc |= add_str(s, "digest", sr->digest);
		rc |= add_str(s, "envelopeMediaType", sr->media_type);
		rc |= add_str(s, "verdict", sr->verdict == SIGIL_VERDICT_PASS ? "pass" : "fail");
		rc |= add_str(s, "failedCheck",
			sr->failed_check == SIGIL_CHECK__COUNT ? "" : sigil_check_name(sr->failed_check));
		rc |= add_str(s, "signer", sr->signer);
		for (int c = 0; c < SIGIL_CHECK__COUNT; c++) {
			json_object *co = json_object_new_object();
			if (!co) {
				rc = -1;
				continue;
			}
			rc |= add_str(co, "check", sigil_check_name((sigil_check)c));
			rc |= add_str(co, "outcome", outcome_name(sr->checks[c].outcome));
			rc |= add_str(co, "action", sigil_action_name(sr->checks[c].action));
			if (sr->checks[c].outcome == SIGIL_OUTCOME_FAIL) {
				rc |= add_str(co, "category", sigil_category_name(sr->checks[c].category));
				rc |= add_str(co, "message", sr->checks[c].message);
			}
			rc |= json_object_array_add(checks, co);
		}
		rc |= json_object_object_add(s, "checks", checks);
		rc |= json_object_array_add(sigs, s);
	}
	rc |= json_object_object_add(root, "signatures", sigs);
	if (rc != 0)
		return sigil__err_oom(err);
	const char *text = json_object_to_json_string_ext(root,
		JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
	char *copy = text ? strdup(text) : NULL;
	if (!copy)
		return sigil__err_oom(err);
	*out = copy;
	return SIGIL_STATUS_OK;
}
