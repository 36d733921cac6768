/* audit.h - sigild's audit log: one line per decision, JSON (default) or
 * human-readable text, to a file (appended) or stderr. Thread-safe: each
 * record is written with a single write(2) under a lock, so lines from
 * concurrent requests never interleave. */
#ifndef SIGILD_AUDIT_H
#define SIGILD_AUDIT_H

#include <stdbool.h>
#include <stdint.h>
#include <sigil/error.h>
#include "config.h"

typedef struct sigild_audit sigild_audit;

typedef struct sigild_audit_record {
	const char *image;      /* the image name as containerd sent it */
	const char *digest;
	bool allow;             /* the verdict returned to the caller */
	const char *reason;
	const char *policy;     /* "" when none */
	const char *level;      /* "" when none */
	const char *failure;    /* "" when allowed */
	const char *signer;     /* subject of the signature that passed, "" if none */
	bool cached;
	bool dry_run_override;
	bool allow_listed;
	int64_t elapsed_us;
} sigild_audit_record;

/* sigild_audit_open - path "" (or NULL): stderr; else the file, created
 * 0600 and appended to. *out owned by the caller. */
SIGIL_MUST_CHECK sigil_status sigild_audit_open(sigild_audit **out, const char *path,
	sigild_audit_format format, sigil_error *err);

/* sigild_audit_reopen - reopen the file (after log rotation). */
SIGIL_MUST_CHECK sigil_status sigild_audit_reopen(sigild_audit *a, sigil_error *err);

/* sigild_audit_log - write one record; failures to write are counted
 * (sigild_audit_write_errors), never fatal to the decision. */
void sigild_audit_log(sigild_audit *a, const sigild_audit_record *rec);

/* sigild_audit_format_line - the line sigild_audit_log writes, with the
 * given time (epoch microseconds), NUL-terminated, ending in '\n'; malloc'd,
 * NULL on allocation failure. For tests. */
char *sigild_audit_format_line(sigild_audit_format format, int64_t time_us,
	const sigild_audit_record *rec);

uint64_t sigild_audit_write_errors(sigild_audit *a);

void sigild_audit_close(sigild_audit *a);

#endif
