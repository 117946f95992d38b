"""Small files in the official layouts of CIFAR, SVHN and Tiny-ImageNet, and HuggingFace copies, with known patterns.

Every image of label ``y`` (``[C, H, W]``): red holds a horizontal bar in the top-left corner (rows 0-3, columns
0-11), green is ``20 * (y % 10) + 10`` everywhere, blue lights only the bottom-right pixel. A reader that swaps
channels, reads channel-last bytes as channel-first, transposes rows and columns or maps labels wrongly breaks
:func:`pattern_ok`.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np


def pattern(labels: np.ndarray, size: int = 32) -> np.ndarray:
    """uint8 ``[N, 3, size, size]`` images carrying the pattern of their labels."""
    x = np.zeros((len(labels), 3, size, size), np.uint8)
    x[:, 0, :4, :12] = 200
    x[:, 1] = (20 * (np.asarray(labels) % 10) + 10)[:, None, None]
    x[:, 2, -1, -1] = 255
    return x


def pattern_ok(x: np.ndarray, labels: np.ndarray) -> bool:
    """True when ``x [N, 3, H, W]`` carries exactly the pattern of ``labels``."""
    return x.shape[1] == 3 and np.array_equal(x, pattern(labels, x.shape[-1]))


def labels_for(n: int, classes: int, start: int = 0) -> np.ndarray:
    """A known label order: ``start, start + 1, ...`` modulo ``classes``."""
    return (np.arange(n) + start) % classes


def write_cifar10_bin(d: Path, per_batch: int = 4, n_test: int = 6, channel_last: bool = False) -> Path:
    """``cifar-10-batches-bin/``: ``data_batch_{1..5}.bin``, ``test_batch.bin``, ``batches.meta.txt``."""
    root = d / "cifar-10-batches-bin"
    root.mkdir(parents=True)
    for k in range(1, 6):
        y = labels_for(per_batch, 10, (k - 1) * per_batch)
        _records(root / f"data_batch_{k}.bin", [y], pattern(y), channel_last)
    y = labels_for(n_test, 10, 3)
    _records(root / "test_batch.bin", [y], pattern(y), channel_last)
    (root / "batches.meta.txt").write_text("\n".join(["airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                                                       "horse", "ship", "truck"]) + "\n\n")
    return root


def write_cifar100_bin(d: Path, n_train: int = 12, n_test: int = 5) -> Path:
    """``cifar-100-binary/``: ``train.bin``, ``test.bin`` (coarse label byte, fine label byte, pixels)."""
    root = d / "cifar-100-binary"
    root.mkdir(parents=True)
    for name, n, start in (("train", n_train, 0), ("test", n_test, 40)):
        fine = labels_for(n, 100, start)
        _records(root / f"{name}.bin", [fine // 5, fine], pattern(fine))
    return root


def _records(path: Path, label_cols: list[np.ndarray], x: np.ndarray, channel_last: bool = False) -> None:
    pixels = (x.transpose(0, 2, 3, 1) if channel_last else x).reshape(len(x), -1)
    labels = np.stack(label_cols, 1).astype(np.uint8)
    path.write_bytes(np.concatenate([labels, pixels], 1).astype(np.uint8).tobytes())


def _batch(path: Path, labels: np.ndarray, key: str = "labels", protocol: int = 2, **extra) -> None:
    """A pickled batch as the python version holds it: byte-string keys, ``data`` ``[N, 3072]`` uint8."""
    d = {b"batch_label": b"fixture", key.encode(): [int(v) for v in labels],
         b"data": pattern(labels).reshape(len(labels), -1), b"filenames": [b"f%d.png" % k for k in range(len(labels))]}
    d.update({k.encode(): v for k, v in extra.items()})
    path.write_bytes(pickle.dumps(d, protocol=protocol))


def write_cifar10_py(d: Path, per_batch: int = 4, n_test: int = 6, protocol: int = 2) -> Path:
    """``cifar-10-batches-py/``: ``data_batch_{1..5}``, ``test_batch``, ``batches.meta``."""
    root = d / "cifar-10-batches-py"
    root.mkdir(parents=True)
    for k in range(1, 6):
        _batch(root / f"data_batch_{k}", labels_for(per_batch, 10, (k - 1) * per_batch), protocol=protocol)
    _batch(root / "test_batch", labels_for(n_test, 10, 3), protocol=protocol)
    names = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship", b"truck"]
    (root / "batches.meta").write_bytes(pickle.dumps({b"label_names": names, b"num_vis": 3072}, protocol=protocol))
    return root


def write_cifar100_py(d: Path, n_train: int = 12, n_test: int = 5) -> Path:
    """``cifar-100-python/``: ``train``, ``test``, ``meta`` with fine and coarse labels."""
    root = d / "cifar-100-python"
    root.mkdir(parents=True)
    for name, n, start in (("train", n_train, 0), ("test", n_test, 40)):
        fine = labels_for(n, 100, start)
        _batch(root / name, fine, "fine_labels", coarse_labels=[int(v) for v in fine // 5])
    meta = {b"fine_label_names": [b"f%d" % k for k in range(100)],
            b"coarse_label_names": [b"c%d" % k for k in range(20)]}
    (root / "meta").write_bytes(pickle.dumps(meta, protocol=2))
    return root


def write_svhn(d: Path, n_train: int = 13, n_test: int = 7, extra: int = 0, transpose: bool = False) -> Path:
    """``train_32x32.mat`` / ``test_32x32.mat``: ``X`` ``[32, 32, 3, N]``, ``y`` ``[N, 1]`` in 1..10 (10: digit 0)."""
    import scipy.io

    d.mkdir(parents=True, exist_ok=True)
    for name, n in (("train", n_train), ("test", n_test), ("extra", extra)):
        if not n:
            continue
        digits = labels_for(n, 10, 0 if name != "extra" else 5)
        mat_y = np.where(digits == 0, 10, digits).astype(np.uint8)[:, None]
        x = pattern(digits)  # the pattern of the digit: label 10 must come back as 0
        mat_x = x if transpose else x.transpose(2, 3, 1, 0)  # [H, W, C, N]
        scipy.io.savemat(str(d / f"{name}_32x32.mat"), {"X": mat_x, "y": mat_y})
    return d


def write_tiny_imagenet(d: Path, wnids: tuple[str, ...] = ("n02", "n01", "n03"), per_class: int = 3,
                        n_val: int = 6, size: int = 64) -> Path:
    """``tiny-imagenet-200/`` with ``wnids.txt``, ``words.txt``, ``train/<wnid>/images/*.JPEG``, ``val/``.

    JPEG is lossy: the images hold broad regions (red: the top quarter, green: ``20 * label + 10``, blue: 0).
    """
    from PIL import Image

    root = d / "tiny-imagenet-200"
    order = sorted(wnids)
    (root / "val" / "images").mkdir(parents=True)
    (root / "wnids.txt").write_text("\n".join(wnids) + "\n")
    (root / "words.txt").write_text("".join(f"{w}\tthing {w}, other\n" for w in wnids))

    def img(label: int, path: Path, mode: str = "RGB") -> None:
        a = np.zeros((size, size, 3), np.uint8)
        a[: size // 4, :, 0] = 200
        a[..., 1] = 20 * label + 10
        im = Image.fromarray(a)
        (im.convert("L") if mode == "L" else im).save(path, format="JPEG", quality=95)

    for w in wnids:
        folder = root / "train" / w / "images"
        folder.mkdir(parents=True)
        for k in range(per_class):
            img(order.index(w), folder / f"{w}_{k}.JPEG")
        (root / "train" / w / f"{w}_boxes.txt").write_text("")
    lines = []
    for k in range(n_val):
        w = wnids[k % len(wnids)]
        img(order.index(w), root / "val" / "images" / f"val_{k}.JPEG")
        lines.append(f"val_{k}.JPEG\t{w}\t0\t0\t63\t63")
    (root / "val" / "val_annotations.txt").write_text("\n".join(lines) + "\n")
    return root


def hf_image_dataset(n_train: int = 12, n_test: int = 5, image_col: str = "img", label_col: str = "label",
                     classes: int = 10, size: int = 32):
    """A ``DatasetDict`` with an ``Image`` column (PNG, lossless) and a ``ClassLabel`` column."""
    from datasets import ClassLabel, Dataset, DatasetDict, Features, Image
    from PIL import Image as PILImage

    feats = Features({image_col: Image(), label_col: ClassLabel(names=[f"c{k}" for k in range(classes)])})

    def split(n, start):
        y = labels_for(n, classes, start)
        imgs = [PILImage.fromarray(a.transpose(1, 2, 0)) for a in pattern(y, size)]
        return Dataset.from_dict({image_col: imgs, label_col: [int(v) for v in y]}, features=feats)

    return DatasetDict({"train": split(n_train, 0), "test": split(n_test, 3)})
