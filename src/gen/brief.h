/*
 * brief.h - everything a generator needs to write one content item.
 *
 * Built from a request body, a campaign and its persona; strings are owned by
 * whoever built the brief (a request or job arena) and may be NULL.
 */
#pragma once

#include <stddef.h>
#include <stdbool.h>

#define PROMPT_VERSION "adcraft-prompts/1"

struct brand_profile;

struct gen_list {
	const char *const *items;
	size_t n;
};

struct gen_brief {
	const char *content_type;	/* email | social_post | ad_copy */
	const char *platform;
	int variant;			/* 0-based; variants of one brief differ visibly */
	const char *seed;		/* stable identity for determinism (campaign id, or "") */

	const char *product;		/* what is promoted: request or campaign "product"; may be NULL */
	const char *description;	/* campaign description */
	const char *objective;		/* awareness | consideration | conversion */
	const char *tone;
	const char *keywords;		/* comma separated */
	const char *custom_instructions;
	int creativity;			/* 1..10 */
	bool include_visuals;

	const char *persona_name;
	const char *persona_description;
	const char *occupation;
	const char *age_range;
	const char *location;
	struct gen_list interests, pain_points, goals;

	const struct brand_profile *brand; /* brand.h: what the item is held to; NULL: none */
};

#include <json-c/json.h>

#include "arena.h"
#include "content.h"

/*
 * Fills b from, in order of precedence, a request body (product, objective,
 * tone, keywords, customInstructions, creativityLevel), a campaign context
 * ({id, name, product, description, objective, tone, keywords,
 * generationSettings, persona}; the name is internal and never the product)
 * and a persona (persona JSON as the API shows it). Any may be
 * NULL. Content type, platform and variant are left to the caller. Also
 * fills the scoring context (keywords, persona terms). Strings point into
 * the JSON objects, which must outlive b.
 */
void brief_fill(arena *a, struct gen_brief *b, struct content_context *score, json_object *body,
		json_object *campaign, json_object *persona);
