"""Fixed-duration power windows and net-of-idle energy per image.

The paper reports net power: board power during continuous inference minus the
idle power of the same board. Here both are measured the same way, over a
window of fixed duration (10 s by default), with the same probe:

* counter probes (RAPL, NVML energy): energy is read at both edges of the
  window and at most every ``sample_period_s`` in between; the window's energy
  is the difference of the edge readings;
* sampled probes (NVML power, jtop, INA3221 sysfs): power is sampled at both edges and every
  ``sample_period_s`` in between, and the energy is the trapezoid integral of
  the (time, power) samples.

Mean power is energy / elapsed time for both methods (a time average, so that
net power x time / images equals the energy per image). Units: s, J, W.

Sampling modes for sampled probes: ``"thread"`` (default) samples from a
background thread while the workload runs, so one long workload call does not
leave a gap; ``"inline"`` samples between workload calls (and between sleeps
when idle) on the calling thread, which with an injected clock and sleep makes
a window fully deterministic.
"""
from __future__ import annotations

import math
import operator
import statistics
import threading
import time
from dataclasses import dataclass
from typing import Callable

from .base import METHOD_COUNTER, METHOD_SAMPLED, PowerProbe

DEFAULT_SAMPLE_PERIOD_S = 0.1
# Counter probes: the spread of power is taken over segments at least this
# long, so that a counter's own update period does not show up as noise.
COUNTER_STD_SEGMENT_S = 1.0
SAMPLING_MODES = ("thread", "inline")


@dataclass(frozen=True)
class WindowReading:
    """One measurement window.

    Attributes: ``elapsed_s`` (s) between the edge readings; ``energy_j`` (J)
    used in the window; ``mean_power_w`` (W) = energy / elapsed;
    ``std_power_w`` (W) spread of power within the window (standard deviation
    of samples for sampled probes, of the mean power over >= 1 s segments for
    counter probes; ``None`` with fewer than two); ``n_reads`` sensor reads used;
    ``images`` processed in the window (0 when idle); ``method``, ``domain``,
    ``sensor_period_s`` (s) of the probe.
    """

    elapsed_s: float
    energy_j: float
    mean_power_w: float
    std_power_w: float | None
    n_reads: int
    images: int
    method: str
    domain: str
    sensor_period_s: float | None


@dataclass(frozen=True)
class NetPower:
    """Active window net of idle, as the paper reports power.

    ``net_power_w`` (W) = active mean - idle mean; ``net_power_std_w`` (W) =
    both windows' spreads combined in quadrature (``None`` if either is
    unknown); ``energy_per_image_j`` (J) = (E_active - P_idle x T_active) /
    images; ``idle_power_w`` (W); ``window_s`` (s) active window length;
    ``images``, ``n_reads`` of the active window; ``method``, ``domain``,
    ``sensor_period_s`` (s) of the probe.
    """

    net_power_w: float
    net_power_std_w: float | None
    energy_per_image_j: float
    idle_power_w: float
    window_s: float
    images: int
    n_reads: int
    method: str
    domain: str
    sensor_period_s: float | None


def trapezoid_energy_j(samples: list[tuple[float, float]]) -> float:
    """Energy in J from (time s, power W) samples sorted by time (trapezoid rule)."""
    return sum((t1 - t0) * (p0 + p1) / 2.0 for (t0, p0), (t1, p1) in zip(samples, samples[1:]))


def _images(value: object) -> int:
    try:
        n = operator.index(value)
    except TypeError:
        raise TypeError(
            f"workload must return the number of images it processed (an int), got {value!r}"
        ) from None
    if n < 0:
        raise ValueError(f"workload returned a negative image count: {n}")
    return n


def _std(values: list[float]) -> float | None:
    return statistics.stdev(values) if len(values) >= 2 else None


def _segment_std(reads: list[tuple[float, float]], min_segment_s: float) -> float | None:
    """Spread of mean power over consecutive segments of >= min_segment_s (counter reads)."""
    powers = []
    start_t, start_e = reads[0]
    for t, e in reads[1:]:
        if t - start_t >= min_segment_s:
            powers.append((e - start_e) / (t - start_t))
            start_t, start_e = t, e
    return _std(powers)


class PowerWindow:
    """Measures windows of fixed duration with one probe.

    Parameters
    ----------
    probe:
        An open :class:`PowerProbe`.
    duration_s:
        Minimum window length in s. With a workload the window ends after the
        first call that finishes past it.
    sample_period_s:
        Time between reads in s. Default: the probe's ``sensor_period_s`` (or
        0.1 s when unknown) for sampled probes, 0.1 s for counter probes.
    sync:
        Called before each edge reading (e.g. ``torch.cuda.synchronize``) so
        queued device work falls inside the window.
    clock, sleep:
        Time source in s and sleep function (tests inject fakes).
    sampling:
        ``"thread"`` or ``"inline"`` for sampled probes (see module docs). The
        thread waits with real time; use ``"inline"`` with a fake clock.
    """

    def __init__(
        self,
        probe: PowerProbe,
        duration_s: float = 10.0,
        sample_period_s: float | None = None,
        sync: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.perf_counter,
        sleep: Callable[[float], None] = time.sleep,
        sampling: str = "thread",
    ):
        if probe.method not in (METHOD_COUNTER, METHOD_SAMPLED):
            raise ValueError(f"probe {probe!r} has unknown method {probe.method!r}")
        if not duration_s > 0:
            raise ValueError(f"duration_s must be positive, got {duration_s}")
        if sample_period_s is not None and not sample_period_s > 0:
            raise ValueError(f"sample_period_s must be positive, got {sample_period_s}")
        if sampling not in SAMPLING_MODES:
            raise ValueError(f"sampling must be one of {SAMPLING_MODES}, got {sampling!r}")
        self.probe = probe
        self.duration_s = float(duration_s)
        if sample_period_s is None:
            if probe.method == METHOD_SAMPLED and probe.sensor_period_s:
                sample_period_s = probe.sensor_period_s
            else:
                sample_period_s = DEFAULT_SAMPLE_PERIOD_S
        self.sample_period_s = float(sample_period_s)
        self.sync = sync or (lambda: None)
        self.clock = clock
        self.sleep = sleep
        self.sampling = sampling

    def idle(self) -> WindowReading:
        """Idle window: nothing runs for ``duration_s``."""
        return self.measure(None)

    def active(self, workload: Callable[[], int]) -> WindowReading:
        """Window of continuous ``workload()`` calls (each returns images processed)."""
        return self.measure(workload)

    def measure(self, workload: Callable[[], int] | None) -> WindowReading:
        """Idle window when ``workload`` is None, else an active one."""
        if self.probe.method == METHOD_COUNTER:
            return self._measure_counter(workload)
        if self.sampling == "inline":
            return self._measure_sampled_inline(workload)
        return self._measure_sampled_thread(workload)

    # -- helpers -------------------------------------------------------------
    def _reading(self, elapsed, energy, std, n_reads, images) -> WindowReading:
        if not elapsed > 0:
            raise ValueError(f"window elapsed {elapsed} s: the clock did not advance")
        if not math.isfinite(energy):
            raise ValueError(f"{self.probe.domain} gave a non-finite energy {energy} J")
        return WindowReading(
            elapsed_s=elapsed,
            energy_j=energy,
            mean_power_w=energy / elapsed,
            std_power_w=std,
            n_reads=n_reads,
            images=images,
            method=self.probe.method,
            domain=self.probe.domain,
            sensor_period_s=self.probe.sensor_period_s,
        )

    def _run(self, workload, t0: float, between: Callable[[float], None]) -> int:
        """Fill the window from t0; ``between(now)`` runs after each step that does not end it."""
        images = 0
        while True:
            if workload is None:
                remaining = t0 + self.duration_s - self.clock()
                if remaining <= 0:
                    return 0
                self.sleep(min(self.sample_period_s, remaining))
            else:
                images += _images(workload())
            now = self.clock()
            if now - t0 >= self.duration_s:
                return images
            between(now)

    # -- counter probes --------------------------------------------------------
    def _measure_counter(self, workload) -> WindowReading:
        probe = self.probe
        self.sync()
        t0 = self.clock()
        reads = [(t0, probe.read_energy_j())]

        def between(now: float) -> None:
            if now - reads[-1][0] >= self.sample_period_s:
                reads.append((now, probe.read_energy_j()))

        images = self._run(workload, t0, between)
        self.sync()
        t1 = self.clock()
        reads.append((t1, probe.read_energy_j()))
        energy = reads[-1][1] - reads[0][1]
        std = _segment_std(reads, max(COUNTER_STD_SEGMENT_S, self.sample_period_s))
        return self._reading(t1 - t0, energy, std, len(reads), images)

    # -- sampled probes --------------------------------------------------------
    def _take(self, samples: list) -> float:
        t = self.clock()
        samples.append((t, self.probe.read_power_w()))
        return t

    def _sampled_reading(self, samples, t0, t1, images) -> WindowReading:
        samples = sorted(s for s in samples if t0 <= s[0] <= t1)
        energy = trapezoid_energy_j(samples)
        return self._reading(t1 - t0, energy, _std([p for _, p in samples]), len(samples), images)

    def _measure_sampled_inline(self, workload) -> WindowReading:
        samples: list[tuple[float, float]] = []
        self.sync()
        t0 = self._take(samples)

        def between(now: float) -> None:
            if now - samples[-1][0] >= self.sample_period_s:
                self._take(samples)

        images = self._run(workload, t0, between)
        self.sync()
        t1 = self._take(samples)
        return self._sampled_reading(samples, t0, t1, images)

    def _measure_sampled_thread(self, workload) -> WindowReading:
        samples: list[tuple[float, float]] = []
        stop = threading.Event()
        failure: list[BaseException] = []

        def sampler() -> None:
            try:
                while not stop.wait(self.sample_period_s):
                    self._take(samples)
            except BaseException as err:  # surfaced on the calling thread
                failure.append(err)

        self.sync()
        t0 = self._take(samples)
        thread = threading.Thread(target=sampler, name="power-sampler", daemon=True)
        thread.start()
        try:
            images = self._run(workload, t0, lambda now: None)
            self.sync()
            t1 = self._take(samples)
        finally:
            stop.set()
            thread.join()
        if failure:
            raise failure[0]
        return self._sampled_reading(samples, t0, t1, images)


def measure_window(
    probe: PowerProbe,
    workload: Callable[[], int] | None,
    duration_s: float = 10.0,
    sample_period_s: float | None = None,
    sync: Callable[[], None] | None = None,
    clock: Callable[[], float] = time.perf_counter,
    sleep: Callable[[float], None] = time.sleep,
    sampling: str = "thread",
) -> WindowReading:
    """One window: ``workload()`` repeatedly for >= ``duration_s`` s, or idle when None.

    See :class:`PowerWindow` for the parameters.
    """
    window = PowerWindow(probe, duration_s, sample_period_s, sync, clock, sleep, sampling)
    return window.measure(workload)


def net_of_idle(active: WindowReading, idle: WindowReading) -> NetPower:
    """Net power and energy per image of ``active`` over ``idle`` (same probe).

    Raises ValueError when the windows come from different domains or methods,
    when the idle window processed images, or when the active one processed none.
    """
    if active.domain != idle.domain:
        raise ValueError(f"active window is on {active.domain!r} but idle on {idle.domain!r}")
    if active.method != idle.method:
        raise ValueError(f"active window is {active.method} but idle is {idle.method}")
    if idle.images != 0:
        raise ValueError(f"idle window processed {idle.images} images")
    if active.images <= 0:
        raise ValueError("active window processed no images: energy per image is undefined")
    std = None
    if active.std_power_w is not None and idle.std_power_w is not None:
        std = math.hypot(active.std_power_w, idle.std_power_w)
    return NetPower(
        net_power_w=active.mean_power_w - idle.mean_power_w,
        net_power_std_w=std,
        energy_per_image_j=(active.energy_j - idle.mean_power_w * active.elapsed_s) / active.images,
        idle_power_w=idle.mean_power_w,
        window_s=active.elapsed_s,
        images=active.images,
        n_reads=active.n_reads,
        method=active.method,
        domain=active.domain,
        sensor_period_s=active.sensor_period_s,
    )
