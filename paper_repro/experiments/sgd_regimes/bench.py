"""Speed of the vectorised ensemble: k FC nets as one ensemble vs k single-member runs of the same code."""
from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from ...core.config import resolve_device
from .ensemble import train_ensemble
from .nets import mlp
from .run import load_binary


@dataclass(frozen=True)
class BenchResult:
    """Wall times of the two ways, their ratio and the largest weight difference between them."""

    members: int
    steps: int
    ensemble_s: float
    sequential_s: float
    speedup: float
    max_abs_diff: float   # float round-off only: identical batches and seeds
    device: str


def benchmark_ensemble(members: int = 16, P: int = 1024, steps: int = 2000, width: int = 128, depth: int = 5,
                       batch_size: int = 16, dtype: str = "float32", device: str = "auto") -> BenchResult:
    """Time ``members`` nets (fixed ``steps`` at T = 2^-7, no early stop) as one ensemble and as k runs."""
    dev = resolve_device(device)
    x, y, xt, yt = load_binary("mnist", P, 256, dtype, dev)
    make = lambda s: mlp(x.shape[1], width, depth, seed=s).to(dev, getattr(torch, dtype))  # noqa: E731
    kw = dict(alpha=2.0 ** 15, lr=2.0 ** -7 * width * batch_size, batch_size=batch_size, max_steps=steps,
              check_every=steps, stop_when_fitted=False)
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


def benchmark_step(members: int = 24, P: int = 4096, steps: int = 200, width: int = 128, depth: int = 5,
                   batch_size: int = 16) -> dict:
    """Seconds per SGD step of ``members`` stacked MLPs: vmap(grad) against the hand-written backprop, same run."""
    from .ensemble import _sgd_step, stack, vmap_sgd_step
    params, base = stack([mlp(784, width, depth, seed=s) for s in range(members)])
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(P, 784, generator=g), torch.sign(torch.randn(P, generator=g))
    f0, idx = torch.zeros(members, P), torch.randint(P, (steps, members, batch_size), generator=g)
    alpha, lr = torch.full((members,), 2.0 ** 15), torch.full((members,), 2.0 ** -5 * width * batch_size)
    out = {}
    for name, fn in (("vmap", vmap_sgd_step(base)), ("handwritten", _sgd_step(base))):
        p = {n: v.clone() for n, v in params.items()}
        t0 = time.perf_counter()
        for ib in idx:
            fn(p, x[ib], y[ib], f0.gather(1, ib), alpha, lr)
        out[name] = (time.perf_counter() - t0) / steps
    out["ratio"] = out["vmap"] / out["handwritten"]
    return out
