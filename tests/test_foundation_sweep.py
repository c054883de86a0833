"""Sweeps: atomic per-run results, resume after a killed local sweep, corruption detected, divergence recorded."""
import dataclasses
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from paper_repro.pipeline import sweep


@dataclasses.dataclass(frozen=True)
class Cfg:
    lr: float  # learning rate of the toy run
    seed: int = 0  # seed


CALLS = []


def toy_run(cfg: Cfg) -> dict:
    """Loss of a toy run; 'diverges' (NaN) for lr > 1."""
    CALLS.append(cfg)
    return {"loss": float("nan") if cfg.lr > 1 else cfg.lr * 2, "seed": cfg.seed}


def failing_run(cfg: Cfg) -> dict:
    raise ValueError("a bug, not a divergence")


def test_inline_sweep_resumes_and_records_divergence(tmp_path):
    CALLS.clear()
    configs = [Cfg(0.1), Cfg(0.5), Cfg(2.0), Cfg(0.1)]  # a duplicate runs once
    records = sweep.run_sweep(toy_run, configs, tmp_path, progress=False)
    assert [r["status"] for r in records] == ["ok", "ok", "diverged", "ok"]
    assert records[2]["metrics"]["loss"] is None  # NaN stored as null: valid JSON
    assert len(CALLS) == 3 and len(list(tmp_path.glob("*.json"))) == 3
    records2 = sweep.run_sweep(toy_run, configs + [Cfg(0.3)], tmp_path, progress=False)
    assert len(CALLS) == 4 and records2[:4] == records
    assert records2[4]["metrics"]["loss"] == pytest.approx(0.6)


def test_corrupted_result_is_recomputed(tmp_path):
    CALLS.clear()
    sweep.run_sweep(toy_run, [Cfg(0.1), Cfg(0.2)], tmp_path, progress=False)
    victim = tmp_path / f"{sweep.config_key(toy_run, Cfg(0.2))}.json"
    record = json.loads(victim.read_text())
    record["metrics"]["loss"] = 123.0  # silently edited: checksum no longer matches
    victim.write_text(json.dumps(record))
    (tmp_path / f"{sweep.config_key(toy_run, Cfg(0.1))}.json").write_text('{"trunc')
    with pytest.warns(UserWarning, match="corrupted"):
        records = sweep.run_sweep(toy_run, [Cfg(0.1), Cfg(0.2)], tmp_path, progress=False)
    assert len(CALLS) == 4 and records[1]["metrics"]["loss"] == pytest.approx(0.4)
    assert len(sweep.load_sweep(tmp_path)) == 2


def test_failures_are_reported_not_saved(tmp_path):
    with pytest.raises(sweep.SweepError, match="a bug"):
        sweep.run_sweep(failing_run, [Cfg(0.1)], tmp_path, progress=False)
    assert not list(tmp_path.glob("*.json"))
    records = sweep.run_sweep(failing_run, [Cfg(0.1)], tmp_path, progress=False, strict=False)
    assert [r["status"] for r in records] == ["failed"] and "ValueError" in records[0]["error"]
    assert not list(tmp_path.glob("*.json"))  # a failed run is retried next time, never taken as finished
    with pytest.raises(ValueError, match="executor"):
        sweep.run_sweep(toy_run, [Cfg(0.1)], tmp_path, executor="cloud")


SCRIPT = textwrap.dedent('''
    import dataclasses, os, sys, time
    from paper_repro import sweep

    @dataclasses.dataclass(frozen=True)
    class Job:
        i: int  # index of the run

    def slow(job):
        marks = os.environ["SWEEP_MARKS"]  # workers inherit the environment, not argv
        os.makedirs(marks, exist_ok=True)
        open(os.path.join(marks, f"{job.i}-{os.getpid()}-{time.time_ns()}"), "w").close()
        time.sleep(0.6)
        return {"loss": float(job.i)}

    if __name__ == "__main__":
        records = sweep.run_sweep(slow, [Job(i) for i in range(8)], os.path.join(sys.argv[1], "runs"),
                                  executor=sys.argv[2], workers=2, progress=False)
        print("DONE", len(records))
''')


def test_killed_local_sweep_resumes_without_losing_runs(tmp_path):
    script = tmp_path / "sweep_script.py"
    script.write_text(SCRIPT)
    runs = tmp_path / "runs"
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "SWEEP_MARKS": str(tmp_path / "calls")}
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path), "local"], env=env,
                            start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(runs.glob("*.json"))) < 3:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)  # kills the sweep and its submitit workers
    proc.wait()
    finished = {json.loads(p.read_text())["metrics"]["loss"] for p in runs.glob("*.json")}
    assert 3 <= len(finished) < 8, "the sweep should have been killed part-way"
    time.sleep(1.0)
    assert {json.loads(p.read_text())["metrics"]["loss"] for p in runs.glob("*.json")} == finished
    out = subprocess.run([sys.executable, str(script), str(tmp_path), "inline"], env=env, capture_output=True,
                         text=True, timeout=120)
    assert "DONE 8" in out.stdout, out.stderr
    calls = [p.name.split("-")[0] for p in (tmp_path / "calls").iterdir()]
    for i in finished:  # runs finished before the kill were not run again
        assert calls.count(str(int(i))) == 1
    assert len(list(runs.glob("*.json"))) == 8


def dies_on_three(cfg: Cfg) -> dict:
    """A run whose worker process dies (as if killed) for lr == 3; the others finish."""
    if cfg.lr == 3:
        os._exit(1)
    return {"loss": cfg.lr}


def test_a_job_that_dies_loses_only_its_unfinished_runs(tmp_path, monkeypatch):
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import this test module
    configs = [Cfg(1), Cfg(2), Cfg(3), Cfg(4)]  # 2 local jobs: [1, 3] and [2, 4]
    with pytest.raises(sweep.SweepError, match="1 of 2 jobs did not finish.*run again to resume"):
        sweep.run_sweep(dies_on_three, configs, tmp_path, executor="local", workers=2, progress=False)
    assert {r["metrics"]["loss"] for r in sweep.load_sweep(tmp_path)} == {1, 2, 4}  # every job waited for
    opts = sweep.SweepOptions(executor="slurm", array_parallelism=8, slurm_partition="gpu", gpus_per_node=1)
    assert opts.run_kwargs() == {"executor": "slurm", "workers": 8, "timeout_min": 600, "slurm_array_parallelism": 8,
                                 "slurm_partition": "gpu", "gpus_per_node": 1}
