/* test-http.c - sigil__http_do against a local server (plain and TLS with
 * a CA made at run time): bodies, caps, deadlines, redirects, refused and
 * truncated connections, captured headers, TLS trust settings. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "testserver.h"
#include "auth.h"
#include "errors.h"
#include "http.h"

static test_server srv, tls, mtls;
static sigil__http *client;
static char tmpdir[] = "/tmp/sigil-test-http-XXXXXX";
static char ca_path[512], cli_cert[512], cli_key[512];

static void url(char *buf, size_t cap, const char *path)
{
	snprintf(buf, cap, "http://127.0.0.1:%d%s", srv.port, path);
}

/* do_get - one request with defaults; returns the status of http_do. */
static sigil_status do_req(const char *method, const char *u, size_t max_body, int64_t budget_ms,
	int redirects, const sigil__registry_host *host, sigil__http_response *resp, sigil_error *err)
{
	sigil__http_request req = {
		.method = method, .url = u, .max_body = max_body,
		.deadline_ms = sigil__now_ms() + budget_ms, .max_redirects = redirects, .host = host,
	};
	return sigil__http_do(client, &req, resp, err);
}

static void test_now_ms(void)
{
	int64_t a = sigil__now_ms();
	usleep(20000);
	int64_t b = sigil__now_ms();
	CHECK(a > 0);
	CHECK(b - a >= 15 && b - a < 1000);
}

static void test_get_ok(void)
{
	char u[256];
	url(u, sizeof(u), "/ok");
	sigil__http_response r = { .content_length = -1 };
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(do_req("GET", u, 1024, 5000, 0, NULL, &r, &err) == SIGIL_STATUS_OK);
	CHECK_INTEQ(r.status, 200);
	CHECK_INTEQ(r.body_len, 11);
	CHECK_STREQ((char *)r.body, "hello world");
	CHECK_STREQ(r.content_type, "text/plain");
	CHECK_STREQ(r.link, "</v2/r/referrers/x?n=2>; rel=\"next\"");
	CHECK_STREQ(r.docker_content_digest, "sha256:abc");
	CHECK_STREQ(r.oci_filters_applied, "artifactType");
	CHECK(r.www_authenticate == NULL);
	CHECK_INTEQ(r.content_length, 11);
	CHECK_STREQ(r.effective_url, u);
	CHECK(err.category == SIGIL_ERR_NONE);
	sigil__http_response_clear(&r);
	CHECK(r.body == NULL && r.content_length == -1);
	sigil__http_response_clear(NULL);
}

static void test_head_and_404(void)
{
	char u[256];
	url(u, sizeof(u), "/big?n=5000");
	sigil__http_response r = { .content_length = -1 };
	sigil_error err = SIGIL_ERROR_INIT;
	/* HEAD: Content-Length describes a body that is not sent; max_body 0 */
	CHECK(do_req("HEAD", u, 0, 5000, 0, NULL, &r, &err) == SIGIL_STATUS_OK);
	CHECK_INTEQ(r.status, 200);
	CHECK_INTEQ(r.content_length, 5000);
	CHECK_INTEQ(r.body_len, 0);
	CHECK(r.body != NULL);
	sigil__http_response_clear(&r);

	url(u, sizeof(u), "/nope");
	CHECK(do_req("GET", u, 1024, 5000, 0, NULL, &r, &err) == SIGIL_STATUS_OK);
	CHECK_INTEQ(r.status, 404); /* any status is the caller's to judge */
	sigil__http_response_clear(&r);
}

static void test_body_limit(void)
{
	char u[256];
	sigil__http_response r = { .status = 999, .content_length = -1 };
	sigil_error err = SIGIL_ERROR_INIT;
	char want[256];

	url(u, sizeof(u), "/big?n=1000");
	CHECK(do_req("GET", u, 1000, 5000, 0, NULL, &r, &err) == SIGIL_STATUS_OK);
	CHECK_INTEQ(r.body_len, 1000);
	sigil__http_response_clear(&r);

	r.status = 999;
	url(u, sizeof(u), "/big?n=1001");
	CHECK(do_req("GET", u, 1000, 5000, 0, NULL, &r, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_LIMIT);
	snprintf(want, sizeof(want), "response body from 127.0.0.1:%d/big exceeds 1000 bytes", srv.port);
	CHECK_STREQ(err.message, want);
	CHECK_INTEQ(r.status, 999); /* outputs untouched on failure */
	CHECK(r.body == NULL);

	/* no Content-Length: the cap holds while streaming */
	err = (sigil_error)SIGIL_ERROR_INIT;
	url(u, sizeof(u), "/chunked?n=300000");
	CHECK(do_req("GET", u, 100000, 5000, 0, NULL, &r, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_LIMIT);
	CHECK_CONTAINS(err.message, "/chunked exceeds 100000 bytes");
	CHECK(do_req("GET", u, 300000, 5000, 0, NULL, &r, &err) == SIGIL_STATUS_OK);
	CHECK_INTEQ(r.body_len, 300000);
	sigil__http_response_clear(&r);
}

static void test_deadline(void)
{
	char u[256];
	sigil__http_response r = { .content_length = -1 };
	sigil_error err = SIGIL_ERROR_INIT;
	char want[256];

	url(u, sizeof(u), "/slow?ms=3000");
	int64_t t0 = sigil__now_ms();
	CHECK(do_req("GET", u, 1024, 400, 0, NULL, &r, &err) == SIGIL_STATUS_ERROR);
	int64_t elapsed = sigil__now_ms() - t0;
	CHECK_INTEQ(err.category, SIGIL_ERR_NETWORK);
	CHECK_CONTAINS(err.message, "timed out after");
	CHECK(elapsed >= 350 && elapsed < 400 + 400);

	/* the per-request cap applies when shorter than the deadline */
	sigil__http_request req = {
		.method = "GET", .url = u, .max_body = 1024,
		.deadline_ms = sigil__now_ms() + 5000, .timeout_ms = 300,
	};
	t0 = sigil__now_ms();
	CHECK(sigil__http_do(client, &req, &r, &err) == SIGIL_STATUS_ERROR);
	elapsed = sigil__now_ms() - t0;
	snprintf(want, sizeof(want), "127.0.0.1:%d: timed out after 300 ms", srv.port);
	CHECK_STREQ(err.message, want);
	CHECK(elapsed < 300 + 400);

	/* a deadline already passed fails at once */
	req.deadline_ms = sigil__now_ms() - 1;
	req.timeout_ms = 0;
	t0 = sigil__now_ms();
	CHECK(sigil__http_do(client, &req, &r, &err) == SIGIL_STATUS_ERROR);
	CHECK(sigil__now_ms() - t0 < 50);
	CHECK_INTEQ(err.category, SIGIL_ERR_NETWORK);
	CHECK_CONTAINS(err.message, "deadline passed before the request to /slow");

	/* a slow answer within the budget is fine */
	url(u, sizeof(u), "/slow?ms=100");
	CHECK(do_req("GET", u, 1024, 3000, 0, NULL, &r, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ((char *)r.body, "late");
	sigil__http_response_clear(&r);
}

static void test_redirects(void)
{
	char u[256], want[256];
	sigil__http_response r = { .content_length = -1 };
	sigil_error err = SIGIL_ERROR_INIT;

	url(u, sizeof(u), "/redirect?n=3");
	CHECK(do_req("GET", u, 1024, 5000, 3, NULL, &r, &err) == SIGIL_STATUS_OK);
	CHECK_INTEQ(r.status, 200);
	CHECK_STREQ((char *)r.body, "hello world");
	/* headers are the final response's, not a redirect's */
	CHECK_STREQ(r.docker_content_digest, "sha256:abc");
	url(want, sizeof(want), "/ok");
	CHECK_STREQ(r.effective_url, want);
	sigil__http_response_clear(&r);

	url(u, sizeof(u), "/redirect?n=4");
	CHECK(do_req("GET", u, 1024, 5000, 3, NULL, &r, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_NETWORK);
	CHECK_CONTAINS(err.message, "too many redirects (more than 3)");

	url(u, sizeof(u), "/loop");
	int64_t t0 = sigil__now_ms();
	CHECK(do_req("GET", u, 1024, 5000, 5, NULL, &r, &err) == SIGIL_STATUS_ERROR);
	CHECK(sigil__now_ms() - t0 < 2000);
	snprintf(want, sizeof(want), "127.0.0.1:%d: too many redirects (more than 5)", srv.port);
	CHECK_STREQ(err.message, want);

	/* max_redirects 0: the 3xx is the response */
	url(u, sizeof(u), "/loop");
	CHECK(do_req("GET", u, 1024, 5000, 0, NULL, &r, &err) == SIGIL_STATUS_OK);
	CHECK_INTEQ(r.status, 302);
	sigil__http_response_clear(&r);

	/* only http and https, also after a redirect */
	url(u, sizeof(u), "/to?url=file:///etc/passwd");
	CHECK(do_req("GET", u, 1024, 5000, 3, NULL, &r, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_NETWORK);
	CHECK_CONTAINS(err.message, "protocol other than http/https");
	CHECK(do_req("GET", "ftp://127.0.0.1/x", 1024, 5000, 3, NULL, &r, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_NETWORK);
	CHECK_CONTAINS(err.message, "protocol other than http/https");

	/* credentials are not forwarded to another host */
	char to[256];
	snprintf(to, sizeof(to), "http://127.0.0.1:%d/to?url=http://localhost:%d/echo", srv.port,
		srv.port);
	const char *hdrs[] = { "Authorization: Bearer secret-token", "X-Other: kept" };
	sigil__http_request req = {
		.method = "GET", .url = to, .headers = hdrs, .header_count = 2, .max_body = 65536,
		.deadline_ms = sigil__now_ms() + 5000, .max_redirects = 3,
	};
	CHECK(sigil__http_do(client, &req, &r, &err) == SIGIL_STATUS_OK);
	CHECK_INTEQ(r.status, 200);
	CHECK(r.body && !strstr((char *)r.body, "secret-token"));
	CHECK_CONTAINS((char *)r.body, "X-Other: kept");
	sigil__http_response_clear(&r);
}

static void test_refused_truncated_dns(void)
{
	char u[256], want[256];
	sigil__http_response r = { .content_length = -1 };
	sigil_error err = SIGIL_ERROR_INIT;
	int port = closed_port();
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/v2/", port);
	CHECK(do_req("GET", u, 1024, 5000, 0, NULL, &r, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_NETWORK);
	snprintf(want, sizeof(want), "127.0.0.1:%d: connection refused", port);
	CHECK_STREQ(err.message, want);

	url(u, sizeof(u), "/truncated");
	CHECK(do_req("GET", u, 1024, 5000, 0, NULL, &r, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_NETWORK);
	snprintf(want, sizeof(want), "127.0.0.1:%d/truncated: response body truncated", srv.port);
	CHECK_CONTAINS(err.message, want);

	CHECK(do_req("GET", "http://sigil-test.invalid/v2/", 1024, 3000, 0, NULL, &r, &err)
		== SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_NETWORK);
	CHECK_CONTAINS(err.message, "sigil-test.invalid");

	CHECK(do_req("GET", "not a url", 1024, 3000, 0, NULL, &r, &err) == SIGIL_STATUS_ERROR);
	CHECK(err.category == SIGIL_ERR_USAGE || err.category == SIGIL_ERR_NETWORK);
}

static void test_headers(void)
{
	char u[256];
	sigil__http_response r = { .content_length = -1 };
	sigil_error err = SIGIL_ERROR_INIT;

	url(u, sizeof(u), "/multi-auth");
	CHECK(do_req("GET", u, 1024, 5000, 0, NULL, &r, &err) == SIGIL_STATUS_OK);
	CHECK_INTEQ(r.status, 401);
	CHECK_STREQ(r.www_authenticate,
		"Bearer realm=\"https://auth.example/token\",service=\"reg\", Basic realm=\"reg\"");
	sigil__challenge ch[SIGIL_MAX_CHALLENGES];
	size_t n = 0;
	CHECK(sigil__www_authenticate_parse(r.www_authenticate, strlen(r.www_authenticate), ch,
		SIGIL_MAX_CHALLENGES, &n, &err) == SIGIL_STATUS_OK);
	CHECK_INTEQ(n, 2);
	CHECK_STREQ(ch[0].scheme, "bearer");
	CHECK_STREQ(ch[1].scheme, "basic");
	sigil__http_response_clear(&r);

	url(u, sizeof(u), "/huge-header");
	CHECK(do_req("GET", u, 1024, 5000, 0, NULL, &r, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_LIMIT);
	CHECK_CONTAINS(err.message, "response header Link from 127.0.0.1");

	/* request headers, User-Agent, POST body */
	url(u, sizeof(u), "/echo");
	const char *hdrs[] = { "Accept: application/vnd.oci.image.index.v1+json", "X-Test: 1" };
	const char *body = "a=b&c=d";
	sigil__http_request req = {
		.method = "POST", .url = u, .headers = hdrs, .header_count = 2,
		.body = (const uint8_t *)body, .body_len = strlen(body), .max_body = 65536,
		.deadline_ms = sigil__now_ms() + 5000,
	};
	CHECK(sigil__http_do(client, &req, &r, &err) == SIGIL_STATUS_OK);
	CHECK_CONTAINS((char *)r.body, "POST /echo");
	CHECK_CONTAINS((char *)r.body, "Accept: application/vnd.oci.image.index.v1+json");
	CHECK_CONTAINS((char *)r.body, "X-Test: 1");
	CHECK_CONTAINS((char *)r.body, "User-Agent: sigil/");
	CHECK_CONTAINS((char *)r.body, "\na=b&c=d");
	sigil__http_response_clear(&r);

	/* header injection and unknown methods are the caller's bug */
	const char *bad[] = { "X-Test: 1\r\nX-Evil: 2" };
	req.headers = bad;
	req.header_count = 1;
	CHECK(sigil__http_do(client, &req, &r, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_USAGE);
	CHECK_CONTAINS(err.message, "invalid request header");
	req.header_count = 0;
	req.method = "DELETE";
	CHECK(sigil__http_do(client, &req, &r, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_USAGE);
	CHECK_CONTAINS(err.message, "unsupported method DELETE");
}

static int state_conns(void)
{
	char u[256];
	url(u, sizeof(u), "/_state");
	sigil__http_response r = { .content_length = -1 };
	sigil_error err = SIGIL_ERROR_INIT;
	if (do_req("GET", u, 1 << 20, 5000, 0, NULL, &r, &err) != SIGIL_STATUS_OK)
		return -1;
	json_object *o = json_tokener_parse((char *)r.body), *c = NULL;
	int n = o && json_object_object_get_ex(o, "conns", &c) ? (int)json_object_array_length(c) : -1;
	json_object_put(o);
	sigil__http_response_clear(&r);
	return n;
}

static void test_connection_reuse(void)
{
	int before = state_conns();
	char u[256];
	url(u, sizeof(u), "/ok");
	for (int i = 0; i < 4; i++) {
		sigil__http_response r = { .content_length = -1 };
		sigil_error err = SIGIL_ERROR_INIT;
		CHECK(do_req("GET", u, 1024, 5000, 0, NULL, &r, &err) == SIGIL_STATUS_OK);
		sigil__http_response_clear(&r);
	}
	/* the share's connection cache keeps one connection across handles */
	CHECK_INTEQ(state_conns(), before);
}

static void test_tls(void)
{
	char u[256];
	sigil__http_response r = { .content_length = -1 };
	sigil_error err = SIGIL_ERROR_INIT;
	snprintf(u, sizeof(u), "https://127.0.0.1:%d/ok", tls.port);

	/* private CA not in the system store: refused by default */
	CHECK(do_req("GET", u, 1024, 5000, 0, NULL, &r, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_NETWORK);
	CHECK_CONTAINS(err.message, "TLS certificate problem: ");
	char want[64];
	snprintf(want, sizeof(want), "127.0.0.1:%d: ", tls.port);
	CHECK(strncmp(err.message, want, strlen(want)) == 0);

	sigil__registry_host host = { .scheme = "https" };
	snprintf(host.host, sizeof(host.host), "127.0.0.1:%d", tls.port);
	CHECK(do_req("GET", u, 1024, 5000, 0, &host, &r, &err) == SIGIL_STATUS_ERROR);
	CHECK_CONTAINS(err.message, "TLS certificate problem: ");

	/* the host's CA file is added to the system store */
	char *cas[] = { ca_path };
	host.ca_files = cas;
	host.ca_count = 1;
	CHECK(do_req("GET", u, 1024, 5000, 0, &host, &r, &err) == SIGIL_STATUS_OK);
	CHECK_INTEQ(r.status, 200);
	CHECK_STREQ((char *)r.body, "hello world");
	sigil__http_response_clear(&r);
	/* name checks still apply: localhost is in the certificate too */
	snprintf(u, sizeof(u), "https://localhost:%d/ok", tls.port);
	CHECK(do_req("GET", u, 1024, 5000, 0, &host, &r, &err) == SIGIL_STATUS_OK);
	sigil__http_response_clear(&r);
	snprintf(u, sizeof(u), "https://127.0.0.1:%d/ok", tls.port);

	/* PEM files without a final newline still combine */
	char nonl[600], cmd[1400];
	snprintf(nonl, sizeof(nonl), "%s/cli-nonl.pem", tmpdir);
	snprintf(cmd, sizeof(cmd), "head -c -1 '%s' > '%s'", cli_cert, nonl);
	CHECK(system(cmd) == 0);
	char *two[] = { nonl, ca_path };
	host.ca_files = two;
	host.ca_count = 2;
	CHECK(do_req("GET", u, 1024, 5000, 0, &host, &r, &err) == SIGIL_STATUS_OK);
	sigil__http_response_clear(&r);

	/* and afterwards, without it, the reused TLS state does not trust it */
	host.ca_count = 0;
	CHECK(do_req("GET", u, 1024, 5000, 0, &host, &r, &err) == SIGIL_STATUS_ERROR);
	CHECK_CONTAINS(err.message, "TLS certificate problem: ");

	char missing[600];
	snprintf(missing, sizeof(missing), "%s/missing.pem", tmpdir);
	char *bad[] = { missing };
	host.ca_files = bad;
	host.ca_count = 1;
	CHECK(do_req("GET", u, 1024, 5000, 0, &host, &r, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_IO);
	CHECK_CONTAINS(err.message, "missing.pem");

	/* skip_verify */
	host.ca_count = 0;
	host.skip_verify = true;
	CHECK(do_req("GET", u, 1024, 5000, 0, &host, &r, &err) == SIGIL_STATUS_OK);
	CHECK_INTEQ(r.status, 200);
	sigil__http_response_clear(&r);
}

static void test_client_cert(void)
{
	char u[256];
	sigil__http_response r = { .content_length = -1 };
	sigil_error err = SIGIL_ERROR_INIT;
	snprintf(u, sizeof(u), "https://127.0.0.1:%d/ok", mtls.port);
	char *cas[] = { ca_path };
	sigil__registry_host host = { .scheme = "https", .ca_files = cas, .ca_count = 1 };
	snprintf(host.host, sizeof(host.host), "127.0.0.1:%d", mtls.port);

	CHECK(do_req("GET", u, 1024, 5000, 0, &host, &r, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_NETWORK);

	char *certs[] = { cli_cert }, *keys[] = { cli_key };
	host.client_certs = certs;
	host.client_keys = keys;
	host.client_count = 1;
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(do_req("GET", u, 1024, 5000, 0, &host, &r, &err) == SIGIL_STATUS_OK);
	CHECK_INTEQ(r.status, 200);
	if (err.category)
		fprintf(stderr, "  %s\n", err.message);
	sigil__http_response_clear(&r);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	make_certs(tmpdir);
	snprintf(ca_path, sizeof(ca_path), "%s/ca.pem", tmpdir);
	snprintf(cli_cert, sizeof(cli_cert), "%s/cli.pem", tmpdir);
	snprintf(cli_key, sizeof(cli_key), "%s/cli.key", tmpdir);
	char srv_cert[512], srv_key[512];
	snprintf(srv_cert, sizeof(srv_cert), "%s/srv.pem", tmpdir);
	snprintf(srv_key, sizeof(srv_key), "%s/srv.key", tmpdir);

	test_server_start(&srv, NULL);
	const char *tls_args[] = { "--tls", srv_cert, srv_key, NULL };
	test_server_start(&tls, tls_args);
	const char *mtls_args[] = { "--tls", srv_cert, srv_key, "--client-ca", ca_path, NULL };
	test_server_start(&mtls, mtls_args);

	sigil_error err = SIGIL_ERROR_INIT;
	if (sigil__http_new(&client, &err) != SIGIL_STATUS_OK) {
		fprintf(stderr, "http_new: %s\n", err.message);
		return 2;
	}
	RUN(test_now_ms);
	RUN(test_get_ok);
	RUN(test_head_and_404);
	RUN(test_body_limit);
	RUN(test_deadline);
	RUN(test_redirects);
	RUN(test_refused_truncated_dns);
	RUN(test_headers);
	RUN(test_connection_reuse);
	RUN(test_tls);
	RUN(test_client_cert);
	sigil__http_free(client);
	sigil__http_free(NULL);

	test_server_stop(&srv);
	test_server_stop(&tls);
	test_server_stop(&mtls);
	remove_dir(tmpdir);
	return check_summary();
}
