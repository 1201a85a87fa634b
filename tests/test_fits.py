"""Fits and 95 % intervals (helpers.analysis.fits) on data with known answers."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from helpers.analysis.fits import (RESAMPLES, accuracy_density, bootstrap_models,
                          density_ratio, energy_accuracy_bound, floor_slope_fit, hyperbolic_fit,
                          linear_fit, linear_upper_bound, lognormal_draws, memory_knee, pareto_mask, r2_of,
                          spearman)
from helpers.core.reference import paper_models
from helpers.core.stats import CONFIDENCE, Estimate, wilson_share

BATCHES = (1, 2, 4, 8, 16, 32, 64)
REF = paper_models()


# ================================================================== Estimate

def test_estimate_text_and_interval():
    assert Estimate(1.5, 1.0, 2.0, "x").has_interval
    assert not Estimate(1.5).has_interval and Estimate(1.5).method == "no interval"
    assert not Estimate(1.5, 1.0, math.nan).has_interval
    assert Estimate(0.12345, 0.1, 0.2).text(".2f", "s") == "0.12 s [0.10, 0.20]"
    assert Estimate(3.0).text(".1f", "W") == "3.0 W"


# ================================================================== linear fits

def test_linear_fit_perfect_line_and_noise():
    x = np.arange(10.0)
    fit = linear_fit(x, 2.5 * x - 3)
    assert fit.slope == pytest.approx(2.5) and fit.intercept == pytest.approx(-3)
    assert fit.r2 == pytest.approx(1.0) and fit.n == 10
    assert fit.predict([0.0, 2.0]) == pytest.approx([-3.0, 2.0])
    rng = np.random.default_rng(0)
    noisy = linear_fit(x, 2.5 * x + rng.normal(0, 5, 10))
    assert noisy.r2 < 0.99
    # NaN pairs dropped; too few points or constant x give NaN; constant y has no R2
    assert linear_fit([1, 2, np.nan, 4], [2, 4, 6, 8]).n == 3
    assert math.isnan(linear_fit([1], [1]).slope)
    assert math.isnan(linear_fit([2, 2, 2], [1, 2, 3]).slope)
    flat = linear_fit([1, 2, 3], [5, 5, 5])
    assert flat.slope == 0.0 and math.isnan(flat.r2)
    with pytest.raises(ValueError, match="differ in length"):
        linear_fit([1, 2, 3], [1, 2])


def test_r2_of_needs_three_pairs():
    assert r2_of([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert math.isnan(r2_of([1, 2], [2, 4]))
    assert math.isnan(r2_of([1, 2, np.nan], [2, 4, 6]))
    assert math.isnan(r2_of([1, 1, 1], [2, 4, 6]))
    # R2 is blind to the sign of the slope
    assert r2_of([1, 2, 3], [6, 4, 2]) == pytest.approx(1.0)


def test_spearman():
    x = np.arange(1.0, 11.0)
    assert spearman(x, x ** 3) == pytest.approx(1.0)          # monotone, not linear
    assert spearman(x, -np.exp(x)) == pytest.approx(-1.0)
    rng = np.random.default_rng(2)
    y = rng.normal(size=10)
    assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic)
    assert spearman([1, 2, np.nan, 4], [1, 2, 9, 4]) == pytest.approx(1.0)   # NaN pair dropped
    assert math.isnan(spearman([1, 2], [1, 2]))
    assert math.isnan(spearman([1, 2, 3], [4, 4, 4]))


# ================================================================== intervals

def test_bootstrap_models_interval_contains_the_estimate_and_is_deterministic():
    rng = np.random.default_rng(0)
    x = rng.uniform(1, 10, 14)
    y = 3.0 * x + rng.normal(0, 2.0, 14)
    est = bootstrap_models(r2_of, x, y, seed=1)
    assert est.has_interval and est.method == "bootstrap over 14 models"
    assert est.ci_low <= est.value <= est.ci_high
    assert est.value == pytest.approx(r2_of(x, y))
    again = bootstrap_models(r2_of, x, y, seed=1)
    assert (again.ci_low, again.ci_high) == (est.ci_low, est.ci_high)
    other = bootstrap_models(r2_of, x, y, seed=2)
    assert (other.ci_low, other.ci_high) != (est.ci_low, est.ci_high)
    # one column: the median
    med = bootstrap_models(np.median, y)
    assert med.value == pytest.approx(np.median(y)) and med.ci_low <= med.value <= med.ci_high


def test_bootstrap_models_narrows_with_more_models():
    rng = np.random.default_rng(5)

    def width(n):
        x = rng.normal(10.0, 2.0, n)
        est = bootstrap_models(np.mean, x, resamples=1000)
        return est.ci_high - est.ci_low

    small, large = width(10), width(400)
    assert large < small / 3        # about sqrt(40) = 6.3 times narrower


def test_bootstrap_models_without_an_interval():
    est = bootstrap_models(np.mean, [1.0, 2.0])
    assert est.value == pytest.approx(1.5) and not est.has_interval
    assert est.method == "bootstrap over 2 models"
    # undefined on some resamples (two distinct x: some resamples have a constant x)
    est = bootstrap_models(r2_of, [1, 1, 1, 2], [1, 2, 3, 4])
    assert not est.has_interval and "undefined on some resamples" in est.method
    # an undefined statistic has no interval either
    assert not bootstrap_models(r2_of, [1, 1, 1], [1, 2, 3]).has_interval
    with pytest.raises(ValueError, match="differ in length"):
        bootstrap_models(r2_of, [1, 2, 3], [1, 2])


@pytest.mark.parametrize("k,n", [(0, 14), (7, 14), (11, 14), (14, 14), (3, 1000)])
def test_wilson_share_matches_scipy(k, n):
    est = wilson_share(k, n)
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert est.value == pytest.approx(k / n)
    assert est.ci_low == pytest.approx(ci.low) and est.ci_high == pytest.approx(ci.high)
    assert est.method == f"Wilson over {n} models"


def test_wilson_share_edges():
    # 14 of 14: the lower end n / (n + z^2) is above three quarters
    z = stats.norm.ppf(0.975)
    assert wilson_share(14, 14).ci_low == pytest.approx(14 / (14 + z ** 2))
    assert wilson_share(14, 14).ci_low > 0.75
    assert math.isnan(wilson_share(0, 0).value) and not wilson_share(0, 0).has_interval


def test_lognormal_draws_follow_the_interval():
    value, low, high = np.array([0.2, 5.0]), np.array([0.15, 4.0]), np.array([0.3, 6.0])
    draws = lognormal_draws(value, low, high, seed=0)
    assert draws.shape == (RESAMPLES, 2) and (draws > 0).all()
    assert np.median(draws, axis=0) == pytest.approx(value, rel=0.03)
    inside = ((draws >= low) & (draws <= high)).mean(axis=0)
    # the interval's log half-width is 1.96 sd: 95 % inside for a symmetric (in logs) interval,
    # a little less for an asymmetric one (the narrow side loses more)
    assert inside == pytest.approx([CONFIDENCE, CONFIDENCE], abs=0.04)
    symmetric = lognormal_draws(2.0, 1.0, 4.0, size=20000, seed=1)
    assert ((symmetric >= 1.0) & (symmetric <= 4.0)).mean() == pytest.approx(CONFIDENCE, abs=0.01)
    # deterministic for a seed
    assert (lognormal_draws(value, low, high, seed=0) == draws).all()


def test_lognormal_draws_without_an_interval_do_not_spread():
    draws = lognormal_draws([0.5, 2.0], [np.nan, 2.0], [np.nan, 2.0], size=50)
    assert (draws[:, 0] == 0.5).all() and (draws[:, 1] == 2.0).all()


# ================================================================== memory

def test_memory_knee_found_at_8():
    b = np.array(BATCHES)
    peak = 300.0 + 5.0 * np.maximum(0, b - 8)
    knee = memory_knee(b, peak)
    assert knee.batch == 8
    assert knee.flat_peak_mb == pytest.approx(300.0)
    assert knee.slope_mb_per_image == pytest.approx(5.0)
    assert knee.r2_flat == pytest.approx(1.0) and knee.r2_linear < 0.99
    assert knee.beats_line and knee.n == 7


def test_memory_knee_with_noise_still_beats_line():
    b = np.array(BATCHES)
    rng = np.random.default_rng(1)
    peak = 300.0 + 5.0 * np.maximum(0, b - 8) + rng.normal(0, 1.0, b.size)
    knee = memory_knee(b, peak)
    assert knee.batch == 8 and knee.beats_line and knee.p_value < 0.05


def test_memory_knee_affine_growth_is_a_line_not_a_knee():
    b = np.array(BATCHES, dtype=float)
    rng = np.random.default_rng(3)  # this noise pulls the best breakpoint to batch 2
    knee = memory_knee(b, 300.0 + 5.0 * b + rng.normal(0, 1.0, b.size))
    assert knee.batch == 2 and knee.p_value > 0.05 and not knee.beats_line
    exact = memory_knee(b, 300.0 + 5.0 * b)
    assert exact.batch == 1 and not exact.beats_line and exact.r2_linear == pytest.approx(1.0)
    with pytest.raises(ValueError, match="at least 3"):
        memory_knee([1, 2], [1.0, 2.0])


def test_floor_slope_fit_recovers_200_and_1_30():
    param = np.array([20, 30, 45, 60, 90, 120, 200, 300, 500, 600], dtype=float)
    static = np.where(param < 100, 200.0, 1.3 * param + 50.0)
    fs = floor_slope_fit(param, static)
    assert fs.floor_mb == pytest.approx(200.0)
    assert fs.slope == pytest.approx(1.3) and fs.intercept == pytest.approx(50.0)
    assert fs.r2 == pytest.approx(1.0)
    assert (fs.n_floor, fs.n_linear) == (5, 5)
    assert fs.floor_excess_mb == pytest.approx(200 - (1.3 * 45 + 50))
    every = floor_slope_fit(param, static, fit_all=True)
    assert every.r2 < 1.0 and every.n_linear == 5
    none_small = floor_slope_fit(param[5:], static[5:])
    assert math.isnan(none_small.floor_mb) and math.isnan(none_small.floor_excess_mb)


# ================================================================== accuracy and throughput

def test_pareto_mask():
    top1 = pd.Series({"a": 80.0, "b": 70.0, "c": 60.0, "d": 50.0, "slow_bad": 55.0})
    ips = pd.Series({"a": 10.0, "b": 20.0, "c": 30.0, "d": 40.0, "slow_bad": 15.0})
    assert list(pareto_mask(ips, top1)) == [True, True, True, True, False]
    # a tie is not domination; NaN is never optimal
    assert list(pareto_mask([1.0, 1.0, np.nan], [5.0, 5.0, 9.0])) == [True, True, False]


def test_linear_upper_bound_on_a_linear_frontier():
    top1 = pd.Series({"a": 80.0, "b": 70.0, "c": 60.0, "d": 50.0, "slow_bad": 55.0})
    ips = pd.Series({"a": 10.0, "b": 20.0, "c": 30.0, "d": 40.0, "slow_bad": 15.0})
    bound = linear_upper_bound(top1, ips)
    assert bound.slope == pytest.approx(-1.0) and bound.intercept == pytest.approx(90.0)
    assert bound.r2 == pytest.approx(1.0) and bound.n_frontier == 4 and bound.n == 5
    assert bound.frontier == ("a", "b", "c", "d")            # by throughput
    assert bound.max_gap_pts == pytest.approx(0.0, abs=1e-9)
    assert (top1 <= bound.predict(ips) + 1e-9).all()          # no model above the line
    # arrays align by position
    assert linear_upper_bound(top1.to_numpy(), ips.to_numpy()).slope == pytest.approx(-1.0)


def test_linear_upper_bound_on_the_papers_models_placed_on_a_line():
    top1 = REF["top1_pct"]
    ips = 10.0 * (82.0 - top1)
    bound = linear_upper_bound(top1, ips)
    assert bound.r2 == pytest.approx(1.0) and bound.n_frontier == 14
    assert bound.slope == pytest.approx(-0.1) and bound.intercept == pytest.approx(82.0)


def test_linear_upper_bound_on_a_bent_frontier():
    # convex: accuracy falls fast from the slowest models, then flattens (top1 = 50 + 30 / ips);
    # the bound touches the ends and the middle lies far below it. R2 measures the gaps about
    # the bound, not about a least-squares line, so it can be negative.
    x = np.linspace(1.0, 10.0, 10)
    ips = pd.Series(x, index=[f"m{i}" for i in range(10)])
    top1 = 50.0 + 30.0 / ips
    bound = linear_upper_bound(top1, ips)
    assert bound.n_frontier == 10 and bound.slope == pytest.approx(-3.0)
    assert bound.r2 < 0.0
    assert bound.max_gap_pts == pytest.approx(14.0)
    assert (top1 <= bound.predict(ips) + 1e-9).all()
    # concave: accuracy collapses only for the fastest models (top1 = 80 - 0.05 ips^3)
    concave = linear_upper_bound(80.0 - 0.05 * ips ** 3, ips)
    assert concave.r2 == pytest.approx(0.682, abs=0.001) and concave.max_gap_pts == pytest.approx(21.0)
    # the paper's 14 top-1 with throughput (81 - top1)^4: R2 0.15
    paper = REF["top1_pct"]
    assert linear_upper_bound(paper, (81.0 - paper) ** 4).r2 == pytest.approx(0.152, abs=0.005)


def test_linear_upper_bound_is_never_below_a_model():
    rng = np.random.default_rng(4)
    for _ in range(25):
        n = int(rng.integers(3, 15))
        top1 = pd.Series(rng.uniform(40, 85, n))
        ips = pd.Series(rng.lognormal(3.0, 1.0, n))
        bound = linear_upper_bound(top1, ips)
        if bound.n_frontier < 2:
            assert math.isnan(bound.slope)
            continue
        gap = bound.predict(ips) - top1
        assert (gap >= -1e-6 * (1 + top1.abs())).all()
        assert bound.slope <= 1e-9                           # the frontier falls with throughput
        assert bound.r2 <= 1.0 + 1e-9
        assert set(bound.frontier) == set(top1.index[pareto_mask(ips, top1)])


def test_linear_upper_bound_with_a_single_optimal_model():
    top1 = pd.Series([80.0, 70.0, 60.0])
    ips = pd.Series([30.0, 20.0, 10.0])     # the most accurate is also the fastest
    bound = linear_upper_bound(top1, ips)
    assert bound.n_frontier == 1 and math.isnan(bound.slope) and math.isnan(bound.r2)


def test_hyperbolic_fit():
    t = np.array([0.01, 0.02, 0.05, 0.1, 0.2])
    top1 = 80.0 - 0.1 / t
    fit = hyperbolic_fit(t, top1)
    assert fit.a == pytest.approx(80.0) and fit.b == pytest.approx(-0.1)
    assert fit.r2 == pytest.approx(1.0) and fit.n == 5
    # a dominated point (slow and inaccurate) is left out of the frontier fit only
    t2, a2 = np.append(t, 0.2), np.append(top1, 40.0)
    assert hyperbolic_fit(t2, a2).r2 == pytest.approx(1.0)
    assert hyperbolic_fit(t2, a2, frontier_only=False).r2 < 0.9


# ================================================================== energy and density

def test_energy_accuracy_bound_is_a_step_function():
    energy = pd.Series({"cheap": 0.1, "mid": 0.2, "waste": 0.3, "best": 0.5})
    top1 = pd.Series({"cheap": 60.0, "mid": 70.0, "waste": 65.0, "best": 78.0})
    env = energy_accuracy_bound(energy, top1)
    assert list(env["model"]) == ["cheap", "mid", "waste", "best"]
    assert list(env["best_top1_pct"]) == [60.0, 70.0, 70.0, 78.0]
    assert list(env["best_model"]) == ["cheap", "mid", "mid", "best"]
    assert list(env["on_frontier"]) == [True, True, False, True]
    assert list(env.columns) == ["budget_j", "model", "top1_pct", "best_top1_pct", "best_model", "on_frontier"]


def test_accuracy_density_and_ratio():
    dens = accuracy_density(REF["top1_pct"], REF["params_m_paper"])
    assert list(dens.index[:4]) == ["ENet", "GoogLeNet", "BN-NIN", "ResNet-18"]
    assert dens.loc["ENet", "density_pct_per_m"] == pytest.approx(68.40 / 5.86)
    assert dens.loc["ENet", "rank"] == 1 and dens["rank"].max() == 14
    assert density_ratio(dens, "ENet", "AlexNet") == pytest.approx(13.0, abs=0.1)
    assert density_ratio(dens, "ENet", "VGG-19") == pytest.approx(23.7, abs=0.1)
    assert math.isnan(density_ratio(dens, "ENet", "NoSuchNet"))
