/* reload.c - trust configuration revisions and snapshots.
 *
 * The revision keys the verdict cache (architecture.md design rule 6: a
 * verdict is reusable for one digest, policy revision and trust store
 * revision), so it must change whenever anything sigil_verifier_new reads
 * changes: it hashes file names, types and contents rather than trusting
 * modification times. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "reload.h"
#include "util.h"

/* bounds of the walk: notation's trust store is a few directories of a few
 * certificates; these only stop a misconfiguration (configDir = /) from
 * hashing a whole file system */
#define SIGILD_MAX_REVISION_FILES 4096
#define SIGILD_MAX_REVISION_DEPTH 8
#define SIGILD_MAX_REVISION_BYTES (256u * 1024u * 1024u)
#define SIGILD_SNAPSHOT_ATTEMPTS 3

typedef struct walk {
	EVP_MD_CTX *md;
	size_t files;
	uint64_t bytes;
	sigil_error *err;
} walk;

static int feed(walk *w, const void *p, size_t n)
{
	return EVP_DigestUpdate(w->md, p, n) == 1 ? 0 : -1;
}

static int feed_str(walk *w, const char *tag, const char *s)
{
	/* tag, the string and its NUL: unambiguous record boundaries */
	return feed(w, tag, strlen(tag)) || feed(w, s, strlen(s) + 1);
}

static sigil_status hash_file(walk *w, const char *path, const char *rel)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		/* an unreadable file is part of the state: sigil_verifier_new
		 * will see the same error; record it rather than fail */
		char msg[64];
		snprintf(msg, sizeof msg, "%d", errno);
		if (feed_str(w, "E", rel) || feed_str(w, "", msg))
			return sigil__err(w->err, SIGIL_ERR_INTERNAL, "hashing the trust configuration failed");
		return SIGIL_STATUS_OK;
	}
	if (feed_str(w, "F", rel)) {
		close(fd);
		return sigil__err(w->err, SIGIL_ERR_INTERNAL, "hashing the trust configuration failed");
	}
	uint8_t buf[16384];
	uint64_t n = 0;
	for (;;) {
		ssize_t r = read(fd, buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			return sigil__err(w->err, SIGIL_ERR_IO, "%s: %s", path, strerror(e));
		}
		if (r == 0)
			break;
		w->bytes += (uint64_t)r;
		n += (uint64_t)r;
		if (w->bytes > SIGILD_MAX_REVISION_BYTES) {
			close(fd);
			return sigil__err(w->err, SIGIL_ERR_LIMIT,
				"trust configuration is more than %u bytes", SIGILD_MAX_REVISION_BYTES);
		}
		if (feed(w, buf, (size_t)r)) {
			close(fd);
			return sigil__err(w->err, SIGIL_ERR_INTERNAL, "hashing the trust configuration failed");
		}
	}
	close(fd);
	/* the length closes the record: contents cannot run into the next name */
	uint8_t len8[8];
	for (int i = 0; i < 8; i++)
		len8[i] = (uint8_t)(n >> (8 * i));
	if (feed(w, len8, sizeof len8))
		return sigil__err(w->err, SIGIL_ERR_INTERNAL, "hashing the trust configuration failed");
	return SIGIL_STATUS_OK;
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static sigil_status hash_path(walk *w, const char *path, const char *rel, int depth);

static sigil_status hash_dir(walk *w, const char *path, const char *rel, int depth)
{
	if (depth > SIGILD_MAX_REVISION_DEPTH)
		return sigil__err(w->err, SIGIL_ERR_LIMIT, "%s: directories nested deeper than %d", path,
			SIGILD_MAX_REVISION_DEPTH);
	struct dirent **names = NULL;
	int n = scandir(path, &names, NULL, name_cmp);
	if (n < 0) {
		char msg[64];
		snprintf(msg, sizeof msg, "%d", errno);
		if (feed_str(w, "E", rel) || feed_str(w, "", msg))
			return sigil__err(w->err, SIGIL_ERR_INTERNAL, "hashing the trust configuration failed");
		return SIGIL_STATUS_OK;
	}
	sigil_status st = feed_str(w, "D", rel) ? sigil__err(w->err, SIGIL_ERR_INTERNAL,
		"hashing the trust configuration failed") : SIGIL_STATUS_OK;
	for (int i = 0; i < n; i++) {
		const char *nm = names[i]->d_name;
		if (st == SIGIL_STATUS_OK && strcmp(nm, ".") != 0 && strcmp(nm, "..") != 0) {
			char child[PATH_MAX], crel[PATH_MAX];
			if (snprintf(child, sizeof child, "%s/%s", path, nm) >= (int)sizeof child ||
			    snprintf(crel, sizeof crel, "%s/%s", rel, nm) >= (int)sizeof crel)
				st = sigil__err(w->err, SIGIL_ERR_LIMIT, "%s/%s: path too long", path, nm);
			else
				st = hash_path(w, child, crel, depth + 1);
		}
		free(names[i]);
	}
	free(names);
	return st;
}

static sigil_status hash_path(walk *w, const char *path, const char *rel, int depth)
{
	if (++w->files > SIGILD_MAX_REVISION_FILES)
		return sigil__err(w->err, SIGIL_ERR_LIMIT, "trust configuration has more than %d files",
			SIGILD_MAX_REVISION_FILES);
	struct stat sb;
	if (lstat(path, &sb) != 0) {
		if (feed_str(w, errno == ENOENT ? "M" : "E", rel))
			return sigil__err(w->err, SIGIL_ERR_INTERNAL, "hashing the trust configuration failed");
		return SIGIL_STATUS_OK;
	}
	if (S_ISLNK(sb.st_mode)) {
		/* the link itself (notation rejects some symlinks) and, when
		 * it leads to a regular file, what it leads to; never recurse
		 * through a directory link (no loops) */
		char target[PATH_MAX];
		ssize_t tn = readlink(path, target, sizeof target - 1);
		target[tn < 0 ? 0 : tn] = '\0';
		if (feed_str(w, "L", rel) || feed_str(w, "", target))
			return sigil__err(w->err, SIGIL_ERR_INTERNAL, "hashing the trust configuration failed");
		struct stat tb;
		if (stat(path, &tb) == 0 && S_ISREG(tb.st_mode))
			return hash_file(w, path, rel);
		return SIGIL_STATUS_OK;
	}
	if (S_ISDIR(sb.st_mode))
		return hash_dir(w, path, rel, depth);
	if (S_ISREG(sb.st_mode))
		return hash_file(w, path, rel);
	/* fifos, devices: their name and type only (never read: a fifo
	 * would block the reload) */
	if (feed_str(w, "O", rel))
		return sigil__err(w->err, SIGIL_ERR_INTERNAL, "hashing the trust configuration failed");
	return SIGIL_STATUS_OK;
}

sigil_status sigild__trust_revision(const char *config_dir, char **out, sigil_error *err)
{
	if (!config_dir || !out)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigild__trust_revision: missing argument");
	walk w = { EVP_MD_CTX_new(), 0, 0, err };
	if (!w.md || EVP_DigestInit_ex(w.md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(w.md);
		return sigil__err(err, SIGIL_ERR_INTERNAL, "SHA-256 unavailable");
	}
	static const char *const names[] = { "trustpolicy.json", "trustpolicy.oci.json", "truststore" };
	sigil_status st = SIGIL_STATUS_OK;
	for (size_t i = 0; i < sizeof names / sizeof names[0] && st == SIGIL_STATUS_OK; i++) {
		char path[PATH_MAX];
		if (snprintf(path, sizeof path, "%s/%s", config_dir, names[i]) >= (int)sizeof path)
			st = sigil__err(err, SIGIL_ERR_LIMIT, "%s: path too long", config_dir);
		else
			st = hash_path(&w, path, names[i], 0);
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (st == SIGIL_STATUS_OK && EVP_DigestFinal_ex(w.md, md, &mdlen) != 1)
		st = sigil__err(err, SIGIL_ERR_INTERNAL, "SHA-256 failed");
	EVP_MD_CTX_free(w.md);
	if (st != SIGIL_STATUS_OK)
		return st;
	char *hex = malloc(7 + 2 * (size_t)mdlen + 1);
	if (!hex)
		return sigil__err_oom(err);
	memcpy(hex, "sha256:", 7);
	for (unsigned int i = 0; i < mdlen; i++) {
		static const char digits[] = "0123456789abcdef";
		hex[7 + 2 * i] = digits[md[i] >> 4];
		hex[7 + 2 * i + 1] = digits[md[i] & 15];
	}
	hex[7 + 2 * mdlen] = '\0';
	*out = hex;
	return SIGIL_STATUS_OK;
}

sigil_status sigild__snapshot_load(const char *config_dir,
	const sigil_revocation_options *revocation, sigild_snapshot **out, sigil_error *err)
{
	if (!config_dir || !out)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigild__snapshot_load: missing argument");
	for (int attempt = 0; attempt < SIGILD_SNAPSHOT_ATTEMPTS; attempt++) {
		char *before = NULL, *after = NULL;
		if (sigild__trust_revision(config_dir, &before, err) != SIGIL_STATUS_OK)
			return SIGIL_STATUS_ERROR;
		sigil_verifier *v = NULL;
		if (sigil_verifier_new(&v, config_dir, err) != SIGIL_STATUS_OK) {
			free(before);
			return SIGIL_STATUS_ERROR;
		}
		if (revocation) {
			/* OCSP responses and CRLs outlive one verification and one
			 * sigild process (issue "Certificate revocation": cached in
			 * sigild's state) */
			sigil_revocation_options ro = *revocation;
			if (ro.seed_dir && !ro.seed_dir[0])
				ro.seed_dir = NULL;
			if (sigil_verifier_set_revocation(v, &ro, err) != SIGIL_STATUS_OK) {
				free(before);
				sigil_verifier_free(v);
				return SIGIL_STATUS_ERROR;
			}
		}
		if (sigild__trust_revision(config_dir, &after, err) != SIGIL_STATUS_OK) {
			free(before);
			sigil_verifier_free(v);
			return SIGIL_STATUS_ERROR;
		}
		int same = strcmp(before, after) == 0;
		free(after);
		if (!same) {
			/* an editor or a config-management run is writing: the
			 * verifier may mix old and new files; load again */
			free(before);
			sigil_verifier_free(v);
			continue;
		}
		sigild_snapshot *s = calloc(1, sizeof *s);
		if (!s) {
			free(before);
			sigil_verifier_free(v);
			return sigil__err_oom(err);
		}
		atomic_init(&s->refs, 1);
		s->verifier = v;
		s->revision = before;
		*out = s;
		return SIGIL_STATUS_OK;
	}
	return sigil__err(err, SIGIL_ERR_IO,
		"%s: the trust configuration kept changing while it was loaded (%d attempts)", config_dir,
		SIGILD_SNAPSHOT_ATTEMPTS);
}

sigild_snapshot *sigild__snapshot_ref(sigild_snapshot *s)
{
	if (s)
		atomic_fetch_add(&s->refs, 1);
	return s;
}

void sigild__snapshot_unref(sigild_snapshot *s)
{
	if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	sigil_verifier_free(s->verifier);
	free(s->revision);
	free(s);
}
