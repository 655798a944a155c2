/*
 * platforms.c - the table of content types, platforms and objectives.
 */
#include "platforms.h"

#include <errno.h>
#include <string.h>

const char *const shape_names[N_SHAPES] = { "email", "social_post", "search_ad", "social_ad" };

const struct platform_rule platform_rules[N_PLATFORMS + 1] = {
	/* name        hard max  recommended   hashtags: rec, hard, written  ad title  headlines  descriptions */
	{ "email",      50000,    300, 1500,    0, 0,   0,  0,                0,       0, 0, 0,    0, 0, 0 },
	{ "linkedin",    3000,    150, 1300,    1, 3,  30,  3,               40,       0, 0, 0,    0, 0, 0 },
	{ "twitter",      280,     71,  200,    1, 2,  10,  2,               40,       0, 0, 0,    0, 0, 0 },
	{ "facebook",   63206,     40,  250,    0, 2,  30,  2,               40,       0, 0, 0,    0, 0, 0 },
	{ "instagram",   2200,    138, 1000,    3, 10, 30,  6,               40,       0, 0, 0,    0, 0, 0 },
	{ "google_ads",    90,     60,   90,    0, 0,   0,  0,                0,       3, 15, 30,  2, 4, 90 },
	{ NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
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
