"""The group's protocol (companion paper, App. C.1): per-pixel normalised inputs; SGD with momentum 0.9, weight decay
5e-4, B = 128 and eta = 0.1 divided by 10 at 40 % and 80 % of training (CIFAR-100: 50 % and 75 %); on CIFAR a random
crop after 4-pixel padding and a horizontal flip; LeNet, FCN and ResNet18 built for the dataset's shape."""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ...core.data import Dataset, batch_indices, load_dataset
from ...core.models import lenet, mlp
from .config import epochs_of, milestones_of
from .resnet import resnet18


def normalise_per_pixel(data: Dataset, reference: Dataset | None = None) -> Dataset:
    """(x - mean) / std with the mean and std of every pixel (and channel) over the reference images."""
    ref = (reference or data).x
    mean, std = ref.mean(0, keepdim=True), ref.std(0, keepdim=True)
    return Dataset(x=(data.x - mean) / std.clamp_min(1e-6), y=data.y, name=data.name, classes=data.classes)


def training_data(name: str, n_train: int, seed: int, device) -> Dataset:
    """A seeded subset of min(n_train, N) training images, normalised per pixel with the full training set's stats."""
    full = load_dataset(name, device=device)
    sub = full.random_subset(min(n_train, len(full)), seed=seed)
    return normalise_per_pixel(sub, reference=full)


def build_model(name: str, data: Dataset, fcn_widths=(64, 64), resnet_width: int = 64, seed: int = 0,
                fcn_bias: bool = True):
    """LeNet-5, the ReLU FCN (with or without biases) or the CIFAR ResNet18 for the dataset's shape and classes."""
    torch.manual_seed(seed)
    c, h, w = data.x.shape[1:]
    if name == "lenet":
        return lenet(in_channels=c, n_classes=data.classes, image_size=h)
    if name == "fcn":
        return mlp(c * h * w, list(fcn_widths), data.classes, bias=fcn_bias)
    return resnet18(resnet_width, in_channels=c, n_classes=data.classes)


def lr_at(step: int, total: int, lr: float, milestones=(0.4, 0.8), factor: float = 0.1) -> float:
    """Step schedule eta_t = lr * factor^(number of milestones m with t >= round(m * total))."""
    return lr * factor ** sum(step >= round(m * total) for m in milestones)


def augment_batch(x: torch.Tensor, gen: torch.Generator, pad: int = 4) -> torch.Tensor:
    """Random crop of the original size after zero padding by ``pad`` pixels, and a random horizontal flip, per image
    (the padding is zero in normalised units: the mean pixel, since the images are normalised before augmentation)."""
    n, _, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad))
    dy, dx = (torch.randint(0, 2 * pad + 1, (n,), generator=gen) for _ in range(2))
    rows = (dy[:, None] + torch.arange(h)).to(x.device)  # [n, h]
    cols = (dx[:, None] + torch.arange(w)).to(x.device)  # [n, w]
    flip = (torch.rand(n, generator=gen) < 0.5).to(x.device)
    cols = torch.where(flip[:, None], cols.flip(1), cols)
    idx = torch.arange(n, device=x.device)[:, None, None]
    return padded.permute(0, 2, 3, 1)[idx, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)


def train_with_checkpoints(model, data: Dataset, cfg, batch_size: int, on_checkpoint) -> dict:
    """SGD (momentum, weight decay, step schedule; reshuffled epochs) for the dataset's epochs, calling
    ``on_checkpoint(step, model)`` at every stage of cfg.stages; the loss curve and divergence are returned."""
    total = epochs_of(cfg, data.name) * (len(data) // batch_size)
    milestones, augment = milestones_of(cfg, data.name), data.name in cfg.augment
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    stage_steps = sorted({int(round(f * total)) for f in cfg.stages})
    idx = batch_indices(len(data), batch_size, total, seed=cfg.seed, device=data.x.device, mode="epoch")
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    losses, diverged = np.empty(total), False
    for step in range(total + 1):
        if step in stage_steps:
            model.eval()
            on_checkpoint(step, model)
        if step == total:
            break
        model.train()
        for group in opt.param_groups:
            group["lr"] = lr_at(step, total, cfg.lr, milestones)
        xb = data.x[idx[step]]
        loss = F.cross_entropy(model(augment_batch(xb, gen) if augment else xb), data.y[idx[step]])
        losses[step] = loss.item()
        if not math.isfinite(losses[step]):
            diverged = True
            break
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    done = losses[: min(step + 1, total)]
    return {"steps": total, "stage_steps": stage_steps, "diverged": diverged, "losses": _decimate(done)}


def _decimate(losses: np.ndarray, points: int = 200) -> list:
    """Mean loss over ``points`` equal windows (a short curve for the record)."""
    if len(losses) <= points:
        return losses.tolist()
    return [float(w.mean()) for w in np.array_split(losses, points)]
