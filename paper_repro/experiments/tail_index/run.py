"""Chapter 1 (Simsekli et al. 2019): one net trained by SGD, then its gradient noise measured (the sweep function)."""
from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
import torch
from torch import nn

from ...core import gradients
from ...core.config import resolve_device
from ...core.data import batch_indices, load_dataset
from ...core.models import accuracy, alexnet_like, mlp
from .measure import LOSS_FNS, measure_noise, nll_loss, pooling_variants

# the released code's transforms.Normalize statistics (a global mean/std per dataset)
NORMALIZE = {"mnist": (0.1307, 0.3081), "fashion_mnist": (0.2860, 0.3530),
             "cifar10": ((0.491, 0.482, 0.447), (0.247, 0.243, 0.262)),
             "cifar100": ((0.5071, 0.4867, 0.4408), (0.2675, 0.2565, 0.2761))}
ARCHS = ("fc", "alexnet")


@dataclasses.dataclass(frozen=True)
class NetRun:
    """One net trained by SGD, then its gradient noise measured (one point of figures 2-4, 6)."""

    dataset: str  # "mnist" | "fashion_mnist" (FC) or "cifar10" | "cifar100" (AlexNet)
    n_train: int  # first n_train training images (train set for SGD and noise)
    n_test: int  # first n_test test images (test noise and accuracy)
    width: int  # width of every hidden layer (FC) or channel scale ch (AlexNet)
    depth: int  # number of Linear layers (depth - 1 hidden layers, as in the released code)
    loss: str  # "nll" | "hinge"
    batch_size: int  # SGD batch size, also the fixed-batch size of the noise (as in the released code)
    lr: float  # SGD learning rate
    steps: int  # SGD iterations at most (the cap; released run.py: 65,000)
    seed: int  # init and batch-order seed
    device: str = "auto"  # auto | cpu | cuda
    track_every: int = 0  # measure train and test noise every this many iterations (released main.py: eval_freq
    #                       100); 0: measure only at the end
    check_every: int = 100  # train accuracy checked every this many iterations (released main.py: eval_freq 100)
    stop_acc: float = 1.0  # stop once the checked train accuracy reaches this (released main.py: 100 %)
    lr_halvings: bool = True  # halve the step at 1/3 and 2/3 of the cap (released run.py: --lr_schedule)
    dense_every: int = 0  # tracked runs: also measure every this many iterations up to ``dense_until`` (0: no)
    dense_until: int = 0  # end of the dense early window (iterations)
    details: bool = True  # pooling variants of the final noise (when it fits in memory)
    normalize: bool = True  # inputs (x - mean) / std as the released code; False: raw pixels in [0, 1]
    arch: str = "fc"  # "fc" (released FullyConnected) | "alexnet" (released AlexNet, models.alexnet_like)
    max_elements: int = 80_000_000  # memory budget of one noise pass, in float32 components
    k1_fixed: int = 1000  # block size K1 of the fixed-K1 estimate (comparisons across nets)


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


def build_model(run: NetRun, x: torch.Tensor, n_classes: int) -> nn.Module:
    """The run's net for inputs shaped like ``x`` (seeded by the caller)."""
    if run.arch == "alexnet":
        return alexnet_like(run.width, in_channels=x.shape[1], n_classes=n_classes, image_size=x.shape[-1])
    return fc_net(x[0].numel(), run.width, run.depth, n_classes)


def eval_accuracy(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Accuracy in eval mode (dropout off), the training mode restored."""
    was = net.training
    net.eval()
    with torch.no_grad():
        acc = accuracy(net, x, y)
    net.train(was)
    return acc


def _point(run: NetRun, net, loss_fn, train, test, step: int) -> dict:
    """One tracked measurement: train and test noise alpha-hat (paper K1 and fixed K1), accuracies."""
    kw = dict(max_elements=run.max_elements, details=False, k1_fixed=run.k1_fixed, hist_sample=0, nonzero=False)
    tr = measure_noise(net, loss_fn, train.x, train.y, run.batch_size, **kw)
    te = measure_noise(net, loss_fn, test.x, test.y, run.batch_size, **kw)
    return {"step": step, "alpha": tr.alpha, "stderr": tr.stderr, "alpha_fixed": tr.alpha_fixed,
            "alpha_test": te.alpha, "stderr_test": te.stderr, "alpha_test_fixed": te.alpha_fixed,
            "train_acc": eval_accuracy(net, train.x, train.y), "test_acc": eval_accuracy(net, test.x, test.y)}


def measured_steps(run: NetRun) -> list[int]:
    """Iterations at which a tracked run measures its noise: every ``dense_every`` up to ``dense_until``, then every
    ``track_every``, and the cap."""
    if not run.track_every:
        return []
    dense = range(0, min(run.dense_until, run.steps), run.dense_every) if run.dense_every else []
    return sorted({*dense, *range(0, run.steps, run.track_every), run.steps})


def step_size(run: NetRun, step: int) -> float:
    """The step at ``step``: lr, halved at 1/3 and again at 2/3 of the cap when ``lr_halvings`` (released)."""
    return run.lr * 0.5 ** ((step >= run.steps // 3) + (step >= 2 * run.steps // 3)) if run.lr_halvings else run.lr


def train(run: NetRun, net: nn.Module, loss_fn, train, test) -> tuple[list, list, bool]:
    """Plain SGD (no momentum) until the checked train accuracy reaches ``stop_acc`` or the cap, with the released
    step halvings; a tracked run measures at ``measured_steps``. Returns (losses, tracked points, diverged)."""
    idx = batch_indices(len(train.x), run.batch_size, run.steps, seed=run.seed, device=train.x.device)
    opt = torch.optim.SGD(net.parameters(), lr=run.lr)
    losses, track, points = [], [], set(measured_steps(run))
    for step in range(run.steps + 1):
        if step in points:
            track.append(_point(run, net, loss_fn, train, test, step))
        checked = track[-1]["train_acc"] if step in points else (
            eval_accuracy(net, train.x, train.y) if step % run.check_every == 0 and step else None)
        if step == run.steps or (checked is not None and checked >= run.stop_acc):
            break
        for group in opt.param_groups:
            group["lr"] = step_size(run, step)
        net.train()
        loss = loss_fn(net(train.x[idx[step]]), train.y[idx[step]])
        losses.append(loss.item())
        if not math.isfinite(losses[-1]):
            return losses, track, True
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return losses, track, False


def run_net(run: NetRun) -> dict:
    """Train ``run``'s net with SGD and measure alpha-hat of its train and test gradient noise (sweep function)."""
    device = resolve_device(run.device)
    tr, te = _data(run.dataset, run.n_train, run.n_test, device, run.normalize)
    torch.manual_seed(run.seed)
    net = build_model(run, tr.x, tr.classes).to(device)
    loss_fn = LOSS_FNS[run.loss]
    losses, track, diverged = train(run, net, loss_fn, tr, te)
    if diverged:
        return {"alpha_train": math.nan, "diverged": True, "steps_run": len(losses)}
    kw = dict(max_elements=run.max_elements, k1_fixed=run.k1_fixed)
    m_tr = measure_noise(net, loss_fn, tr.x, tr.y, run.batch_size, details=run.details, **kw)
    m_te = measure_noise(net, loss_fn, te.x, te.y, run.batch_size, details=False, hist_sample=0, nonzero=False, **kw)
    return {"alpha_train": m_tr.alpha, "stderr_train": m_tr.stderr, "k1": m_tr.k1,
            "alpha_train_fixed": m_tr.alpha_fixed, "stderr_train_fixed": m_tr.stderr_fixed,
            "k1_fixed_used": m_tr.k1_fixed, "alpha_test": m_te.alpha, "stderr_test": m_te.stderr,
            "alpha_test_fixed": m_te.alpha_fixed, "zero_fraction": m_tr.zero_fraction, "n_params": m_tr.n_params,
            "n_batches": m_tr.n_batches, "train_acc": eval_accuracy(net, tr.x, tr.y),
            "test_acc": eval_accuracy(net, te.x, te.y), "final_loss": float(np.mean(losses[-20:] or [math.nan])),
            "steps_run": len(losses), "alpha_nonzero": m_tr.alpha_nonzero, "lr_end": step_size(run, len(losses)),
            "variants": m_tr.variants, "hist": m_tr.hist, "track": track, "diverged": False}


def init_gaussian_variants(width: int = 64, depth: int = 2, n: int = 6000, dim: int = 784, batch_size: int = 100,
                           seed: int = 0, k1: int = 1000) -> dict:
    """Pooling variants of the noise of a small FC net at init on Gaussian inputs and random labels (no training)."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    x, y = torch.randn(n, dim, generator=gen), torch.randint(0, 10, (n,), generator=gen)
    model = fc_net(dim, width, depth, 10)
    g = gradients.batch_grads(model, nll_loss, x, y, batch_size)
    return pooling_variants(g - g.mean(0, keepdim=True), k1)
