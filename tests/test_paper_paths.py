"""Every (architecture, dataset, measurement) combination of each chapter's ``paper`` preset runs end to end at tiny
size: the chapter executed through papermill with ``profile=paper, shrink=True`` on real MNIST/Fashion-MNIST and
CIFAR-10/100 files in the real format (``paper_repro.testing.tiny_data_root``), figures and claims included.

The combinations come from the chapter package's ``paper_paths(PRESETS["paper"])``, so a setting added to the preset
is covered without editing this test.
"""
import importlib

import nbformat
import pytest

from paper_repro import testing
from paper_repro.core import results
from paper_repro.core.results import REPO_ROOT
from paper_repro.pipeline import chapters, execute, staging

CHAPTERS = chapters.chapters(REPO_ROOT)
CONTRACT = ("CHAPTER", "PRESETS", "shrink", "paper_paths", "plan", "datasets")


def package(chapter):
    """The chapter's package ``paper_repro.experiments.<chapter>`` (the GUIDE's contract 2)."""
    pkg = importlib.import_module(f"paper_repro.experiments.{chapter.name}")
    lacking = [a for a in CONTRACT if not hasattr(pkg, a)]
    assert not lacking, f"paper_repro.experiments.{chapter.name} does not export {lacking}"
    return pkg


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.name for c in CHAPTERS])
def test_shrink_keeps_the_paper_paths(chapter):
    pkg = package(chapter)
    paper = pkg.PRESETS["paper"]
    expected = pkg.paper_paths(paper)
    assert expected and all(len(p) == 3 and all(isinstance(x, str) and x for x in p) for p in expected)
    assert pkg.paper_paths(pkg.shrink(paper)) == expected, "shrink() dropped or added a combination"
    assert set(pkg.datasets(pkg.shrink(paper))) == set(pkg.datasets(paper))


@pytest.mark.paper_paths
@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.name for c in CHAPTERS])
def test_paper_paths_run_at_tiny_size(chapter, tmp_path, monkeypatch):
    pkg = package(chapter)
    expected = pkg.paper_paths(pkg.PRESETS["paper"])
    for key, value in testing.tiny_data_root(tmp_path / "data").items():
        monkeypatch.setenv(key, value)
    out = tmp_path / "out"
    path = execute.run_chapter(chapter, "paper", "cpu", {"shrink": True}, out=out, progress=False)
    assert path == staging.notebooks_dir(out, "paper-shrink") / f"{chapter.name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata["paper_repro"]["shrink"] and nb.metadata["paper_repro"]["profile"] == "paper"
    monkeypatch.setenv("PAPER_REPRO_OUTPUT", str(staging.results_root(out, "paper-shrink")))
    missing = expected - results.recorded_paths(pkg.CHAPTER)
    assert not missing, f"{chapter.name}: paper combinations never executed: {sorted(missing)}"
    figures = list((staging.results_root(out, "paper-shrink") / chapter.name / "figures").glob("*.png"))
    assert figures, "the figure code did not run on the paper-shaped results"
