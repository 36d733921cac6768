/* certcache.h - parsed envelope certificates, reused across verifications.
 *
 * With OpenSSL 3.0, d2i_X509 costs more than the signature checks it is
 * parsed for (the public key goes through the provider decoders: about a
 * million instructions per certificate, more than an ECDSA P-256 verify),
 * and a freshly parsed RSA key also recomputes its Montgomery context on
 * first use. A signer's chain is the same in every signature it makes, so
 * a verifier that sees it again reuses the parsed certificates. Only the
 * parsing is reused: every signature is still verified on every use. */
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

#endif
