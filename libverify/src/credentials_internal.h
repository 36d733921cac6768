/* credentials_internal.h - the pieces of credentials.h's store shared by
 * credentials.c (docker config.json, the store), credhelper.c (running
 * docker-credential helpers and kubelet plugins) and kubecred.c (kubelet's
 * CredentialProviderConfig and exec plugin API); exposed for unit tests. */
#ifndef SIGIL_CREDENTIALS_INTERNAL_H
#define SIGIL_CREDENTIALS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <json-c/json.h>
#include <sigil/error.h>
#include "auth.h"

/* sigil__cred_now_ms - CLOCK_MONOTONIC milliseconds (the deadline clock,
 * the same as http.h's sigil__now_ms). */
int64_t sigil__cred_now_ms(void);

/* Output of a finished child process. out/errout are malloc'd and
 * NUL-terminated (NUL not counted). */
typedef struct sigil__proc_result {
	char *out;
	size_t out_len;
	char *errout;           /* first SIGIL_MAX_CRED_STDERR bytes of stderr */
	size_t errout_len;
	int exit_status;        /* exit code, or -1 when killed by a signal */
} sigil__proc_result;

void sigil__proc_result_clear(sigil__proc_result *r);

/* sigil__cred_run - run `path` with argv (argv[0] included, NULL-ended) and
 * envp (NULL: this process's environment) in its own process group, feed it
 * `in`, and collect stdout (at most SIGIL_MAX_CRED_OUTPUT bytes: more is
 * SIGIL_ERR_LIMIT) and stderr. The group is killed (SIGKILL) when the
 * deadline passes: SIGIL_ERR_NETWORK "<what>: timed out ...". A non-zero
 * exit is not an error here (res->exit_status says it). `what` names the
 * program in messages. */
SIGIL_MUST_CHECK sigil_status sigil__cred_run(const char *path, char *const argv[],
	char *const envp[], const uint8_t *in, size_t in_len, int64_t deadline_ms,
	const char *what, sigil__proc_result *res, sigil_error *err);

/* sigil__cred_path_search - the first executable regular file `name` in
 * the directories of `path_env` (a $PATH value; NULL: the default
 * "/usr/local/bin:/usr/bin:/bin"), at most SIGIL_MAX_PATH_ENTRIES of them;
 * empty and relative entries are skipped (they would make the result
 * depend on the daemon's working directory). *found false when none. */
SIGIL_MUST_CHECK sigil_status sigil__cred_path_search(const char *name, const char *path_env,
	char **out, bool *found, sigil_error *err);

/* sigil__credhelper_get - `docker-credential-<helper> get` with
 * `server_url` on stdin, found on $PATH; "credentials not found" output
 * with a failing exit is *found false. A Username of "<token>" makes the
 * Secret an identity token (docker/cli credentials/native_store.go). */
SIGIL_MUST_CHECK sigil_status sigil__credhelper_get(const char *helper, const char *server_url,
	int64_t deadline_ms, sigil__credential *out, bool *found, sigil_error *err);

/* sigil__docker_hostname - docker/cli's ConvertToHostname: the host[:port]
 * of a config.json auths key ("https://host:5000/v1/" -> "host:5000",
 * "host/path" -> "host"). malloc'd. */
char *sigil__docker_hostname(const char *key);

/* sigil__cred_read_file - a whole regular file of at most
 * SIGIL_MAX_CRED_CONFIG_SIZE bytes (malloc'd); errors name `what` and the
 * path. */
SIGIL_MUST_CHECK sigil_status sigil__cred_read_file(const char *path, const char *what,
	uint8_t **buf, size_t *len, sigil_error *err);

/* kubelet credential provider plugins (kubecred.c) */
typedef struct sigil__kube_providers sigil__kube_providers;

/* sigil__kube_config_parse - one CredentialProviderConfig document (YAML
 * or JSON) named `what` in messages, validated as kubelet validates it;
 * each plugin must be an executable in bin_dir. */
SIGIL_MUST_CHECK sigil_status sigil__kube_config_parse(const uint8_t *buf, size_t len,
	const char *what, const char *bin_dir, sigil__kube_providers **out, sigil_error *err);
/* sigil__kube_config_load - a file, or a directory whose *.json, *.yaml,
 * *.yml files are merged in lexical order (kubelet's
 * readCredentialProviderConfig). */
SIGIL_MUST_CHECK sigil_status sigil__kube_config_load(const char *path, const char *bin_dir,
	sigil__kube_providers **out, sigil_error *err);
void sigil__kube_providers_free(sigil__kube_providers *kp);

/* sigil__kube_lookup - credentials for `image` from the first provider
 * whose matchImages match it (from its cache, else by running it). */
SIGIL_MUST_CHECK sigil_status sigil__kube_lookup(sigil__kube_providers *kp, const char *image,
	int64_t deadline_ms, sigil__credential *out, bool *found, sigil_error *err);

/* sigil__yaml_parse - a YAML or JSON document into a json-c tree
 * (yamltree.c): bounded depth and node count, aliases refused
 * (SIGIL_ERR_UNSUPPORTED), syntax errors SIGIL_ERR_MALFORMED with the line.
 * *out owned by the caller (json_object_put). */
SIGIL_MUST_CHECK sigil_status sigil__yaml_parse(const uint8_t *buf, size_t len,
	json_object **out, sigil_error *err);

/* sigil__kube_url_match - kubelet's URLsMatchStr(glob, target): the same
 * port, the same number of host labels each matching filepath.Match, and
 * the glob's path a prefix of the target's. Malformed input or glob is
 * no match (kubelet ignores the error there). */
bool sigil__kube_url_match(const char *glob, const char *target);

/* sigil__kube_best_match - the index of the auth key keyring.go picks for
 * image among patterns (every key indexes its host and, with a path, its
 * host+path; the most specific match wins), or -1. */
ssize_t sigil__kube_best_match(const char *const *patterns, size_t n, const char *image);

/* sigil__kube_schemeless_url_valid - whether kubelet's ParseSchemelessURL
 * accepts s (url.Parse("https://" + s)); *why set when not. */
bool sigil__kube_schemeless_url_valid(const char *s, const char **why);

/* sigil__go_duration_parse - Go's time.ParseDuration ("12h0m0s", "1.5h",
 * "300ms", "-1m", "0") to milliseconds (truncated). */
SIGIL_MUST_CHECK sigil_status sigil__go_duration_parse(const char *s, int64_t *ms, sigil_error *err);

#endif
