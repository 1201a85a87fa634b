"""``make gallery``: copy a run's main figures and claims table into docs/gallery/ for the README.

The README shows the committed recorded run; this keeps that gallery rebuilt
from a report folder rather than edited by hand.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pandas as pd

from helpers.paths import REPO_ROOT, REPORTS_DIR

GALLERY_DIR = REPO_ROOT / "docs" / "gallery"
# The figures the README shows, in order (those a run produced).
MAIN_FIGURES = (
    "fig2_top1_vs_ops", "fig10_accuracy_density", "fig3_time_vs_batch", "fig7_ops_vs_time_batch1",
    "fig7_ops_vs_time_batch16", "fig5_memory_vs_batch", "fig6_static_vs_parameter_memory",
    "fig9_accuracy_vs_throughput_batch1", "fig9_accuracy_vs_throughput_batch16",
)


def claims_markdown(claims: pd.DataFrame) -> str:
    """The claims table as Markdown: claim, paper, this run, verdict, reason."""
    lines = ["| claim | the paper | this run | verdict |", "|---|---|---|---|"]
    for row in claims.itertuples():
        cells = [str(getattr(row, c)).replace("|", "/").replace("\n", " ")
                 for c in ("claim", "paper_figure", "this_run", "verdict")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_gallery(report_dir: Path, dest: Path = GALLERY_DIR) -> list[Path]:
    """Copy the main figures and the claims table of ``report_dir`` into ``dest``; return what was written."""
    figures = report_dir / "figures"
    if not figures.is_dir():
        raise FileNotFoundError(f"no figures in {report_dir}: run `make reproduce` first")
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for name in MAIN_FIGURES:
        source = figures / f"{name}.png"
        if source.is_file():
            written.append(Path(shutil.copy2(source, dest / source.name)))
    claims = report_dir / "tables" / "claims.csv"
    if claims.is_file():
        target = dest / "claims.md"
        target.write_text(f"Claims on `{report_dir.name}`\n\n" + claims_markdown(pd.read_csv(claims, dtype=str, keep_default_na=False)))
        written.append(target)
    return written


if __name__ == "__main__":
    tags = sys.argv[1:] or sorted(p.name for p in REPORTS_DIR.iterdir() if p.is_dir())
    for tag in tags:
        for path in write_gallery(REPORTS_DIR / tag):
            print(path.relative_to(REPO_ROOT))
