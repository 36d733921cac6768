/* cleanup.h - scope-bound release of owned resources (systemd style).
 *   _cleanup_free_ char *s = ...;   _cleanup_(X509_freep) X509 *c = ...;
 * Move ownership out with TAKE_PTR(p). */
#ifndef SIGIL_CLEANUP_H
#define SIGIL_CLEANUP_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <openssl/x509.h>
#include <openssl/evp.h>
#include <openssl/bio.h>
#include <json-c/json.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

#define TAKE_PTR(p) __extension__({ __typeof__(p) _tp = (p); (p) = NULL; _tp; })

static inline void freep(void *p) { free(*(void **)p); }
#define _cleanup_free_ _cleanup_(freep)

static inline void fclosep(FILE **f) { if (*f) fclose(*f); }
static inline void closep(int *fd) { if (*fd >= 0) close(*fd); }
static inline void X509_freep(X509 **p) { X509_free(*p); }
static inline void EVP_PKEY_freep(EVP_PKEY **p) { EVP_PKEY_free(*p); }
static inline void EVP_MD_CTX_freep(EVP_MD_CTX **p) { EVP_MD_CTX_free(*p); }
static inline void EVP_PKEY_CTX_freep(EVP_PKEY_CTX **p) { EVP_PKEY_CTX_free(*p); }
static inline void BIO_freep(BIO **p) { BIO_free(*p); }
static inline void X509_stack_freep(STACK_OF(X509) **p) { sk_X509_pop_free(*p, X509_free); }
static inline void json_object_putp(json_object **p) { if (*p) json_object_put(*p); }

#endif
