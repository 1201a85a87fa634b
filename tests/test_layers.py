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


# ---------------------------------------------------------------- the layers study (stored, claim part C3e)

def test_layers_study_stores_each_layer_type_with_an_interval_and_resumes(tmp_path, monkeypatch):
    import json

    from helpers.measure import layers
    from helpers.store.machine import device_tag
    from helpers.store.results import load_results

    done = layers.measure_layers(["ENet"], [1, 2], device="cpu", threads=1, windows=2, repeats=1,
                                 results_root=tmp_path, progress=False)
    assert done == ["ENet"]
    tag = device_tag("cpu")
    rows = load_results(tmp_path, [tag])
    mine = rows[rows["metric"].str.startswith("layer_time_per_image:")]
    assert set(mine["batch_size"]) == {1, 2} and "layer_time_per_image:Conv2d" in set(mine["metric"])
    assert (mine["unit"] == "ms").all() and (mine["n"] == 2).all() and (mine["status"] == "ok").all()
    assert (mine["ci_low"] <= mine["value"]).all() and (mine["value"] <= mine["ci_high"]).all()
    assert all(len(json.loads(d)["rounds_ms"]) == 2 for d in mine["details"])
    shares = layers.stored_layer_shares(rows, "ENet", tag)
    assert list(shares.columns) == [1, 2] and shares.sum().round(6).eq(1.0).all() and "Conv2d" in shares.index
    assert "ENet's time" in layers.layer_share_summary(shares, "ENet")
    # stored for this fingerprint: skipped, nothing written; another model is not found
    assert layers.measure_layers(["ENet"], [1, 2], device="cpu", threads=1, windows=2, repeats=1,
                                 results_root=tmp_path, progress=False) == []
    assert len(load_results(tmp_path, [tag])) == len(rows)
    assert layers.stored_layer_shares(rows, "AlexNet", tag).empty


def test_an_interrupted_layers_study_keeps_every_finished_model(tmp_path, monkeypatch):
    from helpers.measure import layers
    from helpers.store.machine import device_tag
    from helpers.store.results import load_results

    real = layers.layer_time_share
    calls = {"n": 0}

    def interrupted(net, x, repeats=3, warmup=1):
        calls["n"] += 1
        if calls["n"] > 2:  # ENet's two rounds of one batch done, then Ctrl-C in the next model
            raise KeyboardInterrupt
        return real(net, x, repeats=repeats, warmup=warmup)

    monkeypatch.setattr(layers, "layer_time_share", interrupted)
    with pytest.raises(KeyboardInterrupt):
        layers.measure_layers(["ENet", "ResNet-18"], [1], device="cpu", threads=1, windows=2, repeats=1,
                              results_root=tmp_path, progress=False)
    rows = load_results(tmp_path, [device_tag("cpu")])
    assert set(rows["model"]) == {"ENet"}  # the finished model is stored, the cut one left for the next run


def test_layers_study_names_bad_settings(tmp_path):
    from helpers.measure.layers import layer_metric, measure_layers

    with pytest.raises(ValueError, match=r"windows=1: at least 2 rounds"):
        measure_layers(["ENet"], [1], windows=1, results_root=tmp_path, progress=False)
    with pytest.raises(ValueError, match=r"repeats=0"):
        measure_layers(["ENet"], [1], repeats=0, results_root=tmp_path, progress=False)
    with pytest.raises(ValueError, match="module class name"):
        layer_metric("a:b")


def test_the_layers_study_batches_follow_the_sweep():
    from helpers.measure.profiles import get_profile, layer_batches

    assert layer_batches([1, 2, 4, 8, 16, 32, 64]) == [1, 64]
    assert layer_batches([4, 16, 128]) == [1, 16]
    assert layer_batches([1]) == [1]
    assert get_profile("full").layer_batch_sizes() == [1, 64] and get_profile("full").layer_models == ("AlexNet",)
