"""Paper-era ImageNet models that torchvision does not ship.

Faithful PyTorch definitions of the five models of Canziani et al. (2016) whose
original definitions were Caffe or Torch7 only: BVLC AlexNet (two groups),
BN-AlexNet (two towers), BN-NIN, ENet V12 for ImageNet and the original
(BVLC, 5x5) GoogLeNet. Layer-by-layer descriptions and the parameter counts
each definition reaches are in ``data/reference/architectures.md``.

Every layer is a standard ``nn`` module (no functional layers in ``forward``),
so module-hook counters such as thop see each of them; ``forward`` only
concatenates, adds and zero-pads channels besides calling modules. Every model
can be built under ``torch.device("meta")`` and run on a meta tensor.
Weights are randomly initialised: these models serve for counting and timing.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Callable

import torch
from torch import nn

__all__ = [
    "bvlc_alexnet",
    "bn_alexnet",
    "bn_nin",
    "enet",
    "googlenet_bvlc",
    "PAPER_ARCHS",
]


def _lrn() -> nn.LocalResponseNorm:
    # Caffe ACROSS_CHANNELS LRN: local_size 5, alpha 1e-4, beta 0.75, k 1
    # (PyTorch divides alpha by size, as Caffe does).
    return nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=1.0)


# --------------------------------------------------------------------------
# BVLC AlexNet (Caffe, two groups)
# --------------------------------------------------------------------------
class BVLCAlexNet(nn.Module):
    """BVLC Caffe AlexNet: grouped conv2/4/5, LRN, ceil-mode pooling."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(OrderedDict([
            ("conv1", nn.Conv2d(3, 96, 11, stride=4)),
            ("relu1", nn.ReLU(inplace=True)),
            ("norm1", _lrn()),
            ("pool1", nn.MaxPool2d(3, 2, ceil_mode=True)),
            ("conv2", nn.Conv2d(96, 256, 5, padding=2, groups=2)),
            ("relu2", nn.ReLU(inplace=True)),
            ("norm2", _lrn()),
            ("pool2", nn.MaxPool2d(3, 2, ceil_mode=True)),
            ("conv3", nn.Conv2d(256, 384, 3, padding=1)),
            ("relu3", nn.ReLU(inplace=True)),
            ("conv4", nn.Conv2d(384, 384, 3, padding=1, groups=2)),
            ("relu4", nn.ReLU(inplace=True)),
            ("conv5", nn.Conv2d(384, 256, 3, padding=1, groups=2)),
            ("relu5", nn.ReLU(inplace=True)),
            ("pool5", nn.MaxPool2d(3, 2, ceil_mode=True)),
        ]))
        self.classifier = nn.Sequential(OrderedDict([
            ("fc6", nn.Linear(256 * 6 * 6, 4096)),
            ("relu6", nn.ReLU(inplace=True)),
            ("drop6", nn.Dropout(dropout)),
            ("fc7", nn.Linear(4096, 4096)),
            ("relu7", nn.ReLU(inplace=True)),
            ("drop7", nn.Dropout(dropout)),
            ("fc8", nn.Linear(4096, num_classes)),
        ]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        return self.classifier(torch.flatten(x, 1))


def bvlc_alexnet(num_classes: int = 1000) -> nn.Module:
    """BVLC Caffe AlexNet (groups 2 in conv2/4/5, LRN): 60,965,224 params."""
    return BVLCAlexNet(num_classes).eval()


# --------------------------------------------------------------------------
# BN-AlexNet (two towers, BatchNorm)
# --------------------------------------------------------------------------
def _conv_bn_relu(cin: int, cout: int, k: int, stride: int = 1, padding: int = 0) -> list[nn.Module]:
    return [
        nn.Conv2d(cin, cout, k, stride=stride, padding=padding),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    ]


class BNAlexNet(nn.Module):
    """Two independent AlexNet towers with BatchNorm, concatenated before fc6."""

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.towers = nn.ModuleList([self._tower() for _ in range(2)])
        self.classifier = nn.Sequential(
            nn.Linear(2 * 128 * 6 * 6, 4096),
            nn.BatchNorm1d(4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, 4096),
            nn.BatchNorm1d(4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    @staticmethod
    def _tower() -> nn.Sequential:
        return nn.Sequential(
            *_conv_bn_relu(3, 48, 11, stride=4, padding=2),
            nn.MaxPool2d(3, 2),
            *_conv_bn_relu(48, 128, 5, padding=2),
            nn.MaxPool2d(3, 2),
            *_conv_bn_relu(128, 192, 3, padding=1),
            *_conv_bn_relu(192, 192, 3, padding=1),
            *_conv_bn_relu(192, 128, 3, padding=1),
            nn.MaxPool2d(3, 2),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.cat([tower(x) for tower in self.towers], dim=1)
        return self.classifier(torch.flatten(x, 1))


def bn_alexnet(num_classes: int = 1000) -> nn.Module:
    """Two-tower AlexNet with BatchNorm: 60,541,992 params (60.542 M, BN affine included)."""
    return BNAlexNet(num_classes).eval()


# --------------------------------------------------------------------------
# BN-NIN (Network-in-Network with BatchNorm)
# --------------------------------------------------------------------------
def _nin_block(cin: int, cout: int, k: int, stride: int, padding: int) -> nn.Sequential:
    return nn.Sequential(
        *_conv_bn_relu(cin, cout, k, stride=stride, padding=padding),
        *_conv_bn_relu(cout, cout, 1),
        *_conv_bn_relu(cout, cout, 1),
    )


class BNNIN(nn.Module):
    """Network-in-Network with BatchNorm after every convolution."""

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.features = nn.Sequential(
            _nin_block(3, 96, 11, 4, 5),
            nn.MaxPool2d(3, 2, padding=1),
            _nin_block(96, 256, 5, 1, 2),
            nn.MaxPool2d(3, 2, padding=1),
            _nin_block(256, 384, 3, 1, 1),
            nn.MaxPool2d(3, 2, padding=1),
            _nin_block(384, 1024, 3, 1, 1),
            nn.AvgPool2d(7),
        )
        self.fc = nn.Linear(1024, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.features(x), 1))


def bn_nin(num_classes: int = 1000) -> nn.Module:
    """Network-in-Network with BatchNorm: 8,655,336 params (8.655 M; 8.645 M without BN affine)."""
    return BNNIN(num_classes).eval()


# --------------------------------------------------------------------------
# ENet V12 for ImageNet
# --------------------------------------------------------------------------
_ENET_BN_EPS = 1e-3


class ENetInitial(nn.Module):
    """concat[conv 3->13 3x3 s2 p1 ; 2x2 max-pool s2] -> BN -> PReLU (16 channels)."""

    def __init__(self, cin: int = 3, cout: int = 16) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout - cin, 3, stride=2, padding=1)
        self.pool = nn.MaxPool2d(2, 2)
        self.bn = nn.BatchNorm2d(cout, eps=_ENET_BN_EPS)
        self.prelu = nn.PReLU(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.prelu(self.bn(torch.cat([self.conv(x), self.pool(x)], dim=1)))


class ENetBottleneck(nn.Module):
    """ENet bottleneck: (s x s conv, 3x3 conv, 1x1 conv, spatial dropout) + shortcut, PReLU.

    The shortcut is the identity, or a 2x2 stride-2 max-pool when downsampling,
    zero-padded along channels up to ``cout``.
    """

    def __init__(self, cin: int, cout: int, downsample: bool = False, scale: int = 4,
                 dilation: int = 1, dropout: float = 0.1) -> None:
        super().__init__()
        internal = cout // scale
        s = 2 if downsample else 1
        self.pad_channels = cout - cin
        self.main = nn.Sequential(
            nn.Conv2d(cin, internal, s, stride=s, bias=False),
            nn.BatchNorm2d(internal, eps=_ENET_BN_EPS),
            nn.PReLU(internal),
            nn.Conv2d(internal, internal, 3, padding=dilation, dilation=dilation),
            nn.BatchNorm2d(internal, eps=_ENET_BN_EPS),
            nn.PReLU(internal),
            nn.Conv2d(internal, cout, 1, bias=False),
            nn.BatchNorm2d(cout, eps=_ENET_BN_EPS),
            nn.Dropout2d(dropout),
        )
        self.shortcut = nn.MaxPool2d(2, 2) if downsample else nn.Identity()
        self.prelu = nn.PReLU(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        main = self.main(x)
        short = self.shortcut(x)
        if self.pad_channels:  # fixed at construction, not data-dependent
            n, _, h, w = short.shape
            short = torch.cat([short, short.new_zeros(n, self.pad_channels, h, w)], dim=1)
        return self.prelu(main + short)


class ENet(nn.Module):
    """ENet V12 encoder adapted for ImageNet classification."""

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        B = ENetBottleneck
        self.initial = ENetInitial(3, 16)
        # The first five bottlenecks use spatial dropout 0.01, the rest 0.1.
        self.stage1 = nn.Sequential(
            B(16, 64, downsample=True, scale=1, dropout=0.01),
            B(64, 128, dropout=0.01),
            B(128, 128, dropout=0.01),
        )
        self.stage2 = nn.Sequential(
            B(128, 256, downsample=True, dropout=0.01),
            B(256, 256, dropout=0.01),
            B(256, 256, dilation=2),
        )
        self.stage3 = nn.Sequential(
            B(256, 512, downsample=True),
            B(512, 512),
            B(512, 512, dilation=4),
        )
        self.stage4 = nn.Sequential(
            B(512, 1024, downsample=True),
            B(1024, 1024),
            B(1024, 1024, dilation=8),
        )
        self.avgpool = nn.AvgPool2d(7)
        self.fc = nn.Linear(1024, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.initial(x)
        x = self.stage1(x)
        x = self.stage2(x)
        x = self.stage3(x)
        x = self.stage4(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))


def enet(num_classes: int = 1000) -> nn.Module:
    """ENet V12 for ImageNet (per-channel PReLU): 5,861,508 params (5.862 M)."""
    return ENet(num_classes).eval()


# --------------------------------------------------------------------------
# GoogLeNet (BVLC, original 5x5 third branch)
# --------------------------------------------------------------------------
def _conv_relu(cin: int, cout: int, k: int, stride: int = 1, padding: int = 0) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, k, stride=stride, padding=padding), nn.ReLU(inplace=True)]


class Inception(nn.Module):
    """Original inception block: 1x1 | 1x1 -> 3x3 | 1x1 -> 5x5 | 3x3 max-pool -> 1x1."""

    def __init__(self, cin: int, c1: int, c3r: int, c3: int, c5r: int, c5: int, pp: int) -> None:
        super().__init__()
        self.branch1 = nn.Sequential(*_conv_relu(cin, c1, 1))
        self.branch2 = nn.Sequential(*_conv_relu(cin, c3r, 1), *_conv_relu(c3r, c3, 3, padding=1))
        self.branch3 = nn.Sequential(*_conv_relu(cin, c5r, 1), *_conv_relu(c5r, c5, 5, padding=2))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, 1, padding=1), *_conv_relu(cin, pp, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class GoogLeNetBVLC(nn.Module):
    """BVLC GoogLeNet (Szegedy et al. 2014) without auxiliary heads."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.4) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            *_conv_relu(3, 64, 7, stride=2, padding=3),
            nn.MaxPool2d(3, 2, ceil_mode=True),
            _lrn(),
            *_conv_relu(64, 64, 1),
            *_conv_relu(64, 192, 3, padding=1),
            _lrn(),
            nn.MaxPool2d(3, 2, ceil_mode=True),
        )
        self.inception3a = Inception(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = Inception(256, 128, 128, 192, 32, 96, 64)
        self.pool3 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.inception4a = Inception(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = Inception(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = Inception(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = Inception(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = Inception(528, 256, 160, 320, 32, 128, 128)
        self.pool4 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.inception5a = Inception(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = Inception(832, 384, 192, 384, 48, 128, 128)
        self.avgpool = nn.AvgPool2d(7, stride=1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(1024, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        x = self.inception3b(self.inception3a(x))
        x = self.pool3(x)
        x = self.inception4a(x)
        x = self.inception4b(x)
        x = self.inception4c(x)
        x = self.inception4d(x)
        x = self.inception4e(x)
        x = self.pool4(x)
        x = self.inception5b(self.inception5a(x))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(self.dropout(x))


def googlenet_bvlc(num_classes: int = 1000) -> nn.Module:
    """Original BVLC GoogLeNet (5x5 third branch, LRN, no BN, no aux heads): 6,998,552 params (6.998 M)."""
    return GoogLeNetBVLC(num_classes).eval()


PAPER_ARCHS: dict[str, Callable[..., nn.Module]] = {
    "AlexNet": bvlc_alexnet,
    "BN-AlexNet": bn_alexnet,
    "BN-NIN": bn_nin,
    "ENet": enet,
    "GoogLeNet": googlenet_bvlc,
}
