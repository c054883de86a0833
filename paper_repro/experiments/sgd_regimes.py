"""Chapter 2 (Sclocchi, Geiger, Wyart 2023): SGD noise in the lazy and feature regimes.

Config and presets, the ensemble jobs run through the sweep runner (alpha x T x P x seed grids of 5x128 FC nets
on MNIST parity) and the perceptron grid. Fits and claims live in ``sgd_regimes_analysis``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import torch

from ..config import (PROFILES, check_choice, check_positive, check_positive_all, from_profile, resolve_device)
from ..data import load_dataset
from ..ensemble import ntk_mlp, train_ensemble
from ..perceptron import generalization_error, sample_data, train
from ..results import output_dir
from ..sweep import EXECUTORS, run_sweep

CHAPTER = "sgd_regimes"
DATASETS = {"mnist": "parity", "fashion_mnist": "parity", "cifar10": "animals"}
ARCHS = ("fc", "cnn")


@dataclass(frozen=True)
class SGDRegimesConfig:
    """All knobs of the chapter; T = lr / batch_size everywhere (no division by the width)."""

    profile: str = "quick"              # smoke | quick | paper
    device: str = "auto"                # auto | cpu | cuda
    dataset: str = "mnist"              # mnist | fashion_mnist (even/odd) | cifar10 (animals/vehicles)
    arch: str = "fc"                    # fc (depth x width, NTK scaling, no bias) | cnn (MnasNet-like)
    width: int = 128                    # hidden width h (cnn: channels)
    depth: int = 5                      # number of hidden layers L
    batch_size: int = 16                # B
    n_test: int = 2000                  # held-out test points
    dtype: str = "float64"              # float64 keeps the tiny lazy updates (alpha = 2^15) exact enough
    max_steps: int = 12_000             # step cap per run (capped runs are marked, never mixed into fits)
    check_every: int = 200              # steps between full training-set checks of the stop criterion
    phase_max_steps: int = 6000         # step cap of the phase-diagram runs (lazy GELU nets at small T hit it)
    members_per_job: int = 32           # networks trained together in one vectorised ensemble
    phase_P: int = 512                  # training-set size of the (alpha, T) phase diagram
    phase_alphas: tuple = (2 ** -5, 2 ** -3, 2 ** -1, 2.0, 2 ** 15)  # initialisation scales alpha
    phase_temperatures: tuple = (0.0025, 0.01, 0.04, 0.16, 0.64, 2.56)  # temperatures T of the phase diagram
    phase_activation: str = "gelu"      # activation of the phase-diagram nets (paper: GELU)
    lazy_alpha: float = 2.0 ** 15       # alpha of the lazy-regime P sweep
    lazy_P: tuple = (256, 512, 1024, 2048)  # training-set sizes of the lazy sweep
    lazy_temperatures: tuple = (0.5, 2.0, 8.0, 32.0, 128.0)  # temperatures of the lazy sweep
    seeds: int = 2                      # seeds per (alpha, T, P) cell of the lazy sweep
    fit_T_min: float = 8.0              # power-law fits use only runs with T >= fit_T_min (noise-dominated)
    perc_chis: tuple = (0.0, 1.0)       # perceptron: density exponent chi near the decision boundary
    perc_d: int = 16                    # perceptron input dimension d
    perc_P: tuple = (128, 256, 512, 1024)  # perceptron training-set sizes
    perc_temperatures: tuple = (4.0, 16.0, 64.0)  # perceptron temperatures (noise-dominated regime)
    perc_seeds: int = 4                 # perceptron seeds per cell
    perc_batch_size: int = 2            # perceptron batch size B
    n_boot: int = 200                   # bootstrap resamples for exponent uncertainties
    executor: str = "inline"            # sweep executor: inline | local | slurm

    def __post_init__(self):
        check_choice("profile", self.profile, PROFILES)
        check_choice("device", self.device, ("auto", "cpu", "cuda"))
        check_choice("dataset", self.dataset, tuple(DATASETS))
        check_choice("arch", self.arch, ARCHS)
        check_choice("dtype", self.dtype, ("float32", "float64"))
        check_choice("phase_activation", self.phase_activation, ("relu", "gelu", "tanh"))
        check_choice("executor", self.executor, EXECUTORS)
        for name in ("width", "depth", "batch_size", "n_test", "max_steps", "check_every", "phase_max_steps",
                     "members_per_job", "phase_P", "seeds", "perc_d", "perc_seeds", "perc_batch_size", "n_boot"):
            check_positive(name, getattr(self, name), integer=True)
        for name in ("lazy_alpha", "fit_T_min"):
            check_positive(name, getattr(self, name))
        for name in ("phase_alphas", "phase_temperatures", "lazy_temperatures", "perc_temperatures"):
            check_positive_all(name, getattr(self, name))
        for name in ("lazy_P", "perc_P"):
            check_positive_all(name, getattr(self, name), integer=True)
        if any(c < 0 for c in self.perc_chis) or not self.perc_chis:
            raise_config("perc_chis", self.perc_chis, "a non-empty tuple of numbers >= 0")


def raise_config(name, value, allowed):
    """One clear ConfigError naming the parameter and what is allowed."""
    from ..config import ConfigError
    raise ConfigError(f"{name}={value!r} is not allowed; use {allowed}")


PRESETS = {
    "smoke": SGDRegimesConfig(profile="smoke", width=32, depth=3, n_test=500, max_steps=600, check_every=100,
                              phase_max_steps=600,
                              phase_P=128, phase_alphas=(2 ** -2, 1.0, 2 ** 15), phase_temperatures=(0.1, 1.0, 10.0),
                              lazy_P=(64, 128, 256), lazy_temperatures=(1.0, 8.0, 64.0), seeds=1, fit_T_min=8.0,
                              perc_P=(32, 64, 128), perc_temperatures=(8.0, 32.0), perc_seeds=2, n_boot=50),
    "quick": SGDRegimesConfig(profile="quick"),
    "paper": SGDRegimesConfig(profile="paper", n_test=10_000, max_steps=2_000_000, check_every=500,
                              phase_max_steps=2_000_000,
                              members_per_job=64, phase_P=1024,
                              phase_alphas=tuple(2.0 ** e for e in range(-8, 16, 2)),
                              phase_temperatures=tuple(10.0 ** e for e in np.arange(-4, 2.1, 0.5)),
                              lazy_P=(1024, 2048, 4096, 8192, 16384),
                              lazy_temperatures=tuple(2.0 ** e for e in range(-6, 9)), seeds=4, fit_T_min=4.0,
                              perc_chis=(0.0, 1.0, 3.0), perc_d=128, perc_P=(128, 256, 512, 1024, 2048, 4096),
                              perc_temperatures=(0.25, 1.0, 4.0, 16.0, 64.0), perc_seeds=8, n_boot=1000),
}


def make_config(profile: str = "quick", **overrides) -> SGDRegimesConfig:
    """Validated config from a profile preset plus non-None overrides."""
    return from_profile(PRESETS, profile, **overrides)


@dataclass(frozen=True)
class EnsembleJob:
    """One vectorised ensemble: every (alpha, T, P, seed) tuple in ``members`` is one network."""

    members: tuple          # ((alpha, T, P, seed), ...)
    dataset: str
    arch: str
    width: int
    depth: int
    activation: str
    batch_size: int
    n_test: int
    dtype: str
    device: str
    max_steps: int
    check_every: int


def load_parity(dataset: str, n_train: int, n_test: int, dtype: str = "float64", device="cpu"):
    """Binary task (MNIST even/odd, CIFAR animals/vehicles): centred on the train mean, each x of norm sqrt(d)."""
    kind = DATASETS[dataset]
    tr = load_dataset(dataset, train=True).binary(kind).first(n_train)
    te = load_dataset(dataset, train=False).binary(kind).first(n_test)
    dt = getattr(torch, dtype)
    mean = tr.x.to(dt).mean(0, keepdim=True)

    def prep(x):
        x = x.to(dt) - mean
        flat = x.flatten(1)
        norm = flat.norm(dim=1).clamp_min(1e-12).view(-1, *[1] * (x.ndim - 1))
        return (x / norm * math.sqrt(flat.shape[1])).to(device)
    return prep(tr.x), tr.y.to(dt).to(device), prep(te.x), te.y.to(dt).to(device)


def _finite_list(a) -> list:
    """Array -> list with NaN/inf as None (so the sweep does not mark the whole job diverged)."""
    return [None if (isinstance(v, float) and not math.isfinite(v)) else v for v in np.asarray(a).tolist()]


def run_job(job: EnsembleJob) -> dict:
    """Train one ensemble job (module level, picklable: the sweep runner calls it)."""
    device = resolve_device(job.device)
    P_max = max(m[2] for m in job.members)
    x, y, xt, yt = load_parity(job.dataset, P_max, job.n_test, job.dtype, device)
    dt = getattr(torch, job.dtype)
    if job.arch == "cnn":
        from .sgd_regimes_cnn import mnasnet_like
        models = [mnasnet_like(x.shape[1], job.width, seed=m[3]).to(device, dt) for m in job.members]
    else:
        models = [ntk_mlp(x[0].numel(), job.width, job.depth, job.activation, seed=m[3]).to(device, dt)
                  for m in job.members]
    r = train_ensemble(models, x, y, xt, yt, alpha=[m[0] for m in job.members],
                       lr=[m[1] * job.batch_size for m in job.members], n_train=[m[2] for m in job.members],
                       seeds=[1000 + m[3] for m in job.members], batch_size=job.batch_size,
                       max_steps=job.max_steps, check_every=job.check_every)
    return {"status": r.status.tolist(), "steps": r.steps.tolist(), "time": r.time.tolist(),
            "test_error": _finite_list(r.test_error), "weight_change": _finite_list(r.weight_change),
            "layer_change": [_finite_list(row) for row in r.layer_change], "check_steps": r.check_steps.tolist(),
            "train_loss": [_finite_list(row) for row in r.train_loss],
            "unfitted": [_finite_list(row) for row in r.unfitted]}


def _jobs(cfg: SGDRegimesConfig, members: list, activation: str, max_steps: int) -> list[EnsembleJob]:
    n = cfg.members_per_job
    return [EnsembleJob(tuple(members[i:i + n]), cfg.dataset, cfg.arch, cfg.width, cfg.depth, activation,
                        cfg.batch_size, cfg.n_test, cfg.dtype, cfg.device, max_steps, cfg.check_every)
            for i in range(0, len(members), n)]


def _table(jobs, records) -> dict:
    """Flatten job records into one column table: alpha, T, P, seed, status, time, test_error, ..."""
    cols = {k: [] for k in ("alpha", "T", "P", "seed")}
    out: dict = {}
    for job, rec in zip(jobs, records):
        for m in job.members:
            for k, v in zip(cols, m):
                cols[k].append(v)
        metrics = rec["metrics"]
        for key, val in metrics.items():
            out.setdefault(key, []).extend(val)
    table = {k: np.array(v, float) for k, v in cols.items()}
    for key in ("steps", "time", "test_error", "weight_change"):
        table[key] = np.array([np.nan if v is None else v for v in out[key]], float)
    table["status"] = np.array(out["status"])
    table["curves"] = [(rec["metrics"]["check_steps"], tl, uf) for rec in records
                       for tl, uf in zip(rec["metrics"]["train_loss"], rec["metrics"]["unfitted"])]
    return table


def run_grid(cfg: SGDRegimesConfig, name: str, alphas, temperatures, Ps, seeds, activation: str,
             progress: bool = True, max_steps: int | None = None) -> dict:
    """Run an alpha x T x P x seed grid through the sweep runner (resumable); return the column table."""
    members = [(float(a), float(T), int(P), int(s)) for a in alphas for P in Ps for s in range(seeds)
               for T in temperatures]
    jobs = _jobs(cfg, members, activation, max_steps or cfg.max_steps)
    records = run_sweep(run_job, jobs, output_dir(CHAPTER) / "sweeps" / name, cfg.executor, progress=progress)
    return _table(jobs, records)


def phase_diagram(cfg: SGDRegimesConfig, progress: bool = True) -> dict:
    """Test error over the (alpha, T) plane at P = phase_P (one seed per cell)."""
    return run_grid(cfg, "phase", cfg.phase_alphas, cfg.phase_temperatures, (cfg.phase_P,), 1,
                    cfg.phase_activation, progress, cfg.phase_max_steps)


def lazy_sweep(cfg: SGDRegimesConfig, progress: bool = True) -> dict:
    """Lazy regime (alpha = lazy_alpha, ReLU): every P in lazy_P x T in lazy_temperatures x seeds."""
    return run_grid(cfg, "lazy", (cfg.lazy_alpha,), cfg.lazy_temperatures, cfg.lazy_P, cfg.seeds, "relu", progress)


@dataclass(frozen=True)
class PerceptronJob:
    """One perceptron run of the grid."""

    chi: float
    d: int
    P: int
    T: float
    seed: int
    batch_size: int


def run_perceptron(job: PerceptronJob) -> dict:
    """Event-driven SGD on one synthetic data set (module level for the sweep runner)."""
    data = sample_data(job.P, job.d, job.chi, seed=job.seed)
    r = train(data, job.T, job.batch_size, seed=10_000 + job.seed)
    err = float(generalization_error(r.w_par, r.w_perp, job.chi)[0])
    return {"status": r.status, "time": r.time, "steps": r.steps, "updates": r.updates, "w_par": r.w_par,
            "w_perp": r.w_perp, "w_norm": r.w_norm, "test_error": err}


def perceptron_sweep(cfg: SGDRegimesConfig, progress: bool = True) -> dict:
    """chi x P x T x seed grid of perceptron runs; returns a column table."""
    jobs = [PerceptronJob(float(c), cfg.perc_d, int(P), float(T), s, cfg.perc_batch_size)
            for c in cfg.perc_chis for P in cfg.perc_P for T in cfg.perc_temperatures for s in range(cfg.perc_seeds)]
    recs = run_sweep(run_perceptron, jobs, output_dir(CHAPTER) / "sweeps" / "perceptron", cfg.executor,
                     progress=progress)
    table = {"chi": np.array([j.chi for j in jobs]), "P": np.array([j.P for j in jobs], float),
             "T": np.array([j.T for j in jobs]), "seed": np.array([j.seed for j in jobs])}
    for key in ("time", "w_par", "w_perp", "w_norm", "test_error", "updates", "steps"):
        table[key] = np.array([r["metrics"][key] for r in recs], float)
    table["status"] = np.array([r["metrics"]["status"] for r in recs])
    return table


def with_overrides(cfg: SGDRegimesConfig, **kw) -> SGDRegimesConfig:
    """dataclasses.replace with validation (used by the widget and the exercises)."""
    return replace(cfg, **kw)


@dataclass(frozen=True)
class BenchResult:
    """Wall time of k FC nets trained as one vectorised ensemble vs k sequential runs of the same code."""

    members: int
    steps: int
    ensemble_s: float
    sequential_s: float
    speedup: float
    max_abs_diff: float   # largest weight difference between the two ways (should be float round-off)
    device: str


def benchmark_ensemble(members: int = 16, P: int = 1024, steps: int = 2000, width: int = 128, depth: int = 5,
                       batch_size: int = 16, dtype: str = "float32", device: str = "auto",
                       dataset: str = "mnist") -> BenchResult:
    """Time ``members`` nets (fixed ``steps``, no early stop) as one ensemble and as sequential k=1 runs."""
    import time
    dev = resolve_device(device)
    x, y, xt, yt = load_parity(dataset, P, 256, dtype, dev)
    make = lambda s: ntk_mlp(x[0].numel(), width, depth, seed=s).to(dev, getattr(torch, dtype))  # noqa: E731
    kw = dict(alpha=1.0, lr=0.1 * batch_size, batch_size=batch_size, max_steps=steps, check_every=steps,
              stop_when_fitted=False)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    sync()
    t0 = time.perf_counter()
    ens = train_ensemble([make(s) for s in range(members)], x, y, xt, yt, seeds=list(range(members)), **kw)
    sync()
    t1 = time.perf_counter()
    seq = [train_ensemble([make(s)], x, y, xt, yt, seeds=[s], **kw) for s in range(members)]
    sync()
    t2 = time.perf_counter()
    diff = max(float((ens.params[n][s] - r.params[n][0]).abs().max()) for s, r in enumerate(seq) for n in r.params)
    return BenchResult(members, steps, t1 - t0, t2 - t1, (t2 - t1) / (t1 - t0), diff, str(dev))
