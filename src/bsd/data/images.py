"""MNIST and Fashion-MNIST as a LightningDataModule backed by cached HuggingFace datasets."""

from __future__ import annotations

import shutil
import tempfile
import warnings
from functools import cache
from pathlib import Path

import lightning as L
import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler

from .sources import DataSourceError, load_arrays

SHAPES = {"mnist": (1, 28, 28), "fashion_mnist": (1, 28, 28)}
CLASSES = {
    "mnist": [str(i) for i in range(10)],
    "fashion_mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                      "Ankle boot"],
}


@cache
def _has_datasets() -> bool:
    try:
        import datasets  # noqa: F401
    except Exception:  # noqa: BLE001 - a broken install counts as missing
        return False
    return True


def build_cache(name: str, cache_dir: Path, data_dir: str | None, allow_hub: bool) -> Path:
    """Write ``name`` as a HuggingFace ``DatasetDict`` under ``cache_dir`` (atomically) unless present."""
    from datasets import Array2D, ClassLabel, Dataset, DatasetDict, Features  # noqa: PLC0415

    target = cache_dir / name
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
    tmp = Path(tempfile.mkdtemp(dir=cache_dir, prefix=f".{name}.", suffix=".tmp"))
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


class _Batches(Dataset):
    """Index a whole batch at once: ``ds[list_of_indices] -> (x float [b, 1, H, W] in [0, 1], y)``.

    ``shift > 0`` translates every image by a random offset of up to that many pixels (training only).
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, shift: int = 0) -> None:
        self.images, self.labels, self.shift = images, labels, shift

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, idx):
        return random_shift(self.images[idx].float().div_(255.0), self.shift), self.labels[idx]


class ImageDataModule(L.LightningDataModule):
    """Real 60k/10k MNIST or Fashion-MNIST; validation carved from train with a seeded split."""

    kind = "image"

    def __init__(self, name: str = "mnist", data_dir: str | None = None, cache_dir: str = "~/.cache/bsd",
                 val_size: int = 5000, batch_size: int = 128, eval_batch_size: int = 1000,
                 seed: int = 0, allow_hub: bool = True, train_subset: int | None = None, shift: int = 0) -> None:
        super().__init__()
        if not isinstance(shift, int) or shift < 0:
            raise ValueError(f"data.shift must be a whole number of pixels >= 0, got {shift!r}")
        if name not in SHAPES:
            raise ValueError(f"data.name={name!r} is unknown; choose one of {sorted(SHAPES)}")
        if batch_size < 1:
            raise ValueError(f"data.batch_size must be >= 1, got {batch_size}")
        self.name, self.data_dir, self.allow_hub = name, data_dir, allow_hub
        self.cache_dir = Path(cache_dir).expanduser()
        self.val_size, self.batch_size, self.eval_batch_size = val_size, batch_size, eval_batch_size
        self.seed, self.train_subset, self.shift = seed, train_subset, shift
        self.in_shape, self.num_classes = SHAPES[name], len(CLASSES[name])
        self.splits: dict[str, _Batches] = {}

    def prepare_data(self) -> None:  # noqa: D102
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        if _has_datasets():
            build_cache(self.name, self.cache_dir, self.data_dir, self.allow_hub)

    def _arrays(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        if _has_datasets():
            return load_cache(build_cache(self.name, self.cache_dir, self.data_dir, self.allow_hub))
        warnings.warn("HuggingFace `datasets` cannot be imported: reading the source directly, without a cache",
                      stacklevel=2)
        a = load_arrays(self.name, self.data_dir, self.allow_hub)
        return {"train": (a.train_images, a.train_labels), "test": (a.test_images, a.test_labels)}

    def setup(self, stage: str | None = None) -> None:  # noqa: D102
        if self.splits:
            return
        arr = self._arrays()
        xtr, ytr = arr["train"]
        if not 0 <= self.val_size < len(ytr):
            raise ValueError(f"data.val_size={self.val_size} must be in [0, {len(ytr)})")
        perm = np.random.default_rng(self.seed).permutation(len(ytr))
        val_idx, tr_idx = perm[: self.val_size], perm[self.val_size:]
        if self.train_subset:
            tr_idx = tr_idx[: self.train_subset]

        def mk(x, y, shift=0):
            return _Batches(torch.from_numpy(np.array(x)).unsqueeze(1), torch.from_numpy(np.array(y)), shift)

        self.splits = {"train": mk(xtr[tr_idx], ytr[tr_idx], self.shift), "val": mk(xtr[val_idx], ytr[val_idx]),
                       "test": mk(*arr["test"])}

    def _loader(self, split: str, shuffle: bool, bs: int) -> DataLoader:
        ds = self.splits[split]
        sampler = RandomSampler(ds) if shuffle else SequentialSampler(ds)
        return DataLoader(ds, batch_size=None, sampler=BatchSampler(sampler, bs, drop_last=False))

    def train_dataloader(self) -> DataLoader:  # noqa: D102
        return self._loader("train", True, self.batch_size)

    def val_dataloader(self) -> DataLoader:  # noqa: D102
        return self._loader("val", False, self.eval_batch_size)

    def test_dataloader(self) -> DataLoader:  # noqa: D102
        return self._loader("test", False, self.eval_batch_size)
