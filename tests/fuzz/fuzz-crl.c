/* fuzz-crl.c - libFuzzer target for CRLs (revocation.h): each input is
 * parsed as a DER CRL, validated against the CA of the test PKI below, and
 * its entries are looked up for two of its certificates whatever the
 * validation says (most mutations break the signature; the entry and
 * extension handling must still be safe), and checked as a delta of
 * itself. */
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
	X509_CRL *crl = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	if (sigil__crl_parse(data, size, &crl, &err) != SIGIL_STATUS_OK) {
		if (!err.message[0])
			__builtin_trap();
		ERR_clear_error();
		return 0;
	}
	int64_t nu = 0;
	if (sigil__crl_validate(crl, ca, FUZZ_NOW, &nu, &err) == SIGIL_STATUS_OK && nu < FUZZ_NOW)
		__builtin_trap();
	/* a leaf is never a CRL issuer; a CRL is never its own delta */
	if (sigil__crl_validate(crl, leaf, FUZZ_NOW, &nu, &err) == SIGIL_STATUS_OK ||
	    sigil__crl_validate_delta(crl, crl, &err) == SIGIL_STATUS_OK)
		__builtin_trap();
	static const int64_t times[] = { 0, FUZZ_SIGNED_BEFORE, FUZZ_SIGNED_AFTER };
	X509 *certs[] = { leaf, other };
	for (size_t c = 0; c < 2; c++)
		for (size_t t = 0; t < 3; t++) {
			sigil__rev_status st = SIGIL__REV_UNKNOWN;
			if (sigil__crl_cert_status(crl, crl, certs[c], times[t], &st, &err) == SIGIL_STATUS_OK &&
			    st != SIGIL__REV_OK && st != SIGIL__REV_REVOKED)
				__builtin_trap();
		}
	X509_CRL_free(crl);
	ERR_clear_error();
	return 0;
}
