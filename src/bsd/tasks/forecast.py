"""Forecasting: the spiking RNN's forecast after each whole window, scored on the normalised level.

Metrics: MSE of the normalised level (also when the models output the change from the last value or a
residual), MAE and RMSE in the series' unit.
"""

from __future__ import annotations

from typing import Any

import torch
from torchmetrics import MeanAbsoluteError, MeanSquaredError, MetricCollection

from ..config import RnnConfig, RunConfig
from .sequence import SequenceModule


class ForecastModule(SequenceModule):
    """A spiking RNN trained on next-step targets of a normalised series; inputs are feature vectors."""

    monitor = ("val/mse", "min")
    task = "forecast"
    data_kind = "series"
    rule_task = "regress"

    def __init__(self, model: RnnConfig | dict, in_shape: list[int], num_classes: int,
                 columns: list[str] | None = None, target_scale: float = 1.0, level_scale: float = 1.0) -> None:
        info = dict(in_shape=list(in_shape), num_classes=int(num_classes), columns=columns,
                    target_scale=float(target_scale), level_scale=float(level_scale))
        super().__init__(model, info, columns=columns)
        #: the series' unit per normalised unit (MAE and RMSE are in the unit)
        self.target_scale = float(target_scale)
        #: normalised level units per output unit: the level's error is this times the output's
        self.level_scale = float(level_scale)
        metric = MetricCollection({"mse": MeanSquaredError(), "mae": MeanAbsoluteError(),
                                   "rmse": MeanSquaredError(squared=False)})
        self.val_metrics = metric.clone(prefix="val/")
        self.test_metrics = metric.clone(prefix="test/")

    @classmethod
    def from_data(cls, cfg: RunConfig, dm: Any) -> ForecastModule:  # noqa: D102
        return cls(cfg.model, list(dm.in_shape), dm.num_classes, list(dm.columns), float(dm.std[0]), dm.change_scale)

    def update(self, metrics, prefix: str, x: torch.Tensor, y: torch.Tensor) -> None:
        """The forecast after the whole window (auxiliary horizons unscored), on the level."""
        out = self.eval_output(x)
        k = self.level_scale
        last = y[:, -1, 0] if y.dim() == 3 else y[:, -1]
        pred, target = out[:, -1, 0] * k, last.to(out.dtype) * k
        metrics[f"{prefix}mse"].update(pred, target)
        metrics[f"{prefix}mae"].update(pred * self.target_scale, target * self.target_scale)
        metrics[f"{prefix}rmse"].update(pred * self.target_scale, target * self.target_scale)
