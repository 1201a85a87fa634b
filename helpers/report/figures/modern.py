"""Lesson 8's figure: Pareto frontiers of accuracy against a cost, paper-era and since-2016 networks.
"""
from __future__ import annotations

import matplotlib
import matplotlib.lines
import matplotlib.patches
import matplotlib.patheffects
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from helpers.report.layout import place_labels
from helpers.report.style import LEGEND_ABOVE, message_panel, model_colours

__all__ = ["pareto_chart"]


def pareto_chart(frame: pd.DataFrame, ax: Axes | None = None, xlabel: str = "cost", ylabel: str = "Top-1 accuracy [%]",
                 logx: bool = True, empty_text: str = "nothing to draw") -> Figure:
    """Accuracy against a cost, one point per model (``helpers.analysis.modern.frontier``'s columns
    ``top1_pct``, ``cost``, ``on_frontier``, ``era``): the paper's networks as circles, later ones
    as triangles, the Pareto frontier (none both cheaper and more accurate) joined by a step
    line. Every point is named (no two names overlap), the frontier's in bold. An empty
    ``frame`` gives a panel saying ``empty_text``."""
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
                    label=f"Pareto frontier ({len(front)} models, names in bold)")
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    handles = [matplotlib.lines.Line2D([], [], ls="", marker=marker, color="0.6", markeredgecolor="0.2", label=name)
               for name, marker in ((ERA_PAPER, "o"), ("since 2016", "^"))
               if ((frame["era"] == ERA_PAPER) if marker == "o" else (frame["era"] != ERA_PAPER)).any()]
    ax.legend(handles=[*handles, line], fontsize=8, ncol=2, **LEGEND_ABOVE)
    ax.figure.tight_layout()
    markers = ax.scatter(frame["cost"], frame["top1_pct"], s=55, alpha=0.0, zorder=0)  # what names keep clear of
    place_labels(ax, frame["cost"], frame["top1_pct"], frame.index, fontsize=7, avoid=markers, bold=front.index)
    return ax.figure
