"""`python -m helpers evaluate` end to end on a generated ImageFolder, with checkpoints whose
predictions are known by construction, and the measured-accuracy tables built from its rows."""
from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import pandas as pd
import pytest
import torch
from PIL import Image
from scipy.stats import binomtest

from helpers.analysis.accuracy import CLAIMS_TOP1_COLUMNS, MEASURED_COLUMNS, measured_accuracy, top1_for_claims
from helpers.cli.commands import main
from helpers.core.reference import PAPER_MODELS, paper_models
from helpers.core.stats import wilson_interval
from helpers.measure import accuracy
from helpers.measure.accuracy import ACCURACY_BATCH_SIZE, file_sha256
from helpers.store.machine import device_tag
from helpers.store.results import ResultsStore, environment_fingerprint, load_results, make_row

# Six classes, sorted: c0 holds 3 of the 9 images, c5 holds 2.
COUNTS = {"c0": 3, "c1": 1, "c2": 1, "c3": 1, "c4": 1, "c5": 2}
N = sum(COUNTS.values())


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("imagenet") / "val"
    for name, n in COUNTS.items():
        for i in range(n):
            path = root / name / f"{i}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (32 + 4 * i, 24), (40 * i, 90, 200)).save(path)
    return root


def _checkpoint(path: Path, ranking: list[float]) -> Path:
    """A ResNet-18 with 6 outputs whose logits are ``ranking`` for every image:
    its last layer's weights are zero, so the bias alone decides."""
    from helpers.models.zoo import build_model

    net = build_model("ResNet-18", num_classes=len(COUNTS))
    with torch.no_grad():
        net.fc.weight.zero_()
        net.fc.bias.copy_(torch.tensor(ranking))
    torch.save(net.state_dict(), path)
    return path


@pytest.fixture(scope="module")
def first_class(tmp_path_factory) -> Path:
    """Ranks c0 > c1 > ... > c5: top-1 exactly 3/9 (c0), top-5 7/9 (all but c5)."""
    return _checkpoint(tmp_path_factory.mktemp("ckpt") / "first.pt", [5.0, 4.0, 3.0, 2.0, 1.0, 0.0])


@pytest.fixture(scope="module")
def last_class(tmp_path_factory) -> Path:
    """Ranks c5 > c4 > ... > c0: top-1 exactly 2/9 (c5), top-5 6/9 (all but c0)."""
    return _checkpoint(tmp_path_factory.mktemp("ckpt") / "last.pt", [0.0, 1.0, 2.0, 3.0, 4.0, 5.0])


def evaluate(out: Path, checkpoint: Path, data: Path, *extra: str, model: str = "ResNet-18") -> int:
    return main(["evaluate", "--model", model, "--checkpoint", str(checkpoint), "--data", str(data),
                 "--crop", "16", "--resize", "20", "--device", "cpu", "--out", str(out), *extra])


def store_of(out: Path) -> ResultsStore:
    return ResultsStore.for_device(device_tag("cpu"), root=out)


def raw_lines(out: Path) -> int:
    path = store_of(out).path
    return len(path.read_text().splitlines()) if path.exists() else 0


@pytest.fixture
def no_evaluation(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("evaluate_imagefolder must not run")

    monkeypatch.setattr(accuracy, "evaluate_imagefolder", fail)


def _wilson(k: int, n: int) -> tuple[float, float]:
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return 100 * ci.low, 100 * ci.high


# --------------------------------------------------------------------------
# the command
# --------------------------------------------------------------------------
def test_evaluate_stores_top1_and_top5_with_wilson_intervals(tmp_path, folder, first_class, capsys):
    assert evaluate(tmp_path, first_class, folder) == 0
    out = capsys.readouterr().out
    assert "stored in" in out and "top-1 33.33 %" in out and "top-5 77.78 %" in out

    table = store_of(tmp_path).read().set_index("metric")
    assert sorted(table.index) == ["top1", "top5"]
    fingerprint = environment_fingerprint("cpu", torch.get_num_threads())  # an empty store: torch's threads
    for metric, correct, k in (("top1", 3, 1), ("top5", 7, 5)):
        row = table.loc[metric]
        assert row["value"] == pytest.approx(100 * correct / N, abs=1e-12)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx(_wilson(correct, N), abs=1e-12)
        assert row["ci_low"] < row["value"] < row["ci_high"]
        assert (row["unit"], row["status"], row["n"], row["batch_size"]) == ("%", "ok", N, ACCURACY_BATCH_SIZE)
        assert row["model"] == "ResNet-18" and row["device"] == "cpu" and row["dtype"] == "float32"
        assert "central crop" in row["method"] and "resized to 20" in row["method"]
        assert row["fingerprint"] == fingerprint["fingerprint"] and row["threads"] == fingerprint["threads"]
        assert row["hardware"] == fingerprint["hardware"] and row["torch_version"] == torch.__version__
        details = json.loads(row["details"])
        assert details == {
            "checkpoint_sha256": file_sha256(first_class), "checkpoint": "first.pt", "data": str(folder.resolve()),
            "n_images": N, "n_classes": 6, "correct": correct, "k": k, "top5_k": 5, "crop_size": 16,
            "resize_size": 20, "limit": None, "eval_batch_size": 32, "interval": "Wilson score, 95%",
        }


def test_second_run_is_already_stored_and_force_evaluates_again(tmp_path, folder, first_class, capsys,
                                                                  monkeypatch):
    assert evaluate(tmp_path, first_class, folder) == 0
    assert raw_lines(tmp_path) == 3  # header, top5, top1
    capsys.readouterr()

    real = accuracy.evaluate_imagefolder
    calls = []

    def counting(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(accuracy, "evaluate_imagefolder", counting)
    assert evaluate(tmp_path, first_class, folder) == 0
    out = capsys.readouterr().out
    assert out.startswith("already stored in") and "top-1 33.33 %" in out and "--force" in out
    assert calls == [] and raw_lines(tmp_path) == 3

    assert evaluate(tmp_path, first_class, folder, "--force") == 0
    assert len(calls) == 1 and raw_lines(tmp_path) == 5
    assert calls[0]["crop_size"] == 16 and calls[0]["resize_size"] == 20
    table = store_of(tmp_path).read()
    assert len(table) == 2  # one row per key: the latest


def test_another_checkpoint_is_a_new_evaluation_and_the_latest_wins(tmp_path, folder, first_class, last_class,
                                                                     capsys, monkeypatch):
    assert evaluate(tmp_path, first_class, folder) == 0
    assert evaluate(tmp_path, last_class, folder) == 0  # same model and key, other checkpoint: evaluated
    assert "already stored" not in capsys.readouterr().out
    assert raw_lines(tmp_path) == 5
    latest = measured_accuracy(load_results(tmp_path, fingerprint=None)).loc["ResNet-18"]
    assert latest["top1_pct"] == pytest.approx(100 * 2 / 9) and latest["top5_pct"] == pytest.approx(100 * 6 / 9)
    assert latest["checkpoint_sha256"] == file_sha256(last_class)[:12]
    row = store_of(tmp_path).read().set_index("metric").loc["top1"]
    assert json.loads(row["details"])["checkpoint"] == "last.pt"

    # the first checkpoint again: what readers get is the other one's, so it is evaluated again
    monkeypatch.setattr(accuracy, "evaluate_imagefolder", _counted(accuracy.evaluate_imagefolder, calls := []))
    assert evaluate(tmp_path, first_class, folder) == 0
    assert len(calls) == 1
    assert measured_accuracy(load_results(tmp_path)).at["ResNet-18", "top1_pct"] == pytest.approx(100 / 3)

    # another protocol (a limit, another crop) is another evaluation too
    assert evaluate(tmp_path, first_class, folder, "--limit", "3") == 0
    assert len(calls) == 2 and calls[-1]["limit"] == 3
    row = store_of(tmp_path).read().set_index("metric").loc["top1"]
    # samples 0, 3 and 6 of the 9: c0, c1 and c4, of which c0 is right
    assert (row["n"], row["value"]) == (3, pytest.approx(100 / 3))
    assert json.loads(row["details"])["limit"] == 3
    assert evaluate(tmp_path, first_class, folder, "--limit", "3") == 0
    assert len(calls) == 2 and "already stored" in capsys.readouterr().out


def _counted(function, calls: list):
    def wrapper(*args, **kwargs):
        calls.append(kwargs)
        return function(*args, **kwargs)

    return wrapper


def test_accuracy_rows_join_the_latest_run_of_this_machine(tmp_path, folder, first_class):
    """A measurement run with other threads: the accuracy rows take its fingerprint, so that
    ``load_results`` (the latest run per device) shows the measurements and the accuracy together."""
    threads = torch.get_num_threads() + 3
    env = environment_fingerprint("cpu", threads)
    store = store_of(tmp_path)
    store.append(make_row(device_tag=store.device_tag, model="ResNet-18", batch_size=1, metric="latency_per_image",
                          value=0.01, unit="s", status="ok", **env))
    assert evaluate(tmp_path, first_class, folder) == 0
    table = load_results(tmp_path)
    assert set(table["metric"]) == {"latency_per_image", "top1", "top5"}
    assert set(table["fingerprint"]) == {env["fingerprint"]} and set(table["threads"]) == {threads}


def test_interrupted_evaluation_stores_nothing(tmp_path, folder, first_class, capsys, monkeypatch):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(accuracy, "evaluate_imagefolder", interrupt)
    assert evaluate(tmp_path, first_class, folder) == 130
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "nothing of this evaluation was stored" in err
    assert f"python -m helpers evaluate --model ResNet-18 --checkpoint {first_class}" in err
    assert raw_lines(tmp_path) == 0 and load_results(tmp_path).empty


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory, first_class) -> dict:
    """name -> (arguments in place of the defaults, text the one-line error must hold)."""
    root, checkpoint = tmp_path_factory.mktemp("bad"), first_class
    flat = root / "flat"
    flat.mkdir(exist_ok=True)
    Image.new("RGB", (8, 8)).save(flat / "image.png")
    empty_class = root / "empty_class"
    (empty_class / "c0").mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8)).save(empty_class / "c0" / "a.png")
    (empty_class / "c1").mkdir(exist_ok=True)
    (empty_class / "c1" / "notes.txt").write_text("no images here")
    broken = root / "broken.pt"
    state = torch.load(checkpoint, weights_only=True)
    del state["fc.bias"]
    torch.save(state, broken)
    pickled = root / "pickled.pt"
    torch.save({"state_dict": {"fc.bias": torch.zeros(6)}, "extra": Path("a path object")}, pickled)
    tensor = root / "tensor.pt"
    torch.save(torch.zeros(3), tensor)
    garbage = root / "notes.pt"
    garbage.write_text("not a checkpoint")
    return {
        "not a checkpoint": ({"--checkpoint": str(garbage)}, f"checkpoint {garbage} cannot be read"),
        "pickled objects": ({"--checkpoint": str(pickled)}, "Unsupported global"),
        "not a state_dict": ({"--checkpoint": str(tensor)}, "expected a state_dict"),
        "unknown model": ({"--model": "ResNet-19"}, "'ResNet-19'"),
        "preset": ({"--model": "paper"}, "'paper' is a preset"),
        "missing checkpoint": ({"--checkpoint": str(root / "absent.pt")}, "absent.pt"),
        "checkpoint not fitting": ({"--checkpoint": str(broken)}, "missing keys: fc.bias"),
        "missing data": ({"--data": str(root / "nowhere")}, "nowhere"),
        "data is a file": ({"--data": str(checkpoint)}, f"{checkpoint.resolve()} is a file"),
        "no class folders": ({"--data": str(flat)}, "no class subfolders"),
        "class without images": ({"--data": str(empty_class)}, "class folder 'c1' holds no images"),
        "crop": ({"--crop": "0"}, "--crop 0"),
        "resize below crop": ({"--resize": "12"}, "resize size 12 is smaller than the crop size 16"),
        "resize": ({"--resize": "-5"}, "--resize -5"),
        "limit": ({"--limit": "0"}, "--limit 0"),
        "batch size": ({"--batch-size": "0"}, "--batch-size 0"),
    }


CASES = ["not a checkpoint", "pickled objects", "not a state_dict", "unknown model", "preset",
         "missing checkpoint", "checkpoint not fitting", "missing data",
         "data is a file", "no class folders", "class without images", "crop", "resize below crop", "resize",
         "limit", "batch size"]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_exits_2_with_one_line_naming_it(case, bad_inputs, tmp_path, folder, first_class, capsys,
                                                   no_evaluation):
    changes, expected = bad_inputs[case]
    args = {"--model": "ResNet-18", "--checkpoint": str(first_class), "--data": str(folder), "--crop": "16",
            "--resize": "20", "--device": "cpu", "--out": str(tmp_path / "results"), **changes}
    argv = ["evaluate"] + [x for pair in args.items() for x in pair]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ")
    assert expected in err
    assert not (tmp_path / "results").exists() or load_results(tmp_path / "results").empty


def test_the_case_list_covers_every_bad_input(bad_inputs):
    assert sorted(CASES) == sorted(bad_inputs)


# --------------------------------------------------------------------------
# measured accuracy and the top-1 the claims use
# --------------------------------------------------------------------------
TAG = "cpu-test-host"


def _row(model: str, metric: str, correct: int, n: int, timestamp: str, sha: str = "ab" * 32,
         fingerprint: str = "f1", status: str = "ok", data: str = "/data/val", **details):
    low, high = wilson_interval(correct, n)
    fields = dict(device_tag=TAG, fingerprint=fingerprint, model=model, batch_size=1, metric=metric, unit="%",
                  status=status, timestamp=timestamp, device="cpu", threads=2,
                  details={"checkpoint_sha256": sha, "data": data, "crop_size": 224, "resize_size": 256,
                           "limit": None, "n_images": n, "n_classes": 1000, "top5_k": 5, "correct": correct,
                           **details})
    if status == "ok":
        fields.update(value=100 * correct / n, ci_low=low, ci_high=high, n=n)
    else:
        fields.update(reason="failed")
    return make_row(**fields)


def _frame(*rows) -> pd.DataFrame:
    from helpers.store.results import _frame as typed

    return typed(rows)


def test_wilson_interval_is_scipys_in_percent():
    assert wilson_interval(3, 9) == pytest.approx(_wilson(3, 9))
    assert wilson_interval(0, 9)[0] == 0.0 and wilson_interval(9, 9)[1] == 100.0
    with pytest.raises(ValueError):
        wilson_interval(10, 9)


def test_measured_accuracy_latest_wins_and_pairs_top5():
    frame = _frame(
        _row("ResNet-18", "top5", 4400, 5000, "2025-01-01T00:00:00+00:00"),
        _row("ResNet-18", "top1", 3500, 5000, "2025-01-01T00:00:00+00:00"),
        # a later evaluation with another checkpoint, on another fingerprint (another key)
        _row("ResNet-18", "top5", 4450, 5000, "2025-02-01T00:00:00+00:00", sha="cd" * 32, fingerprint="f2"),
        _row("ResNet-18", "top1", 3480, 5000, "2025-02-01T00:00:00+00:00", sha="cd" * 32, fingerprint="f2"),
        # an even later top5 without its top1 (an interrupted write): not paired with anything
        _row("VGG-16", "top5", 450, 500, "2025-03-01T00:00:00+00:00", sha="ee" * 32),
        _row("VGG-16", "top1", 350, 500, "2025-01-15T00:00:00+00:00"),
        _row("alexnet", "top1", 0, 10, "2025-01-15T00:00:00+00:00", status="error"),
        make_row(device_tag=TAG, model="ResNet-18", batch_size=1, metric="latency_per_image", value=0.01,
                 unit="s", status="ok"),
    )
    table = measured_accuracy(frame)
    assert list(table.columns) == list(MEASURED_COLUMNS) and table.index.name == "model"
    assert list(table.index) == ["VGG-16", "ResNet-18"]  # the paper's order; the errored alexnet left out
    r18 = table.loc["ResNet-18"]
    assert r18["top1_pct"] == pytest.approx(69.6) and r18["top5_pct"] == pytest.approx(89.0)
    assert (r18["top1_ci_low"], r18["top1_ci_high"]) == pytest.approx(wilson_interval(3480, 5000))
    assert (r18["top5_ci_low"], r18["top5_ci_high"]) == pytest.approx(wilson_interval(4450, 5000))
    assert r18["checkpoint_sha256"] == "cd" * 6 and r18["n_images"] == 5000
    assert r18["label"] == "measured: 5,000 images, 95 % Wilson interval"
    assert (r18["data"], r18["device_tag"]) == ("/data/val", TAG)
    vgg = table.loc["VGG-16"]
    assert vgg["top1_pct"] == pytest.approx(70.0) and math.isnan(vgg["top5_pct"])
    assert str(table["n_images"].dtype) == "Int64"

    # two keys (fingerprints, or device tags, as load_results(fingerprint=None) concatenates them):
    # the later timestamp wins whatever the frame's order
    again = _frame(_row("ResNet-18", "top1", 3600, 5000, "2025-05-01T00:00:00+00:00", fingerprint="f2"),
                   _row("ResNet-18", "top1", 3500, 5000, "2025-04-01T00:00:00+00:00"))
    assert measured_accuracy(again).at["ResNet-18", "top1_pct"] == pytest.approx(72.0)
    # one key twice (a --force re-evaluation): the store's reader keeps the last row written
    forced = _frame(_row("ResNet-18", "top1", 3500, 5000, "2025-04-01T00:00:00+00:00"),
                    _row("ResNet-18", "top1", 3550, 5000, "2025-04-01T00:00:00+00:00"))
    assert measured_accuracy(forced).at["ResNet-18", "top1_pct"] == pytest.approx(71.0)


def test_measured_accuracy_empty_and_few_classes():
    for frame in (None, _frame(), _frame(make_row(device_tag=TAG, model="m", batch_size=1, metric="memory_peak",
                                                  value=1.0, unit="MB", status="ok"))):
        empty = measured_accuracy(frame)
        assert empty.empty and list(empty.columns) == list(MEASURED_COLUMNS)
    few = measured_accuracy(_frame(_row("tiny", "top1", 3, 9, "2025-01-01T00:00:00+00:00", top5_k=3,
                                        n_classes=3)))
    assert few.at["tiny", "label"] == "measured: 9 images, 95 % Wilson interval (top-5 is top-3: 3 classes)"


def test_top1_for_claims_measured_where_stored_else_the_papers():
    paper = paper_models()
    frame = _frame(_row("ResNet-18", "top1", 3500, 5000, "2025-01-01T00:00:00+00:00"),
                   _row("resnet50", "top1", 3800, 5000, "2025-01-01T00:00:00+00:00"))
    table = top1_for_claims(frame, ["ResNet-18", "VGG-16", "resnet50", "not_a_model"])
    assert list(table.columns) == list(CLAIMS_TOP1_COLUMNS)
    assert list(table["model"]) == ["ResNet-18", "VGG-16", "resnet50"]  # unknown and unmeasured: omitted
    by = table.set_index("model")
    assert by.loc["ResNet-18", "source"] == "measured" and by.loc["ResNet-18", "top1_pct"] == pytest.approx(70.0)
    assert (by.loc["ResNet-18", "ci_low"], by.loc["ResNet-18", "ci_high"]) == pytest.approx(
        wilson_interval(3500, 5000))
    assert by.loc["ResNet-18", "label"] == "measured (5,000 images)" and by.loc["ResNet-18", "n_images"] == 5000
    assert by.loc["VGG-16", "source"] == "paper"
    assert by.loc["VGG-16", "top1_pct"] == paper.at["VGG-16", "top1_pct"]
    assert by.loc["VGG-16", "label"] == paper.at["VGG-16", "top1_source"]
    assert math.isnan(by.loc["VGG-16", "ci_low"]) and math.isnan(by.loc["VGG-16", "ci_high"])
    assert pd.isna(by.loc["VGG-16", "n_images"])

    everything = top1_for_claims(frame)  # the paper's 14, then the other measured models
    assert list(everything["model"]) == [*PAPER_MODELS, "resnet50"]
    assert (everything["source"] == "measured").sum() == 2
    nothing = top1_for_claims(None, "paper")
    assert list(nothing["model"]) == list(PAPER_MODELS) and set(nothing["source"]) == {"paper"}
    assert list(nothing["top1_pct"]) == list(paper.loc[list(PAPER_MODELS), "top1_pct"])
    assert top1_for_claims(None, ["resnet50"]).empty


def test_stored_rows_feed_top1_for_claims(tmp_path, folder, first_class):
    assert evaluate(tmp_path, first_class, folder) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        row = top1_for_claims(load_results(tmp_path), ["ResNet-18"]).iloc[0]
    assert (row["source"], row["n_images"], row["label"]) == ("measured", 9, "measured (9 images)")
    assert row["top1_pct"] == pytest.approx(100 / 3)


@pytest.mark.parametrize("argv", [["--help"], ["evaluate", "--help"]])
def test_help_lists_the_command(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    out = capsys.readouterr().out
    expected = ["evaluate", "95 % Wilson"] if argv == ["--help"] else ["--checkpoint", "--resize", "--force"]
    assert all(text in out for text in expected)
