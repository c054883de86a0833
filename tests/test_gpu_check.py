"""``make gpu-check`` with the device forced to the CPU (issue 20 §5): each chapter's probe of its heaviest sweep,
the comparison of a device run with the CPU run, the rate file and the plan's GPU column priced from it."""
import json
import math
import shutil

import numpy as np
import pytest
import torch

from paper_repro.core.results import REPO_ROOT
from paper_repro.pipeline import chapters, cli, gpu_check, plan, staging

CHAPTERS = chapters.chapters(REPO_ROOT)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.name for c in CHAPTERS])
def test_each_chapter_probes_its_heaviest_sweep(chapter):
    probe = gpu_check.chapter_probe(chapter.name)
    heaviest = max(plan.chapter_plan(chapter.name, "paper").sweeps, key=lambda s: s.flops)
    assert probe.chapter == chapter.name and probe.sweep == heaviest.name
    r = gpu_check.measure(probe, "cpu", seconds=0.01, max_batch=1)  # one sample: the code path, cheaply
    assert r["sweep"] == heaviest.name and r["batch_size"] == 1 and r["sweep_batch_size"] == probe.batch_size
    assert r["flops_per_step"] > 0 and r["steps"] >= 1 and r["flops_per_s"] > 0
    assert r["params"] <= heaviest.params or heaviest.params == 0  # the plan's params: the largest model


def _record(folder, name, device, loss, stat, extra=None):
    folder.mkdir(parents=True, exist_ok=True)
    cfg = {"width": 4, "device": device}
    rec = {"key": f"{name}-{device}", "config": cfg, "status": "ok", "seconds": 1.0 if device == "cpu" else 0.1,
           "metrics": {"losses": loss, "alpha": stat, **(extra or {})}}
    (folder / f"{name}-{device}.json").write_text(json.dumps(rec))  # the file name holds the device (config hash)


def _runs(tmp_path, dev_loss, dev_stats, n=20):
    ref, dev = tmp_path / "cpu", tmp_path / "dev"
    for i in range(n):
        _record(ref / "sweeps" / "s", f"r{i}", "cpu", [2.0, 1.5], 1.0 + i)
        _record(dev / "sweeps" / "s", f"r{i}", "cuda", dev_loss, dev_stats[i])
    for root in (ref, dev):
        np.savez(root / "arrays.npz", spectrum=np.linspace(1, 2, 5))
        (root / "paper_paths.json").write_text("[]")
    return ref, dev


def test_compare_results_applies_the_stated_tolerances(tmp_path):
    stats = [1.0 + i for i in range(20)]
    ok, report = gpu_check.compare_results(*_runs(tmp_path / "a", [2.0 * (1 + 1e-3), 1.5], stats))
    assert ok, report  # records paired by config without the device; seconds and keys ignored
    assert "0 losses outside" in report[-1] or "0 losses outside" in "".join(report)
    ok, report = gpu_check.compare_results(*_runs(tmp_path / "b", [2.0 * (1 + 3 * gpu_check.LOSS_RTOL), 1.5], stats))
    assert not ok and any("losses" in line for line in report[1:]), report  # one loss off: fails, and is listed
    few = stats[:]
    few[0] *= 1 + 3 * gpu_check.RTOL  # 1 of 20 statistics (+ 5 spectrum values) off: within MAX_OFF
    assert gpu_check.compare_results(*_runs(tmp_path / "c", [2.0, 1.5], few))[0]
    many = [s * (1 + 3 * gpu_check.RTOL) for s in stats]
    assert not gpu_check.compare_results(*_runs(tmp_path / "d", [2.0, 1.5], many))[0]
    nan = [math.nan] + stats[1:]
    ref, dev = _runs(tmp_path / "e", [2.0, 1.5], nan)
    _record(ref / "sweeps" / "s", "r0", "cpu", [2.0, 1.5], math.nan)
    assert gpu_check.compare_results(ref, dev)[0], "NaN in both runs is equal"
    ref, dev = _runs(tmp_path / "f", [2.0, 1.5], stats)
    np.savez(dev / "arrays.npz", spectrum=np.linspace(5, 6, 5))  # sampled on the device: other values, same shape
    _record(dev / "sweeps" / "s", "r3", "cuda", [9.0, 9.0], -1.0)
    patterns = ("arrays.npz", 'sweeps/s/*"width": 4*')  # DEVICE_RANDOM patterns on the keys of gpu_check._load
    assert not gpu_check.compare_results(ref, dev)[0]
    ok, report = gpu_check.compare_results(ref, dev, patterns)
    assert ok and "compared by structure only" in report[-1], report
    np.savez(dev / "arrays.npz", spectrum=np.linspace(5, 6, 4))
    assert not gpu_check.compare_results(ref, dev, patterns)[0]  # a different shape is still a difference
    (dev / "arrays.npz").unlink()
    ok, report = gpu_check.compare_results(ref, dev)
    assert not ok and "arrays.npz: only in the reference run" in report


@pytest.mark.paper_paths
@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.name for c in CHAPTERS])
def test_compare_reads_a_real_paper_run(chapter, paper_paths_run, tmp_path):
    """On the session's CPU paper run (shared with test_paper_paths): the run equals itself, number by number, and
    a copy with every recorded number moved by 50 % does not."""
    _, out = paper_paths_run(chapter.name, "cpu")
    results = staging.results_root(out, "paper-shrink") / chapter.name
    ok, report = gpu_check.compare_results(results, results)
    n = int(report[-1].split(" numbers")[0])
    assert ok and n > 0, report
    moved = tmp_path / chapter.name
    shutil.copytree(results, moved)
    for path in moved.rglob("*.json"):
        if path.name != "paper_paths.json":
            path.write_text(json.dumps(_scale(json.loads(path.read_text()))))
    assert not gpu_check.compare_results(results, moved)[0]


def _scale(obj):
    if isinstance(obj, dict):
        return {k: _scale(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_scale(v) for v in obj]
    return obj * 1.5 + 1 if isinstance(obj, float) else obj


def test_gpu_check_on_cpu_writes_the_rate_that_plan_uses(tmp_path, monkeypatch, capsys):
    rate_file = tmp_path / "gpu_rate.json"
    assert cli.main(["gpu-check", "sgd_regimes", "--device", "cpu", "--no-tests", "--seconds", "0.01",
                     "--max-batch", "1", "--out", str(rate_file)]) == 0
    rates = json.loads(rate_file.read_text())
    assert rates["device_kind"] == "cpu" and set(rates["chapters"]) == {"sgd_regimes"}
    rate = rates["chapters"]["sgd_regimes"]["flops_per_s"]
    monkeypatch.setenv(plan.GPU_RATE_ENV, str(rate_file))
    text, _ = plan.plan_text(["sgd_regimes", "escape_rate"], "paper")
    sgd, esc = text.split("== sgd_regimes")[1].split("== escape_rate")
    assert "GPU (measured)" in sgd and "GPU (assumed)" in esc and rates["device"] in text
    assert plan.GPU_ASSUMPTION["source"] in text  # the chapters not measured keep the stated assumption
    total = plan.chapter_plan("sgd_regimes", "paper").flops
    assert plan.human_time(total / rate) in sgd
    monkeypatch.setenv(plan.GPU_RATE_ENV, "")  # none: the assumption everywhere
    assert "GPU (measured)" not in plan.plan_text(["sgd_regimes"], "paper")[0]


def test_gpu_check_runs_the_paper_paths_tests_on_the_device(monkeypatch):
    calls = []

    class Done:
        returncode = 0

    monkeypatch.setattr(gpu_check.subprocess, "run", lambda cmd, **kw: calls.append((cmd, kw)) or Done())
    assert gpu_check.run_paper_paths("cpu", ["tail_index"]) == 0
    (cmd, kw), = calls
    assert kw["env"][gpu_check.DEVICE_ENV] == "cpu" and cmd[cmd.index("-m", 3) + 1] == "paper_paths"
    assert cmd[-2:] == ["-k", "tail_index"] and cmd[-3].endswith("test_paper_paths.py")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_gpu_check_without_a_gpu_says_so(capsys):
    assert cli.main(["gpu-check"]) == 2
    assert "no CUDA GPU" in capsys.readouterr().err
