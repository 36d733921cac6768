/* fileio.c - reading a whole file under a size cap; see fileio.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "errors.h"
#include "fileio.h"

static sigil_status fail(sigil__file_why *why, sigil__file_problem problem, int errnum, sigil_error *err,
	sigil_category cat, const char *what, const char *path, const char *detail)
{
	if (why) {
		why->problem = problem;
		why->errnum = errnum;
	}
	return sigil__err(err, cat, "%s%s%s: %s", what ? what : "", what ? " " : "", path, detail);
}

static sigil_status fail_errno(sigil__file_why *why, sigil__file_problem problem, int errnum,
	sigil_error *err, const char *what, const char *path)
{
	char eb[128];
	/* GNU strerror_r (_GNU_SOURCE): thread-safe, unlike strerror */
	return fail(why, problem, errnum, err, SIGIL_ERR_IO, what, path, strerror_r(errnum, eb, sizeof eb));
}

static sigil_status fail_limit(sigil__file_why *why, sigil_error *err, const char *what, const char *path,
	size_t max)
{
	if (why) {
		why->problem = SIGIL__FILE_TOO_LARGE;
		why->errnum = 0;
	}
	return sigil__err(err, SIGIL_ERR_LIMIT, "%s%s%s: larger than %zu bytes", what ? what : "",
		what ? " " : "", path, max);
}

/* read_all - read fd to EOF into a buffer grown from hint + 1 up to
 * max + 1 bytes: one byte past the cap shows a file that grew after fstat. */
static sigil_status read_all(int fd, size_t hint, size_t max, uint8_t **out, size_t *out_len,
	sigil__file_why *why, sigil_error *err, const char *what, const char *path)
{
	size_t cap = (hint < max ? hint : max) + 1, n = 0;
	uint8_t *buf = malloc(cap);
	if (!buf) {
		if (why)
			*why = (sigil__file_why){ SIGIL__FILE_NOMEM, 0 };
		return sigil__err_oom(err);
	}
	for (;;) {
		if (n == cap) {
			if (cap > max) {
				free(buf);
				return fail_limit(why, err, what, path, max);
			}
			size_t ncap = cap > (max + 1) / 2 ? max + 1 : cap * 2;
			uint8_t *nb = realloc(buf, ncap);
			if (!nb) {
				free(buf);
				if (why)
					*why = (sigil__file_why){ SIGIL__FILE_NOMEM, 0 };
				return sigil__err_oom(err);
			}
			buf = nb;
			cap = ncap;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			free(buf);
			return fail_errno(why, SIGIL__FILE_READ, e, err, what, path);
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max) {
		free(buf);
		return fail_limit(why, err, what, path, max);
	}
	*out = buf;
	*out_len = n;
	return SIGIL_STATUS_OK;
}

sigil_status sigil__file_read_at(int dirfd, const char *path, const char *what, size_t max,
	unsigned flags, uint8_t **buf, size_t *len, sigil__file_why *why, sigil_error *err)
{
	if (!path || !buf || !len || max >= SIZE_MAX)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigil__file_read_at: bad argument");
	/* O_NONBLOCK: a FIFO in the file's place does not block the open (it
	 * is refused below); it has no effect on reading a regular file. */
	int oflags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	if (flags & SIGIL__FILE_NOFOLLOW)
		oflags |= O_NOFOLLOW;
	int fd = openat(dirfd, path, oflags);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT && (flags & SIGIL__FILE_MISSING_OK)) {
			if (why)
				*why = (sigil__file_why){ SIGIL__FILE_OK, 0 };
			*buf = NULL;
			*len = 0;
			return SIGIL_STATUS_OK;
		}
		return fail_errno(why, SIGIL__FILE_OPEN, e, err, what, path);
	}
	struct stat st;
	sigil_status rc;
	if (fstat(fd, &st) != 0)
		rc = fail_errno(why, SIGIL__FILE_READ, errno, err, what, path);
	else if (!S_ISREG(st.st_mode))
		rc = fail(why, SIGIL__FILE_NOT_REGULAR, 0, err, SIGIL_ERR_IO, what, path,
			S_ISDIR(st.st_mode) ? "not a regular file (it is a directory)" : "not a regular file");
	else if (st.st_size < 0 || (uint64_t)st.st_size > max)
		rc = fail_limit(why, err, what, path, max);
	else
		rc = read_all(fd, (size_t)st.st_size, max, buf, len, why, err, what, path);
	close(fd);
	if (rc == SIGIL_STATUS_OK && why)
		*why = (sigil__file_why){ SIGIL__FILE_OK, 0 };
	return rc;
}

sigil_status sigil__file_read(const char *path, const char *what, size_t max, unsigned flags,
	uint8_t **buf, size_t *len, sigil__file_why *why, sigil_error *err)
{
	return sigil__file_read_at(AT_FDCWD, path, what, max, flags, buf, len, why, err);
}
