"""helpers.measure.memory: child-process RSS probe, CUDA allocator probe, parameter memory."""
from __future__ import annotations

import math
import subprocess

import pytest
import torch
from torch import nn

from helpers.measure import memory
from helpers.measure.memory import (MemoryResult, measure_memory_cpu, measure_memory_cuda,
                            parameter_memory_mb, sweep_memory_cpu)

# Two child processes measure batch 1 and batch 4 independently. Their
# baselines differ by allocator arenas, page rounding and thread stacks, which
# on Linux amount to well under a megabyte (static parts of repeated runs agree
# to ~0.1 MB), while squeezenet's activations grow by ~15 MB from batch 1 to 4.
# 2 MB of tolerance absorbs the former and is still far below the latter.
TOLERANCE_MB = 2.0


@pytest.fixture(scope="module")
def squeezenet_points():
    return {b: measure_memory_cpu("squeezenet1_1", b, threads=1, timeout_s=300) for b in (1, 4)}


def test_cpu_memory_small_model(squeezenet_points):
    one, four = squeezenet_points[1], squeezenet_points[4]
    for b, r in squeezenet_points.items():
        assert isinstance(r, MemoryResult)
        assert r.status == "ok", r.reason
        assert r.model == "squeezenet1_1" and r.batch_size == b and r.device == "cpu"
        assert r.method == "rss-child-process"
        assert r.peak_source
        assert r.static_mb > 0 and math.isfinite(r.static_mb)
        assert r.peak_mb >= r.static_mb
        assert math.isnan(r.reserved_mb)
        assert r.param_mb == pytest.approx(1_235_496 * 4 / 1e6)  # squeezenet1_1 parameters
        assert r.input_mb == pytest.approx(b * 3 * 224 * 224 * 4 / 1e6)
        assert r.baseline_mb > 0
    assert four.peak_mb >= one.peak_mb - TOLERANCE_MB


def test_cpu_memory_unknown_model_is_an_error_not_a_crash():
    r = measure_memory_cpu("no_such_network_xyz", 1, timeout_s=300)
    assert r.status == "error"
    assert "UnknownModelError" in r.reason and "no_such_network_xyz" in r.reason
    assert math.isnan(r.static_mb) and math.isnan(r.peak_mb)


def _fake_run(returncode: int, stdout: str = "", stderr: str = ""):
    def run(cmd, **kwargs):
        return subprocess.CompletedProcess(cmd, returncode, stdout, stderr)

    return run


def test_child_killed_by_oom_killer_is_skipped(monkeypatch):
    monkeypatch.setattr(memory.subprocess, "run", _fake_run(-9))
    r = measure_memory_cpu("squeezenet1_1", 64)
    assert r.status == "skipped"
    assert "out of memory at batch 64" in r.reason and "SIGKILL" in r.reason
    assert math.isnan(r.peak_mb)


def test_child_failure_and_timeout_are_errors(monkeypatch):
    monkeypatch.setattr(memory.subprocess, "run",
                        _fake_run(1, stderr="Traceback ...\nImportError: no module named x\n"))
    r = measure_memory_cpu("squeezenet1_1", 1)
    assert r.status == "error" and "ImportError: no module named x" in r.reason

    def timeout(cmd, **kwargs):
        raise subprocess.TimeoutExpired(cmd, kwargs.get("timeout"), stderr=b"still building")

    monkeypatch.setattr(memory.subprocess, "run", timeout)
    r = measure_memory_cpu("squeezenet1_1", 1, timeout_s=5)
    assert r.status == "error" and "timed out after 5 s" in r.reason
    assert math.isnan(r.static_mb)


def test_child_reporting_oom_is_skipped_and_sweep_skips_larger(monkeypatch):
    payload = ('HELPERS_MEMORY_RESULT {"model": "squeezenet1_1", "status": "skipped", '
               '"reason": "out of memory at batch 2: RuntimeError: DefaultCPUAllocator: not enough memory"}')
    calls = []

    def run(cmd, **kwargs):
        calls.append(int(cmd[-2]))
        return subprocess.CompletedProcess(cmd, 0, payload + "\n", "")

    monkeypatch.setattr(memory.subprocess, "run", run)
    results = list(sweep_memory_cpu("squeezenet1_1", [2, 4, 8]))
    assert [r.status for r in results] == ["skipped"] * 3
    assert "DefaultCPUAllocator" in results[0].reason
    assert results[2].reason == "larger than batch 2, which did not fit"
    assert calls == [2]


def test_parameter_memory_mb_linear():
    assert parameter_memory_mb(nn.Linear(10, 10)) == 110 * 4 / 1e6
    bn = nn.BatchNorm2d(4)  # 8 parameters, 9 buffers (mean, var, and an int64 counter)
    assert parameter_memory_mb(bn) == 8 * 4 / 1e6
    assert parameter_memory_mb(bn, include_buffers=True) == (8 * 4 + 8 * 4 + 8) / 1e6


class _FakeAllocator:
    """The torch.cuda counters measure_memory_cuda reads, driven by the test's model."""

    def __init__(self) -> None:
        self.allocated = 3_000_000  # something already on the device
        self.peak = self.allocated
        self.resets = 0

    def synchronize(self, device=None):
        pass

    def empty_cache(self):
        pass

    def memory_allocated(self, device=None):
        return self.allocated

    def max_memory_allocated(self, device=None):
        return self.peak

    def memory_reserved(self, device=None):
        return 40_000_000

    def reset_peak_memory_stats(self, device=None):
        self.resets += 1
        self.peak = self.allocated


class _Accounted(nn.Module):
    """Adds its weights to the fake allocator when moved, its activations when run."""

    def __init__(self, fake: _FakeAllocator, oom: bool = False) -> None:
        super().__init__()
        self.fake = fake
        self.oom = oom
        self.fc = nn.Linear(10, 10)

    def _apply(self, fn, recurse=True):
        self.fake.allocated += 4_000_000
        return super()._apply(fn, recurse)

    def forward(self, x):
        if self.oom:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 8.00 GiB")
        self.fake.peak = max(self.fake.peak, self.fake.allocated + x.shape[0] * 1_000_000)
        return self.fc(x)


def test_cuda_probe_arithmetic_with_a_fake_allocator():
    fake = _FakeAllocator()
    r = measure_memory_cuda(_Accounted(fake), (6, 10), device="cpu", allocator=fake, label="acc")
    assert r.status == "ok", r.reason
    assert r.method == "cuda-allocator" and r.model == "acc" and r.batch_size == 6
    assert r.baseline_mb == 3.0
    assert r.static_mb == 4.0
    assert r.peak_mb == 4.0 + 6.0  # above the baseline: model + activations
    assert r.reserved_mb == 40.0
    assert fake.resets == 1
    assert r.param_mb == 110 * 4 / 1e6


def test_cuda_probe_oom_is_skipped():
    fake = _FakeAllocator()
    r = measure_memory_cuda(_Accounted(fake, oom=True), (64, 10), device="cpu", allocator=fake)
    assert r.status == "skipped" and "out of memory at batch 64" in r.reason
    assert math.isnan(r.static_mb) and math.isnan(r.peak_mb) and math.isnan(r.reserved_mb)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_memory_real():
    r1 = measure_memory_cuda("squeezenet1_1", (1, 3, 224, 224), "cuda:0")
    r8 = measure_memory_cuda("squeezenet1_1", (8, 3, 224, 224), "cuda:0")
    for r in (r1, r8):
        assert r.status == "ok", r.reason
        assert r.static_mb >= r.param_mb * 0.99
        assert r.peak_mb >= r.static_mb
        assert r.reserved_mb >= r.peak_mb
    assert r8.peak_mb > r1.peak_mb
