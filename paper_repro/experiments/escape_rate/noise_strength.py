"""Noise strength vs loss (Mori et al. 2022, Sec. 5.2, Eq. 24, Fig. 2) on the paper's loss, init and SGD.

N = (1/N) sum_mu ||grad l_mu||^2 - ||grad L||^2 with l_mu = ||f(x_mu) - y_mu||^2 / 2 (one-hot y), computed exactly
from per-sample gradients. For MLPs they factor layer by layer, grad_W l_mu = delta_mu a_mu^T, so
||grad l_mu||^2 = sum_l ||delta_mu||^2 (||a_mu||^2 + 1) from one backward pass; other models use torch.func in
float32 chunks whose size keeps the per-sample gradients under a stated memory bound.
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np
import torch
from torch import nn

from ...core import gradients
from .decoupling import is_plain_mlp, linear_factors


def half_sq(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Batch mean of l_mu = ||f(x_mu) - y_mu||^2 / 2 (sum over outputs): the paper's loss, Eq. (1)."""
    return 0.5 * (out - y).pow(2).reshape(len(out), -1).sum(1).mean()


def cnn_chunk(params: int, mem_bytes: int) -> int:
    """Samples per chunk so that float32 per-sample gradients and their squares (8 P bytes each) fit mem_bytes."""
    return max(1, int(mem_bytes // (8 * params)))


def per_sample_sums(model: nn.Module, loss_fn: Callable, x: torch.Tensor, y: torch.Tensor,
                    chunk_size: int = 1024) -> tuple[torch.Tensor, torch.Tensor]:
    """(sum_mu ||grad l_mu||^2, sum_mu grad l_mu as a flat float64 vector); loss_fn is the batch-mean loss."""
    sq, total = torch.zeros((), dtype=torch.float64, device=x.device), None
    for i in range(0, len(x), chunk_size):
        xb, yb = x[i:i + chunk_size], y[i:i + chunk_size]
        if is_plain_mlp(model):
            parts = []
            for a, d, bias in linear_factors(model, xb, lambda out: loss_fn(out, yb) * len(xb)):
                a, d = a.double(), d.double()
                sq += ((d * d).sum(1) * ((a * a).sum(1) + (1.0 if bias else 0.0))).sum()
                parts += [(d.T @ a).reshape(-1)] + ([d.sum(0)] if bias else [])
            g = torch.cat(parts)
        else:
            per = gradients.per_sample_grads(model, loss_fn, xb, yb, chunk_size=None)  # float32 [chunk, P]
            sq += (per * per).sum(1).double().sum()
            g = per.double().sum(0)
        total = g if total is None else total + g
    return sq, total


def noise_strength(model: nn.Module, loss_fn: Callable, x: torch.Tensor, y: torch.Tensor,
                   chunk_size: int = 1024) -> float:
    """SGD noise strength N = (1/N) sum_mu ||grad l_mu||^2 - ||grad L||^2 (Eq. 24; B tr Sigma for B << N)."""
    sq, total = per_sample_sums(model, loss_fn, x, y, chunk_size)
    return float(sq / len(x) - (total / len(x)).pow(2).sum())


def loglog_fit(loss: np.ndarray, noise: np.ndarray) -> tuple[float, float]:
    """Least-squares slope of log N against log L and its standard error (NaN with fewer than 3 points)."""
    lx, ly = np.log(loss), np.log(noise)
    if len(lx) < 3 or np.ptp(lx) == 0:
        return float("nan"), float("nan")
    (slope, icpt), cov = np.polyfit(lx, ly, 1, cov="unscaled")
    resid = ly - (slope * lx + icpt)
    return float(slope), float(np.sqrt(cov[0, 0] * resid @ resid / (len(lx) - 2)))


def ar1(resid: np.ndarray) -> float:
    """Lag-1 autocorrelation of a residual series (0 with fewer than 3 points)."""
    r = np.asarray(resid, float) - np.mean(resid)
    return float(np.clip(r[1:] @ r[:-1] / (r @ r), -0.99, 0.99)) if len(r) >= 3 and r @ r > 0 else 0.0


def block_length(n: int, rho: float) -> int:
    """Moving-block length: the larger of n^(1/3) and the AR(1) correlation time (1 + rho)/(1 - rho), at most n/2."""
    return int(max(1, min(n // 2, max(np.ceil(n ** (1 / 3)), np.ceil((1 + rho) / (1 - rho))))))


def robust_slope_fit(loss: np.ndarray, noise: np.ndarray, boot: int = 200, seed: int = 0) -> tuple[float, float]:
    """Slope of log N on log L and a standard error that allows for the correlation of successive epochs: the larger
    of a moving-block bootstrap of the residuals and the least-squares error inflated by sqrt((1 + rho)/(1 - rho)),
    rho the bias-corrected lag-1 autocorrelation of the residuals (the least-squares error alone understates it)."""
    lx, ly = np.log(loss), np.log(noise)
    n = len(lx)
    if n < 4 or np.ptp(lx) == 0:
        return float("nan"), float("nan")
    slope, icpt = np.polyfit(lx, ly, 1)
    resid = ly - (slope * lx + icpt)
    b = block_length(n, ar1(resid))
    rng, starts = np.random.default_rng(seed), np.arange(n - b + 1)
    idx = (rng.choice(starts, size=(boot, -(-n // b)))[:, :, None] + np.arange(b)).reshape(boot, -1)[:, :n]
    ys = slope * lx + icpt + resid[idx]  # [boot, n]
    xc = lx - lx.mean()
    slopes = (ys - ys.mean(1, keepdims=True)) @ xc / (xc @ xc)
    rho = min(0.95, ar1(resid) + (1 + 3 * ar1(resid)) / n)  # Kendall's bias correction of the lag-1 estimate
    se_ar = loglog_fit(loss, noise)[1] * np.sqrt((1 + rho) / (1 - rho)) if rho > 0 else loglog_fit(loss, noise)[1]
    return float(slope), float(max(np.std(slopes), se_ar))


@dataclasses.dataclass(frozen=True)
class NoiseVsLoss:
    """Training loss L and noise strength N every `every` epochs; the slope fitted over the last decade of L."""

    label: str  # architecture and data
    epochs: np.ndarray  # epochs of the records
    loss: np.ndarray  # L (the paper's loss) over the training set
    noise: np.ndarray  # N of Eq. (24)
    diverged: bool  # SGD produced a non-finite loss
    decades: float = 1.0  # width of the fit window in decades of L (the last decade reached)

    @property
    def window(self) -> np.ndarray:
        """Records with L within `decades` of the smallest L reached, after epoch 0 (the late stage)."""
        ok = (self.epochs >= 1) & (self.loss > 0) & (self.noise > 0)
        return ok & (self.loss <= self.loss[ok].min() * 10 ** self.decades) if ok.any() else ok

    @property
    def late(self) -> bool:
        """True when L fell at least `decades` + 1/2 after epoch 1: the window starts half a decade into training."""
        ok = (self.epochs >= 1) & (self.loss > 0)
        return bool(ok.any() and self.loss[ok][0] >= self.loss[ok].min() * 10 ** (self.decades + 0.5))

    @property
    def fit(self) -> tuple[float, float]:
        """(slope, standard error allowing for correlated epochs) of log N vs log L over the window."""
        w = self.window
        return robust_slope_fit(self.loss[w], self.noise[w])

    @property
    def residual_ar1(self) -> tuple[float, float]:
        """(sd, lag-1 autocorrelation) of the log N residuals about the fitted line over the window."""
        w = self.window
        lx, ly = np.log(self.loss[w]), np.log(self.noise[w])
        if len(lx) < 3:
            return float("nan"), 0.0
        resid = ly - np.polyval(np.polyfit(lx, ly, 1), lx)
        return float(resid.std()), ar1(resid)

    def plot(self, axes=None):
        """Left: L and c N against epoch (paper Fig. 2 left); right: N against L with slope 1 (Fig. 2 right)."""
        from matplotlib.ticker import NullFormatter

        from ...present.plotting import subplots

        if axes is None:
            _, axes = subplots(1, 2, width=3.5)
        w, (s, se) = self.window, self.fit
        c = np.median(self.loss[w] / self.noise[w])
        axes[0].semilogy(self.epochs, self.loss, "-", label=r"loss $L$")
        axes[0].semilogy(self.epochs, c * self.noise, "--", label=rf"${c:.2g}\,\mathcal{{N}}$")
        axes[0].set(xlabel="epoch", title=self.label)
        axes[0].legend()
        axes[1].loglog(self.loss, self.noise, "o", ms=2, color="0.7", label="all records")
        fit = rf"fit: slope ${s:.2f} \pm {2 * se:.2f}$ (2 se)" if np.isfinite(s) else "fit: too few records"
        axes[1].loglog(self.loss[w], self.noise[w], "o", ms=3, label=fit)
        xs = np.array([self.loss[w].min(), self.loss[w].max()])
        anchor = np.exp(np.mean(np.log(self.noise[w]))) if w.any() else 1.0
        mid = np.exp(np.mean(np.log(self.loss[w]))) if w.any() else 1.0
        axes[1].loglog(xs, anchor * xs / mid, "k--", label="slope 1 (paper)")
        for k, p in enumerate((0.8, 1.2)):  # the rule's tolerance for "roughly proportional"
            axes[1].loglog(xs, anchor * (xs / mid) ** p, ":", color="0.4", label="slopes 0.8, 1.2" if k else None)
        axes[1].set(xlabel=r"training loss $L$", ylabel=r"noise strength $\mathcal{N}$")
        for axis in (axes[1].xaxis, axes[1].yaxis):
            axis.set_minor_formatter(NullFormatter())
        axes[1].legend()
        return axes


@dataclasses.dataclass(frozen=True)
class NoiseRun:
    """One noise-vs-loss training (a run_sweep config)."""

    dataset: str  # fashion_mnist | cifar10 | mnist
    arch: str  # fc | cnn
    widths: tuple  # hidden widths (fc) or channels per conv stack (cnn)
    n_train: int  # first N training samples
    lr: float  # SGD learning rate
    batch_size: int  # minibatch size
    epochs: int  # epochs trained
    every: int  # epochs between noise measurements
    mem_bytes: int  # per-sample-gradient memory bound of one chunk (cnn)
    seed: int = 0  # seed of init and batches
    device: str = "auto"  # auto | cpu | cuda


def noise_model(arch: str, widths: tuple, in_shape: tuple) -> nn.Module:
    """FC net (ReLU, biases) or the VGG-like CNN of Sec. 5.2, 10 outputs, both from Glorot initialisation."""
    from ...core.models import mlp, vgg_small

    if arch == "fc":
        return mlp(int(np.prod(in_shape)), list(widths), 10, bias=True, init="glorot")
    return vgg_small(tuple(widths), n_classes=10, in_channels=in_shape[0], image_size=in_shape[-1], init="glorot")


def noise_run(run: NoiseRun) -> dict:
    """Train with SGD on the paper's loss; every `every` epochs record L and the exact N over the training set."""
    import torch.nn.functional as F

    from ...core.config import resolve_device
    from ...core.data import load_dataset
    from ...core.train import sgd_train

    dev = resolve_device(run.device)
    data = load_dataset(run.dataset, device=dev)
    data = data.first(min(run.n_train, len(data)))
    x, y = data.x, F.one_hot(data.y, data.classes).float()
    torch.manual_seed(run.seed)
    model = noise_model(run.arch, run.widths, tuple(x.shape[1:])).to(dev)
    params = sum(p.numel() for p in model.parameters())
    chunk = 1024 if is_plain_mlp(model) else min(cnn_chunk(params, run.mem_bytes), len(x))
    per_epoch = max(1, len(x) // run.batch_size)

    def record(step, m):
        with torch.no_grad():
            loss = sum(float(half_sq(m(x[i:i + 1024]), y[i:i + 1024])) * len(x[i:i + 1024])
                       for i in range(0, len(x), 1024)) / len(x)
        return step // per_epoch, loss, noise_strength(m, half_sq, x, y, chunk)

    res = sgd_train(model, half_sq, x, y, run.lr, run.batch_size, run.epochs * per_epoch, seed=run.seed,
                    callback=record, every=per_epoch * run.every, batch_mode="epoch")
    rec = [r for r in res.records if np.isfinite(r[1]) and np.isfinite(r[2])]
    ep, loss, noise = (list(v) for v in zip(*rec))
    return dict(epochs=ep, loss=loss, noise=noise, diverged=bool(res.diverged), params=params, chunk=chunk,
                chunk_bytes=8 * params * chunk if not is_plain_mlp(model) else 0)


def noise_runs(cfg, device: str = "auto") -> list[NoiseRun]:
    """The run_sweep configs of Fig. 2: one training per (dataset, arch, widths) of cfg.noise_runs."""
    return [NoiseRun(ds, arch, tuple(w), cfg.noise_n_train, cfg.noise_lr, cfg.noise_batch_size, cfg.noise_epochs,
                     cfg.noise_every, cfg.noise_mem_bytes, cfg.seed, device) for ds, arch, w in cfg.noise_runs]


def from_record(run: NoiseRun, record: dict) -> NoiseVsLoss:
    """A finished sweep record as a NoiseVsLoss (diverged runs keep the records made before the blow-up)."""
    m = record["metrics"] or {"epochs": [0], "loss": [np.nan], "noise": [np.nan], "diverged": True}
    names = {"fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10", "mnist": "MNIST"}
    label = f"{run.arch.upper()} {'-'.join(map(str, run.widths))}, {names[run.dataset]} (N={run.n_train})"
    return NoiseVsLoss(label, np.array(m["epochs"]), np.array(m["loss"]), np.array(m["noise"]),
                       bool(m["diverged"]) or record["status"] != "ok")


def memory_note(records: list[dict]) -> str:
    """One sentence per CNN run: chunk size and the bound on its per-sample-gradient memory."""
    notes = [f"CNN noise strength: float32 per-sample gradients of {m['params']:,} parameters in chunks of "
             f"{m['chunk']} samples, at most {m['chunk_bytes'] / 2 ** 30:.2f} GiB for gradients and their squares."
             for m in (r["metrics"] for r in records) if m and m.get("chunk_bytes")]
    import textwrap

    text = " ".join(notes) or "No CNN in this profile: MLP per-sample norms come from the layer factorisation."
    return textwrap.fill(text, 96)
