"""Model registry: the paper's 14 networks by their paper names, every torchvision
classification model, and any timm model, each with its evaluation input size.

No weights are ever downloaded: models are built with random initialisation,
which is all that operations, parameters, time, memory and power need.

>>> spec = get_spec("ResNet-50")
>>> spec.input_size, spec.source
(224, 'torchvision:resnet50')
"""
from __future__ import annotations

import contextlib
import difflib
import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable

from helpers.core.lists import split_list
from helpers.core.reference import PAPER_MODELS  # the paper's 14, in the order of its figures

if TYPE_CHECKING:  # torch is imported where a model is built: resolving names needs none
    import torch
    from torch import nn

__all__ = [
    "ModelSpec",
    "UnknownModelError",
    "PAPER_MODELS",
    "PRESETS",
    "get_spec",
    "resolve_models",
    "build_model",
    "list_presets",
]

# Post-2016 classification networks from torchvision, one or two of each family (the
# `modern` profile measures them): mobile (MobileNet V2/V3, ShuffleNet V2, SqueezeNet 1.1,
# MnasNet), compound-scaled (EfficientNet B0/B1, V2-S), designed spaces (RegNet X/Y),
# wider and grouped ResNets (ResNeXt, Wide ResNet), dense connections (DenseNet),
# modernised convolutions (ConvNeXt) and transformers (ViT, Swin, MaxViT); torchvision's
# ResNet-50 is the 2016 anchor, measured in the same run.
MODERN_MODELS: tuple[str, ...] = (
    "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "shufflenet_v2_x1_0",
    "squeezenet1_1", "mnasnet1_0", "efficientnet_b0", "efficientnet_b1", "efficientnet_v2_s",
    "regnet_x_400mf", "regnet_y_800mf", "regnet_y_1_6gf", "resnext50_32x4d", "wide_resnet50_2",
    "densenet121", "convnext_tiny", "vit_b_16", "swin_t", "maxvit_t", "resnet50",
)

# Two small, fast models for smoke runs (CI, seconds).
SMOKE_MODELS: tuple[str, ...] = ("ENet", "ResNet-18")


class UnknownModelError(KeyError):
    """A model or preset name that the registry does not know."""

    def __init__(self, name: str, suggestions: list[str]):
        self.name = name
        self.suggestions = suggestions
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(
            f"unknown model or preset {name!r}{hint} "
            f"(presets: {', '.join(PRESETS)}; `python -m helpers models` lists the models)"
        )

    def __str__(self) -> str:  # KeyError would repr() the message
        return self.args[0]


@dataclass(frozen=True)
class ModelSpec:
    """A buildable model: its name, evaluation input size (pixels, square) and origin."""

    name: str
    input_size: int
    source: str  # "paper-era:<function>", "torchvision:<name>" or "timm:<name>"
    builder: Callable[..., nn.Module] = field(repr=False, compare=False)
    paper: bool = False
    note: str = ""


# --------------------------------------------------------------------------- paper models
def _paper_specs() -> dict[str, ModelSpec]:
    from helpers.models import archs

    def tv(name: str, **kwargs) -> Callable[..., nn.Module]:
        def build(num_classes: int = 1000) -> nn.Module:
            import torchvision

            return torchvision.models.get_model(name, weights=None, num_classes=num_classes, **kwargs)

        build.__name__ = name
        return build

    def timm_model(name: str) -> Callable[..., nn.Module]:
        def build(num_classes: int = 1000) -> nn.Module:
            import timm

            return timm.create_model(name, pretrained=False, num_classes=num_classes)

        build.__name__ = name
        return build

    specs = {
        "AlexNet": ModelSpec("AlexNet", 224, "paper-era:bvlc_alexnet", archs.bvlc_alexnet, True,
                             "BVLC Caffe AlexNet: groups 2 in conv2/4/5, LRN, ceil-mode pooling"),
        "BN-AlexNet": ModelSpec("BN-AlexNet", 224, "paper-era:bn_alexnet", archs.bn_alexnet, True,
                                "two-tower AlexNet with BatchNorm"),
        "BN-NIN": ModelSpec("BN-NIN", 224, "paper-era:bn_nin", archs.bn_nin, True,
                            "Network-in-Network with BatchNorm"),
        "ENet": ModelSpec("ENet", 224, "paper-era:enet", archs.enet, True,
                          "ENet V12 encoder for ImageNet classification"),
        "GoogLeNet": ModelSpec("GoogLeNet", 224, "paper-era:googlenet_bvlc", archs.googlenet_bvlc, True,
                               "original BVLC GoogLeNet: 5x5 third branch, LRN, no BatchNorm, no aux heads"),
    }
    for paper, tv_name in [("VGG-16", "vgg16"), ("VGG-19", "vgg19"), ("ResNet-18", "resnet18"),
                           ("ResNet-34", "resnet34"), ("ResNet-50", "resnet50"),
                           ("ResNet-101", "resnet101"), ("ResNet-152", "resnet152")]:
        specs[paper] = ModelSpec(paper, 224, f"torchvision:{tv_name}", tv(tv_name), True,
                                 "same layers as the paper's model")
    specs["Inception-v3"] = ModelSpec(
        "Inception-v3", 299, "torchvision:inception_v3",
        tv("inception_v3", aux_logits=False, init_weights=False), True,
        "torchvision inception_v3 without the auxiliary head")
    specs["Inception-v4"] = ModelSpec(
        "Inception-v4", 299, "timm:inception_v4", timm_model("inception_v4"), True,
        "canonical Inception-v4 (42.68 M params); the paper's 31.57 M does not fit it")
    assert tuple(specs) == PAPER_MODELS
    return specs


# --------------------------------------------------------------------------- torchvision / timm
@functools.lru_cache(maxsize=1)
def _torchvision_names() -> tuple[str, ...]:
    import torchvision

    return tuple(torchvision.models.list_models(module=torchvision.models))


@functools.lru_cache(maxsize=1)
def _timm_names() -> tuple[str, ...]:
    import timm

    return tuple(timm.list_models())


def _torchvision_spec(name: str) -> ModelSpec:
    import torchvision

    weights = torchvision.models.get_model_weights(name).DEFAULT
    crop = int(weights.transforms.keywords["crop_size"])
    kwargs: dict = {}
    if name == "inception_v3" or name == "googlenet":
        kwargs = {"aux_logits": False, "init_weights": False}
    elif name.startswith("vit_"):
        kwargs = {"image_size": crop}

    def build(num_classes: int = 1000) -> nn.Module:
        return torchvision.models.get_model(name, weights=None, num_classes=num_classes, **kwargs)

    build.__name__ = name
    return ModelSpec(name, crop, f"torchvision:{name}", build, False,
                     f"crop of {weights}")


def _timm_spec(name: str) -> ModelSpec:
    import timm

    cfg = timm.models.get_pretrained_cfg(name) if hasattr(timm.models, "get_pretrained_cfg") else None
    size = int(cfg.input_size[-1]) if cfg is not None and getattr(cfg, "input_size", None) else 224

    def build(num_classes: int = 1000) -> nn.Module:
        return timm.create_model(name, pretrained=False, num_classes=num_classes)

    build.__name__ = name
    return ModelSpec(name, size, f"timm:{name}", build, False, "timm default configuration")


# --------------------------------------------------------------------------- lookup
PRESETS: dict[str, Callable[[], tuple[str, ...]]] = {
    "paper": lambda: PAPER_MODELS,
    "torchvision": _torchvision_names,
    "modern": lambda: MODERN_MODELS,
    "smoke": lambda: SMOKE_MODELS,
}


def list_presets() -> dict[str, tuple[str, ...]]:
    """Every preset with the model names it expands to."""
    return {name: tuple(expand()) for name, expand in PRESETS.items()}


@functools.lru_cache(maxsize=None)
def get_spec(name: str) -> ModelSpec:
    """The spec of one model: a paper name, a torchvision name or a timm name.

    Paper names match case-insensitively (``resnet-50`` is ``ResNet-50``);
    an exact torchvision name wins over that (``alexnet`` is torchvision's
    single-tower AlexNet, ``AlexNet`` the paper's BVLC model).
    """
    if not isinstance(name, str) or not name.strip():
        raise UnknownModelError(repr(name), [])
    paper = _paper_specs()
    if name in paper:
        return paper[name]
    if name in _torchvision_names():
        return _torchvision_spec(name)
    folded = {n.lower(): n for n in paper}
    if name.lower() in folded:
        return paper[folded[name.lower()]]
    if name in _timm_names():
        return _timm_spec(name)
    raise UnknownModelError(name, suggest(name))


def suggest(name: str, n: int = 5) -> list[str]:
    """Up to ``n`` valid names closest to ``name`` (presets, paper, torchvision, timm)."""
    pool = list(PRESETS) + list(PAPER_MODELS) + list(_torchvision_names())
    lower = {p.lower(): p for p in pool}
    close = [lower[m] for m in difflib.get_close_matches(name.lower(), list(lower), n=n, cutoff=0.5)]
    if len(close) < n:
        timm_close = difflib.get_close_matches(name.lower(), _timm_names(), n=n - len(close), cutoff=0.7)
        close += [t for t in timm_close if t not in close]
    return close


def resolve_models(names: Iterable[str] | str) -> list[ModelSpec]:
    """Expand model names and presets into specs, in order, without duplicates."""
    if isinstance(names, str):
        names = [names]
    specs: list[ModelSpec] = []
    seen: set[str] = set()
    for part in map(str, split_list(names)):
        expanded = PRESETS[part]() if part in PRESETS else (part,)
        for model in expanded:
            spec = get_spec(model)
            if spec.name not in seen:
                seen.add(spec.name)
                specs.append(spec)
    if not specs:
        raise UnknownModelError(str(list(names)), [])
    return specs


# --------------------------------------------------------------------------- building
_INIT_FUNCTIONS = (
    "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_",
    "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
    "orthogonal_", "sparse_",
)


@contextlib.contextmanager
def _skip_initialisation():
    """Make torch.nn.init a no-op while building: shapes without the cost of random init."""
    from torch import nn

    saved = {f: getattr(nn.init, f) for f in _INIT_FUNCTIONS if hasattr(nn.init, f)}
    try:
        for f in saved:
            setattr(nn.init, f, lambda tensor, *args, **kwargs: tensor)
        yield
    finally:
        for f, fn in saved.items():
            setattr(nn.init, f, fn)


def build_model(model: str | ModelSpec, device: str | torch.device = "cpu",
                num_classes: int = 1000) -> nn.Module:
    """Build a model with random weights, in eval mode, on ``device``.

    ``device="meta"`` builds shapes only (no memory, no arithmetic): what the
    operation counters need. Models whose constructors compute with tensors
    (torchvision's RegNets) are built on the CPU without random initialisation
    and then moved to meta.
    """
    import torch

    spec = model if isinstance(model, ModelSpec) else get_spec(model)
    device = torch.device(device)
    if device.type == "meta":
        try:
            with torch.device("meta"):
                net = spec.builder(num_classes=num_classes)
        except (NotImplementedError, RuntimeError):
            with _skip_initialisation():
                net = spec.builder(num_classes=num_classes)
            net = net.to("meta")
    else:
        net = spec.builder(num_classes=num_classes).to(device)
    return net.eval()


def example_input(spec: ModelSpec | str, batch_size: int = 1,
                  device: str | torch.device = "cpu", dtype: torch.dtype | None = None) -> torch.Tensor:
    """A random input batch ``(batch_size, 3, S, S)`` at the model's input size (``dtype`` None: float32)."""
    import torch

    spec = spec if isinstance(spec, ModelSpec) else get_spec(spec)
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch size must be a positive integer, got {batch_size!r}")
    dtype = torch.float32 if dtype is None else dtype
    shape = (batch_size, 3, spec.input_size, spec.input_size)
    if torch.device(device).type == "meta":
        return torch.empty(shape, device="meta", dtype=dtype)
    return torch.randn(shape, device=device, dtype=dtype)
