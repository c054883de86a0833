"""Chapter 4 settings: one frozen config per profile, the paper-shaped tiny version (``shrink``), the settings grid."""
from __future__ import annotations

import dataclasses

from ...core.config import (DEVICES, PROFILES, ConfigError, check_choice, check_positive, check_positive_all,
                            check_range, from_profile)

CHAPTER = "gradient_structure"
MODELS = ("lenet", "fcn")  # trained on every dataset of ``datasets``
DATASETS = ("mnist", "fashion_mnist", "cifar10", "cifar100")
MEASUREMENTS = ("dimension_wise", "iteration_wise", "spectrum")  # what each setting measures (paper_paths)
ITER_TAIL = 0.2  # tail fraction of the iteration-wise fixed-tail rule (our choice: the paper's rule could not be read)
SPEC_FRAC = 0.1  # fit only the top k <= n / 10 eigenvalues of a covariance estimated from n samples


@dataclasses.dataclass(frozen=True)
class GradientStructureConfig:
    """Settings of the chapter's real-gradient experiments (validated on construction)."""

    profile: str = "quick"  # smoke | quick | paper
    device: str = "auto"  # auto | cpu | cuda
    datasets: tuple = ("mnist", "fashion_mnist")  # datasets on which every model of `models` is trained
    models: tuple = MODELS  # "lenet" (LeNet-5) and/or "fcn" (ReLU MLP of widths fcn_widths)
    fcn_widths: tuple = (64, 64)  # hidden widths of the FCN (the group's recipe: 100 per hidden layer)
    fcn_bias: bool = True  # biases in the FCN's linear layers (PyTorch's default, as in the group's recipe)
    resnet_datasets: tuple = ()  # datasets on which ResNet18 (CIFAR variant) is trained too
    resnet_width: int = 64  # ResNet18 base width (64: the standard 11 M-parameter network)
    batch_sweep: tuple = ()  # extra training batch sizes for the batch-size sweep (besides batch_size)
    sweep_dataset: str = "mnist"  # dataset of the batch-size sweep
    sweep_model: str = "lenet"  # model of the batch-size sweep
    n_train: int = 10_000  # training subset (capped at the dataset's size)
    epochs: int = 15  # training epochs over the subset (datasets not in epochs_by_dataset)
    epochs_by_dataset: tuple = ()  # (dataset, epochs) pairs overriding epochs (the recipe: 200 beyond MNIST)
    batch_size: int = 128  # training batch size B (the group's recipe), and the dimension-wise minibatch
    lr: float = 0.1  # initial learning rate eta (the group's recipe)
    momentum: float = 0.9  # SGD momentum
    weight_decay: float = 5e-4  # L2 weight decay
    milestones: tuple = (0.4, 0.8)  # fractions of training after which eta is divided by 10
    milestones_by_dataset: tuple = ()  # (dataset, milestones) pairs overriding milestones (CIFAR-100: 0.5, 0.75)
    augment: tuple = ()  # datasets trained with random crop (4-pixel zero padding) and horizontal flip (CIFAR)
    stages: tuple = (0.0, 0.1, 0.5, 1.0)  # checkpoints (init, early, middle, end) as fractions of training
    spectrum_stages: tuple = (0.0, 0.1, 0.5, 1.0)  # stages with a covariance spectrum (subset of stages)
    n_draws: int = 5  # minibatch draws per checkpoint for the dimension-wise test
    top_k: int = 1000  # top |g_i| fitted by the fixed-tail dimension-wise rule (the group's Hessian protocol's K)
    test_batch_sizes: tuple = (16, 64, 256)  # batch sizes of the iteration-wise test and minibatch spectra
    n_batches: int = 2000  # minibatches drawn at fixed theta (iteration-wise test)
    n_coords: int = 300  # random coordinates tested iteration-wise
    n_spectrum: int = 5000  # per-sample gradients behind the covariance spectrum (and the minibatch pool)
    gram_block_bytes: int = 2 ** 29  # memory bound of one parameter block of per-sample gradients (bytes)
    n_boot: int = 100  # synthetic sets of each bootstrap p-value (Clauset: >= 100)
    n_rep: int = 50  # seeded samples per size and source of the control samples (Gaussian, t, Pareto)
    accept_sizes: tuple = (300, 1000, 3000, 10_000)  # sample sizes of that measurement
    mech_coords: int = 100_000  # synthetic coordinates pooled in the mechanism check
    seed: int = 0  # seed of init, batches and coordinates
    cpu_threads: int = 1  # torch threads of a run on the CPU (1: contended threads busy-wait; raise on a free machine)

    def __post_init__(self) -> None:
        check_choice("profile", self.profile, PROFILES)
        check_choice("device", self.device, DEVICES)
        for d in (*self.datasets, *self.resnet_datasets, self.sweep_dataset):
            check_choice("dataset", d, DATASETS)
        for m in (*self.models, self.sweep_model):
            check_choice("model", m, MODELS + ("resnet18",))
        if not self.datasets and not self.resnet_datasets:
            raise ConfigError("datasets and resnet_datasets must not both be empty")
        for name in ("fcn_widths", "test_batch_sizes", "accept_sizes"):
            check_positive_all(name, getattr(self, name), integer=True)
        for name in ("resnet_width", "n_train", "epochs", "batch_size", "n_draws", "top_k", "n_batches", "n_coords",
                     "n_spectrum", "gram_block_bytes", "n_boot", "n_rep", "mech_coords", "cpu_threads"):
            check_positive(name, getattr(self, name), integer=True)
        for d, e in self.epochs_by_dataset:
            check_choice("epochs_by_dataset dataset", d, DATASETS)
            check_positive("epochs_by_dataset epochs", e, integer=True)
        for d, ms in self.milestones_by_dataset:
            check_choice("milestones_by_dataset dataset", d, DATASETS)
            for f in ms:
                check_range("milestones_by_dataset element", f, 0.0, 1.0)
        for d in self.augment:
            check_choice("augment dataset", d, DATASETS)
        if self.batch_sweep:
            check_positive_all("batch_sweep", self.batch_sweep, integer=True)
        for name in ("lr", "momentum", "weight_decay"):
            check_range(name, getattr(self, name), 0.0 if name != "lr" else 1e-12, 10.0)
        for name in ("milestones", "stages", "spectrum_stages"):
            for f in getattr(self, name):
                check_range(f"{name} element", f, 0.0, 1.0)
        if not self.stages or not set(self.spectrum_stages) <= set(self.stages):
            raise ConfigError(f"spectrum_stages={self.spectrum_stages} must be a subset of stages={self.stages}")
        check_range("n_spectrum", self.n_spectrum, 20, self.n_train)
        check_range("max(test_batch_sizes)", max(self.test_batch_sizes), 1, self.n_spectrum)
        check_range("batch sizes", max((self.batch_size, *self.batch_sweep)), 1, self.n_train)
        check_range("seed", self.seed, 0, 2 ** 31)


_PAPER_DATA = ("mnist", "fashion_mnist", "cifar10", "cifar100")
# The group's recipe (companion paper, App. C.1): 50 epochs on MNIST, 200 elsewhere; CIFAR-100 at epochs 100 and 150
_RECIPE_EPOCHS = (("fashion_mnist", 200), ("cifar10", 200), ("cifar100", 200))
_CIFAR100_MS = (("cifar100", (0.5, 0.75)),)
PRESETS = {
    "smoke": GradientStructureConfig(profile="smoke", datasets=("mnist",), models=("fcn",), n_train=1000, epochs=1,
                                     stages=(0.0, 1.0), spectrum_stages=(0.0, 1.0), n_draws=2, top_k=200, test_batch_sizes=(16, 64),
                                     n_batches=300, n_coords=40, n_spectrum=500, n_boot=20, n_rep=10,
                                     accept_sizes=(300, 1000, 3000), mech_coords=20_000),
    "quick": GradientStructureConfig(profile="quick"),
    "paper": GradientStructureConfig(profile="paper", datasets=_PAPER_DATA, fcn_widths=(100, 100),
                                     resnet_datasets=("cifar10",), batch_sweep=(256, 512, 1024), n_train=60_000,
                                     epochs=50, epochs_by_dataset=_RECIPE_EPOCHS, milestones_by_dataset=_CIFAR100_MS,
                                     augment=("cifar10", "cifar100"), n_draws=10,
                                     test_batch_sizes=(16, 64, 256, 1024), n_batches=5000, n_coords=1000,
                                     n_spectrum=10_000, gram_block_bytes=2 ** 32),
}


def make_config(profile: str = "quick", **overrides) -> GradientStructureConfig:
    """The profile's preset with the non-None overrides applied (validated)."""
    return from_profile(PRESETS, profile, **overrides)


def shrink(cfg: GradientStructureConfig) -> GradientStructureConfig:
    """The same datasets, models, batch sizes, stages and measurements, every size cut to the minimum (tests)."""
    test_bs = tuple(dict.fromkeys(min(b, 256) for b in cfg.test_batch_sizes))
    return dataclasses.replace(cfg, fcn_widths=(8,) * len(cfg.fcn_widths), resnet_width=2,
                               n_train=max((1024, *cfg.batch_sweep)), epochs=1, epochs_by_dataset=(), n_draws=2,
                               top_k=100,
                               test_batch_sizes=test_bs, n_batches=60, n_coords=8, n_spectrum=300,
                               gram_block_bytes=2 ** 22, n_boot=3, n_rep=2, accept_sizes=(300,), mech_coords=5000)


def epochs_of(cfg: GradientStructureConfig, dataset: str) -> int:
    """Training epochs on ``dataset`` (epochs_by_dataset, else epochs)."""
    return dict(cfg.epochs_by_dataset).get(dataset, cfg.epochs)


def milestones_of(cfg: GradientStructureConfig, dataset: str) -> tuple:
    """Learning-rate milestones on ``dataset`` (milestones_by_dataset, else milestones)."""
    return tuple(dict(cfg.milestones_by_dataset).get(dataset, cfg.milestones))


def settings(cfg: GradientStructureConfig) -> list[tuple[str, str, int]]:
    """Every (dataset, model, training batch size) the config trains, in run order."""
    out = [(d, m, cfg.batch_size) for d in cfg.datasets for m in cfg.models]
    out += [(d, "resnet18", cfg.batch_size) for d in cfg.resnet_datasets]
    out += [(cfg.sweep_dataset, cfg.sweep_model, b) for b in cfg.batch_sweep if b != cfg.batch_size]
    return list(dict.fromkeys(out))


def measurement_name(measurement: str, batch_size: int, cfg: GradientStructureConfig) -> str:
    """'spectrum', or 'spectrum@B1024' for a setting of the batch-size sweep."""
    return measurement if batch_size == cfg.batch_size else f"{measurement}@B{batch_size}"


def paper_paths(cfg: GradientStructureConfig) -> set[tuple[str, str, str]]:
    """Every (architecture, dataset, measurement) the config reaches."""
    return {(m, d, measurement_name(x, b, cfg)) for d, m, b in settings(cfg) for x in MEASUREMENTS}


def datasets(cfg: GradientStructureConfig) -> tuple[str, ...]:
    """Datasets the config reads, in first-use order."""
    return tuple(dict.fromkeys(d for d, _, _ in settings(cfg)))
