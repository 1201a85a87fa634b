"""Which power sensor measures a given torch device here, and why the others cannot.

Choice per device (first that opens wins):

* ``cuda`` / ``cuda:N``: NVML for that GPU, then jtop, then the INA3221 rails
  read from sysfs (a Jetson's GPU has no NVML power; its board rail covers it);
* ``cpu``: RAPL package energy, then jtop, then the INA3221 rails;
* on a Jetson (``/etc/nv_tegra_release`` present) jtop, then the INA3221 rails,
  are tried first for both: the sysfs rails are the fallback for a Jetson whose
  jtop service is not running.

No backend measures another device's domain as a substitute: a CPU run is never
given a GPU's power or the reverse. All backend roots and factories are
parameters so tests can run without hardware.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from .base import PowerProbe, ProbeStatus, ProbeUnavailable
from .ina3221 import DEFAULT_HWMON_ROOT, DEFAULT_IIO_ROOT, Ina3221Probe
from .jetson import TEGRA_RELEASE, JtopProbe, is_jetson
from .nvml import NvmlProbe
from .rapl import DEFAULT_POWERCAP_ROOT, RaplProbe

BACKENDS = ("rapl", "nvml", "jtop", "ina3221")
JETSON_BACKENDS = ("jtop", "ina3221")  # board rails: tried first on a Jetson


def parse_device(device: str) -> tuple[str, int | None]:
    """``"cuda:1"`` -> ``("cuda", 1)``; ``"cpu"`` -> ``("cpu", None)``."""
    kind, _, index = str(device).strip().partition(":")
    if index:
        try:
            return kind, int(index)
        except ValueError:
            raise ValueError(f"bad device {device!r}: expected e.g. 'cpu', 'cuda' or 'cuda:0'") from None
    return kind, None


def torch_cuda_uuid(index: int) -> str | None:
    """UUID of CUDA device ``index`` as torch reports it, or None when unknown.

    Lets NVML address the same GPU as CUDA whatever ``CUDA_VISIBLE_DEVICES``
    and ``CUDA_DEVICE_ORDER`` say.
    """
    try:
        import torch

        if not torch.cuda.is_available() or index >= torch.cuda.device_count():
            return None
        uuid = getattr(torch.cuda.get_device_properties(index), "uuid", None)
        return str(uuid) if uuid else None
    except Exception:
        return None


class ProbeFactory:
    """Opens each backend with explicit, injectable locations.

    Parameters
    ----------
    rapl_root:
        powercap folder for :class:`RaplProbe`.
    nvml:
        pynvml-like module for :class:`NvmlProbe` (``None``: import pynvml).
    jtop_factory:
        jtop-like class for :class:`JtopProbe` (``None``: import jtop).
    tegra_release:
        File marking a Jetson.
    jtop_rail:
        Rail read by :class:`JtopProbe`.
    ina3221_iio_root, ina3221_hwmon_root:
        Folders :class:`Ina3221Probe` searches for INA3221 rails.
    ina3221_rail:
        Rail read by :class:`Ina3221Probe` (``None``: the board input rail).
    cuda_uuid:
        Callable mapping a CUDA index to its UUID (``None`` answers "unknown");
        defaults to :func:`torch_cuda_uuid`.
    """

    def __init__(
        self,
        rapl_root: Path = DEFAULT_POWERCAP_ROOT,
        nvml: Any | None = None,
        jtop_factory: Callable[..., Any] | None = None,
        tegra_release: Path = TEGRA_RELEASE,
        jtop_rail: str = "VDD_IN",
        cuda_uuid: Callable[[int], str | None] | None = torch_cuda_uuid,
        ina3221_iio_root: Path = DEFAULT_IIO_ROOT,
        ina3221_hwmon_root: Path = DEFAULT_HWMON_ROOT,
        ina3221_rail: str | None = None,
    ):
        self.rapl_root = Path(rapl_root)
        self.nvml = nvml
        self.jtop_factory = jtop_factory
        self.tegra_release = Path(tegra_release)
        self.jtop_rail = jtop_rail
        self.cuda_uuid = cuda_uuid
        self.ina3221_iio_root = Path(ina3221_iio_root)
        self.ina3221_hwmon_root = Path(ina3221_hwmon_root)
        self.ina3221_rail = ina3221_rail

    def open(self, backend: str, device: str = "cpu") -> PowerProbe:
        """Open ``backend`` for ``device``; raises :class:`ProbeUnavailable` with the reason."""
        kind, index = parse_device(device)
        if backend == "rapl":
            return RaplProbe(root=self.rapl_root)
        if backend == "nvml":
            cuda_index = index or 0
            uuid = None
            if kind == "cuda" and self.cuda_uuid is not None:
                uuid = self.cuda_uuid(cuda_index)
            return NvmlProbe(index=cuda_index, nvml=self.nvml, uuid=uuid)
        if backend == "jtop":
            return JtopProbe(
                rail=self.jtop_rail, jtop_factory=self.jtop_factory, tegra_release=self.tegra_release
            )
        if backend == "ina3221":
            return Ina3221Probe(rail=self.ina3221_rail, iio_root=self.ina3221_iio_root,
                                hwmon_root=self.ina3221_hwmon_root)
        raise ValueError(f"unknown power backend {backend!r}: choose one of {', '.join(BACKENDS)}")

    def order(self, device: str) -> list[str]:
        """Backends that measure ``device``, best first."""
        kind, _ = parse_device(device)
        if kind == "cuda":
            order = ["nvml", *JETSON_BACKENDS]
        elif kind == "cpu":
            order = ["rapl", *JETSON_BACKENDS]
        else:
            order = []
        if order and is_jetson(self.tegra_release):
            order = [*JETSON_BACKENDS, *(b for b in order if b not in JETSON_BACKENDS)]
        return order


def probe_statuses(device: str = "cpu", factory: ProbeFactory | None = None, **locations: Any) -> list[ProbeStatus]:
    """Try every backend (rapl, nvml, jtop, ina3221, in that order) and report each.

    ``device`` selects the GPU NVML is asked about (``"cuda:1"`` -> GPU 1; GPU 0
    otherwise). Each probe that opens is closed again. ``locations`` are
    :class:`ProbeFactory` parameters (or pass ``factory``).
    """
    factory = factory or ProbeFactory(**locations)
    statuses = []
    for backend in BACKENDS:
        try:
            probe = factory.open(backend, device)
        except ProbeUnavailable as err:
            statuses.append(ProbeStatus(backend, False, None, None, err.reason))
            continue
        try:
            statuses.append(probe.status())
        finally:
            probe.close()
    return statuses


def open_probe(
    device: str, prefer: str | None = None, factory: ProbeFactory | None = None, **locations: Any
) -> PowerProbe:
    """The power probe that measures ``device`` (``"cpu"``, ``"cuda"``, ``"cuda:N"``).

    ``prefer`` names one backend to use and no other (no silent substitution
    when the requested sensor is missing). Raises :class:`ProbeUnavailable`
    whose reason joins every tried backend's reason (``reasons`` maps them).
    The caller closes the probe (it is a context manager).
    """
    factory = factory or ProbeFactory(**locations)
    if prefer is not None:
        if prefer not in BACKENDS:
            raise ValueError(f"unknown power backend {prefer!r}: choose one of {', '.join(BACKENDS)}")
        order = [prefer]
    else:
        order = factory.order(device)
    reasons: dict[str, str] = {}
    for backend in order:
        try:
            return factory.open(backend, device)
        except ProbeUnavailable as err:
            reasons[backend] = err.reason
    if not order:
        kind, _ = parse_device(device)
        reasons["none"] = (f"no power backend measures {kind!r} devices (supported: cpu via RAPL, cuda via NVML, "
                           "Jetson via jtop or its INA3221 rails)")
    joined = "; ".join(f"{name}: {reason}" for name, reason in reasons.items())
    raise ProbeUnavailable(f"no power sensor for device {device!r}: {joined}", reasons)
