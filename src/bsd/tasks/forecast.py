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
                 columns: list[str] | None = None, target_scale: float | list[float] = 1.0, level_scale: float = 1.0,
                 scored: int = 1) -> None:
        scale = [float(v) for v in target_scale] if isinstance(target_scale, (list, tuple)) else float(target_scale)
        info = dict(in_shape=list(in_shape), num_classes=int(num_classes), columns=columns,
                    target_scale=scale, level_scale=float(level_scale), scored=int(scored))
        super().__init__(model, info, columns=columns)
        #: how many outputs are scored (1: the first, the scored horizon; a panel: every sensor)
        self.scored = int(scored)
        #: the series' unit per normalised unit, one value or one per scored output (MAE and RMSE are in the unit)
        self.target_scale = torch.tensor(scale, dtype=torch.float32).reshape(-1)
        #: normalised level units per output unit: the level's error is this times the output's
        self.level_scale = float(level_scale)
        metric = MetricCollection({"mse": MeanSquaredError(), "mae": MeanAbsoluteError(),
                                   "rmse": MeanSquaredError(squared=False)})
        self.val_metrics = metric.clone(prefix="val/")
        self.test_metrics = metric.clone(prefix="test/")

    @classmethod
    def from_data(cls, cfg: RunConfig, dm: Any) -> ForecastModule:  # noqa: D102
        scored = int(getattr(dm, "scored_outputs", 1))  # a panel of sensors scores every output
        scale = list(dm.target_scales) if scored > 1 else float(dm.std[0])
        return cls(cfg.model, list(dm.in_shape), dm.num_classes, list(dm.columns), scale, dm.change_scale, scored)

    def update(self, metrics, prefix: str, x: torch.Tensor, y: torch.Tensor) -> None:
        """The forecast after the whole window (auxiliary horizons unscored), on the level."""
        out = self.eval_output(x)
        k = self.level_scale
        n = self.scored
        last = y[:, -1, :n] if y.dim() == 3 else y[:, -1, None]
        pred, target = out[:, -1, :n] * k, last.to(out.dtype) * k
        unit = self.target_scale.to(out.device, out.dtype)
        metrics[f"{prefix}mse"].update(pred, target)
        metrics[f"{prefix}mae"].update(pred * unit, target * unit)
        metrics[f"{prefix}rmse"].update(pred * unit, target * unit)
