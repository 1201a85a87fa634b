"""The paper's reference table: order, types, palette and look-ups."""
from __future__ import annotations

import csv
import math
import re

import pytest

from helpers.core.paths import PAPER_MODELS_CSV
from helpers.core.reference import PAPER_MODELS, paper_models, paper_palette, paper_value


def _csv_rows() -> list[dict[str, str]]:
    with PAPER_MODELS_CSV.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_paper_models_follow_csv_order():
    assert len(PAPER_MODELS) == 14
    assert PAPER_MODELS == tuple(row["model"] for row in _csv_rows())
    assert PAPER_MODELS[0] == "AlexNet" and PAPER_MODELS[-1] == "Inception-v4"


def test_table_is_indexed_and_typed():
    df = paper_models()
    assert df.index.name == "model"
    assert tuple(df.index) == PAPER_MODELS
    for column in ("top1_pct", "top1_pct_v1", "gops_published", "params_m_paper"):
        assert df[column].dtype == "float64", column
    assert df.at["ResNet-50", "top1_pct"] == pytest.approx(75.99)
    assert df.at["ResNet-50", "top1_pct_v1"] == pytest.approx(75.76)
    assert df.at["VGG-19", "gops_published"] == pytest.approx(39.29)
    assert df.at["AlexNet", "params_m_paper"] == pytest.approx(60.97)
    # empty cells of the first arXiv version are NaN, not 0 or ""
    assert sorted(df.index[df["top1_pct_v1"].isna()]) == ["ENet", "Inception-v4", "ResNet-152"]
    assert isinstance(df.at["AlexNet", "colour"], str)
    assert df.at["BN-AlexNet", "note"] == ""
    assert "fb.resnet.torch" in df.at["ResNet-18", "top1_source"]


def test_table_values_match_csv_text():
    df = paper_models()
    for row in _csv_rows():
        assert df.at[row["model"], "top1_pct"] == float(row["top1_pct"])
        assert df.at[row["model"], "colour"] == row["colour"]


def test_cached_table_is_returned_as_a_copy():
    first = paper_models()
    first.loc["ResNet-50", "top1_pct"] = -1.0
    first.loc["AlexNet", "colour"] = "#ffffff"
    again = paper_models()
    assert again.at["ResNet-50", "top1_pct"] == pytest.approx(75.99)
    assert again.at["AlexNet", "colour"] == "#fd8d3c"


def test_palette():
    palette = paper_palette()
    assert tuple(palette) == PAPER_MODELS
    assert all(re.fullmatch(r"#[0-9a-fA-F]{6}", c) for c in palette.values())
    assert palette["ENet"] == "#000000"
    assert palette["ResNet-50"] == "#f768a1"


def test_paper_value():
    assert paper_value("Inception-v3", "top1_pct") == pytest.approx(78.53)
    assert isinstance(paper_value("Inception-v3", "top1_pct"), float)
    assert math.isnan(paper_value("ENet", "top1_pct_v1"))
    assert paper_value("GoogLeNet", "colour") == "#08519c"


def test_paper_value_unknown_model_lists_valid_names():
    with pytest.raises(KeyError) as info:
        paper_value("ResNet50", "top1_pct")
    message = str(info.value)
    assert "ResNet50" in message
    assert all(name in message for name in PAPER_MODELS)


def test_paper_value_unknown_column():
    with pytest.raises(KeyError, match="top1_pct_v1"):
        paper_value("ResNet-50", "top5_pct")
