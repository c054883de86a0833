"""Vectorised ensembles of scalar-output nets trained by SGD exactly as the released code of Sclocchi et al. (2023).

Released code (AntonioScl/SGD_learning_regimes, ``edm/architecture.py``, ``edm/train.py``, ``edm/dynamics.py``):
hidden layers z = rho(W x / sqrt(fan_in)) with rho = phi / sqrt(E_{z~N(0,1)} phi(z)^2) (so sqrt(2) ReLU), readout
F(w, x) = W h / h (1/h, not 1/sqrt(h)), centred output F(w, x) - F(w0, x), loss l(alpha F, y) / alpha with the
hinge l = max(0, 1 - y o), plain SGD w <- w - dt grad <loss>_batch with a batch of B distinct indices per step,
dt = T h B (the paper's temperature T = dt / (B h)), stop when the training loss is exactly zero.
Members (own alpha, dt, P, seed, stop time) are stacked with ``torch.func.stack_module_state``; the released
``mlp`` is stepped by hand-written batched backprop (:mod:`.ensemble_mlp`), any other architecture
(MNAS) with ``vmap(grad(functional_call))``; a test pins the two to the same step.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, grad_and_value, stack_module_state, vmap

STATUSES = ("fitted", "capped", "diverged")




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
    time: np.ndarray           # t* = steps * dt (the released code's t)
    test_error: np.ndarray     # fraction of test points with sign(F) != y (NaN when diverged)
    weight_change: np.ndarray  # ||w - w0|| / ||w0|| over all layers
    layer_change: np.ndarray   # [k, n_layers] the same per layer
    check_steps: np.ndarray    # [n_checks] steps at which the full training set was evaluated
    train_loss: np.ndarray     # [k, n_checks] alpha x training loss (NaN after the member stopped)
    unfitted: np.ndarray       # [k, n_checks] fraction of training points with alpha y F < 1
    params: dict               # final stacked weights {name: [k, ...]} (CPU)


def _forward(base: nn.Module):
    """F(w, x) -> [n] scalar outputs of the base architecture with weights w."""
    return lambda p, x: functional_call(base, p, (x,)).reshape(x.shape[0])


def _hinge(base: nn.Module):
    """Released loss of one member on one batch: mean max(0, 1 - alpha y (F(w,x) - F(w0,x))) / alpha."""
    fwd = _forward(base)

    def loss(p, xb, yb, f0b, alpha):
        return torch.relu(1.0 - alpha * yb * (fwd(p, xb) - f0b)).mean() / alpha
    return loss


def _sgd_step(base: nn.Module):
    """In-place SGD step (params, xb, yb, f0b, alpha, dt) -> losses: hand-written for the released mlp, else vmap."""
    from .ensemble_mlp import mlp_layers, sgd_step
    layers = mlp_layers(base)
    if layers is not None:
        return lambda params, *args: sgd_step(params, layers, *args)
    return vmap_sgd_step(base)


def vmap_sgd_step(base: nn.Module):
    """The same in-place step through vmap(grad) of the released loss (any architecture)."""
    grad_fn = vmap(grad_and_value(_hinge(base)))

    def step(params, xb, yb, f0b, alpha, lr):
        g, loss = grad_fn(params, xb, yb, f0b, alpha)
        for name in params:
            params[name] -= lr.view(-1, *[1] * (params[name].ndim - 1)) * g[name]
        return loss
    return step


@torch.no_grad()
def outputs(params: dict, base: nn.Module, x: torch.Tensor, chunk: int = 1024, member_chunk: int = 16) -> torch.Tensor:
    """F(w_k, x) for every member and point: [k, n]; peak memory ~ member_chunk x chunk x (largest activation)."""
    from .ensemble_mlp import forward, mlp_layers
    layers = mlp_layers(base)
    fwd = vmap(_forward(base), in_dims=(0, None)) if layers is None else lambda p, xc: forward(p, layers, xc)
    k = next(iter(params.values())).shape[0]
    rows = []
    for m in range(0, k, member_chunk):
        sub = {n: p[m:m + member_chunk] for n, p in params.items()}
        rows.append(torch.cat([fwd(sub, x[i:i + chunk]) for i in range(0, len(x), chunk)], dim=1))
    return torch.cat(rows, dim=0)


def distinct_batches(gen: torch.Generator, n: int, steps: int, batch_size: int) -> torch.Tensor:
    """[steps, B] indices, each row B distinct uniform indices of range(n) (as permutation(n)[:B]).

    Rejection (i.i.d. rows redrawn until distinct) while a row is accepted with probability
    prod_{k<B} (1 - k/n) >= 1/100 (every chapter preset: >= 0.13); below, rows of random keys sorted (argsort of
    U(0,1)^n), which draws from the same law (uniform ordered B-subsets) without ~1/p redraws per row.
    """
    if batch_size >= n:
        return torch.arange(n).expand(steps, n).clone()
    if sum(np.log1p(-np.arange(batch_size) / n)) < np.log(1e-2):
        return torch.rand(steps, n, generator=gen).argsort(dim=1)[:, :batch_size].contiguous()
    idx = torch.randint(n, (steps, batch_size), generator=gen)
    rows = idx.numpy()  # a view: the checks in numpy (torch's per-call cost dominated them), only redrawn rows
    s = np.sort(rows, 1)  # re-checked; the same draws as re-checking every row
    todo = np.flatnonzero((s[:, 1:] == s[:, :-1]).any(1))
    while len(todo):
        rows[todo] = redrawn = torch.randint(n, (len(todo), batch_size), generator=gen).numpy()
        s = np.sort(redrawn, 1)
        todo = todo[(s[:, 1:] == s[:, :-1]).any(1)]
    return idx


def _as_array(v, k: int, dtype) -> np.ndarray:
    """Broadcast a scalar or a length-k sequence to a length-k array."""
    return np.broadcast_to(np.asarray(v, dtype=dtype), (k,)).copy()


def _layer_changes(final: dict, init: dict) -> tuple[np.ndarray, np.ndarray]:
    """Per-layer and total ||w - w0|| / ||w0||."""
    layer = np.stack([((final[n] - init[n]).flatten(1).norm(dim=1) / init[n].flatten(1).norm(dim=1)).cpu().numpy()
                      for n in final], axis=1)
    num = sum(((final[n] - init[n]) ** 2).flatten(1).sum(1) for n in final)
    den = sum((init[n] ** 2).flatten(1).sum(1) for n in final)
    return layer, torch.sqrt(num / den).cpu().numpy()


def _groups(train_index: torch.Tensor, n_np: np.ndarray) -> list[tuple[np.ndarray, torch.Tensor]]:
    """[(members, rows)]: members whose index rows agree on the group's longest n_train, and those rows."""
    out: list = []
    for i in np.argsort(-n_np, kind="stable"):
        row = train_index[i, :n_np[i]]
        for g, (members, rows) in enumerate(out):
            if len(rows) >= len(row) and torch.equal(rows[:len(row)], row):
                out[g] = (np.append(members, i), rows)
                break
        else:
            out.append((np.array([i]), row))
    return out


def _check(params, base, x, y, f0_a, al_a, n_a, active, groups, ev):
    """(unfitted count, alpha x training hinge loss) of each active member on its own training rows."""
    pos = {int(m): j for j, m in enumerate(active)}
    n_unfit = torch.zeros(len(active), dtype=torch.long, device=x.device)
    loss = torch.zeros(len(active), dtype=x.dtype, device=x.device)
    for members, rows in groups:
        sel = torch.as_tensor([pos[int(m)] for m in members if int(m) in pos], dtype=torch.long, device=x.device)
        if not len(sel):
            continue
        sub = {n: p[sel] for n, p in params.items()}
        z = al_a[sel, None] * y[rows][None, :] * (outputs(sub, base, x[rows], **ev) - f0_a[sel][:, rows])
        m = torch.arange(len(rows), device=x.device)[None, :] < n_a[sel][:, None]
        n_unfit[sel] = ((z < 1) & m).sum(1)
        loss[sel] = (torch.relu(1 - z) * m).sum(1) / m.sum(1)
    return n_unfit, loss


def train_ensemble(models: list[nn.Module], x: torch.Tensor, y: torch.Tensor, x_test: torch.Tensor,
                   y_test: torch.Tensor, *, alpha, lr, n_train=None, seeds=None, batch_size: int = 16,
                   max_steps: int = 10_000, check_every: int = 100, stop_when_fitted: bool = True,
                   progress: bool = False, eval_chunk: int = 1024, member_chunk: int = 16,
                   check_growth: float = 0.0, train_index: torch.Tensor | None = None) -> EnsembleResult:
    """Train k members by SGD, w <- w - dt_k grad <l(alpha_k F, y)/alpha_k>_batch, until each fits its set.

    ``lr`` is the released code's dt (= T h B). The full training set is checked at multiples of ``check_every``
    steps, at most ``check_growth`` x (steps so far) apart (0: every ``check_every``); a member whose loss is
    exactly zero leaves the ensemble and its t* is the step after its last non-zero gradient. A zero training loss
    means every later batch gradient is zero, so the cadence changes neither the status nor t* nor the weights of
    fitted and capped members (each member keeps its own batch stream); it only moves the step at which a
    divergence is detected (``steps`` of diverged members), and the cost. ``train_index`` [k, >= n_train]: member
    i trains on x[train_index[i, :n_train[i]]] (its own draw, as released); None: on x[:n_train[i]].
    """
    k, device = len(models), x.device
    alpha_np, lr_np = _as_array(alpha, k, float), _as_array(lr, k, float)
    n_np = _as_array(len(x) if n_train is None else n_train, k, np.int64)
    seeds_np = _as_array(range(k) if seeds is None else seeds, k, np.int64)
    if n_np.max() > (len(x) if train_index is None else train_index.shape[1]):
        raise ValueError(f"n_train up to {n_np.max()} but only {len(x)} training points were given")
    if train_index is None:
        train_index = torch.arange(int(n_np.max()), device=device).expand(k, -1)
    train_index = train_index.to(device)
    params, base = stack(models)
    params = {n: p.to(device) for n, p in params.items()}
    init = {n: p.clone() for n, p in params.items()}
    final = {n: p.clone() for n, p in params.items()}
    ev = dict(chunk=eval_chunk, member_chunk=member_chunk)
    f0, f0_test = outputs(params, base, x, **ev), outputs(params, base, x_test, **ev)
    gens = [torch.Generator().manual_seed(int(s)) for s in seeds_np]
    alpha_t = torch.tensor(alpha_np, dtype=x.dtype, device=device)
    lr_t = torch.tensor(lr_np, dtype=x.dtype, device=device)
    groups = _groups(train_index, n_np)  # members sharing a training draw are checked on it together
    n_t = torch.as_tensor(n_np, device=device)
    step_fn = _sgd_step(base)
    active = np.arange(k)
    status = np.array(["capped"] * k, dtype=object)
    steps_done, last_update = np.zeros(k, np.int64), np.full(k, -1, np.int64)
    checks, losses, unfit = [], [], []
    step = next_check = 0
    while len(active) and step < max_steps:
        n_steps = min(check_every, max_steps - step)
        idx = torch.stack([train_index[i][distinct_batches(gens[i], int(n_np[i]), n_steps, batch_size).to(device)]
                           for i in active])
        a_idx = torch.as_tensor(active, device=device)
        lr_a, al_a, f0_a, y_b = lr_t[a_idx], alpha_t[a_idx], f0[a_idx], y[idx]
        moved = torch.zeros(len(active), n_steps, dtype=torch.bool, device=device)
        for s in range(n_steps):
            ib = idx[:, s]
            loss = step_fn(params, x[ib], y_b[:, s], f0_a.gather(1, ib), al_a, lr_a)
            moved[:, s] = loss != 0
        step += n_steps
        any_move = moved.any(1).cpu().numpy()
        last_in_chunk = n_steps - 1 - moved.flip(1).int().argmax(1).cpu().numpy()
        last_update[active[any_move]] = step - n_steps + last_in_chunk[any_move]
        if step < next_check and step < max_steps:
            continue
        next_check = step + check_every * max(1, int(step * check_growth / check_every))
        n_unfit, train_loss = _check(params, base, x, y, f0_a, al_a, n_t[a_idx], active, groups, ev)
        row_loss, row_unfit = np.full(k, np.nan), np.full(k, np.nan)
        row_loss[active] = train_loss.cpu().numpy()
        row_unfit[active] = n_unfit.cpu().numpy() / n_np[active]
        checks.append(step), losses.append(row_loss), unfit.append(row_unfit)
        diverged = ~torch.isfinite(train_loss).cpu().numpy()
        fitted = (n_unfit == 0).cpu().numpy() & ~diverged & stop_when_fitted
        leave = fitted | diverged | (step >= max_steps)
        status[active[fitted]], status[active[diverged]] = "fitted", "diverged"
        steps_done[active[fitted]] = last_update[active[fitted]] + 1
        steps_done[active[~fitted & leave]] = step
        if leave.any():
            keep = torch.as_tensor(~leave, device=device)
            for name in params:
                final[name][a_idx[~keep]] = params[name][~keep]
                params[name] = params[name][keep]
            active = active[~leave]
    fT = outputs(final, base, x_test, **ev) - f0_test
    test_error = (torch.sign(fT) != y_test[None, :]).double().mean(1).cpu().numpy()
    layer, total = _layer_changes(final, init)
    bad = status == "diverged"
    test_error[bad], total[bad], layer[bad] = np.nan, np.nan, np.nan
    return EnsembleResult(status=status.astype(str), steps=steps_done, time=steps_done * lr_np, test_error=test_error,
                          weight_change=total, layer_change=layer, check_steps=np.array(checks),
                          train_loss=np.array(losses).T, unfitted=np.array(unfit).T,
                          params={n: p.detach().cpu() for n, p in final.items()})
