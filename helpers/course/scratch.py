"""The from-scratch cells: a student builds one tool by hand once, then checks it against the library's.

Lesson 2 counts one convolution's multiply-accumulates (checked against torch's FlopCounterMode, the
study's counter); lesson 4 times one layer with ``torch.utils.benchmark.Timer`` (its first call against
the warmed-up median and spread); lesson 5 reads this process's resident memory around building a model
(against the model's parameter memory). A cell left as it is (``...``) says what to fill in and reveals
nothing. Units: MACs, seconds, MB (10**6 bytes).
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["TODO", "check_conv_count", "scratch_layer", "timing_report", "resident_report"]

#: What a from-scratch cell says while it is not filled in.
TODO = "Not filled in yet: replace each ... with your code, then run this cell again."


def _todo(*values) -> bool:
    return any(v is Ellipsis for v in values)


def check_conv_count(conv: nn.Conv2d, input_shape: tuple[int, ...], my_macs) -> str:
    """Your multiply-accumulates for ``conv`` on an input of ``input_shape`` (N, C, H, W) against the
    study's counter (``helpers.counting.ops.count_gmacs``, torch's FlopCounterMode)."""
    if _todo(my_macs):
        return TODO
    from helpers.counting.ops import count_gmacs

    counted = round(count_gmacs(conv, torch.zeros(input_shape)) * 1e9)
    if int(my_macs) == counted:
        return (f"Your count, {int(my_macs):,} MACs, is the counter's: output positions x output channels x "
                f"(input channels / groups) x kernel area. In the paper's convention (a multiply and an add are two "
                f"operations) that is {2 * counted:,} operations.")
    return (f"Your count, {int(my_macs):,} MACs, differs from the counter's {counted:,} "
            f"({int(my_macs) / counted:.3g}x): check the output size (padding, stride) and the groups.")


def scratch_layer(channels: int = 64, size: int = 56) -> tuple[nn.Module, torch.Tensor]:
    """Lesson 4's layer to time: a 3x3 convolution (``channels`` in and out, padding 1) in eval mode and
    one image of ``size`` x ``size``."""
    layer = nn.Conv2d(channels, channels, kernel_size=3, padding=1).eval()
    return layer, torch.randn(1, channels, size, size)


def timing_report(first_s, measurement) -> str:
    """Your first call's time (s) beside your ``Timer`` measurement (a
    ``torch.utils.benchmark.Measurement``): its median, IQR and number of runs, and how much slower the
    cold first call was (warm-up)."""
    if _todo(first_s, measurement):
        return TODO
    median, iqr = measurement.median, measurement.iqr
    return (f"Median {1e3 * median:.3f} ms per call over {len(measurement.times)} measurements "
            f"(IQR {1e3 * iqr:.3f} ms, {100 * iqr / median:.1f} % of the median); the first call took "
            f"{1e3 * float(first_s):.3f} ms, {float(first_s) / median:.1f}x the median: that is why the study "
            f"warms up before it times, and reports a median with its spread.")


def resident_report(before_mb, after_mb, model_name: str) -> str:
    """Your readings of this process's resident memory (MB) before and after building ``model_name``,
    against its parameter memory (parameters x 4 bytes, float32)."""
    if _todo(before_mb, after_mb):
        return TODO
    from helpers.counting.ops import count_params
    from helpers.models.zoo import build_model

    param_mb = count_params(build_model(model_name, device="meta")) * 4 / 1e6
    grew = float(after_mb) - float(before_mb)
    return (f"Resident memory grew by {grew:.1f} MB while building {model_name}; its parameters take "
            f"{param_mb:.1f} MB as float32 ({grew / param_mb:.2f}x). The rest is what the allocator and the "
            f"libraries keep besides the weights; a process that built a model before may reuse freed memory "
            f"and grow less. The study reads it in a fresh process per point, above that process's baseline.")
