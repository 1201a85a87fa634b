"""The threads and precision studies: native support only, their own stores, speed-ups with intervals."""
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from helpers.analysis import studies as study_tables
from helpers.core.paths import REPO_ROOT
from helpers.measure import dtypes as precision
from helpers.measure import hardware, studies
from helpers.measure.profiles import EngineSettings
from helpers.store import characterisation
from helpers.store.machine import device_tag
from helpers.store.results import ResultsStore, load_results, make_row

FAST = EngineSettings(round_time_s=0.02, point_cap_s=0.3, rounds=2, rounds_fast=2, max_rounds=2)
SKYLAKE_FLAGS = "fpu avx2 avx512f avx512bw"
SAPPHIRE_FLAGS = "fpu avx2 avx512f avx512_bf16 avx512_fp16 amx_tile amx_bf16"


def cpu(flags: str) -> hardware.CpuInfo:
    return hardware.CpuInfo(arch="x86", model_name="test", vendor="Intel", flags=frozenset(flags.split()))


# --------------------------------------------------------------------------- precision
def test_support_is_native_only_and_says_why_not():
    assert precision.support("fp32", "cpu", cpuinfo=cpu(SKYLAKE_FLAGS)) is None
    assert "avx512_bf16" in precision.support("bf16", "cpu", cpuinfo=cpu(SKYLAKE_FLAGS))
    assert "avx512_fp16" in precision.support("fp16", "cpu", cpuinfo=cpu(SKYLAKE_FLAGS))
    assert precision.support("bf16", "cpu", cpuinfo=cpu(SAPPHIRE_FLAGS)) is None
    assert precision.support("fp16", "cpu", cpuinfo=cpu(SAPPHIRE_FLAGS)) is None
    assert "CPU only" in precision.support("int8", "cuda:0", "ResNet-18")
    assert "no quantisable version of AlexNet" in precision.support("int8", "cpu", "AlexNet")
    with pytest.raises(ValueError, match="'int4'.*fp32, bf16, fp16, int8"):
        precision.support("int4", "cpu")


def test_parse_precisions_and_dtype_names():
    assert precision.parse_precisions("fp32, bf16,fp32") == ["fp32", "bf16"]
    assert [precision.dtype_name(p) for p in precision.PRECISIONS] == ["float32", "bfloat16", "float16", "int8"]
    with pytest.raises(ValueError, match="'tf32'"):
        precision.parse_precisions("fp32,tf32")


def test_prepare_model_refuses_an_unsupported_type_instead_of_emulating_it(monkeypatch):
    from helpers.models.zoo import get_spec

    monkeypatch.setattr(hardware, "read_cpuinfo", lambda path=None: cpu(SKYLAKE_FLAGS))
    with pytest.raises(ValueError, match="ResNet-18 in bf16 on cpu: .*avx512_bf16"):
        precision.prepare_model(get_spec("ResNet-18"), "bf16")
    monkeypatch.setattr(hardware, "read_cpuinfo", lambda path=None: cpu(SAPPHIRE_FLAGS))
    model = precision.prepare_model(get_spec("ENet"), "bf16")
    assert {p.dtype for p in model.parameters()} == {torch.bfloat16}


@pytest.mark.skipif(precision.int8_engine() is None, reason="torch offers no quantised engine here")
def test_int8_model_is_quantised_and_runs():
    from helpers.models.zoo import get_spec

    model = precision.prepare_model(get_spec("ResNet-18"), "int8")
    kinds = {type(m).__module__ for m in model.modules()}
    assert any("quantized" in k for k in kinds)  # converted modules, not the fp32 ones
    with torch.inference_mode():
        out = model(torch.randn(1, 3, 224, 224))
    assert out.shape == (1, 1000) and out.dtype == torch.float32


# --------------------------------------------------------------------------- measuring
def test_precision_study_rows_in_their_own_store_with_unsupported_types_said(tmp_path, monkeypatch):
    monkeypatch.setattr(hardware, "read_cpuinfo", lambda path=None: cpu(SKYLAKE_FLAGS))  # no bf16, no fp16
    prints = studies.measure_precisions(["ENet"], [1], ["fp32", "bf16", "int8"], device="cpu", threads=1,
                                        results_root=tmp_path, settings=FAST, progress=False)
    assert len(set(prints)) == 3  # the dtype is part of the fingerprint
    tag = device_tag("cpu")
    assert not (tmp_path / tag / "results.csv").exists()  # the batch sweep's store is untouched
    rows = load_results(tmp_path, study="precision")
    assert set(rows["dtype"]) == {"float32", "bfloat16", "int8"}
    table = study_tables.dtype_table(rows, tag).set_index("precision")
    measured = rows[(rows["dtype"] == "float32") & (rows["metric"] == "latency_per_image")].iloc[0]
    assert measured["status"] == "ok" and measured["value"] > 0
    if table.loc["fp32", "status"] == "ok":  # (a busy machine may flag it contended: "left out")
        assert table.loc["fp32", "speedup"] == 1.0
        assert math.isnan(table.loc["fp32", "speedup_ci_low"])  # the reference has no interval of its own
    assert table.loc["bf16", "status"] == "unavailable" and "avx512_bf16" in table.loc["bf16", "reason"]
    assert math.isnan(table.loc["bf16", "time_s"])  # never a number for what was not measured
    assert "no quantisable version of ENet" in table.loc["int8", "reason"]
    assert (table["accuracy"] == "accuracy not re-measured").all()
    unavailable = rows[rows["dtype"] == "bfloat16"]
    assert set(unavailable["metric"]) == {"latency_per_image", "memory_static", "memory_peak"}
    assert unavailable["value"].isna().all()


@pytest.mark.skipif(not precision.int8_engine() or precision.support("bf16", "cpu") is not None,
                    reason="needs a CPU with native bf16 and a quantised engine")
def test_bf16_and_int8_are_measured_where_native(tmp_path):
    studies.measure_precisions(["ResNet-18"], [1], ["fp32", "bf16", "int8"], device="cpu", threads=1,
                               results_root=tmp_path, settings=FAST, progress=False)
    table = study_tables.dtype_table(load_results(tmp_path, study="precision"), device_tag("cpu")).set_index("precision")
    # measured ("left out" only where a busy machine flagged the point contended)
    assert set(table.loc[["fp32", "bf16", "int8"], "status"]) <= {"ok", "left out"}
    ok = table[table["status"] == "ok"]
    assert (ok["time_s"] > 0).all()
    ok = ok.drop(index="fp32", errors="ignore")
    assert ((ok["speedup_ci_low"] <= ok["speedup"]) & (ok["speedup"] <= ok["speedup_ci_high"])).all()
    # half the bytes per parameter: bf16's resident model is well under fp32's (ResNet-18: 46.8 MB of fp32)
    static = load_results(tmp_path, study="precision").query("metric == 'memory_static'").set_index("dtype")
    assert static.loc["bfloat16", "value"] < 0.7 * static.loc["float32", "value"]


def test_threads_study_keeps_every_thread_count_and_the_batch_store_keeps_its_latest_run(tmp_path):
    prints = studies.measure_threads(["ENet"], [1], [1, 2], results_root=tmp_path, settings=FAST, progress=False)
    assert len(set(prints)) == 2
    rows = load_results(tmp_path, study="threads")
    assert sorted(rows["threads"].unique()) == [1, 2]  # "latest" keeps the latest run of each setting
    table = study_tables.threads_table(rows, device_tag("cpu"))
    assert list(table["threads"]) == [1, 2]
    one, two = table.iloc[0], table.iloc[1]
    assert one["speedup"] == 1.0 and one["efficiency"] == 1.0 and math.isnan(one["speedup_ci_low"])
    assert two["speedup"] == pytest.approx(one["time_s"] / two["time_s"])
    assert two["efficiency"] == pytest.approx(two["speedup"] / 2)
    assert two["speedup_ci_low"] <= two["speedup"] <= two["speedup_ci_high"]
    with pytest.raises(ValueError, match="device must be 'cpu'"):
        studies.measure_threads(["ENet"], [1], [1], device="cuda")
    with pytest.raises(ValueError, match="positive integers"):
        studies.measure_threads(["ENet"], [1], [0], results_root=tmp_path)


def _row(tag, fp, model, threads, value, low, high, dtype="float32", metric="latency_per_image", flags=""):
    return make_row(device_tag=tag, fingerprint=fp, model=model, batch_size=16, metric=metric, value=value,
                    median=value, ci_low=low, ci_high=high, n=10, unit="s", status="ok", threads=threads,
                    dtype=dtype, flags=flags)


def test_threads_table_on_exact_numbers_leaves_flagged_points_out(tmp_path):
    store = ResultsStore.for_device("cpu-test", tmp_path, study="threads")
    store.append(_row("cpu-test", "a" * 10, "VGG-16", 1, 0.40, 0.39, 0.41))
    store.append(_row("cpu-test", "b" * 10, "VGG-16", 2, 0.25, 0.24, 0.26))
    store.append(_row("cpu-test", "c" * 10, "VGG-16", 4, 0.20, 0.10, 0.30, flags="contended"))
    table = study_tables.threads_table(load_results(tmp_path, study="threads"), "cpu-test")
    assert list(table["threads"]) == [1, 2]  # the contended 4-thread point is left out, and named
    assert table.attrs["left_out"] == ["VGG-16@16 4 thread(s) (contended)"]
    store.append(_row("cpu-test", "d" * 10, "VGG-16", 1, 0.40, 0.39, 0.41, flags="unstable"))
    store.append(_row("cpu-test", "e" * 10, "VGG-16", 2, 0.25, 0.24, 0.26, flags="contended"))
    assert study_tables.threads_table(load_results(tmp_path, study="threads"), "cpu-test").empty  # all left out
    assert table["speedup"].iloc[1] == pytest.approx(1.6)
    assert table["efficiency"].iloc[1] == pytest.approx(0.8)
    assert 1.45 < table["speedup_ci_low"].iloc[1] < 1.6 < table["speedup_ci_high"].iloc[1] < 1.75


def test_load_results_keeps_the_latest_run_of_each_setting_only_in_a_study(tmp_path):
    for study in ("batch", "threads"):
        store = ResultsStore.for_device("cpu-test", tmp_path, study=study)
        store.append(_row("cpu-test", "a" * 10, "VGG-16", 1, 0.40, 0.39, 0.41))
        store.append(_row("cpu-test", "b" * 10, "VGG-16", 2, 0.25, 0.24, 0.26))
    assert list(load_results(tmp_path)["threads"]) == [2]  # the batch sweep: the device's latest run
    assert sorted(load_results(tmp_path, study="threads")["threads"]) == [1, 2]
    with pytest.raises(ValueError, match="'speed'.*batch, threads, precision"):
        load_results(tmp_path, study="speed")


def test_dtype_table_on_exact_numbers(tmp_path):
    store = ResultsStore.for_device("cpu-test", tmp_path, study="precision")
    store.append(_row("cpu-test", "a" * 10, "ResNet-50", 2, 0.060, 0.058, 0.062))
    store.append(_row("cpu-test", "b" * 10, "ResNet-50", 2, 0.030, 0.029, 0.031, dtype="bfloat16"))
    for metric, fp, dtype, mb in (("memory_peak", "a" * 10, "float32", 200.0), ("memory_peak", "b" * 10,
                                                                                "bfloat16", 110.0)):
        store.append(make_row(device_tag="cpu-test", fingerprint=fp, model="ResNet-50", batch_size=16,
                              metric=metric, value=mb, unit="MB", status="ok", threads=2, dtype=dtype))
    table = study_tables.dtype_table(load_results(tmp_path, study="precision"), "cpu-test").set_index("precision")
    assert list(table.index) == ["fp32", "bf16"]
    assert table.loc["bf16", "speedup"] == pytest.approx(2.0)
    assert table.loc["bf16", "speedup_ci_low"] < 2.0 < table.loc["bf16", "speedup_ci_high"]
    assert table.loc["bf16", "memory_ratio"] == pytest.approx(0.55)


def test_thread_counts_are_powers_of_two_and_every_core():
    assert studies.thread_counts(1) == [1]
    assert studies.thread_counts(2) == [1, 2]
    assert studies.thread_counts(6) == [1, 2, 4, 6]
    assert studies.thread_counts(16) == [1, 2, 4, 8, 16]
    assert studies.parse_thread_counts("2,1,2") == [1, 2]
    with pytest.raises(ValueError, match="'x'"):
        studies.parse_thread_counts("1,x")
    with pytest.raises(ValueError):
        studies.thread_counts(0)


def test_cli_precision_prints_unavailable_types_with_their_reason(tmp_path):
    result = subprocess.run([sys.executable, "-m", "helpers", "precision", "--models", "ENet", "--batch-sizes", "1",
                             "--precisions", "fp32,int8", "--device", "cpu", "--threads", "1", "--profile", "smoke",
                             "--out", str(tmp_path)], capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "accuracy not re-measured" in result.stdout
    assert "int8         unavailable: int8: torchvision ships no quantisable version of ENet" in result.stdout
    bad = subprocess.run([sys.executable, "-m", "helpers", "threads", "--threads", "1,-2", "--out", str(tmp_path)],
                         capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)
    assert bad.returncode == 2 and "'-2'" in bad.stderr


# --------------------------------------------------------------------------- sentences and figures
def _threads_frame():
    return pd.DataFrame({
        "model": ["A", "A", "B", "B"], "batch_size": [1, 1, 1, 1], "threads": [1, 2, 1, 2],
        "time_s": [0.4, 0.25, 0.2, 0.19], "time_ci_low": [0.39, 0.24, 0.19, 0.18],
        "time_ci_high": [0.41, 0.26, 0.21, 0.2], "n": [10] * 4, "speedup": [1.0, 1.6, 1.0, 1.05],
        "speedup_ci_low": [np.nan, 1.5, np.nan, 0.95], "speedup_ci_high": [np.nan, 1.7, np.nan, 1.15],
        "efficiency": [1.0, 0.8, 1.0, 0.525], "peak_mb": [100.0] * 4, "flags": [""] * 4})


def test_threads_summary_counts_from_the_table():
    text = study_tables.threads_summary(_threads_frame())
    assert text == ("At batch 1, 2 threads run 1.05 to 1.60x as fast as 1 (parallel efficiency 52 to 80 %; "
                    "1 of 2 models faster beyond their 95 % interval).")
    assert "no run beyond 1 thread" in study_tables.threads_summary(_threads_frame().query("threads == 1"))
    flagged = _threads_frame()
    flagged.attrs["left_out"] = ["C@1 2 thread(s) (contended)"]
    assert study_tables.threads_summary(flagged).endswith("Left out as flagged: C@1 2 thread(s) (contended).")


def test_dtype_summary_names_what_was_not_measured_and_why():
    table = pd.DataFrame({
        "model": ["A", "A", "A", "B", "B", "B"], "batch_size": [16] * 6,
        "precision": ["fp32", "bf16", "fp16", "fp32", "bf16", "fp16"],
        "status": ["ok", "ok", "unavailable", "ok", "error", "unavailable"],
        "reason": ["", "", "fp16: no avx512_fp16", "", "NotImplementedError: avg_pool3d", "fp16: no avx512_fp16"],
        "speedup": [1.0, 2.0, np.nan, 1.0, np.nan, np.nan], "speedup_ci_low": [np.nan, 1.8, np.nan, np.nan, np.nan, np.nan],
        "speedup_ci_high": [np.nan, 2.2, np.nan, np.nan, np.nan, np.nan],
        "memory_ratio": [1.0, 0.5, np.nan, 1.0, np.nan, np.nan]})
    text = study_tables.dtype_summary(table)
    assert "bf16 at batch 16: 2.00x the speed of fp32 over 1 models (1 faster and 0 slower" in text
    assert "peak memory 0.50 of fp32's" in text
    assert "bf16 not measured for B: NotImplementedError: avg_pool3d." in text
    assert "fp16 not measured for A, B: fp16: no avx512_fp16." in text
    table.loc[2, "reason"] = "int8: no quantisable version of A"
    table.loc[5, "reason"] = "int8: no quantisable version of B"
    assert "fp16 not measured for A, B: int8: no quantisable version of the network." in study_tables.dtype_summary(table)
    assert text.endswith("a faster type may be a less accurate network.")


def test_threads_and_dtype_charts_draw_the_data_or_say_why_not():
    import matplotlib.pyplot as plt

    from helpers.report.figures.hardware import dtype_chart, threads_chart

    fig = threads_chart(_threads_frame())
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert "ideal: speed-up = threads" in labels and "A, batch 1" in labels and "B, batch 1" in labels
    ideal = next(line for line in ax.get_lines() if line.get_label().startswith("ideal"))
    assert list(ideal.get_xdata()) == [1, 2] and list(ideal.get_ydata()) == [1, 2]
    plt.close(fig)
    fig = threads_chart(_threads_frame().query("threads == 1"))
    assert "fewer than two thread counts" in " ".join(t.get_text() for t in fig.axes[0].texts)
    plt.close(fig)
    table = pd.DataFrame({"model": ["A", "A", "B", "B"], "batch_size": [16] * 4,
                          "precision": ["fp32", "bf16", "fp32", "bf16"], "status": ["ok", "ok", "ok", "error"],
                          "speedup": [1.0, 2.0, 1.0, np.nan], "speedup_ci_low": [np.nan, 1.8, np.nan, np.nan],
                          "speedup_ci_high": [np.nan, 2.2, np.nan, np.nan]})
    fig = dtype_chart(table, 16)
    ax = fig.axes[0]
    bars = [p for p in ax.patches]
    assert len(bars) == 1 and bars[0].get_width() == pytest.approx(2.0)  # B's error is not drawn as a bar
    assert any(t.get_text() == "bf16: error" for t in ax.texts)
    assert "accuracy not re-measured" in ax.get_xlabel()
    plt.close(fig)


def test_stored_caches_and_the_characterisation_of_a_run(tmp_path):
    frame = hardware.characterise("cpu", 1, measure=False, caches={
        "L1d": characterisation.CacheFact(32768, 2, "sysfs"), "L1i": characterisation.CacheFact(32768, 2, "sysfs"),
        "L2": characterisation.CacheFact(2**20, 2, "sysfs"), "L3": characterisation.CacheFact(32 * 2**20, 1, "sysfs")})
    caches = characterisation.stored_caches(frame)
    assert caches["L2"].total_bytes == 2 * 2**20 and hardware.last_level_cache_bytes(caches) == 32 * 2**20
    characterisation.save_characterisation(frame, tmp_path / "cpu-test")
    fp = frame["fingerprint"].iloc[0]
    found, why = characterisation.characterisation_for_run("cpu-test", fp, tmp_path)
    assert found is not None and why == ""
    missing, why = characterisation.characterisation_for_run("cpu-test", "0123456789", tmp_path)
    assert missing is None and f"of run {fp}, not of this run (0123456789)" in why
    assert "no hardware characterisation" in characterisation.characterisation_for_run("cpu-x", fp, tmp_path)[1]
    assert "no measured run" in characterisation.characterisation_for_run("cpu-x", None, tmp_path)[1]


def test_same_point_table_gathers_one_point_from_each_part_of_a_run_and_says_if_they_agree():
    import pandas as pd

    from helpers.analysis.studies import same_point_summary, same_point_table

    def rows(value, low, high, **extra):
        return pd.DataFrame([{"device_tag": "t", "fingerprint": "f", "model": "AlexNet", "batch_size": 1,
                              "metric": "latency_per_image", "value": value, "ci_low": low, "ci_high": high, "n": 3,
                              "status": "ok", "flags": "", "timestamp": "2026-01-01", **extra}])

    sweep = rows(0.0278, 0.0242, 0.0319)
    threads = pd.concat([rows(0.0364, 0.0353, 0.0376, threads=1), rows(0.0303, 0.0279, 0.0330, threads=2)])
    precision = rows(0.0292, 0.0274, 0.0311, dtype="float32")
    table = same_point_table(sweep, threads, precision, "AlexNet", 1, 2, "t")
    assert list(table["value"]) == [0.0278, 0.0303, 0.0292]
    text = same_point_summary(table, "AlexNet", 1)
    assert "timed 3 times" in text and "30.3 ms [27.9, 33.0] in the threads study (2 threads)" in text
    assert "One band holds all the intervals" in text
    precision = rows(0.0400, 0.0380, 0.0420, dtype="float32")
    text = same_point_summary(same_point_table(sweep, threads, precision, "AlexNet", 1, 2, "t"), "AlexNet", 1)
    assert "No single value lies inside every interval" in text
    assert "measured once" in same_point_summary(same_point_table(sweep, None, None, "AlexNet", 1, 2, "t"), "AlexNet", 1)


def test_same_network_pairs_finds_one_builder_under_two_names():
    from helpers.analysis.modern import same_network_pairs

    assert same_network_pairs(["ResNet-50", "ENet", "resnet50", "googlenet", "GoogLeNet"]) == [("ResNet-50", "resnet50")]
