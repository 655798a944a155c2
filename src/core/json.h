/*
 * json.h - strict JSON parsing for request bodies.
 *
 * json-c's defaults accept duplicate keys (last wins), trailing garbage and
 * invalid UTF-8. json_parse_strict() refuses all three, caps nesting depth,
 * and ties the parsed tree's lifetime to an arena.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "arena.h"

#define JSON_MAX_DEPTH 32

/*
 * Parses data[0..len) as one JSON value. On success *ret is owned by the
 * arena (released with it). On failure returns -EINVAL and *reason names the
 * problem in words fit for a client ("duplicate key", "trailing data", ...).
 */
int json_parse_strict(arena *a, const char *data, size_t len, int max_depth, json_object **ret,
		      const char **reason);

/*
 * Parses JSON that adcraft or PostgreSQL produced (a jsonb column, our own
 * builders): no strictness pass, but never a NULL result used unchecked. On
 * success *ret is owned by the arena; on failure returns -EBADMSG and leaves
 * *ret untouched (a bug or a corrupted row: the caller reports it once).
 */
int json_parse_trusted(arena *a, const char *text, json_object **ret);

/* Hands obj to the arena: json_object_put() runs when the arena is reset. */
json_object *json_own(arena *a, json_object *obj);

/* Whether s[0..n) is well-formed UTF-8 (no overlongs, surrogates or NULs). */
bool utf8_valid(const char *s, size_t n);

/* Counts the UTF-8 code points of valid UTF-8 text. */
size_t utf8_length(const char *s, size_t bytes);
