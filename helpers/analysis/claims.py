"""The paper's claims, split into parts, each ruled with a 95 % interval on a named device.

Every part (``PARTS``: C1, C2a, C2b, C3a, ...) is one statement of the paper
(``data/reference/paper_claims.md``) with one statistic, a threshold and why
it is that, and one function ``Evidence -> [Finding]`` (helpers.analysis.claim_statistics,
where each part's statistic is computed). ``rule`` turns the
findings into verdicts from one vocabulary:

* ``holds``: the whole 95 % interval of the statistic meets the threshold;
* ``does not hold``: the whole interval misses it;
* ``inconclusive``: the interval straddles the threshold;
* ``not measurable here``: the evidence lacks what the part needs (with the reason);
* ``paper's values``: the part rests only on the paper's own data: its top-1
  (C1, C2c, C9a, C9d, C9e and C11 without measured accuracy) or its published
  counts (C2 on ``gops_published`` and ``params_m_paper``): computing it would
  only repeat the paper. On a model set beyond the paper's (``claims_table(models=...)``), other
  models carry torchvision's metadata top-1 (source ``library``): the part then
  rests only on reference top-1, and its reason says so.

Every ruled row (holds / does not hold) says in ``robust`` whether its verdict
survives its threshold moved by -25 % and +25 % (:data:`THRESHOLD_MOVE`):
``yes``; ``no: ...`` naming the verdict at the moved threshold; or, for a
threshold of 0 (a direction, which a relative move leaves where it is),
``a direction``. A share or an R2 (a statistic with a limit, ``Threshold.bound``) moves its distance from
that limit instead: an R2 threshold of 0.8 is tried at 0.85 and 0.75. Rows not ruled leave it empty.

A statistic without an interval (an exact count, a single memory reading, a
figure the paper states) is decided on its value, and the row says so.
``claims_table`` rules every device of a results store (or the paper's own
numbers, ``paper_data=True``): notebooks, the report, the README and
``python -m helpers claims`` all call it, so one claim has one verdict
everywhere.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from helpers.analysis.claim_memory import (C5_LINE_R2, C5_STATIC_SHARE, C6_FLAT_SLOPE, C6_SLOPE_TOLERANCE, c5a,
                                           c5b, c6a, c6b, c6c, c6d)
from helpers.analysis.claim_operations import c2c, c9e
from helpers.analysis.claim_power import C4B_LOWER, C7B_ELASTICITY, c4a, c4b, c7a, c7b, c10a, c10b, c10c
from helpers.analysis.claim_statistics import (ABOUT_FACTOR, C8_PREDICTION_ERROR, C11_RATIO_TOLERANCE,
                                               MIN_R2, MOST,
                                               Finding, NotMeasurable, c1, c2, c3a, c3b, c3c, c3d, c3e, c8a, c8b,
                                               c8c, c9a, c9b, c9c, c9d, c11_ratio, c11a)
from helpers.analysis.evidence import Device, Evidence, paper_evidence, run_evidence
from helpers.core.reference import PAPER_MODELS
from helpers.core.stats import Estimate

__all__ = [
    "HOLDS", "DOES_NOT_HOLD", "INCONCLUSIVE", "NOT_MEASURABLE", "PAPERS_VALUES", "VERDICTS",
    "Threshold", "Part", "PARTS", "PART_IDS", "CLAIM_COLUMNS", "THRESHOLD_MOVE", "rule",
    "claims_table", "agreement", "compare_verdicts", "part", "PAPER_CHECKS", "paper_check_summary",
    "RUNTIME_PARTS", "runtime_claims_table",
]

HOLDS = "holds"
DOES_NOT_HOLD = "does not hold"
INCONCLUSIVE = "inconclusive"
NOT_MEASURABLE = "not measurable here"
PAPERS_VALUES = "paper's values"
VERDICTS: tuple[str, ...] = (HOLDS, DOES_NOT_HOLD, INCONCLUSIVE, NOT_MEASURABLE, PAPERS_VALUES)

#: Columns of every claims table, in order.
CLAIM_COLUMNS: tuple[str, ...] = (
    "claim", "figure", "claim_text", "basis", "device_tag", "device", "paper", "this_run",
    "statistic", "estimate", "ci_low", "ci_high", "interval", "threshold", "verdict", "robust", "reason",
    "checked",
)
#: How far a threshold is moved, relatively, each way, for the ``robust`` column.
THRESHOLD_MOVE = 0.25

@dataclass(frozen=True)
class Threshold:
    """What the statistic must meet: ``op`` one of ``>=``, ``>``, ``<=``, ``within``
    (``value`` <= x <= ``upper``), with ``why`` it is that."""

    op: str
    value: float
    upper: float = math.nan
    why: str = ""
    bound: float = math.nan  # the statistic's own limit (1 for a share or an R2), where it has one

    def __post_init__(self) -> None:
        if self.op not in (">=", ">", "<=", "within"):
            raise ValueError(f"op={self.op!r}: must be one of >=, >, <=, within")

    def met(self, x: float) -> bool:
        if self.op == ">=":
            return x >= self.value
        if self.op == ">":
            return x > self.value
        if self.op == "<=":
            return x <= self.value
        return self.value <= x <= self.upper

    def missed_by_all(self, low: float, high: float) -> bool:
        """True when no value in [low, high] meets the threshold."""
        if self.op == ">=":
            return high < self.value
        if self.op == ">":
            return high <= self.value
        if self.op == "<=":
            return low > self.value
        return high < self.value or low > self.upper

    def moved(self, factor: float) -> "Threshold":
        """The threshold moved by ``factor`` (the robustness check): its bounds multiplied by it, or, for a
        statistic with a limit (``bound``: 1 for a share or an R2), its distance from that limit multiplied
        by it, so that 0.8 on an R2 moves to 0.85 and 0.75 (25 % of the way to 1, either way) and not to
        1.0, which only a perfect fit meets."""
        if math.isfinite(self.bound):
            return replace(self, value=self.bound - (self.bound - self.value) * factor,
                           upper=self.bound - (self.bound - self.upper) * factor)
        return replace(self, value=self.value * factor, upper=self.upper * factor)

    def text(self) -> str:
        bound = (f"between {self.value:g} and {self.upper:g}" if self.op == "within"
                 else f"{self.op} {self.value:g}")
        return f"{bound} ({self.why})" if self.why else bound


@dataclass(frozen=True)
class Part:
    """One statement of a claim: ``id`` (C3a), ``figure`` (Fig 3), ``text`` (the
    paper's statement), ``paper`` (the paper's own figure), ``statistic`` (what
    decides), ``threshold``, ``evaluate`` (evidence -> findings)."""

    id: str
    figure: str
    text: str
    paper: str
    statistic: str
    threshold: Threshold
    evaluate: Callable[[Evidence], list[Finding]] = field(repr=False)

    @property
    def claim(self) -> str:
        """The claim this part belongs to (C3 for C3a)."""
        return self.id.rstrip("abcdefgh")


# ================================================================== the parts

_RATIO_WHY = ("'by far': at least 20 % above every other model")
PARTS: tuple[Part, ...] = (
    Part("C1", "Fig 1", "The newest ResNet and Inception models beat all other architectures by at least 7 "
         "points of top-1", "at least 7 points",
         "margin = min(best ResNet, best Inception top-1) - best top-1 of any other family (points)",
         Threshold(">=", 7.0, why="the paper's own 7 points"), c1),
    Part("C2a", "Fig 2", "VGG is by far the most expensive network in operations",
         "VGG-16 30.97 G-ops, VGG-19 39.29 G-ops",
         "least expensive VGG / most expensive other model, in operations",
         Threshold(">=", 1.2, why=_RATIO_WHY), c2(("gops", "gops_published"), "operations", "G-ops")),
    Part("C2b", "Fig 2", "VGG is by far the most expensive network in parameters",
         "VGG-16 138.36 M, VGG-19 143.67 M",
         "least expensive VGG / most expensive other model, in parameters",
         Threshold(">=", 1.2, why=_RATIO_WHY), c2(("params_m", "params_m_paper"), "parameters", "M")),
    Part("C2c", "Fig 2", "Accuracy's rise with operations flattens for the latest networks (each extra "
         "operation buys less accuracy)", "a steep line that flattens for the latest Inception and ResNet",
         "frontier R2 about the tightest hyperbola top-1 = a - b / G-ops minus that about the tightest straight "
         "line in G-ops (-1 if accuracy does not rise with operations)",
         Threshold(">", 0.0, why="the flattening curve fits the frontier better than a straight line"), c2c),
    Part("C3a", "Figs 3, 7", "Per-image inference time falls with batch size",
         "per-image time falls with batch size",
         "share of models whose per-image time at the range's largest batch (up to 16; up to 64) is below that "
         "at batch 1",
         Threshold(">=", MOST, bound=1.0, why="'falls' as a rule: for at least three quarters of the networks"), c3a),
    Part("C3b", "Fig 3", "AlexNet gains more from batching than convolution-only networks (its fully connected "
         "layers are poorly optimised for small batches)", "AlexNet about 3x from batch 1 to 64",
         "AlexNet's speed-up (batch 1 to the largest up to 64) / the median speed-up of convolution-only networks",
         Threshold(">", 1.0, why="more than the convolution-only networks' median"), c3b),
    Part("C3c", "Fig 3", "VGG needs about 0.2 s per image at batch 1 (on the TX1)", "about 0.2 s",
         "VGG-16's per-image time at batch 1 (s)",
         Threshold("within", 0.2 / ABOUT_FACTOR, 0.2 * ABOUT_FACTOR,
                   why="'about 0.2 s': within a factor of 2, on a TX1 only"), c3c),
    Part("C3d", "Fig 3", "AlexNet's per-image time falls about 3x from batch 1 to 64", "about 3x",
         "AlexNet's speed-up from batch 1 to the largest batch up to 64",
         Threshold("within", 3.0 / ABOUT_FACTOR, 3.0 * ABOUT_FACTOR, why="'about 3x': within a factor of 2; "
                   "a ratio, so ruled on any device"), c3d),
    Part("C3e", "Fig 3", "AlexNet's gain from batching lies in its fully connected layers: they speed up more "
         "with batch size than its convolutions", "fully connected layers poorly optimised for small batches",
         "AlexNet's fully connected layers' per-image speed-up (batch 1 to the largest up to 64) / its "
         "convolutions' (layers study, paired by round)",
         Threshold(">", 1.0, why="the fully connected layers gain more than the convolutions"), c3e),
    Part("C4a", "Fig 4", "Net power is mostly independent of batch size",
         "flat, except AlexNet at batch 1 and VGG at batch 2",
         "share of models whose net power varies by a coefficient of variation <= 0.2 across batch sizes "
         "(batch 1 excluded)",
         Threshold(">=", MOST, bound=1.0, why="'mostly': at least three quarters of the networks"), c4a),
    Part("C4b", "Fig 4, Sec 3.3", "The exceptions to flat power: AlexNet at batch 1 and VGG at batch 2 draw less "
         "than at their larger batches", "flat, except AlexNet at batch 1 and VGG at batch 2",
         "the network's net power at the exception's batch over its median net power at the batches above it",
         Threshold("<=", C4B_LOWER, why=f"less: at least {1 - C4B_LOWER:.0%} below"), c4b),
    Part("C5a", "Fig 5", "Peak memory is static memory plus a linear growth with batch size",
         "flat, then linear (a knee on log axes)",
         f"share of models for which a line in batch size explains >= {C5_LINE_R2:g} of peak memory's variance",
         Threshold(">=", MOST, bound=1.0, why="at least three quarters of the networks"), c5a),
    Part("C5b", "Fig 5", "At small batches peak memory is flat: the static allocation dominates",
         "flat at small batches", "median over models of static memory / peak memory at batch 1",
         Threshold(">=", C5_STATIC_SHARE, bound=1.0, why="static memory is most of the peak"), c5b),
    Part("C6a", "Fig 6", "Memory never drops below 200 MB for networks under 100 MB of parameters",
         "200 MB floor", "lowest memory among models with under 100 MB of parameters (MB)",
         Threshold(">=", 200.0, why="the paper's floor"), c6a),
    Part("C6b", "Fig 6", "Above 100 MB of parameters, static memory grows linearly with parameter memory",
         "linear, slope 1.30",
         "R2 of static against parameter memory (models >= 100 MB; -R2 if the slope is not positive)",
         Threshold(">=", MIN_R2, bound=1.0, why="a line explains most of the variance"), c6b),
    Part("C6c", "Fig 6", "Below 100 MB of parameters static memory sits on a floor (flat)",
         "flat at 200 MB below 100 MB of parameters",
         "slope of static against parameter memory among models under 100 MB (MB per MB)",
         Threshold("<=", C6_FLAT_SLOPE, why=f"flat: under {C6_FLAT_SLOPE:g} MB per MB (the weights alone rise 1)"),
         c6c),
    Part("C6d", "Fig 6", "Above 100 MB of parameters static memory rises about 1.30 MB per MB of parameters",
         "slope 1.30", "slope of static against parameter memory among models of 100 MB or more (MB per MB)",
         Threshold("within", 1.30 * (1 - C6_SLOPE_TOLERANCE), 1.30 * (1 + C6_SLOPE_TOLERANCE),
                   why="'1.30': within 20 % of it; the weights alone give 1.0"), c6d),
    Part("C7a", "Fig 8", "No architecture has its own power footprint: every network draws about the same "
         "net power at full load", "+11.8 W +- 0.7 W over 1.30 W idle (CV 0.06)",
         "coefficient of variation of net power across models at their largest batch",
         Threshold("<=", 0.2, why="within 20 %: one footprint"), c7a),
    Part("C7b", "Fig 8", "Net power does not depend on a network's operations", "power flat across operations",
         "slope of log net power on log operations across models at their largest batch (d log P / d log G-ops)",
         Threshold("within", -C7B_ELASTICITY, C7B_ELASTICITY,
                   why=f"independent: a tenfold range of operations changes power by under "
                       f"{10 ** C7B_ELASTICITY - 1:.0%}"), c7b),
    Part("C8a", "Fig 7", "Operations are linear in per-image inference time", "a linear trend at batch 1 and 16",
         "R2 of operations against per-image time (-R2 if the slope is not positive)",
         Threshold(">=", MIN_R2, bound=1.0, why="a line explains most of the variance"), c8a),
    Part("C8b", "Fig 7", "The slope of operations against time rises for larger batches", "steeper at batch 16",
         "slope at batch 16 - slope at batch 1 (G-ops/s)",
         Threshold(">", 0.0, why="steeper at the larger batch"), c8b),
    Part("C8c", "Fig 7", "Operations are a reliable estimate of per-image inference time",
         "a linear trend at batch 1 and 16: operations as an estimate of time",
         "median over networks of the leave-one-out error of its per-image time predicted from its operations "
         "(a share of its time)",
         Threshold("<=", C8_PREDICTION_ERROR, why="a reliable estimate: the median network's time predicted "
                                                  f"within {C8_PREDICTION_ERROR:.0%}"), c8c),
    Part("C9a", "Fig 9", "Accuracy has a linear upper bound in throughput (images/s)", "a linear upper bound",
         "R2 of the Pareto-optimal models about the tightest line on or above every model (-1 if its slope "
         "is not negative)",
         Threshold(">=", MIN_R2, bound=1.0, why="the frontier follows the bound"), c9a),
    Part("C9b", "Fig 9", "The AlexNets gain throughput with larger batches", "about +80 images/s",
         "the smaller of the two AlexNets' gains in images/s from batch 1 to 16",
         Threshold(">", 0.0, why="a gain; its size is C9c's"), c9b),
    Part("C9c", "Fig 9", "The AlexNets gain about 80 images/s from batch 1 to 16 (on the TX1)", "about +80 images/s",
         "the AlexNets' mean gain in images/s from batch 1 to 16",
         Threshold("within", 80.0 / ABOUT_FACTOR, 80.0 * ABOUT_FACTOR,
                   why="'about +80': within a factor of 2, on a TX1 only"), c9c),
    Part("C9d", "Fig 9", "The upper bound is linear in throughput, not concave", "a linear upper bound",
         "frontier R2 about the tightest line in images/s minus that in log(images/s)",
         Threshold(">", 0.0, why="the linear bound fits the frontier better than a concave (logarithmic) one"), c9d),
    Part("C9e", "Fig 9, Sec 4", "Accuracy is hyperbolic in operations: its upper bound rises as a - b / operations",
         "accuracy hyperbolic in operations",
         "R2 of the Pareto-optimal models about the tightest bound top-1 = a - b / G-ops on or above every model "
         "(-1 if accuracy does not rise with operations)",
         Threshold(">=", MIN_R2, bound=1.0, why="the frontier follows the hyperbola"), c9e),
    Part("C10a", "Sec 3.7", "Energy per image is proportional to time (constant power at full load)",
         "derived from C7 and C9", "R2 of energy per image against per-image time (-R2 if the slope is not positive)",
         Threshold(">=", MIN_R2, bound=1.0, why="energy is a time budget"), c10a),
    Part("C10b", "Sec 3.7", "An energy budget per image bounds the achievable accuracy",
         "derived from C7 and C9", "steps of the best-accuracy-under-budget envelope",
         Threshold(">=", 2.0, why="a trade-off: more energy buys accuracy"), c10b),
    Part("C10c", "Sec 3.7", "An energy budget per image bounds the operations count",
         "derived from C7 and C8", "R2 of operations against energy per image (-R2 if the slope is not positive)",
         Threshold(">=", MIN_R2, bound=1.0, why="energy is an operations budget"), c10c),
    Part("C11a", "Fig 10", "Accuracy density ranks ENet first, then GoogLeNet, BN-NIN, ResNet-18",
         "ENet, GoogLeNet, BN-NIN, ResNet-18", "how many of the four densest are in the paper's places",
         Threshold(">=", 4.0, why="the paper's order"), c11a),
    Part("C11b", "Fig 10", "ENet has about 13x the accuracy density of AlexNet", "ENet / AlexNet about 13x",
         "ENet / AlexNet density over the paper's ratio",
         Threshold("within", 1 - C11_RATIO_TOLERANCE, 1 + C11_RATIO_TOLERANCE, why="within 25 % of the paper's"),
         c11_ratio("AlexNet")),
    Part("C11c", "Fig 10", "ENet has about 24x the accuracy density of VGG-19", "ENet / VGG-19 about 24x",
         "ENet / VGG-19 density over the paper's ratio",
         Threshold("within", 1 - C11_RATIO_TOLERANCE, 1 + C11_RATIO_TOLERANCE, why="within 25 % of the paper's"),
         c11_ratio("VGG-19")),
)
PART_IDS: tuple[str, ...] = tuple(p.id for p in PARTS)

#: How each part's statistic was checked against the paper (the ``checked`` column): on the paper's own
#: data, where the statistic is computed from its table and could have contradicted its text; or not
#: genuinely: a figure the paper states fed to a threshold built around that figure, or a ratio that is 1
#: by identity on the paper's values; or on synthetic data only (the unit tests, which build data on which
#: each verdict comes out), since the paper publishes that figure only as a plot.
PAPERS_DATA = "on the paper's data"
STATED = "not a check: the paper's stated figure against a threshold built around it"
IDENTITY = "not a check: 1 by identity on the paper's values"
SYNTHETIC = "on synthetic data only (the paper gives a plot)"
PAPER_CHECKS: dict[str, str] = {
    "C1": PAPERS_DATA, "C2a": PAPERS_DATA, "C2b": PAPERS_DATA, "C2c": PAPERS_DATA, "C9e": PAPERS_DATA,
    "C11a": PAPERS_DATA,
    "C3c": STATED, "C3d": STATED, "C6a": STATED, "C7a": STATED, "C9b": STATED, "C9c": STATED,
    "C11b": IDENTITY, "C11c": IDENTITY,
    **{pid: SYNTHETIC for pid in ("C3a", "C3b", "C3e", "C4a", "C4b", "C5a", "C7b", "C5b", "C6b", "C6c", "C6d", "C8a", "C8b", "C8c",
                                  "C9a", "C9d", "C10a", "C10b", "C10c")},
}


def paper_check_summary() -> str:
    """How many parts were genuinely checked on the paper's own data, and how the rest were (one sentence)."""
    by = {kind: [pid for pid in PART_IDS if PAPER_CHECKS[pid] == kind] for kind in (PAPERS_DATA, STATED, IDENTITY,
                                                                                     SYNTHETIC)}
    return (f"Of the {len(PART_IDS)} parts, {len(by[PAPERS_DATA])} are checked on the paper's own data "
            f"({', '.join(by[PAPERS_DATA])}); {len(by[STATED])} only feed a figure the paper states to a threshold "
            f"built around it ({', '.join(by[STATED])}) and {len(by[IDENTITY])} are 1 by identity on its values "
            f"({', '.join(by[IDENTITY])}), so neither is called a check; the other {len(by[SYNTHETIC])} are "
            f"checked on synthetic data only, which the unit tests build for each verdict, since the paper "
            f"gives those figures only as plots.")


def part(part_id: str) -> Part:
    """One part by id; KeyError naming the valid ids."""
    for p in PARTS:
        if p.id == part_id:
            return p
    raise KeyError(f"no claim part {part_id!r}; valid: {', '.join(PART_IDS)}")


# ================================================================== ruling

def _decide(p: Part, f: Finding, ev: Evidence) -> tuple[str, str]:
    est = f.estimate
    if f.unmeasurable:
        return NOT_MEASURABLE, f.unmeasurable
    if f.papers_values and ev.source == "run":
        would = "would hold" if p.threshold.met(est.value) else "would not hold"
        if f.rests_on:
            return PAPERS_VALUES, f"rests only on {f.rests_on}; on those values it {would}"
        rests = ("rests only on reference top-1 (the paper's, or the library's metadata)" if f.library_values
                 else "rests only on the paper's top-1")
        return PAPERS_VALUES, (f"{rests} (no measured accuracy in the store: "
                               f"`python -m helpers evaluate` measures it); on those values it {would}")
    if not np.isfinite(est.value):
        return NOT_MEASURABLE, f"the statistic is undefined on this evidence ({est.method})"
    need = p.threshold.text()
    if not est.has_interval and "undefined on some resamples" in est.method:
        return INCONCLUSIVE, (f"{est.value:.3g} against {need}, but its bootstrap is undefined on some "
                              f"resamples (too few distinct models): no interval to rule on")
    if not est.has_interval:
        ok = p.threshold.met(est.value)
        return (HOLDS if ok else DOES_NOT_HOLD), (f"{est.value:.3g} {'meets' if ok else 'misses'} {need}; "
                                                  f"{est.method}")
    if p.threshold.met(est.ci_low) and p.threshold.met(est.ci_high):
        return HOLDS, f"the whole 95 % interval [{est.ci_low:.3g}, {est.ci_high:.3g}] meets {need}"
    if p.threshold.missed_by_all(est.ci_low, est.ci_high):
        return DOES_NOT_HOLD, f"the whole 95 % interval [{est.ci_low:.3g}, {est.ci_high:.3g}] misses {need}"
    return INCONCLUSIVE, f"the 95 % interval [{est.ci_low:.3g}, {est.ci_high:.3g}] straddles {need}"


def _robust(p: Part, f: Finding, ev: Evidence, verdict: str) -> str:
    """Whether ``verdict`` survives the threshold moved by -/+ THRESHOLD_MOVE (see the module's docstring)."""
    if verdict not in (HOLDS, DOES_NOT_HOLD):
        return ""
    if p.threshold.value == 0 and p.threshold.op != "within":
        return "a direction"
    changed = []
    for factor in (1 - THRESHOLD_MOVE, 1 + THRESHOLD_MOVE):
        moved = replace(p, threshold=p.threshold.moved(factor))
        other, _ = _decide(moved, f, ev)
        if other != verdict:
            changed.append(f"{other} at {moved.threshold.text().split(' (')[0]}")
    return "yes" if not changed else "no: " + "; ".join(changed)


def _row(p: Part, ev: Evidence, basis: str, this_run: str, est: Estimate | None,
         verdict: str, reason: str, robust: str = "", paper: str = "") -> dict:
    return {"claim": p.id, "figure": p.figure, "claim_text": p.text, "basis": basis,
            "device_tag": ev.tag or "", "device": ev.describe(), "paper": paper or p.paper, "this_run": this_run,
            "statistic": p.statistic,
            "estimate": est.value if est else math.nan, "ci_low": est.ci_low if est else math.nan,
            "ci_high": est.ci_high if est else math.nan, "interval": est.method if est else "",
            "threshold": p.threshold.text(), "verdict": verdict, "robust": robust, "reason": reason,
            "checked": PAPER_CHECKS[p.id]}


def rule(ev: Evidence, parts: Iterable[str] | None = None) -> pd.DataFrame:
    """Every part (or those whose id or claim is in ``parts``: "C3" or "C3a") ruled on ``ev``:
    one row per finding, columns ``CLAIM_COLUMNS``. Never raises on missing data: a part
    without its data is "not measurable here" with the reason, and an unexpected
    failure is reported in its row ("analysis failed: ...")."""
    wanted = None if parts is None else set(parts)
    if wanted is not None:
        unknown = wanted - set(PART_IDS) - {p.claim for p in PARTS}
        if unknown:
            raise KeyError(f"unknown claims {sorted(unknown)}; valid: {', '.join(PART_IDS)} or C1..C11")
    rows = []
    for p in PARTS:
        if wanted is not None and p.id not in wanted and p.claim not in wanted:
            continue
        try:
            findings = p.evaluate(ev)
        except NotMeasurable as exc:
            rows.append(_row(p, ev, "", "not measured", None, NOT_MEASURABLE, str(exc)))
            continue
        except Exception as exc:  # reported in the row, never hidden
            rows.append(_row(p, ev, "", "not measured", None, NOT_MEASURABLE,
                             f"analysis failed: {type(exc).__name__}: {exc}"))
            continue
        for f in findings:
            verdict, reason = _decide(p, f, ev)
            rows.append(_row(p, ev, f.basis, f.this_run, f.estimate, verdict, reason, _robust(p, f, ev, verdict),
                             f.paper))
    return pd.DataFrame(rows, columns=list(CLAIM_COLUMNS))


def claims_table(results: pd.DataFrame | str | Path | None = None, device_tag: str | None = None,
                 paper_data: bool = False, counts: pd.DataFrame | None = None,
                 parts: Iterable[str] | None = None, models: Iterable[str] = PAPER_MODELS) -> pd.DataFrame:
    """The claims table: every part ruled on every device of ``results`` (a results
    frame, or a store root; default ``data/results``), on ``device_tag`` only when
    given, or on the paper's own numbers with ``paper_data=True``.

    Each device is ruled on its latest run; accuracy is measured top-1 where the
    store holds it, the paper's otherwise, and torchvision's metadata top-1 for a
    library model (source ``library``). ``counts`` (our ``count_table`` of the
    models) is computed once when not given. ``models``: the model set the parts
    are ruled on (default the paper's 14, whom the claims are about; any names). A table of
    unchanged inputs is read back (helpers.analysis.claims_cache), not ruled again.
    """
    from helpers.analysis.claims_cache import cached, claims_key

    parts = list(parts) if parts is not None else None
    models = list(models)
    if paper_data:
        return cached(lambda: claims_key(None, device_tag=None, paper_data=True, counts=None, parts=parts,
                                         models=models),
                      lambda: rule(paper_evidence(), parts))
    from helpers.store.results import load_results

    frame = results if isinstance(results, pd.DataFrame) else load_results(results)
    return cached(lambda: claims_key(frame, device_tag=device_tag, paper_data=False, counts=counts, parts=parts,
                                     models=models),
                  lambda: _claims_of(frame, device_tag, counts, parts, models))


#: The parts re-ruled per runtime (the runtimes study, batches 1 and 16): does batching still pay (C3a, C3b),
#: and do operations still predict time (C8a-C8c), when a network runs through another runtime?
RUNTIME_PARTS: tuple[str, ...] = ("C3a", "C3b", "C8a", "C8b", "C8c")


def runtime_claims_table(rows: pd.DataFrame, device_tag: str | None = None, counts: pd.DataFrame | None = None,
                         parts: Iterable[str] = RUNTIME_PARTS, models: Iterable[str] = PAPER_MODELS) -> pd.DataFrame:
    """:func:`claims_table`'s ``parts`` ruled once per runtime of the runtimes study's ``rows``
    (helpers.analysis.studies.study_results("runtimes", ...)), each on that runtime's times alone: the
    columns of a claims table with ``runtime`` first, runtimes in helpers.measure.runtimes.RUNTIMES' order.
    ``models``: the networks the parts are ruled on (default the paper's 14)."""
    from helpers.measure.runtimes import RUNTIMES

    parts, models = list(parts), list(models)
    if rows.empty or "runtime" not in rows.columns:
        return pd.DataFrame(columns=["runtime", *CLAIM_COLUMNS])
    if counts is None:
        from helpers.counting.table import count_table

        counts = count_table(models, thop=False, progress=False)
    order = [r for r in RUNTIMES if r in set(rows["runtime"])]
    tables = [claims_table(rows[rows["runtime"] == r].drop(columns="runtime").reset_index(drop=True), device_tag,
                           counts=counts, parts=parts, models=models).assign(runtime=r) for r in order]
    table = pd.concat(tables, ignore_index=True)
    return table[["runtime", *CLAIM_COLUMNS]]


def _claims_of(frame: pd.DataFrame, device_tag: str | None, counts: pd.DataFrame | None,
               parts: list[str] | None, models: list[str]) -> pd.DataFrame:
    """:func:`claims_table` of a results frame, computed."""
    from helpers.analysis.accuracy import top1_for_claims

    accuracy = top1_for_claims(frame, models, library=True).set_index("model")
    tags = sorted(frame["device_tag"].astype(str).unique()) if not frame.empty else []
    if device_tag is not None:
        tags = [device_tag]
    if counts is None:
        from helpers.counting.table import count_table

        counts = count_table(models, thop=False, progress=False)
    if not tags:
        return rule(run_evidence(None, None, counts=counts, accuracy=accuracy, models=models), parts)
    tables = []
    for tag in tags:
        mine = frame[frame["device_tag"].astype(str) == tag] if not frame.empty else frame
        ev = run_evidence(frame, tag, counts=counts, accuracy=accuracy, models=models) if not mine.empty else replace(
            run_evidence(None, None, counts=counts, accuracy=accuracy, models=models), device=Device(tag))
        tables.append(rule(ev, parts))
    return pd.concat(tables, ignore_index=True)


def agreement(table: pd.DataFrame) -> pd.DataFrame:
    """Verdicts side by side: one row per (claim, basis), one column per device, and
    ``agree``: True when every device that ruled it (holds / does not hold) ruled it alike,
    NA when fewer than two did."""
    if table.empty:
        return pd.DataFrame(columns=["claim", "basis", "agree"])
    wide = table.pivot_table(index=["claim", "basis"], columns="device_tag", values="verdict",
                             aggfunc="first", sort=False)
    order = {pid: i for i, pid in enumerate(PART_IDS)}
    wide = wide.reset_index()
    wide = wide.iloc[sorted(range(len(wide)), key=lambda i: (order.get(wide.at[i, "claim"], 99), i))]

    def agree(row) -> object:
        ruled = [v for v in row if v in (HOLDS, DOES_NOT_HOLD)]
        return pd.NA if len(ruled) < 2 else len(set(ruled)) == 1

    devices = [c for c in wide.columns if c not in ("claim", "basis")]
    wide["agree"] = wide[devices].apply(agree, axis=1).astype("boolean")
    wide.columns.name = None
    return wide.reset_index(drop=True)




def compare_verdicts(first: pd.DataFrame, second: pd.DataFrame,
                     names: tuple[str, str] = ("first", "second")) -> pd.DataFrame:
    """Two claims tables of the same parts side by side (two independent sweeps of one machine): one row
    per (claim, basis) of either, a verdict column per table (named by ``names``; empty where a table
    lacks the row) and ``flip``: True where one holds and the other does not hold, an interval too
    narrow to promise its verdict to a re-run."""
    if len(set(names)) != 2:
        raise ValueError(f"names must be two different column names, got {names!r}")
    keys = ["claim", "basis"]
    a = first[keys + ["verdict"]].drop_duplicates(keys).rename(columns={"verdict": names[0]})
    b = second[keys + ["verdict"]].drop_duplicates(keys).rename(columns={"verdict": names[1]})
    both = a.merge(b, on=keys, how="outer", sort=False).fillna("")
    both["flip"] = [{x, y} == {HOLDS, DOES_NOT_HOLD} for x, y in zip(both[names[0]], both[names[1]])]
    order = {pid: i for i, pid in enumerate(PART_IDS)}
    return both.sort_values("claim", key=lambda c: c.map(lambda x: order.get(x, 99)), kind="stable").reset_index(
        drop=True)
