"""The report of a run opens in a real headless browser with every image and link intact."""
import dataclasses
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from helpers.cli.reproduce import export_html, notebook_paths, write_index

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
needs_browser = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="Debian's chromium and chromium-driver are not installed (apt-get install chromium chromium-driver; "
           ".ci/run installs them)")


@pytest.fixture(scope="module")
def report(tmp_path_factory, smoke_run):
    """A real report: two notebooks executed (smoke, the session's runs of them), gathered into one folder,
    exported to HTML, and the index written."""
    out = tmp_path_factory.mktemp("report")
    params = {"profile": "smoke", "device": "cpu", "results_dir": str(out / "results"), "output_dir": str(out)}
    runs = []
    for path in notebook_paths():
        if path.name.startswith(("03_", "07_")):
            run, folder, _ = smoke_run(path)
            assert run.ok, run.error
            shutil.copytree(folder, out, dirs_exist_ok=True, ignore=shutil.ignore_patterns("results"))
            run = dataclasses.replace(run, output=out / run.output.name)
            assert export_html(run.output) is not None
            runs.append(run)
    from helpers.analysis.claims import claims_table

    return write_index(out, runs, params, {"torch_version": "test", "host_cpu": "test cpu"},
                       claims_table(paper_data=True),
                       ["this machine's speed varied ±5.0 % during the run (the check standard over 3 windows)"])


def test_index_lists_notebooks_claims_and_environment(report):
    page = report.read_text()
    for needle in ("03_parameter_density.html", "07_findings.html", "C11", "holds", "torch_version",
                   "This run's stability", "speed varied ±5.0 % during the run"):
        assert needle in page


def test_the_report_states_the_stored_runs_stability(tmp_path):
    from helpers.cli.reproduce import _stability
    from helpers.core.paths import RECORDED_DIR

    lines = _stability(RECORDED_DIR, "cpu-amd-epyc-f25m17-2c", compare=False)
    assert any("timing points" in line for line in lines) and any("check standard" in line for line in lines)
    assert _stability(tmp_path, "cpu-nowhere-1c", compare=True) == []
    page = write_index(tmp_path, [], {}, stability=[]).read_text()
    assert "No measured points in this run's store." in page


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--no-first-run",
                 "--disable-sync", "--allow-file-access-from-files"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _images(driver):
    return driver.execute_script(
        "return Array.from(document.images).map(i => [i.getAttribute('src').slice(0, 60), i.complete && i.naturalWidth > 0]);")


@needs_browser
def test_report_loads_with_every_image_and_no_broken_link(report, browser):
    browser.get(report.as_uri())
    assert "reproduced" in browser.title
    images = _images(browser)
    figures = sorted((report.parent / "figures").glob("*.png"))
    assert len(images) == len(figures) >= 2
    assert all(ok for _, ok in images), [src for src, ok in images if not ok]
    links = browser.execute_script("return Array.from(document.links).map(a => a.href);")
    assert links
    for link in links:
        target = Path(unquote(urlparse(link).path))
        assert target.is_file(), f"broken link {link}"
    for page in [l for l in links if l.endswith(".html")]:
        browser.get(page)
        shown = _images(browser)
        assert shown and all(ok for _, ok in shown), f"{page}: an image did not load"


def test_knee_summary_counts_the_bends_and_says_what_the_flat_peak_is():
    import pandas as pd

    from helpers.report.text import knee_summary

    knees = pd.DataFrame({"flat_peak_mb": [58.3, 600.0], "beats_line": [False, True]}, index=["ENet", "VGG-16"])
    static = pd.Series({"ENet": 23.0, "VGG-16": 560.0})
    text = knee_summary(knees, static)
    assert "beats a single straight line for 1 of 2 networks (VGG-16)" in text
    assert "for ENet it is 58.3 MB against a measured static memory of 23.0 MB" in text
    knees["beats_line"] = False
    static["ENet"] = 58.0
    text = knee_summary(knees, static)
    assert "for 0 of 2 networks;" in text and "for VGG-16 it is 600.0 MB" in text
    assert knee_summary(knees.iloc[:0], static).startswith("No knee fitted")


def test_twins_summary_says_whether_one_network_under_two_names_agrees_with_itself():
    import pandas as pd

    from helpers.report.text import twins_summary

    points = pd.DataFrame({"model": ["ResNet-50", "resnet50"], "batch_size": [1, 1], "value": [0.0627, 0.0550],
                           "ci_low": [0.0458, 0.0543], "ci_high": [0.0857, 0.0555]})
    text = twins_summary(points, [("ResNet-50", "resnet50")])
    assert "62.7 ms [45.8, 85.7] and 55.0 ms [54.3, 55.5]" in text and "Their intervals overlap" in text
    points.loc[0, ["value", "ci_low", "ci_high"]] = [0.0800, 0.0700, 0.0900]
    assert "do not overlap" in twins_summary(points, [("ResNet-50", "resnet50")])
    assert twins_summary(points, []).startswith("No network is timed under two names")


def test_verdict_changes_lists_the_parts_a_larger_model_set_turns():
    import pandas as pd

    from helpers.report.text import verdict_changes

    before = pd.DataFrame({"claim": ["C2a", "C9a"], "basis": ["ours", "ours"], "verdict": ["holds", "holds"],
                           "estimate": [1.26, 0.95]})
    after = before.assign(verdict=["does not hold", "holds"], estimate=[0.881, 0.9])
    text = verdict_changes(before, after, "the 14", "the 34")
    assert text.startswith("1 of 2 parts change") and "holds on the 14 (1.26), **does not hold** on the 34 (0.881)" in text
    assert "C9a" not in text
    assert verdict_changes(before, before, "the 14", "the 34").startswith("No part")


def test_the_notices_of_the_lessons_tables_change_with_the_data():
    import pandas as pd

    from helpers.report.text import density_notice, fraction_notice, latency_notice, memory_notice

    latency = pd.DataFrame({1: {"A": 0.010, "B": 0.100}, 64: {"A": 0.005, "B": 0.120}})
    text = latency_notice(latency)
    assert "At batch 1, A is fastest (10.0 ms per image) and B slowest (100.0 ms), 10x apart." in text
    assert "falls for 1 of 2 networks (A)" in text
    latency.loc["A", 64] = 0.020
    assert "falls for 0 of 2 networks and rises" in latency_notice(latency)

    peak = pd.DataFrame({1: {"A": 100.0, "B": 10.0}, 64: {"A": 150.0, "B": 200.0}})
    text = memory_notice(peak)
    assert "At batch 64, B needs the most memory (200 MB" in text and "A the least (150 MB)" in text
    assert "from 1.5x for A to 20.0x for B" in text

    density = pd.Series({"ENet": 11.67, "VGG-19": 0.49, "squeezenet1_1": 47.09})
    text = density_notice(density, era=pd.Series({"ENet": "2016", "VGG-19": "2016", "squeezenet1_1": "since"}), top=2)
    assert text.startswith("squeezenet1_1 is densest (47.09 % per M parameters) and VGG-19 least dense (0.49), 96x")
    assert "The 2 densest: 1 since, 1 2016." in text

    fraction = pd.DataFrame({1: {"A": 30.0, "B": 80.0}, 16: {"A": 50.0, "B": 82.0}, 64: {"A": 40.0, "B": 70.0}})
    text = fraction_notice(fraction)
    assert "B gets nearest the fp32 peak (80 %) and A is furthest (30 %)" in text and "highest at batch 16 (66 %)" in text
    assert all(f(pd.DataFrame()).startswith("No") for f in (latency_notice, memory_notice, fraction_notice))
