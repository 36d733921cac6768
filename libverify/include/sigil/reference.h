/* sigil/reference.h - image references as containerd and the distribution
 * reference grammar read them: "nginx" -> "docker.io/library/nginx:latest",
 * host[:port]/path[:tag][@digest]. */
#ifndef SIGIL_REFERENCE_H
#define SIGIL_REFERENCE_H

#include <sigil/error.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sigil_reference sigil_reference;

/* sigil_reference_parse - parse and normalise a reference (distribution's
 * ParseNormalizedNamed): a first component with '.' or ':' or equal to
 * "localhost" is the domain, else the domain is docker.io; a single-
 * component path on docker.io gets "library/"; "index.docker.io" becomes
 * "docker.io"; the path must be lower case; tag [\w][\w.-]{0,127};
 * digest "<alg>:<hex>" (sha256: 64 hex, sha512: 128 hex). Neither tag nor
 * digest: tag "latest" is implied only if imply_latest is non-zero.
 * SIGIL_ERR_MALFORMED with the reason otherwise. *out owned by the caller. */
SIGIL_EXPORT SIGIL_MUST_CHECK sigil_status sigil_reference_parse(sigil_reference **out,
	const char *s, int imply_latest, sigil_error *err);

SIGIL_EXPORT void sigil_reference_free(sigil_reference *ref);

/* Borrowed strings, valid while ref lives. */
SIGIL_EXPORT const char *sigil_reference_domain(const sigil_reference *ref);     /* "docker.io", "127.0.0.1:5000" */
SIGIL_EXPORT const char *sigil_reference_path(const sigil_reference *ref);       /* "library/nginx" */
/* "docker.io/library/nginx": what trust policy registryScopes match */
SIGIL_EXPORT const char *sigil_reference_repository(const sigil_reference *ref);
SIGIL_EXPORT const char *sigil_reference_tag(const sigil_reference *ref);        /* "" if none */
SIGIL_EXPORT const char *sigil_reference_digest(const sigil_reference *ref);     /* "" if none */
/* repository[:tag][@digest], normalised */
SIGIL_EXPORT const char *sigil_reference_string(const sigil_reference *ref);

#ifdef __cplusplus
}
#endif

#endif
