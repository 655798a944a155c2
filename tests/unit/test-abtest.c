/* Unit tests for src/abtest/abtest.c: design defaults, the required sample, the decision rule, the results JSON. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include <json-c/json.h>

#include "abtest.h"
#include "tap.h"

/* A running two- or three-arm open_rate test (baseline 0.3, mde 1.0 at 95%) with these counts. */
static struct abtest make(uint64_t required, size_t n_arms, const uint64_t (*counts)[2])
{
	static const char *const keys[] = { "A", "B", "C", "D", "E" };
	struct abtest t;
	memset(&t, 0, sizeof(t));
	t.id = "7d444840-9dc0-11d1-b245-5ffdce74fad2";
	t.status = "running";
	t.metric = "open_rate";
	t.confidence = 0.95;
	t.baseline = 0.3;
	t.mde = 1.0;
	t.required = required;
	t.n_arms = n_arms;
	t.decided = -1;
	for (size_t i = 0; i < n_arms; i++) {
		t.arms[i].key = keys[i];
		t.arms[i].content_id = "00000000-0000-4000-8000-000000000001";
		t.arms[i].counts.n = counts[i][0];
		t.arms[i].counts.k = counts[i][1];
	}
	return t;
}

static const char *decision(struct abtest *t)
{
	return abtest_evaluate(t) < 0 ? "(refused)" : abtest_decision_name(t->decision);
}

int main(void)
{
	ok(abtest_default_baseline("open_rate") == 0.2 && abtest_default_baseline("click_rate") == 0.03 &&
		   abtest_default_baseline("conversion_rate") == 0.02,
	   "default baselines by metric");
	ok(isnan(abtest_default_baseline("ctr")) && isnan(abtest_default_baseline(NULL)), "no baseline for others");

	uint64_t n = 0, want = 0;
	is_int(abtest_required_sample(0.2, 0.1, 0.95, 0.8, 2, &n), 0, "required sample of the defaults");
	stats_msprt_sample_size(0.2, 0.1, 0.05, 0.8, 1, stats_msprt_tau2(0.2, 0.1), &want);
	is_int(n, want, "is the sequential test's own sample (%llu)", (unsigned long long)n);
	uint64_t fixed = 0;
	stats_sample_size(0.2, 0.1, 0.05, 0.8, 1, &fixed);
	ok(n > fixed, "larger than the fixed-horizon sample (%llu)", (unsigned long long)fixed);
	uint64_t three = 0;
	abtest_required_sample(0.2, 0.1, 0.95, 0.8, 3, &three);
	ok(three > n, "more variants, alpha split: a larger sample");
	n = 7;
	is_int(abtest_required_sample(0.2, 0.1, 0.95, 0.8, 1, &n), -EINVAL, "one variant is refused");
	is_int(abtest_required_sample(0.2, 0.1, 0.95, 0.8, 6, &n), -EINVAL, "six variants are refused");
	is_int(n, 7, "and the output is untouched");

	/* significant, but the sample is not reached: continue */
	static const uint64_t big_diff_small[][2] = { { 60, 12 }, { 60, 40 } };
	struct abtest t = make(82, 2, big_diff_small);
	is_str(decision(&t), "continue", "a significant difference before the sample: continue");
	ok(t.cmp[0].significant, "(it is significant)");

	static const uint64_t big_diff[][2] = { { 150, 30 }, { 150, 90 } };
	t = make(82, 2, big_diff);
	is_str(decision(&t), "winner", "significantly better with the sample reached: winner");
	is_int(t.decided, 1, "B wins");

	static const uint64_t worse[][2] = { { 150, 90 }, { 150, 30 } };
	t = make(82, 2, worse);
	is_str(decision(&t), "winner", "every variant significantly worse: winner");
	is_int(t.decided, 0, "the control wins");

	static const uint64_t same[][2] = { { 120, 36 }, { 120, 37 } };
	t = make(82, 2, same);
	is_str(decision(&t), "no_difference", "nothing significant with the sample reached: no_difference");
	is_int(t.decided, -1, "no winner");

	static const uint64_t two_better[][2] = { { 200, 40 }, { 200, 100 }, { 200, 120 } };
	t = make(82, 3, two_better);
	is_str(decision(&t), "winner", "two variants significantly better");
	is_int(t.decided, 2, "the better of them wins");

	static const uint64_t mixed[][2] = { { 200, 100 }, { 200, 40 }, { 200, 101 } };
	t = make(82, 3, mixed);
	is_str(decision(&t), "no_difference", "one worse, one not different: no winner");

	/* the running minimum: a stored p smaller than today's stays */
	t = make(82, 2, same);
	t.has_prev_p = true;
	t.prev_p[0] = 1e-6;
	decision(&t);
	ok(t.cmp[0].p_value == 1e-6, "the stored running minimum is kept");
	is_str(decision(&t), "winner", "and decides once the sample is reached");
	arena *a = arena_new(0);
	is_str(abtest_min_p_literal(a, &t), "{9.9999999999999995e-07}", "stored as a double precision[] literal");

	/* a completed test shows its recorded outcome */
	t = make(82, 2, same);
	t.status = "completed";
	t.winner = "B";
	t.winner_reason = "manual";
	is_str(decision(&t), "winner", "a manual winner is the decision");
	is_int(t.decided, 1, "of the recorded variant");
	t.winner = t.winner_reason = NULL;
	is_str(decision(&t), "no_difference", "completed without a winner: no_difference");

	static const uint64_t tie[][2] = { { 10, 2 }, { 10, 2 }, { 0, 0 } };
	t = make(82, 3, tie);
	is_int(abtest_best_observed(&t), 0, "ties and empty arms: the control is the best observed");
	static const uint64_t c_best[][2] = { { 10, 2 }, { 10, 3 }, { 5, 2 } };
	t = make(82, 3, c_best);
	is_int(abtest_best_observed(&t), 2, "the best observed rate otherwise");

	/* results JSON */
	static const uint64_t with_empty[][2] = { { 150, 30 }, { 0, 0 } };
	t = make(82, 2, with_empty);
	decision(&t);
	json_object *r = json_tokener_parse(abtest_results_json(a, &t));
	ok(r != NULL, "the results are JSON");
	is_str(json_object_get_string(json_object_object_get(r, "method")), "msprt", "method");
	is_str(json_object_get_string(json_object_object_get(r, "decision")), "continue", "decision");
	ok(json_object_get_type(json_object_object_get(r, "winner")) == json_type_null, "no winner yet");
	json_object *va = json_object_array_get_idx(json_object_object_get(r, "variants"), 0);
	json_object *vb = json_object_array_get_idx(json_object_object_get(r, "variants"), 1);
	ok(fabs(json_object_get_double(json_object_object_get(va, "rate")) - 0.2) < 1e-15, "A's rate");
	json_object *ci = json_object_object_get(va, "ci");
	ok(json_object_array_length(ci) == 2 &&
		   json_object_get_double(json_object_array_get_idx(ci, 0)) < 0.2 &&
		   json_object_get_double(json_object_array_get_idx(ci, 1)) > 0.2,
	   "A's interval holds its rate");
	ok(json_object_get_type(json_object_object_get(vb, "rate")) == json_type_null &&
		   json_object_get_type(json_object_object_get(vb, "ci")) == json_type_null,
	   "no samples: rate and interval are null");
	json_object *c = json_object_array_get_idx(json_object_object_get(r, "comparisons"), 0);
	ok(json_object_get_type(json_object_object_get(c, "lift")) == json_type_null, "no lift without samples");
	ok(json_object_get_double(json_object_object_get(c, "pValue")) == 1.0, "p = 1 without samples");
	is_str(json_object_get_string(json_object_object_get(c, "control")), "A", "compared with A");
	json_object_put(r);
	arena_free(a);
	return tap_done();
}
