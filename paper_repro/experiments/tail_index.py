"""Chapter 1 (Simsekli et al. 2019): gradient-noise collection, its tail index, and the chapter's runs."""
from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import gradients
from ..config import (DEVICES, PROFILES, ConfigError, check_choice, check_positive, check_positive_all,
                      check_range, resolve_device)
from ..data import load_dataset
from ..estimators.tail import StreamingMohammadi, tail_index
from ..models import accuracy, alexnet_like, mlp

CHAPTER = "tail_index"
LOSSES = ("nll", "hinge")
# the released code's transforms.Normalize statistics (a global mean/std per dataset)
NORMALIZE = {"mnist": (0.1307, 0.3081), "fashion_mnist": (0.2860, 0.3530),
             "cifar10": ((0.491, 0.482, 0.447), (0.247, 0.243, 0.262)),
             "cifar100": ((0.5071, 0.4867, 0.4408), (0.2675, 0.2565, 0.2761))}
ARCHS = ("fc", "alexnet")


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

    alpha: float  # Mohammadi alpha-hat of all pooled components (the paper's number)
    stderr: float  # its approximate standard error
    n_batches: int  # number of fixed batches
    n_params: int  # number of parameters M
    zero_fraction: float  # fraction of exactly-zero components
    variants: dict  # alpha-hat of the same noise pooled differently (only when the matrix fitted in memory)
    hist: dict  # histogram of the components: edges, counts, std, median_abs (only when in memory)


def _histogram(v: torch.Tensor, bins: int = 80) -> dict:
    """Histogram of |components| on log-spaced bins (zeros excluded), with Gaussian/SaS fit statistics."""
    a = v.abs()
    nz = a[a > 0].double()
    med = nz.median().item()
    edges = np.geomspace(med * 1e-3, nz.max().item() * 1.0001, bins + 1)
    counts = torch.histogram(nz.cpu(), bins=torch.as_tensor(edges)).hist.numpy()
    return {"edges": edges, "counts": counts, "std": v.double().std().item(), "median_abs": a.median().item(),
            "n": v.numel(), "zeros": v.numel() - nz.numel()}


def pooling_variants(noise: torch.Tensor, max_elements: int = 4_000_000, seed: int = 0) -> dict:
    """alpha-hat of one noise matrix [batches, M] as pooled, randomly permuted, column-standardised + permuted, no zeros.

    Permuted variants use a random subset of ``max_elements`` (a random subset of a permutation is a permutation).
    """
    gen = torch.Generator().manual_seed(seed)
    flat = noise.reshape(-1)
    take = lambda v: v[torch.randperm(v.numel(), generator=gen)[:max_elements].to(v.device)]  # noqa: E731
    std = noise.std(0, keepdim=True)
    live = std.reshape(-1) > 0
    z = (noise[:, live] - noise[:, live].mean(0, keepdim=True)) / std[:, live]
    nonzero = flat[flat != 0]
    out = {"pooled": tail_index(flat).alpha, "permuted": tail_index(take(flat)).alpha,
           "standardised_permuted": tail_index(take(z.reshape(-1))).alpha,
           "nonzero_pooled": tail_index(nonzero).alpha if nonzero.numel() > 16 else None,
           "hill_pooled": tail_index(take(flat), "hill").alpha}
    return out


def measure_noise(model: nn.Module, loss_fn, x: torch.Tensor, y: torch.Tensor, batch_size: int,
                  max_elements: int = 80_000_000, details: bool = True) -> NoiseMeasurement:
    """alpha-hat of the gradient noise G_b - (1/B) sum_b G_b over the fixed batches b of (x, y), pooled as the paper.

    One pass (all batch gradients at once, vmapped) when the B x M matrix fits in ``max_elements``; otherwise two
    passes: the full gradient, then the batch gradients in chunks streamed into the estimator, so the matrix is
    never held. ``details`` (pooling variants, histogram) needs the one-pass case.
    """
    was_training = model.training
    model.eval()
    nb = len(x) // batch_size
    n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    acc, zeros, variants, hist = StreamingMohammadi(nb * n_params), 0, {}, {}
    if nb * n_params <= max_elements:
        noise = gradients.batch_grads(model, loss_fn, x, y, batch_size)
        noise -= noise.mean(0, keepdim=True)
        acc.update(noise)
        zeros = noise.numel() - torch.count_nonzero(noise).item()
        if details:
            variants, hist = pooling_variants(noise), _histogram(noise.reshape(-1))
    else:
        used = nb * batch_size
        full = gradients.full_grad(model, loss_fn, x[:used], y[:used])
        rows = max(1, min(nb, min(max_elements, 4_000_000) // n_params))  # small chunks stream faster
        for i in range(0, nb, rows):
            sl = slice(i * batch_size, min(i + rows, nb) * batch_size)
            noise = gradients.batch_grads(model, loss_fn, x[sl], y[sl], batch_size) - full
            zeros += noise.numel() - torch.count_nonzero(noise).item()
            acc.update(noise)
    res, zero = acc.result(), zeros / (nb * n_params)
    model.train(was_training)
    return NoiseMeasurement(alpha=res.alpha, stderr=res.stderr, n_batches=nb, n_params=n_params,
                            zero_fraction=zero, variants=variants, hist=hist)


@dataclasses.dataclass(frozen=True)
class NetRun:
    """One FC net trained by SGD, then its gradient noise measured (one point of figures 2-4, 6)."""

    dataset: str  # "mnist" | "fashion_mnist" (FC) or "cifar10" | "cifar100" (AlexNet-like CNN)
    n_train: int  # first n_train training images (train set for SGD and noise)
    n_test: int  # first n_test test images (test noise and accuracy)
    width: int  # width of every hidden layer (FC) or number of channels ch (AlexNet-like)
    depth: int  # number of Linear layers (depth - 1 hidden layers, as in the released code)
    loss: str  # "nll" | "hinge"
    batch_size: int  # SGD batch size, also the fixed-batch size of the noise (as in the released code)
    lr: float  # SGD learning rate
    steps: int  # SGD iterations
    seed: int  # init and batch-order seed
    device: str = "auto"  # auto | cpu | cuda
    track_points: int = 0  # measure alpha-hat and accuracies at this many log-spaced steps (0 = only at the end)
    details: bool = True  # pooling variants and histogram of the final noise (when it fits in memory)
    normalize: bool = True  # inputs (x - mean) / std as the released code; False: raw pixels in [0, 1]
    arch: str = "fc"  # "fc" (released FullyConnected) | "alexnet" (paper_repro.models.alexnet_like)
    max_elements: int = 80_000_000  # memory budget of one noise pass, in float32 components


@functools.lru_cache(maxsize=4)
def _data(dataset: str, n_train: int, n_test: int, device: torch.device, normalize: bool = True):
    """First n_train / n_test images of ``dataset`` on ``device``, normalised as the released code (cached)."""
    mean, std = NORMALIZE[dataset] if normalize else (0.0, 1.0)
    mean, std = (torch.tensor(v, dtype=torch.float32).reshape(1, -1, 1, 1) for v in (mean, std))
    out = []
    for train, n in ((True, n_train), (False, n_test)):
        d = load_dataset(dataset, train=train).first(n)
        out.append(dataclasses.replace(d, x=(d.x - mean) / std).to(device))
    return tuple(out)


def fc_net(in_dim: int, width: int, depth: int, n_classes: int) -> nn.Sequential:
    """The released code's FC net: ``depth`` bias-free Linear layers with ReLU, PyTorch's default init."""
    model = mlp(in_dim, [width] * (depth - 1), n_classes, bias=False)
    for layer in model:
        if isinstance(layer, nn.Linear):
            layer.reset_parameters()  # U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as nn.Linear in the released code
    return model


def run_net(run: NetRun) -> dict:
    """Train ``run``'s FC net with SGD and measure alpha-hat of its train and test gradient noise (sweep function)."""
    from ..train import sgd_train

    device = resolve_device(run.device)
    train, test = _data(run.dataset, run.n_train, run.n_test, device, run.normalize)
    torch.manual_seed(run.seed)
    if run.arch == "alexnet":
        model = alexnet_like(run.width, in_channels=train.x.shape[1], n_classes=train.classes,
                             image_size=train.x.shape[-1]).to(device)
    else:
        model = fc_net(train.x[0].numel(), run.width, run.depth, train.classes).to(device)
    loss_fn = LOSS_FNS[run.loss]

    marks = set(np.unique(np.geomspace(1, run.steps, run.track_points).round().astype(int)).tolist()) | {0} \
        if run.track_points else set()

    def track(step, net):
        if step not in marks:
            return None
        m = measure_noise(net, loss_fn, train.x, train.y, run.batch_size, run.max_elements, details=False)
        return {"step": step, "alpha": m.alpha, "stderr": m.stderr, "train_acc": accuracy(net, train.x, train.y),
                "test_acc": accuracy(net, test.x, test.y)}

    res = sgd_train(model, loss_fn, train.x, train.y, run.lr, run.batch_size, run.steps, seed=run.seed,
                    callback=track if marks else None, every=1 if marks else 0)
    if res.diverged:
        return {"alpha_train": math.nan, "diverged": True}
    m_tr = measure_noise(model, loss_fn, train.x, train.y, run.batch_size, run.max_elements, details=run.details)
    m_te = measure_noise(model, loss_fn, test.x, test.y, run.batch_size, run.max_elements, details=False)
    return {"alpha_train": m_tr.alpha, "stderr_train": m_tr.stderr, "alpha_test": m_te.alpha,
            "stderr_test": m_te.stderr, "zero_fraction": m_tr.zero_fraction, "n_params": m_tr.n_params,
            "train_acc": accuracy(model, train.x, train.y), "test_acc": accuracy(model, test.x, test.y),
            "final_loss": float(res.losses[-20:].mean()), "variants": m_tr.variants, "hist": m_tr.hist,
            "track": res.records, "diverged": False}


def init_gaussian_variants(width: int = 64, depth: int = 2, n: int = 6000, dim: int = 784, batch_size: int = 100,
                           seed: int = 0) -> dict:
    """Pooling variants of the noise of a small FC net at init on Gaussian inputs and random labels (no training)."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    x, y = torch.randn(n, dim, generator=gen), torch.randint(0, 10, (n,), generator=gen)
    model = fc_net(dim, width, depth, 10)
    g = gradients.batch_grads(model, nll_loss, x, y, batch_size)
    return pooling_variants(g - g.mean(0, keepdim=True))


@dataclasses.dataclass(frozen=True)
class TailIndexConfig:
    """Everything the chapter runs; ``PRESETS`` holds the smoke / quick / paper profiles."""

    profile: str = "quick"  # smoke | quick | paper
    device: str = "auto"  # auto | cpu | cuda
    dataset: str = "mnist"  # mnist | fashion_mnist
    n_train: int = 60000  # first n_train training images (SGD and train noise)
    n_test: int = 10000  # first n_test test images (test noise and accuracy)
    lr: float = 0.1  # SGD learning rate (paper: 0.1, no momentum)
    batch_size: int = 500  # SGD and noise batch size (paper text: 500; released code: 100)
    steps: int = 600  # SGD iterations of every net
    losses: tuple = ("nll", "hinge")  # losses of the width/depth sweeps
    seeds: tuple = (0, 1)  # seeds (error bars)
    widths: tuple = (16, 64, 256)  # widths of the width sweep (at depth base_depth)
    depths: tuple = (2, 3, 5)  # depths (number of Linear layers) of the depth sweep (at width base_width)
    base_width: int = 64  # width of the depth and batch sweeps
    base_depth: int = 2  # depth of the width and batch sweeps
    batch_sizes: tuple = (50, 100, 250, 500, 1000)  # batch sizes of the batch sweep (nll, first seed)
    track_steps: int = 2000  # SGD iterations of the tracked run (figure 4)
    track_points: int = 16  # log-spaced measurements along the tracked run
    synth_alphas: tuple = (1.0, 1.2, 1.4, 1.6, 1.8, 2.0)  # true alphas of the estimator check
    synth_sizes: tuple = (1000, 10000, 100000, 1000000)  # sample sizes of the estimator check
    synth_reps: int = 5  # repetitions per (alpha, size)
    sde_alphas: tuple = (1.2, 1.5, 1.8, 2.0)  # tail indices of the SDE noise (2 = Brownian)
    sde_eps: tuple = (0.15, 0.2, 0.3, 0.4, 0.6)  # noise scales epsilon (at basin half-width 1)
    sde_widths: tuple = (0.5, 0.75, 1.0, 1.5, 2.0)  # basin half-widths a (at epsilon sde_eps_fixed)
    sde_eps_fixed: float = 0.3  # epsilon of the width scan
    sde_particles: int = 1000  # particles per SDE setting
    sde_dt: float = 0.01  # Euler step
    sde_t_max: float = 200.0  # censoring time of the exit-time simulation
    max_elements: int = 80_000_000  # memory budget of one noise pass (float32 components)
    cnn_datasets: tuple = ()  # CIFAR datasets of the AlexNet-like sweep ("cifar10", "cifar100"); () = not run
    cnn_channels: tuple = (16, 32, 64)  # channel scales ch of the AlexNet-like sweep

    def __post_init__(self):
        check_choice("profile", self.profile, PROFILES)
        check_choice("device", self.device, DEVICES)
        check_choice("dataset", self.dataset, ("mnist", "fashion_mnist"))
        for name in ("n_train", "n_test", "batch_size", "steps", "base_width", "base_depth", "track_steps",
                     "track_points", "synth_reps", "sde_particles", "max_elements"):
            check_positive(name, getattr(self, name), integer=True)
        for name in ("lr", "sde_dt", "sde_t_max", "sde_eps_fixed"):
            check_positive(name, getattr(self, name))
        for name in ("widths", "depths", "batch_sizes", "synth_sizes"):
            check_positive_all(name, getattr(self, name), integer=True)
        check_positive_all("sde_eps", self.sde_eps)
        check_positive_all("cnn_channels", self.cnn_channels, integer=True)
        for d in self.cnn_datasets:
            check_choice("cnn_datasets element", d, ("cifar10", "cifar100"))
        check_positive_all("sde_widths", self.sde_widths)
        for v in self.losses or [None]:
            check_choice("losses element", v, LOSSES)
        if not self.seeds or any(not isinstance(s, int) or s < 0 for s in self.seeds):
            raise ConfigError(f"seeds={self.seeds!r} must be a non-empty tuple of integers >= 0")
        for name in ("synth_alphas", "sde_alphas"):
            for a in getattr(self, name) or [None]:
                check_range(f"{name} element", a, 0.5, 2.0)
        if min(self.depths + (self.base_depth,)) < 2:
            raise ConfigError("depths and base_depth must be >= 2 (at least one hidden layer)")
        if max(self.batch_sizes + (self.batch_size,)) * 2 > min(self.n_train, self.n_test):
            raise ConfigError(f"every batch size must leave >= 2 batches in n_train={self.n_train} and "
                              f"n_test={self.n_test}")

    def net(self, **changes) -> NetRun:
        """The NetRun of this config with ``changes`` (width, depth, loss, seed, batch_size, ...)."""
        base = dict(dataset=self.dataset, n_train=self.n_train, n_test=self.n_test, width=self.base_width,
                    depth=self.base_depth, loss=self.losses[0], batch_size=self.batch_size, lr=self.lr,
                    steps=self.steps, seed=self.seeds[0], device=self.device, max_elements=self.max_elements)
        base["details"] = changes.get("seed", self.seeds[0]) == self.seeds[0]  # histogram + variants: first seed
        return NetRun(**{**base, **changes})


PRESETS = {
    "smoke": TailIndexConfig(profile="smoke", n_train=2000, n_test=500, steps=40, seeds=(0,), widths=(16, 64),
                             depths=(2, 3), base_width=32, batch_sizes=(50, 100), batch_size=100, losses=("nll", "hinge"),
                             track_steps=60, track_points=4, synth_sizes=(1000, 10000, 100000), synth_reps=2,
                             synth_alphas=(1.0, 1.5, 2.0), sde_alphas=(1.5, 2.0), sde_eps=(0.4, 0.6, 0.8),
                             sde_widths=(0.75, 1.0, 1.5), sde_eps_fixed=0.6, sde_particles=200, sde_t_max=30.0),
    "quick": TailIndexConfig(profile="quick"),
    "paper": TailIndexConfig(profile="paper", steps=10000, seeds=(0, 1, 2),
                             widths=(4, 8, 16, 32, 64, 128, 256, 512, 1024), depths=(2, 3, 4, 5, 6, 7, 8, 9, 10),
                             base_width=128, track_steps=10000, track_points=30, synth_reps=10,
                             batch_sizes=(50, 100, 250, 500, 1000), sde_particles=5000, sde_t_max=1000.0,
                             sde_eps=(0.1, 0.15, 0.2, 0.3, 0.4, 0.6), max_elements=400_000_000,
                             cnn_datasets=("cifar10", "cifar100"), cnn_channels=(16, 32, 64, 128, 256)),
}
