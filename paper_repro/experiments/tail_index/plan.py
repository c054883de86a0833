"""Chapter 1 (Simsekli et al. 2019): paper-shaped tiny configs, the paths a config reaches, and its run plan."""
from __future__ import annotations

import dataclasses
import functools

import torch
from torch import nn

from ...pipeline.plan import SweepPlan, SweepProbe
from .config import CHAPTER, TailIndexConfig, sweep_configs
from .measure import STREAM_CHUNK
from .run import build_model, measured_steps

IMAGE_SHAPES = {"mnist": (1, 28, 28), "fashion_mnist": (1, 28, 28), "cifar10": (3, 32, 32), "cifar100": (3, 32, 32)}
N_CLASSES = {"cifar100": 100}
SYNTHETIC = (("sas", "synthetic", "estimator check"), ("sas", "synthetic", "pooling calibration"),
             ("sde", "simulated", "exit times"), ("fc", "gaussian", "pooling variants at init"))


def shrink(cfg: TailIndexConfig) -> TailIndexConfig:
    """The same sweeps, architectures, datasets and measurements as ``cfg``, every size cut to the minimum."""
    two = lambda values, start: tuple(range(start, start + min(2, len(values))))  # noqa: E731
    return dataclasses.replace(
        cfg, n_train=40, n_test=40, steps=2, seeds=cfg.seeds[:1], widths=two(cfg.widths, 4),
        depths=tuple(dict.fromkeys((cfg.depths[0], cfg.depths[-1]))), base_width=4, batch_sizes=(10, 20),
        batch_size=10, batch_epochs=0.5, k1_fixed=8, track_width=4, track_steps=2, track_every=1, check_every=1,
        track_dense_every=1, track_dense_until=1, phase_boot=20, control_reps=2, control_n=1000,
        synth_sizes=(1000,), synth_reps=1, sde_particles=20, sde_t_max=2.0,
        cnn_channels=two(cfg.cnn_channels, 1) or (1,), cnn_n_train=40)


def paper_paths(cfg: TailIndexConfig) -> set[tuple[str, str, str]]:
    """Every (architecture, dataset, measurement) combination ``cfg`` reaches, from its sweeps."""
    nets = {(r.arch, r.dataset, path_measurement(name, r)) for name, runs in sweep_configs(cfg).items()
            for r in runs}
    return nets | set(SYNTHETIC)


def path_measurement(sweep: str, run) -> str:
    """The measurement name of one net of ``sweep`` (what record_path notes for it)."""
    pixels = "" if run.normalize else ", raw pixels"
    return f"{sweep} sweep, {run.loss} loss{pixels}"


def datasets(cfg: TailIndexConfig) -> tuple[str, ...]:
    """Datasets the config reads (names accepted by paper_repro.core.fetch)."""
    return tuple(dict.fromkeys([cfg.dataset, *cfg.fc_cifar, *cfg.cnn_datasets]))


def flops_per_sample(model: nn.Module, shape: tuple) -> int:
    """Multiply-adds x 2 of one forward pass (Linear and Conv2d layers), from a 1-sample pass."""
    total = [0]

    def hook(mod, inp, out):
        if isinstance(mod, nn.Linear):
            total[0] += 2 * mod.in_features * mod.out_features
        elif isinstance(mod, nn.Conv2d):
            total[0] += 2 * out.numel() * mod.in_channels * mod.kernel_size[0] * mod.kernel_size[1]

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    with torch.no_grad():
        model(torch.zeros(1, *shape))
    for h in handles:
        h.remove()
    return total[0]


@functools.lru_cache(maxsize=256)
def model_cost(arch: str, dataset: str, width: int, depth: int) -> tuple[int, int]:
    """(parameters, forward FLOPs per sample) of one architecture, built once per distinct shape (cached)."""
    from .run import NetRun

    shape = IMAGE_SHAPES[dataset]
    run = NetRun(dataset, 1, 1, width, depth, "nll", 1, 0.1, 1, 0, arch=arch)
    net = build_model(run, torch.zeros(1, *shape), N_CLASSES.get(dataset, 10))
    return sum(p.numel() for p in net.parameters()), flops_per_sample(net, shape)


def _run_cost(run) -> tuple[int, float, int]:
    """(params, FLOPs, peak bytes) of one NetRun: SGD steps + noise measurements (train + test passes)."""
    params, fwd = model_cost(run.arch, run.dataset, run.width, run.depth if run.arch == "fc" else 0)
    points = 1 + len(measured_steps(run)) + run.steps // run.check_every / 4  # accuracy checks: ~1/4 of a point
    flops = 3 * fwd * (run.batch_size * run.steps + points * (run.n_train + run.n_test))
    noise = (run.n_train // run.batch_size) * params
    held = noise if noise <= run.max_elements else min(run.max_elements, STREAM_CHUNK)
    return params, float(flops), int(4 * (4 * held + 8 * params))  # twice the live buffers: measured (test_plan)


def plan(cfg: TailIndexConfig) -> list[SweepPlan]:
    """Per sweep: runs, steps, params per model (largest), total FLOPs and peak bytes of one run, from the shapes."""
    out = []
    for name, runs in sweep_configs(cfg).items():
        if not runs:
            continue
        costs = [_run_cost(r) for r in runs]
        out.append(SweepPlan(CHAPTER, f"{name} sweep", len(runs), max(r.steps for r in runs),
                             max(c[0] for c in costs), sum(c[1] for c in costs), max(c[2] for c in costs),
                             tuple(sorted({r.dataset for r in runs})),
                             note="3 x forward FLOPs per sample x (SGD samples + measured samples); peak = 4 x the "
                                  "noise matrix (or one streamed chunk) + 8 copies of the parameters (measured)"))
    return out


# Results drawn from the device's own random generator: the SDE samples its noise on the device, AlexNet's dropout
# masks come from the device's generator. A GPU run differs there from the CPU run by sampling, not by arithmetic, so
# the GPU check compares them by structure only (pipeline/gpu_check.py; patterns on its result keys).
DEVICE_RANDOM = ("exit_times.npz", 'runs/*"arch": "alexnet"*')


def probe(cfg: TailIndexConfig) -> SweepProbe:
    """The GPU check's probe (``make gpu-check``): the heaviest sweep by planned FLOPs, its costliest net at its
    batch size."""
    name, runs = max(((n, r) for n, r in sweep_configs(cfg).items() if r),
                     key=lambda item: sum(_run_cost(r)[1] for r in item[1]))
    run = max(runs, key=lambda r: _run_cost(r)[1])
    shape = IMAGE_SHAPES[run.dataset]
    return SweepProbe(CHAPTER, f"{name} sweep",
                      lambda: build_model(run, torch.zeros(1, *shape), N_CLASSES.get(run.dataset, 10)), shape,
                      run.batch_size)
