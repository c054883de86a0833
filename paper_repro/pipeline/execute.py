"""Executing one chapter with papermill (``jupytext.read`` -> ``execute_notebook``) into staging, then into place."""
from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from ..core.config import DEVICES, PROFILES, ConfigError, check_choice
from ..core.results import output_root
from .chapters import Chapter
from .costs import hardware
from .staging import move_into_place, notebooks_dir, results_root, run_label

TIMEOUTS = {"smoke": 600, "quick": 3600, "paper": None}  # per-cell timeout (s) by profile (quick: a cell may train a few nets on a busy 2-core CPU)


class ChapterFailed(RuntimeError):
    """A chapter's execution failed or was interrupted; the last good notebook and results are untouched.

    ``error`` is one line (the exception's type and message, e.g. ``ConfigError: steps=-5 must be ...``),
    ``notebook`` the partial notebook kept beside the good one (``<chapter>.failed.ipynb``), or None.
    """

    def __init__(self, chapter: str, error: str, notebook: Path | None):
        super().__init__(f"{chapter}: {error}" + (f" (partial notebook: {notebook})" if notebook else ""))
        self.chapter, self.error, self.notebook = chapter, error, notebook


def _one_line(exc: BaseException) -> str:
    """The exception a chapter failed with, as one line (``ConfigError: steps=-5 must be ...``)."""
    import papermill as pm

    if isinstance(exc, pm.PapermillExecutionError):
        text = f"{exc.ename}: {exc.evalue}" if exc.evalue else exc.ename
        return text + (f" (cell {exc.exec_count})" if exc.exec_count else "")
    name = type(exc).__name__
    if name == "DeadKernelError":
        return f"the kernel died (killed or out of memory): {exc}".splitlines()[0]
    return f"{name}: {exc}".splitlines()[0]


def run_chapter(chapter: Chapter, profile: str = "quick", device: str = "auto", params: dict | None = None,
                out: Path | None = None, timeout: int | None = -1, progress: bool = True) -> Path:
    """Execute one chapter with papermill; return ``<out>/notebooks/<label>/<name>.ipynb``.

    The notebook executes into a temporary file and the chapter writes into a staging output root (a copy of the
    last good results, so sweeps resume); both move into place only when every cell succeeded. On a failure or an
    interruption the last good notebook and results stay untouched, the partial notebook is kept as
    ``<name>.failed.ipynb`` and :class:`ChapterFailed` names it. ``params["shrink"]`` selects the label
    ``<profile>-shrink``. The kernel runs with ``PAPER_REPRO_OUTPUT`` (the staging root) and ``PAPER_REPRO_BATCH=1``.
    """
    import jupytext
    import nbformat
    import papermill as pm

    from ..core.progress import BATCH_ENV

    check_choice("profile", profile, PROFILES)
    check_choice("device", device, DEVICES)
    resolved = _resolved_device(device)  # ConfigError for cuda without a GPU, before anything runs
    params = dict(params or {})
    known = {p.name for p in chapter.parameters()}
    unknown = sorted(set(params) - known)
    if unknown:
        raise ConfigError(f"chapter {chapter.name} has no parameter(s) {unknown}; it has {sorted(known)}")
    label = run_label(profile, bool(params.get("shrink", False)))
    out = Path(out or output_root()).resolve()
    nb_dir = notebooks_dir(out, label)
    nb_dir.mkdir(parents=True, exist_ok=True)
    target, failed = nb_dir / f"{chapter.name}.ipynb", nb_dir / f"{chapter.name}.failed.ipynb"
    partial = nb_dir / f".{chapter.name}.running.ipynb"
    good_root, staging = results_root(out, label), out / ".staging" / label / chapter.name
    if not staging.exists() and (good_root / chapter.name).exists():  # a failed run's staging is reused (resume)
        shutil.copytree(good_root / chapter.name, staging / chapter.name)
    staging.mkdir(parents=True, exist_ok=True)
    saved_env = {k: os.environ.get(k) for k in ("PAPER_REPRO_OUTPUT", BATCH_ENV)}
    os.environ.update({"PAPER_REPRO_OUTPUT": str(staging), BATCH_ENV: "1"})  # the kernel inherits them
    started = time.time()
    try:
        pm.execute_notebook(jupytext.read(chapter.path), str(partial), parameters={"profile": profile,
                            "device": device, **params}, cwd=str(chapter.path.parent), kernel_name="python3",
                            progress_bar=progress, execution_timeout=TIMEOUTS[profile] if timeout == -1 else timeout)
    except BaseException as exc:
        kept = None
        if partial.exists():
            os.replace(partial, failed)
            kept = failed
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise ChapterFailed(chapter.name, _one_line(exc), kept) from exc
    finally:
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    nb = nbformat.read(partial, as_version=4)
    nb.metadata["paper_repro"] = {"chapter": chapter.name, "profile": profile, "label": label,
                                  "shrink": bool(params.get("shrink", False)), "device_requested": device,
                                  "device": resolved, "seconds": round(time.time() - started, 1),
                                  "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                  "parameters": params, "host": platform.node(), "python": sys.version.split()[0],
                                  "torch": _torch_version(), "hardware": hardware(resolved),
                                  **provenance(chapter, {"profile": profile, **params})}
    nbformat.write(nb, partial)
    from ..present.site import widget_state_bytes

    nb.metadata["paper_repro"]["widget_state_bytes"] = widget_state_bytes(partial)
    nbformat.write(nb, partial)
    move_into_place(staging, good_root)
    os.replace(partial, target)
    failed.unlink(missing_ok=True)
    return target


PACKAGES = ("torch", "torchvision", "numpy", "scipy", "matplotlib", "papermill", "jupytext", "myst-nb",
            "jupyter-book", "paper_repro")  # versions the execution report lists


def provenance(chapter: Chapter, params: dict) -> dict:
    """What a reader needs to re-run this notebook exactly: the repository's commit ("+dirty" with uncommitted
    changes; "" outside git), the seeds it ran with (every parameter named *seed*, given or default) and the versions
    of the packages that computed it."""
    from importlib import metadata

    def run(*cmd: str) -> str:
        try:
            return subprocess.run(cmd, cwd=chapter.path.parent, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    commit = run("git", "rev-parse", "--short=10", "HEAD")
    if commit and run("git", "status", "--porcelain", "--untracked-files=no"):
        commit += "+dirty"
    seeds = {p.name: params.get(p.name, p.default) for p in chapter.parameters()
             if "seed" in p.name and params.get(p.name, p.default) is not None}  # None: the profile's default
    seeds.update(_config_seeds(chapter.name, params))
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return {"commit": commit, "seeds": seeds, "packages": versions}


def _config_seeds(name: str, params: dict) -> dict:
    """Seed fields of the chapter's config as its ``make_config(profile, **overrides)`` builds it ({} when the
    chapter has no such function)."""
    import dataclasses
    import importlib

    try:
        module = importlib.import_module(f"paper_repro.experiments.{name}.config")
        cfg = module.make_config(params.get("profile", "quick"))
        fields = {f.name for f in dataclasses.fields(cfg)} - {"profile"}
        cfg = dataclasses.replace(cfg, **{k: v for k, v in params.items() if k in fields})  # validated again
    except Exception:  # noqa: BLE001 - provenance is best effort: a chapter without make_config records none
        return {}
    return {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg) if "seed" in f.name}


def _resolved_device(device: str) -> str:
    from ..core.config import resolve_device

    return str(resolve_device(device))


def _torch_version() -> str:
    import torch

    return torch.__version__
