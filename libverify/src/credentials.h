/* credentials.h - the registry credentials a node already has: docker's
 * config.json (auths, credHelpers, credsStore) and kubelet's credential
 * provider plugins (CredentialProviderConfig + the exec
 * CredentialProviderRequest/Response API, credentialprovider.kubelet.k8s.io
 * v1), with the plugins' cache durations honoured. containerd gives a
 * verifier no credentials, so these are the only way to private images. */
#ifndef SIGIL_CREDENTIALS_H
#define SIGIL_CREDENTIALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sigil/error.h>
#include "auth.h"

typedef struct sigil__credstore sigil__credstore;

/* sigil__credstore_new - docker_config: path of config.json (NULL: default
 * location; missing file = no docker credentials). provider_config /
 * provider_bin_dir: kubelet's credential provider config file (YAML or
 * JSON) and plugin directory (both NULL: none). Files are read and
 * validated here; an invalid file is an error naming it. */
SIGIL_MUST_CHECK sigil_status sigil__credstore_new(sigil__credstore **out,
	const char *docker_config, const char *provider_config,
	const char *provider_bin_dir, sigil_error *err);
void sigil__credstore_free(sigil__credstore *cs);

/* sigil__credstore_lookup - credentials for registry `domain` (normalised:
 * "docker.io" matches docker's "https://index.docker.io/v1/" key) and
 * image `image` (the full normalised reference, for kubelet plugins'
 * matchImages). Order: kubelet plugins whose matchImages match, then
 * credHelpers[domain], then credsStore, then auths. Helpers and plugins
 * run with a timeout that ends by deadline_ms. *found false when nothing
 * applies. out cleared with sigil__credential_clear. */
SIGIL_MUST_CHECK sigil_status sigil__credstore_lookup(sigil__credstore *cs,
	const char *domain, const char *image, int64_t deadline_ms,
	sigil__credential *out, bool *found, sigil_error *err);

/* sigil__credstore_describe - where credentials were looked for, for
 * messages ("docker config /root/.docker/config.json (absent), no kubelet
 * credential providers configured"). */
void sigil__credstore_describe(const sigil__credstore *cs, char *buf, size_t len);

/* sigil__docker_config_parse - validate a config.json document (for the
 * fuzz target and tests): returns the credential stored inline for
 * `domain` in auths ("auth" base64 user:pass, "username"/"password",
 * "identitytoken", "registrytoken"), if any. */
SIGIL_MUST_CHECK sigil_status sigil__docker_config_parse(const uint8_t *buf, size_t len,
	const char *domain, sigil__credential *out, bool *found, sigil_error *err);

#endif
