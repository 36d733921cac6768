/* toml.h - a small, bounded TOML reader for containerd's hosts.toml and
 * config.toml (Debian 12 has no C TOML library). Supports what those files
 * use: comments, bare/quoted/dotted keys, [tables] and [[arrays of
 * tables]], basic and literal strings (single- and multi-line), integers,
 * floats (`containerd config default` writes pause_threshold = 0.02),
 * booleans, arrays (nested, multi-line, trailing comma) and inline tables.
 * Dates and times are rejected as unsupported. Order of keys and tables is
 * preserved (hosts.toml's [host] order is significant). */
#ifndef SIGIL_TOML_H
#define SIGIL_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sigil/error.h>

typedef enum sigil__toml_type {
	SIGIL_TOML_STRING = 1,
	SIGIL_TOML_BOOL,
	SIGIL_TOML_INT,
	SIGIL_TOML_ARRAY,
	SIGIL_TOML_TABLE,
	SIGIL_TOML_FLOAT,
} sigil__toml_type;

typedef struct sigil__toml_value sigil__toml_value;
struct sigil__toml_value {
	sigil__toml_type type;
	char *str;                  /* STRING (NUL-terminated, no NUL inside) */
	bool b;                     /* BOOL */
	int64_t i;                  /* INT */
	double f;                   /* FLOAT */
	sigil__toml_value **items;  /* ARRAY elements / TABLE values */
	char **keys;                /* TABLE keys (same index as items) */
	size_t count;
	size_t line;                /* where it was defined (for messages) */
	/* TABLE: 1-based ordinal of the first [table] header (not [[array]])
	 * whose key path names or passes through this table; 0 if none.
	 * containerd orders [host."…"] by it (hosts.go getSortedHosts). */
	size_t header_seq;
	/* parser bookkeeping (TOML v1.0 definition rules); callers ignore */
	unsigned flags;
	size_t cap;
};

/* sigil__toml_parse - parse a document into a root TABLE. Errors are
 * SIGIL_ERR_MALFORMED "line N: ..." (offset = byte offset) or
 * SIGIL_ERR_LIMIT. *out owned by the caller (sigil__toml_free). */
SIGIL_MUST_CHECK sigil_status sigil__toml_parse(const uint8_t *buf, size_t len,
	sigil__toml_value **out, sigil_error *err);

/* sigil__toml_get - the value of key in a TABLE, or NULL. Borrowed. */
const sigil__toml_value *sigil__toml_get(const sigil__toml_value *table, const char *key);

void sigil__toml_free(sigil__toml_value *v);

#endif
