"""Continuous power-law fits with a vectorised xmin search, bootstrap p-values and likelihood-ratio tests.

Clauset, Shalizi & Newman (2009): p(x) = (beta - 1) / xmin * (x / xmin)^(-beta) for x >= xmin, with the
maximum-likelihood exponent beta = 1 + n_tail / sum_i ln(x_i / xmin) and xmin chosen to minimise the
Kolmogorov-Smirnov distance between the tail and the fit.  The KS distance is computed as in the reference
package ``powerlaw`` (version 1.5; it does not clamp beta, 2.x clamps it to [0, 3] by default):
D = max_j |F_fit(x_(j)) - j / n_tail| over the sorted tail (j = number of tail values strictly below x_(j)).
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy import optimize, special

from ..config import ConfigError, check_choice, check_positive, check_range


@dataclasses.dataclass(frozen=True)
class PowerLawResult:
    """A continuous power-law fit p(x) ~ x^-beta above xmin and its KS test against d_c = c(alpha)/sqrt(n_tail)."""

    beta: float  # ML exponent beta = 1 + n_tail / sum ln(x_i / xmin)
    xmin: float  # lower bound of the power-law tail
    n_tail: int  # number of values >= xmin used in the fit
    n: int  # number of positive values given
    ks_distance: float  # KS distance d_ks between the tail and the fitted power law
    critical_value: float  # d_c = sqrt(-ln(significance / 2) / 2) / sqrt(n_tail)  (1.36/sqrt(n) at 0.05)
    significance: float  # level of the KS rule

    @property
    def passes(self) -> bool:
        """The paper's rule: the data are called power-law when d_ks < d_c."""
        return bool(self.ks_distance < self.critical_value)

    @property
    def sigma(self) -> float:
        """Standard error of beta, (beta - 1) / sqrt(n_tail)."""
        return (self.beta - 1.0) / math.sqrt(self.n_tail)

    @property
    def s(self) -> float:
        """Rank-plot exponent of the same values, lambda_k ~ k^-s with s = 1 / (beta - 1)."""
        return 1.0 / (self.beta - 1.0)

    def ccdf(self, x: np.ndarray) -> np.ndarray:
        """Fitted tail CCDF P(X > x | X >= xmin) = (x / xmin)^(1 - beta)."""
        return (np.asarray(x, float) / self.xmin) ** (1.0 - self.beta)

    def plot(self, x, ax=None, label: str = "data", max_points: int = 4000):
        """Empirical CCDF of ``x`` (log-log) with the fitted power law drawn over its tail."""
        import matplotlib.pyplot as plt

        ax = ax or plt.gca()
        xs = np.sort(_positive(x))
        p = 1.0 - np.arange(len(xs)) / len(xs)
        keep = np.unique(np.geomspace(1, len(xs), min(max_points, len(xs))).astype(int) - 1)
        ax.loglog(xs[keep], p[keep], ".", ms=2, label=label)
        grid = np.geomspace(self.xmin, xs[-1], 50)
        ax.loglog(grid, self.n_tail / self.n * self.ccdf(grid), "r--",
                  label=rf"fit $\hat\beta$ = {self.beta:.2f}, $d_{{ks}}$ = {self.ks_distance:.3f} "
                  rf"($d_c$ = {self.critical_value:.3f})")
        ax.axvline(self.xmin, color="gray", lw=0.8, ls=":")
        ax.set(xlabel="$|x|$", ylabel=r"$P(X \geq x)$")
        ax.legend(fontsize=7)
        return ax


def _positive(x) -> np.ndarray:
    """Finite positive values of ``x`` as float64 (accepts numpy arrays, lists and torch tensors)."""
    x = np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x, dtype=float).ravel()
    return x[np.isfinite(x) & (x > 0)]


def critical_value(n_tail: int, significance: float = 0.05) -> float:
    """Asymptotic KS critical value d_c = sqrt(-ln(significance/2)/2) / sqrt(n_tail) (= 1.358/sqrt(n) at 0.05)."""
    return math.sqrt(-math.log(significance / 2) / 2) / math.sqrt(n_tail)


def _ks_exact(logx: np.ndarray, below: np.ndarray, i: int, beta: float) -> float:
    """KS distance of the tail sorted[i:] against the power law with exponent beta and xmin = sorted[i]."""
    n_t = len(logx) - i
    fit = -np.expm1((1.0 - beta) * (logx[i:] - logx[i]))
    return float(np.abs(fit - (below[i:] - i) / n_t).max())


def _betas(logx: np.ndarray, suffix: np.ndarray, starts) -> np.ndarray:
    """ML exponents beta = 1 + n_t / (sum_{j>=i} ln x_j - n_t ln x_i) of the tails sorted[i:] for i in ``starts``."""
    n_t = len(logx) - np.asarray(starts)
    return 1.0 + n_t / (suffix[starts] - n_t * logx[starts])


def _scan(logx, below, suffix, starts, grid, chunk):
    """Betas and approximate KS distances for tails starting at ``starts``, evaluated at order statistics ``grid``."""
    n_t = len(logx) - starts
    betas = _betas(logx, suffix, starts)
    ks = np.empty(len(starts))
    lg, bg, ls = logx[grid].astype(np.float32), below[grid].astype(np.float32), logx[starts].astype(np.float32)
    b32, nt32 = (1.0 - betas).astype(np.float32), n_t.astype(np.float32)
    for a in range(0, len(starts), chunk):
        s, b, nt = starts[a:a + chunk], b32[a:a + chunk], nt32[a:a + chunk]
        first = np.searchsorted(grid, s.min())
        # fit = 1 - (x_j / x_s)^(1 - beta); exponent clipped at 0 so grid points below the start give fit = 0 ...
        fit = np.subtract(lg[None, first:], ls[a:a + chunk, None])
        fit *= b[:, None]
        np.minimum(fit, 0.0, out=fit)
        np.expm1(fit, out=fit)
        # ... and empirical CDF (below_j - s) / n_t clipped at 0 there too, so they add no deviation.
        emp = np.subtract(bg[None, first:], s[:, None].astype(np.float32))
        np.maximum(emp, 0.0, out=emp)
        emp /= nt[:, None]
        fit += emp  # fit holds -(theoretical CDF): |F - emp| = |fit + emp|
        np.abs(fit, out=fit)
        ks[a:a + chunk] = fit.max(1)
    return betas, ks


def fit_power_law(x, xmin: float | None = None, n_tail: int | None = None, *, min_tail: int = 2,
                  max_candidates: int = 10_000, ks_points: int = 10_000, refine: int = 20,
                  significance: float = 0.05, chunk: int = 256) -> PowerLawResult:
    """Fit p(x) ~ x^-beta to the positive finite values of ``x`` (pass |g| for signed data).

    xmin rule: a given ``xmin``; or the ``n_tail`` largest values (the paper's "top 1000"); or (default) the
    Clauset KS-minimising xmin over the distinct values, vectorised with sorted data and cumulative sums.
    Exact (identical to ``powerlaw.Fit``) when there are <= ``max_candidates`` distinct values and
    <= ``ks_points`` values (the float32 scan is re-scored in float64 for its ``refine`` best); beyond that,
    candidates are geometrically spaced in tail size, the KS scan uses
    ``ks_points`` geometrically spaced order statistics, and the ``refine`` best candidates are re-scored exactly.
    """
    check_range("significance", significance, 1e-9, 0.5)
    for name, v in (("min_tail", min_tail), ("max_candidates", max_candidates), ("ks_points", ks_points),
                    ("refine", refine), ("chunk", chunk)):
        check_positive(name, v, integer=True)
    xs = np.sort(_positive(x))
    n = len(xs)
    if n < 2:
        raise ValueError(f"need at least 2 positive finite values, got {n}")
    logx = np.log(xs)
    below = np.searchsorted(xs, xs, side="left")  # values strictly below x_(j): empirical CDF with ties
    suffix = np.concatenate([np.cumsum(logx[::-1])[::-1], [0.0]])
    if xmin is not None and n_tail is not None:
        raise ConfigError("give at most one of xmin and n_tail")
    if xmin is not None or n_tail is not None:
        if n_tail is not None:
            check_range("n_tail", n_tail, 2, n)
            i = int(below[n - int(n_tail)])
        else:
            i = int(np.searchsorted(xs, xmin, side="left"))
            if n - i < 2:
                raise ValueError(f"xmin={xmin} leaves fewer than 2 values in the tail")
        starts = np.array([i])
    else:
        starts = np.unique(below)[:-1]  # first index of each distinct value, the largest excluded (as powerlaw)
        starts = starts[n - starts >= min_tail]
        if len(starts) == 0:
            raise ValueError(f"no xmin candidate leaves min_tail={min_tail} values")
        if len(starts) > max_candidates:  # geometric in tail size, snapped to the first index of a value
            sizes = np.geomspace(n - starts[-1], n - starts[0], max_candidates)
            starts = np.unique(below[np.clip(n - np.round(sizes).astype(int), starts[0], n - 1)])
        if len(starts) > 1:
            grid = np.arange(n) if n <= ks_points else np.unique(n - np.geomspace(1, n, ks_points).astype(int))
            betas, ks = _scan(logx, below, suffix, starts, grid, chunk)
            # the scan runs in float32 (and on a subgrid when n > ks_points): re-score the best candidates exactly
            best = np.sort(starts[np.argsort(ks, kind="stable")[:refine]])
            ks_best = [_ks_exact(logx, below, j, b) for j, b in zip(best, _betas(logx, suffix, best))]
            starts = np.array([best[int(np.argmin(ks_best))]])
    i = int(starts[0])
    n_t, beta = n - i, float(_betas(logx, suffix, starts[:1])[0])
    return PowerLawResult(beta=float(beta), xmin=float(xs[i]), n_tail=int(n_t), n=n,
                          ks_distance=_ks_exact(logx, below, i, beta),
                          critical_value=critical_value(n_t, significance), significance=significance)


@dataclasses.dataclass(frozen=True)
class BootstrapResult:
    """Clauset goodness-of-fit p-value: the fraction of synthetic power-law sets fitting worse than the data."""

    p_value: float  # P(D_synthetic >= D_data); plausible power law when p > 0.1 (Clauset et al.)
    ks_distance: float  # KS distance of the data's fit
    ks_synthetic: np.ndarray  # KS distances of the re-fitted synthetic sets
    fit: PowerLawResult  # the fit to the data


def bootstrap_pvalue(x, n_boot: int = 100, seed: int = 0, fit: PowerLawResult | None = None,
                     progress: bool = False, **fit_kwargs) -> BootstrapResult:
    """Semi-parametric bootstrap of Clauset et al. (2009, sec. 4.1), xmin re-fitted on every synthetic set.

    Each set keeps n values: Binomial(n, n_tail/n) draws from the fitted power law x = xmin (1-u)^(-1/(beta-1)),
    the rest resampled from the observed values below xmin; it is fitted with the same ``fit_kwargs``. With a fixed
    tail size (``n_tail`` in ``fit_kwargs``) exactly n_tail values come from the power law, so the synthetic top
    n_tail values are the synthetic tail (a Binomial count would mix body values into it).
    """
    from ..progress import progress as _progress

    check_positive("n_boot", n_boot, integer=True)
    data = _positive(x)
    fit = fit or fit_power_law(data, **fit_kwargs)
    body = data[data < fit.xmin]
    rng = np.random.default_rng(seed)
    ks = np.empty(n_boot)
    for b in _progress(range(n_boot), disable=not progress, desc="bootstrap"):
        fixed = fit_kwargs.get("n_tail") is not None
        n_t = fit.n if not len(body) else fit.n_tail if fixed else rng.binomial(fit.n, fit.n_tail / fit.n)
        tail = fit.xmin * (1.0 - rng.random(n_t)) ** (-1.0 / (fit.beta - 1.0))
        synth = np.concatenate([tail, rng.choice(body, fit.n - n_t)]) if len(body) else tail
        ks[b] = fit_power_law(synth, **fit_kwargs).ks_distance
    return BootstrapResult(p_value=float(np.mean(ks >= fit.ks_distance)), ks_distance=fit.ks_distance,
                           ks_synthetic=ks, fit=fit)


@dataclasses.dataclass(frozen=True)
class LikelihoodRatioResult:
    """Vuong likelihood-ratio test of the power law against an alternative on the same tail."""

    alternative: str  # "exponential" or "lognormal"
    R: float  # sum of log-likelihood differences (power law - alternative); > 0 favours the power law
    normalized_R: float  # R / sqrt(n_tail * var)
    p_value: float  # erfc(|R| / sqrt(2 n_tail var)): significance of the sign of R
    params: tuple  # fitted alternative parameters: (lambda,) or (mu, sigma)

    @property
    def favours(self) -> str:
        """'power_law', the alternative, or 'undecided' (p >= 0.1)."""
        if self.p_value >= 0.1:
            return "undecided"
        return "power_law" if self.R > 0 else self.alternative


def _loglik_lognormal(tail: np.ndarray, xmin: float) -> tuple[np.ndarray, tuple]:
    """Per-value log-likelihoods of the ML lognormal truncated at xmin, and (mu, sigma)."""
    lx, lmin = np.log(tail), math.log(xmin)

    def ll(p):
        mu, sig = p[0], math.exp(p[1])
        z = (lx - mu) / sig
        return -0.5 * z ** 2 - lx - math.log(sig) - 0.5 * math.log(2 * math.pi) - special.log_ndtr(-(lmin - mu) / sig)

    start = np.array([lx.mean(), math.log(max(lx.std(), 1e-3))])
    res = optimize.minimize(lambda p: -ll(p).sum(), start, method="Nelder-Mead",
                            options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 4000})
    return ll(res.x), (float(res.x[0]), float(math.exp(res.x[1])))


def likelihood_ratio(x, alternative: str = "exponential", fit: PowerLawResult | None = None,
                     **fit_kwargs) -> LikelihoodRatioResult:
    """Clauset et al. (2009, sec. 5) normalised log-likelihood ratio R = sum_i [ln p_pl(x_i) - ln p_alt(x_i)].

    Both models are fitted by maximum likelihood on the tail x >= xmin (exponential: lambda = 1/mean(x - xmin);
    lognormal truncated at xmin: numerical ML). p = erfc(|R| / sqrt(2 n var)) (Vuong 1989).
    """
    check_choice("alternative", alternative, ("exponential", "lognormal"))
    data = _positive(x)
    fit = fit or fit_power_law(data, **fit_kwargs)
    tail = data[data >= fit.xmin]
    ll_pl = math.log((fit.beta - 1.0) / fit.xmin) - fit.beta * np.log(tail / fit.xmin)
    if alternative == "exponential":
        lam = 1.0 / np.mean(tail - fit.xmin)
        ll_alt, params = math.log(lam) - lam * (tail - fit.xmin), (float(lam),)
    else:
        ll_alt, params = _loglik_lognormal(tail, fit.xmin)
    d = ll_pl - ll_alt
    n, var = len(d), float(np.mean((d - d.mean()) ** 2))
    R = float(d.sum())
    p = float(special.erfc(abs(R) / math.sqrt(2 * n * var))) if var > 0 else 1.0
    return LikelihoodRatioResult(alternative=alternative, R=R, normalized_R=R / math.sqrt(n * var) if var > 0
                                 else 0.0, p_value=p, params=params)
