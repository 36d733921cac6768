/* fuzz-dn.c - sigil__dn_parse over arbitrary bytes (as an x509.subject
 * identity value), and the same bytes as a DER Name for
 * sigil__dn_from_name. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/x509.h>
#include "dn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sigil__dn dn = { .count = 0 };
	sigil_error err = SIGIL_ERROR_INIT;
	if (sigil__dn_parse((const char *)data, size, &dn, &err) == SIGIL_STATUS_OK) {
		if (!sigil__dn_is_subset(&dn, &dn) || dn.count < 3 || dn.count > SIGIL_MAX_DN_ATTRS)
			abort();
		sigil__dn_clear(&dn);
	} else if (err.category == SIGIL_ERR_NONE || dn.count != 0) {
		abort();
	}

	const unsigned char *p = data;
	X509_NAME *name = d2i_X509_NAME(NULL, &p, (long)(size > 65536 ? 65536 : size));
	if (name) {
		sigil__dn from = { .count = 0 };
		sigil_error e2 = SIGIL_ERROR_INIT;
		if (sigil__dn_from_name(name, &from, &e2) == SIGIL_STATUS_OK) {
			if (!sigil__dn_is_subset(&from, &from))
				abort();
			sigil__dn_clear(&from);
		}
		X509_NAME_free(name);
	}
	return 0;
}
