import os
import shutil
import tempfile
import warnings
from concurrent.futures import ThreadPoolExecutor

import pytest

_saved_counts_cache_dir: list[str | None] = []
_saved_claims_cache_dir: list[str | None] = []


def pytest_configure(config):
    """Counts are cached (helpers.counting.cache) in a folder of this session's own, shared by its
    tests and the notebooks they run, and removed at the end: never in the repository."""
    _saved_counts_cache_dir.append(os.environ.get("COUNTS_CACHE_DIR"))
    os.environ["COUNTS_CACHE_DIR"] = tempfile.mkdtemp(prefix="counts-cache-")
    # claims are ruled afresh: tests patch the rules, which no cache key can see (tests/test_claims_cache turns it on)
    _saved_claims_cache_dir.append(os.environ.get("CLAIMS_CACHE_DIR"))
    os.environ["CLAIMS_CACHE_DIR"] = "off"


def pytest_unconfigure(config):
    folder = os.environ.get("COUNTS_CACHE_DIR")
    saved = _saved_counts_cache_dir.pop() if _saved_counts_cache_dir else None
    if saved is None:
        os.environ.pop("COUNTS_CACHE_DIR", None)
    else:
        os.environ["COUNTS_CACHE_DIR"] = saved
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
    saved = _saved_claims_cache_dir.pop() if _saved_claims_cache_dir else None
    if saved is None:
        os.environ.pop("CLAIMS_CACHE_DIR", None)
    else:
        os.environ["CLAIMS_CACHE_DIR"] = saved


#: Lessons whose smoke run measures nothing (no sweep, no peaks): their kernels may share the cores, two at a
#: time, while a lesson that measures always runs alone (a second kernel would contend with its timings).
QUIET_LESSONS = ("00", "01", "02", "03", "07", "08")


@pytest.fixture
def smoke_parameters(tmp_path):
    """Notebook parameters of a smoke run: two small models, batches 1 and 2, a private results folder."""
    return {"profile": "smoke", "models": "", "device": "cpu", "threads": 0,
            "results_dir": str(tmp_path / "results"), "measure": True}


def _selected_notebooks(session) -> set[str]:
    """Stems of the notebooks whose smoke run a selected test reads (the lesson tests, the report test)."""
    stems = set()
    for item in session.items:
        callspec = getattr(item, "callspec", None)
        if item.originalname == "test_notebook_runs_with_the_smoke_profile" and callspec:
            stems.add(callspec.params["path"].stem)
        elif item.module.__name__.endswith("test_report"):
            stems |= {"03_parameter_density", "07_findings"}
    return stems


@pytest.fixture(scope="session")
def smoke_run(request, tmp_path_factory):
    """``smoke_run(path)`` -> (NotebookRun, output folder, parameters): the notebook executed once per session
    with the smoke profile into a folder of its own (its own results folder too), on first request; the lesson
    tests and the report test read the same run instead of executing the notebook again. On the first request
    for a quiet lesson (:data:`QUIET_LESSONS`), every selected quiet lesson runs, two at a time; the lessons that
    measure run one at a time into one shared results folder."""
    from helpers.cli.reproduce import execute_notebook

    done = {}

    def execute(path):
        out = tmp_path_factory.mktemp(f"smoke-{path.stem}")
        # a quiet lesson reads a store of its own (empty); the lessons that measure share one, in order, as
        # `make reproduce` runs them: what lesson 4's sweep stored, lessons 5, 6 and 9 find and do not measure again
        results = out / "results" if path.stem[:2] in QUIET_LESSONS else tmp_path_factory.getbasetemp() / "smoke-results"
        params = {"profile": "smoke", "models": "", "device": "cpu", "threads": 0,
                  "results_dir": str(results), "output_dir": str(out), "measure": True}
        return execute_notebook(path, out, params, progress=False), out, params

    def run(path):
        if path not in done:
            if path.stem[:2] in QUIET_LESSONS:
                wanted = _selected_notebooks(request.session) | {path.stem}
                quiet = [p for p in path.parent.glob("*.ipynb")
                         if p.stem in wanted and p.stem[:2] in QUIET_LESSONS and p not in done]
                with ThreadPoolExecutor(max_workers=2) as pool:
                    done.update(zip(quiet, pool.map(execute, quiet)))
                for failed in [p for p in quiet if not done[p][0].ok]:  # alone, in case two kernels' start-ups collided
                    warnings.warn(f"{failed.name} failed beside another lesson ({done[failed][0].error[:300]}); "
                                  f"running it alone", RuntimeWarning)
                    done[failed] = execute(failed)
            else:
                done[path] = execute(path)
        return done[path]

    return run
