"""Sentences of the lessons that depend on the data, built from the same calls as the figures.

A lesson never states as fact what its run may contradict: where a lesson
comments on its results (the batch speed-up, the memory shape, where a CPU
disagrees with the TX1, a point that looks wrong), the sentence comes from
here, from the claims table and the measured tables, and an explanation is
shown only beside the verdict it explains. Every function returns Markdown.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from helpers.analysis.claims import DOES_NOT_HOLD, HOLDS, INCONCLUSIVE, NOT_MEASURABLE, PAPERS_VALUES

__all__ = ["verdict_lines", "time_outliers", "speedup_summary", "memory_summary", "knee_summary", "twins_summary", "verdict_changes", "latency_notice", "memory_notice",
           "density_notice", "fraction_notice", "disagreements", "EXPLANATIONS", "explanation", "device_kind", "claims_markdown",
           "verdict_summary"]

#: Why a part may come out differently from the paper, keyed by (part, verdict): shown only when this run's
#: verdict is that one. A text that holds for one kind of device only is a dict {device kind: text} (kinds:
#: :func:`device_kind`), shown only on that kind.
EXPLANATIONS: dict[tuple[str, str], str | dict[str, str]] = {
    ("C3a", DOES_NOT_HOLD): {"cpu": "a CPU's cores are already busy at batch 1 for large convolutions, so a bigger "
                                    "batch only adds work; the TX1's GPU was starved at batch 1 for every network"},
    ("C3b", HOLDS): "whether AlexNet's fully connected layers are why it gains more is C3e's question, ruled on "
                    "its layers' own times",
    ("C3b", DOES_NOT_HOLD): "here AlexNet gains no more from batching than the convolution-only networks do",
    ("C3e", HOLDS): "batching turns a fully connected layer's matrix-vector products into matrix-matrix products, "
                    "which reuse each weight for every image: the paper's explanation, measured on this device's "
                    "layers",
    ("C3e", DOES_NOT_HOLD): "here AlexNet's fully connected layers gain no more from batching than its convolutions: "
                            "the paper's explanation does not carry over to this device",
    ("C5a", HOLDS): "peak memory is the static allocation plus a per-image term: a straight line in batch size, "
                    "which on log axes looks flat and then rising (the paper's knee)",
    ("C6a", DOES_NOT_HOLD): "the paper's 200 MB floor was the framework's (Torch7, the CUDA context and cuDNN on "
                            "the TX1), not the model's: net of this framework's baseline, small networks need less",
    ("C6b", HOLDS): "static memory follows the parameters: the weights are most of what a loaded model holds",
    ("C8b", INCONCLUSIVE): "the two slopes are too close to tell apart on this run: the interval of their "
                           "difference holds 0",
    ("C8b", DOES_NOT_HOLD): "on this device batching does not make the arithmetic faster per operation",
    ("C4a", NOT_MEASURABLE): "without a power sensor a user can read there is no power figure, and no figure is never 0 W",
    ("C7a", NOT_MEASURABLE): "without a power sensor a user can read there is no power figure, and no figure is never 0 W",
    ("C1", PAPERS_VALUES): "no measured top-1 is stored: `python -m helpers evaluate` measures one",
}


def device_kind(device_tag: str) -> str:
    """``cpu``, ``jetson`` or ``gpu``: the kind of device a tag names (helpers.store.machine.device_tag), for
    explanations that hold on one kind only; "" for a tag of none of them."""
    tag = str(device_tag or "").lower()
    if tag.startswith("cpu-"):
        return "cpu"
    if "jetson" in tag or "tegra" in tag or "tx1" in tag:
        return "jetson"
    if tag.startswith(("cuda-", "gpu-")):
        return "gpu"
    return ""


def explanation(claim: str, verdict: str, device_tag: str) -> str | None:
    """The explanation of ``verdict`` for ``claim`` on this kind of device, or None."""
    text = EXPLANATIONS.get((claim, verdict))
    if isinstance(text, dict):
        return text.get(device_kind(device_tag))
    return text


def _part_rows(claims: pd.DataFrame, parts: Iterable[str]) -> pd.DataFrame:
    parts = list(parts)
    rows = claims[claims["claim"].isin(parts) | claims["claim"].str.rstrip("abcdefgh").isin(parts)]
    return rows


def _sentence(text: str) -> str:
    text = str(text).strip()
    return (text[0].upper() + text[1:]).rstrip(".") + "." if text else ""


def verdict_lines(claims: pd.DataFrame, parts: Iterable[str]) -> str:
    """One bullet per row of ``parts`` (ids or claims): verdict, what this run shows, why,
    and the explanation of that verdict where there is one."""
    rows = _part_rows(claims, parts)
    if rows.empty:
        return "No claims to show for this run."
    lines = []
    for r in rows.itertuples():
        basis = f" ({r.basis})" if r.basis else ""
        explain = explanation(r.claim, r.verdict, r.device_tag)
        shows = r.reason if r.verdict == NOT_MEASURABLE else r.this_run
        lines.append(f"- **{r.claim}**{basis} ({r.claim_text}): **{r.verdict}** on {r.device_tag or r.device}. "
                     f"{_sentence(shows)}" + (f" {_sentence(explain)}" if explain else ""))
    return "\n".join(lines)


def time_outliers(latency: pd.DataFrame, ops: pd.Series, batch_size: int = 1,
                  ops_ratio: float = 2.0, slower_by: float = 1.5) -> str:
    """Pairs of networks whose per-image times (s) at ``batch_size`` contradict their operations:
    one has at most 1/``ops_ratio`` of the other's operations yet takes ``slower_by`` times as
    long or more. Such a point is worth re-measuring before it is read (another process, a
    throttled core, a wrong build); milder inversions are what Fig 7's scatter is about."""
    if batch_size not in latency.columns:
        return f"No per-image times at batch {batch_size}."
    t = latency[batch_size].dropna()
    common = [m for m in t.index if m in ops.index]
    found = [f"{a} takes {t[a] * 1000:.1f} ms per image at batch {batch_size}, {t[a] / t[b]:.1f}x as long as {b} "
             f"({t[b] * 1000:.1f} ms), which has {ops[b] / ops[a]:.1f}x its operations"
             for a in common for b in common if ops[a] * ops_ratio <= ops[b] and t[a] >= slower_by * t[b]]
    if not found:
        return (f"No network takes {slower_by:g}x as long at batch {batch_size} as one with {ops_ratio:g}x its "
                f"operations or more: no point contradicts the arithmetic that grossly.")
    return ("Worth a second look before reading on (re-measure with `--force` on a quiet machine):\n"
            + "\n".join(f"- {s}" for s in found))


def speedup_summary(claims: pd.DataFrame) -> str:
    """Lesson 4's closing sentences: every part of C3 on this run, with their explanations."""
    return verdict_lines(claims, ["C3"])


def memory_summary(claims: pd.DataFrame) -> str:
    """Lesson 5's closing sentences: C5 and C6 on this run, with their explanations."""
    return verdict_lines(claims, ["C5", "C6"])


def knee_summary(knees: pd.DataFrame, static_mb: pd.Series) -> str:
    """What to notice in Lesson 5's knee table (``helpers.analysis.fits.Knee`` rows by model): how many
    networks' peak memory bends (the knee beats a straight line), and what ``flat_peak_mb`` is, shown on
    the network whose fitted flat peak lies furthest above its measured static memory (``static_mb``, MB)."""
    if knees is None or not len(knees):
        return "No knee fitted: each network needs peak memory at 4 batch sizes or more."
    bends = knees.index[knees["beats_line"].astype(bool)].tolist()
    text = (f"The knee beats a single straight line for {len(bends)} of {len(knees)} networks"
            + (f" ({', '.join(bends)})" if bends else "") + "; for the others a single straight line in the batch "
            "size fits as well, and the fitted 'knee' is only where the hinge fits best.")
    both = knees["flat_peak_mb"].astype(float).to_frame().join(static_mb.rename("static_mb"), how="inner").dropna()
    if len(both):
        ratio = both["flat_peak_mb"] / both["static_mb"]
        m = ratio.idxmax()
        text += (f" `flat_peak_mb` is the fitted peak at and below the knee batch, static memory plus those batches' "
                 f"activations, not static memory: for {m} it is {both.at[m, 'flat_peak_mb']:.1f} MB against a "
                 f"measured static memory of {both.at[m, 'static_mb']:.1f} MB.")
    return text


def _ends(table: pd.DataFrame) -> tuple[pd.DataFrame, int, int, pd.DataFrame]:
    """A models x batch sizes table without empty rows, its smallest and largest batch, and the rows measured
    at both."""
    table = table.dropna(how="all")
    if table.empty:
        return table, 0, 0, table
    first, last = min(table.columns), max(table.columns)
    return table, first, last, table[[first, last]].dropna()


def latency_notice(latency: pd.DataFrame) -> str:
    """What to notice in a per-image time table (s; models x batch sizes): the fastest and slowest network at
    the smallest batch, and for how many networks per-image time falls from the smallest to the largest batch."""
    table, first, last, both = _ends(latency)
    if table.empty:
        return "No per-image times to read."
    at = table[first].dropna()
    text = (f"At batch {first}, {at.idxmin()} is fastest ({1e3 * at.min():.1f} ms per image) and {at.idxmax()} "
            f"slowest ({1e3 * at.max():.1f} ms), {at.max() / at.min():.0f}x apart.")
    if last != first and len(both):
        falls = both.index[both[last] < both[first]].tolist()
        text += (f" From batch {first} to {last}, per-image time falls for {len(falls)} of {len(both)} networks"
                 + (f" ({', '.join(falls)})" if 0 < len(falls) <= 4 else "") + " and rises for the others: "
                 "compare that with the paper's Fig 3, where it fell for every network.")
    return text


def memory_notice(peak: pd.DataFrame) -> str:
    """What to notice in a peak-memory table (MB; models x batch sizes): the largest and smallest network at
    the largest batch, and how many times its batch-1 peak the median network needs there."""
    table, first, last, both = _ends(peak)
    if table.empty:
        return "No peak memory to read."
    at = table[last].dropna()
    text = (f"At batch {last}, {at.idxmax()} needs the most memory ({at.max():.0f} MB above the process's baseline) "
            f"and {at.idxmin()} the least ({at.min():.0f} MB).")
    if last != first and len(both):
        growth = both[last] / both[first]
        text += (f" From batch {first} to {last} the median network's peak grows {growth.median():.1f}x (from "
                 f"{growth.min():.1f}x for {growth.idxmin()} to {growth.max():.1f}x for {growth.idxmax()}): the more "
                 f"a network's peak is weights, the less the batch adds.")
    return text


def density_notice(density: pd.Series, era: pd.Series | None = None, top: int = 4) -> str:
    """What to notice in an accuracy-density ranking (% top-1 per M parameters, by model): the densest and
    the least dense network and their ratio, and, with ``era`` (by model), the era of the ``top`` densest."""
    d = density.dropna().sort_values(ascending=False)
    if d.empty:
        return "No accuracy density to read."
    text = (f"{d.index[0]} is densest ({d.iloc[0]:.2f} % per M parameters) and {d.index[-1]} least dense "
            f"({d.iloc[-1]:.2f}), {d.iloc[0] / d.iloc[-1]:.0f}x apart.")
    if era is not None:
        eras = era.reindex(d.index[:top]).dropna()
        counts = eras.value_counts()
        text += " The " + str(len(eras)) + " densest: " + ", ".join(f"{n} {e}" for e, n in counts.items()) + "."
    return text


def fraction_notice(fraction: pd.DataFrame) -> str:
    """What to notice in a fraction-of-peak table (%; models x batch sizes): the networks nearest and furthest
    from the peak at the smallest batch, and the batch at which the median network is nearest it."""
    table = fraction.dropna(how="all")
    if table.empty:
        return "No point on the roofline to read."
    first = min(table.columns)
    at = table[first].dropna()
    median = table.median()
    best = int(median.idxmax())
    after = ("the largest batch measured, so whether a larger one would gain more is not known"
             if best == max(table.columns) else "beyond it, the larger batches measured here buy nothing")
    return (f"At batch {first}, {at.idxmax()} gets nearest the fp32 peak ({at.max():.0f} %) and {at.idxmin()} is "
            f"furthest ({at.min():.0f} %). Over the networks, the median fraction is highest at batch "
            f"{best} ({median.max():.0f} %): {after}.")


def _ms(row) -> str:
    return f"{1e3 * row.value:.1f} ms [{1e3 * row.ci_low:.1f}, {1e3 * row.ci_high:.1f}]"


def twins_summary(points: pd.DataFrame, pairs: Iterable[tuple[str, str]], batch_size: int = 1) -> str:
    """What to notice where one network is timed under two names (``pairs``, e.g.
    ``helpers.analysis.modern.same_network_pairs``): both per-image times with their 95 % intervals
    (``points``: ``helpers.analysis.evidence.point_table`` rows, s) and whether the intervals overlap."""
    at = points[points["batch_size"] == batch_size].set_index("model") if len(points) else pd.DataFrame()
    lines = []
    for a, b in pairs:
        if a not in at.index or b not in at.index:
            continue
        ra, rb = at.loc[a], at.loc[b]
        overlap = ra.ci_low <= rb.ci_high and rb.ci_low <= ra.ci_high
        lines.append(f"{a} and {b} are one network (the same code and input size) timed as two points at batch "
                     f"{batch_size}: {_ms(ra)} and {_ms(rb)}. "
                     + ("Their intervals overlap: the difference is within what re-measuring gives."
                        if overlap else "Their intervals do not overlap: the machine moved between the two "
                                        "measurements by more than each interval allows, a reminder that an "
                                        "interval describes its own windows, not every later run."))
    return " ".join(lines) or "No network is timed under two names here."


def verdict_changes(before: pd.DataFrame, after: pd.DataFrame, before_name: str, after_name: str) -> str:
    """What to notice between two claims tables of one device on two model sets: the parts whose verdict
    changes, each with both estimates (Markdown); or a sentence saying none changes."""
    key = ["claim", "basis"]
    both = before[key + ["verdict", "estimate"]].merge(after[key + ["verdict", "estimate"]], on=key,
                                                          suffixes=("_before", "_after"))
    changed = both[both["verdict_before"] != both["verdict_after"]]
    if changed.empty:
        return f"No part of these claims changes its verdict between {before_name} and {after_name}."
    lines = [f"- **{r.claim}** ({r.basis}): {r.verdict_before} on {before_name} ({r.estimate_before:.3g}), "
             f"**{r.verdict_after}** on {after_name} ({r.estimate_after:.3g})" for r in changed.itertuples()]
    return (f"{len(changed)} of {len(both)} parts change their verdict between {before_name} and {after_name}:\n"
            + "\n".join(lines))


def disagreements(claims: pd.DataFrame) -> str:
    """Lesson 7's closing: every part whose verdict differs from the paper's (which holds them
    all), with what this run shows and, where known, why; or a sentence saying none differs."""
    differ = claims[claims["verdict"] != HOLDS]
    if differ.empty:
        return "Every part holds on this run, as in the paper."
    return verdict_lines(differ, list(dict.fromkeys(differ["claim"])))


def _interval_text(row) -> str:
    if not np.isfinite(row.estimate):
        return ""
    if np.isfinite(row.ci_low) and np.isfinite(row.ci_high):
        return f"{row.estimate:.3g} [{row.ci_low:.3g}, {row.ci_high:.3g}]"
    return f"{row.estimate:.3g}"


def claims_markdown(table: pd.DataFrame) -> str:
    """The claims table as Markdown: part, basis, device, the paper, this run, the statistic
    with its 95 % interval, verdict, whether it survives its threshold moved by 25 % each way, and reason."""
    lines = ["| claim | basis | device | the paper | this run | estimate [95 % interval] | verdict | "
             "threshold +-25 % | reason |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in table.itertuples():
        cells = [row.claim, row.basis, row.device or row.device_tag, row.paper, row.this_run, _interval_text(row),
                 f"**{row.verdict}**", getattr(row, "robust", ""), row.reason]
        lines.append("| " + " | ".join(str(c).replace("|", "/").replace("\n", " ") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def verdict_summary(claims: pd.DataFrame) -> str:
    """One paragraph: how many of the table's rows came out each way, naming the parts (a part ruled on
    several bases is named under each verdict it got, with those bases in brackets)."""
    if claims.empty:
        return "No claims were ruled."
    parts = list(dict.fromkeys(claims["claim"]))
    pieces = []
    for verdict in (HOLDS, DOES_NOT_HOLD, INCONCLUSIVE, NOT_MEASURABLE, PAPERS_VALUES):
        rows = claims[claims["verdict"] == verdict]
        if rows.empty:
            continue
        names = []
        for claim, group in rows.groupby("claim", sort=False):
            every = claims[claims["claim"] == claim]
            names.append(claim if len(group) == len(every) else
                         f"{claim} [{'; '.join(b for b in group['basis'] if b)}]")
        pieces.append(f"{verdict}, {len(rows)} row{'s' if len(rows) != 1 else ''}: {', '.join(names)}")
    return (f"The {len(parts)} parts of the paper's claims are ruled in {len(claims)} rows (a part ruled on several "
            f"bases, such as both counts or both batch ranges, has a row for each). " + ". ".join(
                p[0].upper() + p[1:] for p in pieces) + ".")
