"""One device's evidence (helpers.analysis.evidence): tables in canonical units, flags, devices, the paper's numbers."""
from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from helpers.analysis.evidence import (FLAGS_LEFT_OUT, AmbiguousDeviceError, Device, Evidence, batch_sizes,
                              metric_table, paper_accuracy, paper_evidence, point_table, run_evidence)
from helpers.core.reference import PAPER_MODELS, paper_models, paper_numbers
from helpers.store.results import make_row
from helpers.store.schema import RESULT_COLUMNS

TAG = "cpu-test-host"
STAMP = "2025-01-31T12:00:00+00:00"


def ok(model, batch, metric, value, unit, tag=TAG, **fields):
    return make_row(device_tag=tag, model=model, batch_size=batch, metric=metric, value=float(value),
                    unit=unit, status="ok", timestamp=STAMP, **fields)


def frame(rows):
    return pd.DataFrame(rows, columns=list(RESULT_COLUMNS))


def counts_frame(models=PAPER_MODELS):
    ref = paper_models()
    params = [ref.at[m, "params_m_paper"] if m in ref.index else 600.0 for m in models]
    gops = [ref.at[m, "gops_published"] if m in ref.index else 300.0 for m in models]
    return pd.DataFrame({"model": list(models), "params": np.array(params) * 1e6, "params_m": params,
                         "gops": gops, "gops_published": gops})


# ================================================================== metric_table

def test_metric_table_converts_units_and_keeps_ok_rows():
    rows = [ok("A", 1, "latency_per_image", 20.0, "ms"), ok("A", 2, "latency_per_image", 0.5, "s"),
            ok("B", 1, "memory_peak", 1.0, "GB"), ok("B", 2, "memory_peak", 1.0, "MiB"),
            make_row(device_tag=TAG, model="A", batch_size=4, metric="latency_per_image",
                     status="skipped", reason="out of memory", timestamp=STAMP)]
    table = metric_table(frame(rows), "latency_per_image")
    assert table.loc["A", 1] == pytest.approx(0.02) and table.loc["A", 2] == pytest.approx(0.5)
    assert list(table.columns) == [1, 2]
    peak = metric_table(frame(rows), "memory_peak")
    assert peak.loc["B", 1] == pytest.approx(1000.0) and peak.loc["B", 2] == pytest.approx(1.048576)
    assert batch_sizes(frame(rows), "latency_per_image") == [1, 2]
    assert metric_table(frame(rows), "power_net").empty
    with pytest.raises(ValueError, match="unknown unit"):
        metric_table(frame([ok("A", 1, "power_net", 1.0, "horsepower")]), "power_net")


def test_metric_table_several_devices_needs_a_tag():
    rows = [ok("A", 1, "power_net", 10.0, "W", tag="dev-a"),
            ok("A", 1, "power_net", 20.0, "W", tag="dev-b")]
    with pytest.raises(AmbiguousDeviceError, match="dev-a, dev-b"):
        metric_table(frame(rows), "power_net")
    assert metric_table(frame(rows), "power_net", "dev-b").loc["A", 1] == 20.0
    with pytest.raises(AmbiguousDeviceError):
        point_table(frame(rows), "power_net")


# ================================================================== point_table

def test_point_table_converts_intervals_and_keeps_flags():
    rows = [ok("A", 1, "latency_per_image", 20.0, "ms", ci_low=18.0, ci_high=25.0, n=30,
               flags="contended;imprecise"),
            ok("A", 2, "latency_per_image", 0.5, "s"),
            ok("B", 1, "memory_static", 1.0, "GiB")]
    pts = point_table(frame(rows), "latency_per_image")
    assert list(pts.columns) == ["model", "batch_size", "value", "ci_low", "ci_high", "n", "flags"]
    a1 = pts[(pts["model"] == "A") & (pts["batch_size"] == 1)].iloc[0]
    assert (a1.value, a1.ci_low, a1.ci_high) == pytest.approx((0.020, 0.018, 0.025))
    assert a1["n"] == 30 and a1["flags"] == "contended;imprecise"
    a2 = pts[pts["batch_size"] == 2].iloc[0]
    assert math.isnan(a2.ci_low) and math.isnan(a2.ci_high) and a2["flags"] == ""
    static = point_table(frame(rows), "memory_static")
    assert static.loc[0, "value"] == pytest.approx(1073.741824)
    assert point_table(frame(rows), "power_net").empty


# ================================================================== Evidence

def _evidence(rows, device=None):
    return Evidence(results=frame(rows), counts=pd.DataFrame(), accuracy=paper_accuracy(),
                    device=device or Device(TAG))


def test_evidence_table_leaves_out_contended_and_unstable_points():
    assert FLAGS_LEFT_OUT == ("contended", "unstable")
    rows = [ok("A", 1, "latency_per_image", 1.0, "s", ci_low=0.9, ci_high=1.1, flags="contended"),
            ok("A", 2, "latency_per_image", 0.8, "s", ci_low=0.7, ci_high=0.9, flags="imprecise"),
            ok("B", 1, "latency_per_image", 2.0, "s", ci_low=1.5, ci_high=2.5, flags="unstable;imprecise"),
            ok("B", 2, "latency_per_image", 1.5, "s", ci_low=1.4, ci_high=1.6),
            ok("C", 1, "latency_per_image", 3.0, "s", ci_low=2.9, ci_high=3.1)]
    ev = _evidence(rows)
    t = ev.table("latency_per_image")
    assert math.isnan(t.loc["A", 1]) and math.isnan(t.loc["B", 1])
    assert t.loc["A", 2] == 0.8 and t.loc["B", 2] == 1.5                  # imprecise stays in
    assert ev.table("latency_per_image", "ci_high").loc["A", 2] == pytest.approx(0.9)
    assert ev.left_out("latency_per_image") == ["A@1 (contended)", "B@1 (unstable;imprecise)"]
    assert t.loc["C", 1] == 3.0 and math.isnan(t.loc["C", 2])
    assert list(ev.points("latency_per_image")["left_out"]) == [True, False, True, False, False]
    assert ev.left_out("power_net") == [] and ev.table("power_net").empty


def test_evidence_missing_reasons():
    empty = Evidence(results=pd.DataFrame(), counts=pd.DataFrame(), accuracy=paper_accuracy())
    assert empty.missing("power_net") == "no power_net rows: nothing measured on this device"
    assert empty.table("latency_per_image").empty
    rows = [ok("A", 1, "latency_per_image", 1.0, "s"),
            make_row(device_tag=TAG, model="A", batch_size=1, metric="power_net", status="unavailable",
                     reason="no power sensor on this device", timestamp=STAMP)]
    why = _evidence(rows).missing("power_net")
    assert why.startswith("no power_net rows with status ok (unavailable)") and "no power sensor" in why
    assert _evidence(rows).missing("energy_per_image").startswith("no energy_per_image rows: power was not")


def test_evidence_baseline_from_details():
    rows = [ok("A", 1, "memory_static", 30.0, "MB", details={"baseline_mb": 180.5}),
            ok("B", 1, "memory_static", 40.0, "MB", details={"other": 1}),
            ok("C", 1, "memory_static", 50.0, "MB", details=json.dumps({"baseline_mb": 200})),
            ok("D", 1, "memory_peak", 60.0, "MB", details={"baseline_mb": 999.0})]
    base = _evidence(rows).baseline_mb()
    assert base.to_dict() == {"A": 180.5, "C": 200.0}
    assert base.name == "baseline_mb"
    empty = Evidence(results=pd.DataFrame(), counts=pd.DataFrame(), accuracy=paper_accuracy())
    assert empty.baseline_mb().empty


def test_evidence_counts_and_accuracy():
    counts = counts_frame().set_index("model")
    counts.loc["AlexNet", "gops"] = 1.44          # groups honoured
    ev = Evidence(results=pd.DataFrame(), counts=counts, accuracy=paper_accuracy())
    assert ev.ops()["AlexNet"] == 1.44 and ev.ops("gops_published")["AlexNet"] == 2.26
    assert ev.ops("gops_2016").empty              # no such column: no fallback
    with pytest.raises(ValueError, match="unknown operations column"):
        ev.ops("gops_paper")
    assert ev.params_m()["VGG-16"] == pytest.approx(138.36)
    assert ev.top1()["ENet"] == pytest.approx(68.40)
    assert not ev.accuracy_measured()
    acc = paper_accuracy().assign(source="measured")
    assert replace(ev, accuracy=acc).accuracy_measured(["ENet", "AlexNet"])
    with pytest.raises(ValueError, match="source"):
        Evidence(results=pd.DataFrame(), counts=counts, accuracy=acc, source="guess")


# ================================================================== Device

def test_device_of_describe_and_tx1():
    rows = frame([ok("A", 1, "latency_per_image", 1.0, "s", hardware="Old CPU", threads=4, fingerprint="f1"),
                  ok("A", 2, "latency_per_image", 1.0, "s", hardware="AMD EPYC 7B13", threads=2,
                     fingerprint="f2"),
                  ok("A", 1, "latency_per_image", 1.0, "s", tag="other", hardware="NVIDIA H100")])
    dev = Device.of(rows, TAG)
    assert dev == Device(TAG, "AMD EPYC 7B13", 2, "f2")          # its latest rows
    assert dev.describe() == f"{TAG}: AMD EPYC 7B13, 2 threads"
    assert not dev.is_tx1
    assert Device.of(rows, "nowhere") == Device("nowhere")
    assert Device("bare").describe() == "bare"
    assert Device("gpu", "NVIDIA H100").describe() == "gpu: NVIDIA H100"
    # hardware falls back to host_gpu, then host_cpu
    gpu = frame([ok("A", 1, "latency_per_image", 1.0, "s", host_gpu="NVIDIA Tegra X1", host_cpu="ARM A57")])
    assert Device.of(gpu, TAG).hardware == "NVIDIA Tegra X1" and Device.of(gpu, TAG).is_tx1
    assert Device("jetson", "NVIDIA Jetson TX1").is_tx1 and Device("tx1-board").is_tx1


# ================================================================== run_evidence and paper_evidence

def test_run_evidence_keeps_the_papers_models_of_one_device():
    rows = [ok(m, 1, "latency_per_image", 0.1, "s", hardware="Test CPU", threads=2) for m in PAPER_MODELS]
    rows += [ok("vit_h_14", 1, "latency_per_image", 9.0, "s"),
             ok("AlexNet", 1, "latency_per_image", 5.0, "s", tag="other-host")]
    results = frame(rows)
    counts = counts_frame([*PAPER_MODELS, "vit_h_14"])
    acc = pd.concat([paper_accuracy(), paper_accuracy().loc[["AlexNet"]].rename(index={"AlexNet": "vit_h_14"})])
    with pytest.raises(AmbiguousDeviceError):
        run_evidence(results, counts=counts, accuracy=acc)
    ev = run_evidence(results, TAG, counts=counts, accuracy=acc)
    assert set(ev.results["model"]) == set(PAPER_MODELS) and set(ev.results["device_tag"]) == {TAG}
    assert set(ev.counts.index) == set(PAPER_MODELS) and set(ev.accuracy.index) == set(PAPER_MODELS)
    assert ev.table("latency_per_image").loc["AlexNet", 1] == 0.1
    assert ev.device == Device(TAG, "Test CPU", 2) and ev.source == "run" and ev.tag == TAG
    # models=None keeps every model measured
    every = run_evidence(results, TAG, counts=counts, accuracy=acc, models=None)
    assert "vit_h_14" in set(every.results["model"]) and "vit_h_14" in every.counts.index
    # nothing measured: no device, nothing to tabulate
    none = run_evidence(None, counts=counts, accuracy=acc)
    assert none.results.empty and none.device is None and none.describe() == "no device"


def test_paper_evidence_holds_only_the_papers_numbers():
    ev = paper_evidence()
    ref = paper_models()
    assert ev.source == "paper" and ev.results.empty
    assert list(ev.counts.columns) == ["params_m_paper", "gops_published"]
    assert list(ev.counts.index) == list(PAPER_MODELS)
    assert ev.counts["gops_published"].to_dict() == ref["gops_published"].to_dict()
    assert ev.ops("gops_published")["VGG-19"] == pytest.approx(39.29)
    assert ev.ops("gops").empty                                  # our count is not the paper's
    assert ev.params_m()["ENet"] == pytest.approx(5.86)          # falls back to params_m_paper
    assert (ev.accuracy["source"] == "paper").all() and ev.accuracy["ci_low"].isna().all()
    assert ev.top1().to_dict() == pytest.approx(ref["top1_pct"].to_dict())
    numbers = paper_numbers()
    assert dict(ev.stated) == {k: float(v) for k, v in numbers["value"].items()}
    assert ev.stated["vgg_time_batch1_s"] == 0.2 and ev.stated["net_power_w"] == 11.8
    assert ev.device.is_tx1 and ev.describe() == "the paper's Jetson TX1 (its published numbers)"
