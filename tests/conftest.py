"""Shared fixtures: small stacks, a tiny IDX dataset on disk, composed Hydra configs."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "conf"

os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")
torch.set_num_threads(min(2, torch.get_num_threads()))


def write_idx(path: Path, arr: np.ndarray, compress: bool = True) -> Path:
    """Write ``arr`` (uint8) as an IDX file, gzip-compressed when ``compress``."""
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    data = header + arr.astype(np.uint8).tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


@pytest.fixture
def idx_dir(tmp_path: Path) -> Path:
    """Four small IDX files (200 train, 50 test, 28x28, 10 classes) with class-dependent images."""
    rng = np.random.default_rng(0)
    d = tmp_path / "idx"
    d.mkdir()
    for split, n in (("train", 200), ("t10k", 50)):
        y = np.arange(n) % 10
        x = (rng.random((n, 28, 28)) * 60).astype(np.uint8)
        for k in range(n):
            x[k, y[k] * 2: y[k] * 2 + 6, :] = 255
        write_idx(d / f"{split}-images-idx3-ubyte", x)
        write_idx(d / f"{split}-labels-idx1-ubyte", y.astype(np.uint8))
    return d


def compose(overrides: list[str]):
    """Compose the project config like ``src/train.py`` would, with a stable run dir."""
    from hydra import compose as hcompose
    from hydra import initialize_config_dir

    import bsd.config  # noqa: F401 - registers the schemas

    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return hcompose(config_name="config", overrides=overrides, return_hydra_config=False)


def model_of(overrides: list[str]):
    """The typed ``model`` config (schema object) that ``overrides`` compose to."""
    from omegaconf import OmegaConf

    return OmegaConf.to_object(compose(overrides).model)


@pytest.fixture(scope="session")
def mnist_feature_net(tmp_path_factory):
    """An FID feature network trained for two epochs on 4000 real MNIST images: (path, checkpoint, data module)."""
    from bsd.data import ImageDataModule
    from bsd.fid import save_feature_net, train_feature_net

    d = tmp_path_factory.mktemp("fid")
    dm = ImageDataModule("mnist", train_subset=4000, val_size=500)
    ckpt = train_feature_net(dm, epochs=2, log=lambda *_: None)
    path = d / "mnist-classifier.pt"
    save_feature_net(ckpt, path)
    return path, ckpt, dm


def _refused():
    from hydra.errors import ConfigCompositionException

    return (ValueError, ConfigCompositionException)


#: what a refused config raises: Hydra's composition error (types, choices, unknown keys) or a range check's
REFUSED = _refused()
