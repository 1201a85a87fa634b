"""Inference time against batch size (the paper's Figs 3 and 7).

The protocol (DESIGN.md section 6):

* ``torch.utils.benchmark.Timer(stmt="model(x)", num_threads=threads)``, with
  the thread count set explicitly (the Timer's own default is 1 thread), under
  ``torch.inference_mode()``, the model in eval mode and the input already on
  the device. On CUDA ``cudnn.benchmark`` is switched on and the Timer
  synchronises the device around every timed block.
* Adaptive repetition by time budget, not a fixed number of loops:
  ``blocked_autorange(min_run_time=...)`` first picks a block size (how many
  forward passes one measurement times, so that timer overhead is negligible;
  this probing also serves as warm-up) and then takes measurements until
  ``min_run_time`` seconds have been timed. A large batch of a heavy model may
  take longer than ``min_run_time`` per forward pass, which would leave one or
  two measurements; then further blocks of the same size (a single forward
  pass, for any model that slow) are timed until there are
  ``min_measurements`` of them, or until ``max_run_time`` seconds have been
  timed in all, whichever comes first (``n`` says honestly how many there are;
  ``method`` gains ``+timeit(k)`` when this happened). When the warm-up pass
  alone exceeds ``min_run_time``, and the first timed pass confirms it,
  blocked_autorange is not called at all (its probing would cost one more
  pass only to settle on a block of one): ``method`` is then
  ``torch.utils.benchmark.Timer.timeit(1)``.
* Every measurement is normalised to one forward pass (the Measurement's
  ``.times``) and all of them are pooled into one list (the same pooling as
  ``torch.utils.benchmark.Measurement.merge``, done by concatenating times, so
  the top-up blocks need no Measurement of their own). The reported per-batch
  time is the median of that list, and its spread the interquartile range
  (linear-interpolation quartiles, as the Measurement's own ``.iqr``); per-image
  values are those divided by the batch size.
* A batch that does not fit in memory is a *skipped* result with its reason
  (the paper's missing points), any other failure an *error* result; neither
  ever raises, and both carry NaN times, never 0.

>>> import torch
>>> r = measure_latency(torch.nn.Linear(8, 8).eval(), torch.randn(4, 8), threads=1,
...                     device="cpu", min_run_time=0.01)
>>> r.status, r.batch_size, r.n >= 5
('ok', 4, True)
"""
from __future__ import annotations

import contextlib
import gc
import math
import operator
import os
import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, Iterator

import torch
from torch import nn

__all__ = [
    "DEFAULT_BATCH_SIZES",
    "DEFAULT_MIN_RUN_TIME",
    "DEFAULT_MAX_RUN_TIME",
    "DEFAULT_MIN_MEASUREMENTS",
    "LatencyResult",
    "measure_latency",
    "sweep_latency",
    "resolve_threads",
    "resolve_device",
    "is_out_of_memory",
]

# The paper's batch sizes.
DEFAULT_BATCH_SIZES: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)
# Seconds of timed forward passes per point. Chosen with `python -m helpers.cli.bench`:
# at 1 s the protocol costs less wall time than Bianco et al.'s 10 + 10 runs on
# its points (at 2 s slightly more), and its median survives the stalls that
# wreck a 10-run mean (figures in helpers/cli/bench.py's docstring).
DEFAULT_MIN_RUN_TIME: float = 1.0
# At least this many measurements per point, time allowing (see max_run_time).
DEFAULT_MIN_MEASUREMENTS: int = 5
# Upper bound on the seconds timed for one point when topping up to
# min_measurements with single forward passes (slow, large batches).
DEFAULT_MAX_RUN_TIME: float = 30.0
# A forward pass expected to last at least this long (s) is timed without warm-up.
SLOW_PASS_S: float = 2.0

METHOD = "torch.utils.benchmark.blocked_autorange"

_OOM_PATTERNS = (
    "out of memory",
    "not enough memory",
    "can't allocate memory",
    "cannot allocate memory",
    "failed to allocate",
)


@dataclass
class LatencyResult:
    """One inference-time point: a model at a batch size on a device.

    Times are seconds. ``n`` is the number of measurements (each the time of one
    forward pass, averaged over its block), ``total_runs`` the number of forward
    passes they timed, ``wall_s`` the wall time spent on the point including
    warm-up and block-size probing. Skipped and error results have NaN times.
    """

    model: str
    batch_size: int
    device: str
    dtype: str
    threads: int
    per_image_median_s: float = math.nan
    per_image_iqr_s: float = math.nan
    per_batch_median_s: float = math.nan
    n: int = 0
    total_runs: int = 0
    wall_s: float = math.nan
    status: str = "ok"  # "ok", "skipped" (did not fit in memory) or "error"
    reason: str = ""
    method: str = METHOD
    min_run_time_s: float = math.nan
    times_s: list[float] = field(default_factory=list, repr=False)  # per-batch, per forward pass

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def images_per_s(self) -> float:
        """Throughput implied by the per-image median (NaN unless ok)."""
        return 1.0 / self.per_image_median_s if self.ok and self.per_image_median_s > 0 else math.nan

    def as_dict(self, with_times: bool = False) -> dict[str, Any]:
        """A flat dict (for a results row); the raw times only when asked."""
        d = asdict(self)
        if not with_times:
            d.pop("times_s")
        return d


# --------------------------------------------------------------------------- resolution
def resolve_threads(threads: int | None) -> int:
    """The intra-op thread count to time with.

    ``None`` means torch's current setting (``torch.get_num_threads()``, which
    follows ``OMP_NUM_THREADS`` and defaults to the physical cores), falling
    back to ``os.cpu_count()``. Anything but a positive integer is a ValueError.
    """
    if threads is None:
        n = torch.get_num_threads() or os.cpu_count() or 1
        return int(n)
    value = None
    if not isinstance(threads, bool):
        if isinstance(threads, str) and threads.strip().isdigit():  # "4" from a command line
            value = int(threads)
        else:
            try:
                value = operator.index(threads)  # int, numpy integers
            except TypeError:
                value = None
    if value is None or value < 1:
        raise ValueError(f"threads must be a positive integer or None, got {threads!r}")
    threads = value
    return threads


def resolve_device(device: str | torch.device | None = "auto") -> str:
    """A canonical device string: ``"cpu"`` or ``"cuda:N"``.

    ``"auto"`` (or None) is ``"cuda:0"`` when CUDA is available, else ``"cpu"``.
    ``"cuda"`` is ``"cuda:0"``. Asking for CUDA on a machine without it, or for
    a GPU index that does not exist, is a ValueError that says so.
    """
    valid = "'auto', 'cpu', 'cuda' or 'cuda:N'"
    if device is None:
        device = "auto"
    if isinstance(device, torch.device):
        device = str(device)
    if not isinstance(device, str):
        raise ValueError(f"unknown device {device!r}; valid devices: {valid}")
    name = device.strip().lower()
    if name == "auto":
        return "cuda:0" if torch.cuda.is_available() else "cpu"
    if name == "cpu":
        return "cpu"
    if name == "cuda" or name.startswith("cuda:"):
        index_text = name[5:] if name.startswith("cuda:") else "0"
        if not index_text.isdigit():
            raise ValueError(f"unknown device {device!r}; valid devices: {valid}")
        if not torch.cuda.is_available():
            raise ValueError(
                f"device {device!r} asked for, but CUDA is not available on this machine "
                f"(torch {torch.__version__}); use 'cpu' or 'auto'")
        index = int(index_text)
        count = torch.cuda.device_count()
        if index >= count:
            raise ValueError(f"device {device!r} does not exist: this machine has {count} CUDA "
                             f"device(s), cuda:0..cuda:{count - 1}")
        return f"cuda:{index}"
    raise ValueError(f"unknown device {device!r}; valid devices: {valid}")


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether an exception means "this batch does not fit in memory".

    ``torch.OutOfMemoryError`` (CUDA and other accelerators), ``MemoryError``,
    and RuntimeErrors whose message says so (CPU: "DefaultCPUAllocator: can't
    allocate memory", "not enough memory").
    """
    if isinstance(exc, (torch.OutOfMemoryError, MemoryError)):
        return True
    if isinstance(exc, RuntimeError):
        message = str(exc).lower()
        return any(p in message for p in _OOM_PATTERNS)
    return False


def _short(exc: BaseException, limit: int = 300) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _free_after_oom(device: str) -> None:
    gc.collect()
    if device.startswith("cuda") and torch.cuda.is_available():
        torch.cuda.empty_cache()


@contextlib.contextmanager
def _num_threads(n: int):
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _quantile(sorted_values: list[float], q: float) -> float:
    """Linear-interpolation quantile (numpy's default, and torch.quantile's)."""
    if not sorted_values:
        return math.nan
    pos = (len(sorted_values) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


# --------------------------------------------------------------------------- measurement
def measure_latency(
    model: nn.Module,
    x: torch.Tensor,
    *,
    threads: int | None,
    device: str | torch.device | None = None,
    min_run_time: float = DEFAULT_MIN_RUN_TIME,
    min_measurements: int = DEFAULT_MIN_MEASUREMENTS,
    max_run_time: float = DEFAULT_MAX_RUN_TIME,
    warmup: int = 1,
    label: str = "",
    expected_pass_s: float | None = None,
) -> LatencyResult:
    """Time ``model(x)``: per-image median and IQR over an adaptive number of runs.

    ``model`` and ``x`` must already be on ``device`` (default: ``x``'s device);
    the batch size is ``x.shape[0]``. ``warmup`` untimed forward passes run
    first (they also surface an out-of-memory batch before the Timer starts).
    At least one measurement is always taken; more up to ``min_measurements``
    while no more than ``max_run_time`` seconds have been timed. ``n == 1``
    gives a NaN IQR.
    Never raises for a failing forward pass: out of memory gives status
    ``"skipped"``, anything else ``"error"``, both with NaN times.
    """
    if min_run_time <= 0:
        raise ValueError(f"min_run_time must be positive, got {min_run_time!r}")
    if min_measurements < 1:
        raise ValueError(f"min_measurements must be at least 1, got {min_measurements!r}")
    if warmup < 0:
        raise ValueError(f"warmup must be 0 or more, got {warmup!r}")
    threads = resolve_threads(threads)
    dev = resolve_device(device) if device is not None else (
        "cpu" if x.device.type == "cpu" else str(x.device) if x.device.index is not None
        else f"{x.device.type}:0")
    batch = int(x.shape[0]) if x.dim() > 0 else 1
    name = label or type(model).__name__
    result = LatencyResult(model=name, batch_size=batch, device=dev,
                           dtype=str(x.dtype).removeprefix("torch."), threads=threads,
                           min_run_time_s=float(min_run_time))
    start = time.perf_counter()
    try:
        model.eval()
        if dev.startswith("cuda"):
            torch.backends.cudnn.benchmark = True
        from torch.utils import benchmark

        timer = benchmark.Timer(stmt="model(x)", globals={"model": model, "x": x},
                                num_threads=threads, label=name,
                                description=f"batch {batch}")
        cuda = dev.startswith("cuda")
        # A forward pass expected to take seconds (extrapolated by the caller from a
        # smaller batch of the same model) is dominated by arithmetic: first-call
        # costs (kernel selection, allocator growth) are milliseconds, below its
        # noise. Neither a warm-up nor blocked_autorange's probing pass buys
        # anything there, so single passes are timed straight away.
        slow = expected_pass_s is not None and expected_pass_s >= max(min_run_time, SLOW_PASS_S)
        if slow:
            warmup = 0
            result.method = "torch.utils.benchmark.Timer.timeit(1), no warm-up (slow pass)"
        last_warmup = 0.0
        with torch.inference_mode(), _num_threads(threads):
            for _ in range(warmup):
                if cuda:
                    torch.cuda.synchronize(dev)
                t0 = time.perf_counter()
                model(x)
                if cuda:
                    torch.cuda.synchronize(dev)
                last_warmup = time.perf_counter() - t0
        times: list[float] = []
        total_runs = 0
        timed = 0.0
        block = 1
        if warmup and last_warmup >= min_run_time:
            # One warm forward pass already exceeds the budget: blocked_autorange
            # would spend one more pass probing, settle on a block of 1 and
            # time a single pass. Time single passes directly instead, unless
            # the first one shows that the warm-up was merely disturbed (then
            # it counts as one more warm-up pass and blocked_autorange runs).
            with torch.inference_mode(), _num_threads(threads):
                first = _time_block(timer, 1)
            if first >= min_run_time / 2:
                times, total_runs, timed = [first], 1, first
                result.method = "torch.utils.benchmark.Timer.timeit(1)"
        if not times and not slow:
            with torch.inference_mode():
                measurement = timer.blocked_autorange(min_run_time=min_run_time)
            times = list(measurement.times)
            block = measurement.number_per_run
            total_runs = len(measurement.raw_times) * block
            timed = sum(measurement.raw_times)
        if len(times) < min_measurements:
            # Top up with further blocks of the same size (1 for any forward pass
            # slow enough to need this at a sensible min_run_time).
            topped_up = False
            with torch.inference_mode(), _num_threads(threads):
                while len(times) < min_measurements and (not times or timed < max_run_time):
                    t = _time_block(timer, block)
                    times.append(t / block)
                    timed += t
                    total_runs += block
                    topped_up = True
            if topped_up and result.method == METHOD:
                result.method = f"{METHOD}+timeit({block})"
    except Exception as exc:  # noqa: BLE001 - every failure becomes a recorded result
        result.wall_s = time.perf_counter() - start
        if is_out_of_memory(exc):
            _free_after_oom(dev)
            result.status = "skipped"
            result.reason = f"out of memory at batch {batch}: {type(exc).__name__}: {_short(exc)}"
        else:
            result.status = "error"
            result.reason = f"{type(exc).__name__}: {_short(exc)}"
        return result
    result.wall_s = time.perf_counter() - start
    ordered = sorted(times)
    median = statistics.median(ordered)
    # One measurement has no spread to report: NaN, not a misleading 0.
    iqr = _quantile(ordered, 0.75) - _quantile(ordered, 0.25) if len(ordered) > 1 else math.nan
    result.per_batch_median_s = median
    result.per_image_median_s = median / batch
    result.per_image_iqr_s = iqr / batch
    result.n = len(times)
    result.total_runs = total_runs
    result.times_s = times
    return result


def _time_block(timer, number: int) -> float:
    """Seconds of ``number`` back-to-back forward passes through the Timer.

    Synchronised on CUDA like every Timer measurement. ``Timer.timeit(n)``
    would first run ``max(n // 100, 2)`` untimed warm-up passes before each
    timed block, tripling the cost of exactly the slow points this is for; the
    Timer's own block primitive (what blocked_autorange calls) avoids that. The
    public call is the fallback should that primitive ever go away.
    """
    block = getattr(timer, "_timeit", None)
    if callable(block):
        return float(block(number))
    return float(timer.timeit(number).raw_times[0])


# --------------------------------------------------------------------------- sweep
def sweep_latency(
    model_name,
    batch_sizes: Iterable[int] = DEFAULT_BATCH_SIZES,
    *,
    device: str | torch.device | None = "auto",
    threads: int | None = None,
    min_run_time: float = DEFAULT_MIN_RUN_TIME,
    min_measurements: int = DEFAULT_MIN_MEASUREMENTS,
    max_run_time: float = DEFAULT_MAX_RUN_TIME,
    warmup: int = 1,
    skip: Callable[[int], str | None] | None = None,
    model: nn.Module | None = None,
) -> Iterator[LatencyResult]:
    """One LatencyResult per batch size, building the model once.

    ``model_name`` is a registry name or ModelSpec (helpers.models.zoo); pass ``model``
    to time an already built module instead (its input size still comes from
    the spec). Once a batch size does not fit in memory, the larger ones are
    yielded as skipped ("larger than batch N, which did not fit") without being
    tried. ``skip(batch_size)`` may return a reason to skip a batch before it is
    tried (for example when the memory sweep says it would not fit in RAM,
    where the kernel would kill the process instead of raising). A model that
    cannot be built yields an error (or skipped) result for every batch size;
    the generator itself never raises for a measurement failure.
    """
    from helpers.models import zoo

    batch_sizes = [int(b) for b in batch_sizes]
    for b in batch_sizes:
        if b < 1:
            raise ValueError(f"batch sizes must be positive integers, got {b!r}")
    dev = resolve_device(device)
    threads = resolve_threads(threads)
    spec = model_name if isinstance(model_name, zoo.ModelSpec) else zoo.get_spec(model_name)
    name = spec.name

    def empty(batch: int, status: str, reason: str) -> LatencyResult:
        return LatencyResult(model=name, batch_size=batch, device=dev, dtype="float32",
                             threads=threads, status=status, reason=reason,
                             min_run_time_s=float(min_run_time))

    try:
        net = model if model is not None else zoo.build_model(spec, device=dev)
        net = net.to(dev).eval()
    except Exception as exc:  # noqa: BLE001
        status = "skipped" if is_out_of_memory(exc) else "error"
        if status == "skipped":
            _free_after_oom(dev)
        reason = f"model could not be built on {dev}: {type(exc).__name__}: {_short(exc)}"
        for b in batch_sizes:
            yield empty(b, status, reason)
        return

    did_not_fit: int | None = None
    try:
        for b in batch_sizes:
            if did_not_fit is not None and b > did_not_fit:
                yield empty(b, "skipped", f"larger than batch {did_not_fit}, which did not fit")
                continue
            reason = skip(b) if skip is not None else None
            if reason:
                yield empty(b, "skipped", reason)
                continue
            try:
                x = zoo.example_input(spec, b, device=dev)
            except Exception as exc:  # noqa: BLE001
                if is_out_of_memory(exc):
                    _free_after_oom(dev)
                    did_not_fit = b if did_not_fit is None else min(did_not_fit, b)
                    yield empty(b, "skipped", f"out of memory at batch {b} (input): "
                                              f"{type(exc).__name__}: {_short(exc)}")
                else:
                    yield empty(b, "error", f"{type(exc).__name__}: {_short(exc)}")
                continue
            result = measure_latency(net, x, threads=threads, device=dev,
                                     min_run_time=min_run_time,
                                     min_measurements=min_measurements,
                                     max_run_time=max_run_time, warmup=warmup, label=name)
            del x
            if result.status == "skipped":
                did_not_fit = b if did_not_fit is None else min(did_not_fit, b)
            yield result
    finally:
        del net
        if dev.startswith("cuda") and torch.cuda.is_available():
            torch.cuda.empty_cache()
