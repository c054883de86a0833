"""Neural-network side of Mori et al. (2022): the decoupling check (Fig. 1) and noise strength vs loss (Fig. 2).

For MLPs (nn.Linear layers and element-wise activations only) per-sample quantities factor layer by layer:
grad_W f(x_mu) = delta_mu a_mu^T, so the empirical NTK is K = sum_l (Delta_l Delta_l^T) * (A_l A_l^T [+ 1 with bias])
and ||grad l_mu||^2 = sum_l ||delta_mu||^2 (||a_mu||^2 [+ 1]) -- one backward pass instead of N. Other models
fall back to paper_repro.gradients (torch.func, chunked).
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import gradients

ELEMENTWISE = (nn.Linear, nn.ReLU, nn.GELU, nn.Tanh, nn.Flatten, nn.Sequential, nn.Identity)


def is_plain_mlp(model: nn.Module) -> bool:
    """True when every module is Linear, Flatten or an element-wise activation (samples never interact)."""
    return all(isinstance(m, ELEMENTWISE) for m in model.modules())


def _linear_factors(model: nn.Module, x: torch.Tensor, total: Callable[[torch.Tensor], torch.Tensor]):
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


def ntk_gram(model: nn.Module, x: torch.Tensor, chunk_size: int = 2048) -> torch.Tensor:
    """Empirical NTK K_mn = grad f(x_m) . grad f(x_n) of a scalar-output model, [N, N] float64.

    Plain MLPs use the layer factorisation; any other model goes through gradients.output_jacobian.
    """
    if not is_plain_mlp(model):
        jac = gradients.output_jacobian(model, x, chunk_size=min(chunk_size, 256)).double()
        return jac @ jac.T
    facs = _linear_factors(model, x, lambda out: out.sum())
    k = torch.zeros(len(x), len(x), dtype=torch.float64, device=x.device)
    for a, d, bias in facs:
        a, d = a.double(), d.double()
        k += (d @ d.T) * (a @ a.T + (1.0 if bias else 0.0))
    return k


def per_sample_sq_norms_and_mean(model: nn.Module, loss_fn: Callable, x: torch.Tensor, y: torch.Tensor,
                                 chunk_size: int = 1024) -> tuple[torch.Tensor, torch.Tensor]:
    """(sum_mu ||grad l_mu||^2, sum_mu grad l_mu as a flat vector) over (x, y); loss_fn is the batch-mean loss."""
    sq, total = torch.zeros((), dtype=torch.float64, device=x.device), None
    for i in range(0, len(x), chunk_size):
        xb, yb = x[i:i + chunk_size], y[i:i + chunk_size]
        if is_plain_mlp(model):
            facs = _linear_factors(model, xb, lambda out: loss_fn(out, yb) * len(xb))
            parts = []
            for a, d, bias in facs:
                a, d = a.double(), d.double()
                sq += ((d * d).sum(1) * ((a * a).sum(1) + (1.0 if bias else 0.0))).sum()
                parts += [(d.T @ a).reshape(-1)] + ([d.sum(0)] if bias else [])
            g = torch.cat(parts)
        else:
            per = gradients.per_sample_grads(model, loss_fn, xb, yb, chunk_size=64).double()
            sq += (per * per).sum()
            g = per.sum(0)
        total = g if total is None else total + g
    return sq, total


def noise_strength(model: nn.Module, loss_fn: Callable, x: torch.Tensor, y: torch.Tensor,
                   chunk_size: int = 1024) -> float:
    """SGD noise strength N = (1/N) sum_mu ||grad l_mu||^2 - ||grad L||^2 (= B tr Sigma; Mori et al. Fig. 2)."""
    sq, total = per_sample_sq_norms_and_mean(model, loss_fn, x, y, chunk_size)
    n = len(x)
    return float(sq / n - (total / n).pow(2).sum())


def half_mse(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Batch mean of l_mu = (f(x_mu) - y_mu)^2 / 2 for a scalar-output model (the paper's loss in Sec. 2)."""
    return 0.5 * (out.reshape(-1) - y.reshape(-1)).pow(2).mean()


def mse(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """torch's MSELoss: mean over samples and outputs."""
    return F.mse_loss(out, y)


def half_sq(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Batch mean of l_mu = ||f(x_mu) - y_mu||^2 / 2 (sum over outputs; the paper's MSE with one-hot targets)."""
    return 0.5 * (out - y).pow(2).sum(1).mean()


@dataclasses.dataclass(frozen=True)
class DecouplingSpectrum:
    """Eigenvalues of the exact (1/N) sum l_mu grad f grad f^T and of the decoupled L (1/N) sum grad f grad f^T."""

    epoch: int
    loss: float  # L over the spectrum samples
    exact: np.ndarray  # descending eigenvalues
    decoupled: np.ndarray  # descending eigenvalues
    frobenius_error: float  # ||exact - decoupled||_F / ||exact||_F
    log_spectrum_distance: float  # mean |log10 lambda_exact_i - log10 lambda_dec_i| over the top `top` eigenvalues
    top_ratio: float  # lambda_1(exact) / lambda_1(decoupled)
    log_distance_all: float = float("nan")  # the same mean over every eigenvalue above 1e-9 lambda_1 (bulk included)

    def plot(self, ax=None, bins: int = 40):
        """Histograms of log10 eigenvalues, exact vs decoupled (paper Fig. 1)."""
        import matplotlib.pyplot as plt

        ax = ax or plt.gca()
        floor = self.exact[0] * 1e-9
        for vals, label, kw in [(self.exact, "exact", dict(alpha=0.5)),
                                (self.decoupled, "decoupled", dict(histtype="step", lw=1.5))]:
            v = vals[vals > floor]
            ax.hist(np.log10(v), bins=bins, label=label, **kw)
        ax.set(xlabel="log10 eigenvalue", ylabel="count", yscale="log", title=f"epoch {self.epoch}")
        ax.legend()
        return ax


def decoupling_spectrum(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epoch: int = 0,
                        top: int = 100) -> DecouplingSpectrum:
    """Both spectra through N x N Gram matrices: sqrt(l) K sqrt(l) / N (exact) and L K / N (decoupled)."""
    k = ntk_gram(model, x)
    with torch.no_grad():
        ell = 0.5 * (model(x).reshape(-1) - y.reshape(-1)).double().pow(2)
    n, loss = len(x), float(ell.mean())
    s = ell.sqrt()
    exact = torch.linalg.eigvalsh(s[:, None] * k * s[None, :] / n).flip(0).clamp_min(0).cpu().numpy()
    dec = (loss * torch.linalg.eigvalsh(k / n).flip(0).clamp_min(0)).cpu().numpy()
    m = ell - loss
    k2 = k * k
    err = float((m @ k2 @ m).clamp_min(0).sqrt() / (ell @ k2 @ ell).sqrt())
    rank = min(int((exact > exact[0] * 1e-9).sum()), int((dec > dec[0] * 1e-9).sum()))
    gap = np.abs(np.log10(exact[:rank]) - np.log10(dec[:rank]))
    return DecouplingSpectrum(epoch, loss, exact, dec, err, float(gap[:top].mean()), float(exact[0] / dec[0]),
                              float(gap.mean()))


@dataclasses.dataclass(frozen=True)
class NoiseVsLoss:
    """Training loss L and noise strength N recorded every epoch, with the late-training log-log slope."""

    label: str
    epochs: np.ndarray
    loss: np.ndarray
    noise: np.ndarray
    slope: float  # fitted d log N / d log L over the late epochs
    late_from: int  # first epoch used in the fit
    diverged: bool
    slope_all: float = float("nan")  # the same fit over every epoch >= 1

    def plot(self, axes=None):
        """Left: L and c N against epoch; right: N against L on log-log axes with the fitted slope."""
        import matplotlib.pyplot as plt

        if axes is None:
            _, axes = plt.subplots(1, 2, figsize=(8.4, 3.2), layout="constrained")
        ok = (self.loss > 0) & (self.noise > 0)
        late = self.epochs >= self.late_from
        c = np.median(self.loss[ok & late] / self.noise[ok & late])
        axes[0].semilogy(self.epochs, self.loss, "o-", ms=3, label="training loss L")
        axes[0].semilogy(self.epochs, c * self.noise, "s--", ms=3, label=f"c N  (c = {c:.2g})")
        axes[0].set(xlabel="epoch", title=self.label)
        axes[0].legend()
        axes[1].loglog(self.loss[ok], self.noise[ok], "o", ms=3, color="0.6", label="all epochs")
        axes[1].loglog(self.loss[late & ok], self.noise[late & ok], "o", ms=4, label="late (fit)")
        lx = np.log(self.loss[late & ok])
        b = np.mean(np.log(self.noise[late & ok]) - self.slope * lx)
        xs = np.exp(np.array([lx.min(), lx.max()]))
        axes[1].loglog(xs, np.exp(b) * xs ** self.slope, "k--", label=f"slope {self.slope:.2f} (paper ~1)")
        axes[1].set(xlabel="training loss L", ylabel="noise strength N")
        axes[1].xaxis.set_minor_formatter(plt.NullFormatter())
        axes[1].legend()
        return axes


def _flat_binary_mnist(n: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    """First n MNIST training images as vectors in [0, 1], labels even +1 / odd -1 (paper Fig. 1)."""
    from ..data import load_dataset

    data = load_dataset("mnist", device=device).first(n).binary("parity").flatten()
    return data.x, data.y


def run_decoupling(n_train: int, widths: tuple, lr: float, batch_size: int, epochs: tuple, n_spectrum: int,
                   seed: int = 0, device="cpu", progress: bool = False) -> list[DecouplingSpectrum]:
    """Train the MLP 784-widths-1 (ReLU, Glorot) with SGD on half-MSE; spectra at each epoch in `epochs`."""
    from ..models import mlp
    from ..train import sgd_train

    x, y = _flat_binary_mnist(n_train, device)
    torch.manual_seed(seed)
    model = mlp(x.shape[1], list(widths), 1, bias=True, init="glorot").to(device)
    xs, ys = x[:n_spectrum], y[:n_spectrum]
    out, done, per_epoch = [], 0, len(x) // batch_size
    for e in sorted(epochs):
        if e > done:
            res = sgd_train(model, half_mse, x, y, lr, batch_size, (e - done) * per_epoch, seed=seed + e,
                            progress=progress, batch_mode="epoch")
            if res.diverged:
                break
            done = e
        out.append(decoupling_spectrum(model, xs, ys, epoch=e))
    return out


@torch.no_grad()
def full_loss(model: nn.Module, loss_fn: Callable, x: torch.Tensor, y: torch.Tensor, chunk: int = 4096) -> float:
    """L = (1/N) sum_mu l_mu evaluated in chunks."""
    return float(sum(loss_fn(model(x[i:i + chunk]), y[i:i + chunk]) * len(x[i:i + chunk])
                     for i in range(0, len(x), chunk)) / len(x))


def noise_model(arch: str, widths: tuple, in_shape: tuple, init: str = "kaiming") -> nn.Module:
    """FC net (ReLU, biases, `init` of models.mlp) or the VGG-like CNN of the paper, 10 outputs."""
    from ..models import mlp, vgg_small

    if arch == "fc":
        return mlp(int(np.prod(in_shape)), list(widths), 10, bias=True, init=init)
    return vgg_small(tuple(widths), n_classes=10, in_channels=in_shape[0], image_size=in_shape[-1])


def run_noise_vs_loss(dataset: str, arch: str, widths: tuple, n_train: int, lr: float, batch_size: int,
                      epochs: int, seed: int = 0, device="cpu", late_fraction: float = 0.5,
                      progress: bool = False, loss: str = "mse",
                      standardize: bool = False, init: str = "kaiming") -> NoiseVsLoss:
    """SGD on MSE with one-hot targets; every epoch record L and N over the training set (paper Fig. 2)."""
    from ..data import load_dataset
    from ..train import sgd_train

    data = load_dataset(dataset, device=device)
    data = data.first(min(n_train, len(data)))
    data = data.standardize() if standardize else data
    x, y = data.x, F.one_hot(data.y, data.classes).float()
    torch.manual_seed(seed)
    model = noise_model(arch, widths, tuple(x.shape[1:]), init).to(device)
    per_epoch = len(x) // batch_size
    loss_fn = {"mse": mse, "half_sq": half_sq}[loss]
    record = lambda step, m: (step // per_epoch, full_loss(m, loss_fn, x, y), noise_strength(m, loss_fn, x, y))  # noqa
    res = sgd_train(model, loss_fn, x, y, lr, batch_size, epochs * per_epoch, seed=seed, callback=record,
                    every=per_epoch, progress=progress, batch_mode="epoch")
    ep, loss, noise = (np.array(v, float) for v in zip(*res.records))
    late_from = max(1, int(round(late_fraction * ep.max())))
    good = (loss > 0) & (noise > 0) & np.isfinite(loss) & np.isfinite(noise)

    def fit(mask):
        return float(np.polyfit(np.log(loss[mask]), np.log(noise[mask]), 1)[0]) if mask.sum() >= 2 else float("nan")

    return NoiseVsLoss(f"{arch.upper()} {widths} on {dataset} (N={len(x)})", ep.astype(int), loss, noise,
                       fit(good & (ep >= late_from)), late_from, res.diverged, fit(good & (ep >= 1)))
