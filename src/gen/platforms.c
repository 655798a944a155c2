/*
 * platforms.c - the table of content types, platforms and objectives.
 */
#include "platforms.h"

#include <errno.h>
#include <string.h>

#include <json-c/json.h>

const char *const shape_names[N_SHAPES] = { "email", "social_post", "search_ad", "social_ad" };

const char *const layout_names[N_LAYOUTS] = { "none", "short", "caption", "brief", "long" };

const struct platform_rule platform_rules[N_PLATFORMS + 1] = {
	/* name       hard max  recommended  hashtags: rec, hard, written  builtin post  ad title  headlines  descr.  links  visual */
	{ "email",      50000,    300, 1500,    0, 0,   0,  0,  LAYOUT_NONE,       0,       0, 0, 0,    0, 0, 0, 3,   0,    0 },
	{ "linkedin",    3000,    150, 1300,    1, 3,  30,  3,  LAYOUT_LONG,      40,       0, 0, 0,    0, 0, 0, 2,   1200, 628 },
	{ "twitter",      280,     71,  200,    1, 2,  10,  2,  LAYOUT_SHORT,     40,       0, 0, 0,    0, 0, 0, 1,   1600, 900 },
	{ "facebook",   63206,     40,  250,    0, 2,  30,  2,  LAYOUT_BRIEF,     40,       0, 0, 0,    0, 0, 0, 2,   1200, 628 },
	{ "instagram",   2200,    138, 1000,    3, 10, 30,  6,  LAYOUT_CAPTION,   40,       0, 0, 0,    0, 0, 0, 0,   1080, 1080 },
	{ "google_ads",    90,     60,   90,    0, 0,   0,  0,  LAYOUT_NONE,       0,       3, 15, 30,  2, 4, 90, 0,  1200, 628 },
	{ NULL, 0, 0, 0, 0, 0, 0, 0, LAYOUT_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
};

const char *const platform_names[N_PLATFORMS + 1] = {
	"email", "linkedin", "twitter", "facebook", "instagram", "google_ads", NULL,
};

const struct content_type content_types[N_CONTENT_TYPES] = {
	[CT_EMAIL] = { "email", "marketing email", { "email", NULL }, { SHAPE_EMAIL } },
	[CT_SOCIAL_POST] = { "social_post", "social media post", { "linkedin", "twitter", "facebook", "instagram", NULL },
			     { SHAPE_SOCIAL_POST, SHAPE_SOCIAL_POST, SHAPE_SOCIAL_POST, SHAPE_SOCIAL_POST } },
	[CT_AD_COPY] = { "ad_copy", "ad", { "google_ads", "facebook", "linkedin", "instagram", "twitter", NULL },
			 { SHAPE_SEARCH_AD, SHAPE_SOCIAL_AD, SHAPE_SOCIAL_AD, SHAPE_SOCIAL_AD, SHAPE_SOCIAL_AD } },
};

const char *const content_type_names[N_CONTENT_TYPES + 1] = { "email", "social_post", "ad_copy", NULL };

const char *const job_default_types[] = { "email", "social_post", NULL };
const char *const job_default_platforms[] = { "email", "linkedin", NULL };

const char *const objective_names[N_OBJECTIVES + 1] = { "awareness", "consideration", "conversion", NULL };

const struct platform_rule *platform_find(const char *name)
{
	for (const struct platform_rule *p = platform_rules; name && p->name; p++)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

const struct content_type *content_type_find(const char *name)
{
	for (size_t i = 0; name && i < N_CONTENT_TYPES; i++)
		if (strcmp(content_types[i].name, name) == 0)
			return &content_types[i];
	return NULL;
}

bool content_type_known(const char *name)
{
	return content_type_find(name) != NULL;
}

int platform_shape(const char *content_type, const char *platform, enum shape *out)
{
	const struct content_type *t = content_type_find(content_type);
	for (size_t i = 0; t && platform && t->platforms[i]; i++)
		if (strcmp(t->platforms[i], platform) == 0) {
			*out = t->shapes[i];
			return 0;
		}
	return -ENOENT;
}

bool platform_accepts(const char *content_type, const char *platform)
{
	enum shape s;
	return platform_shape(content_type, platform, &s) == 0;
}

int objective_index(const char *name)
{
	for (int i = 0; name && objective_names[i]; i++)
		if (strcmp(objective_names[i], name) == 0)
			return i;
	return -ENOENT;
}

static void add_int(json_object *o, const char *key, int v)
{
	json_object_object_add(o, key, json_object_new_int(v));
}

static json_object *platform_json(const struct platform_rule *p)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(p->name));
	add_int(o, "bodyMax", p->body_max);
	add_int(o, "bodyMinRecommended", p->body_min_rec);
	add_int(o, "bodyMaxRecommended", p->body_max_rec);
	add_int(o, "hashtagsMinRecommended", p->hashtags_min_rec);
	add_int(o, "hashtagsMaxRecommended", p->hashtags_max_rec);
	add_int(o, "hashtagsMax", p->hashtags_max);
	add_int(o, "hashtagsWritten", p->hashtags_written);
	json_object_object_add(o, "postLayout", json_object_new_string(layout_names[p->layout]));
	add_int(o, "adTitleMax", p->ad_title_max);
	add_int(o, "headlinesMin", p->headlines_min);
	add_int(o, "headlinesMax", p->headlines_max);
	add_int(o, "headlineMax", p->headline_max);
	add_int(o, "descriptionsMin", p->descriptions_min);
	add_int(o, "descriptionsMax", p->descriptions_max);
	add_int(o, "descriptionMax", p->description_max);
	add_int(o, "linksMaxRecommended", p->links_max_rec);
	add_int(o, "visualWidth", p->visual_width);
	add_int(o, "visualHeight", p->visual_height);
	return o;
}

json_object *platform_table_json(void)
{
	json_object *root = json_object_new_object(), *list = json_object_new_array();
	for (const struct platform_rule *p = platform_rules; p->name; p++)
		json_object_array_add(list, platform_json(p));
	json_object_object_add(root, "platforms", list);
	list = json_object_new_array();
	for (size_t i = 0; i < N_CONTENT_TYPES; i++) {
		const struct content_type *t = &content_types[i];
		json_object *o = json_object_new_object(), *on = json_object_new_array();
		json_object_object_add(o, "name", json_object_new_string(t->name));
		json_object_object_add(o, "noun", json_object_new_string(t->noun));
		for (size_t k = 0; t->platforms[k]; k++) {
			json_object *pair = json_object_new_object();
			json_object_object_add(pair, "platform", json_object_new_string(t->platforms[k]));
			json_object_object_add(pair, "shape", json_object_new_string(shape_names[t->shapes[k]]));
			json_object_array_add(on, pair);
		}
		json_object_object_add(o, "platforms", on);
		json_object_array_add(list, o);
	}
	json_object_object_add(root, "contentTypes", list);
	list = json_object_new_array();
	for (const char *const *o = objective_names; *o; o++)
		json_object_array_add(list, json_object_new_string(*o));
	json_object_object_add(root, "objectives", list);
	json_object *limits = json_object_new_object();
	static const struct { const char *key; int v; } shared[] = {
		{ "bodyMax", PLATFORM_BODY_MAX },	{ "subjectMax", SUBJECT_MAX },
		{ "subjectRecommended", SUBJECT_RECOMMENDED }, { "preheaderMin", PREHEADER_MIN },
		{ "preheaderMax", PREHEADER_MAX },	{ "callToActionMax", CTA_MAX },
		{ "callToActionRecommended", CTA_RECOMMENDED }, { "hashtagMaxChars", HASHTAG_MAX_CHARS },
		{ "hashtagsMax", HASHTAGS_MAX },	{ "headlineMax", AD_HEADLINE_MAX },
		{ "headlinesMax", AD_HEADLINES_MAX },	{ "descriptionMax", AD_DESCRIPTION_MAX },
		{ "descriptionsMax", AD_DESCRIPTIONS_MAX },
	};
	for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]); i++)
		add_int(limits, shared[i].key, shared[i].v);
	json_object_object_add(root, "limits", limits);
	return root;
}

bool platform_lists_meet(json_object *o)
{
	json_object *types, *platforms;
	if (!o || !json_object_object_get_ex(o, "contentTypes", &types) ||
	    !json_object_object_get_ex(o, "platforms", &platforms))
		return true;
	for (size_t i = 0; i < json_object_array_length(types); i++)
		for (size_t k = 0; k < json_object_array_length(platforms); k++)
			if (platform_accepts(json_object_get_string(json_object_array_get_idx(types, i)),
					     json_object_get_string(json_object_array_get_idx(platforms, k))))
				return true;
	return false;
}
