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
		SIGIL_TRY(sigil__yaml_parse(buf, len, &j, err));
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

/* the auth entry keyring.go picks for image (kubeglob.c) */
static ssize_t pick_auth(const kube_auth *a, size_t n, const char *image)
{
	const char **patterns = calloc(n ? n : 1, sizeof *patterns);
	if (!patterns)
		return -1;
	for (size_t i = 0; i < n; i++)
		patterns[i] = a[i].pattern;
	ssize_t best = sigil__kube_best_match(patterns, n, image);
	free(patterns);
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
