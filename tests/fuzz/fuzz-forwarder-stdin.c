/* fuzz-forwarder-stdin.c - sigil-verifier's stdin descriptor parser
 * (plugin/forwarder_args.c) on arbitrary bytes, and the output line built
 * from whatever reason it produced (must stay one bounded line). */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "bounds.h"
#include "forwarder_args.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DIGEST "sha256:e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6e1d6"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char reason[SIGIL_FORWARDER_REASON_SIZE] = "";
	sigil_forwarder_descriptor d;
	int rc = sigil_forwarder_parse_descriptor(data, size, DIGEST, &d, reason, sizeof reason);
	if (rc == 0) {
		/* accepted: the digest is the one we asked for, strings bounded */
		if (strcmp(d.digest, DIGEST) != 0 || strlen(d.media_type) >= sizeof d.media_type || d.size < 0)
			__builtin_trap();
		reason[0] = '\0';
	} else if (reason[0] == '\0') {
		__builtin_trap(); /* every deny has a reason */
	}
	char line[SIGIL_MAX_FORWARDER_LINE];
	size_t n = sigil_forwarder_format_line(line, sizeof line, rc ? "denied" : "allowed",
		"docker.io/library/app:v1", DIGEST, reason);
	if (n != strlen(line) || memchr(line, '\n', n) || memchr(line, '\r', n))
		__builtin_trap();
	return 0;
}
