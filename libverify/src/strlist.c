/* strlist.c - a bounded list of owned strings. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "strlist.h"

sigil_status sigil__strlist_addf(sigil__strlist *l, sigil_error *err, const char *fmt, ...)
{
	if (!l || l->count >= SIGIL__STRLIST_MAX)
		return SIGIL_STATUS_OK;
	if (l->count == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 8;
		char **n = realloc(l->items, ncap * sizeof *n);
		if (!n)
			return sigil__err_oom(err);
		l->items = n;
		l->cap = ncap;
	}
	char *s = NULL;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return sigil__err_oom(err);
	l->items[l->count++] = s;
	return SIGIL_STATUS_OK;
}

void sigil__strlist_clear(sigil__strlist *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->count; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->count = l->cap = 0;
}
