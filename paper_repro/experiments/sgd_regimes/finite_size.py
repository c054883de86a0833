"""Perceptron exponents at finite size: local P-slopes of w_par, ||w_perp|| and their ratio, a rule that reads the
largest P-pair and says "pre-asymptotic" while the slope still drifts toward the target, and its controls.

Predictions (noise-dominated perceptron, the authors' follow-up arXiv 2309.10688 as read in a summary):
w_par / ||w_perp|| ∝ P^{1/(1+chi)}, ||w_perp|| ∝ T P^0, hence w_par ∝ T P^{1/(1+chi)}. At finite P the noise part
still drifts, so a pooled fit of w_par over a P range mixes the two; the local slope at the largest P does not.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...core.verdicts import Z, interval_verdict, run_controls
from .analysis import _t_mean

N_CONTROL = 200  # synthetic sweeps per control
QUANTITIES = {"w_par": "w_∥", "ratio": "w_∥/‖w_⊥‖", "w_perp": "‖w_⊥‖"}


def targets(chi: float) -> dict:
    """(target, alternatives) per quantity: the signal's 1/(1+chi) (alternatives 0, and 1 or 1/2 for the other
    boundary density), the noise's 0 (alternative: it grows like the signal, no separation)."""
    g = 1 / (1 + chi)
    other = 0.5 if chi == 0 else 1.0
    return {"w_par": (g, (0.0, other)), "ratio": (g, (0.0, other)), "w_perp": (0.0, (g,))}


def grid(table: dict, chi: float, key: str, T_min: float, P_min: float = 0):
    """(Ts, Ps, values [seed, T, P]) of ``key`` (or the ratio w_par / w_perp) on fitted runs, NaN where missing."""
    sel = (table["chi"] == chi) & (table["T"] >= T_min) & (table["P"] >= P_min) & (table["status"] == "fitted")
    seeds, Ts, Ps = (np.unique(table[k][sel]) for k in ("seed", "T", "P"))
    val = table["w_par"] / table["w_perp"] if key == "ratio" else table[key]
    out = np.full((len(seeds), len(Ts), len(Ps)), np.nan)
    for i in np.flatnonzero(sel):
        out[np.searchsorted(seeds, table["seed"][i]), np.searchsorted(Ts, table["T"][i]),
            np.searchsorted(Ps, table["P"][i])] = val[i]
    return Ts, Ps, out


def seed_slopes(values: np.ndarray, Ps: np.ndarray) -> np.ndarray:
    """[seed, pair]: d log(value) / d log P between neighbouring P, averaged over temperatures, per seed."""
    with np.errstate(divide="ignore", invalid="ignore"):
        lv = np.log(np.where(values > 0, values, np.nan))
    return np.nanmean(np.diff(lv, axis=2) / np.diff(np.log(Ps)), axis=1)


def finite_size_verdict(slopes: np.ndarray, target: float, alternatives: tuple = ()) -> str:
    """Verdict of the local slope at the largest P-pair (per-seed slopes [seed, pair], 95 % t-interval): the
    interval rule; but a miss whose slope still drifts toward the target (last pair minus the one before, per
    seed, beyond its own 95 % interval) is "inconclusive" (pre-asymptotic), not "not reproduced"."""
    last, err = _t_mean(slopes[:, -1])
    v = interval_verdict(last, err, target, alternatives)
    if v == "not reproduced" and drifts_toward(slopes, target):
        return "inconclusive"
    return v


def drifts_toward(slopes: np.ndarray, target: float) -> bool:
    """True when the last pair's slope moved toward ``target`` from the pair before, by more than its 95 % error."""
    if slopes.shape[1] < 2:
        return False
    d, e = _t_mean(slopes[:, -1] - slopes[:, -2])
    last = np.nanmean(slopes[:, -1])
    return bool(np.isfinite(e) and abs(d) > Z * e and np.sign(d) == np.sign(target - last))


@dataclass(frozen=True)
class LocalExponent:
    """One quantity's P-exponent at finite size: local slopes per P-pair, the largest pair's verdict."""

    chi: float
    key: str              # w_par | ratio | w_perp
    pairs: tuple          # ((P_lo, P_hi), ...)
    slope: np.ndarray     # seed-mean local slope per pair
    err: np.ndarray       # its error (slope +- 2 err: 95 % t-interval over seeds)
    drift: float          # last pair minus the pair before (seed mean)
    err_drift: float
    target: float
    alternatives: tuple
    verdict: str
    pre_asymptotic: bool  # the last slope still drifts toward the target
    noise: np.ndarray     # per P: seed scatter of log(value), mean over T (the controls' noise)


def local_exponent(table: dict, chi: float, key: str, T_min: float, P_min: float = 0) -> LocalExponent:
    """Local slopes of ``key`` in P at T >= T_min, and the finite-size verdict against its prediction."""
    _, Ps, v = grid(table, chi, key, T_min, P_min)
    target, alts = targets(chi)[key]
    s = seed_slopes(v, Ps)
    stats = np.array([_t_mean(s[:, j]) for j in range(s.shape[1])]).reshape(-1, 2)
    d, ed = _t_mean(s[:, -1] - s[:, -2]) if s.shape[1] > 1 else (np.nan, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        noise = np.nanmean(np.nanstd(np.log(v), axis=0, ddof=1), axis=0)
    return LocalExponent(float(chi), key, tuple(zip(Ps[:-1].tolist(), Ps[1:].tolist())), stats[:, 0], stats[:, 1],
                         float(d), float(ed), target, alts, finite_size_verdict(s, target, alts),
                         drifts_toward(s, target), noise)


def synthetic(rng: np.random.Generator, exponent: float, Ps, n_T: int, seeds: int, noise) -> np.ndarray:
    """[seed, T, P] of the asymptotic law C T P^exponent with log-normal scatter ``noise`` per P (shared by the
    temperatures of a seed and P, as the runs of one seed share data and batches)."""
    Ps = np.asarray(Ps, float)
    eps = rng.standard_normal((seeds, 1, len(Ps))) * np.asarray(noise)[None, None, :]
    T = 2.0 ** np.arange(n_T)[None, :, None]
    return T * Ps[None, None, :] ** exponent * np.exp(eps)


def controls(ex: LocalExponent, seeds: int, n_T: int, negative: float, n_rep: int = N_CONTROL, seed: int = 0):
    """The rule on the law with the target exponent and on ``negative`` (the alternative), with the measured
    noise per P, the chapter's seeds, temperatures and P grid (verdicts.ControlResult)."""
    Ps = np.array([p for p, _ in ex.pairs] + [ex.pairs[-1][1]], float)
    noise = np.nan_to_num(ex.noise, nan=float(np.nanmax(ex.noise)) if np.isfinite(ex.noise).any() else 0.1)

    def draw(exponent):
        return lambda rng: (seed_slopes(synthetic(rng, exponent, Ps, n_T, seeds, noise), Ps), ex.target,
                            ex.alternatives)
    return run_controls(finite_size_verdict, draw(ex.target), draw(negative), n_rep=n_rep, seed=seed)


def all_local(cfg, perc: dict) -> dict:
    """{(chi, quantity): LocalExponent} at T >= perc_fit_T_min, P >= perc_fit_P_min."""
    return {(float(c), k): local_exponent(perc, c, k, cfg.perc_fit_T_min, cfg.perc_fit_P_min)
            for c in cfg.perc_chis for k in QUANTITIES}


def control_rates(cfg, local: dict, n_rep: int = N_CONTROL) -> dict:
    """{(chi, quantity): (share "reproduced" on the predicted law, share "not reproduced" on the alternative)}; the
    alternative is the last of each quantity's alternatives (the other boundary density's exponent, or for the
    noise part: growing like the signal)."""
    n_T = sum(T >= cfg.perc_fit_T_min for T in cfg.perc_T)
    out = {}
    for (chi, key), ex in local.items():
        r = controls(ex, cfg.perc_seeds, n_T, ex.alternatives[-1], n_rep=n_rep)
        out[(chi, key)] = (r.positive_rate, r.negative_rate)
    return out
