"""Chapter 2's contract with the book's tooling: shrink (paper-shaped tiny run), paper paths, run plan, datasets."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from ...pipeline.plan import SweepPlan, SweepProbe
from . import stopping
from .perceptron import estimate_cost
from .run import CHAPTER, SGDRegimesConfig

IN_SHAPE = {"mnist": (1, 28, 28), "cifar10": (3, 32, 32)}


def shrink(cfg: SGDRegimesConfig) -> SGDRegimesConfig:
    """Same grids (alpha, T, chi), architectures, datasets and measurements; sizes, steps and seeds cut to minimum."""
    small = lambda Ps: tuple(16 + 8 * i for i in range(len(Ps)))  # noqa: E731
    return replace(cfg, width=4, depth=cfg.depth, n_test=32, max_steps=2, check_every=1, phase_max_steps=2,
                   members_per_job=max(len(cfg.lazy_T), 8) * 4, lazy_P=small(cfg.lazy_P), seeds=2, phase_P=16,
                   phase_seeds=1, mnas_width=1, mnas_P=small(cfg.mnas_P), mnas_seeds=1, eval_chunk=16, member_chunk=4,
                   perc_d=4, perc_P=small(cfg.perc_P), perc_seeds=1, n_boot=5, mnas_phase_width=1, mnas_phase_seeds=1)


def datasets(cfg: SGDRegimesConfig) -> tuple[str, ...]:
    """Every dataset the config reads (names for paper_repro.core.fetch)."""
    return tuple(sorted({"mnist", *cfg.lazy_datasets, *cfg.mnas_datasets, *cfg.mnas_phase_datasets}))


def paper_paths(cfg: SGDRegimesConfig) -> set[tuple[str, str, str]]:
    """Every (architecture, dataset, measurement) combination the config reaches."""
    paths = {("fc_gelu", "mnist", "phase_diagram"), ("linear", "depleted_sign", "perceptron")}
    paths |= {("fc", ds, "lazy_sweep") for ds in cfg.lazy_datasets}
    paths |= {("mnas", ds, "lazy_sweep") for ds in cfg.mnas_datasets}
    paths |= {("mnas", ds, "phase_diagram") for ds in cfg.mnas_phase_datasets}
    return paths


def _fc_params(cfg: SGDRegimesConfig, d: int) -> int:
    return d * cfg.width + (cfg.depth - 1) * cfg.width ** 2 + cfg.width


def _fc_peak(cfg: SGDRegimesConfig, d: int, params: int, nbytes: int) -> int:
    """Evaluation chunk (inputs + one hidden layer) plus weights, initial weights and gradients of one job."""
    return nbytes * (cfg.member_chunk * cfg.eval_chunk * (d + cfg.width) + cfg.members_per_job * 3 * params)


def _mnas_cost(cfg: SGDRegimesConfig, ds: str, width: int | None = None) -> tuple[int, float]:
    """(parameters, forward FLOPs per image) of the released MNAS, counted on one image."""
    from torch.utils.flop_counter import FlopCounterMode

    from .mnas import mnas
    net = mnas(IN_SHAPE[ds][0], width or cfg.mnas_width)
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        net(torch.zeros(1, *IN_SHAPE[ds]))
    return sum(p.numel() for p in net.parameters()), float(fc.get_total_flops())


def mnas_peak_bytes(cfg: SGDRegimesConfig, in_shape: tuple, h: int, params: int) -> int:
    """Peak of one MNAS job: 7 activation-sized buffers of member_chunk x eval_chunk images (measured 6-8) + weights."""
    from .mnas import largest_activation
    nbytes = 4 if cfg.dtype == "float32" else 8
    return nbytes * (7 * cfg.member_chunk * cfg.eval_chunk * largest_activation(in_shape, h)
                     + cfg.members_per_job * 3 * params)


def _cells(law, kind: str, alphas, Ts, Ps, seeds: int, h: int, B: int, cap: int) -> tuple[int, float]:
    """(runs, predicted total steps) of a grid: each run min(cap, t*/dt) from the measured law; without a law
    every run at the cap."""
    A, T, P = (g.ravel() for g in np.meshgrid(np.asarray(alphas, float), np.asarray(Ts, float),
                                              np.asarray(Ps, float), indexing="ij"))
    runs = len(A) * seeds
    if law is None:
        return runs, float(runs * cap)
    t = stopping.phase_time(law, A, T, P) if kind == "phase" else stopping.lazy_time(law, T, P)
    return runs, float(seeds * stopping.steps(t, T, h, B, cap).sum())


def _sweep(name, runs, total, cap, params, step_flops, eval_flops, P_eval, cfg, peak, ds, note) -> SweepPlan:
    """One sweep priced at its predicted steps, and (``worst_flops``) with every run at the cap."""
    evals = (total / cfg.check_every * P_eval + runs * cfg.n_test) * eval_flops
    worst = (runs * cap * step_flops + (runs * cap / cfg.check_every * P_eval + runs * cfg.n_test) * eval_flops)
    flops = total * step_flops + evals
    return SweepPlan(CHAPTER, name, runs, int(total / max(runs, 1)),
                     params, flops, peak, (ds,), note, worst_flops=worst)


def plan(cfg: SGDRegimesConfig, law: dict | None = None) -> list[SweepPlan]:
    """Per sweep: runs, predicted steps per run (the quick run's measured stopping-time law, ``stopping``; the cap
    when no law is stored), parameters, FLOPs (3 x forward per trained point, plus evaluations), peak bytes."""
    law = stopping.load(CHAPTER) if law is None else law
    how = ("steps: t*/dt from the stopping-time law measured in the quick run" if law else
           "steps = the cap (no stored stopping-time law: run the quick profile first)")
    out, B, bytes_ = [], cfg.batch_size, 4 if cfg.dtype == "float32" else 8
    fc = _fc_params(cfg, 784)
    runs, total = _cells(law, "phase", cfg.phase_alphas, cfg.phase_T, (cfg.phase_P,), cfg.phase_seeds, cfg.width, B,
                         cfg.phase_max_steps)
    out.append(_sweep("phase diagram (FC GELU, MNIST)", runs, total, cfg.phase_max_steps, fc, 6 * B * fc, 2 * fc,
                      cfg.phase_P, cfg, _fc_peak(cfg, 784, fc, bytes_), "mnist", how))
    for ds in cfg.lazy_datasets:
        d = 784 if ds == "mnist" else 3072
        p = _fc_params(cfg, d)
        runs, total = _cells(law, "lazy", (cfg.lazy_alpha,), cfg.lazy_T, cfg.lazy_P, cfg.seeds, cfg.width, B,
                             cfg.max_steps)
        out.append(_sweep(f"lazy sweep (FC, {ds})", runs, total, cfg.max_steps, p, 6 * B * p, 2 * p,
                          max(cfg.lazy_P), cfg, _fc_peak(cfg, d, p, bytes_), ds, how))
    mnas_sweeps = [(f"lazy sweep (MNAS, {ds})", ds, cfg.mnas_width, B, "lazy", (cfg.lazy_alpha,), cfg.mnas_T,
                    cfg.mnas_P, cfg.mnas_seeds, cfg.max_steps) for ds in cfg.mnas_datasets]
    mnas_sweeps += [(f"phase diagram (MNAS, {ds})", ds, cfg.mnas_phase_width, cfg.mnas_phase_batch_size, "phase",
                     cfg.mnas_phase_alphas, cfg.mnas_phase_T, (cfg.phase_P,), cfg.mnas_phase_seeds,
                     cfg.phase_max_steps) for ds in cfg.mnas_phase_datasets]
    for name, ds, h, bs, kind, alphas, Ts, Ps, seeds, cap in mnas_sweeps:
        p, f = _mnas_cost(cfg, ds, h)
        runs, total = _cells(law, kind, alphas, Ts, Ps, seeds, h, bs, cap)
        out.append(_sweep(name, runs, total, cap, p, 3 * bs * f, f, max(Ps), cfg,
                          mnas_peak_bytes(cfg, IN_SHAPE[ds], h, p), ds,
                          how + " (the FC nets' law, assumed for the CNN); peak: 7 activation-sized buffers of "
                          "member_chunk x eval_chunk images (measured)"))
    cells = [estimate_cost(P, cfg.perc_d, cfg.perc_alpha * T, chi, cfg.perc_batch_size)
             for chi in cfg.perc_chis for P in cfg.perc_P for T in cfg.perc_T]
    out.append(SweepPlan(CHAPTER, "perceptron (event-driven)", len(cells) * cfg.perc_seeds,
                         int(max(n for n, _ in cells)), cfg.perc_d, cfg.perc_seeds * sum(f for _, f in cells),
                         8 * max(cfg.perc_P) * (cfg.perc_d + min(max(cfg.perc_P), 4096)), (),
                         "CPU simulation; steps = SGD updates, estimated from a power law fitted on measured runs"))
    return out


def probe(cfg: SGDRegimesConfig) -> SweepProbe:
    """The GPU check's probe (``make gpu-check``): the costliest MNAS sweep (the heaviest sweep of the paper preset:
    the MNAS phase diagram), one MNAS at that sweep's width and batch size (the sweep trains members in chunks)."""
    from .mnas import mnas

    sweeps = [s for s in plan(cfg) if s.name.startswith(("lazy sweep (MNAS", "phase diagram (MNAS"))]
    if not sweeps:
        raise ValueError("no MNAS sweep in this config: nothing to probe")
    heaviest = max(sweeps, key=lambda s: s.flops)
    ds, phase = heaviest.datasets[0], heaviest.name.startswith("phase")
    h = cfg.mnas_phase_width if phase else cfg.mnas_width
    return SweepProbe(CHAPTER, heaviest.name, lambda: mnas(IN_SHAPE[ds][0], h), IN_SHAPE[ds],
                      cfg.mnas_phase_batch_size if phase else cfg.batch_size)
