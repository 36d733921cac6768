/* test-certcache.c - parsed envelope certificates reused across
 * verifications (certcache.c): the same bytes give the same object, other
 * bytes never do, exact DER only, bounded size and entries; a root's
 * successful self-signature check is remembered per entry (§1.9.1). */
#include <stdint.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "check.h"
#include "bounds.h"
#include "certcache.h"

static EVP_PKEY *key;

/* A self-signed certificate's DER; comment_len > 0 adds a Netscape
 * comment extension of that many bytes (to make it large). */
static uint8_t *make_cert(long serial, size_t comment_len, size_t *len)
{
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_NAME *name = X509_get_subject_name(x);
	char cn[64];
	snprintf(cn, sizeof cn, "certcache test %ld", serial);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	if (comment_len) {
		ASN1_IA5STRING *s = ASN1_IA5STRING_new();
		char *text = malloc(comment_len);
		memset(text, 'a', comment_len);
		ASN1_STRING_set(s, text, (int)comment_len);
		X509_add1_ext_i2d(x, NID_netscape_comment, s, 0, 0);
		ASN1_IA5STRING_free(s);
		free(text);
	}
	if (!X509_sign(x, key, EVP_sha256())) {
		fprintf(stderr, "X509_sign failed\n");
		exit(2);
	}
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);
	X509_free(x);
	if (n <= 0)
		exit(2);
	*len = (size_t)n;
	return der;
}

static void test_same_bytes_same_object(void)
{
	size_t len = 0;
	uint8_t *der = make_cert(1, 0, &len);
	X509 *a = sigil__certcache_parse(der, len);
	X509 *b = sigil__certcache_parse(der, len);
	CHECK(a != NULL);
	CHECK(a == b);
	/* a copy of the bytes elsewhere in memory is the same key */
	uint8_t *copy = malloc(len);
	memcpy(copy, der, len);
	X509 *c = sigil__certcache_parse(copy, len);
	CHECK(c == a);
	/* and it is the certificate those bytes encode */
	const unsigned char *p = der;
	X509 *ref = d2i_X509(NULL, &p, (long)len);
	CHECK(ref && X509_cmp(ref, a) == 0);
	X509_free(ref);
	X509_free(a);
	X509_free(b);
	X509_free(c);
	free(copy);
	OPENSSL_free(der);
}

static void test_other_bytes(void)
{
	size_t l1 = 0, l2 = 0;
	uint8_t *d1 = make_cert(2, 0, &l1), *d2 = make_cert(3, 0, &l2);
	X509 *a = sigil__certcache_parse(d1, l1);
	X509 *b = sigil__certcache_parse(d2, l2);
	CHECK(a && b && a != b && X509_cmp(a, b) != 0);
	/* Go's x509.ParseCertificate: trailing bytes fail, cached or not */
	uint8_t *longer = malloc(l1 + 1);
	memcpy(longer, d1, l1);
	longer[l1] = 0;
	CHECK(sigil__certcache_parse(longer, l1 + 1) == NULL);
	/* a prefix, a flipped byte of the signature, nothing */
	CHECK(sigil__certcache_parse(d1, l1 - 1) == NULL);
	d1[l1 - 1] ^= 1;
	X509 *flipped = sigil__certcache_parse(d1, l1);
	/* still DER (the signature is not checked here), another certificate */
	CHECK(flipped && flipped != a && X509_cmp(flipped, a) != 0);
	X509_free(flipped);
	d1[l1 - 1] ^= 1;
	CHECK(sigil__certcache_parse(d1, 0) == NULL);
	CHECK(sigil__certcache_parse((const uint8_t *)"garbage", 7) == NULL);
	X509_free(a);
	X509_free(b);
	free(longer);
	OPENSSL_free(d1);
	OPENSSL_free(d2);
}

static void test_bounds(void)
{
	/* larger than SIGIL_CERT_CACHE_MAX_DER: parsed every time, not kept */
	size_t len = 0;
	uint8_t *big = make_cert(4, SIGIL_CERT_CACHE_MAX_DER, &len);
	CHECK(len > SIGIL_CERT_CACHE_MAX_DER);
	X509 *a = sigil__certcache_parse(big, len);
	X509 *b = sigil__certcache_parse(big, len);
	CHECK(a && b && a != b && X509_cmp(a, b) == 0);
	X509_free(a);
	X509_free(b);
	OPENSSL_free(big);

	/* at most SIGIL_CERT_CACHE_ENTRIES kept: the oldest goes first. The
	 * first object is still referenced here, so a new parse of its bytes
	 * after eviction must be a different object. */
	size_t l0 = 0;
	uint8_t *d0 = make_cert(100, 0, &l0);
	X509 *first = sigil__certcache_parse(d0, l0);
	CHECK(first != NULL);
	for (long i = 0; i < SIGIL_CERT_CACHE_ENTRIES; i++) {
		size_t l = 0;
		uint8_t *d = make_cert(1000 + i, 0, &l);
		X509_free(sigil__certcache_parse(d, l));
		OPENSSL_free(d);
	}
	X509 *again = sigil__certcache_parse(d0, l0);
	CHECK(again && again != first && X509_cmp(again, first) == 0);
	/* and now it is cached again */
	X509 *third = sigil__certcache_parse(d0, l0);
	CHECK(third == again);
	X509_free(first);
	X509_free(again);
	X509_free(third);
	OPENSSL_free(d0);
}

static int verify_calls;

/* the check certchain.c hands in: the signature under the cert's own key */
static int count_verify(X509 *cert, void *ctx)
{
	(void)ctx;
	verify_calls++;
	return X509_verify(cert, X509_get0_pubkey(cert)) == 1;
}

static void test_self_signature_memo(void)
{
	size_t len = 0;
	uint8_t *der = make_cert(200, 0, &len);
	X509 *a = sigil__certcache_parse(der, len);
	CHECK(a != NULL);
	uint64_t hits = sigil__certcache_self_signature_hits();
	verify_calls = 0;
	/* first call computes, second is answered by the entry */
	CHECK_INTEQ(sigil__certcache_self_signature_ok(a, count_verify, NULL), 1);
	CHECK_INTEQ(verify_calls, 1);
	CHECK(sigil__certcache_self_signature_hits() == hits);
	CHECK_INTEQ(sigil__certcache_self_signature_ok(a, count_verify, NULL), 1);
	CHECK_INTEQ(verify_calls, 1);
	CHECK(sigil__certcache_self_signature_hits() == hits + 1);
	/* the same bytes parsed again are the same entry: still a hit */
	X509 *b = sigil__certcache_parse(der, len);
	CHECK(b == a);
	CHECK_INTEQ(sigil__certcache_self_signature_ok(b, count_verify, NULL), 1);
	CHECK_INTEQ(verify_calls, 1);
	CHECK(sigil__certcache_self_signature_hits() == hits + 2);

	/* a tampered root (one signature bit flipped: other DER, so another
	 * entry) is rejected, and every time: failures are not remembered */
	der[len - 1] ^= 1;
	X509 *t = sigil__certcache_parse(der, len);
	CHECK(t && t != a);
	CHECK_INTEQ(sigil__certcache_self_signature_ok(t, count_verify, NULL), 0);
	CHECK_INTEQ(sigil__certcache_self_signature_ok(t, count_verify, NULL), 0);
	CHECK_INTEQ(verify_calls, 3);
	CHECK(sigil__certcache_self_signature_hits() == hits + 2);
	der[len - 1] ^= 1;

	/* an object the cache did not hand out, even with the cached bytes,
	 * is verified on every call */
	const unsigned char *p = der;
	X509 *own = d2i_X509(NULL, &p, (long)len);
	CHECK(own && own != a);
	CHECK_INTEQ(sigil__certcache_self_signature_ok(own, count_verify, NULL), 1);
	CHECK_INTEQ(sigil__certcache_self_signature_ok(own, count_verify, NULL), 1);
	CHECK_INTEQ(verify_calls, 5);
	CHECK(sigil__certcache_self_signature_hits() == hits + 2);
	CHECK_INTEQ(sigil__certcache_self_signature_ok(NULL, count_verify, NULL), 0);
	X509_free(own);
	X509_free(t);
	X509_free(b);
	X509_free(a);
	OPENSSL_free(der);
}

int main(void)
{
	EVP_PKEY_CTX *kctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);
	if (!kctx || EVP_PKEY_keygen_init(kctx) <= 0 ||
	    EVP_PKEY_CTX_set_ec_paramgen_curve_nid(kctx, NID_X9_62_prime256v1) <= 0 ||
	    EVP_PKEY_keygen(kctx, &key) <= 0)
		return 2;
	EVP_PKEY_CTX_free(kctx);
	RUN(test_same_bytes_same_object);
	RUN(test_other_bytes);
	RUN(test_bounds);
	RUN(test_self_signature_memo);
	EVP_PKEY_free(key);
	return check_summary();
}
