/* containerd_config.h - containerd's configuration as containerd itself
 * loads it: the main file, its `imports` (globs, paths relative to the
 * importing file), each file's `version`, and the plugin tables deep-merged
 * with later files winning; plus the CRI image service's settings as the
 * plugin sees them after the version 2 -> 3 migration. How versions are
 * migrated depends on the release (sigil__ctd_rules): 2.0 to 2.2 merge
 * first and migrate the result, 2.3.0 and later migrate each file on its
 * own before merging. Every rule cites the containerd source it follows
 * (v2.1.9, v2.3.4). Used by `sigil doctor`. */
#ifndef SIGIL_CLI_CONTAINERD_CONFIG_H
#define SIGIL_CLI_CONTAINERD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sigil/error.h>
#include "toml.h"

/* at most this many files (main + imports); containerd has no bound, but
 * its loaded-set only stops cycles, not a glob matching thousands */
#define SIGIL_CTD_MAX_FILES 256

/* The highest config version containerd 2.0 to 2.2 know (version/version.go
 * ConfigVersion), and the default a version-less main file is migrated to
 * there. 2.3.0-rc.0 and later know 4. */
#define SIGIL_CTD_CONFIG_VERSION 3

/* A containerd version as `containerd --version` prints it. */
typedef struct sigil__ctd_semver {
	unsigned long major, minor, patch;
	const char *pre;  /* after '-', up to '+' or the end; "" when none */
	size_t pre_len;
} sigil__ctd_semver;

/* sigil__ctd_semver_parse - "X.Y[.Z][-pre][+build]"; false when version is
 * NULL or does not start that way. v->pre points into version. */
bool sigil__ctd_semver_parse(const char *version, sigil__ctd_semver *v);

/* sigil__ctd_semver_at_least - whether v is major.minor or later (any patch
 * and pre-release of it included) */
bool sigil__ctd_semver_at_least(const sigil__ctd_semver *v, unsigned long major, unsigned long minor);

/* How a containerd release loads its configuration (see merge_version in
 * containerd_config.c for the Go source of each rule). */
typedef struct sigil__ctd_rules {
	bool per_file;            /* each file is migrated on its own before the merge (2.3.0 on) */
	int64_t config_version;   /* version.ConfigVersion: the highest accepted, the start version */
	const char *name;         /* "containerd 2.0 to 2.2", "containerd 2.3", for messages */
} sigil__ctd_rules;

/* sigil__ctd_rules_for - the rules of containerd_version ("2.3.5"); NULL,
 * unparseable or older than 2.3: those of 2.0 to 2.2. */
sigil__ctd_rules sigil__ctd_rules_for(const char *containerd_version);

typedef struct sigil__ctd_file {
	char *path;               /* as containerd names it (cleaned and joined) */
	sigil__toml_value *doc;   /* plugins' v1 short names already renamed */
	int64_t version;          /* this file's `version` key, 0 when absent */
	size_t version_line;
	size_t importer;          /* index of the file whose imports named it; the main file: itself */
	const sigil__toml_value *imports;  /* its `imports` array, or NULL */
	/* whether its version 2 CRI tables are migrated to version 3: on
	 * 2.0 to 2.2 all files' or none, by the merged version; from 2.3.0
	 * each file by its own version */
	bool cri_migrated;
} sigil__ctd_file;

typedef struct sigil__ctd_config {
	sigil__ctd_file *files;   /* in merge order: the main file first */
	size_t count;
	size_t cap;
	/* the version after merging (on 2.0 to 2.2 what server.New migrates
	 * from; from 2.3.0 the version every file was migrated to) */
	int64_t version;
	sigil__ctd_rules rules;   /* the release's rules it was loaded with */
} sigil__ctd_config;

/* A merged value and the file that gave it. v is NULL when no file sets
 * it (the plugin's default applies). */
typedef struct sigil__ctd_value {
	const sigil__toml_value *v;
	const sigil__ctd_file *file;
} sigil__ctd_value;

/* sigil__ctd_config_load - load path and everything it imports, as
 * containerd containerd_version (as sigil__ctd_rules_for; NULL: unknown,
 * 2.0 to 2.2's rules) does. An unreadable or unparseable file, a bad glob,
 * a `version`, `imports` or `disabled_plugins` containerd rejects:
 * SIGIL_ERR_IO / SIGIL_ERR_MALFORMED naming the file (containerd would
 * refuse to start). *out owned by the caller. */
SIGIL_MUST_CHECK sigil_status sigil__ctd_config_load(const char *path, const char *containerd_version,
	sigil__ctd_config **out, sigil_error *err);

/* Where the loader gets files from: the file system (sigil__ctd_config_load)
 * or anything else, e.g. memory for the fuzz target. */
typedef struct sigil__ctd_fs {
	/* read: the whole file at path, at most max bytes, into a malloc'd
	 * *buf (caller frees). Errors name path (SIGIL_ERR_IO, SIGIL_ERR_LIMIT). */
	sigil_status (*read)(void *ctx, const char *path, size_t max, uint8_t **buf, size_t *len,
		sigil_error *err);
	/* glob: the existing paths matching pattern (filepath.Glob: '*' also
	 * matches a leading '.'), sorted; *paths (NULL when none) and each
	 * path malloc'd, caller frees. SIGIL_ERR_IO when it cannot expand. */
	sigil_status (*glob)(void *ctx, const char *pattern, char ***paths, size_t *count, sigil_error *err);
	void *ctx;
} sigil__ctd_fs;

/* sigil__ctd_config_load_fs - sigil__ctd_config_load reading through fs. */
SIGIL_MUST_CHECK sigil_status sigil__ctd_config_load_fs(const char *path, const sigil__ctd_fs *fs,
	const char *containerd_version, sigil__ctd_config **out, sigil_error *err);

void sigil__ctd_config_free(sigil__ctd_config *c);

/* sigil__ctd_plugin_get - plugins.<plugin>.<keys...> after merging: the
 * value from the last file that sets it, unless a later file replaced a
 * table on the way with a non-table. Tables are returned too (the last
 * file's), for presence. Borrowed. */
sigil__ctd_value sigil__ctd_plugin_get(const sigil__ctd_config *c, const char *plugin,
	const char *const *keys, size_t nkeys);

/* sigil__ctd_plugin_table_nonempty - whether the merged table
 * plugins.<plugin>.<keys...> has at least one entry (tables merge by key,
 * so any file that adds one counts); the value is the last such file's
 * table, v NULL if none. */
sigil__ctd_value sigil__ctd_plugin_table_nonempty(const sigil__ctd_config *c, const char *plugin,
	const char *const *keys, size_t nkeys);

/* Where a CRI image setting was read from after migration. */
typedef enum sigil__ctd_cri_loc {
	SIGIL_CTD_CRI_DEFAULT = 0,  /* set nowhere: DefaultImageConfig's value */
	SIGIL_CTD_CRI_V2,           /* plugins."io.containerd.grpc.v1.cri"[.containerd] (version 2) */
	SIGIL_CTD_CRI_V3,           /* plugins."io.containerd.cri.v1.images" */
} sigil__ctd_cri_loc;

/* sigil__ctd_cri_image_get - a key of io.containerd.cri.v1.images as the
 * CRI image plugin decodes it (internal/cri/config ImageConfig), after
 * plugins/cri/images/plugin.go's migration from version 2 (of the merged
 * configuration, or of each file, per c->rules). sub (or NULL)
 * is a key inside `registry` ("mirrors", "configs", "auths"); then the
 * value is the merged table when it is non-empty. *loc says where. */
sigil__ctd_value sigil__ctd_cri_image_get(const sigil__ctd_config *c, const char *key, const char *sub,
	sigil__ctd_cri_loc *loc);

/* sigil__ctd_path_clean - Go's filepath.Clean (lexical). Caller frees. */
char *sigil__ctd_path_clean(const char *path);

/* sigil__ctd_path_dir - Go's filepath.Dir. Caller frees. */
char *sigil__ctd_path_dir(const char *path);

#endif
