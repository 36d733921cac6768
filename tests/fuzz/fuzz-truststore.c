/* fuzz-truststore.c - libFuzzer target for a trust-store certificate file
 * (sigil__certs_parse: PEM blocks or concatenated DER, notary-verification.md
 * §3.2), followed by the per-certificate queries the loader and the chain
 * rules run on what it returns. */
#include <stdint.h>
#include <stdlib.h>
#include <openssl/x509.h>
#include "bounds.h"
#include "certchain.h"
#include "truststore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	STACK_OF(X509) *certs = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	if (sigil__certs_parse(data, size, &certs, &err) != SIGIL_STATUS_OK)
		return 0;
	for (int i = 0; i < sk_X509_num(certs); i++) {
		X509 *c = sk_X509_value(certs, i);
		free(sigil__cert_subject(c));
		char why[128];
		(void)sigil__cert_is_ca(c);
		(void)sigil__cert_self_signature_ok(c);
		(void)sigil__cert_is_root(c, why, sizeof why);
		(void)sigil__cert_has_revocation_info(c);
		int64_t nb, na;
		if (sigil__cert_validity(c, &nb, &na, &err) == SIGIL_STATUS_OK && nb > na)
			err.category = SIGIL_ERR_NONE;
	}
	/* the file's certificates taken as a chain, leaf first */
	if (sk_X509_num(certs) <= SIGIL_MAX_CHAIN_LENGTH) {
		sigil_status a = sigil__chain_validate_codesigning(certs, &err);
		sigil_status b = sigil__chain_validate_timestamping(certs, &err);
		if (a == SIGIL_STATUS_OK && b == SIGIL_STATUS_OK)
			abort(); /* no chain satisfies both leaf EKU rules */
	}
	sk_X509_pop_free(certs, X509_free);
	return 0;
}
