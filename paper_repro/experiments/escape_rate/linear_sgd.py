"""Linear regression, the solvable testbed of Mori et al. (2022, Sec. 5.3): SGD / decoupled-SDE / Langevin chains.

Model f(x) = theta . x, loss l_mu = (theta . x_mu - y_mu)^2 / 2, so L(theta) = L* + (theta - theta*)^T H (theta - theta*) / 2
exactly, with H = X^T X / N. Targets y are pure noise (independent of x), hence L* ~ 1/2 and H ~ I.
Chains are vectorised over runs in numpy: at d <= 4 and a few thousand chains one step is a handful of small array
operations, which the CPU does faster than a GPU's kernel launches.
"""
from __future__ import annotations

import dataclasses

import numpy as np
from scipy import optimize, special

from ...core.config import check_choice, check_positive

INPUTS = ("gaussian", "rademacher", "sparse")  # sparse: x in {0, +-sqrt 2}, E x^2 = 1, E x^4 = 2
DYNAMICS = ("sgd", "decoupled", "langevin")


@dataclasses.dataclass(frozen=True)
class LinearProblem:
    """A fixed data set (x [N, d], y [N]) with its exact minimum theta*, Hessian H and minimal loss L*."""

    x: np.ndarray  # inputs [N, d], float64
    y: np.ndarray  # targets [N]
    theta_star: np.ndarray  # least-squares minimum [d]
    hessian: np.ndarray  # H = X^T X / N [d, d]
    loss_star: float  # L(theta*)
    inputs: str  # input distribution name

    @property
    def d(self) -> int:
        return self.x.shape[1]

    @property
    def h(self) -> float:
        """Typical Hessian eigenvalue h* (mean eigenvalue of H, measured on the data set)."""
        return float(np.linalg.eigvalsh(self.hessian).mean())

    def loss(self, theta: np.ndarray) -> np.ndarray:
        """L(theta) = L* + u^T H u / 2 with u = theta - theta*, for theta [..., d]."""
        u = np.asarray(theta) - self.theta_star
        return self.loss_star + 0.5 * ((u @ self.hessian) * u).sum(-1)

    def noise_variance(self, theta: np.ndarray, batch_size: int = 1) -> np.ndarray:
        """Exact per-step SGD noise covariance Sigma(theta) = [(1/N) sum g_mu g_mu^T - grad L grad L^T] / B (Eq. 8)."""
        g = (self.x @ np.asarray(theta, float) - self.y)[:, None] * self.x
        gm = g.mean(0)
        return (g.T @ g / len(g) - np.outer(gm, gm)) / batch_size

    def decoupled_variance(self, theta: np.ndarray, batch_size: int = 1) -> np.ndarray:
        """Decoupling approximation Sigma ~ 2 L(theta) H / B (Mori et al. 2022, Eq. 6)."""
        return 2.0 * self.loss(theta) * self.hessian / batch_size


def sample_inputs(kind: str, shape: tuple, rng: np.random.Generator) -> np.ndarray:
    """Unit-variance inputs: Gaussian, Rademacher (+-1) or sparse (0 w.p. 1/2, +-sqrt 2 w.p. 1/4 each)."""
    check_choice("inputs", kind, INPUTS)
    if kind == "gaussian":
        return rng.standard_normal(shape)
    sign = rng.integers(0, 2, shape) * 2.0 - 1.0
    return sign if kind == "rademacher" else sign * np.sqrt(2.0) * rng.integers(0, 2, shape)


def make_problem(n: int, d: int = 1, inputs: str = "gaussian", seed: int = 0) -> LinearProblem:
    """Draw N samples x ~ inputs^d, y ~ N(0, 1) independent of x, and solve the least squares exactly."""
    check_positive("n", n, integer=True)
    check_positive("d", d, integer=True)
    rng = np.random.default_rng(seed)
    x = sample_inputs(inputs, (n, d), rng)
    y = rng.standard_normal(n)
    hessian = x.T @ x / n
    theta_star = np.linalg.solve(hessian, x.T @ y / n)
    loss_star = float(0.5 * ((x @ theta_star - y) ** 2).mean())
    return LinearProblem(x, y, theta_star, hessian, loss_star, inputs)


class Stepper:
    """One update theta <- theta - lr * (grad L_B or grad L + noise) for M chains [M, d] at once (Eq. 2 / Eq. 13)."""

    def __init__(self, problem: LinearProblem, lr: float, batch_size: int, dynamics: str, seed: int):
        check_choice("dynamics", dynamics, DYNAMICS)
        check_positive("lr", lr)
        check_positive("batch_size", batch_size, integer=True)
        self.p, self.lr, self.b, self.dyn = problem, lr, batch_size, dynamics
        self.rng = np.random.default_rng(seed)
        evals, evecs = np.linalg.eigh(problem.hessian)
        self.h_sqrt = evecs @ np.diag(np.sqrt(np.clip(evals, 0, None))) @ evecs.T
        self.block, self.used, self.draws = 256, 256, None  # random numbers drawn `block` steps at a time

    def _draw(self, m: int, d: int) -> np.ndarray:
        """This step's random numbers for m chains: minibatch indices [m, B] (SGD) or normals [m, d]."""
        if self.used >= self.block or self.draws is None or self.draws.shape[1] < m:
            shape = (self.block, m, self.b) if self.dyn == "sgd" else (self.block, m, d)
            self.draws = (self.rng.integers(len(self.p.y), size=shape) if self.dyn == "sgd"
                          else self.rng.standard_normal(shape))
            self.used = 0
        self.used += 1
        return self.draws[self.used - 1, :m]

    def __call__(self, theta: np.ndarray) -> np.ndarray:
        p = self.p
        if self.dyn == "sgd":  # minibatch drawn with replacement, fresh every step and chain
            idx = self._draw(len(theta), p.d)
            xb = p.x[idx]  # [M, B, d]
            r = (xb * theta[:, None, :]).sum(-1) - p.y[idx]
            return theta - self.lr * (r[:, :, None] * xb).mean(1)
        loss = p.loss(theta) if self.dyn == "decoupled" else np.full(len(theta), p.loss_star)
        noise = np.sqrt(2.0 * loss / self.b)[:, None] * (self._draw(len(theta), p.d) @ self.h_sqrt)
        return theta - self.lr * ((theta - p.theta_star) @ p.hessian + noise)


@dataclasses.dataclass(frozen=True)
class StationarySamples:
    """Loss values L(theta) sampled from M chains every `every` steps after a burn-in."""

    losses: np.ndarray  # [samples, chains]; chains that became non-finite are dropped
    diverged: float  # fraction of chains that became non-finite
    lr: float
    batch_size: int
    dynamics: str


def stationary_samples(problem: LinearProblem, lr: float, batch_size: int, chains: int, burn_in: int,
                       samples: int, every: int, dynamics: str = "sgd", seed: int = 0) -> StationarySamples:
    """Run M chains from theta*, discard `burn_in` steps, then record L every `every` steps `samples` times."""
    step = Stepper(problem, lr, batch_size, dynamics, seed)
    theta = np.repeat(problem.theta_star[None], chains, 0)
    out = []
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(burn_in + samples * every):
            theta = step(theta)
            if k >= burn_in and (k - burn_in + 1) % every == 0:
                out.append(problem.loss(theta))
    losses = np.stack(out)
    ok = np.isfinite(losses).all(0)
    return StationarySamples(losses[:, ok], 1.0 - ok.mean(), lr, batch_size, dynamics)


def phi_theory(lr: float, batch_size: int, h: float) -> float:
    """Stationary exponent of P(theta) ~ L^-phi: phi = 1 + B / (lr h*) (Mori et al. 2022, Eq. 18)."""
    return 1.0 + batch_size / (lr * h)


def chain_second_moment(problem: LinearProblem, lr: float, batch_size: int) -> float:
    """Exact stationary E u^2 of d = 1 SGD (u = theta - theta*), inf when the chain has no finite variance.

    u' = (1 - lr a) u + lr b, a = mean_B x^2, b = mean_B x r*, so E u^2 = lr E b^2 / (2h - lr E a^2) with
    E a^2 = h^2 + (<x^4> - h^2)/B and E b^2 = <x^2 r*^2>/B over the data set (derived here).
    """
    x, r = problem.x[:, 0], problem.y - problem.x[:, 0] * problem.theta_star[0]
    h = float(np.mean(x ** 2))
    ea2 = h ** 2 + (np.mean(x ** 4) - h ** 2) / batch_size
    eb2 = np.mean(x ** 2 * r ** 2) / batch_size
    den = 2 * h - lr * ea2
    return float(lr * eb2 / den) if den > 0 else float("inf")


def phi_chain(problem: LinearProblem, lr: float, batch_size: int) -> float:
    """phi of the L^-phi law with the discrete chain's exact E[L - L*]: phi = 3/2 + L* / (h E u^2) (derived here).

    NaN where the chain's variance is infinite (lr E a^2 >= 2h, a Kesten tail; see :func:`phi_kesten`).
    """
    m2 = chain_second_moment(problem, lr, batch_size)
    return 1.5 + problem.loss_star / (problem.h * m2) if np.isfinite(m2) else float("nan")


def phi_kesten(problem: LinearProblem, lr: float, batch_size: int, draws: int = 200_000, seed: int = 0) -> float:
    """Tail exponent of the d = 1 chain: P(|u| > t) ~ t^-alpha with E|1 - lr a|^alpha = 1, phi = (alpha + 1)/2."""
    rng = np.random.default_rng(seed)
    a = (problem.x[rng.integers(len(problem.y), size=(draws, batch_size)), 0] ** 2).mean(1)
    log_m = np.log(np.abs(1 - lr * a) + 1e-300)
    f = lambda s: np.log(np.mean(np.exp(s * log_m)))  # noqa: E731 - log E|1 - lr a|^s, convex, 0 at s = 0
    hi = 1.0
    while f(hi) < 0 and hi < 1e4:
        hi *= 2
    return float((optimize.brentq(f, 1e-6, hi) + 1) / 2) if f(hi) > 0 > f(1e-6) else float("nan")


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


def fit_phi_se(losses: np.ndarray, loss_star: float, d: int, boot: int = 100, seed: int = 0) -> float:
    """Standard error of :func:`fit_phi` by resampling whole chains (columns of ``losses`` [samples, chains])."""
    rng = np.random.default_rng(seed)
    m = losses.shape[1]
    return float(np.std([fit_phi(losses[:, rng.integers(m, size=m)], loss_star, d) for _ in range(boot)]))


def loss_density(loss: np.ndarray, loss_star: float, d: int, phi: float) -> np.ndarray:
    """Normalised p(L) = L*^(phi-d/2) L^-phi (L-L*)^(d/2-1) / Beta(d/2, phi-d/2) for P(theta) ~ L^-phi."""
    loss = np.asarray(loss, float)
    logp = ((phi - d / 2) * np.log(loss_star) - phi * np.log(loss) + (d / 2 - 1) * np.log(loss - loss_star)
            - special.betaln(d / 2, phi - d / 2))
    return np.exp(logp)


def escape_exponent(lr: float, batch_size: int, h: float, n: int) -> float:
    """Power of the mean escape time t ~ (L_s / L*)^(B/(lr h*) + 1 - n/2) (Mori et al. 2022, Eq. 17)."""
    return batch_size / (lr * h) + 1.0 - n / 2


@dataclasses.dataclass(frozen=True)
class EscapeTimes:
    """First times t = lr k at which L(theta_k) > c L* for each threshold c, over M runs from theta*."""

    c: np.ndarray  # thresholds [C], increasing
    times: np.ndarray  # [C, M], inf where the run had not escaped by max_steps (censored)
    max_time: float  # lr * max_steps
    dynamics: str
    d: int

    @property
    def escaped(self) -> np.ndarray:
        """Fraction of runs that escaped, per c."""
        return np.isfinite(self.times).mean(1)

    def mean_of(self, times: np.ndarray) -> np.ndarray:
        """Censored-data mean: the exponential MLE sum(min(t, T)) / #escaped (the plain mean when none is censored)."""
        k = np.isfinite(times).sum(1)
        return np.where(k > 0, np.minimum(times, self.max_time).sum(1) / np.maximum(k, 1), np.nan)

    @property
    def mean(self) -> np.ndarray:
        """Mean first-passage time per c, censored runs included through :meth:`mean_of`."""
        return self.mean_of(self.times)

    @property
    def median(self) -> np.ndarray:
        """Median first-passage time per c (censored runs count as longer than any escape; NaN if half censored)."""
        t = np.sort(self.times, 1)
        m = t[:, (t.shape[1] - 1) // 2]
        return np.where(np.isfinite(m), m, np.nan)


def escape_times(problem: LinearProblem, lr: float, batch_size: int, c: np.ndarray, runs: int, max_steps: int,
                 dynamics: str = "sgd", seed: int = 0, block: int = 64) -> EscapeTimes:
    """Run `runs` chains from theta* until each has crossed L > max(c) L* (or max_steps); first-passage times.

    Every step is checked; chains that crossed the largest threshold leave the batch at the end of a block of steps.
    """
    step = Stepper(problem, lr, batch_size, dynamics, seed)
    check_positive("max_steps", max_steps, integer=True)
    cs = np.sort(np.asarray(c, float))
    times = np.full((len(cs), runs), np.inf)
    theta = np.repeat(problem.theta_star[None], runs, 0)
    active, level = np.arange(runs), np.zeros(runs, int)  # chains still running; thresholds each has crossed
    with np.errstate(over="ignore", invalid="ignore"):
        for k0 in range(0, max_steps, block):  # step `block` times, then find the crossings of the whole block
            path = np.empty((min(block, max_steps - k0), *theta.shape))
            for i in range(len(path)):
                theta = path[i] = step(theta)
            runmax = np.maximum.accumulate(problem.loss(path) / problem.loss_star, axis=0)  # NaN stays NaN
            lev = np.searchsorted(cs, runmax, side="left")  # thresholds c < max L/L* so far (NaN: all of them)
            for j in range(len(cs)):
                idx = np.flatnonzero((lev[-1] > j) & (level <= j))
                times[j, active[idx]] = lr * (k0 + 1 + np.argmax(lev[:, idx] > j, axis=0))
            level = np.maximum(level, lev[-1])
            keep = level < len(cs)
            theta, active, level = theta[keep], active[keep], level[keep]
            if not len(active):
                break
    return EscapeTimes(cs, times, lr * max_steps, dynamics, problem.d)
