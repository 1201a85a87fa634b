"""Byte units, defined once: the paper's decimal megabyte and the binary sizes of caches and arrays."""
from __future__ import annotations

__all__ = ["KIB", "MIB", "GIB", "MB", "GB"]

KIB = 2**10  # bytes in a KiB (what /proc and sysfs call "kB" or "K")
MIB = 2**20  # bytes in a MiB
GIB = 2**30  # bytes in a GiB
MB = 1e6  # bytes in the paper's megabyte: every memory number of the results store is in MB
GB = 1e9  # bytes in a GB: bandwidths are GB/s, as STREAM counts them
