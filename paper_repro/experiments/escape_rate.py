"""Chapter 3 (Mori, Ziyin, Liu, Ueda 2022, power-law escape rate): configuration and the linear-regression experiments.

The neural-network experiments (Figs. 1-2) live in :mod:`paper_repro.experiments.escape_rate_nn`.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .. import linear_sgd as ls
from ..config import PROFILES, ConfigError, check_choice, check_positive, check_positive_all, check_range
from ..config import from_profile

CHAPTER = "escape_rate"
VARIANTS = (("sgd", "gaussian"), ("sgd", "sparse"), ("sgd", "rademacher"), ("decoupled", "gaussian"),
            ("langevin", "gaussian"))  # (dynamics, inputs) of the stationary-law experiment


@dataclasses.dataclass(frozen=True)
class EscapeRateConfig:
    """All settings of the chapter; every field validated before any compute."""

    profile: str = "quick"  # smoke | quick | paper
    device: str = "auto"  # auto | cpu | cuda
    seed: int = 0  # seed of data subsets, initialisations and chains
    # Fig. 1 -- decoupling check on MNIST parity
    dec_n_train: int = 10_000  # first N MNIST training images
    dec_widths: tuple = (100, 100)  # hidden widths of the ReLU MLP (784-100-100-1)
    dec_lr: float = 0.01  # SGD learning rate eta
    dec_batch_size: int = 100  # minibatch size B
    dec_epochs: tuple = (0, 50, 500)  # epochs at which the spectra are taken
    dec_n_spectrum: int = 10_000  # samples in the N x N Gram matrices (first of the training set)
    # Fig. 2 -- noise strength vs loss
    noise_runs: tuple = (("fashion_mnist", "fc", (2000, 2000, 2000)), ("cifar10", "cnn", (64, 128, 256)))
    noise_n_train: int = 60_000  # training samples (first N)
    noise_lr: float = 0.1  # SGD learning rate
    noise_batch_size: int = 100  # minibatch size
    noise_epochs: int = 100  # epochs (N and L recorded every epoch)
    # Fig. 3 -- stationary law, linear regression d = 1
    stat_n: int = 100_000  # data set size N
    stat_settings: tuple = ((0.05, 1), (0.1, 1), (0.2, 1), (0.5, 1), (1.0, 1), (0.2, 2), (0.5, 4))  # (lr, B)
    stat_chains: int = 10_000  # parallel chains
    stat_burn_in: int = 2_000  # steps discarded
    stat_samples: int = 100  # recorded samples per chain
    stat_every: int = 50  # steps between samples
    stat_show: tuple = (0.5, 1)  # (lr, B) of the histogram panel
    # Fig. 4 -- escape time, linear regression
    esc_n: int = 10_000  # data set size N
    esc_lr: float = 0.1  # learning rate (paper: 0.1)
    esc_batch_size: int = 1  # minibatch size (paper: 1)
    esc_dims: tuple = (1, 2, 4)  # dimensions d
    esc_runs: int = 100  # runs averaged per point
    esc_c: tuple = (1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0)  # thresholds c in L > c L*
    esc_langevin_c: tuple = (1.25, 1.5, 1.75, 2.0, 2.25, 2.5)  # thresholds for constant-noise Langevin
    esc_max_steps: int = 10_000_000  # cap per run (censored escape times beyond)

    def __post_init__(self) -> None:
        check_choice("profile", self.profile, PROFILES)
        check_choice("device", self.device, ("auto", "cpu", "cuda"))
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError(f"seed={self.seed!r} must be a non-negative integer")
        for name in ("dec_n_train", "dec_batch_size", "dec_n_spectrum", "noise_n_train", "noise_batch_size",
                     "noise_epochs", "stat_n", "stat_chains", "stat_burn_in", "stat_samples", "stat_every",
                     "esc_n", "esc_batch_size", "esc_runs", "esc_max_steps"):
            check_positive(name, getattr(self, name), integer=True)
        for name in ("dec_lr", "noise_lr", "esc_lr"):
            check_positive(name, getattr(self, name))
        check_positive_all("dec_widths", self.dec_widths, integer=True)
        check_positive_all("esc_dims", self.esc_dims, integer=True)
        if not self.dec_epochs or any(not isinstance(e, int) or e < 0 for e in self.dec_epochs):
            raise ConfigError(f"dec_epochs={self.dec_epochs!r} must be non-negative integers")
        if self.dec_n_spectrum > self.dec_n_train or self.dec_batch_size > self.dec_n_train:
            raise ConfigError("dec_n_spectrum and dec_batch_size must not exceed dec_n_train")
        for ds, arch, widths in self.noise_runs:
            check_choice("noise_runs dataset", ds, ("mnist", "fashion_mnist", "cifar10"))
            check_choice("noise_runs arch", arch, ("fc", "cnn"))
            check_positive_all("noise_runs widths", widths, integer=True)
        for lr, b in (*self.stat_settings, self.stat_show):
            check_range("stat lr", lr, 1e-4, 1.9)
            check_positive("stat batch size", b, integer=True)
        for name in ("esc_c", "esc_langevin_c"):
            if not getattr(self, name) or any(not (isinstance(c, (int, float)) and c > 1) for c in getattr(self, name)):
                raise ConfigError(f"{name}={getattr(self, name)!r} must be thresholds c > 1")


PRESETS = {
    "smoke": EscapeRateConfig(
        profile="smoke", dec_n_train=1000, dec_epochs=(0, 2), dec_n_spectrum=300,
        noise_runs=(("fashion_mnist", "fc", (64, 64, 64)),), noise_n_train=1000, noise_epochs=3,
        stat_n=10_000, stat_settings=((0.1, 1), (0.5, 1), (1.0, 1)), stat_chains=300, stat_burn_in=300,
        stat_samples=20, stat_every=20, esc_lr=0.25, esc_dims=(1, 4), esc_runs=30, esc_c=(1.25, 1.5, 2.0, 3.0),
        esc_langevin_c=(1.25, 1.5, 2.0), esc_max_steps=5_000),
    "quick": EscapeRateConfig(
        profile="quick", dec_epochs=(0, 50, 500), dec_n_spectrum=3000,
        noise_runs=(("fashion_mnist", "fc", (512, 512, 512)),), noise_n_train=10_000, noise_epochs=50,
        stat_chains=4000, stat_burn_in=1000, stat_samples=50, stat_every=40,
        esc_lr=0.25, esc_c=(1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0), esc_langevin_c=(1.25, 1.5, 2.0, 2.5, 3.0),
        esc_max_steps=100_000),
    "paper": EscapeRateConfig(profile="paper", esc_c=(1.25, 1.5, 2.0, 2.5, 3.0), esc_langevin_c=(1.25, 1.5, 1.75, 2.0),
                              esc_max_steps=2_000_000),
}


def make_config(profile: str = "quick", **overrides) -> EscapeRateConfig:
    """The profile preset with the non-None overrides applied (validated)."""
    return from_profile(PRESETS, profile, **overrides)


def phi_discrete(lr: float, batch_size: int, h: float) -> float:
    """Our Euler-corrected phi: matching the stationary variance of the discrete chain gives phi - B/2."""
    return ls.phi_theory(lr, batch_size, h) - batch_size / 2


@dataclasses.dataclass(frozen=True)
class StationaryResult:
    """Fitted phi per (dynamics, inputs, lr, B) and the loss samples of the shown setting."""

    rows: list  # dicts: dynamics, inputs, lr, batch_size, phi_theory, phi_discrete, phi_fit, diverged
    shown: dict  # "dynamics/inputs" -> loss samples at cfg.stat_show
    loss_star: dict  # inputs -> L*
    show: tuple  # (lr, B) of the histogram
    h: float = 1.0  # Hessian h* of the Gaussian-input problem

    def tail_probabilities(self, q: float = 3.0) -> dict:
        """P(L > q L*) at the shown setting: measured per variant, the power law L^-phi and Arrhenius (Gamma)."""
        from scipy import integrate, stats

        lr, bs = self.show
        phi = ls.phi_theory(lr, bs, self.h)
        power = integrate.quad(lambda x: ls.loss_density(x, 1.0, 1, phi), q, np.inf)[0]
        arrhenius = float(stats.gamma.sf(q - 1, 0.5, scale=lr * self.h / bs))
        measured = {k: float(np.mean(v / self.loss_star[k.split("/")[1]] > q)) for k, v in self.shown.items()}
        return {"q": q, "measured": measured, "power_law": power, "arrhenius": arrhenius}


def run_stationary(cfg: EscapeRateConfig, device="cpu", progress: bool = False) -> StationaryResult:
    """Fig. 3a: chains for every (lr, B) and variant; phi fitted by maximum likelihood from L samples."""
    from tqdm.auto import tqdm

    problems = {inp: ls.make_problem(cfg.stat_n, 1, inp, cfg.seed, device) for inp in {v[1] for v in VARIANTS}}
    rows, shown = [], {}
    settings = list(dict.fromkeys((*cfg.stat_settings, tuple(cfg.stat_show))))
    for (dyn, inp), (lr, b) in tqdm([(v, s) for v in VARIANTS for s in settings], disable=not progress):
        p = problems[inp]
        s = ls.stationary_samples(p, lr, b, cfg.stat_chains, cfg.stat_burn_in, cfg.stat_samples, cfg.stat_every,
                                  dyn, seed=cfg.seed + 1)
        rows.append(dict(dynamics=dyn, inputs=inp, lr=lr, batch_size=b, phi_theory=ls.phi_theory(lr, b, p.h),
                         phi_discrete=phi_discrete(lr, b, p.h), phi_fit=ls.fit_phi(s.losses, p.loss_star, 1),
                         diverged=s.diverged))
        if (lr, b) == tuple(cfg.stat_show):
            shown[f"{dyn}/{inp}"] = s.losses
    return StationaryResult(rows, shown, {k: p.loss_star for k, p in problems.items()}, tuple(cfg.stat_show),
                            problems["gaussian"].h)


@dataclasses.dataclass(frozen=True)
class EscapeResult:
    """Escape times per (dynamics, d) with the theory exponent and fitted log-log slopes."""

    runs: dict  # "dynamics/d" -> ls.EscapeTimes
    theory: dict  # d -> B/(lr h*) + 1 - d/2
    arrhenius: float  # B/(lr h*): d ln t / d c of constant-noise Langevin
    exact_noise_d1: float = float("nan")  # our d = 1 asymptote with the exact Gaussian-input noise (1 + 2 theta^2)/B

    def slope(self, key: str, upper: float = 0.5) -> float:
        """Least-squares slope of log mean time vs log c over the upper `upper` fraction of the thresholds."""
        e = self.runs[key]
        ok = np.isfinite(e.mean) & (e.escaped > 0.5)
        c, t = e.c[ok], e.mean[ok]
        k = max(2, int(np.ceil(upper * len(c))))
        return float(np.polyfit(np.log(c[-k:]), np.log(t[-k:]), 1)[0]) if len(c) >= 2 else float("nan")

    def local_slopes(self, key: str) -> np.ndarray:
        """d log t / d log c between consecutive thresholds."""
        e = self.runs[key]
        return np.diff(np.log(e.mean)) / np.diff(np.log(e.c))


def run_escape(cfg: EscapeRateConfig, device="cpu", progress: bool = False) -> EscapeResult:
    """Fig. 3b: SGD from theta* for each d; decoupled SDE and matched-temperature Langevin for the first d.

    With the exact d = 1 noise D ~ (1 + 2 theta^2) the same first-passage integral gives t ~ c^(B/(2 lr h) + 1/2).
    """
    runs, theory, h = {}, {}, 1.0
    for d in cfg.esc_dims:
        p = ls.make_problem(cfg.esc_n, d, "gaussian", cfg.seed, device)
        theory[d] = ls.escape_exponent(cfg.esc_lr, cfg.esc_batch_size, p.h, d)
        for dyn, cs in (("sgd", cfg.esc_c), ("decoupled", cfg.esc_c), ("langevin", cfg.esc_langevin_c)):
            if dyn != "sgd" and d != cfg.esc_dims[0]:
                continue
            runs[f"{dyn}/{d}"] = ls.escape_times(p, cfg.esc_lr, cfg.esc_batch_size, np.array(cs), cfg.esc_runs,
                                                 cfg.esc_max_steps, dyn, seed=cfg.seed + d, progress=progress)
        h = p.h if d == cfg.esc_dims[0] else h
    arrh = cfg.esc_batch_size / (cfg.esc_lr * h)
    return EscapeResult(runs, theory, arrh, arrh / 2 + 0.5)
