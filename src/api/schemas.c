/*
 * schemas.c - the list of every handler file's body schemas (schemas.h).
 */
#include "schemas.h"

#include <stddef.h>

const struct body_schema *const body_schema_lists[] = {
	auth_body_schemas,
	persona_body_schemas,
	brand_profile_body_schemas,
	campaign_body_schemas,
	content_body_schemas,
	generation_body_schemas,
	job_body_schemas,
	send_body_schemas,
	contact_body_schemas,
	list_body_schemas,
	export_body_schemas,
	analytics_body_schemas,
	ab_test_body_schemas,
	NULL,
};
