/* kubecred.c - kubelet's credential provider plugins: the
 * CredentialProviderConfig file (kubelet.config.k8s.io; kubelet's
 * pkg/credentialprovider/plugin/config.go reading and validation), the
 * exec API (credentialprovider.kubelet.k8s.io CredentialProviderRequest on
 * stdin, CredentialProviderResponse on stdout; plugin.go), the responses'
 * cache (cacheKeyType, cacheDuration), and the matchImages / auth-key
 * matching of pkg/credentialprovider keyring.go (URLsMatchStr). */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>
#include "bounds.h"
#include "cleanup.h"
#include "credentials_internal.h"
#include "errors.h"
#include "jsonutil.h"

extern char **environ;

/* keep the message, change the category (a json getter's MALFORMED is a
 * configuration or plugin error here) */
static void recat(sigil_error *err, sigil_category cat)
{
	if (err)
		err->category = cat;
}

/* ---- Go's time.ParseDuration ---- */

sigil_status sigil__go_duration_parse(const char *s, int64_t *ms, sigil_error *err)
{
	static const struct { const char *u; uint64_t ns; } units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 }, { "\xce\xbcs", 1000 },
		{ "ms", 1000000 }, { "s", 1000000000ull }, { "m", 60000000000ull },
		{ "h", 3600000000000ull },
	};
	const char *orig = s;
	const uint64_t lim = 1ull << 63;
	uint64_t d = 0;
	bool neg = false;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (strcmp(s, "0") == 0) {
		*ms = 0;
		return SIGIL_STATUS_OK;
	}
	if (!*s)
		goto invalid;
	while (*s) {
		if (!(*s == '.' || (*s >= '0' && *s <= '9')))
			goto invalid;
		uint64_t v = 0, f = 0;
		double scale = 1;
		const char *p = s;
		while (*s >= '0' && *s <= '9') {
			if (v > (lim - 1) / 10)
				goto invalid;
			v = v * 10 + (uint64_t)(*s++ - '0');
			if (v > lim)
				goto invalid;
		}
		bool pre = s != p, post = false, overflow = false;
		if (*s == '.') {
			s++;
			p = s;
			while (*s >= '0' && *s <= '9') {
				if (!overflow) {
					if (f > (lim - 1) / 10) {
						overflow = true;
					} else {
						uint64_t y = f * 10 + (uint64_t)(*s - '0');
						if (y > lim)
							overflow = true;
						else {
							f = y;
							scale *= 10;
						}
					}
				}
				s++;
			}
			post = s != p;
		}
		if (!pre && !post)
			goto invalid;
		p = s;
		while (*s && *s != '.' && !(*s >= '0' && *s <= '9'))
			s++;
		size_t ul = (size_t)(s - p);
		if (ul == 0)
			return sigil__err(err, SIGIL_ERR_MALFORMED, "time: missing unit in duration \"%.64s\"",
				orig);
		uint64_t unit = 0;
		for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
			if (strlen(units[i].u) == ul && memcmp(units[i].u, p, ul) == 0)
				unit = units[i].ns;
		if (!unit)
			return sigil__err(err, SIGIL_ERR_MALFORMED,
				"time: unknown unit \"%.*s\" in duration \"%.64s\"", (int)(ul > 16 ? 16 : ul), p,
				orig);
		if (v > lim / unit)
			goto invalid;
		v *= unit;
		if (f > 0) {
			v += (uint64_t)((double)f * ((double)unit / scale));
			if (v > lim)
				goto invalid;
		}
		d += v;
		if (d > lim)
			goto invalid;
	}
	if (!neg && d > lim - 1)
		goto invalid;
	*ms = neg ? -(int64_t)(d / 1000000) : (int64_t)(d / 1000000);
	return SIGIL_STATUS_OK;
invalid:
	return sigil__err(err, SIGIL_ERR_MALFORMED, "time: invalid duration \"%.64s\"", orig);
}

/* ---- kubelet's URL globbing (keyring.go, path/filepath.Match) ---- */

typedef struct kurl {
	const char *host;
	size_t hostl;
	const char *path;
	size_t pathl;
} kurl;

static bool host_char_ok(unsigned char c)
{
	/* net/url shouldEscape(c, encodeHost) is false for these */
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80)
		return true;
	return strchr("-_.~!$&'()*+,;=:[]<>\"", c) != NULL && c != 0;
}

static bool hexdig(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* url.Parse("https://" + s) with the scheme then dropped
 * (ParseSchemelessURL); '@' (userinfo) is refused rather than parsed */
static bool kurl_parse(const char *s, kurl *u, const char **why)
{
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			*why = "invalid control character in URL";
			return false;
		}
	size_t end = strcspn(s, "?#");
	size_t hl = strcspn(s, "/?#");
	u->host = s;
	u->hostl = hl;
	u->path = s + hl;
	u->pathl = end - hl;
	for (size_t i = 0; i < hl; i++) {
		if (s[i] == '%') {
			if (i + 2 >= hl || !hexdig(s[i + 1]) || !hexdig(s[i + 2])) {
				*why = "invalid URL escape in host";
				return false;
			}
			i += 2;
			continue;
		}
		if (!host_char_ok((unsigned char)s[i])) {
			*why = "invalid character in host name";
			return false;
		}
	}
	for (size_t i = hl; i < end; i++)
		if (s[i] == '%' && (i + 2 >= end || !hexdig(s[i + 1]) || !hexdig(s[i + 2]))) {
			*why = "invalid URL escape in path";
			return false;
		}
	if (hl > 0 && s[0] == '[') {
		const char *rb = memchr(s, ']', hl);
		if (!rb) {
			*why = "missing ']' in host";
			return false;
		}
		size_t after = hl - (size_t)(rb - s) - 1;
		if (after > 0 && rb[1] != ':') {
			*why = "invalid port after host";
			return false;
		}
		for (size_t i = 2; i <= after; i++)
			if (rb[i] < '0' || rb[i] > '9') {
				*why = "invalid port after host";
				return false;
			}
	} else {
		const char *lc = NULL;
		for (size_t i = 0; i < hl; i++)
			if (s[i] == ':')
				lc = s + i;
		if (lc)
			for (const char *p = lc + 1; p < s + hl; p++)
				if (*p < '0' || *p > '9') {
					*why = "invalid port after host";
					return false;
				}
	}
	return true;
}

bool sigil__kube_schemeless_url_valid(const char *s, const char **why)
{
	kurl u;
	const char *w = NULL;
	bool ok = kurl_parse(s, &u, &w);
	if (why)
		*why = w;
	return ok;
}

/* net.SplitHostPort, falling back to (whole host, "") on error as
 * keyring.go's SplitURL does */
static void split_host(const kurl *u, const char **h, size_t *hl, const char **port, size_t *pl)
{
	*h = u->host;
	*hl = u->hostl;
	*port = "";
	*pl = 0;
	const char *s = u->host;
	size_t n = u->hostl;
	if (n > 0 && s[0] == '[') {
		const char *rb = memchr(s, ']', n);
		if (!rb || (size_t)(rb - s) + 1 == n || rb[1] != ':')
			return;
		*h = s + 1;
		*hl = (size_t)(rb - s) - 1;
		*port = rb + 2;
		*pl = n - (size_t)(rb - s) - 2;
		return;
	}
	const char *c = memchr(s, ':', n);
	if (!c || memchr(c + 1, ':', n - (size_t)(c - s) - 1))
		return;
	*hl = (size_t)(c - s);
	*port = c + 1;
	*pl = n - *hl - 1;
}

/* getEsc of filepath.Match; -1 on a malformed class */
static int get_esc(const char **c, size_t *cl, unsigned char *r)
{
	if (*cl == 0 || **c == '-' || **c == ']')
		return -1;
	if (**c == '\\') {
		(*c)++;
		(*cl)--;
		if (*cl == 0)
			return -1;
	}
	*r = (unsigned char)**c;
	(*c)++;
	(*cl)--;
	return *cl == 0 ? -1 : 0;
}

/* matchChunk: 1 match (rest in *s), 0 no match, -1 bad pattern */
static int match_chunk(const char *c, size_t cl, const char **s, size_t *sl)
{
	const char *t = *s;
	size_t tl = *sl;
	bool failed = false;
	while (cl > 0) {
		if (!failed && tl == 0)
			failed = true;
		if (*c == '[') {
			unsigned char r = 0;
			if (!failed) {
				r = (unsigned char)*t++;
				tl--;
			}
			c++;
			cl--;
			bool negated = false, match = false;
			if (cl > 0 && *c == '^') {
				negated = true;
				c++;
				cl--;
			}
			for (int nrange = 0;; nrange++) {
				if (cl > 0 && *c == ']' && nrange > 0) {
					c++;
					cl--;
					break;
				}
				unsigned char lo, hi;
				if (get_esc(&c, &cl, &lo) < 0)
					return -1;
				hi = lo;
				if (*c == '-') {
					c++;
					cl--;
					if (get_esc(&c, &cl, &hi) < 0)
						return -1;
				}
				if (lo <= r && r <= hi)
					match = true;
			}
			if (match == negated)
				failed = true;
			continue;
		}
		if (*c == '?') {
			if (!failed) {
				if (*t == '/')
					failed = true;
				t++;
				tl--;
			}
			c++;
			cl--;
			continue;
		}
		if (*c == '\\') {
			c++;
			cl--;
			if (cl == 0)
				return -1;
		}
		if (!failed) {
			if (*c != *t)
				failed = true;
			t++;
			tl--;
		}
		c++;
		cl--;
	}
	if (failed)
		return 0;
	*s = t;
	*sl = tl;
	return 1;
}

static void scan_chunk(const char **p, size_t *pl, bool *star, const char **c, size_t *cl)
{
	*star = false;
	while (*pl > 0 && **p == '*') {
		(*p)++;
		(*pl)--;
		*star = true;
	}
	bool inrange = false;
	size_t i;
	for (i = 0; i < *pl; i++) {
		char ch = (*p)[i];
		if (ch == '\\') {
			if (i + 1 < *pl)
				i++;
		} else if (ch == '[') {
			inrange = true;
		} else if (ch == ']') {
			inrange = false;
		} else if (ch == '*' && !inrange) {
			break;
		}
	}
	*c = *p;
	*cl = i;
	*p += i;
	*pl -= i;
}

/* path/filepath.Match over one host label (bytes, no '/'); a malformed
 * pattern is no match */
static bool glob_match(const char *p, size_t pl, const char *s, size_t sl)
{
	while (pl > 0) {
		bool star;
		const char *c;
		size_t cl;
		scan_chunk(&p, &pl, &star, &c, &cl);
		if (star && cl == 0)
			return memchr(s, '/', sl) == NULL;
		const char *t = s;
		size_t tl = sl;
		int r = match_chunk(c, cl, &t, &tl);
		if (r > 0 && (tl == 0 || pl > 0)) {
			s = t;
			sl = tl;
			continue;
		}
		if (r < 0)
			return false;
		bool advanced = false;
		if (star) {
			for (size_t i = 0; i < sl && s[i] != '/'; i++) {
				t = s + i + 1;
				tl = sl - i - 1;
				r = match_chunk(c, cl, &t, &tl);
				if (r > 0) {
					if (pl == 0 && tl > 0)
						continue;
					s = t;
					sl = tl;
					advanced = true;
					break;
				}
				if (r < 0)
					return false;
			}
		}
		if (!advanced)
			return false;
	}
	return sl == 0;
}

static bool kurl_match(const kurl *g, const kurl *t)
{
	const char *gh, *gp, *th, *tp;
	size_t ghl, gpl, thl, tpl;
	split_host(g, &gh, &ghl, &gp, &gpl);
	split_host(t, &th, &thl, &tp, &tpl);
	if (gpl != tpl || memcmp(gp, tp, gpl) != 0)
		return false;
	size_t gn = 1, tn = 1;
	for (size_t i = 0; i < ghl; i++)
		gn += gh[i] == '.';
	for (size_t i = 0; i < thl; i++)
		tn += th[i] == '.';
	if (gn != tn)
		return false;
	if (t->pathl < g->pathl || memcmp(t->path, g->path, g->pathl) != 0)
		return false;
	while (gn-- > 0) {
		size_t a = strcspn(gh, "."), b = strcspn(th, ".");
		if (a > ghl)
			a = ghl;
		if (b > thl)
			b = thl;
		if (!glob_match(gh, a, th, b))
			return false;
		gh += a + (a < ghl);
		ghl -= a + (a < ghl);
		th += b + (b < thl);
		thl -= b + (b < thl);
	}
	return true;
}

bool sigil__kube_url_match(const char *glob, const char *target)
{
	kurl g, t;
	const char *why;
	return kurl_parse(glob, &g, &why) && kurl_parse(target, &t, &why) && kurl_match(&g, &t);
}

/* ---- YAML (or JSON) to a json-c tree, bounded ---- */

typedef struct yframe {
	json_object *obj;
	char *key;      /* mappings: the key awaiting its value */
} yframe;

static json_object *yaml_scalar(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !ev->data.scalar.tag;
	if (plain) {
		/* sigs.k8s.io/yaml (YAML 1.1 through go-yaml) types plain
		 * scalars; a number where a string belongs is then an error, as
		 * in kubelet */
		static const char *nulls[] = { "", "~", "null", "Null", "NULL" };
		static const char *trues[] = { "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON" };
		static const char *falses[] = { "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF" };
		for (size_t i = 0; i < 5; i++)
			if (strcmp(v, nulls[i]) == 0)
				return NULL;
		for (size_t i = 0; i < 9; i++) {
			if (strcmp(v, trues[i]) == 0)
				return json_object_new_boolean(1);
			if (strcmp(v, falses[i]) == 0)
				return json_object_new_boolean(0);
		}
		size_t i = (v[0] == '-' || v[0] == '+') ? 1 : 0;
		if (i < n && n - i <= 18 && strspn(v + i, "0123456789") == n - i)
			return json_object_new_int64(strtoll(v, NULL, 10));
	}
	return json_object_new_string_len(v, (int)n);
}

static sigil_status yaml_parse(const uint8_t *buf, size_t len, json_object **out, sigil_error *err)
{
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser))
		return sigil__err_oom(err);
	yaml_parser_set_input_string(&parser, buf, len);
	yframe stack[SIGIL_MAX_JSON_DEPTH];
	size_t depth = 0, nodes = 0;
	json_object *root = NULL;
	bool have_root = false, done = false;
	int docs = 0;
	sigil_status st = SIGIL_STATUS_OK;
	while (!done && st == SIGIL_STATUS_OK) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&parser, &ev)) {
			st = sigil__err_at(err, SIGIL_ERR_MALFORMED, parser.problem_offset,
				"YAML line %zu column %zu: %s", parser.problem_mark.line + 1,
				parser.problem_mark.column + 1, parser.problem ? parser.problem : "syntax error");
			break;
		}
		json_object *val = NULL;
		bool is_val = false, push = false;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1)
				st = sigil__err(err, SIGIL_ERR_MALFORMED, "YAML: more than one document");
			break;
		case YAML_ALIAS_EVENT:
			st = sigil__err(err, SIGIL_ERR_UNSUPPORTED, "YAML line %zu: aliases are not supported",
				ev.start_mark.line + 1);
			break;
		case YAML_SCALAR_EVENT:
			if (memchr(ev.data.scalar.value, 0, ev.data.scalar.length)) {
				st = sigil__err(err, SIGIL_ERR_MALFORMED, "YAML line %zu: NUL in a scalar",
					ev.start_mark.line + 1);
				break;
			}
			if (depth > 0 && json_object_is_type(stack[depth - 1].obj, json_type_object) &&
			    !stack[depth - 1].key) {
				const char *k = (const char *)ev.data.scalar.value;
				if (json_object_object_get_ex(stack[depth - 1].obj, k, NULL)) {
					st = sigil__err(err, SIGIL_ERR_MALFORMED, "YAML line %zu: duplicate key \"%.64s\"",
						ev.start_mark.line + 1, k);
				} else if (!(stack[depth - 1].key = strdup(k))) {
					st = sigil__err_oom(err);
				}
				break;
			}
			val = yaml_scalar(&ev);
			is_val = true;
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (depth > 0 && json_object_is_type(stack[depth - 1].obj, json_type_object) &&
			    !stack[depth - 1].key) {
				st = sigil__err(err, SIGIL_ERR_UNSUPPORTED,
					"YAML line %zu: only scalar mapping keys are supported", ev.start_mark.line + 1);
				break;
			}
			if (depth == SIGIL_MAX_JSON_DEPTH) {
				st = sigil__err(err, SIGIL_ERR_LIMIT, "YAML: nested deeper than %d",
					SIGIL_MAX_JSON_DEPTH);
				break;
			}
			val = ev.type == YAML_SEQUENCE_START_EVENT ? json_object_new_array() :
				json_object_new_object();
			if (!val) {
				st = sigil__err_oom(err);
				break;
			}
			is_val = true;
			push = true;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			free(stack[depth].key);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
		if (st != SIGIL_STATUS_OK || !is_val)
			continue;
		if (++nodes > SIGIL_MAX_YAML_NODES) {
			json_object_put(val);
			st = sigil__err(err, SIGIL_ERR_LIMIT, "YAML: more than %d nodes", SIGIL_MAX_YAML_NODES);
			break;
		}
		if (depth == 0) {
			root = val;
			have_root = true;
		} else if (json_object_is_type(stack[depth - 1].obj, json_type_array)) {
			json_object_array_add(stack[depth - 1].obj, val);
		} else {
			json_object_object_add(stack[depth - 1].obj, stack[depth - 1].key, val);
			free(stack[depth - 1].key);
			stack[depth - 1].key = NULL;
		}
		if (push)
			stack[depth++] = (yframe){ val, NULL };
	}
	while (depth > 0)
		free(stack[--depth].key);
	yaml_parser_delete(&parser);
	if (st != SIGIL_STATUS_OK) {
		if (have_root)
			json_object_put(root);
		return st;
	}
	*out = root;
	return SIGIL_STATUS_OK;
}

/* ---- the configuration ---- */

typedef struct kube_auth {
	char *pattern;
	char *username;
	char *password;
} kube_auth;

typedef enum { KEY_IMAGE, KEY_REGISTRY, KEY_GLOBAL } key_type;

typedef struct kube_cache_entry {
	key_type type;
	char *key;
	kube_auth *auths;
	size_t nauths;
	int64_t expires_ms;
	int64_t added_ms;
} kube_cache_entry;

typedef struct kube_provider {
	char *name;
	char *path;
	char *api_version;
	char **match;
	size_t nmatch;
	char **args;            /* argv: path, args..., NULL */
	size_t nargs;
	char **env;             /* NAME=VALUE */
	size_t nenv;
	int64_t default_cache_ms;
	bool needs_service_account;
	kube_cache_entry *cache;
	size_t ncache;
} kube_provider;

struct sigil__kube_providers {
	kube_provider *p;
	size_t n;
	pthread_mutex_t lock;
};

static void auths_free(kube_auth *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(a[i].pattern);
		free(a[i].username);
		if (a[i].password)
			explicit_bzero(a[i].password, strlen(a[i].password));
		free(a[i].password);
	}
	free(a);
}

static void cache_entry_free(kube_cache_entry *e)
{
	free(e->key);
	auths_free(e->auths, e->nauths);
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static void provider_free(kube_provider *p)
{
	free(p->name);
	free(p->path);
	free(p->api_version);
	strv_free(p->match, p->nmatch);
	strv_free(p->args, p->nargs);
	strv_free(p->env, p->nenv);
	for (size_t i = 0; i < p->ncache; i++)
		cache_entry_free(&p->cache[i]);
	free(p->cache);
}

void sigil__kube_providers_free(sigil__kube_providers *kp)
{
	if (!kp)
		return;
	for (size_t i = 0; i < kp->n; i++)
		provider_free(&kp->p[i]);
	free(kp->p);
	pthread_mutex_destroy(&kp->lock);
	free(kp);
}

/* kubelet decodes strictly (serializer.EnableStrict): unknown fields are
 * errors */
static sigil_status only_fields(json_object *o, const char *const *known, const char *where,
	sigil_error *err)
{
	json_object_object_foreach(o, k, v) {
		(void)v;
		bool ok = false;
		for (size_t i = 0; known[i]; i++)
			ok = ok || strcmp(k, known[i]) == 0;
		if (!ok)
			return sigil__err(err, SIGIL_ERR_POLICY, "%s: unknown field \"%.64s\"", where, k);
	}
	return SIGIL_STATUS_OK;
}

static bool provider_api_ok(const char *v)
{
	/* plugin.go apiVersions */
	return strcmp(v, "credentialprovider.kubelet.k8s.io/v1") == 0 ||
		strcmp(v, "credentialprovider.kubelet.k8s.io/v1beta1") == 0 ||
		strcmp(v, "credentialprovider.kubelet.k8s.io/v1alpha1") == 0;
}

static sigil_status string_list(json_object *o, const char *key, const char *where, char ***out,
	size_t *n, size_t reserve, sigil_error *err)
{
	json_object *a = NULL;
	bool present = false;
	if (sigil__json_get_array(o, key, &a, &present, err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "%s", where);
	size_t len = present ? json_object_array_length(a) : 0;
	if (len > SIGIL_MAX_CRED_ENTRIES)
		return sigil__err(err, SIGIL_ERR_LIMIT, "%s.%s: more than %d items", where, key,
			SIGIL_MAX_CRED_ENTRIES);
	char **v = calloc(len + reserve + 1, sizeof *v);
	if (!v)
		return sigil__err_oom(err);
	*out = v;
	*n = reserve;
	for (size_t i = 0; i < len; i++) {
		json_object *e = json_object_array_get_idx(a, i);
		if (!json_object_is_type(e, json_type_string))
			return sigil__err(err, SIGIL_ERR_POLICY, "%s.%s[%zu]: expected a string", where, key, i);
		if (!(v[reserve + i] = strdup(json_object_get_string(e))))
			return sigil__err_oom(err);
		(*n)++;
	}
	return SIGIL_STATUS_OK;
}

static sigil_status parse_provider(json_object *o, const char *where, const char *bin_dir,
	kube_provider *p, sigil_error *err)
{
	static const char *const known[] = { "name", "matchImages", "defaultCacheDuration",
		"apiVersion", "args", "env", "tokenAttributes", NULL };
	if (!json_object_is_type(o, json_type_object))
		return sigil__err(err, SIGIL_ERR_POLICY, "%s: expected an object", where);
	SIGIL_TRY(only_fields(o, known, where, err));
	const char *name = NULL, *api = NULL, *dur = NULL;
	bool pn, pa, pd;
	if (sigil__json_get_string(o, "name", &name, &pn, err) != SIGIL_STATUS_OK ||
	    sigil__json_get_string(o, "apiVersion", &api, &pa, err) != SIGIL_STATUS_OK ||
	    sigil__json_get_string(o, "defaultCacheDuration", &dur, &pd, err) != SIGIL_STATUS_OK) {
		recat(err, SIGIL_ERR_POLICY);
		return sigil__err_wrap(err, "%s", where);
	}
	/* config.go validateCredentialProviderConfig; the name becomes a
	 * path under the plugin directory */
	if (!pn || !name[0])
		return sigil__err(err, SIGIL_ERR_POLICY, "%s.name: Required value", where);
	if (strchr(name, '/'))
		return sigil__err(err, SIGIL_ERR_POLICY,
			"%s.name: Invalid value: \"%.64s\": provider name cannot contain '/'", where, name);
	if (strchr(name, ' '))
		return sigil__err(err, SIGIL_ERR_POLICY,
			"%s.name: Invalid value: \"%.64s\": provider name cannot contain spaces", where, name);
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return sigil__err(err, SIGIL_ERR_POLICY,
			"%s.name: Invalid value: \"%s\": provider name cannot be '%s'", where, name, name);
	if (!(p->name = strdup(name)))
		return sigil__err_oom(err);
	if (!pa || !api[0])
		return sigil__err(err, SIGIL_ERR_POLICY, "%s.apiVersion: Required value", where);
	if (!provider_api_ok(api))
		return sigil__err(err, SIGIL_ERR_POLICY,
			"%s.apiVersion: Unsupported value: \"%.64s\": supported values: "
			"\"credentialprovider.kubelet.k8s.io/v1\", \"credentialprovider.kubelet.k8s.io/v1alpha1\", "
			"\"credentialprovider.kubelet.k8s.io/v1beta1\"", where, api);
	if (!(p->api_version = strdup(api)))
		return sigil__err_oom(err);
	if (string_list(o, "matchImages", where, &p->match, &p->nmatch, 0, err) != SIGIL_STATUS_OK)
		return SIGIL_STATUS_ERROR;
	if (p->nmatch == 0)
		return sigil__err(err, SIGIL_ERR_POLICY,
			"%s.matchImages: Required value: at least 1 item in matchImages is required", where);
	for (size_t i = 0; i < p->nmatch; i++) {
		const char *why = NULL;
		if (!sigil__kube_schemeless_url_valid(p->match[i], &why))
			return sigil__err(err, SIGIL_ERR_POLICY,
				"%s.matchImages: Invalid value: \"%.128s\": match image is invalid: %s", where,
				p->match[i], why);
	}
	if (!pd)
		return sigil__err(err, SIGIL_ERR_POLICY, "%s.defaultCacheDuration: Required value", where);
	if (sigil__go_duration_parse(dur, &p->default_cache_ms, err) != SIGIL_STATUS_OK) {
		recat(err, SIGIL_ERR_POLICY);
		return sigil__err_wrap(err, "%s.defaultCacheDuration", where);
	}
	if (p->default_cache_ms < 0 || dur[0] == '-')
		return sigil__err(err, SIGIL_ERR_POLICY,
			"%s.defaultCacheDuration: Invalid value: \"%.64s\": defaultCacheDuration must be "
			"greater than or equal to 0", where, dur);

	/* argv[0] is the plugin's path */
	if (string_list(o, "args", where, &p->args, &p->nargs, 1, err) != SIGIL_STATUS_OK)
		return SIGIL_STATUS_ERROR;
	size_t pl = strlen(bin_dir) + strlen(name) + 2;
	if (!(p->path = malloc(pl)) || !(p->args[0] = strdup(name)))
		return sigil__err_oom(err);
	snprintf(p->path, pl, "%s/%s", bin_dir, name);

	json_object *env = NULL;
	bool pe = false;
	if (sigil__json_get_array(o, "env", &env, &pe, err) != SIGIL_STATUS_OK) {
		recat(err, SIGIL_ERR_POLICY);
		return sigil__err_wrap(err, "%s", where);
	}
	size_t ne = pe ? json_object_array_length(env) : 0;
	if (ne > SIGIL_MAX_CRED_ENTRIES)
		return sigil__err(err, SIGIL_ERR_LIMIT, "%s.env: more than %d items", where,
			SIGIL_MAX_CRED_ENTRIES);
	if (!(p->env = calloc(ne + 1, sizeof *p->env)))
		return sigil__err_oom(err);
	for (size_t i = 0; i < ne; i++) {
		static const char *const ek[] = { "name", "value", NULL };
		json_object *e = json_object_array_get_idx(env, i);
		char w[256];
		snprintf(w, sizeof w, "%s.env[%zu]", where, i);
		if (!json_object_is_type(e, json_type_object))
			return sigil__err(err, SIGIL_ERR_POLICY, "%s: expected an object", w);
		SIGIL_TRY(only_fields(e, ek, w, err));
		const char *en = NULL, *ev = NULL;
		bool a, b;
		if (sigil__json_get_string(e, "name", &en, &a, err) != SIGIL_STATUS_OK ||
		    sigil__json_get_string(e, "value", &ev, &b, err) != SIGIL_STATUS_OK) {
			recat(err, SIGIL_ERR_POLICY);
			return sigil__err_wrap(err, "%s", w);
		}
		if (!a || !en[0] || strchr(en, '='))
			return sigil__err(err, SIGIL_ERR_POLICY, "%s.name: invalid environment variable name", w);
		size_t l = strlen(en) + (b ? strlen(ev) : 0) + 2;
		if (!(p->env[i] = malloc(l)))
			return sigil__err_oom(err);
		snprintf(p->env[i], l, "%s=%s", en, b ? ev : "");
		p->nenv++;
	}

	/* tokenAttributes: kubelet passes the pod's service account token; a
	 * verifier has no pod, so a plugin that requires one never applies */
	json_object *ta = NULL;
	bool pt = false;
	if (sigil__json_get_object(o, "tokenAttributes", &ta, &pt, err) != SIGIL_STATUS_OK) {
		recat(err, SIGIL_ERR_POLICY);
		return sigil__err_wrap(err, "%s", where);
	}
	if (pt) {
		json_object *req = NULL;
		p->needs_service_account = !json_object_object_get_ex(ta, "requireServiceAccount", &req) ||
			!json_object_is_type(req, json_type_boolean) || json_object_get_boolean(req);
	}

	/* plugin.go RegisterCredentialProviderPlugins: the binary must exist */
	struct stat sb;
	if (stat(p->path, &sb) != 0 || !S_ISREG(sb.st_mode) || access(p->path, X_OK) != 0)
		return sigil__err(err, SIGIL_ERR_POLICY, "plugin binary executable %s did not exist", p->path);
	return SIGIL_STATUS_OK;
}

static sigil_status parse_into(sigil__kube_providers *kp, const uint8_t *buf, size_t len,
	const char *bin_dir, sigil_error *err)
{
	size_t i = 0;
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r'))
		i++;
	json_object *j = NULL;
	if (i < len && buf[i] == '{')
		SIGIL_TRY(sigil__json_parse(buf, len, &j, err));
	else
		SIGIL_TRY(yaml_parse(buf, len, &j, err));
	_cleanup_(json_object_putp) json_object *root = j;
	if (!json_object_is_type(root, json_type_object))
		return sigil__err(err, SIGIL_ERR_MALFORMED, "expected a CredentialProviderConfig object");
	static const char *const known[] = { "apiVersion", "kind", "providers", NULL };
	SIGIL_TRY(only_fields(root, known, "CredentialProviderConfig", err));
	const char *api = NULL, *kind = NULL;
	bool pa, pk, pp;
	SIGIL_TRY(sigil__json_get_string(root, "apiVersion", &api, &pa, err));
	SIGIL_TRY(sigil__json_get_string(root, "kind", &kind, &pk, err));
	if (!pk || strcmp(kind, "CredentialProviderConfig") != 0)
		return sigil__err(err, SIGIL_ERR_POLICY, "kind: expected \"CredentialProviderConfig\", got \"%.64s\"",
			pk ? kind : "");
	if (!pa || (strcmp(api, "kubelet.config.k8s.io/v1") != 0 &&
		    strcmp(api, "kubelet.config.k8s.io/v1beta1") != 0 &&
		    strcmp(api, "kubelet.config.k8s.io/v1alpha1") != 0))
		return sigil__err(err, SIGIL_ERR_POLICY,
			"apiVersion: expected kubelet.config.k8s.io/v1 (or v1beta1, v1alpha1), got \"%.64s\"",
			pa ? api : "");
	json_object *provs = NULL;
	SIGIL_TRY(sigil__json_get_array(root, "providers", &provs, &pp, err));
	size_t n = pp ? json_object_array_length(provs) : 0;
	if (n > SIGIL_MAX_CRED_ENTRIES - kp->n)
		return sigil__err(err, SIGIL_ERR_LIMIT, "providers: more than %d", SIGIL_MAX_CRED_ENTRIES);
	if (n == 0)
		return SIGIL_STATUS_OK;
	kube_provider *np = realloc(kp->p, (kp->n + n) * sizeof *np);
	if (!np)
		return sigil__err_oom(err);
	kp->p = np;
	for (size_t k = 0; k < n; k++) {
		char where[64];
		snprintf(where, sizeof where, "providers[%zu]", k);
		kube_provider *p = &kp->p[kp->n];
		memset(p, 0, sizeof *p);
		kp->n++;
		SIGIL_TRY(parse_provider(json_object_array_get_idx(provs, k), where, bin_dir, p, err));
		for (size_t m = 0; m + 1 < kp->n; m++)
			if (strcmp(kp->p[m].name, p->name) == 0)
				return sigil__err(err, SIGIL_ERR_POLICY,
					"%s.name: Duplicate value: \"%.64s\"", where, p->name);
	}
	return SIGIL_STATUS_OK;
}

static sigil_status kp_new(sigil__kube_providers **out, sigil_error *err)
{
	sigil__kube_providers *kp = calloc(1, sizeof *kp);
	if (!kp)
		return sigil__err_oom(err);
	pthread_mutex_init(&kp->lock, NULL);
	*out = kp;
	return SIGIL_STATUS_OK;
}

static sigil_status check_bin_dir(const char *bin_dir, sigil_error *err)
{
	struct stat sb;
	if (stat(bin_dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return sigil__err(err, SIGIL_ERR_POLICY, "plugin binary directory %s did not exist", bin_dir);
	return SIGIL_STATUS_OK;
}

sigil_status sigil__kube_config_parse(const uint8_t *buf, size_t len, const char *what,
	const char *bin_dir, sigil__kube_providers **out, sigil_error *err)
{
	sigil__kube_providers *kp = NULL;
	SIGIL_TRY(kp_new(&kp, err));
	if (!kp)
		return sigil__err_oom(err);
	if (check_bin_dir(bin_dir, err) != SIGIL_STATUS_OK ||
	    parse_into(kp, buf, len, bin_dir, err) != SIGIL_STATUS_OK) {
		sigil__kube_providers_free(kp);
		return sigil__err_wrap(err, "credential provider config %s", what);
	}
	if (kp->n == 0) {
		sigil__kube_providers_free(kp);
		return sigil__err(err, SIGIL_ERR_POLICY, "credential provider config %s: providers: "
			"Required value: at least 1 item in plugins is required", what);
	}
	*out = kp;
	return SIGIL_STATUS_OK;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool config_ext(const char *n)
{
	size_t l = strlen(n);
	return (l > 5 && strcmp(n + l - 5, ".json") == 0) || (l > 5 && strcmp(n + l - 5, ".yaml") == 0) ||
		(l > 4 && strcmp(n + l - 4, ".yml") == 0);
}

sigil_status sigil__kube_config_load(const char *path, const char *bin_dir,
	sigil__kube_providers **out, sigil_error *err)
{
	struct stat sb;
	if (stat(path, &sb) != 0)
		return sigil__err(err, SIGIL_ERR_IO, "credential provider config %s: %s", path,
			strerror(errno));
	if (!S_ISDIR(sb.st_mode)) {
		uint8_t *buf = NULL;
		size_t len = 0;
		SIGIL_TRY(sigil__cred_read_file(path, "credential provider config", &buf, &len, err));
		sigil_status st = sigil__kube_config_parse(buf, len, path, bin_dir, out, err);
		free(buf);
		return st;
	}
	/* config.go readCredentialProviderConfig: a directory's *.json,
	 * *.yaml, *.yml files, in lexical order, merged */
	DIR *d = opendir(path);
	if (!d)
		return sigil__err(err, SIGIL_ERR_IO, "credential provider config %s: %s", path,
			strerror(errno));
	char *names[SIGIL_MAX_CRED_CONFIG_FILES];
	size_t nn = 0;
	sigil_status st = SIGIL_STATUS_OK;
	struct dirent *de;
	while (st == SIGIL_STATUS_OK && (de = readdir(d))) {
		if (!config_ext(de->d_name))
			continue;
		size_t l = strlen(path) + strlen(de->d_name) + 2;
		char *full = malloc(l);
		if (!full) {
			st = sigil__err_oom(err);
			break;
		}
		snprintf(full, l, "%s/%s", path, de->d_name);
		struct stat fs;
		if (stat(full, &fs) != 0 || S_ISDIR(fs.st_mode)) {
			free(full);
			continue;
		}
		if (nn == SIGIL_MAX_CRED_CONFIG_FILES) {
			free(full);
			st = sigil__err(err, SIGIL_ERR_LIMIT, "credential provider config %s: more than %d files",
				path, SIGIL_MAX_CRED_CONFIG_FILES);
			break;
		}
		names[nn++] = full;
	}
	closedir(d);
	if (st == SIGIL_STATUS_OK && nn == 0)
		st = sigil__err(err, SIGIL_ERR_POLICY,
			"credential provider config %s: no configuration files found in directory", path);
	qsort(names, nn, sizeof names[0], cmp_str);
	sigil__kube_providers *kp = NULL;
	if (st == SIGIL_STATUS_OK)
		st = kp_new(&kp, err);
	if (st == SIGIL_STATUS_OK && check_bin_dir(bin_dir, err) != SIGIL_STATUS_OK)
		st = SIGIL_STATUS_ERROR;
	for (size_t i = 0; st == SIGIL_STATUS_OK && i < nn; i++) {
		uint8_t *buf = NULL;
		size_t len = 0;
		st = sigil__cred_read_file(names[i], "credential provider config", &buf, &len, err);
		if (st == SIGIL_STATUS_OK) {
			st = parse_into(kp, buf, len, bin_dir, err);
			free(buf);
			if (st != SIGIL_STATUS_OK)
				sigil__err_wrap(err, "credential provider config %s", names[i]);
		}
	}
	for (size_t i = 0; i < nn; i++)
		free(names[i]);
	if (st == SIGIL_STATUS_OK && kp->n == 0)
		st = sigil__err(err, SIGIL_ERR_POLICY, "credential provider config %s: providers: "
			"Required value: at least 1 item in plugins is required", path);
	if (st != SIGIL_STATUS_OK) {
		sigil__kube_providers_free(kp);
		return st;
	}
	*out = kp;
	return SIGIL_STATUS_OK;
}

/* ---- running a plugin ---- */

/* kubelet's parseRegistry */
static char *registry_of(const char *image)
{
	return strndup(image, strcspn(image, "/"));
}

/* kubelet hands plugins the repository (kuberuntime pullImage:
 * ParseImageName), not the tag or digest */
static char *image_repo(const char *image)
{
	size_t n = strcspn(image, "@");
	const char *slash = NULL;
	for (size_t i = 0; i < n; i++)
		if (image[i] == '/')
			slash = image + i;
	const char *colon = memchr(slash ? slash : image, ':', n - (size_t)((slash ? slash : image) - image));
	if (colon && slash)
		n = (size_t)(colon - image);
	return strndup(image, n);
}

/* keyring.go: every auth key indexes its host and, with a path, its
 * host+path; the index is reverse-sorted and the first key matching the
 * image wins (the most specific). */
static ssize_t pick_auth(const kube_auth *a, size_t n, const char *image)
{
	ssize_t best = -1;
	char *best_key = NULL;
	kurl t;
	const char *why;
	if (!kurl_parse(image, &t, &why))
		return -1;
	for (size_t i = 0; i < n; i++) {
		kurl g;
		if (!kurl_parse(a[i].pattern, &g, &why))
			continue;
		for (int with_path = 0; with_path < 2; with_path++) {
			size_t kl = g.hostl;
			if (with_path) {
				if (g.pathl == 0 || (g.pathl == 1 && g.path[0] == '/'))
					continue;
				kl += g.pathl;
			}
			char *key = strndup(g.host, kl);
			if (!key)
				continue;
			if (sigil__kube_url_match(key, image) && (!best_key || strcmp(key, best_key) > 0)) {
				free(best_key);
				best_key = key;
				best = (ssize_t)i;
			} else {
				free(key);
			}
		}
	}
	free(best_key);
	return best;
}

static sigil_status auth_to_cred(const kube_auth *a, sigil__credential *out, sigil_error *err)
{
	sigil__credential c = { 0 };
	if ((a->username && !(c.username = strdup(a->username))) ||
	    (a->password && !(c.password = strdup(a->password)))) {
		sigil__credential_clear(&c);
		return sigil__err_oom(err);
	}
	*out = c;
	return SIGIL_STATUS_OK;
}

static sigil_status parse_response(const kube_provider *p, const char *image,
	const sigil__proc_result *r, kube_auth **auths, size_t *nauths, key_type *kt,
	bool *has_dur, int64_t *dur_ms, sigil_error *err)
{
	json_object *j = NULL;
	sigil_error perr = SIGIL_ERROR_INIT;
	/* plugin.go: the decoding error is not wrapped, it may hold secrets */
	if (sigil__json_parse_object((const uint8_t *)r->out, r->out_len, "response", &j, &perr) !=
	    SIGIL_STATUS_OK)
		return sigil__err(err, SIGIL_ERR_NETWORK, "credential provider plugin %s for image %s: "
			"error decoding credential provider plugin response from stdout", p->name, image);
	_cleanup_(json_object_putp) json_object *root = j;
	static const char *const known[] = { "apiVersion", "kind", "cacheKeyType", "cacheDuration",
		"auth", NULL };
	const char *api = NULL, *kind = NULL, *ckt = NULL, *dur = NULL;
	bool pa, pk, pc, pd, pauth;
	json_object *auth = NULL;
	if (only_fields(root, known, "response", err) != SIGIL_STATUS_OK ||
	    sigil__json_get_string(root, "apiVersion", &api, &pa, err) != SIGIL_STATUS_OK ||
	    sigil__json_get_string(root, "kind", &kind, &pk, err) != SIGIL_STATUS_OK ||
	    sigil__json_get_string(root, "cacheKeyType", &ckt, &pc, err) != SIGIL_STATUS_OK ||
	    sigil__json_get_string(root, "cacheDuration", &dur, &pd, err) != SIGIL_STATUS_OK ||
	    sigil__json_get_object(root, "auth", &auth, &pauth, err) != SIGIL_STATUS_OK) {
		recat(err, SIGIL_ERR_NETWORK);
		return sigil__err_wrap(err, "credential provider plugin %s for image %s", p->name, image);
	}
	if (!pa || strcmp(api, p->api_version) != 0)
		return sigil__err(err, SIGIL_ERR_NETWORK, "credential provider plugin %s for image %s: "
			"apiVersion from credential plugin response did not match expected apiVersion:%s, "
			"actual apiVersion:%.64s", p->name, image, p->api_version, pa ? api : "");
	if (!pk || strcmp(kind, "CredentialProviderResponse") != 0)
		return sigil__err(err, SIGIL_ERR_NETWORK, "credential provider plugin %s for image %s: "
			"unexpected Kind \"%.64s\"", p->name, image, pk ? kind : "");
	if (pc && strcmp(ckt, "Image") == 0)
		*kt = KEY_IMAGE;
	else if (pc && strcmp(ckt, "Registry") == 0)
		*kt = KEY_REGISTRY;
	else if (pc && strcmp(ckt, "Global") == 0)
		*kt = KEY_GLOBAL;
	else
		return sigil__err(err, SIGIL_ERR_NETWORK, "credential provider plugin %s for image %s: "
			"did not return a valid cacheKeyType: \"%.64s\"", p->name, image, pc ? ckt : "");
	*has_dur = pd;
	if (pd && sigil__go_duration_parse(dur, dur_ms, err) != SIGIL_STATUS_OK) {
		recat(err, SIGIL_ERR_NETWORK);
		return sigil__err_wrap(err, "credential provider plugin %s for image %s: cacheDuration",
			p->name, image);
	}
	size_t n = pauth ? (size_t)json_object_object_length(auth) : 0;
	if (n > SIGIL_MAX_CRED_ENTRIES)
		return sigil__err(err, SIGIL_ERR_LIMIT, "credential provider plugin %s: more than %d auth "
			"entries", p->name, SIGIL_MAX_CRED_ENTRIES);
	kube_auth *a = calloc(n + 1, sizeof *a);
	if (!a)
		return sigil__err_oom(err);
	size_t k = 0;
	if (pauth) {
		json_object_object_foreach(auth, key, v) {
			static const char *const ak[] = { "username", "password", NULL };
			const char *u = NULL, *pw = NULL;
			bool pu = false, ppw = false;
			if (!json_object_is_type(v, json_type_object) ||
			    only_fields(v, ak, "auth entry", err) != SIGIL_STATUS_OK ||
			    sigil__json_get_string(v, "username", &u, &pu, err) != SIGIL_STATUS_OK ||
			    sigil__json_get_string(v, "password", &pw, &ppw, err) != SIGIL_STATUS_OK) {
				auths_free(a, k);
				return sigil__err(err, SIGIL_ERR_NETWORK, "credential provider plugin %s for "
					"image %s: invalid auth entry \"%.128s\"", p->name, image, key);
			}
			a[k].pattern = strdup(key);
			a[k].username = pu && u[0] ? strdup(u) : NULL;
			a[k].password = ppw && pw[0] ? strdup(pw) : NULL;
			k++;
			if (!a[k - 1].pattern || (pu && u[0] && !a[k - 1].username) ||
			    (ppw && pw[0] && !a[k - 1].password)) {
				auths_free(a, k);
				return sigil__err_oom(err);
			}
		}
	}
	*auths = a;
	*nauths = k;
	return SIGIL_STATUS_OK;
}

/* drop expired entries; then the cached response for image, its registry,
 * or global (plugin.go getCachedCredentials) */
static kube_cache_entry *cache_find(kube_provider *p, const char *image, const char *registry,
	int64_t now)
{
	for (size_t i = 0; i < p->ncache;) {
		if (p->cache[i].expires_ms <= now) {
			cache_entry_free(&p->cache[i]);
			p->cache[i] = p->cache[--p->ncache];
		} else {
			i++;
		}
	}
	const struct { key_type t; const char *k; } order[] = {
		{ KEY_IMAGE, image }, { KEY_REGISTRY, registry }, { KEY_GLOBAL, "" },
	};
	for (size_t o = 0; o < 3; o++)
		for (size_t i = 0; i < p->ncache; i++)
			if (p->cache[i].type == order[o].t && strcmp(p->cache[i].key, order[o].k) == 0)
				return &p->cache[i];
	return NULL;
}

static void cache_put(kube_provider *p, key_type t, char *key, kube_auth *a, size_t n,
	int64_t expires, int64_t now)
{
	for (size_t i = 0; i < p->ncache; i++)
		if (p->cache[i].type == t && strcmp(p->cache[i].key, key) == 0) {
			cache_entry_free(&p->cache[i]);
			p->cache[i] = p->cache[--p->ncache];
			break;
		}
	if (p->ncache == SIGIL_MAX_CRED_CACHE_ENTRIES) {
		size_t oldest = 0;
		for (size_t i = 1; i < p->ncache; i++)
			if (p->cache[i].added_ms < p->cache[oldest].added_ms)
				oldest = i;
		cache_entry_free(&p->cache[oldest]);
		p->cache[oldest] = p->cache[--p->ncache];
	}
	if (!p->cache) {
		p->cache = calloc(SIGIL_MAX_CRED_CACHE_ENTRIES, sizeof *p->cache);
		if (!p->cache) {
			free(key);
			auths_free(a, n);
			return; /* caching is an optimisation */
		}
	}
	p->cache[p->ncache++] = (kube_cache_entry){ t, key, a, n, expires, now };
}

/* this process's environment with the provider's variables laid over it
 * (plugin.go mergeEnvVars; exec keeps the last of duplicates) */
static char **merged_env(const kube_provider *p)
{
	size_t n = 0;
	while (environ && environ[n])
		n++;
	char **e = calloc(n + p->nenv + 1, sizeof *e);
	if (!e)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		size_t nl = strcspn(environ[i], "=");
		bool over = false;
		for (size_t j = 0; j < p->nenv && !over; j++)
			over = strncmp(p->env[j], environ[i], nl + 1) == 0;
		if (!over)
			e[k++] = environ[i];
	}
	for (size_t j = 0; j < p->nenv; j++)
		e[k++] = p->env[j];
	return e;
}

static sigil_status run_provider(sigil__kube_providers *kp, kube_provider *p, const char *image,
	int64_t deadline_ms, sigil__credential *out, bool *found, sigil_error *err)
{
	json_object *req = json_object_new_object();
	if (!req)
		return sigil__err_oom(err);
	_cleanup_(json_object_putp) json_object *rq = req;
	json_object_object_add(rq, "apiVersion", json_object_new_string(p->api_version));
	json_object_object_add(rq, "kind", json_object_new_string("CredentialProviderRequest"));
	json_object_object_add(rq, "image", json_object_new_string(image));
	const char *body = json_object_to_json_string_ext(rq,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	char **envp = merged_env(p);
	if (!body || !envp) {
		free(envp);
		return sigil__err_oom(err);
	}
	char what[320];
	snprintf(what, sizeof what, "credential provider plugin %.64s for image %.200s", p->name, image);
	sigil__proc_result r = { 0 };
	sigil_status st = sigil__cred_run(p->path, p->args, envp, (const uint8_t *)body, strlen(body),
		deadline_ms, what, &r, err);
	free(envp);
	SIGIL_TRY(st);
	if (r.exit_status != 0) {
		char ex[200];
		size_t o = 0;
		for (size_t i = 0; i < r.errout_len && o + 1 < sizeof ex; i++)
			ex[o++] = (r.errout[i] >= 0x20 && r.errout[i] < 0x7f) ? r.errout[i] : ' ';
		while (o > 0 && ex[o - 1] == ' ')
			o--;
		ex[o] = 0;
		int code = r.exit_status;
		sigil__proc_result_clear(&r);
		return sigil__err(err, SIGIL_ERR_NETWORK, "error execing %s: %s%d: %s", what,
			code < 0 ? "killed, status " : "exit status ", code, ex);
	}
	kube_auth *auths = NULL;
	size_t nauths = 0;
	key_type kt = KEY_IMAGE;
	bool has_dur = false;
	int64_t dur = 0;
	st = parse_response(p, image, &r, &auths, &nauths, &kt, &has_dur, &dur, err);
	sigil__proc_result_clear(&r);
	SIGIL_TRY(st);
	ssize_t pick = pick_auth(auths, nauths, image);
	sigil__credential c = { 0 };
	if (pick >= 0 && auth_to_cred(&auths[pick], &c, err) != SIGIL_STATUS_OK) {
		auths_free(auths, nauths);
		return SIGIL_STATUS_ERROR;
	}
	/* plugin.go provide: an explicit 0 is never cached; none means the
	 * provider's defaultCacheDuration (0 there: never cached) */
	int64_t ttl = has_dur ? dur : p->default_cache_ms;
	char *key = kt == KEY_IMAGE ? strdup(image) : kt == KEY_REGISTRY ? registry_of(image) : strdup("");
	if (ttl > 0 && key) {
		int64_t now = sigil__cred_now_ms();
		pthread_mutex_lock(&kp->lock);
		cache_put(p, kt, key, auths, nauths, ttl > INT64_MAX - now ? INT64_MAX : now + ttl, now);
		pthread_mutex_unlock(&kp->lock);
	} else {
		free(key);
		auths_free(auths, nauths);
	}
	if (pick >= 0) {
		*out = c;
		*found = true;
	}
	return SIGIL_STATUS_OK;
}

sigil_status sigil__kube_lookup(sigil__kube_providers *kp, const char *image, int64_t deadline_ms,
	sigil__credential *out, bool *found, sigil_error *err)
{
	_cleanup_free_ char *repo = image_repo(image);
	_cleanup_free_ char *registry = registry_of(image);
	if (!repo || !registry)
		return sigil__err_oom(err);
	*found = false;
	for (size_t i = 0; i < kp->n; i++) {
		kube_provider *p = &kp->p[i];
		if (p->needs_service_account)
			continue;
		bool allowed = false;
		for (size_t m = 0; m < p->nmatch && !allowed; m++)
			allowed = sigil__kube_url_match(p->match[m], repo);
		if (!allowed)
			continue;
		pthread_mutex_lock(&kp->lock);
		kube_cache_entry *e = cache_find(p, repo, registry, sigil__cred_now_ms());
		sigil_status st = SIGIL_STATUS_OK;
		bool hit = e != NULL, have = false;
		sigil__credential c = { 0 };
		if (e) {
			ssize_t pick = pick_auth(e->auths, e->nauths, repo);
			if (pick >= 0) {
				st = auth_to_cred(&e->auths[pick], &c, err);
				have = st == SIGIL_STATUS_OK;
			}
		}
		pthread_mutex_unlock(&kp->lock);
		SIGIL_TRY(st);
		if (!hit)
			SIGIL_TRY(run_provider(kp, p, repo, deadline_ms, &c, &have, err));
		if (have) {
			*out = c;
			*found = true;
			return SIGIL_STATUS_OK;
		}
	}
	return SIGIL_STATUS_OK;
}
