"""``make reproduce``: measure, then execute every notebook in order with papermill.

The measurement runs first, as the command line's sweep (helpers.measure.sweep), so
its progress bar and time left show in the terminal; the notebooks then plot
from the results store (``measure=False``).

Executed notebooks (and their HTML exports), figures and tables go to
``reports/<device-tag>/``; an ``index.html`` there links everything. A notebook
that fails does not stop the others; the command exits non-zero naming it.
"""
from __future__ import annotations

import html
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from helpers.core.paths import NOTEBOOKS_DIR, REPO_ROOT

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["notebook_paths", "execute_notebook", "reproduce", "write_index"]


def notebook_paths() -> list[Path]:
    """The lesson notebooks, in order (their file names start with the lesson number)."""
    return sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))



@dataclass
class NotebookRun:
    name: str
    output: Path
    seconds: float
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def execute_notebook(notebook: Path, output_dir: Path, parameters: dict, progress: bool = True) -> NotebookRun:
    """Execute one notebook with papermill into ``output_dir``; never raises on a notebook error."""
    import papermill

    output = output_dir / notebook.name
    declared = papermill.inspect_notebook(str(notebook))  # pass each notebook only what it declares
    parameters = {k: v for k, v in parameters.items() if k in declared}
    start = time.perf_counter()
    try:
        papermill.execute_notebook(str(notebook), str(output), parameters=parameters, kernel_name="python3",
                                   cwd=str(NOTEBOOKS_DIR), progress_bar=progress)
        error = ""
    except Exception as exc:  # papermill.PapermillExecutionError carries the cell's error
        error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"
    return NotebookRun(notebook.name, output, time.perf_counter() - start, error)


def export_html(notebook: Path) -> Path | None:
    """Export an executed notebook to HTML beside it (figures inline); None if it cannot."""
    try:
        from nbconvert import HTMLExporter

        body, _ = HTMLExporter(embed_images=True).from_filename(str(notebook))
    except Exception:
        return None
    path = notebook.with_suffix(".html")
    path.write_text(body, encoding="utf-8")
    return path


def write_index(output_dir: Path, runs: list[NotebookRun], parameters: dict,
                environment: dict | None = None, claims: "pd.DataFrame | None" = None,
                stability: list[str] | None = None) -> Path:
    """Write ``index.html``: each notebook (HTML and .ipynb) and its status, the run's stability
    (``stability``: helpers.analysis.reproducibility.run_report's sentences: the intervals, the check
    standard, the comparison with a recorded run), the claims table (``helpers.analysis.claims.claims_table``
    of the run's device, passed in), the environment of the run, the tables and every figure inline."""
    rows = []
    for run in runs:
        html_path = run.output.with_suffix(".html")
        link = (f'<a href="{html.escape(html_path.name)}">{html.escape(run.name)}</a>'
                if html_path.exists() else html.escape(run.name))
        status = "ok" if run.ok else f"failed: {html.escape(run.error)}"
        rows.append(f"<tr><td>{link}</td><td><a href=\"{html.escape(run.output.name)}\">ipynb</a></td>"
                    f"<td>{status}</td><td>{run.seconds:.0f} s</td></tr>")
    figures = sorted((output_dir / "figures").glob("*.png"))
    tables = sorted((output_dir / "tables").glob("*.csv"))
    figure_html = "\n".join(
        f'<figure><img src="figures/{html.escape(f.name)}" alt="{html.escape(f.stem)}" style="max-width:100%">'
        f"<figcaption>{html.escape(f.stem)}</figcaption></figure>" for f in figures)
    table_html = "\n".join(f'<li><a href="tables/{html.escape(t.name)}">{html.escape(t.name)}</a></li>' for t in tables)
    params = "".join(f"<li>{html.escape(k)} = {html.escape(repr(v))}</li>" for k, v in parameters.items())
    if claims is None or claims.empty:
        claims_html = "<p>No claims table for this run.</p>"
    else:
        columns = ["claim", "basis", "device", "paper", "this_run", "estimate", "ci_low", "ci_high", "interval",
                   "threshold", "verdict", "robust", "reason"]
        claims_html = claims[columns].to_html(index=False, escape=True, border=0, na_rep="", float_format="{:.3g}".format)
    stability_html = ("<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in stability) + "</ul>"
                      if stability else "<p>No measured points in this run's store.</p>")
    env = environment or {}
    env_html = "".join(f"<li>{html.escape(str(k))}: {html.escape(str(v))}</li>" for k, v in env.items())
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Canziani et al. (2016), reproduced: {html.escape(output_dir.name)}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}td{{padding:2px 12px}}figure{{margin:1.5em 0}}</style></head>
<body><h1>An Analysis of Deep Neural Network Models for Practical Applications, reproduced</h1>
<p>Device: <b>{html.escape(output_dir.name)}</b>. Parameters:</p><ul>{params}</ul>
<h2>Environment</h2><ul>{env_html}</ul>
<h2>Notebooks</h2><table>{''.join(rows)}</table>
<h2>This run's stability: its intervals and the machine's speed</h2>{stability_html}
<h2>The paper's claims on this device</h2>{claims_html}
<h2>Tables</h2><ul>{table_html}</ul>
<h2>Figures</h2>{figure_html}
</body></html>"""
    index = output_dir / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def _stability(results_root: Path, device_tag: str, compare: bool) -> list[str]:
    """run_report's sentences on the stored run of ``device_tag`` (its latest), against the recorded run of
    the same machine type when ``compare``; none when the store holds no row of the device."""
    from helpers.analysis.reproducibility import recorded_reference, run_report
    from helpers.store.results import load_results

    rows = load_results(results_root, [device_tag])
    if rows.empty:
        return []
    return run_report(rows, *(recorded_reference(device_tag) if compare else (None, "")))


def reproduce(profile: str = "full", models: str = "", device: str = "auto", threads: int = 0,
              notebooks: list[str] | None = None, output_dir: Path | None = None,
              results_dir: Path | None = None, measure: bool = True, results_tag: str = "") -> int:
    """Measure what the store lacks (the command-line sweep, its progress in the terminal), then run the
    notebooks in order, plotting from the store; return 0, or 1 after naming every notebook that failed.
    The store is this machine's own (data/results, or ``results_dir``): a recorded run of the same
    fingerprint in data/recorded is never taken for a measurement of this machine.
    ``results_tag``: replot that recorded device's run (data/recorded, unless ``results_dir`` names another
    root) instead; nothing is measured."""
    from helpers.course.notebook import setup

    run = setup(profile=profile, models=models, device=device, threads=threads,
                output_dir=str(output_dir) if output_dir else "", results_dir=str(results_dir or ""),
                results_tag=results_tag, measure=measure)
    measure = measure and run.measure
    if run.notice:  # nothing stored here and nothing to measure: a recorded run stands in, and every lesson says so
        print(run.notice, flush=True)
    parameters = {"profile": profile, "models": models, "device": run.device, "threads": threads,
                  "results_dir": str(run.results_root), "output_dir": str(run.output_dir), "measure": False,
                  "results_tag": results_tag or (run.device_tag if run.notice else "")}
    chosen = [p for p in notebook_paths() if not notebooks or p.name in notebooks or p.stem in notebooks]
    if notebooks and len(chosen) != len(notebooks):
        raise ValueError(f"unknown notebook in {notebooks}; valid: {[p.name for p in notebook_paths()]}")
    if measure:
        from helpers.analysis.reproducibility import recorded_reference, run_report
        from helpers.measure.sweep import measure as measure_points
        from helpers.store.results import load_results

        print(f"measuring {len(run.models)} models x {len(run.batch_sizes)} batch sizes on {run.device_tag} "
              f"(time, memory, power where there is a sensor); the notebooks then plot from the store", flush=True)
        store = measure_points(run.models, run.batch_sizes, ["time", "memory", "power"], device=run.device,
                               threads=run.threads, results_root=run.results_root, settings=run.profile.engine,
                               power_window_s=run.profile.power_window)
        from helpers.measure.layers import measure_layers
        from helpers.measure.profiles import layer_batches

        print(f"the layers study: {', '.join(run.profile.layer_models)}, layer type by layer type, at batch "
              f"{' and '.join(map(str, layer_batches(run.batch_sizes)))} ({run.profile.layer_windows} rounds)",
              flush=True)
        measure_layers(list(run.profile.layer_models), layer_batches(run.batch_sizes), device=run.device,
                       threads=run.threads, windows=run.profile.layer_windows, results_root=run.results_root)
        rows = load_results(run.results_root, [run.device_tag], fingerprint=store.fingerprint)
        stability = run_report(rows, *recorded_reference(run.device_tag))
        for line in stability:
            print(f"  {line}", flush=True)
        if any(p.name == "09_hardware.ipynb" for p in chosen):
            from helpers.course.lessons import measure_for_lesson

            print(f"lesson 9: the device's peaks (when not stored for this run), the threads, precision and runtimes "
                  f"studies of {run.profile.name}'s models ({', '.join(run.profile.runtimes)})", flush=True)
            measure_for_lesson(run.profile, run.device, run.threads, run.results_root)
    print(f"reproducing {len(chosen)} notebooks into {run.output_dir} ({run!r})", flush=True)
    runs = []
    for notebook in chosen:
        print(f"--- {notebook.name}", flush=True)
        result = execute_notebook(notebook, run.output_dir, parameters)
        if result.output.exists():
            export_html(result.output)
        print(f"    {'ok' if result.ok else 'FAILED: ' + result.error} ({result.seconds:.0f} s)", flush=True)
        runs.append(result)
    from helpers.store.results import environment_fingerprint

    from helpers.analysis.claims import claims_table

    if not measure:  # the run replotted (this machine's stored one, or a recorded device's)
        stability = _stability(run.results_root, run.device_tag, compare=not results_tag)
    claims = claims_table(run.results_root, run.device_tag)
    index = write_index(run.output_dir, runs, parameters, environment_fingerprint(run.device, run.threads), claims,
                        stability)
    print(f"index: {index.relative_to(REPO_ROOT) if index.is_relative_to(REPO_ROOT) else index}")
    failed = [r.name for r in runs if not r.ok]
    if failed:
        print(f"error: {len(failed)} notebook(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0
