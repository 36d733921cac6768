/* fuzz-containerd-config.c - `sigil doctor`'s loader of containerd's
 * configuration (cli/containerd_config.c: imports, globs, versions, the
 * v1 renames, the merge) and every configuration check run on what it
 * loads, with the files served from memory (sigil__ctd_fs), so no input
 * touches the file system through the loader.
 *
 * Input: one selector byte, then up to three files separated by NUL bytes
 * (TOML never contains one): /etc/containerd/config.toml, then
 * /etc/containerd/conf.d/10-a.toml and /etc/containerd/conf.d/20-b.toml,
 * which the main file reaches through `imports` (a conf.d glob, a path,
 * or anything else; what matches nothing is missing). Bytes after a third
 * NUL are ignored. The selector picks containerd's version (unknown, 2.1.9,
 * 2.3.2, 2.4.0) and sigil-verifier's deadline (8 s or 12 s).
 *
 * check_bindir and check_dropin look at the bin_dir the input names on the
 * real file system, read only (opendir, stat, realpath), as sigil doctor
 * does; nothing is written. */
#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "containerd_config.h"
#include "doctor_containerd.h"
#include "doctor_findings.h"
#include "errors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NFILES 3

static const char *const paths[NFILES] = {
	"/etc/containerd/config.toml",
	"/etc/containerd/conf.d/10-a.toml",
	"/etc/containerd/conf.d/20-b.toml",
};

typedef struct mem_files {
	const uint8_t *data[NFILES];
	size_t len[NFILES];
	size_t count;  /* files present */
} mem_files;

static sigil_status mem_read(void *ctx, const char *path, size_t max, uint8_t **buf, size_t *len,
	sigil_error *err)
{
	const mem_files *m = ctx;
	for (size_t i = 0; i < m->count; i++) {
		if (strcmp(path, paths[i]) != 0)
			continue;
		if (m->len[i] > max)
			return sigil__err(err, SIGIL_ERR_LIMIT, "%s: larger than %zu bytes", path, max);
		/* an exact-size copy, so an over-read is seen */
		uint8_t *b = malloc(m->len[i] ? m->len[i] : 1);
		if (!b)
			return sigil__err_oom(err);
		if (m->len[i])
			memcpy(b, m->data[i], m->len[i]);
		*buf = b;
		*len = m->len[i];
		return SIGIL_STATUS_OK;
	}
	return sigil__err(err, SIGIL_ERR_IO, "%s: No such file or directory", path);
}

/* the present files the pattern matches ('*' matches a leading '.', as
 * Go's filepath.Glob does), in path order */
static sigil_status mem_glob(void *ctx, const char *pattern, char ***out, size_t *count, sigil_error *err)
{
	const mem_files *m = ctx;
	char **v = calloc(NFILES, sizeof *v);
	size_t n = 0;
	if (!v)
		return sigil__err_oom(err);
	for (size_t i = 0; i < m->count; i++) {
		if (fnmatch(pattern, paths[i], FNM_PATHNAME) != 0)
			continue;
		if (!(v[n] = strdup(paths[i]))) {
			for (size_t k = 0; k < n; k++)
				free(v[k]);
			free(v);
			return sigil__err_oom(err);
		}
		n++;
	}
	if (n == 0) {
		free(v);
		v = NULL;
	}
	*out = v;
	*count = n;
	return SIGIL_STATUS_OK;
}

static void print_all(const sigil__doctor_findings *f)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *s = open_memstream(&buf, &len);
	if (!s)
		return;
	sigil__doctor_print_text(s, f);
	sigil_error err = SIGIL_ERROR_INIT;
	if (sigil__doctor_print_json(s, f, &err) != SIGIL_STATUS_OK && err.category == SIGIL_ERR_NONE)
		abort();
	fclose(s);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const versions[] = { NULL, "2.1.9", "2.3.2", "2.4.0" };
	if (size < 1)
		return 0;
	unsigned sel = data[0];
	const char *version = versions[sel & 3];
	int64_t verifier_ms = sel & 4 ? 12000 : 8000;
	data++;
	size--;

	mem_files m;
	memset(&m, 0, sizeof m);
	size_t start = 0;
	for (size_t i = 0; i <= size && m.count < NFILES; i++) {
		if (i == size || data[i] == '\0') {
			m.data[m.count] = data + start;
			m.len[m.count] = i - start;
			m.count++;
			start = i + 1;
		}
	}

	sigil__ctd_fs fs = { mem_read, mem_glob, &m };
	sigil__ctd_config *c = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	if (sigil__ctd_config_load_fs(paths[0], &fs, version, &c, &err) != SIGIL_STATUS_OK) {
		if (c || err.category == SIGIL_ERR_NONE || !err.message[0])
			abort();
		return 0;
	}
	/* each file once, the main file first, a version containerd accepts */
	if (!c || c->count < 1 || c->count > NFILES || strcmp(c->files[0].path, paths[0]) != 0 || c->version < 0 ||
			c->version > c->rules.config_version)
		abort();
	for (size_t i = 1; i < c->count; i++)
		if (c->files[i].importer >= i)
			abort();

	sigil__doctor_findings f;
	memset(&f, 0, sizeof f);
	if (sigil__doctor_check_disabled(c, version, &f, &err) != SIGIL_STATUS_OK ||
			sigil__doctor_check_cri(c, &f, &err) != SIGIL_STATUS_OK ||
			sigil__doctor_check_bindir(c, "/nonexistent/sigil/verifier-bin", &f, &err) != SIGIL_STATUS_OK ||
			sigil__doctor_check_timeout(c, verifier_ms, "its default", &f, &err) != SIGIL_STATUS_OK ||
			sigil__doctor_check_dropin(c, "/nonexistent/sigil/verifier-bin", &f, &err) != SIGIL_STATUS_OK ||
			sigil__doctor_check_dropin_version(c, version, &f, &err) != SIGIL_STATUS_OK) {
		/* only allocation failures stop a check */
		if (err.category != SIGIL_ERR_INTERNAL)
			abort();
	}
	size_t problems = 0, warnings = 0;
	for (size_t i = 0; i < f.count; i++) {
		const sigil__doctor_finding *x = &f.items[i];
		if (!x->id[0] || !x->message[0] || !x->headline[0] || (x->line && !x->file))
			abort();
		if ((x->severity == SIGIL_DOCTOR_OK) != (x->fix == NULL))
			abort();
		problems += x->severity == SIGIL_DOCTOR_PROBLEM;
		warnings += x->severity == SIGIL_DOCTOR_WARNING;
	}
	if (problems != f.problems || warnings != f.warnings)
		abort();
	print_all(&f);
	sigil__doctor_findings_clear(&f);
	sigil__ctd_config_free(c);
	return 0;
}
