"""Each claim part's statistic on the evidence: ``Evidence -> [Finding]``, one function per part.

The memory parts (C5, C6) are in helpers.analysis.claim_memory, the power parts (C4, C7, C10) in
helpers.analysis.claim_power, C2c and C9e in helpers.analysis.claim_operations. The parts themselves
(statement, threshold, which function decides) and the ruling are helpers.analysis.claims; here is how
each is computed from a run (or the paper's numbers), with its 95 % interval: bootstraps over models, Monte Carlo draws from the points' own intervals, Wilson
intervals for shares (helpers.analysis.fits, helpers.core.stats). A function raises
:class:`NotMeasurable` when the evidence lacks what its part needs.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from helpers.analysis.evidence import Evidence
from helpers.analysis.fits import (RESAMPLES, accuracy_density, bootstrap_models, cooks_distance, linear_fit,
                                   linear_upper_bound, lognormal_draws, loo_relative_errors, normal_draws,
                                   percentile_interval, spearman)
from helpers.core.reference import paper_models, paper_number, paper_numbers
from helpers.core.stats import Estimate, wilson_share

__all__ = ["NotMeasurable", "Finding", "MOST", "MIN_R2", "SPEEDUP_BATCHES", "FIG_BATCHES", "C3A_RANGES",
           "C8_PREDICTION_ERROR", "INFLUENTIAL", "ABOUT_FACTOR",
           "c1", "c2", "c3a", "c3b", "c3c", "c3d", "c3e", "FC_LAYERS", "CONV_LAYERS", "c8a",
           "c8b", "c8c", "c9a", "c9b", "c9c", "c9d", "c11_ratio", "c11a"]


# ------------------------------------------------------------------ thresholds
#: "Most networks": the share a per-network property must hold for (C3a, C4a, C5a).
MOST = 0.75
#: Linear relations (C6b, C8a, C9a, C10a) must explain this share of the variance.
MIN_R2 = 0.8
#: C8c: operations are "a reliable estimate" of time when they predict the median network's time within this
#: share of it (leave-one-out).
C8_PREDICTION_ERROR = 0.25
#: C8a reports its R2 also without this many most influential networks (Cook's distance).
INFLUENTIAL = 2
#: "About" a figure the paper states: within this factor of it either way (C3c, C3d, C9c).
ABOUT_FACTOR = 2.0
#: The paper's batch range for speed-ups (C3), and the batches of Figs 7 and 9 (C8, C9).
SPEEDUP_BATCHES = (1, 64)
FIG_BATCHES = (1, 16)
#: C3a is ruled at both of the paper's batch ranges, each with what the paper says of it: the verdict on a
#: U-shaped curve depends on the endpoint, and the paper names both.
C3A_RANGES: tuple[tuple[tuple[int, int], str], ...] = (
    ((1, 16), "Fig 7 (batch 1 and 16): 'shorter inference time due to batch processing optimisation'"),
    ((1, 64), "Fig 3 (batch 1 to 64): per-image time falls with batch size (AlexNet about 3x)"),
)


class NotMeasurable(Exception):
    """Raised by a part's function: the evidence lacks what it needs (the message says what)."""


@dataclass(frozen=True)
class Finding:
    """One reading of a part: the statistic's ``estimate``, what the evidence shows
    (``this_run``), on which ``basis`` (a batch size, a count), and two ways out:
    ``papers_values`` (rests only on reference values: the paper's top-1, or also
    the library's metadata when ``library_values``; or what ``rests_on`` names, the
    paper's published counts) and ``unmeasurable`` (a reason the estimate cannot
    decide the part, shown with it)."""

    estimate: Estimate
    this_run: str
    basis: str = ""
    papers_values: bool = False
    unmeasurable: str = ""
    library_values: bool = False
    rests_on: str = ""
    paper: str = ""  # what the paper says of this basis, where it differs from the part's


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


def _speedup_batches(t: pd.DataFrame, batches: tuple[int, int] = SPEEDUP_BATCHES) -> tuple[int, int]:
    """Batch ``batches[0]`` and the largest measured batch above it, up to ``batches[1]``."""
    b_from, upper = batches
    usable = [b for b in t.columns if b > b_from and b <= upper]
    if b_from not in t.columns or not usable:
        raise NotMeasurable(f"needs per-image times at batch {b_from} and a larger batch (up to "
                            f"{upper}); this run has {_models(map(str, t.columns))}")
    return b_from, max(usable)


def _speedup_draws(t, lo, hi, models, b_from, b_to, windows=None) -> tuple[np.ndarray, int]:
    """Monte Carlo draws (RESAMPLES x models) of time(b_from) / time(b_to), and how many models were paired.

    Where both batches of a model were measured in the same windows (``windows``: Evidence.window_medians),
    its speed-up is drawn from the interval of the per-window ratios (helpers.analysis.reproducibility.
    paired_ratio), so drift of the machine common to both batches cancels; otherwise from the two points'
    intervals, independently."""
    from helpers.analysis.reproducibility import paired_ratio

    d_from = lognormal_draws(t.loc[models, b_from], lo.loc[models, b_from], hi.loc[models, b_from], seed=1)
    d_to = lognormal_draws(t.loc[models, b_to], lo.loc[models, b_to], hi.loc[models, b_to], seed=2)
    draws = d_from / d_to
    paired = 0
    for i, m in enumerate(models):
        pair = paired_ratio((windows or {}).get((m, b_from), {}), (windows or {}).get((m, b_to), {}))
        if pair is not None and math.isfinite(pair[1]):
            draws[:, i] = lognormal_draws([pair[0]], [pair[1]], [pair[2]], seed=10 + i)[:, 0]
            paired += 1
    return draws, paired


def _pairing_note(paired: int, n: int) -> str:
    return (f"; speed-up intervals paired by window for {paired}/{n} models" if paired
            else "; speed-up intervals from the points' intervals (no windows stored)")


# ================================================================== C1, C2: accuracy and counts

def c1(ev: Evidence) -> list[Finding]:
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


def c2(column_pairs: tuple[str, str], what: str, unit: str) -> Callable[[Evidence], list[Finding]]:
    """C2a / C2b on our count and on the paper's published one; the latter is the paper's own data, so
    on a run it is "paper's values" (it would fail only if the paper's table contradicted its text)."""
    def evaluate(ev: Evidence) -> list[Finding]:
        findings = []
        for column, basis in _count_bases(ev, *column_pairs):
            published = column == column_pairs[1]
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
            findings.append(Finding(Estimate(ratio, method="exact count (no interval)"), text, basis,
                                    papers_values=published,
                                    rests_on=f"the paper's published {what}" if published else ""))
        return findings
    return evaluate


# ================================================================== C3: time and batch size

def c3a(ev: Evidence) -> list[Finding]:
    """Per-image time falls with batch size, at each of :data:`C3A_RANGES` (a range whose largest measured
    batch another range already reached is ruled once)."""
    t, lo, hi = _latency(ev)
    ranges = []
    for batches, paper in C3A_RANGES:
        try:
            pair = _speedup_batches(t, batches)
        except NotMeasurable:
            continue
        if pair not in [r[0] for r in ranges]:
            ranges.append((pair, paper))
    if not ranges:
        _speedup_batches(t)  # raises, naming what is missing
    findings = []
    windows = ev.window_medians("latency_per_image")
    for (b_from, b_to), paper in ranges:
        both = t[[b_from, b_to]].dropna().index.tolist()
        if len(both) < 3:
            raise NotMeasurable(f"needs >= 3 models timed at batch {b_from} and {b_to}; this run has {len(both)}")
        sp = t.loc[both, b_from] / t.loc[both, b_to]
        draws, paired = _speedup_draws(t, lo, hi, both, b_from, b_to, windows)
        low, high = np.quantile(draws, [0.025, 0.975], axis=0)
        falls = sp[sp > 1].index.tolist()
        surely = [m for m, lw in zip(both, low) if lw > 1]
        within = [m for m in falls if m not in surely]
        rises = [m for m, h in zip(both, high) if h < 1]
        est = _share_of_draws(draws > 1, len(falls))
        text = (f"per-image time falls from batch {b_from} to {b_to} for {len(falls)}/{len(both)} models at their "
                f"medians: beyond its speed-up's 95 % interval for {len(surely)} ({_models(surely) or 'none'})"
                + (f", within it for {len(within)} ({_models(within)})" if within else "")
                + f"; it rises beyond the interval for {len(rises)}" + (f" ({_models(rises)})" if rises else "")
                + f"; median speed-up {sp.median():.2f}x"
                + (_pairing_note(paired, len(both)) if paired else "")
                + _left_out_note(ev, "latency_per_image"))
        findings.append(Finding(est, text, f"batch {b_from} to {b_to}", paper=paper))
    return findings


def _share_of_draws(hits: np.ndarray, observed: int) -> Estimate:
    """A share of networks (``observed`` of ``hits.shape[1]`` at their medians) whose interval carries both
    the sampling of networks and each one's measurement: the Wilson interval's lower end at the 2.5th
    percentile of the count over the Monte Carlo draws (``hits``: draws x networks, True where the draw
    meets the property), its upper end at the 97.5th."""
    n = hits.shape[1]
    counts = hits.sum(axis=1)
    k_lo, k_hi = int(np.floor(np.quantile(counts, 0.025))), int(np.ceil(np.quantile(counts, 0.975)))
    point = wilson_share(observed, n)
    return Estimate(point.value, wilson_share(k_lo, n).ci_low, wilson_share(k_hi, n).ci_high,
                    f"Wilson over {n} models, at the 2.5th and 97.5th percentiles ({k_lo} and {k_hi}) of the "
                    f"count over Monte Carlo draws of each model's speed-up", n=n)


def c3b(ev: Evidence) -> list[Finding]:
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
    windows = ev.window_medians("latency_per_image")
    alex, alex_paired = _speedup_draws(t, lo, hi, ["AlexNet"], b_from, b_to, windows)
    alex = alex[:, 0]
    conv_draws, conv_paired = _speedup_draws(t, lo, hi, conv, b_from, b_to, windows)
    paired = alex_paired + conv_paired
    rng = np.random.default_rng(3)
    pick = rng.integers(0, len(conv), (RESAMPLES, len(conv)))
    medians = np.median(np.take_along_axis(conv_draws, pick, axis=1), axis=1)
    low, high = percentile_interval(alex / medians)
    est = Estimate(value, low, high, f"Monte Carlo over the points' intervals"
                                     f"{' (paired by window where stored)' if paired else ''}, bootstrap over "
                                     f"{len(conv)} convolution-only models")
    text = (f"AlexNet speed-up {sp['AlexNet']:.2f}x (the paper: about "
            f"{paper_number('alexnet_speedup_1_to_64'):g}x) vs median {sp[conv].median():.2f}x of "
            f"{len(conv)} convolution-only networks; ratio {est.text('.2f')}"
            + (_pairing_note(paired, len(conv) + 1) if paired else "")
            + _left_out_note(ev, "latency_per_image"))
    return [Finding(est, text, f"batch {b_from} to {b_to}")]


def c3c(ev: Evidence) -> list[Finding]:
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


def c3d(ev: Evidence) -> list[Finding]:
    """AlexNet's own speed-up against the paper's 3x: a dimensionless magnitude, ruled on any device (C3b
    rules only that AlexNet gains more than the convolution-only networks)."""
    stated = _stated(ev, "alexnet_speedup_1_to_64", "x", "AlexNet, batch 1 to 64")
    if stated:
        return stated
    t, lo, hi = _latency(ev)
    b_from, b_to = _speedup_batches(t)
    if "AlexNet" not in t[[b_from, b_to]].dropna().index:
        raise NotMeasurable(f"AlexNet has no per-image time at batch {b_from} and {b_to}")
    draws, paired = _speedup_draws(t, lo, hi, ["AlexNet"], b_from, b_to, ev.window_medians("latency_per_image"))
    low, high = percentile_interval(draws[:, 0])
    value = float(t.at["AlexNet", b_from] / t.at["AlexNet", b_to])
    est = Estimate(value, low, high, "Monte Carlo over the points' intervals"
                                     + (" (paired by window)" if paired else ""))
    text = (f"AlexNet's per-image time falls {est.text('.2f')}x from batch {b_from} to {b_to} (the paper: about "
            f"{paper_number('alexnet_speedup_1_to_64'):g}x on the TX1)" + _left_out_note(ev, "latency_per_image"))
    return [Finding(est, text, f"AlexNet, batch {b_from} to {b_to}")]


#: The layer types of C3e's mechanism: the fully connected layers and the convolutions.
FC_LAYERS = "Linear"
CONV_LAYERS = "Conv2d"


def c3e(ev: Evidence) -> list[Finding]:
    """C3b's mechanism, from the layers study (helpers.measure.layers): AlexNet's fully connected layers'
    per-image speed-up from batch 1 to its largest stored batch up to 64, over its convolutions'. Each round
    of the study timed both batches back to back, so the ratio is formed round by round (paired: drift common
    to the round cancels) and its interval is a t interval on the rounds' logs. It fails where the fully
    connected layers gain no more from batching than the convolutions (a ratio at or below 1)."""
    from helpers.core.stats import window_interval
    from helpers.measure.layers import stored_layer_times

    if ev.source == "paper":
        raise NotMeasurable("the paper publishes no per-model table of layer times (only a plot of whole-network times, Fig 3, and its explanation in words)")
    times = stored_layer_times(ev.results, "AlexNet", ev.tag)
    if times.empty:
        raise NotMeasurable("no layers study of AlexNet is stored (`python -m helpers layers` times its layers; "
                            "`make reproduce` runs it)")
    batches = sorted(set(times["batch_size"]))
    usable = [b for b in batches if 1 < b <= SPEEDUP_BATCHES[1]]
    if 1 not in batches or not usable:
        raise NotMeasurable(f"the layers study of AlexNet needs batch 1 and a larger batch up to "
                            f"{SPEEDUP_BATCHES[1]}; it holds {', '.join(map(str, batches))}")
    b_to = max(usable)
    rounds = {(r.layer_type, int(r.batch_size)): list(r.rounds) for r in times.itertuples()}
    need = [(kind, b) for kind in (FC_LAYERS, CONV_LAYERS) for b in (1, b_to)]
    missing = [f"{k} at batch {b}" for k, b in need if not rounds.get((k, b))]
    if missing:
        raise NotMeasurable(f"the layers study of AlexNet lacks {', '.join(missing)}")
    k = min(len(rounds[key]) for key in need)
    ratios = [(rounds[(FC_LAYERS, 1)][i] / rounds[(FC_LAYERS, b_to)][i])
              / (rounds[(CONV_LAYERS, 1)][i] / rounds[(CONV_LAYERS, b_to)][i]) for i in range(k)]
    value, low, high, how = window_interval(ratios)
    est = Estimate(value, low, high, f"paired by round: {how}", n=k)
    share = {b: float(times[(times["batch_size"] == b) & (times["layer_type"] == FC_LAYERS)]["value"].iloc[0]
                      / times[times["batch_size"] == b]["value"].sum()) for b in (1, b_to)}
    fc_gain, conv_gain = (window_interval([rounds[(kind, 1)][i] / rounds[(kind, b_to)][i] for i in range(k)])[0]
                          for kind in (FC_LAYERS, CONV_LAYERS))
    text = (f"AlexNet's fully connected layers speed up {fc_gain:.2f}x per image from batch 1 to {b_to}, its "
            f"convolutions {conv_gain:.2f}x: ratio {est.text('.2f')}; the fully connected share of its time "
            f"{share[1]:.2f} at batch 1, {share[b_to]:.2f} at batch {b_to} (layers study, {k} rounds)")
    return [Finding(est, text, f"AlexNet's layers, batch 1 to {b_to}")]


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


def c8a(ev: Evidence) -> list[Finding]:
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
                    f"n={n}" + _without_influential(ev, t, column, b) + _left_out_note(ev, "latency_per_image"))
            findings.append(Finding(est, text, f"batch {b}, {basis}"))
    return findings


def _without_influential(ev: Evidence, t: pd.DataFrame, column: str, b: int) -> str:
    """C8a's R2 without its INFLUENTIAL most influential networks (Cook's distance), as a clause."""
    ops = ev.ops(column)
    times = t[b].dropna()
    common = [m for m in times.index if m in ops.index]
    if len(common) < INFLUENTIAL + 3:
        return ""
    x, y = times[common].to_numpy(), ops[common].to_numpy()
    order = np.argsort(-np.nan_to_num(cooks_distance(x, y), nan=-1.0))
    gone = [common[i] for i in order[:INFLUENTIAL]]
    keep = [i for i in range(len(common)) if common[i] not in gone]
    r2 = _rising_r2(x[keep], y[keep])
    return f"; R2 {r2:.3f} without the {INFLUENTIAL} most influential ({_models(gone)}, by Cook's distance)"


def c8c(ev: Evidence) -> list[Finding]:
    """Operations as an estimate of time: each network's per-image time predicted from its operations by
    the line through the other networks (leave-one-out); the median relative error, bootstrapped over
    models. Fails where networks of similar operations take very different times."""
    t, _, _ = _latency(ev)
    findings = []
    for column, basis in _count_bases(ev, "gops", "gops_published"):
        ops = ev.ops(column)
        for b in _fig_batches(t):
            times = t[b].dropna()
            common = [m for m in times.index if m in ops.index]
            if len(common) < 4:
                raise NotMeasurable(f"needs >= 4 models with time and operations at batch {b}")
            errors = pd.Series(loo_relative_errors(ops[common].to_numpy(), times[common].to_numpy()), index=common)
            est = bootstrap_models(np.median, errors.to_numpy())
            worst = errors.sort_values(ascending=False)
            text = (f"a network's per-image time predicted from its operations (the line through the other "
                    f"{len(common) - 1}) misses by a median {est.text('.2f')} of its time; largest "
                    + ", ".join(f"{m} {e:.2f}" for m, e in worst.iloc[:2].items())
                    + _left_out_note(ev, "latency_per_image"))
            findings.append(Finding(est, text, f"batch {b}, {basis}"))
    return findings


def c8b(ev: Evidence) -> list[Finding]:
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

def c9a(ev: Evidence) -> list[Finding]:
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
        # this run's throughput, but on reference accuracy only: the frontier's shape is the paper's top-1's
        reference_only = not (ev.accuracy.reindex(common)["source"] == "measured").any()
        findings.append(Finding(est, text, f"batch {b}", papers_values=reference_only,
                                library_values=_library_values(ev, common),
                                rests_on=("this run's throughput against reference top-1 only (the accuracy axis "
                                          "is the paper's" + (", and the library's metadata" if
                                                               _library_values(ev, common) else "") + ")")
                                if reference_only else ""))
    return findings


def c9d(ev: Evidence) -> list[Finding]:
    """Linear rather than concave: the frontier's R2 about the tightest line in images/s minus its R2 about
    the tightest line in log(images/s) (a concave frontier, accuracy rising with the log of the time
    saved), on the same points, with a Monte Carlo interval over the points' intervals. Fails where the
    frontier bends as a logarithm does."""
    t, lo, hi = _latency(ev)
    top1 = ev.top1()
    findings = []
    for b in _fig_batches(t):
        times = t[b].dropna()
        common = [m for m in times.index if m in top1.index]
        if len(common) < 3:
            raise NotMeasurable(f"needs >= 3 models with top-1 and time at batch {b}")
        models = pd.Index(common)
        accuracy = pd.Series(top1[common].to_numpy(dtype=float), index=models)

        def difference(ips: np.ndarray) -> tuple[float, float, float]:
            linear = linear_upper_bound(accuracy, pd.Series(ips, index=models))
            concave = linear_upper_bound(accuracy, pd.Series(np.log(ips), index=models))
            if linear.n_frontier < 3 or not (linear.slope < 0 and concave.slope < 0):
                return math.nan, linear.r2, concave.r2  # no trade-off: no frontier shape to compare
            return linear.r2 - concave.r2, linear.r2, concave.r2

        value, r2_lin, r2_log = difference((1.0 / times[common]).to_numpy())
        if not np.isfinite(value):
            raise NotMeasurable(f"fewer than 3 Pareto-optimal models at batch {b}, or no trade-off (a bound "
                                f"that does not fall): no frontier shape to compare")
        draws = 1.0 / lognormal_draws(times[common], lo.loc[common, b], hi.loc[common, b], seed=9)
        low, high = percentile_interval([difference(d)[0] for d in draws[:500]], min_finite=251)
        est = Estimate(value, float(low), float(high), "Monte Carlo (500) over the points' intervals; top-1 as given")
        text = (f"frontier R2 about the tightest line in images/s {r2_lin:.3f}, in log(images/s) {r2_log:.3f}: "
                f"difference {est.text('.3f')}; top-1: {_accuracy_source(ev, common)}")
        reference_only = not (ev.accuracy.reindex(common)["source"] == "measured").any()
        findings.append(Finding(est, text, f"batch {b}", papers_values=reference_only,
                                library_values=_library_values(ev, common),
                                rests_on="this run's throughput against reference top-1 only (the accuracy axis is "
                                         "the paper's)" if reference_only else ""))
    return findings


def c9b(ev: Evidence) -> list[Finding]:
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


def c9c(ev: Evidence) -> list[Finding]:
    """The size of the AlexNets' gain against the paper's +80 images/s: an absolute throughput, so ruled
    only on a Jetson TX1 (reported, not ruled, elsewhere)."""
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
    gains = 1 / t.loc[alex, b2] - 1 / t.loc[alex, b1]
    d1 = lognormal_draws(t.loc[alex, b1], lo.loc[alex, b1], hi.loc[alex, b1], seed=7)
    d2 = lognormal_draws(t.loc[alex, b2], lo.loc[alex, b2], hi.loc[alex, b2], seed=8)
    low, high = percentile_interval((1 / d2 - 1 / d1).mean(axis=1))
    est = Estimate(float(gains.mean()), low, high, f"Monte Carlo over the points' intervals; mean of {len(alex)}")
    text = (f"the AlexNets gain {est.text('.0f', 'images/s')} from batch {b1} to {b2} on average "
            f"(the paper: about +{paper_number('alexnet_gain_hz'):g} on the TX1)")
    why = ("" if ev.device and ev.device.is_tx1 else
           f"+{paper_number('alexnet_gain_hz'):g} images/s is the Jetson TX1's gain; on {ev.describe()} an "
           f"absolute throughput says nothing about it (reported, not ruled; C9b rules the gain's direction)")
    return [Finding(est, text, f"AlexNets, batch {b1} to {b2}", unmeasurable=why)]


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


def c11a(ev: Evidence) -> list[Finding]:
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


def c11_ratio(other: str) -> Callable[[Evidence], list[Finding]]:
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


