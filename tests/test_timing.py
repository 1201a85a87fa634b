"""helpers.measure.timing: thread and device resolution, out-of-memory classification."""
from __future__ import annotations

import re

import pytest
import torch

from helpers.measure.timing import is_out_of_memory, resolve_threads
from helpers.store.machine import check_device, resolve_device


@pytest.mark.parametrize("exc", [
    RuntimeError("[enforce fail at alloc_cpu.cpp:118] DefaultCPUAllocator: not enough memory: "
                 "you tried to allocate 123456789 bytes."),
    RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 1 bytes"),
    torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
    MemoryError(),
])
def test_is_out_of_memory_recognises_every_form_of_it(exc):
    assert is_out_of_memory(exc)


def test_is_out_of_memory_does_not_claim_ordinary_errors():
    assert not is_out_of_memory(RuntimeError("mat1 and mat2 shapes cannot be multiplied"))
    assert not is_out_of_memory(ValueError("out of memory"))  # only RuntimeError messages count
    assert is_out_of_memory(RuntimeError("CUDA error: out of memory"))


def test_resolve_threads():
    assert resolve_threads(3) == 3
    assert resolve_threads("2") == 2
    assert resolve_threads(None) >= 1
    for bad in (0, -2, 1.5, "many", True):
        with pytest.raises(ValueError, match=repr(bad).replace("(", r"\(").replace(")", r"\)")):
            resolve_threads(bad)


def test_resolve_device():
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("CPU") == "cpu"
    assert resolve_device("auto") in ("cpu", "cuda:0")
    with pytest.raises(ValueError, match="'tpu'.*'auto', 'cpu', 'cuda' or 'cuda:N'"):
        resolve_device("tpu")
    with pytest.raises(ValueError, match="'cuda:x'"):
        resolve_device("cuda:x")


@pytest.mark.parametrize("device", ["gpu", "mps", "cuda:", "cuda:x", "cpu:0", "", "cuda:0:1", " cuda : 0"])
def test_resolve_device_refuses_what_check_device_refuses(device):
    """One grammar of device strings: what a person may type differs only by case, spaces and 'auto'."""
    with pytest.raises(ValueError, match=re.escape(f"device={device!r}: expected")):
        check_device(device)
    with pytest.raises(ValueError, match=re.escape(f"unknown device {device!r}; valid devices")):
        resolve_device(device)


def test_resolve_device_gives_what_check_device_accepts():
    for asked in ("cpu", " CPU ", "auto", None, torch.device("cpu")):
        check_device(resolve_device(asked))


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA message")
def test_resolve_device_cuda_without_cuda():
    with pytest.raises(ValueError, match="'cuda'.*CUDA is not available"):
        resolve_device("cuda")
    with pytest.raises(ValueError, match="'cuda:1'.*CUDA is not available"):
        resolve_device("cuda:1")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_resolve_device_cuda_and_bad_index():
    assert resolve_device("cuda") == "cuda:0"
    assert resolve_device(torch.device("cuda", 0)) == "cuda:0"
    with pytest.raises(ValueError, match="does not exist"):
        resolve_device(f"cuda:{torch.cuda.device_count()}")
