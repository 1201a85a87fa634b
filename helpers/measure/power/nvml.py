"""NVIDIA GPU power and energy through NVML (the ``pynvml`` module of nvidia-ml-py).

nvidia-ml-py is optional (``pip install '.[nvidia]'``) and imported only when a
probe is opened.

Two sources, in order of preference:

* ``nvmlDeviceGetTotalEnergyConsumption``: energy in mJ since the driver was
  loaded (Volta and newer). A counter, so a window's energy is exact up to the
  counter's own update and needs no sampling.
* ``nvmlDeviceGetPowerUsage``: power in mW, used when the counter answers
  NotSupported (pre-Volta boards). A sampled source.

Pitfall (Yang et al., "Part-time Power Measurements: nvidia-smi's Lack of
Attention", arXiv 2312.02741): on A100 and H100 the reported power is an
average that the board updates from only part of each sampling period, so
sampling it misses or over-weights short bursts. The total-energy counter is the
better source on those parts, which is why it is preferred here, and windows of
10 s or more keep the remaining error small.

GPU numbering: NVML enumerates GPUs in PCI bus order, CUDA by default fastest
first and after ``CUDA_VISIBLE_DEVICES``. Pass ``uuid`` (from
``torch.cuda.get_device_properties(i).uuid``) to address the GPU that CUDA
calls ``cuda:i``; ``index`` is the NVML index.
"""
from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from .base import METHOD_COUNTER, METHOD_SAMPLED, PowerProbe, ProbeUnavailable

INSTALL_HINT = "nvidia-ml-py is not installed (pip install '.[nvidia]')"
_NOT_SUPPORTED_CODE = 3  # NVML_ERROR_NOT_SUPPORTED


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _is_not_supported(nvml: Any, err: BaseException) -> bool:
    cls = getattr(nvml, "NVMLError_NotSupported", None)
    if isinstance(cls, type) and isinstance(err, cls):
        return True
    code = getattr(nvml, "NVML_ERROR_NOT_SUPPORTED", _NOT_SUPPORTED_CODE)
    return getattr(err, "value", None) == code


def import_pynvml() -> ModuleType:
    """The ``pynvml`` module, or :class:`ProbeUnavailable` with the install hint."""
    try:
        return importlib.import_module("pynvml")
    except ImportError:
        raise ProbeUnavailable(INSTALL_HINT) from None


class NvmlProbe(PowerProbe):
    """Energy (preferred) or power of one NVIDIA GPU via NVML.

    Parameters
    ----------
    index:
        NVML device index (PCI bus order).
    nvml:
        A module with pynvml's API; ``None`` imports ``pynvml``. Tests inject a
        fake.
    uuid:
        NVML UUID (``"GPU-..."``; the bare form torch prints is accepted) that
        overrides ``index``.

    ``method`` is ``"counter"`` when the total-energy counter (mJ) works, else
    ``"sampled"`` (power usage, mW). Readings are converted to J and W.
    ``sensor_period_s`` is ``None``: NVML does not report its update period,
    which differs between GPU generations.
    """

    name = "nvml"
    sensor_period_s = None

    def __init__(self, index: int = 0, nvml: Any | None = None, uuid: str | None = None):
        self._nvml = nvml if nvml is not None else import_pynvml()
        error_cls = getattr(self._nvml, "NVMLError", Exception)
        self._error_cls = error_cls
        self._initialised = False
        try:
            self._nvml.nvmlInit()
        except error_cls as err:
            raise ProbeUnavailable(
                f"NVML could not start: {_text(err)} (no NVIDIA driver loaded or no NVIDIA GPU)"
            ) from None
        self._initialised = True
        try:
            self._handle, self.index = self._find_device(index, uuid)
            self.device_name = self._device_name()
            self.method = self._choose_method()
        except BaseException:
            self.close()
            raise
        self.domain = f"nvml:gpu{self.index}"

    def _find_device(self, index: int, uuid: str | None) -> tuple[Any, int]:
        nvml = self._nvml
        try:
            count = int(nvml.nvmlDeviceGetCount())
        except self._error_cls as err:
            raise ProbeUnavailable(f"NVML could not count GPUs: {_text(err)}") from None
        if uuid is not None:
            wanted = uuid if uuid.startswith(("GPU-", "MIG-")) else f"GPU-{uuid}"
            for i in range(count):
                handle = nvml.nvmlDeviceGetHandleByIndex(i)
                if _text(nvml.nvmlDeviceGetUUID(handle)) == wanted:
                    return handle, i
            raise ProbeUnavailable(f"NVML sees no GPU with UUID {wanted} among {count} GPU(s)")
        if not 0 <= index < count:
            raise ProbeUnavailable(f"NVML GPU index {index} is out of range: NVML sees {count} GPU(s)")
        try:
            return nvml.nvmlDeviceGetHandleByIndex(index), index
        except self._error_cls as err:
            raise ProbeUnavailable(f"NVML could not open GPU {index}: {_text(err)}") from None

    def _device_name(self) -> str:
        try:
            return _text(self._nvml.nvmlDeviceGetName(self._handle))
        except Exception:  # the name is informative only
            return "unknown GPU"

    def _choose_method(self) -> str:
        nvml = self._nvml
        try:
            nvml.nvmlDeviceGetTotalEnergyConsumption(self._handle)
            return METHOD_COUNTER
        except self._error_cls as err:
            if not _is_not_supported(nvml, err):
                raise ProbeUnavailable(
                    f"NVML energy counter of GPU {self.index} ({self.device_name}) failed: {_text(err)}"
                ) from None
        try:
            nvml.nvmlDeviceGetPowerUsage(self._handle)
            return METHOD_SAMPLED
        except self._error_cls as err:
            raise ProbeUnavailable(
                f"GPU {self.index} ({self.device_name}) reports neither an energy counter nor "
                f"power usage through NVML: {_text(err)}"
            ) from None

    def read_energy_j(self) -> float:
        """Energy in J since the driver was loaded (counter method only)."""
        if self.method != METHOD_COUNTER:
            return super().read_energy_j()
        return self._nvml.nvmlDeviceGetTotalEnergyConsumption(self._handle) / 1000.0

    def read_power_w(self) -> float:
        """Board power in W as NVML reports it (sampled method only)."""
        if self.method != METHOD_SAMPLED:
            return super().read_power_w()
        return self._nvml.nvmlDeviceGetPowerUsage(self._handle) / 1000.0

    def close(self) -> None:
        """Shut NVML down (reference counted by NVML itself). Idempotent."""
        if self._initialised:
            self._initialised = False
            try:
                self._nvml.nvmlShutdown()
            except Exception:
                pass
