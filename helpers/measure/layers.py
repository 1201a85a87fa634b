"""Where a forward pass spends its time, by layer type (the paper's AlexNet FC argument).

Forward pre/post hooks on every leaf module time each layer with
``time.perf_counter`` (synchronising CUDA at both edges), over a few passes
after a warm-up. Shares are of the summed leaf time, so they add up to 1.
"""
from __future__ import annotations

import time
from collections import defaultdict

import pandas as pd
import torch
from torch import nn

__all__ = ["layer_time_share"]


def layer_time_share(model: nn.Module, x: torch.Tensor, repeats: int = 3, warmup: int = 1) -> pd.DataFrame:
    """Seconds per forward pass and share of time per leaf-layer type (e.g. Conv2d, Linear).

    Columns: layer_type, seconds (median over ``repeats`` passes), share (0..1).
    Sorted by share, largest first.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    sync = torch.cuda.synchronize if x.device.type == "cuda" else (lambda: None)
    totals: dict[str, list[float]] = defaultdict(list)
    current: dict[str, float] = defaultdict(float)
    starts: dict[int, float] = {}

    def pre(module, _inputs):
        sync()
        starts[id(module)] = time.perf_counter()

    def post(module, _inputs, _output):
        sync()
        current[type(module).__name__] += time.perf_counter() - starts.pop(id(module))

    leaves = [m for m in model.modules() if not list(m.children())]
    handles = [h for m in leaves for h in (m.register_forward_pre_hook(pre), m.register_forward_hook(post))]
    try:
        with torch.inference_mode():
            for _ in range(warmup):
                model(x)
            for _ in range(repeats):
                current.clear()
                model(x)
                for kind, seconds in current.items():
                    totals[kind].append(seconds)
    finally:
        for h in handles:
            h.remove()
    frame = pd.DataFrame({"layer_type": list(totals),
                          "seconds": [float(pd.Series(v).median()) for v in totals.values()]})
    frame["share"] = frame["seconds"] / frame["seconds"].sum()
    return frame.sort_values("share", ascending=False, ignore_index=True)
