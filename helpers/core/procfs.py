"""What the operating system says about this machine's CPUs, read in one place.

``/proc/cpuinfo`` (the first processor's fields), the board's device-tree
model, the CPUs this process may run on (its affinity mask) and ``/proc/stat``
(CPU time of each core, in clock ticks). Standard library only. Every reader answers empty (``{}`` or
``None``) where the file or the call does not exist (macOS, Windows, a
container without /proc), never with a guess; :func:`usable_cores` alone
falls back, to ``os.cpu_count()``.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from helpers.core.units import KIB

__all__ = ["status_kib", "rss_bytes", "peak_rss_bytes", "rss_file_bytes", "reset_peak_rss", "CPUINFO", "DEVICE_TREE_MODEL", "PROC_STAT", "cpuinfo_fields", "board_model", "usable_cpus",
           "usable_cores", "clock_ticks_per_s", "CpuReading", "read_cpu"]

CPUINFO = Path("/proc/cpuinfo")
DEVICE_TREE_MODEL = Path("/proc/device-tree/model")  # the board, on ARM boards such as a Jetson
PROC_STAT = Path("/proc/stat")


# --------------------------------------------------------------------------- /proc/cpuinfo
def cpuinfo_fields(text: str | None = None, path: Path | str = CPUINFO) -> dict[str, str]:
    """The first processor block of ``/proc/cpuinfo`` as ``{lower-case key: value}``.

    ``text`` is the file's text (``None``: read ``path``; ``{}`` where it cannot
    be read). The block ends at the first blank line after a ``processor``
    line and the block's x86 ``flags`` or ARM ``Features``; until then later
    lines add the keys not seen yet (a header block before the processors
    does not end it). The first value of a key wins; lines without ``:`` are
    ignored.
    """
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return {}
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if "processor" in fields and ("flags" in fields or "features" in fields):
                break  # end of the first processor block
            continue
        key, sep, value = line.partition(":")
        if not sep:
            continue
        fields.setdefault(key.strip().lower(), value.strip())
    return fields


def board_model(path: Path | str = DEVICE_TREE_MODEL) -> str:
    """The board's model name from the device tree (ARM boards such as a Jetson); "" where there is none."""
    try:
        return Path(path).read_bytes().rstrip(b"\x00").decode().strip()
    except (OSError, UnicodeDecodeError):
        return ""


# --------------------------------------------------------------------------- affinity
def usable_cpus() -> set[int] | None:
    """Indices of the logical CPUs this process may run on (its affinity mask); ``None`` where the
    operating system has no affinity call (macOS, Windows)."""
    try:
        return set(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None


def usable_cores() -> int:
    """Number of logical CPUs this process may run on: the affinity mask's, else ``os.cpu_count()``, else 1."""
    cpus = usable_cpus()
    return len(cpus) if cpus is not None else (os.cpu_count() or 1)


# --------------------------------------------------------------------------- /proc/stat
def clock_ticks_per_s() -> int:
    """The kernel's clock ticks per second (``SC_CLK_TCK``), the unit of ``/proc/stat``; 100 without sysconf."""
    return os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class CpuReading:
    """CPU seconds at one instant: all processes' busy and steal time on our cores, our own, wall time."""

    busy_s: float
    steal_s: float
    own_s: float
    wall_s: float
    cores: int


def read_cpu(stat_text: str | None = None, own_s: float | None = None) -> CpuReading | None:
    """A reading from /proc/stat (per-core lines of the cores we may run on); None where there is none.

    ``stat_text``: the file's text (``None``: read it); ``own_s``: this
    process's CPU seconds (``None``: ``os.times()``); ``wall_s`` is
    ``time.perf_counter()``.
    """
    if stat_text is None:
        try:
            stat_text = PROC_STAT.read_text()
        except OSError:
            return None
    hz = clock_ticks_per_s()
    allowed = usable_cpus()
    busy = steal = 0
    cores = 0
    for line in stat_text.splitlines():
        parts = line.split()
        if not parts or not parts[0].startswith("cpu") or parts[0] == "cpu":
            continue
        index = int(parts[0][3:])
        if allowed is not None and index not in allowed:
            continue
        v = [int(p) for p in parts[1:]] + [0] * 10
        # user nice system idle iowait irq softirq steal (guest is already inside user)
        busy += v[0] + v[1] + v[2] + v[5] + v[6]
        steal += v[7]
        cores += 1
    if cores == 0:
        return None
    if own_s is None:
        t = os.times()
        own_s = t.user + t.system
    return CpuReading(busy / hz, steal / hz, own_s, time.perf_counter(), cores)


# --------------------------------------------------------------------------- this process's memory
def status_kib(field: str) -> int | None:
    """A field of /proc/self/status (``VmRSS``, ``VmHWM``, ``RssFile``) in KiB; None where unreadable."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_bytes() -> int:
    """This process's resident set size, bytes (VmRSS; psutil where /proc is missing)."""
    kib = status_kib("VmRSS")
    if kib is not None:
        return kib * KIB
    import psutil

    return int(psutil.Process().memory_info().rss)


def peak_rss_bytes() -> int:
    """This process's peak resident set size, bytes (VmHWM; ``ru_maxrss`` where /proc is missing)."""
    kib = status_kib("VmHWM")
    if kib is not None:
        return kib * KIB
    import resource
    import sys

    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(maxrss if sys.platform == "darwin" else maxrss * KIB)  # macOS: bytes, Linux: KiB


def rss_file_bytes() -> int:
    """Resident pages mapped from files (library code), bytes; 0 where unknown."""
    kib = status_kib("RssFile")
    return kib * KIB if kib is not None else 0


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (writing "5" to /proc/self/clear_refs); False where not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False
