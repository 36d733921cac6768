/* doctor_containerd.c - the checks of `sigil doctor` (doctor_containerd.h).
 * Source references are to containerd/containerd at tag v2.1.9;
 * containerd.md is /work/shared/docs/containerd.md (sigil's notes on
 * containerd's image-verifier interface). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "doctor_containerd.h"
#include "doctor_probe.h"
#include "errors.h"
#include "go_duration.h"

/* messages are bounded on purpose (paths included); longer ones are cut */
#define MSG 4096

#define CRI_V2_NAME "io.containerd.grpc.v1.cri"
#define CRI_IMAGES_NAME "io.containerd.cri.v1.images"

static const char *file_of(sigil__ctd_value v)
{
	return v.file ? v.file->path : NULL;
}

static size_t line_of(sigil__ctd_value v)
{
	return v.v ? v.v->line : 0;
}

/* the TOML table a CRI image key lives in, as the user must write it */
static const char *cri_section(sigil__ctd_cri_loc loc, const char *key, const sigil__ctd_config *c)
{
	static const char *const v2_containerd[] = {
		"snapshotter", "disable_snapshot_annotations", "discard_unpacked_layers",
	};
	if (loc == SIGIL_CTD_CRI_V2 || (loc == SIGIL_CTD_CRI_DEFAULT && c->version < SIGIL_CTD_CONFIG_VERSION &&
			strcmp(key, "use_local_image_pull") != 0)) {
		for (size_t i = 0; i < sizeof v2_containerd / sizeof v2_containerd[0]; i++)
			if (strcmp(key, v2_containerd[i]) == 0)
				return "[plugins.\"" CRI_V2_NAME "\".containerd]";
		return "[plugins.\"" CRI_V2_NAME "\"]";
	}
	return "[plugins.\"" CRI_IMAGES_NAME "\"]";
}

static const char *type_name(sigil__toml_type t)
{
	switch (t) {
	case SIGIL_TOML_STRING: return "a string";
	case SIGIL_TOML_BOOL: return "a boolean";
	case SIGIL_TOML_INT: return "an integer";
	case SIGIL_TOML_FLOAT: return "a float";
	case SIGIL_TOML_ARRAY: return "an array";
	case SIGIL_TOML_TABLE: return "a table";
	}
	return "a value";
}

/* a plugin setting of the wrong type: server.New's config.Decode fails and
 * containerd does not start (cmd/containerd/server/server.go L296-299) */
static sigil_status wrong_type(sigil__doctor_findings *f, const char *id, const char *key, sigil__ctd_value v,
	sigil__toml_type want, const char *section, sigil_error *err)
{
	char msg[MSG], fix[MSG], head[MSG];
	snprintf(msg, sizeof msg, "%s is %s, not %s: containerd cannot decode %s and does not start", key,
		type_name(v.v->type), type_name(want), section);
	snprintf(fix, sizeof fix, "write %s as %s in %s of %s, then restart containerd", key, type_name(want),
		section, file_of(v));
	snprintf(head, sizeof head, "containerd does not start (%s is %s in %s)", key, type_name(v.v->type),
		file_of(v));
	return sigil__doctor_add(f, SIGIL_DOCTOR_PROBLEM, id, file_of(v), line_of(v), head, msg, fix, err);
}

/* ---- CRI's local-pull fallback ---------------------------------------------- */

/* internal/cri/config/config.go CheckLocalImagePullConfigs (L535-596) sets
 * UseLocalImagePull when any of these is present, and plugins/cri/images/
 * plugin.go (L76-78) calls it only when use_local_image_pull is false. The
 * local pull (client.Pull) does not go through the transfer service, so
 * image verifiers never run (containerd.md §0.3, §2). containerd logs only
 * the first trigger; every one must go, so every one is reported. */
typedef struct cri_bool_rule {
	const char *key;
	const char *id;
	bool bad;       /* the value that triggers the fallback */
	const char *why;
} cri_bool_rule;

static const cri_bool_rule cri_bool_rules[] = {
	/* IsPresent: !c.DisableSnapshotAnnotations on Linux (L548-556); the
	 * default is true (config_unix.go DefaultImageConfig L33) */
	{ "disable_snapshot_annotations", "disable-snapshot-annotations", false,
	  "snapshot annotations belong to the snapshotter plugin with the transfer service" },
	/* L558-561; default false */
	{ "discard_unpacked_layers", "discard-unpacked-layers", true,
	  "the transfer service does not support it" },
	/* L583-586; default false */
	{ "image_pull_with_sync_fs", "image-pull-with-sync-fs", true,
	  "the transfer service does not support it" },
	/* ImageConfig.UseLocalImagePull (config.go L347): the fallback asked for
	 * directly; only in io.containerd.cri.v1.images (not migrated from v2) */
	{ "use_local_image_pull", "use-local-image-pull", true,
	  "it selects the local pull directly" },
};

static sigil_status cri_problem(const sigil__ctd_config *c, sigil__doctor_findings *f, const char *id,
	const char *key, sigil__ctd_value v, sigil__ctd_cri_loc loc, const char *setting, const char *why,
	const char *fix, sigil_error *err)
{
	char msg[MSG], head[MSG];
	snprintf(msg, sizeof msg, "%s (config version %lld, %s): CRI falls back to its local pull, which "
		"skips image verifiers (%s)", setting, (long long)c->version,
		loc == SIGIL_CTD_CRI_V2 ? "version 2 table, migrated" : loc == SIGIL_CTD_CRI_V3 ?
		CRI_IMAGES_NAME : "containerd's default", why);
	if (v.file)
		snprintf(head, sizeof head, "CRI pulls bypass image verifiers (%s in %s)", setting, file_of(v));
	else
		snprintf(head, sizeof head, "CRI pulls bypass image verifiers (%s)", setting);
	return sigil__doctor_add(f, SIGIL_DOCTOR_PROBLEM, id, file_of(v), line_of(v), head, msg, fix, err);
}

sigil_status sigil__doctor_check_cri(const sigil__ctd_config *c, sigil__doctor_findings *f, sigil_error *err)
{
	size_t before = f->problems;
	char fix[MSG], setting[MSG];
	sigil__ctd_cri_loc loc;
	for (size_t i = 0; i < sizeof cri_bool_rules / sizeof cri_bool_rules[0]; i++) {
		const cri_bool_rule *r = &cri_bool_rules[i];
		sigil__ctd_value v = sigil__ctd_cri_image_get(c, r->key, NULL, &loc);
		if (!v.v)
			continue;  /* the default never triggers */
		const char *section = cri_section(loc, r->key, c);
		if (v.v->type != SIGIL_TOML_BOOL) {
			SIGIL_TRY(wrong_type(f, r->id, r->key, v, SIGIL_TOML_BOOL, section, err));
			continue;
		}
		if (v.v->b != r->bad)
			continue;
		snprintf(setting, sizeof setting, "%s = %s", r->key, r->bad ? "true" : "false");
		snprintf(fix, sizeof fix, "set %s = %s in %s of %s, then restart containerd", r->key,
			r->bad ? "false" : "true", section, file_of(v));
		SIGIL_TRY(cri_problem(c, f, r->id, r->key, v, loc, setting, r->why, fix, err));
	}

	/* MaxConcurrentDownloads != 3 (L578-581); default 3 (config_unix.go L34) */
	sigil__ctd_value v = sigil__ctd_cri_image_get(c, "max_concurrent_downloads", NULL, &loc);
	if (v.v) {
		const char *section = cri_section(loc, "max_concurrent_downloads", c);
		if (v.v->type != SIGIL_TOML_INT) {
			SIGIL_TRY(wrong_type(f, "max-concurrent-downloads", "max_concurrent_downloads", v,
				SIGIL_TOML_INT, section, err));
		} else if (v.v->i != 3) {
			snprintf(setting, sizeof setting, "max_concurrent_downloads = %lld", (long long)v.v->i);
			snprintf(fix, sizeof fix, "set max_concurrent_downloads = 3 in %s of %s (the transfer "
				"service's own limit is max_concurrent_downloads in [plugins.\"io.containerd.transfer.v1.local\"]), "
				"then restart containerd", section, file_of(v));
			SIGIL_TRY(cri_problem(c, f, "max-concurrent-downloads", "max_concurrent_downloads", v, loc,
				setting, "it must be set in the transfer service plugin instead", fix, err));
		}
	}

	/* Registry.Mirrors / Configs / Auths non-empty (L563-576): maps, merged
	 * key by key across files, so a later file cannot empty them; the
	 * table must be deleted wherever it is set. */
	static const struct {
		const char *sub, *id, *fix;
	} reg[] = {
		{ "mirrors", "registry-mirrors",
		  ", describe each mirror in a hosts.toml under config_path (e.g. /etc/containerd/certs.d/"
		  "<registry>/hosts.toml) and set config_path = \"/etc/containerd/certs.d\" in its registry "
		  "table, then restart containerd" },
		{ "configs", "registry-configs",
		  "; put TLS settings (ca, client, skip_verify) in hosts.toml under config_path and give "
		  "credentials to kubelet (imagePullSecrets or a credential provider), then restart containerd" },
		{ "auths", "registry-auths",
		  " and give the credentials to kubelet (imagePullSecrets or a credential provider), then restart "
		  "containerd" },
	};
	for (size_t i = 0; i < sizeof reg / sizeof reg[0]; i++) {
		v = sigil__ctd_cri_image_get(c, "registry", reg[i].sub, &loc);
		if (!v.v)
			continue;
		char table[256];
		snprintf(table, sizeof table, "[plugins.\"%s\".registry.%s]",
			loc == SIGIL_CTD_CRI_V2 ? CRI_V2_NAME : CRI_IMAGES_NAME, reg[i].sub);
		snprintf(setting, sizeof setting, "registry.%s is set (%zu entr%s, deprecated)", reg[i].sub,
			v.v->count, v.v->count == 1 ? "y" : "ies");
		snprintf(fix, sizeof fix, "delete the %s table from %s (and from every other file that sets it: "
			"tables merge)%s", table, file_of(v), reg[i].fix);
		char head_setting[64];
		snprintf(head_setting, sizeof head_setting, "registry.%s", reg[i].sub);
		char msg[MSG], head[MSG];
		snprintf(msg, sizeof msg, "%s: CRI falls back to its local pull, which skips image verifiers "
			"(not supported with the transfer service)", setting);
		snprintf(head, sizeof head, "CRI pulls bypass image verifiers (%s in %s)", head_setting, file_of(v));
		SIGIL_TRY(sigil__doctor_add(f, SIGIL_DOCTOR_PROBLEM, reg[i].id, file_of(v), line_of(v), head, msg,
			fix, err));
	}

	if (f->problems == before) {
		char msg[MSG];
		snprintf(msg, sizeof msg, "CRI pulls go through the transfer service, which runs image verifiers "
			"(config version %lld; no local-pull fallback setting)", (long long)c->version);
		SIGIL_TRY(sigil__doctor_add(f, SIGIL_DOCTOR_OK, "use-local-image-pull", NULL, 0, NULL, msg, NULL, err));
	}
	return SIGIL_STATUS_OK;
}

/* ---- the bindir plugin ------------------------------------------------------- */

/* whether entry (in dir) is sigil's forwarder: by name, or a symlink to it */
static bool is_sigil_verifier(const char *dir, const char *name)
{
	if (strcmp(name, SIGIL_VERIFIER_NAME) == 0)
		return true;
	char path[PATH_MAX], real[PATH_MAX];
	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
		return false;
	if (!realpath(path, real))
		return false;
	const char *base = strrchr(real, '/');
	return base && strcmp(base + 1, SIGIL_VERIFIER_NAME) == 0;
}

/* whether dir holds sigil-verifier */
static bool dir_has_sigil_verifier(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return false;
	bool found = false;
	struct dirent *e;
	while (!found && (e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			found = is_sigil_verifier(dir, e->d_name);
	closedir(d);
	return found;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* list_dir - the entries of dir sorted by name, as os.ReadDir returns
 * them (everything but "." and ".."). -1 with errno. */
static int list_dir(const char *dir, char ***names, size_t *count)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	char **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	errno = 0;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (n == cap) {
			/* a bin_dir with this many entries is broken anyway */
			if (cap >= 65536)
				break;
			size_t ncap = cap ? cap * 2 : 16;
			char **nv = realloc(v, ncap * sizeof *nv);
			if (!nv)
				goto oom;
			v = nv;
			cap = ncap;
		}
		if (!(v[n] = strdup(e->d_name)))
			goto oom;
		n++;
		errno = 0;
	}
	int e2 = errno;
	closedir(d);
	if (e2) {
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
		errno = e2;
		return -1;
	}
	if (n)
		qsort(v, n, sizeof *v, cmp_name);
	*names = v;
	*count = n;
	return 0;
oom:
	closedir(d);
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	errno = ENOMEM;
	return -1;
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* an entry containerd would fail to execute: what is wrong, or NULL */
static const char *unexecutable(const char *path, char *buf, size_t len)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		struct stat lst;
		if (errno == ENOENT && lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode))
			return "is a dangling symlink";
		snprintf(buf, len, "cannot be examined (%s)", strerror(errno));
		return buf;
	}
	if (S_ISDIR(st.st_mode))
		return "is a directory";
	if (!S_ISREG(st.st_mode))
		return "is not a regular file";
	/* containerd runs as root: one execute bit is enough for execve */
	if (!(st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)))
		return "is not executable";
	return NULL;
}

sigil_status sigil__doctor_check_bindir(const sigil__ctd_config *c, const char *verifier_dir,
	sigil__doctor_findings *f, sigil_error *err)
{
	static const char *const k_bin_dir[] = { "bin_dir" };
	static const char *const k_max[] = { "max_verifiers" };
	const char *section = "[plugins.\"" SIGIL_CTD_BINDIR_PLUGIN "\"]";
	char msg[MSG], fix[MSG], head[MSG], where[MSG];

	sigil__ctd_value bd = sigil__ctd_plugin_get(c, SIGIL_CTD_BINDIR_PLUGIN, k_bin_dir, 1);
	if (bd.v && bd.v->type != SIGIL_TOML_STRING)
		return wrong_type(f, "bin-dir-unreadable", "bin_dir", bd, SIGIL_TOML_STRING, section, err);
	sigil__ctd_value mv = sigil__ctd_plugin_get(c, SIGIL_CTD_BINDIR_PLUGIN, k_max, 1);
	if (mv.v && mv.v->type != SIGIL_TOML_INT)
		return wrong_type(f, "max-verifiers", "max_verifiers", mv, SIGIL_TOML_INT, section, err);
	const char *dir = bd.v ? bd.v->str : SIGIL_CTD_DEFAULT_BIN_DIR;
	int64_t max = mv.v ? mv.v->i : SIGIL_CTD_DEFAULT_MAX_VERIFIERS;
	const char *bd_file = file_of(bd);
	size_t bd_line = line_of(bd);
	if (bd.v)
		snprintf(where, sizeof where, "bin_dir %s", dir);
	else
		snprintf(where, sizeof where, "bin_dir %s (containerd's default: no file sets bin_dir)", dir);
	/* the fix that points bin_dir at sigil's own directory */
	char set_dir[MSG];
	snprintf(set_dir, sizeof set_dir, "set bin_dir = \"%s\" in %s%s%s (sigil's drop-in does), then restart "
		"containerd", verifier_dir, section, bd_file ? " of " : "", bd_file ? bd_file : "");

	/* pkg/imageverifier/bindir/bindir.go VerifyImage L59-77: os.ReadDir;
	 * ErrNotExist -> allow (bin_dir = "" lands here too), any other error
	 * -> the pull fails, an empty directory -> allow (containerd.md §1.7) */
	if (dir[0] == '\0') {
		snprintf(msg, sizeof msg, "bin_dir = \"\": containerd finds no verifier directory and allows "
			"every pull unverified");
		snprintf(head, sizeof head, "image verifiers never run (bin_dir = \"\" in %s)", bd_file);
		return sigil__doctor_add(f, SIGIL_DOCTOR_PROBLEM, "bin-dir-missing", bd_file, bd_line, head, msg,
			set_dir, err);
	}
	char **names = NULL;
	size_t n = 0;
	if (list_dir(dir, &names, &n) != 0) {
		int e = errno;
		if (e == ENOMEM)
			return sigil__err_oom(err);
		if (e == ENOENT) {
			snprintf(msg, sizeof msg, "%s does not exist: containerd allows every pull without running "
				"a verifier", where);
			snprintf(head, sizeof head, "image verifiers never run (bin_dir %s does not exist)", dir);
			if (strcmp(dir, verifier_dir) == 0)
				snprintf(fix, sizeof fix, "install sigil: it puts %s in %s", SIGIL_VERIFIER_NAME, dir);
			else
				snprintf(fix, sizeof fix, "%s", set_dir);
			return sigil__doctor_add(f, SIGIL_DOCTOR_PROBLEM, "bin-dir-missing", bd_file, bd_line, head, msg,
				fix, err);
		}
		if (e == EACCES && geteuid() != 0) {
			snprintf(msg, sizeof msg, "cannot list %s as uid %u (%s); containerd runs as root",
				where, (unsigned)geteuid(), strerror(e));
			return sigil__doctor_add(f, SIGIL_DOCTOR_WARNING, "bin-dir-unreadable", bd_file, bd_line, NULL, msg,
				"run sigil doctor as root", err);
		}
		snprintf(msg, sizeof msg, "containerd cannot list %s (%s): it fails every pull", where, strerror(e));
		snprintf(head, sizeof head, "every pull fails (bin_dir %s cannot be listed: %s)", dir, strerror(e));
		snprintf(fix, sizeof fix, "make %s a directory containerd can read, or %s", dir, set_dir);
		return sigil__doctor_add(f, SIGIL_DOCTOR_PROBLEM, "bin-dir-unreadable", bd_file, bd_line, head, msg,
			fix, err);
	}
	sigil_status st = SIGIL_STATUS_ERROR;
	if (n == 0) {
		snprintf(msg, sizeof msg, "%s is empty: containerd allows every pull without running a verifier",
			where);
		snprintf(head, sizeof head, "image verifiers never run (bin_dir %s is empty)", dir);
		snprintf(fix, sizeof fix, "install -m 755 %s/%s %s/, or %s", verifier_dir, SIGIL_VERIFIER_NAME, dir,
			set_dir);
		st = sigil__doctor_add(f, SIGIL_DOCTOR_PROBLEM, "bin-dir-empty", bd_file, bd_line, head, msg, fix, err);
		goto out;
	}

	ssize_t sigil_at = -1;
	for (size_t i = 0; i < n && sigil_at < 0; i++)
		if (is_sigil_verifier(dir, names[i]))
			sigil_at = (ssize_t)i;

	/* bindir.go L80-84: the first max_verifiers entries (sorted) run, a
	 * negative value means all; the rest are skipped and the pull allowed
	 * (containerd.md §1.6) */
	size_t runs = max < 0 ? n : (size_t)max < n ? (size_t)max : n;
	if (max == 0) {
		snprintf(msg, sizeof msg, "max_verifiers = 0: containerd skips every verifier in %s and allows "
			"every pull", dir);
		snprintf(head, sizeof head, "image verifiers never run (max_verifiers = 0 in %s)", file_of(mv));
		snprintf(fix, sizeof fix, "set max_verifiers = %d in %s of %s, then restart containerd",
			SIGIL_CTD_DEFAULT_MAX_VERIFIERS, section, file_of(mv));
		if (sigil__doctor_add(f, SIGIL_DOCTOR_PROBLEM, "max-verifiers", file_of(mv), line_of(mv), head, msg, fix,
				err) != SIGIL_STATUS_OK)
			goto out;
	} else if (sigil_at >= 0 && (size_t)sigil_at >= runs) {
		snprintf(msg, sizeof msg, "max_verifiers = %lld%s, but %s is entry %zd of %zu in %s (sorted by "
			"name): containerd skips it and allows the pull", (long long)max, mv.v ? "" : " (default)",
			SIGIL_VERIFIER_NAME, sigil_at + 1, n, dir);
		snprintf(head, sizeof head, "sigil-verifier never runs (max_verifiers = %lld, %zu entries in %s)",
			(long long)max, n, dir);
		snprintf(fix, sizeof fix, "remove the other entries from %s, or set max_verifiers = %zu in %s%s%s, "
			"then restart containerd", dir, n, section, mv.v ? " of " : "", mv.v ? file_of(mv) : "");
		if (sigil__doctor_add(f, SIGIL_DOCTOR_PROBLEM, "max-verifiers", file_of(mv), line_of(mv), head, msg,
				fix, err) != SIGIL_STATUS_OK)
			goto out;
	}

	/* bindir.go L86-101: every entry that runs is executed; one containerd
	 * cannot execute is an error and the pull fails, whatever the others
	 * said (containerd.md §1.4, §1.7) */
	bool sigil_ok = sigil_at >= 0 && (size_t)sigil_at < runs;
	for (size_t i = 0; i < runs; i++) {
		char path[PATH_MAX], why[256];
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		const char *bad = unexecutable(path, why, sizeof why);
		bool mine = (ssize_t)i == sigil_at;
		if (bad) {
			if (mine)
				sigil_ok = false;
			snprintf(msg, sizeof msg, "%s %s: containerd executes every entry of bin_dir and fails every "
				"pull on this one", path, bad);
			snprintf(head, sizeof head, "every pull fails (%s %s)", path, bad);
			if (mine)
				snprintf(fix, sizeof fix, "install -m 755 %s/%s %s", verifier_dir, SIGIL_VERIFIER_NAME, path);
			else
				snprintf(fix, sizeof fix, "move %s out of %s: bin_dir must hold %s and nothing else", path,
					dir, SIGIL_VERIFIER_NAME);
			if (sigil__doctor_add(f, SIGIL_DOCTOR_PROBLEM, "bin-dir-entry", NULL, 0, head, msg, fix, err) !=
					SIGIL_STATUS_OK)
				goto out;
		} else if (!mine) {
			snprintf(msg, sizeof msg, "%s is another image verifier: containerd runs it on every pull "
				"as well as %s", path, SIGIL_VERIFIER_NAME);
			snprintf(fix, sizeof fix, "move %s out of %s unless it is meant to run on every pull", path, dir);
			if (sigil__doctor_add(f, SIGIL_DOCTOR_WARNING, "bin-dir-entry", NULL, 0, NULL, msg, fix, err) !=
					SIGIL_STATUS_OK)
				goto out;
		}
	}

	if (sigil_at < 0) {
		snprintf(msg, sizeof msg, "%s has no %s: containerd runs only the other %zu entr%s, and sigil "
			"checks no pull", where, SIGIL_VERIFIER_NAME, n, n == 1 ? "y" : "ies");
		snprintf(head, sizeof head, "sigil checks no pull (no %s in bin_dir %s)", SIGIL_VERIFIER_NAME, dir);
		snprintf(fix, sizeof fix, "install -m 755 %s/%s %s/, or %s", verifier_dir, SIGIL_VERIFIER_NAME, dir,
			set_dir);
		st = sigil__doctor_add(f, SIGIL_DOCTOR_PROBLEM, "verifier-missing", bd_file, bd_line, head, msg, fix,
			err);
		goto out;
	}
	if (sigil_ok) {
		snprintf(msg, sizeof msg, "containerd runs %s/%s on every pull", dir, names[sigil_at]);
		if (sigil__doctor_add(f, SIGIL_DOCTOR_OK, "verifier-missing", bd_file, bd_line, NULL, msg, NULL, err) !=
				SIGIL_STATUS_OK)
			goto out;
	}
	st = SIGIL_STATUS_OK;
out:
	free_names(names, n);
	return st;
}

/* ---- sigil's drop-in ------------------------------------------------------- */

/* a TOML basic string (TOML §String): quote, backslash and controls escaped */
static void toml_quote(char *out, size_t len, const char *s)
{
	size_t n = 0;
	if (len < 3)
		return;
	out[n++] = '"';
	for (; *s && n + 8 < len; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\') {
			out[n++] = '\\';
			out[n++] = (char)ch;
		} else if (ch < 0x20 || ch == 0x7f) {
			n += (size_t)snprintf(out + n, len - n, "\\u%04x", ch);
		} else {
			out[n++] = (char)ch;
		}
	}
	out[n++] = '"';
	out[n] = '\0';
}

sigil_status sigil__doctor_check_dropin(const sigil__ctd_config *c, const char *verifier_dir,
	sigil__doctor_findings *f, sigil_error *err)
{
	static const char *const k_bin_dir[] = { "bin_dir" };
	char msg[MSG], fix[MSG];
	const sigil__ctd_file *main_file = &c->files[0];
	bool main_sets = false;
	for (size_t i = 0; i < c->count; i++) {
		const sigil__ctd_file *fl = &c->files[i];
		const sigil__toml_value *v = sigil__toml_get(sigil__toml_get(sigil__toml_get(fl->doc, "plugins"),
			SIGIL_CTD_BINDIR_PLUGIN), k_bin_dir[0]);
		if (!v || v->type != SIGIL_TOML_STRING || !v->str[0])
			continue;
		if (strcmp(v->str, verifier_dir) != 0 && !dir_has_sigil_verifier(v->str))
			continue;
		if (i == 0) {
			main_sets = true;
			continue;
		}
		snprintf(msg, sizeof msg, "%s (imported by %s) points the image-verifier plugin at %s",
			fl->path, c->files[fl->importer].path, v->str);
		return sigil__doctor_add(f, SIGIL_DOCTOR_OK, "dropin-not-imported", fl->path, v->line, NULL, msg, NULL,
			err);
	}
	/* the main file does the drop-in's job itself: nothing to import */
	if (main_sets)
		return SIGIL_STATUS_OK;

	/* conf.d next to the main file (/etc/containerd/conf.d/ *.toml), the
	 * pattern containerd >= 2.2 generates (containerd.md §4) */
	char *dir = sigil__ctd_path_dir(main_file->path);
	if (!dir)
		return sigil__err_oom(err);
	char glob_path[PATH_MAX + 32], quoted[2 * PATH_MAX + 64];
	snprintf(glob_path, sizeof glob_path, "%s/conf.d/*.toml", dir);
	char *clean = sigil__ctd_path_clean(glob_path);
	if (!clean) {
		free(dir);
		return sigil__err_oom(err);
	}
	snprintf(glob_path, sizeof glob_path, "%s", clean);
	free(clean);
	/* is that pattern imported already (resolved as resolveImports does)? */
	bool has_glob = false;
	const sigil__toml_value *imp = main_file->imports;
	for (size_t i = 0; imp && i < imp->count && !has_glob; i++) {
		char *p = sigil__ctd_path_clean(imp->items[i]->str);
		if (p && p[0] != '/') {
			size_t m = strlen(dir) + strlen(p) + 2;
			char *j = malloc(m);
			if (j) {
				snprintf(j, m, "%s/%s", dir, p);
				free(p);
				p = sigil__ctd_path_clean(j);
				free(j);
			} else {
				free(p);
				p = NULL;
			}
		}
		if (!p) {
			free(dir);
			return sigil__err_oom(err);
		}
		has_glob = strcmp(p, glob_path) == 0;
		free(p);
	}
	char dropin[PATH_MAX + 32];
	snprintf(dropin, sizeof dropin, "%.*s50-sigil.toml", (int)(strlen(glob_path) - strlen("*.toml")), glob_path);
	free(dir);
	if (has_glob) {
		snprintf(msg, sizeof msg, "%s imports %s, but no file there configures the image-verifier plugin "
			"with %s's directory", main_file->path, glob_path, SIGIL_VERIFIER_NAME);
		snprintf(fix, sizeof fix, "install sigil's drop-in as %s (meson install puts it in "
			"<sysconfdir>/containerd/conf.d), then restart containerd", dropin);
		return sigil__doctor_add(f, SIGIL_DOCTOR_WARNING, "dropin-not-imported", main_file->path,
			imp ? imp->line : 0, NULL, msg, fix, err);
	}
	/* the imports line: what is there, plus the conf.d pattern */
	char line[4 * PATH_MAX];
	size_t n = (size_t)snprintf(line, sizeof line, "imports = [");
	for (size_t i = 0; imp && i < imp->count && n < sizeof line; i++) {
		toml_quote(quoted, sizeof quoted, imp->items[i]->str);
		n += (size_t)snprintf(line + n, sizeof line - n, "%s, ", quoted);
	}
	toml_quote(quoted, sizeof quoted, glob_path);
	if (n < sizeof line)
		snprintf(line + n, sizeof line - n, "%s]", quoted);
	snprintf(msg, sizeof msg, "no imported file configures [plugins.\"%s\"] with %s's directory: %s does not "
		"import sigil's drop-in (%s)", SIGIL_CTD_BINDIR_PLUGIN, SIGIL_VERIFIER_NAME, main_file->path, dropin);
	if (imp)
		snprintf(fix, sizeof fix, "replace the imports line (line %zu) of %s with: %s, make sure %s is "
			"installed, then restart containerd", imp->line, main_file->path, line, dropin);
	else
		snprintf(fix, sizeof fix, "add this line at the top of %s (before any [table]): %s, make sure %s is "
			"installed, then restart containerd", main_file->path, line, dropin);
	return sigil__doctor_add(f, SIGIL_DOCTOR_WARNING, "dropin-not-imported", main_file->path,
		imp ? imp->line : 0, NULL, msg, fix, err);
}

/* ---- containerd's version, for the findings that depend on it --------------- */

/* sigil__ctd_semver_parse and _at_least (containerd_config.h), shared with
 * the loader, which picks its rules by the same version */
typedef sigil__ctd_semver ctd_semver;

static bool parse_semver(const char *version, ctd_semver *v)
{
	return sigil__ctd_semver_parse(version, v);
}

static bool semver_at_least(const ctd_semver *v, unsigned long major, unsigned long minor)
{
	return sigil__ctd_semver_at_least(v, major, minor);
}

/* ---- disabled_plugins ------------------------------------------------------------ */

sigil_status sigil__doctor_check_disabled(const sigil__ctd_config *c, const char *version,
	sigil__doctor_findings *f, sigil_error *err)
{
	char msg[MSG], fix[MSG], head[MSG];
	ctd_semver v;
	bool known = parse_semver(version, &v) && semver_at_least(&v, 2, 0);
	for (size_t i = 0; i < c->count; i++) {
		const sigil__ctd_file *fl = &c->files[i];
		/* the loader checked: an array of strings (Config.DisabledPlugins);
		 * containerd appends every file's list, so each file that names
		 * the plugin must drop it */
		const sigil__toml_value *dp = sigil__toml_get(fl->doc, "disabled_plugins");
		bool named = false;
		for (size_t k = 0; dp && dp->type == SIGIL_TOML_ARRAY && k < dp->count && !named; k++)
			named = dp->items[k]->type == SIGIL_TOML_STRING &&
				strcmp(dp->items[k]->str, SIGIL_CTD_BINDIR_PLUGIN) == 0;
		if (!named)
			continue;
		int n = snprintf(msg, sizeof msg, "disabled_plugins lists \"" SIGIL_CTD_BINDIR_PLUGIN "\": ");
		size_t at = n > 0 && (size_t)n < sizeof msg ? (size_t)n : 0;
		if (known && !semver_at_least(&v, 2, 3)) {
			/* plugins/transfer/plugin.go L73-76 (v2.1.9): GetByType's
			 * ErrPluginNotFound fails the transfer plugin, and with it
			 * the CRI plugins that need it (tested, containerd.md §1.12) */
			snprintf(msg + at, sizeof msg - at, "containerd %s then fails to load its transfer service "
				"(io.containerd.transfer.v1.local), CRI's image service and CRI itself, which need the "
				"plugin (until 2.3.0): every CRI and transfer-service pull fails and kubelet cannot run pods",
				version);
			snprintf(head, sizeof head, "every pull fails (disabled_plugins lists the image-verifier plugin "
				"in %s)", fl->path);
		} else if (known) {
			/* PR #12893, in v2.3.0: the transfer plugin loads without
			 * verifiers, and pulls are not checked at all */
			snprintf(msg + at, sizeof msg - at, "containerd %s loads its transfer service without it (since "
				"2.3.0): no image verifier runs and every pull is allowed unverified", version);
			snprintf(head, sizeof head, "image verifiers never run (disabled_plugins lists the image-verifier "
				"plugin in %s)", fl->path);
		} else {
			snprintf(msg + at, sizeof msg - at, "on containerd 2.0 to 2.2 the transfer service, CRI's image "
				"service and CRI fail to load (every pull fails, kubelet cannot run pods); from 2.3.0 no "
				"image verifier runs and every pull is allowed unverified (containerd's version is not "
				"known)");
			snprintf(head, sizeof head, "image verification is broken (disabled_plugins lists the "
				"image-verifier plugin in %s)", fl->path);
		}
		snprintf(fix, sizeof fix, "remove \"" SIGIL_CTD_BINDIR_PLUGIN "\" from disabled_plugins (line %zu) of "
			"%s, then restart containerd; to turn image verification off on purpose, set bin_dir = \"\" in "
			"[plugins.\"" SIGIL_CTD_BINDIR_PLUGIN "\"] instead", dp->line, fl->path);
		SIGIL_TRY(sigil__doctor_add(f, SIGIL_DOCTOR_PROBLEM, "bindir-disabled", fl->path, dp->line, head, msg,
			fix, err));
	}
	return SIGIL_STATUS_OK;
}

/* ---- per_verifier_timeout ----------------------------------------------------- */

/* plugins/imageverifier/plugin.go defaultConfig: PerVerifierTimeout 10s */
#define DEFAULT_PER_VERIFIER_TIMEOUT_MS 10000

sigil_status sigil__doctor_check_timeout(const sigil__ctd_config *c, int64_t verifier_timeout_ms,
	const char *source, sigil__doctor_findings *f, sigil_error *err)
{
	static const char *const k_timeout[] = { "per_verifier_timeout" };
	const char *section = "[plugins.\"" SIGIL_CTD_BINDIR_PLUGIN "\"]";
	char msg[MSG], fix[MSG], head[MSG], setting[512], text[64];
	sigil__ctd_value tv = sigil__ctd_plugin_get(c, SIGIL_CTD_BINDIR_PLUGIN, k_timeout, 1);
	const char *file = file_of(tv);
	size_t line = line_of(tv);
	/* the value to suggest: containerd's default, or more when sigil-verifier
	 * was given longer, leaving it 2 s to report */
	int64_t want_s = (verifier_timeout_ms + 2000 + 999) / 1000;
	if (want_s < DEFAULT_PER_VERIFIER_TIMEOUT_MS / 1000)
		want_s = DEFAULT_PER_VERIFIER_TIMEOUT_MS / 1000;
	char set_it[MSG];
	snprintf(set_it, sizeof set_it, "set per_verifier_timeout = \"%llds\" in %s%s%s, then restart containerd",
		(long long)want_s, section, file ? " of " : "", file ? file : "");

	/* containerd decodes the plugin's table into bindir.Config, whose
	 * PerVerifierTimeout is a tomlext.Duration: go-toml calls its
	 * UnmarshalText (time.ParseDuration) with the value's text, whatever
	 * its TOML type (vendor/github.com/pelletier/go-toml/v2/unmarshaler.go
	 * tryTextUnmarshaler, v2.1.9). The plugin table is re-encoded first
	 * (config.go Decode), so an integer arrives as its decimal digits:
	 * only 0 parses. A failure stops containerd (server.go L296-299). */
	int64_t ns = (int64_t)DEFAULT_PER_VERIFIER_TIMEOUT_MS * 1000000;
	if (tv.v) {
		const char *val = NULL;
		if (tv.v->type == SIGIL_TOML_STRING) {
			val = tv.v->str;
			snprintf(setting, sizeof setting, "per_verifier_timeout = \"%.200s\"", val);
		} else if (tv.v->type == SIGIL_TOML_INT) {
			snprintf(text, sizeof text, "%lld", (long long)tv.v->i);
			val = text;
			snprintf(setting, sizeof setting, "per_verifier_timeout = %s (an integer, decoded as the "
				"duration \"%s\")", text, text);
		} else {
			return wrong_type(f, "per-verifier-timeout", "per_verifier_timeout", tv, SIGIL_TOML_STRING,
				section, err);
		}
		sigil_error perr = SIGIL_ERROR_INIT;
		if (sigil__go_duration_parse((const uint8_t *)val, strlen(val), &ns, &perr) != SIGIL_STATUS_OK) {
			snprintf(msg, sizeof msg, "%s is not a Go duration (%s): containerd cannot decode %s and does not "
				"start", setting, perr.message, section);
			snprintf(head, sizeof head, "containerd does not start (per_verifier_timeout in %s is not a "
				"duration)", file);
			snprintf(fix, sizeof fix, "write per_verifier_timeout as a Go duration string, e.g. "
				"per_verifier_timeout = \"%llds\", in %s of %s, then restart containerd", (long long)want_s,
				section, file);
			return sigil__doctor_add(f, SIGIL_DOCTOR_PROBLEM, "per-verifier-timeout", file, line, head, msg,
				fix, err);
		}
	} else {
		snprintf(setting, sizeof setting, "containerd's default per_verifier_timeout of %ds (no file sets "
			"it)", DEFAULT_PER_VERIFIER_TIMEOUT_MS / 1000);
	}
	if (ns <= 0) {
		/* bindir.go runVerifier: context.WithTimeout(ctx, 0 or less) is
		 * already done, so exec.CommandContext refuses to start the
		 * verifier and the pull fails (containerd.md §1.5; seen with
		 * 2.1.9 in integration/containerd/test-doctor.py) */
		snprintf(msg, sizeof msg, "%s: containerd gives every verifier an already expired deadline, so it "
			"cannot run sigil-verifier and every pull fails instead of being verified (\"starting process: "
			"context deadline exceeded\")", setting);
		snprintf(head, sizeof head, "every pull fails (per_verifier_timeout is not above zero in %s)", file);
		return sigil__doctor_add(f, SIGIL_DOCTOR_PROBLEM, "per-verifier-timeout", file, line, head, msg,
			set_it, err);
	}
	/* containerd starts its clock before it forks sigil-verifier, which
	 * starts its own when it runs: with equal durations containerd's runs
	 * out first. It then kills the verifier's process group (SIGKILL,
	 * processes_unix.go) and the pull fails with "signal: killed", not
	 * with sigil's reason (containerd.md §1.5, §1.13). */
	if (ns / 1000000 <= verifier_timeout_ms) {
		snprintf(msg, sizeof msg, "%s is not above sigil-verifier's own deadline of %lld ms (%s): a cold "
			"verification that needs it is killed by containerd (SIGKILL of sigil-verifier's process group), "
			"and the pull fails with \"signal: killed\" instead of sigil's reason", setting,
			(long long)verifier_timeout_ms, source);
		snprintf(fix, sizeof fix, "%s; or give sigil-verifier a shorter deadline (SIGIL_VERIFIER_TIMEOUT_MS in "
			"containerd's environment) below it", set_it);
		return sigil__doctor_add(f, SIGIL_DOCTOR_WARNING, "per-verifier-timeout", file, line, NULL, msg, fix,
			err);
	}
	return SIGIL_STATUS_OK;
}

/* ---- a drop-in's version --------------------------------------------------------- */

/* the keys of plugins."io.containerd.grpc.v1.cri" that stay in that plugin
 * in version 3 (internal/cri/config ServerConfig); runtime/plugin.go
 * migrateConfig (L214-247) and images/plugin.go migrateConfig move every
 * other one to io.containerd.cri.v1.runtime or .images */
static bool cri_server_key(const char *k)
{
	static const char *const keys[] = {
		"disable_tcp_service", "stream_server_address", "stream_server_port", "stream_idle_timeout",
		"enable_tls_streaming", "x509_key_pair_streaming",
	};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (strcmp(k, keys[i]) == 0)
			return true;
	return false;
}

/* the version 2 CRI settings of every file, as "key (file:line)" in lost
 * (cut), and how many: what server.New migrates only when the merged
 * version is below 3 */
static size_t cri_v2_settings(const sigil__ctd_config *c, char *lost, size_t lost_len)
{
	size_t n = 0, at = 0;
	lost[0] = '\0';
	for (size_t i = 0; i < c->count; i++) {
		const sigil__toml_value *t = sigil__toml_get(sigil__toml_get(c->files[i].doc, "plugins"), CRI_V2_NAME);
		if (!t || t->type != SIGIL_TOML_TABLE)
			continue;
		for (size_t k = 0; k < t->count; k++) {
			if (cri_server_key(t->keys[k]))
				continue;
			if (n < 4 && at < lost_len) {
				int w = snprintf(lost + at, lost_len - at, "%s%s (%s:%zu)", n ? ", " : "", t->keys[k],
					c->files[i].path, t->items[k]->line);
				at = w < 0 ? lost_len : at + (size_t)w;
			}
			n++;
		}
	}
	if (n > 4 && at < lost_len)
		snprintf(lost + at, lost_len - at, " and %zu more", n - 4);
	return n;
}

sigil_status sigil__doctor_check_dropin_version(const sigil__ctd_config *c, const char *version,
	sigil__doctor_findings *f, sigil_error *err)
{
	char msg[MSG], fix[MSG], head[MSG], lost[MSG];
	const sigil__ctd_file *main_file = &c->files[0];
	/* a version-less (or version 1) main file is migrated to 3 before the
	 * merge (LoadConfig: MigrateConfigTo(out.Version)): that is its version */
	int64_t main_version = main_file->version <= 1 ? SIGIL_CTD_CONFIG_VERSION : main_file->version;
	ctd_semver v;
	bool known = parse_semver(version, &v) && semver_at_least(&v, 2, 0);
	/* 2.3.0 (PR #12891) to 2.3.4 and 2.4.0-beta.0 refuse a file whose
	 * version is above the first non-zero one loaded ("drop-in config
	 * version N higher than root config version M"); the check was
	 * reverted after them (#13939, #13995). containerd.md §4. */
	bool refuses = known && v.major == 2 && ((v.minor == 3 && v.patch <= 4) ||
		(v.minor == 4 && v.patch == 0 && v.pre_len == 6 && strncmp(v.pre, "beta.0", 6) == 0));
	/* from 2.3.0 each file is migrated on its own before the merge
	 * (commit 0d7fee06, LoadConfigWithPlugins; containerd_config.c
	 * merge_version): nothing is lost */
	bool per_file = known && semver_at_least(&v, 2, 3);
	size_t nlost = cri_v2_settings(c, lost, sizeof lost);
	int64_t root = main_file->version;
	for (size_t i = 1; i < c->count; i++) {
		const sigil__ctd_file *fl = &c->files[i];
		int64_t root_before = root;
		if (root == 0)
			root = fl->version;
		snprintf(fix, sizeof fix, "delete the line version = %lld (line %zu) from %s: a drop-in takes the "
			"main file's version (write its tables with names that are the same in versions 2 and 3, as "
			"sigil's drop-in does), then restart containerd", (long long)fl->version, fl->version_line,
			fl->path);
		if (refuses) {
			if (root_before == 0 || fl->version <= root_before)
				continue;
			snprintf(msg, sizeof msg, "version = %lld in %s (imported by %s) is higher than the main "
				"configuration's version %lld: containerd %s refuses to start (\"drop-in config version "
				"%lld higher than root config version %lld\")", (long long)fl->version, fl->path,
				c->files[fl->importer].path, (long long)root_before, version, (long long)fl->version,
				(long long)root_before);
			snprintf(head, sizeof head, "containerd does not start (version = %lld in %s)",
				(long long)fl->version, fl->path);
			SIGIL_TRY(sigil__doctor_add(f, SIGIL_DOCTOR_PROBLEM, "dropin-version", fl->path, fl->version_line,
				head, msg, fix, err));
			continue;
		}
		/* a version 0 or 1 file is migrated to the version so far, never
		 * above the main file's */
		if (fl->version <= 1 || fl->version <= main_version)
			continue;
		int n = snprintf(msg, sizeof msg, "version = %lld in %s (imported by %s) is higher than the main "
			"configuration's version %lld: ", (long long)fl->version, fl->path, c->files[fl->importer].path,
			(long long)main_version);
		size_t at = n > 0 && (size_t)n < sizeof msg ? (size_t)n : 0;
		sigil__doctor_severity sev = SIGIL_DOCTOR_WARNING;
		if (per_file) {
			/* fine here (an OK line, not a warning): the file is
			 * migrated alone, the main file's CRI tables too, and the
			 * merged version is ConfigVersion either way */
			sev = SIGIL_DOCTOR_OK;
			snprintf(msg + at, sizeof msg - at, "containerd %s migrates each file on its own, so nothing is "
				"lost here, but containerd 2.0 to 2.2 would take version %lld for the whole configuration "
				"and ignore the main file's version %lld settings, and 2.3.0 to 2.3.4 refuse to start",
				version, (long long)fl->version, (long long)main_version);
		} else if (c->version <= main_version) {
			/* mergo: the last non-zero version wins (config.go mergeConfig) */
			snprintf(msg + at, sizeof msg - at, "a file loaded after it sets version %lld again, so nothing "
				"is lost today; if that file goes, containerd 2.0 to 2.2 ignore the main file's version "
				"%lld CRI settings%s", (long long)c->version, (long long)main_version,
				known ? "" : " (and 2.3.0 to 2.3.4 refuse to start)");
		} else {
			/* LoadConfig merges `version` like any field (L311-318), so
			 * server.New sees version 3 and runs no plugin migration:
			 * the version 2 CRI tables are read as version 3, where
			 * only CRI's server settings remain (tested with 2.1.9:
			 * sandbox_image lost, containerd.md §4) */
			const char *tail = known ? "" : " (containerd 2.3.0 to 2.3.4 refuse to start instead)";
			if (nlost) {
				sev = SIGIL_DOCTOR_PROBLEM;
				snprintf(msg + at, sizeof msg - at, "containerd%s%s takes version %lld for the whole "
					"configuration and does not migrate the version %lld CRI settings, so it ignores "
					"%zu of them: %s%s", known ? " " : "", known ? version : "", (long long)c->version,
					(long long)main_version, nlost, lost, tail);
				snprintf(head, sizeof head, "containerd ignores the main configuration's CRI settings "
					"(version = %lld in %s)", (long long)fl->version, fl->path);
			} else {
				snprintf(msg + at, sizeof msg - at, "containerd%s%s takes version %lld for the whole "
					"configuration and does not migrate version %lld CRI settings: none are set now, but "
					"any added to the main file would be ignored%s", known ? " " : "", known ? version : "",
					(long long)c->version, (long long)main_version, tail);
			}
		}
		SIGIL_TRY(sigil__doctor_add(f, sev, "dropin-version", fl->path, fl->version_line,
			sev == SIGIL_DOCTOR_PROBLEM ? head : NULL, msg, sev == SIGIL_DOCTOR_OK ? NULL : fix, err));
	}
	return SIGIL_STATUS_OK;
}

/* ---- containerd's version and sigild -------------------------------------- */

sigil_status sigil__doctor_check_version(const char *exe, const char *version, const char *why,
	sigil__doctor_findings *f, sigil_error *err)
{
	char msg[MSG], head[MSG];
	const char *fix_unknown = "pass --containerd PATH (the containerd binary the node runs) and check that "
		"it is 2.1 or later";
	if (!version) {
		snprintf(msg, sizeof msg, "cannot tell whether containerd is 2.1 or later: %s; its configuration is "
			"read as containerd 2.0 to 2.2 read it (2.3 migrates each file's version on its own)", why);
		return sigil__doctor_add(f, SIGIL_DOCTOR_WARNING, "containerd-unknown", NULL, 0, NULL, msg, fix_unknown,
			err);
	}
	int v20 = sigil__doctor_version_at_least(version, 2, 0);
	int v21 = sigil__doctor_version_at_least(version, 2, 1);
	if (v20 < 0 || v21 < 0) {
		snprintf(msg, sizeof msg, "cannot tell whether containerd is 2.1 or later: %s --version printed "
			"version \"%s\"; its configuration is read as containerd 2.0 to 2.2 read it (2.3 migrates each "
			"file's version on its own)", exe, version);
		return sigil__doctor_add(f, SIGIL_DOCTOR_WARNING, "containerd-unknown", NULL, 0, NULL, msg, fix_unknown,
			err);
	}
	const char *fix = "upgrade containerd to 2.1 or later";
	if (!v20) {
		/* the image-verifier plugin arrived in v2.0.0 (PR #8493) */
		snprintf(msg, sizeof msg, "%s is containerd %s, which has no image-verifier plugin (it arrived "
			"in 2.0): no pull is verified", exe, version);
		snprintf(head, sizeof head, "no pull is verified (containerd %s is older than 2.0)", version);
		return sigil__doctor_add(f, SIGIL_DOCTOR_PROBLEM, "containerd-version", NULL, 0, head, msg, fix, err);
	}
	if (!v21) {
		/* CRI pulls use the transfer service, and so image verifiers, from
		 * 2.1 on (containerd.md §0.3) */
		snprintf(msg, sizeof msg, "%s is containerd %s: its CRI plugin (kubelet's pulls) does not run image "
			"verifiers before 2.1; only ctr and other transfer-service pulls are verified", exe, version);
		snprintf(head, sizeof head, "CRI pulls bypass image verifiers (containerd %s is older than 2.1)",
			version);
		return sigil__doctor_add(f, SIGIL_DOCTOR_PROBLEM, "containerd-version", NULL, 0, head, msg, fix, err);
	}
	snprintf(msg, sizeof msg, "%s is containerd %s: CRI and ctr pulls run image verifiers", exe, version);
	return sigil__doctor_add(f, SIGIL_DOCTOR_OK, "containerd-version", NULL, 0, NULL, msg, NULL, err);
}

sigil_status sigil__doctor_check_sigild(const char *socket, int answered, const char *about,
	sigil__doctor_findings *f, sigil_error *err)
{
	char msg[MSG], fix[MSG];
	if (answered) {
		snprintf(msg, sizeof msg, "%s answers on %s", about, socket);
		return sigil__doctor_add(f, SIGIL_DOCTOR_OK, "sigild-unreachable", NULL, 0, NULL, msg, NULL, err);
	}
	/* A warning, not a problem: sigil-verifier denies when sigild cannot
	 * be asked (fail closed), so nothing bypasses verification; and the
	 * doctor is run while setting a node up, before sigild is started
	 * (integration/kind/run.sh). */
	if (strstr(about, socket))
		snprintf(msg, sizeof msg, "%s: sigil-verifier denies every pull it is asked about", about);
	else
		snprintf(msg, sizeof msg, "sigild does not answer on %s (%s): sigil-verifier denies every pull it "
			"is asked about", socket, about);
	snprintf(fix, sizeof fix, "start sigild (systemctl enable --now sigild); if it listens elsewhere, pass "
		"--socket PATH or set SIGIL_SOCKET, and give containerd the same SIGIL_SOCKET");
	return sigil__doctor_add(f, SIGIL_DOCTOR_WARNING, "sigild-unreachable", NULL, 0, NULL, msg, fix, err);
}
