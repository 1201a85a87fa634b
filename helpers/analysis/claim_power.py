"""The power and energy parts' statistics (C4: power against batch size; C7: one power footprint, whatever
the operations; C10: energy as a budget): ``Evidence -> [Finding]``, one function per part, as
helpers.analysis.claim_statistics does for the others, whose helpers these share. Without a power sensor
every one is "not measurable here", with the store's reason."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from helpers.analysis.claim_statistics import Finding, NotMeasurable, _count_bases, _measured, _rising_r2
from helpers.analysis.evidence import Evidence, at_largest_batch
from helpers.analysis.fits import (bootstrap_models, energy_accuracy_bound, linear_fit, lognormal_draws,
                                   percentile_interval, r2_of)
from helpers.core.stats import Estimate, wilson_share

__all__ = ["C4B_LOWER", "C4B_EXCEPTIONS", "C7B_ELASTICITY", "c4a", "c4b", "c7a", "c7b", "c10a", "c10b", "c10c"]


def _power(ev: Evidence, metric: str = "power_net") -> pd.DataFrame:
    return _measured(ev, metric, "net power per model and batch size (Figs 4, 8)")


def c4a(ev: Evidence) -> list[Finding]:
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


#: C4b: "less power" is at least 10 % below the network's power at its larger batches.
C4B_LOWER = 0.9


#: C4b: the paper's exceptions to flat power (Sec 3.3, Fig 4): each network and the batch it draws less at.
C4B_EXCEPTIONS: tuple[tuple[str, int], ...] = (("AlexNet", 1), ("VGG-16", 2), ("VGG-19", 2))


def c4b(ev: Evidence) -> list[Finding]:
    """The paper's exceptions to flat power (Sec 3.3, Fig 4): AlexNet at batch 1 and VGG at batch 2 draw less
    net power than at their larger batches. Statistic, per exception: the network's net power at that batch over
    the median of its net power at the batches above it, with a Monte Carlo interval from the points' own
    intervals. Fails where that batch draws as much as the larger ones."""
    table = _power(ev)
    low, high = ev.table("power_net", "ci_low"), ev.table("power_net", "ci_high")
    findings, lacking = [], []
    for model, b in C4B_EXCEPTIONS:
        row = table.loc[model].dropna() if model in table.index else pd.Series(dtype=float)
        above = [c for c in row.index if c > b]
        if b not in row.index or len(above) < 2:
            lacking.append(f"{model} at batch {b} and >= 2 larger batches")
            continue
        batches = [b, *above]
        draws = lognormal_draws([row[c] for c in batches], [low.at[model, c] for c in batches],
                                [high.at[model, c] for c in batches])
        ratios = draws[:, 0] / np.median(draws[:, 1:], axis=1)
        lo, hi = percentile_interval(ratios)
        value = float(row[b] / np.median(row[above].to_numpy(float)))
        est = Estimate(value, lo, hi, "Monte Carlo over the points' intervals")
        text = (f"{model} draws {row[b]:.2f} W net at batch {b} against a median {np.median(row[above]):.2f} W at "
                f"batches {above[0]} to {above[-1]}: {est.text('.2f')} of it")
        findings.append(Finding(est, text, f"{model}, batch {b}"))
    if not findings:
        raise NotMeasurable(f"needs the net power of {'; '.join(lacking)}")
    return findings


def c7a(ev: Evidence) -> list[Finding]:
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


#: C7b: power independent of operations when a tenfold range of operations changes it by under 26 %
#: (the elasticity of net power in operations, d log P / d log G-ops, within +-0.1).
C7B_ELASTICITY = 0.1


def _log_slope(x: np.ndarray, y: np.ndarray) -> float:
    return linear_fit(np.log(x), np.log(y)).slope


def c7b(ev: Evidence) -> list[Finding]:
    """Net power at each model's largest batch against its operations (Fig 8): the slope of log power on log
    operations, bootstrapped over models. Fails where power scales with operations (a slope of 0.5: a tenfold
    range of operations changes power 3.2x)."""
    full = at_largest_batch(_power(ev)).dropna()
    findings = []
    for column, basis in _count_bases(ev, "gops", "gops_published"):
        ops = ev.ops(column)
        common = [m for m in full.index if m in ops.index and full[m] > 0 and ops[m] > 0]
        if len(common) < 3:
            raise NotMeasurable(f"needs positive net power and operations of >= 3 models; this run has {len(common)}")
        x, y = ops[common].to_numpy(float), full[common].to_numpy(float)
        est = bootstrap_models(_log_slope, x, y)
        text = (f"net power at the largest batch against operations over {len(common)} models: d log P / d log "
                f"G-ops {est.text('.3f')} (a tenfold range of operations changes power {10 ** est.value:.2f}x), "
                f"from {y.min():.2f} to {y.max():.2f} W")
        findings.append(Finding(est, text, basis))
    return findings


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


def c10a(ev: Evidence) -> list[Finding]:
    e, s = _energy_time(ev)
    fit = linear_fit(s.to_numpy(), e.to_numpy())
    est = bootstrap_models(r2_of, s.to_numpy(), e.to_numpy())
    if not fit.slope > 0:
        est = Estimate(-abs(est.value), method=est.method + "; slope <= 0")
    text = (f"energy per image against per-image time: slope {fit.slope:.3g} W (the effective power), "
            f"R2 {est.text('.3f')}, n={fit.n}")
    return [Finding(est, text)]


def c10b(ev: Evidence) -> list[Finding]:
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


def c10c(ev: Evidence) -> list[Finding]:
    """An energy budget bounds operations (Sec 3.7): R2 of a network's operations against its energy per image
    (each at its largest batch with both), bootstrapped over models, -R2 where operations do not rise with
    energy. Fails where the energy a network needs says little about its operations: power or speed per
    operation that varies between networks (an R2 under 0.8, or a falling line)."""
    e, _ = _energy_time(ev)
    findings = []
    for column, basis in _count_bases(ev, "gops", "gops_published"):
        ops = ev.ops(column)
        common = [m for m in e.index if m in ops.index]
        if len(common) < 3:
            raise NotMeasurable(f"needs energy per image and operations of >= 3 models; this run has {len(common)}")
        x, y = e[common].to_numpy(float), ops[common].to_numpy(float)
        est = bootstrap_models(_rising_r2, x, y)
        fit = linear_fit(x, y)
        text = (f"operations against energy per image over {len(common)} models: R2 {est.text('.3f')}, slope "
                f"{fit.slope:.3g} G-ops per J (operations a joule buys)")
        findings.append(Finding(est, text, basis))
    return findings
