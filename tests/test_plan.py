"""Run plans: every chapter plans its ``paper`` preset, the CLI prints it and stops on a missing dataset before any
compute, and a planned peak memory agrees with the one measured on a small run."""
import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from paper_repro.core import fetch
from paper_repro.core.results import REPO_ROOT
from paper_repro.pipeline import chapters, cli, plan

CHAPTERS = chapters.chapters(REPO_ROOT)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.name for c in CHAPTERS])
def test_every_chapter_plans_its_paper_preset(chapter):
    p = plan.chapter_plan(chapter.name, "paper")
    assert not p.error, p.error
    assert p.sweeps and p.runs > 0 and p.flops > 0 and p.peak_bytes > 0 and p.datasets
    for s in p.sweeps:
        assert isinstance(s, plan.SweepPlan) and s.chapter == chapter.name and s.runs >= 1
        assert s.steps >= 0 and s.flops >= 0 and s.peak_bytes > 0, s
        assert set(s.datasets) <= set(p.datasets) or not s.datasets
    quick = plan.chapter_plan(chapter.name, "quick")
    assert quick.flops < p.flops, "the paper preset should cost more than quick"


def test_plan_cli_prints_every_chapter(capsys):
    assert cli.main(["plan", "--profile", "paper"]) == 0
    text = capsys.readouterr().out
    assert "GFLOP/s" in text and plan.GPU_ASSUMPTION["source"] in text
    for ch in CHAPTERS:
        assert f"== {ch.name}" in text
    md = plan.plan_markdown("paper", [CHAPTERS[0].name])
    assert f"[{CHAPTERS[0].name}]" in md and "| total |" in md


def idx_only_root(tmp_path):
    """A data root with the real MNIST and Fashion-MNIST (linked) and no CIFAR."""
    for name in ("mnist", "fashion_mnist"):
        dst = fetch.raw_folder(name, tmp_path)
        dst.parent.mkdir(parents=True)
        os.symlink(fetch.raw_folder(name, fetch.default_root()), dst, target_is_directory=True)
    return tmp_path


def test_missing_dataset_stops_make_book_before_compute(tmp_path):
    """``make book PROFILE=paper`` prints the plan and stops with a clear message when CIFAR is missing."""
    needs_cifar = any(d.startswith("cifar") for ch in CHAPTERS for d in plan.chapter_plan(ch.name, "paper").datasets)
    if not needs_cifar:
        pytest.skip("no chapter's paper preset reads CIFAR")
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    env = {**os.environ, "PAPER_REPRO_DATA": str(idx_only_root(tmp_path / "data")),
           "PAPER_REPRO_OUTPUT": str(tmp_path / "out"), "PAPER_REPRO_NO_DOWNLOAD": "1"}
    env.pop(fetch.CIFAR_MD5_ENV, None)
    stamp = ".venv/.installed-stamp"  # the installed environment is taken as up to date
    proc = subprocess.run(["make", "-o", stamp, "-o", "install", "book", "PROFILE=paper", "DEVICE=cpu"], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0
    assert "error: missing dataset(s) cifar10" in proc.stderr and "nothing was run" in proc.stderr
    assert "== " + CHAPTERS[0].name in proc.stdout  # the plan came first
    assert not (tmp_path / "out" / "notebooks").exists()  # no chapter started


MEASURE = textwrap.dedent('''
    import dataclasses, json, sys
    import torch
    from paper_repro.testing import peak_rss, reset_peak_rss
    torch.set_num_threads(1)
    from paper_repro.experiments import tail_index as ti
    cfg = dataclasses.replace(ti.shrink(ti.PRESETS["paper"]), widths=(1024,), base_depth=3, losses=("nll",),
                              n_train=2000, n_test=400, batch_size=100, steps=2)
    run = ti.sweep_configs(cfg)["width"][0]
    planned = next(p for p in ti.plan(cfg) if p.name.startswith("width")).peak_bytes
    ti.run_net(dataclasses.replace(run, n_train=200, width=4))  # imports, data, kernels: before the baseline
    base = reset_peak_rss()
    ti.run_net(run)
    peak = peak_rss()
    print(json.dumps({"planned": planned, "measured": peak - base}))
''')


def test_planned_peak_memory_matches_a_measured_run(tmp_path):
    """Chapter 1's widest-net plan (noise matrix + parameter copies) against the resident-memory growth of the run."""
    script = tmp_path / "measure.py"
    script.write_text(MEASURE)
    env = {**os.environ, "PAPER_REPRO_OUTPUT": str(tmp_path / "out"), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=600,
                          cwd=REPO_ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    (tmp_path.parent / "peak_memory.json").write_text(json.dumps(got))  # for the record
    assert got["planned"] > 1e8, "the measured run should be large enough for the RSS to resolve it"
    assert 0.5 <= got["measured"] / got["planned"] <= 1.5, got


def test_gpu_time_line_quotes_the_plan(monkeypatch):
    """The running page's profiles table says what the plan says: per chapter and in total, at the GPU rate."""
    sweep = plan.SweepPlan("a", "s", runs=1, steps=1, params=1, flops=plan.GPU_ASSUMPTION["flops"] * 86400 * 3,
                           peak_bytes=1)
    plans = {"a": plan.ChapterPlan("a", "paper", (sweep,), (), ()),
             "b": plan.ChapterPlan("b", "paper", (), (), (), error="no plan()")}
    monkeypatch.setattr(plan, "chapter_plan", lambda name, profile: plans[name])
    monkeypatch.setattr(plan, "gpu_rates", lambda: {})
    assert plan.gpu_time_line("paper", ["a", "b"]) == ("about 3 d on one GPU as planned (a 3 d, b not planned; the "
                                                       "plan below says how)")
