/* test-policy.c - trust policy parsing, validation, selection and loading
 * (notary-verification.md §3.3, §3.4, §3.7, §4.1). */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sigil/policy.h>
#include "check.h"
#include "bounds.h"
#include "policy_internal.h"

#ifndef SIGIL_TEST_DATA
#define SIGIL_TEST_DATA "tests"
#endif

/* One statement, valid as written; a test appends fields after it, and
 * since the last of duplicate keys wins, that replaces the default. */
#define STMT_X(name, scope, extra) \
	"{\"name\":\"" name "\",\"registryScopes\":[\"" scope "\"]," \
	"\"signatureVerification\":{\"level\":\"strict\"}," \
	"\"trustStores\":[\"ca:main\"],\"trustedIdentities\":[\"*\"]" extra "}"
#define STMT(extra) STMT_X("p", "registry.example.com/app", extra)
#define DOC(stmts) "{\"version\":\"1.0\",\"trustPolicies\":[" stmts "]}"

static sigil_status parse(const char *json, sigil_policy **out, sigil_error *err)
{
	return sigil_policy_parse(out, (const uint8_t *)json, strlen(json), err);
}

/* Parses json, which must fail; returns the error for the caller to check. */
static sigil_error parse_fail(const char *json)
{
	sigil_error err = SIGIL_ERROR_INIT;
	sigil_policy *p = NULL;
	if (parse(json, &p, &err) == SIGIL_STATUS_OK) {
		err.category = SIGIL_ERR_NONE;
		snprintf(err.message, sizeof err.message, "(parsed successfully)");
		sigil_policy_free(p);
	}
	CHECK(p == NULL);
	return err;
}

#define EXPECT_POLICY_ERR(json, substr) do { \
	sigil_error e_ = parse_fail(json); \
	CHECK_INTEQ(e_.category, SIGIL_ERR_POLICY); \
	CHECK_CONTAINS(e_.message, substr); \
} while (0)

#define EXPECT_OK(json, pol) do { \
	sigil_error e_ = SIGIL_ERROR_INIT; \
	pol = NULL; \
	if (parse(json, &pol, &e_) != SIGIL_STATUS_OK) { \
		CHECK_STREQ(e_.message, "(no error)"); \
	} \
	CHECK(pol != NULL); \
} while (0)

static void test_valid_minimal(void)
{
	sigil_policy *p;
	EXPECT_OK(DOC(STMT("")), p);
	if (!p)
		return;
	CHECK_INTEQ(sigil_policy_statement_count(p), 1);
	CHECK_STREQ(sigil_policy_path(p), "");
	const sigil_policy_statement *st = sigil_policy_statement_get(p, 0);
	CHECK(st != NULL);
	CHECK(sigil_policy_statement_get(p, 1) == NULL);
	CHECK_STREQ(sigil_statement_name(st), "p");
	CHECK_INTEQ(sigil_statement_level(st), SIGIL_LEVEL_STRICT);
	CHECK_INTEQ(sigil_statement_has_overrides(st), 0);
	CHECK_INTEQ(st->scope_count, 1);
	CHECK_STREQ(st->scopes[0], "registry.example.com/app");
	CHECK(!st->wildcard_scope);
	CHECK_INTEQ(st->store_count, 1);
	CHECK_INTEQ(st->stores[0].type, SIGIL_STORE_CA);
	CHECK_STREQ(st->stores[0].name, "main");
	CHECK(st->identity_wildcard);
	CHECK_INTEQ(st->identity_count, 0);
	CHECK_INTEQ(st->verify_timestamp, SIGIL_VERIFY_TIMESTAMP_ALWAYS);
	sigil_policy_free(p);
	sigil_policy_free(NULL);
}

static void test_version(void)
{
	EXPECT_POLICY_ERR("{\"trustPolicies\":[" STMT("") "]}",
		"trust policy document has empty version, version must be specified");
	EXPECT_POLICY_ERR("{\"version\":\"\",\"trustPolicies\":[" STMT("") "]}",
		"has empty version");
	EXPECT_POLICY_ERR("{\"version\":null,\"trustPolicies\":[" STMT("") "]}",
		"has empty version");
	EXPECT_POLICY_ERR("{\"version\":\"2.0\",\"trustPolicies\":[" STMT("") "]}",
		"trust policy document uses unsupported version \"2.0\"");
}

static void test_zero_statements(void)
{
	EXPECT_POLICY_ERR("{\"version\":\"1.0\",\"trustPolicies\":[]}",
		"trust policy document can not have zero trust policy statements");
	EXPECT_POLICY_ERR("{\"version\":\"1.0\"}", "can not have zero trust policy statements");
	EXPECT_POLICY_ERR("{\"version\":\"1.0\",\"trustPolicies\":null}",
		"can not have zero trust policy statements");
}

static void test_names(void)
{
	EXPECT_POLICY_ERR(DOC(STMT_X("a", "r.io/x", "") "," STMT_X("a", "r.io/y", "")),
		"multiple trust policy statements use the same name \"a\", statement names must be unique");
	EXPECT_POLICY_ERR(DOC(STMT(",\"name\":\"\"")),
		"is missing a name, every statement requires a name");
	EXPECT_POLICY_ERR(DOC(STMT(",\"name\":null")), "is missing a name");
	/* three uses of one name: reported once */
	sigil_error e = parse_fail(DOC(STMT_X("a", "r.io/x", "") "," STMT_X("a", "r.io/y", "") ","
		STMT_X("a", "r.io/z", "")));
	CHECK_INTEQ(e.category, SIGIL_ERR_POLICY);
	const char *first = strstr(e.message, "same name");
	CHECK(first != NULL);
	CHECK(first && strstr(first + 1, "same name") == NULL);
}

static void test_level(void)
{
	EXPECT_POLICY_ERR(DOC(STMT(",\"signatureVerification\":{}")),
		"trust policy statement \"p\" has invalid signatureVerification: signature verification "
		"level is empty or missing in the trust policy statement");
	EXPECT_POLICY_ERR(DOC(STMT(",\"signatureVerification\":null")),
		"level is empty or missing");
	EXPECT_POLICY_ERR(DOC(STMT(",\"signatureVerification\":{\"level\":\"paranoid\"}")),
		"invalid signature verification level \"paranoid\"");
	/* level values are case-sensitive */
	EXPECT_POLICY_ERR(DOC(STMT(",\"signatureVerification\":{\"level\":\"Strict\"}")),
		"invalid signature verification level \"Strict\"");
}

static const sigil_policy_statement *only(sigil_policy *p)
{
	return p ? sigil_policy_statement_get(p, 0) : NULL;
}

static void expect_actions(const char *json, sigil_action auth, sigil_action ts, sigil_action exp,
	sigil_action rev, int line)
{
	sigil_policy *p;
	EXPECT_OK(json, p);
	const sigil_policy_statement *st = only(p);
	if (!st)
		return;
	int before = check__failures;
	CHECK_INTEQ(sigil_statement_action(st, SIGIL_CHECK_INTEGRITY), SIGIL_ACTION_ENFORCE);
	CHECK_INTEQ(sigil_statement_action(st, SIGIL_CHECK_AUTHENTICITY), auth);
	CHECK_INTEQ(sigil_statement_action(st, SIGIL_CHECK_TRUSTED_IDENTITY), auth);
	CHECK_INTEQ(sigil_statement_action(st, SIGIL_CHECK_AUTHENTIC_TIMESTAMP), ts);
	CHECK_INTEQ(sigil_statement_action(st, SIGIL_CHECK_EXPIRY), exp);
	CHECK_INTEQ(sigil_statement_action(st, SIGIL_CHECK_REVOCATION), rev);
	CHECK_INTEQ(sigil_statement_action(st, SIGIL_CHECK_PLUGIN), SIGIL_ACTION_ENFORCE);
	CHECK_INTEQ(sigil_statement_action(st, SIGIL_CHECK_USER_METADATA), SIGIL_ACTION_ENFORCE);
	if (check__failures != before)
		fprintf(stderr, "    (expect_actions called from line %d)\n", line);
	sigil_policy_free(p);
}

#define E SIGIL_ACTION_ENFORCE
#define L SIGIL_ACTION_LOG
#define S SIGIL_ACTION_SKIP
#define LEVEL(l, extra) STMT(",\"signatureVerification\":{\"level\":\"" l "\"" extra "}")

static void test_level_table(void)
{
	/* notary-verification.md §4.1 */
	expect_actions(DOC(LEVEL("strict", "")), E, E, E, E, __LINE__);
	expect_actions(DOC(LEVEL("permissive", "")), E, L, L, L, __LINE__);
	expect_actions(DOC(LEVEL("audit", "")), L, L, L, L, __LINE__);

	sigil_policy *p;
	EXPECT_OK(DOC(STMT(",\"signatureVerification\":{\"level\":\"skip\"},\"trustStores\":null,"
		"\"trustedIdentities\":null")), p);
	const sigil_policy_statement *st = only(p);
	if (st) {
		CHECK_INTEQ(sigil_statement_level(st), SIGIL_LEVEL_SKIP);
		for (int c = 0; c < SIGIL_CHECK__COUNT; c++)
			CHECK_INTEQ(sigil_statement_action(st, (sigil_check)c), SIGIL_ACTION_SKIP);
		CHECK_INTEQ(st->store_count, 0);
	}
	sigil_policy_free(p);
}

static void test_overrides(void)
{
	expect_actions(DOC(LEVEL("strict", ",\"override\":{\"authenticity\":\"log\"}")),
		L, E, E, E, __LINE__);
	expect_actions(DOC(LEVEL("strict", ",\"override\":{\"revocation\":\"skip\"}")),
		E, E, E, S, __LINE__);
	expect_actions(DOC(LEVEL("audit", ",\"override\":{\"expiry\":\"enforce\","
		"\"authenticTimestamp\":\"enforce\"}")), L, E, E, L, __LINE__);
	expect_actions(DOC(LEVEL("permissive", ",\"override\":{\"revocation\":\"enforce\","
		"\"authenticity\":\"log\"}")), L, L, L, E, __LINE__);

	sigil_policy *p;
	EXPECT_OK(DOC(LEVEL("strict", ",\"override\":{\"expiry\":\"log\"}")), p);
	CHECK_INTEQ(sigil_statement_has_overrides(only(p)), 1);
	sigil_policy_free(p);
	/* an empty override is no override (notation: len(Override) == 0) */
	EXPECT_OK(DOC(LEVEL("strict", ",\"override\":{}")), p);
	CHECK_INTEQ(sigil_statement_has_overrides(only(p)), 0);
	sigil_policy_free(p);
	EXPECT_OK(DOC(LEVEL("strict", ",\"override\":null")), p);
	CHECK_INTEQ(sigil_statement_has_overrides(only(p)), 0);
	sigil_policy_free(p);

	EXPECT_POLICY_ERR(DOC(STMT(",\"signatureVerification\":{\"level\":\"skip\",\"override\":"
		"{\"expiry\":\"log\"}},\"trustStores\":[],\"trustedIdentities\":[]")),
		"signature verification level \"skip\" can't be used to customize signature verification");
	EXPECT_POLICY_ERR(DOC(LEVEL("strict", ",\"override\":{\"Expiry\":\"log\"}")),
		"verification type \"Expiry\" in custom signature verification is not supported");
	EXPECT_POLICY_ERR(DOC(LEVEL("strict", ",\"override\":{\"expiry\":\"warn\"}")),
		"verification action \"warn\" in custom signature verification is not supported");
	EXPECT_POLICY_ERR(DOC(LEVEL("strict", ",\"override\":{\"integrity\":\"log\"}")),
		"\"integrity\" verification can not be overridden in custom signature verification");
	EXPECT_POLICY_ERR(DOC(LEVEL("strict", ",\"override\":{\"authenticity\":\"skip\"}")),
		"\"authenticity\" verification can not be skipped in custom signature verification");
	EXPECT_POLICY_ERR(DOC(LEVEL("strict", ",\"override\":{\"expiry\":\"skip\"}")),
		"\"expiry\" verification can not be skipped");
	EXPECT_POLICY_ERR(DOC(LEVEL("strict", ",\"override\":{\"authenticTimestamp\":\"skip\"}")),
		"\"authenticTimestamp\" verification can not be skipped");
}

/* one lookup each: gcc -O2 -Wnull-dereference cannot see that a repeated
 * only(p) returns the same pointer */
static int verify_timestamp_of(sigil_policy *p)
{
	const sigil_policy_statement *st = only(p);
	return st ? (int)st->verify_timestamp : -1;
}

static int wildcard_of(sigil_policy *p)
{
	const sigil_policy_statement *st = only(p);
	return st ? st->wildcard_scope : 0;
}

static void test_verify_timestamp(void)
{
	sigil_policy *p;
	EXPECT_OK(DOC(LEVEL("strict", ",\"verifyTimestamp\":\"afterCertExpiry\"")), p);
	CHECK_INTEQ(verify_timestamp_of(p), SIGIL_VERIFY_TIMESTAMP_AFTER_CERT_EXPIRY);
	sigil_policy_free(p);
	EXPECT_OK(DOC(LEVEL("strict", ",\"verifyTimestamp\":\"always\"")), p);
	CHECK_INTEQ(verify_timestamp_of(p), SIGIL_VERIFY_TIMESTAMP_ALWAYS);
	sigil_policy_free(p);
	EXPECT_OK(DOC(LEVEL("strict", ",\"verifyTimestamp\":\"\"")), p);
	CHECK_INTEQ(verify_timestamp_of(p), SIGIL_VERIFY_TIMESTAMP_ALWAYS);
	sigil_policy_free(p);
	EXPECT_POLICY_ERR(DOC(LEVEL("strict", ",\"verifyTimestamp\":\"never\"")),
		"verifyTimestamp must be \"always\" or \"afterCertExpiry\", but got \"never\"");
	EXPECT_POLICY_ERR(DOC(LEVEL("strict", ",\"verifyTimestamp\":\"Always\"")),
		"but got \"Always\"");
}

static void test_skip(void)
{
	EXPECT_POLICY_ERR(DOC(STMT(",\"signatureVerification\":{\"level\":\"skip\"},"
		"\"trustedIdentities\":[]")),
		"trust policy statement \"p\" is set to skip signature verification but configured with "
		"trust stores and/or trusted identities, remove them if signature verification needs to "
		"be skipped");
	EXPECT_POLICY_ERR(DOC(STMT(",\"signatureVerification\":{\"level\":\"skip\"},"
		"\"trustStores\":[]")), "is set to skip signature verification but configured");
	/* notary-verification.md §8 row 8: skip on the global scope is refused */
	EXPECT_POLICY_ERR(DOC(STMT_X("g", "*", ",\"signatureVerification\":{\"level\":\"skip\"},"
		"\"trustStores\":[],\"trustedIdentities\":[]")),
		"trust policy statement \"g\" uses signature verification level \"skip\" with the wildcard "
		"registry scope '*'");
	/* skip on a specific scope is fine */
	sigil_policy *p;
	EXPECT_OK(DOC(STMT_X("s", "r.io/x", ",\"signatureVerification\":{\"level\":\"skip\"},"
		"\"trustStores\":[],\"trustedIdentities\":[]")), p);
	sigil_policy_free(p);
}

static void test_missing_stores_identities(void)
{
	EXPECT_POLICY_ERR(DOC(STMT(",\"trustStores\":[]")),
		"trust policy statement \"p\" is either missing trust stores or trusted identities, both "
		"must be specified");
	EXPECT_POLICY_ERR(DOC(STMT(",\"trustedIdentities\":null")),
		"is either missing trust stores or trusted identities");
}

static void test_stores(void)
{
	EXPECT_POLICY_ERR(DOC(STMT(",\"trustStores\":[\"camain\"]")),
		"trust policy statement \"p\" has malformed trust store value \"camain\". The required "
		"format is <TrustStoreType>:<TrustStoreName>");
	EXPECT_POLICY_ERR(DOC(STMT(",\"trustStores\":[\"CA:main\"]")),
		"uses an unsupported trust store type \"CA\" in trust store value \"CA:main\"");
	EXPECT_POLICY_ERR(DOC(STMT(",\"trustStores\":[\"x509:main\"]")),
		"unsupported trust store type \"x509\"");
	EXPECT_POLICY_ERR(DOC(STMT(",\"trustStores\":[\"ca:my store\"]")),
		"uses an unsupported trust store name \"my store\" in trust store value \"ca:my store\"");
	EXPECT_POLICY_ERR(DOC(STMT(",\"trustStores\":[\"ca:\"]")),
		"unsupported trust store name \"\"");
	EXPECT_POLICY_ERR(DOC(STMT(",\"trustStores\":[\"ca:a/b\"]")),
		"unsupported trust store name \"a/b\"");
	EXPECT_POLICY_ERR(DOC(STMT(",\"trustStores\":[\"ca:..\"]")),
		"unsupported trust store name \"..\"");

	sigil_policy *p;
	EXPECT_OK(DOC(STMT(",\"trustStores\":[\"ca:main\",\"tsa:ts-1\",\"ca:main\","
		"\"signingAuthority:A_b.c\",\"tsa:ts-1\",\"signingAuthority:main\"]")), p);
	const sigil_policy_statement *st = only(p);
	if (st) {
		/* de-duplicated, in listed order */
		CHECK_INTEQ(st->store_count, 4);
		CHECK_INTEQ(st->stores[0].type, SIGIL_STORE_CA);
		CHECK_STREQ(st->stores[0].name, "main");
		CHECK_INTEQ(st->stores[1].type, SIGIL_STORE_TSA);
		CHECK_STREQ(st->stores[1].name, "ts-1");
		CHECK_INTEQ(st->stores[2].type, SIGIL_STORE_SIGNING_AUTHORITY);
		CHECK_STREQ(st->stores[2].name, "A_b.c");
		CHECK_INTEQ(st->stores[3].type, SIGIL_STORE_SIGNING_AUTHORITY);
		CHECK_STREQ(st->stores[3].name, "main");
	}
	sigil_policy_free(p);
}

#define ID_A "x509.subject: C=US, ST=WA, O=Acme"
#define ID_B "x509.subject: C=US, ST=WA, O=Acme, CN=Signer"
#define ID_C "x509.subject: C=US, ST=OR, O=Acme, CN=Signer"

static void test_identities(void)
{
	EXPECT_POLICY_ERR(DOC(STMT(",\"trustedIdentities\":[\"*\",\"" ID_A "\"]")),
		"trust policy statement \"p\" uses a wildcard trusted identity '*', a wildcard identity "
		"cannot be used in conjunction with other values");
	EXPECT_POLICY_ERR(DOC(STMT(",\"trustedIdentities\":[\"" ID_A "\",\"\"]")),
		"trust policy statement \"p\" has an empty trusted identity");
	EXPECT_POLICY_ERR(DOC(STMT(",\"trustedIdentities\":[\"C=US, ST=WA, O=Acme\"]")),
		"has trusted identity \"C=US, ST=WA, O=Acme\" missing separator");
	EXPECT_POLICY_ERR(DOC(STMT(",\"trustedIdentities\":[\"x509.subject:\"]")),
		"has trusted identity \"x509.subject:\" without an identity value");
	EXPECT_POLICY_ERR(DOC(STMT(",\"trustedIdentities\":[\"x509.subject: C=US, O=Acme\"]")),
		"has trusted identity \"x509.subject: C=US, O=Acme\" with invalid identity value: "
		"distinguished name (DN) \" C=US, O=Acme\" has no mandatory RDN attribute for \"ST\"");
	EXPECT_POLICY_ERR(DOC(STMT(",\"trustedIdentities\":[\"x509.subject: C=US, ST=WA, O=#0101\"]")),
		"notation does not support x509.subject identities containing \"=#\"");
	/* overlap: A is a subset of B */
	EXPECT_POLICY_ERR(DOC(STMT(",\"trustedIdentities\":[\"" ID_B "\",\"" ID_A "\"]")),
		"trust policy statement \"p\" has overlapping x509 trustedIdentities, \"" ID_A
		"\" overlaps with \"" ID_B "\"");
	/* identical DNs, written differently, overlap too */
	EXPECT_POLICY_ERR(DOC(STMT(",\"trustedIdentities\":[\"" ID_A "\",\"x509.subject:O=Acme,S=WA,C=US\"]")),
		"has overlapping x509 trustedIdentities");

	sigil_policy *p;
	EXPECT_OK(DOC(STMT(",\"trustedIdentities\":[\"" ID_B "\",\"" ID_C "\",\"plugin.kind:anything\","
		"\"X509.subject:not parsed\"]")), p);
	const sigil_policy_statement *st = only(p);
	if (st) {
		CHECK(!st->identity_wildcard);
		CHECK_INTEQ(st->identity_count, 2);
		CHECK_INTEQ(st->other_identity_count, 2);
		CHECK_STREQ(st->identity_strings[0], ID_B);
		CHECK_STREQ(st->identity_strings[1], ID_C);
		CHECK_INTEQ(st->identities[0].count, 4);
		CHECK_STREQ(st->identities[1].attrs[1].type, "ST");
		CHECK_STREQ(st->identities[1].attrs[1].value, "OR");
	}
	sigil_policy_free(p);
}

static void test_scopes(void)
{
	EXPECT_POLICY_ERR(DOC(STMT(",\"registryScopes\":[]")),
		"trust policy statement \"p\" has zero registry scopes, it must specify registry scopes "
		"with at least one value");
	EXPECT_POLICY_ERR(DOC(STMT(",\"registryScopes\":null")), "has zero registry scopes");
	EXPECT_POLICY_ERR(DOC(STMT(",\"registryScopes\":[\"*\",\"r.io/a\"]")),
		"uses wildcard registry scope '*', a wildcard scope cannot be used in conjunction with "
		"other scope values");
	EXPECT_POLICY_ERR(DOC(STMT(",\"registryScopes\":[\"r.io/*\"]")),
		"registry scope \"r.io/*\" with wild card(s) is not valid, make sure it is a fully "
		"qualified repository without the scheme, protocol or tag");

	static const char *const bad[] = {
		"r.io", "r.io/", "/app", "https://r.io/app", "r.io/App", "r.io/app:tag",
		"r.io/app@sha256:00", "-r.io/app", "r-.io/app", "r..io/app", "r.io:/app",
		"r.io:12a/app", "r.io/app/", "r.io//app", "r.io/a..b", "r.io/a___b", "r.io/_a",
		"r.io/a-", "r.io/a.-b", "r_io/app", "r.io/a b", "",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char json[512], want[256];
		snprintf(json, sizeof json, DOC(STMT(",\"registryScopes\":[\"%s\"]")), bad[i]);
		snprintf(want, sizeof want, "registry scope \"%s\" is not valid, make sure it is a fully "
			"qualified repository", bad[i]);
		sigil_error e = parse_fail(json);
		CHECK_INTEQ(e.category, SIGIL_ERR_POLICY);
		CHECK_CONTAINS(e.message, want);
	}

	static const char *const good[] = {
		"r.io/app", "localhost:5000/my/repository", "localhost/a", "a/b", "A-1.Example.COM/a",
		"r.io:443/a.b_c__d---e/f-g/h0", "10.0.0.1:5000/ns/app", "r.io/a-b", "r.io/a--b",
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		char json[512];
		snprintf(json, sizeof json, DOC(STMT(",\"registryScopes\":[\"%s\"]")), good[i]);
		sigil_policy *p;
		EXPECT_OK(json, p);
		if (!p)
			fprintf(stderr, "    scope: %s\n", good[i]);
		sigil_policy_free(p);
	}

	/* a scope in two statements, and two "*" statements */
	EXPECT_POLICY_ERR(DOC(STMT_X("a", "r.io/x", "") "," STMT_X("b", "r.io/x", "")),
		"registry scope \"r.io/x\" is present in multiple trust policy statements, one registry "
		"scope value can only be associated with one statement");
	EXPECT_POLICY_ERR(DOC(STMT_X("a", "*", "") "," STMT_X("b", "*", "")),
		"registry scope \"*\" is present in multiple trust policy statements");
	EXPECT_POLICY_ERR(DOC(STMT(",\"registryScopes\":[\"r.io/x\",\"r.io/x\"]")),
		"registry scope \"r.io/x\" is present in multiple trust policy statements");

	sigil_policy *p;
	EXPECT_OK(DOC(STMT_X("w", "*", "")), p);
	CHECK(wildcard_of(p));
	sigil_policy_free(p);
}

static void test_multiple_problems(void)
{
	/* every problem, each naming its statement, in one message */
	sigil_error e = parse_fail("{\"version\":\"1.1\",\"trustPolicies\":["
		STMT_X("one", "r.io/x", ",\"trustStores\":[\"bogus\"]") ","
		STMT_X("two", "r.io/Y", ",\"signatureVerification\":{\"level\":\"paranoid\"}") ","
		STMT_X("", "r.io/z", ",\"trustedIdentities\":[\"x509.subject:C=US\"]") "]}");
	CHECK_INTEQ(e.category, SIGIL_ERR_POLICY);
	CHECK_CONTAINS(e.message, "trust policy: trust policy document uses unsupported version \"1.1\"; ");
	CHECK_CONTAINS(e.message, "trust policy statement \"one\" has malformed trust store value \"bogus\"");
	CHECK_CONTAINS(e.message, "; trust policy statement \"two\" has invalid signatureVerification: "
		"invalid signature verification level \"paranoid\"");
	CHECK_CONTAINS(e.message, "trust policy statement \"two\": registry scope \"r.io/Y\" is not valid");
	CHECK_CONTAINS(e.message, "statement (#3) is missing a name");
	CHECK_CONTAINS(e.message, "trust policy statement #3 (unnamed) has trusted identity \"x509.subject:C=US\"");
}

static void test_malformed(void)
{
	static const char *const bad[] = {
		"", "{", "[]", "{\"version\":\"1.0\",}", "null",
		"{\"version\":1}",
		DOC(STMT(",\"trustStores\":\"ca:main\"")),
		DOC(STMT(",\"trustStores\":[1]")),
		DOC(STMT(",\"name\":7")),
		DOC(STMT(",\"signatureVerification\":\"strict\"")),
		DOC(LEVEL("strict", ",\"override\":{\"expiry\":true}")),
		DOC(LEVEL("strict", ",\"override\":[]")),
		"{\"version\":\"1.0\",\"trustPolicies\":{}}",
		"{\"version\":\"1.0\",\"trustPolicies\":[1]}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		sigil_error e = parse_fail(bad[i]);
		CHECK_INTEQ(e.category, SIGIL_ERR_MALFORMED);
		CHECK_CONTAINS(e.message, "malformed trust policy");
		if (e.category != SIGIL_ERR_MALFORMED)
			fprintf(stderr, "    input: %s\n", bad[i]);
	}
	sigil_error e = parse_fail(DOC(STMT(",\"trustStores\":[1]")));
	CHECK_CONTAINS(e.message, "trustPolicies[0].trustStores: expected an array of strings");

	/* size bound */
	size_t big = (size_t)SIGIL_MAX_POLICY_SIZE + 1;
	uint8_t *buf = malloc(big);
	if (buf) {
		memset(buf, ' ', big);
		sigil_policy *p = NULL;
		sigil_error err = SIGIL_ERROR_INIT;
		CHECK(sigil_policy_parse(&p, buf, big, &err) == SIGIL_STATUS_ERROR);
		CHECK_INTEQ(err.category, SIGIL_ERR_LIMIT);
		CHECK(p == NULL);
		free(buf);
	}
}

static void test_go_decoding(void)
{
	/* Go encoding/json: case-insensitive keys, unknown fields ignored,
	 * null = absent; the input need not be NUL-terminated */
	const char *json = "{\"VERSION\":\"1.0\",\"extra\":{\"x\":[1,2]},\"TrustPolicies\":[{"
		"\"Name\":\"n\",\"REGISTRYSCOPES\":[\"r.io/a\"],\"signatureverification\":{\"Level\":"
		"\"audit\",\"OVERRIDE\":{\"expiry\":\"enforce\"},\"VerifyTimestamp\":null,\"what\":1},"
		"\"truststores\":[\"ca:main\"],\"TRUSTEDIDENTITIES\":[\"*\"],\"comment\":\"hi\"}]}";
	sigil_policy *p;
	size_t len = strlen(json);
	char *exact = malloc(len);
	if (!exact)
		return;
	memcpy(exact, json, len);
	sigil_error err = SIGIL_ERROR_INIT;
	p = NULL;
	CHECK(sigil_policy_parse(&p, (const uint8_t *)exact, len, &err) == SIGIL_STATUS_OK);
	free(exact);
	const sigil_policy_statement *st = only(p);
	CHECK(st != NULL);
	if (st) {
		CHECK_STREQ(sigil_statement_name(st), "n");
		CHECK_INTEQ(sigil_statement_level(st), SIGIL_LEVEL_AUDIT);
		CHECK_INTEQ(sigil_statement_action(st, SIGIL_CHECK_EXPIRY), SIGIL_ACTION_ENFORCE);
		CHECK_INTEQ(st->store_count, 1);
	}
	sigil_policy_free(p);

	/* U+017F LATIN SMALL LETTER LONG S folds to 's' in Go's EqualFold */
	EXPECT_OK("{\"version\":\"1.0\",\"tru\xc5\xbftPolicies\":[" STMT("") "]}", p);
	sigil_policy_free(p);
	/* a near miss is an unknown field, so the statements are absent */
	EXPECT_POLICY_ERR("{\"version\":\"1.0\",\"trust_policies\":[" STMT("") "]}",
		"zero trust policy statements");
	/* later case-variant key wins */
	EXPECT_OK(DOC(STMT(",\"NAME\":\"later\"")), p);
	CHECK_STREQ(sigil_statement_name(only(p)), "later");
	sigil_policy_free(p);
	/* override maps merge across case-variant keys, as Go decodes into a
	 * non-nil map */
	EXPECT_OK(DOC(STMT(",\"signatureVerification\":{\"level\":\"strict\",\"override\":"
		"{\"expiry\":\"log\"},\"Override\":{\"revocation\":\"log\"}}")), p);
	CHECK_INTEQ(sigil_statement_action(only(p), SIGIL_CHECK_EXPIRY), SIGIL_ACTION_LOG);
	CHECK_INTEQ(sigil_statement_action(only(p), SIGIL_CHECK_REVOCATION), SIGIL_ACTION_LOG);
	sigil_policy_free(p);
}

static void test_select(void)
{
	sigil_policy *p;
	EXPECT_OK(DOC(STMT_X("wild", "*", "") "," STMT_X("a", "r.io/a", "") ","
		"{\"name\":\"bc\",\"registryScopes\":[\"r.io/b\",\"r.io/c\"],\"signatureVerification\":"
		"{\"level\":\"audit\"},\"trustStores\":[\"ca:x\"],\"trustedIdentities\":[\"*\"]}"), p);
	if (!p)
		return;
	const sigil_policy_statement *st = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigil_policy_select(p, "r.io/a", &st, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(sigil_statement_name(st), "a");
	CHECK(sigil_policy_select(p, "r.io/c", &st, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(sigil_statement_name(st), "bc");
	CHECK(sigil_policy_select(p, "r.io/d", &st, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(sigil_statement_name(st), "wild");
	/* no expansion: a prefix or different case is not a match */
	CHECK(sigil_policy_select(p, "r.io/A", &st, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(sigil_statement_name(st), "wild");
	sigil_policy_free(p);

	EXPECT_OK(DOC(STMT_X("a", "r.io/a", "")), p);
	if (!p)
		return;
	st = NULL;
	CHECK(sigil_policy_select(p, "r.io/ab", &st, &err) == SIGIL_STATUS_ERROR);
	CHECK(st == NULL);
	CHECK_INTEQ(err.category, SIGIL_ERR_POLICY);
	CHECK_STREQ(err.message, "artifact \"r.io/ab\" has no applicable trust policy statement. "
		"Trust policy applicability for a given artifact is determined by registryScopes. To "
		"create a trust policy, see: https://notaryproject.dev/docs/quickstart/#create-a-trust-policy");
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(sigil_policy_select(p, NULL, &st, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_USAGE);
	sigil_policy_free(p);
}

static void test_names_api(void)
{
	CHECK_STREQ(sigil_level_name(SIGIL_LEVEL_STRICT), "strict");
	CHECK_STREQ(sigil_level_name(SIGIL_LEVEL_PERMISSIVE), "permissive");
	CHECK_STREQ(sigil_level_name(SIGIL_LEVEL_AUDIT), "audit");
	CHECK_STREQ(sigil_level_name(SIGIL_LEVEL_SKIP), "skip");
	CHECK_STREQ(sigil_action_name(SIGIL_ACTION_ENFORCE), "enforce");
	CHECK_STREQ(sigil_action_name(SIGIL_ACTION_LOG), "log");
	CHECK_STREQ(sigil_action_name(SIGIL_ACTION_SKIP), "skip");
	CHECK_STREQ(sigil_check_name(SIGIL_CHECK_INTEGRITY), "integrity");
	CHECK_STREQ(sigil_check_name(SIGIL_CHECK_AUTHENTICITY), "authenticity");
	CHECK_STREQ(sigil_check_name(SIGIL_CHECK_TRUSTED_IDENTITY), "trusted-identity");
	CHECK_STREQ(sigil_check_name(SIGIL_CHECK_EXPIRY), "expiry");
	CHECK_STREQ(sigil_check_name(SIGIL_CHECK_AUTHENTIC_TIMESTAMP), "authentic-timestamp");
	CHECK_STREQ(sigil_check_name(SIGIL_CHECK_REVOCATION), "revocation");
	CHECK_STREQ(sigil_check_name(SIGIL_CHECK_PLUGIN), "plugin");
	CHECK_STREQ(sigil_check_name(SIGIL_CHECK_USER_METADATA), "user-metadata");
	CHECK_STREQ(sigil_check_name(SIGIL_CHECK__COUNT), "unknown");
	/* a bad check fails closed */
	CHECK_INTEQ(sigil_statement_action(NULL, SIGIL_CHECK_EXPIRY), SIGIL_ACTION_ENFORCE);
}

/* ---- loading ---------------------------------------------------------- */

static void write_file(const char *dir, const char *name, const char *content)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(2);
	}
	fputs(content, f);
	fclose(f);
}

static void rm_rf(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			rm_rf(path);
		else
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

#define POLICY_A DOC(STMT_X("from-json", "r.io/a", ""))
#define POLICY_B DOC(STMT_X("from-oci-json", "r.io/a", ""))

static void test_load(void)
{
	char tmpl[] = "/tmp/sigil-policy-XXXXXX";
	char *dir = mkdtemp(tmpl);
	CHECK(dir != NULL);
	if (!dir)
		return;
	char path[4096];
	sigil_policy *p = NULL;
	sigil_error err = SIGIL_ERROR_INIT;

	/* nothing there */
	CHECK(sigil_policy_load(&p, dir, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_POLICY);
	CHECK_STREQ(err.message, "trust policy is not present. To create a trust policy, see: "
		"https://notaryproject.dev/docs/quickstart/#create-a-trust-policy");
	CHECK(p == NULL);

	/* trustpolicy.json alone */
	write_file(dir, "trustpolicy.json", POLICY_A);
	CHECK(sigil_policy_load(&p, dir, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(sigil_statement_name(sigil_policy_statement_get(p, 0)), "from-json");
	snprintf(path, sizeof path, "%s/trustpolicy.json", dir);
	CHECK_STREQ(sigil_policy_path(p), path);
	sigil_policy_free(p);
	p = NULL;

	/* trustpolicy.oci.json wins */
	write_file(dir, "trustpolicy.oci.json", POLICY_B);
	CHECK(sigil_policy_load(&p, dir, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(sigil_statement_name(sigil_policy_statement_get(p, 0)), "from-oci-json");
	snprintf(path, sizeof path, "%s/trustpolicy.oci.json", dir);
	CHECK_STREQ(sigil_policy_path(p), path);
	sigil_policy_free(p);
	p = NULL;

	/* an invalid trustpolicy.oci.json is final: no fallback */
	write_file(dir, "trustpolicy.oci.json", "{\"version\":\"1.0\",\"trustPolicies\":[]}");
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(sigil_policy_load(&p, dir, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_POLICY);
	CHECK_CONTAINS(err.message, "zero trust policy statements");
	write_file(dir, "trustpolicy.oci.json", "{\"version\":");
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(sigil_policy_load(&p, dir, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_MALFORMED);
	CHECK_CONTAINS(err.message, "malformed trust policy");

	/* a symlinked trustpolicy.oci.json is rejected, not skipped */
	snprintf(path, sizeof path, "%s/trustpolicy.oci.json", dir);
	unlink(path);
	CHECK(symlink("trustpolicy.json", path) == 0);
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(sigil_policy_load(&p, dir, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_POLICY);
	CHECK_CONTAINS(err.message, "trust policy is not a regular file (symlinks are not supported)");
	CHECK(p == NULL);
	unlink(path);

	/* a dangling symlink too */
	CHECK(symlink("does-not-exist", path) == 0);
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(sigil_policy_load(&p, dir, &err) == SIGIL_STATUS_ERROR);
	CHECK_CONTAINS(err.message, "not a regular file");
	unlink(path);

	/* a directory */
	CHECK(mkdir(path, 0700) == 0);
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(sigil_policy_load(&p, dir, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_POLICY);
	CHECK_CONTAINS(err.message, "not a regular file");
	rmdir(path);

	/* symlinked trustpolicy.json */
	char target[4096];
	snprintf(target, sizeof target, "%s/real.json", dir);
	write_file(dir, "real.json", POLICY_A);
	snprintf(path, sizeof path, "%s/trustpolicy.json", dir);
	unlink(path);
	CHECK(symlink(target, path) == 0);
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(sigil_policy_load(&p, dir, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_POLICY);
	CHECK_CONTAINS(err.message, "not a regular file");
	unlink(path);

	/* too large */
	FILE *f = fopen(path, "wb");
	if (f) {
		char spaces[1024];
		memset(spaces, ' ', sizeof spaces);
		fputs(POLICY_A, f);
		for (size_t i = 0; i < SIGIL_MAX_POLICY_SIZE / 1024 + 1; i++)
			fwrite(spaces, 1, sizeof spaces, f);
		fclose(f);
	}
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(sigil_policy_load(&p, dir, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_LIMIT);

	/* permissions (meaningless as root) */
	write_file(dir, "trustpolicy.json", POLICY_A);
	if (geteuid() != 0) {
		chmod(path, 0);
		err = (sigil_error)SIGIL_ERROR_INIT;
		CHECK(sigil_policy_load(&p, dir, &err) == SIGIL_STATUS_ERROR);
		CHECK_INTEQ(err.category, SIGIL_ERR_IO);
		CHECK_CONTAINS(err.message, "unable to read trust policy due to file permissions");
	}
	rm_rf(dir);
}

/* ---- the corpora ------------------------------------------------------ */

/* Every corpus policy parses, except the two conformance cases whose
 * verdict is an invalid policy. */
static void check_corpus_policy(const char *path, const char *case_name, bool conformance)
{
	size_t len;
	unsigned char *buf = check_read_file(path, &len);
	sigil_policy *p = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	sigil_status rc = sigil_policy_parse(&p, buf, len, &err);
	free(buf);
	sigil_policy_free(p);
	if (conformance && strncmp(case_name, "035-", 4) == 0) {
		CHECK(rc == SIGIL_STATUS_ERROR);
		CHECK_INTEQ(err.category, SIGIL_ERR_POLICY);
		CHECK_CONTAINS(err.message, "is set to skip signature verification but configured with "
			"trust stores and/or trusted identities");
	} else if (conformance && strncmp(case_name, "036-", 4) == 0) {
		CHECK(rc == SIGIL_STATUS_ERROR);
		CHECK_INTEQ(err.category, SIGIL_ERR_POLICY);
		CHECK_CONTAINS(err.message, "invalid signature verification level \"paranoid\"");
	} else {
		CHECK(rc == SIGIL_STATUS_OK);
		if (rc != SIGIL_STATUS_OK)
			fprintf(stderr, "    %s: %s\n", path, err.message);
	}
}

static void test_corpus_policies(void)
{
	static const char *const corpora[] = { "conformance", "adversarial" };
	static const char *const files[] = { "trustpolicy.json", "trustpolicy.oci.json" };
	size_t seen = 0;
	for (size_t c = 0; c < 2; c++) {
		char base[4096];
		snprintf(base, sizeof base, "%s/corpus/%s/cases", SIGIL_TEST_DATA, corpora[c]);
		DIR *d = opendir(base);
		CHECK(d != NULL);
		if (!d)
			continue;
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			for (size_t f = 0; f < 2; f++) {
				char path[4096 + 300];
				snprintf(path, sizeof path, "%s/%s/%s", base, e->d_name, files[f]);
				struct stat st;
				if (stat(path, &st) != 0)
					continue;
				check_corpus_policy(path, e->d_name, c == 0);
				seen++;
			}
		}
		closedir(d);
	}
	CHECK(seen > 100);
}

int main(void)
{
	RUN(test_valid_minimal);
	RUN(test_version);
	RUN(test_zero_statements);
	RUN(test_names);
	RUN(test_level);
	RUN(test_level_table);
	RUN(test_overrides);
	RUN(test_verify_timestamp);
	RUN(test_skip);
	RUN(test_missing_stores_identities);
	RUN(test_stores);
	RUN(test_identities);
	RUN(test_scopes);
	RUN(test_multiple_problems);
	RUN(test_malformed);
	RUN(test_go_decoding);
	RUN(test_select);
	RUN(test_names_api);
	RUN(test_load);
	RUN(test_corpus_policies);
	return check_summary();
}
