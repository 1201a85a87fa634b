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

__all__ = ["Run", "setup", "recorded_tags"]


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

    def __repr__(self) -> str:
        return (f"Run(profile={self.profile.name!r}, models={len(self.models)}, batch_sizes={self.batch_sizes}, "
                f"device={self.device!r}, threads={self.threads}, device_tag={self.device_tag!r}, "
                f"output_dir='{self.output_dir}')")


def setup(profile: str = "full", models: str = "", batch_sizes: str = "", device: str = "auto",
          threads: int = 0, results_dir: str = "", output_dir: str = "", measure: bool = True,
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
    out = Path(output_dir) if output_dir else REPORTS_DIR / tag
    out.mkdir(parents=True, exist_ok=True)
    use_style()  # every figure of the lesson in the study's look
    return Run(profile=prof, models=names, batch_sizes=sizes, device=dev,
               threads=resolve_threads(threads or None), device_tag=tag,
               results_root=root, output_dir=out, measure=bool(measure))


def recorded_tags(root: Path | str | None = None) -> list[str]:
    """Device tags with a results file under ``root`` (default data/recorded, the committed runs), sorted."""
    from helpers.store.results import RESULTS_FILENAME

    root = Path(RECORDED_DIR if root is None else root)
    return sorted(p.name for p in root.iterdir() if (p / RESULTS_FILENAME).is_file()) if root.is_dir() else []
