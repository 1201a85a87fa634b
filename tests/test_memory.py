"""helpers.measure.memory: child-process RSS probe, parameter memory."""
from __future__ import annotations

import math
import subprocess

import pytest
from torch import nn

from helpers.measure import memory
from helpers.measure.memory import MemoryResult, measure_memory_cpu, parameter_memory_mb

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


def test_child_reporting_oom_is_skipped(monkeypatch):
    payload = ('HELPERS_MEMORY_RESULT {"model": "squeezenet1_1", "status": "skipped", '
               '"reason": "out of memory at batch 2: RuntimeError: DefaultCPUAllocator: not enough memory"}')
    calls = []

    def run(cmd, **kwargs):
        calls.append(int(cmd[-2]))
        return subprocess.CompletedProcess(cmd, 0, payload + "\n", "")

    monkeypatch.setattr(memory.subprocess, "run", run)
    result = measure_memory_cpu("squeezenet1_1", 2)
    assert result.status == "skipped"
    assert "DefaultCPUAllocator" in result.reason
    assert calls == [2]


def test_parameter_memory_mb_linear():
    assert parameter_memory_mb(nn.Linear(10, 10)) == 110 * 4 / 1e6
    bn = nn.BatchNorm2d(4)  # 8 parameters, 9 buffers (mean, var, and an int64 counter)
    assert parameter_memory_mb(bn) == 8 * 4 / 1e6
    assert parameter_memory_mb(bn, include_buffers=True) == (8 * 4 + 8 * 4 + 8) / 1e6
