"""The released nets of Sclocchi et al. (2023) (``edm/architecture.py``): rho(W x / sqrt(fan_in)) layers, W h / h readout.

rho = phi / sqrt(E_{z~N(0,1)} phi(z)^2) (so sqrt(2) ReLU); :mod:`.ensemble` trains stacks of them, :mod:`.ensemble_mlp`
steps the ``mlp`` by hand-written backprop, :mod:`.mnas` builds the convolutional net from the same layers.
"""
from __future__ import annotations

import functools
import math

import numpy as np
import torch
from torch import nn


class ScaledLinear(nn.Module):
    """Linear layer z = x W^T * scale, W_ij ~ N(0, 1); bias N(0, 1) (scaled alike) when ``bias``."""

    def __init__(self, fan_in: int, fan_out: int, scale: float, generator: torch.Generator | None = None,
                 bias: bool = False):
        super().__init__()
        self.scale = float(scale)
        self.weight = nn.Parameter(torch.randn(fan_out, fan_in, generator=generator))
        self.bias = nn.Parameter(torch.randn(fan_out, generator=generator)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = x @ self.weight.T
        return (z if self.bias is None else z + self.bias) * self.scale



ACTS = {"relu": lambda: nn.ReLU(), "gelu": lambda: nn.GELU(approximate="tanh"), "tanh": lambda: nn.Tanh()}


@functools.lru_cache(maxsize=None)
def _gauss_rms(name: str) -> float:
    """sqrt(E_{z~N(0,1)} phi(z)^2) by Gauss-Hermite quadrature (the released code uses 10^6 samples)."""
    z, wts = np.polynomial.hermite_e.hermegauss(200)
    v = ACTS[name]()(torch.tensor(z, dtype=torch.float64)).numpy()
    return float(np.sqrt((wts * v ** 2).sum() / wts.sum()))


class NormAct(nn.Module):
    """rho(z) = phi(z) / sqrt(E phi(N(0,1))^2): sqrt(2) ReLU; jax.nn.gelu's default tanh form for GELU."""

    def __init__(self, name: str):
        super().__init__()
        if name not in ACTS:
            raise ValueError(f"activation={name!r}; choose one of {sorted(ACTS)}")
        self.phi = ACTS[name]()
        self.c = math.sqrt(2.0) if name == "relu" else 1 / _gauss_rms(name)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.phi(x) * self.c


def mlp(in_dim: int, width: int = 128, depth: int = 5, activation: str = "relu", seed: int = 0) -> nn.Sequential:
    """Released ``mlp``: depth hidden layers rho(W x / sqrt(fan_in)), no biases, readout W h / h (scalar)."""
    g = torch.Generator().manual_seed(int(seed))
    dims = [in_dim] + [width] * depth
    layers: list[nn.Module] = [nn.Flatten()]
    for a, b in zip(dims[:-1], dims[1:]):
        layers += [ScaledLinear(a, b, 1 / math.sqrt(a), g), NormAct(activation)]
    layers.append(ScaledLinear(dims[-1], 1, 1 / dims[-1], g))
    return nn.Sequential(*layers)


def linear(in_dim: int, seed: int = 0) -> nn.Sequential:
    """Released ``linear_model``: F = w . x / sqrt(d), w ~ N(0, 1)."""
    g = torch.Generator().manual_seed(int(seed))
    return nn.Sequential(nn.Flatten(), ScaledLinear(in_dim, 1, 1 / math.sqrt(in_dim), g))
