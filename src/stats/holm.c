/*
 * holm.c - Holm's step-down procedure (Holm 1979): sort the m p-values,
 * compare the i-th smallest (i from 0) with alpha / (m - i) and stop at the
 * first that fails. As adjusted p-values: the running maximum over the
 * sorted order of min(1, (m - i) p_(i)), compared with alpha. Ranks are
 * counted pairwise (ties in input order), so no allocation; m is the
 * number of comparisons with the control, a handful.
 */
#include <math.h>

#include "abstats.h"

/* The rank of p[i] in ascending order, ties broken by index. */
static size_t rank_of(const double *p, size_t m, size_t i)
{
	size_t r = 0;
	for (size_t j = 0; j < m; j++)
		if (p[j] < p[i] || (p[j] == p[i] && j < i))
			r++;
	return r;
}

void stats_holm(const double *p, size_t m, double alpha, bool *reject, double *adjusted)
{
	for (size_t i = 0; i < m; i++) {
		size_t ri = rank_of(p, m, i);
		double adj = 0.0;
		for (size_t j = 0; j < m; j++) {
			size_t rj = rank_of(p, m, j);
			if (rj <= ri)
				adj = fmax(adj, fmin(1.0, (double)(m - rj) * p[j]));
		}
		if (adjusted)
			adjusted[i] = adj;
		if (reject)
			reject[i] = adj <= alpha;
	}
}
