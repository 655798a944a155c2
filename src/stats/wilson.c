/*
 * wilson.c - the Wilson score interval for one proportion: the p for which
 * |k/n - p| <= z sqrt(p (1 - p) / n), i.e. the roots of
 *     (n + z²) p² - (2k + z²) p + k²/n = 0.
 * The larger root is computed directly and the smaller as (k²/n) / ((n + z²)
 * larger), so lo is exactly 0 at k = 0 without cancellation; hi comes from
 * the mirror image (n - k failures) so it is exactly 1 at k = n.
 */
#include <errno.h>
#include <math.h>

#include "abstats.h"

/* The lower Wilson bound for k successes of n at critical value z. */
static double wilson_lower(double k, double n, double z)
{
	if (k == 0.0)
		return 0.0;
	double z2 = z * z;
	double upper = (2.0 * k + z2 + z * sqrt(z2 + 4.0 * k * (n - k) / n)) / (2.0 * (n + z2));
	return (k / n) * k / ((n + z2) * upper);
}

int stats_wilson(uint64_t k, uint64_t n, double confidence, struct stats_interval *out)
{
	if (n == 0 || k > n || !(confidence > 0.0 && confidence < 1.0))
		return -EINVAL;
	double z = -stats_norm_quantile((1.0 - confidence) / 2.0);
	out->lo = wilson_lower((double)k, (double)n, z);
	out->hi = 1.0 - wilson_lower((double)(n - k), (double)n, z);
	return 0;
}
