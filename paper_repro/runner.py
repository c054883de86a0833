"""Executing chapters with papermill (jupytext.read -> execute_notebook) and building the book from the results."""
from __future__ import annotations

import ast
import dataclasses
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .config import PROFILES, DEVICES, ConfigError, check_choice
from .costs import hardware
from .results import REPO_ROOT, output_root

TIMEOUTS = {"smoke": 600, "quick": 1800, "paper": None}  # per-cell execution timeout (s) by profile


@dataclasses.dataclass(frozen=True)
class Parameter:
    """One entry of a chapter's parameters cell."""

    name: str  # variable name
    default: Any  # literal default value
    help: str  # the comment after it


@dataclasses.dataclass(frozen=True)
class Chapter:
    """A chapter of the book: a jupytext percent-format ``.py`` file listed in ``_toc.yml``."""

    name: str  # file stem, e.g. "tail_index"
    path: Path  # book/<name>.py
    title: str  # first markdown heading

    def parameters(self) -> list[Parameter]:
        """The parameters cell's variables with defaults and meanings."""
        return parse_parameters(self.path.read_text())


def _toc_files(root: Path) -> list[str]:
    import yaml

    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [toc["root"]]
    stack = list(toc.get("chapters", [])) + [c for p in toc.get("parts", []) for c in p.get("chapters", [])]
    while stack:
        entry = stack.pop(0)
        if "file" in entry:
            files.append(entry["file"])
        stack[:0] = entry.get("sections", [])
    return files


def chapters(root: Path = REPO_ROOT) -> list[Chapter]:
    """Executable chapters in table-of-contents order."""
    out = []
    for entry in _toc_files(root):
        path = root / f"{entry}.py"
        if path.exists():
            title = next((ln.lstrip("# ").strip() for ln in path.read_text().splitlines()
                          if ln.startswith("# # ")), path.stem)
            out.append(Chapter(path.stem, path, title))
    return out


def parse_parameters(source: str) -> list[Parameter]:
    """Variables, literal defaults and trailing comments of the ``# %% tags=["parameters"]`` cell."""
    lines = source.splitlines()
    try:
        start = next(i for i, ln in enumerate(lines) if ln.startswith("# %%") and "parameters" in ln)
    except StopIteration:
        return []
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("# %%")), len(lines))
    cell = lines[start + 1:end]
    params = []
    for node in ast.parse("\n".join(cell)).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            line = cell[node.lineno - 1]
            rest = line[node.end_col_offset:] if node.lineno == node.end_lineno else ""
            comment = rest.split("#", 1)[1].strip() if "#" in rest else ""
            params.append(Parameter(node.targets[0].id, ast.literal_eval(node.value), comment))
    return params


def parse_value(text: str) -> Any:
    """A ``-p NAME VALUE`` value from the command line: a Python literal if it parses, else the string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return {"true": True, "false": False, "none": None}.get(text.lower(), text)


def find_chapter(name: str, root: Path = REPO_ROOT) -> Chapter:
    """The chapter called ``name`` (file stem); ConfigError listing the known ones otherwise."""
    known = chapters(root)
    for ch in known:
        if ch.name == name or ch.path.name == name:
            return ch
    raise ConfigError(f"unknown chapter {name!r}; chapters: {', '.join(c.name for c in known) or '(none)'}")


def notebooks_dir(out: Path | None = None) -> Path:
    """Where executed notebooks go (outside book/)."""
    return Path(out or output_root()) / "notebooks"


def run_chapter(chapter: Chapter, profile: str = "quick", device: str = "auto", params: dict | None = None,
                out: Path | None = None, timeout: int | None = -1, progress: bool = True) -> Path:
    """Execute one chapter with papermill into ``<out>/notebooks/<name>.ipynb`` and stamp run metadata."""
    import jupytext
    import nbformat
    import papermill as pm

    check_choice("profile", profile, PROFILES)
    check_choice("device", device, DEVICES)
    params = dict(params or {})
    known = {p.name for p in chapter.parameters()}
    unknown = sorted(set(params) - known)
    if unknown:
        raise ConfigError(f"chapter {chapter.name} has no parameter(s) {unknown}; it has {sorted(known)}")
    out = Path(out or output_root()).resolve()
    target = notebooks_dir(out) / f"{chapter.name}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    os.environ["PAPER_REPRO_OUTPUT"] = str(out)  # the kernel inherits it
    started = time.time()
    pm.execute_notebook(jupytext.read(chapter.path), str(target), parameters={"profile": profile, "device": device,
                        **params}, cwd=str(chapter.path.parent), kernel_name="python3", progress_bar=progress,
                        execution_timeout=TIMEOUTS[profile] if timeout == -1 else timeout)
    nb = nbformat.read(target, as_version=4)
    nb.metadata["paper_repro"] = {"chapter": chapter.name, "profile": profile, "device_requested": device,
                                  "device": _resolved_device(device), "seconds": round(time.time() - started, 1),
                                  "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                  "parameters": params, "host": platform.node(), "python": sys.version.split()[0],
                                  "torch": _torch_version(), "hardware": hardware(_resolved_device(device))}
    nbformat.write(nb, target)
    from .site import widget_state_bytes

    nb.metadata["paper_repro"]["widget_state_bytes"] = widget_state_bytes(target)
    nbformat.write(nb, target)
    return target


def _resolved_device(device: str) -> str:
    from .config import resolve_device

    return str(resolve_device(device))


def _torch_version() -> str:
    import torch

    return torch.__version__


def stage_book(root: Path = REPO_ROOT, out: Path | None = None, stage: Path | None = None) -> Path:
    """Copy the book's sources to a staging folder, each chapter replaced by its executed notebook.

    Nothing is executed there (``execute_notebooks: "off"``): a notebook run on a GPU is never re-run on the CPU.
    The generated pages (scorecard, execution report) are filled in, the widget JavaScript is vendored into
    ``_static`` and each chapter gets download links for its executed ``.ipynb`` and its ``.py``.
    """
    import yaml

    from . import costs, results, site

    stage = Path(stage or root / "_build" / "stage")
    shutil.rmtree(stage, ignore_errors=True)
    shutil.copytree(root / "book", stage / "book", ignore=shutil.ignore_patterns("*.py", "*.ipynb", "__pycache__",
                                                                                   ".ipynb_checkpoints"))
    config = yaml.safe_load((root / "_config.yml").read_text())
    config.setdefault("execute", {})["execute_notebooks"] = "off"
    sphinx = config.setdefault("sphinx", {})
    try:
        site.vendor_widget_js(stage)
        sphinx.setdefault("extra_extensions", []).append("paper_repro.site")
        sphinx.setdefault("config", {}).update(nb_ipywidgets_js={}, html_extra_path=["_extra"])
    except (RuntimeError, OSError) as exc:  # no npm: myst-nb's CDN links stay
        warnings.warn(f"widget JavaScript not vendored ({exc}); pages will load it from a CDN", stacklevel=2)
    try:
        sphinx.setdefault("config", {})["mathjax_path"] = site.vendor_mathjax(stage)
        sphinx["config"]["html_extra_path"] = ["_extra"]
    except (RuntimeError, OSError) as exc:  # no npm: MathJax comes from its CDN
        warnings.warn(f"MathJax not vendored ({exc}); pages will load it from a CDN", stacklevel=2)
    # pydata theme: an explicit colour mode (an empty one logs a console error on every page)
    sphinx.setdefault("config", {}).setdefault("html_context", {}).setdefault("default_mode", "light")
    repository = os.environ.get("PAPER_REPRO_REPOSITORY")
    if repository:
        config["repository"] = {"url": repository, "branch": "main"}
        config["launch_buttons"] = {"binderhub_url": "https://mybinder.org",
                                    "colab_url": "https://colab.research.google.com", "notebook_interface": "classic"}
    (stage / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    shutil.copy(root / "_toc.yml", stage / "_toc.yml")
    missing = []
    for ch in chapters(root):
        executed = notebooks_dir(out) / f"{ch.name}.ipynb"
        if not executed.exists():
            missing.append(ch.name)
            continue
        target = stage / "book" / f"{ch.name}.ipynb"
        shutil.copy(executed, target)
        (stage / "book" / "_py").mkdir(exist_ok=True)
        shutil.copy(ch.path, stage / "book" / "_py" / ch.path.name)
        site.add_download_cell(target, ch.name, repository)
    if missing:
        raise ConfigError(f"chapter(s) {missing} have no executed notebook in {notebooks_dir(out)}; "
                          f"run `python -m paper_repro run {' '.join(missing)} --profile quick` first")
    pages = stage / "book"
    if (pages / "scorecard.md").exists():
        claims = results.load_claims(Path(out or output_root()))
        site.fill_placeholder(pages / "scorecard.md", "scorecard",
                              site.scorecard_markdown(claims, [(c.name, c.title) for c in chapters(root)]))
    if (pages / "running.md").exists():
        site.fill_placeholder(pages / "running.md", "profile-costs",
                              costs.costs_markdown(costs.load(root / "book" / "profile_costs.json"), [c.name for c in chapters(root)]))
    if (pages / "execution_report.md").exists():
        site.fill_placeholder(pages / "execution_report.md", "execution-report",
                              site.execution_report_markdown(execution_report(out)))
    return stage


def build_book(root: Path = REPO_ROOT, out: Path | None = None, strict: bool = True,
               dest: Path | None = None) -> Path:
    """Render the HTML book into ``<dest>/_build/html`` (dest: the repo) from executed notebooks.

    ``strict`` passes ``-W -n --keep-going``: any warning fails the build.
    """
    dest = Path(dest or root).resolve()
    stage = stage_book(root, out, dest / "_build" / "stage")
    exe = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(exe if exe.exists() else "jupyter-book"), "build", str(stage), "--path-output", str(dest)]
    if strict:
        cmd += ["-W", "-n", "--keep-going"]
    env = {**os.environ, "PAPER_REPRO_OUTPUT": str(Path(out or output_root()).resolve())}
    proc = subprocess.run(cmd, cwd=root, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"book build failed (exit {proc.returncode}): {' '.join(cmd)}")
    return dest / "_build" / "html"


def execution_report(out: Path | None = None) -> list[dict]:
    """Run metadata (profile, device, seconds, date) of every executed notebook."""
    rows = []
    for path in sorted(notebooks_dir(out).glob("*.ipynb")):
        meta = json.loads(path.read_text()).get("metadata", {}).get("paper_repro")
        if meta:
            rows.append(meta)
    return rows
