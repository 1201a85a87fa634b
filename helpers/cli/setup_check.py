"""Setting up on the system's torch (a Jetson, or a GPU server with its own build).

NVIDIA builds torch for Jetson boards itself (JetPack wheels, or the L4T
containers), and the pinned ``torch==2.14.1`` from PyPI would replace it with a
build that cannot use the board's GPU. ``make setup-system-torch`` therefore
creates the virtual environment with ``--system-site-packages`` and installs
every pinned dependency of ``pyproject.toml`` except torch and torchvision,
then checks the torch and torchvision this Python finds. This module does both
halves; it uses the standard library only, because it runs before the
project's dependencies are installed::

    python -m helpers setup-check requirements [--extra dev]   # the pins, less torch/torchvision, one a line
    python -m helpers setup-check torch [--constraints FILE]   # check them; FILE pins what was found

Minimum: torch 2.1 with the torchvision built for it (0.16). The project
counts operations with ``torch.utils.flop_counter.FlopCounterMode``, which
torch 2.1 introduced; 2.1 is also the oldest torch NVIDIA ships for a Jetson
with JetPack 5.1.2 and later. torch 2.N pairs with torchvision 0.(N+15) (2.1
with 0.16, 2.14 with 0.29): a torchvision built for another torch fails to load
its compiled operators, so a mismatch is refused, not warned about.
"""
from __future__ import annotations

import argparse
import importlib
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
SYSTEM_PACKAGES = ("torch", "torchvision")
MIN_TORCH = (2, 1)
TORCHVISION_MINOR_OFFSET = 15  # torch 2.N <-> torchvision 0.(N + 15), since torch 2.0 / torchvision 0.15
TESTED = ("2.14.1", "0.29.1")  # the pins of pyproject.toml


def requirement_name(requirement: str) -> str:
    """The normalised project name of a requirement string (PEP 503: lower case, runs of ``-_.`` as ``-``)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if not match:
        raise ValueError(f"requirement {requirement!r} does not start with a project name")
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def pinned_requirements(pyproject: Path = PYPROJECT, extras: tuple[str, ...] = (),
                        exclude: tuple[str, ...] = SYSTEM_PACKAGES) -> list[str]:
    """``pyproject``'s dependencies, then those of each of ``extras``, less the ``exclude``d projects.

    Raises ValueError naming an extra that ``pyproject`` does not define.
    """
    project = tomllib.loads(Path(pyproject).read_text())["project"]
    optional = project.get("optional-dependencies", {})
    unknown = [extra for extra in extras if extra not in optional]
    if unknown:
        raise ValueError(f"unknown extra(s) {unknown}: {pyproject} defines {sorted(optional)}")
    requirements = list(project.get("dependencies", []))
    for extra in extras:
        requirements += optional[extra]
    skip = {requirement_name(name) for name in exclude}
    return [req for req in requirements if requirement_name(req) not in skip]


def parse_release(version: str) -> tuple[int, int]:
    """(major, minor) of a version string, ignoring pre-release and local parts.

    ``"2.1.0a0+41361538.nv23.06"`` (an NVIDIA Jetson build) -> ``(2, 1)``: a
    pre-release of 2.1 counts as 2.1, since that is what NVIDIA ships.
    """
    match = re.match(r"\s*v?(\d+)\.(\d+)", str(version))
    if not match:
        raise ValueError(f"version {version!r} does not start with MAJOR.MINOR")
    return int(match.group(1)), int(match.group(2))


def matching_torchvision(torch_version: str) -> tuple[int, int] | None:
    """(major, minor) of the torchvision built for ``torch_version``; None where no rule is known (torch 3+)."""
    major, minor = parse_release(torch_version)
    if major != 2:
        return None
    return 0, minor + TORCHVISION_MINOR_OFFSET


@dataclass(frozen=True)
class CheckResult:
    """``ok``: the pair is usable; ``message``: one line saying so, or what is wrong and what to do."""

    ok: bool
    message: str


def check_torch(torch_version: str | None, torchvision_version: str | None,
                minimum: tuple[int, int] = MIN_TORCH) -> CheckResult:
    """Is this torch / torchvision pair (``None``: not importable) one the project can use?"""
    need = f"torch >= {minimum[0]}.{minimum[1]} with its matching torchvision"
    if torch_version is None:
        return CheckResult(False, f"torch is missing: install the build for this system (on a Jetson, NVIDIA's "
                                  f"JetPack wheel); the project needs {need}")
    try:
        release = parse_release(torch_version)
    except ValueError:
        return CheckResult(False, f"torch reports version {torch_version!r}, which is not MAJOR.MINOR...; "
                                  f"the project needs {need}")
    if release < minimum:
        return CheckResult(False, f"torch {torch_version} is too old: the project needs {need} "
                                  f"(it is tested with torch {TESTED[0]}, torchvision {TESTED[1]})")
    expected = matching_torchvision(torch_version)
    wanted = f"torchvision {expected[0]}.{expected[1]}" if expected else "the torchvision built for it"
    if torchvision_version is None:
        return CheckResult(False, f"torchvision is missing: install {wanted} (built for torch {torch_version})")
    try:
        vision = parse_release(torchvision_version)
    except ValueError:
        return CheckResult(False, f"torchvision reports version {torchvision_version!r}, which is not "
                                  f"MAJOR.MINOR...; install {wanted}")
    if expected is not None and vision != expected:
        return CheckResult(False, f"torchvision {torchvision_version} does not match torch {torch_version}: "
                                  f"install {wanted}")
    note = "" if expected else " (no pairing rule for this torch: torchvision not cross-checked)"
    return CheckResult(True, f"ok: torch {torch_version} with torchvision {torchvision_version}{note}")


def found_version(module: str) -> str | None:
    """``module.__version__`` as this Python imports it; None where it cannot be imported.

    An installed module that fails to import (a missing CUDA library, say) is a
    RuntimeError naming the module and the error.
    """
    try:
        imported = importlib.import_module(module)
    except ModuleNotFoundError as err:
        if err.name == module:
            return None
        raise RuntimeError(f"{module} is installed but does not import: {err}") from None
    except Exception as err:
        raise RuntimeError(f"{module} is installed but does not import: {type(err).__name__}: {err}") from None
    return str(getattr(imported, "__version__", "")) or None


def numpy_interop_error(torch_module) -> str | None:
    """Why ``torch_module`` cannot hand a tensor to numpy (a torch built against
    numpy 1.x meeting numpy 2.x, typically), or None where it can."""
    try:
        torch_module.zeros(1).numpy()
    except Exception as err:
        detail = " ".join(str(err).split())[:200]
        return (f"torch {torch_module.__version__} cannot exchange arrays with the numpy installed here "
                f"({type(err).__name__}: {detail}); install the numpy that torch was built against")
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers setup-check", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("requirements", help="print pyproject's pinned dependencies except torch and torchvision")
    p.add_argument("--extra", action="append", default=[], help="also an extra's dependencies (repeatable)")
    p.add_argument("--pyproject", type=Path, default=PYPROJECT)
    p = sub.add_parser("torch", help="check the torch and torchvision this Python finds")
    p.add_argument("--constraints", type=Path, help="write a pip constraints file pinning what was found")
    args = parser.parse_args(argv)
    if args.command == "requirements":
        try:
            print("\n".join(pinned_requirements(args.pyproject, tuple(args.extra))))
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        return 0
    try:
        versions = {name: found_version(name) for name in SYSTEM_PACKAGES}
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    result = check_torch(versions["torch"], versions["torchvision"])
    if result.ok:
        interop = numpy_interop_error(importlib.import_module("torch"))
        if interop:
            result = CheckResult(False, interop)
    print(result.message if result.ok else f"error: {result.message}", file=sys.stdout if result.ok else sys.stderr)
    if result.ok and args.constraints is not None:
        args.constraints.write_text("".join(f"{name}=={version}\n" for name, version in versions.items()))
    return 0 if result.ok else 1
