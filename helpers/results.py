"""Tidy, resumable results store: one CSV file per device.

Layout: ``<root>/<device_tag>/results.csv`` (root defaults to
``helpers.paths.RESULTS_DIR``). One row per measurement, appended, flushed and
fsync'd one row at a time, so an interrupted run loses nothing it already
wrote. Every row sits on exactly one physical line (newlines inside text
fields are replaced by spaces), which keeps line numbers meaningful and makes
a cut-short last line detectable.

Row semantics
-------------
* key: ``(device_tag, model, batch_size, metric)`` (see ``KEY``).
* ``status`` is one of ``STATUSES``. ``ok`` rows carry a finite ``value``;
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
"""
from __future__ import annotations

import csv
import io
import json
import math
import numbers
import os
import platform
import re
import subprocess
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from helpers.paths import RESULTS_DIR, results_dir

FILENAME = "results.csv"

COLUMNS: tuple[str, ...] = (
    "device_tag", "model", "batch_size", "metric", "value", "unit",
    "median", "iqr", "n", "status", "reason", "method", "domain", "dtype",
    "threads", "device", "details", "torch_version", "host_cpu", "host_gpu",
    "timestamp",
)
KEY: tuple[str, ...] = ("device_tag", "model", "batch_size", "metric")
STATUSES: tuple[str, ...] = ("ok", "skipped", "unavailable", "error")
# Statuses that count as "done" when resuming; the others are retried.
DONE_STATUSES: tuple[str, ...] = ("ok", "skipped")

_REQUIRED = ("device_tag", "model", "batch_size", "metric", "status")
_FLOAT_FIELDS = ("value", "median", "iqr")
_OPTIONAL_INT_FIELDS = ("n", "threads")
_TEXT_FIELDS = tuple(
    c for c in COLUMNS
    if c not in ("batch_size", *_FLOAT_FIELDS, *_OPTIONAL_INT_FIELDS, "details")
)
_DTYPES: dict[str, str] = {
    c: "str" for c in COLUMNS
}
_DTYPES.update(batch_size="int64", value="float64", median="float64",
               iqr="float64", n="Int64", threads="Int64")

# ISO-8601 with seconds and an explicit offset, as written by ``utc_now``.
# Strict on purpose: a timestamp cut short by an interrupted write fails it.
_TIMESTAMP_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$"
)
_DEVICE_RE = re.compile(r"^(cpu|cuda(:\d+)?)$")
_HEADER_LINE = ",".join(COLUMNS)


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
    """Validate one measurement and fill defaults; returns a dict keyed by ``COLUMNS``.

    Required: ``device_tag``, ``model``, ``batch_size`` (positive int, images
    per forward pass), ``metric`` and ``status`` (one of ``STATUSES``).
    ``value``/``median``/``iqr`` are numbers in ``unit`` (e.g. "ms", "MiB",
    "W", "J"); they must be finite when given, ``value`` is required for
    ``status="ok"`` and all three must be missing (None/NaN) otherwise, when
    ``reason`` is required. ``n`` is a sample count, ``threads`` the number of
    CPU threads, ``details`` a dict or JSON object string. ``timestamp``
    defaults to now (UTC). Text fields default to "" and lose any newlines.

    Raises ValueError naming the offending field, its value and what is valid.
    """
    unknown = sorted(set(fields) - set(COLUMNS))
    if unknown:
        raise ValueError(f"unknown field(s) {unknown}; valid fields: {', '.join(COLUMNS)}")
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
    if status not in STATUSES:
        raise ValueError(f"status={status!r}: must be one of {', '.join(STATUSES)}")
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
    row["n"] = _as_int("n", fields.get("n"), minimum=0, allow_missing=True)
    row["threads"] = _as_int("threads", fields.get("threads"), minimum=1, allow_missing=True)
    row["details"] = _as_details(fields.get("details"))

    if not row["timestamp"]:
        row["timestamp"] = utc_now()
    elif not _TIMESTAMP_RE.match(row["timestamp"]):
        raise ValueError(
            f"timestamp={row['timestamp']!r}: expected ISO-8601 with seconds and offset, "
            f"e.g. {utc_now()!r}"
        )
    return {c: row[c] for c in COLUMNS}


def _format_cell(x: Any) -> str:
    if x is None:
        return ""
    if isinstance(x, float):
        return repr(x)  # shortest round-tripping form
    return str(x)


def _parse_fields(cells: list[str]) -> dict[str, Any]:
    """Turn one file line's cells into a validated row (ValueError if damaged)."""
    raw = dict(zip(COLUMNS, cells))
    status = raw["status"]
    if status not in STATUSES:
        raise ValueError(f"status {status!r} is not one of {', '.join(STATUSES)}")
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
    return make_row(**fields)


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
    Not meant for several processes appending to one file at the same time.
    """

    def __init__(self, path: Path | str, device_tag: str | None = None) -> None:
        self.path = Path(path)
        self.device_tag = device_tag
        self._cache: _Parsed | None = None
        self._warned: tuple[StoreProblem, ...] = ()

    @classmethod
    def for_device(cls, device_tag: str, root: Path | str | None = None) -> "ResultsStore":
        """Store of ``device_tag`` under ``root`` (default ``helpers.paths.RESULTS_DIR``)."""
        folder = results_dir(device_tag, Path(root) if root is not None else None)
        return cls(folder / FILENAME, device_tag=device_tag)

    def __repr__(self) -> str:
        return f"ResultsStore({str(self.path)!r})"

    # -- writing
    def append(self, row: dict[str, Any]) -> dict[str, Any]:
        """Validate ``row`` (see ``make_row``), write it as one line, flush and fsync.

        Creates the folder and header when the file is missing or empty, and
        first terminates a last line left without its newline (an interrupted
        write) so the new row is not glued onto it. Returns the stored row.
        """
        clean = make_row(**row)
        if self.device_tag is not None and clean["device_tag"] != self.device_tag:
            raise ValueError(
                f"device_tag={clean['device_tag']!r}: this store ({self.path}) holds "
                f"device_tag={self.device_tag!r} only"
            )
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(_format_cell(clean[c]) for c in COLUMNS)
        line = buf.getvalue()

        self.path.parent.mkdir(parents=True, exist_ok=True)
        prefix = ""
        created = False
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            size = 0
            created = True
        if size == 0:
            prefix = _HEADER_LINE + "\n"
        else:
            with open(self.path, "rb") as f:
                head = f.read(len(_HEADER_LINE) + 2)
                f.seek(-1, os.SEEK_END)
                last = f.read(1)
            if b"\n" not in head and _HEADER_LINE.encode().startswith(head):
                # Only a cut-short header was ever written: start afresh.
                with open(self.path, "wb") as f:
                    f.truncate(0)
                prefix = _HEADER_LINE + "\n"
            elif last != b"\n":
                prefix = "\n"
        with open(self.path, "ab") as f:
            f.write((prefix + line).encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
        if created:
            _fsync_dir(self.path.parent)
        return clean

    # -- reading
    def _load(self) -> _Parsed:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._cache = _Parsed(None, [], [])
            return self._cache
        stamp = (st.st_size, st.st_mtime_ns, st.st_ino)
        if self._cache is not None and self._cache.stamp == stamp:
            return self._cache
        data = self.path.read_bytes()
        rows, problems = _parse_file(self.path, data)
        self._cache = _Parsed(stamp, rows, problems)
        if problems and tuple(problems) != self._warned:
            self._warned = tuple(problems)
            warnings.warn(_summary(self.path, problems), ResultsFileWarning, stacklevel=3)
        return self._cache

    @property
    def problems(self) -> list[StoreProblem]:
        """Damaged lines found on the last read of the file (re-read if it changed)."""
        return list(self._load().problems)

    def _latest(self) -> dict[tuple, dict[str, Any]]:
        latest: dict[tuple, dict[str, Any]] = {}
        for r in self._load().rows:
            latest[tuple(r[k] for k in KEY)] = r
        return latest

    def has(self, model: str, batch_size: int, metric: str, device_tag: str | None = None) -> bool:
        """True if the latest row of this key has status "ok" or "skipped".

        ``device_tag=None`` matches any device tag in this file. A key whose
        latest row is "error" or "unavailable" (or that is absent) is False,
        so a re-run measures it again.
        """
        for r in reversed(self._load().rows):
            if (r["model"] == model and r["batch_size"] == batch_size and r["metric"] == metric
                    and (device_tag is None or r["device_tag"] == device_tag)):
                return r["status"] in DONE_STATUSES
        return False

    def read(self) -> pd.DataFrame:
        """Undamaged rows (every status) as a typed frame, the last row of each key kept.

        Columns are ``COLUMNS``; ``batch_size`` int64, ``value``/``median``/``iqr``
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
            if text != _HEADER_LINE:
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
        if len(cells) != len(COLUMNS):
            problems.append(StoreProblem(
                path, no, _cut(cut, f"expected {len(COLUMNS)} fields, found {len(cells)}")))
            continue
        try:
            rows.append(_parse_fields(cells))
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
    df = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    if not df.empty:
        df = df.drop_duplicates(subset=list(KEY), keep="last").reset_index(drop=True)
    for name in ("n", "threads"):
        df[name] = pd.array([pd.NA if v is None else v for v in df[name]], dtype="Int64")
    for name in _FLOAT_FIELDS:
        df[name] = df[name].astype("float64")  # None -> NaN
    return df.astype(_DTYPES)


def load_results(root: Path | str | None = None,
                 device_tags: Iterable[str] | None = None) -> pd.DataFrame:
    """Every device's rows under ``root`` (default ``RESULTS_DIR``) in one frame.

    ``device_tags`` restricts to those folders (a tag without results adds no
    rows). Same columns and types as ``ResultsStore.read``; an empty frame
    with ``COLUMNS`` when nothing is recorded.
    """
    base = Path(root) if root is not None else RESULTS_DIR
    if device_tags is None:
        tags = sorted(p.name for p in base.iterdir()
                      if (p / FILENAME).is_file()) if base.is_dir() else []
    else:
        tags = list(device_tags)
    frames = [ResultsStore.for_device(t, base).read() for t in tags]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return _frame([])
    return pd.concat(frames, ignore_index=True).astype(_DTYPES)


# ---------------------------------------------------------------- environment

def _check_device(device: str) -> None:
    if not isinstance(device, str) or not _DEVICE_RE.match(device):
        raise ValueError(f"device={device!r}: expected 'cpu', 'cuda' or 'cuda:N'")


def cpu_name() -> str:
    """Host CPU model name: /proc/cpuinfo "model name", the board model (ARM
    boards such as Jetson), macOS's brand string, then platform.processor()
    or platform.machine(); "" if all fail."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, val = line.partition(":")
                if key.strip().lower() == "model name" and val.strip():
                    return val.strip()
    except OSError:
        pass
    try:
        model = Path("/proc/device-tree/model").read_bytes().rstrip(b"\x00").decode().strip()
        if model:
            return model
    except (OSError, UnicodeDecodeError):
        pass
    if platform.system() == "Darwin":
        try:
            out = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"],
                                 capture_output=True, text=True, timeout=5)
            if out.returncode == 0 and out.stdout.strip():
                return out.stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    return platform.processor() or platform.machine() or ""


def gpu_name(device: str) -> str:
    """Name of the CUDA device ``device`` ("cuda" or "cuda:N") from torch.

    Raises RuntimeError when torch sees no CUDA device.
    """
    _check_device(device)
    import torch

    if not torch.cuda.is_available():
        raise RuntimeError(f"device={device!r}: torch.cuda.is_available() is False on this host")
    index = int(device.split(":")[1]) if ":" in device else torch.cuda.current_device()
    return torch.cuda.get_device_name(index)


_NOISE = [
    r"\((?:r|tm|c)\)",               # (R) (TM) (C)
    r"@\s*[\d.]+\s*[gm]hz",          # CPU @ 2.90GHz
    r"\b\d+(?:\.\d+)?\s*[gm]hz\b",   # bare clock speed
    r"\bwith radeon(?: \w+)? graphics\b",
    r"\bcpu\b",
    r"\bprocessor\b",
]


def _slug(name: str, limit: int = 60) -> str:
    s = name.lower()
    for pattern in _NOISE:
        s = re.sub(pattern, " ", s)
    s = re.sub(r"[^a-z0-9]+", "-", s).strip("-")
    s = s[:limit].rstrip("-")
    return s or "unknown"


def device_tag(device: str) -> str:
    """Stable, filesystem-safe slug naming the hardware behind ``device``.

    "cpu" -> "cpu-<cpu model>", "cuda"/"cuda:N" -> "cuda-<gpu model>", e.g.
    "cpu-intel-xeon-platinum-8375c" or "cuda-nvidia-h100-80gb-hbm3": lower
    case letters, digits and dashes, without (R)/(TM), "CPU", "Processor" or
    clock speeds. Raises ValueError for any other device string.
    """
    _check_device(device)
    if device == "cpu":
        return "cpu-" + _slug(cpu_name())
    return "cuda-" + _slug(gpu_name(device))


def environment_fingerprint(device: str, threads: int) -> dict[str, Any]:
    """Facts about the run's environment, named like the ``COLUMNS`` they fill.

    ``threads`` is the number of CPU threads torch uses (positive int).
    Returns torch_version, host_cpu, host_gpu ("" unless ``device`` is CUDA),
    threads, device and timestamp (ISO-8601 UTC, whole seconds).
    """
    _check_device(device)
    threads = _as_int("threads", threads, minimum=1, allow_missing=False)
    import torch

    return {
        "torch_version": torch.__version__,
        "host_cpu": _one_line(cpu_name()),
        "host_gpu": _one_line(gpu_name(device)) if device.startswith("cuda") else "",
        "threads": threads,
        "device": device,
        "timestamp": utc_now(),
    }


def not_measured(results: "pd.DataFrame", metric: str, device_tag: str | None = None) -> "pd.DataFrame":
    """Rows of ``metric`` that carry no value (skipped, unavailable, error): model, batch_size, status, reason."""
    rows = results[(results["metric"] == metric) & (results["status"] != "ok")]
    if device_tag is not None:
        rows = rows[rows["device_tag"] == device_tag]
    return rows[["model", "batch_size", "status", "reason"]].reset_index(drop=True)
