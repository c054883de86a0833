"""Benchmark of chapter 1: one alpha-measurement cycle and SGD iterations, ours vs baselines run in the same run.

The baseline re-implements the released code (Simsekli et al. 2019) faithfully: a DataLoader over a dataset that
turns every uint8 image into a PIL image and then a tensor (torchvision's MNIST + ToTensor), one backward per batch,
each batch gradient copied to the CPU and appended to a list, the list concatenated into the P x M noise matrix,
then the Mohammadi estimator on the pooled vector. Ours: paper_repro's in-memory tensors, vmapped batch gradients
streamed into the estimator, and paper_repro.core.train.sgd_train. Every part runs in its own subprocess (1 thread) so
peak memory (max RSS) is measured per part. A cycle is timed twice in its process: the first (cold: allocator and
torch.func warm-up) and the second (warm, as every later cycle of a training run); ratios use the warm one.
A third baseline is the single-thread FLOP floor of a cycle: the matrix products it cannot avoid (one forward pass
over every sample and one weight-gradient product per batch and layer), timed as the same GEMMs in this run.
Every ratio printed is between timings of this one run; no timing measured elsewhere is used.

    python benchmarks/bench_tail_index.py             # full sizes: 600 train + 100 test batches, 1000 iterations
    python benchmarks/bench_tail_index.py --scale 0.2 # a fifth of the batches and iterations
"""
from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time

import numpy as np
import torch

WIDTH, DEPTH, BATCH = 128, 2, 100


def _mnist_uint8(n_train: int, n_test: int):
    """Raw MNIST uint8 images and labels (the files paper_repro.core.data fetched), as the released code reads them."""
    from torchvision.datasets import MNIST

    from paper_repro.core.data import load_dataset
    from paper_repro.core.fetch import default_root

    load_dataset("mnist", train=False)  # makes sure the files are there
    tr, te = MNIST(str(default_root()), train=True), MNIST(str(default_root()), train=False)
    return (tr.data[:n_train].numpy(), tr.targets[:n_train].numpy(), te.data[:n_test].numpy(),
            te.targets[:n_test].numpy())


MEAN, STD = 0.1307, 0.3081  # the released code's transforms.Normalize statistics for MNIST


class PILDataset(torch.utils.data.Dataset):
    """torchvision.datasets.MNIST.__getitem__ + the released transforms: PIL image -> ToTensor -> Normalize."""

    def __init__(self, images, labels):
        self.images, self.labels = images, labels

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        from PIL import Image
        from torchvision.transforms.functional import normalize, to_tensor

        t = to_tensor(Image.fromarray(self.images[i], mode="L")).type(torch.get_default_dtype())
        return normalize(t, [MEAN], [STD]), int(self.labels[i])


def released_alpha_estimator(m, x):
    """The released code's alpha_estimator(m, X): X is N x d; blocks of m consecutive rows."""
    n = len(x) // m
    y = torch.sum(x.view(n, m, -1), 1)
    eps = np.spacing(1)
    return 1.0 / ((torch.log(y.norm(dim=1) + eps).mean() - torch.log(x.norm(dim=1) + eps).mean()) / math.log(m))


def _accuracy(out, y):
    return 100 * out.max(1)[1].eq(y).sum().float() / y.size(0)


def baseline_noise(net, crit, loader):
    """The released code's eval(): per-batch backward, gradient copied to the CPU, list -> matrix -> alpha."""
    net.eval()
    grads, outputs, total_loss, total_acc = [], [], 0.0, 0.0
    for x, y in loader:
        net.zero_grad()
        out = net(x)
        outputs.append(out)
        loss = crit(out, y)
        total_loss += float(loss) * x.size(0)
        total_acc += float(_accuracy(out, y)) * x.size(0)
        loss.backward()
        grads.append(torch.cat([p.grad.view(-1) for p in net.parameters() if p.requires_grad]).cpu())
    m_params = len(grads[0])
    grads = torch.cat(grads).view(-1, m_params)
    mean_grad = grads.sum(0) / len(grads)
    noise_norm = (grads - mean_grad).norm(dim=1)  # noqa: F841  (kept: the released code computes it)
    n = grads.numel()
    k = max(i for i in range(1, 1 + int(math.sqrt(n))) if n % i == 0)
    return float(released_alpha_estimator(k, (grads - mean_grad).view(-1, 1)))


def part(name: str, n_train: int, n_test: int, iters: int) -> dict:
    """Run one timed part; returns seconds, result and peak RSS of this process."""
    from paper_repro.core.train import sgd_train
    from paper_repro.experiments.tail_index import fc_net, measure_noise, nll_loss

    torch.set_num_threads(1)
    torch.manual_seed(0)
    net = fc_net(784, WIDTH, DEPTH, 10)
    xtr, ytr, xte, yte = _mnist_uint8(n_train, n_test)
    loader = lambda x, y, shuffle: torch.utils.data.DataLoader(PILDataset(x, y), batch_size=BATCH,  # noqa: E731
                                                                shuffle=shuffle)
    if name.startswith("ours"):
        ftr = ((torch.as_tensor(xtr).float() / 255 - MEAN) / STD).unsqueeze(1), torch.as_tensor(ytr)
        fte = ((torch.as_tensor(xte).float() / 255 - MEAN) / STD).unsqueeze(1), torch.as_tensor(yte)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def cycle() -> list[float]:
        if name == "baseline_cycle":
            return [baseline_noise(net, nll_loss, loader(xtr, ytr, False)),
                    baseline_noise(net, nll_loss, loader(xte, yte, False))]
        return [measure_noise(net, nll_loss, *ftr, BATCH, details=False, hist_sample=0).alpha,
                measure_noise(net, nll_loss, *fte, BATCH, details=False, hist_sample=0).alpha]

    if name == "floor_cycle":
        return floor_part(n_train + n_test, rss0)
    first = None
    if name.endswith("_cycle"):  # a cycle recurs every 100 iterations: time a first (cold) and a second (warm) one
        t0 = time.perf_counter()
        cycle()
        first = time.perf_counter() - t0
    t0 = time.perf_counter()
    if name.endswith("_cycle"):
        out = cycle()
    elif name == "baseline_iters":
        opt, done, history = torch.optim.SGD(net.parameters(), lr=0.1), 0, []
        while done < iters:  # the released code's circular train loader (shuffle=False)
            for x, y in loader(xtr, ytr, False):
                net.train()
                opt.zero_grad()
                out = net(x)
                loss = nll_loss(out, y)
                loss.backward()
                history.append([done, loss.item(), _accuracy(out, y).item(),  # its per-iteration logs
                                [p.view(-1).norm() for p in net.parameters()],
                                [p.grad.view(-1).norm() for p in net.parameters()]])
                opt.step()
                done += 1
                if done == iters:
                    break
        out = [len(history)]
    else:
        out = [int(sgd_train(net, nll_loss, *ftr, 0.1, BATCH, iters).steps_run)]
    seconds = time.perf_counter() - t0
    return {"part": name, "seconds": seconds, "first_seconds": first, "result": out, "rss_before_mb": rss0,
            "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def cycle_gemms(n: int) -> tuple[list, float]:
    """The products a cycle cannot avoid, as (callable, FLOPs): forward X W1^T, W2; per batch dW = delta^T X."""
    g = torch.Generator().manual_seed(0)
    nb = n // BATCH
    x, w1 = torch.randn(n, 784, generator=g), torch.randn(784, WIDTH, generator=g)
    w2 = torch.randn(WIDTH, 10, generator=g)
    d1, d2 = torch.randn(nb, WIDTH, BATCH, generator=g), torch.randn(nb, 10, BATCH, generator=g)
    xb, hb = x.view(nb, BATCH, 784), torch.randn(nb, BATCH, WIDTH, generator=g)
    ops = [(lambda: x @ w1, 2 * n * 784 * WIDTH), (lambda: hb.view(n, WIDTH) @ w2, 2 * n * WIDTH * 10),
           (lambda: torch.bmm(d2, hb), 2 * n * WIDTH * 10), (lambda: torch.bmm(d1, xb), 2 * n * 784 * WIDTH)]
    return ops, float(sum(f for _, f in ops))


def floor_part(n: int, rss0: float) -> dict:
    """Time the unavoidable GEMMs of a cycle (best of 3): the floor, and the GEMM rate it implies."""
    ops, flops = cycle_gemms(n)
    best = math.inf
    for _ in range(3):
        t0 = time.perf_counter()
        for op, _f in ops:
            op()
        best = min(best, time.perf_counter() - t0)
    return {"part": "floor_cycle", "seconds": best, "first_seconds": None, "result": [flops, flops / best / 1e9],
            "rss_before_mb": rss0, "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="fraction of the batches and iterations to run")
    ap.add_argument("--part", help=argparse.SUPPRESS)
    args = ap.parse_args()
    n_train, n_test = int(60000 * args.scale) // BATCH * BATCH, int(10000 * args.scale) // BATCH * BATCH
    iters = max(10, int(1000 * args.scale))
    if args.part:
        print(json.dumps(part(args.part, n_train, n_test, iters)))
        return
    res = {}
    for name in ("floor_cycle", "baseline_cycle", "ours_cycle", "baseline_iters", "ours_iters"):
        out = subprocess.run([sys.executable, __file__, "--scale", str(args.scale), "--part", name],
                             capture_output=True, text=True, check=True)
        res[name] = json.loads(out.stdout.strip().splitlines()[-1])
        r = res[name]
        cold = f" (first, cold: {r['first_seconds']:.2f} s)" if r["first_seconds"] is not None else ""
        print(f"{name:>15}: {r['seconds']:8.2f} s{cold}   peak RSS {r['max_rss_mb']:6.0f} MB (before the timed part "
              f"{r['rss_before_mb']:5.0f} MB)   result {r['result']}")
    setting = (f"FC depth {DEPTH} width {WIDTH}, {n_train // BATCH} train + {n_test // BATCH} test batches of "
               f"{BATCH}, {iters} SGD iterations, 1 thread")
    flops, rate = res["floor_cycle"]["result"]
    summary = {"cycle: faithful re-implementation / ours":
               res["baseline_cycle"]["seconds"] / res["ours_cycle"]["seconds"],
               "cycle, cold: faithful re-implementation / ours":
                   res["baseline_cycle"]["first_seconds"] / res["ours_cycle"]["first_seconds"],
               "cycle: ours / FLOP floor": res["ours_cycle"]["seconds"] / res["floor_cycle"]["seconds"],
               "SGD iterations: faithful re-implementation / ours":
                   res["baseline_iters"]["seconds"] / res["ours_iters"]["seconds"],
               "cycle FLOPs (unavoidable GEMMs)": flops, "measured GEMM rate (GFLOP/s, 1 thread)": rate,
               "cycle seconds: ours": res["ours_cycle"]["seconds"],
               "cycle seconds: faithful re-implementation": res["baseline_cycle"]["seconds"],
               "cycle seconds: FLOP floor": res["floor_cycle"]["seconds"]}
    print(f"\n{setting}")
    print(f"alpha-measurement cycle: {summary['cycle: faithful re-implementation / ours']:6.1f}x faster than the "
          f"faithful re-implementation (cold: {summary['cycle, cold: faithful re-implementation / ours']:.1f}x)")
    print(f"alpha-measurement cycle: {summary['cycle: ours / FLOP floor']:6.2f}x the FLOP floor "
          f"({flops / 1e9:.1f} GFLOP at {rate:.0f} GFLOP/s measured here; target <= 2x)")
    print(f"SGD iteration:           {summary['SGD iterations: faithful re-implementation / ours']:6.1f}x faster")
    from paper_repro.core.results import save_json

    save_json("tail_index", "benchmark", {"setting": setting, "parts": res, "summary": summary})


if __name__ == "__main__":
    main()
