"""The model registry: names, presets, input sizes, building without weights."""
import pytest
import torch

from helpers.models.zoo import (PAPER_MODELS, UnknownModelError, build_model, example_input, get_spec,
                         list_presets, resolve_models)


def test_paper_preset_is_the_papers_fourteen_in_order():
    assert [s.name for s in resolve_models("paper")] == list(PAPER_MODELS)
    assert len(PAPER_MODELS) == 14


@pytest.mark.parametrize("name,size", [("AlexNet", 224), ("Inception-v3", 299), ("Inception-v4", 299),
                                       ("ResNet-50", 224), ("vit_b_16", 224), ("efficientnet_b3", 300)])
def test_input_sizes(name, size):
    assert get_spec(name).input_size == size


def test_paper_names_are_case_insensitive_but_torchvision_names_win():
    assert get_spec("resnet-50").name == "ResNet-50"
    assert get_spec("alexnet").source == "torchvision:alexnet"
    assert get_spec("AlexNet").source == "paper-era:bvlc_alexnet"


def test_torchvision_preset_lists_every_classification_model():
    import torchvision

    assert set(list_presets()["torchvision"]) == set(torchvision.models.list_models(module=torchvision.models))


def test_timm_name_works():
    spec = get_spec("inception_v4")
    assert spec.source == "timm:inception_v4" and spec.input_size == 299


def test_unknown_name_suggests_close_matches():
    with pytest.raises(UnknownModelError) as info:
        get_spec("resnet5")
    message = str(info.value)
    assert "'resnet5'" in message and "resnet50" in message


def test_resolve_expands_presets_and_commas_without_duplicates():
    names = [s.name for s in resolve_models(["smoke", "ResNet-18,vgg16"])]
    assert names == ["ENet", "ResNet-18", "vgg16"]


def test_meta_build_has_no_storage_and_cpu_build_runs():
    meta = build_model("ResNet-18", "meta")
    assert next(meta.parameters()).is_meta and not meta.training
    cpu = build_model("ResNet-18", "cpu")
    with torch.inference_mode():
        assert cpu(example_input("ResNet-18", 2)).shape == (2, 1000)


def test_models_whose_constructor_computes_still_build_on_meta():
    # torchvision's RegNets compute block widths with tensors in __init__
    model = build_model("regnet_x_400mf", "meta")
    assert next(model.parameters()).is_meta


def test_example_input_rejects_bad_batch_size():
    with pytest.raises(ValueError, match="0"):
        example_input("ResNet-18", 0)
