"""Counts computed once: each model's operation, parameter and byte counts, kept on disk.

Counting builds a model on the ``meta`` device and runs it through the operator
counters of :mod:`helpers.counting.ops` (about a second a model). A count changes
only with the model, its input size, the libraries that define and count it
(torch, torchvision, timm, ultralytics-thop) and the counting code, so each is
computed on first use and kept in a JSON file under
:func:`helpers.core.paths.counts_cache_dir` (``<repo>/.cache/counts/``, git-ignored;
the ``COUNTS_CACHE_DIR`` environment variable moves it).

One file per :func:`environment`, ``counts-<digest>.json``: the environment is
the library versions (read with ``importlib.metadata``, nothing imported), the
SHA-256 of the counting and model-definition sources (:data:`SOURCES`) and the
file format. A different environment reads and writes a different file, so a
stale count is never read back: it is counted again. A file holds three sections:

- ``resolved``: what a request (names and presets, as
  ``helpers.models.zoo.resolve_models`` takes them) expands to, one
  ``[name, input_size, source]`` per model, so a warm request needs no model
  registry (and no torch);
- ``count_model``: :func:`helpers.counting.ops.count_model`'s row, keyed by
  ``[name, input_size, source, thop]``;
- ``count_traffic``: :func:`helpers.counting.ops.count_traffic`'s row, keyed by
  ``[name, input_size, source, batch_size, log_softmax]``.

Values read back are the values computed: JSON writes a float as its ``repr``
(which reads back as the same double), NaN and infinities as ``NaN`` and
``Infinity``, ``pd.NA`` as ``{"NA": null}``, and a row keeps its column order;
ints, strings and booleans are themselves. A write holds a ``filelock`` lock,
merges what another process wrote meanwhile and replaces the file atomically
(a temporary file, then ``os.replace``), so no reader sees half a file. A file
that cannot be read (truncated, edited by hand) is named in a warning, its
counts are computed again and the file is written anew.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterable

import pandas as pd

from helpers.core.paths import REPO_ROOT, counts_cache_dir

__all__ = ["FORMAT", "LIBRARIES", "SOURCES", "SECTIONS", "THOP_COLUMNS", "library_versions", "sources_digest",
           "environment", "CountsCache", "resolved", "model_rows", "traffic_row"]

#: Version of the file layout; a change makes every file stale.
FORMAT = 1
#: Distributions whose versions a count depends on (models, counters, thop's cross-check).
LIBRARIES = ("torch", "torchvision", "timm", "ultralytics-thop")
#: Sources that define a count, relative to the repository root: the counters, the models and
#: the presets they expand (the paper's 14 are listed in core/reference.py).
SOURCES = ("helpers/counting/ops.py", "helpers/models/zoo.py", "helpers/models/archs.py",
           "helpers/core/reference.py")
#: The sections of a file, one per kind of entry.
SECTIONS = ("resolved", "count_model", "count_traffic")
#: Columns of a ``count_model`` row that only ``thop=True`` adds.
THOP_COLUMNS = ("thop_gmacs", "thop_params", "thop_error")


def library_versions(names: Iterable[str] = LIBRARIES) -> dict[str, str | None]:
    """Installed version of each distribution of ``names`` (default :data:`LIBRARIES`; None where it is not
    installed), without importing any."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def sources_digest() -> str:
    """SHA-256 (hex) of :data:`SOURCES`, each path with its bytes."""
    digest = hashlib.sha256()
    for relative in SOURCES:
        digest.update(relative.encode() + b"\0" + (REPO_ROOT / relative).read_bytes() + b"\0")
    return digest.hexdigest()


def environment() -> dict[str, Any]:
    """What every count of a file depends on beyond its key: the format, the library versions, the sources."""
    return {"format": FORMAT, "libraries": library_versions(), "sources": sources_digest()}


# --------------------------------------------------------------------------- exact JSON values
def _encode(value: Any) -> Any:
    """A row value as JSON that reads back as the same Python value and type."""
    if value is pd.NA:
        return {"NA": None}
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if type(value) is float:
        return value
    if isinstance(value, list):
        return [_encode(v) for v in value]
    raise TypeError(f"cannot cache the value {value!r} of type {type(value).__name__}: "
                    f"a count holds int, float, str, bool, None, pd.NA or a list of them")


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if value == {"NA": None}:
            return pd.NA
        raise ValueError(f"unknown cached value {value!r} (only {{'NA': None}} stands for pd.NA)")
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _key(parts: Iterable[Any]) -> str:
    return json.dumps(list(parts))


class CountsCache:
    """One environment's counts file (``path``), read once; :meth:`put` writes new entries back.

    ``folder``: where the file lies (default :func:`helpers.core.paths.counts_cache_dir`);
    ``env``: the environment it belongs to (default :func:`environment`).
    """

    def __init__(self, folder: str | os.PathLike | None = None, env: dict[str, Any] | None = None):
        self.folder = Path(folder) if folder is not None else counts_cache_dir()
        self.environment = environment() if env is None else env
        name = hashlib.sha256(json.dumps(self.environment, sort_keys=True).encode()).hexdigest()[:16]
        self.path = self.folder / f"counts-{name}.json"
        self._entries = self._read(warn=True)

    def _read(self, warn: bool) -> dict[str, dict[str, Any]]:
        """The file's sections (JSON values, not decoded); empty ones where there is no readable file."""
        empty = {section: {} for section in SECTIONS}
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return empty
        except OSError as exc:  # a folder that is a file, no permission
            if warn:
                warnings.warn(f"cannot read the counts cache {self.path} ({exc}): counting again",
                              RuntimeWarning, stacklevel=3)
            return empty
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise ValueError(f"a JSON {type(data).__name__}, not an object")
            if data.get("format") != FORMAT or data.get("environment") != self.environment:
                raise ValueError(f"written for another environment ({data.get('environment')!r})")
            sections = {section: data.get(section, {}) for section in SECTIONS}
            bad = [s for s, entries in sections.items() if not isinstance(entries, dict)]
            if bad:
                raise ValueError(f"section {bad[0]!r} is not an object")
            return sections
        except ValueError as exc:  # json.JSONDecodeError included
            if warn:
                warnings.warn(f"unreadable counts cache {self.path} ({exc}): counting again and rewriting it",
                              RuntimeWarning, stacklevel=3)
            return empty

    def get(self, section: str, key: Iterable[Any]) -> Any:
        """The entry of ``section`` at ``key`` (a list of JSON values), decoded; None when absent
        or malformed (named in a warning: it is counted again and written over)."""
        key = list(key)
        value = self._entries[section].get(_key(key))
        if value is None:
            return None
        try:
            if section == "resolved":
                if not (isinstance(value, list) and all(
                        isinstance(v, list) and len(v) == 3 and isinstance(v[0], str) and type(v[1]) is int
                        and isinstance(v[2], str) for v in value)):
                    raise ValueError("not a list of [name, input_size, source]")
                return _decode(value)
            if not isinstance(value, dict):
                raise ValueError(f"a row is an object, not a JSON {type(value).__name__}")
            return {column: _decode(v) for column, v in value.items()}
        except ValueError as exc:
            warnings.warn(f"malformed entry {key!r} in the counts cache {self.path} ({exc}): counting it again",
                          RuntimeWarning, stacklevel=2)
            return None

    def put(self, section: str, entries: dict[tuple, Any]) -> None:
        """Add ``entries`` ({key: row dict or list}) to ``section`` and write the file.

        A file that cannot be written (a read-only checkout) is named in a warning; the
        entries are kept for this object's life."""
        if section not in SECTIONS:
            raise KeyError(f"unknown section {section!r}; valid: {', '.join(SECTIONS)}")
        encoded = {}
        for key, value in entries.items():
            if isinstance(value, dict):
                encoded[_key(key)] = {column: _encode(v) for column, v in value.items()}
            else:
                encoded[_key(key)] = _encode(value)
        self._entries[section].update(encoded)
        try:
            self._write(section, encoded)
        except OSError as exc:
            warnings.warn(f"could not write the counts cache {self.path} ({exc}): counts are not kept",
                          RuntimeWarning, stacklevel=2)

    def _write(self, section: str, encoded: dict[str, Any]) -> None:
        import filelock

        self.folder.mkdir(parents=True, exist_ok=True)
        with filelock.FileLock(f"{self.path}.lock"):
            current = self._read(warn=False)  # with what another process wrote meanwhile
            current[section].update(encoded)
            payload = {"format": FORMAT, "environment": self.environment, **current}
            fd, temporary = tempfile.mkstemp(dir=self.folder, prefix=f".{self.path.name}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as file:
                    json.dump(payload, file, indent=1, allow_nan=True)
                os.chmod(temporary, 0o644)  # mkstemp's 0600 would hide the cache from other users
                os.replace(temporary, self.path)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temporary)
                raise
        for name, entries in current.items():
            self._entries[name].update(entries)


# --------------------------------------------------------------------------- cached counts
def _request(models: Iterable[str] | str) -> list[str]:
    return [models] if isinstance(models, str) else [str(m) for m in models]


def resolved(models: Iterable[str] | str, cache: CountsCache | None = None) -> list[tuple[str, int, str]]:
    """``(name, input_size, source)`` of each model a request expands to, in order
    (``helpers.models.zoo.resolve_models``, looked up once per environment)."""
    cache = CountsCache() if cache is None else cache
    request = _request(models)
    hit = cache.get("resolved", request)
    if hit is not None:
        return [(str(name), int(size), str(source)) for name, size, source in hit]
    from helpers.models.zoo import resolve_models

    found = [(spec.name, spec.input_size, spec.source) for spec in resolve_models(request)]
    cache.put("resolved", {tuple(request): [list(ident) for ident in found]})
    return found


def _spec(ident: tuple[str, int, str]):
    """The model spec of ``(name, input_size, source)``: ValueError if the registry now says otherwise."""
    from helpers.models.zoo import get_spec

    spec = get_spec(ident[0])
    if (spec.name, spec.input_size, spec.source) != tuple(ident):
        raise ValueError(f"model {ident[0]!r} resolves to {(spec.name, spec.input_size, spec.source)}, "
                         f"not the cached {tuple(ident)}: delete {counts_cache_dir()} and count again")
    return spec


def _cached_model_row(cache: CountsCache, ident: tuple[str, int, str], thop: bool) -> dict | None:
    row = cache.get("count_model", [*ident, thop])
    if row is None and not thop:  # a thop row holds the same counts, and thop's beside them
        full = cache.get("count_model", [*ident, True])
        if full is not None:
            row = {column: value for column, value in full.items() if column not in THOP_COLUMNS}
    return row


def model_rows(models: Iterable[str] | str, thop: bool = True, progress: bool = True,
               cache: CountsCache | None = None) -> list[dict]:
    """:func:`helpers.counting.ops.count_model`'s row for each model of a request, counting
    (with a progress bar when ``progress``) only those the cache does not hold."""
    cache = CountsCache() if cache is None else cache
    idents = resolved(models, cache)
    rows = {ident: _cached_model_row(cache, ident, thop) for ident in idents}
    missing = [ident for ident, row in rows.items() if row is None]
    if missing:
        from tqdm.auto import tqdm

        from helpers.counting.ops import count_model

        computed = {}
        for ident in tqdm(missing, desc="counting", unit="model", disable=not progress):
            rows[ident] = computed[(*ident, thop)] = count_model(_spec(ident), thop=thop)
        cache.put("count_model", computed)
    return [rows[ident] for ident in idents]


def traffic_row(model: str, batch_size: int, log_softmax: bool = True,
                build: Callable[[], Any] | None = None, cache: CountsCache | None = None) -> dict:
    """:func:`helpers.counting.ops.count_traffic`'s row of one model at ``batch_size``, counted
    once. ``build``: returns the model already built on ``meta`` (called only to count)."""
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"batch size must be a positive integer, got {batch_size!r}")
    cache = CountsCache() if cache is None else cache
    found = resolved([model], cache)
    if len(found) != 1:
        raise ValueError(f"{model!r} names {len(found)} models; traffic is counted for one")
    key = [*found[0], batch_size, bool(log_softmax)]
    row = cache.get("count_traffic", key)
    if row is None:
        from helpers.counting.ops import count_traffic

        row = count_traffic(_spec(found[0]), batch_size, log_softmax=log_softmax,
                            model=build() if build is not None else None)
        cache.put("count_traffic", {tuple(key): row})
    return row
