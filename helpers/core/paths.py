"""Repository-rooted paths: never build a path from the working directory.

papermill runs notebooks from notebooks/, pytest from the root, the CLI from
anywhere; every module asks here instead.
"""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = REPO_ROOT / "data"
REFERENCE_DIR = DATA_DIR / "reference"
# This machine's own measurements (git-ignored): every writer measures into it by default.
RESULTS_DIR = DATA_DIR / "results"
# Committed runs, read-only references replotted on any machine (``make reproduce TAG=...``) and compared
# with this machine's own run of the same type; a run gets here only by ``make record`` (helpers.cli.record).
RECORDED_DIR = DATA_DIR / "recorded"
# Second, independent sweeps of recorded machines (``make record`` with ``--rerun``): a store root of its own
# under the recorded runs (data/recorded/reruns/<tag>/), never listed as a device.
RERUNS = "reruns"
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
# Executed notebooks, figures and tables of a run (git-ignored). Override with
# the REPORTS_DIR environment variable.
REPORTS_DIR = Path(os.environ.get("REPORTS_DIR", REPO_ROOT / "reports"))

# Counts computed once per model and library versions (git-ignored; helpers.counting.cache).
# Override with the COUNTS_CACHE_DIR environment variable, read at each use.
COUNTS_CACHE_DIR = REPO_ROOT / ".cache" / "counts"
# Claims tables of unchanged inputs (git-ignored; helpers.analysis.claims_cache).
# Override with the CLAIMS_CACHE_DIR environment variable, read at each use.
CLAIMS_CACHE_DIR = REPO_ROOT / ".cache" / "claims"

PAPER_MODELS_CSV = REFERENCE_DIR / "paper_models.csv"
PAPER_NUMBERS_CSV = REFERENCE_DIR / "paper_numbers.csv"
PAPER_FIGURES_DIR = REFERENCE_DIR / "figures"


def results_dir(device_tag: str, root: Path | None = None) -> Path:
    """Folder of one device's results: ``<root>/<device_tag>/``, root default ``data/results``."""
    if not device_tag or "/" in device_tag or device_tag.startswith("."):
        raise ValueError(f"bad device tag {device_tag!r}: use letters, digits, '-' or '_'")
    return (root or RESULTS_DIR) / device_tag


def is_recorded(path: Path | str) -> bool:
    """True when ``path`` is :data:`RECORDED_DIR` or lies inside it (links and ``..`` resolved)."""
    recorded = RECORDED_DIR.resolve()
    resolved = Path(path).resolve()
    return resolved == recorded or resolved.is_relative_to(recorded)


def check_writable(path: Path | str | None, what: str = "results_root") -> None:
    """Refuse (ValueError naming ``what`` and ``path``) a folder that is or lies inside :data:`RECORDED_DIR`:
    a recorded run is a read-only reference. ``None`` (the default store, data/results) passes."""
    if path is not None and is_recorded(path):
        raise ValueError(f"{what}={str(path)!r}: a recorded run is read-only: measure into data/results "
                         f"(the default), or `make record` to copy a run there")


def reports_dir(device_tag: str | None = None) -> Path:
    """Output folder of a run (``reports/<device_tag>/``), created on demand."""
    path = REPORTS_DIR / device_tag if device_tag else REPORTS_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def counts_cache_dir() -> Path:
    """Folder of the counts cache: ``$COUNTS_CACHE_DIR`` when set, else ``<repo>/.cache/counts/`` (not created)."""
    override = os.environ.get("COUNTS_CACHE_DIR")
    return Path(override) if override else COUNTS_CACHE_DIR


def claims_cache_dir() -> Path | None:
    """Folder of the claims cache: ``$CLAIMS_CACHE_DIR`` when set, else ``<repo>/.cache/claims/`` (not created);
    None when ``$CLAIMS_CACHE_DIR`` is ``off`` (every table computed, e.g. under tests that patch the rules)."""
    override = os.environ.get("CLAIMS_CACHE_DIR")
    if override == "off":
        return None
    return Path(override) if override else CLAIMS_CACHE_DIR
