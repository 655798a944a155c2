#!/usr/bin/python3
"""Checks src/stats against Debian's python3-scipy and python3-statsmodels.

Usage: /usr/bin/python3 tests/unit/stats_reference.py build/tests/unit/test-stats

Runs `test-stats --dump`, which prints one line per case of the C table
("kind inputs | outputs"), computes every figure again with scipy or
statsmodels and prints TAP: one test per figure, with the relative error in
the description. Nothing is stored, so the reference cannot drift from the
library (the meson test `stats-reference` runs this).

Tolerances (|c - ref| <= rel * |ref| + abs):
  - the same closed formula on both sides (Φ, Φ⁻¹, Wilson, Katz lift
    interval, mSPRT, Holm): rel 1e-9; abs 1e-15 only where the reference
    itself cancels (statsmodels' Wilson centre - half-width at k = 0 is
    ~1e-17, the C bound is exactly 0);
  - Beta density and incomplete beta (the pieces of P(beat)): against
    scipy.stats.beta.pdf/cdf/sf (Boost), rel 1e-9 while a + b <= 1e6 and
    5e-9 beyond, where Boost itself is off by up to ~1e-9 (not
    scipy.special.betainc: Cephes' incbet is off by 1e-7 at a + b = 1e8 and
    returns 0.39 for I_0.5(5e7 + 1, 5e7 + 1) = 0.5); and, what decides, an
    exact 30-digit mpmath sum of the binomial tail I_x(a, b) =
    P(Binomial(a + b - 1, x) >= a), rel 1e-11;
  - sample size: statsmodels solves the power equation with brentq at
    xtol 1e-5, so nobs agrees within 2e-5 absolute; the exactness of the C
    value is checked separately (statsmodels' NormalIndPower.power at the C
    nobs equals the asked power within 1e-12) and ceil() must agree;
  - mSPRT sample size: the same last-look power formula solved by scipy's
    brentq (xtol 1e-9); the integers must agree;
  - P(beat): the C value is Gauss-Legendre quadrature, the reference
    scipy.integrate.quad (epsrel 1e-12) over beta.pdf * beta.cdf on the
    same support; rel 1e-9. For n <= 200 also the exact finite sum
    (Evan Miller's formula, scipy.special.betaln), rel 1e-9.
"""
import math
import subprocess
import sys
import warnings

import numpy as np
from mpmath import mp
from scipy import integrate, optimize, special, stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (confint_proportions_2indep, proportion_confint,
                                          proportion_effectsize)

warnings.simplefilter("ignore")  # statsmodels' start-value warnings; figures are checked below

n_tests = 0
n_failed = 0


def check(got, want, desc, rel=1e-9, abs_=0.0):
    global n_tests, n_failed
    n_tests += 1
    if isinstance(want, float) and math.isnan(want):
        good = isinstance(got, float) and math.isnan(got)
        err = 0.0
    elif math.isinf(want):
        good = got == want
        err = 0.0
    else:
        diff = abs(got - want)
        good = diff <= rel * abs(want) + abs_
        err = diff / abs(want) if want != 0 else diff
    print(f"{'ok' if good else 'not ok'} {n_tests} - {desc}: C {got!r} ref {want!r} (err {err:.2g})")
    if not good:
        n_failed += 1


def check_true(cond, desc):
    global n_tests, n_failed
    n_tests += 1
    print(f"{'ok' if cond else 'not ok'} {n_tests} - {desc}")
    if not cond:
        n_failed += 1


# ---- references ----

def ref_wilson(k, n, confidence):
    return proportion_confint(k, n, alpha=1.0 - confidence, method="wilson")


def ref_lift(kc, nc, kv, nv, confidence):
    """statsmodels' Katz log-ratio interval (0.5-adjusted when a count is 0) and the point estimate."""
    method = "log-adjusted" if kc == 0 or kv == 0 else "log"
    lo, hi = confint_proportions_2indep(kv, nv, kc, nc, method=method, compare="ratio",
                                        alpha=1.0 - confidence)
    add = 0.5 if method == "log-adjusted" else 0.0
    ratio = ((kv + add) / (nv + add)) / ((kc + add) / (nc + add))
    return ratio, lo, hi


def ref_msprt(kc, nc, kv, nv, tau2):
    """The mixture-SPRT always-valid p at one look, numpy closed form."""
    if nc == 0 or nv == 0:
        return 1.0
    pooled = (kc + kv) / (nc + nv)
    v = pooled * (1 - pooled) * (1 / nv + 1 / nc)
    if v <= 0:
        return 1.0
    d = kv / nv - kc / nc
    lam = np.sqrt(v / (v + tau2)) * np.exp(tau2 * d * d / (2 * v * (v + tau2)))
    return float(min(1.0, 1.0 / lam))


def ref_beat_quad(kc, nc, kv, nv):
    """P(Xv > Xc), Beta(1+k, 1+n-k) posteriors: quad over the narrower pdf times the other's cdf/sf."""
    ac, bc, av, bv = 1 + kc, 1 + nc - kc, 1 + kv, 1 + nv - kv
    var = lambda a, b: a * b / ((a + b) ** 2 * (a + b + 1))
    if var(av, bv) <= var(ac, bc):
        dn, tail = stats.beta(av, bv), stats.beta(ac, bc).cdf
    else:
        dn, tail = stats.beta(ac, bc), stats.beta(av, bv).sf
    mean, sd = dn.mean(), dn.std()
    lo, hi = max(0.0, mean - 40 * sd), min(1.0, mean + 40 * sd)
    # break points every 2 sd so quad sees the peak and the tails
    pts = [x for x in np.arange(mean - 38 * sd, mean + 38.5 * sd, 2 * sd) if lo < x < hi]
    num, _ = integrate.quad(lambda x: dn.pdf(x) * tail(x), lo, hi, points=pts, limit=2000,
                            epsabs=0, epsrel=1e-12)
    mass, _ = integrate.quad(dn.pdf, lo, hi, points=pts, limit=2000, epsabs=0, epsrel=1e-12)
    return num / mass


def ref_beat_sum(kc, nc, kv, nv):
    """Evan Miller's exact sum for P(Xv > Xc) with integer Beta parameters."""
    a_a, b_a, a_b, b_b = 1 + kc, 1 + nc - kc, 1 + kv, 1 + nv - kv
    total = 0.0
    for i in range(a_b):
        total += math.exp(special.betaln(a_a + i, b_a + b_b) - math.log(b_b + i)
                          - special.betaln(1 + i, b_b) - special.betaln(a_a, b_a))
    return total


def mp_beta_cdf(x, a, b):
    """(I_x(a, b), 1 - I_x(a, b)) for integer a, b as the binomial tail, summed in 30 digits."""
    mp.dps = 30
    n, x = int(a + b - 1), mp.mpf(x)
    j = int(a)
    term = mp.binomial(n, j) * x ** j * (1 - x) ** (n - j)
    total = mp.mpf(0)
    while j <= n:
        total += term
        if term < total * mp.mpf(10) ** -28 and j > n * x:
            break
        term = term * (n - j) / (j + 1) * x / (1 - x)
        j += 1
    return float(total), float(1 - total)


def mp_beta_pdf(x, a, b):
    mp.dps = 30
    a, b, x = int(a), int(b), mp.mpf(x)
    return float((a + b - 1) * mp.binomial(a + b - 2, a - 1) * x ** (a - 1) * (1 - x) ** (b - 1))


def main():
    out = subprocess.run([sys.argv[1], "--dump"], check=True, capture_output=True, text=True).stdout
    lines = [line for line in out.splitlines() if line.strip()]
    check_true(len(lines) > 100, f"test-stats --dump printed {len(lines)} cases")
    for line in lines:
        kind, rest = line.split(" ", 1)
        inputs, outputs = rest.split("|")
        i = inputs.split()
        o = outputs.split()
        if kind == "norm_cdf":
            x = float(i[0])
            check(float(o[0]), float(stats.norm.cdf(x)), f"Φ({x:g}) = scipy norm.cdf")
        elif kind == "norm_quantile":
            p = float(i[0])
            check(float(o[0]), float(stats.norm.ppf(p)), f"Φ⁻¹({p:g}) = scipy norm.ppf")
        elif kind == "beta":
            x, a, b = map(float, i)
            pdf, lower, upper = map(float, o)
            rel = 1e-9 if a + b <= 1e6 else 5e-9
            check(pdf, float(stats.beta.pdf(x, a, b)), f"Beta({a:.0f},{b:.0f}) pdf at {x:g} = scipy beta.pdf", rel=rel)
            rel = 1e-9 if a + b <= 1e6 else 5e-9
            check(lower, float(stats.beta.cdf(x, a, b)), f"I_{x:g}({a:.0f},{b:.0f}) = scipy beta.cdf", rel=rel)
            check(upper, float(stats.beta.sf(x, a, b)), f"1 - I_{x:g}({a:.0f},{b:.0f}) = scipy beta.sf", rel=rel)
            check(pdf, mp_beta_pdf(x, a, b), f"Beta({a:.0f},{b:.0f}) pdf at {x:g} = exact (mpmath)", rel=1e-11)
            mp_lower, mp_upper = mp_beta_cdf(x, a, b)
            check(lower, mp_lower, f"I_{x:g}({a:.0f},{b:.0f}) = exact binomial tail (mpmath)", rel=1e-11)
            check(upper, mp_upper, f"1 - I_{x:g}({a:.0f},{b:.0f}) = exact binomial tail (mpmath)", rel=1e-11)
        elif kind == "wilson":
            k, n, conf = int(i[0]), int(i[1]), float(i[2])
            lo, hi = ref_wilson(k, n, conf)
            check(float(o[0]), float(lo), f"Wilson {k}/{n} at {conf:g}: lo = statsmodels", abs_=1e-15)
            check(float(o[1]), float(hi), f"Wilson {k}/{n} at {conf:g}: hi = statsmodels", abs_=1e-15)
        elif kind == "power":
            base, mde, alpha, power, comparisons = (float(i[0]), float(i[1]), float(i[2]), float(i[3]),
                                                    int(i[4]))
            r1, nobs, r2, n = int(o[0]), float(o[1]), int(o[2]), int(o[3])
            check_true(r1 == 0 and r2 == 0, f"power {base:g} {mde:+g} accepted")
            es = abs(proportion_effectsize(base * (1 + mde), base))
            ana = NormalIndPower()
            want = ana.solve_power(effect_size=es, alpha=alpha / comparisons, power=power, ratio=1,
                                   alternative="two-sided")
            want = float(np.asarray(want).item())
            check(nobs, want, f"nobs for {base:g}{mde:+g} at alpha {alpha:g}/{comparisons}, power {power:g}"
                  " = statsmodels solve_power", rel=1e-12, abs_=2e-5)
            at_c = float(ana.power(es, nobs, alpha / comparisons, ratio=1, alternative="two-sided"))
            check(at_c, power, f"statsmodels power at the C nobs {nobs:.6f} is {power:g}", rel=1e-12)
            check_true(n == math.ceil(want), f"sample size {n} = ceil(statsmodels {want:.6f})")
        elif kind == "msprt_n":
            base, mde, alpha, power, comparisons, tau2 = (float(i[0]), float(i[1]), float(i[2]), float(i[3]),
                                                          int(i[4]), float(i[5]))
            r, n = int(o[0]), int(o[1])
            check_true(r == 0, f"mSPRT sample size {base:g}{mde:+g} accepted")
            p0, p1, a = base, base * (1 + mde), alpha / comparisons

            def last_look(nn):
                v0 = 2 * (p0 + p1) / 2 * (1 - (p0 + p1) / 2) / nn
                v1 = (p0 * (1 - p0) + p1 * (1 - p1)) / nn
                t = np.sqrt(v0 * (1 + v0 / tau2) * (2 * np.log(1 / a) + np.log1p(tau2 / v0)))
                s1 = np.sqrt(v1)
                return stats.norm.cdf((abs(p1 - p0) - t) / s1) + stats.norm.cdf((-abs(p1 - p0) - t) / s1)
            root = optimize.brentq(lambda nn: last_look(nn) - power, 1, 2 ** 53, xtol=1e-9, rtol=1e-15)
            check_true(n == math.ceil(root), f"mSPRT sample size {n} for {base:g}{mde:+g} at alpha {alpha:g}/"
                       f"{comparisons}, power {power:g} = ceil(scipy brentq root {root:.6f})")
        elif kind == "lift":
            kc, nc, kv, nv, conf = int(i[0]), int(i[1]), int(i[2]), int(i[3]), float(i[4])
            ratio, lo, hi = ref_lift(kc, nc, kv, nv, conf)
            lift, clo, chi = map(float, o)
            desc = f"lift {kv}/{nv} vs {kc}/{nc} at {conf:g}"
            check(lift + 1, ratio, f"{desc}: ratio")
            check(clo + 1, float(lo), f"{desc}: ratio lo = statsmodels confint_proportions_2indep")
            check(chi + 1, float(hi), f"{desc}: ratio hi = statsmodels confint_proportions_2indep")
        elif kind == "beat":
            kc, nc, kv, nv = map(int, i)
            got = float(o[0])
            check(got, ref_beat_quad(kc, nc, kv, nv), f"P(beat) {kv}/{nv} vs {kc}/{nc} = scipy quad")
            if nc <= 200 and nv <= 200:
                check(got, ref_beat_sum(kc, nc, kv, nv), f"P(beat) {kv}/{nv} vs {kc}/{nc} = exact sum")
        elif kind == "msprt":
            kc, nc, kv, nv, tau2 = int(i[0]), int(i[1]), int(i[2]), int(i[3]), float(i[4])
            check(float(o[0]), ref_msprt(kc, nc, kv, nv, tau2),
                  f"mSPRT p {kv}/{nv} vs {kc}/{nc}, tau2 {tau2:g} = numpy closed form")
        elif kind == "holm":
            alpha = float(i[0])
            p = [float(x) for x in i[1:]]
            reject, adjusted = multipletests(p, alpha=alpha, method="holm")[:2]
            for j in range(len(p)):
                check_true(int(o[2 * j]) == int(reject[j]), f"Holm {p} at {alpha:g}: reject[{j}] = statsmodels")
                check(float(o[2 * j + 1]), float(adjusted[j]), f"Holm {p}: adjusted[{j}] = statsmodels")
        elif kind == "evaluate":
            conf, tau2 = float(i[0]), float(i[1])
            cut = i.index("prev")
            counts = list(map(int, i[2:cut]))
            prev = [float(x) for x in i[cut + 1:]]
            arms = [(counts[2 * j], counts[2 * j + 1]) for j in range(len(counts) // 2)]
            kc, nc = arms[0]
            m = len(arms) - 1
            name = f"evaluate {arms} prev {prev}"
            pvals = []
            for j, (kv, nv) in enumerate(arms[1:]):
                has, lift, lo, hi, p, padj, beat, sig = o[8 * j:8 * j + 8]
                has = int(has) == 1
                check_true(has == (nc > 0 and nv > 0), f"{name}: comparison {j} has_data")
                if has:
                    ratio, rlo, rhi = ref_lift(kc, nc, kv, nv, conf)
                    check(float(lift) + 1, ratio, f"{name}: comparison {j} ratio")
                    check(float(lo) + 1, float(rlo), f"{name}: comparison {j} ratio lo")
                    check(float(hi) + 1, float(rhi), f"{name}: comparison {j} ratio hi")
                want_p = ref_msprt(kc, nc, kv, nv, tau2)
                if not math.isnan(prev[j]):
                    want_p = min(want_p, prev[j])
                check(float(p), want_p, f"{name}: comparison {j} p = min(prev, mSPRT)")
                check(float(beat), ref_beat_quad(kc, nc, kv, nv), f"{name}: comparison {j} P(beat) = quad")
                pvals.append(float(p))
            reject, adjusted = multipletests(pvals, alpha=1 - conf, method="holm")[:2]
            for j in range(m):
                padj, sig = float(o[8 * j + 5]), int(o[8 * j + 7])
                check(padj, float(adjusted[j]), f"{name}: comparison {j} Holm-adjusted p = statsmodels")
                check_true(sig == int(reject[j]), f"{name}: comparison {j} significant = statsmodels Holm")
        else:
            check_true(False, f"unknown case kind {kind!r}")
    print(f"1..{n_tests}")
    return 1 if n_failed else 0


if __name__ == "__main__":
    sys.exit(main())
