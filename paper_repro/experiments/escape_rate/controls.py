"""Positive and negative controls of every verdict rule of the chapter, at the chapter's own sample sizes.

Positive: data drawn from the paper's own model (the decoupled SDE's exact first-passage means; a synthetic
N = c L series with the measured residual autocorrelation; the exact stationary law L^-phi). Negative: the stated
alternative (constant-noise Langevin; N independent of L; the discrete chain's phi = (B + 1)/2 at eta h* = 1).
A rule that is not "reproduced" on most positive draws, or not "not reproduced" on most negative ones, cannot decide.
"""
from __future__ import annotations

import numpy as np
from scipy import stats

from ...core.verdicts import run_controls
from . import linear_sgd as ls
from . import mfpt, rules
from .run import EscapeResult, censored_slope


def escape_controls(esc: EscapeResult, key: str, n_rep: int = 100, boot: int = 50, seed: int = 0):
    """Controls of :func:`rules.escape_verdict` for one curve: metastable times with the decoupled SDE's exact means
    (positive) or Langevin's (negative), over the curve's own window and number of runs."""
    e, w = esc.runs[key], esc.window(key)
    c, d, eps = e.c[w], int(key.split("/")[2]), esc.eps[key]
    target, alt = esc.predicted(key, "decoupled"), esc.predicted(key, "langevin")
    runs = e.times.shape[1]

    def draw(model):
        means = mfpt.mfpt(c, eps, d, model)

        def one(rng):
            t = mfpt.synthetic_times(c, means, runs, rng)
            s, se = censored_slope(c, t, np.inf, boot, seed=int(rng.integers(1 << 30)))
            return s, se, target, alt, len(c)
        return one

    return run_controls(rules.escape_verdict, draw("decoupled"), draw("langevin"), n_rep=n_rep, seed=seed)


def ar1_series(n: int, sd: float, rho: float, rng: np.random.Generator) -> np.ndarray:
    """A stationary AR(1) series with standard deviation sd and lag-1 autocorrelation rho."""
    e = rng.standard_normal(n) * sd * np.sqrt(1 - rho ** 2)
    out = np.empty(n)
    out[0] = rng.standard_normal() * sd
    for i in range(1, n):
        out[i] = rho * out[i - 1] + e[i]
    return out


def noise_controls(r, n_rep: int = 100, seed: int = 0):
    """Controls of :func:`rules.roughly_proportional` on one run's window: log N = log L + AR(1) residual with the
    run's residual sd and autocorrelation (positive), and log N = const + the same residual (negative)."""
    from .noise_strength import robust_slope_fit

    loss = r.loss[r.window]
    sd, rho = r.residual_ar1
    sd = sd if np.isfinite(sd) and sd > 0 else 0.01

    def draw(power):
        def one(rng):
            noise = loss ** power * np.exp(ar1_series(len(loss), sd, rho, rng))
            return robust_slope_fit(loss, noise, boot=100, seed=int(rng.integers(1 << 30)))
        return one

    return run_controls(rules.roughly_proportional, draw(1.0), draw(0.0), n_rep=n_rep, seed=seed)


def stationary_draws(phi: float, loss_star: float, shape: tuple, rng: np.random.Generator) -> np.ndarray:
    """Losses from the exact law P(theta) ~ L^-phi in d = 1: L/L* - 1 ~ BetaPrime(1/2, phi - 1/2)."""
    return loss_star * (1 + stats.betaprime.rvs(0.5, phi - 0.5, size=shape, random_state=rng))


def phi_controls(rows: list, loss_star: float, shape: tuple, n_rep: int = 50, seed: int = 0):
    """Controls of :func:`rules.slight_deviation` at the eta of ``rows``: samples of the exact law with
    phi = 1 + B/(eta h*) (positive) and with the discrete chain's phi = B/eta + 1/2 - B/2 (negative; at eta h* = 1
    half the continuous value), in the chapter's [samples, chains] shape, errors by resampling chains."""
    th = [r["phi_theory"] for r in rows]

    def draw(chain):
        def one(rng):
            fits, ses = [], []
            for r in rows:
                b, lr = r["batch_size"], r["lr"]
                phi = b / lr + 0.5 - b / 2 if chain else r["phi_theory"]
                x = stationary_draws(max(phi, 0.6), loss_star, shape, rng)
                fits.append(ls.fit_phi(x, loss_star, 1))
                ses.append(ls.fit_phi_se(x, loss_star, 1, boot=10, seed=int(rng.integers(1 << 30))))
            return fits, ses, th
        return one

    return run_controls(rules.slight_deviation, draw(False), draw(True), n_rep=n_rep, seed=seed)


def _row(rule: str, sample: str, pos: str, neg: str, res=None, pos_v: str = "", neg_v: str = "") -> dict:
    """One line of the controls table: shares of n_rep draws (synthetic) or the verdict of one simulation."""
    return {"rule": rule, "sample size": sample, "data where the claim holds": pos,
            "verdict there": f"{res.positive_rate:.0%} reproduced" if res else pos_v,
            "data from the alternative": neg,
            "verdict there ": f"{res.negative_rate:.0%} not reproduced" if res else neg_v}


def control_rows(cfg, dec, noise, stat, esc, crit) -> list[dict]:
    """Every rule of the scorecard on its positive and negative controls (the chapter's controls table)."""
    from . import claims as cl

    rows = []
    for s in (s for s in dec if s.ks):
        rows.append(_row("spectra: KS / split-half null", f"epoch {s.epoch}, halves of {len(s.exact)} samples",
                         "losses permuted over samples (Eq. 7 exact)", "losses ranked by ‖∇f‖²",
                         pos_v=rules_tol(s.ks["shuffled"] / s.ks["null"]),
                         neg_v=rules_tol(s.ks["sorted"] / s.ks["null"])))
    for r in (r for r in noise if r.late):
        rows.append(_row("N ∝ L roughly (slope 1 ± 0.2)", f"{int(r.window.sum())} epochs",
                         "N = c L, measured residual autocorrelation", "N independent of L",
                         noise_controls(r, cfg.controls, cfg.seed)))
    one = [r for r in stat.rows if r["lr"] == 1.0]
    if one:
        rows.append(_row("φ slightly off 1 + B/(ηh*) at η = 1", f"{cfg.stat_samples} × {cfg.stat_chains} per B",
                         "exact law L^-φ, φ = 1 + B/(ηh*)", "exact law with the chain's φ = (B + 1)/2",
                         phi_controls(one, stat.loss_star["gaussian"], (cfg.stat_samples, cfg.stat_chains),
                                      min(cfg.controls, 20), cfg.seed)))
    for key in (k for k in esc.runs if k.startswith("sgd/gaussian/")):
        d = key.split("/")[2]
        sample = f"d = {d}, {esc.runs[key].times.shape[1]} runs, {int(esc.window(key).sum())} thresholds"
        rows.append(_row("escape slope vs decoupled SDE", sample, "exact decoupled-SDE means",
                         "exact Langevin means", escape_controls(esc, key, cfg.controls, seed=cfg.seed)))
        sim = {dyn: rules.escape_verdict(*esc.slope(k), esc.predicted(k), esc.predicted(k, "langevin"),
                                         int(esc.window(k).sum()))
               for dyn in ("decoupled", "langevin") if (k := f"{dyn}/gaussian/{d}") in esc.runs}
        rows.append(_row("escape slope vs decoupled SDE", sample.split(",")[0] + f", {cfg.esc_runs} runs",
                         "decoupled SDE simulated (steps of η)", "Langevin simulated (steps of η)",
                         pos_v=sim.get("decoupled", "not run"), neg_v=sim.get("langevin", "not run")))
    lang = {d: crit.drift[("langevin", d)] for d in crit.times}
    rows.append(_row("n_c: log L drifts down below, up above", f"{cfg.nc_runs} runs per d",
                     "decoupled SDE", "Langevin (constant noise)",
                     pos_v=cl.critical_claims(cfg, crit)[0].verdict, neg_v=rules.critical_verdict(lang, crit.n_c)))
    return rows


def rules_tol(ratio: float) -> str:
    """The spectra rule (tolerance on KS / null) applied to one ratio."""
    from ...core.verdicts import tolerance
    from .claims import KS_TOL

    return tolerance(ratio, *KS_TOL)
