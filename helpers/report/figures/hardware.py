"""Lesson 9's figures: the roofline, the cache explanation, the threads and the numeric-type studies.
"""
from __future__ import annotations

import math

import matplotlib
import matplotlib.lines
import matplotlib.patches
import matplotlib.patheffects
import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from helpers.report.layout import interval_bars
from helpers.report.style import LEGEND_ABOVE, LEGEND_RIGHT, message_panel, model_colours
from helpers.core.stats import Estimate
from helpers.core.units import MIB

__all__ = ["ROOF_GID", "BATCH_KEY_GID", "roofline_chart", "cache_chart", "threads_chart", "dtype_chart", "runtimes_chart"]


#: gid of the roof line (memory slope, then the flat compute peak) of ``roofline_chart``.
ROOF_GID = "roof"


#: gid of ``roofline_chart``'s batch-size key (a legend of every batch size's marker, above the axes).
BATCH_KEY_GID = "batch_key"


def _batch_area(batch) -> np.ndarray:
    """Marker area (points^2) growing with the batch size: 10 at batch 1, its diameter (the square
    root) 2 points wider per doubling (about 140 at batch 64), so neighbouring batches differ."""
    return (math.sqrt(10.0) + 2.0 * np.log2(np.asarray(batch, dtype=float))) ** 2


def _plain(value: float, _pos=None) -> str:
    """A tick label a student reads: 0.5, 2, 50, 200, 1000 (never 2x10^2)."""
    if value >= 1:
        return f"{value:.0f}"
    return f"{value:.2g}"


class _PlainLogLocator(matplotlib.ticker.Locator):
    """Log-axis ticks at 1, 2 and 5 times powers of ten (1, 2, 3, 4, 5, 6 and 8 times where the view
    spans too little for four), so every tick can carry a plain number."""

    def __call__(self):
        lo, hi = self.axis.get_view_interval()
        return self.tick_values(lo, hi)

    def tick_values(self, vmin, vmax):
        lo, hi = sorted((float(vmin), float(vmax)))
        if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= 0:
            return np.array([])
        lo = max(lo, hi * 1e-12)
        decades = range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 2)
        for subs in ((1, 2, 5), (1, 2, 3, 4, 5, 6, 8), (1, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9)):
            ticks = np.array([m * 10.0 ** k for k in decades for m in subs])
            if ((ticks >= lo) & (ticks <= hi)).sum() >= 4:
                break
        return ticks


def _plain_log_ticks(axis) -> None:
    """Plain-number ticks on a log axis: labelled major ticks (:class:`_PlainLogLocator`), unlabelled minor ones."""
    axis.set_major_locator(_PlainLogLocator())
    axis.set_major_formatter(matplotlib.ticker.FuncFormatter(_plain))
    axis.set_minor_locator(matplotlib.ticker.LogLocator(subs="all"))
    axis.set_minor_formatter(matplotlib.ticker.NullFormatter())


def roofline_chart(roofline: pd.DataFrame, peak: Estimate, bandwidth: Estimate, ax: Axes | None = None) -> Figure:
    """The roofline, log-log: achieved G-ops/s (y, with 95 % intervals) against arithmetic
    intensity [op/B] (x) of every (model, batch size) of ``helpers.analysis.roofline.roofline_table``.

    The roof is ``min(peak, bandwidth x intensity)``: ``peak`` the fp32 matmul peak
    (GFLOP/s) and ``bandwidth`` the triad bandwidth (GB/s), each a
    ``helpers.core.stats.Estimate`` (its 95 % interval shaded where it has one). The ridge
    point (peak / bandwidth) is marked. Each model's batch sizes are joined by a
    line in its colour, the marker's area growing with the batch size: a key of
    every batch size's marker sits above the axes, the legend (models, roof) to
    their right. Ticks are plain numbers (1, 2, 5, 10, ...).
    """
    ax = ax or plt.figure(figsize=(10.5, 6)).gca()
    if roofline is None or not len(roofline):
        message_panel(ax, "no measured point with a traffic count: nothing to place on the roofline")
        return ax.figure
    p, b = float(peak.value), float(bandwidth.value)
    ridge = p / b
    data = roofline
    intensity = data["intensity"].astype(float)
    lo = min(float(intensity.min()), ridge) / 2
    hi = max(float(intensity.max()), ridge) * 2
    roof, = ax.plot([lo, ridge, hi], [b * lo, p, p], "-", color="0.15", lw=2.2, zorder=4,
                    label=f"roof: min({p:.3g} GFLOP/s fp32 peak, {b:.3g} GB/s triad x intensity)")
    roof.set_gid(ROOF_GID)
    handles = [roof]
    if peak.has_interval:
        p_low, p_high = float(peak.ci_low), float(peak.ci_high)
        handles.append(ax.fill_between([ridge, hi], p_low, p_high, color="0.5", alpha=0.2, lw=0, zorder=1,
                                       label=f"peak 95 % interval [{p_low:.3g}, {p_high:.3g}]"))
    if bandwidth.has_interval:
        b_low, b_high = float(bandwidth.ci_low), float(bandwidth.ci_high)
        xs = np.geomspace(lo, ridge, 50)
        ax.fill_between(xs, np.minimum(b_low * xs, p), np.minimum(b_high * xs, p), color="0.5", alpha=0.2, lw=0,
                        zorder=1)
    ridge_mark, = ax.plot([ridge], [p], "D", color="0.15", ms=7, zorder=5, ls="",
                          label=f"ridge point: {ridge:.3g} op/B (memory-bound left of it)")
    ax.axvline(ridge, ls=":", color="0.4", lw=1.0, zorder=1)
    handles.append(ridge_mark)
    models = list(dict.fromkeys(data["model"]))
    colours = model_colours(models)
    lines = []
    for model in models:
        mine = data[data["model"] == model].sort_values("batch_size")
        line, = ax.plot(mine["intensity"], mine["achieved_gops"], "-", color=colours[model], lw=1.3, zorder=3,
                        label=model)
        ax.scatter(mine["intensity"], mine["achieved_gops"], s=_batch_area(mine["batch_size"]),
                   color=colours[model], edgecolors="0.2", linewidths=0.5, zorder=4)
        if {"achieved_ci_low", "achieved_ci_high"} <= set(mine.columns):
            interval_bars(ax, mine["intensity"], mine["achieved_ci_low"], mine["achieved_ci_high"],
                           colours[model], lw=0.8)
        lines.append(line)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_xlabel("Arithmetic intensity [op/B]: operations / bytes read and written (op by op)")
    ax.set_ylabel("Achieved [G-ops/s]: operations per image / time per image")
    for axis in (ax.xaxis, ax.yaxis):
        _plain_log_ticks(axis)
    batches = sorted({int(x) for x in data["batch_size"]})
    keys = [matplotlib.lines.Line2D([], [], ls="", marker="o", color="0.7", markeredgecolor="0.2",
                                    markeredgewidth=0.5, markersize=math.sqrt(float(_batch_area(k))),
                                    label=f"batch {k}")
            for k in batches]
    batch_key = ax.legend(handles=keys, ncol=len(keys), fontsize=8, handletextpad=0.3, columnspacing=1.2,
                          title="marker size: batch size (each model's line joins its batch sizes)",
                          title_fontsize=8, **LEGEND_ABOVE)
    ax.add_artist(batch_key)
    batch_key.set_clip_on(False)  # add_artist clips it to the axes: the layout would then leave it no room
    batch_key.set_gid(BATCH_KEY_GID)
    ax.legend(handles=[*lines, *handles], fontsize=8, **LEGEND_RIGHT)
    ax.figure.tight_layout()
    return ax.figure


def cache_chart(points: pd.DataFrame, traffic: pd.DataFrame, llc_bytes: int, ax: Axes | None = None,
                working_set: str = "largest_activation_op_bytes") -> Figure:
    """The cache explanation: per-image time relative to the model's fastest batch (y) against
    its working set over the last-level cache (x, log), one line per model across batch sizes,
    and a vertical line at 1 where the working set leaves the cache. Each point carries its 95 %
    interval (``ci_low``, ``ci_high`` of :func:`helpers.analysis.roofline.latency_points`, divided
    by the same fastest median) as an error bar, so a turn-up inside the noise shows as one.

    ``points``: ``helpers.analysis.roofline.roofline_table`` or ``helpers.analysis.evidence.point_table``
    of ``latency_per_image`` (left-out points dropped); ``traffic``:
    ``helpers.analysis.roofline.traffic_table``; ``working_set``: its column (by default the
    largest operator's activations, as ``helpers.analysis.roofline.cache_table``); ``llc_bytes`` in bytes.
    """
    from helpers.analysis.roofline import latency_points

    ax = ax or plt.figure(figsize=(10.5, 5.5)).gca()
    times = latency_points(points) if points is not None and len(points) else pd.DataFrame()
    data = times.merge(traffic[["model", "batch_size", working_set]].astype({"batch_size": int}),
                       on=["model", "batch_size"], how="inner") if len(times) else times
    if not len(data) or not llc_bytes:
        message_panel(ax, "no per-image time with a working set (or no last-level cache size): "
                          "nothing to compare with the cache")
        return ax.figure
    models = list(dict.fromkeys(data["model"]))
    colours = model_colours(models)
    for model in models:
        mine = data[data["model"] == model].sort_values("batch_size")
        fastest = mine["value"].min()
        x = mine[working_set] / llc_bytes
        ax.plot(x, mine["value"] / fastest, "o-", color=colours[model], ms=4, lw=1.4, label=model)
        interval_bars(ax, x, mine["ci_low"] / fastest, mine["ci_high"] / fastest, colours[model], lw=0.9,
                      capsize=2)
    ax.axvline(1.0, ls="--", color="firebrick", lw=1.4,
               label=f"leaves the last-level cache ({llc_bytes / MIB:.3g} MiB)")
    ax.set_xscale("log")
    _plain_log_ticks(ax.xaxis)
    ax.set_xlabel("Largest per-operator working set / last-level cache "
                  + ("(activations read and written by one op)" if working_set == "largest_activation_op_bytes"
                     else "(inputs + outputs + weights of one op)"))
    ax.set_ylabel("Per-image time / the model's fastest batch\n(bars: each point's 95 % interval, same divisor)")
    ax.legend(fontsize=8, **LEGEND_RIGHT)
    ax.figure.tight_layout()
    return ax.figure


def threads_chart(table: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Speed-up over 1 thread (y) against threads (x), one line per model and batch size (solid at
    the smallest batch, dashed at the others), each point with its 95 % interval, and the ideal
    linear speed-up. ``table``: ``helpers.analysis.studies.threads_table``."""
    ax = ax or plt.figure(figsize=(10.5, 5.5)).gca()
    data = table.dropna(subset=["speedup"]) if len(table) else table
    if not len(data) or data["threads"].nunique() < 2:
        message_panel(ax, "the threads study holds fewer than two thread counts with a 1-thread reference: "
                          "nothing to compare (python -m helpers threads measures it)")
        return ax.figure
    models = list(dict.fromkeys(data["model"]))
    colours = model_colours(models)
    smallest = int(data["batch_size"].min())
    most = int(data["threads"].max())
    ax.plot([1, most], [1, most], ":", color="0.3", lw=1.2, label="ideal: speed-up = threads")
    for (model, batch), rows in data.groupby(["model", "batch_size"], sort=False):
        rows = rows.sort_values("threads")
        ax.plot(rows["threads"], rows["speedup"], "-o" if batch == smallest else "--s", color=colours[model],
                ms=5, lw=1.4, label=f"{model}, batch {batch}")
        interval_bars(ax, rows["threads"], rows["speedup_ci_low"], rows["speedup_ci_high"], colours[model],
                       capsize=3)
    ax.set_xticks(sorted(data["threads"].unique()))
    ax.set_xlabel("CPU threads (torch.set_num_threads)")
    ax.set_ylabel("Speed-up over 1 thread (per-image time at 1 / at N)")
    ax.legend(fontsize=8, **LEGEND_RIGHT)
    ax.figure.tight_layout()
    return ax.figure


def dtype_chart(table: pd.DataFrame, batch_size: int, ax: Axes | None = None) -> Figure:
    """Speed-up over fp32 per model (rows) and precision (bars) at ``batch_size``, with 95 % intervals;
    a precision not measured for a model is written beside it with its status, never drawn as 0.
    ``table``: ``helpers.analysis.studies.dtype_table``. Accuracy is not re-measured (said on the axis)."""
    return _speedup_bars(table, "precision", "fp32", batch_size, ax,
                         f"no precision other than fp32 stored at batch {batch_size} "
                         "(python -m helpers precision measures them)",
                         f"Speed-up over fp32 at batch {batch_size} (per-image time in fp32 / in the type); "
                         "accuracy not re-measured")


def runtimes_chart(table: pd.DataFrame, batch_size: int, ax: Axes | None = None) -> Figure:
    """Speed-up over PyTorch eager per model (rows) and runtime (bars) at ``batch_size``, with 95 % intervals;
    a runtime that could not take a model is written beside it with its status, never drawn as 0.
    ``table``: ``helpers.analysis.studies.runtimes_table`` (fp32 everywhere, outputs checked against eager's)."""
    return _speedup_bars(table, "runtime", "eager", batch_size, ax,
                         f"no runtime other than eager stored at batch {batch_size} "
                         "(python -m helpers runtimes measures them)",
                         f"Speed-up over PyTorch eager at batch {batch_size} (per-image time in eager / through "
                         "the runtime), fp32, outputs checked against eager's")


def _speedup_bars(table: pd.DataFrame, column: str, reference: str, batch_size: int, ax: Axes | None,
                  empty: str, xlabel: str) -> Figure:
    """One row per model, one bar per setting of ``column`` other than ``reference``: its speed-up with its
    95 % interval; a setting not measured for a model is written beside it with its status."""
    rows = table[(table["batch_size"] == batch_size) & (table[column] != reference)] if len(table) else table
    models = list(dict.fromkeys(rows["model"])) if len(rows) else []
    ax = ax or plt.figure(figsize=(10.5, 0.45 * max(len(models), 4) + 1.5)).gca()
    if not models:
        message_panel(ax, empty)
        return ax.figure
    settings = list(dict.fromkeys(rows[column]))
    palette = dict(zip(settings, sns.color_palette("deep", len(settings))))
    drawn = (rows["status"] == "ok") & rows["speedup"].notna()
    most = max(1, int(rows[drawn].groupby("model")[column].nunique().max()) if drawn.any() else 1)
    height = 0.8 / most
    labelled: set[str] = set()
    for i, model in enumerate(models):
        mine = rows[rows["model"] == model].set_index(column)
        ok = [p for p in settings if p in mine.index and mine.loc[p, "status"] == "ok"
              and np.isfinite(mine.loc[p, "speedup"])]
        missing = [f"{p}: {mine.loc[p, 'status'] if p in mine.index else 'not measured'}"
                   for p in settings if p not in ok]
        for j, setting in enumerate(ok):  # the model's bars centred on its tick
            y = i + height * (j - (len(ok) - 1) / 2)
            r = mine.loc[setting]
            ax.barh(y, r["speedup"], height=height * 0.9, color=palette[setting],
                    label=None if setting in labelled else setting)
            labelled.add(setting)
            if np.isfinite(r["speedup_ci_low"]):
                ax.plot([r["speedup_ci_low"], r["speedup_ci_high"]], [y, y], color="0.15", lw=1.0)
        if missing:
            ax.text(1.02, i, "; ".join(missing), transform=ax.get_yaxis_transform(), va="center", fontsize=7,
                    color="0.35")
    ax.axvline(1.0, color="0.2", lw=1.0, ls="--")
    ax.set_yticks(range(len(models)), models)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, fontsize=8, loc="lower right")
    ax.figure.tight_layout()
    return ax.figure
