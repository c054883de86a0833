"""Chapter 1 (Simsekli et al. 2019): the losses, and the tail index of the gradient noise G_b - mean_b G_b."""
from __future__ import annotations

import dataclasses

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...core import gradients
from ...core.estimators.tail import StreamingMohammadi, block_plan, tail_index

LOSSES = ("nll", "hinge")
HIST_SAMPLE = 1_000_000  # components kept (fixed random subsample) for the histogram of figure 1
STREAM_CHUNK = 4_000_000  # float32 components per streamed chunk (16 MB): the memory bound of a streamed pass


def nll_loss(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the softmax outputs, -mean_mu log softmax(f(x_mu))_{y_mu} (the paper's NLL)."""
    return F.cross_entropy(output, target)


def linear_hinge_loss(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """One-vs-all linear hinge, mean over samples and classes of max(0, 1 - t_mu,c f_c(x_mu)), t = ±1 one-hot."""
    classes = torch.arange(output.shape[-1], device=output.device)
    t = torch.where(classes == target.unsqueeze(-1), 1.0, -1.0).to(output.dtype)  # vmap-friendly one-hot
    return torch.relu(1.0 - t * output).mean()


LOSS_FNS = {"nll": nll_loss, "hinge": linear_hinge_loss}


@dataclasses.dataclass(frozen=True)
class NoiseMeasurement:
    """Tail index of the pooled gradient noise G_b - mean_b G_b over a fixed partition into batches."""

    alpha: float  # Mohammadi alpha-hat of all pooled components, K1 ~ sqrt(N) (the paper's number)
    stderr: float  # its approximate standard error
    k1: int  # the block size K1 of ``alpha``
    alpha_fixed: float  # the same estimator at the fixed block size ``k1_fixed`` (comparisons across nets)
    stderr_fixed: float  # its approximate standard error
    k1_fixed: int  # the fixed block size
    n_batches: int  # number of fixed batches
    n_params: int  # number of parameters M
    zero_fraction: float  # fraction of exactly-zero components
    alpha_nonzero: float  # alpha-hat (K1 ~ sqrt N') with the exact zeros dropped; nan when the noise was streamed
    variants: dict  # alpha-hat of the same noise pooled differently (only when the matrix fitted in memory)
    hist: dict  # histogram of a fixed random subsample of <= HIST_SAMPLE components (always present)


def histogram(v: torch.Tensor, bins: int = 80) -> dict:
    """Histogram of |components| on log-spaced bins (zeros excluded), with Gaussian/SaS fit statistics."""
    a = v.abs()
    nz = a[a > 0].double().cpu()
    med = nz.median().item()
    edges = np.geomspace(med * 1e-3, nz.max().item() * 1.0001, bins + 1)
    counts = torch.histogram(nz, bins=torch.as_tensor(edges)).hist.numpy()
    return {"edges": edges, "counts": counts, "std": v.double().std().item(), "median_abs": a.median().item(),
            "n": v.numel(), "zeros": v.numel() - nz.numel()}


def fixed_alpha(v: torch.Tensor, k1: int):
    """Mohammadi alpha-hat of ``v`` at block size ``k1`` (at the default K1 when v is too short for 4 blocks)."""
    return tail_index(v, k1=k1 if v.numel() >= 4 * k1 else None)


def pooling_variants(noise: torch.Tensor, k1: int = 1000, max_elements: int = 4_000_000, seed: int = 0) -> dict:
    """alpha-hat of one noise matrix [batches, M], every variant at the same block size ``k1``.

    Variants: as pooled; randomly permuted; column-standardised then permuted; exact zeros dropped; and, for
    reference, pooled at the paper's K1 ~ sqrt(N) and the Hill estimate of the largest sqrt(n) components.
    Permuted variants use a random subset of ``max_elements`` (a random subset of a permutation is a permutation).
    """
    gen = torch.Generator().manual_seed(seed)
    flat = noise.reshape(-1)
    take = lambda v: v[torch.randperm(v.numel(), generator=gen)[:max_elements].to(v.device)]  # noqa: E731
    out = {"pooled": fixed_alpha(flat, k1).alpha, "permuted": fixed_alpha(take(flat), k1).alpha,
           "pooled_sqrt_n": tail_index(flat).alpha, "hill_pooled": tail_index(take(flat), "hill").alpha, "k1": k1}
    std = noise.std(0)
    live = std > 0
    z = noise[:, live]  # one copy of the matrix at a time (memory: 2 x the noise matrix at most)
    z.sub_(z.mean(0, keepdim=True)).div_(std[live])
    out["standardised_permuted"] = fixed_alpha(take(z.reshape(-1)), k1).alpha
    del z
    nonzero = flat[flat != 0]
    out["nonzero_pooled"] = fixed_alpha(nonzero, k1).alpha if nonzero.numel() > 16 else None
    return out


def sample_indices(n: int, k: int, seed: int = 0) -> torch.Tensor:
    """Sorted distinct random indices into range(n): all of them when n <= k, else about k (memory O(k), not O(n))."""
    if n <= k:
        return torch.arange(n)
    return torch.randint(0, n, (k,), generator=torch.Generator().manual_seed(seed)).unique()


def measure_noise(model: nn.Module, loss_fn, x: torch.Tensor, y: torch.Tensor, batch_size: int,
                  max_elements: int = 80_000_000, details: bool = True, k1_fixed: int = 1000,
                  hist_sample: int = HIST_SAMPLE, seed: int = 0, nonzero: bool = True) -> NoiseMeasurement:
    """alpha-hat of the gradient noise G_b - (1/B) sum_b G_b over the fixed batches b of (x, y), pooled as the paper.

    One pass (all batch gradients at once, vmapped) when the B x M matrix fits in ``max_elements``; otherwise two
    passes: the full gradient, then the batch gradients in chunks of <= STREAM_CHUNK components streamed into the
    estimators, so the matrix is never held. The histogram comes from a fixed random subsample of
    ``hist_sample`` components in both cases; ``details`` (pooling variants) and ``nonzero`` (alpha-hat with the
    exact zeros dropped) need the one-pass case.
    """
    was_training = model.training
    model.eval()
    nb = len(x) // batch_size
    n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    n = nb * n_params
    k1_fixed = k1_fixed if n >= 4 * k1_fixed else block_plan(n)[1]
    acc, acc_fixed, zeros, variants = StreamingMohammadi(n), StreamingMohammadi(n, k1=k1_fixed), 0, {}
    alpha_nonzero = float("nan")
    pick = sample_indices(n, hist_sample, seed)
    kept = []
    if n <= max_elements:
        noise = gradients.batch_grads(model, loss_fn, x, y, batch_size)
        noise -= noise.mean(0, keepdim=True)
        chunks = [(0, noise)]
        if nonzero:  # alpha-hat without the exact zeros (hinge nets past 100 % train accuracy pile them up)
            kept_nz = noise.reshape(-1)[noise.reshape(-1) != 0]
            alpha_nonzero = tail_index(kept_nz).alpha if kept_nz.numel() > 16 else alpha_nonzero
            del kept_nz
        if details:
            variants = pooling_variants(noise, k1_fixed)
    else:
        used = nb * batch_size
        full = gradients.full_grad(model, loss_fn, x[:used], y[:used])
        rows = max(1, min(nb, min(max_elements, STREAM_CHUNK) // n_params))  # small chunks stream faster
        chunks = ((i, gradients.batch_grads(model, loss_fn, x[i * batch_size:min(i + rows, nb) * batch_size],
                                            y[i * batch_size:min(i + rows, nb) * batch_size], batch_size) - full)
                  for i in range(0, nb, rows))
    for i, noise in chunks:  # a generator when streamed: one chunk in memory at a time
        flat, start = noise.reshape(-1), i * n_params
        zeros += flat.numel() - torch.count_nonzero(flat).item()
        acc.update(flat)
        acc_fixed.update(flat)
        sel = pick[(pick >= start) & (pick < start + flat.numel())] - start
        kept.append(flat[sel.to(flat.device)].cpu())
    res, fixed = acc.result(), acc_fixed.result()
    model.train(was_training)
    return NoiseMeasurement(alpha=res.alpha, stderr=res.stderr, k1=res.k1, alpha_fixed=fixed.alpha,
                            stderr_fixed=fixed.stderr, k1_fixed=fixed.k1, n_batches=nb, n_params=n_params,
                            zero_fraction=zeros / n, alpha_nonzero=alpha_nonzero,
                            variants=variants,
                            hist=histogram(torch.cat(kept)) if hist_sample else {})
