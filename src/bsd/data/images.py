"""Image classification data: MNIST, Fashion-MNIST, CIFAR-10/100, SVHN, Tiny-ImageNet, any HuggingFace image set.

MNIST and Fashion-MNIST come from their packages or ``data.data_dir`` (cached as a HuggingFace ``DatasetDict``,
keyed by the source); the colour datasets from the files users have (:mod:`bsd.data.image_sources`). Validation is
carved from the training split with the seed, the official test split is the test split; optional augmentation
(random crop with zero padding ``data.shift``, horizontal flip ``data.flip``) applies to training batches only, and
``data.normalize`` standardises each channel with the training split's mean and standard deviation.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import warnings
from functools import cache
from pathlib import Path

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from .image_sources import SPECS, cached, classes_of, dir_must_exist, fingerprint, load_images
from .loaders import seeded_loader
from .sources import HOW_TO_GET, DataSourceError, load_arrays

SHAPES = {"mnist": (1, 28, 28), "fashion_mnist": (1, 28, 28)}
CLASSES = {
    "mnist": [str(i) for i in range(10)],
    "fashion_mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                      "Ankle boot"],
}
#: every data.name the image module reads
NAMES = (*SHAPES, *SPECS, "hf_images")


@cache
def _has_datasets() -> bool:
    try:
        import datasets  # noqa: F401
    except Exception:  # noqa: BLE001 - a broken install counts as missing
        return False
    return True


def cache_key(name: str, data_dir: str | None) -> str:
    """The cache folder of ``name`` read from ``data_dir`` (its fingerprint) or from the packaged sources."""
    return f"{name}-{fingerprint(Path(data_dir).expanduser())}" if data_dir else name


def build_cache(name: str, cache_dir: Path, data_dir: str | None, allow_hub: bool) -> Path:
    """Write ``name`` as a HuggingFace ``DatasetDict`` under ``cache_dir`` (atomically) unless present.

    The folder is keyed by the source (:func:`cache_key`), so another ``data_dir``, or changed files in it, are
    read anew rather than served from an earlier run's cache.
    """
    from datasets import Array2D, ClassLabel, Dataset, DatasetDict, Features  # noqa: PLC0415

    key = cache_key(name, data_dir)
    target = cache_dir / key
    if (target / "dataset_dict.json").is_file():
        return target
    arr = load_arrays(name, data_dir, allow_hub)
    h, w = arr.train_images.shape[1:]
    feats = Features({"image": Array2D((h, w), "uint8"), "label": ClassLabel(names=CLASSES[name])})
    dd = DatasetDict({
        "train": Dataset.from_dict({"image": arr.train_images, "label": arr.train_labels}, features=feats),
        "test": Dataset.from_dict({"image": arr.test_images, "label": arr.test_labels}, features=feats),
    })
    # each process writes its own folder, so runs started side by side (two lanes, sweep agents) never
    # share a half-written one; the first to finish is kept
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=cache_dir, prefix=f".{key}.", suffix=".tmp"))
    try:
        dd.save_to_disk(str(tmp))
        (tmp / "SOURCE").write_text(arr.source + "\n")
        if not (target / "dataset_dict.json").is_file():
            shutil.rmtree(target, ignore_errors=True)  # a damaged cache without its index
            try:
                tmp.rename(target)
            except OSError:
                if not (target / "dataset_dict.json").is_file():
                    raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def load_cache(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Read a cached ``DatasetDict`` back into numpy arrays; a clear error if the cache is damaged."""
    from datasets import load_from_disk  # noqa: PLC0415

    try:
        dd = load_from_disk(str(path))
        return {s: _columns(dd[s]) for s in ("train", "test")}
    except Exception as e:  # noqa: BLE001 - any failure here means a damaged cache
        raise DataSourceError(f"the dataset cache {path} is damaged ({e}); delete that folder and rerun "
                              "(it is rebuilt from the original source).") from e


def _columns(ds) -> tuple[np.ndarray, np.ndarray]:
    """Image and label columns of a HF dataset as numpy arrays, through the dataset's own numpy formatting."""
    cols = ds.with_format("numpy")[:]
    return np.asarray(cols["image"], dtype=np.uint8), np.asarray(cols["label"], dtype=np.int64)


def random_shift(x: torch.Tensor, shift: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Translate every image of ``x [b, C, H, W]`` by its own random whole-pixel offset in ``[-shift, shift]``.

    Each axis is drawn independently; pixels moved in from outside the frame are 0 (background).
    """
    if shift <= 0:
        return x
    b, _, h, w = x.shape
    pad = torch.nn.functional.pad(x, (shift, shift, shift, shift))
    dy, dx = torch.randint(0, 2 * shift + 1, (2, b), generator=generator, device=x.device)
    rows = (torch.arange(h, device=x.device) + dy[:, None])[:, :, None]  # [b, H, 1]
    cols = (torch.arange(w, device=x.device) + dx[:, None])[:, None, :]  # [b, 1, W]
    idx = torch.arange(b, device=x.device)[:, None, None]
    return pad.permute(0, 2, 3, 1)[idx, rows, cols].permute(0, 3, 1, 2).contiguous()


class ImageSet(Dataset):
    """uint8 images ``[N, C, H, W]`` and labels; ``ds[i] -> (x [C, H, W], y)``, ``ds[indices] -> (x [b, C, H, W], y)``.

    Images are scaled to [0, 1]; ``shift > 0`` translates each by a random offset of up to that many pixels per
    axis (a random crop of the zero-padded image), ``flip`` mirrors each left-right with probability 1/2 (both from
    torch's global generator), then ``mean`` / ``std`` (per channel) standardise them. A loader's batch is built
    at once (``__getitems__``), so a standard ``DataLoader(ds, batch_size=B)`` costs no per-sample work.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, shift: int = 0, flip: bool = False,
                 mean: torch.Tensor | None = None, std: torch.Tensor | None = None) -> None:
        self.images, self.labels, self.shift, self.flip = images, labels, shift, flip
        self.mean, self.std = mean, std

    def __len__(self) -> int:
        return len(self.labels)

    def batch(self, idx) -> tuple[torch.Tensor, torch.Tensor]:
        """Images ``idx`` as a float batch (augmented when the set is), and their labels."""
        x = self.images[idx].float().div_(255.0)
        if self.flip:
            mirror = torch.rand(len(x)) < 0.5
            x[mirror] = x[mirror].flip(-1)
        x = random_shift(x, self.shift)
        if self.mean is not None:
            x = (x - self.mean[:, None, None]) / self.std[:, None, None]
        return x, self.labels[idx]

    def __getitem__(self, idx):
        if isinstance(idx, (int, np.integer)) or (isinstance(idx, torch.Tensor) and idx.dim() == 0):
            x, y = self.batch([int(idx)])
            return x[0], y[0]
        return self.batch(idx)

    def __getitems__(self, indices: list[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        x, y = self.batch(list(indices))
        return list(zip(x, y, strict=True))


#: the name earlier code used
_Batches = ImageSet


def channel_stats(images: np.ndarray, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation of uint8 images ``[N, C, H, W]`` scaled to [0, 1] (chunked)."""
    c = images.shape[1]
    s, s2, n = np.zeros(c), np.zeros(c), 0
    for k in range(0, len(images), chunk):
        x = images[k: k + chunk].astype(np.float64) / 255.0
        s += x.sum((0, 2, 3))
        s2 += (x * x).sum((0, 2, 3))
        n += x.shape[0] * x.shape[2] * x.shape[3]
    mean = s / n
    return mean.astype(np.float32), np.sqrt(np.maximum(s2 / n - mean ** 2, 1e-12)).astype(np.float32)


class ImageDataModule(L.LightningDataModule):
    """An image classification dataset; validation carved from the training split with a seeded permutation."""

    kind = "image"

    def __init__(self, name: str = "mnist", data_dir: str | None = None, cache_dir: str = "~/.cache/bsd",
                 val_size: int = 5000, batch_size: int = 128, eval_batch_size: int = 1000,
                 seed: int = 0, allow_hub: bool = True, train_subset: int | None = None, shift: int = 0,
                 flip: bool = False, normalize: bool = False, label: str = "fine", extra: bool = False,
                 path: str | None = None, image_column: str | None = None, label_column: str | None = None,
                 train_split: str = "train", test_split: str | None = None) -> None:
        super().__init__()
        if not isinstance(shift, int) or shift < 0:
            raise ValueError(f"data.shift must be a whole number of pixels >= 0, got {shift!r}")
        if name not in NAMES:
            raise ValueError(f"data.name={name!r} is unknown; choose one of {sorted(NAMES)}")
        if batch_size < 1:
            raise ValueError(f"data.batch_size must be >= 1, got {batch_size}")
        if label not in ("fine", "coarse"):
            raise ValueError(f"data.label must be fine or coarse (CIFAR-100's label sets), got {label!r}")
        if name == "hf_images" and not path:
            raise ValueError("data=hf_images needs data.path=<save_to_disk folder | parquet file(s) | hub name>")
        self.name, self.data_dir, self.allow_hub = name, data_dir, allow_hub
        self.cache_dir = Path(cache_dir).expanduser()
        self.val_size, self.batch_size, self.eval_batch_size = val_size, batch_size, eval_batch_size
        self.seed, self.train_subset, self.shift, self.flip = seed, train_subset, shift, bool(flip)
        self.normalize, self.label, self.extra = bool(normalize), label, bool(extra)
        self.path, self.image_column, self.label_column = path, image_column, label_column
        self.train_split, self.test_split = train_split, test_split
        self.splits: dict[str, ImageSet] = {}
        self.classes: list[str] = []
        self.mean = self.std = None
        self._shape: tuple[int, ...] | None = None
        self._classes: int | None = None
        if name in SHAPES:
            self._shape, self._classes = SHAPES[name], len(CLASSES[name])
        elif name in SPECS:
            self._shape, self._classes = SPECS[name].shape, classes_of(name, label)

    @property
    def in_shape(self) -> tuple[int, ...]:
        """``(C, H, W)``; for ``hf_images`` the data's own, read on first use."""
        if self._shape is None:
            self.setup()
        return self._shape

    @property
    def num_classes(self) -> int:
        """Number of classes; for ``hf_images`` the data's own, read on first use."""
        if self._classes is None:
            self.setup()
        return self._classes

    def check_dir(self) -> None:
        """Refuse a ``data.data_dir`` that does not exist, naming it (never a silent fall back)."""
        from .image_sources import LAYOUTS

        if self.name in SHAPES:
            dir_must_exist(self.data_dir, "the four IDX files", HOW_TO_GET[self.name])
        elif self.name in SPECS:
            dir_must_exist(self.data_dir, LAYOUTS[self.name], SPECS[self.name].how)

    def prepare_data(self) -> None:  # noqa: D102
        self.check_dir()
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        if self.name in SHAPES and _has_datasets():
            build_cache(self.name, self.cache_dir, self.data_dir, self.allow_hub)

    def _arrays(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Train and test images ``[N, C, H, W]`` uint8 and int64 labels."""
        if self.name in SPECS:
            a = load_images(self.name, self.data_dir, self.cache_dir, self.allow_hub, self.label, self.extra,
                            self.image_column, self.label_column)
        elif self.name == "hf_images":
            a = self._hf_arrays()
            self._shape, self._classes = tuple(a.train_images.shape[1:]), len(a.classes)
        else:
            self.classes = list(CLASSES[self.name])
            if _has_datasets():
                arr = load_cache(build_cache(self.name, self.cache_dir, self.data_dir, self.allow_hub))
            else:
                warnings.warn("HuggingFace `datasets` cannot be imported: reading the source directly, without a "
                              "cache", stacklevel=2)
                a = load_arrays(self.name, self.data_dir, self.allow_hub)
                arr = {"train": (a.train_images, a.train_labels), "test": (a.test_images, a.test_labels)}
            return {s: (x[:, None], y) for s, (x, y) in arr.items()}
        self.source, self.classes = a.source, list(a.classes)
        return {"train": (a.train_images, a.train_labels), "test": (a.test_images, a.test_labels)}

    def _hf_arrays(self):
        from . import hf

        p = Path(self.path).expanduser()
        tag = fingerprint(p) if p.exists() else hashlib.sha1(self.path.encode()).hexdigest()[:12]
        key = f"hf_images-{tag}-" + hashlib.sha1(repr((self.image_column, self.label_column, self.train_split,
                                                          self.test_split)).encode()).hexdigest()[:8]

        def build():
            dd, source = hf.open_any(self.path, self.allow_hub)
            return hf.images_from(dd, source, self.train_split, self.test_split, None, self.image_column,
                                  self.label_column)

        return cached(self.cache_dir, key, build)

    def setup(self, stage: str | None = None) -> None:  # noqa: D102
        if self.splits:
            return
        self.check_dir()
        arr = self._arrays()
        xtr, ytr = arr["train"]
        if not 0 <= self.val_size < len(ytr):
            raise ValueError(f"data.val_size={self.val_size} must be in [0, {len(ytr)})")
        perm = np.random.default_rng(self.seed).permutation(len(ytr))
        val_idx, tr_idx = perm[: self.val_size], perm[self.val_size:]
        if self.train_subset:
            tr_idx = tr_idx[: self.train_subset]
        if self.normalize:
            mean, std = channel_stats(xtr[np.sort(tr_idx)])
            self.mean, self.std = torch.from_numpy(mean), torch.from_numpy(std)

        def mk(x, y, train=False):
            return ImageSet(torch.from_numpy(np.require(x, requirements=["C", "W"])),
                            torch.from_numpy(np.array(y, np.int64)),
                            self.shift if train else 0, self.flip and train, self.mean, self.std)

        self.splits = {"train": mk(xtr[tr_idx], ytr[tr_idx], True), "val": mk(xtr[val_idx], ytr[val_idx]),
                       "test": mk(*arr["test"])}

    def train_dataloader(self) -> DataLoader:  # noqa: D102
        return seeded_loader(self.splits["train"], self.batch_size, self.seed)

    def val_dataloader(self) -> DataLoader:  # noqa: D102
        return DataLoader(self.splits["val"], batch_size=self.eval_batch_size)

    def test_dataloader(self) -> DataLoader:  # noqa: D102
        return DataLoader(self.splits["test"], batch_size=self.eval_batch_size)
