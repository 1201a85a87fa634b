import base64
import json
import re

import pytest

from helpers.course import syllabus as course
from helpers.course.syllabus import LESSONS, exercises, lesson_table, notebooks_exist, solution
from helpers.core.paths import RECORDED_DIR
from helpers.core.reference import PAPER_MODELS
from helpers.cli.reproduce import notebook_paths

# A teacher may remove the solutions file from the students' copy: the course works, and these tests skip.
needs_solutions = pytest.mark.skipif(not course.SOLUTIONS_JSON.is_file(),
                                     reason=f"{course.SOLUTIONS_JSON} removed (solutions kept back by a teacher)")


def test_every_lesson_notebook_exists_and_is_run_in_order():
    assert notebooks_exist() == []
    run_order = [p.name for p in notebook_paths()]
    assert run_order[0] == "00_course_guide.ipynb"
    assert [l.notebook for l in LESSONS] == run_order[1:]


@needs_solutions
def test_every_exercise_has_a_solution_and_none_is_stored_in_clear():
    ids = list(exercises()["id"])
    stored = json.loads(course.SOLUTIONS_JSON.read_text())
    assert sorted(stored) == sorted(ids)
    for exercise_id in ids:
        text = solution(exercise_id)
        assert len(text) > 40
        assert text not in course.SOLUTIONS_JSON.read_text()  # encoded, not readable at a glance
        assert base64.b64decode(stored[exercise_id]).decode() == text


@needs_solutions
def test_unknown_exercise_lists_the_valid_ids():
    with pytest.raises(KeyError, match="'99.9'.*1.1"):
        solution("99.9")


def test_solutions_kept_back_by_a_teacher(monkeypatch, tmp_path):
    monkeypatch.setattr(course, "SOLUTIONS_JSON", tmp_path / "missing.json")
    with pytest.raises(FileNotFoundError, match="kept the solutions back"):
        solution("1.1")


def test_lesson_table_says_what_each_lesson_teaches():
    table = lesson_table()
    assert list(table["lesson"]) == list(range(1, 10))
    assert table["you learn"].str.len().min() > 20


# ------------------------------------------------------------------ solutions that state numbers
# Every number a solution states is recomputed here from the same calls a student would make
# (counts, library metadata, the committed run, the claims table): a stale or wrong solution fails.

COMMITTED = course.COURSE_RUN  # under data/recorded: the run the solutions cite


def _has(text: str, value: float, fmt: str) -> None:
    assert format(value, fmt) in text, f"{format(value, fmt)} not in: {text}"


@pytest.fixture(scope="module")
def committed():
    from helpers.store.results import load_results

    rows = load_results(RECORDED_DIR, [COMMITTED])
    assert not rows.empty, f"the committed run {COMMITTED} is missing"
    return rows


@needs_solutions
def test_solutions_on_counts_and_library_accuracy():
    import dataclasses

    from helpers.models.weights import torchvision_top1
    from helpers.counting.ops import count_model
    from helpers.core.reference import paper_models
    from helpers.models.zoo import get_spec

    ref = paper_models()["top1_pct"]
    r50 = count_model("ResNet-50")
    v2 = torchvision_top1("resnet50", "IMAGENET1K_V2")["acc1"]
    text = solution("1.1")
    _has(text, r50["gops"], ".2f"); _has(text, v2, ".2f"); _has(text, ref["ResNet-50"], ".2f")
    _has(text, v2 - ref["ResNet-50"], ".2f"); _has(text, ref["Inception-v4"], ".2f")
    assert v2 > ref["Inception-v4"]

    eff = count_model("efficientnet_b0")
    text = solution("1.2")
    _has(text, eff["gmacs"], ".2f"); _has(text, eff["gops"], ".2f"); _has(text, eff["gops_2016"], ".2f")
    _has(text, torchvision_top1("efficientnet_b0")["acc1"], ".2f")

    vit = count_model("vit_b_16")
    attention = 12 * 2 * 197 * 197 * 768 / 1e9
    text = solution("2.2")
    _has(text, vit["gmacs"], ".2f"); _has(text, attention, ".2f"); _has(text, 100 * attention / vit["gmacs"], ".0f")
    assert vit["torchvision_gmacs"] == pytest.approx(vit["gmacs"], abs=0.01)

    big = count_model(dataclasses.replace(get_spec("ResNet-50"), input_size=448))
    text = solution("2.4")
    _has(text, eff["gops"], ".2f"); _has(text, eff["gops_2016"], ".2f"); _has(text, eff["gops_2016"] / eff["gops"], ".1f")
    alex = count_model("AlexNet")
    _has(text, alex["gops_2016"], ".2f"); _has(text, alex["gops"], ".2f")

    text = solution("2.3")
    _has(text, big["gmacs"], ".2f"); _has(text, r50["gmacs"], ".2f"); _has(text, big["gmacs"] / r50["gmacs"], ".1f")

    text = solution("3.1")
    for name in ("mobilenet_v3_large", "efficientnet_b0"):
        acc, params = torchvision_top1(name)["acc1"], count_model(name)["params"] / 1e6
        _has(text, acc, ".2f"); _has(text, params, ".2f"); _has(text, acc / params, ".1f")
        assert acc / params > ref["ENet"] / paper_models().at["ENet", "params_m_paper"]
    _has(text, ref["ENet"] / paper_models().at["ENet", "params_m_paper"], ".2f")



@needs_solutions
def test_solution_2_1_ranks_the_torchvision_zoo_by_gmacs_per_parameter():
    from helpers.counting.table import count_table
    from helpers.models.zoo import resolve_models

    zoo = count_table([s.name for s in resolve_models("torchvision")], thop=False, progress=False).set_index("model")
    per_m = (zoo["gmacs"] / zoo["params_m"]).sort_values(ascending=False)
    text = solution("2.1")
    assert list(per_m.index[:2]) == ["vit_h_14", "squeezenet1_0"]
    assert list(per_m.index[-3:]) == ["shufflenet_v2_x0_5", "mobilenet_v3_small", "alexnet"]
    _has(text, per_m["vit_h_14"], ".2f"); _has(text, zoo.at["vit_h_14", "gmacs"], ".2f")
    _has(text, zoo.at["vit_h_14", "params_m"], ".2f"); _has(text, (518 // 14) ** 2, ",")
    _has(text, per_m["squeezenet1_0"], ".2f"); _has(text, zoo.at["squeezenet1_0", "params_m"], ".2f")
    for name in ("alexnet", "mobilenet_v3_small", "shufflenet_v2_x0_5"):
        _has(text, per_m[name], ".3f")
    _has(text, zoo.at["alexnet", "params_m"], ".2f"); _has(text, per_m["vgg16"], ".2f")
    assert per_m.rank(ascending=False)["vgg16"] > len(per_m) / 2, "2.1 puts VGG-16 in the lower half"


def _point(rows, model: str, batch: int):
    from helpers.analysis.evidence import point_table

    points = point_table(rows, "latency_per_image", COMMITTED)
    return points[(points["model"] == model) & (points["batch_size"] == batch)].iloc[0]


def _has_ms(text: str, point) -> None:
    """``text`` states ``point``'s time and its 95 % interval in ms, as ``14.9 ms [13.7, 16.3]``."""
    assert f"{1e3 * point.value:.1f} ms [{1e3 * point.ci_low:.1f}, {1e3 * point.ci_high:.1f}]" in text, text


@needs_solutions
def test_solutions_of_lessons_4_and_8_state_the_recorded_run(committed):
    from helpers.analysis.reproducibility import coverage
    from helpers.analysis.studies import study_results, threads_table
    from helpers.core.paths import REPO_ROOT, RERUNS
    from helpers.counting.ops import count_model
    from helpers.store.results import load_results

    threads = threads_table(study_results("threads", RECORDED_DIR, COMMITTED), COMMITTED)
    alex = threads[threads["model"] == "AlexNet"].set_index(["threads", "batch_size"])
    text = solution("4.1")
    assert text.startswith("It shrinks") and COMMITTED in text
    speedup = {n: alex.at[(n, 1), "time_s"] / alex.at[(n, 16), "time_s"] for n in (1, 2)}
    assert speedup[1] < speedup[2]
    for n in (1, 2):
        _has(text, speedup[n], ".2f")
        for b in (1, 16):
            row = alex.loc[(n, b)]
            assert f"{1e3 * row.time_s:.1f} ms [{1e3 * row.time_ci_low:.1f}, {1e3 * row.time_ci_high:.1f}]" in text
    _has(text, 100 * alex.at[(2, 1), "efficiency"], ".0f"); _has(text, 100 * alex.at[(2, 16), "efficiency"], ".0f")

    mob, r18 = _point(committed, "mobilenet_v3_large", 1), _point(committed, "ResNet-18", 1)
    text = solution("4.2")
    assert mob.ci_high < r18.ci_low, "4.2 says the intervals do not overlap"
    _has_ms(text, mob); _has_ms(text, r18); _has(text, r18.value / mob.value, ".1f")
    mob_c, r18_c = count_model("mobilenet_v3_large"), count_model("ResNet-18")
    _has(text, mob_c["gmacs"], ".2f"); _has(text, r18_c["gmacs"], ".2f"); _has(text, r18_c["gmacs"] / mob_c["gmacs"], ".1f")

    paper = committed[committed["model"].isin(list(PAPER_MODELS))]
    cov = coverage(paper, load_results(RECORDED_DIR / RERUNS, [COMMITTED]))
    text = solution("4.3")
    assert f"{cov.covered} of {cov.points} points ({100 * cov.share:.0f} %)" in text
    _has(text, 100 * cov.median_abs_diff, ".1f"); _has(text, 100 * cov.median_half_width, ".1f")
    engine = (REPO_ROOT / "docs" / "engine.md").read_text(encoding="utf-8")
    assert "| 5/12, 7.9 %, 3.8 % | 1/12, 22.0 %, 4.1 % | 2/12, 7.0 %, 2.3 % |" in engine, "4.3 quotes docs/engine.md"
    assert "| 12/12, 3.5 %, 20.5 % | 12/12, 4.1 %, 22.0 % | 12/12, 4.9 %, 22.6 % |" in engine
    assert "2.3 to 4.1 %" in text and "1 to 5 of 12" in text and "12 of 12 in each of three runs" in text

    eff, r18 = _point(committed, "efficientnet_b0", 1), _point(committed, "ResNet-18", 1)
    text = solution("8.3")
    assert eff.ci_low < r18.value < eff.ci_high and r18.ci_low < eff.value < r18.ci_high
    _has_ms(text, eff); _has_ms(text, r18); _has(text, r18.value / eff.value, ".2f")
    eff_c = count_model("efficientnet_b0")
    _has(text, eff_c["gmacs"], ".2f"); _has(text, r18_c["gmacs"] / eff_c["gmacs"], ".1f")


@needs_solutions
def test_solution_3_2_ranks_accuracy_per_operation_from_our_counts():
    from helpers.counting.table import count_table
    from helpers.core.reference import paper_models

    counts = count_table("paper", thop=False, progress=False).set_index("model")
    per_op = (paper_models()["top1_pct"] / counts["gops"]).sort_values(ascending=False)
    text = solution("3.2")
    assert set(per_op.index[:2]) == {"ENet", "BN-AlexNet"} and per_op.index[-1] == "VGG-19"
    _has(text, per_op["ENet"], ".1f"); _has(text, per_op["BN-AlexNet"], ".1f"); _has(text, per_op["VGG-19"], ".1f")


@needs_solutions
def test_solution_5_1_reads_the_committed_run(committed):
    from helpers.analysis.evidence import metric_table

    from helpers.core.reference import PAPER_MODELS

    peak, static = metric_table(committed, "memory_peak"), metric_table(committed, "memory_static")
    act = ((peak[64] - static[64]) / 64).reindex(list(PAPER_MODELS)).dropna().sort_values(ascending=False)
    assert len(act) == 14, "the solution speaks of the paper's 14 networks at batch 64"
    text = solution("5.1")
    assert list(act.index[:2]) == ["VGG-16", "VGG-19"] or list(act.index[:2]) == ["VGG-19", "VGG-16"]
    _has(text, act["VGG-16"], ".1f"); _has(text, act["Inception-v4"], ".1f"); _has(text, act["Inception-v3"], ".1f")
    _has(text, act["ENet"], ".1f"); _has(text, act["BN-AlexNet"], ".1f")
    assert act.index[-1] == "BN-AlexNet" and f"{list(act.index).index('ENet') + 1}th of 14" in text


@needs_solutions
def test_solutions_5_2_and_7_1_read_the_committed_runs_claims(committed):
    from helpers.analysis.claims import INCONCLUSIVE, claims_table
    from helpers.analysis.evidence import run_evidence

    claims = claims_table(committed, COMMITTED)
    c6b = claims[claims["claim"] == "C6b"].iloc[0]
    c6a = claims[claims["claim"] == "C6a"].set_index("basis")
    text = solution("5.2")
    assert "slope 1.00" in text and "slope 1.00" in c6b.this_run and f"R2 {c6b.estimate:.3f}" in text
    _has(text, c6a.loc["net of the framework's baseline", "estimate"], ".0f")
    _has(text, run_evidence(committed, COMMITTED).baseline_mb().median(), ".0f")

    unsure = claims[claims["verdict"] == INCONCLUSIVE]
    assert "C8b" in set(unsure["claim"])
    ours = unsure[unsure["basis"] == "our count (gops)"].iloc[0]
    text = solution("7.1")
    _has(text, ours.estimate, ".1f"); _has(text, ours.ci_low, ".1f"); _has(text, ours.ci_high, ".1f")


@needs_solutions
def test_solutions_of_lesson_8_on_counts_library_accuracy_and_the_claims():
    import pandas as pd

    from helpers.models.weights import library_top1
    from helpers.analysis.claims import DOES_NOT_HOLD, HOLDS, PAPERS_VALUES, claims_table
    from helpers.analysis.modern import density_ranking, lesson_models, reference_accuracy
    from helpers.counting.table import count_table

    shown = lesson_models("modern")
    counts = count_table(shown, thop=False, progress=False).set_index("model")
    accuracy, missing = reference_accuracy(None, shown)
    assert missing == []
    ranked = density_ranking(accuracy["top1_pct"], counts["params_m"])
    text = solution("8.1")
    top = ranked.index[0]
    assert top == "squeezenet1_1" and list(ranked.index[:4]) == ["squeezenet1_1", "shufflenet_v2_x1_0",
                                                                  "mobilenet_v3_small", "mobilenet_v2"]
    _has(text, library_top1(top)["top1_pct"], ".2f"); _has(text, counts.at[top, "params_m"], ".2f")
    _has(text, ranked.at[top, "density_pct_per_m"], ".2f"); _has(text, ranked.at["ENet", "density_pct_per_m"], ".2f")
    _has(text, ranked.at[top, "density_pct_per_m"] / ranked.at["ENet", "density_pct_per_m"], ".1f")
    since = accuracy[~accuracy.index.isin(PAPER_MODELS)]["top1_pct"]
    assert since.idxmin() == top
    below = accuracy.loc[list(PAPER_MODELS), "top1_pct"] < accuracy.at[top, "top1_pct"]
    assert sorted(below[below].index) == ["AlexNet", "BN-AlexNet"]

    claims = claims_table(pd.DataFrame(), parts=["C2"], models=shown).set_index(["claim", "basis"])
    text = solution("8.2")
    vit, vgg16, vgg19 = (counts.loc[m] for m in ("vit_b_16", "VGG-16", "VGG-19"))
    _has(text, vit["gops"], ".2f"); _has(text, vgg16["gops"], ".2f"); _has(text, vgg19["gops"], ".2f")
    _has(text, vgg16["gops"] / vit["gops"], ".2f")
    assert counts["gops"].drop(["VGG-16", "VGG-19"]).idxmax() == "vit_b_16"
    assert claims.loc[("C2a", "our count (gops)"), "verdict"] == DOES_NOT_HOLD
    _has(text, vgg16["params_m"], ".2f"); _has(text, vit["params_m"], ".2f"); _has(text, vgg16["params_m"] / vit["params_m"], ".2f")
    assert claims.loc[("C2b", "our count (params_m)"), "verdict"] == HOLDS
    published = claims.loc[("C2a", "the paper's published count (gops_published)")]
    assert published["verdict"] == PAPERS_VALUES and published["reason"].endswith("would hold")
    assert "would still hold: the paper's values" in text



def test_the_course_works_without_the_solutions_file(monkeypatch, tmp_path):
    monkeypatch.setattr(course, "SOLUTIONS_JSON", tmp_path / "removed.json")
    assert len(exercises()) > 0 and "Try this" in course.exercise_markdown(4)
    with pytest.raises(FileNotFoundError, match="kept the solutions back"):
        solution("4.1")


def test_exercises_are_written_once_and_shown_by_each_lesson():
    text = course.exercise_markdown(2)
    assert all(e in text for e in LESSONS[1].exercises) and "solution(\"2.1\")" in text
    with pytest.raises(KeyError, match="valid: 1, 2"):
        course.exercise_markdown(10)


def test_every_lesson_has_a_teacher_pack_and_ends_with_it():
    import json

    for lesson in LESSONS:
        assert len(lesson.objectives) >= 2 and lesson.prerequisites and len(lesson.summary) > 100
        assert len(lesson.recall) >= 2 and all(q.endswith("?") for q in lesson.recall)
        end = course.lesson_end(lesson.number)
        assert end.index("## Summary") < end.index("## Recall") < end.index("## Try this")
        cells = json.loads((course.NOTEBOOKS_DIR / lesson.notebook).read_text())["cells"]
        last = "".join(cells[-1]["source"])
        assert f"lesson_end({lesson.number})" in last, f"{lesson.notebook} does not end with its summary and exercises"
    table = course.teacher_table()
    assert list(table["lesson"]) == [l.number for l in LESSONS] and table["objectives"].str.len().min() > 30


@needs_solutions
def test_solutions_of_lesson_9_read_the_committed_roofline_and_studies():
    from helpers.core.reference import PAPER_MODELS
    from helpers.course.lessons import run_roofline
    from helpers.store.results import load_results
    from helpers.analysis.studies import dtype_table, study_results, threads_table

    fingerprint = load_results(RECORDED_DIR, [COMMITTED])["fingerprint"].iloc[-1]
    roof = run_roofline(RECORDED_DIR, COMMITTED, list(PAPER_MODELS), fingerprint).roofline
    b1 = roof[roof["batch_size"] == 1].set_index("model")
    pct = 100 * b1["fraction_of_peak"]
    ridge, (low, high) = roof.attrs["ridge"], roof.attrs["ridge_range"]
    peak, bandwidth = roof.attrs["peak"], roof.attrs["bandwidth"]
    text = solution("9.1")
    assert f"run of {COMMITTED}" in text
    assert f"at batch 1 {pct.idxmax()} gets closest" in text and f"{pct.idxmin()} is furthest" in text
    _has(text, pct.max(), ".0f"); _has(text, pct.min(), ".0f"); _has(text, ridge, ".1f")
    _has(text, low, ".1f"); _has(text, high, ".1f")
    furthest = b1.loc[pct.idxmin()]
    _has(text, furthest["intensity"], ".1f")
    assert low <= furthest["intensity"] <= high, "9.1 says the roofline cannot tell which roof bounds it"
    alex = roof[roof["model"] == "AlexNet"].set_index("batch_size")
    text = solution("9.2")
    assert text.startswith("The recorded run cannot say") and COMMITTED in text
    assert low <= alex.loc[1, "intensity"] <= high and alex.loc[1, "bound"] == "compute"
    assert (alex.drop(index=1)["intensity"] > high).all()
    _has(text, alex.loc[1, "intensity"], ".1f"); _has(text, alex.loc[2, "intensity"], ".1f")
    _has(text, alex.loc[1, "achieved_gops"], ".1f"); _has(text, 100 * alex.loc[1, "fraction_of_roof"], ".0f")
    for estimate, fmt in ((peak, ".0f"), (bandwidth, ".1f")):
        _has(text, estimate.value, fmt); _has(text, estimate.ci_low, fmt); _has(text, estimate.ci_high, fmt)
    threads = threads_table(study_results("threads", RECORDED_DIR, COMMITTED), COMMITTED)
    two = threads[threads["threads"] == 2].set_index(["model", "batch_size"])["efficiency"]
    assert "ResNet-50" not in two.index.get_level_values("model"), "9.3 says the table leaves ResNet-50 out"
    text = solution("9.3")
    for model in ("AlexNet", "GoogLeNet", "VGG-16"):
        _has(text, 100 * two[(model, 1)], ".0f")
    assert two[("AlexNet", 1)] < two[("GoogLeNet", 1)] < two[("VGG-16", 1)], "9.3: rising with the work per layer"
    assert (two.xs(16, level="batch_size") >= 0.92).all() and "92 % or more" in text
    precision = dtype_table(study_results("precision", RECORDED_DIR, COMMITTED), COMMITTED)
    bf16 = precision[(precision["precision"] == "bf16") & (precision["batch_size"] == 16)]
    ratio = bf16[bf16["status"] == "ok"].set_index("model")["memory_ratio"]
    text = solution("9.4")
    _has(text, ratio.min(), ".2f"); _has(text, ratio.max(), ".2f")
    assert ratio.idxmin() in text and ratio.idxmax() in text and ratio.min() < 0.5 < ratio.max()
    errors = bf16[bf16["status"] == "error"]
    assert sorted(errors["model"]) == ["AlexNet", "GoogLeNet"] and errors["reason"].str.contains("avg_pool3d").all()


@needs_solutions
def test_solutions_of_lesson_9_read_the_committed_runtimes_study():
    from helpers.analysis.claims import runtime_claims_table
    from helpers.analysis.studies import RUNTIME_NAMES, fastest_runtimes, runtimes_table, study_results

    rows = study_results("runtimes", RECORDED_DIR, COMMITTED)
    table = runtimes_table(rows, COMMITTED)
    google = table[table["model"] == "GoogLeNet"].set_index(["batch_size", "runtime"])
    fastest = fastest_runtimes(table).set_index(["model", "batch_size"]).loc[("GoogLeNet", 1)]
    text = solution("9.5")
    assert f"fastest through {RUNTIME_NAMES[fastest['fastest']]}" in text
    leader = google.loc[(1, fastest["fastest"])]
    for runtime in sorted({"compile", "onnxruntime", "openvino"} - {fastest["fastest"]}):
        point = google.loc[(1, runtime)]
        beyond = point["time_ci_low"] > leader["time_ci_high"]
        said = (f"{RUNTIME_NAMES[runtime]} ({1e3 * point['time_s']:.1f} ms, {point['speedup']:.2f}x "
                f"[{point['speedup_ci_low']:.2f}, {point['speedup_ci_high']:.2f}])")
        assert said + (" slower beyond the intervals" if beyond else " within the noise") in text, runtime
    assert ("so on this evidence the three runtimes tie" in text) == (not fastest["clear"] and all(
        google.loc[(1, r), "time_ci_low"] <= leader["time_ci_high"] for r in ("compile", "onnxruntime", "openvino")))
    for runtime in ("compile", "onnxruntime", "openvino"):
        point = google.loc[(1, runtime)]
        assert (f"{1e3 * point['time_s']:.1f} ms" in text and f"{point['speedup']:.2f}x [{point['speedup_ci_low']:.2f}, "
                f"{point['speedup_ci_high']:.2f}]" in text), runtime
    assert google.loc[(1, "compile"), "speedup_ci_low"] > 1, "9.5: compile beats eager beyond its interval"
    compiled = table[(table["runtime"] == "compile") & (table["batch_size"] == 1) & (table["status"] == "ok")
                     & table["model"].isin(list(PAPER_MODELS))]
    assert compiled.loc[compiled["speedup"].idxmax(), "model"] == "GoogLeNet" and len(compiled) == 14
    worst = compiled.loc[compiled["speedup_ci_high"].idxmin()]
    assert worst["speedup_ci_high"] < 1 and f"{worst['model']} runs {worst['speedup']:.2f}x" in text

    text = solution("9.6")
    saved1 = google.loc[(1, "eager"), "time_s"] - google.loc[(1, "openvino"), "time_s"]
    saved16 = google.loc[(16, "eager"), "time_s"] - google.loc[(16, "openvino"), "time_s"]
    conv1, conv16 = google.loc[(1, "openvino"), "conversion_s"], google.loc[(16, "openvino"), "conversion_s"]
    assert f"= {conv1 / saved1:.0f} images" in text and f"{conv16 / saved16:.0f} images" in text
    _has(text, conv1, ".2f"); _has(text, conv16, ".2f"); _has(text, 1e3 * saved1, ".1f")
    one_shot = (conv1 + google.loc[(1, "openvino"), "time_s"]) / google.loc[(1, "eager"), "time_s"]
    assert f"{one_shot:.0f} times longer" in text and one_shot > 1

    text = solution("9.7")
    c8a = runtime_claims_table(rows, COMMITTED)
    c8a = c8a[c8a["claim"] == "C8a"]
    ours = c8a[c8a["basis"].str.contains("our count")]
    assert (ours["verdict"] == "holds").all() and len(ours) == 8, "9.7: C8a holds through every runtime, our count"
    published1 = c8a[c8a["basis"] == "batch 1, the paper's published count (gops_published)"].set_index("runtime")
    assert set(published1["verdict"]) == {"holds", "inconclusive"}, "9.7 says the verdicts part"
    for runtime, row in published1.iterrows():
        assert f"{RUNTIME_NAMES[runtime]} {row['estimate']:.3f} [{row['ci_low']:.3f}, {row['ci_high']:.3f}] " \
               f"({row['verdict']})" in text
    closest = {batch: ours[ours["basis"].str.startswith(f"batch {batch},")].set_index("runtime")["estimate"]
               for batch in (1, 16)}
    assert (f"most closely through {RUNTIME_NAMES[closest[1].idxmax()]} at batch 1 (R² {closest[1].max():.3f}); "
            f"at batch 16, {RUNTIME_NAMES[closest[16].idxmax()]} {closest[16].max():.3f}") in text, "9.7: closest"


def test_every_prediction_is_asked_above_the_cell_that_answers_it():
    import json

    for exercise_id, answer in course.PREDICT_BEFORE.items():
        lesson = course.LESSONS[int(exercise_id.split(".")[0]) - 1]
        cells = json.loads((course.NOTEBOOKS_DIR / lesson.notebook).read_text())["cells"]
        code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
        asked = [i for i, src in enumerate(code) if f'predict("{exercise_id}")' in src]
        shown = [i for i, src in enumerate(code) if src.startswith(answer)]
        assert asked and shown, f"{lesson.notebook}: exercise {exercise_id} asked at {asked}, answered at {shown}"
        assert asked[0] < shown[0], f"{lesson.notebook} answers exercise {exercise_id} above the question"
    text = course.predict("2.4")
    assert "Exercise 2.4" in text and course.LESSONS[1].exercises[3] in text
    with pytest.raises(KeyError, match="valid ids: 1.1"):
        course.predict("2.9")


def test_meeting_plans_keep_the_lessons_in_order_and_balance_the_minutes():
    for meetings in (1, 2, 3):
        plan = course.meeting_plan(meetings)
        assert list(plan["meeting"]) == list(range(1, meetings + 1))
        assert plan["minutes"].sum() == sum(course.CLASS_MINUTES.values())
        covered = [n for span in plan["lessons"] for n in range(int(span.split("-")[0]), int(span.split("-")[-1]) + 1)]
        assert covered == [lesson.number for lesson in LESSONS]
    two = course.meeting_plan(2)["minutes"]
    assert two.max() - two.min() <= max(course.CLASS_MINUTES.values()), "a split no other split beats"
    with pytest.raises(ValueError, match="from 1 to 9, got 0"):
        course.meeting_plan(0)
    assert (course.teacher_table()["class minutes"] == [course.CLASS_MINUTES[n] for n in range(1, 10)]).all()


def test_the_course_doc_states_the_meeting_plans_the_code_gives():
    from helpers.core.paths import REPO_ROOT

    text = " ".join((REPO_ROOT / "docs" / "course.md").read_text(encoding="utf-8").split())
    for meetings in (2, 3):
        for row in course.meeting_plan(meetings).itertuples():
            assert f"{row.lessons} ({row.minutes} min)" in text, (meetings, row)
    assert ", ".join(str(course.CLASS_MINUTES[n]) for n in range(1, 9)) + " and 50" in text


#: A line the student completes: ``name = ...  # what to write``.
TODO_LINE = re.compile(r"^(\w+) = \.\.\.\s+#", re.M)


def _scratch(notebook: str, marker: str) -> str:
    """The from-scratch code cell of ``notebook`` (the one importing ``marker``), as a student finds it."""
    import json

    cells = json.loads((course.NOTEBOOKS_DIR / notebook).read_text())["cells"]
    (source,) = ["".join(c["source"]) for c in cells if c["cell_type"] == "code" and marker in "".join(c["source"])]
    assert TODO_LINE.search(source), f"{notebook}: the from-scratch cell is left for the student to complete"
    return source


def _completed(source: str, exercise_id: str) -> str:
    """The cell completed with the solution's code (its ```python block): each ``name = ...`` line replaced by
    the solution's line that assigns ``name``, the solution's imports first."""
    code = solution(exercise_id).split("```python\n", 1)[1].split("```", 1)[0].splitlines()
    imports = [line for line in code if line.startswith(("import ", "from "))]
    lines = []
    for line in source.splitlines():
        todo = TODO_LINE.match(line)
        if todo:
            name = todo.group(1)
            (line,) = [c for c in code if f"{name} = " in c and not c.startswith(("import ", "from "))][:1]
        lines.append(line)
    return "\n".join(imports + lines)


@needs_solutions
def test_the_from_scratch_convolution_count_agrees_with_the_counter():
    import contextlib
    import io

    from helpers.course.scratch import TODO, check_conv_count

    source = _scratch("02_operations.ipynb", "check_conv_count")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(source, {})
    assert out.getvalue().strip() == TODO  # as the student finds it: nothing revealed
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(_completed(source, "2.5"), {})
    assert out.getvalue().startswith("Your count, 231,211,008 MACs, is the counter's")
    import torch

    depthwise = torch.nn.Conv2d(64, 64, kernel_size=3, padding=1, groups=64)
    assert check_conv_count(depthwise, (1, 64, 56, 56), 1_806_336).startswith("Your count, 1,806,336 MACs, is")
    assert "1,806,336 MACs" in solution("2.5") and "64 times" in solution("2.5")
    assert "differs from the counter's" in check_conv_count(depthwise, (1, 64, 56, 56), 231_211_008)


@needs_solutions
def test_the_from_scratch_timing_reports_the_timers_own_median_and_spread():
    import contextlib
    import io
    from types import SimpleNamespace

    source = _scratch("04_inference_time.ipynb", "timing_report")
    space = {"run": SimpleNamespace(threads=1)}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(_completed(source, "4.4"), space)
    measurement, text = space["timer"], out.getvalue()
    assert len(measurement.times) >= 1 and space["first"] > 0
    assert f"Median {1e3 * measurement.median:.3f} ms per call over {len(measurement.times)} measurements" in text
    assert f"IQR {1e3 * measurement.iqr:.3f} ms" in text and f"{space['first'] / measurement.median:.1f}x" in text


@needs_solutions
def test_the_from_scratch_resident_memory_grows_by_at_least_the_parameters_in_a_fresh_process():
    import re
    import subprocess
    import sys

    from helpers.core.paths import REPO_ROOT

    source = _completed(_scratch("05_memory.ipynb", "resident_report"), "5.3")
    done = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    grew, params, ratio = re.search(r"grew by ([\d.]+) MB .* take ([\d.]+) MB as float32 \(([\d.]+)x\)",
                                    done.stdout).groups()
    assert float(params) == pytest.approx(46.8, abs=0.1) and "46.8 MB" in solution("5.3")
    assert float(ratio) >= 0.95, done.stdout  # at least the weights (the first build also pages library code in)


#: The solutions that state a measured number: each names the run it comes from.
FROM_THE_RECORDED_RUN = ("4.1", "4.2", "4.3", "5.1", "5.2", "7.1", "8.3", "9.1", "9.2", "9.3", "9.4", "9.5", "9.6",
                         "9.7")


@needs_solutions
@pytest.mark.parametrize("exercise_id", FROM_THE_RECORDED_RUN)
def test_a_solution_with_a_measured_number_names_its_run(exercise_id):
    assert COMMITTED in solution(exercise_id), f"solution {exercise_id} does not say which run its numbers are from"
