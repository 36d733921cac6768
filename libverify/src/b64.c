/* b64.c - strict base64 decoders (RFC 4648 §4 and §5).
 *
 * Strict means: no whitespace, no characters outside the alphabet, padding
 * exactly as the variant demands, and zero unused trailing bits. A lenient
 * decoder would let one signature have several encodings (RFC 4648 §3.5);
 * nothing Notary signers produce needs leniency. */
#include <stdlib.h>
#include <string.h>
#include "b64.h"
#include "errors.h"

static int b64_value(unsigned char c, int url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (url) {
		if (c == '-')
			return 62;
		if (c == '_')
			return 63;
	} else {
		if (c == '+')
			return 62;
		if (c == '/')
			return 63;
	}
	return -1;
}

/* decode `n` significant characters (no padding) */
static sigil_status decode(const char *in, size_t n, int url, uint8_t **out, size_t *out_len,
	sigil_error *err)
{
	if (n % 4 == 1)
		return sigil__err_at(err, SIGIL_ERR_MALFORMED, n, "illegal base64 data: truncated input");
	size_t olen = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
	uint8_t *buf = malloc(olen + 1);
	if (!buf)
		return sigil__err_oom(err);
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value((unsigned char)in[i], url);
		if (v < 0) {
			free(buf);
			return sigil__err_at(err, SIGIL_ERR_MALFORMED, i,
				"illegal base64 data at input byte %zu", i);
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0) {
		free(buf);
		return sigil__err_at(err, SIGIL_ERR_MALFORMED, n - 1,
			"illegal base64 data: non-zero trailing bits");
	}
	buf[o] = 0;
	*out = buf;
	*out_len = o;
	return SIGIL_STATUS_OK;
}

sigil_status sigil__b64url_decode(const char *in, size_t in_len, uint8_t **out, size_t *out_len,
	sigil_error *err)
{
	/* RFC 7515 §2: base64url with all trailing '=' omitted. */
	return decode(in, in_len, 1, out, out_len, err);
}

sigil_status sigil__b64std_decode(const char *in, size_t in_len, uint8_t **out, size_t *out_len,
	sigil_error *err)
{
	if (in_len % 4 != 0)
		return sigil__err_at(err, SIGIL_ERR_MALFORMED, in_len,
			"illegal base64 data: length is not a multiple of 4");
	size_t n = in_len;
	if (n > 0 && in[n - 1] == '=')
		n--;
	if (n > 0 && in[n - 1] == '=')
		n--;
	/* after stripping at most two '=', the count of significant chars mod 4
	 * must match the padding used */
	size_t pad = in_len - n;
	if ((pad == 1 && n % 4 != 3) || (pad == 2 && n % 4 != 2))
		return sigil__err_at(err, SIGIL_ERR_MALFORMED, n, "illegal base64 data: bad padding");
	return decode(in, n, 0, out, out_len, err);
}

sigil_status sigil__b64std_decode_lenient(const char *in, size_t in_len, uint8_t **out,
	size_t *out_len, sigil_error *err)
{
	uint8_t *buf = malloc(in_len / 4 * 3 + 4);
	if (!buf)
		return sigil__err_oom(err);
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0, sig = 0, pad = 0;
	for (size_t i = 0; i < in_len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		int v = b64_value(c, 0);
		if (v < 0 || pad > 0) {
			free(buf);
			return sigil__err_at(err, SIGIL_ERR_MALFORMED, i,
				"illegal base64 data at input byte %zu", i);
		}
		sig++;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (sig % 4 == 1 || (pad > 0 && (sig + pad) % 4 != 0) || pad > 2) {
		free(buf);
		return sigil__err(err, SIGIL_ERR_MALFORMED, "illegal base64 data: bad length or padding");
	}
	buf[o] = 0;
	*out = buf;
	*out_len = o;
	return SIGIL_STATUS_OK;
}
