"""Device characterisation: /proc/cpuinfo and sysfs cache parsing on text written
here, the peak measurements' shapes and statuses on tiny sizes (never a speed),
the command line, and one consistency check of the instrument."""
from __future__ import annotations

import io
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch

import helpers.core.paths
from helpers.core.paths import REPO_ROOT
from helpers.core.stats import median_interval
from helpers.measure import hardware as hw
from helpers.store import characterisation

# --------------------------------------------------------------------------- /proc/cpuinfo texts

EPYC_GENOA = """\
processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 17
model name\t: AMD EPYC 9R14 96-Core Processor
stepping\t: 1
cache size\t: 1024 KB
flags\t\t: fpu vme sse sse2 avx avx2 fma avx512f avx512dq avx512bw avx512vl avx512_bf16 avx512_vnni

processor\t: 1
vendor_id\t: AuthenticAMD
flags\t\t: fpu sse THIS_BLOCK_IS_NOT_READ
"""

SAPPHIRE_RAPIDS = """\
processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 143
model name\t: Intel(R) Xeon(R) Platinum 8488C
stepping\t: 8
flags\t\t: fpu avx avx2 avx512f avx512_bf16 avx512_fp16 amx_bf16 amx_tile amx_int8
"""

SKYLAKE = """\
processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 85
model name\t: Intel(R) Xeon(R) Platinum 8175M CPU @ 2.50GHz
stepping\t: 4
flags\t\t: fpu avx avx2 avx512f avx512dq avx512cd avx512bw avx512vl
"""

JETSON_ORIN = """\
processor\t: 0
BogoMIPS\t: 62.50
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x1
CPU part\t: 0xd42
CPU revision\t: 1

processor\t: 1
BogoMIPS\t: 62.50
Features\t: fp asimd bf16 sve
CPU implementer\t: 0x41
"""


def test_amd_epyc_with_avx512_bf16():
    info = hw.parse_cpuinfo(EPYC_GENOA)
    assert (info.arch, info.vendor, info.family, info.model, info.stepping) == ("x86", "AMD", "25", "17", "1")
    assert info.model_name == "AMD EPYC 9R14 96-Core Processor"
    assert "THIS_BLOCK_IS_NOT_READ" not in info.flags  # only the first processor block
    features = hw.isa_features(info)
    assert features == {"AVX2": True, "AVX-512F": True, "AVX-512 BF16": True, "AVX-512 FP16": False,
                        "AMX-TILE": False, "AMX-BF16": False, "AMX-FP16": False}
    support = hw.cpu_dtype_support(info)
    assert support["fp32"] is None and support["bf16"] is None
    assert "avx512_fp16" in support["fp16"]


def test_intel_with_amx_tile_and_one_without_bf16():
    info = hw.parse_cpuinfo(SAPPHIRE_RAPIDS)
    assert (info.vendor, info.family, info.model, info.stepping) == ("Intel", "6", "143", "8")
    features = hw.isa_features(info)
    assert features["AMX-TILE"] and features["AMX-BF16"] and features["AVX-512 FP16"]
    assert not features["AMX-FP16"]
    assert hw.cpu_dtype_support(info) == {"fp32": None, "bf16": None, "fp16": None}

    skylake = hw.cpu_dtype_support(hw.parse_cpuinfo(SKYLAKE))
    assert skylake["fp32"] is None
    assert "avx512_bf16" in skylake["bf16"] and "amx_bf16" in skylake["bf16"]
    assert "avx512_fp16" in skylake["fp16"]


def test_arm_with_asimd():
    info = hw.parse_cpuinfo(JETSON_ORIN)
    assert (info.arch, info.vendor, info.family, info.model, info.stepping) == ("arm", "ARM", "8", "0xd42", "r1p1")
    assert info.model_name == ""  # ARM kernels print no model name: reported as unknown, not guessed
    assert hw.isa_features(info) == {"NEON (asimd)": True, "NEON fp16 (asimdhp)": True, "BF16": False,
                                     "SVE": False}
    support = hw.cpu_dtype_support(info)
    assert support["fp16"] is None
    assert "BF16 extension" in support["bf16"]


def test_unreadable_cpuinfo_is_unknown_not_guessed(tmp_path):
    info = hw.read_cpuinfo(tmp_path / "no-cpuinfo")
    assert info == hw.CpuInfo()
    assert hw.isa_features(info) == {}
    support = hw.cpu_dtype_support(info)
    assert support["fp32"] is None and support["bf16"] and support["fp16"]


# --------------------------------------------------------------------------- caches


def write_cache(root: Path, cpu: int, index: int, level: int, kind: str, size: str, shared: str) -> None:
    folder = root / f"cpu{cpu}" / "cache" / f"index{index}"
    folder.mkdir(parents=True)
    (folder / "level").write_text(f"{level}\n")
    (folder / "type").write_text(f"{kind}\n")
    (folder / "size").write_text(f"{size}\n")
    (folder / "shared_cpu_list").write_text(f"{shared}\n")


def no_sysconf(name):
    raise ValueError(f"unrecognized configuration name {name}")


def test_caches_from_sysfs_with_instances(tmp_path):
    for cpu in (0, 1, 2, 3):
        write_cache(tmp_path, cpu, 0, 1, "Data", "48K", str(cpu))
        write_cache(tmp_path, cpu, 1, 1, "Instruction", "32K", str(cpu))
        write_cache(tmp_path, cpu, 2, 2, "Unified", "2048K", str(cpu))
        write_cache(tmp_path, cpu, 3, 3, "Unified", "105M", "0-1" if cpu < 2 else "2-3")
    (tmp_path / "cpufreq").mkdir()  # not a cpuN folder
    caches = hw.read_caches(tmp_path, sysconf=no_sysconf)
    assert {k: (c.size_bytes, c.instances) for k, c in caches.items()} == {
        "L1d": (48 * 1024, 4), "L1i": (32 * 1024, 4), "L2": (2 * 2**20, 4), "L3": (105 * 2**20, 2)}
    assert caches["L3"].source.startswith("sysfs")
    assert hw.last_level_cache_bytes(caches) == 2 * 105 * 2**20


def test_missing_cache_folders_are_unknown(tmp_path):
    (tmp_path / "cpu0").mkdir()  # a CPU without cache/ (some VMs, some ARM kernels)
    caches = hw.read_caches(tmp_path, sysconf=lambda name: 0)  # glibc answers 0 when it does not know
    assert all(c.size_bytes is None for c in caches.values())
    assert hw.last_level_cache_bytes(caches) is None
    rows = pd.DataFrame(hw.cpu_facts(2, hw.parse_cpuinfo(JETSON_ORIN), caches)).set_index("quantity")
    for level in ("L1d", "L1i", "L2", "L3"):
        assert rows.loc[f"cache_{level}", "value"] == "unknown"
        assert rows.loc[f"cache_{level}", "status"] == "unknown"
    assert rows.loc["cpu_model_name", "value"] == "unknown"
    assert rows.loc["cpu_vendor", "value"] == "ARM"


def test_cache_sysconf_fallback_and_partial_sysfs(tmp_path):
    write_cache(tmp_path, 0, 0, 1, "Data", "64K", "0")
    values = {"SC_LEVEL1_ICACHE_SIZE": 65536, "SC_LEVEL2_CACHE_SIZE": 0, "SC_LEVEL3_CACHE_SIZE": 8 * 2**20}
    caches = hw.read_caches(tmp_path, sysconf=lambda name: values[name])
    assert caches["L1d"].size_bytes == 65536 and caches["L1d"].source.startswith("sysfs")
    assert caches["L1i"].size_bytes == 65536 and caches["L1i"].source == "sysconf SC_LEVEL1_ICACHE_SIZE"
    assert caches["L2"].size_bytes is None
    assert caches["L3"] == characterisation.CacheFact(8 * 2**20, None, "sysconf SC_LEVEL3_CACHE_SIZE")


def test_parse_cache_size():
    assert hw.parse_cache_size("32K\n") == 32768
    assert hw.parse_cache_size("1024K") == 2**20
    assert hw.parse_cache_size("8M") == 8 * 2**20
    assert hw.parse_cache_size("512") == 512
    with pytest.raises(ValueError, match="'lots'"):
        hw.parse_cache_size("lots")


# --------------------------------------------------------------------------- statistics


def test_median_interval_order_statistics():
    values = [9.0, 1.0, 8.0, 2.0, 7.0, 3.0, 6.0, 4.0, 5.0, 10.0]
    median, low, high, method = median_interval(values, few_samples="no interval")
    # n = 10: the 2nd and 9th order statistics cover the median with 97.9 % (binomial, p = 1/2)
    assert (median, low, high) == (5.5, 2.0, 9.0)
    assert "order-statistic" in method and "quantile_test" in method


def test_median_interval_needs_six():
    median, low, high, method = median_interval([3.0, 1.0, 2.0, 5.0, 4.0], few_samples="no interval")
    assert median == 3.0 and math.isnan(low) and math.isnan(high)
    assert "n >= 6" in method
    with pytest.raises(ValueError):
        median_interval([], few_samples="no interval")
    with pytest.raises(ValueError):
        median_interval([1.0, float("nan")], few_samples="no interval")


def test_cuda_dtype_support():
    assert hw.cuda_dtype_support((8, 0)) == {"fp32": None, "bf16": None, "fp16": None}
    tx1 = hw.cuda_dtype_support((5, 3))  # Jetson TX1, the paper's board
    assert tx1["fp16"] is None and "5.3 < 8.0" in tx1["bf16"]
    assert "5.2 < 5.3" in hw.cuda_dtype_support((5, 2))["fp16"]


def test_gpu_facts_without_cuda_say_why():
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here: the GPU facts are real")
    rows = hw.gpu_facts()
    assert len(rows) == 1 and rows[0]["status"] == "unavailable"
    assert rows[0]["note"].startswith("no GPU facts: ")


def test_gpu_facts_from_device_properties(monkeypatch):
    """An H100 SXM's properties as CUDA reports them (clocks in kHz), without a GPU."""
    import types

    props = types.SimpleNamespace(name="NVIDIA H100 80GB HBM3", major=9, minor=0, total_memory=85_028_765_696,
                                  multi_processor_count=132, L2_cache_size=52_428_800, clock_rate=1_980_000,
                                  memory_clock_rate=2_619_000, memory_bus_width=5120)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda index: props)
    rows = pd.DataFrame(hw.gpu_facts("cuda:0")).set_index("quantity")
    assert set(rows.drop(index="cuda_version")["status"]) == {"ok"}
    assert rows.loc["gpu_name", "value"] == "NVIDIA H100 80GB HBM3"
    assert rows.loc["gpu_compute_capability", "value"] == "9.0"
    assert rows.loc["gpu_sm_count", "value"] == 132
    assert rows.loc["gpu_sm_clock", "value"] == 1980 and rows.loc["gpu_sm_clock", "unit"] == "MHz"
    # 2 (double data rate) x 2.619 GHz x 5120 bits / 8 = 3352 GB/s, the H100 SXM's published 3.35 TB/s
    assert rows.loc["gpu_memory_bandwidth_nominal", "value"] == pytest.approx(3352.32)
    del props.memory_clock_rate  # an older torch without the attribute: unknown, not guessed
    rows = pd.DataFrame(hw.gpu_facts("cuda:0")).set_index("quantity")
    assert rows.loc["gpu_memory_clock", "value"] == "unknown"
    assert rows.loc["gpu_memory_bandwidth_nominal", "status"] == "unknown"


def test_human_table_formats_bytes():
    from helpers.cli.commands import _format_value

    assert _format_value(32768, "bytes") == "32 KiB"
    assert _format_value(33554432, "bytes") == "32 MiB"
    assert _format_value(85_028_765_696, "bytes") == "79.19 GiB"
    assert _format_value(171.63, "GFLOP/s") == "171.6"
    assert _format_value(float("nan"), "GB/s") == ""
    assert _format_value("AMD EPYC") == "AMD EPYC"


# --------------------------------------------------------------------------- measurements (shapes, statuses)


def test_peaks_shapes_and_statuses_on_tiny_sizes():
    support = {"fp32": None, "bf16": "no native bf16 here (test)", "fp16": "no native fp16 here (test)"}
    rows = pd.DataFrame(hw.peaks("cpu", threads=1, dtype_support=support, matmul_size=16, array_bytes=4096,
                                 min_run_time=0.01, min_measurements=6))
    assert list(rows["quantity"]) == ["matmul_peak"] * 3 + ["memory_bandwidth_copy", "memory_bandwidth_triad"]
    assert list(rows["dtype"]) == ["fp32", "bf16", "fp16", "fp32", "fp32"]
    assert list(rows["status"]) == ["ok", "not native", "not native", "ok", "ok"]
    assert list(rows["unit"]) == ["GFLOP/s"] * 3 + ["GB/s", "GB/s"]
    measured = rows[rows["status"] == "ok"]
    assert (measured["n"] >= 6).all()
    values = measured["value"].astype(float)
    assert ((measured["ci_low"] <= values) & (values <= measured["ci_high"]) & (measured["ci_low"] > 0)).all()
    assert measured["method"].str.contains("blocked_autorange").all()
    assert measured["method"].str.contains("order-statistic").all()
    assert "16x16" in measured["method"].iloc[0]
    not_native = rows[rows["status"] == "not native"]
    assert not_native["value"].eq("").all() and not_native["n"].isna().all()
    assert list(not_native["note"]) == [support["bf16"], support["fp16"]]


def test_bad_measurement_arguments_are_named():
    with pytest.raises(ValueError, match="'fp8'"):
        hw.matmul_peak("cpu", "fp8", threads=1, size=8)
    with pytest.raises(ValueError, match="'scale'"):
        hw.memory_bandwidth("cpu", "scale", threads=1, array_bytes=4096)
    with pytest.raises(ValueError, match="min_run_time"):
        hw.time_statement("pass", {}, threads=1, min_run_time=0)


def test_characterise_frame_with_a_cpu_lacking_bf16(tmp_path):
    caches = hw.read_caches(tmp_path, sysconf=None)
    frame = hw.characterise("cpu", 1, matmul_size=16, array_bytes=4096, min_run_time=0.01, min_measurements=6,
                            cpuinfo=hw.parse_cpuinfo(SKYLAKE), caches=caches, windows=1)
    assert list(frame.columns) == characterisation.HARDWARE_COLUMNS
    assert set(frame["status"]) <= set(characterisation.HARDWARE_STATUSES)
    assert (frame["device"] == "cpu").all()
    facts = frame.set_index("quantity")
    assert facts.loc["torch_threads", "value"] == 1
    assert facts.loc["cpu_model_name", "value"] == "Intel(R) Xeon(R) Platinum 8175M CPU @ 2.50GHz"
    assert facts.loc["isa:AVX-512 BF16", "value"] == "no"
    assert facts.loc["torch_cpu_capability", "value"] == torch.backends.cpu.get_cpu_capability()
    matmul = frame[frame["quantity"] == "matmul_peak"].set_index("dtype")
    assert list(matmul["status"]) == ["ok", "not native", "not native"]
    assert "avx512_bf16" in matmul.loc["bf16", "note"]
    facts_only = hw.characterise("cpu", 1, measure=False, cpuinfo=hw.parse_cpuinfo(SKYLAKE), caches=caches)
    assert not facts_only["quantity"].isin(["matmul_peak", "memory_bandwidth_copy"]).any()
    with pytest.raises(ValueError, match="'tpu'"):
        hw.characterise("tpu", 1, measure=False)


def test_default_array_bytes_exceeds_the_last_level_cache(tmp_path):
    write_cache(tmp_path, 0, 0, 3, "Unified", "256M", "0-63")
    write_cache(tmp_path, 64, 0, 3, "Unified", "256M", "64-127")
    caches = hw.read_caches(tmp_path, sysconf=None)
    assert hw.default_array_bytes("cpu", caches) == 4 * 512 * 2**20
    unknown = hw.read_caches(tmp_path / "none", sysconf=None)
    assert hw.default_array_bytes("cpu", unknown) == hw.MIN_BANDWIDTH_ARRAY_BYTES


def test_save_characterisation(tmp_path, monkeypatch):
    frame = hw.characterise("cpu", 1, measure=False)
    path = characterisation.save_characterisation(frame, tmp_path / "store")
    assert path == tmp_path / "store" / "hardware.csv"
    back = pd.read_csv(path, keep_default_na=False)
    assert list(back.columns) == characterisation.HARDWARE_COLUMNS and len(back) == len(frame)
    # default folder: data/results/<device-tag>/, beside that device's results store
    from helpers.store.machine import device_tag

    monkeypatch.setattr(helpers.core.paths, "RESULTS_DIR", tmp_path / "results")
    assert characterisation.save_characterisation(frame) == tmp_path / "results" / device_tag("cpu") / "hardware.csv"
    with pytest.raises(ValueError, match="missing"):
        characterisation.save_characterisation(frame.drop(columns=["ci_low"]), tmp_path)
    mixed = pd.concat([frame, frame.assign(device="cuda:0")])
    with pytest.raises(ValueError, match="pass folder="):
        characterisation.save_characterisation(mixed)


def test_stored_characterisation_keeps_one_per_fingerprint_and_loads_the_latest(tmp_path):
    frame = hw.characterise("cpu", 1, matmul_size=16, array_bytes=4096, min_run_time=0.01, min_measurements=6,
                            windows=1)
    assert frame["fingerprint"].nunique() == 1 and frame["fingerprint"].iloc[0]
    folder = tmp_path / "cpu-test"
    characterisation.save_characterisation(frame, folder)
    characterisation.save_characterisation(frame, folder)  # the same fingerprint again replaces its rows
    older = frame.assign(fingerprint="0123456789", timestamp="2000-01-01T00:00:00Z")
    characterisation.save_characterisation(older, folder)
    stored = pd.read_csv(folder / "hardware.csv", dtype=str, keep_default_na=False)
    assert len(stored) == 2 * len(frame)
    latest = characterisation.load_characterisation("cpu-test", tmp_path)
    assert set(latest["fingerprint"]) == set(frame["fingerprint"]) and len(latest) == len(frame)
    assert len(characterisation.load_characterisation("cpu-test", tmp_path, fingerprint="0123456789")) == len(frame)
    assert characterisation.load_characterisation("cpu-test", tmp_path, fingerprint="ffffffffff") is None
    assert characterisation.load_characterisation("no-such-device", tmp_path) is None
    peak = characterisation.measured_peak(latest, "matmul_peak", "fp32")
    row = frame[(frame["quantity"] == "matmul_peak") & (frame["dtype"] == "fp32")].iloc[0]
    assert peak.value == pytest.approx(row["value"]) and peak.unit == "GFLOP/s" and peak.n == row["n"]
    assert peak.ci_low <= peak.value <= peak.ci_high
    assert characterisation.measured_peak(latest, "memory_bandwidth_triad").unit == "GB/s"
    assert characterisation.measured_peak(latest, "matmul_peak", "int4") is None
    (folder / "hardware.csv").write_text("quantity,value\nx,1\n")
    with pytest.raises(ValueError, match="python -m helpers hardware"):
        characterisation.load_characterisation("cpu-test", tmp_path)


# --------------------------------------------------------------------------- command line


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "helpers", *args], capture_output=True, text=True,
                          cwd=REPO_ROOT, timeout=300)


def test_cli_hardware_csv_columns():
    result = run_cli("hardware", "--device", "cpu", "--csv", "--threads", "1", "--min-run-time", "0.05",
                     "--matmul-size", "64", "--array-mib", "1", "--no-save", "--windows", "2")
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(io.StringIO(result.stdout), keep_default_na=False)
    assert list(table.columns) == characterisation.HARDWARE_COLUMNS
    assert set(table["status"]) <= set(characterisation.HARDWARE_STATUSES)
    rows = table.set_index(["quantity", "dtype"])
    fp32 = rows.loc[("matmul_peak", "fp32")]
    assert fp32["status"] == "ok" and fp32["unit"] == "GFLOP/s" and int(fp32["n"]) == 2  # windows
    assert "2 windows" in fp32["method"] and "windows: " in fp32["note"]
    bad = run_cli("hardware", "--device", "cpu", "--windows", "0", "--no-save")
    assert bad.returncode == 2 and "windows must be a positive integer" in bad.stderr and "got 0" in bad.stderr
    assert float(fp32["ci_low"]) <= float(fp32["value"]) <= float(fp32["ci_high"])
    assert rows.loc[("torch_threads", ""), "value"] == "1"
    assert "64x64" in fp32["method"]
    triad = rows.loc[("memory_bandwidth_triad", "fp32")]
    assert triad["unit"] == "GB/s" and "on 1 MiB arrays" in triad["method"]


def test_cli_hardware_bad_device_is_named():
    result = run_cli("hardware", "--device", "tpu", "--facts-only")
    assert result.returncode != 0
    assert "'tpu'" in result.stderr


# --------------------------------------------------------------------------- consistency of the instrument


def bare_mm_seconds(a, b, c, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b, out=c)
        times.append(time.perf_counter() - start)
    return times


@pytest.mark.slow
def test_fp32_peak_agrees_with_a_bare_mm_beside_it():
    """The instrument measures what a bare torch.mm loop measures (within 30 %). A comparison of two
    timings: it needs a quiet machine (another process on a 2-core CPU makes the bare loop 20x slower
    than the instrument's best), so it runs with `make test-slow`, not beside the suite."""
    size, threads = 384, torch.get_num_threads()
    a, b, c = torch.randn(size, size), torch.randn(size, size), torch.empty(size, size)
    bare_mm_seconds(a, b, c, 5)  # warm-up
    bare = bare_mm_seconds(a, b, c, 30)
    row = hw.matmul_peak("cpu", "fp32", threads=threads, size=size, min_run_time=0.3, min_measurements=6)
    bare += bare_mm_seconds(a, b, c, 30)
    bare_gflops = 2 * size**3 / statistics.median(bare) / 1e9
    assert row["status"] == "ok"
    assert row["value"] == pytest.approx(bare_gflops, rel=0.30)


# --------------------------------------------------------------------------- peaks over windows
def _peak_rows(fp32: float, triad: float, rel: float = 0.02) -> list[dict]:
    """One window's rows as hw.peaks gives them: fp32 measured, bf16 not native, triad measured."""
    return [hw._row("matmul_peak", fp32, dtype="fp32", unit="GFLOP/s", ci_low=fp32 * (1 - rel),
                    ci_high=fp32 * (1 + rel), n=10, method="torch.mm; order-statistic", note="2 thread(s)"),
            hw._row("matmul_peak", "", dtype="bf16", unit="GFLOP/s", method="not measured", status="not native",
                    note="no avx512_bf16"),
            hw._row("memory_bandwidth_triad", triad, dtype="fp32", unit="GB/s", ci_low=triad * (1 - rel),
                    ci_high=triad * (1 + rel), n=10, method="triad; order-statistic", note="")]


def test_combine_windows_takes_the_interval_between_windows():
    combined = hw.combine_windows([_peak_rows(100.0, 30.0), _peak_rows(120.0, 31.0), _peak_rows(80.0, 29.0)])
    fp32, bf16, triad = combined
    assert fp32["n"] == 3 and fp32["value"] == pytest.approx((100 * 120 * 80) ** (1 / 3))
    # far wider than one window's +-2 %: the windows disagree, and a re-run's value falls in it
    assert fp32["ci_low"] < 80 and fp32["ci_high"] > 120
    assert "3 windows" in fp32["method"] and "windows: 100, 120, 80 GFLOP/s" in fp32["note"]
    assert bf16["status"] == "not native" and bf16["note"] == "no avx512_bf16"
    assert triad["ci_low"] < 29 < 31 < triad["ci_high"]


def test_combine_windows_is_never_narrower_than_one_window():
    same = hw.combine_windows([_peak_rows(100.0, 30.0, rel=0.05)] * 3)[0]
    assert same["value"] == pytest.approx(100.0)
    assert same["ci_low"] == pytest.approx(95.0) and same["ci_high"] == pytest.approx(105.0)
    assert "widened" in same["method"]


def test_combine_windows_with_one_measured_window_keeps_it_and_refuses_mismatched_windows():
    failed = _peak_rows(100.0, 30.0)
    failed[0] = dict(failed[0], status="error", value="")
    one = hw.combine_windows([failed, _peak_rows(110.0, 30.0)])[0]
    assert one["value"] == 110.0 and one["n"] == 10  # the one window's own row
    with pytest.raises(ValueError, match="different peaks"):
        hw.combine_windows([_peak_rows(1.0, 1.0), _peak_rows(1.0, 1.0)[:2]])
    with pytest.raises(ValueError, match="at least one window"):
        hw.combine_windows([])
    with pytest.raises(ValueError, match="windows must be a positive integer"):
        hw.peaks_in_windows(0)


def test_peak_coverage_holds_for_agreeing_runs_and_fails_for_a_moved_machine():
    from helpers.analysis.reproducibility import peak_coverage

    def frame(rows):
        return pd.DataFrame(rows, columns=characterisation.HARDWARE_COLUMNS)

    windows = [_peak_rows(100.0, 30.0), _peak_rows(104.0, 31.0), _peak_rows(97.0, 29.5)]
    a = frame(hw.combine_windows(windows))
    b = frame(hw.combine_windows([_peak_rows(v * 1.02, t) for v, t in ((100.0, 30.0), (99.0, 30.5), (103.0, 29.0))]))
    agree = peak_coverage(a, b)
    assert (agree.points, agree.covered) == (2, 2)  # fp32 and triad; bf16 is not measured
    steady = [_peak_rows(100.0, 30.0), _peak_rows(100.5, 30.1), _peak_rows(99.5, 29.9)]
    moved = [_peak_rows(50.0, 30.0), _peak_rows(50.5, 30.1), _peak_rows(49.5, 29.9)]  # half the peak
    assert peak_coverage(frame(hw.combine_windows(steady)), frame(hw.combine_windows(moved))).covered == 1


def test_peaks_are_measured_in_fresh_processes_and_combined():
    kwargs = dict(device="cpu", threads=1, dtype_support={"fp32": None, "bf16": "no", "fp16": "no"},
                  matmul_size=16, array_bytes=4096, min_run_time=0.01, min_measurements=6)
    window = hw.measure_window(kwargs)
    assert [r["status"] for r in window] == ["ok", "not native", "not native", "ok", "ok"]
    frame = hw.characterise("cpu", 1, matmul_size=16, array_bytes=4096, min_run_time=0.01, min_measurements=6,
                            windows=2)
    fp32 = frame[(frame["quantity"] == "matmul_peak") & (frame["dtype"] == "fp32")].iloc[0]
    assert fp32["n"] == 2 and "2 windows" in fp32["method"] and fp32["ci_low"] <= fp32["value"] <= fp32["ci_high"]
    with pytest.raises(RuntimeError, match="a peaks window failed: ValueError: matmul size"):
        hw.measure_window({**kwargs, "matmul_size": 0})
