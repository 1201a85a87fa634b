"""Which library network stands for each of the paper's models, and how close it is.

``EQUIVALENTS`` maps a paper model to its torchvision (or timm) equivalent with a note on what differs;
``PAPER_ERA_WEIGHTS`` names the 2016-era checkpoint where a library ships several.
"""
from __future__ import annotations

from dataclasses import dataclass

from helpers.core.reference import PAPER_MODELS

__all__ = ["PAPER_ERA_WEIGHTS", "Equivalent", "EQUIVALENTS", "TORCHVISION_EQUIVALENT", "SAME_ARCHITECTURE", "EQUIVALENT_NOTE", "NO_TORCHVISION_EQUIVALENT", "TIMM_EQUIVALENT"]


#: The paper-era weights entry of torchvision's enums.
PAPER_ERA_WEIGHTS = "IMAGENET1K_V1"


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
