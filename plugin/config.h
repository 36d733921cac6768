/* config.h - sigild's configuration file (/etc/sigil/sigild.json, JSON via
 * json-c). Every key has a default and is documented in
 * packaging/sigild.json.md; unknown keys and invalid values are errors that
 * name the key. Command-line options override the file. */
#ifndef SIGILD_CONFIG_H
#define SIGILD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sigil/error.h>

#define SIGILD_DEFAULT_CONFIG_FILE "/etc/sigil/sigild.json"
#define SIGILD_DEFAULT_SOCKET "/run/sigil/sigild.sock"
#define SIGILD_DEFAULT_CONFIG_DIR "/etc/sigil"
#define SIGILD_DEFAULT_REGISTRY_CONFIG "/etc/containerd/certs.d"
#define SIGILD_DEFAULT_STATE_DIR "/var/lib/sigil"
/* loopback only: the DaemonSet chooses to expose it to the cluster */
#define SIGILD_DEFAULT_METRICS_LISTEN "127.0.0.1:9464"

typedef enum sigild_mode {
	SIGILD_MODE_ENFORCE = 0,
	SIGILD_MODE_DRY_RUN,
} sigild_mode;

typedef enum sigild_audit_format {
	SIGILD_AUDIT_JSON = 0,        /* one JSON object per line */
	SIGILD_AUDIT_TEXT,            /* one human-readable line */
} sigild_audit_format;

typedef struct sigild_config {
	char *socket;                 /* "socket" */
	char *config_dir;             /* "configDir": trustpolicy + truststore */
	char *registry_config;        /* "registryConfig": hosts.toml dir ("" = none) */
	char *docker_config;          /* "dockerConfig": NULL = docker's default */
	char *credential_provider_config;  /* "credentialProviderConfig" */
	char *credential_provider_bin_dir; /* "credentialProviderBinDir" */
	char *state_dir;              /* "stateDir" */
	char *audit_log;              /* "auditLog": file path, "" = stderr */
	sigild_mode mode;             /* "mode": "enforce" | "dry-run" */
	bool plain_http;              /* "plainHttp" */
	size_t max_signatures;        /* "maxSignatures" (100) */
	size_t cache_entries;         /* "cache.maxEntries" (10000) */
	int64_t cache_max_ttl_s;      /* "cache.maxAllowSeconds" (3600) */
	int64_t cache_deny_ttl_s;     /* "cache.denySeconds" (10) */
	int64_t verify_timeout_ms;    /* "verifyTimeoutMs" (7500): < the forwarder's 8 s */
	int64_t request_timeout_ms;   /* "requestTimeoutMs" (3000) */
	size_t workers;               /* "workers" (8) */
	char **allow_digests;         /* "allowDigests": break-glass allow-list */
	size_t allow_count;
	/* additions (keep at the end) */
	sigild_audit_format audit_format; /* "auditFormat": "json" | "text" */
	/* "revocationSeedDir": offline CRLs / OCSP responses ("" = none),
	 * sigil_revocation_options.seed_dir */
	char *revocation_seed_dir;
	/* "revocation": {"allowHttps", "ocspTimeoutMs", "crlTimeoutMs"}, the
	 * sigil_revocation_options of every verification and of the refresher */
	bool revocation_allow_https;      /* false: http endpoints only (spec §6) */
	int64_t revocation_ocsp_timeout_ms; /* 2000 */
	int64_t revocation_crl_timeout_ms;  /* 5000 */
	/* "metricsListen": "<IPv4>:<port>" or "[<IPv6>]:<port>" of the
	 * Prometheus / probe endpoint (docs/metrics.md), "" = none */
	char *metrics_listen;
} sigild_config;

/* sigild_config_defaults - fill every field with its default. */
SIGIL_MUST_CHECK sigil_status sigild_config_defaults(sigild_config *cfg, sigil_error *err);

/* sigild_config_parse - apply a configuration document over cfg (which
 * holds defaults). SIGIL_ERR_MALFORMED / SIGIL_ERR_USAGE naming the key. */
SIGIL_MUST_CHECK sigil_status sigild_config_parse(sigild_config *cfg, const uint8_t *buf,
	size_t len, sigil_error *err);

/* sigild_config_load - defaults, then the file at path if it exists (a
 * missing file is fine only when path is the default one). *cfg is
 * overwritten (not freed first); on failure it is untouched. */
SIGIL_MUST_CHECK sigil_status sigild_config_load(sigild_config *cfg, const char *path,
	bool path_is_default, sigil_error *err);

/* sigild_config_copy - deep copy of src into *dst (dst is overwritten, not
 * freed). On failure *dst is untouched. */
SIGIL_MUST_CHECK sigil_status sigild_config_copy(sigild_config *dst, const sigild_config *src,
	sigil_error *err);

/* sigild_config_mode_name - "enforce" / "dry-run". */
const char *sigild_config_mode_name(sigild_mode mode);

/* sigild_config_clear - free every owned field; NULL-safe; leaves cfg
 * zeroed (not defaults). */
void sigild_config_clear(sigild_config *cfg);

#endif
