"""Coverage of two runs, the check standard's summary and the comparison with a recorded run."""
from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from helpers.analysis.reproducibility import (check_standard_summary, compare_with_reference, coverage,
                                              normalised_values, recorded_reference, run_report)


def rows(points, checks=None, metric="latency_per_image"):
    """A results frame: points = {(model, batch): (value, low, high)}."""
    out = []
    for i, ((model, b), (v, lo, hi)) in enumerate(points.items()):
        details = {"window_check_s": checks or [], "window_medians_s": [v * b * 0.98, v * b, v * b * 1.02]}
        out.append({"model": model, "batch_size": b, "metric": metric, "status": "ok", "value": v, "median": v,
                    "ci_low": lo, "ci_high": hi, "flags": "", "details": json.dumps(details),
                    "fingerprint": "f", "device_tag": "cpu-x"})
    return pd.DataFrame(out)


def test_coverage_counts_differences_inside_the_combined_interval():
    a = rows({("A", 1): (1.00, 0.95, 1.05), ("B", 1): (2.0, 1.9, 2.1), ("C", 1): (3.0, 2.97, 3.03)})
    b = rows({("A", 1): (1.05, 1.00, 1.10), ("B", 1): (2.6, 2.5, 2.7), ("C", 1): (3.0, 2.97, 3.03)})
    cov = coverage(a, b)
    # A: log diff 0.049 against sqrt(0.05^2 + 0.048^2) = 0.069: covered; B: 0.26 against 0.05: not; C: equal
    assert (cov.points, cov.covered) == (3, 2) and cov.share == pytest.approx(2 / 3)
    assert cov.median_abs_diff == pytest.approx(0.05 / 1.025)
    assert "2 of 3 points" in cov.text()
    # A point without an interval in either run is left out, not counted as covered.
    c = rows({("A", 1): (1.00, math.nan, math.nan)})
    assert coverage(c, b).points == 0 and "no common points" in coverage(c, b).text()


def test_the_check_standard_summary_and_the_comparison_with_a_recorded_run():
    this = rows({("A", 1): (1.1, 1.05, 1.15)}, checks=[0.0011, 0.00112, 0.00108])
    ref = rows({("A", 1): (1.0, 0.98, 1.02)}, checks=[0.0010, 0.00101, 0.00099])
    s = check_standard_summary(this)
    assert s.windows == 3 and s.median_s == pytest.approx(0.0011) and "varied ±" in s.text()
    lines = compare_with_reference(this, ref, "`cpu-x`")
    assert lines[0].startswith("the machine ran 10.0 % slower than for the recorded run `cpu-x`")
    assert "10.0 % slower at the median" in lines[1] and "0 of 1 points" in lines[1]
    assert check_standard_summary(rows({("A", 1): (1.0, 0.9, 1.1)})).text().startswith("no check standard")
    report = run_report(this, ref, "`cpu-x`")
    assert any("timing points" in line for line in report) and report[-2].startswith("the machine ran")
    # a store copied from the recorded run: its copies are named, and left out of the comparison
    this, ref = this.assign(timestamp="t2"), ref.assign(timestamp="t1")
    assert run_report(ref, ref, "`cpu-x`")[-1] == "these rows are the recorded run `cpu-x` itself: no comparison"
    mixed = pd.concat([ref.assign(model="B"), this], ignore_index=True)
    report = run_report(mixed, pd.concat([ref.assign(model="B"), ref], ignore_index=True), "`cpu-x`")
    assert "1 of 2 rows are copies of the recorded run `cpu-x`" in " ".join(report)
    assert any("0 of 1 points" in line for line in report), "the comparison covers only the row measured here"


def test_normalised_values_divide_each_window_by_its_check_standard():
    frame = rows({("A", 1): (1.0, 0.9, 1.1)}, checks=[0.001, 0.001, 0.001])
    same = normalised_values(frame)
    assert same["value"].iloc[0] == pytest.approx(1.0, rel=1e-3)  # a steady machine changes nothing
    # A window that ran 20 % slow on the machine's account: normalised, it agrees with the others.
    drift = frame.copy()
    drift.loc[0, "details"] = json.dumps({"window_check_s": [0.001, 0.0012, 0.001],
                                          "window_medians_s": [1.0, 1.2, 1.0]})
    norm = normalised_values(drift)
    assert norm["ci_high"].iloc[0] - norm["ci_low"].iloc[0] == pytest.approx(0, abs=1e-9)
    assert normalised_values(rows({("A", 1): (1.0, 0.9, 1.1)})).empty  # no check standard: nothing offered


def test_the_normalised_summary_compares_the_widths_or_says_why_there_is_none():
    from helpers.analysis.reproducibility import normalised_summary

    drift = rows({("A", 1): (1.0, 0.8, 1.2), ("B", 4): (2.0, 1.6, 2.4)}, checks=[0.001, 0.0012, 0.001])
    for i in drift.index:  # each window's time moved with the machine's check standard
        b = drift.at[i, "batch_size"]
        v = drift.at[i, "value"] * b
        drift.loc[i, "details"] = json.dumps({"window_check_s": [0.001, 0.0012, 0.001],
                                              "window_medians_s": [v, 1.2 * v, v]})
    text = normalised_summary(drift)
    assert "of the 2 points is +-0.0 %, against +-20.0 % raw" in text
    assert normalised_summary(rows({("A", 1): (1.0, 0.9, 1.1)})).startswith("No normalised figure")


def test_no_recorded_run_of_this_machine_type_gives_no_reference(tmp_path):
    assert recorded_reference("cpu-none", root=tmp_path) == (None, "")


def test_pairing_by_window_cancels_drift_common_to_both_points():
    import numpy as np

    from helpers.analysis.claim_statistics import _speedup_draws
    from helpers.analysis.reproducibility import paired_ratio, window_medians

    # The machine drifts by +-15 % between windows; batch 1 and batch 16 drift together (the same windows).
    drift = {0: 1.0, 1: 1.15, 2: 0.87}
    b1 = {k: 0.010 * d for k, d in drift.items()}
    b16 = {k: 0.005 * d * (1 + 0.002 * k) for k, d in drift.items()}
    centre, low, high, method = paired_ratio(b1, b16)
    assert centre == pytest.approx(2.0, rel=0.01) and high / low < 1.03 and method.startswith("paired by window")
    assert paired_ratio(b1, {0: 0.005}) is None  # one common window: nothing to pair
    frame = pd.DataFrame([
        {"model": "A", "batch_size": b, "metric": "latency_per_image", "status": "ok", "value": v, "flags": "",
         "details": json.dumps({"window_medians_s": [w[k] * b for k in sorted(w)], "window_rounds": sorted(w)})}
        for b, v, w in ((1, 0.010, b1), (16, 0.005, b16))])
    windows = window_medians(frame)
    assert windows[("A", 16)][1] == pytest.approx(b16[1])
    t = pd.DataFrame({1: [0.010], 16: [0.005]}, index=["A"])
    lo, hi = t * 0.8, t * 1.2  # each point's own interval holds the drift: +-20 %
    unpaired, n0 = _speedup_draws(t, lo, hi, ["A"], 1, 16)
    paired, n1 = _speedup_draws(t, lo, hi, ["A"], 1, 16, windows)
    width = [np.subtract(*np.quantile(d[:, 0], [0.975, 0.025])) for d in (unpaired, paired)]
    assert (n0, n1) == (0, 1) and width[1] < width[0] / 5
