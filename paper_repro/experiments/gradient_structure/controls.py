"""Chapter 4 controls: how each rule judges samples of known shape at the size of the real test.

Tail rules (dimension-wise and iteration-wise KS tests): |x| of a Gaussian, of Student t with 10, 5 and 3 degrees of
freedom and of an exact power law (Pareto, beta = 2.5), each drawn n_rep times at the real test's n and judged by the
real test's rule. A "fail" on real data excludes the sources that pass there, and nothing that fails there.

Spectrum fit (d_ks < d_c on the top k <= n / 10 eigenvalues): an exact k^-s sequence, the spectrum of an n-sample
covariance of a k^-s population (the finite-sample power law a real measurement can give), and the Marchenko-Pastur
spectrum of white noise (curved on log-log axes: no power law).
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

from ...core.estimators.powerlaw import fit_power_law
from .spectrum import SpectrumFit, fit_resolved_spectrum

SOURCES = ("gaussian", "t10", "t5", "t3", "pareto")  # control samples, lightest tail first
LABELS = {"gaussian": "Gaussian", "t10": "Student t₁₀", "t5": "Student t₅", "t3": "Student t₃",
          "pareto": "exact power law (β = 2.5)"}
NULL, HEAVY = "gaussian", "pareto"  # a rule with power passes few Gaussians and most exact power laws
POWER_MAX_NULL, POWER_MIN_HEAVY = 0.25, 0.75  # the rates that make a rule informative


def control_values(source: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """n absolute values of a control source."""
    if source == "gaussian":
        return np.abs(rng.standard_normal(n))
    if source == "pareto":
        return (1.0 - rng.random(n)) ** (-1.0 / 1.5)
    return np.abs(rng.standard_t(int(source[1:]), n))


@dataclasses.dataclass(frozen=True)
class TailControls:
    """Pass rates of each rule on each control source at one sample size."""

    n: int  # sample size (the real test's n)
    n_rep: int  # samples per source
    rates: dict  # rule -> {source: fraction of the n_rep samples that pass d_ks < d_c}

    def has_power(self, rule: str) -> bool:
        """The rule passes few Gaussian samples and most exact power laws at this n."""
        r = self.rates[rule]
        return r[NULL] < POWER_MAX_NULL and r[HEAVY] >= POWER_MIN_HEAVY

    def excluded(self, rule: str, min_rate: float = 0.5) -> list[str]:
        """Sources a "fail" under the rule speaks against: those the rule passes at least ``min_rate`` of the time."""
        return [LABELS[s] for s in SOURCES if self.rates[rule][s] >= min_rate]

    def not_excluded(self, rule: str, max_rate: float = 0.5) -> list[str]:
        """Sources the rule fails most of the time, so that a "fail" does not tell them from a Gaussian."""
        return [LABELS[s] for s in SOURCES if s != NULL and self.rates[rule][s] < max_rate]


def tail_controls(n: int, rules: dict[str, Callable[[np.ndarray], bool]], n_rep: int, seed: int) -> TailControls:
    """Fraction of n_rep seeded samples of every source passing each rule (rule: values -> passes)."""
    rng = np.random.default_rng(seed)
    rates = {rule: {} for rule in rules}
    for source in SOURCES:
        samples = [control_values(source, n, rng) for _ in range(n_rep)]
        for rule, passes in rules.items():
            rates[rule][source] = float(np.mean([passes(x) for x in samples]))
    return TailControls(n=int(n), n_rep=int(n_rep), rates=rates)


def dimension_rules(top_k: int) -> dict:
    """The dimension-wise rules: the top ``top_k`` values, and a free (KS-minimising) xmin."""
    return {"top_k": lambda x: fit_power_law(x, n_tail=min(top_k, len(x))).passes,
            "free": lambda x: fit_power_law(x).passes}


def iteration_rules(tail: float, **free_kwargs) -> dict:
    """The iteration-wise rules: the top ``tail`` fraction, and a free xmin (with the real test's scan settings)."""
    return {"top_k": lambda x: fit_power_law(x, n_tail=max(2, int(tail * len(x)))).passes,
            "free": lambda x: fit_power_law(x, **free_kwargs).passes}


def marchenko_pastur(p: int, ratio: float = 1.0, grid: int = 200_000) -> np.ndarray:
    """The p population quantiles (descending) of the Marchenko-Pastur law of aspect ratio p/n = ratio <= 1: the
    spectrum of the sample covariance of white noise with unit variance, without sampling noise."""
    lo, hi = (1 - np.sqrt(ratio)) ** 2, (1 + np.sqrt(ratio)) ** 2
    x = np.linspace(lo, hi, grid)
    dens = np.sqrt(np.clip((hi - x) * (x - lo), 0, None)) / (2 * np.pi * ratio * x.clip(1e-12))
    cdf = np.concatenate([[0.0], np.cumsum((dens[1:] + dens[:-1]) / 2 * np.diff(x))])
    cdf /= cdf[-1]
    return np.interp(1.0 - (np.arange(p) + 0.5) / p, cdf, x)


def sampled_power_law(n: int, s: float, seed: int, dims: int | None = None) -> np.ndarray:
    """Non-zero spectrum (descending) of the n-sample covariance of Gaussian rows with population eigenvalues k^-s
    (k = 1..dims, dims = 2n): what a true power law gives after estimation from n samples."""
    dims = dims or 2 * n
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((n, dims)) * np.arange(1, dims + 1) ** (-s / 2)).astype(np.float32)
    x -= x.mean(0)
    return np.sort(np.linalg.eigvalsh((x @ x.T).astype(np.float64) / n))[::-1].clip(0.0)


@dataclasses.dataclass(frozen=True)
class SpectrumControls:
    """The spectrum fit on spectra of known shape, at the real spectra's n."""

    s: float  # exponent of the power-law controls (the median fitted s of the trained spectra)
    fits: dict  # control name -> SpectrumFit

    POSITIVE = ("exact k^-s", "sampled k^-s")  # power laws: the rule should pass them
    NEGATIVE = ("Marchenko-Pastur",)  # curved: the rule should fail it

    @property
    def has_power(self) -> bool:
        """The fit on k <= n/10 passes both power laws and fails the curved spectrum."""
        return all(self.fits[k].fit.passes for k in self.POSITIVE) and not any(
            self.fits[k].fit.passes for k in self.NEGATIVE)

    def has_power_at(self, i: int) -> bool:
        """The same on the top ks[i] eigenvalues of the sensitivity scan (i = 0: a quarter of the resolved range)."""
        ok = [len(self.fits[k].pass_by_k) > i for k in (*self.POSITIVE, *self.NEGATIVE)]
        return all(ok) and all(self.fits[k].pass_by_k[i] for k in self.POSITIVE) and not any(
            self.fits[k].pass_by_k[i] for k in self.NEGATIVE)


def spectrum_controls(n: int, s: float, seed: int) -> SpectrumControls:
    """Fit the three control spectra exactly as the real ones (top k <= n / 10 of an n-sample covariance)."""
    s = float(s) if np.isfinite(s) else 1.0
    spectra = {"exact k^-s": np.arange(1, n + 1) ** -s, "sampled k^-s": sampled_power_law(n, s, seed),
               "Marchenko-Pastur": marchenko_pastur(n)}
    return SpectrumControls(s=s, fits={k: fit_resolved_spectrum(v, n) for k, v in spectra.items()})


def spectrum_fit_ratio(fit: SpectrumFit) -> float:
    """d_ks / d_c of a spectrum fit (below 1: passes)."""
    return float(fit.fit.ks_distance / fit.fit.critical_value)


def chapter_controls(result, cfg) -> dict:
    """The controls of every test of a run, at its sizes: "dim" at n = the number of coordinates P (median over the
    checkpoints) with top_k, "iter" at n = n_batches with the top ITER_TAIL, "spec" at the spectra's n and median s."""
    from .config import ITER_TAIL
    from .run import ITER_FIT

    p = int(np.median([c.dim_top.n for c in result.checkpoints]))
    spectra = [c.spectrum for c in result.checkpoints if c.spectrum and c.step > 0 and np.isfinite(c.spectrum.s)]
    n_spec = spectra[0].n if spectra else cfg.n_spectrum
    return {"dim": tail_controls(p, dimension_rules(cfg.top_k), cfg.n_rep, cfg.seed),
            "iter": tail_controls(cfg.n_batches, iteration_rules(ITER_TAIL, **ITER_FIT), cfg.n_rep, cfg.seed + 1),
            "spec": spectrum_controls(n_spec, float(np.median([x.s for x in spectra])) if spectra else 1.0, cfg.seed)}
