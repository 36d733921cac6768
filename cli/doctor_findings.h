/* doctor_findings.h - what `sigil doctor` found: a list of findings, each
 * with a stable id, a severity, what is wrong, where (file:line) and the
 * exact fix; printed as text or JSON, and the exit status they imply. */
#ifndef SIGIL_CLI_DOCTOR_FINDINGS_H
#define SIGIL_CLI_DOCTOR_FINDINGS_H

#include <stddef.h>
#include <stdio.h>
#include <sigil/error.h>

typedef enum sigil__doctor_severity {
	SIGIL_DOCTOR_PROBLEM = 0,  /* lets pulls bypass verification, or breaks it */
	SIGIL_DOCTOR_WARNING,      /* worth fixing, or could not be checked */
	SIGIL_DOCTOR_OK,           /* a check that passed */
} sigil__doctor_severity;

typedef struct sigil__doctor_finding {
	sigil__doctor_severity severity;
	char *id;        /* stable: discard-unpacked-layers, bin-dir-empty, ... */
	char *headline;  /* short, for the summary line: "CRI pulls bypass image verifiers (...)" */
	char *message;   /* what is wrong */
	char *fix;       /* how to fix it; NULL for OK */
	char *file;      /* NULL when not known */
	size_t line;     /* 0 when not known */
} sigil__doctor_finding;

typedef struct sigil__doctor_findings {
	sigil__doctor_finding *items;
	size_t count;
	size_t cap;
	size_t problems;
	size_t warnings;
} sigil__doctor_findings;

/* sigil__doctor_add - append a finding (every string copied; headline NULL
 * means message). SIGIL_ERR_INTERNAL on allocation failure. */
SIGIL_MUST_CHECK sigil_status sigil__doctor_add(sigil__doctor_findings *f, sigil__doctor_severity sev,
	const char *id, const char *file, size_t line, const char *headline, const char *message,
	const char *fix, sigil_error *err);

/* sigil__doctor_find - the first finding with id, or NULL. Borrowed. */
const sigil__doctor_finding *sigil__doctor_find(const sigil__doctor_findings *f, const char *id);

void sigil__doctor_findings_clear(sigil__doctor_findings *f);

/* sigil__doctor_print_text - the summary line, then one line per finding
 * (problems, then warnings, then ok, each in the order found):
 *   problem|warning|ok <id>: <message> (<file>:<line>) — fix: <fix> */
void sigil__doctor_print_text(FILE *out, const sigil__doctor_findings *f);

/* sigil__doctor_print_json - {"problems":N,"warnings":N,"findings":[{"id",
 * "severity","message","fix","file","line"}]}; fix, file, line are null
 * when absent. SIGIL_ERR_INTERNAL on allocation failure. */
SIGIL_MUST_CHECK sigil_status sigil__doctor_print_json(FILE *out, const sigil__doctor_findings *f,
	sigil_error *err);

/* sigil__doctor_exit_status - 1 when there is a problem, else 0. */
int sigil__doctor_exit_status(const sigil__doctor_findings *f);

#endif
