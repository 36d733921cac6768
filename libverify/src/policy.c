/* policy.c - the OCI trust policy document: load, decode, validate, select
 * (notary-verification.md §3.3, §3.4, §3.7, §4.1).
 *
 * Decoding follows Go's encoding/json as notation uses it: struct keys match
 * case-insensitively, unknown keys are ignored, JSON null leaves a field
 * absent. Validation does not stop at the first problem (notation does):
 * every problem found is reported in one message, separated by "; ". */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>
#include "cleanup.h"
#include "dn.h"
#include "errors.h"
#include "fileio.h"
#include "jsonutil.h"
#include "bounds.h"
#include "policy_internal.h"
#include "quote.h"

#define POLICY_LINK "https://notaryproject.dev/docs/quickstart/#create-a-trust-policy"

/* ---- names ---------------------------------------------------------- */

SIGIL_EXPORT const char *sigil_level_name(sigil_level level)
{
	switch (level) {
	case SIGIL_LEVEL_STRICT: return "strict";
	case SIGIL_LEVEL_PERMISSIVE: return "permissive";
	case SIGIL_LEVEL_AUDIT: return "audit";
	case SIGIL_LEVEL_SKIP: return "skip";
	}
	return "unknown";
}

SIGIL_EXPORT const char *sigil_action_name(sigil_action action)
{
	switch (action) {
	case SIGIL_ACTION_ENFORCE: return "enforce";
	case SIGIL_ACTION_LOG: return "log";
	case SIGIL_ACTION_SKIP: return "skip";
	}
	return "unknown";
}

SIGIL_EXPORT const char *sigil_check_name(sigil_check check)
{
	switch (check) {
	case SIGIL_CHECK_INTEGRITY: return "integrity";
	case SIGIL_CHECK_AUTHENTICITY: return "authenticity";
	case SIGIL_CHECK_TRUSTED_IDENTITY: return "trusted-identity";
	case SIGIL_CHECK_EXPIRY: return "expiry";
	case SIGIL_CHECK_AUTHENTIC_TIMESTAMP: return "authentic-timestamp";
	case SIGIL_CHECK_REVOCATION: return "revocation";
	case SIGIL_CHECK_PLUGIN: return "plugin";
	case SIGIL_CHECK_USER_METADATA: return "user-metadata";
	case SIGIL_CHECK__COUNT: break;
	}
	return "unknown";
}

/* ---- small helpers ---------------------------------------------------- */


/* Every problem found, "; "-separated. Past the buffer only the count
 * grows: the final message is cut to SIGIL_ERROR_MESSAGE_MAX anyway. */
typedef struct problems {
	char buf[4 * SIGIL_ERROR_MESSAGE_MAX];
	size_t len;
	size_t count;
} problems;

static void problem_add(problems *p, const char *fmt, ...) SIGIL__PRINTF(2, 3);
static void problem_add(problems *p, const char *fmt, ...)
{
	p->count++;
	if (p->len + 3 >= sizeof p->buf)
		return;
	if (p->len > 0) {
		memcpy(p->buf + p->len, "; ", 2);
		p->len += 2;
	}
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(p->buf + p->len, sizeof p->buf - p->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	p->len += (size_t)n;
	if (p->len >= sizeof p->buf)
		p->len = sizeof p->buf - 1;
	p->buf[p->len] = '\0';
}

/* Go's strings.EqualFold for an ASCII field name: ASCII letters fold, and
 * so do U+017F (long s, folds to 's') and U+212A (Kelvin sign, 'k'), as in
 * encoding/json's case-insensitive key matching. */
static bool key_is(const char *key, const char *field)
{
	const unsigned char *k = (const unsigned char *)key;
	for (; *field; field++) {
		unsigned char f = (unsigned char)*field;
		bool letter = (f | 0x20) >= 'a' && (f | 0x20) <= 'z';
		if (letter && (f | 0x20) == 's' && k[0] == 0xc5 && k[1] == 0xbf) {
			k += 2;
			continue;
		}
		if (letter && (f | 0x20) == 'k' && k[0] == 0xe2 && k[1] == 0x84 && k[2] == 0xaa) {
			k += 3;
			continue;
		}
		if (letter ? (k[0] | 0x20) != (f | 0x20) : k[0] != f)
			return false;
		k++;
	}
	return *k == '\0';
}

static char *xstrdup(const char *s)
{
	return strdup(s ? s : "");
}

/* ---- decoding (Go encoding/json semantics) -------------------------------- */

typedef struct raw_strings {
	const char **v; /* borrowed from the json tree; NULL element = "" */
	size_t n;
} raw_strings;

typedef struct raw_override {
	const char *key;
	const char *value;
} raw_override;

typedef struct raw_statement {
	const char *name;
	raw_strings scopes, stores, identities;
	const char *level;
	const char *verify_ts;
	raw_override *ov;
	size_t ov_n;
} raw_statement;

typedef struct raw_policy {
	const char *version;
	raw_statement *st;
	size_t n;
} raw_policy;

static void raw_statement_clear(raw_statement *s)
{
	free(s->scopes.v);
	free(s->stores.v);
	free(s->identities.v);
	free(s->ov);
	memset(s, 0, sizeof *s);
}

static void raw_policy_clear(raw_policy *p)
{
	for (size_t i = 0; i < p->n; i++)
		raw_statement_clear(&p->st[i]);
	free(p->st);
	memset(p, 0, sizeof *p);
}

static sigil_status malformed(sigil_error *err, const char *where, const char *what)
{
	return sigil__err(err, SIGIL_ERR_MALFORMED, "malformed trust policy: %s: expected %s", where,
		what);
}

/* A string field: null leaves the previous value (Go: null into a string
 * is a no-op). */
static sigil_status dec_string(json_object *v, const char **out, const char *where, sigil_error *err)
{
	if (!v)
		return SIGIL_STATUS_OK;
	if (!json_object_is_type(v, json_type_string))
		return malformed(err, where, "a string");
	*out = json_object_get_string(v);
	return SIGIL_STATUS_OK;
}

/* A []string field: null resets it, an array replaces it; a null element
 * is "" (Go: null into a string element is a no-op on the zero value). */
static sigil_status dec_strings(json_object *v, raw_strings *out, const char *where, sigil_error *err)
{
	if (!v) {
		free(out->v);
		out->v = NULL;
		out->n = 0;
		return SIGIL_STATUS_OK;
	}
	if (!json_object_is_type(v, json_type_array))
		return malformed(err, where, "an array of strings");
	size_t n = json_object_array_length(v);
	if (n > SIGIL_MAX_POLICY_LIST)
		return sigil__err(err, SIGIL_ERR_LIMIT, "trust policy: %s has %zu entries, the limit is %u",
			where, n, (unsigned)SIGIL_MAX_POLICY_LIST);
	const char **items = calloc(n ? n : 1, sizeof *items);
	if (!items)
		return sigil__err_oom(err);
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(v, i);
		if (e && !json_object_is_type(e, json_type_string)) {
			free(items);
			return malformed(err, where, "an array of strings");
		}
		items[i] = e ? json_object_get_string(e) : "";
	}
	free(out->v);
	out->v = items;
	out->n = n;
	return SIGIL_STATUS_OK;
}

/* map[string]string: null resets it; an object is merged into the existing
 * map, the later value of a key winning (Go decodes into a non-nil map). */
static sigil_status dec_override(json_object *v, raw_statement *st, const char *where, sigil_error *err)
{
	if (!v) {
		free(st->ov);
		st->ov = NULL;
		st->ov_n = 0;
		return SIGIL_STATUS_OK;
	}
	if (!json_object_is_type(v, json_type_object))
		return malformed(err, where, "an object of strings");
	struct json_object_iterator it = json_object_iter_begin(v);
	struct json_object_iterator end = json_object_iter_end(v);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *k = json_object_iter_peek_name(&it);
		json_object *e = json_object_iter_peek_value(&it);
		const char *val = "";
		if (e && !json_object_is_type(e, json_type_string))
			return malformed(err, where, "an object of strings");
		if (e)
			val = json_object_get_string(e);
		size_t j;
		for (j = 0; j < st->ov_n; j++)
			if (strcmp(st->ov[j].key, k) == 0)
				break;
		if (j == st->ov_n) {
			if (st->ov_n >= SIGIL_MAX_POLICY_LIST)
				return sigil__err(err, SIGIL_ERR_LIMIT,
					"trust policy: %s has more than %u entries", where,
					(unsigned)SIGIL_MAX_POLICY_LIST);
			raw_override *grown = realloc(st->ov, (st->ov_n + 1) * sizeof *grown);
			if (!grown)
				return sigil__err_oom(err);
			st->ov = grown;
			st->ov_n++;
			st->ov[j].key = k;
		}
		st->ov[j].value = val;
	}
	return SIGIL_STATUS_OK;
}

/* signatureVerification is a struct in notation (not a pointer): null is a
 * no-op and a repeated (case-variant) key decodes into the same struct. */
static sigil_status dec_sigver(json_object *v, raw_statement *st, const char *where, sigil_error *err)
{
	char w[96];
	if (!v)
		return SIGIL_STATUS_OK;
	if (!json_object_is_type(v, json_type_object))
		return malformed(err, where, "an object");
	struct json_object_iterator it = json_object_iter_begin(v);
	struct json_object_iterator end = json_object_iter_end(v);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *k = json_object_iter_peek_name(&it);
		json_object *e = json_object_iter_peek_value(&it);
		if (key_is(k, "level")) {
			snprintf(w, sizeof w, "%s.level", where);
			SIGIL_TRY(dec_string(e, &st->level, w, err));
		} else if (key_is(k, "override")) {
			snprintf(w, sizeof w, "%s.override", where);
			SIGIL_TRY(dec_override(e, st, w, err));
		} else if (key_is(k, "verifyTimestamp")) {
			snprintf(w, sizeof w, "%s.verifyTimestamp", where);
			SIGIL_TRY(dec_string(e, &st->verify_ts, w, err));
		}
	}
	return SIGIL_STATUS_OK;
}

static sigil_status dec_statement(json_object *v, raw_statement *st, size_t idx, sigil_error *err)
{
	char where[64], w[96];
	snprintf(where, sizeof where, "trustPolicies[%zu]", idx);
	if (!v)
		return SIGIL_STATUS_OK;
	if (!json_object_is_type(v, json_type_object))
		return malformed(err, where, "an object");
	struct json_object_iterator it = json_object_iter_begin(v);
	struct json_object_iterator end = json_object_iter_end(v);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *k = json_object_iter_peek_name(&it);
		json_object *e = json_object_iter_peek_value(&it);
		if (key_is(k, "name")) {
			snprintf(w, sizeof w, "%s.name", where);
			SIGIL_TRY(dec_string(e, &st->name, w, err));
		} else if (key_is(k, "registryScopes")) {
			snprintf(w, sizeof w, "%s.registryScopes", where);
			SIGIL_TRY(dec_strings(e, &st->scopes, w, err));
		} else if (key_is(k, "signatureVerification")) {
			snprintf(w, sizeof w, "%s.signatureVerification", where);
			SIGIL_TRY(dec_sigver(e, st, w, err));
		} else if (key_is(k, "trustStores")) {
			snprintf(w, sizeof w, "%s.trustStores", where);
			SIGIL_TRY(dec_strings(e, &st->stores, w, err));
		} else if (key_is(k, "trustedIdentities")) {
			snprintf(w, sizeof w, "%s.trustedIdentities", where);
			SIGIL_TRY(dec_strings(e, &st->identities, w, err));
		}
	}
	return SIGIL_STATUS_OK;
}

static sigil_status dec_statements(json_object *v, raw_policy *p, sigil_error *err)
{
	for (size_t i = 0; i < p->n; i++)
		raw_statement_clear(&p->st[i]);
	free(p->st);
	p->st = NULL;
	p->n = 0;
	if (!v)
		return SIGIL_STATUS_OK;
	if (!json_object_is_type(v, json_type_array))
		return malformed(err, "trustPolicies", "an array of objects");
	size_t n = json_object_array_length(v);
	if (n > SIGIL_MAX_POLICY_STATEMENTS)
		return sigil__err(err, SIGIL_ERR_LIMIT,
			"trust policy has %zu statements, the limit is %u", n,
			(unsigned)SIGIL_MAX_POLICY_STATEMENTS);
	p->st = calloc(n ? n : 1, sizeof *p->st);
	if (!p->st)
		return sigil__err_oom(err);
	p->n = n;
	for (size_t i = 0; i < n; i++)
		SIGIL_TRY(dec_statement(json_object_array_get_idx(v, i), &p->st[i], i, err));
	return SIGIL_STATUS_OK;
}

static sigil_status dec_policy(json_object *root, raw_policy *p, sigil_error *err)
{
	struct json_object_iterator it = json_object_iter_begin(root);
	struct json_object_iterator end = json_object_iter_end(root);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *k = json_object_iter_peek_name(&it);
		json_object *e = json_object_iter_peek_value(&it);
		if (key_is(k, "version"))
			SIGIL_TRY(dec_string(e, &p->version, "version", err));
		else if (key_is(k, "trustPolicies"))
			SIGIL_TRY(dec_statements(e, p, err));
	}
	return SIGIL_STATUS_OK;
}

/* ---- validation rules (§3.4) ------------------------------------------ */

static void statement_clear(sigil_policy_statement *st)
{
	free(st->name);
	for (size_t i = 0; i < st->scope_count; i++)
		free(st->scopes[i]);
	free(st->scopes);
	for (size_t i = 0; i < st->store_count; i++)
		free(st->stores[i].name);
	free(st->stores);
	for (size_t i = 0; i < st->identity_count; i++) {
		sigil__dn_clear(&st->identities[i]);
		free(st->identity_strings[i]);
	}
	free(st->identities);
	free(st->identity_strings);
	memset(st, 0, sizeof *st);
}

SIGIL_EXPORT void sigil_policy_free(sigil_policy *policy)
{
	if (!policy)
		return;
	for (size_t i = 0; i < policy->count; i++)
		statement_clear(&policy->statements[i]);
	free(policy->statements);
	free(policy->path);
	free(policy);
}

static void sigil_policy_freep(sigil_policy **p)
{
	sigil_policy_free(*p);
}

/* Store types of notary-verification.md §3.2; kept here (rather than
 * truststore.c's parser) so policy validation stands on its own. */
static bool store_type_from(const char *s, size_t len, sigil__store_type *out)
{
	static const struct {
		const char *name;
		sigil__store_type type;
	} types[] = {
		{ "ca", SIGIL_STORE_CA },
		{ "signingAuthority", SIGIL_STORE_SIGNING_AUTHORITY },
		{ "tsa", SIGIL_STORE_TSA },
	};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strlen(types[i].name) == len && memcmp(types[i].name, s, len) == 0) {
			*out = types[i].type;
			return true;
		}
	return false;
}

/* ^[a-zA-Z0-9_.-]+$ (notation-go file.IsValidFileName). "." and ".." match
 * the expression but would name the type directory or its parent, so they
 * are refused too. */
static bool store_name_valid(const char *s)
{
	if (!*s || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* §3.4 domain regex:
 *   ^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])
 *    (?:(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))+)?(?::[0-9]+)?$
 * i.e. dot-separated labels of alphanumerics and inner hyphens, then an
 * optional ":<digits>". */
static bool scope_domain_valid(const char *s, size_t len)
{
	size_t i = 0;
	for (;;) {
		size_t start = i;
		while (i < len && (is_alnum(s[i]) || s[i] == '-'))
			i++;
		if (i == start || s[start] == '-' || s[i - 1] == '-')
			return false;
		if (i < len && s[i] == '.') {
			i++;
			continue;
		}
		break;
	}
	if (i == len)
		return true;
	if (s[i] != ':')
		return false;
	i++;
	if (i == len)
		return false;
	for (; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* §3.4 repository regex: '/'-separated path components, each
 *   [a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*
 * i.e. lower-case alphanumeric runs joined by ".", "_", "__" or any number
 * of "-" (the separator may also be empty, which changes nothing). */
static bool scope_repository_valid(const char *s, size_t len)
{
	size_t i = 0;
	for (;;) {
		/* one component */
		if (i >= len || !is_lower_alnum(s[i]))
			return false;
		for (;;) {
			while (i < len && is_lower_alnum(s[i]))
				i++;
			if (i == len || s[i] == '/')
				break;
			size_t sep = i;
			while (i < len && !is_lower_alnum(s[i]) && s[i] != '/')
				i++;
			size_t seplen = i - sep;
			bool ok = false;
			if (seplen == 1 && (s[sep] == '.' || s[sep] == '_'))
				ok = true;
			else if (seplen == 2 && s[sep] == '_' && s[sep + 1] == '_')
				ok = true;
			else {
				ok = true;
				for (size_t k = sep; k < i; k++)
					if (s[k] != '-')
						ok = false;
			}
			if (!ok || i == len || !is_lower_alnum(s[i]))
				return false;
		}
		if (i == len)
			return true;
		i++; /* '/' */
	}
}

#define SCOPE_HINT "make sure it is a fully qualified repository without the scheme, protocol or " \
	"tag. For example domain.com/my/repository or a local scoped registry in the form of " \
	"localhost:5000/my/repository"

/* notation-go validateRegistryScopeFormat. Returns NULL or the problem. */
static const char *scope_problem(const char *scope)
{
	if (strlen(scope) > 1 && strchr(scope, '*'))
		return "with wild card(s) is not valid, " SCOPE_HINT;
	const char *slash = strchr(scope, '/');
	if (!slash || slash == scope || slash[1] == '\0' ||
	    !scope_domain_valid(scope, (size_t)(slash - scope)) ||
	    !scope_repository_valid(slash + 1, strlen(slash + 1)))
		return "is not valid, " SCOPE_HINT;
	return NULL;
}

static const char *const override_types[] = {
	"integrity", "authenticity", "authenticTimestamp", "expiry", "revocation",
};

/* §4.1 table: base actions for authenticity, authenticTimestamp, expiry,
 * revocation. */
static void level_actions(sigil_level level, sigil_action a[SIGIL_CHECK__COUNT])
{
	static const sigil_action table[4][4] = {
		/* authenticity, authenticTimestamp, expiry, revocation */
		[SIGIL_LEVEL_STRICT] = { SIGIL_ACTION_ENFORCE, SIGIL_ACTION_ENFORCE,
					 SIGIL_ACTION_ENFORCE, SIGIL_ACTION_ENFORCE },
		[SIGIL_LEVEL_PERMISSIVE] = { SIGIL_ACTION_ENFORCE, SIGIL_ACTION_LOG,
					     SIGIL_ACTION_LOG, SIGIL_ACTION_LOG },
		[SIGIL_LEVEL_AUDIT] = { SIGIL_ACTION_LOG, SIGIL_ACTION_LOG, SIGIL_ACTION_LOG,
					SIGIL_ACTION_LOG },
		[SIGIL_LEVEL_SKIP] = { SIGIL_ACTION_SKIP, SIGIL_ACTION_SKIP, SIGIL_ACTION_SKIP,
				       SIGIL_ACTION_SKIP },
	};
	if (level == SIGIL_LEVEL_SKIP) {
		for (size_t i = 0; i < SIGIL_CHECK__COUNT; i++)
			a[i] = SIGIL_ACTION_SKIP;
		return;
	}
	a[SIGIL_CHECK_INTEGRITY] = SIGIL_ACTION_ENFORCE;
	a[SIGIL_CHECK_AUTHENTICITY] = table[level][0];
	a[SIGIL_CHECK_AUTHENTIC_TIMESTAMP] = table[level][1];
	a[SIGIL_CHECK_EXPIRY] = table[level][2];
	a[SIGIL_CHECK_REVOCATION] = table[level][3];
	a[SIGIL_CHECK_PLUGIN] = SIGIL_ACTION_ENFORCE;
	a[SIGIL_CHECK_USER_METADATA] = SIGIL_ACTION_ENFORCE;
	a[SIGIL_CHECK_TRUSTED_IDENTITY] = a[SIGIL_CHECK_AUTHENTICITY];
}

/* §3.4 rule 3.3: level and override. Fills st->level/actions/has_overrides. */
static void check_sigver(const raw_statement *r, sigil_policy_statement *st, const char *label,
	problems *p)
{
	sigil__quoted q;
	const char *pre = "trust policy statement";
	const char *lv = r->level ? r->level : "";
	bool level_ok = true;
	st->level = SIGIL_LEVEL_STRICT;
	if (lv[0] == '\0') {
		problem_add(p, "%s %s has invalid signatureVerification: signature verification level "
			"is empty or missing in the trust policy statement", pre, label);
		level_ok = false;
	} else if (strcmp(lv, "strict") == 0) {
		st->level = SIGIL_LEVEL_STRICT;
	} else if (strcmp(lv, "permissive") == 0) {
		st->level = SIGIL_LEVEL_PERMISSIVE;
	} else if (strcmp(lv, "audit") == 0) {
		st->level = SIGIL_LEVEL_AUDIT;
	} else if (strcmp(lv, "skip") == 0) {
		st->level = SIGIL_LEVEL_SKIP;
	} else {
		problem_add(p, "%s %s has invalid signatureVerification: invalid signature verification "
			"level %s", pre, label, sigil__quote_str(&q, lv));
		level_ok = false;
	}
	level_actions(st->level, st->actions);
	st->has_overrides = r->ov_n > 0;
	if (r->ov_n == 0)
		return;
	if (level_ok && st->level == SIGIL_LEVEL_SKIP) {
		problem_add(p, "%s %s has invalid signatureVerification: signature verification level "
			"\"skip\" can't be used to customize signature verification", pre, label);
		return;
	}
	for (size_t i = 0; i < r->ov_n; i++) {
		const char *k = r->ov[i].key, *v = r->ov[i].value;
		size_t t;
		for (t = 0; t < sizeof override_types / sizeof override_types[0]; t++)
			if (strcmp(k, override_types[t]) == 0)
				break;
		if (t == sizeof override_types / sizeof override_types[0]) {
			problem_add(p, "%s %s has invalid signatureVerification: verification type %s in "
				"custom signature verification is not supported, supported values are "
				"[\"integrity\" \"authenticity\" \"authenticTimestamp\" \"expiry\" "
				"\"revocation\"]", pre, label, sigil__quote_str(&q, k));
			continue;
		}
		sigil_action a;
		if (strcmp(v, "enforce") == 0)
			a = SIGIL_ACTION_ENFORCE;
		else if (strcmp(v, "log") == 0)
			a = SIGIL_ACTION_LOG;
		else if (strcmp(v, "skip") == 0)
			a = SIGIL_ACTION_SKIP;
		else {
			problem_add(p, "%s %s has invalid signatureVerification: verification action %s in "
				"custom signature verification is not supported, supported values are "
				"[\"enforce\" \"log\" \"skip\"]", pre, label, sigil__quote_str(&q, v));
			continue;
		}
		if (t == 0) {
			problem_add(p, "%s %s has invalid signatureVerification: \"integrity\" verification "
				"can not be overridden in custom signature verification", pre, label);
			continue;
		}
		if (a == SIGIL_ACTION_SKIP && strcmp(k, "revocation") != 0) {
			problem_add(p, "%s %s has invalid signatureVerification: %s verification can not "
				"be skipped in custom signature verification", pre, label, sigil__quote_str(&q, k));
			continue;
		}
		if (strcmp(k, "authenticity") == 0) {
			st->actions[SIGIL_CHECK_AUTHENTICITY] = a;
			/* trusted identity follows authenticity (notation) */
			st->actions[SIGIL_CHECK_TRUSTED_IDENTITY] = a;
		} else if (strcmp(k, "authenticTimestamp") == 0) {
			st->actions[SIGIL_CHECK_AUTHENTIC_TIMESTAMP] = a;
		} else if (strcmp(k, "expiry") == 0) {
			st->actions[SIGIL_CHECK_EXPIRY] = a;
		} else {
			st->actions[SIGIL_CHECK_REVOCATION] = a;
		}
	}
}

/* §3.4 rule 3.6: trustStores entries "type:name", de-duplicated. */
static sigil_status check_stores(const raw_statement *r, sigil_policy_statement *st,
	const char *label, problems *p, sigil_error *err)
{
	sigil__quoted q1, q2;
	st->stores = calloc(r->stores.n ? r->stores.n : 1, sizeof *st->stores);
	if (!st->stores)
		return sigil__err_oom(err);
	for (size_t i = 0; i < r->stores.n; i++) {
		const char *v = r->stores.v[i];
		const char *colon = strchr(v, ':');
		if (!colon) {
			problem_add(p, "trust policy statement %s has malformed trust store value %s. The "
				"required format is <TrustStoreType>:<TrustStoreName>", label, sigil__quote_str(&q1, v));
			continue;
		}
		sigil__store_type type;
		if (!store_type_from(v, (size_t)(colon - v), &type)) {
			char *t = strndup(v, (size_t)(colon - v));
			if (!t)
				return sigil__err_oom(err);
			problem_add(p, "trust policy statement %s uses an unsupported trust store type %s in "
				"trust store value %s", label, sigil__quote_str(&q1, t), sigil__quote_str(&q2, v));
			free(t);
			continue;
		}
		const char *name = colon + 1;
		if (!store_name_valid(name)) {
			problem_add(p, "trust policy statement %s uses an unsupported trust store name %s in "
				"trust store value %s. Named store name needs to follow [a-zA-Z0-9_.-]+ format "
				"(and cannot be \".\" or \"..\")", label, sigil__quote_str(&q1, name), sigil__quote_str(&q2, v));
			continue;
		}
		bool dup = false;
		for (size_t j = 0; j < st->store_count && !dup; j++)
			dup = st->stores[j].type == type && strcmp(st->stores[j].name, name) == 0;
		if (dup)
			continue;
		st->stores[st->store_count].name = strdup(name);
		if (!st->stores[st->store_count].name)
			return sigil__err_oom(err);
		st->stores[st->store_count].type = type;
		st->store_count++;
	}
	return SIGIL_STATUS_OK;
}

/* §3.4 rule 3.6: trustedIdentities, §3.5 DN syntax, no overlaps. */
static sigil_status check_identities(const raw_statement *r, sigil_policy_statement *st,
	const char *label, problems *p, sigil_error *err)
{
	sigil__quoted q1, q2;
	size_t n = r->identities.n;
	st->identities = calloc(n ? n : 1, sizeof *st->identities);
	st->identity_strings = calloc(n ? n : 1, sizeof *st->identity_strings);
	if (!st->identities || !st->identity_strings)
		return sigil__err_oom(err);
	bool has_wildcard = false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(r->identities.v[i], "*") == 0)
			has_wildcard = true;
	if (has_wildcard && n > 1)
		problem_add(p, "trust policy statement %s uses a wildcard trusted identity '*', a wildcard "
			"identity cannot be used in conjunction with other values", label);
	st->identity_wildcard = has_wildcard && n == 1;
	for (size_t i = 0; i < n; i++) {
		const char *v = r->identities.v[i];
		if (v[0] == '\0') {
			problem_add(p, "trust policy statement %s has an empty trusted identity", label);
			continue;
		}
		if (strcmp(v, "*") == 0)
			continue;
		const char *colon = strchr(v, ':');
		if (!colon) {
			problem_add(p, "trust policy statement %s has trusted identity %s missing separator",
				label, sigil__quote_str(&q1, v));
			continue;
		}
		/* notation natively understands x509.subject only; other
		 * prefixes are kept for plugins (§3.4) */
		if ((size_t)(colon - v) != strlen("x509.subject") ||
		    memcmp(v, "x509.subject", strlen("x509.subject")) != 0) {
			st->other_identity_count++;
			continue;
		}
		const char *value = colon + 1;
		if (value[0] == '\0') {
			problem_add(p, "trust policy statement %s has trusted identity %s without an "
				"identity value", label, sigil__quote_str(&q1, v));
			continue;
		}
		sigil_error derr = SIGIL_ERROR_INIT;
		sigil__dn dn;
		if (sigil__dn_parse(value, strlen(value), &dn, &derr) != SIGIL_STATUS_OK) {
			if (derr.category == SIGIL_ERR_INTERNAL)
				return sigil__err_oom(err);
			problem_add(p, "trust policy statement %s has trusted identity %s with invalid "
				"identity value: %s", label, sigil__quote_str(&q1, v), derr.message);
			continue;
		}
		char *copy = strdup(v);
		if (!copy) {
			sigil__dn_clear(&dn);
			return sigil__err_oom(err);
		}
		st->identities[st->identity_count] = dn;
		st->identity_strings[st->identity_count] = copy;
		st->identity_count++;
	}
	/* notation-go validateOverlappingDNs: A overlaps B when A's attributes
	 * are a subset of B's; each pair is reported once. */
	for (size_t i = 0; i < st->identity_count; i++)
		for (size_t j = i + 1; j < st->identity_count; j++) {
			size_t a = i, b = j;
			if (!sigil__dn_is_subset(&st->identities[i], &st->identities[j])) {
				if (!sigil__dn_is_subset(&st->identities[j], &st->identities[i]))
					continue;
				a = j;
				b = i;
			}
			problem_add(p, "trust policy statement %s has overlapping x509 trustedIdentities, %s "
				"overlaps with %s", label, sigil__quote_str(&q1, st->identity_strings[a]),
				sigil__quote_str(&q2, st->identity_strings[b]));
		}
	return SIGIL_STATUS_OK;
}

/* §3.4 rule 4 (per statement part): registryScopes. */
static sigil_status check_scopes(const raw_statement *r, sigil_policy_statement *st,
	const char *label, problems *p, sigil_error *err)
{
	sigil__quoted q;
	size_t n = r->scopes.n;
	st->scopes = calloc(n ? n : 1, sizeof *st->scopes);
	if (!st->scopes)
		return sigil__err_oom(err);
	if (n == 0)
		problem_add(p, "trust policy statement %s has zero registry scopes, it must specify "
			"registry scopes with at least one value", label);
	bool has_wildcard = false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(r->scopes.v[i], "*") == 0)
			has_wildcard = true;
	if (has_wildcard && n > 1)
		problem_add(p, "trust policy statement %s uses wildcard registry scope '*', a wildcard "
			"scope cannot be used in conjunction with other scope values", label);
	st->wildcard_scope = has_wildcard && n == 1;
	for (size_t i = 0; i < n; i++) {
		const char *v = r->scopes.v[i];
		if (strcmp(v, "*") != 0) {
			const char *why = scope_problem(v);
			if (why)
				problem_add(p, "trust policy statement %s: registry scope %s %s", label,
					sigil__quote_str(&q, v), why);
		}
		st->scopes[i] = strdup(v);
		if (!st->scopes[i])
			return sigil__err_oom(err);
		st->scope_count++;
	}
	/* notary-verification.md §8 row 8: the spec forbids "skip" on the
	 * global scope (notation allows it); we follow the spec. */
	if (has_wildcard && st->level == SIGIL_LEVEL_SKIP)
		problem_add(p, "trust policy statement %s uses signature verification level \"skip\" "
			"with the wildcard registry scope '*', which is not allowed: skipping verification "
			"must be scoped to specific repositories", label);
	return SIGIL_STATUS_OK;
}

typedef struct scope_ref {
	const char *scope;
	size_t stmt;
} scope_ref;

static int scope_ref_cmp(const void *a, const void *b)
{
	const scope_ref *x = a, *y = b;
	int c = strcmp(x->scope, y->scope);
	if (c)
		return c;
	return x->stmt < y->stmt ? -1 : x->stmt > y->stmt;
}

/* §3.4 rule 4: no scope string in more than one place (notation counts
 * every occurrence, so a scope repeated inside one statement also
 * trips it). */
static sigil_status check_scope_uniqueness(const sigil_policy *pol, problems *p, sigil_error *err)
{
	sigil__quoted q;
	size_t total = 0;
	for (size_t i = 0; i < pol->count; i++)
		total += pol->statements[i].scope_count; /* <= 1024 * 1024 */
	if (total < 2)
		return SIGIL_STATUS_OK;
	scope_ref *refs = calloc(total, sizeof *refs);
	if (!refs)
		return sigil__err_oom(err);
	size_t k = 0;
	for (size_t i = 0; i < pol->count; i++)
		for (size_t j = 0; j < pol->statements[i].scope_count; j++) {
			refs[k].scope = pol->statements[i].scopes[j];
			refs[k].stmt = i;
			k++;
		}
	qsort(refs, total, sizeof *refs, scope_ref_cmp);
	for (size_t i = 0; i + 1 < total; i++) {
		if (strcmp(refs[i].scope, refs[i + 1].scope) != 0)
			continue;
		problem_add(p, "registry scope %s is present in multiple trust policy statements, one "
			"registry scope value can only be associated with one statement",
			sigil__quote_str(&q, refs[i].scope));
		while (i + 1 < total && strcmp(refs[i].scope, refs[i + 1].scope) == 0)
			i++;
	}
	free(refs);
	return SIGIL_STATUS_OK;
}

static void make_label(char *buf, size_t size, const char *name, size_t idx)
{
	if (name && name[0]) {
		sigil__quoted q;
		snprintf(buf, size, "%s", sigil__quote_str(&q, name));
	} else {
		snprintf(buf, size, "#%zu (unnamed)", idx + 1);
	}
}

static sigil_status validate(const raw_policy *r, sigil_policy *pol, problems *p, sigil_error *err)
{
	sigil__quoted q;
	/* §3.4 rule 1 */
	if (!r->version || r->version[0] == '\0')
		problem_add(p, "trust policy document has empty version, version must be specified");
	else if (strcmp(r->version, "1.0") != 0)
		problem_add(p, "trust policy document uses unsupported version %s", sigil__quote_str(&q, r->version));
	/* rule 2 */
	if (r->n == 0)
		problem_add(p, "trust policy document can not have zero trust policy statements");

	pol->statements = calloc(r->n ? r->n : 1, sizeof *pol->statements);
	if (!pol->statements)
		return sigil__err_oom(err);
	for (size_t i = 0; i < r->n; i++) {
		const raw_statement *rs = &r->st[i];
		sigil_policy_statement *st = &pol->statements[i];
		pol->count++;
		char label[640];
		make_label(label, sizeof label, rs->name, i);
		st->name = xstrdup(rs->name);
		if (!st->name)
			return sigil__err_oom(err);

		/* rule 3.1, 3.2 */
		if (st->name[0] == '\0') {
			problem_add(p, "a trust policy statement (#%zu) is missing a name, every statement "
				"requires a name", i + 1);
		} else {
			/* reported once per name, at its second use */
			size_t earlier = 0;
			for (size_t j = 0; j < i; j++)
				if (strcmp(pol->statements[j].name, st->name) == 0)
					earlier++;
			if (earlier == 1)
				problem_add(p, "multiple trust policy statements use the same name %s, "
					"statement names must be unique", label);
		}
		/* rule 3.3 */
		check_sigver(rs, st, label, p);
		/* rule 3.4 */
		const char *vt = rs->verify_ts ? rs->verify_ts : "";
		if (vt[0] == '\0' || strcmp(vt, "always") == 0) {
			st->verify_timestamp = SIGIL_VERIFY_TIMESTAMP_ALWAYS;
		} else if (strcmp(vt, "afterCertExpiry") == 0) {
			st->verify_timestamp = SIGIL_VERIFY_TIMESTAMP_AFTER_CERT_EXPIRY;
		} else {
			problem_add(p, "trust policy statement %s has invalid signatureVerification: "
				"verifyTimestamp must be \"always\" or \"afterCertExpiry\", but got %s",
				label, sigil__quote_str(&q, vt));
		}
		/* rules 3.5, 3.6 */
		bool skip = rs->level && strcmp(rs->level, "skip") == 0;
		if (skip) {
			if (rs->stores.n > 0 || rs->identities.n > 0)
				problem_add(p, "trust policy statement %s is set to skip signature verification "
					"but configured with trust stores and/or trusted identities, remove them "
					"if signature verification needs to be skipped", label);
		} else if (rs->stores.n == 0 || rs->identities.n == 0) {
			problem_add(p, "trust policy statement %s is either missing trust stores or trusted "
				"identities, both must be specified", label);
		}
		if (!skip) {
			SIGIL_TRY(check_stores(rs, st, label, p, err));
			SIGIL_TRY(check_identities(rs, st, label, p, err));
		}
		/* rule 4, per statement */
		SIGIL_TRY(check_scopes(rs, st, label, p, err));
	}
	return check_scope_uniqueness(pol, p, err);
}

/* ---- public API ----------------------------------------------------- */

SIGIL_EXPORT sigil_status sigil_policy_parse(sigil_policy **out, const uint8_t *buf, size_t len,
	sigil_error *err)
{
	if (!out || (!buf && len))
		return sigil__err(err, SIGIL_ERR_USAGE, "sigil_policy_parse: NULL argument");
	if (len > SIGIL_MAX_POLICY_SIZE)
		return sigil__err(err, SIGIL_ERR_LIMIT, "trust policy is %zu bytes, the limit is %u", len,
			(unsigned)SIGIL_MAX_POLICY_SIZE);
	_cleanup_(json_object_putp) json_object *root = NULL;
	/* jsonutil prefixes its message with "malformed trust policy: " */
	if (sigil__json_parse_object(buf ? buf : (const uint8_t *)"", len, "malformed trust policy",
		    &root, err) != SIGIL_STATUS_OK)
		return SIGIL_STATUS_ERROR;
	raw_policy raw = { 0 };
	if (dec_policy(root, &raw, err) != SIGIL_STATUS_OK) {
		raw_policy_clear(&raw);
		return SIGIL_STATUS_ERROR;
	}
	_cleanup_(sigil_policy_freep) sigil_policy *pol = calloc(1, sizeof *pol);
	if (!pol) {
		raw_policy_clear(&raw);
		return sigil__err_oom(err);
	}
	problems *p = calloc(1, sizeof *p);
	if (!p) {
		raw_policy_clear(&raw);
		return sigil__err_oom(err);
	}
	sigil_status rc = validate(&raw, pol, p, err);
	raw_policy_clear(&raw);
	if (rc != SIGIL_STATUS_OK) {
		free(p);
		return rc;
	}
	if (p->count > 0) {
		sigil__err(err, SIGIL_ERR_POLICY, "trust policy: %s", p->buf);
		free(p);
		return SIGIL_STATUS_ERROR;
	}
	free(p);
	*out = TAKE_PTR(pol);
	return SIGIL_STATUS_OK;
}

static int err_not_regular(sigil_error *err)
{
	sigil__err(err, SIGIL_ERR_POLICY, "trust policy is not a regular file (symlinks are not "
		"supported). To create a trust policy, see: " POLICY_LINK);
	return -1;
}

/* Opens a candidate policy file. Returns 1 when it does not exist, 0 with
 * the contents in *data and *len, -1 on error (err set). §3.3 "Loading":
 * a symlink (dangling or not) or anything but a regular file is refused,
 * not skipped; O_NOFOLLOW makes the open itself refuse the symlink, so
 * nothing can be swapped in between a check and the open. */
static int read_policy_file(const char *path, uint8_t **data, size_t *len, sigil_error *err)
{
	sigil__file_why why;
	if (sigil__file_read(path, "trust policy", SIGIL_MAX_POLICY_SIZE,
		    SIGIL__FILE_NOFOLLOW | SIGIL__FILE_MISSING_OK, data, len, &why, err) == SIGIL_STATUS_OK)
		return *data ? 0 : 1;
	struct stat st;
	switch (why.problem) {
	case SIGIL__FILE_OPEN:
		/* ELOOP: a symlink; ENXIO: a socket */
		if (why.errnum == ELOOP || why.errnum == ENXIO)
			return err_not_regular(err);
		/* an unreadable directory is still "not a regular file" */
		if (why.errnum == EACCES && lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
			return err_not_regular(err);
		if (why.errnum == EACCES)
			return sigil__err(err, SIGIL_ERR_IO, "unable to read trust policy due to file "
				"permissions, please verify the permissions of %s", path), -1;
		return -1;
	case SIGIL__FILE_NOT_REGULAR:
		return err_not_regular(err);
	case SIGIL__FILE_TOO_LARGE:
		return sigil__err(err, SIGIL_ERR_LIMIT, "trust policy %s is larger than %u bytes", path,
			(unsigned)SIGIL_MAX_POLICY_SIZE), -1;
	default:
		/* "trust policy <path>: <strerror>" as sigil__file_read words it */
		return -1;
	}
}

static char *join_path(const char *dir, const char *file)
{
	size_t dl = strlen(dir), fl = strlen(file);
	if (dl > SIZE_MAX - fl - 2)
		return NULL;
	char *s = malloc(dl + fl + 2);
	if (!s)
		return NULL;
	memcpy(s, dir, dl);
	s[dl] = '/';
	memcpy(s + dl + 1, file, fl + 1);
	return s;
}

SIGIL_EXPORT sigil_status sigil_policy_load(sigil_policy **out, const char *config_dir,
	sigil_error *err)
{
	if (!out || !config_dir)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigil_policy_load: NULL argument");
	/* §3.3: trustpolicy.oci.json first; trustpolicy.json only when the
	 * former does not exist (any other problem with it is final). */
	static const char *const files[] = { "trustpolicy.oci.json", "trustpolicy.json" };
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		_cleanup_free_ char *path = join_path(config_dir, files[i]);
		if (!path)
			return sigil__err_oom(err);
		_cleanup_free_ uint8_t *data = NULL;
		size_t len = 0;
		int rc = read_policy_file(path, &data, &len, err);
		if (rc < 0)
			return SIGIL_STATUS_ERROR;
		if (rc > 0)
			continue;
		sigil_policy *pol = NULL;
		if (sigil_policy_parse(&pol, data, len, err) != SIGIL_STATUS_OK)
			return SIGIL_STATUS_ERROR;
		pol->path = TAKE_PTR(path);
		*out = pol;
		return SIGIL_STATUS_OK;
	}
	return sigil__err(err, SIGIL_ERR_POLICY, "trust policy is not present. To create a trust "
		"policy, see: " POLICY_LINK);
}

SIGIL_EXPORT const char *sigil_policy_path(const sigil_policy *policy)
{
	return policy && policy->path ? policy->path : "";
}

SIGIL_EXPORT size_t sigil_policy_statement_count(const sigil_policy *policy)
{
	return policy ? policy->count : 0;
}

SIGIL_EXPORT const sigil_policy_statement *sigil_policy_statement_get(const sigil_policy *policy,
	size_t index)
{
	if (!policy || index >= policy->count)
		return NULL;
	return &policy->statements[index];
}

SIGIL_EXPORT sigil_status sigil_policy_select(const sigil_policy *policy, const char *scope,
	const sigil_policy_statement **out, sigil_error *err)
{
	if (!policy || !scope || !out)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigil_policy_select: NULL argument");
	/* §3.7: an exact registryScopes match wins over the "*" statement */
	const sigil_policy_statement *wildcard = NULL;
	for (size_t i = 0; i < policy->count; i++) {
		const sigil_policy_statement *st = &policy->statements[i];
		if (st->wildcard_scope) {
			wildcard = st;
			continue;
		}
		for (size_t j = 0; j < st->scope_count; j++)
			if (strcmp(st->scopes[j], scope) == 0) {
				*out = st;
				return SIGIL_STATUS_OK;
			}
	}
	if (wildcard) {
		*out = wildcard;
		return SIGIL_STATUS_OK;
	}
	sigil__quoted q;
	return sigil__err(err, SIGIL_ERR_POLICY, "artifact %s has no applicable trust policy "
		"statement. Trust policy applicability for a given artifact is determined by "
		"registryScopes. To create a trust policy, see: " POLICY_LINK, sigil__quote_str(&q, scope));
}

SIGIL_EXPORT const char *sigil_statement_name(const sigil_policy_statement *st)
{
	return st && st->name ? st->name : "";
}

SIGIL_EXPORT sigil_level sigil_statement_level(const sigil_policy_statement *st)
{
	return st ? st->level : SIGIL_LEVEL_STRICT;
}

SIGIL_EXPORT sigil_action sigil_statement_action(const sigil_policy_statement *st, sigil_check check)
{
	/* fail closed on a bad argument */
	if (!st || (unsigned)check >= SIGIL_CHECK__COUNT)
		return SIGIL_ACTION_ENFORCE;
	return st->actions[check];
}

SIGIL_EXPORT int sigil_statement_has_overrides(const sigil_policy_statement *st)
{
	return st && st->has_overrides ? 1 : 0;
}
