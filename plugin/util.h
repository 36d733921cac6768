/* util.h - small helpers shared by sigild's modules (internal). Errors are
 * filled with libverify's sigil__err* (errors.h), which sigild compiles in. */
#ifndef SIGILD_UTIL_H
#define SIGILD_UTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sigil/error.h>
#include "errors.h"

/* sigild__digest_valid - "sha256:<64 lower hex>" or "sha512:<128 lower
 * hex>", the digests containerd passes and registries accept. */
static inline int sigild__digest_valid(const char *d)
{
	size_t hexlen;
	if (!d)
		return 0;
	if (strncmp(d, "sha256:", 7) == 0)
		hexlen = 64;
	else if (strncmp(d, "sha512:", 7) == 0)
		hexlen = 128;
	else
		return 0;
	const char *h = d + 7;
	size_t i = 0;
	for (; h[i]; i++) {
		if (i >= hexlen)
			return 0;
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return 0;
	}
	return i == hexlen;
}

#endif
