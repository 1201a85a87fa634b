"""Fits, statistics and verdicts for the paper's claims C1..C11.

Pure functions on pandas frames and arrays: nothing here measures anything.
Inputs follow the project's data contracts:

* ``results``: the tidy frame of ``helpers.results.load_results`` /
  ``ResultsStore.read`` (columns ``COLUMNS``). Only ``status == "ok"`` rows carry
  values. Metrics used here and their canonical units (other units in the
  ``unit`` column are converted, see ``CANONICAL_UNITS``):

  - ``latency_per_image``: s, per-image median inference time at that batch size;
  - ``memory_static``: MB (10**6 bytes), model loaded, before any forward;
  - ``memory_peak``: MB, peak during one forward at that batch size;
  - ``power_net``: W, mean power over idle during continuous inference;
  - ``energy_per_image``: J.

* ``counts``: the frame of ``helpers.ops.count_table`` (columns ``model``,
  ``params``, ``params_m``, ``gmacs``, ``gops``, ``gops_2016``). ``None`` stands
  for the paper's own counts (``paper_counts()``, whose operations are the
  paper's published ``gops_published``). Operations default to ``gops`` (groups
  honoured), else ``gops_published``, else ``gmacs`` (see ``OPS_COLUMNS``).
* ``top1``: top-1 accuracy in percent per model, a Series indexed by model
  (e.g. ``paper_models()["top1_pct"]``), a dict, or a frame with ``top1_pct``.
  ``None`` stands for the paper's values.

Verdicts (``Verdict``) are about the *shape* of each claim (linear, flat, knee,
ranking), since the hardware differs from the paper's Jetson TX1. Each claim has
one documented statistic and threshold (module constants below). A claim whose
data is missing gets "cannot be measured here" with the specific reason, never
an invented number.
"""
from __future__ import annotations

import functools
import math
import re
from dataclasses import asdict, dataclass, fields
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from helpers.reference import PAPER_MODELS, paper_models

__all__ = [
    # verdicts
    "HOLDS", "DOES_NOT_HOLD", "CANNOT_MEASURE", "VERDICTS", "CLAIM_IDS", "Verdict",
    # data access
    "CANONICAL_UNITS", "AmbiguousDeviceError", "metric_table", "batch_sizes",
    "paper_counts", "OPS_COLUMNS",
    # fits and statistics
    "LinearFit", "linear_fit", "speedup", "Knee", "memory_knee", "FloorSlope",
    "floor_slope_fit", "ops_vs_time", "PowerSpread", "power_spread", "pareto_mask",
    "LinearBound", "accuracy_throughput_bound", "HyperbolicFit", "hyperbolic_fit",
    "energy_accuracy_bound", "accuracy_density", "density_ratio",
    # claims
    "claim_c1", "claim_c2", "claim_c3", "claim_c4", "claim_c5", "claim_c6",
    "claim_c7", "claim_c8", "claim_c9", "claim_c10", "claim_c11", "claims_table",
]

HOLDS = "holds"
DOES_NOT_HOLD = "does not hold"
CANNOT_MEASURE = "cannot be measured here"
VERDICTS: tuple[str, ...] = (HOLDS, DOES_NOT_HOLD, CANNOT_MEASURE)
CLAIM_IDS: tuple[str, ...] = tuple(f"C{i}" for i in range(1, 12))

# ------------------------------------------------------------------ thresholds
#: "Most models": the share of models a per-model property must hold for (C3, C4, C5).
MOST = 0.75
#: C1: the newest ResNet and the newest Inception each beat every other family by this many points.
C1_MARGIN_PTS = 7.0
#: C2: every VGG exceeds every other model by at least this factor, in operations and in parameters.
C2_MIN_RATIO = 1.2
#: C4: a model's net power is "independent of batch size" when its coefficient of
#: variation across batch sizes (batch 1 excluded) is at most this.
C4_MAX_CV = 0.2
C4_EXCLUDE_BATCHES: tuple[int, ...] = (1,)
#: C5: significance level of the F-test "flat-then-linear beats a single line".
C5_ALPHA = 0.05
C5_MIN_POINTS = 4
#: C6: line above the threshold must fit with this R²; the floor must exceed the
#: line's extrapolation to the small models by this fraction of the floor.
C6_MIN_R2 = 0.8
C6_MIN_FLOOR_EXCESS = 0.2
#: C7: across-model coefficient of variation of net power at full load (paper: 0.7/11.8 = 0.06).
C7_MAX_CV = 0.2
#: C8, C9, C10: minimum R² of the linear relation.
MIN_R2 = 0.8
#: C9: how far (top-1 points) any model may lie above the frontier line.
C9_TOLERANCE_PTS = 2.0
#: C11: accuracy-density ratios must lie within this relative distance of the paper's.
C11_RATIO_TOLERANCE = 0.25
C11_ORDER: tuple[str, ...] = ("ENet", "GoogLeNet", "BN-NIN", "ResNet-18")

_BYTES_PER_PARAM = 4  # float32

# ------------------------------------------------------------------ units
#: Canonical unit of each metric and factors converting other units to it.
CANONICAL_UNITS: dict[str, str] = {
    "latency_per_image": "s",
    "memory_static": "MB",
    "memory_peak": "MB",
    "power_net": "W",
    "energy_per_image": "J",
}
_UNIT_FACTORS: dict[str, dict[str, float]] = {
    "s": {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9},
    "MB": {"MB": 1.0, "MiB": 1.048576, "GB": 1e3, "GiB": 1073.741824, "kB": 1e-3,
           "KB": 1e-3, "KiB": 1.024e-3, "B": 1e-6},
    "W": {"W": 1.0, "mW": 1e-3, "kW": 1e3},
    "J": {"J": 1.0, "mJ": 1e-3, "kJ": 1e3},
}


class AmbiguousDeviceError(ValueError):
    """The results hold several device tags and none was chosen."""


class _Unmeasurable(Exception):
    """Raised inside claim functions: the claim cannot be measured, with the reason."""


# ================================================================== data access

def _empty(results: pd.DataFrame | None) -> bool:
    return results is None or len(results) == 0


def _fmt_list(values: Iterable[Any]) -> str:
    values = list(values)
    return ", ".join(str(v) for v in values) if values else "none"


def _device_rows(results: pd.DataFrame | None, device_tag: str | None) -> pd.DataFrame:
    """Rows of one device. ``device_tag=None`` needs at most one tag in the frame."""
    if _empty(results):
        return pd.DataFrame(columns=["device_tag", "model", "batch_size", "metric",
                                     "value", "unit", "status", "reason"])
    needed = {"model", "batch_size", "metric", "value", "status"}
    missing = needed - set(results.columns)
    if missing:
        raise ValueError(f"results frame lacks columns {sorted(missing)}")
    if "device_tag" not in results.columns:
        return results
    if device_tag is not None:
        return results[results["device_tag"] == device_tag]
    tags = sorted(pd.unique(results["device_tag"].astype(str)))
    if len(tags) > 1:
        raise AmbiguousDeviceError(
            f"results hold several devices ({_fmt_list(tags)}); pass device_tag=")
    return results


def metric_table(results: pd.DataFrame | None, metric: str,
                 device_tag: str | None = None) -> pd.DataFrame:
    """Status-"ok" values of ``metric`` as a model x batch_size table, in canonical units.

    Units: see ``CANONICAL_UNITS`` (s, MB, W, J); a row's ``unit`` is converted
    (e.g. ms -> s, MiB -> MB), an empty unit is taken as canonical. Index:
    model; columns: batch sizes (int, ascending); NaN where not measured.
    Several rows of one (model, batch) keep the last. An empty frame when no
    row is ok. Raises ``AmbiguousDeviceError`` when the frame holds several
    devices and ``device_tag`` is None, ValueError for an unknown unit.
    """
    rows = _device_rows(results, device_tag)
    rows = rows[(rows["metric"] == metric) & (rows["status"] == "ok")]
    if rows.empty:
        return pd.DataFrame(index=pd.Index([], name="model"),
                            columns=pd.Index([], name="batch_size", dtype="int64"), dtype=float)
    values = pd.to_numeric(rows["value"], errors="coerce").astype(float).to_numpy()
    canonical = CANONICAL_UNITS.get(metric)
    if canonical is not None and "unit" in rows.columns:
        table = _UNIT_FACTORS[canonical]
        factors = []
        for unit in rows["unit"].astype(str).fillna(""):
            unit = unit.strip()
            if unit in ("", "nan", "None"):
                factors.append(1.0)
            elif unit in table:
                factors.append(table[unit])
            else:
                raise ValueError(f"{metric}: unknown unit {unit!r}; expected one of "
                                 f"{_fmt_list(table)}")
        values = values * np.asarray(factors)
    frame = pd.DataFrame({"model": rows["model"].astype(str).to_numpy(),
                          "batch_size": rows["batch_size"].astype(int).to_numpy(),
                          "v": values})
    frame = frame.dropna(subset=["v"]).drop_duplicates(["model", "batch_size"], keep="last")
    out = frame.pivot(index="model", columns="batch_size", values="v")
    out = out.reindex(sorted(out.columns), axis=1).astype(float)
    out.columns = pd.Index([int(c) for c in out.columns], name="batch_size")
    out.index.name = "model"
    return out


def batch_sizes(results: pd.DataFrame | None, metric: str,
                device_tag: str | None = None) -> list[int]:
    """Batch sizes with at least one status-"ok" row of ``metric``, ascending."""
    return [int(b) for b in metric_table(results, metric, device_tag).columns]


def _missing_reason(results: pd.DataFrame | None, metric: str, device_tag: str | None) -> str:
    """Why ``metric`` has no ok rows: absent, or recorded as skipped/unavailable/error."""
    rows = _device_rows(results, device_tag)
    rows = rows[rows["metric"] == metric]
    if rows.empty:
        if metric == "power_net" or metric == "energy_per_image":
            return (f"no {metric} rows: power was not measured on this device "
                    f"(no power sensor, or the power sweep was not run)")
        return f"no {metric} rows: {metric} was not measured in this run"
    reasons = [r for r in pd.unique(rows["reason"].astype(str)) if r and r != "nan"] \
        if "reason" in rows.columns else []
    statuses = _fmt_list(sorted(pd.unique(rows["status"].astype(str))))
    why = "; ".join(reasons[:2]) if reasons else "no reason recorded"
    return f"no {metric} rows with status ok ({statuses}): {why}"


def _table(results, metric, device_tag) -> pd.DataFrame:
    """``metric_table`` for claim functions: raises _Unmeasurable when empty or ambiguous."""
    try:
        table = metric_table(results, metric, device_tag)
    except AmbiguousDeviceError as exc:
        raise _Unmeasurable(str(exc)) from None
    if table.empty:
        raise _Unmeasurable(_missing_reason(results, metric, device_tag))
    return table


def _need_batches(table: pd.DataFrame, needed: Sequence[int]) -> None:
    have = [int(b) for b in table.columns]
    if any(b not in have for b in needed):
        wanted = " and ".join(str(b) for b in needed)
        raise _Unmeasurable(f"needs batch sizes {wanted}; this run has {_fmt_list(have)}")


def paper_counts() -> pd.DataFrame:
    """The paper's own counts in ``count_table``'s shape: model, params, params_m, gmacs (NaN),
    gops_published (the paper's G-ops, counted by the 2016 rules)."""
    ref = paper_models()
    return pd.DataFrame({
        "model": list(ref.index),
        "params": (ref["params_m_paper"] * 1e6).to_numpy(),
        "params_m": ref["params_m_paper"].to_numpy(),
        "gmacs": np.nan,
        "gops_published": ref["gops_published"].to_numpy(),
    })


def _counts_column(counts: pd.DataFrame | None, column: str) -> pd.Series:
    """One counts column as a float Series indexed by model (paper's counts when None)."""
    counts = paper_counts() if counts is None else counts
    if len(counts) == 0:
        return pd.Series(dtype=float)
    frame = counts.set_index("model") if "model" in counts.columns else counts
    if column == "params_m" and "params_m" not in frame.columns and "params" in frame.columns:
        return pd.to_numeric(frame["params"], errors="coerce").astype(float) / 1e6
    if column == "params" and "params" not in frame.columns and "params_m" in frame.columns:
        return pd.to_numeric(frame["params_m"], errors="coerce").astype(float) * 1e6
    if column not in frame.columns:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    out = pd.to_numeric(frame[column], errors="coerce").astype(float)
    out.index = out.index.astype(str)
    return out


#: Operation columns a claim may use (billions): ``gops`` (groups honoured, the
#: default), ``gops_2016`` (groups dense, as the paper counted), ``gops_published``
#: (the paper's own numbers) and ``gmacs``.
OPS_COLUMNS: tuple[str, ...] = ("gops", "gops_2016", "gops_published", "gmacs")
# Where the asked column is empty (the paper's own counts have only gops_published).
_OPS_FALLBACK: tuple[str, ...] = ("gops_published", "gmacs")


def _ops(counts: pd.DataFrame | None, ops_column: str = "gops") -> tuple[pd.Series, str]:
    """Operations per model (billions) and the column they come from: ``ops_column``,
    else ``gops_published``, else ``gmacs``, whichever first has values."""
    if ops_column not in OPS_COLUMNS:
        raise ValueError(f"unknown operations column {ops_column!r}; valid: {', '.join(OPS_COLUMNS)}")
    for column in [ops_column] + [c for c in _OPS_FALLBACK if c != ops_column]:
        ops = _counts_column(counts, column).dropna()
        if not ops.empty:
            return ops, column
    return ops, ops_column


def _ops_unit(column: str) -> str:
    """G-ops for the operation counts (gops, gops_2016, gops_published), GMAC for gmacs."""
    return "GMAC" if column == "gmacs" else "G-ops"


def _top1_series(top1: Any) -> pd.Series:
    """Top-1 % as a float Series indexed by model (the paper's values when None)."""
    if top1 is None:
        top1 = paper_models()["top1_pct"]
    if isinstance(top1, pd.DataFrame):
        frame = top1.set_index("model") if "model" in top1.columns else top1
        top1 = frame["top1_pct"]
    elif isinstance(top1, Mapping):
        top1 = pd.Series(dict(top1), dtype=float)
    s = pd.to_numeric(pd.Series(top1), errors="coerce").astype(float).dropna()
    s.index = s.index.astype(str)
    return s


def _as_series(x: Any, name: str) -> pd.Series:
    if isinstance(x, pd.Series):
        s = x
    elif isinstance(x, Mapping):
        s = pd.Series(dict(x))
    else:
        s = pd.Series(np.asarray(x, dtype=float))
    return pd.to_numeric(s, errors="coerce").astype(float).rename(name)


# ================================================================== fits

@dataclass(frozen=True)
class LinearFit:
    """Least-squares line y = slope * x + intercept; ``r2`` its coefficient of
    determination, ``n`` the number of (x, y) pairs used (NaN pairs dropped).
    Units: slope in y-units per x-unit, intercept in y-units."""

    slope: float
    intercept: float
    r2: float
    n: int

    def predict(self, x: Any) -> np.ndarray:
        return self.slope * np.asarray(x, dtype=float) + self.intercept


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
    x, y = x[keep], y[keep]
    n = int(x.size)
    if n < 2 or np.ptp(x) == 0:
        return LinearFit(math.nan, math.nan, math.nan, n)
    xm, ym = x.mean(), y.mean()
    slope = float(np.sum((x - xm) * (y - ym)) / np.sum((x - xm) ** 2))
    intercept = float(ym - slope * xm)
    sst = float(np.sum((y - ym) ** 2))
    sse = float(np.sum((y - (slope * x + intercept)) ** 2))
    r2 = float(min(max(1.0 - sse / sst, 0.0), 1.0)) if sst > 0 else math.nan
    return LinearFit(slope, intercept, r2, n)


def speedup(results: pd.DataFrame | None, model: str, b_from: int = 1, b_to: int = 64,
            device_tag: str | None = None) -> float:
    """Per-image latency at ``b_from`` divided by that at ``b_to`` (dimensionless).

    > 1 means larger batches are faster per image. NaN if either is missing.
    """
    table = metric_table(results, "latency_per_image", device_tag)
    if model not in table.index or b_from not in table.columns or b_to not in table.columns:
        return math.nan
    t_from, t_to = table.at[model, b_from], table.at[model, b_to]
    if not (np.isfinite(t_from) and np.isfinite(t_to)) or t_to <= 0:
        return math.nan
    return float(t_from / t_to)


def speedups(results: pd.DataFrame | None, b_from: int = 1, b_to: int = 64,
             device_tag: str | None = None) -> pd.Series:
    """Per-image latency at ``b_from`` over that at ``b_to``, per model timed at both (dimensionless)."""
    table = metric_table(results, "latency_per_image", device_tag)
    if b_from not in table.columns or b_to not in table.columns:
        return pd.Series(dtype=float, name="speedup")
    both = table[[b_from, b_to]].dropna()
    return (both[b_from] / both[b_to]).rename("speedup")


@dataclass(frozen=True)
class Knee:
    """Flat-then-linear fit of peak memory against batch size (C5).

    peak = static_mb for batch <= ``batch``; static_mb + slope_mb_per_image *
    (b - batch) above it (continuous hinge; MB and MB per image).
    ``r2_flat``: R² of this flat-then-linear fit; ``r2_linear``: R² of a single
    straight line through all points. ``p_value``: F-test of the knee's extra
    parameter against the line (approximate: the breakpoint is chosen from the
    data). ``beats_line``: the knee lies above the smallest batch, the slope
    after it is positive, and the F-test rejects the single line at ``alpha``
    (or the knee fits exactly while the line does not).
    """

    batch: int
    static_mb: float
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


def memory_knee(batch_sizes: Any, peak_mb: Any, alpha: float = C5_ALPHA) -> Knee:
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
    return Knee(batch=int(b0), static_mb=level, slope_mb_per_image=slope,
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


def memory_knees(results: pd.DataFrame | None, device_tag: str | None = None,
                 min_points: int = C5_MIN_POINTS) -> dict[str, Knee]:
    """``memory_knee`` of every model with ``memory_peak`` at >= ``min_points`` batch sizes."""
    peak = metric_table(results, "memory_peak", device_tag)
    knees = {}
    for model, row in peak.iterrows():
        row = row.dropna()
        if row.size >= min_points:
            knees[model] = memory_knee(row.index.to_numpy(), row.to_numpy())
    return knees


def static_vs_parameter_memory(results: pd.DataFrame | None, counts: pd.DataFrame | None = None,
                               device_tag: str | None = None,
                               bytes_per_param: int = _BYTES_PER_PARAM) -> pd.DataFrame:
    """Fig 6's points: per model, parameter memory (params x bytes / 1e6, MB) and static
    memory (MB, median over batch sizes). Models with both only."""
    static = metric_table(results, "memory_static", device_tag).median(axis=1, skipna=True).dropna()
    params = _counts_column(counts, "params").dropna()
    common = [m for m in static.index if m in params.index]
    return pd.DataFrame({"param_mb": params[common] * bytes_per_param / 1e6,
                         "static_mb": static[common]}, index=pd.Index(common, name="model"))


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


def ops_vs_time(results: pd.DataFrame | None, counts: pd.DataFrame | None, batch_size: int,
                ops_column: str = "gops", device_tag: str | None = None) -> LinearFit:
    """Line of operations (billions, ``ops_column`` of ``counts``, else ``gops_published``,
    else ``gmacs``) against per-image time (s) at ``batch_size`` (C8). Slope in G-ops
    (GMAC for gmacs) per second. Models with both."""
    table = metric_table(results, "latency_per_image", device_tag)
    if batch_size not in table.columns:
        return LinearFit(math.nan, math.nan, math.nan, 0)
    ops, _ = _ops(counts, ops_column)
    t = table[batch_size].dropna()
    common = [m for m in t.index if m in ops.index and np.isfinite(ops[m])]
    return linear_fit(t[common].to_numpy(), ops[common].to_numpy())


@dataclass(frozen=True)
class PowerSpread:
    """Net power spread (W) within models across batch sizes and across models (C4, C7).

    ``per_model``: one row per model with net power at >= 2 batch sizes (those
    in ``excluded_batches`` left out): n_batches, mean_w, std_w (sample std),
    range_w (max - min), cv (std / mean). ``at_full_load``: each model's net
    power at its largest measured batch (Series, W); ``mean_w``, ``std_w``
    (sample std) and ``cv`` summarise it across models (``n_models``).
    """

    per_model: pd.DataFrame
    at_full_load: pd.Series
    mean_w: float
    std_w: float
    cv: float
    n_models: int
    excluded_batches: tuple[int, ...] = ()


def power_spread(results: pd.DataFrame | None, device_tag: str | None = None,
                 exclude_batches: Iterable[int] = C4_EXCLUDE_BATCHES) -> PowerSpread:
    """Spread of ``power_net`` (W) within each model and across models (see ``PowerSpread``)."""
    table = metric_table(results, "power_net", device_tag)
    excluded = tuple(int(b) for b in exclude_batches)
    within = table[[c for c in table.columns if c not in excluded]]
    rows = []
    for model, values in within.iterrows():
        v = values.dropna().to_numpy()
        if v.size < 2:
            continue
        mean = float(v.mean())
        std = float(v.std(ddof=1))
        rows.append({"model": model, "n_batches": int(v.size), "mean_w": mean, "std_w": std,
                     "range_w": float(v.max() - v.min()),
                     "cv": std / abs(mean) if mean != 0 else math.nan})
    per_model = pd.DataFrame(rows, columns=["model", "n_batches", "mean_w", "std_w",
                                            "range_w", "cv"]).set_index("model")
    full = pd.Series({m: float(r.dropna().iloc[-1]) for m, r in table.iterrows()
                      if r.notna().any()}, dtype=float, name="power_net_w")
    n = int(full.size)
    mean = float(full.mean()) if n else math.nan
    std = float(full.std(ddof=1)) if n >= 2 else math.nan
    cv = std / abs(mean) if n >= 2 and mean != 0 else math.nan
    return PowerSpread(per_model, full, mean, std, cv, n, excluded)


def pareto_mask(speed: Any, accuracy: Any) -> np.ndarray:
    """True for Pareto-optimal points: no other point is both at least as fast
    (``speed``, higher is better) and at least as accurate, and better in one."""
    x = np.asarray(speed, dtype=float).ravel()
    y = np.asarray(accuracy, dtype=float).ravel()
    mask = np.zeros(x.size, dtype=bool)
    for i in range(x.size):
        if not (np.isfinite(x[i]) and np.isfinite(y[i])):
            continue
        dominated = (x >= x[i]) & (y >= y[i]) & ((x > x[i]) | (y > y[i]))
        mask[i] = not dominated.any()
    return mask


def _aligned(a: Any, b: Any, names: tuple[str, str]) -> pd.DataFrame:
    sa, sb = _as_series(a, names[0]), _as_series(b, names[1])
    if not isinstance(a, (pd.Series, Mapping)) and not isinstance(b, (pd.Series, Mapping)):
        if sa.size != sb.size:
            raise ValueError(f"{names[0]} and {names[1]} differ in length ({sa.size} vs {sb.size})")
    return pd.concat([sa, sb], axis=1, join="inner").dropna()


@dataclass(frozen=True)
class LinearBound:
    """A linear upper bound of accuracy (top-1 %) in throughput (images/s) (C9).

    The line top1 = slope * images_per_s + intercept is fitted (least squares)
    to the Pareto-optimal models (``frontier``: no other model both faster and
    more accurate); ``r2`` is that fit's R². ``max_excess_pts``: how far the
    model furthest above the line lies above it (top-1 points; <= 0 when all
    lie on or below); ``all_below``: max_excess_pts <= ``tolerance_pts``.
    Slope in top-1 points per image/s.
    """

    slope: float
    intercept: float
    r2: float
    n_frontier: int
    n: int
    frontier: tuple
    max_excess_pts: float
    tolerance_pts: float
    all_below: bool


def accuracy_throughput_bound(top1: Any, images_per_s: Any,
                              tolerance_pts: float = C9_TOLERANCE_PTS) -> LinearBound:
    """Fit the linear upper bound of ``top1`` (%) against ``images_per_s`` (see ``LinearBound``).

    Series are aligned on their index (models); arrays by position.
    """
    frame = _aligned(top1, images_per_s, ("top1", "ips"))
    mask = pareto_mask(frame["ips"], frame["top1"])
    front = frame[mask].sort_values("ips")
    fit = linear_fit(front["ips"], front["top1"])
    if np.isfinite(fit.slope):
        excess = float(np.max(frame["top1"].to_numpy() - fit.predict(frame["ips"])))
    else:
        excess = math.nan
    return LinearBound(fit.slope, fit.intercept, fit.r2, int(mask.sum()), int(len(frame)),
                       tuple(front.index), excess, float(tolerance_pts),
                       bool(np.isfinite(excess) and excess <= tolerance_pts))


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


# ================================================================== verdicts

@dataclass(frozen=True)
class Verdict:
    """One claim's check. ``paper_figure``: the paper's number(s); ``this_run``:
    this run's; ``statistic``: what decides, with its threshold; ``verdict``:
    one of ``VERDICTS``; ``reason``: why."""

    claim: str
    source: str
    claim_text: str
    paper_figure: str
    this_run: str
    statistic: str
    verdict: str
    reason: str

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict={self.verdict!r}: must be one of {VERDICTS}")

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class _Meta:
    source: str
    text: str
    statistic: str
    paper_figure: str | Callable[[], str]


def _claim(cid: str, meta: _Meta):
    """Decorate a claim body returning (this_run, holds, reason) into a Verdict function;
    ``_Unmeasurable`` raised inside becomes "cannot be measured here"."""

    def wrap(body):
        @functools.wraps(body)
        def run(*args, **kwargs) -> Verdict:
            paper = meta.paper_figure() if callable(meta.paper_figure) else meta.paper_figure
            try:
                this_run, holds, reason = body(*args, **kwargs)
            except _Unmeasurable as exc:
                return Verdict(cid, meta.source, meta.text, paper, "not measured",
                               meta.statistic, CANNOT_MEASURE, str(exc))
            return Verdict(cid, meta.source, meta.text, paper, this_run, meta.statistic,
                           HOLDS if holds else DOES_NOT_HOLD, reason)

        run.meta = meta  # type: ignore[attr-defined]
        return run

    return wrap


def _family(name: str) -> str:
    low = name.lower()
    if re.match(r"^(bn-)?alexnet", low):
        return "AlexNet"
    if low.startswith("vgg"):
        return "VGG"
    if re.match(r"^resnet[-_]?\d", low):
        return "ResNet"
    if low.startswith("inception"):
        return "Inception"
    return name


def _has_big_fc(name: str) -> bool:
    """AlexNets and VGGs carry large fully connected layers; the rest are (nearly) convolution-only."""
    return _family(name) in ("AlexNet", "VGG")


# ---------------------------------------------------------------- C1
def _c1_margin(top1: pd.Series) -> tuple[float, str]:
    fam = {m: _family(m) for m in top1.index}
    best = {}
    for f in ("ResNet", "Inception"):
        members = [m for m in top1.index if fam[m] == f]
        if not members:
            raise _Unmeasurable(f"no {f} model in the accuracy table")
        best[f] = max(members, key=lambda m: top1[m])
    others = [m for m in top1.index if fam[m] not in ("ResNet", "Inception")]
    if not others:
        raise _Unmeasurable("no model outside the ResNet and Inception families")
    rival = max(others, key=lambda m: top1[m])
    margin = min(top1[best["ResNet"]], top1[best["Inception"]]) - top1[rival]
    text = (f"margin {margin:.2f} points ({best['ResNet']} {top1[best['ResNet']]:.2f}, "
            f"{best['Inception']} {top1[best['Inception']]:.2f} vs best other "
            f"{rival} {top1[rival]:.2f})")
    return float(margin), text


def _c1_paper() -> str:
    return _c1_margin(_top1_series(None))[1]


@_claim("C1", _Meta(
    "Fig 1",
    "Newest ResNet and Inception models beat all other architectures by at least 7 points of top-1",
    f"margin = min(best ResNet, best Inception top-1) - best top-1 of any other family; "
    f"holds if >= {C1_MARGIN_PTS:g} points",
    _c1_paper))
def claim_c1(top1: Any = None):
    """C1 from top-1 % per model (paper's values when None)."""
    s = _top1_series(top1)
    margin, text = _c1_margin(s)
    ok = margin >= C1_MARGIN_PTS
    return text, ok, (f"margin {margin:.2f} {'>=' if ok else '<'} {C1_MARGIN_PTS:g} points")


# ---------------------------------------------------------------- C2
def _c2_stats(counts: pd.DataFrame | None) -> tuple[float, float, str]:
    ops, ops_col = _ops(counts, "gops")
    params = _counts_column(counts, "params_m").dropna()
    common = [m for m in ops.index if m in params.index]
    vgg = [m for m in common if _family(m) == "VGG"]
    rest = [m for m in common if _family(m) != "VGG"]
    if not vgg:
        raise _Unmeasurable("no VGG model among the counted models")
    if not rest:
        raise _Unmeasurable("no model other than VGG among the counted models")
    top_ops = max(rest, key=lambda m: ops[m])
    top_par = max(rest, key=lambda m: params[m])
    r_ops = min(ops[m] for m in vgg) / ops[top_ops]
    r_par = min(params[m] for m in vgg) / params[top_par]
    unit = _ops_unit(ops_col)
    vg = "; ".join(f"{m} {ops[m]:.2f} {unit} / {params[m]:.2f} M" for m in vgg)
    text = (f"{vg}; next: {top_ops} {ops[top_ops]:.2f} {unit}, {top_par} {params[top_par]:.2f} M; "
            f"least VGG / next = {r_ops:.2f}x ops, {r_par:.2f}x params")
    return float(r_ops), float(r_par), text


@_claim("C2", _Meta(
    "Fig 2",
    "VGG is by far the most expensive in both operations and parameters",
    f"ratio of the least expensive VGG to the most expensive other model, in operations "
    f"(gops: groups honoured; the paper's own: gops_published; else gmacs) and in parameters; "
    f"holds if both >= {C2_MIN_RATIO:g} "
    f"(the 'steep line that flattens' for the others is shown, not decided)",
    lambda: _c2_stats(None)[2]))
def claim_c2(counts: pd.DataFrame | None = None):
    """C2 from operation and parameter counts (the paper's counts when None)."""
    r_ops, r_par, text = _c2_stats(counts)
    ok = r_ops >= C2_MIN_RATIO and r_par >= C2_MIN_RATIO
    why = (f"every VGG exceeds every other model by >= {C2_MIN_RATIO:g}x in both" if ok else
           f"ratios {r_ops:.2f}x (ops) and {r_par:.2f}x (params): not both >= {C2_MIN_RATIO:g}")
    return text, ok, why


# ---------------------------------------------------------------- C3
@_claim("C3", _Meta(
    "Fig 3",
    "Per-image inference time falls with batch size; AlexNet gains about 3x from batch 1 to 64 "
    "(poorly optimised fully connected layers)",
    f"speed-up = per-image time at batch 1 / at batch 64; holds if speed-up > 1 for >= "
    f"{MOST:.0%} of models and AlexNet's speed-up exceeds the median of convolution-only "
    f"networks (no AlexNet/VGG); VGG's time at batch 1 is reported, not decided (hardware)",
    "AlexNet speed-up about 3x (batch 1 to 64); VGG about 0.2 s/image at batch 1 (TX1)"))
def claim_c3(results: pd.DataFrame | None, device_tag: str | None = None,
             b_from: int = 1, b_to: int = 64):
    """C3 from ``latency_per_image`` rows (s)."""
    lat = _table(results, "latency_per_image", device_tag)
    _need_batches(lat, (b_from, b_to))
    sp = speedups(results, b_from, b_to, device_tag)
    if len(sp) < 2:
        raise _Unmeasurable(f"needs >= 2 models timed at batch {b_from} and {b_to}; "
                            f"this run has {len(sp)}")
    share = float((sp > 1).mean())
    if "AlexNet" not in sp.index:
        raise _Unmeasurable(f"AlexNet has no latency_per_image at batch {b_from} and {b_to}")
    conv_only = sp[[m for m in sp.index if not _has_big_fc(m)]]
    if conv_only.empty:
        raise _Unmeasurable("no convolution-only network timed at both batch sizes")
    alex, conv_med = float(sp["AlexNet"]), float(conv_only.median())
    vgg = [m for m in ("VGG-16", "VGG-19") if m in lat.index and np.isfinite(lat.at[m, b_from])]
    vgg_txt = "; " + ", ".join(f"{m} {lat.at[m, b_from]:.3g} s/image at batch {b_from}"
                               for m in vgg) if vgg else ""
    text = (f"time falls from batch {b_from} to {b_to} for {int((sp > 1).sum())}/{len(sp)} models; "
            f"AlexNet speed-up {alex:.2f}x vs median {conv_med:.2f}x for "
            f"{len(conv_only)} convolution-only networks{vgg_txt}")
    ok_fall, ok_alex = share >= MOST, alex > conv_med
    if ok_fall and ok_alex:
        why = "per-image time falls for most models and AlexNet gains more than convolution-only networks"
    elif not ok_fall:
        why = f"per-image time falls for only {share:.0%} of models (< {MOST:.0%})"
    else:
        why = (f"AlexNet's speed-up {alex:.2f}x does not exceed the convolution-only "
               f"median {conv_med:.2f}x")
    return text, ok_fall and ok_alex, why


# ---------------------------------------------------------------- C4
@_claim("C4", _Meta(
    "Fig 4",
    "Net power is mostly independent of batch size",
    f"per model, coefficient of variation (std/mean) of net power across batch sizes, "
    f"batch 1 excluded; holds if CV <= {C4_MAX_CV:g} for >= {MOST:.0%} of models",
    "net power flat across batch sizes, except AlexNet at batch 1 and VGG at batch 2"))
def claim_c4(results: pd.DataFrame | None, device_tag: str | None = None):
    """C4 from ``power_net`` rows (W)."""
    table = _table(results, "power_net", device_tag)
    try:
        spread = power_spread(results, device_tag, C4_EXCLUDE_BATCHES)
    except AmbiguousDeviceError as exc:
        raise _Unmeasurable(str(exc)) from None
    per = spread.per_model.dropna(subset=["cv"])
    if len(per) < 2:
        raise _Unmeasurable(
            f"needs power_net at >= 2 batch sizes above 1 for >= 2 models; this run has "
            f"batch sizes {_fmt_list(table.columns)} and {len(per)} such models")
    flat = per["cv"] <= C4_MAX_CV
    share = float(flat.mean())
    worst = per["cv"].idxmax()
    text = (f"CV <= {C4_MAX_CV:g} for {int(flat.sum())}/{len(per)} models; median CV "
            f"{per['cv'].median():.3f}; largest {worst} {per.at[worst, 'cv']:.3f} "
            f"(range {per.at[worst, 'range_w']:.2f} W)")
    ok = share >= MOST
    why = (f"{share:.0%} of models have a flat net power (>= {MOST:.0%})" if ok else
           f"only {share:.0%} of models have CV <= {C4_MAX_CV:g} (< {MOST:.0%})")
    return text, ok, why


# ---------------------------------------------------------------- C5
@_claim("C5", _Meta(
    "Fig 5",
    "Peak memory is flat (static model allocation) then grows linearly with batch size: a knee",
    f"per model, flat-then-linear fit of memory_peak vs batch size against a single line "
    f"(F-test, alpha {C5_ALPHA:g}, >= {C5_MIN_POINTS} batch sizes); holds if the knee "
    f"beats the line for >= {MOST:.0%} of models",
    "flat then linear (shape only)"))
def claim_c5(results: pd.DataFrame | None, device_tag: str | None = None):
    """C5 from ``memory_peak`` rows (MB)."""
    peak = _table(results, "memory_peak", device_tag)
    knees = memory_knees(results, device_tag)
    if not knees:
        raise _Unmeasurable(f"needs memory_peak at >= {C5_MIN_POINTS} batch sizes per model; "
                            f"this run has {_fmt_list(peak.columns)}")
    beats = [m for m, k in knees.items() if k.beats_line]
    share = len(beats) / len(knees)
    knee_at = [knees[m].batch for m in beats]
    text = (f"knee beats a single line for {len(beats)}/{len(knees)} models"
            + (f"; median knee at batch {np.median(knee_at):g}, median slope "
               f"{np.median([knees[m].slope_mb_per_image for m in beats]):.3g} MB/image"
               if beats else "")
            + f"; median single-line R2 {np.median([k.r2_linear for k in knees.values()]):.3f}")
    ok = share >= MOST
    why = (f"peak memory is flat then linear for {share:.0%} of models" if ok else
           f"only {share:.0%} of models show a knee (< {MOST:.0%}); the others grow "
           f"along a single line from the smallest batch")
    return text, ok, why


# ---------------------------------------------------------------- C6
@_claim("C6", _Meta(
    "Fig 6",
    "Static memory has a floor for networks under 100 MB of parameters, then grows "
    "linearly with parameter memory",
    f"floor = median static memory of models with parameter memory (params x 4 B) < 100 MB; "
    f"line of static vs parameter memory above it; holds if slope > 0, R2 >= {C6_MIN_R2:g} "
    f"and the floor exceeds the line's extrapolation to the small models by >= "
    f"{C6_MIN_FLOOR_EXCESS:.0%} of the floor (floor and slope compared with 200 MB / 1.30)",
    "floor 200 MB under 100 MB of parameters, then slope 1.30"))
def claim_c6(results: pd.DataFrame | None, counts: pd.DataFrame | None = None,
             device_tag: str | None = None, floor_threshold_mb: float = 100.0,
             bytes_per_param: int = _BYTES_PER_PARAM):
    """C6 from ``memory_static`` rows (MB; median over batch sizes per model) and parameter counts."""
    _table(results, "memory_static", device_tag)
    points = static_vs_parameter_memory(results, counts, device_tag, bytes_per_param)
    if points.empty:
        raise _Unmeasurable("no model has both memory_static and a parameter count")
    fs = floor_slope_fit(points["param_mb"].to_numpy(), points["static_mb"].to_numpy(), floor_threshold_mb)
    if fs.n_floor < 2 or fs.n_linear < 3:
        raise _Unmeasurable(
            f"needs >= 2 models under {floor_threshold_mb:g} MB of parameters and >= 3 above; "
            f"this run has {fs.n_floor} and {fs.n_linear}")
    text = (f"floor {fs.floor_mb:.1f} MB ({fs.n_floor} models), slope {fs.slope:.2f} "
            f"(R2 {fs.r2:.3f}, {fs.n_linear} models), floor above the line by "
            f"{fs.floor_excess_mb:.1f} MB")
    line_ok = fs.slope > 0 and fs.r2 >= C6_MIN_R2
    floor_ok = fs.floor_excess_mb >= C6_MIN_FLOOR_EXCESS * fs.floor_mb
    if line_ok and floor_ok:
        why = "a floor for small models, then a positive linear slope"
    elif not line_ok:
        why = (f"static memory above {floor_threshold_mb:g} MB is not a rising line "
               f"(slope {fs.slope:.2f}, R2 {fs.r2:.3f})")
    else:
        why = ("no floor: the small models lie on the same line as the large ones "
               f"(excess {fs.floor_excess_mb:.1f} MB < {C6_MIN_FLOOR_EXCESS:.0%} of the floor)")
    return text, line_ok and floor_ok, why


# ---------------------------------------------------------------- C7
@_claim("C7", _Meta(
    "Fig 8",
    "No architecture has its own power footprint: at full utilisation every network draws "
    "about the same net power",
    f"net power at each model's largest batch; mean, sample std and CV = std/mean across "
    f"models (>= 3); holds if CV <= {C7_MAX_CV:g}",
    "+11.8 W +- 0.7 W over 1.30 W idle (CV 0.06)"))
def claim_c7(results: pd.DataFrame | None, device_tag: str | None = None):
    """C7 from ``power_net`` rows (W)."""
    _table(results, "power_net", device_tag)
    spread = power_spread(results, device_tag)
    if spread.n_models < 3:
        raise _Unmeasurable(f"needs net power of >= 3 models; this run has {spread.n_models}")
    text = (f"+{spread.mean_w:.2f} W +- {spread.std_w:.2f} W over idle across "
            f"{spread.n_models} models (CV {spread.cv:.3f})")
    ok = spread.cv <= C7_MAX_CV
    why = (f"across-model CV {spread.cv:.3f} <= {C7_MAX_CV:g}: one power footprint for all"
           if ok else f"across-model CV {spread.cv:.3f} > {C7_MAX_CV:g}: models differ in power")
    return text, ok, why


# ---------------------------------------------------------------- C8
@_claim("C8", _Meta(
    "Fig 7",
    "Operations count is linear in per-image inference time (batch 1 and 16); the slope "
    "rises for larger batches",
    f"least-squares line of operations (gops: groups honoured, else gmacs) vs per-image time at batch 1 "
    f"and 16 (>= 3 models each); holds if R2 >= {MIN_R2:g} and slope > 0 at both and the "
    f"slope at 16 exceeds that at 1",
    "linear trend at batch 1 and 16, steeper at 16"))
def claim_c8(results: pd.DataFrame | None, counts: pd.DataFrame | None = None,
             device_tag: str | None = None, batch_sizes: Sequence[int] = (1, 16),
             ops_column: str = "gops"):
    """C8 from ``latency_per_image`` rows (s) and operation counts (billions)."""
    lat = _table(results, "latency_per_image", device_tag)
    _need_batches(lat, batch_sizes)
    ops, col = _ops(counts, ops_column)
    if ops.empty:
        raise _Unmeasurable("no operation counts")
    fits = {b: ops_vs_time(results, counts, b, col, device_tag) for b in batch_sizes}
    short = [b for b, f in fits.items() if f.n < 3]
    if short:
        raise _Unmeasurable(f"needs >= 3 models with both time and operations at batch "
                            f"{_fmt_list(short)}")
    unit = f"{_ops_unit(col)}/s"
    text = "; ".join(f"batch {b}: slope {f.slope:.3g} {unit}, R2 {f.r2:.3f} (n={f.n})"
                     for b, f in fits.items())
    linear = all(f.r2 >= MIN_R2 and f.slope > 0 for f in fits.values())
    slopes = [fits[b].slope for b in batch_sizes]
    rising = all(s2 > s1 for s1, s2 in zip(slopes, slopes[1:]))
    if linear and rising:
        why = "operations are linear in per-image time, steeper at larger batch"
    elif not linear:
        why = f"not linear: R2 < {MIN_R2:g} or slope <= 0 at some batch size"
    else:
        why = "linear, but the slope does not rise with batch size"
    return text, linear and rising, why


# ---------------------------------------------------------------- C9
@_claim("C9", _Meta(
    "Fig 9",
    "Accuracy has a linear upper bound in throughput (images/s), i.e. is hyperbolic in "
    "inference time",
    f"line fitted to the Pareto-optimal models (none both faster and more accurate) of "
    f"top-1 vs images/s, at batch 1 and 16 where measured; holds if >= 3 frontier models, "
    f"slope < 0, R2 >= {MIN_R2:g} and no model lies more than {C9_TOLERANCE_PTS:g} points "
    f"above the line",
    "linear upper bound; AlexNets gain about 80 Hz with larger batches"))
def claim_c9(results: pd.DataFrame | None, top1: Any = None, device_tag: str | None = None,
             batch_sizes: Sequence[int] = (1, 16)):
    """C9 from ``latency_per_image`` rows (s) and top-1 %; images/s = 1 / per-image time."""
    lat = _table(results, "latency_per_image", device_tag)
    acc = _top1_series(top1)
    used = [b for b in batch_sizes if b in lat.columns]
    if not used:
        raise _Unmeasurable(f"needs batch sizes {' or '.join(map(str, batch_sizes))}; "
                            f"this run has {_fmt_list(lat.columns)}")
    parts, oks, whys = [], [], []
    for b in used:
        ips = (1.0 / lat[b]).dropna()
        common = [m for m in ips.index if m in acc.index]
        if len(common) < 3:
            raise _Unmeasurable(f"needs >= 3 models with both accuracy and time at batch {b}; "
                                f"this run has {len(common)}")
        bound = accuracy_throughput_bound(acc[common], ips[common])
        if bound.n_frontier < 3:
            raise _Unmeasurable(f"only {bound.n_frontier} Pareto-optimal models at batch {b}: "
                                f"a line through fewer than 3 says nothing about linearity")
        hyp = hyperbolic_fit(1.0 / ips[common], acc[common])
        parts.append(f"batch {b}: bound slope {bound.slope:.3g} pts per image/s, R2 "
                     f"{bound.r2:.3f} over {bound.n_frontier} frontier models, max excess "
                     f"{bound.max_excess_pts:.2f} pts (hyperbolic-in-time R2 {hyp.r2:.3f})")
        ok = bound.slope < 0 and bound.r2 >= MIN_R2 and bound.all_below
        oks.append(ok)
        if not ok:
            whys.append(f"batch {b}: " + ("slope >= 0" if not bound.slope < 0 else
                                          f"R2 {bound.r2:.3f} < {MIN_R2:g}" if bound.r2 < MIN_R2
                                          else f"a model lies {bound.max_excess_pts:.2f} pts "
                                               f"above the line"))
    if len(used) >= 2:
        gains = [f"{m} +{1 / lat.at[m, used[-1]] - 1 / lat.at[m, used[0]]:.0f} Hz"
                 for m in ("AlexNet", "BN-AlexNet") if m in lat.index
                 and np.isfinite(lat.at[m, used[0]]) and np.isfinite(lat.at[m, used[-1]])]
        if gains:
            parts.append(f"batch {used[0]} to {used[-1]}: " + ", ".join(gains))
    missing = [b for b in batch_sizes if b not in used]
    ok = all(oks)
    why = ("a linear upper bound with negative slope at " +
           " and ".join(f"batch {b}" for b in used) if ok else "; ".join(whys))
    if missing:
        why += f" (batch {_fmt_list(missing)} not measured)"
    return "; ".join(parts), ok, why


# ---------------------------------------------------------------- C10
@_claim("C10", _Meta(
    "Sec 3.7",
    "Because power is constant at full load, an energy budget per image bounds achievable "
    "accuracy (and operations)",
    f"at each model's largest batch with energy: line of energy per image vs per-image time "
    f"(>= 3 models; slope = effective power); holds if R2 >= {MIN_R2:g} and slope > 0 "
    f"(energy is a time budget) and the best-accuracy-under-budget envelope has >= 2 steps",
    "derived from C7 and C9"))
def claim_c10(results: pd.DataFrame | None, top1: Any = None, device_tag: str | None = None):
    """C10 from ``energy_per_image`` (J) and ``latency_per_image`` (s) rows and top-1 %."""
    energy = _table(results, "energy_per_image", device_tag)
    lat = _table(results, "latency_per_image", device_tag)
    acc = _top1_series(top1)
    e, t = {}, {}
    for model, row in energy.iterrows():
        row = row.dropna()
        for b in sorted(row.index, reverse=True):
            if model in lat.index and b in lat.columns and np.isfinite(lat.at[model, b]):
                e[model], t[model] = float(row[b]), float(lat.at[model, b])
                break
    if len(e) < 3:
        raise _Unmeasurable(f"needs >= 3 models with energy and time at one batch size; "
                            f"this run has {len(e)}")
    e_s, t_s = pd.Series(e), pd.Series(t)
    fit = linear_fit(t_s.to_numpy(), e_s.to_numpy())
    common = [m for m in e_s.index if m in acc.index]
    if len(common) < 2:
        raise _Unmeasurable(f"needs accuracy for >= 2 models with energy; this run has {len(common)}")
    env = energy_accuracy_bound(e_s[common], acc[common])
    steps = env[env["on_frontier"]]
    text = (f"energy vs time: slope {fit.slope:.3g} W, R2 {fit.r2:.3f} (n={fit.n}); envelope "
            f"steps: " + ", ".join(f"{r.budget_j:.3g} J -> {r.best_top1_pct:.2f}% ({r.best_model})"
                                   for r in steps.itertuples()))
    prop = fit.slope > 0 and fit.r2 >= MIN_R2
    ok = prop and len(steps) >= 2
    why = ("energy per image tracks time (constant power), so a budget bounds accuracy"
           if ok else f"energy is not proportional to time (R2 {fit.r2:.3f})" if not prop
           else "the cheapest model is also the most accurate: no trade-off to bound")
    return text, ok, why


# ---------------------------------------------------------------- C11
def _c11_stats(top1: Any, counts: pd.DataFrame | None) -> tuple[pd.DataFrame, float, float, str]:
    acc = _top1_series(top1)
    params = _counts_column(counts, "params_m").dropna()
    dens = accuracy_density(acc, params)
    needed = sorted(set(C11_ORDER) | {"AlexNet", "VGG-19"})
    missing = [m for m in needed if m not in dens.index]
    if missing:
        raise _Unmeasurable(f"needs accuracy and parameters for {_fmt_list(missing)}")
    r_alex = density_ratio(dens, "ENet", "AlexNet")
    r_vgg = density_ratio(dens, "ENet", "VGG-19")
    top = ", ".join(f"{m} {dens.at[m, 'density_pct_per_m']:.2f}" for m in dens.index[:4])
    text = (f"ranking: {top} %/M; ENet / AlexNet {r_alex:.1f}x, ENet / VGG-19 {r_vgg:.1f}x")
    return dens, r_alex, r_vgg, text


@_claim("C11", _Meta(
    "Fig 10",
    "Accuracy density ranks ENet first, then GoogLeNet, BN-NIN, ResNet-18; ENet about 13x "
    "AlexNet and 24x VGG-19",
    f"top-1 % per million parameters; holds if the four densest are ENet, GoogLeNet, BN-NIN, "
    f"ResNet-18 in that order and ENet/AlexNet and ENet/VGG-19 lie within "
    f"{C11_RATIO_TOLERANCE:.0%} of the paper's ratios (computed from its table)",
    lambda: _c11_stats(None, None)[3]))
def claim_c11(top1: Any = None, counts: pd.DataFrame | None = None):
    """C11 from top-1 % and parameter counts (paper's values when None)."""
    dens, r_alex, r_vgg, text = _c11_stats(top1, counts)
    _, p_alex, p_vgg, _ = _c11_stats(None, None)
    order_ok = tuple(dens.index[:4]) == C11_ORDER
    ratios_ok = (abs(r_alex / p_alex - 1) <= C11_RATIO_TOLERANCE
                 and abs(r_vgg / p_vgg - 1) <= C11_RATIO_TOLERANCE)
    if order_ok and ratios_ok:
        why = "same top-4 order and ratios near the paper's"
    elif not order_ok:
        why = f"top-4 order {', '.join(dens.index[:4])} differs from {', '.join(C11_ORDER)}"
    else:
        why = (f"ratios {r_alex:.1f}x / {r_vgg:.1f}x vs the paper's {p_alex:.1f}x / {p_vgg:.1f}x "
               f"(more than {C11_RATIO_TOLERANCE:.0%} off)")
    return text, order_ok and ratios_ok, why


# ---------------------------------------------------------------- the table
def _restrict(frame: pd.DataFrame | None, models: set[str] | None) -> pd.DataFrame | None:
    if frame is None or models is None or len(frame) == 0 or "model" not in frame.columns:
        return frame
    return frame[frame["model"].astype(str).isin(models)]


def claims_table(results: pd.DataFrame | None, counts: pd.DataFrame | None = None,
                 top1: Any = None, device_tag: str | None = None,
                 models: Iterable[str] | None = PAPER_MODELS) -> pd.DataFrame:
    """One row per claim C1..C11, in order, with the columns of ``Verdict``.

    ``counts`` / ``top1`` default to the paper's own values. ``models``
    restricts every input to those models (default: the paper's 14, since
    the claims are about them); None uses every model present. Never raises
    on missing data: a claim without its data is "cannot be measured here"
    with the reason; an unexpected failure in one claim is reported in its
    row (verdict "cannot be measured here", reason "analysis failed: ...").
    """
    keep = set(models) if models is not None else None
    res = _restrict(results, keep)
    cnt = _restrict(counts, keep)
    acc = _top1_series(top1)
    if keep is not None:
        acc = acc[acc.index.isin(keep)]
    calls: list[tuple[Callable[..., Verdict], tuple, dict]] = [
        (claim_c1, (acc,), {}),
        (claim_c2, (cnt,), {}),
        (claim_c3, (res,), {"device_tag": device_tag}),
        (claim_c4, (res,), {"device_tag": device_tag}),
        (claim_c5, (res,), {"device_tag": device_tag}),
        (claim_c6, (res, cnt), {"device_tag": device_tag}),
        (claim_c7, (res,), {"device_tag": device_tag}),
        (claim_c8, (res, cnt), {"device_tag": device_tag}),
        (claim_c9, (res, acc), {"device_tag": device_tag}),
        (claim_c10, (res, acc), {"device_tag": device_tag}),
        (claim_c11, (acc, cnt), {}),
    ]
    rows = []
    for cid, (fn, args, kwargs) in zip(CLAIM_IDS, calls):
        try:
            rows.append(fn(*args, **kwargs).as_dict())
        except Exception as exc:  # reported in the row, never hidden
            meta: _Meta = fn.meta  # type: ignore[attr-defined]
            paper = meta.paper_figure if isinstance(meta.paper_figure, str) else ""
            rows.append(Verdict(cid, meta.source, meta.text, paper, "not measured",
                                meta.statistic, CANNOT_MEASURE,
                                f"analysis failed: {type(exc).__name__}: {exc}").as_dict())
    return pd.DataFrame(rows, columns=[f.name for f in fields(Verdict)])


def claims_by_device(results: pd.DataFrame | None, counts: pd.DataFrame | None = None,
                     top1: Any = None) -> pd.DataFrame:
    """The verdict of every claim (rows C1..C11) on every device in ``results`` (columns)."""
    tags = sorted(results["device_tag"].dropna().unique()) if not _empty(results) else []
    columns = {tag: claims_table(results, counts, top1, device_tag=tag).set_index("claim")["verdict"]
               for tag in tags}
    frame = pd.DataFrame(columns, index=pd.Index(CLAIM_IDS, name="claim"))
    return frame


def images_per_second(results: pd.DataFrame | None, batch_size: int,
                      device_tag: str | None = None) -> pd.Series:
    """Throughput (images/s) per model at ``batch_size``: 1 / per-image median time."""
    table = metric_table(results, "latency_per_image", device_tag)
    if batch_size not in table.columns:
        return pd.Series(dtype=float, name="images_per_s")
    return (1.0 / table[batch_size]).dropna().rename("images_per_s")


def devices_with(results: pd.DataFrame | None, metric: str) -> list[str]:
    """Device tags that have at least one status-"ok" row of ``metric``, sorted."""
    if _empty(results):
        return []
    rows = results[(results["metric"] == metric) & (results["status"] == "ok")]
    return sorted(rows["device_tag"].dropna().unique())


def at_largest_batch(table: pd.DataFrame) -> pd.Series:
    """Each model's value at its largest measured batch size (rows: models, columns: batch sizes)."""
    return table.apply(lambda row: row.dropna().iloc[-1] if row.notna().any() else np.nan, axis=1)
