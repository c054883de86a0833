"""Every chapter in _toc.yml executed in the smoke profile, then a strict book build from those notebooks."""
import json
import re
import subprocess
import sys

import nbformat
import pytest

from paper_repro.core.results import REPO_ROOT
from paper_repro.pipeline import chapters, staging

CHAPTERS = chapters.chapters(REPO_ROOT)


# The GUIDE's contract 1: the first parameters of every chapter, in this order, with these types and defaults.
COMMON = (("profile", "str", "quick"), ("device", "str", "auto"), ("shrink", "bool", False),
          ("executor", "str", "inline"), ("slurm_partition", "str", ""), ("gpus_per_node", "int", 0),
          ("timeout_min", "int", 600), ("array_parallelism", "int", 16))
TYPES = {"str": str, "int": int, "float": float, "bool": bool}


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.name for c in CHAPTERS])
def test_parameters_cell_follows_the_contract(chapter):
    params = chapter.parameters()
    assert [(p.name, p.type, p.default) for p in params[:len(COMMON)]] == list(COMMON)
    for p in params:
        assert p.help, f"{p.name}: every parameter needs a # comment"
        assert p.type, f"{p.name}: annotate it (name: type = value) so papermill can infer it"
        base = re.fullmatch(r"Optional\[(\w+)\]", p.type)
        assert p.type in TYPES or base, f"{p.name}: type {p.type!r} (str, int, float, bool or 'Optional[...]')"
        if p.default is not None and p.type in TYPES:
            assert type(p.default) is TYPES[p.type] or (p.type == "float" and type(p.default) is int), p.name


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.name for c in CHAPTERS])
def test_papermill_help_lists_every_parameter(chapter, tmp_path):
    """``papermill --help-notebook`` (the batch user's view) shows each parameter with its type, default and help."""
    import jupytext

    nb_path = tmp_path / f"{chapter.name}.ipynb"
    jupytext.write(jupytext.read(chapter.path), nb_path)
    proc = subprocess.run([sys.executable, "-m", "papermill", "--help-notebook", str(nb_path)], capture_output=True,
                          text=True, timeout=120)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "Unable to parse" not in text, text
    listed = dict(re.findall(r"^  (\w+): (.+?) \(default", proc.stdout, flags=re.M))
    for p in chapter.parameters():
        assert listed.get(p.name) == p.type, f"{p.name}: papermill infers {listed.get(p.name)!r}, expected {p.type!r}"
        assert p.help in " ".join(proc.stdout.split()), f"{p.name}: help text not shown"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.name for c in CHAPTERS])
def test_chapter_cells_are_short(chapter):
    """Chapters tell the story; reusable code lives in paper_repro (median code cell <= 8 lines, none > 25)."""
    import statistics

    import jupytext

    nb = jupytext.read(chapter.path)
    sizes = [len([ln for ln in c.source.splitlines() if ln.strip()]) for c in nb.cells if c.cell_type == "code"]
    assert sizes and statistics.median(sizes) <= 8 and max(sizes) <= 25, sizes


@pytest.mark.chapters
@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.name for c in CHAPTERS])
def test_chapter_runs_in_smoke_profile(chapter, smoke_notebook, smoke_output):
    path = smoke_notebook(chapter.name)  # executed once per session (conftest.py), shared with test_outputs
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata["paper_repro"]["profile"] == "smoke"
    assert 0 < nb.metadata["paper_repro"]["widget_state_bytes"] <= 5e6, "explore widget missing or too heavy"
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    results = staging.results_root(smoke_output, "smoke") / chapter.name
    figures = list((results / "figures").glob("*.png"))
    assert figures, f"{chapter.name} saved no figure"
    assert {f.stem for f in figures} == {f.stem for f in (results / "figures").glob("*.pdf")}
    claims = json.loads((results / "claims.json").read_text())["claims"]
    assert claims and all(c["ours"] not in ("", None) for c in claims)
    glued = [o["metadata"]["scrapbook"]["name"] for c in nb.cells if c.cell_type == "code"
             for o in c.get("outputs", []) if "scrapbook" in o.get("metadata", {})]
    quoted = {m.split(":")[0] for c in nb.cells if c.cell_type == "markdown"
              for m in re.findall(r"\{glue(?::\w+)?\}`([^`]+)`", c.source)}
    assert len(glued) == len(set(glued)), "a glue name is used twice"
    assert quoted <= set(glued), f"the text quotes values the run did not glue: {quoted - set(glued)}"


@pytest.mark.book
def test_book_builds_strictly_from_smoke_notebooks(smoke_site):
    html = smoke_site
    assert (html / "index.html").exists() and (html / "_static" / "embed-amd.js").exists()
    scorecard = (html / "book" / "scorecard.html").read_text()
    report = (html / "book" / "execution_report.html").read_text()
    for ch in CHAPTERS:
        page = (html / "book" / f"{ch.name}.html").read_text()
        assert "<img" in page, f"{ch.name}: no figure in the built page"
        assert "application/vnd.jupyter.widget-state+json" in page, f"{ch.name}: no kernel-free widget state"
        assert "{glue" not in page, f"{ch.name}: a glue role left unrendered (inside math, or a typo)"
        assert f'href="{ch.name}.html"' in scorecard and f'href="{ch.name}.html"' in report
    assert "embed-amd.js" in (html / "book" / "intro.html").read_text()
