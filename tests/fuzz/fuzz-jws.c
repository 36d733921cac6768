/* fuzz-jws.c - libFuzzer target for sigil__jws_parse (hostile envelope
 * bytes), followed on success by the primitive verification the envelope
 * layer would run with the leaf key. */
#include <stdint.h>
#include <stddef.h>
#include "envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sigil_error err = SIGIL_ERROR_INIT;
	sigil__envelope *env = NULL;
	if (sigil__jws_parse(data, size, &env, &err) != SIGIL_STATUS_OK)
		return 0;
	EVP_PKEY *key = X509_get0_pubkey(sk_X509_value(env->chain, 0));
	sigil__sigalg alg = SIGIL_SIGALG_NONE;
	if (key && sigil__sigalg_from_key(key, &alg, &err) == SIGIL_STATUS_OK && alg == env->alg &&
	    sigil__sigalg_verify(env->alg, env->pss_salt, key, env->signed_input, env->signed_input_len,
		    env->signature, env->signature_len, &err) == SIGIL_STATUS_OK) {
		/* nothing more: chain rules belong to certchain's own target */
	}
	sigil__envelope_free(env);
	return 0;
}
