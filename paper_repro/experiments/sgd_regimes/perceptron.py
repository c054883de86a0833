"""Perceptron of Sclocchi et al. (2023, Sec. 5) trained by SGD on the hinge loss, step by step or event-driven.

Data: x in R^d with x_1 of density rho(x_1) ∝ |x_1|^chi exp(-x_1^2/2) and x_2..x_d ~ N(0, 1); label y = sign(x_1).
Model f(w, x) = w . x / sqrt(d), w(0) = 0 (for a linear model the alpha scaling only rescales w, so alpha = 1).
SGD: w <- w + (lr/B) sum_{mu in batch, y_mu f_mu < 1} y_mu x_mu / sqrt(d), a fresh batch of B i.i.d. uniform
indices per step, temperature T = lr/B, training time t = steps * lr, stop when every margin y f >= 1.
Released units (edm ``--arch linear --dataset depleted_sign``, random w0, loss hinge(alpha (F - F0))/alpha, dt = T B):
u = alpha (w - w0) is this w at temperature alpha T, so T_paper = T / alpha, w_paper - w0 = w / alpha,
t_paper = t / alpha (tests/test_perceptron.py pins it). Batches here are i.i.d.; the released code draws B distinct
points (at B = 2 they differ only when the two indices coincide, probability 1/P).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

STATUSES = ("fitted", "capped")


@dataclass(frozen=True)
class PerceptronData:
    """A synthetic training set: x [P, d] and labels y = sign(x_1) in ±1."""

    x: np.ndarray
    y: np.ndarray
    chi: float


def sample_data(P: int, d: int, chi: float, seed: int = 0) -> PerceptronData:
    """P points with |x_1| ~ sqrt(2 Gamma((1+chi)/2)) (density ∝ |x_1|^chi e^{-x_1^2/2}), others N(0,1)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((P, d))
    x1 = np.sqrt(2 * rng.gamma((1 + chi) / 2, 1.0, P)) * rng.choice([-1.0, 1.0], P)
    x[:, 0] = x1
    return PerceptronData(x=x, y=np.sign(x1), chi=float(chi))


def generalization_error(w_par, w_perp, chi: float, n: int = 200_000, seed: int = 12345) -> np.ndarray:
    """Generalisation error E_{x_1}[Phi(-w_1 |x_1| / ||w_perp||)] (Monte Carlo over x_1, exact over x_perp)."""
    rng = np.random.default_rng(seed)
    x1 = np.sqrt(2 * rng.gamma((1 + chi) / 2, 1.0, n))
    w_par, w_perp = np.atleast_1d(np.asarray(w_par, float)), np.atleast_1d(np.asarray(w_perp, float))
    out = np.array([ndtr(-a * x1 / max(b, 1e-300)).mean() for a, b in zip(w_par, w_perp)])
    return out


@dataclass(frozen=True)
class PerceptronRun:
    """One SGD run: status, steps and t* = steps * lr, the final weights and their signal / noise parts."""

    status: str        # "fitted" (all margins >= 1) or "capped" (max_steps reached first)
    steps: int         # SGD steps taken (including the skipped steps with no unfitted point in the batch)
    time: float        # t* = steps * lr
    updates: int       # steps whose batch held at least one unfitted point
    w: np.ndarray      # final weights [d]
    w_par: float       # w_1: the informative weight along the true direction
    w_perp: float      # ||(w_2..w_d)||: the uninformative (noise) part
    w_norm: float      # ||w|| (= ||w - w0||, w0 = 0)


def _finish(status, steps, updates, w, lr) -> PerceptronRun:
    return PerceptronRun(status=status, steps=int(steps), time=float(steps * lr), updates=int(updates), w=w,
                         w_par=float(w[0]), w_perp=float(np.linalg.norm(w[1:])), w_norm=float(np.linalg.norm(w)))


def train_steps(data: PerceptronData, temperature: float, batch_size: int = 2, max_steps: int = 10 ** 7,
                seed: int = 0) -> PerceptronRun:
    """Plain step-by-step SGD (the reference the event-driven version is checked against)."""
    x, y = data.x, data.y
    P, d = x.shape
    lr = temperature * batch_size
    rng = np.random.default_rng(seed)
    w = np.zeros(d)
    margins = np.zeros(P)
    updates = 0
    for step in range(max_steps):
        if not (margins < 1).any():
            return _finish("fitted", step, updates, w, lr)
        idx = rng.integers(P, size=batch_size)
        hit = idx[margins[idx] < 1]
        if len(hit):
            dw = (lr / batch_size) * (y[hit, None] * x[hit]).sum(0) / np.sqrt(d)
            w = w + dw
            margins = margins + y * (x @ dw) / np.sqrt(d)
            updates += 1
    return _finish("capped", max_steps, updates, w, lr)


def train_event_driven(data: PerceptronData, temperature: float, batch_size: int = 2,
                       max_steps: int = 10 ** 12, seed: int = 0, gram_max: int = 4096) -> PerceptronRun:
    """Exact event-driven SGD: jump over the steps whose batch holds no unfitted point.

    With n_u unfitted of P points and q = n_u/P, a batch of B i.i.d. indices misses them all with probability
    (1-q)^B, so the wait until the next useful step is Geometric(1-(1-q)^B); in that batch the first unfitted
    index sits at position j with P(j) ∝ (1-q)^(j-1), earlier indices are fitted, later ones are uniform.
    """
    x, y = data.x, data.y
    P, d = x.shape
    lr, B = temperature * batch_size, batch_size
    rng = np.random.default_rng(seed)
    w = np.zeros(d)
    margins = np.zeros(P)
    yx = y[:, None] * x / np.sqrt(d)                       # rows y_mu x_mu / sqrt(d)
    gram = yx @ yx.T if P <= gram_max else None            # margin change of mu per unit step on nu
    step = updates = 0
    while True:
        unfit = np.flatnonzero(margins < 1)
        if len(unfit) == 0:
            return _finish("fitted", step, updates, w, lr)
        q = len(unfit) / P
        wait = rng.geometric(1 - (1 - q) ** B) if q < 1 else 1
        if step + wait > max_steps:
            return _finish("capped", max_steps, updates, w, lr)
        step += wait
        pj = (1 - q) ** np.arange(B)
        j = rng.choice(B, p=pj / pj.sum())
        idx = np.concatenate([[rng.choice(unfit)], rng.integers(P, size=B - 1 - j)])
        hit = idx[margins[idx] < 1]
        c = lr / B
        w = w + c * yx[hit].sum(0)
        margins = margins + c * (gram[:, hit].sum(1) if gram is not None else x @ yx[hit].sum(0) * y / np.sqrt(d))
        updates += 1


def train(data: PerceptronData, temperature: float, batch_size: int = 2, max_steps: int = 10 ** 12,
          seed: int = 0, event_driven: bool = True) -> PerceptronRun:
    """SGD on the perceptron until the training hinge loss vanishes (event-driven by default)."""
    if event_driven:
        return train_event_driven(data, temperature, batch_size, max_steps, seed)
    return train_steps(data, temperature, batch_size, int(min(max_steps, 10 ** 8)), seed)


# Fitted 2026-12-01 (scratch scripts, not in the repo) by least squares on log(updates) of 981 measured B = 2 runs of
# train_event_driven: chi in {0, 1, 3}, d in {32, 64, 128, 256}, P = 64..16384, simulation temperature 0.5..32768
# (paper T = 2^-16..2^0 at alpha = 2^15), 2-16 seeds per cell. rms log-residual 0.21; every run within a factor 2.7
# (chi = 3 over-estimated by ~1.3x on average). The T-dependence saturates: above T ~ 10 the rescaled dynamics w / T
# no longer depends on T (noise-dominated), below it the count grows like 1/T. Other batch sizes were not measured.
_COST_FIT = dict(a0=-2.93, a1=1.64, y0=0.08, y1=1.62, z0=1.11, z1=-1.67, T0=2.33)


def estimate_cost(P: int, d: int, temperature: float, chi: float, batch_size: int = 2,
                  gram_max: int = 4096) -> tuple[float, float]:
    """Predicted (updates, FLOPs) of one ``train_event_driven`` run (temperature in simulation units, alpha T_paper).

    log n = a0 + a1 s + (y0 + y1 s) log P + (z0 + z1 s) log d + log(1 + T0 / T),  s = 1 / (1 + chi);
    FLOPs = 2 P d [+ 2 P^2 d if P <= gram_max] + n [(B + 1) d + 2 P + ((B + 1) P if gram else 2 P d + 4 P + (B - 1) d)]
    (setup yx and gram; per update: the unfit scan 2P, w += c sum yx[hit] (B+1)d, the margin update).
    """
    c, s, B = _COST_FIT, 1.0 / (1.0 + chi), batch_size
    n = float(np.exp(c["a0"] + c["a1"] * s + (c["y0"] + c["y1"] * s) * np.log(P) + (c["z0"] + c["z1"] * s) * np.log(d))
              * (1.0 + c["T0"] / temperature))
    gram = P <= gram_max
    setup = 2.0 * P * d + (2.0 * P * P * d if gram else 0.0)
    per_update = (B + 1) * d + 2 * P + ((B + 1) * P if gram else 2 * P * d + 4 * P + (B - 1) * d)
    return n, setup + n * per_update
