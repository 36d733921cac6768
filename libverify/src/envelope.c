/* envelope.c - format dispatch and the format-independent half of envelope
 * integrity (notary-verification.md §1.3-§1.5, §1.6 steps 5-9, §1.7 steps
 * 3-6). */
#include <inttypes.h>
#include <string.h>
#include <openssl/err.h>
#include "envelope.h"
#include "certcache.h"
#include "certchain.h"
#include "cleanup.h"
#include "errors.h"
#include "bounds.h"

void sigil__envelope_free(sigil__envelope *env)
{
	if (!env)
		return;
	sk_X509_pop_free(env->chain, X509_free);
	free(env->verification_plugin);
	free(env->verification_plugin_min_version);
	free(env->payload);
	free(env->signature);
	free(env->timestamp);
	free(env->signing_agent);
	free(env->signed_input);
	free(env);
}

static inline void envelope_freep(sigil__envelope **p) { sigil__envelope_free(*p); }

sigil_status sigil__envelope_add_cert(STACK_OF(X509) **chain, const uint8_t *der, size_t der_len,
	sigil_error *err)
{
	int index = *chain ? sk_X509_num(*chain) : 0;
	if (index >= SIGIL_MAX_CHAIN_LENGTH)
		return sigil__err(err, SIGIL_ERR_LIMIT, "certificate chain has more than %d certificates",
			SIGIL_MAX_CHAIN_LENGTH);
	if (der_len > SIGIL_MAX_CERT_SIZE)
		return sigil__err(err, SIGIL_ERR_LIMIT, "certificate %d in the chain is larger than %u bytes",
			index, SIGIL_MAX_CERT_SIZE);
	/* Go's x509.ParseCertificate rejects trailing data after the DER
	 * (so does sigil__certcache_parse); a signer's certificates are
	 * parsed once, not in every envelope (certcache.h). */
	_cleanup_(X509_freep) X509 *cert = sigil__certcache_parse(der, der_len);
	if (!cert) {
		ERR_clear_error();
		if (index == 0)
			return sigil__err(err, SIGIL_ERR_MALFORMED, "malformed leaf certificate");
		return sigil__err(err, SIGIL_ERR_MALFORMED, "malformed certificate at index %d in the chain",
			index);
	}
	if (!*chain && !(*chain = sk_X509_new_null()))
		return sigil__err_oom(err);
	if (!sk_X509_push(*chain, cert))
		return sigil__err_oom(err);
	cert = NULL;
	return SIGIL_STATUS_OK;
}

static bool str_eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* Names a signer must never list in crit: the JOSE registered header
 * parameters (RFC 7515 §4.1, RFC 7516 §4.1, RFC 7797 b64 is deliberately
 * not understood either) and the non-critical signingTime (§1.3: an
 * informational attribute must not be critical). */
static bool never_critical(const char *name)
{
	static const char *const names[] = {
		"alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty",
		"crit", "enc", "zip", SIGIL_HDR_SIGNING_TIME,
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

static void crit_label(const sigil__crit_entry *e, char *buf, size_t buflen)
{
	if (e->name)
		snprintf(buf, buflen, "%s", e->name);
	else
		snprintf(buf, buflen, "%" PRId64, e->label);
}

static sigil_status check_crit(const sigil__signed_attrs *a, bool sa, sigil_error *err)
{
	/* §1.6 step 6 / §1.7 step 5: crit is required by Notary even though
	 * JOSE and COSE make it optional, and must not be empty. */
	if (!a->has_crit || a->n_crit == 0)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "missing \"crit\" header");
	if (a->n_crit > SIGIL_MAX_CRIT_ENTRIES)
		return sigil__err(err, SIGIL_ERR_LIMIT, "\"crit\" header has more than %d entries",
			SIGIL_MAX_CRIT_ENTRIES);
	bool marked_scheme = false, marked_ast = false, marked_expiry = false;
	bool marked_plugin = false, marked_min = false;
	for (size_t i = 0; i < a->n_crit; i++) {
		const sigil__crit_entry *e = &a->crit[i];
		char label[128];
		crit_label(e, label, sizeof(label));
		/* RFC 7515 §4.1.11 / RFC 9052 §3.1: every listed label must be
		 * present in the protected header. */
		if (!e->present)
			return sigil__err(err, SIGIL_ERR_MALFORMED,
				"\"%s\" header is marked critical but not present", label);
		/* A repeated entry is a malformed crit list (adversarial 012/013). */
		for (size_t j = 0; j < i; j++) {
			const sigil__crit_entry *f = &a->crit[j];
			if ((e->name && f->name && strcmp(e->name, f->name) == 0) ||
			    (!e->name && !f->name && e->label == f->label))
				return sigil__err(err, SIGIL_ERR_MALFORMED,
					"\"%s\" header is marked critical more than once", label);
		}
		if (!e->name) {
			/* RFC 9052 §3.1: labels 0-8 must not be listed; any other
			 * integer label is an extension sigil does not understand. */
			if (e->label >= 0 && e->label <= 8)
				return sigil__err(err, SIGIL_ERR_MALFORMED,
					"\"%s\" header must not be marked critical", label);
			return sigil__err(err, SIGIL_ERR_UNSUPPORTED,
				"\"%s\" header is marked critical but is not supported", label);
		}
		if (strcmp(e->name, SIGIL_HDR_SIGNING_SCHEME) == 0)
			marked_scheme = true;
		else if (strcmp(e->name, SIGIL_HDR_EXPIRY) == 0)
			marked_expiry = true;
		else if (strcmp(e->name, SIGIL_HDR_PLUGIN) == 0)
			marked_plugin = true;
		else if (strcmp(e->name, SIGIL_HDR_PLUGIN_MIN_VERSION) == 0)
			marked_min = true;
		else if (sa && strcmp(e->name, SIGIL_HDR_AUTHENTIC_SIGNING_TIME) == 0)
			marked_ast = true;
		else if (never_critical(e->name))
			return sigil__err(err, SIGIL_ERR_MALFORMED,
				"\"%s\" header must not be marked critical", label);
		else
			/* §1.3 and §8 row 1: an unknown critical attribute MUST fail
			 * verification - deliberately stricter than notation, which
			 * accepts it unless a plugin is declared. */
			return sigil__err(err, SIGIL_ERR_UNSUPPORTED,
				"\"%s\" header is marked critical but is not supported", label);
	}
	/* §1.3: the attributes the verifier must process are critical. */
	char missing[512] = "";
	size_t used = 0;
	const struct { bool needed, marked; const char *name; } req[] = {
		{ true, marked_scheme, SIGIL_HDR_SIGNING_SCHEME },
		{ sa, marked_ast, SIGIL_HDR_AUTHENTIC_SIGNING_TIME },
		{ a->has_expiry, marked_expiry, SIGIL_HDR_EXPIRY },
		{ a->plugin != NULL, marked_plugin, SIGIL_HDR_PLUGIN },
		{ a->plugin_min_version != NULL, marked_min, SIGIL_HDR_PLUGIN_MIN_VERSION },
	};
	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		if (!req[i].needed || req[i].marked)
			continue;
		int n = snprintf(missing + used, sizeof(missing) - used, "%s%s", used ? " " : "",
			req[i].name);
		if (n > 0 && (size_t)n < sizeof(missing) - used)
			used += (size_t)n;
	}
	if (used)
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			"these required headers are not marked as critical: [%s]", missing);
	return SIGIL_STATUS_OK;
}

sigil_status sigil__envelope_apply_signed_attrs(sigil__envelope *env, const sigil__signed_attrs *a,
	sigil_error *err)
{
	/* §1.2 / §1.3: the only payload type. */
	if (!str_eq(a->content_type, SIGIL_PAYLOAD_CONTENT_TYPE))
		return sigil__err(err, SIGIL_ERR_UNSUPPORTED, "payload content type \"%s\" not supported",
			a->content_type ? a->content_type : "");
	/* §1.3: the signing scheme is required and one of two values. */
	if (!a->scheme)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "missing \"%s\" header",
			SIGIL_HDR_SIGNING_SCHEME);
	sigil__signing_scheme scheme;
	if (strcmp(a->scheme, SIGIL_SCHEME_X509_NAME) == 0)
		scheme = SIGIL_SCHEME_X509;
	else if (strcmp(a->scheme, SIGIL_SCHEME_SA_NAME) == 0)
		scheme = SIGIL_SCHEME_SIGNING_AUTHORITY;
	else
		return sigil__err(err, SIGIL_ERR_UNSUPPORTED, "unsupported SigningScheme \"%s\"", a->scheme);
	bool sa = scheme == SIGIL_SCHEME_SIGNING_AUTHORITY;

	/* §1.3 and §8 row 21: each time attribute is only valid under its own
	 * scheme; a stray one fails in both formats (notation's COSE path
	 * ignores it, its JWS path rejects it - we follow the spec). */
	if (!sa && a->has_authentic_signing_time)
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			"\"%s\" header must not be present for %s signing scheme",
			SIGIL_HDR_AUTHENTIC_SIGNING_TIME, SIGIL_SCHEME_X509_NAME);
	if (sa && a->has_signing_time)
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			"\"%s\" header must not be present for %s signing scheme",
			SIGIL_HDR_SIGNING_TIME, SIGIL_SCHEME_SA_NAME);
	if (sa && !a->has_authentic_signing_time)
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			"\"%s\" header must be present for %s signing scheme",
			SIGIL_HDR_AUTHENTIC_SIGNING_TIME, SIGIL_SCHEME_SA_NAME);
	/* [IMPL] §1.3: a signing time is mandatory in both schemes. */
	if (!sa && !a->has_signing_time)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "signing-time not present");

	SIGIL_TRY(check_crit(a, sa, err));

	_cleanup_free_ char *plugin = NULL, *min = NULL;
	if (a->plugin && !(plugin = strdup(a->plugin)))
		return sigil__err_oom(err);
	if (a->plugin_min_version && !(min = strdup(a->plugin_min_version)))
		return sigil__err_oom(err);
	env->scheme = scheme;
	env->signing_time = sa ? a->authentic_signing_time : a->signing_time;
	/* expiry <= signing time is left to the expiry check (envelope.h). */
	env->has_expiry = a->has_expiry;
	env->expiry = a->expiry;
	free(env->verification_plugin);
	free(env->verification_plugin_min_version);
	env->verification_plugin = TAKE_PTR(plugin);
	env->verification_plugin_min_version = TAKE_PTR(min);
	return SIGIL_STATUS_OK;
}

/* The common half (§1.6 steps 7-9, §1.7 steps 2-4, 6): the algorithm
 * bound to the leaf key, the primitive signature, the chain structure. */
static sigil_status verify_common(sigil__envelope *env, sigil_error *err)
{
	if (!env->chain || sk_X509_num(env->chain) == 0)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "certificate chain is not present");
	EVP_PKEY *key = X509_get0_pubkey(sk_X509_value(env->chain, 0));
	if (!key) {
		ERR_clear_error();
		return sigil__err(err, SIGIL_ERR_MALFORMED, "malformed leaf certificate");
	}
	sigil__sigalg key_alg = SIGIL_SIGALG_NONE;
	SIGIL_TRY(sigil__sigalg_from_key(key, &key_alg, err));
	/* §1.5: the key decides the algorithm; checked before any signature
	 * math so a substituted alg is never used with this key. */
	if (key_alg != env->alg)
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			"mismatch between signature algorithm derived from signing certificate (%s) "
			"and signing algorithm specified (%s)",
			sigil__sigalg_name(key_alg), sigil__sigalg_name(env->alg));
	if (!env->signed_input)
		return sigil__err(err, SIGIL_ERR_INTERNAL, "signed content missing");
	SIGIL_TRY(sigil__sigalg_verify(env->alg, env->pss_salt, key, env->signed_input,
		env->signed_input_len, env->signature, env->signature_len, err));
	SIGIL_TRY(sigil__chain_validate_codesigning(env->chain, err));
	free(env->signed_input);
	env->signed_input = NULL;
	env->signed_input_len = 0;
	return SIGIL_STATUS_OK;
}

sigil_status sigil__envelope_parse(const char *media_type, const uint8_t *buf, size_t len,
	sigil__envelope **out, sigil_error *err)
{
	_cleanup_(envelope_freep) sigil__envelope *env = NULL;
	if (!media_type)
		media_type = "";
	if (strcmp(media_type, SIGIL_MEDIA_TYPE_JWS) == 0) {
		SIGIL_TRY(sigil__jws_parse(buf, len, &env, err));
	} else if (strcmp(media_type, SIGIL_MEDIA_TYPE_COSE) == 0) {
		SIGIL_TRY(sigil__cose_parse(buf, len, &env, err));
	} else {
		return sigil__err(err, SIGIL_ERR_UNSUPPORTED,
			"signature envelope format with media type \"%s\" is not supported", media_type);
	}
	SIGIL_TRY(verify_common(env, err));
	*out = TAKE_PTR(env);
	return SIGIL_STATUS_OK;
}
