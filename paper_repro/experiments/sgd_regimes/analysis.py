"""Estimators of chapter 2: power laws in T and P, T_c(P) (exit from the kernel regime), T_opt(alpha), noise effect."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import t as t_dist

from .effects import NoiseEffect, error_onset, noise_effect  # noqa: F401  (re-exported)


@dataclass(frozen=True)
class PowerFit:
    """y = C T^e_T P^e_P, least squares in log space; errors are bootstrap standard deviations over runs."""

    e_T: float      # exponent of T (delta for ||w - w0||, 1 expected for t*)
    e_P: float      # exponent of P (gamma for ||w - w0||, b for t*)
    log_C: float    # log prefactor
    err_T: float
    err_P: float
    n: int          # number of runs used
    per_group: tuple = ()  # ((group, e_T, e_P), ...) of the per-group fits, when groups were given


def _t_mean(v) -> tuple[float, float]:
    """Mean and err with mean +- 2 err the 95 % t-interval (NaN with < 2 values)."""
    v = np.asarray(v, float)
    v = v[np.isfinite(v)]
    if len(v) < 2:
        return (float(v.mean()) if len(v) else np.nan), np.nan
    return float(v.mean()), float(v.std(ddof=1) / np.sqrt(len(v)) * t_dist.ppf(0.975, len(v) - 1) / 2)


def _lstsq(T, P, y):
    A = np.stack([np.ones_like(T), np.log(T), np.log(P)], 1)
    return np.linalg.lstsq(A, np.log(y), rcond=None)[0]


def fit_power(T, P, y, n_boot: int = 200, seed: int = 0, groups=None) -> PowerFit:
    """log y = log C + e_T log T + e_P log P over finite positive y, pooled least squares.

    Errors: with ``groups`` (e.g. the seed of each run; runs of one seed share an initialisation and a batch
    sequence across T and P, so they are not independent) the same fit per group, err = sd / sqrt(G) x
    t_{0.975}(G-1) / 2, so that +-2 err is the 95 % t-interval; without, a bootstrap over single runs.
    """
    T, P, y = (np.asarray(v, float) for v in (T, P, y))
    ok = np.isfinite(y) & (y > 0)
    T, P, y = T[ok], P[ok], y[ok]
    if len(y) < 4 or len(np.unique(T)) < 2 or len(np.unique(P)) < 2:
        return PowerFit(np.nan, np.nan, np.nan, np.nan, np.nan, len(y))
    c = _lstsq(T, P, y)
    if groups is not None:
        g = np.asarray(groups)[ok]
        idx = [i for i in (np.flatnonzero(g == u) for u in np.unique(g))
               if len(np.unique(T[i])) > 1 and len(np.unique(P[i])) > 1 and len(i) > 3]
        if len(idx) < 2:
            return PowerFit(float(c[1]), float(c[2]), float(c[0]), np.nan, np.nan, len(y))
        per = np.array([_lstsq(T[i], P[i], y[i]) for i in idx])
        names = [g[i[0]].item() for i in idx]
        return PowerFit(float(c[1]), float(c[2]), float(c[0]), _t_mean(per[:, 1])[1], _t_mean(per[:, 2])[1],
                        len(y),
                        tuple((n, float(e_t), float(e_p)) for n, (_, e_t, e_p) in zip(names, per)))
    rng = np.random.default_rng(seed)
    boots = [_lstsq(T[i], P[i], y[i]) for i in (rng.integers(len(y), size=len(y)) for _ in range(n_boot))
             if len(np.unique(T[i])) > 1 and len(np.unique(P[i])) > 1]
    b = np.array(boots)
    return PowerFit(float(c[1]), float(c[2]), float(c[0]), float(b[:, 1].std()), float(b[:, 2].std()), len(y))


def noise_fits(table: dict, T_min: float, n_boot: int = 200) -> dict:
    """||w - w0||/||w0|| ∝ T^delta P^gamma and t* ∝ T^x P^b on fitted runs with T >= T_min (seeds resampled)."""
    sel = (table["status"] == "fitted") & (table["T"] >= T_min)
    sub = {k: np.asarray(v)[sel] for k, v in table.items() if k != "curves"}
    return {"weights": fit_power(sub["T"], sub["P"], sub["weight_change"], n_boot, groups=sub["seed"]),
            "time": fit_power(sub["T"], sub["P"], sub["time"], n_boot, groups=sub["seed"])}


def perceptron_fits(table: dict, T_min: float, P_min: float = 0, n_boot: int = 200) -> dict:
    """Per chi: w_par ∝ T^delta P^gamma on fitted runs with T >= T_min and P >= P_min, errors from per-seed fits."""
    out = {}
    for chi in np.unique(table["chi"]):
        sel = (table["chi"] == chi) & (table["status"] == "fitted") & (table["T"] >= T_min) & (table["P"] >= P_min)
        out[float(chi)] = fit_power(table["T"][sel], table["P"][sel], table["w_par"][sel], n_boot,
                                    groups=table["seed"][sel])
    return out


def exponent_ratio(num: PowerFit, den: PowerFit) -> tuple[float, float]:
    """gamma_num / gamma_den from the pooled fits; err from the per-seed ratios (seeds share data and batches)."""
    den_by = {g: e_p for g, _, e_p in den.per_group}
    ratios = [e_p / den_by[g] for g, _, e_p in num.per_group if g in den_by]
    return float(num.e_P / den.e_P), _t_mean(ratios)[1]


def local_slopes(table: dict, sel, by: str, key: str = "w_par") -> list[tuple[float, float, float, float]]:
    """d log(key) / d log(by) between consecutive values of ``by``, per seed (averaged over the other variable):
    [(lo, hi, slope, err)] with slope +- 2 err the 95 % t-interval over seeds."""
    other = "T" if by == "P" else "P"
    xs, out = np.unique(table[by][sel]), []
    for lo, hi in zip(xs[:-1], xs[1:]):
        per_seed = []
        for s in np.unique(table["seed"][sel]):
            diffs = []
            for o in np.unique(table[other][sel]):
                cell = sel & (table["seed"] == s) & (table[other] == o)
                a, b = table[key][cell & (table[by] == lo)], table[key][cell & (table[by] == hi)]
                if len(a) == 1 and len(b) == 1 and a[0] > 0 and b[0] > 0:
                    diffs.append(np.log(b[0] / a[0]) / np.log(hi / lo))
            if diffs:
                per_seed.append(np.mean(diffs))
        out.append((float(lo), float(hi), *_t_mean(per_seed)))
    return out


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
    err_a: float          # from the seeds' own a: sd / sqrt(S) x t_{0.975}(S-1) / 2 (+-2 err_a: 95 % t-interval)
    level: float
    onset: np.ndarray     # smallest T whose seed-mean test error differs from the smallest T's by > 2 SE


def crossover(table: dict, level: float, n_boot: int = 200, seed: int = 0, n_test: int = 10_000) -> Crossover:
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
    tc_err = np.array([np.nanstd(np.log(tcb[:, j])) if np.isfinite(tcb[:, j]).sum() > 1 else np.nan
                       for j in range(len(Ps))])
    err_a = _t_mean([estimate([q])[1] for q in seeds])[1]  # a of each seed alone: few seeds, so a t-interval
    onset = np.array([error_onset(table, p, n_test) for p in Ps])
    return Crossover(P=Ps, T_c=tc, T_c_err=tc_err, a=float(a), err_a=float(err_a), level=float(level), onset=onset)


@dataclass(frozen=True)
class OptimalT:
    """T_opt(alpha) = argmin_T of the seed-mean test error; T_opt ∝ alpha^k fitted on alpha <= alpha_max."""

    alpha: np.ndarray
    T_opt: np.ndarray
    at_edge: np.ndarray   # T_opt at the grid's smallest or largest T, or next to capped runs: a bound, not fitted
    at_stability: np.ndarray  # T_opt is the largest stable T (the next grid T diverged): T_opt in [T, next T)
    T_div: np.ndarray     # smallest T with a diverged seed (NaN if none): the stability edge
    k: float
    err_k: float          # k +- 2 err_k = 95 % OLS t-interval widened by the grid box (see _slope)
    k_div: float          # slope of T_div(alpha) over the same alpha (the stability edge's exponent)
    err_k_div: float
    fitted: np.ndarray    # the alpha in the fit: alpha <= alpha_max, T_opt finite and not at an edge
    alpha_max: float = 1.0  # the fit uses alpha <= alpha_max (the feature side)

    @property
    def n_fit(self) -> int:
        return int(self.fitted.sum())

    @property
    def n_stab(self) -> int:
        """Fitted alpha whose T_opt is the largest stable T."""
        return int((self.fitted & self.at_stability).sum())


def _slope(x, y, step: float = 0.0) -> tuple[float, float]:
    """Slope b of log y on log x and err with b +- 2 err = (95 % OLS t-interval) + (grid box), NaN with < 3 points.

    ``step``: the grid spacing in log y. An optimum read off a grid is only known to lie in a bracket of one step;
    the errors of neighbouring points are correlated (a staircase can fit any slope near a grid-commensurate one),
    so the box is worst-case: b moves by at most (step / 2) sum |x_i - mean x| / Sxx.
    """
    ok = np.isfinite(y)
    n = int(ok.sum())
    if n < 3:
        return float("nan"), float("nan")
    lx, ly = np.log(x[ok]), np.log(y[ok])
    (b, c0), cov = np.polyfit(lx, ly, 1, cov="unscaled")
    resid = ly - np.polyval([b, c0], lx)
    se = np.sqrt(cov[0, 0] * (resid @ resid) / (n - 2))
    dx = lx - lx.mean()
    box = step / 2 * np.abs(dx).sum() / (dx @ dx)
    return float(b), float((se * t_dist.ppf(0.975, n - 2) + box) / 2)


def optimal_temperature(table: dict, alpha_max: float = 1.0) -> OptimalT:
    """Best temperature per alpha (over T whose seeds all fitted) and its power law on the feature side."""
    al = np.unique(table["alpha"])
    topt, edge, stab, tdiv, steps = (np.full(len(al), np.nan), np.zeros(len(al), bool), np.zeros(len(al), bool),
                                     np.full(len(al), np.nan), np.full(len(al), np.nan))
    for i, a in enumerate(al):
        row = table["alpha"] == a
        grid = np.unique(table["T"][row])
        st = {t: table["status"][row & (table["T"] == t)] for t in grid}
        div = [t for t in grid if (st[t] == "diverged").any()]
        tdiv[i] = min(div) if div else np.nan
        Ts = [t for t in grid if (st[t] == "fitted").all()]
        if not Ts:
            continue
        m = [np.mean(table["test_error"][row & (table["T"] == t)]) for t in Ts]
        j = int(np.argmin(m))
        topt[i] = Ts[j]
        nxt = grid[grid > Ts[j]]
        stab[i] = len(nxt) > 0 and (st[nxt[0]] == "diverged").any()
        above_ok = stab[i] or (len(nxt) > 0 and nxt[0] in Ts)  # a worse fitted T above, or divergence
        edge[i] = j == 0 or not above_ok  # an optimum needs a worse T (or divergence) on each side
        steps[i] = np.log(grid[1] / grid[0]) if len(grid) > 1 else np.nan
    side = (al <= alpha_max) & np.isfinite(topt) & ~edge
    step = float(np.nanmax(steps[side])) if side.any() else 0.0
    k, err_k = _slope(al[side], topt[side], step)
    k_div, err_k_div = _slope(al[side], tdiv[side], step)
    return OptimalT(alpha=al, T_opt=topt, at_edge=edge, at_stability=stab, T_div=tdiv, k=k, err_k=err_k,
                    k_div=k_div, err_k_div=err_k_div, fitted=side, alpha_max=float(alpha_max))


def fmt_pow2(v: float) -> str:
    """'2^-7' for a power of two (rounded exponent); '—' when not finite."""
    return f"2^{np.log2(v):.0f}" if np.isfinite(v) else "—"


def fmt(x: float, e: float) -> str:
    """'0.52 ± 0.08': x ± 2e, the 95 % interval of the estimators here (NaN-safe; more digits when the
    interval would round to 0.00)."""
    if not np.isfinite(x):
        return "n/a"
    if not np.isfinite(e) or e <= 0:
        return f"{x:.2f} (no error estimate)"
    d = max(2, int(-np.floor(np.log10(2 * e))))
    return f"{x:.{d}f} ± {2 * e:.{d}f}"
