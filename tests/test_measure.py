"""The measurement driver: rows, resume, interruption, skipped batches, no fake power."""
import math
import signal
import subprocess
import sys
import time

import pytest

from helpers import measure as measure_module
from helpers.measure import measure, parse_metrics
from helpers.paths import REPO_ROOT
from helpers.results import ResultsStore, device_tag
from helpers.timing import LatencyResult

FAST = {"min_run_time": 0.01, "min_measurements": 3, "max_run_time": 1.0}


def test_parse_metrics_names_the_bad_one():
    assert parse_metrics("time,memory") == ["time", "memory"]
    with pytest.raises(ValueError, match="'speed'.*time, memory, power"):
        parse_metrics("time,speed")


def test_time_rows_then_resume_writes_nothing(tmp_path):
    store = measure(["ENet"], [1, 2], ["time"], device="cpu", threads=1, results_root=tmp_path,
                    progress=False, **FAST)
    table = store.read()
    assert list(table["batch_size"]) == [1, 2]
    assert (table["status"] == "ok").all() and (table["metric"] == "latency_per_image").all()
    assert (table["value"] > 0).all() and (table["n"] >= 3).all() and (table["unit"] == "s").all()
    assert (table["threads"] == 1).all() and (table["device_tag"] == device_tag("cpu")).all()
    lines = store.path.read_text().splitlines()
    measure(["ENet"], [1, 2], ["time"], device="cpu", threads=1, results_root=tmp_path, progress=False, **FAST)
    assert store.path.read_text().splitlines() == lines  # nothing repeated
    measure(["ENet"], [1], ["time"], device="cpu", threads=1, results_root=tmp_path, progress=False,
            force=True, **FAST)
    assert len(store.path.read_text().splitlines()) == len(lines) + 1  # --force measures again


def test_a_batch_that_does_not_fit_is_skipped_and_larger_ones_follow(tmp_path, monkeypatch):
    real = measure_module.measure_latency

    def fake(model, x, **kwargs):
        if x.shape[0] >= 2:
            return LatencyResult("ENet", x.shape[0], "cpu", "float32", 1, status="skipped",
                                 reason="out of memory at batch 2: not enough memory")
        return real(model, x, **kwargs)

    monkeypatch.setattr(measure_module, "measure_latency", fake)
    store = measure(["ENet"], [1, 2, 4], ["time"], device="cpu", threads=1, results_root=tmp_path,
                    progress=False, **FAST)
    table = store.read().set_index("batch_size")
    assert table.loc[1, "status"] == "ok"
    assert table.loc[2, "status"] == "skipped" and "out of memory" in table.loc[2, "reason"]
    assert table.loc[4, "status"] == "skipped" and "larger than batch 2" in table.loc[4, "reason"]
    assert math.isnan(table.loc[2, "value"]) and math.isnan(table.loc[4, "value"])


def test_power_without_a_sensor_is_unavailable_with_its_reason_never_zero(tmp_path, monkeypatch):
    from helpers.power import ProbeUnavailable

    def no_probe(device, *args, **kwargs):
        raise ProbeUnavailable("no RAPL interface here; nvidia-ml-py is not installed")

    monkeypatch.setattr("helpers.power.open_probe", no_probe)
    table = measure(["ENet"], [1], ["power"], device="cpu", threads=1, results_root=tmp_path,
                    progress=False, power_window_s=0.1).read()
    assert set(table["metric"]) == {"power_net", "energy_per_image"}
    assert (table["status"] == "unavailable").all()
    assert table["value"].isna().all()
    assert table["reason"].str.contains("no RAPL interface").all()


def test_memory_rows_in_mb(tmp_path):
    table = measure(["ENet"], [1], ["memory"], device="cpu", threads=1, results_root=tmp_path,
                    progress=False).read().set_index("metric")
    assert table.loc["memory_static", "unit"] == "MB" and table.loc["memory_static", "value"] > 5
    assert table.loc["memory_peak", "value"] >= table.loc["memory_static", "value"]


def test_killed_half_way_then_rerun_loses_and_repeats_nothing(tmp_path):
    """A real interruption: SIGKILL the command line after its first row, then run it again."""
    cmd = [sys.executable, "-m", "helpers", "measure", "--models", "ENet", "--batch-sizes", "1,2,4,8",
           "--metrics", "time", "--device", "cpu", "--threads", "1", "--out", str(tmp_path),
           "--profile", "smoke"]
    store = ResultsStore.for_device(device_tag("cpu"), root=tmp_path)
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and (not store.path.exists() or len(store.path.read_text().splitlines()) < 2):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    first = store.read()
    assert 1 <= len(first) < 4, "the kill should land half-way"
    done = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    final = store.read()
    assert sorted(final["batch_size"]) == [1, 2, 4, 8]
    assert not store.problems
    raw = [line for line in store.path.read_text().splitlines()[1:] if line]
    assert len(raw) == 4  # each point stored once
    kept = final.set_index("batch_size").loc[first["batch_size"], "timestamp"]
    assert list(kept) == list(first["timestamp"])  # what was stored before the kill is untouched


def test_cli_rejects_bad_values_by_name(tmp_path):
    for args, bad in ((["--batch-sizes", "1,0"], "'0'"), (["--metrics", "speed"], "'speed'"),
                      (["--device", "tpu"], "'tpu'")):
        result = subprocess.run([sys.executable, "-m", "helpers", "measure", "--out", str(tmp_path), *args],
                                cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
        assert result.returncode == 2 and bad in result.stderr, (args, result.stderr)


def test_power_with_a_sensor_stores_net_power_and_energy_with_method_and_domain(tmp_path, monkeypatch):
    """The same command with a (fake) counter sensor: a constant 2 W draw gives net power 0 W."""
    from helpers.power import PowerProbe

    class ConstantDraw(PowerProbe):
        name, domain, method, sensor_period_s = "fake", "fake:package-0", "counter", 0.001

        def __init__(self):
            self.start = time.perf_counter()

        def read_energy_j(self):
            return 2.0 * (time.perf_counter() - self.start)

        def close(self):
            pass

    monkeypatch.setattr("helpers.power.open_probe", lambda device, *a, **k: ConstantDraw())
    table = measure(["ENet"], [1, 2], ["power"], device="cpu", threads=1, results_root=tmp_path,
                    progress=False, power_window_s=0.3).read()
    assert (table["status"] == "ok").all() and len(table) == 4
    assert set(table["domain"]) == {"fake:package-0"} and set(table["method"]) == {"counter"}
    net = table[table["metric"] == "power_net"]
    assert (net["unit"] == "W").all() and net["value"].abs().max() < 0.05
    energy = table[table["metric"] == "energy_per_image"]
    assert (energy["unit"] == "J").all() and energy["value"].abs().max() < 0.01
    import json

    details = json.loads(net["details"].iloc[0])
    assert details["idle_power_w"] == pytest.approx(2.0, rel=1e-3)
    assert details["window_s"] >= 0.3 and details["images"] >= 1
