"""Noise effects on the test error: T_opt vs T -> 0 at one alpha (with the capped runs below the baseline), the
error onset in T, the opposite effects of raising T and lowering alpha, and whether the error moves at T_c."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

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
    n_capped_below: int = 0  # capped runs at T < T_low: the baseline is then not T -> 0 but the smallest T that fitted
    T_grid_min: float = float("nan")  # the grid's smallest T

    @property
    def baseline_moved(self) -> bool:
        """True when capped runs below T_low moved the "T -> 0" baseline up to a noisier T."""
        return self.n_capped_below > 0

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
    """T_opt = argmin of the seed-mean error over T whose seeds all fitted, against the smallest such T (T_low: the
    smallest T where no run was capped or diverged); the capped runs below T_low are counted."""
    sel = (table["alpha"] == alpha) & (table["P"] == P)
    grid = np.unique(table["T"][sel])
    Ts = [t for t in grid if (table["status"][sel & (table["T"] == t)] == "fitted").all()]
    if len(Ts) < 2:
        return NoiseEffect(float(alpha), float(P), np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, 0,
                           T_grid_min=float(grid.min()) if len(grid) else np.nan)
    below = int((sel & (table["T"] < Ts[0]) & (table["status"] == "capped")).sum())
    stats = [_mean_se(table["test_error"][sel & (table["T"] == t)], n_test) for t in Ts]
    j = int(np.argmin([m for m, _ in stats]))
    n = int((sel & (table["T"] == Ts[0])).sum())
    eff = stats[j][0] - stats[0][0]
    z_helps = float(norm.ppf(1 - 0.025 / (len(Ts) - 1)))  # selecting the best of len(Ts) - 1 candidates
    return NoiseEffect(float(alpha), float(P), float(Ts[0]), float(Ts[j]), float(eff),
                       float(np.hypot(stats[j][1], stats[0][1])) if j else 0.0, float(Ts[-1]),
                       float(stats[-1][0] - stats[0][0]), float(np.hypot(stats[-1][1], stats[0][1])), n, z_helps,
                       below, float(grid.min()))


def capped_counts(table: dict) -> dict:
    """{(alpha, T): number of capped runs} over the cells with at least one (shown on the phase diagram)."""
    cap = np.asarray(table["status"]) == "capped"
    keys = zip(np.asarray(table["alpha"])[cap].tolist(), np.asarray(table["T"])[cap].tolist())
    out: dict = {}
    for k in keys:
        out[k] = out.get(k, 0) + 1
    return out


@dataclass(frozen=True)
class Opposite:
    """From the lazy corner (largest alpha, T_low): raising T vs lowering alpha, each a change of test error."""

    d_T: float          # err(alpha_lazy, T_high) - err(alpha_lazy, T_low)
    err_T: float
    d_alpha: float      # err(alpha_feat, T_low') - err(alpha_lazy, T_low), T_low' the feature side's baseline
    err_alpha: float
    verdict: str        # reproduced: both beyond 2 SE with opposite signs; not reproduced: both with one sign


def opposite_effects(table: dict, lazy: NoiseEffect, feat: NoiseEffect, n_test: int, z: float = 2.0) -> Opposite:
    """Raising T (at the lazy alpha) and lowering alpha (at the smallest fitted T) from the same lazy start."""
    def cell(alpha, T):
        sel = (table["alpha"] == alpha) & (table["T"] == T) & (table["P"] == lazy.P) & (table["status"] == "fitted")
        return _mean_se(table["test_error"][sel], n_test) if sel.any() else (np.nan, np.nan)
    (m0, s0), (mf, sf) = cell(lazy.alpha, lazy.T_low), cell(feat.alpha, feat.T_low)
    d_a, e_a = mf - m0, float(np.hypot(sf, s0))
    d_t, e_t = lazy.effect_high, lazy.err_high
    sig = [np.isfinite(d) and np.isfinite(e) and abs(d) > z * e for d, e in ((d_t, e_t), (d_a, e_a))]
    verdict = ("inconclusive" if not all(sig) else "reproduced" if np.sign(d_t) != np.sign(d_a)
               else "not reproduced")
    return Opposite(float(d_t), float(e_t), float(d_a), float(e_a), verdict)


def error_at_Tc(P, T_c, onset, T_grid, agree: int = 1) -> tuple[int, int, str]:
    """Does the test error move where the net leaves the kernel regime? Per P with both, the error onset (a grid
    T) within ``agree`` grid steps of T_c: (n agreeing, n compared, verdict): reproduced when >= 3 P compare and
    all but at most one agree, not reproduced when fewer than half agree, else inconclusive."""
    lg = np.log(np.sort(np.asarray(T_grid, float)))
    step = float(np.max(np.diff(lg))) if len(lg) > 1 else np.inf
    ok = np.isfinite(T_c) & np.isfinite(onset)
    dist = np.abs(np.log(np.asarray(onset, float)[ok]) - np.log(np.asarray(T_c, float)[ok]))
    n, hits = int(ok.sum()), int((dist <= agree * step + 1e-9).sum())
    if n >= 3 and hits >= n - 1:
        return hits, n, "reproduced"
    return hits, n, ("not reproduced" if n >= 3 and hits < n / 2 else "inconclusive")


