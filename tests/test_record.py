"""Two stores: this machine's own runs (data/results, git-ignored) and the recorded runs (data/recorded, committed,
read-only). `make record` is the one way a run gets from the first into the second."""
import pandas as pd
import pytest

from helpers.cli import record
from helpers.cli.commands import main
from helpers.cli.record import record_run, recorded_files
from helpers.core.paths import RECORDED_DIR, RESULTS_DIR, check_writable, is_recorded

TAG = "cpu-test-2c"
#: A device folder as a measurement leaves it: the stores and the characterisation, and what is never recorded.
KEPT = ("hardware.csv", "precision.csv", "results-2.csv", "results.csv", "threads.csv")
NEVER = (".results.run.lock", ".results.append.lock", ".threads.run.lock", ".partial-ab12cd34.jsonl", "notes.txt",
         "results.csv.bak")


def _run(root, tag=TAG, files=KEPT + NEVER, text="first"):
    folder = root / tag
    folder.mkdir(parents=True, exist_ok=True)
    for name in files:
        (folder / name).write_text(f"{text} {name}\n")
    return folder


# ------------------------------------------------------------------ the recorded runs are read-only
def test_a_path_is_recorded_when_it_is_the_recorded_root_or_inside_it(tmp_path):
    assert is_recorded(RECORDED_DIR) and is_recorded(RECORDED_DIR / TAG) and is_recorded(RECORDED_DIR / "a" / "b")
    assert is_recorded(RESULTS_DIR / ".." / "recorded" / TAG)
    assert not is_recorded(RESULTS_DIR) and not is_recorded(RESULTS_DIR / TAG) and not is_recorded(tmp_path)
    assert not is_recorded(RECORDED_DIR.parent / "recorded-copy")
    check_writable(None)
    check_writable(tmp_path / "results")
    with pytest.raises(ValueError, match=r"results_root=.*recorded.*read-only.*data/results.*make record"):
        check_writable(RECORDED_DIR)


def test_measure_refuses_a_results_root_in_the_recorded_runs():
    from helpers.measure.sweep import measure

    for root in (RECORDED_DIR, RECORDED_DIR / "elsewhere"):
        with pytest.raises(ValueError, match=f"results_root='{root}': a recorded run is read-only"):
            measure(["ENet"], [1], ["time"], device="cpu", threads=1, results_root=root, progress=False)
    assert not (RECORDED_DIR / "elsewhere").exists()


def test_no_store_writes_into_the_recorded_runs():
    from helpers.measure.hardware import characterise
    from helpers.store.characterisation import save_characterisation
    from helpers.store.results import ResultsStore, make_row

    store = ResultsStore.for_device("cpu-nowhere-1c", RECORDED_DIR)
    row = make_row(device_tag="cpu-nowhere-1c", fingerprint="f0", model="ENet", batch_size=1,
                   metric="latency_per_image", value=0.01, unit="s", status="ok")
    with pytest.raises(ValueError, match="results folder=.*read-only"):
        store.append(row)
    with pytest.raises(ValueError, match="read-only"):
        with store.exclusive():
            pass
    with pytest.raises(ValueError, match="folder=.*read-only"):
        save_characterisation(characterise("cpu", 1, measure=False), RECORDED_DIR / "cpu-nowhere-1c")
    assert not (RECORDED_DIR / "cpu-nowhere-1c").exists()


def test_the_hardware_command_refuses_a_recorded_folder_before_measuring(capsys):
    assert main(["hardware", "--out", str(RECORDED_DIR / "cpu-nowhere-1c")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--out=" in err[0] and "read-only" in err[0]
    assert not (RECORDED_DIR / "cpu-nowhere-1c").exists()


# ------------------------------------------------------------------ make record
def test_record_copies_the_stores_and_the_characterisation_only(tmp_path):
    _run(tmp_path / "results")
    copied = record_run(TAG, False, tmp_path / "results", tmp_path / "recorded")
    target = tmp_path / "recorded" / TAG
    assert [p.name for p in copied] == list(KEPT) and all(p.parent == target for p in copied)
    assert sorted(p.name for p in target.iterdir()) == sorted(KEPT)  # no journal, lock or stray file
    assert (target / "results.csv").read_text() == "first results.csv\n"
    assert [p.name for p in recorded_files(tmp_path / "results" / TAG)] == list(KEPT)
    assert sorted(p.name for p in (tmp_path / "recorded").iterdir()) == [TAG]  # nothing left beside it


def test_record_refuses_a_recorded_run_without_force_and_replaces_it_with_force(tmp_path):
    _run(tmp_path / "results")
    record_run(TAG, False, tmp_path / "results", tmp_path / "recorded")
    (tmp_path / "recorded" / TAG / "stale.csv").write_text("from an earlier recording\n")
    _run(tmp_path / "results", files=("results.csv",), text="second")
    with pytest.raises(ValueError, match=r"already recorded: --force replaces it"):
        record_run(TAG, False, tmp_path / "results", tmp_path / "recorded")
    assert (tmp_path / "recorded" / TAG / "results.csv").read_text() == "first results.csv\n"
    record_run(TAG, True, tmp_path / "results", tmp_path / "recorded")
    target = tmp_path / "recorded" / TAG
    assert (target / "results.csv").read_text() == "second results.csv\n"
    assert not (target / "stale.csv").exists() and sorted(p.name for p in target.iterdir()) == sorted(KEPT)


def test_record_refuses_a_run_with_no_results(tmp_path):
    with pytest.raises(ValueError, match=rf"nothing to record: .*{TAG} holds no results.csv.*runs there: none"):
        record_run(TAG, False, tmp_path / "results", tmp_path / "recorded")
    _run(tmp_path / "results", files=("hardware.csv", ".partial-ab12cd34.jsonl"))  # peaks and a journal, no result
    _run(tmp_path / "results", tag="cpu-other-4c", files=("results.csv",))
    with pytest.raises(ValueError, match=r"nothing to record.*runs there: cpu-other-4c \(pass --tag TAG\)"):
        record_run(TAG, True, tmp_path / "results", tmp_path / "recorded")
    assert not (tmp_path / "recorded").exists()
    with pytest.raises(ValueError, match="bad device tag"):
        record_run("../up", False, tmp_path / "results", tmp_path / "recorded")


def test_record_without_a_tag_records_this_machines_run(tmp_path):
    from helpers.store.machine import device_tag, resolve_device

    tag = device_tag(resolve_device("auto"))
    _run(tmp_path / "results", tag=tag, files=("results.csv",))
    assert [p.parent.name for p in record_run(None, False, tmp_path / "results", tmp_path / "recorded")] == [tag]


def test_record_waits_for_no_measurement(tmp_path):
    from helpers.store.results import ResultsStore, StoreBusy

    _run(tmp_path / "results", files=("results.csv",))
    with ResultsStore.for_device(TAG, tmp_path / "results").exclusive():  # a measurement in progress
        with pytest.raises(StoreBusy, match="record it when that run has finished"):
            record_run(TAG, False, tmp_path / "results", tmp_path / "recorded")
    assert not (tmp_path / "recorded" / TAG).exists()


def test_the_record_command_prints_what_it_copied_and_refuses_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(record, "RESULTS_DIR", tmp_path / "results")
    monkeypatch.setattr(record, "RECORDED_DIR", tmp_path / "recorded")
    assert main(["record", "--tag", TAG]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: nothing to record")
    _run(tmp_path / "results", files=("results.csv", "hardware.csv", ".partial-ab12cd34.jsonl"))
    assert main(["record", "--tag", TAG]) == 0
    out = capsys.readouterr().out
    assert "hardware.csv" in out and "results.csv" in out and ".partial" not in out
    assert f"git add {tmp_path / 'recorded' / TAG}" in out
    assert main(["record", "--tag", TAG]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "already recorded: --force replaces it" in err[0]
    assert main(["record", "--tag", TAG, "--force"]) == 0


def test_claims_without_results_rule_your_own_runs_or_name_the_recorded_ones(tmp_path, monkeypatch, capsys):
    from helpers.cli import commands
    from helpers.course.notebook import recorded_tags

    monkeypatch.setattr(commands, "RESULTS_DIR", tmp_path / "results")  # a fresh clone: no run of its own
    assert main(["claims"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no runs of your own under data/results" in err[0]
    assert recorded_tags()[0] in err[0] and "--results data/recorded" in err[0]
    assert main(["claims", "--results", str(RECORDED_DIR), "--csv"]) == 0
    import io

    table = pd.read_csv(io.StringIO(capsys.readouterr().out), keep_default_na=False)
    assert set(table["device_tag"]) == set(recorded_tags())


def test_a_second_sweep_is_recorded_beside_its_recorded_run_never_as_a_device(tmp_path):
    from helpers.course.notebook import recorded_tags

    mine, recorded = tmp_path / "results", tmp_path / "recorded"
    _run(mine)
    with pytest.raises(ValueError, match="not recorded.*record its run first"):
        record.record_rerun(TAG, False, mine, recorded)
    record_run(TAG, False, mine, recorded)
    second = tmp_path / "second"
    _run(second, text="second")
    copied = record.record_rerun(TAG, False, second, recorded)
    assert sorted(p.name for p in copied) == sorted(KEPT)
    assert (recorded / "reruns" / TAG / "results.csv").read_text() == "second results.csv\n"
    assert (recorded / TAG / "results.csv").read_text() == "first results.csv\n"  # the recorded run untouched
    assert recorded_tags(recorded) == [TAG]                                        # reruns is no device
    with pytest.raises(ValueError, match="already recorded"):
        record.record_rerun(TAG, False, second, recorded)
