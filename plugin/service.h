/* service.h - sigild's verification service, independent of gRPC: the
 * trust configuration in force (reloadable), the registry clients, the
 * verdict cache, modes, allow-list, audit log and counters. Thread-safe:
 * the gRPC layer calls it from several threads at once. */
#ifndef SIGILD_SERVICE_H
#define SIGILD_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sigil/error.h>
#include "config.h"
#include "metrics.h"
#include "sigil/v1/verifier.pb-c.h"

typedef struct sigild_service sigild_service;

/* sigild_service_new - load the trust configuration from cfg->config_dir
 * and set up registry access; cfg is copied. */
SIGIL_MUST_CHECK sigil_status sigild_service_new(sigild_service **out, const sigild_config *cfg,
	sigil_error *err);
void sigild_service_free(sigild_service *s);

/* sigild_service_verify - decide one pull. Never fails for a verdict: a
 * deny (including "could not verify in time") is a response. Returns an
 * error only for an unusable request (SIGIL_ERR_USAGE: missing or malformed
 * name/digest, descriptor digest != digest). deadline_ms is absolute
 * (sigil_registry_now_ms clock). *out is freed with
 * sigild_verify_response_free. */
SIGIL_MUST_CHECK sigil_status sigild_service_verify(sigild_service *s,
	const Sigil__V1__VerifyRequest *req, int64_t deadline_ms,
	Sigil__V1__VerifyResponse **out, sigil_error *err);
void sigild_verify_response_free(Sigil__V1__VerifyResponse *resp);

/* sigild_service_verify_cached - decide one pull without waiting, for
 * sigild's I/O thread: when req is usable, not no_cache, and its digest is
 * allow-listed or its verdict is in the cache, *out (malloc'd, caller
 * frees; *out_len bytes) is the packed response sigild_service_verify
 * would give, with the same counters, metrics and audit line. A cached
 * verdict's bytes are the stored packed response followed by cached =
 * true and elapsed_us = 0 (decoded, the same message as the worker
 * path's; not packed again). Otherwise *out = NULL and nothing at all is
 * counted or logged: the caller passes the request to
 * sigild_service_verify. Never waits for a verification in progress or a
 * registry. Fails only on allocation failure after a cache hit was
 * counted (as sigild_service_verify fails then, and with its error), or
 * on a cache value that does not parse (SIGIL_ERR_INTERNAL, a bug). */
SIGIL_MUST_CHECK sigil_status sigild_service_verify_cached(sigild_service *s,
	const Sigil__V1__VerifyRequest *req, uint8_t **out, size_t *out_len, sigil_error *err);

/* sigild_service_status - a snapshot of the Status response. */
SIGIL_MUST_CHECK sigil_status sigild_service_status(sigild_service *s,
	Sigil__V1__StatusResponse **out, sigil_error *err);
void sigild_status_response_free(Sigil__V1__StatusResponse *resp);

/* sigild_service_reload - load the trust configuration again; if it is
 * invalid the configuration in force stays and the error is returned (and
 * reported by Status). Cache entries of older revisions stop being used. */
SIGIL_MUST_CHECK sigil_status sigild_service_reload(sigild_service *s, sigil_error *err);

/* Additions (service.c): */

/* sigild_service_reload_if_changed - recompute the trust configuration
 * revision (a hash of the policy and trust store files) and reload only
 * when it differs from the one in force (*changed says whether it did).
 * For a file watcher or a periodic poll; errors as sigild_service_reload. */
SIGIL_MUST_CHECK sigil_status sigild_service_reload_if_changed(sigild_service *s, bool *changed,
	sigil_error *err);

/* sigild_service_revision - the revision in force ("sha256:<hex>"),
 * malloc'd (NULL on allocation failure). */
char *sigild_service_revision(sigild_service *s);

/* sigild_service_reopen_audit - reopen the audit log file (log rotation,
 * SIGHUP). */
SIGIL_MUST_CHECK sigil_status sigild_service_reopen_audit(sigild_service *s, sigil_error *err);

/* sigild_service_metrics - the service's metrics registry (borrowed,
 * lives as long as s), for sigild's HTTP endpoint (docs/metrics.md). */
sigild_metrics *sigild_service_metrics(sigild_service *s);

/* sigild_service_ready - whether a valid trust configuration is in force
 * (a failed reload keeps the previous one, so it stays ready); svc is a
 * sigild_service, typed void * to serve as a sigild_ready_fn. why (may be
 * NULL) receives the reason when not. */
bool sigild_service_ready(void *svc, char *why, size_t why_len);

#endif
