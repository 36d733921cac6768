/* doctor_probe.h - what `sigil doctor` asks of running things: the
 * containerd binary's version, and whether sigild answers on its socket. */
#ifndef SIGIL_CLI_DOCTOR_PROBE_H
#define SIGIL_CLI_DOCTOR_PROBE_H

#include <stddef.h>

/* how long `containerd --version` may take */
#define SIGIL_DOCTOR_VERSION_TIMEOUT_MS 5000
/* how long sigild may take to answer Status */
#define SIGIL_DOCTOR_SIGILD_TIMEOUT_MS 3000

/* sigil__doctor_containerd_version - run `exe --version` (exe NULL:
 * "containerd" looked up in PATH) with a deadline and parse the version it
 * prints ("containerd github.com/containerd/containerd/v2 2.1.9+unknown" ->
 * "2.1.9+unknown"). 0 on success, -1 with a one-line reason. */
int sigil__doctor_containerd_version(const char *exe, char *version, size_t version_len,
	char *why, size_t why_len);

/* sigil__doctor_parse_version - the version token of `containerd --version`
 * output (the first word that is [v]N.N...), copied to version. 0 / -1. */
int sigil__doctor_parse_version(const char *output, char *version, size_t version_len);

/* sigil__doctor_version_at_least - whether version "X.Y[.Z][-+...]" is at
 * least major.minor; -1 when it does not parse. */
int sigil__doctor_version_at_least(const char *version, unsigned major, unsigned minor);

/* sigil__doctor_sigild_status - call sigild's Status on socket; 0 when it
 * answered (about: "sigild <version>, mode <mode>"), -1 with the reason. */
int sigil__doctor_sigild_status(const char *socket, char *about, size_t about_len);

#endif
