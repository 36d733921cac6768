/* test-doctor.c - `sigil doctor`: containerd's configuration loaded as
 * containerd 2.1 loads it (imports, globs, relative paths, versions, v1
 * plugin names, deep merge, the v2 -> v3 CRI migration) and every finding
 * id, in version 2 and version 3 configurations, with its file:line and
 * fix; the probes; both output formats; and the command's exit statuses
 * (argv[1] is the built sigil). Fixtures are written into a private
 * temporary directory. */
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <json-c/json.h>
#include "containerd_config.h"
#include "doctor_containerd.h"
#include "doctor_findings.h"
#include "doctor_probe.h"
#include "errors.h"
#include "go_duration.h"
#include "check.h"

static char base[256];
static char W[512];          /* the current case's directory */
static const char *sigil_exe;

/* P - W/rel in one of 8 rotating buffers */
static const char *P(const char *rel)
{
	static char bufs[8][1024];
	static int k;
	char *b = bufs[k++ % 8];
	snprintf(b, sizeof bufs[0], "%s/%s", W, rel);
	return b;
}

static void mkdirs(const char *path)
{
	char tmp[1024];
	snprintf(tmp, sizeof tmp, "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(tmp, 0755);
			*p = '/';
		}
	}
	mkdir(tmp, 0755);
}

static void new_case(const char *name)
{
	snprintf(W, sizeof W, "%s/%s", base, name);
	mkdirs(W);
}

/* wr - write W/rel (parents made) from a printf format */
__attribute__((format(printf, 2, 3)))
static void wr(const char *rel, const char *fmt, ...)
{
	char dir[1024];
	snprintf(dir, sizeof dir, "%s", P(rel));
	*strrchr(dir, '/') = '\0';
	mkdirs(dir);
	FILE *f = fopen(P(rel), "w");
	if (!f) {
		perror(P(rel));
		exit(2);
	}
	va_list ap;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

static void mkexec(const char *rel, const char *body)
{
	wr(rel, "#!/bin/sh\n%s\n", body);
	chmod(P(rel), 0755);
}

/* the drop-in sigil ships, pointed at W/<bindir> */
static void dropin(const char *rel, const char *bindir)
{
	wr(rel, "[plugins.\"io.containerd.image-verifier.v1.bindir\"]\n  bin_dir = \"%s\"\n  max_verifiers = 10\n"
		"  per_verifier_timeout = \"10s\"\n", P(bindir));
}

/* a bin_dir holding only sigil-verifier */
static void bindir_ok(const char *rel)
{
	char r[256];
	snprintf(r, sizeof r, "%s/sigil-verifier", rel);
	mkexec(r, "exit 0");
}

/* load_v - load W/rel as containerd version (NULL: unknown) loads it */
static sigil__ctd_config *load_v(const char *rel, const char *version)
{
	sigil__ctd_config *c = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	sigil_status st = sigil__ctd_config_load(P(rel), version, &c, &err);
	CHECK_INTEQ(st, SIGIL_STATUS_OK);
	if (st != SIGIL_STATUS_OK)
		fprintf(stderr, "  load %s: %s\n", P(rel), err.message);
	return c;
}

static sigil__ctd_config *load(const char *rel)
{
	return load_v(rel, NULL);
}

/* doctor - load W/config.toml and run the configuration checks */
static sigil__ctd_config *doctor(sigil__doctor_findings *f)
{
	memset(f, 0, sizeof *f);
	sigil__ctd_config *c = load("config.toml");
	if (!c)
		return NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK_INTEQ(sigil__doctor_check_cri(c, f, &err), SIGIL_STATUS_OK);
	CHECK_INTEQ(sigil__doctor_check_bindir(c, P("vdir"), f, &err), SIGIL_STATUS_OK);
	CHECK_INTEQ(sigil__doctor_check_dropin(c, P("vdir"), f, &err), SIGIL_STATUS_OK);
	/* the checks that need no file system or version either */
	CHECK_INTEQ(sigil__doctor_check_disabled(c, NULL, f, &err), SIGIL_STATUS_OK);
	CHECK_INTEQ(sigil__doctor_check_timeout(c, 8000, "its default", f, &err), SIGIL_STATUS_OK);
	CHECK_INTEQ(sigil__doctor_check_dropin_version(c, NULL, f, &err), SIGIL_STATUS_OK);
	return c;
}

static void done(sigil__ctd_config *c, sigil__doctor_findings *f)
{
	sigil__ctd_config_free(c);
	sigil__doctor_findings_clear(f);
}

static void dump(const sigil__doctor_findings *f)
{
	for (size_t i = 0; i < f->count; i++)
		fprintf(stderr, "    [%d] %s: %s (%s:%zu) fix: %s\n", f->items[i].severity, f->items[i].id,
			f->items[i].message, f->items[i].file ? f->items[i].file : "-", f->items[i].line,
			f->items[i].fix ? f->items[i].fix : "-");
}

/* expect - a finding with id and severity; file (NULL: none), line, and
 * parts of the message and fix */
#define expect(f, id, sev, file, line, msg, fix) expect_at(__LINE__, f, id, sev, file, line, msg, fix)
static bool matches(const sigil__doctor_finding *x, sigil__doctor_severity sev, const char *file, size_t line,
	const char *msg, const char *fix)
{
	if (file ? !x->file || strcmp(file, x->file) != 0 : x->file != NULL)
		return false;
	if (x->line != line || (msg && !strstr(x->message, msg)) || (fix && (!x->fix || !strstr(x->fix, fix))))
		return false;
	return sev != SIGIL_DOCTOR_OK || !x->fix;
}

static void expect_at(int at, const sigil__doctor_findings *f, const char *id, sigil__doctor_severity sev,
	const char *file, size_t line, const char *msg, const char *fix)
{
	check__checks++;
	for (size_t i = 0; i < f->count; i++)
		if (strcmp(f->items[i].id, id) == 0 && f->items[i].severity == sev &&
				matches(&f->items[i], sev, file, line, msg, fix))
			return;
	check__failures++;
	fprintf(stderr, "FAIL line %d [%s]: no %s finding (severity %d) with file %s line %zu message ~\"%s\" "
		"fix ~\"%s\"; findings:\n", at, check__current, id, sev, file ? file : "-", line, msg ? msg : "",
		fix ? fix : "");
	dump(f);
}

/* no problem or warning with this id */
#define expect_none(f, id) expect_none_at(__LINE__, f, id)
static void expect_none_at(int at, const sigil__doctor_findings *f, const char *id)
{
	check__checks++;
	for (size_t i = 0; i < f->count; i++) {
		if (strcmp(f->items[i].id, id) == 0 && f->items[i].severity != SIGIL_DOCTOR_OK) {
			check__failures++;
			fprintf(stderr, "FAIL line %d [%s]: unexpected %s: %s\n", at, check__current, id,
				f->items[i].message);
			return;
		}
	}
}

static const char *const cri_ids[] = {
	"discard-unpacked-layers", "disable-snapshot-annotations", "registry-mirrors", "registry-configs",
	"registry-auths", "max-concurrent-downloads", "image-pull-with-sync-fs", "use-local-image-pull",
};

static void expect_no_cri_problem(const sigil__doctor_findings *f)
{
	for (size_t i = 0; i < sizeof cri_ids / sizeof cri_ids[0]; i++)
		expect_none(f, cri_ids[i]);
	expect(f, "use-local-image-pull", SIGIL_DOCTOR_OK, NULL, 0, "CRI pulls go through the transfer service", NULL);
}

/* ---- clean configurations -------------------------------------------------- */

static void test_clean_v2(void)
{
	new_case("clean-v2");
	/* Debian's shape plus the harness's: version 2, a relative glob import */
	wr("config.toml",
		"version = 2\n"
		"imports = [\"conf.d/*.toml\"]\n"
		"root = \"/var/lib/containerd\"\n"
		"[plugins.\"io.containerd.grpc.v1.cri\".containerd]\n"
		"  snapshotter = \"overlayfs\"\n"
		"  discard_unpacked_layers = false\n"
		"  disable_snapshot_annotations = true\n"
		"  [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]\n"
		"    runtime_type = \"io.containerd.runc.v2\"\n"
		"[plugins.\"io.containerd.grpc.v1.cri\".registry]\n"
		"  config_path = \"/etc/containerd/certs.d\"\n"
		"[plugins.\"io.containerd.gc.v1.scheduler\"]\n"
		"  pause_threshold = 0.02\n");
	dropin("conf.d/50-sigil.toml", "bin");
	bindir_ok("bin");
	sigil__doctor_findings f;
	sigil__ctd_config *c = doctor(&f);
	if (!c)
		return;
	CHECK_INTEQ(c->version, 2);
	CHECK_INTEQ(c->count, 2);
	CHECK_STREQ(c->files[1].path, P("conf.d/50-sigil.toml"));
	CHECK_INTEQ(f.problems, 0);
	CHECK_INTEQ(f.warnings, 0);
	if (f.problems || f.warnings)
		dump(&f);
	expect_no_cri_problem(&f);
	expect(&f, "verifier-missing", SIGIL_DOCTOR_OK, P("conf.d/50-sigil.toml"), 2, "sigil-verifier on every pull",
		NULL);
	expect(&f, "dropin-not-imported", SIGIL_DOCTOR_OK, P("conf.d/50-sigil.toml"), 2, "imported by", NULL);
	CHECK_INTEQ(sigil__doctor_exit_status(&f), 0);
	done(c, &f);
}

static void test_clean_v3(void)
{
	new_case("clean-v3");
	/* `containerd config default` (2.1.9) as written, plus imports */
	wr("config.toml",
		"version = 3\n"
		"root = '/var/lib/containerd'\n"
		"disabled_plugins = []\n"
		"imports = ['%s/conf.d/*.toml']\n"
		"[plugins]\n"
		"  [plugins.'io.containerd.cri.v1.images']\n"
		"    snapshotter = 'overlayfs'\n"
		"    disable_snapshot_annotations = true\n"
		"    discard_unpacked_layers = false\n"
		"    max_concurrent_downloads = 3\n"
		"    image_pull_with_sync_fs = false\n"
		"    use_local_image_pull = false\n"
		"    [plugins.'io.containerd.cri.v1.images'.registry]\n"
		"      config_path = ''\n"
		"  [plugins.'io.containerd.gc.v1.scheduler']\n"
		"    pause_threshold = 0.02\n"
		"    deletion_threshold = 0\n", W);
	dropin("conf.d/50-sigil.toml", "bin");
	bindir_ok("bin");
	sigil__doctor_findings f;
	sigil__ctd_config *c = doctor(&f);
	if (!c)
		return;
	CHECK_INTEQ(c->version, 3);
	CHECK_INTEQ(f.problems + f.warnings, 0);
	if (f.problems || f.warnings)
		dump(&f);
	expect_no_cri_problem(&f);
	CHECK_INTEQ(sigil__doctor_exit_status(&f), 0);
	done(c, &f);
}

/* ---- CRI local-pull fallback triggers ----------------------------------------- */

static void test_cri_v2_every_trigger(void)
{
	new_case("cri-v2");
	wr("config.toml",
		"version = 2\n"                                                            /* 1 */
		"imports = [\"conf.d/*.toml\"]\n"                                          /* 2 */
		"[plugins.\"io.containerd.grpc.v1.cri\"]\n"                                /* 3 */
		"  max_concurrent_downloads = 5\n"                                         /* 4 */
		"  image_pull_with_sync_fs = true\n"                                       /* 5 */
		"  [plugins.\"io.containerd.grpc.v1.cri\".containerd]\n"                   /* 6 */
		"    discard_unpacked_layers = true\n"                                     /* 7 */
		"    disable_snapshot_annotations = false\n"                               /* 8 */
		"    [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]\n"   /* 9 */
		"      runtime_type = \"io.containerd.runc.v2\"\n"                         /* 10 */
		"  [plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.\"docker.io\"]\n" /* 11 */
		"    endpoint = [\"https://mirror.example\"]\n"                            /* 12 */
		"  [plugins.\"io.containerd.grpc.v1.cri\".registry.configs.\"r.example\".tls]\n" /* 13 */
		"    insecure_skip_verify = true\n"                                        /* 14 */
		"  [plugins.\"io.containerd.grpc.v1.cri\".registry.auths.\"https://r.example\"]\n" /* 15 */
		"    username = \"u\"\n"                                                   /* 16 */
		"[plugins.\"io.containerd.cri.v1.images\"]\n"                              /* 17 */
		"  use_local_image_pull = true\n");                                        /* 18 */
	dropin("conf.d/50-sigil.toml", "bin");
	bindir_ok("bin");
	sigil__doctor_findings f;
	sigil__ctd_config *c = doctor(&f);
	if (!c)
		return;
	const char *m = P("config.toml");
	const char *v2 = "[plugins.\"io.containerd.grpc.v1.cri\"] of ";
	const char *v2c = "[plugins.\"io.containerd.grpc.v1.cri\".containerd] of ";
	char fx[2048];
	snprintf(fx, sizeof fx, "set discard_unpacked_layers = false in %s%s", v2c, m);
	expect(&f, "discard-unpacked-layers", SIGIL_DOCTOR_PROBLEM, m, 7,
		"discard_unpacked_layers = true (config version 2, version 2 table, migrated): CRI falls back to its "
		"local pull, which skips image verifiers", fx);
	snprintf(fx, sizeof fx, "set disable_snapshot_annotations = true in %s%s", v2c, m);
	expect(&f, "disable-snapshot-annotations", SIGIL_DOCTOR_PROBLEM, m, 8, "disable_snapshot_annotations = false", fx);
	snprintf(fx, sizeof fx, "set max_concurrent_downloads = 3 in %s%s", v2, m);
	expect(&f, "max-concurrent-downloads", SIGIL_DOCTOR_PROBLEM, m, 4, "max_concurrent_downloads = 5", fx);
	snprintf(fx, sizeof fx, "set image_pull_with_sync_fs = false in %s%s", v2, m);
	expect(&f, "image-pull-with-sync-fs", SIGIL_DOCTOR_PROBLEM, m, 5, "image_pull_with_sync_fs = true", fx);
	expect(&f, "registry-mirrors", SIGIL_DOCTOR_PROBLEM, m, 11, "registry.mirrors is set (1 entry, deprecated)",
		"delete the [plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors] table from");
	expect(&f, "registry-configs", SIGIL_DOCTOR_PROBLEM, m, 13, "registry.configs is set",
		"delete the [plugins.\"io.containerd.grpc.v1.cri\".registry.configs] table");
	expect(&f, "registry-auths", SIGIL_DOCTOR_PROBLEM, m, 15, "registry.auths is set",
		"delete the [plugins.\"io.containerd.grpc.v1.cri\".registry.auths] table");
	snprintf(fx, sizeof fx, "set use_local_image_pull = false in [plugins.\"io.containerd.cri.v1.images\"] of %s", m);
	expect(&f, "use-local-image-pull", SIGIL_DOCTOR_PROBLEM, m, 18, "use_local_image_pull = true", fx);
	CHECK_INTEQ(f.problems, 8);
	CHECK_INTEQ(sigil__doctor_exit_status(&f), 1);
	/* the headline the summary line uses */
	const sigil__doctor_finding *d = sigil__doctor_find(&f, "discard-unpacked-layers");
	if (d) {
		char h[2048];
		snprintf(h, sizeof h, "CRI pulls bypass image verifiers (discard_unpacked_layers = true in %s)", m);
		CHECK_STREQ(d->headline, h);
	}
	done(c, &f);
}

static void test_cri_v2_not_migrated(void)
{
	new_case("cri-v2-not-migrated");
	/* plugins/cri/images/plugin.go migrateConfig returns before copying the
	 * .containerd keys when there is no .containerd.runtimes, and never
	 * migrates use_local_image_pull: containerd ignores both here */
	wr("config.toml",
		"version = 2\n"
		"[plugins.\"io.containerd.grpc.v1.cri\"]\n"
		"  use_local_image_pull = true\n"
		"  [plugins.\"io.containerd.grpc.v1.cri\".containerd]\n"
		"    discard_unpacked_layers = true\n"
		"    disable_snapshot_annotations = false\n"
		"[plugins.\"io.containerd.image-verifier.v1.bindir\"]\n"
		"  bin_dir = \"%s\"\n", P("bin"));
	bindir_ok("bin");
	sigil__doctor_findings f;
	sigil__ctd_config *c = doctor(&f);
	if (!c)
		return;
	expect_no_cri_problem(&f);
	CHECK_INTEQ(f.problems, 0);
	done(c, &f);
}

static void test_cri_v3_every_trigger(void)
{
	new_case("cri-v3");
	wr("config.toml",
		"version = 3\n"                                                             /* 1 */
		"imports = ['conf.d/*.toml']\n"                                             /* 2 */
		"[plugins]\n"                                                               /* 3 */
		"  [plugins.'io.containerd.cri.v1.images']\n"                               /* 4 */
		"    discard_unpacked_layers = true\n"                                      /* 5 */
		"    disable_snapshot_annotations = false\n"                                /* 6 */
		"    max_concurrent_downloads = 1\n"                                        /* 7 */
		"    image_pull_with_sync_fs = true\n"                                      /* 8 */
		"    use_local_image_pull = true\n"                                         /* 9 */
		"    [plugins.'io.containerd.cri.v1.images'.registry.mirrors.'docker.io']\n" /* 10 */
		"      endpoint = ['https://m.example']\n"                                  /* 11 */
		"    [plugins.'io.containerd.cri.v1.images'.registry]\n"                    /* 12 */
		"      config_path = ''\n"                                                  /* 13 */
		"      configs = { 'r.example' = { tls = { insecure_skip_verify = true } } }\n" /* 14 */
		"      auths.\"https://r.example\".username = 'u'\n");                      /* 15 */
	dropin("conf.d/50-sigil.toml", "bin");
	bindir_ok("bin");
	sigil__doctor_findings f;
	sigil__ctd_config *c = doctor(&f);
	if (!c)
		return;
	const char *m = P("config.toml");
	char fx[2048];
	snprintf(fx, sizeof fx, "set discard_unpacked_layers = false in [plugins.\"io.containerd.cri.v1.images\"] of %s", m);
	expect(&f, "discard-unpacked-layers", SIGIL_DOCTOR_PROBLEM, m, 5,
		"discard_unpacked_layers = true (config version 3, io.containerd.cri.v1.images)", fx);
	expect(&f, "disable-snapshot-annotations", SIGIL_DOCTOR_PROBLEM, m, 6, "disable_snapshot_annotations = false",
		"set disable_snapshot_annotations = true in [plugins.\"io.containerd.cri.v1.images\"]");
	expect(&f, "max-concurrent-downloads", SIGIL_DOCTOR_PROBLEM, m, 7, "max_concurrent_downloads = 1",
		"set max_concurrent_downloads = 3 in [plugins.\"io.containerd.cri.v1.images\"]");
	expect(&f, "image-pull-with-sync-fs", SIGIL_DOCTOR_PROBLEM, m, 8, NULL, "image_pull_with_sync_fs = false");
	expect(&f, "use-local-image-pull", SIGIL_DOCTOR_PROBLEM, m, 9, NULL, "use_local_image_pull = false");
	expect(&f, "registry-mirrors", SIGIL_DOCTOR_PROBLEM, m, 10, "1 entry",
		"[plugins.\"io.containerd.cri.v1.images\".registry.mirrors]");
	expect(&f, "registry-configs", SIGIL_DOCTOR_PROBLEM, m, 14, NULL,
		"[plugins.\"io.containerd.cri.v1.images\".registry.configs]");
	expect(&f, "registry-auths", SIGIL_DOCTOR_PROBLEM, m, 15, NULL,
		"[plugins.\"io.containerd.cri.v1.images\".registry.auths]");
	CHECK_INTEQ(f.problems, 8);
	done(c, &f);
}

static void test_cri_v3_ignores_v2_tables(void)
{
	new_case("cri-v3-ignores-v2");
	/* no migration in a version 3 config: the v2 tables are not read */
	wr("config.toml",
		"version = 3\n"
		"[plugins.\"io.containerd.grpc.v1.cri\".containerd]\n"
		"  discard_unpacked_layers = true\n"
		"  [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]\n"
		"    runtime_type = \"io.containerd.runc.v2\"\n"
		"[plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.\"docker.io\"]\n"
		"  endpoint = [\"https://m\"]\n"
		"[plugins.\"io.containerd.image-verifier.v1.bindir\"]\n"
		"  bin_dir = \"%s\"\n", P("bin"));
	bindir_ok("bin");
	sigil__doctor_findings f;
	sigil__ctd_config *c = doctor(&f);
	if (c)
		expect_no_cri_problem(&f);
	done(c, &f);

	/* a version-less main file is migrated to 3 at load (LoadConfig), v1
	 * short names renamed: still no CRI migration */
	new_case("cri-versionless-main");
	wr("config.toml",
		"[plugins.cri.containerd]\n"
		"  discard_unpacked_layers = true\n"
		"  [plugins.cri.containerd.runtimes.runc]\n"
		"    runtime_type = \"io.containerd.runc.v2\"\n"
		"[plugins.\"io.containerd.cri.v1.images\"]\n"
		"  image_pull_with_sync_fs = true\n");
	c = doctor(&f);
	if (c) {
		CHECK_INTEQ(c->version, 3);
		expect_none(&f, "discard-unpacked-layers");
		expect(&f, "image-pull-with-sync-fs", SIGIL_DOCTOR_PROBLEM, P("config.toml"), 6, NULL, NULL);
	}
	done(c, &f);
}

static void test_cri_wrong_type(void)
{
	new_case("cri-wrong-type");
	wr("config.toml",
		"version = 3\n"
		"[plugins.'io.containerd.cri.v1.images']\n"
		"  discard_unpacked_layers = 'true'\n"
		"  max_concurrent_downloads = 3.0\n");
	sigil__doctor_findings f;
	sigil__ctd_config *c = doctor(&f);
	if (c) {
		expect(&f, "discard-unpacked-layers", SIGIL_DOCTOR_PROBLEM, P("config.toml"), 3,
			"discard_unpacked_layers is a string, not a boolean: containerd cannot decode", "as a boolean");
		expect(&f, "max-concurrent-downloads", SIGIL_DOCTOR_PROBLEM, P("config.toml"), 4,
			"is a float, not an integer", NULL);
	}
	done(c, &f);
}

/* ---- imports and merging ------------------------------------------------------ */

static void test_version_override(void)
{
	/* a drop-in's version 3 overrides the main file's 2: the main file's
	 * CRI tables are then not migrated (containerd.md §4) */
	new_case("version-override");
	const char *main_cfg =
		"version = 2\n"
		"imports = [\"conf.d/*.toml\"]\n"
		"[plugins.\"io.containerd.grpc.v1.cri\".containerd]\n"
		"  discard_unpacked_layers = true\n"
		"  [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]\n"
		"    runtime_type = \"io.containerd.runc.v2\"\n";
	wr("config.toml", "%s", main_cfg);
	wr("conf.d/10-v3.toml", "version = 3\n");
	dropin("conf.d/50-sigil.toml", "bin");
	bindir_ok("bin");
	sigil__doctor_findings f;
	sigil__ctd_config *c = doctor(&f);
	if (c) {
		CHECK_INTEQ(c->version, 3);
		expect_none(&f, "discard-unpacked-layers");
	}
	done(c, &f);
	/* without the version line the drop-in is migrated to 2 and the main
	 * file's setting is in force */
	wr("conf.d/10-v3.toml", "# no version\n");
	c = doctor(&f);
	if (c) {
		CHECK_INTEQ(c->version, 2);
		expect(&f, "discard-unpacked-layers", SIGIL_DOCTOR_PROBLEM, P("config.toml"), 4, NULL, NULL);
	}
	done(c, &f);
}

static void test_merge_later_wins(void)
{
	new_case("merge");
	wr("config.toml",
		"version = 2\n"
		"imports = [\"conf.d/*.toml\"]\n"
		"[plugins.\"io.containerd.grpc.v1.cri\"]\n"
		"  max_concurrent_downloads = 5\n"
		"  [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]\n"
		"    runtime_type = \"io.containerd.runc.v2\"\n"
		"[plugins.\"io.containerd.cri.v1.images\".registry.mirrors.\"docker.io\"]\n"
		"  endpoint = [\"https://m\"]\n");
	/* glob order: 10-a before 20-b; a later false overrides a true
	 * (mergo WithOverride sets zero values inside plugin maps) */
	wr("conf.d/10-a.toml",
		"[plugins.\"io.containerd.grpc.v1.cri\".containerd]\n"
		"  discard_unpacked_layers = true\n");
	wr("conf.d/20-b.toml",
		"[plugins.\"io.containerd.grpc.v1.cri\".containerd]\n"
		"  discard_unpacked_layers = false\n"
		"[plugins.\"io.containerd.grpc.v1.cri\"]\n"
		"  max_concurrent_downloads = 3\n"
		"# an empty table does not empty the merged one\n"
		"[plugins.\"io.containerd.cri.v1.images\".registry.mirrors]\n");
	dropin("conf.d/50-sigil.toml", "bin");
	bindir_ok("bin");
	sigil__doctor_findings f;
	sigil__ctd_config *c = doctor(&f);
	if (c) {
		CHECK_INTEQ(c->count, 4);
		expect_none(&f, "discard-unpacked-layers");
		expect_none(&f, "max-concurrent-downloads");
		/* no v2 registry table: the v3 one is in force */
		expect(&f, "registry-mirrors", SIGIL_DOCTOR_PROBLEM, P("config.toml"), 7, NULL,
			"[plugins.\"io.containerd.cri.v1.images\".registry.mirrors]");
		CHECK_INTEQ(f.problems, 1);
	}
	done(c, &f);
	/* the other way round: the later true wins, and is reported where */
	wr("conf.d/10-a.toml",
		"[plugins.\"io.containerd.grpc.v1.cri\".containerd]\n"
		"  discard_unpacked_layers = false\n");
	wr("conf.d/20-b.toml",
		"\n"
		"[plugins.\"io.containerd.grpc.v1.cri\".containerd]\n"
		"  discard_unpacked_layers = true\n"
		"[plugins.\"io.containerd.grpc.v1.cri\".registry]\n"
		"  config_path = \"/etc/containerd/certs.d\"\n");
	c = doctor(&f);
	if (c) {
		expect(&f, "discard-unpacked-layers", SIGIL_DOCTOR_PROBLEM, P("conf.d/20-b.toml"), 3, NULL,
			"of ");
		/* a version 2 registry table replaces the v3 one as a whole
		 * (migrateConfig copies `registry`): the v3 mirrors are gone */
		expect_none(&f, "registry-mirrors");
		expect(&f, "max-concurrent-downloads", SIGIL_DOCTOR_PROBLEM, P("config.toml"), 4, NULL, NULL);
	}
	done(c, &f);
}

static void test_imports_resolution(void)
{
	new_case("imports");
	wr("config.toml",
		"version = 3\n"
		"imports = [\"./conf.d//*.toml\", \"conf.d/nomatch-*.toml\"]\n");
	/* relative to the importing file's directory, which is conf.d here */
	wr("conf.d/a.toml", "imports = [\"../more/b.toml\"]\n");
	wr("more/b.toml",
		"imports = [\"../config.toml\", \"../conf.d/a.toml\"]\n"  /* circular: skipped */
		"[plugins.'io.containerd.cri.v1.images']\n"
		"  discard_unpacked_layers = true\n");
	/* '*' matches a leading dot, as Go's filepath.Match does */
	wr("conf.d/.hidden.toml",
		"[plugins.'io.containerd.cri.v1.images']\n"
		"  image_pull_with_sync_fs = true\n");
	wr("conf.d/not-toml.conf", "this is not TOML = = =\n");
	dropin("conf.d/50-sigil.toml", "bin");
	bindir_ok("bin");
	sigil__doctor_findings f;
	sigil__ctd_config *c = doctor(&f);
	if (c) {
		/* breadth first: main, then conf.d/ sorted (".hidden" < "50-" < "a"),
		 * then what a.toml imports */
		CHECK_INTEQ(c->count, 5);
		if (c->count == 5) {
			CHECK_STREQ(c->files[1].path, P("conf.d/.hidden.toml"));
			CHECK_STREQ(c->files[2].path, P("conf.d/50-sigil.toml"));
			CHECK_STREQ(c->files[3].path, P("conf.d/a.toml"));
			CHECK_STREQ(c->files[4].path, P("more/b.toml"));
			CHECK_INTEQ(c->files[4].importer, 3);
		}
		expect(&f, "discard-unpacked-layers", SIGIL_DOCTOR_PROBLEM, P("more/b.toml"), 3, NULL, NULL);
		expect(&f, "image-pull-with-sync-fs", SIGIL_DOCTOR_PROBLEM, P("conf.d/.hidden.toml"), 2, NULL, NULL);
		expect(&f, "dropin-not-imported", SIGIL_DOCTOR_OK, P("conf.d/50-sigil.toml"), 2, NULL, NULL);
	}
	done(c, &f);

	/* v1 short names in a version-less drop-in, migrated to the main
	 * file's version 2 (v1Migrate: cri -> io.containerd.grpc.v1.cri) */
	new_case("imports-v1-names");
	wr("config.toml", "version = 2\nimports = [\"old.toml\"]\n");
	wr("old.toml",
		"[plugins.cri.containerd]\n"
		"  discard_unpacked_layers = true\n"
		"  [plugins.cri.containerd.runtimes.runc]\n"
		"    runtime_type = \"io.containerd.runc.v2\"\n");
	c = doctor(&f);
	if (c)
		expect(&f, "discard-unpacked-layers", SIGIL_DOCTOR_PROBLEM, P("old.toml"), 2, NULL,
			"[plugins.\"io.containerd.grpc.v1.cri\".containerd] of");
	done(c, &f);
}

/* load_fails - the configuration containerd would refuse */
#define load_fails(rel, cat, msg) do { \
	sigil__ctd_config *lf_c = NULL; sigil_error lf_e = SIGIL_ERROR_INIT; \
	CHECK_INTEQ(sigil__ctd_config_load(P(rel), NULL, &lf_c, &lf_e), SIGIL_STATUS_ERROR); \
	CHECK(lf_c == NULL); CHECK_INTEQ(lf_e.category, (cat)); CHECK_CONTAINS(lf_e.message, (msg)); \
	sigil__ctd_config_free(lf_c); } while (0)

static void test_load_errors(void)
{
	new_case("load-errors");
	char msg[1024];
	load_fails("absent.toml", SIGIL_ERR_IO, "absent.toml: No such file or directory");
	/* an import without '*' must exist: containerd stops otherwise */
	wr("c1.toml", "imports = [\"/nonexistent/x.toml\"]\n");
	snprintf(msg, sizeof msg, "imported by %s: /nonexistent/x.toml: No such file or directory", P("c1.toml"));
	load_fails("c1.toml", SIGIL_ERR_IO, msg);
	wr("c2.toml", "imports = [\"bad.toml\"]\n");
	wr("bad.toml", "[plugins\n");
	snprintf(msg, sizeof msg, "%s: line 1: expected ']'", P("bad.toml"));
	load_fails("c2.toml", SIGIL_ERR_MALFORMED, msg);
	wr("c3.toml", "version = 4\n");
	load_fails("c3.toml", SIGIL_ERR_MALFORMED, "config version 4 is higher than 3");
	wr("c4.toml", "version = \"2\"\n");
	load_fails("c4.toml", SIGIL_ERR_MALFORMED, "line 1: version must be a non-negative integer");
	wr("c5.toml", "imports = \"conf.d/*.toml\"\n");
	load_fails("c5.toml", SIGIL_ERR_MALFORMED, "imports must be an array of strings");
	mkdirs(P("dir.toml"));
	load_fails("dir.toml", SIGIL_ERR_IO, "is a directory");
	wr("c6.toml", "a = 1979-05-27\n");
	load_fails("c6.toml", SIGIL_ERR_UNSUPPORTED, "dates and times are not supported");
}

static void test_paths(void)
{
	static const char *const cases[][2] = {
		{ "", "." }, { "/", "/" }, { "a//b/./c/", "a/b/c" }, { "/../a", "/a" }, { "../../a", "../../a" },
		{ "a/../..", ".." }, { "/etc/containerd/conf.d/../x.toml", "/etc/containerd/x.toml" },
		{ "./conf.d//*.toml", "conf.d/*.toml" }, { "a/b/../../..", ".." }, { "//a", "/a" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *c = sigil__ctd_path_clean(cases[i][0]);
		CHECK_STREQ(c, cases[i][1]);
		free(c);
	}
	char *d = sigil__ctd_path_dir("/etc/containerd/config.toml");
	CHECK_STREQ(d, "/etc/containerd");
	free(d);
	d = sigil__ctd_path_dir("config.toml");
	CHECK_STREQ(d, ".");
	free(d);
	d = sigil__ctd_path_dir("/config.toml");
	CHECK_STREQ(d, "/");
	free(d);
}

/* ---- the bindir plugin ---------------------------------------------------------- */

/* bindir_case - a version 3 config whose main file sets the bindir plugin
 * (extra lines appended), and the bindir findings */
static sigil__ctd_config *bindir_case(const char *name, const char *bin_dir_line, const char *extra,
	sigil__doctor_findings *f)
{
	new_case(name);
	wr("config.toml", "version = 3\n[plugins.\"io.containerd.image-verifier.v1.bindir\"]\n%s\n%s",
		bin_dir_line, extra ? extra : "");
	memset(f, 0, sizeof *f);
	sigil__ctd_config *c = load("config.toml");
	if (!c)
		return NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK_INTEQ(sigil__doctor_check_bindir(c, P("vdir"), f, &err), SIGIL_STATUS_OK);
	return c;
}

static void test_bindir(void)
{
	sigil__doctor_findings f;
	char line[1024], m[1024], x[1024];

	/* absent directory: containerd allows every pull */
	snprintf(line, sizeof line, "bin_dir = \"%s/nope\"", base);
	sigil__ctd_config *c = bindir_case("bd-missing", line, NULL, &f);
	snprintf(m, sizeof m, "bin_dir %s/nope does not exist: containerd allows every pull", base);
	if (c)
		expect(&f, "bin-dir-missing", SIGIL_DOCTOR_PROBLEM, P("config.toml"), 3, m,
			"bin_dir = \"");
	done(c, &f);

	c = bindir_case("bd-empty-string", "bin_dir = \"\"", NULL, &f);
	if (c)
		expect(&f, "bin-dir-missing", SIGIL_DOCTOR_PROBLEM, P("config.toml"), 3,
			"bin_dir = \"\": containerd finds no verifier directory and allows every pull unverified",
			"set bin_dir = \"");
	done(c, &f);

	snprintf(line, sizeof line, "bin_dir = \"%s/bd-empty/bin\"", base);
	c = bindir_case("bd-empty", line, NULL, &f);
	mkdirs(P("bin"));
	sigil__doctor_findings_clear(&f);
	sigil_error err = SIGIL_ERROR_INIT;
	if (c) {
		CHECK_INTEQ(sigil__doctor_check_bindir(c, P("vdir"), &f, &err), SIGIL_STATUS_OK);
		snprintf(x, sizeof x, "install -m 755 %s/sigil-verifier %s/", P("vdir"), P("bin"));
		expect(&f, "bin-dir-empty", SIGIL_DOCTOR_PROBLEM, P("config.toml"), 3, "is empty: containerd allows every pull", x);
	}
	done(c, &f);

	/* a bin_dir that cannot be listed fails every pull (ENOTDIR here) */
	snprintf(line, sizeof line, "bin_dir = \"%s/bd-unreadable/file\"", base);
	c = bindir_case("bd-unreadable", line, NULL, &f);
	wr("file", "x\n");
	sigil__doctor_findings_clear(&f);
	if (c) {
		CHECK_INTEQ(sigil__doctor_check_bindir(c, P("vdir"), &f, &err), SIGIL_STATUS_OK);
		expect(&f, "bin-dir-unreadable", SIGIL_DOCTOR_PROBLEM, P("config.toml"), 3,
			"cannot list bin_dir", "a directory containerd can read");
		CHECK_CONTAINS(f.count ? f.items[0].message : "", "Not a directory");
	}
	done(c, &f);

	/* entries containerd cannot execute; another verifier; a stray file
	 * after max_verifiers is never executed */
	snprintf(line, sizeof line, "bin_dir = \"%s/bd-entries/bin\"", base);
	c = bindir_case("bd-entries", line, NULL, &f);
	bindir_ok("bin");
	wr("bin/README", "not a program\n");
	mkdirs(P("bin/conf.d"));
	CHECK(symlink(P("nowhere"), P("bin/00-dangling")) == 0);
	mkexec("bin/20-other", "exit 0");
	sigil__doctor_findings_clear(&f);
	if (c) {
		CHECK_INTEQ(sigil__doctor_check_bindir(c, P("vdir"), &f, &err), SIGIL_STATUS_OK);
		snprintf(m, sizeof m, "%s is not executable: containerd executes every entry of bin_dir and fails every pull",
			P("bin/README"));
		snprintf(x, sizeof x, "move %s out of %s: bin_dir must hold sigil-verifier and nothing else", P("bin/README"),
			P("bin"));
		expect(&f, "bin-dir-entry", SIGIL_DOCTOR_PROBLEM, NULL, 0, m, x);
		snprintf(m, sizeof m, "%s is a directory", P("bin/conf.d"));
		int dirs = 0, dangling = 0, others = 0;
		for (size_t i = 0; i < f.count; i++) {
			dirs += strstr(f.items[i].message, m) != NULL && f.items[i].severity == SIGIL_DOCTOR_PROBLEM;
			dangling += strstr(f.items[i].message, "00-dangling is a dangling symlink") != NULL;
			others += strstr(f.items[i].message, "20-other is another image verifier") != NULL &&
				f.items[i].severity == SIGIL_DOCTOR_WARNING;
		}
		CHECK_INTEQ(dirs, 1);
		CHECK_INTEQ(dangling, 1);
		CHECK_INTEQ(others, 1);
		CHECK_INTEQ(f.problems, 3);
		CHECK_INTEQ(f.warnings, 1);
		/* sigil-verifier itself is fine */
		expect(&f, "verifier-missing", SIGIL_DOCTOR_OK, P("config.toml"), 3, NULL, NULL);
	}
	done(c, &f);

	/* no sigil-verifier */
	snprintf(line, sizeof line, "bin_dir = \"%s/bd-nosigil/bin\"", base);
	c = bindir_case("bd-nosigil", line, NULL, &f);
	mkexec("bin/other-verifier", "exit 0");
	sigil__doctor_findings_clear(&f);
	if (c) {
		CHECK_INTEQ(sigil__doctor_check_bindir(c, P("vdir"), &f, &err), SIGIL_STATUS_OK);
		expect(&f, "verifier-missing", SIGIL_DOCTOR_PROBLEM, P("config.toml"), 3,
			"has no sigil-verifier: containerd runs only the other 1 entry, and sigil checks no pull",
			"install -m 755");
		expect(&f, "bin-dir-entry", SIGIL_DOCTOR_WARNING, NULL, 0, "other-verifier is another image verifier", NULL);
	}
	done(c, &f);

	/* max_verifiers = 0: nothing runs */
	snprintf(line, sizeof line, "bin_dir = \"%s/bd-max0/bin\"", base);
	c = bindir_case("bd-max0", line, "max_verifiers = 0\n", &f);
	bindir_ok("bin");
	sigil__doctor_findings_clear(&f);
	if (c) {
		CHECK_INTEQ(sigil__doctor_check_bindir(c, P("vdir"), &f, &err), SIGIL_STATUS_OK);
		snprintf(x, sizeof x, "set max_verifiers = 10 in [plugins.\"io.containerd.image-verifier.v1.bindir\"] of %s",
			P("config.toml"));
		expect(&f, "max-verifiers", SIGIL_DOCTOR_PROBLEM, P("config.toml"), 4,
			"max_verifiers = 0: containerd skips every verifier", x);
		expect_none(&f, "verifier-missing");
		CHECK(sigil__doctor_find(&f, "verifier-missing") == NULL);
	}
	done(c, &f);

	/* max_verifiers = 1 and an entry sorting before sigil-verifier; a
	 * broken entry after the cut is never executed */
	snprintf(line, sizeof line, "bin_dir = \"%s/bd-max1/bin\"", base);
	c = bindir_case("bd-max1", line, "max_verifiers = 1\n", &f);
	bindir_ok("bin");
	mkexec("bin/00-first", "exit 0");
	wr("bin/zz-README", "x\n");
	sigil__doctor_findings_clear(&f);
	if (c) {
		CHECK_INTEQ(sigil__doctor_check_bindir(c, P("vdir"), &f, &err), SIGIL_STATUS_OK);
		expect(&f, "max-verifiers", SIGIL_DOCTOR_PROBLEM, P("config.toml"), 4,
			"max_verifiers = 1, but sigil-verifier is entry 2 of 3", "or set max_verifiers = 3");
		expect(&f, "bin-dir-entry", SIGIL_DOCTOR_WARNING, NULL, 0, "00-first is another image verifier", NULL);
		CHECK_INTEQ(f.problems, 1);
	}
	done(c, &f);

	/* sigil-verifier under another name (a symlink to it) counts; a
	 * non-executable sigil-verifier does not */
	snprintf(line, sizeof line, "bin_dir = \"%s/bd-link/bin\"", base);
	c = bindir_case("bd-link", line, NULL, &f);
	bindir_ok("vdir");
	mkdirs(P("bin"));
	CHECK(symlink(P("vdir/sigil-verifier"), P("bin/10-sigil")) == 0);
	sigil__doctor_findings_clear(&f);
	if (c) {
		CHECK_INTEQ(sigil__doctor_check_bindir(c, P("vdir"), &f, &err), SIGIL_STATUS_OK);
		CHECK_INTEQ(f.problems + f.warnings, 0);
		snprintf(m, sizeof m, "containerd runs %s on every pull", P("bin/10-sigil"));
		expect(&f, "verifier-missing", SIGIL_DOCTOR_OK, P("config.toml"), 3, m, NULL);
	}
	done(c, &f);
	snprintf(line, sizeof line, "bin_dir = \"%s/bd-noexec/bin\"", base);
	c = bindir_case("bd-noexec", line, NULL, &f);
	wr("bin/sigil-verifier", "#!/bin/sh\n");
	sigil__doctor_findings_clear(&f);
	if (c) {
		CHECK_INTEQ(sigil__doctor_check_bindir(c, P("vdir"), &f, &err), SIGIL_STATUS_OK);
		snprintf(x, sizeof x, "install -m 755 %s/sigil-verifier %s", P("vdir"), P("bin/sigil-verifier"));
		expect(&f, "bin-dir-entry", SIGIL_DOCTOR_PROBLEM, NULL, 0, "sigil-verifier is not executable", x);
		CHECK(sigil__doctor_find(&f, "verifier-missing") == NULL);
	}
	done(c, &f);

	c = bindir_case("bd-type", "bin_dir = 5", NULL, &f);
	if (c)
		expect(&f, "bin-dir-unreadable", SIGIL_DOCTOR_PROBLEM, P("config.toml"), 3,
			"bin_dir is an integer, not a string: containerd cannot decode", NULL);
	done(c, &f);
	c = bindir_case("bd-max-type", "max_verifiers = '3'", NULL, &f);
	if (c)
		expect(&f, "max-verifiers", SIGIL_DOCTOR_PROBLEM, P("config.toml"), 3, "max_verifiers is a string", NULL);
	done(c, &f);

	/* nothing sets bin_dir: containerd's default directory */
	c = bindir_case("bd-default", "", NULL, &f);
	struct stat st;
	if (c && stat(SIGIL_CTD_DEFAULT_BIN_DIR, &st) != 0) {
		expect(&f, "bin-dir-missing", SIGIL_DOCTOR_PROBLEM, NULL, 0,
			"bin_dir /opt/containerd/image-verifier/bin (containerd's default: no file sets bin_dir) does not exist",
			"set bin_dir = \"");
	} else if (c) {
		printf("SKIPPED bd-default: %s exists on this machine\n", SIGIL_CTD_DEFAULT_BIN_DIR);
	}
	done(c, &f);
}

/* ---- sigil's drop-in ------------------------------------------------------------ */

static void test_dropin(void)
{
	sigil__doctor_findings f;
	char x[2048];

	/* no imports line at all (Debian's config.toml) */
	new_case("di-none");
	wr("config.toml", "version = 2\n");
	sigil__ctd_config *c = doctor(&f);
	if (c) {
		snprintf(x, sizeof x, "add this line at the top of %s (before any [table]): imports = [\"%s\"], make sure "
			"%s is installed, then restart containerd", P("config.toml"), P("conf.d/*.toml"),
			P("conf.d/50-sigil.toml"));
		expect(&f, "dropin-not-imported", SIGIL_DOCTOR_WARNING, P("config.toml"), 0,
			"does not import sigil's drop-in", x);
	}
	done(c, &f);

	/* other imports: keep them, add conf.d */
	new_case("di-other");
	wr("config.toml", "version = 2\nimports = [\"/etc/other/*.toml\", 'q\"uote.toml']\n");
	wr("quote.toml", "\n");
	wr("q\"uote.toml", "\n");
	c = doctor(&f);
	if (c) {
		snprintf(x, sizeof x, "replace the imports line (line 2) of %s with: imports = [\"/etc/other/*.toml\", "
			"\"q\\\"uote.toml\", \"%s\"]", P("config.toml"), P("conf.d/*.toml"));
		expect(&f, "dropin-not-imported", SIGIL_DOCTOR_WARNING, P("config.toml"), 2, NULL, x);
	}
	done(c, &f);

	/* conf.d is imported (relative) but holds no drop-in */
	new_case("di-glob");
	wr("config.toml", "version = 2\nimports = [\"conf.d/*.toml\"]\n");
	wr("conf.d/10-other.toml", "[plugins.'io.containerd.cri.v1.images']\n  snapshotter = 'overlayfs'\n");
	c = doctor(&f);
	if (c) {
		snprintf(x, sizeof x, "install sigil's drop-in as %s", P("conf.d/50-sigil.toml"));
		expect(&f, "dropin-not-imported", SIGIL_DOCTOR_WARNING, P("config.toml"), 2, "but no file there", x);
	}
	done(c, &f);

	/* the drop-in names sigil's install directory: imported, even before
	 * sigil-verifier is installed (that is verifier-missing's business) */
	new_case("di-vdir");
	wr("config.toml", "version = 2\nimports = [\"conf.d/*.toml\"]\n");
	wr("conf.d/50-sigil.toml", "[plugins.\"io.containerd.image-verifier.v1.bindir\"]\n  bin_dir = \"%s\"\n",
		P("vdir"));
	c = doctor(&f);
	if (c) {
		expect(&f, "dropin-not-imported", SIGIL_DOCTOR_OK, P("conf.d/50-sigil.toml"), 2, NULL, NULL);
		expect(&f, "bin-dir-missing", SIGIL_DOCTOR_PROBLEM, P("conf.d/50-sigil.toml"), 2, NULL,
			"install sigil: it puts sigil-verifier in");
	}
	done(c, &f);

	/* the main file configures the plugin itself: no drop-in needed */
	new_case("di-main");
	wr("config.toml", "version = 2\n[plugins.\"io.containerd.image-verifier.v1.bindir\"]\n  bin_dir = \"%s\"\n",
		P("bin"));
	bindir_ok("bin");
	c = doctor(&f);
	if (c) {
		CHECK(sigil__doctor_find(&f, "dropin-not-imported") == NULL);
		CHECK_INTEQ(f.problems + f.warnings, 0);
	}
	done(c, &f);
}

/* ---- Go durations (per_verifier_timeout) ------------------------------------------ */

#define dur_ok(s, want) dur_ok_at(__LINE__, (const uint8_t *)(s), sizeof(s) - 1, (want))
static void dur_ok_at(int at, const uint8_t *s, size_t len, int64_t want)
{
	int64_t got = 12345;
	sigil_error err = SIGIL_ERROR_INIT;
	check__checks++;
	if (sigil__go_duration_parse(s, len, &got, &err) != SIGIL_STATUS_OK || got != want) {
		check__failures++;
		fprintf(stderr, "FAIL line %d: \"%.*s\": want %lld, got %lld (%s)\n", at, (int)len, (const char *)s,
			(long long)want, (long long)got, err.message);
	}
}

#define dur_bad(s, cat, off, msg) dur_bad_at(__LINE__, (const uint8_t *)(s), sizeof(s) - 1, (cat), (off), (msg))
static void dur_bad_at(int at, const uint8_t *s, size_t len, sigil_category cat, size_t off, const char *msg)
{
	int64_t got = 12345;
	sigil_error err = SIGIL_ERROR_INIT;
	check__checks++;
	if (sigil__go_duration_parse(s, len, &got, &err) != SIGIL_STATUS_ERROR || got != 12345 || err.category != cat ||
			err.offset != off || strcmp(err.message, msg) != 0) {
		check__failures++;
		fprintf(stderr, "FAIL line %d: \"%.*s\": want error %d at %zu \"%s\", got %lld, error %d at %zu \"%s\"\n",
			at, (int)len, (const char *)s, cat, off, msg, (long long)got, err.category, err.offset, err.message);
	}
}

static void test_go_duration(void)
{
	const int64_t S = 1000000000;
	dur_ok("10s", 10 * S);
	dur_ok("1m30s", 90 * S);
	dur_ok("500ms", 500000000);
	dur_ok("1.5s", 1500000000);
	dur_ok("-1s", -S);
	dur_ok("+5m", 300 * S);
	dur_ok("1h", 3600 * S);
	dur_ok("1h2m3s4ms5us6ns", 3723004005006LL);
	dur_ok("1us", 1000);
	dur_ok("1\xc2\xb5s", 1000);   /* U+00B5 MICRO SIGN */
	dur_ok("1\xce\xbcs", 1000);   /* U+03BC GREEK SMALL LETTER MU */
	dur_ok("1ns", 1);
	dur_ok("1.5ns", 1);            /* a fraction of a nanosecond is dropped */
	dur_ok(".5s", 500000000);
	dur_ok("1.s", S);
	dur_ok("0", 0);
	dur_ok("-0", 0);
	dur_ok("+0", 0);
	dur_ok("0s", 0);
	dur_ok("0.000000001s", 1);
	dur_ok("1.0000000001s", S);
	dur_ok("0.1234567890123456789012345h", 444444440444LL);  /* digits past 19 are skipped */
	dur_ok("2562047h47m16.854775807s", INT64_MAX);
	dur_ok("9223372036854775807ns", INT64_MAX);
	dur_ok("-9223372036854775808ns", INT64_MIN);
	dur_ok("-2562047h47m16.854775808s", INT64_MIN);
	/* Go's running total is a uint64 checked only against 1<<63: two
	 * terms of exactly 1<<63 wrap to 0 and are accepted */
	dur_ok("9223372036854775808ns9223372036854775808ns", 0);

	dur_bad("", SIGIL_ERR_MALFORMED, 0, "time: invalid duration \"\"");
	dur_bad("-", SIGIL_ERR_MALFORMED, 1, "time: invalid duration \"-\"");
	dur_bad("s", SIGIL_ERR_MALFORMED, 0, "time: invalid duration \"s\"");
	dur_bad(" 1s", SIGIL_ERR_MALFORMED, 0, "time: invalid duration \" 1s\"");
	dur_bad("--1s", SIGIL_ERR_MALFORMED, 1, "time: invalid duration \"--1s\"");
	dur_bad(".s", SIGIL_ERR_MALFORMED, 0, "time: invalid duration \".s\"");
	dur_bad("1s-1s", SIGIL_ERR_MALFORMED, 1, "time: unknown unit \"s-\" in duration \"1s-1s\"");
	dur_bad("10", SIGIL_ERR_MALFORMED, 2, "time: missing unit in duration \"10\"");
	dur_bad("0.0", SIGIL_ERR_MALFORMED, 3, "time: missing unit in duration \"0.0\"");
	dur_bad("1..5s", SIGIL_ERR_MALFORMED, 2, "time: missing unit in duration \"1..5s\"");
	dur_bad("00", SIGIL_ERR_MALFORMED, 2, "time: missing unit in duration \"00\"");
	dur_bad("1x", SIGIL_ERR_MALFORMED, 1, "time: unknown unit \"x\" in duration \"1x\"");
	dur_bad("1 s", SIGIL_ERR_MALFORMED, 1, "time: unknown unit \" s\" in duration \"1 s\"");
	dur_bad("1S", SIGIL_ERR_MALFORMED, 1, "time: unknown unit \"S\" in duration \"1S\"");
	dur_bad("1d", SIGIL_ERR_MALFORMED, 1, "time: unknown unit \"d\" in duration \"1d\"");
	dur_bad("10s ", SIGIL_ERR_MALFORMED, 2, "time: unknown unit \"s \" in duration \"10s \"");
	dur_bad("1e3s", SIGIL_ERR_MALFORMED, 1, "time: unknown unit \"e\" in duration \"1e3s\"");
	dur_bad("1\0s", SIGIL_ERR_MALFORMED, 1, "time: unknown unit \"\\x00s\" in duration \"1\\x00s\"");
	dur_bad("1\xc2s", SIGIL_ERR_MALFORMED, 1, "time: unknown unit \"\\xc2s\" in duration \"1\\xc2s\"");

	/* overflow: more than an int64 of nanoseconds */
	dur_bad("9223372036854775808ns", SIGIL_ERR_LIMIT, 0, "time: invalid duration \"9223372036854775808ns\"");
	dur_bad("-9223372036854775809ns", SIGIL_ERR_LIMIT, 1, "time: invalid duration \"-9223372036854775809ns\"");
	dur_bad("99999999999999999999s", SIGIL_ERR_LIMIT, 0, "time: invalid duration \"99999999999999999999s\"");
	dur_bad("2562048h", SIGIL_ERR_LIMIT, 0, "time: invalid duration \"2562048h\"");
	dur_bad("2562047h2562047h", SIGIL_ERR_LIMIT, 8, "time: invalid duration \"2562047h2562047h\"");
	/* the message quotes at most 64 bytes of the input */
	char longd[200];
	memset(longd, '1', sizeof longd);
	int64_t got;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK_INTEQ(sigil__go_duration_parse((const uint8_t *)longd, sizeof longd, &got, &err), SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_LIMIT);
	CHECK_CONTAINS(err.message, "111111111...\"");
	CHECK(strlen(err.message) < 100);
}

/* ---- disabled_plugins ----------------------------------------------------------- */

/* doctor_v - doctor() with containerd's version */
static sigil__ctd_config *doctor_v(sigil__doctor_findings *f, const char *version)
{
	memset(f, 0, sizeof *f);
	sigil__ctd_config *c = load_v("config.toml", version);
	if (!c)
		return NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK_INTEQ(sigil__doctor_check_disabled(c, version, f, &err), SIGIL_STATUS_OK);
	CHECK_INTEQ(sigil__doctor_check_dropin_version(c, version, f, &err), SIGIL_STATUS_OK);
	return c;
}

static void test_disabled(void)
{
	sigil__doctor_findings f;
	char fx[2048], h[2048];
	new_case("disabled");
	wr("config.toml",
		"version = 2\n"
		"disabled_plugins = [\"io.containerd.internal.v1.tracing\",\n"
		"  \"io.containerd.image-verifier.v1.bindir\"]\n"
		"imports = [\"conf.d/*.toml\"]\n");
	wr("conf.d/10-off.toml", "\n\ndisabled_plugins = ['io.containerd.image-verifier.v1.bindir']\n");
	dropin("conf.d/50-sigil.toml", "bin");
	bindir_ok("bin");
	char m[1024], d[1024];  /* P's buffers rotate */
	snprintf(m, sizeof m, "%s", P("config.toml"));
	snprintf(d, sizeof d, "%s", P("conf.d/10-off.toml"));

	/* containerd <= 2.2: the transfer and CRI plugins fail to load */
	sigil__ctd_config *c = doctor_v(&f, "2.1.9+unknown");
	if (c) {
		snprintf(fx, sizeof fx, "remove \"io.containerd.image-verifier.v1.bindir\" from disabled_plugins (line 2) "
			"of %s, then restart containerd; to turn image verification off on purpose, set bin_dir = \"\" in "
			"[plugins.\"io.containerd.image-verifier.v1.bindir\"] instead", m);
		expect(&f, "bindir-disabled", SIGIL_DOCTOR_PROBLEM, m, 2,
			"disabled_plugins lists \"io.containerd.image-verifier.v1.bindir\": containerd 2.1.9+unknown then "
			"fails to load its transfer service (io.containerd.transfer.v1.local), CRI's image service and CRI "
			"itself, which need the plugin (until 2.3.0): every CRI and transfer-service pull fails and kubelet "
			"cannot run pods", fx);
		expect(&f, "bindir-disabled", SIGIL_DOCTOR_PROBLEM, d, 3, "containerd 2.1.9+unknown then fails", "(line 3)");
		CHECK_INTEQ(f.problems, 2);
		snprintf(h, sizeof h, "every pull fails (disabled_plugins lists the image-verifier plugin in %s)", m);
		CHECK_STREQ(f.count ? f.items[0].headline : "", h);
	}
	done(c, &f);
	c = doctor_v(&f, "2.2.0");
	if (c)
		expect(&f, "bindir-disabled", SIGIL_DOCTOR_PROBLEM, m, 2, "containerd 2.2.0 then fails to load", NULL);
	done(c, &f);

	/* from 2.3.0 (PR #12893): every pull is allowed unverified */
	c = doctor_v(&f, "2.3.1");
	if (c) {
		expect(&f, "bindir-disabled", SIGIL_DOCTOR_PROBLEM, m, 2,
			"\": containerd 2.3.1 loads its transfer service without it (since 2.3.0): no image verifier runs "
			"and every pull is allowed unverified", "from disabled_plugins (line 2)");
		snprintf(h, sizeof h, "image verifiers never run (disabled_plugins lists the image-verifier plugin in %s)", m);
		CHECK_STREQ(f.count ? f.items[0].headline : "", h);
	}
	done(c, &f);

	/* version unknown (or older than 2.0, which has no such plugin): both */
	static const char *const unknown[] = { NULL, "1.7.24", "garbage" };
	for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
		c = doctor_v(&f, unknown[i]);
		if (c) {
			expect(&f, "bindir-disabled", SIGIL_DOCTOR_PROBLEM, m, 2,
				"\": on containerd 2.0 to 2.2 the transfer service, CRI's image service and CRI fail to load "
				"(every pull fails, kubelet cannot run pods); from 2.3.0 no image verifier runs and every pull "
				"is allowed unverified (containerd's version is not known)", NULL);
			CHECK_INTEQ(f.problems, 2);
		}
		done(c, &f);
	}

	/* other plugins disabled, or a name that merely contains it: nothing */
	new_case("disabled-other");
	wr("config.toml", "version = 3\ndisabled_plugins = ['io.containerd.image-verifier.v1.bindir2', "
		"'io.containerd.snapshotter.v1.zfs']\nrequired_plugins = []\n");
	c = doctor_v(&f, "2.1.9");
	if (c)
		CHECK_INTEQ(f.count, 0);
	done(c, &f);

	/* what the loader refuses, as containerd does */
	new_case("disabled-load");
	wr("c1.toml", "version = 2\ndisabled_plugins = \"io.containerd.image-verifier.v1.bindir\"\n");
	load_fails("c1.toml", SIGIL_ERR_MALFORMED, "line 2: disabled_plugins must be an array of strings");
	wr("c2.toml", "version = 2\ndisabled_plugins = [1]\n");
	load_fails("c2.toml", SIGIL_ERR_MALFORMED, "line 2: disabled_plugins must be an array of strings");
	wr("c3.toml", "version = 2\ndisabled_plugins = [\n  \"io.containerd.a.v1.b\",\n  \"bindir\"]\n");
	load_fails("c3.toml", SIGIL_ERR_MALFORMED, "line 4: disabled_plugins: \"bindir\" is not a plugin URI "
		"(io.containerd.<type>.<id>), which containerd refuses");
	wr("c4.toml", "version = 3\nrequired_plugins = [\"cri\"]\n");
	load_fails("c4.toml", SIGIL_ERR_MALFORMED, "required_plugins: \"cri\" is not a plugin URI");
	/* a version 1 file's short names are renamed (v1Migrate): accepted */
	wr("c5.toml", "version = 1\ndisabled_plugins = [\"cri\"]\n");
	sigil__ctd_config *c5 = load("c5.toml");
	sigil__ctd_config_free(c5);
}

/* ---- per_verifier_timeout ------------------------------------------------------- */

/* timeout_case - a version 3 main file with the bindir table's
 * per_verifier_timeout line (line 3), and the timeout findings */
static sigil__ctd_config *timeout_case(const char *name, const char *value, int64_t verifier_ms,
	sigil__doctor_findings *f)
{
	new_case(name);
	if (value)
		wr("config.toml", "version = 3\n[plugins.\"io.containerd.image-verifier.v1.bindir\"]\n"
			"  per_verifier_timeout = %s\n", value);
	else
		wr("config.toml", "version = 3\n");
	memset(f, 0, sizeof *f);
	sigil__ctd_config *c = load("config.toml");
	if (!c)
		return NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK_INTEQ(sigil__doctor_check_timeout(c, verifier_ms, verifier_ms == 8000 ? "its default" :
		"SIGIL_VERIFIER_TIMEOUT_MS in this environment", f, &err), SIGIL_STATUS_OK);
	return c;
}

static void test_timeout(void)
{
	sigil__doctor_findings f;
	char fx[2048], h[2048];
	const char *sect = "[plugins.\"io.containerd.image-verifier.v1.bindir\"]";

	/* not a Go duration: containerd does not start */
	sigil__ctd_config *c = timeout_case("pvt-garbage", "\"ten seconds\"", 8000, &f);
	if (c) {
		snprintf(fx, sizeof fx, "write per_verifier_timeout as a Go duration string, e.g. per_verifier_timeout = "
			"\"10s\", in %s of %s, then restart containerd", sect, P("config.toml"));
		expect(&f, "per-verifier-timeout", SIGIL_DOCTOR_PROBLEM, P("config.toml"), 3,
			"per_verifier_timeout = \"ten seconds\" is not a Go duration (time: invalid duration \"ten seconds\"): "
			"containerd cannot decode [plugins.\"io.containerd.image-verifier.v1.bindir\"] and does not start", fx);
		snprintf(h, sizeof h, "containerd does not start (per_verifier_timeout in %s is not a duration)",
			P("config.toml"));
		CHECK_STREQ(f.count ? f.items[0].headline : "", h);
		CHECK_INTEQ(f.count, 1);
	}
	done(c, &f);
	c = timeout_case("pvt-nounit", "\"10\"", 8000, &f);
	if (c)
		expect(&f, "per-verifier-timeout", SIGIL_DOCTOR_PROBLEM, P("config.toml"), 3,
			"(time: missing unit in duration \"10\")", NULL);
	done(c, &f);
	c = timeout_case("pvt-overflow", "\"3000000h\"", 8000, &f);
	if (c)
		expect(&f, "per-verifier-timeout", SIGIL_DOCTOR_PROBLEM, P("config.toml"), 3,
			"(time: invalid duration \"3000000h\"): containerd cannot decode", NULL);
	done(c, &f);
	/* an integer is decoded from its digits: only 0 is a duration */
	c = timeout_case("pvt-int", "10", 8000, &f);
	if (c)
		expect(&f, "per-verifier-timeout", SIGIL_DOCTOR_PROBLEM, P("config.toml"), 3,
			"per_verifier_timeout = 10 (an integer, decoded as the duration \"10\") is not a Go duration "
			"(time: missing unit in duration \"10\")", NULL);
	done(c, &f);
	c = timeout_case("pvt-bool", "true", 8000, &f);
	if (c)
		expect(&f, "per-verifier-timeout", SIGIL_DOCTOR_PROBLEM, P("config.toml"), 3,
			"per_verifier_timeout is a boolean, not a string: containerd cannot decode", "as a string");
	done(c, &f);

	/* zero or negative: an expired deadline, every pull fails */
	static const char *const expired[] = { "\"0s\"", "\"-1s\"", "0", "\"-0\"" };
	for (size_t i = 0; i < sizeof expired / sizeof expired[0]; i++) {
		c = timeout_case("pvt-expired", expired[i], 8000, &f);
		if (c) {
			snprintf(fx, sizeof fx, "set per_verifier_timeout = \"10s\" in %s of %s, then restart containerd", sect,
				P("config.toml"));
			expect(&f, "per-verifier-timeout", SIGIL_DOCTOR_PROBLEM, P("config.toml"), 3,
				": containerd gives every verifier an already expired deadline, so it cannot run sigil-verifier "
				"and every pull fails instead of being verified (\"starting process: context deadline exceeded\")", fx);
			snprintf(h, sizeof h, "every pull fails (per_verifier_timeout is not above zero in %s)", P("config.toml"));
			CHECK_STREQ(f.count ? f.items[0].headline : "", h);
		}
		done(c, &f);
	}
	c = timeout_case("pvt-zero-int", "0", 8000, &f);
	if (c)
		expect(&f, "per-verifier-timeout", SIGIL_DOCTOR_PROBLEM, P("config.toml"), 3,
			"per_verifier_timeout = 0 (an integer, decoded as the duration \"0\"): containerd gives", NULL);
	done(c, &f);

	/* not above sigil-verifier's deadline: a warning */
	static const char *const short_ones[] = { "\"5s\"", "\"1.5s\"", "\"500ms\"", "\"8s\"", "\"7999ms\"" };
	for (size_t i = 0; i < sizeof short_ones / sizeof short_ones[0]; i++) {
		c = timeout_case("pvt-short", short_ones[i], 8000, &f);
		if (c) {
			char m[512];
			snprintf(m, sizeof m, "per_verifier_timeout = %s is not above sigil-verifier's own deadline of 8000 ms "
				"(its default): a cold verification that needs it is killed by containerd (SIGKILL of "
				"sigil-verifier's process group), and the pull fails with \"signal: killed\" instead of sigil's "
				"reason", short_ones[i]);
			snprintf(fx, sizeof fx, "set per_verifier_timeout = \"10s\" in %s of %s, then restart containerd; or "
				"give sigil-verifier a shorter deadline (SIGIL_VERIFIER_TIMEOUT_MS in containerd's environment) "
				"below it", sect, P("config.toml"));
			expect(&f, "per-verifier-timeout", SIGIL_DOCTOR_WARNING, P("config.toml"), 3, m, fx);
			CHECK_INTEQ(f.problems, 0);
		}
		done(c, &f);
	}
	/* above it: nothing */
	static const char *const fine[] = { "\"8001ms\"", "\"10s\"", "\"1m30s\"", "\"1h\"" };
	for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
		c = timeout_case("pvt-fine", fine[i], 8000, &f);
		if (c)
			CHECK_INTEQ(f.count, 0);
		done(c, &f);
	}
	c = timeout_case("pvt-default", NULL, 8000, &f);
	if (c)
		CHECK_INTEQ(f.count, 0);
	done(c, &f);
	/* sigil-verifier given 12 s: containerd's default 10 s is short */
	c = timeout_case("pvt-default-long", NULL, 12000, &f);
	if (c)
		expect(&f, "per-verifier-timeout", SIGIL_DOCTOR_WARNING, NULL, 0,
			"containerd's default per_verifier_timeout of 10s (no file sets it) is not above sigil-verifier's own "
			"deadline of 12000 ms (SIGIL_VERIFIER_TIMEOUT_MS in this environment)",
			"set per_verifier_timeout = \"14s\" in [plugins.\"io.containerd.image-verifier.v1.bindir\"], then");
	done(c, &f);

	/* merged: the drop-in's value wins, and is the one reported */
	new_case("pvt-merge");
	wr("config.toml", "version = 2\nimports = [\"conf.d/*.toml\"]\n"
		"[plugins.\"io.containerd.image-verifier.v1.bindir\"]\n  per_verifier_timeout = \"0s\"\n");
	wr("conf.d/50-sigil.toml", "[plugins.\"io.containerd.image-verifier.v1.bindir\"]\n  bin_dir = \"/x\"\n"
		"  per_verifier_timeout = \"3s\"\n");
	memset(&f, 0, sizeof f);
	c = load("config.toml");
	sigil_error err = SIGIL_ERROR_INIT;
	if (c) {
		CHECK_INTEQ(sigil__doctor_check_timeout(c, 8000, "its default", &f, &err), SIGIL_STATUS_OK);
		expect(&f, "per-verifier-timeout", SIGIL_DOCTOR_WARNING, P("conf.d/50-sigil.toml"), 3,
			"per_verifier_timeout = \"3s\" is not above", "of " );
		CHECK_INTEQ(f.count, 1);
	}
	done(c, &f);
}

/* ---- a drop-in's version ------------------------------------------------------------ */

/* the main file of Debian's and kind's shape: version 2, CRI settings in
 * the version 2 tables */
static void v2_main(void)
{
	wr("config.toml",
		"version = 2\n"                                                      /* 1 */
		"imports = [\"conf.d/*.toml\"]\n"                                    /* 2 */
		"[plugins.\"io.containerd.grpc.v1.cri\"]\n"                          /* 3 */
		"  sandbox_image = \"local.registry/pause:3.10\"\n"                  /* 4 */
		"  stream_server_port = \"10010\"\n"                                 /* 5: stays in v3 */
		"  [plugins.\"io.containerd.grpc.v1.cri\".cni]\n"                    /* 6 */
		"    bin_dir = \"/usr/lib/cni\"\n");                                 /* 7 */
}

static void test_dropin_version(void)
{
	sigil__doctor_findings f;
	char m[2048], fx[2048], h[2048];
	new_case("dv");
	v2_main();
	wr("conf.d/10-v3.toml", "# a drop-in written for version 3\nversion = 3\n");
	char main_p[1024], dv[1024];  /* P's buffers rotate */
	snprintf(main_p, sizeof main_p, "%s", P("config.toml"));
	snprintf(dv, sizeof dv, "%s", P("conf.d/10-v3.toml"));
	snprintf(fx, sizeof fx, "delete the line version = 3 (line 2) from %s: a drop-in takes the main file's version",
		dv);

	/* version unknown: the loader's (2.1) reading, and 2.3.0-2.3.4 named */
	sigil__ctd_config *c = doctor_v(&f, NULL);
	if (c) {
		CHECK_INTEQ(c->version, 3);
		snprintf(m, sizeof m, "version = 3 in %s (imported by %s) is higher than the main configuration's version 2: "
			"containerd takes version 3 for the whole configuration and does not migrate the version 2 CRI "
			"settings, so it ignores 2 of them: sandbox_image (%s:4), cni (%s:6) (containerd 2.3.0 to 2.3.4 "
			"refuse to start instead)", dv, main_p, main_p, main_p);
		expect(&f, "dropin-version", SIGIL_DOCTOR_PROBLEM, dv, 2, m, fx);
		snprintf(h, sizeof h, "containerd ignores the main configuration's CRI settings (version = 3 in %s)", dv);
		CHECK_STREQ(f.count ? f.items[0].headline : "", h);
		CHECK_INTEQ(f.count, 1);
	}
	done(c, &f);
	c = doctor_v(&f, "2.1.9");
	if (c)
		expect(&f, "dropin-version", SIGIL_DOCTOR_PROBLEM, dv, 2, "containerd 2.1.9 takes version 3 for the whole "
			"configuration and does not migrate the version 2 CRI settings, so it ignores 2 of them: sandbox_image",
			fx);
	done(c, &f);

	/* 2.3.0 to 2.3.4 and 2.4.0-beta.0 refuse to start */
	static const char *const refusing[] = { "2.3.0", "2.3.4", "2.3.0-rc.1", "2.4.0-beta.0" };
	for (size_t i = 0; i < sizeof refusing / sizeof refusing[0]; i++) {
		c = doctor_v(&f, refusing[i]);
		if (c) {
			snprintf(m, sizeof m, "version = 3 in %s (imported by %s) is higher than the main configuration's version "
				"2: containerd %s refuses to start (\"drop-in config version 3 higher than root config version 2\")",
				dv, main_p, refusing[i]);
			expect(&f, "dropin-version", SIGIL_DOCTOR_PROBLEM, dv, 2, m, fx);
			snprintf(h, sizeof h, "containerd does not start (version = 3 in %s)", dv);
			CHECK_STREQ(f.count ? f.items[0].headline : "", h);
		}
		done(c, &f);
	}
	/* later releases migrate each file on load: harmless there */
	static const char *const per_file[] = { "2.3.5", "2.4.0", "2.4.0-rc.0" };
	for (size_t i = 0; i < sizeof per_file / sizeof per_file[0]; i++) {
		c = doctor_v(&f, per_file[i]);
		if (c) {
			snprintf(m, sizeof m, "version 2: containerd %s migrates each file on its own, so nothing is lost here, "
				"but containerd 2.0 to 2.2 would take version 3 for the whole configuration and ignore the main "
				"file's version 2 settings, and 2.3.0 to 2.3.4 refuse to start", per_file[i]);
			expect(&f, "dropin-version", SIGIL_DOCTOR_OK, dv, 2, m, NULL);
			CHECK_INTEQ(f.problems, 0);
			CHECK_INTEQ(f.warnings, 0);
		}
		done(c, &f);
	}

	/* no CRI setting that would be lost (only a server one): a warning */
	new_case("dv-nothing-lost");
	wr("config.toml", "version = 2\nimports = [\"conf.d/*.toml\"]\n[plugins.\"io.containerd.grpc.v1.cri\"]\n"
		"  stream_server_port = \"10010\"\n");
	wr("conf.d/10-v3.toml", "version = 3\n");
	c = doctor_v(&f, "2.2.0");
	if (c) {
		expect(&f, "dropin-version", SIGIL_DOCTOR_WARNING, P("conf.d/10-v3.toml"), 1,
			"version 2: containerd 2.2.0 takes version 3 for the whole configuration and does not migrate version 2 "
			"CRI settings: none are set now, but any added to the main file would be ignored", "(line 1)");
		CHECK_INTEQ(f.problems, 0);
	}
	done(c, &f);

	/* a later file sets version 2 again (the last one wins): a warning */
	new_case("dv-overridden");
	v2_main();
	wr("conf.d/10-v3.toml", "version = 3\n");
	wr("conf.d/20-v2.toml", "version = 2\n");
	c = doctor_v(&f, "2.1.9");
	if (c) {
		CHECK_INTEQ(c->version, 2);
		expect(&f, "dropin-version", SIGIL_DOCTOR_WARNING, P("conf.d/10-v3.toml"), 1,
			"version 2: a file loaded after it sets version 2 again, so nothing is lost today; if that file goes, "
			"containerd 2.0 to 2.2 ignore the main file's version 2 CRI settings", NULL);
		CHECK_INTEQ(f.count, 1);
	}
	done(c, &f);
	/* ... which 2.3.0-2.3.4 still refuse */
	c = doctor_v(&f, "2.3.2");
	if (c)
		expect(&f, "dropin-version", SIGIL_DOCTOR_PROBLEM, P("conf.d/10-v3.toml"), 1, "refuses to start", NULL);
	done(c, &f);

	/* nothing to report: no version, the same, lower, or a version-less
	 * main file (migrated to 3 before the merge) */
	static const char *const quiet[][2] = {
		{ "version = 2\n", "version = 2\n" }, { "version = 2\n", "# none\n" }, { "version = 3\n", "version = 2\n" },
		{ "# none\n", "version = 3\n" }, { "version = 1\n", "version = 3\n" }, { "version = 2\n", "version = 1\n" },
	};
	for (size_t i = 0; i < sizeof quiet / sizeof quiet[0]; i++) {
		new_case("dv-quiet");
		wr("config.toml", "%simports = [\"conf.d/*.toml\"]\n", quiet[i][0]);
		wr("conf.d/10-x.toml", "%s", quiet[i][1]);
		c = doctor_v(&f, "2.1.9");
		if (c)
			expect_none(&f, "dropin-version");
		done(c, &f);
	}
	/* 2.3.0-2.3.4 take the first version declared as the root: a
	 * version-less main file, then 2, then 3 */
	new_case("dv-root");
	wr("config.toml", "imports = [\"conf.d/*.toml\"]\n");
	wr("conf.d/10-a.toml", "version = 2\n");
	wr("conf.d/20-b.toml", "\nversion = 3\n");
	c = doctor_v(&f, "2.3.3");
	if (c) {
		expect(&f, "dropin-version", SIGIL_DOCTOR_PROBLEM, P("conf.d/20-b.toml"), 2, "higher than the main "
			"configuration's version 2: containerd 2.3.3 refuses to start", NULL);
		CHECK_INTEQ(f.count, 1);
	}
	done(c, &f);
	c = doctor_v(&f, "2.1.9");
	if (c)
		expect_none(&f, "dropin-version");
	done(c, &f);
}

/* ---- the same files read as 2.0-2.2 and as 2.3 read them ------------------------- */

/* doctor_cri - load W/config.toml as containerd version does, then the CRI
 * and drop-in version checks */
static sigil__ctd_config *doctor_cri(sigil__doctor_findings *f, const char *version)
{
	memset(f, 0, sizeof *f);
	sigil__ctd_config *c = load_v("config.toml", version);
	if (!c)
		return NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK_INTEQ(sigil__doctor_check_cri(c, f, &err), SIGIL_STATUS_OK);
	CHECK_INTEQ(sigil__doctor_check_dropin_version(c, version, f, &err), SIGIL_STATUS_OK);
	return c;
}

static void test_rules_by_release(void)
{
	sigil__doctor_findings f;
	sigil__ctd_config *c;
	sigil__ctd_cri_loc loc;
	char main_p[1024], dv[1024], fx[2048];

	/* the rules chosen per release */
	sigil__ctd_rules r = sigil__ctd_rules_for(NULL);
	CHECK(!r.per_file);
	CHECK_INTEQ(r.config_version, 3);
	r = sigil__ctd_rules_for("2.2.7");
	CHECK(!r.per_file);
	r = sigil__ctd_rules_for("not-a-version");
	CHECK(!r.per_file);
	r = sigil__ctd_rules_for("2.3.0-beta.1");  /* per file, ConfigVersion still 3 */
	CHECK(r.per_file);
	CHECK_INTEQ(r.config_version, 3);
	r = sigil__ctd_rules_for("2.3.0-rc.0");
	CHECK(r.per_file);
	CHECK_INTEQ(r.config_version, 4);
	r = sigil__ctd_rules_for("2.4.0");
	CHECK(r.per_file);
	CHECK_INTEQ(r.config_version, 4);

	/* a version 3 drop-in next to a version 2 main file with CRI settings:
	 * 2.0-2.2 take version 3 and ignore them, 2.3 migrate the main file
	 * alone and keep them */
	new_case("rules-dv");
	wr("config.toml",
		"version = 2\n"                                                            /* 1 */
		"imports = [\"conf.d/*.toml\"]\n"                                          /* 2 */
		"[plugins.\"io.containerd.grpc.v1.cri\".containerd]\n"                    /* 3 */
		"  discard_unpacked_layers = true\n"                                       /* 4 */
		"  [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]\n"    /* 5 */
		"    runtime_type = \"io.containerd.runc.v2\"\n");                         /* 6 */
	wr("conf.d/10-v3.toml", "version = 3\n");
	snprintf(main_p, sizeof main_p, "%s", P("config.toml"));
	snprintf(dv, sizeof dv, "%s", P("conf.d/10-v3.toml"));
	static const char *const old[] = { NULL, "2.1.9", "2.2.7" };
	for (size_t i = 0; i < sizeof old / sizeof old[0]; i++) {
		c = doctor_cri(&f, old[i]);
		if (c) {
			CHECK_INTEQ(c->version, 3);
			CHECK(!c->files[0].cri_migrated);
			CHECK(sigil__ctd_cri_image_get(c, "discard_unpacked_layers", NULL, &loc).v == NULL);
			CHECK_INTEQ(loc, SIGIL_CTD_CRI_DEFAULT);
			expect_none(&f, "discard-unpacked-layers");
			expect(&f, "dropin-version", SIGIL_DOCTOR_PROBLEM, dv, 1, "does not migrate the version 2 CRI "
				"settings, so it ignores 1 of them: containerd (", NULL);
		}
		done(c, &f);
	}
	snprintf(fx, sizeof fx, "set discard_unpacked_layers = false in [plugins.\"io.containerd.grpc.v1.cri\"."
		"containerd] of %s, then restart containerd", main_p);
	static const char *const per_file[] = { "2.3.5", "2.4.0" };
	for (size_t i = 0; i < sizeof per_file / sizeof per_file[0]; i++) {
		c = doctor_cri(&f, per_file[i]);
		if (c) {
			CHECK_INTEQ(c->version, 4);
			CHECK(c->files[0].cri_migrated);
			CHECK(c->count == 2 && c->files[1].cri_migrated);  /* 3 -> 4 */
			sigil__ctd_value v = sigil__ctd_cri_image_get(c, "discard_unpacked_layers", NULL, &loc);
			CHECK(v.file == &c->files[0]);
			CHECK_INTEQ(loc, SIGIL_CTD_CRI_V2);
			expect(&f, "discard-unpacked-layers", SIGIL_DOCTOR_PROBLEM, main_p, 4, "discard_unpacked_layers = "
				"true (config version 4, version 2 table, migrated): CRI falls back to its local pull", fx);
			expect(&f, "dropin-version", SIGIL_DOCTOR_OK, dv, 1, "migrates each file on its own, so nothing "
				"is lost here", NULL);
			CHECK_INTEQ(f.problems, 1);
		}
		done(c, &f);
	}
	/* 2.3.0-2.3.4 load it the same way but refuse to start */
	c = doctor_cri(&f, "2.3.4");
	if (c) {
		CHECK_INTEQ(c->version, 4);
		expect(&f, "discard-unpacked-layers", SIGIL_DOCTOR_PROBLEM, main_p, 4, NULL, fx);
		expect(&f, "dropin-version", SIGIL_DOCTOR_PROBLEM, dv, 1, "containerd 2.3.4 refuses to start", NULL);
	}
	done(c, &f);

	/* a version-less drop-in's images table against the main file's version
	 * 2 key: 2.0-2.2 migrate the merged version 2 value over it, 2.3
	 * migrate the main file first and the drop-in wins */
	new_case("rules-override");
	wr("config.toml",
		"version = 2\n"
		"imports = [\"conf.d/*.toml\"]\n"
		"[plugins.\"io.containerd.grpc.v1.cri\"]\n"
		"  image_pull_with_sync_fs = true\n");                                     /* 4 */
	wr("conf.d/50-fix.toml", "[plugins.\"io.containerd.cri.v1.images\"]\n  image_pull_with_sync_fs = false\n");
	snprintf(main_p, sizeof main_p, "%s", P("config.toml"));
	c = doctor_cri(&f, "2.1.9");
	if (c) {
		CHECK_INTEQ(c->version, 2);
		expect(&f, "image-pull-with-sync-fs", SIGIL_DOCTOR_PROBLEM, main_p, 4, "image_pull_with_sync_fs = true "
			"(config version 2, version 2 table, migrated)", "in [plugins.\"io.containerd.grpc.v1.cri\"] of");
		CHECK_INTEQ(f.problems, 1);
	}
	done(c, &f);
	c = doctor_cri(&f, "2.3.5");
	if (c) {
		CHECK_INTEQ(c->version, 4);
		sigil__ctd_value v = sigil__ctd_cri_image_get(c, "image_pull_with_sync_fs", NULL, &loc);
		CHECK(v.v && v.v->type == SIGIL_TOML_BOOL && !v.v->b && v.file == &c->files[1]);
		CHECK_INTEQ(loc, SIGIL_CTD_CRI_V3);
		expect_none(&f, "image-pull-with-sync-fs");
		CHECK_INTEQ(f.problems, 0);
	}
	done(c, &f);

	/* version 2 keys left in a version 3 (or version-less) file: 2.0-2.2
	 * never migrate them; 2.3.0-rc.0 and later do (the step 3 -> 4 runs
	 * CRI's ConfigMigration), the 2.3.0 betas (ConfigVersion 3) not */
	static const char *const head[] = { "version = 3\n", "# no version\n" };
	for (size_t h = 0; h < 2; h++) {
		new_case("rules-v3-leftover");
		wr("config.toml",
			"%s"
			"[plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.\"docker.io\"]\n"  /* 2 */
			"  endpoint = [\"https://mirror.example\"]\n", head[h]);
		snprintf(main_p, sizeof main_p, "%s", P("config.toml"));
		c = doctor_cri(&f, "2.2.0");
		if (c) {
			CHECK_INTEQ(c->version, 3);
			expect_none(&f, "registry-mirrors");
		}
		done(c, &f);
		c = doctor_cri(&f, "2.3.0-beta.2");
		if (c) {
			CHECK_INTEQ(c->version, 3);
			/* version-less: migrated 0 -> 3, CRI's migration runs */
			if (h == 0)
				expect_none(&f, "registry-mirrors");
			else
				expect(&f, "registry-mirrors", SIGIL_DOCTOR_PROBLEM, main_p, 2, NULL, NULL);
		}
		done(c, &f);
		c = doctor_cri(&f, "2.3.1");
		if (c) {
			CHECK_INTEQ(c->version, 4);
			sigil__ctd_value v = sigil__ctd_cri_image_get(c, "registry", "mirrors", &loc);
			CHECK(v.file == &c->files[0]);
			CHECK_INTEQ(loc, SIGIL_CTD_CRI_V2);
			expect(&f, "registry-mirrors", SIGIL_DOCTOR_PROBLEM, main_p, 2, NULL, NULL);
		}
		done(c, &f);
	}

	/* version 4: refused by 2.0-2.2, accepted by 2.3 */
	new_case("rules-v4");
	wr("config.toml", "version = 4\n");
	sigil__ctd_config *lc = NULL;
	sigil_error e = SIGIL_ERROR_INIT;
	CHECK_INTEQ(sigil__ctd_config_load(P("config.toml"), "2.2.7", &lc, &e), SIGIL_STATUS_ERROR);
	CHECK(lc == NULL);
	CHECK_INTEQ(e.category, SIGIL_ERR_MALFORMED);
	char want[2048];
	snprintf(want, sizeof want, "%s: config version 4 is higher than 3, which containerd 2.0 to 2.2 refuses",
		P("config.toml"));
	CHECK_STREQ(e.message, want);
	c = load_v("config.toml", "2.3.5");
	if (c) {
		CHECK_INTEQ(c->version, 4);
		CHECK(!c->files[0].cri_migrated);
	}
	sigil__ctd_config_free(c);
	wr("config.toml", "version = 5\n");
	e = (sigil_error)SIGIL_ERROR_INIT;
	CHECK_INTEQ(sigil__ctd_config_load(P("config.toml"), "2.3.5", &lc, &e), SIGIL_STATUS_ERROR);
	snprintf(want, sizeof want, "%s: config version 5 is higher than 4, which containerd 2.3 refuses",
		P("config.toml"));
	CHECK_STREQ(e.message, want);
}

/* ---- the loader through an injected file system ---------------------------------- */

static const char *const mem_paths[] = { "/m/config.toml", "/m/conf.d/b.toml", "/m/conf.d/a.toml" };
static const char *mem_data[] = {
	"version = 2\nimports = ['conf.d/*.toml', 'gone.toml']\n",
	"version = 3\n",
	"[plugins.'io.containerd.image-verifier.v1.bindir']\n  per_verifier_timeout = '1s'\n",
};

static sigil_status mem_read(void *ctx, const char *path, size_t max, uint8_t **buf, size_t *len, sigil_error *err)
{
	(void)ctx;
	(void)max;
	for (size_t i = 0; i < 3; i++) {
		if (strcmp(path, mem_paths[i]) == 0) {
			*len = strlen(mem_data[i]);
			*buf = (uint8_t *)strdup(mem_data[i]);
			return *buf ? SIGIL_STATUS_OK : SIGIL_STATUS_ERROR;
		}
	}
	return sigil__err(err, SIGIL_ERR_IO, "%s: not in memory", path);
}

static sigil_status mem_glob(void *ctx, const char *pattern, char ***paths, size_t *count, sigil_error *err)
{
	(void)err;
	CHECK_STREQ(pattern, "/m/conf.d/*.toml");
	*(int *)ctx += 1;
	char **v = calloc(2, sizeof *v);
	v[0] = strdup(mem_paths[2]);
	v[1] = strdup(mem_paths[1]);
	*paths = v;
	*count = 2;
	return SIGIL_STATUS_OK;
}

static void test_load_fs(void)
{
	int globs = 0;
	sigil__ctd_fs fs = { mem_read, mem_glob, &globs };
	sigil__ctd_config *c = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	/* 'gone.toml' has no '*': it must exist, as containerd demands */
	CHECK_INTEQ(sigil__ctd_config_load_fs("/m/config.toml", &fs, NULL, &c, &err), SIGIL_STATUS_ERROR);
	CHECK(c == NULL);
	CHECK_INTEQ(err.category, SIGIL_ERR_IO);
	CHECK_STREQ(err.message, "imported by /m/config.toml: /m/gone.toml: not in memory");
	CHECK_INTEQ(globs, 1);
	mem_data[0] = "version = 2\nimports = ['conf.d/*.toml']\n";
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK_INTEQ(sigil__ctd_config_load_fs("/m/config.toml", &fs, NULL, &c, &err), SIGIL_STATUS_OK);
	if (c) {
		CHECK_INTEQ(c->count, 3);
		CHECK_INTEQ(c->version, 3);
		if (c->count == 3) {
			CHECK_STREQ(c->files[1].path, "/m/conf.d/a.toml");
			CHECK_STREQ(c->files[2].path, "/m/conf.d/b.toml");
		}
		sigil__doctor_findings f;
		memset(&f, 0, sizeof f);
		CHECK_INTEQ(sigil__doctor_check_timeout(c, 8000, "its default", &f, &err), SIGIL_STATUS_OK);
		expect(&f, "per-verifier-timeout", SIGIL_DOCTOR_WARNING, "/m/conf.d/a.toml", 2, "= \"1s\" is not above", NULL);
		CHECK_INTEQ(sigil__doctor_check_dropin_version(c, NULL, &f, &err), SIGIL_STATUS_OK);
		expect(&f, "dropin-version", SIGIL_DOCTOR_WARNING, "/m/conf.d/b.toml", 1, "none are set now", NULL);
		sigil__doctor_findings_clear(&f);
	}
	sigil__ctd_config_free(c);
}

/* ---- containerd's version and sigild ------------------------------------------- */

static void test_version(void)
{
	char v[64], why[512];
	CHECK_INTEQ(sigil__doctor_parse_version("containerd github.com/containerd/containerd/v2 2.1.9+unknown \n", v,
		sizeof v), 0);
	CHECK_STREQ(v, "2.1.9+unknown");
	CHECK_INTEQ(sigil__doctor_parse_version("containerd containerd.io v1.7.24 88bf19b\n", v, sizeof v), 0);
	CHECK_STREQ(v, "1.7.24");
	CHECK_INTEQ(sigil__doctor_parse_version("containerd version unknown\n", v, sizeof v), -1);
	CHECK_INTEQ(sigil__doctor_version_at_least("2.1.9+unknown", 2, 1), 1);
	CHECK_INTEQ(sigil__doctor_version_at_least("2.10.0", 2, 1), 1);
	CHECK_INTEQ(sigil__doctor_version_at_least("3.0", 2, 1), 1);
	CHECK_INTEQ(sigil__doctor_version_at_least("2.0.7", 2, 1), 0);
	CHECK_INTEQ(sigil__doctor_version_at_least("1.7.24", 2, 0), 0);
	CHECK_INTEQ(sigil__doctor_version_at_least("x", 2, 0), -1);

	new_case("version");
	mkexec("ctd-2.0", "echo 'containerd github.com/containerd/containerd/v2 2.0.3 abc'");
	mkexec("ctd-fail", "echo 'boom' >&2; exit 3");
	mkexec("ctd-garbage", "echo 'hello'");
	CHECK_INTEQ(sigil__doctor_containerd_version(P("ctd-2.0"), v, sizeof v, why, sizeof why), 0);
	CHECK_STREQ(v, "2.0.3");
	CHECK_INTEQ(sigil__doctor_containerd_version(P("ctd-fail"), v, sizeof v, why, sizeof why), -1);
	CHECK_CONTAINS(why, "--version failed (exit status 3): boom");
	CHECK_INTEQ(sigil__doctor_containerd_version(P("ctd-garbage"), v, sizeof v, why, sizeof why), -1);
	CHECK_CONTAINS(why, "printed no version: \"hello\"");
	CHECK_INTEQ(sigil__doctor_containerd_version(P("absent"), v, sizeof v, why, sizeof why), -1);
	CHECK_CONTAINS(why, "cannot run");
	CHECK_CONTAINS(why, "No such file or directory");

	sigil__doctor_findings f;
	memset(&f, 0, sizeof f);
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK_INTEQ(sigil__doctor_check_version("/usr/bin/containerd", "2.1.9", NULL, &f, &err), SIGIL_STATUS_OK);
	CHECK_INTEQ(sigil__doctor_check_version("/old/containerd", "2.0.3", NULL, &f, &err), SIGIL_STATUS_OK);
	CHECK_INTEQ(sigil__doctor_check_version("/older/containerd", "1.7.24", NULL, &f, &err), SIGIL_STATUS_OK);
	CHECK_INTEQ(sigil__doctor_check_version("containerd", NULL, "cannot run containerd (looked up in PATH): "
		"No such file or directory", &f, &err), SIGIL_STATUS_OK);
	expect(&f, "containerd-version", SIGIL_DOCTOR_OK, NULL, 0, "/usr/bin/containerd is containerd 2.1.9", NULL);
	CHECK_INTEQ(f.problems, 2);
	CHECK_CONTAINS(f.items[1].message, "/old/containerd is containerd 2.0.3: its CRI plugin (kubelet's pulls) does "
		"not run image verifiers before 2.1");
	CHECK_STREQ(f.items[1].headline, "CRI pulls bypass image verifiers (containerd 2.0.3 is older than 2.1)");
	CHECK_CONTAINS(f.items[2].message, "containerd 1.7.24, which has no image-verifier plugin");
	expect(&f, "containerd-unknown", SIGIL_DOCTOR_WARNING, NULL, 0, "cannot tell whether containerd is 2.1 or later: "
		"cannot run containerd (looked up in PATH): No such file or directory; its configuration is read as "
		"containerd 2.0 to 2.2 read it (2.3 migrates each file's version on its own)", "pass --containerd PATH");
	sigil__doctor_findings_clear(&f);
}

static void test_sigild(void)
{
	new_case("sigild");
	char about[512];
	CHECK_INTEQ(sigil__doctor_sigild_status(P("no.sock"), about, sizeof about), -1);
	CHECK_CONTAINS(about, P("no.sock"));
	sigil__doctor_findings f;
	memset(&f, 0, sizeof f);
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK_INTEQ(sigil__doctor_check_sigild("/run/x.sock", 0, "nothing listens", &f, &err), SIGIL_STATUS_OK);
	CHECK_INTEQ(sigil__doctor_check_sigild("/run/y.sock", 1, "sigild 0.1.0, mode enforce", &f, &err),
		SIGIL_STATUS_OK);
	CHECK_INTEQ(f.problems, 0);
	CHECK_INTEQ(f.warnings, 1);
	expect(&f, "sigild-unreachable", SIGIL_DOCTOR_WARNING, NULL, 0,
		"sigild does not answer on /run/x.sock (nothing listens): sigil-verifier denies every pull",
		"systemctl enable --now sigild");
	expect(&f, "sigild-unreachable", SIGIL_DOCTOR_OK, NULL, 0, "sigild 0.1.0, mode enforce answers on /run/y.sock",
		NULL);
	sigil__doctor_findings_clear(&f);
}

/* ---- output ---------------------------------------------------------------------- */

static void test_output(void)
{
	sigil__doctor_findings f;
	memset(&f, 0, sizeof f);
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK_INTEQ(sigil__doctor_add(&f, SIGIL_DOCTOR_OK, "containerd-version", NULL, 0, NULL, "fine", "ignored", &err),
		SIGIL_STATUS_OK);
	CHECK_INTEQ(sigil__doctor_add(&f, SIGIL_DOCTOR_WARNING, "dropin-not-imported", "/etc/c.toml", 0, NULL, "w",
		"add it", &err), SIGIL_STATUS_OK);
	CHECK_INTEQ(sigil__doctor_add(&f, SIGIL_DOCTOR_PROBLEM, "discard-unpacked-layers", "/etc/c.toml", 7,
		"CRI pulls bypass image verifiers (discard_unpacked_layers = true in /etc/c.toml)", "m \"q\"",
		"set it", &err), SIGIL_STATUS_OK);
	CHECK_INTEQ(sigil__doctor_add(&f, SIGIL_DOCTOR_PROBLEM, "bin-dir-empty", NULL, 0, NULL, "empty", "fill", &err),
		SIGIL_STATUS_OK);
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	sigil__doctor_print_text(m, &f);
	fclose(m);
	CHECK_STREQ(buf,
		"sigil doctor: 2 problems: CRI pulls bypass image verifiers (discard_unpacked_layers = true in /etc/c.toml)\n"
		"problem discard-unpacked-layers: m \"q\" (/etc/c.toml:7) \xe2\x80\x94 fix: set it\n"
		"problem bin-dir-empty: empty \xe2\x80\x94 fix: fill\n"
		"warning dropin-not-imported: w (/etc/c.toml) \xe2\x80\x94 fix: add it\n"
		"ok containerd-version: fine\n");
	free(buf);
	m = open_memstream(&buf, &len);
	CHECK_INTEQ(sigil__doctor_print_json(m, &f, &err), SIGIL_STATUS_OK);
	fclose(m);
	json_object *j = json_tokener_parse(buf);
	CHECK(j != NULL);
	json_object *v;
	if (j) {
		CHECK(json_object_object_get_ex(j, "problems", &v) && json_object_get_int(v) == 2);
		CHECK(json_object_object_get_ex(j, "warnings", &v) && json_object_get_int(v) == 1);
		json_object *arr;
		CHECK(json_object_object_get_ex(j, "findings", &arr) && json_object_array_length(arr) == 4);
		json_object *first = json_object_array_get_idx(arr, 0);
		CHECK(json_object_object_get_ex(first, "id", &v) &&
			strcmp(json_object_get_string(v), "discard-unpacked-layers") == 0);
		CHECK(json_object_object_get_ex(first, "severity", &v) && strcmp(json_object_get_string(v), "problem") == 0);
		CHECK(json_object_object_get_ex(first, "message", &v) && strcmp(json_object_get_string(v), "m \"q\"") == 0);
		CHECK(json_object_object_get_ex(first, "line", &v) && json_object_get_int(v) == 7);
		json_object *last = json_object_array_get_idx(arr, 3);
		CHECK(json_object_object_get_ex(last, "fix", &v) && v == NULL);
		CHECK(json_object_object_get_ex(last, "file", &v) && v == NULL);
		CHECK(json_object_object_get_ex(last, "line", &v) && v == NULL);
		json_object_put(j);
	}
	free(buf);
	CHECK_INTEQ(sigil__doctor_exit_status(&f), 1);
	sigil__doctor_findings_clear(&f);

	/* no problem */
	CHECK_INTEQ(sigil__doctor_add(&f, SIGIL_DOCTOR_WARNING, "containerd-unknown", NULL, 0, NULL, "w", "x", &err),
		SIGIL_STATUS_OK);
	m = open_memstream(&buf, &len);
	sigil__doctor_print_text(m, &f);
	fclose(m);
	CHECK_CONTAINS(buf, "sigil doctor: no problems, 1 warning\n");
	free(buf);
	CHECK_INTEQ(sigil__doctor_exit_status(&f), 0);
	sigil__doctor_findings_clear(&f);
}

/* ---- the command ------------------------------------------------------------------ */

/* run - sigil doctor with args; exit status, stdout and stderr (static) */
static int run(const char *args, char **out, char **err)
{
	static char *o, *e;
	free(o);
	free(e);
	char cmd[4096];
	snprintf(cmd, sizeof cmd, "'%s' doctor %s >'%s' 2>'%s'", sigil_exe, args, P("out"), P("err"));
	int st = system(cmd);
	size_t n;
	o = (char *)check_read_file(P("out"), &n);
	e = (char *)check_read_file(P("err"), &n);
	*out = o;
	*err = e;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_command(void)
{
	if (!sigil_exe) {
		printf("SKIPPED test_command: no sigil executable given\n");
		return;
	}
	new_case("command");
	wr("config.toml", "version = 2\nimports = [\"conf.d/*.toml\"]\n");
	dropin("conf.d/50-sigil.toml", "bin");
	bindir_ok("bin");
	mkexec("containerd", "echo 'containerd github.com/containerd/containerd/v2 2.1.9+unknown '");
	mkexec("containerd-2.0", "echo 'containerd github.com/containerd/containerd/v2 2.0.3 abc'");
	char a[2048], want[2048];
	char *out, *err;

	/* a clean configuration: exit 0; sigild (no daemon here) is a warning */
	snprintf(a, sizeof a, "--config '%s' --containerd '%s' --socket '%s'", P("config.toml"), P("containerd"),
		P("none.sock"));
	CHECK_INTEQ(run(a, &out, &err), 0);
	snprintf(want, sizeof want, "sigil doctor: no problems, 1 warning\nwarning sigild-unreachable: sigild is not "
		"reachable at %s", P("none.sock"));
	CHECK(strncmp(out, want, strlen(want)) == 0);
	if (strncmp(out, want, strlen(want)) != 0)
		fprintf(stderr, "  got:\n%s", out);
	snprintf(want, sizeof want, "ok containerd-version: %s is containerd 2.1.9+unknown", P("containerd"));
	CHECK_CONTAINS(out, want);
	CHECK_CONTAINS(out, "\nok use-local-image-pull: ");
	CHECK_CONTAINS(out, "\nok verifier-missing: ");
	CHECK_CONTAINS(out, "\nok dropin-not-imported: ");
	CHECK_STREQ(err, "");

	/* SIGIL_SOCKET is the default socket */
	snprintf(a, sizeof a, "--config '%s' --containerd '%s'", P("config.toml"), P("containerd"));
	char envcmd[4096];
	snprintf(envcmd, sizeof envcmd, "SIGIL_SOCKET='%s' '%s' doctor %s >'%s' 2>&1", P("env.sock"), sigil_exe, a,
		P("out"));
	int st = system(envcmd);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	size_t n;
	char *o2 = (char *)check_read_file(P("out"), &n);
	CHECK_CONTAINS(o2, P("env.sock"));
	free(o2);

	/* a CRI fallback, older containerd, JSON */
	wr("conf.d/60-kind.toml",
		"[plugins.\"io.containerd.grpc.v1.cri\".containerd]\n"
		"  discard_unpacked_layers = true\n"
		"  [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]\n"
		"    runtime_type = \"io.containerd.runc.v2\"\n");
	snprintf(a, sizeof a, "--config '%s' --containerd '%s' --socket '%s'", P("config.toml"), P("containerd-2.0"),
		P("none.sock"));
	CHECK_INTEQ(run(a, &out, &err), 1);
	CHECK_CONTAINS(out, "sigil doctor: 2 problems: CRI pulls bypass image verifiers (containerd 2.0.3 is older than 2.1)\n");
	snprintf(want, sizeof want, "\nproblem discard-unpacked-layers: discard_unpacked_layers = true (config version 2, "
		"version 2 table, migrated): CRI falls back to its local pull, which skips image verifiers (the transfer "
		"service does not support it) (%s:2) \xe2\x80\x94 fix: set discard_unpacked_layers = false in "
		"[plugins.\"io.containerd.grpc.v1.cri\".containerd] of %s, then restart containerd\n",
		P("conf.d/60-kind.toml"), P("conf.d/60-kind.toml"));
	CHECK_CONTAINS(out, want);
	snprintf(a, sizeof a, "--config '%s' --containerd '%s' --socket '%s' --output json", P("config.toml"),
		P("containerd"), P("none.sock"));
	CHECK_INTEQ(run(a, &out, &err), 1);
	json_object *j = json_tokener_parse(out);
	CHECK(j != NULL);
	if (j) {
		json_object *v, *arr;
		CHECK(json_object_object_get_ex(j, "problems", &v) && json_object_get_int(v) == 1);
		CHECK(json_object_object_get_ex(j, "warnings", &v) && json_object_get_int(v) == 1);
		CHECK(json_object_object_get_ex(j, "findings", &arr));
		bool found = false;
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			json_object *x = json_object_array_get_idx(arr, i), *id, *line, *file;
			if (json_object_object_get_ex(x, "id", &id) &&
					strcmp(json_object_get_string(id), "discard-unpacked-layers") == 0) {
				found = json_object_object_get_ex(x, "line", &line) && json_object_get_int(line) == 2 &&
					json_object_object_get_ex(x, "file", &file) &&
					strcmp(json_object_get_string(file), P("conf.d/60-kind.toml")) == 0;
			}
		}
		CHECK(found);
		json_object_put(j);
	}

	/* containerd cannot be run: a warning, not a failure */
	snprintf(a, sizeof a, "--config '%s' --containerd '%s' --socket '%s'", P("config.toml"), P("absent"),
		P("none.sock"));
	CHECK_INTEQ(run(a, &out, &err), 1);
	CHECK_CONTAINS(out, "sigil doctor: 1 problem: CRI pulls bypass image verifiers (discard_unpacked_layers = true in ");
	snprintf(want, sizeof want, "\nwarning containerd-unknown: cannot tell whether containerd is 2.1 or later: cannot "
		"run %s: ", P("absent"));
	CHECK_CONTAINS(out, want);

	/* the new findings through the command: the containerd version decides
	 * what disabled_plugins does; SIGIL_VERIFIER_TIMEOUT_MS is sigil-verifier's
	 * deadline, as containerd would pass it */
	new_case("command-new");
	wr("config.toml", "version = 2\nimports = [\"conf.d/*.toml\"]\n"
		"disabled_plugins = [\"io.containerd.image-verifier.v1.bindir\"]\n");
	dropin("conf.d/50-sigil.toml", "bin");
	bindir_ok("bin");
	mkexec("containerd", "echo 'containerd github.com/containerd/containerd/v2 2.1.9+unknown '");
	snprintf(a, sizeof a, "--config '%s' --containerd '%s' --socket '%s'", P("config.toml"), P("containerd"),
		P("none.sock"));
	CHECK_INTEQ(run(a, &out, &err), 1);
	snprintf(want, sizeof want, "sigil doctor: 1 problem: every pull fails (disabled_plugins lists the "
		"image-verifier plugin in %s)\nproblem bindir-disabled: disabled_plugins lists "
		"\"io.containerd.image-verifier.v1.bindir\": containerd 2.1.9+unknown then fails", P("config.toml"));
	CHECK(strncmp(out, want, strlen(want)) == 0);
	if (strncmp(out, want, strlen(want)) != 0)
		fprintf(stderr, "  got:\n%s", out);
	CHECK(strstr(out, "per-verifier-timeout") == NULL);
	snprintf(envcmd, sizeof envcmd, "SIGIL_VERIFIER_TIMEOUT_MS=10000 '%s' doctor %s >'%s' 2>&1", sigil_exe, a,
		P("out"));
	st = system(envcmd);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	o2 = (char *)check_read_file(P("out"), &n);
	snprintf(want, sizeof want, "\nwarning per-verifier-timeout: per_verifier_timeout = \"10s\" is not above "
		"sigil-verifier's own deadline of 10000 ms (SIGIL_VERIFIER_TIMEOUT_MS in this environment): ");
	CHECK_CONTAINS(o2, want);
	snprintf(want, sizeof want, "(%s:4) \xe2\x80\x94 fix: set per_verifier_timeout = \"12s\" in "
		"[plugins.\"io.containerd.image-verifier.v1.bindir\"] of %s, then restart containerd",
		P("conf.d/50-sigil.toml"), P("conf.d/50-sigil.toml"));
	CHECK_CONTAINS(o2, want);
	free(o2);
	/* an invalid SIGIL_VERIFIER_TIMEOUT_MS would make sigil-verifier deny
	 * everything: the doctor cannot evaluate with it either */
	snprintf(envcmd, sizeof envcmd, "SIGIL_VERIFIER_TIMEOUT_MS=8s '%s' doctor %s >'%s' 2>&1", sigil_exe, a,
		P("out"));
	st = system(envcmd);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2);
	o2 = (char *)check_read_file(P("out"), &n);
	CHECK_STREQ(o2, "sigil doctor: invalid SIGIL_VERIFIER_TIMEOUT_MS \"8s\" (expected milliseconds, 1-3600000)\n");
	free(o2);

	/* usage errors and configurations containerd would refuse: 2 */
	CHECK_INTEQ(run("--output yaml", &out, &err), 2);
	CHECK_CONTAINS(err, "--output must be text or json");
	CHECK_INTEQ(run("--bogus", &out, &err), 2);
	CHECK_INTEQ(run("extra-arg", &out, &err), 2);
	CHECK_INTEQ(run("--config ''", &out, &err), 2);
	snprintf(a, sizeof a, "--config '%s'", P("absent.toml"));
	CHECK_INTEQ(run(a, &out, &err), 2);
	CHECK_CONTAINS(err, "sigil doctor: cannot evaluate containerd's configuration");
	CHECK_CONTAINS(err, "absent.toml: No such file or directory");
	CHECK_STREQ(out, "");
	wr("broken.toml", "version = 2\n[plugins\n");
	snprintf(a, sizeof a, "--config '%s'", P("broken.toml"));
	CHECK_INTEQ(run(a, &out, &err), 2);
	CHECK_CONTAINS(err, "broken.toml: line 2: expected ']'");
	/* the configuration is read with the rules of the containerd found:
	 * version 4 is refused by 2.1.9, accepted by 2.3.5 */
	wr("v4.toml", "version = 4\n");
	mkexec("containerd-2.3", "echo 'containerd github.com/containerd/containerd/v2 v2.3.5 abc'");
	snprintf(a, sizeof a, "--config '%s' --containerd '%s' --socket '%s'", P("v4.toml"), P("containerd"),
		P("none.sock"));
	CHECK_INTEQ(run(a, &out, &err), 2);
	CHECK_CONTAINS(err, "v4.toml: config version 4 is higher than 3, which containerd 2.0 to 2.2 refuses");
	snprintf(a, sizeof a, "--config '%s' --containerd '%s' --socket '%s'", P("v4.toml"), P("containerd-2.3"),
		P("none.sock"));
	CHECK_INTEQ(run(a, &out, &err), 1);
	CHECK_STREQ(err, "");
	CHECK_CONTAINS(out, "is containerd 2.3.5: CRI and ctr pulls run image verifiers");
	CHECK_INTEQ(run("--help", &out, &err), 0);
	CHECK_CONTAINS(out, "usage: sigil doctor [--config FILE] [--containerd PATH] [--socket PATH] [--output text|json]");
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int main(int argc, char **argv)
{
	sigil_exe = argc > 1 ? argv[1] : NULL;
	snprintf(base, sizeof base, "/tmp/sigil-test-doctor-XXXXXX");
	if (!mkdtemp(base)) {
		perror("mkdtemp");
		return 2;
	}
	RUN(test_paths);
	RUN(test_clean_v2);
	RUN(test_clean_v3);
	RUN(test_cri_v2_every_trigger);
	RUN(test_cri_v2_not_migrated);
	RUN(test_cri_v3_every_trigger);
	RUN(test_cri_v3_ignores_v2_tables);
	RUN(test_cri_wrong_type);
	RUN(test_version_override);
	RUN(test_merge_later_wins);
	RUN(test_imports_resolution);
	RUN(test_load_errors);
	RUN(test_bindir);
	RUN(test_dropin);
	RUN(test_go_duration);
	RUN(test_disabled);
	RUN(test_timeout);
	RUN(test_dropin_version);
	RUN(test_rules_by_release);
	RUN(test_load_fs);
	RUN(test_version);
	RUN(test_sigild);
	RUN(test_output);
	RUN(test_command);
	nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return check_summary();
}
