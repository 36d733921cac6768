/* verify.c - the verification flow of notary-verification.md §4.2-§4.5:
 * policy selection, signature discovery, and per-signature checks in
 * notation's order, each enforced, logged or skipped per the policy. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/x509.h>
#include "bounds.h"
#include "certchain.h"
#include "cleanup.h"
#include "dn.h"
#include "envelope.h"
#include "errors.h"
#include "http.h"
#include "oci.h"
#include "payload.h"
#include "policy_internal.h"
#include "quote.h"
#include "revocation.h"
#include "result.h"
#include "source_internal.h"
#include "strlist.h"
#include "timestamp.h"
#include "timeutil.h"
#include "truststore.h"

typedef struct loaded_store {
	sigil__store_type type;
	char *name;
	STACK_OF(X509) *certs;  /* NULL when loading failed */
	char *error;            /* why loading failed, or NULL */
} loaded_store;

struct sigil_verifier {
	sigil_policy *policy;
	loaded_store *stores;
	size_t store_count;
	sigil__strlist warnings;
	sigil__revocation *rev;  /* §6 checker and its caches */
	int64_t rev_budget_ms;
};

/* X509_cmp as a stack comparator: it orders certificates by their SHA-1
 * hash, then their encoding, which is the order sk_X509_find's binary
 * search needs; equality is what check_authenticity tests (§4.4.2). */
static int cert_order(const X509 *const *a, const X509 *const *b)
{
	return X509_cmp(*a, *b);
}

static const loaded_store *find_store(const sigil_verifier *v, sigil__store_type type,
	const char *name)
{
	for (size_t i = 0; i < v->store_count; i++)
		if (v->stores[i].type == type && strcmp(v->stores[i].name, name) == 0)
			return &v->stores[i];
	return NULL;
}

/* append "; <msg>" to a problem list bounded by the error buffer */
static void add_problem(char *buf, size_t cap, const char *msg)
{
	size_t used = strlen(buf);
	if (used + 3 >= cap)
		return;
	snprintf(buf + used, cap - used, "%s%s", used ? "; " : "", msg);
}

SIGIL_EXPORT sigil_status sigil_verifier_new(sigil_verifier **out, const char *config_dir,
	sigil_error *err)
{
	if (!out || !config_dir)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigil_verifier_new: missing argument");
	sigil_verifier *v = calloc(1, sizeof *v);
	if (!v)
		return sigil__err_oom(err);
	if (sigil_policy_load(&v->policy, config_dir, err) != SIGIL_STATUS_OK) {
		sigil_verifier_free(v);
		return SIGIL_STATUS_ERROR;
	}
	/* Load every store any statement references, once. A store that does
	 * not load is not fatal here: as in notation (§4.4.2 step 2), it fails
	 * the authenticity check (or, for a tsa store, the timestamp check) of
	 * the signatures that need it, enforced or logged per level. It is also
	 * listed as a warning so that operators see it at load time. */
	for (size_t s = 0; s < v->policy->count; s++) {
		const sigil_policy_statement *st = &v->policy->statements[s];
		for (size_t i = 0; i < st->store_count; i++) {
			const sigil__store_ref *ref = &st->stores[i];
			if (find_store(v, ref->type, ref->name))
				continue;
			STACK_OF(X509) *certs = NULL;
			sigil_error lerr = SIGIL_ERROR_INIT;
			char *error = NULL;
			if (sigil__truststore_load(config_dir, ref->type, ref->name, &certs,
				&v->warnings, &lerr) != SIGIL_STATUS_OK) {
				error = strdup(lerr.message);
				if (!error || sigil__strlist_addf(&v->warnings, err,
					"trust store \"%s\" of type \"%s\" cannot be used: %s", ref->name,
					sigil__store_type_name(ref->type), lerr.message) != SIGIL_STATUS_OK) {
					free(error);
					sigil_verifier_free(v);
					return sigil__err_oom(err);
				}
			}
			/* sorted once here so that the authenticity check is a
			 * binary search, flat in the store's size; a sorted stack
			 * is only read afterwards, also by concurrent verifications
			 * (tsa stores keep their order: they become an X509_STORE) */
			if (certs && ref->type != SIGIL_STORE_TSA) {
				sk_X509_set_cmp_func(certs, cert_order);
				sk_X509_sort(certs);
			}
			loaded_store *n = realloc(v->stores, (v->store_count + 1) * sizeof *n);
			char *name = strdup(ref->name);
			if (!n || !name) {
				free(name);
				free(error);
				if (n)
					v->stores = n;
				sk_X509_pop_free(certs, X509_free);
				sigil_verifier_free(v);
				return sigil__err_oom(err);
			}
			v->stores = n;
			v->stores[v->store_count++] = (loaded_store){ ref->type, name, certs, error };
		}
	}
	/* revocation checking with the defaults until configured otherwise */
	if (sigil__revocation_new(&v->rev, NULL, err) != SIGIL_STATUS_OK) {
		sigil_verifier_free(v);
		return SIGIL_STATUS_ERROR;
	}
	v->rev_budget_ms = SIGIL_DEFAULT_REVOCATION_BUDGET_MS;
	*out = v;
	return SIGIL_STATUS_OK;
}

SIGIL_EXPORT sigil_status sigil_verifier_set_revocation(sigil_verifier *v,
	const sigil_revocation_options *o, sigil_error *err)
{
	if (!v || !o)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigil_verifier_set_revocation: missing argument");
	if (o->version < 1 || o->version > SIGIL_REVOCATION_OPTIONS_VERSION)
		return sigil__err(err, SIGIL_ERR_USAGE,
			"sigil_verifier_set_revocation: options of another version");
	if (o->ocsp_timeout_ms < 0 || o->crl_timeout_ms < 0 || o->budget_ms < 0)
		return sigil__err(err, SIGIL_ERR_USAGE, "revocation timeouts must not be negative");
	sigil__rev_config cfg = { o->cache_dir, o->seed_dir, o->allow_https != 0,
		o->ocsp_timeout_ms, o->crl_timeout_ms, NULL, NULL };
	if (o->version >= 2) {
		/* a version 1 struct ends before these fields */
		cfg.on_fetch = o->on_fetch;
		cfg.on_fetch_ctx = o->on_fetch_ctx;
	}
	sigil__revocation *rv = NULL;
	SIGIL_TRY(sigil__revocation_new(&rv, &cfg, err));
	sigil__revocation_free(v->rev);
	v->rev = rv;
	v->rev_budget_ms = o->budget_ms ? o->budget_ms : SIGIL_DEFAULT_REVOCATION_BUDGET_MS;
	return SIGIL_STATUS_OK;
}

SIGIL_EXPORT void sigil_verifier_free(sigil_verifier *v)
{
	if (!v)
		return;
	sigil_policy_free(v->policy);
	for (size_t i = 0; i < v->store_count; i++) {
		free(v->stores[i].name);
		free(v->stores[i].error);
		sk_X509_pop_free(v->stores[i].certs, X509_free);
	}
	free(v->stores);
	sigil__strlist_clear(&v->warnings);
	sigil__revocation_free(v->rev);
	free(v);
}

SIGIL_EXPORT const sigil_policy *sigil_verifier_policy(const sigil_verifier *v)
{
	return v->policy;
}

SIGIL_EXPORT size_t sigil_verifier_warning_count(const sigil_verifier *v)
{
	return v->warnings.count;
}

SIGIL_EXPORT const char *sigil_verifier_warning_get(const sigil_verifier *v, size_t i)
{
	return i < v->warnings.count ? v->warnings.items[i] : NULL;
}

/* ---- one signature ------------------------------------------------------ */

typedef struct sig_ctx {
	const sigil_verifier *v;
	const sigil_policy_statement *st;
	const sigil_descriptor *artifact;
	const sigil_verify_options *opts;
	int64_t now;
	sigil_signature_result *sr;
	int64_t valid_until;
	int64_t rev_deadline_ms;  /* sigil__now_ms clock */
} sig_ctx;

/* Record a failed check. Returns 1 when the failure is enforced (the
 * signature fails and later checks do not run, §4.1), 0 when logged. */
static int fail_check(sig_ctx *c, sigil_check check, sigil_category cat, sigil_error *err,
	const char *fmt, ...) SIGIL__PRINTF(5, 6);
static int fail_check(sig_ctx *c, sigil_check check, sigil_category cat, sigil_error *err,
	const char *fmt, ...)
{
	char msg[SIGIL_ERROR_MESSAGE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	sigil_action action = sigil_statement_action(c->st, check);
	sigil__check_set(c->sr, check, SIGIL_OUTCOME_FAIL, action, cat, err, "%s", msg);
	if (action == SIGIL_ACTION_ENFORCE) {
		c->sr->failed_check = check;
		return 1;
	}
	return 0;
}

static void pass_check(sig_ctx *c, sigil_check check, sigil_error *err)
{
	sigil__check_set(c->sr, check, SIGIL_OUTCOME_PASS, sigil_statement_action(c->st, check),
		SIGIL_ERR_NONE, err, "%s", "");
}

static void skip_check(sig_ctx *c, sigil_check check, sigil_error *err, const char *why)
{
	sigil__check_set(c->sr, check, SIGIL_OUTCOME_SKIPPED,
		sigil_statement_action(c->st, check), SIGIL_ERR_NONE, err, "%s", why);
}

/* §4.4.2: any certificate of the envelope chain byte-equal to a trusted one */
static int check_authenticity(sig_ctx *c, const sigil__envelope *env, sigil_error *err)
{
	if (sigil_statement_action(c->st, SIGIL_CHECK_AUTHENTICITY) == SIGIL_ACTION_SKIP) {
		skip_check(c, SIGIL_CHECK_AUTHENTICITY, err, "skipped by the trust policy");
		return 0;
	}
	/* §3.1: the signing scheme decides the store type, so that a CA-issued
	 * signer can never pose as a signing authority */
	sigil__store_type want = env->scheme == SIGIL_SCHEME_SIGNING_AUTHORITY ?
		SIGIL_STORE_SIGNING_AUTHORITY : SIGIL_STORE_CA;
	size_t trusted = 0;
	int found = 0;
	for (size_t i = 0; i < c->st->store_count && !found; i++) {
		const sigil__store_ref *ref = &c->st->stores[i];
		if (ref->type != want)
			continue;
		const loaded_store *ls = find_store(c->v, ref->type, ref->name);
		if (!ls)
			continue;
		if (ls->error)
			return fail_check(c, SIGIL_CHECK_AUTHENTICITY, SIGIL_ERR_POLICY, err,
				"error while loading the trust store: %s", ls->error);
		trusted += (size_t)sk_X509_num(ls->certs);
		/* the store is sorted by cert_order (sigil_verifier_new) */
		for (int e = 0; e < sk_X509_num(env->chain) && !found; e++)
			if (sk_X509_find(ls->certs, sk_X509_value(env->chain, e)) >= 0)
				found = 1;
	}
	/* the chain cannot be authenticated: an authenticity failure like an
	 * untrusted chain, not a broken configuration */
	if (trusted == 0)
		return fail_check(c, SIGIL_CHECK_AUTHENTICITY, SIGIL_ERR_CRYPTO, err,
			"no trusted certificates are found to verify authenticity: the trust policy "
			"statement \"%s\" lists no %s trust store", c->st->name, sigil__store_type_name(want));
	if (!found)
		return fail_check(c, SIGIL_CHECK_AUTHENTICITY, SIGIL_ERR_CRYPTO, err,
			"the signature's certificate chain does not contain any trusted certificate");
	pass_check(c, SIGIL_CHECK_AUTHENTICITY, err);
	return 0;
}

/* §3.5: the leaf subject must be a superset of one trusted identity */
static int check_identity(sig_ctx *c, const sigil__envelope *env, sigil_error *err)
{
	if (sigil_statement_action(c->st, SIGIL_CHECK_TRUSTED_IDENTITY) == SIGIL_ACTION_SKIP) {
		skip_check(c, SIGIL_CHECK_TRUSTED_IDENTITY, err, "skipped by the trust policy");
		return 0;
	}
	if (c->st->identity_wildcard) {
		pass_check(c, SIGIL_CHECK_TRUSTED_IDENTITY, err);
		return 0;
	}
	if (c->st->identity_count == 0)
		return fail_check(c, SIGIL_CHECK_TRUSTED_IDENTITY, SIGIL_ERR_POLICY, err,
			"no x509 trusted identities are configured in the trust policy \"%s\"", c->st->name);
	sigil__dn leaf;
	memset(&leaf, 0, sizeof leaf);
	sigil_error derr = SIGIL_ERROR_INIT;
	X509 *cert = sk_X509_value(env->chain, 0);
	if (sigil__dn_from_name(X509_get_subject_name(cert), &leaf, &derr) != SIGIL_STATUS_OK)
		return fail_check(c, SIGIL_CHECK_TRUSTED_IDENTITY, SIGIL_ERR_POLICY, err, "%s",
			derr.message);
	int match = 0;
	for (size_t i = 0; i < c->st->identity_count && !match; i++)
		match = sigil__dn_is_subset(&c->st->identities[i], &leaf);
	sigil__dn_clear(&leaf);
	if (!match) {
		char list[SIGIL_ERROR_MESSAGE_MAX / 2] = "";
		for (size_t i = 0; i < c->st->identity_count; i++)
			add_problem(list, sizeof list, c->st->identity_strings[i]);
		return fail_check(c, SIGIL_CHECK_TRUSTED_IDENTITY, SIGIL_ERR_POLICY, err,
			"signing certificate from the digital signature does not match the X.509 "
			"trusted identities [%s] defined in the trust policy \"%s\"", list, c->st->name);
	}
	pass_check(c, SIGIL_CHECK_TRUSTED_IDENTITY, err);
	return 0;
}

/* §4.4.3 (">=" per the appendix and notation, §8 row 20) */
static int check_expiry(sig_ctx *c, const sigil__envelope *env, sigil_error *err)
{
	if (sigil_statement_action(c->st, SIGIL_CHECK_EXPIRY) == SIGIL_ACTION_SKIP) {
		skip_check(c, SIGIL_CHECK_EXPIRY, err, "skipped by the trust policy");
		return 0;
	}
	if (!env->has_expiry) {
		pass_check(c, SIGIL_CHECK_EXPIRY, err);
		return 0;
	}
	char when[64];
	sigil__time_format_rfc1123z(env->expiry, when, sizeof when);
	/* A signature that expires no later than it was made never had a valid
	 * period; notation calls this malformed, the adversarial corpus (037)
	 * and the spec treat it as expiry. */
	if (env->expiry <= env->signing_time)
		return fail_check(c, SIGIL_CHECK_EXPIRY, SIGIL_ERR_POLICY, err,
			"expiry cannot be equal or before the signing time: digital signature has "
			"expired on \"%s\"", when);
	if (c->now >= env->expiry)
		return fail_check(c, SIGIL_CHECK_EXPIRY, SIGIL_ERR_POLICY, err,
			"digital signature has expired on \"%s\"", when);
	if (env->expiry < c->valid_until)
		c->valid_until = env->expiry;
	pass_check(c, SIGIL_CHECK_EXPIRY, err);
	return 0;
}

static int any_tsa_store(const sigil_policy_statement *st)
{
	for (size_t i = 0; i < st->store_count; i++)
		if (st->stores[i].type == SIGIL_STORE_TSA)
			return 1;
	return 0;
}

/* every certificate of `chain` valid at time t; on failure *bad and the
 * relevant bound are set */
static int chain_valid_at(STACK_OF(X509) *chain, int64_t lo, int64_t hi, X509 **bad,
	int *before, int64_t *bound)
{
	for (int i = 0; i < sk_X509_num(chain); i++) {
		X509 *cert = sk_X509_value(chain, i);
		int64_t nb = 0, na = 0;
		if (sigil__cert_validity(cert, &nb, &na, NULL) != SIGIL_STATUS_OK) {
			*bad = cert;
			*before = 1;
			*bound = 0;
			return 0;
		}
		if (lo < nb) {
			*bad = cert;
			*before = 1;
			*bound = nb;
			return 0;
		}
		if (hi > na) {
			*bad = cert;
			*before = 0;
			*bound = na;
			return 0;
		}
	}
	return 1;
}

static int64_t chain_min_not_after(STACK_OF(X509) *chain)
{
	int64_t min = INT64_MAX;
	for (int i = 0; i < sk_X509_num(chain); i++) {
		int64_t nb = 0, na = 0;
		if (sigil__cert_validity(sk_X509_value(chain, i), &nb, &na, NULL) == SIGIL_STATUS_OK &&
		    na < min)
			min = na;
	}
	return min;
}

static char *subject_of(X509 *cert)
{
	char *s = sigil__cert_subject(cert);
	return s ? s : strdup("?");
}

/* §6 for chain; the earliest nextUpdate relied on bounds the verdict.
 * Both chains that get here were validated already (the signing chain by
 * the envelope parse, a TSA chain by sigil__timestamp_verify), so §6.2
 * step 1 is not run again: it would verify every certificate signature a
 * second time. */
static sigil_status run_revocation(sig_ctx *c, STACK_OF(X509) *chain,
	sigil__rev_purpose purpose, int64_t signing_time, sigil__rev_outcome *out, sigil_error *err)
{
	SIGIL_TRY(sigil__revocation_check_validated_chain(c->v->rev, chain, purpose, signing_time,
		c->now, c->rev_deadline_ms, out, err));
	if (out->valid_until < c->valid_until)
		c->valid_until = out->valid_until;
	return SIGIL_STATUS_OK;
}

/* §4.4.4 and §5 */
static int check_authentic_timestamp(sig_ctx *c, const sigil__envelope *env, sigil_error *err)
{
	const sigil_check K = SIGIL_CHECK_AUTHENTIC_TIMESTAMP;
	if (sigil_statement_action(c->st, K) == SIGIL_ACTION_SKIP) {
		skip_check(c, K, err, "skipped by the trust policy");
		return 0;
	}
	X509 *bad = NULL;
	int before = 0;
	int64_t bound = 0;
	char t1[64], t2[64];
	if (env->scheme == SIGIL_SCHEME_SIGNING_AUTHORITY) {
		/* §4.4.4: the authentic signing time inside every certificate */
		if (!chain_valid_at(env->chain, env->signing_time, env->signing_time, &bad, &before, &bound)) {
			_cleanup_free_ char *subj = subject_of(bad);
			sigil__time_format(env->signing_time, t1, sizeof t1);
			return fail_check(c, K, SIGIL_ERR_POLICY, err,
				"certificate \"%s\" was not valid when the digital signature was produced at \"%s\"",
				subj, t1);
		}
		pass_check(c, K, err);
		return 0;
	}
	int enabled = any_tsa_store(c->st);
	if (enabled && c->st->verify_timestamp == SIGIL_VERIFY_TIMESTAMP_AFTER_CERT_EXPIRY) {
		/* §5.2 item 4: only once a certificate of the chain has expired */
		enabled = chain_min_not_after(env->chain) < c->now;
	}
	if (!enabled) {
		/* §4.4.4 step 3: every certificate valid now */
		if (!chain_valid_at(env->chain, c->now, c->now, &bad, &before, &bound)) {
			_cleanup_free_ char *subj = subject_of(bad);
			sigil__time_format(bound, t1, sizeof t1);
			if (before)
				return fail_check(c, K, SIGIL_ERR_POLICY, err,
					"verification time is before certificate \"%s\" validity period, it will be valid from \"%s\"",
					subj, t1);
			return fail_check(c, K, SIGIL_ERR_POLICY, err,
				"verification time is after certificate \"%s\" validity period, it was expired at \"%s\"",
				subj, t1);
		}
		int64_t na = chain_min_not_after(env->chain);
		if (na < c->valid_until)
			c->valid_until = na;
		pass_check(c, K, err);
		return 0;
	}
	/* §5.3 */
	if (!env->timestamp || env->timestamp_len == 0)
		return fail_check(c, K, SIGIL_ERR_POLICY, err,
			"no timestamp countersignature was found in the signature envelope");
	_cleanup_(X509_stack_freep) STACK_OF(X509) *roots = sk_X509_new_null();
	if (!roots)
		return fail_check(c, K, SIGIL_ERR_INTERNAL, err, "out of memory");
	for (size_t i = 0; i < c->st->store_count; i++) {
		const sigil__store_ref *ref = &c->st->stores[i];
		if (ref->type != SIGIL_STORE_TSA)
			continue;
		const loaded_store *ls = find_store(c->v, ref->type, ref->name);
		if (ls && ls->error)
			return fail_check(c, K, SIGIL_ERR_POLICY, err,
				"failed to load tsa trust store with error: %s", ls->error);
		for (int k = 0; ls && k < sk_X509_num(ls->certs); k++) {
			X509 *cert = sk_X509_value(ls->certs, k);
			if (!X509_up_ref(cert) || !sk_X509_push(roots, cert)) {
				X509_free(cert);
				return fail_check(c, K, SIGIL_ERR_INTERNAL, err, "out of memory");
			}
		}
	}
	sigil__tst tst;
	_cleanup_(X509_stack_freep) STACK_OF(X509) *tsa_chain = NULL;
	sigil_error terr = SIGIL_ERROR_INIT;
	if (sigil__timestamp_verify(env->timestamp, env->timestamp_len, env->signature,
		env->signature_len, roots, &tst, &tsa_chain, &terr) != SIGIL_STATUS_OK)
		return fail_check(c, K, terr.category, err, "%s", terr.message);
	/* step 8: [genTime - acc, genTime + acc] inside every signing cert */
	if (!chain_valid_at(env->chain, tst.gen_time - tst.accuracy, tst.gen_time + tst.accuracy,
		&bad, &before, &bound)) {
		_cleanup_free_ char *subj = subject_of(bad);
		sigil__time_format(bound, t2, sizeof t2);
		if (before)
			return fail_check(c, K, SIGIL_ERR_POLICY, err,
				"timestamp can be before certificate \"%s\" validity period, it will be valid from \"%s\"",
				subj, t2);
		return fail_check(c, K, SIGIL_ERR_POLICY, err,
			"timestamp can be after certificate \"%s\" validity period, it was expired at \"%s\"",
			subj, t2);
	}
	/* step 9: the TSA chain's revocation runs even when the policy skips
	 * revocation for the signing chain; purpose timestamping, no signing
	 * time; anything but OK fails authenticTimestamp (§6.5) */
	if (tsa_chain) {
		sigil__rev_outcome ro;
		sigil_error rerr = SIGIL_ERROR_INIT;
		sigil__quoted q;
		if (run_revocation(c, tsa_chain, SIGIL__REV_TIMESTAMPING, 0, &ro, &rerr) != SIGIL_STATUS_OK)
			return fail_check(c, K, rerr.category, err,
				"failed to check timestamping certificate chain revocation with error: %s",
				rerr.message);
		if (ro.status == SIGIL__REV_REVOKED)
			return fail_check(c, K, SIGIL_ERR_POLICY, err,
				"timestamping certificate with subject %s is revoked; %s",
				sigil__quote_str(&q, ro.subject), ro.detail);
		if (ro.status == SIGIL__REV_UNKNOWN)
			return fail_check(c, K, SIGIL_ERR_NETWORK, err,
				"timestamping certificate with subject %s revocation status is unknown; %s",
				sigil__quote_str(&q, ro.subject), ro.detail);
	}
	pass_check(c, K, err);
	return 0;
}

/* §4.4.5 / §6: the signing chain; the authentic signing time only under
 * the signingAuthority scheme (§8 row 15) */
static int check_revocation(sig_ctx *c, const sigil__envelope *env, sigil_error *err)
{
	const sigil_check K = SIGIL_CHECK_REVOCATION;
	if (sigil_statement_action(c->st, K) == SIGIL_ACTION_SKIP) {
		skip_check(c, K, err, "skipped by the trust policy");
		return 0;
	}
	int64_t signing_time = env->scheme == SIGIL_SCHEME_SIGNING_AUTHORITY ? env->signing_time : 0;
	sigil__rev_outcome ro;
	sigil_error rerr = SIGIL_ERROR_INIT;
	sigil__quoted q;
	if (run_revocation(c, env->chain, SIGIL__REV_CODE_SIGNING, signing_time, &ro, &rerr) !=
	    SIGIL_STATUS_OK)
		return fail_check(c, K, rerr.category, err,
			"unable to check revocation status, err: %s", rerr.message);
	/* notation's wording first, then where the status came from */
	if (ro.status == SIGIL__REV_REVOKED)
		return fail_check(c, K, SIGIL_ERR_POLICY, err,
			"signing certificate with subject %s is revoked; %s",
			sigil__quote_str(&q, ro.subject), ro.detail);
	if (ro.status == SIGIL__REV_UNKNOWN)
		return fail_check(c, K, SIGIL_ERR_NETWORK, err,
			"signing certificate with subject %s revocation status is unknown; %s",
			sigil__quote_str(&q, ro.subject), ro.detail);
	/* OK, or no certificate names a revocation method (§6.1) */
	pass_check(c, K, err);
	return 0;
}

/* §4.3 steps 9-10 (payload binding, reported under integrity) and 11 */
static int check_payload(sig_ctx *c, const sigil__envelope *env, sigil_error *err)
{
	sigil__payload *p = NULL;
	sigil_error perr = SIGIL_ERROR_INIT;
	/* the JWS half has run the payload through sigil__json_parse_object
	 * already (§1.6 step 3); the same bytes would pass again */
	sigil_status pst = env->payload_json_checked ?
		sigil__payload_parse_checked(env->payload, env->payload_len, &p, &perr) :
		sigil__payload_parse(env->payload, env->payload_len, &p, &perr);
	if (pst != SIGIL_STATUS_OK) {
		sigil__check_set(c->sr, SIGIL_CHECK_INTEGRITY, SIGIL_OUTCOME_FAIL,
			SIGIL_ACTION_ENFORCE, perr.category, err, "invalid signature payload: %s",
			perr.message);
		c->sr->failed_check = SIGIL_CHECK_INTEGRITY;
		return 1;
	}
	const sigil_descriptor *a = c->artifact;
	if (strcmp(p->target.media_type, a->media_type) != 0 ||
	    strcmp(p->target.digest, a->digest) != 0 || p->target.size != a->size) {
		sigil__check_set(c->sr, SIGIL_CHECK_INTEGRITY, SIGIL_OUTCOME_FAIL,
			SIGIL_ACTION_ENFORCE, SIGIL_ERR_CRYPTO, err,
			"content descriptor mismatch: the signature is for %s (%s, %lld bytes), not %s (%s, %lld bytes)",
			p->target.digest, p->target.media_type, (long long)p->target.size, a->digest,
			a->media_type, (long long)a->size);
		c->sr->failed_check = SIGIL_CHECK_INTEGRITY;
		sigil__payload_free(p);
		return 1;
	}
	const sigil_verify_options *o = c->opts;
	for (size_t i = 0; i < o->user_metadata_count; i++) {
		const char *have = sigil__payload_annotation(p, o->user_metadata_keys[i]);
		if (!have || strcmp(have, o->user_metadata_values[i]) != 0) {
			sigil__check_set(c->sr, SIGIL_CHECK_USER_METADATA, SIGIL_OUTCOME_FAIL,
				SIGIL_ACTION_ENFORCE, SIGIL_ERR_POLICY, err,
				"unable to find specified metadata in the signature: %s=%s is %s",
				o->user_metadata_keys[i], o->user_metadata_values[i],
				have ? "different" : "absent");
			c->sr->failed_check = SIGIL_CHECK_USER_METADATA;
			sigil__payload_free(p);
			return 1;
		}
	}
	sigil__check_set(c->sr, SIGIL_CHECK_USER_METADATA,
		o->user_metadata_count ? SIGIL_OUTCOME_PASS : SIGIL_OUTCOME_SKIPPED,
		SIGIL_ACTION_ENFORCE, SIGIL_ERR_NONE, err, "%s",
		o->user_metadata_count ? "" : "no user metadata required");
	sigil__payload_free(p);
	return 0;
}

static void verify_one(sig_ctx *c, const char *media_type, const uint8_t *blob, size_t len,
	sigil_error *err)
{
	sigil_signature_result *sr = c->sr;
	snprintf(sr->media_type, sizeof sr->media_type, "%s", media_type);
	sigil__envelope *env = NULL;
	sigil_error eerr = SIGIL_ERROR_INIT;
	/* §4.4.1: integrity is always enforced */
	if (sigil__envelope_parse(media_type, blob, len, &env, &eerr) != SIGIL_STATUS_OK) {
		sigil__check_set(sr, SIGIL_CHECK_INTEGRITY, SIGIL_OUTCOME_FAIL,
			SIGIL_ACTION_ENFORCE, eerr.category, err, "%s", eerr.message);
		sr->failed_check = SIGIL_CHECK_INTEGRITY;
		return;
	}
	sigil__check_set(sr, SIGIL_CHECK_INTEGRITY, SIGIL_OUTCOME_PASS, SIGIL_ACTION_ENFORCE,
		SIGIL_ERR_NONE, err, "%s", "");
	sr->signer = sigil__cert_subject(sk_X509_value(env->chain, 0));
	/* §4.6: a verifier without the named plugin must fail */
	if (env->verification_plugin) {
		sigil__check_set(sr, SIGIL_CHECK_PLUGIN, SIGIL_OUTCOME_FAIL, SIGIL_ACTION_ENFORCE,
			SIGIL_ERR_UNSUPPORTED, err,
			"digital signature requires verification plugin \"%s\"; sigil does not run "
			"verification plugins", env->verification_plugin);
		sr->failed_check = SIGIL_CHECK_PLUGIN;
		sigil__envelope_free(env);
		return;
	}
	sigil__check_set(sr, SIGIL_CHECK_PLUGIN, SIGIL_OUTCOME_SKIPPED, SIGIL_ACTION_ENFORCE,
		SIGIL_ERR_NONE, err, "%s", "no verification plugin required");
	if (check_authenticity(c, env, err) || check_identity(c, env, err) ||
	    check_expiry(c, env, err) || check_authentic_timestamp(c, env, err) ||
	    check_revocation(c, env, err) || check_payload(c, env, err)) {
		sigil__envelope_free(env);
		return;
	}
	sr->verdict = SIGIL_VERDICT_PASS;
	sigil__envelope_free(env);
}

/* ---- the artifact ------------------------------------------------------- */

static sigil_status fail_result(sigil_result *r, sigil_failure f, sigil_error *err,
	const char *fmt, ...) SIGIL__PRINTF(4, 5);
static sigil_status fail_result(sigil_result *r, sigil_failure f, sigil_error *err,
	const char *fmt, ...)
{
	char msg[SIGIL_ERROR_MESSAGE_MAX * 2];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	r->verdict = SIGIL_VERDICT_FAIL;
	r->failure = f;
	return sigil__result_set_reason(r, err, "%s", msg);
}

/* Fetch signature manifest `sd` and its single envelope layer (§2.1). */
static sigil_status fetch_envelope(sigil_source *src, const sigil_descriptor *sd,
	uint8_t **blob, size_t *blob_len, char *media_type, sigil_failure *why, sigil_error *err)
{
	_cleanup_free_ uint8_t *mbuf = NULL;
	size_t mlen = 0;
	*why = SIGIL_FAILURE_RETRIEVAL;
	if (sd->size < 0 || (uint64_t)sd->size > SIGIL_MAX_MANIFEST_SIZE)
		return sigil__err(err, SIGIL_ERR_LIMIT, "signature manifest is %lld bytes, more than the %u allowed",
			(long long)sd->size, SIGIL_MAX_MANIFEST_SIZE);
	/* a source that parsed this very manifest while listing signatures
	 * hands its parse over; otherwise fetch (digest-checked) and parse */
	_cleanup_(sigil__manifest_freep) sigil__manifest *owned = NULL;
	const sigil__manifest *m = src->ops->listed_manifest ?
		src->ops->listed_manifest(src->ctx, sd, SIGIL_MAX_MANIFEST_SIZE) : NULL;
	if (!m) {
		SIGIL_TRY(src->ops->fetch(src->ctx, sd, SIGIL_MAX_MANIFEST_SIZE, &mbuf, &mlen, err));
		*why = SIGIL_FAILURE_SIGNATURE_MANIFEST;
		SIGIL_TRY(sigil__manifest_parse(mbuf, mlen, &owned, err));
		m = owned;
	}
	*why = SIGIL_FAILURE_SIGNATURE_MANIFEST;
	sigil_status st = SIGIL_STATUS_OK;
	if (m->media_type[0] && strcmp(m->media_type, SIGIL_MT_IMAGE_MANIFEST) != 0 &&
	    strcmp(m->media_type, SIGIL_MT_ARTIFACT_MANIFEST) != 0)
		st = sigil__err(err, SIGIL_ERR_MALFORMED,
			"signature manifest has media type \"%s\", not an OCI image manifest", m->media_type);
	else if (m->layer_count != 1)
		st = sigil__err(err, SIGIL_ERR_MALFORMED,
			"signature manifest requires exactly one signature envelope blob, got %zu", m->layer_count);
	else if (m->layers[0].size < 0 || (uint64_t)m->layers[0].size > SIGIL_MAX_ENVELOPE_SIZE)
		st = sigil__err(err, SIGIL_ERR_LIMIT,
			"signature envelope is %lld bytes, more than the %u allowed",
			(long long)m->layers[0].size, SIGIL_MAX_ENVELOPE_SIZE);
	if (st == SIGIL_STATUS_OK) {
		snprintf(media_type, SIGIL_MEDIA_TYPE_MAX, "%s", m->layers[0].media_type);
		*why = SIGIL_FAILURE_RETRIEVAL;
		st = src->ops->fetch(src->ctx, &m->layers[0], SIGIL_MAX_ENVELOPE_SIZE, blob, blob_len, err);
	}
	return st;
}

static sigil_status validate_options(const sigil_verify_options *o, sigil_error *err)
{
	/* version 1 lacks deadline_ms */
	if (!o || (o->version != 1 && o->version != SIGIL_VERIFY_OPTIONS_VERSION))
		return sigil__err(err, SIGIL_ERR_USAGE, "sigil_verify: options missing or of another version");
	if (!o->scope || !o->scope[0])
		return sigil__err(err, SIGIL_ERR_USAGE, "a scope (registry/repository) is required");
	if (!o->digest)
		return sigil__err(err, SIGIL_ERR_USAGE, "a digest is required");
	SIGIL_TRY(sigil__digest_validate(o->digest, err));
	if (o->max_signatures > SIGIL_MAX_SIGNATURES)
		return sigil__err(err, SIGIL_ERR_USAGE, "max signatures must be at most %d",
			SIGIL_MAX_SIGNATURES);
	if (o->version >= 2 && o->deadline_ms < 0)
		return sigil__err(err, SIGIL_ERR_USAGE, "the deadline must not be negative");
	if (o->user_metadata_count > SIGIL_MAX_USER_METADATA)
		return sigil__err(err, SIGIL_ERR_USAGE, "at most %d user metadata pairs",
			SIGIL_MAX_USER_METADATA);
	for (size_t i = 0; i < o->user_metadata_count; i++)
		if (!o->user_metadata_keys || !o->user_metadata_values ||
		    !o->user_metadata_keys[i] || !o->user_metadata_values[i])
			return sigil__err(err, SIGIL_ERR_USAGE, "user metadata pair %zu is incomplete", i);
	return SIGIL_STATUS_OK;
}

/* What an operator can do about a failed check (the reason's last part). */
static const char *remedy(sigil_check k)
{
	switch (k) {
	case SIGIL_CHECK_INTEGRITY:
		return "the signature is malformed, tampered with or not for this artifact: re-sign the artifact";
	case SIGIL_CHECK_AUTHENTICITY:
		return "add the signer's root CA to a trust store the trust policy statement lists, or sign with a trusted key";
	case SIGIL_CHECK_TRUSTED_IDENTITY:
		return "add the signer's certificate subject to the statement's trustedIdentities, or sign with a trusted identity";
	case SIGIL_CHECK_EXPIRY:
		return "re-sign the artifact";
	case SIGIL_CHECK_AUTHENTIC_TIMESTAMP:
		return "re-sign with a currently valid certificate, or timestamp the signature with a TSA the policy trusts";
	case SIGIL_CHECK_REVOCATION:
		return "re-sign with a certificate that is not revoked; if its status is unknown, make the "
			"certificate's OCSP/CRL endpoints reachable or stage its CRLs in a revocation seed directory";
	case SIGIL_CHECK_PLUGIN:
		return "sign without a verification plugin, or verify this artifact with notation";
	case SIGIL_CHECK_USER_METADATA:
		return "sign the artifact with the required metadata";
	case SIGIL_CHECK__COUNT:
		break;
	}
	return "re-sign the artifact";
}

/* The checks of a passing signature that failed but whose action is "log"
 * (§4.4: levels audit and permissive), for its reason: an allow at such a
 * level must still tell the operator what would fail under "strict". */
static void logged_failures(const sigil_signature_result *sr, char *buf, size_t cap)
{
	buf[0] = '\0';
	for (int k = 0; k < SIGIL_CHECK__COUNT; k++) {
		const sigil__check_result *cr = &sr->checks[k];
		if (cr->outcome != SIGIL_OUTCOME_FAIL || cr->action != SIGIL_ACTION_LOG)
			continue;
		char one[SIGIL_ERROR_MESSAGE_MAX];
		snprintf(one, sizeof one, "%s check failed (logged, not enforced): %s",
			sigil_check_name((sigil_check)k), cr->message ? cr->message : "");
		add_problem(buf, cap, one);
	}
}

/* A one-line summary of why the signatures failed: the first signature's
 * failed check, its message, and what to do about it. */
static sigil_status summarize_failure(sigil_result *r, const char *ref, sigil_error *err)
{
	const sigil_signature_result *sr = &r->sigs[0];
	sigil_check k = sr->failed_check;
	const char *msg = k < SIGIL_CHECK__COUNT && sr->checks[k].message ? sr->checks[k].message : "";
	char more[64] = "";
	if (r->count > 1)
		snprintf(more, sizeof more, " (and %zu more signature%s failed)", r->count - 1,
			r->count > 2 ? "s" : "");
	return fail_result(r, SIGIL_FAILURE_SIGNATURES, err,
		"signature verification failed for %s: %s check failed on signature %s: %s%s (to fix: %s)",
		ref, k < SIGIL_CHECK__COUNT ? sigil_check_name(k) : "a", sr->digest, msg, more, remedy(k));
}

SIGIL_EXPORT sigil_status sigil_verify(sigil_verifier *v, sigil_source *src,
	const sigil_verify_options *opts, sigil_result **out, sigil_error *err)
{
	if (!v || !src || !out)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigil_verify: missing argument");
	SIGIL_TRY(validate_options(opts, err));
	sigil_result *r = NULL;
	SIGIL_TRY(sigil__result_new(&r, opts->scope, opts->digest, err));
	char ref[SIGIL_ERROR_MESSAGE_MAX / 2];
	snprintf(ref, sizeof ref, "%s@%s", opts->scope, opts->digest);
	int64_t now = opts->now ? opts->now : sigil__time_now();
	size_t max = opts->max_signatures ? opts->max_signatures : SIGIL_DEFAULT_MAX_SIGNATURES;
	/* one revocation budget for the whole verification, within the
	 * caller's deadline */
	int64_t rev_deadline = sigil__now_ms() + v->rev_budget_ms;
	if (opts->version >= 2 && opts->deadline_ms > 0 && opts->deadline_ms < rev_deadline)
		rev_deadline = opts->deadline_ms;
	sigil_status st = SIGIL_STATUS_OK;

	/* §4.2 step 2: the policy first; skip needs no signature access */
	const sigil_policy_statement *stmt = NULL;
	sigil_error perr = SIGIL_ERROR_INIT;
	if (sigil_policy_select(v->policy, opts->scope, &stmt, &perr) != SIGIL_STATUS_OK) {
		st = fail_result(r, SIGIL_FAILURE_NO_POLICY, err, "%s", perr.message);
		goto done;
	}
	r->has_policy = true;
	free(r->policy_name);
	r->policy_name = strdup(stmt->name);
	r->level = stmt->level;
	if (!r->policy_name) {
		st = sigil__err_oom(err);
		goto done;
	}
	if (stmt->level == SIGIL_LEVEL_SKIP) {
		r->verdict = SIGIL_VERDICT_PASS;
		st = sigil__result_set_reason(r, err,
			"trust policy \"%s\" is configured to skip signature verification for %s",
			stmt->name, ref);
		goto done;
	}

	sigil_error serr = SIGIL_ERROR_INIT;
	if (src->ops->resolve(src->ctx, opts->digest, &r->artifact, &serr) != SIGIL_STATUS_OK) {
		st = fail_result(r, SIGIL_FAILURE_RETRIEVAL, err, "unable to resolve %s: %s", ref,
			serr.message);
		goto done;
	}
	sigil_descriptor *sigs = NULL;
	size_t nsigs = 0;
	if (src->ops->list_signatures(src->ctx, &r->artifact, max, &sigs, &nsigs, &serr) !=
	    SIGIL_STATUS_OK) {
		st = fail_result(r, SIGIL_FAILURE_RETRIEVAL, err,
			"unable to list the signatures of %s: %s", ref, serr.message);
		goto done;
	}
	if (nsigs == 0) {
		/* §4.2 step 5: even at audit level (§8 row 17) */
		st = fail_result(r, SIGIL_FAILURE_NO_SIGNATURE, err,
			"no signature is associated with \"%s\", make sure the artifact was signed successfully "
			"(to fix: sign it, e.g. notation sign, or add its repository to a trust policy "
			"statement with level \"skip\")", ref);
		free(sigs);
		goto done;
	}
	for (size_t i = 0; i < nsigs && i < max; i++) {
		uint8_t *blob = NULL;
		size_t blob_len = 0;
		char media_type[SIGIL_MEDIA_TYPE_MAX] = "";
		sigil_failure why = SIGIL_FAILURE_RETRIEVAL;
		if (fetch_envelope(src, &sigs[i], &blob, &blob_len, media_type, &why, &serr) !=
		    SIGIL_STATUS_OK) {
			/* §4.2 step 4: a signature that cannot be read aborts the
			 * whole verification rather than being skipped */
			st = fail_result(r, why, err,
				"unable to retrieve digital signature with digest \"%s\" associated with \"%s\": %s",
				sigs[i].digest, ref, serr.message);
			free(sigs);
			goto done;
		}
		sigil_signature_result *sr = NULL;
		if (sigil__result_add_signature(r, &sigs[i], &sr, err) != SIGIL_STATUS_OK) {
			free(blob);
			free(sigs);
			st = SIGIL_STATUS_ERROR;
			goto done;
		}
		sig_ctx c = { v, stmt, &r->artifact, opts, now, sr, INT64_MAX, rev_deadline };
		verify_one(&c, media_type, blob, blob_len, err);
		free(blob);
		if (sr->verdict == SIGIL_VERDICT_PASS) {
			/* §4.2 step 4: the first valid signature wins */
			r->verdict = SIGIL_VERDICT_PASS;
			r->valid_until = c.valid_until;
			char logged[SIGIL_ERROR_MESSAGE_MAX];
			logged_failures(sr, logged, sizeof logged);
			st = sigil__result_set_reason(r, err,
				"signature %s verified for %s under trust policy \"%s\" (%s), signed by \"%s\"%s%s",
				sr->digest, ref, stmt->name, sigil_level_name(stmt->level),
				sr->signer ? sr->signer : "", logged[0] ? "; " : "", logged);
			free(sigs);
			goto done;
		}
	}
	free(sigs);
	if (r->count >= max) {
		st = fail_result(r, SIGIL_FAILURE_LIMIT, err,
			"signature evaluation stopped. The configured limit of %zu signatures to verify per artifact exceeded for %s",
			max, ref);
		goto done;
	}
	st = summarize_failure(r, ref, err);
done:
	if (st != SIGIL_STATUS_OK) {
		sigil_result_free(r);
		return SIGIL_STATUS_ERROR;
	}
	*out = r;
	return SIGIL_STATUS_OK;
}
