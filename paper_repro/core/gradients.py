"""Per-sample and per-batch gradients with torch.func (functional_call + grad + vmap), chunked, on the device."""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn
from torch.func import functional_call, grad, vmap

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def params_of(model: nn.Module) -> dict[str, torch.Tensor]:
    """Detached trainable parameters of ``model``, by name (the inputs of ``functional_call``)."""
    return {k: v.detach() for k, v in model.named_parameters() if v.requires_grad}


def flatten(grads: dict[str, torch.Tensor], batch_dims: int = 1) -> torch.Tensor:
    """Concatenate a dict of gradients into one tensor [*batch, P] (parameter order of the model)."""
    parts = [g.reshape(*g.shape[:batch_dims], -1) for g in grads.values()]
    return torch.cat(parts, dim=-1)


def _loss_of(model: nn.Module, loss_fn: LossFn) -> Callable:
    """Loss of a batch as a function of (params, x, y) for torch.func transforms."""
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def loss(params, x, y):
        return loss_fn(functional_call(model, (params, buffers), (x,)), y)

    return loss


def per_sample_grads(model: nn.Module, loss_fn: LossFn, x: torch.Tensor, y: torch.Tensor,
                     chunk_size: int | None = 256) -> torch.Tensor:
    """Gradients of each sample's loss, grad_theta l(x_mu, y_mu), as a matrix [N, P].

    ``loss_fn(output, target)`` is the usual batch-mean loss; it is called on batches of one sample.
    """
    loss = _loss_of(model, loss_fn)
    one = lambda p, xi, yi: loss(p, xi.unsqueeze(0), yi.unsqueeze(0))  # noqa: E731
    g = vmap(grad(one), in_dims=(None, 0, 0), chunk_size=chunk_size)(params_of(model), x, y)
    return flatten(g)


def batch_grads(model: nn.Module, loss_fn: LossFn, x: torch.Tensor, y: torch.Tensor, batch_size: int,
                chunk_size: int | None = None) -> torch.Tensor:
    """Mean gradient of each consecutive fixed batch of ``batch_size`` samples, [N // batch_size, P].

    Samples past the last full batch are dropped, as in the papers' fixed partitions.
    """
    nb = len(x) // batch_size
    if nb == 0:
        raise ValueError(f"batch_size={batch_size} is larger than the {len(x)} samples given")
    xb = x[: nb * batch_size].reshape(nb, batch_size, *x.shape[1:])
    yb = y[: nb * batch_size].reshape(nb, batch_size, *y.shape[1:])
    chunk_size = chunk_size or max(1, 8192 // batch_size)
    g = vmap(grad(_loss_of(model, loss_fn)), in_dims=(None, 0, 0), chunk_size=chunk_size)(params_of(model), xb, yb)
    return flatten(g)


def full_grad(model: nn.Module, loss_fn: LossFn, x: torch.Tensor, y: torch.Tensor,
              chunk: int = 8192) -> torch.Tensor:
    """Gradient of the mean loss over all of (x, y), grad L = (1/N) sum_mu grad l_mu, as a vector [P]."""
    loss, params = _loss_of(model, loss_fn), params_of(model)
    total = None
    for i in range(0, len(x), chunk):
        g = flatten(grad(loss)(params, x[i:i + chunk], y[i:i + chunk]), batch_dims=0)
        g = g * (len(x[i:i + chunk]) / len(x))
        total = g if total is None else total + g
    return total


def output_jacobian(model: nn.Module, x: torch.Tensor, chunk_size: int | None = 256) -> torch.Tensor:
    """Rows grad_theta f(x_mu) of a scalar-output model, [N, P] (the empirical NTK is J J^T)."""
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def f(params, xi):
        return functional_call(model, (params, buffers), (xi.unsqueeze(0),)).reshape(())

    return flatten(vmap(grad(f), in_dims=(None, 0), chunk_size=chunk_size)(params_of(model), x))


def gram(g: torch.Tensor, center: bool = False) -> torch.Tensor:
    """Gram matrix K = G G^T / n of the rows of G [n, P] (centred rows if ``center``)."""
    if center:
        g = g - g.mean(0, keepdim=True)
    return g @ g.T / g.shape[0]


def gram_eigenvalues(g: torch.Tensor, center: bool = False) -> torch.Tensor:
    """Descending eigenvalues of the covariance G^T G / n through the n x n Gram matrix (same non-zero spectrum)."""
    k = gram(g.double(), center=center)
    return torch.linalg.eigvalsh(k).flip(0).clamp_min(0.0)
