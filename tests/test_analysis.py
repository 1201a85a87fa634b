"""Fits, statistics and claim verdicts on synthetic data with known answers."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from helpers import analysis as A
from helpers.reference import PAPER_MODELS, paper_models
from helpers.results import COLUMNS, make_row

TAG = "cpu-test-host"
BATCHES = (1, 2, 4, 8, 16, 32, 64)
REF = paper_models()
OPS = REF["gops_published"]                # G-ops
PARAM_MB = REF["params_m_paper"] * 4       # float32 parameter memory, MB
TOP1 = REF["top1_pct"]
# per-image throughput of the synthetic machine, G-ops per second, rising with batch size
SPEED = {1: 100.0, 2: 120.0, 4: 140.0, 8: 160.0, 16: 180.0, 32: 190.0, 64: 200.0}
# AlexNet's fully connected layers: a penalty at small batches
FC_PENALTY = {1: 3.0, 2: 2.0, 4: 1.5, 8: 1.2, 16: 1.0, 32: 1.0, 64: 1.0}


def ok(model, batch, metric, value, unit, tag=TAG):
    return make_row(device_tag=TAG if tag is None else tag, model=model, batch_size=batch,
                    metric=metric, value=float(value), unit=unit, status="ok",
                    timestamp="2025-01-31T12:00:00+00:00")


def frame(rows):
    return pd.DataFrame(rows, columns=list(COLUMNS))


def latency(model, b, alex_penalty=True):
    t = OPS[model] / SPEED[b]
    if alex_penalty and model == "AlexNet":
        t *= FC_PENALTY[b]
    return t


def static_mb(model):  # floor 200 MB under 100 MB of parameters, then slope 1.3
    p = PARAM_MB[model]
    return 200.0 if p < 100 else 1.3 * p + 70.0


def peak_mb(model, b):  # flat to batch 8, then 3 MB per image per G-op
    return static_mb(model) + 3.0 * OPS[model] * max(0, b - 8)


def power_w(model, b):  # +11.8 W, a small per-model offset, batch 1 lower
    offset = 0.5 * math.sin(PAPER_MODELS.index(model))
    return 11.8 + offset - (4.0 if b == 1 else 0.0) + 0.05 * math.log2(b)


def paper_like_results(batches=BATCHES, metrics=("latency_per_image", "memory_static",
                                                   "memory_peak", "power_net",
                                                   "energy_per_image"), **over):
    """Every claim's shape as the paper describes it (``over`` replaces a value function)."""
    f = {"latency_per_image": (latency, "s"),
         "memory_static": (lambda m, b: static_mb(m), "MB"),
         "memory_peak": (peak_mb, "MB"),
         "power_net": (power_w, "W"),
         "energy_per_image": (lambda m, b: power_w(m, b) * latency(m, b), "J")}
    for k, fn in over.items():
        f[k] = (fn, f[k][1])
    rows = [ok(m, b, metric, f[metric][0](m, b), f[metric][1])
            for metric in metrics for m in PAPER_MODELS for b in batches]
    return frame(rows)


@pytest.fixture(scope="module")
def results():
    return paper_like_results()


# ================================================================== fits

def test_linear_fit_perfect_line_and_noise():
    x = np.arange(10.0)
    fit = A.linear_fit(x, 2.5 * x - 3)
    assert fit.slope == pytest.approx(2.5) and fit.intercept == pytest.approx(-3)
    assert fit.r2 == pytest.approx(1.0) and fit.n == 10
    rng = np.random.default_rng(0)
    noisy = A.linear_fit(x, 2.5 * x + rng.normal(0, 5, 10))
    assert noisy.r2 < 0.99
    # NaN pairs dropped; too few points or constant x give NaN
    assert A.linear_fit([1, 2, np.nan, 4], [2, 4, 6, 8]).n == 3
    assert math.isnan(A.linear_fit([1], [1]).slope)
    assert math.isnan(A.linear_fit([2, 2, 2], [1, 2, 3]).slope)


def test_speedup(results):
    assert A.speedup(results, "ResNet-50") == pytest.approx(2.0)       # 200 / 100
    assert A.speedup(results, "AlexNet") == pytest.approx(6.0)         # 2 x penalty 3
    assert A.speedup(results, "AlexNet", 1, 16) == pytest.approx(5.4)
    assert math.isnan(A.speedup(results, "AlexNet", 1, 128))
    assert math.isnan(A.speedup(results, "NoSuchNet"))


def test_metric_table_converts_units_and_keeps_ok_rows():
    rows = [ok("A", 1, "latency_per_image", 20.0, "ms"), ok("A", 2, "latency_per_image", 0.5, "s"),
            ok("B", 1, "memory_peak", 1.0, "GB"),
            make_row(device_tag=TAG, model="A", batch_size=4, metric="latency_per_image",
                     status="skipped", reason="out of memory")]
    table = A.metric_table(frame(rows), "latency_per_image")
    assert table.loc["A", 1] == pytest.approx(0.02) and table.loc["A", 2] == pytest.approx(0.5)
    assert list(table.columns) == [1, 2]
    assert A.metric_table(frame(rows), "memory_peak").loc["B", 1] == pytest.approx(1000.0)
    assert A.batch_sizes(frame(rows), "latency_per_image") == [1, 2]
    with pytest.raises(ValueError, match="unknown unit"):
        A.metric_table(frame([ok("A", 1, "power_net", 1.0, "horsepower")]), "power_net")


def test_metric_table_several_devices_needs_a_tag():
    rows = [ok("A", 1, "power_net", 10.0, "W", tag="dev-a"),
            ok("A", 1, "power_net", 20.0, "W", tag="dev-b")]
    with pytest.raises(A.AmbiguousDeviceError, match="dev-a, dev-b"):
        A.metric_table(frame(rows), "power_net")
    assert A.metric_table(frame(rows), "power_net", "dev-b").loc["A", 1] == 20.0


def test_memory_knee_found_at_8():
    b = np.array(BATCHES)
    peak = 300.0 + 5.0 * np.maximum(0, b - 8)
    knee = A.memory_knee(b, peak)
    assert knee.batch == 8
    assert knee.static_mb == pytest.approx(300.0)
    assert knee.slope_mb_per_image == pytest.approx(5.0)
    assert knee.r2_flat == pytest.approx(1.0) and knee.r2_linear < 0.99
    assert knee.beats_line


def test_memory_knee_with_noise_still_beats_line():
    b = np.array(BATCHES)
    rng = np.random.default_rng(1)
    peak = 300.0 + 5.0 * np.maximum(0, b - 8) + rng.normal(0, 1.0, b.size)
    knee = A.memory_knee(b, peak)
    assert knee.batch == 8 and knee.beats_line and knee.p_value < 0.05


def test_memory_knee_affine_growth_is_a_line_not_a_knee():
    b = np.array(BATCHES, dtype=float)
    rng = np.random.default_rng(3)  # this noise pulls the best breakpoint to batch 2
    knee = A.memory_knee(b, 300.0 + 5.0 * b + rng.normal(0, 1.0, b.size))
    assert knee.batch == 2 and knee.p_value > 0.05 and not knee.beats_line
    exact = A.memory_knee(b, 300.0 + 5.0 * b)
    assert exact.batch == 1 and not exact.beats_line and exact.r2_linear == pytest.approx(1.0)
    with pytest.raises(ValueError, match="at least 3"):
        A.memory_knee([1, 2], [1.0, 2.0])


def test_floor_slope_fit_recovers_200_and_1_30():
    param = np.array([20, 30, 45, 60, 90, 120, 200, 300, 500, 600], dtype=float)
    static = np.where(param < 100, 200.0, 1.3 * param + 50.0)
    fs = A.floor_slope_fit(param, static)
    assert fs.floor_mb == pytest.approx(200.0)
    assert fs.slope == pytest.approx(1.3) and fs.intercept == pytest.approx(50.0)
    assert fs.r2 == pytest.approx(1.0)
    assert (fs.n_floor, fs.n_linear) == (5, 5)
    assert fs.floor_excess_mb == pytest.approx(200 - (1.3 * 45 + 50))
    every = A.floor_slope_fit(param, static, fit_all=True)
    assert every.r2 < 1.0 and every.n_linear == 5


def test_ops_vs_time_is_the_machine_speed(results):
    for b in (1, 16):
        fit = A.ops_vs_time(results, None, b)
        assert fit.n == 14
        assert fit.r2 > 0.99
    assert A.ops_vs_time(results, None, 16).slope == pytest.approx(180.0, rel=0.01)
    assert A.ops_vs_time(results, None, 3).n == 0


def test_power_spread(results):
    spread = A.power_spread(results)
    assert set(spread.per_model.index) == set(PAPER_MODELS)
    assert (spread.per_model["n_batches"] == 6).all()    # batch 1 excluded
    assert spread.per_model["cv"].max() < 0.05
    assert spread.n_models == 14
    expected = [power_w(m, 64) for m in PAPER_MODELS]
    assert spread.mean_w == pytest.approx(np.mean(expected))
    assert spread.std_w == pytest.approx(np.std(expected, ddof=1))
    with_one = A.power_spread(results, exclude_batches=())
    assert (with_one.per_model["cv"] > spread.per_model["cv"]).all()


def test_pareto_and_linear_bound():
    top1 = pd.Series({"a": 80.0, "b": 70.0, "c": 60.0, "d": 50.0, "slow_bad": 55.0})
    ips = pd.Series({"a": 10.0, "b": 20.0, "c": 30.0, "d": 40.0, "slow_bad": 15.0})
    assert list(A.pareto_mask(ips, top1)) == [True, True, True, True, False]
    bound = A.accuracy_throughput_bound(top1, ips)
    assert bound.slope == pytest.approx(-1.0) and bound.intercept == pytest.approx(90.0)
    assert bound.r2 == pytest.approx(1.0) and bound.n_frontier == 4 and bound.n == 5
    assert set(bound.frontier) == {"a", "b", "c", "d"}
    assert bound.max_excess_pts == pytest.approx(0.0, abs=1e-9) and bound.all_below
    # arrays align by position
    assert A.accuracy_throughput_bound(top1.to_numpy(), ips.to_numpy()).slope == pytest.approx(-1.0)


def test_hyperbolic_fit():
    t = np.array([0.01, 0.02, 0.05, 0.1, 0.2])
    top1 = 80.0 - 0.1 / t
    fit = A.hyperbolic_fit(t, top1)
    assert fit.a == pytest.approx(80.0) and fit.b == pytest.approx(-0.1)
    assert fit.r2 == pytest.approx(1.0) and fit.n == 5
    # a dominated point (slow and inaccurate) is left out of the frontier fit only
    t2, a2 = np.append(t, 0.2), np.append(top1, 40.0)
    assert A.hyperbolic_fit(t2, a2).r2 == pytest.approx(1.0)
    assert A.hyperbolic_fit(t2, a2, frontier_only=False).r2 < 0.9


def test_energy_accuracy_bound_is_a_step_function():
    energy = pd.Series({"cheap": 0.1, "mid": 0.2, "waste": 0.3, "best": 0.5})
    top1 = pd.Series({"cheap": 60.0, "mid": 70.0, "waste": 65.0, "best": 78.0})
    env = A.energy_accuracy_bound(energy, top1)
    assert list(env["model"]) == ["cheap", "mid", "waste", "best"]
    assert list(env["best_top1_pct"]) == [60.0, 70.0, 70.0, 78.0]
    assert list(env["best_model"]) == ["cheap", "mid", "mid", "best"]
    assert list(env["on_frontier"]) == [True, True, False, True]


def test_accuracy_density_and_ratio():
    dens = A.accuracy_density(TOP1, REF["params_m_paper"])
    assert list(dens.index[:4]) == ["ENet", "GoogLeNet", "BN-NIN", "ResNet-18"]
    assert dens.loc["ENet", "density_pct_per_m"] == pytest.approx(68.40 / 5.86)
    assert dens.loc["ENet", "rank"] == 1 and dens["rank"].max() == 14
    assert A.density_ratio(dens, "ENet", "AlexNet") == pytest.approx(13.0, abs=0.1)
    assert A.density_ratio(dens, "ENet", "VGG-19") == pytest.approx(23.7, abs=0.1)
    assert math.isnan(A.density_ratio(dens, "ENet", "NoSuchNet"))


# ================================================================== claims

def counts_with(**changes):
    c = A.paper_counts().set_index("model")
    for model, (column, value) in changes.items():
        c.loc[model.replace("_", "-"), column] = value
    if "params_m" in {col for col, _ in changes.values()}:
        c["params"] = c["params_m"] * 1e6
    return c.reset_index()


def test_c1_holds_and_fails():
    assert A.claim_c1(TOP1).verdict == A.HOLDS
    better_vgg = TOP1.copy()
    better_vgg["VGG-19"] = 75.0
    v = A.claim_c1(better_vgg)
    assert v.verdict == A.DOES_NOT_HOLD and "2.84" in v.this_run
    v = A.claim_c1(TOP1.drop([m for m in TOP1.index if m.startswith("Inception")]))
    assert v.verdict == A.CANNOT_MEASURE and "no Inception model" in v.reason


def test_c2_holds_and_fails():
    assert A.claim_c2(None).verdict == A.HOLDS
    assert A.claim_c2(A.paper_counts()).verdict == A.HOLDS
    v = A.claim_c2(counts_with(ResNet_152=("gops_published", 35.0)))
    assert v.verdict == A.DOES_NOT_HOLD and "ResNet-152" in v.this_run
    no_vgg = A.paper_counts()
    v = A.claim_c2(no_vgg[~no_vgg["model"].str.startswith("VGG")])
    assert v.verdict == A.CANNOT_MEASURE and "no VGG" in v.reason


def test_c3_holds(results):
    v = A.claim_c3(results)
    assert v.verdict == A.HOLDS
    assert "AlexNet speed-up 6.00x vs median 2.00x" in v.this_run


def test_c3_fails_when_alexnet_gains_least():
    def flat_alexnet(m, b):
        return OPS[m] / 100 if m == "AlexNet" else latency(m, b)
    v = A.claim_c3(paper_like_results(metrics=("latency_per_image",), latency_per_image=flat_alexnet))
    assert v.verdict == A.DOES_NOT_HOLD and "AlexNet" in v.reason


def test_c3_fails_when_time_rises_with_batch():
    v = A.claim_c3(paper_like_results(metrics=("latency_per_image",),
                                      latency_per_image=lambda m, b: OPS[m] * b))
    assert v.verdict == A.DOES_NOT_HOLD and "falls for only 0%" in v.reason


def test_c3_smoke_run_cannot_be_measured():
    v = A.claim_c3(paper_like_results(batches=(1, 2), metrics=("latency_per_image",)))
    assert v.verdict == A.CANNOT_MEASURE
    assert v.reason == "needs batch sizes 1 and 64; this run has 1, 2"


def test_c4_holds_and_fails(results):
    assert A.claim_c4(results).verdict == A.HOLDS
    rising = paper_like_results(metrics=("power_net",),
                                power_net=lambda m, b: 2.0 + 2.0 * math.log2(b))
    v = A.claim_c4(rising)
    assert v.verdict == A.DOES_NOT_HOLD and "0/14" in v.this_run


def test_power_claims_without_a_sensor():
    rows = [make_row(device_tag=TAG, model=m, batch_size=1, metric="power_net",
                     status="unavailable", reason="no power sensor on this device")
            for m in PAPER_MODELS]
    no_sensor = pd.concat([paper_like_results(metrics=("latency_per_image",)), frame(rows)])
    for claim in (A.claim_c4, A.claim_c7):
        v = claim(no_sensor)
        assert v.verdict == A.CANNOT_MEASURE
        assert v.reason.startswith("no power_net rows") and "no power sensor on this device" in v.reason
    v = A.claim_c10(no_sensor)
    assert v.verdict == A.CANNOT_MEASURE and "energy_per_image" in v.reason
    v = A.claim_c4(paper_like_results(metrics=("latency_per_image",)))
    assert v.verdict == A.CANNOT_MEASURE and v.reason.startswith("no power_net rows:")


def test_c4_needs_two_batches_above_one():
    v = A.claim_c4(paper_like_results(batches=(1, 2), metrics=("power_net",)))
    assert v.verdict == A.CANNOT_MEASURE and "this run has batch sizes 1, 2" in v.reason


def test_c5_holds_and_fails(results):
    v = A.claim_c5(results)
    assert v.verdict == A.HOLDS and "14/14" in v.this_run and "batch 8" in v.this_run
    affine = paper_like_results(metrics=("memory_peak",),
                                memory_peak=lambda m, b: static_mb(m) + 3.0 * OPS[m] * b)
    v = A.claim_c5(affine)
    assert v.verdict == A.DOES_NOT_HOLD and "0/14" in v.this_run
    smoke = A.claim_c5(paper_like_results(batches=(1, 2), metrics=("memory_peak",)))
    assert smoke.verdict == A.CANNOT_MEASURE and "this run has 1, 2" in smoke.reason


def test_c6_holds_and_fails(results):
    v = A.claim_c6(results)
    assert v.verdict == A.HOLDS
    assert "floor 200.0 MB (6 models), slope 1.30" in v.this_run
    no_floor = paper_like_results(metrics=("memory_static",),
                                  memory_static=lambda m, b: PARAM_MB[m] + 30.0)
    v = A.claim_c6(no_floor)
    assert v.verdict == A.DOES_NOT_HOLD and "no floor" in v.reason
    few = paper_like_results(metrics=("memory_static",))
    few = few[few["model"].isin(["ENet", "GoogLeNet", "VGG-16"])]
    v = A.claim_c6(few)
    assert v.verdict == A.CANNOT_MEASURE and "this run has 2 and 1" in v.reason


def test_c7_holds_and_fails(results):
    v = A.claim_c7(results)
    assert v.verdict == A.HOLDS and "14 models" in v.this_run
    own_power = paper_like_results(metrics=("power_net",),
                                   power_net=lambda m, b: 5.0 + 2.0 * PAPER_MODELS.index(m))
    assert A.claim_c7(own_power).verdict == A.DOES_NOT_HOLD
    # C4 holds on the same data: each model flat across batch sizes
    assert A.claim_c4(own_power).verdict == A.HOLDS


def test_c8_holds_and_fails(results):
    v = A.claim_c8(results)
    assert v.verdict == A.HOLDS and "batch 16: slope 180" in v.this_run
    reversed_ops = dict(zip(PAPER_MODELS, sorted(OPS, reverse=True)))
    anti = paper_like_results(metrics=("latency_per_image",),
                              latency_per_image=lambda m, b: reversed_ops[m] / SPEED[b])
    assert A.claim_c8(anti).verdict == A.DOES_NOT_HOLD
    # slower per image at batch 16 than at 1: linear but not steeper
    slower = paper_like_results(metrics=("latency_per_image",),
                                latency_per_image=lambda m, b: OPS[m] / SPEED[b] * b)
    v = A.claim_c8(slower)
    assert v.verdict == A.DOES_NOT_HOLD and "does not rise" in v.reason
    v = A.claim_c8(paper_like_results(batches=(1, 2), metrics=("latency_per_image",)))
    assert v.verdict == A.CANNOT_MEASURE and v.reason == "needs batch sizes 1 and 16; this run has 1, 2"


def test_operations_column_defaults_to_gops_and_falls_back_to_the_papers_own():
    # count_table's shape: gops (groups honoured) and gops_2016 differ for AlexNet only
    counts = A.paper_counts().assign(gops=OPS.to_numpy(), gops_2016=OPS.to_numpy())
    counts.loc[counts["model"] == "AlexNet", "gops"] = 1.44
    ops, column = A._ops(counts)
    assert column == "gops" and ops["AlexNet"] == 1.44
    ops, column = A._ops(counts, "gops_2016")
    assert column == "gops_2016" and ops["AlexNet"] == OPS["AlexNet"]
    # the paper's own counts carry only the published G-ops
    ops, column = A._ops(None)
    assert column == "gops_published" and ops["VGG-19"] == pytest.approx(39.29)
    assert A._ops(counts.drop(columns=["gops", "gops_published"]).assign(gmacs=1.0))[1] == "gmacs"
    with pytest.raises(ValueError, match=r"'gops_paper'.*valid: gops, gops_2016"):
        A._ops(counts, "gops_paper")


def test_c8_uses_gops_by_default(results):
    # per-image time follows the published G-ops; our gops halves VGG-19's: the fit worsens
    counts = A.paper_counts().assign(gops=OPS.to_numpy())
    counts.loc[counts["model"] == "VGG-19", "gops"] = OPS["VGG-19"] / 2
    fit = A.ops_vs_time(results, counts, 16)
    assert fit.r2 < 0.99
    assert A.ops_vs_time(results, counts, 16, "gops_published").r2 == pytest.approx(1.0)
    assert "G-ops/s" in A.claim_c8(results, counts).this_run


def _bound_results(ips_of):
    return frame([ok(m, b, "latency_per_image", 1.0 / ips_of(m, b), "s")
                  for m in PAPER_MODELS for b in (1, 16)])


def test_c9_holds_on_a_linear_bound():
    # every model on the line top1 = 82 - ips / (10 * speed factor), a few below it
    def ips(m, b):
        return 10.0 * (82.0 - TOP1[m]) * (2.0 if b == 16 else 1.0)
    v = A.claim_c9(_bound_results(ips))
    assert v.verdict == A.HOLDS
    assert "AlexNet +274 Hz" in v.this_run  # 10 * (82 - 54.61) gained from batch 1 to 16


def test_c9_fails_on_a_convex_frontier():
    # accuracy collapses only for the very fastest models: far from a straight line
    v = A.claim_c9(_bound_results(lambda m, b: (81.0 - TOP1[m]) ** 4))
    assert v.verdict == A.DOES_NOT_HOLD and "R2 0.751 < 0.8" in v.reason
    # milder curvature: the line fits (R2 0.92) but the middle models rise above it
    v = A.claim_c9(_bound_results(lambda m, b: (81.0 - TOP1[m]) ** 2))
    assert v.verdict == A.DOES_NOT_HOLD and "3.87 pts above the line" in v.reason


def test_c9_without_a_tradeoff_cannot_fit_a_line():
    # the most accurate model is also the fastest: a single Pareto-optimal point
    v = A.claim_c9(_bound_results(lambda m, b: TOP1[m]))
    assert v.verdict == A.CANNOT_MEASURE and "only 1 Pareto-optimal" in v.reason


def test_c10_holds_and_fails(results):
    v = A.claim_c10(results)
    assert v.verdict == A.HOLDS and "R2 0.99" in v.this_run
    inverse = paper_like_results(metrics=("latency_per_image", "energy_per_image"),
                                 energy_per_image=lambda m, b: 0.01 / latency(m, b))
    v = A.claim_c10(inverse)
    assert v.verdict == A.DOES_NOT_HOLD and "not proportional" in v.reason


def test_c11_holds_and_fails():
    assert A.claim_c11(TOP1, None).verdict == A.HOLDS
    v = A.claim_c11(TOP1, counts_with(ENet=("params_m", 20.0)))
    assert v.verdict == A.DOES_NOT_HOLD and "order" in v.reason
    # order kept, ratios off: ENet slightly denser than the paper's, AlexNet much denser
    v = A.claim_c11(TOP1, counts_with(AlexNet=("params_m", 20.0)))
    assert v.verdict == A.DOES_NOT_HOLD and "ratios" in v.reason
    v = A.claim_c11(TOP1.drop("ENet"), None)
    assert v.verdict == A.CANNOT_MEASURE and "ENet" in v.reason


def test_several_devices_need_a_tag():
    a = paper_like_results(metrics=("latency_per_image",))
    b = a.assign(device_tag="cpu-other-host")
    both = pd.concat([a, b], ignore_index=True)
    v = A.claim_c3(both)
    assert v.verdict == A.CANNOT_MEASURE and "several devices" in v.reason
    assert A.claim_c3(both, device_tag=TAG).verdict == A.HOLDS


# ================================================================== the table

def test_claims_table_on_an_empty_run():
    empty = pd.DataFrame(columns=list(COLUMNS))
    table = A.claims_table(empty, A.paper_counts(), TOP1)
    assert list(table["claim"]) == list(A.CLAIM_IDS) and len(table) == 11
    verdicts = dict(zip(table["claim"], table["verdict"]))
    assert {verdicts[c] for c in ("C1", "C2", "C11")} == {A.HOLDS}
    for c in ("C3", "C4", "C5", "C6", "C7", "C8", "C9", "C10"):
        assert verdicts[c] == A.CANNOT_MEASURE
    reasons = dict(zip(table["claim"], table["reason"]))
    assert reasons["C4"].startswith("no power_net rows")
    assert reasons["C3"].startswith("no latency_per_image rows")
    assert set(table["verdict"]) <= set(A.VERDICTS)
    assert list(A.claims_table(None)["claim"]) == list(A.CLAIM_IDS)


def test_claims_table_on_a_paper_like_run(results):
    table = A.claims_table(results, A.paper_counts(), TOP1)
    verdicts = dict(zip(table["claim"], table["verdict"]))
    assert verdicts.pop("C9") != A.HOLDS  # paper-like times give a hyperbolic, not linear, frontier
    assert set(verdicts.values()) == {A.HOLDS}
    assert table["paper_figure"].str.len().min() > 0
    assert table["statistic"].str.len().min() > 0


def test_claims_table_smoke_run_reasons():
    smoke = paper_like_results(batches=(1, 2), metrics=("latency_per_image", "memory_static",
                                                         "memory_peak"))
    table = A.claims_table(smoke).set_index("claim")
    assert table.loc["C3", "reason"] == "needs batch sizes 1 and 64; this run has 1, 2"
    assert table.loc["C8", "reason"] == "needs batch sizes 1 and 16; this run has 1, 2"
    assert table.loc["C4", "verdict"] == A.CANNOT_MEASURE


def test_claims_table_restricts_to_the_paper_models_and_reports_failures(results):
    extra = frame([ok("vit_h_14", b, "latency_per_image", 99.0, "s") for b in BATCHES])
    table = A.claims_table(pd.concat([results, extra]), None, None).set_index("claim")
    assert "vit_h_14" not in table.loc["C3", "this_run"]
    assert table.loc["C3", "verdict"] == A.HOLDS
    bad_unit = frame([ok("AlexNet", 1, "power_net", 1.0, "horsepower")])
    table = A.claims_table(bad_unit).set_index("claim")
    assert table.loc["C4", "verdict"] == A.CANNOT_MEASURE
    assert table.loc["C4", "reason"].startswith("analysis failed: ValueError") \
        and "horsepower" in table.loc["C4", "reason"]


def test_verdict_rejects_unknown_verdicts():
    with pytest.raises(ValueError, match="must be one of"):
        A.Verdict("C1", "Fig 1", "", "", "", "", "maybe", "")


def test_devices_with_and_at_largest_batch():
    import numpy as np
    import pandas as pd

    from helpers.analysis import at_largest_batch, devices_with

    frame = pd.DataFrame({"device_tag": ["a", "b", "b"], "metric": ["power_net", "power_net", "x"],
                          "status": ["unavailable", "ok", "ok"]})
    assert devices_with(frame, "power_net") == ["b"]
    assert devices_with(frame.iloc[0:0], "power_net") == []
    table = pd.DataFrame({1: [1.0, 5.0, np.nan], 64: [2.0, np.nan, np.nan]}, index=["m1", "m2", "m3"])
    largest = at_largest_batch(table)
    assert largest["m1"] == 2.0 and largest["m2"] == 5.0 and np.isnan(largest["m3"])


def test_speedups_knees_and_fig6_points_from_a_results_frame():
    import pandas as pd

    from helpers.analysis import memory_knees, speedups, static_vs_parameter_memory

    rows = []
    for b in (1, 2, 4, 8, 16):
        rows += [{"device_tag": "d", "model": "A", "batch_size": b, "metric": "latency_per_image",
                  "value": 0.4 if b == 1 else 0.1, "unit": "s", "status": "ok"},
                 {"device_tag": "d", "model": "A", "batch_size": b, "metric": "memory_peak",
                  "value": 100.0 + 10 * max(0, b - 4), "unit": "MB", "status": "ok"},
                 {"device_tag": "d", "model": "A", "batch_size": b, "metric": "memory_static",
                  "value": 50.0, "unit": "MB", "status": "ok"}]
    frame = pd.DataFrame(rows)
    assert speedups(frame, 1, 16, "d").to_dict() == {"A": 4.0}
    assert speedups(frame, 1, 64, "d").empty
    knee = memory_knees(frame, "d")["A"]
    assert knee.batch == 4 and knee.slope_mb_per_image == pytest.approx(10.0)
    points = static_vs_parameter_memory(frame, pd.DataFrame({"model": ["A"], "params": [1_000_000]}), "d")
    assert points.loc["A"].to_dict() == {"param_mb": 4.0, "static_mb": 50.0}
