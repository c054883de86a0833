"""The decoupling approximation on a real network (Mori et al. 2022, Sec. 5.1, Eq. 7, Fig. 1).

For MLPs (nn.Linear layers and element-wise activations only) grad_W f(x_mu) = delta_mu a_mu^T, so the empirical
NTK is K = sum_l (Delta_l Delta_l^T) * (A_l A_l^T [+ 1 with bias]) from one backward pass; other models fall back
to paper_repro.core.gradients (torch.func).
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np
import torch
from torch import nn

from ...core import gradients

ELEMENTWISE = (nn.Linear, nn.ReLU, nn.GELU, nn.Tanh, nn.Flatten, nn.Sequential, nn.Identity)


def is_plain_mlp(model: nn.Module) -> bool:
    """True when every module is Linear, Flatten or an element-wise activation (samples never interact)."""
    return all(isinstance(m, ELEMENTWISE) for m in model.modules())


def linear_factors(model: nn.Module, x: torch.Tensor, total: Callable[[torch.Tensor], torch.Tensor]):
    """(a_l, delta_l, has_bias) per nn.Linear: layer inputs and d total / d layer outputs (one backward pass)."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    ins, outs = [], []

    def hook(module, inputs, output):
        ins.append(inputs[0].detach())
        outs.append(output)

    hooks = [m.register_forward_hook(hook) for m in linears]
    try:
        value = total(model(x))
    finally:
        for h in hooks:
            h.remove()
    deltas = torch.autograd.grad(value, outs)
    return [(a, d.detach(), m.bias is not None) for a, d, m in zip(ins, deltas, linears)]


def ntk_gram(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Empirical NTK K_mn = grad f(x_m) . grad f(x_n) of a scalar-output model, [N, N] float64."""
    if not is_plain_mlp(model):
        jac = gradients.output_jacobian(model, x, chunk_size=256).double()
        return jac @ jac.T
    k = torch.zeros(len(x), len(x), dtype=torch.float64, device=x.device)
    for a, d, bias in linear_factors(model, x, lambda out: out.sum()):
        a, d = a.double(), d.double()
        k += (d @ d.T) * (a @ a.T + (1.0 if bias else 0.0))
    return k


def half_mse(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Batch mean of l_mu = (f(x_mu) - y_mu)^2 / 2 for a scalar-output model (Eq. 1)."""
    return 0.5 * (out.reshape(-1) - y.reshape(-1)).pow(2).mean()


@dataclasses.dataclass(frozen=True)
class DecouplingSpectrum:
    """Eigenvalues of the exact (1/N) sum l_mu grad f grad f^T and of the decoupled L (1/N) sum grad f grad f^T."""

    epoch: int
    loss: float  # L over the spectrum samples
    exact: np.ndarray  # descending eigenvalues
    decoupled: np.ndarray  # descending eigenvalues
    frobenius_error: float  # ||exact - decoupled||_F / ||exact||_F
    log_spectrum_distance: float  # mean |log10 lambda_exact_i - log10 lambda_dec_i| over the top eigenvalues
    top_ratio: float  # lambda_1(exact) / lambda_1(decoupled)
    log_distance_all: float = float("nan")  # the same mean over every eigenvalue above 1e-9 lambda_1
    ks: dict = dataclasses.field(default_factory=dict)  # split-half KS distances of log lambda (see ks_test)

    def plot(self, ax=None, bins: int = 40):
        """Histograms of log10 eigenvalues, exact vs decoupled (paper Fig. 1)."""
        import matplotlib.pyplot as plt

        ax = ax or plt.gca()
        floor = self.exact[0] * 1e-9
        for vals, label, kw in [(self.exact, "exact", dict(alpha=0.5)),
                                (self.decoupled, "decoupled", dict(histtype="step", lw=1.5))]:
            ax.hist(np.log10(vals[vals > floor]), bins=bins, label=label, **kw)
        ks = f", KS / null {self.ks['half'] / self.ks['null']:.1f}" if self.ks and self.ks["null"] > 0 else ""
        if self.ks:
            ax.axvline(np.log10(self.ks["floor_rel"] * self.exact[0]), color="0.4", ls=":", lw=1.2)
        ax.set(xlabel=r"$\log_{10}\lambda$", ylabel="count", yscale="log", title=f"epoch {self.epoch}{ks}")
        ax.legend()
        return ax


def _spec(k: torch.Tensor, w: torch.Tensor) -> np.ndarray:
    """Non-zero spectrum of (1/m) sum_mu w_mu grad f grad f^T from the Gram matrix: eig(sqrt(w) K sqrt(w) / m)."""
    s = w.sqrt()
    return torch.linalg.eigvalsh(s[:, None] * k * s[None, :] / len(w)).clamp_min(0).cpu().numpy()


def _ks(a: np.ndarray, b: np.ndarray, floor: float) -> float:
    """Two-sample Kolmogorov-Smirnov distance between the log eigenvalues above ``floor``."""
    from scipy import stats

    a, b = a[a > floor], b[b > floor]
    return float(stats.ks_2samp(np.log10(a), np.log10(b)).statistic) if len(a) and len(b) else float("nan")


def ks_test(k: torch.Tensor, ell: torch.Tensor, floor_rel: float = 1e-3, splits: int = 3, seed: int = 0,
            lam1: float | None = None) -> dict:
    """Whole-distribution comparison of log lambda above floor_rel * lambda_1 on random halves A, B of the samples:
    "half" = KS(exact_A, decoupled_A); "null" = KS(exact_A, exact_B), how far two independent halves of the same
    data lie apart; controls on the first split: "shuffled" = KS(exact_A with the losses permuted over samples, i.e.
    l and grad f uncorrelated as Eq. (7) assumes, decoupled_A) and "sorted" = the same with the largest losses
    given to the samples of largest ||grad f||^2 (maximal correlation)."""
    rng, n = np.random.default_rng(seed), len(ell)
    floor = floor_rel * (float(_spec(k, ell).max()) if lam1 is None else lam1)  # lam1: top exact eigenvalue
    half, null, ctrl = [], [], {}
    for i in range(splits):
        perm = torch.as_tensor(rng.permutation(n), device=k.device)
        a, b = perm[: n // 2], perm[n // 2: 2 * (n // 2)]
        ka, la = k[a][:, a], ell[a]
        dec = _spec(ka, torch.full_like(la, float(la.mean())))
        exact_a = _spec(ka, la)
        half.append(_ks(exact_a, dec, floor))
        null.append(_ks(exact_a, _spec(k[b][:, b], ell[b]), floor))
        if i == 0:
            shuffled = la[torch.as_tensor(rng.permutation(len(la)), device=k.device)]
            order = torch.argsort(torch.diagonal(ka))
            ranked = torch.empty_like(la)
            ranked[order] = torch.sort(la).values
            ctrl = dict(shuffled=_ks(_spec(ka, shuffled), dec, floor), sorted=_ks(_spec(ka, ranked), dec, floor))
    return dict(half=float(np.mean(half)), null=float(np.mean(null)), floor_rel=floor_rel, **ctrl)


def decoupling_spectrum(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epoch: int = 0,
                        top: int = 100, floor_rel: float = 1e-3, splits: int = 3) -> DecouplingSpectrum:
    """Both spectra through N x N Gram matrices: sqrt(l) K sqrt(l) / N (exact) and L K / N (decoupled)."""
    k = ntk_gram(model, x)
    with torch.no_grad():
        ell = 0.5 * (model(x).reshape(-1) - y.reshape(-1)).double().pow(2)
    n, loss = len(x), float(ell.mean())
    s = ell.sqrt()
    exact = torch.linalg.eigvalsh(s[:, None] * k * s[None, :] / n).flip(0).clamp_min(0).cpu().numpy()
    dec = (loss * torch.linalg.eigvalsh(k / n).flip(0).clamp_min(0)).cpu().numpy()
    m, k2 = ell - loss, k * k
    err = float((m @ k2 @ m).clamp_min(0).sqrt() / (ell @ k2 @ ell).sqrt())
    rank = min(int((exact > exact[0] * 1e-9).sum()), int((dec > dec[0] * 1e-9).sum()))
    gap = np.abs(np.log10(exact[:rank]) - np.log10(dec[:rank]))
    ks = ks_test(k, ell, floor_rel, splits, lam1=float(exact[0])) if n >= 8 else {}
    return DecouplingSpectrum(epoch, loss, exact, dec, err, float(gap[:top].mean()), float(exact[0] / dec[0]),
                              float(gap.mean()), ks)


def run_decoupling(n_train: int, widths: tuple, lr: float, batch_size: int, epochs: tuple, n_spectrum: int,
                   seed: int = 0, device="cpu", floor_rel: float = 1e-3) -> list[DecouplingSpectrum]:
    """Train 784-widths-1 (ReLU, Glorot) with SGD on Eq. (1), MNIST parity labels; spectra at each epoch."""
    from ...core.data import load_dataset
    from ...core.models import mlp
    from ...core.train import sgd_train

    data = load_dataset("mnist", device=device).first(n_train).binary("parity").flatten()
    x, y = data.x, data.y
    torch.manual_seed(seed)
    model = mlp(x.shape[1], list(widths), 1, bias=True, init="glorot").to(device)
    out, done, per_epoch = [], 0, len(x) // batch_size
    for e in sorted(epochs):
        if e > done:
            res = sgd_train(model, half_mse, x, y, lr, batch_size, (e - done) * per_epoch, seed=seed + e,
                            batch_mode="epoch")
            if res.diverged:
                break
            done = e
        out.append(decoupling_spectrum(model, x[:n_spectrum], y[:n_spectrum], epoch=e, floor_rel=floor_rel))
    return out
