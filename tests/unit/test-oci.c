/* test-oci.c - digests, descriptors, manifests and indexes (oci.c). */
#include <dirent.h>
#include <stdint.h>
#include <string.h>
#include <json-c/json.h>
#include "check.h"
#include "oci.h"
#include "bounds.h"

#define EMPTY_SHA256 "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const uint8_t *S(const char *s) { return (const uint8_t *)s; }

static void expect_digest_bad(const char *d, const char *msg)
{
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigil__digest_validate(d, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_MALFORMED);
	CHECK_CONTAINS(err.message, msg);
}

static void test_digest_validate(void)
{
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigil__digest_validate("sha256:" HEX64, &err) == SIGIL_STATUS_OK);
	CHECK(sigil__digest_validate("sha512:" HEX64 HEX64, &err) == SIGIL_STATUS_OK);
	CHECK_INTEQ(err.category, SIGIL_ERR_NONE); /* untouched on success */
	expect_digest_bad(NULL, "missing");
	expect_digest_bad("", "algorithm must be sha256 or sha512");
	expect_digest_bad("sha384:" HEX64, "algorithm must be sha256 or sha512");
	expect_digest_bad("md5:0123456789abcdef0123456789abcdef", "algorithm");
	expect_digest_bad("SHA256:" HEX64, "algorithm");
	expect_digest_bad(HEX64, "algorithm");
	expect_digest_bad("sha256:", "expected 64 hex characters");
	expect_digest_bad("sha256:" HEX64 "0", "expected 64 hex characters");
	expect_digest_bad("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
		"expected 64 hex characters");
	expect_digest_bad("sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
		"not lower-case hex");
	expect_digest_bad("sha256:0123456789abcdeg0123456789abcdef0123456789abcdef0123456789abcdef",
		"not lower-case hex");
	expect_digest_bad("sha512:" HEX64, "expected 128 hex characters");
	expect_digest_bad("sha256: " HEX64, "expected 64");
}

static void test_digest_check(void)
{
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigil__digest_check(EMPTY_SHA256, S("{}"), 2, &err) == SIGIL_STATUS_OK);
	CHECK(sigil__digest_check("sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
		"47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e", S(""), 0, &err) == SIGIL_STATUS_OK);
	CHECK(sigil__digest_check(EMPTY_SHA256, S("{ }"), 3, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_CRYPTO);
	CHECK_CONTAINS(err.message, "digest mismatch");
	err = (sigil_error)SIGIL_ERROR_INIT;
	/* one bit off at the end */
	CHECK(sigil__digest_check("sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8b",
		S("{}"), 2, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_CRYPTO);
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(sigil__digest_check("sha256:abc", S("{}"), 2, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_MALFORMED);
}

static sigil_status desc_from(const char *json, sigil_descriptor *d, sigil_error *err)
{
	json_object *o = json_tokener_parse(json);
	sigil_status st = sigil__descriptor_from_json(o, d, err);
	json_object_put(o);
	return st;
}

static void expect_desc_bad(const char *json, sigil_category cat, const char *msg)
{
	sigil_descriptor d;
	memset(&d, 0x5a, sizeof d);
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(desc_from(json, &d, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, cat);
	CHECK_CONTAINS(err.message, msg);
	CHECK(d.media_type[0] == 0x5a); /* output untouched */
}

static void test_descriptor(void)
{
	sigil_descriptor d;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(desc_from("{\"mediaType\":\"a/b\",\"digest\":\"" EMPTY_SHA256 "\",\"size\":2,"
		"\"artifactType\":\"x/y\",\"annotations\":{\"k\":\"v\"},\"unknown\":[1]}", &d, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(d.media_type, "a/b");
	CHECK_STREQ(d.digest, EMPTY_SHA256);
	CHECK_INTEQ(d.size, 2);
	CHECK_STREQ(d.artifact_type, "x/y");
	CHECK(desc_from("{\"mediaType\":\"a/b\",\"digest\":\"" EMPTY_SHA256 "\",\"size\":0}", &d, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(d.artifact_type, "");
	CHECK_INTEQ(d.size, 0);

	expect_desc_bad("[]", SIGIL_ERR_MALFORMED, "expected an object");
	expect_desc_bad("{\"digest\":\"" EMPTY_SHA256 "\",\"size\":2}", SIGIL_ERR_MALFORMED, "mediaType: missing");
	expect_desc_bad("{\"mediaType\":\"\",\"digest\":\"" EMPTY_SHA256 "\",\"size\":2}", SIGIL_ERR_MALFORMED, "mediaType: missing");
	expect_desc_bad("{\"mediaType\":7,\"digest\":\"" EMPTY_SHA256 "\",\"size\":2}", SIGIL_ERR_MALFORMED, "mediaType: expected a string");
	expect_desc_bad("{\"mediaType\":\"a/b\",\"size\":2}", SIGIL_ERR_MALFORMED, "digest: missing");
	expect_desc_bad("{\"mediaType\":\"a/b\",\"digest\":\"sha256:ABC\",\"size\":2}", SIGIL_ERR_MALFORMED, "digest: invalid digest");
	expect_desc_bad("{\"mediaType\":\"a/b\",\"digest\":[],\"size\":2}", SIGIL_ERR_MALFORMED, "digest: expected a string");
	expect_desc_bad("{\"mediaType\":\"a/b\",\"digest\":\"" EMPTY_SHA256 "\"}", SIGIL_ERR_MALFORMED, "size: missing");
	expect_desc_bad("{\"mediaType\":\"a/b\",\"digest\":\"" EMPTY_SHA256 "\",\"size\":-1}", SIGIL_ERR_MALFORMED, "size: must be a non-negative");
	expect_desc_bad("{\"mediaType\":\"a/b\",\"digest\":\"" EMPTY_SHA256 "\",\"size\":2.0}", SIGIL_ERR_MALFORMED, "size: expected an integer");
	expect_desc_bad("{\"mediaType\":\"a/b\",\"digest\":\"" EMPTY_SHA256 "\",\"size\":\"2\"}", SIGIL_ERR_MALFORMED, "size: expected an integer");
	expect_desc_bad("{\"mediaType\":\"a/b\",\"digest\":\"" EMPTY_SHA256 "\",\"size\":18446744073709551615}", SIGIL_ERR_MALFORMED, "size");
	expect_desc_bad("{\"mediaType\":\"a/b\",\"digest\":\"" EMPTY_SHA256 "\",\"size\":2,\"artifactType\":1}", SIGIL_ERR_MALFORMED, "artifactType: expected a string");

	char big[600];
	int n = snprintf(big, sizeof big, "{\"mediaType\":\"%0300d\",\"digest\":\"" EMPTY_SHA256 "\",\"size\":2}", 0);
	CHECK(n > 0 && (size_t)n < sizeof big);
	expect_desc_bad(big, SIGIL_ERR_LIMIT, "mediaType: longer than 255 bytes");
}

#define SIG_MANIFEST_LEGACY "{\"schemaVersion\":2,\"mediaType\":\"" SIGIL_MT_IMAGE_MANIFEST "\"," \
	"\"config\":{\"mediaType\":\"application/vnd.cncf.notary.signature\",\"digest\":\"" EMPTY_SHA256 "\",\"size\":2}," \
	"\"layers\":[{\"mediaType\":\"application/jose+json\",\"digest\":\"sha256:" HEX64 "\",\"size\":100}]," \
	"\"subject\":{\"mediaType\":\"" SIGIL_MT_IMAGE_MANIFEST "\",\"digest\":\"sha512:" HEX64 HEX64 "\",\"size\":401}}"

static void expect_manifest_bad(const char *json, sigil_category cat, const char *msg)
{
	sigil__manifest *m = (sigil__manifest *)(uintptr_t)1;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigil__manifest_parse(S(json), strlen(json), &m, &err) == SIGIL_STATUS_ERROR);
	CHECK(m == (sigil__manifest *)(uintptr_t)1);
	CHECK_INTEQ(err.category, cat);
	CHECK_CONTAINS(err.message, msg);
}

static void test_manifest(void)
{
	sigil__manifest *m = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigil__manifest_parse(S(SIG_MANIFEST_LEGACY), strlen(SIG_MANIFEST_LEGACY), &m, &err) == SIGIL_STATUS_OK);
	if (m) {
		CHECK_STREQ(m->media_type, SIGIL_MT_IMAGE_MANIFEST);
		CHECK_STREQ(m->artifact_type, "");
		CHECK(m->has_config);
		CHECK_STREQ(m->config.media_type, SIGIL_MT_NOTARY_SIGNATURE);
		CHECK_INTEQ(m->layer_count, 1);
		CHECK_STREQ(m->layers[0].media_type, "application/jose+json");
		CHECK_INTEQ(m->layers[0].size, 100);
		CHECK(m->has_subject);
		CHECK_STREQ(m->subject.digest, "sha512:" HEX64 HEX64);
	}
	sigil__manifest_free(m);
	sigil__manifest_free(NULL);

	/* legacy artifact manifest: blobs[] become the layers */
	const char *art = "{\"mediaType\":\"" SIGIL_MT_ARTIFACT_MANIFEST "\",\"artifactType\":\"application/vnd.cncf.notary.signature\","
		"\"blobs\":[{\"mediaType\":\"application/cose\",\"digest\":\"" EMPTY_SHA256 "\",\"size\":2},"
		"{\"mediaType\":\"application/cose\",\"digest\":\"" EMPTY_SHA256 "\",\"size\":2}],\"layers\":7}";
	m = NULL;
	CHECK(sigil__manifest_parse(S(art), strlen(art), &m, &err) == SIGIL_STATUS_OK);
	if (m) {
		CHECK_INTEQ(m->layer_count, 2);
		CHECK(!m->has_config);
		CHECK(!m->has_subject);
		CHECK_STREQ(m->artifact_type, SIGIL_MT_NOTARY_SIGNATURE);
	}
	sigil__manifest_free(m);

	/* no layers at all is a shape the verifier rejects, not the parser */
	m = NULL;
	CHECK(sigil__manifest_parse(S("{}"), 2, &m, &err) == SIGIL_STATUS_OK);
	if (m)
		CHECK_INTEQ(m->layer_count, 0);
	sigil__manifest_free(m);

	expect_manifest_bad("[]", SIGIL_ERR_MALFORMED, "manifest: expected a JSON object");
	expect_manifest_bad("{", SIGIL_ERR_MALFORMED, "manifest");
	expect_manifest_bad("{\"schemaVersion\":1}", SIGIL_ERR_MALFORMED, "schemaVersion: must be 2");
	expect_manifest_bad("{\"mediaType\":1}", SIGIL_ERR_MALFORMED, "manifest: mediaType: expected a string");
	expect_manifest_bad("{\"artifactType\":{}}", SIGIL_ERR_MALFORMED, "artifactType: expected a string");
	expect_manifest_bad("{\"layers\":{}}", SIGIL_ERR_MALFORMED, "layers: expected an array");
	expect_manifest_bad("{\"layers\":[{\"mediaType\":\"a/b\",\"digest\":\"" EMPTY_SHA256 "\",\"size\":-5}]}",
		SIGIL_ERR_MALFORMED, "layers[0]: size");
	expect_manifest_bad("{\"layers\":[{\"mediaType\":\"a/b\",\"digest\":\"" EMPTY_SHA256 "\",\"size\":1},7]}",
		SIGIL_ERR_MALFORMED, "layers[1]: descriptor: expected an object");
	expect_manifest_bad("{\"config\":[]}", SIGIL_ERR_MALFORMED, "config: expected an object");
	expect_manifest_bad("{\"config\":{\"mediaType\":\"a/b\",\"digest\":\"sha256:12\",\"size\":2}}",
		SIGIL_ERR_MALFORMED, "config: digest");
	expect_manifest_bad("{\"subject\":{\"mediaType\":\"a/b\",\"digest\":\"" EMPTY_SHA256 "\",\"size\":\"x\"}}",
		SIGIL_ERR_MALFORMED, "subject: size");
	expect_manifest_bad("{\"mediaType\":\"" SIGIL_MT_ARTIFACT_MANIFEST "\",\"blobs\":\"x\"}",
		SIGIL_ERR_MALFORMED, "blobs: expected an array");

	/* oversize: LIMIT before any parsing */
	size_t big = (size_t)SIGIL_MAX_MANIFEST_SIZE + 1;
	uint8_t *buf = malloc(big);
	if (buf) {
		memset(buf, ' ', big);
		buf[0] = '{';
		buf[big - 1] = '}';
		m = NULL;
		err = (sigil_error)SIGIL_ERROR_INIT;
		CHECK(sigil__manifest_parse(buf, big, &m, &err) == SIGIL_STATUS_ERROR);
		CHECK_INTEQ(err.category, SIGIL_ERR_LIMIT);
		free(buf);
	}
}

static void test_index(void)
{
	sigil__index *idx = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	const char *ok = "{\"schemaVersion\":2,\"mediaType\":\"" SIGIL_MT_IMAGE_INDEX "\",\"manifests\":["
		"{\"mediaType\":\"" SIGIL_MT_IMAGE_MANIFEST "\",\"digest\":\"" EMPTY_SHA256 "\",\"size\":2,\"platform\":{\"os\":\"linux\"}}]}";
	CHECK(sigil__index_parse(S(ok), strlen(ok), &idx, &err) == SIGIL_STATUS_OK);
	if (idx) {
		CHECK_INTEQ(idx->count, 1);
		CHECK_STREQ(idx->media_type, SIGIL_MT_IMAGE_INDEX);
		CHECK_STREQ(idx->manifests[0].digest, EMPTY_SHA256);
	}
	sigil__index_free(idx);
	sigil__index_free(NULL);

	idx = NULL;
	CHECK(sigil__index_parse(S("{\"manifests\":[]}"), 16, &idx, &err) == SIGIL_STATUS_OK);
	if (idx)
		CHECK_INTEQ(idx->count, 0);
	sigil__index_free(idx);

	idx = NULL;
	CHECK(sigil__index_parse(S("{\"schemaVersion\":2}"), 19, &idx, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_MALFORMED);
	CHECK_CONTAINS(err.message, "manifests: missing");
	CHECK(sigil__index_parse(S("{\"manifests\":{}}"), 16, &idx, &err) == SIGIL_STATUS_ERROR);
	CHECK_CONTAINS(err.message, "manifests: expected an array");
	const char *bad = "{\"manifests\":[{\"mediaType\":\"a/b\",\"digest\":\"sha256:x\",\"size\":1}]}";
	CHECK(sigil__index_parse(S(bad), strlen(bad), &idx, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_MALFORMED);
	CHECK_CONTAINS(err.message, "manifests[0]: digest");
	CHECK(idx == NULL);

	/* more entries than SIGIL_MAX_INDEX_ENTRIES: LIMIT */
	size_t n = SIGIL_MAX_INDEX_ENTRIES + 1;
	size_t len = 14 + 2 * n + 2;
	char *doc = malloc(len + 1);
	if (doc) {
		size_t p = 0;
		memcpy(doc, "{\"manifests\":[", 14);
		p = 14;
		for (size_t i = 0; i < n; i++) {
			doc[p++] = '1';
			doc[p++] = i + 1 < n ? ',' : ']';
		}
		doc[p++] = '}';
		err = (sigil_error)SIGIL_ERROR_INIT;
		CHECK(sigil__index_parse(S(doc), p, &idx, &err) == SIGIL_STATUS_ERROR);
		CHECK_INTEQ(err.category, SIGIL_ERR_LIMIT);
		CHECK_CONTAINS(err.message, "more than 100000 entries");
		free(doc);
	}
}

static void test_media_type_of(void)
{
	char mt[SIGIL_MEDIA_TYPE_MAX];
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigil__media_type_of(S("{\"mediaType\":\"a/b\"}"), 19, mt, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(mt, "a/b");
	CHECK(sigil__media_type_of(S("{}"), 2, mt, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(mt, "");
	strcpy(mt, "keep");
	CHECK(sigil__media_type_of(S("[]"), 2, mt, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_MALFORMED);
	CHECK_STREQ(mt, "keep");
	CHECK(sigil__media_type_of(S("{\"mediaType\":5}"), 15, mt, &err) == SIGIL_STATUS_ERROR);
	CHECK_CONTAINS(err.message, "mediaType: expected a string");
	CHECK(sigil__media_type_of(S("{\"mediaType\":\"a\"} x"), 19, mt, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_MALFORMED);
}

/* Every blob of every corpus layout that parses as a manifest must be
 * accepted; every index.json as an index. */
static void test_corpus(void)
{
	const char *corpora[] = { SIGIL_TEST_DATA "/corpus/conformance/cases",
		SIGIL_TEST_DATA "/corpus/adversarial/cases" };
	size_t manifests = 0, signatures = 0;
	for (size_t c = 0; c < 2; c++) {
		DIR *d = opendir(corpora[c]);
		CHECK(d != NULL);
		if (!d)
			continue;
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			char path[4096];
			snprintf(path, sizeof path, "%s/%s/layout/index.json", corpora[c], e->d_name);
			size_t len;
			unsigned char *buf = check_read_file(path, &len);
			sigil__index *idx = NULL;
			sigil_error err = SIGIL_ERROR_INIT;
			CHECK(sigil__index_parse(buf, len, &idx, &err) == SIGIL_STATUS_OK);
			free(buf);
			for (size_t i = 0; idx && i < idx->count; i++) {
				const sigil_descriptor *md = &idx->manifests[i];
				if (strcmp(md->media_type, SIGIL_MT_IMAGE_MANIFEST) != 0)
					continue;
				snprintf(path, sizeof path, "%s/%s/layout/blobs/sha256/%s", corpora[c], e->d_name, md->digest + 7);
				buf = check_read_file(path, &len);
				CHECK(sigil__digest_check(md->digest, buf, len, &err) == SIGIL_STATUS_OK);
				sigil__manifest *m = NULL;
				CHECK(sigil__manifest_parse(buf, len, &m, &err) == SIGIL_STATUS_OK);
				char mt[SIGIL_MEDIA_TYPE_MAX];
				CHECK(sigil__media_type_of(buf, len, mt, &err) == SIGIL_STATUS_OK);
				CHECK_STREQ(mt, SIGIL_MT_IMAGE_MANIFEST);
				manifests++;
				if (m && m->has_subject)
					signatures++;
				sigil__manifest_free(m);
				free(buf);
			}
			sigil__index_free(idx);
		}
		closedir(d);
	}
	CHECK(manifests > 200);
	CHECK(signatures > 100);
}

int main(void)
{
	RUN(test_digest_validate);
	RUN(test_digest_check);
	RUN(test_descriptor);
	RUN(test_manifest);
	RUN(test_index);
	RUN(test_media_type_of);
	RUN(test_corpus);
	return check_summary();
}
