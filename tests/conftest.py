"""Shared test fixtures: every test writes its outputs under a temporary folder."""
import os

# numpy's BLAS threads busy-wait on a shared 2-core machine (a 300x300 eigvalsh: 2.2 s on 2 threads, 0.01 s on one);
# set before numpy loads, inherited by the papermill kernels of the chapter tests. torch keeps its own threads.
for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import pytest  # noqa: E402
import torch  # noqa: E402

# ---- machine-dependent conditions as options, for rehearsals (issue 20) ----------------------------------------------
# --reverse-order runs the collected tests backwards (a test that passes only after another is a bug);
# --torch-threads N (or $PAPER_REPRO_TEST_TORCH_THREADS) is the torch thread count of every test (default 1).
_TORCH_THREADS = 1


def pytest_addoption(parser):
    group = parser.getgroup("paper_repro", "paper_repro rehearsal conditions")
    group.addoption("--reverse-order", action="store_true", help="run the collected tests in reverse order")
    group.addoption("--torch-threads", type=int, default=int(os.environ.get("PAPER_REPRO_TEST_TORCH_THREADS", "1")),
                    help="torch.set_num_threads in every test (default 1, or $PAPER_REPRO_TEST_TORCH_THREADS)")


def pytest_configure(config):
    global _TORCH_THREADS
    _TORCH_THREADS = config.getoption("--torch-threads")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--reverse-order"):
        items.reverse()
# ---- end of the rehearsal options ----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _isolated_outputs(tmp_path, monkeypatch):
    """Chapter outputs of unit tests go to a temporary folder, and torch uses one thread (fast, repeatable)."""
    if "PAPER_REPRO_TEST_KEEP_OUTPUT" not in os.environ:
        monkeypatch.setenv("PAPER_REPRO_OUTPUT", str(tmp_path / "artifacts"))
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(_TORCH_THREADS)
    yield
    torch.set_num_threads(threads)


# ---- the session's shared chapter runs start in the background (issue 20 §3) -------------------------------------
# The chapter runs that several tests share (the smoke runs, the CPU paper_paths runs) start when the first test
# starts, two at a time, each in a process of its own (`python -m paper_repro run`: the same execute.run_chapter), so
# that on a 2-core machine they use the core the other tests leave idle. A fixture takes its run when that is done;
# it runs the chapter itself (raising the run's own error) when the background run failed or had not started yet.
# PAPER_REPRO_TEST_BACKGROUND=0 turns this off (every run inline, in test order); so does a pytest-xdist worker.
BACKGROUND_ENV = "PAPER_REPRO_TEST_BACKGROUND"


def _wanted_runs(items) -> tuple[list[str], list[str]]:
    """The chapters whose smoke run and whose CPU paper_paths run the selected tests need, in the order needed."""
    from paper_repro.core.results import REPO_ROOT
    from paper_repro.pipeline import chapters

    every = [c.name for c in chapters.chapters(REPO_ROOT)]
    smoke, paper = {}, {}
    for item in items:
        names = getattr(item, "fixturenames", ())
        params = getattr(getattr(item, "callspec", None), "params", {})
        chapter = params.get("chapter", params.get("name"))
        chapter = getattr(chapter, "name", chapter)
        if "smoke_site" in names:
            smoke.update(dict.fromkeys(every))
        elif "smoke_notebook" in names and chapter in every:
            smoke[chapter] = None
        if "paper_paths_run" in names and chapter in every:
            paper[chapter] = None
    return list(smoke), list(paper)


@pytest.fixture(scope="session", autouse=True)
def _background_runs(request, tmp_path_factory):
    """{("smoke" | "paper", chapter): (future of the finished process, output root), "paper_data": tiny data env}."""
    import subprocess
    import sys
    from concurrent.futures import ThreadPoolExecutor

    runs: dict = {}
    if os.environ.get(BACKGROUND_ENV, "1") == "0" or os.environ.get("PYTEST_XDIST_WORKER"):
        yield runs
        return
    smoke, paper = _wanted_runs(request.session.items)
    pool = ThreadPoolExecutor(2, thread_name_prefix="shared-run")

    def start(key, args, out, env=None):
        cmd = [sys.executable, "-m", "paper_repro", "run", key[1], *args, "--output", str(out)]
        runs[key] = (pool.submit(subprocess.run, cmd, env={**os.environ, **(env or {})}, capture_output=True), out)

    if smoke:
        out = request.getfixturevalue("smoke_output")
        for name in smoke:
            start(("smoke", name), ["--profile", "smoke", "--device", "auto"], out)
    if paper:
        from paper_repro import testing

        runs["paper_data"] = testing.tiny_data_root(tmp_path_factory.mktemp("paper_paths_data"))
        for name in paper:
            start(("paper", name), ["--profile", "paper", "--device", "cpu", "--shrink"],
                  tmp_path_factory.mktemp(f"paper_paths_{name}_cpu_reference"), runs["paper_data"])
    yield runs
    pool.shutdown(wait=True, cancel_futures=True)


def _background_result(runs: dict, key: tuple, label: str):
    """The executed notebook of a background run that succeeded, else None (not started: cancelled, so the caller
    runs it now; failed: the caller runs it again to raise its error)."""
    from pathlib import Path

    from paper_repro.pipeline import staging

    if key not in runs:
        return None
    future, out = runs[key]
    if future.cancel():
        return None
    path = staging.notebooks_dir(Path(out).resolve(), label) / f"{key[1]}.ipynb"
    return path if future.result().returncode == 0 and path.exists() else None


def _once(done: dict, key, env: dict, run):
    """``done[key]``, computed once by ``run()`` with the environment variables ``env`` set; an exception is kept
    and raised again for every later caller (a failed shared run is not repeated)."""
    if key not in done:
        mp = pytest.MonkeyPatch()
        for var, value in env.items():
            mp.setenv(var, value)
        try:
            done[key] = run()
        except Exception as exc:  # noqa: BLE001 - kept and raised again for every test that needs this run
            done[key] = exc
        finally:
            mp.undo()
    if isinstance(done[key], Exception):
        raise done[key]
    return done[key]


@pytest.fixture(scope="session")
def smoke_output(tmp_path_factory):
    """Output root shared by the smoke runs of the chapters and the book built from them."""
    from pathlib import Path

    keep = os.environ.get("PAPER_REPRO_SMOKE_OUTPUT")
    return Path(keep) if keep else tmp_path_factory.mktemp("smoke")


@pytest.fixture(scope="session")
def smoke_notebook(smoke_output, _background_runs):
    """``smoke_notebook(name)``: chapter ``name`` executed in the smoke profile into ``smoke_output``, once per test
    session whichever test asks first (test_chapters, test_outputs, the book build), in the background when it could
    (``_background_runs``); a failed run fails every test that asks for it, with the same error, without running it
    again."""
    from paper_repro.pipeline import chapters, execute

    done: dict = {}

    def run(name: str):
        if name not in done and (found := _background_result(_background_runs, ("smoke", name), "smoke")):
            done[name] = found
        return _once(done, name, {"PAPER_REPRO_OUTPUT": str(smoke_output)},
                     lambda: execute.run_chapter(chapters.find_chapter(name), "smoke", "auto", out=smoke_output,
                                                 progress=False))

    return run


@pytest.fixture(scope="session")
def smoke_site(smoke_notebook, smoke_output, tmp_path_factory):
    """The book built strictly (-W -n --keep-going) from every chapter executed in the smoke profile, once per
    session (the browser, scorecard and strict-build tests share it)."""
    from paper_repro.core.results import REPO_ROOT
    from paper_repro.pipeline import build, chapters

    for ch in chapters.chapters(REPO_ROOT):
        smoke_notebook(ch.name)
    mp = pytest.MonkeyPatch()
    mp.setenv("PAPER_REPRO_OUTPUT", str(smoke_output))
    try:
        return build.build_book(REPO_ROOT, out=smoke_output, strict=True, dest=tmp_path_factory.mktemp("site"),
                                 profile="smoke")
    finally:
        mp.undo()


@pytest.fixture(scope="session")
def paper_paths_run(tmp_path_factory, _background_runs):
    """``paper_paths_run(name, device, role="reference")``: chapter ``name`` executed with ``profile=paper,
    shrink=True`` on ``device`` on the tiny data root (``paper_repro.testing.tiny_data_root``, one per session),
    once per session and (device, role): the device test's ``role="device"`` run is a second run even on the CPU.
    The CPU reference runs start in the background (``_background_runs``). Returns (executed notebook, output
    root). A failed run fails every test that asks for it."""
    from paper_repro import testing
    from paper_repro.pipeline import chapters, execute

    done: dict = {}
    data: list = [_background_runs["paper_data"]] if "paper_data" in _background_runs else []

    def run(name: str, device: str, role: str = "reference"):
        key = (name, device, role)
        if key not in done and (device, role) == ("cpu", "reference"):
            found = _background_result(_background_runs, ("paper", name), "paper-shrink")
            if found is not None:
                done[key] = (found, _background_runs["paper", name][1])
        if key not in done and not data:
            data.append(testing.tiny_data_root(tmp_path_factory.mktemp("paper_paths_data")))

        def execute_run():
            out = tmp_path_factory.mktemp(f"paper_paths_{name}_{device}_{role}")
            return execute.run_chapter(chapters.find_chapter(name), "paper", device, {"shrink": True}, out=out,
                                       progress=False), out

        return _once(done, key, data[0] if data else {}, execute_run)

    return run


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory):
    """The one-chapter demo book (tests/test_foundation_pipeline.py) run once with ``lr=0.5`` on the CPU and built
    strictly with a repository URL set, once per session: ``.root`` (the book), ``.out`` (output root), ``.notebook``
    (what run_chapter returned), ``.html``; shared by the pipeline, download and browser tests of the demo."""
    from types import SimpleNamespace

    from test_foundation_pipeline import write_demo_book

    from paper_repro.pipeline import build, chapters, execute
    from paper_repro.present import site

    base = tmp_path_factory.mktemp("demo")
    root, out = write_demo_book(base / "book"), base / "out"
    (chapter,) = chapters.chapters(root)
    mp = pytest.MonkeyPatch()
    mp.setenv("PAPER_REPRO_OUTPUT", str(out))
    mp.setenv(site.REPOSITORY_ENV, "https://github.com/example-org/paper_repro")
    try:
        notebook = execute.run_chapter(chapter, "smoke", "cpu", {"lr": 0.5}, out=out, progress=False)
        html = build.build_book(root, out=out, strict=True, dest=base / "site")
    finally:
        mp.undo()
    return SimpleNamespace(root=root, out=out, notebook=notebook, html=html)


# ---- what the optional parts did: printed at the end of every run (issue 20 §4) -----------------------------------
OPTIONAL_PARTS = {  # marker -> the part of the suite it marks, in the order printed
    "chapters": "chapters (every chapter in the smoke profile)",
    "book": "book (strict build of the smoke book)",
    "browser": "browser (the built book in headless Chromium)",
    "slurm": "slurm (sweeps on a real one-node Slurm cluster)",
    "paper_paths": "paper_paths (each paper preset at tiny size)",
    "gpu": "gpu (paper_paths on a CUDA device vs the CPU run)",
}
_PART_OUTCOMES: dict = {}  # nodeid -> (markers, outcome, skip reason)


def pytest_runtest_logreport(report):
    marks = {m for m in OPTIONAL_PARTS if m in report.keywords}
    marks = {"gpu"} if "gpu" in marks else marks  # a GPU test counts on the gpu line only
    if not marks or (report.when != "call" and report.passed):
        return
    seen = _PART_OUTCOMES.get(report.nodeid)
    if seen and seen[1] in ("failed", "error"):  # a teardown after a failure does not overwrite it
        return
    outcome = report.outcome if report.when == "call" else "skipped" if report.skipped else "error"
    reason = ""
    if report.skipped and isinstance(report.longrepr, tuple):
        reason = str(report.longrepr[2]).removeprefix("Skipped: ")
    _PART_OUTCOMES[report.nodeid] = (marks, outcome, reason)


def optional_parts_lines(outcomes: dict) -> list[str]:
    """One line per optional part: how many of its tests passed / failed / were skipped, and why they skipped."""
    from collections import Counter

    lines = []
    for mark, what in OPTIONAL_PARTS.items():
        rows = [(o, r) for marks, o, r in outcomes.values() if mark in marks]
        if not rows:
            lines.append(f"{what}: not run (none selected)")
            continue
        counts = Counter(o for o, _ in rows)
        text = ", ".join(f"{counts[o]} {o}" for o in ("passed", "failed", "error", "skipped") if counts[o])
        reasons = sorted({r for o, r in rows if o == "skipped"})
        lines.append(f"{what}: {text}" + (f" — skipped because: {'; '.join(reasons)}" if reasons else ""))
    return lines


def pytest_terminal_summary(terminalreporter):
    terminalreporter.section("optional parts: what ran, what was skipped and why")
    for line in optional_parts_lines(_PART_OUTCOMES):
        terminalreporter.write_line(line)
