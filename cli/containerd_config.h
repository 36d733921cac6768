/* containerd_config.h - containerd 2.1's configuration as containerd itself
 * loads it: the main file, its `imports` (globs, paths relative to the
 * importing file), each file's `version`, and the plugin tables deep-merged
 * with later files winning; plus the CRI image service's settings as the
 * plugin sees them after the version 2 -> 3 migration. Every rule cites
 * the containerd v2.1.9 source it follows. Used by `sigil doctor`. */
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

/* The highest config version containerd 2.1 knows (version/version.go
 * ConfigVersion), and the default a version-less main file is migrated to. */
#define SIGIL_CTD_CONFIG_VERSION 3

typedef struct sigil__ctd_file {
	char *path;               /* as containerd names it (cleaned and joined) */
	sigil__toml_value *doc;   /* plugins' v1 short names already renamed */
	int64_t version;          /* this file's `version` key, 0 when absent */
	size_t version_line;
	size_t importer;          /* index of the file whose imports named it; the main file: itself */
	const sigil__toml_value *imports;  /* its `imports` array, or NULL */
} sigil__ctd_file;

typedef struct sigil__ctd_config {
	sigil__ctd_file *files;   /* in merge order: the main file first */
	size_t count;
	size_t cap;
	/* the version after merging (what server.New migrates from) */
	int64_t version;
} sigil__ctd_config;

/* A merged value and the file that gave it. v is NULL when no file sets
 * it (the plugin's default applies). */
typedef struct sigil__ctd_value {
	const sigil__toml_value *v;
	const sigil__ctd_file *file;
} sigil__ctd_value;

/* sigil__ctd_config_load - load path and everything it imports, as
 * LoadConfig does. An unreadable or unparseable file, a bad glob, a
 * `version`, `imports` or `disabled_plugins` containerd rejects:
 * SIGIL_ERR_IO / SIGIL_ERR_MALFORMED naming the file (containerd would
 * refuse to start). *out owned by the caller. */
SIGIL_MUST_CHECK sigil_status sigil__ctd_config_load(const char *path, sigil__ctd_config **out,
	sigil_error *err);

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
	sigil__ctd_config **out, sigil_error *err);

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
 * plugins/cri/images/plugin.go's migration from version 2. sub (or NULL)
 * is a key inside `registry` ("mirrors", "configs", "auths"); then the
 * value is the merged table when it is non-empty. *loc says where. */
sigil__ctd_value sigil__ctd_cri_image_get(const sigil__ctd_config *c, const char *key, const char *sub,
	sigil__ctd_cri_loc *loc);

/* sigil__ctd_path_clean - Go's filepath.Clean (lexical). Caller frees. */
char *sigil__ctd_path_clean(const char *path);

/* sigil__ctd_path_dir - Go's filepath.Dir. Caller frees. */
char *sigil__ctd_path_dir(const char *path);

#endif
