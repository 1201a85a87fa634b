"""The runtimes study beside the runtimes' own benchmark tools (a benchmark, not a test: it prints figures).

    python -m helpers bench-runtimes [--models ResNet-18,GoogLeNet] [--seconds 15] [--threads N] [--rounds 2]

For each network at batch 1, on this machine, with the same threads, in rounds (ours, then each tool, then ours
again, so that a drift of the machine shows as a difference between our two readings):

* **ours**: the runtimes study's per-image time through OpenVINO and ONNX Runtime (helpers.measure.runtimes, the
  engine's windows, 95 % interval), measured into a temporary store;
* **OpenVINO's benchmark_app** on the same network (``openvino.convert_model`` on the same input, saved as IR):
  ``-d CPU -hint none -nstreams 1 -api sync -nthreads N -infer_precision f32 -shape [1,3,H,W] -t S``; its
  median latency;
* **ONNX Runtime's Python test tool**, ``python -m onnxruntime.tools.onnxruntime_test`` (ONNX Runtime's C++
  ``onnxruntime_perf_test`` is not shipped in its wheels) on the same exported ONNX file: the mean latency over
  its iterations (the first, cold one included), with ONNX Runtime's default threads (one per physical core)
  and every graph optimisation (its default).

It prints, per network and runtime, ours with its interval, the tool's figure, their ratio, and whether the gap
is over 10 %. Run it on a quiet machine. Units: ms per image.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from helpers.core.lists import split_list

__all__ = ["export_for_tools", "benchmark_app_ms", "onnxruntime_test_ms", "parse_benchmark_app", "main"]

#: A gap between ours and a tool's figure beyond this share is said and explained.
GAP = 0.10


def export_for_tools(name: str, folder: Path) -> dict[str, Path]:
    """``name`` (a zoo network, batch 1) exported as the runtimes study converts it: ``onnx`` (model.onnx) and
    ``openvino`` (model.xml, its IR)."""
    import openvino as ov

    from helpers.measure.runtimes import onnx_bytes, openvino_graph
    from helpers.models import zoo

    spec = zoo.get_spec(name)
    model = zoo.build_model(spec).eval()
    x = zoo.example_input(spec, 1)
    folder.mkdir(parents=True, exist_ok=True)
    onnx_path, ir_path = folder / f"{spec.name}.onnx", folder / f"{spec.name}.xml"
    onnx_path.write_bytes(onnx_bytes(model, x))
    ov.save_model(openvino_graph(model, x), str(ir_path))
    return {"onnx": onnx_path, "openvino": ir_path, "shape": tuple(x.shape)}


def parse_benchmark_app(output: str) -> float:
    """benchmark_app's median latency (ms) from its report; ValueError naming what it printed otherwise."""
    match = re.search(r"Median:\s*([0-9.]+)\s*ms", output)
    if not match:
        raise ValueError(f"benchmark_app printed no median latency: ...{output[-400:]}")
    return float(match.group(1))


def parse_onnxruntime_test(output: str) -> float:
    """onnxruntime_test's mean latency (ms); ValueError naming what it printed otherwise."""
    match = re.search(r"avg latency:\s*([0-9.eE+-]+)\s*ms", output)
    if not match:
        raise ValueError(f"onnxruntime_test printed no average latency: ...{output[-400:]}")
    return float(match.group(1))


def benchmark_app_ms(ir: Path, shape, threads: int, seconds: float) -> float:
    """OpenVINO's benchmark_app on ``ir`` at fp32, one stream, ``threads`` threads (ms); no performance hint, as
    benchmark_app takes explicit streams and threads only without one."""
    tool = Path(sys.executable).with_name("benchmark_app")
    command = [str(tool) if tool.exists() else "benchmark_app", "-m", str(ir), "-d", "CPU", "-hint", "none",
               "-nstreams", "1", "-api", "sync", "-nthreads", str(threads), "-infer_precision", "f32",
               "-shape", "[" + ",".join(map(str, shape)) + "]", "-t", str(int(seconds))]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds * 10 + 120)
    return parse_benchmark_app(done.stdout + done.stderr)


def onnxruntime_test_ms(path: Path, iterations: int) -> float:
    """ONNX Runtime's test tool on ``path`` for ``iterations`` runs: its mean latency (ms)."""
    done = subprocess.run([sys.executable, "-m", "onnxruntime.tools.onnxruntime_test", str(path), str(iterations)],
                          capture_output=True, text=True, timeout=3600)
    return parse_onnxruntime_test(done.stdout + done.stderr)


def _ours(models, threads: int, root: Path) -> dict[tuple[str, str], tuple[float, float, float]]:
    from helpers.analysis.studies import runtimes_table, study_results
    from helpers.measure.studies import measure_runtimes

    measure_runtimes(models, [1], ["onnxruntime", "openvino"], threads=threads, results_root=root, progress=False)
    table = runtimes_table(study_results("runtimes", root))
    return {(r.model, r.runtime): (1e3 * r.time_s, 1e3 * r.time_ci_low, 1e3 * r.time_ci_high)
            for r in table.itertuples() if r.status == "ok"}


def main(argv: list[str] | None = None) -> int:
    from helpers.core.procfs import usable_cores
    from helpers.measure import timing
    from helpers.measure.runtimes import runtime_label
    from helpers.models import zoo
    from helpers.store.machine import cpu_name

    parser = argparse.ArgumentParser(prog="python -m helpers bench-runtimes", description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="ResNet-18,GoogLeNet", help="networks, at batch 1")
    parser.add_argument("--seconds", type=float, default=15.0, help="each tool's run, in seconds (default 15)")
    parser.add_argument("--threads", type=int, default=None, help="threads (default: every core)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of ours, the tools, ours (default 2)")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.rounds < 1:
        parser.error(f"--seconds must be > 0 and --rounds >= 1, got {args.seconds} and {args.rounds}")
    threads = timing.resolve_threads(args.threads)
    models = [spec.name for spec in zoo.resolve_models(split_list(args.models))]
    print(f"{cpu_name()} ({usable_cores()} logical cores), {threads} threads; {runtime_label('onnxruntime')}, "
          f"{runtime_label('openvino')}; batch 1, fp32; ms per image", flush=True)
    if threads != usable_cores():
        print(f"  note: onnxruntime_test takes no thread setting: it uses ONNX Runtime's default (one per physical "
              f"core), not {threads}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = {m: export_for_tools(m, tmp / "models") for m in models}
        for i in range(args.rounds):
            first = _ours(models, threads, tmp / f"ours{i}a")
            tools = {}
            for m in models:
                tools[(m, "openvino")] = ("benchmark_app (median)",
                                          benchmark_app_ms(files[m]["openvino"], files[m]["shape"], threads,
                                                           args.seconds))
                ms = first.get((m, "onnxruntime"), (10.0,))[0]
                iterations = max(20, int(1e3 * args.seconds / ms))
                tools[(m, "onnxruntime")] = (f"onnxruntime_test (mean of {iterations})",
                                             onnxruntime_test_ms(files[m]["onnx"], iterations))
            second = _ours(models, threads, tmp / f"ours{i}b")
            print(f"round {i + 1} of {args.rounds}:")
            for (m, runtime), (tool, theirs) in tools.items():
                mine = [x for x in (first.get((m, runtime)), second.get((m, runtime))) if x]
                said = "; ".join(f"{v:.2f} [{lo:.2f}, {hi:.2f}]" for v, lo, hi in mine) or "not measured"
                centre = sum(v for v, _, _ in mine) / len(mine) if mine else float("nan")
                ratio = theirs / centre if mine else float("nan")
                gap = abs(ratio - 1) > GAP
                print(f"  {m:<12} {runtime:<12} ours {said} (before, after) | {tool} {theirs:.2f} | "
                      f"tool / ours {ratio:.2f}{'  GAP over 10 %' if gap else ''}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
