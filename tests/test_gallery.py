import pandas as pd
import pytest

from helpers.gallery import claims_markdown, write_gallery


def test_gallery_copies_main_figures_and_writes_claims(tmp_path):
    report = tmp_path / "cpu-test"
    (report / "figures").mkdir(parents=True)
    (report / "tables").mkdir()
    (report / "figures" / "fig2_top1_vs_ops.png").write_bytes(b"png")
    (report / "figures" / "not_in_gallery.png").write_bytes(b"png")
    pd.DataFrame([{"claim": "C1", "paper_figure": "7.10 | points", "this_run": "7.10", "verdict": "holds"}]).to_csv(
        report / "tables" / "claims.csv", index=False)
    written = write_gallery(report, tmp_path / "gallery")
    assert sorted(p.name for p in written) == ["claims.md", "fig2_top1_vs_ops.png"]
    text = (tmp_path / "gallery" / "claims.md").read_text()
    assert "| C1 | 7.10 / points | 7.10 | holds |" in text and "cpu-test" in text


def test_gallery_without_a_report_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="make reproduce"):
        write_gallery(tmp_path / "nothing")


def test_claims_markdown_has_a_row_per_claim():
    frame = pd.DataFrame({"claim": ["C1", "C2"], "paper_figure": ["a", "b"], "this_run": ["c", "d"],
                          "verdict": ["holds", "does not hold"]})
    assert claims_markdown(frame).count("\n") == 4
