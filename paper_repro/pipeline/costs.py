"""Measured cost of each chapter per profile and hardware, for the "Running the book" page.

``python -m paper_repro record-costs`` copies the run times stamped in executed notebooks (see
:func:`paper_repro.pipeline.runner.run_chapter`) into ``book/profile_costs.json``, one entry per (chapter, profile,
hardware); the book build turns that file into a table. Nothing in the table is typed by hand.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from ..core.results import REPO_ROOT

COSTS_FILE = REPO_ROOT / "book" / "profile_costs.json"
COLUMNS = (("smoke", "cpu"), ("quick", "cpu"), ("quick", "cuda"), ("paper", "cuda"))


def hardware(device: str) -> str:
    """A short description of the machine a chapter ran on: CPU cores, or the GPU's name."""
    import torch

    if device.startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_name(torch.device(device))
    return f"{len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()}-core CPU"


def load(path: Path = COSTS_FILE) -> list[dict]:
    """Recorded entries (empty when the file does not exist)."""
    return json.loads(Path(path).read_text())["entries"] if Path(path).exists() else []


def record(rows: list[dict], path: Path = COSTS_FILE) -> list[dict]:
    """Merge executed-notebook metadata rows into ``path``; a newer run replaces the same (chapter, profile,
    device, hardware) entry. Returns the merged entries."""
    keep = ("chapter", "profile", "device", "hardware", "seconds", "finished", "torch")
    entries = {(e["chapter"], e["profile"], e["device"], e["hardware"]): e for e in load(path)}
    for r in rows:
        if not r.get("hardware") or r.get("shrink"):
            continue  # executed before run times carried the hardware, or a shrunk (tiny) run
        e = {k: r.get(k) for k in keep}
        e["device"] = e["device"].split(":")[0]
        entries[(e["chapter"], e["profile"], e["device"], e["hardware"])] = e
    merged = sorted(entries.values(), key=lambda e: (e["chapter"], e["profile"], e["device"], e["hardware"]))
    tmp = Path(path).with_suffix(".part")
    tmp.write_text(json.dumps({"entries": merged}, indent=1) + "\n")
    os.replace(tmp, path)
    return merged


def _cell(entries: list[dict]) -> str:
    if not entries:
        return "not measured"
    def span(s: float) -> str:
        return f"{s:.0f} s" if s < 120 else f"{s / 60:.1f} min"

    return "<br>".join(f"{span(e['seconds'])} ({e['hardware']}, {e['finished'][:10]})" for e in entries)


def costs_markdown(entries: list[dict], chapters: list[str]) -> str:
    """Markdown table: one row per chapter, one column per (profile, device), the measured wall time."""
    head = "| chapter | " + " | ".join(f"`{p}` on {'GPU' if d == 'cuda' else 'CPU'}" for p, d in COLUMNS)
    lines = [head + " |", "|---|" + "---:|" * len(COLUMNS)]
    for ch in chapters:
        cells = [_cell([e for e in entries if (e["chapter"], e["profile"], e["device"]) == (ch, p, d)])
                 for p, d in COLUMNS]
        lines.append(f"| [{ch}]({ch}) | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
