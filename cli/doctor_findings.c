/* doctor_findings.c - the findings list of `sigil doctor` and its two
 * output formats (see doctor_findings.h). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "doctor_findings.h"
#include "errors.h"

static const char *const severity_names[] = { "problem", "warning", "ok" };

static void finding_free(sigil__doctor_finding *x)
{
	free(x->id);
	free(x->headline);
	free(x->message);
	free(x->fix);
	free(x->file);
}

sigil_status sigil__doctor_add(sigil__doctor_findings *f, sigil__doctor_severity sev, const char *id,
	const char *file, size_t line, const char *headline, const char *message, const char *fix,
	sigil_error *err)
{
	if (f->count == f->cap) {
		size_t ncap = f->cap ? f->cap * 2 : 16;
		sigil__doctor_finding *items = realloc(f->items, ncap * sizeof *items);
		if (!items)
			return sigil__err_oom(err);
		f->items = items;
		f->cap = ncap;
	}
	sigil__doctor_finding x = {
		.severity = sev,
		.id = strdup(id),
		.headline = strdup(headline ? headline : message),
		.message = strdup(message),
		.fix = fix && sev != SIGIL_DOCTOR_OK ? strdup(fix) : NULL,
		.file = file ? strdup(file) : NULL,
		.line = file ? line : 0,
	};
	if (!x.id || !x.headline || !x.message || (fix && sev != SIGIL_DOCTOR_OK && !x.fix) ||
			(file && !x.file)) {
		finding_free(&x);
		return sigil__err_oom(err);
	}
	f->items[f->count++] = x;
	if (sev == SIGIL_DOCTOR_PROBLEM)
		f->problems++;
	else if (sev == SIGIL_DOCTOR_WARNING)
		f->warnings++;
	return SIGIL_STATUS_OK;
}

const sigil__doctor_finding *sigil__doctor_find(const sigil__doctor_findings *f, const char *id)
{
	for (size_t i = 0; i < f->count; i++)
		if (strcmp(f->items[i].id, id) == 0)
			return &f->items[i];
	return NULL;
}

void sigil__doctor_findings_clear(sigil__doctor_findings *f)
{
	for (size_t i = 0; i < f->count; i++)
		finding_free(&f->items[i]);
	free(f->items);
	memset(f, 0, sizeof *f);
}

int sigil__doctor_exit_status(const sigil__doctor_findings *f)
{
	return f->problems ? 1 : 0;
}

void sigil__doctor_print_text(FILE *out, const sigil__doctor_findings *f)
{
	const sigil__doctor_finding *first = NULL;
	for (size_t i = 0; i < f->count && !first; i++)
		if (f->items[i].severity == SIGIL_DOCTOR_PROBLEM)
			first = &f->items[i];
	if (first) {
		fprintf(out, "sigil doctor: %zu problem%s: %s\n", f->problems, f->problems == 1 ? "" : "s",
			first->headline);
	} else if (f->warnings) {
		fprintf(out, "sigil doctor: no problems, %zu warning%s\n", f->warnings, f->warnings == 1 ? "" : "s");
	} else {
		fprintf(out, "sigil doctor: no problems\n");
	}
	for (int sev = SIGIL_DOCTOR_PROBLEM; sev <= SIGIL_DOCTOR_OK; sev++) {
		for (size_t i = 0; i < f->count; i++) {
			const sigil__doctor_finding *x = &f->items[i];
			if ((int)x->severity != sev)
				continue;
			fprintf(out, "%s %s: %s", severity_names[sev], x->id, x->message);
			if (x->file && x->line)
				fprintf(out, " (%s:%zu)", x->file, x->line);
			else if (x->file)
				fprintf(out, " (%s)", x->file);
			if (x->fix)
				fprintf(out, " \xe2\x80\x94 fix: %s", x->fix);
			fputc('\n', out);
		}
	}
}

static bool add_string(json_object *o, const char *k, const char *v)
{
	json_object *s = v ? json_object_new_string(v) : NULL;
	if (v && !s)
		return false;
	return json_object_object_add(o, k, s) == 0;
}

sigil_status sigil__doctor_print_json(FILE *out, const sigil__doctor_findings *f, sigil_error *err)
{
	json_object *root = json_object_new_object();
	json_object *arr = json_object_new_array();
	bool ok = root && arr;
	if (ok)
		ok = json_object_object_add(root, "problems", json_object_new_int64((int64_t)f->problems)) == 0 &&
			json_object_object_add(root, "warnings", json_object_new_int64((int64_t)f->warnings)) == 0 &&
			json_object_object_add(root, "findings", arr) == 0;
	if (!ok)
		json_object_put(arr);
	/* the order of the text output: problems first */
	for (int sev = SIGIL_DOCTOR_PROBLEM; ok && sev <= SIGIL_DOCTOR_OK; sev++) {
		for (size_t i = 0; ok && i < f->count; i++) {
			const sigil__doctor_finding *x = &f->items[i];
			if ((int)x->severity != sev)
				continue;
			json_object *o = json_object_new_object();
			ok = o && json_object_array_add(arr, o) == 0;
			if (!ok) {
				json_object_put(o);
				break;
			}
			ok = add_string(o, "id", x->id) && add_string(o, "severity", severity_names[sev]) &&
				add_string(o, "message", x->message) && add_string(o, "fix", x->fix) &&
				add_string(o, "file", x->file) &&
				json_object_object_add(o, "line", x->line ? json_object_new_int64((int64_t)x->line) :
					NULL) == 0;
		}
	}
	if (!ok) {
		json_object_put(root);
		return sigil__err_oom(err);
	}
	fprintf(out, "%s\n", json_object_to_json_string_ext(root,
		JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return SIGIL_STATUS_OK;
}
