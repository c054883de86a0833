"""Issue 27: no build residue where a reader looks. Each rule of ``paper_repro.present.residue`` catches a planted
case and passes a clean one; then every chapter's executed smoke notebook and every page of the built smoke book
are checked (history phrases, configuration names in prose, claim ids, raw LaTeX, "± 0.00", printed lines, empty
tables, powers of two printed by %g)."""
import dataclasses
import importlib
import json
import pkgutil

import nbformat
import pytest

from paper_repro.core.results import REPO_ROOT
from paper_repro.pipeline import chapters
from paper_repro.present import residue

CHAPTERS = [c.name for c in chapters.chapters(REPO_ROOT)]


def _nb(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def _code(outputs):
    cell = nbformat.v4.new_code_cell("x = 1")
    cell.outputs = outputs
    return cell


CLEAN = _nb(nbformat.v4.new_markdown_cell("# Title\n\n```{glue:} verdict_box\n```\n\nWe fit $\\alpha$ over "
                                          "{glue:text}`n_test` points with `torch.func`; the error is ± 0.013. The "
                                          "first version of the paper (arXiv) differs.\n\n```python\nn_test = 5\n"
                                          "```"),
            _code([nbformat.v4.new_output("display_data", data={"text/html": "<table><tbody><tr><td>"
                                          '<span class="math notranslate nohighlight">\\(K_1\\)</span></td></tr>'
                                          "</tbody></table>"})]))


@pytest.mark.parametrize("planted, rule", [
    (nbformat.v4.new_markdown_cell("An earlier version of this chapter fitted all points."), "build history"),
    (nbformat.v4.new_markdown_cell("We use `n_test` test points."), "configuration name"),
    (nbformat.v4.new_markdown_cell("```{admonition} Note\n:class: tip\nWe use `n_test` points.\n```"),
     "configuration name"),  # a directive's body is prose
    (_code([nbformat.v4.new_output("display_data", data={"text/html": "<p>rule $d_{ks} &lt; d_c$ holds</p>"})]),
     "raw LaTeX"),
    (nbformat.v4.new_markdown_cell("Row gn_alpha_below_2 says so."), "claim id"),
    (nbformat.v4.new_markdown_cell("The slope is 1.00 ± 0.00 here."), "± 0.00"),
    (nbformat.v4.new_markdown_cell("T = 6.10352e-05 is the smallest."), "%g decimal"),
    (_code([nbformat.v4.new_output("stream", name="stdout", text="done in 3 s\n")]), "printed stdout"),
    (_code([nbformat.v4.new_output("display_data", data={"text/html": "<p>with $K_1$ blocks</p>"})]), "raw LaTeX"),
    (_code([nbformat.v4.new_output("display_data", data={"text/html": "<table><tbody></tbody></table>"})]),
     "empty table"),
])
def test_each_rule_catches_its_case(planted, rule):
    assert residue.notebook_residue(CLEAN, ["n_test"], ["gn_alpha_below_2"]) == []
    found = residue.notebook_residue(_nb(*CLEAN.cells, planted), ["n_test"], ["gn_alpha_below_2"])
    assert found and all(rule in p for p in found), found


def config_names(name: str) -> set[str]:
    """The chapter's parameters and the fields of its package's *Config dataclasses."""
    names = {p.name for p in chapters.find_chapter(name).parameters()}
    package = importlib.import_module(f"paper_repro.experiments.{name}")
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for obj in vars(module).values():
            if isinstance(obj, type) and dataclasses.is_dataclass(obj) and obj.__name__.endswith("Config"):
                names |= {f.name for f in dataclasses.fields(obj)}
    return {n for n in names if "_" in n or len(n) > 3}  # not `lr`, `T`, `P`: symbols the prose may name


def claim_ids(root, name: str) -> list[str]:
    return [c["id"] for path in root.rglob(f"{name}/claims.json") for c in json.loads(path.read_text())["claims"]]


@pytest.mark.chapters
@pytest.mark.parametrize("name", CHAPTERS)
def test_executed_chapter_has_no_residue(name, smoke_notebook, smoke_output):
    nb = nbformat.read(smoke_notebook(name), as_version=4)
    problems = residue.notebook_residue(nb, config_names(name), claim_ids(smoke_output, name))
    assert not problems, f"{name}: residue a reader would meet:\n" + "\n".join(problems)


@pytest.mark.book
def test_built_pages_have_no_residue(smoke_site, smoke_output):
    ids = [i for name in CHAPTERS for i in claim_ids(smoke_output, name)]
    problems = []
    for page in ["index.html", *(f"book/{p}.html" for p in [*CHAPTERS, "scorecard", "running", "intro"])]:
        path = smoke_site / page
        if path.exists():
            problems += residue.html_residue(path.read_text(), page, ids)
    assert not problems, "residue in the built book:\n" + "\n".join(problems)
