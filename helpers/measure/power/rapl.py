"""CPU package energy from Linux RAPL through the powercap sysfs interface.

Layout read (``root`` is ``/sys/class/powercap`` on a real machine)::

    root/intel-rapl:0/name                  "package-0"
    root/intel-rapl:0/energy_uj             cumulative energy, microjoules
    root/intel-rapl:0/max_energy_range_uj   value at which energy_uj wraps to 0
    root/intel-rapl:0:0/name                "core"   (subzone: not read)
    root/intel-rapl:1/name                  "psys"   (platform zone: not read)

Only top-level package zones are summed (``intel-rapl:N``, and ``amd-rapl:N``
should a kernel name them so, whose ``name`` starts with ``package``); AMD
processors appear under ``intel-rapl:N`` with the same names on current kernels.
``intel-rapl-mmio:N`` duplicates the package counter through MMIO and is skipped
so a package is never counted twice.

Many kernels make ``energy_uj`` readable by root only (a mitigation of the
Platypus side channel); that is reported as the reason, not as 0 W.
"""
from __future__ import annotations

import re
from pathlib import Path

from .base import METHOD_COUNTER, PowerProbe, ProbeUnavailable

DEFAULT_POWERCAP_ROOT = Path("/sys/class/powercap")
_ZONE_RE = re.compile(r"^(?:intel|amd)-rapl:(\d+)$")
# RAPL status registers update about every millisecond (976 us).
RAPL_UPDATE_PERIOD_S = 0.001


def _read_sysfs(path: Path) -> str:
    """Text of one sysfs attribute (a seam for tests that simulate a root-only file)."""
    return path.read_text()


class _Zone:
    """One package zone and its wrap-around bookkeeping (all values in uJ)."""

    def __init__(self, path: Path, name: str, max_range_uj: int, first_uj: int):
        self.path = path
        self.name = name
        self.max_range_uj = max_range_uj
        self.last_raw_uj = first_uj
        self.accumulated_uj = 0

    def update(self, raw_uj: int) -> None:
        delta = raw_uj - self.last_raw_uj
        if delta < 0:  # the counter wrapped past max_energy_range_uj back to 0
            delta += self.max_range_uj + 1
        self.accumulated_uj += delta
        self.last_raw_uj = raw_uj


class RaplProbe(PowerProbe):
    """Sum of all CPU package energy counters (RAPL), a counter probe.

    ``read_energy_j`` returns the energy in J accumulated since the probe was
    opened, corrected for wrap-around; it must be read at least once per wrap
    period (``max_energy_range_uj`` / power: tens of minutes at 100 W), which
    :func:`helpers.measure.power.window.measure_window` does.

    Parameters
    ----------
    root:
        The powercap folder (tests pass a fake tree).
    """

    name = "rapl"
    method = METHOD_COUNTER
    sensor_period_s = RAPL_UPDATE_PERIOD_S

    def __init__(self, root: Path = DEFAULT_POWERCAP_ROOT):
        root = Path(root)
        if not root.is_dir():
            raise ProbeUnavailable(
                f"no RAPL interface: {root} does not exist (not Linux, no powercap driver, "
                "or a container without /sys/class/powercap)"
            )
        zones = []
        for entry in root.iterdir():
            match = _ZONE_RE.match(entry.name)
            if not match:
                continue
            try:
                zone_name = _read_sysfs(entry / "name").strip()
            except OSError:
                continue
            if zone_name.startswith("package"):
                zones.append((int(match.group(1)), entry, zone_name))
        if not zones:
            raise ProbeUnavailable(f"no RAPL package zone under {root}")
        zones.sort()
        self._zones = [self._open_zone(path, zone_name) for _, path, zone_name in zones]
        self.root = root
        self.domain = "rapl:" + "+".join(z.name for z in self._zones)

    @staticmethod
    def _read_uj(path: Path) -> int:
        try:
            return int(_read_sysfs(path).strip())
        except PermissionError:
            raise ProbeUnavailable(
                f"permission denied reading {path} (root only on this kernel)"
            ) from None
        except (OSError, ValueError) as err:
            raise ProbeUnavailable(f"could not read {path}: {err}") from None

    def _open_zone(self, path: Path, zone_name: str) -> _Zone:
        first = self._read_uj(path / "energy_uj")
        max_range = self._read_uj(path / "max_energy_range_uj")
        if max_range <= 0:
            raise ProbeUnavailable(f"{path / 'max_energy_range_uj'} is {max_range}, not a usable range")
        return _Zone(path, zone_name, max_range, first)

    def read_energy_j(self) -> float:
        """Package energy in J accumulated since the probe was opened (all packages)."""
        total_uj = 0
        for zone in self._zones:
            zone.update(self._read_uj(zone.path / "energy_uj"))
            total_uj += zone.accumulated_uj
        return total_uj * 1e-6

    def close(self) -> None:
        """Nothing to release (sysfs files are opened per read)."""
