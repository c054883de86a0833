"""Building the HTML book from executed notebooks (never re-executed): staging the sources, filling the generated
pages (scorecard, running costs, execution report), then ``jupyter-book build``."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

from ..core.config import ConfigError
from ..core.results import REPO_ROOT, output_root
from .chapters import chapters
from .staging import choose_notebooks, executed_notebooks, label_root, notebooks_dir


def stage_book(root: Path = REPO_ROOT, out: Path | None = None, stage: Path | None = None,
               profile: str | None = None) -> Path:
    """Copy the book's sources to a staging folder, each chapter replaced by its executed notebook (of ``profile``,
    else of the most expensive profile present: :func:`choose_notebooks`).

    Nothing is executed there (``execute_notebooks: "off"``): a notebook run on a GPU is never re-run on the CPU.
    The generated pages (scorecard, execution report) are filled in, the widget JavaScript is vendored into
    ``_static`` and each chapter gets download links for its executed ``.ipynb`` and its ``.py``.
    """
    import yaml

    from ..core import results
    from ..present import pages as page_edits
    from ..present import site
    from . import costs

    stage = Path(stage or root / "_build" / "stage")
    shutil.rmtree(stage, ignore_errors=True)
    shutil.copytree(root / "book", stage / "book", ignore=shutil.ignore_patterns("*.py", "*.ipynb", "__pycache__",
                                                                                   ".ipynb_checkpoints"))
    config = yaml.safe_load((root / "_config.yml").read_text())
    config.setdefault("execute", {})["execute_notebooks"] = "off"
    sphinx = config.setdefault("sphinx", {})
    try:
        site.vendor_widget_js(stage)
        sphinx.setdefault("extra_extensions", []).append("paper_repro.present.site")
        sphinx.setdefault("config", {}).update(nb_ipywidgets_js={})
    except (RuntimeError, OSError) as exc:  # no npm: myst-nb's CDN links stay
        warnings.warn(f"widget JavaScript not vendored ({exc}); pages will load it from a CDN", stacklevel=2)
    try:
        sphinx.setdefault("config", {})["mathjax_path"] = site.vendor_mathjax(stage)
    except (RuntimeError, OSError) as exc:  # no npm: MathJax comes from its CDN
        warnings.warn(f"MathJax not vendored ({exc}); pages will load it from a CDN", stacklevel=2)
    # pydata theme: an explicit colour mode (an empty one logs a console error on every page)
    sphinx.setdefault("config", {}).setdefault("html_context", {}).setdefault("default_mode", "light")
    repository = site.repository_url(root)  # $PAPER_REPRO_REPOSITORY, else pyproject's Repository URL
    for key, value in site.launch_config(repository).items():  # header repository link, Binder/Colab buttons
        config[key] = {**config.get(key, {}), **value}
    sphinx.setdefault("config", {})["html_extra_path"] = ["_extra"]  # vendored JS/MathJax, full-size figures
    (stage / "_extra").mkdir(parents=True, exist_ok=True)
    (stage / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    shutil.copy(root / "_toc.yml", stage / "_toc.yml")
    chosen = choose_notebooks(root, out, profile)
    missing = [ch.name for ch in chapters(root) if ch.name not in chosen]
    if missing:
        raise ConfigError(f"chapter(s) {missing} have no executed notebook in {notebooks_dir(out)}; "
                          f"run `python -m paper_repro run {' '.join(missing)} --profile {profile or 'quick'}` first")
    for ch in chapters(root):
        target = stage / "book" / f"{ch.name}.ipynb"
        shutil.copy(chosen[ch.name][1], target)
        (stage / "book" / "_py").mkdir(exist_ok=True)
        shutil.copy(ch.path, stage / "book" / "_py" / ch.path.name)
        site.add_download_cell(target, ch.name, repository)
        page_edits.hide_machinery(target)
        page_edits.copy_figures(label_root(out, chosen[ch.name][0]) / ch.name, ch.name, stage / "_extra")
    pages = stage / "book"
    claims = {}
    for name, (label, _) in chosen.items():
        claims.update({k: v for k, v in results.load_claims(label_root(out, label)).items() if k == name})
    listed = [(c.name, c.title) for c in chapters(root)]
    if (pages / "scorecard.md").exists():
        site.fill_placeholder(pages / "scorecard.md", "scorecard", site.scorecard_markdown(claims, listed))
    if "<!-- findings -->" in ((pages / "intro.md").read_text() if (pages / "intro.md").exists() else ""):
        from ..present.scorecard import findings_markdown

        site.fill_placeholder(pages / "intro.md", "findings", findings_markdown(claims, listed))
    if (pages / "running.md").exists():
        site.fill_placeholder(pages / "running.md", "profile-costs",
                              costs.costs_markdown(costs.load(root / "book" / "profile_costs.json"), [n for n, _ in listed]))
        from . import plan

        plans = {c.name: plan.chapter_plan(c.name, "paper") for c in plan.book_chapters()}  # planned once, shown twice
        if "<!-- paper-plan -->" in (pages / "running.md").read_text():
            site.fill_placeholder(pages / "running.md", "paper-plan", plan.plan_markdown("paper", plans=plans))
        if "<!-- paper-gpu-time -->" in (pages / "running.md").read_text():
            site.fill_placeholder(pages / "running.md", "paper-gpu-time", plan.gpu_time_line("paper", plans=plans))
    if (pages / "execution_report.md").exists():
        rows = execution_report(out, {name: path for name, (_, path) in chosen.items()})
        for row in rows:  # which profile each page shows, and whether it is the one asked for
            label = row.get("label", row["profile"])
            row["profile"] = label + (f" (asked: {profile}, not run)" if profile and label != profile else "")
        site.fill_placeholder(pages / "execution_report.md", "execution-report", page_edits.execution_report_markdown(rows))
    return stage


def build_book(root: Path = REPO_ROOT, out: Path | None = None, strict: bool = True,
               dest: Path | None = None, profile: str | None = None) -> Path:
    """Render the HTML book into ``<dest>/_build/html`` (dest: the repo) from executed notebooks.

    Per chapter the notebook of ``profile`` is used, or else the most expensive profile present (paper, quick,
    smoke); the execution report says which. ``strict`` passes ``-W -n --keep-going``: any warning fails the build.
    """
    dest = Path(dest or root).resolve()
    stage = stage_book(root, out, dest / "_build" / "stage", profile)
    exe = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(exe if exe.exists() else "jupyter-book"), "build", str(stage), "--path-output", str(dest)]
    if strict:
        cmd += ["-W", "-n", "--keep-going"]
    env = {**os.environ, "PAPER_REPRO_OUTPUT": str(Path(out or output_root()).resolve())}
    proc = subprocess.run(cmd, cwd=root, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"book build failed (exit {proc.returncode}): {' '.join(cmd)}")
    return dest / "_build" / "html"


def execution_report(out: Path | None = None, paths: dict[str, Path] | None = None) -> list[dict]:
    """Run metadata (profile, device, seconds, date) of the given executed notebooks (default: all of them)."""
    if paths is None:
        paths = {f"{ch}/{lb}": p for ch, by_label in sorted(executed_notebooks(out).items())
                 for lb, p in by_label.items()}
    rows = []
    for path in paths.values():
        meta = json.loads(path.read_text()).get("metadata", {}).get("paper_repro")
        if meta:
            rows.append(meta)
    return rows
