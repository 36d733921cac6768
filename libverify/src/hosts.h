/* hosts.h - containerd's registry host configuration (hosts.toml under
 * config_path, containerd docs/hosts.md and remotes/docker/config): the
 * ordered list of hosts to try for a registry, with TLS and headers. */
#ifndef SIGIL_HOSTS_H
#define SIGIL_HOSTS_H

#include <stdbool.h>
#include <stddef.h>
#include <sigil/error.h>

enum {
	SIGIL_HOST_CAP_PULL = 1,
	SIGIL_HOST_CAP_RESOLVE = 2,
	SIGIL_HOST_CAP_PUSH = 4,
};

typedef struct sigil__registry_host {
	char scheme[8];          /* "https" or "http" */
	char host[256];          /* host[:port] */
	char path[512];          /* API root: "/v2" unless override_path */
	unsigned caps;           /* SIGIL_HOST_CAP_* */
	char **ca_files;         /* extra CA bundles (PEM), absolute paths */
	size_t ca_count;
	char **client_certs;     /* client certificate / key pairs */
	char **client_keys;      /* NULL entry when the cert file holds the key */
	size_t client_count;
	bool skip_verify;
	char **header_names;     /* extra request headers */
	char **header_values;
	size_t header_count;
} sigil__registry_host;

typedef struct sigil__registry_hosts {
	sigil__registry_host *hosts;
	size_t count;
} sigil__registry_hosts;

/* sigil__hosts_resolve - the hosts to try for registry `domain` (as in the
 * normalised reference: "docker.io", "127.0.0.1:5000"), in containerd's
 * order: the [host."…"] entries of <hosts_dir>/<domain>/hosts.toml (else
 * <hosts_dir>/_default/hosts.toml) in file order, then `server` (default:
 * https://<domain>, with docker.io -> registry-1.docker.io). Relative ca /
 * client paths are resolved against the hosts.toml directory. Without a
 * hosts.toml the single default host is returned; a localhost domain
 * (localhost, 127.0.0.0/8, ::1, with any port) uses http as containerd
 * does; plain_http forces http everywhere. hosts_dir may be NULL.
 * Errors: SIGIL_ERR_MALFORMED naming the file and line. out is cleared with
 * sigil__hosts_clear. */
SIGIL_MUST_CHECK sigil_status sigil__hosts_resolve(const char *hosts_dir, const char *domain,
	int plain_http, sigil__registry_hosts *out, sigil_error *err);

/* sigil__hosts_parse - the same from hosts.toml bytes (for tests and the
 * fuzz target); `dir` resolves relative paths (may be NULL). */
SIGIL_MUST_CHECK sigil_status sigil__hosts_parse(const uint8_t *buf, size_t len,
	const char *dir, const char *domain, int plain_http, sigil__registry_hosts *out,
	sigil_error *err);

void sigil__hosts_clear(sigil__registry_hosts *hosts);

#endif
