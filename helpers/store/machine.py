"""The machine's identity: what decides a measured number, in one place.

A measured time or memory belongs to the hardware and software it came from.
``Fingerprint`` holds what decides it (CPU model name with vendor, family,
model and stepping, or the GPU name and driver; logical cores; threads; dtype;
torch version) and ``Fingerprint.id`` is a short hash of those facts: the
results store keys every row with it, so a run resumes only its own rows and a
committed run of other hardware is a reference to compare with, never resumed
as one's own.

``device_tag`` is the short, readable name a person sees (a folder under
data/results/): the CPU or GPU model and the logical core count, e.g.
``cpu-amd-epyc-f25m17-2c``. Where the CPU's model name carries no model number
(virtual machines often say just "AMD EPYC" or "Intel Xeon Processor"), the
family and model numbers are added so that two generations do not share a tag.
"""
from __future__ import annotations

import hashlib
import json
import platform
import re
import subprocess
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from helpers.core.procfs import board_model, cpuinfo_fields, usable_cores

if TYPE_CHECKING:  # torch is imported where it is used: reading this module's facts needs none
    import torch

__all__ = ["cpu_name", "cpu_identity", "gpu_name", "gpu_driver", "device_tag",
           "Fingerprint", "fingerprint", "check_device", "resolve_device"]

# The device strings of every layer: "cpu", "cuda" (the current GPU) or "cuda:N".
_DEVICE_RE = re.compile(r"^(cpu|cuda(:\d+)?)$")


def check_device(device: str) -> None:
    """ValueError unless ``device`` is exactly 'cpu', 'cuda' or 'cuda:N' (what a stored row names)."""
    if not isinstance(device, str) or not _DEVICE_RE.match(device):
        raise ValueError(f"device={device!r}: expected 'cpu', 'cuda' or 'cuda:N'")


def resolve_device(device: str | torch.device | None = "auto") -> str:
    """A canonical device string, ``"cpu"`` or ``"cuda:N"``, for what a person asked for.

    Case and surrounding spaces do not matter, a ``torch.device`` works too.
    ``"auto"`` (or None) is ``"cuda:0"`` when CUDA is available, else
    ``"cpu"``; ``"cuda"`` is ``"cuda:0"``. Anything but the device strings
    ``check_device`` accepts, asking for CUDA on a machine without it, or for a
    GPU index that does not exist, is a ValueError that says so.
    """
    import torch

    valid = "'auto', 'cpu', 'cuda' or 'cuda:N'"
    if device is None:
        device = "auto"
    if isinstance(device, torch.device):
        device = str(device)
    if not isinstance(device, str):
        raise ValueError(f"unknown device {device!r}; valid devices: {valid}")
    name = device.strip().lower()
    if name == "auto":
        return "cuda:0" if torch.cuda.is_available() else "cpu"
    if not _DEVICE_RE.match(name):
        raise ValueError(f"unknown device {device!r}; valid devices: {valid}")
    if name == "cpu":
        return "cpu"
    if not torch.cuda.is_available():
        raise ValueError(
            f"device {device!r} asked for, but CUDA is not available on this machine "
            f"(torch {torch.__version__}); use 'cpu' or 'auto'")
    index = int(name.partition(":")[2] or 0)
    count = torch.cuda.device_count()
    if index >= count:
        raise ValueError(f"device {device!r} does not exist: this machine has {count} CUDA "
                         f"device(s), cuda:0..cuda:{count - 1}")
    return f"cuda:{index}"


def cpu_name(cpuinfo: str | None = None) -> str:
    """Host CPU model name: /proc/cpuinfo "model name", the board model (ARM
    boards such as Jetson), macOS's brand string, then platform.processor()
    or platform.machine(); "" if all fail."""
    name = cpuinfo_fields(cpuinfo).get("model name", "")
    if name:
        return name
    if cpuinfo is not None:
        return ""
    model = board_model()
    if model:
        return model
    if platform.system() == "Darwin":
        try:
            out = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"],
                                 capture_output=True, text=True, timeout=5)
            if out.returncode == 0 and out.stdout.strip():
                return out.stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    return platform.processor() or platform.machine() or ""


def cpu_identity(cpuinfo: str | None = None) -> str:
    """Vendor, family, model and stepping (x86) or implementer, part and revision (ARM), e.g.
    ``AuthenticAMD family 25 model 17 stepping 1``; the machine type where /proc/cpuinfo says nothing."""
    info = cpuinfo_fields(cpuinfo)
    if "cpu family" in info:
        return (f"{info.get('vendor_id', '?')} family {info.get('cpu family', '?')} "
                f"model {info.get('model', '?')} stepping {info.get('stepping', '?')}")
    if "cpu implementer" in info:
        return (f"implementer {info.get('cpu implementer', '?')} part {info.get('cpu part', '?')} "
                f"revision {info.get('cpu revision', '?')}")
    return platform.machine() or "unknown"


def gpu_name(device: str) -> str:
    """Name of the CUDA device ``device`` from torch; RuntimeError when torch sees none."""
    check_device(device)
    import torch

    if not torch.cuda.is_available():
        raise RuntimeError(f"device={device!r}: torch.cuda.is_available() is False on this host")
    index = int(device.split(":")[1]) if ":" in device else torch.cuda.current_device()
    return torch.cuda.get_device_name(index)


def gpu_driver() -> str:
    """The NVIDIA driver version (nvidia-ml-py), else torch's CUDA runtime version, labelled."""
    try:
        import pynvml

        pynvml.nvmlInit()
        try:
            version = pynvml.nvmlSystemGetDriverVersion()
        finally:
            pynvml.nvmlShutdown()
        return f"driver {version.decode() if isinstance(version, bytes) else version}"
    except Exception:  # noqa: BLE001 - no NVML: fall back to what torch knows
        import torch

        return f"cuda runtime {torch.version.cuda}"


_NOISE = [
    r"\((?:r|tm|c)\)",               # (R) (TM) (C)
    r"@\s*[\d.]+\s*[gm]hz",          # CPU @ 2.90GHz
    r"\b\d+(?:\.\d+)?\s*[gm]hz\b",   # bare clock speed
    r"\bwith radeon(?: \w+)? graphics\b",
    r"\b\d+-core\b",
    r"\bcpu\b",
    r"\bprocessor\b",
]


def _slug(name: str, limit: int = 48) -> str:
    s = name.lower()
    for pattern in _NOISE:
        s = re.sub(pattern, " ", s)
    s = re.sub(r"[^a-z0-9]+", "-", s).strip("-")
    s = s[:limit].rstrip("-")
    return s or "unknown"


def device_tag(device: str, cpuinfo: str | None = None, cores: int | None = None) -> str:
    """Short, filesystem-safe name of the hardware behind ``device``.

    ``cpu`` -> ``cpu-<model>[-f<family>m<model>]-<N>c`` (N logical cores; family
    and model added when the name carries no model number), ``cuda:N`` ->
    ``cuda-<gpu model>``. ValueError for any other device string.
    """
    check_device(device)
    if device != "cpu":
        return "cuda-" + _slug(gpu_name(device))
    slug = _slug(cpu_name(cpuinfo))
    info = cpuinfo_fields(cpuinfo)
    if not re.search(r"\d", slug) and "cpu family" in info:
        slug += f"-f{info['cpu family']}m{info.get('model', '0')}"
    return f"cpu-{slug}-{cores or usable_cores()}c"


@dataclass(frozen=True)
class Fingerprint:
    """What decides a measured number. ``id`` is a 10-hex-digit hash of all fields."""

    device: str          # "cpu" or "cuda:N"
    hardware: str        # CPU model name and identity, or GPU name and driver
    logical_cores: int
    threads: int
    dtype: str
    torch_version: str
    runtime: str = ""    # the runtime and its version ("onnxruntime 1.31.1"); "" for PyTorch eager

    @property
    def id(self) -> str:
        fields = asdict(self)
        if not fields["runtime"]:
            del fields["runtime"]  # eager: the id every run had before runtimes were an axis
        text = json.dumps(fields, sort_keys=True)
        return hashlib.sha1(text.encode()).hexdigest()[:10]

    def as_dict(self) -> dict:
        return {**asdict(self), "id": self.id}


def fingerprint(device: str, threads: int, dtype: str = "float32", runtime: str = "") -> Fingerprint:
    """This machine's fingerprint for measuring on ``device`` with ``threads`` CPU threads (through ``runtime``,
    helpers.measure.runtimes.runtime_label, "" for eager)."""
    check_device(device)
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads={threads!r}: expected a positive integer")
    import torch

    if device == "cpu":
        hardware = f"{cpu_name()} ({cpu_identity()})"
    else:
        hardware = f"{gpu_name(device)} ({gpu_driver()}); host {cpu_name()}"
    return Fingerprint(device=device, hardware=" ".join(hardware.split()), logical_cores=usable_cores(),
                       threads=threads, dtype=dtype, torch_version=torch.__version__, runtime=runtime)
