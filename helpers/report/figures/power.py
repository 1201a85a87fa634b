"""Lesson 6's power trace: sensor readings over time in an idle and an active window, with each window's mean."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["power_trace_chart"]


def power_trace_chart(trace: pd.DataFrame, means_w: dict[str, float], title: str, ax: Axes | None = None) -> Figure:
    """``trace`` (time_s, power_w, window) as points per window, each window's mean power (W) as a line, and
    ``title`` above (a synthetic trace says so there)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.2))
    for (window, rows), colour in zip(trace.groupby("window", sort=False), ("0.45", "C3", "C0")):
        ax.plot(rows["time_s"], rows["power_w"], ".", color=colour, label=f"{window} window: sensor readings")
        if window in means_w:
            ax.hlines(means_w[window], rows["time_s"].min(), rows["time_s"].max(), colors=colour, linestyles="--",
                      label=f"{window} mean {means_w[window]:.2f} W")
    ax.set_xlabel("Time [s]")
    ax.set_ylabel("Power [W]")
    ax.set_title(title, fontsize=9)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    ax.figure.tight_layout()
    return ax.figure
