/* source.c - the source-independent part of sigil_source. */
#include <stdlib.h>
#include "source_internal.h"

SIGIL_EXPORT void sigil_source_free(sigil_source *source)
{
	if (!source)
		return;
	if (source->ops && source->ops->free)
		source->ops->free(source->ctx);
	free(source);
}
