"""The statistics' fast paths give the values of the library calls they stand for, bit for bit."""
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from helpers.analysis.fits import average_ranks, linear_upper_bound, pareto_mask, spearman


def _samples(seed: int, count: int):
    rng = np.random.default_rng(seed)
    for trial in range(count):
        n = int(rng.integers(3, 30))
        if trial % 3 == 0:  # many ties
            yield rng.integers(0, 5, n).astype(float), rng.integers(0, 4, n).astype(float)
        elif trial % 3 == 1:
            yield rng.lognormal(size=n), rng.normal(size=n) * 1e3
        else:
            base = rng.normal(size=n)
            yield np.round(base, 1), base * rng.uniform(0.5, 2, n)


def test_average_ranks_are_rankdatas():
    for x, y in _samples(0, 500):
        for a in (x, y):
            expected = stats.rankdata(a)
            got = average_ranks(a)
            assert got.dtype == expected.dtype and np.array_equal(got, expected)


def test_spearman_is_spearmanrs_statistic_bit_for_bit():
    compared = 0
    for x, y in _samples(1, 3000):
        if np.ptp(x) == 0 or np.ptp(y) == 0:
            assert math.isnan(spearman(x, y))
            continue
        assert spearman(x, y) == float(stats.spearmanr(x, y).statistic)
        compared += 1
    assert compared > 2500
    assert math.isnan(spearman([1, 2], [3, 4]))
    assert spearman([1, 2, 3, np.nan], [1, 3, 2, 5]) == float(stats.spearmanr([1, 2, 3], [1, 3, 2]).statistic)


def _pareto_by_loop(x, y):
    mask = np.zeros(len(x), dtype=bool)
    for i in range(len(x)):
        if np.isfinite(x[i]) and np.isfinite(y[i]):
            mask[i] = not ((x >= x[i]) & (y >= y[i]) & ((x > x[i]) | (y > y[i]))).any()
    return mask


def test_pareto_mask_is_the_pairwise_definition():
    rng = np.random.default_rng(2)
    for trial in range(300):
        n = int(rng.integers(1, 25))
        x, y = rng.integers(0, 6, n).astype(float), rng.integers(0, 6, n).astype(float)
        if trial % 4 == 0:
            x[rng.integers(0, n)] = np.nan
        if trial % 5 == 0:
            y[rng.integers(0, n)] = np.inf
        assert np.array_equal(pareto_mask(x, y), _pareto_by_loop(x, y))


def test_the_bound_is_the_same_whether_its_series_share_an_index_or_are_joined():
    rng = np.random.default_rng(3)
    for trial in range(200):
        n = int(rng.integers(2, 16))
        models = [f"m{i}" for i in range(n)]
        top1 = pd.Series(np.round(rng.uniform(50, 80, n), trial % 2), index=models)
        ips = pd.Series(rng.lognormal(2, 1, n), index=models)
        if trial % 5 == 0:
            top1.iloc[0] = np.nan
        shared = linear_upper_bound(top1, ips)  # one index: no join
        joined = linear_upper_bound(top1, ips.iloc[::-1])  # another order: pandas joins them
        for field in ("slope", "intercept", "r2", "max_gap_pts"):
            a, b = getattr(shared, field), getattr(joined, field)
            assert a == b or (math.isnan(a) and math.isnan(b)), field
        assert (shared.n, shared.n_frontier, shared.frontier) == (joined.n, joined.n_frontier, joined.frontier)
        # the frontier in DataFrame.sort_values("ips") order
        frame = pd.concat({"top1": top1, "ips": ips}, axis=1).dropna()
        mask = pareto_mask(frame["ips"], frame["top1"])
        assert shared.frontier == tuple(frame[mask].sort_values("ips").index)


@pytest.mark.parametrize("values", [[3.0, 1.0, 2.0], [1.0, 1.0, 1.0], [2.0]])
def test_average_ranks_small_cases(values):
    assert np.array_equal(average_ranks(values), stats.rankdata(values))
