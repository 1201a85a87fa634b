"""Axis labels that say where a number comes from: measured or the paper's top-1, memory above
which baseline.
"""
from __future__ import annotations

import textwrap

import pandas as pd

__all__ = ["top1_provenance", "top1_label", "baseline_text", "memory_label"]


def top1_provenance(accuracy: pd.DataFrame) -> str:
    """Where the top-1 of the plotted models comes from, in words.

    ``accuracy``: one row per plotted model with ``source`` ("measured",
    "paper" or "library": torchvision's weights metadata) and ``n_images``
    (``helpers.analysis.accuracy.top1_for_claims``). Returns "the paper's", "measured (N
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
