/* test-credentials.c - docker config.json (auths key forms, Docker Hub
 * aliasing, base64), docker-credential helpers and credsStore (scripts
 * written at test time and put first on PATH: found, not found, failing,
 * slow, garbage, oversized), kubelet CredentialProviderConfig (YAML and
 * JSON, kubelet's validation), matchImages globbing, Go durations, and a
 * fake exec plugin whose cacheDuration is honoured. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "check.h"
#include "credentials.h"
#include "credentials_internal.h"

static char tmpdir[256];
static char bindir[300];
static char plugdir[300];

static void write_file(const char *path, const char *content, mode_t mode)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		exit(2);
	}
	fputs(content, f);
	fclose(f);
	chmod(path, mode);
}

static char *tpath(const char *name)
{
	static char buf[8][512];
	static int k;
	k = (k + 1) % 8;
	snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
	return buf[k];
}

static int64_t in_ms(int64_t ms)
{
	return sigil__cred_now_ms() + ms;
}

static int count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	int n = 0, c;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* ---- docker config.json ---- */

typedef struct got {
	int rc;
	bool found;
	sigil__credential c;
	sigil_error e;
} got;

static got parse(const char *json, const char *domain)
{
	got g = { 0 };
	g.e = (sigil_error)SIGIL_ERROR_INIT;
	g.rc = sigil__docker_config_parse((const uint8_t *)json, strlen(json), domain, &g.c, &g.found,
		&g.e);
	return g;
}

static void test_hostname(void)
{
	static const char *cases[][2] = {
		{ "https://index.docker.io/v1/", "index.docker.io" },
		{ "http://reg.example.com:5000/v1/", "reg.example.com:5000" },
		{ "reg.example.com:5000", "reg.example.com:5000" },
		{ "reg.example.com/some/path", "reg.example.com" },
		{ "https://[::1]:5000/", "[::1]:5000" },
		{ "https://user@reg.example.com/", "reg.example.com" },
		{ "https://reg.example.com:abc/", "reg.example.com:abc" },
		{ "https://fe80::1:5000/", "[fe80::1]:5000" },
		{ "reg.example.com", "reg.example.com" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *h = sigil__docker_hostname(cases[i][0]);
		CHECK_STREQ(h, cases[i][1]);
		free(h);
	}
}

static const char config_forms[] =
	"{\"auths\":{"
	"\"https://index.docker.io/v1/\":{\"auth\":\"aHVidXNlcjpodWJwYXNz\"},"           /* hubuser:hubpass */
	"\"reg.example.com\":{\"username\":\"alice\",\"password\":\"secret\"},"
	"\"http://id.example.com:5000/v1/\":{\"identitytoken\":\"refresh-tok\"},"
	"\"https://bearer.example.com/\":{\"registrytoken\":\"bearer-tok\"},"
	"\"nopad.example.com\":{\"auth\":\"dTpw\\n\"},"                                      /* u:p */
	"\"unpadded.example.com\":{\"auth\":\"dXNlcjpwYQ\"},"                               /* user:pa */
	"\"colons.example.com\":{\"auth\":\"dXNlcjpwYTpzcw==\",\"username\":\"ignored\"}," /* user:pa:ss */
	"\"empty.example.com\":{}"
	"},\"credHelpers\":{},\"psFormat\":\"x\"}";

static void test_docker_forms(void)
{
	got g = parse(config_forms, "docker.io");
	CHECK_INTEQ(g.rc, 0);
	CHECK(g.found);
	CHECK_STREQ(g.c.username, "hubuser");
	CHECK_STREQ(g.c.password, "hubpass");
	sigil__credential_clear(&g.c);

	g = parse(config_forms, "index.docker.io");
	CHECK(g.found);
	CHECK_STREQ(g.c.username, "hubuser");
	sigil__credential_clear(&g.c);

	g = parse(config_forms, "reg.example.com");
	CHECK(g.found);
	CHECK_STREQ(g.c.username, "alice");
	CHECK_STREQ(g.c.password, "secret");
	CHECK(g.c.identity_token == NULL);
	sigil__credential_clear(&g.c);

	g = parse(config_forms, "id.example.com:5000");
	CHECK(g.found);
	CHECK_STREQ(g.c.identity_token, "refresh-tok");
	CHECK(g.c.username == NULL);
	sigil__credential_clear(&g.c);

	g = parse(config_forms, "bearer.example.com");
	CHECK(g.found);
	CHECK_STREQ(g.c.registry_token, "bearer-tok");
	sigil__credential_clear(&g.c);

	g = parse(config_forms, "nopad.example.com");
	CHECK(g.found);
	CHECK_STREQ(g.c.username, "u");
	CHECK_STREQ(g.c.password, "p");
	sigil__credential_clear(&g.c);

	g = parse(config_forms, "unpadded.example.com");
	CHECK(g.found);
	CHECK_STREQ(g.c.password, "pa");
	sigil__credential_clear(&g.c);

	g = parse(config_forms, "colons.example.com");
	CHECK(g.found);
	CHECK_STREQ(g.c.username, "user");
	CHECK_STREQ(g.c.password, "pa:ss");
	sigil__credential_clear(&g.c);

	/* id.example.com without the port is another registry */
	g = parse(config_forms, "id.example.com");
	CHECK_INTEQ(g.rc, 0);
	CHECK(!g.found);
	g = parse(config_forms, "empty.example.com");
	CHECK_INTEQ(g.rc, 0);
	CHECK(!g.found);
	g = parse(config_forms, "other.example.com");
	CHECK_INTEQ(g.rc, 0);
	CHECK(!g.found);

	/* Docker Hub under another of its names */
	g = parse("{\"auths\":{\"index.docker.io\":{\"username\":\"h\",\"password\":\"p\"}}}", "docker.io");
	CHECK(g.found);
	CHECK_STREQ(g.c.username, "h");
	sigil__credential_clear(&g.c);
	/* the exact key wins over an alias */
	g = parse("{\"auths\":{\"docker.io\":{\"username\":\"a\"},"
		"\"https://index.docker.io/v1/\":{\"username\":\"b\"}}}", "docker.io");
	CHECK_STREQ(g.c.username, "b");
	sigil__credential_clear(&g.c);

	/* empty documents are empty configurations */
	g = parse("", "docker.io");
	CHECK_INTEQ(g.rc, 0);
	CHECK(!g.found);
	g = parse(" \n", "docker.io");
	CHECK_INTEQ(g.rc, 0);
	g = parse("{}", "docker.io");
	CHECK_INTEQ(g.rc, 0);
	CHECK(!g.found);
}

static void expect_bad(const char *json, sigil_category cat, const char *msg)
{
	got g = parse(json, "x.example.com");
	CHECK_INTEQ(g.rc, -1);
	CHECK(!g.found);
	CHECK_INTEQ(g.e.category, cat);
	CHECK_CONTAINS(g.e.message, msg);
}

static void test_docker_errors(void)
{
	expect_bad("{\"auths\":{\"x\":{\"auth\":\"!!!!\"}}}", SIGIL_ERR_MALFORMED,
		"auths[\"x\"]: auth: illegal base64 data at input byte 0");
	expect_bad("{\"auths\":{\"x\":{\"auth\":\"dXNlcg==\"}}}", SIGIL_ERR_MALFORMED, /* "user" */
		"invalid auth configuration");
	expect_bad("{\"auths\":{\"x\":{\"auth\":\"OnBhc3M=\"}}}", SIGIL_ERR_MALFORMED, /* ":pass" */
		"invalid auth configuration");
	expect_bad("{\"auths\":{\"x\":{\"auth\":\"dXNlcjpwYXNz=\"}}}", SIGIL_ERR_MALFORMED,
		"bad length or padding");
	expect_bad("{\"auths\":{\"x\":{\"auth\":\"dXNlcjpwYXNzc\"}}}", SIGIL_ERR_MALFORMED,
		"bad length or padding");
	expect_bad("{\"auths\":{\"x\":{\"auth\":\"dX=NlcjpwYXNz\"}}}", SIGIL_ERR_MALFORMED,
		"illegal base64 data at input byte 3");
	expect_bad("{\"auths\":{\"x\":{\"auth\":7}}}", SIGIL_ERR_MALFORMED, "auths[\"x\"]: auth: expected a string");
	expect_bad("{\"auths\":{\"x\":{\"username\":[]}}}", SIGIL_ERR_MALFORMED, "username: expected a string");
	expect_bad("{\"auths\":[]}", SIGIL_ERR_MALFORMED, "auths: expected an object");
	expect_bad("{\"auths\":{\"x\":\"y\"}}", SIGIL_ERR_MALFORMED, "auths[\"x\"]: expected an object");
	expect_bad("{\"credHelpers\":{\"x\":1}}", SIGIL_ERR_MALFORMED, "credHelpers[\"x\"]: expected a string");
	expect_bad("{\"credHelpers\":{\"x\":\"../evil\"}}", SIGIL_ERR_MALFORMED, "invalid helper name");
	expect_bad("{\"credsStore\":\"a/b\"}", SIGIL_ERR_MALFORMED, "credsStore: invalid helper name");
	expect_bad("{\"auths\":{", SIGIL_ERR_MALFORMED, "");
	expect_bad("[]", SIGIL_ERR_MALFORMED, "");
}

static void test_docker_files(void)
{
	sigil__credstore *cs = NULL;
	sigil_error e = SIGIL_ERROR_INIT;
	/* a missing file is no credentials */
	CHECK_INTEQ(sigil__credstore_new(&cs, tpath("nonexistent.json"), NULL, NULL, &e), 0);
	sigil__credential c = { 0 };
	bool found = true;
	CHECK_INTEQ(sigil__credstore_lookup(cs, "docker.io", "docker.io/library/x", in_ms(5000), &c,
		&found, &e), 0);
	CHECK(!found);
	sigil__credstore_free(cs);

	/* an invalid one is an error naming it */
	write_file(tpath("bad.json"), "{\"auths\":{\"x\":{\"auth\":\"@@\"}}}", 0644);
	cs = NULL;
	CHECK_INTEQ(sigil__credstore_new(&cs, tpath("bad.json"), NULL, NULL, &e), -1);
	CHECK(cs == NULL);
	CHECK_INTEQ(e.category, SIGIL_ERR_MALFORMED);
	CHECK_CONTAINS(e.message, tpath("bad.json"));
	CHECK_CONTAINS(e.message, "illegal base64");

	/* a directory is unreadable as a file */
	e = (sigil_error)SIGIL_ERROR_INIT;
	CHECK_INTEQ(sigil__credstore_new(&cs, tmpdir, NULL, NULL, &e), -1);
	CHECK_INTEQ(e.category, SIGIL_ERR_IO);
	CHECK_CONTAINS(e.message, "not a regular file");

	/* the provider config and its plugin directory come together */
	e = (sigil_error)SIGIL_ERROR_INIT;
	CHECK_INTEQ(sigil__credstore_new(&cs, tpath("nonexistent.json"), tpath("p.yaml"), NULL, &e), -1);
	CHECK_INTEQ(e.category, SIGIL_ERR_USAGE);

	/* default locations: $DOCKER_CONFIG/config.json, else
	 * $HOME/.docker/config.json */
	char d[600];
	snprintf(d, sizeof d, "%s/dc", tmpdir);
	mkdir(d, 0755);
	write_file(tpath("dc/config.json"),
		"{\"auths\":{\"env.example.com\":{\"username\":\"envuser\",\"password\":\"x\"}}}", 0644);
	snprintf(d, sizeof d, "%s/home/.docker", tmpdir);
	mkdir(tpath("home"), 0755);
	mkdir(d, 0755);
	write_file(tpath("home/.docker/config.json"),
		"{\"auths\":{\"home.example.com\":{\"username\":\"homeuser\",\"password\":\"x\"}}}", 0644);
	char *old_dc = getenv("DOCKER_CONFIG") ? strdup(getenv("DOCKER_CONFIG")) : NULL;
	char *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
	setenv("DOCKER_CONFIG", tpath("dc"), 1);
	setenv("HOME", tpath("home"), 1);
	e = (sigil_error)SIGIL_ERROR_INIT;
	CHECK_INTEQ(sigil__credstore_new(&cs, NULL, NULL, NULL, &e), 0);
	CHECK_INTEQ(sigil__credstore_lookup(cs, "env.example.com", "env.example.com/a", in_ms(5000),
		&c, &found, &e), 0);
	CHECK(found);
	CHECK_STREQ(c.username, "envuser");
	sigil__credential_clear(&c);
	sigil__credstore_free(cs);
	unsetenv("DOCKER_CONFIG");
	CHECK_INTEQ(sigil__credstore_new(&cs, NULL, NULL, NULL, &e), 0);
	CHECK_INTEQ(sigil__credstore_lookup(cs, "home.example.com", "home.example.com/a", in_ms(5000),
		&c, &found, &e), 0);
	CHECK(found);
	CHECK_STREQ(c.username, "homeuser");
	sigil__credential_clear(&c);
	sigil__credstore_free(cs);
	if (old_dc)
		setenv("DOCKER_CONFIG", old_dc, 1);
	if (old_home)
		setenv("HOME", old_home, 1);
	else
		unsetenv("HOME");
	free(old_dc);
	free(old_home);
}

/* ---- docker-credential helpers ---- */

static void write_helpers(void)
{
	char p[600];
	snprintf(p, sizeof p, "%s/docker-credential-good", bindir);
	write_file(p,
		"#!/bin/sh\n"
		"[ \"$1\" = get ] || exit 3\n"
		"url=$(cat)\n"
		"echo \"$url\" >> \"$HELPER_LOG\"\n"
		"case \"$url\" in\n"
		"https://index.docker.io/v1/) printf '{\"ServerURL\":\"%s\",\"Username\":\"hubuser\",\"Secret\":\"hubpass\"}' \"$url\";;\n"
		"tok.example.com) printf '{\"ServerURL\":\"%s\",\"Username\":\"<token>\",\"Secret\":\"idtok\"}\\n' \"$url\";;\n"
		"*) echo 'credentials not found in native keychain'; exit 1;;\n"
		"esac\n", 0755);
	snprintf(p, sizeof p, "%s/docker-credential-other", bindir);
	write_file(p,
		"#!/bin/sh\n"
		"cat >/dev/null\n"
		"printf '{\"Username\":\"fromhelper\",\"Secret\":\"s\"}'\n", 0755);
	snprintf(p, sizeof p, "%s/docker-credential-fail", bindir);
	write_file(p, "#!/bin/sh\necho 'error: keychain locked' \nexit 2\n", 0755);
	snprintf(p, sizeof p, "%s/docker-credential-slow", bindir);
	write_file(p, "#!/bin/sh\nsleep 10\necho '{}'\n", 0755);
	snprintf(p, sizeof p, "%s/docker-credential-garbage", bindir);
	write_file(p, "#!/bin/sh\necho 'Username: admin, Secret: hunter2'\n", 0755);
	snprintf(p, sizeof p, "%s/docker-credential-huge", bindir);
	write_file(p, "#!/bin/sh\nhead -c 200000 /dev/zero | tr '\\0' a\n", 0755);
	snprintf(p, sizeof p, "%s/docker-credential-noexec", bindir);
	write_file(p, "#!/bin/sh\necho '{}'\n", 0644);
}

static sigil__credstore *store_with(const char *json)
{
	write_file(tpath("helpers.json"), json, 0600);
	sigil__credstore *cs = NULL;
	sigil_error e = SIGIL_ERROR_INIT;
	if (sigil__credstore_new(&cs, tpath("helpers.json"), NULL, NULL, &e) != 0) {
		fprintf(stderr, "store: %s\n", e.message);
		exit(2);
	}
	return cs;
}

static got lookup(sigil__credstore *cs, const char *domain, int64_t timeout_ms)
{
	got g = { 0 };
	g.e = (sigil_error)SIGIL_ERROR_INIT;
	char image[300];
	snprintf(image, sizeof image, "%s/app:v1", domain);
	g.rc = sigil__credstore_lookup(cs, domain, image, in_ms(timeout_ms), &g.c, &g.found, &g.e);
	return g;
}

static void test_helpers(void)
{
	write_helpers();
	sigil__credstore *cs = store_with(
		"{\"credsStore\":\"good\","
		"\"credHelpers\":{\"helped.example.com\":\"other\",\"fail.example.com\":\"fail\","
		"\"slow.example.com\":\"slow\",\"garbage.example.com\":\"garbage\","
		"\"huge.example.com\":\"huge\",\"missing.example.com\":\"absent\","
		"\"noexec.example.com\":\"noexec\"},"
		"\"auths\":{\"inline.example.com\":{\"username\":\"inl\",\"password\":\"x\"},"
		"\"helped.example.com\":{\"username\":\"shadowed\"}}}");

	/* credsStore for Docker Hub gets the index address on stdin */
	got g = lookup(cs, "docker.io", 5000);
	CHECK_INTEQ(g.rc, 0);
	CHECK(g.found);
	CHECK_STREQ(g.c.username, "hubuser");
	CHECK_STREQ(g.c.password, "hubpass");
	sigil__credential_clear(&g.c);
	size_t n = 0;
	char *log = (char *)check_read_file(tpath("helper.log"), &n);
	CHECK_STREQ(log, "https://index.docker.io/v1/\n");
	free(log);

	/* "<token>" means the secret is an identity token */
	g = lookup(cs, "tok.example.com", 5000);
	CHECK(g.found);
	CHECK(g.c.username == NULL);
	CHECK_STREQ(g.c.identity_token, "idtok");
	sigil__credential_clear(&g.c);

	/* not found in the store: the inline auths still apply */
	g = lookup(cs, "inline.example.com", 5000);
	CHECK_INTEQ(g.rc, 0);
	CHECK(g.found);
	CHECK_STREQ(g.c.username, "inl");
	sigil__credential_clear(&g.c);
	g = lookup(cs, "nowhere.example.com", 5000);
	CHECK_INTEQ(g.rc, 0);
	CHECK(!g.found);

	/* credHelpers before credsStore and auths */
	g = lookup(cs, "helped.example.com", 5000);
	CHECK(g.found);
	CHECK_STREQ(g.c.username, "fromhelper");
	sigil__credential_clear(&g.c);

	g = lookup(cs, "fail.example.com", 5000);
	CHECK_INTEQ(g.rc, -1);
	CHECK_INTEQ(g.e.category, SIGIL_ERR_NETWORK);
	CHECK_CONTAINS(g.e.message, "credentials for fail.example.com (credHelpers)");
	CHECK_CONTAINS(g.e.message, "docker-credential-fail get for fail.example.com: exit status 2: "
		"error: keychain locked");

	/* slow: killed at the deadline, not after the helper's 10 s */
	int64_t t0 = sigil__cred_now_ms();
	g = lookup(cs, "slow.example.com", 300);
	int64_t took = sigil__cred_now_ms() - t0;
	CHECK_INTEQ(g.rc, -1);
	CHECK_INTEQ(g.e.category, SIGIL_ERR_NETWORK);
	CHECK_CONTAINS(g.e.message, "docker-credential-slow: timed out");
	CHECK(took >= 250 && took < 2000);

	/* garbage output: an error that does not echo the output */
	g = lookup(cs, "garbage.example.com", 5000);
	CHECK_INTEQ(g.rc, -1);
	CHECK_INTEQ(g.e.category, SIGIL_ERR_NETWORK);
	CHECK_CONTAINS(g.e.message, "output is not a JSON object");
	CHECK(strstr(g.e.message, "hunter2") == NULL);

	g = lookup(cs, "huge.example.com", 5000);
	CHECK_INTEQ(g.rc, -1);
	CHECK_INTEQ(g.e.category, SIGIL_ERR_LIMIT);
	CHECK_CONTAINS(g.e.message, "docker-credential-huge: output exceeds 65536 bytes");

	g = lookup(cs, "missing.example.com", 5000);
	CHECK_INTEQ(g.rc, -1);
	CHECK_INTEQ(g.e.category, SIGIL_ERR_NETWORK);
	CHECK_CONTAINS(g.e.message, "docker-credential-absent: executable file not found in $PATH");

	/* not executable: not a candidate */
	g = lookup(cs, "noexec.example.com", 5000);
	CHECK_INTEQ(g.rc, -1);
	CHECK_CONTAINS(g.e.message, "docker-credential-noexec: executable file not found");

	/* a deadline already passed: nothing runs */
	g = lookup(cs, "docker.io", -1);
	CHECK_INTEQ(g.rc, -1);
	CHECK_INTEQ(g.e.category, SIGIL_ERR_NETWORK);
	CHECK_CONTAINS(g.e.message, "deadline passed");
	sigil__credstore_free(cs);
}

static void test_path_search(void)
{
	char *p = NULL;
	bool found = false;
	sigil_error e = SIGIL_ERROR_INIT;
	char path[800];
	/* relative and empty entries are skipped */
	snprintf(path, sizeof path, "::relative:%s", bindir);
	CHECK_INTEQ(sigil__cred_path_search("docker-credential-good", path, &p, &found, &e), 0);
	CHECK(found);
	CHECK_CONTAINS(p, "/bin/docker-credential-good");
	free(p);
	CHECK_INTEQ(sigil__cred_path_search("docker-credential-good", "/nonexistent:bin", &p, &found, &e), 0);
	CHECK(!found);
}

/* ---- kubelet credential providers ---- */

static void test_durations(void)
{
	static const struct { const char *s; int64_t ms; } ok[] = {
		{ "12h0m0s", 43200000 }, { "1.5h", 5400000 }, { "300ms", 300 }, { "-1m", -60000 },
		{ "0", 0 }, { "1h30m", 5400000 }, { "1.s", 1000 }, { "2500us", 2 }, { "+5s", 5000 },
		{ "1\xc2\xb5s", 0 }, { ".5s", 500 },
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		int64_t ms = -12345;
		sigil_error e = SIGIL_ERROR_INIT;
		CHECK_INTEQ(sigil__go_duration_parse(ok[i].s, &ms, &e), 0);
		CHECK_INTEQ(ms, ok[i].ms);
	}
	static const struct { const char *s; const char *msg; } bad[] = {
		{ "", "invalid duration" }, { "12", "missing unit" }, { "1x", "unknown unit \"x\"" },
		{ "h", "invalid duration" }, { ".s", "invalid duration" }, { "99999999999h", "invalid duration" },
		{ "1h-2m", "unknown unit \"h-\"" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int64_t ms = 0;
		sigil_error e = SIGIL_ERROR_INIT;
		CHECK_INTEQ(sigil__go_duration_parse(bad[i].s, &ms, &e), -1);
		CHECK_INTEQ(e.category, SIGIL_ERR_MALFORMED);
		CHECK_CONTAINS(e.message, bad[i].msg);
	}
}

static void test_match_images(void)
{
	static const struct { const char *glob, *target; bool want; } cases[] = {
		{ "*.dkr.ecr.*.amazonaws.com", "123456789012.dkr.ecr.us-east-1.amazonaws.com/app", true },
		{ "*.dkr.ecr.*.amazonaws.com", "123456789012.dkr.ecr.us-east-1.amazonaws.com.cn/app", false },
		{ "*.docker.io", "blah.docker.io", true },
		{ "*.docker.io", "not.right.io", false },
		{ "*.io", "a.b.io", false },                         /* one label per '*' */
		{ "registry.io:5000", "registry.io/x", false },      /* the port must be the same */
		{ "registry.io:5000", "registry.io:5000/x", true },
		{ "registry.io", "registry.io:5000/x", false },
		{ "registry.io/team", "registry.io/team/app", true }, /* path prefix */
		{ "registry.io/team", "registry.io/other", false },
		/* url.Parse first: '?' starts a query, a leading '[' an IPv6
		 * literal */
		{ "reg?stry.io", "registry.io/x", false },
		{ "[a-c]b.io", "bb.io", false },
		{ "x[a-c]b.io", "xbb.io", true },
		{ "x[a-c]b.io", "xdb.io", false },
		{ "x[b-]b.io", "xbb.io", false },                   /* malformed class */
		/* '^' and '\\' are not host characters for url.Parse */
		{ "x[^a]b.io", "xxb.io", false },
		{ "x\\bb.io", "xbb.io", false },
		{ "[a-", "a", false },                               /* malformed: no match */
		{ "*", "localhost/x", true },
		{ "*", "a.b/x", false },
		{ "gcr.io", "gcr.io/project/image", true },
		{ "*-docker.pkg.dev", "europe-docker.pkg.dev/p/r/i", true },
		{ "a\\.b.io", "a.b.io", false },                     /* labels split first */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		bool m = sigil__kube_url_match(cases[i].glob, cases[i].target);
		if (m != cases[i].want)
			fprintf(stderr, "  match(%s, %s) = %d\n", cases[i].glob, cases[i].target, m);
		CHECK(m == cases[i].want);
	}
	const char *why = NULL;
	CHECK(sigil__kube_schemeless_url_valid("*.example.com:443/path", &why));
	CHECK(!sigil__kube_schemeless_url_valid("bad host.com", &why));
	CHECK_STREQ(why, "invalid character in host name");
	CHECK(!sigil__kube_schemeless_url_valid("host:port", &why));
	CHECK_STREQ(why, "invalid port after host");
	CHECK(!sigil__kube_schemeless_url_valid("host/%zz", &why));
}

static const char provider_yaml[] =
	"apiVersion: kubelet.config.k8s.io/v1\n"
	"kind: CredentialProviderConfig\n"
	"providers:\n"
	"  - name: fakeprov\n"
	"    matchImages:\n"
	"      - \"*.example.com\"\n"
	"      - \"other.test:5000\"\n"
	"    defaultCacheDuration: \"12h\"\n"
	"    apiVersion: credentialprovider.kubelet.k8s.io/v1\n"
	"    args:\n"
	"      - get-credentials\n"
	"    env:\n"
	"      - name: FAKE_DIR\n"
	"        value: %s\n"
	"      - name: FAKE_MODE\n"
	"        value: %s\n";

static const char fake_plugin[] =
	"#!/bin/sh\n"
	"[ \"$1\" = get-credentials ] || { echo \"bad args: $*\" >&2; exit 4; }\n"
	"echo run >> \"$FAKE_DIR/count-$FAKE_MODE\"\n"
	"cat > \"$FAKE_DIR/request-$FAKE_MODE\"\n"
	"V=credentialprovider.kubelet.k8s.io/v1\n"
	"K=CredentialProviderResponse\n"
	"A='\"auth\":{\"*.example.com\":{\"username\":\"u1\",\"password\":\"p1\"},"
	"\"reg.example.com/team\":{\"username\":\"u2\",\"password\":\"p2\"}}'\n"
	"case \"$FAKE_MODE\" in\n"
	"registry) echo \"{\\\"apiVersion\\\":\\\"$V\\\",\\\"kind\\\":\\\"$K\\\",\\\"cacheKeyType\\\":\\\"Registry\\\",\\\"cacheDuration\\\":\\\"1h0m0s\\\",$A}\";;\n"
	"image) echo \"{\\\"apiVersion\\\":\\\"$V\\\",\\\"kind\\\":\\\"$K\\\",\\\"cacheKeyType\\\":\\\"Image\\\",\\\"cacheDuration\\\":\\\"10m\\\",$A}\";;\n"
	"nocache) echo \"{\\\"apiVersion\\\":\\\"$V\\\",\\\"kind\\\":\\\"$K\\\",\\\"cacheKeyType\\\":\\\"Global\\\",\\\"cacheDuration\\\":\\\"0s\\\",$A}\";;\n"
	"default) echo \"{\\\"apiVersion\\\":\\\"$V\\\",\\\"kind\\\":\\\"$K\\\",\\\"cacheKeyType\\\":\\\"Global\\\",$A}\";;\n"
	"expired) echo \"{\\\"apiVersion\\\":\\\"$V\\\",\\\"kind\\\":\\\"$K\\\",\\\"cacheKeyType\\\":\\\"Global\\\",\\\"cacheDuration\\\":\\\"1ms\\\",$A}\";;\n"
	"badversion) echo \"{\\\"apiVersion\\\":\\\"credentialprovider.kubelet.k8s.io/v1beta1\\\",\\\"kind\\\":\\\"$K\\\",\\\"cacheKeyType\\\":\\\"Image\\\"}\";;\n"
	"badkey) echo \"{\\\"apiVersion\\\":\\\"$V\\\",\\\"kind\\\":\\\"$K\\\",\\\"cacheKeyType\\\":\\\"Pod\\\"}\";;\n"
	"garbage) echo 'password=hunter2';;\n"
	"fail) echo 'access denied for role' >&2; exit 1;;\n"
	"slow) sleep 10;;\n"
	"nomatch) echo \"{\\\"apiVersion\\\":\\\"$V\\\",\\\"kind\\\":\\\"$K\\\",\\\"cacheKeyType\\\":\\\"Image\\\",\\\"auth\\\":{\\\"elsewhere.io\\\":{\\\"username\\\":\\\"x\\\",\\\"password\\\":\\\"y\\\"}}}\";;\n"
	"esac\n";

static sigil__credstore *kube_store(const char *mode, const char *docker_json, sigil_error *e)
{
	char yaml[2048];
	snprintf(yaml, sizeof yaml, provider_yaml, tmpdir, mode);
	char name[64];
	snprintf(name, sizeof name, "provider-%s.yaml", mode);
	write_file(tpath(name), yaml, 0644);
	write_file(tpath("kube-docker.json"), docker_json ? docker_json : "{}", 0644);
	sigil__credstore *cs = NULL;
	if (sigil__credstore_new(&cs, tpath("kube-docker.json"), tpath(name), plugdir, e) != 0)
		return NULL;
	return cs;
}

static int runs(const char *mode)
{
	char name[64];
	snprintf(name, sizeof name, "count-%s", mode);
	return count_lines(tpath(name));
}

static got klookup(sigil__credstore *cs, const char *image, int64_t timeout_ms)
{
	got g = { 0 };
	g.e = (sigil_error)SIGIL_ERROR_INIT;
	char domain[256];
	snprintf(domain, sizeof domain, "%.*s", (int)strcspn(image, "/"), image);
	g.rc = sigil__credstore_lookup(cs, domain, image, in_ms(timeout_ms), &g.c, &g.found, &g.e);
	return g;
}

static void test_plugin_cache(void)
{
	sigil_error e = SIGIL_ERROR_INIT;
	sigil__credstore *cs = kube_store("registry", NULL, &e);
	CHECK(cs != NULL);
	if (!cs) {
		fprintf(stderr, "  %s\n", e.message);
		return;
	}
	/* the most specific auth key wins; the plugin sees the repository */
	got g = klookup(cs, "reg.example.com/team/app@sha256:0123", 5000);
	CHECK_INTEQ(g.rc, 0);
	CHECK(g.found);
	CHECK_STREQ(g.c.username, "u2");
	CHECK_STREQ(g.c.password, "p2");
	sigil__credential_clear(&g.c);
	CHECK_INTEQ(runs("registry"), 1);
	size_t n = 0;
	char *req = (char *)check_read_file(tpath("request-registry"), &n);
	CHECK_STREQ(req, "{\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\","
		"\"kind\":\"CredentialProviderRequest\",\"image\":\"reg.example.com/team/app\"}");
	free(req);

	/* second lookup, another image on the same registry: cacheKeyType
	 * Registry serves it from the cache. keyring.go indexes the key
	 * "reg.example.com/team" under its host too, and that sorts before
	 * "*.example.com": kubelet offers u2 first here as well */
	g = klookup(cs, "reg.example.com/other:v2", 5000);
	CHECK(g.found);
	CHECK_STREQ(g.c.username, "u2");
	sigil__credential_clear(&g.c);
	CHECK_INTEQ(runs("registry"), 1);

	/* another registry that the plugin matches: runs again */
	g = klookup(cs, "two.example.com/x:1", 5000);
	CHECK(g.found);
	CHECK_STREQ(g.c.username, "u1");
	sigil__credential_clear(&g.c);
	CHECK_INTEQ(runs("registry"), 2);

	/* not in matchImages: the plugin is not asked */
	g = klookup(cs, "a.b.example.com/x", 5000);
	CHECK_INTEQ(g.rc, 0);
	CHECK(!g.found);
	CHECK_INTEQ(runs("registry"), 2);
	sigil__credstore_free(cs);

	/* Image: per image */
	cs = kube_store("image", NULL, &e);
	g = klookup(cs, "reg.example.com/a:1", 5000);
	CHECK(g.found);
	sigil__credential_clear(&g.c);
	g = klookup(cs, "reg.example.com/a:2", 5000);   /* same repository */
	sigil__credential_clear(&g.c);
	CHECK_INTEQ(runs("image"), 1);
	g = klookup(cs, "reg.example.com/b:1", 5000);
	sigil__credential_clear(&g.c);
	CHECK_INTEQ(runs("image"), 2);
	sigil__credstore_free(cs);

	/* cacheDuration "0s": never cached */
	cs = kube_store("nocache", NULL, &e);
	for (int i = 0; i < 3; i++) {
		g = klookup(cs, "reg.example.com/a", 5000);
		CHECK(g.found);
		sigil__credential_clear(&g.c);
	}
	CHECK_INTEQ(runs("nocache"), 3);
	sigil__credstore_free(cs);

	/* no cacheDuration: the provider's defaultCacheDuration (12h) */
	cs = kube_store("default", NULL, &e);
	for (int i = 0; i < 3; i++) {
		g = klookup(cs, "reg.example.com/a", 5000);
		sigil__credential_clear(&g.c);
	}
	CHECK_INTEQ(runs("default"), 1);
	sigil__credstore_free(cs);

	/* expired entries are not served */
	cs = kube_store("expired", NULL, &e);
	g = klookup(cs, "reg.example.com/a", 5000);
	sigil__credential_clear(&g.c);
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	g = klookup(cs, "reg.example.com/a", 5000);
	sigil__credential_clear(&g.c);
	CHECK_INTEQ(runs("expired"), 2);
	sigil__credstore_free(cs);

	/* a response without a matching auth key: on to docker's config */
	cs = kube_store("nomatch",
		"{\"auths\":{\"reg.example.com\":{\"username\":\"dockeruser\",\"password\":\"x\"}}}", &e);
	g = klookup(cs, "reg.example.com/a", 5000);
	CHECK_INTEQ(g.rc, 0);
	CHECK(g.found);
	CHECK_STREQ(g.c.username, "dockeruser");
	sigil__credential_clear(&g.c);
	sigil__credstore_free(cs);

	/* plugins come before docker's config */
	cs = kube_store("default",
		"{\"auths\":{\"reg.example.com\":{\"username\":\"dockeruser\",\"password\":\"x\"}}}", &e);
	g = klookup(cs, "reg.example.com/a", 5000);
	CHECK_STREQ(g.c.username, "u2");
	sigil__credential_clear(&g.c);
	sigil__credstore_free(cs);
}

static void plugin_error(const char *mode, int64_t timeout, sigil_category cat, const char *msg)
{
	sigil_error e = SIGIL_ERROR_INIT;
	sigil__credstore *cs = kube_store(mode, NULL, &e);
	CHECK(cs != NULL);
	if (!cs)
		return;
	int64_t t0 = sigil__cred_now_ms();
	got g = klookup(cs, "reg.example.com/app:1", timeout);
	CHECK(sigil__cred_now_ms() - t0 < 3000);
	CHECK_INTEQ(g.rc, -1);
	CHECK(!g.found);
	CHECK_INTEQ(g.e.category, cat);
	CHECK_CONTAINS(g.e.message, "credential provider plugin fakeprov for image reg.example.com/app");
	CHECK_CONTAINS(g.e.message, msg);
	CHECK(strstr(g.e.message, "hunter2") == NULL);
	sigil__credstore_free(cs);
}

static void test_plugin_errors(void)
{
	plugin_error("badversion", 5000, SIGIL_ERR_NETWORK,
		"did not match expected apiVersion:credentialprovider.kubelet.k8s.io/v1, actual "
		"apiVersion:credentialprovider.kubelet.k8s.io/v1beta1");
	plugin_error("badkey", 5000, SIGIL_ERR_NETWORK, "did not return a valid cacheKeyType: \"Pod\"");
	plugin_error("garbage", 5000, SIGIL_ERR_NETWORK, "error decoding credential provider plugin response");
	plugin_error("fail", 5000, SIGIL_ERR_NETWORK, "exit status 1: access denied for role");
	plugin_error("slow", 300, SIGIL_ERR_NETWORK, "timed out");
}

typedef struct cfgcase {
	const char *doc;
	sigil_category cat;
	const char *msg;
} cfgcase;

static void test_provider_config(void)
{
	char ok_json[1024];
	snprintf(ok_json, sizeof ok_json,
		"{\"apiVersion\":\"kubelet.config.k8s.io/v1\",\"kind\":\"CredentialProviderConfig\","
		"\"providers\":[{\"name\":\"fakeprov\",\"matchImages\":[\"*.example.com\"],"
		"\"defaultCacheDuration\":\"1m\",\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1beta1\"}]}");
	sigil__kube_providers *kp = NULL;
	sigil_error e = SIGIL_ERROR_INIT;
	CHECK_INTEQ(sigil__kube_config_parse((const uint8_t *)ok_json, strlen(ok_json), "t.json",
		plugdir, &kp, &e), 0);
	sigil__kube_providers_free(kp);

#define HEAD "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n"
#define PROV(name) "  - name: " name "\n    matchImages: [\"*.example.com\"]\n" \
	"    defaultCacheDuration: 1m\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n"
	static const cfgcase bad[] = {
		{ HEAD "  - name: a/b\n    matchImages: [x]\n", SIGIL_ERR_POLICY,
		  "providers[0].name: Invalid value: \"a/b\": provider name cannot contain '/'" },
		{ HEAD "  - name: a b\n", SIGIL_ERR_POLICY, "provider name cannot contain spaces" },
		{ HEAD "  - name: ..\n", SIGIL_ERR_POLICY, "provider name cannot be '..'" },
		{ HEAD "  - name: \"\"\n", SIGIL_ERR_POLICY, "providers[0].name: Required value" },
		{ HEAD PROV("fakeprov") PROV("fakeprov"), SIGIL_ERR_POLICY,
		  "providers[1].name: Duplicate value: \"fakeprov\"" },
		{ HEAD "  - name: fakeprov\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n"
		  "    defaultCacheDuration: 1m\n", SIGIL_ERR_POLICY,
		  "matchImages: Required value: at least 1 item in matchImages is required" },
		{ HEAD "  - name: fakeprov\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n"
		  "    matchImages: [\"bad host\"]\n    defaultCacheDuration: 1m\n", SIGIL_ERR_POLICY,
		  "matchImages: Invalid value: \"bad host\": match image is invalid: invalid character in host name" },
		{ HEAD "  - name: fakeprov\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n"
		  "    matchImages: [a.io]\n", SIGIL_ERR_POLICY, "defaultCacheDuration: Required value" },
		{ HEAD "  - name: fakeprov\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n"
		  "    matchImages: [a.io]\n    defaultCacheDuration: -1m\n", SIGIL_ERR_POLICY,
		  "defaultCacheDuration must be greater than or equal to 0" },
		{ HEAD "  - name: fakeprov\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n"
		  "    matchImages: [a.io]\n    defaultCacheDuration: 12\n", SIGIL_ERR_POLICY,
		  "defaultCacheDuration: expected a string" },
		{ HEAD "  - name: fakeprov\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n"
		  "    matchImages: [a.io]\n    defaultCacheDuration: 5y\n", SIGIL_ERR_POLICY,
		  "time: unknown unit \"y\"" },
		{ HEAD "  - name: fakeprov\n    apiVersion: credentialprovider.kubelet.k8s.io/v2\n", SIGIL_ERR_POLICY,
		  "providers[0].apiVersion: Unsupported value: \"credentialprovider.kubelet.k8s.io/v2\"" },
		{ HEAD "  - name: fakeprov\n", SIGIL_ERR_POLICY, "providers[0].apiVersion: Required value" },
		{ HEAD PROV("absentplugin"), SIGIL_ERR_POLICY, "plugin binary executable" },
		{ HEAD PROV("fakeprov") "    unknownField: 1\n", SIGIL_ERR_POLICY,
		  "providers[0]: unknown field \"unknownField\"" },
		{ HEAD PROV("fakeprov") "    env:\n      - name: A=B\n        value: x\n", SIGIL_ERR_POLICY,
		  "providers[0].env[0].name: invalid environment variable name" },
		{ HEAD PROV("fakeprov") "    args: [1]\n", SIGIL_ERR_POLICY, "providers[0].args[0]: expected a string" },
		{ HEAD, SIGIL_ERR_POLICY, "at least 1 item in plugins is required" },
		{ "apiVersion: kubelet.config.k8s.io/v1\nkind: KubeletConfiguration\n", SIGIL_ERR_POLICY,
		  "kind: expected \"CredentialProviderConfig\", got \"KubeletConfiguration\"" },
		{ "apiVersion: v1\nkind: CredentialProviderConfig\n", SIGIL_ERR_POLICY,
		  "apiVersion: expected kubelet.config.k8s.io/v1" },
		{ "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nextra: 1\n",
		  SIGIL_ERR_POLICY, "CredentialProviderConfig: unknown field \"extra\"" },
		{ "providers:\n  - name: [\n", SIGIL_ERR_MALFORMED, "YAML line" },
		{ "a: &x 1\nb: *x\n", SIGIL_ERR_UNSUPPORTED, "aliases are not supported" },
		{ "a: 1\na: 2\n", SIGIL_ERR_MALFORMED, "duplicate key \"a\"" },
		{ "a: 1\n---\nb: 2\n", SIGIL_ERR_MALFORMED, "more than one document" },
		{ "- 1\n- 2\n", SIGIL_ERR_MALFORMED, "expected a CredentialProviderConfig object" },
		{ "{\"apiVersion\": ", SIGIL_ERR_MALFORMED, "" },
		{ "", SIGIL_ERR_MALFORMED, "expected a CredentialProviderConfig object" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		kp = NULL;
		e = (sigil_error)SIGIL_ERROR_INIT;
		int rc = sigil__kube_config_parse((const uint8_t *)bad[i].doc, strlen(bad[i].doc),
			"cfg.yaml", plugdir, &kp, &e);
		CHECK_INTEQ(rc, -1);
		CHECK(kp == NULL);
		if (e.category != bad[i].cat || !strstr(e.message, bad[i].msg))
			fprintf(stderr, "  case %zu: %s\n", i, e.message);
		CHECK_INTEQ(e.category, bad[i].cat);
		CHECK_CONTAINS(e.message, bad[i].msg);
		CHECK_CONTAINS(e.message, "credential provider config cfg.yaml");
	}

	/* a deep document is refused, not recursed into */
	char deep[400];
	size_t k = 0;
	for (int i = 0; i < 100; i++)
		deep[k++] = '[';
	deep[k] = 0;
	e = (sigil_error)SIGIL_ERROR_INIT;
	CHECK_INTEQ(sigil__kube_config_parse((const uint8_t *)deep, k, "deep.yaml", plugdir, &kp, &e), -1);
	CHECK_INTEQ(e.category, SIGIL_ERR_LIMIT);

	/* the plugin directory must exist */
	e = (sigil_error)SIGIL_ERROR_INIT;
	CHECK_INTEQ(sigil__kube_config_parse((const uint8_t *)ok_json, strlen(ok_json), "t.json",
		tpath("nodir"), &kp, &e), -1);
	CHECK_INTEQ(e.category, SIGIL_ERR_POLICY);
	CHECK_CONTAINS(e.message, "plugin binary directory");

	/* a directory of configs is merged in lexical order; names stay
	 * unique across files */
	mkdir(tpath("confd"), 0755);
	write_file(tpath("confd/10-a.yaml"), HEAD PROV("fakeprov"), 0644);
	write_file(tpath("confd/README"), "not a config", 0644);
	e = (sigil_error)SIGIL_ERROR_INIT;
	CHECK_INTEQ(sigil__kube_config_load(tpath("confd"), plugdir, &kp, &e), 0);
	sigil__kube_providers_free(kp);
	write_file(tpath("confd/20-b.json"), ok_json, 0644);
	e = (sigil_error)SIGIL_ERROR_INIT;
	CHECK_INTEQ(sigil__kube_config_load(tpath("confd"), plugdir, &kp, &e), -1);
	CHECK_INTEQ(e.category, SIGIL_ERR_POLICY);
	CHECK_CONTAINS(e.message, "20-b.json: providers[0].name: Duplicate value: \"fakeprov\"");
	/* through the store: the file is named */
	sigil__credstore *cs = NULL;
	e = (sigil_error)SIGIL_ERROR_INIT;
	CHECK_INTEQ(sigil__credstore_new(&cs, tpath("nonexistent.json"), tpath("confd"), plugdir, &e), -1);
	CHECK_CONTAINS(e.message, "20-b.json");
	e = (sigil_error)SIGIL_ERROR_INIT;
	CHECK_INTEQ(sigil__credstore_new(&cs, tpath("nonexistent.json"), tpath("none.yaml"), plugdir, &e), -1);
	CHECK_INTEQ(e.category, SIGIL_ERR_IO);
	CHECK_CONTAINS(e.message, "none.yaml");
#undef HEAD
#undef PROV
}

static void test_service_account_provider(void)
{
	/* a plugin that needs a pod's service account token never runs */
	static const char doc[] =
		"apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n"
		"  - name: fakeprov\n    matchImages: [\"*.example.com\"]\n    defaultCacheDuration: 1m\n"
		"    apiVersion: credentialprovider.kubelet.k8s.io/v1\n"
		"    tokenAttributes:\n      serviceAccountTokenAudience: aud\n      requireServiceAccount: true\n";
	sigil__kube_providers *kp = NULL;
	sigil_error e = SIGIL_ERROR_INIT;
	CHECK_INTEQ(sigil__kube_config_parse((const uint8_t *)doc, strlen(doc), "sa.yaml", plugdir, &kp,
		&e), 0);
	sigil__credential c = { 0 };
	bool found = true;
	CHECK_INTEQ(sigil__kube_lookup(kp, "reg.example.com/a", in_ms(5000), &c, &found, &e), 0);
	CHECK(!found);
	sigil__kube_providers_free(kp);
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "%s/sigil-cred-XXXXXX", "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(bindir, sizeof bindir, "%s/bin", tmpdir);
	snprintf(plugdir, sizeof plugdir, "%s/plugins", tmpdir);
	mkdir(bindir, 0755);
	mkdir(plugdir, 0755);
	char p[600];
	snprintf(p, sizeof p, "%s/fakeprov", plugdir);
	write_file(p, fake_plugin, 0755);
	const char *old = getenv("PATH");
	size_t plen = strlen(bindir) + (old ? strlen(old) : 0) + 32;
	char *path = malloc(plen);
	if (!path)
		return 2;
	snprintf(path, plen, "%s:%s", bindir, old ? old : "/usr/bin:/bin");
	setenv("PATH", path, 1);
	free(path);
	setenv("HELPER_LOG", tpath("helper.log"), 1);

	RUN(test_hostname);
	RUN(test_docker_forms);
	RUN(test_docker_errors);
	RUN(test_docker_files);
	RUN(test_helpers);
	RUN(test_path_search);
	RUN(test_durations);
	RUN(test_match_images);
	RUN(test_provider_config);
	RUN(test_service_account_provider);
	RUN(test_plugin_cache);
	RUN(test_plugin_errors);

	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return check_summary();
}
