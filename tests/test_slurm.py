"""Sweeps on a real single-node Slurm cluster: a chapter's sweep, one job cancelled mid-run with scancel, resumed.

The cluster (munged, slurmctld, slurmd) is started by ``paper_repro.testing.slurm_cluster`` and stopped by pid; the
test skips, saying why, when not root or when Debian's ``slurm-wlm`` / ``munge`` are not installed (``.ci/run``
installs them). The sweep is chapter 1's smoke sweeps of fully connected nets on MNIST (all but the CNN one).
"""
import json
import os
import subprocess
import sys
import threading
import time

import cloudpickle
import pytest
import torch

from paper_repro import testing
from paper_repro.pipeline import sweep

pytestmark = pytest.mark.slurm


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    why = testing.slurm_unavailable()
    if why:
        pytest.skip(why)
    with testing.slurm_cluster(tmp_path_factory.mktemp("slurm")) as env:
        yield env


DELAY = "PAPER_REPRO_TEST_RUN_DELAY"


def paced_run_net(cfg):
    """Chapter 1's run function; in the Slurm jobs (``$PAPER_REPRO_TEST_RUN_DELAY`` set) each run first waits, so
    that a cancel lands mid-job however fast the machine is (submitit ignores the SIGTERM of a plain scancel for
    KillWait seconds, enough for several short runs to finish)."""
    from paper_repro.experiments import tail_index as ti

    time.sleep(float(os.environ.get(DELAY, "0")))
    return ti.run_net(cfg)


def chapter_sweep():
    """Chapter 1's smoke sweeps of fully connected nets: the run function and its configs."""
    from paper_repro.experiments import tail_index as ti

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the jobs cannot import this test module
    configs = [r for name, runs in ti.sweep_configs(ti.PRESETS["smoke"]).items() if name != "cnn" for r in runs]
    return paced_run_net, list({sweep.config_key(paced_run_net, c): c for c in configs}.values())


def files(folder):
    """Record file -> (inode, mtime, bytes) of every finished run in a sweep folder."""
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes()) for p in folder.glob("*.json")}


def close(a, b, rel=1e-5):
    """Metrics equal up to float noise of a different thread / process (nested dicts and lists)."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k], rel) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(close(x, y, rel) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, (int, float)):
        return b == pytest.approx(a, rel=rel, abs=1e-9)
    return a == b


def test_slurm_sweep_cancelled_job_resumes_and_equals_inline(cluster, tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # the jobs inherit the environment: one thread, like this process
    torch.set_num_threads(1)
    fn, configs = chapter_sweep()
    started = time.time()
    inline = sweep.run_sweep(fn, configs, tmp_path / "inline", progress=False)
    inline_s = time.time() - started
    folder, workers = tmp_path / "slurm", 2
    monkeypatch.setenv(DELAY, "2")  # the jobs inherit the environment of sbatch
    chunk0 = {sweep.config_key(fn, c) + ".json" for c in configs[0::workers]}  # what the first job runs
    outcome = {}

    def first_try():
        try:
            outcome["records"] = sweep.run_sweep(fn, configs, folder, executor="slurm", workers=workers,
                                                 timeout_min=20)
        except sweep.SweepError as exc:
            outcome["error"] = exc

    started = time.time()
    thread = threading.Thread(target=first_try)
    thread.start()
    deadline = time.time() + 600
    while time.time() < deadline and not files(folder):  # the first finished run, of either job
        time.sleep(0.05)
    jobs = sorted((folder / "_submitit").glob("*_submitted.pkl"))
    job0 = str(min(int(p.name.split("_")[0]) for p in jobs))  # submitted first: the first chunk
    subprocess.run(["scancel", job0], check=True)
    thread.join(timeout=600)
    assert "error" in outcome, "the cancelled job should have made the sweep fail"
    assert f"job {job0} ended without a result" in str(outcome["error"])
    finished = files(folder)
    assert len(chunk0 & set(finished)) < len(chunk0), "the job was not cancelled mid-run"
    assert len(finished) >= 1
    records = sweep.run_sweep(fn, configs, folder, executor="slurm", workers=workers, timeout_min=20)
    slurm_s = time.time() - started
    after = files(folder)
    assert {k: after[k] for k in finished} == finished, "a finished run was recomputed"
    assert len(after) == len(configs)
    assert [r["key"] for r in records] == [r["key"] for r in inline]
    for a, b in zip(inline, records):
        assert a["status"] == b["status"] and close(a["metrics"], b["metrics"]), a["config"]
    (tmp_path.parent / "slurm_timing.json").write_text(json.dumps(
        {"runs": len(configs), "inline_s": round(inline_s, 1), "slurm_with_cancel_and_resume_s": round(slurm_s, 1),
         "finished_before_cancel": len(finished)}))
