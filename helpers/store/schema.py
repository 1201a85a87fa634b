"""What one row of a results store is: the typed record and its vocabularies, defined once.

A measurement is built as a :class:`ResultRow` where it is taken
(``helpers.store.results.result_row`` validates it) and becomes a CSV line
only at the store's boundary (``ResultsStore.append``: ``dataclasses.asdict``,
in :data:`RESULT_COLUMNS` order). The fields' meaning and units are
``helpers.store.results``'s "Row semantics".
"""
from __future__ import annotations

from dataclasses import dataclass, fields

__all__ = ["SCHEMA_VERSION", "ResultRow", "RESULT_COLUMNS", "RESULT_COLUMNS_V1", "KEY", "FLAGS",
           "RESULT_STATUSES", "DONE_STATUSES"]

SCHEMA_VERSION = "2"
#: A row's status: ``ok`` carries a value; the others carry a reason and no value.
RESULT_STATUSES: tuple[str, ...] = ("ok", "skipped", "unavailable", "error")
#: Statuses that count as "done" when resuming; the others are retried.
DONE_STATUSES: tuple[str, ...] = ("ok", "skipped")
#: Warnings a row's ``flags`` may carry (``;``-separated) about how its number was obtained.
FLAGS: tuple[str, ...] = ("contended", "unstable", "imprecise")


@dataclass(frozen=True, kw_only=True)
class ResultRow:
    """One measurement, as the store keeps it (schema :data:`SCHEMA_VERSION`; field order is the file's).

    ``value``, ``median``, ``iqr``, ``ci_low`` and ``ci_high`` are in ``unit``
    (``None``: empty, never 0); ``batch_size`` is images per forward pass,
    ``n`` the samples behind the statistics, ``threads`` CPU threads;
    ``details`` is a JSON object's text and ``timestamp`` ISO-8601 with seconds
    and offset ("" until validation fills it with now).
    """

    device_tag: str
    fingerprint: str = ""
    model: str
    batch_size: int
    metric: str
    value: float | None = None
    unit: str = ""
    median: float | None = None
    iqr: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    n: int | None = None
    status: str
    reason: str = ""
    flags: str = ""
    method: str = ""
    domain: str = ""
    dtype: str = ""
    threads: int | None = None
    device: str = ""
    details: str = "{}"
    torch_version: str = ""
    host_cpu: str = ""
    host_gpu: str = ""
    hardware: str = ""
    logical_cores: int | None = None
    timestamp: str = ""
    schema_version: str = SCHEMA_VERSION


#: The columns of a results file, in order: :class:`ResultRow`'s fields.
RESULT_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(ResultRow))
#: Schema 1 (no fingerprint, interval, flags or version): read and migrated, never written.
RESULT_COLUMNS_V1: tuple[str, ...] = (
    "device_tag", "model", "batch_size", "metric", "value", "unit",
    "median", "iqr", "n", "status", "reason", "method", "domain", "dtype",
    "threads", "device", "details", "torch_version", "host_cpu", "host_gpu",
    "timestamp",
)
#: What identifies a measurement: several rows with one key, the last one wins.
KEY: tuple[str, ...] = ("device_tag", "fingerprint", "model", "batch_size", "metric")
