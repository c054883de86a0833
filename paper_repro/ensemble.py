"""Vectorised ensembles: many scalar-output nets trained at once by SGD on the alpha-scaled hinge loss.

Each member k has its own weights, scale alpha_k, learning rate lr_k, training-set size P_k (the first P_k
points of a shared training set), seed (its own stream of random batches) and stop time. The predictor is
f_k(x) = alpha_k (F(w_k, x) - F(w_k^0, x)) and the loss L_k(w) = (1/alpha_k^2) <max(0, 1 - y f_k(x))>_batch
(Geiger et al. 2020; Sclocchi et al. 2023), so the SGD temperature is T = lr / batch_size.
Members are stacked with ``torch.func.stack_module_state`` and stepped with ``vmap(grad(functional_call))``.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, grad_and_value, stack_module_state, vmap
from tqdm.auto import tqdm

STATUSES = ("fitted", "capped", "diverged")


class NTKLinear(nn.Module):
    """Bias-free linear layer in NTK parametrisation: z = W x / sqrt(fan_in), W_ij ~ N(0, 1)."""

    def __init__(self, fan_in: int, fan_out: int, generator: torch.Generator | None = None):
        super().__init__()
        self.fan_in = fan_in
        self.weight = nn.Parameter(torch.randn(fan_out, fan_in, generator=generator))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.weight.T / math.sqrt(self.fan_in)


def ntk_mlp(in_dim: int, width: int = 128, depth: int = 5, activation: str = "relu", seed: int = 0) -> nn.Sequential:
    """Fully connected net with ``depth`` hidden layers of ``width``, scalar output, NTK scaling, no biases."""
    acts = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh}
    if activation not in acts:
        raise ValueError(f"activation={activation!r}; choose one of {sorted(acts)}")
    g = torch.Generator().manual_seed(int(seed))
    dims = [in_dim] + [width] * depth
    layers: list[nn.Module] = [nn.Flatten()]
    for a, b in zip(dims[:-1], dims[1:]):
        layers += [NTKLinear(a, b, g), acts[activation]()]
    layers.append(NTKLinear(dims[-1], 1, g))
    return nn.Sequential(*layers)


def stack(models: list[nn.Module]) -> tuple[dict[str, torch.Tensor], nn.Module]:
    """Stack k same-architecture models into {name: [k, ...]} plus a stateless base (on the meta device)."""
    params, _ = stack_module_state(models)
    base = copy.deepcopy(models[0]).to("meta")
    return {n: p.detach().clone() for n, p in params.items()}, base


@dataclass(frozen=True)
class EnsembleResult:
    """Per-member outcome of :func:`train_ensemble` (arrays of length k unless stated)."""

    status: np.ndarray         # "fitted" (training hinge loss exactly 0), "capped" (step cap) or "diverged"
    steps: np.ndarray          # SGD steps until the training loss first vanished (or the cap / divergence step)
    time: np.ndarray           # t* = steps * lr (the paper's training time)
    test_error: np.ndarray     # fraction of test points with sign(f) != y (NaN when diverged)
    weight_change: np.ndarray  # ||w - w0|| / ||w0|| over all layers
    layer_change: np.ndarray   # [k, n_layers] the same per layer
    check_steps: np.ndarray    # [n_checks] steps at which the full training set was evaluated
    train_loss: np.ndarray     # [k, n_checks] training hinge loss L_k (NaN after the member stopped)
    unfitted: np.ndarray       # [k, n_checks] fraction of training points with y f < 1
    params: dict               # final stacked weights {name: [k, ...]} (CPU)


def _forward(base: nn.Module):
    """F(w, x) -> [n] scalar outputs of the base architecture with weights w."""
    return lambda p, x: functional_call(base, p, (x,)).reshape(x.shape[0])


def _hinge(base: nn.Module):
    """Loss of one member on one batch: (1/alpha^2) mean max(0, 1 - alpha y (F(w,x) - F(w0,x)))."""
    fwd = _forward(base)

    def loss(p, xb, yb, f0b, alpha):
        z = alpha * yb * (fwd(p, xb) - f0b)
        return torch.relu(1.0 - z).mean() / alpha ** 2
    return loss


@torch.no_grad()
def outputs(params: dict, base: nn.Module, x: torch.Tensor, chunk: int = 4096) -> torch.Tensor:
    """F(w_k, x) for every member and every point: [k, n] (x shared by all members)."""
    fwd = vmap(_forward(base), in_dims=(0, None))
    return torch.cat([fwd(params, x[i:i + chunk]) for i in range(0, len(x), chunk)], dim=1)


def _batches(gens: list[torch.Generator], n_train: np.ndarray, steps: int, batch_size: int) -> torch.Tensor:
    """Fresh uniform random batches for each member from its own generator: [k, steps, batch_size]."""
    return torch.stack([torch.randint(int(n), (steps, batch_size), generator=g) for g, n in zip(gens, n_train)])


def _as_array(v, k: int, dtype) -> np.ndarray:
    """Broadcast a scalar or a length-k sequence to a length-k array."""
    a = np.broadcast_to(np.asarray(v, dtype=dtype), (k,)).copy()
    return a


def train_ensemble(models: list[nn.Module], x: torch.Tensor, y: torch.Tensor, x_test: torch.Tensor,
                   y_test: torch.Tensor, *, alpha, lr, n_train=None, seeds=None, batch_size: int = 16,
                   max_steps: int = 10_000, check_every: int = 100, stop_when_fitted: bool = True,
                   progress: bool = False) -> EnsembleResult:
    """Train k members by plain SGD (w <- w - lr_k grad L_k(batch)) until each one fits its training set.

    The full training set is checked every ``check_every`` steps; a member whose hinge loss is exactly zero
    stops and leaves the ensemble, and its t* is the step after its last non-zero gradient (exact).
    """
    k, device = len(models), x.device
    alpha_np, lr_np = _as_array(alpha, k, float), _as_array(lr, k, float)
    n_np = _as_array(len(x) if n_train is None else n_train, k, np.int64)
    seeds_np = _as_array(range(k) if seeds is None else seeds, k, np.int64)
    if n_np.max() > len(x):
        raise ValueError(f"n_train up to {n_np.max()} but only {len(x)} training points were given")
    params, base = stack(models)
    params = {n: p.to(device) for n, p in params.items()}
    init = {n: p.clone() for n, p in params.items()}
    final = {n: p.clone() for n, p in params.items()}
    f0 = outputs(params, base, x)                     # [k, Pmax] F(w0, x_mu)
    f0_test = outputs(params, base, x_test)           # [k, Ptest]
    gens = [torch.Generator().manual_seed(int(s)) for s in seeds_np]
    alpha_t = torch.tensor(alpha_np, dtype=x.dtype, device=device)
    lr_t = torch.tensor(lr_np, dtype=x.dtype, device=device)
    mask = torch.arange(len(x), device=device)[None, :] < torch.tensor(n_np, device=device)[:, None]
    step_fn = vmap(grad_and_value(_hinge(base)))
    active = np.arange(k)
    status = np.array(["capped"] * k, dtype=object)
    steps_done, last_update = np.zeros(k, np.int64), np.full(k, -1, np.int64)
    checks, losses, unfit = [], [], []
    step = 0
    bar = tqdm(total=max_steps, disable=not progress, desc=f"ensemble of {k}")
    while len(active) and step < max_steps:
        n_steps = min(check_every, max_steps - step)
        idx = _batches([gens[i] for i in active], n_np[active], n_steps, batch_size).to(device)
        a_idx = torch.as_tensor(active, device=device)
        lr_a, al_a, f0_a, y_b = lr_t[a_idx], alpha_t[a_idx], f0[a_idx], y[idx]
        moved = torch.zeros(len(active), n_steps, dtype=torch.bool, device=device)
        for s in range(n_steps):
            ib = idx[:, s]
            g, loss = step_fn(params, x[ib], y_b[:, s], f0_a.gather(1, ib), al_a)
            for name in params:
                params[name] -= lr_a.view(-1, *[1] * (params[name].ndim - 1)) * g[name]
            moved[:, s] = loss != 0
        step += n_steps
        bar.update(n_steps)
        any_move = moved.any(1).cpu().numpy()
        last_in_chunk = n_steps - 1 - moved.flip(1).int().argmax(1).cpu().numpy()
        last_update[active[any_move]] = step - n_steps + last_in_chunk[any_move]
        z = al_a[:, None] * y[None, :] * (outputs(params, base, x) - f0_a)
        m = mask[a_idx]
        n_unfit = ((z < 1) & m).sum(1)
        train_loss = (torch.relu(1 - z) * m).sum(1) / m.sum(1) / al_a ** 2
        row_loss = np.full(k, np.nan)
        row_loss[active] = train_loss.cpu().numpy()
        row_unfit = np.full(k, np.nan)
        row_unfit[active] = (n_unfit.cpu().numpy() / n_np[active])
        checks.append(step), losses.append(row_loss), unfit.append(row_unfit)
        diverged = ~torch.isfinite(train_loss).cpu().numpy()
        fitted = (n_unfit == 0).cpu().numpy() & ~diverged & stop_when_fitted
        leave = fitted | diverged | (step >= max_steps)
        status[active[fitted]] = "fitted"
        status[active[diverged]] = "diverged"
        steps_done[active[fitted]] = last_update[active[fitted]] + 1
        steps_done[active[~fitted & leave]] = step
        if leave.any():
            keep = torch.as_tensor(~leave, device=device)
            for name in params:
                final[name][a_idx[~keep]] = params[name][~keep]
                params[name] = params[name][keep]
            active = active[~leave]
    bar.close()
    fT = outputs(final, base, x_test) - f0_test
    test_error = (torch.sign(alpha_t[:, None] * fT) != y_test[None, :]).double().mean(1).cpu().numpy()
    layer = np.stack([((final[n] - init[n]).flatten(1).norm(dim=1) / init[n].flatten(1).norm(dim=1)).cpu().numpy()
                      for n in final], axis=1)
    total = np.sqrt(sum(((final[n] - init[n]) ** 2).flatten(1).sum(1) for n in final).cpu().numpy()
                    / sum((init[n] ** 2).flatten(1).sum(1) for n in final).cpu().numpy())
    bad = status == "diverged"
    test_error[bad], total[bad], layer[bad] = np.nan, np.nan, np.nan
    return EnsembleResult(status=status.astype(str), steps=steps_done, time=steps_done * lr_np, test_error=test_error,
                          weight_change=total, layer_change=layer, check_steps=np.array(checks),
                          train_loss=np.array(losses).T, unfitted=np.array(unfit).T,
                          params={n: p.detach().cpu() for n, p in final.items()})
