"""HuggingFace datasets as a source: a local ``save_to_disk`` folder, parquet files, or a hub name when it answers.

Images come from an ``Image`` column (decoded with PIL), an array column (``Array2D``/``Array3D`` or nested lists,
``H x W``, ``H x W x C`` or ``C x H x W``) and labels from an integer or ``ClassLabel`` column (strings are
numbered in sorted order of the training split's values). Text comes from a string column.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from .image_sources import ImageArrays, check_split
from .sources import DataSourceError, hub_reachable

#: split names tried, in order, when the dataset's own are not ``train`` / ``test``
TEST_NAMES = ("test", "valid", "validation", "val")


def parquet_files(d: Path) -> list[Path]:
    """The parquet files below ``d`` (as the hub lays them out: ``data/<split>-*.parquet`` or ``<split>.parquet``)."""
    return sorted(p for p in d.rglob("*.parquet") if p.is_file())


def is_hf_folder(d: Path) -> bool:
    """True for a ``save_to_disk`` folder (a DatasetDict or one Dataset) or a folder of parquet files."""
    return (d / "dataset_dict.json").is_file() or (d / "state.json").is_file() or bool(parquet_files(d))


def _split_of(path: Path) -> str:
    """``train-00000-of-00001.parquet`` -> ``train``; ``test.parquet`` -> ``test``."""
    return path.stem.split("-")[0].split(".")[0]


def open_local(path: str | Path):
    """A local ``DatasetDict`` from a ``save_to_disk`` folder or parquet files (a file or a folder of them)."""
    from datasets import DatasetDict, load_dataset, load_from_disk

    p = Path(path).expanduser()
    if not p.exists():
        raise DataSourceError(f"data.path={str(p)!r} does not exist; expected a save_to_disk folder, parquet files, "
                              "or a hub name")
    try:
        if p.is_dir() and ((p / "dataset_dict.json").is_file() or (p / "state.json").is_file()):
            dd = load_from_disk(str(p))
            return dd if isinstance(dd, DatasetDict) else DatasetDict({"train": dd})
        files = [p] if p.is_file() else parquet_files(p)
        if not files:
            raise DataSourceError(f"{p} holds neither a save_to_disk dataset (dataset_dict.json or state.json) nor "
                                  f"*.parquet files; found {sorted(q.name for q in p.iterdir())[:12]}")
        by_split: dict[str, list[str]] = {}
        for f in files:
            by_split.setdefault(_split_of(f), []).append(str(f))
        return load_dataset("parquet", data_files=by_split)
    except DataSourceError:
        raise
    except Exception as e:  # noqa: BLE001 - a damaged folder or file: one message naming it
        raise DataSourceError(f"{p} cannot be read as a HuggingFace dataset ({type(e).__name__}: {e})") from e


def open_hub(name: str, config: str | None = None):
    """A ``DatasetDict`` from the hub (only called once :func:`hub_reachable` said it answers)."""
    from datasets import load_dataset

    try:
        return load_dataset(name, config) if config else load_dataset(name)
    except Exception as e:  # noqa: BLE001 - any hub failure: one message
        raise DataSourceError(f"the HuggingFace hub could not provide {name!r} ({type(e).__name__}: {e})") from e


def open_any(path: str, allow_hub: bool = True):
    """A local folder or file when ``path`` exists, else a hub name when the hub answers."""
    if Path(path).expanduser().exists() or path.startswith(("/", ".", "~")):
        return open_local(path), str(Path(path).expanduser())
    if allow_hub and hub_reachable():
        return open_hub(path), f"hub {path}"
    raise DataSourceError(f"data.path={path!r} is not a local file or folder, and the HuggingFace hub is "
                          f"{'not tried (data.allow_hub=false)' if not allow_hub else 'not reachable'}")


def pick_split(dd, wanted: str | None, names: tuple[str, ...], source: str, key: str) -> str:
    """The split ``wanted`` (or the first of ``names`` present); a clear error listing the splits there are."""
    have = list(dd.keys())
    for n in ([wanted] if wanted else list(names)):
        if n in dd:
            return n
    raise DataSourceError(f"{source} has no split {wanted or ' / '.join(names)!r} ({key}); its splits are {have}")


def pick_column(ds, wanted: str | None, guesses: tuple[str, ...], source: str, what: str, key: str) -> str:
    """The column ``wanted`` (or the first of ``guesses`` present); a clear error listing the columns."""
    cols = list(ds.column_names)
    if wanted:
        if wanted not in cols:
            raise DataSourceError(f"{source} has no column {wanted!r} ({key}); its columns are {cols}")
        return wanted
    for g in guesses:
        if g in cols:
            return g
    raise DataSourceError(f"{source}: no {what} column found among {cols}; name it with {key}")


def _pixels(value: Any, mode: str | None) -> np.ndarray:
    """One image value (PIL image, encoded bytes, dict of bytes/path, or an array) as a uint8 array."""
    from PIL import Image

    if isinstance(value, dict) and ("bytes" in value or "path" in value):
        value = Image.open(io.BytesIO(value["bytes"])) if value.get("bytes") else Image.open(value["path"])
    if isinstance(value, (bytes, bytearray)):
        value = Image.open(io.BytesIO(value))
    if isinstance(value, Image.Image):
        if mode:
            value = value.convert(mode)
        elif value.mode not in ("L", "RGB"):
            value = value.convert("RGB")
    return np.asarray(value, dtype=np.uint8)


def image_column(ds, col: str, shape: tuple[int, int, int] | None, where: str) -> np.ndarray:
    """``[N, C, H, W]`` uint8 from an image or array column (``shape`` fixes C x H x W when known)."""
    from datasets import Image

    mode = None if shape is None else ("L" if shape[0] == 1 else "RGB")
    if isinstance(ds.features[col], Image):
        raw = ds.cast_column(col, Image(decode=False))[col]
        arrays = [_pixels(v, mode) for v in raw]
    else:
        arrays = list(np.asarray(ds.with_format("numpy")[col]))
        arrays = [_pixels(a, mode) if not isinstance(a, np.ndarray) else np.asarray(a) for a in arrays]
    if not arrays:
        raise DataSourceError(f"{where}: the split holds no images")
    chw = [_to_chw(a, shape) for a in arrays]
    if shape is None and any(a.shape[0] == 3 for a in chw):
        chw = [np.repeat(a, 3, 0) if a.shape[0] == 1 else a for a in chw]  # greyscale among colour images
    first = chw[0].shape
    for k, a in enumerate(chw):
        if a.shape != first:
            raise DataSourceError(f"{where}: images of the wrong size: expected all {' x '.join(map(str, first))} "
                                  f"(channels x height x width) like image 0, found {' x '.join(map(str, a.shape))} "
                                  f"at image {k}")
    return np.stack(chw).astype(np.uint8)


def _to_chw(a: np.ndarray, shape: tuple[int, int, int] | None) -> np.ndarray:
    if a.ndim == 2:
        return a[None]
    if a.ndim == 3 and shape is not None and a.shape == tuple(shape):
        return a
    if a.ndim == 3 and a.shape[-1] in (1, 3, 4) and a.shape[0] not in (1, 3):
        return np.moveaxis(a[..., :3], -1, 0)
    return a


def label_column(ds, col: str, where: str, mapping: dict | None = None) -> tuple[np.ndarray, dict | None]:
    """Labels as int64, and the value -> index mapping used for string labels (from the training split)."""
    values = ds[col]
    if values and isinstance(values[0], str):
        if mapping is None:
            mapping = {v: k for k, v in enumerate(sorted(set(values)))}
        unknown = [v for v in values if v not in mapping]
        if unknown:
            raise DataSourceError(f"{where}: label {unknown[0]!r} does not occur in the training split")
        return np.asarray([mapping[v] for v in values], np.int64), mapping
    try:
        return np.asarray(values, dtype=np.int64), None
    except (TypeError, ValueError) as e:
        raise DataSourceError(f"{where}: column {col!r} does not hold integer or string labels ({e})") from e


def images_from(dd, source: str, train: str | None, test: str | None, shape: tuple[int, int, int] | None,
                image_col: str | None, label_col: str | None, num_classes: int | None = None) -> ImageArrays:
    """Train and test images and labels of a ``DatasetDict``."""
    from datasets import ClassLabel, Image

    tr_name = pick_split(dd, train, ("train",), source, "data.train_split")
    te_name = pick_split(dd, test, TEST_NAMES, source, "data.test_split")
    tr = dd[tr_name]
    img = image_col or next((c for c, f in tr.features.items() if isinstance(f, Image)), None)
    img = pick_column(tr, img, ("image", "img"), source, "image", "data.image_column")
    lab = label_col or next((c for c, f in tr.features.items() if isinstance(f, ClassLabel)), None)
    lab = pick_column(tr, lab, ("label", "labels", "fine_label"), source, "label", "data.label_column")
    out = {}
    mapping = None
    for split, name in (("train", tr_name), ("test", te_name)):
        ds = dd[name]
        where = f"{source} (split {name})"
        if img not in ds.column_names or lab not in ds.column_names:
            raise DataSourceError(f"{where} lacks column {img!r} or {lab!r}; its columns are {ds.column_names}")
        x = image_column(ds, img, shape, where)
        y, mapping = label_column(ds, lab, where, mapping)
        out[split] = (x, y)
    feat = tr.features[lab]
    classes = list(feat.names) if isinstance(feat, ClassLabel) else (
        sorted(mapping) if mapping else [str(k) for k in range(int(out["train"][1].max()) + 1)])
    n = num_classes or len(classes)
    for split, name in (("train", tr_name), ("test", te_name)):
        check_split(*out[split], f"{source} (split {name})", shape or out["train"][0].shape[1:], n)
    return ImageArrays(*out["train"], *out["test"], [str(c) for c in classes][:n] if num_classes else classes,
                       source)


def images_from_local(folder: Path, name: str, shape, image_col: str | None, label_col: str | None) -> ImageArrays:
    """A named dataset (cifar10, svhn ...) saved as a HuggingFace dataset in ``folder``."""
    from .image_sources import SPECS

    return images_from(open_local(folder), f"{folder} (HuggingFace dataset)", "train", None, shape, image_col,
                       label_col, 20 if label_col == "coarse_label" else SPECS[name].classes)


def images_from_hub(hub: str, config: str | None, train: str, test: str, name: str, shape, image_col: str | None,
                    label_col: str | None) -> ImageArrays:
    """A named dataset from the hub."""
    from .image_sources import SPECS

    return images_from(open_hub(hub, config), f"hub {hub}", train, test, shape, image_col, label_col,
                       20 if label_col == "coarse_label" else SPECS[name].classes)


def text_from(path: str, column: str | None, split: str | None, allow_hub: bool = True) -> tuple[str, str]:
    """The strings of a text column, joined by newlines, and the source's description."""
    dd, source = open_any(path, allow_hub)
    name = pick_split(dd, split, ("train",), source, "data.split")
    ds = dd[name]
    col = pick_column(ds, column, ("text", "content", "sentence"), source, "text", "data.text_column")
    values = ds[col]
    if values and not isinstance(values[0], str):
        raise DataSourceError(f"{source} (split {name}): column {col!r} holds {type(values[0]).__name__}, not text")
    text = "\n".join(values)
    if not text:
        raise DataSourceError(f"{source} (split {name}): column {col!r} holds no text")
    return text, f"{source} (split {name}, column {col})"
