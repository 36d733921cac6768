/* version.c - the library version. */
#include <sigil/sigil.h>

SIGIL_EXPORT const char *sigil_version(void)
{
	return SIGIL_VERSION;
}
