"""What a profile of chapter 5 costs before it runs: per net, runs, steps, FLOPs and peak memory."""
from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode

from ...core.models import count_params
from ...pipeline.plan import SweepPlan, SweepProbe
from .config import CHAPTER, NET_DATA, SynthesisConfig, runs

SHAPES = {"mnist": (1, 28, 28, 10), "fashion_mnist": (1, 28, 28, 10), "cifar10": (3, 32, 32, 10)}
N_TRAIN = {"mnist": 60_000, "fashion_mnist": 60_000, "cifar10": 50_000}


def _model(net: str, cfg: SynthesisConfig):
    from types import SimpleNamespace

    from .run import build_net

    c, h, w, k = SHAPES[NET_DATA[net]]
    model = build_net(net, SimpleNamespace(x=torch.zeros(1, c, h, w), classes=k), cfg, 0)
    model(torch.zeros(2, c, h, w))
    return model


def net_cost(cfg: SynthesisConfig, net: str) -> tuple[int, int, float, int]:
    """(max steps, params, FLOPs of all its runs, peak bytes of one run) for one net."""
    model = _model(net, cfg)
    c, h, w, _ = SHAPES[NET_DATA[net]]
    with FlopCounterMode(display=False) as counter:
        model.eval()(torch.zeros(1, c, h, w))
    fwd, p = counter.get_total_flops(), count_params(model)
    n = min(cfg.n_train, N_TRAIN[NET_DATA[net]])
    my = [r for r in runs(cfg) if r[0] == net]
    steps = [cfg.epochs * n // b for _, _, _, b, _ in my]
    per_ck = 3 * fwd * cfg.n_pool * 3 + 4 * fwd * cfg.n_pool * 3 * cfg.lanczos_ncv + 2 * cfg.n_pool ** 2 * p
    per_ck += 20 * cfg.n_batches * p  # pooled estimators, variants, scale mixtures
    flops = sum(3 * fwd * b * (s + cfg.late_steps) + len(cfg.stages) * per_ck
                for (_, _, _, b, _), s in zip(my, steps))
    peak = 4 * (3 * cfg.n_pool * p + 4 * cfg.n_batches * p + n * c * h * w)
    return max(steps), p, float(flops), int(peak)


def plan(cfg: SynthesisConfig) -> list[SweepPlan]:
    """One plan row per net: its (loss x T x B x seed) runs."""
    rows = []
    for net in cfg.nets:
        steps, p, flops, peak = net_cost(cfg, net)
        rows.append(SweepPlan(chapter=CHAPTER, name=f"{net} shared runs", runs=sum(r[0] == net for r in runs(cfg)),
                              steps=steps, params=p, flops=flops, peak_bytes=peak, datasets=(NET_DATA[net],),
                              note="training 3x forward FLOPs per sample (torch flop counter); per checkpoint "
                                   "per-sample gradients of n_pool samples, Lanczos HVPs, Gram n_pool^2 P"))
    return rows


def probe(cfg: SynthesisConfig) -> SweepProbe:
    """The GPU check's probe: the costliest net at the smallest batch size."""
    net = max(cfg.nets, key=lambda n: net_cost(cfg, n)[2])
    c, h, w, _ = SHAPES[NET_DATA[net]]
    return SweepProbe(CHAPTER, f"{net} shared runs", lambda: _model(net, cfg), (c, h, w), min(cfg.batch_sizes))
