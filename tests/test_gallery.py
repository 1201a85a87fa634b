"""The gallery and the README's claims come from the claims table of the recorded run, not from a file."""
import pandas as pd
import pytest

from helpers.cli import gallery
from helpers.analysis.claims import CLAIM_COLUMNS
from helpers.report.text import claims_markdown
from helpers.cli.gallery import readme_claims, readme_run, run_claims, update_readme, write_gallery


def _claims(**over):
    row = {c: "" for c in CLAIM_COLUMNS}
    row.update(claim="C1", basis="", device="cpu-test: Test CPU, 2 threads", paper="7.10 | points", this_run="7.10",
               estimate=7.1, ci_low=6.5, ci_high=7.7, verdict="inconclusive", reason="straddles")
    row.update(over)
    return pd.DataFrame([row], columns=list(CLAIM_COLUMNS))


def test_gallery_copies_main_figures_and_writes_claims(tmp_path):
    report = tmp_path / "cpu-test"
    (report / "figures").mkdir(parents=True)
    (report / "figures" / "fig2_top1_vs_ops.png").write_bytes(b"png")
    (report / "figures" / "not_in_gallery.png").write_bytes(b"png")
    written = write_gallery(report, tmp_path / "gallery", _claims())
    assert sorted(p.name for p in written) == ["claims.md", "fig2_top1_vs_ops.png"]
    text = (tmp_path / "gallery" / "claims.md").read_text()
    assert "| C1 |  | cpu-test: Test CPU, 2 threads | 7.10 / points | 7.10 | 7.1 [6.5, 7.7] | **inconclusive** |" in text
    assert "cpu-test" in text.splitlines()[0]


def test_gallery_without_a_report_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="make reproduce"):
        write_gallery(tmp_path / "nothing")


def test_claims_markdown_has_a_row_per_part():
    table = pd.concat([_claims(), _claims(claim="C2a", basis="our count (gops)", ci_low=float("nan"))])
    text = claims_markdown(table)
    assert text.count("\n") == 4
    assert "| C2a | our count (gops) |" in text and "| 7.1 | **inconclusive**" in text


def test_readme_section_is_replaced_between_its_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{gallery.README_START}\nold table\n{gallery.README_END}\noutro\n")
    update_readme(readme_claims(_claims(), "cpu-test", "abc123"), readme)
    text = readme.read_text()
    assert "old table" not in text and text.startswith("intro\n") and text.endswith("outro\n")
    assert readme_run(readme) == ("cpu-test", "abc123")
    readme.write_text("no markers")
    with pytest.raises(ValueError, match="no generated section"):
        update_readme("x", readme)


def test_the_readme_shows_the_claims_of_its_recorded_run():
    """One claim, one verdict: the README's table is what claims_table gives for the committed run today."""
    tag, fingerprint = readme_run()
    expected = readme_claims(run_claims(tag, fingerprint), tag, fingerprint)
    assert expected in gallery.README.read_text(encoding="utf-8"), \
        "README's claims are stale: run `make gallery` (or helpers.cli.gallery.update_readme) and commit"


def test_the_readme_says_why_time_rises_from_its_recorded_run():
    """The README's hardware paragraph is what helpers.analysis.roofline.why_time_rises gives for the committed run today."""
    tag, fingerprint = readme_run()
    expected = gallery.readme_hardware(tag, fingerprint)
    assert "fp32 peak" in expected and "The cache explanation, tested" in expected  # a roofline, not a reason why not
    text = gallery.README.read_text(encoding="utf-8")
    assert expected in text, "README's hardware paragraph is stale: run `make gallery` and commit"
    for name in ("hardware_roofline", "hardware_cache_test", "hardware_threads", "hardware_precision"):
        assert f"docs/gallery/{name}.png" in text and (gallery.GALLERY_DIR / f"{name}.png").is_file()


def test_the_readme_shows_the_runtimes_study_of_its_recorded_run():
    """The README's runtimes section is what runtimes_summary and runtime_claims_table give for the committed
    run's runtimes study today, with every runtime and both C3 and C8 ruled."""
    tag, _ = readme_run()
    expected = gallery.readme_runtimes(tag)
    assert expected in gallery.README.read_text(encoding="utf-8"), \
        "README's runtimes section is stale: run `make gallery` and commit"
    for runtime in ("| eager |", "| compile |", "| onnxruntime |", "| openvino |"):
        assert runtime in expected
    assert "| C3a |" in expected and "| C8a |" in expected and (gallery.GALLERY_DIR / "hardware_runtimes.png").is_file()
    assert "No runtimes study is recorded" in gallery.readme_runtimes("cpu-nowhere-1c")


def test_the_readme_shows_how_a_second_sweep_of_its_recorded_run_lands():
    """The README's reproducibility section is what coverage and compare_verdicts give for the committed run
    and its recorded second sweep today."""
    tag, _ = readme_run()
    shown = [tag] + [t for t in gallery.rerun_tags() if t != tag]
    assert len(shown) >= 2, "two machine types have a recorded second sweep"
    expected = gallery.readme_reproducibility(shown)
    assert expected in gallery.README.read_text(encoding="utf-8"), \
        "README's reproducibility section is stale: run `make gallery` and commit"
    assert all(f"#### `{t}`" in expected for t in shown)


def test_readme_reproducibility_without_a_second_sweep_says_so(tmp_path):
    text = gallery.readme_reproducibility("cpu-nowhere-1c", tmp_path)
    assert text.startswith(gallery.README_REPRO_START) and text.endswith(gallery.README_REPRO_END)
    assert "No second sweep of `cpu-nowhere-1c` is recorded" in text
