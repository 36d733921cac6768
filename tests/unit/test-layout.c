/* test-layout.c - the OCI image layout source (layout.c, source.c). */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include "check.h"
#include "bounds.h"
#include "oci.h"
#include "source_internal.h"

#define EMPTY_SHA256 "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"

/* ---- helpers ------------------------------------------------------- */

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f) { fprintf(stderr, "cannot write %s\n", path); exit(2); }
	if (len && fwrite(data, 1, len, f) != len) exit(2);
	fclose(f);
}

static void run(const char *cmd)
{
	if (system(cmd) != 0) { fprintf(stderr, "command failed: %s\n", cmd); exit(2); }
}

static char *new_layout(void)
{
	char tmpl[] = "/tmp/sigil-layout-XXXXXX";
	char *d = mkdtemp(tmpl);
	if (!d) exit(2);
	char *dir = strdup(d);
	char path[4096];
	snprintf(path, sizeof path, "%s/blobs", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/blobs/sha256", dir);
	mkdir(path, 0755);
	write_file(dir, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
	return dir;
}

static void rm_layout(char *dir)
{
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "chmod -R u+w '%s' && rm -rf '%s'", dir, dir);
	run(cmd);
	free(dir);
}

/* put_blob - store data, return its digest in out[72]. */
static void put_blob(const char *dir, const char *data, size_t len, char *out)
{
	uint8_t md[32];
	unsigned int n = 0;
	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	strcpy(out, "sha256:");
	for (int i = 0; i < 32; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
	char name[128];
	snprintf(name, sizeof name, "blobs/sha256/%s", out + 7);
	write_file(dir, name, data, len);
}

static void put_str(const char *dir, const char *s, char *out) { put_blob(dir, s, strlen(s), out); }

static char *copy_case(const char *rel)
{
	char *dir = new_layout();
	char cmd[8192];
	snprintf(cmd, sizeof cmd, "cp -r '" SIGIL_TEST_DATA "/corpus/%s/layout/.' '%s/' && chmod -R u+w '%s'",
		rel, dir, dir);
	run(cmd);
	return dir;
}

static sigil_source *open_ok(const char *dir)
{
	sigil_source *s = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigil_source_oci_layout_open(&s, dir, &err) == SIGIL_STATUS_OK);
	if (!s)
		fprintf(stderr, "    open %s: %s\n", dir, err.message);
	return s;
}

static void trim(unsigned char *s, size_t *len)
{
	while (*len && (s[*len - 1] == '\n' || s[*len - 1] == '\r' || s[*len - 1] == ' '))
		s[--*len] = 0;
}

/* ---- the corpora --------------------------------------------------- */

static void check_case(const char *base, const char *name)
{
	char path[4096];
	size_t len;
	snprintf(path, sizeof path, "%s/%s/digest", base, name);
	unsigned char *digest = check_read_file(path, &len);
	trim(digest, &len);
	snprintf(path, sizeof path, "%s/%s/expected.json", base, name);
	unsigned char *exp = check_read_file(path, &len);
	json_object *ej = json_tokener_parse((const char *)exp);
	free(exp);
	json_object *sc = NULL;
	CHECK(ej && json_object_object_get_ex(ej, "signature_count", &sc) && json_object_is_type(sc, json_type_int));
	int64_t want = sc ? json_object_get_int64(sc) : -1;

	snprintf(path, sizeof path, "%s/%s/layout", base, name);
	sigil_source *src = open_ok(path);
	if (!src) {
		json_object_put(ej);
		free(digest);
		return;
	}
	sigil_error err = SIGIL_ERROR_INIT;
	sigil_descriptor art;
	CHECK(src->ops->resolve(src->ctx, (const char *)digest, &art, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(art.digest, (const char *)digest);
	CHECK(art.size > 0);
	CHECK(strcmp(art.media_type, SIGIL_MT_IMAGE_MANIFEST) == 0 || strcmp(art.media_type, SIGIL_MT_IMAGE_INDEX) == 0);

	/* the artifact itself fetches and checks out */
	uint8_t *buf = NULL;
	size_t blen = 0;
	CHECK(src->ops->fetch(src->ctx, &art, SIGIL_MAX_MANIFEST_SIZE, &buf, &blen, &err) == SIGIL_STATUS_OK);
	CHECK_INTEQ(blen, art.size);
	free(buf);

	sigil_descriptor *sigs = NULL;
	size_t count = 0;
	CHECK(src->ops->list_signatures(src->ctx, &art, 100, &sigs, &count, &err) == SIGIL_STATUS_OK);
	if ((int64_t)count != want)
		fprintf(stderr, "    case %s: %zu signatures, expected %lld\n", name, count, (long long)want);
	CHECK_INTEQ(count, want);
	for (size_t i = 0; i < count; i++) {
		CHECK_STREQ(sigs[i].media_type, SIGIL_MT_IMAGE_MANIFEST);
		CHECK_STREQ(sigs[i].artifact_type, SIGIL_MT_NOTARY_SIGNATURE);
		buf = NULL;
		CHECK(src->ops->fetch(src->ctx, &sigs[i], SIGIL_MAX_MANIFEST_SIZE, &buf, &blen, &err) == SIGIL_STATUS_OK);
		sigil__manifest *m = NULL;
		CHECK(buf && sigil__manifest_parse(buf, blen, &m, &err) == SIGIL_STATUS_OK);
		free(buf);
		if (!m)
			continue;
		CHECK(m->has_subject && strcmp(m->subject.digest, (const char *)digest) == 0);
		for (size_t l = 0; l < m->layer_count; l++) {
			uint8_t *env = NULL;
			size_t elen = 0;
			CHECK(src->ops->fetch(src->ctx, &m->layers[l], SIGIL_MAX_ENVELOPE_SIZE, &env, &elen, &err) == SIGIL_STATUS_OK);
			CHECK_INTEQ(elen, m->layers[l].size);
			free(env);
		}
		sigil__manifest_free(m);
	}
	free(sigs);
	sigil_source_free(src);
	json_object_put(ej);
	free(digest);
}

static void test_corpora(void)
{
	const char *bases[] = { SIGIL_TEST_DATA "/corpus/conformance/cases",
		SIGIL_TEST_DATA "/corpus/adversarial/cases" };
	int n = 0;
	for (size_t b = 0; b < 2; b++) {
		DIR *d = opendir(bases[b]);
		CHECK(d != NULL);
		struct dirent *e;
		while (d && (e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			check_case(bases[b], e->d_name);
			n++;
		}
		if (d)
			closedir(d);
	}
	CHECK(n >= 149);
}

/* adversarial 071: the artifactType + empty-config shape is discovered. */
static void test_artifacttype_shape(void)
{
	const char *c = SIGIL_TEST_DATA "/corpus/adversarial/cases/071-manifest-artifacttype-empty-config/layout";
	sigil_source *src = open_ok(c);
	if (!src)
		return;
	sigil_error err = SIGIL_ERROR_INIT;
	sigil_descriptor art;
	CHECK(src->ops->resolve(src->ctx, "sha256:ece55de58d82d3177cefa3ba5a00e01a67efd36eea8c8f2d254d1f0af9ff2663",
		&art, &err) == SIGIL_STATUS_OK);
	CHECK_INTEQ(art.size, 401);
	sigil_descriptor *sigs = NULL;
	size_t n = 0;
	CHECK(src->ops->list_signatures(src->ctx, &art, 10, &sigs, &n, &err) == SIGIL_STATUS_OK);
	CHECK_INTEQ(n, 1);
	if (n == 1) {
		CHECK_STREQ(sigs[0].digest, "sha256:5aeac6979c19b04e05011044a4f7dfed22825c1d82c2f01e93cdbab083f941ba");
		CHECK_INTEQ(sigs[0].size, 917);
	}
	free(sigs);
	sigil_source_free(src);
}

/* conformance 015: a multi-arch index; a child manifest is not in
 * index.json, so resolve reads the blob for its descriptor. */
static void test_resolve_child(void)
{
	const char *c = SIGIL_TEST_DATA "/corpus/conformance/cases/015-jws-multiarch-index/layout";
	sigil_source *src = open_ok(c);
	if (!src)
		return;
	sigil_error err = SIGIL_ERROR_INIT;
	sigil_descriptor d;
	CHECK(src->ops->resolve(src->ctx, "sha256:2eadd56957d79ca9e7db0981ab2ff51a3842ab8a5d6d00fa2bd9cd6893a78f99",
		&d, &err) == SIGIL_STATUS_OK);
	CHECK_STREQ(d.media_type, SIGIL_MT_IMAGE_INDEX);
	CHECK_INTEQ(d.size, 506);
	/* a platform manifest listed only inside the nested index */
	size_t len;
	unsigned char *ij = check_read_file(SIGIL_TEST_DATA "/corpus/conformance/cases/015-jws-multiarch-index/layout/blobs/sha256/"
		"2eadd56957d79ca9e7db0981ab2ff51a3842ab8a5d6d00fa2bd9cd6893a78f99", &len);
	sigil__index *idx = NULL;
	CHECK(sigil__index_parse(ij, len, &idx, &err) == SIGIL_STATUS_OK);
	free(ij);
	if (idx && idx->count > 0) {
		sigil_descriptor child;
		CHECK(src->ops->resolve(src->ctx, idx->manifests[0].digest, &child, &err) == SIGIL_STATUS_OK);
		CHECK_STREQ(child.digest, idx->manifests[0].digest);
		CHECK_INTEQ(child.size, idx->manifests[0].size);
		CHECK_STREQ(child.media_type, idx->manifests[0].media_type);
	}
	sigil__index_free(idx);

	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(src->ops->resolve(src->ctx, "sha256:0000000000000000000000000000000000000000000000000000000000000000",
		&d, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_IO);
	CHECK_STREQ(err.message, "artifact sha256:0000000000000000000000000000000000000000000000000000000000000000 not found in the OCI layout");
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(src->ops->resolve(src->ctx, "sha256:ABCD", &d, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_MALFORMED);
	CHECK_CONTAINS(err.message, "invalid digest");
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(src->ops->resolve(src->ctx, "sha256:../../../../etc/passwd", &d, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_MALFORMED);
	sigil_source_free(src);
}

/* ---- opening ------------------------------------------------------- */

static void expect_open_bad(const char *dir, sigil_category cat, const char *msg)
{
	sigil_source *s = (sigil_source *)(uintptr_t)1;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigil_source_oci_layout_open(&s, dir, &err) == SIGIL_STATUS_ERROR);
	CHECK(s == (sigil_source *)(uintptr_t)1);
	CHECK_INTEQ(err.category, cat);
	CHECK_CONTAINS(err.message, msg);
}

static void test_open(void)
{
	expect_open_bad("/nonexistent/sigil-layout", SIGIL_ERR_IO, "No such file");
	expect_open_bad(SIGIL_TEST_DATA "/corpus/adversarial/README.md", SIGIL_ERR_IO, "OCI layout");

	char *dir = new_layout();
	expect_open_bad(dir, SIGIL_ERR_IO, "index.json");
	write_file(dir, "index.json", "{\"schemaVersion\":2,\"manifests\":[]}", 34);
	sigil_source *s = open_ok(dir);
	sigil_source_free(s);
	sigil_source_free(NULL);

	write_file(dir, "oci-layout", "{\"imageLayoutVersion\":\"2.0.0\"}", 30);
	expect_open_bad(dir, SIGIL_ERR_MALFORMED, "imageLayoutVersion \"2.0.0\" is not supported");
	write_file(dir, "oci-layout", "{}", 2);
	expect_open_bad(dir, SIGIL_ERR_MALFORMED, "imageLayoutVersion: missing");
	write_file(dir, "oci-layout", "{\"imageLayoutVersion\":1}", 24);
	expect_open_bad(dir, SIGIL_ERR_MALFORMED, "imageLayoutVersion: expected a string");
	write_file(dir, "oci-layout", "nope", 4);
	expect_open_bad(dir, SIGIL_ERR_MALFORMED, "oci-layout");
	char path[4096];
	snprintf(path, sizeof path, "%s/oci-layout", dir);
	unlink(path);
	expect_open_bad(dir, SIGIL_ERR_IO, "oci-layout");
	mkdir(path, 0755);
	expect_open_bad(dir, SIGIL_ERR_IO, "oci-layout: not a regular file");
	rmdir(path);
	write_file(dir, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30);

	write_file(dir, "index.json", "{\"manifests\":{}}", 16);
	expect_open_bad(dir, SIGIL_ERR_MALFORMED, "index.json: image index: manifests: expected an array");
	write_file(dir, "index.json", "{\"manifests\":[{\"mediaType\":\"a/b\",\"digest\":\"sha256:1\",\"size\":1}]}", 64);
	expect_open_bad(dir, SIGIL_ERR_MALFORMED, "manifests[0]: digest");
	{
		const char *neg = "{\"manifests\":[{\"mediaType\":\"a/b\",\"digest\":\"" EMPTY_SHA256 "\",\"size\":-2}]}";
		write_file(dir, "index.json", neg, strlen(neg));
	}
	expect_open_bad(dir, SIGIL_ERR_MALFORMED, "manifests[0]: size");

	/* oversize index.json: LIMIT */
	size_t big = (size_t)SIGIL_MAX_LAYOUT_INDEX_SIZE + 1;
	char *b = malloc(big);
	if (b) {
		memset(b, ' ', big);
		memcpy(b, "{\"manifests\":[]}", 16);
		write_file(dir, "index.json", b, big);
		free(b);
		expect_open_bad(dir, SIGIL_ERR_LIMIT, "index.json: larger than");
	}
	rm_layout(dir);
}

/* ---- fetch --------------------------------------------------------- */

static void expect_fetch_bad(sigil_source *s, const sigil_descriptor *d, size_t max, sigil_category cat,
	const char *msg)
{
	uint8_t *buf = (uint8_t *)(uintptr_t)1;
	size_t len = 77;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(s->ops->fetch(s->ctx, d, max, &buf, &len, &err) == SIGIL_STATUS_ERROR);
	CHECK(buf == (uint8_t *)(uintptr_t)1 && len == 77);
	CHECK_INTEQ(err.category, cat);
	CHECK_CONTAINS(err.message, msg);
}

static void test_fetch(void)
{
	char *dir = copy_case("adversarial/cases/001-jws-baseline-rsa2048");
	sigil_source *s = open_ok(dir);
	if (!s) {
		rm_layout(dir);
		return;
	}
	sigil_descriptor d;
	memset(&d, 0, sizeof d);
	strcpy(d.media_type, "application/vnd.oci.empty.v1+json");
	strcpy(d.digest, EMPTY_SHA256);
	d.size = 2;
	uint8_t *buf = NULL;
	size_t len = 0;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(s->ops->fetch(s->ctx, &d, 2, &buf, &len, &err) == SIGIL_STATUS_OK);
	CHECK(len == 2 && buf && memcmp(buf, "{}", 2) == 0);
	free(buf);

	expect_fetch_bad(s, &d, 1, SIGIL_ERR_LIMIT, "exceeds the limit of 1 bytes");
	d.size = 3;
	expect_fetch_bad(s, &d, 100, SIGIL_ERR_CRYPTO, "size mismatch");
	d.size = 1;
	expect_fetch_bad(s, &d, 100, SIGIL_ERR_CRYPTO, "size mismatch");
	d.size = -1;
	expect_fetch_bad(s, &d, 100, SIGIL_ERR_MALFORMED, "negative size");
	d.size = 2;
	strcpy(d.digest, "sha256:44136FA355B3678A1146AD16F7E8649E94FB4FC21FE77E8310C060F61CAAFF8A");
	expect_fetch_bad(s, &d, 100, SIGIL_ERR_MALFORMED, "invalid digest");
	strcpy(d.digest, "sha512:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
		"44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
	expect_fetch_bad(s, &d, 100, SIGIL_ERR_IO, "not found in the OCI layout");

	/* corrupt the empty config blob (same size): digest mismatch */
	write_file(dir, "blobs/sha256/44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "[]", 2);
	strcpy(d.digest, EMPTY_SHA256);
	expect_fetch_bad(s, &d, 100, SIGIL_ERR_CRYPTO, "digest mismatch");
	/* a blob that is a directory */
	char path[4096];
	snprintf(path, sizeof path, "%s/blobs/sha256/44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", dir);
	unlink(path);
	mkdir(path, 0755);
	expect_fetch_bad(s, &d, 100, SIGIL_ERR_IO, "not a regular file");
	rmdir(path);

	/* a corrupted envelope: the signature listing still works (the
	 * manifest is intact), the layer fetch fails with CRYPTO */
	sigil_descriptor art;
	size_t dl;
	char dp[4200];
	snprintf(dp, sizeof dp, SIGIL_TEST_DATA "/corpus/adversarial/cases/001-jws-baseline-rsa2048/digest");
	unsigned char *digest = check_read_file(dp, &dl);
	trim(digest, &dl);
	CHECK(s->ops->resolve(s->ctx, (const char *)digest, &art, &err) == SIGIL_STATUS_OK);
	free(digest);
	sigil_descriptor *sigs = NULL;
	size_t n = 0;
	CHECK(s->ops->list_signatures(s->ctx, &art, 100, &sigs, &n, &err) == SIGIL_STATUS_OK);
	CHECK_INTEQ(n, 1);
	if (n == 1) {
		CHECK(s->ops->fetch(s->ctx, &sigs[0], SIGIL_MAX_MANIFEST_SIZE, &buf, &len, &err) == SIGIL_STATUS_OK);
		sigil__manifest *m = NULL;
		CHECK(sigil__manifest_parse(buf, len, &m, &err) == SIGIL_STATUS_OK);
		free(buf);
		if (m && m->layer_count == 1) {
			snprintf(path, sizeof path, "%s/blobs/sha256/%s", dir, m->layers[0].digest + 7);
			int fd = open(path, O_WRONLY);
			CHECK(fd >= 0);
			if (fd >= 0) {
				CHECK(pwrite(fd, "X", 1, 10) == 1);
				close(fd);
			}
			expect_fetch_bad(s, &m->layers[0], SIGIL_MAX_ENVELOPE_SIZE, SIGIL_ERR_CRYPTO, "digest mismatch");
			/* a blob longer than its descriptor */
			fd = open(path, O_WRONLY | O_APPEND);
			if (fd >= 0) {
				CHECK(write(fd, "tail", 4) == 4);
				close(fd);
			}
			expect_fetch_bad(s, &m->layers[0], SIGIL_MAX_ENVELOPE_SIZE, SIGIL_ERR_CRYPTO, "size mismatch");
		}
		sigil__manifest_free(m);
	}
	free(sigs);
	sigil_source_free(s);
	rm_layout(dir);
}

/* ---- discovery on synthetic layouts -------------------------------- */

static void sig_manifest(char *out, size_t cap, const char *subject, size_t subject_size, const char *layer,
	bool legacy)
{
	if (legacy)
		snprintf(out, cap, "{\"schemaVersion\":2,\"mediaType\":\"" SIGIL_MT_IMAGE_MANIFEST "\","
			"\"config\":{\"mediaType\":\"" SIGIL_MT_NOTARY_SIGNATURE "\",\"digest\":\"" EMPTY_SHA256 "\",\"size\":2},"
			"\"layers\":[{\"mediaType\":\"application/jose+json\",\"digest\":\"%s\",\"size\":5}],"
			"\"subject\":{\"mediaType\":\"" SIGIL_MT_IMAGE_MANIFEST "\",\"digest\":\"%s\",\"size\":%zu}}",
			layer, subject, subject_size);
	else
		snprintf(out, cap, "{\"schemaVersion\":2,\"mediaType\":\"" SIGIL_MT_IMAGE_MANIFEST "\","
			"\"artifactType\":\"" SIGIL_MT_NOTARY_SIGNATURE "\","
			"\"config\":{\"mediaType\":\"" SIGIL_MT_EMPTY_JSON "\",\"digest\":\"" EMPTY_SHA256 "\",\"size\":2},"
			"\"layers\":[{\"mediaType\":\"application/cose\",\"digest\":\"%s\",\"size\":5}],"
			"\"subject\":{\"mediaType\":\"" SIGIL_MT_IMAGE_MANIFEST "\",\"digest\":\"%s\",\"size\":%zu}}",
			layer, subject, subject_size);
}

static size_t list(sigil_source *s, const char *digest, size_t max, sigil_descriptor **out)
{
	sigil_descriptor subj;
	sigil_error err = SIGIL_ERROR_INIT;
	*out = NULL;
	if (s->ops->resolve(s->ctx, digest, &subj, &err) != SIGIL_STATUS_OK) {
		CHECK(!"resolve failed");
		return 0;
	}
	size_t n = 0;
	CHECK(s->ops->list_signatures(s->ctx, &subj, max, out, &n, &err) == SIGIL_STATUS_OK);
	return n;
}

static void test_discovery(void)
{
	char *dir = new_layout();
	char img[80], other[80], layer[80], sig1[80], sig2[80], sig3[80], sig_other[80], bad[80], junk[80];
	char notsig[80], nested[80], sig_nested[80], missing[80];
	char doc[2048], idx[8192];
	const char *image = "{\"schemaVersion\":2,\"mediaType\":\"" SIGIL_MT_IMAGE_MANIFEST "\",\"config\":"
		"{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" EMPTY_SHA256 "\",\"size\":2},\"layers\":[]}";
	put_str(dir, image, img);
	put_str(dir, "{\"schemaVersion\":2,\"mediaType\":\"" SIGIL_MT_IMAGE_MANIFEST "\",\"layers\":[]}", other);
	put_str(dir, "{}", layer); /* stands in for the config */
	put_str(dir, "hello", layer);
	size_t img_size = strlen(image);

	sig_manifest(doc, sizeof doc, img, img_size, layer, true);
	put_str(dir, doc, sig1);
	sig_manifest(doc, sizeof doc, img, img_size, layer, false);
	put_str(dir, doc, sig2);
	/* third: legacy artifact manifest with artifactType and blobs[] */
	snprintf(doc, sizeof doc, "{\"mediaType\":\"" SIGIL_MT_ARTIFACT_MANIFEST "\",\"artifactType\":\"" SIGIL_MT_NOTARY_SIGNATURE "\","
		"\"blobs\":[{\"mediaType\":\"application/jose+json\",\"digest\":\"%s\",\"size\":5}],"
		"\"subject\":{\"mediaType\":\"" SIGIL_MT_IMAGE_MANIFEST "\",\"digest\":\"%s\",\"size\":%zu}}", layer, img, img_size);
	put_str(dir, doc, sig3);
	sig_manifest(doc, sizeof doc, other, 60, layer, true);
	put_str(dir, doc, sig_other);
	/* a referrer of img that is not a signature (an SBOM) */
	snprintf(doc, sizeof doc, "{\"mediaType\":\"" SIGIL_MT_IMAGE_MANIFEST "\",\"artifactType\":\"application/spdx+json\","
		"\"config\":{\"mediaType\":\"" SIGIL_MT_EMPTY_JSON "\",\"digest\":\"" EMPTY_SHA256 "\",\"size\":2},"
		"\"layers\":[],\"subject\":{\"mediaType\":\"" SIGIL_MT_IMAGE_MANIFEST "\",\"digest\":\"%s\",\"size\":%zu}}", img, img_size);
	put_str(dir, doc, notsig);
	/* a malformed manifest and a non-JSON blob listed in the index */
	put_str(dir, "{\"layers\":5}", bad);
	put_str(dir, "not json at all", junk);
	/* a signature only reachable through a nested index */
	sig_manifest(doc, sizeof doc, img, img_size, layer, false);
	doc[strlen(doc) - 1] = '\0';
	strcat(doc, ",\"annotations\":{\"n\":\"1\"}}");
	put_str(dir, doc, sig_nested);
	/* the nested index lists sig_nested and sig1 with their real sizes */
	{
		char p[4096];
		snprintf(p, sizeof p, "%s/blobs/sha256/%s", dir, sig_nested + 7);
		struct stat st1;
		stat(p, &st1);
		snprintf(p, sizeof p, "%s/blobs/sha256/%s", dir, sig1 + 7);
		struct stat st2;
		stat(p, &st2);
		snprintf(doc, sizeof doc, "{\"schemaVersion\":2,\"mediaType\":\"" SIGIL_MT_IMAGE_INDEX "\",\"manifests\":["
			"{\"mediaType\":\"" SIGIL_MT_IMAGE_MANIFEST "\",\"digest\":\"%s\",\"size\":%lld},"
			"{\"mediaType\":\"" SIGIL_MT_IMAGE_MANIFEST "\",\"digest\":\"%s\",\"size\":%lld}]}",
			sig_nested, (long long)st1.st_size, sig1, (long long)st2.st_size);
	}
	put_str(dir, doc, nested);
	strcpy(missing, "sha256:1111111111111111111111111111111111111111111111111111111111111111");

	struct { const char *mt; const char *d; } entries[] = {
		{ SIGIL_MT_IMAGE_MANIFEST, img },
		{ SIGIL_MT_IMAGE_MANIFEST, bad },
		{ SIGIL_MT_IMAGE_MANIFEST, junk },
		{ SIGIL_MT_IMAGE_MANIFEST, missing },
		{ SIGIL_MT_IMAGE_MANIFEST, sig_other },
		{ SIGIL_MT_IMAGE_MANIFEST, notsig },
		{ SIGIL_MT_IMAGE_MANIFEST, sig1 },
		{ SIGIL_MT_IMAGE_MANIFEST, sig2 },
		{ SIGIL_MT_IMAGE_MANIFEST, sig1 },  /* listed twice */
		{ SIGIL_MT_ARTIFACT_MANIFEST, sig3 },
		{ SIGIL_MT_IMAGE_INDEX, nested },
		{ SIGIL_MT_IMAGE_MANIFEST, other },
	};
	size_t p = (size_t)snprintf(idx, sizeof idx, "{\"schemaVersion\":2,\"manifests\":[");
	for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++) {
		char bp[4096];
		struct stat st;
		snprintf(bp, sizeof bp, "%s/blobs/sha256/%s", dir, entries[i].d + 7);
		long long size = stat(bp, &st) == 0 ? (long long)st.st_size : 10;
		p += (size_t)snprintf(idx + p, sizeof idx - p, "%s{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%lld}",
			i ? "," : "", entries[i].mt, entries[i].d, size);
	}
	snprintf(idx + p, sizeof idx - p, "]}");
	write_file(dir, "index.json", idx, strlen(idx));

	sigil_source *s = open_ok(dir);
	if (s) {
		sigil_descriptor *sigs = NULL;
		size_t n = list(s, img, 100, &sigs);
		CHECK_INTEQ(n, 4);
		if (n == 4) {
			CHECK_STREQ(sigs[0].digest, sig1);
			CHECK_STREQ(sigs[0].artifact_type, SIGIL_MT_NOTARY_SIGNATURE); /* from config.mediaType */
			CHECK_STREQ(sigs[1].digest, sig2);
			CHECK_STREQ(sigs[1].artifact_type, SIGIL_MT_NOTARY_SIGNATURE);
			CHECK_STREQ(sigs[2].digest, sig3);
			CHECK_STREQ(sigs[2].media_type, SIGIL_MT_ARTIFACT_MANIFEST);
			CHECK_STREQ(sigs[3].digest, sig_nested);
		}
		free(sigs);

		/* at most max */
		n = list(s, img, 2, &sigs);
		CHECK_INTEQ(n, 2);
		if (n == 2)
			CHECK_STREQ(sigs[1].digest, sig2);
		free(sigs);

		/* the other image has its own signature */
		n = list(s, other, 100, &sigs);
		CHECK_INTEQ(n, 1);
		if (n == 1)
			CHECK_STREQ(sigs[0].digest, sig_other);
		free(sigs);

		/* a signature manifest's own referrers: none */
		n = list(s, sig1, 100, &sigs);
		CHECK_INTEQ(n, 0);
		free(sigs);

		/* a subject given by digest only */
		sigil_descriptor subj;
		memset(&subj, 0, sizeof subj);
		strcpy(subj.digest, "sha256:not-a-digest");
		sigil_error err = SIGIL_ERROR_INIT;
		CHECK(s->ops->list_signatures(s->ctx, &subj, 100, &sigs, &n, &err) == SIGIL_STATUS_ERROR);
		CHECK_INTEQ(err.category, SIGIL_ERR_MALFORMED);
		CHECK_CONTAINS(err.message, "subject");
		sigil_source_free(s);
	}

	/* corrupting a signature manifest hides it from discovery */
	{
		char bp[128];
		snprintf(bp, sizeof bp, "blobs/sha256/%s", sig2 + 7);
		char *body = NULL;
		size_t bl = 0;
		snprintf(doc, sizeof doc, "%s/%s", dir, bp);
		body = (char *)check_read_file(doc, &bl);
		body[bl - 2] = ' ';
		write_file(dir, bp, body, bl);
		free(body);
		s = open_ok(dir);
		if (s) {
			sigil_descriptor *sigs = NULL;
			size_t n = list(s, img, 100, &sigs);
			CHECK_INTEQ(n, 3);
			if (n >= 2)
				CHECK_STREQ(sigs[1].digest, sig3);
			free(sigs);
			sigil_source_free(s);
		}
	}
	rm_layout(dir);
}

/* Signature manifests found by discovery are served to the fetch that
 * follows from memory (layout.c): still there after their file is gone,
 * but only for exactly that digest and size, within the caller's bound,
 * and never for a blob discovery did not keep; a new discovery starts
 * afresh. */
static void test_discovery_memo(void)
{
	char *dir = new_layout();
	char img[80], layer[80], sig[80], doc[2048], idx[2048], path[4096];
	const char *image = "{\"schemaVersion\":2,\"mediaType\":\"" SIGIL_MT_IMAGE_MANIFEST "\",\"config\":"
		"{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" EMPTY_SHA256 "\",\"size\":2},\"layers\":[]}";
	put_str(dir, image, img);
	put_str(dir, "hello", layer);
	sig_manifest(doc, sizeof doc, img, strlen(image), layer, false);
	put_str(dir, doc, sig);
	size_t sig_size = strlen(doc);
	snprintf(idx, sizeof idx, "{\"schemaVersion\":2,\"manifests\":["
		"{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu},"
		"{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}]}",
		SIGIL_MT_IMAGE_MANIFEST, img, strlen(image), SIGIL_MT_IMAGE_MANIFEST, sig, sig_size);
	write_file(dir, "index.json", idx, strlen(idx));
	sigil_source *s = open_ok(dir);
	if (!s) {
		rm_layout(dir);
		return;
	}
	sigil_descriptor *sigs = NULL;
	CHECK_INTEQ(list(s, img, 100, &sigs), 1);
	snprintf(path, sizeof path, "%s/blobs/sha256/%s", dir, sig + 7);
	CHECK(unlink(path) == 0);
	if (sigs) {
		uint8_t *buf = NULL;
		size_t n = 0;
		sigil_error err = SIGIL_ERROR_INIT;
		CHECK(s->ops->fetch(s->ctx, &sigs[0], SIGIL_MAX_MANIFEST_SIZE, &buf, &n, &err) == SIGIL_STATUS_OK);
		CHECK_INTEQ(n, sig_size);
		CHECK(buf && memcmp(buf, doc, sig_size) == 0);
		free(buf);
		/* the same digest with another size is read from disk: gone */
		sigil_descriptor d = sigs[0];
		d.size = (int64_t)sig_size + 1;
		expect_fetch_bad(s, &d, SIGIL_MAX_MANIFEST_SIZE, SIGIL_ERR_IO, "not found in the OCI layout");
		/* the caller's bound applies before the memory */
		expect_fetch_bad(s, &sigs[0], sig_size - 1, SIGIL_ERR_LIMIT, "exceeds the limit");
		/* discovery kept only the signature manifest */
		snprintf(path, sizeof path, "%s/blobs/sha256/%s", dir, layer + 7);
		CHECK(unlink(path) == 0);
		snprintf(d.digest, sizeof d.digest, "%s", layer);
		d.size = 5;
		expect_fetch_bad(s, &d, SIGIL_MAX_MANIFEST_SIZE, SIGIL_ERR_IO, "not found in the OCI layout");
	}
	free(sigs);
	/* a new discovery reads the layout again: the removed signature is gone */
	CHECK_INTEQ(list(s, img, 100, &sigs), 0);
	{
		sigil_descriptor d;
		memset(&d, 0, sizeof d);
		snprintf(d.media_type, sizeof d.media_type, "%s", SIGIL_MT_IMAGE_MANIFEST);
		snprintf(d.digest, sizeof d.digest, "%s", sig);
		d.size = (int64_t)sig_size;
		expect_fetch_bad(s, &d, SIGIL_MAX_MANIFEST_SIZE, SIGIL_ERR_IO, "not found in the OCI layout");
	}
	free(sigs);
	sigil_source_free(s);
	rm_layout(dir);
}

int main(void)
{
	RUN(test_corpora);
	RUN(test_artifacttype_shape);
	RUN(test_resolve_child);
	RUN(test_open);
	RUN(test_fetch);
	RUN(test_discovery);
	RUN(test_discovery_memo);
	return check_summary();
}
