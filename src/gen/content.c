/*
 * content.c - content item checks and server-side fields.
 */
#include "content.h"

#include <ctype.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "platforms.h"
#include "quality.h"

const struct vfield content_item_fields[] = { CONTENT_ITEM_FIELDS, VEND };

static const char *get_str(json_object *o, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

static size_t array_len(json_object *o, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_array)
		       ? json_object_array_length(v)
		       : 0;
}

/* "#word" or "word": letters, digits and underscores (any script). */
static bool hashtag_ok(const char *s)
{
	if (*s == '#')
		s++;
	if (!*s)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (!(isalnum(*p) || *p == '_' || *p >= 0x80))
			return false;
	return true;
}

int content_item_check(json_object *item, struct verrors *errs)
{
	const char *type = get_str(item, "contentType"), *platform = get_str(item, "platform");
	const char *body = get_str(item, "contentBody");
	const struct platform_rule *rule = platform ? platform_find(platform) : NULL;
	if (!rule)
		return errs->count; /* the field table already said why */
	if (type && content_type_known(type) && !platform_accepts(type, platform))
		verrors_add(errs, "platform", "%s content cannot be published on %s", type, platform);
	size_t n = body ? utf8_length(body, strlen(body)) : 0;
	if (body && (long)n > rule->body_max)
		verrors_add(errs, "contentBody", "must be at most %d characters on %s (has %zu)", rule->body_max,
			    platform, n);
	size_t tags = array_len(item, "hashtags");
	if ((int)tags > rule->hashtags_max) {
		if (rule->hashtags_max)
			verrors_add(errs, "hashtags", "at most %d hashtags on %s", rule->hashtags_max, platform);
		else
			verrors_add(errs, "hashtags", "hashtags are not used on %s", platform);
	}
	json_object *list;
	if (json_object_object_get_ex(item, "hashtags", &list) && json_object_is_type(list, json_type_array))
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			const char *t = json_object_get_string(json_object_array_get_idx(list, i));
			if (t && !hashtag_ok(t))
				verrors_add(errs, arena_printf(errs->arena, "hashtags[%zu]", i),
					    "must be a word of letters, digits or underscores, optionally after #");
		}
	static const char *const ad_lists[] = { "headlines", "descriptions", NULL };
	for (const char *const *k = ad_lists; !rule->headlines_max && *k; k++)
		if (array_len(item, *k))
			verrors_add(errs, *k, "%s ads have no %s (only search ads do)", platform, *k);
	const char *preheader = get_str(item, "preheader");
	if (preheader && *preheader && type && strcmp(type, "email") != 0)
		verrors_add(errs, "preheader", "only emails have a preheader");
	return errs->count;
}

/* Collects a JSON array of strings as a C array on the arena. */
static const char *const *strings_of(arena *a, json_object *list, size_t *n)
{
	*n = list && json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
	const char **out = arena_alloc(a, (*n + 1) * sizeof(*out));
	for (size_t i = 0; i < *n; i++)
		out[i] = json_object_get_string(json_object_array_get_idx(list, i));
	out[*n] = NULL;
	return out;
}

static void set_str(json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, v ? json_object_new_string(v) : NULL);
}

const char *content_item_finish(arena *a, json_object *item, const struct content_context *ctx,
				const struct content_origin *origin)
{
	json_object *tags = NULL;
	json_object_object_get_ex(item, "hashtags", &tags);
	struct quality_input in = {
		.content_type = get_str(item, "contentType"),
		.platform = get_str(item, "platform"),
		.subject_line = get_str(item, "subjectLine"),
		.preheader = get_str(item, "preheader"),
		.body = get_str(item, "contentBody"),
		.call_to_action = get_str(item, "callToAction"),
		.keywords = ctx ? ctx->keywords : NULL,
		.product = ctx ? ctx->product : NULL,
		.emoji_policy = ctx ? ctx->emoji_policy : EMOJI_SPARING,
		.max_grade = ctx ? ctx->max_grade : 0,
	};
	in.hashtags = strings_of(a, tags, &in.nhashtags);
	json_object *heads = NULL, *descs = NULL;
	json_object_object_get_ex(item, "headlines", &heads);
	json_object_object_get_ex(item, "descriptions", &descs);
	in.headlines = strings_of(a, heads, &in.nheadlines);
	in.descriptions = strings_of(a, descs, &in.ndescriptions);
	in.persona_terms = strings_of(a, ctx ? ctx->persona_terms : NULL, &in.npersona_terms);

	struct quality_result q;
	quality_score(&in, &q);
	buf b;
	buf_init(&b, a, 1024);
	quality_breakdown_json(&q, &b);
	json_object_object_add(item, "qualityScore", json_object_new_int(q.score));
	/* Our own builder's output: it parses; were it ever not to, the item says null rather than crash. */
	json_object *breakdown = json_tokener_parse(buf_cstr(&b));
	json_object_object_add(item, "qualityBreakdown", breakdown);

	/* Optional fields are always present, null when unset: one shape for clients. */
	static const char *const optional[] = { "subjectLine", "preheader", "callToAction", "visualUrl", NULL };
	for (const char *const *k = optional; *k; k++)
		if (!json_object_object_get_ex(item, *k, NULL))
			json_object_object_add(item, *k, NULL);
	static const char *const lists[] = { "hashtags", "headlines", "descriptions", NULL };
	for (const char *const *k = lists; *k; k++)
		if (!json_object_object_get_ex(item, *k, &tags) || !tags)
			json_object_object_add(item, *k, json_object_new_array());

	if (origin) {
		json_object *m = json_object_new_object();
		set_str(m, "generatedBy", origin->generated_by);
		set_str(m, "model", origin->model);
		set_str(m, "promptVersion", origin->prompt_version);
		set_str(m, "jobId", origin->job_id);
		if (origin->slot)
			set_str(m, "slot", origin->slot);
		json_object_object_add(m, "generatedAt", NULL); /* set by the database when stored */
		json_object_object_add(m, "tokens", json_object_new_int64(origin->tokens));
		json_object_object_add(item, "metadata", m);
	} else {
		json_object *m;
		if (json_object_object_get_ex(item, "metadata", &m) && m)
			json_object_object_add(m, "edited", json_object_new_boolean(1));
	}
	return arena_strdup(a, json_object_to_json_string_ext(item, JSON_C_TO_STRING_PLAIN));
}
