"""Measure time, memory and power against batch size into the results store.

One row per measurement, appended and flushed as it is taken (helpers.results):
an interrupted run loses nothing, and a re-run skips what is stored unless
``force``. Metrics and units:

- ``latency_per_image`` (s): per-image median, IQR and n of forward passes;
- ``memory_static`` / ``memory_peak`` (MB, 10**6 bytes): model alone / peak of
  one forward at the batch size (CPU: a fresh child process; CUDA: allocator);
- ``power_net`` (W) and ``energy_per_image`` (J): continuous inference net of
  idle, with the probe's method, domain and sensor period; "unavailable" rows
  with the reason where the machine has no sensor, never 0 W.
"""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Iterable

import torch

from helpers.results import ResultsStore, device_tag as make_device_tag, environment_fingerprint, make_row
from helpers.timing import measure_latency, resolve_device, resolve_threads
from helpers.zoo import build_model, example_input, resolve_models

__all__ = ["METRICS", "METRIC_NAMES", "parse_metrics", "measure"]

METRICS = ("time", "memory", "power")
# the results-store metrics each kind of measurement writes
METRIC_NAMES = {
    "time": ("latency_per_image",),
    "memory": ("memory_static", "memory_peak"),
    "power": ("power_net", "energy_per_image"),
}


def parse_metrics(text: str | Iterable[str]) -> list[str]:
    """``"time,memory"`` → ``["time", "memory"]``; an unknown one → ValueError naming it."""
    items = [t.strip() for t in (text.split(",") if isinstance(text, str) else text) if t.strip()]
    bad = [t for t in items if t not in METRICS]
    if bad or not items:
        raise ValueError(f"bad metric {bad[0] if bad else text!r}: valid metrics are {', '.join(METRICS)}")
    return list(dict.fromkeys(items))


class _Recorder:
    """Appends rows for one device, with the environment fingerprint, and answers 'already stored?'."""

    def __init__(self, store: ResultsStore, device: str, threads: int, force: bool):
        self.store, self.force = store, force
        self.tag = store.device_tag
        self.env = environment_fingerprint(device, threads)
        self.env.pop("timestamp", None)
        self.written = 0

    def done(self, model: str, batch_size: int, metrics: Iterable[str]) -> bool:
        return not self.force and all(self.store.has(model, batch_size, m) for m in metrics)

    def add(self, model: str, batch_size: int, metric: str, **fields) -> None:
        self.store.append(make_row(device_tag=self.tag, model=model, batch_size=batch_size, metric=metric,
                                   **{**self.env, **fields}))
        self.written += 1


def _not_ok(status: str, reason: str, **fields) -> dict:
    return dict(status=status, reason=reason or status, **fields)


# --------------------------------------------------------------------------- time
def _time_model(rec: _Recorder, spec, batch_sizes, device, threads, budget: dict, bar) -> None:
    todo = [b for b in batch_sizes if not rec.done(spec.name, b, METRIC_NAMES["time"])]
    bar.update(len(batch_sizes) - len(todo))
    if not todo:
        return
    try:
        model = build_model(spec, device=device)
    except Exception as exc:  # a model that cannot be built is an error row per batch, not a crash
        for b in todo:
            rec.add(spec.name, b, "latency_per_image", unit="s", device=device, threads=threads,
                    **_not_ok("error", f"building the model failed: {type(exc).__name__}: {exc}"))
            bar.update()
        return
    did_not_fit = None
    last_pass: tuple[int, float] | None = None  # (batch, seconds per pass) of the last point timed
    for b in todo:
        bar.set_postfix_str(f"{spec.name} time b={b}")
        common = dict(unit="s", device=device, threads=threads, dtype="float32")
        if did_not_fit is not None and b > did_not_fit:
            rec.add(spec.name, b, "latency_per_image", method="torch.utils.benchmark",
                    **_not_ok("skipped", f"larger than batch {did_not_fit}, which did not fit"), **common)
            bar.update()
            continue
        try:
            x = example_input(spec, b, device=device)
            expected = last_pass[1] * b / last_pass[0] if last_pass else None
            result = measure_latency(model, x, threads=threads, device=device, label=spec.name,
                                     expected_pass_s=expected, **budget)
        except Exception as exc:
            from helpers.timing import LatencyResult, is_out_of_memory

            status = "skipped" if is_out_of_memory(exc) else "error"
            result = LatencyResult(spec.name, b, device, "float32", threads, status=status,
                                   reason=f"{type(exc).__name__}: {str(exc)[:300]}")
        finally:
            x = None
        if result.status == "skipped":
            did_not_fit = b
        if result.ok:
            last_pass = (b, result.per_batch_median_s)
        details = {"per_batch_median_s": result.per_batch_median_s, "total_runs": result.total_runs,
                   "wall_s": result.wall_s, **{f"{k}_s" if k.endswith("time") else k: v for k, v in budget.items()}}
        if result.ok:
            rec.add(spec.name, b, "latency_per_image", value=result.per_image_median_s,
                    median=result.per_image_median_s, iqr=result.per_image_iqr_s, n=result.n,
                    status="ok", method=result.method, details=details, **common)
        else:
            rec.add(spec.name, b, "latency_per_image", method=result.method, details=details,
                    **_not_ok(result.status, result.reason), **common)
        bar.update()
    del model


# --------------------------------------------------------------------------- memory
def _memory_model(rec: _Recorder, spec, batch_sizes, device, threads, bar) -> None:
    from helpers.memory import measure_memory_cpu, measure_memory_cuda

    did_not_fit = None
    for b in batch_sizes:
        if rec.done(spec.name, b, METRIC_NAMES["memory"]):
            bar.update()
            continue
        bar.set_postfix_str(f"{spec.name} memory b={b}")
        if did_not_fit is not None and b > did_not_fit:
            for metric in METRIC_NAMES["memory"]:
                rec.add(spec.name, b, metric, unit="MB", device=device, threads=threads,
                        **_not_ok("skipped", f"larger than batch {did_not_fit}, which did not fit"))
            bar.update()
            continue
        if device == "cpu":
            result = measure_memory_cpu(spec.name, b, threads=threads)
        else:
            result = measure_memory_cuda(spec.name, (b, 3, spec.input_size, spec.input_size), device,
                                         label=spec.name)
        if result.status == "skipped":
            did_not_fit = b
        details = {"param_mb": result.param_mb, "input_mb": result.input_mb, "baseline_mb": result.baseline_mb,
                   "reserved_mb": result.reserved_mb, "peak_source": result.peak_source}
        for metric, value in (("memory_static", result.static_mb), ("memory_peak", result.peak_mb)):
            common = dict(unit="MB", device=device, threads=threads, method=result.method, details=details)
            if result.ok and not math.isnan(value):
                rec.add(spec.name, b, metric, value=value, median=value, n=1, status="ok", **common)
            else:
                rec.add(spec.name, b, metric, **_not_ok(result.status if not result.ok else "error",
                                                        result.reason or "no value measured"), **common)
        bar.update()


# --------------------------------------------------------------------------- power
def _power_model(rec: _Recorder, spec, batch_sizes, device, threads, window_s, probe, idle, unavailable,
                 bar) -> None:
    from helpers.power import PowerWindow, net_of_idle

    todo = [b for b in batch_sizes if not rec.done(spec.name, b, METRIC_NAMES["power"])]
    bar.update(len(batch_sizes) - len(todo))
    if not todo:
        return
    if unavailable:
        for b in todo:
            for metric, unit in (("power_net", "W"), ("energy_per_image", "J")):
                rec.add(spec.name, b, metric, unit=unit, device=device, threads=threads,
                        method="none", **_not_ok("unavailable", unavailable))
            bar.update()
        return
    model = build_model(spec, device=device)
    sync = torch.cuda.synchronize if device.startswith("cuda") else None
    window = PowerWindow(probe, duration_s=window_s, sync=sync)
    for b in todo:
        bar.set_postfix_str(f"{spec.name} power b={b}")
        x = example_input(spec, b, device=device)

        def step() -> int:
            model(x)
            return b

        common = dict(device=device, threads=threads, method=probe.method, domain=probe.domain)
        try:
            with torch.inference_mode():
                step()  # warm-up
                net = net_of_idle(window.active(step), idle)
        except Exception as exc:
            for metric, unit in (("power_net", "W"), ("energy_per_image", "J")):
                rec.add(spec.name, b, metric, unit=unit, **_not_ok("error", f"{type(exc).__name__}: {exc}"),
                        **common)
            bar.update()
            continue
        details = {k: v for k, v in dataclasses.asdict(net).items() if k not in ("method", "domain")}
        rec.add(spec.name, b, "power_net", value=net.net_power_w, median=net.net_power_w, n=net.n_reads,
                unit="W", status="ok", details=details, **common)
        rec.add(spec.name, b, "energy_per_image", value=net.energy_per_image_j, n=net.n_reads, unit="J",
                status="ok", details=details, **common)
        bar.update()


def _open_power(device: str, window_s: float):
    """(probe, idle reading, None) or (None, None, reason it cannot be measured)."""
    from helpers.power import PowerWindow, ProbeUnavailable, open_probe

    try:
        probe = open_probe(device)
    except ProbeUnavailable as exc:
        return None, None, f"no power sensor: {exc.reason}"
    sync = torch.cuda.synchronize if device.startswith("cuda") else None
    idle = PowerWindow(probe, duration_s=window_s, sync=sync).idle()
    return probe, idle, None


# --------------------------------------------------------------------------- driver
def measure(models: Iterable[str] | str, batch_sizes: Iterable[int], metrics: Iterable[str] = ("time", "memory"),
            device: str = "auto", threads: int | None = None, results_root: Path | None = None,
            force: bool = False, min_run_time: float = 0.5, power_window_s: float = 10.0,
            min_measurements: int = 3, max_run_time: float = 60.0, progress: bool = True) -> ResultsStore:
    """Measure every (model, batch size, metric) not yet stored; return the device's store.

    ``results_root`` defaults to data/results; the store is
    ``<results_root>/<device-tag>/results.csv``. Times in seconds: each timing
    point runs for ``min_run_time`` and takes at least ``min_measurements``
    measurements unless their total passes ``max_run_time``.
    """
    from tqdm.auto import tqdm

    from helpers.profiles import parse_batch_sizes

    metrics = parse_metrics(metrics if isinstance(metrics, str) else list(metrics))
    sizes = parse_batch_sizes(list(batch_sizes) if not isinstance(batch_sizes, str) else batch_sizes)
    device = resolve_device(device)
    threads = resolve_threads(threads)
    specs = resolve_models(models)
    if min_run_time <= 0 or power_window_s <= 0:
        raise ValueError(f"time budgets must be positive: min_run_time={min_run_time}, "
                         f"power_window_s={power_window_s}")
    torch.set_num_threads(threads)
    budget = {"min_run_time": min_run_time, "min_measurements": min_measurements, "max_run_time": max_run_time}
    store = ResultsStore.for_device(make_device_tag(device), root=results_root)
    rec = _Recorder(store, device, threads, force)
    total = len(specs) * len(sizes) * len(metrics)
    probe = idle = unavailable = None
    with tqdm(total=total, desc=f"measuring on {store.device_tag}", unit="point", disable=not progress) as bar:
        if "power" in metrics:
            probe, idle, unavailable = _open_power(device, power_window_s)
        try:
            for spec in specs:
                if "time" in metrics:
                    _time_model(rec, spec, sizes, device, threads, budget, bar)
                if "memory" in metrics:
                    _memory_model(rec, spec, sizes, device, threads, bar)
                if "power" in metrics:
                    _power_model(rec, spec, sizes, device, threads, power_window_s, probe, idle, unavailable, bar)
        finally:
            if probe is not None:
                probe.close()
    return store
