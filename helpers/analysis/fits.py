"""Fits and 95 % intervals for the claims: pure functions on arrays and Series.

Nothing here reads the results store or knows a claim: ``helpers.analysis.evidence``
turns results into tables, ``helpers.analysis.claims`` rules the paper's claims with
these. Intervals come from scipy: ``scipy.stats.bootstrap`` (percentile,
resampling models) and Monte Carlo draws from per-point intervals; the
confidence level, :class:`~helpers.core.stats.Estimate` and Wilson intervals for
shares (``wilson_share``) are in ``helpers.core.stats``.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats

from helpers.core.stats import CONFIDENCE, Estimate

__all__ = [
    "bootstrap_models", "log_sd", "lognormal_draws", "normal_draws",
    "percentile_interval",
    "LinearFit", "linear_fit", "r2_of", "loo_relative_errors", "cooks_distance", "spearman", "Knee", "memory_knee", "FloorSlope",
    "floor_slope_fit", "pareto_mask", "UpperBound", "linear_upper_bound", "HyperbolicFit",
    "hyperbolic_fit", "energy_accuracy_bound", "accuracy_density", "density_ratio",
]

#: Resamples of every bootstrap and draws of every Monte Carlo interval.
RESAMPLES = 2000
#: F-test level of the flat-then-linear memory fit (shown in lesson 05).
KNEE_ALPHA = 0.05


def bootstrap_models(statistic: Callable[..., float], *columns: Any, seed: int = 0,
                     resamples: int = RESAMPLES) -> Estimate:
    """``statistic(*columns)`` with a percentile bootstrap interval
    (``scipy.stats.bootstrap``, paired: models are resampled with replacement,
    all columns together). With fewer than 3 models, or where the statistic
    is undefined on some resample (a constant column), the interval is NaN.
    """
    arrays = [np.asarray(c, dtype=float).ravel() for c in columns]
    n = arrays[0].size
    if any(a.size != n for a in arrays):
        raise ValueError(f"columns differ in length: {[a.size for a in arrays]}")
    value = float(statistic(*arrays))
    method = f"bootstrap over {n} models"
    if n < 3 or not np.isfinite(value):
        return Estimate(value, method=method)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = stats.bootstrap(tuple(arrays), statistic, paired=True, vectorized=False,
                              n_resamples=resamples, confidence_level=CONFIDENCE,
                              method="percentile", rng=np.random.default_rng(seed))
    low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if not (np.isfinite(low) and np.isfinite(high)):
        return Estimate(value, method=method + " (undefined on some resamples)")
    return Estimate(value, low, high, method)


def log_sd(ci_low: Any, ci_high: Any) -> np.ndarray:
    """The log-normal sd of quantities measured with 95 % intervals: the interval's log half-width over 1.96
    (0 for a point without an interval)."""
    lo = np.asarray(ci_low, dtype=float).ravel()
    hi = np.asarray(ci_high, dtype=float).ravel()
    z = stats.norm.ppf((1 + CONFIDENCE) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        sd = (np.log(hi) - np.log(lo)) / (2 * z)
    return np.where(np.isfinite(sd) & (sd > 0), sd, 0.0)


def lognormal_draws(value: Any, ci_low: Any, ci_high: Any, size: int = RESAMPLES,
                    seed: int = 0) -> np.ndarray:
    """Draws (size x points) of positive quantities measured with 95 % intervals,
    log-normal around ``value`` with :func:`log_sd`. A point without an interval is drawn at its value."""
    v = np.asarray(value, dtype=float).ravel()
    rng = np.random.default_rng(seed)
    return v * np.exp(rng.standard_normal((size, v.size)) * log_sd(ci_low, ci_high))


def normal_draws(value: Any, ci_low: Any, ci_high: Any, size: int = RESAMPLES, seed: int = 0) -> np.ndarray:
    """Draws (size x points) around values measured with 95 % intervals, normal with the
    interval's half-width as 1.96 sd (a measured top-1 and its Wilson interval); a point
    without an interval is drawn at its value."""
    v = np.asarray(value, dtype=float).ravel()
    lo = np.asarray(ci_low, dtype=float).ravel()
    hi = np.asarray(ci_high, dtype=float).ravel()
    z = stats.norm.ppf((1 + CONFIDENCE) / 2)
    sd = np.where(np.isfinite(lo) & np.isfinite(hi), (hi - lo) / (2 * z), 0.0)
    rng = np.random.default_rng(seed)
    return v + rng.standard_normal((size, v.size)) * sd


def percentile_interval(draws: Any, min_finite: int = RESAMPLES // 2) -> tuple[float, float]:
    """The central 95 % of Monte Carlo ``draws`` of a statistic (its undefined draws dropped);
    NaN when fewer than ``min_finite`` are defined."""
    d = np.asarray(draws, dtype=float).ravel()
    d = d[np.isfinite(d)]
    if d.size < min_finite:
        return math.nan, math.nan
    low, high = np.quantile(d, [(1 - CONFIDENCE) / 2, (1 + CONFIDENCE) / 2])
    return float(low), float(high)


@dataclass(frozen=True)
class Line:
    """y = slope * x + intercept (slope in y-units per x-unit, intercept in y-units)."""

    slope: float
    intercept: float

    def predict(self, x: Any) -> np.ndarray:
        return self.slope * np.asarray(x, dtype=float) + self.intercept


@dataclass(frozen=True)
class LinearFit(Line):
    """Least-squares line y = slope * x + intercept; ``r2`` its coefficient of
    determination, ``n`` the number of (x, y) pairs used (NaN pairs dropped).
    Units: slope in y-units per x-unit, intercept in y-units."""

    r2: float
    n: int


def linear_fit(x: Any, y: Any) -> LinearFit:
    """Ordinary least squares of ``y`` on ``x`` (pairs with a NaN are dropped).

    Fewer than 2 pairs, or a constant ``x``, give NaN slope/intercept/r2.
    ``r2`` is NaN when ``y`` is constant (no variance to explain).
    """
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape:
        raise ValueError(f"x and y differ in length ({x.size} vs {y.size})")
    keep = np.isfinite(x) & np.isfinite(y)
    if not keep.all():
        x, y = x[keep], y[keep]
    n = int(x.size)
    if n < 2 or x.max() == x.min():
        return LinearFit(math.nan, math.nan, math.nan, n)
    xm, ym = x.mean(), y.mean()
    dx, dy = x - xm, y - ym  # the same operations as before, each done once (a bootstrap calls this 20,000 times)
    slope = float(np.sum(dx * dy) / np.sum(dx ** 2))
    intercept = float(ym - slope * xm)
    sst = float(np.sum(dy ** 2))
    sse = float(np.sum((y - (slope * x + intercept)) ** 2))
    r2 = float(min(max(1.0 - sse / sst, 0.0), 1.0)) if sst > 0 else math.nan
    return LinearFit(slope, intercept, r2, n)


@dataclass(frozen=True)
class Knee:
    """Flat-then-linear fit of peak memory against batch size (C5).

    peak = flat_peak_mb for batch <= ``batch``; flat_peak_mb + slope_mb_per_image *
    (b - batch) above it (continuous hinge; MB and MB per image). ``flat_peak_mb`` is a
    fitted peak (static memory plus the activations of the flat part's batches), not the
    measured static memory.
    ``r2_flat``: R² of this flat-then-linear fit; ``r2_linear``: R² of a single
    straight line through all points. ``p_value``: F-test of the knee's extra
    parameter against the line (approximate: the breakpoint is chosen from the
    data). ``beats_line``: the knee lies above the smallest batch, the slope
    after it is positive, and the F-test rejects the single line at ``alpha``
    (or the knee fits exactly while the line does not).
    """

    batch: int
    flat_peak_mb: float
    slope_mb_per_image: float
    r2_flat: float
    r2_linear: float
    n: int = 0
    sse_knee: float = math.nan
    sse_line: float = math.nan
    p_value: float = math.nan
    beats_line: bool = False


def _r2(sse: float, sst: float) -> float:
    return 1.0 - sse / sst if sst > 0 else math.nan


def memory_knee(batch_sizes: Any, peak_mb: Any, alpha: float = KNEE_ALPHA) -> Knee:
    """Piecewise (flat, then linear) fit of ``peak_mb`` (MB) against ``batch_sizes``.

    Every measured batch size except the largest is tried as the breakpoint;
    the one with the least squared error wins (ties: the smallest). A
    breakpoint at the smallest batch is a single straight line, so the knee
    "beats" the line only when the F-test for the extra parameter is
    significant (see ``Knee``). Needs at least 3 finite points.
    """
    b = np.asarray(batch_sizes, dtype=float).ravel()
    y = np.asarray(peak_mb, dtype=float).ravel()
    if b.shape != y.shape:
        raise ValueError(f"batch_sizes and peak_mb differ in length ({b.size} vs {y.size})")
    keep = np.isfinite(b) & np.isfinite(y)
    b, y = b[keep], y[keep]
    order = np.argsort(b, kind="stable")
    b, y = b[order], y[order]
    n = int(b.size)
    if n < 3 or np.unique(b).size < 3:
        raise ValueError(f"a knee needs at least 3 distinct batch sizes; got {n} points")
    sst = float(np.sum((y - y.mean()) ** 2))
    best: tuple[float, float, float, float] | None = None
    for b0 in np.unique(b)[:-1]:
        h = np.maximum(0.0, b - b0)
        design = np.column_stack([np.ones(n), h])
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        sse = float(np.sum((y - design @ coef) ** 2))
        if best is None or sse < best[0] - 1e-12 * max(sst, 1e-300):
            best = (sse, float(b0), float(coef[0]), float(coef[1]))
    assert best is not None
    sse_knee, b0, level, slope = best
    line = linear_fit(b, y)
    sse_line = float(np.sum((y - line.predict(b)) ** 2)) if np.isfinite(line.slope) else sst
    tiny = 1e-12 * max(sst, 1e-300)
    if sse_knee <= tiny:
        p = 0.0 if sse_line > 1e3 * tiny else 1.0
    elif n > 3:
        f_stat = (sse_line - sse_knee) / (sse_knee / (n - 3))
        p = float(stats.f.sf(max(f_stat, 0.0), 1, n - 3))
    else:
        p = math.nan
    beats = bool(b0 > b[0] and slope > 0 and np.isfinite(p) and p < alpha)
    return Knee(batch=int(b0), flat_peak_mb=level, slope_mb_per_image=slope,
                r2_flat=_r2(sse_knee, sst), r2_linear=_r2(sse_line, sst), n=n,
                sse_knee=sse_knee, sse_line=sse_line, p_value=p, beats_line=beats)


@dataclass(frozen=True)
class FloorSlope:
    """Static memory against parameter memory (C6), all in MB.

    ``floor_mb``: median static memory of the models whose parameter memory is
    below the threshold (``n_floor`` of them). ``slope`` (MB per MB),
    ``intercept`` (MB), ``r2``: line of static against parameter memory over
    the others (``n_linear``), or over all models with ``fit_all=True``.
    ``floor_excess_mb``: the floor minus the line's value at the small models'
    median parameter memory: positive when the small models sit on a floor
    above the line's extrapolation.
    """

    floor_mb: float
    slope: float
    intercept: float
    r2: float
    n_floor: int
    n_linear: int
    floor_excess_mb: float = math.nan


def floor_slope_fit(param_mb: Any, static_mb: Any, floor_threshold_mb: float = 100.0,
                    fit_all: bool = False) -> FloorSlope:
    """Floor then slope: the paper's Fig 6 fit (floor 200 MB under 100 MB, slope 1.30).

    ``param_mb``: parameter memory (MB, e.g. params x 4 bytes / 1e6);
    ``static_mb``: static memory of the loaded model (MB). The floor is the
    median static memory of models with ``param_mb < floor_threshold_mb``; the
    line is fitted to the models at or above the threshold (or to all models
    when ``fit_all``). NaN where a part has no (or, for the line, fewer than 2)
    models.
    """
    p = np.asarray(param_mb, dtype=float).ravel()
    s = np.asarray(static_mb, dtype=float).ravel()
    if p.shape != s.shape:
        raise ValueError(f"param_mb and static_mb differ in length ({p.size} vs {s.size})")
    keep = np.isfinite(p) & np.isfinite(s)
    p, s = p[keep], s[keep]
    small = p < floor_threshold_mb
    floor = float(np.median(s[small])) if small.any() else math.nan
    fit = linear_fit(p, s) if fit_all else linear_fit(p[~small], s[~small])
    excess = (floor - float(fit.predict(np.median(p[small])))
              if small.any() and np.isfinite(fit.slope) else math.nan)
    return FloorSlope(floor_mb=floor, slope=fit.slope, intercept=fit.intercept, r2=fit.r2,
                      n_floor=int(small.sum()), n_linear=int((~small).sum()),
                      floor_excess_mb=excess)


def pareto_mask(speed: Any, accuracy: Any) -> np.ndarray:
    """True for Pareto-optimal points: no other point is both at least as fast
    (``speed``, higher is better) and at least as accurate, and better in one."""
    x = np.asarray(speed, dtype=float).ravel()
    y = np.asarray(accuracy, dtype=float).ravel()
    # dominates[i, j]: point j dominates point i
    xi, yi = x[:, None], y[:, None]
    dominates = (x >= xi) & (y >= yi) & ((x > xi) | (y > yi))
    return np.isfinite(x) & np.isfinite(y) & ~dominates.any(axis=1)


@dataclass(frozen=True)
class HyperbolicFit:
    """top1 = a + b / time_s (top-1 %, s): accuracy hyperbolic in per-image time.

    With b < 0 accuracy approaches ``a`` as time grows. Fitted to the
    Pareto-optimal models (faster = shorter time) unless ``frontier_only`` was
    False; ``r2`` of that fit, ``n`` points used. Because 1/time_s is the
    throughput, this is the linear bound of C9 stated in time.
    """

    a: float
    b: float
    r2: float
    n: int


def hyperbolic_fit(time_s: Any, top1: Any, frontier_only: bool = True) -> HyperbolicFit:
    """Fit top1 (%) = a + b / time_s (s) by least squares in 1/time_s (see ``HyperbolicFit``)."""
    frame = _aligned(time_s, top1, ("t", "top1"))
    frame = frame[frame["t"] > 0]
    inv = 1.0 / frame["t"]
    if frontier_only:
        mask = pareto_mask(inv, frame["top1"])
        frame, inv = frame[mask], inv[mask]
    fit = linear_fit(inv, frame["top1"])
    return HyperbolicFit(a=fit.intercept, b=fit.slope, r2=fit.r2, n=fit.n)


def energy_accuracy_bound(energy_per_image_j: Any, top1: Any) -> pd.DataFrame:
    """Best accuracy reachable under an energy budget per image (C10), a step function.

    One row per model, by energy per image (J) ascending: ``budget_j`` (that
    model's energy: a budget of at least this admits it), ``model``,
    ``top1_pct``, ``best_top1_pct`` and ``best_model`` (the most accurate
    model with energy <= budget_j), ``on_frontier`` (this model raises the
    best accuracy: the steps of the bound).
    """
    frame = _aligned(energy_per_image_j, top1, ("budget_j", "top1_pct"))
    frame = frame.sort_values(["budget_j", "top1_pct"], ascending=[True, False])
    best, best_model, rows = -math.inf, None, []
    for model, r in frame.iterrows():
        step = r["top1_pct"] > best
        if step:
            best, best_model = float(r["top1_pct"]), model
        rows.append({"budget_j": float(r["budget_j"]), "model": model,
                     "top1_pct": float(r["top1_pct"]), "best_top1_pct": best,
                     "best_model": best_model, "on_frontier": bool(step)})
    return pd.DataFrame(rows, columns=["budget_j", "model", "top1_pct", "best_top1_pct",
                                       "best_model", "on_frontier"])


def accuracy_density(top1: Any, params_m: Any) -> pd.DataFrame:
    """Accuracy density (C11): top-1 % per million parameters, ranked.

    Columns: top1_pct (%), params_m (millions), density_pct_per_m (% per
    million parameters), rank (1 = densest). Indexed by model, sorted by rank.
    """
    frame = _aligned(top1, params_m, ("top1_pct", "params_m"))
    frame = frame[frame["params_m"] > 0].copy()
    frame["density_pct_per_m"] = frame["top1_pct"] / frame["params_m"]
    frame = frame.sort_values("density_pct_per_m", ascending=False)
    frame["rank"] = np.arange(1, len(frame) + 1)
    frame.index.name = "model"
    return frame


def density_ratio(density: pd.DataFrame, a: str, b: str) -> float:
    """Accuracy density of model ``a`` over that of ``b`` (NaN if either is absent)."""
    if a not in density.index or b not in density.index:
        return math.nan
    return float(density.at[a, "density_pct_per_m"] / density.at[b, "density_pct_per_m"])




def r2_of(x: Any, y: Any) -> float:
    """R² of the least-squares line of y on x (NaN with < 3 pairs or constant x or y)."""
    fit = linear_fit(x, y)
    return fit.r2 if fit.n >= 3 else math.nan


def loo_relative_errors(x: Any, y: Any) -> np.ndarray:
    """Leave-one-out errors of predicting y from x: for each pair i, |y_i - the line fitted to every
    other pair, at x_i| / |y_i| (a fraction of y_i). Needs >= 3 pairs, all finite, y nonzero
    (ValueError otherwise); NaN where the other pairs' x are constant."""
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape or x.size < 3 or not (np.isfinite(x).all() and np.isfinite(y).all()) or (y == 0).any():
        raise ValueError(f"loo_relative_errors needs >= 3 finite pairs of equal length with y != 0, "
                         f"got x={x.tolist()!r}, y={y.tolist()!r}")
    errors = np.empty(x.size)
    for i in range(x.size):
        keep = np.arange(x.size) != i
        fit = linear_fit(x[keep], y[keep])
        errors[i] = abs(y[i] - fit.predict(x[i])) / abs(y[i])
    return errors


def cooks_distance(x: Any, y: Any) -> np.ndarray:
    """Cook's distance of each pair in the least-squares line of y on x: how far the fitted line moves
    when the pair is left out (scaled by the residual variance; > 1 is commonly read as influential).
    NaN for fewer than 3 pairs or a perfect fit."""
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    n = x.size
    fit = linear_fit(x, y)
    if n < 3 or not np.isfinite(fit.slope):
        return np.full(n, math.nan)
    residuals = y - fit.predict(x)
    mse = float(np.sum(residuals ** 2) / (n - 2))
    if mse == 0:
        return np.full(n, math.nan)
    leverage = 1 / n + (x - x.mean()) ** 2 / np.sum((x - x.mean()) ** 2)
    return residuals ** 2 / (2 * mse) * leverage / (1 - leverage) ** 2


def average_ranks(values: Any) -> np.ndarray:
    """Ranks 1..n of a 1-D array, tied values given the mean of their ranks: the values of
    ``scipy.stats.rankdata(values)`` (method "average"), computed without its per-call overhead."""
    a = np.asarray(values, dtype=float).ravel()
    order = np.argsort(a, kind="stable")
    ordered = a[order]
    first = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    counts = np.diff(np.append(first, a.size))
    ranks = np.empty(a.size)
    ranks[order] = np.repeat(first + 1 + (counts - 1) / 2, counts)
    return ranks


def spearman(x: Any, y: Any) -> float:
    """Spearman's rank correlation of x and y (NaN with < 3 pairs or a constant).

    The value of ``scipy.stats.spearmanr(x, y).statistic``, bit for bit: the Pearson correlation
    (``np.corrcoef``, on the same layout) of the ``average_ranks``, without the p-value and the
    checks spearmanr repeats (a bootstrap calls it thousands of times)."""
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    keep = np.isfinite(x) & np.isfinite(y)
    if keep.sum() < 3 or np.ptp(x[keep]) == 0 or np.ptp(y[keep]) == 0:
        return math.nan
    return float(np.corrcoef(np.vstack((average_ranks(x[keep]), average_ranks(y[keep]))))[1, 0])


@dataclass(frozen=True)
class UpperBound(Line):
    """The tightest linear upper bound of accuracy (top-1 %) in throughput (images/s).

    top1 <= slope * images_per_s + intercept holds for every model (by
    construction); among such lines this one is closest, on average, to the
    Pareto-optimal models (``frontier``: none both faster and more accurate).
    ``r2``: how well the line describes the frontier (1 - squared gaps /
    frontier variance): near 1 when the frontier is itself a line, low when
    it bends. ``max_gap_pts``: the frontier model furthest below the bound.
    Slope in top-1 points per image/s.
    """

    r2: float
    n_frontier: int
    n: int
    frontier: tuple
    max_gap_pts: float


def linear_upper_bound(top1: Any, images_per_s: Any) -> UpperBound:
    """Fit the bound of ``UpperBound`` by linear programming (``scipy.optimize.linprog``):
    minimise the mean gap between the line and the frontier models subject to the
    line lying on or above every model. Series align on their index (models)."""
    models, y, x = _aligned_values(top1, images_per_s, ("top1", "ips"))
    mask = pareto_mask(x, y)
    # the frontier sorted by throughput, in the order DataFrame.sort_values("ips") gives (its quicksort)
    order = np.flatnonzero(mask)[x[mask].argsort(kind="quicksort")]
    front_models = tuple(models[order])
    nan = UpperBound(math.nan, math.nan, math.nan, int(mask.sum()), len(models), front_models, math.nan)
    if len(order) < 2:
        return nan
    fx, fy = x[order], y[order]
    # variables (slope, intercept); objective: mean of (slope*fx + intercept - fy)
    scale = max(np.abs(x).max(), 1e-12)
    res = optimize.linprog(c=[fx.mean() / scale, 1.0], A_ub=np.column_stack([-x / scale, -np.ones_like(x)]),
                           b_ub=-y, bounds=[(None, None), (None, None)], method="highs")
    if not res.success:
        return nan
    slope, intercept = float(res.x[0] / scale), float(res.x[1])
    gaps = slope * fx + intercept - fy
    sst = float(np.sum((fy - fy.mean()) ** 2))
    r2 = 1.0 - float(np.sum(gaps ** 2)) / sst if sst > 0 else math.nan
    return UpperBound(slope, intercept, r2, len(order), len(models), front_models, float(gaps.max()))


def _aligned(a: Any, b: Any, names: tuple[str, str]) -> pd.DataFrame:
    sa, sb = _as_series(a, names[0]), _as_series(b, names[1])
    if not isinstance(a, (pd.Series, Mapping)) and not isinstance(b, (pd.Series, Mapping)):
        if sa.size != sb.size:
            raise ValueError(f"{names[0]} and {names[1]} differ in length ({sa.size} vs {sb.size})")
    return pd.concat([sa, sb], axis=1, join="inner").dropna()


def _aligned_values(a: Any, b: Any, names: tuple[str, str]) -> tuple[pd.Index, np.ndarray, np.ndarray]:
    """The rows of ``_aligned`` as (index, a's values, b's values), without building a frame
    where ``a`` and ``b`` are float Series on one unique index (a Monte Carlo's draws)."""
    if (isinstance(a, pd.Series) and isinstance(b, pd.Series) and a.dtype == np.float64
            and b.dtype == np.float64 and a.index.is_unique and (a.index is b.index or a.index.equals(b.index))):
        va, vb = a.to_numpy(), b.to_numpy()
        keep = ~(np.isnan(va) | np.isnan(vb))
        return a.index[keep], va[keep], vb[keep]
    frame = _aligned(a, b, names)
    return frame.index, frame[names[0]].to_numpy(), frame[names[1]].to_numpy()


def _as_series(x: Any, name: str) -> pd.Series:
    if isinstance(x, pd.Series):
        s = x
    elif isinstance(x, Mapping):
        s = pd.Series(dict(x))
    else:
        s = pd.Series(np.asarray(x, dtype=float))
    return pd.to_numeric(s, errors="coerce").astype(float).rename(name)
