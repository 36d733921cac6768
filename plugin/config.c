/* config.c - sigild.json: defaults, parsing and validation. Every key is
 * documented in packaging/sigild.json.md. An unknown key or an invalid
 * value is a startup error that names the key: a typo in a security
 * configuration must not silently fall back to a default. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <json-c/json.h>
#include "config.h"
#include "fileio.h"
#include "metrics_http.h"
#include "jsonutil.h"
#include "util.h"

/* Bounds of the configuration file itself (operator-controlled, but a
 * mistake such as pointing --config at a large file must fail cleanly). */
#define SIGILD_MAX_CONFIG_SIZE (1u * 1024u * 1024u)
#define SIGILD_MAX_CONFIG_DEPTH 8
#define SIGILD_MAX_ALLOW_DIGESTS 4096
#define SIGILD_MAX_PATH 4096
/* libverify's SIGIL_MAX_SIGNATURES (bounds.h): sigil_verify never
 * examines more than that many, so a larger setting would be a lie. */
#define SIGILD_MAX_MAX_SIGNATURES 10000

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

void sigild_config_clear(sigild_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->socket);
	free(cfg->config_dir);
	free(cfg->registry_config);
	free(cfg->docker_config);
	free(cfg->credential_provider_config);
	free(cfg->credential_provider_bin_dir);
	free(cfg->state_dir);
	free(cfg->audit_log);
	free(cfg->revocation_seed_dir);
	free(cfg->metrics_listen);
	for (size_t i = 0; i < cfg->allow_count; i++)
		free(cfg->allow_digests[i]);
	free(cfg->allow_digests);
	memset(cfg, 0, sizeof *cfg);
}

const char *sigild_config_mode_name(sigild_mode mode)
{
	return mode == SIGILD_MODE_DRY_RUN ? "dry-run" : "enforce";
}

sigil_status sigild_config_defaults(sigild_config *cfg, sigil_error *err)
{
	if (!cfg)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigild_config_defaults: missing argument");
	sigild_config c;
	memset(&c, 0, sizeof c);
	c.socket = strdup(SIGILD_DEFAULT_SOCKET);
	c.config_dir = strdup(SIGILD_DEFAULT_CONFIG_DIR);
	c.registry_config = strdup(SIGILD_DEFAULT_REGISTRY_CONFIG);
	c.state_dir = strdup(SIGILD_DEFAULT_STATE_DIR);
	c.audit_log = strdup("");
	c.revocation_seed_dir = strdup("");
	c.metrics_listen = strdup(SIGILD_DEFAULT_METRICS_LISTEN);
	c.revocation_ocsp_timeout_ms = 2000;
	c.revocation_crl_timeout_ms = 5000;
	c.mode = SIGILD_MODE_ENFORCE;
	c.plain_http = false;
	c.max_signatures = 100;
	c.cache_entries = 10000;
	c.cache_max_ttl_s = 3600;
	c.cache_deny_ttl_s = 10;
	c.verify_timeout_ms = 7500;
	c.request_timeout_ms = 3000;
	c.workers = 8;
	c.audit_format = SIGILD_AUDIT_JSON;
	if (!c.socket || !c.config_dir || !c.registry_config || !c.state_dir || !c.audit_log ||
	    !c.revocation_seed_dir || !c.metrics_listen) {
		sigild_config_clear(&c);
		return sigil__err_oom(err);
	}
	*cfg = c;
	return SIGIL_STATUS_OK;
}

sigil_status sigild_config_copy(sigild_config *dst, const sigild_config *src, sigil_error *err)
{
	if (!dst || !src)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigild_config_copy: missing argument");
	sigild_config c = *src;
	c.socket = dup_or_null(src->socket);
	c.config_dir = dup_or_null(src->config_dir);
	c.registry_config = dup_or_null(src->registry_config);
	c.docker_config = dup_or_null(src->docker_config);
	c.credential_provider_config = dup_or_null(src->credential_provider_config);
	c.credential_provider_bin_dir = dup_or_null(src->credential_provider_bin_dir);
	c.state_dir = dup_or_null(src->state_dir);
	c.audit_log = dup_or_null(src->audit_log);
	c.revocation_seed_dir = dup_or_null(src->revocation_seed_dir);
	c.metrics_listen = dup_or_null(src->metrics_listen);
	c.allow_digests = NULL;
	c.allow_count = 0;
	int oom = (src->socket && !c.socket) || (src->config_dir && !c.config_dir) ||
		(src->registry_config && !c.registry_config) ||
		(src->docker_config && !c.docker_config) ||
		(src->credential_provider_config && !c.credential_provider_config) ||
		(src->credential_provider_bin_dir && !c.credential_provider_bin_dir) ||
		(src->state_dir && !c.state_dir) || (src->audit_log && !c.audit_log) ||
		(src->revocation_seed_dir && !c.revocation_seed_dir) ||
		(src->metrics_listen && !c.metrics_listen);
	if (!oom && src->allow_count) {
		c.allow_digests = calloc(src->allow_count, sizeof *c.allow_digests);
		if (!c.allow_digests) {
			oom = 1;
		} else {
			for (size_t i = 0; i < src->allow_count; i++) {
				c.allow_digests[i] = strdup(src->allow_digests[i]);
				if (!c.allow_digests[i]) {
					oom = 1;
					break;
				}
				c.allow_count = i + 1;
			}
		}
	}
	if (oom) {
		sigild_config_clear(&c);
		return sigil__err_oom(err);
	}
	*dst = c;
	return SIGIL_STATUS_OK;
}

/* --- JSON ------------------------------------------------------------ */

/* parse_json - exactly one JSON value from buf[0..len), strict RFC 8259,
 * bounded in size and depth: libverify's bounded parser (jsonutil.c). */
static sigil_status parse_json(const uint8_t *buf, size_t len, json_object **out, sigil_error *err)
{
	if (len > SIGILD_MAX_CONFIG_SIZE)
		return sigil__err(err, SIGIL_ERR_LIMIT, "configuration is %zu bytes, more than the %u allowed",
			len, SIGILD_MAX_CONFIG_SIZE);
	return sigil__json_parse_depth(buf, len, SIGILD_MAX_CONFIG_DEPTH, out, err);
}

/* --- typed values ---------------------------------------------------- */

typedef enum str_rule {
	STR_NONEMPTY,      /* a non-empty string */
	STR_ABSOLUTE,      /* a non-empty absolute path */
	STR_EMPTY_OK,      /* any string; "" has a meaning */
	STR_NULLABLE_PATH, /* null (not used) or a non-empty path */
	STR_EMPTY_OR_ABSOLUTE, /* "" (not used) or an absolute path */
} str_rule;

static sigil_status get_string(json_object *v, const char *key, str_rule rule, char **slot,
	sigil_error *err)
{
	if (json_object_is_type(v, json_type_null)) {
		if (rule != STR_NULLABLE_PATH)
			return sigil__err(err, SIGIL_ERR_MALFORMED, "\"%s\": expected a string, got null", key);
		free(*slot);
		*slot = NULL;
		return SIGIL_STATUS_OK;
	}
	if (!json_object_is_type(v, json_type_string))
		return sigil__err(err, SIGIL_ERR_MALFORMED, "\"%s\": expected a string, got %s", key,
			json_type_to_name(json_object_get_type(v)));
	const char *s = json_object_get_string(v);
	size_t n = (size_t)json_object_get_string_len(v);
	if (strlen(s) != n)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "\"%s\": NUL character in the string", key);
	if (n > SIGILD_MAX_PATH)
		return sigil__err(err, SIGIL_ERR_USAGE, "\"%s\": longer than %d bytes", key, SIGILD_MAX_PATH);
	if (n == 0 && rule != STR_EMPTY_OK && rule != STR_EMPTY_OR_ABSOLUTE)
		return sigil__err(err, SIGIL_ERR_USAGE, "\"%s\": must not be empty%s", key,
			rule == STR_NULLABLE_PATH ? " (use null to leave it unset)" : "");
	if ((rule == STR_ABSOLUTE || (rule == STR_EMPTY_OR_ABSOLUTE && n > 0)) && s[0] != '/')
		return sigil__err(err, SIGIL_ERR_USAGE, "\"%s\": must be an absolute path, got \"%s\"", key, s);
	char *copy = strdup(s);
	if (!copy)
		return sigil__err_oom(err);
	free(*slot);
	*slot = copy;
	return SIGIL_STATUS_OK;
}

static sigil_status get_int(json_object *v, const char *key, int64_t min, int64_t max, int64_t *out,
	sigil_error *err)
{
	/* json-c types 1.0 as a double and 1e3 too; an integer setting is
	 * written as an integer. */
	if (!json_object_is_type(v, json_type_int))
		return sigil__err(err, SIGIL_ERR_MALFORMED, "\"%s\": expected an integer, got %s", key,
			json_type_to_name(json_object_get_type(v)));
	errno = 0;
	int64_t x = json_object_get_int64(v);
	/* json-c clamps out-of-range numbers to INT64_MIN/MAX and sets errno */
	if (errno == ERANGE || x < min || x > max)
		return sigil__err(err, SIGIL_ERR_USAGE, "\"%s\": must be between %lld and %lld, got %s", key,
			(long long)min, (long long)max, json_object_to_json_string(v));
	*out = x;
	return SIGIL_STATUS_OK;
}

static sigil_status get_size(json_object *v, const char *key, int64_t min, int64_t max, size_t *out,
	sigil_error *err)
{
	int64_t x;
	if (get_int(v, key, min, max, &x, err) != SIGIL_STATUS_OK)
		return SIGIL_STATUS_ERROR;
	*out = (size_t)x;
	return SIGIL_STATUS_OK;
}

static sigil_status get_bool(json_object *v, const char *key, bool *out, sigil_error *err)
{
	if (!json_object_is_type(v, json_type_boolean))
		return sigil__err(err, SIGIL_ERR_MALFORMED, "\"%s\": expected true or false, got %s", key,
			json_type_to_name(json_object_get_type(v)));
	*out = json_object_get_boolean(v) != 0;
	return SIGIL_STATUS_OK;
}

static sigil_status get_allow_digests(json_object *v, sigild_config *c, sigil_error *err)
{
	const char *key = "allowDigests";
	if (!json_object_is_type(v, json_type_array))
		return sigil__err(err, SIGIL_ERR_MALFORMED, "\"%s\": expected an array of digests, got %s", key,
			json_type_to_name(json_object_get_type(v)));
	size_t n = json_object_array_length(v);
	if (n > SIGILD_MAX_ALLOW_DIGESTS)
		return sigil__err(err, SIGIL_ERR_LIMIT, "\"%s\": %zu entries, more than the %d allowed", key, n,
			SIGILD_MAX_ALLOW_DIGESTS);
	char **list = n ? calloc(n, sizeof *list) : NULL;
	if (n && !list)
		return sigil__err_oom(err);
	size_t count = 0;
	sigil_status st = SIGIL_STATUS_OK;
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(v, i);
		if (!json_object_is_type(e, json_type_string)) {
			st = sigil__err(err, SIGIL_ERR_MALFORMED, "\"%s[%zu]\": expected a string, got %s", key, i,
				json_type_to_name(json_object_get_type(e)));
			break;
		}
		const char *s = json_object_get_string(e);
		if (strlen(s) != (size_t)json_object_get_string_len(e) || !sigild__digest_valid(s)) {
			/* the digest is compared byte for byte with containerd's
			 * -digest, so only the canonical form can ever match */
			st = sigil__err(err, SIGIL_ERR_USAGE,
				"\"%s[%zu]\": \"%.200s\" is not a digest (sha256:<64 lower-case hex> or "
				"sha512:<128 lower-case hex>)", key, i, s);
			break;
		}
		list[i] = strdup(s);
		if (!list[i]) {
			st = sigil__err_oom(err);
			break;
		}
		count = i + 1;
	}
	if (st != SIGIL_STATUS_OK) {
		for (size_t i = 0; i < count; i++)
			free(list[i]);
		free(list);
		return st;
	}
	for (size_t i = 0; i < c->allow_count; i++)
		free(c->allow_digests[i]);
	free(c->allow_digests);
	c->allow_digests = list;
	c->allow_count = count;
	return SIGIL_STATUS_OK;
}

static sigil_status apply_cache(json_object *obj, sigild_config *c, sigil_error *err)
{
	if (!json_object_is_type(obj, json_type_object))
		return sigil__err(err, SIGIL_ERR_MALFORMED, "\"cache\": expected an object, got %s",
			json_type_to_name(json_object_get_type(obj)));
	json_object_object_foreach(obj, key, v) {
		sigil_status st;
		if (strcmp(key, "maxEntries") == 0)
			st = get_size(v, "cache.maxEntries", 1, 1000000, &c->cache_entries, err);
		else if (strcmp(key, "maxAllowSeconds") == 0)
			st = get_int(v, "cache.maxAllowSeconds", 0, 7 * 86400, &c->cache_max_ttl_s, err);
		else if (strcmp(key, "denySeconds") == 0)
			st = get_int(v, "cache.denySeconds", 0, 3600, &c->cache_deny_ttl_s, err);
		else
			st = sigil__err(err, SIGIL_ERR_USAGE,
				"unknown key \"cache.%.200s\" (known: maxEntries, maxAllowSeconds, denySeconds)", key);
		if (st != SIGIL_STATUS_OK)
			return st;
	}
	return SIGIL_STATUS_OK;
}

static sigil_status apply_revocation(json_object *obj, sigild_config *c, sigil_error *err)
{
	if (!json_object_is_type(obj, json_type_object))
		return sigil__err(err, SIGIL_ERR_MALFORMED, "\"revocation\": expected an object, got %s",
			json_type_to_name(json_object_get_type(obj)));
	json_object_object_foreach(obj, key, v) {
		sigil_status st;
		/* the spec (§6) has revocation endpoints fetched over http: the
		 * responses are signed, and https would make checking one
		 * certificate's status depend on another's */
		if (strcmp(key, "allowHttps") == 0)
			st = get_bool(v, "revocation.allowHttps", &c->revocation_allow_https, err);
		else if (strcmp(key, "ocspTimeoutMs") == 0)
			st = get_int(v, "revocation.ocspTimeoutMs", 100, 60000, &c->revocation_ocsp_timeout_ms, err);
		else if (strcmp(key, "crlTimeoutMs") == 0)
			st = get_int(v, "revocation.crlTimeoutMs", 100, 60000, &c->revocation_crl_timeout_ms, err);
		else
			st = sigil__err(err, SIGIL_ERR_USAGE,
				"unknown key \"revocation.%.200s\" (known: allowHttps, ocspTimeoutMs, crlTimeoutMs)", key);
		if (st != SIGIL_STATUS_OK)
			return st;
	}
	return SIGIL_STATUS_OK;
}

static sigil_status apply_key(const char *key, json_object *v, sigild_config *c, sigil_error *err)
{
	if (strcmp(key, "socket") == 0) {
		if (get_string(v, key, STR_ABSOLUTE, &c->socket, err) != SIGIL_STATUS_OK)
			return SIGIL_STATUS_ERROR;
		/* a unix socket path must fit sockaddr_un.sun_path with its NUL */
		if (strlen(c->socket) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return sigil__err(err, SIGIL_ERR_USAGE, "\"socket\": longer than %zu bytes (unix socket limit)",
				sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		return SIGIL_STATUS_OK;
	}
	if (strcmp(key, "configDir") == 0)
		return get_string(v, key, STR_NONEMPTY, &c->config_dir, err);
	if (strcmp(key, "registryConfig") == 0)
		return get_string(v, key, STR_EMPTY_OK, &c->registry_config, err);
	if (strcmp(key, "dockerConfig") == 0)
		return get_string(v, key, STR_NULLABLE_PATH, &c->docker_config, err);
	if (strcmp(key, "credentialProviderConfig") == 0)
		return get_string(v, key, STR_NULLABLE_PATH, &c->credential_provider_config, err);
	if (strcmp(key, "credentialProviderBinDir") == 0)
		return get_string(v, key, STR_NULLABLE_PATH, &c->credential_provider_bin_dir, err);
	if (strcmp(key, "stateDir") == 0)
		return get_string(v, key, STR_NONEMPTY, &c->state_dir, err);
	if (strcmp(key, "auditLog") == 0)
		return get_string(v, key, STR_EMPTY_OK, &c->audit_log, err);
	if (strcmp(key, "revocationSeedDir") == 0)
		return get_string(v, key, STR_EMPTY_OR_ABSOLUTE, &c->revocation_seed_dir, err);
	if (strcmp(key, "mode") == 0) {
		if (!json_object_is_type(v, json_type_string))
			return sigil__err(err, SIGIL_ERR_MALFORMED, "\"mode\": expected a string, got %s",
				json_type_to_name(json_object_get_type(v)));
		const char *s = json_object_get_string(v);
		if (strcmp(s, "enforce") == 0)
			c->mode = SIGILD_MODE_ENFORCE;
		else if (strcmp(s, "dry-run") == 0)
			c->mode = SIGILD_MODE_DRY_RUN;
		else
			return sigil__err(err, SIGIL_ERR_USAGE,
				"\"mode\": must be \"enforce\" or \"dry-run\", got \"%.200s\"", s);
		return SIGIL_STATUS_OK;
	}
	if (strcmp(key, "auditFormat") == 0) {
		if (!json_object_is_type(v, json_type_string))
			return sigil__err(err, SIGIL_ERR_MALFORMED, "\"auditFormat\": expected a string, got %s",
				json_type_to_name(json_object_get_type(v)));
		const char *s = json_object_get_string(v);
		if (strcmp(s, "json") == 0)
			c->audit_format = SIGILD_AUDIT_JSON;
		else if (strcmp(s, "text") == 0)
			c->audit_format = SIGILD_AUDIT_TEXT;
		else
			return sigil__err(err, SIGIL_ERR_USAGE,
				"\"auditFormat\": must be \"json\" or \"text\", got \"%.200s\"", s);
		return SIGIL_STATUS_OK;
	}
	if (strcmp(key, "plainHttp") == 0)
		return get_bool(v, key, &c->plain_http, err);
	if (strcmp(key, "maxSignatures") == 0)
		return get_size(v, key, 1, SIGILD_MAX_MAX_SIGNATURES, &c->max_signatures, err);
	if (strcmp(key, "cache") == 0)
		return apply_cache(v, c, err);
	if (strcmp(key, "revocation") == 0)
		return apply_revocation(v, c, err);
	if (strcmp(key, "verifyTimeoutMs") == 0)
		return get_int(v, key, 100, 600000, &c->verify_timeout_ms, err);
	if (strcmp(key, "requestTimeoutMs") == 0)
		return get_int(v, key, 100, 600000, &c->request_timeout_ms, err);
	if (strcmp(key, "workers") == 0)
		return get_size(v, key, 1, 256, &c->workers, err);
	if (strcmp(key, "allowDigests") == 0)
		return get_allow_digests(v, c, err);
	if (strcmp(key, "metricsListen") == 0) {
		if (get_string(v, key, STR_EMPTY_OK, &c->metrics_listen, err) != SIGIL_STATUS_OK)
			return SIGIL_STATUS_ERROR;
		/* checked now: a typo is a startup error naming the key, not a
		 * missing endpoint discovered later */
		struct sockaddr_storage sa;
		socklen_t sl;
		if (c->metrics_listen[0] &&
		    sigild_metrics_listen_parse(c->metrics_listen, &sa, &sl, err) != SIGIL_STATUS_OK)
			return sigil__err_wrap(err, "\"metricsListen\"");
		return SIGIL_STATUS_OK;
	}
	return sigil__err(err, SIGIL_ERR_USAGE, "unknown key \"%.200s\" (see sigild.json.md for the keys)", key);
}

sigil_status sigild_config_parse(sigild_config *cfg, const uint8_t *buf, size_t len, sigil_error *err)
{
	if (!cfg || (!buf && len))
		return sigil__err(err, SIGIL_ERR_USAGE, "sigild_config_parse: missing argument");
	json_object *root = NULL;
	if (parse_json(buf ? buf : (const uint8_t *)"", len, &root, err) != SIGIL_STATUS_OK)
		return SIGIL_STATUS_ERROR;
	if (!json_object_is_type(root, json_type_object)) {
		sigil_status st = sigil__err(err, SIGIL_ERR_MALFORMED,
			"the configuration must be a JSON object, got %s",
			json_type_to_name(json_object_get_type(root)));
		json_object_put(root);
		return st;
	}
	/* apply to a copy: on failure cfg stays as it was */
	sigild_config c;
	if (sigild_config_copy(&c, cfg, err) != SIGIL_STATUS_OK) {
		json_object_put(root);
		return SIGIL_STATUS_ERROR;
	}
	sigil_status st = SIGIL_STATUS_OK;
	json_object_object_foreach(root, key, v) {
		st = apply_key(key, v, &c, err);
		if (st != SIGIL_STATUS_OK)
			break;
	}
	json_object_put(root);
	/* kubelet takes both or neither (--image-credential-provider-*) */
	if (st == SIGIL_STATUS_OK && (!c.credential_provider_config) != (!c.credential_provider_bin_dir))
		st = sigil__err(err, SIGIL_ERR_USAGE,
			"\"%s\" is set but \"%s\" is not: kubelet credential providers need both",
			c.credential_provider_config ? "credentialProviderConfig" : "credentialProviderBinDir",
			c.credential_provider_config ? "credentialProviderBinDir" : "credentialProviderConfig");
	if (st != SIGIL_STATUS_OK) {
		sigild_config_clear(&c);
		return st;
	}
	sigild_config_clear(cfg);
	*cfg = c;
	return SIGIL_STATUS_OK;
}

sigil_status sigild_config_load(sigild_config *cfg, const char *path, bool path_is_default,
	sigil_error *err)
{
	if (!cfg || !path)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigild_config_load: missing argument");
	sigild_config c;
	if (sigild_config_defaults(&c, err) != SIGIL_STATUS_OK)
		return SIGIL_STATUS_ERROR;
	uint8_t *buf = NULL;
	size_t len = 0;
	if (sigil__file_read(path, NULL, SIGILD_MAX_CONFIG_SIZE, SIGIL__FILE_MISSING_OK, &buf, &len, NULL,
		err) != SIGIL_STATUS_OK) {
		sigild_config_clear(&c);
		return SIGIL_STATUS_ERROR;
	}
	if (!buf) {
		if (path_is_default) {
			*cfg = c;
			return SIGIL_STATUS_OK;
		}
		sigild_config_clear(&c);
		return sigil__err(err, SIGIL_ERR_IO, "%s: no such file", path);
	}
	sigil_status st = sigild_config_parse(&c, buf, len, err);
	free(buf);
	if (st != SIGIL_STATUS_OK) {
		sigild_config_clear(&c);
		return sigil__err_wrap(err, "%s", path);
	}
	*cfg = c;
	return SIGIL_STATUS_OK;
}
