"""Launching the book (issue 16 §5): the repository link and Binder/Colab buttons come from pyproject's Repository
URL (overridable), and every chapter's first code cell installs paper_repro where it is missing and does nothing
where it is installed (GUIDE contract 7)."""
from __future__ import annotations

import importlib.util
import subprocess
import tomllib

import pytest

from paper_repro.core.results import REPO_ROOT
from paper_repro.pipeline import build, chapters
from paper_repro.present import site

CHAPTERS = chapters.chapters(REPO_ROOT)
PYPROJECT_URL = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]


def first_code_cells(chapter) -> list[str]:
    import jupytext

    nb = jupytext.read(chapter.path)
    return [c for c in nb.cells if c.cell_type == "code"]


def test_repository_url_from_pyproject_and_env(monkeypatch):
    monkeypatch.delenv(site.REPOSITORY_ENV, raising=False)
    assert site.repository_url() == PYPROJECT_URL.rstrip("/")
    assert site.github_slug(site.repository_url()).count("/") == 1
    monkeypatch.setenv(site.REPOSITORY_ENV, "https://github.com/someone/fork/")
    assert site.repository_url() == "https://github.com/someone/fork"
    monkeypatch.setenv(site.REPOSITORY_ENV, "")  # explicitly none: no buttons
    assert site.repository_url() == "" and site.launch_config("") == {}


def test_launch_config_points_at_published_notebooks():
    cfg = site.launch_config("https://github.com/o/r")
    assert cfg["repository"] == {"url": "https://github.com/o/r", "branch": "gh-pages", "path_to_book": "_sources"}
    assert cfg["html"]["use_repository_button"] is True
    assert {"binderhub_url", "colab_url"} <= set(cfg["launch_buttons"])
    assert site.colab_url("https://github.com/o/r", "tail_index") == \
        "https://colab.research.google.com/github/o/r/blob/gh-pages/_sources/book/tail_index.ipynb"


def test_staged_config_has_buttons_by_default(tmp_path, monkeypatch):
    """The staged _config.yml carries the repository and launch buttons without PAPER_REPRO_REPOSITORY."""
    import yaml

    monkeypatch.delenv(site.REPOSITORY_ENV, raising=False)
    monkeypatch.setattr(site, "vendor_widget_js", lambda stage: [])
    monkeypatch.setattr(site, "vendor_mathjax", lambda stage: "x.js")
    from paper_repro.pipeline import plan

    monkeypatch.setattr(plan, "plan_markdown", lambda *a, **k: "")  # the paper plan's table is not tested here
    out = tmp_path / "out"
    (out / "notebooks").mkdir(parents=True)
    for ch in CHAPTERS:  # empty executed notebooks are enough to stage
        import nbformat

        nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"# {ch.name}")]),
                       out / "notebooks" / f"{ch.name}.ipynb")
    stage = build.stage_book(REPO_ROOT, out, tmp_path / "stage")
    config = yaml.safe_load((stage / "_config.yml").read_text())
    assert config["repository"]["url"] == PYPROJECT_URL.rstrip("/")
    assert config["html"]["use_repository_button"] is True and "colab_url" in config["launch_buttons"]
    assert "paper_repro.present.site" in config["sphinx"]["extra_extensions"]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.name for c in CHAPTERS])
def test_install_cell_is_first_and_matches_pyproject(chapter):
    cells = first_code_cells(chapter)
    assert cells, f"{chapter.name} has no code cell"
    expected = site.install_cell_source(PYPROJECT_URL.rstrip("/"))
    assert cells[0].source.strip() == expected, (
        f"{chapter.name}: the first code cell must be exactly the install cell (GUIDE contract 7):\n{expected}")
    assert "parameters" in cells[1].metadata.get("tags", []), f"{chapter.name}: the parameters cell must follow it"


def test_install_cell_is_a_noop_when_installed_and_installs_when_missing(monkeypatch):
    source = site.install_cell_source(PYPROJECT_URL)
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append((a, k)))
    exec(compile(source, "<install cell>", "exec"), {})
    assert calls == [], "the install cell ran pip although paper_repro is installed"
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "paper_repro" else real(name, *a))
    exec(compile(source, "<install cell>", "exec"), {})
    (args, kwargs), = calls
    assert args[0][-1] == f"paper_repro @ git+{PYPROJECT_URL}" and args[0][1:4] == ["-m", "pip", "install"]
    assert kwargs == {"check": True}


def test_prepare_pages_and_publish_target(tmp_path):
    html = tmp_path / "html"
    with pytest.raises(FileNotFoundError):
        site.prepare_pages(html, "https://github.com/o/r")
    html.mkdir()
    (html / "index.html").write_text("<html></html>")
    site.prepare_pages(html, "https://github.com/o/r")
    assert (html / ".nojekyll").exists()  # GitHub Pages would hide _static/ and _sources/ without it
    assert (html / "requirements.txt").read_text() == "paper_repro @ git+https://github.com/o/r\n"  # Binder
    makefile = (REPO_ROOT / "Makefile").read_text()
    recipe = makefile.split("\npublish:", 1)[1].split("\n\n", 1)[0]
    assert "ghp-import -n -p" in recipe and "_build/html" in recipe and "prepare_pages" in recipe


def test_pages_workflow_builds_and_publishes():
    import yaml

    wf = yaml.safe_load((REPO_ROOT / ".github" / "workflows" / "pages.yml").read_text())
    assert "main" in wf[True]["push"]["branches"]  # PyYAML reads the key `on` as True
    steps = " ".join(str(s.get("run", "")) for job in wf["jobs"].values() for s in job["steps"])
    assert "make book" in steps and "make publish" in steps
    assert wf["permissions"]["contents"] == "write"
