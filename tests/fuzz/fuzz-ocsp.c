/* fuzz-ocsp.c - libFuzzer target for OCSP responses (revocation.h): each
 * input is checked as the response for two certificates of the test PKI
 * below, with and without an authentic signing time, so that mutations of
 * the seed responses (signed by the CA or its delegated responder) reach
 * the signature, freshness, status and invalidity-date paths. */
#include <stdint.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "revocation.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#include "revocation-test-pki.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static X509 *ca, *leaf, *other;
	if (!ca) {
		ca = pem(ca_pem, sizeof ca_pem - 1);
		leaf = pem(leaf_pem, sizeof leaf_pem - 1);
		other = pem(other_pem, sizeof other_pem - 1);
		if (!ca || !leaf || !other)
			__builtin_trap();
	}
	static const int64_t times[] = { 0, FUZZ_SIGNED_BEFORE, FUZZ_SIGNED_AFTER };
	X509 *certs[] = { leaf, other };
	for (size_t c = 0; c < 2; c++)
		for (size_t t = 0; t < 3; t++) {
			sigil__rev_status st = SIGIL__REV_UNKNOWN;
			int64_t nu = 0;
			sigil_error err = SIGIL_ERROR_INIT;
			if (sigil__ocsp_response_check(data, size, certs[c], ca, FUZZ_NOW, times[t], &st,
				&nu, &err) == SIGIL_STATUS_OK) {
				if (st != SIGIL__REV_OK && st != SIGIL__REV_REVOKED && st != SIGIL__REV_UNKNOWN)
					__builtin_trap();
				if (nu < FUZZ_NOW)
					__builtin_trap();
			} else if (!err.message[0]) {
				__builtin_trap();
			}
		}
	ERR_clear_error();
	return 0;
}
