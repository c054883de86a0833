"""Linear-regression experiments of Mori et al. (2022, Sec. 5.3): stationary exponent phi (Fig. 3a) and
first-passage times (Fig. 3b), with the discrete chain's own predictions beside the paper's continuous ones."""
from __future__ import annotations

import dataclasses

import numpy as np

from ...core.progress import progress
from . import linear_sgd as ls
from .config import STAT_VARIANTS, EscapeRateConfig


@dataclasses.dataclass(frozen=True)
class StationaryResult:
    """Fitted phi of Gaussian-input SGD per (eta, B), and the loss samples of every variant at one setting."""

    rows: list  # dicts: lr, batch_size, phi_theory, phi_chain, phi_kesten, phi_fit, phi_se, diverged
    shown: dict  # "dynamics/inputs" -> loss samples at `show`
    loss_star: dict  # inputs -> L*
    show: tuple  # (lr, B) of the histogram
    h: float  # measured Hessian h* of the Gaussian-input problem

    def tail_probabilities(self, q: float = 3.0) -> dict:
        """P(L > q L*) at the shown setting: measured per variant, the power law L^-phi and Arrhenius (Gamma)."""
        from scipy import integrate, stats

        lr, bs = self.show
        phi = ls.phi_theory(lr, bs, self.h)
        power = integrate.quad(lambda x: ls.loss_density(x, 1.0, 1, phi), q, np.inf)[0]
        arrhenius = float(stats.gamma.sf(q - 1, 0.5, scale=lr * self.h / bs))
        measured = {k: float(np.mean(v / self.loss_star[k.split("/")[1]] > q)) for k, v in self.shown.items()}
        return {"q": q, "measured": measured, "power_law": power, "arrhenius": arrhenius}


def run_stationary(cfg: EscapeRateConfig) -> StationaryResult:
    """Fig. 3a: chains of Gaussian-input SGD for every (eta, B); phi fitted by maximum likelihood from L samples."""
    chain = dict(chains=cfg.stat_chains, burn_in=cfg.stat_burn_in, samples=cfg.stat_samples, every=cfg.stat_every)
    problems = {inp: ls.make_problem(cfg.stat_n, 1, inp, cfg.seed) for inp in {v[1] for v in STAT_VARIANTS}}
    p, rows = problems["gaussian"], []
    for lr in progress(cfg.stat_lrs, desc="eta"):
        for b in cfg.stat_batches:
            s = ls.stationary_samples(p, lr, b, **chain, dynamics="sgd", seed=cfg.seed + 1)
            fit = ls.fit_phi(s.losses, p.loss_star, 1) if s.losses.size else float("nan")
            se = ls.fit_phi_se(s.losses, p.loss_star, 1, boot=30) if s.losses.shape[1] > 1 else float("nan")
            rows.append(dict(lr=lr, batch_size=b, phi_theory=ls.phi_theory(lr, b, p.h),
                             phi_chain=ls.phi_chain(p, lr, b), phi_kesten=ls.phi_kesten(p, lr, b), phi_fit=fit,
                             phi_se=se, diverged=s.diverged))
    lr, b = cfg.stat_show
    shown = {f"{dyn}/{inp}": ls.stationary_samples(problems[inp], lr, b, **chain, dynamics=dyn,
                                                   seed=cfg.seed + 1).losses.ravel() for dyn, inp in STAT_VARIANTS}
    return StationaryResult(rows, shown, {k: q.loss_star for k, q in problems.items()}, tuple(cfg.stat_show), p.h)


@dataclasses.dataclass(frozen=True)
class EscapeResult:
    """First-passage times per "dynamics/inputs/d" with the theory exponent from the simulated eta, B, h*, n."""

    runs: dict  # "dynamics/inputs/d" -> ls.EscapeTimes
    theory: dict  # same keys -> B/(eta h*) + 1 - n/2 with the measured h* of that data set and n = d
    h: dict  # same keys -> measured h*
    fit_max_c: float  # upper end of the low window c <= fit_max_c
    boot: int = 200  # bootstrap resamples of the runs

    def local_slopes(self, key: str) -> np.ndarray:
        """d log t_p / d log c between consecutive thresholds (censored-data means)."""
        e = self.runs[key]
        return np.diff(np.log(e.mean)) / np.diff(np.log(e.c))

    def windows(self, key: str) -> dict:
        """Threshold masks: "low" = c <= fit_max_c; "uncensored" = c >= 2 where every run escaped."""
        e = self.runs[key]
        return {"low": e.c <= self.fit_max_c, "uncensored": (e.c >= 2.0) & (e.escaped == 1.0)}

    def slope(self, key: str, window: str = "low") -> tuple[float, float]:
        """Least-squares slope of log t_p vs log c over a window, and its bootstrap standard error over runs."""
        e, w = self.runs[key], self.windows(key)[window]
        if w.sum() < 2:
            return float("nan"), float("nan")
        fit = lambda t: np.polyfit(np.log(e.c[w]), np.log(e.mean_of(t[w])), 1)[0] if np.all(  # noqa: E731
            np.isfinite(t[w]).any(1)) else np.nan
        rng, m = np.random.default_rng(0), e.times.shape[1]
        boots = np.array([fit(e.times[:, rng.integers(m, size=m)]) for _ in range(self.boot)])
        boots = boots[np.isfinite(boots)]
        return float(fit(e.times)), float(np.std(boots)) if len(boots) > 1 else float("nan")


def run_escape(cfg: EscapeRateConfig) -> EscapeResult:
    """Fig. 3b: every (dynamics, inputs) of cfg.esc_variants at each d, and constant-noise Langevin at the first d."""
    jobs = [(dyn, inp, d, cfg.esc_c) for dyn, inp in cfg.esc_variants for d in cfg.esc_dims]
    jobs.append(("langevin", "gaussian", cfg.esc_dims[0], cfg.esc_langevin_c))
    runs, theory, h = {}, {}, {}
    for dyn, inp, d, cs in progress(jobs, desc="escape"):
        p = ls.make_problem(cfg.esc_n, d, inp, cfg.seed)
        key = f"{dyn}/{inp}/{d}"
        runs[key] = ls.escape_times(p, cfg.esc_lr, cfg.esc_batch_size, np.array(cs), cfg.esc_runs, cfg.esc_max_steps,
                                    dyn, seed=cfg.seed + d)
        h[key], theory[key] = p.h, ls.escape_exponent(cfg.esc_lr, cfg.esc_batch_size, p.h, d)
    return EscapeResult(runs, theory, h, cfg.esc_fit_max_c, cfg.esc_boot)
