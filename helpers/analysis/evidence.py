"""What the claims are ruled on: one device's results, counts and accuracy, as tables.

Data contracts:

* ``results``: the tidy frame of ``helpers.store.results.load_results`` /
  ``ResultsStore.read`` (columns ``COLUMNS``). Only ``status == "ok"`` rows
  carry values. Metrics and their canonical units (other units in the
  ``unit`` column are converted, see ``CANONICAL_UNITS``):
  ``latency_per_image`` s (per-image median at that batch size, with its 95 %
  interval in ``ci_low``/``ci_high``), ``memory_static`` MB (10**6 bytes, the
  model loaded, above the process's baseline ``details.baseline_mb``),
  ``memory_peak`` MB (peak during one forward at that batch, same baseline),
  ``power_net`` W (over idle), ``energy_per_image`` J.
* ``counts``: the frame of ``helpers.counting.table.count_table`` (``model``, ``params``,
  ``params_m``, ``gmacs``, ``gops``, ``gops_2016``, ``gops_published``).
  ``gops`` is our count (groups honoured); ``gops_published`` is the paper's
  published number: two names, two meanings.
* ``accuracy``: one row per model: ``top1_pct``, ``ci_low``, ``ci_high``,
  ``n_images``, ``source`` (``measured`` or ``paper``) and ``label``.

``Evidence`` bundles one device's rows with counts, accuracy and the device's
description; ``helpers.analysis.claims`` rules every claim from one ``Evidence``.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from helpers.analysis.fits import Knee, LinearFit, linear_fit, memory_knee
from helpers.core.reference import PAPER_MODELS, paper_models, paper_numbers

__all__ = [
    "CANONICAL_UNITS", "AmbiguousDeviceError", "metric_table", "point_table", "batch_sizes",
    "missing_reason", "process_baseline_mb", "paper_counts", "counts_column", "OPS_COLUMNS", "operations", "ops_unit",
    "top1_series", "paper_accuracy", "speedups", "memory_knees", "static_vs_parameter_memory",
    "ops_vs_time", "images_per_second", "devices_with", "at_largest_batch", "Device", "Evidence",
    "run_evidence", "paper_evidence", "FLAGS_LEFT_OUT", "is_left_out",
]

#: Float32 parameters: 4 bytes each.
BYTES_PER_PARAM = 4
#: Memory fits need this many batch sizes (lesson 05's knee).
MIN_MEMORY_POINTS = 4
#: Engine flags that take a point out of every statistic (``imprecise`` points
#: stay in: their wide interval already says how little they tell).
FLAGS_LEFT_OUT: tuple[str, ...] = ("contended", "unstable")

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


def _unit_factors(rows: pd.DataFrame, metric: str) -> np.ndarray:
    """Per row, the factor turning its ``unit`` into ``metric``'s canonical unit (1 for
    metrics without one, and for an empty unit). ValueError naming an unknown unit."""
    canonical = CANONICAL_UNITS.get(metric)
    if canonical is None or "unit" not in rows.columns:
        return np.ones(len(rows))
    table = _UNIT_FACTORS[canonical]
    factors = []
    for unit in rows["unit"].astype(str).fillna(""):
        unit = unit.strip()
        if unit in ("", "nan", "None", "<NA>"):
            factors.append(1.0)
        elif unit in table:
            factors.append(table[unit])
        else:
            raise ValueError(f"{metric}: unknown unit {unit!r}; expected one of {_fmt_list(table)}")
    return np.asarray(factors, dtype=float)


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
    values = pd.to_numeric(rows["value"], errors="coerce").astype(float).to_numpy() * _unit_factors(rows, metric)
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


def missing_reason(results: pd.DataFrame | None, metric: str, device_tag: str | None) -> str:
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


def counts_column(counts: pd.DataFrame | None, column: str) -> pd.Series:
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


def operations(counts: pd.DataFrame | None, ops_column: str = "gops") -> tuple[pd.Series, str]:
    """Operations per model (billions) and the column they come from: ``ops_column``,
    else ``gops_published``, else ``gmacs``, whichever first has values."""
    if ops_column not in OPS_COLUMNS:
        raise ValueError(f"unknown operations column {ops_column!r}; valid: {', '.join(OPS_COLUMNS)}")
    for column in [ops_column] + [c for c in _OPS_FALLBACK if c != ops_column]:
        ops = counts_column(counts, column).dropna()
        if not ops.empty:
            return ops, column
    return ops, ops_column


def ops_unit(column: str) -> str:
    """G-ops for the operation counts (gops, gops_2016, gops_published), GMAC for gmacs."""
    return "GMAC" if column == "gmacs" else "G-ops"


def top1_series(top1: Any) -> pd.Series:
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



def speedups(results: pd.DataFrame | None, b_from: int = 1, b_to: int = 64,
             device_tag: str | None = None) -> pd.Series:
    """Per-image latency at ``b_from`` over that at ``b_to``, per model timed at both (dimensionless)."""
    table = metric_table(results, "latency_per_image", device_tag)
    if b_from not in table.columns or b_to not in table.columns:
        return pd.Series(dtype=float, name="speedup")
    both = table[[b_from, b_to]].dropna()
    return (both[b_from] / both[b_to]).rename("speedup")



def memory_knees(results: pd.DataFrame | None, device_tag: str | None = None,
                 min_points: int = MIN_MEMORY_POINTS) -> dict[str, Knee]:
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
                               bytes_per_param: int = BYTES_PER_PARAM) -> pd.DataFrame:
    """Fig 6's points: per model, parameter memory (params x bytes / 1e6, MB) and static
    memory (MB, median over batch sizes). Models with both only."""
    static = metric_table(results, "memory_static", device_tag).median(axis=1, skipna=True).dropna()
    params = counts_column(counts, "params").dropna()
    common = [m for m in static.index if m in params.index]
    return pd.DataFrame({"param_mb": params[common] * bytes_per_param / 1e6,
                         "static_mb": static[common]}, index=pd.Index(common, name="model"))



def process_baseline_mb(results: pd.DataFrame | None, device_tag: str | None = None) -> pd.Series:
    """Each model's process baseline (MB) that its memory rows are net of: the
    interpreter's and libraries' resident memory before the model was built,
    from the ``details.baseline_mb`` of its status-"ok" ``memory_static`` rows
    (the last row of a model wins). Indexed by model; empty when none is recorded."""
    return _baselines(_device_rows(results, device_tag))


def _baselines(rows: pd.DataFrame) -> pd.Series:
    """``details.baseline_mb`` of the status-"ok" ``memory_static`` rows of ``rows``, by model."""
    if not rows.empty:
        rows = rows[(rows["metric"] == "memory_static") & (rows["status"] == "ok")]
    out = {}
    for model, details in zip(rows.get("model", []), rows.get("details", [])):
        try:
            value = json.loads(details or "{}").get("baseline_mb")
        except (TypeError, ValueError, AttributeError):
            value = None
        if value is not None:
            out[str(model)] = float(value)
    return pd.Series(out, dtype=float, name="baseline_mb")


def ops_vs_time(results: pd.DataFrame | None, counts: pd.DataFrame | None, batch_size: int,
                ops_column: str = "gops", device_tag: str | None = None) -> "LinearFit":
    """Fig 7's line: operations (billions, ``ops_column`` of ``counts``, else
    ``gops_published``, else ``gmacs``) against per-image time (s) at ``batch_size``.
    Slope in G-ops (GMAC for gmacs) per second; models with both."""
    table = metric_table(results, "latency_per_image", device_tag)
    if batch_size not in table.columns:
        return LinearFit(math.nan, math.nan, math.nan, 0)
    ops, _ = operations(counts, ops_column)
    t = table[batch_size].dropna()
    common = [m for m in t.index if m in ops.index and np.isfinite(ops[m])]
    return linear_fit(t[common].to_numpy(), ops[common].to_numpy())


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


# ================================================================== points and flags

def point_table(results: pd.DataFrame | None, metric: str,
                device_tag: str | None = None) -> pd.DataFrame:
    """Status-"ok" points of ``metric``, one row per (model, batch_size), in canonical
    units: ``value``, ``ci_low``, ``ci_high`` (NaN without an interval), ``n`` and
    ``flags`` (a ``;``-separated string). The last row of a (model, batch) wins."""
    columns = ["model", "batch_size", "value", "ci_low", "ci_high", "n", "flags"]
    rows = _device_rows(results, device_tag)
    rows = rows[(rows["metric"] == metric) & (rows["status"] == "ok")]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    factor = _unit_factors(rows, metric)
    out = pd.DataFrame({
        "model": rows["model"].astype(str).to_numpy(),
        "batch_size": rows["batch_size"].astype(int).to_numpy(),
        "value": pd.to_numeric(rows["value"], errors="coerce").to_numpy(dtype=float) * factor,
        "ci_low": pd.to_numeric(rows.get("ci_low"), errors="coerce").to_numpy(dtype=float) * factor
        if "ci_low" in rows else np.nan,
        "ci_high": pd.to_numeric(rows.get("ci_high"), errors="coerce").to_numpy(dtype=float) * factor
        if "ci_high" in rows else np.nan,
        "n": pd.to_numeric(rows["n"], errors="coerce").to_numpy(dtype=float) if "n" in rows else np.nan,
        "flags": [str(f) if f is not None and str(f) not in ("nan", "<NA>") else ""
                  for f in (rows["flags"] if "flags" in rows else [""] * len(rows))],
    })
    out = out.dropna(subset=["value"]).drop_duplicates(["model", "batch_size"], keep="last")
    return out.sort_values(["model", "batch_size"]).reset_index(drop=True)


def is_left_out(flags: str) -> bool:
    """Whether a point with these ``;``-separated flags is left out of every statistic (contended, unstable)."""
    return any(f in FLAGS_LEFT_OUT for f in str(flags).split(";"))


# ================================================================== the device and the evidence

@dataclass(frozen=True)
class Device:
    """Where the results come from: ``tag`` (the store's folder), ``hardware``
    (CPU or GPU model), ``threads``, ``fingerprint`` of the run."""

    tag: str
    hardware: str = ""
    threads: int | None = None
    fingerprint: str = ""

    def describe(self) -> str:
        """``tag: hardware, N threads`` (what a verdict names)."""
        bits = [b for b in (self.hardware, f"{self.threads} threads" if self.threads else "") if b]
        return f"{self.tag}: {', '.join(bits)}" if bits else self.tag

    @property
    def is_tx1(self) -> bool:
        """The paper's own board (Jetson TX1)."""
        text = f"{self.tag} {self.hardware}".lower()
        return "tx1" in text or "tegra x1" in text

    @classmethod
    def of(cls, rows: pd.DataFrame, tag: str) -> "Device":
        """The device of ``rows`` (one tag): hardware, threads and fingerprint of its latest rows."""
        mine = rows[rows["device_tag"] == tag] if "device_tag" in rows else rows
        if mine.empty:
            return cls(tag)

        def last(column: str) -> Any:
            if column not in mine:
                return None
            values = [v for v in mine[column].tolist() if v is not None and str(v) not in ("", "nan", "<NA>")]
            return values[-1] if values else None

        threads = last("threads")
        return cls(tag=tag, hardware=str(last("hardware") or last("host_gpu") or last("host_cpu") or ""),
                   threads=int(threads) if threads is not None else None,
                   fingerprint=str(last("fingerprint") or ""))


@dataclass(frozen=True)
class Evidence:
    """Everything one ruling of the claims reads.

    ``results``: one device's rows (may be empty); ``counts``: counts indexed by
    model (see module docstring); ``accuracy``: top-1 indexed by model;
    ``device``: where ``results`` come from (None for the paper's own numbers);
    ``source``: ``"run"`` or ``"paper"`` (the paper's published numbers only);
    ``stated``: statistics the source states directly, by part id (the
    paper's text figures, for ``paper_evidence``).
    """

    results: pd.DataFrame
    counts: pd.DataFrame
    accuracy: pd.DataFrame
    device: Device | None = None
    source: str = "run"
    stated: Mapping[str, float] = field(default_factory=dict)
    # point_table per metric, read once: every part asks for the same few (not part of the evidence's identity)
    _points: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.source not in ("run", "paper"):
            raise ValueError(f"source={self.source!r}: must be 'run' or 'paper'")

    @property
    def tag(self) -> str | None:
        return self.device.tag if self.device else None

    def describe(self) -> str:
        """The device a verdict names, or the paper's board for the paper's numbers."""
        if self.source == "paper":
            return "the paper's Jetson TX1 (its published numbers)"
        return self.device.describe() if self.device else "no device"

    # ---- measured tables
    def points(self, metric: str) -> pd.DataFrame:
        """``point_table`` of this device, with a boolean ``left_out`` column
        (flagged ``FLAGS_LEFT_OUT``)."""
        if metric not in self._points:
            pts = point_table(self.results, metric, None if self.results.empty else self.tag)
            pts["left_out"] = [is_left_out(f) for f in pts["flags"]]
            self._points[metric] = pts
        return self._points[metric].copy()

    def table(self, metric: str, column: str = "value") -> pd.DataFrame:
        """Model x batch_size table of ``column`` (value, ci_low or ci_high) of the
        points not left out; NaN where not measured or left out."""
        pts = self.points(metric)
        if pts.empty:
            return pd.DataFrame(index=pd.Index([], name="model"),
                                columns=pd.Index([], name="batch_size", dtype="int64"), dtype=float)
        pts[column] = pts[column].where(~pts["left_out"])
        out = pts.pivot(index="model", columns="batch_size", values=column).astype(float)
        out = out.reindex(sorted(out.columns), axis=1)
        out.columns = pd.Index([int(c) for c in out.columns], name="batch_size")
        return out.dropna(how="all")

    def window_medians(self, metric: str) -> dict[tuple[str, int], dict[int, float]]:
        """Per (model, batch): {round: window median per image} of this device's rows
        (helpers.analysis.reproducibility.window_medians); empty for a run without windows."""
        from helpers.analysis.reproducibility import window_medians

        return window_medians(_device_rows(self.results, None if self.results.empty else self.tag), metric)

    def left_out(self, metric: str) -> list[str]:
        """``model@batch (flags)`` of the points left out of every statistic."""
        pts = self.points(metric)
        return [f"{r.model}@{r.batch_size} ({r.flags})" for r in pts[pts["left_out"]].itertuples()]

    def missing(self, metric: str) -> str:
        """Why ``metric`` has no usable point here."""
        if self.results.empty:
            return f"no {metric} rows: nothing measured on this device"
        return missing_reason(self.results, metric, self.tag)

    def baseline_mb(self) -> pd.Series:
        """Each model's process baseline under its static memory (MB): the framework's
        own resident memory before the model was built (``details.baseline_mb``)."""
        return _baselines(self.results)

    # ---- counts and accuracy
    def ops(self, column: str = "gops") -> pd.Series:
        """Operations per model (billions) in ``column`` (no fallback: NaN-free, maybe empty)."""
        if column not in OPS_COLUMNS:
            raise ValueError(f"unknown operations column {column!r}; valid: {', '.join(OPS_COLUMNS)}")
        return counts_column(self.counts.reset_index(), column).dropna()

    def params_m(self) -> pd.Series:
        """Parameters per model, millions: our count (``params_m``), else the paper's (``params_m_paper``)."""
        column = "params_m" if "params_m" in self.counts.columns else "params_m_paper"
        return counts_column(self.counts.reset_index(), column).dropna()

    def top1(self) -> pd.Series:
        """Top-1 % per model (measured where the store has it, else the paper's)."""
        return self.accuracy["top1_pct"].astype(float).dropna()

    def accuracy_measured(self, models: Iterable[str] | None = None) -> bool:
        """True when every model's top-1 (of ``models``, default all) was measured."""
        acc = self.accuracy if models is None else self.accuracy.reindex(list(models))
        return bool(len(acc)) and bool((acc["source"] == "measured").all())


def paper_accuracy() -> pd.DataFrame:
    """The paper's top-1 per model in the ``accuracy`` shape (no interval, source "paper")."""
    ref = paper_models()
    return pd.DataFrame({"top1_pct": ref["top1_pct"].astype(float), "ci_low": np.nan, "ci_high": np.nan,
                         "n_images": np.nan, "source": "paper",
                         "label": ["the paper's: " + str(s) for s in ref["top1_source"]]},
                        index=pd.Index(list(ref.index), name="model"))


def _accuracy_frame(results: pd.DataFrame | None, models: Iterable[str]) -> pd.DataFrame:
    """Measured top-1 where ``results`` hold it, the paper's otherwise (see ``Evidence.accuracy``)."""
    from helpers.analysis.accuracy import top1_for_claims

    frame = top1_for_claims(results if results is not None and not results.empty else None, list(models))
    return frame.set_index("model")[["top1_pct", "ci_low", "ci_high", "n_images", "source", "label"]]


def _counts_frame(counts: pd.DataFrame | None, models: Iterable[str]) -> pd.DataFrame:
    if counts is None:
        from helpers.counting.table import count_table

        counts = count_table(list(models), thop=False, progress=False)
    frame = counts.set_index("model") if "model" in counts.columns else counts
    frame.index = frame.index.astype(str)
    return frame


def run_evidence(results: pd.DataFrame | None, device_tag: str | None = None,
                 counts: pd.DataFrame | None = None, accuracy: pd.DataFrame | None = None,
                 models: Iterable[str] | None = PAPER_MODELS) -> Evidence:
    """Evidence of one device of ``results`` (one tag; ``device_tag`` needed when there are several).

    ``counts`` default to ``count_table`` of the models (our counts, with the
    paper's ``gops_published`` beside them); ``accuracy`` defaults to measured
    top-1 where ``results`` hold it, the paper's otherwise. ``models`` keeps
    those models only (default: the paper's 14, whom the claims are about);
    None keeps all.
    """
    frame = results if results is not None else pd.DataFrame()
    if not frame.empty:
        frame = _device_rows(frame, device_tag)
        if device_tag is None:
            device_tag = str(frame["device_tag"].iloc[0]) if len(frame) else None
    keep = list(models) if models is not None else (
        sorted(frame["model"].astype(str).unique()) if not frame.empty else list(PAPER_MODELS))
    if not frame.empty:
        frame = frame[frame["model"].astype(str).isin(keep)].reset_index(drop=True)
    cnt = _counts_frame(counts, keep)
    cnt = cnt[cnt.index.isin(keep)]
    acc = accuracy if accuracy is not None else _accuracy_frame(results, keep)
    acc = acc[acc.index.isin(keep)]
    device = Device.of(frame, device_tag) if device_tag else None
    return Evidence(results=frame, counts=cnt, accuracy=acc, device=device)


def paper_evidence() -> Evidence:
    """The paper's own numbers as evidence: its 14 models' top-1, G-ops and parameters
    (paper_models.csv) and the figures its text states (paper_numbers.csv), no
    measured rows. Ruling the claims on it checks that every statistic reads the
    paper as the paper reads itself."""
    ref = paper_models()
    counts = pd.DataFrame({"params_m_paper": ref["params_m_paper"], "gops_published": ref["gops_published"]},
                          index=pd.Index(list(ref.index), name="model"))
    numbers = paper_numbers()
    stated = {key: float(row.value) for key, row in numbers.iterrows()}
    return Evidence(results=pd.DataFrame(), counts=counts, accuracy=paper_accuracy(),
                    device=Device("paper-jetson-tx1", "NVIDIA Jetson TX1 (the paper's)"),
                    source="paper", stated=stated)
