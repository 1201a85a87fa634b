"""Why the hardware behaves as it does: this machine's facts and measured peaks.

:func:`characterise` returns one tidy table (columns :data:`HARDWARE_COLUMNS`) of

* facts: the CPU's model, vendor, family/model/stepping, logical and physical
  cores, the threads torch uses, cache sizes (L1d, L1i, L2, L3; from
  ``/sys/devices/system/cpu/cpu*/cache/index*/``, else glibc's ``sysconf``,
  else "unknown"), the instruction-set features torch's kernels use (from
  ``/proc/cpuinfo``), torch's own view of the CPU, and, where CUDA exists, the
  GPU's name, memory, SM count and clocks;
* measured peaks of the chosen device, each with n and a 95 % interval: matrix
  multiply throughput per dtype in GFLOP/s (``2 n^3`` floating-point operations
  per ``n x n`` product) and memory bandwidth in GB/s (bytes read + written, as
  STREAM counts them), timed with ``torch.utils.benchmark.Timer``.

A dtype the device does not support natively is reported as ``not native``
with the reason, never measured through an emulated fallback: bf16 on a CPU
needs AVX-512 BF16 or AMX-BF16 (x86) or the BF16 extension (ARM); fp16 needs
AVX-512 FP16 or AMX-FP16 (x86) or ARMv8.2 half-precision arithmetic
(``asimdhp``); on CUDA, bf16 needs compute capability 8.0 and fp16 5.3.

Each peak is measured in several windows (:data:`DEFAULT_PEAK_WINDOWS`): fresh
processes, one after another, each timing every peak (:func:`peaks_in_windows`).
A peak's value is the geometric mean of its windows' medians and its 95 %
interval a Student-t interval on their logarithms
(``helpers.core.stats.window_interval``): what a re-run gives, since a machine's
peak moves between processes and minutes far more than within one timing.
It is never narrower than the precision within a window: the distribution-free
interval of one window's median (the order statistics that cover the median
with at least 95 % probability, ``scipy.stats.quantile_test(...)
.confidence_interval()``, which needs n >= 6 measurements), taken at the
windows' median relative width. With one window that within-window interval is
the row's.

Units: bytes for cache and memory sizes, GFLOP/s, GB/s (1e9 bytes/s), MHz.
"""
from __future__ import annotations

import math
import os
import re
import signal
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from helpers.core.stats import median_interval, window_interval
from helpers.core.procfs import CPUINFO, DEVICE_TREE_MODEL, board_model, cpuinfo_fields, usable_cpus
from helpers.core.units import GB, GIB, KIB, MIB
from helpers.measure.profiles import PEAK_WINDOWS
from helpers.store.characterisation import CACHE_LEVELS, CacheFact, HARDWARE_COLUMNS, HARDWARE_STATUSES, UNKNOWN


SYSFS_CPU = Path("/sys/devices/system/cpu")

# /proc/cpuinfo flag -> label, for the features torch's CPU kernels dispatch on.
X86_FEATURES = {
    "avx2": "AVX2",
    "avx512f": "AVX-512F",
    "avx512_bf16": "AVX-512 BF16",
    "avx512_fp16": "AVX-512 FP16",
    "amx_tile": "AMX-TILE",
    "amx_bf16": "AMX-BF16",
    "amx_fp16": "AMX-FP16",
}
ARM_FEATURES = {
    "asimd": "NEON (asimd)",
    "asimdhp": "NEON fp16 (asimdhp)",
    "bf16": "BF16",
    "sve": "SVE",
}
X86_VENDORS = {"GenuineIntel": "Intel", "AuthenticAMD": "AMD", "HygonGenuine": "Hygon", "CentaurHauls": "Centaur"}
# "CPU implementer" codes of the ARM architecture reference manual.
ARM_IMPLEMENTERS = {
    "0x41": "ARM", "0x42": "Broadcom", "0x43": "Cavium", "0x46": "Fujitsu", "0x48": "HiSilicon",
    "0x4e": "NVIDIA", "0x50": "APM", "0x51": "Qualcomm", "0x61": "Apple", "0x63": "Arm China",
    "0xc0": "Ampere",
}

DTYPES = ("fp32", "bf16", "fp16")
# glibc's sysconf names, the fallback where sysfs has no cache folders.
SYSCONF_CACHE = {
    "L1d": "SC_LEVEL1_DCACHE_SIZE",
    "L1i": "SC_LEVEL1_ICACHE_SIZE",
    "L2": "SC_LEVEL2_CACHE_SIZE",
    "L3": "SC_LEVEL3_CACHE_SIZE",
}

DEFAULT_MATMUL_SIZE = {"cpu": 1024, "cuda": 8192}
#: Windows (fresh processes, one after another) each peak is measured in; its interval is between them.
DEFAULT_PEAK_WINDOWS = PEAK_WINDOWS
#: Seconds a window may take before it is stopped.
PEAK_WINDOW_TIMEOUT_S = 600.0
MIN_BANDWIDTH_ARRAY_BYTES = 256 * MIB
LLC_MULTIPLE = 4  # bandwidth arrays are at least this many times the last-level cache


# --------------------------------------------------------------------------- rows
def _row(quantity: str, value: Any, *, unit: str = "", method: str = "", status: str = "ok", note: str = "",
         dtype: str = "", ci_low: float = math.nan, ci_high: float = math.nan, n: float = math.nan) -> dict:
    if status not in HARDWARE_STATUSES:
        raise ValueError(f"status {status!r} is not one of {', '.join(HARDWARE_STATUSES)}")
    return {"quantity": quantity, "dtype": dtype, "value": value, "unit": unit, "ci_low": ci_low,
            "ci_high": ci_high, "n": n, "method": method, "status": status, "note": note, "device": "",
            "fingerprint": "", "timestamp": ""}


def _fact(quantity: str, value: Any, *, unit: str = "", method: str, note: str = "") -> dict:
    """A fact row; ``None`` or "" becomes ``unknown`` (never a guess)."""
    if value is None or value == "":
        return _row(quantity, UNKNOWN, unit=unit, method=method, status="unknown",
                    note=note or f"{method} does not say")
    return _row(quantity, value, unit=unit, method=method, note=note)


# --------------------------------------------------------------------------- CPU facts
@dataclass(frozen=True)
class CpuInfo:
    """The first processor block of ``/proc/cpuinfo``.

    ``arch`` is ``"x86"``, ``"arm"`` or ``""`` (not recognised); ``family``,
    ``model`` and ``stepping`` are x86's, or on ARM the architecture, the part
    number and ``r<variant>p<revision>``. Missing fields are ``""``.
    """

    arch: str = ""
    model_name: str = ""
    vendor: str = ""
    family: str = ""
    model: str = ""
    stepping: str = ""
    flags: frozenset[str] = field(default_factory=frozenset)


def parse_cpuinfo(text: str) -> CpuInfo:
    """Parse ``/proc/cpuinfo`` text (x86 ``flags`` or ARM ``Features``)."""
    return _cpu_info(cpuinfo_fields(text))


def _cpu_info(fields: dict[str, str]) -> CpuInfo:
    """A :class:`CpuInfo` of the first processor's fields (:func:`helpers.core.procfs.cpuinfo_fields`)."""
    if "vendor_id" in fields or "flags" in fields:
        vendor_id = fields.get("vendor_id", "")
        return CpuInfo(
            arch="x86", model_name=fields.get("model name", ""),
            vendor=X86_VENDORS.get(vendor_id, vendor_id), family=fields.get("cpu family", ""),
            model=fields.get("model", ""), stepping=fields.get("stepping", ""),
            flags=frozenset(fields.get("flags", "").split()),
        )
    if "features" in fields or "cpu implementer" in fields:
        implementer = fields.get("cpu implementer", "").lower()
        variant, revision = fields.get("cpu variant", ""), fields.get("cpu revision", "")
        stepping = ""
        if variant and revision:
            try:
                stepping = f"r{int(variant, 0)}p{int(revision, 0)}"
            except ValueError:
                stepping = ""
        return CpuInfo(
            arch="arm", model_name=fields.get("model name", ""),
            vendor=ARM_IMPLEMENTERS.get(implementer, implementer), family=fields.get("cpu architecture", ""),
            model=fields.get("cpu part", ""), stepping=stepping,
            flags=frozenset(fields.get("features", "").split()),
        )
    return CpuInfo(model_name=fields.get("model name", ""))


def read_cpuinfo(path: Path = CPUINFO) -> CpuInfo:
    """:func:`parse_cpuinfo` of ``path``; an empty :class:`CpuInfo` where it cannot be read."""
    return _cpu_info(cpuinfo_fields(path=path))


def isa_features(info: CpuInfo) -> dict[str, bool]:
    """Label -> present, for the features that matter to torch on ``info``'s architecture."""
    table = X86_FEATURES if info.arch == "x86" else ARM_FEATURES if info.arch == "arm" else {}
    return {label: flag in info.flags for flag, label in table.items()}


def cpu_dtype_support(info: CpuInfo) -> dict[str, str | None]:
    """dtype -> ``None`` where the CPU computes it natively, else the reason it does not."""
    flags = info.flags
    if info.arch == "x86":
        bf16 = flags & {"avx512_bf16", "amx_bf16"}
        fp16 = flags & {"avx512_fp16", "amx_fp16"}
        return {
            "fp32": None,
            "bf16": None if bf16 else "this CPU has neither AVX-512 BF16 nor AMX-BF16 (no avx512_bf16 or amx_bf16 "
                                      "flag): torch would emulate it through fp32",
            "fp16": None if fp16 else "this CPU has neither AVX-512 FP16 nor AMX-FP16 (no avx512_fp16 or amx_fp16 "
                                      "flag): torch would emulate it through fp32",
        }
    if info.arch == "arm":
        return {
            "fp32": None,
            "bf16": None if "bf16" in flags else "this CPU lacks the ARM BF16 extension (no bf16 feature)",
            "fp16": None if "asimdhp" in flags else "this CPU lacks ARMv8.2 half-precision arithmetic "
                                                   "(no asimdhp feature)",
        }
    reason = "the CPU's instruction set could not be read from /proc/cpuinfo"
    return {"fp32": None, "bf16": reason, "fp16": reason}


def parse_cache_size(text: str) -> int:
    """Bytes of a sysfs cache ``size`` such as ``"32K"``, ``"1024K"``, ``"8M"`` or ``"512"``."""
    match = re.fullmatch(r"\s*(\d+)\s*([KMG]?)i?B?\s*", text, flags=re.IGNORECASE)
    if not match:
        raise ValueError(f"cache size {text!r} is not a number with an optional K, M or G suffix")
    scale = {"": 1, "K": KIB, "M": MIB, "G": GIB}[match.group(2).upper()]
    return int(match.group(1)) * scale


def _cache_name(level: str, kind: str) -> str | None:
    kind = kind.strip().lower()
    if level == "1":
        return {"data": "L1d", "instruction": "L1i", "unified": "L1d"}.get(kind)
    if level in ("2", "3") and kind in ("unified", "data"):
        return f"L{level}"
    return None


def read_caches(cpu_root: Path = SYSFS_CPU, sysconf: Callable[[str], int] | None = os.sysconf) -> dict[str, CacheFact]:
    """Cache sizes of this machine: L1d, L1i, L2, L3 -> :class:`CacheFact`.

    Read from ``cpu_root/cpu*/cache/index*/`` (``level``, ``type``, ``size``,
    ``shared_cpu_list``: instances are the distinct ``shared_cpu_list`` of a
    level); a level sysfs does not list is asked of ``sysconf`` (glibc's
    ``SC_LEVEL*_CACHE_SIZE``, where 0 or an error means it does not know);
    otherwise its size is ``None`` (unknown).
    """
    cpu_root = Path(cpu_root)
    sizes: dict[str, int] = {}
    shared: dict[str, set[str]] = {}
    for index in sorted(cpu_root.glob("cpu[0-9]*/cache/index[0-9]*")):
        try:
            level = (index / "level").read_text().strip()
            kind = (index / "type").read_text().strip()
            size = parse_cache_size((index / "size").read_text())
        except (OSError, ValueError):
            continue
        name = _cache_name(level, kind)
        if name is None:
            continue
        sizes.setdefault(name, size)
        try:
            cpus = (index / "shared_cpu_list").read_text().strip()
        except OSError:
            cpus = index.parent.parent.name
        shared.setdefault(name, set()).add(cpus)
    facts = {}
    for name in CACHE_LEVELS:
        if name in sizes:
            facts[name] = CacheFact(sizes[name], len(shared[name]), f"sysfs {cpu_root}/cpu*/cache")
            continue
        value = None
        if sysconf is not None:
            try:
                value = int(sysconf(SYSCONF_CACHE[name]))
            except (ValueError, OSError, TypeError):
                value = None
        if value and value > 0:
            facts[name] = CacheFact(value, None, f"sysconf {SYSCONF_CACHE[name]}")
        else:
            facts[name] = CacheFact(None, None, "neither sysfs nor sysconf")
    return facts


def last_level_cache_bytes(caches: dict[str, CacheFact]) -> int | None:
    """All last-level cache visible here (the highest level known), in bytes."""
    for name in ("L3", "L2", "L1d"):
        total = caches[name].total_bytes if name in caches else None
        if total:
            return total
    return None


def _physical_cores() -> int | None:
    try:
        import psutil

        return psutil.cpu_count(logical=False)
    except Exception:
        return None


def cpu_facts(threads: int, info: CpuInfo | None = None, caches: dict[str, CacheFact] | None = None) -> list[dict]:
    """Fact rows of the CPU: identity, cores, threads, caches, ISA and torch's view."""
    import torch

    info = info if info is not None else read_cpuinfo()
    caches = caches if caches is not None else read_caches()
    src = "/proc/cpuinfo"
    rows = [
        _fact("cpu_model_name", info.model_name, method=src),
        _fact("cpu_vendor", info.vendor, method=src),
        _fact("cpu_family", info.family, method=src + (" CPU architecture" if info.arch == "arm" else "")),
        _fact("cpu_model", info.model, method=src + (" CPU part" if info.arch == "arm" else "")),
        _fact("cpu_stepping", info.stepping, method=src + (" CPU variant/revision" if info.arch == "arm" else "")),
        _fact("logical_cores", os.cpu_count(), unit="cores", method="os.cpu_count()"),
    ]
    usable = usable_cpus()
    if usable is not None:
        rows.append(_fact("usable_cores", len(usable), unit="cores", method="os.sched_getaffinity(0)"))
    board = board_model()
    if board:
        rows.insert(1, _fact("board_model", board, method=str(DEVICE_TREE_MODEL)))
    rows.append(_fact("physical_cores", _physical_cores(), unit="cores", method="psutil.cpu_count(logical=False)"))
    rows.append(_fact("torch_threads", int(threads), unit="threads", method="num_threads of every timing here"))
    for name in CACHE_LEVELS:
        cache = caches[name]
        note = f"{cache.instances} instance(s) visible" if cache.instances else ""
        rows.append(_fact(f"cache_{name}", cache.size_bytes, unit="bytes", method=cache.source, note=note))
    features = isa_features(info)
    if not features:
        rows.append(_row("isa", UNKNOWN, method=src, status="unknown",
                         note="no x86 flags or ARM Features line in /proc/cpuinfo"))
    for label, present in features.items():
        rows.append(_fact(f"isa:{label}", "yes" if present else "no", method=src + " flags"))
    rows.append(_fact("torch_version", torch.__version__, method="torch.__version__"))
    rows.append(_fact("torch_cpu_capability", torch.backends.cpu.get_cpu_capability(),
                      method="torch.backends.cpu.get_cpu_capability()"))
    rows.append(_fact("mkldnn_available", "yes" if torch.backends.mkldnn.is_available() else "no",
                      method="torch.backends.mkldnn.is_available()"))
    for dtype in ("bf16", "fp16"):
        probe = getattr(torch.ops.mkldnn, f"_is_mkldnn_{dtype}_supported", None)
        try:
            value = ("yes" if probe() else "no") if probe is not None else None
        except Exception:
            value = None
        rows.append(_fact(f"mkldnn_{dtype}_supported", value,
                          method=f"torch.ops.mkldnn._is_mkldnn_{dtype}_supported()"))
    return rows


# --------------------------------------------------------------------------- GPU facts
def cuda_dtype_support(capability: tuple[int, int]) -> dict[str, str | None]:
    """dtype -> ``None`` where a GPU of compute ``capability`` computes it natively, else why not."""
    major, minor = capability
    cc = f"{major}.{minor}"
    return {
        "fp32": None,
        "bf16": None if capability >= (8, 0) else f"compute capability {cc} < 8.0 has no native bf16",
        "fp16": None if capability >= (5, 3) else f"compute capability {cc} < 5.3 has no native fp16 arithmetic",
    }


def gpu_facts(device: str | None = None) -> list[dict]:
    """Fact rows of CUDA device ``device`` (``"cuda:N"``; default the current
    one), or one ``unavailable`` row saying why there is none."""
    import torch

    if not torch.cuda.is_available():
        why = ("torch was built without CUDA" if torch.version.cuda is None
               else "no CUDA device or driver is visible")
        return [_row("gpu", "", method="torch.cuda.is_available()", status="unavailable",
                     note=f"no GPU facts: {why}")]
    index = torch.device(device).index if device and device.startswith("cuda") else torch.cuda.current_device()
    index = index or 0
    props = torch.cuda.get_device_properties(index)
    src = f"torch.cuda.get_device_properties({index})"

    def mhz(khz):
        return round(khz / 1000) if khz else None

    rows = [
        _fact("gpu_name", props.name, method=src),
        _fact("gpu_compute_capability", f"{props.major}.{props.minor}", method=src),
        _fact("gpu_memory", props.total_memory, unit="bytes", method=src + ".total_memory"),
        _fact("gpu_sm_count", props.multi_processor_count, unit="SMs", method=src + ".multi_processor_count"),
        _fact("gpu_l2_cache", getattr(props, "L2_cache_size", None), unit="bytes", method=src + ".L2_cache_size"),
        _fact("gpu_sm_clock", mhz(getattr(props, "clock_rate", None)), unit="MHz", method=src + ".clock_rate (peak)"),
        _fact("gpu_memory_clock", mhz(getattr(props, "memory_clock_rate", None)), unit="MHz",
              method=src + ".memory_clock_rate (peak)"),
        _fact("gpu_memory_bus_width", getattr(props, "memory_bus_width", None), unit="bits",
              method=src + ".memory_bus_width"),
    ]
    clock, width = getattr(props, "memory_clock_rate", None), getattr(props, "memory_bus_width", None)
    nominal = 2 * clock * 1e3 * width / 8 / GB if clock and width else None
    rows.append(_fact("gpu_memory_bandwidth_nominal", nominal, unit="GB/s",
                      method="2 x memory clock x bus width / 8 (double data rate, as CUDA's deviceQuery)"))
    rows.append(_fact("cuda_version", torch.version.cuda, method="torch.version.cuda"))
    rows.append(_fact("tf32_matmul_allowed", "yes" if torch.backends.cuda.matmul.allow_tf32 else "no",
                      method="torch.backends.cuda.matmul.allow_tf32 (fp32 peaks below use this setting)"))
    return rows


# --------------------------------------------------------------------------- peaks
FLOAT_DTYPE_NAMES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}


def _torch_dtype(name: str):
    import torch

    if name not in FLOAT_DTYPE_NAMES:
        raise ValueError(f"unknown dtype {name!r}: choose one of {', '.join(FLOAT_DTYPE_NAMES)}")
    return getattr(torch, FLOAT_DTYPE_NAMES[name])


def time_statement(stmt: str, globals_: dict, *, threads: int, min_run_time: float,
                   min_measurements: int = 10, max_rounds: int = 10) -> list[float]:
    """Seconds per execution of ``stmt``: the per-block times of repeated
    ``Timer(...).blocked_autorange(min_run_time)`` calls with ``num_threads=threads``
    until at least ``min_measurements`` blocks are in (at most ``max_rounds`` calls).

    The Timer synchronises an accelerator before each reading.
    """
    from torch.utils.benchmark import Timer

    if min_run_time <= 0:
        raise ValueError(f"min_run_time must be > 0 s, got {min_run_time!r}")
    timer = Timer(stmt=stmt, globals=globals_, num_threads=int(threads))
    times: list[float] = []
    for _ in range(max_rounds):
        times.extend(timer.blocked_autorange(min_run_time=min_run_time).times)
        if len(times) >= min_measurements:
            break
    return times


def _measured_row(quantity: str, dtype: str, work: float, unit: str, times: list[float], method: str,
                  note: str) -> dict:
    rates = [work / t for t in times if t > 0]
    median, low, high, stat = median_interval(rates, few_samples="no interval")
    return _row(quantity, median, dtype=dtype, unit=unit, ci_low=low, ci_high=high, n=len(rates),
                method=f"{method}; {stat}", note=note)


def matmul_peak(device: str, dtype: str, *, threads: int, size: int, min_run_time: float = 1.0,
                min_measurements: int = 10) -> dict:
    """Throughput of ``torch.mm`` of two ``size x size`` ``dtype`` matrices on ``device``, in GFLOP/s.

    One product is ``2 size^3`` floating-point operations; the row's value is
    the median over the timed blocks with its 95 % interval.
    """
    import torch

    if int(size) < 1:
        raise ValueError(f"matmul size must be a positive integer, got {size!r}")
    torch_dtype = _torch_dtype(dtype)
    a = torch.randn(size, size, device=device).to(torch_dtype)
    b = torch.randn(size, size, device=device).to(torch_dtype)
    c = torch.empty(size, size, device=device, dtype=torch_dtype)
    times = time_statement("torch.mm(a, b, out=c)", {"torch": torch, "a": a, "b": b, "c": c}, threads=threads,
                           min_run_time=min_run_time, min_measurements=min_measurements)
    return _measured_row("matmul_peak", dtype, 2 * size**3 / 1e9, "GFLOP/s", times,
                         f"torch.mm {size}x{size} by Timer.blocked_autorange, 2n^3 flop per product",
                         f"{threads} thread(s)" if device == "cpu" else "")


BANDWIDTH_KINDS = {
    # kind: (statement, arrays, bytes moved per element / element size)
    "copy": ("a.copy_(b)", 2),
    "triad": ("torch.add(b, c, alpha=3.0, out=a)", 3),
}


def memory_bandwidth(device: str, kind: str = "triad", *, threads: int, array_bytes: int,
                     min_run_time: float = 1.0, min_measurements: int = 10) -> dict:
    """Memory bandwidth on ``device`` in GB/s (1e9 bytes/s), fp32 arrays of ``array_bytes`` each.

    ``copy`` (``a = b``) moves 2 arrays' bytes, ``triad`` (``a = b + 3 c``,
    STREAM's triad) 3: bytes read + written, as STREAM counts them (the extra
    read a CPU makes to allocate a written cache line is not counted).
    """
    import torch

    if kind not in BANDWIDTH_KINDS:
        raise ValueError(f"unknown bandwidth kind {kind!r}: choose one of {', '.join(BANDWIDTH_KINDS)}")
    elements = int(array_bytes) // 4
    if elements < 1:
        raise ValueError(f"array_bytes must be at least 4 (one fp32 element), got {array_bytes!r}")
    stmt, arrays = BANDWIDTH_KINDS[kind]
    a = torch.empty(elements, device=device)
    b = torch.randn(elements, device=device)
    c = torch.randn(elements, device=device)
    times = time_statement(stmt, {"torch": torch, "a": a, "b": b, "c": c}, threads=threads,
                           min_run_time=min_run_time, min_measurements=min_measurements)
    moved = arrays * elements * 4
    return _measured_row(f"memory_bandwidth_{kind}", "fp32", moved / GB, "GB/s", times,
                         f"{stmt} on {elements * 4 / MIB:.0f} MiB arrays by Timer.blocked_autorange, "
                         f"{arrays} x array bytes read + written",
                         f"{threads} thread(s)" if device == "cpu" else "")


def default_array_bytes(device: str, caches: dict[str, CacheFact] | None = None) -> int:
    """Bytes per bandwidth array: at least :data:`LLC_MULTIPLE` x the device's
    last-level cache (CPU: all of it visible here; CUDA: L2), and 256 MiB."""
    llc = None
    if device.startswith("cuda"):
        import torch

        llc = getattr(torch.cuda.get_device_properties(device), "L2_cache_size", None)
    else:
        llc = last_level_cache_bytes(caches if caches is not None else read_caches())
    return max(MIN_BANDWIDTH_ARRAY_BYTES, LLC_MULTIPLE * (llc or 0))


def peaks(device: str, *, threads: int, dtype_support: dict[str, str | None], matmul_size: int,
          array_bytes: int, min_run_time: float = 1.0, min_measurements: int = 10) -> list[dict]:
    """Measured rows: a matmul peak per dtype (``not native`` rows where
    ``dtype_support`` gives a reason) and copy and triad bandwidth."""
    rows = []
    for dtype in DTYPES:
        reason = dtype_support.get(dtype, f"no support information for {dtype}")
        if reason:
            rows.append(_row("matmul_peak", "", dtype=dtype, unit="GFLOP/s", method="not measured",
                             status="not native", note=reason))
            continue
        rows.append(matmul_peak(device, dtype, threads=threads, size=matmul_size, min_run_time=min_run_time,
                                min_measurements=min_measurements))
    for kind in BANDWIDTH_KINDS:
        rows.append(memory_bandwidth(device, kind, threads=threads, array_bytes=array_bytes,
                                     min_run_time=min_run_time, min_measurements=min_measurements))
    return rows


# --------------------------------------------------------------------------- windows: what a re-run gives
def _peaks_window(kwargs: dict, conn) -> None:
    """A window's process: every peak of :func:`peaks` (``kwargs``), sent back through ``conn``."""
    from helpers.measure.worker import die_with_parent

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to answer
    die_with_parent()
    try:
        conn.send({"rows": peaks(**kwargs)})
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        conn.send({"error": f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"})
    finally:
        conn.close()


def measure_window(kwargs: dict, timeout_s: float = PEAK_WINDOW_TIMEOUT_S) -> list[dict]:
    """:func:`peaks` (``kwargs``) timed in a fresh process of the measurement engine's forkserver (torch
    preloaded, the engine's lifeline: it ends with this process); its rows. RuntimeError naming the
    cause when the window fails or takes longer than ``timeout_s`` seconds."""
    from helpers.measure.worker import _context

    ctx = _context()
    receive, send = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_peaks_window, args=(kwargs, send), daemon=True)
    process.start()
    send.close()
    try:
        if not receive.poll(timeout_s):
            raise RuntimeError(f"a peaks window took longer than {timeout_s:g} s and was stopped")
        message = receive.recv()
    except EOFError:
        raise RuntimeError(f"a peaks window's process ended with status {process.exitcode} and no result") from None
    finally:
        receive.close()
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join()
    if "error" in message:
        raise RuntimeError(f"a peaks window failed: {message['error']}")
    return message["rows"]


def _relative_half_width(row: dict) -> float:
    value, low, high = row["value"], row["ci_low"], row["ci_high"]
    if not (isinstance(value, (int, float)) and value > 0 and math.isfinite(low) and math.isfinite(high)):
        return math.nan
    return (high - low) / 2 / value


def combine_windows(windows: list[list[dict]]) -> list[dict]:
    """One row per peak from the rows of several windows (each :func:`peaks`'s rows, in its order).

    A measured peak (status ``ok`` in at least 2 windows) takes the geometric mean of its windows'
    values and a t interval on their logs (``window_interval``), widened where needed to the median
    relative width of the windows' own intervals (a few windows can agree by chance); ``n`` is the
    number of windows and the note lists their values. A peak measured in one window keeps that
    window's row; rows that are not ``ok`` in any window (``not native``) are the first window's.
    ValueError when the windows do not hold the same peaks in the same order.
    """
    if not windows:
        raise ValueError("combine_windows needs the rows of at least one window, got none")
    keys = [[(r["quantity"], r["dtype"]) for r in rows] for rows in windows]
    if any(k != keys[0] for k in keys[1:]):
        raise ValueError(f"the windows hold different peaks: {keys}")
    combined = []
    for i, first in enumerate(windows[0]):
        same = [rows[i] for rows in windows]
        ok = [r for r in same if r["status"] == "ok" and isinstance(r["value"], (int, float))
              and math.isfinite(r["value"]) and r["value"] > 0]
        if len(ok) < 2:
            combined.append(dict(ok[0] if ok else first))
            continue
        values = [float(r["value"]) for r in ok]
        centre, low, high, method = window_interval(values)
        widths = [w for w in map(_relative_half_width, ok) if math.isfinite(w)]
        within = statistics.median(widths) if widths else 0.0
        if low > centre * (1 - within) or high < centre * (1 + within):
            method += ", widened to the windows' own precision"
        low, high = min(low, centre * (1 - within)), max(high, centre * (1 + within))
        shown = ", ".join(f"{v:.4g}" for v in values)
        within_method = first["method"].split("; ")[0]
        row = dict(first, value=centre, ci_low=low, ci_high=high, n=len(values),
                   method=f"{within_method}; geometric mean of {len(values)} windows (fresh processes, one after "
                          f"another), {method}",
                   note="; ".join(x for x in (first["note"], f"windows: {shown} {first['unit']}") if x))
        combined.append(row)
    return combined


def peaks_in_windows(windows: int, progress: bool = False, **kwargs) -> list[dict]:
    """:func:`peaks` (``kwargs``) measured in ``windows`` fresh processes one after another, combined by
    :func:`combine_windows`; with one window, measured here, each peak with its within-window interval.
    ValueError for ``windows`` < 1."""
    if isinstance(windows, bool) or not isinstance(windows, int) or windows < 1:
        raise ValueError(f"windows must be a positive integer (fresh processes the peaks are measured in), "
                         f"got {windows!r}")
    if windows == 1:
        return peaks(**kwargs)
    from tqdm.auto import tqdm

    measured = [measure_window(kwargs) for _ in tqdm(range(windows), desc="peaks", unit="window",
                                                      disable=not progress)]
    return combine_windows(measured)


def characterise(device: str = "auto", threads: int | None = None, *, matmul_size: int | None = None,
                 array_bytes: int | None = None, min_run_time: float = 1.0, min_measurements: int = 10,
                 measure: bool = True, cpuinfo: CpuInfo | None = None,
                 caches: dict[str, CacheFact] | None = None, windows: int = DEFAULT_PEAK_WINDOWS,
                 progress: bool = False) -> pd.DataFrame:
    """This machine's facts and ``device``'s measured peaks, as a frame of :data:`HARDWARE_COLUMNS`.

    Parameters
    ----------
    device:
        ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    threads:
        CPU threads torch uses for every timing (``None``: torch's current setting).
    matmul_size:
        Side of the square matrices (default 1024 on a CPU, 8192 on CUDA).
    array_bytes:
        Bytes of each bandwidth array (default :func:`default_array_bytes`).
    min_run_time:
        Seconds per ``blocked_autorange`` call.
    min_measurements:
        Timed blocks per peak at least (>= 6 gives an interval).
    measure:
        ``False``: facts only.
    windows:
        Fresh processes the peaks are measured in, one after another (:func:`peaks_in_windows`); the
        interval is between them. 1: measured in this process, with the within-window interval.
    progress:
        A progress bar over the windows.
    cpuinfo, caches:
        Parsed facts to use instead of this machine's (tests).
    """
    from helpers.measure.timing import resolve_threads
    from helpers.store.machine import resolve_device

    device = resolve_device(device)
    threads = resolve_threads(threads)
    info = cpuinfo if cpuinfo is not None else read_cpuinfo()
    caches = caches if caches is not None else read_caches()
    rows = cpu_facts(threads, info, caches) + gpu_facts(device if device.startswith("cuda") else None)
    if measure:
        if device.startswith("cuda"):
            import torch

            support = cuda_dtype_support(torch.cuda.get_device_capability(device))
        else:
            support = cpu_dtype_support(info)
        kind = "cuda" if device.startswith("cuda") else "cpu"
        rows += peaks_in_windows(windows, progress, device=device, threads=threads, dtype_support=support,
                                 matmul_size=matmul_size or DEFAULT_MATMUL_SIZE[kind],
                                 array_bytes=array_bytes or default_array_bytes(device, caches),
                                 min_run_time=min_run_time, min_measurements=min_measurements)
    from helpers.store.results import environment_fingerprint

    env = environment_fingerprint(device, threads)
    frame = pd.DataFrame(rows, columns=HARDWARE_COLUMNS)
    frame["device"] = device
    frame["fingerprint"] = env["fingerprint"]  # the results store's run id for this machine and threads
    frame["timestamp"] = env["timestamp"]
    return frame


