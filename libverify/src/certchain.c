/* certchain.c - structural rules for code-signing and timestamping
 * certificate chains (notary-verification.md §1.9), subject rendering and
 * small certificate queries.
 *
 * The order of checks mirrors notation-core-go's validateCertChain
 * (§1.9.2) so that the first failure reported is the one notation would
 * report; where the spec is stricter (§8 rows 3-5) the spec's rule is added
 * at the point notation performs the corresponding check. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "certcache.h"
#include "certchain.h"
#include "cleanup.h"
#include "errors.h"
#include "bounds.h"
#include "timeutil.h"

/* ------------------------------------------------------------------ */
/* A small bounded string builder for subjects and quoted names.        */

/* Subjects are for messages; a hostile name is cut here rather than
 * letting one certificate produce an unbounded string. */
#define SUBJECT_MAX_OUT (4u * SIGIL_MAX_DN_LENGTH)

typedef struct sbuf {
	char *p;
	size_t len, cap;
	bool oom, truncated;
} sbuf;

static void sb_putn(sbuf *b, const char *s, size_t n)
{
	if (b->oom || b->truncated)
		return;
	if (n > SUBJECT_MAX_OUT - b->len) {
		b->truncated = true;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 64;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		char *np = realloc(b->p, ncap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_puts(sbuf *b, const char *s) { sb_putn(b, s, strlen(s)); }
static void sb_putc(sbuf *b, char c) { sb_putn(b, &c, 1); }

static void sb_hex(sbuf *b, const uint8_t *d, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		char two[2] = { hx[d[i] >> 4], hx[d[i] & 15] };
		sb_putn(b, two, 2);
	}
}

static char *sb_finish(sbuf *b)
{
	if (b->oom) {
		free(b->p);
		return NULL;
	}
	if (b->truncated) {
		b->truncated = false;
		sb_puts(b, "...");
	}
	if (!b->p)
		sb_putn(b, "", 0);
	if (b->oom) {
		free(b->p);
		return NULL;
	}
	return b->p;
}

/* ------------------------------------------------------------------ */
/* sigil__cert_subject: Go's pkix.Name.String() for a parsed certificate. */

/* The attribute types Go parses into named fields, in the order
 * pkix.Name.ToRDNSequence() emits them (String() prints them reversed). */
static const struct {
	int nid;
	const char *name;
	bool single; /* CommonName and SerialNumber keep only the last value */
} known_attrs[] = {
	{ NID_countryName, "C", false },
	{ NID_stateOrProvinceName, "ST", false },
	{ NID_localityName, "L", false },
	{ NID_streetAddress, "STREET", false },
	{ NID_postalCode, "POSTALCODE", false },
	{ NID_organizationName, "O", false },
	{ NID_organizationalUnitName, "OU", false },
	{ NID_commonName, "CN", true },
	{ NID_serialNumber, "SERIALNUMBER", true },
};
#define N_KNOWN (sizeof known_attrs / sizeof known_attrs[0])

static int known_index(const ASN1_OBJECT *obj)
{
	int nid = OBJ_obj2nid(obj);
	for (size_t i = 0; i < N_KNOWN; i++)
		if (known_attrs[i].nid == nid)
			return (int)i;
	return -1;
}

static void put_utf8(sbuf *b, uint32_t cp)
{
	char o[4];
	size_t n;
	if (cp < 0x80) {
		o[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		o[0] = (char)(0xf0 | (cp >> 18));
		o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	sb_putn(b, o, n);
}

/* The attribute value as the Go string x509 parsing produces: BMPString
 * decoded from UTF-16 (invalid surrogates become U+FFFD, as utf16.Decode),
 * every other string type taken as its raw bytes. */
static void value_string(sbuf *b, const ASN1_STRING *v)
{
	const uint8_t *d = ASN1_STRING_get0_data(v);
	size_t n = (size_t)ASN1_STRING_length(v);
	if (ASN1_STRING_type(v) != V_ASN1_BMPSTRING) {
		sb_putn(b, (const char *)d, n);
		return;
	}
	for (size_t i = 0; i + 1 < n; i += 2) {
		uint32_t u = ((uint32_t)d[i] << 8) | d[i + 1];
		if (u >= 0xd800 && u < 0xdc00 && i + 3 < n) {
			uint32_t l = ((uint32_t)d[i + 2] << 8) | d[i + 3];
			if (l >= 0xdc00 && l < 0xe000) {
				put_utf8(b, 0x10000 + ((u - 0xd800) << 10) + (l - 0xdc00));
				i += 2;
				continue;
			}
		}
		if (u >= 0xd800 && u < 0xe000)
			u = 0xfffd;
		put_utf8(b, u);
	}
}

/* RFC 2253-style escaping exactly as Go's RDNSequence.String(). */
static void put_escaped(sbuf *b, const char *s, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		char c = s[k];
		bool esc = false;
		switch (c) {
		case ',': case '+': case '"': case '\\': case '<': case '>': case ';':
			esc = true;
			break;
		case ' ':
			esc = k == 0 || k == n - 1;
			break;
		case '#':
			esc = k == 0;
			break;
		default:
			break;
		}
		if (c == '\0') {
			/* A C string cannot carry NUL; show it visibly. */
			sb_puts(b, "\\x00");
			continue;
		}
		if (esc)
			sb_putc(b, '\\');
		sb_putc(b, c);
	}
}

static void put_value(sbuf *b, const ASN1_STRING *v)
{
	sbuf tmp = { 0 };
	value_string(&tmp, v);
	if (tmp.oom) {
		b->oom = true;
	} else if (tmp.p) {
		put_escaped(b, tmp.p, tmp.len);
	}
	free(tmp.p);
}

/* Go prints attributes it has no name for as "<oid>=#<hex of
 * asn1.Marshal(value)>": a PrintableString if every byte is in the
 * PrintableString set (Go rejects '*' and '&' there), else UTF8String. */
static bool go_printable(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == ' ' || c == '\'' || c == '(' || c == ')' || c == '+' || c == ',' ||
		c == '-' || c == '.' || c == '/' || c == ':' || c == '=' || c == '?';
}

static void put_unknown(sbuf *b, const ASN1_OBJECT *obj, const ASN1_STRING *v)
{
	char oid[128];
	int r = OBJ_obj2txt(oid, sizeof oid, obj, 1);
	if (r <= 0 || (size_t)r >= sizeof oid)
		memcpy(oid, "?", 2);
	sb_puts(b, oid);
	sb_puts(b, "=#");

	sbuf val = { 0 };
	value_string(&val, v);
	if (val.oom) {
		b->oom = true;
		return;
	}
	const uint8_t *d = (const uint8_t *)(val.p ? val.p : "");
	size_t n = val.len;
	uint8_t tag = 0x13; /* PrintableString */
	for (size_t i = 0; i < n; i++)
		if (!go_printable(d[i])) {
			tag = 0x0c; /* UTF8String */
			break;
		}
	uint8_t hdr[6];
	size_t hl = 0;
	hdr[hl++] = tag;
	if (n < 0x80) {
		hdr[hl++] = (uint8_t)n;
	} else {
		uint8_t lb[4];
		size_t nb = 0;
		for (size_t t = n; t; t >>= 8)
			lb[nb++] = (uint8_t)(t & 0xff);
		hdr[hl++] = (uint8_t)(0x80 | nb);
		while (nb)
			hdr[hl++] = lb[--nb];
	}
	sb_hex(b, hdr, hl);
	sb_hex(b, d, n);
	free(val.p);
}

char *sigil__cert_subject(X509 *cert)
{
	sbuf b = { 0 };
	const X509_NAME *name = cert ? X509_get_subject_name(cert) : NULL;
	int count = name ? X509_NAME_entry_count(name) : 0;
	if (count > SIGIL_MAX_DN_ATTRS * 4)
		count = SIGIL_MAX_DN_ATTRS * 4;

	/* Known attributes, most specific first (String() reverses the
	 * sequence C, ST, L, STREET, POSTALCODE, O, OU, CN, SERIALNUMBER). */
	bool first = true;
	for (size_t ki = N_KNOWN; ki-- > 0;) {
		int last = -1;
		for (int i = 0; i < count; i++) {
			const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
			if (known_index(X509_NAME_ENTRY_get_object(e)) == (int)ki)
				last = i;
		}
		if (last < 0)
			continue;
		bool first_in_rdn = true;
		for (int i = known_attrs[ki].single ? last : 0; i <= last; i++) {
			const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
			if (known_index(X509_NAME_ENTRY_get_object(e)) != (int)ki)
				continue;
			/* repeated values of one type form one multi-valued RDN */
			sb_puts(&b, first ? "" : (first_in_rdn ? "," : "+"));
			sb_puts(&b, known_attrs[ki].name);
			sb_putc(&b, '=');
			put_value(&b, X509_NAME_ENTRY_get_data(e));
			first = false;
			first_in_rdn = false;
		}
	}
	/* Other attributes were prepended to the sequence, so they print last,
	 * in reverse order (Go issue 39924). */
	for (int i = count; i-- > 0;) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
		const ASN1_OBJECT *obj = X509_NAME_ENTRY_get_object(e);
		if (known_index(obj) >= 0)
			continue;
		if (!first)
			sb_putc(&b, ',');
		put_unknown(&b, obj, X509_NAME_ENTRY_get_data(e));
		first = false;
	}
	return sb_finish(&b);
}

/* A subject quoted as Go's %q would, for messages. Bound to its
 * certificate by quote_subject and formatted only when a message needs it
 * (qs): formatting every subject of every chain cost more than the
 * structural checks themselves, for messages almost never printed. */
typedef struct qname {
	X509 *cert;
	bool done;
	char s[512];
} qname;

static void quote_subject(X509 *cert, qname *q)
{
	q->cert = cert;
	q->done = false;
}

static const char *qs(qname *q)
{
	if (q->done)
		return q->s;
	q->done = true;
	char *subj = sigil__cert_subject(q->cert);
	const char *src = subj ? subj : "";
	size_t o = 0, max = sizeof q->s;
	q->s[o++] = '"';
	for (const char *p = src; *p && o + 8 < max; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '"' || c == '\\') {
			q->s[o++] = '\\';
			q->s[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			static const char hx[] = "0123456789abcdef";
			q->s[o++] = '\\';
			q->s[o++] = 'x';
			q->s[o++] = hx[c >> 4];
			q->s[o++] = hx[c & 15];
		} else {
			q->s[o++] = (char)c;
		}
	}
	q->s[o++] = '"';
	q->s[o] = '\0';
	free(subj);
	return q->s;
}

/* ------------------------------------------------------------------ */
/* Extension access. Go's parser rejects certificates with a duplicate
 * extension or an undecodable basicConstraints/keyUsage/EKU, so do we. */

typedef struct certext {
	BASIC_CONSTRAINTS *bc;
	int bc_crit;
	ASN1_BIT_STRING *ku;
	int ku_crit;
	EXTENDED_KEY_USAGE *eku;
	int eku_crit;
} certext;

static void certext_clear(certext *ce)
{
	BASIC_CONSTRAINTS_free(ce->bc);
	ASN1_BIT_STRING_free(ce->ku);
	sk_ASN1_OBJECT_pop_free(ce->eku, ASN1_OBJECT_free);
	memset(ce, 0, sizeof *ce);
}

/* 1 present (decoded), 0 absent, -1 duplicated or undecodable */
static int get_ext(X509 *cert, int nid, void **out, int *crit)
{
	int c = -1;
	void *p = X509_get_ext_d2i(cert, nid, &c, NULL);
	if (c == -1)
		return 0;
	if (c < 0 || !p) {
		ERR_clear_error();
		return -1;
	}
	*out = p;
	*crit = c;
	return 1;
}

static int certext_load(X509 *cert, certext *ce)
{
	memset(ce, 0, sizeof *ce);
	void *p = NULL;
	int r;
	if ((r = get_ext(cert, NID_basic_constraints, &p, &ce->bc_crit)) < 0)
		return -1;
	ce->bc = r ? p : NULL;
	p = NULL;
	if ((r = get_ext(cert, NID_key_usage, &p, &ce->ku_crit)) < 0)
		goto fail;
	ce->ku = r ? p : NULL;
	p = NULL;
	if ((r = get_ext(cert, NID_ext_key_usage, &p, &ce->eku_crit)) < 0)
		goto fail;
	ce->eku = r ? p : NULL;
	return 0;
fail:
	certext_clear(ce);
	return -1;
}

static bool ku_bit(const certext *ce, int bit)
{
	return ce->ku && ASN1_BIT_STRING_get_bit(ce->ku, bit);
}

/* Go's KeyUsage value is non-zero (only the nine defined bits count). */
static bool ku_nonzero(const certext *ce)
{
	for (int i = 0; i < 9; i++)
		if (ku_bit(ce, i))
			return true;
	return false;
}

enum { KUB_DIGITAL_SIGNATURE = 0, KUB_NON_REPUDIATION, KUB_KEY_ENCIPHERMENT,
	KUB_DATA_ENCIPHERMENT, KUB_KEY_AGREEMENT, KUB_KEY_CERT_SIGN, KUB_CRL_SIGN,
	KUB_ENCIPHER_ONLY, KUB_DECIPHER_ONLY };

int sigil__cert_is_ca(X509 *cert)
{
	certext ce;
	if (!cert || certext_load(cert, &ce) < 0)
		return 0;
	int ca = ce.bc && ce.bc->ca;
	certext_clear(&ce);
	return ca;
}

/* ------------------------------------------------------------------ */
/* Signatures. */

/* §1.9.1: "No certificate may be signed with SHA1WithRSA or ECDSAWithSHA1";
 * Go's checkSignature also refuses MD5 always, and only knows SHA-2 for
 * RSA/ECDSA. SHA-1 is accepted only where Go's CheckSignature allows it
 * (a single self-signed leaf, non-CA trust-store entries; §1.9.2). */
static bool sig_alg_ok(X509 *cert, bool allow_sha1, char *why, size_t whylen)
{
	int mdnid = NID_undef, pknid = NID_undef;
	if (!X509_get_signature_info(cert, &mdnid, &pknid, NULL, NULL)) {
		ERR_clear_error();
		snprintf(why, whylen, "x509: unsupported signature algorithm");
		return false;
	}
	if (pknid != EVP_PKEY_RSA && pknid != EVP_PKEY_RSA_PSS && pknid != EVP_PKEY_EC) {
		snprintf(why, whylen, "x509: unsupported signature algorithm %s",
			OBJ_nid2sn(X509_get_signature_nid(cert)));
		return false;
	}
	switch (mdnid) {
	case NID_sha256:
	case NID_sha384:
	case NID_sha512:
		return true;
	case NID_sha1:
		if (allow_sha1)
			return true;
		snprintf(why, whylen, "x509: cannot verify signature: insecure algorithm %s",
			OBJ_nid2sn(X509_get_signature_nid(cert)));
		return false;
	default:
		snprintf(why, whylen, "x509: cannot verify signature: insecure or unsupported algorithm %s",
			OBJ_nid2sn(X509_get_signature_nid(cert)));
		return false;
	}
}

/* The signature of `cert` verifies with `key_of`'s public key. */
static bool sig_verifies(X509 *cert, X509 *key_of, char *why, size_t whylen)
{
	EVP_PKEY *pk = X509_get0_pubkey(key_of);
	if (!pk) {
		ERR_clear_error();
		snprintf(why, whylen, "x509: unsupported public key algorithm");
		return false;
	}
	int r = X509_verify(cert, pk);
	ERR_clear_error();
	if (r != 1) {
		snprintf(why, whylen, "x509: signature verification failure");
		return false;
	}
	return true;
}

/* Go's Certificate.CheckSignatureFrom(parent), minus the signature: the
 * parent may sign certificates (v3 needs basicConstraints with cA;
 * keyUsage, if non-zero, needs keyCertSign) and the child's algorithm is
 * not SHA-1/MD5. *crypto tells an algorithm problem from a constraint
 * problem. */
static bool may_sign(X509 *child, X509 *parent, const certext *parent_ext, char *why,
	size_t whylen, bool *crypto)
{
	*crypto = false;
	/* parent_ext: the parent's extensions as validate_chain decoded them
	 * already (decoding the same bytes again gives the same); else here */
	certext loaded;
	const certext *ce = parent_ext;
	if (!ce) {
		if (certext_load(parent, &loaded) < 0) {
			snprintf(why, whylen, "x509: malformed or duplicate extension in parent certificate");
			return false;
		}
		ce = &loaded;
	}
	bool constrained = (X509_get_version(parent) == 2 && !ce->bc) || (ce->bc && !ce->bc->ca) ||
		(ku_nonzero(ce) && !ku_bit(ce, KUB_KEY_CERT_SIGN));
	if (!parent_ext)
		certext_clear(&loaded);
	if (constrained) {
		snprintf(why, whylen, "x509: invalid signature: parent certificate cannot sign this kind of certificate");
		return false;
	}
	if (!sig_alg_ok(child, false, why, whylen)) {
		*crypto = true;
		return false;
	}
	return true;
}

/* Go's Certificate.CheckSignatureFrom(parent): may_sign, then the
 * signature verifies. *crypto tells a bad signature from a constraint
 * problem. */
static bool check_signature_from(X509 *child, X509 *parent, const certext *parent_ext, char *why,
	size_t whylen, bool *crypto)
{
	if (!may_sign(child, parent, parent_ext, why, whylen, crypto))
		return false;
	if (!sig_verifies(child, parent, why, whylen)) {
		*crypto = true;
		return false;
	}
	return true;
}

typedef struct why_buf {
	char *p;
	size_t len;
} why_buf;

static int self_sig_verifies(X509 *cert, void *ctx)
{
	why_buf *w = ctx;
	return sig_verifies(cert, cert, w->p, w->len);
}

/* check_signature_from(root, root) for the chain's last certificate, the
 * signature itself through the certificate cache (certcache.h): §1.9.1
 * makes every verification check the root's self-signature, and for the
 * same DER bytes its outcome cannot change, so a success is remembered
 * there. The constraint and algorithm checks stay per call (they are
 * cheap) and every failure is computed, so the errors are the same. */
static bool check_root_signature(X509 *root, const certext *root_ext, char *why, size_t whylen,
	bool *crypto)
{
	if (!may_sign(root, root, root_ext, why, whylen, crypto))
		return false;
	why_buf w = { why, whylen };
	if (!sigil__certcache_self_signature_ok(root, self_sig_verifies, &w)) {
		*crypto = true;
		return false;
	}
	return true;
}

/* Raw DER equality of the child's issuer and the parent's subject. */
static bool issuer_matches(X509 *child, X509 *parent)
{
	const unsigned char *a = NULL, *b = NULL;
	size_t al = 0, bl = 0;
	if (!X509_NAME_get0_der(X509_get_issuer_name(child), &a, &al) ||
	    !X509_NAME_get0_der(X509_get_subject_name(parent), &b, &bl)) {
		ERR_clear_error();
		return false;
	}
	return al == bl && memcmp(a, b, al) == 0;
}

int sigil__cert_self_signature_ok(X509 *cert)
{
	char why[128];
	if (!cert)
		return 0;
	return sig_alg_ok(cert, true, why, sizeof why) && sig_verifies(cert, cert, why, sizeof why);
}

int sigil__cert_is_root(X509 *cert, char *why, size_t whylen)
{
	char tmp[256];
	bool crypto;
	if (!why || whylen == 0) {
		why = tmp;
		whylen = sizeof tmp;
	}
	why[0] = '\0';
	if (!cert)
		return 0;
	if (!check_signature_from(cert, cert, NULL, why, whylen, &crypto))
		return 0;
	if (!issuer_matches(cert, cert)) {
		snprintf(why, whylen, "issuer and subject are not the same");
		return 0;
	}
	return 1;
}

/* ------------------------------------------------------------------ */
/* Key rules. */

static bool ec_curve_exact(EVP_PKEY *pk)
{
	char g[64];
	size_t gl = 0;
	if (!EVP_PKEY_get_group_name(pk, g, sizeof g, &gl)) {
		ERR_clear_error();
		return false;
	}
	return strcmp(g, "prime256v1") == 0 || strcmp(g, "P-256") == 0 ||
		strcmp(g, "secp384r1") == 0 || strcmp(g, "P-384") == 0 ||
		strcmp(g, "secp521r1") == 0 || strcmp(g, "P-521") == 0;
}

/* §1.9.1 / §8 row 5: a leaf key is exactly RSA 2048/3072/4096 or EC
 * P-256/P-384/P-521 (notation's validateKeyLength). */
static sigil_status leaf_key_ok(X509 *cert, qname *q, sigil_error *err)
{
	EVP_PKEY *pk = X509_get0_pubkey(cert);
	if (!pk) {
		ERR_clear_error();
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			"certificate with subject %s: unsupported public key type", qs(q));
	}
	int bits = EVP_PKEY_get_bits(pk);
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_RSA:
		if (bits == 2048 || bits == 3072 || bits == 4096)
			return SIGIL_STATUS_OK;
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			"certificate with subject %s: rsa key size %d bits is not supported", qs(q), bits);
	case EVP_PKEY_EC:
		if (ec_curve_exact(pk))
			return SIGIL_STATUS_OK;
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			"certificate with subject %s: ecdsa key size %d bits is not supported", qs(q), bits);
	default:
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			"certificate with subject %s: unsupported public key type", qs(q));
	}
}

/* §8 row 5: CA keys RSA >= 2048 or EC >= 256 (notation does not check). */
static sigil_status ca_key_ok(X509 *cert, qname *q, sigil_error *err)
{
	EVP_PKEY *pk = X509_get0_pubkey(cert);
	if (!pk) {
		ERR_clear_error();
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			"certificate with subject %s: unsupported public key type", qs(q));
	}
	int bits = EVP_PKEY_get_bits(pk);
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_RSA:
		if (bits >= 2048)
			return SIGIL_STATUS_OK;
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			"certificate with subject %s: CA rsa key size %d bits is too small, at least 2048 bits are required",
			qs(q), bits);
	case EVP_PKEY_EC:
		if (bits >= 256)
			return SIGIL_STATUS_OK;
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			"certificate with subject %s: CA ecdsa key size %d bits is too small, at least 256 bits are required",
			qs(q), bits);
	default:
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			"certificate with subject %s: unsupported public key type", qs(q));
	}
}

/* ------------------------------------------------------------------ */
/* Leaf and CA rules (§1.9.1). */

typedef enum chain_kind { CHAIN_CODESIGNING, CHAIN_TIMESTAMPING } chain_kind;

static sigil_status key_usage_present(const certext *ce, qname *q, bool need_critical,
	sigil_error *err)
{
	if (!ce->ku)
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			"certificate with subject %s: key usage extension must be present", qs(q));
	/* "keyUsage MUST be critical for code signing, SHOULD for TSA" */
	if (need_critical && !ce->ku_crit)
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			"certificate with subject %s: key usage extension must be marked critical", qs(q));
	return SIGIL_STATUS_OK;
}

static bool eku_has(const certext *ce, int nid)
{
	for (int i = 0; ce->eku && i < sk_ASN1_OBJECT_num(ce->eku); i++)
		if (OBJ_obj2nid(sk_ASN1_OBJECT_value(ce->eku, i)) == nid)
			return true;
	return false;
}

static sigil_status leaf_rules(X509 *cert, const certext *ce, chain_kind kind, sigil_error *err)
{
	qname q;
	quote_subject(cert, &q);

	if (ce->bc && ce->bc->ca)
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			"the certificate with subject %s is invalid. The basic constraints CA field must be false",
			qs(&q));

	SIGIL_TRY(key_usage_present(ce, &q, kind == CHAIN_CODESIGNING, err));
	if (!ku_bit(ce, KUB_DIGITAL_SIGNATURE))
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			"the certificate with subject %s is invalid. The key usage must have the bit positions for \"Digital Signature\" set",
			qs(&q));
	static const struct { int bit; const char *name; } bad_ku[] = {
		{ KUB_KEY_ENCIPHERMENT, "\"KeyEncipherment\"" },
		{ KUB_DATA_ENCIPHERMENT, "\"DataEncipherment\"" },
		{ KUB_KEY_AGREEMENT, "\"KeyAgreement\"" },
		{ KUB_KEY_CERT_SIGN, "\"CertSign\"" },
		{ KUB_CRL_SIGN, "\"CRLSign\"" },
		{ KUB_ENCIPHER_ONLY, "\"EncipherOnly\"" },
		{ KUB_DECIPHER_ONLY, "\"DecipherOnly\"" },
	};
	char found[256] = "";
	size_t fl = 0;
	for (size_t i = 0; i < sizeof bad_ku / sizeof bad_ku[0]; i++) {
		if (!ku_bit(ce, bad_ku[i].bit))
			continue;
		int n = snprintf(found + fl, sizeof found - fl, "%s%s", fl ? ", " : "", bad_ku[i].name);
		if (n > 0 && (size_t)n < sizeof found - fl)
			fl += (size_t)n;
	}
	if (fl)
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			"the certificate with subject %s is invalid. The key usage must be \"Digital Signature\" only, but found %s",
			qs(&q), found);

	if (kind == CHAIN_TIMESTAMPING) {
		/* §1.9.1 [S1.1]: TSA leaf EKU present, critical, only timeStamping
		 * (unknown EKUs count, as in notation's ValidateTimestampingCertChain). */
		if (!ce->eku || sk_ASN1_OBJECT_num(ce->eku) != 1 || !eku_has(ce, NID_time_stamp))
			return sigil__err(err, SIGIL_ERR_MALFORMED,
				"timestamp signing certificate with subject %s must have and only have Timestamping as extended key usage",
				qs(&q));
		if (!ce->eku_crit)
			return sigil__err(err, SIGIL_ERR_MALFORMED,
				"timestamp signing certificate with subject %s must have extended key usage extension marked as critical",
				qs(&q));
	} else if (ce->eku) {
		/* §1.9.1 and §8 row 3: anyExtendedKeyUsage rejected (spec) as well
		 * as OCSPSigning (notation); unknown EKUs are allowed. */
		static const struct { int nid; const char *name; } bad_eku[] = {
			{ NID_server_auth, "ServerAuth" },
			{ NID_client_auth, "ClientAuth" },
			{ NID_email_protect, "EmailProtection" },
			{ NID_time_stamp, "TimeStamping" },
			{ NID_OCSP_sign, "OCSPSigning" },
			{ NID_anyExtendedKeyUsage, "Any" },
		};
		fl = 0;
		found[0] = '\0';
		for (size_t i = 0; i < sizeof bad_eku / sizeof bad_eku[0]; i++) {
			if (!eku_has(ce, bad_eku[i].nid))
				continue;
			int n = snprintf(found + fl, sizeof found - fl, "%s%s", fl ? ", " : "", bad_eku[i].name);
			if (n > 0 && (size_t)n < sizeof found - fl)
				fl += (size_t)n;
		}
		if (fl)
			return sigil__err(err, SIGIL_ERR_MALFORMED,
				"the certificate with subject %s is invalid. The extended key usage must not contain %s",
				qs(&q), found);
	}
	return leaf_key_ok(cert, &q, err);
}

/* CA rules for chain[i], i >= 1. */
static sigil_status ca_rules(X509 *cert, const certext *ce, int i, chain_kind kind,
	sigil_error *err)
{
	qname q;
	quote_subject(cert, &q);
	/* §1.9.1 and §8 row 4: basicConstraints present, critical (spec;
	 * notation does not check criticality), cA=TRUE. */
	if (!ce->bc || !ce->bc->ca || !ce->bc_crit)
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			"certificate with subject %s: ca field in basic constraints must be present, critical, and set to true",
			qs(&q));
	if (ce->bc->pathlen) {
		int64_t pl = 0;
		if (!ASN1_INTEGER_get_int64(&pl, ce->bc->pathlen) || pl < 0 || pl > INT32_MAX) {
			ERR_clear_error();
			return sigil__err(err, SIGIL_ERR_MALFORMED,
				"certificate with subject %s: invalid path length constraint", qs(&q));
		}
		/* pathLenConstraint counts the CA certificates below this one,
		 * the leaf excluded (RFC 5280 §4.2.1.9). */
		if (pl < (int64_t)(i - 1))
			return sigil__err(err, SIGIL_ERR_MALFORMED,
				"certificate with subject %s: expected path length of %d but certificate has path length %lld instead",
				qs(&q), i - 1, (long long)pl);
	}
	SIGIL_TRY(key_usage_present(ce, &q, kind == CHAIN_CODESIGNING, err));
	if (!ku_bit(ce, KUB_KEY_CERT_SIGN))
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			"certificate with subject %s: key usage must have the bit positions for key cert sign set",
			qs(&q));
	return ca_key_ok(cert, &q, err);
}

/* ------------------------------------------------------------------ */

static sigil_status validate_chain(STACK_OF(X509) *chain, chain_kind kind, sigil_error *err)
{
	int n = chain ? sk_X509_num(chain) : 0;
	if (n < 1)
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			"certificate chain must contain at least one certificate");
	if (n > SIGIL_MAX_CHAIN_LENGTH)
		return sigil__err(err, SIGIL_ERR_LIMIT,
			"certificate chain has %d certificates, more than the limit of %d", n,
			SIGIL_MAX_CHAIN_LENGTH);

	certext ext[SIGIL_MAX_CHAIN_LENGTH];
	memset(ext, 0, sizeof ext);
	sigil_status st = SIGIL_STATUS_ERROR;
	for (int i = 0; i < n; i++) {
		if (!sk_X509_value(chain, i)) {
			sigil__err(err, SIGIL_ERR_MALFORMED, "certificate chain contains an empty entry");
			goto out;
		}
		if (certext_load(sk_X509_value(chain, i), &ext[i]) < 0) {
			qname q;
			quote_subject(sk_X509_value(chain, i), &q);
			sigil__err(err, SIGIL_ERR_MALFORMED,
				"certificate with subject %s has a duplicate or malformed basic constraints, key usage or extended key usage extension",
				qs(&q));
			goto out;
		}
	}

	char why[256];
	bool crypto = false;
	if (n == 1) {
		/* §1.9.2: a one-certificate chain is a self-signed leaf; its own
		 * signature is checked as Go's CheckSignature (SHA-1 accepted, no
		 * CA constraint), then RawSubject == RawIssuer, then leaf rules. */
		X509 *c = sk_X509_value(chain, 0);
		qname q;
		quote_subject(c, &q);
		if (!sig_alg_ok(c, true, why, sizeof why) || !sig_verifies(c, c, why, sizeof why)) {
			sigil__err(err, SIGIL_ERR_CRYPTO,
				"invalid self-signed certificate. subject: %s. Error: %s", qs(&q), why);
			goto out;
		}
		if (!issuer_matches(c, c)) {
			sigil__err(err, SIGIL_ERR_MALFORMED,
				"invalid self-signed certificate. subject: %s. Error: issuer and subject are not the same",
				qs(&q));
			goto out;
		}
		if (leaf_rules(c, &ext[0], kind, err) != SIGIL_STATUS_OK)
			goto out;
		st = SIGIL_STATUS_OK;
		goto out;
	}

	for (int i = 0; i < n; i++) {
		X509 *c = sk_X509_value(chain, i);
		qname q;
		quote_subject(c, &q);
		if (i == n - 1) {
			/* §1.9.1: the chain must end in a self-signed root. */
			if (!check_root_signature(c, &ext[i], why, sizeof why, &crypto)) {
				sigil__err(err, crypto ? SIGIL_ERR_CRYPTO : SIGIL_ERR_MALFORMED,
					"root certificate with subject %s is invalid or not self-signed. Certificate chain must end with a valid self-signed root certificate. Error: %s",
					qs(&q), why);
				goto out;
			}
			if (!issuer_matches(c, c)) {
				sigil__err(err, SIGIL_ERR_MALFORMED,
					"root certificate with subject %s is not self-signed. Certificate chain must end with a valid self-signed root certificate",
					qs(&q));
				goto out;
			}
		} else {
			/* §1.9.1: strictly ordered, no extra roots inside the chain.
			 * The names first: only a certificate that names itself as
			 * its issuer can be self-signed, and checking the signature
			 * of every intermediate against its own key would cost one
			 * wasted public-key operation per intermediate. */
			if (issuer_matches(c, c) &&
			    check_signature_from(c, c, &ext[i], why, sizeof why, &crypto)) {
				if (i == 0)
					sigil__err(err, SIGIL_ERR_MALFORMED,
						"leaf certificate with subject %s is self-signed. Certificate chain must not contain self-signed leaf certificate",
						qs(&q));
				else
					sigil__err(err, SIGIL_ERR_MALFORMED,
						"intermediate certificate with subject %s is self-signed. Certificate chain must not contain self-signed intermediate certificate",
						qs(&q));
				goto out;
			}
			X509 *parent = sk_X509_value(chain, i + 1);
			qname pq;
			quote_subject(parent, &pq);
			if (!check_signature_from(c, parent, &ext[i + 1], why, sizeof why, &crypto)) {
				sigil__err(err, crypto ? SIGIL_ERR_CRYPTO : SIGIL_ERR_MALFORMED,
					"invalid certificates or certificate with subject %s is not issued by %s. Error: %s",
					qs(&q), qs(&pq), why);
				goto out;
			}
			if (!issuer_matches(c, parent)) {
				sigil__err(err, SIGIL_ERR_MALFORMED,
					"certificate with subject %s is not issued by %s", qs(&q), qs(&pq));
				goto out;
			}
		}
		if (i == 0) {
			if (leaf_rules(c, &ext[0], kind, err) != SIGIL_STATUS_OK)
				goto out;
		} else if (ca_rules(c, &ext[i], i, kind, err) != SIGIL_STATUS_OK) {
			goto out;
		}
	}
	st = SIGIL_STATUS_OK;
out:
	for (int i = 0; i < n && i < SIGIL_MAX_CHAIN_LENGTH; i++)
		certext_clear(&ext[i]);
	return st;
}

sigil_status sigil__chain_validate_codesigning(STACK_OF(X509) *chain, sigil_error *err)
{
	return validate_chain(chain, CHAIN_CODESIGNING, err);
}

sigil_status sigil__chain_validate_timestamping(STACK_OF(X509) *chain, sigil_error *err)
{
	return validate_chain(chain, CHAIN_TIMESTAMPING, err);
}

/* ------------------------------------------------------------------ */

sigil_status sigil__cert_validity(X509 *cert, int64_t *not_before, int64_t *not_after,
	sigil_error *err)
{
	int64_t nb, na;
	if (!cert)
		return sigil__err(err, SIGIL_ERR_USAGE, "no certificate");
	if (sigil__time_from_asn1(X509_get0_notBefore(cert), &nb, err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "certificate notBefore");
	if (sigil__time_from_asn1(X509_get0_notAfter(cert), &na, err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "certificate notAfter");
	*not_before = nb;
	*not_after = na;
	return SIGIL_STATUS_OK;
}

/* Go's Certificate.OCSPServer / CRLDistributionPoints keep URI names
 * only; notation (§6.2) treats a certificate with neither as having no
 * revocation method. */
int sigil__cert_has_revocation_info(X509 *cert)
{
	int found = 0;
	if (!cert)
		return 0;
	AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(cert, NID_info_access, NULL, NULL);
	for (int i = 0; aia && i < sk_ACCESS_DESCRIPTION_num(aia) && !found; i++) {
		ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);
		if (OBJ_obj2nid(ad->method) == NID_ad_OCSP && ad->location &&
		    ad->location->type == GEN_URI)
			found = 1;
	}
	AUTHORITY_INFO_ACCESS_free(aia);
	if (!found) {
		STACK_OF(DIST_POINT) *dps = X509_get_ext_d2i(cert, NID_crl_distribution_points, NULL, NULL);
		for (int i = 0; dps && i < sk_DIST_POINT_num(dps) && !found; i++) {
			DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
			if (!dp->distpoint || dp->distpoint->type != 0)
				continue;
			GENERAL_NAMES *names = dp->distpoint->name.fullname;
			for (int j = 0; names && j < sk_GENERAL_NAME_num(names); j++)
				if (sk_GENERAL_NAME_value(names, j)->type == GEN_URI)
					found = 1;
		}
		sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	}
	ERR_clear_error();
	return found;
}
