/* fuzz-referrers.c - a referrers index page and a Link header, as a
 * registry could send them. Input: first line = Link header value, rest =
 * index body. */
#include <stdlib.h>
#include <string.h>
#include "referrers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t hlen = nl ? (size_t)(nl - data) : size;
	char *link = malloc(hlen + 1);
	if (!link)
		return 0;
	memcpy(link, data, hlen);
	link[hlen] = 0;
	char *next = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	if (sigil__link_next(link, &next, &err) == SIGIL_STATUS_OK)
		free(next);
	free(link);
	const uint8_t *body = nl ? nl + 1 : data + size;
	size_t blen = size - (size_t)(body - data);
	sigil_descriptor *list = NULL;
	size_t count = 0;
	if (sigil__referrers_page_parse(body, blen, &list, &count, 100, &err) != SIGIL_STATUS_OK)
		count = 0;
	free(list);
	return 0;
}
