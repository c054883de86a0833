"""Estimators of chapter 2: power laws in T and P, T_c(P) (exit from the kernel regime), T_opt(alpha), noise effect."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm


@dataclass(frozen=True)
class PowerFit:
    """y = C T^e_T P^e_P, least squares in log space; errors are bootstrap standard deviations over runs."""

    e_T: float      # exponent of T (delta for ||w - w0||, 1 expected for t*)
    e_P: float      # exponent of P (gamma for ||w - w0||, b for t*)
    log_C: float    # log prefactor
    err_T: float
    err_P: float
    n: int          # number of runs used


def _lstsq(T, P, y):
    A = np.stack([np.ones_like(T), np.log(T), np.log(P)], 1)
    return np.linalg.lstsq(A, np.log(y), rcond=None)[0]


def fit_power(T, P, y, n_boot: int = 200, seed: int = 0) -> PowerFit:
    """log y = log C + e_T log T + e_P log P over finite positive y; bootstrap over runs for the errors."""
    T, P, y = (np.asarray(v, float) for v in (T, P, y))
    ok = np.isfinite(y) & (y > 0)
    T, P, y = T[ok], P[ok], y[ok]
    if len(y) < 4 or len(np.unique(T)) < 2 or len(np.unique(P)) < 2:
        return PowerFit(np.nan, np.nan, np.nan, np.nan, np.nan, len(y))
    c = _lstsq(T, P, y)
    rng = np.random.default_rng(seed)
    boots = [_lstsq(T[i], P[i], y[i]) for i in (rng.integers(len(y), size=len(y)) for _ in range(n_boot))
             if len(np.unique(T[i])) > 1 and len(np.unique(P[i])) > 1]
    b = np.array(boots)
    return PowerFit(float(c[1]), float(c[2]), float(c[0]), float(b[:, 1].std()), float(b[:, 2].std()), len(y))


def noise_fits(table: dict, T_min: float, n_boot: int = 200) -> dict:
    """||w - w0||/||w0|| ∝ T^delta P^gamma and t* ∝ T^x P^b on fitted runs with T >= T_min."""
    sel = (table["status"] == "fitted") & (table["T"] >= T_min)
    sub = {k: np.asarray(v)[sel] for k, v in table.items() if k != "curves"}
    return {"weights": fit_power(sub["T"], sub["P"], sub["weight_change"], n_boot),
            "time": fit_power(sub["T"], sub["P"], sub["time"], n_boot)}


def _crossing(T, w, level):
    """First T where log w (mean over seeds, log-log interpolation) reaches ``level``; NaN if never / from start."""
    Ts = np.unique(T)
    m = np.array([np.exp(np.nanmean(np.log(w[T == t]))) if np.isfinite(w[T == t]).all() else np.nan for t in Ts])
    good = np.isfinite(m)
    Ts, m = Ts[good], m[good]
    if len(m) < 2 or m[0] >= level:
        return np.nan
    above = np.flatnonzero(m >= level)
    if not len(above):
        return np.nan
    j = above[0]
    f = (np.log(level) - np.log(m[j - 1])) / (np.log(m[j]) - np.log(m[j - 1]))
    return float(np.exp(np.log(Ts[j - 1]) + f * (np.log(Ts[j]) - np.log(Ts[j - 1]))))


@dataclass(frozen=True)
class Crossover:
    """T_c(P): temperature at which ||w-w0||/||w0|| reaches ``level`` (the net leaves the kernel regime)."""

    P: np.ndarray
    T_c: np.ndarray       # NaN where the level is not crossed inside the grid
    T_c_err: np.ndarray   # bootstrap (over seeds) standard deviation of log T_c
    a: float              # T_c ∝ P^(-a)
    err_a: float          # bootstrap standard deviation of a
    level: float
    onset: np.ndarray     # smallest T whose seed-mean test error differs from the smallest T's by > 2 SE


def crossover(table: dict, level: float, n_boot: int = 200, seed: int = 0) -> Crossover:
    """Per P the level crossing of the seed-mean weight change; a from log T_c vs log P; seeds bootstrapped."""
    ok = np.asarray(table["status"]) != "capped"
    T, P, w, s = (np.asarray(table[k], float)[ok] for k in ("T", "P", "weight_change", "seed"))
    w = np.where(np.asarray(table["status"])[ok] == "diverged", np.inf, w)  # diverged: beyond every level
    Ps, seeds = np.unique(P), np.unique(s)
    rng = np.random.default_rng(seed)

    def estimate(pick):
        tc = np.array([_crossing(np.concatenate([T[(P == p) & (s == q)] for q in pick]),
                                 np.concatenate([w[(P == p) & (s == q)] for q in pick]), level) for p in Ps])
        good = np.isfinite(tc)
        slope = -np.polyfit(np.log(Ps[good]), np.log(tc[good]), 1)[0] if good.sum() >= 2 else np.nan
        return tc, slope

    tc, a = estimate(seeds)
    boots = [estimate(rng.choice(seeds, len(seeds))) for _ in range(n_boot)]
    tcb = np.array([b[0] for b in boots])
    ab = np.array([b[1] for b in boots])
    tc_err = np.array([np.nanstd(np.log(tcb[:, j])) if np.isfinite(tcb[:, j]).sum() > 1 else np.nan
                       for j in range(len(Ps))])
    onset = np.array([error_onset(table, p) for p in Ps])
    return Crossover(P=Ps, T_c=tc, T_c_err=tc_err, a=float(a), err_a=float(np.nanstd(ab)) if np.isfinite(ab).sum()
                     > 1 else np.nan, level=float(level), onset=onset)


def _mean_se(e: np.ndarray, n_test: int) -> tuple[float, float]:
    """Mean over seeds and its standard error: seed scatter, or binomial when one seed."""
    m = float(np.mean(e))
    if len(e) > 1:
        return m, float(np.std(e, ddof=1) / np.sqrt(len(e)))
    return m, float(np.sqrt(m * (1 - m) / n_test))


def error_onset(table: dict, P: float, n_test: int = 10_000) -> float:
    """Smallest T whose seed-mean test error differs from that at the smallest T by more than 2 SE."""
    sel = (table["P"] == P) & (table["status"] == "fitted")
    Ts = np.unique(table["T"][sel])
    if len(Ts) < 2:
        return np.nan
    m0, s0 = _mean_se(table["test_error"][sel & (table["T"] == Ts[0])], n_test)
    for t in Ts[1:]:
        m, s = _mean_se(table["test_error"][sel & (table["T"] == t)], n_test)
        if abs(m - m0) > 2 * np.hypot(s, s0):
            return float(t)
    return np.nan


@dataclass(frozen=True)
class NoiseEffect:
    """err(T_opt) - err(smallest T) at one alpha and P, seed-averaged, with its standard error."""

    alpha: float
    P: float
    T_low: float
    T_opt: float
    effect: float       # err(T_opt) - err(T_low) <= 0: how much the best noise level helps
    err: float          # its standard error (seed scatter of both means)
    T_high: float       # largest T whose seeds all fitted
    effect_high: float  # err(T_high) - err(T_low) (> 0: the largest noise hurts)
    err_high: float
    seeds: int
    z_helps: float = 2.0  # critical value for "helps": T_opt is the best of m temperatures, so Bonferroni over m

    @property
    def significant(self) -> bool:
        return bool(np.isfinite(self.effect) and abs(self.effect) > self.z_helps * self.err)

    @property
    def verdict(self) -> str:
        """'helps' (T_opt beats T -> 0 by > z_helps SE), 'hurts' (largest T worse by > 2 SE), else no effect."""
        if np.isfinite(self.effect) and self.effect < -self.z_helps * self.err:
            return "helps"
        if np.isfinite(self.effect_high) and self.effect_high > 2 * self.err_high:
            return "hurts"
        return "no significant effect"


def noise_effect(table: dict, alpha: float, P: float, n_test: int) -> NoiseEffect:
    """T_opt = argmin of the seed-mean error over T whose seeds all fitted; compared with the smallest such T."""
    sel = (table["alpha"] == alpha) & (table["P"] == P)
    Ts = [t for t in np.unique(table["T"][sel]) if (table["status"][sel & (table["T"] == t)] == "fitted").all()]
    if len(Ts) < 2:
        return NoiseEffect(float(alpha), float(P), np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, 0)
    stats = [_mean_se(table["test_error"][sel & (table["T"] == t)], n_test) for t in Ts]
    j = int(np.argmin([m for m, _ in stats]))
    n = int((sel & (table["T"] == Ts[0])).sum())
    eff = stats[j][0] - stats[0][0]
    z_helps = float(norm.ppf(1 - 0.025 / (len(Ts) - 1)))  # selecting the best of len(Ts) - 1 candidates
    return NoiseEffect(float(alpha), float(P), float(Ts[0]), float(Ts[j]), float(eff),
                       float(np.hypot(stats[j][1], stats[0][1])) if j else 0.0, float(Ts[-1]),
                       float(stats[-1][0] - stats[0][0]), float(np.hypot(stats[-1][1], stats[0][1])), n, z_helps)


@dataclass(frozen=True)
class OptimalT:
    """T_opt(alpha) = argmin_T of the seed-mean test error; T_opt ∝ alpha^k fitted on alpha <= alpha_max."""

    alpha: np.ndarray
    T_opt: np.ndarray
    at_edge: np.ndarray   # T_opt at the smallest or largest fitted T (a bound, left out of the fit)
    k: float
    err_k: float          # standard error of the log-log regression slope


def optimal_temperature(table: dict, alpha_max: float = 1.0) -> OptimalT:
    """Best temperature per alpha and its power law on the feature side."""
    al = np.unique(table["alpha"])
    topt, edge = np.full(len(al), np.nan), np.zeros(len(al), bool)
    for i, a in enumerate(al):
        sel = (table["alpha"] == a) & (table["status"] == "fitted")
        Ts = np.unique(table["T"][sel])
        if len(Ts):
            m = [np.mean(table["test_error"][sel & (table["T"] == t)]) for t in Ts]
            topt[i] = Ts[int(np.argmin(m))]
            edge[i] = len(Ts) < 3 or topt[i] in (Ts[0], Ts[-1])
    side = (al <= alpha_max) & np.isfinite(topt) & ~edge
    k = err_k = np.nan
    if side.sum() >= 3:
        (k, _), cov = np.polyfit(np.log(al[side]), np.log(topt[side]), 1, cov=True)
        err_k = float(np.sqrt(cov[0, 0]))
    return OptimalT(alpha=al, T_opt=topt, at_edge=edge, k=float(k), err_k=float(err_k))


def fmt(x: float, e: float) -> str:
    """'0.52 ± 0.04' (NaN-safe)."""
    return "n/a" if not np.isfinite(x) else f"{x:.2f} ± {e:.2f}" if np.isfinite(e) else f"{x:.2f}"
