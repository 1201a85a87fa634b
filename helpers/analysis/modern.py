"""Since 2016: the paper's 14 networks beside the families that followed (lesson 8).

Everything lesson 8 computes lives here, so the notebook stays a sequence of
calls and figures: which models a lesson shows (the paper's 14, then any
other), their reference top-1 (the paper's, measured where stored,
torchvision's weights metadata for a library model) and which have none, the
Pareto frontiers of accuracy against operations, parameters and latency, the
accuracy-density ranking, and how much a profile asks of the measuring engine.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from helpers.analysis.fits import accuracy_density, pareto_mask
from helpers.core.reference import PAPER_MODELS

__all__ = ["ERA_PAPER", "ERA_SINCE", "lesson_models", "reference_accuracy", "missing_note", "era",
           "frontier", "frontiers", "latency_at", "density_ranking", "measuring_load", "profile_load",
           "same_network_pairs"]

ERA_PAPER = "the paper's 14 (2016)"
ERA_SINCE = "since 2016"


def lesson_models(models: Iterable[str] | str = ()) -> list[str]:
    """The paper's 14, then every other model of ``models`` (names or presets, as
    ``helpers.models.zoo.resolve_models``), in order and without duplicates."""
    from helpers.models.zoo import resolve_models

    extra = [s.name for s in resolve_models(models)] if models else []
    return list(PAPER_MODELS) + [m for m in dict.fromkeys(extra) if m not in PAPER_MODELS]


def reference_accuracy(results: pd.DataFrame | None, models: Iterable[str]) -> tuple[pd.DataFrame, list[str]]:
    """Top-1 per model (``helpers.analysis.accuracy.top1_for_claims`` with ``library=True``: measured where
    stored, the paper's, or torchvision's metadata ``acc@1`` for a library model), indexed by model,
    and the models of ``models`` that have none (timm models: timm ships no accuracy figure)."""
    from helpers.analysis.accuracy import top1_for_claims

    models = list(dict.fromkeys(models))
    frame = top1_for_claims(results if results is not None and len(results) else None, models, library=True)
    frame = frame.set_index("model")
    return frame, [m for m in models if m not in frame.index]


def missing_note(missing: Iterable[str], what: str) -> str:
    """A Markdown line naming the models left out of ``what`` for want of a reference top-1
    (empty when none is)."""
    missing = list(missing)
    if not missing:
        return ""
    return (f"Left out of {what}: {', '.join(missing)} (no reference top-1: not a paper model, and no "
            f"torchvision weights metadata with an ImageNet-1K `acc@1`, as for every timm model). "
            f"`python -m helpers evaluate` measures one.")


def era(models: Iterable[str]) -> pd.Series:
    """``ERA_PAPER`` for the paper's 14, ``ERA_SINCE`` for every other model."""
    models = list(models)
    return pd.Series([ERA_PAPER if m in PAPER_MODELS else ERA_SINCE for m in models],
                     index=pd.Index(models, name="model"), name="era")


def frontier(accuracy: pd.Series, cost: pd.Series) -> pd.DataFrame:
    """The Pareto frontier of accuracy (higher is better) against a cost (lower is better).

    Both Series are indexed by model; models missing either are left out.
    Columns ``top1_pct``, ``cost``, ``on_frontier`` (no other model is at least as
    accurate and at most as costly, and better in one: ``helpers.analysis.fits.pareto_mask``
    with speed = -cost) and ``era``; sorted by cost.
    """
    frame = pd.concat({"top1_pct": pd.to_numeric(accuracy, errors="coerce"),
                       "cost": pd.to_numeric(cost, errors="coerce")}, axis=1).dropna()
    frame = frame[frame["cost"] > 0].sort_values(["cost", "top1_pct"], ascending=[True, False])
    frame["on_frontier"] = pareto_mask(-frame["cost"].to_numpy(), frame["top1_pct"].to_numpy())
    frame["era"] = era(frame.index)
    frame.index.name = "model"
    return frame


def latency_at(results: pd.DataFrame | None, models: Iterable[str], batch_size: int = 1,
               device_tag: str | None = None) -> tuple[pd.Series, list[str], str]:
    """Per-image time (s) at ``batch_size`` of the ``models`` the store holds for
    ``device_tag``, the models without one, and a Markdown sentence saying which
    are missing and why (empty when none is)."""
    from helpers.analysis.evidence import metric_table

    models = list(models)
    table = (metric_table(results, "latency_per_image", device_tag)
             if results is not None and len(results) else pd.DataFrame())
    times = (table[batch_size].reindex(models).dropna() if batch_size in getattr(table, "columns", [])
             else pd.Series(dtype=float))
    missing = [m for m in models if m not in times.index]
    if not missing:
        return times, missing, ""
    where = f" on {device_tag}" if device_tag else ""
    why = (f"no per-image time at batch {batch_size} is stored{where} for {len(missing)} of {len(models)} models "
           f"({', '.join(missing)}): they were not measured on this machine")
    hint = (" (`make reproduce PROFILE=modern` measures the networks since 2016, `PROFILE=quick` the paper's; "
            "or `python -m helpers measure --models NAMES --batch-sizes 1,16`)")
    return times, missing, why[0].upper() + why[1:] + hint + ". The latency frontier shows the others."


def frontiers(accuracy: pd.Series, counts: pd.DataFrame, latency_s: pd.Series | None = None) -> dict[str, pd.DataFrame]:
    """The accuracy frontiers lesson 8 draws: against operations (``gops``, groups honoured),
    parameters (``params_m``) and, where any model is timed, per-image latency (ms).
    ``counts`` is indexed by model."""
    out = {"operations": frontier(accuracy, counts["gops"]), "parameters": frontier(accuracy, counts["params_m"])}
    if latency_s is not None and len(latency_s):
        out["latency"] = frontier(accuracy, latency_s.astype(float) * 1000)
    return out


def density_ranking(accuracy: pd.Series, params_m: pd.Series) -> pd.DataFrame:
    """Accuracy density (top-1 % per million parameters) ranked, with each model's ``era``."""
    ranked = accuracy_density(accuracy, params_m)
    ranked["era"] = era(ranked.index)
    return ranked


def measuring_load(counts: pd.DataFrame, batch_sizes: Iterable[int]) -> dict[str, float]:
    """What a sweep asks of the engine: ``points`` (models x batch sizes) and ``gmac_images``
    (the sum over models of GMACs x the sum of the batch sizes: one forward pass per point).
    ``counts``: ``helpers.counting.table.count_table`` (column ``gmacs``)."""
    batch_sizes = list(batch_sizes)
    gmacs = pd.to_numeric(counts["gmacs"], errors="coerce").to_numpy(dtype=float)
    return {"models": float(len(gmacs)), "points": float(len(gmacs) * len(batch_sizes)),
            "gmac_images": float(np.nansum(gmacs) * sum(batch_sizes))}


def profile_load(name: str) -> dict[str, float]:
    """``measuring_load`` of a profile of ``helpers.measure.profiles.PROFILES`` (its models counted)."""
    from helpers.counting.table import count_table
    from helpers.measure.profiles import get_profile

    prof = get_profile(name)
    return measuring_load(count_table(list(prof.models), thop=False, progress=False), prof.batch_sizes)


def same_network_pairs(models: Iterable[str]) -> list[tuple[str, str]]:
    """Pairs of ``models`` that are one network under two names: the same builder (``ModelSpec.source``)
    at the same input size (the paper's ``ResNet-50`` and torchvision's ``resnet50``), in the given order."""
    from helpers.models.zoo import resolve_models

    specs = resolve_models(list(models))
    seen: dict[tuple[str, int], str] = {}
    pairs = []
    for spec in specs:
        key = (spec.source, spec.input_size)
        if key in seen:
            pairs.append((seen[key], spec.name))
        else:
            seen[key] = spec.name
    return pairs
