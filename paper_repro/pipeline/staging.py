"""Where runs go, per profile, and how a finished run replaces the last good one (atomic renames).

A run executes into staging; only a run whose every cell succeeded is moved into place, so a failed or interrupted
run never destroys good work. :func:`choose_notebooks` picks, per chapter, the notebook the book shows.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..core.results import REPO_ROOT, output_root
from .chapters import chapters

# Where runs go, per profile (a smoke run never overwrites a paper run):
#   <out>/notebooks/<label>/<chapter>.ipynb         last good executed notebook
#   <out>/notebooks/<label>/<chapter>.failed.ipynb  partial notebook of the last failed / interrupted run
#   <out>/<label>/<chapter>/                        last good results (figures, JSON/NPZ, claims, sweeps)
#   <out>/.staging/<label>/<chapter>/               the running (or last failed) run's output root
# <label> is the profile, or "<profile>-shrink" for a paper-shaped tiny run (never taken for the book by default).
LABEL_RANK = ("paper", "quick", "smoke", "paper-shrink", "quick-shrink", "smoke-shrink")  # build's preference


def run_label(profile: str, shrink: bool = False) -> str:
    """The folder name of a run: the profile, with ``-shrink`` for a shrunk (tiny, paper-shaped) run."""
    return f"{profile}-shrink" if shrink else profile


def notebooks_dir(out: Path | None = None, label: str | None = None) -> Path:
    """Where executed notebooks go (outside book/): ``<out>/notebooks`` or its per-profile folder ``label``."""
    base = Path(out or output_root()) / "notebooks"
    return base / label if label else base


def results_root(out: Path | None = None, label: str = "quick") -> Path:
    """The output root of one profile's last good runs: ``<out>/<label>`` (holds ``<chapter>/`` folders)."""
    return Path(out or output_root()) / label


def move_into_place(staging: Path, dest_root: Path) -> None:
    """Replace each ``dest_root/<entry>`` by ``staging/<entry>`` (rename, old copy removed afterwards)."""
    dest_root.mkdir(parents=True, exist_ok=True)
    for entry in sorted(staging.iterdir()):
        dest = dest_root / entry.name
        old = dest_root / f".{entry.name}.replaced"
        shutil.rmtree(old, ignore_errors=True)
        if dest.exists():
            os.replace(dest, old)
        os.replace(entry, dest)
        shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(staging, ignore_errors=True)


def label_root(out: Path | None, label: str | None) -> Path:
    """Results root of a label; the output root itself for notebooks of the old flat layout (label None)."""
    return results_root(out, label) if label else Path(out or output_root())


def executed_notebooks(out: Path | None = None) -> dict[str, dict[str | None, Path]]:
    """Every good executed notebook: ``{chapter: {label: path}}`` (label None: the old flat layout)."""
    found: dict[str, dict[str | None, Path]] = {}
    base = notebooks_dir(out)
    for path in sorted(base.glob("*.ipynb")):
        if not path.name.endswith(".failed.ipynb") and not path.name.startswith("."):
            found.setdefault(path.stem, {})[None] = path
    for label in LABEL_RANK:
        for path in sorted((base / label).glob("*.ipynb")):
            if not path.name.endswith(".failed.ipynb") and not path.name.startswith("."):
                found.setdefault(path.stem, {})[label] = path
    return found


def choose_notebooks(root: Path = REPO_ROOT, out: Path | None = None,
                     profile: str | None = None) -> dict[str, tuple[str | None, Path]]:
    """Per chapter, the notebook the book shows: the profile asked for, else the most expensive one present."""
    found, chosen = executed_notebooks(out), {}
    for ch in chapters(root):
        have = found.get(ch.name, {})
        order = ([profile] if profile else []) + [lb for lb in LABEL_RANK if lb != profile] + [None]
        label = next((lb for lb in order if lb in have), "missing")
        if label != "missing":
            chosen[ch.name] = (label, have[label])
    return chosen
