"""Every chapter in _toc.yml executed in the smoke profile, then a strict book build from those notebooks."""
import json
import re

import nbformat
import pytest

from paper_repro import runner
from paper_repro.results import REPO_ROOT

CHAPTERS = runner.chapters(REPO_ROOT)


def test_every_toc_chapter_follows_the_rails():
    for ch in CHAPTERS:
        names = [p.name for p in ch.parameters()]
        assert names[:2] == ["profile", "device"] or {"profile", "device"} <= set(names), ch.name
        assert all(p.help for p in ch.parameters()), f"{ch.name}: every parameter needs a # comment"


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
def test_chapter_runs_in_smoke_profile(chapter, smoke_output, monkeypatch):
    monkeypatch.setenv("PAPER_REPRO_OUTPUT", str(smoke_output))
    path = runner.run_chapter(chapter, "smoke", "auto", out=smoke_output, progress=False)
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata["paper_repro"]["profile"] == "smoke"
    assert 0 < nb.metadata["paper_repro"]["widget_state_bytes"] <= 5e6, "explore widget missing or too heavy"
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    figures = list((smoke_output / chapter.name / "figures").glob("*.png"))
    assert figures, f"{chapter.name} saved no figure"
    assert {f.stem for f in figures} == {f.stem for f in (smoke_output / chapter.name / "figures").glob("*.pdf")}
    claims = json.loads((smoke_output / chapter.name / "claims.json").read_text())["claims"]
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
        assert f'href="{ch.name}.html"' in scorecard and f'href="{ch.name}.html"' in report
    assert "embed-amd.js" in (html / "book" / "intro.html").read_text()
