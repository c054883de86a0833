"""Hand-written batched backpropagation for stacks of the released ``mlp`` (no vmap, gradients never stored).

For k members with weights W_l [k, out, in], the hinge SGD step of :mod:`.ensemble` is, per member,
z_l = s_l h_{l-1} W_l^T, h_l = c phi(z_l), F = s_out h_L W_out^T, m = 1 - alpha y (F - F0),
loss = <relu(m)>_B / alpha, dloss/dF = -y [m > 0] / B, and each W_l <- W_l - dt (dloss/dz_l)^T h_{l-1} s_l,
applied as one fused ``baddbmm_`` per layer. It equals ``vmap(grad(...))`` to float rounding
(``tests/test_ensemble.py``); ``benchmarks/bench_sgd_regimes.py --step`` prints the ratio of their step times.
"""
from __future__ import annotations

import torch
from torch import nn

from .nets import NormAct, ScaledLinear


def mlp_layers(base: nn.Module) -> list | None:
    """[(param name, scale, activation or None)] when ``base`` is the released mlp (Flatten, Linear/act..., Linear)."""
    mods = list(base.children()) if isinstance(base, nn.Sequential) else []
    if len(mods) < 2 or not isinstance(mods[0], nn.Flatten) or not isinstance(mods[-1], ScaledLinear):
        return None
    layers, body = [], mods[1:]
    for i, m in enumerate(body):
        if isinstance(m, ScaledLinear):
            if m.bias is not None:
                return None
            act = body[i + 1] if i + 1 < len(body) else None
            if act is not None and not isinstance(act, NormAct):
                return None
            layers.append((f"{i + 1}.weight", m.scale, act))
        elif not isinstance(m, NormAct):
            return None
    return layers


def _act(act: NormAct, z: torch.Tensor) -> torch.Tensor:
    return act.phi(z) * act.c


def _act_backward(act: NormAct, g: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """g * d(c phi(z))/dz for ReLU, tanh-GELU and tanh (the derivatives autograd uses)."""
    g = g * act.c
    if isinstance(act.phi, nn.ReLU):
        return g * (z > 0)
    if isinstance(act.phi, nn.GELU):
        return torch.ops.aten.gelu_backward(g, z, approximate=act.phi.approximate)
    return g * (1 - torch.tanh(z) ** 2)


def forward(params: dict, layers: list, x: torch.Tensor) -> torch.Tensor:
    """F(w_k, x) for every member and point: x [n, ...] shared by the members -> [k, n]."""
    h = x.flatten(1)
    for name, scale, act in layers:
        z = torch.matmul(h, params[name].transpose(1, 2)) * scale
        h = _act(act, z) if act is not None else z
    return h[..., 0]


def sgd_step(params: dict, layers: list, xb, yb, f0b, alpha, lr) -> torch.Tensor:
    """One hinge SGD step for every member in place (xb [k, B, d], yb/f0b [k, B], alpha/lr [k]); returns losses."""
    hs, zs, h = [], [], xb
    for name, scale, act in layers:
        hs.append(h)
        z = torch.bmm(h, params[name].transpose(1, 2)) * scale
        zs.append(z)
        h = _act(act, z) if act is not None else z
    m = 1 - alpha[:, None] * yb * (h[..., 0] - f0b)
    loss = torch.relu(m).mean(1) / alpha
    d = ((m > 0) * yb * (-1.0 / xb.shape[1])).unsqueeze(-1)  # dloss/dF [k, B, 1]
    for i in range(len(layers) - 1, -1, -1):
        name, scale, act = layers[i]
        if act is not None:
            d = _act_backward(act, d, zs[i])
        d = d * scale                                 # dloss/d(h W^T) [k, B, out]
        w = params[name]
        d_prev = torch.bmm(d, w) if i else None       # before w changes
        w.baddbmm_(d.transpose(1, 2) * (-lr)[:, None, None], hs[i])
        d = d_prev
    return loss
