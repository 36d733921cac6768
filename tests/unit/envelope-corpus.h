/* envelope-corpus.h - find the signature envelopes (the layer blobs of
 * signature manifests) in a corpus case's OCI layout, for the envelope
 * module's tests. Test-only helpers; aborts on unreadable files. */
#ifndef SIGIL_TESTS_ENVELOPE_CORPUS_H
#define SIGIL_TESTS_ENVELOPE_CORPUS_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "check.h"

#define CORPUS_DIR SIGIL_TEST_DATA "/corpus"
#define CORPUS_MAX_ENVELOPES 8

typedef struct corpus_envelope {
	char media_type[128];
	unsigned char *buf;
	size_t len;
} corpus_envelope;

static inline json_object *corpus_read_json(const char *path)
{
	size_t len = 0;
	unsigned char *buf = check_read_file(path, &len);
	json_object *o = json_tokener_parse((const char *)buf);
	free(buf);
	return o;
}

static inline const char *corpus_str(json_object *o, const char *key)
{
	json_object *v = NULL;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* corpus_envelopes - every layer of every signature manifest listed in
 * <case_dir>/layout/index.json, in index order. */
static inline size_t corpus_envelopes(const char *case_dir, corpus_envelope *out, size_t max)
{
	char path[10000];
	snprintf(path, sizeof path, "%s/layout/index.json", case_dir);
	json_object *index = corpus_read_json(path);
	json_object *mans = NULL;
	size_t n = 0;
	if (!index || !json_object_object_get_ex(index, "manifests", &mans)) {
		json_object_put(index);
		return 0;
	}
	for (size_t i = 0; i < json_object_array_length(mans); i++) {
		const char *digest = corpus_str(json_object_array_get_idx(mans, i), "digest");
		if (!digest || strncmp(digest, "sha256:", 7) != 0)
			continue;
		snprintf(path, sizeof path, "%s/layout/blobs/sha256/%s", case_dir, digest + 7);
		json_object *man = corpus_read_json(path);
		json_object *config = NULL, *layers = NULL;
		const char *at = corpus_str(man, "artifactType");
		const char *cmt = json_object_object_get_ex(man, "config", &config) ?
			corpus_str(config, "mediaType") : NULL;
		const char *sigtype = "application/vnd.cncf.notary.signature";
		bool is_sig = (at && strcmp(at, sigtype) == 0) || (cmt && strcmp(cmt, sigtype) == 0);
		if (is_sig && json_object_object_get_ex(man, "layers", &layers)) {
			for (size_t j = 0; j < json_object_array_length(layers) && n < max; j++) {
				json_object *l = json_object_array_get_idx(layers, j);
				const char *ld = corpus_str(l, "digest"), *mt = corpus_str(l, "mediaType");
				if (!ld || !mt || strncmp(ld, "sha256:", 7) != 0)
					continue;
				snprintf(path, sizeof path, "%s/layout/blobs/sha256/%s", case_dir, ld + 7);
				snprintf(out[n].media_type, sizeof out[n].media_type, "%s", mt);
				out[n].buf = check_read_file(path, &out[n].len);
				n++;
			}
		}
		json_object_put(man);
	}
	json_object_put(index);
	return n;
}

/* corpus_envelope_of - the first envelope of <corpus>/cases/<name>. */
static inline unsigned char *corpus_envelope_of(const char *corpus, const char *name, size_t *len)
{
	char dir[4096];
	corpus_envelope envs[CORPUS_MAX_ENVELOPES];
	snprintf(dir, sizeof dir, "%s/%s/cases/%s", CORPUS_DIR, corpus, name);
	size_t n = corpus_envelopes(dir, envs, CORPUS_MAX_ENVELOPES);
	if (n == 0) {
		fprintf(stderr, "no envelope in %s\n", dir);
		exit(2);
	}
	for (size_t i = 1; i < n; i++)
		free(envs[i].buf);
	*len = envs[0].len;
	return envs[0].buf;
}

#endif
