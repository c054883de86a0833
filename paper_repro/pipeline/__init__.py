"""Running the book: the chapter registry (chapters), papermill execution into staging (execute) and atomic
replacement of the last good run (staging), the book build (build), sweeps inline / local / Slurm (sweep), cost plans
(plan) and measured run times (costs), the command line (cli). Imports from ``core`` and ``present``."""
from . import build, chapters, cli, costs, execute, plan, staging, sweep

__all__ = ["build", "chapters", "cli", "costs", "execute", "plan", "staging", "sweep"]
