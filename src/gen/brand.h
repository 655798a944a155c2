/*
 * brand.h - holding content items to a brand voice profile.
 *
 * A profile (the API's brandProfile JSON, parsed by brand_profile_parse)
 * says which words never appear (forbiddenTerms, competitors), which words
 * are said another way (preferredTerms), which disclaimers every item of a
 * content type / platform carries, and how many emoji an item may have.
 *
 * brand_enforce() makes a generated item comply, in place: forbidden terms
 * and competitor names (case-insensitive, whole words) are replaced with the
 * preferred term that replaces them, else removed with the whitespace and
 * punctuation around them tidied; preferred terms replace what they replace;
 * each applicable disclaimer missing from the body is appended inside the
 * platform's hard limit (shortening the copy when needed); the emoji policy
 * is applied. brand_check() only looks (manual content): the same findings,
 * nothing changed, the first violation first.
 *
 * Pure functions over an arena and json-c: no database, no logging, no clock.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "validate.h"

#define BRAND_EMOJI_SPARING_MAX 2 /* emoji an item may carry under the "sparing" policy */
#define BRAND_MIN_COPY 20	  /* characters of copy that must remain beside the disclaimers */

enum brand_emoji { BRAND_EMOJI_NONE, BRAND_EMOJI_SPARING, BRAND_EMOJI_FREE };
extern const char *const brand_emoji_names[]; /* by enum brand_emoji, NULL-terminated */

struct brand_term {
	const char *term;		/* what to say */
	const char *const *replaces;	/* instead of these */
	size_t nreplaces;
};

struct brand_disclaimer {
	const char *text;
	const char *const *content_types; /* where it applies; none listed: every content type */
	size_t ncontent_types;
	const char *const *platforms;	  /* none listed: every platform */
	size_t nplatforms;
};

struct brand_profile {
	const char *id;
	long version;
	const char *name;
	const char *voice;		/* may be "" */
	int formality;			/* 1..5 */
	enum brand_emoji emoji;
	int max_grade;			/* 0: none */
	const struct brand_term *preferred;
	size_t npreferred;
	const char *const *forbidden;
	size_t nforbidden;
	const char *const *competitors;
	size_t ncompetitors;
	const struct brand_disclaimer *disclaimers;
	size_t ndisclaimers;
	const char *const *examples;
	size_t nexamples;
	/* set by brand_profile_parse: the profile's terms as one matcher, built on first use in the
	 * profile's arena and kept with it (one build a request or a job, not one an item) */
	struct brand_rules_cache *cache;
};

/*
 * Fills *ret from a brandProfile JSON object (as brand_profile_json() in SQL
 * returns it). Strings point into o, which must outlive *ret; arrays are
 * arena-owned. -EINVAL when o is not an object (ret untouched).
 */
int brand_profile_parse(arena *a, json_object *o, struct brand_profile *ret);

/* Whether disclaimer d applies to content_type on platform. */
bool brand_disclaimer_applies(const struct brand_disclaimer *d, const char *content_type, const char *platform);

enum brand_kind { BRAND_FORBIDDEN, BRAND_COMPETITOR, BRAND_PREFERRED, BRAND_DISCLAIMER, BRAND_EMOJI };
enum brand_action {
	BRAND_FOUND,	/* brand_check(): present, left as it is */
	BRAND_REPLACED,	/* replaced with `with` */
	BRAND_REMOVED,	/* taken out */
	BRAND_ADDED,	/* a disclaimer appended */
};

struct brand_finding {
	enum brand_kind kind;
	enum brand_action action;
	const char *term;	/* the term, competitor or disclaimer as the profile spells it; NULL for emoji */
	const char *field;	/* subjectLine, contentBody, headlines, ... */
	const char *with;	/* BRAND_REPLACED: the preferred term */
	int count;		/* occurrences in that field */
	struct brand_finding *next;
};

struct brand_report {
	const struct brand_profile *profile;
	struct brand_finding *head, **tail; /* in the order found */
	int disclaimers;	/* applicable disclaimers checked */
	bool shortened;		/* the copy was shortened to make room for a disclaimer */
	bool llm_repair;	/* the model was asked to rewrite without forbidden terms (set by the caller) */
	bool violations_allowed; /* brand_check() findings stored on purpose (allowBrandViolations) */
	const char *error;	/* brand_enforce() failure: why */
};

void brand_report_init(struct brand_report *r, const struct brand_profile *p);

/*
 * Makes item (a content item JSON object with contentType and platform)
 * comply with p, in place, recording what it found and did in rep. Returns
 * 0, or -EMSGSIZE when an applicable disclaimer cannot fit the platform's
 * limit beside BRAND_MIN_COPY characters of copy (rep->error says which; the
 * item must then not be stored).
 */
int brand_enforce(arena *a, const struct brand_profile *p, json_object *item, struct brand_report *rep);

/*
 * Checks item against p without changing it: every forbidden term,
 * competitor, replaced word, missing disclaimer and emoji over the policy is
 * a finding (action BRAND_FOUND), the first one found first. Returns the
 * number of findings (0: compliant).
 */
int brand_check(arena *a, const struct brand_profile *p, json_object *item, struct brand_report *rep);

/* A sentence naming finding f, for 422 problems and LLM repair prompts: `uses "cheap", a term ...`. */
const char *brand_finding_message(arena *a, const struct brand_finding *f);

/*
 * Adds one error per forbidden term or competitor name present in item to
 * errs (field, brand_finding_message): what an LLM repair is asked to fix.
 * Returns how many it added.
 */
int brand_forbidden_errors(arena *a, const struct brand_profile *p, json_object *item, struct verrors *errs);

/*
 * Records rep on a finished item (after content_item_finish): sets
 * qualityBreakdown.brandFit, metadata.brandProfileId and
 * metadata.brandProfileVersion; findings kept on purpose cap qualityScore at
 * BRAND_VIOLATION_SCORE_CAP. Returns the item serialised, arena-owned.
 */
#define BRAND_VIOLATION_SCORE_CAP 60
const char *brand_annotate(arena *a, json_object *item, const struct brand_report *rep);

/* The brandFit part alone (a new json object the caller owns). */
json_object *brand_fit_json(const struct brand_report *rep);

struct content_context;
/* Points the quality score's emoji policy and reading-grade target at p's (p NULL: unchanged). */
void brand_score_context(const struct brand_profile *p, struct content_context *ctx);
