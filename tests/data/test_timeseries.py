"""Forecasting data: CSV validation, train-only normalisation, windows and floors."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from bsd.data.sources import DataSourceError
from bsd.data.timeseries import TimeSeriesDataModule


def csv(tmp_path: Path, n=400, **cols) -> Path:
    t = pd.date_range("2020-01-01", periods=n, freq="h")
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"time": t.astype(str), "load": np.sin(np.arange(n) / 4) * 10 + 50 + rng.normal(0, .1, n),
                       "temp": rng.normal(20, 3, n), **cols})
    p = tmp_path / "series.csv"
    df.to_csv(p, index=False)
    return p


def dm(path, **kw):
    args = dict(time_column="time", target="load", features=["temp"], window=12, horizon=1, season=24,
                splits=[0.6, 0.2, 0.2])
    args.update(kw)
    return TimeSeriesDataModule("csv", str(path), **args)


def test_normalisation_uses_the_training_span_only(tmp_path):
    m = dm(csv(tmp_path))
    a, b = m.spans[0]
    assert abs(m.series[a:b, 0].mean()) < 1e-5 and abs(m.series[a:b, 0].std() - 1) < 1e-4
    assert m.columns == ["load", "temp", "tod_sin", "tod_cos", "dow_sin", "dow_cos"]
    x, y = m.windows("test")[0]
    assert x.shape == (12, 6) and y.shape == (12,)
    ta, _ = m.spans[2]
    assert y[-1] == pytest.approx(float(m.series[ta + 12, 0]))  # last position's target: one step after the window


def test_floors_are_exact_where_they_should_be(tmp_path):
    n = 500
    t = pd.date_range("2020-01-01", periods=n, freq="h")
    lin = pd.DataFrame({"time": t, "load": 0.5 * np.arange(n) + 3.0, "temp": np.ones(n)})
    p = tmp_path / "lin.csv"
    lin.to_csv(p, index=False)
    fl = dm(p, calendar=False, features=[]).floors()
    assert fl["linear AR (least squares)"]["test/mse"] < 1e-8  # a linear trend is an exact AR(1) with drift
    assert fl["last value"]["test/mae"] == pytest.approx(0.5, rel=1e-3)  # MAE in the original unit
    assert fl["seasonal naive"]["test/mae"] == pytest.approx(0.5 * 24, rel=1e-3)


def test_lags_append_the_targets_past_values_and_leave_the_floors_alone(tmp_path):
    path = csv(tmp_path)
    plain, lagged = dm(path), dm(path, lags=3)
    assert lagged.in_shape == (plain.in_shape[0] + 3,)
    assert lagged.columns[-3:] == ["load_lag1", "load_lag2", "load_lag3"]
    x, _ = lagged.windows("test")[5]
    x0, _ = plain.windows("test")[5]
    assert np.array_equal(x[:, :6].numpy(), x0.numpy())
    for k in (1, 2, 3):  # lag k at a position is the target k steps earlier (here: inside the window)
        assert np.array_equal(x[k:, 5 + k].numpy(), x0[:-k, 0].numpy())
    assert lagged.floors() == plain.floors()
    with pytest.raises(ValueError, match="data.lags"):
        dm(path, lags=-1)
    both = dm(path, lags=3, feature_lags=2)  # then each feature's own past values
    assert both.columns[-5:] == ["load_lag1", "load_lag2", "load_lag3", "temp_lag1", "temp_lag2"]
    xb, _ = both.windows("test")[5]
    assert np.array_equal(xb[:, :9].numpy(), x.numpy())
    for k in (1, 2):
        assert np.array_equal(xb[k:, 8 + k].numpy(), x0[:-k, 1].numpy())
    with pytest.raises(ValueError, match="data.feature_lags"):
        dm(path, feature_lags=-1)


@pytest.mark.parametrize("problem, match", [
    ("missing", r"no column \['humidity'\]"),
    ("nan", "missing value"),
    ("text", "non-numeric value at row 7"),
    ("gap", "gap or irregular step at row 50"),
    ("short", "fewer than data.window"),
    ("inf", "infinite value at row 12"),
    ("duplicate", "duplicate time stamp at row 31"),
    ("unsorted", "times out of order at row 20"),
])
def test_bad_csv_gets_a_clear_error(tmp_path, problem, match):
    p = csv(tmp_path)
    df = pd.read_csv(p)
    kw = {}
    if problem == "missing":
        kw["features"] = ["temp", "humidity"]
    elif problem == "nan":
        df.loc[10, "load"] = np.nan
    elif problem == "text":
        df["temp"] = df["temp"].astype(object)
        df.loc[7, "temp"] = "n/a?"
    elif problem == "gap":
        df = df.drop(index=50)
    elif problem == "short":
        df = df.iloc[:40]
    elif problem == "inf":
        df["load"] = df["load"].astype(object)
        df.loc[12, "load"] = "inf"
    elif problem == "duplicate":
        df.loc[31, "time"] = df.loc[30, "time"]
    elif problem == "unsorted":
        df.loc[[19, 20], "time"] = df.loc[[20, 19], "time"].to_numpy()
    df.to_csv(p, index=False)
    with pytest.raises(DataSourceError, match=match) as e:
        dm(p, **kw)
    assert "series.csv" in str(e.value)


def test_change_targets_are_the_scaled_step_from_the_last_observed_value(tmp_path):
    path = csv(tmp_path)
    level, change = dm(path), dm(path, predict="change", horizon=2)
    a, b = change.spans[0]
    z = change.series[:, 0]
    assert change.change_scale == pytest.approx(float((z[a + 2:b] - z[a:b - 2]).std()), rel=1e-5)
    assert change.change_scale != 1 and level.change_scale == 1
    x, y = change.windows("test")[3]
    ta, _ = change.spans[2]
    last = ta + 3 + 11  # the last input step of window 3
    assert float(x[-1, 0]) == pytest.approx(float(z[last]))
    assert float(y[-1]) * change.change_scale == pytest.approx(float(z[last + 2] - z[last]), abs=1e-5)
    assert change.floors() == dm(path, horizon=2).floors()  # the floors forecast the level either way
    with pytest.raises(ValueError, match="data.predict"):
        dm(path, predict="delta")


def test_residual_targets_are_what_a_least_squares_map_of_the_input_step_misses(tmp_path):
    """data.predict=residual: z[t+h] minus a linear map of input step t fitted on the training span only."""
    path = csv(tmp_path)
    res = dm(path, predict="residual", horizon=2, lags=3)
    a, b = res.spans[0]
    z, x1 = res.series[:, 0].astype(np.float64), np.c_[res.inputs, np.ones(len(res.inputs))].astype(np.float64)
    coef, *_ = np.linalg.lstsq(x1[a:b - 2], z[a + 2:b], rcond=None)
    ta, tb = res.spans[2]
    x, y = res.windows("test")[5]
    last = ta + 5 + 11
    assert float(y[-1]) * res.change_scale == pytest.approx(z[last + 2] - x1[last] @ coef, abs=1e-4)
    # the residual of the training span has no linear trace of the input left, and a zero output forecasts the map
    r = res.targets[a + 2:b].astype(np.float64)
    assert np.abs(x1[a:b - 2].T @ r).max() < 1e-2 * len(r) and abs(r.std() - 1) < 1e-3
    # the map is reported as a floor: exactly what a zero output scores on the test forecasts
    ends = np.arange(ta + 12 - 1, tb - 2)
    zero = float(np.mean((res.targets[ends + 2].astype(np.float64) * res.change_scale) ** 2))
    assert res.floors()["linear map of the input step"]["test/mse"] == pytest.approx(zero, rel=1e-4)
    assert "linear map of the input step" not in dm(path, predict="change", horizon=2, lags=3).floors()
    # fitted on the training span only: changing the test span's values changes no training target
    df = pd.read_csv(path)
    df.loc[len(df) - 20:, "load"] += 5.0
    df.to_csv(tmp_path / "moved.csv", index=False)
    moved = dm(tmp_path / "moved.csv", predict="residual", horizon=2, lags=3)
    assert np.allclose(moved.targets[a + 2:b], res.targets[a + 2:b], atol=1e-5)


def parts_csv(tmp_path):
    """1200 hourly rows: the next `load` is the last one times the slope of its 6-hour part of the day, plus noise."""
    n, rng, coef = 1200, np.random.default_rng(1), [0.95, -0.9, 0.0, 0.6]
    load = np.zeros(n)
    for t in range(n - 1):
        load[t + 1] = coef[(t % 24) // 6] * load[t] + rng.normal(0, 1.0)
    t = pd.date_range("2020-01-01", periods=n, freq="h")
    path = tmp_path / "parts.csv"
    pd.DataFrame({"time": t.astype(str), "load": load, "temp": rng.normal(20, 3, n)}).to_csv(path, index=False)
    return path


def test_residual_parts_fit_one_map_per_part_of_the_day(tmp_path):
    """data.residual_parts=P: a series whose next step depends on the time of day is left with its noise only."""
    n, path = 1200, parts_csv(tmp_path)
    one, four = dm(path, predict="residual"), dm(path, predict="residual", residual_parts=4)
    assert np.array_equal(four.day_parts(4)[:30], (np.arange(30) % 24) // 6)
    a, b = four.spans[0]
    noise = 1.0 / four.std[0]  # the innovations' std on the normalised scale
    assert four.change_scale == pytest.approx(noise, rel=0.1) and one.change_scale > 1.5 * noise
    # each part's training residual holds no linear trace of that part's inputs
    x1 = np.c_[four.inputs, np.ones(n)].astype(np.float64)
    r, part = four.targets.astype(np.float64), four.day_parts(4)
    for p in range(4):
        rows = np.nonzero(part[a:b - 1] == p)[0] + a
        assert np.abs(x1[rows].T @ r[rows + 1]).max() < 1e-6 * len(rows) * np.abs(x1).max()
    assert "linear map of the input step, 4 parts of the day" in four.floors()
    with pytest.raises(ValueError, match="residual_parts"):
        dm(path, predict="residual", residual_parts=0)
    # the map's settings apply to the residual target only: with the change as the target they are left unused
    change = dm(path, predict="change", residual_parts=4, residual_days=7, residual_smooth=0.1)
    assert (change.residual_parts, change.residual_days, change.residual_smooth) == (1, 1, 0.0)
    assert np.array_equal(change.targets, dm(path, predict="change").targets)
    with pytest.raises(DataSourceError, match="fewer parts"):
        dm(path, predict="residual", residual_parts=400)


def test_residual_ridge_shrinks_the_parts_maps_towards_the_all_day_map(tmp_path):
    path = parts_csv(tmp_path)
    one, four = dm(path, predict="residual"), dm(path, predict="residual", residual_parts=4)
    faint = dm(path, predict="residual", residual_parts=4, residual_ridge=1e-9)
    heavy = dm(path, predict="residual", residual_parts=4, residual_ridge=1e9)
    mid = dm(path, predict="residual", residual_parts=4, residual_ridge=0.05)
    assert np.allclose(faint.residual_base(1), four.residual_base(1), atol=1e-5)  # no penalty: each part's own map
    # all penalty: the all-day map's slopes, each part keeping its own (unpenalised) intercept
    shift, part = heavy.residual_base(1) - one.residual_base(1), heavy.day_parts(4)[:-1]
    assert all(np.ptp(shift[part == p]) < 1e-4 for p in range(4)) and np.ptp(shift) > 1e-3
    b4, b1, bm = four.residual_base(1), one.residual_base(1), mid.residual_base(1)
    assert 0 < np.abs(bm - b1).mean() < np.abs(b4 - b1).mean()  # in between
    assert "linear map of the input step, 4 parts of the day, ridge 0.05" in mid.floors()
    # with a penalty a part may hold fewer steps than its map has coefficients
    with pytest.raises(DataSourceError, match="residual_ridge > 0"):
        dm(path, predict="residual", residual_parts=24, lags=24)  # 30 training steps per hour, 32 coefficients
    many = dm(path, predict="residual", residual_parts=24, lags=24, residual_ridge=0.1)
    assert np.isfinite(many.residual_base(1)).all()
    plain = dm(path, predict="residual", residual_ridge=0.1)  # one map: nothing to shrink
    assert np.array_equal(plain.residual_base(1), one.residual_base(1))
    assert "linear map of the input step" in plain.floors()
    with pytest.raises(ValueError, match="residual_ridge"):
        dm(path, predict="residual", residual_parts=4, residual_ridge=-1.0)


def weekend_csv(tmp_path, n=2400):
    """Hourly rows: the next `load` is the last one times 0.9 on Monday to Friday and -0.8 on weekends, plus noise."""
    t = pd.date_range("2020-01-06", periods=n, freq="h")  # a Monday
    rng, weekend = np.random.default_rng(2), t.dayofweek.to_numpy() >= 5
    load = np.zeros(n)
    for i in range(n - 1):
        load[i + 1] = (-0.8 if weekend[i] else 0.9) * load[i] + rng.normal(0, 1.0)
    path = tmp_path / "weekend.csv"
    pd.DataFrame({"time": t.astype(str), "load": load, "temp": rng.normal(20, 3, n)}).to_csv(path, index=False)
    return path


def test_residual_days_fit_one_map_per_day_group(tmp_path):
    """data.residual_days=2|7: a series whose next step depends on the day of the week is left with its noise."""
    path = weekend_csv(tmp_path)
    one, two = dm(path, predict="residual"), dm(path, predict="residual", residual_days=2)
    seven = dm(path, predict="residual", residual_days=7, residual_parts=2)
    groups, count = seven.residual_groups()
    dow = pd.DatetimeIndex(seven.times).dayofweek.to_numpy()
    assert count == 14 and np.array_equal(groups, seven.day_parts(2) * 7 + dow)
    assert np.array_equal(two.residual_groups()[0], (dow >= 5).astype(int)) and two.residual_groups()[1] == 2
    noise = 1.0 / two.std[0]
    assert two.change_scale == pytest.approx(noise, rel=0.1) and one.change_scale > 1.5 * noise
    # without a tie each day group's map is its own least-squares fit: no linear trace of its inputs is left
    a, b = two.spans[0]
    x1 = np.c_[two.inputs, np.ones(len(dow))].astype(np.float64)
    r = two.targets.astype(np.float64)
    for g in (0, 1):
        rows = np.nonzero((dow[a:b - 1] >= 5) == g)[0] + a
        assert np.abs(x1[rows].T @ r[rows + 1]).max() < 1e-6 * len(rows) * np.abs(x1).max()
    assert "linear map of the input step, 7 day groups" in dm(path, predict="residual", residual_days=7).floors()
    for bad in (dict(residual_days=3), dict(residual_smooth=-1.0)):
        with pytest.raises(ValueError, match="residual_days|residual_smooth"):
            dm(path, predict="residual", **bad)


def test_residual_smooth_ties_neighbouring_groups(tmp_path):
    """data.residual_smooth=s: no tie gives each group its own map, an infinite one a single map for all groups."""
    path = parts_csv(tmp_path)
    one, four = dm(path, predict="residual"), dm(path, predict="residual", residual_parts=4)
    faint = dm(path, predict="residual", residual_parts=4, residual_smooth=1e-12)
    tied = dm(path, predict="residual", residual_parts=4, residual_smooth=1e9)
    mid = dm(path, predict="residual", residual_parts=4, residual_smooth=0.05)
    b1, b4 = one.residual_base(1), four.residual_base(1)
    assert np.allclose(faint.residual_base(1), b4, atol=1e-5)
    assert np.allclose(tied.residual_base(1), b1, atol=1e-4)  # every part's map the same: the all-day map
    assert 0 < np.abs(mid.residual_base(1) - b1).mean() < np.abs(b4 - b1).mean()
    assert "linear map of the input step, 4 parts of the day, smooth 0.05" in mid.floors()
    # parts of the day are tied in a circle: a part without training rows takes the mean of its two neighbours,
    # the last part's being the first
    a, b = mid.spans[0]
    x1 = np.c_[mid.inputs, np.ones(len(mid.inputs))].astype(np.float64)
    part = mid.day_parts(4)[a:b - 1]
    fits = [np.arange(a, b - 1)[part == p] for p in range(3)] + [np.arange(0)]
    dev = mid.joint_deviations(x1, mid.series[1:, 0].astype(np.float64), np.zeros(x1.shape[1]), fits)
    assert np.allclose(dev[3], (dev[2] + dev[0]) / 2, atol=1e-8) and np.abs(dev[0] - dev[2]).max() > 1e-3
    # a day group without a training step (five days of training rows) borrows from its neighbours when tied
    short = weekend_csv(tmp_path, n=200)
    with pytest.raises(DataSourceError, match="residual_smooth > 0"):
        dm(short, predict="residual", residual_days=7, residual_ridge=0.1)
    assert np.isfinite(dm(short, predict="residual", residual_days=7, residual_smooth=0.1).residual_base(1)).all()


def test_aux_horizons_add_target_columns_and_keep_training_inside_its_span(tmp_path):
    path = csv(tmp_path)
    base, aux = dm(path, predict="change"), dm(path, predict="change", aux_horizons=[3, 6])
    assert aux.num_classes == 3 and base.num_classes == 1
    z = aux.series[:, 0]
    for split in ("train", "val", "test"):
        (bx, by), (ax, ay) = base.windows(split)[5], aux.windows(split)[5]
        assert ay.shape == (12, 3) and torch.equal(ax, bx) and torch.equal(ay[:, 0], by)  # scored column unchanged
    a, b = aux.spans[0]
    x, y = aux.windows("train")[4]
    last = a + 4 + 11
    scale6 = float((z[a + 6:b] - z[a:b - 6]).std())
    assert float(y[-1, 2]) * scale6 == pytest.approx(float(z[last + 6] - z[last]), rel=1e-4)
    # training windows stop where the farthest target leaves the span; evaluation keeps every window
    assert len(aux.windows("train")) == len(base.windows("train")) - 5
    assert len(aux.windows("test")) == len(base.windows("test"))
    assert a + int(aux.windows("train").starts[-1]) + 11 + 6 < b
    with pytest.raises(ValueError, match="aux_horizons"):
        dm(path, aux_horizons=[1])
    with pytest.raises(ValueError, match="aux_horizons"):
        dm(path, aux_horizons=[0])
