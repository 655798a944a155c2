/*
 * fuzz-json.c - a request body as the API reads it: strict JSON parsing
 * (json.c), then, for an object, validation against every body schema the
 * API has (schemas.h), with the content items' platform rules as well.
 */
#include "content.h"
#include "fuzz.h"
#include "json.h"
#include "schemas.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	arena *a = fuzz_arena();
	json_object *body;
	const char *reason;
	if (json_parse_strict(a, (const char *)data, size, JSON_MAX_DEPTH, &body, &reason) == 0 &&
	    json_object_is_type(body, json_type_object)) {
		for (const struct body_schema *const *list = body_schema_lists; *list; list++)
			for (const struct body_schema *s = *list; s->route; s++) {
				struct verrors errs;
				verrors_init(&errs, a);
				(s->partial ? validate_body_partial : validate_body)(body, s->fields, &errs);
				if (s->fields == content_item_fields && !s->partial)
					content_item_check(body, &errs);
			}
	}
	arena_reset(a);
	return 0;
}
