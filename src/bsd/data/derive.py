"""Defaults a forecast derives from its own series, for the config keys left ``null``.

From the time stamps: the step and the period (the day for steps shorter than a day, the week for daily steps,
about a year for weekly ones). From the period: the window, the target's lags and the seasonal-naive season. From
the period and the training span: the groups of the residual map (one map per step of the day, every day alike,
with fewer groups where the training span holds too few rows for so many least-squares maps) and
the range of the target's population code (quantiles of the training targets). Nothing here reads the validation
or the test span. ``python src/train.py +experiment=timeseries`` leaves these keys null; docs/experiments/forecast.md
shows how the rules were chosen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .sources import DataSourceError

#: the keys a forecast may leave null for its series to decide
KEYS = ("data.window", "data.lags", "data.season", "data.residual_parts", "data.residual_days", "model.code.lo",
        "model.code.hi")
#: at most this many steps of history per window (a day of five-minute steps would be 288)
MAX_WINDOW = 96
#: training rows per coefficient that every group of the residual map needs (its least-squares fit)
ROWS_PER_COEF = 4
#: the target code spans the training targets between these quantiles
CODE_QUANTILES = (0.005, 0.995)
#: steps of a weekly series' period: about a year
WEEKS_PER_YEAR = 52

_DAY_S, _WEEK_S = 86400, 7 * 86400
#: steps a calendar unit can take, in days: months, quarters, years (none is a fixed step)
_CALENDAR = {"monthly": (28, 31), "quarterly": (89, 92), "yearly": (365, 366)}


@dataclass(frozen=True)
class Spacing:
    """The fixed step of a series' time stamps and how many steps make a day and a week (None: not a whole number)."""

    step_s: int
    per_day: int | None
    per_week: int | None

    @property
    def period(self) -> int | None:
        """Steps of the shortest calendar cycle: the day (steps under a day), the week (daily), a year (weekly)."""
        if self.per_day and self.per_day >= 2:
            return self.per_day
        if self.per_day == 1:
            return 7
        if self.per_week == 1:
            return WEEKS_PER_YEAR
        return None

    @property
    def cycle(self) -> str:
        """The period's name: ``day``, ``week`` or ``year``."""
        return "day" if self.per_day and self.per_day >= 2 else "week" if self.per_day == 1 else "year"

    def __str__(self) -> str:
        import pandas as pd

        return str(pd.Timedelta(seconds=self.step_s))


def check_steps(times, source: str, column: str) -> None:
    """Strictly increasing, evenly spaced time stamps (pandas, UTC); a ``DataSourceError`` names the first bad row."""
    import pandas as pd

    times = pd.Series(pd.DatetimeIndex(times))
    if len(times) < 2:
        return
    steps = times.diff().iloc[1:]
    if (steps <= pd.Timedelta(0)).any():
        k = int(np.argmax((steps <= pd.Timedelta(0)).to_numpy())) + 1
        what = "a duplicate time stamp" if times.iloc[k] == times.iloc[k - 1] else "times out of order"
        raise DataSourceError(f"{source}: column {column!r} holds {what} at row {k} ({times.iloc[k - 1]} then "
                              f"{times.iloc[k]}); expected strictly increasing times: sort the file by {column!r} "
                              "and drop repeated rows")
    step = steps.mode().iloc[0]
    bad = np.nonzero((steps != step).to_numpy())[0]
    if len(bad):
        days = steps.dt.total_seconds().to_numpy() / _DAY_S
        for name, (lo, hi) in _CALENDAR.items():
            if np.all((days >= lo) & (days <= hi)):
                raise DataSourceError(f"{source}: column {column!r} is {name} ({lo} to {hi} days apart): calendar "
                                      "units are not a fixed step; the forecaster needs evenly spaced time stamps "
                                      "(seconds, hours, days or weeks)")
        k = int(bad[0]) + 1
        raise DataSourceError(f"{source}: the series has a gap or irregular step at row {k} "
                              f"({times.iloc[k - 1]} -> {times.iloc[k]}, expected every {step}); "
                              f"{len(bad)} irregular step(s) in all. Fill or resample the series first")


def spacing(times, source: str = "the series", column: str = "time") -> Spacing:
    """The step of evenly spaced time stamps and the steps per day and per week (:func:`check_steps` first)."""
    import pandas as pd

    idx = pd.DatetimeIndex(times)
    if len(idx) < 2:
        raise DataSourceError(f"{source}: column {column!r} holds {len(idx)} time stamp(s); the step of a series "
                              "needs at least two")
    check_steps(idx, source, column)
    step = int(round((idx[1] - idx[0]).total_seconds()))
    if step <= 0:  # steps under a second
        raise DataSourceError(f"{source}: column {column!r} steps by {idx[1] - idx[0]}, under a second")
    return Spacing(step, _DAY_S // step if _DAY_S % step == 0 else None,
                   _WEEK_S // step if _WEEK_S % step == 0 else None)


def period_of(sp: Spacing, source: str) -> int:
    """:attr:`Spacing.period`, or a ``DataSourceError`` saying which keys to set where the step has none."""
    if sp.period is None:
        raise DataSourceError(f"{source}: a step of {sp} divides neither a day nor a week, so the series has no "
                              "period to derive defaults from; set data.window, data.lags, data.season, "
                              "data.residual_parts and data.residual_days")
    return sp.period


def window_of(sp: Spacing, source: str) -> int:
    """One period of history, at most :data:`MAX_WINDOW` steps."""
    return min(period_of(sp, source), MAX_WINDOW)


def residual_groups(sp: Spacing, train_rows: int, coefficients: int) -> tuple[int, int]:
    """``(parts of the day, day groups)`` of the residual map.

    One map per step of the day, every day alike (steps under a day), one per day of the week
    (daily steps), one map (longer steps). Each group needs :data:`ROWS_PER_COEF` training rows per coefficient of
    its map: where the training span holds fewer, the day groups merge first (7, 2, 1), then neighbouring parts of
    the day (halved until they fit, down to one).
    """
    parts = sp.per_day if sp.per_day and sp.per_day >= 2 else 1
    days = 7 if sp.per_day == 1 else 1
    need = ROWS_PER_COEF * coefficients

    def fits(p: int, d: int) -> bool:
        return train_rows / (p * d) >= need

    while days > 1 and not fits(parts, days):
        days = {7: 2, 2: 1}[days]
    while parts > 1 and not fits(parts, days):
        parts //= 2
    return parts, days


def check_length(train_rows: int, coefficients: int, sp: Spacing, window: int, source: str) -> None:
    """A training span too short for one least-squares map of the derived inputs stops with what it needs."""
    need = ROWS_PER_COEF * coefficients
    if train_rows < need:
        raise DataSourceError(f"{source}: the training span holds {train_rows} rows, too few for the defaults derived "
                              f"from the series (a step of {sp}, a window and lags of {window} steps: one {sp.cycle}); "
                              f"its least-squares map of {coefficients} coefficients needs at least {need} "
                              f"({ROWS_PER_COEF} per coefficient). Use a longer series, or set data.window and "
                              "data.lags by hand")


def code_range(train_targets: np.ndarray, source: str) -> tuple[float, float]:
    """``(lo, hi)`` of the target's population code: the :data:`CODE_QUANTILES` of the training targets."""
    y = np.asarray(train_targets, dtype=np.float64).ravel()
    lo, hi = (float(v) for v in np.quantile(y, CODE_QUANTILES)) if len(y) else (0.0, 0.0)
    lo, hi = round(lo, 3), round(hi, 3)
    if not hi > lo:
        raise DataSourceError(f"{source}: the training targets are (nearly) constant, so no code range can be "
                              "derived from them; set model.code.lo and model.code.hi")
    return lo, hi


def unset(cfg) -> list[str]:
    """The keys of :data:`KEYS` that the composed config leaves null (absent keys are not listed)."""
    from omegaconf import OmegaConf

    absent = object()
    return [k for k in KEYS if OmegaConf.select(cfg, k, default=absent) is None]


def fill(cfg, dm: Any) -> dict[str, Any]:
    """Write the values the data module derived into the config's null keys; return them by key.

    ``data.*`` from ``dm.derived``, ``model.code.lo`` / ``hi`` from ``dm.code_range()``. A key the data cannot
    decide stops with a message naming it.
    """
    from omegaconf import OmegaConf

    out: dict[str, Any] = {}
    derived = getattr(dm, "derived", {}) or {}
    for key in unset(cfg):
        if key.startswith("data."):
            if key not in derived:
                raise ValueError(f"{key}=null: data={cfg.data.get('name')} derives no {key.split('.', 1)[1]} from "
                                 "its series; set it")
            out[key] = derived[key]
        else:
            if not hasattr(dm, "code_range"):
                raise ValueError(f"{key}=null derives the code's range from a forecast's training targets; "
                                 f"data={cfg.data.get('name')} has none: set model.code.lo and model.code.hi")
            lo, hi = dm.code_range()
            out[key] = lo if key.endswith(".lo") else hi
    for key, value in out.items():
        OmegaConf.update(cfg, key, value, merge=False)
    return out
