/* test-reference.c - image references as distribution/reference v0.6.0
 * ParseNormalizedNamed reads them (cases modelled on its normalize_test.go
 * and reference_test.go, written anew). */
#include <stdint.h>
#include <string.h>
#include <sigil/reference.h>
#include "check.h"

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define H128 H64 H64

typedef struct ok_case {
	const char *in;
	int imply_latest;
	const char *domain, *path, *tag, *digest, *string;
} ok_case;

static const ok_case ok_cases[] = {
	/* Docker Hub normalisation */
	{ "nginx", 1, "docker.io", "library/nginx", "latest", "", "docker.io/library/nginx:latest" },
	{ "nginx", 0, "docker.io", "library/nginx", "", "", "docker.io/library/nginx" },
	{ "nginx:1.25", 1, "docker.io", "library/nginx", "1.25", "", "docker.io/library/nginx:1.25" },
	{ "library/nginx", 0, "docker.io", "library/nginx", "", "", "docker.io/library/nginx" },
	{ "docker.io/nginx", 0, "docker.io", "library/nginx", "", "", "docker.io/library/nginx" },
	{ "docker.io/library/nginx", 0, "docker.io", "library/nginx", "", "", "docker.io/library/nginx" },
	{ "index.docker.io/nginx", 0, "docker.io", "library/nginx", "", "", "docker.io/library/nginx" },
	{ "index.docker.io/foo/bar", 0, "docker.io", "foo/bar", "", "", "docker.io/foo/bar" },
	{ "dmcgowan/myapp", 0, "docker.io", "dmcgowan/myapp", "", "", "docker.io/dmcgowan/myapp" },
	{ "dmcgowan/myapp/sub", 0, "docker.io", "dmcgowan/myapp/sub", "", "", "docker.io/dmcgowan/myapp/sub" },
	/* a single component is always a Docker Hub name: "localhost:5000" is
	 * docker.io/library/localhost with tag 5000 (splitDockerDomain) */
	{ "localhost:5000", 0, "docker.io", "library/localhost", "5000", "", "docker.io/library/localhost:5000" },
	{ "localhost", 0, "docker.io", "library/localhost", "", "", "docker.io/library/localhost" },
	{ "example.com", 0, "docker.io", "library/example.com", "", "", "docker.io/library/example.com" },
	/* domains */
	{ "localhost/app", 0, "localhost", "app", "", "", "localhost/app" },
	{ "localhost:5000/app:v1", 0, "localhost:5000", "app", "v1", "", "localhost:5000/app:v1" },
	{ "127.0.0.1:5000/app", 1, "127.0.0.1:5000", "app", "latest", "", "127.0.0.1:5000/app:latest" },
	{ "ghcr.io/org/app", 0, "ghcr.io", "org/app", "", "", "ghcr.io/org/app" },
	{ "registry:5000/app", 0, "registry:5000", "app", "", "", "registry:5000/app" },
	{ "Foo/bar", 0, "Foo", "bar", "", "", "Foo/bar" },               /* upper case: a host */
	{ "EXAMPLE.COM/bar", 0, "EXAMPLE.COM", "bar", "", "", "EXAMPLE.COM/bar" },
	{ "[::1]/app", 0, "[::1]", "app", "", "", "[::1]/app" },
	{ "[::1]:5000/app", 0, "[::1]:5000", "app", "", "", "[::1]:5000/app" },
	{ "a-b.c-d.example/x", 0, "a-b.c-d.example", "x", "", "", "a-b.c-d.example/x" },
	{ "1.2.3.4/x", 0, "1.2.3.4", "x", "", "", "1.2.3.4/x" },
	{ "docker.io/ubuntu/x", 0, "docker.io", "ubuntu/x", "", "", "docker.io/ubuntu/x" },
	/* path component separators */
	{ "example.com/a.b_c__d-e---f", 0, "example.com", "a.b_c__d-e---f", "", "", "example.com/a.b_c__d-e---f" },
	{ "foo_bar/baz", 0, "docker.io", "foo_bar/baz", "", "", "docker.io/foo_bar/baz" },
	{ "foo-bar/baz", 0, "docker.io", "foo-bar/baz", "", "", "docker.io/foo-bar/baz" },
	{ "a/b/c/d/e", 0, "docker.io", "a/b/c/d/e", "", "", "docker.io/a/b/c/d/e" },
	/* tags */
	{ "x.io/a:A_b.C-1", 0, "x.io", "a", "A_b.C-1", "", "x.io/a:A_b.C-1" },
	{ "x.io/a:_x", 0, "x.io", "a", "_x", "", "x.io/a:_x" },
	/* digests; name:tag@digest keeps both */
	{ "x.io/a@sha256:" H64, 1, "x.io", "a", "", "sha256:" H64, "x.io/a@sha256:" H64 },
	{ "x.io/a:v1@sha256:" H64, 1, "x.io", "a", "v1", "sha256:" H64, "x.io/a:v1@sha256:" H64 },
	{ "busybox@sha512:" H128, 0, "docker.io", "library/busybox", "", "sha512:" H128,
		"docker.io/library/busybox@sha512:" H128 },
	{ "127.0.0.1:5000/net-monitor:v1@sha256:" H64, 0, "127.0.0.1:5000", "net-monitor", "v1", "sha256:" H64,
		"127.0.0.1:5000/net-monitor:v1@sha256:" H64 },
};

static void test_valid(void)
{
	for (size_t i = 0; i < sizeof ok_cases / sizeof ok_cases[0]; i++) {
		const ok_case *c = &ok_cases[i];
		if (!c->domain)
			continue;
		sigil_reference *r = NULL;
		sigil_error err = SIGIL_ERROR_INIT;
		sigil_status st = sigil_reference_parse(&r, c->in, c->imply_latest, &err);
		CHECK_INTEQ(st, SIGIL_STATUS_OK);
		if (st != SIGIL_STATUS_OK) {
			fprintf(stderr, "  input %s: %s\n", c->in, err.message);
			continue;
		}
		CHECK_INTEQ(err.category, SIGIL_ERR_NONE);
		CHECK_STREQ(sigil_reference_domain(r), c->domain);
		CHECK_STREQ(sigil_reference_path(r), c->path);
		CHECK_STREQ(sigil_reference_tag(r), c->tag);
		CHECK_STREQ(sigil_reference_digest(r), c->digest);
		CHECK_STREQ(sigil_reference_string(r), c->string);
		sigil_reference_free(r);
	}
}

static void test_repository(void)
{
	sigil_reference *r = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK_INTEQ(sigil_reference_parse(&r, "nginx:1@sha256:" H64, 0, &err), SIGIL_STATUS_OK);
	CHECK_STREQ(sigil_reference_repository(r), "docker.io/library/nginx");
	sigil_reference_free(r);
	r = NULL;
	CHECK_INTEQ(sigil_reference_parse(&r, "localhost:5000/a/b", 1, &err), SIGIL_STATUS_OK);
	CHECK_STREQ(sigil_reference_repository(r), "localhost:5000/a/b");
	CHECK_STREQ(sigil_reference_string(r), "localhost:5000/a/b:latest");
	sigil_reference_free(r);
	sigil_reference_free(NULL);
	CHECK(sigil_reference_domain(NULL) == NULL);
}

typedef struct bad_case {
	const char *in;
	sigil_category cat;
	const char *msg;
} bad_case;

static const bad_case bad_cases[] = {
	{ "", SIGIL_ERR_MALFORMED, "repository name must have at least one component" },
	{ H64, SIGIL_ERR_MALFORMED, "cannot specify 64-byte hexadecimal strings" },
	/* upper case in the repository path */
	{ "Nginx", SIGIL_ERR_MALFORMED, "repository name (library/Nginx) must be lowercase" },
	{ "docker.io/Foo", SIGIL_ERR_MALFORMED, "repository name (library/Foo) must be lowercase" },
	{ "example.com/Foo/bar", SIGIL_ERR_MALFORMED, "must be lowercase" },
	{ "foo/Bar:tag", SIGIL_ERR_MALFORMED, "repository name (foo/Bar) must be lowercase" },
	/* path components */
	{ "x.io/", SIGIL_ERR_MALFORMED, "invalid reference format" },
	{ "x.io/a//b", SIGIL_ERR_MALFORMED, "invalid repository path" },
	{ "x.io/a/", SIGIL_ERR_MALFORMED, "invalid repository path" },
	{ "x.io/-a", SIGIL_ERR_MALFORMED, "invalid repository path" },
	{ "x.io/a-", SIGIL_ERR_MALFORMED, "invalid repository path" },
	{ "x.io/a..b", SIGIL_ERR_MALFORMED, "invalid repository path" },
	{ "x.io/a___b", SIGIL_ERR_MALFORMED, "invalid repository path" },
	{ "x.io/a._b", SIGIL_ERR_MALFORMED, "invalid repository path" },
	{ "x.io/_a", SIGIL_ERR_MALFORMED, "invalid repository path" },
	{ "x.io/a b", SIGIL_ERR_MALFORMED, "invalid repository path" },
	{ "x.io/caf\xc3\xa9", SIGIL_ERR_MALFORMED, "invalid repository path" },
	{ "/a", SIGIL_ERR_MALFORMED, "invalid reference format" },
	/* domains */
	{ "-x.io/a", SIGIL_ERR_MALFORMED, "invalid registry domain" },
	{ "x-.io/a", SIGIL_ERR_MALFORMED, "invalid registry domain" },
	{ "x..io/a", SIGIL_ERR_MALFORMED, "invalid registry domain" },
	{ "x.io:/a", SIGIL_ERR_MALFORMED, "invalid registry domain" },
	{ "x.io:50a/a", SIGIL_ERR_MALFORMED, "invalid registry domain" },
	{ "foo_bar.com/baz", SIGIL_ERR_MALFORMED, "invalid registry domain" },
	{ "[]/a", SIGIL_ERR_MALFORMED, "invalid reference format" },
	{ "[::1/a", SIGIL_ERR_MALFORMED, "invalid registry domain" },
	{ "[::g]/a", SIGIL_ERR_MALFORMED, "invalid registry domain" },
	{ "[fe80::1%eth0]/app", SIGIL_ERR_MALFORMED, "invalid registry domain" },
	{ "[::1]:/a", SIGIL_ERR_MALFORMED, "invalid registry domain" },
	/* tags */
	{ "x.io/a:", SIGIL_ERR_MALFORMED, "invalid tag" },
	{ "x.io/a:-x", SIGIL_ERR_MALFORMED, "invalid tag" },
	{ "x.io/a:.x", SIGIL_ERR_MALFORMED, "invalid tag" },
	{ "x.io/a:a:b", SIGIL_ERR_MALFORMED, "invalid tag" },
	{ "x.io/a:a/b", SIGIL_ERR_MALFORMED, "invalid tag" },
	{ "x.io/a:a+b", SIGIL_ERR_MALFORMED, "invalid tag" },
	/* digests */
	{ "x.io/a@", SIGIL_ERR_MALFORMED, "invalid digest" },
	{ "x.io/a@sha256", SIGIL_ERR_MALFORMED, "invalid digest" },
	{ "x.io/a@sha256:abc", SIGIL_ERR_MALFORMED, "invalid digest" },         /* < 32 hex */
	{ "x.io/a@sha256:" H64 "x", SIGIL_ERR_MALFORMED, "invalid digest" },
	{ "x.io/a@256:" H64, SIGIL_ERR_MALFORMED, "invalid digest" },
	{ "x.io/a@sha256:" H64 "@sha256:" H64, SIGIL_ERR_MALFORMED, "invalid digest" },
	{ "x.io/a@sha256:" H64 "00", SIGIL_ERR_MALFORMED, "invalid checksum digest length" },
	{ "x.io/a@sha256:0123456789abcdef0123456789abcdef", SIGIL_ERR_MALFORMED, "invalid checksum digest length" },
	{ "x.io/a@sha512:" H64, SIGIL_ERR_MALFORMED, "invalid checksum digest length" },
	{ "x.io/a@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
		SIGIL_ERR_MALFORMED, "invalid checksum digest format" },
	{ "x.io/a@md5:0123456789abcdef0123456789abcdef", SIGIL_ERR_UNSUPPORTED, "unsupported digest algorithm \"md5\"" },
	{ "x.io/a@sha384:" H64 "0123456789abcdef0123456789abcdef", SIGIL_ERR_UNSUPPORTED,
		"unsupported digest algorithm" },
	{ "x.io/a@sha256+b64:" H64, SIGIL_ERR_UNSUPPORTED, "unsupported digest algorithm" },
	{ "x.io/a@sha256:" H64 ":x", SIGIL_ERR_MALFORMED, "invalid digest" },
	/* a digest with '/' makes the first component a domain candidate */
	{ "a@sha256:" H64 "/b", SIGIL_ERR_MALFORMED, "invalid reference format" },
};

static void test_invalid(void)
{
	for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
		const bad_case *c = &bad_cases[i];
		sigil_reference *r = (sigil_reference *)(uintptr_t)1; /* untouched on failure */
		sigil_error err = SIGIL_ERROR_INIT;
		sigil_status st = sigil_reference_parse(&r, c->in, 1, &err);
		CHECK_INTEQ(st, SIGIL_STATUS_ERROR);
		if (st != SIGIL_STATUS_ERROR) {
			fprintf(stderr, "  input %s accepted as %s\n", c->in, sigil_reference_string(r));
			sigil_reference_free(r);
			continue;
		}
		CHECK(r == (sigil_reference *)(uintptr_t)1);
		CHECK_INTEQ(err.category, c->cat);
		CHECK_CONTAINS(err.message, c->msg);
	}
}

static void test_lengths(void)
{
	char buf[2048];
	sigil_reference *r = NULL;
	sigil_error err = SIGIL_ERROR_INIT;

	/* tag: 128 characters ok, 129 not */
	memcpy(buf, "x.io/a:", 7);
	memset(buf + 7, 't', 128);
	buf[7 + 128] = '\0';
	CHECK_INTEQ(sigil_reference_parse(&r, buf, 0, &err), SIGIL_STATUS_OK);
	sigil_reference_free(r);
	r = NULL;
	buf[7 + 128] = 't';
	buf[7 + 129] = '\0';
	CHECK_INTEQ(sigil_reference_parse(&r, buf, 0, &err), SIGIL_STATUS_ERROR);
	CHECK_CONTAINS(err.message, "invalid tag");

	/* path: 255 characters ok (the domain does not count), 256 not */
	memcpy(buf, "x.io/", 5);
	memset(buf + 5, 'a', 255);
	buf[5 + 255] = '\0';
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK_INTEQ(sigil_reference_parse(&r, buf, 0, &err), SIGIL_STATUS_OK);
	sigil_reference_free(r);
	r = NULL;
	buf[5 + 255] = 'a';
	buf[5 + 256] = '\0';
	CHECK_INTEQ(sigil_reference_parse(&r, buf, 0, &err), SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_MALFORMED);
	CHECK_CONTAINS(err.message, "repository name must not be more than 255 characters");

	/* "library/" counts: a 248-character Hub name is 256 with it */
	memset(buf, 'a', 248);
	buf[248] = '\0';
	CHECK_INTEQ(sigil_reference_parse(&r, buf, 0, &err), SIGIL_STATUS_ERROR);
	CHECK_CONTAINS(err.message, "not be more than 255");
	buf[247] = '\0';
	CHECK_INTEQ(sigil_reference_parse(&r, buf, 0, &err), SIGIL_STATUS_OK);
	sigil_reference_free(r);
	r = NULL;

	/* the whole input is bounded */
	memset(buf, 'a', 1500);
	memcpy(buf, "x.io/", 5);
	buf[1500] = '\0';
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK_INTEQ(sigil_reference_parse(&r, buf, 0, &err), SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_LIMIT);

	/* usage */
	CHECK_INTEQ(sigil_reference_parse(NULL, "a", 0, &err), SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_USAGE);
	CHECK_INTEQ(sigil_reference_parse(&r, NULL, 0, &err), SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_USAGE);
}

int main(void)
{
	RUN(test_valid);
	RUN(test_repository);
	RUN(test_invalid);
	RUN(test_lengths);
	return check_summary();
}
