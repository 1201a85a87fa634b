"""Claims computed once per input: the claims table of an unchanged store, read back from disk.

A claims table is a pure function of its inputs: the results frame it rules on, its arguments
(device tag, parts, model set, counts), the package's code and reference data, and the libraries
that compute it (its bootstraps and Monte Carlo draws are seeded). :func:`cached` keys a table by
the SHA-256 of all of them and keeps it, pickled, in :func:`helpers.core.paths.claims_cache_dir`
(``<repo>/.cache/claims/``, git-ignored; ``CLAIMS_CACHE_DIR`` moves it, ``off`` turns it off:
the test suite does, since its tests patch the rules). Any change to any input
is another key, so a table read back is the table that would be computed: a stale one is never
read. A file that cannot be read is named in a warning and the table is computed again; a folder
that cannot be written is named in a warning and the table is returned all the same.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import warnings
from typing import Callable, Iterable

import pandas as pd

from helpers.core.paths import REFERENCE_DIR, REPO_ROOT, claims_cache_dir
from helpers.counting.cache import library_versions

__all__ = ["FORMAT", "LIBRARIES", "code_digest", "frame_digest", "claims_key", "cached"]

#: Version of the file layout; a change makes every file stale.
FORMAT = 1
#: Distributions a claims table depends on: the statistics' and the counts' libraries.
LIBRARIES = ("numpy", "scipy", "pandas", "torch", "torchvision", "timm", "ultralytics-thop")


def code_digest() -> str:
    """SHA-256 (hex) of every source file of the package and every reference data file, path and bytes."""
    digest = hashlib.sha256()
    files = sorted((REPO_ROOT / "helpers").rglob("*.py")) + sorted(p for p in REFERENCE_DIR.rglob("*") if p.is_file())
    for path in files:
        digest.update(str(path.relative_to(REPO_ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def frame_digest(frame: pd.DataFrame | None) -> str | None:
    """SHA-256 (hex) of a frame's columns, dtypes, index and values; None for no frame."""
    if frame is None:
        return None
    digest = hashlib.sha256(json.dumps([[str(c), str(t)] for c, t in frame.dtypes.items()]).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return digest.hexdigest()


def claims_key(frame: pd.DataFrame | None, *, device_tag: str | None, paper_data: bool,
               counts: pd.DataFrame | None, parts: Iterable[str] | None, models: Iterable[str]) -> str:
    """The key of a claims table: a digest of every input it is computed from."""
    inputs = {"format": FORMAT, "libraries": library_versions(LIBRARIES), "code": code_digest(),
              "frame": frame_digest(frame),
              "device_tag": device_tag, "paper_data": paper_data, "counts": frame_digest(counts),
              "parts": None if parts is None else list(parts), "models": list(models)}
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:32]


def cached(key: str | Callable[[], str], compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """The table stored under ``key`` (or under ``key()``, called only when the cache is on), or
    ``compute()``'s, stored under it (atomically: a temporary file, then ``os.replace``, so no reader
    sees half a file)."""
    folder = claims_cache_dir()
    if folder is None:
        return compute()
    path = folder / f"claims-{key() if callable(key) else key}.pkl"
    try:
        table = pd.read_pickle(path)
        if isinstance(table, pd.DataFrame):
            return table
        raise ValueError(f"a {type(table).__name__}, not a table")
    except (FileNotFoundError, NotADirectoryError):  # not stored yet
        pass
    except Exception as exc:  # truncated, edited, another pandas' pickle: computed again
        warnings.warn(f"unreadable claims cache {path} ({type(exc).__name__}: {exc}): ruling again",
                      RuntimeWarning, stacklevel=2)
    table = compute()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as file:
                table.to_pickle(file)
            os.chmod(temporary, 0o644)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
    except OSError as exc:
        warnings.warn(f"could not write the claims cache {path} ({exc}): the table is not kept",
                      RuntimeWarning, stacklevel=2)
    return table


