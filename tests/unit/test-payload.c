/* test-payload.c - the Notary payload with Go decoding semantics
 * (notary-verification.md §1.2). */
#include <dirent.h>
#include <stdint.h>
#include <string.h>
#include <json-c/json.h>
#include "check.h"
#include "b64.h"
#include "bounds.h"
#include "oci.h"
#include "payload.h"

#define MT "application/vnd.oci.image.manifest.v1+json"
#define DA "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DB "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define DC "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define TA(d, s) "{\"mediaType\":\"" MT "\",\"digest\":\"" d "\",\"size\":" s "}"

static sigil__payload *parse_ok(const char *json)
{
	sigil__payload *p = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	sigil_status st = sigil__payload_parse((const uint8_t *)json, strlen(json), &p, &err);
	CHECK(st == SIGIL_STATUS_OK);
	if (st != SIGIL_STATUS_OK)
		fprintf(stderr, "    unexpected error: %s (%s)\n", err.message, json);
	return p;
}

static void parse_bad(const char *json, sigil_category cat, const char *msg)
{
	sigil__payload *p = (sigil__payload *)(uintptr_t)1;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigil__payload_parse((const uint8_t *)json, strlen(json), &p, &err) == SIGIL_STATUS_ERROR);
	CHECK(p == (sigil__payload *)(uintptr_t)1);
	CHECK_INTEQ(err.category, cat);
	CHECK_CONTAINS(err.message, msg);
}

static void test_basic(void)
{
	sigil__payload *p = parse_ok("{\"targetArtifact\":{\"mediaType\":\"" MT "\",\"digest\":\"" DA "\",\"size\":401,"
		"\"annotations\":{\"io.wabbit-networks.buildId\":\"123\",\"k\":\"\"},\"artifactType\":\"x/y\"}}");
	if (p) {
		CHECK_STREQ(p->target.media_type, MT);
		CHECK_STREQ(p->target.digest, DA);
		CHECK_INTEQ(p->target.size, 401);
		CHECK_STREQ(p->target.artifact_type, "x/y");
		CHECK_INTEQ(p->annotation_count, 2);
		CHECK_STREQ(sigil__payload_annotation(p, "io.wabbit-networks.buildId"), "123");
		CHECK_STREQ(sigil__payload_annotation(p, "k"), "");
		CHECK(sigil__payload_annotation(p, "K") == NULL); /* map keys are exact */
		CHECK(sigil__payload_annotation(p, "absent") == NULL);
	}
	sigil__payload_free(p);
	sigil__payload_free(NULL);
	CHECK(sigil__payload_annotation(NULL, "k") == NULL);
}

/* Go: unknown members ignored, including known-looking ones elsewhere. */
static void test_unknown_members(void)
{
	sigil__payload *p = parse_ok("{\"x\":{\"targetArtifact\":5},\"targetArtifact\":{\"mediaType\":\"" MT "\","
		"\"digest\":\"" DA "\",\"size\":1,\"urls\":[\"https://x\",null],\"data\":\"e30=\","
		"\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\",\"os.features\":[\"a\"],\"extra\":1},"
		"\"other\":[{\"}\":\"]\"}]},\"y\":[\"\\\"targetArtifact\\\"\"],\"z\":null}");
	if (p) {
		CHECK_STREQ(p->target.digest, DA);
		CHECK_INTEQ(p->target.size, 1);
	}
	sigil__payload_free(p);
}

static void test_case_insensitive(void)
{
	sigil__payload *p = parse_ok("{\"TARGETARTIFACT\":{\"MediaType\":\"" MT "\",\"DIGEST\":\"" DA "\",\"Size\":7,"
		"\"ANNOTATIONS\":{\"a\":\"b\"}}}");
	if (p) {
		CHECK_STREQ(p->target.digest, DA);
		CHECK_INTEQ(p->target.size, 7);
		CHECK_STREQ(sigil__payload_annotation(p, "a"), "b");
	}
	sigil__payload_free(p);

	/* Go folds U+017F (long s) with 's' and U+212A (Kelvin) with 'k' */
	p = parse_ok("{\"targetArtifact\":{\"mediaType\":\"" MT "\",\"digest\":\"" DA "\",\"\xc5\xbfize\":9}}");
	if (p)
		CHECK_INTEQ(p->target.size, 9);
	sigil__payload_free(p);

	/* escapes in keys are decoded before matching */
	p = parse_ok("{\"\\u0074argetArtifact\":{\"mediaType\":\"" MT "\",\"digest\":\"" DA "\",\"\\u0053ize\":3}}");
	if (p)
		CHECK_INTEQ(p->target.size, 3);
	sigil__payload_free(p);

	/* a key with an embedded NUL is not "size" */
	parse_bad("{\"targetArtifact\":{\"mediaType\":\"" MT "\",\"digest\":\"" DA "\",\"size\\u0000\":3}}",
		SIGIL_ERR_MALFORMED, "targetArtifact.size: missing");
	/* nor is "sizes" or "siz" */
	parse_bad("{\"targetArtifact\":{\"mediaType\":\"" MT "\",\"digest\":\"" DA "\",\"sizes\":3,\"siz\":1}}",
		SIGIL_ERR_MALFORMED, "targetArtifact.size: missing");
}

/* adversarial 046/047: the last duplicate wins, in document order, across
 * spellings; a repeated object decodes into the earlier one. */
static void test_duplicates(void)
{
	sigil__payload *p = parse_ok("{\"targetArtifact\":" TA(DA, "1") ",\"targetArtifact\":" TA(DB, "2") "}");
	if (p) {
		CHECK_STREQ(p->target.digest, DB);
		CHECK_INTEQ(p->target.size, 2);
	}
	sigil__payload_free(p);

	/* json-c would keep "targetArtifact" at its first position with the
	 * value C and then see "TargetArtifact" = B; Go's order gives C. */
	p = parse_ok("{\"targetArtifact\":" TA(DA, "1") ",\"TargetArtifact\":" TA(DB, "2")
		",\"targetArtifact\":" TA(DC, "3") "}");
	if (p) {
		CHECK_STREQ(p->target.digest, DC);
		CHECK_INTEQ(p->target.size, 3);
	}
	sigil__payload_free(p);

	/* merging: the second object only changes digest; null changes nothing */
	p = parse_ok("{\"targetArtifact\":{\"mediaType\":\"" MT "\",\"digest\":\"" DA "\",\"size\":5,"
		"\"annotations\":{\"a\":\"1\",\"b\":\"2\"}},"
		"\"targetArtifact\":{\"digest\":\"" DB "\",\"size\":null,\"annotations\":{\"b\":\"3\",\"c\":\"4\"}},"
		"\"targetArtifact\":null}");
	if (p) {
		CHECK_STREQ(p->target.media_type, MT);
		CHECK_STREQ(p->target.digest, DB);
		CHECK_INTEQ(p->target.size, 5);
		CHECK_INTEQ(p->annotation_count, 3);
		CHECK_STREQ(sigil__payload_annotation(p, "a"), "1");
		CHECK_STREQ(sigil__payload_annotation(p, "b"), "3");
		CHECK_STREQ(sigil__payload_annotation(p, "c"), "4");
	}
	sigil__payload_free(p);

	/* inside one object too, and annotations: null empties the map */
	p = parse_ok("{\"targetArtifact\":{\"mediaType\":\"" MT "\",\"digest\":\"" DA "\",\"Digest\":\"" DB "\","
		"\"size\":5,\"SIZE\":6,\"annotations\":{\"a\":\"1\",\"a\":\"2\"},\"Annotations\":null,"
		"\"annotations\":{\"z\":null}}}");
	if (p) {
		CHECK_STREQ(p->target.digest, DB);
		CHECK_INTEQ(p->target.size, 6);
		CHECK_INTEQ(p->annotation_count, 1);
		CHECK(sigil__payload_annotation(p, "a") == NULL);
		CHECK_STREQ(sigil__payload_annotation(p, "z"), "");
	}
	sigil__payload_free(p);
}

static void test_size(void)
{
	parse_bad("{\"targetArtifact\":" TA(DA, "401.0") "}", SIGIL_ERR_MALFORMED, "targetArtifact.size: expected an integer");
	parse_bad("{\"targetArtifact\":" TA(DA, "4.01e2") "}", SIGIL_ERR_MALFORMED, "targetArtifact.size: expected an integer");
	parse_bad("{\"targetArtifact\":" TA(DA, "1E2") "}", SIGIL_ERR_MALFORMED, "targetArtifact.size: expected an integer");
	parse_bad("{\"targetArtifact\":" TA(DA, "\"401\"") "}", SIGIL_ERR_MALFORMED, "targetArtifact.size: expected an integer");
	parse_bad("{\"targetArtifact\":" TA(DA, "true") "}", SIGIL_ERR_MALFORMED, "targetArtifact.size: expected an integer");
	parse_bad("{\"targetArtifact\":" TA(DA, "[1]") "}", SIGIL_ERR_MALFORMED, "targetArtifact.size: expected an integer");
	parse_bad("{\"targetArtifact\":" TA(DA, "-1") "}", SIGIL_ERR_MALFORMED, "targetArtifact.size: negative");
	parse_bad("{\"targetArtifact\":" TA(DA, "9223372036854775808") "}", SIGIL_ERR_MALFORMED, "out of range");
	parse_bad("{\"targetArtifact\":" TA(DA, "99999999999999999999999") "}", SIGIL_ERR_MALFORMED, "out of range");
	parse_bad("{\"targetArtifact\":{\"mediaType\":\"" MT "\",\"digest\":\"" DA "\",\"size\":null}}",
		SIGIL_ERR_MALFORMED, "targetArtifact.size: missing");
	sigil__payload *p = parse_ok("{\"targetArtifact\":" TA(DA, "9223372036854775807") "}");
	if (p)
		CHECK(p->target.size == INT64_MAX);
	sigil__payload_free(p);
	p = parse_ok("{\"targetArtifact\":" TA(DA, "-0") "}");
	if (p)
		CHECK_INTEQ(p->target.size, 0);
	sigil__payload_free(p);
}

static void test_required(void)
{
	parse_bad("{}", SIGIL_ERR_MALFORMED, "payload: targetArtifact: missing");
	parse_bad("{\"targetArtifact\":null}", SIGIL_ERR_MALFORMED, "targetArtifact: missing");
	parse_bad("{\"target\":" TA(DA, "1") "}", SIGIL_ERR_MALFORMED, "targetArtifact: missing");
	parse_bad("{\"targetArtifact\":\"x\"}", SIGIL_ERR_MALFORMED, "targetArtifact: expected an object");
	parse_bad("{\"targetArtifact\":[" TA(DA, "1") "]}", SIGIL_ERR_MALFORMED, "targetArtifact: expected an object");
	parse_bad("{\"targetArtifact\":{\"digest\":\"" DA "\",\"size\":1}}", SIGIL_ERR_MALFORMED, "targetArtifact.mediaType: missing");
	parse_bad("{\"targetArtifact\":{\"mediaType\":\"" MT "\",\"size\":1}}", SIGIL_ERR_MALFORMED, "targetArtifact.digest: missing");
	parse_bad("{\"targetArtifact\":{\"mediaType\":5,\"digest\":\"" DA "\",\"size\":1}}", SIGIL_ERR_MALFORMED, "targetArtifact.mediaType: expected a string");
	parse_bad("{\"targetArtifact\":{\"mediaType\":\"" MT "\",\"digest\":{},\"size\":1}}", SIGIL_ERR_MALFORMED, "targetArtifact.digest: expected a string");
	parse_bad("{\"targetArtifact\":" TA("sha256:abc", "1") "}", SIGIL_ERR_MALFORMED, "targetArtifact.digest");
	parse_bad("[]", SIGIL_ERR_MALFORMED, "payload: expected a JSON object");
	parse_bad("null", SIGIL_ERR_MALFORMED, "payload");
	parse_bad("{\"targetArtifact\":" TA(DA, "1") "} x", SIGIL_ERR_MALFORMED, "payload");
	parse_bad("", SIGIL_ERR_MALFORMED, "payload");
	parse_bad("{\"targetArtifact\":{\"mediaType\":\"" MT "\",\"digest\":\"" DA "\",\"size\":1,\"artifactType\":1}}",
		SIGIL_ERR_MALFORMED, "targetArtifact.artifactType: expected a string");
}

static void test_optional_member_types(void)
{
	parse_bad("{\"targetArtifact\":{\"mediaType\":\"" MT "\",\"digest\":\"" DA "\",\"size\":1,\"annotations\":[]}}",
		SIGIL_ERR_MALFORMED, "targetArtifact.annotations: expected an object");
	parse_bad("{\"targetArtifact\":{\"mediaType\":\"" MT "\",\"digest\":\"" DA "\",\"size\":1,\"annotations\":{\"k\":1}}}",
		SIGIL_ERR_MALFORMED, "value of \"k\" is not a string");
	parse_bad("{\"targetArtifact\":{\"mediaType\":\"" MT "\",\"digest\":\"" DA "\",\"size\":1,\"urls\":\"x\"}}",
		SIGIL_ERR_MALFORMED, "targetArtifact.urls: expected an array");
	parse_bad("{\"targetArtifact\":{\"mediaType\":\"" MT "\",\"digest\":\"" DA "\",\"size\":1,\"urls\":[1]}}",
		SIGIL_ERR_MALFORMED, "targetArtifact.urls[0]: expected a string");
	parse_bad("{\"targetArtifact\":{\"mediaType\":\"" MT "\",\"digest\":\"" DA "\",\"size\":1,\"data\":5}}",
		SIGIL_ERR_MALFORMED, "targetArtifact.data: expected a string");
	parse_bad("{\"targetArtifact\":{\"mediaType\":\"" MT "\",\"digest\":\"" DA "\",\"size\":1,\"data\":\"!!\"}}",
		SIGIL_ERR_MALFORMED, "targetArtifact.data");
	parse_bad("{\"targetArtifact\":{\"mediaType\":\"" MT "\",\"digest\":\"" DA "\",\"size\":1,\"platform\":[]}}",
		SIGIL_ERR_MALFORMED, "targetArtifact.platform: expected an object");
	parse_bad("{\"targetArtifact\":{\"mediaType\":\"" MT "\",\"digest\":\"" DA "\",\"size\":1,\"platform\":{\"OS\":1}}}",
		SIGIL_ERR_MALFORMED, "targetArtifact.platform: OS: expected a string");
	parse_bad("{\"targetArtifact\":{\"mediaType\":\"" MT "\",\"digest\":\"" DA "\",\"size\":1,\"platform\":{\"os.features\":{}}}}",
		SIGIL_ERR_MALFORMED, "os.features");

	/* too long a mediaType is a LIMIT */
	char buf[1024];
	snprintf(buf, sizeof buf, "{\"targetArtifact\":{\"mediaType\":\"%0400d\",\"digest\":\"" DA "\",\"size\":1}}", 0);
	parse_bad(buf, SIGIL_ERR_LIMIT, "targetArtifact.mediaType: longer than 255 bytes");
}

static void test_annotation_limit(void)
{
	size_t n = SIGIL_MAX_ANNOTATIONS + 1;
	size_t cap = 256 + n * 24;
	char *doc = malloc(cap);
	if (!doc)
		return;
	size_t p = (size_t)snprintf(doc, cap, "{\"targetArtifact\":{\"mediaType\":\"" MT "\",\"digest\":\"" DA "\",\"size\":1,\"annotations\":{");
	for (size_t i = 0; i < n; i++)
		p += (size_t)snprintf(doc + p, cap - p, "%s\"k%zu\":\"v\"", i ? "," : "", i);
	p += (size_t)snprintf(doc + p, cap - p, "}}}");
	parse_bad(doc, SIGIL_ERR_LIMIT, "more than 4096 entries");
	/* exactly the limit is fine */
	char *cut = strstr(doc, ",\"k4096\"");
	CHECK(cut != NULL);
	if (cut) {
		memcpy(cut, "}}}", 4);
		sigil__payload *pl = parse_ok(doc);
		if (pl)
			CHECK_INTEQ(pl->annotation_count, SIGIL_MAX_ANNOTATIONS);
		sigil__payload_free(pl);
	}
	free(doc);
}

static void test_depth(void)
{
	char doc[512];
	size_t p = (size_t)snprintf(doc, sizeof doc, "{\"targetArtifact\":" TA(DA, "1") ",\"x\":");
	for (int i = 0; i < 40; i++) doc[p++] = '[';
	for (int i = 0; i < 40; i++) doc[p++] = ']';
	doc[p++] = '}';
	doc[p] = 0;
	parse_bad(doc, SIGIL_ERR_LIMIT, "nesting");
}

/* The payloads of real JWS envelopes in the corpora. */
static void test_corpus_jws(void)
{
	const char *cases[][3] = {
		/* case, expect payload digest == case digest */
		{ "adversarial/cases/001-jws-baseline-rsa2048", "same", NULL },
		{ "adversarial/cases/045-jws-payload-extra-fields", "same", NULL },
		{ "adversarial/cases/047-jws-payload-duplicate-key-last-wrong", "other", NULL },
		{ "adversarial/cases/044-jws-payload-mediatype-mismatch", "same", NULL },
		{ "conformance/cases/059-user-metadata-match", "same", NULL },
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		char path[4096];
		size_t len;
		snprintf(path, sizeof path, SIGIL_TEST_DATA "/corpus/%s/digest", cases[c][0]);
		unsigned char *digest = check_read_file(path, &len);
		while (len && (digest[len - 1] == '\n' || digest[len - 1] == '\r'))
			digest[--len] = 0;
		snprintf(path, sizeof path, SIGIL_TEST_DATA "/corpus/%s/layout/index.json", cases[c][0]);
		unsigned char *ij = check_read_file(path, &len);
		sigil__index *idx = NULL;
		sigil_error err = SIGIL_ERROR_INIT;
		CHECK(sigil__index_parse(ij, len, &idx, &err) == SIGIL_STATUS_OK);
		free(ij);
		int found = 0;
		for (size_t i = 0; idx && i < idx->count; i++) {
			if (strcmp(idx->manifests[i].artifact_type, SIGIL_MT_NOTARY_SIGNATURE) != 0)
				continue;
			snprintf(path, sizeof path, SIGIL_TEST_DATA "/corpus/%s/layout/blobs/sha256/%s", cases[c][0],
				idx->manifests[i].digest + 7);
			unsigned char *mb = check_read_file(path, &len);
			sigil__manifest *m = NULL;
			CHECK(sigil__manifest_parse(mb, len, &m, &err) == SIGIL_STATUS_OK);
			free(mb);
			if (!m || m->layer_count != 1 || strcmp(m->layers[0].media_type, "application/jose+json") != 0) {
				sigil__manifest_free(m);
				continue;
			}
			snprintf(path, sizeof path, SIGIL_TEST_DATA "/corpus/%s/layout/blobs/sha256/%s", cases[c][0],
				m->layers[0].digest + 7);
			sigil__manifest_free(m);
			unsigned char *env = check_read_file(path, &len);
			json_object *jo = json_tokener_parse((const char *)env);
			free(env);
			json_object *pl = NULL;
			CHECK(jo && json_object_object_get_ex(jo, "payload", &pl));
			uint8_t *raw = NULL;
			size_t raw_len = 0;
			if (pl && sigil__b64url_decode(json_object_get_string(pl), (size_t)json_object_get_string_len(pl),
					&raw, &raw_len, &err) == SIGIL_STATUS_OK) {
				sigil__payload *p = NULL;
				CHECK(sigil__payload_parse(raw, raw_len, &p, &err) == SIGIL_STATUS_OK);
				if (p) {
					found++;
					if (strcmp(cases[c][1], "same") == 0)
						CHECK_STREQ(p->target.digest, (const char *)digest);
					else
						CHECK(strcmp(p->target.digest, (const char *)digest) != 0);
					CHECK(p->target.size > 0);
				}
				sigil__payload_free(p);
				free(raw);
			}
			json_object_put(jo);
		}
		CHECK(found >= 1);
		sigil__index_free(idx);
		free(digest);
	}
}

int main(void)
{
	RUN(test_basic);
	RUN(test_unknown_members);
	RUN(test_case_insensitive);
	RUN(test_duplicates);
	RUN(test_size);
	RUN(test_required);
	RUN(test_optional_member_types);
	RUN(test_annotation_limit);
	RUN(test_depth);
	RUN(test_corpus_jws);
	return check_summary();
}
