"""Where a forward pass spends its time, by layer type (the paper's AlexNet FC argument).

Forward pre/post hooks on every leaf module time each layer with
``time.perf_counter`` (synchronising CUDA at both edges), over a few passes
after a warm-up. Shares are of the summed leaf time, so they add up to 1.

The **layers study** (:func:`measure_layers`, ``python -m helpers layers``) stores these times in the
device's batch store, one row per (model, batch, layer type): metric ``layer_time_per_image:<type>``
(:func:`layer_metric`), the geometric mean over ``windows`` rounds of the per-image time in ms, with a
t interval between the rounds. Each round times every batch of the model back to back, so a ratio of two
batches (the fully connected layers' speed-up, claim part C3e) is paired round by round and the
machine's drift between rounds cancels in it; the rounds' values are kept in ``details`` for that.
The rounds run in the measuring process, one after another (not in fresh processes, as the engine's
windows do): the interval says how the time moves between rounds, not across processes.
"""
from __future__ import annotations

import time
from collections import defaultdict
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:  # torch is imported where a layer is timed: reading a stored study (the claims) needs none
    import torch
    from torch import nn

__all__ = ["layer_time_share", "layer_share_table", "layer_share_summary", "LAYER_METRIC", "layer_metric",
           "LAYER_METHOD", "measure_layers", "stored_layer_times", "stored_layer_shares"]

#: The metric family of the layers study: ``layer_time_per_image:Conv2d`` and so on.
LAYER_METRIC = "layer_time_per_image"
LAYER_METHOD = ("forward hooks on every leaf module (time.perf_counter), median of the repeats in each round, "
                "rounds in one process with every batch timed back to back in each; geometric mean over rounds, "
                "t interval on their logs")


def layer_time_share(model: nn.Module, x: torch.Tensor, repeats: int = 3, warmup: int = 1) -> pd.DataFrame:
    """Seconds per forward pass and share of time per leaf-layer type (e.g. Conv2d, Linear).

    Columns: layer_type, seconds (median over ``repeats`` passes), share (0..1).
    Sorted by share, largest first.
    """
    import torch

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
        return (f"No layer shares: this run stores no layers study of {model_name} (`python -m helpers layers` "
                f"times one; `make reproduce` and this lesson with measure = True run it).")
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


def layer_metric(layer_type: str) -> str:
    """The store's metric of one layer type's time (``layer_time_per_image:Linear``)."""
    if not layer_type or ":" in layer_type:
        raise ValueError(f"layer_type={layer_type!r}: a module class name such as 'Linear'")
    return f"{LAYER_METRIC}:{layer_type}"


def measure_layers(models, batch_sizes, device: str = "cpu", threads: int | None = None, windows: int = 5,
                   repeats: int = 3, results_root=None, force: bool = False, progress: bool = True) -> list[str]:
    """Time each layer type of ``models`` at ``batch_sizes`` in ``windows`` rounds into the device's batch
    store (see the module docstring); returns the models measured. A model whose every batch is stored for
    this fingerprint is skipped unless ``force``; a model is written once all its rounds are done, so an
    interrupted study loses at most the model it was timing."""
    from tqdm.auto import tqdm

    from helpers.core.paths import check_writable
    from helpers.core.stats import window_interval
    from helpers.measure.profiles import parse_batch_sizes
    from helpers.measure.sweep import _Recorder
    from helpers.measure.timing import resolve_threads
    from helpers.models.zoo import build_model, example_input, resolve_models
    from helpers.store.machine import device_tag, resolve_device
    from helpers.store.results import ResultsStore

    import torch

    check_writable(results_root)
    if not isinstance(windows, int) or windows < 2:
        raise ValueError(f"windows={windows!r}: at least 2 rounds, so the time has an interval between them")
    if not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats={repeats!r}: at least 1 timed pass per round")
    sizes = parse_batch_sizes(list(batch_sizes) if not isinstance(batch_sizes, str) else batch_sizes)
    device = resolve_device(device)
    threads = resolve_threads(threads)
    specs = resolve_models(models)
    store = ResultsStore.for_device(device_tag(device), root=results_root)
    done = []
    saved_threads = torch.get_num_threads()
    with store.exclusive():
        rec = _Recorder(store, device, threads, force)
        stored = store.read() if not force else None

        def complete(name: str) -> bool:
            if stored is None or stored.empty:
                return False
            mine = stored[(stored["fingerprint"] == rec.fingerprint) & (stored["model"] == name)
                          & stored["metric"].astype(str).str.startswith(LAYER_METRIC + ":")]
            return set(sizes) <= set(mine["batch_size"].astype(int))

        todo = [s for s in specs if not complete(s.name)]
        torch.set_num_threads(threads)
        try:
            with tqdm(total=len(todo) * windows, desc=f"layers on {store.device_tag}", unit="round",
                      disable=not progress) as bar:
                for spec in todo:
                    net = build_model(spec.name, device)
                    inputs = {b: example_input(spec.name, b, device) for b in sizes}
                    rounds: dict[int, list[dict[str, float]]] = {b: [] for b in sizes}
                    for _ in range(windows):
                        for b in sizes:
                            frame = layer_time_share(net, inputs[b], repeats=repeats)
                            rounds[b].append({t: s / b for t, s in zip(frame["layer_type"], frame["seconds"])})
                        bar.update()
                    for b in sizes:
                        kinds = sorted({t for r in rounds[b] for t in r})
                        for kind in kinds:
                            values = [r.get(kind, 0.0) * 1e3 for r in rounds[b]]
                            if min(values) <= 0:
                                continue  # a type too fast to read on this clock in some round: no interval
                            centre, low, high, how = window_interval(values)
                            rec.add(spec.name, b, layer_metric(kind), value=centre, median=centre, ci_low=low,
                                    ci_high=high, n=windows, unit="ms", status="ok",
                                    method=f"{LAYER_METHOD}; {how}",
                                    details={"rounds_ms": [float(f"{v:.6g}") for v in values], "repeats": repeats})
                    done.append(spec.name)
                    del net, inputs
        finally:
            torch.set_num_threads(saved_threads)
    return done


def stored_layer_times(results: pd.DataFrame, model: str, device_tag: str | None = None) -> pd.DataFrame:
    """One model's stored layer times (a results frame's ``layer_time_per_image:*`` rows): columns
    layer_type, batch_size, value, ci_low, ci_high (ms per image) and rounds (the rounds' values, a list)."""
    import json

    cols = ["layer_type", "batch_size", "value", "ci_low", "ci_high", "rounds"]
    if results is None or results.empty:
        return pd.DataFrame(columns=cols)
    rows = results[results["metric"].astype(str).str.startswith(LAYER_METRIC + ":")
                   & (results["model"].astype(str) == model) & (results["status"] == "ok")]
    if device_tag is not None:
        rows = rows[rows["device_tag"].astype(str) == device_tag]
    if rows.empty:
        return pd.DataFrame(columns=cols)
    rows = rows.drop_duplicates(["device_tag", "batch_size", "metric"], keep="last")
    out = pd.DataFrame({
        "layer_type": rows["metric"].astype(str).str.split(":", n=1).str[1].to_numpy(),
        "batch_size": rows["batch_size"].astype(int).to_numpy(),
        "value": rows["value"].astype(float).to_numpy(),
        "ci_low": rows["ci_low"].astype(float).to_numpy(),
        "ci_high": rows["ci_high"].astype(float).to_numpy(),
        "rounds": [json.loads(d).get("rounds_ms", []) if isinstance(d, str) and d else []
                   for d in rows["details"]],
    })
    return out.sort_values(["batch_size", "layer_type"], ignore_index=True)


def stored_layer_shares(results: pd.DataFrame, model: str, device_tag: str | None = None) -> pd.DataFrame:
    """:func:`layer_share_table`'s shape (layer types x batch sizes, each column adding up to 1) from the
    stored layers study; empty when the store holds none for ``model``."""
    times = stored_layer_times(results, model, device_tag)
    if times.empty:
        return pd.DataFrame()
    table = times.pivot(index="layer_type", columns="batch_size", values="value").fillna(0.0)
    table = table / table.sum()
    table.columns = [int(c) for c in table.columns]
    table.index.name = "layer_type"
    return table.sort_values(table.columns[0], ascending=False)
