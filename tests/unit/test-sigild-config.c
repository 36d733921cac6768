/* test-sigild-config.c - sigild.json: defaults, every key, every kind of
 * invalid value, unknown keys, the file loader, and the shipped defaults
 * file (packaging/sigild.json) agreeing with sigild_config_defaults. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "config.h"

static sigil_status parse_str(sigild_config *c, const char *json, sigil_error *err)
{
	return sigild_config_parse(c, (const uint8_t *)json, strlen(json), err);
}

/* expect_error - json applied over defaults fails with cat and a message
 * containing want; the configuration is left untouched */
static void expect_error(const char *json, sigil_category cat, const char *want)
{
	sigild_config c;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigild_config_defaults(&c, &err) == SIGIL_STATUS_OK);
	CHECK(parse_str(&c, json, &err) == SIGIL_STATUS_ERROR);
	if (err.category != cat)
		fprintf(stderr, "  for %s\n", json);
	CHECK_INTEQ(err.category, cat);
	CHECK_CONTAINS(err.message, want);
	/* outputs untouched on failure */
	CHECK_STREQ(c.socket, SIGILD_DEFAULT_SOCKET);
	CHECK_INTEQ(c.cache_deny_ttl_s, 10);
	CHECK_INTEQ(c.allow_count, 0);
	sigild_config_clear(&c);
}

static void test_defaults(void)
{
	sigild_config c;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigild_config_defaults(&c, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(c.socket, "/run/sigil/sigild.sock");
	CHECK_STREQ(c.config_dir, "/etc/sigil");
	CHECK_STREQ(c.registry_config, "/etc/containerd/certs.d");
	CHECK(c.docker_config == NULL);
	CHECK(c.credential_provider_config == NULL);
	CHECK(c.credential_provider_bin_dir == NULL);
	CHECK_STREQ(c.state_dir, "/var/lib/sigil");
	CHECK_STREQ(c.audit_log, "");
	CHECK_STREQ(c.revocation_seed_dir, "");
	CHECK_INTEQ(c.audit_format, SIGILD_AUDIT_JSON);
	CHECK_INTEQ(c.mode, SIGILD_MODE_ENFORCE);
	CHECK(!c.plain_http);
	CHECK_INTEQ(c.max_signatures, 100);
	CHECK_INTEQ(c.cache_entries, 10000);
	CHECK_INTEQ(c.cache_max_ttl_s, 3600);
	CHECK_INTEQ(c.cache_deny_ttl_s, 10);
	CHECK_INTEQ(c.verify_timeout_ms, 7500);
	CHECK_INTEQ(c.request_timeout_ms, 3000);
	CHECK_INTEQ(c.workers, 8);
	CHECK_INTEQ(c.allow_count, 0);
	CHECK_STREQ(sigild_config_mode_name(c.mode), "enforce");
	CHECK(!c.revocation_allow_https);
	CHECK_INTEQ(c.revocation_ocsp_timeout_ms, 2000);
	CHECK_INTEQ(c.revocation_crl_timeout_ms, 5000);
	/* an empty object changes nothing */
	CHECK(parse_str(&c, " {} \n", &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(c.socket, "/run/sigil/sigild.sock");
	sigild_config_clear(&c);
	sigild_config_clear(&c); /* idempotent */
}

static void test_every_key(void)
{
	const char *json =
		"{\"socket\": \"/tmp/s.sock\", \"configDir\": \"/srv/sigil\", \"registryConfig\": \"\","
		" \"dockerConfig\": \"/root/.docker/config.json\","
		" \"credentialProviderConfig\": \"/etc/kubernetes/cp.yaml\","
		" \"credentialProviderBinDir\": \"/usr/libexec/kubernetes/cp\","
		" \"stateDir\": \"/var/lib/sigil2\", \"auditLog\": \"/var/log/sigil/audit.log\","
		" \"auditFormat\": \"text\", \"mode\": \"dry-run\", \"plainHttp\": true, \"maxSignatures\": 7,"
		" \"revocationSeedDir\": \"/var/lib/sigil-seed\", \"metricsListen\": \"[::1]:0\","
		" \"revocation\": {\"allowHttps\": true, \"ocspTimeoutMs\": 700, \"crlTimeoutMs\": 900},"
		" \"cache\": {\"maxEntries\": 5, \"maxAllowSeconds\": 60, \"denySeconds\": 0},"
		" \"verifyTimeoutMs\": 4000, \"requestTimeoutMs\": 1500, \"workers\": 3,"
		" \"allowDigests\": [\"sha256:" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\","
		"   \"sha512:" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"]}";
	sigild_config c;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigild_config_defaults(&c, &err) == SIGIL_STATUS_OK);
	CHECK(parse_str(&c, json, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(c.socket, "/tmp/s.sock");
	CHECK_STREQ(c.config_dir, "/srv/sigil");
	CHECK_STREQ(c.registry_config, "");
	CHECK_STREQ(c.docker_config, "/root/.docker/config.json");
	CHECK_STREQ(c.credential_provider_config, "/etc/kubernetes/cp.yaml");
	CHECK_STREQ(c.credential_provider_bin_dir, "/usr/libexec/kubernetes/cp");
	CHECK_STREQ(c.state_dir, "/var/lib/sigil2");
	CHECK_STREQ(c.audit_log, "/var/log/sigil/audit.log");
	CHECK_INTEQ(c.audit_format, SIGILD_AUDIT_TEXT);
	CHECK_STREQ(c.revocation_seed_dir, "/var/lib/sigil-seed");
	CHECK_STREQ(c.metrics_listen, "[::1]:0");
	CHECK(c.revocation_allow_https);
	CHECK_INTEQ(c.revocation_ocsp_timeout_ms, 700);
	CHECK_INTEQ(c.revocation_crl_timeout_ms, 900);
	CHECK_INTEQ(c.mode, SIGILD_MODE_DRY_RUN);
	CHECK_STREQ(sigild_config_mode_name(c.mode), "dry-run");
	CHECK(c.plain_http);
	CHECK_INTEQ(c.max_signatures, 7);
	CHECK_INTEQ(c.cache_entries, 5);
	CHECK_INTEQ(c.cache_max_ttl_s, 60);
	CHECK_INTEQ(c.cache_deny_ttl_s, 0);
	CHECK_INTEQ(c.verify_timeout_ms, 4000);
	CHECK_INTEQ(c.request_timeout_ms, 1500);
	CHECK_INTEQ(c.workers, 3);
	CHECK_INTEQ(c.allow_count, 2);
	CHECK_CONTAINS(c.allow_digests[0], "sha256:0123");
	CHECK_CONTAINS(c.allow_digests[1], "sha512:0123");

	/* a copy is deep and equal */
	sigild_config d;
	CHECK(sigild_config_copy(&d, &c, &err) == SIGIL_STATUS_OK);
	CHECK(d.socket != c.socket);
	CHECK_STREQ(d.socket, c.socket);
	CHECK_STREQ(d.credential_provider_bin_dir, c.credential_provider_bin_dir);
	CHECK_INTEQ(d.allow_count, 2);
	CHECK(d.allow_digests[1] != c.allow_digests[1]);
	CHECK_STREQ(d.allow_digests[1], c.allow_digests[1]);
	CHECK_INTEQ(d.workers, 3);
	CHECK(d.revocation_seed_dir != c.revocation_seed_dir);
	CHECK_STREQ(d.revocation_seed_dir, "/var/lib/sigil-seed");
	CHECK(d.metrics_listen != c.metrics_listen);
	CHECK_STREQ(d.metrics_listen, "[::1]:0");

	/* a second document applies over the first; null unsets the
	 * nullable paths; allowDigests is replaced, not appended */
	CHECK(parse_str(&c, "{\"dockerConfig\": null, \"credentialProviderConfig\": null,"
		" \"credentialProviderBinDir\": null, \"allowDigests\": [], \"mode\": \"enforce\","
		" \"auditFormat\": \"json\", \"plainHttp\": false, \"revocationSeedDir\": \"\","
		" \"metricsListen\": \"\"}", &err) ==
		SIGIL_STATUS_OK);
	CHECK_STREQ(c.revocation_seed_dir, "");
	CHECK_STREQ(c.metrics_listen, "");
	CHECK(c.docker_config == NULL);
	CHECK(c.credential_provider_config == NULL);
	CHECK(c.credential_provider_bin_dir == NULL);
	CHECK_INTEQ(c.allow_count, 0);
	CHECK_INTEQ(c.mode, SIGILD_MODE_ENFORCE);
	CHECK_INTEQ(c.audit_format, SIGILD_AUDIT_JSON);
	CHECK(!c.plain_http);
	CHECK_STREQ(c.socket, "/tmp/s.sock");
	sigild_config_clear(&c);
	sigild_config_clear(&d);
}

static void test_bounds_accepted(void)
{
	static const char *ok[] = {
		"{\"maxSignatures\": 1}", "{\"maxSignatures\": 10000}",
		"{\"cache\": {\"maxEntries\": 1}}", "{\"cache\": {\"maxEntries\": 1000000}}",
		"{\"cache\": {\"maxAllowSeconds\": 0}}", "{\"cache\": {\"maxAllowSeconds\": 604800}}",
		"{\"cache\": {\"denySeconds\": 3600}}", "{\"cache\": {}}",
		"{\"verifyTimeoutMs\": 100}", "{\"verifyTimeoutMs\": 600000}",
		"{\"requestTimeoutMs\": 100}", "{\"requestTimeoutMs\": 600000}",
		"{\"workers\": 1}", "{\"workers\": 256}", "{\"auditLog\": \"\"}",
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		sigild_config c;
		sigil_error err = SIGIL_ERROR_INIT;
		CHECK(sigild_config_defaults(&c, &err) == SIGIL_STATUS_OK);
		sigil_status st = parse_str(&c, ok[i], &err);
		if (st != SIGIL_STATUS_OK)
			fprintf(stderr, "  %s: %s\n", ok[i], err.message);
		CHECK(st == SIGIL_STATUS_OK);
		sigild_config_clear(&c);
	}
}

static void test_invalid_values(void)
{
	/* out of range: USAGE, naming the key and the range */
	expect_error("{\"maxSignatures\": 0}", SIGIL_ERR_USAGE, "\"maxSignatures\": must be between 1 and 10000, got 0");
	expect_error("{\"maxSignatures\": 10001}", SIGIL_ERR_USAGE, "\"maxSignatures\"");
	expect_error("{\"cache\": {\"maxEntries\": 0}}", SIGIL_ERR_USAGE, "\"cache.maxEntries\": must be between 1");
	expect_error("{\"cache\": {\"maxEntries\": 1000001}}", SIGIL_ERR_USAGE, "\"cache.maxEntries\"");
	expect_error("{\"cache\": {\"maxAllowSeconds\": -1}}", SIGIL_ERR_USAGE, "\"cache.maxAllowSeconds\"");
	expect_error("{\"cache\": {\"maxAllowSeconds\": 604801}}", SIGIL_ERR_USAGE, "\"cache.maxAllowSeconds\"");
	expect_error("{\"cache\": {\"denySeconds\": -5}}", SIGIL_ERR_USAGE, "\"cache.denySeconds\": must be between 0 and 3600, got -5");
	expect_error("{\"cache\": {\"denySeconds\": 3601}}", SIGIL_ERR_USAGE, "\"cache.denySeconds\"");
	expect_error("{\"verifyTimeoutMs\": 99}", SIGIL_ERR_USAGE, "\"verifyTimeoutMs\": must be between 100 and 600000");
	expect_error("{\"verifyTimeoutMs\": 600001}", SIGIL_ERR_USAGE, "\"verifyTimeoutMs\"");
	expect_error("{\"requestTimeoutMs\": 0}", SIGIL_ERR_USAGE, "\"requestTimeoutMs\"");
	expect_error("{\"requestTimeoutMs\": 99999999999999999999999}", SIGIL_ERR_USAGE, "\"requestTimeoutMs\"");
	expect_error("{\"workers\": 0}", SIGIL_ERR_USAGE, "\"workers\"");
	expect_error("{\"workers\": 257}", SIGIL_ERR_USAGE, "\"workers\"");
	expect_error("{\"workers\": -9223372036854775808}", SIGIL_ERR_USAGE, "\"workers\"");
	/* bad enums */
	expect_error("{\"mode\": \"audit\"}", SIGIL_ERR_USAGE, "\"mode\": must be \"enforce\" or \"dry-run\", got \"audit\"");
	expect_error("{\"mode\": \"Enforce\"}", SIGIL_ERR_USAGE, "\"mode\"");
	expect_error("{\"auditFormat\": \"xml\"}", SIGIL_ERR_USAGE, "\"auditFormat\": must be \"json\" or \"text\"");
	/* bad strings */
	expect_error("{\"socket\": \"relative.sock\"}", SIGIL_ERR_USAGE, "\"socket\": must be an absolute path");
	expect_error("{\"socket\": \"\"}", SIGIL_ERR_USAGE, "\"socket\": must not be empty");
	char longsock[200];
	snprintf(longsock, sizeof longsock, "{\"socket\": \"/%0120d\"}", 0);
	expect_error(longsock, SIGIL_ERR_USAGE, "\"socket\": longer than 107 bytes");
	expect_error("{\"configDir\": \"\"}", SIGIL_ERR_USAGE, "\"configDir\": must not be empty");
	expect_error("{\"stateDir\": \"\"}", SIGIL_ERR_USAGE, "\"stateDir\"");
	expect_error("{\"revocation\": {\"ocspTimeoutMs\": 50}}", SIGIL_ERR_USAGE,
		"\"revocation.ocspTimeoutMs\": must be between 100 and 60000, got 50");
	expect_error("{\"revocation\": {\"crlTimeoutMs\": 60001}}", SIGIL_ERR_USAGE, "\"revocation.crlTimeoutMs\"");
	expect_error("{\"revocation\": {\"allowHttps\": \"yes\"}}", SIGIL_ERR_MALFORMED, "\"revocation.allowHttps\"");
	expect_error("{\"revocation\": {\"https\": true}}", SIGIL_ERR_USAGE, "unknown key \"revocation.https\"");
	expect_error("{\"revocation\": []}", SIGIL_ERR_MALFORMED, "\"revocation\": expected an object, got array");
	expect_error("{\"revocationSeedDir\": \"seed\"}", SIGIL_ERR_USAGE,
		"\"revocationSeedDir\": must be an absolute path, got \"seed\"");
	expect_error("{\"revocationSeedDir\": null}", SIGIL_ERR_MALFORMED,
		"\"revocationSeedDir\": expected a string, got null");
	expect_error("{\"revocationSeedDir\": 1}", SIGIL_ERR_MALFORMED,
		"\"revocationSeedDir\": expected a string, got int");
	expect_error("{\"revocationSeeddir\": \"/x\"}", SIGIL_ERR_USAGE, "unknown key \"revocationSeeddir\"");
	expect_error("{\"dockerConfig\": \"\"}", SIGIL_ERR_USAGE, "\"dockerConfig\": must not be empty (use null");
	expect_error("{\"configDir\": \"/a\\u0000b\"}", SIGIL_ERR_MALFORMED, "\"configDir\": NUL character");
	expect_error("{\"configDir\": null}", SIGIL_ERR_MALFORMED, "\"configDir\": expected a string, got null");
	expect_error("{\"credentialProviderConfig\": \"/etc/cp.yaml\"}", SIGIL_ERR_USAGE,
		"\"credentialProviderConfig\" is set but \"credentialProviderBinDir\" is not");
	expect_error("{\"credentialProviderBinDir\": \"/usr/lib/cp\"}", SIGIL_ERR_USAGE,
		"\"credentialProviderBinDir\" is set but \"credentialProviderConfig\" is not");
	/* wrong types: MALFORMED naming the key */
	expect_error("{\"socket\": 5}", SIGIL_ERR_MALFORMED, "\"socket\": expected a string, got int");
	expect_error("{\"registryConfig\": false}", SIGIL_ERR_MALFORMED, "\"registryConfig\": expected a string");
	expect_error("{\"auditLog\": []}", SIGIL_ERR_MALFORMED, "\"auditLog\": expected a string");
	expect_error("{\"mode\": 1}", SIGIL_ERR_MALFORMED, "\"mode\": expected a string");
	expect_error("{\"auditFormat\": null}", SIGIL_ERR_MALFORMED, "\"auditFormat\": expected a string");
	expect_error("{\"plainHttp\": \"true\"}", SIGIL_ERR_MALFORMED, "\"plainHttp\": expected true or false, got string");
	expect_error("{\"plainHttp\": 1}", SIGIL_ERR_MALFORMED, "\"plainHttp\"");
	expect_error("{\"maxSignatures\": \"100\"}", SIGIL_ERR_MALFORMED, "\"maxSignatures\": expected an integer, got string");
	expect_error("{\"maxSignatures\": 1.5}", SIGIL_ERR_MALFORMED, "\"maxSignatures\": expected an integer, got double");
	expect_error("{\"workers\": 1e2}", SIGIL_ERR_MALFORMED, "\"workers\": expected an integer");
	expect_error("{\"cache\": 5}", SIGIL_ERR_MALFORMED, "\"cache\": expected an object, got int");
	expect_error("{\"cache\": {\"denySeconds\": true}}", SIGIL_ERR_MALFORMED, "\"cache.denySeconds\": expected an integer");
	expect_error("{\"allowDigests\": \"sha256:00\"}", SIGIL_ERR_MALFORMED, "\"allowDigests\": expected an array");
	expect_error("{\"allowDigests\": [1]}", SIGIL_ERR_MALFORMED, "\"allowDigests[0]\": expected a string");
	/* allow-list entries must be canonical digests */
	expect_error("{\"allowDigests\": [\"nginx:latest\"]}", SIGIL_ERR_USAGE, "\"allowDigests[0]\": \"nginx:latest\" is not a digest");
	expect_error("{\"allowDigests\": [\"sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\"]}",
		SIGIL_ERR_USAGE, "\"allowDigests[0]\"");
	expect_error("{\"allowDigests\": [\"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\","
		" \"sha256:abc\"]}", SIGIL_ERR_USAGE, "\"allowDigests[1]\"");
	expect_error("{\"allowDigests\": [\"md5:0123456789abcdef0123456789abcdef\"]}", SIGIL_ERR_USAGE, "is not a digest");
	/* metricsListen: literal addresses with a port, checked at load */
	expect_error("{\"metricsListen\": \"localhost:9464\"}", SIGIL_ERR_USAGE,
		"\"metricsListen\": \"localhost\" is not an IPv4 address");
	expect_error("{\"metricsListen\": \"127.0.0.1\"}", SIGIL_ERR_USAGE, "\"metricsListen\"");
	expect_error("{\"metricsListen\": \"127.0.0.1:65536\"}", SIGIL_ERR_USAGE,
		"\"metricsListen\": \"65536\": port must be 0-65535");
	expect_error("{\"metricsListen\": \"127.0.0.1:\"}", SIGIL_ERR_USAGE, "port must be 0-65535");
	expect_error("{\"metricsListen\": \"[::1:9464\"}", SIGIL_ERR_USAGE, "\"metricsListen\"");
	expect_error("{\"metricsListen\": null}", SIGIL_ERR_MALFORMED, "\"metricsListen\": expected a string");
	/* unknown keys, top level and nested */
	expect_error("{\"sockett\": \"/x\"}", SIGIL_ERR_USAGE, "unknown key \"sockett\"");
	expect_error("{\"cache\": {\"maxEntrys\": 3}}", SIGIL_ERR_USAGE, "unknown key \"cache.maxEntrys\"");
	expect_error("{\"cache.maxEntries\": 3}", SIGIL_ERR_USAGE, "unknown key \"cache.maxEntries\"");
}

static void test_malformed_documents(void)
{
	expect_error("", SIGIL_ERR_MALFORMED, "invalid JSON");
	expect_error("[]", SIGIL_ERR_MALFORMED, "must be a JSON object, got array");
	expect_error("null", SIGIL_ERR_MALFORMED, "got null");
	expect_error("\"x\"", SIGIL_ERR_MALFORMED, "must be a JSON object");
	expect_error("{\"workers\": 3,}", SIGIL_ERR_MALFORMED, "invalid JSON");
	expect_error("{\"workers\": 3} {}", SIGIL_ERR_MALFORMED, "invalid JSON");
	expect_error("{/* comment */}", SIGIL_ERR_MALFORMED, "unexpected character");
	expect_error("{'workers': 3}", SIGIL_ERR_MALFORMED, "unexpected character");
	expect_error("{\"workers\": 3", SIGIL_ERR_MALFORMED, "invalid JSON");
	expect_error("{\"cache\": {\"a\": {\"b\": {\"c\": {\"d\": {\"e\": {\"f\": {\"g\": {}}}}}}}}}", SIGIL_ERR_LIMIT, "nesting deeper");
	expect_error("{\"socket\": \"/\xff\"}", SIGIL_ERR_MALFORMED, "invalid JSON");
	/* a NUL byte in the document (json-c would stop there) */
	sigild_config c;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigild_config_defaults(&c, &err) == SIGIL_STATUS_OK);
	static const uint8_t nul[] = "{}\0{\"x\":1}";
	CHECK(sigild_config_parse(&c, nul, sizeof nul - 1, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_MALFORMED);
	CHECK_CONTAINS(err.message, "NUL byte");
	/* not NUL-terminated: the parser reads exactly len bytes */
	static const uint8_t prefix[] = "{\"workers\": 12}garbage";
	CHECK(sigild_config_parse(&c, prefix, 15, &err) == SIGIL_STATUS_OK);
	CHECK_INTEQ(c.workers, 12);
	/* too large */
	size_t big = 1024 * 1024 + 1;
	uint8_t *b = malloc(big);
	memset(b, ' ', big);
	b[0] = '{';
	b[big - 1] = '}';
	CHECK(sigild_config_parse(&c, b, big, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_LIMIT);
	free(b);
	CHECK(sigild_config_parse(NULL, prefix, 2, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_USAGE);
	sigild_config_clear(&c);
}

static void write_file(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");
	if (!f)
		exit(2);
	fputs(s, f);
	fclose(f);
}

static void test_load(void)
{
	char dir[] = "/tmp/sigild-config-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char path[256];
	sigild_config c;
	sigil_error err = SIGIL_ERROR_INIT;

	/* missing default file: defaults */
	snprintf(path, sizeof path, "%s/missing.json", dir);
	CHECK(sigild_config_load(&c, path, true, &err) == SIGIL_STATUS_OK);
	CHECK_INTEQ(c.workers, 8);
	sigild_config_clear(&c);
	/* missing explicit file: an error naming it */
	CHECK(sigild_config_load(&c, path, false, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_IO);
	CHECK_CONTAINS(err.message, "missing.json");

	snprintf(path, sizeof path, "%s/sigild.json", dir);
	write_file(path, "{\"workers\": 2, \"mode\": \"dry-run\"}\n");
	CHECK(sigild_config_load(&c, path, false, &err) == SIGIL_STATUS_OK);
	CHECK_INTEQ(c.workers, 2);
	CHECK_INTEQ(c.mode, SIGILD_MODE_DRY_RUN);
	CHECK_INTEQ(c.cache_entries, 10000);
	sigild_config_clear(&c);

	/* an invalid file fails even when it is the default path, and the
	 * message names the file and the key */
	write_file(path, "{\"workers\": 2, \"bogus\": true}\n");
	CHECK(sigild_config_load(&c, path, true, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_USAGE);
	CHECK_CONTAINS(err.message, "sigild.json: unknown key \"bogus\"");

	/* a directory is not a configuration file */
	CHECK(sigild_config_load(&c, dir, false, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_IO);
	CHECK_CONTAINS(err.message, "not a regular file");

	/* the documented default file is exactly the defaults */
	CHECK(sigild_config_load(&c, SIGIL_TEST_DATA "/../packaging/sigild.json", false, &err) == SIGIL_STATUS_OK);
	sigild_config d;
	CHECK(sigild_config_defaults(&d, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(c.socket, d.socket);
	CHECK_STREQ(c.config_dir, d.config_dir);
	CHECK_STREQ(c.registry_config, d.registry_config);
	CHECK(c.docker_config == NULL && c.credential_provider_config == NULL && c.credential_provider_bin_dir == NULL);
	CHECK_STREQ(c.state_dir, d.state_dir);
	CHECK_STREQ(c.audit_log, d.audit_log);
	CHECK_STREQ(c.revocation_seed_dir, d.revocation_seed_dir);
	CHECK_STREQ(c.metrics_listen, d.metrics_listen);
	CHECK_STREQ(d.metrics_listen, "127.0.0.1:9464");
	CHECK_INTEQ(c.audit_format, d.audit_format);
	CHECK_INTEQ(c.mode, d.mode);
	CHECK_INTEQ(c.plain_http, d.plain_http);
	CHECK_INTEQ(c.max_signatures, d.max_signatures);
	CHECK_INTEQ(c.cache_entries, d.cache_entries);
	CHECK_INTEQ(c.cache_max_ttl_s, d.cache_max_ttl_s);
	CHECK_INTEQ(c.cache_deny_ttl_s, d.cache_deny_ttl_s);
	CHECK_INTEQ(c.verify_timeout_ms, d.verify_timeout_ms);
	CHECK_INTEQ(c.request_timeout_ms, d.request_timeout_ms);
	CHECK_INTEQ(c.workers, d.workers);
	CHECK_INTEQ(c.revocation_allow_https, d.revocation_allow_https);
	CHECK_INTEQ(c.revocation_ocsp_timeout_ms, d.revocation_ocsp_timeout_ms);
	CHECK_INTEQ(c.revocation_crl_timeout_ms, d.revocation_crl_timeout_ms);
	CHECK_INTEQ(c.allow_count, 0);
	sigild_config_clear(&c);
	sigild_config_clear(&d);

	/* every key of the documentation appears in the default file */
	size_t len;
	unsigned char *doc = check_read_file(SIGIL_TEST_DATA "/../packaging/sigild.json.md", &len);
	static const char *keys[] = { "socket", "configDir", "registryConfig", "dockerConfig",
		"credentialProviderConfig", "credentialProviderBinDir", "stateDir", "auditLog",
		"auditFormat", "mode", "plainHttp", "maxSignatures", "cache.maxEntries",
		"cache.maxAllowSeconds", "cache.denySeconds", "verifyTimeoutMs", "requestTimeoutMs",
		"workers", "allowDigests", "revocationSeedDir", "metricsListen", "revocation.allowHttps",
		"revocation.ocspTimeoutMs", "revocation.crlTimeoutMs" };
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		char want[64];
		snprintf(want, sizeof want, "`%s`", keys[i]);
		CHECK_CONTAINS((const char *)doc, want);
	}
	free(doc);

	unlink(path);
	rmdir(dir);
}

int main(void)
{
	RUN(test_defaults);
	RUN(test_every_key);
	RUN(test_bounds_accepted);
	RUN(test_invalid_values);
	RUN(test_malformed_documents);
	RUN(test_load);
	return check_summary();
}
