/* doctor_containerd.h - the checks of `sigil doctor`: every containerd
 * setting that makes it skip image verifiers (CRI's local-pull fallback,
 * the bindir plugin's bin_dir and max_verifiers), sigil's drop-in not
 * imported, containerd older than 2.1, sigild not answering (a warning:
 * sigil-verifier then denies, nothing is bypassed). Each check
 * adds findings (doctor_findings.h) with a stable id and the exact fix. */
#ifndef SIGIL_CLI_DOCTOR_CONTAINERD_H
#define SIGIL_CLI_DOCTOR_CONTAINERD_H

#include <sigil/error.h>
#include "containerd_config.h"
#include "doctor_findings.h"

/* plugins/imageverifier/plugin.go: the plugin and its defaults
 * (path_unix.go: defaultPath; MaxVerifiers 10) */
#define SIGIL_CTD_BINDIR_PLUGIN "io.containerd.image-verifier.v1.bindir"
#define SIGIL_CTD_DEFAULT_BIN_DIR "/opt/containerd/image-verifier/bin"
#define SIGIL_CTD_DEFAULT_MAX_VERIFIERS 10
#define SIGIL_VERIFIER_NAME "sigil-verifier"

/* sigil__doctor_check_cri - CRI's local-pull fallback triggers
 * (internal/cri/config/config.go CheckLocalImagePullConfigs), read from
 * the version 2 or 3 tables as the migrated config has them. */
SIGIL_MUST_CHECK sigil_status sigil__doctor_check_cri(const sigil__ctd_config *c, sigil__doctor_findings *f,
	sigil_error *err);

/* sigil__doctor_check_bindir - the bindir plugin's bin_dir (missing, empty,
 * unreadable, entries containerd cannot execute or that are not
 * sigil-verifier, sigil-verifier absent) and max_verifiers. verifier_dir
 * is where sigil installs sigil-verifier (for the fixes). */
SIGIL_MUST_CHECK sigil_status sigil__doctor_check_bindir(const sigil__ctd_config *c, const char *verifier_dir,
	sigil__doctor_findings *f, sigil_error *err);

/* sigil__doctor_check_dropin - whether an imported file configures the
 * bindir plugin with a bin_dir holding sigil-verifier (or sigil's
 * verifier_dir); if not, a warning with the exact imports line to add. */
SIGIL_MUST_CHECK sigil_status sigil__doctor_check_dropin(const sigil__ctd_config *c, const char *verifier_dir,
	sigil__doctor_findings *f, sigil_error *err);

/* sigil__doctor_check_disabled - disabled_plugins (in any file: the lists
 * are appended) names the bindir plugin: on containerd <= 2.2 the transfer
 * and CRI plugins then fail to load, from 2.3.0 every pull is allowed
 * unverified (containerd.md §1.12). version is containerd's ("2.1.9"), or
 * NULL when unknown (both consequences are named). */
SIGIL_MUST_CHECK sigil_status sigil__doctor_check_disabled(const sigil__ctd_config *c, const char *version,
	sigil__doctor_findings *f, sigil_error *err);

/* sigil__doctor_check_timeout - the bindir plugin's per_verifier_timeout
 * as containerd decodes it (a Go duration, go_duration.h): not decodable
 * (containerd does not start) or <= 0 (every pull fails) is a problem; not
 * above verifier_timeout_ms, sigil-verifier's own deadline, a warning
 * (containerd kills it first). source says where verifier_timeout_ms came
 * from, for the message ("its default", "SIGIL_VERIFIER_TIMEOUT_MS"). */
SIGIL_MUST_CHECK sigil_status sigil__doctor_check_timeout(const sigil__ctd_config *c, int64_t verifier_timeout_ms,
	const char *source, sigil__doctor_findings *f, sigil_error *err);

/* sigil__doctor_check_dropin_version - an imported file whose `version` is
 * higher than the main file's (containerd.md §0.6, §4): on containerd <= 2.2
 * it becomes the merged version and the main file's version 2 CRI tables
 * are not migrated (a problem when they hold settings, else a warning);
 * containerd 2.3.0-2.3.4 refuse to start. version as for check_disabled. */
SIGIL_MUST_CHECK sigil_status sigil__doctor_check_dropin_version(const sigil__ctd_config *c, const char *version,
	sigil__doctor_findings *f, sigil_error *err);

/* sigil__doctor_check_version - from the result of `containerd --version`:
 * version (e.g. "2.1.9") or NULL with why. exe is what was run. */
SIGIL_MUST_CHECK sigil_status sigil__doctor_check_version(const char *exe, const char *version,
	const char *why, sigil__doctor_findings *f, sigil_error *err);

/* sigil__doctor_check_sigild - from a Status call on socket: answered or
 * not, with about (sigild's version and mode, or the reason). */
SIGIL_MUST_CHECK sigil_status sigil__doctor_check_sigild(const char *socket, int answered, const char *about,
	sigil__doctor_findings *f, sigil_error *err);

#endif
