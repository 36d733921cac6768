/* test-sigild-metrics.c - sigild's metrics registry and Prometheus text
 * exposition (plugin/metrics.c) and its HTTP endpoint (metrics_http.c):
 * label escaping (backslash, quote, line feed), the exact text of every
 * metric type, cumulative histogram buckets ending in +Inf, bounded
 * cardinality (the foldable label becomes "other"), invalid families
 * refused, the listen address parser, and /metrics, /healthz, /readyz and
 * the error answers over a real socket. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "check.h"
#include "metrics.h"
#include "metrics_http.h"

static void test_escape(void)
{
	char out[64];
	/* exposition_formats.md: \ " and line feed are escaped */
	const char in[] = "a\\b\"c\nd";
	size_t n = sigild_metrics_escape_label(in, strlen(in), out, sizeof out);
	CHECK_STREQ(out, "a\\\\b\\\"c\\nd");
	CHECK_INTEQ(n, strlen("a\\\\b\\\"c\\nd"));
	/* nothing else is touched: tabs, UTF-8, '{' '}' ',' '=' */
	const char plain[] = "t\tx {a=b,c} \xc3\xa9";
	n = sigild_metrics_escape_label(plain, strlen(plain), out, sizeof out);
	CHECK_STREQ(out, plain);
	/* a short buffer: the needed length is returned, the output terminated */
	char tiny[4];
	n = sigild_metrics_escape_label("\"\"\"", 3, tiny, sizeof tiny);
	CHECK_INTEQ(n, 6);
	CHECK_INTEQ(strlen(tiny), 3);
	/* an embedded NUL within len is copied through as it is */
	n = sigild_metrics_escape_label("a\0b", 3, out, sizeof out);
	CHECK_INTEQ(n, 3);
}

static const double BUCKETS[] = { 0.001, 0.01, 1 };

static void test_exposition(void)
{
	sigild_metrics *m = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	sigild_metric *c = NULL, *g = NULL, *h = NULL;
	CHECK(sigild_metrics_new(&m, &err) == SIGIL_STATUS_OK);
	sigild_metric_desc dc = { .name = "t_requests_total", .help = "Requests\nby \"kind\" \\ path",
		.type = SIGILD_METRIC_COUNTER, .label_count = 2, .labels = { "kind", "policy" },
		.fold_label = 1, .max_series = 3 };
	sigild_metric_desc dg = { .name = "t_up", .help = "Up", .type = SIGILD_METRIC_GAUGE,
		.fold_label = -1, .max_series = 1 };
	sigild_metric_desc dh = { .name = "t_seconds", .help = "Latency",
		.type = SIGILD_METRIC_HISTOGRAM, .label_count = 1, .labels = { "path" },
		.fold_label = -1, .max_series = 2, .buckets = BUCKETS, .bucket_count = 3 };
	CHECK(sigild_metrics_add(m, &dc, &c, &err) == SIGIL_STATUS_OK);
	CHECK(sigild_metrics_add(m, &dg, &g, &err) == SIGIL_STATUS_OK);
	CHECK(sigild_metrics_add(m, &dh, &h, &err) == SIGIL_STATUS_OK);

	const char *a[2] = { "allow", "pol \"x\"\\\n" };
	sigild_metric_add(c, a, 1);
	sigild_metric_add(c, a, 2);
	sigild_metric_add(c, a, -5); /* counters never go down */
	sigild_metric_set(g, NULL, 1);
	const char *p[1] = { "cold" };
	/* binary fractions, so that the sum is exact */
	sigild_metric_observe(h, p, 0.0009765625); /* le 0.001 */
	sigild_metric_observe(h, p, 0.25);         /* le 1 */
	sigild_metric_observe(h, p, 0.5);          /* le 1 */
	sigild_metric_observe(h, p, 20);           /* +Inf only */
	sigild_metric_observe(h, p, 0.0 / 0.0);    /* NaN: ignored */
	const char *w[1] = { "warm" };
	sigild_metric_observe(h, w, 0.01);         /* le 0.01: bounds are inclusive */

	char *text = NULL;
	size_t len = 0;
	CHECK(sigild_metrics_expose(m, &text, &len, &err) == SIGIL_STATUS_OK);
	const char *want =
		"# HELP t_requests_total Requests\\nby \"kind\" \\\\ path\n"
		"# TYPE t_requests_total counter\n"
		"t_requests_total{kind=\"allow\",policy=\"pol \\\"x\\\"\\\\\\n\"} 3\n"
		"# HELP t_up Up\n"
		"# TYPE t_up gauge\n"
		"t_up 1\n"
		"# HELP t_seconds Latency\n"
		"# TYPE t_seconds histogram\n"
		"t_seconds_bucket{path=\"cold\",le=\"0.001\"} 1\n"
		"t_seconds_bucket{path=\"cold\",le=\"0.01\"} 1\n"
		"t_seconds_bucket{path=\"cold\",le=\"1\"} 3\n"
		"t_seconds_bucket{path=\"cold\",le=\"+Inf\"} 4\n"
		"t_seconds_sum{path=\"cold\"} 20.7509765625\n"
		"t_seconds_count{path=\"cold\"} 4\n"
		"t_seconds_bucket{path=\"warm\",le=\"0.001\"} 0\n"
		"t_seconds_bucket{path=\"warm\",le=\"0.01\"} 1\n"
		"t_seconds_bucket{path=\"warm\",le=\"1\"} 1\n"
		"t_seconds_bucket{path=\"warm\",le=\"+Inf\"} 1\n"
		"t_seconds_sum{path=\"warm\"} 0.01\n"
		"t_seconds_count{path=\"warm\"} 1\n";
	CHECK_STREQ(text, want);
	CHECK_INTEQ(len, strlen(want));
	free(text);

	/* cardinality: past max_series (3) the policy folds into "other",
	 * the enumerated label keeps its value */
	const char *b[2] = { "allow", "p2" };
	const char *d[2] = { "deny", "p3" };
	const char *e[2] = { "deny", "p4" };
	const char *f[2] = { "allow", "p5" };
	sigild_metric_add(c, b, 1);
	sigild_metric_add(c, d, 1);
	sigild_metric_add(c, e, 1); /* 4th series: deny/other */
	sigild_metric_add(c, f, 1); /* allow/other */
	sigild_metric_add(c, e, 1); /* deny/other again */
	const char *o1[2] = { "deny", "other" };
	const char *o2[2] = { "allow", "other" };
	CHECK(sigild_metric_get(c, o1) == 2);
	CHECK(sigild_metric_get(c, o2) == 1);
	CHECK(sigild_metric_get(c, e) == 0);
	CHECK(sigild_metric_get(c, b) == 1);
	/* a value longer than the cap folds too, whatever the count */
	char longv[SIGILD_METRICS_MAX_VALUE + 2];
	memset(longv, 'x', sizeof longv - 1);
	longv[sizeof longv - 1] = '\0';
	const char *l[2] = { "deny", longv };
	sigild_metric_add(c, l, 1);
	CHECK(sigild_metric_get(c, o1) == 3);
	CHECK(sigild_metric_get(c, l) == 0);

	/* an info gauge keeps exactly one series */
	sigild_metric_desc di = { .name = "t_info", .help = "Info", .type = SIGILD_METRIC_GAUGE,
		.label_count = 1, .labels = { "revision" }, .fold_label = -1, .max_series = 1 };
	sigild_metric *info = NULL;
	CHECK(sigild_metrics_add(m, &di, &info, &err) == SIGIL_STATUS_OK);
	const char *r1[1] = { "sha256:aa" };
	const char *r2[1] = { "sha256:bb" };
	sigild_metric_set_only(info, r1, 1);
	sigild_metric_set_only(info, r2, 1);
	CHECK(sigild_metric_get(info, r1) == 0);
	CHECK(sigild_metric_get(info, r2) == 1);
	/* no foldable label and at the cap: the update is dropped, not a new series */
	sigild_metric_set(info, r1, 1);
	CHECK(sigild_metric_get(info, r1) == 0);
	CHECK(sigild_metrics_expose(m, &text, &len, &err) == SIGIL_STATUS_OK);
	CHECK_CONTAINS(text, "t_info{revision=\"sha256:bb\"} 1\n");
	CHECK(strstr(text, "sha256:aa") == NULL);
	CHECK(strstr(text, "xxxx") == NULL);
	free(text);
	sigild_metrics_free(m);
}

static void expect_refused(sigild_metrics *m, sigild_metric_desc d, const char *want)
{
	sigild_metric *f = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigild_metrics_add(m, &d, &f, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_USAGE);
	CHECK_CONTAINS(err.message, want);
	CHECK(f == NULL);
}

static void test_invalid_families(void)
{
	sigild_metrics *m = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigild_metrics_new(&m, &err) == SIGIL_STATUS_OK);
	sigild_metric_desc ok = { .name = "ok_total", .help = "h", .type = SIGILD_METRIC_COUNTER,
		.fold_label = -1, .max_series = 1 };
	sigild_metric *f = NULL;
	CHECK(sigild_metrics_add(m, &ok, &f, &err) == SIGIL_STATUS_OK);
	expect_refused(m, ok, "registered twice");
	sigild_metric_desc d = ok;
	d.name = "9bad";
	expect_refused(m, d, "is not valid");
	d.name = "bad-name";
	expect_refused(m, d, "is not valid");
	d = ok;
	d.name = "l_total";
	d.label_count = 1;
	d.labels[0] = "le";
	expect_refused(m, d, "invalid label name");
	d.labels[0] = "__x";
	expect_refused(m, d, "invalid label name");
	d.labels[0] = "a:b";
	expect_refused(m, d, "invalid label name");
	d.labels[0] = "ok";
	d.fold_label = 1;
	expect_refused(m, d, "invalid label set");
	d = ok;
	d.name = "h_seconds";
	d.type = SIGILD_METRIC_HISTOGRAM;
	expect_refused(m, d, "buckets");
	static const double bad[] = { 1, 1 };
	d.buckets = bad;
	d.bucket_count = 2;
	expect_refused(m, d, "buckets must increase");
	sigild_metrics_free(m);
}

static void test_listen_parse(void)
{
	struct sockaddr_storage sa;
	socklen_t sl = 0;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigild_metrics_listen_parse("127.0.0.1:9464", &sa, &sl, &err) == SIGIL_STATUS_OK);
	CHECK_INTEQ(sa.ss_family, AF_INET);
	CHECK_INTEQ(ntohs(((struct sockaddr_in *)&sa)->sin_port), 9464);
	CHECK_INTEQ(sl, sizeof(struct sockaddr_in));
	CHECK(sigild_metrics_listen_parse("[::1]:0", &sa, &sl, &err) == SIGIL_STATUS_OK);
	CHECK_INTEQ(sa.ss_family, AF_INET6);
	CHECK(sigild_metrics_listen_parse("0.0.0.0:65535", &sa, &sl, &err) == SIGIL_STATUS_OK);
	static const char *bad[] = { "", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", ":9464",
		"localhost:9464", "::1:9464", "[::1]", "[127.0.0.1]:1", "1.2.3.4:+1", "1.2.3.4:123456" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err = (sigil_error)SIGIL_ERROR_INIT;
		CHECK(sigild_metrics_listen_parse(bad[i], &sa, &sl, &err) == SIGIL_STATUS_ERROR);
		CHECK_INTEQ(err.category, SIGIL_ERR_USAGE);
	}
}

/* http_get - one HTTP/1.0 request (the connection closes after the
 * answer); the whole answer in out. The server answers HTTP/1.1. */
static int http_get(uint16_t port, const char *method, const char *path, char *out, size_t cap)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		close(fd);
		return -1;
	}
	char req[256];
	int n = snprintf(req, sizeof req, "%s %s HTTP/1.0\r\nHost: x\r\n\r\n", method, path);
	if (write(fd, req, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	size_t got = 0;
	ssize_t r;
	while (got + 1 < cap && (r = read(fd, out + got, cap - 1 - got)) > 0)
		got += (size_t)r;
	out[got] = '\0';
	close(fd);
	return 0;
}

static bool ready_flag;

static bool ready_cb(void *ctx, char *why, size_t len)
{
	(void)ctx;
	if (!ready_flag)
		snprintf(why, len, "testing");
	return ready_flag;
}

static void test_http(void)
{
	sigild_metrics *m = NULL;
	sigild_metrics_server *srv = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	sigild_metric *g = NULL;
	CHECK(sigild_metrics_new(&m, &err) == SIGIL_STATUS_OK);
	sigild_metric_desc dg = { .name = "t_up", .help = "Up", .type = SIGILD_METRIC_GAUGE,
		.fold_label = -1, .max_series = 1 };
	CHECK(sigild_metrics_add(m, &dg, &g, &err) == SIGIL_STATUS_OK);
	sigild_metric_set(g, NULL, 1);
	CHECK(sigild_metrics_server_start(&srv, "127.0.0.1:0", m, ready_cb, NULL, &err) == SIGIL_STATUS_OK);
	uint16_t port = sigild_metrics_server_port(srv);
	CHECK(port != 0);
	char buf[8192];
	CHECK(http_get(port, "GET", "/metrics", buf, sizeof buf) == 0);
	CHECK(strncmp(buf, "HTTP/1.1 200 ", 13) == 0);
	CHECK_CONTAINS(buf, "Content-Type: text/plain; version=0.0.4; charset=utf-8");
	CHECK_CONTAINS(buf, "\r\n\r\n# HELP t_up Up\n# TYPE t_up gauge\nt_up 1\n");
	CHECK(http_get(port, "HEAD", "/metrics", buf, sizeof buf) == 0);
	CHECK(strncmp(buf, "HTTP/1.1 200 ", 13) == 0);
	CHECK(strstr(buf, "t_up 1") == NULL);
	CHECK(http_get(port, "GET", "/healthz", buf, sizeof buf) == 0);
	CHECK(strncmp(buf, "HTTP/1.1 200 ", 13) == 0);
	CHECK_CONTAINS(buf, "\r\n\r\nok\n");
	ready_flag = false;
	CHECK(http_get(port, "GET", "/readyz", buf, sizeof buf) == 0);
	CHECK(strncmp(buf, "HTTP/1.1 503 ", 13) == 0);
	CHECK_CONTAINS(buf, "not ready: testing\n");
	ready_flag = true;
	CHECK(http_get(port, "GET", "/readyz", buf, sizeof buf) == 0);
	CHECK(strncmp(buf, "HTTP/1.1 200 ", 13) == 0);
	CHECK_CONTAINS(buf, "\r\n\r\nready\n");
	CHECK(http_get(port, "GET", "/nope", buf, sizeof buf) == 0);
	CHECK(strncmp(buf, "HTTP/1.1 404 ", 13) == 0);
	CHECK(http_get(port, "POST", "/metrics", buf, sizeof buf) == 0);
	CHECK(strncmp(buf, "HTTP/1.1 405 ", 13) == 0);
	CHECK_CONTAINS(buf, "Allow: GET, HEAD");

	/* the same port again: an I/O error naming the address */
	char addr[64];
	snprintf(addr, sizeof addr, "127.0.0.1:%u", (unsigned)port);
	sigild_metrics_server *second = NULL;
	CHECK(sigild_metrics_server_start(&second, addr, m, NULL, NULL, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_IO);
	CHECK_CONTAINS(err.message, addr);
	CHECK(second == NULL);
	sigild_metrics_server_stop(srv);
	/* stopped: nothing listens any more */
	CHECK(http_get(port, "GET", "/healthz", buf, sizeof buf) == -1);
	sigild_metrics_server_stop(NULL);
	sigild_metrics_free(m);
}

int main(void)
{
	RUN(test_escape);
	RUN(test_exposition);
	RUN(test_invalid_families);
	RUN(test_listen_parse);
	RUN(test_http);
	return check_summary();
}
