"""Paper-style figures: the paper's palette, blob charts, log-log sweeps.

Every function takes tidy DataFrames and returns a matplotlib Figure (or draws
on a given Axes); nothing here measures. Models outside the paper get colours
from a seaborn palette, in a stable order.
"""
from __future__ import annotations

import matplotlib
import matplotlib.patches
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from helpers.paths import PAPER_FIGURES_DIR
from helpers.reference import paper_palette

__all__ = [
    "model_colours", "paper_figure", "fig1_top1", "blob_chart", "fig10_density",
    "sweep_chart", "scatter_fit", "side_by_side",
]

STYLE = {"axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
         "grid.linestyle": ":", "grid.color": "0.7", "figure.dpi": 100, "savefig.dpi": 150}
plt.rcParams.update(STYLE)


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
    """The paper's figure on the left, ``draw(ax)`` (ours) on the right."""
    fig, (left, right) = plt.subplots(1, 2, figsize=figsize, gridspec_kw={"width_ratios": [1, 1.1]})
    paper_figure(paper_name, left)
    draw(right)
    right.set_title(ours_title)
    fig.tight_layout()
    return fig


def fig1_top1(table: pd.DataFrame, columns: dict[str, str], ax: Axes | None = None) -> Figure:
    """Fig 1: top-1 accuracy per network, one bar group per model.

    ``columns`` maps a column of ``table`` (indexed by model) to its legend label;
    the first is drawn in the paper's colours, the others hatched beside it.
    """
    ax = ax or plt.figure(figsize=(11, 4.5)).gca()
    models = list(table.index)
    colours = model_colours(models)
    width = 0.8 / len(columns)
    x = np.arange(len(models))
    for i, (column, label) in enumerate(columns.items()):
        values = table[column].astype(float).to_numpy()
        bars = ax.bar(x + (i - (len(columns) - 1) / 2) * width, values, width,
                      color=[colours[m] for m in models], edgecolor="0.2", linewidth=0.6,
                      hatch=None if i == 0 else "///", alpha=1.0 if i == 0 else 0.55, label=label)
        for bar, value in zip(bars, values):
            if np.isnan(value):
                ax.annotate("n/a", (bar.get_x() + bar.get_width() / 2, 41), ha="center", fontsize=7, rotation=90)
    ax.set_xticks(x, models, rotation=35, ha="right")
    ax.set_ylim(40, 85)
    ax.set_ylabel("Top-1 accuracy [%]")
    ax.legend(loc="upper left", frameon=False)
    ax.figure.tight_layout()
    return ax.figure


def blob_chart(table: pd.DataFrame, x: str, y: str, size: str, ax: Axes | None = None,
               xlabel: str = "", ylabel: str = "Top-1 accuracy [%]",
               size_legend: tuple[float, ...] = (5, 35, 65, 95, 125, 155), size_unit: str = "M",
               area_per_unit: float = 40.0, label: bool = True) -> Figure:
    """Figs 2, 8, 9: one blob per model at (x, y), blob area proportional to ``size``.

    ``table`` is indexed by model; a grey row of reference blobs shows the size scale.
    """
    ax = ax or plt.figure(figsize=(9, 6)).gca()
    data = table[[x, y, size]].astype(float).dropna()
    colours = model_colours(data.index)
    ax.scatter(data[x], data[y], s=data[size] * area_per_unit, c=[colours[m] for m in data.index],
               edgecolors="white", linewidths=1.0, alpha=0.9, zorder=3)
    ax.scatter(data[x], data[y], s=4, c="white", zorder=4)
    if label:
        for model, row in data.iterrows():
            ax.annotate(model, (row[x], row[y]), textcoords="offset points", xytext=(8, 6), fontsize=9)
    if size_legend:
        x_lo, x_hi = ax.get_xlim()
        y_lo, y_hi = ax.get_ylim()
        xs = np.linspace(x_lo + 0.35 * (x_hi - x_lo), x_hi - 0.05 * (x_hi - x_lo), len(size_legend))
        y_ref = y_lo - 0.12 * (y_hi - y_lo)
        ax.scatter(xs, [y_ref] * len(xs), s=np.array(size_legend) * area_per_unit, c="0.85",
                   edgecolors="white", zorder=2, clip_on=False)
        for xi, s in zip(xs, size_legend):
            ax.annotate(f"{s:g}{size_unit}", (xi, y_ref), textcoords="offset points", xytext=(0, 22),
                        ha="center", fontsize=8)
        ax.set_ylim(y_lo - 0.25 * (y_hi - y_lo), y_hi + 0.05 * (y_hi - y_lo))
    ax.set_xlabel(xlabel or x)
    ax.set_ylabel(ylabel)
    ax.figure.tight_layout()
    return ax.figure


def fig10_density(density: pd.Series, ax: Axes | None = None, top: int = 4) -> Figure:
    """Fig 10: top-1 accuracy density [%/M-params] per model, ascending; arrows on the ``top`` best."""
    density = density.astype(float).dropna().sort_values()
    ax = ax or plt.figure(figsize=(11, 4.5)).gca()
    colours = model_colours(density.index)
    bars = ax.bar(density.index, density.to_numpy(), color=[colours[m] for m in density.index],
                  edgecolor="0.2", linewidth=0.4)
    for bar in list(bars)[-top:]:
        ax.annotate("\u2193", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    textcoords="offset points", xytext=(0, 4), ha="center", fontsize=12)
    ax.set_ylabel("Top-1 accuracy density [%/M-Params]")
    ax.tick_params(axis="x", rotation=35)
    for tick in ax.get_xticklabels():
        tick.set_ha("right")
    ax.figure.tight_layout()
    return ax.figure


def sweep_chart(table: pd.DataFrame, ax: Axes | None = None, ylabel: str = "", logx: bool = True,
                logy: bool = True, skipped: pd.DataFrame | None = None, scale: float = 1.0) -> Figure:
    """Figs 3, 4, 5: one line per model (rows of ``table``) against batch size (its columns).

    A model's missing batch sizes stay missing (a gap, never a zero). ``skipped``
    rows (columns model, batch_size) are marked with an x on the bottom axis.
    Values are multiplied by ``scale`` (e.g. 1000 for ms).
    """
    ax = ax or plt.figure(figsize=(9, 5.5)).gca()
    colours = model_colours(table.index)
    for model, row in table.iterrows():
        row = row.dropna()
        ax.plot(row.index.astype(int), row.to_numpy() * scale, "o-", color=colours[model], label=model, ms=4, lw=1.5)
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
    ax.legend(fontsize=8, ncol=2, frameon=False, loc="best")
    ax.figure.tight_layout()
    return ax.figure


def scatter_fit(frame: pd.DataFrame, x: str, y: str, fit=None, ax: Axes | None = None,
                xlabel: str = "", ylabel: str = "", label: bool = True) -> Figure:
    """Figs 6, 7: one point per model (indexed by model) and, if given, a fitted line.

    ``fit`` is any object with ``slope``, ``intercept`` and ``r2`` attributes.
    """
    ax = ax or plt.figure(figsize=(8, 5.5)).gca()
    data = frame[[x, y]].astype(float).dropna()
    colours = model_colours(data.index)
    ax.scatter(data[x], data[y], c=[colours[m] for m in data.index], s=50, edgecolors="0.2", zorder=3)
    if label:
        for model, row in data.iterrows():
            ax.annotate(model, (row[x], row[y]), textcoords="offset points", xytext=(5, 4), fontsize=8)
    if fit is not None and len(data):
        xs = np.linspace(0, data[x].max() * 1.05, 50)
        ax.plot(xs, fit.slope * xs + fit.intercept, "--", color="0.4",
                label=f"fit: slope {fit.slope:.3g}, intercept {fit.intercept:.3g}, R\u00b2 {fit.r2:.3f}")
        ax.legend(frameon=False)
    ax.set_xlabel(xlabel or x)
    ax.set_ylabel(ylabel or y)
    ax.figure.tight_layout()
    return ax.figure


def add_linear_bound(ax: Axes, slope: float, intercept: float, label: str = "linear upper bound") -> None:
    """Draw an upper bound line on ``ax`` and shade the region above it (unreachable on this device)."""
    if not (np.isfinite(slope) and np.isfinite(intercept)):
        return
    x0, x1 = ax.get_xlim()
    xs = np.linspace(max(x0, 0), x1, 100)
    ys = slope * xs + intercept
    top = ax.get_ylim()[1]
    ax.plot(xs, ys, "--", color="0.3", lw=1.2, label=label)
    ax.fill_between(xs, ys, top, color="0.85", alpha=0.5, zorder=0, label="above the bound")
    ax.set_ylim(top=top)
    ax.legend(frameon=False, loc="lower right")


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
