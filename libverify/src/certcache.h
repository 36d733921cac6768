/* certcache.h - parsed envelope certificates, reused across verifications.
 *
 * With OpenSSL 3.0, d2i_X509 costs more than the signature checks it is
 * parsed for (the public key goes through the provider decoders: about a
 * million instructions per certificate, more than an ECDSA P-256 verify),
 * and a freshly parsed RSA key also recomputes its Montgomery context on
 * first use. A signer's chain is the same in every signature it makes, so
 * a verifier that sees it again reuses the parsed certificates. Only the
 * parsing is reused, and one fact about a certificate's own bytes: that its
 * signature verifies under its own key (the chain root's self-signature,
 * below); every other signature is still verified on every use. */
#ifndef SIGIL_CERTCACHE_H
#define SIGIL_CERTCACHE_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/x509.h>

/* sigil__certcache_parse - the certificate whose DER encoding is exactly
 * der[0..len) (no trailing bytes, as Go's x509.ParseCertificate), or NULL
 * if it does not parse (the OpenSSL error queue is left to the caller).
 * The result is a new reference (X509_free) to an object that may be
 * shared with other threads and later calls: callers must not modify it.
 * Entries are keyed by the exact bytes; the cache is process-wide,
 * thread-safe and bounded (SIGIL_CERT_CACHE_ENTRIES certificates of at
 * most SIGIL_CERT_CACHE_MAX_DER bytes; larger ones are parsed every time). */
X509 *sigil__certcache_parse(const uint8_t *der, size_t len);

/* sigil__certcache_self_signature_ok - 1 if cert's signature verifies
 * under its own public key, else 0. verify(cert, ctx) performs the check
 * (returning 1 on success, filling whatever ctx holds for a failure's
 * reason); when cert is an object this cache handed out, a success is
 * remembered with its entry and later calls return 1 without calling
 * verify. A certificate the cache does not hold is verified every time.
 * Only the root's self-signature (Notary spec §1.9.1) is meant to go
 * through here; every other signature is verified on every use. */
int sigil__certcache_self_signature_ok(X509 *cert, int (*verify)(X509 *cert, void *ctx),
	void *ctx);

/* sigil__certcache_self_signature_hits - how many calls of
 * sigil__certcache_self_signature_ok were answered from the cache (for
 * tests and benchmarks). */
uint64_t sigil__certcache_self_signature_hits(void);

#endif
