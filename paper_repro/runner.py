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
    type: str = ""  # the annotation ("int", "Optional[int]"), "" when the line has none


class ChapterFailed(RuntimeError):
    """A chapter's execution failed or was interrupted; the last good notebook and results are untouched.

    ``error`` is one line (the exception's type and message, e.g. ``ConfigError: steps=-5 must be ...``),
    ``notebook`` the partial notebook kept beside the good one (``<chapter>.failed.ipynb``), or None.
    """

    def __init__(self, chapter: str, error: str, notebook: Path | None):
        super().__init__(f"{chapter}: {error}" + (f" (partial notebook: {notebook})" if notebook else ""))
        self.chapter, self.error, self.notebook = chapter, error, notebook


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
    """Variables, literal defaults, annotations and trailing comments of the ``# %% tags=["parameters"]`` cell.

    Both ``name = value  # help`` and the papermill-parseable ``name: type = value  # help`` are read.
    """
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
            name, annotation = node.targets[0].id, ""
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            name, annotation = node.target.id, ast.literal_eval(node.annotation) if isinstance(
                node.annotation, ast.Constant) else ast.unparse(node.annotation)
        else:
            continue
        line = cell[node.end_lineno - 1]
        rest = line[node.end_col_offset:]
        comment = rest.split("#", 1)[1].strip() if "#" in rest else ""
        params.append(Parameter(name, ast.literal_eval(node.value), comment, str(annotation)))
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


def _move_into_place(staging: Path, dest_root: Path) -> None:
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

    from .display import BATCH_ENV

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
                                  "torch": _torch_version(), "hardware": hardware(resolved)}
    nbformat.write(nb, partial)
    from .site import widget_state_bytes

    nb.metadata["paper_repro"]["widget_state_bytes"] = widget_state_bytes(partial)
    nbformat.write(nb, partial)
    _move_into_place(staging, good_root)
    os.replace(partial, target)
    failed.unlink(missing_ok=True)
    return target


def _resolved_device(device: str) -> str:
    from .config import resolve_device

    return str(resolve_device(device))


def _torch_version() -> str:
    import torch

    return torch.__version__


def stage_book(root: Path = REPO_ROOT, out: Path | None = None, stage: Path | None = None,
               profile: str | None = None) -> Path:
    """Copy the book's sources to a staging folder, each chapter replaced by its executed notebook (of ``profile``,
    else of the most expensive profile present: :func:`choose_notebooks`).

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
    repository = site.repository_url(root)  # $PAPER_REPRO_REPOSITORY, else pyproject's Repository URL
    for key, value in site.launch_config(repository).items():  # header repository link, Binder/Colab buttons
        config[key] = {**config.get(key, {}), **value}
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
    pages = stage / "book"
    if (pages / "scorecard.md").exists():
        claims = {}
        for name, (label, _) in chosen.items():
            claims.update({k: v for k, v in results.load_claims(_label_root(out, label)).items() if k == name})
        site.fill_placeholder(pages / "scorecard.md", "scorecard",
                              site.scorecard_markdown(claims, [(c.name, c.title) for c in chapters(root)]))
    if (pages / "running.md").exists():
        site.fill_placeholder(pages / "running.md", "profile-costs",
                              costs.costs_markdown(costs.load(root / "book" / "profile_costs.json"), [c.name for c in chapters(root)]))
        if "<!-- paper-plan -->" in (pages / "running.md").read_text():
            from . import plan

            site.fill_placeholder(pages / "running.md", "paper-plan", plan.plan_markdown("paper"))
    if (pages / "execution_report.md").exists():
        rows = execution_report(out, {name: path for name, (_, path) in chosen.items()})
        for row in rows:  # which profile each page shows, and whether it is the one asked for
            label = row.get("label", row["profile"])
            row["profile"] = label + (f" (asked: {profile}, not run)" if profile and label != profile else "")
        site.fill_placeholder(pages / "execution_report.md", "execution-report", site.execution_report_markdown(rows))
    return stage


def _label_root(out: Path | None, label: str | None) -> Path:
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
