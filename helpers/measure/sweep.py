"""Measure time, memory and power against batch size into the results store.

One row per measurement, appended and flushed as it is taken (helpers.store.results):
an interrupted run loses nothing, and a re-run skips what is stored unless
``force``. Metrics and units:

- ``latency_per_image`` (s): per-image median, its 95 % interval, IQR, n and
  flags (helpers.measure.engine: rounds, interval-width target, contention guard);
- ``memory_static`` / ``memory_peak`` (MB, 10**6 bytes): model alone / peak of
  one forward at the batch size (CPU: a forked child per batch; CUDA: allocator);
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

from helpers.core.lists import split_list
from helpers.measure.check_standard import CHECK_STANDARD
from helpers.measure.engine import journal_path
from helpers.measure.profiles import EngineSettings
from helpers.measure.timing import resolve_threads
from helpers.models.zoo import build_model, example_input, resolve_models
from helpers.store.machine import device_tag as make_device_tag
from helpers.store.machine import resolve_device
from helpers.store.results import ResultsStore, environment_fingerprint, result_row

__all__ = ["METRICS", "METRIC_NAMES", "parse_metrics", "measure", "MeasureSummary", "summarise"]

ENGINE_METHOD = ("torch.utils.benchmark.Timer in a forked child per point and window, windows in fresh workers "
                 "at different times of the sweep, t interval on the window medians (helpers.measure.engine)")
MEMORY_METHOD_CPU = "VmHWM of a forked child per batch, reset by clear_refs, above the worker's baseline"
MEMORY_METHOD_CUDA = "cuda-allocator: max_memory_allocated above the worker's baseline"

METRICS = ("time", "memory", "power")
# the results-store metrics each kind of measurement writes
METRIC_NAMES = {
    "time": ("latency_per_image",),
    "memory": ("memory_static", "memory_peak"),
    "power": ("power_net", "energy_per_image"),
}


def parse_metrics(text: str | Iterable[str]) -> list[str]:
    """``"time,memory"`` → ``["time", "memory"]``; an unknown one → ValueError naming it."""
    items = split_list(text)
    bad = [t for t in items if t not in METRICS]
    if bad or not items:
        raise ValueError(f"bad metric {bad[0] if bad else text!r}: valid metrics are {', '.join(METRICS)}")
    return list(dict.fromkeys(items))


class _Recorder:
    """Appends rows for one device with this run's fingerprint, and answers 'already stored?'."""

    def __init__(self, store: ResultsStore, device: str, threads: int, force: bool, dtype: str = "float32",
                 runtime: str = "eager"):
        from helpers.measure.runtimes import runtime_label

        self.store, self.force = store, force
        self.tag = store.device_tag
        self.runtime, self.runtime_label = runtime, runtime_label(runtime)
        self.env = environment_fingerprint(device, threads, dtype, runtime=self.runtime_label)
        self.env.pop("timestamp", None)
        self.fingerprint = self.env["fingerprint"]
        self.journal = journal_path(store.path.parent, self.fingerprint, store.path.stem)
        self.written = 0

    def done(self, model: str, batch_size: int, metrics: Iterable[str]) -> bool:
        return not self.force and all(self.store.has(model, batch_size, m, fingerprint=self.fingerprint)
                                      for m in metrics)

    def add(self, model: str, batch_size: int, metric: str, **fields) -> None:
        if self.runtime != "eager":  # the runtimes study: each row names its runtime (a column when read)
            fields["details"] = {**(fields.get("details") or {}), "runtime": self.runtime,
                                 "runtime_version": self.runtime_label}
        self.store.append(result_row(device_tag=self.tag, model=model, batch_size=batch_size, metric=metric,
                                     **{**self.env, **fields}))
        self.written += 1


def _not_ok(status: str, reason: str, **fields) -> dict:
    return dict(status=status, reason=reason or status, **fields)


# --------------------------------------------------------------------------- time and memory
def _round6(x: float) -> float:
    return float(f"{x:.6g}")


def _latency_row(rec: "_Recorder", state, settings: EngineSettings, common: dict) -> None:
    model, b = state.model, state.batch
    failed = state.failed
    if failed is not None and not state.samples(settings.contention_share, clean_only=False):
        rec.add(model, b, "latency_per_image", method=ENGINE_METHOD,
                **_not_ok(failed.get("status", "error"), failed.get("reason", "")), **common)
        return
    s = state.summary(settings)
    within = s["within"]
    ok_visits = [v for v in state.visits if v.get("status") == "ok"]
    shares = [v["contended_share"] for v in ok_visits if v.get("contended_share") is not None]
    firsts = [v["first_pass_s"] for v in ok_visits if v.get("first_pass_counted")]

    def finite(x):
        return x if math.isfinite(x) else None

    details = {
        "per_batch_median_s": s["median"], "samples_s": [_round6(x) for x in s["samples"]],
        "ci_method": s["ci_method"], "rel_half_width": finite(s["rel_half_width"]),
        "imprecise_above": settings.imprecise_above,
        "window_medians_s": [_round6(x) for x in s["window_medians"]], "window_rounds": s["window_rounds"],
        "window_check_s": [_round6(x) if x else None for x in s["window_checks"]],
        "check_standard": CHECK_STANDARD,
        "within_window": {"median_s": within["median"], "ci_low_s": finite(within["low"]),
                          "ci_high_s": finite(within["high"]), "ci_method": within["ci_method"],
                          "rel_half_width": finite(within["rel_half_width"]), "n": within["n"]},
        "target_rel_ci": settings.target_rel_ci, "visits": len(state.visits),
        "rounds": sorted({v["round"] for v in state.visits}), "blocks": sorted({v.get("block", 1) for v in ok_visits}),
        "timed_s": state.timed_s(), "contended_visits": sum(1 for x in shares if x > settings.contention_share),
        "check_off_visits": sum(1 for v in ok_visits if v.get("check_off")),
        "max_contention": max(shares) if shares else None,
        "contention": "measured from /proc/stat" if shares else "not measurable here (no /proc/stat)",
        "first_pass_counted": bool(firsts),
        "first_pass_over_median": (sum(firsts) / len(firsts)) / s["median"] if firsts else None,
    }
    agreements = [v["agreement"] for v in ok_visits if v.get("agreement") is not None]
    if agreements:  # another runtime's output against eager's (helpers.measure.runtimes)
        from helpers.measure.runtimes import AGREEMENT_TOLERANCE

        details.update(agreement_max=max(agreements), agreement_tolerance=AGREEMENT_TOLERANCE)
    unchecked = next((v["agreement_unchecked"] for v in ok_visits if v.get("agreement_unchecked")), None)
    if unchecked:
        details["agreement_unchecked"] = unchecked
    rec.add(model, b, "latency_per_image", value=s["median"] / b, median=s["median"] / b,
            iqr=_iqr(s["samples"]) / b, ci_low=s["low"] / b if math.isfinite(s["low"]) else None,
            ci_high=s["high"] / b if math.isfinite(s["high"]) else None, n=s["n"], status="ok",
            flags=";".join(s["flags"]), method=ENGINE_METHOD, details=details, **common)


#: How the runtimes study reads a runtime's memory: it does not (see the rows' reason).
RUNTIME_MEMORY_REASON = ("not separable: the runtime converts the network in the measuring process, so its peak "
                         "resident memory holds the exporter's allocations and eager's model as well as the runtime's")


def _conversion_row(rec: "_Recorder", state, common: dict) -> None:
    """The runtime's conversion time (s) over the point's visits: a t interval between windows. Where a
    runtime caches its compilation on disk (torch.compile), a cold window and a cached one are different
    costs: the row is over the cached windows, and the cold ones' seconds are in its details."""
    from helpers.core.stats import window_interval

    visits = [v for v in state.visits if v.get("conversion_s")]
    if not visits:
        failed = state.failed or {"status": "error", "reason": "no conversion was timed"}
        rec.add(state.model, state.batch, "conversion_time",
                **_not_ok(failed.get("status", "error"), failed.get("reason", "")), **common)
        return
    details, what = {}, "the runtime's conversion in each window's point child"
    if any("conversion_cached" in v for v in visits):
        cold = [v["conversion_s"] for v in visits if not v.get("conversion_cached")]
        warm = [v for v in visits if v.get("conversion_cached")]
        details["cold_seconds"] = [_round6(x) for x in cold]
        if warm:
            visits, what = warm, (f"the compilation in each window's point child read from the runtime's on-disk "
                                  f"cache ({len(cold)} cold window(s) apart, in details)")
        else:
            what = "the compilation in each window's point child, none of them cached"
    seconds = [v["conversion_s"] for v in visits]
    centre, low, high, how = window_interval(seconds)
    details["seconds"] = [_round6(x) for x in seconds]
    rec.add(state.model, state.batch, "conversion_time", value=centre, median=centre,
            ci_low=low if math.isfinite(low) else None, ci_high=high if math.isfinite(high) else None,
            n=len(seconds), status="ok", method=f"{what}; {how}", details=details, **common)


def _iqr(samples: list[float]) -> float:
    import numpy as np

    return float(np.subtract(*np.percentile(samples, [75, 25]))) if len(samples) > 1 else math.nan


def _memory_estimate(readings: list[float], target: float, resolution: float = 0.0) -> dict:
    """Centre, 95 % interval over windows (``window_interval``), n and flags of one memory metric (MB).
    The interval is at least +-``resolution`` of the centre (a share): readings that agree within one run
    do not show what differs between runs."""
    from helpers.core.stats import window_interval
    from helpers.measure.engine import relative_half_width

    positive = [r for r in readings if r is not None and r > 0]
    if not positive:
        return {"value": max(readings) if readings else math.nan, "low": None, "high": None, "n": len(readings),
                "method": "no positive reading", "flags": "imprecise"}
    centre, low, high, method = window_interval(positive)
    if math.isfinite(low) and (low > centre * (1 - resolution) or high < centre * (1 + resolution)):
        low, high = min(low, centre * (1 - resolution)), max(high, centre * (1 + resolution))
        method += f", widened to +-{resolution:.0%} (the resolution between runs)"
    rel = relative_half_width(centre, low, high)
    return {"value": centre, "low": low if math.isfinite(low) else None, "high": high if math.isfinite(high) else None,
            "n": len(positive), "method": method, "flags": "" if rel <= target else "imprecise"}


def _memory_rows(rec: "_Recorder", state, common: dict, device: str, settings: EngineSettings) -> None:
    model, b = state.model, state.batch
    with_memory = [v for v in state.visits if v.get("status") == "ok" and v.get("memory")]
    statics = [st for st in state.statics if st.get("static_mb") is not None] or (
        [state.static] if state.static is not None else [])
    method = MEMORY_METHOD_CPU if device == "cpu" else MEMORY_METHOD_CUDA
    if not with_memory or not statics:
        first = state.visits[0] if state.visits else {"status": "error", "reason": "not visited"}
        reason = first.get("reason") or "no memory measured"
        status = first.get("status") if first.get("status") in ("skipped", "error") else "error"
        for metric in METRIC_NAMES["memory"]:
            rec.add(model, b, metric, method=method, **_not_ok(status, reason), **common)
        return
    memory = with_memory[0]["memory"]
    static = statics[0]
    details = {"param_mb": static.get("param_mb"), "baseline_mb": static.get("baseline_mb"),
               "input_mb": memory.get("input_mb"), "reserved_mb": memory.get("reserved_mb"),
               "forward_mb": memory.get("forward_mb"), "peak_source": memory.get("peak_source"),
               "imprecise_above": settings.memory_imprecise_above}
    readings = {"memory_static": [st["static_mb"] for st in statics],
                "memory_peak": [v["memory"]["peak_mb"] for v in with_memory]}
    for metric, values in readings.items():
        est = _memory_estimate(values, settings.memory_imprecise_above, settings.memory_resolution)
        rec.add(model, b, metric, value=est["value"], median=est["value"], ci_low=est["low"], ci_high=est["high"],
                n=est["n"], status="ok", method=method, flags=est["flags"],
                details={**details, "readings_mb": [_round6(x) for x in values], "ci_method": est["method"]},
                **common)


def _engine(rec: "_Recorder", specs, sizes, metrics, device: str, threads: int, settings: EngineSettings,
            progress: bool, precision: str = "fp32", runtime: str = "eager") -> None:
    from helpers.measure.dtypes import dtype_name, support
    from helpers.measure.engine import run_sweep
    from helpers.measure.runtimes import unavailable_reason

    other = runtime != "eager"
    want_time, want_memory = "time" in metrics, "memory" in metrics
    names = [m for k in ("time", "memory") if k in metrics for m in METRIC_NAMES[k]]
    if other and want_time:
        names.append("conversion_time")
    common = dict(unit="s", device=device, threads=threads, dtype=dtype_name(precision))
    runtime_reason = unavailable_reason(runtime, device) if other else None
    points = []
    for spec in specs:
        reason = support(precision, device, spec.name) if precision != "fp32" else None
        for b in sizes:
            if rec.done(spec.name, b, names):
                continue
            if reason or runtime_reason:  # said, never measured through an emulated fallback or eager
                why = f"{precision}: {reason}" if reason else runtime_reason
                for metric in names:
                    rec.add(spec.name, b, metric, method="not measured", **_not_ok("unavailable", why),
                            **{**common, "unit": "MB" if metric.startswith("memory") else "s"})
                continue
            points.append((spec.name, b))
    journal = rec.journal
    if not points:
        journal.unlink(missing_ok=True)
        return

    def finished(state) -> None:
        if want_time and not rec.done(state.model, state.batch, METRIC_NAMES["time"]):
            _latency_row(rec, state, settings, common)
        if want_time and other and not rec.done(state.model, state.batch, ["conversion_time"]):
            _conversion_row(rec, state, common)
        if want_memory and not rec.done(state.model, state.batch, METRIC_NAMES["memory"]):
            if other:
                for metric in METRIC_NAMES["memory"]:
                    rec.add(state.model, state.batch, metric, method="not measured",
                            **_not_ok("unavailable", RUNTIME_MEMORY_REASON), **{**common, "unit": "MB"})
            else:
                _memory_rows(rec, state, {**common, "unit": "MB"}, device, settings)

    run_sweep(points, device=device, threads=threads, settings=settings, journal=journal,
               on_point_done=finished, progress=progress, precision=precision, runtime=runtime,
               desc=f"measuring on {rec.tag}" + (f" ({precision})" if precision != "fp32" else "")
               + (f" ({runtime})" if other else ""))
    journal.unlink(missing_ok=True)


# --------------------------------------------------------------------------- power
def _power_model(rec: _Recorder, spec, batch_sizes, device, threads, window_s, probe, idle, unavailable,
                 bar) -> None:
    from helpers.measure.power import PowerWindow, net_of_idle

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
    from helpers.measure.power import PowerWindow, ProbeUnavailable, open_probe

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
            force: bool = False, settings: EngineSettings | None = None, power_window_s: float = 10.0,
            progress: bool = True, precision: str = "fp32", study: str = "batch",
            runtime: str = "eager") -> ResultsStore:
    """Measure every (model, batch size, metric) not yet stored for this fingerprint; return the device's store.

    ``results_root`` defaults to data/results; the store is
    ``<results_root>/<device-tag>/``. Time and memory go through the engine
    (helpers.measure.engine) with ``settings`` (default: the full profile's); power
    windows last ``power_window_s`` seconds. Rows of another fingerprint
    (other hardware, threads, dtype or torch) are never reused. A second run
    on the same store at the same time is refused (StoreBusy). ``precision``
    (helpers.measure.dtypes: fp32, bf16, fp16, int8) is the numeric type of model
    and input; a model or device without native support gets "unavailable"
    rows saying why. ``runtime`` (helpers.measure.runtimes: eager, compile, onnxruntime, openvino) is what runs the
    network, in fp32 only; a runtime that is not installed or cannot take a model gets "unavailable" rows
    with its reason, and another runtime's memory is not read (its rows say why).
    ``study`` picks the store (helpers.store.results.STUDY_FILES). A ``results_root``
    in data/recorded (helpers.core.paths.RECORDED_DIR) is refused: a recorded run is read-only.
    """
    from tqdm.auto import tqdm

    from helpers.core.paths import check_writable

    check_writable(results_root)

    from helpers.measure.dtypes import dtype_name, parse_precisions
    from helpers.measure.profiles import get_profile, parse_batch_sizes

    metrics = parse_metrics(metrics if isinstance(metrics, str) else list(metrics))
    sizes = parse_batch_sizes(list(batch_sizes) if not isinstance(batch_sizes, str) else batch_sizes)
    device = resolve_device(device)
    threads = resolve_threads(threads)
    specs = resolve_models(models)
    settings = machine_targets(settings or get_profile("full").engine, make_device_tag(device))
    if power_window_s <= 0:
        raise ValueError(f"power_window_s must be positive, got {power_window_s}")
    precision = parse_precisions([precision])[0]
    if precision != "fp32" and "power" in metrics:
        raise ValueError(f"power is measured in fp32 only, not {precision}: leave power out of the metrics")
    from helpers.measure.runtimes import parse_runtimes

    runtime = parse_runtimes([runtime])[0]
    if runtime != "eager" and (precision != "fp32" or "power" in metrics):
        raise ValueError(f"runtime {runtime!r} is measured in fp32, time and memory only (got precision "
                         f"{precision!r}, metrics {metrics})")
    store = ResultsStore.for_device(make_device_tag(device), root=results_root, study=study)
    with store.exclusive():
        rec = _Recorder(store, device, threads, force, dtype_name(precision), runtime)
        if force:
            rec.journal.unlink(missing_ok=True)
        if "time" in metrics or "memory" in metrics:
            _engine(rec, specs, sizes, metrics, device, threads, settings, progress, precision, runtime)
        if "power" in metrics:
            torch.set_num_threads(threads)
            total = len(specs) * len(sizes)
            with tqdm(total=total, desc=f"power on {store.device_tag}", unit="point", disable=not progress) as bar:
                probe, idle, unavailable = _open_power(device, power_window_s)
                try:
                    for spec in specs:
                        _power_model(rec, spec, sizes, device, threads, power_window_s, probe, idle, unavailable,
                                     bar)
                finally:
                    if probe is not None:
                        probe.close()
    store.fingerprint = rec.fingerprint
    return store


#: The share of a quiet run's points that meet the ``imprecise`` target taken from it (:func:`machine_targets`).
TARGET_SHARE = 0.8
#: Fewest window-interval points a recorded run needs before its widths set this machine's targets.
TARGET_MIN_POINTS = 20


def _window_half_widths(rows, metric: str) -> list[float]:
    """Relative half-widths of a recorded run's ok ``metric`` points whose interval is between windows."""
    import json

    ok = rows[(rows["metric"] == metric) & (rows["status"] == "ok")]
    out = []
    for r in ok.itertuples():
        try:
            details = json.loads(r.details) if isinstance(r.details, str) and r.details else {}
        except ValueError:
            details = {}
        between = (len(details.get("window_medians_s") or []) >= 2 if metric == "latency_per_image"
                   else len(details.get("readings_mb") or []) >= 2)
        if between and r.value and math.isfinite(r.ci_low) and math.isfinite(r.ci_high):
            out.append((r.ci_high - r.ci_low) / 2 / r.value)
    return out


def machine_targets(settings: EngineSettings, device_tag: str, root=None) -> EngineSettings:
    """``settings`` with its ``imprecise`` targets taken from the recorded run of this machine type (the same
    device tag under ``root``, default data/recorded): the half-width that :data:`TARGET_SHARE` of its points
    met, time and peak memory each, where it has at least :data:`TARGET_MIN_POINTS` points with intervals
    between windows. Otherwise (no recorded run of this machine, or one recorded before windows), and for a
    target set to anything but the default, ``settings`` as they are."""
    import numpy as np

    from helpers.core.paths import RECORDED_DIR
    from helpers.store.results import load_results

    rows = load_results(root if root is not None else RECORDED_DIR, [device_tag])
    if rows.empty:
        return settings
    changes = {}
    defaults = EngineSettings()
    for metric, name in (("latency_per_image", "imprecise_above"), ("memory_peak", "memory_imprecise_above")):
        if getattr(settings, name) != getattr(defaults, name):
            continue  # chosen on purpose: kept
        widths = _window_half_widths(rows, metric)
        if len(widths) >= TARGET_MIN_POINTS:
            changes[name] = round(float(np.quantile(widths, TARGET_SHARE)), 3)
    return dataclasses.replace(settings, **changes) if changes else settings


@dataclasses.dataclass
class MeasureSummary:
    """What a run's rows say about how their numbers were obtained."""

    rows: int
    statuses: dict
    timing_points: int
    flagged: dict          # flag -> list of "model b=N"
    median_rel_ci: float   # median over timing points of the interval's half-width / median
    precise_points: int = 0   # timing points within their target (not flagged imprecise)
    memory_points: int = 0    # peak-memory points with a reading
    memory_precise: int = 0   # of those, within the memory target
    memory_median_rel_ci: float = math.nan
    target: float = math.nan          # the imprecise target of the timing points (a share), where they record it
    memory_target: float = math.nan

    def lines(self) -> list[str]:
        out = [f"{self.rows} rows ({', '.join(f'{v} {k}' for k, v in self.statuses.items()) or 'none'})"]
        if self.timing_points:
            out.append(f"{self.timing_points} timing points; 95 % interval (over windows) half-width: median "
                       f"{100 * self.median_rel_ci:.1f} % of the value; {self.precise_points} of "
                       f"{self.timing_points} ({100 * self.precise_points / self.timing_points:.0f} %) within "
                       f"the target" + (f" (+-{100 * self.target:.0f} %)" if math.isfinite(self.target) else ""))
        if self.memory_points:
            out.append(f"{self.memory_points} peak-memory points; half-width: median "
                       f"{100 * self.memory_median_rel_ci:.1f} %; {self.memory_precise} "
                       f"({100 * self.memory_precise / self.memory_points:.0f} %) within the target"
                       + (f" (+-{100 * self.memory_target:.0f} %)" if math.isfinite(self.memory_target) else ""))
        for flag, points in self.flagged.items():
            if points:
                shown = ", ".join(points[:6]) + (f" and {len(points) - 6} more" if len(points) > 6 else "")
                out.append(f"{len(points)} flagged {flag}: {shown}")
        return out


def summarise(table) -> MeasureSummary:
    """Counts of statuses and flags in a results frame (one fingerprint's rows)."""
    from helpers.store.schema import FLAGS

    statuses = table["status"].value_counts().to_dict() if len(table) else {}
    ok = table[table["status"] == "ok"] if len(table) else table
    timing = ok[ok["metric"] == "latency_per_image"] if len(table) else table
    flagged = {f: [f"{r.model} b={r.batch_size}" for r in timing.itertuples() if f in str(r.flags).split(";")]
               for f in FLAGS}
    rel = ((timing["ci_high"] - timing["ci_low"]) / 2 / timing["median"]).dropna() if len(timing) else []
    peak = ok[ok["metric"] == "memory_peak"] if len(table) else table
    peak_rel = ((peak["ci_high"] - peak["ci_low"]) / 2 / peak["value"]).dropna() if len(peak) else []

    def precise(rows) -> int:
        return sum(1 for f in rows["flags"] if "imprecise" not in str(f).split(";")) if len(rows) else 0

    def target(rows) -> float:
        import json

        values = set()
        for d in (rows["details"] if len(rows) else []):
            try:
                v = json.loads(d).get("imprecise_above") if isinstance(d, str) and d else None
            except ValueError:
                v = None
            if v is not None:
                values.add(float(v))
        return values.pop() if len(values) == 1 else math.nan

    return MeasureSummary(len(table), statuses, len(timing), flagged,
                          float(rel.median()) if len(rel) else math.nan, precise(timing), len(peak), precise(peak),
                          float(peak_rel.median()) if len(peak_rel) else math.nan, target(timing), target(peak))


def interval_width_table(results, device_tag: str | None = None):
    """Per timing point: n, the 95 % interval's half-width as % of the median, and its flags.

    One row per (model, batch_size) of ``latency_per_image`` with status ok,
    from a results frame (``helpers.store.results.load_results``).
    """
    import pandas as pd

    rows = results[(results["metric"] == "latency_per_image") & (results["status"] == "ok")]
    if device_tag is not None:
        rows = rows[rows["device_tag"] == device_tag]
    half = (rows["ci_high"] - rows["ci_low"]) / 2 / rows["median"] * 100
    return pd.DataFrame({"model": rows["model"], "batch_size": rows["batch_size"], "n": rows["n"],
                         "ci_half_width_pct": half.round(2), "flags": rows["flags"]}).reset_index(drop=True)
