"""Linear regression, the solvable testbed of Mori et al. (2022): vectorised SGD / decoupled-SDE / Langevin chains.

Model f(x) = theta . x, loss l_mu = (theta . x_mu - y_mu)^2 / 2, so L(theta) = L* + (theta - theta*)^T H (theta - theta*) / 2
exactly, with H = X^T X / N. Targets y are pure noise (independent of x), hence L* ~ 1/2 and H ~ I.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch
from scipy import optimize, special
from tqdm.auto import tqdm

from .config import check_choice, check_positive, resolve_device

INPUTS = ("gaussian", "rademacher", "sparse")  # sparse: x in {0, +-sqrt 2}, E x^2 = 1, E x^4 = 2
DYNAMICS = ("sgd", "decoupled", "langevin")


@dataclasses.dataclass(frozen=True)
class LinearProblem:
    """A fixed data set (x [N, d], y [N]) with its exact minimum theta*, Hessian H and minimal loss L*."""

    x: torch.Tensor  # inputs [N, d], float64
    y: torch.Tensor  # targets [N]
    theta_star: torch.Tensor  # least-squares minimum [d]
    hessian: torch.Tensor  # H = X^T X / N [d, d]
    loss_star: float  # L(theta*)
    inputs: str  # input distribution name

    @property
    def d(self) -> int:
        return self.x.shape[1]

    @property
    def h(self) -> float:
        """Typical Hessian eigenvalue h* (mean eigenvalue of H)."""
        return float(torch.linalg.eigvalsh(self.hessian).mean())

    def loss(self, theta: torch.Tensor) -> torch.Tensor:
        """L(theta) = L* + u^T H u / 2 with u = theta - theta*, for theta [..., d]."""
        u = theta - self.theta_star
        return self.loss_star + 0.5 * ((u @ self.hessian) * u).sum(-1)

    def noise_variance(self, theta: torch.Tensor, batch_size: int = 1) -> torch.Tensor:
        """Exact per-step SGD noise covariance Sigma(theta) = [(1/N) sum g_mu g_mu^T - grad L grad L^T] / B, [d, d]."""
        g = (self.x @ theta - self.y).unsqueeze(1) * self.x
        gm = g.mean(0)
        return (g.T @ g / len(g) - torch.outer(gm, gm)) / batch_size

    def decoupled_variance(self, theta: torch.Tensor, batch_size: int = 1) -> torch.Tensor:
        """Decoupling approximation Sigma ~ 2 L(theta) H / B (Mori et al. 2022, eq. 6)."""
        return 2.0 * self.loss(theta) * self.hessian / batch_size


def sample_inputs(kind: str, shape: tuple, gen: torch.Generator) -> torch.Tensor:
    """Unit-variance inputs: Gaussian, Rademacher (+-1) or sparse (0 w.p. 1/2, +-sqrt 2 w.p. 1/4 each)."""
    check_choice("inputs", kind, INPUTS)
    if kind == "gaussian":
        return torch.randn(shape, generator=gen, dtype=torch.float64)
    sign = torch.randint(0, 2, shape, generator=gen).double() * 2 - 1
    if kind == "rademacher":
        return sign
    return sign * math.sqrt(2.0) * torch.randint(0, 2, shape, generator=gen).double()


def make_problem(n: int, d: int = 1, inputs: str = "gaussian", seed: int = 0, device="cpu") -> LinearProblem:
    """Draw N samples x ~ inputs^d, y ~ N(0, 1) independent of x, and solve the least squares exactly."""
    check_positive("n", n, integer=True)
    check_positive("d", d, integer=True)
    gen = torch.Generator().manual_seed(seed)
    x = sample_inputs(inputs, (n, d), gen)
    y = torch.randn(n, generator=gen, dtype=torch.float64)
    hessian = x.T @ x / n
    theta_star = torch.linalg.solve(hessian, x.T @ y / n)
    loss_star = float(0.5 * ((x @ theta_star - y) ** 2).mean())
    dev = resolve_device(device)
    return LinearProblem(x.to(dev), y.to(dev), theta_star.to(dev), hessian.to(dev), loss_star, inputs)


class _Stepper:
    """One update theta <- theta - lr * (grad L_B or grad L + noise) for M chains at once."""

    def __init__(self, problem: LinearProblem, lr: float, batch_size: int, dynamics: str, seed: int):
        check_choice("dynamics", dynamics, DYNAMICS)
        check_positive("lr", lr)
        check_positive("batch_size", batch_size, integer=True)
        self.p, self.lr, self.b, self.dyn = problem, lr, batch_size, dynamics
        self.gen = torch.Generator(device=problem.x.device).manual_seed(seed)
        evals, evecs = torch.linalg.eigh(problem.hessian)
        self.h_sqrt = evecs @ torch.diag(evals.clamp_min(0).sqrt()) @ evecs.T

    def __call__(self, theta: torch.Tensor) -> torch.Tensor:
        p = self.p
        if self.dyn == "sgd":  # minibatch drawn with replacement, fresh every step and chain
            idx = torch.randint(len(p.y), (len(theta), self.b), generator=self.gen, device=theta.device)
            xb = p.x[idx]
            r = (xb @ theta.unsqueeze(-1)).squeeze(-1) - p.y[idx]
            return theta - self.lr * (r.unsqueeze(-1) * xb).mean(1)
        loss = p.loss(theta) if self.dyn == "decoupled" else torch.full_like(theta[:, 0], p.loss_star)
        xi = torch.randn(theta.shape, generator=self.gen, device=theta.device, dtype=theta.dtype)
        noise = (2.0 * loss / self.b).sqrt().unsqueeze(-1) * (xi @ self.h_sqrt)
        return theta - self.lr * ((theta - p.theta_star) @ p.hessian + noise)


@dataclasses.dataclass(frozen=True)
class StationarySamples:
    """Loss values L(theta) sampled from M chains every `every` steps after a burn-in."""

    losses: np.ndarray  # [samples * chains] finite loss values
    theta: np.ndarray  # [samples * chains, d] matching parameters
    diverged: float  # fraction of chains that became non-finite (dropped)
    lr: float
    batch_size: int
    dynamics: str


def stationary_samples(problem: LinearProblem, lr: float, batch_size: int, chains: int, burn_in: int,
                       samples: int, every: int, dynamics: str = "sgd", seed: int = 0) -> StationarySamples:
    """Run M chains from theta*, discard `burn_in` steps, then record L every `every` steps `samples` times."""
    step = _Stepper(problem, lr, batch_size, dynamics, seed)
    theta = problem.theta_star.expand(chains, -1).clone()
    thetas = []
    for k in range(burn_in + samples * every):
        theta = step(theta)
        if k >= burn_in and (k - burn_in + 1) % every == 0:
            thetas.append(theta.clone())
    th = torch.stack(thetas)  # [S, M, d]
    ok = torch.isfinite(th).all(-1).all(0)
    th = th[:, ok].reshape(-1, problem.d)
    return StationarySamples(problem.loss(th).cpu().numpy(), th.cpu().numpy(), 1.0 - float(ok.double().mean()),
                             lr, batch_size, dynamics)


def phi_theory(lr: float, batch_size: int, h: float) -> float:
    """Stationary exponent of P(theta) ~ L^-phi: phi = 1 + B / (lr h*) (Mori et al. 2022, eq. 14)."""
    return 1.0 + batch_size / (lr * h)


def fit_phi(losses: np.ndarray, loss_star: float, d: int) -> float:
    """Maximum-likelihood phi for P(theta) ~ L^-phi, i.e. p(L) ~ L^-phi (L - L*)^(d/2-1) on [L*, inf).

    The score equation is mean log(L/L*) = psi(phi) - psi(phi - d/2) (psi = digamma), solved by bracketing.
    """
    s = float(np.mean(np.log(np.asarray(losses, float) / loss_star)))
    f = lambda phi: special.digamma(phi) - special.digamma(phi - d / 2) - s  # noqa: E731
    lo, hi = d / 2 + 1e-9, d / 2 + 1.0
    while f(hi) > 0:
        hi *= 2
    return float(optimize.brentq(f, lo, hi))


def loss_density(loss: np.ndarray, loss_star: float, d: int, phi: float) -> np.ndarray:
    """Normalised p(L) = L*^(phi-d/2) L^-phi (L-L*)^(d/2-1) / Beta(d/2, phi-d/2) for P(theta) ~ L^-phi."""
    loss = np.asarray(loss, float)
    logp = ((phi - d / 2) * np.log(loss_star) - phi * np.log(loss) + (d / 2 - 1) * np.log(loss - loss_star)
            - special.betaln(d / 2, phi - d / 2))
    return np.exp(logp)


def hill_phi(theta: np.ndarray, theta_star: np.ndarray, tail: float = 0.01) -> float:
    """Tail estimate of phi from the Hill index alpha of |theta - theta*| (density ~ |u|^-2phi => alpha = 2phi - d)."""
    r = np.sort(np.linalg.norm(np.asarray(theta) - np.asarray(theta_star), axis=-1))[::-1]
    k = max(int(tail * len(r)), 10)
    alpha = 1.0 / np.mean(np.log(r[:k] / r[k]))
    return float((alpha + theta.shape[-1]) / 2)


def escape_exponent(lr: float, batch_size: int, h: float, n: int) -> float:
    """Power of the mean escape time t ~ (L_s / L*)^(B/(lr h*) + 1 - n/2) (Mori et al. 2022, eq. 18)."""
    return batch_size / (lr * h) + 1.0 - n / 2


@dataclasses.dataclass(frozen=True)
class EscapeTimes:
    """First times t = lr k at which L(theta_k) > c L* for each threshold c, over M runs from theta*."""

    c: np.ndarray  # thresholds [C]
    times: np.ndarray  # [C, M], inf where the run had not escaped by max_steps (censored)
    max_time: float  # lr * max_steps
    dynamics: str
    d: int

    @property
    def mean(self) -> np.ndarray:
        """Mean escape time per c; censored runs handled by the exponential MLE sum(min(t, T)) / #escaped."""
        t = np.minimum(self.times, self.max_time).sum(1)
        k = np.isfinite(self.times).sum(1)
        return np.where(k > 0, t / np.maximum(k, 1), np.nan)

    @property
    def escaped(self) -> np.ndarray:
        """Fraction of runs that escaped, per c."""
        return np.isfinite(self.times).mean(1)


def escape_times(problem: LinearProblem, lr: float, batch_size: int, c: np.ndarray, runs: int, max_steps: int,
                 dynamics: str = "sgd", seed: int = 0, progress: bool = False) -> EscapeTimes:
    """Run `runs` chains from theta* until each has crossed L > max(c) L* (or max_steps); first passage times."""
    step = _Stepper(problem, lr, batch_size, dynamics, seed)
    dev = problem.x.device
    cs = torch.as_tensor(np.sort(np.asarray(c, float)), device=dev)
    times = torch.full((len(cs), runs), math.inf, dtype=torch.float64, device=dev)
    theta = problem.theta_star.expand(runs, -1).clone()
    check_every = 1000
    for k in tqdm(range(1, max_steps + 1), disable=not progress, desc=f"escape {dynamics} d={problem.d}",
                  leave=False):
        theta = step(theta)
        ratio = problem.loss(theta) / problem.loss_star
        ratio = torch.where(torch.isfinite(ratio), ratio, math.inf)
        times = torch.where((ratio > cs.unsqueeze(1)) & torch.isinf(times), lr * k, times)
        if k % check_every == 0 and bool(torch.isfinite(times[-1]).all()):
            break
    return EscapeTimes(cs.cpu().numpy(), times.cpu().numpy(), lr * max_steps, dynamics, problem.d)
