"""The command line, run as a user would (a subprocess)."""
import io
import re
import subprocess
import sys

import pandas as pd
import pytest

from helpers.cli.commands import main
from helpers.core.paths import REPO_ROOT


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "helpers", *args], capture_output=True, text=True,
                          cwd=REPO_ROOT, timeout=300)


def test_models_lists_paper_models_with_input_size():
    result = run_cli("models", "--preset", "paper")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 14
    assert lines[0].split()[:2] == ["AlexNet", "224"]
    assert any(line.split()[:2] == ["Inception-v3", "299"] for line in lines)


def test_output_into_a_closed_pipe_ends_quietly():
    """`python -m helpers models | head -0`: the reader is gone before the first line is written."""
    proc = subprocess.Popen([sys.executable, "-m", "helpers", "models"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=REPO_ROOT)
    proc.stdout.close()  # before the command writes: it imports torch first
    _, err = proc.communicate(timeout=300)
    err = err.decode()
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert proc.returncode == 141  # as a process that SIGPIPE ended


def test_help_lists_every_command_and_each_delegated_one_has_its_own():
    listed = run_cli("--help")
    assert listed.returncode == 0, listed.stderr
    for command in ("models", "count", "measure", "claims", "reproduce", "bench", "gallery", "setup-check"):
        assert f"    {command}" in listed.stdout, command
    for command in ("bench", "bench-runtimes", "gallery", "setup-check"):
        own = run_cli(command, "--help")
        assert own.returncode == 0, own.stderr
        assert own.stdout.startswith(f"usage: python -m helpers {command}"), own.stdout


def test_the_runtime_tools_figures_are_read_from_their_reports_or_the_error_says_what_they_printed():
    from helpers.cli.bench_runtimes import parse_benchmark_app, parse_onnxruntime_test

    report = ("[ INFO ] Latency:\n[ INFO ]    Median:        10.52 ms\n[ INFO ]    Average:       10.90 ms\n"
              "[ INFO ]    Min:           9.80 ms\n")
    assert parse_benchmark_app(report) == 10.52
    assert parse_onnxruntime_test("model: main_graph\niterations: 300\navg latency: 18.25 ms\n") == 18.25
    with pytest.raises(ValueError, match="benchmark_app printed no median latency: ...Error: no such device"):
        parse_benchmark_app("Error: no such device")
    with pytest.raises(ValueError, match="onnxruntime_test printed no average latency"):
        parse_onnxruntime_test("Traceback ...")


def test_makefile_runs_every_command_through_python_m_helpers():
    makefile = (REPO_ROOT / "Makefile").read_text()
    entry_points = re.findall(r"-m (helpers\S*)", makefile)
    assert entry_points and set(entry_points) == {"helpers"}, entry_points


def test_count_csv_has_paper_values_and_differences():
    result = run_cli("count", "ResNet-18", "GoogLeNet", "--csv")
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(io.StringIO(result.stdout))
    assert list(table.columns[:6]) == ["model", "input_size", "params", "gmacs", "gops", "gops_2016"]
    row = table.set_index("model").loc["ResNet-18"]
    assert row["params"] == 11_689_512 and row["params_m_paper"] == 11.69
    assert row["gops_published"] == 3.63 and abs(row["gops_2016_diff_pct"]) < 0.25
    assert "gops_paper" not in table.columns


def test_count_csv_honours_groups_by_default():
    result = run_cli("count", "mobilenet_v3_large", "--csv", "--no-thop")
    assert result.returncode == 0, result.stderr
    row = pd.read_csv(io.StringIO(result.stdout)).iloc[0]
    assert row["gops"] == pytest.approx(2 * row["gmacs"], rel=0.04)  # depthwise layers at their real cost
    assert row["gops_2016"] > 20 * row["gops"]  # counted dense, as the 2016 rules did
    assert "grouped convolutions" in row["note"]


def test_unknown_model_exits_nonzero_naming_it_and_suggesting():
    result = run_cli("count", "VGG16")
    assert result.returncode != 0
    assert "'VGG16'" in result.stderr and "VGG-16" in result.stderr


def test_accuracy_csv_reads_torchvision_metadata():
    from torchvision.models import ResNet50_Weights

    result = run_cli("accuracy", "resnet50", "ResNet-50", "--csv")
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(io.StringIO(result.stdout))
    assert list(table["model"]) == ["resnet50", "resnet50", "ResNet-50", "ResNet-50"]
    for row in table.itertuples():
        entry = ResNet50_Weights[row.weights.split(".", 1)[1]]
        assert row.acc1 == pytest.approx(entry.meta["_metrics"]["ImageNet-1K"]["acc@1"])
        assert (row.crop_size, row.resize_size) == (entry.transforms().crop_size[0], entry.transforms().resize_size[0])
    assert table.loc[table["model"] == "ResNet-50", "top1_paper"].tolist() == [75.99, 75.99]
    assert set(table.loc[table["model"] == "resnet50", "acc1"].round(3)) == {76.13, 80.858}


def test_accuracy_unknown_model_exits_2_naming_it():
    result = run_cli("accuracy", "resnet5O")
    assert result.returncode == 2
    assert "'resnet5O'" in result.stderr and "resnet50" in result.stderr


# ------------------------------------------------------------------ claims

def test_claims_on_the_papers_numbers_rule_every_part_they_can_as_holding(capsys):
    import io

    from helpers.analysis.claims import CLAIM_COLUMNS, DOES_NOT_HOLD, HOLDS, NOT_MEASURABLE

    assert main(["claims", "--paper-data", "--csv"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out), keep_default_na=False)
    assert list(table.columns) == list(CLAIM_COLUMNS)
    ruled = table[table["verdict"] != NOT_MEASURABLE]
    # every part they can rule holds, except C9e, which the paper's own table contradicts (tests/test_claims.py)
    assert len(ruled) >= 10 and set(ruled[ruled["claim"] != "C9e"]["verdict"]) == {HOLDS}
    assert set(ruled[ruled["claim"] == "C9e"]["verdict"]) == {DOES_NOT_HOLD}
    assert (table.loc[table["verdict"] == NOT_MEASURABLE, "reason"].str.contains("only a plot")).all()


def test_claims_of_a_recorded_run_name_the_device_and_bad_arguments_exit_2(tmp_path, capsys):
    from helpers.store.results import ResultsStore, make_row

    store = ResultsStore.for_device("cpu-test-2c", tmp_path)
    for model, t1, t64 in (("AlexNet", 0.03, 0.01), ("ResNet-18", 0.05, 0.04), ("ENet", 0.02, 0.019),
                           ("GoogLeNet", 0.04, 0.035)):
        for b, t in ((1, t1), (64, t64)):
            store.append(make_row(device_tag="cpu-test-2c", fingerprint="f0", model=model, batch_size=b,
                                  metric="latency_per_image", value=t, unit="s", ci_low=t * 0.99, ci_high=t * 1.01,
                                  n=20, status="ok", hardware="Test CPU", threads=2,
                                  timestamp="2026-01-01T00:00:00+00:00"))
    assert main(["claims", "--results", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "== cpu-test-2c: Test CPU, 2 threads" in out and "C3b" in out and "HOLDS" in out
    assert main(["claims", "--results", str(tmp_path), "--device-tag", "nope"]) == 2
    assert "--device-tag 'nope'" in capsys.readouterr().err
    assert main(["claims", "--results", str(tmp_path / "missing")]) == 2
    assert main(["claims", "--paper-data", "--device-tag", "x"]) == 2


def test_reproduce_interrupted_prints_one_line_and_the_command_that_resumes(monkeypatch, capsys):
    from helpers.cli import reproduce as rep

    def interrupted(**kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(rep, "reproduce", interrupted)
    monkeypatch.setattr(sys, "argv", ["python -m helpers", "reproduce", "--profile", "quick"])
    assert main(["reproduce", "--profile", "quick"]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("interrupted:")
    assert "python -m helpers reproduce --profile quick" in err[0] and "Traceback" not in err[0]


def test_layers_measures_the_study_and_prints_each_types_share(tmp_path, capsys):
    assert main(["layers", "--models", "ENet", "--batch-sizes", "1,2", "--windows", "2", "--threads", "1",
                 "--device", "cpu", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "ENet on cpu-" in out and "share of the time per layer type" in out
    assert "Conv2d" in out and "b=1: 0." in out and "b=2: 0." in out and " ms [" in out
    assert main(["layers", "--models", "ENet", "--windows", "1", "--out", str(tmp_path)]) == 2
