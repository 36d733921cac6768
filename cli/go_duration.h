/* go_duration.h - Go's duration syntax, as containerd reads
 * per_verifier_timeout: internal/tomlext Duration.UnmarshalText calls
 * time.ParseDuration on the text (containerd v2.1.9
 * internal/tomlext/toml_v2_util.go). Same grammar, same results, same
 * rejections: [-+]? then "0", or one or more <number><unit> with number
 * [0-9]*(\.[0-9]*)? (at least one digit) and unit ns, us, µs (U+00B5), μs
 * (U+03BC), ms, s, m, h; the total in nanoseconds must fit an int64. */
#ifndef SIGIL_CLI_GO_DURATION_H
#define SIGIL_CLI_GO_DURATION_H

#include <stddef.h>
#include <stdint.h>
#include <sigil/error.h>

/* sigil__go_duration_parse - parse buf[0..len) (no NUL needed; a NUL byte
 * is an ordinary invalid character, as in Go) into nanoseconds. Errors,
 * with the byte offset where the problem is and a message in Go's words:
 *   SIGIL_ERR_MALFORMED "invalid duration" (empty, a sign alone, a character
 *       that cannot start a number, a number without digits),
 *       "missing unit in duration", "unknown unit \"x\" in duration";
 *   SIGIL_ERR_LIMIT     "invalid duration" because the value overflows an
 *       int64 of nanoseconds (Go reports it as invalid too).
 * Reads each byte at most once; no allocation. *out untouched on failure. */
SIGIL_MUST_CHECK sigil_status sigil__go_duration_parse(const uint8_t *buf, size_t len, int64_t *out,
	sigil_error *err);

#endif
