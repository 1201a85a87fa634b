"""The paper's claims, split into parts, each ruled with a 95 % interval on a named device.

Every part (``PARTS``: C1, C2a, C2b, C3a, ...) is one statement of the paper
(``data/reference/paper_claims.md``) with one statistic, a threshold and why
it is that, and one function ``Evidence -> [Finding]``. ``rule`` turns the
findings into verdicts from one vocabulary:

* ``holds``: the whole 95 % interval of the statistic meets the threshold;
* ``does not hold``: the whole interval misses it;
* ``inconclusive``: the interval straddles the threshold;
* ``not measurable here``: the evidence lacks what the part needs (with the reason);
* ``paper's values``: the part rests only on the paper's own top-1 (C1, C11
  without measured accuracy): computing it would only repeat the paper. On a
  model set beyond the paper's (``claims_table(models=...)``), other models
  carry torchvision's metadata top-1 (source ``library``): the part then rests
  only on reference top-1, and its reason says so.

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
from typing import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from helpers.analysis.evidence import Device, Evidence, at_largest_batch, paper_evidence, run_evidence
from helpers.analysis.fits import (RESAMPLES, bootstrap_models, energy_accuracy_bound, accuracy_density,
                          linear_fit, linear_upper_bound, lognormal_draws, normal_draws, percentile_interval, r2_of,
                          spearman)
from helpers.core.reference import PAPER_MODELS, paper_models, paper_number, paper_numbers
from helpers.core.stats import Estimate, wilson_share

__all__ = [
    "HOLDS", "DOES_NOT_HOLD", "INCONCLUSIVE", "NOT_MEASURABLE", "PAPERS_VALUES", "VERDICTS",
    "Threshold", "Finding", "NotMeasurable", "Part", "PARTS", "PART_IDS", "CLAIM_COLUMNS", "rule",
    "claims_table", "agreement", "part",
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
    "statistic", "estimate", "ci_low", "ci_high", "interval", "threshold", "verdict", "reason",
)

# ------------------------------------------------------------------ thresholds
#: "Most networks": the share a per-network property must hold for (C3a, C4a, C5a).
MOST = 0.75
#: Linear relations (C6b, C8a, C9a, C10a) must explain this share of the variance.
MIN_R2 = 0.8
#: Per model, peak memory against batch size is "a line" when one explains this share (C5a).
C5_LINE_R2 = 0.95
#: Batch 1's peak memory is "mostly static" when the static share is at least this (C5b).
C5_STATIC_SHARE = 0.5
#: C6b's line needs this many models above the floor's threshold.
C6_MIN_MODELS = 5
#: The paper's batch range for speed-ups (C3), and the batches of Figs 7 and 9 (C8, C9).
SPEEDUP_BATCHES = (1, 64)
FIG_BATCHES = (1, 16)


class NotMeasurable(Exception):
    """Raised by a part's function: the evidence lacks what it needs (the message says what)."""


@dataclass(frozen=True)
class Threshold:
    """What the statistic must meet: ``op`` one of ``>=``, ``>``, ``<=``, ``within``
    (``value`` <= x <= ``upper``), with ``why`` it is that."""

    op: str
    value: float
    upper: float = math.nan
    why: str = ""

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

    def text(self) -> str:
        bound = (f"between {self.value:g} and {self.upper:g}" if self.op == "within"
                 else f"{self.op} {self.value:g}")
        return f"{bound} ({self.why})" if self.why else bound


@dataclass(frozen=True)
class Finding:
    """One reading of a part: the statistic's ``estimate``, what the evidence shows
    (``this_run``), on which ``basis`` (a batch size, a count), and two ways out:
    ``papers_values`` (rests only on reference top-1: the paper's, or also the
    library's metadata when ``library_values``) and ``unmeasurable`` (a reason
    the estimate cannot decide the part, shown with it)."""

    estimate: Estimate
    this_run: str
    basis: str = ""
    papers_values: bool = False
    unmeasurable: str = ""
    library_values: bool = False


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


# ================================================================== helpers

def _models(index: Iterable[str]) -> str:
    names = list(index)
    return ", ".join(names) if names else "none"


def _family(name: str) -> str:
    low = name.lower()
    if low.startswith(("alexnet", "bn-alexnet")):
        return "AlexNet"
    if low.startswith("vgg"):
        return "VGG"
    if low.startswith("resnet"):
        return "ResNet"
    if low.startswith("inception"):
        return "Inception"
    return name


def _big_fc(name: str) -> bool:
    """AlexNets and VGGs carry large fully connected layers; the rest are (nearly) convolution-only."""
    return _family(name) in ("AlexNet", "VGG")


def _paper_only(ev: Evidence, what: str) -> None:
    """Parts measured on a device: on the paper's numbers there is nothing to read."""
    if ev.source == "paper":
        raise NotMeasurable(f"the paper publishes no per-model table of {what} (only a plot)")


def _stated(ev: Evidence, key: str, unit: str, basis: str = "") -> list[Finding] | None:
    """A figure the paper states, as a finding (paper evidence only)."""
    if ev.source != "paper" or key not in ev.stated:
        return None
    row = paper_numbers().loc[key]
    value = ev.stated[key]
    return [Finding(Estimate(value, method="stated by the paper (no interval)"),
                    f"{value:g} {unit} ({row['where']}: {row['statement']})", basis)]


def _left_out_note(ev: Evidence, metric: str) -> str:
    gone = ev.left_out(metric)
    return f"; {len(gone)} flagged point(s) left out: {', '.join(gone)}" if gone else ""


def _accuracy_estimate(ev: Evidence, models: Sequence[str], statistic: Callable[[pd.Series], float],
                       ) -> tuple[Estimate, bool]:
    """``statistic`` of the top-1 of ``models``; with measured top-1, a Monte Carlo
    interval from their binomial intervals. Returns (estimate, rests on reference values only:
    the paper's, or also the library's metadata, ``_library_values``)."""
    acc = ev.accuracy.reindex(list(models))
    top1 = acc["top1_pct"].astype(float)
    value = float(statistic(top1))
    measured = (acc["source"] == "measured")
    if not measured.any():
        method = ("reference top-1: the paper's, or the library's metadata (no interval)"
                  if _library_values(ev, models) else "the paper's top-1 (no interval)")
        return Estimate(value, method=method), True
    draws = normal_draws(top1.to_numpy(), acc["ci_low"].astype(float).to_numpy(),
                          acc["ci_high"].astype(float).to_numpy())
    stats_ = [statistic(pd.Series(row, index=top1.index)) for row in draws]
    low, high = percentile_interval(stats_)
    n = int(measured.sum())
    method = (f"Monte Carlo over the Wilson intervals of {n} measured top-1"
              + ("" if measured.all() else f" ({len(models) - n} reference values"
                                          f"{'' if _library_values(ev, models) else ' of the paper'}"
                                          f", without interval)"))
    return Estimate(value, low, high, method), False


def _library_values(ev: Evidence, models: Sequence[str]) -> bool:
    """True when some of ``models`` carry the library's metadata top-1 (source ``library``)."""
    return bool((ev.accuracy.reindex(list(models))["source"] == "library").any())


def _measured(ev: Evidence, metric: str, what: str) -> pd.DataFrame:
    """``ev.table(metric)``; not measurable on the paper's numbers (it publishes ``what`` only as a plot)
    or when this run has no usable point (the store's reason)."""
    _paper_only(ev, what)
    table = ev.table(metric)
    if table.empty:
        raise NotMeasurable(ev.missing(metric))
    return table


def _latency(ev: Evidence) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Per-image time (s), and its interval's low and high, of the points not left out."""
    t = _measured(ev, "latency_per_image", "per-image times (Figs 3, 7, 9)")
    return t, ev.table("latency_per_image", "ci_low"), ev.table("latency_per_image", "ci_high")


def _rising_r2(x: np.ndarray, y: np.ndarray) -> float:
    """R2 of the line of y on x, negated when its slope is not positive (a falling line
    is not the rising one a part describes)."""
    fit = linear_fit(x, y)
    r2 = fit.r2 if fit.n >= 3 else math.nan
    return r2 if fit.slope > 0 else -r2


def _speedup_batches(t: pd.DataFrame) -> tuple[int, int]:
    b_from = SPEEDUP_BATCHES[0]
    usable = [b for b in t.columns if b > b_from and b <= SPEEDUP_BATCHES[1]]
    if b_from not in t.columns or not usable:
        raise NotMeasurable(f"needs per-image times at batch {b_from} and a larger batch (up to "
                            f"{SPEEDUP_BATCHES[1]}); this run has {_models(map(str, t.columns))}")
    return b_from, max(usable)


def _speedup_draws(t, lo, hi, models, b_from, b_to) -> np.ndarray:
    """Monte Carlo draws (RESAMPLES x models) of time(b_from) / time(b_to)."""
    d_from = lognormal_draws(t.loc[models, b_from], lo.loc[models, b_from], hi.loc[models, b_from], seed=1)
    d_to = lognormal_draws(t.loc[models, b_to], lo.loc[models, b_to], hi.loc[models, b_to], seed=2)
    return d_from / d_to


# ================================================================== C1, C2: accuracy and counts

def _c1(ev: Evidence) -> list[Finding]:
    top1 = ev.top1()
    fam = {m: _family(m) for m in top1.index}
    members = {f: [m for m in top1.index if fam[m] == f] for f in ("ResNet", "Inception")}
    for f, ms in members.items():
        if not ms:
            raise NotMeasurable(f"no {f} model with a top-1")
    others = [m for m in top1.index if fam[m] not in ("ResNet", "Inception")]
    if not others:
        raise NotMeasurable("no model outside the ResNet and Inception families")

    def margin(s: pd.Series) -> float:
        return float(min(s[members["ResNet"]].max(), s[members["Inception"]].max()) - s[others].max())

    models = list(top1.index)
    est, papers = _accuracy_estimate(ev, models, margin)
    best = {f: max(ms, key=lambda m: top1[m]) for f, ms in members.items()}
    rival = max(others, key=lambda m: top1[m])
    text = (f"margin {est.text('.2f', 'points')} ({best['ResNet']} {top1[best['ResNet']]:.2f}, "
            f"{best['Inception']} {top1[best['Inception']]:.2f} vs best other {rival} {top1[rival]:.2f}; "
            f"top-1: {_accuracy_source(ev, models)})")
    return [Finding(est, text, papers_values=papers, library_values=_library_values(ev, models))]


def _accuracy_source(ev: Evidence, models: Sequence[str]) -> str:
    acc = ev.accuracy.reindex(list(models))
    measured = acc[acc["source"] == "measured"]
    library = int((acc["source"] == "library").sum())
    if measured.empty:
        if not library:
            return "the paper's"
        papers = int((acc["source"] == "paper").sum())
        return (f"the paper's for {papers}, torchvision's weights metadata for {library}" if papers
                else "torchvision's weights metadata")
    n = measured["n_images"].astype(float)
    return (f"measured for {len(measured)}/{len(acc)} models ({int(n.min()):,}-{int(n.max()):,} images)"
            + (f", torchvision's weights metadata for {library}" if library else "")
            if len(n) else "measured")


def _count_bases(ev: Evidence, ours: str, papers: str) -> list[tuple[str, str]]:
    bases = []
    if ours in ev.counts.columns and ev.counts[ours].notna().any():
        bases.append((ours, f"our count ({ours})"))
    if papers in ev.counts.columns and ev.counts[papers].notna().any():
        bases.append((papers, f"the paper's published count ({papers})"))
    if not bases:
        raise NotMeasurable(f"no {ours} or {papers} counts")
    return bases


def _c2(column_pairs: tuple[str, str], what: str, unit: str) -> Callable[[Evidence], list[Finding]]:
    def evaluate(ev: Evidence) -> list[Finding]:
        findings = []
        for column, basis in _count_bases(ev, *column_pairs):
            values = pd.to_numeric(ev.counts[column], errors="coerce").dropna()
            vgg = [m for m in values.index if _family(m) == "VGG"]
            rest = [m for m in values.index if _family(m) != "VGG"]
            if not vgg or not rest:
                raise NotMeasurable(f"needs VGG and other models with {what}")
            nxt = values[rest].idxmax()
            least = values[vgg].idxmin()
            ratio = float(values[least] / values[nxt])
            text = (f"{least} {values[least]:.2f} {unit} vs the next, {nxt} {values[nxt]:.2f} {unit}: "
                    f"{ratio:.2f}x")
            findings.append(Finding(Estimate(ratio, method="exact count (no interval)"), text, basis))
        return findings
    return evaluate


# ================================================================== C3: time and batch size

def _c3a(ev: Evidence) -> list[Finding]:
    t, lo, hi = _latency(ev)
    b_from, b_to = _speedup_batches(t)
    both = t[[b_from, b_to]].dropna().index.tolist()
    if len(both) < 3:
        raise NotMeasurable(f"needs >= 3 models timed at batch {b_from} and {b_to}; this run has {len(both)}")
    sp = t.loc[both, b_from] / t.loc[both, b_to]
    draws = _speedup_draws(t, lo, hi, both, b_from, b_to)
    low, high = np.quantile(draws, [0.025, 0.975], axis=0)
    falls = sp[sp > 1].index.tolist()
    unsure = [m for m, l, h in zip(both, low, high) if l <= 1 <= h]
    est = wilson_share(len(falls), len(both))
    text = (f"per-image time falls from batch {b_from} to {b_to} for {len(falls)}/{len(both)} models "
            f"({_models(falls)}); median speed-up {sp.median():.2f}x"
            + (f"; {len(unsure)} speed-up interval(s) straddle 1 ({_models(unsure)})" if unsure else "")
            + _left_out_note(ev, "latency_per_image"))
    return [Finding(est, text, f"batch {b_from} to {b_to}")]


def _c3b(ev: Evidence) -> list[Finding]:
    t, lo, hi = _latency(ev)
    b_from, b_to = _speedup_batches(t)
    both = t[[b_from, b_to]].dropna().index.tolist()
    if "AlexNet" not in both:
        raise NotMeasurable(f"AlexNet has no per-image time at batch {b_from} and {b_to}")
    conv = [m for m in both if not _big_fc(m)]
    if len(conv) < 3:
        raise NotMeasurable(f"needs >= 3 convolution-only networks timed at batch {b_from} and {b_to}")
    sp = t.loc[both, b_from] / t.loc[both, b_to]
    value = float(sp["AlexNet"] / sp[conv].median())
    alex = _speedup_draws(t, lo, hi, ["AlexNet"], b_from, b_to)[:, 0]
    conv_draws = _speedup_draws(t, lo, hi, conv, b_from, b_to)
    rng = np.random.default_rng(3)
    pick = rng.integers(0, len(conv), (RESAMPLES, len(conv)))
    medians = np.median(np.take_along_axis(conv_draws, pick, axis=1), axis=1)
    low, high = percentile_interval(alex / medians)
    est = Estimate(value, low, high, f"Monte Carlo over the points' intervals, bootstrap over "
                                     f"{len(conv)} convolution-only models")
    text = (f"AlexNet speed-up {sp['AlexNet']:.2f}x (the paper: about "
            f"{paper_number('alexnet_speedup_1_to_64'):g}x) vs median {sp[conv].median():.2f}x of "
            f"{len(conv)} convolution-only networks; ratio {est.text('.2f')}"
            + _left_out_note(ev, "latency_per_image"))
    return [Finding(est, text, f"batch {b_from} to {b_to}")]


def _c3c(ev: Evidence) -> list[Finding]:
    stated = _stated(ev, "vgg_time_batch1_s", "s", "VGG-16, batch 1")
    if stated:
        return stated
    t, lo, hi = _latency(ev)
    if "VGG-16" not in t.index or 1 not in t.columns or not np.isfinite(t.at["VGG-16", 1]):
        raise NotMeasurable("VGG-16 has no per-image time at batch 1")
    est = Estimate(float(t.at["VGG-16", 1]), float(lo.at["VGG-16", 1]), float(hi.at["VGG-16", 1]),
                   "the point's order-statistic interval")
    text = f"VGG-16 takes {est.text('.3g', 's')} per image at batch 1"
    why = ("" if ev.device and ev.device.is_tx1 else
           f"0.2 s is the Jetson TX1's time; on {ev.describe()} an absolute time says nothing about it "
           f"(reported, not ruled)")
    return [Finding(est, text, "VGG-16, batch 1", unmeasurable=why)]


# ================================================================== C4, C7, C10: power and energy

def _power(ev: Evidence, metric: str = "power_net") -> pd.DataFrame:
    return _measured(ev, metric, "net power per model and batch size (Figs 4, 8)")


def _c4a(ev: Evidence) -> list[Finding]:
    table = _power(ev)
    within = table[[b for b in table.columns if b != 1]]
    cv = {}
    for model, row in within.iterrows():
        v = row.dropna().to_numpy()
        if v.size >= 2 and v.mean() != 0:
            cv[model] = float(v.std(ddof=1) / abs(v.mean()))
    if len(cv) < 3:
        raise NotMeasurable(f"needs net power at >= 2 batch sizes above 1 for >= 3 models; this run has {len(cv)}")
    cv = pd.Series(cv)
    flat = cv[cv <= 0.2]
    est = wilson_share(len(flat), len(cv))
    text = (f"net power varies by CV <= 0.2 across batch sizes (batch 1 excluded) for {len(flat)}/{len(cv)} "
            f"models; median CV {cv.median():.3f}, largest {cv.idxmax()} {cv.max():.3f}")
    return [Finding(est, text)]


def _c7a(ev: Evidence) -> list[Finding]:
    if ev.source == "paper":
        mean, std = ev.stated["net_power_w"], ev.stated["net_power_std_w"]
        return [Finding(Estimate(std / mean, method="stated by the paper (no interval)"),
                        f"+{mean:g} W +- {std:g} W over {ev.stated['idle_power_w']:g} W idle: CV {std / mean:.3f}")]
    full = at_largest_batch(_power(ev)).dropna()
    if len(full) < 3:
        raise NotMeasurable(f"needs net power of >= 3 models; this run has {len(full)}")

    def cv(x: np.ndarray) -> float:
        return float(np.std(x, ddof=1) / abs(np.mean(x))) if np.mean(x) != 0 else math.nan

    est = bootstrap_models(cv, full.to_numpy())
    text = (f"+{full.mean():.2f} W +- {full.std(ddof=1):.2f} W over idle across {len(full)} models at their "
            f"largest batch: CV {est.text('.3f')}")
    return [Finding(est, text)]


def _energy_time(ev: Evidence) -> tuple[pd.Series, pd.Series]:
    energy = _power(ev, "energy_per_image")
    t = ev.table("latency_per_image")
    e, s = {}, {}
    for model, row in energy.iterrows():
        for b in sorted(row.dropna().index, reverse=True):
            if model in t.index and b in t.columns and np.isfinite(t.at[model, b]):
                e[model], s[model] = float(row[b]), float(t.at[model, b])
                break
    if len(e) < 3:
        raise NotMeasurable(f"needs >= 3 models with energy and time at one batch size; this run has {len(e)}")
    return pd.Series(e), pd.Series(s)


def _c10a(ev: Evidence) -> list[Finding]:
    e, s = _energy_time(ev)
    fit = linear_fit(s.to_numpy(), e.to_numpy())
    est = bootstrap_models(r2_of, s.to_numpy(), e.to_numpy())
    if not fit.slope > 0:
        est = Estimate(-abs(est.value), method=est.method + "; slope <= 0")
    text = (f"energy per image against per-image time: slope {fit.slope:.3g} W (the effective power), "
            f"R2 {est.text('.3f')}, n={fit.n}")
    return [Finding(est, text)]


def _c10b(ev: Evidence) -> list[Finding]:
    e, _ = _energy_time(ev)
    top1 = ev.top1()
    common = [m for m in e.index if m in top1.index]
    if len(common) < 2:
        raise NotMeasurable(f"needs top-1 for >= 2 models with energy; this run has {len(common)}")
    env = energy_accuracy_bound(e[common], top1[common])
    steps = env[env["on_frontier"]]
    text = ("budget steps: " + ", ".join(f"{r.budget_j:.3g} J -> {r.best_top1_pct:.2f} % ({r.best_model})"
                                         for r in steps.itertuples()))
    return [Finding(Estimate(float(len(steps)), method="exact count (no interval)"), text)]


# ================================================================== C5, C6: memory

def _memory(ev: Evidence, metric: str) -> pd.DataFrame:
    return _measured(ev, metric, "memory per model and batch size (Figs 5, 6)")


def _c5a(ev: Evidence) -> list[Finding]:
    peak = _memory(ev, "memory_peak")
    r2 = {}
    for model, row in peak.iterrows():
        row = row.dropna()
        if row.size >= 3:
            r2[model] = linear_fit(row.index.to_numpy(dtype=float), row.to_numpy()).r2
    if len(r2) < 3:
        raise NotMeasurable(f"needs peak memory at >= 3 batch sizes for >= 3 models; this run has {len(r2)}")
    r2 = pd.Series(r2).dropna()
    lines = r2[r2 >= C5_LINE_R2]
    est = wilson_share(len(lines), len(r2))
    text = (f"a straight line (static memory + per-image growth) explains >= {C5_LINE_R2:g} of peak memory's "
            f"variance over batch sizes for {len(lines)}/{len(r2)} models; R2 from {r2.min():.3f} "
            f"({r2.idxmin()}) to {r2.max():.3f}")
    return [Finding(est, text)]


def _c5b(ev: Evidence) -> list[Finding]:
    peak = _memory(ev, "memory_peak")
    static = _memory(ev, "memory_static").median(axis=1)
    if 1 not in peak.columns:
        raise NotMeasurable("needs peak memory at batch 1")
    common = [m for m in peak.index if m in static.index and np.isfinite(peak.at[m, 1])]
    if len(common) < 3:
        raise NotMeasurable(f"needs static and batch-1 peak memory of >= 3 models; this run has {len(common)}")
    share1 = (static[common] / peak.loc[common, 1]).clip(upper=1.0)
    est = bootstrap_models(np.median, share1.to_numpy())
    big = max(peak.columns)
    last = [m for m in common if np.isfinite(peak.at[m, big])]
    share_big = (static[last] / peak.loc[last, big]).median() if last else math.nan
    text = (f"static memory is a median {est.text('.2f')} of the peak at batch 1 (lowest {share1.idxmin()} "
            f"{share1.min():.2f}) and {share_big:.2f} at batch {big}: growth per image takes over only "
            f"at large batches")
    return [Finding(est, text)]


def _fig6_points(ev: Evidence) -> pd.DataFrame:
    static = _memory(ev, "memory_static").median(axis=1)
    params = ev.params_m()
    common = [m for m in static.index if m in params.index]
    if len(common) < 3:
        raise NotMeasurable(f"needs static memory and parameters of >= 3 models; this run has {len(common)}")
    frame = pd.DataFrame({"param_mb": params[common] * 4.0, "static_mb": static[common]})
    frame["absolute_mb"] = frame["static_mb"] + ev.baseline_mb().reindex(common)
    return frame


def _c6a(ev: Evidence) -> list[Finding]:
    stated = _stated(ev, "static_floor_mb", "MB", "absolute process memory")
    if stated:
        return stated
    pts = _fig6_points(ev)
    limit = paper_number("static_floor_threshold_mb")
    small = pts[pts["param_mb"] < limit]
    if small.empty:
        raise NotMeasurable(f"no model with under {limit:g} MB of parameters")
    findings = []
    for column, basis, what in (
            ("absolute_mb", "absolute process memory",
             "the framework's baseline plus the model: what the paper's 200 MB (Torch7 and CUDA on the "
             "TX1) corresponds to"),
            ("static_mb", "net of the framework's baseline", "the model's own allocation")):
        values = small[column].dropna()
        if values.empty:
            findings.append(Finding(Estimate(math.nan), "not measured", basis,
                                    unmeasurable="no process baseline recorded with the static memory"))
            continue
        est = Estimate(float(values.min()), method="one reading per model (no interval)")
        findings.append(Finding(est, f"{what}: lowest {values.idxmin()} {values.min():.0f} MB among "
                                     f"{len(values)} models under {limit:g} MB of parameters", basis))
    return findings


def _c6b(ev: Evidence) -> list[Finding]:
    _paper_only(ev, "static memory per model")
    pts = _fig6_points(ev)
    limit = paper_number("static_floor_threshold_mb")
    big = pts[pts["param_mb"] >= limit]
    if len(big) < C6_MIN_MODELS:
        raise NotMeasurable(f"needs >= {C6_MIN_MODELS} models with >= {limit:g} MB of parameters (a bootstrap "
                            f"R2 over fewer says little); this run has {len(big)}")
    x, y = big["param_mb"].to_numpy(), big["static_mb"].to_numpy()
    est = bootstrap_models(_rising_r2, x, y)
    slope = bootstrap_models(lambda a, b: linear_fit(a, b).slope, x, y)
    text = (f"static against parameter memory over {len(big)} models >= {limit:g} MB: R2 {est.text('.3f')}, "
            f"slope {slope.text('.2f')} MB per MB (the paper: {paper_number('static_slope'):.2f})")
    return [Finding(est, text, "net of the framework's baseline")]


# ================================================================== C8: operations and time

def _fig_batches(t: pd.DataFrame) -> list[int]:
    used = [b for b in FIG_BATCHES if b in t.columns]
    if not used:
        raise NotMeasurable(f"needs per-image times at batch {' or '.join(map(str, FIG_BATCHES))}; "
                            f"this run has {_models(map(str, t.columns))}")
    return used


def _ops_time(ev: Evidence, t: pd.DataFrame, column: str, b: int) -> tuple[np.ndarray, np.ndarray, int]:
    ops = ev.ops(column)
    times = t[b].dropna()
    common = [m for m in times.index if m in ops.index]
    return times[common].to_numpy(), ops[common].to_numpy(), len(common)


def _c8a(ev: Evidence) -> list[Finding]:
    t, _, _ = _latency(ev)
    findings = []
    for column, basis in _count_bases(ev, "gops", "gops_published"):
        for b in _fig_batches(t):
            x, y, n = _ops_time(ev, t, column, b)
            if n < 3:
                raise NotMeasurable(f"needs >= 3 models with time and operations at batch {b}")
            est = bootstrap_models(_rising_r2, x, y)
            rho = bootstrap_models(spearman, x, y)
            fit = linear_fit(x, y)
            text = (f"R2 {est.text('.3f')}, Spearman {rho.text('.2f')}, slope {fit.slope:.3g} G-ops/s, "
                    f"n={n}" + _left_out_note(ev, "latency_per_image"))
            findings.append(Finding(est, text, f"batch {b}, {basis}"))
    return findings


def _c8b(ev: Evidence) -> list[Finding]:
    t, _, _ = _latency(ev)
    if not all(b in t.columns for b in FIG_BATCHES):
        raise NotMeasurable(f"needs per-image times at batch {FIG_BATCHES[0]} and {FIG_BATCHES[1]}")
    findings = []
    for column, basis in _count_bases(ev, "gops", "gops_published"):
        ops = ev.ops(column)
        both = t[list(FIG_BATCHES)].dropna()
        common = [m for m in both.index if m in ops.index]
        if len(common) < 3:
            raise NotMeasurable("needs >= 3 models timed at both batch sizes with operations")
        t1, t2, o = (both.loc[common, FIG_BATCHES[0]].to_numpy(), both.loc[common, FIG_BATCHES[1]].to_numpy(),
                     ops[common].to_numpy())

        def rise(a, b, c):
            return linear_fit(b, c).slope - linear_fit(a, c).slope

        est = bootstrap_models(rise, t1, t2, o)
        s1, s2 = linear_fit(t1, o).slope, linear_fit(t2, o).slope
        text = (f"slope {s1:.3g} G-ops/s at batch {FIG_BATCHES[0]}, {s2:.3g} at {FIG_BATCHES[1]}: "
                f"difference {est.text('.3g', 'G-ops/s')}")
        findings.append(Finding(est, text, basis))
    return findings


# ================================================================== C9: accuracy and throughput

def _c9a(ev: Evidence) -> list[Finding]:
    t, lo, hi = _latency(ev)
    top1 = ev.top1()
    findings = []
    for b in _fig_batches(t):
        times = t[b].dropna()
        common = [m for m in times.index if m in top1.index]
        if len(common) < 3:
            raise NotMeasurable(f"needs >= 3 models with top-1 and time at batch {b}")
        ips = 1.0 / times[common]
        bound = linear_upper_bound(top1[common], ips)
        if bound.n_frontier < 3:
            raise NotMeasurable(f"only {bound.n_frontier} Pareto-optimal models at batch {b}: a line through "
                                f"fewer than 3 says nothing about linearity")
        draws = 1.0 / lognormal_draws(times[common], lo.loc[common, b], hi.loc[common, b], seed=4)
        models = pd.Index(common)  # one index for the accuracy and every draw: aligned without a join
        accuracy = pd.Series(top1[common].to_numpy(dtype=float), index=models)
        r2s = [linear_upper_bound(accuracy, pd.Series(d, index=models)).r2 for d in draws[:500]]
        low, high = percentile_interval(r2s, min_finite=251)
        est = (Estimate(bound.r2, float(low), float(high),
                        "Monte Carlo (500) over the points' intervals; top-1 as given") if bound.slope < 0 else
               Estimate(-1.0, method="the bound's slope is not negative: no trade-off to bound (no interval)"))
        text = (f"tightest line on or above all {bound.n} models: slope {bound.slope:.3g} points per image/s; "
                f"the {bound.n_frontier} frontier models ({_models(bound.frontier)}) lie within "
                f"{bound.max_gap_pts:.1f} points of it, R2 {est.text('.3f')}; no model above it"
                + ("" if bound.slope < 0 else " (slope not negative: no trade-off)")
                + f"; top-1: {_accuracy_source(ev, common)}")
        findings.append(Finding(est, text, f"batch {b}"))
    return findings


def _c9b(ev: Evidence) -> list[Finding]:
    stated = _stated(ev, "alexnet_gain_hz", "images/s", "AlexNets, batch 1 to 16")
    if stated:
        return stated
    t, lo, hi = _latency(ev)
    if not all(b in t.columns for b in FIG_BATCHES):
        raise NotMeasurable(f"needs per-image times at batch {FIG_BATCHES[0]} and {FIG_BATCHES[1]}")
    alex = [m for m in ("AlexNet", "BN-AlexNet") if m in t.index and t.loc[m, list(FIG_BATCHES)].notna().all()]
    if not alex:
        raise NotMeasurable(f"no AlexNet timed at batch {FIG_BATCHES[0]} and {FIG_BATCHES[1]}")
    b1, b2 = FIG_BATCHES
    gains = (1 / t.loc[alex, b2] - 1 / t.loc[alex, b1])
    d1 = lognormal_draws(t.loc[alex, b1], lo.loc[alex, b1], hi.loc[alex, b1], seed=5)
    d2 = lognormal_draws(t.loc[alex, b2], lo.loc[alex, b2], hi.loc[alex, b2], seed=6)
    low, high = percentile_interval((1 / d2 - 1 / d1).min(axis=1))
    est = Estimate(float(gains.min()), low, high, "Monte Carlo over the points' intervals")
    text = (", ".join(f"{m} {g:+.0f} images/s" for m, g in gains.items())
            + f" from batch {b1} to {b2} (the paper: about +{paper_number('alexnet_gain_hz'):g} on the TX1)")
    return [Finding(est, text, f"AlexNets, batch {b1} to {b2}")]


# ================================================================== C11: accuracy density

C11_ORDER: tuple[str, ...] = ("ENet", "GoogLeNet", "BN-NIN", "ResNet-18")
#: The density ratios must lie within this relative distance of the paper's.
C11_RATIO_TOLERANCE = 0.25


def _density_inputs(ev: Evidence) -> tuple[list[str], pd.Series]:
    params = ev.params_m()
    models = [m for m in ev.top1().index if m in params.index]
    missing = [m for m in (*C11_ORDER, "AlexNet", "VGG-19") if m not in models]
    if missing:
        raise NotMeasurable(f"needs top-1 and parameters of {_models(missing)}")
    return models, params


def _c11a(ev: Evidence) -> list[Finding]:
    models, params = _density_inputs(ev)

    def matched(top1: pd.Series) -> float:
        ranked = (top1[models] / params[models]).sort_values(ascending=False).index[:len(C11_ORDER)]
        return float(sum(a == b for a, b in zip(ranked, C11_ORDER)))

    est, papers = _accuracy_estimate(ev, models, matched)
    dens = accuracy_density(ev.top1()[models], params[models])
    top = ", ".join(f"{m} {dens.at[m, 'density_pct_per_m']:.2f}" for m in dens.index[:4])
    text = (f"densest four: {top} % per M parameters; {est.value:.0f}/4 in the paper's places "
            f"(top-1: {_accuracy_source(ev, models)})")
    return [Finding(est, text, papers_values=papers, library_values=_library_values(ev, models))]


def _c11_ratio(other: str) -> Callable[[Evidence], list[Finding]]:
    def evaluate(ev: Evidence) -> list[Finding]:
        models, params = _density_inputs(ev)
        ref = paper_models()
        paper_ratio = float((ref.at["ENet", "top1_pct"] / ref.at["ENet", "params_m_paper"])
                            / (ref.at[other, "top1_pct"] / ref.at[other, "params_m_paper"]))

        def relative(top1: pd.Series) -> float:
            return float((top1["ENet"] / params["ENet"]) / (top1[other] / params[other]) / paper_ratio)

        est, papers = _accuracy_estimate(ev, models, relative)
        text = (f"ENet / {other} density {est.value * paper_ratio:.1f}x vs the paper's {paper_ratio:.1f}x: "
                f"{est.text('.2f')} of it (top-1: {_accuracy_source(ev, models)})")
        return [Finding(est, text, papers_values=papers, library_values=_library_values(ev, models))]
    return evaluate


# ================================================================== the parts

_RATIO_WHY = ("'by far': at least 20 % above every other model")
PARTS: tuple[Part, ...] = (
    Part("C1", "Fig 1", "The newest ResNet and Inception models beat all other architectures by at least 7 "
         "points of top-1", "at least 7 points",
         "margin = min(best ResNet, best Inception top-1) - best top-1 of any other family (points)",
         Threshold(">=", 7.0, why="the paper's own 7 points"), _c1),
    Part("C2a", "Fig 2", "VGG is by far the most expensive network in operations",
         "VGG-16 30.97 G-ops, VGG-19 39.29 G-ops",
         "least expensive VGG / most expensive other model, in operations",
         Threshold(">=", 1.2, why=_RATIO_WHY), _c2(("gops", "gops_published"), "operations", "G-ops")),
    Part("C2b", "Fig 2", "VGG is by far the most expensive network in parameters",
         "VGG-16 138.36 M, VGG-19 143.67 M",
         "least expensive VGG / most expensive other model, in parameters",
         Threshold(">=", 1.2, why=_RATIO_WHY), _c2(("params_m", "params_m_paper"), "parameters", "M")),
    Part("C3a", "Fig 3", "Per-image inference time falls with batch size", "falls for every network",
         "share of models whose per-image time at the largest batch (up to 64) is below that at batch 1",
         Threshold(">=", MOST, why="'falls' as a rule: for at least three quarters of the networks"), _c3a),
    Part("C3b", "Fig 3", "AlexNet gains more from batching than convolution-only networks (its fully connected "
         "layers are poorly optimised for small batches)", "AlexNet about 3x from batch 1 to 64",
         "AlexNet's speed-up (batch 1 to the largest up to 64) / the median speed-up of convolution-only networks",
         Threshold(">", 1.0, why="more than the convolution-only networks' median"), _c3b),
    Part("C3c", "Fig 3", "VGG needs about 0.2 s per image at batch 1 (on the TX1)", "about 0.2 s",
         "VGG-16's per-image time at batch 1 (s)",
         Threshold("within", 0.1, 0.4, why="'about 0.2 s': within a factor of 2, on a TX1 only"), _c3c),
    Part("C4a", "Fig 4", "Net power is mostly independent of batch size",
         "flat, except AlexNet at batch 1 and VGG at batch 2",
         "share of models whose net power varies by a coefficient of variation <= 0.2 across batch sizes "
         "(batch 1 excluded)",
         Threshold(">=", MOST, why="'mostly': at least three quarters of the networks"), _c4a),
    Part("C5a", "Fig 5", "Peak memory is static memory plus a linear growth with batch size",
         "flat, then linear (a knee on log axes)",
         f"share of models for which a line in batch size explains >= {C5_LINE_R2:g} of peak memory's variance",
         Threshold(">=", MOST, why="at least three quarters of the networks"), _c5a),
    Part("C5b", "Fig 5", "At small batches peak memory is flat: the static allocation dominates",
         "flat at small batches", "median over models of static memory / peak memory at batch 1",
         Threshold(">=", C5_STATIC_SHARE, why="static memory is most of the peak"), _c5b),
    Part("C6a", "Fig 6", "Memory never drops below 200 MB for networks under 100 MB of parameters",
         "200 MB floor", "lowest memory among models with under 100 MB of parameters (MB)",
         Threshold(">=", 200.0, why="the paper's floor"), _c6a),
    Part("C6b", "Fig 6", "Above 100 MB of parameters, static memory grows linearly with parameter memory",
         "linear, slope 1.30",
         "R2 of static against parameter memory (models >= 100 MB; -R2 if the slope is not positive)",
         Threshold(">=", MIN_R2, why="a line explains most of the variance"), _c6b),
    Part("C7a", "Fig 8", "No architecture has its own power footprint: every network draws about the same "
         "net power at full load", "+11.8 W +- 0.7 W over 1.30 W idle (CV 0.06)",
         "coefficient of variation of net power across models at their largest batch",
         Threshold("<=", 0.2, why="within 20 %: one footprint"), _c7a),
    Part("C8a", "Fig 7", "Operations are linear in per-image inference time", "a linear trend at batch 1 and 16",
         "R2 of operations against per-image time (-R2 if the slope is not positive)",
         Threshold(">=", MIN_R2, why="a line explains most of the variance"), _c8a),
    Part("C8b", "Fig 7", "The slope of operations against time rises for larger batches", "steeper at batch 16",
         "slope at batch 16 - slope at batch 1 (G-ops/s)",
         Threshold(">", 0.0, why="steeper at the larger batch"), _c8b),
    Part("C9a", "Fig 9", "Accuracy has a linear upper bound in throughput (images/s)", "a linear upper bound",
         "R2 of the Pareto-optimal models about the tightest line on or above every model (-1 if its slope "
         "is not negative)",
         Threshold(">=", MIN_R2, why="the frontier follows the bound"), _c9a),
    Part("C9b", "Fig 9", "The AlexNets gain throughput with larger batches", "about +80 images/s",
         "the smaller of the two AlexNets' gains in images/s from batch 1 to 16",
         Threshold(">", 0.0, why="a gain; its size is the hardware's"), _c9b),
    Part("C10a", "Sec 3.7", "Energy per image is proportional to time (constant power at full load)",
         "derived from C7 and C9", "R2 of energy per image against per-image time (-R2 if the slope is not positive)",
         Threshold(">=", MIN_R2, why="energy is a time budget"), _c10a),
    Part("C10b", "Sec 3.7", "An energy budget per image bounds the achievable accuracy",
         "derived from C7 and C9", "steps of the best-accuracy-under-budget envelope",
         Threshold(">=", 2.0, why="a trade-off: more energy buys accuracy"), _c10b),
    Part("C11a", "Fig 10", "Accuracy density ranks ENet first, then GoogLeNet, BN-NIN, ResNet-18",
         "ENet, GoogLeNet, BN-NIN, ResNet-18", "how many of the four densest are in the paper's places",
         Threshold(">=", 4.0, why="the paper's order"), _c11a),
    Part("C11b", "Fig 10", "ENet has about 13x the accuracy density of AlexNet", "ENet / AlexNet about 13x",
         "ENet / AlexNet density over the paper's ratio",
         Threshold("within", 1 - C11_RATIO_TOLERANCE, 1 + C11_RATIO_TOLERANCE, why="within 25 % of the paper's"),
         _c11_ratio("AlexNet")),
    Part("C11c", "Fig 10", "ENet has about 24x the accuracy density of VGG-19", "ENet / VGG-19 about 24x",
         "ENet / VGG-19 density over the paper's ratio",
         Threshold("within", 1 - C11_RATIO_TOLERANCE, 1 + C11_RATIO_TOLERANCE, why="within 25 % of the paper's"),
         _c11_ratio("VGG-19")),
)
PART_IDS: tuple[str, ...] = tuple(p.id for p in PARTS)


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


def _row(p: Part, ev: Evidence, basis: str, this_run: str, est: Estimate | None,
         verdict: str, reason: str) -> dict:
    return {"claim": p.id, "figure": p.figure, "claim_text": p.text, "basis": basis,
            "device_tag": ev.tag or "", "device": ev.describe(), "paper": p.paper, "this_run": this_run,
            "statistic": p.statistic,
            "estimate": est.value if est else math.nan, "ci_low": est.ci_low if est else math.nan,
            "ci_high": est.ci_high if est else math.nan, "interval": est.method if est else "",
            "threshold": p.threshold.text(), "verdict": verdict, "reason": reason}


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
            rows.append(_row(p, ev, f.basis, f.this_run, f.estimate, verdict, reason))
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
        key = claims_key(None, device_tag=None, paper_data=True, counts=None, parts=parts, models=models)
        return cached(key, lambda: rule(paper_evidence(), parts))
    from helpers.store.results import load_results

    frame = results if isinstance(results, pd.DataFrame) else load_results(results)
    key = claims_key(frame, device_tag=device_tag, paper_data=False, counts=counts, parts=parts, models=models)
    return cached(key, lambda: _claims_of(frame, device_tag, counts, parts, models))


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


