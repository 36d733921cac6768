/* quote.c - Go's %q for error messages. */
#include <string.h>
#include "quote.h"

const char *sigil__quote(sigil__quoted *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	const size_t room = sizeof b->s - 6; /* closing quote, "...", NUL */
	b->s[o++] = '"';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (o + 4 > room) {
			memcpy(b->s + o, "...", 3);
			o += 3;
			break;
		}
		if (c == '"' || c == '\\') {
			b->s[o++] = '\\';
			b->s[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			b->s[o++] = '\\';
			b->s[o++] = 'x';
			b->s[o++] = hex[c >> 4];
			b->s[o++] = hex[c & 15];
		} else {
			b->s[o++] = (char)c;
		}
	}
	b->s[o++] = '"';
	b->s[o] = '\0';
	return b->s;
}

const char *sigil__quote_str(sigil__quoted *b, const char *s)
{
	return sigil__quote(b, s ? s : "", s ? strlen(s) : 0);
}
