"""The released ``mnas`` (edm/architecture.py) in torch: layer shapes, 'SAME' padding and scalings as released.

conv(c, k, s): z = conv(x, W) / (k sqrt(C_in)), W ~ N(0, 1), no bias; depthwise conv: z = conv(x, W) / k;
rho = sqrt(2) ReLU; readout (mean over space) z = (W x + b) / C with W, b ~ N(0, 1).
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from .nets import NormAct


def _same_pad(x: torch.Tensor, k: int, s: int) -> torch.Tensor:
    """TensorFlow/haiku 'SAME' padding (extra pixel at the bottom/right)."""
    pads = []
    for n in (x.shape[-1], x.shape[-2]):
        out = -(-n // s)
        total = max((out - 1) * s + k - n, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads)


class Conv(nn.Module):
    """Bias-free conv with 'SAME' padding; full: / (k sqrt(C_in)), depthwise (groups = C): / k."""

    def __init__(self, c_in: int, c_out: int, k: int, s: int, depthwise: bool, g: torch.Generator):
        super().__init__()
        self.k, self.s, self.groups = k, s, (c_in if depthwise else 1)
        self.weight = nn.Parameter(torch.randn(c_out, c_in // self.groups, k, k, generator=g))
        self.scale = 1 / k if depthwise else 1 / (k * math.sqrt(c_in))

    def forward(self, x):
        return F.conv2d(_same_pad(x, self.k, self.s), self.weight, stride=self.s, groups=self.groups) * self.scale


class InvertedResidual(nn.Module):
    """rho(1x1 to 3 C_in) -> rho(k x k depthwise, stride s) -> 1x1 to C_out; (x + r)/sqrt(2) when shapes match."""

    def __init__(self, c_in: int, c_out: int, k: int, s: int, g: torch.Generator):
        super().__init__()
        mid = round(c_in * 3.0)
        self.body = nn.Sequential(Conv(c_in, mid, 1, 1, False, g), NormAct("relu"), Conv(mid, mid, k, s, True, g),
                                  NormAct("relu"), Conv(mid, c_out, 1, 1, False, g))
        self.skip = s == 1 and c_in == c_out

    def forward(self, x):
        y = self.body(x)
        return (y + x) / math.sqrt(2) if self.skip else y


class Readout(nn.Module):
    """Global mean over space, then (W x + b) / C (released hk.Linear with bias, divided by the fan-in)."""

    def __init__(self, c: int, g: torch.Generator):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(1, c, generator=g))
        self.bias = nn.Parameter(torch.randn(1, generator=g))

    def forward(self, x):
        return (x.mean((2, 3)) @ self.weight.T + self.bias) / self.weight.shape[1]


def mnas(in_channels: int = 1, h: int = 64, seed: int = 0) -> nn.Sequential:
    """Released mnas(h): stem 4h (5x5, s2), depthwise 5x5, 2h, four inverted residuals (h, h, 3h, 3h), 20h head."""
    g = torch.Generator().manual_seed(int(seed))
    r = lambda v: max(1, round(v))  # noqa: E731
    return nn.Sequential(Conv(in_channels, r(4 * h), 5, 2, False, g), NormAct("relu"),
                         Conv(r(4 * h), r(4 * h), 5, 1, True, g), NormAct("relu"),
                         Conv(r(4 * h), r(2 * h), 1, 1, False, g), NormAct("relu"),
                         InvertedResidual(r(2 * h), r(h), 5, 2, g), InvertedResidual(r(h), r(h), 5, 1, g),
                         InvertedResidual(r(h), r(3 * h), 5, 2, g), InvertedResidual(r(3 * h), r(3 * h), 5, 1, g),
                         Conv(r(3 * h), r(20 * h), 1, 1, False, g), NormAct("relu"), Readout(r(20 * h), g))


def largest_activation(in_shape: tuple, h: int) -> int:
    """Floats of the largest activation of one image (sets the evaluation chunk's memory)."""
    c, H, W = in_shape
    s1 = (-(-H // 2)) * (-(-W // 2))
    s2 = (-(-H // 4)) * (-(-W // 4))
    s3 = (-(-H // 8)) * (-(-W // 8))
    return max(4 * h * s1, 6 * h * s1, 3 * h * s2, 9 * h * s2, 9 * h * s3, 20 * h * s3, c * H * W)
