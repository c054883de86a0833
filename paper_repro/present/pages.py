"""What the staged book does to an executed chapter before rendering: machinery cells hidden (they stay in the
downloaded notebook), the chapter's figures copied where each page's images link to them."""
from __future__ import annotations

import shutil
from pathlib import Path

HIDDEN_TAGS = ("parameters", "injected-parameters")  # papermill's cells: removed from the HTML page
INSTALL_MARK = 'find_spec("paper_repro")'  # the install cell every chapter opens with


def _add_tag(cell, tag: str) -> None:
    tags = cell.metadata.setdefault("tags", [])
    if tag not in tags:
        tags.append(tag)


def hide_machinery(notebook: Path) -> int:
    """Tag the parameters, injected-parameters and install cells ``remove-cell`` (``remove-input`` when the cell
    printed something), so a chapter page opens with its title, summary and verdicts, and fold every other code cell's
    source (``hide-input``: a "show code" toggle above its outputs) unless the chapter tagged it itself; returns how
    many cells were removed."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    n = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tags = set(cell.metadata.get("tags", []))
        if tags & set(HIDDEN_TAGS) or INSTALL_MARK in cell.source:
            _add_tag(cell, "remove-input" if cell.get("outputs") else "remove-cell")
            n += 1
        elif not tags & {"remove-cell", "remove-input", "hide-input", "hide-cell", "show-input"}:
            _add_tag(cell, "hide-input")
    nbformat.write(nb, notebook)
    return n


def copy_figures(results: Path, chapter: str, extra: Path) -> list[Path]:
    """Copy ``<results>/figures/*.png`` to ``<extra>/figures/<chapter>/``, the site path each page's figures link to
    (``html_extra_path`` puts ``extra`` at the site root)."""
    src = Path(results) / "figures"
    dest = Path(extra) / "figures" / chapter
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for png in sorted(src.glob("*.png")) if src.is_dir() else []:
        out.append(Path(shutil.copy2(png, dest / png.name)))
    return out


def execution_report_markdown(rows: list[dict]) -> str:
    """Markdown table of each executed chapter's profile, device, run time, date, commit and seeds, then the package
    versions that computed them (from notebook metadata)."""
    if not rows:
        return "No executed notebooks were found.\n"
    lines = ["| chapter | profile | device | run time (s) | finished (UTC) | commit | seeds | widget state (MB) | host |",
             "|---|---|---|---:|---|---|---|---:|---|"]
    for r in rows:
        size = r.get("widget_state_bytes", 0) / 1e6
        seeds = ", ".join(f"{k} = {v}" for k, v in (r.get("seeds") or {}).items()) or "—"
        lines.append(f"| [{r['chapter']}]({r['chapter']}) | {r['profile']} | {r['device']} | {r['seconds']:.1f} | "
                     f"{r['finished']} | {r.get('commit') or '—'} | {seeds} | {size:.2f} | {r.get('host', '')} |")
    total = sum(r["seconds"] for r in rows)
    out = "\n".join(lines) + f"\n\nTotal: {total:.1f} s ({total / 60:.1f} min).\n"
    versions: dict[str, set] = {}
    for r in rows:
        for name, v in (r.get("packages") or {"torch": r.get("torch", "")}).items():
            versions.setdefault(name, set()).add(v)
    if versions:
        out += ("\nPackages: " + ", ".join(f"{n} {' / '.join(sorted(v))}" for n, v in versions.items() if any(v))
                + f"; Python {' / '.join(sorted({r.get('python', '') for r in rows} - {''})) or '—'}.\n")
    return out
