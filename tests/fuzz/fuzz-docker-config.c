/* fuzz-docker-config.c - sigil__docker_config_parse over arbitrary bytes
 * for a few registry names (key normalisation, Docker Hub aliasing, the
 * tolerant base64 of "auth"); the same bytes also go through the kubelet
 * CredentialProviderConfig reader (libyaml to a bounded tree, kubelet's
 * validation; plugins are only stat'ed, never run), and, split in two, through
 * matchImages globbing and Go duration parsing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "credentials.h"
#include "credentials_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_err(const sigil_error *err)
{
	if (err->category == SIGIL_ERR_NONE || memchr(err->message, 0, sizeof err->message) == NULL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *domains[] = { "docker.io", "reg.example.com", "localhost:5000" };
	for (size_t i = 0; i < sizeof domains / sizeof domains[0]; i++) {
		sigil__credential c = { 0 };
		bool found = false;
		sigil_error err = SIGIL_ERROR_INIT;
		if (sigil__docker_config_parse(data, size, domains[i], &c, &found, &err) != SIGIL_STATUS_OK) {
			check_err(&err);
			if (found || c.username || c.password || c.identity_token || c.registry_token)
				abort();
			continue;
		}
		if (found && !c.username && !c.password && !c.identity_token && !c.registry_token)
			abort();
		sigil__credential_clear(&c);
	}

	sigil__kube_providers *kp = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	if (sigil__kube_config_parse(data, size, "fuzz", "/", &kp, &err) != SIGIL_STATUS_OK) {
		check_err(&err);
		if (kp)
			abort();
	}
	sigil__kube_providers_free(kp);

	/* NUL-free halves as C strings */
	if (size > 4096)
		return 0;
	char buf[4097];
	memcpy(buf, data, size);
	buf[size] = 0;
	if (strlen(buf) != size)
		return 0;
	char *nl = strchr(buf, '\n');
	const char *glob = buf, *target = buf;
	if (nl) {
		*nl = 0;
		target = nl + 1;
	}
	if (sigil__kube_url_match(glob, target) && !sigil__kube_schemeless_url_valid(glob, NULL))
		abort();
	char *h = sigil__docker_hostname(buf);
	if (!h)
		abort();
	free(h);
	int64_t ms = 0;
	err = (sigil_error)SIGIL_ERROR_INIT;
	if (sigil__go_duration_parse(buf, &ms, &err) != SIGIL_STATUS_OK)
		check_err(&err);
	return 0;
}
