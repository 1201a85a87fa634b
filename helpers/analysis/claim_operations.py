"""The parts on accuracy against operations (C2c: Fig 2's rise flattens; C9e: accuracy is hyperbolic in
operations): ``Evidence -> [Finding]``, as helpers.analysis.claim_statistics does for the others, whose
helpers these share.

Both read the accuracy frontier against operations: the Pareto-optimal networks (none is both cheaper and
more accurate) under the tightest line on or above every network (``fits.linear_upper_bound``). In 1 /
operations that line is the hyperbola top-1 = a - b / G-ops (C9e: the paper's "accuracy is hyperbolic in
operations"); in operations themselves it is a straight line, which a frontier that flattens fits worse
(C2c). Operation counts are exact; the interval comes from the measured top-1's Wilson intervals (Monte
Carlo), and with reference top-1 there is none (the row is the paper's values on a run)."""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import pandas as pd

from helpers.analysis.claim_statistics import (Finding, NotMeasurable, _accuracy_estimate, _count_bases,
                                               _library_values, _models)
from helpers.analysis.evidence import Evidence
from helpers.analysis.fits import UpperBound, linear_upper_bound

__all__ = ["FRONTIER_MIN_MODELS", "c2c", "c9e", "operations_frontier"]

#: A frontier shape is read from at least this many Pareto-optimal networks.
FRONTIER_MIN_MODELS = 3


def operations_frontier(top1: pd.Series, gops: pd.Series) -> tuple[UpperBound, UpperBound]:
    """The tightest upper bounds of top-1 (%) in 1 / operations (a hyperbola in G-ops) and in -operations
    (a straight line in G-ops), on the same networks; both slopes are negative where accuracy rises with
    operations (``UpperBound``: slope, intercept, R2 of the frontier, the frontier's models)."""
    models = [m for m in gops.index if m in top1.index and gops[m] > 0 and np.isfinite(top1[m])]
    y = pd.Series(top1[models].to_numpy(dtype=float), index=pd.Index(models))
    x = pd.Series(gops[models].to_numpy(dtype=float), index=pd.Index(models))
    return linear_upper_bound(y, 1.0 / x), linear_upper_bound(y, -x)


def _statistic(gops: pd.Series, which: Callable[[UpperBound, UpperBound], float]) -> Callable[[pd.Series], float]:
    def statistic(top1: pd.Series) -> float:
        hyperbolic, linear = operations_frontier(top1, gops)
        if hyperbolic.n_frontier < FRONTIER_MIN_MODELS or not hyperbolic.slope < 0:
            return -1.0  # no trade-off: accuracy does not rise with operations along a frontier
        return which(hyperbolic, linear)
    return statistic


def _frontier_parts(ev: Evidence, which: Callable[[UpperBound, UpperBound], float],
                    describe: Callable[[UpperBound, UpperBound], str]) -> list[Finding]:
    top1 = ev.top1()
    findings = []
    for column, basis in _count_bases(ev, "gops", "gops_published"):
        gops = pd.to_numeric(ev.counts[column], errors="coerce").dropna()
        models = [m for m in gops.index if m in top1.index and gops[m] > 0]
        if len(models) < FRONTIER_MIN_MODELS:
            raise NotMeasurable(f"needs >= {FRONTIER_MIN_MODELS} models with top-1 and {column}; "
                                f"this evidence has {_models(models)}")
        gops = gops[models]
        hyperbolic, linear = operations_frontier(top1[models], gops)
        if hyperbolic.n_frontier < FRONTIER_MIN_MODELS:
            raise NotMeasurable(f"only {hyperbolic.n_frontier} Pareto-optimal models "
                                f"({_models(hyperbolic.frontier)}): a curve through fewer than "
                                f"{FRONTIER_MIN_MODELS} says nothing about its shape")
        est, reference_only = _accuracy_estimate(ev, models, _statistic(gops, which))
        published = column == "gops_published"
        library = _library_values(ev, models)
        rests = [what for what, yes in (("the paper's published operations", published),
                                        ("reference top-1 (the paper's" + (", and the library's metadata"
                                                                          if library else "") + ")",
                                         reference_only)) if yes]
        # a frontier of >= FRONTIER_MIN_MODELS Pareto-optimal networks always falls in 1 / operations
        text = f"{describe(hyperbolic, linear)}; frontier: {_models(hyperbolic.frontier)}; n={len(models)}"
        findings.append(Finding(est, text, basis, papers_values=published or reference_only,
                                library_values=library, rests_on=" and ".join(rests)))
    return findings


def c9e(ev: Evidence) -> list[Finding]:
    """Accuracy hyperbolic in operations: the frontier's R2 about the tightest bound top-1 = a - b / G-ops
    (-1 where accuracy does not rise with operations). Fails where the most accurate networks for their
    cost are scattered below any hyperbola (accuracy bought at random by operations)."""
    def describe(h: UpperBound, _: UpperBound) -> str:
        return (f"tightest bound top-1 = {h.intercept:.1f} - {-h.slope:.3g} / G-ops on or above all {h.n} "
                f"models: the {h.n_frontier} frontier models lie within {h.max_gap_pts:.1f} points of it, "
                f"R2 {h.r2:.3f}")
    return _frontier_parts(ev, lambda h, _: h.r2, describe)


def c2c(ev: Evidence) -> list[Finding]:
    """Fig 2's rise flattens: the frontier's R2 about the hyperbolic bound (top-1 = a - b / G-ops, which
    flattens) minus its R2 about the tightest straight line in G-ops, on the same networks. Positive where
    each extra G-op buys less accuracy; fails where accuracy keeps rising in proportion to operations."""
    def describe(h: UpperBound, line: UpperBound) -> str:
        diff = h.r2 - line.r2 if math.isfinite(h.r2) and math.isfinite(line.r2) else math.nan
        return (f"frontier R2 about the hyperbola {h.r2:.3f}, about a straight line in G-ops {line.r2:.3f} "
                f"(slope {-line.slope:.3g} points per G-op): difference {diff:.3f}")
    return _frontier_parts(ev, lambda h, line: h.r2 - line.r2, describe)
