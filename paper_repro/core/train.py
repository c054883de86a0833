"""Plain minibatch SGD on in-memory tensors, with divergence recorded instead of raised."""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from .config import check_positive
from .data import batch_indices
from .progress import progress as tqdm  # silent in batch runs (no bar saved in notebooks)


@dataclasses.dataclass(frozen=True)
class TrainResult:
    """Outcome of :func:`sgd_train`."""

    losses: np.ndarray  # minibatch loss at every step run
    diverged: bool  # a NaN/inf loss stopped training
    steps_run: int  # number of SGD steps taken
    records: list = dataclasses.field(default_factory=list)  # non-None callback returns, in order


def sgd_train(model: nn.Module, loss_fn: Callable, x: torch.Tensor, y: torch.Tensor, lr: float, batch_size: int,
              steps: int, seed: int = 0, callback: Callable[[int, nn.Module], Any] | None = None, every: int = 0,
              progress: bool = False, batch_mode: str = "iid") -> TrainResult:
    """SGD without momentum, theta <- theta - lr * grad L_B(theta), a fresh random batch B each step.

    ``callback(step, model)`` runs at step 0 and every ``every`` steps (and after the last step).
    """
    check_positive("lr", lr)
    check_positive("steps", steps, integer=True)
    idx = batch_indices(len(x), batch_size, steps, seed=seed, device=x.device, mode=batch_mode)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    losses = np.empty(steps)
    records: list = []

    def record(step: int) -> None:
        if callback is not None:
            out = callback(step, model)
            if out is not None:
                records.append(out)

    record(0)
    diverged, done = False, 0
    for step in tqdm(range(steps), disable=not progress, desc="SGD", leave=False):
        model.train()
        loss = loss_fn(model(x[idx[step]]), y[idx[step]])
        value = loss.item()
        losses[step] = value
        done = step + 1
        if not math.isfinite(value):
            diverged = True
            break
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if every and done % every == 0 and done < steps:
            record(done)
    if not diverged and every:
        record(done)
    return TrainResult(losses=losses[:done], diverged=diverged, steps_run=done, records=records)
