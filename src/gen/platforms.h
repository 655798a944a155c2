/*
 * platforms.h - the one table of content types, platforms and objectives.
 *
 * Every list of allowed values (API validation, the prompt builder, the
 * builtin generator, the checks) reads these tables; the SQL CHECKs are
 * compared with them by tests/integration/test_platform_table.py through
 * `adcraft platforms`, which prints them as JSON.
 */
#pragma once

#include <stdbool.h>

#include <json-c/json.h>

/* Field limits shared by every platform (the content field table validates these). */
#define PLATFORM_BODY_MAX 63206 /* the longest any platform allows (facebook) */
#define SUBJECT_MAX 78		/* email subject hard limit */
#define SUBJECT_RECOMMENDED 50
#define PREHEADER_MIN 40
#define PREHEADER_MAX 130
#define CTA_MAX 200
#define CTA_RECOMMENDED 60	/* what the prompt asks for and the checks reward */
#define HASHTAG_MAX_CHARS 100
#define HASHTAGS_MAX 30		/* the most any platform allows */
#define AD_HEADLINE_MAX 30	/* the longest search-ad headline and description any platform allows */
#define AD_HEADLINES_MAX 15
#define AD_DESCRIPTION_MAX 90
#define AD_DESCRIPTIONS_MAX 4

/* Which fields an item has: the model's JSON schema and the writer follow it. */
enum shape {
	SHAPE_EMAIL,	   /* subjectLine, preheader, contentBody, callToAction */
	SHAPE_SOCIAL_POST, /* contentBody, callToAction, hashtags */
	SHAPE_SEARCH_AD,   /* headlines, descriptions, callToAction; the first of each is title and body */
	SHAPE_SOCIAL_AD,   /* subjectLine (the ad headline), contentBody, callToAction */
	N_SHAPES
};
extern const char *const shape_names[N_SHAPES];

/* How the builtin writer lays out a social post on the platform. */
enum post_layout {
	LAYOUT_NONE,	/* no social posts */
	LAYOUT_SHORT,	/* hook and call to action, cut to leave room for the hashtags */
	LAYOUT_CAPTION, /* hook, value, proof, call to action, "Link in bio." */
	LAYOUT_BRIEF,	/* hook and value, then the call to action */
	LAYOUT_LONG,	/* hook, two values, proof and call to action in paragraphs */
	N_LAYOUTS
};
extern const char *const layout_names[N_LAYOUTS];

struct platform_rule {
	const char *name;
	int body_max;			/* hard limit, characters */
	int body_min_rec, body_max_rec;	/* what reads best */
	int hashtags_min_rec, hashtags_max_rec;
	int hashtags_max;		/* hard limit */
	int hashtags_written;		/* how many the builtin writer adds */
	enum post_layout layout;	/* how the builtin writer lays out a post */
	int ad_title_max;		/* social ads: the headline (subjectLine) the prompt and writer keep to */
	int headlines_min, headlines_max, headline_max;		/* search ads; 0 where there are none */
	int descriptions_min, descriptions_max, description_max;
	int links_max_rec;		/* links in the copy that still read well (the checks) */
	int visual_width, visual_height; /* the image a post or ad carries (includeVisuals); 0: none */
};

#define N_PLATFORMS 6
extern const struct platform_rule platform_rules[]; /* N_PLATFORMS rows, then a NULL name */
extern const char *const platform_names[];	     /* NULL-terminated, for validation tables */

struct content_type {
	const char *name;
	const char *noun;			/* what the prompt asks for: "marketing email" */
	const char *platforms[N_PLATFORMS + 1];	/* where it is published, NULL-terminated */
	enum shape shapes[N_PLATFORMS];		/* the shape on each of those platforms */
};

enum { CT_EMAIL, CT_SOCIAL_POST, CT_AD_COPY, N_CONTENT_TYPES };
extern const struct content_type content_types[N_CONTENT_TYPES];
extern const char *const content_type_names[];	/* NULL-terminated */

/* What a generation job writes when neither it nor its campaign says (NULL-terminated). */
extern const char *const job_default_types[];
extern const char *const job_default_platforms[];

#define N_OBJECTIVES 3
extern const char *const objective_names[];	/* NULL-terminated; index order is the builtin writer's */

/* The rule for a platform name, or NULL. */
const struct platform_rule *platform_find(const char *name);

/* The content type of that name, or NULL. */
const struct content_type *content_type_find(const char *name);

/* Whether name is one of content_type_names. */
bool content_type_known(const char *name);

/* The shape of content_type on platform; -ENOENT when it is not published there. */
int platform_shape(const char *content_type, const char *platform, enum shape *out);

/* Whether content_type can be published on platform (email only by email, ...). */
bool platform_accepts(const char *content_type, const char *platform);

/*
 * Whether o's contentTypes and platforms (arrays of known names, as the
 * validators left them) make at least one pair platform_accepts(); an
 * absent list is true (the generator's defaults fill it).
 */
bool platform_lists_meet(json_object *o);

/* The index of an objective in objective_names, or -ENOENT. */
int objective_index(const char *name);


/* The whole table as JSON ({platforms, contentTypes, objectives, limits}), for `adcraft platforms`. */
json_object *platform_table_json(void);
