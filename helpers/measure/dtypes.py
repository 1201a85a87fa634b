"""Numeric precision of a measured network: fp32, bf16, fp16 and int8, and where each runs natively.

* ``fp32``: the study's default (every figure of the paper).
* ``bf16`` / ``fp16``: the model's parameters and its input cast with
  ``Module.to(dtype)``; measured only where the device computes the type
  natively (:func:`support`, from :mod:`helpers.measure.hardware`'s instruction-set and
  compute-capability checks), never through an emulated fallback. An operator
  torch lacks for the type (LRN's ``avg_pool3d`` in bf16 on a CPU) makes the
  point an error row naming it: no layer is silently kept in fp32.
* ``int8``: post-training static quantisation (eager mode, ``torch.ao``) of
  the networks torchvision ships a quantisable version of
  (:data:`INT8_BUILDERS`), on a CPU with a quantised engine (x86/fbgemm or
  qnnpack): modules fused, observers calibrated on one random batch, then
  converted. Weights are random like every other timing here, so accuracy is
  *not re-measured*: only time and memory are.
"""
from __future__ import annotations

import warnings
from typing import Callable

import torch
from torch import nn

from helpers.core.lists import split_list

__all__ = ["PRECISIONS", "TORCH_DTYPES", "INT8_BUILDERS", "support", "parse_precisions", "prepare_model",
           "input_dtype", "dtype_name"]

from helpers.measure.hardware import FLOAT_DTYPE_NAMES as _FLOAT_NAMES  # fp32/bf16/fp16 -> torch's dtype names

PRECISIONS = (*_FLOAT_NAMES, "int8")
TORCH_DTYPES = {p: getattr(torch, name) for p, name in _FLOAT_NAMES.items()}
# the name stored in the results' dtype column and the run's fingerprint ("float32" as before)
DTYPE_NAMES = {**_FLOAT_NAMES, "int8": "int8"}

# study model name -> torchvision.models.quantization builder (same layers as the fp32 network measured)
INT8_BUILDERS: dict[str, str] = {
    "ResNet-18": "resnet18",
    "ResNet-50": "resnet50",
    "Inception-v3": "inception_v3",
    "resnet50": "resnet50",
    "mobilenet_v2": "mobilenet_v2",
    "mobilenet_v3_large": "mobilenet_v3_large",
    "shufflenet_v2_x1_0": "shufflenet_v2_x1_0",
}
INT8_ENGINES = ("x86", "fbgemm", "qnnpack")
NOT_RE_MEASURED = "accuracy not re-measured"


def parse_precisions(text: str | list[str]) -> list[str]:
    """``"fp32,bf16"`` -> ``["fp32", "bf16"]``; an unknown one -> ValueError naming the valid ones."""
    items = split_list(text)
    bad = [t for t in items if t not in PRECISIONS]
    if bad or not items:
        raise ValueError(f"bad precision {bad[0] if bad else text!r}: valid precisions are {', '.join(PRECISIONS)}")
    return list(dict.fromkeys(items))


def dtype_name(precision: str) -> str:
    """The results store's dtype of ``precision`` (``"float32"`` for fp32)."""
    parse_precisions([precision])
    return DTYPE_NAMES[precision]


def input_dtype(precision: str) -> torch.dtype:
    """The input tensor's dtype: the model's for fp32/bf16/fp16; fp32 for int8 (the model quantises it)."""
    return TORCH_DTYPES.get(precision, torch.float32)


def int8_engine() -> str | None:
    """The quantised engine torch offers here (x86, fbgemm or qnnpack), or ``None``."""
    engines = torch.backends.quantized.supported_engines
    return next((e for e in INT8_ENGINES if e in engines), None)


def support(precision: str, device: str, model: str | None = None, cpuinfo=None) -> str | None:
    """``None`` where ``precision`` runs natively on ``device`` (for ``model``, for int8), else the reason not."""
    from helpers.measure import hardware

    parse_precisions([precision])
    if precision == "int8":
        if device != "cpu":
            return f"int8 is measured on a CPU only (torch's eager quantised kernels), not on {device}"
        if int8_engine() is None:
            return (f"torch offers no quantised engine here (supported: "
                    f"{', '.join(torch.backends.quantized.supported_engines) or 'none'})")
        if model is not None and model not in INT8_BUILDERS:
            return f"torchvision ships no quantisable version of {model} (int8 for: {', '.join(INT8_BUILDERS)})"
        return None
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            return "no CUDA device is visible"
        return hardware.cuda_dtype_support(torch.cuda.get_device_capability(device))[precision]
    info = cpuinfo if cpuinfo is not None else hardware.read_cpuinfo()
    return hardware.cpu_dtype_support(info)[precision]


def _int8_model(name: str, num_classes: int, input_size: int) -> nn.Module:
    import torchvision.models.quantization as tvq
    from torch.ao import quantization as tq

    engine = int8_engine()
    if engine is None:
        raise RuntimeError(support("int8", "cpu"))
    builder: Callable[..., nn.Module] = getattr(tvq, INT8_BUILDERS[name])
    kwargs = {"aux_logits": False, "init_weights": False} if INT8_BUILDERS[name] == "inception_v3" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao's deprecation notices: the path still works in this torch
        torch.backends.quantized.engine = engine
        model = builder(weights=None, quantize=False, num_classes=num_classes, **kwargs).eval()
        model.fuse_model()
        model.qconfig = tq.get_default_qconfig(engine)
        tq.prepare(model, inplace=True)
        with torch.inference_mode():
            model(torch.randn(2, 3, input_size, input_size))  # calibrate the observers on one random batch
        tq.convert(model, inplace=True)
    return model.eval()


def prepare_model(spec, precision: str, device: str = "cpu", num_classes: int = 1000) -> nn.Module:
    """The network of ``spec`` (a :class:`helpers.models.zoo.ModelSpec`) at ``precision`` on ``device``, in eval mode.

    Raises ValueError where :func:`support` gives a reason (never an emulated fallback).
    """
    from helpers.models import zoo

    reason = support(precision, device, spec.name)
    if reason:
        raise ValueError(f"{spec.name} in {precision} on {device}: {reason}")
    if precision == "int8":
        return _int8_model(spec.name, num_classes, spec.input_size)
    model = zoo.build_model(spec, device=device, num_classes=num_classes)
    return model.to(TORCH_DTYPES[precision]).eval() if precision != "fp32" else model
