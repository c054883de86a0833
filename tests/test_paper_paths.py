"""Every (architecture, dataset, measurement) combination of each chapter's ``paper`` preset runs end to end at tiny
size: the chapter executed through papermill with ``profile=paper, shrink=True`` on real MNIST/Fashion-MNIST and
CIFAR-10/100 files in the real format (``paper_repro.testing.tiny_data_root``), figures and claims included.

The combinations come from the chapter package's ``paper_paths(PRESETS["paper"])``, so a setting added to the preset
is covered without editing this test.

On a machine with a CUDA GPU the same runs are repeated on it and the numbers they recorded are compared with the
CPU run's (``paper_repro.pipeline.gpu_check.compare_results``, tolerances stated there); ``make gpu-check`` runs
them. ``PAPER_REPRO_TEST_DEVICE=cpu`` runs that path on the CPU (a second CPU run compared with the first).
"""
import importlib

import nbformat
import pytest
import torch

from paper_repro.core import results
from paper_repro.core.results import REPO_ROOT
from paper_repro.pipeline import chapters, gpu_check, staging

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
def test_paper_paths_run_at_tiny_size(chapter, paper_paths_run, monkeypatch):
    path, out = paper_paths_run(chapter.name, "cpu")  # once per session (conftest.py), reused by the device test
    check_paper_run(chapter, path, out, monkeypatch)


def check_paper_run(chapter, path, out, monkeypatch):
    """The run executed every paper combination of the chapter, and its figure code ran on the results."""
    pkg = package(chapter)
    expected = pkg.paper_paths(pkg.PRESETS["paper"])
    assert path == staging.notebooks_dir(out, "paper-shrink") / f"{chapter.name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata["paper_repro"]["shrink"] and nb.metadata["paper_repro"]["profile"] == "paper"
    monkeypatch.setenv("PAPER_REPRO_OUTPUT", str(staging.results_root(out, "paper-shrink")))
    missing = expected - results.recorded_paths(pkg.CHAPTER)
    assert not missing, f"{chapter.name}: paper combinations never executed: {sorted(missing)}"
    figures = list((staging.results_root(out, "paper-shrink") / chapter.name / "figures").glob("*.png"))
    assert figures, "the figure code did not run on the paper-shaped results"


@pytest.mark.paper_paths
@pytest.mark.gpu
@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.name for c in CHAPTERS])
def test_paper_paths_on_device_match_the_cpu_run(chapter, paper_paths_run, monkeypatch):
    """The same tiny paper run on the device (CUDA, or $PAPER_REPRO_TEST_DEVICE): every combination executed, and
    the recorded numbers equal to the CPU run's within gpu_check's tolerances."""
    device = gpu_check.device_under_test()
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("no CUDA GPU (torch sees none); `make gpu-check` runs these on one, "
                    "PAPER_REPRO_TEST_DEVICE=cpu runs them on the CPU")
    cpu_path, cpu_out = paper_paths_run(chapter.name, "cpu")
    path, out = paper_paths_run(chapter.name, device, "device")  # a second run, even with the device forced to cpu
    assert nbformat.read(path, as_version=4).metadata["paper_repro"]["device"].startswith(device)
    check_paper_run(chapter, path, out, monkeypatch)
    ok, report = gpu_check.compare_results(staging.results_root(cpu_out, "paper-shrink") / chapter.name,
                                           staging.results_root(out, "paper-shrink") / chapter.name,
                                           gpu_check.device_random(chapter.name))
    print(f"{chapter.name} on {device} vs cpu:", *report, sep="\n")
    assert ok, f"{chapter.name} on {device} vs cpu:\n" + "\n".join(report)
