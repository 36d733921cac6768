/* test-hosts.c - containerd's registry host configuration: defaults
 * (hosts.go ConfigureHosts, including localhost), hosts.toml semantics
 * (parseHostsFile / parseHostConfig, examples from docs/hosts.md and
 * hosts_test.go), the directory lookup (hostPaths, _default) and Docker's
 * certs.d fallback (loadCertFiles). */
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "bounds.h"
#include "hosts.h"
#include "check.h"

static const unsigned ALL = SIGIL_HOST_CAP_PULL | SIGIL_HOST_CAP_RESOLVE | SIGIL_HOST_CAP_PUSH;

static void check_host(const sigil__registry_host *h, const char *scheme, const char *host, const char *path,
	unsigned caps, bool skip_verify, bool fallback)
{
	CHECK_STREQ(h->scheme, scheme);
	CHECK_STREQ(h->host, host);
	CHECK_STREQ(h->path, path);
	CHECK_INTEQ(h->caps, caps);
	CHECK_INTEQ(h->skip_verify, skip_verify);
	CHECK_INTEQ(h->http_fallback, fallback);
}

static sigil_status parse(const char *doc, const char *dir, const char *domain, int plain_http,
	sigil__registry_hosts *out, sigil_error *err)
{
	return sigil__hosts_parse((const uint8_t *)doc, strlen(doc), dir, domain, plain_http, out, err);
}

#define parse_bad(doc, cat, msg) do { \
	sigil__registry_hosts pb_h = { NULL, 0 }; \
	sigil_error pb_err = SIGIL_ERROR_INIT; \
	CHECK_INTEQ(parse((doc), "/etc/containerd/certs.d/x.io", "x.io", 0, &pb_h, &pb_err), SIGIL_STATUS_ERROR); \
	CHECK(pb_h.hosts == NULL && pb_h.count == 0); \
	CHECK_INTEQ(pb_err.category, (cat)); \
	CHECK_CONTAINS(pb_err.message, (msg)); \
	sigil__hosts_clear(&pb_h); \
} while (0)

/* ConfigureHosts without a hosts directory */
static void test_defaults(void)
{
	static const struct {
		const char *domain;
		int plain_http;
		const char *scheme, *host;
		bool skip_verify, fallback;
	} cases[] = {
		{ "docker.io", 0, "https", "registry-1.docker.io", false, false },
		{ "docker.io", 1, "https", "registry-1.docker.io", false, false },
		{ "ghcr.io", 0, "https", "ghcr.io", false, false },
		{ "example.com:5000", 0, "https", "example.com:5000", false, false },
		{ "example.com:5000", 1, "http", "example.com:5000", false, false },
		/* localhost, containerd 2.1 (hosts_test.go TestHTTPFallback) */
		{ "localhost:5000", 0, "https", "localhost:5000", true, true },
		{ "localhost:8080", 0, "https", "localhost:8080", true, true },
		{ "localhost", 0, "https", "localhost", true, false },
		{ "localhost:443", 0, "https", "localhost:443", true, false },
		{ "localhost:80", 0, "http", "localhost:80", false, false },
		{ "127.0.0.1:5000", 0, "https", "127.0.0.1:5000", true, true },
		{ "127.0.0.254:5000", 0, "https", "127.0.0.254:5000", true, true },
		{ "127.0.0.254", 0, "https", "127.0.0.254", true, false },
		{ "[::1]:5000", 0, "https", "[::1]:5000", true, true },
		{ "::1", 0, "https", "::1", true, false },
		/* not loopback: "[::1]" without a port is no IP for SplitHostPort /
		 * ParseIP; 127.01.0.1 has a leading zero; 128.0.0.1 */
		{ "[::1]", 0, "https", "[::1]", false, false },
		{ "127.01.0.1:5000", 0, "https", "127.01.0.1:5000", false, false },
		{ "128.0.0.1:5000", 0, "https", "128.0.0.1:5000", false, false },
		{ "localhost.example:5000", 0, "https", "localhost.example:5000", false, false },
		/* plain_http: containerd's DefaultScheme "http" */
		{ "localhost:5000", 1, "http", "localhost:5000", false, false },
		{ "localhost", 1, "http", "localhost", false, false },
		{ "127.0.0.1:5000", 1, "http", "127.0.0.1:5000", false, false },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		sigil__registry_hosts h = { NULL, 0 };
		sigil_error err = SIGIL_ERROR_INIT;
		sigil_status st = sigil__hosts_resolve(NULL, cases[i].domain, cases[i].plain_http, &h, &err);
		CHECK_INTEQ(st, SIGIL_STATUS_OK);
		if (st != SIGIL_STATUS_OK || h.count != 1) {
			fprintf(stderr, "  %s: %s\n", cases[i].domain, err.message);
			sigil__hosts_clear(&h);
			continue;
		}
		check_host(&h.hosts[0], cases[i].scheme, cases[i].host, "/v2", ALL, cases[i].skip_verify,
			cases[i].fallback);
		CHECK_INTEQ(h.hosts[0].ca_count, 0);
		sigil__hosts_clear(&h);
		CHECK(h.hosts == NULL && h.count == 0);
	}
	/* an invalid domain cannot name a directory */
	static const char *bad[] = { "", "../etc", "a/b", "..", "_default", "a b", "x\n" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		sigil__registry_hosts h = { NULL, 0 };
		sigil_error err = SIGIL_ERROR_INIT;
		CHECK_INTEQ(sigil__hosts_resolve("/nonexistent", bad[i], 0, &h, &err), SIGIL_STATUS_ERROR);
		CHECK_INTEQ(err.category, SIGIL_ERR_USAGE);
		CHECK_CONTAINS(err.message, "registry domain");
	}
}

/* hosts_test.go TestParseHostFile's document, read the same way */
static void test_parse_hosts_file(void)
{
	const char *doc =
		"server = \"https://test-default.registry\"\n"
		"ca = \"/etc/path/default\"\n"
		"[header]\n"
		"  x-custom-1 = \"custom header\"\n"
		"\n"
		"[host.\"https://mirror.registry\"]\n"
		"  capabilities = [\"pull\"]\n"
		"  ca = \"/etc/certs/mirror.pem\"\n"
		"  skip_verify = false\n"
		"  [host.\"https://mirror.registry\".header]\n"
		"    x-custom-2 = [\"value1\", \"value2\"]\n"
		"\n"
		"[host.\"https://mirror-bak.registry/us\"]\n"
		"  capabilities = [\"pull\"]\n"
		"  skip_verify = true\n"
		"\n"
		"[host.\"http://mirror.registry\"]\n"
		"  capabilities = [\"pull\"]\n"
		"\n"
		"[host.\"https://test-1.registry\"]\n"
		"  capabilities = [\"pull\", \"resolve\", \"push\"]\n"
		"  ca = [\"/etc/certs/test-1-ca.pem\", \"/etc/certs/special.pem\"]\n"
		"  client = [[\"/etc/certs/client.cert\", \"/etc/certs/client.key\"],[\"/etc/certs/client.pem\", \"\"]]\n"
		"\n"
		"[host.\"https://test-2.registry\"]\n"
		"  client = \"/etc/certs/client.pem\"\n"
		"\n"
		"[host.\"https://test-3.registry\"]\n"
		"  client = [\"/etc/certs/client-1.pem\", \"/etc/certs/client-2.pem\"]\n"
		"\n"
		"[host.\"https://noncompliantmirror.registry/v2/namespaceprefix\"]\n"
		"  capabilities = [\"pull\"]\n"
		"  override_path = true\n"
		"\n"
		"[host.\"https://noprefixnoncompliant.registry\"]\n"
		"  override_path = true\n"
		"\n"
		"[host.\"https://onlyheader.registry\".header]\n"
		"  x-custom-1 = \"justaheader\"\n"
		"\n"
		"[host.\"https://dial-timeout.registry\"]\n"
		"  dial_timeout = \"3s\"\n";
	sigil__registry_hosts h = { NULL, 0 };
	sigil_error err = SIGIL_ERROR_INIT;
	sigil_status st = parse(doc, NULL, "test-default.registry", 0, &h, &err);
	CHECK_INTEQ(st, SIGIL_STATUS_OK);
	if (st != SIGIL_STATUS_OK) {
		fprintf(stderr, "  %s\n", err.message);
		return;
	}
	CHECK_INTEQ(h.count, 11);
	if (h.count != 11) {
		sigil__hosts_clear(&h);
		return;
	}
	const sigil__registry_host *x = h.hosts;
	check_host(&x[0], "https", "mirror.registry", "/v2", SIGIL_HOST_CAP_PULL, false, false);
	CHECK_INTEQ(x[0].ca_count, 1);
	CHECK_STREQ(x[0].ca_files[0], "/etc/certs/mirror.pem");
	CHECK_INTEQ(x[0].header_count, 2);
	CHECK_STREQ(x[0].header_names[0], "x-custom-2");
	CHECK_STREQ(x[0].header_values[0], "value1");
	CHECK_STREQ(x[0].header_names[1], "x-custom-2");
	CHECK_STREQ(x[0].header_values[1], "value2");
	check_host(&x[1], "https", "mirror-bak.registry", "/us/v2", SIGIL_HOST_CAP_PULL, true, false);
	/* http without TLS settings stays http */
	check_host(&x[2], "http", "mirror.registry", "/v2", SIGIL_HOST_CAP_PULL, false, false);
	check_host(&x[3], "https", "test-1.registry", "/v2", ALL, false, false);
	CHECK_INTEQ(x[3].ca_count, 2);
	CHECK_STREQ(x[3].ca_files[1], "/etc/certs/special.pem");
	CHECK_INTEQ(x[3].client_count, 2);
	CHECK_STREQ(x[3].client_certs[0], "/etc/certs/client.cert");
	CHECK_STREQ(x[3].client_keys[0], "/etc/certs/client.key");
	CHECK_STREQ(x[3].client_certs[1], "/etc/certs/client.pem");
	CHECK(x[3].client_keys[1] == NULL);
	check_host(&x[4], "https", "test-2.registry", "/v2", ALL, false, false);
	CHECK_INTEQ(x[4].client_count, 1);
	CHECK_STREQ(x[4].client_certs[0], "/etc/certs/client.pem");
	CHECK(x[4].client_keys[0] == NULL);
	CHECK_INTEQ(x[5].client_count, 2);
	CHECK_STREQ(x[5].client_certs[1], "/etc/certs/client-2.pem");
	check_host(&x[6], "https", "noncompliantmirror.registry", "/v2/namespaceprefix", SIGIL_HOST_CAP_PULL,
		false, false);
	check_host(&x[7], "https", "noprefixnoncompliant.registry", "", ALL, false, false);
	check_host(&x[8], "https", "onlyheader.registry", "/v2", ALL, false, false);
	CHECK_INTEQ(x[8].header_count, 1);
	CHECK_STREQ(x[8].header_values[0], "justaheader");
	check_host(&x[9], "https", "dial-timeout.registry", "/v2", ALL, false, false);
	CHECK_INTEQ(x[9].dial_timeout_ms, 3000);
	/* the root entry (server) comes last */
	check_host(&x[10], "https", "test-default.registry", "/v2", ALL, false, false);
	CHECK_INTEQ(x[10].ca_count, 1);
	CHECK_STREQ(x[10].ca_files[0], "/etc/path/default");
	CHECK_INTEQ(x[10].header_count, 1);
	CHECK_STREQ(x[10].header_names[0], "x-custom-1");
	CHECK_STREQ(x[10].header_values[0], "custom header");
	sigil__hosts_clear(&h);
}

static void test_urls_and_paths(void)
{
	static const struct {
		const char *server;
		int override;
		const char *scheme, *host, *path;
	} cases[] = {
		{ "registry.example", 0, "https", "registry.example", "/v2" },     /* no scheme: https */
		{ "registry.example:5000", 0, "https", "registry.example:5000", "/v2" },
		{ "http://registry.example:5000", 0, "http", "registry.example:5000", "/v2" },
		{ "https://r.example/v2", 0, "https", "r.example", "/v2" },
		{ "https://r.example/v2/", 0, "https", "r.example", "/v2" },
		{ "https://r.example/a//b/../c/", 0, "https", "r.example", "/a/c/v2" },
		{ "https://r.example/", 0, "https", "r.example", "/v2" },
		{ "https://r.example/api", 1, "https", "r.example", "/api" },
		{ "https://r.example", 1, "https", "r.example", "" },
		{ "https://[::1]:5000", 0, "https", "[::1]:5000", "/v2" },
		{ "https://[fe80::1]/p", 0, "https", "[fe80::1]", "/p/v2" },
		{ "https://10.0.0.1", 0, "https", "10.0.0.1", "/v2" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char doc[512];
		snprintf(doc, sizeof doc, "server = \"%s\"\noverride_path = %s\n", cases[i].server,
			cases[i].override ? "true" : "false");
		sigil__registry_hosts h = { NULL, 0 };
		sigil_error err = SIGIL_ERROR_INIT;
		sigil_status st = parse(doc, NULL, "x.io", 0, &h, &err);
		CHECK_INTEQ(st, SIGIL_STATUS_OK);
		if (st != SIGIL_STATUS_OK || h.count != 1) {
			fprintf(stderr, "  %s: %s\n", cases[i].server, err.message);
			sigil__hosts_clear(&h);
			continue;
		}
		check_host(&h.hosts[0], cases[i].scheme, cases[i].host, cases[i].path, ALL, false, false);
		sigil__hosts_clear(&h);
	}
	parse_bad("server = \"httpx://r.example\"\n", SIGIL_ERR_MALFORMED, "line 1: host URL \"httpx://r.example\": scheme must be http or https");
	parse_bad("server = \"http:r.example\"\n", SIGIL_ERR_MALFORMED, "has no \"://\"");
	parse_bad("server = \"https://user:pw@r.example\"\n", SIGIL_ERR_MALFORMED, "user information is not supported");
	parse_bad("server = \"https://r.example/v2?x=1\"\n", SIGIL_ERR_MALFORMED, "query and fragment are not supported");
	parse_bad("server = \"https://r.example#f\"\n", SIGIL_ERR_MALFORMED, "query and fragment");
	parse_bad("server = \"https://r.example:abc\"\n", SIGIL_ERR_MALFORMED, "invalid host");
	parse_bad("server = \"https://\"\n", SIGIL_ERR_MALFORMED, "invalid host");
	parse_bad("server = \"https://r ex\"\n", SIGIL_ERR_MALFORMED, "invalid host");
	parse_bad("server = \"https://[::1\"\n", SIGIL_ERR_MALFORMED, "invalid host");
	parse_bad("server = \"https://r.example/a%2Fb\"\n", SIGIL_ERR_MALFORMED, "unsupported character in path");
	parse_bad("[host.\"\"]\ncapabilities = [\"pull\"]\n", SIGIL_ERR_MALFORMED, "has no host name");
}

static void test_fields(void)
{
	sigil__registry_hosts h = { NULL, 0 };
	sigil_error err = SIGIL_ERROR_INIT;
	/* relative paths resolve against the hosts.toml directory */
	const char *doc =
		"[host.\"https://m.example\"]\n"
		"  capabilities = [\"PULL\", \"Resolve\"]\n"
		"  ca = [\"ca.pem\", \"../shared/ca.pem\", \"/abs/ca.pem\", \"./sub/./x.pem\"]\n"
		"  client = [[\"c.pem\", \"k.pem\"], \"both.pem\"]\n"
		"  dial_timeout = \"1m30.5s\"\n"
		"  [host.\"https://m.example\".header]\n"
		"    Authorization = \"Basic eDp5\"\n"
		"    X-Empty = []\n";
	CHECK_INTEQ(parse(doc, "/etc/containerd/certs.d/x.io", "x.io", 0, &h, &err), SIGIL_STATUS_OK);
	if (h.count == 2) {
		const sigil__registry_host *m = &h.hosts[0];
		CHECK_INTEQ(m->caps, SIGIL_HOST_CAP_PULL | SIGIL_HOST_CAP_RESOLVE);
		CHECK_INTEQ(m->ca_count, 4);
		CHECK_STREQ(m->ca_files[0], "/etc/containerd/certs.d/x.io/ca.pem");
		CHECK_STREQ(m->ca_files[1], "/etc/containerd/certs.d/shared/ca.pem");
		CHECK_STREQ(m->ca_files[2], "/abs/ca.pem");
		CHECK_STREQ(m->ca_files[3], "/etc/containerd/certs.d/x.io/sub/x.pem");
		CHECK_INTEQ(m->client_count, 2);
		CHECK_STREQ(m->client_certs[0], "/etc/containerd/certs.d/x.io/c.pem");
		CHECK_STREQ(m->client_keys[0], "/etc/containerd/certs.d/x.io/k.pem");
		CHECK_STREQ(m->client_certs[1], "/etc/containerd/certs.d/x.io/both.pem");
		CHECK(m->client_keys[1] == NULL);
		CHECK_INTEQ(m->dial_timeout_ms, 90500);
		CHECK_INTEQ(m->header_count, 1);
		CHECK_STREQ(m->header_names[0], "Authorization");
		/* no server: the default host for the domain is last */
		check_host(&h.hosts[1], "https", "x.io", "/v2", ALL, false, false);
	} else {
		CHECK_INTEQ(h.count, 2);
		fprintf(stderr, "  %s\n", err.message);
	}
	sigil__hosts_clear(&h);

	/* an http host with TLS settings tries https first (not on port 80) */
	doc = "[host.\"http://m1.example:5000\"]\n  ca = \"ca.pem\"\n"
		"[host.\"http://m2.example\"]\n  skip_verify = false\n"
		"[host.\"http://m3.example:80\"]\n  skip_verify = true\n"
		"[host.\"http://m4.example\"]\n  ca = []\n"
		"[host.\"http://m5.example\"]\n  client = []\n";
	CHECK_INTEQ(parse(doc, "/d", "x.io", 0, &h, &err), SIGIL_STATUS_OK);
	if (h.count == 6) {
		check_host(&h.hosts[0], "https", "m1.example:5000", "/v2", ALL, false, true);
		check_host(&h.hosts[1], "https", "m2.example", "/v2", ALL, false, true);
		check_host(&h.hosts[2], "http", "m3.example:80", "/v2", ALL, true, false);
		check_host(&h.hosts[3], "https", "m4.example", "/v2", ALL, false, true);  /* ca = [] is set */
		check_host(&h.hosts[4], "http", "m5.example", "/v2", ALL, false, false);
	} else {
		CHECK_INTEQ(h.count, 6);
	}
	sigil__hosts_clear(&h);

	/* plain_http changes only the default host; explicit schemes stay */
	doc = "[host.\"https://mirror.example\"]\n";
	CHECK_INTEQ(parse(doc, NULL, "reg.example:5000", 1, &h, &err), SIGIL_STATUS_OK);
	if (h.count == 2) {
		check_host(&h.hosts[0], "https", "mirror.example", "/v2", ALL, false, false);
		check_host(&h.hosts[1], "http", "reg.example:5000", "/v2", ALL, false, false);
	}
	sigil__hosts_clear(&h);

	/* root-level TLS settings apply to the default host, and a localhost
	 * default keeps containerd's https-with-fallback */
	doc = "ca = \"root.pem\"\ncapabilities = [\"pull\"]\n";
	CHECK_INTEQ(parse(doc, "/d", "localhost:5000", 0, &h, &err), SIGIL_STATUS_OK);
	if (h.count == 1) {
		/* the default host always gets every capability (ConfigureHosts) */
		check_host(&h.hosts[0], "https", "localhost:5000", "/v2", ALL, true, true);
		CHECK_STREQ(h.hosts[0].ca_files[0], "/d/root.pem");
	}
	sigil__hosts_clear(&h);

	/* docker.io's documented hosts.toml */
	doc = "server = \"https://docker.io\"\n\n[host.\"https://registry-1.docker.io\"]\n  capabilities = [\"pull\", \"resolve\"]\n";
	CHECK_INTEQ(parse(doc, NULL, "docker.io", 0, &h, &err), SIGIL_STATUS_OK);
	if (h.count == 2) {
		check_host(&h.hosts[0], "https", "registry-1.docker.io", "/v2",
			SIGIL_HOST_CAP_PULL | SIGIL_HOST_CAP_RESOLVE, false, false);
		check_host(&h.hosts[1], "https", "docker.io", "/v2", ALL, false, false);
	}
	sigil__hosts_clear(&h);

	/* a relative hosts directory stays relative (filepath.Join) */
	doc = "ca = [\"../ca.pem\", \"../../../up.pem\", \"a/./b/../c.pem\"]\ndial_timeout = \"0\"\n";
	CHECK_INTEQ(parse(doc, "certs.d/x.io", "x.io", 0, &h, &err), SIGIL_STATUS_OK);
	if (h.count == 1 && h.hosts[0].ca_count == 3) {
		CHECK_STREQ(h.hosts[0].ca_files[0], "certs.d/ca.pem");
		CHECK_STREQ(h.hosts[0].ca_files[1], "../up.pem");
		CHECK_STREQ(h.hosts[0].ca_files[2], "certs.d/x.io/a/c.pem");
		CHECK_INTEQ(h.hosts[0].dial_timeout_ms, 0);
	} else {
		CHECK(0);
	}
	sigil__hosts_clear(&h);
	CHECK_INTEQ(parse("dial_timeout = \"+250us\"\n", NULL, "x.io", 0, &h, &err), SIGIL_STATUS_OK);
	if (h.count == 1)
		CHECK_INTEQ(h.hosts[0].dial_timeout_ms, 1);
	sigil__hosts_clear(&h);
	/* an IPv4-mapped loopback is loopback (net.IP.IsLoopback) */
	CHECK_INTEQ(parse("", NULL, "[::ffff:127.0.0.1]:5000", 0, &h, &err), SIGIL_STATUS_OK);
	if (h.count == 1)
		check_host(&h.hosts[0], "https", "[::ffff:127.0.0.1]:5000", "/v2", ALL, true, true);
	sigil__hosts_clear(&h);

	/* an empty document: just the default */
	CHECK_INTEQ(parse("# nothing\n", NULL, "docker.io", 0, &h, &err), SIGIL_STATUS_OK);
	CHECK_INTEQ(h.count, 1);
	if (h.count == 1)
		check_host(&h.hosts[0], "https", "registry-1.docker.io", "/v2", ALL, false, false);
	sigil__hosts_clear(&h);
}

/* getSortedHosts: the order of the first [host."…"…] table header */
static void test_order(void)
{
	const char *doc =
		"host.\"https://dotted.example\".capabilities = [\"pull\"]\n"   /* not a table header: unused */
		"[host.\"https://b.example\"]\n"
		"[host.\"https://a.example\".header]\n"                        /* a sub-table header counts */
		"  x = \"1\"\n"
		"[host.\"https://b.example\".header]\n"                        /* b is not repeated */
		"  y = \"2\"\n"
		"[host.\"https://c.example\"]\n";
	sigil__registry_hosts h = { NULL, 0 };
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK_INTEQ(parse(doc, NULL, "x.io", 0, &h, &err), SIGIL_STATUS_OK);
	CHECK_INTEQ(h.count, 4);
	if (h.count == 4) {
		CHECK_STREQ(h.hosts[0].host, "b.example");
		CHECK_STREQ(h.hosts[0].header_values[0], "2");
		CHECK_STREQ(h.hosts[1].host, "a.example");
		CHECK_STREQ(h.hosts[2].host, "c.example");
		CHECK_STREQ(h.hosts[3].host, "x.io");
	} else {
		fprintf(stderr, "  %s\n", err.message);
	}
	sigil__hosts_clear(&h);
}

static void test_errors(void)
{
	parse_bad("server = 1\n", SIGIL_ERR_MALFORMED, "hosts.toml: line 1: \"server\" must be a string");
	parse_bad("a = 1\nskip_verify = \"yes\"\n", SIGIL_ERR_MALFORMED, "line 2: \"skip_verify\" must be a boolean");
	parse_bad("override_path = 1\n", SIGIL_ERR_MALFORMED, "\"override_path\" must be a boolean");
	parse_bad("capabilities = \"pull\"\n", SIGIL_ERR_MALFORMED, "\"capabilities\" must be an array of strings");
	parse_bad("capabilities = [1]\n", SIGIL_ERR_MALFORMED, "\"capabilities\" must be an array of strings");
	parse_bad("\n\ncapabilities = [\"pull\", \"mirror\"]\n", SIGIL_ERR_MALFORMED, "line 3: unknown capability \"mirror\"");
	parse_bad("ca = 1\n", SIGIL_ERR_MALFORMED, "invalid type for \"ca\"");
	parse_bad("ca = [\"a\", 1]\n", SIGIL_ERR_MALFORMED, "\"ca\" must be a string or an array of strings");
	parse_bad("ca = \"\"\n", SIGIL_ERR_MALFORMED, "empty path in \"ca\"");
	parse_bad("client = true\n", SIGIL_ERR_MALFORMED, "invalid type for \"client\"");
	parse_bad("client = [[\"a\"]]\n", SIGIL_ERR_MALFORMED, "invalid pair for \"client\"");
	parse_bad("client = [[\"a\", \"b\", \"c\"]]\n", SIGIL_ERR_MALFORMED, "invalid pair for \"client\"");
	parse_bad("client = [[\"a\", 1]]\n", SIGIL_ERR_MALFORMED, "\"client\" pair must hold strings");
	parse_bad("client = [1]\n", SIGIL_ERR_MALFORMED, "invalid type for \"client\"");
	parse_bad("header = \"x\"\n", SIGIL_ERR_MALFORMED, "\"header\" must be a table");
	parse_bad("[header]\nx = 1\n", SIGIL_ERR_MALFORMED, "line 2: invalid type for header \"x\"");
	parse_bad("[header]\nx = [1]\n", SIGIL_ERR_MALFORMED, "header \"x\" must be a string or an array of strings");
	parse_bad("[header]\nx = \"a\\r\\nInjected: 1\"\n", SIGIL_ERR_MALFORMED, "header \"x\": value has control characters");
	parse_bad("[header]\n\"bad name\" = \"v\"\n", SIGIL_ERR_MALFORMED, "invalid header name \"bad name\"");
	parse_bad("dial_timeout = \"3\"\n", SIGIL_ERR_MALFORMED, "invalid duration \"3\" for \"dial_timeout\"");
	parse_bad("dial_timeout = \"-1s\"\n", SIGIL_ERR_MALFORMED, "invalid duration");
	parse_bad("dial_timeout = 3\n", SIGIL_ERR_MALFORMED, "\"dial_timeout\" must be a string");
	parse_bad("host = 1\n", SIGIL_ERR_MALFORMED, "\"host\" must be a table");
	parse_bad("host.\"https://x\" = 1\n", SIGIL_ERR_MALFORMED, "host \"https://x\" must be a table");
	parse_bad("[[host.\"https://x\"]]\n", SIGIL_ERR_MALFORMED, "must be a table");
	/* unused entries must still be valid, as toml.Unmarshal decodes them */
	parse_bad("host.\"https://x\".capabilities = [\"fly\"]\n", SIGIL_ERR_MALFORMED, "unknown capability \"fly\"");
	/* TOML errors carry the file name and line */
	parse_bad("server = \"a\"\nserver = \"b\"\n", SIGIL_ERR_MALFORMED, "hosts.toml: line 2: duplicate key \"server\"");
	parse_bad("[host.\"https://a\"]\n[host.\"https://a\"]\n", SIGIL_ERR_MALFORMED, "line 2: duplicate table");
	parse_bad("x = 1979-05-27\n", SIGIL_ERR_UNSUPPORTED, "dates and times are not supported");

	/* bounds */
	char doc[8192];
	size_t n = 0;
	for (int i = 0; i <= SIGIL_MAX_REGISTRY_HOSTS; i++)
		n += (size_t)snprintf(doc + n, sizeof doc - n, "[host.\"https://m%d.example\"]\n", i);
	parse_bad(doc, SIGIL_ERR_LIMIT, "more than 64 registry hosts");
	n = (size_t)snprintf(doc, sizeof doc, "ca = [");
	for (int i = 0; i <= SIGIL_MAX_HOST_FILES; i++)
		n += (size_t)snprintf(doc + n, sizeof doc - n, "\"c%d\",", i);
	snprintf(doc + n, sizeof doc - n, "]\n");
	parse_bad(doc, SIGIL_ERR_LIMIT, "more than 64 entries");
	n = (size_t)snprintf(doc, sizeof doc, "[header]\nx = [");
	for (int i = 0; i <= SIGIL_MAX_HOST_HEADERS; i++)
		n += (size_t)snprintf(doc + n, sizeof doc - n, "\"v\",");
	snprintf(doc + n, sizeof doc - n, "]\n");
	parse_bad(doc, SIGIL_ERR_LIMIT, "more than 64 header values");
}

/* ---- the directory layout ------------------------------------------- */

static char root[256];

static void write_file(const char *rel, const char *content)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", root, rel);
	FILE *f = fopen(p, "w");
	if (!f) {
		fprintf(stderr, "cannot write %s\n", p);
		exit(2);
	}
	fputs(content, f);
	fclose(f);
}

static void make_dir(const char *rel)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", root, rel);
	if (mkdir(p, 0755) != 0) {
		fprintf(stderr, "cannot mkdir %s\n", p);
		exit(2);
	}
}

static void test_directory_layout(void)
{
	snprintf(root, sizeof root, "/tmp/sigil-hosts-XXXXXX");
	if (!mkdtemp(root)) {
		CHECK(0);
		return;
	}
	/* docs/hosts.md "Setup a Local Mirror for Docker", with the CA next to
	 * the file */
	make_dir("docker.io");
	write_file("docker.io/hosts.toml",
		"server = \"https://registry-1.docker.io\"    # Exclude this to not use upstream\n"
		"\n"
		"[host.\"https://public-mirror.example.com\"]\n"
		"  capabilities = [\"pull\"]                  # Requires less trust, won't resolve tag to digest from this host\n"
		"[host.\"https://docker-mirror.internal\"]\n"
		"  capabilities = [\"pull\", \"resolve\"]\n"
		"  ca = \"docker-mirror.crt\"                 # Or absolute path /etc/containerd/certs.d/docker.io/docker-mirror.crt\n");
	write_file("docker.io/docker-mirror.crt", "-----BEGIN CERTIFICATE-----\n");
	/* _default: a mirror for every other registry */
	make_dir("_default");
	write_file("_default/hosts.toml",
		"[host.\"https://registry.example.com\"]\n  capabilities = [\"pull\", \"resolve\"]\n");
	/* host:port: "<host>_<port>_" wins over "<host>:<port>" */
	make_dir("myregistry.io_5000_");
	write_file("myregistry.io_5000_/hosts.toml", "server = \"https://under.example\"\n");
	make_dir("myregistry.io:5000");
	write_file("myregistry.io:5000/hosts.toml", "server = \"https://colon.example\"\n");
	make_dir("other.io:6000");
	write_file("other.io:6000/hosts.toml", "server = \"http://other.io:6000\"\n");
	/* a directory without hosts.toml: Docker's certs.d files, and it stops
	 * the _default lookup */
	make_dir("certs.example");
	write_file("certs.example/ca.crt", "x");
	write_file("certs.example/b.crt", "x");
	write_file("certs.example/client.cert", "x");
	write_file("certs.example/client.key", "x");
	write_file("certs.example/solo.cert", "x");
	write_file("certs.example/notes.txt", "x");
	make_dir("certs.example/dir.crt");
	/* an empty hosts.toml behaves as a missing one */
	make_dir("empty.example");
	write_file("empty.example/hosts.toml", "");
	write_file("empty.example/e.crt", "x");
	/* broken */
	make_dir("broken.example");
	write_file("broken.example/hosts.toml", "server = \"https://ok\"\n\n[host.\"https://m\"\ncapabilities = 1\n");

	sigil__registry_hosts h = { NULL, 0 };
	sigil_error err = SIGIL_ERROR_INIT;
	char expect[512];

	CHECK_INTEQ(sigil__hosts_resolve(root, "docker.io", 0, &h, &err), SIGIL_STATUS_OK);
	CHECK_INTEQ(h.count, 3);
	if (h.count == 3) {
		check_host(&h.hosts[0], "https", "public-mirror.example.com", "/v2", SIGIL_HOST_CAP_PULL, false, false);
		check_host(&h.hosts[1], "https", "docker-mirror.internal", "/v2",
			SIGIL_HOST_CAP_PULL | SIGIL_HOST_CAP_RESOLVE, false, false);
		snprintf(expect, sizeof expect, "%s/docker.io/docker-mirror.crt", root);
		CHECK_INTEQ(h.hosts[1].ca_count, 1);
		CHECK_STREQ(h.hosts[1].ca_files[0], expect);
		check_host(&h.hosts[2], "https", "registry-1.docker.io", "/v2", ALL, false, false);
	}
	sigil__hosts_clear(&h);

	/* no directory for quay.io: _default, then the registry itself */
	CHECK_INTEQ(sigil__hosts_resolve(root, "quay.io", 0, &h, &err), SIGIL_STATUS_OK);
	CHECK_INTEQ(h.count, 2);
	if (h.count == 2) {
		check_host(&h.hosts[0], "https", "registry.example.com", "/v2",
			SIGIL_HOST_CAP_PULL | SIGIL_HOST_CAP_RESOLVE, false, false);
		check_host(&h.hosts[1], "https", "quay.io", "/v2", ALL, false, false);
	}
	sigil__hosts_clear(&h);

	/* _default also applies to localhost, whose default keeps the
	 * fallback; plain_http makes it plain */
	CHECK_INTEQ(sigil__hosts_resolve(root, "localhost:5000", 1, &h, &err), SIGIL_STATUS_OK);
	if (h.count == 2)
		check_host(&h.hosts[1], "http", "localhost:5000", "/v2", ALL, false, false);
	else
		CHECK_INTEQ(h.count, 2);
	sigil__hosts_clear(&h);

	CHECK_INTEQ(sigil__hosts_resolve(root, "myregistry.io:5000", 0, &h, &err), SIGIL_STATUS_OK);
	if (h.count == 1)
		CHECK_STREQ(h.hosts[0].host, "under.example");
	else
		CHECK_INTEQ(h.count, 1);
	sigil__hosts_clear(&h);
	CHECK_INTEQ(sigil__hosts_resolve(root, "other.io:6000", 0, &h, &err), SIGIL_STATUS_OK);
	if (h.count == 1)
		check_host(&h.hosts[0], "http", "other.io:6000", "/v2", ALL, false, false);
	sigil__hosts_clear(&h);

	CHECK_INTEQ(sigil__hosts_resolve(root, "certs.example", 0, &h, &err), SIGIL_STATUS_OK);
	CHECK_INTEQ(h.count, 1);
	if (h.count == 1) {
		const sigil__registry_host *c = &h.hosts[0];
		check_host(c, "https", "certs.example", "/v2", ALL, false, false);
		CHECK_INTEQ(c->ca_count, 2);
		snprintf(expect, sizeof expect, "%s/certs.example/b.crt", root);  /* sorted by name */
		CHECK_STREQ(c->ca_files[0], expect);
		snprintf(expect, sizeof expect, "%s/certs.example/ca.crt", root);
		CHECK_STREQ(c->ca_files[1], expect);
		CHECK_INTEQ(c->client_count, 2);
		snprintf(expect, sizeof expect, "%s/certs.example/client.cert", root);
		CHECK_STREQ(c->client_certs[0], expect);
		snprintf(expect, sizeof expect, "%s/certs.example/client.key", root);
		CHECK_STREQ(c->client_keys[0], expect);
		snprintf(expect, sizeof expect, "%s/certs.example/solo.cert", root);
		CHECK_STREQ(c->client_certs[1], expect);
		CHECK(c->client_keys[1] == NULL);
	}
	sigil__hosts_clear(&h);

	CHECK_INTEQ(sigil__hosts_resolve(root, "empty.example", 0, &h, &err), SIGIL_STATUS_OK);
	if (h.count == 1)
		CHECK_INTEQ(h.hosts[0].ca_count, 1);
	else
		CHECK_INTEQ(h.count, 1);
	sigil__hosts_clear(&h);

	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK_INTEQ(sigil__hosts_resolve(root, "broken.example", 0, &h, &err), SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_MALFORMED);
	snprintf(expect, sizeof expect, "%s/broken.example/hosts.toml: line 3: expected ']'", root);
	CHECK_CONTAINS(err.message, expect);
	CHECK(h.count == 0 && h.hosts == NULL);

	/* a hosts directory that does not exist: defaults */
	snprintf(expect, sizeof expect, "%s/nope", root);
	CHECK_INTEQ(sigil__hosts_resolve(expect, "ghcr.io", 0, &h, &err), SIGIL_STATUS_OK);
	if (h.count == 1)
		check_host(&h.hosts[0], "https", "ghcr.io", "/v2", ALL, false, false);
	sigil__hosts_clear(&h);

	/* an oversized hosts.toml */
	make_dir("big.example");
	char p[512];
	snprintf(p, sizeof p, "%s/big.example/hosts.toml", root);
	FILE *f = fopen(p, "w");
	for (unsigned i = 0; f && i <= SIGIL_MAX_TOML_SIZE / 64; i++)
		fprintf(f, "%063d\n", 0);
	if (f)
		fclose(f);
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK_INTEQ(sigil__hosts_resolve(root, "big.example", 0, &h, &err), SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_LIMIT);

	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", root);
}

int main(void)
{
	RUN(test_defaults);
	RUN(test_parse_hosts_file);
	RUN(test_urls_and_paths);
	RUN(test_fields);
	RUN(test_order);
	RUN(test_errors);
	RUN(test_directory_layout);
	return check_summary();
}
