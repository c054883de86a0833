"""Settings of the escape-rate chapter (Mori, Ziyin, Liu & Ueda 2022): one frozen config, presets, tiny shapes."""
from __future__ import annotations

import dataclasses

from ...core.config import (PROFILES, ConfigError, check_choice, check_positive, check_positive_all, check_range,
                            from_profile)

CHAPTER = "escape_rate"
ARCH_NAMES = {"fc": "mlp", "cnn": "vgg_small"}  # noise_runs arch -> paper_paths architecture name
STAT_VARIANTS = (("sgd", "gaussian"), ("sgd", "sparse"), ("sgd", "rademacher"), ("decoupled", "gaussian"),
                 ("langevin", "gaussian"))  # (dynamics, inputs) of the stationary-law tail panel


@dataclasses.dataclass(frozen=True)
class EscapeRateConfig:
    """All settings of the chapter; every field validated before any compute."""

    profile: str = "quick"  # smoke | quick | paper
    device: str = "auto"  # auto | cpu | cuda (neural networks only; linear chains run in numpy)
    seed: int = 0  # seed of data subsets, initialisations and chains
    # Fig. 1 (Sec. 5.1) -- decoupling check on MNIST parity
    dec_n_train: int = 10_000  # first N MNIST training images (paper: 10^4)
    dec_widths: tuple = (100, 100)  # hidden widths of the ReLU MLP (paper: 784-100-100-1)
    dec_lr: float = 0.01  # SGD learning rate eta (paper: 0.01)
    dec_batch_size: int = 100  # minibatch size B (paper: 100)
    dec_epochs: tuple = (0, 50, 500)  # epochs at which the spectra are taken (paper: 0, 50, 500)
    dec_n_spectrum: int = 10_000  # samples in the N x N Gram matrices (first of the training set)
    dec_floor: float = 1e-3  # eigenvalues below dec_floor * lambda_1 are the "very small" ones the paper excludes
    # Fig. 2 (Sec. 5.2) -- noise strength vs loss; loss (1/N) sum ||f - y||^2 / 2, one-hot targets, Glorot init
    noise_runs: tuple = (("fashion_mnist", "fc", (2000, 2000, 2000)), ("cifar10", "cnn", (64, 128, 256)))
    noise_n_train: int = 60_000  # training samples (first N of the training set)
    noise_lr: float = 0.1  # SGD learning rate (paper: 0.1)
    noise_batch_size: int = 100  # minibatch size (paper: 100)
    noise_epochs: int = 100  # epochs trained
    noise_every: int = 1  # epochs between exact noise-strength measurements (paper: every epoch)
    noise_mem_bytes: int = 2 * 2 ** 30  # bound on per-sample-gradient memory of one chunk (CNN path)
    # Fig. 3a (Sec. 5.3) -- stationary law of linear regression, d = 1: phi against B at fixed eta
    stat_n: int = 100_000  # data set size N (paper: 10^5)
    stat_lrs: tuple = (0.1, 0.5, 1.0)  # fixed learning rates (paper: three, the largest eta = 1)
    stat_batches: tuple = (1, 2, 4, 8)  # batch sizes B on the x axis
    stat_chains: int = 10_000  # parallel chains
    stat_burn_in: int = 2_000  # steps discarded
    stat_samples: int = 100  # recorded samples per chain
    stat_every: int = 100  # steps between samples (paper: every 100 iterations)
    stat_show: tuple = (0.5, 1)  # (lr, B) of the histogram / tail panel
    # Fig. 3b (Sec. 5.3) -- first-passage time, linear regression
    esc_n: int = 10_000  # data set size N (paper: 10^4)
    esc_lr: float = 0.1  # learning rate (paper: 0.1)
    esc_batch_size: int = 1  # minibatch size (paper: 1)
    esc_dims: tuple = (1, 2, 4)  # dimensions d = n
    esc_variants: tuple = (("sgd", "gaussian"), ("decoupled", "gaussian"), ("langevin", "gaussian"))  # at every d
    esc_rademacher_dims: tuple = (1,)  # d of Rademacher-input SGD (only d = 1 has a target: constant noise)
    esc_runs: int = 100  # runs per curve (paper: 100), split evenly over esc_draws data sets
    esc_draws: int = 4  # independent data sets (x, y) per curve: the slope's error includes their spread
    esc_c: tuple = (1.25, 1.5, 1.75, 2.0, 2.5, 3.0)  # thresholds c in L > c L* (paper: range not stated)
    esc_max_censored: float = 0.1  # slopes are fitted over the thresholds where at most this share is censored
    esc_max_steps: int = 2_000_000  # cap per run (censored first-passage times beyond)
    esc_boot: int = 200  # bootstrap resamples of the runs for slope uncertainties
    controls: int = 100  # draws per positive / negative control of each verdict rule
    # Eq. (19) -- critical effective dimension, decoupled SDE (fine Euler-Maruyama steps) at d below and above n_c
    nc_lr: float = 0.5  # eta of the n_c figure (B = 1, h* = 1: n_c = 2 (B/(eta h*) + 1) = 6)
    nc_dims: tuple = (2, 4, 8, 12)  # dimensions d = n, two below and two above n_c
    nc_c: tuple = (1.5, 2.0, 4.0, 8.0, 16.0)  # thresholds c
    nc_runs: int = 200  # runs per d
    nc_dt: float = 0.01  # Euler-Maruyama step in units of 1/h*
    nc_max_steps: int = 40_000  # cap per run (censored beyond)

    def __post_init__(self) -> None:
        check_choice("profile", self.profile, PROFILES)
        check_choice("device", self.device, ("auto", "cpu", "cuda"))
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError(f"seed={self.seed!r} must be a non-negative integer")
        for name in ("dec_n_train", "dec_batch_size", "dec_n_spectrum", "noise_n_train", "noise_batch_size",
                     "noise_epochs", "noise_every", "noise_mem_bytes", "stat_n", "stat_chains", "stat_burn_in",
                     "stat_samples", "stat_every", "esc_n", "esc_batch_size", "esc_runs", "esc_max_steps",
                     "esc_boot", "controls", "nc_runs", "nc_max_steps"):
            check_positive(name, getattr(self, name), integer=True)
        for name in ("dec_lr", "noise_lr", "esc_lr", "nc_lr", "nc_dt"):
            check_positive(name, getattr(self, name))
        check_range("dec_floor", self.dec_floor, 1e-12, 0.5)
        check_range("esc_max_censored", self.esc_max_censored, 0.0, 0.5)
        if not (isinstance(self.esc_draws, int) and 1 <= self.esc_draws <= self.esc_runs // 2):
            raise ConfigError(f"esc_draws={self.esc_draws!r} must be an integer in [1, esc_runs // 2]: each data "
                              "set needs at least 2 runs")
        check_positive_all("esc_rademacher_dims", self.esc_rademacher_dims, integer=True)
        check_positive_all("nc_dims", self.nc_dims, integer=True)
        check_positive_all("dec_widths", self.dec_widths, integer=True)
        check_positive_all("esc_dims", self.esc_dims, integer=True)
        check_positive_all("stat_batches", self.stat_batches, integer=True)
        if not self.dec_epochs or any(not isinstance(e, int) or e < 0 for e in self.dec_epochs):
            raise ConfigError(f"dec_epochs={self.dec_epochs!r} must be non-negative integers")
        if self.dec_n_spectrum > self.dec_n_train or self.dec_batch_size > self.dec_n_train:
            raise ConfigError("dec_n_spectrum and dec_batch_size must not exceed dec_n_train")
        for ds, arch, widths in self.noise_runs:
            check_choice("noise_runs dataset", ds, ("mnist", "fashion_mnist", "cifar10"))
            check_choice("noise_runs arch", arch, tuple(ARCH_NAMES))
            check_positive_all("noise_runs widths", widths, integer=True)
        for lr in (*self.stat_lrs, self.stat_show[0]):
            check_range("stat lr", lr, 1e-4, 1.9)
        check_positive("stat_show batch size", self.stat_show[1], integer=True)
        for dyn, inp in self.esc_variants:
            check_choice("esc_variants dynamics", dyn, ("sgd", "decoupled", "langevin"))
            check_choice("esc_variants inputs", inp, ("gaussian", "rademacher", "sparse"))
        for name in ("esc_c", "nc_c"):
            if not getattr(self, name) or any(not (isinstance(c, (int, float)) and c > 1) for c in getattr(self, name)):
                raise ConfigError(f"{name}={getattr(self, name)!r} must be thresholds c > 1")


PRESETS = {
    "smoke": EscapeRateConfig(
        profile="smoke", dec_n_train=1000, dec_epochs=(0, 2), dec_n_spectrum=300,
        noise_runs=(("fashion_mnist", "fc", (64, 64, 64)),), noise_n_train=1000, noise_epochs=8,
        stat_n=10_000, stat_lrs=(0.5, 1.0), stat_batches=(1, 4), stat_chains=300, stat_burn_in=200,
        stat_samples=20, stat_every=20, esc_lr=0.25, esc_dims=(1, 4), esc_runs=30, esc_draws=2, esc_c=(1.25, 1.5, 2.0, 3.0),
        esc_max_steps=5_000, esc_boot=50, controls=20, nc_dims=(4, 8), nc_c=(1.5, 2.0, 4.0), nc_runs=40,
        nc_max_steps=3000),
    "quick": EscapeRateConfig(
        profile="quick", dec_epochs=(0, 50, 500), dec_n_spectrum=3000,
        noise_runs=(("fashion_mnist", "fc", (128, 128, 128)),), noise_n_train=2000, noise_epochs=300,
        stat_chains=3000, stat_burn_in=500, stat_samples=40, stat_every=50, esc_max_steps=200_000),
    "paper": EscapeRateConfig(profile="paper", noise_epochs=200, noise_every=5),
}


def make_config(profile: str = "quick", **overrides) -> EscapeRateConfig:
    """The profile preset with the non-None overrides applied (validated)."""
    return from_profile(PRESETS, profile, **overrides)


def shrink(cfg: EscapeRateConfig) -> EscapeRateConfig:
    """The same grids, architectures, datasets and measurements as ``cfg``, every size cut to the minimum."""
    return dataclasses.replace(
        cfg, dec_n_train=64, dec_widths=(4,) * len(cfg.dec_widths), dec_batch_size=32, dec_n_spectrum=32,
        dec_epochs=tuple(sorted({min(e, 1) for e in cfg.dec_epochs})),
        noise_runs=tuple((ds, arch, (2,) * len(w)) for ds, arch, w in cfg.noise_runs), noise_n_train=64,
        noise_batch_size=32, noise_epochs=2, noise_every=1, stat_n=500, stat_chains=20, stat_burn_in=5,
        stat_samples=3, stat_every=2, esc_n=500, esc_runs=8, esc_max_steps=50, esc_boot=5, controls=4, nc_runs=8,
        nc_max_steps=50)


def datasets(cfg: EscapeRateConfig) -> tuple[str, ...]:
    """Every dataset the config reads, in first-use order."""
    return tuple(dict.fromkeys(("mnist", *(ds for ds, _, _ in cfg.noise_runs))))


def paper_paths(cfg: EscapeRateConfig) -> set[tuple[str, str, str]]:
    """Every (architecture, dataset, measurement) combination the config reaches."""
    out = {("mlp", "mnist", "decoupling_spectra")}
    out |= {(ARCH_NAMES[arch], ds, "noise_vs_loss") for ds, arch, _ in cfg.noise_runs}
    out |= {(f"linear_{dyn}", f"synthetic_{inp}", "stationary_phi") for dyn, inp in STAT_VARIANTS}
    out |= {(f"linear_{dyn}", f"synthetic_{inp}", "first_passage") for dyn, inp in cfg.esc_variants}
    out |= {("linear_sgd", "synthetic_rademacher", "first_passage")} if cfg.esc_rademacher_dims else set()
    return out | {("linear_decoupled_sde", "synthetic_gaussian", "critical_dimension")}
