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
