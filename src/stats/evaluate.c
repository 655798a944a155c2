/*
 * evaluate.c - one look at an A/B test: every variant against the control
 * (arms[0]) with the always-valid mSPRT p-value (running minimum), Holm
 * across the comparisons, the Katz lift interval and P(beat control).
 */
#include <errno.h>
#include <math.h>

#include "abstats.h"

int stats_evaluate(const struct stats_arm *arms, size_t n_arms, double confidence, double tau2, const double *prev_p,
		   struct stats_comparison *out)
{
	if (n_arms < 2 || n_arms > STATS_MAX_ARMS || !(confidence > 0.0 && confidence < 1.0) || !(tau2 > 0.0) || !isfinite(tau2))
		return -EINVAL;
	for (size_t i = 0; i < n_arms; i++)
		if (arms[i].k > arms[i].n)
			return -EINVAL;

	size_t m = n_arms - 1;
	struct stats_arm control = arms[0];
	for (size_t i = 0; i < m; i++) {
		struct stats_arm variant = arms[i + 1];
		struct stats_comparison *c = &out[i];
		c->has_data = control.n > 0 && variant.n > 0;
		c->lift = 0.0;
		c->lift_ci = (struct stats_interval){ 0.0, 0.0 };
		if (c->has_data)
			stats_lift_interval(control, variant, confidence, &c->lift, &c->lift_ci);
		c->p_value = stats_msprt_p(control, variant, tau2);
		if (prev_p && prev_p[i] < c->p_value) /* false for NaN */
			c->p_value = prev_p[i];
		c->p_beat = stats_prob_beat(control, variant);
	}

	double p[STATS_MAX_ARMS], adjusted[STATS_MAX_ARMS];
	bool reject[STATS_MAX_ARMS];
	for (size_t i = 0; i < m; i++)
		p[i] = out[i].p_value;
	stats_holm(p, m, 1.0 - confidence, reject, adjusted);
	for (size_t i = 0; i < m; i++) {
		out[i].p_adjusted = adjusted[i];
		out[i].significant = reject[i];
	}
	return 0;
}
