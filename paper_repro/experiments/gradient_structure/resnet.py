"""ResNet18, CIFAR variant (He et al. 2016; 3x3 stem, no max-pool), with a scalable base width.

Layout as in the widely used CIFAR ResNet18 (kuangliu/pytorch-cifar): a 3x3 conv stem of ``width`` channels, four
stages of two BasicBlocks with ``width * (1, 2, 4, 8)`` channels (stride 1, 2, 2, 2), global average pooling and a
linear classifier. ``width=64`` is the standard 11.2 M-parameter network; smaller widths keep the same graph for tests.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ...core.config import check_positive


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers with an identity (or 1x1 conv-BN) shortcut: relu(bn(conv(relu(bn(conv x)))) + sc(x))."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet18(nn.Module):
    """CIFAR ResNet18: stem conv(3x3, width) -> 4 stages x 2 BasicBlocks -> global average pool -> linear."""

    def __init__(self, width: int = 64, in_channels: int = 3, n_classes: int = 10) -> None:
        super().__init__()
        check_positive("width", width, integer=True)
        self.conv1 = nn.Conv2d(in_channels, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        stages, c = [], width
        for i, mult in enumerate((1, 2, 4, 8)):
            c_out = width * mult
            stride = 1 if i == 0 else 2
            stages.append(nn.Sequential(BasicBlock(c, c_out, stride), BasicBlock(c_out, c_out, 1)))
            c = c_out
        self.layers = nn.Sequential(*stages)
        self.linear = nn.Linear(c, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.layers(F.relu(self.bn1(self.conv1(x))))
        return self.linear(torch.flatten(F.adaptive_avg_pool2d(out, 1), 1))


def resnet18(width: int = 64, in_channels: int = 3, n_classes: int = 10) -> ResNet18:
    """The CIFAR ResNet18 of base width ``width`` (64: the standard network)."""
    return ResNet18(width, in_channels, n_classes)
