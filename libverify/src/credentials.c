/* credentials.c - the credential store: docker's config.json (auths,
 * credHelpers, credsStore; docker/cli cli/config/configfile and
 * cli/config/credentials) and kubelet's credential provider plugins
 * (kubecred.c), looked up in credentials.h's order. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "b64.h"
#include "bounds.h"
#include "cleanup.h"
#include "credentials.h"
#include "credentials_internal.h"
#include "errors.h"
#include "fileio.h"
#include "jsonutil.h"

/* docker/cli configfile: Docker Hub's credentials live under the index
 * address of the v1 API, whatever name the image used. */
#define DOCKER_HUB_KEY "https://index.docker.io/v1/"

typedef struct docker_auth {
	char *key;              /* as written in config.json */
	char *host;             /* sigil__docker_hostname(key) */
	sigil__credential cred;
} docker_auth;

typedef struct docker_helper {
	char *key;
	char *host;
	char *name;
} docker_helper;

typedef struct docker_cfg {
	char *path;          /* the config.json consulted, or NULL */
	bool present;        /* whether it existed */
	docker_auth *auths;
	size_t nauths;
	docker_helper *helpers;
	size_t nhelpers;
	char *creds_store;
} docker_cfg;

struct sigil__credstore {
	docker_cfg dc;
	sigil__kube_providers *kube;
};

static void docker_config_clear(docker_cfg *dc)
{
	for (size_t i = 0; i < dc->nauths; i++) {
		free(dc->auths[i].key);
		free(dc->auths[i].host);
		sigil__credential_clear(&dc->auths[i].cred);
	}
	free(dc->auths);
	for (size_t i = 0; i < dc->nhelpers; i++) {
		free(dc->helpers[i].key);
		free(dc->helpers[i].host);
		free(dc->helpers[i].name);
	}
	free(dc->helpers);
	free(dc->creds_store);
	free(dc->path);
	memset(dc, 0, sizeof *dc);
}

static bool is_port(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static char *join_host_port(const char *h, size_t hl, const char *p, size_t pl)
{
	/* net.JoinHostPort brackets a host containing ':' */
	bool br = memchr(h, ':', hl) != NULL;
	size_t n = hl + pl + 4;
	char *r = malloc(n);
	if (!r)
		return NULL;
	snprintf(r, n, "%s%.*s%s:%.*s", br ? "[" : "", (int)hl, h, br ? "]" : "", (int)pl, p);
	return r;
}

char *sigil__docker_hostname(const char *key)
{
	/* cli/config/credentials/file_store.go ConvertToHostname */
	const char *sep = strstr(key, "://");
	if (sep) {
		const char *a = sep + 3;
		size_t alen = strcspn(a, "/?#");
		const char *at = NULL;
		for (size_t i = 0; i < alen; i++)
			if (a[i] == '@')
				at = a + i;
		const char *h = at ? at + 1 : a;
		size_t hl = alen - (size_t)(h - a);
		const char *hostp = NULL, *portp = NULL;
		size_t hostl = 0, portl = 0;
		bool ok = true;
		if (hl > 0 && h[0] == '[') {
			const char *rb = memchr(h, ']', hl);
			if (!rb) {
				ok = false;
			} else {
				hostp = h + 1;
				hostl = (size_t)(rb - h) - 1;
				size_t rest = hl - (size_t)(rb - h) - 1;
				if (rest > 0) {
					if (rb[1] != ':')
						ok = false;
					portp = rb + 2;
					portl = rest - 1;
				}
			}
		} else {
			const char *c = memchr(h, ':', hl);
			hostp = h;
			hostl = c ? (size_t)(c - h) : hl;
			if (c) {
				portp = c + 1;
				portl = hl - hostl - 1;
				if (memchr(portp, ':', portl))
					ok = false;
			}
		}
		if (ok && portp && !is_port(portp, portl))
			ok = false;
		if (ok && hostl > 0) {
			if (portl == 0)
				return strndup(hostp, hostl);
			return join_host_port(hostp, hostl, portp, portl);
		}
		/* hostFromURLFallback */
		const char *rest = sep + 3;
		size_t rl = strcspn(rest, "/");
		if (rl > 0) {
			size_t colons = 0;
			for (size_t i = 0; i < rl; i++)
				colons += rest[i] == ':';
			if (colons > 1 && rest[0] != '[') {
				const char *lc = rest + rl - 1;
				while (*lc != ':')
					lc--;
				size_t al = (size_t)(lc - rest);
				size_t pl = rl - al - 1;
				if (al > 0 && pl > 0 && is_port(lc + 1, pl))
					return join_host_port(rest, al, lc + 1, pl);
			}
			return strndup(rest, rl);
		}
	}
	return strndup(key, strcspn(key, "/"));
}

static bool is_docker_hub(const char *host)
{
	return strcmp(host, "docker.io") == 0 || strcmp(host, "index.docker.io") == 0 ||
		strcmp(host, "registry-1.docker.io") == 0;
}

/* docker/cli configfile.go decodeAuth: base64 as Go's StdEncoding.Decode
 * reads it (sigil__b64std_decode_lenient), then "user:password". */
static sigil_status decode_auth(const char *s, char **user, char **pass, sigil_error *err)
{
	uint8_t *buf = NULL;
	size_t o = 0;
	if (sigil__b64std_decode_lenient(s, strlen(s), &buf, &o, err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "auth");
	uint8_t *colon = memchr(buf, ':', o);
	/* decodeAuth: "user:password" with a non-empty user; NULs around the
	 * password are trimmed */
	size_t ul = colon ? (size_t)(colon - buf) : 0;
	size_t ps = ul + 1, pe = o;
	while (colon && ps < pe && buf[ps] == 0)
		ps++;
	while (colon && pe > ps && buf[pe - 1] == 0)
		pe--;
	if (!colon || ul == 0 || memchr(buf, 0, ul) || memchr(buf + ps, 0, pe - ps)) {
		explicit_bzero(buf, o);
		free(buf);
		return sigil__err(err, SIGIL_ERR_MALFORMED,
			"auth: invalid auth configuration: not base64 of \"username:password\"");
	}
	char *u = strndup((char *)buf, ul), *p = strndup((char *)buf + ps, pe - ps);
	explicit_bzero(buf, o);
	free(buf);
	if (!u || !p) {
		free(u);
		free(p);
		return sigil__err_oom(err);
	}
	*user = u;
	*pass = p;
	return SIGIL_STATUS_OK;
}

static sigil_status dup_opt(json_object *o, const char *key, char **dst, sigil_error *err)
{
	const char *v = NULL;
	bool present = false;
	SIGIL_TRY(sigil__json_get_string(o, key, &v, &present, err));
	if (present && v[0]) {
		free(*dst);
		if (!(*dst = strdup(v)))
			return sigil__err_oom(err);
	}
	return SIGIL_STATUS_OK;
}

static sigil_status parse_auth_entry(const char *key, json_object *v, docker_auth *a,
	sigil_error *err)
{
	if (!json_object_is_type(v, json_type_object))
		return sigil__err(err, SIGIL_ERR_MALFORMED, "auths[\"%.200s\"]: expected an object", key);
	sigil__credential *c = &a->cred;
	if (dup_opt(v, "username", &c->username, err) != SIGIL_STATUS_OK ||
	    dup_opt(v, "password", &c->password, err) != SIGIL_STATUS_OK ||
	    dup_opt(v, "identitytoken", &c->identity_token, err) != SIGIL_STATUS_OK ||
	    dup_opt(v, "registrytoken", &c->registry_token, err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "auths[\"%.200s\"]", key);
	const char *auth = NULL;
	bool present = false;
	if (sigil__json_get_string(v, "auth", &auth, &present, err) != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "auths[\"%.200s\"]", key);
	if (present && auth[0]) {
		/* LoadFromReader: "auth" replaces username and password */
		char *u = NULL, *p = NULL;
		if (decode_auth(auth, &u, &p, err) != SIGIL_STATUS_OK)
			return sigil__err_wrap(err, "auths[\"%.200s\"]", key);
		free(c->username);
		if (c->password)
			explicit_bzero(c->password, strlen(c->password));
		free(c->password);
		c->username = u;
		c->password = p;
	}
	if (!(a->key = strdup(key)) || !(a->host = sigil__docker_hostname(key)))
		return sigil__err_oom(err);
	return SIGIL_STATUS_OK;
}

static sigil_status docker_config_from_json(json_object *root, docker_cfg *dc, sigil_error *err)
{
	json_object *auths = NULL, *helpers = NULL;
	bool present = false;
	SIGIL_TRY(sigil__json_get_object(root, "auths", &auths, &present, err));
	if (present) {
		size_t n = (size_t)json_object_object_length(auths);
		if (n > SIGIL_MAX_CRED_ENTRIES)
			return sigil__err(err, SIGIL_ERR_LIMIT, "auths: more than %d entries",
				SIGIL_MAX_CRED_ENTRIES);
		if (n && !(dc->auths = calloc(n, sizeof *dc->auths)))
			return sigil__err_oom(err);
		json_object_object_foreach(auths, k, v) {
			docker_auth *a = &dc->auths[dc->nauths++];
			SIGIL_TRY(parse_auth_entry(k, v, a, err));
		}
	}
	SIGIL_TRY(sigil__json_get_object(root, "credHelpers", &helpers, &present, err));
	if (present) {
		size_t n = (size_t)json_object_object_length(helpers);
		if (n > SIGIL_MAX_CRED_ENTRIES)
			return sigil__err(err, SIGIL_ERR_LIMIT, "credHelpers: more than %d entries",
				SIGIL_MAX_CRED_ENTRIES);
		if (n && !(dc->helpers = calloc(n, sizeof *dc->helpers)))
			return sigil__err_oom(err);
		json_object_object_foreach(helpers, k, v) {
			if (!json_object_is_type(v, json_type_string))
				return sigil__err(err, SIGIL_ERR_MALFORMED,
					"credHelpers[\"%.200s\"]: expected a string", k);
			const char *name = json_object_get_string(v);
			if (strchr(name, '/'))
				return sigil__err(err, SIGIL_ERR_MALFORMED,
					"credHelpers[\"%.200s\"]: invalid helper name \"%.64s\"", k, name);
			docker_helper *h = &dc->helpers[dc->nhelpers++];
			if (!(h->key = strdup(k)) || !(h->host = sigil__docker_hostname(k)) ||
			    !(h->name = strdup(name)))
				return sigil__err_oom(err);
		}
	}
	const char *store = NULL;
	SIGIL_TRY(sigil__json_get_string(root, "credsStore", &store, &present, err));
	if (present && store[0]) {
		if (strchr(store, '/'))
			return sigil__err(err, SIGIL_ERR_MALFORMED, "credsStore: invalid helper name \"%.64s\"",
				store);
		if (!(dc->creds_store = strdup(store)))
			return sigil__err_oom(err);
	}
	return SIGIL_STATUS_OK;
}

static sigil_status docker_config_parse(const uint8_t *buf, size_t len, docker_cfg *out,
	sigil_error *err)
{
	/* an empty file is an empty configuration (LoadFromReader ignores
	 * io.EOF) */
	size_t i = 0;
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r'))
		i++;
	if (i == len) {
		memset(out, 0, sizeof *out);
		return SIGIL_STATUS_OK;
	}
	json_object *j = NULL;
	SIGIL_TRY(sigil__json_parse_object(buf, len, "docker config", &j, err));
	_cleanup_(json_object_putp) json_object *root = j;
	docker_cfg dc = { 0 };
	if (docker_config_from_json(root, &dc, err) != SIGIL_STATUS_OK) {
		docker_config_clear(&dc);
		return SIGIL_STATUS_ERROR;
	}
	*out = dc;
	return SIGIL_STATUS_OK;
}

static const char *auth_key(const char *domain)
{
	return is_docker_hub(domain) ? DOCKER_HUB_KEY : domain;
}

/* fileStore.Get: the exact key, else the first key whose hostname is the
 * domain; Docker Hub's aliases are one registry. */
static bool key_matches(const char *key, const char *host, const char *domain, bool exact)
{
	if (exact)
		return strcmp(key, auth_key(domain)) == 0;
	if (is_docker_hub(domain))
		return is_docker_hub(host);
	return strcmp(host, domain) == 0;
}

static bool cred_empty(const sigil__credential *c)
{
	return !c->username && !c->password && !c->identity_token && !c->registry_token;
}

static sigil_status cred_copy(sigil__credential *dst, const sigil__credential *src, sigil_error *err)
{
	sigil__credential c = { 0 };
	if ((src->username && !(c.username = strdup(src->username))) ||
	    (src->password && !(c.password = strdup(src->password))) ||
	    (src->identity_token && !(c.identity_token = strdup(src->identity_token))) ||
	    (src->registry_token && !(c.registry_token = strdup(src->registry_token)))) {
		sigil__credential_clear(&c);
		return sigil__err_oom(err);
	}
	*dst = c;
	return SIGIL_STATUS_OK;
}

static const docker_auth *find_auth(const docker_cfg *dc, const char *domain)
{
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < dc->nauths; i++)
			if (key_matches(dc->auths[i].key, dc->auths[i].host, domain, pass == 0))
				return &dc->auths[i];
	return NULL;
}

static const char *find_helper(const docker_cfg *dc, const char *domain)
{
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < dc->nhelpers; i++)
			if (key_matches(dc->helpers[i].key, dc->helpers[i].host, domain, pass == 0))
				return dc->helpers[i].name;
	return NULL;
}

sigil_status sigil__docker_config_parse(const uint8_t *buf, size_t len, const char *domain,
	sigil__credential *out, bool *found, sigil_error *err)
{
	docker_cfg dc;
	SIGIL_TRY(docker_config_parse(buf, len, &dc, err));
	const docker_auth *a = find_auth(&dc, domain);
	sigil_status st = SIGIL_STATUS_OK;
	if (a && !cred_empty(&a->cred)) {
		st = cred_copy(out, &a->cred, err);
		if (st == SIGIL_STATUS_OK)
			*found = true;
	} else {
		*found = false;
	}
	docker_config_clear(&dc);
	return st;
}

sigil_status sigil__cred_read_file(const char *path, const char *what, uint8_t **buf,
	size_t *len, sigil_error *err)
{
	return sigil__file_read(path, what, SIGIL_MAX_CRED_CONFIG_SIZE, 0, buf, len, NULL, err);
}

static sigil_status load_docker_config(const char *path, docker_cfg *dc, sigil_error *err)
{
	_cleanup_free_ char *defpath = NULL;
	if (!path) {
		/* cli/config/config.go: $DOCKER_CONFIG/config.json, else
		 * ~/.docker/config.json */
		const char *dir = secure_getenv("DOCKER_CONFIG");
		const char *home = secure_getenv("HOME");
		size_t n;
		if (dir && dir[0]) {
			n = strlen(dir) + sizeof "/config.json";
			if (!(defpath = malloc(n)))
				return sigil__err_oom(err);
			snprintf(defpath, n, "%s/config.json", dir);
		} else if (home && home[0]) {
			n = strlen(home) + sizeof "/.docker/config.json";
			if (!(defpath = malloc(n)))
				return sigil__err_oom(err);
			snprintf(defpath, n, "%s/.docker/config.json", home);
		} else {
			memset(dc, 0, sizeof *dc);
			return SIGIL_STATUS_OK;
		}
		path = defpath;
	}
	uint8_t *b = NULL;
	size_t len = 0;
	SIGIL_TRY(sigil__file_read(path, "docker config", SIGIL_MAX_CRED_CONFIG_SIZE, SIGIL__FILE_MISSING_OK, &b,
		&len, NULL, err));
	if (!b) {
		memset(dc, 0, sizeof *dc);
		dc->path = strdup(path);
		return dc->path ? SIGIL_STATUS_OK : sigil__err_oom(err);
	}
	sigil_status st = docker_config_parse(b, len, dc, err);
	if (st == SIGIL_STATUS_OK) {
		dc->present = true;
		if (!(dc->path = strdup(path)))
			st = sigil__err_oom(err);
	}
	explicit_bzero(b, len);
	free(b);
	if (st != SIGIL_STATUS_OK)
		return sigil__err_wrap(err, "docker config %s", path);
	return SIGIL_STATUS_OK;
}

sigil_status sigil__credstore_new(sigil__credstore **out, const char *docker_config,
	const char *provider_config, const char *provider_bin_dir, sigil_error *err)
{
	if (!out || (provider_config && !provider_bin_dir) || (!provider_config && provider_bin_dir))
		return sigil__err(err, SIGIL_ERR_USAGE,
			"credential provider config and plugin directory go together");
	sigil__credstore *cs = calloc(1, sizeof *cs);
	if (!cs)
		return sigil__err_oom(err);
	if (load_docker_config(docker_config, &cs->dc, err) != SIGIL_STATUS_OK ||
	    (provider_config &&
	     sigil__kube_config_load(provider_config, provider_bin_dir, &cs->kube, err) !=
		     SIGIL_STATUS_OK)) {
		sigil__credstore_free(cs);
		return SIGIL_STATUS_ERROR;
	}
	*out = cs;
	return SIGIL_STATUS_OK;
}

void sigil__credstore_describe(const sigil__credstore *cs, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s%s%s", cs->dc.path ? "docker config " : "no docker config",
		cs->dc.path ? cs->dc.path : "", cs->dc.path && !cs->dc.present ? " (absent)" : "");
	if (n < 0 || (size_t)n >= len)
		return;
	if (cs->dc.creds_store || cs->dc.nhelpers)
		n += snprintf(buf + n, len - (size_t)n, " with its credential helpers");
	if (n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, "%s",
			cs->kube ? ", kubelet credential providers" : ", no kubelet credential providers configured");
}

void sigil__credstore_free(sigil__credstore *cs)
{
	if (!cs)
		return;
	docker_config_clear(&cs->dc);
	sigil__kube_providers_free(cs->kube);
	free(cs);
}

sigil_status sigil__credstore_lookup(sigil__credstore *cs, const char *domain, const char *image,
	int64_t deadline_ms, sigil__credential *out, bool *found, sigil_error *err)
{
	if (!cs || !domain || !out || !found)
		return sigil__err(err, SIGIL_ERR_USAGE, "credential lookup: missing argument");
	sigil__credential c = { 0 };
	bool have = false;

	/* credentials.h: kubelet plugins first (the node's own source for
	 * ECR/ACR/GAR), then docker's helpers, then inline auths */
	if (cs->kube && image) {
		SIGIL_TRY(sigil__kube_lookup(cs->kube, image, deadline_ms, &c, &have, err));
		if (have)
			goto done;
	}
	/* GetCredentialsStore: credHelpers[key], else credsStore; the helper
	 * is asked for the same key docker would ask it for */
	const char *helper = find_helper(&cs->dc, domain);
	if (helper) {
		if (sigil__credhelper_get(helper, auth_key(domain), deadline_ms, &c, &have, err) !=
		    SIGIL_STATUS_OK)
			return sigil__err_wrap(err, "credentials for %s (credHelpers)", domain);
		if (have)
			goto done;
	}
	if (cs->dc.creds_store) {
		if (sigil__credhelper_get(cs->dc.creds_store, auth_key(domain), deadline_ms, &c, &have,
			err) != SIGIL_STATUS_OK)
			return sigil__err_wrap(err, "credentials for %s (credsStore)", domain);
		if (have)
			goto done;
	}
	const docker_auth *a = find_auth(&cs->dc, domain);
	if (a && !cred_empty(&a->cred)) {
		SIGIL_TRY(cred_copy(&c, &a->cred, err));
		have = true;
	}
done:
	if (have)
		*out = c;
	*found = have;
	return SIGIL_STATUS_OK;
}
