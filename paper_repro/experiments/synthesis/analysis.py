"""Mechanism experiments a-d on the shared runs' rows, their rules and the rules' controls.

Unit of replication: the seed. A quantity is averaged per seed over the settings it pools, then reported as the
mean over seeds with its standard error (std / sqrt(seeds)).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from ...core.estimators import fit_power_law, tail_index
from ...core.verdicts import Z, interval_verdict, run_controls, threshold_verdict
from ..escape_rate.linear_sgd import (fit_phi, fit_phi_se, make_problem, phi_chain, phi_theory,
                                      stationary_samples)
from ..tail_index.noise import sample_sas
from .measure import scale_mixture

QUANTITIES = {  # key -> (label, paper)
    "alpha_pooled": ("pooled α̂ (fixed K1)", "Şimşekli"), "alpha_sqrt_n": ("pooled α̂ (K1 ≈ √N)", "Şimşekli"),
    "alpha_std_cal": ("standardised α̂ (calibrated)", "ch. 1"), "mix_diag": ("scale-mixture α̂ (variances)", "this chapter"),
    "mix_robust": ("scale-mixture α̂ (robust scales)", "this chapter"),
    "dim_pass": ("dimension-wise pass", "Xie"), "iter_pass": ("iteration-wise pass", "Xie"),
    "spectrum_s": ("spectrum exponent s", "Xie"), "noise_strength": ("noise strength N", "Mori"),
    "h_top": ("top Hessian eigenvalue h*", "Mori"), "phi": ("predicted φ", "Mori"),
    "weight_change": ("relative weight change", "Sclocchi"), "test_error": ("test error", "Sclocchi"),
}


def ok(rows: list[dict], **match) -> list[dict]:
    """Non-diverged rows matching every field of ``match``."""
    return [r for r in rows if not r.get("diverged") and all(r.get(k) == v for k, v in match.items())]


def per_seed(rows: list[dict], key: str) -> np.ndarray:
    """Mean of ``key`` per seed over the given rows (finite values only)."""
    seeds = sorted({r["seed"] for r in rows})
    out = [np.nanmean([r[key] for r in rows if r["seed"] == s and r.get(key) is not None]) if any(
        r["seed"] == s and np.isfinite(r.get(key, np.nan)) for r in rows) else np.nan for s in seeds]
    return np.asarray(out, float)


def mean_se(values) -> tuple[float, float]:
    """Mean and standard error over finite values (se NaN with fewer than two)."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if not len(v):
        return float("nan"), float("nan")
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(len(v))) if len(v) > 1 else float("nan")


def seed_stat(rows: list[dict], key: str) -> tuple[float, float]:
    """Mean over seeds of the per-seed means of ``key``, and its standard error."""
    return mean_se(per_seed(rows, key))


# --- a. scale mixture --------------------------------------------------------------------------------------------

def explained(rows: list[dict], mix: str = "mix_robust") -> tuple[float, float]:
    """Fraction of 2 - alpha_pooled that Gaussian noise with the measured scales reproduces, (2 - mix) / (2 -
    pooled), per seed (pooled over settings), mean and se over seeds. The rule uses robust scales ("mix_robust"):
    sample variances of heavy-tailed data are themselves spread out, which would make any heavy tail look like a
    scale mixture (the negative control fails with "mix_diag")."""
    num, den = per_seed(rows, mix), per_seed(rows, "alpha_pooled")
    frac = np.where(den < 2, (2 - num) / np.maximum(2 - den, 1e-9), np.nan)
    return mean_se(frac)


def mixture_rule(lo: float, hi: float) -> str:
    """Scale heterogeneity explains most of the gap: the fraction's interval lies above 1/2."""
    return threshold_verdict(lo, hi, ok=0.5, below=False)


def _mixture_draw(alpha: float, log_sd: float, shape: tuple, k1: int, seeds: int):
    def draw(rng):
        fr = []
        for _ in range(seeds):
            gen = torch.Generator().manual_seed(int(rng.integers(2 ** 31)))
            base = sample_sas(alpha, shape, generator=gen) if alpha < 2 else torch.randn(shape, generator=gen)
            noise = base * torch.exp(log_sd * torch.randn(shape[1], generator=gen))
            pooled = tail_index(noise.reshape(-1), k1=k1).alpha
            mix = scale_mixture(noise, k1, int(rng.integers(2 ** 31)))["mix_robust"]
            fr.append((2 - mix) / (2 - pooled) if pooled < 2 else np.nan)
        m, se = mean_se(fr)
        return (m - Z * se, m + Z * se)
    return draw


def mixture_controls(cfg, shape: tuple):
    """Positive: Gaussian noise with log-normal column scales (heterogeneity only); negative: i.i.d. SaS(1.3)
    of equal scales (heavy tails only). Same shape, K1 and seeds as the runs."""
    return run_controls(mixture_rule, _mixture_draw(2.0, 1.5, shape, cfg.k1_fixed, cfg.n_seeds),
                        _mixture_draw(1.3, 0.0, shape, cfg.k1_fixed, cfg.n_seeds), n_rep=cfg.n_control,
                        seed=cfg.seed)


# --- b. per-coordinate tails -------------------------------------------------------------------------------------

def gaussian_coordinate_alphas(n: int, reps: int, seed: int = 0) -> np.ndarray:
    """alpha-hat (default K1) of ``reps`` Gaussian samples of size n: the estimator's reading of a light tail."""
    gen = torch.Generator().manual_seed(seed)
    return np.array([tail_index(torch.randn(n, generator=gen, dtype=torch.float64)).alpha for _ in range(reps)])


def coordinate_rule(est: float, se: float, gauss: float, heavy: float = 1.5, gauss_se: float = 0.0) -> str:
    """The top coordinates read like Gaussian samples of their size (target: the Gaussian control's median
    alpha-hat, whose own standard error ``gauss_se`` widens the interval; the alternative: a stable law's
    alpha = 1.5 read at the same size)."""
    return interval_verdict(est, math.hypot(se, gauss_se), gauss, (heavy,), partly_within=0.15)


def median_se(values) -> tuple[float, float]:
    """Median and its large-sample standard error (1.2533 sd / sqrt(n))."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    return float(np.median(v)), float(1.2533 * v.std(ddof=1) / math.sqrt(len(v)))


def coordinate_controls(cfg, n: int, gauss: float, heavy: float, cols: int, gauss_se: float = 0.0):
    """Positive: Gaussian columns; negative: SaS(1.5) columns; ``cols`` columns of n samples per seed (the runs
    of one seed times top_coords), n_seeds seeds."""
    def draw(alpha):
        def f(rng):
            per = []
            for _ in range(cfg.n_seeds):
                gen = torch.Generator().manual_seed(int(rng.integers(2 ** 31)))
                x = sample_sas(alpha, (n, cols), generator=gen) if alpha < 2 else torch.randn((n, cols), generator=gen)
                per.append(np.median([tail_index(c.double()).alpha for c in x.T]))
            m, se = mean_se(per)
            return (m, se, gauss, heavy, gauss_se)
        return f
    return run_controls(coordinate_rule, draw(2.0), draw(1.5), n_rep=cfg.n_control, seed=cfg.seed + 1)


def coordinate_stat(rows: list[dict]) -> tuple[float, float]:
    """Median alpha-hat over every top-variance coordinate of one seed's runs; mean and se over seeds."""
    per = []
    for s in sorted({r["seed"] for r in rows}):
        a = np.array([np.nan if x is None else x for r in rows if r["seed"] == s
                      for x in (r.get("coord_alphas") or [])], float)
        per.append(float(np.median(a[np.isfinite(a)])) if np.isfinite(a).any() else np.nan)
    return mean_se(per)


# --- c. heavy-tailed iterates from light-tailed noise (chapter 3's linear model) ---------------------------------

def linear_iterates(cfg) -> list[dict]:
    """Per (lr, B): phi fitted to the stationary losses of d = 1 linear regression (chapter 3's chains and fit)
    against phi = 1 + B/(lr h*), and alpha-hat / power-law test of the same model's minibatch noise at theta*."""
    out = []
    for i, (lr, b) in enumerate(cfg.linear_settings):
        prob = make_problem(cfg.linear_n, 1, "gaussian", seed=cfg.seed + i)
        st = stationary_samples(prob, lr, b, cfg.linear_chains, cfg.linear_burn_in, cfg.linear_samples,
                                cfg.linear_every, seed=cfg.seed + i)
        rng = np.random.default_rng(cfg.seed + i)
        r = prob.y - prob.x[:, 0] * prob.theta_star[0]
        idx = rng.integers(len(r), size=(20_000, b))
        noise = (prob.x[idx, 0] * r[idx]).mean(1) - np.mean(prob.x[:, 0] * r)
        gauss = rng.standard_normal(len(noise))
        fit = fit_power_law(np.abs(noise), n_tail=1000)
        hill = tail_index(noise, "hill")
        out.append({"lr": lr, "B": b, "phi_fit": fit_phi(st.losses, prob.loss_star, 1),
                    "phi_se": fit_phi_se(st.losses, prob.loss_star, 1, boot=30), "h": prob.h,
                    "phi_theory": phi_theory(lr, b, prob.h), "noise_alpha": tail_index(noise).alpha,
                    "noise_alpha_se": tail_index(noise).stderr, "gauss_alpha": tail_index(gauss).alpha,
                    "noise_hill": hill.alpha, "noise_hill_se": hill.stderr, "phi_chain": phi_chain(prob, lr, b),
                    "noise_pass": bool(fit.passes), "losses": st.losses, "loss_star": prob.loss_star})
    return out


def iterate_rule(phi: float, se: float, theory: float, hill: float, hill_se: float) -> str:
    """The iterates have a power-law tail with phi-hat at the predicted phi (within a quarter of phi - 1: partly),
    while the same model's noise has a light tail: its Hill index (top sqrt n values) above 2 by two errors."""
    a = interval_verdict(phi, se, theory, partly_within=0.25 * (theory - 1))
    b = threshold_verdict(hill - Z * hill_se, hill + Z * hill_se, ok=2.0, below=False)
    return a if b == "reproduced" else "not reproduced" if b == "not reproduced" else "inconclusive"


def noise_tail_controls(n: int = 20_000, reps: int = 50):  # n: noise draws per model, as in linear_iterates
    """The light-tail half of :func:`iterate_rule` on Gaussian noise (holds) and on SaS(1.5) noise (does not)."""
    def rule(h: float, se: float) -> str:
        return threshold_verdict(h - Z * se, h + Z * se, ok=2.0, below=False)

    def draw(alpha):
        def f(rng):
            gen = torch.Generator().manual_seed(int(rng.integers(2 ** 31)))
            x = sample_sas(alpha, (n,), generator=gen) if alpha < 2 else torch.randn(n, generator=gen)
            r = tail_index(x.double(), "hill")
            return (r.alpha, r.stderr)
        return f
    return run_controls(rule, draw(2.0), draw(1.5), n_rep=reps, seed=7)


def gaussian_hill(n: int, reps: int = 200, seed: int = 0) -> float:
    """Median Hill index (top sqrt n) of |x - median x| for Gaussian samples of size n: a light tail read like
    the nets' late iterates (NaN when n is too small)."""
    if n < 16:
        return float("nan")
    gen = torch.Generator().manual_seed(seed)
    vals = []
    for _ in range(reps):
        x = torch.randn(n, generator=gen, dtype=torch.float64)
        d = (x - x.median()).abs()
        vals.append(tail_index(d[d > 0], "hill").alpha)
    return float(np.median(vals))


# --- d. temperature: which quantity depends on T, which on B --------------------------------------------------------

def t_b_slopes(rows: list[dict], key: str) -> dict:
    """OLS of q on log T and log B over the runs' end checkpoints (one point per run): slopes, ses, t values."""
    pts = [(math.log(r["T"]), math.log(r["B"]), r[key]) for r in rows if np.isfinite(r.get(key, np.nan))]
    if len(pts) < 4:
        return {"b_T": np.nan, "b_B": np.nan, "t_T": np.nan, "t_B": np.nan}
    a = np.array([[1, t, b] for t, b, _ in pts])
    y = np.array([q for _, _, q in pts])
    coef, *_ = np.linalg.lstsq(a, y, rcond=None)
    resid = y - a @ coef
    dof = max(len(y) - 3, 1)
    cov = np.linalg.pinv(a.T @ a) * (resid @ resid) / dof
    se = np.sqrt(np.maximum(np.diag(cov), 1e-300))
    return {"b_T": coef[1], "b_B": coef[2], "t_T": coef[1] / se[1], "t_B": coef[2] / se[2]}


def dependence(t_T: float, t_B: float) -> str:
    """'T', 'B', 'T and B' or 'neither': which slope is beyond Z standard errors."""
    if not (np.isfinite(t_T) and np.isfinite(t_B)):
        return "inconclusive"
    on = [n for n, t in (("T", t_T), ("B", t_B)) if abs(t) > Z]
    return " and ".join(on) or "neither"


def temperature_rule(t_T: float, t_B: float) -> str:
    """Sclocchi et al.'s 'T is what matters': the slope on log T significant, the one on log B at fixed T not."""
    d = dependence(t_T, t_B)
    return "reproduced" if d == "T" else "inconclusive" if d in ("neither", "inconclusive") else "not reproduced"


def temperature_controls(cfg, n_runs: int):
    """Positive: q = log T + noise; negative: q = log B + noise; same (T, B) design and number of runs."""
    design = [(t, b) for t in cfg.temperatures for b in cfg.batch_sizes]

    def draw(on_t):
        def f(rng):
            rows = [{"T": t, "B": b, "q": math.log(t if on_t else b) + 0.3 * rng.standard_normal()}
                    for _ in range(max(1, n_runs // len(design))) for t, b in design]
            s = t_b_slopes(rows, "q")
            return (s["t_T"], s["t_B"])
        return f
    return run_controls(temperature_rule, draw(True), draw(False), n_rep=cfg.n_control, seed=cfg.seed + 2)
