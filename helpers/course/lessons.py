"""What a lesson runs in one call: the glue between the layers that no layer owns.

Each function here serves a notebook (named in its docstring) and composes measure, analysis and
report calls; the computations themselves live in those layers.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib.patches
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from helpers.measure.studies import measure_precisions, measure_threads


# --------------------------------------------------------------------------- what the lesson measures
def measure_for_lesson(profile, device: str, threads: int, results_root: Path | None = None,
                       progress: bool = True) -> dict:
    """What lesson 9 plots and the store lacks: this machine's characterisation (when none of this
    run's fingerprint is stored), the threads study (CPU) and the precision study, at ``profile``'s
    models and batch sizes (helpers.measure.profiles). Returns what was done, by name."""
    from helpers.core.paths import results_dir
    from helpers.measure import hardware
    from helpers.store.results import device_tag, environment_fingerprint

    tag = device_tag(device)
    done = {}
    fingerprint = environment_fingerprint(device, threads)["fingerprint"]
    if hardware.load_characterisation(tag, results_root, fingerprint=fingerprint) is None:
        frame = hardware.characterise(device, threads, min_run_time=profile.peak_run_time_s)
        root = Path(results_root) if results_root is not None else None
        done["hardware"] = hardware.save_characterisation(frame, results_dir(tag, root))
    sizes = list(profile.study_batch_sizes)
    if device == "cpu":
        done["threads"] = measure_threads(list(profile.threads_models), sizes, results_root=results_root,
                                          settings=profile.engine, progress=progress)
    done["precision"] = measure_precisions(list(profile.precision_models), sizes, device=device, threads=threads,
                                           results_root=results_root, settings=profile.engine, progress=progress)
    return done


def lesson_map(lessons: pd.DataFrame) -> Figure:
    """The course as a path: one box per lesson (number, title, the paper's figures), in order."""
    n = len(lessons)
    fig, ax = plt.subplots(figsize=(min(2.2 * n, 16), 2.4))
    ax.set_axis_off()
    ax.set_xlim(0, n)
    ax.set_ylim(0, 1)
    for i, row in enumerate(lessons.itertuples()):
        ax.add_patch(matplotlib.patches.FancyBboxPatch((i + 0.08, 0.2), 0.84, 0.6, boxstyle="round,pad=0.02",
                                                       fc=plt.cm.Blues(0.25 + 0.6 * i / max(n - 1, 1)), ec="0.3"))
        ax.text(i + 0.5, 0.62, f"{row.lesson}. {row.title}", ha="center", va="center", fontsize=8, wrap=True)
        ax.text(i + 0.5, 0.35, row.paper, ha="center", va="center", fontsize=7, color="0.2")
        if i < n - 1:
            ax.annotate("", (i + 1.08, 0.5), (i + 0.92, 0.5), arrowprops={"arrowstyle": "->", "color": "0.3"})
    fig.tight_layout()
    return fig
