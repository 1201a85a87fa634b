"""Every notebook runs end to end through papermill with the smoke profile, and is stored clean."""
import json

import nbformat
import pytest

from helpers.cli.reproduce import execute_notebook, notebook_paths, write_index

NOTEBOOKS = notebook_paths()
#: Figures a smoke run of a lesson saves, by the names the gallery copies them by.
SMOKE_FIGURES = {
    "01_accuracy": {"fig1_top1", "fig2_top1_vs_ops"},
    "03_parameter_density": {"fig10_accuracy_density"},
    "04_inference_time": {"fig3_time_vs_batch", "fig7_ops_vs_time_batch1"},
    "05_memory": {"fig5_memory_vs_batch", "fig6_static_vs_parameter_memory"},
    "09_hardware": {"hardware_roofline", "hardware_cache_test", "hardware_threads", "hardware_precision",
                    "hardware_runtimes"},
}
#: Text a smoke run of a lesson must print: its figures drew data, not a "nothing to show" panel.
SMOKE_TEXT = {
    "09_hardware": ("GFLOP/s [", "networks reach", "thread", "bf16", "Accuracy is not re-measured",
                    "ONNX Runtime ran", "OpenVINO ran", "Every output it timed was within"),
}  # 07_findings measures nothing: its smoke run, on an empty results folder, has no Fig 9 to draw


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 3


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path):
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, f"{path.name} carries outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_first_code_cell_is_tagged_parameters_with_literals_only(path):
    nb = nbformat.read(path, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert "parameters" in first.metadata.get("tags", [])
    import ast

    for node in ast.parse(first.source).body:
        assert isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant), ast.dump(node)


def _probes():
    from helpers.measure.power.detect import probe_statuses

    return probe_statuses("cpu")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_with_the_smoke_profile(path, smoke_run):
    run, tmp_path, params = smoke_run(path)
    assert run.ok, f"{path.name}: {run.error}"
    executed = nbformat.read(run.output, as_version=4)
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    saved = {p.stem for p in (tmp_path / "figures").glob("*.png")}
    assert saved, "a lesson without a figure"
    assert SMOKE_FIGURES.get(path.stem, set()) <= saved, f"{path.name} saved {sorted(saved)}"
    shown = json.dumps([o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])])
    for text in SMOKE_TEXT.get(path.stem, ()):
        assert text in shown, f"{path.name} does not show {text!r}"
    if path.stem == "06_power" and not any(s.available for s in _probes()):  # no sensor: the synthetic window
        assert "power_window_synthetic" in saved and "SYNTHETIC trace" in shown and "true net power" in shown
    index = write_index(tmp_path, [run], params)
    assert path.name in index.read_text()


def test_reproduce_without_measuring_on_a_machine_with_nothing_stored_replots_the_stand_in(tmp_path, monkeypatch,
                                                                                           capsys):
    """`make reproduce` with --no-measure and an empty store: every lesson plots the stand-in recorded run (by
    its tag), and the command says so first."""
    from helpers.cli import reproduce as rep
    from helpers.course import notebook

    monkeypatch.setattr(notebook, "RESULTS_DIR", tmp_path / "empty")
    seen = []

    def fake(path, output_dir, parameters, progress=True):
        seen.append(parameters)
        return rep.NotebookRun(path.name, tmp_path / path.name, 0.0)

    monkeypatch.setattr(rep, "execute_notebook", fake)
    monkeypatch.setattr(rep, "notebook_paths", lambda: [NOTEBOOKS[0]])
    monkeypatch.setattr(rep, "write_index", lambda *a, **k: tmp_path / "index.html")
    rep.reproduce(profile="smoke", device="cpu", output_dir=tmp_path / "out", measure=False)
    from helpers.store.machine import device_tag

    stand_in = notebook.stand_in_tag(device_tag("cpu"))
    assert seen and seen[0]["results_tag"] == stand_in and seen[0]["measure"] is False
    assert "Not this machine" in capsys.readouterr().out


def test_reproduce_names_a_failing_notebook_and_exits_nonzero(tmp_path, monkeypatch, capsys):
    from nbformat.v4 import new_code_cell, new_notebook

    from helpers.cli import reproduce as rep

    bad = tmp_path / "nb" / "99_broken.ipynb"
    bad.parent.mkdir()
    nb = new_notebook(cells=[new_code_cell('profile = "smoke"', metadata={"tags": ["parameters"]}),
                             new_code_cell("raise RuntimeError('deliberately broken lesson')")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, bad)
    monkeypatch.setattr(rep, "notebook_paths", lambda: [bad])
    monkeypatch.setattr(rep, "NOTEBOOKS_DIR", bad.parent)
    code = rep.reproduce(profile="smoke", device="cpu", output_dir=tmp_path / "out",
                         results_dir=tmp_path / "results", measure=False)  # the sweep is the smoke runs' to test
    assert code == 1
    err = capsys.readouterr().err
    assert "99_broken.ipynb" in err and "failed" in err
    assert "deliberately broken lesson" in (tmp_path / "out" / "index.html").read_text()


def test_a_recorded_run_replots_on_any_machine(tmp_path):
    """results_tag plots a committed run (data/recorded) on a machine that did not record it, and measures nothing."""
    from helpers.core.paths import RECORDED_DIR
    from helpers.course.notebook import recorded_tags, setup

    tags = recorded_tags()
    assert tags, "the repository commits at least one recorded run"
    run = setup(profile="smoke", device="cpu", output_dir=str(tmp_path), results_tag=tags[0], measure=True)
    assert run.device_tag == tags[0] and run.measure is False and run.results_root == RECORDED_DIR
    with pytest.raises(ValueError, match="recorded: " + tags[0]):
        setup(profile="smoke", device="cpu", output_dir=str(tmp_path), results_tag="cpu-nowhere-1c")


def test_a_recorded_run_of_this_machine_does_not_stand_in_for_its_measurement(tmp_path, monkeypatch):
    """With a recorded run of this very device tag in data/recorded, a run of this machine still measures, into
    its own store (data/results); only results_tag reads the recorded one, and measures nothing."""
    from helpers.course import notebook
    from helpers.store.machine import device_tag

    tag = device_tag("cpu")
    recorded = tmp_path / "recorded"
    (recorded / tag).mkdir(parents=True)
    (recorded / tag / "results.csv").write_text("device_tag\n")
    monkeypatch.setattr(notebook, "RECORDED_DIR", recorded)
    assert notebook.recorded_tags() == [tag]
    own = notebook.setup(profile="smoke", device="cpu", output_dir=str(tmp_path / "out"), results_dir="",
                         measure=True)
    assert own.results_root == notebook.RESULTS_DIR and own.measure is True and own.device_tag == tag
    assert own.notice == ""
    replot = notebook.setup(profile="smoke", device="cpu", output_dir=str(tmp_path / "out"), results_tag=tag)
    assert replot.results_root == recorded and replot.measure is False and replot.device_tag == tag


def test_a_lesson_run_as_it_is_plots_a_recorded_run_under_a_notice(tmp_path, monkeypatch):
    """Opened and run as it is (measure=False) on a machine with nothing stored, a lesson plots a recorded run:
    this machine type's own, else the course's; the notice names it, its machine and the command that measures.
    Once this machine has stored a run, or with measure=True, nothing stands in and there is no notice."""
    from helpers.core.paths import RECORDED_DIR
    from helpers.course import notebook
    from helpers.course.syllabus import COURSE_RUN
    from helpers.store.machine import device_tag

    tag = device_tag("cpu")
    mine = tmp_path / "results"
    monkeypatch.setattr(notebook, "RESULTS_DIR", mine)
    run = notebook.setup(device="cpu", output_dir=str(tmp_path / "out"))
    expected = tag if tag in notebook.recorded_tags() else COURSE_RUN
    assert run.results_root == RECORDED_DIR and run.device_tag == expected and run.measure is False
    assert run.profile.name == "classroom"
    assert f"nothing is stored for {tag}" in run.notice and f"recorded run {expected}" in run.notice
    assert "make reproduce PROFILE=classroom" in run.notice and run.notice in run._repr_markdown_()
    assert notebook.stand_in_tag("cpu-nowhere-1c") == COURSE_RUN
    assert notebook.stand_in_tag("cpu-nowhere-1c", tmp_path / "empty") == ""
    measured = notebook.setup(device="cpu", output_dir=str(tmp_path / "out"), measure=True)
    assert measured.results_root == mine and measured.notice == "" and measured.device_tag == tag
    (mine / tag).mkdir(parents=True)
    (mine / tag / "results.csv").write_text("device_tag\n")
    stored = notebook.setup(device="cpu", output_dir=str(tmp_path / "out"))
    assert stored.results_root == mine and stored.notice == "" and stored.measure is False


@pytest.fixture(scope="module")
def replots(tmp_path_factory):
    """The replots of the committed run the tests below read, executed two at a time (a replot measures
    nothing): lesson 4; lesson 9 (a); lesson 9 again on a copy of the run without its characterisation (b).
    {name: (NotebookRun, output folder, tag)}."""
    import shutil
    from concurrent.futures import ThreadPoolExecutor

    from helpers.core.paths import RECORDED_DIR
    from helpers.course.notebook import recorded_tags

    tag = recorded_tags()[0]
    base = tmp_path_factory.mktemp("replots")
    root = base / "results"  # the same run without its characterisation
    (root / tag).mkdir(parents=True)
    shutil.copy(RECORDED_DIR / tag / "results.csv", root / tag / "results.csv")
    lesson = {stem: next(p for p in NOTEBOOKS if p.name.startswith(stem)) for stem in ("04_", "09_")}
    jobs = {"04": (lesson["04_"], {"profile": "quick", "results_tag": tag}),
            "09a": (lesson["09_"], {"profile": "full", "results_tag": tag}),
            "09b": (lesson["09_"], {"profile": "full", "results_tag": tag, "results_dir": str(root)})}

    def execute(name):
        path, params = jobs[name]
        out = base / name
        out.mkdir()
        return execute_notebook(path, out, dict(params, device="cpu", output_dir=str(out)), progress=False), out, tag

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(jobs, pool.map(execute, jobs)))


def test_lesson_04_replots_the_committed_run(replots):
    run, tmp_path, tag = replots["04"]
    assert run.ok, run.error
    assert (tmp_path / "figures" / "fig3_time_vs_batch.png").is_file()
    assert (tmp_path / "tables" / "latency_per_image_s.csv").read_text().count("\n") >= 15  # 14 models + header


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_cell_has_an_id(path):
    """nbformat 4.5 cells carry ids; a cell added without one warns now and will fail in later nbformat."""
    cells = json.loads(path.read_text())["cells"]
    assert all("id" in c for c in cells), [i for i, c in enumerate(cells) if "id" not in c]


#: Library models through ``models`` (no paper model among them): mobilenet_v3_small has torchvision's top-1 only.
LIBRARY_MODELS = "mobilenet_v3_small,resnet18"
#: The lessons that use accuracy (01, 03, 07) and one that measures (04, into the store 07 then reads).
LIBRARY_LESSONS = ("01", "03", "04", "07")


@pytest.mark.slow
def test_lessons_run_with_library_models(tmp_path, smoke_parameters):
    """Any torchvision (or timm) name through ``models`` reaches the end of every lesson: plotted where no
    accuracy is needed, with torchvision's reference top-1 (or left out with a note) where it is. Lessons
    02, 05 and 06 read ``models`` the same way (count_table, the same sweep) and are left to the smoke run."""
    params = dict(smoke_parameters, models=LIBRARY_MODELS, output_dir=str(tmp_path))
    for path in [p for p in NOTEBOOKS if p.stem[:2] in LIBRARY_LESSONS]:
        run = execute_notebook(path, tmp_path, params, progress=False)
        assert run.ok, f"{path.name}: {run.error}"
        executed = nbformat.read(run.output, as_version=4)
        assert not [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])
                    if o.get("output_type") == "error"], path.name
    saved = {p.stem for p in (tmp_path / "figures").glob("*.png")}
    assert {"fig1_top1", "fig10_accuracy_density", "fig3_time_vs_batch", "fig9_accuracy_vs_throughput_batch1"} <= saved
    density = (tmp_path / "tables" / "accuracy_density.csv").read_text()
    assert "mobilenet_v3_small" in density  # torchvision's top-1 puts it on Fig 10
    latency = (tmp_path / "tables" / "latency_per_image_s.csv").read_text()
    assert "mobilenet_v3_small" in latency and "resnet18" in latency


def test_lesson_09_replots_the_committed_run_and_says_why_not_without_its_peaks(replots):
    run, a, tag = replots["09a"]
    assert run.ok, run.error
    fraction = (a / "tables" / "fraction_of_fp32_peak_pct.csv").read_text().splitlines()
    assert len(fraction) == 15  # 14 paper models + header
    shown = json.dumps([o for c in nbformat.read(run.output, as_version=4).cells if c.cell_type == "code"
                        for o in c.get("outputs", [])])
    assert "AlexNet at batch 1 was timed 3 times in this run" in shown  # the sweep, the threads and precision studies
    from helpers.analysis.roofline import why_time_rises
    from helpers.course.lessons import run_roofline
    from helpers.core.paths import RECORDED_DIR
    from helpers.core.reference import PAPER_MODELS

    lesson = run_roofline(RECORDED_DIR, tag, list(PAPER_MODELS))
    assert json.dumps(why_time_rises(lesson.roofline, lesson.cache, lesson.device))[1:80] in shown  # its answer
    # the same run without its characterisation: no roofline, and the lesson says why instead of failing
    run, b, _ = replots["09b"]
    assert run.ok, run.error
    shown = json.dumps([o for c in nbformat.read(run.output, as_version=4).cells if c.cell_type == "code"
                        for o in c.get("outputs", [])])
    assert f"no hardware characterisation is stored for {tag}" in shown
    assert not (b / "tables" / "fraction_of_fp32_peak_pct.csv").exists()
