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

__all__ = ["layer_time_share", "layer_share_table", "layer_share_summary"]


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


def layer_share_table(model_name: str, batch_sizes, device: str = "cpu", repeats: int = 3) -> pd.DataFrame:
    """:func:`layer_time_share`'s share per layer type (rows) at each batch size (columns) of one zoo model,
    built once on ``device`` with the example input of each batch; 0 where a type is absent."""
    from helpers.models.zoo import build_model, example_input

    net = build_model(model_name, device)
    return pd.concat({int(b): layer_time_share(net, example_input(model_name, int(b), device), repeats=repeats)
                      .set_index("layer_type")["share"] for b in sorted(set(batch_sizes))}, axis=1).fillna(0.0)


#: The layer types that hold a network's arithmetic (the rest: normalisation, activation, pooling, ...).
ARITHMETIC_LAYERS = ("Conv2d", "Linear")


def layer_share_summary(shares: pd.DataFrame, model_name: str) -> str:
    """What to notice in :func:`layer_share_table` (Markdown): the largest share at the smallest and largest
    batch, the fully connected layers' share at both, and a layer type without arithmetic that takes more
    time than the convolutions, where there is one."""
    if shares is None or shares.empty:
        return "No layer shares: nothing was timed."
    first, last = shares.columns.min(), shares.columns.max()
    lead = {b: (shares[b].idxmax(), shares[b].max()) for b in (first, last)}
    text = (f"At batch {first} the largest share of {model_name}'s time is {lead[first][0]}'s ({lead[first][1]:.2f}); "
            f"at batch {last}, {lead[last][0]}'s ({lead[last][1]:.2f}).")
    if "Linear" in shares.index:
        a, b = shares.at["Linear", first], shares.at["Linear", last]
        trend = "falls" if b < a else "does not fall"
        text += (f" The fully connected layers (Linear) take {a:.2f} at batch {first} and {b:.2f} at batch {last}: "
                 f"their share {trend} as the batch grows.")
    conv = shares.loc["Conv2d"] if "Conv2d" in shares.index else None
    if conv is not None:
        other = shares.drop(index=[t for t in ARITHMETIC_LAYERS if t in shares.index])
        beats = [(t, b) for b in (first, last) for t in other.index if other.at[t, b] > conv[b]]
        if beats:
            kind, b = beats[0]
            text += (f" {kind}, a layer with little arithmetic, takes more of the time than the convolutions at batch "
                     f"{b} ({shares.at[kind, b]:.2f} against {conv[b]:.2f}): operations do not say where the time goes.")
    return text
