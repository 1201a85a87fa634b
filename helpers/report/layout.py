"""Axis limits that hold every blob whole and model names that never overlap.

Limits include each blob's radius (in pixels); names are placed by ``adjustText`` and then pushed
apart until no two overlap, with a leader line to a name that moved far from its point.
"""
from __future__ import annotations

import itertools
import math

import matplotlib
import matplotlib.lines
import matplotlib.patches
import matplotlib.patheffects
import numpy as np
from adjustText import adjust_text
from matplotlib.axes import Axes
from matplotlib.text import Text

from helpers.report.style import CI_GID, MARGIN

__all__ = ["fit_limits", "place_labels", "interval_bars"]


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


def place_labels(ax: Axes, xs, ys, names, fontsize: float = 8, avoid=None, bold=()) -> list[Text]:
    """Label each point (``xs``, ``ys`` data units) with its name: placed by
    ``adjustText.adjust_text`` (away from the points and ``avoid`` artists), then
    pushed apart until no two labels overlap, and tied to their points by a thin
    line where they moved away. Names in ``bold`` are set in bold. Call after the
    axes' limits and layout are final."""
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    halo = [matplotlib.patheffects.withStroke(linewidth=2.5, foreground="white")]
    bold = {str(name) for name in bold}
    texts = [ax.text(x, y, str(name), fontsize=fontsize, zorder=6, path_effects=halo,
                     fontweight="bold" if str(name) in bold else "normal")
             for x, y, name in zip(xs, ys, names)]
    if not texts:
        return texts
    ax.figure.canvas.draw()
    adjust_text(texts, x=xs, y=ys, objects=avoid, ax=ax, ensure_inside_axes=True, expand=(1.05, 1.15),
                iter_lim=500)
    _separate(ax, texts)
    _leaders(ax, texts, xs, ys)
    return texts


def interval_bars(ax: Axes, x, low, high, colour, lw: float = 1.0, capsize: float = 0.0) -> None:
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
