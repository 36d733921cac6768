/* timestamp.c - RFC 3161 timestamp countersignatures
 * (notary-verification.md §5; RFC 3161 §2.4.2, RFC 5652 §5, RFC 5816).
 *
 * The token is decoded with OpenSSL's PKCS7 types (d2i accepts BER, as
 * notation converts BER to DER first) and the TSTInfo with TS_TST_INFO;
 * every rule of §5.3 steps 2-7 is then checked here explicitly, in the
 * order tspclient-go applies them, so that the first failure reported is
 * the one notation would report. OpenSSL's own TS_VERIFY_CTX is not used:
 * it accepts signingCertificate v1, checks ESS ids against the whole chain
 * and has no place for the TSA leaf EKU wording notation uses. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <openssl/asn1t.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/rsa.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include "timestamp.h"
#include "bounds.h"
#include "certchain.h"
#include "cleanup.h"
#include "errors.h"
#include "timeutil.h"

/* Message prefixes of notation-go's verifyTimestamp (§5.3, §7.7). */
#define PARSE_PREFIX "failed to parse timestamp countersignature with error: "
#define TSTINFO_PREFIX "failed to get the timestamp TSTInfo with error: "
#define VALIDATE_PREFIX "failed to get timestamp from timestamp countersignature with error: "
#define VERIFY_PREFIX "failed to verify the timestamp countersignature with error: " \
	"failed to verify signed token: "
#define CMS_FAIL "cms verification failure: "

/* ------------------------------------------------------------------ */
/* ASN.1 types OpenSSL keeps opaque: SigningCertificateV2 (RFC 5035 §3). */

/* IssuerSerial ::= SEQUENCE { issuer GeneralNames,
 *                             serialNumber CertificateSerialNumber } */
typedef struct ts_issuer_serial {
	GENERAL_NAMES *issuer;
	ASN1_INTEGER *serial;
} SIGIL_ESS_ISSUER_SERIAL;

/* ESSCertIDv2 ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier
 *     DEFAULT {algorithm id-sha256}, certHash OCTET STRING,
 *     issuerSerial IssuerSerial OPTIONAL } */
typedef struct ts_cert_id_v2 {
	X509_ALGOR *hash_alg;
	ASN1_OCTET_STRING *hash;
	SIGIL_ESS_ISSUER_SERIAL *issuer_serial;
} SIGIL_ESS_CERT_ID_V2;

/* SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2,
 *     policies SEQUENCE OF PolicyInformation OPTIONAL } */
typedef struct ts_signing_cert_v2 {
	STACK_OF(ASN1_VALUE) *cert_ids; /* of SIGIL_ESS_CERT_ID_V2 */
	STACK_OF(POLICYINFO) *policies;
} SIGIL_ESS_SIGNING_CERT_V2;

ASN1_SEQUENCE(SIGIL_ESS_ISSUER_SERIAL) = {
	ASN1_SEQUENCE_OF(SIGIL_ESS_ISSUER_SERIAL, issuer, GENERAL_NAME),
	ASN1_SIMPLE(SIGIL_ESS_ISSUER_SERIAL, serial, ASN1_INTEGER),
} static_ASN1_SEQUENCE_END(SIGIL_ESS_ISSUER_SERIAL)

ASN1_SEQUENCE(SIGIL_ESS_CERT_ID_V2) = {
	ASN1_OPT(SIGIL_ESS_CERT_ID_V2, hash_alg, X509_ALGOR),
	ASN1_SIMPLE(SIGIL_ESS_CERT_ID_V2, hash, ASN1_OCTET_STRING),
	ASN1_OPT(SIGIL_ESS_CERT_ID_V2, issuer_serial, SIGIL_ESS_ISSUER_SERIAL),
} static_ASN1_SEQUENCE_END(SIGIL_ESS_CERT_ID_V2)

ASN1_SEQUENCE(SIGIL_ESS_SIGNING_CERT_V2) = {
	ASN1_SEQUENCE_OF(SIGIL_ESS_SIGNING_CERT_V2, cert_ids, SIGIL_ESS_CERT_ID_V2),
	ASN1_SEQUENCE_OF_OPT(SIGIL_ESS_SIGNING_CERT_V2, policies, POLICYINFO),
} static_ASN1_SEQUENCE_END(SIGIL_ESS_SIGNING_CERT_V2)

static void signing_cert_v2_freep(SIGIL_ESS_SIGNING_CERT_V2 **p)
{
	ASN1_item_free((ASN1_VALUE *)*p, ASN1_ITEM_rptr(SIGIL_ESS_SIGNING_CERT_V2));
}

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */

static void PKCS7_freep(PKCS7 **p) { PKCS7_free(*p); }
static void TS_TST_INFO_freep(TS_TST_INFO **p) { TS_TST_INFO_free(*p); }
static void X509_STORE_freep(X509_STORE **p) { X509_STORE_free(*p); }
static void X509_STORE_CTX_freep(X509_STORE_CTX **p) { X509_STORE_CTX_free(*p); }
static void EKU_freep(EXTENDED_KEY_USAGE **p) { EXTENDED_KEY_USAGE_free(*p); }
static void OPENSSL_freep(unsigned char **p) { OPENSSL_free(*p); }

/* SHA-256/384/512 only (§5.3 steps 3 and 6); SHA-1, MD5 and anything else
 * yield NULL. */
static const EVP_MD *sha2_md(const ASN1_OBJECT *alg)
{
	switch (alg ? OBJ_obj2nid(alg) : NID_undef) {
	case NID_sha256: return EVP_sha256();
	case NID_sha384: return EVP_sha384();
	case NID_sha512: return EVP_sha512();
	default: return NULL;
	}
}

static void oid_text(const ASN1_OBJECT *obj, char *buf, size_t len)
{
	if (!obj || OBJ_obj2txt(buf, (int)len, obj, 1) <= 0)
		snprintf(buf, len, "(invalid)");
}

static sigil_status digest(const EVP_MD *md, const void *data, size_t len,
	unsigned char out[EVP_MAX_MD_SIZE], unsigned int *out_len, sigil_error *err)
{
	if (EVP_Digest(data, len, out, out_len, md, NULL) != 1)
		return sigil__err_openssl(err, SIGIL_ERR_INTERNAL, "digest computation failed");
	return SIGIL_STATUS_OK;
}

/* DER encoding of a certificate, as Go's cert.Raw. */
static sigil_status cert_der(X509 *cert, unsigned char **der, size_t *len, sigil_error *err)
{
	unsigned char *p = NULL;
	int n = i2d_X509(cert, &p);
	if (n <= 0)
		return sigil__err_openssl(err, SIGIL_ERR_INTERNAL, "cannot encode certificate");
	*der = p;
	*len = (size_t)n;
	return SIGIL_STATUS_OK;
}

/* Byte equality of two names' DER encodings (Go compares RawIssuer with
 * the raw issuer of IssuerAndSerialNumber, not a canonical form). */
static bool name_der_equal(const X509_NAME *a, const X509_NAME *b)
{
	const unsigned char *da = NULL, *db = NULL;
	size_t la = 0, lb = 0;
	if (!a || !b || X509_NAME_get0_der(a, &da, &la) != 1 || X509_NAME_get0_der(b, &db, &lb) != 1)
		return false;
	return la == lb && memcmp(da, db, la) == 0;
}

static X509 *find_cert(STACK_OF(X509) *certs, const X509_NAME *issuer, const ASN1_INTEGER *serial)
{
	for (int i = 0; i < sk_X509_num(certs); i++) {
		X509 *c = sk_X509_value(certs, i);
		if (name_der_equal(X509_get_issuer_name(c), issuer) &&
		    ASN1_INTEGER_cmp(X509_get0_serialNumber(c), serial) == 0)
			return c;
	}
	return NULL;
}

/* The single value of the signed attribute `nid`. RFC 5652 §11.1-11.3
 * (and RFC 5035 §5.4 for signingCertificateV2): these attributes MUST NOT
 * appear twice and MUST carry exactly one value. Returns 0 absent, 1
 * found, -1 duplicated or not single-valued. */
static int single_attr(const STACK_OF(X509_ATTRIBUTE) *attrs, int nid, ASN1_TYPE **out)
{
	int idx = X509at_get_attr_by_NID(attrs, nid, -1);
	if (idx < 0)
		return 0;
	if (X509at_get_attr_by_NID(attrs, nid, idx) >= 0)
		return -1;
	X509_ATTRIBUTE *a = X509at_get_attr(attrs, idx);
	if (!a || X509_ATTRIBUTE_count(a) != 1)
		return -1;
	*out = X509_ATTRIBUTE_get0_type(a, 0);
	return *out ? 1 : -1;
}

/* ------------------------------------------------------------------ */
/* Decoding (§5.3 steps 2-4)                                            */

typedef struct ts_token {
	PKCS7 *p7;
	TS_TST_INFO *tst;
	const ASN1_OCTET_STRING *econtent; /* borrowed from p7 */
	int64_t gen_time;
	int64_t accuracy;
} ts_token;

static void ts_token_clear(ts_token *t)
{
	PKCS7_free(t->p7);
	TS_TST_INFO_free(t->tst);
	memset(t, 0, sizeof *t);
}

/* Accuracy ::= SEQUENCE { seconds INTEGER OPTIONAL, millis [0] INTEGER
 * (1..999) OPTIONAL, micros [1] INTEGER (1..999) OPTIONAL } (RFC 3161
 * §2.4.2). Each part is read as a non-negative count (notation does not
 * enforce 1..999 either); the whole is rounded UP to seconds so the range
 * of step 4 is never narrower than the TSA's. */
static sigil_status accuracy_part(const ASN1_INTEGER *v, int64_t max, int64_t *out, sigil_error *err)
{
	int64_t x = 0;
	if (v && (ASN1_INTEGER_get_int64(&x, v) != 1 || x < 0 || x > max)) {
		ERR_clear_error();
		return sigil__err(err, SIGIL_ERR_MALFORMED, TSTINFO_PREFIX "invalid accuracy");
	}
	*out = x;
	return SIGIL_STATUS_OK;
}

static sigil_status ts_accuracy(const TS_TST_INFO *tst, int64_t *out, sigil_error *err)
{
	/* 2^40 s is ~35000 years: anything larger is not an accuracy, and the
	 * bound keeps genTime +/- accuracy far from int64 overflow */
	const int64_t max = (int64_t)1 << 40;
	int64_t s = 0, ms = 0, us = 0;
	TS_ACCURACY *acc = TS_TST_INFO_get_accuracy((TS_TST_INFO *)tst);
	if (acc) {
		SIGIL_TRY(accuracy_part(TS_ACCURACY_get_seconds(acc), max, &s, err));
		SIGIL_TRY(accuracy_part(TS_ACCURACY_get_millis(acc), max, &ms, err));
		SIGIL_TRY(accuracy_part(TS_ACCURACY_get_micros(acc), max, &us, err));
	}
	int64_t sub_us = ms * 1000 + us; /* < 2^51, no overflow */
	int64_t total = s + (sub_us + 999999) / 1000000;
	if (total == 0) {
		/* §5.3 step 4: the baseline time-stamp policy of RFC 3628
		 * (0.4.0.2023.1.1) promises one second when no accuracy is
		 * given */
		static const unsigned char baseline[] = { 0x04, 0x00, 0x8f, 0x67, 0x01, 0x01 };
		const ASN1_OBJECT *policy = TS_TST_INFO_get_policy_id((TS_TST_INFO *)tst);
		if (policy && OBJ_length(policy) == sizeof baseline &&
		    memcmp(OBJ_get0_data(policy), baseline, sizeof baseline) == 0)
			total = 1;
	}
	*out = total;
	return SIGIL_STATUS_OK;
}

/* §5.3 step 2 (CMS structure) and the TSTInfo decoding of step 3. */
static sigil_status ts_decode(const uint8_t *token, size_t len, ts_token *out, sigil_error *err)
{
	if (!token || len == 0)
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			"no timestamp countersignature was found in the signature envelope");
	if (len > SIGIL_MAX_TIMESTAMP_SIZE)
		return sigil__err(err, SIGIL_ERR_LIMIT,
			PARSE_PREFIX "token of %zu bytes exceeds the limit of %u bytes", len,
			(unsigned)SIGIL_MAX_TIMESTAMP_SIZE);

	/* RFC 3161 §2.4.2: TimeStampToken ::= ContentInfo; BER is accepted
	 * (notation converts BER to DER before parsing) */
	const unsigned char *p = token;
	_cleanup_(PKCS7_freep) PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)len);
	if (!p7)
		return sigil__err_openssl(err, SIGIL_ERR_MALFORMED,
			PARSE_PREFIX "cms: syntax error: invalid content info");
	if (p != token + len)
		return sigil__err_at(err, SIGIL_ERR_MALFORMED, (size_t)(p - token),
			PARSE_PREFIX "cms: syntax error: trailing data after the content info");
	/* ContentInfo.contentType = id-signedData (1.2.840.113549.1.7.2) */
	if (!PKCS7_type_is_signed(p7) || !p7->d.sign)
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			PARSE_PREFIX "cms: syntax error: not signed data");
	PKCS7_SIGNED *sd = p7->d.sign;
	/* RFC 5652 §5.1 / §5.3 step 2: version 3 for an eContentType other
	 * than id-data */
	int64_t version = -1;
	if (!sd->version || ASN1_INTEGER_get_int64(&version, sd->version) != 1 || version != 3) {
		ERR_clear_error();
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			PARSE_PREFIX "cms: syntax error: invalid signed data: version must be 3, got %lld",
			(long long)version);
	}
	/* every embedded certificate parsed as X.509 or d2i failed above */
	if (sk_X509_num(sd->cert) > SIGIL_MAX_CHAIN_LENGTH)
		return sigil__err(err, SIGIL_ERR_LIMIT,
			PARSE_PREFIX "the token embeds %d certificates, more than the limit of %d",
			sk_X509_num(sd->cert), SIGIL_MAX_CHAIN_LENGTH);
	if (sk_PKCS7_SIGNER_INFO_num(sd->signer_info) > SIGIL_MAX_TIMESTAMP_SIGNERS)
		return sigil__err(err, SIGIL_ERR_LIMIT,
			PARSE_PREFIX "the token has %d signer infos, more than the limit of %d",
			sk_PKCS7_SIGNER_INFO_num(sd->signer_info), SIGIL_MAX_TIMESTAMP_SIGNERS);
	/* eContentType = id-ct-TSTInfo (1.2.840.113549.1.9.16.1.4) */
	PKCS7 *inner = sd->contents;
	if (!inner || !inner->type)
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			PARSE_PREFIX "cms: syntax error: missing encapsulated content info");
	if (OBJ_obj2nid(inner->type) != NID_id_smime_ct_TSTInfo) {
		char oid[128];
		oid_text(inner->type, oid, sizeof oid);
		return sigil__err(err, SIGIL_ERR_MALFORMED, PARSE_PREFIX "unexpected content type: %s", oid);
	}
	/* the content is encapsulated (RFC 3161 §2.4.2: not detached) as an
	 * OCTET STRING */
	if (!inner->d.other || inner->d.other->type != V_ASN1_OCTET_STRING ||
	    !inner->d.other->value.octet_string)
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			PARSE_PREFIX "cms: syntax error: missing encapsulated content");
	const ASN1_OCTET_STRING *econtent = inner->d.other->value.octet_string;

	/* §5.3 step 3: decode the TSTInfo */
	const unsigned char *q = ASN1_STRING_get0_data(econtent);
	int qlen = ASN1_STRING_length(econtent);
	const unsigned char *qstart = q;
	_cleanup_(TS_TST_INFO_freep) TS_TST_INFO *tst = d2i_TS_TST_INFO(NULL, &q, qlen);
	if (!tst)
		return sigil__err_openssl(err, SIGIL_ERR_MALFORMED,
			TSTINFO_PREFIX "cannot unmarshal TSTInfo from timestamp token");
	if (q != qstart + qlen)
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			TSTINFO_PREFIX "cannot unmarshal TSTInfo from timestamp token: trailing data");
	/* RFC 3161 §2.4.2: version INTEGER { v1(1) } */
	long tv = TS_TST_INFO_get_version(tst);
	if (tv != 1)
		return sigil__err(err, SIGIL_ERR_MALFORMED, VALIDATE_PREFIX
			"invalid TSTInfo: timestamp token info version must be 1, but got %ld", tv);
	/* §5.3 step 4: genTime, truncated to whole seconds */
	int64_t gen_time;
	const ASN1_GENERALIZEDTIME *gt = TS_TST_INFO_get_time(tst);
	sigil_error terr = SIGIL_ERROR_INIT;
	if (!gt || ASN1_STRING_type(gt) != V_ASN1_GENERALIZEDTIME ||
	    sigil__time_from_asn1(gt, &gen_time, &terr) != SIGIL_STATUS_OK) {
		ERR_clear_error();
		return sigil__err(err, SIGIL_ERR_MALFORMED, TSTINFO_PREFIX "invalid genTime");
	}
	int64_t accuracy;
	SIGIL_TRY(ts_accuracy(tst, &accuracy, err));

	out->p7 = TAKE_PTR(p7);
	out->tst = TAKE_PTR(tst);
	out->econtent = econtent;
	out->gen_time = gen_time;
	out->accuracy = accuracy;
	return SIGIL_STATUS_OK;
}

sigil_status sigil__timestamp_parse(const uint8_t *token, size_t len, sigil__tst *out,
	sigil_error *err)
{
	ts_token t;
	memset(&t, 0, sizeof t);
	SIGIL_TRY(ts_decode(token, len, &t, err));
	if (out) {
		out->gen_time = t.gen_time;
		out->accuracy = t.accuracy;
	}
	ts_token_clear(&t);
	return SIGIL_STATUS_OK;
}

/* ------------------------------------------------------------------ */
/* Verification (§5.3 steps 3 and 6-7)                                  */

/* §5.3 step 3: messageImprint.hashAlgorithm in SHA-256/384/512 and
 * hashedMessage == H(signature). The algorithm need not match the signing
 * key's (§8 row 16: notation's behaviour is followed). */
static sigil_status check_imprint(const TS_TST_INFO *tst, const uint8_t *sig, size_t sig_len,
	sigil_error *err)
{
	TS_MSG_IMPRINT *mi = TS_TST_INFO_get_msg_imprint((TS_TST_INFO *)tst);
	X509_ALGOR *alg = mi ? TS_MSG_IMPRINT_get_algo(mi) : NULL;
	const ASN1_OBJECT *oid = NULL;
	if (alg)
		X509_ALGOR_get0(&oid, NULL, NULL, alg);
	const EVP_MD *md = sha2_md(oid);
	if (!md) {
		char txt[128];
		oid_text(oid, txt, sizeof txt);
		return sigil__err(err, SIGIL_ERR_CRYPTO, VALIDATE_PREFIX
			"invalid TSTInfo: unrecognized hash algorithm: %s", txt);
	}
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hlen = 0;
	SIGIL_TRY(digest(md, sig, sig_len, h, &hlen, err));
	ASN1_OCTET_STRING *hm = TS_MSG_IMPRINT_get_msg(mi);
	if (!hm || ASN1_STRING_length(hm) != (int)hlen ||
	    CRYPTO_memcmp(ASN1_STRING_get0_data(hm), h, hlen) != 0)
		return sigil__err(err, SIGIL_ERR_CRYPTO, VALIDATE_PREFIX "invalid TSTInfo: mismatched message");
	return SIGIL_STATUS_OK;
}

/* §5.3 step 6, "Identify the signing certificate": the first ESSCertIDv2
 * of signingCertificateV2 (RFC 5816 §2.2.1; v1 is not accepted) names it by
 * issuerSerial, else the SignerInfo sid does; its hash must match. */
static sigil_status signing_certificate(PKCS7_SIGNED *sd, PKCS7_SIGNER_INFO *si, X509 **out,
	sigil_error *err)
{
	ASN1_TYPE *v = NULL;
	int r = single_attr(si->auth_attr, NID_id_smime_aa_signingCertificateV2, &v);
	if (r == 0) {
		ASN1_TYPE *v1 = NULL;
		bool has_v1 = single_attr(si->auth_attr, NID_id_smime_aa_signingCertificate, &v1) != 0;
		return sigil__err(err, SIGIL_ERR_MALFORMED, VERIFY_PREFIX
			"failed to get SigningCertificateV2 from signed attributes: attribute not found%s",
			has_v1 ? " (the legacy signingCertificate attribute is not accepted)" : "");
	}
	if (r < 0 || v->type != V_ASN1_SEQUENCE)
		return sigil__err(err, SIGIL_ERR_MALFORMED, VERIFY_PREFIX
			"failed to get SigningCertificateV2 from signed attributes: invalid attribute");
	const unsigned char *p = v->value.sequence->data;
	long plen = v->value.sequence->length;
	const unsigned char *pstart = p;
	_cleanup_(signing_cert_v2_freep) SIGIL_ESS_SIGNING_CERT_V2 *scv2 = (SIGIL_ESS_SIGNING_CERT_V2 *)
		ASN1_item_d2i(NULL, &p, plen, ASN1_ITEM_rptr(SIGIL_ESS_SIGNING_CERT_V2));
	if (!scv2 || p != pstart + plen) {
		ERR_clear_error();
		return sigil__err(err, SIGIL_ERR_MALFORMED, VERIFY_PREFIX
			"failed to get SigningCertificateV2 from signed attributes: invalid attribute value");
	}
	if (sk_ASN1_VALUE_num(scv2->cert_ids) <= 0)
		return sigil__err(err, SIGIL_ERR_MALFORMED, VERIFY_PREFIX
			"signingCertificateV2 does not contain any certificate");
	SIGIL_ESS_CERT_ID_V2 *id = (SIGIL_ESS_CERT_ID_V2 *)sk_ASN1_VALUE_value(scv2->cert_ids, 0);

	X509 *cert;
	if (id->issuer_serial) {
		/* GeneralNames holding the issuer's directoryName (as notation,
		 * which reads exactly one [4] name) */
		GENERAL_NAMES *names = id->issuer_serial->issuer;
		GENERAL_NAME *gn = sk_GENERAL_NAME_num(names) == 1 ? sk_GENERAL_NAME_value(names, 0) : NULL;
		if (!gn || gn->type != GEN_DIRNAME)
			return sigil__err(err, SIGIL_ERR_MALFORMED, VERIFY_PREFIX
				"issuer name is missing in IssuerSerial");
		cert = find_cert(sd->cert, gn->d.directoryName, id->issuer_serial->serial);
	} else {
		PKCS7_ISSUER_AND_SERIAL *ias = si->issuer_and_serial;
		cert = ias ? find_cert(sd->cert, ias->issuer, ias->serial) : NULL;
	}
	if (!cert)
		return sigil__err(err, SIGIL_ERR_MALFORMED, VERIFY_PREFIX
			"signing certificate not found in the timestamp token");

	/* RFC 5035 §4: hashAlgorithm DEFAULT id-sha256 */
	const EVP_MD *md = EVP_sha256();
	if (id->hash_alg) {
		const ASN1_OBJECT *oid = NULL;
		X509_ALGOR_get0(&oid, NULL, NULL, id->hash_alg);
		md = sha2_md(oid);
		if (!md)
			return sigil__err(err, SIGIL_ERR_CRYPTO, VERIFY_PREFIX
				"unsupported certificate hash algorithm in SigningCertificateV2 attribute");
	}
	_cleanup_(OPENSSL_freep) unsigned char *der = NULL;
	size_t der_len = 0;
	SIGIL_TRY(cert_der(cert, &der, &der_len, err));
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hlen = 0;
	SIGIL_TRY(digest(md, der, der_len, h, &hlen, err));
	if (ASN1_STRING_length(id->hash) != (int)hlen ||
	    CRYPTO_memcmp(ASN1_STRING_get0_data(id->hash), h, hlen) != 0)
		return sigil__err(err, SIGIL_ERR_CRYPTO, VERIFY_PREFIX
			"signing certificate hash does not match CertHash in signed attribute");
	*out = cert;
	return SIGIL_STATUS_OK;
}

/* Whether the EKU extension lists `nid` (and, for CA certificates, whether
 * anyExtendedKeyUsage stands in for it). *present / *critical describe the
 * extension. Returns -1 when it is duplicated or undecodable. */
static int eku_info(X509 *cert, int *present, int *critical, int *count, bool *has_ts,
	bool *has_any)
{
	int crit = -1;
	_cleanup_(EKU_freep) EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(cert, NID_ext_key_usage, &crit, NULL);
	*present = 0;
	*critical = 0;
	*count = 0;
	*has_ts = *has_any = false;
	if (!eku) {
		ERR_clear_error();
		/* -1: absent; -2: repeated; >= 0 with NULL: undecodable */
		return crit == -1 ? 0 : -1;
	}
	*present = 1;
	*critical = crit == 1;
	*count = sk_ASN1_OBJECT_num(eku);
	for (int i = 0; i < *count; i++) {
		int nid = OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i));
		if (nid == NID_time_stamp)
			*has_ts = true;
		else if (nid == NID_anyExtendedKeyUsage)
			*has_any = true;
	}
	return 0;
}

static const char *x509_reason(int code)
{
	switch (code) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_CERT_UNTRUSTED:
		/* the wording of Go's x509.UnknownAuthorityError */
		return "certificate signed by unknown authority";
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return "certificate has expired or is not yet valid";
	default:
		return X509_verify_cert_error_string(code);
	}
}

/* §5.3 step 6, "Chain building": path validation with the TSA store as the
 * only anchors, the token's certificates as intermediates, at genTime. No
 * partial chains: the anchor must be a self-signed root of the store. */
static sigil_status build_chain(X509 *signer, STACK_OF(X509) *untrusted, STACK_OF(X509) *roots,
	int64_t gen_time, STACK_OF(X509) **chain_out, sigil_error *err)
{
	_cleanup_(X509_STORE_freep) X509_STORE *store = X509_STORE_new();
	_cleanup_(X509_STORE_CTX_freep) X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	if (!store || !ctx)
		return sigil__err_oom(err);
	for (int i = 0; i < sk_X509_num(roots); i++)
		if (X509_STORE_add_cert(store, sk_X509_value(roots, i)) != 1)
			return sigil__err_openssl(err, SIGIL_ERR_INTERNAL, "cannot build the TSA trust store");
	if (X509_STORE_CTX_init(ctx, store, signer, untrusted) != 1)
		return sigil__err_openssl(err, SIGIL_ERR_INTERNAL, "cannot initialise chain verification");
	X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
	/* CurrentTime = genTime (the point value, not the range) */
	X509_VERIFY_PARAM_set_time(param, (time_t)gen_time);
	X509_VERIFY_PARAM_clear_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
	X509_VERIFY_PARAM_set_depth(param, SIGIL_MAX_CHAIN_LENGTH);
	if (X509_verify_cert(ctx) != 1) {
		int code = X509_STORE_CTX_get_error(ctx);
		int depth = X509_STORE_CTX_get_error_depth(ctx);
		ERR_clear_error();
		return sigil__err(err, SIGIL_ERR_POLICY, VERIFY_PREFIX CMS_FAIL "x509: %s (certificate at depth %d)",
			x509_reason(code), depth);
	}
	STACK_OF(X509) *chain = X509_STORE_CTX_get1_chain(ctx);
	if (!chain)
		return sigil__err_oom(err);
	/* Go's x509.Verify with KeyUsages=[timeStamping] also requires every
	 * CA that lists EKUs to allow timeStamping (or anyExtendedKeyUsage);
	 * the leaf's EKU is checked exactly afterwards */
	for (int i = 1; i < sk_X509_num(chain); i++) {
		int present, critical, count;
		bool has_ts, has_any;
		if (eku_info(sk_X509_value(chain, i), &present, &critical, &count, &has_ts, &has_any) < 0 ||
		    (present && !has_ts && !has_any)) {
			sk_X509_pop_free(chain, X509_free);
			return sigil__err(err, SIGIL_ERR_POLICY, VERIFY_PREFIX CMS_FAIL
				"x509: certificate specifies an incompatible key usage");
		}
	}
	*chain_out = chain;
	return SIGIL_STATUS_OK;
}

/* §5.3 step 6, "CMS signature": over the DER SET of the signed attributes,
 * with the algorithm named by (digestAlgorithm, signatureAlgorithm) as
 * tspclient-go's ToSignatureAlgorithm. */
static sigil_status check_signature(PKCS7_SIGNER_INFO *si, X509 *cert, sigil_error *err)
{
	enum { ALG_PKCS1, ALG_PSS, ALG_ECDSA } kind;
	const EVP_MD *md = NULL;
	const ASN1_OBJECT *doid = NULL, *soid = NULL;
	X509_ALGOR_get0(&doid, NULL, NULL, si->digest_alg);
	X509_ALGOR_get0(&soid, NULL, NULL, si->digest_enc_alg);
	const EVP_MD *dmd = sha2_md(doid);
	switch (soid ? OBJ_obj2nid(soid) : NID_undef) {
	case NID_rsaEncryption: kind = ALG_PKCS1; md = dmd; break;
	case NID_rsassaPss: kind = ALG_PSS; md = dmd; break;
	case NID_sha256WithRSAEncryption: kind = ALG_PKCS1; md = EVP_sha256(); break;
	case NID_sha384WithRSAEncryption: kind = ALG_PKCS1; md = EVP_sha384(); break;
	case NID_sha512WithRSAEncryption: kind = ALG_PKCS1; md = EVP_sha512(); break;
	case NID_ecdsa_with_SHA256: kind = ALG_ECDSA; md = EVP_sha256(); break;
	case NID_ecdsa_with_SHA384: kind = ALG_ECDSA; md = EVP_sha384(); break;
	case NID_ecdsa_with_SHA512: kind = ALG_ECDSA; md = EVP_sha512(); break;
	default: kind = ALG_PKCS1; md = NULL; break;
	}
	/* SHA-1, MD5 and everything else are unknown here */
	if (!md)
		return sigil__err(err, SIGIL_ERR_CRYPTO, VERIFY_PREFIX CMS_FAIL "unknown signature algorithm");
	EVP_PKEY *pkey = X509_get0_pubkey(cert);
	int ktype = pkey ? EVP_PKEY_get_base_id(pkey) : NID_undef;
	if ((kind == ALG_ECDSA && ktype != EVP_PKEY_EC) || (kind != ALG_ECDSA && ktype != EVP_PKEY_RSA)) {
		ERR_clear_error();
		return sigil__err(err, SIGIL_ERR_CRYPTO, VERIFY_PREFIX CMS_FAIL
			"x509: signature algorithm specifies a different public key type than the certificate");
	}
	/* RFC 5652 §5.4: the DER encoding of SignedAttrs with the SET OF tag;
	 * PKCS7_ATTR_SIGN sorts the SET OF as DER (and as Go's marshalling
	 * with "set") requires */
	_cleanup_(OPENSSL_freep) unsigned char *abuf = NULL;
	int alen = ASN1_item_i2d((ASN1_VALUE *)si->auth_attr, &abuf, ASN1_ITEM_rptr(PKCS7_ATTR_SIGN));
	if (alen <= 0)
		return sigil__err_openssl(err, SIGIL_ERR_MALFORMED, VERIFY_PREFIX CMS_FAIL
			"invalid signed attributes");
	_cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL; /* owned by mctx */
	if (!mctx || EVP_DigestVerifyInit(mctx, &pctx, md, NULL, pkey) != 1)
		return sigil__err_openssl(err, SIGIL_ERR_INTERNAL, "cannot initialise signature verification");
	if (kind == ALG_PSS &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
	     EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1))
		return sigil__err_openssl(err, SIGIL_ERR_INTERNAL, "cannot configure RSASSA-PSS");
	const ASN1_OCTET_STRING *sig = si->enc_digest;
	if (!sig || EVP_DigestVerify(mctx, ASN1_STRING_get0_data(sig), (size_t)ASN1_STRING_length(sig),
		abuf, (size_t)alen) != 1) {
		ERR_clear_error();
		return sigil__err(err, SIGIL_ERR_CRYPTO, VERIFY_PREFIX CMS_FAIL "signature verification failed");
	}
	return SIGIL_STATUS_OK;
}

/* §5.3 step 6, "Signed attributes": contentType, messageDigest, and a
 * signingTime inside the validity of every certificate of the chain. */
static sigil_status check_signed_attrs(const ts_token *t, PKCS7_SIGNER_INFO *si,
	STACK_OF(X509) *chain, sigil_error *err)
{
	if (sk_X509_ATTRIBUTE_num(si->auth_attr) <= 0)
		return sigil__err(err, SIGIL_ERR_MALFORMED, VERIFY_PREFIX CMS_FAIL "missing signed attributes");
	ASN1_TYPE *v = NULL;
	if (single_attr(si->auth_attr, NID_pkcs9_contentType, &v) != 1 || v->type != V_ASN1_OBJECT)
		return sigil__err(err, SIGIL_ERR_MALFORMED, VERIFY_PREFIX CMS_FAIL "invalid content type");
	/* RFC 5652 §11.1: equal to eContentType */
	if (OBJ_cmp(v->value.object, t->p7->d.sign->contents->type) != 0) {
		char got[128];
		oid_text(v->value.object, got, sizeof got);
		return sigil__err(err, SIGIL_ERR_CRYPTO, VERIFY_PREFIX CMS_FAIL
			"mismatch content type: found \"%s\" in signer info, and \"1.2.840.113549.1.9.16.1.4\" in signed data",
			got);
	}
	if (single_attr(si->auth_attr, NID_pkcs9_messageDigest, &v) != 1 || v->type != V_ASN1_OCTET_STRING)
		return sigil__err(err, SIGIL_ERR_MALFORMED, VERIFY_PREFIX CMS_FAIL "invalid message digest");
	const ASN1_OBJECT *doid = NULL;
	X509_ALGOR_get0(&doid, NULL, NULL, si->digest_alg);
	const EVP_MD *md = sha2_md(doid);
	if (!md)
		return sigil__err(err, SIGIL_ERR_CRYPTO, VERIFY_PREFIX CMS_FAIL "unsupported digest algorithm");
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hlen = 0;
	SIGIL_TRY(digest(md, ASN1_STRING_get0_data(t->econtent), (size_t)ASN1_STRING_length(t->econtent),
		h, &hlen, err));
	/* RFC 5652 §11.2 / §5.4: over the eContent octets only */
	if (ASN1_STRING_length(v->value.octet_string) != (int)hlen ||
	    CRYPTO_memcmp(ASN1_STRING_get0_data(v->value.octet_string), h, hlen) != 0)
		return sigil__err(err, SIGIL_ERR_CRYPTO, VERIFY_PREFIX CMS_FAIL "mismatch message digest");

	int r = single_attr(si->auth_attr, NID_pkcs9_signingTime, &v);
	if (r == 0)
		return SIGIL_STATUS_OK;
	int64_t st = 0;
	sigil_error terr = SIGIL_ERROR_INIT;
	/* RFC 5652 §11.3: Time ::= CHOICE { utcTime, generalTime } */
	if (r < 0 || (v->type != V_ASN1_UTCTIME && v->type != V_ASN1_GENERALIZEDTIME) ||
	    sigil__time_from_asn1((const ASN1_TIME *)v->value.asn1_string, &st, &terr) != SIGIL_STATUS_OK) {
		ERR_clear_error();
		return sigil__err(err, SIGIL_ERR_MALFORMED, VERIFY_PREFIX CMS_FAIL "invalid signing time");
	}
	for (int i = 0; i < sk_X509_num(chain); i++) {
		X509 *c = sk_X509_value(chain, i);
		int64_t nb, na;
		if (sigil__time_from_asn1(X509_get0_notBefore(c), &nb, &terr) != SIGIL_STATUS_OK ||
		    sigil__time_from_asn1(X509_get0_notAfter(c), &na, &terr) != SIGIL_STATUS_OK || st < nb ||
		    st > na) {
			char buf[32];
			sigil__time_format(st, buf, sizeof buf);
			return sigil__err(err, SIGIL_ERR_POLICY, VERIFY_PREFIX CMS_FAIL
				"signing time, %s, is outside certificate's validity period", buf);
		}
	}
	return SIGIL_STATUS_OK;
}

/* RFC 3161 §2.3 / §5.3 step 6, "TSA leaf EKU": exactly one EKU,
 * id-kp-timeStamping, in a critical extension. */
static sigil_status check_leaf_eku(X509 *leaf, sigil_error *err)
{
	int present, critical, count;
	bool has_ts, has_any;
	if (eku_info(leaf, &present, &critical, &count, &has_ts, &has_any) < 0 || !present ||
	    count != 1 || !has_ts)
		return sigil__err(err, SIGIL_ERR_POLICY, VERIFY_PREFIX
			"signing certificate must have and only have ExtKeyUsageTimeStamping as extended key usage");
	if (!critical)
		return sigil__err(err, SIGIL_ERR_POLICY, VERIFY_PREFIX
			"signing certificate extended key usage extension must be set as critical");
	return SIGIL_STATUS_OK;
}

/* One SignerInfo, in tspclient-go's order: signing certificate, version,
 * chain, signature, signed attributes, leaf EKU. */
static sigil_status verify_signer(const ts_token *t, PKCS7_SIGNER_INFO *si, STACK_OF(X509) *roots,
	STACK_OF(X509) **chain_out, sigil_error *err)
{
	PKCS7_SIGNED *sd = t->p7->d.sign;
	X509 *signer = NULL;
	SIGIL_TRY(signing_certificate(sd, si, &signer, err));
	/* RFC 5652 §5.3: version 1 goes with issuerAndSerialNumber, the only
	 * sid notation supports */
	int64_t version = -1;
	if (!si->version || ASN1_INTEGER_get_int64(&version, si->version) != 1 || version != 1) {
		ERR_clear_error();
		return sigil__err(err, SIGIL_ERR_MALFORMED, VERIFY_PREFIX CMS_FAIL
			"invalid signer info version: only version 1 is supported; got %lld", (long long)version);
	}
	_cleanup_(X509_stack_freep) STACK_OF(X509) *chain = NULL;
	SIGIL_TRY(build_chain(signer, sd->cert, roots, t->gen_time, &chain, err));
	SIGIL_TRY(check_signature(si, signer, err));
	SIGIL_TRY(check_signed_attrs(t, si, chain, err));
	SIGIL_TRY(check_leaf_eku(signer, err));
	*chain_out = TAKE_PTR(chain);
	return SIGIL_STATUS_OK;
}

sigil_status sigil__timestamp_verify(const uint8_t *token, size_t len, const uint8_t *signature,
	size_t signature_len, STACK_OF(X509) *tsa_roots, sigil__tst *out, STACK_OF(X509) **chain_out,
	sigil_error *err)
{
	if (!signature && signature_len)
		return sigil__err(err, SIGIL_ERR_USAGE, "timestamp verification: signature is NULL");
	ts_token t;
	memset(&t, 0, sizeof t);
	/* steps 2-4 */
	if (ts_decode(token, len, &t, err) != SIGIL_STATUS_OK)
		return SIGIL_STATUS_ERROR;
	_cleanup_(X509_stack_freep) STACK_OF(X509) *chain = NULL;
	sigil_status rc = SIGIL_STATUS_ERROR;
	/* step 3: the imprint covers the primitive signature bytes (§5.1) */
	if (check_imprint(t.tst, signature ? signature : (const uint8_t *)"", signature_len, err) !=
	    SIGIL_STATUS_OK)
		goto out;
	/* step 5 */
	if (sk_X509_num(tsa_roots) <= 0) {
		sigil__err(err, SIGIL_ERR_POLICY, "no trusted TSA certificate found in trust store");
		goto out;
	}
	/* step 6: the first SignerInfo that verifies wins; otherwise the last
	 * error is reported (tspclient-go SignedToken.Verify) */
	PKCS7_SIGNED *sd = t.p7->d.sign;
	int n = sk_PKCS7_SIGNER_INFO_num(sd->signer_info);
	if (n <= 0) {
		sigil__err(err, SIGIL_ERR_MALFORMED, VERIFY_PREFIX "signerInfo not found");
		goto out;
	}
	for (int i = 0; i < n && !chain; i++) {
		sigil_error serr = SIGIL_ERROR_INIT;
		if (verify_signer(&t, sk_PKCS7_SIGNER_INFO_value(sd->signer_info, i), tsa_roots, &chain,
			&serr) != SIGIL_STATUS_OK) {
			if (err)
				*err = serr;
			chain = NULL;
		}
	}
	if (!chain)
		goto out;
	/* step 7: the TSA certificate requirements of §1.9 */
	if (sigil__chain_validate_timestamping(chain, err) != SIGIL_STATUS_OK) {
		sigil__err_wrap(err, "failed to validate the timestamping certificate chain with error");
		goto out;
	}
	if (out) {
		out->gen_time = t.gen_time;
		out->accuracy = t.accuracy;
	}
	if (chain_out)
		*chain_out = TAKE_PTR(chain);
	rc = SIGIL_STATUS_OK;
out:
	ts_token_clear(&t);
	return rc;
}
