"""Covariance spectra of per-sample gradients without the n x P matrix, and power-law fits within the resolved range.

The n x n Gram K = G G^T of n per-sample gradients G [n, P] is accumulated over blocks of parameters,
K = sum_b G_b G_b^T (exact), each block's G_b [n, P_b] bounded by a memory budget: P_b <= budget / (4 n). The covariance
C = G_c^T G_c / n (G_c: centred rows) has the same non-zero spectrum as H K H / n (H = I - 11^T / n).
A covariance estimated from n samples resolves only its top eigenvalues: we fit k <= n / 10 of them.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch.func import functional_call, grad, vmap

from ...core.data import batch_indices
from ...core.estimators.powerlaw import PowerLawResult, fit_power_law
from .config import SPEC_FRAC


def param_blocks(model: torch.nn.Module, n: int, max_bytes: int) -> list[list[tuple[str, int, int]]]:
    """Blocks of (parameter name, start, stop) slices of the flattened parameters, in order, each with at most
    max_bytes / (4 n) entries (a tensor larger than that is split into slices)."""
    cap = max(1, int(max_bytes) // (4 * n))
    blocks, cur, size = [], [], 0
    for name, p in model.named_parameters():
        numel = p.numel()
        if numel > cap:
            if cur:
                blocks, cur, size = blocks + [cur], [], 0
            blocks += [[(name, a, min(a + cap, numel))] for a in range(0, numel, cap)]
            continue
        if size + numel > cap:
            blocks, cur, size = blocks + [cur], [], 0
        cur.append((name, 0, numel))
        size += numel
    return blocks + [cur] if cur else blocks


def block_grads(model, x, y, block, chunk: int) -> torch.Tensor:
    """Per-sample cross-entropy gradients [n, sum of slice sizes] w.r.t. the slices of one block."""
    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}
    names = list(dict.fromkeys(name for name, _, _ in block))

    def loss(sub, xi, yi):
        out = functional_call(model, ({**params, **sub}, buffers), (xi.unsqueeze(0),))
        return F.cross_entropy(out, yi.unsqueeze(0))

    f = vmap(grad(loss), in_dims=(None, 0, 0))
    rows = []
    for i in range(0, len(x), chunk):
        g = f({k: params[k] for k in names}, x[i:i + chunk], y[i:i + chunk])
        rows.append(torch.cat([g[name].reshape(len(g[name]), -1)[:, a:b] for name, a, b in block], 1))
    return torch.cat(rows)


@dataclasses.dataclass(frozen=True)
class GramParts:
    """What one pass over the parameter blocks gives."""

    k: torch.Tensor | None  # uncentred Gram sum_b G_b G_b^T [n, n] (float32), None when not asked for
    var: torch.Tensor  # per-coordinate variance of the per-sample gradients over the n samples [P]
    coords: torch.Tensor  # per-sample gradients at the sorted coordinates asked for [n, len(coords)] (float64)


def gram_by_blocks(model, x, y, max_bytes: int, coords=None, with_gram: bool = True) -> GramParts:
    """Gram, per-coordinate variances and selected columns of the per-sample gradients, block by block (exact).

    Peak memory: one block, n x P_b x 4 <= max_bytes, plus the n x n Gram; sample chunks keep the vmap within it too.
    """
    n = len(x)
    p_total = sum(p.numel() for p in model.parameters())
    coords = torch.zeros(0, dtype=torch.long) if coords is None else torch.sort(torch.as_tensor(coords).cpu())[0]
    k = torch.zeros(n, n, dtype=torch.float32, device=x.device) if with_gram else None
    var, cols, offset = [], [], 0
    offsets = {}
    for name, p in model.named_parameters():
        offsets[name] = offset
        offset += p.numel()
    for block in param_blocks(model, n, max_bytes):
        width = sum(b - a for _, a, b in block)
        chunk = max(1, min(n, int(max_bytes) // (4 * p_total + 4 * width)))
        g = block_grads(model, x, y, block, chunk).float()
        if with_gram:
            k += g @ g.T
        var.append(g.double().var(0, unbiased=False))
        glob = torch.cat([torch.arange(offsets[name] + a, offsets[name] + b) for name, a, b in block])
        pick = torch.isin(glob, coords)
        if pick.any():
            cols.append(g[:, pick.to(g.device)].double())
    sub = torch.cat(cols, 1) if cols else torch.zeros(n, 0, dtype=torch.float64, device=x.device)
    assert offset == p_total and sub.shape[1] == len(coords)
    return GramParts(k=k, var=torch.cat(var), coords=sub)


SMALL_EIG = 6000  # CPU eigenproblems up to this size run on one thread (see few_threads)


@contextlib.contextmanager
def few_threads(t: torch.Tensor):
    """One torch thread for a small CPU eigenproblem: multithreaded LAPACK busy-waits on a loaded machine (n = 500:
    9 s on two contended threads against 0.02 s on one); large or GPU problems keep the thread count."""
    before = torch.get_num_threads()
    small = t.device.type == "cpu" and t.shape[-1] <= SMALL_EIG
    if small:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if small:
            torch.set_num_threads(before)


def centred_eigenvalues(k: torch.Tensor) -> np.ndarray:
    """Descending eigenvalues of the covariance of the rows behind the uncentred Gram k: eig(H k H / n), float32."""
    n = len(k)
    kd = k.double()
    kd = kd - kd.mean(0, keepdim=True) - kd.mean(1, keepdim=True) + kd.mean()
    with few_threads(kd):
        ev = torch.linalg.eigvalsh((kd / n).float())
    return ev.flip(0).clamp_min(0.0).double().cpu().numpy()


@dataclasses.dataclass(frozen=True)
class SpectrumFit:
    """lambda_k ~ k^-s fitted (s = 1 / (beta - 1)) on the top k_max <= n / 10 eigenvalues, and its k-sensitivity."""

    n: int  # samples behind the covariance
    k_max: int  # eigenvalues fitted: the resolved range k <= n * SPEC_FRAC
    fit: PowerLawResult  # fit on the top k_max eigenvalues
    ks: tuple  # k of the sensitivity scan (k_max / 4, k_max / 2, k_max), and beyond the resolved range
    s_by_k: tuple  # s fitted on the top k eigenvalues, for k in ks
    pass_by_k: tuple  # d_ks < d_c on the top k eigenvalues, for k in ks
    slope: float  # least-squares slope of log lambda_k on log k over k <= k_max (about -s)

    @property
    def s(self) -> float:
        """The fitted exponent on the resolved range."""
        return self.fit.s

    @property
    def s_spread(self) -> float:
        """max - min of s over the resolved k (k <= k_max) of the scan: the fit's sensitivity to k."""
        s = [v for k, v in zip(self.ks, self.s_by_k) if k <= self.k_max]
        return float(max(s) - min(s)) if s else float("nan")


def _fit_top(ev: np.ndarray, k: int) -> PowerLawResult:
    top = ev[:k]
    return fit_power_law(top, n_tail=int(np.sum(top > 0)))


def fit_resolved_spectrum(ev, n: int | None = None, frac: float = SPEC_FRAC) -> SpectrumFit:
    """Fit the top k_max = floor(frac n) eigenvalues, scan k at k_max/4, k_max/2, k_max and past it (up to n/2)."""
    ev = np.asarray(ev, dtype=np.float64)
    n = int(n or len(ev))
    k_max = max(4, int(math.floor(frac * n)))
    ks = sorted({max(4, k_max // 4), max(4, k_max // 2), k_max, *[k for k in (2 * k_max, 5 * k_max) if k <= n // 2]})
    ks = [k for k in ks if k <= len(ev) and np.sum(ev[:k] > 0) >= 2]
    pos = ev[:k_max] > 0
    if k_max not in ks or pos.sum() < 2:  # a (near) zero covariance: nothing to fit
        nan = float("nan")
        return SpectrumFit(n=n, k_max=k_max, fit=PowerLawResult(nan, nan, 0, int(np.sum(ev > 0)), nan, nan, 0.05),
                           ks=(), s_by_k=(), pass_by_k=(), slope=nan)
    fits = [_fit_top(ev, k) for k in ks]
    slope = float(np.polyfit(np.log(np.arange(1, k_max + 1)[pos]), np.log(ev[:k_max][pos]), 1)[0])
    return SpectrumFit(n=n, k_max=k_max, fit=fits[ks.index(k_max)], ks=tuple(ks), s_by_k=tuple(f.s for f in fits),
                       pass_by_k=tuple(f.passes for f in fits), slope=slope)


def selection(n: int, batch_size: int, n_batches: int, seed: int, dtype=torch.float64, device="cpu"):
    """Sparse [n_batches, n] matrix S with S[m, mu] = 1/B for the samples mu of seeded random minibatch m."""
    idx = batch_indices(n, batch_size, n_batches, seed=seed, device=device)
    rows = torch.arange(n_batches, device=device).repeat_interleave(batch_size)
    vals = torch.full((idx.numel(),), 1.0 / batch_size, dtype=dtype, device=device)
    return torch.sparse_coo_tensor(torch.stack([rows, idx.reshape(-1)]), vals, (n_batches, n),
                                   check_invariants=True).coalesce()


def minibatch_means(values: torch.Tensor, batch_size: int, n_batches: int, seed: int) -> torch.Tensor:
    """Means of ``values`` [n, K] over seeded random minibatches: the iteration-wise gradients [n_batches, K]."""
    return torch.sparse.mm(selection(len(values), batch_size, n_batches, seed, values.dtype, values.device), values)


def minibatch_spectrum(k: torch.Tensor, batch_size: int, n_batches: int, seed: int) -> torch.Tensor:
    """Eigenvalues of the covariance of minibatch gradients S G, via S K S^T with K = G G^T (Gram trick), centred."""
    sel = selection(len(k), batch_size, n_batches, seed, k.dtype, k.device).to_dense()
    a = sel @ k @ sel.T
    a = a - a.mean(0, keepdim=True) - a.mean(1, keepdim=True) + a.mean()  # H A H: centre the minibatch gradients
    with few_threads(a):
        return torch.linalg.eigvalsh(a / n_batches).flip(0).clamp_min(0.0)
