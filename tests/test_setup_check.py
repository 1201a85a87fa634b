"""The system-torch set-up: pins derived from pyproject.toml, the torch/torchvision
check on version strings, and the Makefile target that uses both."""
from __future__ import annotations

import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

from helpers.cli import setup_check as sc
from helpers.core.paths import REPO_ROOT

FAKE_PYPROJECT = """
[project]
name = "x"
dependencies = ["Torch>=2.0", "TorchVision==0.29.1", "numpy==2.4.6", "ultralytics_thop==2.2.3"]

[project.optional-dependencies]
dev = ["pytest==9.2.0"]
jetson = ["jetson-stats==7.2.2"]
"""


def test_pinned_requirements_of_the_real_pyproject_drop_only_torch_and_torchvision():
    plain = sc.pinned_requirements()
    assert not any(sc.requirement_name(r) in ("torch", "torchvision") for r in plain)
    assert "timm==1.0.31" in plain and "scipy==1.17.1" in plain and "pytest==9.2.0" not in plain
    with_dev = sc.pinned_requirements(extras=("dev",))
    assert with_dev[: len(plain)] == plain and "pytest==9.2.0" in with_dev
    everything = sc.pinned_requirements(exclude=())
    assert len(everything) == len(plain) + 2  # exactly torch and torchvision were left out


def test_pinned_requirements_normalise_names_and_name_a_bad_extra(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(FAKE_PYPROJECT)
    assert sc.pinned_requirements(pyproject, extras=("jetson",)) == [
        "numpy==2.4.6", "ultralytics_thop==2.2.3", "jetson-stats==7.2.2"]
    with pytest.raises(ValueError, match=r"\['gpu'\].*\['dev', 'jetson'\]"):
        sc.pinned_requirements(pyproject, extras=("gpu",))
    assert sc.requirement_name("Ultralytics_Thop >= 2") == "ultralytics-thop"
    with pytest.raises(ValueError, match="'>=2'"):
        sc.requirement_name(">=2")


def test_parse_release():
    assert sc.parse_release("2.1.0a0+41361538.nv23.06") == (2, 1)  # NVIDIA's JetPack 5 wheel
    assert sc.parse_release("2.14.1+cu130") == (2, 14)
    assert sc.parse_release("0.16.1") == (0, 16)
    with pytest.raises(ValueError, match="'unknown'"):
        sc.parse_release("unknown")


@pytest.mark.parametrize("torch_version, vision_version, ok, words", [
    (None, None, False, ["torch is missing", "torch >= 2.1"]),
    ("2.0.1", "0.15.2", False, ["torch 2.0.1 is too old", "torch >= 2.1", "2.14.1"]),
    ("1.13.0", "0.14.0", False, ["too old"]),
    ("2.1.0a0+41361538.nv23.06", "0.16.1", True, ["ok: torch 2.1.0a0+41361538.nv23.06 with torchvision 0.16.1"]),
    ("2.14.1+cu130", "0.29.1", True, ["ok: torch 2.14.1+cu130 with torchvision 0.29.1"]),
    ("2.3.0", "0.16.0", False, ["torchvision 0.16.0 does not match torch 2.3.0", "install torchvision 0.18"]),
    ("2.5.0", None, False, ["torchvision is missing", "torchvision 0.20"]),
    ("2.5.0", "main", False, ["'main'"]),
    ("nightly", "0.20", False, ["'nightly'"]),
    ("3.0.0", "0.31.0", True, ["not cross-checked"]),
])
def test_check_torch(torch_version, vision_version, ok, words):
    result = sc.check_torch(torch_version, vision_version)
    assert result.ok is ok
    assert "\n" not in result.message
    for word in words:
        assert word in result.message


def test_found_version(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "fake_torch_ok.py").write_text("__version__ = '2.4.1'\n")
    (tmp_path / "fake_torch_broken.py").write_text("import missing_cuda_library_xyz\n")
    assert sc.found_version("fake_torch_ok") == "2.4.1"
    assert sc.found_version("no_such_module_xyz") is None
    with pytest.raises(RuntimeError, match="fake_torch_broken is installed but does not import"):
        sc.found_version("fake_torch_broken")


def test_numpy_interop_error():
    import torch

    assert sc.numpy_interop_error(torch) is None

    class NoNumpy:
        def numpy(self):
            raise RuntimeError("Numpy is not available")

    fake = types.SimpleNamespace(__version__="2.1.0", zeros=lambda n: NoNumpy())
    message = sc.numpy_interop_error(fake)
    assert message.startswith("torch 2.1.0 cannot exchange arrays with the numpy installed here")
    assert "Numpy is not available" in message


def test_cli_requirements_and_torch_check(tmp_path):
    def run(*args):
        return subprocess.run([sys.executable, "-m", "helpers", "setup-check", *args], capture_output=True,
                              text=True, cwd=REPO_ROOT, timeout=120)

    result = run("requirements", "--extra", "dev")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == sc.pinned_requirements(extras=("dev",))
    bad = run("requirements", "--extra", "gpu")
    assert bad.returncode == 2 and "'gpu'" in bad.stderr
    constraints = tmp_path / "constraints.txt"
    checked = run("torch", "--constraints", str(constraints))
    import torch
    import torchvision

    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith(f"ok: torch {torch.__version__} with torchvision {torchvision.__version__}")
    assert constraints.read_text() == f"torch=={torch.__version__}\ntorchvision=={torchvision.__version__}\n"


def test_cli_runs_on_the_standard_library_alone():
    """make setup-system-torch runs it before any dependency is installed: without site-packages (-S)
    there is no pandas or torch to import, and `python -m helpers setup-check` must not need them."""
    def bare(*args):
        return subprocess.run([sys.executable, "-S", *args], capture_output=True, text=True, cwd=REPO_ROOT,
                              timeout=120)

    for module in ("pandas", "torch"):
        if bare("-c", f"import {module}").returncode == 0:
            pytest.skip(f"{module} imports without site-packages here: -S cannot show the command does without it")
    helped = bare("-m", "helpers", "setup-check", "--help")
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("usage: python -m helpers setup-check")
    listed = bare("-m", "helpers", "setup-check", "requirements", "--extra", "dev")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == sc.pinned_requirements(extras=("dev",))
    missing = bare("-m", "helpers", "setup-check", "torch")
    assert missing.returncode == 1 and missing.stderr.startswith("error: torch is missing"), missing.stderr


def test_cli_imports_neither_pandas_nor_torch_where_they_are_installed():
    code = ("import sys; from helpers.cli.commands import main; status = main(['setup-check', 'requirements']); "
            "print(sorted(m for m in ('pandas', 'torch', 'numpy') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[]"


def test_makefile_target_uses_system_site_packages_and_the_check(tmp_path):
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    venv = tmp_path / "venv"
    shown = subprocess.run(["make", "-n", "setup-system-torch", f"VENV={venv}"], capture_output=True, text=True,
                           cwd=REPO_ROOT, timeout=60)
    assert shown.returncode == 0, shown.stderr
    commands = [line.strip() for line in shown.stdout.splitlines()]
    position = {key: next((i for i, line in enumerate(commands) if key in line), None) for key in (
        "-m venv --clear --system-site-packages", "-m helpers setup-check torch --constraints",
        "-m helpers setup-check requirements --extra dev", "pip install --quiet -r",
        "pip install --quiet --no-deps -e .")}
    assert None not in position.values(), shown.stdout
    assert list(position.values()) == sorted(position.values())  # venv, check, list, install, project
    install = commands[position["pip install --quiet -r"]]
    assert f"-c {venv}/system-torch.txt" in install  # the system torch cannot be replaced
    assert not Path(venv).exists()  # -n ran nothing
    plain = subprocess.run(["make", "-n", "setup", f"VENV={venv}"], capture_output=True, text=True,
                           cwd=REPO_ROOT, timeout=60)
    assert "--system-site-packages" not in plain.stdout and "pip install --quiet -e '.[dev]'" in plain.stdout
    helped = subprocess.run(["make", "help"], capture_output=True, text=True, cwd=REPO_ROOT, timeout=60)
    assert "make setup-system-torch" in helped.stdout
