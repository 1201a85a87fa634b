"""The lessons' data-dependent sentences follow the data: explanations only beside the verdict they explain."""
import pandas as pd

from helpers.analysis.claims import CLAIM_COLUMNS, DOES_NOT_HOLD, HOLDS, INCONCLUSIVE, NOT_MEASURABLE
from helpers.report import text as lessons


def _row(claim, verdict, this_run="shows something", reason="because", basis="", device_tag="cpu-x"):
    row = {c: "" for c in CLAIM_COLUMNS}
    row.update(claim=claim, verdict=verdict, this_run=this_run, reason=reason, basis=basis, device_tag=device_tag,
               claim_text=f"the text of {claim}")
    return row


def _table(*rows):
    return pd.DataFrame(list(rows), columns=list(CLAIM_COLUMNS))


def test_an_explanation_appears_only_beside_the_verdict_it_explains():
    cpu_like = lessons.speedup_summary(_table(_row("C3a", DOES_NOT_HOLD, "falls for 4/14 models")))
    assert "**does not hold** on cpu-x" in cpu_like and "Falls for 4/14 models." in cpu_like
    assert "already busy at batch 1" in cpu_like
    tx1_like = lessons.speedup_summary(_table(_row("C3a", HOLDS, "falls for 14/14 models")))
    assert "**holds**" in tx1_like and "already busy" not in tx1_like


def test_a_device_specific_explanation_appears_only_on_that_kind_of_device():
    gpu = lessons.speedup_summary(_table(_row("C3a", DOES_NOT_HOLD, device_tag="cuda-nvidia-h100")))
    assert "**does not hold** on cuda-nvidia-h100" in gpu and "CPU's cores" not in gpu
    assert [lessons.device_kind(t) for t in ("cpu-amd-epyc-2c", "cuda-nvidia-a100", "jetson-tx1-board", "x")] == \
        ["cpu", "gpu", "jetson", ""]
    assert lessons.explanation("C3b", HOLDS, "cuda-x") == lessons.explanation("C3b", HOLDS, "cpu-x")  # any device


def test_not_measurable_rows_say_why_not_what_was_not_measured():
    text = lessons.verdict_lines(_table(_row("C4a", NOT_MEASURABLE, "not measured", "no power_net rows: no sensor")),
                                 ["C4"])
    assert "No power_net rows: no sensor." in text and "not measured" not in text.split("**")[-1]


def test_disagreements_list_every_part_that_does_not_hold_and_only_those():
    table = _table(_row("C3a", DOES_NOT_HOLD), _row("C5a", HOLDS), _row("C8b", INCONCLUSIVE, basis="our count"))
    text = lessons.disagreements(table)
    assert "**C3a**" in text and "**C8b** (our count)" in text and "C5a" not in text
    assert "too close" in text  # C8b's explanation for inconclusive
    assert lessons.disagreements(_table(_row("C5a", HOLDS))) == "Every part holds on this run, as in the paper."


def test_time_outliers_catch_a_gross_inversion_and_nothing_milder():
    ops = pd.Series({"ResNet-50": 8.2, "ResNet-152": 23.1, "GoogLeNet": 3.2})
    quiet = pd.DataFrame({1: {"ResNet-50": 0.0686, "ResNet-152": 0.172, "GoogLeNet": 0.066}})
    assert "no point contradicts" in lessons.time_outliers(quiet, ops)
    disturbed = quiet.copy()
    disturbed.loc["ResNet-50", 1] = 0.348          # the second machine's ResNet-50, slower than ResNet-152
    text = lessons.time_outliers(disturbed, ops)
    assert "ResNet-50 takes 348.0 ms per image at batch 1, 2.0x as long as ResNet-152 (172.0 ms)" in text
    assert "GoogLeNet" not in text                  # 66 ms against ResNet-50's 68.6: a mild inversion, not flagged
    assert "No per-image times at batch 16" in lessons.time_outliers(quiet, ops, batch_size=16)


def test_the_verdict_summary_counts_rows_and_names_parts_with_their_bases():
    table = _table(_row("C3a", HOLDS, basis="batch 1 to 16"), _row("C3a", DOES_NOT_HOLD, basis="batch 1 to 64"),
                   _row("C5a", HOLDS), _row("C8b", INCONCLUSIVE, basis="our count"))
    text = lessons.verdict_summary(table)
    assert text.startswith("The 3 parts of the paper's claims are ruled in 4 rows")
    assert "Holds, 2 rows: C3a [batch 1 to 16], C5a." in text and "Does not hold, 1 row: C3a [batch 1 to 64]." in text
    assert "Inconclusive, 1 row: C8b." in text  # its one row: no basis needed
    assert lessons.verdict_summary(_table()) == "No claims were ruled."


def test_lesson_6_plots_the_recorded_runs_with_power_where_this_store_has_none(tmp_path, monkeypatch):
    import pandas as pd

    from helpers.core import paths
    from helpers.course.lessons import power_results
    from helpers.store.results import make_row, RESULTS_FILENAME
    from helpers.store.schema import RESULT_COLUMNS

    def store(root, tag, metric):
        (root / tag).mkdir(parents=True)
        row = make_row(device_tag=tag, model="AlexNet", batch_size=1, metric=metric, value=5.0, unit="W", status="ok",
                       n=3, timestamp="2026-01-01T00:00:00+00:00")
        pd.DataFrame([row], columns=list(RESULT_COLUMNS)).to_csv(root / tag / RESULTS_FILENAME, index=False)

    mine, recorded = tmp_path / "results", tmp_path / "recorded"
    store(mine, "cpu-here-2c", "latency_per_image")
    store(recorded, "cuda-h100-1g", "power_net")
    monkeypatch.setattr(paths, "RECORDED_DIR", recorded)
    rows, root, note = power_results(mine)
    assert root == recorded and set(rows["device_tag"]) == {"cuda-h100-1g"} and "cuda-h100-1g" in note
    store(mine, "cpu-sensor-2c", "power_net")
    rows, root, note = power_results(mine)
    assert root == mine and note.endswith("cpu-sensor-2c")
    assert power_results(tmp_path / "nothing")[1] == recorded  # an empty store: the recorded runs with power
    monkeypatch.setattr(paths, "RECORDED_DIR", tmp_path / "none recorded")
    rows, root, note = power_results(tmp_path / "nothing")
    assert root == tmp_path / "nothing" and note.startswith("no power measurement") and rows.empty
