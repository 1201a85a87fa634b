"""What timing a forward pass needs besides the protocol: threads, out-of-memory, the Timer's block.

The timing protocol itself (warm-up, rounds, samples, their median and its
interval) is the measurement engine's, ``helpers.measure.engine``; it and the
studies share these pieces:

* ``resolve_threads``: the intra-op thread count to time with;
* ``is_out_of_memory``: whether a failure means "this batch does not fit"
  (a *skipped* point, the paper's missing points) rather than an error;
* ``time_block``: seconds of ``n`` back-to-back forward passes through a
  ``torch.utils.benchmark.Timer``.

>>> resolve_threads("2")
2
"""
from __future__ import annotations

import operator
import os

import torch


__all__ = [
    "resolve_threads",
    "is_out_of_memory",
    "OOM_PATTERNS",
    "time_block",
]

#: Words of an out-of-memory message, lower case (every layer that reads one uses these).
OOM_PATTERNS = (
    "out of memory",
    "not enough memory",
    "can't allocate memory",
    "cannot allocate memory",
    "failed to allocate",
)


def resolve_threads(threads: int | None) -> int:
    """The intra-op thread count to time with.

    ``None`` means torch's current setting (``torch.get_num_threads()``, which
    follows ``OMP_NUM_THREADS`` and defaults to the physical cores), falling
    back to ``os.cpu_count()``. Anything but a positive integer is a ValueError.
    """
    if threads is None:
        n = torch.get_num_threads() or os.cpu_count() or 1
        return int(n)
    value = None
    if not isinstance(threads, bool):
        if isinstance(threads, str) and threads.strip().isdigit():  # "4" from a command line
            value = int(threads)
        else:
            try:
                value = operator.index(threads)  # int, numpy integers
            except TypeError:
                value = None
    if value is None or value < 1:
        raise ValueError(f"threads must be a positive integer or None, got {threads!r}")
    threads = value
    return threads


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether an exception means "this batch does not fit in memory".

    ``torch.OutOfMemoryError`` (CUDA and other accelerators), ``MemoryError``,
    and RuntimeErrors whose message says so (CPU: "DefaultCPUAllocator: can't
    allocate memory", "not enough memory").
    """
    if isinstance(exc, (torch.OutOfMemoryError, MemoryError)):
        return True
    if isinstance(exc, RuntimeError):
        message = str(exc).lower()
        return any(p in message for p in OOM_PATTERNS)
    return False


def time_block(timer, number: int) -> float:
    """Seconds of ``number`` back-to-back forward passes through the Timer.

    Synchronised on CUDA like every Timer measurement. ``Timer.timeit(n)``
    would first run ``max(n // 100, 2)`` untimed warm-up passes before each
    timed block, tripling the cost of exactly the slow points this is for; the
    Timer's own block primitive (what blocked_autorange calls) avoids that. The
    public call is the fallback should that primitive ever go away.
    """
    block = getattr(timer, "_timeit", None)
    if callable(block):
        return float(block(number))
    return float(timer.timeit(number).raw_times[0])
