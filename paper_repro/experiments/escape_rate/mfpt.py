"""Exact finite-c mean first-passage times of the continuous-time SDEs of linear regression (derived here).

Reduced units: H = h I, L = L* (1 + rho^2) with rho = |theta - theta*| / sqrt(2 L*/h), time in units of 1/h. The
only parameter left is eps = eta h / B (the temperature T of Mori et al.'s Eq. 21), and the dimension d = n.
The radial process rho of dtheta = -grad L dt + sqrt(eta Sigma) dW has drift b = -rho + (d-1) D_t / rho and
diffusion D_r, with D = eps s / 2 for a noise law s (Sigma = s(rho) 2 L* h / B along each direction):

* ``decoupled`` (the paper's Eq. 6/13): s_r = s_t = 1 + rho^2;
* ``gaussian`` (exact covariance for Gaussian inputs, theta* ~ 0): s_r = 1 + 2 rho^2, s_t = 1 + rho^2;
* ``langevin`` (constant noise, Arrhenius): s_r = s_t = 1.

Scale density s(y) = y^(1-d) exp(-G(y)) with G = int_0^y [b/D - (d-1)/y], speed density m = 1/(D s), and the mean
first-passage time from rho = 0 to rho_c = sqrt(c - 1) is T = int_0^rho_c s(y) int_0^y m(z) dz dy.
"""
from __future__ import annotations

import numpy as np

from ...core.config import check_choice, check_positive

MODELS = ("decoupled", "gaussian", "langevin")


def _g(y: np.ndarray, eps: float, d: int, model: str) -> tuple[np.ndarray, np.ndarray]:
    """(G(y), D_r(y)) of a noise model: G = int_0^y [b/D_r - (d-1)/y'] dy' in closed form."""
    if model == "decoupled":
        return -np.log1p(y ** 2) / eps, 0.5 * eps * (1 + y ** 2)
    if model == "gaussian":
        return -(1 / (2 * eps) + (d - 1) / 4) * np.log1p(2 * y ** 2), 0.5 * eps * (1 + 2 * y ** 2)
    return -y ** 2 / eps, np.full_like(y, 0.5 * eps)


def mfpt(c, eps: float, d: int, model: str = "decoupled", points: int = 4001) -> np.ndarray:
    """Mean first-passage time (units of 1/h) from theta* to L = c L* for each threshold c > 1, by quadrature."""
    check_choice("model", model, MODELS)
    check_positive("eps", eps)
    check_positive("d", d, integer=True)
    out = []
    for ci in np.atleast_1d(np.asarray(c, float)):
        if not ci > 1:
            raise ValueError(f"threshold c={ci} must exceed 1")
        y = np.linspace(0.0, np.sqrt(ci - 1), points)
        g, dr = _g(y, eps, d, model)
        log_inner = (d - 1) * np.log(np.maximum(y, 1e-300)) + g - np.log(dr)  # log m(z)
        shift = log_inner.max()
        inner = np.exp(log_inner - shift)
        cum = np.concatenate([[0.0], np.cumsum(0.5 * (inner[1:] + inner[:-1]) * np.diff(y))])  # int_0^y m
        outer = np.zeros_like(y)
        outer[1:] = np.exp((1 - d) * np.log(y[1:]) - g[1:] + shift) * cum[1:]
        out.append(float(np.sum(0.5 * (outer[1:] + outer[:-1]) * np.diff(y))))
    return np.array(out)


def watched_threshold(c, eps: float, d: int, model: str, dt: float) -> np.ndarray:
    """The threshold whose continuous first passage matches that of a path looked at every ``dt``: rho_c shifted up
    by 0.5826 sqrt(2 D_r dt) (Siegmund's correction; 0.5826 = -zeta(1/2)/sqrt(2 pi))."""
    rho = np.sqrt(np.asarray(c, float) - 1)
    _, dr = _g(rho, eps, d, model)
    return 1 + (rho + 0.5826 * np.sqrt(2 * dr * dt)) ** 2


def window_slope(c, eps: float, d: int, model: str = "decoupled") -> float:
    """Least-squares slope of log T against log c over the thresholds ``c`` (the finite-c prediction of a fit)."""
    c = np.asarray(c, float)
    return float(np.polyfit(np.log(c), np.log(mfpt(c, eps, d, model)), 1)[0]) if len(c) >= 2 else float("nan")


def local_slopes(c, eps: float, d: int, model: str = "decoupled") -> np.ndarray:
    """d log T / d log c between consecutive thresholds."""
    c = np.asarray(c, float)
    return np.diff(np.log(mfpt(c, eps, d, model))) / np.diff(np.log(c))


def asymptote(eps: float, d: int) -> float:
    """Large-c exponent of the decoupled SDE, Mori et al.'s Eq. (17) with n = d: 1/eps + 1 - d/2."""
    return 1.0 / eps + 1.0 - d / 2


def critical_dimension(eps: float) -> float:
    """Eq. (19): n_c = 2 (B/(eta h*) + 1); below it r^(d-1) L^-phi is normalisable (a stationary state exists)."""
    return 2.0 * (1.0 / eps + 1.0)


def simulate(c, eps: float, d: int, runs: int, dt: float, max_steps: int, model: str = "decoupled",
             seed: int = 0) -> np.ndarray:
    """Euler-Maruyama first-passage times (reduced units) of the d-dimensional SDE with a fine step ``dt``.

    Returns times [C, runs], inf where a run had not reached c L* after ``max_steps`` steps. Independent of the
    quadrature (it simulates theta in R^d, not the radial process) and of the SGD code, so it tests both.
    """
    check_choice("model", model, MODELS)
    cs = np.sort(np.asarray(c, float))
    rng = np.random.default_rng(seed)
    u = np.zeros((runs, d))
    times, active = np.full((len(cs), runs), np.inf), np.arange(runs)
    level = np.zeros(runs, int)
    for k in range(1, max_steps + 1):
        u = em_step(u, eps, dt, model, rng)
        new = np.searchsorted(cs, 1 + (u * u).sum(1), side="left")
        hit = np.flatnonzero(new > level)
        for j in hit:
            times[level[j]:new[j], active[j]] = k * dt
        level = np.maximum(level, new)
        keep = level < len(cs)
        u, active, level = u[keep], active[keep], level[keep]
        if not len(active):
            break
    return times


def em_step(u: np.ndarray, eps: float, dt: float, model: str, rng: np.random.Generator) -> np.ndarray:
    """One Euler-Maruyama step du = -u dt + sqrt(eps s(u)) dW of runs u [M, d] in reduced units."""
    rho2 = (u * u).sum(1, keepdims=True)
    xi = rng.standard_normal(u.shape)
    if model == "gaussian":  # Sigma ~ (1 + rho^2) I + u u^T: its square root acts on xi exactly
        e = u / np.sqrt(np.maximum(rho2, 1e-300))
        proj = (xi * e).sum(1, keepdims=True) * e
        noise = np.sqrt(1 + rho2) * (xi - proj) + np.sqrt(1 + 2 * rho2) * proj
    else:
        noise = (np.sqrt(1 + rho2) if model == "decoupled" else 1.0) * xi
    return u - u * dt + np.sqrt(eps * dt) * noise


def log_loss_drift(eps: float, d: int, runs: int, dt: float, steps: int, c0: float = 100.0, model: str = "decoupled",
                   seed: int = 0) -> tuple[float, float]:
    """Mean rate of change of log L (per unit 1/h) of runs started at L = c0 L* on random directions, and its
    standard error over runs. At large L the decoupled SDE gives eps (d - n_c) (Ito on log rho; derived here):
    negative (the minimum holds) below the critical dimension n_c of Eq. (19), positive (runaway) above it."""
    check_choice("model", model, MODELS)
    rng = np.random.default_rng(seed)
    u = rng.standard_normal((runs, d))
    u *= np.sqrt(c0 - 1) / np.linalg.norm(u, axis=1, keepdims=True)
    for _ in range(steps):
        u = em_step(u, eps, dt, model, rng)
    rate = (np.log1p((u * u).sum(1)) - np.log(c0)) / (steps * dt)
    return float(rate.mean()), float(rate.std(ddof=1) / np.sqrt(runs))


def synthetic_times(c, mean_t, runs: int, rng: np.random.Generator) -> np.ndarray:
    """First-passage times [C, runs] of a metastable escape with the given means: independent exponential
    increments between consecutive thresholds (strong Markov property; each stage a Kramers escape)."""
    inc = np.diff(np.concatenate([[0.0], np.asarray(mean_t, float)]))
    return np.cumsum(rng.exponential(1.0, (len(inc), runs)) * np.maximum(inc, 0)[:, None], axis=0)
