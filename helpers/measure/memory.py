"""Memory against batch size, the fresh-process way (the paper's Figs 5 and 6).

The measurement engine (``helpers.measure.engine``) measures memory in the
sweep itself: a forked child per point on the CPU, the caching allocator's
counters on CUDA. This module keeps the slower, independent reference it is
checked against (``python -m helpers bench``, figure (d)), and the pieces the
engine shares. Sizes are MB = 10**6 bytes, as the paper's.

``measure_memory_cpu``: a fresh child process (``python -m
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
from typing import Any

from helpers.core.units import MB
from helpers.core.procfs import peak_rss_bytes, reset_peak_rss, rss_bytes, rss_file_bytes

__all__ = [
    "MemoryResult",
    "measure_memory_cpu",
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
    above the process's baseline. ``reserved_mb`` (what a caching allocator
    holds from the driver) has no CPU counterpart and stays NaN.
    """

    model: str
    batch_size: int
    device: str
    static_mb: float = math.nan
    peak_mb: float = math.nan
    reserved_mb: float = math.nan
    status: str = "ok"  # "ok", "skipped" (did not fit in memory) or "error"
    reason: str = ""
    method: str = ""  # "rss-child-process"
    threads: int = 0
    baseline_mb: float = math.nan  # the child's RSS after its imports
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
    """Whether a child's message or stderr says it ran out of memory (a Python ``MemoryError`` too)."""
    from helpers.measure.timing import OOM_PATTERNS

    low = text.lower()
    return any(p in low for p in (*OOM_PATTERNS, "memoryerror"))


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
            if reset_peak_rss():
                self.source = "VmHWM (reset by clear_refs)"
            else:
                self._can_reset = False
                self.source = "VmHWM" if sys.platform.startswith("linux") else "ru_maxrss"

    def current(self) -> int:
        return rss_bytes()

    def file(self) -> int:
        """Resident pages mapped from files (library code), bytes; 0 where unknown."""
        return rss_file_bytes()

    def peak(self) -> int:
        return peak_rss_bytes()


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


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--child":
        sys.exit(_child_main(sys.argv[2:]))
    sys.stderr.write("usage: python -m helpers.measure.memory --child MODEL BATCH THREADS "
                     "(internal: one measurement in a fresh process)\n")
    sys.exit(2)
