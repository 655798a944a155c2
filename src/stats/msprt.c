/*
 * msprt.c - the mixture sequential probability ratio test (Johari, Pekelis &
 * Walsh, "Always valid inference: continuous monitoring of A/B tests",
 * Operations Research 2022 / arXiv 2015; the method of Optimizely's Stats
 * Engine) on the difference of two proportions.
 *
 * The difference d = kv/nv - kc/nc is approximately N(θ, V); under H0
 * (θ = 0) V = p(1 - p)(1/nv + 1/nc) at the pooled rate p. Mixing the
 * likelihood ratio of θ against 0 over θ ~ N(0, tau2) gives
 *     Λ = sqrt(V / (V + tau2)) exp(tau2 d² / (2 V (V + tau2))),
 * a nonnegative martingale under H0 with mean 1, so by Ville's inequality
 * P(Λ ever reaches 1/alpha) <= alpha: p = min(1, 1/Λ), minimised over the
 * looks, may be checked after every batch of data.
 */
#include <errno.h>
#include <math.h>

#include "abstats.h"

double stats_msprt_tau2(double baseline, double relative_mde)
{
	double effect = baseline * relative_mde;
	double tau2 = effect * effect;
	return tau2 > 0.0 && isfinite(tau2) ? tau2 : NAN;
}

double stats_msprt_p(struct stats_arm control, struct stats_arm variant, double tau2)
{
	if (control.n == 0 || variant.n == 0 || control.k > control.n || variant.k > variant.n || !(tau2 > 0.0) ||
	    !isfinite(tau2))
		return 1.0;
	double nc = (double)control.n, nv = (double)variant.n;
	double pooled = ((double)control.k + (double)variant.k) / (nc + nv);
	double v = pooled * (1.0 - pooled) * (1.0 / nv + 1.0 / nc);
	if (!(v > 0.0))
		return 1.0;
	double d = (double)variant.k / nv - (double)control.k / nc;
	double log_lambda = 0.5 * log(v / (v + tau2)) + tau2 * d * d / (2.0 * v * (v + tau2));
	return log_lambda <= 0.0 ? 1.0 : exp(-log_lambda);
}

/*
 * Rejection probability of the mSPRT at its last look with n samples per
 * arm (equal split), rates p0 -> p1: Λ >= 1/alpha exactly when
 *     d² / V0 >= (1 + V0 / tau2) (2 log(1/alpha) + log(1 + tau2 / V0)),
 * V0 = 2 p̄ (1 - p̄) / n at the mean rate p̄; d ~ N(p1 - p0, V1) with
 * V1 = (p0 (1 - p0) + p1 (1 - p1)) / n. Earlier looks only add to the power,
 * so this is a lower bound of the sequential test's power.
 */
static double msprt_last_look_power(double n, double p0, double p1, double alpha, double tau2)
{
	double mean = 0.5 * (p0 + p1);
	double v0 = 2.0 * mean * (1.0 - mean) / n, v1 = (p0 * (1.0 - p0) + p1 * (1.0 - p1)) / n;
	double c2 = (1.0 + v0 / tau2) * (2.0 * log(1.0 / alpha) + log1p(tau2 / v0));
	double t = sqrt(c2 * v0), delta = fabs(p1 - p0), s1 = sqrt(v1);
	return stats_norm_cdf((delta - t) / s1) + stats_norm_cdf((-delta - t) / s1);
}

int stats_msprt_sample_size(double baseline, double relative_mde, double alpha, double power, unsigned comparisons,
			    double tau2, uint64_t *n_out)
{
	double target = baseline * (1.0 + relative_mde);
	if (!(baseline > 0.0 && baseline < 1.0) || !(target > 0.0 && target < 1.0) || relative_mde == 0.0 ||
	    comparisons < 1 || !(alpha > 0.0 && alpha < 1.0) || !(power > 0.0 && power < 1.0) || !(tau2 > 0.0) ||
	    !isfinite(tau2))
		return -EINVAL;
	double a = alpha / comparisons, lo = 1.0, hi = 9007199254740992.0; /* 2^53 */
	if (msprt_last_look_power(hi, baseline, target, a, tau2) < power)
		return -EINVAL;
	if (msprt_last_look_power(lo, baseline, target, a, tau2) >= power) {
		*n_out = 1;
		return 0;
	}
	while (hi - lo > 1.0) { /* power(lo) < target <= power(hi), over integers */
		double mid = floor(lo + (hi - lo) / 2.0);
		if (msprt_last_look_power(mid, baseline, target, a, tau2) >= power)
			hi = mid;
		else
			lo = mid;
	}
	*n_out = (uint64_t)hi;
	return 0;
}
