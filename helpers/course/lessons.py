"""What a lesson runs in one call: the glue between the layers that no layer owns.

Each function here serves a notebook (named in its docstring) and composes measure, analysis and
report calls; the computations themselves live in those layers.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import matplotlib.patches
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from helpers.analysis.roofline import cache_table, roofline_table, traffic_table
from helpers.measure.studies import measure_precisions, measure_runtimes, measure_threads


# --------------------------------------------------------------------------- what the lesson measures
def measure_for_lesson(profile, device: str, threads: int, results_root: Path | None = None,
                       progress: bool = True) -> dict:
    """What lesson 9 plots and the store lacks: this machine's characterisation (when none of this
    run's fingerprint is stored), the threads study (CPU), the precision study and the runtimes study, at
    ``profile``'s models, runtimes and batch sizes (helpers.measure.profiles). Returns what was done, by name."""
    from helpers.core.paths import results_dir
    from helpers.measure import hardware
    from helpers.store import characterisation
    from helpers.store.machine import device_tag
    from helpers.store.results import environment_fingerprint

    tag = device_tag(device)
    done = {}
    fingerprint = environment_fingerprint(device, threads)["fingerprint"]
    if characterisation.load_characterisation(tag, results_root, fingerprint=fingerprint) is None:
        frame = hardware.characterise(device, threads, min_run_time=profile.peak_run_time_s,
                                       windows=profile.peak_windows, progress=progress)
        root = Path(results_root) if results_root is not None else None
        done["hardware"] = characterisation.save_characterisation(frame, results_dir(tag, root))
    sizes = list(profile.study_batch_sizes)
    if device == "cpu":
        done["threads"] = measure_threads(list(profile.threads_models), sizes, results_root=results_root,
                                          settings=profile.engine, progress=progress)
    done["precision"] = measure_precisions(list(profile.precision_models), sizes, device=device, threads=threads,
                                           results_root=results_root, settings=profile.engine, progress=progress)
    done["runtimes"] = measure_runtimes(list(profile.runtime_models), sizes, profile.runtimes, device=device,
                                        threads=threads, results_root=results_root, settings=profile.engine,
                                        progress=progress)
    return done


def lesson_map(lessons: pd.DataFrame) -> Figure:
    """The course as a path: one box per lesson (number, title, the paper's figures), in order.

    Each text is wrapped (``textwrap``) until it fits its box when drawn: the title from the
    box's top, the paper's figures from its bottom, so no two texts overlap."""
    import textwrap

    n = len(lessons)
    fig, ax = plt.subplots(figsize=(min(2.2 * n, 16), 2.2))
    ax.set_axis_off()
    ax.set_xlim(0, n)
    ax.set_ylim(0, 1)
    width, bottom, height, pad = 0.84, 0.08, 0.84, 0.02
    blocks = []
    for i, row in enumerate(lessons.itertuples()):
        ax.add_patch(matplotlib.patches.FancyBboxPatch((i + 0.08, bottom), width, height, boxstyle=f"round,pad={pad}",
                                                       fc=plt.cm.Blues(0.15 + 0.45 * i / max(n - 1, 1)), ec="0.3"))
        title = ax.text(i + 0.5, bottom + height - 0.03, f"{row.lesson}. {row.title}", ha="center", va="top",
                        fontsize=8.5, fontweight="bold", linespacing=1.15)
        paper = ax.text(i + 0.5, bottom + 0.03, str(row.paper), ha="center", va="bottom", fontsize=7.5,
                        color="0.15", linespacing=1.15)
        blocks += [title, paper]
    fig.tight_layout()
    renderer = fig.canvas.get_renderer()
    room = ax.transData.transform((width - 0.06, 0))[0] - ax.transData.transform((0, 0))[0]  # pixels
    for text in blocks:  # wrap narrower until the text fits its box
        words = " ".join(text.get_text().split())
        chars = max(int(room / (0.5 * text.get_fontsize() * fig.dpi / 72)), 6)
        text.set_text(textwrap.fill(words, chars))
        while text.get_window_extent(renderer).width > room and chars > 6:
            chars -= 1
            text.set_text(textwrap.fill(words, chars))
    for i in range(n - 1):
        ax.annotate("", (i + 1.08, bottom + height / 2), (i + 0.92 + pad, bottom + height / 2),
                    arrowprops={"arrowstyle": "->", "color": "0.3"})
    return fig


#: The rows a reader looks at first: the CPU or GPU, cores and threads, caches, ISA and the measured peaks.
OVERVIEW = r"cpu_model_name|board_model|gpu_name|usable_cores|torch_threads|cache_|isa:|matmul_peak|memory_bandwidth"


def overview(frame: pd.DataFrame) -> pd.DataFrame:
    """A characterisation's overview rows (:data:`OVERVIEW`) and the columns a reader needs."""
    rows = frame[frame["quantity"].str.match(OVERVIEW)]
    return rows[["quantity", "dtype", "value", "unit", "ci_low", "ci_high", "n", "status", "note"]]


@dataclass
class RunRoofline:
    """One recorded run of a device on that device's roofline.

    ``hardware``: the characterisation of the run's own fingerprint, or ``None``
    with ``why_not`` saying why (then ``roofline`` and ``cache`` are ``None``);
    ``traffic``: :func:`traffic_table` of the models at the run's batch sizes;
    ``roofline``: :func:`roofline_table`; ``llc_bytes``: the device's last-level
    cache (bytes, from the stored characterisation); ``cache``: :func:`cache_table`
    (``None`` where the cache size is unknown); ``device``: a readable name.
    """

    device_tag: str
    fingerprint: str | None
    device: str
    hardware: pd.DataFrame | None
    why_not: str
    traffic: pd.DataFrame
    roofline: pd.DataFrame | None = None
    llc_bytes: int | None = None
    cache: pd.DataFrame | None = None


def run_roofline(root, device_tag: str, models: Iterable[str] | str, fingerprint: str | None = None,
                 progress: bool = False) -> RunRoofline:
    """``models`` of the run ``fingerprint`` (default: the device's latest) of ``device_tag`` under the
    results root ``root`` (None: data/results, this machine's own runs; RECORDED_DIR for a committed run), placed on
    the roofline of that run's own characterisation."""
    from helpers.measure.hardware import last_level_cache_bytes
    from helpers.models.zoo import resolve_models
    from helpers.store.characterisation import characterisation_for_run, stored_caches
    from helpers.store.results import load_results

    names = [spec.name for spec in resolve_models(models)]
    rows = load_results(root, [device_tag], fingerprint=fingerprint or "latest")
    rows = rows[rows["model"].isin(names)]
    timed = rows[rows["metric"] == "latency_per_image"]
    fingerprint = fingerprint or (str(timed["fingerprint"].iloc[-1]) if len(timed) else None)
    hardware, why_not = characterisation_for_run(device_tag, fingerprint, root)
    batches = sorted(int(b) for b in timed["batch_size"].dropna().unique())
    traffic = traffic_table(names, batches, progress=progress)
    if hardware is None:
        return RunRoofline(device_tag, fingerprint, device_tag, None, why_not, traffic)
    name = hardware.set_index("quantity")["value"].get("cpu_model_name", device_tag)
    result = RunRoofline(device_tag, fingerprint, f"the recorded run `{device_tag}` ({name}, fingerprint "
                         f"`{fingerprint}`)", hardware, "", traffic, roofline_table(rows, traffic, hardware, device_tag),
                         last_level_cache_bytes(stored_caches(hardware)))
    if result.llc_bytes:
        result.cache = cache_table(result.roofline, traffic, result.llc_bytes)
    else:
        result.why_not = "the last-level cache size of this device is unknown: no cache test"
    return result


@dataclass
class RunRuntimes:
    """The runtimes study of a device, as lesson 9 reads it.

    ``table``: :func:`helpers.analysis.studies.runtimes_table` of the lesson's networks; ``claims``:
    :func:`helpers.analysis.claims.runtime_claims_table` of every network the study holds (C3 and C8 per
    runtime, on the paper's networks among them); ``roofline``: :func:`runtime_roofline` of the lesson's
    networks on ``hardware`` (None with ``why_not`` saying why)."""

    table: pd.DataFrame
    claims: pd.DataFrame
    roofline: pd.DataFrame | None
    why_not: str = ""


def run_runtimes(root, device_tag: str, models: Iterable[str] | str, hardware: pd.DataFrame | None,
                 why_not: str = "") -> RunRuntimes:
    """The runtimes study of ``device_tag`` under ``root`` (None: data/results): ``models``' table and roofline
    (on ``hardware``, the run's characterisation, e.g. :func:`run_roofline`'s), and the claims per runtime on
    every stored network."""
    from helpers.analysis.claims import runtime_claims_table
    from helpers.analysis.roofline import runtime_roofline
    from helpers.analysis.studies import runtimes_table, study_results
    from helpers.models.zoo import resolve_models

    names = [spec.name for spec in resolve_models(models)]
    rows = study_results("runtimes", root, device_tag)
    mine = rows[rows["model"].isin(names)] if len(rows) else rows
    table = runtimes_table(mine, device_tag)
    claims = runtime_claims_table(rows, device_tag)
    if hardware is None or not len(table):
        return RunRuntimes(table, claims, None, why_not or "no runtimes study is stored for this device")
    batches = sorted(int(b) for b in table["batch_size"].unique())
    return RunRuntimes(table, claims, runtime_roofline(mine, traffic_table(names, batches, progress=False),
                                                       hardware, device_tag))


def power_results(results_root: Path | str | None) -> tuple[pd.DataFrame, Path | None, str]:
    """Lesson 6's power: every run under ``results_root`` (None: data/results), and, where none of them has
    net power (no sensor here), the recorded runs (data/recorded) when one of those has it, a GPU or Jetson
    run for example. Returns (rows, the root they come from, a sentence saying which)."""
    from helpers.analysis.evidence import devices_with
    from helpers.core.paths import RECORDED_DIR, RESULTS_DIR
    from helpers.store.results import load_results

    root = Path(results_root) if results_root is not None else RESULTS_DIR
    rows = load_results(root)
    found = devices_with(rows, "power_net")
    if found:
        return rows, root, f"devices with power measurements under {root}: {', '.join(found)}"
    if root.resolve() != Path(RECORDED_DIR).resolve():
        recorded = load_results(RECORDED_DIR)
        found = devices_with(recorded, "power_net")
        if found:
            return recorded, Path(RECORDED_DIR), (f"no power measurement under {root}; plotting the recorded runs "
                                                  f"that have one (data/recorded): {', '.join(found)}")
    return rows, root, f"no power measurement under {root} or in the recorded runs: none to plot"
