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
	V_DATE,		/* "YYYY-MM-DD", a real calendar day */
	V_DECIMAL,	/* a JSON number >= 0 with at most 2 decimals and 12 integer digits */
	V_URL,		/* http(s) URL, at most max characters */
	V_STR_ARRAY,	/* min..max items; each 1..item_max chars, or one of values[] */
	V_OBJECT,	/* nested object checked against sub[] */
	V_OBJECT_ARRAY,	/* min..max objects, each checked against sub[] */
	V_CURRENCY,	/* an active ISO 4217 code */
	V_TIMESTAMP,	/* RFC 3339 date-time with a time zone: "2026-12-03T12:00:00Z" */
	V_ATTRIBUTES,	/* object of at most max scalar members (names 1..64 chars; strings at most
			   item_max chars, numbers, booleans): merge fields */
	V_NUMBER,	/* a JSON number (integer or not) in [fmin, fmax] */
};

enum {
	V_REQUIRED = 1 << 0,
	V_NULLABLE = 1 << 1,
	V_UNIQUE = 1 << 2, /* V_STR_ARRAY: no repeated items */
};

struct vfield {
	const char *name;
	enum vtype type;
	unsigned flags;
	long min, max;
	const char *const *values;  /* V_ENUM, V_STR_ARRAY: allowed values, NULL-terminated */
	long item_max;		    /* V_STR_ARRAY: longest item in characters */
	const struct vfield *sub;   /* V_OBJECT, V_OBJECT_ARRAY */
	double fmin, fmax;	    /* V_NUMBER */
};

/* Table rows, one macro per kind: reading a table reads the rules. */
#define VSTR(n, fl, lo, hi) { .name = n, .type = V_STRING, .flags = fl, .min = lo, .max = hi }
#define VEMAIL(n, fl) { .name = n, .type = V_EMAIL, .flags = fl }
#define VINT(n, fl, lo, hi) { .name = n, .type = V_INT, .flags = fl, .min = lo, .max = hi }
#define VBOOL(n, fl) { .name = n, .type = V_BOOL, .flags = fl }
#define VENUM(n, fl, vals) { .name = n, .type = V_ENUM, .flags = fl, .values = vals }
#define VUUID(n, fl) { .name = n, .type = V_UUID, .flags = fl }
#define VDATE(n, fl) { .name = n, .type = V_DATE, .flags = fl }
#define VDECIMAL(n, fl) { .name = n, .type = V_DECIMAL, .flags = fl }
#define VURL(n, fl, hi) { .name = n, .type = V_URL, .flags = fl, .max = hi }
#define VSTRS(n, fl, lo, hi, itemmax) \
	{ .name = n, .type = V_STR_ARRAY, .flags = fl, .min = lo, .max = hi, .item_max = itemmax }
#define VENUMS(n, fl, lo, hi, vals) \
	{ .name = n, .type = V_STR_ARRAY, .flags = fl, .min = lo, .max = hi, .values = vals }
#define VOBJ(n, fl, subfields) { .name = n, .type = V_OBJECT, .flags = fl, .sub = subfields }
#define VOBJS(n, fl, lo, hi, subfields) \
	{ .name = n, .type = V_OBJECT_ARRAY, .flags = fl, .min = lo, .max = hi, .sub = subfields }
#define VCURRENCY(n, fl) { .name = n, .type = V_CURRENCY, .flags = fl }
#define VTIMESTAMP(n, fl) { .name = n, .type = V_TIMESTAMP, .flags = fl }
#define VATTRS(n, fl, hi, itemmax) \
	{ .name = n, .type = V_ATTRIBUTES, .flags = fl, .max = hi, .item_max = itemmax }
#define VNUMBER(n, fl, lo, hi) { .name = n, .type = V_NUMBER, .flags = fl, .fmin = lo, .fmax = hi }
#define VEND { .name = NULL }

struct verror {
	const char *field;
	const char *message;
	struct verror *next;
};

/* A response lists at most this many errors; count still says how many there were. */
#define VERRORS_LISTED 50

struct verrors {
	arena *arena;
	struct verror *head, **tail;
	int count; /* every error found; only the first VERRORS_LISTED are kept */
};

void verrors_init(struct verrors *e, arena *a);
/* Records an error; past VERRORS_LISTED only counts it (the message is not even formatted). */
void verrors_add(struct verrors *e, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Checks body (must be an object) against fields[0..NULL-name sentinel).
 * Adds one error per bad or unknown field to errs; returns errs->count.
 */
int validate_body(json_object *body, const struct vfield *fields, struct verrors *errs);
/* The same for PATCH: top-level V_REQUIRED fields may be absent (nested ones still apply). */
int validate_body_partial(json_object *body, const struct vfield *fields, struct verrors *errs);

/* Field accessors for a body that passed validation: NULL / fallback when absent or null. */
const char *vget_str(json_object *body, const char *name);
long vget_int(json_object *body, const char *name, long fallback);

bool is_uuid(const char *s);
/* Lower-cases a UUID is_uuid() accepted, in place: ids are stored, and compared as text, in lower case. */
void uuid_lowercase(char *s);
/* The value of the hex digit c (either case), or -1. */
int hex_value(char c);
bool is_date(const char *s);
bool is_decimal(const char *s);
bool is_http_url(const char *s);
bool is_currency(const char *s);
bool is_email(const char *s);
bool is_rfc3339(const char *s);
