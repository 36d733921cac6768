/* errors.h - filling and wrapping sigil_error (internal). */
#ifndef SIGIL_ERRORS_H
#define SIGIL_ERRORS_H

#include <sigil/error.h>

#define SIGIL__PRINTF(a, b) __attribute__((format(printf, a, b)))

/* sigil__err - set category and message (printf-style); always returns
 * SIGIL_STATUS_ERROR so callers can `return sigil__err(...)`. err may be
 * NULL. Resets offset to (size_t)-1. */
sigil_status sigil__err(sigil_error *err, sigil_category cat, const char *fmt, ...) SIGIL__PRINTF(3, 4);

/* sigil__err_at - like sigil__err, recording the input offset. */
sigil_status sigil__err_at(sigil_error *err, sigil_category cat, size_t offset, const char *fmt, ...) SIGIL__PRINTF(4, 5);

/* sigil__err_wrap - prefix context to an error already set: the message
 * becomes "<context>: <old message>"; category and offset are kept.
 * Returns SIGIL_STATUS_ERROR. */
sigil_status sigil__err_wrap(sigil_error *err, const char *fmt, ...) SIGIL__PRINTF(2, 3);

/* sigil__err_oom - SIGIL_ERR_INTERNAL "out of memory". */
sigil_status sigil__err_oom(sigil_error *err);

/* sigil__err_openssl - set an error of category cat with message
 * "<what>: <first OpenSSL error string>" and clear OpenSSL's error queue. */
sigil_status sigil__err_openssl(sigil_error *err, sigil_category cat, const char *what);

/* Guard macros in the style of s2n: propagate failure. */
#define SIGIL_TRY(expr) do { if ((expr) != SIGIL_STATUS_OK) return SIGIL_STATUS_ERROR; } while (0)

#endif
