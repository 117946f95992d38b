"""Image classification (MNIST, Fashion-MNIST): accuracy of the forward net's concept layer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
import torch
from torchmetrics import MetricCollection
from torchmetrics.classification import MulticlassAccuracy

from ..build import build_image
from ..config import CnnConfig, MlpConfig, RunConfig
from ..runs import load_checkpoint
from .base import BSDModule


class ClassifyModule(BSDModule):
    """An MLP or CNN classifier: the forward and backward nets of one stack of pyramidal layers and a rule."""

    monitor = ("val/acc", "max")
    task = "classify"
    data_kind = "image"
    archs = ("mlp", "cnn")

    def __init__(self, model: MlpConfig | CnnConfig | dict, in_shape: list[int], num_classes: int) -> None:
        super().__init__(model, in_shape=list(in_shape), num_classes=int(num_classes))
        net = build_image(self.cfg, tuple(in_shape), int(num_classes))
        self.stack, self.code, self.rule = net.stack, net.code, net.rule
        metric = MetricCollection({"acc": MulticlassAccuracy(num_classes, average="micro")})
        self.val_metrics = metric.clone(prefix="val/")
        self.test_metrics = metric.clone(prefix="test/")
        self._ema = None

    @classmethod
    def from_data(cls, cfg: RunConfig, dm: Any) -> ClassifyModule:  # noqa: D102
        return cls(cfg.model, list(dm.in_shape), dm.num_classes)

    def task_callbacks(self, cfg: RunConfig, run_dir: Path) -> list[L.Callback]:
        """The spike monitor (``observe``) and the weight average (``ema``)."""
        from ..callbacks import WeightEMA
        from ..observe import SpikeMonitor

        out: list[L.Callback] = []
        if cfg.ema.decay is not None:
            self._ema = WeightEMA(cfg.ema.decay, cfg.ema.start_epoch)
            out.append(self._ema)
        if cfg.observe.enabled:
            out.append(SpikeMonitor(cfg.observe.raster_every, cfg.observe.n_samples, run_dir / "rasters"))
        return out

    def test_checkpoint(self, trainer: L.Trainer, dm: Any, ckpt_path: str | None) -> dict[str, Any]:
        """With a weight average, also test the raw weights of the same checkpoint (``test_raw/...``)."""
        test = super().test_checkpoint(trainer, dm, ckpt_path)
        if self._ema is not None and ckpt_path is not None:
            raw = load_checkpoint(ckpt_path).get("current_model_state")
            if raw is not None:
                self.load_state_dict(raw)
                test |= {k.replace("test/", "test_raw/", 1): v
                         for k, v in super().test_checkpoint(trainer, dm, None).items()}
        return test

    # ---- evaluation -----------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores from the forward net alone."""
        return self.rule.predict(self.stack, self.code, x)

    def validation_step(self, batch, batch_idx) -> None:  # noqa: D102
        x, y = batch
        self.val_metrics.update(self(x), y)

    def on_validation_epoch_end(self) -> None:  # noqa: D102
        self.log_dict(self.val_metrics.compute(), prog_bar=True, sync_dist=True)  # metrics are global already
        self.val_metrics.reset()

    def test_step(self, batch, batch_idx) -> None:  # noqa: D102
        x, y = batch
        self.test_metrics.update(self(x), y)

    def on_test_epoch_end(self) -> None:  # noqa: D102
        self.log_dict(self.test_metrics.compute(), sync_dist=True)
        self.test_metrics.reset()
