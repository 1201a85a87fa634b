"""The machine's /proc readers: the first processor of /proc/cpuinfo, the affinity mask, /proc/stat."""
from __future__ import annotations

import os

import pytest

from helpers.core import procfs
from helpers.core.procfs import board_model, cpuinfo_fields, read_cpu, usable_cores, usable_cpus

X86 = ("processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 143\n"
       "model name\t: Intel(R) Xeon(R) Platinum 8480+\nstepping\t: 8\nflags\t\t: fpu avx2 amx_bf16\n\n"
       "processor\t: 1\nvendor_id\t: GenuineIntel\nmodel name\t: a second CPU\nflags\t\t: fpu\n")
# A header block before the processors (no flags yet) does not end the first processor's block.
HEADER_FIRST = ("Processor\t: AArch64 Processor rev 1 (aarch64)\n\nprocessor\t: 0\nFeatures\t: fp asimd\n"
                "CPU implementer\t: 0x41\n\nprocessor\t: 1\nCPU implementer\t: 0x99\n")


def test_cpuinfo_fields_are_the_first_processors_with_lower_case_keys():
    fields = cpuinfo_fields(X86)
    assert fields["model name"] == "Intel(R) Xeon(R) Platinum 8480+"
    assert fields["cpu family"] == "6" and fields["model"] == "143" and fields["flags"] == "fpu avx2 amx_bf16"
    assert "a second CPU" not in fields.values()


def test_cpuinfo_block_ends_only_after_a_processor_with_its_flags():
    fields = cpuinfo_fields(HEADER_FIRST)
    assert fields["processor"] == "AArch64 Processor rev 1 (aarch64)"  # the first value of a key wins
    assert fields["features"] == "fp asimd" and fields["cpu implementer"] == "0x41"


def test_cpuinfo_ignores_lines_without_a_colon_and_empty_text_is_no_fields():
    assert cpuinfo_fields("garbage line\nmodel name : X\n") == {"model name": "X"}
    assert cpuinfo_fields("") == {}


def test_cpuinfo_of_a_file_and_of_a_missing_one(tmp_path):
    path = tmp_path / "cpuinfo"
    path.write_text(X86)
    assert cpuinfo_fields(path=path) == cpuinfo_fields(X86)
    assert cpuinfo_fields(path=tmp_path / "absent") == {}


def test_board_model_strips_the_device_trees_nul_and_is_empty_where_absent(tmp_path):
    path = tmp_path / "model"
    path.write_bytes(b"NVIDIA Jetson AGX Orin\x00")
    assert board_model(path) == "NVIDIA Jetson AGX Orin"
    assert board_model(tmp_path / "absent") == ""
    path.write_bytes(b"\xff\xfe")
    assert board_model(path) == ""


def test_usable_cores_is_the_affinity_mask_else_cpu_count(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 3, 5}, raising=False)
    assert usable_cpus() == {0, 3, 5} and usable_cores() == 3
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 7)
    assert usable_cpus() is None and usable_cores() == 7
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert usable_cores() == 1


def test_read_cpu_uses_only_our_cores(monkeypatch):
    stat = ("cpu  900 0 900 900 0 0 0 90 0 0\ncpu0 100 0 100 500 0 0 0 10 0 0\n"
            "cpu1 200 0 200 400 0 0 0 20 0 0\ncpu2 600 0 600 0 0 0 0 60 0 0\n")
    monkeypatch.setattr(procfs, "usable_cpus", lambda: {0, 1})
    r = read_cpu(stat, own_s=1.0)
    hz = os.sysconf("SC_CLK_TCK")
    assert r.cores == 2 and r.busy_s == pytest.approx(600 / hz) and r.steal_s == pytest.approx(30 / hz)
    assert read_cpu("intr 1 2 3\n") is None


def test_read_cpu_counts_every_core_without_an_affinity_mask_and_ticks_at_the_clock_rate(monkeypatch):
    stat = "cpu0 10 20 30 99 99 40 50 60\ncpu1 1 0 0 0 0 0 0 0\n"
    monkeypatch.setattr(procfs, "usable_cpus", lambda: None)
    monkeypatch.setattr(procfs, "clock_ticks_per_s", lambda: 10)
    r = read_cpu(stat, own_s=2.5)
    # busy: user + nice + system + irq + softirq (idle and iowait are not), steal apart
    assert r.cores == 2 and r.busy_s == pytest.approx((10 + 20 + 30 + 40 + 50 + 1) / 10)
    assert r.steal_s == pytest.approx(6.0) and r.own_s == 2.5


def test_this_processs_memory_readings_are_bytes_and_the_peak_is_at_least_the_current():
    from helpers.core import procfs

    rss, peak = procfs.rss_bytes(), procfs.peak_rss_bytes()
    assert 1_000_000 < rss <= peak  # a Python process with pytest loaded holds more than 1 MB
    assert procfs.rss_file_bytes() >= 0
    assert procfs.status_kib("NoSuchField") is None
    if procfs.reset_peak_rss():  # Linux: the high-water mark drops to about the current RSS
        assert procfs.peak_rss_bytes() <= peak
