/*
 * abstats.h - the statistics of an A/B test on a conversion-type metric
 * (opens, clicks, conversions per sample): pure C and libm, no database, no
 * allocation, no logging. docs/analytics.md "## A/B statistics" explains each
 * method with a worked example; tests/unit/stats_reference.py checks every
 * figure against scipy/statsmodels.
 *
 * Conventions: an arm is (n samples, k successes) with k <= n. confidence is
 * in (0, 1) (0.95 means alpha = 0.05). Functions that can refuse their input
 * return 0 or -EINVAL and leave *out untouched on failure; the others are
 * total and say what they return on degenerate input.
 *
 * The decision procedure (what stats_evaluate computes per comparison with
 * the control, arms[0]):
 *   - p_value: the mixture-SPRT always-valid p-value (Johari, Pekelis &
 *     Walsh 2017), kept as a running minimum across looks by the caller, so
 *     results may be read every day without inflating false positives;
 *   - p_adjusted: Holm's step-down adjustment of those p-values over the
 *     n_arms - 1 comparisons (family-wise error <= alpha);
 *   - significant: p_adjusted <= alpha (two-sided: the sign of lift says
 *     which way);
 *   - lift and lift_ci: relative lift variant/control - 1 and its Katz
 *     log-ratio interval (not adjusted for multiplicity, for display);
 *   - p_beat: P(variant rate > control rate) under Beta(1+k, 1+n-k)
 *     posteriors (uniform priors), for display.
 * The sample to plan for is stats_msprt_sample_size (the mSPRT's own power),
 * not the fixed-horizon stats_sample_size, when "the sample is reached and
 * nothing is significant" is to mean "no difference of the planned size".
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATS_MAX_ARMS 64 /* stats_evaluate's limit (the API allows 2..5 variants) */

struct stats_arm {
	uint64_t n, k; /* samples, successes (k <= n) */
};

struct stats_interval {
	double lo, hi;
};

/* Standard normal CDF Φ(x) and its inverse (full double precision). */
double stats_norm_cdf(double x);
/* Φ⁻¹(p) for p in (0, 1); -INFINITY at 0, +INFINITY at 1, NaN outside [0, 1]. */
double stats_norm_quantile(double p);

/*
 * Wilson score interval for the proportion k/n at this confidence (as
 * statsmodels' proportion_confint(method='wilson')); lo is exactly 0 when
 * k == 0 and hi exactly 1 when k == n. -EINVAL when n == 0, k > n or
 * confidence is outside (0, 1).
 */
int stats_wilson(uint64_t k, uint64_t n, double confidence, struct stats_interval *out);

/*
 * Per-group sample size of the two-sided two-proportion z-test on Cohen's
 * effect size h = |2 asin sqrt(p1) - 2 asin sqrt(p0)| at significance alpha
 * and this power, equal groups: the real nobs1 that statsmodels'
 * NormalIndPower().solve_power(h, alpha=alpha, power=power, ratio=1) finds
 * (both tails counted). -EINVAL unless h > 0, alpha and power in (0, 1).
 */
int stats_power_nobs(double effect_h, double alpha, double power, double *nobs_out);

/*
 * Fixed-horizon samples per variant to detect baseline*(1 + relative_mde) against baseline
 * (both rates in (0, 1); relative_mde may be negative, not 0) with this power,
 * the family alpha split over `comparisons` comparisons with the control
 * (Bonferroni: alpha / comparisons, comparisons >= 1; a test of V variants
 * has V - 1). *n_out = ceil(stats_power_nobs(h, alpha / comparisons, power)).
 * -EINVAL on any out-of-range input or when the result exceeds 2^53.
 */
int stats_sample_size(double baseline, double relative_mde, double alpha, double power, unsigned comparisons,
		      uint64_t *n_out);

/*
 * Samples per variant at which the mSPRT itself (stats_msprt_p at alpha /
 * comparisons, this tau2) detects baseline -> baseline*(1 + relative_mde)
 * with this power, counting only the last look (earlier looks add power,
 * so this errs on the safe side): the smallest n with
 *     P(|d| >= t_n) >= power,  t_n² = V0 (1 + V0/tau2) (2 log(comparisons/alpha) + log(1 + tau2/V0)),
 * V0 = 2 p̄(1 - p̄)/n, d ~ N(effect, (p0 q0 + p1 q1)/n). About twice
 * stats_sample_size with tau2 = stats_msprt_tau2: at the fixed-horizon n
 * the sequential test finds the effect in only about half of the runs
 * (tests/unit/test-stats-sim.c measures both). This is the sample after
 * which "nothing significant" means "no difference of the planned size" at
 * the asked power. -EINVAL as stats_sample_size, or when tau2 is not > 0.
 */
int stats_msprt_sample_size(double baseline, double relative_mde, double alpha, double power, unsigned comparisons,
			    double tau2, uint64_t *n_out);

/*
 * P(p_variant > p_control) with independent Beta(1 + k, 1 + n - k)
 * posteriors, by quadrature of the narrower posterior's density against the
 * other's incomplete-beta CDF (stable for n up to 1e8 and beyond: within
 * 2e-10 of scipy's quad at n = 1e7..1e8, 2e-15 of the exact sum at small
 * n; ~0.1-0.5 ms a call). 0.5 when both arms are equal; when a posterior is
 * narrower than double resolution (n near 2^64) the means are compared.
 * Total: arms with k > n are clamped to k = n.
 */
double stats_prob_beat(struct stats_arm control, struct stats_arm variant);

/*
 * Interval for the relative lift p_variant / p_control - 1: the Katz
 * log-ratio interval exp(log(ratio) ± z sqrt(1/kv - 1/nv + 1/kc - 1/nc)) - 1,
 * as statsmodels' confint_proportions_2indep(kv, nv, kc, nc, compare='ratio',
 * method='log'); when either arm has k == 0 it uses 0.5-adjusted counts
 * (k + 0.5 and n + 0.5 in both arms, statsmodels' method='log-adjusted'),
 * so the interval stays finite. *lift_out (may be NULL) gets the point
 * estimate from the same counts. -EINVAL when either n == 0, k > n or
 * confidence is outside (0, 1).
 */
int stats_lift_interval(struct stats_arm control, struct stats_arm variant, double confidence, double *lift_out,
			struct stats_interval *out);

/*
 * Mixing variance of the mSPRT for a test planned to detect baseline *
 * relative_mde: tau2 = (baseline * relative_mde)^2, the square of the
 * absolute minimum detectable effect (near the likelihood-ratio-maximising
 * tau2 at the planned sample size; see docs/analytics.md). Fix it when the
 * test starts (a data-dependent tau2 voids the guarantee). NaN when the
 * product is 0 or not finite.
 */
double stats_msprt_tau2(double baseline, double relative_mde);

/*
 * The mixture SPRT always-valid p-value for H0: p_variant == p_control at
 * this look, min(1, 1/Λ) with the normal approximation of the difference of
 * proportions, d = kv/nv - kc/nc, V = p(1 - p)(1/nv + 1/nc) at the pooled
 * rate p, and mixing distribution N(0, tau2):
 *     Λ = sqrt(V / (V + tau2)) * exp(tau2 d^2 / (2 V (V + tau2))).
 * Returns 1 when either arm is empty or V == 0 (all samples alike), or when
 * tau2 is not > 0. The running minimum over looks is the always-valid
 * p-value: the caller keeps it (stats_evaluate takes and returns it).
 */
double stats_msprt_p(struct stats_arm control, struct stats_arm variant, double tau2);

/*
 * Holm's step-down procedure over m p-values: adjusted[i] =
 * max over j ranked at or before i of min(1, (m - rank_j) p_j), as
 * statsmodels' multipletests(method='holm')[1]. Either output may be NULL;
 * reject[i] = adjusted[i] <= alpha. O(m^2), no allocation.
 */
void stats_holm(const double *p, size_t m, double alpha, bool *reject, double *adjusted);

struct stats_comparison {
	bool has_data;		/* both arms have n > 0; else lift, lift_ci are 0 (report as null) */
	double lift;		/* p_variant / p_control - 1 (from 0.5-adjusted counts when a k is 0) */
	struct stats_interval lift_ci;
	double p_value;		/* always-valid p: min(prev_p, mSPRT p now); store and pass back as prev_p */
	double p_adjusted;	/* Holm-adjusted p_value over the n_arms - 1 comparisons */
	double p_beat;		/* P(variant rate > control rate), Beta posteriors */
	bool significant;	/* p_adjusted <= 1 - confidence */
};

/*
 * One call for a whole test: arms[0] is the control, out[i - 1] compares
 * arms[i] with it (n_arms - 1 entries). prev_p is NULL on the first look,
 * else the previous look's out[].p_value per comparison (the running
 * minimum; NaN entries are ignored). tau2 as stats_msprt_tau2. -EINVAL
 * (out untouched) when n_arms < 2 or > STATS_MAX_ARMS, an arm has k > n, confidence is outside
 * (0, 1) or tau2 is not > 0.
 */
int stats_evaluate(const struct stats_arm *arms, size_t n_arms, double confidence, double tau2, const double *prev_p,
		   struct stats_comparison *out);
