/*
 * platforms.c - the platform rules table.
 */
#include "platforms.h"

#include <string.h>

const struct platform_rule platform_rules[] = {
	/* name        hard max  recommended   hashtags rec  hard */
	{ "email",      50000,    300, 1500,    0, 0,          0 },
	{ "linkedin",    3000,    150, 1300,    1, 3,          30 },
	{ "twitter",      280,     71,  200,    1, 2,          10 },
	{ "facebook",   63206,     40,  250,    0, 2,          30 },
	{ "instagram",   2200,    138, 1000,    3, 10,         30 },
	{ "google_ads",    90,     60,   90,    0, 0,          0 },
	{ NULL, 0, 0, 0, 0, 0, 0 },
};

const char *const platform_names[] = { "email", "linkedin", "twitter", "facebook", "instagram", "google_ads", NULL };
const char *const content_type_names[] = { "email", "social_post", "ad_copy", NULL };

static const struct {
	const char *content_type;
	const char *platforms[7];
} accepts[] = {
	{ "email", { "email", NULL } },
	{ "social_post", { "linkedin", "twitter", "facebook", "instagram", NULL } },
	{ "ad_copy", { "google_ads", "facebook", "linkedin", "instagram", "twitter", NULL } },
};

const struct platform_rule *platform_find(const char *name)
{
	for (const struct platform_rule *p = platform_rules; p->name; p++)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

bool content_type_known(const char *name)
{
	for (const char *const *t = content_type_names; *t; t++)
		if (strcmp(*t, name) == 0)
			return true;
	return false;
}

bool platform_accepts(const char *content_type, const char *platform)
{
	for (size_t i = 0; i < sizeof(accepts) / sizeof(accepts[0]); i++) {
		if (strcmp(accepts[i].content_type, content_type) != 0)
			continue;
		for (const char *const *p = accepts[i].platforms; *p; p++)
			if (strcmp(*p, platform) == 0)
				return true;
	}
	return false;
}
