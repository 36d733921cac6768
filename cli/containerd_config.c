/* containerd_config.c - load containerd's configuration the way containerd
 * does (see containerd_config.h). Source references are to
 * containerd/containerd at tag v2.1.9 unless they name another:
 *   cmd/containerd/server/config/config.go  LoadConfig, resolveImports,
 *       mergeConfig, v1Migrate (the file layer)
 *   vendor/dario.cat/mergo/merge.go          deepMerge (how plugin tables merge)
 *   cmd/containerd/server/server.go          New: plugin config migration
 *   plugins/cri/images/plugin.go             configMigration (v2 -> v3 CRI images)
 *   internal/cri/config/config{,_unix}.go    ImageConfig and its defaults
 * The one step that differs in 2.3 (v2.3.4 config.go LoadConfigWithPlugins)
 * is merge_version, with cri_image_get_per_file for its effect on CRI. */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "bounds.h"
#include "containerd_config.h"
#include "errors.h"
#include "fileio.h"
#include "pathclean.h"

#define CRI_V2 "io.containerd.grpc.v1.cri"
#define CRI_IMAGES "io.containerd.cri.v1.images"

/* ---- Go's path/filepath, lexically ------------------------------------ */

char *sigil__ctd_path_clean(const char *path)
{
	size_t len = strlen(path);
	/* never longer than the input, but "" becomes "." */
	char *out = malloc(len + 2);
	if (!out)
		return NULL;
	memcpy(out, path, len + 1);
	sigil__path_clean(out);
	return out;
}

char *sigil__ctd_path_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	size_t n = (size_t)(slash - path) + 1;
	char *d = strndup(path, n);
	if (!d)
		return NULL;
	char *c = sigil__ctd_path_clean(d);
	free(d);
	return c;
}

static char *path_join(const char *dir, const char *rel)
{
	size_t n = strlen(dir) + 1 + strlen(rel) + 1;
	char *j = malloc(n);
	if (!j)
		return NULL;
	snprintf(j, n, "%s/%s", dir, rel);
	char *c = sigil__ctd_path_clean(j);
	free(j);
	return c;
}

/* ---- version 1 plugin names (config.go v1MigratePluginName) ------------- */

static char *v1_plugin_name(const char *name)
{
	static const char *const core[][2] = {
		{ "cri", "io.containerd.grpc.v1.cri" },
		{ "cgroups", "io.containerd.monitor.v1.cgroups" },
		{ "linux", "io.containerd.runtime.v1.linux" },
		{ "scheduler", "io.containerd.gc.v1.scheduler" },
		{ "bolt", "io.containerd.metadata.v1.bolt" },
		{ "task", "io.containerd.runtime.v2.task" },
		{ "opt", "io.containerd.internal.v1.opt" },
		{ "restart", "io.containerd.internal.v1.restart" },
		{ "tracing", "io.containerd.internal.v1.tracing" },
		{ "otlp", "io.containerd.tracing.processor.v1.otlp" },
		{ "aufs", "io.containerd.snapshotter.v1.aufs" },
		{ "btrfs", "io.containerd.snapshotter.v1.btrfs" },
		{ "devmapper", "io.containerd.snapshotter.v1.devmapper" },
		{ "native", "io.containerd.snapshotter.v1.native" },
		{ "overlayfs", "io.containerd.snapshotter.v1.overlayfs" },
		{ "zfs", "io.containerd.snapshotter.v1.zfs" },
	};
	for (size_t i = 0; i < sizeof core / sizeof core[0]; i++)
		if (strcmp(name, core[i][0]) == 0)
			return strdup(core[i][1]);
	const char *prefix = "io.containerd.grpc.v1.";
	size_t n = strlen(name);
	if (n > 8 && strcmp(name + n - 8, "-service") == 0)
		prefix = "io.containerd.service.v1.";
	else if (strcmp(name, "windows") == 0 || strcmp(name, "windows-lcow") == 0)
		prefix = "io.containerd.snapshotter.v1.";
	size_t m = strlen(prefix) + n + 1;
	char *full = malloc(m);
	if (full)
		snprintf(full, m, "%s%s", prefix, name);
	return full;
}

/* v1Migrate: a version 0 or 1 file's plugin keys without a '.' are short
 * names, renamed before the file is merged (config.go LoadConfig L311-315) */
static sigil_status v1_migrate(sigil__toml_value *doc, sigil_error *err)
{
	sigil__toml_value *plugins = (sigil__toml_value *)sigil__toml_get(doc, "plugins");
	if (!plugins || plugins->type != SIGIL_TOML_TABLE)
		return SIGIL_STATUS_OK;
	for (size_t i = 0; i < plugins->count; i++) {
		if (strchr(plugins->keys[i], '.'))
			continue;
		char *full = v1_plugin_name(plugins->keys[i]);
		if (!full)
			return sigil__err_oom(err);
		free(plugins->keys[i]);
		plugins->keys[i] = full;
	}
	return SIGIL_STATUS_OK;
}

/* ---- imports (config.go resolveImports) ---------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct pending {
	char **paths;
	size_t *importer;
	size_t count, cap;
} pending;

/* takes path */
static sigil_status pending_push(pending *q, char *path, size_t importer, sigil_error *err)
{
	if (q->count >= 4 * SIGIL_CTD_MAX_FILES) {
		free(path);
		return sigil__err(err, SIGIL_ERR_LIMIT, "more than %d imported files", 4 * SIGIL_CTD_MAX_FILES);
	}
	if (q->count == q->cap) {
		size_t ncap = q->cap ? q->cap * 2 : 8;
		char **p = realloc(q->paths, ncap * sizeof *p);
		if (!p) {
			free(path);
			return sigil__err_oom(err);
		}
		q->paths = p;
		size_t *im = realloc(q->importer, ncap * sizeof *im);
		if (!im) {
			free(path);
			return sigil__err_oom(err);
		}
		q->importer = im;
		q->cap = ncap;
	}
	q->paths[q->count] = path;
	q->importer[q->count++] = importer;
	return SIGIL_STATUS_OK;
}

/* Each import is cleaned; a relative one is joined to the importing file's
 * directory; one containing '*' is expanded with filepath.Glob, which
 * sorts (per directory; with wildcards only in the last element, as
 * conf.d/ *.toml, that is the byte order used here) and whose '*' matches a
 * leading '.' too (GLOB_PERIOD). A path without '*' is loaded as is, so a
 * missing one stops containerd. */
static sigil_status resolve_imports(const sigil__ctd_fs *fs, const char *parent,
	const sigil__toml_value *imports, size_t importer, pending *q, sigil_error *err)
{
	if (!imports)
		return SIGIL_STATUS_OK;
	char *dir = sigil__ctd_path_dir(parent);
	if (!dir)
		return sigil__err_oom(err);
	sigil_status st = SIGIL_STATUS_ERROR;
	for (size_t i = 0; i < imports->count; i++) {
		const char *imp = imports->items[i]->str;
		char *p = sigil__ctd_path_clean(imp);
		if (p && p[0] != '/') {
			char *j = path_join(dir, p);
			free(p);
			p = j;
		}
		if (!p) {
			sigil__err_oom(err);
			goto out;
		}
		if (!strchr(p, '*')) {
			if (pending_push(q, p, importer, err) != SIGIL_STATUS_OK)
				goto out;
			continue;
		}
		char **m = NULL;
		size_t n = 0;
		if (fs->glob(fs->ctx, p, &m, &n, err) != SIGIL_STATUS_OK) {
			sigil__err_wrap(err, "%s: expanding import \"%s\"", parent, p);
			free(p);
			goto out;
		}
		free(p);
		/* pending_push takes each path, also when it fails */
		sigil_status pst = SIGIL_STATUS_OK;
		for (size_t k = 0; k < n; k++) {
			if (pst == SIGIL_STATUS_OK)
				pst = pending_push(q, m[k], importer, err);
			else
				free(m[k]);
		}
		free(m);
		if (pst != SIGIL_STATUS_OK)
			goto out;
	}
	st = SIGIL_STATUS_OK;
out:
	free(dir);
	return st;
}

/* ---- containerd's release and its rules ---------------------------------- */

bool sigil__ctd_semver_parse(const char *version, sigil__ctd_semver *v)
{
	if (!version)
		return false;
	unsigned long n[3] = { 0, 0, 0 };
	const char *p = version;
	/* major '.' minor, then optionally '.' patch */
	for (int i = 0; i < 3; i++) {
		if (*p < '0' || *p > '9')
			return false;
		char *end;
		errno = 0;
		n[i] = strtoul(p, &end, 10);
		if (errno)
			return false;
		p = end;
		if (i == 0 && *p != '.')
			return false;
		if (i == 2 || *p != '.')
			break;
		p++;
	}
	v->major = n[0];
	v->minor = n[1];
	v->patch = n[2];
	v->pre = "";
	v->pre_len = 0;
	if (*p == '-') {
		v->pre = p + 1;
		v->pre_len = strcspn(p + 1, "+");
	}
	return true;
}

bool sigil__ctd_semver_at_least(const sigil__ctd_semver *v, unsigned long major, unsigned long minor)
{
	return v->major != major ? v->major > major : v->minor >= minor;
}

sigil__ctd_rules sigil__ctd_rules_for(const char *containerd_version)
{
	sigil__ctd_rules r = { false, SIGIL_CTD_CONFIG_VERSION, "containerd 2.0 to 2.2" };
	sigil__ctd_semver v;
	if (!sigil__ctd_semver_parse(containerd_version, &v) || !sigil__ctd_semver_at_least(&v, 2, 3))
		return r;
	/* commit 0d7fee06 (per-file migration) is in every 2.3 tag from
	 * v2.3.0-beta.0; version.ConfigVersion became 4 with commit 06c23567
	 * (serviceMigrate), first tagged v2.3.0-rc.0: the betas still say 3 */
	r.per_file = true;
	r.name = "containerd 2.3";
	bool beta = v.major == 2 && v.minor == 3 && v.patch == 0 && v.pre_len >= 4 && strncmp(v.pre, "beta", 4) == 0;
	r.config_version = beta ? 3 : 4;
	return r;
}

/* ---- the file system (sigil__ctd_fs for sigil__ctd_config_load) ---------- */

static sigil_status os_read(void *ctx, const char *path, size_t max, uint8_t **buf, size_t *len,
	sigil_error *err)
{
	(void)ctx;
	return sigil__file_read(path, NULL, max, 0, buf, len, NULL, err);
}

static sigil_status os_glob(void *ctx, const char *pattern, char ***paths, size_t *count, sigil_error *err)
{
	(void)ctx;
	glob_t g;
	memset(&g, 0, sizeof g);
	int r = glob(pattern, GLOB_NOSORT | GLOB_PERIOD, NULL, &g);
	if (r == GLOB_NOMATCH) {
		globfree(&g);
		*paths = NULL;
		*count = 0;
		return SIGIL_STATUS_OK;
	}
	if (r != 0) {
		globfree(&g);
		return sigil__err(err, SIGIL_ERR_IO, "glob failed");
	}
	char **v = calloc(g.gl_pathc ? g.gl_pathc : 1, sizeof *v);
	if (!v) {
		globfree(&g);
		return sigil__err_oom(err);
	}
	for (size_t k = 0; k < g.gl_pathc; k++) {
		if (!(v[k] = strdup(g.gl_pathv[k]))) {
			for (size_t j = 0; j < k; j++)
				free(v[j]);
			free(v);
			globfree(&g);
			return sigil__err_oom(err);
		}
	}
	size_t n = g.gl_pathc;
	globfree(&g);
	qsort(v, n, sizeof *v, cmp_str);
	*paths = v;
	*count = n;
	return SIGIL_STATUS_OK;
}

static const sigil__ctd_fs os_fs = { os_read, os_glob, NULL };

/* ---- loading ------------------------------------------------------------- */

void sigil__ctd_config_free(sigil__ctd_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->count; i++) {
		free(c->files[i].path);
		sigil__toml_free(c->files[i].doc);
	}
	free(c->files);
	free(c);
}

static bool already_loaded(const sigil__ctd_config *c, const char *path)
{
	for (size_t i = 0; i < c->count; i++)
		if (strcmp(c->files[i].path, path) == 0)
			return true;
	return false;
}

/* Config.DisabledPlugins / RequiredPlugins: loadConfigFile decodes each
 * into a []string, or containerd refuses to start; ValidateVersion (config.go
 * L113-126) then refuses an entry without a '.' ("invalid disabled plugin
 * URI"). A version 0 or 1 file's entries are renamed to full names first
 * (v1Migrate), which always have one. */
static sigil_status check_plugin_list(const sigil__toml_value *doc, const char *key, int64_t version,
	const char *path, sigil_error *err)
{
	const sigil__toml_value *v = sigil__toml_get(doc, key);
	if (!v)
		return SIGIL_STATUS_OK;
	bool ok = v->type == SIGIL_TOML_ARRAY;
	for (size_t i = 0; ok && i < v->count; i++)
		ok = v->items[i]->type == SIGIL_TOML_STRING;
	if (!ok)
		return sigil__err(err, SIGIL_ERR_MALFORMED, "%s: line %zu: %s must be an array of strings", path,
			v->line, key);
	for (size_t i = 0; version > 1 && i < v->count; i++)
		if (!strchr(v->items[i]->str, '.'))
			return sigil__err(err, SIGIL_ERR_MALFORMED, "%s: line %zu: %s: \"%.200s\" is not a plugin URI "
				"(io.containerd.<type>.<id>), which containerd refuses", path, v->items[i]->line, key,
				v->items[i]->str);
	return SIGIL_STATUS_OK;
}

/* load_one - read, parse and check one file; takes path */
static sigil_status load_one(sigil__ctd_config *c, const sigil__ctd_fs *fs, char *path, size_t importer,
	sigil_error *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	const char *by = c->count ? c->files[importer].path : NULL;
	if (c->count >= SIGIL_CTD_MAX_FILES) {
		free(path);
		return sigil__err(err, SIGIL_ERR_LIMIT, "more than %d configuration files", SIGIL_CTD_MAX_FILES);
	}
	if (fs->read(fs->ctx, path, SIGIL_MAX_TOML_SIZE, &buf, &len, err) != SIGIL_STATUS_OK) {
		free(path);
		if (by)
			sigil__err_wrap(err, "imported by %s", by);
		return SIGIL_STATUS_ERROR;
	}
	sigil__toml_value *doc = NULL;
	sigil_status st = sigil__toml_parse(buf, len, &doc, err);
	free(buf);
	if (st != SIGIL_STATUS_OK) {
		sigil__err_wrap(err, "%s", path);
		free(path);
		return SIGIL_STATUS_ERROR;
	}
	/* loadConfigFile decodes into Config: `version` is an int and
	 * `imports` a []string, or containerd refuses to start */
	int64_t version = 0;
	size_t version_line = 0;
	const sigil__toml_value *v = sigil__toml_get(doc, "version");
	if (v) {
		if (v->type != SIGIL_TOML_INT || v->i < 0) {
			sigil__err(err, SIGIL_ERR_MALFORMED, "%s: line %zu: version must be a non-negative integer",
				path, v->line);
			goto fail;
		}
		version = v->i;
		version_line = v->line;
	}
	const sigil__toml_value *imports = sigil__toml_get(doc, "imports");
	if (imports) {
		bool ok = imports->type == SIGIL_TOML_ARRAY;
		for (size_t i = 0; ok && i < imports->count; i++)
			ok = imports->items[i]->type == SIGIL_TOML_STRING;
		if (!ok) {
			sigil__err(err, SIGIL_ERR_MALFORMED, "%s: line %zu: imports must be an array of strings",
				path, imports->line);
			goto fail;
		}
	}
	if (check_plugin_list(doc, "disabled_plugins", version, path, err) != SIGIL_STATUS_OK ||
			check_plugin_list(doc, "required_plugins", version, path, err) != SIGIL_STATUS_OK)
		goto fail;
	if (version <= 1 && v1_migrate(doc, err) != SIGIL_STATUS_OK)
		goto fail;
	if (c->count == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 4;
		sigil__ctd_file *f = realloc(c->files, ncap * sizeof *f);
		if (!f) {
			sigil__err_oom(err);
			goto fail;
		}
		c->files = f;
		c->cap = ncap;
	}
	sigil__ctd_file *f = &c->files[c->count];
	f->path = path;
	f->doc = doc;
	f->version = version;
	f->version_line = version_line;
	f->importer = c->count ? importer : 0;
	f->imports = imports;
	c->count++;
	return SIGIL_STATUS_OK;
fail:
	sigil__toml_free(doc);
	free(path);
	return SIGIL_STATUS_ERROR;
}

/* merge_version - the version file f is merged with into a configuration
 * whose version so far is so_far (what the merge then makes it), and
 * whether f's own version 2 CRI tables are migrated before that merge.
 * This is the step that differs between releases:
 *
 * containerd 2.0 to 2.2 (cmd/containerd/server/config/config.go LoadConfig,
 * v2.1.9 L311-318, the same in v2.2.7): only a version 0 or 1 file is
 * migrated, to the version so far (MigrateConfigTo(ctx, out.Version));
 * any other is merged as it is, and mergo.WithOverride sets out.Version
 * from every non-zero one: the last one wins, higher or lower, so a
 * version 3 drop-in stops a version 2 main file's migration
 * (containerd.md §4). Plugin tables are migrated afterwards, all at once,
 * when the merged version is below 3 (server.go New L254-266): decided
 * after the loop, not here.
 *
 * containerd 2.3.0 and later (LoadConfigWithPlugins, commit 0d7fee06
 * "Update plugin config migration to run on load"; v2.3.4 L483-506, the
 * same on main at 301026e5 L474-497): a file whose version is below the
 * version so far (which starts at version.ConfigVersion, 4) is migrated
 * on its own before the merge, one version at a time, running every
 * plugin's ConfigMigration(v) at each step v. CRI's (plugins/cri/images/
 * plugin.go configMigration L175-194) acts while v < ConfigVersion, so it
 * copies the file's version 2 tables into the file's own
 * io.containerd.cri.v1.images, for a version 3 file too (its step 3 -> 4
 * runs it). The file then has the version so far; a higher one is merged
 * as it is and wins (ValidateVersion refuses it if above ConfigVersion).
 * 2.3.0 to 2.3.4 first refuse a file above the first version declared
 * (L475-481, PR #12891, reverted after v2.3.4 by #13939/#13995): that is
 * left to sigil__doctor_check_dropin_version, which names the file and
 * the fix, so the loader still gives the other findings. */
static int64_t merge_version(const sigil__ctd_rules *r, sigil__ctd_file *f, int64_t so_far)
{
	f->cri_migrated = false;
	if (!r->per_file) {
		int64_t fv = f->version <= 1 ? so_far : f->version;
		return fv != 0 ? fv : so_far;
	}
	if (f->version < so_far) {
		f->cri_migrated = f->version < r->config_version;
		return so_far;
	}
	return f->version;
}

sigil_status sigil__ctd_config_load(const char *path, const char *containerd_version, sigil__ctd_config **out,
	sigil_error *err)
{
	return sigil__ctd_config_load_fs(path, &os_fs, containerd_version, out, err);
}

sigil_status sigil__ctd_config_load_fs(const char *path, const sigil__ctd_fs *fs, const char *containerd_version,
	sigil__ctd_config **out, sigil_error *err)
{
	sigil__ctd_config *c = calloc(1, sizeof *c);
	pending q = { NULL, NULL, 0, 0 };
	sigil_status st = SIGIL_STATUS_ERROR;
	if (!c)
		return sigil__err_oom(err);
	c->rules = sigil__ctd_rules_for(containerd_version);
	/* out starts as the default config, at ConfigVersion (cmd/containerd/
	 * command/config.go platformAgnosticDefaultConfig) */
	int64_t version = c->rules.config_version;
	char *main_path = strdup(path);
	if (!main_path) {
		sigil__err_oom(err);
		goto out;
	}
	/* LoadConfig: breadth first, the main path exactly as given, each
	 * path loaded once (the loaded set stops circular imports) */
	if (pending_push(&q, main_path, 0, err) != SIGIL_STATUS_OK)
		goto out;
	for (size_t head = 0; head < q.count; head++) {
		char *p = q.paths[head];
		q.paths[head] = NULL;
		if (already_loaded(c, p)) {
			free(p);
			continue;
		}
		if (load_one(c, fs, p, q.importer[head], err) != SIGIL_STATUS_OK)
			goto out;
		sigil__ctd_file *f = &c->files[c->count - 1];
		version = merge_version(&c->rules, f, version);
		if (resolve_imports(fs, f->path, f->imports, c->count - 1, &q, err) != SIGIL_STATUS_OK)
			goto out;
	}
	/* Config.ValidateVersion */
	if (version > c->rules.config_version) {
		sigil__err(err, SIGIL_ERR_MALFORMED, "%s: config version %lld is higher than %lld, which %s "
			"refuses", path, (long long)version, (long long)c->rules.config_version, c->rules.name);
		goto out;
	}
	/* 2.0 to 2.2: server.New migrates every plugin table, or none */
	for (size_t i = 0; !c->rules.per_file && i < c->count; i++)
		c->files[i].cri_migrated = version < SIGIL_CTD_CONFIG_VERSION;
	c->version = version;
	*out = c;
	c = NULL;
	st = SIGIL_STATUS_OK;
out:
	for (size_t i = 0; i < q.count; i++)
		free(q.paths[i]);
	free(q.paths);
	free(q.importer);
	sigil__ctd_config_free(c);
	return st;
}

/* ---- merged lookups ------------------------------------------------------- */

/* How mergo.Merge(WithOverride) combines plugin tables (merge.go deepMerge,
 * case reflect.Map): a table merges into a table key by key; any other
 * value (scalar, array) replaces what was there, even false/0/""; a key a
 * later file does not mention keeps its value. So the value at a path is
 * the last file's that sets it, unless a later file set a table on the
 * way to a non-table, which drops the subtree. */
/* file_get - plugins.<plugin>.<keys...> in one file, or NULL;
 * *replaced when a non-table sits on the way (it drops the subtree) */
static const sigil__toml_value *file_get(const sigil__toml_value *doc, const char *plugin, const char *const *keys,
	size_t nkeys, bool *replaced)
{
	const sigil__toml_value *cur = doc;
	size_t n = 2 + nkeys;
	*replaced = false;
	for (size_t d = 0; d < n; d++) {
		const char *k = d == 0 ? "plugins" : d == 1 ? plugin : keys[d - 2];
		const sigil__toml_value *nx = sigil__toml_get(cur, k);
		if (!nx)
			return NULL;
		if (d + 1 < n && nx->type != SIGIL_TOML_TABLE) {
			*replaced = true;
			return NULL;
		}
		cur = nx;
	}
	return cur;
}

/* fold - merge one file's value v (from file_get) into r, recording at in
 * *loc when it is taken; nonempty: only a non-empty table counts */
static void fold(sigil__ctd_value *r, sigil__ctd_cri_loc *loc, const sigil__toml_value *v, bool replaced,
	const sigil__ctd_file *f, bool nonempty, sigil__ctd_cri_loc at)
{
	if (replaced || (v && nonempty && v->type != SIGIL_TOML_TABLE)) {
		r->v = NULL;
		r->file = NULL;
		*loc = SIGIL_CTD_CRI_DEFAULT;
	} else if (v && (!nonempty || v->count > 0)) {
		r->v = v;
		r->file = f;
		*loc = at;
	}
}

static sigil__ctd_value merged(const sigil__ctd_config *c, const char *plugin, const char *const *keys,
	size_t nkeys, bool nonempty)
{
	sigil__ctd_value r = { NULL, NULL };
	sigil__ctd_cri_loc loc = SIGIL_CTD_CRI_DEFAULT;
	for (size_t i = 0; i < c->count; i++) {
		bool replaced;
		const sigil__toml_value *v = file_get(c->files[i].doc, plugin, keys, nkeys, &replaced);
		fold(&r, &loc, v, replaced, &c->files[i], nonempty, SIGIL_CTD_CRI_V3);
	}
	return r;
}

sigil__ctd_value sigil__ctd_plugin_get(const sigil__ctd_config *c, const char *plugin,
	const char *const *keys, size_t nkeys)
{
	return merged(c, plugin, keys, nkeys, false);
}

sigil__ctd_value sigil__ctd_plugin_table_nonempty(const sigil__ctd_config *c, const char *plugin,
	const char *const *keys, size_t nkeys)
{
	return merged(c, plugin, keys, nkeys, true);
}

static bool in_list(const char *key, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(key, list[i]) == 0)
			return true;
	return false;
}

/* plugins/cri/images/plugin.go migrateConfig (v2.1.9 L185-251, the same
 * in v2.3.4 L196-262) copies into io.containerd.cri.v1.images, overwriting
 * it there: these keys of plugins."io.containerd.grpc.v1.cri" (`registry`
 * as a whole table) ... */
static const char *const v2_top[] = {
	"registry", "image_decryption", "max_concurrent_downloads",
	"image_pull_progress_timeout", "image_pull_with_sync_fs", "stats_collect_period",
};
/* ... and these of its `containerd` table, but only when that table has a
 * `runtimes` key: migrateConfig returns before copying them otherwise
 * (v2.1.9 L218-221). use_local_image_pull is not migrated at all: a
 * version 2 file sets it in io.containerd.cri.v1.images. */
static const char *const v2_containerd[] = {
	"snapshotter", "disable_snapshot_annotations", "discard_unpacked_layers",
};

/* cri_image_get_per_file - sigil__ctd_cri_image_get for containerd 2.3.0
 * and later: each migrated file's version 2 keys were copied into its own
 * images table before the merge (merge_version), replacing the same key
 * there, and only that file's `containerd.runtimes` counts; the files
 * then merge as any plugin table does, the last one winning. So a key in
 * a drop-in's images table overrides the main file's version 2 one, where
 * on 2.0 to 2.2 the merged version 2 value wins. */
static sigil__ctd_value cri_image_get_per_file(const sigil__ctd_config *c, const char *key, const char *sub,
	sigil__ctd_cri_loc *loc)
{
	sigil__ctd_value r = { NULL, NULL };
	bool top = in_list(key, v2_top, sizeof v2_top / sizeof v2_top[0]);
	bool ctr = !sub && in_list(key, v2_containerd, sizeof v2_containerd / sizeof v2_containerd[0]);
	for (size_t i = 0; i < c->count; i++) {
		const sigil__ctd_file *f = &c->files[i];
		bool rep = false;
		if (f->cri_migrated && (top || ctr)) {
			const sigil__toml_value *v = NULL;
			if (top) {
				const char *k[1] = { key };
				v = file_get(f->doc, CRI_V2, k, 1, &rep);
			} else {
				const char *rt[2] = { "containerd", "runtimes" };
				const char *k[2] = { "containerd", key };
				if (file_get(f->doc, CRI_V2, rt, 2, &rep))
					v = file_get(f->doc, CRI_V2, k, 2, &rep);
			}
			if (v) {
				if (!sub)
					fold(&r, loc, v, false, f, false, SIGIL_CTD_CRI_V2);
				else if (v->type != SIGIL_TOML_TABLE)  /* replaces the registry table */
					fold(&r, loc, NULL, true, f, true, SIGIL_CTD_CRI_V2);
				else  /* the file's images registry is now its version 2 one */
					fold(&r, loc, sigil__toml_get(v, sub), false, f, true, SIGIL_CTD_CRI_V2);
				continue;
			}
		}
		const char *k[2] = { key, sub };
		const sigil__toml_value *v = file_get(f->doc, CRI_IMAGES, k, sub ? 2 : 1, &rep);
		fold(&r, loc, v, rep, f, sub != NULL, SIGIL_CTD_CRI_V3);
	}
	return r;
}

sigil__ctd_value sigil__ctd_cri_image_get(const sigil__ctd_config *c, const char *key, const char *sub,
	sigil__ctd_cri_loc *loc)
{
	sigil__ctd_value none = { NULL, NULL };
	*loc = SIGIL_CTD_CRI_DEFAULT;
	if (c->rules.per_file)
		return cri_image_get_per_file(c, key, sub, loc);
	/* 2.0 to 2.2: server.New runs each plugin's ConfigMigration on the
	 * merged configuration when its version is below 3 */
	if (c->version < SIGIL_CTD_CONFIG_VERSION) {
		if (in_list(key, v2_top, sizeof v2_top / sizeof v2_top[0])) {
			const char *k[2] = { key, sub };
			sigil__ctd_value v = sigil__ctd_plugin_get(c, CRI_V2, k, 1);
			if (v.v) {
				if (!sub) {
					*loc = SIGIL_CTD_CRI_V2;
					return v;
				}
				/* the whole registry table came from version 2 */
				v = sigil__ctd_plugin_table_nonempty(c, CRI_V2, k, 2);
				if (v.v)
					*loc = SIGIL_CTD_CRI_V2;
				return v;
			}
		}
		if (!sub && in_list(key, v2_containerd, sizeof v2_containerd / sizeof v2_containerd[0])) {
			const char *rt[2] = { "containerd", "runtimes" };
			const char *k[2] = { "containerd", key };
			sigil__ctd_value v = sigil__ctd_plugin_get(c, CRI_V2, k, 2);
			if (v.v && sigil__ctd_plugin_get(c, CRI_V2, rt, 2).v) {
				*loc = SIGIL_CTD_CRI_V2;
				return v;
			}
		}
	}
	const char *k[2] = { key, sub };
	sigil__ctd_value v = sub ? sigil__ctd_plugin_table_nonempty(c, CRI_IMAGES, k, 2) :
		sigil__ctd_plugin_get(c, CRI_IMAGES, k, 1);
	if (!v.v)
		return none;
	*loc = SIGIL_CTD_CRI_V3;
	return v;
}
