/*
 * Unit tests for src/stats/ (abstats.h): the properties every figure must
 * have, checked here in C, and the table of cases whose values
 * tests/unit/stats_reference.py compares with scipy/statsmodels: run with
 * --dump, this program prints one line per case ("kind inputs | outputs")
 * instead of TAP, and the meson test stats-reference pipes it to the checker.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "abstats.h"
#include "betadist.h"
#include "tap.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the table of cases (inputs only; the checker computes the references) ---- */

static const double norm_x[] = { -37, -20, -10, -5, -1.959963984540054, -1, -1e-9, 0, 0.5, 1, 3, 8, 9 };
static const double norm_p[] = { 1e-300, 1e-100, 1e-20, 1e-10, 1e-5, 0.001, 0.025, 0.05, 0.3, 0.4999999,
				 0.5, 0.7, 0.975, 0.999, 0.9999999999 };

static const struct { double x, a, b; } beta_cases[] = {
	{ 0.3, 2, 5 }, { 0.5, 1, 1 }, { 0.9, 3, 1 }, { 0.01, 1, 11 }, { 0.7, 8, 3 }, { 0.05, 51, 951 },
	{ 0.049, 500001, 9500001 }, { 0.0501, 500001, 9500001 }, { 1e-7, 1, 10000001 }, { 0.99999995, 10000001, 1 },
	{ 0.05000001, 5000001, 95000001 }, { 0.04999, 5000001, 95000001 }, { 0.5, 50000001, 50000001 },
};

static const struct { uint64_t k, n; double confidence; } wilson_extra[] = {
	{ 0, 100, 0.95 }, { 100, 100, 0.95 }, { 1, 10000000, 0.95 }, { 500000, 10000000, 0.95 },
	{ 0, 10000000, 0.95 }, { 10000000, 10000000, 0.95 }, { 3, 100000000, 0.95 }, { 37, 250, 0.90 },
	{ 37, 250, 0.99 }, { 37, 250, 0.999 }, { 1, 3, 0.8 },
};

static const struct { double baseline, mde, alpha, power; unsigned comparisons; } power_cases[] = {
	{ 0.05, 0.10, 0.05, 0.8, 1 }, { 0.05, 0.20, 0.05, 0.8, 1 }, { 0.02, 0.10, 0.05, 0.8, 4 },
	{ 0.5, 0.01, 0.05, 0.9, 1 }, { 0.1, -0.2, 0.05, 0.8, 1 }, { 0.3, 0.5, 0.01, 0.95, 2 },
	{ 0.001, 0.05, 0.05, 0.8, 3 }, { 0.9, 0.1, 0.05, 0.8, 1 }, { 0.2, 1.0, 0.1, 0.5, 1 }, { 0.04, 0.3, 0.05, 0.8, 4 },
};

/* control (kc of nc), variant (kv of nv) */
static const struct { uint64_t kc, nc, kv, nv; } pairs[] = {
	{ 0, 1, 0, 1 }, { 0, 1, 1, 1 }, { 1, 1, 1, 1 }, { 1, 2, 0, 3 }, { 0, 5, 1, 5 }, { 0, 10, 0, 10 },
	{ 0, 10, 3, 10 }, { 10, 10, 7, 10 }, { 10, 10, 10, 10 }, { 9, 10, 10, 10 }, { 3, 7, 5, 11 }, { 2, 4, 6, 9 },
	{ 50, 1000, 70, 1000 }, { 100, 1000, 60, 400 }, { 30, 500, 90, 1500 }, { 5000, 100000, 5200, 100000 },
	{ 500000, 10000000, 501000, 10000000 }, { 500000, 10000000, 520000, 10000000 }, { 50, 1000, 520000, 10000000 },
	{ 0, 10000000, 0, 100 }, { 10000000, 10000000, 99, 100 }, { 5000000, 100000000, 5001000, 100000000 },
	{ 1, 10000000, 3, 10000000 },
};

static const double tau2s[] = { 1e-4, 2.5e-5, 0.01 };

static const struct { size_t m; double p[5]; double alpha; } holm_cases[] = {
	{ 4, { 0.01, 0.04, 0.03, 0.005 }, 0.05 }, { 1, { 0.5 }, 0.05 }, { 1, { 0.05 }, 0.05 },
	{ 3, { 0.02, 0.02, 0.02 }, 0.05 }, { 5, { 1e-10, 0.3, 0.01, 0.04, 0.049 }, 0.05 }, { 2, { 0.9, 0.8 }, 0.05 },
	{ 4, { 0.2, 0.6, 0.01, 0.01 }, 0.1 }, { 5, { 0.011, 0.012, 0.013, 0.014, 0.015 }, 0.05 },
};

/* whole tests: five variants (control + 4), with previous looks; a tiny test; a large one */
static const struct {
	size_t n_arms;
	struct stats_arm arms[5];
	double confidence, tau2;
	bool has_prev;
	double prev[4];
} eval_cases[] = {
	{ 5, { { 1000, 50 }, { 1000, 52 }, { 1000, 75 }, { 980, 40 }, { 1020, 0 } }, 0.95, 2.5e-5, false, { 0 } },
	{ 5, { { 1000, 50 }, { 1000, 52 }, { 1000, 75 }, { 980, 40 }, { 1020, 0 } }, 0.95, 2.5e-5, true,
	  { 0.5, 0.001, NAN, 1 } },
	{ 2, { { 3, 1 }, { 4, 4 } }, 0.9, 0.01, false, { 0 } },
	{ 3, { { 0, 0 }, { 10, 2 }, { 0, 0 } }, 0.95, 1e-4, false, { 0 } },
	{ 3, { { 10000000, 500000 }, { 10000000, 503000 }, { 5000000, 248000 } }, 0.99, 2.5e-5, true, { 0.2, 0.9 } },
};

static void dump(void)
{
	for (size_t i = 0; i < N_OF(norm_x); i++)
		printf("norm_cdf %.17g | %.17g\n", norm_x[i], stats_norm_cdf(norm_x[i]));
	for (size_t i = 0; i < N_OF(norm_p); i++)
		printf("norm_quantile %.17g | %.17g\n", norm_p[i], stats_norm_quantile(norm_p[i]));
	for (size_t i = 0; i < N_OF(beta_cases); i++) {
		double lower, upper, x = beta_cases[i].x;
		beta_cdf(x, 1.0 - x, beta_cases[i].a, beta_cases[i].b, &lower, &upper);
		printf("beta %.17g %.17g %.17g | %.17g %.17g %.17g\n", x, beta_cases[i].a, beta_cases[i].b,
		       beta_pdf(x, 1.0 - x, beta_cases[i].a, beta_cases[i].b), lower, upper);
	}
	struct stats_interval ci;
	for (uint64_t n = 1; n <= 10; n++)
		for (uint64_t k = 0; k <= n; k++)
			if (stats_wilson(k, n, 0.95, &ci) == 0)
				printf("wilson %llu %llu 0.95 | %.17g %.17g\n", (unsigned long long)k,
				       (unsigned long long)n, ci.lo, ci.hi);
	for (size_t i = 0; i < N_OF(wilson_extra); i++)
		if (stats_wilson(wilson_extra[i].k, wilson_extra[i].n, wilson_extra[i].confidence, &ci) == 0)
			printf("wilson %llu %llu %.17g | %.17g %.17g\n", (unsigned long long)wilson_extra[i].k,
			       (unsigned long long)wilson_extra[i].n, wilson_extra[i].confidence, ci.lo, ci.hi);
	for (size_t i = 0; i < N_OF(power_cases); i++) {
		double b = power_cases[i].baseline, target = b * (1.0 + power_cases[i].mde), nobs = NAN;
		double h = fabs(2.0 * asin(sqrt(target)) - 2.0 * asin(sqrt(b)));
		uint64_t n = 0;
		int r1 = stats_power_nobs(h, power_cases[i].alpha / power_cases[i].comparisons, power_cases[i].power,
					  &nobs);
		int r2 = stats_sample_size(b, power_cases[i].mde, power_cases[i].alpha, power_cases[i].power,
					   power_cases[i].comparisons, &n);
		printf("power %.17g %.17g %.17g %.17g %u | %d %.17g %d %llu\n", b, power_cases[i].mde,
		       power_cases[i].alpha, power_cases[i].power, power_cases[i].comparisons, r1, nobs, r2,
		       (unsigned long long)n);
		double tau2 = stats_msprt_tau2(b, power_cases[i].mde);
		uint64_t seq = 0;
		int r3 = stats_msprt_sample_size(b, power_cases[i].mde, power_cases[i].alpha, power_cases[i].power,
						 power_cases[i].comparisons, tau2, &seq);
		printf("msprt_n %.17g %.17g %.17g %.17g %u %.17g | %d %llu\n", b, power_cases[i].mde, power_cases[i].alpha,
		       power_cases[i].power, power_cases[i].comparisons, tau2, r3, (unsigned long long)seq);
	}
	for (size_t i = 0; i < N_OF(pairs); i++) {
		struct stats_arm c = { pairs[i].nc, pairs[i].kc }, v = { pairs[i].nv, pairs[i].kv };
		static const double confs[] = { 0.90, 0.95, 0.99 };
		double lift = NAN;
		for (size_t j = 0; j < N_OF(confs); j++)
			if (stats_lift_interval(c, v, confs[j], &lift, &ci) == 0)
				printf("lift %llu %llu %llu %llu %.17g | %.17g %.17g %.17g\n", (unsigned long long)c.k,
				       (unsigned long long)c.n, (unsigned long long)v.k, (unsigned long long)v.n, confs[j],
				       lift, ci.lo, ci.hi);
		printf("beat %llu %llu %llu %llu | %.17g\n", (unsigned long long)c.k, (unsigned long long)c.n,
		       (unsigned long long)v.k, (unsigned long long)v.n, stats_prob_beat(c, v));
		for (size_t t = 0; t < N_OF(tau2s); t++)
			printf("msprt %llu %llu %llu %llu %.17g | %.17g\n", (unsigned long long)c.k,
			       (unsigned long long)c.n, (unsigned long long)v.k, (unsigned long long)v.n, tau2s[t],
			       stats_msprt_p(c, v, tau2s[t]));
	}
	for (size_t i = 0; i < N_OF(holm_cases); i++) {
		bool reject[5];
		double adjusted[5];
		stats_holm(holm_cases[i].p, holm_cases[i].m, holm_cases[i].alpha, reject, adjusted);
		printf("holm %.17g", holm_cases[i].alpha);
		for (size_t j = 0; j < holm_cases[i].m; j++)
			printf(" %.17g", holm_cases[i].p[j]);
		printf(" |");
		for (size_t j = 0; j < holm_cases[i].m; j++)
			printf(" %d %.17g", reject[j], adjusted[j]);
		printf("\n");
	}
	for (size_t i = 0; i < N_OF(eval_cases); i++) {
		struct stats_comparison out[4];
		if (stats_evaluate(eval_cases[i].arms, eval_cases[i].n_arms, eval_cases[i].confidence, eval_cases[i].tau2,
				   eval_cases[i].has_prev ? eval_cases[i].prev : NULL, out) != 0)
			continue;
		printf("evaluate %.17g %.17g", eval_cases[i].confidence, eval_cases[i].tau2);
		for (size_t j = 0; j < eval_cases[i].n_arms; j++)
			printf(" %llu %llu", (unsigned long long)eval_cases[i].arms[j].k,
			       (unsigned long long)eval_cases[i].arms[j].n);
		printf(" prev");
		for (size_t j = 0; j + 1 < eval_cases[i].n_arms; j++)
			printf(" %.17g", eval_cases[i].has_prev ? eval_cases[i].prev[j] : NAN);
		printf(" |");
		for (size_t j = 0; j + 1 < eval_cases[i].n_arms; j++)
			printf(" %d %.17g %.17g %.17g %.17g %.17g %.17g %d", out[j].has_data, out[j].lift, out[j].lift_ci.lo,
			       out[j].lift_ci.hi, out[j].p_value, out[j].p_adjusted, out[j].p_beat, out[j].significant);
		printf("\n");
	}
}

/* ---- properties, checked here ---- */

static double msecs_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1e3 + (t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static void test_normal(void)
{
	ok(stats_norm_cdf(0) == 0.5, "Φ(0) = 1/2");
	ok(fabs(stats_norm_quantile(0.975) - 1.959963984540054) < 1e-15, "Φ⁻¹(0.975) = 1.959963984540054");
	ok(isinf(stats_norm_quantile(0)) && stats_norm_quantile(0) < 0, "Φ⁻¹(0) = -inf");
	ok(isinf(stats_norm_quantile(1)) && stats_norm_quantile(1) > 0, "Φ⁻¹(1) = +inf");
	ok(isnan(stats_norm_quantile(-0.1)) && isnan(stats_norm_quantile(1.5)) && isnan(stats_norm_quantile(NAN)),
	   "Φ⁻¹ outside [0, 1] is NaN");
	double worst = 0;
	for (double x = -37; x <= 2; x += 0.13) { /* above, Φ(x) rounds to near 1 and loses x */
		double back = stats_norm_quantile(stats_norm_cdf(x));
		worst = fmax(worst, fabs(back - x) / fmax(1.0, fabs(x)));
	}
	ok(worst < 1e-14, "Φ⁻¹(Φ(x)) = x on [-37, 2] (worst %.2g)", worst);
	ok(stats_norm_quantile(0.25) == -stats_norm_quantile(0.75), "Φ⁻¹ is odd about 1/2");
}

static void test_wilson(void)
{
	struct stats_interval ci = { 7, 7 };
	is_int(stats_wilson(1, 0, 0.95, &ci), -EINVAL, "wilson: n = 0 refused");
	is_int(stats_wilson(5, 4, 0.95, &ci), -EINVAL, "wilson: k > n refused");
	is_int(stats_wilson(1, 4, 1.0, &ci), -EINVAL, "wilson: confidence 1 refused");
	is_int(stats_wilson(1, 4, NAN, &ci), -EINVAL, "wilson: confidence NaN refused");
	ok(ci.lo == 7 && ci.hi == 7, "wilson: output untouched on refusal");
	bool contains = true, mirror = true, bounded = true;
	for (uint64_t n = 1; n <= 60; n++)
		for (uint64_t k = 0; k <= n; k++) {
			struct stats_interval a, b;
			stats_wilson(k, n, 0.95, &a);
			stats_wilson(n - k, n, 0.95, &b);
			double p = (double)k / n;
			contains &= a.lo <= p && p <= a.hi;
			mirror &= fabs(a.lo - (1 - b.hi)) < 1e-15 && fabs(a.hi - (1 - b.lo)) < 1e-15;
			bounded &= a.lo >= 0 && a.hi <= 1 && a.lo < a.hi;
		}
	ok(contains, "wilson: the interval contains k/n (n = 1..60, every k)");
	ok(mirror, "wilson: k successes mirror n - k");
	ok(bounded, "wilson: 0 <= lo < hi <= 1");
	stats_wilson(0, 10000000, 0.95, &ci);
	ok(ci.lo == 0.0 && ci.hi > 0 && ci.hi < 1e-6, "wilson: no success at 1e7 gives [0, %.3g]", ci.hi);
	stats_wilson(10000000, 10000000, 0.95, &ci);
	ok(ci.hi == 1.0, "wilson: all successes give hi = 1 exactly");
	struct stats_interval narrow, wide;
	stats_wilson(37, 250, 0.90, &narrow);
	stats_wilson(37, 250, 0.99, &wide);
	ok(wide.lo < narrow.lo && narrow.hi < wide.hi, "wilson: higher confidence, wider interval");
}

static void test_power(void)
{
	uint64_t n = 42;
	is_int(stats_sample_size(0, 0.1, 0.05, 0.8, 1, &n), -EINVAL, "sample size: baseline 0 refused");
	is_int(stats_sample_size(0.6, 1.0, 0.05, 0.8, 1, &n), -EINVAL, "sample size: target rate >= 1 refused");
	is_int(stats_sample_size(0.1, 0, 0.05, 0.8, 1, &n), -EINVAL, "sample size: mde 0 refused");
	is_int(stats_sample_size(0.1, 0.1, 0.05, 0.8, 0, &n), -EINVAL, "sample size: 0 comparisons refused");
	is_int(stats_sample_size(0.1, 0.1, 0.05, 0.04, 1, &n), -EINVAL, "sample size: power <= alpha refused");
	is_int(stats_sample_size(0.1, 1e-9, 0.05, 0.8, 1, &n), -EINVAL, "sample size: beyond 2^53 refused");
	is_int(n, 42, "sample size: output untouched on refusal");
	uint64_t one = 0, four = 0;
	stats_sample_size(0.05, 0.1, 0.05, 0.8, 1, &one);
	stats_sample_size(0.05, 0.1, 0.05, 0.8, 4, &four);
	ok(one > 30000 && one < 33000, "sample size: 5%% baseline, +10%%: %llu per variant", (unsigned long long)one);
	ok(four > one * 1.3, "sample size: Bonferroni over 4 comparisons asks more (%llu)", (unsigned long long)four);
	uint64_t seq = 7;
	is_int(stats_msprt_sample_size(0.05, 0.1, 0.05, 0.8, 1, 0, &seq), -EINVAL, "mSPRT sample size: tau2 0 refused");
	is_int(stats_msprt_sample_size(0.05, 0, 0.05, 0.8, 1, 1e-4, &seq), -EINVAL, "mSPRT sample size: mde 0 refused");
	is_int(seq, 7, "mSPRT sample size: output untouched on refusal");
	is_int(stats_msprt_sample_size(0.05, 0.1, 0.05, 0.8, 1, stats_msprt_tau2(0.05, 0.1), &seq), 0,
	       "mSPRT sample size: 5%% baseline, +10%%");
	ok(seq > 1.5 * one && seq < 2.5 * one, "mSPRT sample size %llu is 1.5-2.5x the fixed-horizon %llu",
	   (unsigned long long)seq, (unsigned long long)one);
}

static void test_beat(void)
{
	struct stats_arm a = { 1000, 50 }, b = { 1000, 70 };
	double ab = stats_prob_beat(a, b), ba = stats_prob_beat(b, a);
	ok(fabs(ab + ba - 1) < 1e-13, "P(beat): P(b > a) + P(a > b) = 1 (%.17g)", ab + ba);
	ok(stats_prob_beat(a, a) == 0.5, "P(beat): equal arms give 1/2");
	ok(stats_prob_beat((struct stats_arm){ 0, 0 }, (struct stats_arm){ 0, 0 }) == 0.5, "P(beat): two empty arms: 1/2");
	double prev = 0;
	bool monotone = true;
	for (uint64_t k = 0; k <= 20; k++) {
		double p = stats_prob_beat((struct stats_arm){ 20, 10 }, (struct stats_arm){ 20, k });
		monotone &= p > prev;
		prev = p;
	}
	ok(monotone, "P(beat) increases with the variant's successes");
	struct stats_arm big_a = { 100000000, 5000000 }, big_b = { 100000000, 5003000 };
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	double big = stats_prob_beat(big_a, big_b);
	double ms = msecs_since(&t0);
	ok(big > 0.5 && big < 1 && fabs(big + stats_prob_beat(big_b, big_a) - 1) < 1e-12,
	   "P(beat) at n = 1e8 is consistent: %.15g (%.1f ms)", big, ms);
	struct stats_arm all = { UINT64_MAX, UINT64_MAX }, none = { UINT64_MAX, 0 };
	ok(stats_prob_beat(all, none) == 0.0 && stats_prob_beat(none, all) == 1.0,
	   "P(beat) at n = 2^64 - 1 (posteriors below double resolution) compares the means");
	ok(stats_prob_beat((struct stats_arm){ 3, 5 }, (struct stats_arm){ 2, 7 }) ==
		   stats_prob_beat((struct stats_arm){ 3, 3 }, (struct stats_arm){ 2, 2 }),
	   "P(beat): k > n is clamped to k = n");
}

static void test_lift(void)
{
	struct stats_arm c = { 1000, 50 }, v = { 1000, 60 };
	struct stats_interval ci = { 7, 7 };
	double lift = 7;
	is_int(stats_lift_interval((struct stats_arm){ 0, 0 }, v, 0.95, &lift, &ci), -EINVAL, "lift: empty control refused");
	is_int(stats_lift_interval(c, (struct stats_arm){ 3, 4 }, 0.95, &lift, &ci), -EINVAL, "lift: k > n refused");
	ok(lift == 7 && ci.lo == 7 && ci.hi == 7, "lift: outputs untouched on refusal");
	is_int(stats_lift_interval(c, v, 0.95, &lift, &ci), 0, "lift: 50/1000 vs 60/1000");
	ok(fabs(lift - 0.2) < 1e-15 && ci.lo < lift && lift < ci.hi, "lift: +20%% inside [%.4f, %.4f]", ci.lo, ci.hi);
	is_int(stats_lift_interval((struct stats_arm){ 10, 0 }, (struct stats_arm){ 10, 3 }, 0.95, &lift, &ci), 0,
	       "lift: zero control successes accepted");
	ok(isfinite(lift) && isfinite(ci.lo) && isfinite(ci.hi) && ci.lo > -1, "lift: finite with a zero count (%.3f [%.3f, %.3f])",
	   lift, ci.lo, ci.hi);
	is_int(stats_lift_interval(c, v, 0.95, NULL, &ci), 0, "lift: lift_out may be NULL");
}

static void test_msprt(void)
{
	struct stats_arm c = { 10000, 500 };
	ok(stats_msprt_p(c, c, 1e-4) == 1.0, "mSPRT: identical arms give p = 1");
	ok(stats_msprt_p((struct stats_arm){ 10, 0 }, (struct stats_arm){ 10, 0 }, 1e-4) == 1.0,
	   "mSPRT: all samples alike (V = 0) give p = 1");
	ok(stats_msprt_p((struct stats_arm){ 0, 0 }, c, 1e-4) == 1.0, "mSPRT: an empty arm gives p = 1");
	ok(stats_msprt_p(c, (struct stats_arm){ 1000, 90 }, 0) == 1.0 &&
		   stats_msprt_p(c, (struct stats_arm){ 1000, 90 }, NAN) == 1.0,
	   "mSPRT: tau2 not > 0 gives p = 1");
	double prev = 1.0;
	bool decreasing = true;
	for (uint64_t k = 500; k <= 700; k += 25) {
		double p = stats_msprt_p(c, (struct stats_arm){ 10000, k }, 2.5e-5);
		decreasing &= p <= prev;
		prev = p;
	}
	ok(decreasing && prev < 1e-3, "mSPRT: p falls as the difference grows (%.3g at 700/10000 vs 500/10000)", prev);
	ok(fabs(stats_msprt_tau2(0.05, 0.1) / 2.5e-5 - 1) < 1e-15, "tau2 = (0.05 * 0.1)^2");
	ok(isnan(stats_msprt_tau2(0.05, 0)) && isnan(stats_msprt_tau2(0, 0.1)), "tau2: a zero effect gives NaN");
}

static void test_holm(void)
{
	const double p[] = { 0.01, 0.04, 0.03, 0.005 };
	bool reject[4];
	double adjusted[4];
	stats_holm(p, 4, 0.05, reject, adjusted);
	/* sorted 0.005 0.01 0.03 0.04: 4x, 3x, 2x, 1x -> 0.02 0.03 0.06 0.06 */
	ok(reject[0] && !reject[1] && !reject[2] && reject[3], "holm: rejects 0.005 and 0.01, keeps 0.03 and 0.04");
	ok(fabs(adjusted[3] - 0.02) < 1e-17 && fabs(adjusted[0] - 0.03) < 1e-17 && fabs(adjusted[2] - 0.06) < 1e-17 &&
		   fabs(adjusted[1] - 0.06) < 1e-17,
	   "holm: adjusted 0.03 0.06 0.06 0.02");
	stats_holm(p, 4, 0.05, NULL, adjusted);
	stats_holm(p, 4, 0.05, reject, NULL);
	ok(true, "holm: either output may be NULL");
	stats_holm(p, 0, 0.05, reject, adjusted);
	ok(true, "holm: m = 0 is a no-op");
}

static void test_evaluate(void)
{
	struct stats_arm arms[3] = { { 10000, 500 }, { 10000, 650 }, { 10000, 520 } };
	struct stats_comparison out[2], untouched[2];
	memset(out, 0x5a, sizeof(out));
	memcpy(untouched, out, sizeof(out));
	is_int(stats_evaluate(arms, 1, 0.95, 1e-4, NULL, out), -EINVAL, "evaluate: one arm refused");
	is_int(stats_evaluate(arms, STATS_MAX_ARMS + 1, 0.95, 1e-4, NULL, out), -EINVAL, "evaluate: too many arms refused");
	is_int(stats_evaluate(arms, 3, 0.95, 0, NULL, out), -EINVAL, "evaluate: tau2 0 refused");
	struct stats_arm bad[2] = { { 10, 11 }, { 10, 1 } };
	is_int(stats_evaluate(bad, 2, 0.95, 1e-4, NULL, out), -EINVAL, "evaluate: k > n refused");
	ok(memcmp(out, untouched, sizeof(out)) == 0, "evaluate: out untouched on refusal");
	is_int(stats_evaluate(arms, 3, 0.95, 2.5e-5, NULL, out), 0, "evaluate: three arms");
	ok(out[0].significant && !out[1].significant, "evaluate: 650/10000 beats 500/10000, 520/10000 does not (p %.3g, %.3g)",
	   out[0].p_adjusted, out[1].p_adjusted);
	ok(out[0].p_adjusted >= out[0].p_value && out[0].p_beat > 0.99 && out[0].lift > 0.29,
	   "evaluate: adjusted >= raw, p_beat %.4f, lift %.3f", out[0].p_beat, out[0].lift);
	/* the running minimum: a smaller previous p is kept, a larger one is not */
	double prev[2] = { 1.0, 1e-6 };
	stats_evaluate(arms, 3, 0.95, 2.5e-5, prev, out);
	ok(out[1].p_value == 1e-6 && out[1].significant, "evaluate: a past p of 1e-6 stays the running minimum");
	ok(out[0].p_value < 1.0, "evaluate: a larger past p does not replace today's");
	double nan_prev[2] = { NAN, NAN };
	struct stats_comparison fresh[2];
	stats_evaluate(arms, 3, 0.95, 2.5e-5, NULL, fresh);
	stats_evaluate(arms, 3, 0.95, 2.5e-5, nan_prev, out);
	ok(out[0].p_value == fresh[0].p_value && out[1].p_value == fresh[1].p_value, "evaluate: NaN past p ignored");
	struct stats_arm empty[2] = { { 0, 0 }, { 10, 3 } };
	is_int(stats_evaluate(empty, 2, 0.95, 1e-4, NULL, out), 0, "evaluate: an empty control is accepted");
	ok(!out[0].has_data && out[0].lift == 0 && out[0].p_value == 1 && !out[0].significant,
	   "evaluate: no data, no lift, p = 1, not significant");
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--dump") == 0) {
		dump();
		return 0;
	}
	test_normal();
	test_wilson();
	test_power();
	test_beat();
	test_lift();
	test_msprt();
	test_holm();
	test_evaluate();
	return tap_done();
}
