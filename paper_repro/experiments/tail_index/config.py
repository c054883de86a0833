"""Chapter 1 (Simsekli et al. 2019): the chapter's config, its profiles and the nets each sweep trains."""
from __future__ import annotations

import dataclasses

from ...core.config import DEVICES, PROFILES, ConfigError, check_choice, check_positive, check_positive_all, check_range
from .measure import LOSSES
from .run import NetRun

CHAPTER = "tail_index"


@dataclasses.dataclass(frozen=True)
class TailIndexConfig:
    """Everything the chapter runs; ``PRESETS`` holds the smoke / quick / paper profiles."""

    profile: str = "quick"  # smoke | quick | paper
    device: str = "auto"  # auto | cpu | cuda
    dataset: str = "mnist"  # mnist | fashion_mnist
    n_train: int = 60000  # first n_train training images (SGD and train noise)
    n_test: int = 10000  # first n_test test images (test noise and accuracy)
    lr: float = 0.1  # SGD learning rate (paper: 0.1, no momentum)
    batch_size: int = 500  # SGD and noise batch size (paper's experiments section: 500; released main.py: 100)
    steps: int = 600  # iteration cap of every net of the width and depth sweeps (released run.py: 65,000)
    check_every: int = 100  # train accuracy checked every this many iterations (released main.py: eval_freq 100)
    stop_acc: float = 1.0  # every net stops once its checked train accuracy reaches this (released main.py: 100 %)
    lr_halvings: bool = True  # halve the step at 1/3 and 2/3 of each net's cap (released run.py: --lr_schedule)
    fc_cifar: tuple = ()  # CIFAR datasets of the FC width/depth sweeps too (released run.py: "cifar10"); () = none
    losses: tuple = ("nll", "hinge")  # losses of the width/depth sweeps
    seeds: tuple = (0, 1)  # seeds (error bars)
    widths: tuple = (16, 64, 256)  # widths of the width sweep (at depth base_depth)
    depths: tuple = (2, 3, 5)  # depths (number of Linear layers) of the depth sweep (at width base_width)
    base_width: int = 64  # width of the depth and batch sweeps
    base_depth: int = 2  # depth of the width and batch sweeps
    batch_sizes: tuple = (50, 100, 250, 500, 1000)  # batch sizes of the batch sweep (nll, every seed)
    batch_epochs: float = 5.0  # epochs of every net of the batch sweep (steps = epochs * n_train / b)
    k1_fixed: int = 1000  # block size K1 of the fixed-K1 comparisons (next to the paper's K1 ~ sqrt N)
    track_width: int = 128  # width of the tracked run (figure 4)
    track_steps: int = 1000  # iteration cap of the tracked runs (they stop earlier at 100 % train accuracy)
    track_every: int = 100  # measurement cadence of the tracked runs (released main.py: eval_freq 100)
    track_dense_every: int = 1  # ... and every this many iterations over the first ``track_dense_until`` (two phases;
    #                             at b = 500 the train accuracy goes from 10 % to about 65 % in 5 iterations)
    track_dense_until: int = 30  # end of the dense early window of the tracked runs (iterations)
    phase_boot: int = 400  # bootstrap draws of the null distribution of the two-phase statistic
    control_reps: int = 10  # draws per side of each rule's synthetic controls in the chapter (tests use more)
    control_n: int = 1_000_000  # SaS samples per synthetic net of the controls (capped at the nets' smallest N)
    synth_alphas: tuple = (1.0, 1.2, 1.4, 1.6, 1.8, 2.0)  # true alphas of the estimator check
    synth_sizes: tuple = (1000, 10000, 100000, 1000000)  # sample sizes of the estimator check
    synth_reps: int = 5  # repetitions per (alpha, size)
    calib_alphas: tuple = (1.2, 1.4, 1.6, 1.8, 2.0)  # true alphas of the i.i.d. SaS matrices (pooling calibration)
    sde_alphas: tuple = (1.2, 1.5, 1.8, 2.0)  # tail indices of the SDE noise (2 = Brownian)
    sde_eps: tuple = (0.15, 0.2, 0.3, 0.4, 0.6)  # noise scales epsilon (at basin half-width 1)
    sde_widths: tuple = (0.5, 0.75, 1.0, 1.5, 2.0)  # basin half-widths a (at epsilon sde_eps_fixed)
    sde_eps_fixed: float = 0.3  # epsilon of the width scan
    sde_particles: int = 1000  # particles per SDE setting
    sde_dt: float = 0.01  # Euler step
    sde_t_max: float = 200.0  # censoring time of the exit-time simulation
    max_elements: int = 80_000_000  # memory budget of one noise pass (float32 components)
    cnn_datasets: tuple = ()  # CIFAR datasets of the AlexNet sweep ("cifar10", "cifar100"); () = not run
    cnn_channels: tuple = (16, 32, 64)  # channel scales ch of the AlexNet sweep
    cnn_n_train: int = 50000  # training images of the AlexNet sweep (CIFAR has 50,000)

    def __post_init__(self):
        check_choice("profile", self.profile, PROFILES)
        check_choice("device", self.device, DEVICES)
        check_choice("dataset", self.dataset, ("mnist", "fashion_mnist"))
        for name in ("n_train", "n_test", "batch_size", "steps", "base_width", "base_depth", "track_steps",
                     "track_every", "track_width", "synth_reps", "sde_particles", "max_elements", "k1_fixed",
                     "cnn_n_train", "check_every", "track_dense_every", "track_dense_until", "phase_boot",
                     "control_reps", "control_n"):
            check_positive(name, getattr(self, name), integer=True)
        for name in ("lr", "sde_dt", "sde_t_max", "sde_eps_fixed", "batch_epochs"):
            check_positive(name, getattr(self, name))
        for name in ("widths", "depths", "batch_sizes", "synth_sizes"):
            check_positive_all(name, getattr(self, name), integer=True)
        check_positive_all("sde_eps", self.sde_eps)
        check_positive_all("cnn_channels", self.cnn_channels, integer=True)
        for d in self.cnn_datasets:
            check_choice("cnn_datasets element", d, ("cifar10", "cifar100"))
        for d in self.fc_cifar:
            check_choice("fc_cifar element", d, ("cifar10",))  # the released FC + CIFAR-100 path does not run
        check_range("stop_acc", self.stop_acc, 0.0, 1.0)
        check_positive_all("sde_widths", self.sde_widths)
        for v in self.losses or [None]:
            check_choice("losses element", v, LOSSES)
        if not self.seeds or any(not isinstance(s, int) or s < 0 for s in self.seeds):
            raise ConfigError(f"seeds={self.seeds!r} must be a non-empty tuple of integers >= 0")
        for name in ("synth_alphas", "sde_alphas", "calib_alphas"):
            for a in getattr(self, name) or [None]:
                check_range(f"{name} element", a, 0.5, 2.0)
        if self.k1_fixed < 2:
            raise ConfigError(f"k1_fixed={self.k1_fixed} must be >= 2")
        if min(self.depths + (self.base_depth,)) < 2:
            raise ConfigError("depths and base_depth must be >= 2 (at least one hidden layer)")
        if max(self.batch_sizes + (self.batch_size,)) * 2 > min(self.n_train, self.n_test):
            raise ConfigError(f"every batch size must leave >= 2 batches in n_train={self.n_train} and "
                              f"n_test={self.n_test}")

    def net(self, **changes) -> NetRun:
        """The NetRun of this config with ``changes`` (width, depth, loss, seed, batch_size, ...)."""
        base = dict(dataset=self.dataset, n_train=self.n_train, n_test=self.n_test, width=self.base_width,
                    depth=self.base_depth, loss=self.losses[0], batch_size=self.batch_size, lr=self.lr,
                    steps=self.steps, seed=self.seeds[0], device=self.device, max_elements=self.max_elements,
                    k1_fixed=self.k1_fixed, check_every=self.check_every, stop_acc=self.stop_acc,
                    lr_halvings=self.lr_halvings)
        base["details"] = changes.get("seed", self.seeds[0]) == self.seeds[0]  # pooling variants: first seed
        return NetRun(**{**base, **changes})

    def epoch_steps(self, batch_size: int) -> int:
        """SGD iterations of ``batch_epochs`` epochs at ``batch_size`` (the batch sweep holds epochs fixed)."""
        return max(1, round(self.batch_epochs * self.n_train / batch_size))


def fc_data(cfg: TailIndexConfig, dataset: str) -> dict:
    """NetRun fields of an FC net on ``dataset``: the configured sizes on MNIST-like data, CIFAR-10's 50,000/10,000."""
    return {"dataset": dataset} if dataset == cfg.dataset else {
        "dataset": dataset, "n_train": min(cfg.cnn_n_train, 50000), "n_test": min(cfg.n_test, 10000)}


def sweep_configs(cfg: TailIndexConfig) -> dict:
    """NetRuns of every sweep: width, depth (FC, every dataset), batch size (fixed epochs as cap), tracked runs (one
    per seed), raw pixels, AlexNet."""
    def grid(**kw):
        return [cfg.net(**kw, **fc_data(cfg, d), loss=loss, seed=s) for d in (cfg.dataset, *cfg.fc_cifar)
                for loss in cfg.losses for s in cfg.seeds]

    return {"width": [r for w in cfg.widths for r in grid(width=w, depth=cfg.base_depth)],
            "depth": [r for d in cfg.depths for r in grid(depth=d, width=cfg.base_width)],
            "batch": [cfg.net(batch_size=b, steps=cfg.epoch_steps(b), seed=s, details=False)
                      for b in cfg.batch_sizes for s in cfg.seeds],
            "track": [cfg.net(steps=cfg.track_steps, track_every=cfg.track_every, details=False, seed=s,
                              width=cfg.track_width, dense_every=cfg.track_dense_every,
                              dense_until=cfg.track_dense_until) for s in cfg.seeds],
            "raw": [cfg.net(normalize=False)],
            "cnn": [cfg.net(arch="alexnet", dataset=d, width=ch, n_train=cfg.cnn_n_train, loss=loss, seed=s)
                    for d in cfg.cnn_datasets for ch in cfg.cnn_channels for loss in cfg.losses for s in cfg.seeds]}


PRESETS = {
    "smoke": TailIndexConfig(profile="smoke", n_train=2000, n_test=500, steps=40, seeds=(0,), widths=(16, 64),
                             depths=(2, 3), base_width=32, batch_sizes=(50, 100), batch_size=100, batch_epochs=2.0,
                             losses=("nll", "hinge"), track_width=32, track_steps=60, track_every=20,
                             track_dense_every=5, track_dense_until=30, phase_boot=100, control_reps=4,
                             control_n=20000, check_every=20,
                             synth_sizes=(1000, 10000, 100000), synth_reps=2, synth_alphas=(1.0, 1.5, 2.0),
                             calib_alphas=(1.2, 1.6, 2.0), sde_alphas=(1.5, 2.0), sde_eps=(0.4, 0.6, 0.8),
                             sde_widths=(0.75, 1.0, 1.5), sde_eps_fixed=0.6, sde_particles=200, sde_t_max=30.0,
                             k1_fixed=200),
    "quick": TailIndexConfig(profile="quick"),
    "paper": TailIndexConfig(profile="paper", steps=10000, seeds=(0, 1, 2),
                             widths=(4, 8, 16, 32, 64, 128, 256, 512, 1024), depths=(2, 3, 4, 5, 6, 7, 8, 9, 10),
                             base_width=128, track_steps=10000, track_dense_until=60, synth_reps=10, batch_epochs=20.0,
                             batch_sizes=(50, 100, 250, 500, 1000), sde_particles=5000, sde_t_max=1000.0,
                             sde_eps=(0.1, 0.15, 0.2, 0.3, 0.4, 0.6), max_elements=400_000_000,
                             cnn_datasets=("cifar10", "cifar100"), cnn_channels=(16, 32, 64, 128, 256),
                             fc_cifar=("cifar10",), control_reps=50, control_n=10_000_000, phase_boot=2000),
}
