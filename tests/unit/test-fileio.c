/* test-fileio.c - the bounded whole-file reader (fileio.h) and Go's
 * path.Clean (pathclean.h) that libverify, sigild and the CLI share. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fileio.h"
#include "pathclean.h"
#include "check.h"

static char dir[] = "/tmp/sigil-test-fileio-XXXXXX";

static const char *at(const char *name)
{
	static char p[2][4200];
	static int i;
	i ^= 1;
	snprintf(p[i], sizeof p[i], "%s/%s", dir, name);
	return p[i];
}

static void put(const char *name, const char *data, size_t len)
{
	FILE *f = fopen(at(name), "wb");
	CHECK(f != NULL);
	if (f) {
		CHECK_INTEQ(fwrite(data, 1, len, f), len);
		fclose(f);
	}
}

/* expect_fail - the exact category, problem and message text */
static void expect_fail(const char *name, const char *what, size_t max, unsigned flags,
	sigil_category cat, sigil__file_problem problem, const char *msg)
{
	uint8_t *buf = (uint8_t *)"untouched";
	size_t len = 77;
	sigil__file_why why = { SIGIL__FILE_OK, -1 };
	sigil_error e = SIGIL_ERROR_INIT;
	CHECK_INTEQ(sigil__file_read(at(name), what, max, flags, &buf, &len, &why, &e), SIGIL_STATUS_ERROR);
	CHECK_INTEQ(e.category, cat);
	CHECK_INTEQ(why.problem, problem);
	CHECK_CONTAINS(e.message, msg);
	CHECK_STREQ((const char *)buf, "untouched");
	CHECK_INTEQ(len, 77);
}

static void test_read(void)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	sigil_error e = SIGIL_ERROR_INIT;
	put("ten", "0123456789", 10);
	/* exactly at the cap */
	CHECK_INTEQ(sigil__file_read(at("ten"), NULL, 10, 0, &buf, &len, NULL, &e), SIGIL_STATUS_OK);
	CHECK_INTEQ(len, 10);
	CHECK(buf && memcmp(buf, "0123456789", 10) == 0);
	free(buf);
	/* one byte over */
	char m[4400];
	snprintf(m, sizeof m, "config %s: larger than 9 bytes", at("ten"));
	expect_fail("ten", "config", 9, 0, SIGIL_ERR_LIMIT, SIGIL__FILE_TOO_LARGE, m);
	/* empty: success with a buffer, not "missing" */
	put("empty", "", 0);
	buf = NULL;
	CHECK_INTEQ(sigil__file_read(at("empty"), NULL, 10, SIGIL__FILE_MISSING_OK, &buf, &len, NULL, &e),
		SIGIL_STATUS_OK);
	CHECK(buf != NULL);
	CHECK_INTEQ(len, 0);
	free(buf);
	/* relative to a directory descriptor */
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(dfd >= 0);
	buf = NULL;
	CHECK_INTEQ(sigil__file_read_at(dfd, "ten", NULL, 100, 0, &buf, &len, NULL, &e), SIGIL_STATUS_OK);
	CHECK_INTEQ(len, 10);
	free(buf);
	close(dfd);
}

static void test_missing(void)
{
	uint8_t *buf = (uint8_t *)"x";
	size_t len = 5;
	sigil_error e = SIGIL_ERROR_INIT;
	sigil__file_why why;
	CHECK_INTEQ(sigil__file_read(at("absent"), NULL, 10, SIGIL__FILE_MISSING_OK, &buf, &len, &why, &e),
		SIGIL_STATUS_OK);
	CHECK(buf == NULL);
	CHECK_INTEQ(len, 0);
	char m[4400];
	snprintf(m, sizeof m, "%s: No such file or directory", at("absent"));
	expect_fail("absent", NULL, 10, 0, SIGIL_ERR_IO, SIGIL__FILE_OPEN, m);
	CHECK_INTEQ(sigil__file_read(at("absent"), NULL, 10, 0, &buf, &len, &why, &e), SIGIL_STATUS_ERROR);
	CHECK_INTEQ(why.errnum, ENOENT);
}

static void test_not_regular(void)
{
	CHECK(mkdir(at("sub"), 0700) == 0);
	char m[4400];
	snprintf(m, sizeof m, "%s: not a regular file (it is a directory)", at("sub"));
	expect_fail("sub", NULL, 10, 0, SIGIL_ERR_IO, SIGIL__FILE_NOT_REGULAR, m);
	/* a FIFO is refused without blocking the open */
	CHECK(mkfifo(at("fifo"), 0600) == 0);
	snprintf(m, sizeof m, "%s: not a regular file", at("fifo"));
	expect_fail("fifo", NULL, 10, 0, SIGIL_ERR_IO, SIGIL__FILE_NOT_REGULAR, m);
	/* a symlink is followed unless NOFOLLOW, which refuses it with ELOOP */
	CHECK(symlink("ten", at("link")) == 0);
	uint8_t *buf = NULL;
	size_t len = 0;
	sigil_error e = SIGIL_ERROR_INIT;
	CHECK_INTEQ(sigil__file_read(at("link"), NULL, 10, 0, &buf, &len, NULL, &e), SIGIL_STATUS_OK);
	CHECK_INTEQ(len, 10);
	free(buf);
	snprintf(m, sizeof m, "%s: Too many levels of symbolic links", at("link"));
	expect_fail("link", NULL, 10, SIGIL__FILE_NOFOLLOW, SIGIL_ERR_IO, SIGIL__FILE_OPEN, m);
	/* a dangling one too, even with MISSING_OK */
	CHECK(symlink("nowhere", at("dangling")) == 0);
	snprintf(m, sizeof m, "%s: Too many levels of symbolic links", at("dangling"));
	expect_fail("dangling", NULL, 10, SIGIL__FILE_NOFOLLOW | SIGIL__FILE_MISSING_OK, SIGIL_ERR_IO,
		SIGIL__FILE_OPEN, m);
}

static void test_path_clean(void)
{
	static const char *const cases[][2] = {
		{ "", "." }, { "/", "/" }, { "a//b/./c/", "a/b/c" }, { "/../x", "/x" },
		{ "../../a/../b", "../../b" }, { "a/../..", ".." }, { "/a/b/../../..", "/" }, { "./", "." },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char buf[64];
		snprintf(buf, sizeof buf, "%s", cases[i][0]);
		sigil__path_clean(buf);
		CHECK_STREQ(buf, cases[i][1]);
	}
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_read);
	RUN(test_missing);
	RUN(test_not_regular);
	RUN(test_path_clean);
	const char *names[] = { "ten", "empty", "fifo", "link", "dangling" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		unlink(at(names[i]));
	rmdir(at("sub"));
	rmdir(dir);
	return check_summary();
}
