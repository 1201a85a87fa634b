"""Jetson board power read straight from the INA3221 power monitors' sysfs files.

The fallback for a Jetson whose jetson-stats service is not running (or where
jetson-stats is not installed): the same sensors jtop reads, without jtop. A
sampled probe: each read is the rail's latest instantaneous power, and
:mod:`helpers.measure.power.window` integrates the samples over a window.

Two kernel layouts exist.

Older L4T (R32: TX1, TX2, Nano, Xavier), the ``ina3221x`` IIO driver
(``iio_root`` is ``/sys/bus/i2c/drivers/ina3221x``)::

    iio_root/1-0040/iio:device0/rail_name_0         "VDD_IN"  (Nano: "POM_5V_IN")
    iio_root/1-0040/iio:device0/in_power0_input     power, mW
    iio_root/1-0040/iio:device0/in_current0_input   current, mA (not read)
    iio_root/1-0040/iio:device0/in_voltage0_input   voltage, mV (not read)

Newer L4T (R34 and later: Orin, JetPack 5/6), the mainline ``ina3221`` hwmon
driver (``hwmon_root`` is ``/sys/class/hwmon``)::

    hwmon_root/hwmon3/name             "ina3221"
    hwmon_root/hwmon3/in1_label        "VDD_IN"     (channels 1 to 3)
    hwmon_root/hwmon3/in1_input        bus voltage, mV
    hwmon_root/hwmon3/curr1_input      current, mA
    hwmon_root/hwmon3/in1_enable       0 for a disabled channel (optional)
    hwmon_root/hwmon3/power1_input     power, uW (where a driver offers it; preferred)
    hwmon_root/hwmon3/update_interval  sensor update period, ms (optional)

Power of a hwmon channel is ``in * curr`` (mV x mA = uW) unless the driver
offers ``power<N>_input``. Only channels 1 to 3 are read: ``in4``-``in7`` are
shunt voltages and their sum, not rails. Units returned: W.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .base import METHOD_SAMPLED, PowerProbe, ProbeUnavailable

DEFAULT_IIO_ROOT = Path("/sys/bus/i2c/drivers/ina3221x")
DEFAULT_HWMON_ROOT = Path("/sys/class/hwmon")
# Board input rails, the whole module's power (what the paper measured on a TX1):
# VDD_IN on TX1/TX2/Xavier NX/Orin, POM_5V_IN on a Nano.
BOARD_INPUT_RAILS = ("VDD_IN", "POM_5V_IN")
HWMON_CHANNELS = (1, 2, 3)


def _read_text(path: Path) -> str:
    """Text of one sysfs attribute (a seam for tests that simulate a root-only file)."""
    return path.read_text()


@dataclass(frozen=True)
class Ina3221Rail:
    """One rail: where its power is read and how.

    ``layout`` is ``"iio"`` (``power`` is an mW file), ``"hwmon"`` with
    ``power`` a uW file, or ``"hwmon"`` with ``voltage`` (mV) and ``current``
    (mA) files and no ``power``.
    """

    name: str
    layout: str
    power: Path | None = None
    voltage: Path | None = None
    current: Path | None = None
    update_interval: Path | None = None

    def read_w(self) -> float:
        """Instantaneous power of the rail in W."""
        if self.layout == "iio":
            return _read_number(self.power) * 1e-3
        if self.power is not None:
            return _read_number(self.power) * 1e-6
        return _read_number(self.voltage) * _read_number(self.current) * 1e-6


def _read_number(path: Path) -> float:
    text = _read_text(path).strip()
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{path} holds {text!r}, not a number") from None


def _iio_rails(iio_root: Path) -> list[Ina3221Rail]:
    rails = []
    for device in sorted(iio_root.glob("*/iio:device*")):
        for name_file in sorted(device.glob("rail_name_*")):
            channel = name_file.name.removeprefix("rail_name_")
            power = device / f"in_power{channel}_input"
            try:
                name = _read_text(name_file).strip()
            except OSError:
                continue
            if name and power.exists():
                rails.append(Ina3221Rail(name, "iio", power=power))
    return rails


def _hwmon_rails(hwmon_root: Path) -> list[Ina3221Rail]:
    rails = []
    for hwmon in sorted(hwmon_root.glob("hwmon*")):
        try:
            if _read_text(hwmon / "name").strip() != "ina3221":
                continue
        except OSError:
            continue
        interval = hwmon / "update_interval"
        for channel in HWMON_CHANNELS:
            label, power = hwmon / f"in{channel}_label", hwmon / f"power{channel}_input"
            voltage, current = hwmon / f"in{channel}_input", hwmon / f"curr{channel}_input"
            try:
                name = _read_text(label).strip()
            except OSError:
                continue
            enable = hwmon / f"in{channel}_enable"
            try:
                if enable.exists() and _read_text(enable).strip() == "0":
                    continue
            except OSError:
                pass
            if not name:
                continue
            if power.exists():
                rails.append(Ina3221Rail(name, "hwmon", power=power,
                                         update_interval=interval if interval.exists() else None))
            elif voltage.exists() and current.exists():
                rails.append(Ina3221Rail(name, "hwmon", voltage=voltage, current=current,
                                         update_interval=interval if interval.exists() else None))
    return rails


def find_rails(iio_root: Path = DEFAULT_IIO_ROOT, hwmon_root: Path = DEFAULT_HWMON_ROOT) -> dict[str, Ina3221Rail]:
    """Every INA3221 rail found in either layout, by name (the first of a repeated name wins)."""
    rails: dict[str, Ina3221Rail] = {}
    for rail in _iio_rails(Path(iio_root)) + _hwmon_rails(Path(hwmon_root)):
        rails.setdefault(rail.name, rail)
    return rails


class Ina3221Probe(PowerProbe):
    """Instantaneous power of one INA3221 rail, in W, from sysfs (a sampled probe).

    Parameters
    ----------
    rail:
        Rail name, e.g. ``"VDD_IN"``, ``"VDD_GPU_SOC"``; ``None`` is the board
        input rail (the first of :data:`BOARD_INPUT_RAILS` present).
    iio_root, hwmon_root:
        The two layouts' folders (tests pass fake trees).
    """

    name = "ina3221"
    method = METHOD_SAMPLED

    def __init__(self, rail: str | None = None, iio_root: Path = DEFAULT_IIO_ROOT,
                 hwmon_root: Path = DEFAULT_HWMON_ROOT):
        iio_root, hwmon_root = Path(iio_root), Path(hwmon_root)
        rails = find_rails(iio_root, hwmon_root)
        if not rails:
            raise ProbeUnavailable(
                f"no INA3221 power monitor: no {iio_root}/*/iio:device*/rail_name_* and no hwmon named "
                f"ina3221 under {hwmon_root} (not a Jetson, or a kernel without the driver)"
            )
        wanted = BOARD_INPUT_RAILS if rail is None else (rail,)
        chosen = next((rails[name] for name in wanted if name in rails), None)
        if chosen is None:
            asked = f"board input rail ({' or '.join(BOARD_INPUT_RAILS)})" if rail is None else f"rail {rail!r}"
            raise ProbeUnavailable(f"INA3221 has no {asked} (rails: {', '.join(sorted(rails))})")
        try:
            chosen.read_w()
        except PermissionError as err:
            raise ProbeUnavailable(f"permission denied reading {err.filename} (root only on this kernel)") from None
        except (OSError, ValueError) as err:
            raise ProbeUnavailable(f"could not read INA3221 rail {chosen.name}: {err}") from None
        self.rail = chosen
        self.domain = f"ina3221:{chosen.name}"
        self.sensor_period_s = self._period(chosen)

    @staticmethod
    def _period(rail: Ina3221Rail) -> float | None:
        """The hwmon ``update_interval`` in s, or None where the driver does not say."""
        if rail.update_interval is None:
            return None
        try:
            ms = _read_number(rail.update_interval)
        except (OSError, ValueError):
            return None
        return ms / 1000.0 if ms > 0 else None

    def read_power_w(self) -> float:
        """Latest instantaneous power of the rail in W."""
        return self.rail.read_w()

    def close(self) -> None:
        """Nothing to release (sysfs files are opened per read)."""
