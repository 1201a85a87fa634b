"""Paper-era model definitions (helpers/models/archs.py) against data/reference/architectures.md."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from helpers.models.archs import (
    PAPER_ARCHS,
    bn_alexnet,
    bn_nin,
    bvlc_alexnet,
    enet,
    googlenet_bvlc,
)


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def output_shapes(model: nn.Module, names: list[str], size: int = 224) -> dict[str, tuple[int, ...]]:
    """Output shape (without batch) of the named submodules for one meta input."""
    shapes: dict[str, tuple[int, ...]] = {}
    modules = dict(model.named_modules())
    handles = [
        modules[name].register_forward_hook(
            lambda _m, _i, out, name=name: shapes.__setitem__(name, tuple(out.shape[1:]))
        )
        for name in names
    ]
    try:
        model(torch.empty(1, 3, size, size, device="meta"))
    finally:
        for h in handles:
            h.remove()
    return shapes


def on_meta(factory):
    with torch.device("meta"):
        return factory()


def test_paper_archs_names():
    assert list(PAPER_ARCHS) == ["AlexNet", "BN-AlexNet", "BN-NIN", "ENet", "GoogLeNet"]


def test_alexnet_exact_params():
    assert n_params(on_meta(bvlc_alexnet)) == 60_965_224


@pytest.mark.parametrize(
    "factory, exact, stated_m",
    [
        (bvlc_alexnet, 60_965_224, 60.965),
        (bn_alexnet, 60_541_992, 60.542),
        (bn_nin, 8_655_336, 8.655),
        (enet, 5_861_508, 5.862),
        # architectures.md states 6.998 M, i.e. 6,998,552 truncated (it rounds to 6.999)
        (googlenet_bvlc, 6_998_552, 6.998),
    ],
    ids=["AlexNet", "BN-AlexNet", "BN-NIN", "ENet", "GoogLeNet"],
)
def test_param_counts(factory, exact, stated_m):
    n = n_params(on_meta(factory))
    assert abs(n / 1e6 - stated_m) < 1e-3  # the count architectures.md gives, to 3 decimals
    assert n == exact  # the count measured for this definition (guards against regressions)


def test_bn_nin_without_bn_affine():
    model = on_meta(bn_nin)
    bn = sum(p.numel() for m in model.modules() if isinstance(m, nn.BatchNorm2d) for p in m.parameters())
    assert round((n_params(model) - bn) / 1e6, 3) == 8.645


def test_enet_prelu_is_per_channel():
    prelus = [m for m in on_meta(enet).modules() if isinstance(m, nn.PReLU)]
    assert prelus and all(m.num_parameters > 1 for m in prelus)


@pytest.mark.parametrize("name", list(PAPER_ARCHS))
def test_meta_construction_and_forward(name):
    model = on_meta(PAPER_ARCHS[name])
    assert all(p.is_meta for p in model.parameters())
    out = model(torch.empty(1, 3, 224, 224, device="meta"))
    assert out.shape == (1, 1000)


@pytest.mark.parametrize("name", list(PAPER_ARCHS))
def test_cpu_forward(name):
    torch.manual_seed(0)
    model = PAPER_ARCHS[name]()
    assert not model.training
    with torch.inference_mode():
        for batch in (1, 2):
            out = model(torch.randn(batch, 3, 224, 224))
            assert out.shape == (batch, 1000)
            assert torch.isfinite(out).all()


def test_alexnet_groups_and_pool5():
    model = on_meta(bvlc_alexnet)
    convs = dict(model.features.named_children())
    assert [convs[c].groups for c in ("conv1", "conv2", "conv3", "conv4", "conv5")] == [1, 2, 1, 2, 2]
    assert sum(isinstance(m, nn.LocalResponseNorm) for m in model.modules()) == 2
    assert output_shapes(model, ["features.pool5"])["features.pool5"] == (256, 6, 6)


def test_googlenet_third_branch_is_5x5():
    model = on_meta(googlenet_bvlc)
    blocks = [m for n, m in model.named_children() if n.startswith("inception")]
    assert len(blocks) == 9
    for block in blocks:
        convs = [m for m in block.branch3 if isinstance(m, nn.Conv2d)]
        assert [c.kernel_size for c in convs] == [(1, 1), (5, 5)]
        assert convs[1].padding == (2, 2)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    assert sum(isinstance(m, nn.LocalResponseNorm) for m in model.modules()) == 2


def test_enet_stage_shapes():
    shapes = output_shapes(on_meta(enet), ["initial", "stage1", "stage2", "stage3", "stage4"])
    assert shapes == {
        "initial": (16, 112, 112),
        "stage1": (128, 56, 56),
        "stage2": (256, 28, 28),
        "stage3": (512, 14, 14),
        "stage4": (1024, 7, 7),
    }


def test_bn_alexnet_and_nin_feature_shapes():
    towers = output_shapes(on_meta(bn_alexnet), ["towers.0", "towers.1"])
    assert towers == {"towers.0": (128, 6, 6), "towers.1": (128, 6, 6)}
    nin = output_shapes(on_meta(bn_nin), ["features"])
    assert nin["features"] == (1024, 1, 1)
