"""Lesson 8's helpers (helpers.analysis.modern), the `modern` profile, torchvision's reference top-1 for
library models, and the claims' wording when a part rests on it."""
from __future__ import annotations

import math

import matplotlib
import numpy as np
import pandas as pd
import pytest

from helpers.analysis import modern
from helpers.models.weights import library_top1, torchvision_top1
from helpers.analysis.accuracy import top1_for_claims
from helpers.analysis.claims import HOLDS, PAPERS_VALUES, claims_table, rule
from helpers.measure.profiles import PROFILES, get_profile
from helpers.core.reference import PAPER_MODELS, paper_models
from helpers.models.zoo import MODERN_MODELS, PRESETS, resolve_models

matplotlib.use("Agg")


# ------------------------------------------------------------------ the profile

def test_modern_profile_is_twenty_resolvable_networks_at_batches_1_and_16():
    prof = get_profile("modern")
    names = [s.name for s in resolve_models(list(prof.models))]
    assert names == list(MODERN_MODELS) and len(names) == 20 and prof.batch_sizes == (1, 16)
    assert "resnet50" in names and not set(names) & set(PAPER_MODELS)  # torchvision's ResNet-50: the 2016 anchor
    assert all(s.source.startswith("torchvision:") for s in resolve_models(names))
    assert prof.engine == PROFILES["full"].engine  # measured as carefully as the full profile


def test_modern_profile_asks_less_of_the_engine_than_the_full_one():
    """The full profile (98 points, 11,042 GMAC-images) measures in 12 minutes on the 2-core
    reference machine; the modern one must fit 10: fewer points and a tenth of the arithmetic."""
    full, new = modern.profile_load("full"), modern.profile_load("modern")
    assert full["points"] == 98 and new["points"] == 40
    assert new["gmac_images"] <= full["gmac_images"] * 10 / 12 / 5  # far inside the budget
    assert new["points"] <= full["points"] * 10 / 12


def test_measuring_load_sums_gmacs_over_batches():
    counts = pd.DataFrame({"gmacs": [1.0, 2.5]})
    assert modern.measuring_load(counts, [1, 16]) == {"models": 2.0, "points": 4.0, "gmac_images": 3.5 * 17}


# ------------------------------------------------------------------ reference top-1 for library models

def test_library_top1_names_the_weights_and_skips_paper_and_timm_models():
    ref = library_top1("mobilenet_v3_large")
    assert ref["top1_pct"] == pytest.approx(torchvision_top1("mobilenet_v3_large")["acc1"])
    assert ref["weights"] == "MobileNet_V3_Large_Weights.IMAGENET1K_V1" and ref["weights"] in ref["label"]
    assert ref["label"].startswith("library: torchvision")
    assert library_top1("efficientnet_v2_s")["weights"].endswith("IMAGENET1K_V1")  # its only entry
    assert library_top1("ResNet-50") is None  # a paper model keeps the paper's value
    assert library_top1("inception_v4") is None  # timm: no accuracy figure
    assert library_top1("not_a_model") is None


def test_top1_for_claims_gives_library_values_only_when_asked():
    names = ["ResNet-18", "mobilenet_v3_small", "inception_v4"]
    assert list(top1_for_claims(None, names)["model"]) == ["ResNet-18"]
    table = top1_for_claims(None, names, library=True).set_index("model")
    assert list(table.index) == ["ResNet-18", "mobilenet_v3_small"]  # timm's has none: omitted
    assert table.at["ResNet-18", "source"] == "paper"
    assert table.at["ResNet-18", "top1_pct"] == paper_models().at["ResNet-18", "top1_pct"]
    row = table.loc["mobilenet_v3_small"]
    assert row["source"] == "library" and "MobileNet_V3_Small_Weights.IMAGENET1K_V1" in row["label"]
    assert math.isnan(row["ci_low"]) and pd.isna(row["n_images"])


def test_reference_accuracy_names_the_models_left_without_top1():
    acc, missing = modern.reference_accuracy(None, ["ENet", "squeezenet1_1", "inception_v4"])
    assert list(acc.index) == ["ENet", "squeezenet1_1"] and missing == ["inception_v4"]
    note = modern.missing_note(missing, "Fig 10")
    assert note.startswith("Left out of Fig 10: inception_v4") and "timm" in note
    assert modern.missing_note([], "Fig 10") == ""


def test_lesson_models_put_the_papers_first_without_duplicates():
    shown = modern.lesson_models(["modern", "ResNet-18", "mobilenet_v2", "resnet18"])
    assert shown[:14] == list(PAPER_MODELS)
    assert shown[14:34] == list(MODERN_MODELS) and shown[34:] == ["resnet18"]
    assert modern.lesson_models("") == list(PAPER_MODELS)
    assert list(modern.era(["ENet", "swin_t"])) == [modern.ERA_PAPER, modern.ERA_SINCE]


# ------------------------------------------------------------------ frontiers and density

def test_frontier_keeps_the_models_no_other_beats_on_both():
    acc = pd.Series({"a": 70.0, "b": 75.0, "c": 72.0, "d": 80.0, "e": 60.0})
    cost = pd.Series({"a": 1.0, "b": 2.0, "c": 3.0, "d": 10.0, "f": 0.5})
    front = modern.frontier(acc, cost)
    assert list(front.index) == ["a", "b", "c", "d"]  # sorted by cost; e and f lack a number
    assert list(front.index[front["on_frontier"]]) == ["a", "b", "d"]  # c: b is cheaper and more accurate
    assert set(front["era"]) == {modern.ERA_SINCE}


def test_frontiers_add_latency_only_where_models_are_timed():
    acc = pd.Series({"ENet": 68.4, "mobilenet_v3_small": 67.7, "ResNet-50": 76.0})
    counts = pd.DataFrame({"gops": [1.57, 0.12, 8.2], "params_m": [5.9, 2.5, 25.6]}, index=list(acc.index))
    assert set(modern.frontiers(acc, counts)) == {"operations", "parameters"}
    fronts = modern.frontiers(acc, counts, pd.Series({"ENet": 0.03, "ResNet-50": 0.06}))
    assert list(fronts["latency"]["cost"]) == pytest.approx([30.0, 60.0])  # milliseconds
    assert list(fronts["operations"].index[fronts["operations"]["on_frontier"]]) == ["mobilenet_v3_small", "ENet",
                                                                                       "ResNet-50"]


def test_latency_at_says_which_models_are_missing_and_why():
    from helpers.store.results import make_row
    from helpers.store.schema import RESULT_COLUMNS

    rows = pd.DataFrame([make_row(device_tag="cpu-x-2c", model="ENet", batch_size=1, metric="latency_per_image",
                                  value=0.02, unit="s", status="ok", n=9, timestamp="2025-01-01T00:00:00+00:00")],
                        columns=list(RESULT_COLUMNS))
    times, missing, note = modern.latency_at(rows, ["ENet", "swin_t"], 1, "cpu-x-2c")
    assert dict(times) == {"ENet": 0.02} and missing == ["swin_t"]
    assert "1 of 2 models (swin_t)" in note and "PROFILE=modern" in note
    times, missing, note = modern.latency_at(pd.DataFrame(), ["ENet"], 1, "cpu-x-2c")
    assert times.empty and missing == ["ENet"] and note
    assert modern.latency_at(rows, ["ENet"], 1, "cpu-x-2c")[2] == ""


def test_density_ranking_marks_the_era():
    ranked = modern.density_ranking(pd.Series({"ENet": 68.4, "squeezenet1_1": 58.2}),
                                    pd.Series({"ENet": 5.86, "squeezenet1_1": 1.24}))
    assert list(ranked.index) == ["squeezenet1_1", "ENet"] and list(ranked["rank"]) == [1, 2]
    assert list(ranked["era"]) == [modern.ERA_SINCE, modern.ERA_PAPER]


def test_pareto_chart_draws_the_frontier_or_says_why_not():
    from helpers.report.figures.modern import pareto_chart

    front = modern.frontier(pd.Series({"ENet": 68.4, "swin_t": 81.5, "VGG-16": 70.6}),
                            pd.Series({"ENet": 1.57, "swin_t": 9.0, "VGG-16": 31.0}))
    fig = pareto_chart(front, xlabel="G-ops")
    ax = fig.gca()
    assert ax.get_xscale() == "log" and {t.get_text() for t in ax.texts} >= {"ENet", "swin_t"}
    bold = {t.get_text() for t in ax.texts if t.get_fontweight() in ("bold", 700)}
    assert "VGG-16" in {t.get_text() for t in ax.texts} and "VGG-16" not in bold  # off the frontier: named, not bold
    empty = pareto_chart(None, empty_text="no latency: nothing timed")
    assert "no latency" in empty.gca().texts[0].get_text()


# ------------------------------------------------------------------ claims on a model set beyond the paper's

def test_claims_on_the_modern_set_rest_on_reference_values_and_say_so():
    shown = modern.lesson_models("modern")
    table = claims_table(pd.DataFrame(), parts=["C2", "C11"], models=shown).set_index(["claim", "basis"])
    ours = table.loc[("C2a", "our count (gops)")]
    assert ours["verdict"] != HOLDS and "vit_b_16" in ours["this_run"]  # a transformer outdoes VGG-16
    assert table.loc[("C2b", "our count (params_m)"), "verdict"] == HOLDS
    c11 = table.loc[("C11a", "")]
    assert c11["verdict"] == PAPERS_VALUES and "would not hold" in c11["reason"]
    assert c11["reason"].startswith("rests only on reference top-1 (the paper's, or the library's metadata)")
    assert "torchvision's weights metadata for 20" in c11["this_run"] and "squeezenet1_1" in c11["this_run"]
    # on the paper's 14 the wording is the paper's, as before
    paper = claims_table(pd.DataFrame(), parts=["C11a"]).iloc[0]
    assert paper["reason"].startswith("rests only on the paper's top-1") and "(top-1: the paper's)" in paper["this_run"]


def test_top1_provenance_names_library_values():
    from helpers.report.labels import top1_provenance

    acc = top1_for_claims(None, ["ENet", "ResNet-18", "swin_t"], library=True)
    assert top1_provenance(acc) == "the paper's for 2, torchvision metadata for 1"
    assert top1_provenance(acc[acc["source"] == "library"]) == "torchvision metadata"
