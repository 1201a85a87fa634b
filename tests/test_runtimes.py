"""The runtimes study: PyTorch eager, ONNX Runtime and OpenVINO timed by the same engine (helpers.measure.runtimes)."""
import json
import math
from types import SimpleNamespace

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
    # OpenVINO's label says its graph is static: its rows from the dynamic graph are another fingerprint
    assert runtimes.runtime_label("openvino").endswith(" static shapes")
    assert fingerprint("cpu", 1, runtime=runtimes.runtime_label("openvino").removesuffix(" static shapes")).id != ov.id


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


def test_openvino_compiles_the_points_static_shape():
    from helpers.models.zoo import build_model, example_input

    model = build_model("ENet").eval()
    for batch in (1, 3):
        x = example_input("ENet", batch)
        shape = runtimes.openvino_graph(model, x).input(0).get_partial_shape()
        assert shape.is_static and [d.get_length() for d in shape] == list(x.shape)


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
    graphs = warm.compilations()
    with torch.inference_mode():  # the timed passes' input: an inference tensor, which the graph was compiled for
        warm.run(x.clone())
    assert warm.compilations() == graphs and cold.compilations() == graphs > 0
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


def test_an_output_that_is_zero_everywhere_is_timed_but_its_agreement_is_said_not_compared(monkeypatch):
    import torch

    from helpers.analysis.studies import runtimes_summary
    from helpers.measure import worker

    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Flatten(), torch.nn.LazyLinear(10)).eval()
    x = torch.randn(1, 3, 8, 8)
    model(x)
    torch.nn.init.zeros_(model[2].weight), torch.nn.init.zeros_(model[2].bias)  # a zero-initialised head
    wrong = runtimes.Converted(lambda inp: model(inp) + 1.0, 0.1, "onnxruntime")
    assert math.isnan(runtimes.agreement(model, wrong, x))  # nothing to compare: any runtime would agree
    monkeypatch.setattr(runtimes, "agreement", lambda model, converted, x: float("nan"))
    model, spec, visit = _visit_args()
    out = worker._runtime_visit(model, spec, "cpu", 1, visit, FAST, "engine", "openvino")
    assert out["status"] == "ok" and "agreement" not in out
    assert out["agreement_unchecked"] == runtimes.UNCHECKED_ZERO_OUTPUT
    rows = _rows({("eager", "A"): (0.04, 1.02), ("openvino", "A"): (0.02, 1.02), ("eager", "V"): (0.2, 1.02)})
    rows = pd.concat([rows, pd.DataFrame([make_row(
        device_tag="cpu-x", model="V", batch_size=1, metric="latency_per_image", value=0.1, ci_low=0.09, ci_high=0.11,
        unit="s", status="ok", n=3, details={"runtime": "openvino",
                                              "agreement_unchecked": runtimes.UNCHECKED_ZERO_OUTPUT})]).assign(
        runtime="openvino")], ignore_index=True)
    table = runtimes_table(rows).set_index(["model", "runtime"])
    assert math.isnan(table.at[("V", "openvino"), "agreement"]) and table.at[("A", "openvino"), "agreement_note"] == ""
    text = runtimes_summary(runtimes_table(rows))
    assert "Every output it timed was within 1.0e-06" in text
    assert f"Outputs of V are {runtimes.UNCHECKED_ZERO_OUTPUT}." in text


def test_timed_passes_that_recompile_are_an_error_never_a_time(monkeypatch, tmp_path):
    import torch

    from helpers.measure import worker

    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "inductor"))

    def compiled_for_plain_tensors(model, x, runtime, threads):  # the graph a plain tensor's guards admit
        compiled = torch.compile(model, backend="inductor", dynamic=False)
        with torch.no_grad():
            compiled(x)
        return runtimes.Converted(lambda inp: compiled(inp), 0.5, "compile")

    monkeypatch.setattr(runtimes, "convert", compiled_for_plain_tensors)
    torch._dynamo.reset()
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU()).eval()
    spec = SimpleNamespace(name="Tiny", input_size=(3, 8, 8))
    import helpers.models.zoo as zoo

    monkeypatch.setattr(zoo, "example_input", lambda s, b, device="cpu", dtype=None: torch.randn(b, 3, 8, 8))
    _, _, visit = _visit_args()
    out = worker._runtime_visit(model, spec, "cpu", 1, visit, FAST, "engine", "compile")
    assert out["status"] == "error", out
    assert out["reason"].startswith("compile compiled 1 more graph(s) during the timed passes (a guard failed)")


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


def _rows(values: dict, batch_size: int = 1) -> pd.DataFrame:
    out = []
    for key, (v, spread) in values.items():
        runtime, model, batch = key if len(key) == 3 else (*key, batch_size)
        out.append(make_row(device_tag="cpu-x", model=model, batch_size=batch, metric="latency_per_image", value=v,
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


def test_the_runtimes_command_says_a_missing_eager_point_and_an_uncompared_output(tmp_path, monkeypatch, capsys):
    from helpers.store.results import STUDY_FILES

    tag = device_tag("cpu")
    rows = pd.DataFrame([make_row(device_tag=tag, model="ENet", batch_size=1, metric="latency_per_image", value=0.01,
                                  ci_low=0.009, ci_high=0.011, unit="s", status="ok", n=3,
                                  details={"runtime": "openvino",
                                           "agreement_unchecked": runtimes.UNCHECKED_ZERO_OUTPUT})])
    (tmp_path / tag).mkdir()
    rows.to_csv(tmp_path / tag / STUDY_FILES["runtimes"], index=False)
    monkeypatch.setattr(studies, "measure_runtimes", lambda *a, **k: [])  # the store already holds the point
    assert main(["runtimes", "--models", "ENet", "--batch-sizes", "1", "--runtimes", "openvino",
                 "--out", str(tmp_path)]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "ENet" in x)
    assert "speed-up - (no eager point in this store)" in line and "nan" not in line
    assert f"output {runtimes.UNCHECKED_ZERO_OUTPUT}" in line


def test_the_runtimes_command_names_a_bad_runtime(tmp_path):
    assert main(["runtimes", "--runtimes", "tensorrt", "--out", str(tmp_path)]) == 2


def test_the_summary_says_each_runtimes_gain_the_fastest_the_order_and_what_was_not_timed():
    from helpers.analysis.studies import runtime_ranking, runtimes_summary

    rows = _rows({("eager", "A"): (0.040, 1.02), ("onnxruntime", "A"): (0.020, 1.02),
                  ("eager", "B"): (0.030, 1.02), ("onnxruntime", "B"): (0.060, 1.02),
                  ("eager", "C"): (0.010, 1.02), ("onnxruntime", "C"): (0.011, 1.3)})
    refused = make_row(device_tag="cpu-x", model="D", batch_size=1, metric="latency_per_image", status="unavailable",
                       reason="onnxruntime cannot take D: RuntimeError: no", details={"runtime": "onnxruntime"})
    frame = pd.concat([rows, pd.DataFrame([refused]).assign(runtime="onnxruntime")], ignore_index=True)
    table = runtimes_table(frame)
    ranking = runtime_ranking(table).iloc[0]
    # eager orders A > B > C, onnxruntime B > A > C: one pair of three flips, tau = (2 - 1) / 3
    assert ranking["n"] == 3 and ranking["flipped_pairs"] == 1 and ranking["tau"] == pytest.approx(1 / 3)
    text = runtimes_summary(table)
    assert "At batch 1, ONNX Runtime ran 0.50 to 2.00x eager's speed over 3 networks (1 faster and 1 slower" in text
    assert ("Fastest at batch 1: PyTorch eager for 2 (1 beyond every other runtime's interval), ONNX Runtime for 1 "
            "(1 beyond every other runtime's interval)") in text
    assert ranking["tau_ci_low"] <= ranking["tau"] <= ranking["tau_ci_high"]
    assert ranking["flipped_beyond_noise"] == 1  # A and B: 2 % intervals, apart in both runtimes
    assert (f"Kendall's tau 0.33 [{ranking['tau_ci_low']:.2f}, {ranking['tau_ci_high']:.2f}] over 3 networks, "
            "1 of 3 pairs in the other order, 1 of them beyond both points' intervals") in text
    assert "ONNX Runtime has no time for D: onnxruntime cannot take the network: RuntimeError: no." in text
    assert runtimes_summary(runtimes_table(_rows({("eager", "A"): (0.04, 1.02)}))).startswith(
        "The runtimes study holds no runtime beside eager")


def test_a_reordering_is_counted_beyond_the_noise_only_where_the_intervals_say_so():
    from scipy.stats import kendalltau

    from helpers.analysis.studies import runtime_ranking

    times = {m: 0.01 * (i + 1) for i, m in enumerate("ABCDEFGH")}
    # the runtime reverses the order, each point measured within 2 %: every pair flips, beyond the noise
    reversed_ = _rows({**{("eager", m): (t, 1.02) for m, t in times.items()},
                       **{("onnxruntime", m): (0.1 - t, 1.02) for m, t in times.items()}})
    r = runtime_ranking(runtimes_table(reversed_)).iloc[0]
    assert r["tau"] == pytest.approx(-1) and r["tau_ci_high"] == pytest.approx(-1)
    assert r["flipped_pairs"] == r["flipped_beyond_noise"] == 28
    # neighbours swapped, each point within 2x: the pairs flip, but within the noise
    swapped = dict(zip("ABCDEFGH", "BADCFEHG"))
    noisy = _rows({**{("eager", m): (t, 2.0) for m, t in times.items()},
                   **{("onnxruntime", m): (times[swapped[m]] / 2, 2.0) for m, t in times.items()}})
    r = runtime_ranking(runtimes_table(noisy)).iloc[0]
    assert r["flipped_pairs"] == 4 and r["flipped_beyond_noise"] == 0
    a, b = list(times.values()), [times[swapped[m]] for m in times]
    assert r["tau"] == pytest.approx(kendalltau(a, b).statistic)  # tau-b, as scipy computes it
    assert r["tau_ci_low"] < r["tau"] <= r["tau_ci_high"] <= 1


def test_a_speedups_interval_is_its_own_whatever_else_the_table_holds():
    from helpers.analysis.fits import lognormal_draws, percentile_interval

    one = {("eager", "A"): (0.040, 1.1), ("openvino", "A"): (0.020, 1.3)}
    more = {**one, **{(r, m): (0.01 * (i + 1), 1.2) for i, m in enumerate("BCDEF") for r in ("eager", "openvino")}}
    alone = runtimes_table(_rows(one)).set_index(["model", "runtime"]).loc[("A", "openvino")]
    among = runtimes_table(_rows(more)).set_index(["model", "runtime"]).loc[("A", "openvino")]
    for c in ("speedup", "speedup_ci_low", "speedup_ci_high"):
        assert alone[c] == among[c]
    # the closed form is what log-normal draws of both points give
    a = lognormal_draws([0.040], [0.040 / 1.1], [0.040 * 1.1], size=200_000, seed=1)[:, 0]
    b = lognormal_draws([0.020], [0.020 / 1.3], [0.020 * 1.3], size=200_000, seed=2)[:, 0]
    low, high = percentile_interval(a / b)
    assert alone["speedup_ci_low"] == pytest.approx(low, rel=0.01)
    assert alone["speedup_ci_high"] == pytest.approx(high, rel=0.01)


def test_batching_and_operations_are_ruled_per_runtime_and_can_fail_through_one():
    from helpers.analysis.claims import DOES_NOT_HOLD, HOLDS, runtime_claims_table
    from helpers.core.reference import PAPER_MODELS
    from helpers.counting.table import count_table

    counts = count_table(PAPER_MODELS, thop=False, progress=False)
    gops = counts.set_index("model")["gops"] if "model" in counts.columns else counts["gops"]
    values = {}
    for model in PAPER_MODELS:
        g = float(gops[model])
        values[("eager", model, 1)] = (0.01 * g, 1.02)  # time proportional to operations, halved at batch 16
        values[("eager", model, 16)] = (0.005 * g, 1.02)
        values[("onnxruntime", model, 1)] = (0.01 / g, 1.02)  # time falling as operations rise, rising with the batch
        values[("onnxruntime", model, 16)] = (0.02 / g, 1.02)
    table = runtime_claims_table(_rows(values), "cpu-x", counts=counts, parts=["C3a", "C8a"])
    assert list(dict.fromkeys(table["runtime"])) == ["eager", "onnxruntime"]
    verdict = table.set_index(["runtime", "claim", "basis"])["verdict"]
    c3 = table[(table["claim"] == "C3a") & table["basis"].str.contains("16")]
    assert set(c3[c3["runtime"] == "eager"]["verdict"]) == {HOLDS}
    assert set(c3[c3["runtime"] == "onnxruntime"]["verdict"]) == {DOES_NOT_HOLD}
    c8 = table[(table["claim"] == "C8a") & table["basis"].str.startswith("batch 1,")]
    assert set(c8[c8["runtime"] == "eager"]["verdict"]) == {HOLDS}, verdict
    assert set(c8[c8["runtime"] == "onnxruntime"]["verdict"]) == {DOES_NOT_HOLD}
    assert runtime_claims_table(pd.DataFrame()).empty
