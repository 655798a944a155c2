/*
 * quality.h - a deterministic, explainable quality score for a content item.
 *
 * The score (0-100) is a weighted mean of independent checks, each with its
 * own 0-100 score and a one-line note saying why: length fit for the
 * platform, readability, call to action, keyword coverage, hashtag count,
 * spam words, the email subject line and, when a persona is known, how well
 * the copy speaks to it. Checks that do not apply are left out, not scored 0.
 * Spam also scales the total down (x0.6 at worst): spammy copy is never "good".
 * Same input, same output: no clock, no randomness, no locale.
 */
#pragma once

#include <stddef.h>

#include "buf.h"

#define QUALITY_MAX_PARTS 8

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
};

struct quality_part {
	const char *name;
	int weight;
	int score;
	char note[120];
};

struct quality_result {
	int score;
	int nparts;
	struct quality_part parts[QUALITY_MAX_PARTS];
};

void quality_score(const struct quality_input *in, struct quality_result *out);

/* Writes {"<check>": {"score": n, "weight": n, "note": "..."}, ...} */
void quality_breakdown_json(const struct quality_result *r, buf *b);
