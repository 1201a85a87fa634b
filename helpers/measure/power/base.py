"""Common interface of the power probes.

Two kinds of sensor exist on the hardware this study targets:

* counter probes expose a cumulative energy counter (RAPL ``energy_uj``, NVML's
  total-energy counter); a window's energy is the difference of two readings
  and needs no sampling at all;
* sampled probes expose an instantaneous power (NVML power usage on older GPUs,
  the INA3221 rails of a Jetson read through jtop or straight from sysfs); a window's energy is the
  time integral of samples.

Units throughout: energy in joules (J), power in watts (W), time in seconds (s).

A probe that cannot work raises :class:`ProbeUnavailable` from its constructor
with a sentence saying why. A missing sensor is never reported as 0 W.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

METHOD_COUNTER = "counter"
METHOD_SAMPLED = "sampled"
METHODS = (METHOD_COUNTER, METHOD_SAMPLED)


class ProbeUnavailable(RuntimeError):
    """A power sensor cannot be used here; ``reason`` says why in one sentence.

    ``reasons`` maps backend name to reason when several backends were tried.
    """

    def __init__(self, reason: str, reasons: dict[str, str] | None = None):
        super().__init__(reason)
        self.reason = reason
        self.reasons = dict(reasons or {})


@dataclass(frozen=True)
class ProbeStatus:
    """What one backend found on this machine.

    ``domain`` and ``method`` are set when ``available``; ``reason`` is set when
    not (and is then a non-empty sentence).
    """

    name: str
    available: bool
    domain: str | None
    method: str | None
    reason: str | None


class PowerProbe(ABC):
    """One power sensor.

    Attributes
    ----------
    name:
        Backend: ``"rapl"``, ``"nvml"``, ``"jtop"`` or ``"ina3221"``.
    domain:
        What the sensor covers, e.g. ``"rapl:package-0"``, ``"nvml:gpu0"``,
        ``"jetson:VDD_IN"``, ``"ina3221:VDD_IN"``. Readings of different domains never mix.
    method:
        ``"counter"`` (use :meth:`read_energy_j`) or ``"sampled"`` (use
        :meth:`read_power_w`).
    sensor_period_s:
        How often the sensor itself updates, in s; ``None`` when unknown.
    """

    name: str = ""
    domain: str = ""
    method: str = ""
    sensor_period_s: float | None = None

    def read_energy_j(self) -> float:
        """Cumulative energy in J since an arbitrary origin (counter probes).

        Only differences between two readings of the same probe are meaningful.
        """
        raise NotImplementedError(
            f"{self.name} probe on {self.domain} is a {self.method} probe: it has no energy counter"
        )

    def read_power_w(self) -> float:
        """Instantaneous power in W (sampled probes)."""
        raise NotImplementedError(
            f"{self.name} probe on {self.domain} is a {self.method} probe: read its energy counter"
        )

    @abstractmethod
    def close(self) -> None:
        """Release the sensor (library handles, service connections). Idempotent."""

    def status(self) -> ProbeStatus:
        """This probe as an available :class:`ProbeStatus`."""
        return ProbeStatus(self.name, True, self.domain, self.method, None)

    def __enter__(self) -> PowerProbe:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(domain={self.domain!r}, method={self.method!r}, "
            f"sensor_period_s={self.sensor_period_s!r})"
        )
