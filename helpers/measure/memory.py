"""Memory against batch size (the paper's Figs 5 and 6).

Two probes (DESIGN.md section 7), both reporting MB = 10**6 bytes as the paper:

* CPU, ``measure_memory_cpu``: a fresh child process (``python -m
  helpers.measure.memory --child ...``) imports what it needs, records its baseline
  resident memory, builds the model (static part = peak RSS after building −
  baseline) and runs one forward pass at batch b under inference mode (peak =
  peak RSS after the forward − baseline). A fresh process per point is the only
  way to see a clean peak: within one long-lived process the allocator's caches
  and earlier points' high-water marks would mix in. The child prints one JSON
  line; the parent parses it. A child killed by the kernel (the out-of-memory
  killer sends SIGKILL), one that runs out of memory itself, one that fails, or
  one that times out gives a "skipped" or "error" result with its reason, never
  a crash and never 0 MB.
* CUDA, ``measure_memory_cuda``: the caching allocator's own counters,
  ``torch.cuda.memory_allocated`` after moving the model (static),
  ``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats`` and one
  forward pass (peak), and ``memory_reserved`` (what the allocator holds from
  the driver, the process's real footprint minus the CUDA context).

``parameter_memory_mb`` is the x-axis of the paper's Fig 6.
"""
from __future__ import annotations

import gc
import json
import math
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from helpers.core.units import KIB, MB

__all__ = [
    "MemoryResult",
    "measure_memory_cpu",
    "sweep_memory_cpu",
    "measure_memory_cuda",
    "parameter_memory_mb",
]

_MARKER = "HELPERS_MEMORY_RESULT "
_REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class MemoryResult:
    """One memory point. Sizes are MB (10**6 bytes); NaN where not measured.

    ``static_mb`` is the model's own memory (weights, buffers, and whatever
    building it left resident), ``peak_mb`` the peak during one forward pass at
    ``batch_size`` including the model, the input and the activations, both
    above the process's baseline. ``reserved_mb`` (CUDA only) is what the
    caching allocator holds from the driver after the forward pass.
    """

    model: str
    batch_size: int
    device: str
    static_mb: float = math.nan
    peak_mb: float = math.nan
    reserved_mb: float = math.nan
    status: str = "ok"  # "ok", "skipped" (did not fit in memory) or "error"
    reason: str = ""
    method: str = ""  # "rss-child-process" or "cuda-allocator"
    threads: int = 0
    baseline_mb: float = math.nan  # CPU: the child's RSS after imports; CUDA: allocated before
    param_mb: float = math.nan
    input_mb: float = math.nan
    peak_source: str = ""  # which counter gave the peak (see _PeakRss)
    wall_s: float = math.nan
    static_code_mb: float = math.nan  # library code paged in while building (part of static_mb)
    peak_code_mb: float = math.nan    # library code paged in up to the end of the forward (part of peak_mb)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def activations_mb(self) -> float:
        """Peak above the static part: input, activations and workspace."""
        return self.peak_mb - self.static_mb

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def parameter_memory_mb(model, include_buffers: bool = False) -> float:
    """Bytes of the model's parameters (optionally also buffers) in MB (10**6 bytes)."""
    tensors = list(model.parameters())
    if include_buffers:
        tensors += list(model.buffers())
    return sum(t.numel() * t.element_size() for t in tensors) / MB


def _short(text: str, limit: int = 400) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else "..." + text[-(limit - 3):]


def _is_oom_text(text: str) -> bool:
    low = text.lower()
    return any(p in low for p in ("out of memory", "not enough memory", "can't allocate memory",
                                  "cannot allocate memory", "memoryerror", "failed to allocate"))


# --------------------------------------------------------------------------- CPU, child side
class _PeakRss:
    """The process's peak resident set size, in bytes, resettable where possible.

    The kernel keeps the high-water mark of the resident set exactly (VmHWM in
    /proc/self/status; the same number as ``getrusage(RUSAGE_SELF).ru_maxrss``,
    which Linux reports in KiB). Sampling RSS from a thread (psutil) would miss
    the short-lived peak of a forward pass, whose activations are freed before
    it returns; the high-water mark cannot miss it. On Linux, writing "5" to
    /proc/self/clear_refs resets VmHWM to the current RSS, so the baseline is
    taken *after* the imports' own transient peaks. Where that is not possible
    (other kernels, other systems), ``ru_maxrss`` is used, which can only
    overstate the static part by the imports' transient peak; ``source`` says
    which was used.
    """

    def __init__(self) -> None:
        self.source = "ru_maxrss"
        self._can_reset = sys.platform.startswith("linux") and os.path.exists("/proc/self/status")

    def reset(self) -> None:
        if self._can_reset:
            try:
                with open("/proc/self/clear_refs", "w") as f:
                    f.write("5")
                self.source = "VmHWM (reset by clear_refs)"
            except OSError:
                self._can_reset = False
                self.source = "VmHWM" if sys.platform.startswith("linux") else "ru_maxrss"

    @staticmethod
    def _status_kib(field: str) -> int | None:
        try:
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith(field + ":"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None

    def current(self) -> int:
        kib = self._status_kib("VmRSS")
        if kib is not None:
            return kib * KIB
        import psutil

        return int(psutil.Process().memory_info().rss)

    def file(self) -> int:
        """Resident pages mapped from files (library code), bytes; 0 where unknown."""
        kib = self._status_kib("RssFile")
        return kib * KIB if kib is not None else 0

    def peak(self) -> int:
        kib = self._status_kib("VmHWM")
        if kib is not None:
            return kib * KIB
        import resource

        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return int(maxrss if sys.platform == "darwin" else maxrss * KIB)  # macOS: bytes


def _child(model_name: str, batch_size: int, threads: int) -> dict[str, Any]:
    """Body of the child process: returns the JSON-able measurement."""
    out: dict[str, Any] = {"model": model_name, "batch_size": batch_size, "threads": threads}
    rss = _PeakRss()
    try:
        import torch

        torch.set_num_threads(threads)
        from helpers.models import zoo

        spec = zoo.get_spec(model_name)
        out["model"] = spec.name
        # Import what the builder will import, so that it does not count as the model.
        if spec.source.startswith("torchvision:") or spec.source.startswith("paper-era:"):
            import torchvision  # noqa: F401
        if spec.source.startswith("timm:"):
            import timm  # noqa: F401
        # Start the thread pool and the convolution/matmul back ends (oneDNN,
        # MKL) on a tiny problem, so their one-off buffers are baseline too.
        with torch.inference_mode():
            torch.nn.functional.conv2d(torch.ones(1, 3, 8, 8), torch.ones(4, 3, 3, 3))
            torch.ones(8, 8) @ torch.ones(8, 8)
        gc.collect()
        rss.reset()
        baseline = rss.current()
        file_before = rss.file()
        out["baseline_mb"] = baseline / MB

        model = zoo.build_model(spec, device="cpu")
        gc.collect()
        out["static_mb"] = (rss.peak() - baseline) / MB
        out["static_code_mb"] = (rss.file() - file_before) / MB
        out["param_mb"] = parameter_memory_mb(model)

        x = zoo.example_input(spec, batch_size, device="cpu")
        out["input_mb"] = x.numel() * x.element_size() / MB
        with torch.inference_mode():
            y = model(x)
        del y
        out["peak_mb"] = (rss.peak() - baseline) / MB
        out["peak_code_mb"] = (rss.file() - file_before) / MB
        out["peak_source"] = rss.source
        out["status"] = "ok"
    except MemoryError as exc:
        out["status"] = "skipped"
        out["reason"] = f"out of memory at batch {batch_size}: MemoryError: {_short(exc)}"
    except Exception as exc:  # noqa: BLE001 - reported to the parent
        message = f"{type(exc).__name__}: {_short(str(exc))}"
        if isinstance(exc, RuntimeError) and _is_oom_text(str(exc)):
            out["status"] = "skipped"
            out["reason"] = f"out of memory at batch {batch_size}: {message}"
        else:
            out["status"] = "error"
            out["reason"] = message
    return out


def _child_main(argv: list[str]) -> int:
    model_name, batch, threads = argv[0], int(argv[1]), int(argv[2])
    out = _child(model_name, batch, threads)
    sys.stdout.write(_MARKER + json.dumps(out) + "\n")
    sys.stdout.flush()
    return 0


# --------------------------------------------------------------------------- CPU, parent side
def measure_memory_cpu(model_name: str, batch_size: int, *, threads: int = 1,
                       timeout_s: float = 600, python: str | None = None) -> MemoryResult:
    """Static and peak resident memory of ``model_name`` at ``batch_size`` on the CPU.

    Runs in a fresh child process (see the module docstring); ``threads`` is
    its intra-op thread count (each OpenMP thread adds a little memory, so it
    is recorded). Never raises for a failing child: the result says why.
    """
    name = getattr(model_name, "name", model_name)  # a ModelSpec works too
    result = MemoryResult(model=str(name), batch_size=int(batch_size), device="cpu",
                          method="rss-child-process", threads=int(threads))
    if int(batch_size) < 1:
        raise ValueError(f"batch size must be a positive integer, got {batch_size!r}")
    if int(threads) < 1:
        raise ValueError(f"threads must be a positive integer, got {threads!r}")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(_REPO_ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env["OMP_NUM_THREADS"] = str(threads)
    env.setdefault("PYTHONWARNINGS", "ignore")
    cmd = [python or sys.executable, "-m", "helpers.measure.memory", "--child",
           str(name), str(int(batch_size)), str(int(threads))]
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=str(_REPO_ROOT), env=env, capture_output=True,
                              text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired as exc:
        result.wall_s = time.perf_counter() - start
        tail = _tail(exc.stderr)
        result.status = "error"
        result.reason = f"child process timed out after {timeout_s:g} s at batch {batch_size}" + (
            f"; stderr: {tail}" if tail else "")
        return result
    except OSError as exc:
        result.wall_s = time.perf_counter() - start
        result.status = "error"
        result.reason = f"could not start the child process: {type(exc).__name__}: {exc}"
        return result
    result.wall_s = time.perf_counter() - start

    payload = None
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(_MARKER):
            try:
                payload = json.loads(line[len(_MARKER):])
            except json.JSONDecodeError:
                payload = None
            break
    if payload is not None:
        for key in ("model", "static_mb", "peak_mb", "baseline_mb", "param_mb", "input_mb",
                    "peak_source", "status", "reason", "static_code_mb", "peak_code_mb"):
            if key in payload and payload[key] is not None:
                setattr(result, key, payload[key])
        if result.status != "ok":
            result.static_mb = result.peak_mb = math.nan
        return result

    tail = _tail(proc.stderr)
    if proc.returncode < 0:
        sig = -proc.returncode
        try:
            signame = signal.Signals(sig).name
        except ValueError:
            signame = f"signal {sig}"
        if sig == signal.SIGKILL:
            result.status = "skipped"
            result.reason = (f"out of memory at batch {batch_size}: the child process was killed "
                             f"by SIGKILL (most likely the kernel's out-of-memory killer)")
        else:
            result.status = "error"
            result.reason = f"child process died of {signame} at batch {batch_size}"
        if tail:
            result.reason += f"; stderr: {tail}"
        return result
    if _is_oom_text(proc.stderr or ""):
        result.status = "skipped"
        result.reason = f"out of memory at batch {batch_size}: {tail}"
    else:
        result.status = "error"
        result.reason = (f"child process exited with status {proc.returncode} and no result"
                         + (f": {tail}" if tail else ""))
    return result


def _tail(text: str | bytes | None, lines: int = 3) -> str:
    if not text:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    kept = [ln for ln in text.strip().splitlines() if ln.strip()][-lines:]
    return _short(" | ".join(kept))


def sweep_memory_cpu(model_name: str, batch_sizes: Iterable[int] = (1, 2, 4, 8, 16, 32, 64), *,
                     threads: int = 1, timeout_s: float = 600) -> Iterator[MemoryResult]:
    """measure_memory_cpu per batch size; after one does not fit, larger ones are skipped."""
    did_not_fit: int | None = None
    name = str(getattr(model_name, "name", model_name))
    for b in batch_sizes:
        if did_not_fit is not None and b > did_not_fit:
            yield MemoryResult(model=name, batch_size=int(b), device="cpu",
                               method="rss-child-process", threads=int(threads),
                               status="skipped",
                               reason=f"larger than batch {did_not_fit}, which did not fit")
            continue
        r = measure_memory_cpu(model_name, b, threads=threads, timeout_s=timeout_s)
        name = r.model
        if r.status == "skipped":
            did_not_fit = b if did_not_fit is None else min(did_not_fit, b)
        yield r


# --------------------------------------------------------------------------- CUDA
def measure_memory_cuda(model, x_shape, device: str = "cuda:0", *, label: str = "",
                        warmup: int = 1, allocator=None) -> MemoryResult:
    """Static, peak and reserved accelerator memory of one forward pass.

    ``model`` is a registry name, or an nn.Module, preferably still on the CPU
    (its static part is then what moving it allocates; a module already on the
    device is counted as the bytes of its parameters and buffers). ``x_shape``
    is the input shape, batch first. ``warmup`` untimed forward passes let
    cuDNN settle its algorithms (``cudnn.benchmark`` is on, as when timing)
    before the peak counter is reset; the measured pass is then the steady
    state. ``allocator`` defaults to ``torch.cuda`` (anything with the same
    counters will do). Out of memory gives status "skipped".
    """
    import torch

    cuda = allocator if allocator is not None else torch.cuda
    shape = tuple(int(s) for s in x_shape)
    batch = shape[0]
    name = label or (model if isinstance(model, str) else type(model).__name__)
    result = MemoryResult(model=str(name), batch_size=batch, device=str(device),
                          method="cuda-allocator", peak_source="max_memory_allocated")
    start = time.perf_counter()
    x = None
    try:
        if isinstance(model, str):
            from helpers.models import zoo

            spec = zoo.get_spec(model)
            result.model = spec.name
            model = zoo.build_model(spec, device="cpu")
        model.eval()
        result.param_mb = parameter_memory_mb(model)
        if str(device).startswith("cuda"):
            torch.backends.cudnn.benchmark = True
        cuda.synchronize(device)
        gc.collect()
        cuda.empty_cache()
        base = cuda.memory_allocated(device)
        result.baseline_mb = base / MB
        tensors = list(model.parameters()) + list(model.buffers())
        already = bool(tensors) and all(t.device == torch.device(device) for t in tensors)
        if already and allocator is None:
            result.static_mb = parameter_memory_mb(model, include_buffers=True)
            result.peak_source += " (model already on the device: static = parameters + buffers)"
        else:
            model.to(device)
            cuda.synchronize(device)
            result.static_mb = (cuda.memory_allocated(device) - base) / MB
        x = torch.randn(shape, device=device)
        result.input_mb = x.numel() * x.element_size() / MB
        with torch.inference_mode():
            for _ in range(warmup):
                model(x)
            cuda.synchronize(device)
            cuda.reset_peak_memory_stats(device)
            model(x)
            cuda.synchronize(device)
        result.peak_mb = (cuda.max_memory_allocated(device) - base) / MB
        result.reserved_mb = cuda.memory_reserved(device) / MB
    except Exception as exc:  # noqa: BLE001
        from helpers.measure.timing import is_out_of_memory

        result.static_mb = result.peak_mb = result.reserved_mb = math.nan
        if is_out_of_memory(exc):
            result.status = "skipped"
            result.reason = f"out of memory at batch {batch}: {type(exc).__name__}: {_short(str(exc))}"
        else:
            result.status = "error"
            result.reason = f"{type(exc).__name__}: {_short(str(exc))}"
        x = None
        gc.collect()
        try:
            cuda.empty_cache()
        except Exception:  # noqa: BLE001 - cleaning up after a failure
            pass
    result.wall_s = time.perf_counter() - start
    return result


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--child":
        sys.exit(_child_main(sys.argv[2:]))
    sys.stderr.write("usage: python -m helpers.measure.memory --child MODEL BATCH THREADS "
                     "(internal: one measurement in a fresh process)\n")
    sys.exit(2)
