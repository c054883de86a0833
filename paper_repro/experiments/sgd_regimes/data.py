"""The released code's data split (``edm/dataset.py _extract``): one fixed test set, a training set per seed.

The released code shuffles train ∪ test (70,000 MNIST / 60,000 CIFAR-10 images) with the test seed (-1), takes the
first ``pte`` images as the test set, shuffles the rest with ``seed_trainset = -seed_init - 2`` and takes the first
``ptr``. So the test set is the same for every run, each initialisation seed trains on its own draw, and at one seed
the training sets of growing P are nested. We draw with numpy (TensorFlow's shuffle order is not reproduced, only its
law: uniform without replacement); the streams are keyed by (TEST_KEY,) and (TRAIN_KEY, seed).
"""
from __future__ import annotations

import numpy as np
import torch

from ...core.data import load_dataset

# released edm/dataset.py: (pixel - mean) / std with these scalars, labels even/animal +1
NORMALISATION = {"mnist": (33.31002426147461, 78.56748962402344), "cifar10": (120.93118286132812, 64.14186096191406)}
TASK = {"mnist": "parity", "cifar10": "animals"}
TEST_KEY, TRAIN_KEY = 1, 2  # stream keys of the test shuffle and of each seed's training shuffle


def _images(dataset: str):
    """train ∪ test of ``dataset`` (released ``split='train+test'``): pixels in [0, 1] and ±1 labels, as two parts."""
    return [load_dataset(dataset, train=t).binary(TASK[dataset]) for t in (True, False)]


def split_indices(n_total: int, n_test: int, seeds, P: int) -> tuple[np.ndarray, dict]:
    """(test indices [n_test], {seed: training indices [P]}) into train ∪ test, as the released ``_extract``."""
    if n_test + P > n_total:
        raise ValueError(f"n_test={n_test} + P={P} exceeds the {n_total} images of train ∪ test")
    order = np.random.default_rng((TEST_KEY,)).permutation(n_total)
    test, rest = order[:n_test], order[n_test:]
    return test, {int(s): rest[np.random.default_rng((TRAIN_KEY, int(s))).permutation(len(rest))[:P]]
                  for s in seeds}


def _gather(parts, idx: np.ndarray):
    """Images and labels at global indices ``idx`` of train ∪ test (without concatenating the two)."""
    n0, first = len(parts[0]), torch.as_tensor(idx < len(parts[0]))
    x = torch.empty((len(idx), *parts[0].x.shape[1:]), dtype=parts[0].x.dtype)
    y = torch.empty(len(idx), dtype=parts[0].y.dtype)
    i = torch.as_tensor(idx)
    x[first], y[first] = parts[0].x[i[first]], parts[0].y[i[first]]
    x[~first], y[~first] = parts[1].x[i[~first] - n0], parts[1].y[i[~first] - n0]
    return x, y


def prep(dataset: str, x: torch.Tensor, dtype: str, device, flat: bool) -> torch.Tensor:
    """Released preprocessing: (pixel - mean) / std with the released scalars (pixels given in [0, 1])."""
    mean, std = NORMALISATION[dataset]
    x = (x.to(torch.float64) * 255.0 - mean) / std
    return (x.flatten(1) if flat else x).to(getattr(torch, dtype)).to(device)


def load_runs(dataset: str, members, n_test: int, dtype: str = "float32", device="cpu", flat: bool = True):
    """Data of a job whose members are (alpha, T, P, seed): x, y of the union of the members' training sets,
    an index [k, P_max] into them per member (its first P are its training set), and the fixed test set."""
    parts = _images(dataset)
    seeds = sorted({int(m[3]) for m in members})
    P_max = max(int(m[2]) for m in members)
    test, train = split_indices(sum(len(p) for p in parts), n_test, seeds, P_max)
    used = np.unique(np.concatenate([train[s][:max(int(m[2]) for m in members if int(m[3]) == s)]
                                     for s in seeds]))  # the union of the job's training sets
    pos = {g: i for i, g in enumerate(used.tolist())}
    top = {s: max(int(m[2]) for m in members if int(m[3]) == s) for s in seeds}  # each seed's largest P here
    index = torch.zeros((len(members), P_max), dtype=torch.long)  # a seed's draw up to its largest P; 0 past it
    for row, m in enumerate(members):
        s = int(m[3])
        index[row, :top[s]] = torch.tensor([pos[g] for g in train[s][:top[s]].tolist()])
    x, y = _gather(parts, used)
    xt, yt = _gather(parts, test)
    dt = getattr(torch, dtype)
    return (prep(dataset, x, dtype, device, flat), y.to(dt).to(device), index.to(device),
            prep(dataset, xt, dtype, device, flat), yt.to(dt).to(device))
