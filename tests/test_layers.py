import pytest
import torch
from torch import nn

from helpers.measure.layers import layer_time_share


def test_shares_cover_every_leaf_type_and_sum_to_one():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 10)).eval()
    table = layer_time_share(model, torch.randn(2, 3, 8, 8), repeats=2)
    assert set(table["layer_type"]) == {"Conv2d", "ReLU", "Flatten", "Linear"}
    assert table["share"].sum() == pytest.approx(1.0)
    assert (table["seconds"] > 0).all()
    assert list(table["share"]) == sorted(table["share"], reverse=True)
    # hooks are removed afterwards
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())


def test_bad_repeats_named():
    with pytest.raises(ValueError, match="0"):
        layer_time_share(nn.Linear(2, 2), torch.randn(1, 2), repeats=0)


def test_layer_share_summary_says_what_to_notice_and_changes_with_the_data():
    import pandas as pd

    from helpers.measure.layers import layer_share_summary

    shares = pd.DataFrame({1: {"Conv2d": 0.38, "LocalResponseNorm": 0.28, "Linear": 0.30, "ReLU": 0.04},
                           64: {"Conv2d": 0.40, "LocalResponseNorm": 0.44, "Linear": 0.10, "ReLU": 0.06}})
    text = layer_share_summary(shares, "AlexNet")
    assert "At batch 1 the largest share of AlexNet's time is Conv2d's (0.38); at batch 64, LocalResponseNorm's (0.44)" in text
    assert "take 0.30 at batch 1 and 0.10 at batch 64: their share falls" in text
    assert "LocalResponseNorm, a layer with little arithmetic, takes more of the time than the convolutions at batch 64 " \
           "(0.44 against 0.40)" in text
    shares.loc["LocalResponseNorm", 64], shares.loc["Linear", 64] = 0.10, 0.44
    text = layer_share_summary(shares, "AlexNet")
    assert "their share does not fall" in text and "little arithmetic" not in text
    assert layer_share_summary(pd.DataFrame(), "AlexNet").startswith("No layer shares")


def test_layer_share_table_has_a_column_per_batch():
    from helpers.measure.layers import layer_share_table

    table = layer_share_table("ENet", [2, 1], repeats=1)
    assert list(table.columns) == [1, 2] and table.sum().round(6).eq(1.0).all() and "Conv2d" in table.index
