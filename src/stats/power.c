/*
 * power.c - sample size of a two-proportion test, the power analysis of
 * statsmodels' NormalIndPower on Cohen's h (proportion_effectsize).
 *
 * With equal groups of n and effect size h, the two-sided z-test at alpha
 * has power
 *     Φ(s - c) + Φ(-s - c),   s = h sqrt(n / 2),  c = Φ⁻¹(1 - alpha/2)
 * (both rejection tails counted). It increases with s from alpha at s = 0,
 * so Newton from the one-tail answer s = c + Φ⁻¹(power), kept inside a
 * shrinking bracket, solves it to an ulp; n = 2 (s / h)².
 */
#include <errno.h>
#include <math.h>

#include "abstats.h"

static double norm_pdf(double x)
{
	return exp(-0.5 * x * x) / sqrt(2.0 * M_PI);
}

int stats_power_nobs(double effect_h, double alpha, double power, double *nobs_out)
{
	if (!(effect_h > 0.0 && isfinite(effect_h)) || !(alpha > 0.0 && alpha < 1.0) ||
	    !(power > alpha && power < 1.0))
		return -EINVAL;
	double c = -stats_norm_quantile(alpha / 2.0);
	double lo = 0.0, hi = c + 40.0, s = c + stats_norm_quantile(power);
	if (!(s > lo && s < hi))
		s = 0.5 * (lo + hi);
	for (int i = 0; i < 200; i++) {
		double g = stats_norm_cdf(s - c) + stats_norm_cdf(-s - c) - power;
		if (g > 0)
			hi = s;
		else
			lo = s;
		double slope = norm_pdf(s - c) - norm_pdf(s + c);
		double next = slope > 0 ? s - g / slope : 0.5 * (lo + hi);
		if (!(next > lo && next < hi))
			next = 0.5 * (lo + hi);
		if (fabs(next - s) <= 1e-15 * s || hi - lo <= 1e-15 * hi) {
			s = next;
			break;
		}
		s = next;
	}
	*nobs_out = 2.0 * (s / effect_h) * (s / effect_h);
	return 0;
}

int stats_sample_size(double baseline, double relative_mde, double alpha, double power, unsigned comparisons,
		      uint64_t *n_out)
{
	double target = baseline * (1.0 + relative_mde);
	if (!(baseline > 0.0 && baseline < 1.0) || !(target > 0.0 && target < 1.0) || relative_mde == 0.0 ||
	    comparisons < 1)
		return -EINVAL;
	double h = fabs(2.0 * asin(sqrt(target)) - 2.0 * asin(sqrt(baseline)));
	double nobs;
	int r = stats_power_nobs(h, alpha / comparisons, power, &nobs);
	if (r < 0)
		return r;
	nobs = ceil(nobs);
	if (!(nobs <= 9007199254740992.0))
		return -EINVAL;
	*n_out = (uint64_t)nobs;
	return 0;
}
