/* strlist.h - a growable, bounded list of owned strings (warnings, notes). */
#ifndef SIGIL_STRLIST_H
#define SIGIL_STRLIST_H

#include <stddef.h>
#include <sigil/error.h>
#include "errors.h"

typedef struct sigil__strlist {
	char **items;
	size_t count;
	size_t cap;
} sigil__strlist;

#define SIGIL__STRLIST_MAX 1024

/* sigil__strlist_addf - append a formatted string; silently drops entries
 * past SIGIL__STRLIST_MAX (warnings are advisory). Returns ERROR on OOM. */
SIGIL_MUST_CHECK sigil_status sigil__strlist_addf(sigil__strlist *l, sigil_error *err,
	const char *fmt, ...) SIGIL__PRINTF(3, 4);
void sigil__strlist_clear(sigil__strlist *l);

#endif
