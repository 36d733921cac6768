/* truststore.h - notation's trust store layout (notary-verification.md
 * §3.2): <config>/truststore/x509/{ca,signingAuthority,tsa}/<name>/<files>. */
#ifndef SIGIL_TRUSTSTORE_H
#define SIGIL_TRUSTSTORE_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/x509.h>
#include <sigil/error.h>
#include "strlist.h"

typedef enum sigil__store_type {
	SIGIL_STORE_CA = 0,
	SIGIL_STORE_SIGNING_AUTHORITY,
	SIGIL_STORE_TSA,
} sigil__store_type;

/* "ca", "signingAuthority", "tsa" */
const char *sigil__store_type_name(sigil__store_type t);
/* Parses the type name; returns -1 if unknown. */
int sigil__store_type_parse(const char *s, size_t len, sigil__store_type *out);

/* sigil__truststore_load - load named store `name` of type `type` under
 * config_dir. Rules: the name matches ^[a-zA-Z0-9_.-]+$; the store
 * directory exists, is a directory and not a symlink; symlinked entries are
 * rejected; subdirectories are ignored with a warning appended to
 * `warnings` (spec, §8 row 6); every regular file is read (bounded by
 * SIGIL_MAX_CERT_FILE_SIZE) and must hold one or more certificates, as PEM
 * blocks or concatenated DER; a non-CA certificate must be self-signed; in
 * a tsa store every certificate must be a self-signed root CA; an empty
 * store is an error. Errors are SIGIL_ERR_POLICY (or _IO) with notation's
 * wording. *out (leaf order as read, files in name order) is owned by the
 * caller. warnings may be NULL. */
SIGIL_MUST_CHECK sigil_status sigil__truststore_load(const char *config_dir,
	sigil__store_type type, const char *name, STACK_OF(X509) **out,
	sigil__strlist *warnings, sigil_error *err);

/* sigil__certs_parse - parse a certificate file's bytes: every PEM block if
 * any is present, else concatenated DER. Used by the loader and its fuzz
 * target. *out owned by the caller; zero certificates is an error. */
SIGIL_MUST_CHECK sigil_status sigil__certs_parse(const uint8_t *buf, size_t len,
	STACK_OF(X509) **out, sigil_error *err);

#endif
