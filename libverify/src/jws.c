/* jws.c - the JWS JSON serialization envelope (application/jose+json),
 * notary-verification.md §1.6, RFC 7515. */
#include <string.h>
#include "envelope.h"
#include "b64.h"
#include "cleanup.h"
#include "errors.h"
#include "jsonutil.h"
#include "bounds.h"
#include "timeutil.h"

/* Go's zero time.Time, 0001-01-01T00:00:00Z: notation treats an explicit
 * zero time as absent (§1.6 "RFC 3339 times"). */
#define GO_ZERO_TIME INT64_C(-62135596800)

/* Names that must only appear in the protected header: the JOSE registered
 * parameters sigil reads or that change processing (RFC 7515 §4.1 - x5c
 * excepted, Notary puts the chain in the unprotected header) and the Notary
 * signed attributes (§1.3). */
static bool protected_only(const char *name)
{
	static const char *const names[] = {
		"alg", "jku", "jwk", "kid", "x5u", "x5t", "x5t#S256", "typ", "cty", "crit",
		"b64", "zip", "enc",
		SIGIL_HDR_SIGNING_SCHEME, SIGIL_HDR_SIGNING_TIME, SIGIL_HDR_AUTHENTIC_SIGNING_TIME,
		SIGIL_HDR_EXPIRY, SIGIL_HDR_PLUGIN, SIGIL_HDR_PLUGIN_MIN_VERSION,
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

/* A string member without embedded NUL (a "\u0000" escape would make C
 * string comparisons see a prefix). */
static sigil_status get_str(json_object *obj, const char *key, const char **out, size_t *out_len,
	sigil_error *err)
{
	bool present = false;
	const char *s = NULL;
	*out = NULL;
	if (out_len)
		*out_len = 0;
	SIGIL_TRY(sigil__json_get_string(obj, key, &s, &present, err));
	if (!present)
		return SIGIL_STATUS_OK;
	json_object *v = json_object_object_get(obj, key);
	size_t n = (size_t)json_object_get_string_len(v);
	if (strlen(s) != n)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "%s: string contains a NUL character", key);
	*out = s;
	if (out_len)
		*out_len = n;
	return SIGIL_STATUS_OK;
}

static sigil_status get_time(json_object *hdr, const char *key, bool *present, int64_t *out,
	sigil_error *err)
{
	const char *s = NULL;
	size_t n = 0;
	*present = false;
	SIGIL_TRY(get_str(hdr, key, &s, &n, err));
	if (!s)
		return SIGIL_STATUS_OK;
	int64_t t = 0;
	if (sigil__time_parse_rfc3339(s, n, &t, err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "\"%s\" header", key);
	if (t == GO_ZERO_TIME)
		return SIGIL_STATUS_OK;
	*present = true;
	*out = t;
	return SIGIL_STATUS_OK;
}

static sigil_status decode_b64url_member(const char *what, const char *s, size_t n, size_t max_decoded,
	uint8_t **out, size_t *out_len, sigil_error *err)
{
	/* base64url without padding expands 3 bytes to 4 characters. */
	if (n / 4 * 3 > max_decoded)
		return sigil__err(err, SIGIL_ERR_LIMIT, "%s is larger than %zu bytes", what, max_decoded);
	if (sigil__b64url_decode(s, n, out, out_len, err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "signature is invalid. Error: %s", what);
	return SIGIL_STATUS_OK;
}

/* The unprotected header (§1.6 table "Unprotected header"). */
static sigil_status parse_unprotected(json_object *hdr, json_object *prot, sigil__envelope *env,
	sigil_error *err)
{
	/* RFC 7515 §7.2.1: the two headers must be disjoint; and a parameter
	 * that changes processing must be integrity-protected (adversarial
	 * 057: alg and cty repeated unprotected). */
	json_object_object_foreach(hdr, key, val) {
		(void)val;
		if (json_object_object_get_ex(prot, key, NULL))
			return sigil__err(err, SIGIL_ERR_MALFORMED,
				"\"%s\" header must not appear in both the protected and unprotected header", key);
		if (protected_only(key))
			return sigil__err(err, SIGIL_ERR_MALFORMED,
				"\"%s\" header is not allowed in the unprotected header", key);
	}

	json_object *x5c = NULL;
	bool present = false;
	if (sigil__json_get_array(hdr, "x5c", &x5c, &present, err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "signature envelope format is invalid");
	size_t n = present ? json_object_array_length(x5c) : 0;
	if (n == 0)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "certificate chain is not present");
	if (n > SIGIL_MAX_CHAIN_LENGTH)
		return sigil__err(err, SIGIL_ERR_LIMIT, "certificate chain has more than %d certificates",
			SIGIL_MAX_CHAIN_LENGTH);
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(x5c, i);
		if (!json_object_is_type(e, json_type_string))
			return sigil__err(err, SIGIL_ERR_MALFORMED,
				"signature envelope format is invalid: x5c[%zu] is not a string", i);
		size_t slen = (size_t)json_object_get_string_len(e);
		if (slen / 4 * 3 > SIGIL_MAX_CERT_SIZE)
			return sigil__err(err, SIGIL_ERR_LIMIT, "x5c[%zu] is larger than %u bytes", i,
				SIGIL_MAX_CERT_SIZE);
		/* §1.6: x5c entries are standard base64 with padding (RFC 7515
		 * §4.1.6), not base64url (adversarial 055). */
		_cleanup_free_ uint8_t *der = NULL;
		size_t der_len = 0;
		if (sigil__b64std_decode(json_object_get_string(e), slen, &der, &der_len, err) != SIGIL_STATUS_OK)
			return sigil__err_wrap(err, "signature envelope format is invalid: x5c[%zu]", i);
		SIGIL_TRY(sigil__envelope_add_cert(&env->chain, der, der_len, err));
	}

	const char *ts = NULL;
	size_t ts_len = 0;
	SIGIL_TRY(get_str(hdr, SIGIL_HDR_TIMESTAMP, &ts, &ts_len, err));
	if (ts && ts_len) {
		if (ts_len / 4 * 3 > SIGIL_MAX_TIMESTAMP_SIZE)
			return sigil__err(err, SIGIL_ERR_LIMIT, "timestamp signature is larger than %u bytes",
				SIGIL_MAX_TIMESTAMP_SIZE);
		if (sigil__b64std_decode(ts, ts_len, &env->timestamp, &env->timestamp_len, err) != SIGIL_STATUS_OK)
			return sigil__err_wrap(err, "signature envelope format is invalid: \"%s\"",
				SIGIL_HDR_TIMESTAMP);
		if (env->timestamp_len == 0) {
			free(env->timestamp);
			env->timestamp = NULL;
		}
	}

	/* §1.4: the signing agent is opaque, "the verifier must neither
	 * validate it nor fail on it": a value that is not a NUL-free string
	 * is ignored, as the COSE half does. */
	json_object *agent = NULL;
	if (json_object_object_get_ex(hdr, SIGIL_HDR_SIGNING_AGENT, &agent) &&
	    json_object_is_type(agent, json_type_string) &&
	    strlen(json_object_get_string(agent)) == (size_t)json_object_get_string_len(agent) &&
	    !(env->signing_agent = strdup(json_object_get_string(agent))))
		return sigil__err_oom(err);
	return SIGIL_STATUS_OK;
}

/* The protected header (§1.6 table "Protected header", steps 4-7). */
static sigil_status parse_protected(json_object *prot, sigil__envelope *env, sigil_error *err)
{
	const char *alg = NULL;
	SIGIL_TRY(get_str(prot, "alg", &alg, NULL, err));
	if (!alg)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "missing \"alg\" header");
	SIGIL_TRY(sigil__sigalg_from_jws(alg, &env->alg, err));

	sigil__signed_attrs a = { 0 };
	SIGIL_TRY(get_str(prot, "cty", &a.content_type, NULL, err));
	SIGIL_TRY(get_str(prot, SIGIL_HDR_SIGNING_SCHEME, &a.scheme, NULL, err));
	SIGIL_TRY(get_time(prot, SIGIL_HDR_SIGNING_TIME, &a.has_signing_time, &a.signing_time, err));
	SIGIL_TRY(get_time(prot, SIGIL_HDR_AUTHENTIC_SIGNING_TIME, &a.has_authentic_signing_time,
		&a.authentic_signing_time, err));
	SIGIL_TRY(get_time(prot, SIGIL_HDR_EXPIRY, &a.has_expiry, &a.expiry, err));
	SIGIL_TRY(get_str(prot, SIGIL_HDR_PLUGIN, &a.plugin, NULL, err));
	SIGIL_TRY(get_str(prot, SIGIL_HDR_PLUGIN_MIN_VERSION, &a.plugin_min_version, NULL, err));

	json_object *crit = NULL;
	SIGIL_TRY(sigil__json_get_array(prot, "crit", &crit, &a.has_crit, err));
	_cleanup_free_ sigil__crit_entry *entries = NULL;
	if (a.has_crit) {
		size_t n = json_object_array_length(crit);
		if (n > SIGIL_MAX_CRIT_ENTRIES)
			return sigil__err(err, SIGIL_ERR_LIMIT, "\"crit\" header has more than %d entries",
				SIGIL_MAX_CRIT_ENTRIES);
		if (n && !(entries = calloc(n, sizeof(*entries))))
			return sigil__err_oom(err);
		for (size_t i = 0; i < n; i++) {
			json_object *e = json_object_array_get_idx(crit, i);
			/* RFC 7515 §4.1.11: an array of header parameter names. */
			if (!json_object_is_type(e, json_type_string) ||
			    strlen(json_object_get_string(e)) != (size_t)json_object_get_string_len(e))
				return sigil__err(err, SIGIL_ERR_MALFORMED,
					"\"crit\" header: entry %zu is not a header name", i);
			entries[i].name = json_object_get_string(e);
			entries[i].present = json_object_object_get_ex(prot, entries[i].name, NULL);
		}
		a.crit = entries;
		a.n_crit = n;
	}
	return sigil__envelope_apply_signed_attrs(env, &a, err);
}

static inline void envelope_freep(sigil__envelope **p) { sigil__envelope_free(*p); }

sigil_status sigil__jws_parse(const uint8_t *buf, size_t len, sigil__envelope **out, sigil_error *err)
{
	if (len > SIGIL_MAX_ENVELOPE_SIZE)
		return sigil__err(err, SIGIL_ERR_LIMIT, "signature envelope is larger than %u bytes",
			SIGIL_MAX_ENVELOPE_SIZE);
	_cleanup_(json_object_putp) json_object *root = NULL;
	SIGIL_TRY(sigil__json_parse_object(buf, len, "signature envelope format is invalid", &root, err));

	/* §1.6: the flattened serialization with exactly these members; the
	 * spec allows no others (adversarial 058, stricter than notation). */
	json_object_object_foreach(root, key, val) {
		(void)val;
		if (strcmp(key, "payload") != 0 && strcmp(key, "protected") != 0 &&
		    strcmp(key, "header") != 0 && strcmp(key, "signature") != 0)
			return sigil__err(err, SIGIL_ERR_MALFORMED,
				"signature envelope format is invalid: unexpected member \"%s\"", key);
	}
	const char *prot_s = NULL, *payload_s = NULL, *sig_s = NULL;
	size_t prot_n = 0, payload_n = 0, sig_n = 0;
	json_object *hdr = NULL;
	bool hdr_present = false;
	if (get_str(root, "protected", &prot_s, &prot_n, err) != SIGIL_STATUS_OK ||
	    get_str(root, "payload", &payload_s, &payload_n, err) != SIGIL_STATUS_OK ||
	    get_str(root, "signature", &sig_s, &sig_n, err) != SIGIL_STATUS_OK ||
	    sigil__json_get_object(root, "header", &hdr, &hdr_present, err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "signature envelope format is invalid");
	if (!prot_s || !payload_s || !sig_s)
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			"signature envelope format is invalid: missing \"%s\"",
			!prot_s ? "protected" : !payload_s ? "payload" : "signature");
	if (!hdr_present)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "certificate chain is not present");

	_cleanup_(envelope_freep) sigil__envelope *env = calloc(1, sizeof(*env));
	if (!env)
		return sigil__err_oom(err);
	env->format = SIGIL_ENVELOPE_JWS;
	/* §1.5: golang-jwt verifies PSS with PSSSaltLengthAuto. */
	env->pss_salt = SIGIL_PSS_SALT_AUTO;

	/* Protected header: base64url without padding (RFC 7515 §2,
	 * adversarial 052), a JSON object. */
	_cleanup_free_ uint8_t *prot_raw = NULL;
	size_t prot_raw_len = 0;
	SIGIL_TRY(decode_b64url_member("protected header", prot_s, prot_n, SIGIL_MAX_HEADER_SIZE,
		&prot_raw, &prot_raw_len, err));
	_cleanup_(json_object_putp) json_object *prot = NULL;
	if (sigil__json_parse_object(prot_raw, prot_raw_len, "protected header", &prot, err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "signature is invalid. Error");

	SIGIL_TRY(parse_unprotected(hdr, prot, env, err));

	/* Payload: base64url; golang-jwt decodes it as claims, so it must be
	 * a non-empty JSON object (§1.6 step 3; adversarial 050). */
	SIGIL_TRY(decode_b64url_member("payload", payload_s, payload_n, SIGIL_MAX_ENVELOPE_SIZE,
		&env->payload, &env->payload_len, err));
	if (env->payload_len == 0)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "signature is invalid. Error: payload is empty");
	{
		_cleanup_(json_object_putp) json_object *claims = NULL;
		if (sigil__json_parse_object(env->payload, env->payload_len, "payload", &claims, err) !=
		    SIGIL_STATUS_OK)
			return sigil__err_wrap(err, "signature is invalid. Error");
		env->payload_json_checked = true;
	}

	SIGIL_TRY(decode_b64url_member("signature", sig_s, sig_n, SIGIL_MAX_ENVELOPE_SIZE,
		&env->signature, &env->signature_len, err));
	if (env->signature_len == 0)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "signature is invalid. Error: signature is empty");

	SIGIL_TRY(parse_protected(prot, env, err));

	/* Signing input: ASCII(protected "." payload) exactly as the two
	 * strings appear in the envelope (RFC 7515 §5.2 step 8). */
	if (prot_n > SIZE_MAX - 1 - payload_n)
		return sigil__err(err, SIGIL_ERR_LIMIT, "signing input too large");
	size_t in_len = prot_n + 1 + payload_n;
	if (!(env->signed_input = malloc(in_len)))
		return sigil__err_oom(err);
	memcpy(env->signed_input, prot_s, prot_n);
	env->signed_input[prot_n] = '.';
	memcpy(env->signed_input + prot_n + 1, payload_s, payload_n);
	env->signed_input_len = in_len;

	*out = TAKE_PTR(env);
	return SIGIL_STATUS_OK;
}
