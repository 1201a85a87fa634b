"""helpers.core.stats: the confidence level, Estimate, the median's interval and Wilson intervals."""
from __future__ import annotations

import ast
import dataclasses
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as scipy_stats

import helpers.core.stats
from helpers.core.stats import (CONFIDENCE, FEW_SAMPLE_RULES, MIN_ORDER_STATISTIC_N, Estimate, median_interval,
                                wilson_interval, wilson_share)


# --------------------------------------------------------------------------- the module
def test_core_stats_imports_only_the_standard_library_numpy_and_scipy():
    tree = ast.parse(open(helpers.core.stats.__file__).read())
    roots = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
             for alias in node.names}
    roots |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert roots <= set(sys.stdlib_module_names) | {"numpy", "scipy"}, roots


def test_importing_core_stats_loads_neither_numpy_nor_scipy():
    code = "import sys, helpers.core.stats; print(sorted({'numpy', 'scipy'} & set(sys.modules)))"
    root = Path(helpers.core.stats.__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root).stdout
    assert out.strip() == "[]"


def test_confidence_is_95_percent():
    assert CONFIDENCE == 0.95


# --------------------------------------------------------------------------- Estimate
def test_estimate_is_frozen_and_defaults_to_no_interval():
    est = Estimate(2.0)
    assert math.isnan(est.ci_low) and math.isnan(est.ci_high) and not est.has_interval
    assert (est.method, est.n, est.unit) == ("no interval", None, "")
    with pytest.raises(dataclasses.FrozenInstanceError):
        est.value = 3.0


@pytest.mark.parametrize("low, high", [(math.nan, 2.0), (1.0, math.nan), (-math.inf, 2.0), (1.0, math.inf)])
def test_estimate_needs_two_finite_bounds_for_an_interval(low, high):
    assert not Estimate(1.5, low, high).has_interval
    assert Estimate(1.5, 1.0, 2.0).has_interval


def test_estimate_text_uses_its_own_unit_unless_told_another():
    peak = Estimate(150.0, 140.0, 160.0, "order-statistic", n=10, unit="GFLOP/s")
    assert peak.text() == "150 GFLOP/s [140, 160]"
    assert peak.text(".1f", "") == "150.0 [140.0, 160.0]"
    assert peak.text(".0f", "G-ops/s") == "150 G-ops/s [140, 160]"
    assert Estimate(0.25).text(".2f") == "0.25"
    assert Estimate(0.25, unit="s").text(".2f") == "0.25 s"


def test_estimates_of_the_same_numbers_are_equal_and_n_unit_tell_them_apart():
    assert Estimate(1.0, 0.5, 1.5, "m") == Estimate(1.0, 0.5, 1.5, "m")
    assert Estimate(1.0, 0.5, 1.5, "m", n=6) != Estimate(1.0, 0.5, 1.5, "m")
    assert Estimate(1.0, 0.5, 1.5, "m", unit="GB/s") != Estimate(1.0, 0.5, 1.5, "m")


# --------------------------------------------------------------------------- median_interval
def _t_on_log(x: list[float], confidence: float = CONFIDENCE) -> tuple[float, float]:
    logs = np.log(x)
    half = scipy_stats.t.ppf(0.5 + confidence / 2, len(x) - 1) * logs.std(ddof=1) / math.sqrt(len(x))
    return float(np.exp(logs.mean() - half)), float(np.exp(logs.mean() + half))


@pytest.mark.parametrize("rule", FEW_SAMPLE_RULES)
def test_six_samples_get_the_order_statistic_interval_under_either_rule(rule):
    xs = [1.3, 0.9, 1.1, 1.0, 1.2, 0.8]
    median, low, high, method = median_interval(xs, few_samples=rule)
    # n = 6: only the extremes cover the median with >= 95 % (1 - 2 / 64 = 96.9 %)
    assert (median, low, high) == (1.05, 0.8, 1.3)
    assert "order-statistic" in method


def test_the_rules_agree_on_every_number_from_six_samples_on():
    rng = np.random.default_rng(0)
    for n in range(MIN_ORDER_STATISTIC_N, 60):
        xs = rng.lognormal(0.0, 0.3, n).round(2)  # rounded: ties too
        t = median_interval(xs, few_samples="t-on-log")
        s = median_interval(xs, few_samples="no interval")
        assert t[:3] == s[:3] and t[1] <= t[0] <= t[2]
        assert t[3] == "order-statistic"
        assert s[3] == "median, distribution-free 95 % order-statistic interval (scipy.stats.quantile_test)"


def test_t_on_log_below_six_samples_and_none_for_one():
    xs = [2.0, 2.1, 1.9, 2.05, 1.95]
    median, low, high, method = median_interval(xs, few_samples="t-on-log")
    assert method == "t-on-log" and median == 2.0
    assert (low, high) == pytest.approx(_t_on_log(xs), rel=1e-12)
    median, low, high, method = median_interval([3.0], few_samples="t-on-log")
    assert median == 3.0 and math.isnan(low) and math.isnan(high) and method == "none (one sample)"


def test_t_on_log_widens_to_hold_the_median():
    # at 20 %, the interval around the geometric mean (2.19) misses the median 1.0: it is widened down to it
    xs = [1.0, 1.0, 1.0, 1.0, 50.0]
    median, low, high, method = median_interval(xs, 0.2, few_samples="t-on-log")
    plain_low, plain_high = _t_on_log(xs, 0.2)
    assert method == "t-on-log" and median == 1.0
    assert plain_low > 1.0 and low == 1.0 and high == plain_high


def test_no_interval_below_six_samples_says_why():
    median, low, high, method = median_interval([3.0, 1.0, 2.0, 5.0, 4.0], few_samples="no interval")
    assert median == 3.0 and math.isnan(low) and math.isnan(high)
    assert method == ("median of 5 measurements; no 95 % interval "
                      "(an order-statistic interval needs n >= 6)")


def test_at_99_percent_six_samples_are_not_enough():
    seven = [float(x) for x in range(1, 8)]
    median, low, high, method = median_interval(seven, 0.99, few_samples="no interval")
    assert math.isnan(low) and math.isnan(high) and "no 99 % interval" in method and "n >= 8" in method
    assert median_interval(seven, 0.99, few_samples="t-on-log")[3] == "t-on-log"
    median, low, high, method = median_interval(seven + [8.0], 0.99, few_samples="no interval")
    assert (low, high) == (1.0, 8.0) and "99 % order-statistic" in method


def test_bad_samples_and_rules_are_named():
    with pytest.raises(ValueError, match="positive finite"):
        median_interval([1.0, -2.0], few_samples="t-on-log")
    assert median_interval([-1.0, -2.0, -3.0], few_samples="no interval")[0] == -2.0
    for bad in ([], [1.0, math.nan], [1.0, math.inf], [[1.0, 2.0], [3.0, 4.0]]):
        with pytest.raises(ValueError, match="non-empty 1-D"):
            median_interval(bad, few_samples="no interval")
    with pytest.raises(ValueError, match="'t-on-log', 'no interval'"):
        median_interval([1.0, 2.0], few_samples="bootstrap")
    with pytest.raises(TypeError):
        median_interval([1.0, 2.0])  # the rule is always stated


def test_any_iterable_of_samples():
    assert median_interval((float(x) for x in range(1, 11)), few_samples="t-on-log") == \
        median_interval(list(range(1, 11)), few_samples="t-on-log")


# --------------------------------------------------------------------------- Wilson intervals
def _wilson_closed_form(k: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    z = scipy_stats.norm.ppf(0.5 + confidence / 2)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


@pytest.mark.parametrize("k, n, low, high", [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605),
                                              (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)])
def test_wilson_matches_newcombes_published_score_intervals(k, n, low, high):
    # Newcombe (1998), Statistics in Medicine 17:857, Table I, the score (Wilson) method, 95 %
    est = wilson_share(k, n)
    assert (est.ci_low, est.ci_high) == pytest.approx((low, high), abs=5e-5)
    assert (est.value, est.method) == (k / n, f"Wilson over {n} models")
    assert wilson_interval(k, n) == pytest.approx((100 * low, 100 * high), abs=5e-3)


def test_wilson_matches_its_closed_form():
    assert [wilson_share(7, 10).ci_low, wilson_share(7, 10).ci_high] == pytest.approx(
        _wilson_closed_form(7, 10), rel=1e-12)


@pytest.mark.parametrize("k, n", [(0, 1), (1, 3), (3, 9), (14, 14), (0, 14), (3480, 5000), (4999, 5000)])
def test_the_share_and_the_percent_come_from_one_computation(k, n):
    share = wilson_share(k, n)
    low, high = wilson_interval(k, n)
    assert low == min(100.0 * share.ci_low, 100.0 * k / n) and high == max(100.0 * share.ci_high, 100.0 * k / n)
    assert low <= 100.0 * k / n <= high
    assert (share.ci_low, share.ci_high) == pytest.approx(_wilson_closed_form(k, n), rel=1e-9, abs=1e-15)


def test_wilson_interval_takes_another_confidence():
    narrow, wide = wilson_interval(30, 100, 0.5), wilson_interval(30, 100, 0.99)
    assert wide[0] < narrow[0] < 30.0 < narrow[1] < wide[1]
    assert [b / 100 for b in wide] == pytest.approx(_wilson_closed_form(30, 100, 0.99), rel=1e-12)


@pytest.mark.parametrize("k, n", [(10, 9), (-1, 9), (1, 0), (1, True), (1, 9.0)])
def test_wilson_interval_names_bad_counts(k, n):
    with pytest.raises(ValueError, match="0 <= k <= n"):
        wilson_interval(k, n)


def test_a_share_of_no_models_has_no_value():
    est = wilson_share(0, 0)
    assert math.isnan(est.value) and not est.has_interval and est.method == "no models"
