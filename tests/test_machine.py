"""Tests of the machine's identity: CPU facts, device tags and the fingerprint."""
from __future__ import annotations

import re

import pytest

from helpers.store import machine
from helpers.store.machine import Fingerprint, cpu_identity, cpu_name, device_tag, fingerprint

EPYC_VM = ("processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 17\n"
           "model name\t: AMD EPYC\nstepping\t: 1\n\nprocessor\t: 1\nmodel name\t: other\n")
XEON_VM = ("processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 143\n"
           "model name\t: Intel Xeon Processor\nstepping\t: 8\n")
ARM = "processor\t: 0\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\nCPU part\t: 0xd0c\nCPU revision\t: 1\n"


def cpuinfo(name: str) -> str:
    return f"processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 106\nmodel name\t: {name}\n"


@pytest.mark.parametrize(
    "name, tag",
    [
        ("Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz", "cpu-intel-xeon-platinum-8375c-2c"),
        ("Intel(R) Core(TM) i7-10700K CPU @ 3.80GHz", "cpu-intel-core-i7-10700k-2c"),
        ("Intel(R) Xeon(R) CPU E5-2686 v4 @ 2.30GHz", "cpu-intel-xeon-e5-2686-v4-2c"),
        ("AMD EPYC 7763 64-Core Processor", "cpu-amd-epyc-7763-2c"),
        ("AMD Ryzen 7 PRO 4750U with Radeon Graphics", "cpu-amd-ryzen-7-pro-4750u-2c"),
        ("Apple M2 Pro", "cpu-apple-m2-pro-2c"),
    ],
)
def test_cpu_device_tag_from_model_name(name, tag):
    assert device_tag("cpu", cpuinfo=cpuinfo(name), cores=2) == tag


def test_the_two_virtual_machines_get_different_readable_tags():
    epyc = device_tag("cpu", cpuinfo=EPYC_VM, cores=2)
    xeon = device_tag("cpu", cpuinfo=XEON_VM, cores=2)
    assert epyc == "cpu-amd-epyc-f25m17-2c" and xeon == "cpu-intel-xeon-f6m143-2c"
    # A 64-core workstation of the same name is another device.
    assert device_tag("cpu", cpuinfo=EPYC_VM, cores=64) == "cpu-amd-epyc-f25m17-64c"


def test_cpu_identity_and_name_parse_the_first_processor_only():
    assert cpu_name(EPYC_VM) == "AMD EPYC"
    assert cpu_identity(EPYC_VM) == "AuthenticAMD family 25 model 17 stepping 1"
    assert cpu_identity(ARM) == "implementer 0x41 part 0xd0c revision 1"


@pytest.mark.parametrize(
    "name, tag",
    [("NVIDIA H100 80GB HBM3", "cuda-nvidia-h100-80gb-hbm3"), ("Orin", "cuda-orin")],
)
def test_cuda_device_tag(monkeypatch, name, tag):
    seen = []
    monkeypatch.setattr(machine, "gpu_name", lambda device: seen.append(device) or name)
    assert device_tag("cuda") == tag and device_tag("cuda:1") == tag
    assert seen == ["cuda", "cuda:1"]


def test_device_tag_is_filesystem_safe():
    tag = device_tag("cpu", cpuinfo=cpuinfo("Weird/CPU\\Name: (TM) ÄÖ 3.0GHz"), cores=4)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", tag)


@pytest.mark.parametrize("device", ["gpu", "mps", "CUDA", "cuda:", "cuda:x", "cpu:0", "", "cuda:0:1"])
def test_device_tag_rejects_other_devices(device):
    with pytest.raises(ValueError, match=re.escape(repr(device))):
        device_tag(device)


def test_real_host_tag_and_fingerprint():
    assert re.fullmatch(r"cpu-[a-z0-9-]+-\d+c", device_tag("cpu"))
    fp = fingerprint("cpu", threads=2)
    assert fp.device == "cpu" and fp.threads == 2 and fp.dtype == "float32"
    assert cpu_name() in fp.hardware and re.fullmatch(r"[0-9a-f]{10}", fp.id)


def test_fingerprint_changes_with_each_fact():
    base = Fingerprint("cpu", "AMD EPYC (AuthenticAMD family 25 model 17 stepping 1)", 2, 2, "float32", "2.14.1")
    changed = [
        Fingerprint("cpu", "Intel Xeon Processor (GenuineIntel family 6 model 143 stepping 8)", 2, 2, "float32",
                    "2.14.1"),
        Fingerprint("cpu", base.hardware, 64, 2, "float32", "2.14.1"),
        Fingerprint("cpu", base.hardware, 2, 1000, "float32", "2.14.1"),
        Fingerprint("cpu", base.hardware, 2, 2, "bfloat16", "2.14.1"),
        Fingerprint("cpu", base.hardware, 2, 2, "float32", "2.15.0"),
    ]
    assert len({base.id, *(c.id for c in changed)}) == 6
    assert Fingerprint(*vars(base).values()).id == base.id


@pytest.mark.parametrize("threads", [0, -1, True, 2.0])
def test_fingerprint_rejects_bad_threads(threads):
    with pytest.raises(ValueError, match="threads"):
        fingerprint("cpu", threads=threads)
