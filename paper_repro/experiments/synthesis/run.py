"""The shared runs: each (net, loss, T, B, seed) trained once with SGD, measured at its checkpoints, then continued
at fixed T to record the iterates along the top Hessian direction (mechanism c). One resumable sweep run each."""
from __future__ import annotations

import dataclasses
import functools
import math
from pathlib import Path

import numpy as np
import torch

from ...core.config import resolve_device
from ...core.data import load_dataset
from ...core.estimators import tail_index
from ...core.gradients import params_of
from ...core.models import lenet, mlp
from ...core.results import output_dir
from ...core.train import sgd_train
from ...pipeline.sweep import SweepOptions, run_sweep
from ..gradient_structure.resnet import resnet18
from ..tail_index.measure import pooling_variants
from ..tail_index.noise import sample_sas
from .config import NET_DATA, SynthesisConfig, runs
from .measure import hessian_top, loss_fn, quantities, targets


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One shared run."""

    cfg: SynthesisConfig  # the chapter's settings
    net: str  # architecture (its dataset: NET_DATA[net])
    loss: str  # "mse" or "ce"
    temperature: float  # T = lr / B
    batch_size: int  # B
    seed: int  # seed of init, batches and noise draws


@functools.lru_cache(maxsize=4)
def _data(name: str, n_train: int, n_test: int, device: str):
    """(train, test) subsets; inputs in [0, 1] for the FC net (MNIST), standardised per channel for the CNNs."""
    train, test = load_dataset(name, True, device=device), load_dataset(name, False, device=device)
    n_train, n_test = min(n_train, len(train)), min(n_test, len(test))
    train, test = train.random_subset(n_train, seed=0), test.random_subset(n_test, seed=0)
    if name == "mnist":
        return train, test
    mean, std = train.channel_stats()
    return train.standardize(mean, std), test.standardize(mean, std)


def build_net(net: str, data, cfg: SynthesisConfig, seed: int) -> torch.nn.Module:
    """The run's network, seeded: bias-free one-hidden-layer ReLU FC, LeNet-5, a small CNN or ResNet18."""
    torch.manual_seed(seed)
    c, h, w = data.x.shape[1:]
    if net == "fc":
        return torch.nn.Sequential(torch.nn.Flatten(), mlp(c * h * w, [cfg.fc_width], data.classes))
    if net == "lenet":
        return lenet(in_channels=c, n_classes=data.classes, image_size=h)
    if net == "resnet18":
        return resnet18(cfg.cnn_width, in_channels=c, n_classes=data.classes)
    k = cfg.cnn_width
    return torch.nn.Sequential(torch.nn.Conv2d(c, k, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                               torch.nn.Conv2d(k, 2 * k, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                               torch.nn.Flatten(), torch.nn.LazyLinear(data.classes))


@functools.lru_cache(maxsize=8)
def calibration(shape: tuple, k1: int, alphas: tuple, seed: int = 0) -> dict:
    """Chapter 1's pooling calibration: the variants read on i.i.d. SaS(alpha) matrices of the measured shape."""
    gen = torch.Generator().manual_seed(seed)
    rows = [pooling_variants(sample_sas(a, shape, generator=gen), k1) for a in alphas]
    return {"alphas": np.array(alphas), **{k: np.array([r[k] for r in rows]) for k in ("standardised_permuted",)}}


def late_iterates(model, lossf, data, lr: float, spec: RunSpec) -> dict:
    """Continue SGD at the same lr and B for late_steps, recording u_t = v . theta_t (v: top Hessian eigenvector
    at the end of training); Hill tail index of |u - median u| against Mori's prediction 2 phi - 1."""
    pool = data.first(spec.cfg.n_hessian)
    h, v = hessian_top(model, lossf, pool.x, pool.y, spec.cfg.lanczos_ncv, spec.seed)
    vt = torch.as_tensor(v, dtype=torch.float32, device=data.x.device)
    flat = lambda m: torch.cat([p.detach().reshape(-1) for p in m.parameters()])  # noqa: E731
    us = sgd_train(model, lossf, data.x, data.y, lr, spec.batch_size, spec.cfg.late_steps, seed=spec.seed + 10_000,
                   callback=lambda step, m: float(vt @ flat(m)), every=1).records
    u = np.asarray(us)
    dev = np.abs(u - np.median(u))
    hill = tail_index(dev[dev > 0], "hill").alpha if np.sum(dev > 0) > 8 else float("nan")
    phi = 1.0 + spec.batch_size / (lr * h) if h > 0 else float("nan")
    return {"iter_hill": hill, "iter_pred": 2 * phi - 1, "h_late": h, "u": u.tolist()}


def finite(obj):
    """``obj`` with every NaN/inf number replaced by None (the sweep records non-finite metrics as diverged)."""
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite(v) for v in obj]
    if isinstance(obj, (float, np.floating)) and not math.isfinite(float(obj)):
        return None
    return obj


def unfinite(obj):
    """Inverse of :func:`finite` for flat rows: None -> NaN."""
    return {k: float("nan") if v is None else v for k, v in obj.items()}


def run_one(spec: RunSpec) -> dict:
    """Train one run, measure every checkpoint, then record its late iterates (non-finite numbers as None)."""
    cfg = spec.cfg
    dev = resolve_device(cfg.device)
    if dev.type == "cpu":
        torch.set_num_threads(cfg.cpu_threads)
    train, test = _data(NET_DATA[spec.net], cfg.n_train, cfg.n_test, str(dev))
    lossf = loss_fn(spec.loss)
    data = dataclasses.replace(train, y=targets(train.y, spec.loss, train.classes))
    pool = data.random_subset(min(cfg.n_pool, len(data)), seed=spec.seed)
    model = build_net(spec.net, train, cfg, spec.seed).to(dev)
    model(train.x[:2])  # materialise lazy layers
    init = {k: v.detach().clone() for k, v in params_of(model).items()}
    lr = spec.temperature * spec.batch_size
    steps = max(1, cfg.epochs * len(data) // spec.batch_size)
    every = max(1, steps // 20)
    marks = {min(steps, every * round(f * steps / every)) for f in cfg.stages}
    n_params = sum(p.numel() for p in model.parameters())
    calib = calibration((cfg.n_batches, n_params), cfg.k1_fixed, cfg.calib_alphas)

    def measure(step, m):
        if step not in marks:
            return None
        q = quantities(m, lossf, pool, test, init, spec.batch_size, lr, cfg, calib, spec.seed + step)
        return {"step": step, "time": step * lr, **q}

    res = sgd_train(model, lossf, data.x, data.y, lr, spec.batch_size, steps, seed=spec.seed, callback=measure,
                    every=every)
    if res.diverged:
        return {"diverged": True, "loss": float("nan")}
    late = late_iterates(model, lossf, data, lr, spec)
    return finite({"checkpoints": res.records, "steps": steps, "lr": lr, "n_params": n_params, "late": late,
            "final_loss": float(np.mean(res.losses[-max(1, len(res.losses) // 10):]))})


def specs(cfg: SynthesisConfig) -> list[RunSpec]:
    """Every shared run of the config."""
    return [RunSpec(cfg, n, loss, t, b, s) for n, loss, t, b, s in runs(cfg)]


def run_all(cfg: SynthesisConfig, opts: SweepOptions | None = None, out: Path | None = None) -> list[dict]:
    """The shared runs as one resumable sweep (inline, local subprocesses or Slurm); one flat row per checkpoint."""
    opts = opts or SweepOptions()
    todo = specs(cfg)
    recs = run_sweep(run_one, todo, out or output_dir("synthesis") / "runs", progress=False, **opts.run_kwargs())
    rows = []
    for spec, rec in zip(todo, recs):
        base = {"net": spec.net, "loss": spec.loss, "T": spec.temperature, "B": spec.batch_size, "seed": spec.seed}
        if rec["status"] != "ok" or rec["metrics"].get("diverged"):
            rows.append({**base, "diverged": True})
            continue
        m = rec["metrics"]
        n_ck = len(m["checkpoints"])
        for i, ck in enumerate(m["checkpoints"]):
            late = m["late"] if i == n_ck - 1 else {}
            row = unfinite({**base, "diverged": False, "stage": i, "last": i == n_ck - 1, "lr": m["lr"], **ck,
                            **{k: v for k, v in late.items() if k != "u"}})
            rows.append({**row, "u": late.get("u")})
    return rows
