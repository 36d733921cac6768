/* fuzz-revocation-source.c - libFuzzer target for the source records of
 * the revocation cache (revocation.h sigil__rev_source_parse), which the
 * background refresh reads from <cache>/{crl,ocsp}/<name>.src: each input
 * is parsed unbound and bound to the entry name it claims (the URL's hash
 * for CRL records, the OCSP request's for OCSP records) and to a name it
 * cannot have. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/sha.h>
#include "revocation.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void hex(const uint8_t *d, size_t n, char out[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256(d, n, md);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
	out[64] = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char nobody[] =
		"0000000000000000000000000000000000000000000000000000000000000000";
	sigil__rev_source s;
	memset(&s, 0, sizeof s);
	sigil_error err = SIGIL_ERROR_INIT;
	if (sigil__rev_source_parse(data, size, NULL, &s, &err) != SIGIL_STATUS_OK) {
		if (!err.message[0])
			__builtin_trap();
		ERR_clear_error();
		return 0;
	}
	/* what a record carries, by kind */
	if (!s.issuer || (s.kind == SIGIL__REV_KIND_CRL && (!s.url || s.cert)) ||
	    (s.kind == SIGIL__REV_KIND_OCSP && (s.url || !s.cert)))
		__builtin_trap();
	char name[65];
	int have_name = 0;
	if (s.kind == SIGIL__REV_KIND_CRL) {
		hex((const uint8_t *)s.url, strlen(s.url), name);
		have_name = 1;
	} else {
		uint8_t *req = NULL;
		size_t len = 0;
		sigil_error e = SIGIL_ERROR_INIT;
		if (sigil__ocsp_request(s.cert, s.issuer, &req, &len, &e) == SIGIL_STATUS_OK) {
			hex(req, len, name);
			free(req);
			have_name = 1;
		}
	}
	sigil__rev_source_clear(&s);
	sigil__rev_source b;
	memset(&b, 0, sizeof b);
	err = (sigil_error)SIGIL_ERROR_INIT;
	/* its own entry's name binds; another does not */
	if (have_name) {
		if (sigil__rev_source_parse(data, size, name, &b, &err) != SIGIL_STATUS_OK)
			__builtin_trap();
		sigil__rev_source_clear(&b);
	}
	if (sigil__rev_source_parse(data, size, nobody, &b, &err) == SIGIL_STATUS_OK)
		__builtin_trap();
	ERR_clear_error();
	return 0;
}
