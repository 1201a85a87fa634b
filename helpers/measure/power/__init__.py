"""Power and energy per image, net of idle (paper claims C4, C7, C10).

Open the probe that measures a device, measure an idle and an active window of
fixed duration with it, and subtract::

    from helpers.measure.power import open_probe, PowerWindow, net_of_idle

    def step() -> int:          # one forward pass; returns images processed
        model(batch)
        return batch.shape[0]

    with open_probe("cuda:0") as probe:
        window = PowerWindow(probe, duration_s=10.0, sync=torch.cuda.synchronize)
        idle = window.idle()
        active = window.active(step)
        net = net_of_idle(active, idle)

Where no sensor exists, :func:`open_probe` raises :class:`ProbeUnavailable`
with the reason and :func:`probe_statuses` lists every backend's reason; no
number is made up. Units: W, J, s.
"""
from .base import METHOD_COUNTER, METHOD_SAMPLED, PowerProbe, ProbeStatus, ProbeUnavailable
from .detect import BACKENDS, ProbeFactory, open_probe, parse_device, probe_statuses
from .ina3221 import Ina3221Probe
from .jetson import JtopProbe, is_jetson
from .nvml import NvmlProbe
from .rapl import RaplProbe
from .window import (
    NetPower,
    PowerWindow,
    WindowReading,
    measure_window,
    net_of_idle,
    trapezoid_energy_j,
)

__all__ = [
    "BACKENDS",
    "METHOD_COUNTER",
    "METHOD_SAMPLED",
    "Ina3221Probe",
    "JtopProbe",
    "NetPower",
    "NvmlProbe",
    "PowerProbe",
    "PowerWindow",
    "ProbeFactory",
    "ProbeStatus",
    "ProbeUnavailable",
    "RaplProbe",
    "WindowReading",
    "is_jetson",
    "measure_window",
    "net_of_idle",
    "open_probe",
    "parse_device",
    "probe_statuses",
    "trapezoid_energy_j",
]
