/*
 * validate.h - declarative validation of JSON request bodies.
 *
 * A handler describes its body as a constant table of fields; validate_body()
 * checks types, lengths, ranges and enums, rejects unknown fields, and
 * collects every problem (not just the first) as {field, message} pairs for
 * the 422 response. Validation never touches the database.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

#include "arena.h"

enum vtype {
	V_STRING,	/* min..max characters */
	V_EMAIL,	/* an address, at most 254 characters */
	V_INT,		/* min..max */
	V_BOOL,
	V_ENUM,		/* one of values[] */
	V_UUID,
};

enum {
	V_REQUIRED = 1 << 0,
	V_NULLABLE = 1 << 1,
};

struct vfield {
	const char *name;
	enum vtype type;
	unsigned flags;
	long min, max;
	const char *const *values; /* V_ENUM: NULL-terminated */
};

struct verror {
	const char *field;
	const char *message;
	struct verror *next;
};

struct verrors {
	arena *arena;
	struct verror *head, **tail;
	int count;
};

void verrors_init(struct verrors *e, arena *a);
void verrors_add(struct verrors *e, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Checks body (must be an object) against fields[0..NULL-name sentinel).
 * Adds one error per bad or unknown field to errs; returns errs->count.
 */
int validate_body(json_object *body, const struct vfield *fields, struct verrors *errs);

/* Field accessors for a body that passed validation: NULL / fallback when absent or null. */
const char *vget_str(json_object *body, const char *name);
long vget_int(json_object *body, const char *name, long fallback);

bool is_uuid(const char *s);
bool is_email(const char *s);
