"""The results store's typed record: a ResultRow writes the very bytes the dict rows wrote."""
from __future__ import annotations

import dataclasses

import pytest

from helpers.store.results import ResultsStore, make_row, result_row
from helpers.store.schema import RESULT_COLUMNS, RESULT_STATUSES, SCHEMA_VERSION, ResultRow

TAG = "cpu-test-2c"
ROWS = [
    dict(device_tag=TAG, fingerprint="0123456789", model="ResNet-18", batch_size=4, metric="latency_per_image",
         value=0.1 / 3, unit="s", median=0.1 / 3, iqr=0.00125, ci_low=0.03, ci_high=0.035, n=12, status="ok",
         flags="unstable;contended;unstable", method='timer, "quoted"', dtype="float32", threads=2, device="cpu",
         details={"b": [1.5, 2], "a": None}, torch_version="2.5.1", host_cpu="AMD EPYC\nline",
         hardware="AMD EPYC (x)", logical_cores=2, timestamp="2025-01-31T12:00:00+00:00"),
    dict(device_tag=TAG, fingerprint="0123456789", model="VGG-19", batch_size=64, metric="memory_peak", unit="MB",
         status="skipped", reason="out of memory, at 64", value=float("nan"), timestamp="2025-01-31T12:00:01Z"),
    dict(device_tag=TAG, model="AlexNet", batch_size=1, metric="memory_static", value=100, median=1e-7, n=1,
         status="ok", details='{"z": 1, "y": 1e20}', timestamp="2025-01-31T12:00:02+00:00"),
]
# What the store wrote for ROWS when rows were dicts (before ResultRow): column order, float
# formatting (repr), empty fields, quoting, canonical JSON and one-line text must not change.
EXPECTED = (
    b"device_tag,fingerprint,model,batch_size,metric,value,unit,median,iqr,ci_low,ci_high,n,status,reason,flags,"
    b"method,domain,dtype,threads,device,details,torch_version,host_cpu,host_gpu,hardware,logical_cores,timestamp,"
    b"schema_version\n"
    b"cpu-test-2c,0123456789,ResNet-18,4,latency_per_image,0.03333333333333333,s,0.03333333333333333,0.00125,0.03,"
    b'0.035,12,ok,,unstable;contended,"timer, ""quoted""",,float32,2,cpu,"{""a"": null, ""b"": [1.5, 2]}",2.5.1,'
    b"AMD EPYC line,,AMD EPYC (x),2,2025-01-31T12:00:00+00:00,2\n"
    b'cpu-test-2c,0123456789,VGG-19,64,memory_peak,,MB,,,,,,skipped,"out of memory, at 64",,,,,,,{},,,,,,'
    b"2025-01-31T12:00:01Z,2\n"
    b'cpu-test-2c,,AlexNet,1,memory_static,100.0,,1e-07,,,,1,ok,,,,,,,,"{""y"": 1e+20, ""z"": 1}",,,,,,'
    b"2025-01-31T12:00:02+00:00,2\n"
)


@pytest.mark.parametrize("build", [result_row, make_row], ids=["ResultRow", "dict"])
def test_rows_write_the_same_bytes_as_before(tmp_path, build):
    store = ResultsStore(tmp_path / "results.csv", device_tag=TAG)
    for fields in ROWS:
        store.append(build(**fields))
    assert store.path.read_bytes() == EXPECTED


def test_the_columns_are_the_records_fields_in_order():
    assert RESULT_COLUMNS == tuple(f.name for f in dataclasses.fields(ResultRow))
    row = result_row(**ROWS[0])
    assert tuple(dataclasses.asdict(row)) == RESULT_COLUMNS
    assert dataclasses.asdict(row) == make_row(**ROWS[0])


def test_a_result_row_is_validated_typed_and_frozen():
    row = result_row(**ROWS[1])
    assert row.value is None and row.n is None and row.details == "{}" and row.schema_version == SCHEMA_VERSION
    assert row.status in RESULT_STATUSES
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.value = 1.0  # type: ignore[misc]
    with pytest.raises(ValueError, match="status='done': must be one of ok, skipped, unavailable, error"):
        result_row(**{**ROWS[2], "status": "done"})
    with pytest.raises(ValueError, match=r"unknown field\(s\) \['speed'\]"):
        result_row(**ROWS[2], speed=1)


def test_a_record_built_without_validation_is_validated_at_the_store(tmp_path):
    store = ResultsStore(tmp_path / "results.csv", device_tag=TAG)
    with pytest.raises(ValueError, match="needs a non-empty reason"):
        store.append(ResultRow(device_tag=TAG, model="m", batch_size=1, metric="x", status="error"))
    with pytest.raises(ValueError, match="this store .* holds device_tag='cpu-test-2c' only"):
        store.append(ResultRow(device_tag="other", model="m", batch_size=1, metric="x", value=1.0, status="ok"))
    stored = store.append(ResultRow(device_tag=TAG, model="m", batch_size=1, metric="x", value=1.0, status="ok",
                                    timestamp="2025-01-31T12:00:00+00:00"))
    assert stored["value"] == 1.0 and store.read()["model"].tolist() == ["m"]
