/* envelope.h - a parsed and integrity-verified signature envelope, whatever
 * its format (JWS §1.6, COSE §1.7). */
#ifndef SIGIL_ENVELOPE_H
#define SIGIL_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/x509.h>
#include <sigil/error.h>
#include "sigalg.h"

#define SIGIL_MEDIA_TYPE_JWS "application/jose+json"
#define SIGIL_MEDIA_TYPE_COSE "application/cose"
#define SIGIL_PAYLOAD_CONTENT_TYPE "application/vnd.cncf.notary.payload.v1+json"

/* Signed and unsigned attribute names (§1.3, §1.4; JWS keys and COSE text
 * labels alike). */
#define SIGIL_HDR_SIGNING_SCHEME "io.cncf.notary.signingScheme"
#define SIGIL_HDR_SIGNING_TIME "io.cncf.notary.signingTime"
#define SIGIL_HDR_AUTHENTIC_SIGNING_TIME "io.cncf.notary.authenticSigningTime"
#define SIGIL_HDR_EXPIRY "io.cncf.notary.expiry"
#define SIGIL_HDR_PLUGIN "io.cncf.notary.verificationPlugin"
#define SIGIL_HDR_PLUGIN_MIN_VERSION "io.cncf.notary.verificationPluginMinVersion"
#define SIGIL_HDR_TIMESTAMP "io.cncf.notary.timestampSignature"
#define SIGIL_HDR_SIGNING_AGENT "io.cncf.notary.signingAgent"
#define SIGIL_SCHEME_X509_NAME "notary.x509"
#define SIGIL_SCHEME_SA_NAME "notary.x509.signingAuthority"

typedef enum sigil__envelope_format {
	SIGIL_ENVELOPE_JWS = 1,
	SIGIL_ENVELOPE_COSE,
} sigil__envelope_format;

typedef enum sigil__signing_scheme {
	SIGIL_SCHEME_X509 = 1,              /* "notary.x509" */
	SIGIL_SCHEME_SIGNING_AUTHORITY,     /* "notary.x509.signingAuthority" */
} sigil__signing_scheme;

typedef struct sigil__envelope {
	sigil__envelope_format format;
	sigil__sigalg alg;             /* from the header; equals the leaf key's */
	sigil__signing_scheme scheme;
	/* signingTime under notary.x509, authenticSigningTime under SA */
	int64_t signing_time;
	bool has_expiry;
	int64_t expiry;
	/* io.cncf.notary.verificationPlugin[MinVersion] (critical), or NULL */
	char *verification_plugin;
	char *verification_plugin_min_version;
	STACK_OF(X509) *chain;         /* leaf first; never empty */
	uint8_t *payload;              /* raw payload bytes (signed) */
	size_t payload_len;
	/* payload accepted by sigil__json_parse_object already (JWS, §1.6
	 * step 3): sigil__payload_parse_checked may skip that step */
	bool payload_json_checked;
	uint8_t *signature;            /* primitive signature bytes */
	size_t signature_len;
	uint8_t *timestamp;            /* RFC 3161 token (DER/BER) or NULL */
	size_t timestamp_len;
	char *signing_agent;           /* informational only, or NULL */
	/* What the primitive signature covers (JWS: protected "." payload as
	 * received, §1.6; COSE: the Sig_structure, §1.7) and the format's PSS
	 * salt rule (§1.5). Filled by the format halves; sigil__envelope_parse
	 * frees signed_input once the signature is verified. */
	uint8_t *signed_input;
	size_t signed_input_len;
	sigil__pss_salt pss_salt;
} sigil__envelope;

/* sigil__envelope_parse - parse an envelope of the given layer media type
 * and verify its integrity: format rules, primitive signature with the leaf
 * key and the algorithm bound to it, signed attributes (signing scheme,
 * times, crit processing: an unknown critical attribute fails - stricter
 * than notation, §8 row 1), content type, and the chain structure
 * (sigil__chain_validate_codesigning). Any failure is an integrity failure:
 * SIGIL_ERR_MALFORMED, _CRYPTO, _UNSUPPORTED or _LIMIT with a
 * notation-compatible message. An unsupported media type fails with
 * SIGIL_ERR_UNSUPPORTED `signature envelope format with media type "<x>" is
 * not supported`. A verification-plugin attribute does not fail here: it is
 * returned in the envelope for the caller to act on (§4.6). Expiry at or
 * before the signing time is left to the expiry check. *out is owned by the
 * caller (sigil__envelope_free). */
SIGIL_MUST_CHECK sigil_status sigil__envelope_parse(const char *media_type,
	const uint8_t *buf, size_t len, sigil__envelope **out, sigil_error *err);

/* Format-specific halves, called by sigil__envelope_parse. */
SIGIL_MUST_CHECK sigil_status sigil__jws_parse(const uint8_t *buf, size_t len,
	sigil__envelope **out, sigil_error *err);
SIGIL_MUST_CHECK sigil_status sigil__cose_parse(const uint8_t *buf, size_t len,
	sigil__envelope **out, sigil_error *err);

void sigil__envelope_free(sigil__envelope *env);

/* Shared by jws.c and cose.c (internal to the envelope module). */

/* One crit entry: a text label (name, NUL-free) or, for COSE, an integer
 * label (name NULL). present: the label occurs in the protected header. */
typedef struct sigil__crit_entry {
	const char *name;
	int64_t label;
	bool present;
} sigil__crit_entry;

/* The format-independent signed attributes (§1.3), as found in the
 * protected header. Strings are borrowed and NUL-free; NULL when absent. */
typedef struct sigil__signed_attrs {
	const char *content_type;
	const char *scheme;
	bool has_signing_time;
	int64_t signing_time;
	bool has_authentic_signing_time;
	int64_t authentic_signing_time;
	bool has_expiry;
	int64_t expiry;
	const char *plugin;
	const char *plugin_min_version;
	bool has_crit;
	const sigil__crit_entry *crit;
	size_t n_crit;
} sigil__signed_attrs;

/* sigil__envelope_apply_signed_attrs - the §1.3/§1.6 step 5-6 rules common
 * to both formats (content type, signing scheme, times per scheme, crit),
 * then fills env->scheme, signing_time, has_expiry/expiry and the plugin
 * strings (copied). */
SIGIL_MUST_CHECK sigil_status sigil__envelope_apply_signed_attrs(sigil__envelope *env,
	const sigil__signed_attrs *a, sigil_error *err);

/* sigil__envelope_add_cert - parse one DER certificate (exactly, no
 * trailing bytes) and append it to *chain (created on first use); index 0
 * is the leaf ("malformed leaf certificate"). Bounded by
 * SIGIL_MAX_CHAIN_LENGTH and SIGIL_MAX_CERT_SIZE. */
SIGIL_MUST_CHECK sigil_status sigil__envelope_add_cert(STACK_OF(X509) **chain,
	const uint8_t *der, size_t der_len, sigil_error *err);

#endif
