"""The roofline per model and batch size, and a test of the cache explanation.

Units throughout: operations in G-ops (the paper's convention, one multiply or
one add is one operation; ``helpers.counting.ops``), bytes in bytes under the traffic
model of ``helpers.counting.ops`` (every operator reads its inputs and writes its
outputs once; views move nothing), arithmetic intensity in op/B, throughput in
G-ops/s, the fp32 matmul peak in GFLOP/s (``2 n^3`` per product: the same unit
as G-ops/s), bandwidth in GB/s (1e9 bytes/s, STREAM's triad), time in seconds
per image.

The roofline (Williams, Waterman and Patterson, 2009): at intensity ``I`` a
computation reaches at most ``min(peak, bandwidth x I)``; the ridge point
``peak / bandwidth`` (op/B) divides memory-bound intensities (below it) from
compute-bound ones.

The cache explanation: per-image time falls with batch size until the data one
operator works on no longer fits in the last-level cache, and then rises.
:func:`cache_table` tests it per model against the measured sweep.
"""
from __future__ import annotations

import functools
import math
from typing import Iterable

import numpy as np
import pandas as pd

from helpers.analysis.evidence import is_left_out, point_table
from helpers.analysis.fits import RESAMPLES, lognormal_draws, percentile_interval
from helpers.core.stats import Estimate
from helpers.store.characterisation import measured_peak

__all__ = [
    "TRAFFIC_COLUMNS", "traffic_table", "hardware_roofs", "attainable", "roofline_table",
    "fraction_of_peak_table", "ridge_range", "latency_points", "cache_table", "cache_summary", "VERDICTS", "roofline_summary", "why_time_rises",
    "runtime_roofline", "runtime_roofline_summary",
]

#: Columns of :func:`traffic_table` (``helpers.counting.ops.count_traffic``'s row).
TRAFFIC_COLUMNS = ["model", "batch_size", "input_size", "gops", "bytes", "read_bytes", "write_bytes",
                   "param_bytes", "activation_bytes", "largest_op_bytes", "largest_op",
                   "largest_activation_op_bytes", "intensity",
                   "gops_per_image", "bytes_per_image", "activation_bytes_per_image"]


# ------------------------------------------------------------------ traffic

@functools.lru_cache(maxsize=2)
def _meta_model(name: str):
    from helpers.models.zoo import build_model

    return build_model(name, device="meta")


@functools.lru_cache(maxsize=None)
def _traffic_row(name: str, batch_size: int) -> tuple:
    from helpers.counting.cache import traffic_row

    return tuple(traffic_row(name, batch_size, build=lambda: _meta_model(name)).items())


def traffic_table(models: Iterable[str] | str, batch_sizes: Iterable[int], progress: bool = True) -> pd.DataFrame:
    """Operations and bytes per model and batch size (one row each, :data:`TRAFFIC_COLUMNS`).

    ``models``: names or presets (``"paper"``). Counted on the ``meta`` device by
    ``helpers.counting.ops.count_traffic`` (whole batch: ``gops`` in G-ops, bytes in
    bytes; ``intensity`` in op/B), each (model, batch) once (``helpers.counting.cache``).
    """
    from tqdm.auto import tqdm

    from helpers.models.zoo import resolve_models

    names = [spec.name for spec in resolve_models(models)]
    batches = sorted({int(b) for b in batch_sizes})
    pairs = [(n, b) for n in names for b in batches]
    rows = [dict(_traffic_row(n, b)) for n, b in tqdm(pairs, desc="traffic", unit="pass", disable=not progress)]
    return pd.DataFrame(rows, columns=TRAFFIC_COLUMNS)


# ------------------------------------------------------------------ the roofline

def hardware_roofs(hardware_frame: pd.DataFrame | None) -> tuple[Estimate, Estimate]:
    """The measured fp32 matmul peak (GFLOP/s) and triad bandwidth (GB/s) of a
    characterisation (``helpers.measure.hardware``); ValueError naming what is missing."""
    if hardware_frame is None or len(hardware_frame) == 0:
        raise ValueError("no hardware characterisation: the roofline needs a measured fp32 matmul peak and "
                         "triad bandwidth (python -m helpers hardware measures them)")
    peak = measured_peak(hardware_frame, "matmul_peak", "fp32")
    bandwidth = measured_peak(hardware_frame, "memory_bandwidth_triad", "fp32")
    missing = [what for what, p in (("a measured fp32 matmul peak (matmul_peak, fp32, status ok)", peak),
                                    ("a measured triad bandwidth (memory_bandwidth_triad, status ok)", bandwidth))
               if p is None]
    if missing:
        raise ValueError(f"the hardware characterisation lacks {' and '.join(missing)}: "
                         f"measure them with python -m helpers hardware")
    return peak, bandwidth


def attainable(intensity, peak: float, bandwidth: float) -> np.ndarray:
    """The roof at ``intensity`` (op/B): ``min(peak, bandwidth x intensity)`` in G-ops/s
    (``peak`` in GFLOP/s, ``bandwidth`` in GB/s)."""
    return np.minimum(float(peak), float(bandwidth) * np.asarray(intensity, dtype=float))


def _ratio_interval(draws: np.ndarray, defined: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column of ``draws`` (draws x points), the central 95 %; NaN where not ``defined``."""
    bounds = np.array([percentile_interval(draws[:, j]) if defined[j] else (math.nan, math.nan)
                       for j in range(draws.shape[1])], dtype=float).reshape(-1, 2)
    return bounds[:, 0], bounds[:, 1]


def roofline_table(results: pd.DataFrame | None, traffic: pd.DataFrame, hardware_frame: pd.DataFrame | None,
                   device_tag: str | None = None, seed: int = 0) -> pd.DataFrame:
    """Each measured (model, batch size) on the roofline of the characterised device.

    ``results``: the tidy results frame (its ``latency_per_image`` points,
    ``helpers.analysis.evidence.point_table``; points flagged contended or unstable are
    left out as every statistic leaves them out); ``traffic``: :func:`traffic_table`;
    ``hardware_frame``: ``helpers.store.characterisation.load_characterisation``'s frame, which
    must hold a measured fp32 matmul peak and triad bandwidth (ValueError otherwise).

    Columns: model, batch_size, gops_per_image (G-ops), bytes_per_image (bytes),
    intensity (op/B), latency_s with latency_ci_low/latency_ci_high (s per
    image, 95 %) and n; achieved_gops (G-ops/s = gops_per_image / latency) with
    achieved_ci_low/achieved_ci_high (the latency's bounds, swapped); roof_gops
    (the attainable ``min(peak, bandwidth x intensity)``, G-ops/s); bound
    ("memory" below the ridge point peak / bandwidth, else "compute");
    fraction_of_peak (achieved / fp32 peak) and fraction_of_roof (achieved /
    roof), ratios, each with a 95 % interval that propagates the latency's and
    the peak's (and for the roof, the bandwidth's) own 95 % intervals: each read
    as log-normal with its log half-width as 1.96 sd and drawn independently
    (``helpers.analysis.fits.lognormal_draws``, 2000 draws), the ratio's central 95 %
    (``percentile_interval``). A point without a latency interval has none.

    ``attrs``: ``peak`` and ``bandwidth`` (``helpers.core.stats.Estimate``), ``ridge``
    (op/B) and ``ridge_range`` (:func:`ridge_range`, op/B), ``left_out`` (``model@batch (flags)``) and ``no_traffic`` (measured
    points without a traffic row). Rows follow ``traffic``'s order.
    """
    peak, bandwidth = hardware_roofs(hardware_frame)
    ridge = peak.value / bandwidth.value
    points = point_table(results, "latency_per_image", device_tag)
    dropped = points["flags"].map(is_left_out).astype(bool) if len(points) else pd.Series(dtype=bool)
    left_out = [f"{r.model}@{r.batch_size} ({r.flags})" for r in points[dropped].itertuples()]
    points = points[~dropped].rename(columns={"value": "latency_s", "ci_low": "latency_ci_low",
                                              "ci_high": "latency_ci_high"})
    keys = traffic[["model", "batch_size"]].astype({"batch_size": int})
    known = set(zip(keys["model"], keys["batch_size"]))
    no_traffic = [f"{m}@{b}" for m, b in zip(points["model"], points["batch_size"]) if (m, int(b)) not in known]
    columns = ["model", "batch_size", "gops_per_image", "bytes_per_image", "intensity"]
    frame = traffic[columns].astype({"batch_size": int}).merge(
        points[["model", "batch_size", "latency_s", "latency_ci_low", "latency_ci_high", "n"]],
        on=["model", "batch_size"], how="inner").reset_index(drop=True)

    gops = frame["gops_per_image"].to_numpy(dtype=float)
    latency = frame["latency_s"].to_numpy(dtype=float)
    lat_low = frame["latency_ci_low"].to_numpy(dtype=float)
    lat_high = frame["latency_ci_high"].to_numpy(dtype=float)
    intensity = frame["intensity"].to_numpy(dtype=float)
    frame["achieved_gops"] = gops / latency
    frame["achieved_ci_low"] = gops / lat_high
    frame["achieved_ci_high"] = gops / lat_low
    frame["roof_gops"] = attainable(intensity, peak.value, bandwidth.value)
    frame["bound"] = np.where(intensity < ridge, "memory", "compute")
    frame["fraction_of_peak"] = frame["achieved_gops"] / peak.value
    frame["fraction_of_roof"] = frame["achieved_gops"] / frame["roof_gops"]

    defined = np.isfinite(lat_low) & np.isfinite(lat_high) & (lat_low > 0)
    lat_draws = lognormal_draws(latency, lat_low, lat_high, size=RESAMPLES, seed=seed)
    peak_draws = lognormal_draws([peak.value], [peak.ci_low], [peak.ci_high], size=RESAMPLES, seed=seed + 1)
    bw_draws = lognormal_draws([bandwidth.value], [bandwidth.ci_low], [bandwidth.ci_high], size=RESAMPLES,
                               seed=seed + 2)
    achieved_draws = gops / lat_draws
    frame["fraction_of_peak_ci_low"], frame["fraction_of_peak_ci_high"] = _ratio_interval(
        achieved_draws / peak_draws, defined)
    roof_draws = np.minimum(peak_draws, bw_draws * intensity)
    frame["fraction_of_roof_ci_low"], frame["fraction_of_roof_ci_high"] = _ratio_interval(
        achieved_draws / roof_draws, defined)
    frame.attrs.update({"peak": peak, "bandwidth": bandwidth, "ridge": ridge,
                        "ridge_range": ridge_range(peak, bandwidth), "left_out": left_out,
                        "no_traffic": no_traffic})
    return frame


def fraction_of_peak_table(roofline: pd.DataFrame) -> pd.DataFrame:
    """Fraction of the fp32 peak in %, models (rows, in the roofline's order) x batch sizes (columns)."""
    if not len(roofline):
        return pd.DataFrame(index=pd.Index([], name="model"), columns=pd.Index([], name="batch_size", dtype="int64"),
                            dtype=float)
    table = roofline.pivot(index="model", columns="batch_size", values="fraction_of_peak").astype(float) * 100
    table = table.reindex(index=list(dict.fromkeys(roofline["model"])), columns=sorted(table.columns))
    table.columns = pd.Index([int(c) for c in table.columns], name="batch_size")
    table.index.name = "model"
    return table


# ------------------------------------------------------------------ the cache explanation

#: What :func:`cache_table` says of a model, and whether that agrees with the cache explanation
#: (None: the sweep cannot test it).
VERDICTS: dict[str, bool | None] = {
    "coincides": True,
    "turns up while it still fits": False,
    "turns up after it left": False,
    "no turn-up": None,  # False where the working set leaves the cache within the sweep
    "outside the LLC at every batch": None,
}


def latency_points(frame: pd.DataFrame) -> pd.DataFrame:
    """Per-image times as ``model, batch_size, value, ci_low, ci_high`` (s) from a
    :func:`roofline_table` (``latency_s``, ...) or a ``helpers.analysis.evidence.point_table``
    (``value``, ...; points flagged contended or unstable, or marked ``left_out``, dropped)."""
    if "latency_s" in frame.columns:
        out = frame.rename(columns={"latency_s": "value", "latency_ci_low": "ci_low",
                                    "latency_ci_high": "ci_high"})
    elif "value" in frame.columns:
        out = frame
        if "flags" in out.columns and len(out):
            out = out[~out["flags"].map(is_left_out).astype(bool)]
        if "left_out" in out.columns:
            out = out[~out["left_out"].astype(bool)]
    else:
        raise ValueError("expected a roofline table (latency_s, latency_ci_low, latency_ci_high) or a point "
                         f"table (value, ci_low, ci_high); got columns {list(frame.columns)}")
    out = out.reindex(columns=["model", "batch_size", "value", "ci_low", "ci_high"]).copy()
    out["batch_size"] = out["batch_size"].astype(int)
    return out.dropna(subset=["value"]).reset_index(drop=True)


def _first_rise(batches: list[int], low: np.ndarray, high: np.ndarray) -> float:
    """The first batch whose interval lies wholly above the previous measured batch's (NaN if none)."""
    for i in range(1, len(batches)):
        if np.isfinite(low[i]) and np.isfinite(high[i - 1]) and low[i] > high[i - 1]:
            return float(batches[i])
    return math.nan


def cache_table(roofline_or_points: pd.DataFrame, traffic: pd.DataFrame, llc_bytes: int | None,
                working_set: str = "largest_activation_op_bytes") -> pd.DataFrame:
    """Per model, does per-image time turn up where one operator's data leaves the last-level cache?

    ``roofline_or_points``: per-image times (see :func:`latency_points`);
    ``traffic``: :func:`traffic_table`; ``working_set``: its column compared with
    the cache, by default the activation working set (the largest over operators
    of the activations one operator reads and writes: what grows with the batch;
    ``"largest_op_bytes"`` adds the operator's weights); ``llc_bytes``: the
    last-level cache in bytes (``helpers.measure.hardware.last_level_cache_bytes``).
    Only batch sizes both measured and counted are used, in ascending order.

    Columns: ``model``; ``batches`` (how many); ``leaves_llc_batch``: the first
    batch whose working set exceeds ``llc_bytes`` (NaN if
    none does); ``fastest_batch``: the lowest per-image time; ``turn_up_batch``:
    the first batch whose per-image time rises significantly above the
    previous measured batch's (its 95 % interval lies wholly above that one's;
    NaN if none, and never where either lacks an interval); ``verdict`` (a key
    of :data:`VERDICTS`) and ``agrees`` (True, False or None):

    - "coincides" (True): the turn-up comes at the batch that leaves the cache
      or at the next measured batch (a batch just past the cache may still run
      from it in part; one doubling later it cannot);
    - "turns up while it still fits" (False): before the working set leaves
      the cache, or in a model that fits at every batch;
    - "turns up after it left" (False): more than one measured batch later;
    - "no turn-up": False where the working set leaves the cache within the
      sweep (the rise it predicts is absent), None where it fits throughout;
    - "outside the LLC at every batch" (None): the working set exceeds the
      cache already at the smallest batch, so the sweep cannot see it leave.
    """
    if llc_bytes is None or not llc_bytes > 0:
        raise ValueError(f"the last-level cache size is unknown ({llc_bytes!r}): pass llc_bytes "
                         f"(helpers.measure.hardware.last_level_cache_bytes(read_caches()))")
    points = latency_points(roofline_or_points)
    if working_set not in traffic.columns:
        raise ValueError(f"working_set {working_set!r} is not a traffic column: use largest_activation_op_bytes "
                         f"or largest_op_bytes")
    working = traffic.astype({"batch_size": int}).set_index(["model", "batch_size"])[working_set]
    rows = []
    for model in dict.fromkeys(points["model"]):
        mine = points[points["model"] == model].sort_values("batch_size")
        mine = mine[[(model, b) in working.index for b in mine["batch_size"]]]
        if mine.empty:
            continue
        batches = [int(b) for b in mine["batch_size"]]
        ws = np.array([float(working[(model, b)]) for b in batches])
        outside = [b for b, w in zip(batches, ws) if w > llc_bytes]
        leaves = float(outside[0]) if outside else math.nan
        fastest = int(mine["batch_size"].iloc[int(np.argmin(mine["value"].to_numpy(dtype=float)))])
        turn_up = _first_rise(batches, mine["ci_low"].to_numpy(dtype=float), mine["ci_high"].to_numpy(dtype=float))
        if outside and leaves == batches[0]:
            verdict, agrees = "outside the LLC at every batch", None
        elif math.isnan(turn_up):
            verdict, agrees = "no turn-up", (False if outside else None)
        elif not outside or turn_up < leaves:
            verdict, agrees = "turns up while it still fits", False
        else:
            at = batches.index(int(leaves))
            window = batches[at:at + 2]  # the batch that leaves, and the next measured one
            verdict = "coincides" if int(turn_up) in window else "turns up after it left"
            agrees = VERDICTS[verdict]
        rows.append({"model": model, "batches": len(batches), "leaves_llc_batch": leaves,
                     "fastest_batch": fastest, "turn_up_batch": turn_up, "verdict": verdict, "agrees": agrees})
    table = pd.DataFrame(rows, columns=["model", "batches", "leaves_llc_batch", "fastest_batch", "turn_up_batch",
                                        "verdict", "agrees"])
    table["agrees"] = table["agrees"].astype(object)
    table.attrs["llc_bytes"] = int(llc_bytes)
    table.attrs["working_set"] = working_set
    return table


def cache_summary(cache_table: pd.DataFrame) -> str:
    """One line: in how many models the turn-up coincides with leaving the last-level cache (from the table)."""
    if not len(cache_table):
        return "No model has per-image times and working sets to test the cache explanation on."
    verdict = cache_table["verdict"]
    count = {v: int((verdict == v).sum()) for v in VERDICTS}
    testable = count["coincides"] + count["turns up while it still fits"] + count["turns up after it left"]
    leaves_no_rise = int(((verdict == "no turn-up") & cache_table["leaves_llc_batch"].notna()).sum())
    what = ("the largest operator's activations" if cache_table.attrs.get("working_set", "largest_activation_op_bytes")
            == "largest_activation_op_bytes" else "the largest per-operator working set")
    return (f"Per-image time turns up where {what} leave the last-level cache "
            f"(at that batch or the next measured one) in {count['coincides']} of {testable} models that turn up "
            f"({count['turns up while it still fits']} while it still fits, {count['turns up after it left']} "
            f"later); {count['no turn-up']} show no turn-up ({leaves_no_rise} of them leave the cache); "
            f"{count['outside the LLC at every batch']} of {len(cache_table)} are outside the cache from the "
            f"smallest batch.")


def ridge_range(peak, bandwidth) -> tuple[float, float]:
    """The ridge point's range (op/B): the lowest peak over the highest bandwidth to the highest peak
    over the lowest bandwidth, the ends of their 95 % intervals (``Estimate``s in GFLOP/s and GB/s).
    An intensity inside it is bound by memory or by arithmetic as the two intervals allow: the
    roofline cannot say which."""
    return peak.ci_low / bandwidth.ci_high, peak.ci_high / bandwidth.ci_low


def roofline_summary(roofline: pd.DataFrame) -> str:
    """What the roofline shows, in sentences computed from :func:`roofline_table`: the fraction of
    the fp32 peak reached (range and median), the networks nearest and furthest from it, and how
    many points are memory-bound."""
    if roofline is None or not len(roofline):
        return "No measured point has a traffic count: nothing is placed on the roofline."
    peak, bandwidth, ridge = roofline.attrs["peak"], roofline.attrs["bandwidth"], roofline.attrs["ridge"]
    low, high = ridge_range(peak, bandwidth)
    frac = 100 * roofline["fraction_of_peak"].astype(float)
    per_model = roofline.assign(pct=frac).groupby("model", sort=False)["pct"].median().sort_values()
    memory = roofline[roofline["bound"] == "memory"]
    memory_text = (", ".join(f"{r.model} at batch {r.batch_size}" for r in memory.itertuples())
                   if len(memory) <= 6 else f"{len(memory)} points")
    text = (f"Against a measured fp32 peak of {peak.value:.0f} GFLOP/s [{peak.ci_low:.0f}, {peak.ci_high:.0f}] and "
            f"{bandwidth.value:.1f} GB/s of triad bandwidth (ridge point {ridge:.1f} op/B, "
            f"{low:.1f} to {high:.1f} from the ends of both intervals), the {len(per_model)} "
            f"networks reach {frac.min():.0f} to {frac.max():.0f} % of the peak over {len(roofline)} points "
            f"(median {frac.median():.0f} %). Nearest the peak (median over batch sizes): "
            f"{per_model.index[-1]} ({per_model.iloc[-1]:.0f} %); furthest: {per_model.index[0]} "
            f"({per_model.iloc[0]:.0f} %). ")
    text += (f"Memory-bound (left of the ridge): {memory_text}." if len(memory)
             else "Every point is compute-bound (right of the ridge): batching, which raises operations per byte, "
                  "cannot lift them above the peak.")
    left = roofline.attrs.get("left_out") or []
    if left:
        text += f" Left out as flagged: {', '.join(left)}."
    return text


def runtime_roofline(rows: pd.DataFrame, traffic: pd.DataFrame, hardware_frame: pd.DataFrame | None,
                     device_tag: str | None = None) -> pd.DataFrame:
    """:func:`roofline_table` of each runtime of the runtimes study's ``rows`` (its per-image times; the same
    operation counts, bytes and peaks for every runtime), ``runtime`` as the first column, runtimes in
    helpers.measure.runtimes.RUNTIMES' order: how close each runtime brings a network to the machine's limit.
    An operation count is the network's, not what a runtime's fused kernels execute."""
    from helpers.measure.runtimes import RUNTIMES

    if rows is None or rows.empty or "runtime" not in rows.columns:
        return pd.DataFrame()
    tables = []
    for runtime in [r for r in RUNTIMES if r in set(rows["runtime"])]:
        table = roofline_table(rows[rows["runtime"] == runtime].drop(columns="runtime"), traffic, hardware_frame,
                               device_tag)
        table.insert(0, "runtime", runtime)
        tables.append(table)
    frame = pd.concat(tables, ignore_index=True)
    frame.attrs.update({k: v for k, v in tables[0].attrs.items() if k in ("peak", "bandwidth", "ridge", "ridge_range")})
    frame.attrs["left_out"] = [f"{t['runtime'].iloc[0] if len(t) else ''}: {x}" for t in tables
                               for x in t.attrs.get("left_out", [])]
    return frame


def runtime_roofline_summary(table: pd.DataFrame) -> str:
    """What :func:`runtime_roofline` shows, in sentences: per batch size, each runtime's median fraction of the
    fp32 peak over the networks both it and eager timed, and the point nearest the peak with its interval."""
    from helpers.analysis.studies import RUNTIME_NAMES

    if table is None or not len(table):
        return "No runtime's time has a traffic count: nothing is placed on the roofline."
    peak = table.attrs["peak"]
    out = [f"Against the measured fp32 peak of {peak.value:.0f} GFLOP/s [{peak.ci_low:.0f}, {peak.ci_high:.0f}]."]
    for batch, rows in table.groupby("batch_size"):
        shared = set.intersection(*(set(r["model"]) for _, r in rows.groupby("runtime")))
        rows = rows[rows["model"].isin(shared)]
        medians = rows.groupby("runtime", sort=False)["fraction_of_peak"].median()
        said = ", ".join(f"{RUNTIME_NAMES.get(r, r)} {100 * v:.0f} %" for r, v in medians.items())
        best = rows.loc[rows["fraction_of_peak"].idxmax()]
        out.append(f"At batch {batch}, the median of {len(shared)} networks reaches {said}; nearest the peak, "
                   f"{best['model']} through {RUNTIME_NAMES.get(best['runtime'], best['runtime'])} at "
                   f"{100 * best['fraction_of_peak']:.0f} % [{100 * best['fraction_of_peak_ci_low']:.0f}, "
                   f"{100 * best['fraction_of_peak_ci_high']:.0f}].")
    return " ".join(out) + (" Operations are each network's own count: a runtime that "
                                                       "fuses or skips work is credited with the network's.")


def _names(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def why_time_rises(roofline: pd.DataFrame, cache: pd.DataFrame, device: str) -> str:
    """One paragraph on why per-image time rises with batch on ``device`` (or does not), every number
    from the roofline (:func:`roofline_table`) and the cache test (:func:`cache_table`) of one run."""
    from helpers.core.reference import paper_number

    if roofline is None or not len(roofline):
        return f"No roofline is recorded for {device}: nothing is said about why its per-image time moves."
    largest = int(roofline["batch_size"].max())
    smallest = int(roofline["batch_size"].min())
    rises, fastest, at_fastest, at_largest = [], [], [], []
    for model, mine in roofline.groupby("model", sort=False):
        mine = mine.sort_values("batch_size")
        best = mine.loc[mine["latency_s"].idxmin()]
        last = mine.iloc[-1]
        fastest.append(int(best["batch_size"]))
        if int(last["batch_size"]) == largest and int(best["batch_size"]) != largest:
            at_fastest.append(100 * best["fraction_of_peak"])
            at_largest.append(100 * last["fraction_of_peak"])
            if last["latency_ci_low"] > best["latency_ci_high"]:
                rises.append(model)
    first = roofline[roofline["batch_size"] == smallest]
    memory = first[first["bound"] == "memory"]["model"].tolist()
    beyond = roofline[roofline["batch_size"] > smallest]
    peak = roofline.attrs["peak"]
    at_first = 100 * first["fraction_of_peak"].median()
    models = roofline["model"].nunique()
    text = (f"On {device}, per-image time at batch {largest} is above the network's fastest batch (beyond both 95 % "
            f"intervals) for {len(rises)} of {models} paper networks; the fastest batch is "
            f"{int(np.median(fastest))} at the median (from {min(fastest)} to {max(fastest)}). ")
    bound_text = (f"all but {_names(memory)} compute-bound" if memory and len(memory) < len(first)
                  else "every one compute-bound" if not memory else "every one memory-bound")
    if 2 * len(rises) > models:
        text += (f"The roofline shows why batching buys little here: at batch {smallest} the networks already reach a "
                 f"median {at_first:.0f} % of the measured fp32 peak ({peak.value:.0f} GFLOP/s), {bound_text}, so a "
                 f"larger batch, which raises operations per byte, has little idle arithmetic left to fill; only a "
                 f"device far below its peak at batch 1 has that room (the paper's TX1 ran AlexNet about "
                 f"{paper_number('alexnet_speedup_1_to_64'):g}x faster per image at batch 64). ")
    else:
        text += (f"At batch {smallest} the networks reach a median {at_first:.0f} % of the measured fp32 peak "
                 f"({peak.value:.0f} GFLOP/s), {bound_text}: the room a larger batch fills by raising operations "
                 f"per byte. ")
    if at_fastest:
        bound = ("every point beyond batch 1 is right of the ridge, so the memory roof does not explain the rise"
                 if (beyond["bound"] == "compute").all() else
                 f"{int((beyond['bound'] == 'memory').sum())} points beyond batch 1 are left of the ridge")
        text += (f"Past the fastest batch the achieved share of the peak falls (median {np.median(at_fastest):.0f} % "
                 f"at each network's fastest batch, {np.median(at_largest):.0f} % at batch {largest}) and {bound}. ")
    text += ("The cache explanation, tested: " + cache_summary(cache) if cache is not None
             else "The cache explanation is not tested: the device's last-level cache size is unknown.")
    return text


# ------------------------------------------------------------------ one recorded run, as the lesson and README show it


