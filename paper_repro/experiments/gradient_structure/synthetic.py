"""Chapter 4, beyond the paper: how lenient the d_ks < d_c rule is, stricter tests (bootstrap, likelihood ratios),
and the Gaussian-scale-mixture mechanism that reconciles dimension-wise power laws with iteration-wise Gaussians."""
from __future__ import annotations

import dataclasses

import numpy as np

from ...core.config import check_choice, check_positive, check_positive_all
from ...core.estimators.powerlaw import (BootstrapResult, LikelihoodRatioResult, PowerLawResult, bootstrap_pvalue,
                                         fit_power_law, likelihood_ratio)
from ...core.progress import progress as progress_bar

SOURCES = ("pareto", "gaussian", "scale_mixture", "lognormal")
RULES = ("free", "top20")  # KS-minimising xmin; fixed top 20 % of the values (our iteration-wise rule)


def synthetic_values(source: str, n: int, seed: int = 0, beta: float = 2.5, s: float = 1.0) -> np.ndarray:
    """|values| of a synthetic source: Pareto(beta), |N(0,1)|, lognormal(0,1), or the scale mixture
    sigma_k |z_k| with sigma_k^2 = k^-s (k = 1..n), whose pooled tail is a power law with beta = 1 + 2/s."""
    check_choice("source", source, SOURCES)
    check_positive("n", n, integer=True)
    rng = np.random.default_rng(seed)
    if source == "pareto":
        return (1.0 - rng.random(n)) ** (-1.0 / (beta - 1.0))
    if source == "gaussian":
        return np.abs(rng.standard_normal(n))
    if source == "lognormal":
        return rng.lognormal(0.0, 1.0, n)
    return np.arange(1, n + 1) ** (-s / 2.0) * np.abs(rng.standard_normal(n))


def fit_rule(values, rule: str, **kwargs) -> PowerLawResult:
    """Power-law fit under an xmin rule: ``free`` (Clauset KS scan) or ``top20`` (the top 20 % of the values)."""
    check_choice("rule", rule, RULES)
    if rule == "top20":
        return fit_power_law(values, n_tail=max(2, int(0.2 * np.sum(np.asarray(values) > 0))))
    return fit_power_law(values, **kwargs)


@dataclasses.dataclass(frozen=True)
class AcceptanceResult:
    """How often the naive rule d_ks < d_c calls samples of one source a power law, by sample size and rule."""

    source: str  # synthetic source tested
    sizes: tuple  # sample sizes n
    rates: dict  # rule -> acceptance rate at each size

    def plot(self, ax=None):
        """Acceptance rate against n (log x), one line per rule."""
        import matplotlib.pyplot as plt

        ax = ax or plt.gca()
        for rule, r in self.rates.items():
            ax.semilogx(self.sizes, r, "o-", label=rf"{self.source}, $x_{{\min}}$ {rule}")
        ax.axhline(0.05, color="gray", ls=":", lw=0.8)
        ax.set(xlabel="sample size $n$", ylabel="fraction called power-law", ylim=(-0.03, 1.03))
        ax.set_xticks(list(self.sizes), [str(n) for n in self.sizes])
        ax.minorticks_off()
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2, frameon=False)
        return ax


def acceptance_rates(source: str, sizes, n_rep: int = 50, seed: int = 0, progress: bool = False,
                     **fit_kwargs) -> AcceptanceResult:
    """Fraction of ``n_rep`` seeded samples of ``source`` that pass d_ks < d_c, for each size and xmin rule."""
    check_positive_all("sizes", sizes, integer=True)
    check_positive("n_rep", n_rep, integer=True)
    rates = {rule: [] for rule in RULES}
    for n in progress_bar(sizes, desc=f"acceptance {source}", disable=not progress):
        samples = [synthetic_values(source, n, seed=seed + r) for r in range(n_rep)]
        for rule in RULES:
            rates[rule].append(float(np.mean([fit_rule(x, rule, **fit_kwargs).passes for x in samples])))
    return AcceptanceResult(source=source, sizes=tuple(sizes), rates={k: tuple(v) for k, v in rates.items()})


@dataclasses.dataclass(frozen=True)
class TestBattery:
    """The paper's rule next to Clauset's bootstrap p-value and Vuong likelihood ratios, for one sample."""

    name: str  # what was tested
    fit: PowerLawResult  # free-xmin fit
    bootstrap: BootstrapResult  # goodness of fit (p > 0.1: plausible power law), xmin re-fitted each time
    bootstrap_top: BootstrapResult  # same with the tail fixed to the top 20 % of the values
    vs_exponential: LikelihoodRatioResult  # R > 0 with p < 0.1 favours the power law
    vs_lognormal: LikelihoodRatioResult  # same against a lognormal

    def row(self) -> dict:
        """One table row."""
        return {"sample": self.name, "beta": self.fit.beta, "n_tail": self.fit.n_tail,
                "d_ks": self.fit.ks_distance, "d_c": self.fit.critical_value, "naive_pass": self.fit.passes,
                "bootstrap_p": self.bootstrap.p_value, "boot_p_top20": self.bootstrap_top.p_value,
                "R_exp": self.vs_exponential.normalized_R,
                "p_exp": self.vs_exponential.p_value, "R_logn": self.vs_lognormal.normalized_R,
                "p_logn": self.vs_lognormal.p_value,
                "verdict": "power law" if min(self.bootstrap.p_value, self.bootstrap_top.p_value) > 0.1
                and self.vs_exponential.favours != "exponential" else "not power law"}


def test_battery(name: str, values, n_boot: int = 100, seed: int = 0, **fit_kwargs) -> TestBattery:
    """Fit (free xmin); bootstrap p-values with xmin re-fitted on every synthetic set and with the top-20 % tail;
    both likelihood ratios (on the free-xmin tail)."""
    fit = fit_power_law(values, **fit_kwargs)
    n_top = max(2, int(0.2 * np.sum(np.asarray(values) > 0)))
    return TestBattery(name=name, fit=fit, bootstrap=bootstrap_pvalue(values, n_boot, seed, fit=fit, **fit_kwargs),
                       bootstrap_top=bootstrap_pvalue(values, n_boot, seed, n_tail=n_top),
                       vs_exponential=likelihood_ratio(values, "exponential", fit=fit),
                       vs_lognormal=likelihood_ratio(values, "lognormal", fit=fit))


@dataclasses.dataclass(frozen=True)
class MechanismResult:
    """Gaussian coordinates with power-law variances: pooled (dimension-wise) tail exponent against 1 + 2/s."""

    s: tuple  # variance exponents, sigma_(k)^2 ~ k^-s
    beta_fit: tuple  # fitted dimension-wise beta (free xmin)
    beta_sigma: tuple  # standard error of each fitted beta, (beta - 1) / sqrt(n_tail)
    beta_predicted: tuple  # 1 + 2/s
    iter_pass: tuple  # fraction of coordinates passing the top-20 % rule over n_iter iterations (Gaussian)
    n_coords: int  # coordinates pooled

    def plot(self, ax=None):
        """Fitted against predicted exponent."""
        import matplotlib.pyplot as plt

        ax = ax or plt.gca()
        ax.plot(self.s, self.beta_predicted, "k-", label="predicted $1 + 2/s$")
        ax.plot(self.s, self.beta_fit, "o", label=f"fitted on {self.n_coords:,} coordinates")
        ax.set(xlabel="variance exponent $s$", ylabel=r"dimension-wise $\hat\beta$")
        ax.legend(loc="upper right")
        return ax


def mechanism(s_values=(0.5, 1.0, 2.0), n_coords: int = 100_000, n_iter: int = 2000, n_test: int = 50,
              seed: int = 0) -> MechanismResult:
    """Pool sigma_k z_k (sigma_k^2 = k^-s) over coordinates and fit; test n_test coordinates over n_iter draws."""
    check_positive_all("s_values", s_values)
    rng = np.random.default_rng(seed)
    fits, iters = [], []
    for s in s_values:
        fits.append(fit_power_law(synthetic_values("scale_mixture", n_coords, seed=seed, s=s)))
        sig = np.arange(1, n_test + 1) ** (-s / 2.0)
        draws = np.abs(rng.standard_normal((n_iter, n_test)) * sig)
        iters.append(float(np.mean([fit_rule(d, "top20").passes for d in draws.T])))
    return MechanismResult(s=tuple(s_values), beta_fit=tuple(f.beta for f in fits),
                           beta_sigma=tuple(f.sigma for f in fits), beta_predicted=tuple(1 + 2 / s for s in s_values),
                           iter_pass=tuple(iters), n_coords=n_coords)


def make_tests_render(real_values: np.ndarray | None = None, seed: int = 0):
    """A render(source, n, xmin_rule) for the explorer: CCDF of a sample with its fit and verdict.

    ``source`` is a synthetic source or "real gradients" (a seeded subsample of ``real_values``).
    """
    import matplotlib.pyplot as plt

    def render(source: str, n: int, xmin_rule: str):
        if source == "real gradients":
            pool = real_values[real_values > 0]
            x = np.random.default_rng(seed).choice(pool, min(n, len(pool)), replace=False)
        else:
            x = synthetic_values(source, n, seed=seed)
        fit = fit_rule(x, xmin_rule, max_candidates=500)
        fig, ax = plt.subplots(figsize=(6.4, 3.6), layout="constrained")  # >= 600 px at 100 dpi: one render
        fit.plot(x, ax=ax, label=f"{source}, $n$ = {n}")
        verdict = "passes" if fit.passes else "fails"
        ax.set_title(rf"{verdict} $d_{{ks}} < d_c$ ($x_{{\min}}$ {xmin_rule}): $\hat\beta$ = {fit.beta:.2f}",
                     fontsize=11)
        return fig

    return render
