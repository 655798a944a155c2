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
