"""The look every figure shares: the paper's colours, the rc style, legends outside the data, the
side-by-side of the paper's figure and ours, and the panel that says why a figure cannot be drawn.

The style is applied by :func:`use_style` (a lesson's ``setup`` calls it), never on import.
"""
from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from helpers.core.paths import PAPER_FIGURES_DIR
from helpers.core.reference import paper_palette

__all__ = ["STYLE", "use_style", "model_colours", "paper_figure", "side_by_side", "message_panel", "message_figure", "CI_GID"]


STYLE = {"axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
         "grid.linestyle": ":", "grid.color": "0.7", "figure.dpi": 100, "savefig.dpi": 150}


def use_style() -> None:
    """Apply :data:`STYLE` to matplotlib's rc parameters (a lesson's ``setup`` does, once)."""
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
