/* fuzz-hosts.c - sigil__hosts_parse (and through it the TOML reader) over
 * arbitrary bytes; the first byte picks the registry domain and plain_http
 * so the localhost and docker.io defaults are exercised too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "hosts.h"
#include "toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *domains[] = { "x.io", "docker.io", "localhost:5000", "127.0.0.1", "[::1]:5000" };
	unsigned sel = size ? data[0] : 0;
	const char *domain = domains[(sel & 0x7f) % 5];
	int plain_http = (sel & 0x80) != 0;

	sigil__registry_hosts h = { NULL, 0 };
	sigil_error err = SIGIL_ERROR_INIT;
	if (sigil__hosts_parse(data, size, "/etc/containerd/certs.d/x.io", domain, plain_http, &h, &err)
			== SIGIL_STATUS_OK) {
		if (h.count == 0)
			abort();
		for (size_t i = 0; i < h.count; i++) {
			const sigil__registry_host *x = &h.hosts[i];
			if ((strcmp(x->scheme, "https") != 0 && strcmp(x->scheme, "http") != 0) || !x->host[0])
				abort();
			if (x->http_fallback && strcmp(x->scheme, "https") != 0)
				abort();
			for (size_t j = 0; j < x->ca_count; j++)
				if (x->ca_files[j][0] != '/')
					abort();
			for (size_t j = 0; j < x->header_count; j++)
				if (strpbrk(x->header_values[j], "\r\n"))
					abort();
		}
		sigil__hosts_clear(&h);
	} else if (err.category == SIGIL_ERR_NONE || h.count != 0 || h.hosts) {
		abort();
	}

	sigil__toml_value *v = NULL;
	sigil_error e2 = SIGIL_ERROR_INIT;
	if (sigil__toml_parse(data, size, &v, &e2) == SIGIL_STATUS_OK) {
		if (!v || v->type != SIGIL_TOML_TABLE)
			abort();
		sigil__toml_free(v);
	} else if (v || e2.category == SIGIL_ERR_NONE) {
		abort();
	}
	return 0;
}
