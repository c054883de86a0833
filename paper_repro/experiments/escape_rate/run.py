"""Linear-regression experiments of Mori et al. (2022, Sec. 5.3): stationary exponent phi (Fig. 3a) and
first-passage times (Fig. 3b), with the discrete chain's own predictions beside the paper's continuous ones."""
from __future__ import annotations

import dataclasses

import numpy as np

from ...core.progress import progress
from . import linear_sgd as ls
from . import mfpt
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


def censored_slope(c: np.ndarray, times: np.ndarray, max_time: float, boot: int = 200,
                   seed: int = 0) -> tuple[float, float]:
    """Least-squares slope of log(censored-data mean t_p) against log c, and its bootstrap standard error over
    runs (columns of ``times`` [C, M]); NaN with fewer than 2 thresholds."""
    if len(c) < 2:
        return float("nan"), float("nan")
    e = ls.EscapeTimes(np.asarray(c, float), times, max_time, "", 0)

    def fit(t):
        return np.polyfit(np.log(e.c), np.log(e.mean_of(t)), 1)[0] if np.isfinite(t).any(1).all() else np.nan

    rng, m = np.random.default_rng(seed), times.shape[1]
    boots = np.array([fit(times[:, rng.integers(m, size=m)]) for _ in range(boot)])
    boots = boots[np.isfinite(boots)]
    return float(fit(times)), float(np.std(boots)) if len(boots) > 1 else float("nan")


@dataclasses.dataclass(frozen=True)
class EscapeResult:
    """First-passage times per "dynamics/inputs/d" with the exact finite-c predictions over each curve's window."""

    runs: dict  # "dynamics/inputs/d" -> ls.EscapeTimes
    theory: dict  # same keys -> Eq. (17)'s asymptote B/(eta h*) + 1 - n/2 (measured h*, n = d)
    h: dict  # same keys -> measured h*
    eps: dict  # same keys -> eta h* / B, the temperature of the reduced SDE
    max_censored: float = 0.1  # the fit window holds the thresholds with at most this share censored
    boot: int = 200  # bootstrap resamples of the runs
    draws: dict = dataclasses.field(default_factory=dict)  # same keys -> data-set index of each run (column)

    def window(self, key: str) -> np.ndarray:
        """Threshold mask of the fit: at most ``max_censored`` of the runs censored."""
        return self.runs[key].escaped >= 1.0 - self.max_censored - 1e-12

    def local_slopes(self, key: str) -> np.ndarray:
        """d log t_p / d log c between consecutive thresholds (censored-data means)."""
        e = self.runs[key]
        return np.diff(np.log(e.mean)) / np.diff(np.log(e.c))

    def slope(self, key: str) -> tuple[float, float]:
        """Slope of log t_p vs log c over the curve's window, and its standard error: the larger of the bootstrap
        over runs and the spread of the slopes of the k data sets, sd / sqrt(k) (each data set its own unit: a
        verdict must not change with the draw of x, y)."""
        e, w = self.runs[key], self.window(key)
        slope, se = censored_slope(e.c[w], e.times[w], e.max_time, self.boot)
        if key in self.draws:
            each = self.draw_slopes(key)
            each = each[np.isfinite(each)]
            if len(each) >= 2:
                se = max(se, float(np.std(each, ddof=1) / np.sqrt(len(each))))
        return slope, se

    def draw_slopes(self, key: str) -> np.ndarray:
        """The slope of each data set over the curve's window (NaN where a data set has a threshold no run passed)."""
        e, w, label = self.runs[key], self.window(key), self.draws.get(key, np.zeros(self.runs[key].times.shape[1]))
        return np.array([censored_slope(e.c[w], e.times[w][:, label == j], e.max_time, 0)[0]
                         for j in np.unique(label)])

    def predicted(self, key: str, model: str = "decoupled") -> float:
        """Exact finite-c slope of a continuous SDE (mfpt.MODELS) over the same window; NaN below 2 thresholds."""
        c = self.runs[key].c[self.window(key)]
        return mfpt.window_slope(c, self.eps[key], int(key.split("/")[2]), model) if len(c) >= 2 else float("nan")


def run_escape(cfg: EscapeRateConfig) -> EscapeResult:
    """Fig. 3b: every (dynamics, inputs) of cfg.esc_variants at each d, and Rademacher-input SGD at its d."""
    jobs = [(dyn, inp, d) for d in cfg.esc_dims for dyn, inp in cfg.esc_variants]
    jobs += [("sgd", "rademacher", d) for d in cfg.esc_rademacher_dims]
    runs, theory, h, eps = {}, {}, {}, {}
    draws = {}
    sizes = np.diff(np.linspace(0, cfg.esc_runs, cfg.esc_draws + 1).round().astype(int))  # runs per data set
    for dyn, inp, d in progress(jobs, desc="escape"):
        key, parts, hs = f"{dyn}/{inp}/{d}", [], []
        for j, m in enumerate(sizes):  # data set j: its own x, y (seed) and its own chains
            p = ls.make_problem(cfg.esc_n, d, inp, cfg.seed + 7919 * j)
            parts.append(ls.escape_times(p, cfg.esc_lr, cfg.esc_batch_size, np.array(cfg.esc_c), int(m),
                                         cfg.esc_max_steps, dyn, seed=cfg.seed + d + 104729 * j))
            hs.append(p.h)
        first = parts[0]
        runs[key] = dataclasses.replace(first, times=np.concatenate([q.times for q in parts], axis=1))
        draws[key] = np.repeat(np.arange(len(sizes)), sizes)
        h[key] = float(np.mean(hs))
        theory[key] = ls.escape_exponent(cfg.esc_lr, cfg.esc_batch_size, h[key], d)
        eps[key] = cfg.esc_lr * h[key] / cfg.esc_batch_size
    return EscapeResult(runs, theory, h, eps, cfg.esc_max_censored, cfg.esc_boot, draws)


@dataclasses.dataclass(frozen=True)
class CriticalResult:
    """Eq. (19): first-passage times of the decoupled SDE (fine steps) at d below and above n_c, with quadrature."""

    eps: float  # eta h* / B
    c: np.ndarray  # thresholds
    times: dict  # d -> [C, runs] first-passage times (units of 1/h*), inf = censored
    quad: dict  # d -> exact mean first-passage times (continuous path)
    watched: dict  # d -> the same for a path looked at every nc_dt, as simulated (Siegmund's correction)
    max_time: float  # dt * max_steps
    drift: dict  # (model, d) -> (mean, se) rate of log L from L = 100 L*: decoupled (claim), langevin (control)

    @property
    def n_c(self) -> float:
        """Eq. (19)'s critical dimension at this eps."""
        return mfpt.critical_dimension(self.eps)

    def mean(self, d: int) -> np.ndarray:
        """Censored-data mean first-passage time per threshold at dimension d."""
        return ls.EscapeTimes(self.c, self.times[d], self.max_time, "decoupled", d).mean

    def last_slope(self, d: int, which: str = "sim") -> float:
        """Local slope d log t_p / d log c between the two largest thresholds (simulated or exact)."""
        t = self.mean(d) if which == "sim" else self.quad[d]
        return float(np.log(t[-1] / t[-2]) / np.log(self.c[-1] / self.c[-2]))


def run_critical(cfg: EscapeRateConfig) -> CriticalResult:
    """Decoupled SDE with eps = nc_lr (B = 1, h* = 1) at each d of cfg.nc_dims."""
    c = np.array(cfg.nc_c, float)
    times = {d: mfpt.simulate(c, cfg.nc_lr, d, cfg.nc_runs, cfg.nc_dt, cfg.nc_max_steps, seed=cfg.seed + d)
             for d in progress(cfg.nc_dims, desc="n_c")}
    quad = {d: mfpt.mfpt(c, cfg.nc_lr, d) for d in cfg.nc_dims}
    watched = {d: mfpt.mfpt(mfpt.watched_threshold(c, cfg.nc_lr, d, "decoupled", cfg.nc_dt), cfg.nc_lr, d)
               for d in cfg.nc_dims}
    drift = {(m, d): mfpt.log_loss_drift(cfg.nc_lr, d, cfg.nc_runs, cfg.nc_dt, 50, model=m, seed=cfg.seed + d)
             for m in ("decoupled", "langevin") for d in cfg.nc_dims}
    return CriticalResult(cfg.nc_lr, c, times, quad, watched, cfg.nc_dt * cfg.nc_max_steps, drift)
