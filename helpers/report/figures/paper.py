"""The paper's figures from tidy DataFrames: bars (Figs 1, 10), blobs (Figs 2, 7, 8, 9), sweeps
(Figs 3, 4, 5), points and a line (Fig 6) and the energy bound's steps.

Every function returns a matplotlib Figure (or draws on a given Axes); 95 % intervals are drawn
where the data carry them. Nothing here measures.
"""
from __future__ import annotations

import math
from types import SimpleNamespace

import matplotlib
import matplotlib.lines
import matplotlib.offsetbox
import matplotlib.patches
import matplotlib.patheffects
import matplotlib.pyplot as plt
import matplotlib.text
import matplotlib.transforms
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from helpers.core.reference import paper_number
from helpers.report.labels import memory_label
from helpers.report.layout import fit_limits, interval_bars, place_labels
from helpers.report.style import LEGEND_ABOVE, LEGEND_RIGHT, model_colours

__all__ = ["fig1_top1", "fig10_density", "blob_chart", "fig7_ops_vs_time", "sweep_chart", "paper_speedup_mark", "paper_power_mark", "scatter_fit", "fig6_static_memory", "step_chart"]


def fig1_top1(table: pd.DataFrame, columns: dict[str, str], ax: Axes | None = None,
              ci: tuple[str, str] | None = None, ylabel: str = "Top-1 accuracy [%]") -> Figure:
    """Fig 1: top-1 accuracy [%] per network, one bar group per model.

    ``columns`` maps a column of ``table`` (indexed by model) to its legend label;
    the first is drawn in the paper's colours, the others hatched beside it.
    ``ci``: the columns of the first one's 95 % interval [%], drawn as error bars
    where they are finite (measured models). The legend sits above the bars.
    """
    ax = ax or plt.figure(figsize=(11, 4.8)).gca()
    models = list(table.index)
    colours = model_colours(models)
    width = 0.8 / len(columns)
    x = np.arange(len(models))
    values = table[list(columns)].astype(float)
    low_edge = np.nanmin(table[ci[0]].astype(float)) if ci and table[ci[0]].notna().any() else np.nan
    bottom = min(40.0, 5 * math.floor(np.nanmin([np.nanmin(values.to_numpy()), low_edge]) / 5 - 1))
    top = max(85.0, 5 * math.ceil(np.nanmax(table[[*columns, *(ci or ())]].astype(float).to_numpy()) / 5))
    for i, (column, label) in enumerate(columns.items()):
        offset = (i - (len(columns) - 1) / 2) * width
        bars = ax.bar(x + offset, values[column].to_numpy(), width, color=[colours[m] for m in models],
                      edgecolor="0.2", linewidth=0.6, hatch=None if i == 0 else "///",
                      alpha=1.0 if i == 0 else 0.55, label=label)
        for bar, value in zip(bars, values[column]):
            if np.isnan(value):
                ax.annotate("n/a", (bar.get_x() + bar.get_width() / 2, bottom + 1), ha="center", fontsize=7,
                            rotation=90)
        if i == 0 and ci:
            interval_bars(ax, x + offset, table[ci[0]], table[ci[1]], "0.1", lw=1.2, capsize=3)
    ax.set_xticks(x, models, rotation=35, ha="right")
    ax.set_ylim(bottom, top)
    ax.set_ylabel(ylabel)
    handles = [matplotlib.patches.Patch(facecolor="0.55", edgecolor="0.2", hatch=None if i == 0 else "///",
                                        alpha=1.0 if i == 0 else 0.55, label=label)
               for i, label in enumerate(columns.values())]
    ax.legend(handles=handles, ncol=len(columns), **LEGEND_ABOVE)
    ax.figure.tight_layout()
    return ax.figure


def fig10_density(density: pd.Series, ax: Axes | None = None, top: int = 4,
                  ylabel: str = "Top-1 accuracy density [%/M-Params]", era: pd.Series | None = None) -> Figure:
    """Fig 10: top-1 accuracy density [% per million parameters] per model, ascending;
    arrows on the ``top`` best. ``ylabel`` should say where the top-1 comes from.

    ``era`` (by model; default ``helpers.analysis.modern.era``: the paper's 14 or since 2016):
    where the models span more than one era, bars of the later ones are hatched and each era's
    names are written in its own colour, with a legend above the axes."""
    from helpers.analysis.modern import ERA_PAPER
    from helpers.analysis.modern import era as era_of

    density = density.astype(float).dropna().sort_values()
    ax = ax or plt.figure(figsize=(11, 4.5)).gca()
    eras = (era.reindex(density.index) if era is not None else era_of(density.index)).fillna("")
    names = list(dict.fromkeys(eras))
    marked = len(names) > 1
    order = sorted(names, key=lambda e: (e != ERA_PAPER, names.index(e)))  # the paper's first
    hatches = dict(zip(order, ["", "////", "xx", ".."] * len(order)))
    inks = [("0.1", "black"), ("#1f4e9c", "blue"), ("#7a3b00", "brown"), ("#2e6b2e", "green")]
    ink = {e: inks[i % len(inks)][0] for i, e in enumerate(order)}
    ink_name = {e: inks[i % len(inks)][1] for i, e in enumerate(order)}
    colours = model_colours(density.index)
    bars = ax.bar(density.index, density.to_numpy(), color=[colours[m] for m in density.index],
                  edgecolor="0.2", linewidth=0.4)
    if marked:
        for bar, name in zip(bars, eras):
            bar.set_hatch(hatches[name])
    for bar in list(bars)[-top:]:
        ax.annotate("\u2193", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    textcoords="offset points", xytext=(0, 4), ha="center", fontsize=12)
    ax.set_ylabel(ylabel)
    ax.tick_params(axis="x", rotation=35)
    for tick, name in zip(ax.get_xticklabels(), eras):
        tick.set_ha("right")
        if marked:
            tick.set_color(ink[name])
    if marked:
        counts = eras.value_counts()
        handles = [matplotlib.patches.Patch(facecolor="0.85", edgecolor="0.2", hatch=hatches[e],
                                            label=f"{e}: {counts[e]} networks, "
                                                  f"{'hatched' if hatches[e] else 'plain'} bars, {ink_name[e]} names")
                   for e in order]
        legend = ax.legend(handles=handles, ncol=len(order), fontsize=9, **LEGEND_ABOVE)
        for text, name in zip(legend.get_texts(), order):
            text.set_color(ink[name])
    ax.figure.tight_layout()
    return ax.figure


#: gid of the size key of the blob charts (an ``AnnotationBbox`` below the axes; tests find it by it).
SIZE_KEY_GID = "size_key"


#: Least blob area drawn (points²): a smaller blob (a mobile network's operations) would vanish under its dot.
MIN_BLOB_AREA = 50.0


def _below_the_x_axis(ax: Axes):
    """The box (display units) from the axes' left to right edge and spanning the x axis's tick
    labels and label: the size key hangs below it, so it never covers the data area."""
    def box(renderer):
        area = ax.get_window_extent(renderer)
        axis = ax.xaxis.get_tightbbox(renderer) or area
        return matplotlib.transforms.Bbox.from_extents(area.x0, min(axis.y0, area.y0), area.x1, area.y0)
    return box


def _size_key(ax: Axes, sizes, unit: str, area_per_unit: float, title: str, min_area: float = 0.0):
    """Grey reference blobs of ``sizes`` in a row below the axes, outside the data area (under
    the x axis's label, right-aligned with the axes), drawn as the data's are (area ``size`` x
    ``area_per_unit``, at least ``min_area``), each value written inside its blob or beside it
    where it does not fit; ``title`` above the row. Returns the key (an ``AnnotationBbox``)."""
    box = matplotlib.offsetbox
    fontsize = 8
    items = []
    for value in sizes:
        text = f"{value:g}{unit}"
        diameter = math.sqrt(max(float(value) * area_per_unit, min_area))  # a marker of area s: sqrt(s) points across
        blob = box.DrawingArea(diameter, diameter)
        blob.add_artist(matplotlib.patches.Circle((diameter / 2, diameter / 2), diameter / 2, fc="0.88", ec="0.6",
                                                  lw=0.6))
        if diameter > 0.62 * fontsize * len(text) + 6:  # the value inside its blob
            blob.add_artist(matplotlib.text.Text(diameter / 2, diameter / 2, text, ha="center", va="center",
                                                 fontsize=fontsize))
            items.append(blob)
        else:  # beside it
            label = box.TextArea(text, textprops={"fontsize": fontsize})
            items.append(box.HPacker(children=[blob, label], sep=3, align="center"))
    heading = box.TextArea(title, textprops={"fontsize": fontsize, "color": "0.3"})
    content = box.VPacker(children=[heading, box.HPacker(children=items, sep=12, align="center")], sep=4,
                          align="right")
    key = box.AnnotationBbox(content, (1.0, 0.0), xycoords=_below_the_x_axis(ax), xybox=(0, -6),
                             boxcoords="offset points", box_alignment=(1.0, 1.0), frameon=False,
                             annotation_clip=False, pad=0.0)
    key.set_gid(SIZE_KEY_GID)
    ax.add_artist(key)
    key.set_clip_on(False)  # add_artist clips to the axes; the key lies outside them
    return key


def _line_legend(ax: Axes, label: str, shade_label: str = ""):
    """An empty dashed line (filled in later by ``_draw_line``) and the legend above the axes
    naming it (and the shading, if ``shade_label``): the layout makes room for it first."""
    handle, = ax.plot([], [], "--", color="0.3", lw=1.3, zorder=2.5, label=label)
    handles = [handle]
    if shade_label:
        handles.append(matplotlib.patches.Patch(color="0.85", alpha=0.5, label=shade_label))
    ax.legend(handles=handles, **LEGEND_ABOVE)
    return handle


def _draw_line(ax: Axes, handle, line, bottom: float, shade_above: bool) -> None:
    """Set ``handle`` to y = slope * x + intercept across the axes, above ``bottom`` only;
    shade the area above it when ``shade_above``."""
    (x0, x1), (_, top) = ax.get_xlim(), ax.get_ylim()
    xs = np.linspace(x0, x1, 400)
    ys = line.slope * xs + line.intercept
    handle.set_data(xs, np.where((ys >= bottom) & (ys <= top), ys, np.nan))
    if shade_above:
        ax.fill_between(xs, np.clip(ys, bottom, top), top, color="0.85", alpha=0.5, zorder=0.5)


def blob_chart(table: pd.DataFrame, x: str, y: str, size: str, ax: Axes | None = None,
               xlabel: str = "", ylabel: str = "Top-1 accuracy [%]",
               size_legend: tuple[float, ...] = (5, 35, 65, 95, 125, 155), size_unit: str = "M",
               area_per_unit: float = 40.0, label: bool = True, ci: tuple[str, str] | None = None,
               size_title: str = "", line=None, line_label: str = "", shade_above: bool = False,
               shade_label: str = "above the line", min_area: float = MIN_BLOB_AREA) -> Figure:
    """Figs 2, 7, 8, 9: one blob per model at (x, y), blob area (points²) =
    ``size`` x ``area_per_unit``, and at least ``min_area`` so that a small network's blob
    shows (the key's title then says below which value blobs are drawn at that floor).

    ``table`` is indexed by model. The axis limits hold every blob whole; a
    key below the axes (outside the data area) shows grey reference blobs of
    ``size_legend`` values (``size_title`` names them). ``ci``: columns of a 95 % interval of ``y``
    (same units), drawn as dark error bars where finite. ``line``: any object
    with ``slope`` and ``intercept`` in the plotted units, drawn dashed with
    ``line_label`` in a legend above the axes (``shade_above`` shades what lies
    above it). Model names are placed so that none overlap.
    """
    ax = ax or plt.figure(figsize=(9, 6)).gca()
    data = table[[x, y, size, *(ci or ())]].astype(float).dropna(subset=[x, y, size])
    colours = model_colours(data.index)
    areas = np.maximum(data[size].to_numpy() * area_per_unit, min_area)
    small = areas < 2 * min_area  # a thin dark rim, not a white one, keeps a small (or pale) blob visible
    ax.scatter(data[x], data[y], s=areas, c=[colours[m] for m in data.index],
               edgecolors=np.where(small, "0.35", "white"), linewidths=np.where(small, 0.5, 1.0), alpha=0.9, zorder=3)
    dots = ax.scatter(data[x], data[y], s=4, c="white", zorder=4)
    if ci:
        interval_bars(ax, data[x], data[ci[0]], data[ci[1]], "0.1", lw=1.3, capsize=3)
    ax.set_xlabel(xlabel or x)
    ax.set_ylabel(ylabel)
    drawn = line is not None and np.isfinite(line.slope) and np.isfinite(line.intercept)
    handle = _line_legend(ax, line_label, shade_label if shade_above else "") if drawn else None
    if size_legend:
        key_title = size_title or f"blob area: {size}"
        floor = min_area / area_per_unit
        if (data[size].to_numpy() * area_per_unit < min_area).any():
            key_title += f"; below {floor:.2g}{size_unit} drawn at {floor:.2g}{size_unit}, to stay visible"
        _size_key(ax, size_legend, size_unit, area_per_unit, key_title, min_area)
    if len(data):
        fit_limits(ax, data[x], data[y], np.sqrt(areas / math.pi))
    if drawn:
        _draw_line(ax, handle, line, ax.get_ylim()[0], shade_above)
    if label:
        place_labels(ax, data[x], data[y], data.index, fontsize=9, avoid=dots)
    return ax.figure


def fig7_ops_vs_time(frame: pd.DataFrame, fit, batch_size: int, ax: Axes | None = None,
                     ops_unit: str = "G-ops", ops_note: str = "groups honoured") -> Figure:
    """Fig 7: operations per image [``ops_unit``] against per-image time [ms] at
    ``batch_size``, blob area by parameters [M], and the least-squares line.

    ``frame`` (indexed by model): ``time_s`` (s), ``ops`` (billions), ``params_m``
    (millions). ``fit``: ``helpers.analysis.evidence.ops_vs_time``'s LinearFit (ops
    against seconds), so its slope is the machine's speed in ``ops_unit``/s.
    """
    data = frame.assign(time_ms=frame["time_s"] * 1000)
    in_ms = SimpleNamespace(slope=fit.slope / 1000, intercept=fit.intercept)
    label = f"least squares: slope {fit.slope:.0f} {ops_unit}/s, R\u00b2 {fit.r2:.3f} ({fit.n} models)"
    return blob_chart(data, x="time_ms", y="ops", size="params_m", ax=ax, area_per_unit=20,
                      xlabel=f"Per-image time at batch {batch_size} [ms]",
                      ylabel=f"Operations per image [{ops_unit}, {ops_note}]",
                      size_title="blob area: parameters [M]", line=in_ms, line_label=label)


def sweep_chart(table: pd.DataFrame, ax: Axes | None = None, ylabel: str = "", logx: bool = True,
                logy: bool = True, skipped: pd.DataFrame | None = None, scale: float = 1.0,
                intervals: pd.DataFrame | None = None) -> Figure:
    """Figs 3, 4, 5: one line per model (rows of ``table``) against batch size (its columns).

    A model's missing batch sizes stay missing (a gap, never a zero). ``skipped``
    rows (columns model, batch_size) are marked with an x on the bottom axis.
    ``intervals`` (``helpers.analysis.evidence.point_table``'s columns model, batch_size,
    ci_low, ci_high; ``table``'s units) are drawn as thin error bars in the
    line's colour where finite. Values are multiplied by ``scale`` (e.g. 1000
    for ms). The legend sits to the right of the axes, clear of every line.
    """
    ax = ax or plt.figure(figsize=(10.5, 5.5)).gca()
    colours = model_colours(table.index)
    for model, row in table.iterrows():
        row = row.dropna()
        ax.plot(row.index.astype(int), row.to_numpy() * scale, "o-", color=colours[model], label=model, ms=4, lw=1.5)
        if intervals is not None and len(intervals):
            mine = intervals[(intervals["model"] == model) & intervals["batch_size"].isin(row.index)]
            interval_bars(ax, mine["batch_size"], mine["ci_low"].astype(float) * scale,
                           mine["ci_high"].astype(float) * scale, colours[model], lw=0.9, capsize=2)
    if logx:
        ax.set_xscale("log", base=2)
    if logy:
        ax.set_yscale("log")
    if skipped is not None and len(skipped):
        bottom = ax.get_ylim()[0]
        for _, row in skipped.iterrows():
            ax.plot([row["batch_size"]], [bottom], "x", color=colours.get(row["model"], "0.3"), ms=9, mew=2,
                    clip_on=False)
    batches = [int(b) for b in table.columns]
    if batches:
        ax.set_xticks(batches, [str(b) for b in batches])
    ax.set_xlabel("Batch size [images]")
    ax.set_ylabel(ylabel)
    if len(table):
        ax.legend(fontsize=8, **LEGEND_RIGHT)
    ax.figure.tight_layout()
    return ax.figure


def paper_speedup_mark(ax: Axes, time_at_1: float, factor: float, b_to: int = 64, label: str = "") -> bool:
    """Fig 3's reference mark: the paper's stated speed-up (e.g. AlexNet about 3x from batch 1 to 64) drawn
    as a dotted segment from ``time_at_1`` (the axis' units) at batch 1 to ``time_at_1 / factor`` at ``b_to``.
    Drawn only when ``b_to`` lies on the axis (a sweep that stops earlier shows no mark); returns
    whether it was drawn."""
    lo, hi = ax.get_xlim()
    if not (np.isfinite(time_at_1) and lo <= b_to <= hi * 1.001):
        return False
    ax.plot([1, b_to], [time_at_1, time_at_1 / factor], ":", color="firebrick", lw=1.6, zorder=1,
            label=label or f"the paper (TX1): {factor:g}x from batch 1 to {b_to}")
    ax.legend(fontsize=8, **LEGEND_RIGHT)
    return True


def paper_power_mark(ax: Axes, net_w: float, std_w: float, label: str = "") -> None:
    """Fig 8's reference mark: the paper's net power at full load (e.g. +11.8 W, std 0.7 W on the TX1)
    as a dotted vertical line with a band of one standard deviation."""
    ax.axvspan(net_w - std_w, net_w + std_w, color="firebrick", alpha=0.08, zorder=0)
    ax.axvline(net_w, ls=":", color="firebrick", lw=1.6, zorder=1,
               label=label or f"the paper (TX1): +{net_w:g} W +- {std_w:g} W over idle")
    ax.legend(fontsize=8, **LEGEND_RIGHT)


def _points(ax: Axes, data: pd.DataFrame, x: str, y: str):
    colours = model_colours(data.index)
    return ax.scatter(data[x], data[y], c=[colours[m] for m in data.index], s=50, edgecolors="0.2", zorder=3)


def scatter_fit(frame: pd.DataFrame, x: str, y: str, fit=None, ax: Axes | None = None,
                xlabel: str = "", ylabel: str = "", label: bool = True, fit_label: str = "") -> Figure:
    """One point per model (``frame`` indexed by model) and, if given, a fitted line.

    ``fit`` is any object with ``slope``, ``intercept`` and ``r2`` (plotted
    units); its legend (``fit_label``, default slope, intercept and R²) sits
    above the axes. Model names are placed so that none overlap.
    """
    ax = ax or plt.figure(figsize=(8, 5.5)).gca()
    data = frame[[x, y]].astype(float).dropna()
    dots = _points(ax, data, x, y)
    ax.set_xlabel(xlabel or x)
    ax.set_ylabel(ylabel or y)
    if fit is not None and len(data) and np.isfinite(fit.slope):
        xs = np.linspace(min(0.0, data[x].min()), data[x].max() * 1.05, 50)
        ax.plot(xs, fit.slope * xs + fit.intercept, "--", color="0.4",
                label=fit_label or f"fit: slope {fit.slope:.3g}, intercept {fit.intercept:.3g}, R\u00b2 {fit.r2:.3f}")
        ax.legend(**LEGEND_ABOVE)
    if len(data):
        fit_limits(ax, np.r_[data[x], ax.dataLim.x0, ax.dataLim.x1], np.r_[data[y], ax.dataLim.y0, ax.dataLim.y1],
                   radius_pt=4)
    if label:
        place_labels(ax, data[x], data[y], data.index, avoid=dots)
    return ax.figure


def _paper_floor_slope(xs, floor_mb: float, threshold_mb: float, slope: float) -> np.ndarray:
    """The paper's Fig 6 reference (MB): ``floor_mb`` below ``threshold_mb``, then
    ``floor_mb + slope * (x - threshold_mb)``."""
    xs = np.asarray(xs, dtype=float)
    return np.where(xs < threshold_mb, floor_mb, floor_mb + slope * (xs - threshold_mb))


def fig6_static_memory(frame: pd.DataFrame, fit=None, baseline_mb: pd.Series | None = None,
                       ax: Axes | None = None, floor_mb: float | None = None,
                       threshold_mb: float | None = None, slope: float | None = None) -> Figure:
    """Fig 6: static memory [MB] against parameter memory [MB] (parameters x 4 bytes).

    ``frame`` (indexed by model): ``param_mb``, ``static_mb`` (MB above the
    process's baseline, whose per-model values ``baseline_mb`` the y label
    states). Draws the paper's reference (TX1: ``floor_mb`` under
    ``threshold_mb``, then slope ``slope``; defaults from paper_numbers.csv)
    and, if given, ``fit`` (``helpers.analysis.fits.floor_slope_fit``: its line over the
    models at or above the threshold, its floor under it), each labelled.
    """
    floor_mb = paper_number("static_floor_mb") if floor_mb is None else floor_mb
    threshold_mb = paper_number("static_floor_threshold_mb") if threshold_mb is None else threshold_mb
    slope = paper_number("static_slope") if slope is None else slope
    ax = ax or plt.figure(figsize=(8.5, 6)).gca()
    data = frame[["param_mb", "static_mb"]].astype(float).dropna()
    dots = _points(ax, data, "param_mb", "static_mb")
    x_max = max(float(data["param_mb"].max()) if len(data) else 0.0, threshold_mb) * 1.05
    xs = np.linspace(0, x_max, 400)
    ax.plot(xs, _paper_floor_slope(xs, floor_mb, threshold_mb, slope), ":", color="firebrick", lw=1.6,
            label=f"the paper (TX1): {floor_mb:g} MB floor, then slope {slope:.2f}")
    if fit is not None and np.isfinite(fit.slope):
        ax.plot(xs, fit.slope * xs + fit.intercept, "--", color="0.3", lw=1.3,
                label=f"this run: slope {fit.slope:.2f}, R\u00b2 {fit.r2:.3f} "
                      f"(least squares, {fit.n_linear} models \u2265 {threshold_mb:g} MB)")
    if fit is not None and np.isfinite(getattr(fit, "floor_mb", np.nan)):
        ax.plot([0, threshold_mb], [fit.floor_mb] * 2, "-", color="0.3", lw=1.0, alpha=0.7,
                label=f"this run: median of the {fit.n_floor} models < {threshold_mb:g} MB: {fit.floor_mb:.0f} MB")
    ax.set_xlabel("Parameter memory [MB]: parameters x 4 bytes (float32)")
    ax.set_ylabel(memory_label("Static memory [MB]", baseline_mb))
    ax.legend(fontsize=9, **LEGEND_ABOVE)
    if len(data):
        fit_limits(ax, np.r_[data["param_mb"], 0, x_max], np.r_[data["static_mb"], 0, ax.dataLim.y1],
                   radius_pt=4)
        place_labels(ax, data["param_mb"], data["static_mb"], data.index, avoid=dots)
    return ax.figure


def step_chart(bound: pd.DataFrame, ax: Axes | None = None, xlabel: str = "Energy per image [J]") -> Figure:
    """C10: best reachable top-1 against an energy budget (a step function), every model as a point."""
    ax = ax or plt.figure(figsize=(8, 5)).gca()
    colours = model_colours(bound["model"])
    ax.step(bound["budget_j"], bound["best_top1_pct"], where="post", color="0.3", label="best top-1 within budget")
    ax.scatter(bound["budget_j"], bound["top1_pct"], c=[colours[m] for m in bound["model"]], s=50,
               edgecolors="0.2", zorder=3)
    for _, row in bound.iterrows():
        ax.annotate(row["model"], (row["budget_j"], row["top1_pct"]), textcoords="offset points",
                    xytext=(5, 4), fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Top-1 accuracy [%]")
    ax.legend(frameon=False)
    ax.figure.tight_layout()
    return ax.figure
