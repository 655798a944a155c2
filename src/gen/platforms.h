/*
 * platforms.h - what each platform allows and what reads best there.
 *
 * One table drives validation (hard limits: nothing longer is ever stored),
 * scoring (recommended ranges) and, later, generation and repair.
 */
#pragma once

#include <stdbool.h>

#define PLATFORM_BODY_MAX 63206 /* the longest any platform allows (facebook) */
#define SUBJECT_MAX 78	     /* email subject hard limit */
#define SUBJECT_RECOMMENDED 50
#define PREHEADER_MIN 40
#define PREHEADER_MAX 130
#define CTA_MAX 200
#define HASHTAG_MAX_CHARS 100
#define HASHTAGS_MAX 30
#define AD_HEADLINE_MAX 30
#define AD_HEADLINES_MIN 3
#define AD_HEADLINES_MAX 15
#define AD_DESCRIPTION_MAX 90
#define AD_DESCRIPTIONS_MIN 2
#define AD_DESCRIPTIONS_MAX 4

struct platform_rule {
	const char *name;
	int body_max;			/* hard limit, characters */
	int body_min_rec, body_max_rec;	/* what reads best */
	int hashtags_min_rec, hashtags_max_rec;
	int hashtags_max;		/* hard limit */
};

extern const struct platform_rule platform_rules[];
extern const char *const platform_names[];	/* NULL-terminated, for validation tables */
extern const char *const content_type_names[];

/* The rule for a platform name, or NULL. */
const struct platform_rule *platform_find(const char *name);

/* Whether name is one of content_type_names. */
bool content_type_known(const char *name);

/* Whether content_type can be published on platform (email only by email, ...). */
bool platform_accepts(const char *content_type, const char *platform);
