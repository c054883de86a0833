"""The book's executable chapters: the ``.py`` files listed in ``_toc.yml`` and their parameters cells."""
from __future__ import annotations

import ast
import dataclasses
from pathlib import Path
from typing import Any

from ..core.config import ConfigError
from ..core.results import REPO_ROOT


@dataclasses.dataclass(frozen=True)
class Parameter:
    """One entry of a chapter's parameters cell."""

    name: str  # variable name
    default: Any  # literal default value
    help: str  # the comment after it
    type: str = ""  # the annotation ("int", "Optional[int]"), "" when the line has none


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
