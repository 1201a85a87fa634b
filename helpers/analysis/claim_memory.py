"""The memory parts' statistics (C5: peak memory against batch size; C6: static memory against parameter
memory): ``Evidence -> [Finding]``, one function per part, as helpers.analysis.claim_statistics does for
the others, whose helpers these share."""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import pandas as pd

from helpers.analysis.claim_statistics import (Finding, NotMeasurable, _measured, _paper_only, _rising_r2,
                                               _stated)
from helpers.analysis.evidence import Evidence
from helpers.analysis.fits import bootstrap_models, linear_fit
from helpers.core.reference import paper_number
from helpers.core.stats import Estimate, wilson_share

__all__ = ["C5_LINE_R2", "C5_STATIC_SHARE", "C6_FLAT_SLOPE", "C6_SLOPE_TOLERANCE", "C6_MIN_MODELS",
           "c5a", "c5b", "c6a", "c6b", "c6c", "c6d"]

#: Per model, peak memory against batch size is "a line" when one explains this share (C5a).
C5_LINE_R2 = 0.95
#: Batch 1's peak memory is "mostly static" when the static share is at least this (C5b).
C5_STATIC_SHARE = 0.5
#: C6c: static memory "sits on a floor" below 100 MB of parameters when it rises less than this many MB per
#: MB of parameters there (a model's own weights alone rise 1 MB per MB).
C6_FLAT_SLOPE = 0.5
#: C6d: the slope above the floor is "about 1.30" when within this share of it (1.04 to 1.56: the weights
#: alone, 1.0 MB per MB, are not "about 1.30").
C6_SLOPE_TOLERANCE = 0.2
#: C6b's line needs this many models above the floor's threshold.
C6_MIN_MODELS = 5


# ================================================================== C5, C6: memory

def _memory(ev: Evidence, metric: str) -> pd.DataFrame:
    return _measured(ev, metric, "memory per model and batch size (Figs 5, 6)")


def c5a(ev: Evidence) -> list[Finding]:
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


def c5b(ev: Evidence) -> list[Finding]:
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


def c6a(ev: Evidence) -> list[Finding]:
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


def c6b(ev: Evidence) -> list[Finding]:
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


_C6_BASES = (("absolute_mb", "absolute process memory"), ("static_mb", "net of the framework's baseline"))


def _slopes(ev: Evidence, models: pd.DataFrame, fewest: int, text: Callable[[Estimate, pd.Series], str]
            ) -> list[Finding]:
    """Per basis of :data:`_C6_BASES`: the slope of static against parameter memory over ``models`` (rows of
    ``_fig6_points``), bootstrapped over them; a basis with fewer than ``fewest`` readings is not measured."""
    findings = []
    for column, basis in _C6_BASES:
        values = models[column].dropna()
        if len(values) < fewest:
            findings.append(Finding(Estimate(math.nan), "not measured", basis,
                                    unmeasurable="no process baseline recorded with the static memory"))
            continue
        x = models.loc[values.index, "param_mb"].to_numpy()
        est = bootstrap_models(lambda a, b: linear_fit(a, b).slope, x, values.to_numpy())
        findings.append(Finding(est, text(est, values), basis))
    return findings


def c6c(ev: Evidence) -> list[Finding]:
    """The paper's floor as a shape: below 100 MB of parameters static memory is flat (its slope against
    parameter memory under C6_FLAT_SLOPE), on absolute and on net memory. Fails where the small models'
    static memory follows their parameters, as a framework that allocates only the weights gives."""
    _paper_only(ev, "static memory per model")
    pts = _fig6_points(ev)
    limit = paper_number("static_floor_threshold_mb")
    small = pts[pts["param_mb"] < limit]
    if len(small) < 4:
        raise NotMeasurable(f"needs >= 4 models with under {limit:g} MB of parameters; this run has {len(small)}")

    def text(est: Estimate, values: pd.Series) -> str:
        shape = ("flat: a floor" if est.value < C6_FLAT_SLOPE else
                 "rising with the parameters: no floor (static memory follows the parameters on this device)")
        return (f"below {limit:g} MB of parameters ({len(values)} models) static memory rises "
                f"{est.text('.2f')} MB per MB of parameters, {shape}; from {values.min():.0f} to "
                f"{values.max():.0f} MB (the paper: flat at {paper_number('static_floor_mb'):g} MB)")

    return _slopes(ev, small, 4, text)


def c6d(ev: Evidence) -> list[Finding]:
    """The paper's slope above the floor, 1.30 MB per MB, against this device's, on absolute and net memory."""
    _paper_only(ev, "static memory per model")
    pts = _fig6_points(ev)
    limit = paper_number("static_floor_threshold_mb")
    big = pts[pts["param_mb"] >= limit]
    if len(big) < C6_MIN_MODELS:
        raise NotMeasurable(f"needs >= {C6_MIN_MODELS} models with >= {limit:g} MB of parameters; this run has "
                            f"{len(big)}")

    def text(est: Estimate, values: pd.Series) -> str:
        return (f"above {limit:g} MB of parameters ({len(values)} models) static memory rises {est.text('.2f')} MB "
                f"per MB of parameters (the paper: {paper_number('static_slope'):.2f}; the weights alone: 1.00)")

    return _slopes(ev, big, C6_MIN_MODELS, text)
