/* cose.c - the COSE_Sign1 envelope (application/cose),
 * notary-verification.md §1.7, RFC 9052, decoded with libcbor. */
#include <inttypes.h>
#include <string.h>
#include <cbor.h>
#include "envelope.h"
#include "cleanup.h"
#include "errors.h"
#include "bounds.h"

static inline void cbor_decrefp(cbor_item_t **p) { if (*p) cbor_decref(p); }

#define COSE_LABEL_ALG 1
#define COSE_LABEL_CRIT 2
#define COSE_LABEL_CONTENT_TYPE 3
#define COSE_LABEL_X5CHAIN 33 /* RFC 9360 §2 */
#define CBOR_TAG_EPOCH_TIME 1 /* RFC 8949 §3.4.2 */

/* ---- Pre-validation ---------------------------------------------------
 * libcbor's cbor_load builds the whole tree and allocates containers by
 * their announced size. Before handing it hostile bytes, walk the encoding
 * once: well-formed (RFC 8949 §3), every length within the buffer, nesting
 * at most SIGIL_MAX_CBOR_DEPTH, at most SIGIL_MAX_CBOR_ITEMS per container
 * and SIGIL_MAX_CBOR_TOTAL_ITEMS overall, no indefinite-length strings,
 * and no duplicate map keys (go-cose decodes with DupMapKeyEnforcedAPF). The
 * recursion is bounded by the depth limit. */

typedef struct walker {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	size_t total;
	sigil_error *err;
} walker;

static sigil_status walk_head(walker *w, uint8_t *major, uint8_t *ai, uint64_t *val)
{
	if (w->pos >= w->len)
		return sigil__err_at(w->err, SIGIL_ERR_MALFORMED, w->pos, "cbor: unexpected EOF");
	uint8_t ib = w->buf[w->pos++];
	*major = ib >> 5;
	*ai = ib & 0x1f;
	if (*ai < 24) {
		*val = *ai;
		return SIGIL_STATUS_OK;
	}
	if (*ai == 31) {
		*val = 0;
		return SIGIL_STATUS_OK;
	}
	if (*ai > 27)
		return sigil__err_at(w->err, SIGIL_ERR_MALFORMED, w->pos - 1,
			"cbor: invalid additional information %u", *ai);
	size_t n = (size_t)1 << (*ai - 24);
	if (w->len - w->pos < n)
		return sigil__err_at(w->err, SIGIL_ERR_MALFORMED, w->pos, "cbor: unexpected EOF");
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = (v << 8) | w->buf[w->pos++];
	*val = v;
	return SIGIL_STATUS_OK;
}

static sigil_status walk_item(walker *w, unsigned depth);

/* Items of an array (pairs == false) or map; count is the announced number
 * of entries, or indefinite. */
static sigil_status walk_container(walker *w, unsigned depth, bool is_map, bool indefinite,
	uint64_t count)
{
	if (!indefinite && count > SIGIL_MAX_CBOR_ITEMS)
		return sigil__err_at(w->err, SIGIL_ERR_LIMIT, w->pos,
			"cbor: container with more than %d items", SIGIL_MAX_CBOR_ITEMS);
	_cleanup_free_ size_t *keys = NULL; /* start, end of each key */
	if (is_map && !(keys = calloc(2 * SIGIL_MAX_CBOR_ITEMS, sizeof(*keys))))
		return sigil__err_oom(w->err);
	for (uint64_t i = 0;; i++) {
		if (indefinite) {
			if (w->pos >= w->len)
				return sigil__err_at(w->err, SIGIL_ERR_MALFORMED, w->pos, "cbor: unexpected EOF");
			if (w->buf[w->pos] == 0xff) {
				w->pos++;
				return SIGIL_STATUS_OK;
			}
			if (i >= SIGIL_MAX_CBOR_ITEMS)
				return sigil__err_at(w->err, SIGIL_ERR_LIMIT, w->pos,
					"cbor: container with more than %d items", SIGIL_MAX_CBOR_ITEMS);
		} else if (i == count) {
			return SIGIL_STATUS_OK;
		}
		size_t kstart = w->pos;
		SIGIL_TRY(walk_item(w, depth + 1));
		if (!is_map)
			continue;
		size_t kend = w->pos;
		for (uint64_t j = 0; j < i; j++) {
			size_t ps = keys[2 * j], pe = keys[2 * j + 1];
			if (pe - ps == kend - kstart && memcmp(w->buf + ps, w->buf + kstart, kend - kstart) == 0)
				return sigil__err_at(w->err, SIGIL_ERR_MALFORMED, kstart,
					"cbor: found duplicate map key");
		}
		keys[2 * i] = kstart;
		keys[2 * i + 1] = kend;
		if (indefinite && w->pos < w->len && w->buf[w->pos] == 0xff)
			return sigil__err_at(w->err, SIGIL_ERR_MALFORMED, w->pos, "cbor: map key without value");
		SIGIL_TRY(walk_item(w, depth + 1));
	}
}

static sigil_status walk_item(walker *w, unsigned depth)
{
	if (depth >= SIGIL_MAX_CBOR_DEPTH)
		return sigil__err_at(w->err, SIGIL_ERR_LIMIT, w->pos, "cbor: nesting deeper than %d",
			SIGIL_MAX_CBOR_DEPTH);
	if (++w->total > SIGIL_MAX_CBOR_TOTAL_ITEMS)
		return sigil__err_at(w->err, SIGIL_ERR_LIMIT, w->pos, "cbor: more than %d data items",
			SIGIL_MAX_CBOR_TOTAL_ITEMS);
	size_t start = w->pos;
	uint8_t major, ai;
	uint64_t val = 0;
	SIGIL_TRY(walk_head(w, &major, &ai, &val));
	bool indefinite = ai == 31;
	switch (major) {
	case 0: /* unsigned */
	case 1: /* negative */
		if (indefinite)
			break;
		return SIGIL_STATUS_OK;
	case 2: /* bstr */
	case 3: /* tstr */
		if (indefinite)
			return sigil__err_at(w->err, SIGIL_ERR_MALFORMED, start,
				"cbor: indefinite-length strings are not supported");
		if (val > w->len - w->pos)
			return sigil__err_at(w->err, SIGIL_ERR_MALFORMED, start, "cbor: unexpected EOF");
		w->pos += (size_t)val;
		return SIGIL_STATUS_OK;
	case 4: /* array */
		return walk_container(w, depth, false, indefinite, val);
	case 5: /* map */
		return walk_container(w, depth, true, indefinite, val);
	case 6: /* tag */
		if (indefinite)
			break;
		return walk_item(w, depth + 1);
	case 7:
		if (indefinite)
			return sigil__err_at(w->err, SIGIL_ERR_MALFORMED, start, "cbor: unexpected \"break\"");
		/* RFC 8949 §3.3: a two-byte simple value below 32 is not
		 * well-formed. */
		if (ai == 24 && val < 32)
			break;
		return SIGIL_STATUS_OK;
	}
	return sigil__err_at(w->err, SIGIL_ERR_MALFORMED, start, "cbor: invalid data item");
}

/* Exactly one well-formed item spanning buf[0..len). */
static sigil_status validate_cbor(const uint8_t *buf, size_t len, sigil_error *err)
{
	walker w = { buf, len, 0, 0, err };
	SIGIL_TRY(walk_item(&w, 0));
	if (w.pos != len)
		return sigil__err_at(err, SIGIL_ERR_MALFORMED, w.pos,
			"cbor: %zu bytes of extraneous data starting at index %zu", len - w.pos, w.pos);
	return SIGIL_STATUS_OK;
}

static sigil_status load_cbor(const uint8_t *buf, size_t len, cbor_item_t **out, sigil_error *err)
{
	SIGIL_TRY(validate_cbor(buf, len, err));
	struct cbor_load_result res;
	cbor_item_t *item = cbor_load(buf, len, &res);
	if (!item || res.error.code != CBOR_ERR_NONE || res.read != len) {
		if (item)
			cbor_decref(&item);
		if (res.error.code == CBOR_ERR_MEMERROR)
			return sigil__err_oom(err);
		return sigil__err_at(err, SIGIL_ERR_MALFORMED, res.error.position, "cbor: invalid data");
	}
	*out = item;
	return SIGIL_STATUS_OK;
}

/* ---- Header maps ------------------------------------------------------ */

typedef struct label {
	bool is_int;
	int64_t i;
	const char *s; /* not NUL-terminated */
	size_t s_len;
} label;

typedef struct header {
	size_t n;
	label *labels;
	cbor_item_t **values; /* borrowed from the map */
} header;

static void header_free(header *h)
{
	free(h->labels);
	free(h->values);
	*h = (header){ 0 };
}

static sigil_status decode_label(cbor_item_t *k, label *out, sigil_error *err)
{
	/* RFC 9052 §3: label = int / tstr. */
	if (cbor_isa_uint(k)) {
		uint64_t v = cbor_get_int(k);
		if (v > INT64_MAX)
			return sigil__err(err, SIGIL_ERR_MALFORMED, "cbor: header label overflows int64");
		*out = (label){ .is_int = true, .i = (int64_t)v };
		return SIGIL_STATUS_OK;
	}
	if (cbor_isa_negint(k)) {
		uint64_t v = cbor_get_int(k); /* value is -1 - v */
		if (v > INT64_MAX)
			return sigil__err(err, SIGIL_ERR_MALFORMED, "cbor: header label overflows int64");
		*out = (label){ .is_int = true, .i = -1 - (int64_t)v };
		return SIGIL_STATUS_OK;
	}
	if (cbor_isa_string(k) && cbor_string_is_definite(k)) {
		*out = (label){ .s = (const char *)cbor_string_handle(k), .s_len = cbor_string_length(k) };
		if (!out->s)
			out->s = "";
		return SIGIL_STATUS_OK;
	}
	return sigil__err(err, SIGIL_ERR_MALFORMED, "cbor: header label must be an int or a tstr");
}

static bool label_eq(const label *a, const label *b)
{
	if (a->is_int != b->is_int)
		return false;
	if (a->is_int)
		return a->i == b->i;
	return a->s_len == b->s_len && memcmp(a->s, b->s, a->s_len) == 0;
}

static sigil_status header_load(cbor_item_t *map, const char *what, header *h, sigil_error *err)
{
	*h = (header){ 0 };
	if (!map)
		return SIGIL_STATUS_OK; /* empty protected bstr: no headers */
	if (!cbor_isa_map(map))
		return sigil__err(err, SIGIL_ERR_MALFORMED, "cbor: %s header must be a map", what);
	size_t n = cbor_map_size(map);
	struct cbor_pair *pairs = cbor_map_handle(map);
	if (n == 0)
		return SIGIL_STATUS_OK;
	h->labels = calloc(n, sizeof(*h->labels));
	h->values = calloc(n, sizeof(*h->values));
	if (!h->labels || !h->values) {
		header_free(h);
		return sigil__err_oom(err);
	}
	h->n = n;
	for (size_t i = 0; i < n; i++) {
		if (decode_label(pairs[i].key, &h->labels[i], err) != SIGIL_STATUS_OK) {
			header_free(h);
			return sigil__err_wrap(err, "%s header", what);
		}
		h->values[i] = pairs[i].value;
		/* Byte-identical keys were refused already; this catches the
		 * same label encoded twice in different widths. */
		for (size_t j = 0; j < i; j++) {
			if (label_eq(&h->labels[i], &h->labels[j])) {
				header_free(h);
				return sigil__err(err, SIGIL_ERR_MALFORMED,
					"cbor: %s header: found duplicate map key", what);
			}
		}
	}
	return SIGIL_STATUS_OK;
}

static cbor_item_t *header_get_int(const header *h, int64_t key)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->labels[i].is_int && h->labels[i].i == key)
			return h->values[i];
	return NULL;
}

static cbor_item_t *header_get_str(const header *h, const char *key)
{
	size_t klen = strlen(key);
	for (size_t i = 0; i < h->n; i++)
		if (!h->labels[i].is_int && h->labels[i].s_len == klen && memcmp(h->labels[i].s, key, klen) == 0)
			return h->values[i];
	return NULL;
}

/* A definite tstr as a NUL-terminated copy (no embedded NUL). */
static sigil_status dup_tstr(cbor_item_t *v, const char *what, char **out, sigil_error *err)
{
	if (!v || !cbor_isa_string(v) || !cbor_string_is_definite(v))
		return sigil__err(err, SIGIL_ERR_MALFORMED, "\"%s\" header must be a tstr", what);
	size_t n = cbor_string_length(v);
	const unsigned char *s = cbor_string_handle(v);
	if (n && memchr(s, 0, n))
		return sigil__err(err, SIGIL_ERR_MALFORMED, "\"%s\" header contains a NUL character", what);
	char *c = malloc(n + 1);
	if (!c)
		return sigil__err_oom(err);
	if (n)
		memcpy(c, s, n);
	c[n] = 0;
	*out = c;
	return SIGIL_STATUS_OK;
}

static sigil_status opt_tstr(const header *h, const char *key, char **out, sigil_error *err)
{
	cbor_item_t *v = header_get_str(h, key);
	*out = NULL;
	return v ? dup_tstr(v, key, out, err) : SIGIL_STATUS_OK;
}

/* §1.7: times are tag 1 (epoch-based date/time, RFC 8949 §3.4.2) over an
 * int or a float; tag 0 and untagged values are refused (adversarial 065). */
static sigil_status opt_time(const header *h, const char *key, bool *present, int64_t *out,
	sigil_error *err)
{
	cbor_item_t *v = header_get_str(h, key);
	*present = false;
	if (!v)
		return SIGIL_STATUS_OK;
	if (!cbor_isa_tag(v))
		return sigil__err(err, SIGIL_ERR_MALFORMED, "\"%s\" header: invalid timeValue type", key);
	if (cbor_tag_value(v) != CBOR_TAG_EPOCH_TIME)
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			"\"%s\" header: only Tag `1` Datetime CBOR object is supported", key);
	_cleanup_(cbor_decrefp) cbor_item_t *t = cbor_tag_item(v);
	int64_t secs;
	if (cbor_isa_uint(t)) {
		uint64_t u = cbor_get_int(t);
		if (u > INT64_MAX)
			return sigil__err(err, SIGIL_ERR_MALFORMED, "\"%s\" header: time out of range", key);
		secs = (int64_t)u;
	} else if (cbor_isa_negint(t)) {
		uint64_t u = cbor_get_int(t);
		if (u > INT64_MAX)
			return sigil__err(err, SIGIL_ERR_MALFORMED, "\"%s\" header: time out of range", key);
		secs = -1 - (int64_t)u;
	} else if (cbor_isa_float_ctrl(t) && cbor_is_float(t)) {
		double f = cbor_float_get_float(t);
		/* also refuses NaN and infinities */
		if (!(f >= -9.2e18 && f <= 9.2e18))
			return sigil__err(err, SIGIL_ERR_MALFORMED, "\"%s\" header: time out of range", key);
		secs = (int64_t)f;
		if ((double)secs > f)
			secs--; /* floor: whole seconds, as Go's Time.Unix() */
	} else {
		return sigil__err(err, SIGIL_ERR_MALFORMED, "\"%s\" header: invalid timeValue type", key);
	}
	*present = true;
	*out = secs;
	return SIGIL_STATUS_OK;
}

/* x5chain (RFC 9360 §2) as notation writes it: an array of bstr, leaf
 * first. The single-bstr form RFC 9360 also allows is refused, as notation
 * does (adversarial 063). */
static sigil_status load_x5chain(cbor_item_t *v, STACK_OF(X509) **chain, sigil_error *err)
{
	if (!cbor_isa_array(v) || cbor_array_size(v) == 0)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "certificate chain is not present");
	size_t n = cbor_array_size(v);
	if (n > SIGIL_MAX_CHAIN_LENGTH)
		return sigil__err(err, SIGIL_ERR_LIMIT, "certificate chain has more than %d certificates",
			SIGIL_MAX_CHAIN_LENGTH);
	cbor_item_t **items = cbor_array_handle(v);
	for (size_t i = 0; i < n; i++) {
		if (!cbor_isa_bytestring(items[i]) || !cbor_bytestring_is_definite(items[i])) {
			if (i == 0)
				return sigil__err(err, SIGIL_ERR_MALFORMED, "malformed leaf certificate");
			return sigil__err(err, SIGIL_ERR_MALFORMED,
				"malformed certificate at index %zu in the chain", i);
		}
		SIGIL_TRY(sigil__envelope_add_cert(chain, cbor_bytestring_handle(items[i]),
			cbor_bytestring_length(items[i]), err));
	}
	return SIGIL_STATUS_OK;
}

static uint8_t *put_head(uint8_t *p, uint8_t major, uint64_t v)
{
	major <<= 5;
	if (v < 24) {
		*p++ = major | (uint8_t)v;
	} else if (v <= 0xff) {
		*p++ = major | 24;
		*p++ = (uint8_t)v;
	} else if (v <= 0xffff) {
		*p++ = major | 25;
		*p++ = (uint8_t)(v >> 8);
		*p++ = (uint8_t)v;
	} else if (v <= 0xffffffffu) {
		*p++ = major | 26;
		for (int s = 24; s >= 0; s -= 8)
			*p++ = (uint8_t)(v >> s);
	} else {
		*p++ = major | 27;
		for (int s = 56; s >= 0; s -= 8)
			*p++ = (uint8_t)(v >> s);
	}
	return p;
}

/* RFC 9052 §4.4: Sig_structure = ["Signature1", body_protected,
 * external_aad = h'', payload], with body_protected the protected bstr's
 * bytes exactly as received (never re-serialized from the decoded map). */
static sigil_status build_sig_structure(const uint8_t *prot, size_t prot_len, const uint8_t *payload,
	size_t payload_len, uint8_t **out, size_t *out_len, sigil_error *err)
{
	static const char context[] = "Signature1";
	if (prot_len > SIZE_MAX / 2 || payload_len > SIZE_MAX / 2 - prot_len - 64)
		return sigil__err(err, SIGIL_ERR_LIMIT, "Sig_structure too large");
	size_t cap = 1 + 1 + sizeof(context) - 1 + 9 + prot_len + 1 + 9 + payload_len;
	uint8_t *buf = malloc(cap), *p = buf;
	if (!buf)
		return sigil__err_oom(err);
	p = put_head(p, 4, 4);
	p = put_head(p, 3, sizeof(context) - 1);
	memcpy(p, context, sizeof(context) - 1);
	p += sizeof(context) - 1;
	p = put_head(p, 2, prot_len);
	if (prot_len)
		memcpy(p, prot, prot_len);
	p += prot_len;
	p = put_head(p, 2, 0);
	p = put_head(p, 2, payload_len);
	if (payload_len)
		memcpy(p, payload, payload_len);
	p += payload_len;
	*out = buf;
	*out_len = (size_t)(p - buf);
	return SIGIL_STATUS_OK;
}

static sigil_status dup_bytes(const uint8_t *src, size_t n, uint8_t **out, sigil_error *err)
{
	uint8_t *b = malloc(n ? n : 1);
	if (!b)
		return sigil__err_oom(err);
	if (n)
		memcpy(b, src, n);
	*out = b;
	return SIGIL_STATUS_OK;
}

static inline void envelope_freep(sigil__envelope **p) { sigil__envelope_free(*p); }
static inline void header_freep(header *h) { header_free(h); }

static sigil_status parse_protected(const header *ph, sigil__envelope *env, sigil__signed_attrs *a,
	char **strings, sigil__crit_entry **crit_out, sigil_error *err)
{
	/* RFC 9052 §3.1: countersignature labels never belong in the
	 * protected header (go-cose refuses them). */
	static const int64_t forbidden[] = { 7, 9, 11, 12 };
	for (size_t i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++)
		if (header_get_int(ph, forbidden[i]))
			return sigil__err(err, SIGIL_ERR_MALFORMED,
				"protected header must not contain label %" PRId64, forbidden[i]);

	cbor_item_t *alg = header_get_int(ph, COSE_LABEL_ALG);
	if (!alg)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "missing \"alg\" header");
	if (cbor_isa_uint(alg) || cbor_isa_negint(alg)) {
		uint64_t u = cbor_get_int(alg);
		int64_t v = u > INT64_MAX ? INT64_MIN : cbor_isa_uint(alg) ? (int64_t)u : -1 - (int64_t)u;
		SIGIL_TRY(sigil__sigalg_from_cose(v, &env->alg, err));
	} else if (cbor_isa_string(alg) && cbor_string_is_definite(alg)) {
		return sigil__err(err, SIGIL_ERR_UNSUPPORTED, "signature algorithm \"%.*s\" is not supported",
			(int)(cbor_string_length(alg) > 64 ? 64 : cbor_string_length(alg)),
			(const char *)cbor_string_handle(alg));
	} else {
		return sigil__err(err, SIGIL_ERR_MALFORMED, "\"alg\" header must be an int");
	}

	/* Content type (label 3): notation requires a tstr (§1.7). */
	cbor_item_t *cty = header_get_int(ph, COSE_LABEL_CONTENT_TYPE);
	if (cty) {
		if (cbor_isa_uint(cty))
			return sigil__err(err, SIGIL_ERR_UNSUPPORTED,
				"payload content type \"%" PRIu64 "\" not supported", cbor_get_int(cty));
		SIGIL_TRY(dup_tstr(cty, "content type", &strings[0], err));
		a->content_type = strings[0];
	}
	SIGIL_TRY(opt_tstr(ph, SIGIL_HDR_SIGNING_SCHEME, &strings[1], err));
	a->scheme = strings[1];
	SIGIL_TRY(opt_tstr(ph, SIGIL_HDR_PLUGIN, &strings[2], err));
	a->plugin = strings[2];
	SIGIL_TRY(opt_tstr(ph, SIGIL_HDR_PLUGIN_MIN_VERSION, &strings[3], err));
	a->plugin_min_version = strings[3];
	SIGIL_TRY(opt_time(ph, SIGIL_HDR_SIGNING_TIME, &a->has_signing_time, &a->signing_time, err));
	SIGIL_TRY(opt_time(ph, SIGIL_HDR_AUTHENTIC_SIGNING_TIME, &a->has_authentic_signing_time,
		&a->authentic_signing_time, err));
	SIGIL_TRY(opt_time(ph, SIGIL_HDR_EXPIRY, &a->has_expiry, &a->expiry, err));

	/* crit (label 2): a non-empty array of labels, each present in the
	 * protected header (RFC 9052 §3.1). */
	cbor_item_t *crit = header_get_int(ph, COSE_LABEL_CRIT);
	if (!crit)
		return SIGIL_STATUS_OK;
	if (!cbor_isa_array(crit))
		return sigil__err(err, SIGIL_ERR_MALFORMED, "\"crit\" header must be an array");
	size_t n = cbor_array_size(crit);
	a->has_crit = true;
	if (n == 0)
		return SIGIL_STATUS_OK;
	if (n > SIGIL_MAX_CRIT_ENTRIES)
		return sigil__err(err, SIGIL_ERR_LIMIT, "\"crit\" header has more than %d entries",
			SIGIL_MAX_CRIT_ENTRIES);
	sigil__crit_entry *entries = calloc(n, sizeof(*entries));
	if (!entries)
		return sigil__err_oom(err);
	*crit_out = entries;
	/* names are copied after the 4 fixed strings */
	cbor_item_t **items = cbor_array_handle(crit);
	for (size_t i = 0; i < n; i++) {
		label l;
		if (decode_label(items[i], &l, err) != SIGIL_STATUS_OK)
			return sigil__err_wrap(err, "\"crit\" header");
		if (l.is_int) {
			entries[i].label = l.i;
			entries[i].present = header_get_int(ph, l.i) != NULL;
			continue;
		}
		if (l.s_len && memchr(l.s, 0, l.s_len))
			return sigil__err(err, SIGIL_ERR_MALFORMED, "\"crit\" header: label contains a NUL");
		char *name = malloc(l.s_len + 1);
		if (!name)
			return sigil__err_oom(err);
		memcpy(name, l.s, l.s_len);
		name[l.s_len] = 0;
		strings[4 + i] = name;
		entries[i].name = name;
		entries[i].present = header_get_str(ph, name) != NULL;
	}
	a->crit = entries;
	a->n_crit = n;
	return SIGIL_STATUS_OK;
}

static sigil_status parse_unprotected(const header *ph, const header *uh, sigil__envelope *env,
	sigil_error *err)
{
	/* RFC 9052 §3: a label must not occur in both buckets. */
	for (size_t i = 0; i < uh->n; i++)
		for (size_t j = 0; j < ph->n; j++)
			if (label_eq(&uh->labels[i], &ph->labels[j]))
				return sigil__err(err, SIGIL_ERR_MALFORMED,
					"header label present in both the protected and unprotected header");

	/* §1.7 and §8 row 10: x5chain in the unprotected header as notation
	 * writes it, or in the protected header as the spec also allows
	 * (adversarial 064). */
	cbor_item_t *x5 = header_get_int(uh, COSE_LABEL_X5CHAIN);
	if (!x5)
		x5 = header_get_int(ph, COSE_LABEL_X5CHAIN);
	if (!x5)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "certificate chain is not present");
	SIGIL_TRY(load_x5chain(x5, &env->chain, err));

	/* [IMPL] a timestamp that is not a bstr, or an agent that is not a
	 * tstr, is ignored as notation does. */
	cbor_item_t *ts = header_get_str(uh, SIGIL_HDR_TIMESTAMP);
	if (ts && cbor_isa_bytestring(ts) && cbor_bytestring_is_definite(ts) &&
	    cbor_bytestring_length(ts) > 0) {
		if (cbor_bytestring_length(ts) > SIGIL_MAX_TIMESTAMP_SIZE)
			return sigil__err(err, SIGIL_ERR_LIMIT, "timestamp signature is larger than %u bytes",
				SIGIL_MAX_TIMESTAMP_SIZE);
		SIGIL_TRY(dup_bytes(cbor_bytestring_handle(ts), cbor_bytestring_length(ts), &env->timestamp,
			err));
		env->timestamp_len = cbor_bytestring_length(ts);
	}
	cbor_item_t *agent = header_get_str(uh, SIGIL_HDR_SIGNING_AGENT);
	if (agent && cbor_isa_string(agent) && cbor_string_is_definite(agent)) {
		sigil_error ignored = SIGIL_ERROR_INIT;
		char *s = NULL;
		if (dup_tstr(agent, SIGIL_HDR_SIGNING_AGENT, &s, &ignored) == SIGIL_STATUS_OK)
			env->signing_agent = s;
		else if (ignored.category == SIGIL_ERR_INTERNAL)
			return sigil__err_oom(err);
	}
	return SIGIL_STATUS_OK;
}

static bool is_definite_bstr(cbor_item_t *v)
{
	return cbor_isa_bytestring(v) && cbor_bytestring_is_definite(v);
}

sigil_status sigil__cose_parse(const uint8_t *buf, size_t len, sigil__envelope **out, sigil_error *err)
{
	if (len > SIGIL_MAX_ENVELOPE_SIZE)
		return sigil__err(err, SIGIL_ERR_LIMIT, "signature envelope is larger than %u bytes",
			SIGIL_MAX_ENVELOPE_SIZE);
	/* [IMPL] go-cose: COSE_Sign1_Tagged must start with tag 18 as a
	 * one-byte head and a definite 4-element array (adversarial 062). */
	if (len < 2 || buf[0] != 0xd2 || buf[1] != 0x84)
		return sigil__err_at(err, SIGIL_ERR_MALFORMED, 0, "cbor: invalid COSE_Sign1_Tagged object");
	/* trailing bytes are refused here (adversarial 067) */
	if (validate_cbor(buf, len, err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "signature envelope format is invalid");
	/* libcbor 0.8 refuses one-byte tag heads 0xc6-0xd4 ("unassigned" in
	 * its decoder), tag 18 included: decode the array after the tag byte
	 * checked above. */
	_cleanup_(cbor_decrefp) cbor_item_t *msg = NULL;
	if (load_cbor(buf + 1, len - 1, &msg, err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "signature envelope format is invalid");
	if (!cbor_isa_array(msg) || cbor_array_size(msg) != 4)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "cbor: invalid COSE_Sign1_Tagged object");
	cbor_item_t **parts = cbor_array_handle(msg);
	cbor_item_t *prot = parts[0], *unprot = parts[1], *payload = parts[2], *sig = parts[3];

	if (!is_definite_bstr(prot))
		return sigil__err(err, SIGIL_ERR_MALFORMED, "cbor: protected header must be a bstr");
	if (!cbor_isa_map(unprot))
		return sigil__err(err, SIGIL_ERR_MALFORMED, "cbor: unprotected header must be a map");
	/* §1.7: the payload is embedded; a detached (nil) payload is refused. */
	if (cbor_is_null(payload))
		return sigil__err(err, SIGIL_ERR_MALFORMED, "payload not present");
	if (!is_definite_bstr(payload))
		return sigil__err(err, SIGIL_ERR_MALFORMED, "cbor: payload must be a bstr");
	if (!is_definite_bstr(sig))
		return sigil__err(err, SIGIL_ERR_MALFORMED, "cbor: signature must be a bstr");
	if (cbor_bytestring_length(payload) == 0)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "payload not present");
	if (cbor_bytestring_length(sig) == 0)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "signature is invalid. Error: signature is empty");

	/* protected = bstr .cbor header_map / bstr .size 0 (RFC 9052 §3) */
	const uint8_t *prot_raw = cbor_bytestring_handle(prot);
	size_t prot_len = cbor_bytestring_length(prot);
	if (prot_len > SIGIL_MAX_HEADER_SIZE)
		return sigil__err(err, SIGIL_ERR_LIMIT, "protected header is larger than %u bytes",
			SIGIL_MAX_HEADER_SIZE);
	_cleanup_(cbor_decrefp) cbor_item_t *prot_map = NULL;
	if (prot_len && load_cbor(prot_raw, prot_len, &prot_map, err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "signature envelope format is invalid: protected header");

	_cleanup_(header_freep) header ph = { 0 };
	_cleanup_(header_freep) header uh = { 0 };
	SIGIL_TRY(header_load(prot_map, "protected", &ph, err));
	SIGIL_TRY(header_load(unprot, "unprotected", &uh, err));

	_cleanup_(envelope_freep) sigil__envelope *env = calloc(1, sizeof(*env));
	if (!env)
		return sigil__err_oom(err);
	env->format = SIGIL_ENVELOPE_COSE;
	/* §1.5: go-cose verifies PSS with PSSSaltLengthEqualsHash. */
	env->pss_salt = SIGIL_PSS_SALT_HASH_LEN;

	SIGIL_TRY(parse_unprotected(&ph, &uh, env, err));

	/* strings[0..3]: content type, scheme, plugin, min version; then the
	 * crit names */
	char *strings[4 + SIGIL_MAX_CRIT_ENTRIES] = { 0 };
	_cleanup_free_ sigil__crit_entry *crit = NULL;
	sigil__signed_attrs a = { 0 };
	sigil_status st = parse_protected(&ph, env, &a, strings, &crit, err);
	if (st == SIGIL_STATUS_OK)
		st = sigil__envelope_apply_signed_attrs(env, &a, err);
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		free(strings[i]);
	if (st != SIGIL_STATUS_OK)
		return st;

	SIGIL_TRY(dup_bytes(cbor_bytestring_handle(payload), cbor_bytestring_length(payload),
		&env->payload, err));
	env->payload_len = cbor_bytestring_length(payload);
	SIGIL_TRY(dup_bytes(cbor_bytestring_handle(sig), cbor_bytestring_length(sig), &env->signature, err));
	env->signature_len = cbor_bytestring_length(sig);
	SIGIL_TRY(build_sig_structure(prot_raw, prot_len, env->payload, env->payload_len,
		&env->signed_input, &env->signed_input_len, err));

	*out = TAKE_PTR(env);
	return SIGIL_STATUS_OK;
}
