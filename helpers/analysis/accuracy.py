"""Measured accuracy read back from the results store, and the top-1 that claims and figures use:
measured where stored (helpers.measure.accuracy.evaluate_checkpoint), the paper's otherwise, labelled
by source.
"""
from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd

from helpers.core.lists import split_list
from helpers.core.reference import PAPER_MODELS, paper_models
from helpers.measure.accuracy import evaluation_details, evaluation_identity
from helpers.models.weights import library_top1

__all__ = ["MEASURED_COLUMNS", "measured_accuracy", "top1_for_claims"]

#: Columns of :func:`top1_for_claims`.
CLAIMS_TOP1_COLUMNS: tuple[str, ...] = ("model", "top1_pct", "ci_low", "ci_high", "n_images", "source", "label")


#: Columns of :func:`measured_accuracy` (indexed by ``model``).
MEASURED_COLUMNS: tuple[str, ...] = (
    "top1_pct", "top1_ci_low", "top1_ci_high", "top5_pct", "top5_ci_low", "top5_ci_high",
    "n_images", "checkpoint_sha256", "data", "device_tag", "label",
)


_FLOAT_MEASURED = ("top1_pct", "top1_ci_low", "top1_ci_high", "top5_pct", "top5_ci_low", "top5_ci_high")


def _typed_measured(rows: list[dict], index: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, index=pd.Index(index, name="model", dtype=object),
                         columns=list(MEASURED_COLUMNS))
    for column in _FLOAT_MEASURED:
        frame[column] = frame[column].astype("float64")
    frame["n_images"] = frame["n_images"].astype("Int64")
    for column in ("checkpoint_sha256", "data", "device_tag", "label"):
        frame[column] = frame[column].astype(object)
    return frame


def _model_order(models: Iterable[str]) -> list[str]:
    """The paper's models in the paper's order, then the others alphabetically."""
    models = list(dict.fromkeys(models))
    paper = [m for m in PAPER_MODELS if m in models]
    return paper + sorted(m for m in models if m not in PAPER_MODELS)


def _chronological(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows by timestamp, ties kept in frame order (the store appends in time order)."""
    return rows.iloc[rows["timestamp"].astype(str).to_numpy().argsort(kind="stable")]


def measured_accuracy(results: pd.DataFrame | None) -> pd.DataFrame:
    """Measured top-1/top-5 (percent) per model, from a results frame (``load_results``).

    One row per model with an ``ok`` ``top1`` row, indexed by ``model`` (the
    paper's models first, in its order); several evaluations of a model (other
    checkpoints, folders, devices): the latest by timestamp wins (ties: the
    later row of the frame). Its ``top5`` is the top5 row of the same key and
    the same evaluation (``IDENTITY_FIELDS``), NaN if there is none.
    Columns: ``MEASURED_COLUMNS``: ``top1_pct``, ``top1_ci_low``,
    ``top1_ci_high``, ``top5_pct``, ``top5_ci_low``, ``top5_ci_high`` (95 %
    Wilson intervals), ``n_images`` (Int64), ``checkpoint_sha256`` (its first
    12 hex digits), ``data`` (folder), ``device_tag`` and ``label`` (e.g.
    "measured: 5,000 images, 95 % Wilson interval"). Empty with those
    columns when there is none.
    """
    if results is None or len(results) == 0 or not {"metric", "status", "model"} <= set(results.columns):
        return _typed_measured([], [])
    ok = results[results["status"] == "ok"]
    top1 = _chronological(ok[ok["metric"] == "top1"])
    top5 = _chronological(ok[ok["metric"] == "top5"])
    latest: dict[str, pd.Series] = {}
    for _, row in top1.iterrows():
        latest[row["model"]] = row  # chronological: the last one wins
    index, rows = [], []
    for model in _model_order(latest):
        row = latest[model]
        details = evaluation_details(row["details"])
        partners = top5[(top5["model"] == model) & (top5["device_tag"] == row["device_tag"])
                        & (top5["fingerprint"] == row["fingerprint"])]
        partners = [p for _, p in partners.iterrows() if evaluation_identity(p["details"]) == evaluation_identity(details)]
        partner = partners[-1] if partners else None
        n = row["n"] if not pd.isna(row["n"]) else details.get("n_images")
        n = None if n is None or pd.isna(n) else int(n)
        label = f"measured: {n:,} images, 95 % Wilson interval" if n is not None else "measured"
        k = details.get("top5_k")
        if isinstance(k, int) and k < 5:
            label += f" (top-5 is top-{k}: {details.get('n_classes', k)} classes)"
        index.append(model)
        rows.append({
            "top1_pct": row["value"], "top1_ci_low": row["ci_low"], "top1_ci_high": row["ci_high"],
            "top5_pct": partner["value"] if partner is not None else math.nan,
            "top5_ci_low": partner["ci_low"] if partner is not None else math.nan,
            "top5_ci_high": partner["ci_high"] if partner is not None else math.nan,
            "n_images": n if n is not None else pd.NA,
            "checkpoint_sha256": str(details.get("checkpoint_sha256") or "")[:12],
            "data": str(details.get("data") or ""),
            "device_tag": row["device_tag"],
            "label": label,
        })
    return _typed_measured(rows, index)


def top1_for_claims(results: pd.DataFrame | None, models: Iterable[str] | str | None = None,
                    library: bool = False) -> pd.DataFrame:
    """Top-1 (percent) per model for claims and figures: measured where the store has it,
    the paper's value otherwise.

    ``models``: names (or a preset name, or a comma-separated string); None:
    the paper's 14, then any other measured model. Models neither among the
    paper's 14 nor measured are omitted. Columns ``CLAIMS_TOP1_COLUMNS``:
    ``model``, ``top1_pct``, ``ci_low``/``ci_high`` (the 95 % Wilson interval;
    NaN for the paper's values), ``n_images`` (Int64, NA for the paper's),
    ``source`` (``"measured"`` or ``"paper"``) and ``label`` (``"measured
    (5,000 images)"``, or the paper's ``top1_source`` from paper_models.csv).
    ``library=True`` also gives a non-paper model without a measured top-1 its
    torchvision metadata ``acc@1`` (``library_top1``): source ``"library"``, a
    label naming the weights; models without one (timm's) are still omitted.
    """
    measured = measured_accuracy(results)
    if models is None:
        names = list(PAPER_MODELS) + [m for m in measured.index if m not in PAPER_MODELS]
    else:
        from helpers.models.zoo import PRESETS

        names = []
        for part in map(str, split_list(models)):
            names.extend(PRESETS[part]() if part in PRESETS else (part,))
        names = list(dict.fromkeys(names))
    paper = paper_models()
    rows = []
    for model in names:
        if model in measured.index:
            m = measured.loc[model]
            n = m["n_images"]
            rows.append({"model": model, "top1_pct": m["top1_pct"], "ci_low": m["top1_ci_low"],
                         "ci_high": m["top1_ci_high"], "n_images": n, "source": "measured",
                         "label": f"measured ({n:,} images)" if not pd.isna(n) else "measured"})
        elif model in paper.index:
            rows.append({"model": model, "top1_pct": float(paper.at[model, "top1_pct"]), "ci_low": math.nan,
                         "ci_high": math.nan, "n_images": pd.NA, "source": "paper",
                         "label": str(paper.at[model, "top1_source"])})
        elif library and (ref := library_top1(model)) is not None:
            rows.append({"model": model, "top1_pct": ref["top1_pct"], "ci_low": math.nan, "ci_high": math.nan,
                         "n_images": pd.NA, "source": "library", "label": ref["label"]})
    frame = pd.DataFrame(rows, columns=list(CLAIMS_TOP1_COLUMNS))
    for column in ("top1_pct", "ci_low", "ci_high"):
        frame[column] = frame[column].astype("float64")
    frame["n_images"] = frame["n_images"].astype("Int64")
    for column in ("model", "source", "label"):
        frame[column] = frame[column].astype(object)
    return frame
