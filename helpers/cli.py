"""The study's command line: ``python -m helpers COMMAND ...``.

    models  [--preset NAME]                 list models with their input size
    count   MODEL_OR_PRESET... [--csv]      parameters and operations under each convention
    reproduce [--profile P] [--device D]    execute every notebook into reports/<device-tag>/
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from helpers.zoo import PRESETS, UnknownModelError, resolve_models


def _cmd_models(args: argparse.Namespace) -> int:
    specs = resolve_models(args.preset)
    width = max(len(s.name) for s in specs)
    for spec in specs:
        print(f"{spec.name:<{width}}  {spec.input_size:>4}  {spec.source}")
    return 0


# Columns of `count --csv`, in order (those that exist for the models asked).
COUNT_COLUMNS = [
    "model", "input_size", "params", "gmacs", "gops_paper", "thop_gmacs", "thop_vs_gmacs_pct",
    "counters_agree", "torchvision_gmacs", "params_m", "params_m_paper", "params_diff_pct",
    "gops_paper_ref", "gops_diff_pct", "source", "thop_error", "note",
]


def _cmd_count(args: argparse.Namespace) -> int:
    from helpers.ops import count_table

    table = count_table(args.models, thop=not args.no_thop, progress=not args.csv and sys.stderr.isatty())
    table = table[[c for c in COUNT_COLUMNS if c in table.columns]]
    if args.csv:
        table.to_csv(sys.stdout, index=False, float_format="%.6g")
    else:
        shown = table.drop(columns=[c for c in ("note", "source", "thop_error") if c in table.columns])
        with pd.option_context("display.width", 200, "display.max_columns", None):
            print(shown.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from helpers.reproduce import reproduce

    return reproduce(profile=args.profile, models=args.models, device=args.device, threads=args.threads,
                     notebooks=args.notebooks, output_dir=args.output_dir)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m helpers",
        description="Reproduce Canziani et al. (2016) on your own hardware.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("models", help="list models with their input size")
    p.add_argument("--preset", default="paper",
                   help=f"a preset ({', '.join(PRESETS)}) or model names, comma-separated (default: paper)")
    p.set_defaults(func=_cmd_models)

    p = sub.add_parser("count", help="count parameters and operations (GMACs, the paper's G-ops, thop)")
    p.add_argument("models", nargs="+", metavar="MODEL_OR_PRESET")
    p.add_argument("--csv", action="store_true", help="print CSV (one row per model) instead of a table")
    p.add_argument("--no-thop", action="store_true", help="skip thop's cross-check count")
    p.set_defaults(func=_cmd_count)
    p = sub.add_parser("reproduce", help="execute every notebook in order into reports/<device-tag>/")
    p.add_argument("--profile", default="full", help="smoke, quick or full (default: full)")
    p.add_argument("--models", default="", help="models or presets, comma-separated (default: the profile's)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default: auto)")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (default: every core)")
    p.add_argument("--notebooks", nargs="*", help="only these notebooks (names or stems)")
    p.add_argument("--output-dir", type=Path, help="default: reports/<device-tag>/")
    p.set_defaults(func=_cmd_reproduce)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UnknownModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
