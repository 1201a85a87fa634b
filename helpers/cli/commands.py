"""The study's command line: ``python -m helpers COMMAND ...``.

    models  [--preset NAME]                 list models with their input size
    count   MODEL_OR_PRESET... [--csv]      parameters and operations under each convention
    accuracy MODEL_OR_PRESET... [--csv]     top-1/top-5 of every library weight (metadata, no download)
    evaluate --model M --checkpoint FILE --data DIR [--crop C] [--resize R] [--limit N] [--batch-size B]
             [--device D] [--out DIR] [--force]  measured top-1/top-5 into the results store (resumable)
    measure --models M... --batch-sizes 1,2 --metrics time,memory,power --device D --threads N --out DIR [--force] [--seed S]
    probes  [--device D]                    which power sensors exist here, and why not the others
    hardware [--device D] [--csv] [--threads N]  this machine's facts and measured peaks (GFLOP/s, GB/s)
    threads  [--models M...] [--batch-sizes B] [--threads 1,2]  time against CPU threads (speed-up, efficiency)
    precision [--models M...] [--batch-sizes B] [--precisions fp32,bf16,fp16,int8]  time and memory per type
    runtimes [--models M...] [--batch-sizes B] [--runtimes eager,compile,onnxruntime,openvino]  time per runtime
    claims  [--results DIR] [--device-tag T] [--paper-data] [--per-runtime] [--csv]  rule the paper's claims
            (default: your own runs in data/results; --results data/recorded: the recorded runs)
    reproduce [--profile P] [--device D]    execute every notebook into reports/<device-tag>/
    record  [--tag T] [--force]             copy this machine's run (data/results) into data/recorded
    gallery [DEVICE_TAG...]                 copy a run's main figures and claims into docs/gallery/ and the README
    bench   [--skip-full] [--out DIR] ...   benchmark of the measurement engine (prints figures)
    bench-runtimes [--models M,..] [--seconds S]  the runtimes study beside benchmark_app and onnxruntime_test
    setup-check requirements|torch ...      the pins without torch, or check the system's torch (standard library only)

Each command imports what it needs when it runs: ``setup-check`` runs before
the project's dependencies are installed (``make setup-system-torch``).
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from helpers.core.paths import RECORDED_DIR, RESULTS_DIR

# Commands whose module parses its own arguments: they get the rest of the command line before this
# parser is built (building it imports the model registry, and with it torch).
DELEGATED = {
    "setup-check": ("helpers.cli.setup_check",
                    "list pyproject's pins without torch and torchvision, or check the torch this Python finds "
                    "(standard library only: make setup-system-torch runs it before installing)"),
    "bench": ("helpers.cli.bench_engine",
              "benchmark of the measurement engine: the full profile against its floor, repeatability against "
              "Bianco et al. (2018), a bare Timer, a fresh process's memory (prints figures)"),
    "bench-runtimes": ("helpers.cli.bench_runtimes",
                       "the runtimes study beside OpenVINO's benchmark_app and ONNX Runtime's test tool, at batch 1, "
                       "same threads (prints figures)"),
    "gallery": ("helpers.cli.gallery",
                "copy a recorded run's main figures and claims into docs/gallery/ (and, for one run, the README)"),
}


def _delegate(command: str, argv: list[str]) -> int:
    """Run a DELEGATED command's own ``main(argv)``."""
    module = importlib.import_module(DELEGATED[command][0])
    return module.main(argv)


def _cmd_models(args: argparse.Namespace) -> int:
    from helpers.models.zoo import resolve_models

    specs = resolve_models(args.preset)
    width = max(len(s.name) for s in specs)
    for spec in specs:
        print(f"{spec.name:<{width}}  {spec.input_size:>4}  {spec.source}")
    return 0


# Columns of `count --csv`, in order (those that exist for the models asked).
COUNT_COLUMNS = [
    "model", "input_size", "params", "gmacs", "gops", "gops_2016", "thop_gmacs", "thop_vs_gmacs_pct",
    "counters_agree", "torchvision_gmacs", "params_m", "params_m_paper", "params_diff_pct",
    "gops_published", "gops_2016_diff_pct", "source", "thop_error", "note",
]


def _cmd_count(args: argparse.Namespace) -> int:
    import pandas as pd

    from helpers.counting.table import count_table

    table = count_table(args.models, thop=not args.no_thop, progress=not args.csv and sys.stderr.isatty())
    table = table[[c for c in COUNT_COLUMNS if c in table.columns]]
    if args.csv:
        table.to_csv(sys.stdout, index=False, float_format="%.6g")
    else:
        shown = table.drop(columns=[c for c in ("note", "source", "thop_error") if c in table.columns])
        with pd.option_context("display.width", 200, "display.max_columns", None):
            print(shown.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0


def _cmd_accuracy(args: argparse.Namespace) -> int:
    import pandas as pd

    from helpers.models.weights import accuracy_table

    table = accuracy_table(args.models)
    if args.csv:
        table.to_csv(sys.stdout, index=False, float_format="%.6g")
    else:
        shown = table[["model", "weights", "acc1", "acc5", "crop_size", "resize_size", "top1_paper",
                       "accuracy_source"]]
        with pd.option_context("display.width", 250, "display.max_columns", None, "display.max_colwidth", 60):
            print(shown.to_string(index=False, float_format=lambda v: f"{v:.3f}", na_rep=""))
    return 0


def _evaluate_command(args: argparse.Namespace) -> str:
    """The command line of this evaluation, to run again."""
    import shlex

    words = ["python", "-m", "helpers", "evaluate", "--model", args.model, "--checkpoint", str(args.checkpoint),
             "--data", str(args.data)]
    for flag, value in (("--crop", args.crop), ("--resize", args.resize), ("--limit", args.limit),
                        ("--batch-size", args.batch_size), ("--device", args.device), ("--out", args.out)):
        if value is not None:
            words += [flag, str(value)]
    return shlex.join(words + (["--force"] if args.force else []))


def _accuracy_line(row: dict, name: str) -> str:
    return (f"{name} {row['value']:.2f} % (95 % Wilson interval {row['ci_low']:.2f} to {row['ci_high']:.2f} %, "
            f"{row['n']:,} images)")


def _cmd_evaluate(args: argparse.Namespace) -> int:
    import json

    from helpers.measure.accuracy import evaluate_checkpoint

    for flag, value in (("--crop", args.crop), ("--resize", args.resize), ("--limit", args.limit),
                        ("--batch-size", args.batch_size)):
        if value is not None and value < 1:
            raise ValueError(f"{flag} {value}: must be a positive integer")
    try:
        stored = evaluate_checkpoint(args.model, args.checkpoint, args.data, crop_size=args.crop,
                                     resize_size=args.resize, limit=args.limit, batch_size=args.batch_size,
                                     device=args.device, results_root=args.out, force=args.force)
    except KeyboardInterrupt:
        print(f"\ninterrupted: nothing of this evaluation was stored (an evaluation is stored only when "
              f"complete); run `{_evaluate_command(args)}` again to evaluate it", file=sys.stderr)
        return 130
    except (OSError, ValueError) as exc:  # missing or unreadable files, bad values: one line
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    top1, top5 = stored.top1, stored.top5
    details = json.loads(top1["details"])
    k = details.get("top5_k", 5)
    what = (f"{top1['model']} with {details['checkpoint']} (sha256 {details['checkpoint_sha256'][:12]}) on "
            f"{details['data']}, crop {details['crop_size']}, resize {details['resize_size']}"
            + (f", limit {details['limit']}" if details.get("limit") else ""))
    numbers = f"{_accuracy_line(top1, 'top-1')}; {_accuracy_line(top5, f'top-{k}')}"
    if stored.reused:
        print(f"already stored in {stored.path}: {what}: {numbers}; nothing evaluated (--force evaluates again)")
    else:
        print(f"stored in {stored.path}: {what}: {numbers}")
    return 0


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from helpers.cli.reproduce import reproduce

    try:
        return reproduce(profile=args.profile, models=args.models, device=args.device, threads=args.threads,
                         notebooks=args.notebooks, output_dir=args.output_dir, results_dir=args.results_dir,
                         measure=not args.no_measure, results_tag=args.results_tag or "")
    except KeyboardInterrupt:
        resume = "python -m helpers " + " ".join(sys.argv[1:]) if sys.argv[1:] else "the same command"
        print(f"\ninterrupted: every finished measurement is stored under {args.results_dir or 'data/results'}; "
              f"run `{resume}` again to resume where it stopped", file=sys.stderr)
        return 130


def _cmd_measure(args: argparse.Namespace) -> int:
    import dataclasses

    from helpers.measure.profiles import get_profile, parse_batch_sizes
    from helpers.analysis.reproducibility import recorded_reference, run_report
    from helpers.measure.sweep import measure
    from helpers.store.results import load_results

    profile = get_profile(args.profile)
    settings = profile.engine
    if args.seed is not None:
        settings = dataclasses.replace(settings, seed=args.seed)
    try:
        store = measure(
            models=args.models or list(profile.models),
            batch_sizes=parse_batch_sizes(args.batch_sizes) if args.batch_sizes else profile.batch_sizes,
            metrics=args.metrics, device=args.device, threads=args.threads or None, results_root=args.out,
            force=args.force, power_window_s=args.power_window or profile.power_window, settings=settings,
        )
    except KeyboardInterrupt:
        _interrupted(args)
        return 130
    table = load_results(store.path.parent.parent, [store.device_tag], fingerprint=store.fingerprint)
    print(f"{store.path.parent}: this run's rows (fingerprint {store.fingerprint}):")
    for line in run_report(table, *recorded_reference(store.device_tag)):
        print(f"  {line}")
    return 0


def _cmd_study(args: argparse.Namespace) -> int:
    from helpers.core.lists import split_list
    from helpers.analysis.studies import dtype_table, runtimes_table, study_results, threads_table
    from helpers.measure.profiles import get_profile, parse_batch_sizes
    from helpers.measure.studies import measure_precisions, measure_runtimes, measure_threads, parse_thread_counts
    from helpers.store.machine import device_tag, resolve_device

    profile = get_profile(args.profile)
    study = args.command
    models = args.models or list({"threads": profile.threads_models, "precision": profile.precision_models,
                                  "runtimes": profile.runtime_models}[study])
    sizes = parse_batch_sizes(args.batch_sizes) if args.batch_sizes else list(profile.study_batch_sizes)
    device = resolve_device(args.device)
    try:
        if study == "threads":
            counts = parse_thread_counts(args.threads) if args.threads else None
            measure_threads(models, sizes, counts, device=device, results_root=args.out, settings=profile.engine)
        elif study == "runtimes":
            measure_runtimes(models, sizes, split_list(args.runtimes), device=device, threads=args.cpu_threads or None,
                             results_root=args.out, settings=profile.engine)
        else:
            measure_precisions(models, sizes, split_list(args.precisions), device=device,
                               threads=args.cpu_threads or None, results_root=args.out, settings=profile.engine)
    except KeyboardInterrupt:
        _interrupted(args)
        return 130
    tag = device_tag(device)
    rows = study_results(study, args.out, tag, models)
    rows = rows[rows["batch_size"].isin(sizes)]
    table = {"threads": threads_table, "precision": dtype_table, "runtimes": runtimes_table}[study](rows, tag)
    if args.csv:
        table.to_csv(sys.stdout, index=False, float_format="%.6g")
        return 0
    if study == "runtimes":
        print(f"runtimes study on {tag} (fp32; times in ms per image, 95 % intervals; speed-up over eager):")
        for r in table.itertuples():
            if r.status != "ok":
                print(f"  {r.model:<14} b={r.batch_size:<3} {r.runtime:<12} {r.status}: {r.reason}")
                continue
            ci = f" [{r.speedup_ci_low:.2f}, {r.speedup_ci_high:.2f}]" if r.speedup_ci_low == r.speedup_ci_low else ""
            conv = f"  conversion {r.conversion_s:.2f} s" if r.conversion_s == r.conversion_s else ""
            speedup = f"{r.speedup:.2f}x{ci}" if r.speedup == r.speedup else "- (no eager point in this store)"
            output = (f"output within {r.agreement:.1e} of eager's" if r.agreement == r.agreement else
                      f"output {r.agreement_note or 'not compared'}")
            print(f"  {r.model:<14} b={r.batch_size:<3} {r.runtime:<12} {1000 * r.time_s:8.2f} ms "
                  f"[{1000 * r.time_ci_low:.2f}, {1000 * r.time_ci_high:.2f}]  speed-up {speedup}{conv}  {output}")
        return 0
    print(f"{study} study on {tag} ({'accuracy not re-measured; ' if study == 'precision' else ''}"
          f"times in ms per image, 95 % intervals):")
    for r in table.itertuples():
        setting = f"{r.threads} thread(s)" if study == "threads" else r.precision
        if study == "precision" and r.status != "ok":
            print(f"  {r.model:<14} b={r.batch_size:<3} {setting:<12} {r.status}: {r.reason}")
            continue
        ci = (f" [{r.speedup_ci_low:.2f}, {r.speedup_ci_high:.2f}]" if r.speedup_ci_low == r.speedup_ci_low else "")
        print(f"  {r.model:<14} b={r.batch_size:<3} {setting:<12} {1000 * r.time_s:8.2f} ms  "
              f"speed-up {r.speedup:.2f}x{ci}"
              + (f"  efficiency {100 * r.efficiency:.0f} %" if study == "threads" else
                 f"  peak {r.peak_mb:.0f} MB"))
    return 0


def _cmd_layers(args: argparse.Namespace) -> int:
    """Time each layer type of the models (the layers study, into the batch store) and print the shares."""
    from helpers.measure.layers import measure_layers, stored_layer_shares, stored_layer_times
    from helpers.measure.profiles import get_profile, parse_batch_sizes
    from helpers.store.machine import device_tag, resolve_device
    from helpers.store.results import load_results

    profile = get_profile(args.profile)
    models = args.models or list(profile.layer_models)
    sizes = parse_batch_sizes(args.batch_sizes) if args.batch_sizes else profile.layer_batch_sizes()
    device = resolve_device(args.device)
    try:
        measure_layers(models, sizes, device=device, threads=args.threads or None, windows=args.windows or
                       profile.layer_windows, results_root=args.out, force=args.force)
    except KeyboardInterrupt:
        _interrupted(args)
        return 130
    tag = device_tag(device)
    rows = load_results(args.out, [tag])
    from helpers.models.zoo import resolve_models

    for spec in resolve_models(models):
        times = stored_layer_times(rows, spec.name, tag)
        shares = stored_layer_shares(rows, spec.name, tag)
        if times.empty:
            print(f"{spec.name}: no layer times stored for this run")
            continue
        print(f"{spec.name} on {tag}: share of the time per layer type (ms per image, 95 % interval between rounds)")
        for kind in shares.index:
            cells = []
            for b in shares.columns:
                r = times[(times["layer_type"] == kind) & (times["batch_size"] == b)]
                cells.append(f"b={b}: {shares.at[kind, b]:.2f}" + (
                    f" ({r['value'].iloc[0]:.3g} ms [{r['ci_low'].iloc[0]:.3g}, {r['ci_high'].iloc[0]:.3g}])"
                    if len(r) else ""))
            print(f"  {kind:<18} " + "   ".join(cells))
    return 0


def _interrupted(args: argparse.Namespace) -> None:
    """One line on Ctrl-C: what is kept and how to resume."""
    resume = "python -m helpers " + " ".join(sys.argv[1:]) if sys.argv[1:] else "the same command"
    print(f"\ninterrupted: every finished point is stored and every finished visit journalled under "
          f"{args.out or 'data/results'}; run `{resume}` again to resume where it stopped", file=sys.stderr)


def _cmd_claims(args: argparse.Namespace) -> int:
    from helpers.analysis.claims import CLAIM_COLUMNS, claims_table
    from helpers.store.results import load_results

    if args.paper_data and (args.results or args.device_tag or args.per_runtime):
        raise ValueError("--paper-data rules the paper's own numbers: it takes no --results, --device-tag or "
                         "--per-runtime")
    if args.per_runtime:
        return _runtime_claims(args)
    if args.paper_data:
        table = claims_table(paper_data=True)
    else:
        root = args.results or RESULTS_DIR
        if args.results is not None and not Path(root).is_dir():
            raise ValueError(f"--results {root}: no such folder (a results store root holds <device-tag>/results.csv)")
        rows = load_results(root)
        tags = sorted(rows["device_tag"].unique()) if not rows.empty else []
        if args.results is None and not tags:  # no runs of this machine's own: say where the recorded ones are
            from helpers.course.notebook import recorded_tags

            raise ValueError(f"no runs of your own under data/results (measure with `make reproduce`); recorded "
                             f"runs: {', '.join(recorded_tags(RECORDED_DIR)) or 'none'} (rule them with "
                             f"--results data/recorded)")
        if args.device_tag and args.device_tag not in tags:
            raise ValueError(f"--device-tag {args.device_tag!r}: no results under {root}; "
                             f"recorded: {', '.join(tags) or 'none'}")
        table = claims_table(rows, args.device_tag)
    if args.csv:
        table[list(CLAIM_COLUMNS)].to_csv(sys.stdout, index=False, float_format="%.6g")
        return 0
    for device, rows in table.groupby("device", sort=False):
        print(f"== {device}")
        for r in rows.itertuples():
            basis = f" [{r.basis}]" if r.basis else ""
            ci = (f" [{r.ci_low:.3g}, {r.ci_high:.3g}]" if r.ci_low == r.ci_low and r.ci_high == r.ci_high else "")
            estimate = f"{r.estimate:.3g}{ci}" if r.estimate == r.estimate else "-"
            print(f"{r.claim:<5}{basis}: {r.verdict.upper()}  {estimate}  ({r.threshold})")
            if r.robust:
                print(f"       with the threshold moved 25 % each way: {r.robust}")
            print(f"       {r.this_run}")
            print(f"       because {r.reason}")
    if table["device_tag"].nunique() > 1:
        from helpers.analysis.claims import agreement

        print("== where the devices agree (holds / does not hold alike)")
        print(agreement(table).to_string(index=False))
    return 0


def _runtime_claims(args: argparse.Namespace) -> int:
    """``claims --per-runtime``: C3 and C8 ruled once per runtime of the runtimes study of each device."""
    from helpers.analysis.claims import CLAIM_COLUMNS, RUNTIME_PARTS, runtime_claims_table
    from helpers.store.results import load_results

    root = args.results or RESULTS_DIR
    rows = load_results(root, [args.device_tag] if args.device_tag else None, study="runtimes")
    if rows.empty:
        raise ValueError(f"no runtimes study under {root}{' for ' + args.device_tag if args.device_tag else ''} "
                         f"(measure it with `python -m helpers runtimes`; recorded ones: --results data/recorded)")
    table = runtime_claims_table(rows, args.device_tag)
    if args.csv:
        table[["runtime", *CLAIM_COLUMNS]].to_csv(sys.stdout, index=False, float_format="%.6g")
        return 0
    print(f"{', '.join(RUNTIME_PARTS)} ruled per runtime on the runtimes study (each runtime's times alone)")
    for (device, runtime), group in table.groupby(["device", "runtime"], sort=False):
        print(f"== {device}: {runtime}")
        for r in group.itertuples():
            ci = (f" [{r.ci_low:.3g}, {r.ci_high:.3g}]" if r.ci_low == r.ci_low and r.ci_high == r.ci_high else "")
            estimate = f"{r.estimate:.3g}{ci}" if r.estimate == r.estimate else "-"
            print(f"{r.claim:<5}{f' [{r.basis}]' if r.basis else ''}: {r.verdict.upper()}  {estimate}  "
                  f"({r.threshold})")
            if r.verdict == "not measurable here":
                print(f"       because {r.reason}")
    return 0


def _cmd_record(args: argparse.Namespace) -> int:
    from helpers.cli.record import main as record

    return record(args.tag or None, args.force, args.rerun)


def _cmd_probes(args: argparse.Namespace) -> int:
    from helpers.measure.power import probe_statuses
    from helpers.store.machine import resolve_device

    device = resolve_device(args.device)
    statuses = probe_statuses(device)
    print(f"power probes for device {device}:")
    for status in statuses:
        if status.available:
            print(f"  {status.name:<7} available: {status.domain} ({status.method})")
        else:
            print(f"  {status.name:<7} unavailable: {status.reason}")
    if not any(s.available for s in statuses):
        print("no power sensor here: power and energy cannot be measured on this machine "
              "(recorded runs under data/recorded/ can still be plotted: make reproduce TAG=...)")
    return 0


def _format_value(value, unit: str = "") -> str:
    """A value for the human table: bytes as KiB/MiB/GiB, numbers to 4 significant digits."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value != value:
            return ""
        if unit == "bytes":
            for scale, name in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
                if value >= scale:
                    return f"{value / scale:.4g} {name}"
            return f"{value:.0f} B"
        return f"{value:.4g}"
    return str(value)


def _cmd_hardware(args: argparse.Namespace) -> int:
    from helpers.measure.hardware import characterise
    from helpers.core.paths import check_writable
    from helpers.store.characterisation import HARDWARE_COLUMNS, save_characterisation

    if not args.facts_only and not args.no_save:
        check_writable(args.out, "--out")  # refused before measuring, not after
    frame = characterise(args.device, args.threads or None, min_run_time=args.min_run_time,
                         matmul_size=args.matmul_size or None,
                         array_bytes=int(args.array_mib * 2**20) if args.array_mib else None,
                         measure=not args.facts_only, windows=args.windows, progress=True)
    if not args.facts_only and not args.no_save:
        path = save_characterisation(frame, args.out)
        print(f"stored in {path} (fingerprint {frame['fingerprint'].iloc[0]}, beside the device's results)",
              file=sys.stderr)
    if args.csv:
        frame[HARDWARE_COLUMNS].to_csv(sys.stdout, index=False, float_format="%.6g")
        return 0
    header = ["quantity", "dtype", "value", "unit", "95% CI", "n", "status", "note"]
    lines = [header]
    for row in frame.itertuples(index=False):
        interval = f"{row.ci_low:.4g} to {row.ci_high:.4g}" if row.ci_low == row.ci_low else ""
        n = "" if row.n != row.n else f"{row.n:.0f}"
        unit = "" if row.unit == "bytes" else row.unit
        lines.append([row.quantity, row.dtype, _format_value(row.value, row.unit), unit, interval, n,
                      row.status, row.note])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    print(f"hardware behind device {frame['device'].iloc[0]} (--csv adds each row's method):")
    for line in lines:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths)) + "  " + line[-1])
    return 0


def build_parser() -> argparse.ArgumentParser:
    from helpers.models.zoo import PRESETS

    parser = argparse.ArgumentParser(
        prog="python -m helpers",
        description="Reproduce Canziani et al. (2016) on your own hardware.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("models", help="list models with their input size")
    p.add_argument("--preset", default="paper",
                   help=f"a preset ({', '.join(PRESETS)}) or model names, comma-separated (default: paper)")
    p.set_defaults(func=_cmd_models)

    p = sub.add_parser("count", help="count parameters and operations (GMACs, G-ops with groups honoured and by the 2016 rules, thop)")
    p.add_argument("models", nargs="+", metavar="MODEL_OR_PRESET")
    p.add_argument("--csv", action="store_true", help="print CSV (one row per model) instead of a table")
    p.add_argument("--no-thop", action="store_true", help="skip thop's cross-check count")
    p.set_defaults(func=_cmd_count)
    p = sub.add_parser("accuracy", help="top-1 and top-5 of every library weight, from its metadata (no download), "
                                        "beside the paper's top-1")
    p.add_argument("models", nargs="+", metavar="MODEL_OR_PRESET")
    p.add_argument("--csv", action="store_true", help="print CSV (one row per weights entry) instead of a table")
    p.set_defaults(func=_cmd_accuracy)
    p = sub.add_parser("evaluate", help="top-1 and top-5 of a checkpoint on an ImageFolder tree (single central "
                                        "crop), stored with 95 %% Wilson intervals (resumable)")
    p.add_argument("--model", required=True, help="one model: a paper name (ResNet-18), a torchvision or timm name")
    p.add_argument("--checkpoint", required=True, type=Path, help="state_dict file (loaded with weights_only=True)")
    p.add_argument("--data", required=True, type=Path, help="ImageFolder tree: DIR/<class>/<image>")
    p.add_argument("--crop", type=int, default=None, help="centre crop in pixels (default: the model's input size, "
                                                          "224; 299 for the Inceptions)")
    p.add_argument("--resize", type=int, default=None, help="shorter side before the crop (default: crop / 0.875, "
                                                            "256 for 224)")
    p.add_argument("--limit", type=int, default=None, help="evaluate an evenly spaced subset of N images")
    p.add_argument("--batch-size", type=int, default=32, help="images per forward pass (default: 32)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default: auto)")
    p.add_argument("--out", type=Path, default=None, help="results folder (default: data/results)")
    p.add_argument("--force", action="store_true", help="evaluate again what is already stored")
    p.set_defaults(func=_cmd_evaluate)
    p = sub.add_parser("measure", help="measure time, memory and/or power against batch size (resumable)")
    p.add_argument("--models", nargs="+", metavar="MODEL_OR_PRESET", help="default: the profile's models")
    p.add_argument("--batch-sizes", default="", help="comma-separated, e.g. 1,2,4 (default: the profile's)")
    p.add_argument("--metrics", default="time,memory", help="comma-separated: time, memory, power")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default: auto)")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (default: every core)")
    p.add_argument("--out", type=Path, default=None, help="results folder (default: data/results)")
    p.add_argument("--force", action="store_true", help="measure again what is already stored")
    p.add_argument("--profile", default="full",
                   help="models, batch sizes and the engine's settings (smoke, classroom, quick, modern, full; see helpers/measure/profiles.py)")
    p.add_argument("--seed", type=int, default=None, help="seed of the shuffled visiting order (default: the profile's)")
    p.add_argument("--power-window", type=float, default=0.0, help="power window length in s")
    p.set_defaults(func=_cmd_measure)

    p = sub.add_parser("probes", help="which power sensors this machine offers, and why not the others")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default: auto)")
    p.set_defaults(func=_cmd_probes)

    from helpers.measure.profiles import PEAK_WINDOWS

    p = sub.add_parser("hardware", help="this machine's facts and measured peaks (matmul GFLOP/s, memory GB/s)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default: auto)")
    p.add_argument("--csv", action="store_true", help="print CSV with every column instead of a table")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (default: torch's setting)")
    p.add_argument("--min-run-time", type=float, default=1.0, help="seconds per blocked_autorange call")
    p.add_argument("--matmul-size", type=int, default=0,
                   help="side of the square matrices (default: 1024 on a CPU, 8192 on CUDA)")
    p.add_argument("--array-mib", type=float, default=0.0,
                   help="MiB per bandwidth array (default: 4x the last-level cache, at least 256)")
    p.add_argument("--windows", type=int, default=PEAK_WINDOWS,
                   help=f"fresh processes the peaks are measured in, one after another; the interval is between "
                        f"them (default {PEAK_WINDOWS}; 1: this process, the within-window interval)")
    p.add_argument("--facts-only", action="store_true", help="report the facts, measure nothing")
    p.add_argument("--out", type=Path, default=None,
                   help="folder of hardware.csv (default: data/results/<device-tag>/, beside the results)")
    p.add_argument("--no-save", action="store_true", help="print only, store nothing")
    p.set_defaults(func=_cmd_hardware)

    for study, text in (("threads", "time and memory against CPU threads: speed-up and parallel efficiency"),
                        ("precision", "time and memory in fp32, bf16, fp16 and int8 where the device runs them"),
                        ("runtimes", "time through PyTorch eager, torch.compile, ONNX Runtime and OpenVINO (fp32): speed-up, "
                                     "conversion time, output agreement")):
        p = sub.add_parser(study, help=f"{text} (resumable; stored in data/results/<device-tag>/{study}.csv)")
        p.add_argument("--models", nargs="+", metavar="MODEL_OR_PRESET",
                       help="default: the profile's models for this study")
        p.add_argument("--batch-sizes", default="", help="comma-separated (default: the profile's, 1,16)")
        p.add_argument("--device", default="cpu" if study == "threads" else "auto",
                       help="cpu" if study == "threads" else "auto, cpu, cuda or cuda:N (default: auto)")
        if study == "threads":
            p.add_argument("--threads", default="", help="comma-separated counts (default: 1, 2, 4, ... and every core)")
        elif study == "runtimes":
            p.add_argument("--runtimes", default="eager,compile,onnxruntime,openvino",
                           help="comma-separated: eager, compile (torch.compile, Inductor), onnxruntime, openvino")
            p.add_argument("--threads", dest="cpu_threads", type=int, default=0, help="CPU threads (default: every core)")
        else:
            p.add_argument("--precisions", default="fp32,bf16,fp16,int8", help="comma-separated: fp32, bf16, fp16, int8")
            p.add_argument("--threads", dest="cpu_threads", type=int, default=0, help="CPU threads (default: every core)")
        p.add_argument("--out", type=Path, default=None, help="results folder (default: data/results)")
        p.add_argument("--profile", default="full", help="the engine's settings and default models (see helpers/measure/profiles.py)")
        p.add_argument("--csv", action="store_true", help="print the table as CSV")
        p.set_defaults(func=_cmd_study)

    p = sub.add_parser("layers", help="time each layer type of a model at batch 1 and a large batch, in rounds "
                                      "(claim part C3e; resumable; stored beside the sweep in data/results/<device-tag>/)")
    p.add_argument("--models", nargs="+", metavar="MODEL_OR_PRESET", help="default: the profile's (AlexNet)")
    p.add_argument("--batch-sizes", default="", help="comma-separated (default: 1 and the profile's largest up to 64)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default: auto)")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (default: every core)")
    p.add_argument("--windows", type=int, default=0, help="rounds (default: the profile's, 5)")
    p.add_argument("--out", type=Path, default=None, help="results folder (default: data/results)")
    p.add_argument("--profile", default="full", help="default models and batches (see helpers/measure/profiles.py)")
    p.add_argument("--force", action="store_true", help="measure again what is stored")
    p.set_defaults(func=_cmd_layers)

    p = sub.add_parser("claims", help="rule every part of the paper's claims with a 95 %% interval, per device "
                                      "(default: your own runs in data/results; --results data/recorded: the "
                                      "recorded runs)")
    p.add_argument("--results", type=Path, default=None,
                   help="results store root (default: data/results, your own runs; with none there, the error "
                        "lists the recorded runs: rule those with --results data/recorded)")
    p.add_argument("--device-tag", default=None, help="only this device (default: every device under the root)")
    p.add_argument("--paper-data", action="store_true",
                   help="rule the claims on the paper's own published numbers (a check of the statistics)")
    p.add_argument("--per-runtime", action="store_true",
                   help="rule C3 and C8 once per runtime on the runtimes study (python -m helpers runtimes)")
    p.add_argument("--csv", action="store_true", help="print CSV with every column instead of a table")
    p.set_defaults(func=_cmd_claims)

    p = sub.add_parser("reproduce", help="execute every notebook in order into reports/<device-tag>/")
    p.add_argument("--profile", default="full", help="smoke, classroom, quick, modern or full (default: full)")
    p.add_argument("--models", default="", help="models or presets, comma-separated (default: the profile's)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default: auto)")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (default: every core)")
    p.add_argument("--notebooks", nargs="*", help="only these notebooks (names or stems)")
    p.add_argument("--output-dir", type=Path, help="default: reports/<device-tag>/")
    p.add_argument("--results-dir", type=Path, help="results store root (default: data/results)")
    p.add_argument("--no-measure", action="store_true", help="only plot what the results store holds")
    p.add_argument("--results-tag", default="",
                   help="replot this recorded device's run (e.g. a committed one) instead of this machine's")
    p.set_defaults(func=_cmd_reproduce)

    p = sub.add_parser("record", help="copy this machine's run from data/results (your own store, git-ignored) "
                                      "into data/recorded/<device-tag>/, the committed runs, for git add")
    p.add_argument("--tag", default="", help="the device tag to record (default: this machine's)")
    p.add_argument("--force", action="store_true",
                   help="replace an existing data/recorded/<device-tag>/ (every file) with this run")
    p.add_argument("--rerun", type=Path, default=None, metavar="DIR",
                   help="instead: record DIR/<device-tag>/ (a store root holding a second, independent sweep of an "
                        "already recorded machine) as data/recorded/reruns/<device-tag>/, which the README's "
                        "reproducibility section compares with the recorded run")
    p.set_defaults(func=_cmd_record)

    for command, (_, text) in DELEGATED.items():
        # Listed here for --help; main() hands them their arguments before parsing ("python -m helpers
        # COMMAND --help" shows each one's own).
        p = sub.add_parser(command, help=text, add_help=False)
        p.set_defaults(func=lambda args, command=command: _delegate(command, []))
    return parser


def _request_errors() -> tuple[type[Exception], ...]:
    """The errors that mean a bad request (a bad value, an unknown model, a store in use), not a bug.

    Each is looked up only if its module is loaded: one that the command did not import cannot have been
    raised, and importing it here would cost every command pandas.
    """
    errors: list[type[Exception]] = [ValueError]
    for module, name in (("helpers.models.zoo", "UnknownModelError"), ("helpers.store.results", "StoreBusy")):
        if module in sys.modules:
            errors.append(getattr(sys.modules[module], name))
    return tuple(errors)


def _run(argv: list[str]) -> int:
    try:
        if argv and argv[0] in DELEGATED:
            return _delegate(argv[0], argv[1:])
        args = build_parser().parse_args(argv)
        return args.func(args)
    except _request_errors() as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


# The status a shell reports for a process ended by SIGPIPE (128 + 13), as `yes | head -1` does.
EXIT_BROKEN_PIPE = 141


def main(argv: list[str] | None = None) -> int:
    """Run one command; its exit status. Output piped into a reader that stops early (``| head``) ends quietly."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        try:
            status = _run(argv)
        except SystemExit:  # --help and argument errors: what they printed is flushed here too
            sys.stdout.flush()
            raise
        sys.stdout.flush()  # a reader gone shows here, inside the try, rather than at exit
        return status
    except BrokenPipeError:
        # Python's recipe ("Note on SIGPIPE", the signal module's documentation): what is still buffered goes
        # to devnull, so the flush at exit raises nothing either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
