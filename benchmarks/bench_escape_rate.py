"""Benchmark of the escape-rate chapter's fast paths against the generic baselines they replace.

1. Empirical NTK of the Fig. 1 MLP (784-100-100-1): layer factorisation (decoupling.ntk_gram) vs
   torch.func Jacobian + J J^T (paper_repro.core.gradients.output_jacobian).
2. Noise strength of an FC net on 10 outputs: factorised per-sample norms vs torch.func per_sample_grads.
3. Linear-regression chains: M chains per numpy step (linear_sgd) vs the same chains as a torch tensor on the
   fastest device here (the issue's question: does a GPU pay for chains this small?).
Run: .venv/bin/python benchmarks/bench_escape_rate.py [--n 2000] [--chains 100]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from paper_repro.core import gradients, models
from paper_repro.experiments.escape_rate import decoupling as ed
from paper_repro.experiments.escape_rate import linear_sgd
from paper_repro.experiments.escape_rate import noise_strength as ns


def timed(fn, repeat: int = 2):
    """Best wall time of ``repeat`` calls and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def torch_chain(p, lr: float, chains: int, steps: int, device: str) -> float:
    """The same SGD chains (B = 1) as one torch tensor per step on ``device``; returns the last mean loss."""
    x, y = torch.as_tensor(p.x, device=device), torch.as_tensor(p.y, device=device)
    theta = torch.zeros(chains, p.d, dtype=torch.float64, device=device)
    gen = torch.Generator(device=device).manual_seed(0)
    for _ in range(steps):
        idx = torch.randint(len(y), (chains,), generator=gen, device=device)
        xb = x[idx]
        theta = theta - lr * ((xb * theta).sum(1) - y[idx])[:, None] * xb
    return float(theta.pow(2).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--chains", type=int, default=100)
    args = parser.parse_args()
    torch.manual_seed(0)
    x = torch.rand(args.n, 784)

    model = models.mlp(784, [100, 100], 1, bias=True, init="glorot")
    t_fast, k_fast = timed(lambda: ed.ntk_gram(model, x))
    t_base, jac = timed(lambda: gradients.output_jacobian(model, x).double())
    err = float((k_fast - jac @ jac.T).abs().max() / k_fast.abs().max())
    print(f"NTK Gram, N={args.n}: factorised {t_fast:.2f}s vs torch.func Jacobian {t_base:.2f}s "
          f"-> ratio {t_base / t_fast:.1f}x, max rel diff {err:.1e}")

    net = models.mlp(784, [256, 256, 256], 10, bias=True, init="glorot")
    y = torch.nn.functional.one_hot(torch.randint(0, 10, (args.n,)), 10).float()
    t_fast, n_fast = timed(lambda: ns.noise_strength(net, ns.half_sq, x, y))

    def base():
        g = gradients.per_sample_grads(net, ns.half_sq, x, y, chunk_size=128).double()
        return float((g * g).sum(1).mean() - g.mean(0).pow(2).sum())

    t_base, n_base = timed(base, repeat=1)
    print(f"noise strength, N={args.n}, FC 3x256: factorised {t_fast:.2f}s vs torch.func per-sample grads "
          f"{t_base:.2f}s -> ratio {t_base / t_fast:.1f}x, rel diff {abs(n_fast / n_base - 1):.1e}")

    p = linear_sgd.make_problem(10_000, 1)
    steps = 2000
    t_np, _ = timed(lambda: linear_sgd.stationary_samples(p, 0.25, 1, args.chains, steps - 1, 1, 1))
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    t_torch, _ = timed(lambda: torch_chain(p, 0.25, args.chains, steps, dev))
    print(f"linear chains, {args.chains} chains x {steps} steps: numpy {t_np * 1e6 / steps:.0f} us/step vs torch "
          f"on {dev} {t_torch * 1e6 / steps:.0f} us/step -> ratio {t_torch / t_np:.1f}x")


if __name__ == "__main__":
    torch.set_num_threads(1)
    np.seterr(over="ignore")
    main()
