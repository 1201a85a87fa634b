"""Paper-style figures: the paper's palette, blob charts, log-log sweeps.

Every function takes tidy DataFrames and returns a matplotlib Figure (or draws
on a given Axes); nothing here measures. Models outside the paper get colours
from a seaborn palette, in a stable order.

Figures are drawn so that nothing is misread: axis limits hold every blob
whole (its radius included), model names are placed by ``adjustText`` and
then pushed apart until no two overlap, legends sit outside the data, 95 %
intervals are drawn where the data carry them, and axis labels say where a
number comes from (measured or the paper's top-1; memory above which baseline).
"""
from __future__ import annotations

import itertools
import math
import textwrap
from types import SimpleNamespace

import matplotlib
import matplotlib.lines
import matplotlib.patches
import matplotlib.patheffects
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from adjustText import adjust_text
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.text import Text

from helpers.core.paths import PAPER_FIGURES_DIR
from helpers.core.reference import paper_number, paper_palette
from helpers.core.stats import Estimate

__all__ = [
    "model_colours", "paper_figure", "fig1_top1", "blob_chart", "fig10_density",
    "sweep_chart", "paper_speedup_mark", "paper_power_mark", "scatter_fit", "side_by_side", "fig6_static_memory", "fig7_ops_vs_time",
    "place_labels", "fit_limits", "top1_provenance", "top1_label", "baseline_text",
    "memory_label", "message_panel", "pareto_chart",
]

STYLE = {"axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
         "grid.linestyle": ":", "grid.color": "0.7", "figure.dpi": 100, "savefig.dpi": 150}
plt.rcParams.update(STYLE)

#: Free share of an axis's span at each end, beyond the outermost blob or point.
MARGIN = 0.04
#: gid of the error-bar artists drawn for 95 % intervals (tests find them by it).
CI_GID = "ci"
#: Legend outside the axes: above them (figures with a fitted line) or to their right (sweeps).
LEGEND_ABOVE = {"loc": "lower left", "bbox_to_anchor": (0.0, 1.02), "borderaxespad": 0.0, "frameon": False}
LEGEND_RIGHT = {"loc": "upper left", "bbox_to_anchor": (1.02, 1.0), "borderaxespad": 0.0, "frameon": False}


def model_colours(models) -> dict[str, str]:
    """The paper's colour for paper models, a seaborn colour for any other, by first appearance."""
    palette = paper_palette()
    others = [m for m in dict.fromkeys(models) if m not in palette]
    extra = sns.color_palette("tab20", max(len(others), 1)).as_hex()
    return {m: palette.get(m) or extra[others.index(m) % len(extra)] for m in dict.fromkeys(models)}


def paper_figure(name: str, ax: Axes | None = None, title: str = "the paper") -> Axes:
    """Draw one of the paper's own figures (data/reference/figures/<name>.png)."""
    path = PAPER_FIGURES_DIR / f"{name}.png"
    if not path.is_file():
        raise FileNotFoundError(f"no paper figure {path}; available: "
                                f"{sorted(p.stem for p in PAPER_FIGURES_DIR.glob('*.png'))}")
    ax = ax or plt.figure(figsize=(7, 4.5)).gca()
    ax.imshow(plt.imread(path))
    ax.set_axis_off()
    ax.set_title(title)
    return ax


def side_by_side(paper_name: str, draw, figsize=(15, 5), ours_title: str = "this run") -> Figure:
    """The paper's figure on the left, ``draw(ax)`` (ours) on the right.

    Both titles are set before ``draw`` runs, so a chart that places labels
    for the final layout (``blob_chart``) sees that layout."""
    fig, (left, right) = plt.subplots(1, 2, figsize=figsize, gridspec_kw={"width_ratios": [1, 1.1]})
    paper_figure(paper_name, left)
    right.set_title(ours_title)
    fig.tight_layout()
    draw(right)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------ labels: where numbers come from

def top1_provenance(accuracy: pd.DataFrame) -> str:
    """Where the top-1 of the plotted models comes from, in words.

    ``accuracy``: one row per plotted model with ``source`` ("measured",
    "paper" or "library": torchvision's weights metadata) and ``n_images``
    (``helpers.measure.accuracy.top1_for_claims``). Returns "the paper's", "measured (N
    images)" or "measured (N images) for k models, the paper's for the rest" (N
    a range where the counts differ); library values are named beside them
    ("the paper's for 14, torchvision metadata for 20").
    """
    sources = accuracy["source"] if len(accuracy) else pd.Series(dtype=object)
    library = int((sources == "library").sum())
    papers = int((sources == "paper").sum())
    measured = accuracy[sources == "measured"] if len(accuracy) else accuracy
    if not len(measured):
        if not library:
            return "the paper's"
        return f"the paper's for {papers}, torchvision metadata for {library}" if papers else "torchvision metadata"
    n = pd.to_numeric(measured["n_images"], errors="coerce").dropna().astype(int)
    images = ("" if n.empty else f"{n.iloc[0]:,} images" if n.nunique() == 1
              else f"{n.min():,}-{n.max():,} images")
    what = f"measured ({images})" if images else "measured"
    if len(measured) == len(accuracy):
        return what
    k = len(measured)
    if library:
        return f"{what} for {k} model{'s' if k != 1 else ''}, the paper's for {papers}, torchvision metadata for {library}"
    return f"{what} for {k} model{'s' if k != 1 else ''}, the paper's for the rest"


def top1_label(accuracy: pd.DataFrame, quantity: str = "Top-1 accuracy [%]", width: int = 48) -> str:
    """An axis label: ``quantity`` and where its top-1 comes from (``top1_provenance``), wrapped."""
    return "\n".join(textwrap.wrap(f"{quantity}: {top1_provenance(accuracy)}", width))


def baseline_text(baseline_mb: pd.Series | None) -> str:
    """What memory is net of: the process's baseline (interpreter and libraries) and its median (MB)."""
    values = pd.to_numeric(pd.Series(baseline_mb, dtype=float), errors="coerce").dropna() \
        if baseline_mb is not None else pd.Series(dtype=float)
    if values.empty:
        return "above the process's baseline: interpreter and libraries (size not recorded)"
    return f"above the process's baseline: interpreter and libraries, median {values.median():.0f} MB"


def memory_label(quantity: str, baseline_mb: pd.Series | None, width: int = 48) -> str:
    """An axis label: ``quantity`` (with its unit) and the baseline it is net of (``baseline_text``), wrapped."""
    return "\n".join(textwrap.wrap(f"{quantity} {baseline_text(baseline_mb)}", width))


# ------------------------------------------------------------------ layout: limits and labels

def _span(values, radii_px, length_px: float, pad_px: float = 0.0, margin: float = MARGIN) -> tuple[float, float]:
    """Limits (lo, hi) of an axis ``length_px`` pixels long such that every value
    plus or minus its radius (pixels) lies inside, ``margin`` of the span free at
    each end and ``pad_px`` pixels more free below ``lo``'s data end."""
    v = np.asarray(values, dtype=float)
    r = np.broadcast_to(np.asarray(radii_px, dtype=float), v.shape)
    least = 0.0 if np.ptp(v) > 0 else max(abs(float(v.max())) * 0.2, 1.0)  # one value: a span around it
    span = float(np.ptp(v)) or least
    for _ in range(200):  # fixed point of span = (data extent at this scale + pad) / (1 - 2 margin)
        k = span / length_px
        new = max((float(np.max(v + r * k) - np.min(v - r * k)) + pad_px * k) / (1 - 2 * margin), least)
        if not np.isfinite(new) or new > 1e6 * span or abs(new - span) <= 1e-9 * span:
            break
        span = new
    k = span / length_px
    lo, hi = float(np.min(v - r * k)), float(np.max(v + r * k))
    free = max(span - (hi - lo) - pad_px * k, 0.0) / 2
    return lo - pad_px * k - free, hi + free


def fit_limits(ax: Axes, x, y, radius_pt=0.0, bottom_pt: float = 0.0, margin: float = MARGIN) -> float:
    """Set ``ax``'s limits (linear axes) to hold every point (``x``, ``y``) with its
    radius (points; markers of area s have radius sqrt(s/pi)), ``margin`` of each
    span to spare, and ``bottom_pt`` points free below the data (a key's strip).

    The layout is settled first (``tight_layout``, twice with the new limits) so the
    radii hold in the final figure. Returns the data area's bottom (y, data units).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    px = np.asarray(radius_pt, dtype=float) * ax.figure.dpi / 72
    pad = bottom_pt * ax.figure.dpi / 72
    bottom = float(np.min(y)) if y.size else 0.0
    for _ in range(2):
        ax.figure.tight_layout()
        box = ax.get_window_extent()
        ax.set_xlim(*_span(x, px, box.width, margin=margin))
        lo, hi = _span(y, px, box.height, pad_px=pad, margin=margin)
        ax.set_ylim(lo, hi)
        bottom = lo + pad * (hi - lo) / box.height
    return bottom


def _shift(ax: Axes, text: Text, dx_px: float, dy_px: float) -> None:
    x, y = ax.transData.transform(text.get_position())
    text.set_position(ax.transData.inverted().transform((x + dx_px, y + dy_px)))


def _separate(ax: Axes, texts: list[Text], gap_px: float = 1.5, rounds: int = 300) -> None:
    """Push overlapping texts apart (along the axis of least overlap) until none overlap."""
    renderer = ax.figure.canvas.get_renderer()
    for _ in range(rounds):
        moved = False
        boxes = [t.get_window_extent(renderer) for t in texts]
        for i, j in itertools.combinations(range(len(texts)), 2):
            a, b = boxes[i], boxes[j]
            ox = min(a.x1, b.x1) - max(a.x0, b.x0)
            oy = min(a.y1, b.y1) - max(a.y0, b.y0)
            if ox <= 0 or oy <= 0:
                continue
            if oy <= ox:  # apart vertically: the upper one up, the lower one down
                upper = (a.y0 + a.y1) >= (b.y0 + b.y1)
                step = (oy + gap_px) / 2
                _shift(ax, texts[i], 0, step if upper else -step)
                _shift(ax, texts[j], 0, -step if upper else step)
            else:
                right = (a.x0 + a.x1) >= (b.x0 + b.x1)
                step = (ox + gap_px) / 2
                _shift(ax, texts[i], step if right else -step, 0)
                _shift(ax, texts[j], -step if right else step, 0)
            boxes[i], boxes[j] = texts[i].get_window_extent(renderer), texts[j].get_window_extent(renderer)
            moved = True
        if not moved:
            return


def _leaders(ax: Axes, texts: list[Text], xs, ys, min_px: float = 6.0) -> None:
    """A thin line from each point to its label where the label moved away from it."""
    renderer = ax.figure.canvas.get_renderer()
    for text, x, y in zip(texts, xs, ys):
        box = text.get_window_extent(renderer)
        px, py = ax.transData.transform((x, y))
        nx, ny = min(max(px, box.x0), box.x1), min(max(py, box.y0), box.y1)
        if math.hypot(nx - px, ny - py) > min_px:
            end = ax.transData.inverted().transform((nx, ny))
            ax.plot([x, end[0]], [y, end[1]], color="0.45", lw=0.6, zorder=5, scalex=False, scaley=False)


def place_labels(ax: Axes, xs, ys, names, fontsize: float = 8, avoid=None) -> list[Text]:
    """Label each point (``xs``, ``ys`` data units) with its name: placed by
    ``adjustText.adjust_text`` (away from the points and ``avoid`` artists), then
    pushed apart until no two labels overlap, and tied to their points by a thin
    line where they moved away. Call after the axes' limits and layout are final."""
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    halo = [matplotlib.patheffects.withStroke(linewidth=2.5, foreground="white")]
    texts = [ax.text(x, y, str(name), fontsize=fontsize, zorder=6, path_effects=halo)
             for x, y, name in zip(xs, ys, names)]
    if not texts:
        return texts
    ax.figure.canvas.draw()
    adjust_text(texts, x=xs, y=ys, objects=avoid, ax=ax, ensure_inside_axes=True, expand=(1.05, 1.15),
                iter_lim=500)
    _separate(ax, texts)
    _leaders(ax, texts, xs, ys)
    return texts


def _interval_bars(ax: Axes, x, low, high, colour, lw: float = 1.0, capsize: float = 0.0) -> None:
    """Vertical bars from ``low`` to ``high`` at ``x`` (95 % intervals; NaN ones skipped)."""
    x, low, high = (np.asarray(v, dtype=float) for v in (x, low, high))
    keep = np.isfinite(x) & np.isfinite(low) & np.isfinite(high)
    if not keep.any():
        return
    x, low, high = x[keep], low[keep], high[keep]
    bars = ax.errorbar(x, (low + high) / 2, yerr=(high - low) / 2, fmt="none", ecolor=colour, elinewidth=lw,
                       capsize=capsize, capthick=lw, zorder=5)
    for artist in bars.get_children():
        artist.set_gid(CI_GID)


# ------------------------------------------------------------------ Fig 1 and Fig 10: bars

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
            _interval_bars(ax, x + offset, table[ci[0]], table[ci[1]], "0.1", lw=1.2, capsize=3)
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
                  ylabel: str = "Top-1 accuracy density [%/M-Params]") -> Figure:
    """Fig 10: top-1 accuracy density [% per million parameters] per model, ascending;
    arrows on the ``top`` best. ``ylabel`` should say where the top-1 comes from."""
    density = density.astype(float).dropna().sort_values()
    ax = ax or plt.figure(figsize=(11, 4.5)).gca()
    colours = model_colours(density.index)
    bars = ax.bar(density.index, density.to_numpy(), color=[colours[m] for m in density.index],
                  edgecolor="0.2", linewidth=0.4)
    for bar in list(bars)[-top:]:
        ax.annotate("\u2193", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    textcoords="offset points", xytext=(0, 4), ha="center", fontsize=12)
    ax.set_ylabel(ylabel)
    ax.tick_params(axis="x", rotation=35)
    for tick in ax.get_xticklabels():
        tick.set_ha("right")
    ax.figure.tight_layout()
    return ax.figure


# ------------------------------------------------------------------ Figs 2, 7, 8, 9: blobs

def _size_key(ax: Axes, sizes, unit: str, area_per_unit: float, data_bottom: float, title: str) -> None:
    """Grey reference blobs in the strip below ``data_bottom``, set apart by a line and a
    blank band, in a row ending at the right edge; each value written inside its blob,
    or beside it where it does not fit."""
    lo, _ = ax.get_ylim()
    ax.axhspan(lo, data_bottom, color="white", zorder=1.8)
    ax.axhline(data_bottom, color="0.6", lw=0.8, zorder=1.9)
    areas = np.asarray(sizes, dtype=float) * area_per_unit
    texts = [f"{s:g}{unit}" for s in sizes]
    radii = np.sqrt(areas / math.pi)  # points
    inside = 2 * radii > 0.6 * 8 * np.array([len(t) for t in texts]) + 4
    room = np.where(inside, 0.0, 0.6 * 8 * np.array([len(t) for t in texts]) + 3)  # a label beside its blob
    right = np.cumsum((2 * radii + room + 8)[::-1])[::-1]  # points from each blob's left edge to the axes' right
    to_px = ax.figure.dpi / 72
    box = ax.get_window_extent()
    centres_px = box.x1 - (right - radii) * to_px
    y_ref = (lo + data_bottom) / 2
    _, y_px = ax.transData.transform((0, y_ref))
    xs = ax.transData.inverted().transform(np.column_stack([centres_px, np.full(len(sizes), y_px)]))[:, 0]
    ax.scatter(xs, [y_ref] * len(xs), s=areas, c="0.88", edgecolors="0.6", linewidths=0.6, zorder=2)
    for xi, text, radius, within in zip(xs, texts, radii, inside):
        ax.annotate(text, (xi, y_ref), textcoords="offset points", xytext=(0 if within else radius + 3, 0),
                    ha="center" if within else "left", va="center", fontsize=8, zorder=2.1)
    ax.annotate(title, (ax.get_xlim()[0], data_bottom), textcoords="offset points", xytext=(6, -4), va="top",
                fontsize=8, color="0.3")


def _data_ticks(ax: Axes, bottom: float) -> None:
    """Keep the y ticks (and their grid lines) of the data area only, above the key's strip."""
    lo, hi = ax.get_ylim()
    ticks = [t for t in ax.yaxis.get_major_locator().tick_values(bottom, hi) if bottom <= t <= hi]
    ax.set_yticks(ticks)
    ax.set_ylim(lo, hi)


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
               shade_label: str = "above the line") -> Figure:
    """Figs 2, 7, 8, 9: one blob per model at (x, y), blob area (points²) =
    ``size`` x ``area_per_unit``.

    ``table`` is indexed by model. The axis limits hold every blob whole; a
    strip below the data shows grey reference blobs of ``size_legend`` values
    (``size_title`` names them). ``ci``: columns of a 95 % interval of ``y``
    (same units), drawn as dark error bars where finite. ``line``: any object
    with ``slope`` and ``intercept`` in the plotted units, drawn dashed with
    ``line_label`` in a legend above the axes (``shade_above`` shades what lies
    above it). Model names are placed so that none overlap.
    """
    ax = ax or plt.figure(figsize=(9, 6)).gca()
    data = table[[x, y, size, *(ci or ())]].astype(float).dropna(subset=[x, y, size])
    colours = model_colours(data.index)
    areas = data[size].to_numpy() * area_per_unit
    ax.scatter(data[x], data[y], s=areas, c=[colours[m] for m in data.index], edgecolors="white",
               linewidths=1.0, alpha=0.9, zorder=3)
    dots = ax.scatter(data[x], data[y], s=4, c="white", zorder=4)
    if ci:
        _interval_bars(ax, data[x], data[ci[0]], data[ci[1]], "0.1", lw=1.3, capsize=3)
    ax.set_xlabel(xlabel or x)
    ax.set_ylabel(ylabel)
    drawn = line is not None and np.isfinite(line.slope) and np.isfinite(line.intercept)
    handle = _line_legend(ax, line_label, shade_label if shade_above else "") if drawn else None
    key_pt = (2 * math.sqrt(max(size_legend) * area_per_unit / math.pi) + 10) if size_legend else 0.0
    bottom = fit_limits(ax, data[x], data[y], np.sqrt(areas / math.pi), bottom_pt=key_pt) if len(data) \
        else ax.get_ylim()[0]
    if size_legend:
        _size_key(ax, size_legend, size_unit, area_per_unit, bottom, size_title or f"blob area: {size}")
        _data_ticks(ax, bottom)
    if drawn:
        _draw_line(ax, handle, line, bottom, shade_above)
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


# ------------------------------------------------------------------ Figs 3, 4, 5: sweeps

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
            _interval_bars(ax, mine["batch_size"], mine["ci_low"].astype(float) * scale,
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


# ------------------------------------------------------------------ Figs 6 (and others): points and a line

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


def lesson_map(lessons: pd.DataFrame) -> Figure:
    """The course as a path: one box per lesson (number, title, the paper's figures), in order."""
    n = len(lessons)
    fig, ax = plt.subplots(figsize=(min(2.2 * n, 16), 2.4))
    ax.set_axis_off()
    ax.set_xlim(0, n)
    ax.set_ylim(0, 1)
    for i, row in enumerate(lessons.itertuples()):
        ax.add_patch(matplotlib.patches.FancyBboxPatch((i + 0.08, 0.2), 0.84, 0.6, boxstyle="round,pad=0.02",
                                                       fc=plt.cm.Blues(0.25 + 0.6 * i / max(n - 1, 1)), ec="0.3"))
        ax.text(i + 0.5, 0.62, f"{row.lesson}. {row.title}", ha="center", va="center", fontsize=8, wrap=True)
        ax.text(i + 0.5, 0.35, row.paper, ha="center", va="center", fontsize=7, color="0.2")
        if i < n - 1:
            ax.annotate("", (i + 1.08, 0.5), (i + 0.92, 0.5), arrowprops={"arrowstyle": "->", "color": "0.3"})
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------ lesson 8: Pareto frontiers

def message_panel(ax: Axes, text: str, width: int = 60) -> Axes:
    """An empty panel that says why its figure cannot be drawn (never an empty plot that looks like data)."""
    ax.set_axis_off()
    ax.text(0.5, 0.5, "\n".join(textwrap.wrap(text, width)), ha="center", va="center", fontsize=9,
            transform=ax.transAxes)
    return ax


def message_figure(text: str, figsize=(10, 3)) -> Figure:
    """A figure of one :func:`message_panel`: what a lesson saves where its figure cannot be drawn."""
    fig = plt.figure(figsize=figsize)
    message_panel(fig.gca(), text)
    return fig


def pareto_chart(frame: pd.DataFrame, ax: Axes | None = None, xlabel: str = "cost", ylabel: str = "Top-1 accuracy [%]",
                 logx: bool = True, empty_text: str = "nothing to draw") -> Figure:
    """Accuracy against a cost, one point per model (``helpers.analysis.modern.frontier``'s columns
    ``top1_pct``, ``cost``, ``on_frontier``, ``era``): the paper's networks as circles, later ones
    as triangles, the Pareto frontier (none both cheaper and more accurate) joined by a step
    line and its models named. An empty ``frame`` gives a panel saying ``empty_text``."""
    ax = ax or plt.figure(figsize=(8, 5.5)).gca()
    if frame is None or not len(frame):
        message_panel(ax, empty_text)
        return ax.figure
    from helpers.analysis.modern import ERA_PAPER

    colours = model_colours(frame.index)
    for era_name, marker in ((ERA_PAPER, "o"), (None, "^")):
        part = frame[frame["era"] == era_name] if era_name else frame[frame["era"] != ERA_PAPER]
        if len(part):
            ax.scatter(part["cost"], part["top1_pct"], marker=marker, s=55, c=[colours[m] for m in part.index],
                       edgecolors="0.2", linewidths=0.6, zorder=3)
    front = frame[frame["on_frontier"]].sort_values("cost")
    line, = ax.step(front["cost"], front["top1_pct"], where="post", ls="--", color="0.25", lw=1.2, zorder=2,
                    label=f"Pareto frontier ({len(front)} models)")
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    handles = [matplotlib.lines.Line2D([], [], ls="", marker=marker, color="0.6", markeredgecolor="0.2", label=name)
               for name, marker in ((ERA_PAPER, "o"), ("since 2016", "^"))
               if ((frame["era"] == ERA_PAPER) if marker == "o" else (frame["era"] != ERA_PAPER)).any()]
    ax.legend(handles=[*handles, line], fontsize=8, ncol=3, **LEGEND_ABOVE)
    ax.figure.tight_layout()
    place_labels(ax, front["cost"], front["top1_pct"], front.index, fontsize=8)
    return ax.figure


# ------------------------------------------------------------------ the roofline and the cache explanation

__all__ += ["roofline_chart", "cache_chart", "ROOF_GID"]

#: gid of the roof line (memory slope, then the flat compute peak) of ``roofline_chart``.
ROOF_GID = "roof"


def _batch_area(batch) -> np.ndarray:
    """Marker area (points^2) growing with the batch size: 12 at batch 1, +12 per doubling."""
    return 12.0 * (1 + np.log2(np.asarray(batch, dtype=float)))


def roofline_chart(roofline: pd.DataFrame, peak: Estimate, bandwidth: Estimate, ax: Axes | None = None) -> Figure:
    """The roofline, log-log: achieved G-ops/s (y, with 95 % intervals) against arithmetic
    intensity [op/B] (x) of every (model, batch size) of ``helpers.analysis.roofline.roofline_table``.

    The roof is ``min(peak, bandwidth x intensity)``: ``peak`` the fp32 matmul peak
    (GFLOP/s) and ``bandwidth`` the triad bandwidth (GB/s), each a
    ``helpers.core.stats.Estimate`` (its 95 % interval shaded where it has one). The ridge
    point (peak / bandwidth) is marked. Each model's batch sizes are joined by a
    line in its colour, the marker's area growing with the batch size; the
    legend (models, roof, batch sizes) sits to the right of the axes.
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
            _interval_bars(ax, mine["intensity"], mine["achieved_ci_low"], mine["achieved_ci_high"],
                           colours[model], lw=0.8)
        lines.append(line)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_xlabel("Arithmetic intensity [op/B]: operations / bytes read and written (op by op)")
    ax.set_ylabel("Achieved [G-ops/s]: operations per image / time per image")
    batches = sorted({int(x) for x in data["batch_size"]})
    keys = [matplotlib.lines.Line2D([], [], ls="", marker="o", color="0.7", markeredgecolor="0.2",
                                    markersize=math.sqrt(float(_batch_area(k))), label=f"batch {k}")
            for k in (batches if len(batches) <= 3 else [batches[0], batches[len(batches) // 2], batches[-1]])]
    ax.legend(handles=[*lines, *handles, *keys], fontsize=8, **LEGEND_RIGHT)
    ax.figure.tight_layout()
    return ax.figure


def cache_chart(points: pd.DataFrame, traffic: pd.DataFrame, llc_bytes: int, ax: Axes | None = None,
                working_set: str = "largest_activation_op_bytes") -> Figure:
    """The cache explanation: per-image time relative to the model's fastest batch (y) against
    its working set over the last-level cache (x, log), one line per model across batch sizes,
    and a vertical line at 1 where the working set leaves the cache.

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
        ax.plot(mine[working_set] / llc_bytes, mine["value"] / mine["value"].min(), "o-",
                color=colours[model], ms=4, lw=1.4, label=model)
    ax.axvline(1.0, ls="--", color="firebrick", lw=1.4,
               label=f"leaves the last-level cache ({llc_bytes / 2**20:.3g} MiB)")
    ax.set_xscale("log")
    ax.set_xlabel("Largest per-operator working set / last-level cache "
                  + ("(activations read and written by one op)" if working_set == "largest_activation_op_bytes"
                     else "(inputs + outputs + weights of one op)"))
    ax.set_ylabel("Per-image time / the model's fastest batch")
    ax.legend(fontsize=8, **LEGEND_RIGHT)
    ax.figure.tight_layout()
    return ax.figure


# ------------------------------------------------------------------ threads and precision (helpers.measure.studies)

def threads_chart(table: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Speed-up over 1 thread (y) against threads (x), one line per model and batch size (solid at
    the smallest batch, dashed at the others), each point with its 95 % interval, and the ideal
    linear speed-up. ``table``: ``helpers.measure.studies.threads_table``."""
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
        _interval_bars(ax, rows["threads"], rows["speedup_ci_low"], rows["speedup_ci_high"], colours[model],
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
    ``table``: ``helpers.measure.studies.dtype_table``. Accuracy is not re-measured (said on the axis)."""
    rows = table[(table["batch_size"] == batch_size) & (table["precision"] != "fp32")] if len(table) else table
    models = list(dict.fromkeys(rows["model"])) if len(rows) else []
    ax = ax or plt.figure(figsize=(10.5, 0.45 * max(len(models), 4) + 1.5)).gca()
    if not models:
        message_panel(ax, f"no precision other than fp32 stored at batch {batch_size} "
                          "(python -m helpers precision measures them)")
        return ax.figure
    precisions = list(dict.fromkeys(rows["precision"]))
    palette = dict(zip(precisions, sns.color_palette("deep", len(precisions))))
    drawn = (rows["status"] == "ok") & rows["speedup"].notna()
    most = max(1, int(rows[drawn].groupby("model")["precision"].nunique().max()) if drawn.any() else 1)
    height = 0.8 / most
    labelled: set[str] = set()
    for i, model in enumerate(models):
        mine = rows[rows["model"] == model].set_index("precision")
        ok = [p for p in precisions if p in mine.index and mine.loc[p, "status"] == "ok"
              and np.isfinite(mine.loc[p, "speedup"])]
        missing = [f"{p}: {mine.loc[p, 'status'] if p in mine.index else 'not measured'}"
                   for p in precisions if p not in ok]
        for j, prec in enumerate(ok):  # the model's bars centred on its tick
            y = i + height * (j - (len(ok) - 1) / 2)
            r = mine.loc[prec]
            ax.barh(y, r["speedup"], height=height * 0.9, color=palette[prec],
                    label=None if prec in labelled else prec)
            labelled.add(prec)
            if np.isfinite(r["speedup_ci_low"]):
                ax.plot([r["speedup_ci_low"], r["speedup_ci_high"]], [y, y], color="0.15", lw=1.0)
        if missing:
            ax.text(1.02, i, "; ".join(missing), transform=ax.get_yaxis_transform(), va="center", fontsize=7,
                    color="0.35")
    ax.axvline(1.0, color="0.2", lw=1.0, ls="--")
    ax.set_yticks(range(len(models)), models)
    ax.invert_yaxis()
    ax.set_xlabel(f"Speed-up over fp32 at batch {batch_size} (per-image time in fp32 / in the type); "
                  "accuracy not re-measured")
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, fontsize=8, loc="lower right")
    ax.figure.tight_layout()
    return ax.figure


__all__ += ["threads_chart", "dtype_chart", "message_figure"]
