"""The check standard: one fixed, model-independent workload timed in every window of a sweep.

Metrology's check standard is an artefact measured beside every measurement so that a drift of
the instrument shows. Here the instrument is the machine: a 3x3 convolution of 64 channels on a
56x56 map (the body of a ResNet stage, 0.23 G-ops), timed in every point child after the point's
own passes, with the point's threads. Its window medians say how much the machine's speed moved
during a run, and set a window aside (like a contended one) when it is off beyond its usual spread
(helpers.measure.engine). Units: seconds per call.
"""
from __future__ import annotations

import math

__all__ = ["CHECK_STANDARD", "CHECK_OPS", "time_check_standard", "check_spread", "check_is_off"]

#: What the check standard computes (stored with every run that has one).
CHECK_STANDARD = "conv2d fp32, input 1x64x56x56, weight 64x64x3x3, padding 1"
#: Its multiply-adds x 2 (operations per call).
CHECK_OPS = 2 * 64 * 64 * 9 * 56 * 56
_BLOCK_S = 0.02   # seconds per timed block
_BLOCKS = 3       # timed blocks per window


def time_check_standard(threads: int, device: str = "cpu") -> dict:
    """One window's check standard: ``{"median_s", "samples_s"}``, seconds per call (median of
    ``_BLOCKS`` blocks of at least ``_BLOCK_S`` after one warm-up call)."""
    import statistics
    import time

    import torch

    torch.manual_seed(0)
    x = torch.randn(1, 64, 56, 56, device=device)
    w = torch.randn(64, 64, 3, 3, device=device)
    cuda = device.startswith("cuda")
    sync = (lambda: torch.cuda.synchronize(device)) if cuda else (lambda: None)
    conv = torch.nn.functional.conv2d
    with torch.inference_mode():
        t0 = time.perf_counter()
        conv(x, w, padding=1)
        sync()
        first = max(time.perf_counter() - t0, 1e-6)
        number = max(1, math.ceil(_BLOCK_S / first))
        samples = []
        for _ in range(_BLOCKS):
            t0 = time.perf_counter()
            for _ in range(number):
                conv(x, w, padding=1)
            sync()
            samples.append((time.perf_counter() - t0) / number)
    return {"median_s": statistics.median(samples), "samples_s": samples}


def check_spread(values: list[float]) -> float:
    """The check standard's spread over windows: 1.96 robust standard deviations (1.4826 x the
    median absolute deviation) of the log window medians, as a fraction (0.05 = ±5 %); NaN under 3."""
    import statistics

    xs = [math.log(v) for v in values if v and v > 0]
    if len(xs) < 3:
        return math.nan
    centre = statistics.median(xs)
    mad = statistics.median(abs(x - centre) for x in xs)
    return 1.96 * 1.4826 * mad


def check_is_off(value: float, earlier: list[float], *, robust_sds: float, floor: float,
                 min_windows: int = 8) -> bool:
    """Whether one window's check standard (seconds) is off beyond the run's usual spread: more than
    ``robust_sds`` robust standard deviations, and more than ``floor`` (a fraction), from the median
    of the ``earlier`` windows' values; never before ``min_windows`` earlier windows."""
    import statistics

    xs = [math.log(v) for v in earlier if v and v > 0]
    if value is None or not value > 0 or len(xs) < min_windows:
        return False
    centre = statistics.median(xs)
    sd = 1.4826 * statistics.median(abs(x - centre) for x in xs)
    deviation = abs(math.log(value) - centre)
    return deviation > max(robust_sds * sd, floor)
