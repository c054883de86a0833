"""Fits of Sclocchi et al. (2023): power laws in T and P with bootstrap errors, T_c(P), T_opt(alpha), claims."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..results import Claim


@dataclass(frozen=True)
class PowerFit:
    """y = C T^e_T P^e_P fitted by least squares in log space; errors are bootstrap standard deviations."""

    e_T: float      # exponent of T (delta for ||w - w0||, 1 expected for t*)
    e_P: float      # exponent of P (gamma for ||w - w0||, b for t*)
    log_C: float    # log prefactor
    err_T: float
    err_P: float
    n: int          # number of runs used

    def predict(self, T, P):
        return np.exp(self.log_C) * np.asarray(T, float) ** self.e_T * np.asarray(P, float) ** self.e_P


def _lstsq(T, P, y):
    A = np.stack([np.ones_like(T), np.log(T), np.log(P)], 1)
    coef, *_ = np.linalg.lstsq(A, np.log(y), rcond=None)
    return coef


def fit_power(T, P, y, n_boot: int = 200, seed: int = 0) -> PowerFit:
    """Fit log y = log C + e_T log T + e_P log P over finite positive y; bootstrap over runs for errors."""
    T, P, y = (np.asarray(v, float) for v in (T, P, y))
    ok = np.isfinite(y) & (y > 0)
    T, P, y = T[ok], P[ok], y[ok]
    if len(y) < 3 or len(np.unique(T)) < 2 or len(np.unique(P)) < 2:
        return PowerFit(np.nan, np.nan, np.nan, np.nan, np.nan, len(y))
    c = _lstsq(T, P, y)
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        i = rng.integers(len(y), size=len(y))
        if len(np.unique(T[i])) > 1 and len(np.unique(P[i])) > 1:
            boots.append(_lstsq(T[i], P[i], y[i]))
    b = np.array(boots)
    return PowerFit(float(c[1]), float(c[2]), float(c[0]), float(b[:, 1].std()), float(b[:, 2].std()), len(y))


def noise_fits(table: dict, T_min: float, n_boot: int = 200, key_w: str = "weight_change") -> dict:
    """||w - w0|| ∝ T^delta P^gamma and t* ∝ T^1 P^b on fitted runs with T >= T_min."""
    sel = (table["status"] == "fitted") & (table["T"] >= T_min)
    sub = {k: np.asarray(v)[sel] for k, v in table.items() if k != "curves"}
    return {"weights": fit_power(sub["T"], sub["P"], sub[key_w], n_boot),
            "time": fit_power(sub["T"], sub["P"], sub["time"], n_boot)}


@dataclass(frozen=True)
class Crossover:
    """T_c(P): where the noise power law of ||w - w0|| meets its small-T (gradient-descent) plateau."""

    P: np.ndarray
    T_c: np.ndarray       # NaN where no fitted small-T run exists
    a: float              # T_c ∝ P^(-a)
    err_a: float          # bootstrap standard deviation
    plateau: np.ndarray   # ||w - w0|| at the smallest fitted T of each P


def crossover(table: dict, T_min: float, n_boot: int = 200, seed: int = 0) -> Crossover:
    """Per P: plateau = mean ||w-w0|| at the smallest T below T_min that fitted; T_c solves plateau = C T^d P^g."""
    T, P, w = (np.asarray(table[k], float) for k in ("T", "P", "weight_change"))
    ok = np.asarray(table["status"]) == "fitted"
    Ps = np.unique(P)

    def estimate(idx):
        Ti, Pi, wi, oki = T[idx], P[idx], w[idx], ok[idx]
        noisy = oki & (Ti >= T_min)
        if noisy.sum() < 3 or len(np.unique(Pi[noisy])) < 2 or len(np.unique(Ti[noisy])) < 2:
            return np.full(len(Ps), np.nan), np.full(len(Ps), np.nan)
        c = _lstsq(Ti[noisy], Pi[noisy], wi[noisy])
        tc, plat = np.full(len(Ps), np.nan), np.full(len(Ps), np.nan)
        for j, p in enumerate(Ps):
            low = oki & (Pi == p) & (Ti < T_min)
            if low.any():
                t0 = Ti[low].min()
                plat[j] = wi[low & (Ti == t0)].mean()
                tc[j] = np.exp((np.log(plat[j]) - c[0] - c[2] * np.log(p)) / c[1])
        return tc, plat

    tc, plat = estimate(np.arange(len(T)))
    rng = np.random.default_rng(seed)
    slopes = []
    for _ in range(n_boot):
        tb, _ = estimate(rng.integers(len(T), size=len(T)))
        good = np.isfinite(tb) & (tb > 0)
        if good.sum() >= 2:
            slopes.append(-np.polyfit(np.log(Ps[good]), np.log(tb[good]), 1)[0])
    good = np.isfinite(tc) & (tc > 0)
    a = -np.polyfit(np.log(Ps[good]), np.log(tc[good]), 1)[0] if good.sum() >= 2 else np.nan
    return Crossover(P=Ps, T_c=tc, a=float(a), err_a=float(np.std(slopes)) if slopes else np.nan, plateau=plat)


@dataclass(frozen=True)
class OptimalT:
    """T_opt(alpha) = argmin_T test error among fitted runs, and the fit T_opt ∝ alpha^k on alpha <= alpha_max."""

    alpha: np.ndarray
    T_opt: np.ndarray
    k: float
    err_k: float   # standard error of the log-log regression slope


def optimal_temperature(table: dict, alpha_max: float = 1.0) -> OptimalT:
    """Best temperature per alpha and its power law on the feature side (alpha <= alpha_max)."""
    al = np.unique(table["alpha"])
    topt = np.full(len(al), np.nan)
    for i, a in enumerate(al):
        sel = (table["alpha"] == a) & (table["status"] == "fitted") & np.isfinite(table["test_error"])
        if sel.any():
            err, T = table["test_error"][sel], table["T"][sel]
            topt[i] = T[np.argmin(err)]
    side = (al <= alpha_max) & np.isfinite(topt)
    k = err_k = np.nan
    if side.sum() >= 3:
        (k, _), cov = np.polyfit(np.log(al[side]), np.log(topt[side]), 1, cov=True)
        err_k = float(np.sqrt(cov[0, 0]))
    elif side.sum() == 2:
        k = np.polyfit(np.log(al[side]), np.log(topt[side]), 1)[0]
    return OptimalT(alpha=al, T_opt=topt, k=float(k), err_k=float(err_k))


@dataclass(frozen=True)
class NoiseEffect:
    """err(largest fitted T) - err(smallest fitted T) at one alpha (and P), averaged over seeds (> 0: noise hurts)."""

    alpha: float
    P: float
    T_low: float
    T_high: float
    effect: float
    err: float        # binomial standard error of the difference of two test errors

    @property
    def significant(self) -> bool:
        return bool(np.isfinite(self.effect) and abs(self.effect) > 2 * self.err)


def noise_effect(table: dict, alpha: float, P: float | None = None, n_test: int = 2000) -> NoiseEffect:
    """Effect of raising T from the smallest to the largest temperature whose runs all fitted."""
    sel = (table["alpha"] == alpha) & (table["status"] == "fitted") & np.isfinite(table["test_error"])
    if P is not None:
        sel &= table["P"] == P
    Pv = float(P) if P is not None else np.nan
    if len(np.unique(table["T"][sel])) < 2:
        return NoiseEffect(float(alpha), Pv, np.nan, np.nan, np.nan, np.nan)
    T = table["T"][sel]
    lo, hi = T.min(), T.max()
    e_lo, e_hi = table["test_error"][sel][T == lo], table["test_error"][sel][T == hi]
    p = (e_lo.mean() + e_hi.mean()) / 2
    err = np.sqrt(p * (1 - p) / n_test * (1 / len(e_lo) + 1 / len(e_hi)))
    return NoiseEffect(float(alpha), Pv, float(lo), float(hi), float(e_hi.mean() - e_lo.mean()), float(err))


def noise_effect_extreme(table: dict, side: str, n_test: int = 2000) -> NoiseEffect:
    """The noise effect at the smallest ("feature") or largest ("lazy") alpha with >= 2 fitted temperatures."""
    al = np.unique(table["alpha"])
    for a in (al if side == "feature" else al[::-1]):
        eff = noise_effect(table, a, n_test=n_test)
        if np.isfinite(eff.effect):
            return eff
    return eff


def agree(ours: float, err: float, target: float, tol: float) -> str:
    """Verdict from a tolerance: reproduced within max(2 err, tol), partly within twice that."""
    if not np.isfinite(ours):
        return "not run"
    gap, allowed = abs(ours - target), max(2 * (err if np.isfinite(err) else 0), tol)
    return "reproduced" if gap <= allowed else "partly" if gap <= 2 * allowed else "not reproduced"


def perceptron_predictions(chi: float) -> dict:
    """Scaling-argument exponents: ||w|| ∝ T^1 P^(1/(1+chi)), t* ∝ T P^((3+chi)/(1+chi))."""
    return {"delta": 1.0, "gamma": 1 / (1 + chi), "b": (3 + chi) / (1 + chi)}


def fmt(x: float, e: float) -> str:
    """'0.52 ± 0.04' (NaN-safe)."""
    return "n/a" if not np.isfinite(x) else f"{x:.2f} ± {e:.2f}" if np.isfinite(e) else f"{x:.2f}"


def make_claim(cid, statement, paper_value, ours, verdict, dataset, profile, detail="") -> Claim:
    """Shorthand for results.Claim."""
    return Claim(id=cid, statement=statement, paper_value=paper_value, ours=ours, verdict=verdict,
                 dataset=dataset, profile=profile, detail=detail)
