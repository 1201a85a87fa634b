"""The runtimes study: PyTorch eager, ONNX Runtime and OpenVINO timed by the same engine (helpers.measure.runtimes)."""
import json

import numpy as np
import pandas as pd
import pytest

from helpers.analysis.studies import fastest_runtimes, runtimes_table
from helpers.cli.commands import main
from helpers.measure import runtimes, studies
from helpers.measure.profiles import EngineSettings
from helpers.store.machine import device_tag, fingerprint
from helpers.store.results import load_results, make_row

FAST = EngineSettings(round_time_s=0.02, point_cap_s=0.3, rounds=2, rounds_fast=2, max_rounds=2)


def test_runtime_names_versions_and_refusals_are_said():
    assert runtimes.parse_runtimes("eager, openvino") == ["eager", "openvino"]
    with pytest.raises(ValueError, match="runtime 'tensorrt': valid runtimes are eager, compile, onnxruntime, openvino"):
        runtimes.parse_runtimes(["tensorrt"])
    assert runtimes.runtime_label("eager") == ""
    assert runtimes.runtime_label("onnxruntime").startswith("onnxruntime 1.")
    assert "CPU only" in runtimes.unavailable_reason("openvino", "cuda:0")
    assert runtimes.unavailable_reason("onnxruntime", "cpu") is None


def test_eager_keeps_the_fingerprint_every_run_had_and_a_runtime_gets_its_own():
    eager = fingerprint("cpu", 1)
    assert eager.id == fingerprint("cpu", 1, runtime="").id
    ort = fingerprint("cpu", 1, runtime=runtimes.runtime_label("onnxruntime"))
    ov = fingerprint("cpu", 1, runtime=runtimes.runtime_label("openvino"))
    assert len({eager.id, ort.id, ov.id}) == 3


@pytest.mark.parametrize("runtime", ["onnxruntime", "openvino"])
def test_a_runtime_computes_the_same_function_as_eager(runtime):
    import torch

    from helpers.models.zoo import build_model, example_input

    model = build_model("ENet").eval()
    x = example_input("ENet", 2)
    converted = runtimes.convert(model, x, runtime, threads=1)
    assert converted.seconds > 0 and np.asarray(converted.run(x)).shape == (2, 1000)
    assert runtimes.agreement(model, converted, x) <= runtimes.AGREEMENT_TOLERANCE
    wrong = runtimes.Converted(lambda inp: model(inp) * 1.1, 0.1, runtime)  # not the same function
    with torch.inference_mode():
        assert runtimes.agreement(model, wrong, x) > runtimes.AGREEMENT_TOLERANCE


def test_torch_compile_is_the_same_function_and_says_whether_its_cache_held_the_graph(tmp_path, monkeypatch):
    import torch

    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "inductor"))  # a cold cache, then a warm one
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                                torch.nn.Linear(4 * 6 * 6, 10)).eval()
    x = torch.randn(2, 3, 8, 8)
    cold = runtimes.convert(model, x, "compile", threads=1)
    torch._dynamo.reset()  # a fresh process's dynamo, with the on-disk cache left as it is
    warm = runtimes.convert(model, x, "compile", threads=1)
    assert cold.cached is False and warm.cached is True and cold.seconds > 0
    assert runtimes.agreement(model, warm, x) <= runtimes.AGREEMENT_TOLERANCE
    assert runtimes.runtime_label("compile") == f"compile {runtimes.runtime_version('eager')}"
    assert runtimes.convert(model, x, "onnxruntime", threads=1).cached is None  # not a cache's to say


def test_a_cold_compilation_is_kept_apart_from_the_cached_ones():
    from types import SimpleNamespace

    from helpers.measure import sweep

    class Rec:
        def add(self, model, batch, metric, **row):
            self.row = row

    state = SimpleNamespace(model="A", batch=1, failed=None,
                            visits=[{"conversion_s": 21.4, "conversion_cached": False},
                                    {"conversion_s": 2.4, "conversion_cached": True},
                                    {"conversion_s": 2.5, "conversion_cached": True}])
    rec = Rec()
    sweep._conversion_row(rec, state, {})
    assert rec.row["n"] == 2 and 2.4 < rec.row["value"] < 2.5 and rec.row["ci_high"] < 21.4
    assert rec.row["details"] == {"cold_seconds": [21.4], "seconds": [2.4, 2.5]}
    assert "1 cold window(s) apart" in rec.row["method"]
    state.visits = state.visits[:1]  # every window cold: the row is theirs, and says so
    sweep._conversion_row(rec, state, {})
    assert rec.row["value"] == 21.4 and "none of them cached" in rec.row["method"]
    state.visits = [{"conversion_s": 1.0}, {"conversion_s": 1.2}]  # a runtime without a cache
    sweep._conversion_row(rec, state, {})
    assert rec.row["details"] == {"seconds": [1.0, 1.2]} and rec.row["n"] == 2


def _visit_args():
    from helpers.models import zoo

    spec = zoo.get_spec("ENet")
    return zoo.build_model(spec).eval(), spec, {"batch": 1, "budget_s": 0.02, "min_samples": 2, "min_samples_slow": 1,
                                                 "expected_pass_s": None}


def test_a_runtime_that_refuses_a_model_is_unavailable_with_its_message(monkeypatch):
    from helpers.measure import worker

    def refuse(model, x, runtime, threads):
        raise RuntimeError("Exporting the operator 'aten::foo' to ONNX is not supported")

    monkeypatch.setattr(runtimes, "convert", refuse)
    model, spec, visit = _visit_args()
    out = worker._runtime_visit(model, spec, "cpu", 1, visit, FAST, "engine", "onnxruntime")
    assert out["status"] == "unavailable"
    assert out["reason"] == ("onnxruntime cannot take ENet: RuntimeError: Exporting the operator 'aten::foo' to ONNX "
                             "is not supported")


def test_an_output_that_differs_from_eagers_is_an_error_saying_by_how_much(monkeypatch):
    from helpers.measure import worker

    monkeypatch.setattr(runtimes, "agreement", lambda model, converted, x: 0.25)
    model, spec, visit = _visit_args()
    out = worker._runtime_visit(model, spec, "cpu", 1, visit, FAST, "engine", "openvino")
    assert out["status"] == "error" and out["agreement"] == 0.25 and out["conversion_s"] > 0
    assert "openvino's output differs from eager's by 0.25 of eager's largest output (tolerance 0.001)" in out["reason"]


def test_the_study_stores_every_runtime_with_an_interval_and_says_what_it_cannot_read(tmp_path):
    prints = studies.measure_runtimes(["ENet"], [1], ["eager", "onnxruntime"], threads=1, results_root=tmp_path,
                                      settings=FAST, progress=False)
    assert len(set(prints)) == 2
    tag = device_tag("cpu")
    assert not (tmp_path / tag / "results.csv").exists()  # the batch sweep's store is untouched
    rows = load_results(tmp_path, study="runtimes")
    assert set(rows["runtime"]) == {"eager", "onnxruntime"}
    ort = rows[rows["runtime"] == "onnxruntime"].set_index("metric")
    assert ort.at["latency_per_image", "status"] == "ok" and ort.at["conversion_time", "status"] == "ok"
    assert ort.at["conversion_time", "value"] > 0 and ort.at["conversion_time", "unit"] == "s"
    details = json.loads(ort.at["latency_per_image", "details"])
    assert details["agreement_max"] <= runtimes.AGREEMENT_TOLERANCE and details["runtime"] == "onnxruntime"
    assert ort.at["memory_peak", "status"] == "unavailable" and "not separable" in ort.at["memory_peak", "reason"]
    eager = rows[rows["runtime"] == "eager"].set_index("metric")
    assert eager.at["memory_peak", "status"] == "ok"  # eager's memory is read as the sweep reads it
    table = runtimes_table(rows, tag).set_index("runtime")
    assert table.at["eager", "speedup"] == 1.0 and table.at["eager", "agreement"] == 0.0
    assert table.at["onnxruntime", "speedup_ci_low"] < table.at["onnxruntime", "speedup"] \
        < table.at["onnxruntime", "speedup_ci_high"]


def test_a_runtime_not_installed_gets_unavailable_rows_never_eagers(tmp_path, monkeypatch):
    monkeypatch.setattr(runtimes, "runtime_version",
                        lambda name: None if name == "openvino" else "1.0")
    studies.measure_runtimes(["ENet"], [1], ["openvino"], threads=1, results_root=tmp_path, settings=FAST,
                             progress=False)
    rows = load_results(tmp_path, study="runtimes")
    assert set(rows["status"]) == {"unavailable"} and set(rows["runtime"]) == {"openvino"}
    assert rows["reason"].str.startswith("openvino is not installed").all()
    assert rows["value"].isna().all()


def test_an_interrupted_study_loses_nothing_and_resumes(tmp_path, monkeypatch):
    from helpers.measure import sweep

    real = sweep._conversion_row
    calls = {"n": 0}

    def interrupted(rec, state, common):
        calls["n"] += 1
        if calls["n"] == 2:  # Ctrl-C as the second conversion's point is written
            raise KeyboardInterrupt
        return real(rec, state, common)

    monkeypatch.setattr(sweep, "_conversion_row", interrupted)
    with pytest.raises(KeyboardInterrupt):
        studies.measure_runtimes(["ENet"], [1, 2], ["eager", "onnxruntime"], threads=1, results_root=tmp_path,
                                 settings=FAST, progress=False)
    kept = load_results(tmp_path, study="runtimes")
    assert (kept[kept["runtime"] == "eager"]["status"] == "ok").sum() == 6  # eager: time and memory, 2 batches
    assert ((kept["runtime"] == "onnxruntime") & (kept["metric"] == "conversion_time")).sum() == 1
    monkeypatch.setattr(sweep, "_conversion_row", real)
    studies.measure_runtimes(["ENet"], [1, 2], ["eager", "onnxruntime"], threads=1, results_root=tmp_path,
                             settings=FAST, progress=False)
    rows = load_results(tmp_path, study="runtimes")
    table = runtimes_table(rows, device_tag("cpu"))
    assert len(table) == 4 and (table["status"] == "ok").all() and table["conversion_s"].notna().sum() == 2
    eager_rows = rows[rows["runtime"] == "eager"]
    assert len(eager_rows) == 6  # nothing measured twice


def _rows(values: dict) -> pd.DataFrame:
    out = []
    for (runtime, model), (v, spread) in values.items():
        out.append(make_row(device_tag="cpu-x", model=model, batch_size=1, metric="latency_per_image", value=v,
                            ci_low=v / spread, ci_high=v * spread, unit="s", status="ok", n=3,
                            details={"runtime": runtime, "agreement_max": 1e-6}))
    frame = pd.DataFrame(out)
    frame["runtime"] = [json.loads(d)["runtime"] for d in frame["details"]]
    return frame


def test_the_fastest_runtime_is_named_and_a_lead_within_the_noise_is_said():
    rows = _rows({("eager", "A"): (0.040, 1.02), ("onnxruntime", "A"): (0.020, 1.02), ("openvino", "A"): (0.010, 1.02),
                  ("eager", "B"): (0.040, 1.02), ("onnxruntime", "B"): (0.021, 1.2), ("openvino", "B"): (0.020, 1.2)})
    table = runtimes_table(rows)
    a = table[(table["model"] == "A")].set_index("runtime")
    assert a.at["openvino", "speedup"] == pytest.approx(4.0) and a.at["openvino", "speedup_ci_low"] > 3.5
    best = fastest_runtimes(table).set_index("model")
    assert best.at["A", "fastest"] == "openvino" and best.at["A", "clear"]
    assert best.at["B", "fastest"] == "openvino" and not best.at["B", "clear"]
    assert runtimes_table(pd.DataFrame()).empty


def test_the_runtimes_command_names_a_bad_runtime(tmp_path):
    assert main(["runtimes", "--runtimes", "tensorrt", "--out", str(tmp_path)]) == 2
