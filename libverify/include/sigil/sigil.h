/* sigil/sigil.h - libsigil: Notary Project signature verification. */
#ifndef SIGIL_SIGIL_H
#define SIGIL_SIGIL_H

#include <sigil/error.h>
#include <sigil/policy.h>
#include <sigil/source.h>
#include <sigil/verify.h>
#include <sigil/reference.h>
#include <sigil/registry.h>

#ifdef __cplusplus
extern "C" {
#endif

/* sigil_version - the library version string ("0.1.0"). */
SIGIL_EXPORT const char *sigil_version(void);

#ifdef __cplusplus
}
#endif

#endif
