/*
 * content.h - content items: the platform checks every stored item passes,
 * and the server-side fields (score, breakdown, metadata) every stored item
 * gets. Used by the content routes (manual items) and by generation.
 */
#pragma once

#include <json-c/json.h>

#include "arena.h"
#include "quality.h"
#include "validate.h"

/* Field table for a content item in a request body (POST; PATCH validates partially). */
#define CONTENT_ITEM_FIELDS                                                          \
	VENUM("contentType", V_REQUIRED, content_type_names),                        \
	VENUM("platform", V_REQUIRED, platform_names),                               \
	VSTR("subjectLine", V_NULLABLE, 0, SUBJECT_MAX),                             \
	VSTR("preheader", V_NULLABLE, 0, PREHEADER_MAX),                             \
	VSTR("contentBody", V_REQUIRED, 1, PLATFORM_BODY_MAX), /* each platform's own limit: content_item_check() */ \
	VSTR("callToAction", V_NULLABLE, 0, CTA_MAX),                                \
	VSTRS("hashtags", 0, 0, HASHTAGS_MAX, HASHTAG_MAX_CHARS),                    \
	VURL("visualUrl", V_NULLABLE, 2048),                                         \
	VSTRS("headlines", 0, 0, AD_HEADLINES_MAX, AD_HEADLINE_MAX),                 \
	VSTRS("descriptions", 0, 0, AD_DESCRIPTIONS_MAX, AD_DESCRIPTION_MAX)
extern const struct vfield content_item_fields[]; /* CONTENT_ITEM_FIELDS, VEND (needs platforms.h) */

/*
 * Checks what the field table cannot: the content type suits the platform,
 * the body and headlines fit the platform's hard limits, hashtags are allowed
 * there and well-formed. Adds errors to errs; returns errs->count.
 */
int content_item_check(json_object *item, struct verrors *errs);

struct content_context {
	const char *keywords;		/* campaign keywords; may be NULL */
	json_object *persona_terms;	/* JSON array of strings; may be NULL */
	const char *product;		/* what is promoted; may be NULL */
	enum quality_emoji_policy emoji_policy;	/* default sparing; a brand profile's emojiPolicy */
	int max_grade;			/* reading grade target (readingLevel.maxGrade); 0: none */
};

/* Where an item came from: its metadata. */
struct content_origin {
	const char *generated_by;	/* ai, builtin or manual */
	const char *model;		/* NULL for manual */
	const char *prompt_version;
	const char *job_id;
	const char *slot;		/* "type/platform/variant" within a job, or NULL */
	long tokens;
};

/*
 * Scores item (in place: qualityScore, qualityBreakdown) and sets its
 * metadata from origin (origin NULL keeps the existing metadata and marks it
 * edited). Returns the item serialised, arena-owned, without id or timestamps
 * for a new item (the database adds them).
 */
const char *content_item_finish(arena *a, json_object *item, const struct content_context *ctx,
				const struct content_origin *origin);
