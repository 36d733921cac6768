/* reference.c - image references as distribution/reference v0.6.0 (the
 * version containerd 2.1 vendors) parses them: ParseNormalizedNamed in
 * normalize.go, the grammar of regexp.go and Parse in reference.go. The
 * regular expressions are implemented as hand-written matchers over the
 * same grammar:
 *
 *   reference   := name [ ":" tag ] [ "@" digest ]
 *   name        := [ domain "/" ] path-component [ "/" path-component ]*
 *   domain      := host [ ":" port-number ]
 *   host        := domain-name | "[" [a-fA-F0-9:]+ "]"
 *   domain-name := domain-component [ "." domain-component ]*
 *   domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
 *   path-component := [a-z0-9]+ ( ( [._] | "__" | [-]+ ) [a-z0-9]+ )*
 *   tag         := [\w][\w.-]{0,127}
 *   digest      := algorithm ":" [0-9a-fA-F]{32,}
 *   algorithm   := [A-Za-z][A-Za-z0-9]* ( [-_+.] [A-Za-z][A-Za-z0-9]* )*
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sigil/reference.h>
#include "bounds.h"
#include "errors.h"

/* reference.go RepositoryNameTotalLengthMax; since v0.6.0 it bounds the
 * path only, not the domain (commit aaca75e "Exclude domain from name
 * length check") */
#define NAME_TOTAL_LENGTH_MAX 255
#define TAG_MAX 128

struct sigil_reference {
	char *domain;
	char *path;
	char *repository;
	char *tag;
	char *digest;
	char *string;
};

static bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
static bool is_alnum(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z'); }
static bool is_word(char c) { return is_alnum(c) || c == '_'; }
static bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
static bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
static bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }

/* path-component (regexp.go pathComponent) */
static bool match_path_component(const char *s, size_t n)
{
	size_t i = 0;
	if (n == 0 || !is_lower_alnum(s[0]))
		return false;
	while (i < n) {
		while (i < n && is_lower_alnum(s[i]))
			i++;
		if (i == n)
			return true;
		/* separator: [._] | __ | [-]+ ; then at least one alphanumeric */
		if (s[i] == '.')
			i++;
		else if (s[i] == '_')
			i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
		else if (s[i] == '-')
			while (i < n && s[i] == '-')
				i++;
		else
			return false;
		if (i >= n || !is_lower_alnum(s[i]))
			return false;
	}
	return true;
}

/* remote name: path-component ( "/" path-component )* */
static bool match_path(const char *s, size_t n)
{
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '/') {
			if (!match_path_component(s + start, i - start))
				return false;
			start = i + 1;
		}
	}
	return true;
}

static bool match_domain_component(const char *s, size_t n)
{
	if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return false;
	for (size_t i = 1; i + 1 < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

/* domainAndPort (regexp.go): host optionalPort */
static bool match_domain(const char *s, size_t n)
{
	size_t hostlen;
	if (n > 0 && s[0] == '[') {
		size_t i = 1;
		while (i < n && (is_hex(s[i]) || s[i] == ':'))
			i++;
		if (i == 1 || i >= n || s[i] != ']')
			return false;
		hostlen = i + 1;
	} else {
		hostlen = 0;
		while (hostlen < n && s[hostlen] != ':')
			hostlen++;
		size_t start = 0;
		for (size_t i = 0; i <= hostlen; i++) {
			if (i == hostlen || s[i] == '.') {
				if (!match_domain_component(s + start, i - start))
					return false;
				start = i + 1;
			}
		}
	}
	if (hostlen == n)
		return true;
	if (s[hostlen] != ':' || hostlen + 1 == n)
		return false;
	for (size_t i = hostlen + 1; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static bool match_tag(const char *s, size_t n)
{
	if (n == 0 || n > TAG_MAX || !is_word(s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!is_word(s[i]) && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

/* digestPat (regexp.go); *alglen gets the algorithm's length */
static bool match_digest(const char *s, size_t n, size_t *alglen)
{
	size_t i = 0;
	for (;;) {
		if (i >= n || !((s[i] >= 'a' && s[i] <= 'z') || is_upper(s[i])))
			return false;
		i++;
		while (i < n && is_alnum(s[i]))
			i++;
		if (i < n && (s[i] == '-' || s[i] == '_' || s[i] == '+' || s[i] == '.')) {
			i++;
			continue;
		}
		break;
	}
	if (i >= n || s[i] != ':')
		return false;
	*alglen = i;
	size_t hex = n - i - 1;
	if (hex < 32)
		return false;
	for (size_t j = i + 1; j < n; j++)
		if (!is_hex(s[j]))
			return false;
	return true;
}

static char *dupn(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/* concatenation of up to 5 pieces into a new string */
static char *cat(const char *a, const char *b, const char *c, const char *d, const char *e)
{
	const char *parts[5] = { a, b, c, d, e };
	size_t len = 0;
	for (int i = 0; i < 5; i++)
		len += parts[i] ? strlen(parts[i]) : 0;
	char *out = malloc(len + 1);
	if (!out)
		return NULL;
	size_t o = 0;
	for (int i = 0; i < 5; i++) {
		if (!parts[i])
			continue;
		size_t l = strlen(parts[i]);
		memcpy(out + o, parts[i], l);
		o += l;
	}
	out[o] = '\0';
	return out;
}

SIGIL_EXPORT void sigil_reference_free(sigil_reference *ref)
{
	if (!ref)
		return;
	free(ref->domain);
	free(ref->path);
	free(ref->repository);
	free(ref->tag);
	free(ref->digest);
	free(ref->string);
	free(ref);
}

SIGIL_EXPORT sigil_status sigil_reference_parse(sigil_reference **out, const char *s,
	int imply_latest, sigil_error *err)
{
	if (!out || !s)
		return sigil__err(err, SIGIL_ERR_USAGE, "reference: no input");
	size_t n = strnlen(s, SIGIL_MAX_REFERENCE_LENGTH + 1);
	if (n > SIGIL_MAX_REFERENCE_LENGTH)
		return sigil__err(err, SIGIL_ERR_LIMIT, "reference longer than %d characters",
			SIGIL_MAX_REFERENCE_LENGTH);
	/* reference.go Parse: ErrNameEmpty */
	if (n == 0)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "repository name must have at least one component");

	/* normalize.go ParseNormalizedNamed: a bare 64-hex string is an image
	 * ID, not a name */
	if (n == 64) {
		size_t i = 0;
		while (i < 64 && is_lower_hex(s[i]))
			i++;
		if (i == 64)
			return sigil__err(err, SIGIL_ERR_MALFORMED,
				"invalid repository name (%s), cannot specify 64-byte hexadecimal strings", s);
	}

	/* normalize.go splitDockerDomain: the first component is a domain if it
	 * is "localhost", contains '.' or ':', or has an upper-case letter
	 * (upper case is not allowed in a path, so it must be a host name);
	 * else the domain is docker.io. A single component is always a Docker
	 * Hub name ("localhost:5000" is docker.io/library/localhost, tag 5000);
	 * "index.docker.io" is docker.io; a one-component path on docker.io
	 * gets "library/". */
	const char *domain = "docker.io";
	size_t domlen = strlen(domain);
	const char *rem = s;
	bool library = false;
	const char *slash = memchr(s, '/', n);
	if (!slash) {
		library = true;
	} else {
		size_t fl = (size_t)(slash - s);
		bool is_domain = (fl == 9 && memcmp(s, "localhost", 9) == 0) ||
			memchr(s, '.', fl) || memchr(s, ':', fl);
		for (size_t i = 0; i < fl && !is_domain; i++)
			if (is_upper(s[i]))
				is_domain = true;
		if (fl == 15 && memcmp(s, "index.docker.io", 15) == 0) {
			rem = slash + 1;
		} else if (is_domain) {
			domain = s;
			domlen = fl;
			rem = slash + 1;
		}
	}
	size_t remlen = n - (size_t)(rem - s);

	/* path ends at the first ':' or '@' (neither can occur in a path) */
	size_t plen = 0;
	while (plen < remlen && rem[plen] != ':' && rem[plen] != '@')
		plen++;
	if (domlen == 9 && memcmp(domain, "docker.io", 9) == 0 && !memchr(rem, '/', plen))
		library = true;

	/* normalize.go ParseNormalizedNamed: the remote name (up to the first
	 * ':') must be lower case */
	size_t colon = 0;
	while (colon < remlen && rem[colon] != ':')
		colon++;
	for (size_t i = 0; i < colon; i++)
		if (is_upper(rem[i]))
			return sigil__err(err, SIGIL_ERR_MALFORMED,
				"invalid reference format: repository name (%s%.*s) must be lowercase",
				library ? "library/" : "", (int)colon, rem);

	if (!match_domain(domain, domlen)) {
		/* distribution would reread "foo_bar.com/x" as a domain-less name;
		 * a reference without a registry is of no use for discovery */
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			"invalid reference format: invalid registry domain \"%.*s\"", (int)domlen, domain);
	}
	if (!match_path(rem, plen))
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			"invalid reference format: invalid repository path \"%.*s\"", (int)plen, rem);

	const char *tag = NULL, *dig = NULL;
	size_t taglen = 0, diglen = 0;
	size_t i = plen;
	if (i < remlen && rem[i] == ':') {
		tag = rem + i + 1;
		while (i + 1 + taglen < remlen && tag[taglen] != '@')
			taglen++;
		if (!match_tag(tag, taglen))
			return sigil__err(err, SIGIL_ERR_MALFORMED,
				"invalid reference format: invalid tag \"%.*s\"", (int)(taglen > 140 ? 140 : taglen), tag);
		i += 1 + taglen;
	}
	size_t alglen = 0;
	if (i < remlen) {
		/* rem[i] == '@' here: a path or tag stops only at ':' / '@' */
		dig = rem + i + 1;
		diglen = remlen - i - 1;
		if (!match_digest(dig, diglen, &alglen))
			return sigil__err(err, SIGIL_ERR_MALFORMED,
				"invalid reference format: invalid digest \"%.*s\"", (int)diglen, dig);
	}

	/* reference.go Parse: ErrNameTooLong, on the path (with "library/") */
	size_t pathtotal = plen + (library ? 8 : 0);
	if (pathtotal > NAME_TOTAL_LENGTH_MAX)
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			"repository name must not be more than %d characters", NAME_TOTAL_LENGTH_MAX);

	if (dig) {
		/* go-digest Digest.Validate: known algorithm, exact length, lower-
		 * case hex. OCI image-spec registers sha256 and sha512. */
		size_t want = 0;
		if (alglen == 6 && memcmp(dig, "sha256", 6) == 0)
			want = 64;
		else if (alglen == 6 && memcmp(dig, "sha512", 6) == 0)
			want = 128;
		else
			return sigil__err(err, SIGIL_ERR_UNSUPPORTED,
				"unsupported digest algorithm \"%.*s\"", (int)alglen, dig);
		if (diglen - alglen - 1 != want)
			return sigil__err(err, SIGIL_ERR_MALFORMED, "invalid checksum digest length");
		for (size_t j = alglen + 1; j < diglen; j++)
			if (!is_lower_hex(dig[j]))
				return sigil__err(err, SIGIL_ERR_MALFORMED, "invalid checksum digest format");
	}

	sigil_reference *r = calloc(1, sizeof *r);
	if (!r)
		return sigil__err_oom(err);
	char *p = dupn(rem, plen);
	r->domain = dupn(domain, domlen);
	r->path = p ? cat(library ? "library/" : "", p, NULL, NULL, NULL) : NULL;
	free(p);
	if (tag)
		r->tag = dupn(tag, taglen);
	else
		r->tag = dupn(imply_latest && !dig ? "latest" : "", imply_latest && !dig ? 6 : 0);
	r->digest = dig ? dupn(dig, diglen) : dupn("", 0);
	if (r->domain && r->path)
		r->repository = cat(r->domain, "/", r->path, NULL, NULL);
	if (r->repository && r->tag && r->digest)
		r->string = cat(r->repository, r->tag[0] ? ":" : NULL, r->tag[0] ? r->tag : NULL,
			r->digest[0] ? "@" : NULL, r->digest[0] ? r->digest : NULL);
	if (!r->string) {
		sigil_reference_free(r);
		return sigil__err_oom(err);
	}
	*out = r;
	return SIGIL_STATUS_OK;
}

SIGIL_EXPORT const char *sigil_reference_domain(const sigil_reference *ref) { return ref ? ref->domain : NULL; }
SIGIL_EXPORT const char *sigil_reference_path(const sigil_reference *ref) { return ref ? ref->path : NULL; }
SIGIL_EXPORT const char *sigil_reference_repository(const sigil_reference *ref) { return ref ? ref->repository : NULL; }
SIGIL_EXPORT const char *sigil_reference_tag(const sigil_reference *ref) { return ref ? ref->tag : NULL; }
SIGIL_EXPORT const char *sigil_reference_digest(const sigil_reference *ref) { return ref ? ref->digest : NULL; }
SIGIL_EXPORT const char *sigil_reference_string(const sigil_reference *ref) { return ref ? ref->string : NULL; }
