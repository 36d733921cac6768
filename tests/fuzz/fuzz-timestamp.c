/* fuzz-timestamp.c - libFuzzer target for RFC 3161 timestamp tokens
 * (timestamp.h). Every input is parsed as a token with
 * sigil__timestamp_parse. Inputs framed as
 *   "SIGT" | u16 big-endian signature length | signature | token
 * are also fully verified against the TSA root of conformance case 063, so
 * that mutations of a real token (whose imprint matches the framed
 * signature) reach the signer, chain and signature checks. */
#include <stdint.h>
#include <string.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "timestamp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* tests/corpus/conformance/cases/063-ts-jws-valid/truststore/x509/tsa/tsa/00-tsa-root.crt */
static const char tsa_root_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIEnDCCAwSgAwIBAgIQAJSW4p8le6MCzLsFJyXVDDANBgkqhkiG9w0BAQwFADBo\n"
	"MQswCQYDVQQGEwJVUzELMAkGA1UECAwCV0ExGTAXBgNVBAoMEEFjbWUgV2lkZ2V0\n"
	"cyBMdGQxDDAKBgNVBAsMA1RTQTEjMCEGA1UEAwwaQWNtZSBUaW1lc3RhbXAgUm9v\n"
	"dCAyeTJubjMwHhcNMjYxMDI1MjIwMTU3WhcNMzYxMTIxMjIwMTU5WjBoMQswCQYD\n"
	"VQQGEwJVUzELMAkGA1UECAwCV0ExGTAXBgNVBAoMEEFjbWUgV2lkZ2V0cyBMdGQx\n"
	"DDAKBgNVBAsMA1RTQTEjMCEGA1UEAwwaQWNtZSBUaW1lc3RhbXAgUm9vdCAyeTJu\n"
	"bjMwggGiMA0GCSqGSIb3DQEBAQUAA4IBjwAwggGKAoIBgQDh+el2BTdZv7B2XdAr\n"
	"EsGLKyBLJMbflEb70BVkbk9o/YjWZV/iYUis7kFdEOcfI/1CkjV5KZH475/6uCgq\n"
	"jIaWYPaGz3JQsW/cjaHH7w8lkZMtIkBkAOJhSEFGegUl6bVfw8vZFSkQxy9IMZsO\n"
	"JpCFilwVEgU29R5MKrSzatSHqRgmZF0wcyTCilm5IASz372wrRRSgcrPzUDboPr9\n"
	"EqCGFjbxXBUtBB51A7yHh8nYO1A0snUAnVlsb8vbTZgTgQuAfrWed6P9gD3VzbE3\n"
	"re/QIojQMzl10jWa+XD8uzxgzWLyH+PTZqReaxU/2IEeEOTTsC8+95OrosCPatYx\n"
	"jIi+xzKGIlZpO6cslLklHlla1tgWR87uve0e1i3mLh+dTlqcbP6YAgJtHy6Ih3Q5\n"
	"uYGXwv4ElAxtUkgCENJQ9fVRrqVfWNYqzH8gC0KNfV7MN03tB26amz9gUghBCVlX\n"
	"XQIbhchXuuPL7Fc+sCz0cVuECtOPTw/PWwxhzsUqg5mLslUCAwEAAaNCMEAwDwYD\n"
	"VR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYwHQYDVR0OBBYEFDROwz676Nxs\n"
	"ArWWbdE0u2yQ4lKcMA0GCSqGSIb3DQEBDAUAA4IBgQCcgSNmjUzv3YH1U8uz5aeg\n"
	"aaE6FdzWk32GCKX9EyR6tLGa/xzX2vVHO+kAWgOkuDXxHyuDkASftKLxsV3zdMIU\n"
	"xrYXio1us+TfVqGuDYbeZyyTfxLWJq7jWA/KOdtjNNMpB4ue+9VcN1hQxcdCSjHt\n"
	"OrsqmGjSuC+n2R9dDKkD84QqooGP/z+cWfJRsQR1fLf8bn1IVOnhzixHiA33mWkE\n"
	"uPS5Aa9DXnGPBE5D/XJe3hC2KLNc/4I4eO43craXt1qM6E1BJytybDQYR34KAapv\n"
	"KxxSugHkaA3FBfsM8tJX7JJPQR1u9t1HGN9meoD8OP7vo0Qw9PSQgyepfqgmS5iS\n"
	"h1347q+U5EIpsnX9FUy3K4k10q06rS8UBQ5RsbidA59HzGTTL4icbSSuckCzbJlF\n"
	"4OzNk8Ok9/BND51e8+CiQ+iQ6kc+QivRQS1W5S2lML8vTyIj9upAdVoYIA6fKilE\n"
	"g3kNQqjZdEE8WvtEliizjAnjalA++1KD9fU+wGMaRhk=\n"
	"-----END CERTIFICATE-----\n";

static STACK_OF(X509) *roots(void)
{
	static STACK_OF(X509) *sk;
	if (!sk) {
		BIO *b = BIO_new_mem_buf(tsa_root_pem, (int)sizeof tsa_root_pem - 1);
		X509 *c = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
		BIO_free(b);
		sk = sk_X509_new_null();
		if (sk && c)
			sk_X509_push(sk, c);
	}
	return sk;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sigil__tst tst;
	sigil_error err = SIGIL_ERROR_INIT;
	if (sigil__timestamp_parse(data, size, &tst, &err) == SIGIL_STATUS_OK) {
		/* a parsed token never yields a negative accuracy */
		if (tst.accuracy < 0)
			__builtin_trap();
	}
	if (size >= 6 && memcmp(data, "SIGT", 4) == 0) {
		size_t sig_len = ((size_t)data[4] << 8) | data[5];
		if (sig_len <= size - 6) {
			const uint8_t *sig = data + 6;
			const uint8_t *tok = sig + sig_len;
			size_t tok_len = size - 6 - sig_len;
			STACK_OF(X509) *chain = NULL;
			if (sigil__timestamp_verify(tok, tok_len, sig, sig_len, roots(), &tst, &chain,
				&err) == SIGIL_STATUS_OK)
				sk_X509_pop_free(chain, X509_free);
		}
	}
	return 0;
}
