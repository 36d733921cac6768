/* sigil/registry.h - signature discovery from OCI distribution registries:
 * referrers API with the tag-schema fallback, authentication with the
 * node's credentials, containerd's hosts.toml, deadlines. */
#ifndef SIGIL_REGISTRY_H
#define SIGIL_REGISTRY_H

#include <stdint.h>
#include <sigil/error.h>
#include <sigil/reference.h>
#include <sigil/source.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A long-lived registry client: configuration, reusable connections,
 * cached tokens and credentials. Safe to use from one thread at a time. */
typedef struct sigil_registry sigil_registry;

typedef struct sigil_registry_options {
	unsigned version;
	/* containerd's hosts.toml directory (config_path), e.g.
	 * "/etc/containerd/certs.d"; NULL: no hosts.toml. */
	const char *hosts_dir;
	/* docker config.json; NULL: $DOCKER_CONFIG/config.json, else
	 * $HOME/.docker/config.json (a missing file means no credentials). */
	const char *docker_config;
	/* kubelet's CredentialProviderConfig file and plugin directory
	 * (kubelet's --image-credential-provider-config and
	 * --image-credential-provider-bin-dir); NULL: not used. */
	const char *credential_provider_config;
	const char *credential_provider_bin_dir;
	/* Use plain HTTP for every registry (notation's --plain-http). */
	int plain_http;
	/* Deadline for one request, milliseconds (0: 5000). */
	int64_t request_timeout_ms;
	/* Version 2: called once per HTTP request to a registry host (not to
	 * a token server) with the host ("127.0.0.1:5000", as hosts.toml
	 * resolved it) and the HTTP status, or 0 when no response arrived
	 * (connection, TLS, timeout). For the caller's metrics: the library
	 * keeps no counters of its own. Called from whichever thread uses the
	 * registry, so it must be thread-safe; NULL: not called. */
	void (*on_request)(void *ctx, const char *host, long http_status);
	void *on_request_ctx;
} sigil_registry_options;

/* Version 1 callers (without on_request) are still accepted. */
#define SIGIL_REGISTRY_OPTIONS_VERSION 2
#define SIGIL_REGISTRY_OPTIONS_INIT { SIGIL_REGISTRY_OPTIONS_VERSION, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL }

/* sigil_registry_new - validate the options and read the configuration
 * files they name (hosts.toml files are read per registry, on first use).
 * *out owned by the caller. */
SIGIL_EXPORT SIGIL_MUST_CHECK sigil_status sigil_registry_new(sigil_registry **out,
	const sigil_registry_options *opts, sigil_error *err);

SIGIL_EXPORT void sigil_registry_free(sigil_registry *reg);

/* sigil_registry_resolve_tag - resolve ref's tag to the manifest
 * descriptor it names now (done once, by the CLI; never at pull time).
 * Fails with SIGIL_ERR_USAGE if ref has no tag. */
SIGIL_EXPORT SIGIL_MUST_CHECK sigil_status sigil_registry_resolve_tag(sigil_registry *reg,
	const sigil_reference *ref, int64_t deadline_ms, sigil_descriptor *out, sigil_error *err);

/* sigil_registry_source - a signature source for ref's repository, for one
 * verification that must finish by `deadline_ms` (CLOCK_MONOTONIC
 * milliseconds, see sigil_registry_now_ms; 0: 30 s from now). The source
 * borrows reg, which must outlive it. */
SIGIL_EXPORT SIGIL_MUST_CHECK sigil_status sigil_registry_source(sigil_registry *reg,
	const sigil_reference *ref, int64_t deadline_ms, sigil_source **out, sigil_error *err);

/* sigil_registry_now_ms - CLOCK_MONOTONIC in milliseconds. */
SIGIL_EXPORT int64_t sigil_registry_now_ms(void);

#ifdef __cplusplus
}
#endif

#endif
