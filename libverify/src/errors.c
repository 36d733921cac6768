/* errors.c - filling and wrapping sigil_error. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <openssl/err.h>
#include "errors.h"

SIGIL_EXPORT const char *sigil_category_name(sigil_category category)
{
	switch (category) {
	case SIGIL_ERR_NONE: return "none";
	case SIGIL_ERR_USAGE: return "usage";
	case SIGIL_ERR_IO: return "io";
	case SIGIL_ERR_MALFORMED: return "malformed";
	case SIGIL_ERR_CRYPTO: return "crypto";
	case SIGIL_ERR_POLICY: return "policy";
	case SIGIL_ERR_NETWORK: return "network";
	case SIGIL_ERR_LIMIT: return "limit";
	case SIGIL_ERR_UNSUPPORTED: return "unsupported";
	case SIGIL_ERR_INTERNAL: return "internal";
	}
	return "unknown";
}

__attribute__((format(printf, 2, 0)))
static void set_message(sigil_error *err, const char *fmt, va_list ap)
{
	int n = vsnprintf(err->message, sizeof err->message, fmt, ap);
	if (n < 0)
		err->message[0] = '\0';
}

sigil_status sigil__err(sigil_error *err, sigil_category cat, const char *fmt, ...)
{
	if (!err)
		return SIGIL_STATUS_ERROR;
	va_list ap;
	va_start(ap, fmt);
	set_message(err, fmt, ap);
	va_end(ap);
	err->category = cat;
	err->offset = (size_t)-1;
	return SIGIL_STATUS_ERROR;
}

sigil_status sigil__err_at(sigil_error *err, sigil_category cat, size_t offset, const char *fmt, ...)
{
	if (!err)
		return SIGIL_STATUS_ERROR;
	va_list ap;
	va_start(ap, fmt);
	set_message(err, fmt, ap);
	va_end(ap);
	err->category = cat;
	err->offset = offset;
	return SIGIL_STATUS_ERROR;
}

sigil_status sigil__err_wrap(sigil_error *err, const char *fmt, ...)
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
		return SIGIL_STATUS_ERROR;
	memcpy(old, err->message, sizeof old);
	old[sizeof old - 1] = '\0';
	/* "<prefix>: <old>", truncated to the buffer; built by hand because
	 * truncation here is expected, not a bug */
	size_t cap = sizeof err->message - 1, o = 0;
	size_t pl = strlen(prefix), ol = strlen(old);
	if (pl > cap)
		pl = cap;
	memcpy(err->message, prefix, pl);
	o = pl;
	if (o + 2 <= cap) {
		memcpy(err->message + o, ": ", 2);
		o += 2;
	}
	if (ol > cap - o)
		ol = cap - o;
	memcpy(err->message + o, old, ol);
	o += ol;
	err->message[o] = '\0';
	return SIGIL_STATUS_ERROR;
}

sigil_status sigil__err_oom(sigil_error *err)
{
	return sigil__err(err, SIGIL_ERR_INTERNAL, "out of memory");
}

sigil_status sigil__err_openssl(sigil_error *err, sigil_category cat, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	char buf[256] = "unknown error";
	if (e)
		ERR_error_string_n(e, buf, sizeof buf);
	ERR_clear_error();
	return sigil__err(err, cat, "%s: %s", what, buf);
}
