/* sigil/error.h - categorized errors filled by every fallible libsigil call.
 *
 * A fallible function returns sigil_status (0 on success, -1 on failure) and,
 * on failure, fills a caller-owned sigil_error. On success the error is left
 * untouched. "This signature does not verify" is not an error: it is a
 * verdict, reported through sigil_result (see verify.h).
 */
#ifndef SIGIL_ERROR_H
#define SIGIL_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SIGIL_MUST_CHECK __attribute__((warn_unused_result))
#define SIGIL_EXPORT __attribute__((visibility("default")))
#else
#define SIGIL_MUST_CHECK
#define SIGIL_EXPORT
#endif

typedef enum sigil_status {
	SIGIL_STATUS_OK = 0,
	SIGIL_STATUS_ERROR = -1,
} sigil_status;

typedef enum sigil_category {
	SIGIL_ERR_NONE = 0,
	SIGIL_ERR_USAGE,     /* caller passed something invalid */
	SIGIL_ERR_IO,        /* file system or OS failure */
	SIGIL_ERR_MALFORMED, /* input does not parse or breaks a format rule */
	SIGIL_ERR_CRYPTO,    /* a signature or digest does not verify */
	SIGIL_ERR_POLICY,    /* trust policy / trust store is invalid or rejects */
	SIGIL_ERR_NETWORK,   /* a remote peer failed or misbehaved */
	SIGIL_ERR_LIMIT,     /* an input exceeded a bound from limits.h */
	SIGIL_ERR_UNSUPPORTED, /* valid but not supported (algorithm, plugin...) */
	SIGIL_ERR_INTERNAL,  /* allocation failure or a bug */
} sigil_category;

#define SIGIL_ERROR_MESSAGE_MAX 1024

typedef struct sigil_error {
	sigil_category category;
	/* offset in the input where the problem was found, or (size_t)-1 */
	size_t offset;
	char message[SIGIL_ERROR_MESSAGE_MAX];
} sigil_error;

#define SIGIL_ERROR_INIT { SIGIL_ERR_NONE, (size_t)-1, { 0 } }

/* sigil_category_name - a stable lower-case name for a category
 * ("malformed", "crypto", ...). Returns a static string. */
SIGIL_EXPORT const char *sigil_category_name(sigil_category category);

#ifdef __cplusplus
}
#endif

#endif
