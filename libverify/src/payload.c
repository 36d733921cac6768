/* payload.c - the Notary signature payload (notary-verification.md §1.2).
 *
 * notation decodes the payload with Go's encoding/json into
 * struct{ TargetArtifact ocispec.Descriptor `json:"targetArtifact"` }, so
 * the verdict depends on Go's decoding rules, which json-c does not share:
 *   - struct members match keys case-insensitively (Unicode simple folding:
 *     "ſ" U+017F folds with 's', "K" U+212A with 'k');
 *   - members are applied in document order, so the last duplicate wins,
 *     and a repeated object member decodes INTO the earlier value (struct
 *     fields and map entries merge; a JSON null leaves a value unchanged
 *     and empties a map);
 *   - unknown members are ignored, but a known member of the wrong type
 *     fails the whole decode.
 * json-c collapses duplicate keys at the position of their first
 * occurrence, which loses that order. So the document is first validated
 * by json-c (strict, depth-bounded, UTF-8) and then its objects are walked
 * here in byte order; each member's value is re-parsed with json-c on its
 * own span.
 */
#include <stdint.h>
#include <string.h>
#include "payload.h"
#include "b64.h"
#include "cleanup.h"
#include "errors.h"
#include "jsonutil.h"
#include "bounds.h"
#include "oci.h"

/* ---- a cursor over already-validated JSON --------------------------- */

typedef struct cursor {
	const uint8_t *buf;
	size_t len;
	size_t pos;
} cursor;

static void skip_ws(cursor *c)
{
	while (c->pos < c->len && (c->buf[c->pos] == ' ' || c->buf[c->pos] == '\t' ||
			c->buf[c->pos] == '\n' || c->buf[c->pos] == '\r'))
		c->pos++;
}

static int hex4(const uint8_t *p, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		uint8_t ch = p[i];
		v <<= 4;
		if (ch >= '0' && ch <= '9') v |= (unsigned)(ch - '0');
		else if (ch >= 'a' && ch <= 'f') v |= (unsigned)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F') v |= (unsigned)(ch - 'A' + 10);
		else return -1;
	}
	*out = v;
	return 0;
}

#define KEY_MAX 64

/* put_utf8 - append code point cp to key (if it fits; *fits cleared if not). */
static void put_utf8(char *key, size_t *kl, bool *fits, unsigned cp)
{
	uint8_t tmp[4];
	size_t n;
	if (cp < 0x80) { tmp[0] = (uint8_t)cp; n = 1; }
	else if (cp < 0x800) { tmp[0] = (uint8_t)(0xC0 | cp >> 6); tmp[1] = (uint8_t)(0x80 | (cp & 0x3F)); n = 2; }
	else if (cp < 0x10000) { tmp[0] = (uint8_t)(0xE0 | cp >> 12); tmp[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
		tmp[2] = (uint8_t)(0x80 | (cp & 0x3F)); n = 3; }
	else { tmp[0] = (uint8_t)(0xF0 | cp >> 18); tmp[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
		tmp[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)); tmp[3] = (uint8_t)(0x80 | (cp & 0x3F)); n = 4; }
	if (*kl + n >= KEY_MAX) {
		*fits = false;
		return;
	}
	memcpy(key + *kl, tmp, n);
	*kl += n;
}

/* scan_string - at '"': consume a string; when key != NULL decode it
 * (escapes included) into key[KEY_MAX], clearing *fits if it is longer. */
static int scan_string(cursor *c, char *key, size_t *kl, bool *fits)
{
	if (c->pos >= c->len || c->buf[c->pos] != '"')
		return -1;
	c->pos++;
	while (c->pos < c->len) {
		uint8_t ch = c->buf[c->pos];
		if (ch == '"') {
			c->pos++;
			if (key)
				key[*kl] = '\0';
			return 0;
		}
		if (ch != '\\') {
			if (key) {
				if (*kl + 1 >= KEY_MAX) *fits = false;
				else key[(*kl)++] = (char)ch;
			}
			c->pos++;
			continue;
		}
		if (c->pos + 1 >= c->len)
			return -1;
		uint8_t e = c->buf[c->pos + 1];
		c->pos += 2;
		unsigned cp;
		switch (e) {
		case '"': cp = '"'; break;
		case '\\': cp = '\\'; break;
		case '/': cp = '/'; break;
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'u':
			if (c->len - c->pos < 4 || hex4(c->buf + c->pos, &cp) != 0)
				return -1;
			c->pos += 4;
			if (cp >= 0xD800 && cp < 0xDC00 && c->len - c->pos >= 6 &&
			    c->buf[c->pos] == '\\' && c->buf[c->pos + 1] == 'u') {
				unsigned lo;
				if (hex4(c->buf + c->pos + 2, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000) {
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
					c->pos += 6;
				}
			}
			/* a lone surrogate becomes U+FFFD, as in Go */
			if (cp >= 0xD800 && cp < 0xE000)
				cp = 0xFFFD;
			/* an escaped NUL would end our C string early; no key
			 * containing one can match a member name */
			if (cp == 0 && fits)
				*fits = false;
			break;
		default:
			return -1;
		}
		if (key)
			put_utf8(key, kl, fits, cp);
	}
	return -1;
}

/* skip_value - consume one value (already validated by json-c, so bracket
 * counting outside strings is enough; still bounds-checked throughout). */
static int skip_value(cursor *c)
{
	skip_ws(c);
	if (c->pos >= c->len)
		return -1;
	uint8_t ch = c->buf[c->pos];
	if (ch == '"')
		return scan_string(c, NULL, NULL, NULL);
	if (ch == '{' || ch == '[') {
		size_t depth = 0;
		while (c->pos < c->len) {
			ch = c->buf[c->pos];
			if (ch == '"') {
				if (scan_string(c, NULL, NULL, NULL) != 0)
					return -1;
				continue;
			}
			c->pos++;
			if (ch == '{' || ch == '[') {
				depth++;
			} else if (ch == '}' || ch == ']') {
				if (depth == 0)
					return -1;
				if (--depth == 0)
					return 0;
			}
		}
		return -1;
	}
	size_t start = c->pos;
	while (c->pos < c->len) {
		ch = c->buf[c->pos];
		if (ch == ',' || ch == '}' || ch == ']' || ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r')
			break;
		c->pos++;
	}
	return c->pos > start ? 0 : -1;
}

typedef sigil_status (*member_fn)(void *ud, const char *folded_key, const uint8_t *val,
	size_t vlen, sigil_error *err);

/* fold_key - Go's foldName for the keys we compare against: ASCII upper
 * case, U+017F -> 'S', U+212A -> 'K'. Other non-ASCII bytes are kept and
 * can never equal one of our (ASCII) member names. */
static void fold_key(const char *in, char *out)
{
	size_t o = 0;
	const uint8_t *p = (const uint8_t *)in;
	while (*p && o + 1 < KEY_MAX) {
		if (p[0] == 0xC5 && p[1] == 0xBF) {
			out[o++] = 'S';
			p += 2;
		} else if (p[0] == 0xE2 && p[1] == 0x84 && p[2] == 0xAA) {
			out[o++] = 'K';
			p += 3;
		} else {
			uint8_t ch = *p++;
			out[o++] = (char)(ch >= 'a' && ch <= 'z' ? ch - 'a' + 'A' : ch);
		}
	}
	out[o] = '\0';
}

/* walk_object - call fn for each member of the object in buf[0..len), in
 * document order, with the folded key ("" for keys too long to match). */
static sigil_status walk_object(const uint8_t *buf, size_t len, member_fn fn, void *ud,
	sigil_error *err)
{
	cursor c = { buf, len, 0 };
	skip_ws(&c);
	if (c.pos >= c.len || c.buf[c.pos] != '{')
		return sigil__err(err, SIGIL_ERR_MALFORMED, "expected an object");
	c.pos++;
	skip_ws(&c);
	if (c.pos < c.len && c.buf[c.pos] == '}')
		return SIGIL_STATUS_OK;
	for (;;) {
		char key[KEY_MAX], folded[KEY_MAX];
		size_t kl = 0;
		bool fits = true;
		skip_ws(&c);
		if (scan_string(&c, key, &kl, &fits) != 0)
			goto bad;
		skip_ws(&c);
		if (c.pos >= c.len || c.buf[c.pos] != ':')
			goto bad;
		c.pos++;
		skip_ws(&c);
		size_t vstart = c.pos;
		if (skip_value(&c) != 0)
			goto bad;
		if (fits)
			fold_key(key, folded);
		else
			folded[0] = '\0';
		SIGIL_TRY(fn(ud, folded, buf + vstart, c.pos - vstart, err));
		skip_ws(&c);
		if (c.pos >= c.len)
			goto bad;
		if (c.buf[c.pos] == '}')
			return SIGIL_STATUS_OK;
		if (c.buf[c.pos] != ',')
			goto bad;
		c.pos++;
	}
bad:
	return sigil__err_at(err, SIGIL_ERR_MALFORMED, c.pos, "invalid JSON at byte %zu", c.pos);
}

static bool is_null(const uint8_t *v, size_t n)
{
	return n == 4 && memcmp(v, "null", 4) == 0;
}

/* ---- decoding into the payload ------------------------------------- */

typedef struct decode_state {
	bool target_seen;  /* a non-null targetArtifact object was decoded */
	bool has_media_type, has_digest, has_size;
	sigil_descriptor target;
	char **keys;
	char **values;
	size_t count;
} decode_state;

static void state_clear_annotations(decode_state *st)
{
	for (size_t i = 0; i < st->count; i++) {
		free(st->keys[i]);
		free(st->values[i]);
	}
	free(st->keys);
	free(st->values);
	st->keys = st->values = NULL;
	st->count = 0;
}

/* string_member - v must be a JSON string (or null: no change, as Go). */
static sigil_status string_member(const uint8_t *v, size_t n, const char *field, char *dst,
	size_t cap, bool *set, sigil_error *err)
{
	if (is_null(v, n))
		return SIGIL_STATUS_OK;
	_cleanup_(json_object_putp) json_object *o = NULL;
	SIGIL_TRY(sigil__json_parse(v, n, &o, err));
	if (!json_object_is_type(o, json_type_string))
		return sigil__err(err, SIGIL_ERR_MALFORMED, "%s: expected a string", field);
	const char *s = json_object_get_string(o);
	size_t sl = (size_t)json_object_get_string_len(o);
	if (sl >= cap)
		return sigil__err(err, SIGIL_ERR_LIMIT, "%s: longer than %zu bytes", field, cap - 1);
	memcpy(dst, s, sl);
	dst[sl] = '\0';
	if (set)
		*set = true;
	return SIGIL_STATUS_OK;
}

/* size is an int64 in Go: a fraction or exponent ("401.0", "4.01e2") or a
 * value out of range fails the decode, so check the token itself. */
static sigil_status size_member(decode_state *st, const uint8_t *v, size_t n, sigil_error *err)
{
	if (is_null(v, n))
		return SIGIL_STATUS_OK;
	size_t i = 0;
	bool neg = false;
	if (n && v[0] == '-') {
		neg = true;
		i = 1;
	}
	if (i >= n || v[i] < '0' || v[i] > '9')
		return sigil__err(err, SIGIL_ERR_MALFORMED, "targetArtifact.size: expected an integer");
	uint64_t x = 0;
	for (; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return sigil__err(err, SIGIL_ERR_MALFORMED,
				"targetArtifact.size: expected an integer");
		if (x > (UINT64_MAX - 9) / 10)
			return sigil__err(err, SIGIL_ERR_MALFORMED, "targetArtifact.size: out of range");
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	if (neg && x != 0)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "targetArtifact.size: negative");
	if (x > (uint64_t)INT64_MAX)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "targetArtifact.size: out of range");
	st->target.size = (int64_t)x;
	st->has_size = true;
	return SIGIL_STATUS_OK;
}

static sigil_status annotation_put(decode_state *st, const char *k, const char *val,
	sigil_error *err)
{
	for (size_t i = 0; i < st->count; i++) {
		if (strcmp(st->keys[i], k) == 0) {
			char *nv = strdup(val);
			if (!nv)
				return sigil__err_oom(err);
			free(st->values[i]);
			st->values[i] = nv;
			return SIGIL_STATUS_OK;
		}
	}
	if (st->count >= SIGIL_MAX_ANNOTATIONS)
		return sigil__err(err, SIGIL_ERR_LIMIT, "targetArtifact.annotations: more than %d entries",
			SIGIL_MAX_ANNOTATIONS);
	char **nk = realloc(st->keys, (st->count + 1) * sizeof *nk);
	if (!nk)
		return sigil__err_oom(err);
	st->keys = nk;
	char **nvv = realloc(st->values, (st->count + 1) * sizeof *nvv);
	if (!nvv)
		return sigil__err_oom(err);
	st->values = nvv;
	char *kk = strdup(k), *vv = strdup(val);
	if (!kk || !vv) {
		free(kk);
		free(vv);
		return sigil__err_oom(err);
	}
	st->keys[st->count] = kk;
	st->values[st->count] = vv;
	st->count++;
	return SIGIL_STATUS_OK;
}

/* annotations is map[string]string: keys are exact (json-c's last-wins
 * collapse is right for a map), values strings; null empties the map and
 * a null value stores "" (Go decodes null into the new zero element). */
static sigil_status annotations_member(decode_state *st, const uint8_t *v, size_t n,
	sigil_error *err)
{
	if (is_null(v, n)) {
		state_clear_annotations(st);
		return SIGIL_STATUS_OK;
	}
	_cleanup_(json_object_putp) json_object *o = NULL;
	SIGIL_TRY(sigil__json_parse(v, n, &o, err));
	if (!json_object_is_type(o, json_type_object))
		return sigil__err(err, SIGIL_ERR_MALFORMED, "targetArtifact.annotations: expected an object");
	json_object_object_foreach(o, k, val) {
		const char *s = "";
		if (val) {
			if (!json_object_is_type(val, json_type_string))
				return sigil__err(err, SIGIL_ERR_MALFORMED,
					"targetArtifact.annotations: value of \"%.64s\" is not a string", k);
			s = json_object_get_string(val);
		}
		SIGIL_TRY(annotation_put(st, k, s, err));
	}
	return SIGIL_STATUS_OK;
}

/* urls is []string: an array of strings (null elements are "" in Go). */
static sigil_status urls_member(const uint8_t *v, size_t n, sigil_error *err)
{
	if (is_null(v, n))
		return SIGIL_STATUS_OK;
	_cleanup_(json_object_putp) json_object *o = NULL;
	SIGIL_TRY(sigil__json_parse(v, n, &o, err));
	if (!json_object_is_type(o, json_type_array))
		return sigil__err(err, SIGIL_ERR_MALFORMED, "targetArtifact.urls: expected an array");
	size_t cnt = json_object_array_length(o);
	for (size_t i = 0; i < cnt; i++) {
		json_object *e = json_object_array_get_idx(o, i);
		if (e && !json_object_is_type(e, json_type_string))
			return sigil__err(err, SIGIL_ERR_MALFORMED,
				"targetArtifact.urls[%zu]: expected a string", i);
	}
	return SIGIL_STATUS_OK;
}

/* data is []byte: a standard-base64 string. */
static sigil_status data_member(const uint8_t *v, size_t n, sigil_error *err)
{
	if (is_null(v, n))
		return SIGIL_STATUS_OK;
	_cleanup_(json_object_putp) json_object *o = NULL;
	SIGIL_TRY(sigil__json_parse(v, n, &o, err));
	if (!json_object_is_type(o, json_type_string))
		return sigil__err(err, SIGIL_ERR_MALFORMED, "targetArtifact.data: expected a string");
	_cleanup_free_ uint8_t *bytes = NULL;
	size_t blen = 0;
	if (sigil__b64std_decode(json_object_get_string(o), (size_t)json_object_get_string_len(o),
			&bytes, &blen, err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "targetArtifact.data");
	return SIGIL_STATUS_OK;
}

/* platform is *ocispec.Platform: architecture, os, os.version, variant
 * strings; os.features a []string. */
static sigil_status platform_field(void *ud, const char *k, const uint8_t *v, size_t n,
	sigil_error *err)
{
	(void)ud;
	if (strcmp(k, "ARCHITECTURE") == 0 || strcmp(k, "OS") == 0 || strcmp(k, "OS.VERSION") == 0 ||
	    strcmp(k, "VARIANT") == 0) {
		if (is_null(v, n))
			return SIGIL_STATUS_OK;
		_cleanup_(json_object_putp) json_object *o = NULL;
		SIGIL_TRY(sigil__json_parse(v, n, &o, err));
		if (!json_object_is_type(o, json_type_string))
			return sigil__err(err, SIGIL_ERR_MALFORMED, "targetArtifact.platform: %s: expected a string", k);
		return SIGIL_STATUS_OK;
	}
	if (strcmp(k, "OS.FEATURES") == 0) {
		if (urls_member(v, n, err) != SIGIL_STATUS_OK)
			return sigil__err(err, SIGIL_ERR_MALFORMED,
				"targetArtifact.platform: os.features: expected an array of strings");
	}
	return SIGIL_STATUS_OK;
}

static sigil_status platform_member(const uint8_t *v, size_t n, sigil_error *err)
{
	if (is_null(v, n))
		return SIGIL_STATUS_OK;
	if (n == 0 || v[0] != '{')
		return sigil__err(err, SIGIL_ERR_MALFORMED, "targetArtifact.platform: expected an object");
	return walk_object(v, n, platform_field, NULL, err);
}

static sigil_status descriptor_field(void *ud, const char *k, const uint8_t *v, size_t n,
	sigil_error *err)
{
	decode_state *st = ud;
	if (strcmp(k, "MEDIATYPE") == 0)
		return string_member(v, n, "targetArtifact.mediaType", st->target.media_type,
			sizeof st->target.media_type, &st->has_media_type, err);
	if (strcmp(k, "DIGEST") == 0)
		return string_member(v, n, "targetArtifact.digest", st->target.digest,
			sizeof st->target.digest, &st->has_digest, err);
	if (strcmp(k, "SIZE") == 0)
		return size_member(st, v, n, err);
	if (strcmp(k, "ARTIFACTTYPE") == 0)
		return string_member(v, n, "targetArtifact.artifactType", st->target.artifact_type,
			sizeof st->target.artifact_type, NULL, err);
	if (strcmp(k, "ANNOTATIONS") == 0)
		return annotations_member(st, v, n, err);
	if (strcmp(k, "URLS") == 0)
		return urls_member(v, n, err);
	if (strcmp(k, "DATA") == 0)
		return data_member(v, n, err);
	if (strcmp(k, "PLATFORM") == 0)
		return platform_member(v, n, err);
	return SIGIL_STATUS_OK; /* unknown members are ignored */
}

static sigil_status payload_field(void *ud, const char *k, const uint8_t *v, size_t n,
	sigil_error *err)
{
	decode_state *st = ud;
	if (strcmp(k, "TARGETARTIFACT") != 0)
		return SIGIL_STATUS_OK;
	if (is_null(v, n))
		return SIGIL_STATUS_OK;
	if (n == 0 || v[0] != '{')
		return sigil__err(err, SIGIL_ERR_MALFORMED, "targetArtifact: expected an object");
	st->target_seen = true;
	return walk_object(v, n, descriptor_field, st, err);
}

void sigil__payload_free(sigil__payload *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->annotation_count; i++) {
		free(p->annotation_keys[i]);
		free(p->annotation_values[i]);
	}
	free(p->annotation_keys);
	free(p->annotation_values);
	free(p);
}

sigil_status sigil__payload_parse(const uint8_t *buf, size_t len, sigil__payload **out,
	sigil_error *err)
{
	/* json-c validates syntax, depth, UTF-8 and trailing data first. */
	_cleanup_(json_object_putp) json_object *root = NULL;
	SIGIL_TRY(sigil__json_parse_object(buf, len, "payload", &root, err));
	return sigil__payload_parse_checked(buf, len, out, err);
}

sigil_status sigil__payload_parse_checked(const uint8_t *buf, size_t len, sigil__payload **out,
	sigil_error *err)
{
	decode_state st;
	memset(&st, 0, sizeof st);
	if (walk_object(buf, len, payload_field, &st, err) != SIGIL_STATUS_OK) {
		state_clear_annotations(&st);
		return sigil__err_wrap(err, "payload");
	}
	/* §1.2: targetArtifact is required and must be a descriptor with
	 * mediaType, digest and size. */
	const char *missing = !st.target_seen ? "targetArtifact"
		: !st.has_media_type ? "targetArtifact.mediaType"
		: !st.has_digest ? "targetArtifact.digest"
		: !st.has_size ? "targetArtifact.size" : NULL;
	if (missing) {
		state_clear_annotations(&st);
		return sigil__err(err, SIGIL_ERR_MALFORMED, "payload: %s: missing", missing);
	}
	if (sigil__digest_validate(st.target.digest, err) != SIGIL_STATUS_OK) {
		state_clear_annotations(&st);
		return sigil__err_wrap(err, "payload: targetArtifact.digest");
	}
	sigil__payload *p = calloc(1, sizeof *p);
	if (!p) {
		state_clear_annotations(&st);
		return sigil__err_oom(err);
	}
	p->target = st.target;
	p->annotation_keys = st.keys;
	p->annotation_values = st.values;
	p->annotation_count = st.count;
	*out = p;
	return SIGIL_STATUS_OK;
}

const char *sigil__payload_annotation(const sigil__payload *p, const char *key)
{
	if (!p || !key)
		return NULL;
	for (size_t i = 0; i < p->annotation_count; i++)
		if (strcmp(p->annotation_keys[i], key) == 0)
			return p->annotation_values[i];
	return NULL;
}
