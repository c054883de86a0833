"""Test helpers: data in the real formats (small CIFAR-10/100 pickle batches, a data root for paper-shaped tiny
runs) and a real single-node Slurm cluster (munged + slurmctld + slurmd) for the sweep tests."""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np

from .core import fetch


def write_cifar(root: str | Path, name: str, n: int = 64, seed: int = 0) -> Path:
    """Write ``n`` random images per batch file of CIFAR-10/100 under ``root`` in torchvision's pickle format.

    Returns the JSON file of their md5 pins; point ``$PAPER_REPRO_CIFAR_MD5`` at it so the loader verifies them.
    """
    import torchvision.datasets as tvd

    root = Path(root)
    rng = np.random.default_rng(seed)
    cls = getattr(tvd, fetch.TORCHVISION_CLASS[name])
    folder = root / cls.base_folder
    folder.mkdir(parents=True, exist_ok=True)
    label_key, n_classes = ("labels", 10) if name == "cifar10" else ("fine_labels", 100)
    for fname, _ in cls.train_list + cls.test_list:
        batch = {"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                 label_key: rng.integers(0, n_classes, n).tolist()}
        (folder / fname).write_bytes(pickle.dumps(batch))
    (folder / cls.meta["filename"]).write_bytes(pickle.dumps({cls.meta["key"]: [f"c{i}" for i in range(n_classes)]}))
    pins_file = root / "cifar_md5.json"
    pins = json.loads(pins_file.read_text()) if pins_file.exists() else {}
    for path in folder.iterdir():
        pins[path.name] = hashlib.md5(path.read_bytes()).hexdigest()
    pins_file.write_text(json.dumps(pins, indent=1))
    return pins_file


def tiny_data_root(root: str | Path, n_cifar: int = 64) -> dict[str, str]:
    """A data root for paper-shaped tiny runs: the real MNIST/Fashion-MNIST (linked from the usual data root)
    and small CIFAR-10/100 files in the real format. Returns the environment variables that select it."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    real = fetch.default_root()
    for name in ("mnist", "fashion_mnist"):
        src = fetch.raw_folder(name, real)
        dst = fetch.raw_folder(name, root)
        if src.exists() and not dst.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(src, dst, target_is_directory=True)
    for name in ("cifar10", "cifar100"):
        pins = write_cifar(root, name, n_cifar)
    return {"PAPER_REPRO_DATA": str(root), fetch.CIFAR_MD5_ENV: str(pins)}


SLURM_PROGRAMS = ("munged", "slurmctld", "slurmd", "sbatch", "scancel", "squeue", "sinfo")
SLURM_CONF = """\
ClusterName=paperrepro
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
KillWait=2
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/slurmctld.log
SlurmdLogFile={root}/slurmd.log
NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""


def slurm_unavailable() -> str:
    """Why a local Slurm cluster cannot be started here ("" when it can): not root, or programs missing."""
    if os.geteuid() != 0:
        return "starting slurmctld/slurmd/munged needs root (CI runs as root)"
    missing = [p for p in SLURM_PROGRAMS if shutil.which(p) is None and not Path("/usr/sbin", p).exists()]
    if missing:
        return f"Slurm/munge not installed (missing {', '.join(missing)}): apt-get install -y slurm-wlm munge"
    return ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _program(name: str) -> str:
    return shutil.which(name) or str(Path("/usr/sbin", name))


@contextmanager
def slurm_cluster(root: str | Path, timeout: float = 60.0) -> Iterator[dict[str, str]]:
    """A real single-node Slurm cluster for the duration of the ``with`` block; yields the environment to use.

    Starts ``munged`` (as the munge user, unless one is already answering), ``slurmctld`` and ``slurmd`` in the
    foreground from a ``slurm.conf`` written under ``root`` (one node: this host, every CPU, one partition, no
    accounting), waits until the node is idle, sets ``$SLURM_CONF`` for the client commands (sbatch, scancel,
    squeue, which submitit calls) and on exit stops the daemons it started, by their pids.
    """
    why = slurm_unavailable()
    if why:
        raise RuntimeError(why)
    root = Path(root).resolve()
    for sub in ("state", "spool"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    host = socket.gethostname().split(".")[0]
    conf = root / "slurm.conf"
    conf.write_text(SLURM_CONF.format(host=host, root=root, cpus=os.cpu_count() or 1, ctld_port=_free_port(),
                                      d_port=_free_port()))
    env = {**os.environ, "SLURM_CONF": str(conf)}
    started: list[subprocess.Popen] = []
    logs = []
    try:
        if subprocess.run(["munge", "-n"], capture_output=True).returncode != 0:
            run_dir = Path("/run/munge")
            run_dir.mkdir(parents=True, exist_ok=True)
            shutil.chown(run_dir, "munge", "munge")
            if not Path("/etc/munge/munge.key").exists():
                subprocess.run([_program("mungekey"), "--create"], check=True)
                shutil.chown("/etc/munge/munge.key", "munge", "munge")
            log = open(root / "munged.out", "wb")
            logs.append(log)
            started.append(subprocess.Popen([_program("munged"), "--foreground"], user="munge", group="munge",
                                            stdout=log, stderr=subprocess.STDOUT))
            _wait(lambda: subprocess.run(["munge", "-n"], capture_output=True).returncode == 0, timeout, "munged")
        for daemon in ("slurmctld", "slurmd"):
            log = open(root / f"{daemon}.out", "wb")
            logs.append(log)
            started.append(subprocess.Popen([_program(daemon), "-D", "-f", str(conf)], env=env, stdout=log,
                                            stderr=subprocess.STDOUT))
        _wait(lambda: _node_idle(env), timeout, "the Slurm node", root)
        saved = os.environ.get("SLURM_CONF")
        os.environ["SLURM_CONF"] = str(conf)
        try:
            yield {"SLURM_CONF": str(conf)}
        finally:
            if saved is None:
                os.environ.pop("SLURM_CONF", None)
            else:
                os.environ["SLURM_CONF"] = saved
    finally:
        if started:
            _cancel_all(env)
        for proc in reversed(started):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        for log in logs:
            log.close()
        _kill_leftovers(conf)


def _cancel_all(env: dict, timeout: float = 30.0) -> None:
    """Cancel every job of the (private) cluster and wait until squeue lists none, so no job step outlives slurmd."""
    proc = subprocess.run(["squeue", "-h", "-o", "%i"], env=env, capture_output=True, text=True)
    ids = proc.stdout.split() if proc.returncode == 0 else []
    if ids:
        subprocess.run(["scancel", *ids], env=env, capture_output=True)
    deadline = time.time() + timeout
    while time.time() < deadline:
        proc = subprocess.run(["squeue", "-h", "-o", "%i"], env=env, capture_output=True, text=True)
        if proc.returncode != 0 or not proc.stdout.split():
            return
        time.sleep(0.5)


def _kill_leftovers(conf: Path) -> None:
    """SIGKILL, by pid, the processes still carrying this cluster's ``SLURM_CONF`` (job steps left by slurmd)."""
    marker = f"SLURM_CONF={conf}".encode()
    for proc_dir in Path("/proc").iterdir():
        if not proc_dir.name.isdigit() or int(proc_dir.name) == os.getpid():
            continue
        try:
            if marker in (proc_dir / "environ").read_bytes().split(b"\0"):
                os.kill(int(proc_dir.name), signal.SIGKILL)
        except (OSError, ProcessLookupError):
            continue


def _node_idle(env: dict) -> bool:
    proc = subprocess.run(["sinfo", "-h", "-o", "%t"], env=env, capture_output=True, text=True)
    return proc.returncode == 0 and proc.stdout.strip().startswith("idle")


def _wait(ready, timeout: float, what: str, root: Path | None = None) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if ready():
            return
        time.sleep(0.3)
    logs = "".join((root / f"{d}.log").read_text()[-800:] for d in ("slurmctld", "slurmd")
                   if root and (root / f"{d}.log").exists())
    raise RuntimeError(f"{what} did not come up within {timeout:.0f} s\n{logs}")


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak_rss() -> int:
    """Reset this process's peak resident memory (Linux clear_refs 5) and return the current resident bytes.

    ``getrusage().ru_maxrss`` cannot serve as a baseline: it survives fork + exec, so a child of a large parent
    (pytest) starts with the parent's peak.
    """
    Path("/proc/self/clear_refs").write_text("5")
    return _status_kb("VmRSS")


def peak_rss() -> int:
    """Peak resident bytes since the last :func:`reset_peak_rss` (VmHWM)."""
    return _status_kb("VmHWM")


# ---- numerical tolerances of the tests ------------------------------------------------------------------------------

def eps_of(dtype) -> float:
    """Machine epsilon of a torch or numpy floating dtype (float32: 1.19e-7, float64: 2.22e-16)."""
    import torch

    return float(torch.finfo(dtype).eps if isinstance(dtype, torch.dtype) else np.finfo(dtype).eps)


def float_tol(dtype, n_reduce: int = 1, *, growth: str = "sqrt", factor: float = 4.0,
              scale: float = 1.0) -> tuple[float, float]:
    """``(rtol, atol)`` for two results of one computation in ``dtype`` that may differ only by rounding.

    The rule: ``rtol = factor * eps(dtype) * g(n_reduce)`` and ``atol = rtol * scale``, where

    * ``eps`` is the machine epsilon of the precision the arithmetic ran in (not of the compared arrays: float32
      results cast to float64 keep float32's error);
    * ``n_reduce`` is the length of the longest reduction (sum, dot product, fan-in of a layer) between the inputs
      and the compared value. ``growth="sqrt"``: ``g(n) = sqrt(n)``, the rounding errors of a length-n sum are
      independent and add like a random walk, which is what two summation orders (BLAS kernels with another
      blocking or SIMD width, another thread split, vmap against a loop) give. ``growth="linear"``: ``g(n) = n``,
      the worst-case bound ``|fl(sum x) - sum x| <= (n - 1) eps sum |x|``, for long chains of dependent operations
      (training steps, iterative solvers) where errors can add up coherently;
    * ``factor`` (default 4) covers the constants of the bound: a few roundings per term (product, sum, casts) and
      a few reductions chained (forward and backward through a network);
    * ``scale`` is the magnitude of the terms behind the compared values, usually the largest ``|expected|``
      (a norm-wise test): an element that cancels to near zero keeps the absolute error of terms of that size, so a
      purely relative test of it checks the BLAS kernel, not the code.

    A real bug (a wrong index, term or factor) gives errors of order one (float32, n = 10^4, sqrt: rtol = 4.8e-5).
    """
    if growth not in ("sqrt", "linear"):
        raise ValueError(f"growth must be 'sqrt' or 'linear', not {growth!r}")
    n = max(int(n_reduce), 1)
    rtol = factor * eps_of(dtype) * (np.sqrt(n) if growth == "sqrt" else n)
    return float(rtol), float(rtol * scale)


def _as_float64(x) -> np.ndarray:
    return np.asarray(x.detach().cpu().double().numpy() if hasattr(x, "detach") else x, dtype=np.float64)


def _float_dtype(x):
    """The floating dtype of a tensor, array or number (None when it is not floating)."""
    d = x.dtype if hasattr(x, "dtype") else np.asarray(x).dtype
    floating = d.is_floating_point if hasattr(d, "is_floating_point") else np.issubdtype(d, np.floating)
    return d if floating else None


def assert_close_dtype(actual, expected, *, dtype=None, n_reduce: int = 1, growth: str = "sqrt",
                       factor: float = 4.0, scale: float | None = None, err_msg: str = "") -> None:
    """Assert ``actual`` equals ``expected`` within :func:`float_tol` (torch tensors, numpy arrays or floats).

    ``dtype``: the precision the computation ran in; default the less precise floating dtype of the two (float64
    when neither is floating). ``scale``: default ``max |expected|`` (norm-wise test, see :func:`float_tol`); pass
    ``0`` for a purely element-wise relative test. Both sides are compared in float64.
    """
    if dtype is None:
        dtypes = [d for d in (_float_dtype(actual), _float_dtype(expected)) if d is not None]
        dtype = max(dtypes, key=eps_of) if dtypes else np.float64
    a, b = _as_float64(actual), _as_float64(expected)
    scale = float(np.abs(b).max()) if scale is None and b.size else (scale or 0.0)
    rtol, atol = float_tol(dtype, n_reduce, growth=growth, factor=factor, scale=scale)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=err_msg)


def mc_tol(samples, z: float = 4.0) -> float:
    """``z`` standard errors of the mean of ``samples``: ``z * std(samples) / sqrt(n)``, the tolerance of a Monte Carlo
    mean against its expectation (z = 4: a correct estimator fails with probability 6e-5 for a fixed seed)."""
    x = _as_float64(samples).ravel()
    return float(z * x.std(ddof=1) / np.sqrt(x.size))
