/* test-sigild-service.c - sigild's verification service without a real
 * registry: malformed requests, the break-glass allow-list, skip-level
 * policies (no registry traffic), no applicable policy, an unreachable and
 * a silent registry (deny within the deadline, cached briefly), dry-run,
 * reload with a valid and an invalid policy, the trust revision, Status,
 * the audit log, collapsing of concurrent requests. Real registry
 * verification is the daemon integration test's job (tests/daemon). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include <sigil/sigil.h>
#include "check.h"
#include "service.h"
#include "audit.h"
#include "reload.h"

#define CASE SIGIL_TEST_DATA "/corpus/conformance/cases/001-jws-rsa2048-valid"
#define DIGEST "sha256:86d97be01114915d9a4166d4ce49ac7383dddba8158962dd747f14460d98da3d"
#define DIGEST2 "sha256:0000000000000000000000000000000000000000000000000000000000000001"

static char tmpdir[64];
static char confdir[128];
static char auditpath[128];
static int closed_port;
static int silent_port;
static int silent_fd = -1;

static void write_file(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(2);
	}
	fputs(s, f);
	fclose(f);
}

static void copy_file(const char *from, const char *to)
{
	size_t len;
	unsigned char *b = check_read_file(from, &len);
	FILE *f = fopen(to, "wb");
	if (!f)
		exit(2);
	fwrite(b, 1, len, f);
	fclose(f);
	free(b);
}

/* the policy used by most tests: a strict scope for the closed port, a
 * strict scope for the silent port, a skip scope, nothing else */
static void write_policy(const char *extra_statement)
{
	char doc[4096];
	snprintf(doc, sizeof doc,
		"{\"version\": \"1.0\", \"trustPolicies\": ["
		"{\"name\": \"closed\", \"registryScopes\": [\"127.0.0.1:%d/app\"],"
		" \"signatureVerification\": {\"level\": \"strict\"}, \"trustStores\": [\"ca:acme\"],"
		" \"trustedIdentities\": [\"*\"]},"
		"{\"name\": \"silent\", \"registryScopes\": [\"127.0.0.1:%d/app\"],"
		" \"signatureVerification\": {\"level\": \"strict\"}, \"trustStores\": [\"ca:acme\"],"
		" \"trustedIdentities\": [\"*\"]},"
		"{\"name\": \"skipped\", \"registryScopes\": [\"127.0.0.1:%d/skipped\"],"
		" \"signatureVerification\": {\"level\": \"skip\"}}%s]}",
		closed_port, silent_port, closed_port, extra_statement ? extra_statement : "");
	char path[256];
	snprintf(path, sizeof path, "%s/trustpolicy.oci.json", confdir);
	write_file(path, doc);
}

static void setup(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/sigild-service-XXXXXX");
	if (!mkdtemp(tmpdir))
		exit(2);
	snprintf(confdir, sizeof confdir, "%s/etc", tmpdir);
	char p[256];
	mkdir(confdir, 0700);
	snprintf(p, sizeof p, "%s/truststore", confdir);
	mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/truststore/x509", confdir);
	mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/truststore/x509/ca", confdir);
	mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/truststore/x509/ca/acme", confdir);
	mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/truststore/x509/ca/acme/00-chain-rsa2048-root.crt", confdir);
	copy_file(CASE "/truststore/x509/ca/acme/00-chain-rsa2048-root.crt", p);
	snprintf(auditpath, sizeof auditpath, "%s/audit.log", tmpdir);

	/* a port nobody listens on: bind, note, close */
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(s, (struct sockaddr *)&a, &al) != 0)
		exit(2);
	closed_port = ntohs(a.sin_port);
	close(s);
	/* a port that accepts connections (kernel backlog) and never answers */
	silent_fd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_port = 0;
	al = sizeof a;
	if (bind(silent_fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(silent_fd, 64) != 0 ||
	    getsockname(silent_fd, (struct sockaddr *)&a, &al) != 0)
		exit(2);
	silent_port = ntohs(a.sin_port);
	write_policy(NULL);
}

static void teardown(void)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", tmpdir);
	close(silent_fd);
}

static void base_config(sigild_config *c)
{
	sigil_error err = SIGIL_ERROR_INIT;
	if (sigild_config_defaults(c, &err) != SIGIL_STATUS_OK)
		exit(2);
	free(c->config_dir);
	c->config_dir = strdup(confdir);
	free(c->registry_config);
	c->registry_config = strdup("");
	free(c->audit_log);
	c->audit_log = strdup(auditpath);
	/* private state: the revocation cache must not land in /var/lib */
	char state[192];
	snprintf(state, sizeof state, "%s/state", tmpdir);
	free(c->state_dir);
	c->state_dir = strdup(state);
	c->plain_http = true;
	c->request_timeout_ms = 1000;
}

static sigild_service *new_service(sigild_config *c)
{
	sigild_service *s = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	if (sigild_service_new(&s, c, &err) != SIGIL_STATUS_OK) {
		fprintf(stderr, "sigild_service_new: %s\n", err.message);
		exit(2);
	}
	return s;
}

typedef struct req_buf {
	Sigil__V1__VerifyRequest req;
	Sigil__V1__Descriptor desc;
} req_buf;

static void make_req(req_buf *b, const char *name, const char *digest)
{
	sigil__v1__verify_request__init(&b->req);
	sigil__v1__descriptor__init(&b->desc);
	b->req.image_name = (char *)name;
	b->req.digest = (char *)digest;
	b->desc.media_type = (char *)"application/vnd.oci.image.manifest.v1+json";
	b->desc.digest = (char *)digest;
	b->desc.size = 401;
	b->req.descriptor = &b->desc;
}

static int64_t now_ms(void)
{
	return sigil_registry_now_ms();
}

static Sigil__V1__VerifyResponse *verify_ok(sigild_service *s, const Sigil__V1__VerifyRequest *req,
	int64_t deadline)
{
	Sigil__V1__VerifyResponse *r = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigild_service_verify(s, req, deadline, &r, &err) == SIGIL_STATUS_OK);
	if (!r)
		fprintf(stderr, "verify failed: %s\n", err.message);
	return r;
}

static Sigil__V1__StatusResponse *status(sigild_service *s)
{
	Sigil__V1__StatusResponse *st = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigild_service_status(s, &st, &err) == SIGIL_STATUS_OK);
	return st;
}

/* last_audit - the last line of the audit log, parsed */
static json_object *last_audit(void)
{
	size_t len;
	unsigned char *b = check_read_file(auditpath, &len);
	while (len && b[len - 1] == '\n')
		b[--len] = 0;
	char *line = strrchr((char *)b, '\n');
	line = line ? line + 1 : (char *)b;
	json_object *o = json_tokener_parse(line);
	free(b);
	CHECK(o != NULL);
	return o;
}

static const char *jstr(json_object *o, const char *k)
{
	json_object *v;
	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : "(absent)";
}

static int jbool(json_object *o, const char *k)
{
	json_object *v;
	return json_object_object_get_ex(o, k, &v) ? json_object_get_boolean(v) : -1;
}

static void expect_usage(sigild_service *s, const Sigil__V1__VerifyRequest *req, const char *want)
{
	Sigil__V1__VerifyResponse *r = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigild_service_verify(s, req, now_ms() + 2000, &r, &err) == SIGIL_STATUS_ERROR);
	CHECK(r == NULL);
	CHECK_INTEQ(err.category, SIGIL_ERR_USAGE);
	CHECK_CONTAINS(err.message, want);
	/* the refusal is audited */
	json_object *a = last_audit();
	CHECK_STREQ(jstr(a, "verdict"), "deny");
	CHECK_CONTAINS(jstr(a, "reason"), "invalid request: ");
	CHECK_CONTAINS(jstr(a, "reason"), want);
	json_object_put(a);
}

static void test_malformed_requests(void)
{
	sigild_config c;
	base_config(&c);
	sigild_service *s = new_service(&c);
	req_buf b;
	char name[128];
	snprintf(name, sizeof name, "127.0.0.1:%d/skipped:v1", closed_port);

	Sigil__V1__VerifyResponse *r = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigild_service_verify(s, NULL, 0, &r, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_USAGE);
	CHECK_CONTAINS(err.message, "missing request");

	make_req(&b, "", DIGEST);
	expect_usage(s, &b.req, "missing image name");
	make_req(&b, name, "");
	expect_usage(s, &b.req, "missing digest");
	make_req(&b, name, "sha256:abc");
	expect_usage(s, &b.req, "digest \"sha256:abc\" is not sha256:<64 lower-case hex>");
	make_req(&b, name, "sha256:86D97BE01114915D9A4166D4CE49AC7383DDDBA8158962DD747F14460D98DA3D");
	expect_usage(s, &b.req, "is not sha256");
	make_req(&b, name, "md5:86d97be01114915d9a4166d4ce49ac73");
	expect_usage(s, &b.req, "is not sha256");
	/* design rule 2: the descriptor's digest must be the digest */
	make_req(&b, name, DIGEST);
	b.desc.digest = (char *)DIGEST2;
	expect_usage(s, &b.req, "descriptor digest \"" DIGEST2 "\" does not match digest " DIGEST);
	b.desc.digest = (char *)"";
	expect_usage(s, &b.req, "descriptor digest \"\" does not match");
	/* names the reference grammar rejects */
	make_req(&b, "Docker.io/Library/Nginx:latest", DIGEST);
	expect_usage(s, &b.req, "image name \"Docker.io/Library/Nginx:latest\": ");
	make_req(&b, "nginx:bad tag", DIGEST);
	expect_usage(s, &b.req, "image name \"nginx:bad tag\"");
	make_req(&b, "docker.io/library/nginx@" DIGEST2, DIGEST);
	expect_usage(s, &b.req, "names digest " DIGEST2 ", not " DIGEST);
	/* user metadata keys must be unique and non-empty */
	make_req(&b, name, DIGEST);
	Sigil__V1__VerifyRequest__UserMetadataEntry m1 = SIGIL__V1__VERIFY_REQUEST__USER_METADATA_ENTRY__INIT;
	Sigil__V1__VerifyRequest__UserMetadataEntry m2 = SIGIL__V1__VERIFY_REQUEST__USER_METADATA_ENTRY__INIT;
	m1.key = (char *)"env";
	m1.value = (char *)"prod";
	m2.key = (char *)"env";
	m2.value = (char *)"dev";
	Sigil__V1__VerifyRequest__UserMetadataEntry *md[2] = { &m1, &m2 };
	b.req.user_metadata = md;
	b.req.n_user_metadata = 2;
	expect_usage(s, &b.req, "user metadata key \"env\" given twice");
	m2.key = (char *)"";
	expect_usage(s, &b.req, "empty key");

	/* a request without a descriptor (the CLI) is fine; a name with the
	 * same digest is fine */
	char named[256];
	snprintf(named, sizeof named, "127.0.0.1:%d/skipped@%s", closed_port, DIGEST);
	make_req(&b, named, DIGEST);
	b.req.descriptor = NULL;
	r = verify_ok(s, &b.req, now_ms() + 2000);
	CHECK(r && r->verdict == SIGIL__V1__VERDICT__VERDICT_ALLOW);
	sigild_verify_response_free(r);

	Sigil__V1__StatusResponse *st = status(s);
	CHECK_INTEQ(st->errors, 13);
	CHECK_INTEQ(st->allows, 1);
	CHECK_INTEQ(st->denies, 0);
	sigild_status_response_free(st);
	sigild_service_free(s);
	sigild_config_clear(&c);
}

static void test_allow_list(void)
{
	sigild_config c;
	base_config(&c);
	c.allow_digests = calloc(1, sizeof *c.allow_digests);
	c.allow_digests[0] = strdup(DIGEST2);
	c.allow_count = 1;
	sigild_service *s = new_service(&c);
	req_buf b;
	/* a repository with no policy at all: the allow-list wins anyway */
	make_req(&b, "registry.example/unknown/app:1", DIGEST2);
	Sigil__V1__VerifyResponse *r = verify_ok(s, &b.req, now_ms() + 2000);
	CHECK(r != NULL);
	if (r) {
		CHECK_INTEQ(r->verdict, SIGIL__V1__VERDICT__VERDICT_ALLOW);
		CHECK(r->allow_listed);
		CHECK(!r->dry_run_override);
		CHECK(!r->cached);
		CHECK_STREQ(r->reason, "allow-listed by sigild configuration (break-glass)");
	}
	sigild_verify_response_free(r);
	json_object *a = last_audit();
	CHECK_STREQ(jstr(a, "verdict"), "allow");
	CHECK_STREQ(jstr(a, "digest"), DIGEST2);
	CHECK_STREQ(jstr(a, "image"), "registry.example/unknown/app:1");
	CHECK_STREQ(jstr(a, "reason"), "allow-listed by sigild configuration (break-glass)");
	CHECK_INTEQ(jbool(a, "allowListed"), 1);
	CHECK_INTEQ(jbool(a, "cached"), 0);
	CHECK_INTEQ(jbool(a, "dryRunOverride"), 0);
	CHECK_CONTAINS(jstr(a, "time"), "Z");
	json_object_put(a);
	/* another digest on the same name is not allow-listed: no policy */
	make_req(&b, "registry.example/unknown/app:1", DIGEST);
	r = verify_ok(s, &b.req, now_ms() + 2000);
	CHECK(r && r->verdict == SIGIL__V1__VERDICT__VERDICT_DENY);
	CHECK(r && !r->allow_listed);
	CHECK(r && strcmp(r->failure, "no-policy") == 0);
	sigild_verify_response_free(r);
	sigild_service_free(s);
	sigild_config_clear(&c);
}

static void test_skip_and_no_policy(void)
{
	sigild_config c;
	base_config(&c);
	sigild_service *s = new_service(&c);
	req_buf b;
	char name[128];
	/* skip level: allowed without registry traffic (port closed) */
	snprintf(name, sizeof name, "127.0.0.1:%d/skipped:v1", closed_port);
	make_req(&b, name, DIGEST);
	int64_t t0 = now_ms();
	Sigil__V1__VerifyResponse *r = verify_ok(s, &b.req, t0 + 5000);
	CHECK(r != NULL);
	if (r) {
		CHECK_INTEQ(r->verdict, SIGIL__V1__VERDICT__VERDICT_ALLOW);
		CHECK_STREQ(r->policy, "skipped");
		CHECK_STREQ(r->level, "skip");
		CHECK_STREQ(r->failure, "");
		CHECK(!r->cached);
		CHECK(!r->allow_listed);
		CHECK(r->elapsed_us > 0);
	}
	sigild_verify_response_free(r);
	/* second time: from the cache */
	r = verify_ok(s, &b.req, now_ms() + 5000);
	CHECK(r && r->cached);
	CHECK(r && r->elapsed_us == 0);
	CHECK(r && r->verdict == SIGIL__V1__VERDICT__VERDICT_ALLOW);
	CHECK(r && strcmp(r->policy, "skipped") == 0);
	sigild_verify_response_free(r);
	json_object *a = last_audit();
	CHECK_INTEQ(jbool(a, "cached"), 1);
	CHECK_STREQ(jstr(a, "policy"), "skipped");
	CHECK_STREQ(jstr(a, "level"), "skip");
	json_object_put(a);
	/* no_cache skips the cache */
	b.req.no_cache = 1;
	r = verify_ok(s, &b.req, now_ms() + 5000);
	CHECK(r && !r->cached);
	sigild_verify_response_free(r);

	/* no statement for docker.io/library/nginx: deny, no-policy (and
	 * the skip verdict cached for the same digest under another name is
	 * not reused: the name selects the policy) */
	make_req(&b, "nginx", DIGEST);
	r = verify_ok(s, &b.req, now_ms() + 5000);
	CHECK(r != NULL);
	if (r) {
		CHECK_INTEQ(r->verdict, SIGIL__V1__VERDICT__VERDICT_DENY);
		CHECK_STREQ(r->failure, "no-policy");
		CHECK(r->reason[0] != '\0');
	}
	sigild_verify_response_free(r);
	a = last_audit();
	CHECK_STREQ(jstr(a, "image"), "nginx");
	CHECK_STREQ(jstr(a, "verdict"), "deny");
	json_object_put(a);

	Sigil__V1__StatusResponse *st = status(s);
	CHECK_INTEQ(st->allows, 3);
	CHECK_INTEQ(st->denies, 1);
	CHECK_INTEQ(st->errors, 0);
	CHECK_INTEQ(st->cache->hits, 1);
	CHECK_INTEQ(st->cache->misses, 2);
	CHECK_INTEQ(st->cache->entries, 2);
	CHECK_INTEQ(st->cache->capacity, 10000);
	CHECK_STREQ(st->mode, "enforce");
	CHECK_STREQ(st->config_dir, confdir);
	CHECK_STREQ(st->version, sigil_version());
	CHECK_CONTAINS(st->policy_revision, "sha256:");
	CHECK_STREQ(st->last_reload_error, "");
	sigild_status_response_free(st);
	sigild_service_free(s);
	sigild_config_clear(&c);
}

static void test_unreachable_registry(void)
{
	sigild_config c;
	base_config(&c);
	sigild_service *s = new_service(&c);
	req_buf b;
	char name[128];
	snprintf(name, sizeof name, "127.0.0.1:%d/app:v1", closed_port);
	make_req(&b, name, DIGEST);
	int64_t t0 = now_ms();
	Sigil__V1__VerifyResponse *r = verify_ok(s, &b.req, t0 + 3000);
	CHECK(now_ms() - t0 < 3500);
	CHECK(r != NULL);
	if (r) {
		CHECK_INTEQ(r->verdict, SIGIL__V1__VERDICT__VERDICT_DENY);
		CHECK_STREQ(r->policy, "closed");
		CHECK_STREQ(r->level, "strict");
		CHECK(r->failure[0] != '\0');
		/* the reason names the registry so that an operator can act */
		char port[32];
		snprintf(port, sizeof port, "127.0.0.1:%d", closed_port);
		CHECK_CONTAINS(r->reason, port);
		CHECK(!r->cached);
	}
	sigild_verify_response_free(r);
	/* a deny is cached briefly: kubelet's retry does not hit the registry */
	r = verify_ok(s, &b.req, now_ms() + 3000);
	CHECK(r && r->cached && r->verdict == SIGIL__V1__VERDICT__VERDICT_DENY);
	sigild_verify_response_free(r);
	sigild_service_free(s);
	sigild_config_clear(&c);
}

static void test_silent_registry_deadline(void)
{
	sigild_config c;
	base_config(&c);
	c.request_timeout_ms = 5000;
	sigild_service *s = new_service(&c);
	req_buf b;
	char name[128];
	snprintf(name, sizeof name, "127.0.0.1:%d/app:v1", silent_port);
	make_req(&b, name, DIGEST);
	/* design rule 4: the caller's deadline (800 ms) wins over
	 * verifyTimeoutMs (7.5 s) and requestTimeoutMs (5 s) */
	int64_t t0 = now_ms();
	Sigil__V1__VerifyResponse *r = verify_ok(s, &b.req, t0 + 800);
	int64_t took = now_ms() - t0;
	CHECK(took < 1800);
	if (took >= 1800)
		fprintf(stderr, "  took %lld ms\n", (long long)took);
	CHECK(r && r->verdict == SIGIL__V1__VERDICT__VERDICT_DENY);
	CHECK(r && strcmp(r->policy, "silent") == 0);
	sigild_verify_response_free(r);

	/* verifyTimeoutMs bounds a request with a far deadline */
	sigild_service_free(s);
	c.verify_timeout_ms = 600;
	s = new_service(&c);
	t0 = now_ms();
	r = verify_ok(s, &b.req, t0 + 60000);
	took = now_ms() - t0;
	CHECK(took < 1600);
	CHECK(r && r->verdict == SIGIL__V1__VERDICT__VERDICT_DENY);
	sigild_verify_response_free(r);
	/* a deadline already passed: deny at once, not cached */
	b.req.no_cache = 0;
	make_req(&b, name, DIGEST2);
	t0 = now_ms();
	r = verify_ok(s, &b.req, t0 - 10);
	CHECK(now_ms() - t0 < 300);
	CHECK(r && r->verdict == SIGIL__V1__VERDICT__VERDICT_DENY);
	CHECK(r && strstr(r->reason, "deadline passed") != NULL);
	sigild_verify_response_free(r);
	Sigil__V1__StatusResponse *st = status(s);
	CHECK_INTEQ(st->cache->entries, 1);
	sigild_status_response_free(st);
	sigild_service_free(s);
	sigild_config_clear(&c);
}

static void test_dry_run(void)
{
	sigild_config c;
	base_config(&c);
	c.mode = SIGILD_MODE_DRY_RUN;
	sigild_service *s = new_service(&c);
	req_buf b;
	char name[128];
	snprintf(name, sizeof name, "127.0.0.1:%d/app:v1", closed_port);
	make_req(&b, name, DIGEST);
	for (int i = 0; i < 2; i++) {
		Sigil__V1__VerifyResponse *r = verify_ok(s, &b.req, now_ms() + 3000);
		CHECK(r != NULL);
		if (r) {
			CHECK_INTEQ(r->verdict, SIGIL__V1__VERDICT__VERDICT_ALLOW);
			CHECK(r->dry_run_override);
			CHECK_CONTAINS(r->reason, "dry-run: would deny: ");
			CHECK(strncmp(r->reason, "dry-run: would deny: ", 21) == 0);
			CHECK(r->failure[0] != '\0');
			/* the second one comes from the cache, overridden again */
			CHECK_INTEQ(r->cached, i == 1);
		}
		sigild_verify_response_free(r);
	}
	json_object *a = last_audit();
	CHECK_STREQ(jstr(a, "verdict"), "allow");
	CHECK_INTEQ(jbool(a, "dryRunOverride"), 1);
	CHECK_CONTAINS(jstr(a, "reason"), "dry-run: would deny: ");
	json_object_put(a);
	/* an allow stays a plain allow */
	snprintf(name, sizeof name, "127.0.0.1:%d/skipped:v1", closed_port);
	make_req(&b, name, DIGEST);
	Sigil__V1__VerifyResponse *r = verify_ok(s, &b.req, now_ms() + 3000);
	CHECK(r && r->verdict == SIGIL__V1__VERDICT__VERDICT_ALLOW && !r->dry_run_override);
	sigild_verify_response_free(r);
	Sigil__V1__StatusResponse *st = status(s);
	CHECK_STREQ(st->mode, "dry-run");
	CHECK_INTEQ(st->dry_run_would_deny, 2);
	CHECK_INTEQ(st->allows, 3);
	CHECK_INTEQ(st->denies, 0);
	sigild_status_response_free(st);
	sigild_service_free(s);
	sigild_config_clear(&c);
}

static void test_reload(void)
{
	sigild_config c;
	base_config(&c);
	sigild_service *s = new_service(&c);
	sigil_error err = SIGIL_ERROR_INIT;
	req_buf b;
	char name[128];
	snprintf(name, sizeof name, "127.0.0.1:%d/later:v1", closed_port);
	make_req(&b, name, DIGEST);
	/* no policy for "later" yet: deny, cached */
	Sigil__V1__VerifyResponse *r = verify_ok(s, &b.req, now_ms() + 3000);
	CHECK(r && r->verdict == SIGIL__V1__VERDICT__VERDICT_DENY);
	sigild_verify_response_free(r);
	r = verify_ok(s, &b.req, now_ms() + 3000);
	CHECK(r && r->cached);
	sigild_verify_response_free(r);
	char *rev1 = sigild_service_revision(s);
	CHECK(rev1 && strncmp(rev1, "sha256:", 7) == 0 && strlen(rev1) == 71);

	/* nothing changed: reload_if_changed does nothing */
	bool changed = true;
	CHECK(sigild_service_reload_if_changed(s, &changed, &err) == SIGIL_STATUS_OK);
	CHECK(!changed);

	/* a valid new policy: new revision, the cached deny is not served */
	char extra[256];
	snprintf(extra, sizeof extra, ",{\"name\": \"later\", \"registryScopes\": [\"127.0.0.1:%d/later\"],"
		" \"signatureVerification\": {\"level\": \"skip\"}}", closed_port);
	write_policy(extra);
	CHECK(sigild_service_reload(s, &err) == SIGIL_STATUS_OK);
	char *rev2 = sigild_service_revision(s);
	CHECK(rev2 && strcmp(rev1, rev2) != 0);
	Sigil__V1__StatusResponse *st = status(s);
	CHECK_INTEQ(st->cache->entries, 0);
	CHECK_STREQ(st->policy_revision, rev2);
	sigild_status_response_free(st);
	r = verify_ok(s, &b.req, now_ms() + 3000);
	CHECK(r && !r->cached && r->verdict == SIGIL__V1__VERDICT__VERDICT_ALLOW);
	CHECK(r && strcmp(r->policy, "later") == 0);
	sigild_verify_response_free(r);

	/* an invalid policy: the reload fails, the old one stays in force */
	char path[256];
	snprintf(path, sizeof path, "%s/trustpolicy.oci.json", confdir);
	write_file(path, "{\"version\": \"1.0\", \"trustPolicies\": [{\"name\": \"bad\"}]}");
	CHECK(sigild_service_reload(s, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_POLICY);
	CHECK_CONTAINS(err.message, "previous trust configuration stays in force");
	char *rev3 = sigild_service_revision(s);
	CHECK(rev3 && strcmp(rev3, rev2) == 0);
	st = status(s);
	CHECK_CONTAINS(st->last_reload_error, "previous trust configuration stays in force");
	CHECK_STREQ(st->policy_revision, rev2);
	sigild_status_response_free(st);
	r = verify_ok(s, &b.req, now_ms() + 3000);
	CHECK(r && r->verdict == SIGIL__V1__VERDICT__VERDICT_ALLOW && r->cached);
	sigild_verify_response_free(r);
	/* not JSON at all: the same */
	write_file(path, "{not json");
	changed = false;
	CHECK(sigild_service_reload_if_changed(s, &changed, &err) == SIGIL_STATUS_ERROR);
	CHECK(changed);
	CHECK_INTEQ(err.category, SIGIL_ERR_MALFORMED);

	/* a trust store change is a new revision too */
	write_policy(extra);
	CHECK(sigild_service_reload_if_changed(s, &changed, &err) == SIGIL_STATUS_OK);
	CHECK(!changed); /* the files in force again: nothing to load */
	st = status(s);
	CHECK_STREQ(st->last_reload_error, "");
	sigild_status_response_free(st);
	char *rev4 = sigild_service_revision(s);
	CHECK(rev4 && strcmp(rev4, rev2) == 0); /* same files as rev2, same revision */
	snprintf(path, sizeof path, "%s/truststore/x509/ca/acme/01-extra.crt", confdir);
	copy_file(CASE "/truststore/x509/ca/acme/00-chain-rsa2048-root.crt", path);
	CHECK(sigild_service_reload_if_changed(s, &changed, &err) == SIGIL_STATUS_OK);
	CHECK(changed);
	char *rev5 = sigild_service_revision(s);
	CHECK(rev5 && strcmp(rev5, rev4) != 0);
	unlink(path);
	st = status(s);
	CHECK_STREQ(st->last_reload_error, "");
	sigild_status_response_free(st);
	free(rev1);
	free(rev2);
	free(rev3);
	free(rev4);
	free(rev5);
	sigild_service_free(s);
	sigild_config_clear(&c);
	write_policy(NULL);
}

static void test_revision(void)
{
	sigil_error err = SIGIL_ERROR_INIT;
	char *a = NULL, *b = NULL;
	CHECK(sigild__trust_revision(confdir, &a, &err) == SIGIL_STATUS_OK);
	CHECK(sigild__trust_revision(confdir, &b, &err) == SIGIL_STATUS_OK);
	CHECK(a && b && strcmp(a, b) == 0);
	free(b);
	/* renaming a trust store file changes it (names are hashed) */
	char p1[256], p2[256];
	snprintf(p1, sizeof p1, "%s/truststore/x509/ca/acme/00-chain-rsa2048-root.crt", confdir);
	snprintf(p2, sizeof p2, "%s/truststore/x509/ca/acme/00-renamed.crt", confdir);
	CHECK(rename(p1, p2) == 0);
	CHECK(sigild__trust_revision(confdir, &b, &err) == SIGIL_STATUS_OK);
	CHECK(a && b && strcmp(a, b) != 0);
	free(b);
	CHECK(rename(p2, p1) == 0);
	/* adding a trustpolicy.json next to the .oci.json changes it */
	char p3[256];
	snprintf(p3, sizeof p3, "%s/trustpolicy.json", confdir);
	write_file(p3, "{}");
	CHECK(sigild__trust_revision(confdir, &b, &err) == SIGIL_STATUS_OK);
	CHECK(a && b && strcmp(a, b) != 0);
	free(b);
	unlink(p3);
	CHECK(sigild__trust_revision(confdir, &b, &err) == SIGIL_STATUS_OK);
	CHECK(a && b && strcmp(a, b) == 0);
	free(b);
	/* symlinks (their target's name and bytes) and fifos (never read:
	 * that would block) are part of it */
	char link[256], fifo[256];
	snprintf(link, sizeof link, "%s/truststore/x509/ca/acme/link.crt", confdir);
	CHECK(symlink(p1, link) == 0);
	CHECK(sigild__trust_revision(confdir, &b, &err) == SIGIL_STATUS_OK);
	CHECK(a && b && strcmp(a, b) != 0);
	free(b);
	unlink(link);
	snprintf(fifo, sizeof fifo, "%s/truststore/x509/ca/fifo", confdir);
	CHECK(mkfifo(fifo, 0600) == 0);
	CHECK(sigild__trust_revision(confdir, &b, &err) == SIGIL_STATUS_OK);
	CHECK(a && b && strcmp(a, b) != 0);
	free(b);
	unlink(fifo);
	free(a);
	/* a missing directory has a revision (and fails to load elsewhere) */
	CHECK(sigild__trust_revision("/nonexistent/sigil", &a, &err) == SIGIL_STATUS_OK);
	free(a);
}

static void test_new_failures(void)
{
	sigild_config c;
	base_config(&c);
	sigild_service *s = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	free(c.config_dir);
	c.config_dir = strdup("/nonexistent/sigil");
	CHECK(sigild_service_new(&s, &c, &err) == SIGIL_STATUS_ERROR);
	CHECK(s == NULL);
	CHECK_CONTAINS(err.message, "trust configuration in /nonexistent/sigil");
	free(c.config_dir);
	c.config_dir = strdup(confdir);
	free(c.audit_log);
	c.audit_log = strdup("/nonexistent/dir/audit.log");
	CHECK(sigild_service_new(&s, &c, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_IO);
	CHECK_CONTAINS(err.message, "audit log /nonexistent/dir/audit.log");
	CHECK(sigild_service_new(NULL, &c, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_USAGE);
	sigild_service_free(NULL);
	sigild_config_clear(&c);
}

/* --- concurrency: one verification for N identical requests --------- */

typedef struct conc_arg {
	sigild_service *s;
	const Sigil__V1__VerifyRequest *req;
	int deny;
} conc_arg;

static void *conc_thread(void *p)
{
	conc_arg *a = p;
	Sigil__V1__VerifyResponse *r = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	if (sigild_service_verify(a->s, a->req, sigil_registry_now_ms() + 5000, &r, &err) == SIGIL_STATUS_OK &&
	    r->verdict == SIGIL__V1__VERDICT__VERDICT_DENY)
		a->deny = 1;
	sigild_verify_response_free(r);
	return NULL;
}

static void test_concurrent_collapse(void)
{
	sigild_config c;
	base_config(&c);
	c.request_timeout_ms = 5000;
	sigild_service *s = new_service(&c);
	req_buf b;
	char name[128];
	snprintf(name, sizeof name, "127.0.0.1:%d/app:v1", silent_port);
	make_req(&b, name, DIGEST);
	enum { N = 12 };
	pthread_t t[N];
	conc_arg a[N];
	/* the silent registry makes the one verification last until the
	 * 1.2 s verifyTimeoutMs; everyone else waits for it */
	sigild_service_free(s);
	c.verify_timeout_ms = 1200;
	s = new_service(&c);
	size_t before;
	free(check_read_file(auditpath, &before));
	int64_t t0 = now_ms();
	for (int i = 0; i < N; i++) {
		a[i] = (conc_arg){ s, &b.req, 0 };
		pthread_create(&t[i], NULL, conc_thread, &a[i]);
	}
	int denies = 0;
	for (int i = 0; i < N; i++) {
		pthread_join(t[i], NULL);
		denies += a[i].deny;
	}
	CHECK_INTEQ(denies, N);
	CHECK(now_ms() - t0 < 4000);
	Sigil__V1__StatusResponse *st = status(s);
	CHECK_INTEQ(st->cache->misses, 1);
	CHECK_INTEQ(st->cache->hits, N - 1);
	CHECK_INTEQ(st->denies, N);
	sigild_status_response_free(st);
	/* the verification's audit line comes before those of the requests
	 * that waited for it: they are answered only once it is written */
	size_t len;
	char *log = (char *)check_read_file(auditpath, &len);
	CHECK(len > before);
	const char *first = strstr(log + before, name);
	const char *eol = first ? strchr(first, '\n') : NULL;
	CHECK(first && eol);
	if (first && eol) {
		const char *cached = strstr(first, "\"cached\":false");
		CHECK(cached && cached < eol);
		size_t lines = 0;
		for (const char *p = first; (p = strstr(p, name)) != NULL; p++)
			lines++;
		CHECK_INTEQ(lines, N);
	}
	free(log);
	sigild_service_free(s);
	sigild_config_clear(&c);
}

/* --- sigild_service_verify_cached (the I/O thread's path) -------------- */

static size_t audit_count(void)
{
	size_t len, n = 0;
	unsigned char *b = check_read_file(auditpath, &len);
	for (size_t i = 0; i < len; i++)
		n += b[i] == '\n';
	free(b);
	return n;
}

typedef struct counts {
	uint64_t allows, denies, errors, would_deny, hits, misses;
	size_t audit;
} counts;

static counts counts_now(sigild_service *s)
{
	counts k = { 0 };
	Sigil__V1__StatusResponse *st = status(s);
	if (st) {
		k.allows = st->allows;
		k.denies = st->denies;
		k.errors = st->errors;
		k.would_deny = st->dry_run_would_deny;
		k.hits = st->cache ? st->cache->hits : 0;
		k.misses = st->cache ? st->cache->misses : 0;
	}
	sigild_status_response_free(st);
	k.audit = audit_count();
	return k;
}

static bool counts_eq(counts a, counts b)
{
	return a.allows == b.allows && a.denies == b.denies && a.errors == b.errors &&
		a.would_deny == b.would_deny && a.hits == b.hits && a.misses == b.misses && a.audit == b.audit;
}

/* not answered, and nothing counted or logged */
static void expect_unanswered(sigild_service *s, const Sigil__V1__VerifyRequest *req)
{
	static uint8_t sentinel; /* *out must be set to NULL */
	uint8_t *r = &sentinel;
	size_t len = 7;
	sigil_error err = SIGIL_ERROR_INIT;
	counts before = counts_now(s);
	CHECK(sigild_service_verify_cached(s, req, &r, &len, &err) == SIGIL_STATUS_OK);
	CHECK(r == NULL && len == 0);
	CHECK(counts_eq(before, counts_now(s)));
	if (r != &sentinel)
		free(r);
}

/* cached_ok - the I/O thread's answer, decoded with protobuf-c as a
 * client would; its bytes in *bytes (malloc'd) and *len when bytes */
static Sigil__V1__VerifyResponse *cached_ok(sigild_service *s, const Sigil__V1__VerifyRequest *req,
	uint8_t **bytes, size_t *len)
{
	uint8_t *b = NULL;
	size_t n = 0;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigild_service_verify_cached(s, req, &b, &n, &err) == SIGIL_STATUS_OK);
	CHECK(b != NULL);
	Sigil__V1__VerifyResponse *r = b ? sigil__v1__verify_response__unpack(NULL, n, b) : NULL;
	CHECK(r != NULL);
	if (bytes) {
		*bytes = b;
		*len = n;
	} else {
		free(b);
	}
	return r;
}

static bool str_eq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

/* same_response - every field of two responses is the same */
static bool same_response(const Sigil__V1__VerifyResponse *a, const Sigil__V1__VerifyResponse *b)
{
	if (a->verdict != b->verdict || !str_eq(a->reason, b->reason) || !str_eq(a->policy, b->policy) ||
	    !str_eq(a->level, b->level) || !str_eq(a->failure, b->failure) || a->cached != b->cached ||
	    a->elapsed_us != b->elapsed_us || a->dry_run_override != b->dry_run_override ||
	    a->allow_listed != b->allow_listed || a->n_signatures != b->n_signatures)
		return false;
	for (size_t i = 0; i < a->n_signatures; i++) {
		const Sigil__V1__SignatureResult *x = a->signatures[i], *y = b->signatures[i];
		if (!str_eq(x->digest, y->digest) || !str_eq(x->envelope_media_type, y->envelope_media_type) ||
		    x->verified != y->verified || !str_eq(x->failed_check, y->failed_check) ||
		    !str_eq(x->signer, y->signer) || x->n_checks != y->n_checks)
			return false;
		for (size_t j = 0; j < x->n_checks; j++) {
			const Sigil__V1__CheckResult *p = x->checks[j], *q = y->checks[j];
			if (!str_eq(p->check, q->check) || p->outcome != q->outcome || !str_eq(p->action, q->action) ||
			    !str_eq(p->message, q->message) || !str_eq(p->category, q->category))
				return false;
		}
	}
	return true;
}

/* the bytes of a cached answer: the stored response (the cold one as
 * decided, before its elapsed time was set) packed, then cached = true
 * (field 7) and elapsed_us = 0 (field 8), not packed again */
static bool is_stored_plus_cached(Sigil__V1__VerifyResponse *cold, const uint8_t *b, size_t n)
{
	static const uint8_t suffix[4] = { 0x38, 0x01, 0x40, 0x00 };
	int64_t elapsed = cold->elapsed_us;
	cold->elapsed_us = 0;
	size_t nc = sigil__v1__verify_response__get_packed_size(cold);
	uint8_t *pc = malloc(nc + 1);
	bool same = pc && n == nc + 4 && sigil__v1__verify_response__pack(cold, pc) == nc &&
		memcmp(b, pc, nc) == 0 && memcmp(b + nc, suffix, 4) == 0;
	cold->elapsed_us = elapsed;
	free(pc);
	return same;
}

static double metric_value(sigild_service *s, const char *series)
{
	char *text = NULL;
	size_t len = 0;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigild_metrics_expose(sigild_service_metrics(s), &text, &len, &err) == SIGIL_STATUS_OK);
	const char *p = text ? strstr(text, series) : NULL;
	double v = p ? strtod(p + strlen(series), NULL) : 0;
	free(text);
	return v;
}

static void test_verify_cached(void)
{
	sigild_config c;
	base_config(&c);
	c.allow_digests = calloc(1, sizeof *c.allow_digests);
	c.allow_digests[0] = strdup(DIGEST2);
	c.allow_count = 1;
	sigild_service *s = new_service(&c);
	req_buf b;
	char name[128];
	snprintf(name, sizeof name, "127.0.0.1:%d/skipped:fast", closed_port);
	make_req(&b, name, DIGEST);

	/* a miss, an invalid request, no_cache: left to sigild_service_verify */
	expect_unanswered(s, &b.req);
	req_buf bad;
	make_req(&bad, name, "");
	expect_unanswered(s, &bad.req);
	make_req(&bad, "", DIGEST);
	expect_unanswered(s, &bad.req);
	expect_unanswered(s, NULL);
	Sigil__V1__VerifyResponse *cold = verify_ok(s, &b.req, now_ms() + 5000);
	CHECK(cold && !cold->cached);
	Sigil__V1__VerifyResponse *r;
	b.req.no_cache = 1;
	expect_unanswered(s, &b.req);
	b.req.no_cache = 0;

	/* a hit: the stored bytes and cached = true, elapsed_us = 0 after
	 * them; decoded, every field as in the worker path's hit (which
	 * unpacks and sets them), counted alike */
	counts k0 = counts_now(s);
	uint8_t *bytes = NULL;
	size_t blen = 0;
	r = cached_ok(s, &b.req, &bytes, &blen);
	counts k1 = counts_now(s);
	Sigil__V1__VerifyResponse *w = verify_ok(s, &b.req, now_ms() + 5000);
	counts k2 = counts_now(s);
	CHECK(r && r->cached && r->elapsed_us == 0 && r->verdict == SIGIL__V1__VERDICT__VERDICT_ALLOW);
	CHECK(r && w && w->cached && w->elapsed_us == 0 && same_response(r, w));
	CHECK(cold && cold->elapsed_us > 0 && bytes && is_stored_plus_cached(cold, bytes, blen));
	CHECK_STREQ(r ? r->policy : NULL, "skipped");
	free(bytes);
	sigild_verify_response_free(cold);
	CHECK(k1.allows == k0.allows + 1 && k1.hits == k0.hits + 1 && k1.misses == k0.misses &&
		k1.audit == k0.audit + 1 && k1.denies == k0.denies && k1.errors == k0.errors);
	CHECK(k2.allows == k1.allows + 1 && k2.hits == k1.hits + 1 && k2.misses == k1.misses &&
		k2.audit == k1.audit + 1);
	sigild_verify_response_free(r);
	sigild_verify_response_free(w);
	json_object *a = last_audit();
	CHECK_INTEQ(jbool(a, "cached"), 1);
	CHECK_STREQ(jstr(a, "policy"), "skipped");
	json_object_put(a);

	/* the allow-list, before the cache as in the worker path */
	make_req(&b, "registry.example/unknown/app:1", DIGEST2);
	k0 = counts_now(s);
	r = cached_ok(s, &b.req, NULL, NULL);
	CHECK(r && r->allow_listed && !r->cached && r->verdict == SIGIL__V1__VERDICT__VERDICT_ALLOW);
	CHECK_STREQ(r ? r->reason : NULL, "allow-listed by sigild configuration (break-glass)");
	k1 = counts_now(s);
	CHECK(k1.allows == k0.allows + 1 && k1.hits == k0.hits && k1.misses == k0.misses &&
		k1.audit == k0.audit + 1);
	a = last_audit();
	CHECK_INTEQ(jbool(a, "allowListed"), 1);
	json_object_put(a);
	sigild_verify_response_free(r);
	uint8_t *out = NULL;
	size_t out_len = 0;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigild_service_verify_cached(NULL, &b.req, &out, &out_len, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_USAGE);
	CHECK(sigild_service_verify_cached(s, &b.req, NULL, &out_len, &err) == SIGIL_STATUS_ERROR);
	sigild_service_free(s);
	sigild_config_clear(&c);

	/* enforce: a cached deny (no policy for the name) from the summary
	 * stored with it: the same answer, deny counter, failure metric by
	 * check and audit line as the worker path's cached deny */
	base_config(&c);
	c.cache_deny_ttl_s = 60;
	s = new_service(&c);
	make_req(&b, "registry.example/unknown/app:3", DIGEST);
	cold = verify_ok(s, &b.req, now_ms() + 5000);
	CHECK(cold && !cold->cached && cold->verdict == SIGIL__V1__VERDICT__VERDICT_DENY);
	CHECK(cold && cold->failure && cold->failure[0]);
	char series[128];
	snprintf(series, sizeof series, "sigil_verification_failures_total{check=\"%s\"} ",
		cold && cold->failure && cold->failure[0] ? cold->failure : "?");
	double f0 = metric_value(s, series);
	double d0 = metric_value(s, "sigil_verifications_total{verdict=\"deny\",policy=\"none\"} ");
	k0 = counts_now(s);
	r = cached_ok(s, &b.req, &bytes, &blen);
	k1 = counts_now(s);
	double f1 = metric_value(s, series);
	json_object *fast = last_audit();
	w = verify_ok(s, &b.req, now_ms() + 5000);
	k2 = counts_now(s);
	json_object *slow = last_audit();
	CHECK(f0 == 1 && f1 == 2 && metric_value(s, series) == 3);
	CHECK(d0 == 1 && metric_value(s, "sigil_verifications_total{verdict=\"deny\",policy=\"none\"} ") == 3);
	CHECK(r && r->cached && r->elapsed_us == 0 && r->verdict == SIGIL__V1__VERDICT__VERDICT_DENY);
	CHECK(r && w && same_response(r, w));
	CHECK(cold && bytes && is_stored_plus_cached(cold, bytes, blen));
	CHECK(k1.denies == k0.denies + 1 && k1.allows == k0.allows && k1.hits == k0.hits + 1 &&
		k1.misses == k0.misses && k1.errors == k0.errors && k1.audit == k0.audit + 1);
	CHECK(k2.denies == k1.denies + 1 && k2.hits == k1.hits + 1 && k2.audit == k1.audit + 1);
	static const char *const fields[] = { "verdict", "reason", "policy", "level", "failure", "signer",
		"image", "digest" };
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		CHECK_STREQ(jstr(fast, fields[i]), jstr(slow, fields[i]));
	CHECK_STREQ(jstr(fast, "verdict"), "deny");
	CHECK_STREQ(jstr(fast, "failure"), cold ? cold->failure : NULL);
	CHECK_STREQ(jstr(fast, "reason"), cold ? cold->reason : NULL);
	CHECK_INTEQ(jbool(fast, "cached"), 1);
	CHECK_INTEQ(jbool(slow, "cached"), 1);
	json_object_put(fast);
	json_object_put(slow);
	free(bytes);
	sigild_verify_response_free(cold);
	sigild_verify_response_free(r);
	sigild_verify_response_free(w);
	sigild_service_free(s);
	sigild_config_clear(&c);

	/* dry-run: a cached deny (no policy for the name) is let through and
	 * counted as would-deny, as the cold one is */
	base_config(&c);
	c.mode = SIGILD_MODE_DRY_RUN;
	c.cache_deny_ttl_s = 60;
	s = new_service(&c);
	make_req(&b, "registry.example/unknown/app:2", DIGEST);
	w = verify_ok(s, &b.req, now_ms() + 5000);
	k0 = counts_now(s);
	r = cached_ok(s, &b.req, NULL, NULL);
	k1 = counts_now(s);
	CHECK(w && !w->cached && w->dry_run_override && w->verdict == SIGIL__V1__VERDICT__VERDICT_ALLOW);
	CHECK(r && r->cached && r->dry_run_override && r->verdict == SIGIL__V1__VERDICT__VERDICT_ALLOW);
	CHECK_STREQ(r ? r->reason : NULL, w ? w->reason : "");
	CHECK_CONTAINS(r ? r->reason : NULL, "dry-run: would deny: ");
	CHECK(k1.allows == k0.allows + 1 && k1.would_deny == k0.would_deny + 1 && k1.denies == k0.denies &&
		k1.hits == k0.hits + 1 && k1.audit == k0.audit + 1);
	a = last_audit();
	CHECK_INTEQ(jbool(a, "dryRunOverride"), 1);
	CHECK_INTEQ(jbool(a, "cached"), 1);
	json_object_put(a);
	sigild_verify_response_free(r);
	sigild_verify_response_free(w);
	sigild_service_free(s);
	sigild_config_clear(&c);
}

static void test_audit_formats(void)
{
	sigild_audit_record rec = {
		.image = "docker.io/library/app:v1\nFAKE LINE", .digest = DIGEST, .allow = false,
		.reason = "no signature \"here\"", .policy = "prod", .level = "strict", .failure = "no-signature",
		.signer = "CN=x", .cached = true, .elapsed_us = 42,
	};
	char *j = sigild_audit_format_line(SIGILD_AUDIT_JSON, 1700000000123456LL, &rec);
	CHECK(j != NULL);
	CHECK(j && j[strlen(j) - 1] == '\n' && strchr(j, '\n') == j + strlen(j) - 1);
	json_object *o = j ? json_tokener_parse(j) : NULL;
	CHECK(o != NULL);
	CHECK_STREQ(jstr(o, "time"), "2023-11-14T22:13:20.123456Z");
	CHECK_STREQ(jstr(o, "image"), "docker.io/library/app:v1\nFAKE LINE");
	CHECK_STREQ(jstr(o, "verdict"), "deny");
	CHECK_STREQ(jstr(o, "reason"), "no signature \"here\"");
	CHECK_STREQ(jstr(o, "policy"), "prod");
	CHECK_STREQ(jstr(o, "level"), "strict");
	CHECK_STREQ(jstr(o, "failure"), "no-signature");
	CHECK_STREQ(jstr(o, "signer"), "CN=x");
	CHECK_STREQ(jstr(o, "elapsedUs"), "42");
	CHECK_INTEQ(jbool(o, "cached"), 1);
	CHECK_INTEQ(jbool(o, "allowListed"), 0);
	json_object_put(o);
	free(j);
	char *t = sigild_audit_format_line(SIGILD_AUDIT_TEXT, 1700000000123456LL, &rec);
	CHECK(t != NULL);
	/* one line: control characters from the request cannot forge another */
	CHECK(t && strchr(t, '\n') == t + strlen(t) - 1);
	CHECK_CONTAINS(t, "2023-11-14T22:13:20.123456Z DENY docker.io/library/app:v1?FAKE LINE@" DIGEST);
	CHECK_CONTAINS(t, "policy=\"prod\" level=strict");
	CHECK_CONTAINS(t, "cached=yes");
	CHECK_CONTAINS(t, ": no signature \"here\"");
	free(t);
	rec.allow = true;
	rec.allow_listed = true;
	t = sigild_audit_format_line(SIGILD_AUDIT_TEXT, 0, &rec);
	CHECK_CONTAINS(t, "ALLOW allow-listed ");
	free(t);
	CHECK(sigild_audit_format_line(SIGILD_AUDIT_JSON, 0, NULL) == NULL);

	/* a text log file: appended, reopened after rotation */
	char path[256], rotated[256];
	snprintf(path, sizeof path, "%s/text.log", tmpdir);
	snprintf(rotated, sizeof rotated, "%s/text.log.1", tmpdir);
	sigild_audit *a = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigild_audit_open(&a, path, SIGILD_AUDIT_TEXT, &err) == SIGIL_STATUS_OK);
	rec.allow_listed = false;
	sigild_audit_log(a, &rec);
	CHECK(rename(path, rotated) == 0);
	CHECK(sigild_audit_reopen(a, &err) == SIGIL_STATUS_OK);
	rec.allow = false;
	sigild_audit_log(a, &rec);
	CHECK_INTEQ(sigild_audit_write_errors(a), 0);
	sigild_audit_close(a);
	size_t len;
	unsigned char *b1 = check_read_file(rotated, &len);
	CHECK_CONTAINS((const char *)b1, " ALLOW docker.io/library/app:v1?FAKE LINE@");
	free(b1);
	b1 = check_read_file(path, &len);
	CHECK_CONTAINS((const char *)b1, " DENY docker.io/library/app:v1?FAKE LINE@");
	free(b1);
	struct stat sb;
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
}

int main(void)
{
	setup();
	RUN(test_malformed_requests);
	RUN(test_allow_list);
	RUN(test_skip_and_no_policy);
	RUN(test_unreachable_registry);
	RUN(test_silent_registry_deadline);
	RUN(test_dry_run);
	RUN(test_reload);
	RUN(test_revision);
	RUN(test_new_failures);
	RUN(test_concurrent_collapse);
	RUN(test_verify_cached);
	RUN(test_audit_formats);
	teardown();
	return check_summary();
}
