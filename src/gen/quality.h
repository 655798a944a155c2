/*
 * quality.h - a deterministic, explainable quality score for a content item.
 *
 * The score (0-100) is a weighted mean of independent checks, each with its
 * own 0-100 score and a one-line note saying why: length fit for the
 * platform, readability, call to action, keyword coverage, hashtag count,
 * spam words, the email subject line, when a persona is known how well the
 * copy speaks to it, and whether it reads as broken or careless: truncation,
 * grammar slips, keyword stuffing, repetition, shouting, punctuation, emoji
 * against the policy, links, reading grade against a target (checks.h holds
 * the word-level tests). Checks that do not apply are left out, not scored 0.
 * Spam also scales the total down (x0.6 at worst): spammy copy is never
 * "good"; a broken item (truncation or grammar) scores at most 60.
 * docs/generation.md publishes the weights.
 * Same input, same output: no clock, no randomness, no locale.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define QUALITY_MAX_PARTS 24	/* 17 checks here, room for brandFit and more */
#define QUALITY_BROKEN_MAX 60	/* the most a truncated or ungrammatical item scores */
#define QUALITY_PART_PASS 60	/* a check passes at this score or above */

/* How many emoji the copy may carry (a brand profile's emojiPolicy). Zero is the default. */
enum quality_emoji_policy { EMOJI_SPARING = 0, EMOJI_NONE, EMOJI_FREE };

/* The policy of that name (none|sparing|free); -EINVAL for anything else. */
int quality_emoji_policy_parse(const char *name, enum quality_emoji_policy *out);

struct quality_input {
	const char *content_type;
	const char *platform;
	const char *subject_line;	/* may be NULL */
	const char *preheader;		/* may be NULL */
	const char *body;
	const char *call_to_action;	/* may be NULL */
	const char *const *hashtags;
	size_t nhashtags;
	const char *keywords;		/* campaign keywords, comma separated; may be NULL */
	const char *const *persona_terms; /* persona interests, pain points, goals */
	size_t npersona_terms;
	const char *const *headlines;	/* search ads; may be NULL */
	size_t nheadlines;
	const char *const *descriptions;
	size_t ndescriptions;
	const char *product;		/* its name is expected to repeat; may be NULL */
	enum quality_emoji_policy emoji_policy;
	int max_grade;			/* reading grade target; 0: none */
};

struct quality_part {
	const char *name;
	int weight;
	int score;
	char note[120];
};

struct quality_result {
	int score;
	bool broken;			/* a truncation or grammar check failed: score capped */
	bool passes_all;		/* every part scored QUALITY_PART_PASS or more */
	int nparts;
	struct quality_part parts[QUALITY_MAX_PARTS];
};

void quality_score(const struct quality_input *in, struct quality_result *out);

/* Writes {"<check>": {"score": n, "weight": n, "note": "..."}, ...} */
void quality_breakdown_json(const struct quality_result *r, buf *b);
