/* test-dn.c - distinguished names as notation reads them
 * (notary-verification.md §3.5). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "check.h"
#include "dn.h"
#include "bounds.h"

#ifndef SIGIL_TEST_DATA
#define SIGIL_TEST_DATA "tests"
#endif

/* Parses s from an exact-size copy (no NUL terminator visible to the
 * parser, so ASan catches any over-read). */
static sigil_status parse_exact(const char *s, size_t len, sigil__dn *out, sigil_error *err)
{
	char *copy = malloc(len ? len : 1);
	if (!copy)
		exit(2);
	memcpy(copy, s, len);
	sigil_status rc = sigil__dn_parse(copy, len, out, err);
	free(copy);
	return rc;
}

static sigil_status parse(const char *s, sigil__dn *out, sigil_error *err)
{
	return parse_exact(s, strlen(s), out, err);
}

static const char *get(const sigil__dn *dn, const char *type)
{
	for (size_t i = 0; i < dn->count; i++)
		if (strcmp(dn->attrs[i].type, type) == 0)
			return dn->attrs[i].value;
	return NULL;
}

#define EXPECT_DN_ERR(s, cat, substr) do { \
	sigil_error e_ = SIGIL_ERROR_INIT; \
	sigil__dn d_ = { .count = 0 }; \
	CHECK(parse(s, &d_, &e_) == SIGIL_STATUS_ERROR); \
	CHECK_INTEQ(e_.category, cat); \
	CHECK_CONTAINS(e_.message, substr); \
	CHECK_INTEQ(d_.count, 0); \
	sigil__dn_clear(&d_); \
} while (0)

static void test_parse_basic(void)
{
	sigil__dn dn = { .count = 0 };
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(parse("C=US, ST=WA, L=Seattle, O=Acme Widgets Ltd, OU=Build, CN=Acme EC-P256 Signer fpy58u",
		&dn, &err) == SIGIL_STATUS_OK);
	CHECK_INTEQ(dn.count, 6);
	CHECK_STREQ(get(&dn, "C"), "US");
	CHECK_STREQ(get(&dn, "ST"), "WA");
	CHECK_STREQ(get(&dn, "L"), "Seattle");
	CHECK_STREQ(get(&dn, "O"), "Acme Widgets Ltd");
	CHECK_STREQ(get(&dn, "OU"), "Build");
	CHECK_STREQ(get(&dn, "CN"), "Acme EC-P256 Signer fpy58u");
	CHECK_STREQ(dn.attrs[0].type, "C");
	sigil__dn_clear(&dn);
	CHECK_INTEQ(dn.count, 0);
	sigil__dn_clear(&dn);
	sigil__dn_clear(NULL);

	/* ';' separates RDNs too; unescaped spaces around types and values go */
	CHECK(parse("  C =  US  ;ST=WA,   O  =Acme   Co  ", &dn, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(get(&dn, "C"), "US");
	CHECK_STREQ(get(&dn, "ST"), "WA");
	CHECK_STREQ(get(&dn, "O"), "Acme   Co");
	sigil__dn_clear(&dn);

	/* "S" is an alias of "ST" */
	CHECK(parse("C=US,S=WA,O=x", &dn, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(get(&dn, "ST"), "WA");
	CHECK(get(&dn, "S") == NULL);
	sigil__dn_clear(&dn);

	/* unknown types are kept as written; '=' inside a value is data */
	CHECK(parse("C=US,ST=WA,O=x,emailAddress=a@b,CN=a=b", &dn, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(get(&dn, "emailAddress"), "a@b");
	CHECK_STREQ(get(&dn, "CN"), "a=b");
	sigil__dn_clear(&dn);

	/* an empty optional value is allowed */
	CHECK(parse("C=US,ST=WA,O=x,OU=", &dn, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(get(&dn, "OU"), "");
	sigil__dn_clear(&dn);
	CHECK_INTEQ(err.category, SIGIL_ERR_NONE);
}

static void test_escapes(void)
{
	sigil__dn dn = { .count = 0 };
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(parse("C=US,ST=WA,O=Acme\\, Inc.,OU=a\\;b\\\\c\\+d\\\"e\\<f\\>g\\=h\\#i,"
		"CN=\\ padded\\ ,L=\\41\\c3\\a9", &dn, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(get(&dn, "O"), "Acme, Inc.");
	CHECK_STREQ(get(&dn, "OU"), "a;b\\c+d\"e<f>g=h#i");
	CHECK_STREQ(get(&dn, "CN"), " padded ");
	CHECK_STREQ(get(&dn, "L"), "A\xc3\xa9");
	sigil__dn_clear(&dn);

	/* an escaped trailing space survives, the unescaped ones after it go */
	CHECK(parse("C=US,ST=WA,O=x\\   ", &dn, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(get(&dn, "O"), "x ");
	sigil__dn_clear(&dn);

	EXPECT_DN_ERR("C=US,ST=WA,O=ab\\zz", SIGIL_ERR_POLICY,
		"parsing distinguished name (DN) \"C=US,ST=WA,O=ab\\\\zz\" failed with err: failed to "
		"decode escaped character");
	EXPECT_DN_ERR("C=US,ST=WA,O=ab\\", SIGIL_ERR_POLICY, "got corrupted escaped character");
	EXPECT_DN_ERR("C=US,ST=WA,O=ab\\4", SIGIL_ERR_POLICY, "failed to decode escaped character");
	EXPECT_DN_ERR("C=US,ST=WA,O=ab\\00", SIGIL_ERR_POLICY, "NUL");
	EXPECT_DN_ERR("C=US,ST=WA,O=a\"b\"", SIGIL_ERR_POLICY, "unescaped special character");
	EXPECT_DN_ERR("C=US,ST=WA,O=a<b", SIGIL_ERR_POLICY, "unescaped special character");
	EXPECT_DN_ERR("C=US,ST=WA,O=a>b", SIGIL_ERR_POLICY, "unescaped special character");
	/* a raw NUL inside the buffer */
	sigil__dn d = { .count = 0 };
	CHECK(parse_exact("C=US,ST=WA,O=a\0b", 16, &d, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_POLICY);
	CHECK_CONTAINS(err.message, "NUL");
}

static void test_rules(void)
{
	/* §3.5 rule 1 */
	EXPECT_DN_ERR("C=US,ST=WA,O=#04024869", SIGIL_ERR_POLICY,
		"unsupported distinguished name (DN) \"C=US,ST=WA,O=#04024869\": notation does not "
		"support x509.subject identities containing \"=#\"");
	EXPECT_DN_ERR("C=US,ST=WA,O=x,CN=a=#b", SIGIL_ERR_POLICY, "containing \"=#\"");
	/* rule 3 */
	EXPECT_DN_ERR("C=US+ST=WA,O=x", SIGIL_ERR_POLICY,
		"distinguished name (DN) \"C=US+ST=WA,O=x\" has multi-valued RDN attributes, remove "
		"multi-valued RDN attributes as they are not supported");
	/* rule 4: types are case-sensitive */
	EXPECT_DN_ERR("c=US,ST=WA,O=x", SIGIL_ERR_POLICY,
		"distinguished name (DN) \"c=US,ST=WA,O=x\" has no mandatory RDN attribute for \"C\", it "
		"must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum");
	/* rule 5 */
	EXPECT_DN_ERR("C=US,ST=WA,O=x,O=y", SIGIL_ERR_POLICY,
		"distinguished name (DN) \"C=US,ST=WA,O=x,O=y\" has duplicate RDN attribute for \"O\", DN "
		"can only have unique RDN attributes");
	EXPECT_DN_ERR("C=US,ST=WA,S=OR,O=x", SIGIL_ERR_POLICY, "has duplicate RDN attribute for \"ST\"");
	/* rule 6 */
	EXPECT_DN_ERR("C=US,O=x", SIGIL_ERR_POLICY, "has no mandatory RDN attribute for \"ST\"");
	EXPECT_DN_ERR("C=US,ST=WA", SIGIL_ERR_POLICY, "has no mandatory RDN attribute for \"O\"");
	EXPECT_DN_ERR("C=,ST=WA,O=x", SIGIL_ERR_POLICY, "has no mandatory RDN attribute for \"C\"");
	EXPECT_DN_ERR("C=US,ST=WA,O=  ", SIGIL_ERR_POLICY, "has no mandatory RDN attribute for \"O\"");
	EXPECT_DN_ERR("", SIGIL_ERR_POLICY, "has no mandatory RDN attribute for \"C\"");
	EXPECT_DN_ERR("   ", SIGIL_ERR_POLICY, "has no mandatory RDN attribute for \"C\"");
	/* syntax */
	EXPECT_DN_ERR("C=US,foo,ST=WA,O=x", SIGIL_ERR_POLICY,
		"failed with err: incomplete type, value pair. A valid DN must contain 'C', 'ST' or 'S', "
		"and 'O' RDN attributes at a minimum, and follow RFC 4514 standard");
	EXPECT_DN_ERR("C=US,ST=WA,O=x,", SIGIL_ERR_POLICY, "DN ended with incomplete type, value pair");
	EXPECT_DN_ERR("C=US,ST=WA,O=x,CN", SIGIL_ERR_POLICY, "DN ended with incomplete type, value pair");
	EXPECT_DN_ERR("C=US,,ST=WA,O=x", SIGIL_ERR_POLICY, "incomplete type, value pair");
	EXPECT_DN_ERR("=US,ST=WA,O=x", SIGIL_ERR_POLICY, "incomplete type, value pair");
	EXPECT_DN_ERR("C=US,ST=WA,O=x,+CN=y", SIGIL_ERR_POLICY, "incomplete type, value pair");
}

static void test_limits(void)
{
	size_t n = (size_t)SIGIL_MAX_DN_LENGTH + 1;
	char *big = malloc(n + 1);
	if (!big)
		return;
	memcpy(big, "C=US,ST=WA,O=", 13);
	memset(big + 13, 'x', n - 13);
	big[n] = '\0';
	EXPECT_DN_ERR(big, SIGIL_ERR_LIMIT, "limit");
	free(big);

	char many[2048];
	size_t o = (size_t)snprintf(many, sizeof many, "C=US,ST=WA,O=x");
	for (int i = 0; i < SIGIL_MAX_DN_ATTRS; i++)
		o += (size_t)snprintf(many + o, sizeof many - o, ",T%d=v", i);
	EXPECT_DN_ERR(many, SIGIL_ERR_LIMIT, "more than");

	/* exactly the limit is fine */
	o = (size_t)snprintf(many, sizeof many, "C=US,ST=WA,O=x");
	for (int i = 3; i < SIGIL_MAX_DN_ATTRS; i++)
		o += (size_t)snprintf(many + o, sizeof many - o, ",T%d=v", i);
	sigil__dn dn = { .count = 0 };
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(parse(many, &dn, &err) == SIGIL_STATUS_OK);
	CHECK_INTEQ(dn.count, SIGIL_MAX_DN_ATTRS);
	sigil__dn_clear(&dn);
}

static void test_subset(void)
{
	sigil__dn a = { .count = 0 }, b = { .count = 0 }, c = { .count = 0 }, e = { .count = 0 };
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(parse("C=US,ST=WA,O=Acme", &a, &err) == SIGIL_STATUS_OK);
	CHECK(parse("O=Acme,C=US,S=WA,CN=Signer,OU=Build", &b, &err) == SIGIL_STATUS_OK);
	CHECK(parse("C=US,ST=WA,O=acme", &c, &err) == SIGIL_STATUS_OK);
	CHECK(parse("C=US,ST=WA,O=Acme,OU=", &e, &err) == SIGIL_STATUS_OK);
	CHECK(sigil__dn_is_subset(&a, &b));
	CHECK(!sigil__dn_is_subset(&b, &a));
	CHECK(sigil__dn_is_subset(&a, &a));
	CHECK(sigil__dn_is_subset(&b, &b));
	/* byte-exact, case-sensitive values */
	CHECK(!sigil__dn_is_subset(&c, &b));
	CHECK(!sigil__dn_is_subset(&a, &c));
	/* notation's map semantics: an absent type reads as "" */
	CHECK(sigil__dn_is_subset(&e, &a));
	CHECK(!sigil__dn_is_subset(&e, &b));
	CHECK(!sigil__dn_is_subset(NULL, &a));
	sigil__dn_clear(&a);
	sigil__dn_clear(&b);
	sigil__dn_clear(&c);
	sigil__dn_clear(&e);
}

static X509 *load_cert(const char *rel)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/corpus/%s", SIGIL_TEST_DATA, rel);
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		return NULL;
	}
	X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return x;
}

static void test_from_cert(void)
{
	X509 *x = load_cert("conformance/cases/019-trust-leaf-only/truststore/x509/ca/main/"
		"00-chain-ec-p256-leaf.crt");
	CHECK(x != NULL);
	if (!x)
		return;
	sigil__dn dn = { .count = 0 };
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigil__dn_from_name(X509_get_subject_name(x), &dn, &err) == SIGIL_STATUS_OK);
	CHECK_INTEQ(dn.count, 6);
	CHECK_STREQ(get(&dn, "C"), "US");
	CHECK_STREQ(get(&dn, "ST"), "WA");
	CHECK_STREQ(get(&dn, "L"), "Seattle");
	CHECK_STREQ(get(&dn, "O"), "Acme Widgets Ltd");
	CHECK_STREQ(get(&dn, "OU"), "Build");
	CHECK_STREQ(get(&dn, "CN"), "Acme EC-P256 Signer fpy58u");

	/* the identities of conformance cases 024-026 against this leaf */
	sigil__dn id = { .count = 0 };
	CHECK(parse(" C=US, ST=WA, L=Seattle, O=Acme Widgets Ltd, OU=Build, CN=Acme EC-P256 Signer "
		"fpy58u", &id, &err) == SIGIL_STATUS_OK);
	CHECK(sigil__dn_is_subset(&id, &dn));
	sigil__dn_clear(&id);
	CHECK(parse(" C=US, ST=WA, O=Acme Widgets Ltd", &id, &err) == SIGIL_STATUS_OK);
	CHECK(sigil__dn_is_subset(&id, &dn));
	sigil__dn_clear(&id);
	CHECK(parse(" C=US, ST=WA, L=Seattle, O=Acme Widgets Ltd, OU=Build, CN=Not Acme EC-P256 "
		"Signer fpy58u", &id, &err) == SIGIL_STATUS_OK);
	CHECK(!sigil__dn_is_subset(&id, &dn));
	sigil__dn_clear(&id);
	sigil__dn_clear(&dn);
	X509_free(x);

	/* a root with no L */
	x = load_cert("conformance/cases/015-jws-multiarch-index/truststore/x509/ca/main/"
		"00-chain-ec-p256-root.crt");
	CHECK(x != NULL);
	if (!x)
		return;
	CHECK(sigil__dn_from_name(X509_get_subject_name(x), &dn, &err) == SIGIL_STATUS_OK);
	CHECK_INTEQ(dn.count, 5);
	CHECK_STREQ(get(&dn, "OU"), "PKI");
	CHECK(get(&dn, "L") == NULL);
	sigil__dn_clear(&dn);
	X509_free(x);
}

static X509_NAME *name_of(const char *const *pairs, size_t n)
{
	X509_NAME *nm = X509_NAME_new();
	if (!nm)
		exit(2);
	for (size_t i = 0; i + 1 < n; i += 2) {
		int set = 0;
		const char *field = pairs[i];
		if (field[0] == '+') { /* join the previous RDN */
			field++;
			set = -1;
		}
		if (!X509_NAME_add_entry_by_txt(nm, field, V_ASN1_UTF8STRING,
			    (const unsigned char *)pairs[i + 1], -1, -1, set)) {
			fprintf(stderr, "cannot add %s\n", field);
			exit(2);
		}
	}
	return nm;
}

#define NAME(...) name_of((const char *const[]){ __VA_ARGS__ }, \
	sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *))

#define EXPECT_NAME_ERR(nm, substr) do { \
	X509_NAME *n_ = (nm); \
	sigil__dn d_ = { .count = 0 }; \
	sigil_error e_ = SIGIL_ERROR_INIT; \
	CHECK(sigil__dn_from_name(n_, &d_, &e_) == SIGIL_STATUS_ERROR); \
	CHECK_INTEQ(e_.category, SIGIL_ERR_POLICY); \
	CHECK_CONTAINS(e_.message, "error while parsing the certificate subject from the digital " \
		"signature. error : "); \
	CHECK_CONTAINS(e_.message, substr); \
	CHECK_INTEQ(d_.count, 0); \
	X509_NAME_free(n_); \
} while (0)

static void test_from_name(void)
{
	X509_NAME *nm = NAME("C", "US", "ST", "WA", "L", "Seattle", "street", "1 Main St",
		"postalCode", "98101", "O", "Acme, Inc.", "OU", " spaced ", "CN", "Signer",
		"serialNumber", "42");
	sigil__dn dn = { .count = 0 };
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigil__dn_from_name(nm, &dn, &err) == SIGIL_STATUS_OK);
	CHECK_INTEQ(dn.count, 9);
	CHECK_STREQ(get(&dn, "STREET"), "1 Main St");
	CHECK_STREQ(get(&dn, "POSTALCODE"), "98101");
	CHECK_STREQ(get(&dn, "SERIALNUMBER"), "42");
	CHECK_STREQ(get(&dn, "O"), "Acme, Inc.");
	CHECK_STREQ(get(&dn, "OU"), " spaced ");
	/* an identity with the same values escaped matches */
	sigil__dn id = { .count = 0 };
	CHECK(parse("C=US,ST=WA,O=Acme\\, Inc.,OU=\\ spaced\\ ", &id, &err) == SIGIL_STATUS_OK);
	CHECK(sigil__dn_is_subset(&id, &dn));
	sigil__dn_clear(&id);
	sigil__dn_clear(&dn);
	X509_NAME_free(nm);

	/* white space other than an (escaped) end space is trimmed, as go-ldap
	 * trims Go's rendering of the subject */
	nm = NAME("C", "US", "ST", "\tWA\n", "O", " x\t ", "L", "\t y\t");
	CHECK(sigil__dn_from_name(nm, &dn, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(get(&dn, "ST"), "WA");
	CHECK_STREQ(get(&dn, "O"), " x\t ");
	CHECK_STREQ(get(&dn, "L"), "y");
	sigil__dn_clear(&dn);
	X509_NAME_free(nm);

	/* UTF-8 values come through as UTF-8 */
	nm = NAME("C", "DE", "ST", "Bayern", "O", "M\xc3\xbcnchen GmbH");
	CHECK(sigil__dn_from_name(nm, &dn, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(get(&dn, "O"), "M\xc3\xbcnchen GmbH");
	sigil__dn_clear(&dn);
	X509_NAME_free(nm);

	/* types Go renders as oid=#hex */
	EXPECT_NAME_ERR(NAME("C", "US", "ST", "WA", "O", "x", "emailAddress", "a@b.c"),
		"1.2.840.113549.1.9.1");
	EXPECT_NAME_ERR(NAME("DC", "com", "C", "US", "ST", "WA", "O", "x"), "0.9.2342.19200300.100.1.25");
	EXPECT_NAME_ERR(NAME("C", "US", "ST", "WA", "O", "x", "UID", "u1"), "unsupported attribute type");
	/* a repeated known type (Go: multi-valued RDN) */
	EXPECT_NAME_ERR(NAME("C", "US", "ST", "WA", "O", "x", "OU", "a", "OU", "b"),
		"more than one OU attribute");
	/* a multi-valued RDN of distinct known types in the certificate: Go
	 * parses it into pkix.Name's fields and String() prints each type as
	 * its own RDN, so notation matches it like any other subject (§3.5
	 * "Go renders it as a string (pkix.Name.String())") */
	nm = NAME("C", "US", "ST", "WA", "O", "x", "+CN", "y");
	CHECK(sigil__dn_from_name(nm, &dn, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(get(&dn, "O"), "x");
	CHECK_STREQ(get(&dn, "CN"), "y");
	sigil__dn_clear(&dn);
	X509_NAME_free(nm);
	/* CommonName and SerialNumber are single strings in pkix.Name: a
	 * repeated one keeps its last value (and only that one is rendered,
	 * so an earlier "=#" does not matter) */
	nm = NAME("C", "US", "ST", "WA", "O", "x", "CN", "a=#b", "CN", "last", "serialNumber", "1",
		"serialNumber", "2");
	CHECK(sigil__dn_from_name(nm, &dn, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(get(&dn, "CN"), "last");
	CHECK_STREQ(get(&dn, "SERIALNUMBER"), "2");
	CHECK_INTEQ(dn.count, 5);
	sigil__dn_clear(&dn);
	X509_NAME_free(nm);
	/* a repeated known type inside one multi-valued RDN is still one
	 * multi-valued RDN for Go */
	EXPECT_NAME_ERR(NAME("C", "US", "ST", "WA", "O", "x", "+O", "y"), "more than one O attribute");
	/* mandatory attributes */
	EXPECT_NAME_ERR(NAME("C", "US", "O", "x", "CN", "y"), "no mandatory RDN attribute for \\\"ST\\\"");
	EXPECT_NAME_ERR(NAME("C", "US", "ST", "WA"), "no mandatory RDN attribute for \\\"O\\\"");
	EXPECT_NAME_ERR(NAME("C", "US", "ST", "", "O", "x"), "no mandatory RDN attribute for \\\"ST\\\"");
	X509_NAME *empty = X509_NAME_new();
	EXPECT_NAME_ERR(empty, "no mandatory RDN attribute for \\\"C\\\"");
	/* "=#" inside a value is not escaped by Go and then rejected */
	EXPECT_NAME_ERR(NAME("C", "US", "ST", "WA", "O", "a=#b"), "contains \\\"=#\\\"");

	CHECK(sigil__dn_from_name(NULL, &dn, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_USAGE);
}

int main(void)
{
	RUN(test_parse_basic);
	RUN(test_escapes);
	RUN(test_rules);
	RUN(test_limits);
	RUN(test_subset);
	RUN(test_from_cert);
	RUN(test_from_name);
	return check_summary();
}
