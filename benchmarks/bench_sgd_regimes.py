"""Benchmark (issue 4): 16 FC nets (5x128, P = 1024, B = 16, 2000 steps) as one vectorised ensemble vs 16 runs.

Baseline: the same ``train_ensemble`` code called 16 times with one member (identical seeds and batches).
Prints the wall times, the speed-up ratio (target >= 3x on the 2-core CPU) and the largest weight difference.
Usage: python benchmarks/bench_sgd_regimes.py [--steps 2000] [--members 16] [--device auto] [--dtype float32] [--step]
"""
from __future__ import annotations

import argparse
import json

import torch

from paper_repro.experiments.sgd_regimes.bench import benchmark_ensemble, benchmark_step


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--members", type=int, default=16)
    ap.add_argument("--P", type=int, default=1024)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 is fastest on a shared CPU)")
    ap.add_argument("--step", action="store_true", help="also time one SGD step: vmap(grad) vs hand-written backprop")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.step:
        s = benchmark_step()
        print(f"SGD step of 24 stacked MLPs (P = 4096, B = 16): vmap {s['vmap'] * 1e3:.1f} ms, hand-written "
              f"{s['handwritten'] * 1e3:.1f} ms, ratio {s['ratio']:.2f}x (same run)")
    r = benchmark_ensemble(members=args.members, P=args.P, steps=args.steps, dtype=args.dtype, device=args.device)
    print(f"device {r.device}, {r.members} nets x {r.steps} steps, {args.dtype}, {args.threads} thread(s)")
    print(f"ensemble   : {r.ensemble_s:8.2f} s")
    print(f"sequential : {r.sequential_s:8.2f} s")
    print(f"ratio sequential/ensemble = {r.speedup:.2f}x (target >= 3x); max |w_ens - w_seq| = {r.max_abs_diff:.2e}")
    print(json.dumps({"speedup": r.speedup, "ensemble_s": r.ensemble_s, "sequential_s": r.sequential_s,
                      "max_abs_diff": r.max_abs_diff, "device": r.device}))


if __name__ == "__main__":
    main()
