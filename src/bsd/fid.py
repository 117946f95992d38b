"""FID (classifier features): a small BP-trained CNN classifier as torchmetrics' FID feature extractor.

The standard Inception FID needs weights that cannot be downloaded on offline machines, so the
project trains its own feature network on the same dataset and reports "FID (classifier
features)". It is never comparable to an Inception FID. When Inception weights are available
locally (``fid.inception_weights``), the Inception FID is computed as well.

The networks for MNIST and Fashion-MNIST ship with the package (``src/bsd/assets/fid``), so every
clone and machine scores with the same weights: networks retrained on other machines and sessions
differed, and FIDs from two networks are not comparable. Each run records the
network's fingerprint (:func:`fingerprint`). Other datasets train theirs on first use into the cache:
``python -m bsd.fid --data NAME`` (writes ``<cache_dir>/fid/NAME-classifier.pt``; ``--out`` elsewhere).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .errors import user_errors
from .runs import atomic_write_bytes

FEATURES = 128
TRAIN_COMMAND = "python -m bsd.fid --data {name}"
#: where the package's own feature networks lie (``<dataset>-classifier.pt``)
SHIPPED_DIR = Path(__file__).resolve().parent / "assets" / "fid"


class FeatureClassifier(nn.Module):
    """conv3x3(C->32)-ReLU-maxpool-conv3x3(32->64)-ReLU-maxpool-fc(->128)-ReLU-fc(->classes).

    ``forward`` returns the 128 penultimate features (what FID compares); ``logits`` the class scores.
    """

    num_features = FEATURES

    def __init__(self, in_shape: tuple[int, int, int] = (1, 28, 28), num_classes: int = 10) -> None:
        super().__init__()
        c, h, w = in_shape
        self.body = nn.Sequential(
            nn.Conv2d(c, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * (h // 4) * (w // 4), FEATURES), nn.ReLU())
        self.head = nn.Linear(FEATURES, num_classes)
        self.in_shape = tuple(in_shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Features ``[B, 128]`` of images ``[B, C, H, W]`` in [0, 1] (uint8 images in 0..255 are scaled first)."""
        x = x.float().div(255.0) if x.dtype == torch.uint8 else x.float()
        return self.body(x.reshape(x.shape[0], *self.in_shape))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores."""
        return self.head(self(x))


def default_path(cache_dir: str | Path, name: str) -> Path:
    """Where the feature network for dataset ``name`` is cached."""
    return Path(cache_dir).expanduser() / "fid" / f"{name}-classifier.pt"


def shipped_path(name: str, shipped_dir: str | Path | None = None) -> Path:
    """The feature network shipped for dataset ``name`` (it may not exist: only MNIST and Fashion-MNIST ship)."""
    return Path(shipped_dir or SHIPPED_DIR) / f"{name}-classifier.pt"


def fingerprint(state_dict: dict[str, torch.Tensor]) -> str:
    """First 12 hex digits of the SHA-256 of a state dict's names, shapes and float32 values, in name order.

    Two runs scored with the same feature network carry the same fingerprint; their FIDs compare.
    """
    h = hashlib.sha256()
    for k in sorted(state_dict):
        t = state_dict[k].detach().to("cpu", torch.float32).contiguous()
        h.update(f"{k}:{tuple(t.shape)};".encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()[:12]


def train_feature_net(dm, epochs: int = 3, lr: float = 1e-3, seed: int = 0, log=print) -> dict[str, Any]:
    """Train the classifier with BP on ``dm``'s train split; returns the checkpoint dict (with test accuracy)."""
    torch.manual_seed(seed)
    dm.prepare_data()
    dm.setup("fit")
    net = FeatureClassifier(dm.in_shape, dm.num_classes)
    opt = torch.optim.AdamW(net.parameters(), lr=lr)
    t0 = time.perf_counter()
    for ep in range(epochs):
        net.train()
        for x, y in dm.train_dataloader():
            loss = F.cross_entropy(net.logits(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        log(f"feature network epoch {ep + 1}/{epochs}: last batch loss {loss.item():.4f}")
    net.eval()
    with torch.no_grad():
        correct = total = 0
        for x, y in dm.test_dataloader():
            correct += (net.logits(x).argmax(1) == y).sum().item()
            total += len(y)
    return {"state_dict": net.state_dict(), "dataset": dm.name, "in_shape": list(dm.in_shape),
            "num_classes": dm.num_classes, "test_acc": correct / total, "epochs": epochs, "seed": seed,
            "train_time_s": time.perf_counter() - t0, "command": TRAIN_COMMAND.format(name=dm.name)}


def save_feature_net(ckpt: dict[str, Any], path: str | Path) -> None:
    """Write atomically (never half-written)."""
    buf = io.BytesIO()
    torch.save(ckpt, buf)
    atomic_write_bytes(path, buf.getvalue())


def load_feature_net(path: str | Path, dataset: str | None = None) -> tuple[FeatureClassifier, dict[str, Any]]:
    """The feature network at ``path`` (eval mode) and its metadata.

    Clear errors for a missing, corrupt or wrong-dataset file.
    """
    p = Path(path).expanduser()
    if not p.is_file():
        hint = TRAIN_COMMAND.format(name=dataset or "mnist")
        raise FileNotFoundError(f"FID feature network {p} does not exist; train it with `{hint}` "
                                f"(or set fid.features=null to use and fill the default cache)")
    try:
        ckpt = torch.load(p, map_location="cpu", weights_only=True)
        net = FeatureClassifier(tuple(ckpt["in_shape"]), ckpt["num_classes"])
        net.load_state_dict(ckpt["state_dict"])
    except Exception as e:  # noqa: BLE001 - any unreadable file gets the same message
        raise ValueError(f"{p} is not a readable FID feature network ({e}); delete it and retrain with "
                         f"`{TRAIN_COMMAND.format(name=dataset or 'mnist')}`") from e
    if dataset is not None and ckpt.get("dataset") != dataset:
        raise ValueError(f"FID feature network {p} was trained on {ckpt.get('dataset')!r}, not {dataset!r}; "
                         f"use the one for {dataset!r} (`{TRAIN_COMMAND.format(name=dataset)}`)")
    net.eval()
    for q in net.parameters():
        q.requires_grad_(False)
    meta = {k: v for k, v in ckpt.items() if k != "state_dict"}
    meta["sha256"] = fingerprint(ckpt["state_dict"])
    return net, meta


def ensure_feature_net(path: str | None, dm, log=print, shipped_dir: str | Path | None = None
                       ) -> tuple[Path, FeatureClassifier, dict[str, Any]]:
    """A usable feature network for ``dm``'s dataset: ``(path, network, metadata)``.

    An explicit ``path`` must exist (clear error otherwise). With ``path=None`` the network shipped
    for the dataset is used (``shipped_dir``, default :data:`SHIPPED_DIR`); a dataset without one
    uses the default cache, and its network is trained and cached there first if it is missing.
    """
    if not path and shipped_path(dm.name, shipped_dir).is_file():
        p = shipped_path(dm.name, shipped_dir)
        return (p, *load_feature_net(p, dm.name))
    p = Path(path).expanduser() if path else default_path(dm.cache_dir, dm.name)
    if not path and not p.is_file():
        log(f"training the FID feature network for {dm.name} (cached at {p}; done once)")
        ckpt = train_feature_net(dm, log=log)
        save_feature_net(ckpt, p)
        log(f"feature network test accuracy {100 * ckpt['test_acc']:.2f} %")
    return (p, *load_feature_net(p, dm.name))


def make_fid(net: nn.Module, keep_real: bool = False):
    """Torchmetrics FID over the classifier features (images as float ``[B, C, H, W]`` in [0, 1]).

    ``normalize=False``: every torchmetrics version passes the float images to a custom network unchanged (some
    convert them to uint8 with ``normalize=True``). ``reset()`` clears the real images' statistics too, so a second
    test of the same model feeds and counts them once again, not twice; ``keep_real``: it keeps them (one set of
    real images scored against several sets of samples, fed once).
    """
    from torchmetrics.image.fid import FrechetInceptionDistance

    return FrechetInceptionDistance(feature=net, normalize=False, reset_real_features=not keep_real)


def feed(metric: Any, images: torch.Tensor, real: bool, chunk: int = 1000) -> None:
    """Update an FID ``metric`` with ``images`` in chunks of ``chunk`` (bounds the feature network's memory)."""
    for i in range(0, len(images), chunk):
        metric.update(images[i:i + chunk], real=real)


class InceptionFID(nn.Module):
    """Standard Inception FID from locally stored weights (torch-fidelity's FID Inception v3 file)."""

    def __init__(self, weights: str | Path) -> None:
        super().__init__()
        p = Path(weights).expanduser()
        if not p.is_file():
            raise FileNotFoundError(f"fid.inception_weights={p} does not exist; give the path of the FID Inception "
                                    "v3 weights file (pt_inception-2015-12-05) or set it to null")
        try:
            from torchmetrics.image.fid import FrechetInceptionDistance
            self.fid = FrechetInceptionDistance(feature=2048, normalize=True, reset_real_features=False,
                                                feature_extractor_weights_path=str(p))
        except (ImportError, ModuleNotFoundError) as e:
            raise ValueError("Inception FID needs the torch-fidelity package: pip install torch-fidelity") from e

    def update(self, imgs: torch.Tensor, real: bool) -> None:
        """Grey images are repeated to three channels."""
        if imgs.shape[1] == 1:
            imgs = imgs.repeat(1, 3, 1, 1)
        self.fid.update(imgs.clamp(0, 1), real=real)

    def compute(self) -> torch.Tensor:  # noqa: D102
        return self.fid.compute()


def main(argv: list[str] | None = None) -> None:
    """Command line: train and cache the FID feature network of a dataset."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="mnist", help="mnist | fashion_mnist")
    ap.add_argument("--data-dir", default=None, help="folder with the four IDX files (optional)")
    ap.add_argument("--cache-dir", default="~/.cache/bsd")
    ap.add_argument("--out", default=None, help="output file (default: <cache-dir>/fid/<data>-classifier.pt)")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    with user_errors():
        from .data import ImageDataModule

        if a.epochs < 1:
            raise ValueError(f"--epochs must be >= 1, got {a.epochs}")
        dm = ImageDataModule(a.data, a.data_dir, a.cache_dir, seed=a.seed)
        ckpt = train_feature_net(dm, a.epochs, seed=a.seed)
        out = Path(a.out) if a.out else default_path(a.cache_dir, a.data)
        save_feature_net(ckpt, out)
    print(f"feature network for {a.data}: test accuracy {100 * ckpt['test_acc']:.2f} % "
          f"({ckpt['train_time_s']:.0f} s) -> {out}")


if __name__ == "__main__":
    main()
