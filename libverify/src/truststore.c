/* truststore.c - notation's X.509 trust stores
 * (notary-verification.md §3.2): <config>/truststore/x509/<type>/<name>/.
 *
 * The store directory and its entries are opened relative to directory
 * descriptors with O_NOFOLLOW, so a symlink swapped in after the check is
 * still refused by the open itself. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "bounds.h"
#include "certchain.h"
#include "cleanup.h"
#include "errors.h"
#include "fileio.h"
#include "truststore.h"

const char *sigil__store_type_name(sigil__store_type t)
{
	switch (t) {
	case SIGIL_STORE_CA: return "ca";
	case SIGIL_STORE_SIGNING_AUTHORITY: return "signingAuthority";
	case SIGIL_STORE_TSA: return "tsa";
	}
	return "unknown";
}

int sigil__store_type_parse(const char *s, size_t len, sigil__store_type *out)
{
	static const sigil__store_type all[] = { SIGIL_STORE_CA, SIGIL_STORE_SIGNING_AUTHORITY,
		SIGIL_STORE_TSA };
	if (!s)
		return -1;
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		const char *n = sigil__store_type_name(all[i]);
		if (strlen(n) == len && memcmp(n, s, len) == 0) {
			if (out)
				*out = all[i];
			return 0;
		}
	}
	return -1;
}

/* ------------------------------------------------------------------ */
/* Certificate file parsing. */

/* One DER certificate from buf, all of it (Go's x509.ParseCertificate
 * rejects trailing data). */
static X509 *der_one(const uint8_t *buf, size_t len)
{
	if (len == 0 || len > LONG_MAX)
		return NULL;
	const unsigned char *p = buf;
	X509 *c = d2i_X509(NULL, &p, (long)len);
	if (c && (size_t)(p - buf) != len) {
		X509_free(c);
		c = NULL;
	}
	return c;
}

static sigil_status push_cert(STACK_OF(X509) *sk, X509 *c, sigil_error *err)
{
	if (sk_X509_num(sk) >= SIGIL_MAX_STORE_CERTS) {
		X509_free(c);
		return sigil__err(err, SIGIL_ERR_LIMIT,
			"more than %d certificates in one trust store", SIGIL_MAX_STORE_CERTS);
	}
	if (!sk_X509_push(sk, c)) {
		X509_free(c);
		return sigil__err_oom(err);
	}
	return SIGIL_STATUS_OK;
}

/* Whether the bytes hold a PEM block start, as Go's pem.Decode looks for
 * one anywhere in the data. */
static bool has_pem_begin(const uint8_t *buf, size_t len)
{
	static const char tag[] = "-----BEGIN ";
	size_t tl = sizeof tag - 1;
	for (size_t i = 0; len >= tl && i <= len - tl; i++)
		if (buf[i] == '-' && memcmp(buf + i, tag, tl) == 0)
			return true;
	return false;
}

/* §3.2: "If it contains a PEM block, every PEM block is parsed as a
 * certificate (the block type is not checked; garbage after the last block
 * is ignored). Otherwise the whole file is parsed as concatenated DER." */
static sigil_status parse_pem(const uint8_t *buf, size_t len, STACK_OF(X509) *sk,
	sigil_error *err)
{
	_cleanup_(BIO_freep) BIO *bio = BIO_new_mem_buf(buf, (int)len);
	if (!bio)
		return sigil__err_oom(err);
	for (int block = 0;; block++) {
		char *name = NULL, *header = NULL;
		unsigned char *data = NULL;
		long dlen = 0;
		if (!PEM_read_bio(bio, &name, &header, &data, &dlen)) {
			unsigned long e = ERR_peek_last_error();
			ERR_clear_error();
			if (block > 0 && ERR_GET_LIB(e) == ERR_LIB_PEM &&
			    ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
				return SIGIL_STATUS_OK;
			return sigil__err(err, SIGIL_ERR_MALFORMED,
				"malformed PEM block %d in certificate file", block + 1);
		}
		X509 *c = dlen > 0 ? der_one(data, (size_t)dlen) : NULL;
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
		if (!c) {
			ERR_clear_error();
			return sigil__err(err, SIGIL_ERR_MALFORMED,
				"PEM block %d is not a valid X.509 certificate", block + 1);
		}
		SIGIL_TRY(push_cert(sk, c, err));
	}
}

static sigil_status parse_der(const uint8_t *buf, size_t len, STACK_OF(X509) *sk,
	sigil_error *err)
{
	size_t off = 0;
	while (off < len) {
		const unsigned char *p = buf + off;
		size_t rest = len - off;
		X509 *c = d2i_X509(NULL, &p, (long)rest);
		if (!c) {
			ERR_clear_error();
			return sigil__err_at(err, SIGIL_ERR_MALFORMED, off,
				"malformed DER certificate at offset %zu", off);
		}
		off = (size_t)(p - buf);
		SIGIL_TRY(push_cert(sk, c, err));
	}
	return SIGIL_STATUS_OK;
}

sigil_status sigil__certs_parse(const uint8_t *buf, size_t len, STACK_OF(X509) **out,
	sigil_error *err)
{
	if (!out || (!buf && len))
		return sigil__err(err, SIGIL_ERR_USAGE, "sigil__certs_parse: invalid arguments");
	if (len > SIGIL_MAX_CERT_FILE_SIZE)
		return sigil__err(err, SIGIL_ERR_LIMIT,
			"certificate file is larger than %u bytes", SIGIL_MAX_CERT_FILE_SIZE);
	_cleanup_(X509_stack_freep) STACK_OF(X509) *sk = sk_X509_new_null();
	if (!sk)
		return sigil__err_oom(err);
	if (len > 0) {
		if (has_pem_begin(buf, len))
			SIGIL_TRY(parse_pem(buf, len, sk, err));
		else
			SIGIL_TRY(parse_der(buf, len, sk, err));
	}
	if (sk_X509_num(sk) == 0)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "no certificates found in the file");
	*out = TAKE_PTR(sk);
	return SIGIL_STATUS_OK;
}

/* ------------------------------------------------------------------ */
/* Store loading. */

static bool name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	/* "." and ".." match the pattern but would name the type directory
	 * or its parent, not a store. */
	return strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct namelist {
	char **v;
	size_t n;
} namelist;

static void namelist_free(namelist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* The store's entry names, sorted bytewise as Go's os.ReadDir. */
static sigil_status list_dir(int dfd, const char *name, const char *type, namelist *out,
	sigil_error *err)
{
	int fd2 = dup(dfd);
	if (fd2 < 0)
		return sigil__err(err, SIGIL_ERR_IO, "trust store %s of type %s: %s", name, type,
			strerror(errno));
	DIR *d = fdopendir(fd2);
	if (!d) {
		int e = errno;
		close(fd2);
		return sigil__err(err, SIGIL_ERR_IO, "trust store %s of type %s: %s", name, type,
			strerror(e));
	}
	namelist l = { 0 };
	size_t cap = 0;
	sigil_status st = SIGIL_STATUS_OK;
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			if (errno)
				st = sigil__err(err, SIGIL_ERR_IO, "reading trust store %s of type %s: %s",
					name, type, strerror(errno));
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (l.n >= SIGIL_MAX_STORE_FILES) {
			st = sigil__err(err, SIGIL_ERR_LIMIT,
				"trust store %s of type %s has more than %d entries", name, type,
				SIGIL_MAX_STORE_FILES);
			break;
		}
		if (l.n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char **nv = realloc(l.v, ncap * sizeof *nv);
			if (!nv) {
				st = sigil__err_oom(err);
				break;
			}
			l.v = nv;
			cap = ncap;
		}
		char *dup_name = strdup(de->d_name);
		if (!dup_name) {
			st = sigil__err_oom(err);
			break;
		}
		l.v[l.n++] = dup_name;
	}
	closedir(d);
	if (st != SIGIL_STATUS_OK) {
		namelist_free(&l);
		return st;
	}
	if (l.n > 1)
		qsort(l.v, l.n, sizeof *l.v, cmp_names);
	*out = l;
	return SIGIL_STATUS_OK;
}

/* Read one regular file, at most SIGIL_MAX_CERT_FILE_SIZE bytes, in
 * notation's words for what goes wrong. O_NOFOLLOW: a symlink swapped in
 * since the lstat is still refused. */
static sigil_status read_entry(int dfd, const char *file, const char *name, const char *type,
	uint8_t **buf, size_t *len, sigil_error *err)
{
	sigil__file_why why;
	if (sigil__file_read_at(dfd, file, NULL, SIGIL_MAX_CERT_FILE_SIZE, SIGIL__FILE_NOFOLLOW, buf, len,
		    &why, err) == SIGIL_STATUS_OK)
		return SIGIL_STATUS_OK;
	if (why.problem == SIGIL__FILE_NOT_REGULAR || (why.problem == SIGIL__FILE_OPEN && why.errnum == ELOOP))
		return sigil__err(err, SIGIL_ERR_POLICY,
			"trusted certificate %s in trust store %s of type %s is not a regular file (symlinks are not supported)",
			file, name, type);
	if (why.problem == SIGIL__FILE_TOO_LARGE)
		return sigil__err(err, SIGIL_ERR_LIMIT,
			"trusted certificate %s in trust store %s of type %s is larger than %u bytes",
			file, name, type, SIGIL_MAX_CERT_FILE_SIZE);
	if (why.problem == SIGIL__FILE_NOMEM)
		return SIGIL_STATUS_ERROR;
	return sigil__err(err, SIGIL_ERR_IO,
		"failed to read the trusted certificate %s in trust store %s of type %s: %s",
		file, name, type, strerror(why.errnum));
}

/* notation's ValidateCertificates, plus the tsa-store root rule (§3.2). */
static sigil_status validate_file_certs(STACK_OF(X509) *certs, sigil__store_type type,
	const char *file, const char *name, const char *tname, sigil_error *err)
{
	for (int i = 0; i < sk_X509_num(certs); i++) {
		X509 *c = sk_X509_value(certs, i);
		if (!sigil__cert_is_ca(c) && !sigil__cert_self_signature_ok(c)) {
			_cleanup_free_ char *subj = sigil__cert_subject(c);
			return sigil__err(err, SIGIL_ERR_POLICY,
				"failed to validate the trusted certificate %s in trust store %s of type %s. certificate with subject \"%s\" is not a CA certificate or self-signed signing certificate",
				file, name, tname, subj ? subj : "");
		}
		char why[256];
		if (type == SIGIL_STORE_TSA && !sigil__cert_is_root(c, why, sizeof why)) {
			_cleanup_free_ char *subj = sigil__cert_subject(c);
			return sigil__err(err, SIGIL_ERR_POLICY,
				"trusted certificate %s in trust store %s of type %s is invalid: certificate with subject \"%s\" is not a root certificate: %s",
				file, name, tname, subj ? subj : "", why);
		}
	}
	return SIGIL_STATUS_OK;
}

/* Open <config_dir>/truststore/x509/<type>/<name> as a directory that is
 * not itself a symlink. The components above the store may be symlinks
 * (a config directory is often one). */
static sigil_status open_store(const char *config_dir, const char *tname, const char *name,
	int *out_fd, sigil_error *err)
{
	_cleanup_free_ char *typedir = NULL;
	if (asprintf(&typedir, "%s/truststore/x509/%s", config_dir, tname) < 0) {
		typedir = NULL;
		return sigil__err_oom(err);
	}
	_cleanup_(closep) int tfd = open(typedir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tfd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return sigil__err(err, SIGIL_ERR_POLICY,
				"the trust store \"%s\" of type \"%s\" does not exist", name, tname);
		return sigil__err(err, SIGIL_ERR_IO, "unable to access the trust store \"%s\" of type \"%s\": %s",
			name, tname, strerror(errno));
	}
	struct stat st;
	if (fstatat(tfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return sigil__err(err, SIGIL_ERR_POLICY,
				"the trust store \"%s\" of type \"%s\" does not exist", name, tname);
		return sigil__err(err, SIGIL_ERR_IO, "unable to access the trust store \"%s\" of type \"%s\": %s",
			name, tname, strerror(errno));
	}
	/* §3.2: symlinks are not allowed for store directories. */
	if (!S_ISDIR(st.st_mode))
		return sigil__err(err, SIGIL_ERR_POLICY,
			"the trust store \"%s\" of type \"%s\" is not a regular directory (symlinks are not supported)",
			name, tname);
	int fd = openat(tfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ELOOP || errno == ENOTDIR)
			return sigil__err(err, SIGIL_ERR_POLICY,
				"the trust store \"%s\" of type \"%s\" is not a regular directory (symlinks are not supported)",
				name, tname);
		return sigil__err(err, SIGIL_ERR_IO, "unable to access the trust store \"%s\" of type \"%s\": %s",
			name, tname, strerror(errno));
	}
	*out_fd = fd;
	return SIGIL_STATUS_OK;
}

sigil_status sigil__truststore_load(const char *config_dir, sigil__store_type type,
	const char *name, STACK_OF(X509) **out, sigil__strlist *warnings, sigil_error *err)
{
	if (!config_dir || !name || !out)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigil__truststore_load: invalid arguments");
	if (type != SIGIL_STORE_CA && type != SIGIL_STORE_SIGNING_AUTHORITY && type != SIGIL_STORE_TSA)
		return sigil__err(err, SIGIL_ERR_USAGE, "unsupported trust store type");
	const char *tname = sigil__store_type_name(type);
	if (!name_ok(name))
		return sigil__err(err, SIGIL_ERR_POLICY,
			"trust store name needs to follow [a-zA-Z0-9_.-]+ format");

	_cleanup_(closep) int dfd = -1;
	SIGIL_TRY(open_store(config_dir, tname, name, &dfd, err));

	_cleanup_(namelist_free) namelist entries = { 0 };
	SIGIL_TRY(list_dir(dfd, name, tname, &entries, err));

	_cleanup_(X509_stack_freep) STACK_OF(X509) *all = sk_X509_new_null();
	if (!all)
		return sigil__err_oom(err);
	for (size_t i = 0; i < entries.n; i++) {
		const char *file = entries.v[i];
		struct stat st;
		if (fstatat(dfd, file, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT) /* removed since listing */
				continue;
			return sigil__err(err, SIGIL_ERR_IO,
				"failed to read the trusted certificate %s in trust store %s of type %s: %s",
				file, name, tname, strerror(errno));
		}
		if (S_ISDIR(st.st_mode)) {
			/* §3.2 / §8 row 6: subdirectories are ignored with a warning
			 * (notation fails instead). */
			SIGIL_TRY(sigil__strlist_addf(warnings, err,
				"ignoring subdirectory %s in trust store %s of type %s", file, name, tname));
			continue;
		}
		if (!S_ISREG(st.st_mode))
			return sigil__err(err, SIGIL_ERR_POLICY,
				"trusted certificate %s in trust store %s of type %s is not a regular file (symlinks are not supported)",
				file, name, tname);

		_cleanup_free_ uint8_t *buf = NULL;
		size_t len = 0;
		SIGIL_TRY(read_entry(dfd, file, name, tname, &buf, &len, err));
		_cleanup_(X509_stack_freep) STACK_OF(X509) *certs = NULL;
		if (sigil__certs_parse(buf, len, &certs, err) != SIGIL_STATUS_OK) {
			sigil_category cat = err ? err->category : SIGIL_ERR_POLICY;
			sigil__err_wrap(err, "failed to read the trusted certificate %s in trust store %s of type %s",
				file, name, tname);
			if (err && cat == SIGIL_ERR_MALFORMED)
				err->category = SIGIL_ERR_POLICY;
			return SIGIL_STATUS_ERROR;
		}
		SIGIL_TRY(validate_file_certs(certs, type, file, name, tname, err));
		while (sk_X509_num(certs) > 0) {
			X509 *c = sk_X509_shift(certs);
			SIGIL_TRY(push_cert(all, c, err));
		}
	}
	if (sk_X509_num(all) == 0)
		return sigil__err(err, SIGIL_ERR_POLICY,
			"no x509 certificates were found in trust store \"%s\" of type \"%s\"", name, tname);
	*out = TAKE_PTR(all);
	return SIGIL_STATUS_OK;
}
