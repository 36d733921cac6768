/* metrics.h - sigild's metrics registry: counters, gauges and histograms
 * with bounded label sets, written out in the Prometheus text exposition
 * format (version 0.0.4, https://prometheus.io/docs/instrumenting/exposition_formats/).
 *
 * Cardinality is bounded by construction: every family has a cap on its
 * series; past it, the family's foldable label (a policy name, a registry
 * host) is replaced by "other", so a hostile or merely large input adds at
 * most one series per combination of the other (enumerated) labels.
 * Label values longer than SIGILD_METRICS_MAX_VALUE fold the same way.
 * Digests and image names are never labels (docs/metrics.md).
 *
 * Thread-safe: updates and the exposition take the registry's lock. */
#ifndef SIGILD_METRICS_H
#define SIGILD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sigil/error.h>

#define SIGILD_METRICS_MAX_LABELS 2
#define SIGILD_METRICS_MAX_BUCKETS 32
#define SIGILD_METRICS_MAX_VALUE 128          /* bytes of one label value */
#define SIGILD_METRICS_MAX_OUTPUT ((size_t)4 << 20) /* one exposition */
#define SIGILD_METRICS_OTHER "other"

typedef enum sigild_metric_type {
	SIGILD_METRIC_COUNTER = 0,
	SIGILD_METRIC_GAUGE,
	SIGILD_METRIC_HISTOGRAM,
} sigild_metric_type;

typedef struct sigild_metric_desc {
	const char *name;       /* [a-zA-Z_:][a-zA-Z0-9_:]*; counters end in _total */
	const char *help;
	sigild_metric_type type;
	size_t label_count;     /* 0..SIGILD_METRICS_MAX_LABELS */
	const char *labels[SIGILD_METRICS_MAX_LABELS];
	int fold_label;         /* index folded to "other" past max_series, -1: none */
	size_t max_series;      /* >= 1 */
	const double *buckets;  /* histograms: strictly increasing upper bounds, */
	size_t bucket_count;    /* without +Inf (added), 1..SIGILD_METRICS_MAX_BUCKETS */
} sigild_metric_desc;

typedef struct sigild_metrics sigild_metrics;
typedef struct sigild_metric sigild_metric;

/* Called at the start of every exposition, without the registry's lock,
 * to set the metrics that are read from elsewhere (cache statistics,
 * refresher counters) rather than counted as they happen. */
typedef void (*sigild_metrics_collect_fn)(sigild_metrics *m, void *ctx);

SIGIL_MUST_CHECK sigil_status sigild_metrics_new(sigild_metrics **out, sigil_error *err);
void sigild_metrics_free(sigild_metrics *m);

/* sigild_metrics_add - register a family (desc is copied; its strings
 * must outlive m). *out is borrowed from m. SIGIL_ERR_USAGE for an
 * invalid name, label or bucket list, or a name registered twice. */
SIGIL_MUST_CHECK sigil_status sigild_metrics_add(sigild_metrics *m, const sigild_metric_desc *desc,
	sigild_metric **out, sigil_error *err);

/* sigild_metrics_set_collector - see sigild_metrics_collect_fn. Not
 * thread-safe: call before the registry is shared. */
void sigild_metrics_set_collector(sigild_metrics *m, sigild_metrics_collect_fn fn, void *ctx);

/* Updates. values[] has the family's label_count entries (NULL for none;
 * a NULL entry is the empty string). A wrong type is ignored: metrics must
 * never fail a verification. Allocation failure drops the update. */
void sigild_metric_add(sigild_metric *f, const char *const *values, double delta);
void sigild_metric_set(sigild_metric *f, const char *const *values, double value);
void sigild_metric_observe(sigild_metric *f, const char *const *values, double value);
/* sigild_metric_set_only - drop every series of the family and set this
 * one: an info-style gauge with exactly one series at a time. */
void sigild_metric_set_only(sigild_metric *f, const char *const *values, double value);

/* sigild_metric_get - the value of one series of a counter or gauge (a
 * histogram: its count), 0 if it does not exist (tests). */
double sigild_metric_get(sigild_metric *f, const char *const *values);

/* sigild_metrics_expose - run the collector, then write every family
 * (registration order, series in creation order) in the text format.
 * *out is malloc'd and NUL-terminated, *len excludes the NUL.
 * SIGIL_ERR_LIMIT past SIGILD_METRICS_MAX_OUTPUT. */
SIGIL_MUST_CHECK sigil_status sigild_metrics_expose(sigild_metrics *m, char **out, size_t *len,
	sigil_error *err);

/* sigild_metrics_escape_label - the text format's label value escaping
 * (backslash, double quote and line feed become \\, \" and \n) of
 * in[0..len) into out (NUL-terminated). Returns the length it needs
 * (without the NUL), like snprintf: larger than or equal to cap means
 * truncated. */
size_t sigild_metrics_escape_label(const char *in, size_t len, char *out, size_t cap);

#endif
