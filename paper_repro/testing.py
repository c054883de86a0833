"""Test data in the real formats: small CIFAR-10/100 pickle batches and a data root for paper-shaped tiny runs."""
from __future__ import annotations

import hashlib
import json
import os
import pickle
from pathlib import Path

import numpy as np

from . import fetch


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
