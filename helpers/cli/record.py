"""``make record``: copy this machine's run from its own store (data/results, git-ignored) into the recorded
runs (data/recorded), the read-only references every reader replots (``make reproduce TAG=...``).

What is copied: the device folder's stores (``results.csv``, ``threads.csv``, ``precision.csv``, ``runtimes.csv`` and their
successors ``results-2.csv``, ...) and its characterisation (``hardware.csv``); never a lock file or a
measurement's journal (``.partial-*.jsonl``). Nothing is added to git: ``git add data/recorded/<tag>`` is the
deliberate next step.
"""
from __future__ import annotations

import contextlib
import re
import shutil
from pathlib import Path

from helpers.core.paths import RECORDED_DIR, REPO_ROOT, RERUNS, RESULTS_DIR, results_dir

__all__ = ["record_run", "record_rerun", "recorded_files"]


def recorded_files(folder: Path) -> list[Path]:
    """The files of a device folder that a recorded run keeps, sorted: every study's store and its
    successors (helpers.store.results.STUDY_FILES) and the characterisation (``hardware.csv``)."""
    from helpers.store.characterisation import HARDWARE_FILENAME
    from helpers.store.results import STUDY_FILES

    stems = "|".join(re.escape(Path(name).stem) for name in STUDY_FILES.values())
    store = re.compile(rf"(?:{stems})(?:-\d+)?\.csv")
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and (store.fullmatch(p.name) or p.name == HARDWARE_FILENAME))


def _shown(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def record_run(tag: str | None, force: bool, results_root: Path = RESULTS_DIR,
               recorded_root: Path = RECORDED_DIR) -> list[Path]:
    """Copy the run of ``tag`` (None: this machine's device tag, helpers.store.machine.device_tag of the
    default device) from ``results_root/<tag>/`` into ``recorded_root/<tag>/``; return the copied files.

    ValueError (one line) when the folder holds no results (``results.csv``) to record, or when
    ``recorded_root/<tag>/`` exists and ``force`` is not given; with ``force`` that folder is replaced
    whole (no file of the earlier recording is kept). StoreBusy while a measurement writes into the run.
    """
    from helpers.store.results import RESULTS_FILENAME, STUDY_FILES, ResultsStore, StoreBusy

    results_root, recorded_root = Path(results_root), Path(recorded_root)
    if tag is None:
        from helpers.store.machine import device_tag, resolve_device

        tag = device_tag(resolve_device("auto"))
    source = results_dir(tag, results_root)
    files = recorded_files(source)
    if not any(re.fullmatch(rf"{re.escape(Path(RESULTS_FILENAME).stem)}(?:-\d+)?\.csv", p.name) for p in files):
        others = sorted(p.name for p in results_root.iterdir() if (p / RESULTS_FILENAME).is_file()) \
            if results_root.is_dir() else []
        raise ValueError(f"nothing to record: {_shown(source)} holds no {RESULTS_FILENAME} (measure first: "
                         f"make reproduce); runs there: "
                         + (f"{', '.join(others)} (pass --tag TAG)" if others else "none"))
    target = results_dir(tag, recorded_root)
    if target.exists() and not force:
        raise ValueError(f"{_shown(target)} is already recorded: --force replaces it (every file) with "
                         f"{_shown(source)}")
    with contextlib.ExitStack() as held:  # no measurement appends while the run is copied
        for study in STUDY_FILES:
            store = ResultsStore.for_device(tag, results_root, study)
            if store.paths:
                try:
                    held.enter_context(store.exclusive())
                except StoreBusy:
                    raise StoreBusy(f"a measurement is writing into {_shown(source)}: record it when that "
                                    f"run has finished") from None
        staging = target.with_name(f".{tag}.recording")  # complete before it takes the run's name
        shutil.rmtree(staging, ignore_errors=True)
        try:
            staging.mkdir(parents=True)
            for path in files:
                shutil.copy2(path, staging / path.name)
            if target.exists():
                shutil.rmtree(target)
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return [target / path.name for path in files]


def record_rerun(tag: str | None, force: bool, source_root: Path, recorded_root: Path = RECORDED_DIR) -> list[Path]:
    """Copy a second, independent sweep of a recorded machine (``source_root/<tag>/``) into
    ``recorded_root/reruns/<tag>/``: a store root of its own, never listed as a device, which the README's
    reproducibility section (helpers.cli.gallery.readme_reproducibility) compares with the recorded run.
    ValueError when ``tag`` is not recorded yet (record the run first), or as :func:`record_run`."""
    if tag is None:
        from helpers.store.machine import device_tag, resolve_device

        tag = device_tag(resolve_device("auto"))
    if not (results_dir(tag, recorded_root) / "results.csv").is_file():
        raise ValueError(f"{tag} is not recorded under {_shown(Path(recorded_root))}: record its run first "
                         f"(make record), then its second sweep with --rerun")
    return record_run(tag, force, Path(source_root), Path(recorded_root) / RERUNS)


def main(tag: str | None = None, force: bool = False, rerun: Path | None = None) -> int:
    """``python -m helpers record [--tag TAG] [--force] [--rerun DIR]``: copy, print what was copied and the
    next step."""
    if rerun is not None:
        copied = record_rerun(tag, force, rerun)
        print(f"recorded a second sweep of {copied[0].parent.name} into {_shown(copied[0].parent)}; "
              f"next: git add it and `make gallery` to compare it with the recorded run in the README")
        return 0
    copied = record_run(tag, force, RESULTS_DIR, RECORDED_DIR)
    folder = copied[0].parent
    print(f"recorded {folder.name} into {_shown(folder)}:")
    for path in copied:
        print(f"  {_shown(path)}")
    print(f"next: git add {_shown(folder)} (and commit) to put this run in the repository; "
          f"`make reproduce TAG={folder.name}` replots it")
    return 0
