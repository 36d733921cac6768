/* fuzz-www-authenticate.c - sigil__www_authenticate_parse over arbitrary
 * bytes: never reads past len, never crashes, and a success yields
 * NUL-terminated, in-bounds, lower-case schemes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sigil__challenge ch[SIGIL_MAX_CHALLENGES];
	memset(ch, 0x5a, sizeof(ch));
	size_t n = 12345;
	sigil_error err = SIGIL_ERROR_INIT;
	if (sigil__www_authenticate_parse((const char *)data, size, ch, SIGIL_MAX_CHALLENGES, &n,
		&err) == SIGIL_STATUS_OK) {
		if (n == 0 || n > SIGIL_MAX_CHALLENGES || err.category != SIGIL_ERR_NONE)
			abort();
		for (size_t i = 0; i < n; i++) {
			if (!memchr(ch[i].scheme, 0, sizeof(ch[i].scheme)) ||
			    !memchr(ch[i].realm, 0, sizeof(ch[i].realm)) ||
			    !memchr(ch[i].service, 0, sizeof(ch[i].service)) ||
			    !memchr(ch[i].scope, 0, sizeof(ch[i].scope)) || !ch[i].scheme[0])
				abort();
			for (const char *p = ch[i].scheme; *p; p++)
				if (*p >= 'A' && *p <= 'Z')
					abort();
		}
	} else if (n != 12345 || err.category == SIGIL_ERR_NONE ||
		   ((const unsigned char *)ch)[0] != 0x5a) {
		abort();
	}
	/* a small max exercises the challenge bound */
	size_t n1 = 0;
	sigil__challenge one;
	sigil_error e1 = SIGIL_ERROR_INIT;
	if (sigil__www_authenticate_parse((const char *)data, size, &one, 1, &n1, &e1)
	    == SIGIL_STATUS_OK && n1 != 1)
		abort();
	return 0;
}
