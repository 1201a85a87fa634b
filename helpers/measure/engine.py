"""The measurement engine: time and memory of every (model, batch) point in one sweep.

Design (DESIGN.md sections 6 and 7):

* **Workers.** A ``forkserver`` process imports torch once and has never run a
  forward pass. For each round and model it forks a *worker* that builds the
  model (static memory: peak resident memory after building, above the
  worker's baseline) and then, for each batch size, forks a *point child*
  (CPU) that resets the peak (``/proc/self/clear_refs``), runs the warm-up
  pass (whose peak above the baseline is the batch's peak memory) and the
  timed passes, and reports back. Forking a child per batch from a process
  that has not started an OpenMP pool costs milliseconds where a fresh
  interpreter per point cost seconds, and gives each batch a clean peak. On
  CUDA the worker measures every batch itself (a CUDA context cannot cross a
  fork), with the allocator's peak counters.
* **Rounds.** Each point's passes are spread over at least ``rounds`` rounds;
  every round visits the models, and each model's batch sizes, in an order
  shuffled with a seeded generator, so slow drift of the machine lands on all
  points alike. Rounds after the planned ones make up for samples set aside
  as contended (and, if asked, for imprecision), up to ``max_rounds``.
* **Warm-up.** In each process a point first runs ``warmup_s`` seconds of
  passes (at least one): a fresh process's first passes are slow (caches,
  allocator, the back ends' kernel choices). A pass of ``slow_pass_s`` or more
  has one warm-up pass, timed and counted as a sample: start-up costs are a
  few percent of such a pass (``details.first_pass_over_median`` says how
  much, point by point), and three passes per point are what fits the sweep.
* **Precision.** A sample is one forward pass, or a block of passes of at
  least 20 ms, averaged. The median's 95 % interval is distribution-free: the
  order-statistic (binomial) interval of ``scipy.stats.quantile_test`` when
  there are 6 samples or more; with fewer (slow passes) a Student-t interval
  on the logarithms of the times, which is wider and assumes log-normal noise
  (the row's ``details.ci_method`` says which).
* **Contention.** Around each visit's timed passes the point child reads the
  CPU time of every core it may run on (``/proc/stat``) and its own CPU time;
  what other processes used (and a hypervisor's steal) as a share of the
  cores is the visit's contention. A contended visit's samples are set
  aside and the point is measured again in a later round; if too few clean
  samples remain, the contended ones are used and the point is flagged.
* **Flags.** ``unstable``: a sample over 3x the median (as pyperf warns);
  ``imprecise``: the interval is still wider than the target at the cap;
  ``contended``: see above.

Every visit is journalled (``.partial-<fingerprint>.jsonl`` beside the store)
as it returns, so an interrupted sweep resumes without repeating visits; a
point's row is written once its last round is done.
"""
from __future__ import annotations

import gc
import json
import logging
import math
import multiprocessing as mp
import os
import random
import select
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from helpers.core.procfs import CpuReading, read_cpu
from helpers.core.stats import median_interval
from helpers.core.units import KIB, MB
from helpers.measure.profiles import EngineSettings

# torch.utils.benchmark imports cpp_extension, which warns "No CUDA runtime is found" on every CPU-only
# machine, once per process the engine starts: harmless, and said once in the README instead.
logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)

__all__ = ["relative_half_width", "is_unstable", "contention",
           "PointState", "run_sweep"]

MIN_BLOCK_S = 0.02  # seconds: a sample of fast passes times a block at least this long


# --------------------------------------------------------------------------- statistics
def relative_half_width(median: float, low: float, high: float) -> float:
    """The interval's larger distance from the median, as a fraction of it (inf without an interval)."""
    if not (math.isfinite(low) and math.isfinite(high)) or median <= 0:
        return math.inf
    return max(median - low, high - median) / median


def is_unstable(samples: Iterable[float], factor: float = 3.0) -> bool:
    """Whether any sample exceeds ``factor`` times the median (pyperf's warning)."""
    import statistics

    xs = list(samples)
    return bool(xs) and max(xs) > factor * statistics.median(xs)


# --------------------------------------------------------------------------- contention
def contention(before: dict | CpuReading | None, after: dict | CpuReading | None) -> float:
    """Share of our cores (0-1) that other processes and steal used between two readings; NaN without readings."""
    if before is None or after is None:
        return math.nan
    b = before if isinstance(before, CpuReading) else CpuReading(**before)
    a = after if isinstance(after, CpuReading) else CpuReading(**after)
    wall = a.wall_s - b.wall_s
    if wall <= 0:
        return math.nan
    others = max(0.0, (a.busy_s - b.busy_s) - (a.own_s - b.own_s)) + max(0.0, a.steal_s - b.steal_s)
    return min(1.0, others / (wall * a.cores))


# --------------------------------------------------------------------------- peak memory
def _status_kib(field_name: str) -> int | None:
    """A field of /proc/self/status in KiB (helpers.measure.memory reads it the same way); None where unreadable."""
    from helpers.measure.memory import _PeakRss

    return _PeakRss._status_kib(field_name)


def _rss() -> int:
    kib = _status_kib("VmRSS")
    if kib is not None:
        return kib * KIB
    import psutil

    return int(psutil.Process().memory_info().rss)


def _hwm() -> int:
    kib = _status_kib("VmHWM")
    if kib is not None:
        return kib * KIB
    import resource

    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(maxrss if sys.platform == "darwin" else maxrss * KIB)


def _rss_file() -> int:
    """Resident pages mapped from files (code of the libraries), bytes; 0 where unknown."""
    kib = _status_kib("RssFile")
    return kib * KIB if kib is not None else 0


def _malloc_trim() -> None:
    """Give free heap memory back to the system (glibc), so a fork's peak starts from what is in use."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


# --------------------------------------------------------------------------- one visit
def _visit(model, spec, device: str, threads: int, batch: int, budget_s: float, min_samples: int,
           min_samples_slow: int, settings: EngineSettings, memory: dict | None, protocol: str = "engine",
           expected_pass_s: float | None = None, precision: str = "fp32") -> dict:
    """Warm-up (peak memory when ``memory``), then timed samples; runs in the point child (CPU) or worker (CUDA)."""
    import torch
    from torch.utils import benchmark

    from helpers.models import zoo
    from helpers.measure.dtypes import input_dtype
    from helpers.measure.timing import _time_block

    out: dict[str, Any] = {"batch": batch, "status": "ok"}
    cuda = device.startswith("cuda")
    torch.set_num_threads(threads)
    sync = (lambda: torch.cuda.synchronize(device)) if cuda else (lambda: None)
    with torch.inference_mode():
        if memory is not None and not cuda:
            # One-off start-up of the thread pool and the convolution back ends is not the batch's memory.
            torch.nn.functional.conv2d(torch.ones(1, 3, 8, 8), torch.ones(4, 3, 3, 3))
            _malloc_trim()  # free heap inherited from the worker would hide part of the pass's growth
            start_rss, start_file = _rss(), _rss_file()
            reset = _reset_peak()
        elif memory is not None:
            torch.cuda.reset_peak_memory_stats(device)
        x = zoo.example_input(spec, batch, device=device, dtype=input_dtype(precision))  # part of the peak
        before = read_cpu()
        sync()
        t0 = time.perf_counter()
        model(x)
        sync()
        first = time.perf_counter() - t0
        if memory is not None and not cuda:
            # Library code paged in by this first pass is the framework's, shared and dependent on the
            # process's history, not the network's memory: it is left out (and reported).
            code = (_rss_file() - start_file) / MB
            forward = (_hwm() - start_rss) / MB - code
            out["memory"] = {"peak_mb": max(memory["static_mb"], memory["resident_after_build_mb"] + forward),
                             "forward_mb": forward, "code_paged_in_mb": code,
                             "input_mb": x.numel() * x.element_size() / MB,
                             "peak_source": "VmHWM (reset by clear_refs)" if reset else "VmHWM (no reset)"}
        elif memory is not None:
            out["memory"] = {"peak_mb": (torch.cuda.max_memory_allocated(device) - memory["baseline_b"]) / MB,
                             "reserved_mb": torch.cuda.memory_reserved(device) / MB,
                             "input_mb": x.numel() * x.element_size() / MB, "peak_source": "max_memory_allocated"}
        warmup_passes = 1
        slow_pass = (expected_pass_s if expected_pass_s is not None else first) >= settings.slow_pass_s
        if not slow_pass and protocol in ("engine", "bare"):
            # One pass does not settle a fresh process (caches, allocator, the back ends' kernel choices):
            # keep warming up until warmup_s seconds of passes have run.
            warm_until = t0 + settings.warmup_s
            while time.perf_counter() < warm_until:
                model(x)
                sync()
                warmup_passes += 1
        out["warmup_passes"] = warmup_passes
        timer = benchmark.Timer(stmt="model(x)", globals={"model": model, "x": x}, num_threads=threads)
        samples: list[float] = []
        block = 1
        if protocol == "bianco":
            # Bianco et al. (2018): 10 dry runs (the warm-up above is one), 10 timed with time.time().
            for _ in range(9):
                model(x)
            sync()
            for _ in range(10):
                t0 = time.time()
                model(x)
                sync()
                samples.append(time.time() - t0)
            out["first_pass_counted"] = False
        elif protocol == "bare":
            m = timer.blocked_autorange(min_run_time=budget_s)
            samples, block = [m.median], m.number_per_run
            out["first_pass_counted"] = False
        elif (expected_pass_s if expected_pass_s is not None else first) >= settings.slow_pass_s:
            # Seconds per pass: one-off start-up costs are milliseconds, so the warm-up pass is a sample too.
            samples.append(first)
            timed = first
            while len(samples) < min_samples_slow or timed + samples[-1] <= budget_s:
                t = _time_block(timer, 1)
                samples.append(t)
                timed += t
            out["first_pass_counted"] = True
        else:
            # Blocks of at least MIN_BLOCK_S (timer overhead is microseconds), as many as the budget allows:
            # blocked_autorange would size blocks to its budget, leaving few samples for the interval.
            block = max(1, math.ceil(MIN_BLOCK_S / max(first, 1e-6)))
            timed = 0.0
            while len(samples) < min_samples or timed < budget_s:
                t = _time_block(timer, block)
                samples.append(t / block)
                timed += t
            out["first_pass_counted"] = False
        after = read_cpu()
    out.update(samples=samples, block=block, first_pass_s=first,
               cpu=[vars(before) if before else None, vars(after) if after else None])
    return out


def _is_oom(exc: BaseException) -> bool:
    from helpers.measure.timing import is_out_of_memory

    return is_out_of_memory(exc)


def _in_child(fn: Callable[[], dict], timeout_s: float) -> dict:
    """Run ``fn`` in a forked child; its dict comes back through a pipe. Never raises."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the point child
        os.close(read_fd)
        _die_with_parent()
        try:
            payload = fn()
        except BaseException as exc:  # noqa: BLE001 - everything is reported to the worker
            status = "skipped" if _is_oom(exc) else "error"
            payload = {"status": status, "reason": f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"}
        data = json.dumps(payload).encode()
        view = memoryview(data)
        while view:
            written = os.write(write_fd, view)
            view = view[written:]
        os._exit(0)
    os.close(write_fd)
    chunks, deadline = [], time.monotonic() + timeout_s
    try:
        while True:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([read_fd], [], [], max(0.0, left))
            if not ready:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return {"status": "error", "reason": f"the point took longer than {timeout_s:g} s and was stopped"}
            chunk = os.read(read_fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_fd)
    _, status = os.waitpid(pid, 0)
    if chunks:
        return json.loads(b"".join(chunks))
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
        return {"status": "skipped", "reason": "out of memory: the point's process was killed by SIGKILL "
                                               "(most likely the kernel's out-of-memory killer)"}
    return {"status": "error", "reason": f"the point's process ended with status {status} and no result"}


def _die_with_parent() -> None:
    """Linux: be killed when the parent process ends (a stopped sweep leaves no process behind)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _worker(task: dict, conn) -> None:
    """One model, one round: build it, then visit each batch (a forked child per batch on the CPU)."""
    # Ctrl-C reaches the whole process group: the orchestrator alone answers it, and ends this worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    try:
        import torch

        from helpers.models import zoo

        settings = EngineSettings(**task["settings"])
        spec = zoo.get_spec(task["model"])
        device, threads = task["device"], task["threads"]
        precision = task.get("precision", "fp32")
        cuda = device.startswith("cuda")
        memory = None
        gc.collect()
        if cuda:
            torch.set_num_threads(threads)
            model = zoo.build_model(spec, device="cpu").eval()
            base = torch.cuda.memory_allocated(device)
            if precision != "fp32":
                from helpers.measure.dtypes import TORCH_DTYPES

                model.to(TORCH_DTYPES[precision])
            model.to(device)
            torch.cuda.synchronize(device)
            static = (torch.cuda.memory_allocated(device) - base) / MB
            memory = {"static_mb": static, "baseline_b": base}
        else:
            # The worker builds on one thread: a parallel region here (e.g. trunc_normal_ over a large weight)
            # would start OpenMP's thread pool, and a child forked from a process whose pool has started can
            # wait forever on it (libgomp is not fork-safe). Each point child sets its own threads.
            torch.set_num_threads(1)
            # Building once on the meta device pages in the code that building runs (shapes only, no memory).
            zoo.build_model(spec, device="meta")
            gc.collect()
            reset = _reset_peak()
            baseline, file_before = _rss(), _rss_file()
            if precision == "fp32":
                model = zoo.build_model(spec, device="cpu").eval()
            else:
                from helpers.measure.dtypes import prepare_model

                model = prepare_model(spec, precision, "cpu")
                gc.collect()
                _malloc_trim()  # the freed fp32 network's heap, kept by malloc, is not the converted model's
            gc.collect()
            code = (_rss_file() - file_before) / MB
            memory = {"static_mb": (_hwm() - baseline) / MB - code,
                      "resident_after_build_mb": (_rss() - baseline) / MB - code,
                      "baseline_mb": baseline / MB, "reset": reset, "code_paged_in_mb": code}
            if precision != "fp32":
                # The fp32 network built (and, for int8, calibrated) on the way is freed: the converted
                # model's memory is what stays resident, not the high-water mark of the conversion.
                memory["static_mb"] = memory["resident_after_build_mb"]
        from helpers.measure.memory import parameter_memory_mb

        conn.send({"kind": "static", "static_mb": memory["static_mb"], "param_mb": parameter_memory_mb(model),
                   "baseline_mb": memory.get("baseline_mb", memory.get("baseline_b", 0) / MB)})
        for visit in task["visits"]:
            want_memory = memory if visit["memory"] else None

            def run(visit=visit, want_memory=want_memory) -> dict:
                return _visit(model, spec, device, threads, visit["batch"], visit["budget_s"],
                              visit["min_samples"], visit["min_samples_slow"], settings, want_memory,
                              task.get("protocol", "engine"), visit.get("expected_pass_s"), precision)

            if cuda:
                try:
                    result = run()
                except Exception as exc:  # noqa: BLE001
                    result = {"status": "skipped" if _is_oom(exc) else "error",
                              "reason": f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"}
                    gc.collect()
                    torch.cuda.empty_cache()
            else:
                result = _in_child(run, settings.point_timeout_s)
            result["batch"] = visit["batch"]
            conn.send({"kind": "visit", **result})
    except BaseException as exc:  # noqa: BLE001 - the orchestrator records it
        conn.send({"kind": "failed", "reason": f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"})
    finally:
        conn.send({"kind": "done"})
        conn.close()


_CONTEXT: Any = None


def _context():
    """The forkserver context, its server preloaded with torch and the model registry."""
    global _CONTEXT
    if _CONTEXT is None:
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["helpers.measure.engine", "torch", "torch.utils.benchmark", "torchvision", "helpers.models.zoo",
                                   "helpers.models.archs", "helpers.measure.timing", "helpers.measure.memory"])
        _CONTEXT = ctx
    return _CONTEXT


# --------------------------------------------------------------------------- orchestration
@dataclass
class PointState:
    """What the sweep knows of one (model, batch) point."""

    model: str
    batch: int
    visits: list[dict] = field(default_factory=list)   # every visit's result, in order
    static: dict | None = None                          # the worker's static memory (round 0)

    @property
    def failed(self) -> dict | None:
        """The first visit that did not measure (skipped or error), if any."""
        return next((v for v in self.visits if v.get("status") != "ok"), None)

    def samples(self, share: float, clean_only: bool = True) -> list[float]:
        return [s for v in self.visits if v.get("status") == "ok"
                and (not clean_only or not v.get("contended_share", 0) > share) for s in v["samples"]]

    def timed_s(self) -> float:
        return sum(sum(v["samples"]) * v.get("block", 1) for v in self.visits if v.get("status") == "ok")

    def slow(self, settings: EngineSettings) -> bool:
        """Whether passes take ``slow_pass_s`` or more: from the clean samples' median where there are
        any (a warm-up slowed by another process does not make a point slow), else from the first passes."""
        clean = self.samples(settings.contention_share)
        if clean:
            return sorted(clean)[len(clean) // 2] >= settings.slow_pass_s
        return any(v.get("first_pass_counted") for v in self.visits)

    def planned_rounds(self, settings: EngineSettings) -> int:
        """``rounds_fast`` for passes under ``fast_pass_s`` (known after the first visit), else ``rounds``."""
        firsts = [v["first_pass_s"] for v in self.visits if v.get("status") == "ok" and "first_pass_s" in v]
        if firsts and min(firsts) < settings.fast_pass_s:
            return max(settings.rounds, settings.rounds_fast)
        return settings.rounds

    def summary(self, settings: EngineSettings) -> dict:
        """Median, interval, n and flags from the visits (clean samples; all of them, flagged, if too few)."""
        clean = self.samples(settings.contention_share)
        minimum = settings.min_passes_slow if self.slow(settings) else settings.min_passes
        flags = []
        samples = clean
        if len(clean) < minimum:
            everything = self.samples(settings.contention_share, clean_only=False)
            if len(everything) > len(clean):
                samples = everything
                flags.append("contended")
        median, low, high, method = median_interval(samples, few_samples="t-on-log")
        rel = relative_half_width(median, low, high)
        if is_unstable(samples):
            flags.append("unstable")
        if rel > settings.target_rel_ci:
            flags.append("imprecise")
        return {"median": median, "low": low, "high": high, "ci_method": method, "rel_half_width": rel,
                "n": len(samples), "flags": flags, "samples": samples}

    def next_visit(self, settings: EngineSettings, round_index: int) -> dict | None:
        """The visit this point needs in ``round_index`` (budget and minimum samples), or None when done."""
        if self.failed is not None or round_index >= max(settings.max_rounds, self.planned_rounds(settings)):
            return None
        clean = self.samples(settings.contention_share)
        slow = self.slow(settings)
        minimum = settings.min_passes_slow if slow else settings.min_passes
        planned = self.planned_rounds(settings)
        left_rounds = max(1, planned - round_index)
        spent = self.timed_s()
        room = settings.point_cap_s - spent
        if round_index < planned:
            # Whether passes are slow is known after the first visit; plan both minimums until then.
            fast_minimum = settings.min_passes if not slow else minimum
            need_fast = max(1, math.ceil((fast_minimum - len(clean)) / left_rounds))
            need_slow = max(1, math.ceil((settings.min_passes_slow - len(clean)) / left_rounds))
            budget = settings.round_time_s
            if planned > settings.rounds:
                budget = max(settings.round_time_s * settings.rounds / planned, MIN_BLOCK_S)
            return {"budget_s": budget, "min_samples": need_fast, "min_samples_slow": need_slow,
                    "memory": round_index == 0, "expected_pass_s": self.expected_pass_s(settings)}
        if len(clean) >= minimum:
            # Further rounds only make up for samples set aside (contention); an imprecise point at its
            # cap is flagged rather than measured on.
            s = self.summary(settings)
            if s["rel_half_width"] <= settings.target_rel_ci or not settings.extra_rounds_for_precision:
                return None
        if room <= 0 and len(clean) >= minimum:
            return None
        per_sample = (sorted(clean)[len(clean) // 2] if clean else 0.0) or settings.round_time_s
        if len(clean) >= 2:
            s = self.summary(settings)
            rel = min(s["rel_half_width"], 1.0)
            want = math.ceil(len(clean) * ((rel / settings.target_rel_ci) ** 2 - 1))
        else:
            want = minimum
        want = max(want, minimum - len(clean), 1)
        if slow:
            want = max(minimum - len(clean), min(want, int(room // per_sample)))
            if want <= 0:
                return None
            return {"budget_s": 0.0, "min_samples": want, "min_samples_slow": want, "memory": False,
                    "expected_pass_s": self.expected_pass_s(settings)}
        budget = max(settings.round_time_s / 4, min(want * per_sample, max(room, 0.0)))
        return {"budget_s": budget, "min_samples": max(1, minimum - len(clean)), "min_samples_slow": 1,
                "memory": False, "expected_pass_s": self.expected_pass_s(settings)}

    def expected_pass_s(self, settings: EngineSettings) -> float | None:
        """Seconds per pass from the clean samples so far (None before any): a point child decides
        fast or slow from this rather than from its own warm-up pass, which another process may slow."""
        clean = self.samples(settings.contention_share)
        return sorted(clean)[len(clean) // 2] if clean else None


def journal_path(folder: Path, fingerprint_id: str, store: str = "results") -> Path:
    """Where a sweep of ``fingerprint_id`` into the store file named ``store`` (its stem)
    journals its visits, beside the store's files."""
    prefix = "" if store == "results" else f"{store}-"
    return folder / f".partial-{prefix}{fingerprint_id}.jsonl"


def load_journal(path: Path) -> list[dict]:
    """The visits journalled by an interrupted sweep (a cut-short last line is ignored)."""
    if not path.is_file():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return entries


def run_sweep(points: list[tuple[str, int]], *, device: str, threads: int, settings: EngineSettings,
              journal: Path, on_point_done: Callable[[PointState], None],
              progress: bool = True,
              desc: str = "measuring", protocol: str = "engine", precision: str = "fp32") -> list[PointState]:
    """Measure ``points`` ((model, batch) pairs) in rounds; call ``on_point_done`` as each one is final.

    ``journal`` keeps every visit of this fingerprint so an interrupted sweep
    resumes without repeating them. ``protocol`` other than "engine" times
    each visit as a comparison protocol does ("bianco": 10 dry and 10 timed
    passes; "bare": one ``blocked_autorange`` median), for the benchmark.
    ``precision`` (helpers.measure.dtypes) is the numeric type of the model and input.
    Returns every point's state.
    """
    if protocol not in ("engine", "bianco", "bare"):
        raise ValueError(f"protocol {protocol!r}: valid protocols are engine, bianco, bare")
    from tqdm.auto import tqdm

    states: dict[tuple[str, int], PointState] = {p: PointState(*p) for p in points}
    statics: dict[str, dict] = {}
    for entry in load_journal(journal):
        key = (entry.get("model"), entry.get("batch"))
        if entry.get("kind") == "static" and entry.get("model") in {m for m, _ in points}:
            statics[entry["model"]] = entry
        elif key in states:
            states[key].visits.append(entry)
    for state in states.values():
        state.static = statics.get(state.model)
    journal.parent.mkdir(parents=True, exist_ok=True)
    models = list(dict.fromkeys(m for m, _ in points))
    done: set[tuple[str, int]] = set()
    expected = len(points) * settings.rounds
    already = sum(min(len(s.visits), settings.rounds) for s in states.values())
    with tqdm(total=expected, initial=already, desc=desc, unit="visit", disable=not progress) as bar, \
            open(journal, "a", encoding="utf-8") as log:
        def record(entry: dict) -> None:
            log.write(json.dumps(entry) + "\n")
            log.flush()
            os.fsync(log.fileno())

        for round_index in range(max(settings.max_rounds, settings.rounds_fast)):
            rng = random.Random(f"{settings.seed}:{round_index}")
            order = models[:]
            rng.shuffle(order)
            for model in order:
                visits = []
                for (m, b), state in states.items():
                    if m != model or (m, b) in done or len(state.visits) > round_index:
                        continue
                    plan = state.next_visit(settings, round_index)
                    if plan is not None:
                        visits.append({"batch": b, **plan})
                if not visits:
                    continue
                random.Random(f"{settings.seed}:{round_index}:{model}").shuffle(visits)
                if round_index >= settings.rounds:
                    bar.total += len(visits)
                    bar.refresh()
                _run_worker(model, visits, device, threads, settings, states, statics, record, bar, round_index,
                            protocol, precision)
            for key, state in states.items():
                if key not in done and state.next_visit(settings, round_index + 1) is None:
                    done.add(key)
                    on_point_done(state)
        for key, state in states.items():
            if key not in done:
                done.add(key)
                on_point_done(state)
    return list(states.values())


def _run_worker(model, visits, device, threads, settings, states, statics, record, bar, round_index,
                protocol: str = "engine", precision: str = "fp32") -> None:
    ctx = _context()
    parent, child = ctx.Pipe(duplex=False)
    task = {"model": model, "device": device, "threads": threads, "visits": visits,
            "settings": vars(settings), "protocol": protocol, "precision": precision}
    proc = ctx.Process(target=_worker, args=(task, child), daemon=True)
    proc.start()
    child.close()
    seen = set()
    try:
        while True:
            try:
                message = parent.recv()
            except EOFError:
                break
            kind = message.pop("kind")
            if kind == "done":
                break
            if kind == "static":
                entry = {"kind": "static", "model": model, **message}
                statics[model] = entry
                for (m, _), state in states.items():
                    if m == model:
                        state.static = entry
                if round_index == 0:
                    record(entry)
                continue
            if kind == "failed":
                for visit in visits:
                    if visit["batch"] not in seen:
                        _add_visit(states[(model, visit["batch"])], {"status": "error", "reason":
                                   f"the worker failed: {message['reason']}", "batch": visit["batch"]},
                                   model, round_index, settings, record)
                        seen.add(visit["batch"])
                        bar.update()
                continue
            seen.add(message["batch"])
            _add_visit(states[(model, message["batch"])], message, model, round_index, settings, record)
            bar.set_postfix_str(f"{model} b={message['batch']} round {round_index + 1}", refresh=False)
            bar.update()
    except BaseException:
        proc.terminate()  # interrupted: end the worker now (its point child dies with it)
        proc.join(timeout=10)
        raise
    finally:
        proc.join(timeout=30)
        if proc.is_alive():
            proc.kill()
            proc.join()
    if proc.exitcode not in (0, None) and len(seen) < len(visits):
        reason = (f"the worker for {model} was killed by signal {-proc.exitcode}"
                  if proc.exitcode < 0 else f"the worker for {model} exited with status {proc.exitcode}")
        status = "skipped" if proc.exitcode == -signal.SIGKILL else "error"
        for visit in visits:
            if visit["batch"] not in seen:
                _add_visit(states[(model, visit["batch"])], {"status": status, "reason": reason,
                                                             "batch": visit["batch"]},
                           model, round_index, settings, record)
                bar.update()


def _add_visit(state: PointState, message: dict, model: str, round_index: int, settings: EngineSettings,
               record: Callable[[dict], None]) -> None:
    entry = {"kind": "visit", "model": model, "round": round_index, **message}
    if entry.get("status") == "ok":
        cpu = entry.get("cpu") or [None, None]
        share = contention(cpu[0], cpu[1])
        entry["contended_share"] = None if math.isnan(share) else share
    state.visits.append(entry)
    record(entry)
