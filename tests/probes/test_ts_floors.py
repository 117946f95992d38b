"""bsd.probes.ts_floors: prints the floors the runs would report for a data config, without training."""

import sys

import pytest

from tests.data.test_timeseries import csv, dm
from tests.probes import load_probe


def floors_main(monkeypatch, *args):
    mod = load_probe("ts_floors")
    monkeypatch.setattr(sys, "argv", ["ts_floors", *args])
    mod.main()


def test_the_floors_printed_are_those_of_the_data_config(tmp_path, monkeypatch, capsys):
    path = csv(tmp_path)
    args = ["timeseries_elec", "data=csv_timeseries", f"data.path={path}", "data.time_column=time",
            "data.target=load", "data.features=[temp]", "data.window=12", "data.season=24", "data.splits=[0.6,0.2,0.2]",
            "data.lags=3", "data.predict=residual", "data.residual_parts=2"]  # the experiment's 7 day groups, tied
    floors_main(monkeypatch, *args)
    out = capsys.readouterr().out
    module = dm(path, lags=3, predict="residual", residual_parts=2, residual_days=7, residual_smooth=3e-3)
    want = module.floors()
    assert len(want) == 4 and "linear map of the input step, 2 parts of the day, 7 day groups, smooth 0.003" in want
    for name, f in want.items():
        assert f"| {name} | {f['test/mse']:.6f} |" in out
    floors_main(monkeypatch, "--val", *args)
    out = capsys.readouterr().out
    val = module.floors("val")
    assert "val span" in out
    assert [f["val/mse"] for f in val.values()] != [f["test/mse"] for f in want.values()]  # another span
    for name, f in val.items():
        assert f"| {name} | {f['val/mse']:.6f} |" in out
    floors_main(monkeypatch, "--both", *args)
    out = capsys.readouterr().out
    assert "val and test span" in out
    for name, f in val.items():
        assert f"| {name} | {f['val/mse']:.6f} | {f['val/mae']:.1f} | {f['val/rmse']:.1f} | " \
               f"{want[name]['test/mse']:.6f} |" in out
    with pytest.raises(SystemExit, match="not a forecasting experiment"):
        floors_main(monkeypatch, "mnist_mlp")
