/* revocation.c - OCSP and CRL revocation checking as notary-verification.md
 * §6 describes notation-core-go's `revocation` package, with caching.
 *
 * Per certificate (§6.2 step 3): OCSP first when the certificate names an
 * OCSP responder, CRL when OCSP cannot decide (or is the only method).
 * Revocation information comes, in this order, from the in-memory cache,
 * the on-disk cache, the offline seed directory, and the network. Whatever
 * its origin it is validated in full before use (signature by the issuer,
 * freshness at the verification time), so a hostile or stale cache file
 * can at worst cost a download.
 *
 * The background refresh of the cache is revocation_refresh.c; the
 * records it needs are revocation_source.c (revocation_internal.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>
#include "bounds.h"
#include "certchain.h"
#include "cleanup.h"
#include "errors.h"
#include "fileio.h"
#include "http.h"
#include "revocation.h"
#include "revocation_internal.h"
#include "timeutil.h"
#include <sigil/verify.h>

static inline void X509_CRL_freep(X509_CRL **p) { X509_CRL_free(*p); }
static inline void OCSP_RESPONSE_freep(OCSP_RESPONSE **p) { OCSP_RESPONSE_free(*p); }
static inline void OCSP_BASICRESP_freep(OCSP_BASICRESP **p) { OCSP_BASICRESP_free(*p); }
static inline void ASN1_INTEGER_freep(ASN1_INTEGER **p) { ASN1_INTEGER_free(*p); }
static inline void closedirp(DIR **d) { if (*d) closedir(*d); }

/* ---- the checker ---------------------------------------------------------- */

sigil_status sigil__revocation_new(sigil__revocation **out, const sigil__rev_config *cfg,
	sigil_error *err)
{
	if (!out)
		return sigil__err(err, SIGIL_ERR_USAGE, "revocation: missing argument");
	sigil__revocation *rv = calloc(1, sizeof *rv);
	if (!rv)
		return sigil__err_oom(err);
	pthread_mutex_init(&rv->lock, NULL);
	rv->ocsp_timeout_ms = SIGIL_DEFAULT_OCSP_TIMEOUT_MS;
	rv->crl_timeout_ms = SIGIL_DEFAULT_CRL_TIMEOUT_MS;
	if (cfg) {
		if (cfg->ocsp_timeout_ms < 0 || cfg->crl_timeout_ms < 0) {
			sigil__revocation_free(rv);
			return sigil__err(err, SIGIL_ERR_USAGE, "revocation: negative timeout");
		}
		rv->allow_https = cfg->allow_https;
		rv->on_fetch = cfg->on_fetch;
		rv->on_fetch_ctx = cfg->on_fetch_ctx;
		if (cfg->ocsp_timeout_ms)
			rv->ocsp_timeout_ms = cfg->ocsp_timeout_ms;
		if (cfg->crl_timeout_ms)
			rv->crl_timeout_ms = cfg->crl_timeout_ms;
		if ((cfg->cache_dir && cfg->cache_dir[0] && !(rv->cache_dir = strdup(cfg->cache_dir))) ||
		    (cfg->seed_dir && cfg->seed_dir[0] && !(rv->seed_dir = strdup(cfg->seed_dir)))) {
			sigil__revocation_free(rv);
			return sigil__err_oom(err);
		}
	}
	if (sigil__http_new(&rv->http, err) != SIGIL_STATUS_OK) {
		sigil__revocation_free(rv);
		return SIGIL_STATUS_ERROR;
	}
	*out = rv;
	return SIGIL_STATUS_OK;
}

static void entry_clear(sigil__rev_mem_entry *e)
{
	X509_CRL_free(e->crl);
	free(e->der);
	memset(e, 0, sizeof *e);
}

void sigil__revocation_free(sigil__revocation *rv)
{
	if (!rv)
		return;
	for (size_t i = 0; i < rv->count; i++)
		entry_clear(&rv->entries[i]);
	free(rv->entries);
	sigil__http_free(rv->http);
	free(rv->cache_dir);
	free(rv->seed_dir);
	pthread_mutex_destroy(&rv->lock);
	free(rv);
}

void sigil__revocation_stats(sigil__revocation *rv, sigil__rev_stats *out)
{
	pthread_mutex_lock(&rv->lock);
	*out = rv->stats;
	pthread_mutex_unlock(&rv->lock);
}

static void stat_add(sigil__revocation *rv, uint64_t *field)
{
	pthread_mutex_lock(&rv->lock);
	(*field)++;
	pthread_mutex_unlock(&rv->lock);
}

/* sigil_revocation_options.on_fetch: one call per download, with one of
 * the outcomes verify.h lists (never the URL: the caller's metric must
 * stay bounded). Not under rv->lock: the callback takes its own. */
static void fetch_report(sigil__revocation *rv, const char *kind, const char *outcome)
{
	if (rv->on_fetch)
		rv->on_fetch(rv->on_fetch_ctx, kind, outcome);
}

/* the outcome of a download that brought no response */
static const char *fetch_failure(const sigil_error *herr)
{
	return herr->category == SIGIL_ERR_LIMIT ? "too_large" : "network_error";
}

/* ---- small helpers -------------------------------------------------------- */

void sigil__rev_hex_sha256(const void *data, size_t len, char out[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256(data, len, md);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

int sigil__rev_is_entry_name(const char *n)
{
	size_t i = 0;
	for (; n[i]; i++)
		if (i >= 64 || !((n[i] >= '0' && n[i] <= '9') || (n[i] >= 'a' && n[i] <= 'f')))
			return 0;
	return i == 64;
}

static sigil_status asn1_epoch(const ASN1_TIME *t, int64_t *out, const char *what,
	sigil_error *err)
{
	if (sigil__time_from_asn1(t, out, err) != SIGIL_STATUS_OK)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "invalid %s time", what);
	return SIGIL_STATUS_OK;
}

static const char *obj_name(const ASN1_OBJECT *o, char *buf, size_t cap)
{
	if (OBJ_obj2txt(buf, (int)cap, o, 1) <= 0)
		snprintf(buf, cap, "?");
	return buf;
}

/* URIs of a list of general names, in order (GEN_URI only). */
static void add_uris(GENERAL_NAMES *names, char **urls, size_t *n)
{
	for (int j = 0; names && j < sk_GENERAL_NAME_num(names); j++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(names, j);
		if (g->type != GEN_URI || *n >= SIGIL_MAX_REVOCATION_URLS)
			continue;
		const ASN1_IA5STRING *s = g->d.uniformResourceIdentifier;
		size_t len = (size_t)ASN1_STRING_length(s);
		const unsigned char *d = ASN1_STRING_get0_data(s);
		if (len == 0 || len > SIGIL_MAX_REVOCATION_URL_LENGTH)
			continue;
		/* a URL is printable ASCII without spaces (RFC 3986); anything
		 * else would only end up in messages and requests */
		size_t k = 0;
		while (k < len && d[k] > 0x20 && d[k] < 0x7f)
			k++;
		if (k != len)
			continue;
		char *u = strndup((const char *)d, len);
		if (u)
			urls[(*n)++] = u;
	}
}

static void dp_uris(STACK_OF(DIST_POINT) *dps, char **urls, size_t *n)
{
	for (int i = 0; dps && i < sk_DIST_POINT_num(dps); i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
		/* §6.4: the URI general names of fullName */
		if (dp->distpoint && dp->distpoint->type == 0)
			add_uris(dp->distpoint->name.fullname, urls, n);
	}
}

void sigil__rev_ocsp_urls(X509 *cert, char **urls, size_t *n)
{
	AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(cert, NID_info_access, NULL, NULL);
	for (int i = 0; aia && i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
		ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);
		if (OBJ_obj2nid(ad->method) != NID_ad_OCSP || !ad->location)
			continue;
		GENERAL_NAMES *one = sk_GENERAL_NAME_new_null();
		if (one && sk_GENERAL_NAME_push(one, ad->location))
			add_uris(one, urls, n);
		sk_GENERAL_NAME_free(one);
	}
	AUTHORITY_INFO_ACCESS_free(aia);
	ERR_clear_error();
}

static void crl_urls_of_ext(const void *obj, int is_crl, int nid, char **urls, size_t *n)
{
	STACK_OF(DIST_POINT) *dps = is_crl ?
		X509_CRL_get_ext_d2i((const X509_CRL *)obj, nid, NULL, NULL) :
		X509_get_ext_d2i((const X509 *)obj, nid, NULL, NULL);
	dp_uris(dps, urls, n);
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	ERR_clear_error();
}

void sigil__rev_free_urls(char **urls, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(urls[i]);
}

/* §6.3/§6.4: only http unless https is allowed; the scheme in *scheme */
int sigil__rev_scheme_ok(const sigil__revocation *rv, const char *url, char *scheme, size_t cap)
{
	const char *sep = strstr(url, "://");
	size_t len = sep ? (size_t)(sep - url) : 0;
	snprintf(scheme, cap, "%.*s", (int)(len < cap ? len : cap - 1), url);
	if (len == 4 && strncasecmp(url, "http", 4) == 0)
		return 1;
	return rv->allow_https && len == 5 && strncasecmp(url, "https", 5) == 0;
}

/* ---- OCSP ------------------------------------------------------------------ */

sigil_status sigil__ocsp_request(X509 *cert, X509 *issuer, uint8_t **out, size_t *out_len,
	sigil_error *err)
{
	/* §6.3: SHA-1 CertID, one request, unsigned, no nonce */
	OCSP_CERTID *id = OCSP_cert_to_id(EVP_sha1(), cert, issuer);
	if (!id)
		return sigil__err_openssl(err, SIGIL_ERR_MALFORMED, "cannot build the OCSP CertID");
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	if (!req || !OCSP_request_add0_id(req, id)) {
		OCSP_CERTID_free(id);
		OCSP_REQUEST_free(req);
		return sigil__err_oom(err);
	}
	unsigned char *der = NULL;
	int len = i2d_OCSP_REQUEST(req, &der);
	OCSP_REQUEST_free(req);
	if (len <= 0)
		return sigil__err_openssl(err, SIGIL_ERR_INTERNAL, "cannot encode the OCSP request");
	uint8_t *copy = malloc((size_t)len);
	if (!copy) {
		OPENSSL_free(der);
		return sigil__err_oom(err);
	}
	memcpy(copy, der, (size_t)len);
	OPENSSL_free(der);
	*out = copy;
	*out_len = (size_t)len;
	return SIGIL_STATUS_OK;
}

static const char *ocsp_status_error(int st)
{
	/* the canned error responses of §6.3 step 3 */
	switch (st) {
	case OCSP_RESPONSE_STATUS_MALFORMEDREQUEST: return "OCSP malformed";
	case OCSP_RESPONSE_STATUS_INTERNALERROR: return "OCSP internal error";
	case OCSP_RESPONSE_STATUS_TRYLATER: return "OCSP try later";
	case OCSP_RESPONSE_STATUS_SIGREQUIRED: return "OCSP signature required";
	case OCSP_RESPONSE_STATUS_UNAUTHORIZED: return "OCSP unauthorized";
	}
	return NULL;
}

sigil_status sigil__ocsp_response_check(const uint8_t *der, size_t len, X509 *cert,
	X509 *issuer, int64_t now, int64_t signing_time, sigil__rev_status *status,
	int64_t *next_update, sigil_error *err)
{
	if (!der || !cert || !issuer || !status || !next_update)
		return sigil__err(err, SIGIL_ERR_USAGE, "ocsp: missing argument");
	if (len > SIGIL_MAX_OCSP_RESPONSE_SIZE)
		return sigil__err(err, SIGIL_ERR_LIMIT, "OCSP response is %zu bytes, more than %u",
			len, SIGIL_MAX_OCSP_RESPONSE_SIZE);
	const unsigned char *p = der;
	_cleanup_(OCSP_RESPONSE_freep) OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
	if (!resp)
		return sigil__err_openssl(err, SIGIL_ERR_MALFORMED, "ocsp: malformed response");
	if (p != der + len)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "ocsp: trailing data in OCSP response");
	int rs = OCSP_response_status(resp);
	if (rs != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		const char *m = ocsp_status_error(rs);
		if (m)
			return sigil__err(err, SIGIL_ERR_NETWORK, "%s", m);
		return sigil__err(err, SIGIL_ERR_MALFORMED, "ocsp: invalid response status %d", rs);
	}
	/* id-pkix-ocsp-basic only (OCSP_response_get1_basic checks the type) */
	_cleanup_(OCSP_BASICRESP_freep) OCSP_BASICRESP *bs = OCSP_response_get1_basic(resp);
	if (!bs)
		return sigil__err_openssl(err, SIGIL_ERR_MALFORMED,
			"ocsp: bad response type, not id-pkix-ocsp-basic");
	/* the first SingleResponse whose serial matches; only the serial is
	 * compared, as in x/crypto's ParseResponseForCert */
	OCSP_SINGLERESP *single = NULL;
	const ASN1_INTEGER *serial = X509_get0_serialNumber(cert);
	ASN1_OBJECT *md = NULL;
	for (int i = 0; i < OCSP_resp_count(bs) && !single; i++) {
		OCSP_SINGLERESP *s = OCSP_resp_get0(bs, i);
		ASN1_INTEGER *sn = NULL;
		ASN1_OBJECT *m = NULL;
		if (OCSP_id_get0_info(NULL, &m, NULL, &sn, (OCSP_CERTID *)OCSP_SINGLERESP_get0_id(s)) &&
		    sn && ASN1_INTEGER_cmp(sn, serial) == 0) {
			single = s;
			md = m;
		}
	}
	if (!single)
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			"ocsp: no response matching the supplied certificate");
	int mdnid = md ? OBJ_obj2nid(md) : NID_undef;
	if (mdnid != NID_sha1 && mdnid != NID_sha256 && mdnid != NID_sha384 && mdnid != NID_sha512)
		return sigil__err(err, SIGIL_ERR_UNSUPPORTED,
			"ocsp: unsupported CertID hash algorithm");
	/* §6.3 step 4: the first embedded certificate, if any, must be signed
	 * by the issuer and signs the response; otherwise the issuer does
	 * (notation checks the signatures only, §8 row 13) */
	EVP_PKEY *key = X509_get0_pubkey(issuer);
	const STACK_OF(X509) *certs = OCSP_resp_get0_certs(bs);
	if (certs && sk_X509_num(certs) > 0) {
		X509 *responder = sk_X509_value(certs, 0);
		if (!key || X509_verify(responder, key) != 1) {
			ERR_clear_error();
			return sigil__err(err, SIGIL_ERR_CRYPTO,
				"ocsp: bad OCSP signature: the responder certificate is not signed by the issuer");
		}
		key = X509_get0_pubkey(responder);
	}
	if (!key || ASN1_item_verify(ASN1_ITEM_rptr(OCSP_RESPDATA), OCSP_resp_get0_tbs_sigalg(bs),
		OCSP_resp_get0_signature(bs), OCSP_resp_get0_respdata(bs), key) != 1) {
		ERR_clear_error();
		return sigil__err(err, SIGIL_ERR_CRYPTO, "ocsp: bad OCSP signature");
	}
	for (int i = 0; i < OCSP_SINGLERESP_get_ext_count(single); i++)
		if (X509_EXTENSION_get_critical(OCSP_SINGLERESP_get_ext(single, i)))
			return sigil__err(err, SIGIL_ERR_UNSUPPORTED, "ocsp: unsupported critical extension");
	int reason = 0;
	ASN1_GENERALIZEDTIME *revtime = NULL, *thisupd = NULL, *nextupd = NULL;
	int st = OCSP_single_get0_status(single, &reason, &revtime, &thisupd, &nextupd);
	if (st < 0)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "ocsp: invalid certificate status");
	/* §6.3 step 5: an absent nextUpdate counts as expired */
	int64_t nu = 0, tu = 0;
	if (!nextupd)
		return sigil__err(err, SIGIL_ERR_POLICY, "expired OCSP response");
	SIGIL_TRY(asn1_epoch(nextupd, &nu, "OCSP nextUpdate", err));
	if (now > nu)
		return sigil__err(err, SIGIL_ERR_POLICY, "expired OCSP response");
	/* RFC 6960 §4.2.2.1: a response whose thisUpdate is in the future is
	 * not reliable (5 minutes of clock skew tolerated) */
	if (thisupd && asn1_epoch(thisupd, &tu, "OCSP thisUpdate", err) != SIGIL_STATUS_OK)
		return SIGIL_STATUS_ERROR;
	if (thisupd && tu > now + 300)
		return sigil__err(err, SIGIL_ERR_POLICY, "OCSP response thisUpdate is in the future");
	sigil__rev_status res;
	switch (st) {
	case V_OCSP_CERTSTATUS_GOOD:
		res = SIGIL__REV_OK;
		break;
	case V_OCSP_CERTSTATUS_REVOKED: {
		res = SIGIL__REV_REVOKED;
		/* §6.3 step 6 (S1.1, §8 row 15): revoked only from the invalidity
		 * date on, compared with the authentic signing time (SA only) */
		int crit = 0;
		ASN1_GENERALIZEDTIME *inv = OCSP_SINGLERESP_get1_ext_d2i(single, NID_invalidity_date,
			&crit, NULL);
		int64_t invt = 0;
		if (inv && signing_time != 0 && sigil__time_from_asn1(inv, &invt, NULL) == SIGIL_STATUS_OK &&
		    signing_time < invt)
			res = SIGIL__REV_OK;
		ASN1_GENERALIZEDTIME_free(inv);
		break;
	}
	default:
		res = SIGIL__REV_UNKNOWN;
		break;
	}
	ERR_clear_error();
	*status = res;
	*next_update = nu;
	return SIGIL_STATUS_OK;
}

/* ---- CRL ------------------------------------------------------------------- */

sigil_status sigil__crl_parse(const uint8_t *der, size_t len, X509_CRL **out, sigil_error *err)
{
	if (!der || !out)
		return sigil__err(err, SIGIL_ERR_USAGE, "crl: missing argument");
	if (len >= SIGIL_MAX_CRL_SIZE)
		return sigil__err(err, SIGIL_ERR_LIMIT, "CRL is %zu bytes, the limit is less than %u",
			len, SIGIL_MAX_CRL_SIZE);
	const unsigned char *p = der;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);
	if (!crl)
		return sigil__err_openssl(err, SIGIL_ERR_MALFORMED, "x509: malformed crl");
	if (p != der + len) {
		X509_CRL_free(crl);
		return sigil__err(err, SIGIL_ERR_MALFORMED, "x509: trailing data after CRL");
	}
	*out = crl;
	return SIGIL_STATUS_OK;
}

sigil_status sigil__crl_validate(X509_CRL *crl, X509 *issuer, int64_t now, int64_t *next_update,
	sigil_error *err)
{
	if (!crl || !issuer || !next_update)
		return sigil__err(err, SIGIL_ERR_USAGE, "crl: missing argument");
	/* indirect CRLs are not supported (§6.4): the certificate's issuer
	 * issues it, a CA allowed to sign CRLs */
	if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0)
		return sigil__err(err, SIGIL_ERR_CRYPTO,
			"CRL is not issued by the certificate's issuer (indirect CRLs are not supported)");
	if (!sigil__cert_is_ca(issuer))
		return sigil__err(err, SIGIL_ERR_CRYPTO, "CRL issuer is not a CA");
	if ((X509_get_extension_flags(issuer) & EXFLAG_KUSAGE) &&
	    !(X509_get_key_usage(issuer) & KU_CRL_SIGN))
		return sigil__err(err, SIGIL_ERR_CRYPTO,
			"CRL issuer certificate does not allow the cRLSign key usage");
	EVP_PKEY *key = X509_get0_pubkey(issuer);
	if (!key || X509_CRL_verify(crl, key) != 1) {
		ERR_clear_error();
		return sigil__err(err, SIGIL_ERR_CRYPTO, "CRL signature verification failed");
	}
	const ASN1_TIME *nut = X509_CRL_get0_nextUpdate(crl);
	if (!nut)
		return sigil__err(err, SIGIL_ERR_POLICY, "CRL NextUpdate is not set");
	int64_t nu = 0;
	SIGIL_TRY(asn1_epoch(nut, &nu, "CRL nextUpdate", err));
	if (now > nu) {
		char a[40], b[40];
		sigil__time_format(now, a, sizeof a);
		sigil__time_format(nu, b, sizeof b);
		return sigil__err(err, SIGIL_ERR_POLICY,
			"expired CRL. Current time %s is after CRL NextUpdate %s", a, b);
	}
	const STACK_OF(X509_EXTENSION) *exts = X509_CRL_get0_extensions(crl);
	for (int i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
		X509_EXTENSION *e = sk_X509_EXTENSION_value(exts, i);
		int nid = OBJ_obj2nid(X509_EXTENSION_get_object(e));
		if (X509_EXTENSION_get_critical(e) && nid != NID_issuing_distribution_point &&
		    nid != NID_delta_crl) {
			char oid[80];
			return sigil__err(err, SIGIL_ERR_UNSUPPORTED,
				"CRL contains unsupported critical extension: %s",
				obj_name(X509_EXTENSION_get_object(e), oid, sizeof oid));
		}
	}
	*next_update = nu;
	return SIGIL_STATUS_OK;
}

/* an integer extension (CRLNumber, DeltaCRLIndicator); NULL if absent,
 * *bad set if present but unusable (twice or undecodable) */
static ASN1_INTEGER *crl_int_ext(X509_CRL *crl, int nid, int *bad)
{
	int crit = 0;
	ASN1_INTEGER *v = X509_CRL_get_ext_d2i(crl, nid, &crit, NULL);
	if (!v && crit != -1)
		*bad = 1;
	ERR_clear_error();
	return v;
}

sigil_status sigil__crl_validate_delta(X509_CRL *base, X509_CRL *delta, sigil_error *err)
{
	int bad = 0;
	_cleanup_(ASN1_INTEGER_freep) ASN1_INTEGER *bnum = crl_int_ext(base, NID_crl_number, &bad);
	_cleanup_(ASN1_INTEGER_freep) ASN1_INTEGER *dnum = crl_int_ext(delta, NID_crl_number, &bad);
	_cleanup_(ASN1_INTEGER_freep) ASN1_INTEGER *ind = crl_int_ext(delta, NID_delta_crl, &bad);
	if (bad)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "invalid CRL number or delta CRL indicator");
	if (!ind)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "delta CRL indicator extension is not found");
	if (!bnum || !dnum)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "CRL number is not set");
	if (ASN1_INTEGER_cmp(dnum, bnum) <= 0)
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			"delta CRL number is not greater than the base CRL number");
	if (ASN1_INTEGER_cmp(ind, bnum) > 0)
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			"delta CRL indicator is greater than the base CRL number");
	return SIGIL_STATUS_OK;
}

sigil_status sigil__crl_cert_status(X509_CRL *base, X509_CRL *delta, X509 *cert,
	int64_t signing_time, sigil__rev_status *status, sigil_error *err)
{
	if (!base || !cert || !status)
		return sigil__err(err, SIGIL_ERR_USAGE, "crl: missing argument");
	const ASN1_INTEGER *serial = X509_get0_serialNumber(cert);
	X509_CRL *lists[2] = { base, delta };
	int64_t temp_time = 0;
	long temp_reason = -1;
	for (int l = 0; l < 2; l++) {
		STACK_OF(X509_REVOKED) *revs = lists[l] ? X509_CRL_get_REVOKED(lists[l]) : NULL;
		for (int i = 0; i < sk_X509_REVOKED_num(revs); i++) {
			X509_REVOKED *r = sk_X509_REVOKED_value(revs, i);
			if (ASN1_INTEGER_cmp(X509_REVOKED_get0_serialNumber(r), serial) != 0)
				continue;
			const STACK_OF(X509_EXTENSION) *exts = X509_REVOKED_get0_extensions(r);
			for (int k = 0; k < sk_X509_EXTENSION_num(exts); k++) {
				X509_EXTENSION *e = sk_X509_EXTENSION_value(exts, k);
				if (X509_EXTENSION_get_critical(e) &&
				    OBJ_obj2nid(X509_EXTENSION_get_object(e)) != NID_invalidity_date) {
					char oid[80];
					return sigil__err(err, SIGIL_ERR_UNSUPPORTED,
						"CRL entry has unsupported critical extension: %s",
						obj_name(X509_EXTENSION_get_object(e), oid, sizeof oid));
				}
			}
			int crit = 0;
			if (signing_time != 0) {
				ASN1_GENERALIZEDTIME *inv = X509_REVOKED_get_ext_d2i(r, NID_invalidity_date,
					&crit, NULL);
				int64_t invt = 0;
				int before = inv && sigil__time_from_asn1(inv, &invt, NULL) == SIGIL_STATUS_OK &&
					signing_time < invt;
				ASN1_GENERALIZEDTIME_free(inv);
				if (before) {
					ERR_clear_error();
					*status = SIGIL__REV_OK;
					return SIGIL_STATUS_OK;
				}
			}
			ASN1_ENUMERATED *code = X509_REVOKED_get_ext_d2i(r, NID_crl_reason, &crit, NULL);
			long reason = code ? ASN1_ENUMERATED_get(code) : -1;
			ASN1_ENUMERATED_free(code);
			ERR_clear_error();
			/* §6.4: certificateHold (6) and removeFromCRL (8) are
			 * temporary: the most recent one decides */
			if (reason == 6 || reason == 8) {
				int64_t when = 0;
				if (sigil__time_from_asn1(X509_REVOKED_get0_revocationDate(r), &when, NULL) !=
				    SIGIL_STATUS_OK)
					return sigil__err(err, SIGIL_ERR_MALFORMED, "invalid CRL revocation date");
				if (temp_reason < 0 || when > temp_time) {
					temp_time = when;
					temp_reason = reason;
				}
				continue;
			}
			*status = SIGIL__REV_REVOKED;
			return SIGIL_STATUS_OK;
		}
	}
	*status = temp_reason == 6 ? SIGIL__REV_REVOKED : SIGIL__REV_OK;
	return SIGIL_STATUS_OK;
}

/* ---- caches ---------------------------------------------------------------- */

static void mem_evict_one(sigil__revocation *rv, int64_t now)
{
	size_t victim = 0;
	for (size_t i = 0; i < rv->count; i++) {
		sigil__rev_mem_entry *e = &rv->entries[i], *v = &rv->entries[victim];
		int ee = e->next_update < now, ve = v->next_update < now;
		/* expired entries first, then the least recently used */
		if ((ee && !ve) || (ee == ve && e->used < v->used))
			victim = i;
	}
	rv->bytes -= rv->entries[victim].len;
	entry_clear(&rv->entries[victim]);
	rv->entries[victim] = rv->entries[--rv->count];
}

/* Keep a copy of (crl | der) under key. Failures only lose the caching. */
static void mem_put(sigil__revocation *rv, const char *key, X509_CRL *crl, const uint8_t *der,
	size_t len, int64_t next_update, int64_t now)
{
	if (crl && len == 0) {
		/* its size, for the byte bound */
		int n = i2d_X509_CRL(crl, NULL);
		len = n > 0 ? (size_t)n : 0;
	}
	if (len > SIGIL_MAX_REVOCATION_CACHE_BYTES)
		return;
	pthread_mutex_lock(&rv->lock);
	for (size_t i = 0; i < rv->count; i++)
		if (strcmp(rv->entries[i].key, key) == 0) {
			rv->bytes -= rv->entries[i].len;
			entry_clear(&rv->entries[i]);
			rv->entries[i] = rv->entries[--rv->count];
			break;
		}
	while (rv->count > 0 && (rv->count >= SIGIL_MAX_REVOCATION_CACHE_ENTRIES ||
		rv->bytes + len > SIGIL_MAX_REVOCATION_CACHE_BYTES))
		mem_evict_one(rv, now);
	sigil__rev_mem_entry *n = realloc(rv->entries, (rv->count + 1) * sizeof *n);
	if (!n)
		goto out;
	rv->entries = n;
	sigil__rev_mem_entry e;
	memset(&e, 0, sizeof e);
	snprintf(e.key, sizeof e.key, "%s", key);
	if (crl) {
		if (!X509_CRL_up_ref(crl))
			goto out;
		e.crl = crl;
	} else {
		if (!(e.der = malloc(len ? len : 1)))
			goto out;
		memcpy(e.der, der, len);
	}
	e.len = len;
	e.next_update = next_update;
	e.used = ++rv->tick;
	rv->entries[rv->count++] = e;
	rv->bytes += len;
out:
	pthread_mutex_unlock(&rv->lock);
}

/* A still-fresh entry: *crl up-referenced, or *der a malloc'd copy. */
static int mem_get(sigil__revocation *rv, const char *key, int64_t now, X509_CRL **crl,
	uint8_t **der, size_t *len)
{
	int found = 0;
	pthread_mutex_lock(&rv->lock);
	for (size_t i = 0; i < rv->count && !found; i++) {
		sigil__rev_mem_entry *e = &rv->entries[i];
		if (strcmp(e->key, key) != 0 || e->next_update < now)
			continue;
		if (e->crl && crl && X509_CRL_up_ref(e->crl)) {
			*crl = e->crl;
			found = 1;
		} else if (e->der && der && (*der = malloc(e->len ? e->len : 1))) {
			memcpy(*der, e->der, e->len);
			*len = e->len;
			found = 1;
		}
		if (found) {
			e->used = ++rv->tick;
			rv->stats.memory_hits++;
		}
	}
	pthread_mutex_unlock(&rv->lock);
	return found;
}

int sigil__rev_file_read(const char *dir, const char *sub, const char *name, size_t max,
	uint8_t **out, size_t *out_len)
{
	char path[4096];
	if (snprintf(path, sizeof path, "%s%s%s/%s", dir, sub[0] ? "/" : "", sub, name) >=
	    (int)sizeof path)
		return 0;
	/* a cache or seed file is never required: any failure is a miss, and
	 * so is an empty file (a CRL or OCSP response is never empty) */
	uint8_t *buf = NULL;
	size_t len = 0;
	if (max == 0 || sigil__file_read(path, NULL, max - 1, SIGIL__FILE_NOFOLLOW, &buf, &len, NULL, NULL) !=
	    SIGIL_STATUS_OK)
		return 0;
	if (len == 0) {
		free(buf);
		return 0;
	}
	*out = buf;
	*out_len = len;
	return 1;
}

/* a temporary file in the same directory, then rename, so readers see the
 * old or the new file, never a part. Errors are ignored: the cache is an
 * optimisation. */
int sigil__rev_cache_write(sigil__revocation *rv, const char *sub, const char *name,
	const uint8_t *der, size_t len)
{
	if (!rv->cache_dir)
		return 0;
	char dir[4096], path[4096], tmp[4096];
	if (snprintf(dir, sizeof dir, "%s/%s", rv->cache_dir, sub) >= (int)sizeof dir ||
	    snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path ||
	    snprintf(tmp, sizeof tmp, "%s/.tmp-%s-XXXXXX", dir, name) >= (int)sizeof tmp)
		return 0;
	(void)mkdir(rv->cache_dir, 0700);
	(void)mkdir(dir, 0700);
	int fd = mkstemp(tmp);
	if (fd < 0)
		return 0;
	size_t done = 0;
	while (done < len) {
		ssize_t w = write(fd, der + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	int ok = done == len && fsync(fd) == 0;
	if (close(fd) != 0)
		ok = 0;
	if (!ok || rename(tmp, path) != 0) {
		(void)unlink(tmp);
		return 0;
	}
	return 1;
}

/* ---- fetching -------------------------------------------------------------- */

typedef struct fetch_ctx {
	sigil__revocation *rv;
	int64_t now;
	int64_t deadline_ms;
	int64_t signing_time;
} fetch_ctx;

sigil_status sigil__rev_http(sigil__revocation *rv, const char *method, const char *url,
	const uint8_t *body, size_t body_len, const char *const *headers, size_t nheaders,
	size_t max_body, int64_t timeout_ms, int64_t deadline_ms, sigil__http_response *resp,
	sigil_error *err)
{
	sigil__http_request req;
	memset(&req, 0, sizeof req);
	req.method = method;
	req.url = url;
	req.headers = headers;
	req.header_count = nheaders;
	req.body = body;
	req.body_len = body_len;
	req.max_body = max_body;
	req.deadline_ms = deadline_ms;
	req.timeout_ms = timeout_ms;
	req.max_redirects = SIGIL_MAX_REVOCATION_REDIRECTS;
	stat_add(rv, &rv->stats.network_requests);
	SIGIL_TRY(sigil__http_do(rv->http, &req, resp, err));
	/* a redirect must not take us to a scheme we would not fetch */
	char scheme[16];
	if (resp->effective_url && !sigil__rev_scheme_ok(rv, resp->effective_url, scheme, sizeof scheme)) {
		sigil__http_response_clear(resp);
		return sigil__err(err, SIGIL_ERR_NETWORK, "redirected to an unsupported %s URL", scheme);
	}
	return SIGIL_STATUS_OK;
}

static sigil_status http_fetch(fetch_ctx *f, const char *method, const char *url,
	const uint8_t *body, size_t body_len, const char *const *headers, size_t nheaders,
	size_t max_body, int64_t timeout_ms, sigil__http_response *resp, sigil_error *err)
{
	return sigil__rev_http(f->rv, method, url, body, body_len, headers, nheaders, max_body,
		timeout_ms, f->deadline_ms, resp, err);
}

/* ---- CRL retrieval ----------------------------------------------------------- */

int sigil__rev_crl_is_delta(X509_CRL *crl)
{
	int crit = 0;
	ASN1_INTEGER *v = X509_CRL_get_ext_d2i(crl, NID_delta_crl, &crit, NULL);
	ASN1_INTEGER_free(v);
	ERR_clear_error();
	return crit != -1;
}

int sigil__rev_crl_usable(X509_CRL *crl, X509 *issuer, int64_t now, int want_delta, int64_t *nu)
{
	sigil_error e = SIGIL_ERROR_INIT;
	return crl && sigil__rev_crl_is_delta(crl) == want_delta &&
		sigil__crl_validate(crl, issuer, now, nu, &e) == SIGIL_STATUS_OK;
}

/* A base CRL (base NULL) or a delta CRL of base, valid at now. */
static int crl_fits(X509_CRL *crl, X509 *issuer, int64_t now, X509_CRL *base, int64_t *nu)
{
	sigil_error e = SIGIL_ERROR_INIT;
	return sigil__rev_crl_usable(crl, issuer, now, base != NULL, nu) &&
		(!base || sigil__crl_validate_delta(base, crl, &e) == SIGIL_STATUS_OK);
}

X509_CRL *sigil__rev_crl_from_bytes(const uint8_t *buf, size_t len)
{
	X509_CRL *crl = NULL;
	sigil_error e = SIGIL_ERROR_INIT;
	if (sigil__crl_parse(buf, len, &crl, &e) == SIGIL_STATUS_OK)
		return crl;
	/* seed directories may hold PEM, as `openssl ca -gencrl` writes it */
	BIO *b = BIO_new_mem_buf(buf, (int)len);
	if (b)
		crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
	BIO_free(b);
	ERR_clear_error();
	return crl;
}

/* The offline seed: first the cache layout (<seed>/crl/<hex>), then any
 * file in <seed> that is a valid CRL of this issuer (and a delta of base,
 * when base is given); the newest by thisUpdate wins. */
static X509_CRL *seed_crl(fetch_ctx *f, const char *name, X509 *issuer, X509_CRL *base,
	int64_t *nu)
{
	const char *seed = f->rv->seed_dir;
	if (!seed)
		return NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	if (sigil__rev_file_read(seed, "crl", name, SIGIL_MAX_CRL_SIZE, &buf, &len)) {
		X509_CRL *crl = sigil__rev_crl_from_bytes(buf, len);
		free(buf);
		if (crl_fits(crl, issuer, f->now, base, nu))
			return crl;
		X509_CRL_free(crl);
	}
	_cleanup_(closedirp) DIR *d = opendir(seed);
	if (!d)
		return NULL;
	X509_CRL *best = NULL;
	int64_t best_this = 0, best_nu = 0;
	struct dirent *de;
	for (int n = 0; (de = readdir(d)) && n < SIGIL_MAX_REVOCATION_SEED_FILES; n++) {
		if (de->d_name[0] == '.')
			continue;
		if (!sigil__rev_file_read(seed, "", de->d_name, SIGIL_MAX_CRL_SIZE, &buf, &len))
			continue;
		X509_CRL *crl = sigil__rev_crl_from_bytes(buf, len);
		free(buf);
		int64_t this_nu = 0, this_up = 0;
		if (!crl_fits(crl, issuer, f->now, base, &this_nu) ||
		    sigil__time_from_asn1(X509_CRL_get0_lastUpdate(crl), &this_up, NULL) != SIGIL_STATUS_OK ||
		    (best && this_up <= best_this)) {
			X509_CRL_free(crl);
			continue;
		}
		X509_CRL_free(best);
		best = crl;
		best_this = this_up;
		best_nu = this_nu;
	}
	if (best)
		*nu = best_nu;
	return best;
}

/* One CRL for url: cache, seed or network; validated against issuer and,
 * for a delta CRL (base non-NULL), against its base. A cached or seeded
 * CRL that does not fit (stale, a delta of an older base) is passed over
 * for the network. *fetched is set when a CRL was downloaded and parsed,
 * whether or not it then validated (§6.4: delta URLs are tried until one
 * fetches). Errors carry notation's "failed to download/validate CRL from
 * %s". */
static sigil_status get_crl(fetch_ctx *f, const char *url, X509 *issuer, X509_CRL *base,
	X509_CRL **out, int64_t *nu, int *fetched, sigil_error *err)
{
	sigil__revocation *rv = f->rv;
	char name[65], key[72];
	sigil__rev_hex_sha256(url, strlen(url), name);
	snprintf(key, sizeof key, "crl:%s", name);
	X509_CRL *crl = NULL;
	if (mem_get(rv, key, f->now, &crl, NULL, NULL)) {
		if (crl_fits(crl, issuer, f->now, base, nu)) {
			*out = crl;
			return SIGIL_STATUS_OK;
		}
		X509_CRL_free(crl);
		crl = NULL;
	}
	uint8_t *buf = NULL;
	size_t len = 0;
	if (rv->cache_dir && sigil__rev_file_read(rv->cache_dir, "crl", name, SIGIL_MAX_CRL_SIZE, &buf, &len)) {
		crl = sigil__rev_crl_from_bytes(buf, len);
		free(buf);
		if (crl_fits(crl, issuer, f->now, base, nu)) {
			stat_add(rv, &rv->stats.disk_hits);
			mem_put(rv, key, crl, NULL, len, *nu, f->now);
			*out = crl;
			return SIGIL_STATUS_OK;
		}
		X509_CRL_free(crl);
		crl = NULL;
	}
	if ((crl = seed_crl(f, name, issuer, base, nu))) {
		stat_add(rv, &rv->stats.seed_hits);
		mem_put(rv, key, crl, NULL, 0, *nu, f->now);
		*out = crl;
		return SIGIL_STATUS_OK;
	}
	char scheme[16];
	if (!sigil__rev_scheme_ok(rv, url, scheme, sizeof scheme))
		return sigil__err(err, SIGIL_ERR_UNSUPPORTED,
			"failed to download CRL from %s: unsupported scheme: %s. Only supports CRL URL in HTTP protocol",
			url, scheme);
	sigil__http_response resp;
	memset(&resp, 0, sizeof resp);
	sigil_error herr = SIGIL_ERROR_INIT;
	/* notation: reading exactly 32 MiB is an error */
	if (http_fetch(f, "GET", url, NULL, 0, NULL, 0, SIGIL_MAX_CRL_SIZE - 1, rv->crl_timeout_ms,
		&resp, &herr) != SIGIL_STATUS_OK) {
		fetch_report(rv, "crl", fetch_failure(&herr));
		return sigil__err(err, herr.category, "failed to download CRL from %s: %s", url,
			herr.message);
	}
	if (resp.status != 200) {
		long code = resp.status;
		sigil__http_response_clear(&resp);
		fetch_report(rv, "crl", "http_error");
		return sigil__err(err, SIGIL_ERR_NETWORK,
			"failed to download CRL from %s: failed to retrieve CRL: failed to download with status code: %ld",
			url, code);
	}
	sigil_error perr = SIGIL_ERROR_INIT;
	if (sigil__crl_parse(resp.body, resp.body_len, &crl, &perr) != SIGIL_STATUS_OK) {
		sigil__http_response_clear(&resp);
		fetch_report(rv, "crl", "invalid");
		return sigil__err(err, perr.category, "failed to download CRL from %s: %s", url,
			perr.message);
	}
	if (fetched)
		*fetched = 1;
	if (sigil__rev_crl_is_delta(crl) != (base != NULL)) {
		sigil__err(&perr, SIGIL_ERR_MALFORMED, base ?
			"delta CRL indicator extension is not found" : "the base CRL is a delta CRL");
	} else if (sigil__crl_validate(crl, issuer, f->now, nu, &perr) == SIGIL_STATUS_OK &&
		   (!base || sigil__crl_validate_delta(base, crl, &perr) == SIGIL_STATUS_OK)) {
		mem_put(rv, key, crl, NULL, resp.body_len, *nu, f->now);
		/* the source record first: an entry without one is only not
		 * refreshed in the background */
		sigil__rev_source_write_crl(rv, name, url, issuer);
		(void)sigil__rev_cache_write(rv, "crl", name, resp.body, resp.body_len);
		sigil__http_response_clear(&resp);
		fetch_report(rv, "crl", "ok");
		*out = crl;
		return SIGIL_STATUS_OK;
	}
	sigil__http_response_clear(&resp);
	X509_CRL_free(crl);
	fetch_report(rv, "crl", "invalid");
	return sigil__err(err, perr.category, "failed to validate CRL from %s: %s", url, perr.message);
}

/* The delta CRL of base through base's FreshestCRL (§6.4): its URIs in
 * order until one fetches; that one must then be a valid delta of base.
 * *delta stays NULL when base names no delta. 0 with a message in
 * detail when a delta is named but none can be used. */
static int get_delta(fetch_ctx *f, const char *url, X509 *issuer, X509_CRL *base,
	X509_CRL **delta, int64_t *dnu, char *detail, size_t dcap)
{
	char *durls[SIGIL_MAX_REVOCATION_URLS];
	size_t nd = 0;
	crl_urls_of_ext(base, 1, NID_freshest_crl, durls, &nd);
	sigil_error de = SIGIL_ERROR_INIT;
	int fetched = 0;
	for (size_t k = 0; k < nd && !*delta && !fetched; k++) {
		de = (sigil_error)SIGIL_ERROR_INIT;
		(void)get_crl(f, durls[k], issuer, base, delta, dnu, &fetched, &de);
	}
	sigil__rev_free_urls(durls, nd);
	if (nd > 0 && !*delta) {
		snprintf(detail, dcap, "CRL at URL \"%s\": failed to retrieve the delta CRL: %s", url,
			de.message);
		return 0;
	}
	return 1;
}

/* §6.4 for one certificate: every distribution point, in order; the first
 * error stops with Unknown (§8 row 14). */
static sigil__rev_status crl_check(fetch_ctx *f, X509 *cert, X509 *issuer, char **urls,
	size_t n, int64_t *valid_until, char *detail, size_t dcap)
{
	char *fresh[SIGIL_MAX_REVOCATION_URLS];
	size_t nfresh = 0;
	crl_urls_of_ext(cert, 0, NID_freshest_crl, fresh, &nfresh);
	int cert_wants_delta = nfresh > 0;
	sigil__rev_free_urls(fresh, nfresh);
	for (size_t i = 0; i < n; i++) {
		sigil_error e = SIGIL_ERROR_INIT;
		_cleanup_(X509_CRL_freep) X509_CRL *base = NULL;
		_cleanup_(X509_CRL_freep) X509_CRL *delta = NULL;
		int64_t nu = 0, dnu = INT64_MAX;
		if (get_crl(f, urls[i], issuer, NULL, &base, &nu, NULL, &e) != SIGIL_STATUS_OK) {
			snprintf(detail, dcap, "CRL at URL \"%s\": %s", urls[i], e.message);
			return SIGIL__REV_UNKNOWN;
		}
		if (!get_delta(f, urls[i], issuer, base, &delta, &dnu, detail, dcap))
			return SIGIL__REV_UNKNOWN;
		/* the certificate points at a delta the base CRL does not offer */
		if (!delta && cert_wants_delta) {
			snprintf(detail, dcap, "CRL at URL \"%s\": freshest CRL from certificate extension is not supported",
				urls[i]);
			return SIGIL__REV_UNKNOWN;
		}
		sigil__rev_status st = SIGIL__REV_UNKNOWN;
		if (sigil__crl_cert_status(base, delta, cert, f->signing_time, &st, &e) != SIGIL_STATUS_OK) {
			snprintf(detail, dcap, "CRL at URL \"%s\": failed to check revocation status from %s: %s",
				urls[i], urls[i], e.message);
			return SIGIL__REV_UNKNOWN;
		}
		/* the verdict relies on both: it lasts until the earlier
		 * nextUpdate */
		if (nu < *valid_until)
			*valid_until = nu;
		if (dnu < *valid_until)
			*valid_until = dnu;
		if (st == SIGIL__REV_REVOKED) {
			snprintf(detail, dcap, "CRL at URL \"%s\" lists the certificate as revoked", urls[i]);
			return SIGIL__REV_REVOKED;
		}
	}
	return SIGIL__REV_OK;
}

/* ---- OCSP retrieval ---------------------------------------------------------- */

/* Look for a usable response in the caches and the seed. */
static int ocsp_cached(fetch_ctx *f, const char *name, const char *key, X509 *cert,
	X509 *issuer, sigil__rev_status *st, int64_t *nu)
{
	sigil__revocation *rv = f->rv;
	uint8_t *buf = NULL;
	size_t len = 0;
	sigil_error e = SIGIL_ERROR_INIT;
	if (mem_get(rv, key, f->now, NULL, &buf, &len)) {
		int ok = sigil__ocsp_response_check(buf, len, cert, issuer, f->now, f->signing_time,
			st, nu, &e) == SIGIL_STATUS_OK && *st != SIGIL__REV_UNKNOWN;
		free(buf);
		if (ok)
			return 1;
	}
	const char *dirs[2] = { rv->cache_dir, rv->seed_dir };
	for (int d = 0; d < 2; d++) {
		if (!dirs[d] || !sigil__rev_file_read(dirs[d], "ocsp", name, SIGIL_MAX_OCSP_RESPONSE_SIZE + 1, &buf, &len))
			continue;
		int ok = sigil__ocsp_response_check(buf, len, cert, issuer, f->now, f->signing_time,
			st, nu, &e) == SIGIL_STATUS_OK && *st != SIGIL__REV_UNKNOWN;
		if (ok) {
			stat_add(rv, d == 0 ? &rv->stats.disk_hits : &rv->stats.seed_hits);
			mem_put(rv, key, NULL, buf, len, *nu, f->now);
		}
		free(buf);
		if (ok)
			return 1;
	}
	/* any file in the seed directory that answers for this certificate */
	if (!rv->seed_dir)
		return 0;
	_cleanup_(closedirp) DIR *dir = opendir(rv->seed_dir);
	struct dirent *de;
	for (int n = 0; dir && (de = readdir(dir)) && n < SIGIL_MAX_REVOCATION_SEED_FILES; n++) {
		if (de->d_name[0] == '.' ||
		    !sigil__rev_file_read(rv->seed_dir, "", de->d_name, SIGIL_MAX_OCSP_RESPONSE_SIZE + 1, &buf, &len))
			continue;
		int ok = sigil__ocsp_response_check(buf, len, cert, issuer, f->now, f->signing_time,
			st, nu, &e) == SIGIL_STATUS_OK && *st != SIGIL__REV_UNKNOWN;
		if (ok) {
			stat_add(rv, &rv->stats.seed_hits);
			mem_put(rv, key, NULL, buf, len, *nu, f->now);
		}
		free(buf);
		if (ok)
			return 1;
	}
	return 0;
}

/* percent-encode the characters of standard base64 a query escape
 * changes ('+', '/', '=') */
static size_t escape_b64(const char *in, char *out, size_t cap)
{
	size_t o = 0;
	for (const char *p = in; *p; p++) {
		if (*p == '+' || *p == '/' || *p == '=') {
			if (o + 3 >= cap)
				return (size_t)-1;
			snprintf(out + o, 4, "%%%02X", (unsigned char)*p);
			o += 3;
		} else {
			if (o + 1 >= cap)
				return (size_t)-1;
			out[o++] = *p;
		}
	}
	out[o] = 0;
	return o;
}

sigil_status sigil__rev_ocsp_exchange(sigil__revocation *rv, const char *url, const uint8_t *req,
	size_t req_len, int64_t deadline_ms, sigil__http_response *resp, sigil_error *err)
{
	char b64[256], esc[256];
	size_t esc_len = (size_t)-1;
	if (req_len < 180) {
		EVP_EncodeBlock((unsigned char *)b64, req, (int)req_len);
		if (strlen(b64) < 255)
			esc_len = escape_b64(b64, esc, sizeof esc);
	}
	/* GET <server>/<escaped base64> when shorter than 255, else POST */
	if (esc_len < 255) {
		size_t ul = strlen(url);
		char full[SIGIL_MAX_REVOCATION_URL_LENGTH + 260];
		snprintf(full, sizeof full, "%s%s%s", url, ul && url[ul - 1] == '/' ? "" : "/", esc);
		return sigil__rev_http(rv, "GET", full, NULL, 0, NULL, 0, SIGIL_MAX_OCSP_RESPONSE_SIZE,
			rv->ocsp_timeout_ms, deadline_ms, resp, err);
	}
	static const char *const hdr[] = { "Content-Type: application/ocsp-request" };
	return sigil__rev_http(rv, "POST", url, req, req_len, hdr, 1, SIGIL_MAX_OCSP_RESPONSE_SIZE,
		rv->ocsp_timeout_ms, deadline_ms, resp, err);
}

/* §6.3 for one certificate */
static sigil__rev_status ocsp_check(fetch_ctx *f, X509 *cert, X509 *issuer, char **urls,
	size_t n, int64_t *valid_until, char *detail, size_t dcap)
{
	sigil__revocation *rv = f->rv;
	_cleanup_free_ uint8_t *req = NULL;
	size_t req_len = 0;
	sigil_error e = SIGIL_ERROR_INIT;
	if (sigil__ocsp_request(cert, issuer, &req, &req_len, &e) != SIGIL_STATUS_OK) {
		snprintf(detail, dcap, "OCSP: error checking revocation status via OCSP: %s", e.message);
		return SIGIL__REV_UNKNOWN;
	}
	/* cached by CertID: the request (no nonce) is a function of it */
	char name[65], key[72];
	sigil__rev_hex_sha256(req, req_len, name);
	snprintf(key, sizeof key, "ocsp:%s", name);
	sigil__rev_status st = SIGIL__REV_UNKNOWN;
	int64_t nu = 0;
	if (ocsp_cached(f, name, key, cert, issuer, &st, &nu)) {
		if (nu < *valid_until)
			*valid_until = nu;
		if (st == SIGIL__REV_REVOKED)
			snprintf(detail, dcap, "OCSP (cached response): certificate is revoked via OCSP");
		return st;
	}
	if (n == 0) {
		snprintf(detail, dcap, "OCSP: no valid OCSP server found");
		return SIGIL__REV_UNKNOWN;
	}
	for (size_t i = 0; i < n; i++) {
		char scheme[16];
		if (!sigil__rev_scheme_ok(rv, urls[i], scheme, sizeof scheme)) {
			snprintf(detail, dcap, "OCSP at URL \"%s\": OCSPServer protocol %s is not supported",
				urls[i], scheme);
			continue;
		}
		sigil__http_response resp;
		memset(&resp, 0, sizeof resp);
		sigil_error herr = SIGIL_ERROR_INIT;
		if (sigil__rev_ocsp_exchange(rv, urls[i], req, req_len, f->deadline_ms, &resp, &herr) !=
		    SIGIL_STATUS_OK) {
			fetch_report(rv, "ocsp", fetch_failure(&herr));
			if (strstr(herr.message, "timed out") || strstr(herr.message, "deadline"))
				snprintf(detail, dcap,
					"OCSP at URL \"%s\": exceeded timeout threshold of %.2f seconds for OCSP check (%s)",
					urls[i], (double)rv->ocsp_timeout_ms / 1000.0, herr.message);
			else
				snprintf(detail, dcap, "OCSP at URL \"%s\": error checking revocation status via OCSP: %s",
					urls[i], herr.message);
			continue;
		}
		if (resp.status != 200) {
			snprintf(detail, dcap, "OCSP at URL \"%s\": failed to retrieve OCSP: response had status code %ld",
				urls[i], resp.status);
			sigil__http_response_clear(&resp);
			fetch_report(rv, "ocsp", "http_error");
			continue;
		}
		e = (sigil_error)SIGIL_ERROR_INIT;
		if (sigil__ocsp_response_check(resp.body, resp.body_len, cert, issuer, f->now,
			f->signing_time, &st, &nu, &e) != SIGIL_STATUS_OK) {
			snprintf(detail, dcap, "OCSP at URL \"%s\": error checking revocation status via OCSP: %s",
				urls[i], e.message);
			sigil__http_response_clear(&resp);
			fetch_report(rv, "ocsp", "invalid");
			continue;
		}
		/* a definitive answer (good, revoked, or the responder's
		 * "unknown") ends the search (§6.3, §8 row 12) */
		if (st != SIGIL__REV_UNKNOWN) {
			mem_put(rv, key, NULL, resp.body, resp.body_len, nu, f->now);
			/* the source record first, as for CRLs: the background
			 * refresh asks the certificate's responders again */
			sigil__rev_source_write_ocsp(rv, name, cert, issuer);
			(void)sigil__rev_cache_write(rv, "ocsp", name, resp.body, resp.body_len);
			if (nu < *valid_until)
				*valid_until = nu;
		}
		sigil__http_response_clear(&resp);
		fetch_report(rv, "ocsp", "ok");
		if (st == SIGIL__REV_REVOKED)
			snprintf(detail, dcap, "OCSP at URL \"%s\": certificate is revoked via OCSP", urls[i]);
		else if (st == SIGIL__REV_UNKNOWN)
			snprintf(detail, dcap, "OCSP at URL \"%s\": certificate has unknown status via OCSP",
				urls[i]);
		return st;
	}
	return SIGIL__REV_UNKNOWN;
}

/* ---- one certificate, the chain ---------------------------------------------- */

static sigil__rev_status cert_check(fetch_ctx *f, X509 *cert, X509 *issuer, int64_t *valid_until,
	char *detail, size_t dcap)
{
	char *ocsp[SIGIL_MAX_REVOCATION_URLS], *crl[SIGIL_MAX_REVOCATION_URLS];
	size_t no = 0, nc = 0;
	sigil__rev_ocsp_urls(cert, ocsp, &no);
	crl_urls_of_ext(cert, 0, NID_crl_distribution_points, crl, &nc);
	sigil__rev_status st;
	if (no > 0) {
		int64_t vu = *valid_until;
		st = ocsp_check(f, cert, issuer, ocsp, no, &vu, detail, dcap);
		if (st == SIGIL__REV_UNKNOWN && nc > 0) {
			/* OCSPFallbackCRL: the CRL result is final */
			char od[SIGIL_ERROR_MESSAGE_MAX];
			snprintf(od, sizeof od, "%s", detail);
			st = crl_check(f, cert, issuer, crl, nc, valid_until, detail, dcap);
			if (st != SIGIL__REV_OK) {
				char both[SIGIL_ERROR_MESSAGE_MAX];
				snprintf(both, sizeof both, "%s; fallback to %s", od, detail);
				snprintf(detail, dcap, "%s", both);
			}
		} else
			*valid_until = vu;
	} else if (nc > 0)
		st = crl_check(f, cert, issuer, crl, nc, valid_until, detail, dcap);
	else
		st = SIGIL__REV_NON_REVOKABLE;
	sigil__rev_free_urls(ocsp, no);
	sigil__rev_free_urls(crl, nc);
	return st;
}

static sigil_status check_chain_length(const sigil__revocation *rv, STACK_OF(X509) *chain,
	const sigil__rev_outcome *out, sigil_error *err)
{
	if (!rv || !out)
		return sigil__err(err, SIGIL_ERR_USAGE, "revocation: missing argument");
	int n = chain ? sk_X509_num(chain) : 0;
	if (n <= 0)
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			"invalid chain: expected chain to be correct and complete: chain does not contain any certificate");
	if (n > SIGIL_MAX_CHAIN_LENGTH)
		return sigil__err(err, SIGIL_ERR_LIMIT,
			"invalid chain: expected chain to be correct and complete: more than %d certificates",
			SIGIL_MAX_CHAIN_LENGTH);
	return SIGIL_STATUS_OK;
}

sigil_status sigil__revocation_check_chain(sigil__revocation *rv, STACK_OF(X509) *chain,
	sigil__rev_purpose purpose, int64_t signing_time, int64_t now, int64_t deadline_ms,
	sigil__rev_outcome *out, sigil_error *err)
{
	SIGIL_TRY(check_chain_length(rv, chain, out, err));
	/* §6.2 step 1: structural validation first */
	sigil_error verr = SIGIL_ERROR_INIT;
	sigil_status vs = purpose == SIGIL__REV_TIMESTAMPING ?
		sigil__chain_validate_timestamping(chain, &verr) :
		sigil__chain_validate_codesigning(chain, &verr);
	if (vs != SIGIL_STATUS_OK)
		return sigil__err(err, verr.category,
			"invalid chain: expected chain to be correct and complete: %s", verr.message);
	return sigil__revocation_check_validated_chain(rv, chain, purpose, signing_time, now,
		deadline_ms, out, err);
}

sigil_status sigil__revocation_check_validated_chain(sigil__revocation *rv,
	STACK_OF(X509) *chain, sigil__rev_purpose purpose, int64_t signing_time, int64_t now,
	int64_t deadline_ms, sigil__rev_outcome *out, sigil_error *err)
{
	(void)purpose; /* the validation it selects was done by the caller */
	SIGIL_TRY(check_chain_length(rv, chain, out, err));
	int n = sk_X509_num(chain);
	fetch_ctx f = { rv, now, deadline_ms, signing_time };
	sigil__rev_status results[SIGIL_MAX_CHAIN_LENGTH];
	char details[SIGIL_MAX_CHAIN_LENGTH][SIGIL_ERROR_MESSAGE_MAX / 2];
	int64_t valid_until = INT64_MAX;
	/* §6.2 step 2: the root is never checked */
	results[n - 1] = SIGIL__REV_NON_REVOKABLE;
	details[n - 1][0] = 0;
	for (int i = 0; i + 1 < n; i++) {
		details[i][0] = 0;
		results[i] = cert_check(&f, sk_X509_value(chain, i), sk_X509_value(chain, i + 1),
			&valid_until, details[i], sizeof details[i]);
	}
	/* §6.2 step 4: from the root to the leaf, the result closest to the
	 * leaf wins; any Revoked takes precedence */
	sigil__rev_status final = SIGIL__REV_OK;
	int idx = -1, revoked = -1;
	for (int i = n - 1; i >= 0; i--) {
		if (results[i] == SIGIL__REV_OK || results[i] == SIGIL__REV_NON_REVOKABLE)
			continue;
		final = results[i];
		idx = i;
		if (results[i] == SIGIL__REV_REVOKED)
			revoked = i;
	}
	if (revoked >= 0) {
		final = SIGIL__REV_REVOKED;
		idx = revoked;
	}
	memset(out, 0, sizeof *out);
	out->status = final;
	out->index = idx;
	out->valid_until = valid_until;
	if (idx >= 0) {
		char *subj = sigil__cert_subject(sk_X509_value(chain, idx));
		snprintf(out->subject, sizeof out->subject, "%s", subj ? subj : "?");
		free(subj);
		snprintf(out->detail, sizeof out->detail, "certificate #%d: %s", idx + 1, details[idx]);
	}
	return SIGIL_STATUS_OK;
}
