"""MnasNet-like CNN of Sclocchi et al. (2023) in NTK scaling (weights N(0,1), pre-activations / sqrt(fan_in))."""
from __future__ import annotations

import math

import torch
from torch import nn


class NTKConv(nn.Module):
    """Bias-free convolution z = conv(x, W) / sqrt(fan_in), W ~ N(0, 1); ``groups`` for depthwise convs."""

    def __init__(self, c_in, c_out, k, stride=1, groups=1, generator=None):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(c_out, c_in // groups, k, k, generator=generator))
        self.stride, self.groups, self.pad = stride, groups, k // 2
        self.scale = 1 / math.sqrt(c_in // groups * k * k)

    def forward(self, x):
        z = nn.functional.conv2d(x, self.weight, stride=self.stride, padding=self.pad, groups=self.groups)
        return z * self.scale


class InvertedResidual(nn.Module):
    """MnasNet block: 1x1 expand, 3x3 depthwise (stride s), 1x1 project; skip when shapes match."""

    def __init__(self, c_in, c_out, stride, expand, g):
        super().__init__()
        mid = c_in * expand
        self.body = nn.Sequential(NTKConv(c_in, mid, 1, generator=g), nn.ReLU(),
                                  NTKConv(mid, mid, 3, stride, groups=mid, generator=g), nn.ReLU(),
                                  NTKConv(mid, c_out, 1, generator=g))
        self.skip = stride == 1 and c_in == c_out

    def forward(self, x):
        y = self.body(x)
        return (x + y) / math.sqrt(2) if self.skip else y


class Readout(nn.Module):
    """Global average pooling then a scalar NTK-scaled linear readout."""

    def __init__(self, c, g):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(1, c, generator=g))

    def forward(self, x):
        return x.mean((2, 3)) @ self.weight.T / math.sqrt(self.weight.shape[1])


def mnasnet_like(in_channels: int = 1, width: int = 64, seed: int = 0, expand: int = 3) -> nn.Sequential:
    """Stem conv, four inverted-residual blocks (two of stride 2), pooled scalar readout."""
    g = torch.Generator().manual_seed(int(seed))
    w = width
    return nn.Sequential(NTKConv(in_channels, w // 2, 3, 2, generator=g), nn.ReLU(),
                         InvertedResidual(w // 2, w // 2, 1, 1, g), InvertedResidual(w // 2, w, 2, expand, g),
                         InvertedResidual(w, w, 1, expand, g), InvertedResidual(w, w, 2, expand, g),
                         Readout(w, g))
