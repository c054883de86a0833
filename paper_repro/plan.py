"""Run plans: what a profile will cost before it runs (runs, steps, FLOPs, peak memory, datasets, time)."""
from __future__ import annotations

import dataclasses


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
    datasets: tuple[str, ...] = ()  # datasets the sweep reads (names accepted by paper_repro.fetch)
    note: str = ""  # how the numbers were derived / what dominates
