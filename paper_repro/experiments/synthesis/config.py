"""Chapter 5 settings: one frozen config per profile, the paper-shaped tiny version (``shrink``), the run grid."""
from __future__ import annotations

import dataclasses

from ...core.config import (DEVICES, PROFILES, ConfigError, check_choice, check_positive, check_positive_all,
                            check_range, from_profile)

CHAPTER = "synthesis"
NET_DATA = {"fc": "mnist", "lenet": "fashion_mnist", "cnn": "cifar10", "resnet18": "cifar10"}  # net -> its dataset
LOSSES = ("mse", "ce")  # Mori's half squared error on one-hot targets; Simsekli's cross-entropy
MEASUREMENTS = ("four_papers", "late_iterates")  # what every shared run measures (paper_paths)


@dataclasses.dataclass(frozen=True)
class SynthesisConfig:
    """Settings of the shared runs and of the mechanism experiments (validated on construction)."""

    profile: str = "quick"  # smoke | quick | paper
    device: str = "auto"  # auto | cpu | cuda
    nets: tuple = ("fc", "lenet")  # architectures, each trained on its dataset (NET_DATA)
    losses: tuple = LOSSES  # training losses: "mse" (Mori et al.) and/or "ce" (Simsekli et al.)
    temperatures: tuple = (1e-3, 2e-3, 5e-3, 1e-2)  # T = lr / B of the runs (>= 1 decade)
    batch_sizes: tuple = (8, 32)  # every T runs at each B (lr = T B), so T and B separate
    n_seeds: int = 3  # independent seeds (init and batches) per (net, loss, T, B): the unit of replication
    n_train: int = 2048  # training subset (capped at the dataset's size)
    n_test: int = 1000  # test subset for the test error
    epochs: int = 3  # epochs over the subset: the same gradient-flow time lr * steps at every B of one T
    fc_width: int = 32  # hidden width of the one-hidden-layer FC net (bias-free ReLU)
    cnn_width: int = 16  # channels of the CIFAR CNN / base width of ResNet18 (paper profile)
    stages: tuple = (0.0, 0.1, 0.5, 1.0)  # checkpoints (init, early, mid, end) as fractions of training
    n_pool: int = 192  # training samples whose per-sample gradients are taken at each checkpoint
    n_batches: int = 64  # minibatches of size B drawn from the pool: noise samples per coordinate
    k1_fixed: int = 64  # fixed block size K1 of the pooled estimator (beside K1 ~ sqrt(N))
    max_pooled: int = 500_000  # random entries of the noise behind the permuted variants and the scale mixtures
    n_coords: int = 40  # random coordinates tested iteration-wise (Xie et al.)
    top_coords: int = 20  # highest-variance coordinates of the per-coordinate tail study (mechanism b)
    coord_batches: int = 1000  # minibatches of the pool drawn for each of those coordinates (mechanism b)
    top_k: int = 1000  # top |g_i| fitted in the dimension-wise test (Xie et al.: top 1000)
    lanczos_ncv: int = 8  # Lanczos vectors for the top Hessian eigenvalue h* (Hessian-vector products)
    n_hessian: int = 64  # pool samples whose loss Hessian gives h* (the first n_hessian of the pool)
    late_steps: int = 200  # SGD steps continued at fixed T after training, recording the iterates (mechanism c)
    calib_alphas: tuple = (1.0, 1.2, 1.4, 1.6, 1.8, 2.0)  # SaS alphas of chapter 1's pooling calibration
    linear_settings: tuple = ((0.5, 1), (1.0, 4))  # (lr, B) of the linear-regression chains (chapter 3's model)
    linear_n: int = 10_000  # data points of the linear problem (d = 1)
    linear_chains: int = 300  # parallel chains of the linear model
    linear_burn_in: int = 200  # discarded steps per chain
    linear_samples: int = 20  # recorded samples per chain (every linear_every steps)
    linear_every: int = 20  # steps between recorded samples
    n_control: int = 100  # draws per control of each synthesis rule
    seed: int = 0  # base seed (run seeds are seed, seed + 1, ...)
    cpu_threads: int = 1  # torch threads of a run on the CPU

    def __post_init__(self) -> None:
        check_choice("profile", self.profile, PROFILES)
        check_choice("device", self.device, DEVICES)
        if not self.nets or not self.losses:
            raise ConfigError("nets and losses must not be empty")
        for n in self.nets:
            check_choice("net", n, tuple(NET_DATA))
        for loss in self.losses:
            check_choice("loss", loss, LOSSES)
        if len(self.temperatures) < 2 or len(self.batch_sizes) < 2:
            raise ConfigError("at least two temperatures and two batch sizes are needed to separate T from B")
        check_positive_all("temperatures", self.temperatures)
        check_positive_all("batch_sizes", self.batch_sizes, integer=True)
        for name in ("n_seeds", "n_train", "n_test", "epochs", "fc_width", "cnn_width", "n_pool", "n_batches", "max_pooled",
                     "k1_fixed", "n_coords", "top_coords", "coord_batches", "top_k", "lanczos_ncv", "n_hessian", "late_steps", "linear_n",
                     "linear_chains", "linear_burn_in", "linear_samples", "linear_every", "n_control", "cpu_threads"):
            check_positive(name, getattr(self, name), integer=True)
        for f in self.stages:
            check_range("stages element", f, 0.0, 1.0)
        if len(self.stages) < 2:
            raise ConfigError("at least two checkpoints (stages) are needed")
        check_range("n_batches", self.n_batches, 16, 10 ** 6)
        check_range("k1_fixed", self.k1_fixed, 2, self.n_batches)
        check_range("max(batch_sizes)", max(self.batch_sizes), 1, self.n_pool // 2)
        check_range("n_pool", self.n_pool, 20, self.n_train)
        check_range("max(T B)", max(self.temperatures) * max(self.batch_sizes), 1e-6, 2.0)
        check_positive_all("calib_alphas", self.calib_alphas)
        for lr, b in self.linear_settings:
            check_range("linear lr", lr, 1e-3, 1.9)
            check_positive("linear batch size", b, integer=True)
        check_range("seed", self.seed, 0, 2 ** 31)


PRESETS = {
    "smoke": SynthesisConfig(profile="smoke", nets=("fc",), temperatures=(2e-3, 1e-2), batch_sizes=(8, 32),
                             n_seeds=2, n_train=512, n_test=200, epochs=1, fc_width=16, stages=(0.0, 0.5, 1.0),
                             n_pool=128, n_batches=32, k1_fixed=16, n_coords=10, top_coords=8, coord_batches=300, top_k=300,
                             late_steps=60, calib_alphas=(1.2, 1.6, 2.0), linear_n=1000, linear_chains=40,
                             linear_burn_in=50, linear_samples=10, linear_every=5, n_control=20),
    "quick": SynthesisConfig(profile="quick"),
    "paper": SynthesisConfig(profile="paper", nets=("fc", "lenet", "cnn", "resnet18"),
                             temperatures=(5e-4, 1e-3, 2e-3, 5e-3, 1e-2), batch_sizes=(16, 64), n_seeds=5,
                             n_train=50_000, n_test=10_000, epochs=20, fc_width=256, cnn_width=64, n_pool=512,
                             n_batches=256, k1_fixed=100, max_pooled=4_000_000, n_coords=300, top_coords=100,
                             coord_batches=5000, lanczos_ncv=20, n_hessian=512,
                             late_steps=5000, n_control=200),
}


def make_config(profile: str = "quick", **overrides) -> SynthesisConfig:
    """The profile's preset with the non-None overrides applied (validated)."""
    return from_profile(PRESETS, profile, **overrides)


def shrink(cfg: SynthesisConfig) -> SynthesisConfig:
    """The same nets, losses, temperatures, batch sizes, checkpoints and measurements, every size cut (tests)."""
    bs = tuple(sorted({min(b, 16) for b in cfg.batch_sizes} | {4}))[-2:]
    return dataclasses.replace(cfg, n_seeds=2, n_train=64, n_test=64, epochs=1, fc_width=8, cnn_width=2, n_pool=48,
                               batch_sizes=bs, temperatures=cfg.temperatures[:1] + cfg.temperatures[-1:],
                               n_batches=16, k1_fixed=4, n_coords=4, top_coords=4, coord_batches=50, top_k=50, lanczos_ncv=4, n_hessian=16,
                               late_steps=20, calib_alphas=(1.5, 2.0), linear_n=200, linear_chains=10,
                               linear_burn_in=10, linear_samples=5, linear_every=2, n_control=5)


def runs(cfg: SynthesisConfig) -> list[tuple[str, str, float, int, int]]:
    """Every (net, loss, T, B, seed) the config trains, in run order."""
    return [(n, loss, t, b, cfg.seed + s) for n in cfg.nets for loss in cfg.losses for t in cfg.temperatures
            for b in cfg.batch_sizes for s in range(cfg.n_seeds)]


def paper_paths(cfg: SynthesisConfig) -> set[tuple[str, str, str]]:
    """Every (architecture, dataset, measurement) the config reaches (measurement names carry the loss)."""
    return {(n, NET_DATA[n], f"{m}@{loss}") for n in cfg.nets for loss in cfg.losses for m in MEASUREMENTS}


def datasets(cfg: SynthesisConfig) -> tuple[str, ...]:
    """Datasets the config reads, in first-use order."""
    return tuple(dict.fromkeys(NET_DATA[n] for n in cfg.nets))
