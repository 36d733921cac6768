/* util.h - small helpers shared by sigild's modules (internal). sigild
 * links libsigil's public API only, so it cannot use libverify's
 * sigil__err*; these are the daemon's equivalents. */
#ifndef SIGILD_UTIL_H
#define SIGILD_UTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sigil/error.h>

__attribute__((format(printf, 3, 4)))
static inline sigil_status sigild__err(sigil_error *err, sigil_category cat, const char *fmt, ...)
{
	if (!err)
		return SIGIL_STATUS_ERROR;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	if (n < 0)
		err->message[0] = '\0';
	err->category = cat;
	err->offset = (size_t)-1;
	return SIGIL_STATUS_ERROR;
}

/* sigild__err_wrap - "<context>: <old message>", category kept. */
__attribute__((format(printf, 2, 3)))
static inline sigil_status sigild__err_wrap(sigil_error *err, const char *fmt, ...)
{
	if (!err)
		return SIGIL_STATUS_ERROR;
	char prefix[SIGIL_ERROR_MESSAGE_MAX];
	char old[SIGIL_ERROR_MESSAGE_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	if (n < 0)
		prefix[0] = '\0';
	memcpy(old, err->message, sizeof old);
	old[sizeof old - 1] = '\0';
	snprintf(err->message, sizeof err->message, "%s: %s", prefix, old);
	return SIGIL_STATUS_ERROR;
}

static inline sigil_status sigild__err_oom(sigil_error *err)
{
	return sigild__err(err, SIGIL_ERR_INTERNAL, "out of memory");
}

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
