/* hosts.h - containerd's registry host configuration (hosts.toml under
 * config_path, containerd docs/hosts.md and remotes/docker/config): the
 * ordered list of hosts to try for a registry, with TLS and headers. */
#ifndef SIGIL_HOSTS_H
#define SIGIL_HOSTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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
	/* containerd's docker.NewHTTPFallback (core/remotes/docker/
	 * resolver.go): scheme is "https", but when the server answers the TLS
	 * handshake in plain HTTP ("HTTP/" record header) or the port refuses
	 * TLS, the request is retried over http, and later requests to this
	 * host go straight to http. Set for a localhost default host on a port
	 * other than 80/443 and for http hosts that have TLS settings
	 * (hosts.go ConfigureHosts). */
	bool http_fallback;
	/* hosts.toml dial_timeout in milliseconds (rounded up); 0: default */
	uint64_t dial_timeout_ms;
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
 * (localhost, 127.0.0.0/8, ::1, with any port) is treated as containerd
 * 2.1 does (hosts.go ConfigureHosts): no port or 443 -> https with
 * skip_verify; port 80 -> http; any other port -> https with skip_verify
 * and http_fallback. plain_http is containerd's DefaultScheme "http": the
 * default host (no `server`) uses plain http; hosts written with a scheme
 * in hosts.toml keep it. The directory searched is the first that exists
 * of <hosts_dir>/<host>_<port>_, <hosts_dir>/<domain>, <hosts_dir>/_default
 * (config_unix.go hostPaths); one without hosts.toml contributes Docker's
 * certs.d files (*.crt CAs, *.cert / *.key client pairs) to the default
 * host. hosts_dir may be NULL.
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
