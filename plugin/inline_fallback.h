/* inline_fallback.h - sigil-verifier's optional inline mode: when sigild
 * cannot be reached, verify without it by running the sigil CLI with the
 * same trust configuration. Off unless SIGIL_VERIFIER_INLINE names the CLI;
 * the normal path never touches it. */
#ifndef SIGIL_INLINE_FALLBACK_H
#define SIGIL_INLINE_FALLBACK_H

#include <stddef.h>
#include <stdint.h>

/* sigil_forwarder_inline - run `<cli> verify --config-dir <config_dir>
 * --timeout <s> <name>@<digest>` (name keeps its tag; the digest is what
 * is verified), killed at deadline_ms. Returns 0 when it verified, 1
 * otherwise; reason gets the CLI's first output line (its verdict and
 * reason) or why it could not run. */
int sigil_forwarder_inline(const char *cli, const char *config_dir, const char *name,
	const char *digest, int64_t deadline_ms, char *reason, size_t reason_len);

#endif
