"""Symmetric alpha-stable (SaS) noise in torch, on any device (Chambers-Mallows-Stuck sampler)."""
from __future__ import annotations

import math

import torch

from ...core.config import check_positive, check_range


def sample_sas(alpha: float, size, scale: float = 1.0, generator: torch.Generator | None = None,
               device=None, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Samples of SaS(alpha, scale), characteristic function exp(-|scale * t|^alpha) (Chambers et al. 1976).

    With U ~ Unif(-pi/2, pi/2), W ~ Exp(1):  X = sin(alpha U) / cos(U)^(1/alpha) * (cos((1-alpha) U) / W)^((1-alpha)/alpha),
    and X = tan(U) for alpha = 1. alpha = 2 gives N(0, 2 scale^2). Matches scipy.stats.levy_stable(alpha, 0).
    """
    check_range("alpha", alpha, 1e-3, 2.0)
    check_positive("scale", scale)
    size = (size,) if isinstance(size, int) else tuple(size)
    if generator is not None:
        device = generator.device if device is None else device
    work = torch.float64
    kw = dict(generator=generator, device=device, dtype=work)
    u = (torch.rand(size, **kw) - 0.5) * math.pi
    w = -torch.log1p(-torch.rand(size, **kw))  # Exp(1); log1p(-r) avoids log(0)
    if abs(alpha - 1.0) < 1e-12:
        x = torch.tan(u)
    else:
        x = (torch.sin(alpha * u) / torch.cos(u).pow(1.0 / alpha)
             * (torch.cos((1.0 - alpha) * u) / w).pow((1.0 - alpha) / alpha))
    return (scale * x).to(dtype)


def sas_levy_constant(alpha: float) -> float:
    """c_alpha of the SaS(alpha, 1) Levy measure nu(dy) = c_alpha |y|^(-1-alpha) dy: Gamma(1+alpha) sin(pi alpha/2)/pi."""
    return math.gamma(1.0 + alpha) * math.sin(math.pi * alpha / 2.0) / math.pi
