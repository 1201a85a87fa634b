"""The libraries' weights and the top-1/top-5 they publish: torchvision's weights enums and timm's
pretrained configs (metadata only; no weights are downloaded), with the paper's top-1 beside them.

The era of the weights matters. torchvision ships several checkpoints for some architectures:
ResNet-50's default (``IMAGENET1K_V2``, 80.858 top-1) comes from a 2021 training recipe and is not the
paper's model; ``IMAGENET1K_V1`` (76.13) is the 2016-era checkpoint and the closer comparison.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import pandas as pd

from helpers.core.reference import PAPER_MODELS, paper_models
from helpers.models.equivalents import (EQUIVALENTS, NO_TORCHVISION_EQUIVALENT, PAPER_ERA_WEIGHTS, TIMM_EQUIVALENT,
                                        TORCHVISION_EQUIVALENT)

__all__ = ["torchvision_top1", "torchvision_weights_table", "reference_top1", "accuracy_table", "library_top1", "ACCURACY_COLUMNS", "NO_TIMM_FIGURE", "NO_LIBRARY_WEIGHTS"]

# Names a timm pretrained configuration would give its accuracies, were it to ship them.
_TIMM_TOP1_KEYS = ("top1", "acc1", "top1_acc")
_TIMM_TOP5_KEYS = ("top5", "acc5", "top5_acc")


def _torchvision_name(name: str) -> str:
    """Accept a torchvision model name or a paper model name that maps to one."""
    if name in TORCHVISION_EQUIVALENT:
        return TORCHVISION_EQUIVALENT[name]
    if name in NO_TORCHVISION_EQUIVALENT:
        raise KeyError(f"{name!r} has no torchvision equivalent: {NO_TORCHVISION_EQUIVALENT[name]}")
    return name


def _weights_enum(name: str):
    from torchvision import models

    tv_name = _torchvision_name(name)
    try:
        return models.get_model_weights(tv_name)
    except (ValueError, KeyError) as exc:
        raise KeyError(
            f"torchvision has no weights for model {name!r}; paper models with an "
            f"equivalent: {', '.join(TORCHVISION_EQUIVALENT)}"
        ) from exc


def _weights_row(entry, enum) -> dict:
    meta = entry.meta
    metrics = meta.get("_metrics", {}).get("ImageNet-1K", {})
    transform = entry.transforms()
    crop = getattr(transform, "crop_size", None)
    resize = getattr(transform, "resize_size", None)
    return {
        "weights": f"{type(entry).__name__}.{entry.name}",
        "acc1": float(metrics.get("acc@1", math.nan)),
        "acc5": float(metrics.get("acc@5", math.nan)),
        "crop_size": int(crop[0]) if crop else None,
        "resize_size": int(resize[0]) if resize else None,
        "params": int(meta["num_params"]) if "num_params" in meta else None,
        "ops": float(meta["_ops"]) if "_ops" in meta else math.nan,  # GMACs
        "mean": tuple(getattr(transform, "mean", ())),
        "std": tuple(getattr(transform, "std", ())),
        "is_default": entry == enum.DEFAULT,
        "paper_era": entry.name == PAPER_ERA_WEIGHTS,
        "recipe": meta.get("recipe", ""),
    }


def torchvision_top1(name: str, weights: str | None = None) -> dict:
    """Reference accuracy of one torchvision weights entry, from its enum.

    ``name`` is a torchvision model name (``"resnet50"``) or a paper name that
    maps to one (``"ResNet-50"``). ``weights`` picks the entry
    (``"IMAGENET1K_V2"``, ``"ResNet50_Weights.IMAGENET1K_V2"`` or
    ``"DEFAULT"``); by default the paper-era ``IMAGENET1K_V1`` entry where it
    exists, else torchvision's default.

    Returns ``{"weights", "acc1", "acc5", "crop_size", "resize_size", "params",
    "ops", ...}``: accuracies in percent, ``params`` from ``meta["num_params"]``,
    ``ops`` from ``meta["_ops"]`` in GMACs (multiply-accumulates, not the
    paper's G-ops), plus the preprocessing mean/std and whether the entry is
    torchvision's default or the paper-era one.
    """
    enum = _weights_enum(name)
    names = [e.name for e in enum]
    if weights is None:
        key = PAPER_ERA_WEIGHTS if PAPER_ERA_WEIGHTS in names else enum.DEFAULT.name
    else:
        key = weights.split(".", 1)[1] if weights.startswith(f"{enum.__name__}.") else weights
    if key == "DEFAULT":
        entry = enum.DEFAULT
    elif key in names:
        entry = enum[key]
    else:
        raise KeyError(
            f"{enum.__name__} has no entry {weights!r}; entries: {', '.join(names)} (or DEFAULT)"
        )
    return _weights_row(entry, enum)


def torchvision_weights_table(name: str) -> pd.DataFrame:
    """Every weights entry torchvision has for one model, one row each."""
    enum = _weights_enum(name)
    return pd.DataFrame([_weights_row(entry, enum) for entry in enum])


def reference_top1(models: Iterable[str] | None = None) -> pd.DataFrame:
    """Paper top-1 next to torchvision's paper-era top-1, one row per paper model.

    Columns: ``model``, ``top1_paper`` and ``top1_paper_source`` (from
    paper_models.csv), ``torchvision_name``, ``torchvision_weights`` and
    ``top1_torchvision`` (``acc@1`` of that entry, NaN where torchvision has no
    equivalent), ``same_architecture`` (nullable boolean: NA without an
    equivalent) and ``note``.
    """
    selected = list(PAPER_MODELS if models is None else models)
    unknown = [m for m in selected if m not in PAPER_MODELS]
    if unknown:
        raise KeyError(f"unknown paper models {unknown}; valid names: {', '.join(PAPER_MODELS)}")
    paper = paper_models()
    rows = []
    for model in selected:
        eq = EQUIVALENTS[model]
        row = {
            "model": model,
            "top1_paper": float(paper.at[model, "top1_pct"]),
            "top1_paper_source": str(paper.at[model, "top1_source"]),
            "torchvision_name": eq.torchvision,
            "torchvision_weights": None,
            "top1_torchvision": math.nan,
            "same_architecture": pd.NA if eq.same_architecture is None else eq.same_architecture,
            "note": eq.note,
        }
        if eq.torchvision is not None:
            info = torchvision_top1(eq.torchvision)
            row["torchvision_weights"] = info["weights"]
            row["top1_torchvision"] = info["acc1"]
        rows.append(row)
    frame = pd.DataFrame(rows, columns=[
        "model", "top1_paper", "top1_paper_source", "torchvision_name",
        "torchvision_weights", "top1_torchvision", "same_architecture", "note",
    ])
    frame["same_architecture"] = frame["same_architecture"].astype("boolean")
    frame["top1_paper"] = frame["top1_paper"].astype("float64")
    frame["top1_torchvision"] = frame["top1_torchvision"].astype("float64")
    return frame


#: What a timm row says when the installed timm has no accuracy for the weights.
NO_TIMM_FIGURE = "no accuracy figure shipped with timm"


#: What a row says for a paper model that no library has weights for.
NO_LIBRARY_WEIGHTS = "no library weights"


#: Columns of :func:`accuracy_table`, in order.
ACCURACY_COLUMNS: tuple[str, ...] = (
    "model", "library_model", "weights", "acc1", "acc5", "crop_size", "resize_size", "recipe",
    "is_default", "accuracy_source", "top1_paper", "top1_paper_source", "note",
)


def _torchvision_rows(tv_name: str) -> list[dict]:
    enum = _weights_enum(tv_name)
    rows = []
    for entry in enum:
        row = _weights_row(entry, enum)
        row["accuracy_source"] = ("torchvision weights metadata (ImageNet-1K acc@1, acc@5)"
                                  if not math.isnan(row["acc1"])
                                  else "torchvision's metadata has no ImageNet-1K accuracy for these weights")
        rows.append(row)
    return rows


def _timm_figure(cfg, keys: Sequence[str]) -> float:
    values = cfg.to_dict() if hasattr(cfg, "to_dict") else dict(vars(cfg))
    for key in keys:
        if values.get(key) is not None:
            return float(values[key])
    return math.nan


def _timm_rows(timm_name: str) -> list[dict]:
    import timm

    tags = list(timm.list_pretrained(f"{timm_name}.*")) or [timm_name]
    rows = []
    for i, tag in enumerate(tags):
        cfg = timm.models.get_pretrained_cfg(tag)
        if cfg is None:
            raise KeyError(f"timm has no pretrained configuration for {tag!r}")
        crop = int(cfg.input_size[-1])
        acc1, acc5 = _timm_figure(cfg, _TIMM_TOP1_KEYS), _timm_figure(cfg, _TIMM_TOP5_KEYS)
        rows.append({
            "weights": cfg.hf_hub_id or tag,
            "acc1": acc1,
            "acc5": acc5,
            "crop_size": crop,
            # timm's eval transform: resize the shorter side to floor(crop / crop_pct), then crop
            "resize_size": int(math.floor(crop / cfg.crop_pct)),
            "recipe": cfg.origin_url or "",
            "is_default": i == 0,
            "accuracy_source": NO_TIMM_FIGURE if math.isnan(acc1) else "timm pretrained configuration",
        })
    return rows


def _library_of(spec) -> tuple[str | None, str]:
    """(``"torchvision:<name>"``, ``"timm:<name>"`` or None, note) for a model spec."""
    if spec.name in EQUIVALENTS:  # a paper model: its library equivalent, said plainly
        eq = EQUIVALENTS[spec.name]
        if eq.torchvision is not None:
            return f"torchvision:{eq.torchvision}", eq.note
        if spec.name in TIMM_EQUIVALENT:
            return f"timm:{TIMM_EQUIVALENT[spec.name]}", eq.note
        return None, eq.note
    if spec.source.startswith(("torchvision:", "timm:")):
        return spec.source, ""
    return None, ""


def accuracy_table(models: Iterable[str] | str = "paper") -> pd.DataFrame:
    """Reference accuracy of every library weight of ``models`` (names or presets, as in
    ``helpers.models.zoo.resolve_models``), one row per weights entry; nothing is downloaded.

    torchvision: every entry of the model's weights enum, with ``acc1``/``acc5``
    (ImageNet-1K top-1/top-5, percent) from its metadata, the ``crop_size`` and
    ``resize_size`` (pixels) of its own evaluation transforms, its ``recipe`` URL.
    timm: every pretrained tag of the model, with crop and resize from its
    configuration, and accuracies only if the installed timm ships them (else
    NaN and ``accuracy_source`` says ``NO_TIMM_FIGURE``). The paper's 14 models
    carry ``top1_paper`` (percent) and its source, and list the weights of their
    library equivalent (``library_model``; ``note`` says where the architecture
    differs), or one row without weights where no library has the model.
    Columns: ``ACCURACY_COLUMNS``.
    """
    from helpers.models.zoo import resolve_models

    paper = paper_models()
    rows = []
    for spec in resolve_models(models):
        library, note = _library_of(spec)
        if library is None:
            entries = [{"accuracy_source": NO_LIBRARY_WEIGHTS}]
        elif library.startswith("torchvision:"):
            entries = _torchvision_rows(library.split(":", 1)[1])
        else:
            entries = _timm_rows(library.split(":", 1)[1])
        on_paper = spec.name in paper.index
        for entry in entries:
            rows.append({
                **entry,
                "model": spec.name,
                "library_model": library,
                "top1_paper": float(paper.at[spec.name, "top1_pct"]) if on_paper else math.nan,
                "top1_paper_source": str(paper.at[spec.name, "top1_source"]) if on_paper else "",
                "note": note,
            })
    table = pd.DataFrame(rows).reindex(columns=list(ACCURACY_COLUMNS))
    for column in ("acc1", "acc5", "top1_paper"):
        table[column] = table[column].astype("float64")
    for column in ("crop_size", "resize_size"):
        table[column] = table[column].astype("Int64")
    table["is_default"] = table["is_default"].astype("boolean")
    for column in ("weights", "recipe", "library_model"):
        table[column] = table[column].fillna("")
    return table


def library_top1(name: str) -> dict | None:
    """torchvision's reference top-1 of a non-paper model, from its weights metadata (nothing
    downloaded): ``{"top1_pct", "weights", "label"}`` for the entry ``torchvision_top1`` picks
    (the paper-era ``IMAGENET1K_V1`` where there is one, torchvision's default otherwise); None for
    a paper model, a name torchvision has no weights for (timm models: timm ships no accuracy) or
    weights without an ImageNet-1K figure."""
    if name in PAPER_MODELS:
        return None
    try:
        row = torchvision_top1(name)
    except (KeyError, ValueError):
        return None
    if math.isnan(row["acc1"]):
        return None
    return {"top1_pct": row["acc1"], "weights": row["weights"],
            "label": f"library: torchvision {row['weights']} metadata (acc@1, crop {row['crop_size']})"}
