/* fuzz-sigild-config.c - sigild_config_parse over arbitrary bytes, applied
 * over the defaults. On failure the error is filled and the configuration
 * untouched; on success every invariant sigild relies on holds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sigild_config c;
	sigil_error err = SIGIL_ERROR_INIT;
	if (sigild_config_defaults(&c, &err) != SIGIL_STATUS_OK)
		abort();
	if (sigild_config_parse(&c, data, size, &err) != SIGIL_STATUS_OK) {
		if (err.category == SIGIL_ERR_NONE || memchr(err.message, 0, sizeof err.message) == NULL)
			abort();
		/* untouched: still the defaults */
		if (strcmp(c.socket, SIGILD_DEFAULT_SOCKET) != 0 || c.workers != 8 || c.allow_count != 0)
			abort();
		sigild_config_clear(&c);
		return 0;
	}
	if (!c.socket || c.socket[0] != '/' || !c.config_dir || !c.config_dir[0] || !c.state_dir ||
	    !c.registry_config || !c.audit_log)
		abort();
	if (c.workers < 1 || c.workers > 256 || c.cache_entries < 1 || c.max_signatures < 1 ||
	    c.cache_max_ttl_s < 0 || c.cache_deny_ttl_s < 0 || c.verify_timeout_ms < 100 ||
	    c.request_timeout_ms < 100)
		abort();
	if ((c.credential_provider_config == NULL) != (c.credential_provider_bin_dir == NULL))
		abort();
	for (size_t i = 0; i < c.allow_count; i++)
		if (strncmp(c.allow_digests[i], "sha", 3) != 0)
			abort();
	/* a copy round-trips */
	sigild_config d;
	if (sigild_config_copy(&d, &c, &err) != SIGIL_STATUS_OK)
		abort();
	if (strcmp(d.socket, c.socket) != 0 || d.allow_count != c.allow_count)
		abort();
	sigild_config_clear(&d);
	sigild_config_clear(&c);
	return 0;
}
