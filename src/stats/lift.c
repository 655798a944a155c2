/*
 * lift.c - relative lift of a variant over the control and its interval:
 * the Katz log interval for the ratio of two independent proportions,
 *     ratio = (kv / nv) / (kc / nc),
 *     log(ratio) ± z sqrt(1/kv - 1/nv + 1/kc - 1/nc),
 * minus 1 (statsmodels confint_proportions_2indep, compare='ratio',
 * method='log'). The log of a zero rate has no interval, so when either
 * arm has no success both arms use k + 0.5 successes of n + 0.5 samples
 * (method='log-adjusted'), point estimate included.
 */
#include <errno.h>
#include <math.h>

#include "abstats.h"

int stats_lift_interval(struct stats_arm control, struct stats_arm variant, double confidence, double *lift_out,
			struct stats_interval *out)
{
	if (control.n == 0 || variant.n == 0 || control.k > control.n || variant.k > variant.n ||
	    !(confidence > 0.0 && confidence < 1.0))
		return -EINVAL;
	double add = (control.k == 0 || variant.k == 0) ? 0.5 : 0.0;
	double kc = (double)control.k + add, nc = (double)control.n + add;
	double kv = (double)variant.k + add, nv = (double)variant.n + add;
	double ratio = (kv / nv) / (kc / nc);
	double var = 1.0 / kv - 1.0 / nv + 1.0 / kc - 1.0 / nc;
	double d = -stats_norm_quantile((1.0 - confidence) / 2.0) * sqrt(var > 0.0 ? var : 0.0);
	double log_ratio = log(ratio);
	out->lo = expm1(log_ratio - d);
	out->hi = expm1(log_ratio + d);
	if (lift_out)
		*lift_out = ratio - 1.0;
	return 0;
}
