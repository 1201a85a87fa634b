"""Measurement windows on synthetic sensors whose answer is known exactly."""
from __future__ import annotations

import math
import time

import pytest

from helpers.measure.power import (
    NetPower,
    PowerProbe,
    PowerWindow,
    WindowReading,
    measure_window,
    net_of_idle,
    trapezoid_energy_j,
)


class FakeClock:
    """Time in s that moves only when told to (sleep or a workload step)."""

    def __init__(self, start: float = 1000.0):
        self.t = start

    def __call__(self) -> float:
        return self.t

    def sleep(self, dt: float) -> None:
        assert dt > 0
        self.t += dt


class TraceCounterProbe(PowerProbe):
    """Counter probe whose energy is the exact integral of a power trace P(t)."""

    name = "fake"
    method = "counter"
    domain = "fake:counter"
    sensor_period_s = 0.001

    def __init__(self, clock, energy_at):
        self.clock = clock
        self.energy_at = energy_at  # J as a function of clock time
        self.reads = 0

    def read_energy_j(self) -> float:
        self.reads += 1
        return self.energy_at(self.clock())

    def close(self) -> None:
        pass


class TraceSampledProbe(PowerProbe):
    """Sampled probe returning P(t) at the clock's time."""

    name = "fake"
    method = "sampled"
    domain = "fake:sampled"

    def __init__(self, clock, power_at, sensor_period_s=None):
        self.clock = clock
        self.power_at = power_at
        self.sensor_period_s = sensor_period_s

    def read_power_w(self) -> float:
        return self.power_at(self.clock())

    def close(self) -> None:
        pass


def stepping_workload(clock: FakeClock, step_s: float, images: int):
    calls = []

    def workload() -> int:
        clock.t += step_s
        calls.append(clock.t)
        return images

    workload.calls = calls
    return workload


# --------------------------------------------------------------------------- counter


def test_counter_window_known_energy_and_net_of_idle():
    clock = FakeClock()
    active_probe = TraceCounterProbe(clock, lambda t: 500.0 + 12.0 * t)  # 12 W
    syncs = []
    workload = stepping_workload(clock, 0.25, 8)
    active = measure_window(active_probe, workload, duration_s=10.0, sync=lambda: syncs.append(clock()),
                            clock=clock, sleep=clock.sleep)
    assert len(workload.calls) == 40  # 40 x 0.25 s reaches 10 s exactly
    assert active.elapsed_s == pytest.approx(10.0)
    assert active.energy_j == pytest.approx(120.0)
    assert active.mean_power_w == pytest.approx(12.0)
    assert active.std_power_w == pytest.approx(0.0, abs=1e-9)
    assert active.images == 320
    # edges + one read after each of the 39 calls that did not end the window
    assert active.n_reads == 41 == active_probe.reads
    assert len(syncs) == 2 and syncs[1] - syncs[0] == pytest.approx(10.0)
    assert (active.method, active.domain, active.sensor_period_s) == ("counter", "fake:counter", 0.001)

    idle_probe = TraceCounterProbe(clock, lambda t: 2.0 * t)  # 2 W
    idle_probe.domain = active_probe.domain
    idle = measure_window(idle_probe, None, duration_s=10.0, clock=clock, sleep=clock.sleep)
    assert idle.images == 0
    assert idle.elapsed_s == pytest.approx(10.0)
    assert idle.mean_power_w == pytest.approx(2.0)
    assert idle.n_reads == 2 + 99  # every 0.1 s in between the edges

    net = net_of_idle(active, idle)
    assert isinstance(net, NetPower)
    assert net.net_power_w == pytest.approx(10.0)
    assert net.idle_power_w == pytest.approx(2.0)
    assert net.energy_per_image_j == pytest.approx((120.0 - 2.0 * 10.0) / 320)
    assert net.window_s == pytest.approx(10.0)
    assert (net.images, net.n_reads, net.domain, net.method) == (320, 41, "fake:counter", "counter")
    assert net.net_power_std_w == pytest.approx(0.0, abs=1e-9)


def test_counter_window_spread_over_one_second_segments():
    clock = FakeClock(0.0)
    # 10 W in even seconds, 14 W in odd seconds: segment means alternate 10, 14
    def energy_at(t):
        whole = math.floor(t + 1e-9)
        done = sum(10.0 if s % 2 == 0 else 14.0 for s in range(whole))
        return done + (t - whole) * (10.0 if whole % 2 == 0 else 14.0)

    probe = TraceCounterProbe(clock, energy_at)
    reading = measure_window(probe, stepping_workload(clock, 0.5, 1), duration_s=4.0,
                             clock=clock, sleep=clock.sleep)
    assert reading.energy_j == pytest.approx(48.0)
    assert reading.mean_power_w == pytest.approx(12.0)
    assert reading.std_power_w == pytest.approx(2.309401076758503, rel=1e-9)  # stdev([10, 14, 10, 14])


def test_window_is_at_least_duration_when_calls_overrun():
    clock = FakeClock()
    probe = TraceCounterProbe(clock, lambda t: 5.0 * t)
    reading = measure_window(probe, stepping_workload(clock, 3.0, 1), duration_s=10.0,
                             clock=clock, sleep=clock.sleep)
    assert reading.elapsed_s == pytest.approx(12.0)  # 4 calls of 3 s
    assert reading.images == 4
    assert reading.energy_j == pytest.approx(60.0)


# --------------------------------------------------------------------------- sampled (inline)


def sampled_window(power_at, workload_step=None, duration=10.0, period=0.1, images=4):
    clock = FakeClock()
    t_start = clock.t
    probe = TraceSampledProbe(clock, lambda t: power_at(t - t_start))
    workload = stepping_workload(clock, workload_step, images) if workload_step else None
    return measure_window(probe, workload, duration_s=duration, sample_period_s=period,
                          clock=clock, sleep=clock.sleep, sampling="inline")


def test_sampled_constant_active_and_idle_exact():
    active = sampled_window(lambda t: 12.0, workload_step=0.0625)  # binary-exact steps
    idle = sampled_window(lambda t: 2.0)
    assert active.elapsed_s == pytest.approx(10.0)
    assert active.energy_j == pytest.approx(120.0)
    assert active.mean_power_w == pytest.approx(12.0)
    assert active.std_power_w == pytest.approx(0.0)
    assert active.images == 160 * 4
    # a sample every second step (0.125 s >= 0.1 s) after the 79 steps that do not end the window
    assert active.n_reads == 2 + 79
    assert idle.energy_j == pytest.approx(20.0)
    assert idle.n_reads == 101  # both edges and every 0.1 s
    net = net_of_idle(active, idle)
    assert net.net_power_w == pytest.approx(10.0)
    assert net.energy_per_image_j == pytest.approx((120.0 - 20.0) / 640)


def test_sampled_ramp_trapezoid_is_exact():
    # P(t) = 2 + 3 t over 10 s: E = 2*10 + 1.5*100 = 170 J; a left-rectangle sum would give 168.5
    active = sampled_window(lambda t: 2.0 + 3.0 * t, workload_step=0.25, period=1.0)
    assert active.elapsed_s == pytest.approx(10.0)
    assert active.energy_j == pytest.approx(170.0, rel=1e-12)
    assert active.mean_power_w == pytest.approx(17.0, rel=1e-12)
    # samples at 0, 1, ..., 10 s: stdev of 2, 5, ..., 32
    assert active.n_reads == 11
    assert active.std_power_w == pytest.approx(3.0 * math.sqrt(11.0), rel=1e-12)
    idle = sampled_window(lambda t: 2.0, period=1.0)
    net = net_of_idle(active, idle)
    assert net.net_power_w == pytest.approx(15.0)
    assert net.energy_per_image_j == pytest.approx((170.0 - 20.0) / 160)
    assert net.net_power_std_w == pytest.approx(3.0 * math.sqrt(11.0))


def test_default_sample_period_is_the_sensor_period():
    clock = FakeClock()
    probe = TraceSampledProbe(clock, lambda t: 5.0, sensor_period_s=0.5)
    window = PowerWindow(probe, duration_s=10.0, clock=clock, sleep=clock.sleep, sampling="inline")
    assert window.sample_period_s == 0.5
    assert window.idle().n_reads == 21
    unknown = TraceSampledProbe(clock, lambda t: 5.0)
    assert PowerWindow(unknown).sample_period_s == 0.1


def test_trapezoid_helper():
    assert trapezoid_energy_j([(0.0, 0.0), (2.0, 10.0), (3.0, 10.0)]) == pytest.approx(20.0)
    assert trapezoid_energy_j([(0.0, 4.0)]) == 0.0


# --------------------------------------------------------------------------- sampled (thread)


def test_thread_sampling_real_clock_constant_and_ramp():
    t_start = time.perf_counter()
    probe = TraceSampledProbe(time.perf_counter, lambda t: 12.0)
    reading = measure_window(probe, None, duration_s=0.25, sample_period_s=0.01)
    assert reading.elapsed_s >= 0.25
    assert reading.n_reads >= 6  # the background thread did sample
    assert reading.energy_j == pytest.approx(12.0 * reading.elapsed_s, rel=1e-9)

    # a ramp: the probe remembers when it was read, so the expected integral is known
    read_times = []

    def ramp_power(t: float) -> float:
        read_times.append(t)
        return 2.0 + 40.0 * (t - t_start)

    ramp = TraceSampledProbe(time.perf_counter, ramp_power)

    def workload() -> int:
        time.sleep(0.02)
        return 1

    reading = measure_window(ramp, workload, duration_s=0.25, sample_period_s=0.01)
    assert reading.images >= 10
    assert reading.n_reads >= 6 and len(read_times) == reading.n_reads
    # linear trace: exact integral = elapsed x power at the window's midpoint
    midpoint = (min(read_times) + max(read_times)) / 2
    assert reading.energy_j == pytest.approx(reading.elapsed_s * (2.0 + 40.0 * (midpoint - t_start)), rel=1e-3)
    assert reading.mean_power_w == pytest.approx(2.0 + 40.0 * (midpoint - t_start), rel=1e-3)


def test_thread_sampler_errors_reach_the_caller():
    class Failing(TraceSampledProbe):
        def __init__(self):
            super().__init__(time.perf_counter, lambda t: 1.0)
            self.n = 0

        def read_power_w(self):
            self.n += 1
            if self.n > 2:
                raise OSError("sensor vanished")
            return 1.0

    with pytest.raises(OSError, match="sensor vanished"):
        measure_window(Failing(), None, duration_s=0.1, sample_period_s=0.01)


# --------------------------------------------------------------------------- contracts


def reading(**overrides) -> WindowReading:
    base = dict(elapsed_s=10.0, energy_j=120.0, mean_power_w=12.0, std_power_w=0.5, n_reads=11,
                images=100, method="counter", domain="rapl:package-0", sensor_period_s=0.001)
    base.update(overrides)
    return WindowReading(**base)


def test_net_of_idle_refuses_mismatched_or_empty_windows():
    idle = reading(elapsed_s=4.0, energy_j=8.0, mean_power_w=2.0, images=0)  # shorter idle window
    with pytest.raises(ValueError, match="domain|on"):
        net_of_idle(reading(domain="nvml:gpu0"), idle)
    with pytest.raises(ValueError, match="no images"):
        net_of_idle(reading(images=0), idle)
    with pytest.raises(ValueError, match="idle window processed"):
        net_of_idle(reading(), reading(images=3))
    with pytest.raises(ValueError):
        net_of_idle(reading(method="sampled"), idle)
    # idle power x ACTIVE duration is subtracted, not the idle window's own energy
    net = net_of_idle(reading(), idle)
    assert net.energy_per_image_j == pytest.approx((120.0 - 2.0 * 10.0) / 100)
    assert net.net_power_w == pytest.approx(10.0)
    assert net.net_power_std_w == pytest.approx(math.sqrt(0.5))


def test_workload_must_return_an_image_count():
    clock = FakeClock()
    probe = TraceCounterProbe(clock, lambda t: t)

    def returns_none():
        clock.t += 1.0

    with pytest.raises(TypeError, match="number of images"):
        measure_window(probe, returns_none, duration_s=2.0, clock=clock, sleep=clock.sleep)


def test_bad_window_parameters():
    probe = TraceCounterProbe(FakeClock(), lambda t: t)
    with pytest.raises(ValueError):
        PowerWindow(probe, duration_s=0)
    with pytest.raises(ValueError):
        PowerWindow(probe, sample_period_s=-1)
    with pytest.raises(ValueError):
        PowerWindow(probe, sampling="sometimes")
