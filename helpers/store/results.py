"""Tidy, resumable results store: one CSV file per device.

Layout: ``<root>/<device_tag>/results.csv`` (root defaults to
``helpers.core.paths.RESULTS_DIR``), and its successors ``results-2.csv``,
``results-3.csv``, ... One row per measurement, appended, flushed and fsync'd
one row at a time, so an interrupted run loses nothing it already wrote.

Schema evolution: every row records ``schema_version`` (``SCHEMA_VERSION``);
files written before that column existed (schema 1, ``RESULT_COLUMNS_V1``) are read
and migrated in memory (the new fields empty). A file whose header has columns
this version does not know (a newer version's) is read with those columns
kept. Appending never mixes two headers in one file: when the newest file's
header is not this version's, the rows go to its successor, and reading spans
all of them in order. Writers are serialised by a file lock beside the files
(``filelock``); ``ResultsStore.exclusive`` lets one measuring run at a time
own a store, and a second is refused with a message naming the lock. Every row sits on exactly one physical line (newlines inside text
fields are replaced by spaces), which keeps line numbers meaningful and makes
a cut-short last line detectable.

Row semantics
-------------
* key: ``(device_tag, fingerprint, model, batch_size, metric)`` (see ``KEY``);
  ``fingerprint`` is ``helpers.store.machine.Fingerprint.id`` (hardware, cores,
  threads, dtype, torch version), so a run resumes only its own rows.
* ``ci_low``/``ci_high``: the 95 % interval of ``median`` where there is one;
  ``flags``: ``;``-separated warnings (``contended``, ``unstable``,
  ``imprecise``) about how the number was obtained.
* ``status`` is one of ``RESULT_STATUSES``. ``ok`` rows carry a finite ``value``;
  every other status carries a non-empty ``reason`` and an *empty* value,
  median and IQR (read back as NaN). A missing measurement is never 0.
* ``value``, ``median`` and ``iqr`` are in the row's ``unit``; ``n`` is the
  number of samples behind the statistics; ``details`` is a JSON object with
  extra facts (window length, sensor period, ...).
* Several rows with one key: the LAST one wins (``--force`` re-measurements),
  both in ``ResultsStore.read`` and in ``ResultsStore.has``.

Damaged files (a line cut short by a killed process, a wrong field count, a
non-numeric number, an unknown status, a bad header) never make reading
raise: good rows are kept, every damaged line is recorded as a
``StoreProblem`` (file, 1-based line, reason) and one ``ResultsFileWarning``
per file summarises them.

The schema (``ResultRow``, ``RESULT_COLUMNS``, ``RESULT_STATUSES``, ``KEY``,
``FLAGS``) is ``helpers.store.schema``'s.
"""
from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import numbers
import os
import re
import warnings
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd

from helpers.core.paths import RESULTS_DIR, check_writable, results_dir
from helpers.store.schema import (DONE_STATUSES, FLAGS, KEY, RESULT_COLUMNS, RESULT_STATUSES, SCHEMA_VERSION,
                                  ResultRow)

RESULTS_FILENAME = "results.csv"  # a device's batch-size sweep
#: The stores of a device folder: the batch-size sweep (the paper's figures) and the studies of
#: why the hardware behaves as it does, each holding several settings (thread counts, precisions, runtimes).
STUDY_FILES = {"batch": RESULTS_FILENAME, "threads": "threads.csv", "precision": "precision.csv",
               "runtimes": "runtimes.csv"}
#: What tells a study's runs apart besides the machine: a threads or precision study keeps the latest
#: run of every setting, the batch sweep only the device's latest run.
STUDY_SETTINGS = {"batch": (), "threads": ("threads",), "precision": ("dtype",), "runtimes": ("runtime",)}


def study_file(study: str) -> str:
    """The file name of ``study``'s store; an unknown study -> ValueError naming the valid ones."""
    if study not in STUDY_FILES:
        raise ValueError(f"unknown study {study!r}: valid studies are {', '.join(STUDY_FILES)}")
    return STUDY_FILES[study]

_REQUIRED = ("device_tag", "model", "batch_size", "metric", "status")
_FLOAT_FIELDS = ("value", "median", "iqr", "ci_low", "ci_high")
_OPTIONAL_INT_FIELDS = ("n", "threads", "logical_cores")
_TEXT_FIELDS = tuple(
    c for c in RESULT_COLUMNS
    if c not in ("batch_size", *_FLOAT_FIELDS, *_OPTIONAL_INT_FIELDS, "details")
)
_DTYPES: dict[str, str] = {
    c: "str" for c in RESULT_COLUMNS
}
_DTYPES.update(batch_size="int64", value="float64", median="float64", iqr="float64",
               ci_low="float64", ci_high="float64", n="Int64", threads="Int64", logical_cores="Int64")

# ISO-8601 with seconds and an explicit offset, as written by ``utc_now``.
# Strict on purpose: a timestamp cut short by an interrupted write fails it.
_TIMESTAMP_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$"
)
_HEADER_LINE = ",".join(RESULT_COLUMNS)
_LOCK_TIMEOUT_S = 60.0


class StoreBusy(RuntimeError):
    """Another process holds this store (``ResultsStore.exclusive``)."""


class ResultsFileWarning(UserWarning):
    """A results file had damaged lines; its good rows were kept."""


@dataclass(frozen=True)
class StoreProblem:
    """One damaged line of a results file (``line`` is the 1-based file line)."""

    path: Path
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


# ---------------------------------------------------------------- validation

def utc_now() -> str:
    """Current time as ISO-8601 UTC with whole seconds, e.g. 2025-01-31T12:00:00+00:00."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _one_line(text: str) -> str:
    """Keep a text field on one physical line (and free of NUL bytes)."""
    return re.sub(r"[\r\n]+", " ", text).replace("\x00", "")


def _is_missing(x: Any) -> bool:
    if x is None or x is pd.NA:
        return True
    if isinstance(x, str):
        return x == ""
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        return math.isnan(float(x))
    return False


def _as_float(name: str, x: Any, *, allow_missing: bool) -> float | None:
    if _is_missing(x):
        if allow_missing:
            return None
        raise ValueError(f"{name}={x!r}: a finite number is required")
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise ValueError(f"{name}={x!r}: expected a finite number (int or float)")
    f = float(x)
    if not math.isfinite(f):
        raise ValueError(f"{name}={x!r}: expected a finite number, not inf/nan")
    return f


def _as_int(name: str, x: Any, *, minimum: int, allow_missing: bool) -> int | None:
    if _is_missing(x):
        if allow_missing:
            return None
        raise ValueError(f"{name}={x!r}: an integer >= {minimum} is required")
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        raise ValueError(f"{name}={x!r}: expected an integer >= {minimum}")
    i = int(x)
    if i < minimum:
        raise ValueError(f"{name}={x!r}: expected an integer >= {minimum}")
    return i


def _json_default(obj: Any) -> Any:
    item = getattr(obj, "item", None)  # numpy / torch scalars
    if callable(item):
        return item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def _as_details(x: Any) -> str:
    if x is None or x == "":
        return "{}"
    if isinstance(x, str):
        try:
            obj = json.loads(x)
        except json.JSONDecodeError as exc:
            raise ValueError(f"details={x!r}: not valid JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise ValueError(f"details={x!r}: must be a JSON object ({{...}})")
        return json.dumps(obj, sort_keys=True, default=_json_default)
    if isinstance(x, dict):
        try:
            return json.dumps(x, sort_keys=True, default=_json_default)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"details={x!r}: {exc}") from None
    raise ValueError(f"details={x!r}: expected a dict or a JSON object string")


def make_row(**fields: Any) -> dict[str, Any]:
    """Validate one measurement and fill defaults; returns a dict keyed by ``RESULT_COLUMNS``, in order
    (a frame's row; :func:`result_row` gives the typed record).

    Required: ``device_tag``, ``model``, ``batch_size`` (positive int, images
    per forward pass), ``metric`` and ``status`` (one of ``RESULT_STATUSES``).
    ``value``/``median``/``iqr`` are numbers in ``unit`` (e.g. "ms", "MiB",
    "W", "J"); they must be finite when given, ``value`` is required for
    ``status="ok"`` and all three must be missing (None/NaN) otherwise, when
    ``reason`` is required. ``n`` is a sample count, ``threads`` the number of
    CPU threads, ``details`` a dict or JSON object string. ``timestamp``
    defaults to now (UTC). Text fields default to "" and lose any newlines.

    Raises ValueError naming the offending field, its value and what is valid.
    """
    unknown = sorted(set(fields) - set(RESULT_COLUMNS))
    if unknown:
        raise ValueError(f"unknown field(s) {unknown}; valid fields: {', '.join(RESULT_COLUMNS)}")
    missing = [f for f in _REQUIRED if _is_missing(fields.get(f))]
    if missing:
        raise ValueError(f"missing required field(s) {missing}; required: {', '.join(_REQUIRED)}")

    row: dict[str, Any] = {}
    for name in _TEXT_FIELDS:
        x = fields.get(name, "")
        if x is None:
            x = ""
        if not isinstance(x, str):
            raise ValueError(f"{name}={x!r}: expected a string")
        row[name] = _one_line(x)
    for name in ("device_tag", "model", "metric"):
        if not row[name].strip():
            raise ValueError(f"{name}={fields[name]!r}: must be a non-empty string")

    status = row["status"]
    if status not in RESULT_STATUSES:
        raise ValueError(f"status={status!r}: must be one of {', '.join(RESULT_STATUSES)}")
    ok = status == "ok"
    if not ok and not row["reason"].strip():
        raise ValueError(f"status={status!r} needs a non-empty reason (got reason={fields.get('reason')!r})")

    row["batch_size"] = _as_int("batch_size", fields["batch_size"], minimum=1, allow_missing=False)
    for name in _FLOAT_FIELDS:
        x = fields.get(name)
        if not ok and not _is_missing(x):
            raise ValueError(
                f"{name}={x!r} with status={status!r}: a row that is not 'ok' carries no "
                f"measurement; leave {name} empty (None) and say why in reason"
            )
        row[name] = _as_float(name, x, allow_missing=not (ok and name == "value"))
    if row["iqr"] is not None and row["iqr"] < 0:
        raise ValueError(f"iqr={fields['iqr']!r}: an interquartile range is >= 0")
    low, high = row["ci_low"], row["ci_high"]
    if (low is None) != (high is None):
        raise ValueError(f"ci_low={low!r}, ci_high={high!r}: give both ends of the interval or neither")
    centre = row["median"] if row["median"] is not None else row["value"]
    if low is not None and not (low <= high and (centre is None or low <= centre <= high)):
        raise ValueError(f"interval [{low!r}, {high!r}] must be ordered and contain the median/value {centre!r}")
    flags = [f for f in row["flags"].split(";") if f]
    bad = [f for f in flags if f not in FLAGS]
    if bad:
        raise ValueError(f"flags={row['flags']!r}: unknown flag {bad[0]!r}; valid flags: {', '.join(FLAGS)}")
    row["flags"] = ";".join(dict.fromkeys(flags))
    row["n"] = _as_int("n", fields.get("n"), minimum=0, allow_missing=True)
    row["threads"] = _as_int("threads", fields.get("threads"), minimum=1, allow_missing=True)
    row["logical_cores"] = _as_int("logical_cores", fields.get("logical_cores"), minimum=1, allow_missing=True)
    row["details"] = _as_details(fields.get("details"))
    if not row["schema_version"]:
        row["schema_version"] = SCHEMA_VERSION

    if not row["timestamp"]:
        row["timestamp"] = utc_now()
    elif not _TIMESTAMP_RE.match(row["timestamp"]):
        raise ValueError(
            f"timestamp={row['timestamp']!r}: expected ISO-8601 with seconds and offset, "
            f"e.g. {utc_now()!r}"
        )
    return {c: row[c] for c in RESULT_COLUMNS}


def result_row(**fields: Any) -> ResultRow:
    """One measurement as the typed record the store writes: :func:`make_row`'s validation and defaults
    (ValueError naming the offending field)."""
    return ResultRow(**make_row(**fields))


def _format_cell(x: Any) -> str:
    if x is None:
        return ""
    if isinstance(x, float):
        return repr(x)  # shortest round-tripping form
    return str(x)


def _parse_fields(header: tuple[str, ...], cells: list[str]) -> dict[str, Any]:
    """Turn one file line's cells, named by its file's ``header``, into a validated row.

    Fields the header lacks (an older schema) are empty; fields this version
    does not know (a newer schema) are returned as extra keys after the
    ``RESULT_COLUMNS``. ValueError if the line is damaged.
    """
    named = dict(zip(header, cells))
    extra = {k: v for k, v in named.items() if k not in RESULT_COLUMNS}
    raw = {c: named.get(c, "") for c in RESULT_COLUMNS}
    if "schema_version" not in header:
        raw["schema_version"] = "1"
    status = raw["status"]
    if status not in RESULT_STATUSES:
        raise ValueError(f"status {status!r} is not one of {', '.join(RESULT_STATUSES)}")
    fields: dict[str, Any] = {k: v for k, v in raw.items()}
    bs = raw["batch_size"]
    if not re.fullmatch(r"\d+", bs.strip()):
        raise ValueError(f"batch_size {bs!r} is not a positive integer")
    fields["batch_size"] = int(bs)
    for name in _FLOAT_FIELDS:
        s = raw[name].strip()
        if s == "":
            fields[name] = None
            continue
        try:
            fields[name] = float(s)
        except ValueError:
            raise ValueError(f"{name} {raw[name]!r} is not a number") from None
    for name in _OPTIONAL_INT_FIELDS:
        s = raw[name].strip()
        if s == "":
            fields[name] = None
        elif re.fullmatch(r"\d+", s):
            fields[name] = int(s)
        else:
            raise ValueError(f"{name} {raw[name]!r} is not an integer")
    if not raw["timestamp"]:
        raise ValueError("timestamp is empty")
    return {**make_row(**fields), **extra}


# ---------------------------------------------------------------- the store

@dataclass
class _Parsed:
    stamp: tuple[int, int, int] | None
    rows: list[dict[str, Any]]
    problems: list[StoreProblem]


class ResultsStore:
    """Append-only CSV of one device's measurements, resumable after interruption.

    ``path`` is the CSV file (usually ``<root>/<device_tag>/results.csv``).
    When ``device_tag`` is given, ``append`` refuses rows of another device.
    ``path`` names the first file; its successors (``results-2.csv``, ...)
    sit beside it. Appends from several processes are serialised by a lock.
    """

    def __init__(self, path: Path | str, device_tag: str | None = None) -> None:
        self.path = Path(path)
        self.device_tag = device_tag
        self._cache: dict[Path, _Parsed] = {}
        self._warned: tuple[StoreProblem, ...] = ()

    @property
    def paths(self) -> list[Path]:
        """The store's files that exist, in order (first file, then its successors)."""
        found = [self.path] if self.path.is_file() else []
        pattern = re.compile(re.escape(self.path.stem) + r"-(\d+)" + re.escape(self.path.suffix) + "$")
        if self.path.parent.is_dir():
            numbered = [(int(m.group(1)), p) for p in self.path.parent.iterdir()
                        if (m := pattern.match(p.name)) and p.is_file()]
            found += [p for _, p in sorted(numbered)]
        return found

    def _successor(self, path: Path) -> Path:
        m = re.search(r"-(\d+)$", path.stem) if path != self.path else None
        k = int(m.group(1)) + 1 if m else 2
        return self.path.with_name(f"{self.path.stem}-{k}{self.path.suffix}")

    def _append_target(self) -> Path:
        """The newest file when it is empty or has this version's header, else its successor."""
        files = self.paths
        if not files:
            return self.path
        newest = files[-1]
        with open(newest, "rb") as f:
            head = f.readline()
        text = head.decode("utf-8", "replace").rstrip("\r\n")
        if not head or text == _HEADER_LINE or (b"\n" not in head and _HEADER_LINE.startswith(text)):
            return newest
        return self._successor(newest)

    def _lock_path(self, name: str) -> Path:
        return self.path.parent / f".{self.path.stem}.{name}.lock"

    def _check_folder(self) -> None:
        folder = self.path.parent
        check_writable(folder, "results folder")  # a recorded run (data/recorded) is read-only
        if folder.exists() and not folder.is_dir():
            raise ValueError(f"results folder {folder} is a file, not a folder: give a folder for the results")
        for parent in [folder, *folder.parents]:
            if parent.exists():
                if not parent.is_dir():
                    raise ValueError(f"results folder {folder} cannot be created: {parent} is a file")
                if not os.access(parent, os.W_OK | os.X_OK):
                    raise ValueError(f"results folder {folder} is not writable "
                                     f"({parent} is read-only for this user): give another folder")
                break

    @contextlib.contextmanager
    def exclusive(self):
        """Own the store for a whole run; StoreBusy at once if another process owns it."""
        import filelock

        self._check_folder()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(str(self._lock_path("run")), timeout=0)
        try:
            lock.acquire()
        except filelock.Timeout:
            raise StoreBusy(f"another run is measuring into {self.path.parent} (it holds "
                            f"{lock.lock_file}); wait for it to finish, or measure into another "
                            f"folder with --out") from None
        try:
            yield self
        finally:
            lock.release()

    @classmethod
    def for_device(cls, device_tag: str, root: Path | str | None = None, study: str = "batch") -> "ResultsStore":
        """Store of ``device_tag``'s ``study`` (:data:`STUDY_FILES`) under ``root`` (default
        ``helpers.core.paths.RESULTS_DIR``)."""
        folder = results_dir(device_tag, Path(root) if root is not None else None)
        return cls(folder / study_file(study), device_tag=device_tag)

    def __repr__(self) -> str:
        return f"ResultsStore({str(self.path)!r})"

    # -- writing
    def append(self, row: ResultRow | Mapping[str, Any]) -> dict[str, Any]:
        """Validate ``row`` (a :class:`ResultRow` or its fields; see ``make_row``), write it as one
        line, flush and fsync.

        Creates the folder and header when the file is missing or empty, and
        first terminates a last line left without its newline (an interrupted
        write) so the new row is not glued onto it. Returns the stored row as a dict.
        """
        clean = make_row(**(asdict(row) if isinstance(row, ResultRow) else row))
        if self.device_tag is not None and clean["device_tag"] != self.device_tag:
            raise ValueError(
                f"device_tag={clean['device_tag']!r}: this store ({self.path}) holds "
                f"device_tag={self.device_tag!r} only"
            )
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(_format_cell(clean[c]) for c in RESULT_COLUMNS)
        line = buf.getvalue()

        import filelock

        self._check_folder()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with filelock.FileLock(str(self._lock_path("append")), timeout=_LOCK_TIMEOUT_S):
            self._write_line(self._append_target(), line)
        return clean

    @staticmethod
    def _write_line(path: Path, line: str) -> None:
        prefix = ""
        created = False
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            size = 0
            created = True
        if size == 0:
            prefix = _HEADER_LINE + "\n"
        else:
            with open(path, "rb") as f:
                head = f.read(len(_HEADER_LINE) + 2)
                f.seek(-1, os.SEEK_END)
                last = f.read(1)
            if b"\n" not in head and _HEADER_LINE.encode().startswith(head):
                # Only a cut-short header was ever written: start afresh.
                with open(path, "wb") as f:
                    f.truncate(0)
                prefix = _HEADER_LINE + "\n"
            elif last != b"\n":
                prefix = "\n"
        with open(path, "ab") as f:
            f.write((prefix + line).encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
        if created:
            _fsync_dir(path.parent)

    # -- reading
    def _load_one(self, path: Path) -> _Parsed:
        try:
            st = path.stat()
        except FileNotFoundError:
            return _Parsed(None, [], [])
        stamp = (st.st_size, st.st_mtime_ns, st.st_ino)
        cached = self._cache.get(path)
        if cached is not None and cached.stamp == stamp:
            return cached
        rows, problems = _parse_file(path, path.read_bytes())
        self._cache[path] = _Parsed(stamp, rows, problems)
        return self._cache[path]

    def _load(self) -> _Parsed:
        parts = [self._load_one(p) for p in self.paths]
        rows = [r for part in parts for r in part.rows]
        problems = [q for part in parts for q in part.problems]
        if problems and tuple(problems) != self._warned:
            self._warned = tuple(problems)
            for path in dict.fromkeys(q.path for q in problems):
                warnings.warn(_summary(path, [q for q in problems if q.path == path]), ResultsFileWarning,
                              stacklevel=3)
        return _Parsed(None, rows, problems)

    @property
    def problems(self) -> list[StoreProblem]:
        """Damaged lines found on the last read of the file (re-read if it changed)."""
        return list(self._load().problems)

    def _latest(self) -> dict[tuple, dict[str, Any]]:
        latest: dict[tuple, dict[str, Any]] = {}
        for r in self._load().rows:
            latest[tuple(r[k] for k in KEY)] = r
        return latest

    def has(self, model: str, batch_size: int, metric: str, device_tag: str | None = None,
            fingerprint: str | None = None) -> bool:
        """True if the latest row of this key has status "ok" or "skipped".

        ``device_tag=None`` / ``fingerprint=None`` match any. A key whose
        latest row is "error" or "unavailable" (or that is absent) is False,
        so a re-run measures it again.
        """
        for r in reversed(self._load().rows):
            if (r["model"] == model and r["batch_size"] == batch_size and r["metric"] == metric
                    and (device_tag is None or r["device_tag"] == device_tag)
                    and (fingerprint is None or r["fingerprint"] == fingerprint)):
                return r["status"] in DONE_STATUSES
        return False

    def fingerprints(self) -> list[str]:
        """The fingerprints of the stored rows, oldest run first (by each one's latest row)."""
        last: dict[str, str] = {}
        for r in self._load().rows:
            last[r["fingerprint"]] = max(last.get(r["fingerprint"], ""), r["timestamp"])
        return sorted(last, key=last.get)

    def read(self) -> pd.DataFrame:
        """Undamaged rows (every status) as a typed frame, the last row of each key kept.

        Columns are ``RESULT_COLUMNS``; ``batch_size`` int64, ``value``/``median``/``iqr``
        float64 (NaN when empty), ``n``/``threads`` Int64, the rest strings
        (``details`` is the JSON text, ``timestamp`` the ISO-8601 text).
        """
        return _frame(self._load().rows)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _parse_file(path: Path, data: bytes) -> tuple[list[dict[str, Any]], list[StoreProblem]]:
    rows: list[dict[str, Any]] = []
    problems: list[StoreProblem] = []
    if not data:
        return rows, problems
    lines = data.split(b"\n")
    unterminated = lines[-1] != b""
    if not unterminated:
        lines.pop()
    last_no = len(lines)
    header: tuple[str, ...] = RESULT_COLUMNS
    for no, raw in enumerate(lines, start=1):
        cut = unterminated and no == last_no
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(StoreProblem(path, no, _cut(cut, f"not valid UTF-8 ({exc.reason})")))
            continue
        if no == 1:
            names = tuple(next(csv.reader([text]), [])) if text != _HEADER_LINE else RESULT_COLUMNS
            if names == RESULT_COLUMNS or (set(_REQUIRED) | {"timestamp"}) <= set(names) and not cut:
                header = names  # this version's, an older one's, or a newer one's with extra columns
            else:
                shown = text if len(text) <= 80 else text[:77] + "..."
                problems.append(StoreProblem(
                    path, no, _cut(cut, f"bad header {shown!r}; expected {_HEADER_LINE!r}")))
            continue
        if not text.strip():
            continue  # blank line: nothing lost
        try:
            cells = next(csv.reader([text]))
        except csv.Error as exc:
            problems.append(StoreProblem(path, no, _cut(cut, f"unreadable CSV ({exc})")))
            continue
        if len(cells) != len(header):
            problems.append(StoreProblem(
                path, no, _cut(cut, f"expected {len(header)} fields, found {len(cells)}")))
            continue
        try:
            rows.append(_parse_fields(header, cells))
        except ValueError as exc:
            problems.append(StoreProblem(path, no, _cut(cut, str(exc))))
    return rows, problems


def _cut(cut: bool, reason: str) -> str:
    return f"unterminated last line (write interrupted?): {reason}" if cut else reason


def _summary(path: Path, problems: list[StoreProblem], shown: int = 3) -> str:
    k = len(problems)
    nums = ", ".join(str(p.line) for p in problems)
    details = "; ".join(f"line {p.line}: {p.reason}" for p in problems[:shown])
    if k > shown:
        details += f"; ... ({k - shown} more)"
    word = "line" if k == 1 else "lines"
    return f"{path}: {k} damaged {word} kept out ({word} {nums}): {details}"


def _frame(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    records = list(rows)
    extra = list(dict.fromkeys(k for r in records for k in r if k not in RESULT_COLUMNS))
    df = pd.DataFrame.from_records(records, columns=list(RESULT_COLUMNS) + extra)
    if not df.empty:
        df = df.drop_duplicates(subset=list(KEY), keep="last").reset_index(drop=True)
    for name in _OPTIONAL_INT_FIELDS:
        df[name] = pd.array([pd.NA if v is None else v for v in df[name]], dtype="Int64")
    for name in _FLOAT_FIELDS:
        df[name] = df[name].astype("float64")  # None -> NaN
    for name in extra:
        df[name] = df[name].fillna("").astype(str)
    return df.astype(_DTYPES)


#: Metrics that do not depend on a run's threads or settings (a checkpoint's accuracy):
#: ``latest_run`` keeps them from every run of a device.
RUN_INDEPENDENT_METRICS: tuple[str, ...] = ("top1", "top5")


def latest_run(df: pd.DataFrame, per: Iterable[str] = ()) -> pd.DataFrame:
    """Per device tag (and per value of the ``per`` columns: a study's settings), only the rows of
    its most recent fingerprint (the run written last), plus that tag's ``RUN_INDEPENDENT_METRICS``
    rows of any run (accuracy is the checkpoint's, not the run's; the latest of each key still wins)."""
    if df.empty:
        return df
    independent = df["metric"].isin(RUN_INDEPENDENT_METRICS)
    runs = df[~independent]
    group = ["device_tag", *per]
    last = runs.groupby(group + ["fingerprint"], dropna=False)["timestamp"].max().reset_index()
    keep = last.sort_values("timestamp").groupby(group, dropna=False).tail(1)
    pairs = set(zip(keep["device_tag"], keep["fingerprint"]))
    mask = [(t, f) in pairs or ind for t, f, ind in zip(df["device_tag"], df["fingerprint"], independent)]
    kept = df[mask]
    latest_acc = kept[kept["metric"].isin(RUN_INDEPENDENT_METRICS)].sort_values("timestamp", kind="stable")
    latest_acc = latest_acc.drop_duplicates(["device_tag", "model", "metric"], keep="last")
    kept = kept[~kept["metric"].isin(RUN_INDEPENDENT_METRICS) | kept.index.isin(latest_acc.index)]
    return kept.reset_index(drop=True)


def _details_field(details: Any, name: str, default: str) -> str:
    try:
        value = json.loads(details).get(name) if isinstance(details, str) and details else None
    except (json.JSONDecodeError, AttributeError):
        value = None
    return str(value) if value else default


def load_results(root: Path | str | None = None,
                 device_tags: Iterable[str] | None = None, fingerprint: str | None = "latest",
                 study: str = "batch") -> pd.DataFrame:
    """Every device's rows under ``root`` (default ``RESULTS_DIR``) in one frame.

    ``device_tags`` restricts to those folders (a tag without results adds no
    rows). ``fingerprint``: ``"latest"`` (default) keeps, per device tag, the
    rows of the run written last (one machine and setting per tag, so tables
    never mix thread counts or torch versions); a fingerprint id keeps that
    one run; ``None`` keeps every row. ``study`` picks the store
    (:data:`STUDY_FILES`); for the threads and precision studies "latest"
    keeps the latest run of each thread count or dtype. Same columns and types
    as ``ResultsStore.read``; an empty frame with ``RESULT_COLUMNS`` when nothing is recorded.
    """
    base = Path(root) if root is not None else RESULTS_DIR
    name = study_file(study)
    if device_tags is None:
        tags = sorted(p.name for p in base.iterdir()
                      if (p / name).is_file()) if base.is_dir() else []
    else:
        tags = list(device_tags)
    frames = [ResultsStore.for_device(t, base, study).read() for t in tags]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return _frame([])
    df = pd.concat(frames, ignore_index=True).astype(_DTYPES)
    if study == "runtimes":  # the runtime each row names in its details (helpers.measure.runtimes)
        df["runtime"] = [_details_field(d, "runtime", "eager") for d in df["details"]]
    if fingerprint == "latest":
        return latest_run(df, STUDY_SETTINGS[study])
    if fingerprint is not None:
        return df[df["fingerprint"] == fingerprint].reset_index(drop=True)
    return df


# ---------------------------------------------------------------- environment
# The machine's identity (helpers.store.machine) fills a row's provenance fields.
from helpers.store.machine import cpu_name, device_tag, fingerprint as machine_fingerprint, gpu_name  # noqa: E402


def environment_fingerprint(device: str, threads: int, dtype: str = "float32", runtime: str = "") -> dict[str, Any]:
    """The row fields that say where a number came from, named like the ``RESULT_COLUMNS`` they fill.

    Returns fingerprint (the id), torch_version, host_cpu, host_gpu ("" unless
    ``device`` is CUDA), hardware, logical_cores, threads, device, dtype and
    timestamp (ISO-8601 UTC, whole seconds).
    """
    fp = machine_fingerprint(device, _as_int("threads", threads, minimum=1, allow_missing=False), dtype, runtime)
    return {
        "fingerprint": fp.id,
        "torch_version": fp.torch_version,
        "host_cpu": _one_line(cpu_name()),
        "host_gpu": _one_line(gpu_name(device)) if device.startswith("cuda") else "",
        "hardware": fp.hardware,
        "logical_cores": fp.logical_cores,
        "threads": fp.threads,
        "device": device,
        "dtype": dtype,
        "timestamp": utc_now(),
    }


def not_measured(results: "pd.DataFrame", metric: str, device_tag: str | None = None) -> "pd.DataFrame":
    """Rows of ``metric`` that carry no value (skipped, unavailable, error): model, batch_size, status, reason."""
    rows = results[(results["metric"] == metric) & (results["status"] != "ok")]
    if device_tag is not None:
        rows = rows[rows["device_tag"] == device_tag]
    return rows[["model", "batch_size", "status", "reason"]].reset_index(drop=True)
