"""Runs that fail or are interrupted never replace the last good notebook and results; profiles are kept apart;
the CLI reports a failure in one line with the partial notebook; sweep flags arrive as papermill parameters."""
import subprocess
import sys

import nbformat
import pytest
import torch
from test_foundation_pipeline import DEMO, write_demo_book

from paper_repro.core.results import REPO_ROOT
from paper_repro.pipeline import build, chapters, cli, execute, staging

SWEEP_PARAMS = '''executor: str = "inline"  # where sweeps run: inline | local | slurm
slurm_partition: str = ""  # Slurm partition (empty: the cluster default)
gpus_per_node: int = 0  # GPUs per Slurm job
timeout_min: int = 600  # Slurm job time limit in minutes
array_parallelism: int = 16  # Slurm jobs running at once
'''


def snapshot(folder):
    """Every file under ``folder`` with its bytes."""
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def demo(tmp_path):
    root = write_demo_book(tmp_path / "demo")
    (root / "book" / "execution_report.md").write_text("# Report\n\n<!-- execution-report -->\n")
    (chapter,) = chapters.chapters(root)
    return root, chapter


def test_failed_and_killed_runs_keep_the_last_good_notebook_and_results(demo, tmp_path):
    root, chapter = demo
    out = tmp_path / "out"
    good = execute.run_chapter(chapter, "smoke", "cpu", {"lr": 0.5}, out=out, progress=False)
    results = staging.results_root(out, "smoke") / "demo"
    before_nb, before_results = good.read_bytes(), snapshot(results)
    assert b'"lr": 0.5' in (results / "result.json").read_bytes()
    with pytest.raises(execute.ChapterFailed, match="lr=-1") as bad:  # fails in a cell, after writing nothing
        execute.run_chapter(chapter, "smoke", "cpu", {"lr": -1}, out=out, progress=False)
    assert bad.value.notebook == good.with_name("demo.failed.ipynb") and bad.value.notebook.exists()
    with pytest.raises(execute.ChapterFailed, match="kernel died") as killed:  # writes a result, then the kernel dies
        execute.run_chapter(chapter, "smoke", "cpu", {"lr": 0.25, "crash": True}, out=out, progress=False)
    assert killed.value.notebook.exists()
    assert good.read_bytes() == before_nb and snapshot(results) == before_results
    # the next good run replaces both and removes the failed notebook
    execute.run_chapter(chapter, "smoke", "cpu", {"lr": 0.75}, out=out, progress=False)
    assert b'"lr": 0.75' in (results / "result.json").read_bytes() and not bad.value.notebook.exists()


def test_profiles_are_kept_apart_and_build_takes_the_asked_or_most_expensive(demo, tmp_path):
    root, chapter = demo
    out = tmp_path / "out"
    execute.run_chapter(chapter, "paper", "cpu", {"lr": 0.3}, out=out, progress=False)
    execute.run_chapter(chapter, "smoke", "cpu", {"lr": 0.2}, out=out, progress=False)
    for label, lr in (("paper", 0.3), ("smoke", 0.2)):
        assert f'"lr": {lr}'.encode() in (staging.results_root(out, label) / "demo" / "result.json").read_bytes()
        assert (staging.notebooks_dir(out, label) / "demo.ipynb").exists()
    assert staging.choose_notebooks(root, out)["demo"][0] == "paper"  # the most expensive present
    assert staging.choose_notebooks(root, out, "smoke")["demo"][0] == "smoke"
    assert staging.choose_notebooks(root, out, "quick")["demo"][0] == "paper"  # fallback
    stage = build.stage_book(root, out, tmp_path / "stage", profile="quick")
    report = (stage / "book" / "execution_report.md").read_text()
    assert "| paper (asked: quick, not run) |" in report
    staged = nbformat.read(stage / "book" / "demo.ipynb", as_version=4)
    assert staged.metadata["paper_repro"]["parameters"]["lr"] == 0.3


def test_cli_bad_value_is_one_line_with_the_partial_notebook(demo, tmp_path):
    root, _ = demo
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "paper_repro", "run", "demo", "--root", str(root), "--output", str(out),
           "--profile", "smoke", "--device", "cpu", "-p", "lr", "-5"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr + proc.stdout
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    assert errors[0].startswith("error: demo: ConfigError: lr=-5 must be a positive finite number (> 0) (cell")
    partial = out / "notebooks" / "smoke" / "demo.failed.ipynb"
    assert f"partial notebook: {partial}" in proc.stderr and partial.exists()
    assert not (out / "notebooks" / "smoke" / "demo.ipynb").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU: device=cuda is valid here")
def test_cli_cuda_without_gpu_is_one_line(tmp_path, capsys):
    code = cli.main(["run", chapters.chapters()[0].name, "--profile", "smoke", "--device", "cuda",
                     "--output", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: device='cuda' was asked for") and len(err.splitlines()) == 1
    assert not (tmp_path / "notebooks").exists()  # refused before anything ran


def test_sweep_flags_become_papermill_parameters(tmp_path, capsys):
    source = DEMO.replace('crash: bool', SWEEP_PARAMS + 'crash: bool').replace(
        "dev = resolve_device(device)",
        "dev = resolve_device(device)\nfrom paper_repro.pipeline.sweep import SweepOptions\n"
        "opts = SweepOptions(executor=executor, slurm_partition=slurm_partition, gpus_per_node=gpus_per_node,\n"
        "                    timeout_min=timeout_min, array_parallelism=array_parallelism)\n"
        "print('sweeps:', opts.run_kwargs(), 'batch:', os.environ.get('PAPER_REPRO_BATCH'))")
    assert source.count("SweepOptions") == 2
    root = write_demo_book(tmp_path / "demo")
    (root / "book" / "demo.py").write_text(source)
    out = tmp_path / "out"
    code = cli.main(["run", "demo", "--root", str(root), "--output", str(out), "--profile", "smoke", "--device", "cpu",
                     "--executor", "slurm", "--slurm-partition", "gpu", "--gpus-per-node", "1", "--timeout-min", "30",
                     "--array-parallelism", "4"])
    assert code == 0, capsys.readouterr().err
    nb = nbformat.read(out / "notebooks" / "smoke" / "demo.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert ("sweeps: {'executor': 'slurm', 'workers': 4, 'timeout_min': 30, 'slurm_array_parallelism': 4, "
            "'slurm_partition': 'gpu', 'gpus_per_node': 1} batch: 1") in text
    bare = write_demo_book(tmp_path / "bare")  # a chapter without the sweep parameters refuses the flags
    assert cli.main(["run", "demo", "--root", str(bare), "--output", str(out), "--executor", "local"]) == 2
    assert "has no parameter(s) ['executor']" in capsys.readouterr().err
