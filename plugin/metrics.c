/* metrics.c - sigild's metrics registry and the Prometheus text
 * exposition (metrics.h). Small by design: a few dozen families, each
 * with a capped number of series, looked up linearly under one lock. */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "metrics.h"
#include "util.h"

#define MAX_FAMILIES 64

typedef struct series {
	char *values[SIGILD_METRICS_MAX_LABELS];
	double value;       /* counter, gauge */
	uint64_t *buckets;  /* histogram: per-bucket counts (not cumulative), +Inf last */
	double sum;
	uint64_t count;
} series;

struct sigild_metric {
	sigild_metrics *owner;
	sigild_metric_desc d;
	series *s;
	size_t n, cap;
};

struct sigild_metrics {
	pthread_mutex_t lock;
	sigild_metric *families[MAX_FAMILIES];
	size_t count;
	sigild_metrics_collect_fn collect;
	void *collect_ctx;
};

sigil_status sigild_metrics_new(sigild_metrics **out, sigil_error *err)
{
	if (!out)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigild_metrics_new: missing argument");
	sigild_metrics *m = calloc(1, sizeof *m);
	if (!m)
		return sigil__err_oom(err);
	pthread_mutex_init(&m->lock, NULL);
	*out = m;
	return SIGIL_STATUS_OK;
}

static void series_clear(series *s)
{
	for (size_t i = 0; i < SIGILD_METRICS_MAX_LABELS; i++)
		free(s->values[i]);
	free(s->buckets);
	memset(s, 0, sizeof *s);
}

void sigild_metrics_free(sigild_metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->count; i++) {
		sigild_metric *f = m->families[i];
		for (size_t k = 0; k < f->n; k++)
			series_clear(&f->s[k]);
		free(f->s);
		free(f);
	}
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* metric and label names: [a-zA-Z_:][a-zA-Z0-9_:]* (labels without ':',
 * and names starting "__" are reserved for Prometheus) */
static bool name_valid(const char *s, bool label)
{
	if (!s || !s[0])
		return false;
	if (label && strncmp(s, "__", 2) == 0)
		return false;
	for (size_t i = 0; s[i]; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			(!label && c == ':') || (i > 0 && c >= '0' && c <= '9');
		if (!ok)
			return false;
	}
	return true;
}

sigil_status sigild_metrics_add(sigild_metrics *m, const sigild_metric_desc *d, sigild_metric **out,
	sigil_error *err)
{
	if (!m || !d || !out)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigild_metrics_add: missing argument");
	if (!name_valid(d->name, false) || !d->help)
		return sigil__err(err, SIGIL_ERR_USAGE, "metric name \"%s\" is not valid",
			d->name ? d->name : "");
	if (d->label_count > SIGILD_METRICS_MAX_LABELS || d->max_series < 1 ||
	    d->fold_label >= (int)d->label_count || d->fold_label < -1)
		return sigil__err(err, SIGIL_ERR_USAGE, "%s: invalid label set", d->name);
	for (size_t i = 0; i < d->label_count; i++)
		if (!name_valid(d->labels[i], true) || strcmp(d->labels[i], "le") == 0)
			return sigil__err(err, SIGIL_ERR_USAGE, "%s: invalid label name", d->name);
	if (d->type == SIGILD_METRIC_HISTOGRAM) {
		if (!d->buckets || d->bucket_count < 1 || d->bucket_count > SIGILD_METRICS_MAX_BUCKETS)
			return sigil__err(err, SIGIL_ERR_USAGE, "%s: a histogram needs 1 to %d buckets", d->name,
				SIGILD_METRICS_MAX_BUCKETS);
		for (size_t i = 0; i < d->bucket_count; i++)
			if (!isfinite(d->buckets[i]) || (i && d->buckets[i] <= d->buckets[i - 1]))
				return sigil__err(err, SIGIL_ERR_USAGE, "%s: buckets must increase", d->name);
	}
	pthread_mutex_lock(&m->lock);
	bool dup = false;
	for (size_t i = 0; i < m->count; i++)
		dup = dup || strcmp(m->families[i]->d.name, d->name) == 0;
	if (dup || m->count >= MAX_FAMILIES) {
		pthread_mutex_unlock(&m->lock);
		return sigil__err(err, SIGIL_ERR_USAGE, "%s: %s", d->name,
			dup ? "registered twice" : "too many metric families");
	}
	sigild_metric *f = calloc(1, sizeof *f);
	if (!f) {
		pthread_mutex_unlock(&m->lock);
		return sigil__err_oom(err);
	}
	f->owner = m;
	f->d = *d;
	m->families[m->count++] = f;
	pthread_mutex_unlock(&m->lock);
	*out = f;
	return SIGIL_STATUS_OK;
}

void sigild_metrics_set_collector(sigild_metrics *m, sigild_metrics_collect_fn fn, void *ctx)
{
	if (!m)
		return;
	m->collect = fn;
	m->collect_ctx = ctx;
}

/* --- series lookup (lock held) ----------------------------------------- */

static const char *value_at(const char *const *values, size_t i)
{
	return values && values[i] ? values[i] : "";
}

static series *find(sigild_metric *f, const char *const *values)
{
	for (size_t k = 0; k < f->n; k++) {
		size_t i = 0;
		for (; i < f->d.label_count; i++)
			if (strcmp(f->s[k].values[i], value_at(values, i)) != 0)
				break;
		if (i == f->d.label_count)
			return &f->s[k];
	}
	return NULL;
}

static series *create(sigild_metric *f, const char *const *values)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 4;
		series *ns = realloc(f->s, cap * sizeof *ns);
		if (!ns)
			return NULL;
		f->s = ns;
		f->cap = cap;
	}
	series *s = &f->s[f->n];
	memset(s, 0, sizeof *s);
	for (size_t i = 0; i < f->d.label_count; i++) {
		if (!(s->values[i] = strdup(value_at(values, i)))) {
			series_clear(s);
			return NULL;
		}
	}
	if (f->d.type == SIGILD_METRIC_HISTOGRAM &&
	    !(s->buckets = calloc(f->d.bucket_count + 1, sizeof *s->buckets))) {
		series_clear(s);
		return NULL;
	}
	f->n++;
	return s;
}

/* lookup - the series for values, created on first use. A value that is
 * too long, or a new series past the cap, folds the foldable label into
 * "other" (the enumerated labels keep their values). */
static series *lookup(sigild_metric *f, const char *const *values)
{
	const char *v[SIGILD_METRICS_MAX_LABELS] = { 0 };
	bool fold = false;
	for (size_t i = 0; i < f->d.label_count; i++) {
		v[i] = value_at(values, i);
		if (strlen(v[i]) > SIGILD_METRICS_MAX_VALUE)
			fold = true;
	}
	series *s = fold ? NULL : find(f, v);
	if (s)
		return s;
	if (fold || f->n >= f->d.max_series) {
		if (f->d.fold_label < 0)
			return NULL; /* no label to fold: the update is dropped */
		for (size_t i = 0; i < f->d.label_count; i++)
			if (strlen(v[i]) > SIGILD_METRICS_MAX_VALUE)
				v[i] = SIGILD_METRICS_OTHER;
		v[f->d.fold_label] = SIGILD_METRICS_OTHER;
		if ((s = find(f, v)) != NULL)
			return s;
	}
	return create(f, v);
}

typedef enum update_op { OP_ADD, OP_SET, OP_OBSERVE, OP_SET_ONLY } update_op;

static void update(sigild_metric *f, const char *const *values, double x, update_op op)
{
	if (!f)
		return;
	pthread_mutex_t *lock = &f->owner->lock;
	pthread_mutex_lock(lock);
	if (op == OP_SET_ONLY) {
		for (size_t k = 0; k < f->n; k++)
			series_clear(&f->s[k]);
		f->n = 0;
	}
	series *s = lookup(f, values);
	if (s) {
		switch (op) {
		case OP_ADD:
			s->value += x;
			break;
		case OP_SET:
		case OP_SET_ONLY:
			s->value = x;
			break;
		case OP_OBSERVE: { /* the first bucket whose bound is >= x (le) */
			size_t b = 0;
			while (b < f->d.bucket_count && !(x <= f->d.buckets[b]))
				b++;
			s->buckets[b]++;
			s->sum += x;
			s->count++;
			break;
		}
		}
	}
	pthread_mutex_unlock(lock);
}

void sigild_metric_add(sigild_metric *f, const char *const *values, double delta)
{
	/* counters only go up (the text format's contract with rate()) */
	if (f && (f->d.type == SIGILD_METRIC_GAUGE || (f->d.type == SIGILD_METRIC_COUNTER && delta >= 0)))
		update(f, values, delta, OP_ADD);
}

void sigild_metric_set(sigild_metric *f, const char *const *values, double value)
{
	if (f && f->d.type != SIGILD_METRIC_HISTOGRAM)
		update(f, values, value, OP_SET);
}

void sigild_metric_observe(sigild_metric *f, const char *const *values, double value)
{
	if (f && f->d.type == SIGILD_METRIC_HISTOGRAM && !isnan(value))
		update(f, values, value, OP_OBSERVE);
}

void sigild_metric_set_only(sigild_metric *f, const char *const *values, double value)
{
	if (f && f->d.type == SIGILD_METRIC_GAUGE)
		update(f, values, value, OP_SET_ONLY);
}

double sigild_metric_get(sigild_metric *f, const char *const *values)
{
	if (!f)
		return 0;
	pthread_mutex_lock(&f->owner->lock);
	series *s = find(f, values);
	double v = !s ? 0 : f->d.type == SIGILD_METRIC_HISTOGRAM ? (double)s->count : s->value;
	pthread_mutex_unlock(&f->owner->lock);
	return v;
}

/* --- exposition -------------------------------------------------------- */

size_t sigild_metrics_escape_label(const char *in, size_t len, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		const char *rep = NULL;
		/* exposition_formats.md: "label_value can be any sequence of
		 * UTF-8 characters, but the backslash (\), double-quote ("),
		 * and line feed (\n) characters have to be escaped as \\, \",
		 * and \n, respectively" */
		switch (in[i]) {
		case '\\': rep = "\\\\"; break;
		case '"': rep = "\\\""; break;
		case '\n': rep = "\\n"; break;
		default: break;
		}
		if (!rep) {
			if (o + 1 < cap)
				out[o] = in[i];
			o++;
			continue;
		}
		for (size_t k = 0; rep[k]; k++, o++)
			if (o + 1 < cap)
				out[o] = rep[k];
	}
	if (cap)
		out[o < cap ? o : cap - 1] = '\0';
	return o;
}

typedef struct buf {
	char *p;
	size_t len, cap;
	bool failed;   /* allocation failure */
	bool limited;  /* past SIGILD_METRICS_MAX_OUTPUT */
} buf;

static void put(buf *b, const char *s, size_t n)
{
	if (b->failed || b->limited)
		return;
	if (n > SIGILD_METRICS_MAX_OUTPUT - b->len) {
		b->limited = true;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (!np) {
			b->failed = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void puts_(buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void putf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof tmp) {
		b->limited = true;
		return;
	}
	put(b, tmp, (size_t)n);
}

/* a sample value: integers without a fraction, other values with enough
 * digits to read back exactly; the text format spells infinities +Inf/-Inf */
static void put_number(buf *b, double v)
{
	if (isnan(v))
		puts_(b, "NaN");
	else if (isinf(v))
		puts_(b, v > 0 ? "+Inf" : "-Inf");
	else if (v == floor(v) && fabs(v) < 9007199254740992.0)
		putf(b, "%.0f", v);
	else {
		/* the shortest of 15..17 digits that reads back as v */
		char tmp[64];
		for (int prec = 15; prec <= 17; prec++) {
			snprintf(tmp, sizeof tmp, "%.*g", prec, v);
			if (strtod(tmp, NULL) == v || prec == 17)
				break;
		}
		puts_(b, tmp);
	}
}

static void put_escaped(buf *b, const char *v)
{
	char tmp[SIGILD_METRICS_MAX_VALUE * 2 + 1];
	size_t need = sigild_metrics_escape_label(v, strlen(v), tmp, sizeof tmp);
	if (need >= sizeof tmp) {
		/* lookup() keeps values short; never write a cut escape */
		puts_(b, SIGILD_METRICS_OTHER);
		return;
	}
	put(b, tmp, need);
}

/* {a="x",b="y"[,le="…"]}, or nothing without labels */
static void put_labels(buf *b, const sigild_metric *f, const series *s, const char *le)
{
	if (f->d.label_count == 0 && !le)
		return;
	puts_(b, "{");
	for (size_t i = 0; i < f->d.label_count; i++) {
		putf(b, "%s%s=\"", i ? "," : "", f->d.labels[i]);
		put_escaped(b, s->values[i]);
		puts_(b, "\"");
	}
	if (le)
		putf(b, "%sle=\"%s\"", f->d.label_count ? "," : "", le);
	puts_(b, "}");
}

/* HELP text: backslash and line feed are escaped (not the quote) */
static void put_help(buf *b, const char *help)
{
	for (const char *p = help; *p; p++) {
		if (*p == '\\')
			puts_(b, "\\\\");
		else if (*p == '\n')
			puts_(b, "\\n");
		else
			put(b, p, 1);
	}
}

static const char *type_name(sigild_metric_type t)
{
	switch (t) {
	case SIGILD_METRIC_COUNTER: return "counter";
	case SIGILD_METRIC_GAUGE: return "gauge";
	case SIGILD_METRIC_HISTOGRAM: return "histogram";
	}
	return "untyped";
}

static void put_family(buf *b, const sigild_metric *f)
{
	putf(b, "# HELP %s ", f->d.name);
	put_help(b, f->d.help);
	putf(b, "\n# TYPE %s %s\n", f->d.name, type_name(f->d.type));
	for (size_t k = 0; k < f->n; k++) {
		const series *s = &f->s[k];
		if (f->d.type != SIGILD_METRIC_HISTOGRAM) {
			puts_(b, f->d.name);
			put_labels(b, f, s, NULL);
			puts_(b, " ");
			put_number(b, s->value);
			puts_(b, "\n");
			continue;
		}
		uint64_t cum = 0;
		for (size_t i = 0; i <= f->d.bucket_count; i++) {
			char le[64];
			cum += s->buckets[i];
			if (i < f->d.bucket_count)
				snprintf(le, sizeof le, "%g", f->d.buckets[i]);
			else
				snprintf(le, sizeof le, "+Inf");
			putf(b, "%s_bucket", f->d.name);
			put_labels(b, f, s, le);
			putf(b, " %llu\n", (unsigned long long)cum);
		}
		putf(b, "%s_sum", f->d.name);
		put_labels(b, f, s, NULL);
		puts_(b, " ");
		put_number(b, s->sum);
		putf(b, "\n%s_count", f->d.name);
		put_labels(b, f, s, NULL);
		putf(b, " %llu\n", (unsigned long long)s->count);
	}
}

sigil_status sigild_metrics_expose(sigild_metrics *m, char **out, size_t *len, sigil_error *err)
{
	if (!m || !out || !len)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigild_metrics_expose: missing argument");
	if (m->collect)
		m->collect(m, m->collect_ctx);
	buf b = { 0 };
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->count; i++)
		put_family(&b, m->families[i]);
	pthread_mutex_unlock(&m->lock);
	if (b.failed || b.limited) {
		free(b.p);
		if (b.failed)
			return sigil__err_oom(err);
		return sigil__err(err, SIGIL_ERR_LIMIT, "the metrics exposition is larger than %zu bytes",
			SIGILD_METRICS_MAX_OUTPUT);
	}
	if (!b.p) {
		b.p = strdup("");
		if (!b.p)
			return sigil__err_oom(err);
	}
	*out = b.p;
	*len = b.len;
	return SIGIL_STATUS_OK;
}
