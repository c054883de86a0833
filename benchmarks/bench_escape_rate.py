"""Benchmark of the escape-rate chapter's fast paths against the generic baselines they replace.

1. Empirical NTK of the Fig. 1 MLP (784-100-100-1): layer factorisation (escape_rate_nn.ntk_gram) vs
   torch.func Jacobian + J J^T (paper_repro.gradients.output_jacobian).
2. Noise strength of an FC net on 10 outputs: factorised per-sample norms vs torch.func per_sample_grads.
3. Linear-regression chains: M chains in one tensor (linear_sgd) vs a Python loop over chains.
Run: .venv/bin/python benchmarks/bench_escape_rate.py [--n 2000] [--chains 1000]
"""
from __future__ import annotations

import argparse
import time

import torch

from paper_repro import gradients, linear_sgd, models
from paper_repro.experiments import escape_rate_nn as enn


def timed(fn, repeat: int = 2):
    """Best wall time of ``repeat`` calls and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--chains", type=int, default=1000)
    args = parser.parse_args()
    torch.manual_seed(0)
    x = torch.rand(args.n, 784)

    model = models.mlp(784, [100, 100], 1, bias=True, init="glorot")
    t_fast, k_fast = timed(lambda: enn.ntk_gram(model, x))
    t_base, jac = timed(lambda: gradients.output_jacobian(model, x).double())
    err = float((k_fast - jac @ jac.T).abs().max() / k_fast.abs().max())
    print(f"NTK Gram, N={args.n}: factorised {t_fast:.2f}s vs torch.func Jacobian {t_base:.2f}s "
          f"(Jacobian only, Gram excluded) -> ratio {t_base / t_fast:.1f}x, max rel diff {err:.1e}")

    net = models.mlp(784, [256, 256, 256], 10, bias=True)
    y = torch.nn.functional.one_hot(torch.randint(0, 10, (args.n,)), 10).float()
    t_fast, n_fast = timed(lambda: enn.noise_strength(net, enn.mse, x, y))

    def base():
        g = gradients.per_sample_grads(net, enn.mse, x, y, chunk_size=128).double()
        return float((g * g).sum(1).mean() - g.mean(0).pow(2).sum())

    t_base, n_base = timed(base, repeat=1)
    print(f"noise strength, N={args.n}, FC 3x256: factorised {t_fast:.2f}s vs torch.func per-sample grads "
          f"{t_base:.2f}s -> ratio {t_base / t_fast:.1f}x, rel diff {abs(n_fast / n_base - 1):.1e}")

    p = linear_sgd.make_problem(100_000, 1)
    steps = 200
    t_vec, _ = timed(lambda: linear_sgd.stationary_samples(p, 0.1, 1, args.chains, steps - 1, 1, 1))
    few = max(args.chains // 50, 1)
    t_loop, _ = timed(lambda: [linear_sgd.stationary_samples(p, 0.1, 1, 1, steps - 1, 1, 1, seed=i)
                               for i in range(few)], repeat=1)
    per_chain_loop, per_chain_vec = t_loop / few, t_vec / args.chains
    print(f"linear chains, {steps} steps: vectorised {args.chains} chains {t_vec:.2f}s; loop over chains "
          f"{per_chain_loop * 1e3:.1f} ms/chain -> ratio {per_chain_loop / per_chain_vec:.0f}x per chain")


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
