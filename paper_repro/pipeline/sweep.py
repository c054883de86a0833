"""Grids of runs through submitit (inline, local subprocesses or Slurm), resumable: one atomic JSON per run."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import time
import traceback
import warnings
from pathlib import Path
from typing import Any, Callable, Sequence

from ..core.config import check_choice
from ..core.progress import progress as progress_bar
from ..core.results import atomic_write_bytes, to_jsonable

EXECUTORS = ("inline", "local", "slurm")
STATUSES = ("ok", "diverged", "failed")


class Diverged(Exception):
    """Raised by a run function whose dynamics blew up (recorded as status "diverged")."""


class SweepError(RuntimeError):
    """Some runs failed with an error (not a divergence); their tracebacks are in the message."""


@dataclasses.dataclass(frozen=True)
class SweepOptions:
    """Where a chapter's sweeps run; filled from the chapter's papermill parameters / the CLI flags."""

    executor: str = "inline"  # inline (this process) | local (subprocesses) | slurm (cluster jobs)
    workers: int = 2  # local subprocesses the runs are split into (Slurm: array_parallelism jobs)
    slurm_partition: str = ""  # Slurm partition ("" = the cluster's default)
    gpus_per_node: int = 0  # GPUs requested per Slurm job
    timeout_min: int = 600  # time limit per job (minutes)
    array_parallelism: int = 16  # Slurm jobs running at once

    def __post_init__(self) -> None:
        from ..core.config import ConfigError, check_positive

        check_choice("executor", self.executor, EXECUTORS)
        for name in ("workers", "timeout_min", "array_parallelism"):
            check_positive(name, getattr(self, name), integer=True)
        if isinstance(self.gpus_per_node, bool) or not isinstance(self.gpus_per_node, int) or self.gpus_per_node < 0:
            raise ConfigError(f"gpus_per_node={self.gpus_per_node!r} must be an integer >= 0")

    def run_kwargs(self) -> dict:
        """Keyword arguments for :func:`run_sweep` (executor, workers and the submitit parameters)."""
        kw: dict[str, Any] = {"executor": self.executor, "workers": self.workers}
        if self.executor == "slurm":  # the runs are split into array_parallelism jobs, all running at once
            kw.update(workers=self.array_parallelism, timeout_min=self.timeout_min,
                      slurm_array_parallelism=self.array_parallelism)
            if self.slurm_partition:
                kw["slurm_partition"] = self.slurm_partition
            if self.gpus_per_node:
                kw["gpus_per_node"] = self.gpus_per_node
        elif self.executor == "local":
            kw["timeout_min"] = self.timeout_min
        return kw


def config_key(fn: Callable, config: Any) -> str:
    """Stable hash of the run function's name and the config's fields: the run's file name."""
    payload = {"fn": f"{fn.__module__}.{fn.__qualname__}", "config": to_jsonable(config)}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:20]


def _checksum(record: dict) -> str:
    body = {k: v for k, v in record.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _non_finite(metrics: Any) -> bool:
    """True when any number in ``metrics`` (nested) is NaN or inf."""
    if isinstance(metrics, dict):
        return any(_non_finite(v) for v in metrics.values())
    if isinstance(metrics, (list, tuple)):
        return any(_non_finite(v) for v in metrics)
    try:
        return isinstance(float(metrics), float) and not math.isfinite(float(metrics))
    except (TypeError, ValueError):
        return False


def execute_one(fn: Callable, config: Any, out_dir: str | Path) -> dict:
    """Run ``fn(config)``, classify it ok / diverged / failed, and write ok and diverged runs atomically."""
    key, start = config_key(fn, config), time.time()
    try:
        metrics = fn(config)
        status = "diverged" if _non_finite(metrics) else "ok"
        error = ""
    except (Diverged, FloatingPointError) as exc:
        metrics, status, error = {}, "diverged", f"{type(exc).__name__}: {exc}"
    except Exception:  # noqa: BLE001 - recorded, reported by run_sweep
        metrics, status, error = {}, "failed", traceback.format_exc()
    record = {"key": key, "fn": f"{fn.__module__}.{fn.__qualname__}", "config": to_jsonable(config),
              "status": status, "metrics": to_jsonable(metrics), "error": error,
              "seconds": round(time.time() - start, 4)}
    record["checksum"] = _checksum(record)
    if status != "failed":
        atomic_write_bytes(Path(out_dir) / f"{key}.json", json.dumps(record, allow_nan=False).encode())
    return record


def load_record(path: Path) -> dict | None:
    """A finished run's record, or None when the file is unreadable or its checksum does not match."""
    try:
        record = json.loads(Path(path).read_text())
        if record.get("checksum") == _checksum(record) and record.get("status") in STATUSES:
            return record
    except (OSError, ValueError, AttributeError):
        pass
    return None


def _run_chunk(fn: Callable, configs: Sequence[Any], out_dir: str) -> list[dict]:
    """Worker body for submitit jobs: runs its configs one after the other."""
    return [execute_one(fn, c, out_dir) for c in configs]


def run_sweep(fn: Callable[[Any], dict], configs: Sequence[Any], out_dir: str | Path, executor: str = "inline",
              *, workers: int = 2, progress: bool = True, strict: bool = True, **executor_kwargs) -> list[dict]:
    """Run ``fn`` on every config not finished yet in ``out_dir``; return all records in config order.

    ``executor``: "inline" (this process), "local" (``workers`` subprocesses via submitit) or "slurm"
    (``workers`` Slurm jobs; ``executor_kwargs`` go to ``AutoExecutor.update_parameters``, e.g.
    ``slurm_partition="gpu", gpus_per_node=1, timeout_min=600``). Failed runs raise SweepError when ``strict``.
    """
    check_choice("executor", executor, EXECUTORS)
    if any(not dataclasses.is_dataclass(c) for c in configs):
        raise TypeError("every config must be a (frozen) dataclass instance")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    keys = [config_key(fn, c) for c in configs]
    done: dict[str, dict] = {}
    for key in set(keys):
        path = out_dir / f"{key}.json"
        if path.exists():
            record = load_record(path)
            if record is None:
                warnings.warn(f"corrupted result {path} will be recomputed", stacklevel=2)
            else:
                done[key] = record
    todo = [c for c, k in zip(configs, keys) if k not in done]
    todo = list({config_key(fn, c): c for c in todo}.values())  # duplicates run once
    if executor == "inline":
        new = [execute_one(fn, c, out_dir) for c in progress_bar(todo, desc="sweep", disable=not progress)]
    elif todo:
        new = _submit(fn, todo, out_dir, executor, workers, executor_kwargs)
    else:
        new = []
    done.update({r["key"]: r for r in new})
    failed = [r for r in new if r["status"] == "failed"]
    if failed and strict:
        raise SweepError(f"{len(failed)} of {len(todo)} runs failed; first traceback:\n{failed[0]['error']}")
    return [done[k] for k in keys if k in done]


def _submit(fn, todo, out_dir: Path, executor: str, workers: int, kwargs: dict) -> list[dict]:
    """Split ``todo`` into ``workers`` chunks and run them as submitit jobs; wait for all of them.

    Every run writes its record as soon as it finishes, so a job that is cancelled, killed or times out loses only
    its unfinished runs: SweepError (after every job ended) says so, and the next call resumes.
    """
    import submitit

    folder = out_dir / "_submitit"
    ex = submitit.LocalExecutor(folder=folder) if executor == "local" else submitit.AutoExecutor(
        folder=folder, cluster="slurm")
    ex.update_parameters(timeout_min=kwargs.pop("timeout_min", 24 * 60), **kwargs)
    chunks = [todo[i::workers] for i in range(min(workers, len(todo)))]
    jobs = [ex.submit(_run_chunk, fn, chunk, str(out_dir)) for chunk in chunks]
    ended = _wait(jobs, executor)
    records, errors = [], []
    for job in jobs:
        if not ended[job.job_id]:
            errors.append(f"job {job.job_id} ended without a result (cancelled, killed or out of time)")
            continue
        try:
            records += job.result()
        except Exception as exc:  # noqa: BLE001 - reported together below
            errors.append(f"job {job.job_id}: {type(exc).__name__}: {str(exc).strip().splitlines()[-1][:300]}")
    if errors:
        raise SweepError(f"{len(errors)} of {len(jobs)} jobs did not finish ({errors[0]}); the runs they finished "
                         f"are saved in {out_dir}: run again to resume")
    return records


def _slurm_live() -> set[str] | None:
    """Ids of the Slurm jobs still pending, running or completing (None when squeue does not answer)."""
    import subprocess

    try:
        proc = subprocess.run(["squeue", "-h", "-o", "%i"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return set(proc.stdout.split()) if proc.returncode == 0 else None


def _wait(jobs, executor: str, poll: float = 1.0) -> dict[str, bool]:
    """Wait until every job ended; {job id: whether it left a result}. Slurm jobs are followed with squeue
    (sacct needs accounting storage, which many clusters and test set-ups lack): a job without a result that
    squeue no longer lists twice in a row ended without one."""
    ended: dict[str, bool] = {}
    gone: dict[str, int] = {}
    while len(ended) < len(jobs):
        live = _slurm_live() if executor == "slurm" else None
        for job in jobs:
            if job.job_id in ended:
                continue
            if job.paths.result_pickle.exists():
                ended[job.job_id] = True
            elif executor != "slurm" and job.done():
                ended[job.job_id] = job.paths.result_pickle.exists()
            elif live is not None and job.job_id not in live:
                gone[job.job_id] = gone.get(job.job_id, 0) + 1
                if gone[job.job_id] >= 3:
                    ended[job.job_id] = job.paths.result_pickle.exists()
        if len(ended) < len(jobs):
            time.sleep(poll)
    return ended


def load_sweep(out_dir: str | Path) -> list[dict]:
    """Every valid record in a sweep folder (for analysis after the fact)."""
    return [r for p in sorted(Path(out_dir).glob("*.json")) if (r := load_record(p)) is not None]
