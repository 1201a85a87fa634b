"""Benchmark of the measurement engine (a benchmark, not a test: it prints figures).

    python -m helpers bench [--skip-full] [--repeat 3] [--out DIR] [--models M,..] [--batch-sizes 1,4,16]

Each figure is measured in this run on this machine:

(a) **Cost of the full profile**: the wall time of measuring the paper's 14
    models at batches 1 to 64, time and memory, with the engine (fresh, into
    ``--out`` or a temporary folder), against its compute floor (one forward
    pass per point, summed), and its memory against a fresh interpreter per
    point (``helpers.measure.memory.measure_memory_cpu``).
Then ``--repeat`` times (default 3), two back-to-back sweeps of the same points
(default ResNet-18, AlexNet, ENet and GoogLeNet at batches 1, 4 and 16), ours
and the protocol of Bianco et al. (2018) interleaved (ours, Bianco, ours, Bianco):
(b) **Coverage** (helpers.analysis.reproducibility.coverage): the share of points
    whose difference lies inside the combined 95 % interval, and the median
    |a - b| / mean(a, b); Bianco's interval is the t interval of the mean of its
    10 timed passes, what its own samples promise.
(c) **The check standard**'s spread in each sweep, and the coverage of the
    latency normalised by it (a labelled alternative, never the raw value).
(d) **Memory coverage**: peak and static memory, the same test.
(e) **Ours against a bare Timer**: ``Timer.blocked_autorange(min_run_time=1)``'s
    median on the same points.
(f) **The hardware peaks**: two characterisations back to back (helpers.measure.hardware.characterise, the
    peaks in fresh windows), the coverage of each other (helpers.analysis.reproducibility.peak_coverage), and of
    the recorded characterisation of this machine type where one is committed.

Goals (README): (a) at most 15 minutes on a 2-core CPU; (b) and (d) coverage
of at least 90 % in each of three consecutive runs; (e) within 5 %.
Run it on a quiet machine: a contended window is noise in every figure.
"""
from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from helpers.core.lists import split_list

__all__ = ["agreement", "bianco_sweep", "bianco_rows", "bare_timer_sweep", "engine_sweep", "full_profile", "memory_agreement",
           "peaks_rerun", "main"]

MEMORY_MODELS = ("AlexNet", "GoogLeNet", "ResNet-50", "VGG-16")
MEMORY_BATCHES = (1, 8, 64)

POINT_MODELS = ("ResNet-18", "AlexNet", "ENet", "GoogLeNet")
POINT_BATCHES = (1, 4, 16)


def agreement(a: dict, b: dict) -> float:
    """Median over the points both hold of |a - b| / mean(a, b)."""
    common = [k for k in a if k in b and a[k] > 0 and b[k] > 0]
    if not common:
        return math.nan
    return statistics.median(abs(a[k] - b[k]) / ((a[k] + b[k]) / 2) for k in common)


def _protocol_sweep(models, batches, threads: int, protocol: str, min_run_time: float = 1.0,
                    with_samples: bool = False) -> dict:
    """{(model, batch): per-image seconds} of one sweep timed by ``protocol``, each point in a process of its
    own forked from a worker that built the model, exactly as the engine runs its own points."""
    import dataclasses

    from helpers.models import zoo
    from helpers.measure.engine import run_sweep
    from helpers.measure.profiles import EngineSettings

    names = [zoo.get_spec(m).name for m in models]
    settings = dataclasses.replace(EngineSettings(), rounds=1, rounds_fast=1, max_rounds=1, min_passes=1,
                                   min_passes_slow=1, round_time_s=min_run_time, slow_pass_s=1e9,
                                   fast_pass_s=1e-9)
    with tempfile.TemporaryDirectory() as tmp:
        states = run_sweep([(m, b) for m in names for b in batches], device="cpu", threads=threads,
                           settings=settings, journal=Path(tmp) / "journal.jsonl", on_point_done=lambda s: None,
                           progress=False, protocol=protocol)
    out = {}
    for st in states:
        samples = st.samples(1.0, clean_only=False)
        if samples:
            value = statistics.mean(samples) if protocol == "bianco" else samples[0]
            out[(st.model, st.batch)] = value / st.batch
            if with_samples:
                out[(st.model, st.batch)] = (value / st.batch, [x / st.batch for x in samples])
    return out


def bianco_sweep(models, batches, threads: int) -> dict:
    """{(model, batch): per-image seconds}, Bianco et al.'s protocol (10 dry, 10 timed, mean of time.time())."""
    return _protocol_sweep(models, batches, threads, "bianco")


def bianco_rows(models, batches, threads: int):
    """One Bianco et al. sweep as a results frame: the mean of its 10 timed passes per point, with the 95 %
    Student-t interval of that mean (what their protocol's own samples promise)."""
    import pandas as pd
    from scipy import stats

    rows = []
    for (model, b), (mean, samples) in _protocol_sweep(models, batches, threads, "bianco",
                                                       with_samples=True).items():
        half = stats.t.ppf(0.975, len(samples) - 1) * statistics.stdev(samples) / math.sqrt(len(samples))
        rows.append({"model": model, "batch_size": b, "metric": "latency_per_image", "status": "ok",
                     "value": mean, "ci_low": mean - half, "ci_high": mean + half})
    return pd.DataFrame(rows)


def bare_timer_sweep(models, batches, threads: int, min_run_time: float = 1.0) -> dict:
    """{(model, batch): per-image seconds}, a bare ``Timer.blocked_autorange(min_run_time)`` median."""
    return _protocol_sweep(models, batches, threads, "bare", min_run_time)


def engine_sweep(models, batches, threads: int, root: Path, settings=None, metrics=("time",),
                 rows: bool = False) -> tuple[dict, float]:
    """({(model, batch): per-image seconds}, wall seconds) of one fresh engine sweep into ``root``
    (with ``rows``: the run's results frame, every metric, instead of the dict)."""
    from helpers.measure.sweep import measure
    from helpers.store.results import load_results

    start = time.perf_counter()
    store = measure(list(models), list(batches), list(metrics), device="cpu", threads=threads, results_root=root,
                    force=True, settings=settings, progress=sys.stderr.isatty())
    wall = time.perf_counter() - start
    table = load_results(root, [store.device_tag], fingerprint=store.fingerprint)
    if rows:
        return table, wall
    table = table[(table["metric"] == "latency_per_image") & (table["status"] == "ok")]
    return {(r.model, r.batch_size): r.value for r in table.itertuples()}, wall


def full_profile(root: Path, threads: int) -> dict:
    """Measure the full profile into ``root``; its wall time, compute floor and flags."""
    from helpers.measure.sweep import measure, summarise
    from helpers.measure.profiles import get_profile
    from helpers.store.results import load_results

    profile = get_profile("full")
    start = time.perf_counter()
    store = measure(list(profile.models), list(profile.batch_sizes), ["time", "memory"], device="cpu",
                    threads=threads, results_root=root, settings=profile.engine, force=True,
                    progress=sys.stderr.isatty())
    wall = time.perf_counter() - start
    rows = load_results(root, [store.device_tag], fingerprint=store.fingerprint)
    timing = rows[(rows["metric"] == "latency_per_image") & (rows["status"] == "ok")]
    floor = float((timing["value"] * timing["batch_size"]).sum())
    return {"wall_s": wall, "floor_s": floor, "ratio": wall / floor if floor else math.nan,
            "points": len(timing), "summary": summarise(rows), "device_tag": store.device_tag}


def memory_agreement(root: Path, models=MEMORY_MODELS, batches=MEMORY_BATCHES, threads: int = 1) -> list[dict]:
    """Per point: the engine's static and peak MB (latest run under ``root``) against a fresh process's."""
    from helpers.store.machine import device_tag
    from helpers.measure.memory import measure_memory_cpu
    from helpers.store.results import load_results

    rows = load_results(root, [device_tag("cpu")])
    value = rows[rows["status"] == "ok"].set_index(["model", "batch_size", "metric"])["value"]
    out = []
    for model in models:
        for b in batches:
            if (model, b, "memory_peak") not in value.index:
                continue
            fresh = measure_memory_cpu(model, b, threads=threads)
            if not fresh.ok:
                continue
            out.append({"model": model, "batch": b,
                        "static_ratio": value[(model, b, "memory_static")] / (fresh.static_mb - fresh.static_code_mb),
                        "peak_ratio": value[(model, b, "memory_peak")] / (fresh.peak_mb - fresh.peak_code_mb),
                        "peak_mb": value[(model, b, "memory_peak")]})
    return out


def peaks_rerun(threads: int, windows: int | None = None) -> list[str]:
    """(f): two characterisations of this CPU back to back, how their peaks cover each other, and how each
    covers the recorded characterisation of this machine type (data/recorded/<tag>/hardware.csv) if any."""
    from helpers.analysis.reproducibility import peak_coverage
    from helpers.core.paths import RECORDED_DIR
    from helpers.measure import hardware
    from helpers.measure.profiles import PEAK_WINDOWS
    from helpers.store.characterisation import load_characterisation
    from helpers.store.machine import device_tag

    windows = windows or PEAK_WINDOWS
    runs = [hardware.characterise("cpu", threads, windows=windows) for _ in range(2)]
    lines = [f"(f) hardware peaks, two characterisations back to back ({windows} windows each): "
             f"{peak_coverage(*runs).text()}"]
    recorded = load_characterisation(device_tag("cpu"), RECORDED_DIR)
    if recorded is not None:
        for i, run in enumerate(runs, 1):
            lines.append(f"    characterisation {i} against the recorded one of {device_tag('cpu')}: "
                         f"{peak_coverage(run, recorded).text()}")
    return lines


def _ints(text: str) -> list[int]:
    values = [int(v) for v in split_list(text)]
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def main(argv: list[str] | None = None) -> int:
    import torch

    from helpers.analysis.reproducibility import check_standard_summary, coverage, normalised_values
    from helpers.core.procfs import usable_cores
    from helpers.measure import timing
    from helpers.store.machine import cpu_name

    parser = argparse.ArgumentParser(prog="python -m helpers bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-full", action="store_true", help="leave out (a), the full profile (about 15 min)")
    parser.add_argument("--out", type=Path, default=None,
                        help="results folder for (a)'s sweep (default: a temporary folder, removed)")
    parser.add_argument("--models", default=",".join(POINT_MODELS), help="models of (b)-(d)")
    parser.add_argument("--batch-sizes", type=_ints, default=list(POINT_BATCHES), help="batches of (b)-(d)")
    parser.add_argument("--repeat", type=int, default=3, help="consecutive runs of (b)-(d) (default 3)")
    parser.add_argument("--skip-bare", action="store_true", help="leave out (e), ours against a bare Timer")
    parser.add_argument("--skip-peaks", action="store_true", help="leave out (f), the hardware peaks' re-run")
    parser.add_argument("--threads", type=int, default=None, help="intra-op threads (default: every core)")
    parser.add_argument("--memory-only", action="store_true",
                        help="only the memory check against a fresh process, on the run stored under --out")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1, got {args.repeat}")
    threads = timing.resolve_threads(args.threads)
    models = split_list(args.models)
    load = os.getloadavg()
    print(f"{cpu_name()} ({usable_cores()} logical cores), torch {torch.__version__}, {threads} threads, "
          f"load average {load[0]:.2f}", flush=True)
    start = time.perf_counter()
    if args.memory_only:
        if args.out is None:
            parser.error("--memory-only compares with a stored run: give its folder with --out")
        _print_memory(memory_agreement(args.out, threads=threads))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if not args.skip_full:
            full = full_profile(args.out or tmp / "full", threads)
            print(f"(a) full profile, 14 paper models x batches 1-64, time and memory: {full['wall_s'] / 60:.1f} min "
                  f"for {full['points']} timing points; compute floor (one pass per point) {full['floor_s']:.0f} s; "
                  f"ratio {full['ratio']:.2f}x (goal: <= 15 min)", flush=True)
            for line in full["summary"].lines():
                print(f"    {line}")
            _print_memory(memory_agreement(args.out or tmp / "full", threads=threads))
        met = {"time": [], "memory": []}
        for i in range(args.repeat):
            a, wall_a = engine_sweep(models, args.batch_sizes, threads, tmp / f"a{i}", metrics=("time", "memory"),
                                     rows=True)
            a_bianco = bianco_rows(models, args.batch_sizes, threads)
            b, wall_b = engine_sweep(models, args.batch_sizes, threads, tmp / f"b{i}", metrics=("time", "memory"),
                                     rows=True)
            b_bianco = bianco_rows(models, args.batch_sizes, threads)
            ours, theirs = coverage(a, b), coverage(a_bianco, b_bianco)
            met["time"].append(ours.share)
            print(f"run {i + 1} of {args.repeat}: two back-to-back sweeps of {ours.points} points ({', '.join(models)} "
                  f"at batches {', '.join(map(str, args.batch_sizes))}; {wall_a:.0f} s + {wall_b:.0f} s)", flush=True)
            print(f"  (b) ours: {ours.text()}")
            print(f"      Bianco et al. (t interval of the mean of 10 passes): {theirs.text()}")
            sa, sb = check_standard_summary(a), check_standard_summary(b)
            norm = coverage(normalised_values(a), normalised_values(b))
            print(f"  (c) check standard: ±{100 * sa.spread:.1f} % and ±{100 * sb.spread:.1f} % over "
                  f"{sa.windows} and {sb.windows} windows, medians {1e3 * sa.median_s:.3f} and "
                  f"{1e3 * sb.median_s:.3f} ms; normalised by it, {norm.text()}")
            for metric in ("memory_peak", "memory_static"):
                cov = coverage(a, b, metric)
                if metric == "memory_peak":
                    met["memory"].append(cov.share)
                print(f"  (d) {cov.text()}")
        for kind, shares in met.items():
            ok = all(x >= 0.9 for x in shares)
            print(f"goal: {kind} coverage >= 90 % in each of {args.repeat} runs: "
                  f"{', '.join(f'{100 * x:.0f} %' for x in shares)}: {'met' if ok else 'not met'}")
        if not args.skip_bare:
            a_ours, _ = engine_sweep(models, args.batch_sizes, threads, tmp / "e")
            bare = bare_timer_sweep(models, args.batch_sizes, threads)
            ratios = {k: a_ours[k] / bare[k] for k in bare if k in a_ours}
            print(f"(e) ours / bare Timer, per point: median {statistics.median(ratios.values()):.3f}, range "
                  f"{min(ratios.values()):.3f} to {max(ratios.values()):.3f} (goal: within 5 %)")
    if not args.skip_peaks:
        for line in peaks_rerun(threads):
            print(line, flush=True)
    print(f"bench wall time {(time.perf_counter() - start) / 60:.1f} min; load average at the end "
          f"{os.getloadavg()[0]:.2f}")
    return 0


def _print_memory(points: list[dict]) -> None:
    if not points:
        print("(d) memory: no stored points to compare")
        return
    static = [p["static_ratio"] for p in points]
    peak = [p["peak_ratio"] for p in points]
    print(f"(d) memory, engine / fresh process over {len(points)} points: static {min(static):.3f} to "
          f"{max(static):.3f}, peak {min(peak):.3f} to {max(peak):.3f} (goal: within 2 %)")
    for p in points:
        print(f"    {p['model']} b={p['batch']}: static x{p['static_ratio']:.3f}, peak x{p['peak_ratio']:.3f} "
              f"({p['peak_mb']:.0f} MB)")
