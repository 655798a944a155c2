/*
 * beta.c - Beta(a, b) density and regularized incomplete beta for the
 * posterior computations, stable for huge parameters (a + b ~ 1e8 and more).
 *
 * Taking logs of x^(a-1) (1-x)^(b-1) / B(a, b) term by term loses about
 * (a + b) * 1e-16 in absolute terms (1e-8 relative at 1e8 samples), so the
 * density goes through Loader's saddle-point form of the binomial
 * probability (C. Loader, "Fast and accurate computation of binomial
 * probabilities", 2000; R's dbinom_raw):
 *     Beta(a, b) pdf at x = (a + b - 1) * Binom(a - 1; a + b - 2, x),
 *     Binom(k; n, p) = exp(stirlerr(n) - stirlerr(k) - stirlerr(n - k)
 *                          - bd0(k, n p) - bd0(n - k, n q)) * sqrt(n / (2π k (n - k))),
 * where stirlerr is the error of Stirling's formula and bd0(x, m) =
 * x log(x / m) + m - x is summed as a series near x = m. The incomplete
 * beta is that prefactor times the continued fraction of Numerical
 * Recipes 6.4 (modified Lentz), on the side of the mean where it converges
 * (about sqrt(max(a, b)) terms).
 */
#include <float.h>
#include <math.h>

#include "betadist.h"

#define LN_SQRT_2PI 0.918938533204672741780329736406 /* log(sqrt(2π)) */

/* log(n!) - log(sqrt(2π n) (n/e)^n), n >= 0 (0 at n = 0 by convention). */
static double stirlerr(double n)
{
	static const double s0 = 1.0 / 12, s1 = 1.0 / 360, s2 = 1.0 / 1260, s3 = 1.0 / 1680, s4 = 1.0 / 1188;
	if (n <= 0.0)
		return 0.0;
	if (n <= 15.0) /* |error| ~ 1e-14 absolute: what the density's log needs */
		return lgamma(n + 1.0) - (n + 0.5) * log(n) + n - LN_SQRT_2PI;
	double nn = n * n;
	if (n > 500)
		return (s0 - s1 / nn) / n;
	if (n > 80)
		return (s0 - (s1 - s2 / nn) / nn) / n;
	if (n > 35)
		return (s0 - (s1 - (s2 - s3 / nn) / nn) / nn) / n;
	return (s0 - (s1 - (s2 - (s3 - s4 / nn) / nn) / nn) / nn) / n;
}

/* x log(x / m) + m - x without cancellation when x is near m (x >= 0, m > 0). */
static double bd0(double x, double m)
{
	if (fabs(x - m) < 0.1 * (x + m)) {
		double v = (x - m) / (x + m), s = (x - m) * v, ej = 2 * x * v;
		v *= v;
		for (int j = 1; j < 1000; j++) {
			ej *= v;
			double s1 = s + ej / (2 * j + 1);
			if (s1 == s)
				return s1;
			s = s1;
		}
		return s;
	}
	return x * log(x / m) + m - x;
}

/* Binomial probability of k successes in n trials of probability p = 1 - q (0 < p < 1). */
static double binom_prob(double k, double n, double p, double q)
{
	if (k == 0)
		return n == 0 ? 1.0 : exp(p < 0.1 ? -bd0(n, n * q) - n * p : n * log(q));
	if (k == n)
		return exp(q < 0.1 ? -bd0(n, n * p) - n * q : n * log(p));
	double lc = stirlerr(n) - stirlerr(k) - stirlerr(n - k) - bd0(k, n * p) - bd0(n - k, n * q);
	double lf = 2 * LN_SQRT_2PI + log(k) + log1p(-k / n);
	return exp(lc - 0.5 * lf);
}

double beta_pdf(double x, double q, double a, double b)
{
	return (a + b - 1) * binom_prob(a - 1, a + b - 2, x, q);
}

/* The continued fraction for I_x(a, b) * a B(a, b) / (x^a q^b); converges for x < (a + 1) / (a + b + 2). */
static double beta_cf(double x, double a, double b)
{
	const double tiny = 1e-300;
	double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
	if (fabs(d) < tiny)
		d = tiny;
	d = 1.0 / d;
	double h = d;
	double max_terms = 100.0 + 20.0 * sqrt(a > b ? a : b);
	for (double m = 1; m <= max_terms; m++) {
		double m2 = 2 * m;
		double aa = m * (b - m) * x / ((a - 1 + m2) * (a + m2));
		d = 1.0 + aa * d;
		if (fabs(d) < tiny)
			d = tiny;
		c = 1.0 + aa / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1.0 / d;
		h *= d * c;
		aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + 1 + m2));
		d = 1.0 + aa * d;
		if (fabs(d) < tiny)
			d = tiny;
		c = 1.0 + aa / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1.0 / d;
		double del = d * c;
		h *= del;
		if (fabs(del - 1.0) < 2 * DBL_EPSILON)
			break;
	}
	return h;
}

void beta_cdf(double x, double q, double a, double b, double *lower, double *upper)
{
	/* x^a q^b / B(a, b) = x q pdf(x) */
	double front = x * q * beta_pdf(x, q, a, b);
	if (x < (a + 1.0) / (a + b + 2.0)) {
		*lower = front * beta_cf(x, a, b) / a;
		*upper = 1.0 - *lower;
	} else {
		*upper = front * beta_cf(q, b, a) / b;
		*lower = 1.0 - *upper;
	}
}
