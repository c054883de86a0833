"""Datasets in memory as tensors on the device: loading, subsets, binary relabelings, minibatch index streams."""
from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import numpy as np
import torch

from . import fetch
from .config import check_choice, check_positive

DATASETS = ("mnist", "fashion_mnist", "cifar10", "cifar100")
CIFAR10_ANIMALS = (2, 3, 4, 5, 6, 7)  # bird, cat, deer, dog, frog, horse (vehicles: 0, 1, 8, 9)


@dataclasses.dataclass(frozen=True)
class Dataset:
    """Images ``x`` [N, C, H, W] in [0, 1] (or flattened / standardised) and labels ``y`` [N], on one device."""

    x: torch.Tensor  # float32 inputs
    y: torch.Tensor  # int64 class labels, or float32 ±1 after .binary()
    name: str  # dataset name, e.g. "mnist"
    classes: int  # number of classes (2 after .binary())

    def __len__(self) -> int:
        return len(self.x)

    def _with(self, **changes) -> "Dataset":
        return dataclasses.replace(self, **changes)

    def to(self, device) -> "Dataset":
        """Move to ``device``."""
        return self._with(x=self.x.to(device), y=self.y.to(device))

    def first(self, n: int) -> "Dataset":
        """The first ``n`` samples (the papers' "first N training images")."""
        check_positive("n", n, integer=True)
        return self._with(x=self.x[:n], y=self.y[:n])

    def random_subset(self, n: int, seed: int = 0) -> "Dataset":
        """A seeded random subset of ``n`` samples without replacement."""
        check_positive("n", n, integer=True)
        if n > len(self):
            raise ValueError(f"n={n} is larger than the dataset ({len(self)} samples)")
        idx = torch.randperm(len(self), generator=torch.Generator().manual_seed(seed))[:n].to(self.x.device)
        return self._with(x=self.x[idx], y=self.y[idx])

    def flatten(self) -> "Dataset":
        """Inputs as vectors [N, C*H*W]."""
        return self._with(x=self.x.reshape(len(self.x), -1))

    def channel_stats(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-channel (or per-feature, for flat inputs) mean and std."""
        dims = (0, 2, 3) if self.x.ndim == 4 else (0,)
        keep = self.x.ndim == 4
        return self.x.mean(dims, keepdim=keep), self.x.std(dims, keepdim=keep)

    def standardize(self, mean=None, std=None) -> "Dataset":
        """(x - mean) / std with per-channel stats of this set unless given (pass the train stats to a test set)."""
        if mean is None or std is None:
            mean, std = self.channel_stats()
        std = torch.as_tensor(std, dtype=self.x.dtype, device=self.x.device).clamp_min(1e-8)
        return self._with(x=(self.x - torch.as_tensor(mean, dtype=self.x.dtype, device=self.x.device)) / std)

    def binary(self, kind: str) -> "Dataset":
        """Relabel to ±1: "parity" (MNIST-like: even +1, odd -1) or "animals" (CIFAR-10: animals +1, vehicles -1)."""
        check_choice("kind", kind, ("parity", "animals"))
        if kind == "parity":
            y = torch.where(self.y % 2 == 0, 1.0, -1.0)
        else:
            if self.name != "cifar10":
                raise ValueError("kind='animals' needs CIFAR-10")
            animals = torch.isin(self.y, torch.tensor(CIFAR10_ANIMALS, device=self.y.device))
            y = torch.where(animals, 1.0, -1.0)
        return self._with(y=y.float(), classes=2)


@functools.lru_cache(maxsize=8)
def _load_cpu(name: str, train: bool, root: str, checksums_key: tuple | None) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Read a dataset from disk once per process into CPU tensors (x uint8 [N,C,H,W], y int64)."""
    import torchvision.datasets as tvd

    cls = getattr(tvd, fetch.TORCHVISION_CLASS[name]) if name in ("mnist", "fashion_mnist") else fetch.cifar_class(name)
    if name in ("mnist", "fashion_mnist"):
        fetch.ensure_idx_dataset(name, Path(root), None if checksums_key is None else dict(checksums_key))
    else:
        fetch.ensure_cifar(name, Path(root))
    try:
        ds = cls(root, train=train, download=False)
    except Exception as exc:
        raise fetch.DataError(f"{name} files under {root} could not be read ({type(exc).__name__}: {exc}); "
                              "they are truncated or not in the expected format: delete them and fetch again") from None
    data = torch.as_tensor(np.asarray(ds.data))
    x = data.unsqueeze(1) if data.ndim == 3 else data.permute(0, 3, 1, 2)
    y = torch.as_tensor(np.asarray(ds.targets), dtype=torch.long)
    if len(x) != len(y):
        raise fetch.DataError(f"{name}: {len(x)} images but {len(y)} labels under {root}")
    return x.contiguous(), y, len(ds.classes)


def load_dataset(name: str, train: bool = True, root: str | Path | None = None, device="cpu",
                 checksums: dict[str, str] | None = None) -> Dataset:
    """Load MNIST, Fashion-MNIST, CIFAR-10 or CIFAR-100 through torchvision into memory on ``device``.

    Files are obtained and verified by :mod:`paper_repro.core.fetch` (``checksums`` overrides the pinned sha256 of
    the IDX files, for tests on files they write).
    """
    check_choice("dataset", name, DATASETS)
    root = str(Path(root).resolve() if root else fetch.default_root())
    key = None if checksums is None else tuple(sorted(checksums.items()))
    x, y, classes = _load_cpu(name, bool(train), root, key)
    return Dataset(x=x.to(device=device, dtype=torch.float32) / 255.0, y=y.to(device), name=name, classes=classes)


def batch_indices(n: int, batch_size: int, steps: int, seed: int = 0, device="cpu", mode: str = "iid",
                  chunk: int = 256) -> torch.Tensor:
    """Seeded minibatch indices [steps, batch_size]: a fresh random batch each step.

    ``iid``: every batch drawn independently (no repeats inside a batch); ``epoch``: reshuffled passes over the
    data (a sample appears once per epoch). Drawn on the CPU so results do not depend on the device.
    """
    check_choice("mode", mode, ("iid", "epoch"))
    check_positive("batch_size", batch_size, integer=True)
    check_positive("steps", steps, integer=True)
    if batch_size > n:
        raise ValueError(f"batch_size={batch_size} is larger than the {n} samples")
    gen = torch.Generator().manual_seed(seed)
    if mode == "epoch":
        per_epoch = n // batch_size
        epochs = -(-steps // per_epoch)
        perms = [torch.randperm(n, generator=gen)[: per_epoch * batch_size] for _ in range(epochs)]
        out = torch.cat(perms).reshape(-1, batch_size)[:steps]
    else:
        out = torch.cat([torch.rand(min(chunk, steps - s), n, generator=gen).topk(batch_size, dim=1).indices
                         for s in range(0, steps, chunk)])
    return out.to(device)


def fixed_batches(n: int, batch_size: int, device="cpu") -> torch.Tensor:
    """The consecutive fixed partition into ``n // batch_size`` batches, [n_batches, batch_size]."""
    check_positive("batch_size", batch_size, integer=True)
    nb = n // batch_size
    return torch.arange(nb * batch_size, device=device).reshape(nb, batch_size)
