"""Tests of the results store: round trip, resume, keep-last, validation,
damaged files, several devices, device tags and the environment fingerprint."""
from __future__ import annotations

import json
import math
import re
import warnings

import pandas as pd
import pytest

from helpers.store import results
from helpers.store.results import (
    ResultsFileWarning,
    ResultsStore,
    StoreBusy,
    StoreProblem,
    environment_fingerprint,
    load_results,
    make_row,
)
from helpers.store.schema import KEY, RESULT_COLUMNS, RESULT_COLUMNS_V1, RESULT_STATUSES, SCHEMA_VERSION

TAG = "cpu-test-host"


def ok_row(model="alexnet", batch_size=1, metric="time_per_image", value=12.5, **extra):
    fields = dict(device_tag=TAG, model=model, batch_size=batch_size, metric=metric,
                  value=value, unit="ms", median=value, iqr=0.25, n=30, status="ok",
                  method="perf_counter", dtype="float32", threads=4, device="cpu",
                  details={"window_s": 2.0, "warmup": 5}, torch_version="2.14.1",
                  host_cpu="Test CPU", host_gpu="", timestamp="2025-01-31T12:00:00+00:00")
    fields.update(extra)
    return fields


def bad_row(status="error", reason="CUDA out of memory", model="vgg16", batch_size=64,
            metric="time_per_image", **extra):
    fields = dict(device_tag=TAG, model=model, batch_size=batch_size, metric=metric,
                  status=status, reason=reason, unit="ms", device="cpu")
    fields.update(extra)
    return fields


@pytest.fixture
def store(tmp_path):
    return ResultsStore.for_device(TAG, root=tmp_path)


def quiet_read(store):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResultsFileWarning)
        return store.read()


# ---------------------------------------------------------------- constants

def test_columns_key_statuses():
    assert RESULT_COLUMNS[:5] == KEY == ("device_tag", "fingerprint", "model", "batch_size", "metric")
    assert len(RESULT_COLUMNS) == len(set(RESULT_COLUMNS)) == 28
    assert RESULT_COLUMNS[-1] == "schema_version" and set(RESULT_COLUMNS_V1) < set(RESULT_COLUMNS)
    assert RESULT_STATUSES == ("ok", "skipped", "unavailable", "error")


# ---------------------------------------------------------------- round trip

def test_append_creates_file_with_header_and_round_trips(store, tmp_path):
    assert store.path == tmp_path / TAG / "results.csv"
    assert not store.path.exists()
    store.append(ok_row(value=0.1, median=0.1, iqr=0.02))
    store.append(ok_row(model="resnet50", batch_size=16, value=3.0, median=3.0, n=7))

    lines = store.path.read_text().splitlines()
    assert lines[0] == ",".join(RESULT_COLUMNS)
    assert len(lines) == 3

    df = store.read()
    assert list(df.columns) == list(RESULT_COLUMNS)
    assert len(df) == 2
    assert str(df["batch_size"].dtype) == "int64"
    for col in ("value", "median", "iqr"):
        assert str(df[col].dtype) == "float64"
    assert str(df["n"].dtype) == "Int64"
    assert str(df["threads"].dtype) == "Int64"

    first = df.iloc[0]
    assert first["model"] == "alexnet"
    assert first["batch_size"] == 1
    assert first["value"] == 0.1  # exact float round trip
    assert first["iqr"] == 0.02
    assert first["n"] == 30
    assert first["threads"] == 4
    assert first["status"] == "ok"
    assert first["reason"] == ""
    assert json.loads(first["details"]) == {"window_s": 2.0, "warmup": 5}
    assert first["timestamp"] == "2025-01-31T12:00:00+00:00"
    assert df.iloc[1]["batch_size"] == 16 and df.iloc[1]["n"] == 7
    assert store.problems == []


def test_floats_round_trip_exactly(store):
    values = [1 / 3, 1e-7, 123456.789012345, 2.0**-40]
    for bs, v in enumerate(values, start=1):
        store.append(ok_row(batch_size=bs, value=v, median=v, iqr=v / 7))
    df = store.read()
    assert df["value"].tolist() == values
    assert df["iqr"].tolist() == [v / 7 for v in values]


def test_each_append_is_on_disk_immediately(store):
    store.append(ok_row())
    # A fresh store object (as after a crash and restart) sees the row.
    again = ResultsStore(store.path)
    assert again.has("alexnet", 1, "time_per_image")
    assert len(again.read()) == 1


def test_text_fields_with_commas_quotes_and_newlines(store):
    store.append(bad_row(reason='failed: "boom", at line 3\nTraceback ...'))
    lines = store.path.read_text().splitlines()
    assert len(lines) == 2  # one physical line per row
    df = store.read()
    assert df.iloc[0]["reason"] == 'failed: "boom", at line 3 Traceback ...'


def test_failed_and_skipped_rows_have_empty_value_not_zero(store):
    store.append(bad_row(status="error", reason="OOM"))
    store.append(bad_row(status="skipped", reason="batch too large for memory", batch_size=128))
    store.append(bad_row(status="unavailable", reason="no power sensor", metric="power"))
    # On disk the value field is empty, not "0".
    for line in store.path.read_text().splitlines()[1:]:
        cells = line.split(",")
        assert cells[RESULT_COLUMNS.index("value")] == ""
    df = store.read()
    assert len(df) == 3
    assert df["value"].isna().all()
    assert df["median"].isna().all() and df["iqr"].isna().all()
    assert (df["value"] != 0).all()
    assert df["n"].isna().all()
    assert set(df["status"]) == {"error", "skipped", "unavailable"}


def test_make_row_fills_defaults():
    row = make_row(device_tag=TAG, model="alexnet", batch_size=2, metric="m", value=1, status="ok")
    assert tuple(row) == RESULT_COLUMNS
    assert row["details"] == "{}"
    assert row["value"] == 1.0 and isinstance(row["value"], float)
    assert row["median"] is None and row["n"] is None and row["threads"] is None
    assert row["reason"] == "" and row["unit"] == ""
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", row["timestamp"])


def test_make_row_accepts_numpy_scalars():
    np = pytest.importorskip("numpy")
    row = make_row(device_tag=TAG, model="m", batch_size=np.int64(8), metric="x",
                   value=np.float32(2.5), status="ok", n=np.int64(3),
                   details={"k": np.int64(4)})
    assert row["batch_size"] == 8 and type(row["batch_size"]) is int
    assert row["value"] == 2.5
    assert json.loads(row["details"]) == {"k": 4}


# ---------------------------------------------------------------- resume

def test_has_counts_ok_and_skipped_but_not_error_or_unavailable(store):
    store.append(ok_row(model="alexnet", batch_size=1))
    store.append(bad_row(status="skipped", reason="too big", model="vgg16", batch_size=256))
    store.append(bad_row(status="error", reason="OOM", model="vgg16", batch_size=64))
    store.append(bad_row(status="unavailable", reason="no sensor", model="alexnet",
                         batch_size=1, metric="power"))

    assert store.has("alexnet", 1, "time_per_image")
    assert store.has("alexnet", 1, "time_per_image", device_tag=TAG)
    assert not store.has("alexnet", 1, "time_per_image", device_tag="cuda-other")
    assert store.has("vgg16", 256, "time_per_image")
    assert not store.has("vgg16", 64, "time_per_image")
    assert not store.has("alexnet", 1, "power")
    assert not store.has("alexnet", 2, "time_per_image")
    assert not store.has("resnet18", 1, "time_per_image")


def test_error_retried_then_ok_counts(store):
    store.append(bad_row(status="error", reason="OOM", model="vgg16", batch_size=64))
    assert not store.has("vgg16", 64, "time_per_image")
    store.append(ok_row(model="vgg16", batch_size=64, value=40.0))
    assert store.has("vgg16", 64, "time_per_image")
    df = store.read()
    assert len(df) == 1 and df.iloc[0]["status"] == "ok" and df.iloc[0]["value"] == 40.0


def test_has_on_missing_file_is_false(tmp_path):
    s = ResultsStore(tmp_path / "nowhere" / "results.csv")
    assert not s.has("alexnet", 1, "time_per_image")
    assert s.problems == []


# ---------------------------------------------------------------- keep last

def test_duplicate_keys_keep_last(store):
    store.append(ok_row(value=10.0, median=10.0))
    store.append(ok_row(model="resnet18", value=5.0, median=5.0))
    store.append(ok_row(value=11.0, median=11.0))  # --force re-measurement
    df = store.read()
    assert len(df) == 2
    alex = df[df["model"] == "alexnet"]
    assert len(alex) == 1
    assert alex.iloc[0]["value"] == 11.0
    assert df.iloc[-1]["model"] == "alexnet"  # last occurrence's position


def test_later_error_wins_in_read_and_has(store):
    store.append(ok_row(value=10.0))
    store.append(bad_row(status="error", reason="forced re-run failed", model="alexnet",
                         batch_size=1))
    df = store.read()
    assert len(df) == 1 and df.iloc[0]["status"] == "error" and math.isnan(df.iloc[0]["value"])
    assert not store.has("alexnet", 1, "time_per_image")


# ---------------------------------------------------------------- validation

@pytest.mark.parametrize(
    "change, needle",
    [
        ({"colour": "red"}, "colour"),
        ({"status": "done"}, "'done'"),
        ({"batch_size": 0}, "batch_size=0"),
        ({"batch_size": -3}, "batch_size=-3"),
        ({"batch_size": 2.5}, "batch_size=2.5"),
        ({"batch_size": "8"}, "batch_size='8'"),
        ({"batch_size": True}, "batch_size=True"),
        ({"value": float("nan")}, "value=nan"),
        ({"value": float("inf")}, "value=inf"),
        ({"value": None}, "value=None"),
        ({"value": "12.5"}, "value='12.5'"),
        ({"median": float("inf")}, "median=inf"),
        ({"iqr": -1.0}, "iqr=-1.0"),
        ({"n": -1}, "n=-1"),
        ({"threads": 0}, "threads=0"),
        ({"model": ""}, "model"),
        ({"details": "[1, 2]"}, "details='[1, 2]'"),
        ({"details": "{not json"}, "details='{not json'"),
        ({"timestamp": "yesterday"}, "timestamp='yesterday'"),
    ],
)
def test_make_row_rejects_bad_values(change, needle):
    with pytest.raises(ValueError) as exc:
        make_row(**ok_row(**change))
    assert needle in str(exc.value)


def test_unknown_status_lists_valid_ones():
    with pytest.raises(ValueError, match=r"status='done'.*ok, skipped, unavailable, error"):
        make_row(**ok_row(status="done"))


def test_unknown_field_lists_valid_ones():
    with pytest.raises(ValueError, match=r"\['colour'\].*device_tag, fingerprint, model"):
        make_row(**ok_row(colour="red"))


@pytest.mark.parametrize("status", ["skipped", "unavailable", "error"])
def test_non_ok_needs_reason(status):
    with pytest.raises(ValueError, match=rf"status='{status}'.*reason"):
        make_row(**bad_row(status=status, reason=""))
    with pytest.raises(ValueError, match="reason"):
        make_row(**bad_row(status=status, reason="   "))


@pytest.mark.parametrize("field", ["value", "median", "iqr"])
def test_non_ok_row_cannot_carry_a_number(field):
    with pytest.raises(ValueError, match=rf"{field}=0.*status='error'"):
        make_row(**bad_row(**{field: 0}))
    # NaN / None mean "missing" and are fine.
    assert make_row(**bad_row(**{field: float("nan")}))[field] is None


def test_missing_required_field():
    with pytest.raises(ValueError, match=r"missing required field\(s\) \['metric'\]"):
        make_row(device_tag=TAG, model="m", batch_size=1, status="ok", value=1.0)


def test_append_validates_and_writes_nothing_on_error(store):
    with pytest.raises(ValueError, match="batch_size=0"):
        store.append(ok_row(batch_size=0))
    assert not store.path.exists()


def test_store_for_device_refuses_other_device(store):
    with pytest.raises(ValueError, match="device_tag='cuda-other'"):
        store.append(ok_row(device_tag="cuda-other"))


# ---------------------------------------------------------------- damage

def test_truncated_last_line_then_append(store):
    for bs in (1, 2, 4):
        store.append(ok_row(batch_size=bs, value=float(bs)))
    full = store.path.read_text()
    partial = full.splitlines()[-1][:40]  # a row cut short, no newline
    with open(store.path, "a") as f:
        f.write(partial)

    s = ResultsStore(store.path)
    with pytest.warns(ResultsFileWarning) as rec:
        df = s.read()
    assert sorted(df["batch_size"]) == [1, 2, 4]
    assert len(s.problems) == 1
    problem = s.problems[0]
    assert isinstance(problem, StoreProblem)
    assert problem.path == store.path
    assert problem.line == 5  # header + 3 rows + the cut one
    assert "unterminated" in problem.reason and "fields" in problem.reason
    assert len(rec) == 1
    msg = str(rec[0].message)
    assert "results.csv" in msg and "1 damaged line kept out (line 5)" in msg

    # Appending terminates the damaged line first; the new row is intact.
    s.append(ok_row(batch_size=8, value=8.0))
    raw = store.path.read_text()
    assert raw.endswith("\n")
    assert raw.splitlines()[4] == partial
    with pytest.warns(ResultsFileWarning):
        df = s.read()
    assert sorted(df["batch_size"]) == [1, 2, 4, 8]
    assert df.loc[df["batch_size"] == 8, "value"].item() == 8.0
    assert [p.line for p in s.problems] == [5]
    assert "unterminated" not in s.problems[0].reason  # now a terminated short line
    assert s.has("alexnet", 8, "time_per_image")


def test_damaged_lines_in_the_middle(store):
    store.append(ok_row(batch_size=1))
    store.append(ok_row(batch_size=2))
    store.append(ok_row(batch_size=4))
    store.append(ok_row(batch_size=8))
    lines = store.path.read_text().splitlines()
    vi = RESULT_COLUMNS.index("value")
    cells = lines[2].split(",")
    # line 3 (batch 2): wrong number of fields
    lines[2] = ",".join(cells[:-3])
    # line 4 (batch 4): non-numeric value
    cells = lines[3].split(",")
    cells[vi] = "fast"
    lines[3] = ",".join(cells)
    store.path.write_text("\n".join(lines) + "\n")

    s = ResultsStore(store.path)
    with pytest.warns(ResultsFileWarning, match=r"2 damaged lines kept out \(lines 3, 4\)"):
        df = s.read()
    assert sorted(df["batch_size"]) == [1, 8]
    assert [(p.line, p.path) for p in s.problems] == [(3, store.path), (4, store.path)]
    assert "expected 28 fields, found 25" in s.problems[0].reason
    assert "'fast' is not a number" in s.problems[1].reason
    assert not s.has("alexnet", 2, "time_per_image")
    assert s.has("alexnet", 8, "time_per_image")


def test_unknown_status_and_bad_batch_in_file(store):
    store.append(ok_row(batch_size=1))
    store.append(ok_row(batch_size=2))
    lines = store.path.read_text().splitlines()
    cells = lines[1].split(",")
    cells[RESULT_COLUMNS.index("status")] = "done"
    lines[1] = ",".join(cells)
    cells = lines[2].split(",")
    cells[RESULT_COLUMNS.index("batch_size")] = "two"
    lines[2] = ",".join(cells)
    store.path.write_text("\n".join(lines) + "\n")
    s = ResultsStore(store.path)
    df = quiet_read(s)
    assert df.empty and list(df.columns) == list(RESULT_COLUMNS)
    assert [p.line for p in s.problems] == [2, 3]
    assert "'done'" in s.problems[0].reason
    assert "'two'" in s.problems[1].reason


def test_bad_header_reported_rows_kept(store):
    store.append(ok_row(batch_size=1))
    store.append(ok_row(batch_size=2))
    lines = store.path.read_text().splitlines()
    lines[0] = "garbage,header"
    store.path.write_text("\n".join(lines) + "\n")
    s = ResultsStore(store.path)
    with pytest.warns(ResultsFileWarning, match=r"line 1"):
        df = s.read()
    assert sorted(df["batch_size"]) == [1, 2]
    assert [p.line for p in s.problems] == [1]
    assert "bad header" in s.problems[0].reason


def test_cut_short_header_is_rewritten_on_append(store):
    store.path.parent.mkdir(parents=True)
    store.path.write_text(",".join(RESULT_COLUMNS)[:15])  # killed while writing the header
    store.append(ok_row())
    lines = store.path.read_text().splitlines()
    assert lines[0] == ",".join(RESULT_COLUMNS) and len(lines) == 2
    assert len(store.read()) == 1 and store.problems == []


def test_one_warning_per_file_not_per_call(store):
    store.append(ok_row())
    with open(store.path, "a") as f:
        f.write("alexnet,1,")
    s = ResultsStore(store.path)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        s.read()
        s.has("alexnet", 1, "time_per_image")
        s.problems
        s.read()
    assert len([w for w in rec if issubclass(w.category, ResultsFileWarning)]) == 1


def test_empty_and_missing_files(tmp_path):
    missing = ResultsStore(tmp_path / "x" / "results.csv")
    df = missing.read()
    assert df.empty and list(df.columns) == list(RESULT_COLUMNS)
    assert str(df["batch_size"].dtype) == "int64" and str(df["value"].dtype) == "float64"
    assert missing.problems == []

    empty = ResultsStore(tmp_path / "y" / "results.csv")
    empty.path.parent.mkdir()
    empty.path.write_text("")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an empty file is not damage
        assert empty.read().empty
    assert empty.problems == []
    # Appending to the empty file writes the header first.
    empty.append(ok_row())
    assert empty.path.read_text().splitlines()[0] == ",".join(RESULT_COLUMNS)
    assert len(empty.read()) == 1

    header_only = ResultsStore(tmp_path / "z" / "results.csv")
    header_only.path.parent.mkdir()
    header_only.path.write_text(",".join(RESULT_COLUMNS) + "\n")
    assert header_only.read().empty and header_only.problems == []


# ---------------------------------------------------------------- several devices

def test_load_results_over_two_devices(tmp_path):
    a = ResultsStore.for_device("cpu-a", root=tmp_path)
    b = ResultsStore.for_device("cuda-b", root=tmp_path)
    a.append(ok_row(device_tag="cpu-a", value=1.0))
    a.append(ok_row(device_tag="cpu-a", batch_size=2, value=2.0))
    b.append(ok_row(device_tag="cuda-b", value=0.5))
    b.append(bad_row(device_tag="cuda-b", status="error", reason="OOM"))
    (tmp_path / "not-a-device").mkdir()  # folder without results.csv is ignored

    df = load_results(tmp_path)
    assert len(df) == 4
    assert df.groupby("device_tag").size().to_dict() == {"cpu-a": 2, "cuda-b": 2}
    assert str(df["batch_size"].dtype) == "int64" and str(df["n"].dtype) == "Int64"
    assert df.loc[(df["device_tag"] == "cuda-b") & (df["status"] == "ok"), "value"].item() == 0.5

    only_b = load_results(tmp_path, device_tags=["cuda-b"])
    assert set(only_b["device_tag"]) == {"cuda-b"} and len(only_b) == 2
    assert load_results(tmp_path, device_tags=["cuda-none"]).empty


def test_load_results_empty_root(tmp_path):
    df = load_results(tmp_path / "does-not-exist")
    assert df.empty and list(df.columns) == list(RESULT_COLUMNS)
    df = load_results(tmp_path)
    assert df.empty and list(df.columns) == list(RESULT_COLUMNS)


def test_for_device_defaults_to_results_dir():
    from helpers.core.paths import RESULTS_DIR

    s = ResultsStore.for_device("cpu-x")
    assert s.path == RESULTS_DIR / "cpu-x" / "results.csv"
    with pytest.raises(ValueError):
        ResultsStore.for_device("../escape")


# ---------------------------------------------------------------- fingerprint

def test_environment_fingerprint_cpu(monkeypatch):
    import torch

    from helpers.store import machine

    monkeypatch.setattr(results, "cpu_name", lambda: "Test CPU 9000")
    monkeypatch.setattr(machine, "cpu_name", lambda: "Test CPU 9000")
    fp = environment_fingerprint("cpu", threads=8)
    assert set(fp) == {"fingerprint", "torch_version", "host_cpu", "host_gpu", "hardware", "logical_cores",
                       "threads", "device", "dtype", "timestamp"}
    assert set(fp) <= set(RESULT_COLUMNS)
    assert fp["torch_version"] == torch.__version__
    assert fp["host_cpu"] == "Test CPU 9000" and fp["hardware"].startswith("Test CPU 9000 (")
    assert fp["host_gpu"] == ""
    assert fp["threads"] == 8 and fp["device"] == "cpu"
    assert re.fullmatch(r"[0-9a-f]{10}", fp["fingerprint"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", fp["timestamp"])
    # Another thread count is another fingerprint; the same one is the same.
    assert environment_fingerprint("cpu", threads=1)["fingerprint"] != fp["fingerprint"]
    assert environment_fingerprint("cpu", threads=8)["fingerprint"] == fp["fingerprint"]
    # It slots straight into a row.
    row = make_row(device_tag=TAG, model="m", batch_size=1, metric="x", value=1.0,
                   status="ok", **fp)
    assert row["host_cpu"] == "Test CPU 9000" and row["threads"] == 8


def test_environment_fingerprint_validates():
    with pytest.raises(ValueError, match="'tpu'"):
        environment_fingerprint("tpu", threads=1)
    with pytest.raises(ValueError, match="threads=0"):
        environment_fingerprint("cpu", threads=0)


# ---------------------------------------------------------------- schema evolution

V1_HEADER = ("device_tag,model,batch_size,metric,value,unit,median,iqr,n,status,reason,method,domain,dtype,"
             "threads,device,details,torch_version,host_cpu,host_gpu,timestamp")
V1_LINES = [
    'cpu-amd-epyc,AlexNet,1,latency_per_image,0.029000511500044013,s,0.029000511500044013,0.0013003940000544'
    '39,18,ok,,torch.utils.benchmark.blocked_autorange,,float32,2,cpu,"{""total_runs"": 18}",2.14.1+cu130,'
    'AMD EPYC,,2026-11-22T05:52:47+00:00',
    'cpu-amd-epyc,VGG-19,64,memory_peak,,MB,,,,skipped,out of memory at batch 64,rss-child-process,,,2,cpu,'
    '{},2.14.1+cu130,AMD EPYC,,2026-11-22T05:53:47+00:00',
]


def test_schema_1_file_is_read_and_migrated(tmp_path):
    store = ResultsStore.for_device("cpu-amd-epyc", root=tmp_path)
    store.path.parent.mkdir(parents=True)
    store.path.write_text(V1_HEADER + "\n" + "\n".join(V1_LINES) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an older schema is not damage
        df = store.read()
    assert list(df.columns) == list(RESULT_COLUMNS) and len(df) == 2
    assert set(df["schema_version"]) == {"1"} and set(df["fingerprint"]) == {""}
    first = df.iloc[0]
    assert first["value"] == 0.029000511500044013 and first["n"] == 18
    assert math.isnan(first["ci_low"]) and first["flags"] == ""
    assert df.iloc[1]["status"] == "skipped"
    # Appending a current row never mixes headers: it goes to a successor file.
    store.append(ok_row(device_tag="cpu-amd-epyc", fingerprint="abc", model="ENet"))
    assert store.path.read_text().splitlines()[0] == V1_HEADER
    successor = store.path.with_name("results-2.csv")
    assert successor.read_text().splitlines()[0] == ",".join(RESULT_COLUMNS)
    assert store.paths == [store.path, successor]
    both = store.read()
    assert len(both) == 3 and set(both["schema_version"]) == {"1", SCHEMA_VERSION}
    # Further rows keep going to the successor.
    store.append(ok_row(device_tag="cpu-amd-epyc", fingerprint="abc", model="ENet", batch_size=2))
    assert len(successor.read_text().splitlines()) == 3 and store.paths == [store.path, successor]


def test_newer_schema_with_extra_column_is_read_with_it_kept(tmp_path):
    store = ResultsStore.for_device(TAG, root=tmp_path)
    store.append(ok_row(fingerprint="f1"))
    lines = store.path.read_text().splitlines()
    header = lines[0] + ",energy_source"
    store.path.write_text(header + "\n" + lines[1] + ",meter-7\n")
    s = ResultsStore(store.path, device_tag=TAG)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = s.read()
    assert len(df) == 1 and df.iloc[0]["energy_source"] == "meter-7" and df.iloc[0]["value"] == 12.5
    s.append(ok_row(fingerprint="f1", batch_size=2))
    assert s.path.read_text().splitlines()[0] == header  # not mixed into the newer file
    df = s.read()
    assert sorted(df["batch_size"]) == [1, 2]
    assert df.set_index("batch_size")["energy_source"].to_dict() == {1: "meter-7", 2: ""}


def test_interval_and_flags_are_validated(store):
    row = make_row(**ok_row(value=1.0, median=1.0, ci_low=0.98, ci_high=1.03, flags="contended;unstable"))
    assert row["ci_low"] == 0.98 and row["flags"] == "contended;unstable"
    with pytest.raises(ValueError, match="both ends"):
        make_row(**ok_row(ci_low=1.0))
    with pytest.raises(ValueError, match="contain the median"):
        make_row(**ok_row(value=1.0, median=1.0, ci_low=1.1, ci_high=1.2))
    with pytest.raises(ValueError, match="unknown flag 'noisy'.*contended"):
        make_row(**ok_row(flags="noisy"))
    store.append(ok_row(value=1.0, median=1.0, ci_low=0.98, ci_high=1.03, flags="imprecise"))
    back = store.read().iloc[0]
    assert (back["ci_low"], back["ci_high"], back["flags"]) == (0.98, 1.03, "imprecise")


def test_fingerprint_is_part_of_the_key(store):
    store.append(ok_row(fingerprint="aaa", value=1.0, timestamp="2025-01-31T12:00:00+00:00"))
    store.append(ok_row(fingerprint="bbb", value=2.0, timestamp="2025-02-01T12:00:00+00:00"))
    assert store.has("alexnet", 1, "time_per_image", fingerprint="aaa")
    assert store.has("alexnet", 1, "time_per_image", fingerprint="bbb")
    assert not store.has("alexnet", 1, "time_per_image", fingerprint="ccc")
    assert len(store.read()) == 2  # two runs, not one overwriting the other
    assert store.fingerprints() == ["aaa", "bbb"]
    root = store.path.parent.parent
    assert load_results(root)["value"].tolist() == [2.0]  # the latest run per device tag
    assert load_results(root, fingerprint="aaa")["value"].tolist() == [1.0]
    assert sorted(load_results(root, fingerprint=None)["value"]) == [1.0, 2.0]


# ---------------------------------------------------------------- concurrency and bad folders

def test_second_exclusive_run_is_refused_with_the_lock_named(store):
    with store.exclusive():
        other = ResultsStore(store.path, device_tag=TAG)
        with pytest.raises(StoreBusy, match=r"another run is measuring into .*\.lock.*--out"):
            with other.exclusive():
                pass
        store.append(ok_row())  # appending still works while the run owns the store
    with other.exclusive():
        pass  # free again once released


def test_concurrent_appends_from_processes_lose_nothing(store):
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(str(store.path), k, 40)) for k in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    df = store.read()
    assert len(df) == 120 and store.problems == []


def _append_many(path: str, k: int, count: int) -> None:
    s = ResultsStore(path, device_tag=TAG)
    for i in range(count):
        s.append(ok_row(model=f"m{k}", batch_size=i + 1))


def test_results_folder_that_is_a_file_or_read_only(tmp_path):
    afile = tmp_path / "passwd"
    afile.write_text("root:x:0:0\n")
    s = ResultsStore.for_device(TAG, root=afile)
    with pytest.raises(ValueError, match=r"passwd is a file"):
        s.append(ok_row())
    with pytest.raises(ValueError, match=r"passwd is a file"):
        with s.exclusive():
            pass
    import os

    if os.geteuid() == 0:
        pytest.skip("root can write into a read-only folder")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(ValueError, match=r"not writable"):
            ResultsStore.for_device(TAG, root=ro).append(ok_row())
    finally:
        ro.chmod(0o755)
