"""Shared test fixtures: every test writes its outputs under a temporary folder."""
import os

# numpy's BLAS threads busy-wait on a shared 2-core machine (a 300x300 eigvalsh: 2.2 s on 2 threads, 0.01 s on one);
# set before numpy loads, inherited by the papermill kernels of the chapter tests. torch keeps its own threads.
for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import pytest  # noqa: E402
import torch  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_outputs(tmp_path, monkeypatch):
    """Chapter outputs of unit tests go to a temporary folder, and torch uses one thread (fast, repeatable)."""
    if "PAPER_REPRO_TEST_KEEP_OUTPUT" not in os.environ:
        monkeypatch.setenv("PAPER_REPRO_OUTPUT", str(tmp_path / "artifacts"))
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def smoke_output(tmp_path_factory):
    """Output root shared by the smoke runs of the chapters and the book built from them."""
    from pathlib import Path

    keep = os.environ.get("PAPER_REPRO_SMOKE_OUTPUT")
    return Path(keep) if keep else tmp_path_factory.mktemp("smoke")


@pytest.fixture(scope="session")
def smoke_site(smoke_output, tmp_path_factory):
    """The book built strictly (-W -n --keep-going) from every chapter executed in the smoke profile."""
    from paper_repro.core.results import REPO_ROOT
    from paper_repro.pipeline import build, chapters, execute, staging

    mp = pytest.MonkeyPatch()
    mp.setenv("PAPER_REPRO_OUTPUT", str(smoke_output))
    try:
        for ch in chapters.chapters(REPO_ROOT):  # chapters not run yet in this session (e.g. -k selection)
            if not (staging.notebooks_dir(smoke_output, "smoke") / f"{ch.name}.ipynb").exists():
                execute.run_chapter(ch, "smoke", "auto", out=smoke_output, progress=False)
        return build.build_book(REPO_ROOT, out=smoke_output, strict=True, dest=tmp_path_factory.mktemp("site"),
                                 profile="smoke")
    finally:
        mp.undo()
