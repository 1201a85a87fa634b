"""What every notebook does first: turn its literal parameters into a run.

A notebook's first cell (tagged ``parameters``) holds literals only; its second
cell calls :func:`setup`, which resolves the profile, models, batch sizes,
device, threads and folders, and knows where figures and tables go.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from helpers.core.paths import RECORDED_DIR, REPORTS_DIR, RESULTS_DIR
from helpers.measure.profiles import Profile, get_profile, parse_batch_sizes
from helpers.report.style import use_style

__all__ = ["Run", "setup", "recorded_tags", "stand_in_tag", "recorded_machine"]


@dataclass
class Run:
    """A notebook's resolved parameters and output folders."""

    profile: Profile
    models: list[str]
    batch_sizes: list[int]
    device: str
    threads: int
    device_tag: str
    results_root: Path
    output_dir: Path
    measure: bool
    notice: str = ""  # set when another machine's recorded run stands in for this one's (see setup)

    @property
    def figures_dir(self) -> Path:
        return self.output_dir / "figures"

    @property
    def tables_dir(self) -> Path:
        return self.output_dir / "tables"

    def save_figure(self, fig, name: str) -> Path:
        """Save ``fig`` as ``<output>/figures/<name>.png`` and return the path."""
        self.figures_dir.mkdir(parents=True, exist_ok=True)
        path = self.figures_dir / f"{name}.png"
        fig.savefig(path, bbox_inches="tight")
        return path

    def save_table(self, table: pd.DataFrame, name: str, index: bool = False) -> Path:
        """Save ``table`` as ``<output>/tables/<name>.csv`` and return the path."""
        self.tables_dir.mkdir(parents=True, exist_ok=True)
        path = self.tables_dir / f"{name}.csv"
        table.to_csv(path, index=index)
        return path

    def _repr_markdown_(self) -> str:
        """What a lesson's setup cell shows: the notice, when a recorded run stands in, above the parameters."""
        shown = f"`{self!r}`"
        return f"**{self.notice}**\n\n{shown}" if self.notice else shown

    def __repr__(self) -> str:
        return (f"Run(profile={self.profile.name!r}, models={len(self.models)}, batch_sizes={self.batch_sizes}, "
                f"device={self.device!r}, threads={self.threads}, device_tag={self.device_tag!r}, "
                f"output_dir='{self.output_dir}')")


def setup(profile: str = "classroom", models: str = "", batch_sizes: str = "", device: str = "auto",
          threads: int = 0, results_dir: str = "", output_dir: str = "", measure: bool = False,
          results_tag: str = "") -> Run:
    """Resolve a notebook's parameters; empty values take the profile's defaults.

    ``threads=0`` means every core torch sees; ``results_dir`` defaults to
    data/results (this machine's own store), ``output_dir`` to reports/<device-tag>/.
    ``results_tag`` plots a recorded device's run instead of this machine's (a
    committed run on a student's laptop), from data/recorded unless ``results_dir``
    names another root: nothing is measured then, and ValueError names the
    recorded tags when that one has no results. A recorded run of this machine's
    own tag never stands in for a measurement: without ``results_tag`` the run
    measures into data/results.

    A lesson opened and run as it is (``measure=False``, no ``results_dir``) on a machine that has stored
    nothing in data/results plots a recorded run instead (:func:`stand_in_tag`: this machine type's own,
    else the fullest one), and ``notice`` says so, naming that run's machine and the command that
    measures this one: a classroom never waits for a sweep, and never takes another machine for its own.
    """
    from helpers.measure.timing import resolve_threads
    from helpers.models.zoo import resolve_models
    from helpers.store.machine import device_tag, resolve_device

    prof = get_profile(profile)
    names = [s.name for s in resolve_models(models or list(prof.models))]
    sizes = parse_batch_sizes(batch_sizes) if batch_sizes else list(prof.batch_sizes)
    dev = resolve_device(device)
    root = Path(results_dir) if results_dir else (RECORDED_DIR if results_tag else RESULTS_DIR)
    tag = device_tag(dev)
    if results_tag:
        recorded = recorded_tags(root)
        if results_tag not in recorded:
            raise ValueError(f"results_tag={results_tag!r}: no recorded run under {root}; "
                             f"recorded: {', '.join(recorded) or 'none'}")
        tag, measure = results_tag, False
    notice = ""
    if not measure and not results_dir and not results_tag and not _stored(RESULTS_DIR, tag):
        stand_in = stand_in_tag(tag)
        if stand_in:
            notice = (f"Not this machine: nothing is stored for {tag} and measure = False, so wherever this lesson "
                      f"reads measurements it plots the recorded run {stand_in} ({recorded_machine(stand_in)}). To "
                      f"measure this machine, set measure = True in the parameters cell, or run "
                      f"`make reproduce PROFILE=classroom`.")
            tag, root = stand_in, RECORDED_DIR
    out = Path(output_dir) if output_dir else REPORTS_DIR / tag
    out.mkdir(parents=True, exist_ok=True)
    use_style()  # every figure of the lesson in the study's look
    return Run(profile=prof, models=names, batch_sizes=sizes, device=dev,
               threads=resolve_threads(threads or None), device_tag=tag,
               results_root=root, output_dir=out, measure=bool(measure), notice=notice)


def _stored(root: Path, tag: str) -> bool:
    from helpers.store.results import RESULTS_FILENAME

    return (Path(root) / tag / RESULTS_FILENAME).is_file()


def stand_in_tag(tag: str, root: Path | str | None = None) -> str:
    """The recorded run (under ``root``, default data/recorded) a lesson plots for a machine that stored nothing:
    ``tag``'s own when one is recorded, else the run the course's solutions cite
    (``helpers.course.syllabus.COURSE_RUN``), else the first recorded; "" when none is recorded."""
    from helpers.course.syllabus import COURSE_RUN

    tags = recorded_tags(root)
    for choice in (tag, COURSE_RUN):
        if choice in tags:
            return choice
    return tags[0] if tags else ""


def recorded_machine(tag: str, root: Path | str | None = None) -> str:
    """A recorded run's machine in words, from its characterisation (the CPU or GPU name and the cores);
    the tag itself when the run has none."""
    from helpers.store.characterisation import load_characterisation

    frame = load_characterisation(tag, Path(RECORDED_DIR if root is None else root))
    if frame is None or frame.empty:
        return tag
    values = frame.drop_duplicates("quantity", keep="last").set_index("quantity")["value"]
    name = next((str(values[q]) for q in ("gpu_name", "board_model", "cpu_model_name") if q in values), tag)
    cores = values.get("usable_cores")
    return f"{name}, {cores} cores" if cores is not None else name


def recorded_tags(root: Path | str | None = None) -> list[str]:
    """Device tags with a results file under ``root`` (default data/recorded, the committed runs), sorted."""
    from helpers.store.results import RESULTS_FILENAME

    root = Path(RECORDED_DIR if root is None else root)
    return sorted(p.name for p in root.iterdir() if (p / RESULTS_FILENAME).is_file()) if root.is_dir() else []
