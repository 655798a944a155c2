/*
 * abtest.c - an A/B test's design, results and decision (abtest.h).
 *
 * Counts come from analytics_hourly (STMT_AB_TEST_LOAD): per variant, the
 * impressions and the metric's successes of its content item since the hour
 * the test started (until it ended). Successes above impressions (events
 * sent without their impressions) are capped at the impressions: a rate is
 * never above 1.
 */
#include "abtest.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

const char *const abtest_metric_names[] = { "open_rate", "click_rate", "conversion_rate", NULL };

static const struct {
	const char *metric;
	double baseline;
} baselines[] = {
	{ "open_rate", 0.2 },
	{ "click_rate", 0.03 },
	{ "conversion_rate", 0.02 },
};

static const char *const decision_names[] = {
	[ABTEST_CONTINUE] = "continue",
	[ABTEST_WINNER] = "winner",
	[ABTEST_NO_DIFFERENCE] = "no_difference",
};

const char *abtest_decision_name(enum abtest_decision d)
{
	return decision_names[d];
}

double abtest_default_baseline(const char *metric)
{
	for (size_t i = 0; metric && i < sizeof(baselines) / sizeof(baselines[0]); i++)
		if (strcmp(baselines[i].metric, metric) == 0)
			return baselines[i].baseline;
	return NAN;
}

int abtest_required_sample(double baseline, double mde, double confidence, double power, size_t n_variants,
			   uint64_t *out)
{
	if (n_variants < 2 || n_variants > ABTEST_MAX_VARIANTS)
		return -EINVAL;
	return stats_msprt_sample_size(baseline, mde, 1 - confidence, power, (unsigned)(n_variants - 1),
				       stats_msprt_tau2(baseline, mde), out);
}

static double number(const PGresult *res, int col)
{
	return strtod(PQgetvalue(res, 0, col), NULL);
}

/* "{0.5,0.25}" (array_to_string of the stored minima: "0.5,0.25", or "") into t->prev_p. */
static void parse_prev_p(struct abtest *t, const char *s)
{
	t->has_prev_p = *s != '\0';
	for (size_t i = 0; i + 1 < ABTEST_MAX_VARIANTS; i++)
		t->prev_p[i] = NAN;
	for (size_t i = 0; t->has_prev_p && i + 1 < t->n_arms && *s; i++) {
		char *end;
		t->prev_p[i] = strtod(s, &end);
		s = *end == ',' ? end + 1 : end;
	}
}

int abtest_load(db *d, arena *a, const char *user_id, const char *test_id, struct abtest *t)
{
	const char *p[] = { test_id, user_id };
	PGresult *res;
	if (db_exec(d, a, STMT_AB_TEST_LOAD, p, &res) < 0)
		return -EIO;
	int rows = PQntuples(res);
	if (rows == 0)
		return -ENOENT;
	memset(t, 0, sizeof(*t));
	t->id = arena_strdup(a, PQgetvalue(res, 0, 0));
	t->user_id = arena_strdup(a, PQgetvalue(res, 0, 1));
	t->campaign_id = arena_strdup(a, PQgetvalue(res, 0, 2));
	t->status = arena_strdup(a, PQgetvalue(res, 0, 3));
	t->metric = arena_strdup(a, PQgetvalue(res, 0, 4));
	t->confidence = number(res, 5);
	t->baseline = number(res, 6);
	t->mde = number(res, 7);
	t->required = strtoull(PQgetvalue(res, 0, 8), NULL, 10);
	t->winner = PQgetisnull(res, 0, 9) ? NULL : arena_strdup(a, PQgetvalue(res, 0, 9));
	t->winner_reason = PQgetisnull(res, 0, 10) ? NULL : arena_strdup(a, PQgetvalue(res, 0, 10));
	t->n_arms = (size_t)(rows < ABTEST_MAX_VARIANTS ? rows : ABTEST_MAX_VARIANTS);
	for (size_t i = 0; i < t->n_arms; i++) {
		struct abtest_arm *arm = &t->arms[i];
		arm->key = arena_strdup(a, PQgetvalue(res, (int)i, 12));
		arm->content_id = arena_strdup(a, PQgetvalue(res, (int)i, 13));
		arm->counts.n = strtoull(PQgetvalue(res, (int)i, 14), NULL, 10);
		arm->counts.k = strtoull(PQgetvalue(res, (int)i, 15), NULL, 10);
		if (arm->counts.k > arm->counts.n)
			arm->counts.k = arm->counts.n;
	}
	parse_prev_p(t, PQgetvalue(res, 0, 11));
	t->decided = -1;
	return 0;
}

static double rate(const struct abtest_arm *arm)
{
	return arm->counts.n ? (double)arm->counts.k / (double)arm->counts.n : 0;
}

int abtest_best_observed(const struct abtest *t)
{
	int best = 0;
	for (size_t i = 1; i < t->n_arms; i++)
		if (rate(&t->arms[i]) > rate(&t->arms[best]))
			best = (int)i;
	return best;
}

static int arm_index(const struct abtest *t, const char *key)
{
	for (size_t i = 0; key && i < t->n_arms; i++)
		if (strcmp(t->arms[i].key, key) == 0)
			return (int)i;
	return -1;
}

/* The decision rule on evaluated comparisons (abtest.h). */
static void decide(struct abtest *t)
{
	bool reached = true, all_worse = true;
	int best = -1;
	for (size_t i = 0; i < t->n_arms; i++)
		reached = reached && t->arms[i].counts.n >= t->required;
	for (size_t i = 1; i < t->n_arms; i++) {
		const struct stats_comparison *c = &t->cmp[i - 1];
		bool better = c->significant && rate(&t->arms[i]) > rate(&t->arms[0]);
		all_worse = all_worse && c->significant && rate(&t->arms[i]) < rate(&t->arms[0]);
		if (better && (best < 0 || rate(&t->arms[i]) > rate(&t->arms[best])))
			best = (int)i;
	}
	if (!reached) {
		t->decision = ABTEST_CONTINUE;
	} else if (best >= 0 || all_worse) {
		t->decision = ABTEST_WINNER;
		t->decided = best >= 0 ? best : 0;
	} else {
		t->decision = ABTEST_NO_DIFFERENCE;
	}
}

int abtest_evaluate(struct abtest *t)
{
	struct stats_arm arms[ABTEST_MAX_VARIANTS];
	for (size_t i = 0; i < t->n_arms; i++)
		arms[i] = t->arms[i].counts;
	double tau2 = stats_msprt_tau2(t->baseline, t->mde);
	int rc = stats_evaluate(arms, t->n_arms, t->confidence, tau2, t->has_prev_p ? t->prev_p : NULL, t->cmp);
	if (rc < 0)
		return rc;
	if (strcmp(t->status, "completed") == 0) {
		t->decided = arm_index(t, t->winner);
		t->decision = t->decided >= 0 ? ABTEST_WINNER : ABTEST_NO_DIFFERENCE;
	} else {
		decide(t);
	}
	return 0;
}

const char *abtest_min_p_literal(arena *a, const struct abtest *t)
{
	buf b;
	buf_init(&b, a, 64);
	buf_putc(&b, '{');
	for (size_t i = 1; i < t->n_arms; i++)
		buf_printf(&b, "%s%.17g", i > 1 ? "," : "", t->cmp[i - 1].p_value);
	buf_putc(&b, '}');
	return buf_cstr(&b);
}

/* A finite number, or null (JSON has no NaN or infinity). */
static void put_number(buf *b, double x)
{
	if (isfinite(x))
		buf_printf(b, "%.17g", x);
	else
		buf_puts(b, "null");
}

static void put_variant(buf *b, const struct abtest *t, size_t i)
{
	const struct abtest_arm *arm = &t->arms[i];
	buf_puts(b, i ? ",{\"key\":" : "{\"key\":");
	buf_json_str(b, arm->key);
	buf_puts(b, ",\"contentId\":");
	buf_json_str(b, arm->content_id);
	buf_printf(b, ",\"samples\":%llu,\"conversions\":%llu,\"rate\":", (unsigned long long)arm->counts.n,
		   (unsigned long long)arm->counts.k);
	struct stats_interval ci;
	if (arm->counts.n == 0 || stats_wilson(arm->counts.k, arm->counts.n, t->confidence, &ci) < 0) {
		buf_puts(b, "null,\"ci\":null}");
		return;
	}
	put_number(b, rate(arm));
	buf_puts(b, ",\"ci\":[");
	put_number(b, ci.lo);
	buf_putc(b, ',');
	put_number(b, ci.hi);
	buf_puts(b, "]}");
}

static void put_comparison(buf *b, const struct abtest *t, size_t i)
{
	const struct stats_comparison *c = &t->cmp[i - 1];
	buf_puts(b, i > 1 ? ",{\"variant\":" : "{\"variant\":");
	buf_json_str(b, t->arms[i].key);
	buf_puts(b, ",\"control\":");
	buf_json_str(b, t->arms[0].key);
	if (c->has_data) {
		buf_puts(b, ",\"lift\":");
		put_number(b, c->lift);
		buf_puts(b, ",\"liftCi\":[");
		put_number(b, c->lift_ci.lo);
		buf_putc(b, ',');
		put_number(b, c->lift_ci.hi);
		buf_putc(b, ']');
	} else {
		buf_puts(b, ",\"lift\":null,\"liftCi\":null");
	}
	buf_puts(b, ",\"pValue\":");
	put_number(b, c->p_value);
	buf_puts(b, ",\"pAdjusted\":");
	put_number(b, c->p_adjusted);
	buf_puts(b, ",\"probabilityToBeatControl\":");
	put_number(b, c->p_beat);
	buf_printf(b, ",\"significant\":%s}", c->significant ? "true" : "false");
}

const char *abtest_results_json(arena *a, const struct abtest *t)
{
	buf b;
	buf_init(&b, a, 1024);
	buf_puts(&b, "{\"abTestId\":");
	buf_json_str(&b, t->id);
	buf_puts(&b, ",\"status\":");
	buf_json_str(&b, t->status);
	buf_puts(&b, ",\"metric\":");
	buf_json_str(&b, t->metric);
	buf_printf(&b, ",\"method\":\"%s\",\"multipleComparisons\":\"holm\",\"confidenceLevel\":", ABTEST_METHOD);
	put_number(&b, t->confidence);
	buf_printf(&b, ",\"decision\":\"%s\",\"winner\":", abtest_decision_name(t->decision));
	if (t->decided >= 0)
		buf_json_str(&b, t->arms[t->decided].key);
	else
		buf_puts(&b, "null");
	buf_puts(&b, ",\"winnerReason\":");
	if (t->winner_reason)
		buf_json_str(&b, t->winner_reason);
	else
		buf_puts(&b, "null");
	buf_printf(&b, ",\"requiredSamplePerVariant\":%llu,\"variants\":[", (unsigned long long)t->required);
	for (size_t i = 0; i < t->n_arms; i++)
		put_variant(&b, t, i);
	buf_puts(&b, "],\"comparisons\":[");
	for (size_t i = 1; i < t->n_arms; i++)
		put_comparison(&b, t, i);
	buf_puts(&b, "]}");
	return buf_cstr(&b);
}
