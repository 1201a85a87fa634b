"""Benchmark of the measurement engine (a benchmark, not a test: it prints figures).

    python -m helpers bench [--skip-full] [--out DIR] [--models M,..] [--batch-sizes 1,16] [--threads N]

Three figures, each measured in this run on this machine:

(a) **Cost of the full profile**: the wall time of measuring the paper's 14
    models at batches 1 to 64, time and memory, with the engine (fresh, into
    ``--out`` or a temporary folder), against its compute floor: one forward
    pass per point, summed (the per-batch medians the same sweep measured).
(b) **Repeatability**: two back-to-back sweeps of the same points (default
    ResNet-18, AlexNet, ENet and GoogLeNet at batches 1 and 16), the median
    over points of |a - b| / mean(a, b); ours against the protocol of Bianco
    et al. (2018) run the same way (10 warm-up and 10 timed passes, the mean
    of ``time.time()`` differences), the sweeps interleaved (ours, Bianco,
    ours, Bianco) so that drift of the machine falls on both. Every protocol
    times each point the same way: in a process of its own forked from a
    worker that built the model (one process per point and sweep for Bianco
    and the bare Timer; ours spreads a point over several).
(d) **Memory against the previous method** (a fresh interpreter per point,
    ``helpers.measure.memory.measure_memory_cpu``) for a few paper models at small,
    middle and large batches, both without the library code each happens to
    page in: static and peak, the ratio per point (after (a), from its rows).
(c) **Ours against a bare Timer**: ``torch.utils.benchmark.Timer(...)
    .blocked_autorange(min_run_time=1)``'s median on the same points, the
    ratio of our per-image median to it.

Goals (README): (a) at most 12 minutes on a 2-core CPU and at most 5x its
floor; (b) at most 5 % and at most half of Bianco's figure; (c) within 5 %.
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

__all__ = ["agreement", "bianco_sweep", "bare_timer_sweep", "engine_sweep", "full_profile", "memory_agreement",
           "main"]

MEMORY_MODELS = ("AlexNet", "GoogLeNet", "ResNet-50", "VGG-16")
MEMORY_BATCHES = (1, 8, 64)

POINT_MODELS = ("ResNet-18", "AlexNet", "ENet", "GoogLeNet")
POINT_BATCHES = (1, 16)


def agreement(a: dict, b: dict) -> float:
    """Median over the points both hold of |a - b| / mean(a, b)."""
    common = [k for k in a if k in b and a[k] > 0 and b[k] > 0]
    if not common:
        return math.nan
    return statistics.median(abs(a[k] - b[k]) / ((a[k] + b[k]) / 2) for k in common)


def _protocol_sweep(models, batches, threads: int, protocol: str, min_run_time: float = 1.0) -> dict:
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
    return out


def bianco_sweep(models, batches, threads: int) -> dict:
    """{(model, batch): per-image seconds}, Bianco et al.'s protocol (10 dry, 10 timed, mean of time.time())."""
    return _protocol_sweep(models, batches, threads, "bianco")


def bare_timer_sweep(models, batches, threads: int, min_run_time: float = 1.0) -> dict:
    """{(model, batch): per-image seconds}, a bare ``Timer.blocked_autorange(min_run_time)`` median."""
    return _protocol_sweep(models, batches, threads, "bare", min_run_time)


def engine_sweep(models, batches, threads: int, root: Path, settings=None, metrics=("time",)) -> tuple[dict, float]:
    """({(model, batch): per-image seconds}, wall seconds) of one fresh engine sweep into ``root``."""
    from helpers.measure.sweep import measure
    from helpers.store.results import load_results

    start = time.perf_counter()
    store = measure(list(models), list(batches), list(metrics), device="cpu", threads=threads, results_root=root,
                    force=True, settings=settings, progress=sys.stderr.isatty())
    wall = time.perf_counter() - start
    rows = load_results(root, [store.device_tag], fingerprint=store.fingerprint)
    rows = rows[(rows["metric"] == "latency_per_image") & (rows["status"] == "ok")]
    return {(r.model, r.batch_size): r.value for r in rows.itertuples()}, wall


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


def _ints(text: str) -> list[int]:
    values = [int(v) for v in split_list(text)]
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def main(argv: list[str] | None = None) -> int:
    import torch

    from helpers.measure import timing
    from helpers.core.procfs import usable_cores
    from helpers.store.machine import cpu_name

    parser = argparse.ArgumentParser(prog="python -m helpers bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-full", action="store_true", help="leave out (a), the full profile (about 12 min)")
    parser.add_argument("--out", type=Path, default=None,
                        help="results folder for (a)'s sweep (default: a temporary folder, removed)")
    parser.add_argument("--models", default=",".join(POINT_MODELS), help="models of (b) and (c)")
    parser.add_argument("--batch-sizes", type=_ints, default=list(POINT_BATCHES), help="batches of (b) and (c)")
    parser.add_argument("--threads", type=int, default=None, help="intra-op threads (default: every core)")
    parser.add_argument("--memory-only", action="store_true",
                        help="only (d), against the run already stored under --out")
    args = parser.parse_args(argv)
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
                  f"ratio {full['ratio']:.2f}x (goals: <= 12 min, <= 5x)", flush=True)
            for line in full["summary"].lines():
                print(f"    {line}")
            _print_memory(memory_agreement(args.out or tmp / "full", threads=threads))
        a_ours, wall_a = engine_sweep(models, args.batch_sizes, threads, tmp / "a")
        t0 = time.perf_counter()
        a_bianco = bianco_sweep(models, args.batch_sizes, threads)
        wall_ba = time.perf_counter() - t0
        b_ours, wall_b = engine_sweep(models, args.batch_sizes, threads, tmp / "b")
        t0 = time.perf_counter()
        b_bianco = bianco_sweep(models, args.batch_sizes, threads)
        wall_bb = time.perf_counter() - t0
        ours, theirs = agreement(a_ours, b_ours), agreement(a_bianco, b_bianco)
        print(f"(b) two back-to-back sweeps of {len(a_ours)} points ({', '.join(models)} at batches "
              f"{', '.join(map(str, args.batch_sizes))}): median |a-b|/mean ours {100 * ours:.1f} % "
              f"({wall_a:.0f} s + {wall_b:.0f} s), Bianco et al. {100 * theirs:.1f} % ({wall_ba:.0f} s + "
              f"{wall_bb:.0f} s); ours / Bianco {ours / theirs if theirs else math.nan:.2f} "
              f"(goals: <= 5 %, <= 0.5)", flush=True)
        bare = bare_timer_sweep(models, args.batch_sizes, threads)
        ratios = {k: (a_ours[k] + b_ours[k]) / 2 / bare[k] for k in bare if k in a_ours and k in b_ours}
        print(f"(c) ours / bare Timer, per point: median {statistics.median(ratios.values()):.3f}, range "
              f"{min(ratios.values()):.3f} to {max(ratios.values()):.3f} (goal: within 5 %)")
        for (model, b), r in sorted(ratios.items()):
            print(f"    {model} b={b}: ours {1e3 * (a_ours[(model, b)] + b_ours[(model, b)]) / 2:.2f} ms/image, "
                  f"bare Timer {1e3 * bare[(model, b)]:.2f} ms/image, ratio {r:.3f}; sweeps "
                  f"{1e3 * a_ours[(model, b)]:.2f} / {1e3 * b_ours[(model, b)]:.2f}, Bianco "
                  f"{1e3 * a_bianco[(model, b)]:.2f} / {1e3 * b_bianco[(model, b)]:.2f}")
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
