/* toml.c - a bounded recursive-descent reader for the TOML v1.0 subset that
 * containerd's hosts.toml and config.toml use (see toml.h). Every rule cited
 * as "TOML §<section>" refers to https://toml.io/en/v1.0.0. */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bounds.h"
#include "errors.h"
#include "toml.h"

/* flags: how a table / array came to exist, for TOML §Table and §Array of
 * Tables definition rules */
enum {
	TF_IMPLICIT = 1,  /* created on the way to a [a.b.c] header */
	TF_DEFINED = 2,   /* named by a [header] */
	TF_DOTTED = 4,    /* created by a dotted key (a.b = 1) */
	TF_FROZEN = 8,    /* inline table or static array: immutable */
	TF_AOT = 16,      /* array created by [[header]] */
};

typedef struct parser {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	size_t line;       /* 1-based, of pos */
	size_t nvalues;
	size_t header_seq;
	sigil_error *err;
} parser;

/* ---- errors ---------------------------------------------------------- */

__attribute__((format(printf, 3, 4)))
static sigil_status perr(parser *P, sigil_category cat, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		msg[0] = '\0';
	return sigil__err_at(P->err, cat, P->pos, "line %zu: %s", P->line, msg);
}

static sigil_status oom(parser *P)
{
	return sigil__err_oom(P->err);
}

/* ---- values ---------------------------------------------------------- */

void sigil__toml_free(sigil__toml_value *v)
{
	if (!v)
		return;
	free(v->str);
	for (size_t i = 0; i < v->count; i++) {
		sigil__toml_free(v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v);
}

static sigil__toml_value *new_value(parser *P, sigil__toml_type type)
{
	/* bound on memory: a 1 MiB document of "[[]]"s must not build a
	 * million-node tree */
	if (P->nvalues >= SIGIL_MAX_TOML_VALUES) {
		(void)perr(P, SIGIL_ERR_LIMIT, "more than %d values", SIGIL_MAX_TOML_VALUES);
		return NULL;
	}
	sigil__toml_value *v = calloc(1, sizeof *v);
	if (!v) {
		(void)oom(P);
		return NULL;
	}
	P->nvalues++;
	v->type = type;
	v->line = P->line;
	return v;
}

static sigil_status grow(parser *P, sigil__toml_value *c)
{
	if (c->count >= SIGIL_MAX_TOML_KEYS)
		return perr(P, SIGIL_ERR_LIMIT, "more than %d %s", SIGIL_MAX_TOML_KEYS,
			c->type == SIGIL_TOML_TABLE ? "keys in a table" : "elements in an array");
	if (c->count < c->cap)
		return SIGIL_STATUS_OK;
	size_t ncap = c->cap ? c->cap * 2 : 4;
	sigil__toml_value **items = realloc(c->items, ncap * sizeof *items);
	if (!items)
		return oom(P);
	c->items = items;
	if (c->type == SIGIL_TOML_TABLE) {
		char **keys = realloc(c->keys, ncap * sizeof *keys);
		if (!keys)
			return oom(P);
		c->keys = keys;
	}
	c->cap = ncap;
	return SIGIL_STATUS_OK;
}

/* array_push - takes ownership of v (freed on failure) */
static sigil_status array_push(parser *P, sigil__toml_value *a, sigil__toml_value *v)
{
	if (grow(P, a) != SIGIL_STATUS_OK) {
		sigil__toml_free(v);
		return SIGIL_STATUS_ERROR;
	}
	a->items[a->count++] = v;
	return SIGIL_STATUS_OK;
}

/* table_put - takes ownership of key and v (freed on failure); the caller
 * has checked that key is absent */
static sigil_status table_put(parser *P, sigil__toml_value *t, char *key, sigil__toml_value *v)
{
	if (grow(P, t) != SIGIL_STATUS_OK) {
		free(key);
		sigil__toml_free(v);
		return SIGIL_STATUS_ERROR;
	}
	t->keys[t->count] = key;
	t->items[t->count++] = v;
	return SIGIL_STATUS_OK;
}

static sigil__toml_value *table_find(const sigil__toml_value *t, const char *key)
{
	for (size_t i = 0; i < t->count; i++)
		if (strcmp(t->keys[i], key) == 0)
			return t->items[i];
	return NULL;
}

const sigil__toml_value *sigil__toml_get(const sigil__toml_value *table, const char *key)
{
	if (!table || !key || table->type != SIGIL_TOML_TABLE)
		return NULL;
	return table_find(table, key);
}

/* ---- lexical helpers --------------------------------------------------- */

static int peek(const parser *P)
{
	return P->pos < P->len ? P->buf[P->pos] : -1;
}

static int peek_at(const parser *P, size_t k)
{
	return P->pos + k < P->len ? P->buf[P->pos + k] : -1;
}

static void skip_ws(parser *P)
{
	while (P->pos < P->len && (P->buf[P->pos] == ' ' || P->buf[P->pos] == '\t'))
		P->pos++;
}

/* TOML §Comment: control characters other than tab are not permitted */
static sigil_status skip_comment(parser *P)
{
	if (peek(P) != '#')
		return SIGIL_STATUS_OK;
	while (P->pos < P->len) {
		uint8_t c = P->buf[P->pos];
		if (c == '\n' || (c == '\r' && peek_at(P, 1) == '\n'))
			break;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return perr(P, SIGIL_ERR_MALFORMED, "control character in comment");
		P->pos++;
	}
	return SIGIL_STATUS_OK;
}

/* newline: LF or CRLF (TOML §Spec); a bare CR is an error elsewhere */
static bool at_newline(const parser *P)
{
	int c = peek(P);
	return c == '\n' || (c == '\r' && peek_at(P, 1) == '\n');
}

static void eat_newline(parser *P)
{
	if (peek(P) == '\r')
		P->pos++;
	P->pos++;
	P->line++;
}

/* skip whitespace, comments and newlines (inside arrays) */
static sigil_status skip_ws_nl(parser *P)
{
	for (;;) {
		skip_ws(P);
		SIGIL_TRY(skip_comment(P));
		if (at_newline(P))
			eat_newline(P);
		else
			return SIGIL_STATUS_OK;
	}
}

/* end of an expression: optional whitespace and comment, then newline/EOF */
static sigil_status end_of_line(parser *P)
{
	skip_ws(P);
	SIGIL_TRY(skip_comment(P));
	if (P->pos >= P->len)
		return SIGIL_STATUS_OK;
	if (!at_newline(P))
		return perr(P, SIGIL_ERR_MALFORMED, "expected a newline after the expression, found '%c'",
			P->buf[P->pos] >= 0x20 && P->buf[P->pos] < 0x7f ? P->buf[P->pos] : '?');
	eat_newline(P);
	return SIGIL_STATUS_OK;
}

/* ---- strings ----------------------------------------------------------- */

typedef struct sbuf {
	char *s;
	size_t n, cap;
} sbuf;

static sigil_status sb_add(parser *P, sbuf *b, const char *p, size_t n)
{
	if (n > SIGIL_MAX_TOML_STRING || b->n > SIGIL_MAX_TOML_STRING - n)
		return perr(P, SIGIL_ERR_LIMIT, "string longer than %u bytes", SIGIL_MAX_TOML_STRING);
	if (b->n + n + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 32;
		while (ncap < b->n + n + 1)
			ncap *= 2;
		char *s = realloc(b->s, ncap);
		if (!s)
			return oom(P);
		b->s = s;
		b->cap = ncap;
	}
	memcpy(b->s + b->n, p, n);
	b->n += n;
	b->s[b->n] = '\0';
	return SIGIL_STATUS_OK;
}

/* utf8_len - length of the well-formed UTF-8 sequence at p (RFC 3629 §4:
 * no overlongs, no surrogates, <= U+10FFFF), 0 if ill-formed */
static size_t utf8_len(const uint8_t *p, size_t avail)
{
	uint8_t c = p[0];
	if (c < 0x80)
		return 1;
	size_t n;
	uint32_t min, cp;
	if (c >= 0xc2 && c <= 0xdf) { n = 2; cp = c & 0x1f; min = 0x80; }
	else if (c >= 0xe0 && c <= 0xef) { n = 3; cp = c & 0x0f; min = 0x800; }
	else if (c >= 0xf0 && c <= 0xf4) { n = 4; cp = c & 0x07; min = 0x10000; }
	else return 0;
	if (avail < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static sigil_status sb_add_cp(parser *P, sbuf *b, uint32_t cp)
{
	char u[4];
	size_t n;
	if (cp < 0x80) { u[0] = (char)cp; n = 1; }
	else if (cp < 0x800) { u[0] = (char)(0xc0 | (cp >> 6)); u[1] = (char)(0x80 | (cp & 0x3f)); n = 2; }
	else if (cp < 0x10000) { u[0] = (char)(0xe0 | (cp >> 12)); u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f)); n = 3; }
	else { u[0] = (char)(0xf0 | (cp >> 18)); u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f)); u[3] = (char)(0x80 | (cp & 0x3f)); n = 4; }
	return sb_add(P, b, u, n);
}

/* one escape after '\' in a basic string (TOML §String) */
static sigil_status parse_escape(parser *P, sbuf *b)
{
	int c = peek(P);
	char out;
	switch (c) {
	case 'b': out = '\b'; break;
	case 't': out = '\t'; break;
	case 'n': out = '\n'; break;
	case 'f': out = '\f'; break;
	case 'r': out = '\r'; break;
	case '"': out = '"'; break;
	case '\\': out = '\\'; break;
	case 'u': case 'U': {
		size_t nd = c == 'u' ? 4 : 8;
		uint32_t cp = 0;
		for (size_t i = 1; i <= nd; i++) {
			int h = peek_at(P, i);
			int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 :
				h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
			if (d < 0)
				return perr(P, SIGIL_ERR_MALFORMED, "\\%c escape needs %zu hex digits", c, nd);
			if (cp > 0x10ffff)
				return perr(P, SIGIL_ERR_MALFORMED, "escape is not a Unicode scalar value");
			cp = (cp << 4) | (uint32_t)d;
		}
		if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return perr(P, SIGIL_ERR_MALFORMED, "escape is not a Unicode scalar value");
		/* values are C strings (toml.h): a NUL would silently truncate */
		if (cp == 0)
			return perr(P, SIGIL_ERR_UNSUPPORTED, "NUL character in string");
		P->pos += nd + 1;
		return sb_add_cp(P, b, cp);
	}
	default:
		return perr(P, SIGIL_ERR_MALFORMED, "invalid escape sequence");
	}
	P->pos++;
	return sb_add(P, b, &out, 1);
}

/* add the character at pos to b after the control-character and UTF-8
 * checks of TOML §String / §Spec ("must be valid UTF-8") */
static sigil_status string_char(parser *P, sbuf *b)
{
	uint8_t c = P->buf[P->pos];
	if ((c < 0x20 && c != '\t') || c == 0x7f)
		return perr(P, SIGIL_ERR_MALFORMED, "control character in string");
	size_t n = utf8_len(P->buf + P->pos, P->len - P->pos);
	if (n == 0)
		return perr(P, SIGIL_ERR_MALFORMED, "invalid UTF-8 in string");
	SIGIL_TRY(sb_add(P, b, (const char *)P->buf + P->pos, n));
	P->pos += n;
	return SIGIL_STATUS_OK;
}

/* parse_string - a string of any of the four kinds at pos; *out is a
 * malloc'd NUL-terminated string. multiline_ok: keys cannot be multi-line. */
static sigil_status parse_string(parser *P, bool multiline_ok, char **out)
{
	int q = peek(P);
	bool literal = q == '\'';
	bool ml = peek_at(P, 1) == q && peek_at(P, 2) == q;
	sbuf b = { NULL, 0, 0 };
	sigil_status st = SIGIL_STATUS_ERROR;

	if (ml && !multiline_ok) {
		st = perr(P, SIGIL_ERR_MALFORMED, "multi-line string cannot be a key");
		goto out;
	}
	if (sb_add(P, &b, "", 0) != SIGIL_STATUS_OK)
		goto out;
	if (!ml) {
		P->pos++;
		for (;;) {
			int c = peek(P);
			if (c < 0 || c == '\n' || c == '\r') {
				st = perr(P, SIGIL_ERR_MALFORMED, "unterminated string");
				goto out;
			}
			if (c == q) {
				P->pos++;
				break;
			}
			if (!literal && c == '\\') {
				P->pos++;
				if (parse_escape(P, &b) != SIGIL_STATUS_OK)
					goto out;
				continue;
			}
			if (string_char(P, &b) != SIGIL_STATUS_OK)
				goto out;
		}
	} else {
		P->pos += 3;
		/* TOML §String: a newline right after the opening delimiter is trimmed */
		if (at_newline(P))
			eat_newline(P);
		for (;;) {
			int c = peek(P);
			if (c < 0) {
				st = perr(P, SIGIL_ERR_MALFORMED, "unterminated multi-line string");
				goto out;
			}
			if (c == q && peek_at(P, 1) == q && peek_at(P, 2) == q) {
				/* up to two quotes may precede the closing delimiter */
				size_t n = 3;
				while (peek_at(P, n) == q)
					n++;
				if (n > 5) {
					st = perr(P, SIGIL_ERR_MALFORMED, "too many quotes at the end of a multi-line string");
					goto out;
				}
				char qq[2] = { (char)q, (char)q };
				if (sb_add(P, &b, qq, n - 3) != SIGIL_STATUS_OK)
					goto out;
				P->pos += n;
				break;
			}
			if (at_newline(P)) {
				eat_newline(P);
				if (sb_add(P, &b, "\n", 1) != SIGIL_STATUS_OK)
					goto out;
				continue;
			}
			if (!literal && c == '\\') {
				/* line-ending backslash: trim it and all whitespace and
				 * newlines up to the next other character */
				size_t k = 1;
				while (peek_at(P, k) == ' ' || peek_at(P, k) == '\t')
					k++;
				if (peek_at(P, k) == '\n' || (peek_at(P, k) == '\r' && peek_at(P, k + 1) == '\n')) {
					P->pos += k;
					for (;;) {
						skip_ws(P);
						if (!at_newline(P))
							break;
						eat_newline(P);
					}
					continue;
				}
				P->pos++;
				if (parse_escape(P, &b) != SIGIL_STATUS_OK)
					goto out;
				continue;
			}
			if (string_char(P, &b) != SIGIL_STATUS_OK)
				goto out;
		}
	}
	*out = b.s;
	b.s = NULL;
	st = SIGIL_STATUS_OK;
out:
	free(b.s);
	return st;
}

/* ---- keys -------------------------------------------------------------- */

typedef struct keypath {
	char *parts[SIGIL_MAX_TOML_DEPTH];
	size_t n;
} keypath;

static void keypath_clear(keypath *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->parts[i]);
	k->n = 0;
}

static bool is_bare(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* TOML §Keys: bare, quoted or dotted; whitespace around dots is ignored */
static sigil_status parse_key(parser *P, keypath *k)
{
	k->n = 0;
	for (;;) {
		skip_ws(P);
		if (k->n >= SIGIL_MAX_TOML_DEPTH) {
			keypath_clear(k);
			return perr(P, SIGIL_ERR_LIMIT, "key has more than %d parts", SIGIL_MAX_TOML_DEPTH);
		}
		int c = peek(P);
		char *part = NULL;
		if (c == '"' || c == '\'') {
			if (parse_string(P, false, &part) != SIGIL_STATUS_OK) {
				keypath_clear(k);
				return SIGIL_STATUS_ERROR;
			}
		} else if (is_bare(c)) {
			size_t start = P->pos;
			while (is_bare(peek(P)))
				P->pos++;
			part = strndup((const char *)P->buf + start, P->pos - start);
			if (!part) {
				keypath_clear(k);
				return oom(P);
			}
		} else {
			keypath_clear(k);
			return perr(P, SIGIL_ERR_MALFORMED, c < 0 || c == '\n' || c == '\r' ?
				"expected a key" : "invalid character in key");
		}
		k->parts[k->n++] = part;
		skip_ws(P);
		if (peek(P) != '.')
			return SIGIL_STATUS_OK;
		P->pos++;
	}
}

/* ---- values ------------------------------------------------------------ */

static sigil_status parse_value(parser *P, size_t depth, sigil__toml_value **out);
static sigil_status parse_keyval(parser *P, sigil__toml_value *table, size_t depth);

static bool is_token_char(int c)
{
	return c >= 0 && c != ' ' && c != '\t' && c != ',' && c != ']' && c != '}' && c != '#' &&
		c != '\n' && c != '\r';
}

static sigil_status parse_integer(parser *P, const char *t, size_t n, int64_t *out)
{
	size_t i = 0;
	int base = 10;
	bool neg = false;
	if (n > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'o' || t[1] == 'b')) {
		base = t[1] == 'x' ? 16 : t[1] == 'o' ? 8 : 2;
		i = 2;
	} else {
		if (t[0] == '+' || t[0] == '-') {
			neg = t[0] == '-';
			i = 1;
		}
		/* TOML §Integer: leading zeros are not allowed */
		if (i < n && t[i] == '0' && i + 1 < n)
			return perr(P, SIGIL_ERR_MALFORMED, "leading zero in integer");
	}
	if (i >= n)
		return perr(P, SIGIL_ERR_MALFORMED, "invalid integer");
	uint64_t v = 0;
	uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	bool prev_digit = false;
	for (; i < n; i++) {
		char c = t[i];
		if (c == '_') {
			/* underscores only between digits */
			if (!prev_digit || i + 1 >= n || t[i + 1] == '_')
				return perr(P, SIGIL_ERR_MALFORMED, "misplaced underscore in integer");
			prev_digit = false;
			continue;
		}
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 : 99;
		if (d >= base)
			return perr(P, SIGIL_ERR_MALFORMED, "invalid integer");
		if (v > (limit - (uint64_t)d) / (uint64_t)base)
			return perr(P, SIGIL_ERR_MALFORMED, "integer out of range");
		v = v * (uint64_t)base + (uint64_t)d;
		prev_digit = true;
	}
	if (!neg)
		*out = (int64_t)v;
	else if (v == (uint64_t)INT64_MAX + 1)
		*out = INT64_MIN;
	else
		*out = -(int64_t)v;
	return SIGIL_STATUS_OK;
}

/* digit_run - digits at t[*i], with underscores only between two digits
 * (TOML §Integer, §Float), appended to buf; the number of digits, or -1 for
 * a misplaced underscore */
static int digit_run(const char *t, size_t n, size_t *i, char *buf, size_t *k)
{
	int count = 0;
	while (*i < n) {
		char c = t[*i];
		if (c >= '0' && c <= '9') {
			buf[(*k)++] = c;
			count++;
		} else if (c == '_') {
			if (count == 0 || *i + 1 >= n || t[*i + 1] < '0' || t[*i + 1] > '9')
				return -1;
		} else {
			break;
		}
		(*i)++;
	}
	return count;
}

/* longest float token accepted; a float needs at most 17 significant
 * digits, so a longer one is padding */
#define TOML_FLOAT_MAX_CHARS 128

/* parse_float - TOML §Float: float-int-part followed by a fraction, an
 * exponent or both, or [+-](inf|nan). The grammar is checked here; the
 * digits, underscores removed, are converted by strtod_l in the C locale so
 * that a caller's setlocale cannot change what '.' means. */
static sigil_status parse_float(parser *P, const char *t, size_t n, double *out)
{
	size_t i = 0, k = 0;
	bool neg = false;
	if (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-';
		i = 1;
	}
	if (n - i == 3 && memcmp(t + i, "inf", 3) == 0) {
		*out = neg ? -INFINITY : INFINITY;
		return SIGIL_STATUS_OK;
	}
	if (n - i == 3 && memcmp(t + i, "nan", 3) == 0) {
		*out = neg ? -NAN : NAN;
		return SIGIL_STATUS_OK;
	}
	if (n > TOML_FLOAT_MAX_CHARS)
		return perr(P, SIGIL_ERR_LIMIT, "float longer than %d characters", TOML_FLOAT_MAX_CHARS);
	char buf[TOML_FLOAT_MAX_CHARS + 1];
	if (neg)
		buf[k++] = '-';
	size_t int_start = i;
	int nd = digit_run(t, n, &i, buf, &k);
	if (nd < 0)
		return perr(P, SIGIL_ERR_MALFORMED, "misplaced underscore in float");
	if (nd == 0)
		return perr(P, SIGIL_ERR_MALFORMED, "invalid float");
	/* the integer part follows the integer rule: no leading zeros */
	if (nd > 1 && t[int_start] == '0')
		return perr(P, SIGIL_ERR_MALFORMED, "leading zero in float");
	bool frac = false, exp = false;
	if (i < n && t[i] == '.') {
		buf[k++] = '.';
		i++;
		nd = digit_run(t, n, &i, buf, &k);
		if (nd <= 0)
			return perr(P, SIGIL_ERR_MALFORMED, nd < 0 ? "misplaced underscore in float" :
				"a float needs digits after '.'");
		frac = true;
	}
	if (i < n && (t[i] == 'e' || t[i] == 'E')) {
		buf[k++] = 'e';
		i++;
		if (i < n && (t[i] == '+' || t[i] == '-'))
			buf[k++] = t[i++];
		nd = digit_run(t, n, &i, buf, &k);
		if (nd <= 0)
			return perr(P, SIGIL_ERR_MALFORMED, nd < 0 ? "misplaced underscore in float" :
				"a float needs digits in its exponent");
		exp = true;
	}
	if (i != n || (!frac && !exp))
		return perr(P, SIGIL_ERR_MALFORMED, "invalid float");
	buf[k] = '\0';
	locale_t c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	if (c_locale == (locale_t)0)
		return oom(P);
	errno = 0;
	char *end = NULL;
	double d = strtod_l(buf, &end, c_locale);
	int e = errno;
	freelocale(c_locale);
	if (!end || *end != '\0')
		return perr(P, SIGIL_ERR_MALFORMED, "invalid float");
	/* TOML §Float: IEEE 754 binary64; a value beyond its range is not one
	 * (an underflow to a subnormal or zero is only imprecise) */
	if (e == ERANGE && isinf(d))
		return perr(P, SIGIL_ERR_MALFORMED, "float out of range");
	*out = d;
	return SIGIL_STATUS_OK;
}

/* a bare value: boolean, integer or float; dates and times are recognised
 * only to say they are unsupported (toml.h) */
static sigil_status parse_scalar(parser *P, sigil__toml_value **out)
{
	size_t start = P->pos;
	while (is_token_char(peek(P)))
		P->pos++;
	const char *t = (const char *)P->buf + start;
	size_t n = P->pos - start;
	sigil__toml_value *v = NULL;
	if (n == 0) {
		return perr(P, SIGIL_ERR_MALFORMED, peek(P) < 0 || at_newline(P) ?
			"missing value" : "invalid value");
	}
	if ((n == 4 && memcmp(t, "true", 4) == 0) || (n == 5 && memcmp(t, "false", 5) == 0)) {
		v = new_value(P, SIGIL_TOML_BOOL);
		if (!v)
			return SIGIL_STATUS_ERROR;
		v->b = n == 4;
		*out = v;
		return SIGIL_STATUS_OK;
	}
	size_t s = (t[0] == '+' || t[0] == '-') ? 1 : 0;
	/* TOML §Offset Date-Time etc.: YYYY-… or HH:… ("123e-4" is a float) */
	bool digits4 = n > 4 && t[0] >= '0' && t[0] <= '9' && t[1] >= '0' && t[1] <= '9' &&
		t[2] >= '0' && t[2] <= '9' && t[3] >= '0' && t[3] <= '9';
	bool digits2 = n > 2 && t[0] >= '0' && t[0] <= '9' && t[1] >= '0' && t[1] <= '9';
	if ((digits4 && t[4] == '-') || (digits2 && t[2] == ':')) {
		P->pos = start;
		return perr(P, SIGIL_ERR_UNSUPPORTED, "dates and times are not supported");
	}
	bool radix = n > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'o' || t[1] == 'b');
	bool special = n - s == 3 && (memcmp(t + s, "inf", 3) == 0 || memcmp(t + s, "nan", 3) == 0);
	if (special || (!radix && s < n && t[s] >= '0' && t[s] <= '9' && (memchr(t, '.', n) ||
			memchr(t, 'e', n) || memchr(t, 'E', n)))) {
		double d = 0;
		size_t here = P->pos;
		P->pos = start;
		SIGIL_TRY(parse_float(P, t, n, &d));
		P->pos = here;
		v = new_value(P, SIGIL_TOML_FLOAT);
		if (!v)
			return SIGIL_STATUS_ERROR;
		v->f = d;
		*out = v;
		return SIGIL_STATUS_OK;
	}
	if (!radix && (s >= n || t[s] < '0' || t[s] > '9')) {
		P->pos = start;
		return perr(P, SIGIL_ERR_MALFORMED, "invalid value (strings must be quoted)");
	}
	int64_t i = 0;
	size_t here = P->pos;
	P->pos = start;
	SIGIL_TRY(parse_integer(P, t, n, &i));
	P->pos = here;
	v = new_value(P, SIGIL_TOML_INT);
	if (!v)
		return SIGIL_STATUS_ERROR;
	v->i = i;
	*out = v;
	return SIGIL_STATUS_OK;
}

static sigil_status parse_array(parser *P, size_t depth, sigil__toml_value **out)
{
	sigil__toml_value *a = new_value(P, SIGIL_TOML_ARRAY);
	if (!a)
		return SIGIL_STATUS_ERROR;
	a->flags = TF_FROZEN;
	P->pos++; /* '[' */
	for (;;) {
		if (skip_ws_nl(P) != SIGIL_STATUS_OK)
			goto fail;
		if (peek(P) == ']') {
			P->pos++;
			break;
		}
		sigil__toml_value *item = NULL;
		if (parse_value(P, depth + 1, &item) != SIGIL_STATUS_OK)
			goto fail;
		if (array_push(P, a, item) != SIGIL_STATUS_OK)
			goto fail;
		if (skip_ws_nl(P) != SIGIL_STATUS_OK)
			goto fail;
		int c = peek(P);
		if (c == ',') {
			P->pos++;
			continue;
		}
		if (c == ']') {
			P->pos++;
			break;
		}
		perr(P, SIGIL_ERR_MALFORMED, c < 0 ? "unterminated array" : "expected ',' or ']' in array");
		goto fail;
	}
	*out = a;
	return SIGIL_STATUS_OK;
fail:
	sigil__toml_free(a);
	return SIGIL_STATUS_ERROR;
}

/* TOML §Inline Table: one line, no trailing comma, immutable afterwards */
static sigil_status parse_inline_table(parser *P, size_t depth, sigil__toml_value **out)
{
	sigil__toml_value *t = new_value(P, SIGIL_TOML_TABLE);
	if (!t)
		return SIGIL_STATUS_ERROR;
	P->pos++; /* '{' */
	skip_ws(P);
	if (peek(P) == '}') {
		P->pos++;
	} else {
		for (;;) {
			if (parse_keyval(P, t, depth + 1) != SIGIL_STATUS_OK)
				goto fail;
			skip_ws(P);
			int c = peek(P);
			if (c == ',') {
				P->pos++;
				skip_ws(P);
				if (peek(P) == '}') {
					perr(P, SIGIL_ERR_MALFORMED, "trailing comma in inline table");
					goto fail;
				}
				continue;
			}
			if (c == '}') {
				P->pos++;
				break;
			}
			perr(P, SIGIL_ERR_MALFORMED, c < 0 || c == '\n' || c == '\r' ?
				"unterminated inline table (inline tables are one line)" :
				"expected ',' or '}' in inline table");
			goto fail;
		}
	}
	t->flags = TF_FROZEN;
	*out = t;
	return SIGIL_STATUS_OK;
fail:
	sigil__toml_free(t);
	return SIGIL_STATUS_ERROR;
}

static void freeze(sigil__toml_value *v)
{
	/* everything inside an inline table is immutable, dotted sub-tables too */
	v->flags |= TF_FROZEN;
	if (v->type == SIGIL_TOML_TABLE || v->type == SIGIL_TOML_ARRAY)
		for (size_t i = 0; i < v->count; i++)
			freeze(v->items[i]);
}

static sigil_status parse_value(parser *P, size_t depth, sigil__toml_value **out)
{
	if (depth > SIGIL_MAX_TOML_DEPTH)
		return perr(P, SIGIL_ERR_LIMIT, "nesting deeper than %d", SIGIL_MAX_TOML_DEPTH);
	int c = peek(P);
	if (c == '"' || c == '\'') {
		size_t line = P->line;
		char *s = NULL;
		SIGIL_TRY(parse_string(P, true, &s));
		sigil__toml_value *v = new_value(P, SIGIL_TOML_STRING);
		if (!v) {
			free(s);
			return SIGIL_STATUS_ERROR;
		}
		v->line = line;
		v->str = s;
		*out = v;
		return SIGIL_STATUS_OK;
	}
	if (c == '[')
		return parse_array(P, depth, out);
	if (c == '{') {
		SIGIL_TRY(parse_inline_table(P, depth, out));
		freeze(*out);
		return SIGIL_STATUS_OK;
	}
	return parse_scalar(P, out);
}

/* parse_keyval - key = value into table (TOML §Keys: dotted keys create
 * tables, which may only be extended by more dotted keys of the same
 * section; redefining a key is an error) */
static sigil_status parse_keyval(parser *P, sigil__toml_value *table, size_t depth)
{
	keypath k;
	size_t keypos = P->pos;
	SIGIL_TRY(parse_key(P, &k));
	sigil_status st = SIGIL_STATUS_ERROR;
	if (depth + k.n > SIGIL_MAX_TOML_DEPTH) {
		st = perr(P, SIGIL_ERR_LIMIT, "nesting deeper than %d", SIGIL_MAX_TOML_DEPTH);
		goto out;
	}
	skip_ws(P);
	if (peek(P) != '=') {
		st = perr(P, SIGIL_ERR_MALFORMED, "expected '=' after key \"%s\"", k.parts[k.n - 1]);
		goto out;
	}
	P->pos++;
	skip_ws(P);

	sigil__toml_value *t = table;
	for (size_t i = 0; i + 1 < k.n; i++) {
		sigil__toml_value *sub = table_find(t, k.parts[i]);
		if (!sub) {
			sub = new_value(P, SIGIL_TOML_TABLE);
			if (!sub)
				goto out;
			sub->flags = TF_DOTTED;
			char *key = k.parts[i];
			k.parts[i] = NULL;
			if (table_put(P, t, key, sub) != SIGIL_STATUS_OK)
				goto out;
		} else if (sub->type != SIGIL_TOML_TABLE || !(sub->flags & TF_DOTTED) || (sub->flags & TF_FROZEN)) {
			P->pos = keypos;
			st = perr(P, SIGIL_ERR_MALFORMED, "cannot add key \"%s\" to \"%s\": it is already defined",
				k.parts[k.n - 1], k.parts[i]);
			goto out;
		}
		t = sub;
	}
	if (table_find(t, k.parts[k.n - 1])) {
		P->pos = keypos;
		st = perr(P, SIGIL_ERR_MALFORMED, "duplicate key \"%s\"", k.parts[k.n - 1]);
		goto out;
	}
	sigil__toml_value *v = NULL;
	if (parse_value(P, depth + k.n, &v) != SIGIL_STATUS_OK)
		goto out;
	char *key = k.parts[k.n - 1];
	k.parts[k.n - 1] = NULL;
	if (table_put(P, t, key, v) != SIGIL_STATUS_OK)
		goto out;
	st = SIGIL_STATUS_OK;
out:
	keypath_clear(&k);
	return st;
}

/* parse_header - [a.b] or [[a.b]] (TOML §Table, §Array of Tables); sets
 * *cur to the table that following key/value pairs go into */
static sigil_status parse_header(parser *P, sigil__toml_value *root, sigil__toml_value **cur)
{
	size_t hpos = P->pos;
	bool aot = peek_at(P, 1) == '[';
	P->pos += aot ? 2 : 1;
	keypath k;
	SIGIL_TRY(parse_key(P, &k));
	sigil_status st = SIGIL_STATUS_ERROR;
	if (peek(P) != ']' || (aot && peek_at(P, 1) != ']')) {
		st = perr(P, SIGIL_ERR_MALFORMED, aot ? "expected ']]' to close the table header" :
			"expected ']' to close the table header");
		goto out;
	}
	P->pos += aot ? 2 : 1;
	size_t seq = aot ? 0 : ++P->header_seq;

	sigil__toml_value *t = root;
	for (size_t i = 0; i + 1 < k.n; i++) {
		sigil__toml_value *sub = table_find(t, k.parts[i]);
		if (!sub) {
			sub = new_value(P, SIGIL_TOML_TABLE);
			if (!sub)
				goto out;
			sub->flags = TF_IMPLICIT;
			char *key = k.parts[i];
			k.parts[i] = NULL;
			if (table_put(P, t, key, sub) != SIGIL_STATUS_OK)
				goto out;
		} else if (sub->type == SIGIL_TOML_ARRAY && (sub->flags & TF_AOT) && sub->count > 0) {
			/* a path through an array of tables goes to its last element */
			sub = sub->items[sub->count - 1];
		} else if (sub->type != SIGIL_TOML_TABLE || (sub->flags & TF_FROZEN)) {
			P->pos = hpos;
			st = perr(P, SIGIL_ERR_MALFORMED, "cannot define table: \"%s\" is already defined as a %s",
				k.parts[i], sub->type == SIGIL_TOML_TABLE ? "inline table" : "value");
			goto out;
		}
		if (seq && !sub->header_seq)
			sub->header_seq = seq;
		t = sub;
	}
	const char *last = k.parts[k.n - 1];
	sigil__toml_value *existing = table_find(t, last);
	if (aot) {
		sigil__toml_value *arr = existing;
		if (!arr) {
			arr = new_value(P, SIGIL_TOML_ARRAY);
			if (!arr)
				goto out;
			arr->flags = TF_AOT;
			char *key = k.parts[k.n - 1];
			k.parts[k.n - 1] = NULL;
			if (table_put(P, t, key, arr) != SIGIL_STATUS_OK)
				goto out;
		} else if (arr->type != SIGIL_TOML_ARRAY || !(arr->flags & TF_AOT)) {
			P->pos = hpos;
			st = perr(P, SIGIL_ERR_MALFORMED, "cannot define array of tables \"%s\": already defined", last);
			goto out;
		}
		sigil__toml_value *nt = new_value(P, SIGIL_TOML_TABLE);
		if (!nt)
			goto out;
		nt->flags = TF_DEFINED;
		if (array_push(P, arr, nt) != SIGIL_STATUS_OK)
			goto out;
		*cur = nt;
	} else {
		if (!existing) {
			sigil__toml_value *nt = new_value(P, SIGIL_TOML_TABLE);
			if (!nt)
				goto out;
			nt->flags = TF_DEFINED;
			nt->header_seq = seq;
			char *key = k.parts[k.n - 1];
			k.parts[k.n - 1] = NULL;
			if (table_put(P, t, key, nt) != SIGIL_STATUS_OK)
				goto out;
			*cur = nt;
		} else if (existing->type == SIGIL_TOML_TABLE && existing->flags == TF_IMPLICIT) {
			existing->flags = TF_DEFINED;
			existing->line = P->line;
			if (!existing->header_seq)
				existing->header_seq = seq;
			*cur = existing;
		} else {
			P->pos = hpos;
			st = perr(P, SIGIL_ERR_MALFORMED, "duplicate table \"%s\"", last);
			goto out;
		}
	}
	st = SIGIL_STATUS_OK;
out:
	keypath_clear(&k);
	return st;
}

sigil_status sigil__toml_parse(const uint8_t *buf, size_t len, sigil__toml_value **out,
	sigil_error *err)
{
	parser P = { .buf = buf, .len = len, .pos = 0, .line = 1, .err = err };
	if (!buf && len)
		return sigil__err(err, SIGIL_ERR_USAGE, "TOML: no input");
	if (len > SIGIL_MAX_TOML_SIZE)
		return sigil__err(err, SIGIL_ERR_LIMIT, "TOML document larger than %u bytes", SIGIL_MAX_TOML_SIZE);
	sigil__toml_value *root = new_value(&P, SIGIL_TOML_TABLE);
	if (!root)
		return SIGIL_STATUS_ERROR;
	root->flags = TF_DEFINED;
	sigil__toml_value *cur = root;
	/* a UTF-8 byte order mark is not TOML, but editors write one */
	if (len >= 3 && buf[0] == 0xef && buf[1] == 0xbb && buf[2] == 0xbf)
		P.pos = 3;
	while (P.pos < P.len) {
		skip_ws(&P);
		int c = peek(&P);
		sigil_status st;
		if (c < 0)
			break;
		if (c == '#') {
			st = end_of_line(&P);
		} else if (at_newline(&P)) {
			eat_newline(&P);
			st = SIGIL_STATUS_OK;
		} else if (c == '[') {
			st = parse_header(&P, root, &cur);
			if (st == SIGIL_STATUS_OK)
				st = end_of_line(&P);
		} else {
			st = parse_keyval(&P, cur, 0);
			if (st == SIGIL_STATUS_OK)
				st = end_of_line(&P);
		}
		if (st != SIGIL_STATUS_OK) {
			sigil__toml_free(root);
			return SIGIL_STATUS_ERROR;
		}
	}
	*out = root;
	return SIGIL_STATUS_OK;
}
