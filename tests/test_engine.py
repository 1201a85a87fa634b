"""The measurement engine: intervals, flags, contention from injected readings, rounds, forked points."""
from __future__ import annotations

import dataclasses
import math
import os
import signal
import time

import pytest

from helpers.measure import engine, worker
from helpers.core.procfs import CpuReading
from helpers.core.stats import median_interval
from helpers.measure.engine import PointState, contention, relative_half_width
from helpers.measure.profiles import EngineSettings


# --------------------------------------------------------------------------- statistics
def test_order_statistic_interval_for_six_samples_or_more():
    xs = [1.00, 1.01, 0.99, 1.02, 0.98, 1.00, 1.01, 0.995, 1.005, 1.0]
    median, low, high, method = median_interval(xs, few_samples="t-on-log")
    assert method == "order-statistic" and median == pytest.approx(1.0)
    # n = 10: the binomial interval is the 2nd to the 9th order statistic (coverage 97.9 %).
    ordered = sorted(xs)
    assert (low, high) == (ordered[1], ordered[8])
    assert relative_half_width(median, low, high) == pytest.approx(max(median - low, high - median) / median)


def test_few_samples_get_a_wider_t_interval_and_one_sample_none():
    median, low, high, method = median_interval([2.0, 2.1, 1.9], few_samples="t-on-log")
    assert method == "t-on-log" and low < 1.9 and high > 2.1  # wider than the samples' range
    median, low, high, method = median_interval([3.0], few_samples="t-on-log")
    assert median == 3.0 and math.isnan(low) and math.isnan(high) and relative_half_width(median, low, high) == math.inf
    with pytest.raises(ValueError, match="positive finite"):
        median_interval([1.0, 0.0], few_samples="t-on-log")


def test_unstable_is_a_sample_over_three_times_the_median():
    assert engine.is_unstable([1, 1, 1, 3.1]) and not engine.is_unstable([1, 1, 1, 2.9])


# --------------------------------------------------------------------------- contention from readings
def reading(busy, steal, own, wall, cores=2):
    return CpuReading(busy_s=busy, steal_s=steal, own_s=own, wall_s=wall, cores=cores)


def test_contention_is_others_busy_time_plus_steal_as_a_share_of_the_cores():
    # 1 s, 2 cores: we used 2.0 s of CPU, the cores were busy 2.0 s: nobody else.
    assert contention(reading(100, 5, 10, 50), reading(102, 5, 12, 51)) == 0.0
    # Another process used one core for the whole second while we used the other.
    assert contention(reading(100, 5, 10, 50), reading(102, 5, 11, 51)) == pytest.approx(0.5)
    # Steal time (a busy hypervisor) counts too: 0.4 s over 2 cores and 1 s.
    assert contention(reading(100, 5, 10, 50), reading(102, 5.4, 12, 51)) == pytest.approx(0.2)
    # No readings (no /proc/stat): unknown, never "quiet".
    assert math.isnan(contention(None, reading(1, 1, 1, 1)))
    # As dicts, the way they travel from a point's process.
    assert contention(vars(reading(0, 0, 0, 0)), vars(reading(1, 0, 0, 1))) == pytest.approx(0.5)


# --------------------------------------------------------------------------- planning
SETTINGS = EngineSettings(rounds=2, rounds_fast=2, max_rounds=3, min_passes=5, min_passes_slow=3,
                          round_time_s=0.1, point_cap_s=2.0, slow_pass_s=1.0, target_rel_ci=0.02,
                          imprecise_above=0.10)


def visit(samples, share=0.0, first=False, round_index=0):
    return {"status": "ok", "samples": samples, "block": 1, "first_pass_counted": first,
            "contended_share": share, "round": round_index}


def test_each_point_is_visited_in_every_planned_round_with_memory_in_every_window():
    state = PointState("m", 1)
    first = state.next_visit(SETTINGS, 0)
    assert first["memory"] is True and first["min_samples"] == 3  # 5 samples over 2 rounds
    assert first["min_samples_slow"] == 2  # or 3 over 2 rounds, should its passes turn out slow
    state.visits.append(visit([1.0] * 20))
    second = state.next_visit(SETTINGS, 1)
    assert second is not None and second["memory"] is True  # memory is read in every window
    state.visits.append(visit([1.0] * 20, round_index=1))
    assert state.next_visit(SETTINGS, 2) is None  # precise: no third round


def test_a_contended_visit_is_set_aside_and_remeasured():
    state = PointState("m", 1)
    state.visits += [visit([0.01] * 20, share=0.6), visit([0.01] * 3, round_index=1)]
    assert state.samples(SETTINGS.contention_share) == [0.01] * 3
    again = state.next_visit(SETTINGS, 2)
    assert again is not None and again["min_samples"] >= 2  # 3 clean samples < 5
    summary = state.summary(SETTINGS)
    # too few clean ones: all, flagged; n counts windows, the within-window interval's n samples
    assert "contended" in summary["flags"] and summary["n"] == 2 and summary["within"]["n"] == 23


def test_an_imprecise_point_gets_more_time_within_its_cap_then_stops_flagged():
    noisy = [0.010, 0.013, 0.008, 0.011, 0.009, 0.0125, 0.0085, 0.012]
    state = PointState("m", 1)
    state.visits += [visit(noisy), visit(noisy, round_index=1)]
    assert state.next_visit(SETTINGS, 2) is None  # by default no round after the planned ones for precision
    extra = state.next_visit(dataclasses.replace(SETTINGS, extra_rounds_for_width=True), 2)
    assert extra is not None and 0 < extra["budget_s"] <= SETTINGS.point_cap_s
    assert state.next_visit(dataclasses.replace(SETTINGS, extra_rounds_for_width=True), 3) is None
    assert "imprecise" in state.summary(SETTINGS)["flags"]
    # At its cap a point gets no more time, however imprecise.
    capped = PointState("m", 2)
    capped.visits += [visit([x * 100 for x in noisy]), visit([x * 100 for x in noisy], round_index=1)]
    assert capped.timed_s() > SETTINGS.point_cap_s and capped.next_visit(SETTINGS, 2) is None


def test_slow_points_count_their_warm_up_and_need_three_samples():
    state = PointState("m", 64)
    state.visits.append(visit([2.0, 2.02], first=True))
    assert state.slow(SETTINGS)
    nxt = state.next_visit(SETTINGS, 1)
    assert nxt["min_samples_slow"] == 1
    state.visits.append(visit([2.01], first=True, round_index=1))
    summary = state.summary(SETTINGS)
    assert summary["n"] == 2 and summary["ci_method"].startswith("t interval on the logs of 2 windows")
    assert summary["within"]["n"] == 3 and summary["within"]["ci_method"] == "t-on-log"


def test_fast_points_are_spread_over_more_processes_with_the_same_time():
    settings = dataclasses.replace(SETTINGS, rounds_fast=6, fast_pass_s=0.25)
    fast, slow = PointState("m", 1), PointState("m", 64)
    fast.visits.append({**visit([0.02] * 10), "first_pass_s": 0.03})
    slow.visits.append({**visit([2.0, 2.0], first=True), "first_pass_s": 2.0})
    assert fast.planned_rounds(settings) == 6 and slow.planned_rounds(settings) == 2
    plan = fast.next_visit(settings, 1)
    assert plan["budget_s"] == pytest.approx(settings.round_time_s * 2 / 6)  # the same time, shared out
    assert fast.next_visit(settings, 5) is not None and slow.next_visit(settings, 1) is not None
    slow.visits.append({**visit([2.0], first=True, round_index=1), "first_pass_s": 2.0})
    assert slow.next_visit(settings, 2) is None  # two rounds and three samples: done


def test_a_warm_up_slowed_by_another_process_does_not_make_a_point_slow():
    state = PointState("m", 16)
    state.visits.append({**visit([1.06, 0.41], share=0.4, first=True), "first_pass_s": 1.06})  # contended
    state.visits.append({**visit([0.40, 0.41, 0.40], round_index=1), "first_pass_s": 0.45})
    assert not state.slow(SETTINGS)  # the clean samples say 0.4 s per pass
    plan = state.next_visit(SETTINGS, 2)
    assert plan["expected_pass_s"] == pytest.approx(0.40) and plan["min_samples"] == 2  # 5 needed, 3 clean


def test_a_failed_point_is_not_visited_again():
    state = PointState("m", 64)
    state.visits.append({"status": "skipped", "reason": "out of memory", "round": 0})
    assert state.failed["status"] == "skipped" and state.next_visit(SETTINGS, 1) is None


# --------------------------------------------------------------------------- forked points
def test_in_child_returns_the_dict_and_reports_kills_errors_and_timeouts():
    assert worker._in_child(lambda: {"status": "ok", "x": [1, 2]}, 30) == {"status": "ok", "x": [1, 2]}

    def killed():
        os.kill(os.getpid(), signal.SIGKILL)
        return {}

    r = worker._in_child(killed, 30)
    assert r["status"] == "skipped" and "SIGKILL" in r["reason"]

    def oom():
        raise RuntimeError("DefaultCPUAllocator: not enough memory: you tried to allocate 1 GB")

    r = worker._in_child(oom, 30)
    assert r["status"] == "skipped" and "not enough memory" in r["reason"]
    r = worker._in_child(lambda: 1 / 0, 30)
    assert r["status"] == "error" and "ZeroDivisionError" in r["reason"]
    start = time.monotonic()
    r = worker._in_child(lambda: time.sleep(30) or {}, 0.5)
    assert r["status"] == "error" and "longer than 0.5 s" in r["reason"] and time.monotonic() - start < 10


def test_the_readme_states_the_engine_settings_as_they_are():
    """The README's settings table is the profile's, value for value (one place, said once)."""
    import dataclasses
    import re

    from helpers.core.paths import REPO_ROOT

    readme = (REPO_ROOT / "README.md").read_text()
    for f in dataclasses.fields(EngineSettings):
        m = re.search(rf"^\| `{f.name}` \| ([^|]+) \|", readme, re.M)
        assert m, f"README's settings table lacks {f.name}"
        if isinstance(f.default, bool):
            assert m.group(1).strip() == str(f.default), (f.name, m.group(1), f.default)
        else:
            assert float(m.group(1)) == float(f.default), (f.name, m.group(1), f.default)


def test_a_model_whose_initialisation_runs_in_parallel_does_not_hang_its_point(tmp_path):
    """convnext_tiny's trunc_normal_ initialisation starts OpenMP's pool if the worker builds on several threads,
    and a point child forked from it then waits forever (libgomp is not fork-safe): the worker builds on one."""
    import subprocess
    import sys

    from helpers.core.paths import REPO_ROOT
    from helpers.store.results import load_results

    proc = subprocess.run([sys.executable, "-m", "helpers", "measure", "--models", "convnext_tiny", "--batch-sizes",
                           "1", "--metrics", "time", "--profile", "smoke", "--threads", "2", "--out", str(tmp_path)],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = load_results(tmp_path)
    row = rows[rows["metric"] == "latency_per_image"].iloc[0]
    assert row["status"] == "ok" and row["value"] > 0


# --------------------------------------------------------------------------- windows: what a re-run gives
def test_window_interval_is_a_t_interval_on_the_logs_of_the_window_medians():
    from scipy import stats

    from helpers.core.stats import window_interval

    values = [1.0, 1.1, 0.95]
    centre, low, high, method = window_interval(values)
    logs = [math.log(v) for v in values]
    mean = sum(logs) / 3
    sd = math.sqrt(sum((x - mean) ** 2 for x in logs) / 2)
    half = stats.t.ppf(0.975, 2) * sd / math.sqrt(3)
    assert centre == pytest.approx(math.exp(mean))
    assert (low, high) == (pytest.approx(math.exp(mean - half)), pytest.approx(math.exp(mean + half)))
    assert method == "t interval on the logs of 3 windows"
    one = window_interval([2.0])
    assert one[0] == 2.0 and math.isnan(one[1]) and math.isnan(one[2]) and one[3] == "one window: no interval"
    with pytest.raises(ValueError, match="positive finite"):
        window_interval([1.0, -1.0])


def test_windows_that_disagree_give_a_wider_interval_than_the_precision_within_them():
    settings = dataclasses.replace(SETTINGS, rounds=3, rounds_fast=3, max_rounds=4)
    state = PointState("m", 1)
    for r, level in enumerate((0.010, 0.011, 0.0095)):
        state.visits.append(visit([level * (1 + 0.001 * i) for i in range(10)], round_index=r))
    s = state.summary(settings)
    assert s["n"] == 3 and s["window_rounds"] == [0, 1, 2]
    assert s["rel_half_width"] > 2 * s["within"]["rel_half_width"]  # between windows: twice the pooled one
    assert s["low"] < 0.0095 < 0.011 < s["high"] and "imprecise" in s["flags"]  # +-20 % > the 10 % target
    assert "imprecise" not in state.summary(dataclasses.replace(settings, imprecise_above=0.30))["flags"]
    # Windows that agree by chance are never narrower than the within-window interval.
    same = PointState("m", 1)
    noisy = [0.010, 0.013, 0.008, 0.011, 0.009, 0.0125, 0.0085, 0.012]
    same.visits += [visit(noisy, round_index=r) for r in range(3)]
    t = same.summary(settings)
    assert (t["low"], t["high"]) == (t["within"]["low"], t["within"]["high"]) and "widened" in t["ci_method"]


def test_a_window_whose_check_standard_is_off_is_set_aside_and_made_up_even_at_the_cap():
    settings = dataclasses.replace(SETTINGS, rounds=3, rounds_fast=3, max_rounds=4)
    state = PointState("m", 64)
    state.visits += [visit([2.0], first=True, round_index=0), {**visit([2.6], first=True, round_index=1),
                                                                "check_off": True},
                     visit([2.02], first=True, round_index=2)]
    assert state.timed_s() > settings.point_cap_s
    assert len(state.windows(settings.contention_share)) == 2
    again = state.next_visit(settings, 3)
    assert again is not None and again["min_samples_slow"] >= 1  # a third clean window, despite the cap
    state.visits.append(visit([2.01], first=True, round_index=3))
    assert state.next_visit(settings, 4) is None and state.summary(settings)["n"] == 3


def test_the_check_standard_is_off_only_beyond_its_usual_spread():
    from helpers.measure.check_standard import check_is_off, check_spread

    earlier = [1.00, 1.01, 0.99, 1.02, 0.98, 1.00, 1.01, 0.995, 1.005]
    assert check_is_off(1.30, earlier, robust_sds=4, floor=0.05)       # 30 % slower: off
    assert not check_is_off(1.02, earlier, robust_sds=4, floor=0.05)   # within the spread
    assert not check_is_off(1.04, earlier, robust_sds=0.1, floor=0.05)  # beyond the spread, not the floor
    assert not check_is_off(2.0, earlier[:5], robust_sds=4, floor=0.05)  # too few windows to say
    assert check_spread(earlier) == pytest.approx(1.96 * 1.4826 * 0.0099, rel=0.05)
    assert math.isnan(check_spread([1.0, 1.1]))


def test_the_check_standard_times_a_fixed_workload():
    from helpers.measure.check_standard import time_check_standard

    out = time_check_standard(1)
    assert len(out["samples_s"]) == 3 and 0 < min(out["samples_s"]) <= out["median_s"] <= max(out["samples_s"])


def test_memory_readings_of_separate_windows_get_an_interval_and_a_flag():
    from helpers.measure.sweep import _memory_estimate

    steady = _memory_estimate([100.0, 100.4, 99.8], target=0.05)
    assert steady["n"] == 3 and steady["low"] < 100.0 < steady["high"] and steady["flags"] == ""
    spread = _memory_estimate([60.0, 100.0, 140.0], target=0.05)
    assert spread["flags"] == "imprecise" and spread["high"] > 140
    one = _memory_estimate([50.0], target=0.05)
    assert one["value"] == pytest.approx(50.0) and one["low"] is None and one["flags"] == "imprecise"
    # identical readings in every window: the interval is the resolution between runs, never zero wide
    same = _memory_estimate([23.0, 23.0, 23.0], target=0.05, resolution=0.01)
    assert same["low"] == pytest.approx(23.0 * 0.99) and same["high"] == pytest.approx(23.0 * 1.01)
    assert "resolution" in same["method"] and same["flags"] == ""
    assert _memory_estimate([23.0, 23.0, 23.0], target=0.05)["low"] == pytest.approx(23.0)  # no floor asked
    wide = _memory_estimate([60.0, 100.0, 140.0], target=0.05, resolution=0.01)
    assert (wide["low"], wide["high"]) == (spread["low"], spread["high"]) and "resolution" not in wide["method"]


def test_the_imprecise_targets_come_from_the_recorded_run_of_this_machine_type(tmp_path):
    import json

    import pandas as pd

    from helpers.measure.profiles import EngineSettings
    from helpers.measure.sweep import TARGET_MIN_POINTS, machine_targets, summarise

    def rows(widths, windows=True):
        out = []
        for i, w in enumerate(widths):
            details = {"window_medians_s": [1.0, 1.1, 0.9]} if windows else {}
            out.append({"device_tag": "cpu-test-2c", "fingerprint": "f", "model": f"M{i}", "batch_size": 1,
                        "metric": "latency_per_image", "value": 1.0, "median": 1.0, "ci_low": 1 - w,
                        "ci_high": 1 + w, "status": "ok", "flags": "", "details": json.dumps(details),
                        "timestamp": "2026-01-01T00:00:00+00:00"})
        return pd.DataFrame(out)

    folder = tmp_path / "cpu-test-2c"
    folder.mkdir()
    widths = [0.01 * (i + 1) for i in range(TARGET_MIN_POINTS)]  # 1 % to 20 %: 80 % of them within 16.2 %
    rows(widths).to_csv(folder / "results.csv", index=False)
    tuned = machine_targets(EngineSettings(), "cpu-test-2c", tmp_path)
    assert tuned.imprecise_above == pytest.approx(0.162) and tuned.memory_imprecise_above == 0.15  # no memory rows
    # a target set on purpose is kept; another machine type, or a run recorded before windows, changes nothing
    assert machine_targets(EngineSettings(imprecise_above=0.5), "cpu-test-2c", tmp_path).imprecise_above == 0.5
    assert machine_targets(EngineSettings(), "cpu-other-2c", tmp_path) == EngineSettings()
    rows(widths, windows=False).to_csv(folder / "results.csv", index=False)
    assert machine_targets(EngineSettings(), "cpu-test-2c", tmp_path) == EngineSettings()
    # the summary names the target its points were flagged against
    flagged = rows([0.1, 0.4]).assign(details=json.dumps({"imprecise_above": 0.3}), flags=["", "imprecise"])
    assert "1 of 2 (50 %) within the target (+-30 %)" in " ".join(summarise(flagged).lines())
