"""The roofline and the cache explanation: exact values on synthetic runs and hardware."""
import math

import numpy as np
import pandas as pd
import pytest

from helpers.analysis.evidence import point_table
from helpers.store.characterisation import HARDWARE_COLUMNS
from helpers.analysis.roofline import (TRAFFIC_COLUMNS, VERDICTS, attainable, cache_summary, cache_table,
                              fraction_of_peak_table, hardware_roofs, latency_points, roofline_table, traffic_table)

TAG = "cpu-test"


def _hardware(peak=(100.0, 90.0, 110.0), triad=(10.0, 9.0, 11.0), peak_status="ok") -> pd.DataFrame:
    def row(quantity, dtype, value, low, high, unit, status="ok"):
        return {"quantity": quantity, "dtype": dtype, "value": str(value), "unit": unit, "ci_low": low,
                "ci_high": high, "n": 12, "method": "synthetic", "status": status, "note": "", "device": "cpu",
                "fingerprint": "f", "timestamp": "t"}

    rows = [row("cache_L3", "", 32 * 2**20, math.nan, math.nan, "B")]
    if peak is not None:
        rows.append(row("matmul_peak", "fp32", *peak, "GFLOP/s", status=peak_status))
    if triad is not None:
        rows.append(row("memory_bandwidth_triad", "fp32", *triad, "GB/s"))
    return pd.DataFrame(rows, columns=HARDWARE_COLUMNS)


def _results(points) -> pd.DataFrame:
    """(model, batch, seconds per image, ci_low, ci_high, flags) -> a tidy results frame."""
    return pd.DataFrame([{"device_tag": TAG, "model": m, "batch_size": b, "metric": "latency_per_image", "value": v,
                          "unit": "s", "ci_low": lo, "ci_high": hi, "n": 20, "status": "ok", "flags": flags}
                         for m, b, v, lo, hi, flags in points])


def _traffic(rows) -> pd.DataFrame:
    """(model, batch, G-ops per image, bytes per image, largest op bytes) -> a traffic table."""
    out = []
    for m, b, gops, nbytes, largest in rows:
        out.append({"model": m, "batch_size": b, "input_size": 224, "gops": gops * b, "bytes": nbytes * b,
                    "read_bytes": nbytes * b / 2, "write_bytes": nbytes * b / 2, "param_bytes": 0,
                    "activation_bytes": nbytes * b, "largest_op_bytes": largest + 7, "largest_op": "aten.convolution",
                    "largest_activation_op_bytes": largest,
                    "intensity": gops * 1e9 / nbytes, "gops_per_image": gops, "bytes_per_image": nbytes,
                    "activation_bytes_per_image": nbytes})
    return pd.DataFrame(out, columns=TRAFFIC_COLUMNS)


# peak 100 GFLOP/s, triad 10 GB/s: the ridge at 10 op/B
TRAFFIC = _traffic([
    ("A", 1, 2.0, 1e9, 0), ("A", 4, 2.0, 1e8, 0),  # 2 op/B (memory-bound), 20 op/B (compute-bound)
    ("B", 1, 1.0, 1e8, 0),  # exactly at the ridge: compute-bound
    ("C", 1, 1.0, 1e8, 0),  # timed but without an interval
    ("D", 1, 1.0, 1e8, 0),  # flagged contended: left out
])
RESULTS = _results([
    ("A", 1, 0.2, 0.19, 0.21, ""), ("A", 4, 0.025, 0.024, 0.026, "imprecise"),
    ("B", 1, 0.02, 0.019, 0.021, ""), ("C", 1, 0.05, math.nan, math.nan, ""),
    ("D", 1, 0.05, 0.049, 0.051, "contended"), ("E", 1, 0.05, 0.049, 0.051, ""),
])


@pytest.fixture(scope="module")
def roof():
    return roofline_table(RESULTS, TRAFFIC, _hardware(), device_tag=TAG).set_index(["model", "batch_size"])


def test_achieved_throughput_and_fractions_are_exact(roof):
    a1, a4, b1 = roof.loc[("A", 1)], roof.loc[("A", 4)], roof.loc[("B", 1)]
    assert a1["intensity"] == pytest.approx(2.0) and a4["intensity"] == pytest.approx(20.0)
    assert a1["achieved_gops"] == pytest.approx(2.0 / 0.2)  # 10 G-ops/s
    assert a4["achieved_gops"] == pytest.approx(2.0 / 0.025)  # 80 G-ops/s
    assert a1["roof_gops"] == pytest.approx(20.0)  # 10 GB/s x 2 op/B, under the 100 GFLOP/s peak
    assert a4["roof_gops"] == pytest.approx(100.0)
    assert a1["fraction_of_peak"] == pytest.approx(0.1) and a1["fraction_of_roof"] == pytest.approx(0.5)
    assert a4["fraction_of_peak"] == pytest.approx(0.8) and a4["fraction_of_roof"] == pytest.approx(0.8)
    assert b1["achieved_gops"] == pytest.approx(50.0) and b1["roof_gops"] == pytest.approx(100.0)
    # the achieved interval is the latency's, inverted: its bounds swap
    assert a1["achieved_ci_low"] == pytest.approx(2.0 / 0.21) and a1["achieved_ci_high"] == pytest.approx(2.0 / 0.19)


def test_bound_on_each_side_of_the_ridge(roof):
    assert roof.loc[("A", 1), "bound"] == "memory"
    assert roof.loc[("A", 4), "bound"] == "compute"
    assert roof.loc[("B", 1), "bound"] == "compute"  # at the ridge itself
    assert roof.attrs["ridge"] == pytest.approx(10.0)
    assert roof.attrs["peak"].value == 100.0 and roof.attrs["bandwidth"].value == 10.0


def test_intervals_are_ordered_and_carry_the_peaks_uncertainty(roof):
    timed = roof.drop(index=("C", 1))
    for low, value, high in (("achieved_ci_low", "achieved_gops", "achieved_ci_high"),
                             ("fraction_of_peak_ci_low", "fraction_of_peak", "fraction_of_peak_ci_high"),
                             ("fraction_of_roof_ci_low", "fraction_of_roof", "fraction_of_roof_ci_high")):
        assert (timed[low] < timed[value]).all() and (timed[value] < timed[high]).all(), value
    # the peak's +-10 % widens the fraction beyond the latency's +-5 % alone
    peak = roof.attrs["peak"].value
    assert (timed["fraction_of_peak_ci_low"] < timed["achieved_ci_low"] / peak).all()
    assert (timed["fraction_of_peak_ci_high"] > timed["achieved_ci_high"] / peak).all()
    # a point without a latency interval has no interval anywhere
    c = roof.loc[("C", 1)]
    assert c["achieved_gops"] == pytest.approx(20.0)
    assert np.isnan(c[["achieved_ci_low", "fraction_of_peak_ci_low", "fraction_of_roof_ci_high"]].astype(float)).all()


def test_flagged_and_uncounted_points_are_left_out_and_named(roof):
    assert ("D", 1) not in roof.index  # contended
    assert ("A", 4) in roof.index  # imprecise points stay
    assert roof.attrs["left_out"] == ["D@1 (contended)"]
    assert roof.attrs["no_traffic"] == ["E@1"]
    assert list(dict.fromkeys(roof.index.get_level_values("model"))) == ["A", "B", "C"]  # traffic's order


@pytest.mark.parametrize("hardware, message", [
    (None, "no hardware characterisation"),
    (_hardware(peak=None), "lacks a measured fp32 matmul peak"),
    (_hardware(peak=(100.0, 90.0, 110.0), peak_status="not native"), "lacks a measured fp32 matmul peak"),
    (_hardware(triad=None), "lacks a measured triad bandwidth"),
])
def test_missing_peak_or_bandwidth_is_named(hardware, message):
    with pytest.raises(ValueError, match=message):
        roofline_table(RESULTS, TRAFFIC, hardware, device_tag=TAG)


def test_hardware_roofs_and_attainable():
    peak, triad = hardware_roofs(_hardware())
    assert (peak.value, peak.ci_low, peak.ci_high, peak.unit) == (100.0, 90.0, 110.0, "GFLOP/s")
    assert triad.value == 10.0 and triad.unit == "GB/s"
    assert attainable([1.0, 10.0, 100.0], 100.0, 10.0).tolist() == [10.0, 100.0, 100.0]


def test_fraction_of_peak_table_in_percent(roof):
    table = fraction_of_peak_table(roof.reset_index())
    assert list(table.index) == ["A", "B", "C"] and list(table.columns) == [1, 4]
    assert table.loc["A", 1] == pytest.approx(10.0) and table.loc["A", 4] == pytest.approx(80.0)
    assert table.loc["B", 1] == pytest.approx(50.0) and np.isnan(table.loc["B", 4])


# ------------------------------------------------------------------ the cache explanation

LLC = 100  # bytes


def _sweep(model, times, working_sets, batches=(1, 2, 4, 8), width=0.02, flags=None):
    points = [(model, b, t, t * (1 - width), t * (1 + width), (flags or {}).get(b, ""))
              for b, t in zip(batches, times)]
    traffic = [(model, b, 1.0, 1e8, ws) for b, ws in zip(batches, working_sets)]
    return points, traffic


CASES = {
    # leaves at 4, time rises significantly at 8: the next measured batch
    "coincides": _sweep("coincides", [1.0, 0.8, 0.7, 0.9], [40, 80, 160, 320]),
    # rises at 4 while the working set (80) still fits; it leaves at 8
    "early": _sweep("early", [1.0, 0.8, 1.0, 1.1], [20, 40, 80, 160]),
    # leaves at 2, rises only at 8: two measured batches later
    "late": _sweep("late", [1.0, 0.8, 0.7, 0.9], [60, 120, 240, 480]),
    # leaves at 2, per-image time keeps falling
    "falls": _sweep("falls", [1.0, 0.8, 0.7, 0.6], [60, 120, 240, 480]),
    # fits throughout, flat within its intervals (0.8 -> 0.81 overlaps)
    "fits": _sweep("fits", [1.0, 0.8, 0.81, 0.8], [10, 20, 40, 80]),
    # above the cache at batch 1 already
    "outside": _sweep("outside", [1.0, 0.8, 0.7, 0.9], [200, 400, 800, 1600]),
    # the rise at 8 is contended: left out, no turn-up
    "contended": _sweep("contended", [1.0, 0.8, 0.7, 5.0], [40, 80, 160, 320], flags={8: "contended"}),
}


@pytest.fixture(scope="module")
def cache():
    points = [p for pts, _ in CASES.values() for p in pts]
    traffic = _traffic([t for _, tr in CASES.values() for t in tr])
    return cache_table(point_table(_results(points), "latency_per_image", TAG), traffic, LLC).set_index("model")


@pytest.mark.parametrize("model, leaves, fastest, turn_up, verdict, agrees", [
    ("coincides", 4, 4, 8, "coincides", True),
    ("early", 8, 2, 4, "turns up while it still fits", False),
    ("late", 2, 4, 8, "turns up after it left", False),
    ("falls", 2, 8, math.nan, "no turn-up", False),
    ("fits", math.nan, 2, math.nan, "no turn-up", None),
    ("outside", 1, 4, 8, "outside the LLC at every batch", None),
    ("contended", 4, 4, math.nan, "no turn-up", False),
])
def test_cache_table_cases(cache, model, leaves, fastest, turn_up, verdict, agrees):
    row = cache.loc[model]
    assert (np.isnan(row["leaves_llc_batch"]) if np.isnan(leaves) else row["leaves_llc_batch"] == leaves)
    assert row["fastest_batch"] == fastest
    assert (np.isnan(row["turn_up_batch"]) if np.isnan(turn_up) else row["turn_up_batch"] == turn_up)
    assert row["verdict"] == verdict and row["verdict"] in VERDICTS
    assert row["agrees"] is agrees
    assert row["batches"] == (3 if model == "contended" else 4)


def test_cache_summary_counts_from_the_table(cache):
    text = cache_summary(cache.reset_index())
    assert "in 1 of 3 models that turn up (1 while it still fits, 1 later)" in text
    assert "3 show no turn-up (2 of them leave the cache)" in text
    assert "1 of 7 are outside the cache" in text
    assert "\n" not in text
    assert cache_summary(cache.reset_index().iloc[:0]).startswith("No model")


def test_cache_table_reads_a_roofline_table_and_needs_a_cache_size():
    points, traffic = CASES["coincides"]
    hardware = _hardware()
    roof = roofline_table(_results(points), _traffic(traffic), hardware, device_tag=TAG)
    table = cache_table(roof, _traffic(traffic), LLC)
    assert table.loc[0, "verdict"] == "coincides" and table.attrs["llc_bytes"] == LLC
    with pytest.raises(ValueError, match="last-level cache size is unknown"):
        cache_table(roof, _traffic(traffic), None)
    with pytest.raises(ValueError, match="expected a roofline table"):
        latency_points(pd.DataFrame({"model": ["x"], "batch_size": [1]}))


def test_a_rise_without_intervals_is_not_a_turn_up():
    points, traffic = CASES["coincides"]
    bare = [(m, b, v, math.nan, math.nan, f) for m, b, v, _, _, f in points]
    table = cache_table(point_table(_results(bare), "latency_per_image", TAG), _traffic(traffic), LLC)
    assert np.isnan(table.loc[0, "turn_up_batch"]) and table.loc[0, "verdict"] == "no turn-up"


# ------------------------------------------------------------------ traffic of real models

def test_traffic_table_rows_and_growth_with_batch():
    table = traffic_table(["BN-NIN", "AlexNet"], [2, 1], progress=False)
    assert list(table.columns) == TRAFFIC_COLUMNS
    assert list(zip(table["model"], table["batch_size"])) == [("BN-NIN", 1), ("BN-NIN", 2), ("AlexNet", 1),
                                                              ("AlexNet", 2)]
    for _, rows in table.groupby("model"):
        one, two = rows.iloc[0], rows.iloc[1]
        assert one["param_bytes"] == two["param_bytes"] > 0
        assert two["intensity"] > one["intensity"]
        assert two["gops"] == pytest.approx(2 * one["gops"], rel=1e-12)
    # AlexNet's largest operator is its first fully connected layer: 9216 x 4096 fp32 weights and more
    alex = table[table["model"] == "AlexNet"].iloc[0]
    assert alex["largest_op_bytes"] > 4 * 9216 * 4096 and alex["largest_op"] == "aten.addmm"


def test_the_cache_test_compares_the_activation_working_set_unless_told_otherwise():
    points, traffic = CASES["coincides"]  # activations 40, 80, 160, 320 bytes against a 100-byte cache
    frame = _traffic(traffic)
    frame["largest_op_bytes"] = frame["largest_activation_op_bytes"] + 1000  # weights alone exceed the cache
    times = point_table(_results(points), "latency_per_image", TAG)
    assert cache_table(times, frame, LLC).loc[0, "leaves_llc_batch"] == 4
    with_weights = cache_table(times, frame, LLC, working_set="largest_op_bytes")
    assert with_weights.loc[0, "verdict"] == "outside the LLC at every batch"
    assert "largest operator's activations" in cache_summary(cache_table(times, frame, LLC))
    with pytest.raises(ValueError, match="'bytes_moved'.*largest_activation_op_bytes"):
        cache_table(times, frame, LLC, working_set="bytes_moved")


def test_roofline_summary_states_the_table():
    from helpers.analysis.roofline import roofline_summary

    roof = roofline_table(RESULTS, TRAFFIC, _hardware(), device_tag=TAG)
    text = roofline_summary(roof)
    frac = 100 * roof["fraction_of_peak"]
    assert f"reach {frac.min():.0f} to {frac.max():.0f} % of the peak over {len(roof)} points" in text
    assert "fp32 peak of 100 GFLOP/s [90, 110]" in text and "ridge point 10.0 op/B" in text
    # the ridge's range: 90 / 11 to 110 / 9 op/B, the ends of the peak's and the bandwidth's intervals
    low, high = roof.attrs["ridge_range"]
    assert low == pytest.approx(90 / 11) and high == pytest.approx(110 / 9)
    assert "ridge point 10.0 op/B, 8.2 to 12.2 from the ends of both intervals" in text
    assert "Memory-bound (left of the ridge): A at batch 1." in text
    assert "Left out as flagged: D@1 (contended)." in text
    assert roofline_summary(roof.iloc[:0]).startswith("No measured point")


def test_why_time_rises_states_the_roofline_and_the_cache_test():
    from helpers.analysis.roofline import why_time_rises

    # "coincides": fastest at 4 (0.7 s), 0.9 s at 8 (beyond both intervals); intensity 20 op/B, right of the ridge
    points, traffic = CASES["coincides"]
    hardware = _hardware()
    roof = roofline_table(_results(points), _traffic([(m, b, 2.0, 1e8, ws) for m, b, _, _, ws in traffic]),
                          hardware, device_tag=TAG)
    cache = cache_table(roof, _traffic(traffic), LLC)
    text = why_time_rises(roof, cache, "a test CPU")
    assert text.startswith("On a test CPU, per-image time at batch 8 is above the network's fastest batch")
    assert "for 1 of 1 paper networks; the fastest batch is 4 at the median (from 4 to 4)" in text
    at1 = 100 * roof.loc[roof["batch_size"] == 1, "fraction_of_peak"].iloc[0]
    assert f"reach a median {at1:.0f} % of the measured fp32 peak (100 GFLOP/s), every one compute-bound" in text
    assert "batching buys little here" in text  # 1 of 1 rises
    falls_points, falls_traffic = CASES["falls"]  # per-image time keeps falling: no rise to explain away
    falls = roofline_table(_results(falls_points), _traffic([(m, b, 2.0, 1e8, ws) for m, b, _, _, ws in falls_traffic]),
                           hardware, device_tag=TAG)
    falls_text = why_time_rises(falls, cache_table(falls, _traffic(falls_traffic), LLC), "a test GPU")
    assert "for 0 of 1 paper networks" in falls_text and "buys little" not in falls_text
    assert "the room a larger batch fills" in falls_text
    frac = roof.set_index("batch_size")["fraction_of_peak"] * 100
    assert f"median {frac[4]:.0f} % at each network's fastest batch, {frac[8]:.0f} % at batch 8" in text
    assert "the memory roof does not explain the rise" in text
    assert text.endswith(cache_summary(cache))
    assert "nothing is said" in why_time_rises(roof.iloc[:0], cache, "a test CPU")


def test_each_runtime_is_placed_on_the_same_roofline_and_the_summary_names_the_nearest():
    from helpers.analysis.roofline import runtime_roofline, runtime_roofline_summary

    eager = RESULTS.assign(runtime="eager")
    faster = RESULTS.assign(runtime="openvino", value=RESULTS["value"] / 2, ci_low=RESULTS["ci_low"] / 2,
                            ci_high=RESULTS["ci_high"] / 2)
    table = runtime_roofline(pd.concat([faster, eager], ignore_index=True), TRAFFIC, _hardware(), TAG)
    assert list(dict.fromkeys(table["runtime"])) == ["eager", "openvino"]  # RUNTIMES' order
    both = table.set_index(["runtime", "model", "batch_size"])
    # B at batch 1: 1 G-op in 0.02 s is 50 GFLOP/s, half the peak; twice as fast through openvino: the peak
    assert both.at[("eager", "B", 1), "fraction_of_peak"] == pytest.approx(0.5)
    assert both.at[("openvino", "B", 1), "fraction_of_peak"] == pytest.approx(1.0)
    assert "D@1 (contended)" in " ".join(table.attrs["left_out"])
    text = runtime_roofline_summary(table)
    # eager at batch 1: A 10 %, B 50 %, C 20 % of the peak (E has no traffic count): median 20 %
    assert "At batch 1, the median of 3 networks reaches PyTorch eager 20 %, OpenVINO 40 %" in text
    assert "nearest the peak, B through OpenVINO at 100 %" in text
    assert runtime_roofline(pd.DataFrame(), TRAFFIC, _hardware()).empty
