"""What a profile of chapter 4 costs before it runs: per group of settings, runs, steps, FLOPs and peak memory."""
from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode

from ...core.models import count_params
from ...pipeline.plan import SweepPlan, SweepProbe
from .config import CHAPTER, GradientStructureConfig, epochs_of, settings
from .spectrum import param_blocks

SHAPES = {"mnist": (1, 28, 28, 10), "fashion_mnist": (1, 28, 28, 10), "cifar10": (3, 32, 32, 10),
          "cifar100": (3, 32, 32, 100)}
N_TRAIN = {"mnist": 60_000, "fashion_mnist": 60_000, "cifar10": 50_000, "cifar100": 50_000}


def _model(name: str, dataset: str, cfg: GradientStructureConfig):
    """The setting's model (a shape-only stand-in dataset)."""
    from types import SimpleNamespace

    from .recipe import build_model

    c, h, w, k = SHAPES[dataset]
    return build_model(name, SimpleNamespace(x=torch.zeros(1, c, h, w), classes=k), cfg.fcn_widths, cfg.resnet_width,
                       fcn_bias=cfg.fcn_bias)


def _forward_flops(model, dataset: str) -> int:
    """FLOPs of one forward pass of one image (torch's flop counter)."""
    c, h, w, _ = SHAPES[dataset]
    with FlopCounterMode(display=False) as counter:
        model.eval()(torch.zeros(1, c, h, w))
    return counter.get_total_flops()


def setting_cost(cfg: GradientStructureConfig, dataset: str, name: str, batch_size: int) -> tuple[int, int, float, int]:
    """(steps, params, FLOPs, peak bytes) of one run: training, per-stage tests, Gram and eigendecomposition."""
    model = _model(name, dataset, cfg)
    p, fwd = count_params(model), _forward_flops(model, dataset)
    n_train, n = min(cfg.n_train, N_TRAIN[dataset]), cfg.n_spectrum
    steps = epochs_of(cfg, dataset) * (n_train // batch_size)
    blocks = len(param_blocks(model, n, cfg.gram_block_bytes))
    per_stage = 3 * fwd * (n_train + cfg.n_draws * batch_size)  # full gradient and minibatch draws
    per_spec = 3 * fwd * n * blocks + 2 * n * n * p + 4 * n ** 3 + 2 * 1000 * n * n  # blocks, Gram, eig, S K S^T
    flops = 3 * fwd * batch_size * steps + len(cfg.stages) * (per_stage + 3 * fwd * n * blocks)
    flops += len(cfg.spectrum_stages) * per_spec
    peak = 4 * (3 * p + n_train * SHAPES[dataset][0] * 28 * 28) + cfg.gram_block_bytes + 12 * n * n
    return steps, p, float(flops), int(peak)


def plan(cfg: GradientStructureConfig) -> list[SweepPlan]:
    """One plan row per setting group: (dataset x model) at B, ResNet18, and the batch-size sweep."""
    groups: dict[str, list] = {}
    for d, m, b in settings(cfg):
        key = "batch-size sweep" if b != cfg.batch_size else "ResNet18" if m == "resnet18" else "LeNet / FCN"
        groups.setdefault(key, []).append((d, m, b))
    rows = []
    for key, sets in groups.items():
        costs = [setting_cost(cfg, d, m, b) for d, m, b in sets]
        rows.append(SweepPlan(chapter=CHAPTER, name=key, runs=len(sets), steps=max(c[0] for c in costs),
                              params=max(c[1] for c in costs), flops=sum(c[2] for c in costs),
                              peak_bytes=max(c[3] for c in costs), datasets=tuple(dict.fromkeys(d for d, _, _ in sets)),
                              note=f"n_spectrum={cfg.n_spectrum}: Gram 2 n^2 P and eigh 4 n^3 per spectrum stage; "
                                   "training 3x forward FLOPs (torch flop counter) per sample"))
    return rows


def probe(cfg: GradientStructureConfig) -> SweepProbe:
    """The GPU check's probe (``make gpu-check``): the costliest setting's model at its batch size, named by its
    plan row (the heaviest row of the paper preset: ResNet18)."""
    d, m, b = max(settings(cfg), key=lambda s: setting_cost(cfg, *s)[2])
    row = "batch-size sweep" if b != cfg.batch_size else "ResNet18" if m == "resnet18" else "LeNet / FCN"
    return SweepProbe(CHAPTER, row, lambda: _model(m, d, cfg), SHAPES[d][:3], b)
