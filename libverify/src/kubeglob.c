/* kubeglob.c - kubelet's image matching for credential providers:
 * matchImages and response auth keys (pkg/credentialprovider keyring.go
 * URLsMatchStr: host globs per label with path/filepath.Match semantics,
 * optional port, path prefix). */
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include "credentials_internal.h"

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

/* keyring.go: every auth key indexes its host and, with a path, its
 * host+path; the index is reverse-sorted and the first key matching the
 * image wins (the most specific). */
ssize_t sigil__kube_best_match(const char *const *patterns, size_t n, const char *image)
{
	ssize_t best = -1;
	char *best_key = NULL;
	kurl t;
	const char *why;
	if (!kurl_parse(image, &t, &why))
		return -1;
	for (size_t i = 0; i < n; i++) {
		kurl g;
		if (!kurl_parse(patterns[i], &g, &why))
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
