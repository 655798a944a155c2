/*
 * Simulation tests for src/stats: what the always-valid p-value promises
 * when people look at results every day.
 *
 *   - A/A tests (both arms share one true rate) peeked daily for 30 days:
 *     the share of tests that the mSPRT ever calls significant stays at or
 *     below alpha plus a 3-sigma Monte-Carlo margin; the same data judged
 *     by a naive fixed-horizon z-test at every look exceeds alpha by far
 *     (the reason for the sequential test, and the proof that this test
 *     can fail);
 *   - five-arm A/A tests with Holm over the four comparisons: the
 *     family-wise rate stays at or below alpha;
 *   - a true +20% lift: the mSPRT reaches significance in most runs, and in
 *     at least 80% (less a 3-sigma margin) by the sample size that
 *     stats_msprt_sample_size plans for power 0.8.
 *
 * Traffic is binomial per arm per day (exact: Bernoulli trials counted by
 * geometric skips), from a seeded xoshiro256**, so every run is the same.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "abstats.h"
#include "tap.h"

#define ALPHA 0.05
#define DAYS 30

/* ---- xoshiro256** (Blackman & Vigna), seeded by splitmix64 ---- */

static uint64_t rng_s[4];

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(void)
{
	uint64_t result = rotl(rng_s[1] * 5, 7) * 9, t = rng_s[1] << 17;
	rng_s[2] ^= rng_s[0];
	rng_s[3] ^= rng_s[1];
	rng_s[1] ^= rng_s[2];
	rng_s[0] ^= rng_s[3];
	rng_s[2] ^= t;
	rng_s[3] = rotl(rng_s[3], 45);
	return result;
}

static void rng_seed(uint64_t seed)
{
	for (int i = 0; i < 4; i++) {
		uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		rng_s[i] = z ^ (z >> 31);
	}
}

/* Uniform on (0, 1). */
static double rng_uniform(void)
{
	return ((double)(rng_next() >> 11) + 0.5) * 0x1.0p-53;
}

/* Successes in n Bernoulli(p) trials: the gaps between successes are geometric. */
static uint64_t rng_binomial(uint64_t n, double p)
{
	double log_q = log1p(-p);
	uint64_t successes = 0;
	double position = 0;
	for (;;) {
		position += floor(log(rng_uniform()) / log_q) + 1;
		if (position > (double)n)
			return successes;
		successes++;
	}
}

/* ---- the naive test: two-sided pooled two-proportion z-test at one look ---- */

static double z_test_p(struct stats_arm c, struct stats_arm v)
{
	double pooled = (double)(c.k + v.k) / (double)(c.n + v.n);
	double se = sqrt(pooled * (1 - pooled) * (1.0 / c.n + 1.0 / v.n));
	if (!(se > 0))
		return 1.0;
	double z = ((double)v.k / v.n - (double)c.k / c.n) / se;
	return 2 * stats_norm_cdf(-fabs(z));
}

/* 3 binomial standard errors above alpha for this many simulated tests. */
static double margin(int runs)
{
	return 3 * sqrt(ALPHA * (1 - ALPHA) / runs);
}

struct scenario {
	const char *name;
	int runs;
	uint64_t daily, daily_variant; /* samples per day: control, variant */
	double rate, lift, mde;
};

struct outcome {
	int msprt_hits, naive_hits, final_hits, days_sum;
	int first_day[DAYS + 1]; /* runs first significant on each day */
};

/* Two arms, daily looks: how often each test declares a difference at some look. */
static struct outcome run_two_arms(const struct scenario *s)
{
	struct outcome o = { 0 };
	double tau2 = stats_msprt_tau2(s->rate, s->mde);
	for (int r = 0; r < s->runs; r++) {
		struct stats_arm c = { 0, 0 }, v = { 0, 0 };
		double running = 1.0;
		int msprt_day = 0, naive = 0;
		for (int day = 1; day <= DAYS; day++) {
			c.n += s->daily;
			v.n += s->daily_variant;
			c.k += rng_binomial(s->daily, s->rate);
			v.k += rng_binomial(s->daily_variant, s->rate * (1 + s->lift));
			running = fmin(running, stats_msprt_p(c, v, tau2));
			if (!msprt_day && running <= ALPHA)
				msprt_day = day;
			naive |= z_test_p(c, v) <= ALPHA;
		}
		o.msprt_hits += msprt_day > 0;
		o.days_sum += msprt_day;
		o.first_day[msprt_day]++;
		o.naive_hits += naive;
		o.final_hits += z_test_p(c, v) <= ALPHA;
	}
	return o;
}

static void test_aa(const struct scenario *s)
{
	struct outcome o = run_two_arms(s);
	double fp = (double)o.msprt_hits / s->runs, naive = (double)o.naive_hits / s->runs;
	double once = (double)o.final_hits / s->runs, bound = ALPHA + margin(s->runs);
	ok(fp <= bound, "%s: mSPRT false positives with daily peeking %.4f <= %.2f + 3 sigma = %.4f", s->name, fp,
	   ALPHA, bound);
	ok(naive > bound, "%s: a z-test peeked daily errs far more: %.4f > %.4f", s->name, naive, bound);
	ok(fabs(once - ALPHA) <= margin(s->runs), "%s: the z-test looked at once (day %d) errs %.4f, about alpha",
	   s->name, DAYS, once);
}

/* Five arms (control + 4 variants), all with the same rate; Holm over the 4 always-valid p-values. */
static void test_aa_five_arms(int runs, uint64_t daily, double rate, double mde)
{
	double tau2 = stats_msprt_tau2(rate, mde);
	int family_hits = 0, naive_hits = 0;
	for (int r = 0; r < runs; r++) {
		struct stats_arm arms[5] = { { 0, 0 } };
		double running[4] = { 1, 1, 1, 1 };
		bool any = false, naive = false;
		for (int day = 1; day <= DAYS; day++) {
			for (int a = 0; a < 5; a++) {
				arms[a].n += daily;
				arms[a].k += rng_binomial(daily, rate);
			}
			bool reject[4];
			for (int j = 0; j < 4; j++) {
				running[j] = fmin(running[j], stats_msprt_p(arms[0], arms[j + 1], tau2));
				naive |= z_test_p(arms[0], arms[j + 1]) <= ALPHA;
			}
			stats_holm(running, 4, ALPHA, reject, NULL);
			for (int j = 0; j < 4; j++)
				any |= reject[j];
		}
		family_hits += any;
		naive_hits += naive;
	}
	double fwer = (double)family_hits / runs, bound = ALPHA + margin(runs);
	ok(fwer <= bound, "five-arm A/A, %llu/arm/day: family-wise false positives (mSPRT + Holm) %.4f <= %.4f",
	   (unsigned long long)daily, fwer, bound);
	ok((double)naive_hits / runs > bound, "five-arm A/A: unadjusted z-tests peeked daily err %.4f",
	   (double)naive_hits / runs);
}

/* The same loop through stats_evaluate (running minimum passed back, Holm inside) on fewer runs. */
static void test_aa_evaluate(int runs, uint64_t daily, double rate, double mde)
{
	double tau2 = stats_msprt_tau2(rate, mde);
	int hits = 0;
	for (int r = 0; r < runs; r++) {
		struct stats_arm arms[3] = { { 0, 0 } };
		double prev[2] = { NAN, NAN };
		bool any = false;
		for (int day = 1; day <= DAYS; day++) {
			for (int a = 0; a < 3; a++) {
				arms[a].n += daily;
				arms[a].k += rng_binomial(daily, rate);
			}
			struct stats_comparison out[2];
			if (stats_evaluate(arms, 3, 1 - ALPHA, tau2, prev, out) != 0)
				break;
			for (int j = 0; j < 2; j++) {
				prev[j] = out[j].p_value;
				any |= out[j].significant;
			}
		}
		hits += any;
	}
	double fwer = (double)hits / runs, bound = ALPHA + margin(runs);
	ok(fwer <= bound, "three-arm A/A through stats_evaluate: family-wise false positives %.4f <= %.4f", fwer, bound);
}

/* Share of runs first significant on or before day. */
static double found_by(const struct outcome *o, int runs, int day)
{
	int found = 0;
	for (int d = 1; d <= day && d <= DAYS; d++)
		found += o->first_day[d];
	return (double)found / runs;
}

static void test_power(const struct scenario *s, double at_least)
{
	struct outcome o = run_two_arms(s);
	uint64_t fixed = 0, sequential = 0;
	stats_sample_size(s->rate, s->mde, ALPHA, 0.8, 1, &fixed);
	stats_msprt_sample_size(s->rate, s->mde, ALPHA, 0.8, 1, stats_msprt_tau2(s->rate, s->mde), &sequential);
	int fixed_day = (int)((fixed + s->daily - 1) / s->daily);
	int sequential_day = (int)((sequential + s->daily - 1) / s->daily);
	double power = (double)o.msprt_hits / s->runs, planned = found_by(&o, s->runs, sequential_day);
	double floor_ = 0.8 - 3 * sqrt(0.8 * 0.2 / s->runs);
	ok(power >= at_least, "%s: the mSPRT finds the true %+.0f%% lift in %.3f of runs within %d days (>= %.2f)",
	   s->name, s->lift * 100, power, DAYS, at_least);
	ok(planned >= floor_,
	   "%s: by stats_msprt_sample_size (%llu/arm, day %d) it found it in %.3f of runs (power 0.8 - 3 sigma = %.3f)",
	   s->name, (unsigned long long)sequential, sequential_day, planned, floor_);
	printf("# %s: mean day of significance %.1f; by the fixed-horizon stats_sample_size (%llu/arm, day %d)"
	       " only %.3f\n",
	       s->name, o.msprt_hits ? (double)o.days_sum / o.msprt_hits : 0, (unsigned long long)fixed, fixed_day,
	       found_by(&o, s->runs, fixed_day));
}

int main(void)
{
	rng_seed(20261203);

	/* a binomial sampler that is wrong would void everything below */
	uint64_t total = 0;
	for (int i = 0; i < 20000; i++)
		total += rng_binomial(1000, 0.05);
	double mean = (double)total / 20000;
	ok(fabs(mean - 50) < 4 * sqrt(1000 * 0.05 * 0.95 / 20000), "binomial sampler: mean %.3f ~ 50", mean);

	static const struct scenario aa[] = {
		{ "A/A, 1000/arm/day at 5%", 4000, 1000, 1000, 0.05, 0, 0.10 },
		{ "A/A, 100/arm/day at 2% (sparse)", 4000, 100, 100, 0.02, 0, 0.20 },
		{ "A/A, unequal split 1000 vs 250/day at 10%", 4000, 1000, 250, 0.10, 0, 0.10 },
	};
	for (size_t i = 0; i < sizeof(aa) / sizeof(aa[0]); i++)
		test_aa(&aa[i]);
	test_aa_five_arms(2000, 500, 0.05, 0.10);
	test_aa_evaluate(300, 300, 0.05, 0.10);

	static const struct scenario lift = { "+20% on 5%, 1000/arm/day", 2000, 1000, 1000, 0.05, 0.20, 0.20 };
	test_power(&lift, 0.8);
	return tap_done();
}
