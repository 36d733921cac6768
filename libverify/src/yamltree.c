/* yamltree.c - a YAML (or JSON) document read with libyaml into a json-c
 * tree, bounded in depth and size, so that kubelet's YAML configuration is
 * validated with the same code as JSON. Aliases are refused. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "bounds.h"
#include "credentials_internal.h"
#include "errors.h"

typedef struct yframe {
	json_object *obj;
	char *key;      /* mappings: the key awaiting its value */
} yframe;

static json_object *yaml_scalar(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !ev->data.scalar.tag;
	if (plain) {
		/* sigs.k8s.io/yaml (YAML 1.1 through go-yaml) types plain
		 * scalars; a number where a string belongs is then an error, as
		 * in kubelet */
		static const char *nulls[] = { "", "~", "null", "Null", "NULL" };
		static const char *trues[] = { "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON" };
		static const char *falses[] = { "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF" };
		for (size_t i = 0; i < 5; i++)
			if (strcmp(v, nulls[i]) == 0)
				return NULL;
		for (size_t i = 0; i < 9; i++) {
			if (strcmp(v, trues[i]) == 0)
				return json_object_new_boolean(1);
			if (strcmp(v, falses[i]) == 0)
				return json_object_new_boolean(0);
		}
		size_t i = (v[0] == '-' || v[0] == '+') ? 1 : 0;
		if (i < n && n - i <= 18 && strspn(v + i, "0123456789") == n - i)
			return json_object_new_int64(strtoll(v, NULL, 10));
	}
	return json_object_new_string_len(v, (int)n);
}

sigil_status sigil__yaml_parse(const uint8_t *buf, size_t len, json_object **out, sigil_error *err)
{
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser))
		return sigil__err_oom(err);
	yaml_parser_set_input_string(&parser, buf, len);
	yframe stack[SIGIL_MAX_JSON_DEPTH];
	size_t depth = 0, nodes = 0;
	json_object *root = NULL;
	bool have_root = false, done = false;
	int docs = 0;
	sigil_status st = SIGIL_STATUS_OK;
	while (!done && st == SIGIL_STATUS_OK) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&parser, &ev)) {
			st = sigil__err_at(err, SIGIL_ERR_MALFORMED, parser.problem_offset,
				"YAML line %zu column %zu: %s", parser.problem_mark.line + 1,
				parser.problem_mark.column + 1, parser.problem ? parser.problem : "syntax error");
			break;
		}
		json_object *val = NULL;
		bool is_val = false, push = false;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1)
				st = sigil__err(err, SIGIL_ERR_MALFORMED, "YAML: more than one document");
			break;
		case YAML_ALIAS_EVENT:
			st = sigil__err(err, SIGIL_ERR_UNSUPPORTED, "YAML line %zu: aliases are not supported",
				ev.start_mark.line + 1);
			break;
		case YAML_SCALAR_EVENT:
			if (memchr(ev.data.scalar.value, 0, ev.data.scalar.length)) {
				st = sigil__err(err, SIGIL_ERR_MALFORMED, "YAML line %zu: NUL in a scalar",
					ev.start_mark.line + 1);
				break;
			}
			if (depth > 0 && json_object_is_type(stack[depth - 1].obj, json_type_object) &&
			    !stack[depth - 1].key) {
				const char *k = (const char *)ev.data.scalar.value;
				if (json_object_object_get_ex(stack[depth - 1].obj, k, NULL)) {
					st = sigil__err(err, SIGIL_ERR_MALFORMED, "YAML line %zu: duplicate key \"%.64s\"",
						ev.start_mark.line + 1, k);
				} else if (!(stack[depth - 1].key = strdup(k))) {
					st = sigil__err_oom(err);
				}
				break;
			}
			val = yaml_scalar(&ev);
			is_val = true;
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (depth > 0 && json_object_is_type(stack[depth - 1].obj, json_type_object) &&
			    !stack[depth - 1].key) {
				st = sigil__err(err, SIGIL_ERR_UNSUPPORTED,
					"YAML line %zu: only scalar mapping keys are supported", ev.start_mark.line + 1);
				break;
			}
			if (depth == SIGIL_MAX_JSON_DEPTH) {
				st = sigil__err(err, SIGIL_ERR_LIMIT, "YAML: nested deeper than %d",
					SIGIL_MAX_JSON_DEPTH);
				break;
			}
			val = ev.type == YAML_SEQUENCE_START_EVENT ? json_object_new_array() :
				json_object_new_object();
			if (!val) {
				st = sigil__err_oom(err);
				break;
			}
			is_val = true;
			push = true;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			free(stack[depth].key);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
		if (st != SIGIL_STATUS_OK || !is_val)
			continue;
		if (++nodes > SIGIL_MAX_YAML_NODES) {
			json_object_put(val);
			st = sigil__err(err, SIGIL_ERR_LIMIT, "YAML: more than %d nodes", SIGIL_MAX_YAML_NODES);
			break;
		}
		if (depth == 0) {
			root = val;
			have_root = true;
		} else if (json_object_is_type(stack[depth - 1].obj, json_type_array)) {
			json_object_array_add(stack[depth - 1].obj, val);
		} else {
			json_object_object_add(stack[depth - 1].obj, stack[depth - 1].key, val);
			free(stack[depth - 1].key);
			stack[depth - 1].key = NULL;
		}
		if (push)
			stack[depth++] = (yframe){ val, NULL };
	}
	while (depth > 0)
		free(stack[--depth].key);
	yaml_parser_delete(&parser);
	if (st != SIGIL_STATUS_OK) {
		if (have_root)
			json_object_put(root);
		return st;
	}
	*out = root;
	return SIGIL_STATUS_OK;
}
