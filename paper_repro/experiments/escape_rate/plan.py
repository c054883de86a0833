"""Planned cost of the escape-rate chapter for a config: runs, steps, parameters, FLOPs, peak memory, datasets."""
from __future__ import annotations

import numpy as np

from ...pipeline.plan import SweepPlan, SweepProbe
from .config import CHAPTER, STAT_VARIANTS, EscapeRateConfig

TRAIN_SIZES = {"mnist": 60_000, "fashion_mnist": 60_000, "cifar10": 50_000}
IN_SHAPES = {"mnist": (1, 28, 28), "fashion_mnist": (1, 28, 28), "cifar10": (3, 32, 32)}


def model_cost(arch: str, widths: tuple, in_shape: tuple) -> tuple[int, float, int]:
    """(parameters, forward FLOPs per sample, activation floats per sample) of the noise-vs-loss model."""
    if arch == "fc":
        dims = [int(np.prod(in_shape)), *widths, 10]
        params = sum(a * b + b for a, b in zip(dims[:-1], dims[1:]))
        return params, 2.0 * params, sum(dims)
    c, side, params, flops, acts = in_shape[0], in_shape[-1], 0, 0.0, 0
    for w in widths:
        for _ in range(3):
            params += 9 * c * w + w
            flops += 2.0 * 9 * c * w * side * side
            acts += w * side * side
            c = w
        side //= 2
    params += c * side * side * 10 + 10
    return params, flops + 2.0 * c * side * side * 10, acts


def plan(cfg: EscapeRateConfig) -> list[SweepPlan]:
    """One SweepPlan per measurement; FLOPs count forward = 2 P, backward = 4 P per sample."""
    out = []
    dims = [784, *cfg.dec_widths, 1]
    p_dec = sum(a * b + b for a, b in zip(dims[:-1], dims[1:]))
    steps = max(cfg.dec_epochs) * (cfg.dec_n_train // cfg.dec_batch_size)
    n = cfg.dec_n_spectrum
    out.append(SweepPlan(CHAPTER, "decoupling spectra (Fig. 1)", 1, steps, p_dec,
                         6.0 * p_dec * cfg.dec_batch_size * steps
                         + len(cfg.dec_epochs) * (6.0 * p_dec * n + 10.0 * n ** 3),
                         int(3 * 8 * n * n), ("mnist",), "N x N Gram and eigh in float64 dominate memory"))
    for ds, arch, widths in cfg.noise_runs:
        params, fwd, acts = model_cost(arch, widths, IN_SHAPES[ds])
        n = min(cfg.noise_n_train, TRAIN_SIZES[ds])
        steps = cfg.noise_epochs * (n // cfg.noise_batch_size)
        meas = cfg.noise_epochs // cfg.noise_every + 1
        chunk = min(max(1, cfg.noise_mem_bytes // (8 * params)), n) if arch == "cnn" else 1024
        peak = (8 * params * chunk if arch == "cnn" else 8 * 1024 * acts * 2) + 4 * np.prod(IN_SHAPES[ds]) * n
        out.append(SweepPlan(CHAPTER, f"noise vs loss, {arch} on {ds} (Fig. 2)", 1, steps, params,
                             3 * fwd * (cfg.noise_batch_size * steps + meas * n), int(peak), (ds,),
                             f"exact N every {cfg.noise_every} epoch(s); per-sample gradients in chunks of {chunk}"))
    stat_runs = len(cfg.stat_lrs) * len(cfg.stat_batches) + len(STAT_VARIANTS)
    stat_steps = cfg.stat_burn_in + cfg.stat_samples * cfg.stat_every
    out.append(SweepPlan(CHAPTER, "stationary phi (Fig. 3a)", stat_runs * cfg.stat_chains, stat_steps, 1,
                         20.0 * stat_runs * cfg.stat_chains * stat_steps * max(cfg.stat_batches),
                         int(8 * cfg.stat_chains * (cfg.stat_samples + 4 * max(cfg.stat_batches))), (),
                         "numpy chains on the CPU, vectorised over chains"))
    curves = len(cfg.esc_variants) * len(cfg.esc_dims) + len(cfg.esc_rademacher_dims)
    out.append(SweepPlan(CHAPTER, "first-passage times (Fig. 3b)", curves * cfg.esc_runs, cfg.esc_max_steps,
                         max(cfg.esc_dims), 30.0 * curves * cfg.esc_runs * cfg.esc_max_steps * max(cfg.esc_dims),
                         int(8 * cfg.esc_runs * (len(cfg.esc_c) + 256 * max(cfg.esc_dims))), (),
                         "upper bound: every run to the step cap; numpy on the CPU"))
    nc_steps = cfg.nc_max_steps + 50
    out.append(SweepPlan(CHAPTER, "critical dimension (Eq. 19)", 2 * len(cfg.nc_dims) * cfg.nc_runs, nc_steps,
                         max(cfg.nc_dims), 20.0 * len(cfg.nc_dims) * cfg.nc_runs * nc_steps * max(cfg.nc_dims),
                         int(8 * cfg.nc_runs * (len(cfg.nc_c) + 4 * max(cfg.nc_dims))), (),
                         "decoupled SDE, fine Euler-Maruyama steps; upper bound: every run to the step cap"))
    return out


def probe(cfg: EscapeRateConfig) -> SweepProbe:
    """The GPU check's probe (``make gpu-check``): the costliest noise-vs-loss model of Fig. 2 (the heaviest sweep
    of the paper preset) at its batch size."""
    from .noise_strength import noise_model

    def cost(run):
        ds, arch, widths = run
        n = min(cfg.noise_n_train, TRAIN_SIZES[ds])
        return model_cost(arch, widths, IN_SHAPES[ds])[1] * (cfg.noise_batch_size * cfg.noise_epochs + n)

    ds, arch, widths = max(cfg.noise_runs, key=cost)
    return SweepProbe(CHAPTER, f"noise vs loss, {arch} on {ds} (Fig. 2)",
                      lambda: noise_model(arch, tuple(widths), IN_SHAPES[ds]), IN_SHAPES[ds], cfg.noise_batch_size)
