"""The engine's worker side: the processes that build a model and time its visits.

A ``forkserver`` process imports torch once and has never run a forward pass; for each round and
model the engine (helpers.measure.engine) forks a worker from it (:func:`_worker`) that builds the
model and, for each batch size, forks a point child (:func:`_in_child`) that resets the peak
resident memory, runs the warm-up and the timed passes of the visit's protocol (:func:`_visit`:
the engine's, Bianco et al.'s or a bare Timer's) and reports back. Units: seconds, MB (10**6 bytes).
"""
from __future__ import annotations

import gc
import json
import logging
import math
import multiprocessing as mp
import os
import select
import signal
import time
from typing import Any, Callable

from helpers.core.procfs import peak_rss_bytes, read_cpu, reset_peak_rss, rss_bytes, rss_file_bytes
from helpers.core.units import MB
from helpers.measure.profiles import EngineSettings

# torch.utils.benchmark imports cpp_extension, which warns "No CUDA runtime is found" on every CPU-only
# machine, once per process the engine starts: harmless, and not worth a line per worker.
logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)

__all__ = ["MIN_BLOCK_S"]


MIN_BLOCK_S = 0.02  # seconds: a sample of fast passes times a block at least this long


def _malloc_trim() -> None:
    """Give free heap memory back to the system (glibc), so a fork's peak starts from what is in use."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _visit(model, spec, device: str, threads: int, batch: int, budget_s: float, min_samples: int,
           min_samples_slow: int, settings: EngineSettings, memory: dict | None, protocol: str = "engine",
           expected_pass_s: float | None = None, precision: str = "fp32") -> dict:
    """Warm-up (peak memory when ``memory``), then timed samples; runs in the point child (CPU) or worker (CUDA)."""
    import torch
    from torch.utils import benchmark

    from helpers.measure.dtypes import input_dtype
    from helpers.measure.timing import time_block
    from helpers.models import zoo

    out: dict[str, Any] = {"batch": batch, "status": "ok"}
    cuda = device.startswith("cuda")
    torch.set_num_threads(threads)
    sync = (lambda: torch.cuda.synchronize(device)) if cuda else (lambda: None)
    with torch.inference_mode():
        if memory is not None and not cuda:
            # One-off start-up of the thread pool and the convolution back ends is not the batch's memory.
            torch.nn.functional.conv2d(torch.ones(1, 3, 8, 8), torch.ones(4, 3, 3, 3))
            _malloc_trim()  # free heap inherited from the worker would hide part of the pass's growth
            start_rss, start_file = rss_bytes(), rss_file_bytes()
            reset = reset_peak_rss()
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
            code = (rss_file_bytes() - start_file) / MB
            forward = (peak_rss_bytes() - start_rss) / MB - code
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
                t = time_block(timer, 1)
                samples.append(t)
                timed += t
            out["first_pass_counted"] = True
        else:
            # Blocks of at least MIN_BLOCK_S (timer overhead is microseconds), as many as the budget allows:
            # blocked_autorange would size blocks to its budget, leaving few samples for the interval.
            block = max(1, math.ceil(MIN_BLOCK_S / max(first, 1e-6)))
            timed = 0.0
            while len(samples) < min_samples or timed < budget_s:
                t = time_block(timer, block)
                samples.append(t / block)
                timed += t
            out["first_pass_counted"] = False
        after = read_cpu()
    # The check standard (helpers.measure.check_standard), after the point's own passes: how fast the
    # machine itself was in this window.
    from helpers.measure.check_standard import time_check_standard

    check = time_check_standard(threads, device)
    out.update(samples=samples, block=block, first_pass_s=first, check_s=check["median_s"],
               cpu=[vars(before) if before else None, vars(after) if after else None])
    return out


def _runtime_visit(model, spec, device: str, threads: int, visit: dict, settings: EngineSettings, protocol: str,
                   runtime: str) -> dict:
    """A visit through another runtime (helpers.measure.runtimes), in the point child: convert the model (timed,
    outside the passes), time the runtime's passes as :func:`_visit` times eager ones, then check its output
    against eager's. A runtime that cannot take the model is ``unavailable`` with its message; outputs beyond
    the tolerance make the visit an ``error`` saying by how much they differ. No memory: the conversion's
    allocations in this process are the exporter's as much as the runtime's."""
    import torch

    from helpers.measure.runtimes import AGREEMENT_TOLERANCE, UNCHECKED_ZERO_OUTPUT, agreement, convert
    from helpers.models import zoo

    torch.set_num_threads(threads)
    x = zoo.example_input(spec, visit["batch"], device=device)
    try:
        converted = convert(model, x, runtime, threads)
    except Exception as exc:  # noqa: BLE001 - the runtime's own refusal is the row's reason
        return {"status": "unavailable", "reason": f"{runtime} cannot take {spec.name}: {type(exc).__name__}: "
                                                   f"{' '.join(str(exc).split())[:300]}"}
    graphs = converted.compilations()
    out = _visit(converted.run, spec, device, threads, visit["batch"], visit["budget_s"], visit["min_samples"],
                 visit["min_samples_slow"], settings, None, protocol, visit.get("expected_pass_s"))
    if graphs is not None and converted.compilations() != graphs:
        return {"status": "error", "conversion_s": converted.seconds,
                "reason": f"{runtime} compiled {converted.compilations() - graphs} more graph(s) during the timed "
                          "passes (a guard failed): their times include compilation"}
    diff = agreement(model, converted, x)
    out.update(conversion_s=converted.seconds)
    if converted.cached is not None:
        out["conversion_cached"] = converted.cached
    if math.isnan(diff):  # eager's output is zero everywhere: timed, but its agreement is not a figure
        out["agreement_unchecked"] = UNCHECKED_ZERO_OUTPUT
        return out
    out["agreement"] = diff
    if not diff <= AGREEMENT_TOLERANCE:
        return {"status": "error", "conversion_s": converted.seconds, "agreement": diff,
                "reason": f"{runtime}'s output differs from eager's by {diff:.3g} of eager's largest output "
                          f"(tolerance {AGREEMENT_TOLERANCE:g}): not the same function"}
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
        die_with_parent()
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


def die_with_parent() -> None:
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
    die_with_parent()
    try:
        import torch

        from helpers.models import zoo

        settings = EngineSettings(**task["settings"])
        spec = zoo.get_spec(task["model"])
        device, threads = task["device"], task["threads"]
        precision = task.get("precision", "fp32")
        runtime = task.get("runtime", "eager")
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
            reset = reset_peak_rss()
            baseline, file_before = rss_bytes(), rss_file_bytes()
            if precision == "fp32":
                model = zoo.build_model(spec, device="cpu").eval()
            else:
                from helpers.measure.dtypes import prepare_model

                model = prepare_model(spec, precision, "cpu")
                gc.collect()
                _malloc_trim()  # the freed fp32 network's heap, kept by malloc, is not the converted model's
            gc.collect()
            code = (rss_file_bytes() - file_before) / MB
            memory = {"static_mb": (peak_rss_bytes() - baseline) / MB - code,
                      "resident_after_build_mb": (rss_bytes() - baseline) / MB - code,
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
                if runtime != "eager":
                    return _runtime_visit(model, spec, device, threads, visit, settings,
                                          task.get("protocol", "engine"), runtime)
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
        # the lifeline first: the server (and with it every worker) ends as soon as this process does
        ctx.set_forkserver_preload(["helpers.measure.lifeline", "helpers.measure.worker", "torch", "torch.utils.benchmark", "torchvision", "helpers.models.zoo",
                                   "helpers.models.archs", "helpers.measure.timing", "helpers.measure.memory",
                                   "helpers.measure.check_standard"])
        _CONTEXT = ctx
    return _CONTEXT
