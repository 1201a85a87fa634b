"""The package's layout: layered subpackages whose imports point one way, and one public front."""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import helpers
from helpers.core.paths import NOTEBOOKS_DIR, REPO_ROOT

PACKAGE = REPO_ROOT / "helpers"
#: Bottom to top: a module may import its own layer and the layers before it, never one after it.
LAYERS = ("core", "models", "counting", "store", "measure", "analysis", "report", "course", "cli")
#: Modules outside the layers: the public front (imports nothing at load) and the entry point.
OUTSIDE = {"helpers", "helpers.__main__"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, module) of every import in ``source``, at any depth (function-local ones too)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the importing module's package
                package = module.split(".") if is_package else module.split(".")[:-1]
                base = ".".join(package[:len(package) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.append((node.lineno, base))
            # `from helpers import measure` imports a subpackage, not a name of the front
            if base == "helpers":
                found += [(node.lineno, f"helpers.{a.name}") for a in node.names if a.name in LAYERS]
    return found


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "helpers" and parts[1] in LAYERS else None


def upward_imports(source: str, module: str, is_package: bool = False) -> list[str]:
    """``module:line -> target`` for each import of a later layer than ``module``'s own, or of the front."""
    own = layer_of(module)
    bad = []
    for line, target in imported_modules(source, module, is_package):
        if target == "helpers" and module not in OUTSIDE:
            bad.append(f"{module}:{line} -> helpers (the front is for notebooks; import the module)")
        layer = layer_of(target)
        if own and layer and LAYERS.index(layer) > LAYERS.index(own):
            bad.append(f"{module}:{line} -> {target}")
    return bad


def package_modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_module_lives_in_a_layer():
    stray = [module_name(p) for p in package_modules() if layer_of(module_name(p)) is None
             and module_name(p) not in OUTSIDE]
    assert not stray, f"modules outside the layers {LAYERS}: {stray}"


def test_no_module_imports_a_later_layer():
    bad = []
    for path in package_modules():
        bad += upward_imports(path.read_text(), module_name(path), path.name == "__init__.py")
    assert not bad, "upward imports:\n" + "\n".join(bad)


@pytest.mark.parametrize("source", [
    "from helpers.report.plots import sweep_chart",
    "def f():\n    import helpers.cli.commands\n",
    "def f():\n    from ..report import plots\n",
    "from helpers import report",
    "from helpers import setup",
])
def test_the_layering_check_catches_an_upward_import(source):
    """The check fails on an upward import, a function-local one and a relative one included."""
    assert upward_imports(source, "helpers.measure.engine")


def test_the_layering_check_allows_imports_down_and_within_a_layer():
    source = ("from helpers.core.paths import REPO_ROOT\nfrom helpers.measure import timing\n"
              "def f():\n    from .power import probe_statuses\n    import numpy\n")
    assert upward_imports(source, "helpers.measure.engine") == []


def test_every_public_name_resolves_to_its_module():
    for name, target in helpers.PUBLIC.items():
        module = target.partition(":")[0]
        value = getattr(helpers, name)
        assert value is not None and layer_of(module), name
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        helpers.no_such_name  # noqa: B018


def test_importing_the_front_loads_nothing_heavy():
    code = "import sys, helpers; print(sorted(m for m in ('pandas', 'torch', 'numpy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    assert out.stdout.strip() == "[]"


def notebook_helpers_imports(path: Path) -> set[str]:
    """The helpers modules a notebook's code cells import from."""
    modules = set()
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "code":
            for _, target in imported_modules("".join(cell["source"]), "notebook"):
                if target.split(".")[0] == "helpers":
                    modules.add(target)
    return modules


@pytest.mark.parametrize("path", sorted(NOTEBOOKS_DIR.glob("*.ipynb")), ids=lambda p: p.stem)
def test_notebooks_import_only_the_public_front(path):
    assert notebook_helpers_imports(path) <= {"helpers"}, sorted(notebook_helpers_imports(path))


#: Concepts that once had several homes: each is now defined by one module and exported by no other.
ONE_HOME = {
    "resolve_device": "helpers.store.machine", "check_device": "helpers.store.machine",
    "median_interval": "helpers.core.stats", "wilson_interval": "helpers.core.stats",
    "CONFIDENCE": "helpers.core.stats", "Estimate": "helpers.core.stats",
    "split_list": "helpers.core.lists", "cpuinfo_fields": "helpers.core.procfs", "usable_cpus": "helpers.core.procfs",
    "MB": "helpers.core.units", "RESULT_COLUMNS": "helpers.store.schema", "RESULT_STATUSES": "helpers.store.schema",
    "HARDWARE_COLUMNS": "helpers.store.characterisation", "run_roofline": "helpers.course.lessons",
    "device_tag": "helpers.store.machine", "cpu_name": "helpers.store.machine", "count_table": "helpers.counting.table",
    "Finding": "helpers.analysis.claim_statistics", "NotMeasurable": "helpers.analysis.claim_statistics",
}


def top_level_definitions(source: str) -> tuple[set[str], set[str]]:
    """(names a module defines at top level, names in its ``__all__``)."""
    defined, exported = set(), set()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = {t.id for t in targets if isinstance(t, ast.Name)}
            defined |= names - {"__all__"}
            if "__all__" in names and isinstance(node.value, (ast.List, ast.Tuple)):
                exported |= {e.value for e in node.value.elts if isinstance(e, ast.Constant)}
    return defined, exported


def homes(name: str) -> list[str]:
    found = []
    for path in package_modules():
        defined, exported = top_level_definitions(path.read_text())
        if name in defined or name in exported:
            found.append(module_name(path))
    return found


@pytest.mark.parametrize("name", sorted(ONE_HOME))
def test_a_concept_has_one_home(name):
    assert homes(name) == [ONE_HOME[name]]


def test_the_one_home_check_sees_a_second_definition_or_a_reexport():
    assert top_level_definitions("def median_interval(x):\n    pass\n")[0] == {"median_interval"}
    assert top_level_definitions("from helpers.core.stats import median_interval\n__all__ = ['median_interval']\n"
                                 )[1] == {"median_interval"}


def imports_from_elsewhere(source: str) -> list[str]:
    """``name from module`` for each import of a :data:`ONE_HOME` name from a module other than its home."""
    return [f"{a.name} from {node.module}" for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("helpers.")
            for a in node.names if a.name in ONE_HOME and node.module != ONE_HOME[a.name]]


def test_a_concept_is_imported_from_its_home():
    paths = package_modules() + sorted((REPO_ROOT / "tests").glob("*.py"))
    bad = [f"{p.relative_to(REPO_ROOT)}: {x}" for p in paths for x in imports_from_elsewhere(p.read_text())]
    assert not bad, bad
    assert imports_from_elsewhere("from helpers.store.results import device_tag") == [
        "device_tag from helpers.store.results"]
