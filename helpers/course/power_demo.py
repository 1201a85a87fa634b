"""Lesson 6 on a machine without a power sensor: how a power window is computed, on a synthetic trace.

Nothing here is a measurement. A made-up sampled sensor reads a constant idle
draw, and a constant active draw while a made-up workload "runs", each with
Gaussian noise, on a simulated clock; the lesson's own window code
(``helpers.measure.power.window``: ``measure_window``, ``net_of_idle``) turns
the two windows into net power and energy per image, exactly as it does with
RAPL, NVML or a Jetson's monitor. Every output carries :data:`SYNTHETIC`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.measure.power.base import METHOD_SAMPLED, PowerProbe
from helpers.measure.power.window import NetPower, WindowReading, measure_window, net_of_idle

__all__ = ["SYNTHETIC", "PowerDemo", "power_window_demo", "power_demo_summary"]

#: The label every synthetic output carries.
SYNTHETIC = "SYNTHETIC trace: made up to show the method, not a measurement of any device"


class _SyntheticProbe(PowerProbe):
    """A sampled sensor that reads ``active_w`` while ``busy`` is set, else ``idle_w``, plus noise (W)."""

    name, domain, method = "synthetic", "synthetic:board", METHOD_SAMPLED

    def __init__(self, clock, idle_w: float, active_w: float, noise_w: float, period_s: float, seed: int):
        self.clock, self.idle_w, self.active_w, self.noise_w = clock, idle_w, active_w, noise_w
        self.sensor_period_s = period_s
        self.busy, self.reads = False, []
        self._rng = np.random.default_rng(seed)

    def read_power_w(self) -> float:
        watts = (self.active_w if self.busy else self.idle_w) + self._rng.normal(0.0, self.noise_w)
        self.reads.append((self.clock(), watts, "active" if self.busy else "idle"))
        return watts

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class PowerDemo:
    """The two synthetic windows, their net power, and the trace (time_s, power_w, window) they were read from."""

    idle: WindowReading
    active: WindowReading
    net: NetPower
    trace: pd.DataFrame
    made_with: tuple[float, float, float]  # idle W, active W, noise W: what the trace was made from
    label: str = SYNTHETIC


def power_window_demo(idle_w: float = 1.30, active_w: float = 13.1, noise_w: float = 0.7, window_s: float = 5.0,
                      images_per_call: int = 4, call_s: float = 0.05, period_s: float = 0.05,
                      seed: int = 0) -> PowerDemo:
    """An idle window, then an active one (a workload of ``images_per_call`` images every ``call_s`` s, sampled between calls), each
    ``window_s`` s on a simulated clock, read by a synthetic sensor every ``period_s`` s; powers in W.
    The defaults echo the paper's TX1 (1.30 W idle, +11.8 W at full load), so a student can check that the
    window code gives back the net power the trace was made with."""
    for name, value in (("window_s", window_s), ("call_s", call_s), ("period_s", period_s)):
        if not value > 0:
            raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
    if images_per_call < 1:
        raise ValueError(f"images_per_call must be at least 1, got {images_per_call!r}")
    now = [0.0]

    def clock() -> float:
        return now[0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    probe = _SyntheticProbe(clock, idle_w, active_w, noise_w, period_s, seed)

    def workload() -> int:
        sleep(call_s)
        return images_per_call

    idle = measure_window(probe, None, window_s, period_s, clock=clock, sleep=sleep, sampling="inline")
    probe.busy = True  # the workload runs from the active window's first edge reading
    active = measure_window(probe, workload, window_s, period_s, clock=clock, sleep=sleep, sampling="inline")
    trace = pd.DataFrame(probe.reads, columns=["time_s", "power_w", "window"])
    return PowerDemo(idle, active, net_of_idle(active, idle), trace, made_with=(idle_w, active_w, noise_w))


def power_demo_summary(demo: PowerDemo) -> str:
    """What to notice in the synthetic windows (Markdown): what the trace was made with, what the window code
    gives back, and why a machine without a sensor still shows no power figure."""
    idle_w, active_w, noise_w = demo.made_with
    net = demo.net
    spread = f" (spread {net.net_power_std_w:.2f} W)" if net.net_power_std_w is not None else ""
    return (f"**{demo.label}.** The trace was made with {idle_w:.2f} W idle and {active_w:.2f} W active, "
            f"noise {noise_w:.2f} W, so its true net power is {active_w - idle_w:.2f} W. From "
            f"{demo.idle.n_reads} idle and {demo.active.n_reads} active readings over {net.window_s:.1f} s windows, "
            f"the window code gives {net.net_power_w:.2f} W net{spread} and {1000 * net.energy_per_image_j:.1f} mJ "
            f"per image for {net.images} images: energy per image is (E_active - P_idle x T) / images. A real "
            f"sensor's windows are computed the same way; no run here has power measurements, so Figs 4 and 8 "
            f"stay empty rather than 0 W.")
