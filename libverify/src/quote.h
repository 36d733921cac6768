/* quote.h - Go's %q for error messages: the string in double quotes with
 * quotes, backslashes and control bytes escaped, cut with "..." when long,
 * so notation-compatible messages stay readable and single-line. */
#ifndef SIGIL_QUOTE_H
#define SIGIL_QUOTE_H

#include <stddef.h>

typedef struct sigil__quoted {
	char s[600];
} sigil__quoted;

/* sigil__quote - quote s[0..len) into b; returns b->s. */
const char *sigil__quote(sigil__quoted *b, const char *s, size_t len);

/* sigil__quote_str - the same for a NUL-terminated string. */
const char *sigil__quote_str(sigil__quoted *b, const char *s);

#endif
