/* test-certchain.c - certificate chain rules (notary-verification.md §1.9,
 * §8 rows 3-5) over the corpora's real chains and certificates generated at
 * run time with OpenSSL. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "check.h"
#include "b64.h"
#include "bounds.h"
#include "certchain.h"
#include "cleanup.h"

#define ADV SIGIL_TEST_DATA "/corpus/adversarial/cases/"
#define CONF SIGIL_TEST_DATA "/corpus/conformance/cases/"

/* ------------------------------------------------------------------ */
/* Reading chains out of the corpora's OCI layouts. */

static json_object *read_json(const char *path)
{
	size_t len;
	unsigned char *b = check_read_file(path, &len);
	json_object *o = json_tokener_parse((const char *)b);
	free(b);
	if (!o) {
		fprintf(stderr, "bad JSON %s\n", path);
		exit(2);
	}
	return o;
}

static X509 *der_cert(const uint8_t *d, size_t n)
{
	const unsigned char *p = d;
	X509 *c = d2i_X509(NULL, &p, (long)n);
	if (!c) {
		fprintf(stderr, "bad certificate in corpus\n");
		exit(2);
	}
	return c;
}

/* The envelope blob of the case's (first) signature manifest. */
static unsigned char *case_envelope(const char *case_dir, size_t *len, bool *cose)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/layout/index.json", case_dir);
	_cleanup_(json_object_putp) json_object *idx = read_json(path);
	json_object *mans = json_object_object_get(idx, "manifests");
	for (size_t i = 0; i < json_object_array_length(mans); i++) {
		json_object *m = json_object_array_get_idx(mans, i);
		json_object *at = json_object_object_get(m, "artifactType");
		if (!at || strcmp(json_object_get_string(at), "application/vnd.cncf.notary.signature"))
			continue;
		snprintf(path, sizeof path, "%s/layout/blobs/sha256/%s", case_dir,
			json_object_get_string(json_object_object_get(m, "digest")) + 7);
		_cleanup_(json_object_putp) json_object *man = read_json(path);
		json_object *layer = json_object_array_get_idx(json_object_object_get(man, "layers"), 0);
		*cose = strcmp(json_object_get_string(json_object_object_get(layer, "mediaType")),
			"application/cose") == 0;
		snprintf(path, sizeof path, "%s/layout/blobs/sha256/%s", case_dir,
			json_object_get_string(json_object_object_get(layer, "digest")) + 7);
		return check_read_file(path, len);
	}
	fprintf(stderr, "no signature in %s\n", case_dir);
	exit(2);
}

static void push_or_die(STACK_OF(X509) *sk, X509 *c)
{
	if (!sk_X509_push(sk, c))
		exit(2);
}

/* JWS: header.x5c, standard base64 DER (notary-verification.md §1.6). */
static STACK_OF(X509) *jws_chain(const unsigned char *env, size_t len)
{
	(void)len;
	_cleanup_(json_object_putp) json_object *o = json_tokener_parse((const char *)env);
	json_object *x5c = json_object_object_get(json_object_object_get(o, "header"), "x5c");
	STACK_OF(X509) *sk = sk_X509_new_null();
	for (size_t i = 0; i < json_object_array_length(x5c); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(x5c, i));
		uint8_t *der = NULL;
		size_t dl = 0;
		sigil_error e = SIGIL_ERROR_INIT;
		if (sigil__b64std_decode(s, strlen(s), &der, &dl, &e) != SIGIL_STATUS_OK)
			exit(2);
		push_or_die(sk, der_cert(der, dl));
		free(der);
	}
	return sk;
}

/* COSE_Sign1: the unprotected header's label 33 (x5chain), an array of
 * bstr (notary-verification.md §1.7). A test-only scan: the key 33 (0x18
 * 0x21) followed by a short array of bstr that each parse as a
 * certificate, so this helper needs no CBOR library. */
static STACK_OF(X509) *cose_chain(const unsigned char *env, size_t len)
{
	for (size_t i = 0; i + 3 < len; i++) {
		if (env[i] != 0x18 || env[i + 1] != 0x21 || (env[i + 2] & 0xe0) != 0x80)
			continue;
		size_t n = env[i + 2] & 0x1f, off = i + 3;
		if (n == 0 || n > 23)
			continue;
		STACK_OF(X509) *sk = sk_X509_new_null();
		for (size_t j = 0; j < n && off + 3 <= len; j++) {
			size_t bl;
			if (env[off] == 0x59) {
				bl = ((size_t)env[off + 1] << 8) | env[off + 2];
				off += 3;
			} else if (env[off] == 0x5a && off + 5 <= len) {
				bl = ((size_t)env[off + 1] << 24) | ((size_t)env[off + 2] << 16) |
					((size_t)env[off + 3] << 8) | env[off + 4];
				off += 5;
			} else {
				break;
			}
			if (bl > len - off)
				break;
			const unsigned char *p = env + off;
			X509 *c = d2i_X509(NULL, &p, (long)bl);
			if (!c || p != env + off + bl) {
				X509_free(c);
				break;
			}
			push_or_die(sk, c);
			off += bl;
		}
		if ((size_t)sk_X509_num(sk) == n)
			return sk;
		sk_X509_pop_free(sk, X509_free);
	}
	fprintf(stderr, "no x5chain found in COSE envelope\n");
	exit(2);
}

static STACK_OF(X509) *case_chain(const char *case_dir)
{
	size_t len;
	bool cose;
	unsigned char *env = case_envelope(case_dir, &len, &cose);
	STACK_OF(X509) *sk = cose ? cose_chain(env, len) : jws_chain(env, len);
	free(env);
	if (sk_X509_num(sk) < 1) {
		fprintf(stderr, "empty chain in %s\n", case_dir);
		exit(2);
	}
	return sk;
}

/* The TSA certificates of a JWS envelope's timestamp token, ordered leaf
 * (the timeStamping certificate) to root. */
static STACK_OF(X509) *case_tsa_chain(const char *case_dir)
{
	size_t len;
	bool cose;
	unsigned char *env = case_envelope(case_dir, &len, &cose);
	json_object *o = json_tokener_parse((const char *)env);
	free(env);
	const char *ts = json_object_get_string(json_object_object_get(
		json_object_object_get(o, "header"), "io.cncf.notary.timestampSignature"));
	uint8_t *der = NULL;
	size_t dl = 0;
	sigil_error e = SIGIL_ERROR_INIT;
	if (!ts || sigil__b64std_decode(ts, strlen(ts), &der, &dl, &e) != SIGIL_STATUS_OK)
		exit(2);
	json_object_put(o);
	const unsigned char *p = der;
	PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)dl);
	free(der);
	if (!p7 || !PKCS7_type_is_signed(p7))
		exit(2);
	STACK_OF(X509) *certs = p7->d.sign->cert;
	STACK_OF(X509) *out = sk_X509_new_null();
	X509 *cur = NULL;
	for (int i = 0; i < sk_X509_num(certs); i++)
		if ((X509_get_extension_flags(sk_X509_value(certs, i)) & EXFLAG_XKUSAGE) &&
		    (X509_get_extended_key_usage(sk_X509_value(certs, i)) & XKU_TIMESTAMP))
			cur = sk_X509_value(certs, i);
	while (cur) {
		X509_up_ref(cur);
		push_or_die(out, cur);
		if (X509_check_issued(cur, cur) == X509_V_OK)
			break;
		X509 *next = NULL;
		for (int i = 0; i < sk_X509_num(certs); i++)
			if (X509_check_issued(sk_X509_value(certs, i), cur) == X509_V_OK)
				next = sk_X509_value(certs, i);
		cur = next;
	}
	PKCS7_free(p7);
	return out;
}

/* ------------------------------------------------------------------ */
/* Certificates generated at run time. */

static EVP_PKEY *ec_key(const char *curve)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
	if (!k)
		exit(2);
	return k;
}

static EVP_PKEY *rsa_key(size_t bits)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", bits);
	if (!k)
		exit(2);
	return k;
}

typedef struct spec {
	const char *cn;
	EVP_PKEY *key;
	X509 *issuer;         /* NULL: self-issued */
	EVP_PKEY *issuer_key; /* NULL: self-signed with key */
	const char *bc, *ku, *eku; /* X509V3 config strings, NULL to omit */
	const char *crldp, *aia;
	bool unknown_critical;
	const char *issuer_cn; /* override the issuer name */
	const EVP_MD *md;
	int version;          /* 0 = v3 */
} spec;

static X509_NAME *mkname(const char *cn)
{
	X509_NAME *n = X509_NAME_new();
	X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC, (const unsigned char *)"US", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "ST", MBSTRING_ASC, (const unsigned char *)"WA", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"Test", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	return n;
}

static void add_ext(X509 *c, X509V3_CTX *ctx, int nid, const char *val)
{
	if (!val)
		return;
	X509_EXTENSION *ex = X509V3_EXT_nconf_nid(NULL, ctx, nid, val);
	if (!ex || !X509_add_ext(c, ex, -1)) {
		fprintf(stderr, "extension %d %s\n", nid, val);
		exit(2);
	}
	X509_EXTENSION_free(ex);
}

static X509 *mk(const spec *s)
{
	X509 *c = X509_new();
	X509_set_version(c, s->version ? s->version - 1 : 2);
	ASN1_INTEGER_set(X509_get_serialNumber(c), 1000 + (long)strlen(s->cn));
	ASN1_TIME_set(X509_getm_notBefore(c), 1700000000);
	ASN1_TIME_set(X509_getm_notAfter(c), 2000000000);
	X509_NAME *subj = mkname(s->cn);
	X509_set_subject_name(c, subj);
	if (s->issuer_cn) {
		X509_NAME *in = mkname(s->issuer_cn);
		X509_set_issuer_name(c, in);
		X509_NAME_free(in);
	} else {
		X509_set_issuer_name(c, s->issuer ? X509_get_subject_name(s->issuer) : subj);
	}
	X509_NAME_free(subj);
	X509_set_pubkey(c, s->key);
	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, s->issuer ? s->issuer : c, c, NULL, NULL, 0);
	add_ext(c, &ctx, NID_basic_constraints, s->bc);
	add_ext(c, &ctx, NID_key_usage, s->ku);
	add_ext(c, &ctx, NID_ext_key_usage, s->eku);
	add_ext(c, &ctx, NID_crl_distribution_points, s->crldp);
	add_ext(c, &ctx, NID_info_access, s->aia);
	if (s->unknown_critical) {
		ASN1_OBJECT *obj = OBJ_txt2obj("1.3.6.1.4.1.99999.1", 1);
		ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
		ASN1_OCTET_STRING_set(os, (const unsigned char *)"\x05\x00", 2);
		X509_EXTENSION *ex = X509_EXTENSION_create_by_OBJ(NULL, obj, 1, os);
		X509_add_ext(c, ex, -1);
		X509_EXTENSION_free(ex);
		ASN1_OCTET_STRING_free(os);
		ASN1_OBJECT_free(obj);
	}
	if (!X509_sign(c, s->issuer_key ? s->issuer_key : s->key, s->md ? s->md : EVP_sha256())) {
		fprintf(stderr, "sign failed for %s\n", s->cn);
		exit(2);
	}
	return c;
}

#define ROOT_BC "critical,CA:TRUE"
#define CA_KU "critical,keyCertSign,cRLSign"
#define LEAF_KU "critical,digitalSignature"
#define CS_EKU "codeSigning"

/* A fixture: root -> intermediate -> leaf, all EC P-256, spec-conformant. */
typedef struct fx {
	EVP_PKEY *rk, *ik, *lk;
	X509 *root, *inter, *leaf;
} fx;

static fx F;

static void fx_init(void)
{
	F.rk = ec_key("P-256");
	F.ik = ec_key("P-256");
	F.lk = ec_key("P-256");
	F.root = mk(&(spec){ .cn = "Root", .key = F.rk, .bc = ROOT_BC, .ku = CA_KU });
	F.inter = mk(&(spec){ .cn = "Inter", .key = F.ik, .issuer = F.root, .issuer_key = F.rk,
		.bc = "critical,CA:TRUE,pathlen:0", .ku = CA_KU });
	F.leaf = mk(&(spec){ .cn = "Leaf", .key = F.lk, .issuer = F.inter, .issuer_key = F.ik,
		.ku = LEAF_KU, .eku = CS_EKU });
}

static void fx_free(void)
{
	X509_free(F.root);
	X509_free(F.inter);
	X509_free(F.leaf);
	EVP_PKEY_free(F.rk);
	EVP_PKEY_free(F.ik);
	EVP_PKEY_free(F.lk);
}

/* A chain of borrowed certificates (up-ref'd). */
static STACK_OF(X509) *chain_of(X509 *a, X509 *b, X509 *c, X509 *d)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	X509 *v[] = { a, b, c, d };
	for (size_t i = 0; i < 4 && v[i]; i++) {
		X509_up_ref(v[i]);
		push_or_die(sk, v[i]);
	}
	return sk;
}

/* Validate; expect failure with category and message substring, or
 * success when msg is NULL. */
static void expect(STACK_OF(X509) *chain, bool tsa, sigil_category cat, const char *msg)
{
	sigil_error e = SIGIL_ERROR_INIT;
	sigil_status st = tsa ? sigil__chain_validate_timestamping(chain, &e)
			      : sigil__chain_validate_codesigning(chain, &e);
	if (!msg) {
		CHECK_INTEQ(st, SIGIL_STATUS_OK);
		if (st != SIGIL_STATUS_OK)
			fprintf(stderr, "    unexpected error: %s\n", e.message);
		CHECK_INTEQ(e.category, SIGIL_ERR_NONE);
	} else {
		CHECK_INTEQ(st, SIGIL_STATUS_ERROR);
		CHECK_INTEQ(e.category, cat);
		CHECK_CONTAINS(e.message, msg);
	}
}

static void expect_free(STACK_OF(X509) *chain, bool tsa, sigil_category cat, const char *msg)
{
	expect(chain, tsa, cat, msg);
	sk_X509_pop_free(chain, X509_free);
}

/* A leaf under F.inter with the given extensions and key. */
static X509 *leaf_with(EVP_PKEY *key, const char *bc, const char *ku, const char *eku)
{
	return mk(&(spec){ .cn = "Leaf", .key = key ? key : F.lk, .issuer = F.inter,
		.issuer_key = F.ik, .bc = bc, .ku = ku, .eku = eku });
}

static void expect_leaf(X509 *leaf, sigil_category cat, const char *msg)
{
	expect_free(chain_of(leaf, F.inter, F.root, NULL), false, cat, msg);
	X509_free(leaf);
}

/* ------------------------------------------------------------------ */
/* Corpus chains. */

static void test_corpus_valid_chains(void)
{
	static const char *ok[] = {
		ADV "001-jws-baseline-rsa2048", ADV "002-cose-baseline-rsa2048",
		ADV "003-jws-baseline-ec-p256", ADV "004-cose-baseline-ec-p256",
		CONF "003-jws-rsa3072-valid", CONF "005-jws-rsa4096-valid",
		CONF "009-jws-ec-p384-valid", CONF "012-cose-ec-p521-valid",
		CONF "049-leaf-no-eku", CONF "073-crl-good",
		/* a one-certificate chain: self-signed leaf (§1.9.2) */
		CONF "013-jws-selfsigned-testcert", CONF "014-cose-selfsigned-testcert",
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		STACK_OF(X509) *c = case_chain(ok[i]);
		sigil_error e = SIGIL_ERROR_INIT;
		sigil_status st = sigil__chain_validate_codesigning(c, &e);
		if (st != SIGIL_STATUS_OK)
			fprintf(stderr, "    %s: %s\n", ok[i], e.message);
		CHECK_INTEQ(st, SIGIL_STATUS_OK);
		sk_X509_pop_free(c, X509_free);
	}
}

static void expect_case(const char *dir, sigil_category cat, const char *msg)
{
	expect_free(case_chain(dir), false, cat, msg);
}

static void test_corpus_leaf_key_sizes(void)
{
	/* §1.9.1 / §8 row 5: leaf keys exactly RSA 2048/3072/4096, EC P-256/384/521 */
	expect_case(ADV "023-jws-leaf-rsa1024", SIGIL_ERR_MALFORMED, "rsa key size 1024 bits is not supported");
	expect_case(ADV "024-cose-leaf-rsa8192", SIGIL_ERR_MALFORMED, "rsa key size 8192 bits is not supported");
	expect_case(ADV "025-jws-leaf-ec-p224", SIGIL_ERR_MALFORMED, "ecdsa key size 224 bits is not supported");
}

static void test_corpus_leaf_eku(void)
{
	/* §8 row 3: anyExtendedKeyUsage rejected (spec), unlike notation */
	expect_case(ADV "026-jws-leaf-eku-anyextendedkeyusage", SIGIL_ERR_MALFORMED,
		"The extended key usage must not contain Any");
	expect_case(ADV "027-cose-leaf-eku-codesigning-serverauth", SIGIL_ERR_MALFORMED,
		"The extended key usage must not contain ServerAuth");
	expect_case(CONF "047-leaf-serverauth-eku", SIGIL_ERR_MALFORMED,
		"The extended key usage must not contain ServerAuth");
	expect_case(CONF "048-jws-leaf-serverauth-eku", SIGIL_ERR_MALFORMED,
		"The extended key usage must not contain ServerAuth");
}

static void test_corpus_structure(void)
{
	expect_case(ADV "028-jws-leaf-basicconstraints-ca-true", SIGIL_ERR_MALFORMED,
		"The basic constraints CA field must be false");
	/* the leaf's parent cannot sign: CheckSignatureFrom fails first */
	expect_case(ADV "029-cose-intermediate-without-keycertsign", SIGIL_ERR_MALFORMED,
		"parent certificate cannot sign this kind of certificate");
	/* §8 row 4: basicConstraints of a CA must be critical */
	expect_case(ADV "030-jws-intermediate-basicconstraints-noncritical", SIGIL_ERR_MALFORMED,
		"ca field in basic constraints must be present, critical, and set to true");
	expect_case(ADV "031-cose-root-pathlen0-with-intermediate", SIGIL_ERR_MALFORMED,
		"expected path length of 1 but certificate has path length 0 instead");
	expect_case(ADV "032-jws-chain-out-of-order", SIGIL_ERR_CRYPTO, "is not issued by");
	expect_case(ADV "033-cose-chain-without-root", SIGIL_ERR_CRYPTO,
		"is invalid or not self-signed. Certificate chain must end with a valid self-signed root certificate");
	expect_case(ADV "034-jws-chain-duplicate-intermediate", SIGIL_ERR_CRYPTO, "is not issued by");
}

static void test_corpus_subjects(void)
{
	STACK_OF(X509) *c = case_chain(ADV "030-jws-intermediate-basicconstraints-noncritical");
	char *s0 = sigil__cert_subject(sk_X509_value(c, 0));
	char *s1 = sigil__cert_subject(sk_X509_value(c, 1));
	/* as notation prints them in expected.json's verbose output */
	CHECK_STREQ(s0, "CN=Acme Signer 7h9y4d,OU=Build,O=Acme Widgets Ltd,ST=WA,C=US");
	CHECK_STREQ(s1, "CN=Acme Issuing CA dfbyrv,OU=PKI,O=Acme Widgets Ltd,ST=WA,C=US");
	free(s0);
	free(s1);
	sk_X509_pop_free(c, X509_free);

	c = case_chain(CONF "019-trust-leaf-only");
	s0 = sigil__cert_subject(sk_X509_value(c, 0));
	CHECK_STREQ(s0, "CN=Acme EC-P256 Signer fpy58u,OU=Build,O=Acme Widgets Ltd,L=Seattle,ST=WA,C=US");
	free(s0);
	sk_X509_pop_free(c, X509_free);
}

static void test_corpus_tsa_chain(void)
{
	STACK_OF(X509) *c = case_tsa_chain(CONF "063-ts-jws-valid");
	CHECK(sk_X509_num(c) >= 2);
	expect(c, true, SIGIL_ERR_NONE, NULL);
	/* the timeStamping EKU is forbidden in a code-signing leaf */
	expect(c, false, SIGIL_ERR_MALFORMED, "The extended key usage must not contain TimeStamping");
	sk_X509_pop_free(c, X509_free);

	/* a code-signing chain is not a TSA chain */
	expect_free(case_chain(CONF "063-ts-jws-valid"), true, SIGIL_ERR_MALFORMED,
		"must have and only have Timestamping as extended key usage");
}

/* ------------------------------------------------------------------ */
/* Generated chains: each rule, positive and negative. */

static void test_gen_baseline(void)
{
	expect_free(chain_of(F.leaf, F.inter, F.root, NULL), false, 0, NULL);
	/* root -> leaf without intermediate */
	X509 *l = mk(&(spec){ .cn = "Leaf2", .key = F.lk, .issuer = F.root, .issuer_key = F.rk,
		.ku = LEAF_KU });
	expect_free(chain_of(l, F.root, NULL, NULL), false, 0, NULL);
	X509_free(l);
}

static void test_gen_chain_length(void)
{
	STACK_OF(X509) *empty = sk_X509_new_null();
	expect_free(empty, false, SIGIL_ERR_MALFORMED, "at least one certificate");
	expect(NULL, false, SIGIL_ERR_MALFORMED, "at least one certificate");
	STACK_OF(X509) *many = sk_X509_new_null();
	for (int i = 0; i < SIGIL_MAX_CHAIN_LENGTH + 1; i++) {
		X509_up_ref(F.inter);
		push_or_die(many, F.inter);
	}
	expect_free(many, false, SIGIL_ERR_LIMIT, "more than the limit");
}

static void test_gen_ordering(void)
{
	/* root not last */
	expect_free(chain_of(F.leaf, F.root, F.inter, NULL), false, SIGIL_ERR_CRYPTO,
		"certificate with subject \"CN=Leaf,O=Test,ST=WA,C=US\" is not issued by \"CN=Root,O=Test,ST=WA,C=US\"");
	/* chain without root: last is not self-signed */
	expect_free(chain_of(F.leaf, F.inter, NULL, NULL), false, SIGIL_ERR_CRYPTO,
		"root certificate with subject \"CN=Inter,O=Test,ST=WA,C=US\" is invalid or not self-signed");
	/* a self-signed certificate in leaf position */
	expect_free(chain_of(F.root, F.root, NULL, NULL), false, SIGIL_ERR_MALFORMED,
		"leaf certificate with subject \"CN=Root,O=Test,ST=WA,C=US\" is self-signed. Certificate chain must not contain self-signed leaf certificate");
	/* an extra root inside the chain */
	expect_free(chain_of(F.leaf, F.inter, F.root, F.root), false, SIGIL_ERR_MALFORMED,
		"intermediate certificate with subject \"CN=Root,O=Test,ST=WA,C=US\" is self-signed");
	/* the signature verifies but the issuer name is not the parent's subject */
	X509 *l = mk(&(spec){ .cn = "Leaf", .key = F.lk, .issuer = F.inter, .issuer_key = F.ik,
		.ku = LEAF_KU, .issuer_cn = "Someone Else" });
	expect_free(chain_of(l, F.inter, F.root, NULL), false, SIGIL_ERR_MALFORMED,
		"certificate with subject \"CN=Leaf,O=Test,ST=WA,C=US\" is not issued by \"CN=Inter,O=Test,ST=WA,C=US\"");
	X509_free(l);
	/* the name matches but another key signed it */
	EVP_PKEY *other = ec_key("P-256");
	l = mk(&(spec){ .cn = "Leaf", .key = F.lk, .issuer = F.inter, .issuer_key = other,
		.ku = LEAF_KU });
	expect_free(chain_of(l, F.inter, F.root, NULL), false, SIGIL_ERR_CRYPTO,
		"signature verification failure");
	X509_free(l);
	/* root whose issuer name differs from its subject, self-signed key */
	X509 *r = mk(&(spec){ .cn = "Root", .key = F.rk, .bc = ROOT_BC, .ku = CA_KU,
		.issuer_cn = "Not Root" });
	X509 *l2 = mk(&(spec){ .cn = "Leaf", .key = F.lk, .issuer = r, .issuer_key = F.rk, .ku = LEAF_KU });
	expect_free(chain_of(l2, r, NULL, NULL), false, SIGIL_ERR_MALFORMED,
		"root certificate with subject \"CN=Root,O=Test,ST=WA,C=US\" is not self-signed");
	X509_free(l2);
	X509_free(r);
	EVP_PKEY_free(other);
}

static void test_gen_signature_algorithms(void)
{
	/* §1.9.1: no SHA-1 signatures in a chain */
	X509 *l = mk(&(spec){ .cn = "Leaf", .key = F.lk, .issuer = F.inter, .issuer_key = F.ik,
		.ku = LEAF_KU, .md = EVP_sha1() });
	expect_free(chain_of(l, F.inter, F.root, NULL), false, SIGIL_ERR_CRYPTO, "insecure algorithm");
	X509_free(l);
	X509 *r = mk(&(spec){ .cn = "Root", .key = F.rk, .bc = ROOT_BC, .ku = CA_KU, .md = EVP_sha1() });
	l = mk(&(spec){ .cn = "Leaf", .key = F.lk, .issuer = r, .issuer_key = F.rk, .ku = LEAF_KU });
	expect_free(chain_of(l, r, NULL, NULL), false, SIGIL_ERR_CRYPTO,
		"root certificate with subject \"CN=Root,O=Test,ST=WA,C=US\" is invalid or not self-signed");
	X509_free(l);
	X509_free(r);
	/* a single self-signed leaf may use SHA-1 (Go's CheckSignature, §1.9.2) */
	X509 *s = mk(&(spec){ .cn = "Self", .key = F.lk, .ku = LEAF_KU, .md = EVP_sha1() });
	expect_free(chain_of(s, NULL, NULL, NULL), false, 0, NULL);
	X509_free(s);
	/* SHA-384 / SHA-512 are fine */
	l = mk(&(spec){ .cn = "Leaf", .key = F.lk, .issuer = F.inter, .issuer_key = F.ik,
		.ku = LEAF_KU, .md = EVP_sha512() });
	expect_free(chain_of(l, F.inter, F.root, NULL), false, 0, NULL);
	X509_free(l);
}

static void test_gen_single_cert(void)
{
	/* a one-certificate chain must satisfy the leaf rules */
	X509 *s = mk(&(spec){ .cn = "Self", .key = F.lk, .ku = LEAF_KU, .eku = CS_EKU });
	expect_free(chain_of(s, NULL, NULL, NULL), false, 0, NULL);
	X509_free(s);
	s = mk(&(spec){ .cn = "Self", .key = F.lk, .ku = "digitalSignature" });
	expect_free(chain_of(s, NULL, NULL, NULL), false, SIGIL_ERR_MALFORMED,
		"key usage extension must be marked critical");
	X509_free(s);
	/* a root CA alone is not a leaf */
	expect_free(chain_of(F.root, NULL, NULL, NULL), false, SIGIL_ERR_MALFORMED,
		"The basic constraints CA field must be false");
	/* not self-signed */
	expect_free(chain_of(F.leaf, NULL, NULL, NULL), false, SIGIL_ERR_CRYPTO,
		"invalid self-signed certificate. subject: \"CN=Leaf,O=Test,ST=WA,C=US\"");
	s = mk(&(spec){ .cn = "Self", .key = F.lk, .ku = LEAF_KU, .issuer_cn = "Other" });
	expect_free(chain_of(s, NULL, NULL, NULL), false, SIGIL_ERR_MALFORMED,
		"issuer and subject are not the same");
	X509_free(s);
}

static void test_gen_leaf_basic_constraints(void)
{
	expect_leaf(leaf_with(NULL, "critical,CA:FALSE", LEAF_KU, NULL), 0, NULL);
	expect_leaf(leaf_with(NULL, "CA:FALSE", LEAF_KU, NULL), 0, NULL);
	expect_leaf(leaf_with(NULL, "critical,CA:TRUE", LEAF_KU, NULL), SIGIL_ERR_MALFORMED,
		"the certificate with subject \"CN=Leaf,O=Test,ST=WA,C=US\" is invalid. The basic constraints CA field must be false");
}

static void test_gen_leaf_key_usage(void)
{
	expect_leaf(leaf_with(NULL, NULL, NULL, NULL), SIGIL_ERR_MALFORMED,
		"certificate with subject \"CN=Leaf,O=Test,ST=WA,C=US\": key usage extension must be present");
	expect_leaf(leaf_with(NULL, NULL, "digitalSignature", NULL), SIGIL_ERR_MALFORMED,
		"key usage extension must be marked critical");
	expect_leaf(leaf_with(NULL, NULL, "critical,nonRepudiation", NULL), SIGIL_ERR_MALFORMED,
		"The key usage must have the bit positions for \"Digital Signature\" set");
	/* nonRepudiation (contentCommitment) is allowed */
	expect_leaf(leaf_with(NULL, NULL, "critical,digitalSignature,nonRepudiation", NULL), 0, NULL);
	static const struct { const char *ku, *name; } bad[] = {
		{ "critical,digitalSignature,keyEncipherment", "\"KeyEncipherment\"" },
		{ "critical,digitalSignature,dataEncipherment", "\"DataEncipherment\"" },
		{ "critical,digitalSignature,keyAgreement", "\"KeyAgreement\"" },
		{ "critical,digitalSignature,keyCertSign", "\"CertSign\"" },
		{ "critical,digitalSignature,cRLSign", "\"CRLSign\"" },
		{ "critical,digitalSignature,keyAgreement,encipherOnly", "\"KeyAgreement\", \"EncipherOnly\"" },
		{ "critical,digitalSignature,decipherOnly", "\"DecipherOnly\"" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char msg[256];
		snprintf(msg, sizeof msg, "The key usage must be \"Digital Signature\" only, but found %s",
			bad[i].name);
		expect_leaf(leaf_with(NULL, NULL, bad[i].ku, NULL), SIGIL_ERR_MALFORMED, msg);
	}
}

static void test_gen_leaf_eku(void)
{
	static const struct { const char *eku, *name; } bad[] = {
		{ "codeSigning,serverAuth", "ServerAuth" },
		{ "clientAuth", "ClientAuth" },
		{ "emailProtection", "EmailProtection" },
		{ "critical,codeSigning,timeStamping", "TimeStamping" },
		{ "OCSPSigning", "OCSPSigning" },
		{ "anyExtendedKeyUsage", "Any" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char msg[256];
		snprintf(msg, sizeof msg, "The extended key usage must not contain %s", bad[i].name);
		expect_leaf(leaf_with(NULL, NULL, LEAF_KU, bad[i].eku), SIGIL_ERR_MALFORMED, msg);
	}
	/* unknown EKUs allowed, critical EKU allowed */
	expect_leaf(leaf_with(NULL, NULL, LEAF_KU, "critical,codeSigning,1.3.6.1.4.1.99999.7"), 0, NULL);
	expect_leaf(leaf_with(NULL, NULL, LEAF_KU, "1.3.6.1.4.1.99999.7"), 0, NULL);
}

static void test_gen_leaf_keys(void)
{
	EVP_PKEY *k = ec_key("P-384");
	expect_leaf(leaf_with(k, NULL, LEAF_KU, NULL), 0, NULL);
	EVP_PKEY_free(k);
	k = ec_key("P-521");
	expect_leaf(leaf_with(k, NULL, LEAF_KU, NULL), 0, NULL);
	EVP_PKEY_free(k);
	k = ec_key("secp256k1");
	expect_leaf(leaf_with(k, NULL, LEAF_KU, NULL), SIGIL_ERR_MALFORMED,
		"ecdsa key size 256 bits is not supported");
	EVP_PKEY_free(k);
	k = rsa_key(2048);
	expect_leaf(leaf_with(k, NULL, LEAF_KU, NULL), 0, NULL);
	EVP_PKEY_free(k);
	k = rsa_key(2560);
	expect_leaf(leaf_with(k, NULL, LEAF_KU, NULL), SIGIL_ERR_MALFORMED,
		"rsa key size 2560 bits is not supported");
	EVP_PKEY_free(k);
	k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	expect_leaf(leaf_with(k, NULL, LEAF_KU, NULL), SIGIL_ERR_MALFORMED, "unsupported public key type");
	EVP_PKEY_free(k);
}

static void test_gen_ca_rules(void)
{
	struct { const char *bc, *ku; sigil_category cat; const char *msg; } t[] = {
		/* §8 row 4: non-critical basicConstraints rejected */
		{ "CA:TRUE", CA_KU, SIGIL_ERR_MALFORMED, "ca field in basic constraints must be present, critical" },
		{ NULL, CA_KU, SIGIL_ERR_MALFORMED, "parent certificate cannot sign" },
		{ "critical,CA:FALSE", CA_KU, SIGIL_ERR_MALFORMED, "parent certificate cannot sign" },
		{ ROOT_BC, NULL, SIGIL_ERR_MALFORMED, "key usage extension must be present" },
		{ ROOT_BC, "keyCertSign", SIGIL_ERR_MALFORMED, "key usage extension must be marked critical" },
		{ ROOT_BC, "critical,cRLSign", SIGIL_ERR_MALFORMED, "parent certificate cannot sign" },
		{ "critical,CA:TRUE,pathlen:0", CA_KU, 0, NULL },
		{ "critical,CA:TRUE,pathlen:5", CA_KU, 0, NULL },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		X509 *in = mk(&(spec){ .cn = "Inter", .key = F.ik, .issuer = F.root, .issuer_key = F.rk,
			.bc = t[i].bc, .ku = t[i].ku });
		X509 *l = leaf_with(NULL, NULL, LEAF_KU, NULL);
		expect_free(chain_of(l, in, F.root, NULL), false, t[i].cat, t[i].msg);
		X509_free(l);
		X509_free(in);
	}
	/* root keyUsage without keyCertSign: the root's self-check fails */
	X509 *r = mk(&(spec){ .cn = "Root", .key = F.rk, .bc = ROOT_BC, .ku = "critical,cRLSign" });
	X509 *in = mk(&(spec){ .cn = "Inter", .key = F.ik, .issuer = r, .issuer_key = F.rk,
		.bc = ROOT_BC, .ku = CA_KU });
	expect_free(chain_of(in, r, NULL, NULL), false, SIGIL_ERR_MALFORMED,
		"parent certificate cannot sign this kind of certificate");
	X509_free(in);
	X509_free(r);
}

static void test_gen_path_length(void)
{
	/* root pathlen counts the intermediates below it, excluding the leaf */
	EVP_PKEY *k2 = ec_key("P-256");
	const char *rootbc[] = { "critical,CA:TRUE,pathlen:2", "critical,CA:TRUE,pathlen:1" };
	for (int i = 0; i < 2; i++) {
		X509 *r = mk(&(spec){ .cn = "Root", .key = F.rk, .bc = rootbc[i], .ku = CA_KU });
		X509 *i1 = mk(&(spec){ .cn = "Inter1", .key = F.ik, .issuer = r, .issuer_key = F.rk,
			.bc = ROOT_BC, .ku = CA_KU });
		X509 *i2 = mk(&(spec){ .cn = "Inter2", .key = k2, .issuer = i1, .issuer_key = F.ik,
			.bc = "critical,CA:TRUE,pathlen:0", .ku = CA_KU });
		X509 *l = mk(&(spec){ .cn = "Leaf", .key = F.lk, .issuer = i2, .issuer_key = k2,
			.ku = LEAF_KU });
		if (i == 0)
			expect_free(chain_of(l, i2, i1, r), false, 0, NULL);
		else
			expect_free(chain_of(l, i2, i1, r), false, SIGIL_ERR_MALFORMED,
				"certificate with subject \"CN=Root,O=Test,ST=WA,C=US\": expected path length of 2 but certificate has path length 1 instead");
		X509_free(l);
		X509_free(i2);
		X509_free(i1);
		X509_free(r);
	}
	EVP_PKEY_free(k2);
}

static void test_gen_ca_keys(void)
{
	/* §8 row 5: CA keys RSA >= 2048, EC >= 256 */
	EVP_PKEY *small = rsa_key(1024);
	X509 *in = mk(&(spec){ .cn = "Inter", .key = small, .issuer = F.root, .issuer_key = F.rk,
		.bc = ROOT_BC, .ku = CA_KU });
	X509 *l = mk(&(spec){ .cn = "Leaf", .key = F.lk, .issuer = in, .issuer_key = small,
		.ku = LEAF_KU });
	expect_free(chain_of(l, in, F.root, NULL), false, SIGIL_ERR_MALFORMED,
		"certificate with subject \"CN=Inter,O=Test,ST=WA,C=US\": CA rsa key size 1024 bits is too small");
	X509_free(l);
	X509_free(in);
	EVP_PKEY_free(small);

	EVP_PKEY *p224 = ec_key("P-224");
	X509 *r = mk(&(spec){ .cn = "Root", .key = p224, .bc = ROOT_BC, .ku = CA_KU });
	l = mk(&(spec){ .cn = "Leaf", .key = F.lk, .issuer = r, .issuer_key = p224, .ku = LEAF_KU });
	expect_free(chain_of(l, r, NULL, NULL), false, SIGIL_ERR_MALFORMED,
		"CA ecdsa key size 224 bits is too small");
	X509_free(l);
	X509_free(r);
	EVP_PKEY_free(p224);
}

static void test_gen_unknown_critical_ignored(void)
{
	/* §1.9.1: other extensions, even critical, are ignored (fail open) */
	X509 *l = mk(&(spec){ .cn = "Leaf", .key = F.lk, .issuer = F.inter, .issuer_key = F.ik,
		.ku = LEAF_KU, .unknown_critical = true });
	expect_free(chain_of(l, F.inter, F.root, NULL), false, 0, NULL);
	X509_free(l);
}

static void test_gen_duplicate_extension(void)
{
	X509 *l = leaf_with(NULL, NULL, LEAF_KU, NULL);
	X509_EXTENSION *ex = X509_get_ext(l, X509_get_ext_by_NID(l, NID_key_usage, -1));
	X509_add_ext(l, ex, -1);
	X509_sign(l, F.ik, EVP_sha256());
	expect_leaf(l, SIGIL_ERR_MALFORMED, "duplicate or malformed");
}

static void test_gen_timestamping(void)
{
	/* TSA leaf: keyUsage need not be critical; EKU critical, only timeStamping */
	struct { const char *ku, *eku; sigil_category cat; const char *msg; } t[] = {
		{ "digitalSignature", "critical,timeStamping", 0, NULL },
		{ LEAF_KU, "critical,timeStamping", 0, NULL },
		{ "digitalSignature", "timeStamping", SIGIL_ERR_MALFORMED,
		  "must have extended key usage extension marked as critical" },
		{ "digitalSignature", NULL, SIGIL_ERR_MALFORMED,
		  "must have and only have Timestamping as extended key usage" },
		{ "digitalSignature", "critical,timeStamping,codeSigning", SIGIL_ERR_MALFORMED,
		  "must have and only have Timestamping" },
		{ "digitalSignature", "critical,timeStamping,1.3.6.1.4.1.99999.7", SIGIL_ERR_MALFORMED,
		  "must have and only have Timestamping" },
		{ NULL, "critical,timeStamping", SIGIL_ERR_MALFORMED, "key usage extension must be present" },
		{ "digitalSignature,keyEncipherment", "critical,timeStamping", SIGIL_ERR_MALFORMED,
		  "but found \"KeyEncipherment\"" },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		X509 *l = leaf_with(NULL, NULL, t[i].ku, t[i].eku);
		expect_free(chain_of(l, F.inter, F.root, NULL), true, t[i].cat, t[i].msg);
		X509_free(l);
	}
	/* TSA CA keyUsage need not be critical either */
	X509 *in = mk(&(spec){ .cn = "Inter", .key = F.ik, .issuer = F.root, .issuer_key = F.rk,
		.bc = ROOT_BC, .ku = "keyCertSign" });
	X509 *l = mk(&(spec){ .cn = "TSA", .key = F.lk, .issuer = in, .issuer_key = F.ik,
		.ku = "digitalSignature", .eku = "critical,timeStamping" });
	expect_free(chain_of(l, in, F.root, NULL), true, 0, NULL);
	/* ... but basicConstraints must still be critical */
	X509 *in2 = mk(&(spec){ .cn = "Inter", .key = F.ik, .issuer = F.root, .issuer_key = F.rk,
		.bc = "CA:TRUE", .ku = "keyCertSign" });
	expect_free(chain_of(l, in2, F.root, NULL), true, SIGIL_ERR_MALFORMED,
		"ca field in basic constraints must be present, critical");
	X509_free(in2);
	X509_free(l);
	X509_free(in);
}

/* ------------------------------------------------------------------ */

static void test_subject_rendering(void)
{
	X509 *c = X509_new();
	X509_NAME *n = X509_NAME_new();
	/* DER order: C, O, OU, OU, CN, emailAddress, CN (last CN wins in Go) */
	struct { const char *t, *v; } a[] = {
		{ "C", "US" }, { "O", "Acme, Inc." }, { "OU", "a+b" }, { "OU", "#x" },
		{ "CN", "first" }, { "emailAddress", "a@b" }, { "CN", " sp\"q\\ " },
		{ "L", "Seattle" }, { "serialNumber", "42" },
	};
	for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
		X509_NAME_add_entry_by_txt(n, a[i].t, MBSTRING_UTF8, (const unsigned char *)a[i].v, -1, -1, 0);
	X509_set_subject_name(c, n);
	char *s = sigil__cert_subject(c);
	CHECK_STREQ(s, "SERIALNUMBER=42,CN=\\ sp\\\"q\\\\\\ ,OU=a\\+b+OU=\\#x,O=Acme\\, Inc.,L=Seattle,C=US,"
		"1.2.840.113549.1.9.1=#0c03614062");
	free(s);
	X509_NAME_free(n);

	/* BMPString values are decoded to UTF-8; unknown printable -> PrintableString */
	n = X509_NAME_new();
	X509_NAME_add_entry_by_txt(n, "CN", V_ASN1_BMPSTRING, (const unsigned char *)"\x00\x41\x00\xe9", 4, -1, 0);
	X509_NAME_add_entry_by_txt(n, "1.2.3.4", MBSTRING_ASC, (const unsigned char *)"ab", -1, -1, 0);
	X509_set_subject_name(c, n);
	s = sigil__cert_subject(c);
	CHECK_STREQ(s, "CN=A\xc3\xa9,1.2.3.4=#13026162");
	free(s);
	X509_NAME_free(n);

	/* empty subject */
	n = X509_NAME_new();
	X509_set_subject_name(c, n);
	s = sigil__cert_subject(c);
	CHECK_STREQ(s, "");
	free(s);
	X509_NAME_free(n);
	X509_free(c);
}

static void test_validity(void)
{
	int64_t nb = 0, na = 0;
	sigil_error e = SIGIL_ERROR_INIT;
	CHECK_INTEQ(sigil__cert_validity(F.leaf, &nb, &na, &e), SIGIL_STATUS_OK);
	CHECK_INTEQ(nb, 1700000000);
	CHECK_INTEQ(na, 2000000000);
	CHECK_INTEQ(e.category, SIGIL_ERR_NONE);
}

static void test_revocation_info(void)
{
	CHECK_INTEQ(sigil__cert_has_revocation_info(F.leaf), 0);
	X509 *c = mk(&(spec){ .cn = "L", .key = F.lk, .ku = LEAF_KU, .crldp = "URI:http://crl.example.test/x.crl" });
	CHECK_INTEQ(sigil__cert_has_revocation_info(c), 1);
	X509_free(c);
	c = mk(&(spec){ .cn = "L", .key = F.lk, .ku = LEAF_KU, .aia = "OCSP;URI:http://ocsp.example.test" });
	CHECK_INTEQ(sigil__cert_has_revocation_info(c), 1);
	X509_free(c);
	/* caIssuers only is not a revocation method */
	c = mk(&(spec){ .cn = "L", .key = F.lk, .ku = LEAF_KU, .aia = "caIssuers;URI:http://ca.example.test" });
	CHECK_INTEQ(sigil__cert_has_revocation_info(c), 0);
	X509_free(c);
	/* real corpus: the CRL case's leaf has a distribution point */
	STACK_OF(X509) *ch = case_chain(CONF "073-crl-good");
	CHECK_INTEQ(sigil__cert_has_revocation_info(sk_X509_value(ch, 0)), 1);
	sk_X509_pop_free(ch, X509_free);
	ch = case_chain(ADV "001-jws-baseline-rsa2048");
	CHECK_INTEQ(sigil__cert_has_revocation_info(sk_X509_value(ch, 0)), 0);
	sk_X509_pop_free(ch, X509_free);
}

static void test_helpers(void)
{
	char why[256];
	CHECK_INTEQ(sigil__cert_is_ca(F.root), 1);
	CHECK_INTEQ(sigil__cert_is_ca(F.leaf), 0);
	CHECK_INTEQ(sigil__cert_is_root(F.root, why, sizeof why), 1);
	CHECK_INTEQ(sigil__cert_is_root(F.inter, why, sizeof why), 0);
	CHECK_CONTAINS(why, "signature verification failure");
	CHECK_INTEQ(sigil__cert_self_signature_ok(F.root), 1);
	CHECK_INTEQ(sigil__cert_self_signature_ok(F.leaf), 0);
	X509 *s = mk(&(spec){ .cn = "Self", .key = F.lk, .ku = LEAF_KU });
	CHECK_INTEQ(sigil__cert_self_signature_ok(s), 1);
	CHECK_INTEQ(sigil__cert_is_root(s, why, sizeof why), 0);
	CHECK_CONTAINS(why, "parent certificate cannot sign");
	X509_free(s);
}

int main(void)
{
	fx_init();
	RUN(test_corpus_valid_chains);
	RUN(test_corpus_leaf_key_sizes);
	RUN(test_corpus_leaf_eku);
	RUN(test_corpus_structure);
	RUN(test_corpus_subjects);
	RUN(test_corpus_tsa_chain);
	RUN(test_gen_baseline);
	RUN(test_gen_chain_length);
	RUN(test_gen_ordering);
	RUN(test_gen_signature_algorithms);
	RUN(test_gen_single_cert);
	RUN(test_gen_leaf_basic_constraints);
	RUN(test_gen_leaf_key_usage);
	RUN(test_gen_leaf_eku);
	RUN(test_gen_leaf_keys);
	RUN(test_gen_ca_rules);
	RUN(test_gen_path_length);
	RUN(test_gen_ca_keys);
	RUN(test_gen_unknown_critical_ignored);
	RUN(test_gen_duplicate_extension);
	RUN(test_gen_timestamping);
	RUN(test_subject_rendering);
	RUN(test_validity);
	RUN(test_revocation_info);
	RUN(test_helpers);
	fx_free();
	return check_summary();
}
