/*
 * abtest.h - what an A/B test says: its design (the sample each variant
 * needs), its results (per variant samples and successes from the analytics
 * rollups, the comparisons with the control) and the decision.
 *
 * Used by the API (create, patch, results) and the worker (re-evaluation
 * after a rollup, an email send's winnerAfter timeout). The statistics are
 * src/stats/ (abstats.h); this file only loads the counts, applies the
 * decision rule of docs/analytics.md "A/B tests" and shapes the JSON.
 * Library code: never logs; memory comes from the caller's arena.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abstats.h"
#include "arena.h"
#include "db.h"

#define ABTEST_MAX_VARIANTS 5

/* The sequential method results name (docs/analytics.md). */
#define ABTEST_METHOD "msprt"

enum abtest_decision { ABTEST_CONTINUE, ABTEST_WINNER, ABTEST_NO_DIFFERENCE };

struct abtest_arm {
	const char *key, *content_id;
	struct stats_arm counts;	/* n: impressions; k: the metric's successes (k <= n) */
};

struct abtest {
	const char *id, *user_id, *campaign_id, *status, *metric;
	const char *winner, *winner_reason; /* stored; NULL when none */
	double confidence, baseline, mde;
	uint64_t required;
	size_t n_arms;
	struct abtest_arm arms[ABTEST_MAX_VARIANTS];
	bool has_prev_p;
	double prev_p[ABTEST_MAX_VARIANTS - 1];	/* stored running minima (NaN: none) */

	/* abtest_evaluate() */
	struct stats_comparison cmp[ABTEST_MAX_VARIANTS - 1];
	enum abtest_decision decision;
	int decided;				/* the winning arm when decision is ABTEST_WINNER, else -1 */
};

/* Names of the metrics and the decisions, as the API spells them. */
extern const char *const abtest_metric_names[];
const char *abtest_decision_name(enum abtest_decision d);

/* The baseline rate a metric's power analysis assumes when the owner gives none; NaN for an unknown metric. */
double abtest_default_baseline(const char *metric);

/*
 * Samples per variant for n_variants variants (n_variants - 1 comparisons
 * with the control, Bonferroni-split alpha = 1 - confidence) at which the
 * sequential test itself (mSPRT, tau2 = stats_msprt_tau2) detects baseline *
 * (1 + mde) with this power: stats_msprt_sample_size, so that "the sample is
 * reached and nothing is significant" means no difference of the planned
 * size. 0 or -EINVAL (out untouched).
 */
int abtest_required_sample(double baseline, double mde, double confidence, double power, size_t n_variants,
			   uint64_t *out);

/*
 * Loads test_id (the owner's when user_id is not NULL) with each variant's
 * counts since started_at, into t (strings in a). 0; -ENOENT when there is
 * no such test; -EIO on a database error (db_error says why).
 */
int abtest_load(db *d, arena *a, const char *user_id, const char *test_id, struct abtest *t);

/*
 * Compares every variant with the control and decides (docs/analytics.md):
 * winner when the required sample is reached by every variant and a variant
 * is significantly better than the control (the best such one), or every
 * variant significantly worse (the control); no_difference when the sample
 * is reached and that is not so; else continue. A completed test keeps its
 * stored outcome. 0 or -EINVAL (the statistics refused the counts).
 */
int abtest_evaluate(struct abtest *t);

/* The arm with the best observed rate (the control on ties and without samples). */
int abtest_best_observed(const struct abtest *t);

/* The running minima after abtest_evaluate(), as a PostgreSQL array literal "{p1,p2}". */
const char *abtest_min_p_literal(arena *a, const struct abtest *t);

/* GET /api/ab-tests/:id/results of an evaluated test (API.md), in a. */
const char *abtest_results_json(arena *a, const struct abtest *t);
