"""Tiny-ImageNet-200 from its folder layout.

``wnids.txt`` lists the 200 classes (WordNet ids); ``train/<wnid>/images/*.JPEG`` holds 500 training images of each;
``val/images/*.JPEG`` the 10,000 validation images, labelled by ``val/val_annotations.txt`` (tab-separated: file,
wnid, bounding box). The official test split has no labels, so the validation images serve as the test split
(validation is carved from the training images). Classes are numbered in sorted wnid order (as a folder-per-class
reader numbers them); every image is decoded to RGB (a few are greyscale) and must be 64 x 64.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .image_sources import ImageArrays
from .sources import DataSourceError

SIZE = 64


def _decode(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            arr = np.asarray(im.convert("RGB"), dtype=np.uint8)
    except (OSError, UnidentifiedImageError) as e:
        raise DataSourceError(f"{path} cannot be decoded as an image ({e}); replace it") from e
    if arr.shape[:2] != (SIZE, SIZE):
        raise DataSourceError(f"{path}: expected a {SIZE} x {SIZE} image, found {arr.shape[0]} x {arr.shape[1]} "
                              "(height x width)")
    return arr.transpose(2, 0, 1)


def _stack(paths: list[Path]) -> np.ndarray:
    out = np.empty((len(paths), 3, SIZE, SIZE), dtype=np.uint8)
    for k, p in enumerate(paths):
        out[k] = _decode(p)
    return out


def from_folder(root: Path) -> ImageArrays:
    """Train and validation (as test) images of a ``tiny-imagenet-200`` folder."""
    wnids_file = root / "wnids.txt"
    wnids = sorted({w.strip() for w in wnids_file.read_text().split() if w.strip()})
    if not wnids:
        raise DataSourceError(f"{wnids_file} lists no class; expected one WordNet id per line")
    index = {w: k for k, w in enumerate(wnids)}
    tr_paths, tr_y = [], []
    for w in wnids:
        folder = root / "train" / w / "images"
        files = sorted(folder.glob("*.JPEG")) if folder.is_dir() else []
        if not files:
            raise DataSourceError(f"{folder} holds no *.JPEG; expected the training images of class {w} (listed in "
                                  f"{wnids_file}) there")
        tr_paths += files
        tr_y += [index[w]] * len(files)
    ann = root / "val" / "val_annotations.txt"
    if not ann.is_file():
        raise DataSourceError(f"{ann} is missing; expected the validation labels (file, wnid, box per line)")
    te_paths, te_y = [], []
    for n, line in enumerate(ann.read_text().splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) < 2:
            raise DataSourceError(f"{ann}, line {n}: expected tab-separated file name and wnid, found {line!r}")
        if parts[1] not in index:
            raise DataSourceError(f"{ann}, line {n}: class {parts[1]!r} is not among the {len(wnids)} of {wnids_file}")
        te_paths.append(root / "val" / "images" / parts[0])
        te_y.append(index[parts[1]])
    missing = [p for p in te_paths if not p.is_file()]
    if missing:
        raise DataSourceError(f"{missing[0]} is listed in {ann} but missing ({len(missing)} missing in all)")
    names = _words(root / "words.txt", wnids)
    return ImageArrays(_stack(tr_paths), np.asarray(tr_y, np.int64), _stack(te_paths), np.asarray(te_y, np.int64),
                       names, f"{root} (Tiny-ImageNet folders, val/ as the test split)")


def _words(path: Path, wnids: list[str]) -> list[str]:
    """Each wnid's first word from ``words.txt`` (the wnid itself when absent)."""
    words = {}
    if path.is_file():
        for line in path.read_text(errors="replace").splitlines():
            w, _, text = line.partition("\t")
            words[w] = text.split(",")[0].strip()
    return [words.get(w) or w for w in wnids]
