"""Multivariate forecasting: every sensor's next step from a window of all sensors (traffic, electricity, pedestrian).

Protocol (the paper's own split and horizon are not published; docs/data.md): the panel ``[T, S]`` is split
chronologically into train / validation / test spans (``data.splits``, DCRNN's 70 / 10 / 20 by default); every
sensor is z-scored with the mean and standard deviation of the training span; a sample is a window of ``window``
steps of all sensors (plus the time of day and day of week as sine/cosine pairs when the data has time stamps)
whose target at every position is every sensor's value ``horizon`` steps later. Models train on every position
and are scored on the last one: MSE on the z-scored values (averaged over sensors), MAE and RMSE in the data's
units, beside the floors (last value, seasonal naive, a least-squares linear AR per sensor) on the same forecasts.
DCRNN's npz windows keep their own split and length; their targets are the window's continuation.
"""

from __future__ import annotations

from collections.abc import Sequence

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from .loaders import seeded_loader
from .panel_sources import Panel, Windows, read_panel
from .sources import DataSourceError
from .text import split_spans

SPLITS = ("train", "val", "test")


def calendar(times: np.ndarray) -> np.ndarray:
    """``[N, 4]``: sine and cosine of the time of day and of the day of week."""
    import pandas as pd

    t = pd.DatetimeIndex(times)
    day = (t.hour.to_numpy() * 3600 + t.minute.to_numpy() * 60 + t.second.to_numpy()) / 86400.0
    week = (t.dayofweek.to_numpy() + day) / 7.0
    return np.stack([np.sin(2 * np.pi * day), np.cos(2 * np.pi * day), np.sin(2 * np.pi * week),
                     np.cos(2 * np.pi * week)], axis=1)


class _Seqs(Dataset):
    """Window ``k`` of a span: inputs ``x[k : k+W]`` and every sensor's targets ``z[k+h : k+W+h]``."""

    def __init__(self, x: np.ndarray, z: np.ndarray, window: int, horizon: int) -> None:
        self.x, self.z = torch.from_numpy(x.astype(np.float32)), torch.from_numpy(z.astype(np.float32))
        self.window, self.horizon = window, horizon
        self.n = len(x) - window - horizon + 1

    def __len__(self) -> int:
        return max(self.n, 0)

    def __getitem__(self, k: int):
        w, h = self.window, self.horizon
        return self.x[k: k + w], self.z[k + h: k + w + h]


class PanelDataModule(L.LightningDataModule):
    """Forecast every sensor of a panel one or more steps ahead (``kind = series``, scored on all sensors)."""

    kind = "series"

    def __init__(self, name: str = "pedestrian", path: str | None = None, time_column: str | None = None,
                 key: str | None = None, window: int = 24, horizon: int = 1, season: int = 24,
                 splits: Sequence[float] = (0.7, 0.1, 0.2), calendar: bool = True, batch_size: int = 64,
                 eval_batch_size: int = 1024, seed: int = 0, unit: str = "", max_sensors: int | None = None) -> None:
        super().__init__()
        if name not in ("traffic", "electricity", "pedestrian"):
            raise ValueError(f"data.name={name!r} is unknown for panels; choose traffic, electricity or pedestrian")
        if min(window, horizon, season, batch_size) < 1:
            raise ValueError("data.window, data.horizon, data.season and data.batch_size must be >= 1, got "
                             f"{window}, {horizon}, {season}, {batch_size}")
        self.name, self.window, self.horizon, self.season = name, int(window), int(horizon), int(season)
        self.batch_size, self.eval_batch_size, self.seed, self.unit = batch_size, eval_batch_size, seed, unit
        self.change_scale = 1.0  # the models forecast the (z-scored) level
        data = read_panel(name, path, time_column, key)
        self.source = data.source
        if max_sensors:
            data.sensors = data.sensors[: int(max_sensors)]
        self.sensors = list(data.sensors)
        s = len(self.sensors)
        if isinstance(data, Windows):
            self._from_windows(data, s, calendar)
        else:
            self._from_panel(data, s, [float(f) for f in splits], calendar)
        self.columns = [*self.sensors, *self.calendar_columns]

    # ---- building the spans -------------------------------------------------------------------------------
    def _from_panel(self, p: Panel, s: int, fractions: list[float], use_calendar: bool) -> None:
        values = p.values[:, :s]
        spans = split_spans(len(values), fractions)
        for split, (a, b) in zip(SPLITS, spans, strict=True):
            if b - a < self.window + self.horizon + 1:
                raise DataSourceError(f"{self.source}: the {split} span has {b - a} steps, fewer than data.window + "
                                      f"data.horizon + 1 = {self.window + self.horizon + 1}; use a longer series, a "
                                      "shorter window or other data.splits")
        a, b = spans[0]
        self.mean = values[a:b].mean(0)
        self.std = values[a:b].std(0)
        flat = np.nonzero(self.std == 0)[0]
        if len(flat):
            raise DataSourceError(f"{self.source}: sensor {self.sensors[flat[0]]!r} is constant over the training "
                                  f"span ({len(flat)} such sensors); it cannot be z-scored: drop it")
        z = (values - self.mean) / self.std
        cal = calendar(p.times) if use_calendar and p.times is not None else np.zeros((len(z), 0))
        self.calendar_columns = ["tod_sin", "tod_cos", "dow_sin", "dow_cos"] if cal.shape[1] else []
        x = np.concatenate([z, cal], 1)
        self.z_all, self.spans = z, dict(zip(SPLITS, spans, strict=True))
        self.z = {k: z[a:b] for k, (a, b) in zip(SPLITS, spans, strict=True)}
        self.x = {k: x[a:b] for k, (a, b) in zip(SPLITS, spans, strict=True)}
        self.sets = {k: _Seqs(self.x[k], self.z[k], self.window, self.horizon) for k in SPLITS}

    def _from_windows(self, w: Windows, s: int, use_calendar: bool) -> None:
        p_in, p_out = w.x["train"].shape[1], w.y["train"].shape[1]
        if self.horizon > p_out:
            raise DataSourceError(f"{self.source}: data.horizon={self.horizon} lies beyond the {p_out} target steps "
                                  "of the windows")
        self.window = p_in
        tr = np.concatenate([w.x["train"][..., :s], w.y["train"][..., :s]], 1)
        self.mean, self.std = tr.reshape(-1, s).mean(0), tr.reshape(-1, s).std(0)
        if (self.std == 0).any():
            raise DataSourceError(f"{self.source}: a sensor is constant over the training windows; drop it")
        self.calendar_columns = ["tod_sin", "tod_cos"] if use_calendar and w.tod["train"] is not None else []
        self.sets, self.z, self.x = {}, {}, {}
        for k in SPLITS:
            seq = (np.concatenate([w.x[k][..., :s], w.y[k][..., :s]], 1) - self.mean) / self.std  # [N, P_in+P_out, S]
            x = seq[:, :p_in]
            if self.calendar_columns:
                ang = 2 * np.pi * w.tod[k]
                x = np.concatenate([x, np.sin(ang)[..., None], np.cos(ang)[..., None]], 2)
            y = seq[:, self.horizon: p_in + self.horizon]
            self.sets[k] = torch.utils.data.TensorDataset(torch.from_numpy(x.astype(np.float32)),
                                                          torch.from_numpy(y.astype(np.float32)))
            self.z[k] = seq  # every window's readings, for the floors

    # ---- what the task reads ------------------------------------------------------------------------------
    @property
    def in_shape(self) -> tuple[int]:
        """Inputs per step: every sensor, then the calendar columns."""
        return (len(self.columns),)

    @property
    def num_classes(self) -> int:
        """One output per sensor."""
        return len(self.sensors)

    @property
    def scored_outputs(self) -> int:
        """Every output is scored."""
        return len(self.sensors)

    @property
    def target_scales(self) -> list[float]:
        """Each sensor's unit per z-score unit (MAE and RMSE are in the data's units)."""
        return [float(v) for v in self.std]

    def windows(self, split: str) -> Dataset:
        """The forecasting windows of ``split``."""
        return self.sets[split]

    def train_dataloader(self) -> DataLoader:  # noqa: D102
        return seeded_loader(self.sets["train"], self.batch_size, self.seed)

    def val_dataloader(self) -> DataLoader:  # noqa: D102
        return DataLoader(self.sets["val"], batch_size=self.eval_batch_size)

    def test_dataloader(self) -> DataLoader:  # noqa: D102
        return DataLoader(self.sets["test"], batch_size=self.eval_batch_size)

    # ---- floors ---------------------------------------------------------------------------------------------
    def forecast_metrics(self, pred: np.ndarray, truth: np.ndarray, split: str = "test") -> dict[str, float]:
        """MSE on the z-scored values (mean over sensors and forecasts); MAE and RMSE in the data's units."""
        err = pred - truth
        unit = err * self.std
        return {f"{split}/mse": float(np.mean(err ** 2)), f"{split}/mae": float(np.mean(np.abs(unit))),
                f"{split}/rmse": float(np.sqrt(np.mean(unit ** 2)))}

    def _series_pairs(self, split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(history [N, W + lead, S], truth [N, S])`` of the scored forecasts (the last position of each window)."""
        w, h = self.window, self.horizon
        if split in self.x and self.z[split].ndim == 2:  # a panel: windows slide along the span
            z = self.z[split]
            n = len(z) - w - h + 1
            ends = np.arange(n) + w - 1
            return ends, z, z[ends + h]
        seq = self.z[split]  # DCRNN windows: [N, P_in + P_out, S]
        return np.arange(len(seq)), seq, seq[:, w - 1 + h]

    def floors(self, split: str = "test") -> dict[str, dict[str, float]]:
        """Last value, seasonal naive (the value ``season`` steps before the target) and a linear AR per sensor."""
        w, h = self.window, self.horizon
        ends, z, truth = self._series_pairs(split)
        windows = z.ndim == 3
        last = z[ends, w - 1] if windows else z[ends]
        preds = {"last value": last}
        if not windows:  # the value one season before each target, looked up in the whole series
            back = self.spans[split][0] + ends + h - self.season
            if (back >= 0).all():
                preds[f"seasonal naive ({self.season} steps)"] = self.z_all[back]
        preds["linear AR per sensor (least squares)"] = self._ar(split)
        return {k: self.forecast_metrics(np.asarray(p, np.float64), truth, split) for k, p in preds.items()}

    def _ar(self, split: str) -> np.ndarray:
        """Each sensor's value ``horizon`` steps on from a least-squares map of its own window (fitted on train)."""
        w, h = self.window, self.horizon

        def design(z: np.ndarray, windows: bool) -> tuple[np.ndarray, np.ndarray]:
            if windows:
                hist, y = z[:, :w], z[:, w - 1 + h]  # [N, W, S], [N, S]
            else:
                idx = np.arange(len(z) - w - h + 1)[:, None] + np.arange(w)
                hist, y = z[idx], z[idx[:, -1] + h]
            return hist, y

        tr_hist, tr_y = design(self.z["train"], self.z["train"].ndim == 3)
        te_hist, _ = design(self.z[split], self.z[split].ndim == 3)
        out = np.empty((len(te_hist), tr_y.shape[1]))
        for s in range(tr_y.shape[1]):
            X = np.c_[tr_hist[:, :, s], np.ones(len(tr_hist))]
            coef, *_ = np.linalg.lstsq(X, tr_y[:, s], rcond=None)
            out[:, s] = np.c_[te_hist[:, :, s], np.ones(len(te_hist))] @ coef
        return out
