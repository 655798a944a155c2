/*
 * schemas.h - every request body's field table, listed by route.
 *
 * The tables live beside their handlers (auth.c, personas.c, ...); each
 * handler file also exports one list of {route, fields, partial} rows, so
 * that the fuzzers and tests can walk every body schema the API validates
 * without a second copy of the tables.
 */
#pragma once

#include <stdbool.h>

#include "validate.h"

struct body_schema {
	const char *route;	     /* "POST /api/personas" */
	const struct vfield *fields;
	bool partial;		     /* PATCH: validate_body_partial() */
};

/* One list per handler file, each ending with a { NULL } row. */
extern const struct body_schema auth_body_schemas[];
extern const struct body_schema send_body_schemas[];
extern const struct body_schema persona_body_schemas[];
extern const struct body_schema brand_profile_body_schemas[];
extern const struct body_schema campaign_body_schemas[];
extern const struct body_schema content_body_schemas[];
extern const struct body_schema generation_body_schemas[];
extern const struct body_schema job_body_schemas[];
extern const struct body_schema contact_body_schemas[];
extern const struct body_schema list_body_schemas[];
extern const struct body_schema export_body_schemas[];
extern const struct body_schema analytics_body_schemas[];
extern const struct body_schema ab_test_body_schemas[];

/* The lists above, ending with NULL. */
extern const struct body_schema *const body_schema_lists[];
