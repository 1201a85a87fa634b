"""The single-crop evaluator of top-1/top-5 accuracy, and its evaluations in the results store.

:func:`evaluate_imagefolder` runs a model over an ImageFolder tree (e.g. the ImageNet 2012 validation
set sorted into synset folders) with the paper's protocol, a single central crop, and a checkpoint
loaded by :func:`load_checkpoint` (``torch.load(weights_only=True)``). :func:`evaluate_checkpoint`
(``python -m helpers evaluate``) stores such an evaluation in the results store as ``top1``/``top5``
rows with 95 % Wilson intervals; helpers.analysis.accuracy reads them back. The libraries' published
accuracies (reference values, never mixed into a measured column) are helpers.models.weights.
"""
from __future__ import annotations

import pickle
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from helpers.core.stats import CONFIDENCE, wilson_interval
from helpers.store.results import RUN_INDEPENDENT_METRICS as ACCURACY_METRICS

if TYPE_CHECKING:  # torch is imported where a model runs: the reference tables need none
    import torch
    from torch import nn

IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)
#: Central-crop fraction of the standard protocol: 224 / 256.
CROP_FRACTION = 0.875


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
#: The ``batch_size`` of accuracy rows. Accuracy has no batch dimension, but the
#: store's key includes one and ``make_row`` accepts only positive integers, so
#: the rows use 1; the evaluation's own batch size is ``details["eval_batch_size"]``.
ACCURACY_BATCH_SIZE = 1
#: What identifies one evaluation in its rows' details (checkpoint, data, protocol).
IDENTITY_FIELDS: tuple[str, ...] = ("checkpoint_sha256", "data", "crop_size", "resize_size", "limit")


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


def evaluation_details(text) -> dict:
    import json

    if isinstance(text, Mapping):
        return dict(text)
    try:
        obj = json.loads(text) if isinstance(text, str) and text else {}
    except ValueError:
        return {}
    return obj if isinstance(obj, dict) else {}


def evaluation_identity(details) -> tuple:
    d = evaluation_details(details)
    return tuple(d.get(k) for k in IDENTITY_FIELDS)


@dataclass(frozen=True)
class StoredEvaluation:
    """An evaluation in the results store: its ``top1`` and ``top5`` rows (dicts keyed by
    ``helpers.store.schema.RESULT_COLUMNS``), the store's file, and whether the rows were already
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
    from helpers.measure.timing import resolve_threads
    from helpers.store.results import environment_fingerprint

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
        if row["status"] != "ok" or evaluation_identity(row["details"]) != identity:
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
    95 % Wilson interval (``helpers.core.stats.wilson_interval``), ``batch_size`` 1
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
    from helpers.store.machine import device_tag, resolve_device
    from helpers.store.results import ResultsStore, result_row

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
        rows[metric] = store.append(result_row(
            metric=metric, value=100.0 * correct / result.n_images, ci_low=low, ci_high=high,
            details={**details, "correct": correct, "k": k}, **common))
    return StoredEvaluation(store.path, rows["top1"], rows["top5"], reused=False)


# --------------------------------------------------------------------------
# Measured accuracy for tables, figures and claims
