/* test-verify.c - the verification flow (verify.c) end to end over corpus
 * cases, with the options the CLI does not vary: verification time,
 * signature limit, user metadata, and invalid requests. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sigil/sigil.h>
#include "check.h"

#define CASES SIGIL_TEST_DATA "/corpus/conformance/cases"

/* case_dir - the conformance case whose name ends with `suffix` */
static const char *case_dir(const char *suffix)
{
	static char path[4][1024];
	static int slot;
	DIR *d = opendir(CASES);
	if (!d) {
		fprintf(stderr, "cannot open %s\n", CASES);
		exit(2);
	}
	struct dirent *e;
	char *out = path[slot++ % 4];
	out[0] = 0;
	while ((e = readdir(d))) {
		/* case folders are "<NNN>-<name>" */
		const char *dash = strchr(e->d_name, '-');
		if (dash && strcmp(dash + 1, suffix) == 0) {
			snprintf(out, 1024, "%s/%s", CASES, e->d_name);
			break;
		}
	}
	closedir(d);
	if (!out[0]) {
		fprintf(stderr, "no conformance case named *-%s\n", suffix);
		exit(2);
	}
	return out;
}

static void read_line(const char *dir, const char *file, char *out, size_t cap)
{
	char path[1200];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	size_t len = 0;
	unsigned char *buf = check_read_file(path, &len);
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = 0;
	snprintf(out, cap, "%s", (char *)buf);
	free(buf);
}

typedef struct run {
	sigil_result *result;
	sigil_status status;
	sigil_error err;
} run;

/* verify case `suffix`; opts may carry now/max/user metadata */
static run verify_case(const char *suffix, sigil_verify_options *opts)
{
	run r = { NULL, SIGIL_STATUS_ERROR, SIGIL_ERROR_INIT };
	const char *dir = case_dir(suffix);
	char ref[512], digest[256], layout[1200];
	read_line(dir, "reference", ref, sizeof ref);
	read_line(dir, "digest", digest, sizeof digest);
	*strrchr(ref, '@') = 0;
	snprintf(layout, sizeof layout, "%s/layout", dir);
	sigil_verifier *v = NULL;
	sigil_source *src = NULL;
	if (sigil_verifier_new(&v, dir, &r.err) != SIGIL_STATUS_OK ||
	    sigil_source_oci_layout_open(&src, layout, &r.err) != SIGIL_STATUS_OK) {
		fprintf(stderr, "setup of %s failed: %s\n", suffix, r.err.message);
		sigil_verifier_free(v);
		return r;
	}
	opts->scope = opts->scope ? opts->scope : ref;
	opts->digest = opts->digest ? opts->digest : digest;
	r.status = sigil_verify(v, src, opts, &r.result, &r.err);
	opts->scope = NULL;
	opts->digest = NULL;
	sigil_source_free(src);
	sigil_verifier_free(v);
	return r;
}

static const sigil_signature_result *sig0(const run *r)
{
	return r->result ? sigil_result_signature_get(r->result, 0) : NULL;
}

static void test_valid_signature_passes(void)
{
	sigil_verify_options o = SIGIL_VERIFY_OPTIONS_INIT;
	run r = verify_case("jws-rsa2048-valid", &o);
	CHECK(r.status == SIGIL_STATUS_OK);
	CHECK(r.result && sigil_result_verdict(r.result) == SIGIL_VERDICT_PASS);
	CHECK(r.result && sigil_result_failure(r.result) == SIGIL_FAILURE_NONE);
	CHECK_INTEQ(r.result ? sigil_result_signature_count(r.result) : 0, 1);
	const sigil_signature_result *s = sig0(&r);
	CHECK(s && sigil_signature_result_outcome(s, SIGIL_CHECK_INTEGRITY) == SIGIL_OUTCOME_PASS);
	CHECK(s && sigil_signature_result_outcome(s, SIGIL_CHECK_AUTHENTICITY) == SIGIL_OUTCOME_PASS);
	CHECK(s && sigil_signature_result_failed_check(s) == SIGIL_CHECK__COUNT);
	CHECK_CONTAINS(s ? sigil_signature_result_signer(s) : NULL, "CN=");
	/* strict, nothing failed: nothing logged in the reason */
	CHECK(r.result && !strstr(sigil_result_reason(r.result), "logged"));
	/* the verdict may be cached until the first certificate expires */
	CHECK(r.result && sigil_result_valid_until(r.result) > 1700000000);
	CHECK(r.result && sigil_result_valid_until(r.result) < INT64_MAX);
	char *json = NULL;
	sigil_error e = SIGIL_ERROR_INIT;
	CHECK(r.result && sigil_result_to_json(r.result, &json, &e) == SIGIL_STATUS_OK);
	CHECK_CONTAINS(json, "\"verdict\": \"pass\"");
	free(json);
	sigil_result_free(r.result);
}

static void test_certificate_expired_in_future(void)
{
	sigil_verify_options o = SIGIL_VERIFY_OPTIONS_INIT;
	o.now = 4102444800; /* 2100-01-01: every certificate has expired */
	run r = verify_case("jws-rsa2048-valid", &o);
	CHECK(r.status == SIGIL_STATUS_OK);
	CHECK(r.result && sigil_result_verdict(r.result) == SIGIL_VERDICT_FAIL);
	CHECK(r.result && sigil_result_failure(r.result) == SIGIL_FAILURE_SIGNATURES);
	const sigil_signature_result *s = sig0(&r);
	CHECK(s && sigil_signature_result_failed_check(s) == SIGIL_CHECK_AUTHENTIC_TIMESTAMP);
	CHECK_CONTAINS(s ? sigil_signature_result_message(s, SIGIL_CHECK_AUTHENTIC_TIMESTAMP) : NULL,
		"verification time is after certificate");
	CHECK_CONTAINS(r.result ? sigil_result_reason(r.result) : NULL,
		"authentic-timestamp check failed on signature sha256:");
	sigil_result_free(r.result);
}

static void test_certificate_not_yet_valid(void)
{
	sigil_verify_options o = SIGIL_VERIFY_OPTIONS_INIT;
	o.now = 631152000; /* 1990 */
	run r = verify_case("cose-ec-p256-valid", &o);
	const sigil_signature_result *s = sig0(&r);
	CHECK(s && sigil_signature_result_failed_check(s) == SIGIL_CHECK_AUTHENTIC_TIMESTAMP);
	CHECK_CONTAINS(s ? sigil_signature_result_message(s, SIGIL_CHECK_AUTHENTIC_TIMESTAMP) : NULL,
		"verification time is before certificate");
	sigil_result_free(r.result);
}

static void test_unsigned_is_no_signature(void)
{
	sigil_verify_options o = SIGIL_VERIFY_OPTIONS_INIT;
	run r = verify_case("unsigned", &o);
	CHECK(r.status == SIGIL_STATUS_OK);
	CHECK(r.result && sigil_result_failure(r.result) == SIGIL_FAILURE_NO_SIGNATURE);
	CHECK_CONTAINS(r.result ? sigil_result_reason(r.result) : NULL, "no signature is associated with");
	CHECK_INTEQ(r.result ? sigil_result_signature_count(r.result) : 99, 0);
	sigil_result_free(r.result);
}

static void test_no_applicable_policy(void)
{
	sigil_verify_options o = SIGIL_VERIFY_OPTIONS_INIT;
	o.scope = "registry.example/not/in/policy";
	run r = verify_case("jws-rsa2048-valid", &o);
	CHECK(r.status == SIGIL_STATUS_OK);
	CHECK(r.result && sigil_result_failure(r.result) == SIGIL_FAILURE_NO_POLICY);
	CHECK_CONTAINS(r.result ? sigil_result_reason(r.result) : NULL, "no applicable trust policy");
	sigil_result_free(r.result);
}

static void test_signature_limit(void)
{
	/* two failing signatures: with a limit of one, notation stops with
	 * "signature evaluation stopped" (§4.2 step 5) */
	sigil_verify_options o = SIGIL_VERIFY_OPTIONS_INIT;
	o.max_signatures = 1;
	run r = verify_case("multi-all-bad", &o);
	CHECK(r.result && sigil_result_verdict(r.result) == SIGIL_VERDICT_FAIL);
	CHECK(r.result && sigil_result_failure(r.result) == SIGIL_FAILURE_LIMIT);
	CHECK_CONTAINS(r.result ? sigil_result_reason(r.result) : NULL, "configured limit of 1 signatures");
	sigil_result_free(r.result);
	sigil_verify_options o2 = SIGIL_VERIFY_OPTIONS_INIT;
	run r2 = verify_case("multi-all-bad", &o2);
	CHECK(r2.result && sigil_result_failure(r2.result) == SIGIL_FAILURE_SIGNATURES);
	CHECK_INTEQ(r2.result ? sigil_result_signature_count(r2.result) : 0, 2);
	CHECK_CONTAINS(r2.result ? sigil_result_reason(r2.result) : NULL, "(and 1 more signature failed)");
	sigil_result_free(r2.result);
}

static void test_user_metadata(void)
{
	const char *k[] = { "env" }, *good[] = { "prod" }, *bad[] = { "staging" }, *nokey[] = { "buildid" };
	sigil_verify_options o = SIGIL_VERIFY_OPTIONS_INIT;
	o.user_metadata_keys = k;
	o.user_metadata_values = good;
	o.user_metadata_count = 1;
	run r = verify_case("user-metadata-match", &o);
	CHECK(r.result && sigil_result_verdict(r.result) == SIGIL_VERDICT_PASS);
	sigil_result_free(r.result);
	o.user_metadata_values = bad;
	r = verify_case("user-metadata-match", &o);
	const sigil_signature_result *s = sig0(&r);
	CHECK(s && sigil_signature_result_failed_check(s) == SIGIL_CHECK_USER_METADATA);
	CHECK_CONTAINS(s ? sigil_signature_result_message(s, SIGIL_CHECK_USER_METADATA) : NULL,
		"unable to find specified metadata in the signature");
	sigil_result_free(r.result);
	o.user_metadata_keys = nokey;
	o.user_metadata_values = good;
	r = verify_case("user-metadata-match", &o);
	s = sig0(&r);
	CHECK(s && sigil_signature_result_failed_check(s) == SIGIL_CHECK_USER_METADATA);
	sigil_result_free(r.result);
}

static void test_skip_level_needs_no_signature(void)
{
	sigil_verify_options o = SIGIL_VERIFY_OPTIONS_INIT;
	run r = verify_case("skip-level-unsigned", &o);
	CHECK(r.result && sigil_result_verdict(r.result) == SIGIL_VERDICT_PASS);
	CHECK(r.result && sigil_result_level(r.result) == SIGIL_LEVEL_SKIP);
	CHECK_CONTAINS(r.result ? sigil_result_reason(r.result) : NULL, "skip signature verification");
	sigil_result_free(r.result);
}

static void test_invalid_requests(void)
{
	sigil_verify_options o = SIGIL_VERIFY_OPTIONS_INIT;
	o.digest = "sha256:nothex";
	run r = verify_case("jws-rsa2048-valid", &o);
	CHECK(r.status == SIGIL_STATUS_ERROR);
	CHECK(r.err.category == SIGIL_ERR_MALFORMED);
	CHECK(r.result == NULL);
	sigil_verify_options o2 = SIGIL_VERIFY_OPTIONS_INIT;
	o2.max_signatures = 1000000;
	r = verify_case("jws-rsa2048-valid", &o2);
	CHECK(r.status == SIGIL_STATUS_ERROR);
	CHECK(r.err.category == SIGIL_ERR_USAGE);
	sigil_verify_options o3 = SIGIL_VERIFY_OPTIONS_INIT;
	o3.version = 99;
	r = verify_case("jws-rsa2048-valid", &o3);
	CHECK(r.status == SIGIL_STATUS_ERROR && r.err.category == SIGIL_ERR_USAGE);
}

static void test_unknown_artifact_is_retrieval_failure(void)
{
	sigil_verify_options o = SIGIL_VERIFY_OPTIONS_INIT;
	o.digest = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
	run r = verify_case("jws-rsa2048-valid", &o);
	CHECK(r.status == SIGIL_STATUS_OK);
	CHECK(r.result && sigil_result_failure(r.result) == SIGIL_FAILURE_RETRIEVAL);
	sigil_result_free(r.result);
}

static void test_bad_trust_store_fails_authenticity(void)
{
	/* a policy naming a trust store that does not exist: the configuration
	 * loads (with a warning) and authenticity fails, as in notation */
	sigil_verifier *v = NULL;
	sigil_error e = SIGIL_ERROR_INIT;
	CHECK(sigil_verifier_new(&v, case_dir("policy-missing-truststore"), &e) == SIGIL_STATUS_OK);
	CHECK(v && sigil_verifier_warning_count(v) >= 1);
	CHECK_CONTAINS(v ? sigil_verifier_warning_get(v, 0) : NULL, "does not exist");
	sigil_verifier_free(v);
	sigil_verify_options o = SIGIL_VERIFY_OPTIONS_INIT;
	run r = verify_case("policy-missing-truststore", &o);
	const sigil_signature_result *s = sig0(&r);
	CHECK(s && sigil_signature_result_failed_check(s) == SIGIL_CHECK_AUTHENTICITY);
	CHECK(s && sigil_signature_result_category(s, SIGIL_CHECK_AUTHENTICITY) == SIGIL_ERR_POLICY);
	CHECK_CONTAINS(s ? sigil_signature_result_message(s, SIGIL_CHECK_AUTHENTICITY) : NULL,
		"error while loading the trust store");
	sigil_result_free(r.result);
	/* a trust store holding a non-CA leaf */
	sigil_verify_options o2 = SIGIL_VERIFY_OPTIONS_INIT;
	r = verify_case("trust-leaf-only", &o2);
	s = sig0(&r);
	CHECK(s && sigil_signature_result_failed_check(s) == SIGIL_CHECK_AUTHENTICITY);
	CHECK_CONTAINS(s ? sigil_signature_result_message(s, SIGIL_CHECK_AUTHENTICITY) : NULL,
		"not a CA certificate or self-signed");
	sigil_result_free(r.result);
	/* no configuration at all is an error */
	sigil_error e3 = SIGIL_ERROR_INIT;
	CHECK(sigil_verifier_new(&v, "/nonexistent-sigil-config", &e3) == SIGIL_STATUS_ERROR);
	CHECK(e3.category == SIGIL_ERR_POLICY || e3.category == SIGIL_ERR_IO);
	CHECK_CONTAINS(e3.message, "trust policy is not present");
}

static void test_missing_store_at_audit_is_logged(void)
{
	/* notation logs an authenticity failure under audit, whatever caused
	 * it, a trust store that cannot be loaded included (§4.1, §4.4.2) */
	char dir[] = "/tmp/sigil-test-verify-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	const char *valid = case_dir("jws-rsa2048-valid");
	char ref[512], digest[256], path[1200], layout[1200];
	read_line(valid, "reference", ref, sizeof ref);
	read_line(valid, "digest", digest, sizeof digest);
	*strrchr(ref, '@') = 0;
	snprintf(path, sizeof path, "%s/trustpolicy.json", dir);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fprintf(f, "{\"version\":\"1.0\",\"trustPolicies\":[{\"name\":\"p\",\"registryScopes\":[\"%s\"],"
		"\"signatureVerification\":{\"level\":\"audit\"},\"trustStores\":[\"ca:absent\"],"
		"\"trustedIdentities\":[\"*\"]}]}", ref);
	fclose(f);
	sigil_verifier *v = NULL;
	sigil_source *src = NULL;
	sigil_result *res = NULL;
	sigil_error e = SIGIL_ERROR_INIT;
	snprintf(layout, sizeof layout, "%s/layout", valid);
	CHECK(sigil_verifier_new(&v, dir, &e) == SIGIL_STATUS_OK);
	CHECK(sigil_source_oci_layout_open(&src, layout, &e) == SIGIL_STATUS_OK);
	sigil_verify_options o = SIGIL_VERIFY_OPTIONS_INIT;
	o.scope = ref;
	o.digest = digest;
	CHECK(v && src && sigil_verify(v, src, &o, &res, &e) == SIGIL_STATUS_OK);
	CHECK(res && sigil_result_verdict(res) == SIGIL_VERDICT_PASS);
	const sigil_signature_result *s = res ? sigil_result_signature_get(res, 0) : NULL;
	CHECK(s && sigil_signature_result_outcome(s, SIGIL_CHECK_AUTHENTICITY) == SIGIL_OUTCOME_FAIL);
	CHECK(s && sigil_signature_result_action(s, SIGIL_CHECK_AUTHENTICITY) == SIGIL_ACTION_LOG);
	/* the allow's reason (sigild's audit record) names what was logged */
	CHECK_CONTAINS(res ? sigil_result_reason(res) : NULL,
		"(audit), signed by \"");
	CHECK_CONTAINS(res ? sigil_result_reason(res) : NULL,
		"; authenticity check failed (logged, not enforced): ");
	sigil_result_free(res);
	sigil_source_free(src);
	sigil_verifier_free(v);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	RUN(test_valid_signature_passes);
	RUN(test_certificate_expired_in_future);
	RUN(test_certificate_not_yet_valid);
	RUN(test_unsigned_is_no_signature);
	RUN(test_no_applicable_policy);
	RUN(test_signature_limit);
	RUN(test_user_metadata);
	RUN(test_skip_level_needs_no_signature);
	RUN(test_invalid_requests);
	RUN(test_unknown_artifact_is_retrieval_failure);
	RUN(test_bad_trust_store_fails_authenticity);
	RUN(test_missing_store_at_audit_is_logged);
	return check_summary();
}
