/* test-referrers.c - referrers index pages and Link pagination. */
#include <stdlib.h>
#include <string.h>
#include "referrers.h"
#include "check.h"

#define SIG "application/vnd.cncf.notary.signature"
#define D(n) "sha256:" n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n \
	n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n

static const char *desc(const char *digest, const char *at)
{
	static char buf[8][512];
	static int k;
	char *b = buf[k++ % 8];
	snprintf(b, 512, "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":10%s%s%s}",
		digest, at ? ",\"artifactType\":\"" : "", at ? at : "", at ? "\"" : "");
	return b;
}

static void test_filter_and_dedup(void)
{
	char body[4096];
	snprintf(body, sizeof body,
		"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[%s,%s,%s,%s]}",
		desc(D("a"), SIG), desc(D("b"), "application/vnd.example.sbom"), desc(D("c"), NULL),
		desc(D("a"), SIG));
	sigil_descriptor *list = NULL;
	size_t n = 0;
	sigil_error e = SIGIL_ERROR_INIT;
	CHECK(sigil__referrers_page_parse((const uint8_t *)body, strlen(body), &list, &n, 100, &e) == SIGIL_STATUS_OK);
	/* the unrelated referrer and the one without artifactType are dropped
	 * even though a registry may claim it filtered; the duplicate too */
	CHECK_INTEQ(n, 1);
	CHECK_STREQ(n ? list[0].digest : "", D("a"));
	/* a second page appends, still de-duplicated */
	char page2[2048];
	snprintf(page2, sizeof page2, "{\"schemaVersion\":2,\"manifests\":[%s,%s]}", desc(D("a"), SIG),
		desc(D("d"), SIG));
	CHECK(sigil__referrers_page_parse((const uint8_t *)page2, strlen(page2), &list, &n, 100, &e) == SIGIL_STATUS_OK);
	CHECK_INTEQ(n, 2);
	free(list);
}

static void test_max(void)
{
	char body[8192] = "{\"schemaVersion\":2,\"manifests\":[";
	const char *digits = "0123456789";
	for (int i = 0; i < 10; i++) {
		char d[2] = { digits[i], 0 };
		char dig[80];
		snprintf(dig, sizeof dig, "sha256:%064d", i);
		(void)d;
		strcat(body, desc(dig, SIG));
		strcat(body, i < 9 ? "," : "]}");
	}
	sigil_descriptor *list = NULL;
	size_t n = 0;
	sigil_error e = SIGIL_ERROR_INIT;
	CHECK(sigil__referrers_page_parse((const uint8_t *)body, strlen(body), &list, &n, 3, &e) == SIGIL_STATUS_OK);
	CHECK_INTEQ(n, 3);
	free(list);
}

static void test_malformed_page(void)
{
	sigil_descriptor *list = NULL;
	size_t n = 0;
	sigil_error e = SIGIL_ERROR_INIT;
	const char *bad = "{\"manifests\":[{\"digest\":\"sha256:xyz\"}]}";
	CHECK(sigil__referrers_page_parse((const uint8_t *)bad, strlen(bad), &list, &n, 10, &e) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(e.category, SIGIL_ERR_MALFORMED);
	CHECK_INTEQ(n, 0);
	free(list);
}

static const char *next_of(const char *link, sigil_category *cat)
{
	static char buf[512];
	char *next = NULL;
	sigil_error e = SIGIL_ERROR_INIT;
	*cat = SIGIL_ERR_NONE;
	if (sigil__link_next(link, &next, &e) != SIGIL_STATUS_OK) {
		*cat = e.category;
		return NULL;
	}
	snprintf(buf, sizeof buf, "%s", next ? next : "(none)");
	free(next);
	return buf;
}

static void test_link(void)
{
	sigil_category c;
	CHECK_STREQ(next_of("</v2/a/referrers/sha256:1?n=2&last=x>; rel=\"next\"", &c), "/v2/a/referrers/sha256:1?n=2&last=x");
	CHECK_STREQ(next_of("<https://r/x>; rel=next", &c), "https://r/x");
	CHECK_STREQ(next_of("<p>; rel=\"prev\", <n>; type=\"a\"; rel=\"alternate next\"", &c), "n");
	CHECK_STREQ(next_of("<p>; rel=\"prev\"", &c), "(none)");
	CHECK_STREQ(next_of(NULL, &c), "(none)");
	CHECK(next_of("no-angle; rel=next", &c) == NULL);
	CHECK_INTEQ(c, SIGIL_ERR_MALFORMED);
	CHECK(next_of("<unterminated; rel=next", &c) == NULL);
	CHECK_INTEQ(c, SIGIL_ERR_MALFORMED);
	CHECK(next_of("<x>; rel=\"next", &c) == NULL);
	CHECK_INTEQ(c, SIGIL_ERR_MALFORMED);
	char huge[10000];
	memset(huge, 'a', sizeof huge - 1);
	huge[sizeof huge - 1] = 0;
	huge[0] = '<';
	CHECK(next_of(huge, &c) == NULL);
	CHECK_INTEQ(c, SIGIL_ERR_LIMIT);
}

int main(void)
{
	RUN(test_filter_and_dedup);
	RUN(test_max);
	RUN(test_malformed_page);
	RUN(test_link);
	return check_summary();
}
