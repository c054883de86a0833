"""Config, presets and sweeps of chapter 2 (Sclocchi, Geiger & Wyart 2023) in the released code's units.

T is the paper's temperature T = dt / (B h) (README of AntonioScl/SGD_learning_regimes), so each run takes SGD
steps of dt = T h B; alpha is the released --alpha. Grids of independent trainings go through ``run_sweep``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import torch

from ...core.config import (PROFILES, ConfigError, check_choice, check_positive, check_positive_all, from_profile,
                            resolve_device)
from ...core.data import load_dataset
from ...core.results import output_dir
from ...pipeline.sweep import run_sweep
from .data import NORMALISATION, TASK, load_runs
from .ensemble import train_ensemble
from .nets import mlp
from .perceptron import generalization_error, sample_data, train

CHAPTER = "sgd_regimes"
ARCHS = ("fc", "mnas")


def _pow2(lo: int, hi: int, step: int = 1) -> tuple:
    return tuple(2.0 ** e for e in range(lo, hi + 1, step))


@dataclass(frozen=True)
class SGDRegimesConfig:
    """All knobs of the chapter; T and alpha in the released code's units (dt = T h B)."""

    profile: str = "quick"              # smoke | quick | paper | paper_full (the released grids, every cell)
    device: str = "auto"                # auto | cpu | cuda
    width: int = 128                    # FC hidden width h (released --h 128)
    depth: int = 5                      # FC hidden layers L (released --L 5)
    batch_size: int = 16                # B (released --bs 16)
    n_test: int = 10_000                # fixed test set drawn from train ∪ test (released --pte 32768)
    dtype: str = "float32"              # released default --dtype f32
    max_steps: int = 16_000             # step cap per run (capped runs are marked, never fitted)
    check_every: int = 100              # steps between full training-set checks of the stop criterion
    check_growth: float = 0.125         # ...but at most this fraction of the steps done apart (cost only, exact)
    members_per_job: int = 24           # networks trained together in one vectorised ensemble
    lazy_alpha: float = 2.0 ** 15       # alpha of the lazy P sweeps (released --alpha 32768)
    lazy_datasets: tuple = ("mnist",)   # datasets of the FC lazy sweep (released: mnist, cifar10)
    lazy_P: tuple = (256, 512, 1024, 2048, 4096)  # training-set sizes of the lazy sweep
    lazy_T: tuple = tuple(2.0 ** e for e in (-13, -10, -7, -5, -4, -3, -2))  # temperatures of the lazy sweep
    seeds: int = 3                      # seeds per (T, P) cell of the lazy sweep
    Tc_level: float = 0.03              # ||w-w0||/||w0|| at which a net counts as out of the kernel regime
    fit_T_min: float = 2.0 ** -11       # power laws in T fitted on T >= fit_T_min (noise-dominated side)
    phase_P: int = 512                  # training-set size of the (alpha, T) phase diagram (released 1024)
    phase_alphas: tuple = tuple(2.0 ** e for e in (-14, -11, -8, -5, -2, 1, 4, 11))  # released 2^-14..2^11
    phase_T: tuple = _pow2(-16, -4)     # T of the phase diagram (released dt = 2^-15..2^15, T = dt/(B h))
    phase_seeds: int = 3                # seeds per phase-diagram cell
    phase_max_steps: int = 8000         # step cap of the phase-diagram runs
    feature_alpha: float = 2.0 ** -5    # alpha of the feature-regime noise comparison (one of phase_alphas)
    phase_activation: str = "gelu"      # released phase diagram: --act gelu
    feature_alpha_max: float = 1.0      # T_opt ∝ alpha^k fitted on alpha <= this (feature side)
    mnas_width: int = 64                # MNAS h (released --h 64)
    mnas_datasets: tuple = ()           # datasets of the MNAS lazy sweep (released: mnist, cifar10)
    mnas_P: tuple = (1024,)             # MNAS training-set sizes
    mnas_T: tuple = _pow2(-20, 0, 4)    # MNAS temperatures (released 2^-20..2^0)
    mnas_seeds: int = 1                 # MNAS seeds per cell
    mnas_phase_datasets: tuple = ()     # datasets of the MNAS (alpha, T) phase diagram (released: cifar10)
    mnas_phase_width: int = 32          # its h (released --h 32)
    mnas_phase_batch_size: int = 64     # its B (released --bs 64)
    mnas_phase_alphas: tuple = _pow2(-14, 11, 5)  # its alpha (released 2^-14..2^11)
    mnas_phase_T: tuple = tuple(2.0 ** e / 2048 for e in range(-13, 11, 4))  # T = dt/(B h), released dt 2^-13..2^10
    mnas_phase_seeds: int = 1           # its seeds per cell (released 4)
    eval_chunk: int = 1024              # points per evaluation chunk (bounds peak memory)
    member_chunk: int = 16              # members per evaluation chunk
    perc_chis: tuple = (0.0, 1.0)       # perceptron depletion exponents chi (released --data_chi 0, 1, 3)
    perc_d: int = 16                    # perceptron input dimension d (released 16..128; 16 reaches P/d = 64 here)
    perc_P: tuple = (32, 64, 128, 256, 512, 1024)  # perceptron training-set sizes (P/d = 2..64)
    perc_T: tuple = (2.0 ** -11, 2.0 ** -9, 2.0 ** -7, 2.0 ** -5)  # perceptron temperatures
    perc_fit_T_min: float = 2.0 ** -9   # exponents read on T >= this (3 temperatures here; there w_par ∝ T)
    perc_fit_P_min: int = 32            # ...and on P >= this (2d: the local P-slopes show P = d is pre-asymptotic)
    perc_seeds: int = 16                # perceptron seeds per cell (the exponent's error comes from seed scatter)
    perc_batch_size: int = 2            # perceptron B (released --bs 2)
    perc_alpha: float = 2.0 ** 15       # perceptron alpha (released --alpha 32768)
    n_boot: int = 200                   # bootstrap resamples for exponent uncertainties

    def __post_init__(self):
        check_choice("profile", self.profile, PROFILES + ("paper_full",))
        check_choice("device", self.device, ("auto", "cpu", "cuda"))
        check_choice("dtype", self.dtype, ("float32", "float64"))
        check_choice("phase_activation", self.phase_activation, ("relu", "gelu", "tanh"))
        for ds in self.lazy_datasets + self.mnas_datasets + self.mnas_phase_datasets:
            check_choice("dataset", ds, tuple(TASK))
        for name in ("width", "depth", "batch_size", "n_test", "max_steps", "check_every", "phase_max_steps",
                     "members_per_job", "phase_P", "seeds", "phase_seeds", "mnas_width", "mnas_seeds", "eval_chunk",
                     "member_chunk", "perc_d", "perc_seeds", "perc_batch_size", "n_boot", "mnas_phase_width",
                     "mnas_phase_batch_size", "mnas_phase_seeds", "perc_fit_P_min"):
            check_positive(name, getattr(self, name), integer=True)
        if self.feature_alpha not in self.phase_alphas:
            raise ConfigError(f"feature_alpha={self.feature_alpha!r} must be one of phase_alphas={self.phase_alphas}")
        for name in ("lazy_alpha", "fit_T_min", "Tc_level", "feature_alpha_max", "perc_alpha", "perc_fit_T_min"):
            check_positive(name, getattr(self, name))
        if not 0 <= self.check_growth <= 1:
            raise ConfigError(f"check_growth={self.check_growth!r} must be in [0, 1]")
        for name in ("phase_alphas", "phase_T", "lazy_T", "perc_T", "mnas_T", "mnas_phase_alphas", "mnas_phase_T"):
            check_positive_all(name, getattr(self, name))
        for name in ("lazy_P", "perc_P", "mnas_P"):
            check_positive_all(name, getattr(self, name), integer=True)
        if not self.perc_chis or any(c < 0 for c in self.perc_chis):
            raise ConfigError(f"perc_chis={self.perc_chis!r} must be a non-empty tuple of numbers >= 0")


PRESETS = {
    "smoke": SGDRegimesConfig(profile="smoke", width=32, depth=3, n_test=500, max_steps=600, phase_max_steps=600,
                              phase_P=128, phase_alphas=(2.0 ** -2, 1.0, 2.0 ** 15), phase_T=_pow2(-11, -5, 3),
                              feature_alpha=2.0 ** -2,
                              phase_seeds=1, lazy_P=(64, 128, 256), lazy_T=_pow2(-11, -3, 4), seeds=2,
                              perc_d=16, perc_P=(32, 64, 128), perc_T=(2.0 ** -9, 2.0 ** -7), perc_seeds=3,
                              perc_fit_P_min=32,
                              n_boot=50),
    "quick": SGDRegimesConfig(profile="quick"),
    "paper_full": SGDRegimesConfig(profile="paper_full", n_test=32_768, max_steps=10 ** 7, check_every=500, members_per_job=64,
                              eval_chunk=512,
                              lazy_datasets=("mnist", "cifar10"), lazy_P=(1024, 2048, 4096, 8192, 16384),
                              lazy_T=_pow2(-13, 2), seeds=5, fit_T_min=2.0 ** -9, phase_P=1024,
                              phase_alphas=_pow2(-14, 11), phase_T=tuple(2.0 ** e / 2048 for e in range(-15, 16)),
                              phase_seeds=9, phase_max_steps=10 ** 7, mnas_datasets=("mnist", "cifar10"),
                              mnas_P=(1024, 2048, 4096, 8192, 16384), mnas_T=_pow2(-20, 0), mnas_seeds=5,
                              perc_chis=(0.0, 1.0, 3.0), perc_P=tuple(2 ** e for e in range(5, 15)),
                              perc_T=tuple(2.0 ** e / 2 for e in range(-15, 3)), perc_seeds=5, n_boot=1000,
                              mnas_phase_datasets=("cifar10",), mnas_phase_alphas=_pow2(-14, 11),
                              mnas_phase_T=tuple(2.0 ** e / 2048 for e in range(-13, 11)), mnas_phase_seeds=4),
}
# The paper profile: every sweep and figure of paper_full (the released grids, every cell), with the MNAS sweeps
# thinned so that the plan, priced from the quick run's stopping-time law, fits about a GPU-day: MNAS lazy T every
# 2 octaves and 3 seeds (of 5); MNAS phase diagram alpha every 3 octaves, T every 2 and 2 seeds (of 4). The MNAS
# cells dominate the cost (steps ~ 1/T at small T) and the exponents read from them need the range, not every octave.
PRESETS["paper"] = replace(PRESETS["paper_full"], profile="paper", mnas_T=_pow2(-20, 0, 2), mnas_seeds=3,
                           mnas_phase_alphas=_pow2(-14, 10, 3), mnas_phase_seeds=2,
                           mnas_phase_T=tuple(2.0 ** e / 2048 for e in range(-13, 11, 2)))


def make_config(profile: str = "quick", **overrides) -> SGDRegimesConfig:
    """Validated config from a profile preset plus non-None overrides."""
    return from_profile(PRESETS, profile, **overrides)


def with_overrides(cfg: SGDRegimesConfig, **kw) -> SGDRegimesConfig:
    """dataclasses.replace with validation (used by the exercises)."""
    return replace(cfg, **kw)


def load_binary(dataset: str, n_train: int, n_test: int, dtype: str = "float32", device="cpu", flat: bool = True):
    """The first n_train training and n_test test images, released preprocessing (benchmarks; runs use load_runs)."""
    mean, std = NORMALISATION[dataset]
    tr = load_dataset(dataset, train=True).binary(TASK[dataset]).first(n_train)
    te = load_dataset(dataset, train=False).binary(TASK[dataset]).first(n_test)
    dt = getattr(torch, dtype)

    def prep(x):
        x = (x.to(torch.float64) * (255.0 if x.dtype != torch.uint8 else 1.0) - mean) / std
        return (x.flatten(1) if flat else x).to(dt).to(device)
    return prep(tr.x), tr.y.to(dt).to(device), prep(te.x), te.y.to(dt).to(device)


@dataclass(frozen=True)
class EnsembleJob:
    """One vectorised ensemble: every (alpha, T, P, seed) tuple in ``members`` is one network."""

    members: tuple          # ((alpha, T, P, seed), ...) in paper units
    dataset: str
    arch: str               # fc | mnas
    width: int
    depth: int
    activation: str
    batch_size: int
    n_test: int
    dtype: str
    device: str
    max_steps: int
    check_every: int
    eval_chunk: int = 1024
    member_chunk: int = 16
    check_growth: float = 0.0
    data_split: str = "released"  # each seed its own training draw, one fixed test set (part of the cache key)


def _finite_list(a) -> list:
    """Array -> list with NaN/inf as None (so the sweep does not mark the whole job diverged)."""
    return [None if (isinstance(v, float) and not math.isfinite(v)) else v for v in np.asarray(a).tolist()]


def build_models(job: EnsembleJob, in_shape) -> list:
    """The job's nets, seeded by their seed (released --seed_init)."""
    if job.arch == "mnas":
        from .mnas import mnas
        return [mnas(in_shape[0], job.width, seed=m[3]) for m in job.members]
    return [mlp(int(np.prod(in_shape)), job.width, job.depth, job.activation, seed=m[3]) for m in job.members]


def run_job(job: EnsembleJob) -> dict:
    """Train one ensemble job with dt = T h B, each seed on its own training draw and every member on the same
    fixed test set (released ``_extract``); module level, picklable: the sweep runner calls it."""
    device = resolve_device(job.device)
    x, y, index, xt, yt = load_runs(job.dataset, job.members, job.n_test, job.dtype, device, flat=job.arch == "fc")
    models = [m.to(device, getattr(torch, job.dtype)) for m in build_models(job, x.shape[1:])]
    r = train_ensemble(models, x, y, xt, yt, alpha=[m[0] for m in job.members],
                       lr=[m[1] * job.width * job.batch_size for m in job.members],
                       n_train=[m[2] for m in job.members], seeds=[1000 + m[3] for m in job.members],
                       batch_size=job.batch_size, max_steps=job.max_steps, check_every=job.check_every,
                       eval_chunk=job.eval_chunk, member_chunk=job.member_chunk, check_growth=job.check_growth,
                       train_index=index)
    return {"status": r.status.tolist(), "steps": r.steps.tolist(), "time": r.time.tolist(),
            "test_error": _finite_list(r.test_error), "weight_change": _finite_list(r.weight_change),
            "check_steps": r.check_steps.tolist(), "train_loss": [_finite_list(row) for row in r.train_loss],
            "unfitted": [_finite_list(row) for row in r.unfitted]}


def _table(jobs, records) -> dict:
    """Flatten job records into one column table: alpha, T, P, seed, status, time, test_error, weight_change."""
    cols: dict = {k: [] for k in ("alpha", "T", "P", "seed")}
    out: dict = {}
    for job, rec in zip(jobs, records):
        for m in job.members:
            for k, v in zip(cols, m):
                cols[k].append(v)
        for key, val in rec["metrics"].items():
            out.setdefault(key, []).extend(val)
    table = {k: np.array(v, float) for k, v in cols.items()}
    for key in ("steps", "time", "test_error", "weight_change"):
        table[key] = np.array([np.nan if v is None else v for v in out[key]], float)
    table["status"] = np.array(out["status"])
    table["curves"] = [(rec["metrics"]["check_steps"], tl, uf) for rec in records
                       for tl, uf in zip(rec["metrics"]["train_loss"], rec["metrics"]["unfitted"])]
    return table


def run_grid(cfg: SGDRegimesConfig, name: str, *, alphas, temperatures, Ps, seeds: int, dataset: str = "mnist",
             arch: str = "fc", activation: str = "relu", max_steps: int | None = None, progress: bool = False,
             width: int | None = None, batch_size: int | None = None, **sweep_kw) -> dict:
    """alpha x T x P x seed grid of nets through the sweep runner (resumable); members grouped by P."""
    members = [(float(a), float(T), int(P), int(s)) for P in Ps for a in alphas for s in range(seeds)
               for T in temperatures]
    n = cfg.members_per_job
    width = width or (cfg.mnas_width if arch == "mnas" else cfg.width)
    jobs = [EnsembleJob(tuple(members[i:i + n]), dataset, arch, width, cfg.depth, activation,
                        batch_size or cfg.batch_size,
                        cfg.n_test, cfg.dtype, cfg.device, max_steps or cfg.max_steps, cfg.check_every,
                        cfg.eval_chunk, cfg.member_chunk, cfg.check_growth) for i in range(0, len(members), n)]
    records = run_sweep(run_job, jobs, output_dir(CHAPTER) / "sweeps" / name, progress=progress, **sweep_kw)
    return _table(jobs, records)


def phase_diagram(cfg: SGDRegimesConfig, **sweep_kw) -> dict:
    """Test error over the (alpha, T) plane at P = phase_P (GELU FC nets, as released)."""
    return run_grid(cfg, "phase", alphas=cfg.phase_alphas, temperatures=cfg.phase_T, Ps=(cfg.phase_P,),
                    seeds=cfg.phase_seeds, activation=cfg.phase_activation, max_steps=cfg.phase_max_steps, **sweep_kw)


def lazy_sweep(cfg: SGDRegimesConfig, dataset: str = "mnist", **sweep_kw) -> dict:
    """Lazy regime (alpha = lazy_alpha, ReLU FC): every P x T x seed."""
    return run_grid(cfg, f"lazy_{dataset}", alphas=(cfg.lazy_alpha,), temperatures=cfg.lazy_T, Ps=cfg.lazy_P,
                    seeds=cfg.seeds, dataset=dataset, **sweep_kw)


def mnas_sweep(cfg: SGDRegimesConfig, dataset: str, **sweep_kw) -> dict:
    """Lazy regime of the released MNAS (alpha = lazy_alpha): every P x T x seed."""
    return run_grid(cfg, f"mnas_{dataset}", alphas=(cfg.lazy_alpha,), temperatures=cfg.mnas_T, Ps=cfg.mnas_P,
                    seeds=cfg.mnas_seeds, dataset=dataset, arch="mnas", **sweep_kw)


def mnas_phase_diagram(cfg: SGDRegimesConfig, dataset: str, **sweep_kw) -> dict:
    """Test error over the (alpha, T) plane of the released MNAS (h = 32, B = 64, ReLU) at P = phase_P."""
    return run_grid(cfg, f"mnas_phase_{dataset}", alphas=cfg.mnas_phase_alphas, temperatures=cfg.mnas_phase_T,
                    Ps=(cfg.phase_P,), seeds=cfg.mnas_phase_seeds, dataset=dataset, arch="mnas",
                    max_steps=cfg.phase_max_steps, width=cfg.mnas_phase_width, batch_size=cfg.mnas_phase_batch_size,
                    **sweep_kw)


@dataclass(frozen=True)
class PerceptronJob:
    """One perceptron run: released ``--arch linear --dataset depleted_sign`` with T = dt / B (h = 1)."""

    chi: float
    d: int
    P: int
    T: float      # paper temperature
    alpha: float
    seed: int
    batch_size: int


def run_perceptron(job: PerceptronJob) -> dict:
    """Event-driven SGD; u = alpha (w - w0) follows T_sim = alpha T exactly, so w_par = u_1 / alpha."""
    data = sample_data(job.P, job.d, job.chi, seed=job.seed)
    r = train(data, job.alpha * job.T, job.batch_size, seed=10_000 + job.seed)
    err = float(generalization_error(r.w_par, r.w_perp, job.chi)[0])
    return {"status": r.status, "time": r.time / job.alpha, "steps": r.steps, "updates": r.updates,
            "w_par": r.w_par / job.alpha, "w_perp": r.w_perp / job.alpha, "test_error": err}


def perceptron_sweep(cfg: SGDRegimesConfig, **sweep_kw) -> dict:
    """chi x P x T x seed grid of perceptron runs; returns a column table (paper units)."""
    jobs = [PerceptronJob(float(c), cfg.perc_d, int(P), float(T), cfg.perc_alpha, s, cfg.perc_batch_size)
            for c in cfg.perc_chis for P in cfg.perc_P for T in cfg.perc_T for s in range(cfg.perc_seeds)]
    recs = run_sweep(run_perceptron, jobs, output_dir(CHAPTER) / "sweeps" / "perceptron", progress=False, **sweep_kw)
    table = {"chi": np.array([j.chi for j in jobs]), "P": np.array([j.P for j in jobs], float),
             "T": np.array([j.T for j in jobs]), "seed": np.array([j.seed for j in jobs])}
    for key in ("time", "w_par", "w_perp", "test_error", "updates", "steps"):
        table[key] = np.array([r["metrics"][key] for r in recs], float)
    table["status"] = np.array([r["metrics"]["status"] for r in recs])
    return table
