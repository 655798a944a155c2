/*
 * normal.c - the standard normal distribution: Φ from libm's erfc (relative
 * accuracy of a few ulps even far in the tails) and Φ⁻¹ by the Abramowitz &
 * Stegun 26.2.23 rational start (|error| < 4.5e-4) refined by Halley steps
 * on Φ until the step is below an ulp (cubic convergence: three steps from
 * the start reach full double precision). Near p = 1/2 the residual goes
 * through erf, so Φ⁻¹ keeps relative accuracy where the result is near 0.
 */
#include <math.h>

#include "abstats.h"

double stats_norm_cdf(double x)
{
	return 0.5 * erfc(-x / M_SQRT2);
}

/* Φ⁻¹(p) for p in (0, 0.5]: the lower tail, where p carries full precision. */
static double lower_quantile(double p)
{
	double t = sqrt(-2.0 * log(p));
	double x = -(t - (2.515517 + t * (0.802853 + t * 0.010328)) /
			     (1.0 + t * (1.432788 + t * (0.189269 + t * 0.001308))));
	for (int i = 0; i < 8; i++) {
		/* Halley on Φ(x) - p: u = (Φ(x) - p) / φ(x), x -= u / (1 + x u / 2); near the
		 * centre Φ(x) - p = erf(x/√2)/2 + (1/2 - p), both terms exact in relative terms */
		double e = p > 0.25 ? 0.5 * erf(x / M_SQRT2) + (0.5 - p) : stats_norm_cdf(x) - p;
		double u = e * sqrt(2.0 * M_PI) * exp(0.5 * x * x);
		double step = u / (1.0 + 0.5 * x * u);
		x -= step;
		if (fabs(step) <= 1e-16 * fabs(x))
			break;
	}
	return x;
}

double stats_norm_quantile(double p)
{
	if (isnan(p) || p < 0.0 || p > 1.0)
		return NAN;
	if (p == 0.0)
		return -INFINITY;
	if (p == 1.0)
		return INFINITY;
	if (p == 0.5)
		return 0.0;
	return p < 0.5 ? lower_quantile(p) : -lower_quantile(1.0 - p);
}
