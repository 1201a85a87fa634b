"""Jetson board power through jetson-stats (``jtop``), a sampled probe.

jetson-stats is optional (``pip install '.[jetson]'``) and needs its service
running (``sudo systemctl start jtop.service``); without it ``jtop.start()``
raises ``JtopException``. The paper's measurements are of a Jetson TX1.

Reading: ``jetson.power`` is ``{"rail": {NAME: {"volt", "curr", "power", "avg",
...}}, "tot": {...}}`` with power in mW. jtop moves the board input rail
(``VDD_IN`` or ``POM_5V_IN``) out of ``rail`` into ``tot`` (with ``tot["name"]``
set), so a rail is looked up in both places.

Pitfalls:

* ``avg`` is NOT a time average: jtop updates it as (new + previous avg) / 2,
  an exponential filter that weights the latest reading by one half. This probe
  reads the instantaneous ``power`` and integrates it itself.
* jtop refreshes at its ``interval``; about 0.5 s is the shortest stable one,
  so ``sensor_period_s`` is at least 0.5 s and faster sampling only repeats
  values.
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Callable

from .base import METHOD_SAMPLED, PowerProbe, ProbeUnavailable

TEGRA_RELEASE = Path("/etc/nv_tegra_release")
INSTALL_HINT = "jetson-stats is not installed (pip install '.[jetson]')"
SERVICE_HINT = "jtop service is not running (sudo systemctl start jtop.service)"
MIN_INTERVAL_S = 0.5


def is_jetson(tegra_release: Path = TEGRA_RELEASE) -> bool:
    """True on an NVIDIA Jetson (L4T writes ``/etc/nv_tegra_release``)."""
    return Path(tegra_release).exists()


def import_jtop_factory() -> Callable[..., Any]:
    """jetson-stats' ``jtop`` class, or :class:`ProbeUnavailable` with the install hint."""
    try:
        return importlib.import_module("jtop").jtop
    except ImportError:
        raise ProbeUnavailable(INSTALL_HINT) from None


class JtopProbe(PowerProbe):
    """Instantaneous power of one Jetson power rail, in W.

    Parameters
    ----------
    rail:
        Rail name, e.g. ``"VDD_IN"`` (board input: the whole module), or
        ``"tot"`` for jtop's total entry.
    jtop_factory:
        Callable ``factory(interval=seconds)`` returning a jtop-like object with
        ``start()``, ``close()`` and ``power``; ``None`` imports ``jtop.jtop``.
    interval_s:
        jtop refresh interval in s (>= 0.5); it is the probe's
        ``sensor_period_s``.
    tegra_release:
        File whose presence marks a Jetson (tests pass a temporary path).
    """

    name = "jtop"
    method = METHOD_SAMPLED

    def __init__(
        self,
        rail: str = "VDD_IN",
        jtop_factory: Callable[..., Any] | None = None,
        interval_s: float = MIN_INTERVAL_S,
        tegra_release: Path = TEGRA_RELEASE,
    ):
        if interval_s < MIN_INTERVAL_S:
            raise ValueError(f"jtop interval {interval_s} s is below its stable minimum of {MIN_INTERVAL_S} s")
        tegra_release = Path(tegra_release)
        if not is_jetson(tegra_release):
            raise ProbeUnavailable(f"not a Jetson board ({tegra_release} missing)")
        factory = jtop_factory if jtop_factory is not None else import_jtop_factory()
        self.rail = rail
        self.sensor_period_s = float(interval_s)
        self._jetson = factory(interval=interval_s)
        self._started = False
        try:
            self._jetson.start()
        except Exception as err:
            if type(err).__name__ == "JtopException":
                detail = " ".join(str(err).split())
                raise ProbeUnavailable(f"{SERVICE_HINT}: {detail}" if detail else SERVICE_HINT) from None
            raise ProbeUnavailable(f"jtop could not start: {type(err).__name__}: {err}") from None
        self._started = True
        try:
            entry_name = self._locate(self._jetson.power)
        except BaseException:
            self.close()
            raise
        self.domain = f"jetson:{entry_name}"

    def _locate(self, power: Any) -> str:
        """Name of the entry that ``rail`` designates in jtop's power dictionary."""
        rails = dict((power or {}).get("rail", {}))
        total = (power or {}).get("tot", {})
        if self.rail in rails:
            self._path = ("rail", self.rail)
            return self.rail
        if total and (self.rail == "tot" or total.get("name") == self.rail):
            self._path = ("tot", None)
            return total.get("name") or "total"
        known = sorted(rails) + ([f"tot ({total.get('name', 'sum of rails')})"] if total else [])
        raise ProbeUnavailable(
            f"jtop reports no rail {self.rail!r} on this board (rails: {', '.join(known) or 'none'})"
        )

    def read_power_w(self) -> float:
        """Latest instantaneous power of the rail in W (jtop reports mW)."""
        power = self._jetson.power
        section, key = self._path
        entry = power[section][key] if key is not None else power[section]
        return float(entry["power"]) / 1000.0

    def close(self) -> None:
        """Disconnect from the jtop service. Idempotent."""
        if self._started:
            self._started = False
            try:
                self._jetson.close()
            except Exception:
                pass
