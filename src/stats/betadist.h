/*
 * betadist.h - the Beta distribution with parameters >= 1 for the posterior
 * computations (internal to src/stats): density and regularized incomplete
 * beta, accurate in relative terms for parameters up to 1e9 and beyond.
 */
#pragma once

/*
 * Density of Beta(a, b) at x, a, b >= 1, x in (0, 1) with q = 1 - x passed
 * separately (pass the better-known of the two complements exactly).
 */
double beta_pdf(double x, double q, double a, double b);

/*
 * Regularized incomplete beta: *lower = I_x(a, b) = P(X <= x) and *upper =
 * 1 - I_x(a, b), each with relative accuracy: the continued fraction gives
 * the one that is small on its side of the mean directly, the other is 1
 * minus it. a, b >= 1, x in (0, 1), q = 1 - x.
 */
void beta_cdf(double x, double q, double a, double b, double *lower, double *upper);
