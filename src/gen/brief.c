/*
 * brief.c - a generation brief from the request, the campaign and its persona.
 */
#include "brief.h"

#include <string.h>

#include "json.h"

static const char *str(json_object *o, const char *key)
{
	json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	const char *s = json_object_get_string(v);
	return *s ? s : NULL;
}

static int num(json_object *o, const char *key, int fallback)
{
	json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return fallback;
	return json_object_get_int(v);
}

static const char *first(const char *a, const char *b)
{
	return a ? a : b;
}

static struct gen_list list(arena *a, json_object *o, const char *key, json_object *terms)
{
	json_object *v;
	struct gen_list l = { NULL, 0 };
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_array))
		return l;
	const char **items = arena_alloc(a, (json_object_array_length(v) + 1) * sizeof(*items));
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		json_object *s = json_object_array_get_idx(v, i);
		if (json_object_is_type(s, json_type_string)) {
			items[l.n++] = json_object_get_string(s);
			json_object_array_add(terms, json_object_get(s));
		}
	}
	l.items = items;
	return l;
}

void brief_fill(arena *a, struct gen_brief *b, struct content_context *score, json_object *body,
		json_object *campaign, json_object *persona)
{
	json_object *settings = campaign ? json_object_object_get(campaign, "generationSettings") : NULL;
	if (!persona && campaign) {
		persona = json_object_object_get(campaign, "persona");
		if (persona && !json_object_is_type(persona, json_type_object))
			persona = NULL;
	}
	b->product = first(str(body, "product"), str(campaign, "product")); /* never the campaign's name */
	b->description = str(campaign, "description");
	b->objective = first(first(str(body, "objective"), str(campaign, "objective")), "awareness");
	b->tone = first(str(body, "tone"), str(campaign, "tone"));
	b->keywords = first(str(body, "keywords"), str(campaign, "keywords"));
	b->custom_instructions = first(str(body, "customInstructions"), str(settings, "customInstructions"));
	b->creativity = num(body, "creativityLevel", num(settings, "creativityLevel", 5));
	b->seed = first(first(str(campaign, "id"), str(persona, "id")), first(b->product, ""));

	json_object *terms = json_own(a, json_object_new_array());
	b->persona_name = str(persona, "name");
	b->persona_description = str(persona, "description");
	b->occupation = str(persona, "occupation");
	b->age_range = str(persona, "ageRange");
	b->location = str(persona, "location");
	b->interests = list(a, persona, "interests", terms);
	b->pain_points = list(a, persona, "painPoints", terms);
	b->goals = list(a, persona, "goals", terms);
	*score = (struct content_context){ .keywords = b->keywords, .persona_terms = terms, .product = b->product };
}
