import os
import shutil
import tempfile

import pytest

_saved_counts_cache_dir: list[str | None] = []


def pytest_configure(config):
    """Counts are cached (helpers.counting.cache) in a folder of this session's own, shared by its
    tests and the notebooks they run, and removed at the end: never in the repository."""
    _saved_counts_cache_dir.append(os.environ.get("COUNTS_CACHE_DIR"))
    os.environ["COUNTS_CACHE_DIR"] = tempfile.mkdtemp(prefix="counts-cache-")


def pytest_unconfigure(config):
    folder = os.environ.get("COUNTS_CACHE_DIR")
    saved = _saved_counts_cache_dir.pop() if _saved_counts_cache_dir else None
    if saved is None:
        os.environ.pop("COUNTS_CACHE_DIR", None)
    else:
        os.environ["COUNTS_CACHE_DIR"] = saved
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def smoke_parameters(tmp_path):
    """Notebook parameters of a smoke run: two small models, batches 1 and 2, a private results folder."""
    return {"profile": "smoke", "models": "", "device": "cpu", "threads": 0,
            "results_dir": str(tmp_path / "results")}


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """``smoke_run(path)`` -> (NotebookRun, output folder, parameters): the notebook executed once per session
    with the smoke profile into a folder of its own (its own results folder too), on first request; the lesson
    tests and the report test read the same run instead of executing the notebook again."""
    from helpers.cli.reproduce import execute_notebook

    done = {}

    def run(path):
        if path not in done:
            out = tmp_path_factory.mktemp(f"smoke-{path.stem}")
            params = {"profile": "smoke", "models": "", "device": "cpu", "threads": 0,
                      "results_dir": str(out / "results"), "output_dir": str(out)}
            done[path] = (execute_notebook(path, out, params, progress=False), out, params)
        return done[path]

    return run
