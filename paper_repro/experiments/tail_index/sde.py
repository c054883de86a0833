"""Euler scheme for Levy-driven (alpha < 2) and Brownian (alpha = 2) SDEs in a basin; first-exit times."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch

from ...core.config import check_positive
from ...core.progress import progress as tqdm  # silent in batch runs (no bar saved in notebooks)
from .noise import sample_sas, sas_levy_constant


@dataclasses.dataclass(frozen=True)
class ExitTimes:
    """First-exit times of particles from the basin |x| < width, one row per (alpha, eps, width) setting."""

    alpha: np.ndarray  # [S] tail index of the driving noise (2 = Brownian)
    eps: np.ndarray  # [S] noise scale epsilon
    width: np.ndarray  # [S] basin half-width a
    times: np.ndarray  # [S, n_particles] exit times (= t_max where censored)
    censored: np.ndarray  # [S, n_particles] True if the particle had not left by t_max

    @property
    def mean(self) -> np.ndarray:
        """Mean exit time per setting (a lower bound where some particles are censored)."""
        return self.times.mean(1)

    @property
    def censored_fraction(self) -> np.ndarray:
        """Fraction of particles still inside at t_max, per setting."""
        return self.censored.mean(1)


def simulate_exit(alpha, eps, width, n_particles: int = 1000, dt: float = 0.01, t_max: float = 200.0,
                  seed: int = 0, device="cpu", progress: bool = False) -> ExitTimes:
    """First exit of dX = -U'(X) dt + eps dL^alpha_t, U(x) = x^2/2, from (-a, a), X_0 = 0 (Euler scheme).

    Each step: X <- X - X dt + eps dt^(1/alpha) S, S ~ SaS(alpha, 1); alpha = 2 is Brownian motion with
    variance 2 eps^2 t (sigma = sqrt(2) eps). Settings are broadcast together and simulated in one tensor.
    """
    check_positive("n_particles", n_particles, integer=True)
    check_positive("dt", dt)
    check_positive("t_max", t_max)
    alpha, eps, width = (np.asarray(v, float) for v in np.broadcast_arrays(alpha, eps, width))
    s = alpha.size
    dev = torch.device(device)
    gen = torch.Generator(device=dev).manual_seed(seed)
    # active particles only, flat: position, setting id; finished ones are dropped every `compact` steps
    sid = torch.arange(s, device=dev).repeat_interleave(n_particles)
    x = torch.zeros(s * n_particles, dtype=torch.float64, device=dev)
    pid = torch.arange(s * n_particles, device=dev)
    a_s = torch.as_tensor(width, device=dev)
    amp_s = torch.as_tensor(eps * dt ** (1.0 / alpha), device=dev)
    alpha_s = torch.as_tensor(alpha, device=dev)
    exit_step = torch.full((s * n_particles,), -1, dtype=torch.long, device=dev)
    n_steps = int(math.ceil(t_max / dt))
    compact = 64
    for step in tqdm(range(1, n_steps + 1), disable=not progress, desc="SDE", leave=False):
        if (step - 1) % compact == 0:
            keep = exit_step[pid] < 0
            x, sid, pid = x[keep], sid[keep], pid[keep]
            alive = torch.ones_like(x, dtype=torch.bool)
            if not len(x):
                break
            amp, bound = amp_s[sid], a_s[sid]
            groups = [(float(a), torch.nonzero(alpha_s[sid] == a).reshape(-1)) for a in torch.unique(alpha_s[sid])]
        noise = torch.empty_like(x)
        for a, idx in groups:
            noise[idx] = (math.sqrt(2.0) * torch.randn(len(idx), generator=gen, device=dev, dtype=torch.float64)
                          if a == 2.0 else sample_sas(a, len(idx), generator=gen, device=dev, dtype=torch.float64))
        x = x - x * dt + amp * noise
        out = (x.abs() >= bound) & alive
        if out.any():
            exit_step[pid[out]] = step
            alive &= ~out
            x = torch.where(out, torch.zeros_like(x), x)  # parked until the next compaction; its time is recorded
    exit_step = exit_step.reshape(s, n_particles)
    censored = (exit_step < 0).cpu().numpy()
    times = np.where(censored, n_steps, exit_step.cpu().numpy()) * dt
    return ExitTimes(alpha=alpha.reshape(-1), eps=eps.reshape(-1), width=width.reshape(-1), times=times,
                     censored=censored)


def levy_exit_theory(alpha, eps, width):
    """Mean first-exit time for small eps (Imkeller & Pavlyukevich 2006): alpha a^alpha / (2 c_alpha eps^alpha).

    Jumps of size > a arrive at rate eps^alpha nu(|y| > a) = 2 c_alpha eps^alpha a^(-alpha) / alpha: polynomial in
    the width a and in 1/eps.
    """
    alpha, eps, width = np.broadcast_arrays(np.asarray(alpha, float), np.asarray(eps, float), np.asarray(width, float))
    c = np.vectorize(sas_levy_constant)(alpha)
    return alpha * width ** alpha / (2.0 * c * eps ** alpha)


def brownian_exit_theory(sigma, width, dt: float = 0.0, n_grid: int = 4001):
    """Exact mean exit time of dX = -X dt + sigma dW from (-a, a) started at 0 (solves L T = -1 numerically).

    T(0) = (2/sigma^2) int_0^a psi(y) int_0^y 1/psi(z) dz dy with psi = exp(2U/sigma^2): exponential in a^2/sigma^2.
    ``dt`` > 0 applies the discrete-monitoring correction of an Euler scheme with step dt (Broadie, Glasserman &
    Kou 1997): the boundary moves out to a + 0.5826 sigma sqrt(dt).
    """
    sigma, width = np.broadcast_arrays(np.asarray(sigma, float), np.asarray(width, float))
    width = width + 0.5826 * sigma * np.sqrt(dt)
    out = np.empty(sigma.shape)
    for i, (s, a) in enumerate(zip(sigma.reshape(-1), width.reshape(-1))):
        y = np.linspace(0.0, a, n_grid)
        inner = np.concatenate([[0.0], np.cumsum(0.5 * (np.exp(-y[1:] ** 2 / s ** 2) + np.exp(-y[:-1] ** 2 / s ** 2))
                                                 * np.diff(y))])
        outer = np.exp(y ** 2 / s ** 2) * inner
        out.reshape(-1)[i] = 2.0 / s ** 2 * np.trapezoid(outer, y)
    return out
