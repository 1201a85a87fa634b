"""A device's characterisation on disk: its facts and measured peaks, one per run fingerprint, in
``data/results/<device-tag>/hardware.csv`` beside the device's results store (measured by
helpers.measure.hardware). Units: GFLOP/s, GB/s, bytes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from helpers.core.stats import Estimate

__all__ = ["HARDWARE_COLUMNS", "HARDWARE_FILENAME", "HARDWARE_STATUSES", "UNKNOWN", "CACHE_LEVELS", "CacheFact", "save_characterisation", "load_characterisation", "measured_peak", "stored_caches", "characterisation_for_run"]


#: The columns of a characterisation (its rows, and the device's ``hardware.csv``).
HARDWARE_COLUMNS = ["quantity", "dtype", "value", "unit", "ci_low", "ci_high", "n", "method", "status", "note",
                    "device", "fingerprint", "timestamp"]


HARDWARE_FILENAME = "hardware.csv"  # beside the device's results store


# ok: a fact found or a number measured; unknown: a fact this machine does not
# reveal (value "unknown"); unavailable: does not apply here (no CUDA);
# not native: a dtype the device has no native arithmetic for (not measured).
HARDWARE_STATUSES = ("ok", "unknown", "unavailable", "not native")


UNKNOWN = "unknown"


CACHE_LEVELS = ("L1d", "L1i", "L2", "L3")


@dataclass(frozen=True)
class CacheFact:
    """One cache level: size of one instance in bytes, number of instances
    among the CPUs visible here (``None``: unknown), and where it was read."""

    size_bytes: int | None
    instances: int | None
    source: str

    @property
    def total_bytes(self) -> int | None:
        """Size x instances (all of this level's cache visible here), in bytes."""
        if self.size_bytes is None:
            return None
        return self.size_bytes * (self.instances or 1)


def save_characterisation(frame: pd.DataFrame, folder: Path | str | None = None) -> Path:
    """Store ``frame`` in ``folder/hardware.csv`` and return that path.

    ``folder`` defaults to ``data/results/<device-tag>/`` of the frame's device
    (:func:`helpers.store.machine.device_tag`), beside that device's results store;
    a folder in data/recorded is refused (ValueError): a recorded run is read-only.
    The file keeps one characterisation per fingerprint: rows of the frame's
    fingerprint already there are replaced, other fingerprints' rows are kept.
    """
    missing = [c for c in HARDWARE_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"not a characterisation frame: columns {missing} are missing "
                         f"(expected {HARDWARE_COLUMNS})")
    if folder is None:
        from helpers.core.paths import results_dir
        from helpers.store.machine import device_tag

        devices = sorted(set(frame["device"].dropna()))
        if len(devices) != 1:
            raise ValueError(f"the frame names devices {devices}: pass folder= to save it")
        device = devices[0]
        folder = results_dir(device_tag(device))
    from helpers.core.paths import check_writable

    check_writable(folder, "folder")  # a recorded run (data/recorded) is read-only
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / HARDWARE_FILENAME
    frame = frame[HARDWARE_COLUMNS]
    if path.is_file():
        old = pd.read_csv(path, dtype={"fingerprint": str, "value": str}, keep_default_na=False)
        if list(old.columns) == HARDWARE_COLUMNS:
            old = old[~old["fingerprint"].isin(set(frame["fingerprint"]))]
            frame = pd.concat([old, frame.astype({"value": str})], ignore_index=True)
    frame.to_csv(path, index=False)
    return path


def load_characterisation(device_tag: str, root: Path | str | None = None,
                          fingerprint: str | None = None) -> pd.DataFrame | None:
    """The stored characterisation of ``device_tag`` (``<root>/<tag>/hardware.csv``, root
    default data/results): the rows of ``fingerprint``, or of the latest one; ``None``
    where the device has none stored (or none of that fingerprint)."""
    from helpers.core.paths import results_dir

    path = results_dir(device_tag, Path(root) if root is not None else None) / HARDWARE_FILENAME
    if not path.is_file():
        return None
    frame = pd.read_csv(path, dtype={"fingerprint": str, "value": str, "dtype": str, "note": str, "unit": str},
                        keep_default_na=False, na_values={"ci_low": [""], "ci_high": [""], "n": [""]})
    missing = [c for c in HARDWARE_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path} is not a characterisation: columns {missing} are missing; "
                         f"write it again with python -m helpers hardware")
    if fingerprint is None:
        fingerprint = frame.sort_values("timestamp", kind="stable")["fingerprint"].iloc[-1]
    frame = frame[frame["fingerprint"] == fingerprint].reset_index(drop=True)
    return frame if len(frame) else None


def measured_peak(frame: pd.DataFrame, quantity: str, dtype: str = "fp32") -> Estimate | None:
    """The ``quantity`` row (``matmul_peak``, ``memory_bandwidth_triad``, ...) of ``dtype`` in a
    characterisation, when it was measured (status ok), as an estimate with its 95 % interval,
    n, the row's method and unit (GFLOP/s or GB/s); ``None`` otherwise."""
    rows = frame[(frame["quantity"] == quantity) & (frame["dtype"].fillna("") == dtype)
                 & (frame["status"] == "ok")]
    if rows.empty:
        return None
    r = rows.iloc[-1]
    return Estimate(float(r["value"]), float(r["ci_low"]), float(r["ci_high"]), str(r["method"]),
                    n=int(float(r["n"])), unit=str(r["unit"]))


def stored_caches(frame: pd.DataFrame) -> dict[str, CacheFact]:
    """The cache levels of a stored characterisation (its ``cache_*`` rows) as :func:`read_caches`
    gives them for this machine: a recorded device's caches, read on any machine."""
    facts = {}
    for name in CACHE_LEVELS:
        rows = frame[(frame["quantity"] == f"cache_{name}") & (frame["status"] == "ok")]
        if rows.empty:
            facts[name] = CacheFact(None, None, "not in the characterisation")
            continue
        row = rows.iloc[-1]
        match = re.match(r"(\d+) instance", str(row["note"]))
        facts[name] = CacheFact(int(float(row["value"])), int(match.group(1)) if match else None, str(row["method"]))
    return facts


def characterisation_for_run(device_tag: str, fingerprint: str | None,
                             root: Path | str | None = None) -> tuple[pd.DataFrame | None, str]:
    """The stored characterisation of the run ``fingerprint`` of ``device_tag``, and "" ; or ``None`` and
    why not (none stored, or only of another fingerprint: the peaks of other hardware or threads are
    never used for this run's roofline)."""
    if fingerprint is None:
        return None, f"{device_tag} has no measured run to place on a roofline"
    frame = load_characterisation(device_tag, root, fingerprint=fingerprint)
    if frame is not None:
        return frame, ""
    other = load_characterisation(device_tag, root)
    if other is None:
        return None, (f"no hardware characterisation is stored for {device_tag}: "
                      f"python -m helpers hardware measures it")
    return None, (f"the stored characterisation of {device_tag} is of run {other['fingerprint'].iloc[0]}, not of "
                  f"this run ({fingerprint}): its peaks are another setting's; python -m helpers hardware "
                  f"--threads N measures this one")
