/* b64.h - strict base64 decoders (RFC 4648). */
#ifndef SIGIL_B64_H
#define SIGIL_B64_H

#include <stddef.h>
#include <stdint.h>
#include <sigil/error.h>

/* sigil__b64url_decode - base64url WITHOUT padding (RFC 7515 §2): '=' or a
 * character outside [A-Za-z0-9_-], a length of 1 mod 4, or non-zero
 * trailing bits fail with SIGIL_ERR_MALFORMED. *out is malloc'd (NUL added
 * after the data for convenience, not counted in *out_len). */
SIGIL_MUST_CHECK sigil_status sigil__b64url_decode(const char *in, size_t in_len,
	uint8_t **out, size_t *out_len, sigil_error *err);

/* sigil__b64std_decode - standard alphabet WITH required padding
 * (RFC 4648 §4), as Go's base64.StdEncoding. Same conventions. */
SIGIL_MUST_CHECK sigil_status sigil__b64std_decode(const char *in, size_t in_len,
	uint8_t **out, size_t *out_len, sigil_error *err);

/* sigil__b64std_decode_lenient - the standard alphabet as Go's
 * StdEncoding.Decode reads it, for credentials written by other tools
 * (docker's config.json "auth"): CR and LF skipped, unused trailing bits
 * ignored, padding optional but never followed by data. Not for anything
 * that is signed. Same conventions as above. */
SIGIL_MUST_CHECK sigil_status sigil__b64std_decode_lenient(const char *in, size_t in_len,
	uint8_t **out, size_t *out_len, sigil_error *err);

#endif
