"""Studies of why the hardware behaves as it does: threads, numeric precision and the runtime.

Each is measured by the same engine as the batch sweep (helpers.measure.engine) into
its own store beside the device's results (``threads.csv``,
``precision.csv``; helpers.store.results.STUDY_FILES), one run per setting:

* **threads**: per-image time at 1 thread up to every core (the powers of two
  and the maximum, :func:`thread_counts`), with the speed-up over 1 thread and
  the parallel efficiency (speed-up / threads);
* **precision**: fp32 against bf16 and fp16 where the device computes them
  natively, and int8 where torch offers it (helpers.measure.dtypes): per-image time,
  speed-up over fp32 and peak memory. Accuracy is not re-measured.
* **runtimes**: PyTorch eager against ONNX Runtime and OpenVINO (helpers.measure.runtimes, ``runtimes.csv``):
  per-image time, speed-up over eager, conversion time and the output's agreement with eager's.

Their tables and sentences are helpers.analysis.studies. Units: seconds per image, MB (10**6 bytes).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Iterable

from helpers.core.lists import split_list
from helpers.core.procfs import usable_cores

__all__ = ["thread_counts", "parse_thread_counts", "measure_threads", "measure_precisions", "measure_runtimes"]


def thread_counts(cores: int | None = None) -> list[int]:
    """1, 2, 4, ... up to ``cores`` (default: the cores this process may use), and ``cores`` itself."""
    if cores is None:
        cores = usable_cores()
    if not isinstance(cores, int) or cores < 1:
        raise ValueError(f"cores must be a positive integer, got {cores!r}")
    counts = [2**k for k in range(int(math.log2(cores)) + 1)]
    return sorted(set(counts + [cores]))


def parse_thread_counts(text: str) -> list[int]:
    """``"1,2"`` -> ``[1, 2]``; anything but positive integers -> ValueError naming the bad item."""
    counts = []
    for item in map(str, split_list(text)):
        if not item.isdigit() or int(item) < 1:
            raise ValueError(f"bad thread count {item!r}: give positive integers, e.g. 1,2,4")
        counts.append(int(item))
    if not counts:
        raise ValueError(f"no thread counts in {text!r}: give positive integers, e.g. 1,2,4")
    return sorted(set(counts))


def measure_threads(models, batch_sizes, counts: Iterable[int] | None = None, device: str = "cpu",
                    results_root: Path | None = None, settings=None, progress: bool = True) -> list[str]:
    """Time and memory of ``models`` at ``batch_sizes`` with each thread count into the threads store;
    returns the runs' fingerprints. Only a CPU has threads to sweep."""
    from helpers.measure.sweep import measure

    if device != "cpu":
        raise ValueError(f"the threads study sweeps CPU threads: device must be 'cpu', not {device!r}")
    counts = list(counts) if counts is not None else thread_counts()
    bad = [n for n in counts if not isinstance(n, int) or n < 1]
    if bad or not counts:
        raise ValueError(f"thread counts must be positive integers, got {counts!r}")
    return [measure(models, batch_sizes, ["time", "memory"], device=device, threads=n,
                    results_root=results_root, settings=settings, progress=progress, study="threads").fingerprint
            for n in counts]


def measure_precisions(models, batch_sizes, precisions: Iterable[str] = ("fp32", "bf16", "fp16", "int8"),
                       device: str = "cpu", threads: int | None = None, results_root: Path | None = None,
                       settings=None, progress: bool = True) -> list[str]:
    """Time and memory of ``models`` at ``batch_sizes`` in each precision into the precision store
    (unsupported combinations stored as "unavailable" with the reason); returns the fingerprints."""
    from helpers.measure.sweep import measure
    from helpers.measure.dtypes import parse_precisions

    return [measure(models, batch_sizes, ["time", "memory"], device=device, threads=threads,
                    results_root=results_root, settings=settings, progress=progress, precision=p,
                    study="precision").fingerprint
            for p in parse_precisions(list(precisions))]




def measure_runtimes(models, batch_sizes, runtimes: Iterable[str] = ("eager", "compile", "onnxruntime", "openvino"),
                     device: str = "cpu", threads: int | None = None, results_root: Path | None = None,
                     settings=None, progress: bool = True) -> list[str]:
    """Time ``models`` at ``batch_sizes`` through each runtime (helpers.measure.runtimes) into the runtimes
    store, eager included as the reference; a runtime not installed, or one that cannot take a model, stored
    as "unavailable" with its reason, an output that differs from eager's as "error"; returns the
    fingerprints (one per runtime: the runtime and its version are part of it)."""
    from helpers.measure.runtimes import parse_runtimes
    from helpers.measure.sweep import measure

    return [measure(models, batch_sizes, ["time", "memory"], device=device, threads=threads,
                    results_root=results_root, settings=settings, progress=progress, runtime=r,
                    study="runtimes").fingerprint
            for r in parse_runtimes(list(runtimes))]
