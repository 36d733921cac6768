/* fileio.h - reading a whole file under a size cap (internal).
 *
 * Every configuration, trust store, layout and cache file sigil reads goes
 * through sigil__file_read_at, so the habits are in one place: open with
 * O_CLOEXEC and O_NONBLOCK (a FIFO does not block the open), fstat the
 * descriptor rather than the path, refuse anything but a regular file, cap
 * the size before allocating, and read to the cap plus one byte because the
 * file may grow after fstat. Shared with plugin/ and cli/, which compile
 * this file in (libsigil exports only its public API). */
#ifndef SIGIL_FILEIO_H
#define SIGIL_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <sigil/error.h>

/* Refuse a symlink as the last path component (O_NOFOLLOW): the open fails
 * with ELOOP, reported as SIGIL__FILE_OPEN. */
#define SIGIL__FILE_NOFOLLOW 0x1u
/* A file that does not exist is success with *buf NULL and *len 0. */
#define SIGIL__FILE_MISSING_OK 0x2u

/* What went wrong, for callers whose messages are fixed elsewhere (the
 * Notary Project's wording for trust policies and trust stores). */
typedef enum sigil__file_problem {
	SIGIL__FILE_OK = 0,
	SIGIL__FILE_OPEN,        /* open(2) failed: errnum */
	SIGIL__FILE_NOT_REGULAR, /* a directory, FIFO, device or socket */
	SIGIL__FILE_TOO_LARGE,   /* more than max bytes, at fstat or while reading */
	SIGIL__FILE_READ,        /* fstat(2) or read(2) failed: errnum */
	SIGIL__FILE_NOMEM,
} sigil__file_problem;

typedef struct sigil__file_why {
	sigil__file_problem problem;
	int errnum; /* errno for SIGIL__FILE_OPEN and SIGIL__FILE_READ, else 0 */
} sigil__file_why;

/* sigil__file_read_at - read the regular file at path (relative to dirfd,
 * or AT_FDCWD) of at most max bytes into a malloc'd *buf (caller frees;
 * never NULL on success unless SIGIL__FILE_MISSING_OK and missing).
 *
 * Errors name the file as "<what> <path>" (or "<path>" when what is NULL):
 *   SIGIL_ERR_IO    "...: <strerror>" (open, fstat, read)
 *   SIGIL_ERR_IO    "...: not a regular file" (" (it is a directory)")
 *   SIGIL_ERR_LIMIT "...: larger than <max> bytes"
 * why (may be NULL) says which, so a caller can reword. On failure the
 * outputs are untouched. */
sigil_status sigil__file_read_at(int dirfd, const char *path, const char *what, size_t max,
	unsigned flags, uint8_t **buf, size_t *len, sigil__file_why *why, sigil_error *err)
	SIGIL_MUST_CHECK;

/* sigil__file_read - sigil__file_read_at relative to the working directory. */
sigil_status sigil__file_read(const char *path, const char *what, size_t max, unsigned flags,
	uint8_t **buf, size_t *len, sigil__file_why *why, sigil_error *err)
	SIGIL_MUST_CHECK;

#endif
