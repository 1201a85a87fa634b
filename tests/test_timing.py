"""helpers.measure.timing: statuses, counts and shapes of latency results (no timing thresholds)."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from helpers.measure import timing
from helpers.measure.timing import (LatencyResult, is_out_of_memory, measure_latency, resolve_device,
                            resolve_threads, sweep_latency)

FAST = dict(min_run_time=0.01, max_run_time=1.0)


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 8 * 8, 10)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).flatten(1))


class Raises(nn.Module):
    """Raises ``exc`` from its forward pass when the batch is at least ``from_batch``."""

    def __init__(self, exc: BaseException, from_batch: int = 1) -> None:
        super().__init__()
        self.exc = exc
        self.from_batch = from_batch
        self.calls: list[int] = []
        self.fc = nn.Linear(3, 2)

    def forward(self, x):
        self.calls.append(x.shape[0])
        if x.shape[0] >= self.from_batch:
            raise self.exc
        return self.fc(x.mean(dim=(2, 3)))


def test_measure_latency_ok_shapes_and_counts():
    x = torch.randn(4, 3, 8, 8)
    r = measure_latency(Tiny().eval(), x, threads=1, device="cpu", min_measurements=5, **FAST)
    assert isinstance(r, LatencyResult)
    assert r.status == "ok" and r.reason == ""
    assert r.batch_size == 4 and r.device == "cpu" and r.dtype == "float32"
    assert r.threads == 1
    assert r.n >= 5 and r.n == len(r.times_s)
    assert r.total_runs >= r.n
    assert math.isfinite(r.per_image_median_s) and r.per_image_median_s > 0
    assert r.per_image_median_s == pytest.approx(r.per_batch_median_s / 4)
    assert r.per_image_iqr_s >= 0
    assert r.wall_s > 0
    assert r.method.startswith("torch.utils.benchmark.blocked_autorange")
    assert r.model == "Tiny"


def test_threads_recorded_and_restored():
    before = torch.get_num_threads()
    r = measure_latency(Tiny().eval(), torch.randn(2, 3, 8, 8), threads=2, device="cpu",
                        label="tiny", **FAST)
    assert r.threads == 2 and r.model == "tiny"
    assert torch.get_num_threads() == before


def test_min_measurements_topped_up_when_each_run_exceeds_budget():
    # min_run_time far below one block: blocked_autorange alone gives one or two
    # measurements; the top-up must reach min_measurements.
    x = torch.randn(1, 3, 8, 8)
    r = measure_latency(Tiny().eval(), x, threads=1, device="cpu", min_run_time=1e-6,
                        min_measurements=7, max_run_time=10.0)
    assert r.status == "ok" and r.n >= 7


def test_max_run_time_caps_the_top_up():
    x = torch.randn(1, 3, 8, 8)
    r = measure_latency(Tiny().eval(), x, threads=1, device="cpu", min_run_time=1e-6,
                        min_measurements=10_000, max_run_time=0.05)
    assert r.status == "ok"
    assert 1 <= r.n < 10_000  # stopped by the cap, n honest
    assert r.n == len(r.times_s)


@pytest.mark.parametrize("exc", [
    RuntimeError("[enforce fail at alloc_cpu.cpp:118] DefaultCPUAllocator: not enough memory: "
                 "you tried to allocate 123456789 bytes."),
    RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 1 bytes"),
    torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
    MemoryError(),
])
def test_out_of_memory_is_skipped_with_nan_times(exc):
    x = torch.randn(8, 3, 8, 8)
    r = measure_latency(Raises(exc), x, threads=1, device="cpu", **FAST)
    assert r.status == "skipped"
    assert r.reason.startswith("out of memory at batch 8")
    assert type(exc).__name__ in r.reason
    for value in (r.per_image_median_s, r.per_image_iqr_s, r.per_batch_median_s):
        assert math.isnan(value)
    assert r.n == 0 and r.times_s == []


def test_other_exception_is_error():
    r = measure_latency(Raises(ValueError("shapes do not match")), torch.randn(2, 3, 8, 8),
                        threads=1, device="cpu", **FAST)
    assert r.status == "error"
    assert r.reason == "ValueError: shapes do not match"
    assert math.isnan(r.per_image_median_s) and math.isnan(r.per_batch_median_s)


def test_is_out_of_memory_does_not_claim_ordinary_errors():
    assert not is_out_of_memory(RuntimeError("mat1 and mat2 shapes cannot be multiplied"))
    assert not is_out_of_memory(ValueError("out of memory"))  # only RuntimeError messages count
    assert is_out_of_memory(RuntimeError("CUDA error: out of memory"))


def test_sweep_skips_larger_batches_after_the_first_that_does_not_fit():
    net = Raises(RuntimeError("DefaultCPUAllocator: not enough memory: you tried to allocate"),
                 from_batch=4)
    results = list(sweep_latency("resnet18", [1, 2, 4, 8], device="cpu", threads=1,
                                 model=net, **FAST))
    assert [r.batch_size for r in results] == [1, 2, 4, 8]
    assert [r.status for r in results] == ["ok", "ok", "skipped", "skipped"]
    assert results[2].reason.startswith("out of memory at batch 4")
    assert results[3].reason == "larger than batch 4, which did not fit"
    assert 8 not in net.calls  # batch 8 was never tried
    assert all(r.model == "resnet18" for r in results)
    assert all(r.n >= 5 and r.per_image_median_s > 0 for r in results[:2])
    assert all(math.isnan(r.per_image_median_s) for r in results[2:])


def test_sweep_error_does_not_stop_the_sweep():
    net = Raises(ValueError("bad"), from_batch=2)
    results = list(sweep_latency("resnet18", [1, 2, 4], device="cpu", threads=1,
                                 model=net, **FAST))
    assert [r.status for r in results] == ["ok", "error", "error"]  # errors are tried each time
    assert net.calls.count(4) >= 1


def test_sweep_skip_hook():
    net = Raises(ValueError("never raised"), from_batch=99)
    results = list(sweep_latency("resnet18", [1, 2], device="cpu", threads=1, model=net,
                                 skip=lambda b: "predicted peak 1 TB exceeds RAM" if b == 2 else None,
                                 **FAST))
    assert results[0].status == "ok"
    assert results[1].status == "skipped" and "1 TB" in results[1].reason
    assert 2 not in net.calls


def test_sweep_unbuildable_model_gives_a_result_per_batch(monkeypatch):
    from helpers.models import zoo

    def boom(*args, **kwargs):
        raise RuntimeError("builder exploded")

    monkeypatch.setattr(zoo, "build_model", boom)
    results = list(sweep_latency("resnet18", [1, 2], device="cpu", threads=1, **FAST))
    assert [r.status for r in results] == ["error", "error"]
    assert "builder exploded" in results[0].reason


def test_sweep_real_small_model():
    results = list(sweep_latency("squeezenet1_1", [1, 2], device="cpu", threads=1,
                                 min_run_time=0.05, min_measurements=3, max_run_time=2.0))
    assert [r.status for r in results] == ["ok", "ok"]
    assert all(r.n >= 3 and r.per_image_median_s > 0 for r in results)


def test_resolve_threads():
    assert resolve_threads(3) == 3
    assert resolve_threads("2") == 2
    assert resolve_threads(None) >= 1
    for bad in (0, -2, 1.5, "many", True):
        with pytest.raises(ValueError, match=repr(bad).replace("(", r"\(").replace(")", r"\)")):
            resolve_threads(bad)


def test_resolve_device():
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("CPU") == "cpu"
    assert resolve_device("auto") in ("cpu", "cuda:0")
    with pytest.raises(ValueError, match="'tpu'.*'auto', 'cpu', 'cuda' or 'cuda:N'"):
        resolve_device("tpu")
    with pytest.raises(ValueError, match="'cuda:x'"):
        resolve_device("cuda:x")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA message")
def test_resolve_device_cuda_without_cuda():
    with pytest.raises(ValueError, match="'cuda'.*CUDA is not available"):
        resolve_device("cuda")
    with pytest.raises(ValueError, match="'cuda:1'.*CUDA is not available"):
        resolve_device("cuda:1")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_latency_and_bad_index():
    assert resolve_device("cuda") == "cuda:0"
    with pytest.raises(ValueError, match="does not exist"):
        resolve_device(f"cuda:{torch.cuda.device_count()}")
    net = Tiny().to("cuda:0").eval()
    r = measure_latency(net, torch.randn(4, 3, 8, 8, device="cuda:0"), threads=1,
                        device="cuda", **FAST)
    assert r.status == "ok" and r.device == "cuda:0" and r.n >= 5
    r = measure_latency(Raises(torch.cuda.OutOfMemoryError("CUDA out of memory")).to("cuda:0"),
                        torch.randn(4, 3, 8, 8, device="cuda:0"), threads=1, device="cuda", **FAST)
    assert r.status == "skipped"


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="min_run_time"):
        measure_latency(Tiny(), torch.randn(1, 3, 8, 8), threads=1, min_run_time=0)
    with pytest.raises(ValueError, match="batch sizes"):
        list(sweep_latency("resnet18", [0], device="cpu", threads=1, model=Tiny()))
    assert timing.DEFAULT_BATCH_SIZES == (1, 2, 4, 8, 16, 32, 64)


class Sleeps(nn.Module):
    """A forward pass of a known, fixed duration."""

    def __init__(self, seconds: float, first: float | None = None) -> None:
        super().__init__()
        self.seconds = seconds
        self.first = seconds if first is None else first
        self.calls = 0

    def forward(self, x):
        import time

        time.sleep(self.first if self.calls == 0 else self.seconds)
        self.calls += 1
        return x


def test_slow_forward_is_timed_in_single_passes():
    net = Sleeps(0.03)
    r = measure_latency(net, torch.randn(2, 3), threads=1, device="cpu", min_run_time=0.01,
                        min_measurements=3, max_run_time=10.0, warmup=1)
    assert r.status == "ok"
    assert r.method == "torch.utils.benchmark.Timer.timeit(1)"
    assert r.n == 3 and r.total_runs == 3
    assert net.calls == 1 + 3  # one warm-up, no probing pass, three timed
    assert r.per_batch_median_s >= 0.03 and r.per_image_median_s == r.per_batch_median_s / 2


def test_single_measurement_has_nan_iqr():
    r = measure_latency(Sleeps(0.02), torch.randn(1, 3), threads=1, device="cpu",
                        min_run_time=0.01, min_measurements=5, max_run_time=0.001)
    assert r.status == "ok" and r.n == 1
    assert r.per_image_median_s > 0 and math.isnan(r.per_image_iqr_s)


def test_disturbed_warmup_does_not_switch_to_single_passes():
    # The warm-up pass is slow (a one-off stall), the model itself fast: the
    # first timed pass shows it and blocked_autorange runs as usual.
    r = measure_latency(Sleeps(0.0, first=0.05), torch.randn(1, 3), threads=1, device="cpu",
                        min_run_time=0.02, min_measurements=3, max_run_time=1.0)
    assert r.status == "ok"
    assert r.method.startswith("torch.utils.benchmark.blocked_autorange")
    assert r.n >= 3


def test_slow_pass_is_timed_without_warmup_or_probing():
    """A pass expected to take seconds: exactly min_measurements single passes, nothing untimed."""
    from torch import nn

    from helpers.measure.timing import SLOW_PASS_S, measure_latency

    class Counting(nn.Module):
        calls = 0

        def forward(self, x):
            Counting.calls += 1
            return x * 2

    model = Counting()
    result = measure_latency(model, torch.ones(4, 3), threads=1, min_run_time=0.01, min_measurements=3,
                             max_run_time=60.0, expected_pass_s=SLOW_PASS_S * 2)
    assert result.status == "ok" and result.n == 3 and result.total_runs == 3
    assert Counting.calls == 3
    assert "no warm-up" in result.method
