"""Reference top-1 from torchvision's enums, and the single-crop evaluator on a
generated ImageFolder whose answers are known in advance."""
from __future__ import annotations

import math
import warnings
from pathlib import Path

import pandas as pd
import pytest
import torch
from PIL import Image
from torch import nn

from helpers.models.weights import ACCURACY_COLUMNS, NO_LIBRARY_WEIGHTS, NO_TIMM_FIGURE, accuracy_table, reference_top1, torchvision_top1, torchvision_weights_table
from helpers.models.equivalents import EQUIVALENTS, NO_TORCHVISION_EQUIVALENT, SAME_ARCHITECTURE, TORCHVISION_EQUIVALENT
from helpers.measure.accuracy import default_resize, evaluate_imagefolder, load_checkpoint
from helpers.core.reference import PAPER_MODELS, paper_models
from helpers.models.zoo import UnknownModelError

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)
SIZES = [(40, 30), (30, 52), (64, 64), (97, 41), (300, 200)]


# --------------------------------------------------------------------------
# generated data and a model whose predictions are known
# --------------------------------------------------------------------------
def _write(path: Path, colour, size, mode: str = "RGB") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", size, colour)
    if mode != "RGB":
        image = image.convert(mode)
    image.save(path)


@pytest.fixture
def colour_folder(tmp_path: Path) -> Path:
    """12 images in 3 classes; one blue image sits in the red folder, so a
    colour classifier gets exactly 11 of 12 right (sample index 4 is the wrong one)."""
    root = tmp_path / "val"
    for i in range(4):
        _write(root / "a_red" / f"red_{i}.png", RED, SIZES[i])
    _write(root / "a_red" / "zz_blue.png", BLUE, SIZES[4])  # labelled red, looks blue
    for i in range(4):
        _write(root / "b_green" / f"green_{i}.png", GREEN, SIZES[(i + 1) % 5])
    for i in range(2):
        _write(root / "c_blue" / f"blue_{i}.png", BLUE, SIZES[(i + 2) % 5])
    _write(root / "c_blue" / "blue_rgba.png", BLUE, (50, 70), mode="RGBA")  # converted to RGB
    return root


class ColourNet(nn.Module):
    """Global average of the normalised channels, then a linear layer.

    With identity weights the logits are the mean normalised R, G, B: a solid
    red, green or blue image is classified as its colour.
    """

    def __init__(self, n_out: int = 3):
        super().__init__()
        self.fc = nn.Linear(3, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.mean(dim=(2, 3)))


def _identity_net() -> ColourNet:
    net = ColourNet()
    with torch.no_grad():
        net.fc.weight.copy_(torch.eye(3))
        net.fc.bias.zero_()
    return net


def _wrong_net() -> ColourNet:
    """Predicts blue for red, red for green, green for blue (0 percent top-1)."""
    net = ColourNet()
    with torch.no_grad():
        net.fc.weight.copy_(torch.eye(3)[[1, 2, 0]])
        net.fc.bias.zero_()
    return net


def _evaluate(model, root, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return evaluate_imagefolder(model, root, progress=False, **kwargs)


# --------------------------------------------------------------------------
# evaluator
# --------------------------------------------------------------------------
def test_checkpoint_roundtrip_and_known_accuracy(colour_folder, tmp_path):
    checkpoint = tmp_path / "colour.pt"
    torch.save(_identity_net().state_dict(), checkpoint)

    model = _wrong_net()
    assert _evaluate(model, colour_folder).correct1 == 0  # before loading: all wrong
    load_checkpoint(model, checkpoint)

    with pytest.warns(UserWarning, match="only 3 classes"):
        result = evaluate_imagefolder(model, colour_folder, batch_size=5, progress=True)
    assert result.n_images == 12
    assert result.n_classes == 3
    assert result.correct1 == 11
    assert result.top1 == pytest.approx(100 * 11 / 12, abs=1e-12)
    # with 3 classes the "top-5" is top-3, 100 percent by construction
    assert result.top5_k == 3
    assert result.correct5 == 12
    assert result.top5 == 100.0
    assert (result.crop_size, result.resize_size) == (224, 256)


def test_batch_size_does_not_change_the_answer(colour_folder):
    model = _identity_net()
    results = {bs: _evaluate(model, colour_folder, batch_size=bs) for bs in (1, 7, 64)}
    assert {r.correct1 for r in results.values()} == {11}


def test_limit_takes_an_evenly_spaced_subset(colour_folder):
    # samples 0, 4, 8 of the 12 sorted ones; sample 4 is the blue image in a_red
    # (the first three samples would all be right)
    result = _evaluate(_identity_net(), colour_folder, limit=3)
    assert result.n_images == 3
    assert result.correct1 == 2
    assert _evaluate(_identity_net(), colour_folder, limit=100).n_images == 12


def test_top5_with_six_classes(tmp_path):
    # A model that always ranks class 0 > 1 > ... > 5: top-1 counts class 0,
    # top-5 misses only class 5.
    root = tmp_path / "six"
    counts = {"c0": 2, "c1": 1, "c2": 1, "c3": 1, "c4": 1, "c5": 3}
    for name, n in counts.items():
        for i in range(n):
            _write(root / name / f"{i}.png", (40 * i, 90, 200), SIZES[i])
    model = ColourNet(6)
    with torch.no_grad():
        model.fc.weight.zero_()
        model.fc.bias.copy_(torch.tensor([5.0, 4.0, 3.0, 2.0, 1.0, 0.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "fewer than 5 classes" warning here
        result = evaluate_imagefolder(model, root, crop_size=32, progress=False)
    assert result.top5_k == 5
    assert (result.n_images, result.correct1, result.correct5) == (9, 2, 6)
    assert result.top1 == pytest.approx(100 * 2 / 9)
    assert result.top5 == pytest.approx(100 * 6 / 9)
    assert result.resize_size == default_resize(32) == 37


def test_eval_mode_is_used_and_restored(colour_folder):
    seen = []

    class Recorder(ColourNet):
        def forward(self, x):
            seen.append((self.training, torch.is_inference_mode_enabled()))
            return super().forward(x)

    model = Recorder()
    model.load_state_dict(_identity_net().state_dict())
    model.train()
    _evaluate(model, colour_folder)
    assert seen and all(s == (False, True) for s in seen)
    assert model.training


def test_class_count_mismatch_names_both_numbers(colour_folder):
    with pytest.raises(ValueError, match=r"3 classes.*4 outputs"):
        _evaluate(ColourNet(4), colour_folder)


def test_missing_root(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        _evaluate(_identity_net(), tmp_path / "nowhere")


def test_root_without_class_folders(tmp_path):
    _write(tmp_path / "flat" / "red.png", RED, (20, 20))
    with pytest.raises(ValueError, match="no class subfolders"):
        _evaluate(_identity_net(), tmp_path / "flat")


def test_class_folder_without_images(colour_folder):
    (colour_folder / "d_empty").mkdir()
    with pytest.raises(ValueError, match="ImageFolder"):
        _evaluate(_identity_net(), colour_folder)


def test_resize_smaller_than_crop(colour_folder):
    with pytest.raises(ValueError, match="smaller than crop_size"):
        _evaluate(_identity_net(), colour_folder, crop_size=224, resize_size=200)


def test_default_resize():
    assert default_resize(224) == 256
    assert default_resize(299) == 342  # torchvision inception_v3 uses 342 too
    assert default_resize(227) == 259


# --------------------------------------------------------------------------
# checkpoints
# --------------------------------------------------------------------------
def test_checkpoint_wrappers_and_module_prefix(tmp_path, colour_folder):
    state = _identity_net().state_dict()
    prefixed = {f"module.{k}": v for k, v in state.items()}
    for name, payload in {
        "wrapped.pt": {"state_dict": prefixed, "epoch": 90},
        "model.pt": {"model": state, "optimizer": {"lr": 0.1}},
        "bare_prefixed.pt": prefixed,
    }.items():
        torch.save(payload, tmp_path / name)
        model = load_checkpoint(_wrong_net(), tmp_path / name)
        assert torch.equal(model.fc.weight, torch.eye(3)), name
        assert _evaluate(model, colour_folder).correct1 == 11, name


def test_missing_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match="absent.pt"):
        load_checkpoint(_identity_net(), tmp_path / "absent.pt")


def test_mismatched_keys_are_listed(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"head.weight": torch.eye(3), "fc.bias": torch.zeros(3)}, path)
    with pytest.raises(ValueError) as info:
        load_checkpoint(_identity_net(), path)
    message = str(info.value)
    assert "missing keys: fc.weight" in message
    assert "unexpected keys: head.weight" in message


def test_mismatched_shapes_are_listed(tmp_path):
    path = tmp_path / "wide.pt"
    torch.save(ColourNet(4).state_dict(), path)
    with pytest.raises(ValueError, match=r"fc\.weight: checkpoint \(4, 3\) vs model \(3, 3\)"):
        load_checkpoint(_identity_net(), path)


class _NotWeights:
    pass


def test_checkpoint_with_arbitrary_objects_is_refused(tmp_path):
    path = tmp_path / "pickled.pt"
    torch.save({"state_dict": _identity_net().state_dict(), "extra": _NotWeights()}, path)
    with pytest.raises(ValueError, match="weights_only"):
        load_checkpoint(_identity_net(), path)


# --------------------------------------------------------------------------
# torchvision metadata and the reference table
# --------------------------------------------------------------------------
def test_equivalents_cover_every_paper_model():
    assert tuple(EQUIVALENTS) == PAPER_MODELS
    assert set(TORCHVISION_EQUIVALENT) | set(NO_TORCHVISION_EQUIVALENT) == set(PAPER_MODELS)
    assert set(NO_TORCHVISION_EQUIVALENT) == {"BN-AlexNet", "BN-NIN", "ENet", "Inception-v4"}
    assert TORCHVISION_EQUIVALENT["Inception-v3"] == "inception_v3"
    assert SAME_ARCHITECTURE["AlexNet"] is False
    assert SAME_ARCHITECTURE["GoogLeNet"] is False
    assert all(SAME_ARCHITECTURE[m] for m in TORCHVISION_EQUIVALENT if m not in ("AlexNet", "GoogLeNet"))
    assert "inception_v4" in NO_TORCHVISION_EQUIVALENT["Inception-v4"]


def test_torchvision_top1_defaults_to_paper_era_weights():
    info = torchvision_top1("resnet50")
    assert info["weights"] == "ResNet50_Weights.IMAGENET1K_V1"
    assert info["acc1"] == pytest.approx(76.13)
    assert info["acc5"] == pytest.approx(92.862)
    assert (info["crop_size"], info["resize_size"]) == (224, 256)
    assert info["params"] == 25_557_032
    assert info["ops"] == pytest.approx(4.089)  # GMACs
    assert torchvision_top1("ResNet-50") == info  # paper name accepted


def test_torchvision_top1_other_entries():
    v2 = torchvision_top1("resnet50", "IMAGENET1K_V2")
    assert v2["acc1"] == pytest.approx(80.858)
    assert v2["resize_size"] == 232
    assert torchvision_top1("resnet50", "DEFAULT")["weights"] == "ResNet50_Weights.IMAGENET1K_V2"
    assert torchvision_top1("resnet50", "ResNet50_Weights.IMAGENET1K_V1")["acc1"] == pytest.approx(76.13)
    inception = torchvision_top1("inception_v3")
    assert (inception["crop_size"], inception["resize_size"]) == (299, 342)
    with pytest.raises(KeyError, match="IMAGENET1K_V1"):
        torchvision_top1("resnet50", "IMAGENET1K_V9")
    with pytest.raises(KeyError, match="no torchvision equivalent"):
        torchvision_top1("ENet")
    with pytest.raises(KeyError):
        torchvision_top1("not_a_model")


def test_weights_table_lists_every_entry():
    table = torchvision_weights_table("resnet50")
    assert list(table["weights"]) == ["ResNet50_Weights.IMAGENET1K_V1", "ResNet50_Weights.IMAGENET1K_V2"]
    v2 = table.set_index("weights").loc["ResNet50_Weights.IMAGENET1K_V2"]
    assert v2["acc1"] == pytest.approx(80.858)
    assert bool(v2["is_default"]) and not bool(v2["paper_era"])
    # VGG-16's feature-extraction entry has no accuracy and 0-255 scaling
    vgg = torchvision_weights_table("vgg16").set_index("weights")
    assert math.isnan(vgg.loc["VGG16_Weights.IMAGENET1K_FEATURES", "acc1"])


def test_reference_top1_table():
    table = reference_top1()
    assert len(table) == 14
    assert tuple(table["model"]) == PAPER_MODELS
    assert list(table.columns) == [
        "model", "top1_paper", "top1_paper_source", "torchvision_name",
        "torchvision_weights", "top1_torchvision", "same_architecture", "note",
    ]
    row = table.set_index("model").loc["ResNet-50"]
    assert row["top1_paper"] == pytest.approx(75.99)
    assert row["top1_torchvision"] == pytest.approx(76.13)
    assert row["torchvision_weights"] == "ResNet50_Weights.IMAGENET1K_V1"
    assert "fb.resnet.torch" in row["top1_paper_source"]
    assert bool(row["same_architecture"])
    by_model = table.set_index("model")
    assert by_model.loc["AlexNet", "same_architecture"] == False  # noqa: E712
    assert pd.isna(by_model.loc["ENet", "same_architecture"])
    assert math.isnan(by_model.loc["ENet", "top1_torchvision"])
    assert pd.isna(by_model.loc["ENet", "torchvision_name"])
    assert pd.isna(by_model.loc["ENet", "torchvision_weights"])
    assert str(table["same_architecture"].dtype) == "boolean"
    with_tv = table.dropna(subset=["top1_torchvision"])
    assert len(with_tv) == 10
    assert all(w.endswith(".IMAGENET1K_V1") for w in with_tv["torchvision_weights"])


def test_reference_top1_subset_and_unknown():
    table = reference_top1(["VGG-16", "Inception-v4"])
    assert list(table["model"]) == ["VGG-16", "Inception-v4"]
    assert table["top1_torchvision"].iloc[0] == pytest.approx(71.592)
    assert math.isnan(table["top1_torchvision"].iloc[1])
    with pytest.raises(KeyError, match="valid names"):
        reference_top1(["ResNet-51"])


# --------------------------------------------------------------------------
# accuracy of every library weight
# --------------------------------------------------------------------------
def _torchvision_truth(enum) -> dict[str, tuple]:
    """Straight from a torchvision weights enum: acc@1, acc@5, crop, resize, recipe."""
    truth = {}
    for entry in enum:
        metrics = entry.meta["_metrics"]["ImageNet-1K"]
        transforms = entry.transforms()  # the weights' own evaluation preprocessing
        truth[f"{enum.__name__}.{entry.name}"] = (metrics["acc@1"], metrics["acc@5"], transforms.crop_size[0],
                                                   transforms.resize_size[0], entry.meta["recipe"])
    return truth


def test_accuracy_table_reads_every_resnet50_weight_from_torchvision():
    from torchvision.models import ResNet50_Weights

    table = accuracy_table("resnet50")
    assert list(table.columns) == list(ACCURACY_COLUMNS)
    truth = _torchvision_truth(ResNet50_Weights)
    assert len(table) == len(truth) == 2
    for row in table.itertuples():
        assert (row.acc1, row.acc5, row.crop_size, row.resize_size, row.recipe) == truth[row.weights]
        assert row.library_model == "torchvision:resnet50" and math.isnan(row.top1_paper)
    by_weights = table.set_index("weights")
    # the era matters: V1 is the 2016-era checkpoint, V2 a 2021 recipe (and torchvision's default)
    assert by_weights.loc["ResNet50_Weights.IMAGENET1K_V1", "acc1"] == pytest.approx(76.13)
    assert by_weights.loc["ResNet50_Weights.IMAGENET1K_V2", "acc1"] == pytest.approx(80.858)
    assert bool(by_weights.loc["ResNet50_Weights.IMAGENET1K_V2", "is_default"])
    assert by_weights.loc["ResNet50_Weights.IMAGENET1K_V2", "resize_size"] == 232


def test_accuracy_table_of_the_paper_models_carries_the_papers_top1():
    table = accuracy_table("paper")
    assert list(dict.fromkeys(table["model"])) == list(PAPER_MODELS)
    paper = paper_models()
    for row in table.itertuples():
        assert row.top1_paper == paper.at[row.model, "top1_pct"]
        assert row.top1_paper_source == paper.at[row.model, "top1_source"]
    by_model = table.groupby("model")
    # ResNet-50: both torchvision weights, each beside the paper's 75.99
    resnet50 = by_model.get_group("ResNet-50")
    assert set(resnet50["weights"]) == {"ResNet50_Weights.IMAGENET1K_V1", "ResNet50_Weights.IMAGENET1K_V2"}
    # no library has these: one row, no weights, the reason
    for model in ("BN-AlexNet", "BN-NIN", "ENet"):
        rows = by_model.get_group(model)
        assert len(rows) == 1 and rows["weights"].iloc[0] == "" and math.isnan(rows["acc1"].iloc[0])
        assert rows["accuracy_source"].iloc[0] == NO_LIBRARY_WEIGHTS
    # AlexNet's torchvision weights belong to another architecture, and the row says so
    alexnet = by_model.get_group("AlexNet").iloc[0]
    assert alexnet["library_model"] == "torchvision:alexnet" and "single-tower" in alexnet["note"]
    # Inception-v4 comes from timm, whose installed package ships no accuracy
    v4 = by_model.get_group("Inception-v4")
    assert set(v4["library_model"]) == {"timm:inception_v4"}
    assert (v4["crop_size"] == 299).all() and (v4["resize_size"] == 341).all()  # floor(299 / 0.875)
    assert v4["acc1"].isna().all() and set(v4["accuracy_source"]) == {NO_TIMM_FIGURE}


def test_timm_rows_say_so_when_no_figure_is_shipped():
    import timm

    tags = timm.list_pretrained("tf_efficientnet_b0.*")
    table = accuracy_table("tf_efficientnet_b0")
    assert len(table) == len(tags) >= 1 and table["is_default"].sum() == 1
    for tag, row in zip(tags, table.itertuples()):
        cfg = timm.models.get_pretrained_cfg(tag)
        assert row.crop_size == cfg.input_size[-1]
        shipped = next((cfg.to_dict()[k] for k in ("top1", "acc1", "top1_acc") if cfg.to_dict().get(k)), None)
        if shipped is None:  # the installed timm (1.0.x) carries preprocessing only: say so, invent nothing
            assert math.isnan(row.acc1) and row.accuracy_source == NO_TIMM_FIGURE
        else:
            assert row.acc1 == shipped


def test_timm_figure_is_used_when_timm_ships_one(monkeypatch):
    import timm

    class Cfg:
        input_size, crop_pct, hf_hub_id, origin_url = (3, 240, 240), 0.9, "timm/fake.in1k", "https://example.org"

        def to_dict(self):
            return {"top1": 81.25, "top5": 95.5}

    monkeypatch.setattr(timm, "list_pretrained", lambda pattern: ["tf_efficientnet_b0.fake"])
    monkeypatch.setattr(timm.models, "get_pretrained_cfg", lambda tag: Cfg())
    row = accuracy_table("tf_efficientnet_b0").iloc[0]
    assert (row["acc1"], row["acc5"], row["crop_size"], row["resize_size"]) == (81.25, 95.5, 240, 266)
    assert row["weights"] == "timm/fake.in1k" and row["accuracy_source"] == "timm pretrained configuration"


def test_accuracy_table_covers_every_torchvision_weight():
    import torchvision

    names = torchvision.models.list_models(module=torchvision.models)
    table = accuracy_table("torchvision")
    expected = {f"{type(e).__name__}.{e.name}" for n in names for e in torchvision.models.get_model_weights(n)}
    assert set(table["weights"]) == expected and len(table) == len(expected)
    # every weight but VGG-16's feature extractor records its ImageNet-1K top-1 and top-5
    assert list(table.loc[table["acc1"].isna(), "weights"]) == ["VGG16_Weights.IMAGENET1K_FEATURES"]
    assert table["acc5"].notna().sum() == len(table) - 1
    assert table["crop_size"].notna().all() and (table["resize_size"] >= table["crop_size"]).all()


def test_accuracy_table_unknown_model_names_it():
    with pytest.raises(UnknownModelError, match="'resnet5O'"):
        accuracy_table("resnet5O")
