"""CIFAR-10 and CIFAR-100 from the official binary and python versions.

Binary version: fixed-size records, each a label byte (CIFAR-10) or a coarse and a fine label byte (CIFAR-100)
followed by 3,072 pixel bytes: the 1,024 red values of the 32 x 32 image in row-major order, then green, then
blue. Python version: pickled dicts whose ``data`` is a ``[N, 3072]`` uint8 array in the same pixel order and
whose ``labels`` (``fine_labels`` / ``coarse_labels``) list the classes; read by a restricted unpickler.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .image_sources import ImageArrays
from .safe_pickle import load_pickle
from .sources import DataSourceError

PIXELS = 3 * 32 * 32
CIFAR10_TRAIN = [f"data_batch_{k}" for k in range(1, 6)]


def read_records(path: Path, label_bytes: int) -> tuple[np.ndarray, np.ndarray]:
    """``(images [N, 3, 32, 32], labels [N, label_bytes])`` of one binary file; refuses a partial record."""
    if not path.is_file():
        raise DataSourceError(f"{path} is missing; the binary version of CIFAR has it beside the other batches")
    raw = np.fromfile(path, dtype=np.uint8)
    rec = label_bytes + PIXELS
    if len(raw) == 0 or len(raw) % rec:
        raise DataSourceError(f"{path} holds {len(raw):,} bytes, not a whole number of {rec:,}-byte records "
                              f"({label_bytes} label byte{'s' if label_bytes > 1 else ''} + {PIXELS:,} pixels); "
                              f"the file is truncated or of the other CIFAR version: replace it")
    r = raw.reshape(-1, rec)
    return r[:, label_bytes:].reshape(-1, 3, 32, 32), r[:, :label_bytes].astype(np.int64)


def _names(path: Path, count: int) -> list[str]:
    """Class names from a ``*.txt`` meta file (one per line), or numbers when the file is absent."""
    if path.is_file():
        names = [ln.strip() for ln in path.read_text().splitlines() if ln.strip()]
        if len(names) == count:
            return names
    return [str(k) for k in range(count)]


def from_binary(folder: Path, name: str, label: str = "fine") -> ImageArrays:
    """The binary version: ``data_batch_{1..5}.bin`` + ``test_batch.bin`` (CIFAR-10), ``train.bin`` + ``test.bin``."""
    if name == "cifar10":
        parts = [read_records(folder / f"{f}.bin", 1) for f in CIFAR10_TRAIN]
        tr_x, tr_y = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])[:, 0]
        te_x, te_y = read_records(folder / "test_batch.bin", 1)
        return ImageArrays(tr_x, tr_y, te_x, te_y[:, 0], _names(folder / "batches.meta.txt", 10),
                           f"{folder} (CIFAR-10 binary)")
    col = 1 if label == "fine" else 0  # record: coarse label byte, fine label byte, pixels
    tr_x, tr_y = read_records(folder / "train.bin", 2)
    te_x, te_y = read_records(folder / "test.bin", 2)
    count = 100 if label == "fine" else 20
    return ImageArrays(tr_x, tr_y[:, col], te_x, te_y[:, col], _names(folder / f"{label}_label_names.txt", count),
                       f"{folder} (CIFAR-100 binary, {label} labels)")


def _get(d: dict, key: str, path: Path):
    """``d[key]`` whether the pickle's keys are Python 2 byte strings or str; a clear error when absent."""
    for k in (key.encode(), key):
        if k in d:
            return d[k]
    keys = sorted(k.decode() if isinstance(k, bytes) else str(k) for k in d)
    raise DataSourceError(f"{path} has no {key!r} entry; expected a CIFAR python batch, found the keys {keys}")


def _batch(path: Path, label_key: str) -> tuple[np.ndarray, np.ndarray]:
    """One pickled batch: ``data`` ``[N, 3072]`` uint8 and its labels."""
    if not path.is_file():
        raise DataSourceError(f"{path} is missing; the python version of CIFAR has it beside the other batches")
    d = load_pickle(path)
    if not isinstance(d, dict):
        raise DataSourceError(f"{path}: expected a pickled dict, found {type(d).__name__}")
    data = np.asarray(_get(d, "data", path))
    labels = np.asarray(_get(d, label_key, path), dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != PIXELS:
        raise DataSourceError(f"{path}: expected 'data' of uint8 rows of {PIXELS} pixels (3 x 32 x 32, channel-major), "
                              f"found {data.dtype} of shape {data.shape}")
    return data.reshape(-1, 3, 32, 32), labels


def _meta_names(path: Path, key: str, count: int) -> list[str]:
    if not path.is_file():
        return [str(k) for k in range(count)]
    names = [n.decode() if isinstance(n, bytes) else str(n) for n in _get(load_pickle(path), key, path)]
    return names if len(names) == count else [str(k) for k in range(count)]


def from_python(folder: Path, name: str, label: str = "fine") -> ImageArrays:
    """The python version (``cifar-10-batches-py`` / ``cifar-100-python``), read without running pickled code."""
    if name == "cifar10":
        parts = [_batch(folder / f, "labels") for f in CIFAR10_TRAIN]
        tr_x, tr_y = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
        te_x, te_y = _batch(folder / "test_batch", "labels")
        return ImageArrays(tr_x, tr_y, te_x, te_y, _meta_names(folder / "batches.meta", "label_names", 10),
                           f"{folder} (CIFAR-10 python)")
    tr_x, tr_y = _batch(folder / "train", f"{label}_labels")
    te_x, te_y = _batch(folder / "test", f"{label}_labels")
    count = 100 if label == "fine" else 20
    return ImageArrays(tr_x, tr_y, te_x, te_y, _meta_names(folder / "meta", f"{label}_label_names", count),
                       f"{folder} (CIFAR-100 python, {label} labels)")
