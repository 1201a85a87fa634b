"""Top-1 accuracy: reference values and a real single-crop evaluator.

Two kinds of numbers live here and are never mixed into one column
(:func:`accuracy_table` lists the reference values of every library weight of
any model or preset, the paper's beside them):

* reference values: the paper's top-1 (data/reference/paper_models.csv) and the
  ``acc@1`` that the installed torchvision records in its weights enums. Only
  the enums' metadata is read; no weights are downloaded.
* measured values: :func:`evaluate_imagefolder` runs a model over an
  ImageFolder tree (e.g. the ImageNet 2012 validation set sorted into synset
  folders) with the paper's protocol, a single central crop, and a checkpoint
  loaded by :func:`load_checkpoint` (``torch.load(weights_only=True)``).
  :func:`evaluate_checkpoint` (``python -m helpers evaluate``) stores such an
  evaluation in the results store as ``top1``/``top5`` rows with 95 % Wilson
  intervals; :func:`measured_accuracy` reads them back and
  :func:`top1_for_claims` gives the top-1 that claims and figures use:
  measured where stored, the paper's otherwise, labelled by source.

The era of the weights matters. torchvision ships several checkpoints for some
architectures: ResNet-50's default (``IMAGENET1K_V2``, 80.858 top-1) comes
from a 2021 training recipe and is not the paper's model; ``IMAGENET1K_V1``
(76.13) is the 2016-era checkpoint and the closer comparison.
"""
from __future__ import annotations

import math
import pickle
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from helpers.core.reference import PAPER_MODELS, paper_models

if TYPE_CHECKING:  # torch is imported where a model runs: the reference tables need none
    import torch
    from torch import nn

IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)
#: The paper-era weights entry of torchvision's enums.
PAPER_ERA_WEIGHTS = "IMAGENET1K_V1"
#: Central-crop fraction of the standard protocol: 224 / 256.
CROP_FRACTION = 0.875


# --------------------------------------------------------------------------
# Paper model → torchvision model
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Equivalent:
    """How a paper model maps onto a library model."""

    paper: str
    torchvision: str | None  # torchvision.models name, None where there is none
    same_architecture: bool | None  # None: no torchvision model to compare
    note: str


_EQUIVALENTS: tuple[Equivalent, ...] = (
    Equivalent("AlexNet", "alexnet", False,
               "torchvision alexnet is the single-tower 'one weird trick' variant "
               "(64-192-384-256-256 filters, no LRN, no groups), not BVLC's two-group "
               "Caffe AlexNet with LRN"),
    Equivalent("BN-AlexNet", None, None,
               "no torchvision equivalent (two-tower AlexNet with BatchNorm)"),
    Equivalent("BN-NIN", None, None,
               "no torchvision equivalent (Network-in-Network with BatchNorm)"),
    Equivalent("ENet", None, None,
               "no torchvision equivalent (ENet encoder adapted for classification)"),
    Equivalent("GoogLeNet", "googlenet", False,
               "torchvision googlenet adds BatchNorm and uses 3x3 instead of 5x5 "
               "convolutions in the third inception branch"),
    Equivalent("VGG-16", "vgg16", True, "same layers (VGG-D)"),
    Equivalent("VGG-19", "vgg19", True, "same layers (VGG-E)"),
    Equivalent("ResNet-18", "resnet18", True, "same layers as fb.resnet.torch"),
    Equivalent("ResNet-34", "resnet34", True, "same layers as fb.resnet.torch"),
    Equivalent("ResNet-50", "resnet50", True,
               "same layers as fb.resnet.torch (stride in the 3x3 convolution)"),
    Equivalent("ResNet-101", "resnet101", True, "same layers as fb.resnet.torch"),
    Equivalent("ResNet-152", "resnet152", True, "same layers as fb.resnet.torch"),
    Equivalent("Inception-v3", "inception_v3", True,
               "same layers; torchvision's num_params includes the auxiliary head"),
    Equivalent("Inception-v4", None, None,
               "no torchvision equivalent; timm has it as 'inception_v4', but timm's "
               "pretrained metadata carries preprocessing only, no top-1, so no "
               "library top-1 is available offline"),
)

#: Every paper model → its :class:`Equivalent`, in the paper's order.
EQUIVALENTS: dict[str, Equivalent] = {e.paper: e for e in _EQUIVALENTS}
#: Paper model → torchvision.models name, for the 10 models torchvision has.
TORCHVISION_EQUIVALENT: dict[str, str] = {
    e.paper: e.torchvision for e in _EQUIVALENTS if e.torchvision is not None
}
#: Paper model → whether torchvision's architecture is the paper's.
SAME_ARCHITECTURE: dict[str, bool] = {
    e.paper: bool(e.same_architecture) for e in _EQUIVALENTS if e.torchvision is not None
}
#: Paper model → note on the torchvision (or missing) equivalent.
EQUIVALENT_NOTE: dict[str, str] = {e.paper: e.note for e in _EQUIVALENTS}
#: Paper models with no torchvision equivalent, and where they might be found.
NO_TORCHVISION_EQUIVALENT: dict[str, str] = {
    e.paper: e.note for e in _EQUIVALENTS if e.torchvision is None
}
#: timm name of Inception-v4 (timm's metadata has no top-1 for it).
TIMM_EQUIVALENT: dict[str, str] = {"Inception-v4": "inception_v4"}

if tuple(EQUIVALENTS) != PAPER_MODELS:  # pragma: no cover - guards table edits
    raise RuntimeError("EQUIVALENTS must list every paper model in PAPER_MODELS order")


# --------------------------------------------------------------------------
# torchvision weights metadata (enums only, nothing downloaded)
# --------------------------------------------------------------------------
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


# --------------------------------------------------------------------------
# Every library weight of any model or preset
# --------------------------------------------------------------------------
#: What a timm row says when the installed timm has no accuracy for the weights.
NO_TIMM_FIGURE = "no accuracy figure shipped with timm"
#: What a row says for a paper model that no library has weights for.
NO_LIBRARY_WEIGHTS = "no library weights"
#: Columns of :func:`accuracy_table`, in order.
ACCURACY_COLUMNS: tuple[str, ...] = (
    "model", "library_model", "weights", "acc1", "acc5", "crop_size", "resize_size", "recipe",
    "is_default", "accuracy_source", "top1_paper", "top1_paper_source", "note",
)
# Names a timm pretrained configuration would give its accuracies, were it to ship them.
_TIMM_TOP1_KEYS = ("top1", "acc1", "top1_acc")
_TIMM_TOP5_KEYS = ("top5", "acc5", "top5_acc")


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


# --------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------
_WRAPPER_KEYS = ("state_dict", "model")
_PREFIXES = ("module.", "_orig_mod.")


def _unwrap_state_dict(obj, path: Path) -> dict[str, torch.Tensor]:
    # {"state_dict": {...}} / {"model": {...}}, possibly nested.
    while isinstance(obj, Mapping):
        inner = next((obj[k] for k in _WRAPPER_KEYS
                      if k in obj and isinstance(obj[k], Mapping)), None)
        if inner is None:
            break
        obj = inner
    if not isinstance(obj, Mapping):
        raise TypeError(f"{path}: expected a state_dict (a mapping of tensors), got {type(obj).__name__}")
    import torch

    state = dict(obj)
    not_tensors = [k for k, v in state.items() if not isinstance(v, torch.Tensor)]
    if not_tensors:
        raise TypeError(
            f"{path}: not a state_dict, entries that are not tensors: {not_tensors[:5]}"
            + (f" (and {len(not_tensors) - 5} more)" if len(not_tensors) > 5 else "")
        )
    # DataParallel / DistributedDataParallel ("module.") and torch.compile
    # ("_orig_mod.") prefixes, stripped only when every key has them.
    changed = True
    while changed and state:
        changed = False
        for prefix in _PREFIXES:
            if all(k.startswith(prefix) for k in state):
                state = {k[len(prefix):]: v for k, v in state.items()}
                changed = True
    return state


def _few(keys: Sequence[str], n: int = 5) -> str:
    shown = ", ".join(keys[:n])
    return shown + (f" (and {len(keys) - n} more)" if len(keys) > n else "")


def load_checkpoint(model: nn.Module, path: str | PathLike) -> nn.Module:
    """Load a checkpoint file into ``model`` (strictly) and return the model.

    The file is read with ``torch.load(path, map_location="cpu",
    weights_only=True)``: no arbitrary pickled code runs. Accepted layouts: a
    bare state_dict, ``{"state_dict": ...}`` or ``{"model": ...}``; a
    ``module.`` prefix (DataParallel) is stripped. Raises
    ``FileNotFoundError`` for a missing file and ``ValueError`` listing a few
    missing, unexpected or wrongly shaped keys when the checkpoint does not
    fit the model.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ValueError(
            f"{path} cannot be loaded with weights_only=True (it holds more than "
            f"tensors and plain containers): {exc}"
        ) from exc
    state = _unwrap_state_dict(obj, path)

    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    shapes = [f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(v.shape)}"
              for k, v in expected.items() if k in state and state[k].shape != v.shape]
    if missing or unexpected or shapes:
        parts = [f"checkpoint {path} does not fit {type(model).__name__}:"]
        if missing:
            parts.append(f"{len(missing)} missing keys: {_few(missing)}")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected keys: {_few(unexpected)}")
        if shapes:
            parts.append(f"{len(shapes)} shape mismatches: {_few(shapes, 3)}")
        raise ValueError("; ".join(parts))
    model.load_state_dict(state, strict=True)
    return model


# --------------------------------------------------------------------------
# Evaluator
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class EvalResult:
    """Single-crop accuracy over an image folder (percentages, 0-100).

    ``top5`` is top-``top5_k`` accuracy: ``top5_k`` is ``min(5, n_classes)``,
    so with fewer than 5 classes it is not a top-5 in the ImageNet sense (and
    is 100 by construction).
    """

    top1: float
    top5: float
    n_images: int
    n_classes: int
    correct1: int = 0
    correct5: int = 0
    top5_k: int = 5
    crop_size: int = 224
    resize_size: int = 256


def default_resize(crop_size: int) -> int:
    """Shorter side before the central crop: ``round(crop / 0.875)`` (224 → 256, 299 → 342)."""
    return int(round(crop_size / CROP_FRACTION))


def _class_folders(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def _logits(output) -> torch.Tensor:
    import torch

    if isinstance(output, torch.Tensor):
        return output
    logits = getattr(output, "logits", None)  # Inception/GoogLeNet named tuples
    if isinstance(logits, torch.Tensor):
        return logits
    raise TypeError(f"model returned {type(output).__name__}, expected a tensor of logits")


def evaluate_imagefolder(
    model: nn.Module,
    root: str | PathLike,
    *,
    crop_size: int = 224,
    resize_size: int | None = None,
    batch_size: int = 32,
    device: str | torch.device = "cpu",
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
    num_workers: int = 0,
    limit: int | None = None,
    progress: bool = True,
) -> EvalResult:
    """Top-1 / top-5 of ``model`` on an ImageFolder tree, single central crop.

    Each image is converted to RGB, its shorter side resized (bilinear,
    antialiased) to ``resize_size`` (default ``round(crop_size / 0.875)``),
    centre-cropped to ``crop_size``, scaled to [0, 1] and normalised by
    ``mean``/``std``. Class indices follow torchvision's ImageFolder: sorted
    folder names, which for ImageNet synset folders (n01440764, ...) is the
    order of torchvision's 1000 outputs.

    The model is put in eval mode (its previous mode is restored afterwards),
    moved to ``device`` (and left there) and run under ``torch.inference_mode``.
    ``limit`` evaluates an evenly spaced subset of that many images, covering
    all classes proportionally.

    Raises ``FileNotFoundError`` if ``root`` does not exist,
    ``NotADirectoryError`` if it is a file, and ``ValueError`` if it has no
    class subfolders, holds no images, or the number of classes differs from
    the model's number of outputs.
    """
    import torch
    from torchvision import datasets, transforms
    from tqdm.auto import tqdm

    root = Path(root)
    if not root.exists():
        raise FileNotFoundError(f"image folder not found: {root}")
    if not root.is_dir():
        raise NotADirectoryError(f"image folder is a file, not a directory: {root}")
    if not _class_folders(root):
        raise ValueError(
            f"{root} is not an ImageFolder tree: no class subfolders "
            f"(expected root/<class>/<image>)"
        )
    if crop_size <= 0:
        raise ValueError(f"crop_size must be positive, got {crop_size}")
    resize = default_resize(crop_size) if resize_size is None else int(resize_size)
    if resize < crop_size:
        raise ValueError(f"resize_size {resize} is smaller than crop_size {crop_size}")
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    if limit is not None and limit <= 0:
        raise ValueError(f"limit must be positive, got {limit}")

    transform = transforms.Compose([
        transforms.Resize(resize, interpolation=transforms.InterpolationMode.BILINEAR,
                          antialias=True),
        transforms.CenterCrop(crop_size),
        transforms.ToTensor(),
        transforms.Normalize(mean=list(mean), std=list(std)),
    ])
    try:
        dataset = datasets.ImageFolder(str(root), transform=transform)
    except FileNotFoundError as exc:  # e.g. a class folder without images
        raise ValueError(f"{root} is not a usable ImageFolder tree: {exc}") from exc
    n_classes = len(dataset.classes)
    n_total = len(dataset)
    if n_total == 0:
        raise ValueError(f"{root} holds no images")

    subset: torch.utils.data.Dataset = dataset
    if limit is not None and limit < n_total:
        indices = [i * n_total // limit for i in range(limit)]
        subset = torch.utils.data.Subset(dataset, indices)
    n_images = len(subset)

    k = min(5, n_classes)
    if k < 5:
        warnings.warn(
            f"{root} has only {n_classes} classes: 'top5' is top-{k} accuracy "
            f"(100% by construction)",
            stacklevel=2,
        )

    device = torch.device(device)
    loader = torch.utils.data.DataLoader(
        subset, batch_size=batch_size, shuffle=False, num_workers=num_workers,
        pin_memory=device.type == "cuda",
    )

    was_training = model.training
    model.eval()
    model.to(device)
    correct1 = correct5 = seen = 0
    bar = tqdm(total=n_images, desc=f"top-1 {root.name}", unit="img", disable=not progress)
    try:
        with torch.inference_mode():
            for images, targets in loader:
                images = images.to(device, non_blocking=True)
                targets = targets.to(device, non_blocking=True)
                logits = _logits(model(images))
                if logits.ndim != 2:
                    raise ValueError(
                        f"model output has shape {tuple(logits.shape)}, expected (batch, classes)"
                    )
                if logits.shape[1] != n_classes:
                    raise ValueError(
                        f"{root} has {n_classes} classes but the model has "
                        f"{logits.shape[1]} outputs"
                    )
                topk = logits.topk(k, dim=1).indices
                hits = topk == targets.unsqueeze(1)
                correct1 += int(hits[:, 0].sum())
                correct5 += int(hits.any(dim=1).sum())
                seen += targets.numel()
                bar.update(targets.numel())
                bar.set_postfix(top1=f"{100.0 * correct1 / seen:.2f}",
                                **{f"top{k}": f"{100.0 * correct5 / seen:.2f}"})
    finally:
        bar.close()
        model.train(was_training)

    return EvalResult(
        top1=100.0 * correct1 / seen,
        top5=100.0 * correct5 / seen,
        n_images=seen,
        n_classes=n_classes,
        correct1=correct1,
        correct5=correct5,
        top5_k=k,
        crop_size=crop_size,
        resize_size=resize,
    )


# --------------------------------------------------------------------------
# Evaluating a checkpoint into the results store
# --------------------------------------------------------------------------
#: The results-store metrics of one evaluation (unit ``%``).
from helpers.store.results import RUN_INDEPENDENT_METRICS as ACCURACY_METRICS  # noqa: E402  (one definition)
#: The ``batch_size`` of accuracy rows. Accuracy has no batch dimension, but the
#: store's key includes one and ``make_row`` accepts only positive integers, so
#: the rows use 1; the evaluation's own batch size is ``details["eval_batch_size"]``.
ACCURACY_BATCH_SIZE = 1
#: What identifies one evaluation in its rows' details (checkpoint, data, protocol).
IDENTITY_FIELDS: tuple[str, ...] = ("checkpoint_sha256", "data", "crop_size", "resize_size", "limit")
#: The confidence level of the stored intervals.
CONFIDENCE = 0.95


def wilson_interval(k: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion ``k / n``, in percent.

    ``scipy.stats.binomtest(k, n).proportion_ci(confidence_level, method="wilson")``
    scaled to 0-100 (and clamped so that it contains ``100 * k / n``).
    """
    from scipy.stats import binomtest

    if isinstance(n, bool) or not isinstance(n, int) or n < 1 or not 0 <= k <= n:
        raise ValueError(f"k={k!r}, n={n!r}: need integers with 0 <= k <= n and n >= 1")
    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    point = 100.0 * k / n
    return min(100.0 * float(ci.low), point), max(100.0 * float(ci.high), point)


def evaluation_method(crop_size: int, resize_size: int) -> str:
    """The ``method`` text of accuracy rows: the single-crop protocol, spelt out."""
    return (f"single central crop: shorter side resized to {resize_size} px (bilinear, antialiased), "
            f"centre crop {crop_size} px, ImageNet mean/std; helpers.measure.accuracy.evaluate_imagefolder")


def file_sha256(path: str | PathLike, chunk: int = 1 << 20) -> str:
    """SHA-256 (hex) of a file's bytes."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def _positive(name: str, value, *, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} {value!r}: must be a positive integer")
    return value


def check_imagefolder(root: str | PathLike) -> list[str]:
    """The class folders of an ImageFolder tree, or a clear error for what is wrong with it.

    ``FileNotFoundError`` (missing), ``NotADirectoryError`` (a file),
    ``ValueError`` (no class subfolders, or a class folder holding no image
    file with one of torchvision's image extensions).
    """
    import os

    from torchvision.datasets.folder import IMG_EXTENSIONS

    root = Path(root)
    if not root.exists():
        raise FileNotFoundError(f"data folder not found: {root}")
    if not root.is_dir():
        raise NotADirectoryError(f"data folder {root} is a file, not a folder (expected root/<class>/<image>)")
    classes = _class_folders(root)
    if not classes:
        raise ValueError(f"data folder {root} is not an ImageFolder tree: no class subfolders "
                         f"(expected root/<class>/<image>)")
    for name in classes:
        found = False
        for _dirpath, _dirs, files in os.walk(root / name, followlinks=True):
            if any(f.lower().endswith(IMG_EXTENSIONS) for f in files):
                found = True
                break
        if not found:
            raise ValueError(f"data folder {root} is not an ImageFolder tree: class folder {name!r} holds no "
                             f"images ({', '.join(IMG_EXTENSIONS)})")
    return classes


def _unpickling_reason(exc: BaseException) -> str:
    """The one informative line of torch's long weights_only error."""
    import re

    text = str(exc)
    found = re.search(r"WeightsUnpickler error:\s*(.+?)\s*(?:\n\s*\n|$)", text, re.S)
    reason = found.group(1) if found else text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    reason = " ".join(reason.split())
    return reason if len(reason) <= 160 else reason[:157] + "..."


def _details_dict(text) -> dict:
    import json

    if isinstance(text, Mapping):
        return dict(text)
    try:
        obj = json.loads(text) if isinstance(text, str) and text else {}
    except ValueError:
        return {}
    return obj if isinstance(obj, dict) else {}


def _identity(details) -> tuple:
    d = _details_dict(details)
    return tuple(d.get(k) for k in IDENTITY_FIELDS)


@dataclass(frozen=True)
class StoredEvaluation:
    """An evaluation in the results store: its ``top1`` and ``top5`` rows (dicts keyed by
    ``helpers.store.results.COLUMNS``), the store's file, and whether the rows were already
    there (``reused``: nothing was evaluated)."""

    path: Path
    top1: dict
    top5: dict
    reused: bool


def _store_fingerprint(store, device: str) -> dict:
    """The row fields of this machine's fingerprint (``environment_fingerprint``, no timestamp).

    Threads: where the store already holds rows of this machine (same hardware,
    cores, device, dtype and torch), those of its latest run, so that the accuracy
    rows join that run's fingerprint (``load_results`` shows the latest run per
    device by default) — accuracy does not depend on threads. Otherwise torch's
    current setting, what ``measure`` uses by default.
    """
    from helpers.store.results import environment_fingerprint
    from helpers.measure.timing import resolve_threads

    env = environment_fingerprint(device, resolve_threads(None))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a damaged line is reported by whoever reads the store
        table = store.read()
    if not table.empty:
        same = table[(table["hardware"] == env["hardware"]) & (table["torch_version"] == env["torch_version"])
                     & (table["device"] == device) & (table["dtype"] == env["dtype"])
                     & (table["logical_cores"] == env["logical_cores"]).fillna(False)
                     & table["threads"].notna()]
        if not same.empty:
            latest = same.iloc[same["timestamp"].to_numpy().argsort(kind="stable")[-1]]
            threads = int(latest["threads"])
            if threads != env["threads"]:
                candidate = environment_fingerprint(device, threads)
                if candidate["fingerprint"] == latest["fingerprint"]:
                    env = candidate
    env.pop("timestamp", None)
    return env


def _stored_rows(store, model: str, fingerprint: str, identity: tuple) -> tuple[dict, dict] | None:
    """The top1 and top5 rows readers get for this key, when both are ok and of this evaluation."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = store.read()
    if table.empty:
        return None
    mine = table[(table["model"] == model) & (table["fingerprint"] == fingerprint)
                 & (table["batch_size"] == ACCURACY_BATCH_SIZE)]
    found = {}
    for metric in ACCURACY_METRICS:
        rows = mine[mine["metric"] == metric]
        if rows.empty:
            return None
        row = rows.iloc[-1]  # read() keeps the last row of each key: the one readers get
        if row["status"] != "ok" or _identity(row["details"]) != identity:
            return None
        found[metric] = {k: (None if v is pd.NA else v) for k, v in row.to_dict().items()}
    return found["top1"], found["top5"]


def evaluate_checkpoint(
    model: str,
    checkpoint: str | PathLike,
    data: str | PathLike,
    *,
    crop_size: int | None = None,
    resize_size: int | None = None,
    limit: int | None = None,
    batch_size: int = 32,
    device: str = "auto",
    results_root: str | PathLike | None = None,
    force: bool = False,
    num_workers: int = 0,
    progress: bool = True,
) -> StoredEvaluation:
    """Evaluate ``checkpoint`` for ``model`` on the ImageFolder tree ``data`` and store it.

    The model is built by name (``helpers.models.zoo``: a paper name such as
    ``ResNet-18``, a torchvision or a timm name) with as many outputs as ``data``
    has class folders, the checkpoint loaded by :func:`load_checkpoint`
    (``weights_only=True``) and :func:`evaluate_imagefolder` run with its
    progress bar: single central crop, ``crop_size`` defaulting to the model's
    input size (224; 299 for the Inceptions), ``resize_size`` to
    ``round(crop / 0.875)``.

    Two rows go to ``<results_root or data/results>/<device-tag>/`` (top5 first,
    then top1, and only once the evaluation is complete): metrics ``top1`` and
    ``top5``, unit ``%``, ``n`` the number of images, ``ci_low``/``ci_high`` the
    95 % Wilson interval (:func:`wilson_interval`), ``batch_size`` 1
    (``ACCURACY_BATCH_SIZE``: accuracy has no batch dimension but the store's
    key has one and accepts positive integers only), the machine's fingerprint
    fields as in ``helpers.measure.sweep`` and ``details`` with ``checkpoint_sha256``,
    ``checkpoint`` (file name), ``data`` (absolute folder), ``n_images``,
    ``n_classes``, ``correct`` (this row's count), ``k``, ``top5_k``,
    ``crop_size``, ``resize_size``, ``limit`` and ``eval_batch_size``.

    Resumable: when the rows that readers get for this model and fingerprint
    (the last of their key) are ok and of the same evaluation (checkpoint hash,
    data folder, crop, resize and limit: ``IDENTITY_FIELDS``), nothing is
    evaluated and they are returned with ``reused=True``, unless ``force``.
    Another checkpoint, folder or protocol is evaluated and appended, and being
    the last row of its key it is what readers get.

    Errors, raised before anything is evaluated: ``UnknownModelError``,
    ``FileNotFoundError``/``NotADirectoryError`` (checkpoint, data folder),
    ``ValueError`` (bad sizes, limit or batch size, a folder that is not an
    ImageFolder tree, a device that is not here, a results folder that cannot
    be written, a checkpoint that does not fit the model).
    """
    from helpers.models import zoo
    from helpers.store.results import ResultsStore, device_tag, make_row
    from helpers.measure.timing import resolve_device

    if isinstance(model, str) and model in zoo.PRESETS:
        raise ValueError(f"model {model!r} is a preset; evaluate takes one model "
                         f"(`python -m helpers models --preset {model}` lists its models)")
    spec = zoo.get_spec(model)
    crop = _positive("crop size", spec.input_size if crop_size is None else crop_size)
    resize = default_resize(crop) if resize_size is None else _positive("resize size", resize_size)
    if resize < crop:
        raise ValueError(f"resize size {resize} is smaller than the crop size {crop}: the shorter side is "
                         f"resized first, then the centre {crop} px cropped")
    limit = _positive("limit", limit, allow_none=True)
    batch_size = _positive("batch size", batch_size)
    checkpoint = Path(checkpoint)
    if not checkpoint.exists():
        raise FileNotFoundError(f"checkpoint not found: {checkpoint}")
    if not checkpoint.is_file():
        raise ValueError(f"checkpoint {checkpoint} is not a file")
    data = Path(data).resolve()
    classes = check_imagefolder(data)
    device = resolve_device(device)

    store = ResultsStore.for_device(device_tag(device), root=results_root)
    store._check_folder()  # a results folder that cannot be written fails now, not after the evaluation
    env = _store_fingerprint(store, device)
    sha = file_sha256(checkpoint)
    identity = (sha, str(data), crop, resize, limit)
    if not force:
        stored = _stored_rows(store, spec.name, env["fingerprint"], identity)
        if stored is not None:
            return StoredEvaluation(store.path, *stored, reused=True)

    net = zoo.build_model(spec, device="cpu", num_classes=len(classes))
    try:
        load_checkpoint(net, checkpoint)
    except (KeyError, RuntimeError, TypeError, EOFError) as exc:  # not a torch file, cut short, not a state_dict
        text = " ".join(str(exc).split())
        raise ValueError(f"checkpoint {checkpoint} cannot be read as a state_dict "
                         f"({type(exc).__name__}: {text[:160]})") from exc
    except ValueError as exc:
        if not isinstance(exc.__cause__, pickle.UnpicklingError):
            raise  # a checkpoint of another model: load_checkpoint names the keys
        raise ValueError(f"checkpoint {checkpoint} cannot be read as a state_dict with weights_only=True "
                         f"({_unpickling_reason(exc.__cause__)}); no pickled code is run") from exc
    import torch

    saved_threads = torch.get_num_threads()
    if device == "cpu":
        torch.set_num_threads(env["threads"])
    try:
        result = evaluate_imagefolder(net, data, crop_size=crop, resize_size=resize, batch_size=batch_size,
                                      device=device, num_workers=num_workers, limit=limit, progress=progress)
    finally:
        torch.set_num_threads(saved_threads)

    common = dict(device_tag=store.device_tag, model=spec.name, batch_size=ACCURACY_BATCH_SIZE, unit="%",
                  status="ok", n=result.n_images, method=evaluation_method(crop, resize), **env)
    details = {"checkpoint_sha256": sha, "checkpoint": checkpoint.name, "data": str(data),
               "n_images": result.n_images, "n_classes": result.n_classes, "top5_k": result.top5_k,
               "crop_size": crop, "resize_size": resize, "limit": limit, "eval_batch_size": batch_size,
               "interval": f"Wilson score, {CONFIDENCE:.0%}"}
    rows = {}
    for metric, correct, k in (("top5", result.correct5, result.top5_k), ("top1", result.correct1, 1)):
        low, high = wilson_interval(correct, result.n_images)
        rows[metric] = store.append(make_row(
            metric=metric, value=100.0 * correct / result.n_images, ci_low=low, ci_high=high,
            details={**details, "correct": correct, "k": k}, **common))
    return StoredEvaluation(store.path, rows["top1"], rows["top5"], reused=False)


# --------------------------------------------------------------------------
# Measured accuracy for tables, figures and claims
# --------------------------------------------------------------------------
#: Columns of :func:`measured_accuracy` (indexed by ``model``).
MEASURED_COLUMNS: tuple[str, ...] = (
    "top1_pct", "top1_ci_low", "top1_ci_high", "top5_pct", "top5_ci_low", "top5_ci_high",
    "n_images", "checkpoint_sha256", "data", "device_tag", "label",
)
#: Columns of :func:`top1_for_claims`.
CLAIMS_TOP1_COLUMNS: tuple[str, ...] = ("model", "top1_pct", "ci_low", "ci_high", "n_images", "source", "label")

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
        details = _details_dict(row["details"])
        partners = top5[(top5["model"] == model) & (top5["device_tag"] == row["device_tag"])
                        & (top5["fingerprint"] == row["fingerprint"])]
        partners = [p for _, p in partners.iterrows() if _identity(p["details"]) == _identity(details)]
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

        items = [models] if isinstance(models, str) else list(models)
        names = []
        for item in items:
            for part in str(item).split(","):
                part = part.strip()
                if part:
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
