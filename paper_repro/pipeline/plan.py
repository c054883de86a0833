"""Run plans: what a profile will cost before it runs (runs, steps, FLOPs, peak memory, datasets, time).

Each chapter package exports ``plan(cfg) -> list[SweepPlan]`` computed from its config's shapes;
``python -m paper_repro plan [CHAPTER...] --profile paper`` prints them with a time estimate on two devices:
this machine's CPU, at a float32 matrix-multiply rate measured when the plan is printed, and a GPU, at a rate
stated as an assumption with its source (:data:`GPU_ASSUMPTION`) until one is measured: ``make gpu-check``
(:mod:`paper_repro.pipeline.gpu_check`) times each chapter's heaviest sweep on a GPU and writes
``book/gpu_rate.json`` (:data:`GPU_RATE_FILE`, or ``$PAPER_REPRO_GPU_RATE``); a chapter measured there is priced at
its measured rate. The CPU column and the assumed GPU are *peak-rate* estimates: small models, data loading and
Python overhead make real runs slower, so read them as lower bounds.
"""
from __future__ import annotations

import dataclasses
import functools
import importlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from ..core.results import REPO_ROOT
from .chapters import chapters as book_chapters
from .chapters import find_chapter

CONTRACT = ("CHAPTER", "PRESETS", "shrink", "paper_paths", "plan", "datasets")
# The GPU the estimates assume until a rate is measured on one: NVIDIA A100 (SXM), dense FP32 without tensor cores.
GPU_ASSUMPTION = {"device": "NVIDIA A100 (SXM, 80 GB)", "flops": 19.5e12, "memory_bytes": 80e9,
                  "source": "NVIDIA A100 Tensor Core GPU datasheet: peak FP32 19.5 TFLOP/s, 80 GB HBM2e"}
GPU_RATE_FILE = REPO_ROOT / "book" / "gpu_rate.json"  # written by `make gpu-check` (pipeline/gpu_check.py)
GPU_RATE_ENV = "PAPER_REPRO_GPU_RATE"  # another rate file ("" = none: the assumption everywhere)


@dataclasses.dataclass(frozen=True)
class SweepPlan:
    """The planned cost of one sweep (or one measurement) of a chapter, computed from the config's shapes."""

    chapter: str  # chapter name, e.g. "tail_index"
    name: str  # sweep / measurement name as the chapter calls it, e.g. "width sweep"
    runs: int  # independent runs (grid points x seeds)
    steps: int  # optimisation steps (or chain steps) per run
    params: int  # parameters per model (0 when there is no model, e.g. a scalar chain)
    flops: float  # total floating-point operations of the whole sweep (all runs, all steps, all measurements)
    peak_bytes: int  # peak memory of one run (device memory on a GPU), from the shapes
    datasets: tuple[str, ...] = ()  # datasets the sweep reads (names accepted by paper_repro.core.fetch)
    note: str = ""  # how the numbers were derived / what dominates
    worst_flops: float = 0.0  # FLOPs if every run went to its step cap (0: the same as flops: no early stopping)

    @property
    def worst(self) -> float:
        """FLOPs in the worst case (every run at its cap)."""
        return max(self.worst_flops, self.flops)


@dataclasses.dataclass(frozen=True)
class SweepProbe:
    """What ``make gpu-check`` times for a chapter's heaviest sweep (the chapter's ``plan.probe(cfg)``): that
    sweep's model trained at its batch size."""

    chapter: str  # chapter name
    sweep: str  # the SweepPlan name it stands for (the chapter's heaviest sweep by planned FLOPs)
    build: Callable  # () -> torch.nn.Module: the sweep's (largest) model, on the CPU
    sample_shape: tuple  # one input sample, e.g. (3, 32, 32)
    batch_size: int  # the sweep's SGD batch size


@dataclasses.dataclass(frozen=True)
class ChapterPlan:
    """A chapter's plan for one profile: its sweeps, the datasets it needs and which of them are on disk."""

    chapter: str  # chapter name
    profile: str  # smoke | quick | paper
    sweeps: tuple[SweepPlan, ...]  # the chapter's plan(cfg)
    datasets: tuple[str, ...]  # the chapter's datasets(cfg)
    present: tuple[bool, ...]  # whether each dataset is on disk and verified
    error: str = ""  # why there is no plan (chapter package not following the contract), "" otherwise

    @property
    def runs(self) -> int:
        return sum(s.runs for s in self.sweeps)

    @property
    def flops(self) -> float:
        return sum(s.flops for s in self.sweeps)

    @property
    def worst(self) -> float:
        return sum(s.worst for s in self.sweeps)

    @property
    def peak_bytes(self) -> int:
        return max((s.peak_bytes for s in self.sweeps), default=0)

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(d for d, ok in zip(self.datasets, self.present) if not ok)


def chapter_package(chapter: str) -> ModuleType:
    """``paper_repro.experiments.<chapter>``; ValueError when it does not export the plan contract."""
    pkg = importlib.import_module(f"paper_repro.experiments.{chapter}")
    lacking = [a for a in CONTRACT if not hasattr(pkg, a)]
    if lacking:
        raise ValueError(f"paper_repro.experiments.{chapter} does not export {', '.join(lacking)}")
    return pkg


def chapter_plan(chapter: str, profile: str = "paper") -> ChapterPlan:
    """The plan of one chapter's ``profile`` preset (an error entry when the chapter cannot plan)."""
    from ..core.fetch import dataset_present

    try:
        pkg = chapter_package(chapter)
        cfg = pkg.PRESETS[profile]
        sweeps, names = tuple(pkg.plan(cfg)), tuple(pkg.datasets(cfg))
    except (ImportError, ValueError, KeyError) as exc:
        return ChapterPlan(chapter, profile, (), (), (), f"{type(exc).__name__}: {exc}")
    return ChapterPlan(chapter, profile, sweeps, names, tuple(dataset_present(d) for d in names))


@functools.lru_cache(maxsize=1)
def cpu_rate(n: int = 512, seconds: float = 0.3) -> float:
    """Float32 matrix-multiply rate of this machine's CPU (FLOP/s, torch's current thread count), measured now."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b  # warm-up
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        count += 1
    return 2 * n ** 3 * count / (time.perf_counter() - start)


def gpu_rates(path: str | Path | None = None) -> dict:
    """The measured GPU rates (``make gpu-check``): ``{"device": ..., "measured": ..., "chapters": {name: {"sweep",
    "flops_per_s", ...}}}``, or {} when none was measured (``$PAPER_REPRO_GPU_RATE`` overrides the file)."""
    path = path if path is not None else os.environ.get(GPU_RATE_ENV, GPU_RATE_FILE)
    if not path or not Path(path).is_file():
        return {}
    return json.loads(Path(path).read_text())


def gpu_rate(chapter: str, rates: dict) -> tuple[float, bool]:
    """(FLOP/s, measured?) that prices ``chapter``'s GPU column: its measured rate, else the assumed peak."""
    measured = rates.get("chapters", {}).get(chapter, {}).get("flops_per_s")
    return (float(measured), True) if measured else (GPU_ASSUMPTION["flops"], False)


def _gpu_line(rates: dict) -> str:
    """What the GPU column means: the measurement (device, date, rate per chapter) and/or the assumption."""
    gpu = GPU_ASSUMPTION
    assumed = (f"{gpu['device']} at {gpu['flops'] / 1e12:.1f} TFLOP/s ({gpu['source']})")
    if not rates.get("chapters"):
        return f"GPU assumed {assumed}"
    each = ", ".join(f"{c} {r['flops_per_s'] / 1e12:.3g} TFLOP/s" for c, r in rates["chapters"].items())
    return (f"GPU measured on {rates.get('device', '?')} ({rates.get('measured', '?')}, `make gpu-check`: each "
            f"chapter's heaviest sweep trained at its batch size: {each}); chapters not measured: assumed {assumed}")


def _threads() -> int:
    import torch

    return torch.get_num_threads()


def human_bytes(n: float) -> str:
    """1.5 GB, 340 MB, 12 kB."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:.0f} B"


def human_time(seconds: float) -> str:
    """42 s, 3.5 min, 2.1 h, 3.2 d, 4.7 y."""
    for unit, size in (("y", 365 * 86400), ("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.2g} s"


def _worst(s, gpu: float) -> str:
    return human_time(s.worst / gpu) if s.worst > 1.001 * s.flops else "same"


def _rows(plan: ChapterPlan, cpu: float, gpu: float) -> list[list[str]]:
    rows = [[s.name, f"{s.runs:,}", f"{s.steps:,}", f"{s.params:,}", f"{s.flops:.3g}", human_bytes(s.peak_bytes),
             human_time(s.flops / cpu), human_time(s.flops / gpu), _worst(s, gpu)] for s in plan.sweeps]
    rows.append(["total", f"{plan.runs:,}", "", "", f"{plan.flops:.3g}", human_bytes(plan.peak_bytes),
                 human_time(plan.flops / cpu), human_time(plan.flops / gpu), _worst(plan, gpu)])
    return rows


HEAD = ["sweep", "runs", "steps/run", "params/model", "FLOPs", "peak memory/run", "CPU here", "GPU (assumed)",
        "GPU, every run at its cap"]
KEY_FIRST = (0, 7, 8, 6, 1, 2, 3, 4, 5)  # the page's columns: sweep, GPU (predicted, at the cap), CPU, runs, shapes


def _head(measured: bool) -> list[str]:
    return HEAD[:-2] + ["GPU (measured)" if measured else "GPU (assumed)", HEAD[-1]]


def _datasets_line(plan: ChapterPlan) -> str:
    return ", ".join(f"{d} ({'present' if ok else 'MISSING'})" for d, ok in zip(plan.datasets, plan.present)) or "none"


def plan_text(chapters: list[str] | None = None, profile: str = "paper") -> tuple[str, list[str]]:
    """The printed plan of ``chapters`` (default: all) and the datasets missing for it."""
    names = [find_chapter(c).name for c in chapters] if chapters else [c.name for c in book_chapters()]
    cpu, rates = cpu_rate(), gpu_rates()
    lines = [f"Plan of the {profile!r} profile. Estimated times: CPU here at a measured {cpu / 1e9:.1f} GFLOP/s "
             f"(float32 matmul peak, {_threads()} threads; a lower bound); {_gpu_line(rates)}.", ""]
    missing: list[str] = []
    for name in names:
        plan = chapter_plan(name, profile)
        lines.append(f"== {name}")
        if plan.error:
            lines += [f"   no plan: {plan.error}", ""]
            continue
        gpu, measured = gpu_rate(name, rates)
        rows = [_head(measured)] + _rows(plan, cpu, gpu)
        widths = [max(len(r[i]) for r in rows) for i in range(len(HEAD))]
        lines += ["   " + "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
                  for r in rows]
        lines += [f"   datasets: {_datasets_line(plan)}", ""]
        missing += [d for d in plan.missing if d not in missing]
    if missing:
        lines.append(f"MISSING datasets: {', '.join(missing)}")
    return "\n".join(lines), missing


def plan_markdown(profile: str = "paper", chapters: list[str] | None = None, plans: dict | None = None) -> str:
    """The plan as Markdown tables, one per chapter (for the "Running the book" page, generated at build time);
    ``plans`` ({chapter: ChapterPlan}) saves planning again what the caller already planned."""
    names = chapters or [c.name for c in book_chapters()]
    cpu, rates = cpu_rate(), gpu_rates()
    out = [f"Computed from each chapter's `plan()` of its `{profile}` preset when this page was built. *CPU here*: "
           f"at {cpu / 1e9:.1f} GFLOP/s, a float32 matrix-multiply peak measured on the machine that built this "
           f"page (a lower bound). *GPU*: {_gpu_line(rates)}.", ""]
    for name in names:
        plan = (plans or {}).get(name) or chapter_plan(name, profile)
        out.append(f"**[{name}]({name})** — datasets: {_datasets_line(plan).replace('MISSING', 'not on this machine')}")
        out.append("")
        if plan.error:
            out += [f"No plan: {plan.error}.", ""]
            continue
        gpu, measured = gpu_rate(name, rates)
        order = KEY_FIRST  # what a reader decides on (the sweep, its GPU and CPU time) before the shapes behind it
        out += ["| " + " | ".join(_head(measured)[i] for i in order) + " |", "|---|" + "---:|" * (len(HEAD) - 1)]
        out += ["| " + " | ".join(r[i] for i in order) + " |" for r in _rows(plan, cpu, gpu)]
        out.append("")
    return "\n".join(out)


def gpu_time_line(profile: str = "paper", chapters: list[str] | None = None, plans: dict | None = None) -> str:
    """One line for the profiles table: the plan's GPU time per chapter and in total (measured rate where
    ``make gpu-check`` ran, else the assumed peak), e.g. "about 108 d on one GPU as planned (tail_index 3.1 h, ...)";
    ``plans`` as in :func:`plan_markdown`."""
    names = chapters or [c.name for c in book_chapters()]
    rates, each, total, total_worst = gpu_rates(), [], 0.0, 0.0
    for name in names:
        plan = (plans or {}).get(name) or chapter_plan(name, profile)
        if plan.error:
            each.append(f"{name} not planned")
            continue
        rate = gpu_rate(name, rates)[0]
        seconds, worst = plan.flops / rate, plan.worst / rate
        total += seconds
        total_worst += worst
        each.append(f"{name} {human_time(seconds)}" + (f" (at most {human_time(worst)})" if worst > 1.001 * seconds
                                                       else ""))
    if total <= 0:
        return f"not planned ({', '.join(each)})"
    most = f", at most {human_time(total_worst)} if every run went to its cap" if total_worst > 1.001 * total else ""
    return f"about {human_time(total)} on one GPU as planned{most} ({', '.join(each)}; the plan below says how)"
