"""Ready for the first GPU (``make gpu-check``, ``python -m paper_repro gpu-check``): one command that

1. runs the ``paper_paths`` tests with ``$PAPER_REPRO_TEST_DEVICE`` set to the device: each chapter's paper preset
   at tiny size on the CPU and on the device, the numbers each run recorded compared by :func:`compare_results`;
2. probes each chapter's heaviest sweep: the chapter's ``plan.probe(cfg)`` (a :class:`~.plan.SweepProbe`) builds
   that sweep's model for the ``paper`` preset; SGD steps at the sweep's batch size run for ``seconds`` after a
   warm-up; one step's FLOPs (forward + backward) are counted by ``torch.utils.flop_counter``; the rate is FLOPs x
   steps / wall time (device synchronised);
3. writes the rates to ``book/gpu_rate.json`` (``--out``), which ``python -m paper_repro plan`` then uses for the
   GPU column of each measured chapter instead of the assumed A100 peak.

``--device cpu`` runs all of it on the CPU, writing to ``<output root>/gpu_rate.cpu.json`` unless ``--out`` says
otherwise (never over the GPU's file); the test suite exercises the code path that way, cheaply.
"""
from __future__ import annotations

import argparse
import fnmatch
import importlib
import json
import math
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ..core.results import REPO_ROOT, output_root
from .plan import GPU_RATE_FILE, SweepProbe

DEVICE_ENV = "PAPER_REPRO_TEST_DEVICE"  # the device of the tests' device runs (unset: cuda)
# Tolerances of a device run against the CPU run of the same chapter, same configs, same data:
LOSS_RTOL = 1e-2  # training losses (keys with "loss"): float32 over a handful of steps; cuDNN convolutions use TF32
#                   (10-bit mantissa, ~5e-4 per operation) by default on Ampere and newer, and reductions differ
RTOL, ATOL = 5e-2, 1e-6  # every other recorded number (fits, noise statistics, accuracies, spectra)
MAX_OFF = 0.10  # ... of which at most this fraction may lie outside RTOL: statistics with a discrete choice inside
#                 (a power-law fit's x_min, a KS distance, an argmax) jump when their input moves by float rounding
IGNORED = {"seconds", "checksum", "key", "device", "hardware", "finished", "error", "host", "torch"}
# A chapter's plan module may name results drawn from the device's own random generator (``DEVICE_RANDOM``: patterns
# on the keys of :func:`_load`); those are compared by structure only (same keys, lengths and shapes).


def device_under_test() -> str:
    """The device of the tests' device runs: ``$PAPER_REPRO_TEST_DEVICE``, else ``cuda``."""
    return os.environ.get(DEVICE_ENV) or "cuda"


def _strip(obj):
    """A record without the keys that name the machine or the run (device, seconds, checksums)."""
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if k not in IGNORED}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


def _load(folder: Path) -> dict[str, object]:
    """Every recorded number file of a chapter's results: JSON (a sweep record is keyed by its config without the
    device, since the config hash in its file name includes the device) and NPZ arrays."""
    out: dict[str, object] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.suffix == ".json" and rel != "paper_paths.json":
            data = json.loads(path.read_text())
            if isinstance(data, dict) and "config" in data and "metrics" in data:
                config = json.dumps(_strip(data["config"]), sort_keys=True)
                rel = f"{path.parent.relative_to(folder).as_posix()}/{config}"
            out[rel] = _strip(data)
        elif path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                out[rel] = {k: z[k] for k in z.files}
    return out


def _leaves(a, b, where: str, out: list) -> None:
    """(where, a, b) of every pair of numbers; a structural difference is one (where, a, b) with a note."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k not in a or k not in b:
                out.append((f"{where}.{k}", "missing" if k not in a else "present",
                            "missing" if k not in b else "present"))
            else:
                _leaves(a[k], b[k], f"{where}.{k}", out)
    elif isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape or a.dtype.kind not in "fiub" or b.dtype.kind not in "fiub":
            if a.shape != b.shape or not np.array_equal(a, b):
                out.append((where, f"shape {a.shape}", f"shape {b.shape}"))
            return
        for i, (x, y) in enumerate(zip(a.ravel().tolist(), b.ravel().tolist())):
            out.append((f"{where}[{i}]", x, y))
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append((where, f"{len(a)} items", f"{len(b)} items"))
            return
        for i, (x, y) in enumerate(zip(a, b)):
            _leaves(x, y, f"{where}[{i}]", out)
    elif isinstance(a, (bool, int, float)) and isinstance(b, (bool, int, float)):
        out.append((where, a, b))
    elif type(a) is not type(b) and not (a is None or b is None):
        out.append((where, repr(a)[:30], repr(b)[:30]))


def _off(where: str, a, b) -> bool:
    """Whether one pair lies outside its tolerance (NaN equals NaN; a structural note is always off)."""
    if not all(isinstance(v, (bool, int, float)) for v in (a, b)):
        return True
    if isinstance(a, bool) or isinstance(b, bool):
        return a != b
    if math.isnan(a) or math.isnan(b):
        return not (math.isnan(a) and math.isnan(b))
    if math.isinf(a) or math.isinf(b):
        return a != b
    rtol = LOSS_RTOL if "loss" in where.rsplit(".", 1)[-1].lower() else RTOL
    return abs(a - b) > ATOL + rtol * max(abs(a), abs(b))


def _shape(obj):
    """Only the structure of a result: numbers become 0, arrays zeros of their shape."""
    if isinstance(obj, dict):
        return {k: _shape(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_shape(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return np.zeros(obj.shape)
    return 0 if isinstance(obj, (bool, int, float)) else obj


def device_random(chapter: str) -> tuple[str, ...]:
    """The chapter's ``DEVICE_RANDOM`` patterns (results sampled from the device's generator), () when none."""
    return tuple(getattr(importlib.import_module(f"paper_repro.experiments.{chapter}.plan"), "DEVICE_RANDOM", ()))


def compare_results(reference: Path, other: Path, structure_only: tuple[str, ...] = ()) -> tuple[bool, list[str]]:
    """Compare the numbers a chapter recorded in two runs (its results folders): the same files and records, every
    loss within LOSS_RTOL, at most MAX_OFF of the other numbers outside RTOL; results matching a ``structure_only``
    pattern (fnmatch on the keys of :func:`_load`) by keys, lengths and shapes only. Returns (ok, report lines)."""
    ref, oth = _load(Path(reference)), _load(Path(other))
    sampled = [k for k in ref if any(fnmatch.fnmatchcase(k, pat) for pat in structure_only)]
    for data in (ref, oth):
        for k in [k for k in data if any(fnmatch.fnmatchcase(k, pat) for pat in structure_only)]:
            data[k] = _shape(data[k])
    lines = [f"{k}: only in the reference run" for k in sorted(set(ref) - set(oth))]
    lines += [f"{k}: only in the other run" for k in sorted(set(oth) - set(ref))]
    pairs: list = []
    for k in sorted(set(ref) & set(oth)):
        _leaves(ref[k], oth[k], k, pairs)
    off = [(w, a, b) for w, a, b in pairs if _off(w, a, b)]
    losses = [p for p in off if "loss" in p[0].rsplit(".", 1)[-1].lower()]
    others = len([p for p in pairs if "loss" not in p[0].rsplit(".", 1)[-1].lower()])
    frac = (len(off) - len(losses)) / max(1, others)
    ok = not lines and not losses and frac <= MAX_OFF
    lines.append(f"{len(pairs)} numbers compared: {len(losses)} losses outside rtol {LOSS_RTOL:g}, "
                 f"{len(off) - len(losses)} of {others} others outside rtol {RTOL:g} ({frac:.1%}, at most "
                 f"{MAX_OFF:.0%} allowed)" + (f"; {len(sampled)} result(s) drawn from the device's generator "
                                               "compared by structure only" if sampled else ""))
    lines += [f"  {w}: {a!r} vs {b!r}" for w, a, b in sorted(off, key=lambda p: "loss" not in p[0])[:12]]
    return ok, lines


def chapter_probe(chapter: str) -> SweepProbe:
    """The chapter's probe of its heaviest sweep for the ``paper`` preset (ValueError when it has none)."""
    pkg = importlib.import_module(f"paper_repro.experiments.{chapter}")
    hook = getattr(importlib.import_module(f"paper_repro.experiments.{chapter}.plan"), "probe", None)
    if hook is None:
        raise ValueError(f"paper_repro.experiments.{chapter}.plan has no probe(cfg)")
    return hook(pkg.PRESETS["paper"])


def measure(probe: SweepProbe, device: str, seconds: float = 10.0, max_batch: int | None = None) -> dict:
    """Train the probe's model with SGD on random inputs for ``seconds`` on ``device``; the rate in FLOP/s."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    dev = torch.device(device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    batch = min(probe.batch_size, max_batch or probe.batch_size)
    torch.manual_seed(0)
    model = probe.build().to(dev).train()
    x = torch.randn(batch, *probe.sample_shape, device=dev)
    opt = torch.optim.SGD(model.parameters(), lr=1e-4)

    def step():
        opt.zero_grad(set_to_none=True)
        model(x).float().square().mean().backward()
        opt.step()

    with FlopCounterMode(display=False) as counter:
        step()
    flops = counter.get_total_flops()
    step()  # warm-up (kernel selection, caches)
    sync()
    steps, start = 0, time.perf_counter()
    while True:
        step()
        steps += 1
        if steps % 4 == 0 or dev.type != "cuda":
            sync()
            if time.perf_counter() - start >= seconds:
                break
    elapsed = time.perf_counter() - start
    return {"sweep": probe.sweep, "params": sum(p.numel() for p in model.parameters()), "batch_size": batch,
            "sweep_batch_size": probe.batch_size, "flops_per_step": int(flops), "steps": steps,
            "seconds": round(elapsed, 3), "flops_per_s": flops * steps / elapsed}


def device_name(device: str) -> str:
    import torch

    from .costs import hardware

    name = hardware(device)
    return f"{name} (torch {torch.__version__})"


def write_rates(path: Path, device: str, probes: dict[str, dict]) -> Path:
    """The rate file ``plan`` reads (:func:`paper_repro.pipeline.plan.gpu_rates`)."""
    data = {"device": device_name(device), "device_kind": device,
            "measured": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "method": "SGD steps of each chapter's heaviest sweep's model at its batch size on random inputs; "
                      "FLOPs of one step (forward + backward) from torch.utils.flop_counter",
            "chapters": probes}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n")
    return path


def run_paper_paths(device: str, chapters: list[str]) -> int:
    """``pytest -m paper_paths`` on the CPU and on ``device`` (the device runs compared with the CPU runs)."""
    cmd = [sys.executable, "-m", "pytest", "-q", "-ra", "-p", "no:cacheprovider", "-m", "paper_paths",
           str(REPO_ROOT / "tests" / "test_paper_paths.py")]
    if chapters:
        cmd += ["-k", " or ".join(chapters)]
    print("$ " + " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=REPO_ROOT, env={**os.environ, DEVICE_ENV: device}).returncode


def main(argv: list[str] | None = None) -> int:
    from .chapters import chapters as book_chapters

    p = argparse.ArgumentParser(prog="paper-repro gpu-check", description=__doc__.split("\n\n")[0])
    p.add_argument("chapters", nargs="*", help="chapter names (default: all)")
    p.add_argument("--device", default="cuda", help="cuda (default) or cpu (exercises the check without a GPU)")
    p.add_argument("--seconds", type=float, default=10.0, help="timed seconds per probe (default 10)")
    p.add_argument("--max-batch", type=int, default=None, help="cap the probes' batch (cheap CPU runs)")
    p.add_argument("--out", type=Path, default=None,
                   help="rate file (default: book/gpu_rate.json; with --device cpu: <output root>/gpu_rate.cpu.json)")
    p.add_argument("--no-tests", action="store_true", help="only the probes, not the paper_paths tests")
    args = p.parse_args(argv)
    import torch

    if args.device not in ("cuda", "cpu") or (args.device == "cuda" and not torch.cuda.is_available()):
        print(f"error: device {args.device!r}: torch sees no CUDA GPU here (--device cpu runs the check on the CPU)"
              if args.device == "cuda" else f"error: --device must be cuda or cpu, not {args.device!r}",
              file=sys.stderr)
        return 2
    names = args.chapters or [c.name for c in book_chapters()]
    out = args.out or (GPU_RATE_FILE if args.device == "cuda" else output_root() / "gpu_rate.cpu.json")
    started = time.time()
    tests = 0 if args.no_tests else run_paper_paths(args.device, args.chapters)
    probes = {}
    for name in names:
        try:
            probes[name] = measure(chapter_probe(name), args.device, args.seconds, args.max_batch)
        except (ValueError, RuntimeError) as exc:  # no probe, or out of memory: said, the others still run
            print(f"{name}: no probe: {type(exc).__name__}: {exc}".splitlines()[0], file=sys.stderr)
            continue
        r = probes[name]
        print(f"{name}: {r['sweep']}: {r['flops_per_s'] / 1e12:.3g} TFLOP/s ({r['steps']} steps of batch "
              f"{r['batch_size']} in {r['seconds']:.1f} s, {r['flops_per_step']:.3g} FLOPs/step)", flush=True)
    if probes:
        print(f"rates written to {write_rates(out, args.device, probes)}; `python -m paper_repro plan` "
              "prices the GPU column with them")
    verdict = "not run (--no-tests)" if args.no_tests else "passed" if tests == 0 else "FAILED"
    print(f"gpu-check on {args.device}: paper_paths tests {verdict}, {len(probes)}/{len(names)} chapters probed, "
          f"{time.time() - started:.0f} s")
    return 1 if tests or len(probes) < len(names) else 0
