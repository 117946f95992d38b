"""Colour image datasets (CIFAR-10/100, SVHN, Tiny-ImageNet, any HuggingFace image dataset) from the files users have.

Every source returns :class:`ImageArrays`: uint8 images ``[N, C, H, W]`` and int64 labels for the official train and
test splits, checked against the dataset's shape and number of classes (a wrong layout or label stops here, with
a message naming the file, what was expected and what was found). ``data.data_dir`` is read in whichever layout
it holds (:func:`detect_layout`); without it the HuggingFace hub is tried when it answers. Sources that decode
images (Tiny-ImageNet's JPEGs, HuggingFace image columns) are cached as ``.npz`` under ``data.cache_dir``, keyed
by the source (a changed folder or file is read anew).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .sources import DataSourceError, hub_reachable


@dataclass
class ImageArrays:
    """uint8 images ``[N, C, H, W]`` and int64 labels of the train and test splits, the class names, the source."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    classes: list[str]
    source: str


@dataclass(frozen=True)
class Spec:
    """What a named dataset holds and where it comes from."""

    title: str
    shape: tuple[int, int, int]
    classes: int
    #: HuggingFace hub name (and config) tried when no data_dir is given and the hub answers
    hub: str
    hub_config: str | None
    #: the hub's test split and its image / label columns
    hub_test: str
    how: str


SPECS = {
    "cifar10": Spec("CIFAR-10", (3, 32, 32), 10, "uoft-cs/cifar10", None, "test",
                    "download cifar-10-binary.tar.gz or cifar-10-python.tar.gz from "
                    "https://www.cs.toronto.edu/~kriz/cifar.html, unpack it and set data.data_dir to the folder "
                    "(docs/data.md)"),
    "cifar100": Spec("CIFAR-100", (3, 32, 32), 100, "uoft-cs/cifar100", None, "test",
                     "download cifar-100-binary.tar.gz or cifar-100-python.tar.gz from "
                     "https://www.cs.toronto.edu/~kriz/cifar.html, unpack it and set data.data_dir to the folder "
                     "(docs/data.md)"),
    "svhn": Spec("SVHN", (3, 32, 32), 10, "ufldl-stanford/svhn", "cropped_digits", "test",
                 "download train_32x32.mat and test_32x32.mat (and extra_32x32.mat for data.extra=true) from "
                 "http://ufldl.stanford.edu/housenumbers/ into one folder and set data.data_dir to it (docs/data.md)"),
    "tinyimagenet": Spec("Tiny-ImageNet-200", (3, 64, 64), 200, "zh-plus/tiny-imagenet", None, "valid",
                         "download tiny-imagenet-200.zip (http://cs231n.stanford.edu/tiny-imagenet-200.zip), unpack "
                         "it and set data.data_dir to the folder (docs/data.md)"),
}


def classes_of(name: str, label: str = "fine") -> int:
    """Number of classes of ``name`` (CIFAR-100's coarse labels: 20)."""
    return 20 if name == "cifar100" and label == "coarse" else SPECS[name].classes


def check_split(images: np.ndarray, labels: np.ndarray, where: str, shape: tuple[int, ...] | None,
                num_classes: int | None) -> None:
    """Refuse a split whose images are not ``[N, *shape]`` uint8 or whose labels leave ``0..num_classes-1``."""
    if images.ndim != 4 or (shape is not None and tuple(images.shape[1:]) != tuple(shape)):
        want = "x".join(map(str, shape)) if shape else "C x H x W"
        raise DataSourceError(f"{where}: expected images of {want} (channels x height x width), found an array of "
                              f"shape {tuple(images.shape)}; the file is not in the layout this loader reads "
                              "(docs/data.md)")
    if len(images) != len(labels):
        raise DataSourceError(f"{where}: {len(images)} images but {len(labels)} labels; the files do not match")
    if len(labels) == 0:
        raise DataSourceError(f"{where}: the split holds no images")
    if num_classes is not None:
        bad = np.nonzero((labels < 0) | (labels >= num_classes))[0]
        if len(bad):
            k = int(bad[0])
            raise DataSourceError(f"{where}: labels must lie in 0..{num_classes - 1}, found {int(labels[k])} at "
                                  f"record {k} ({len(bad)} out of range in all)")


def fingerprint(path: Path) -> str:
    """A short digest of a file or folder: its resolved path and the names, sizes and times of its first two levels."""
    p = path.resolve()
    h = hashlib.sha1(str(p).encode())
    entries = [p] if p.is_file() else sorted(p.iterdir())
    for e in entries:
        kids = sorted(e.iterdir()) if e.is_dir() else []
        for f in [e, *kids]:
            st = f.stat()
            h.update(f"{f.relative_to(p.parent)}:{st.st_size}:{st.st_mtime_ns};".encode())
    return h.hexdigest()[:12]


def cached(cache_dir: Path, key: str, build: Callable[[], ImageArrays]) -> ImageArrays:
    """``build()`` once, saved as ``cache_dir/key`` (written atomically); later calls read the saved arrays."""
    target = cache_dir / key
    if (target / "arrays.npz").is_file():
        try:
            with np.load(target / "arrays.npz") as z:
                meta = json.loads((target / "meta.json").read_text())
                return ImageArrays(z["train_images"], z["train_labels"], z["test_images"], z["test_labels"],
                                   meta["classes"], meta["source"])
        except Exception as e:  # noqa: BLE001 - any failure here means a damaged cache
            raise DataSourceError(f"the dataset cache {target} is damaged ({e}); delete that folder and rerun (it "
                                  "is rebuilt from the original source).") from e
    arr = build()
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=cache_dir, prefix=f".{key}.", suffix=".tmp"))
    try:
        np.savez(tmp / "arrays.npz", train_images=arr.train_images, train_labels=arr.train_labels,
                 test_images=arr.test_images, test_labels=arr.test_labels)
        (tmp / "meta.json").write_text(json.dumps({"classes": arr.classes, "source": arr.source}))
        if not (target / "arrays.npz").is_file():
            shutil.rmtree(target, ignore_errors=True)
            try:
                tmp.rename(target)
            except OSError:
                if not (target / "arrays.npz").is_file():
                    raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return arr


def detect_layout(name: str, d: Path) -> tuple[str, Path] | None:
    """The layout of ``d`` that ``name`` reads, and the folder holding it (``d`` or the archive's own subfolder)."""
    from .hf import is_hf_folder

    if is_hf_folder(d):
        return "hf", d
    probes = {
        "cifar10": [("cifar_bin", "data_batch_1.bin"), ("cifar_py", "data_batch_1")],
        "cifar100": [("cifar_bin", "train.bin"), ("cifar_py", "train")],
        "svhn": [("svhn_mat", "train_32x32.mat")],
        "tinyimagenet": [("tiny_folder", "wnids.txt")],
    }[name]
    subs = {"cifar10": ("cifar-10-batches-bin", "cifar-10-batches-py"),
            "cifar100": ("cifar-100-binary", "cifar-100-python"), "svhn": (),
            "tinyimagenet": ("tiny-imagenet-200",)}[name]
    for folder in (d, *(d / s for s in subs)):
        for layout, marker in probes:
            if (folder / marker).is_file():
                return layout, folder
    return None


LAYOUTS = {
    "cifar10": "the binary version (data_batch_1.bin ... data_batch_5.bin, test_batch.bin, optionally inside "
               "cifar-10-batches-bin/), the python version (data_batch_1 ... data_batch_5, test_batch, batches.meta, "
               "optionally inside cifar-10-batches-py/), or a HuggingFace dataset (save_to_disk folder or parquet "
               "files)",
    "cifar100": "the binary version (train.bin, test.bin, optionally inside cifar-100-binary/), the python version "
                "(train, test, meta, optionally inside cifar-100-python/), or a HuggingFace dataset",
    "svhn": "train_32x32.mat and test_32x32.mat (extra_32x32.mat optional), or a HuggingFace dataset",
    "tinyimagenet": "the tiny-imagenet-200 folder (wnids.txt, train/<wnid>/images/*.JPEG, val/images/*.JPEG with "
                    "val/val_annotations.txt), or a HuggingFace dataset",
}


def load_images(name: str, data_dir: str | None, cache_dir: Path, allow_hub: bool = True, label: str = "fine",
                extra: bool = False, image_column: str | None = None, label_column: str | None = None
                ) -> ImageArrays:
    """The named dataset from ``data_dir`` (any layout of :data:`LAYOUTS`), else from the hub when it answers."""
    from . import cifar, hf, svhn, tinyimagenet

    spec = SPECS[name]
    n_cls = classes_of(name, label)
    if data_dir:
        d = Path(data_dir).expanduser()
        found = detect_layout(name, d)
        if found is None:
            listing = sorted(p.name for p in d.iterdir())[:12]
            raise DataSourceError(f"data.data_dir={str(d)!r} holds none of the layouts data.name={name} reads: "
                                  f"{LAYOUTS[name]}. Found: {listing or 'an empty folder'}. To get it: {spec.how}")
        layout, folder = found
        key = f"{name}-{label}-{int(extra)}-{fingerprint(folder)}"
        if layout == "cifar_bin":
            arr = cifar.from_binary(folder, name, label)
        elif layout == "cifar_py":
            arr = cifar.from_python(folder, name, label)
        elif layout == "svhn_mat":
            arr = svhn.from_mat(folder, extra)
        elif layout == "tiny_folder":
            arr = cached(cache_dir, key, lambda: tinyimagenet.from_folder(folder))
        else:
            arr = cached(cache_dir, key, lambda: hf.images_from_local(
                folder, name, spec.shape, image_column, label_column or _label_column(name, label)))
    else:
        if not (allow_hub and hub_reachable()):
            why = "not tried: data.allow_hub=false" if not allow_hub else "not reachable"
            raise DataSourceError(f"{spec.title} is not shipped by any package and no data.data_dir was given (the "
                                  f"HuggingFace hub {spec.hub} is {why}). To get it: {spec.how}")
        key = f"{name}-{label}-hub-{hashlib.sha1(spec.hub.encode()).hexdigest()[:8]}"
        arr = cached(cache_dir, key, lambda: hf.images_from_hub(
            spec.hub, spec.hub_config, "train", spec.hub_test, name, spec.shape, image_column,
            label_column or _label_column(name, label)))
    for split in ("train", "test"):
        check_split(getattr(arr, f"{split}_images"), getattr(arr, f"{split}_labels"), f"{arr.source} ({split})",
                    spec.shape, n_cls)
    return arr


def _label_column(name: str, label: str) -> str | None:
    """CIFAR-100's label column on the hub and in HuggingFace copies (None: detect)."""
    return f"{label}_label" if name == "cifar100" else None


def dir_must_exist(data_dir: str | None, what: str, how: str) -> None:
    """Refuse a ``data.data_dir`` that does not exist, naming it (never a silent fall back)."""
    if data_dir and not Path(data_dir).expanduser().is_dir():
        kind = "is a file, not a folder" if Path(data_dir).expanduser().exists() else "does not exist"
        raise DataSourceError(f"data.data_dir={data_dir!r} {kind}; expected a folder holding {what}. "
                              f"To get it: {how}")


__all__ = ["LAYOUTS", "SPECS", "ImageArrays", "cached", "check_split", "classes_of", "detect_layout",
           "dir_must_exist", "fingerprint", "load_images"]
