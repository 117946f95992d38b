"""scripts/ts_floors.py: prints the floors the runs would report for a data config, without training."""

import importlib.util
import sys
from pathlib import Path

import pytest

from tests.data.test_timeseries import csv, dm

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "ts_floors.py"


def floors_main(monkeypatch, *args):
    spec = importlib.util.spec_from_file_location("ts_floors", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.setattr(sys, "argv", [str(SCRIPT), *args])
    mod.main()


def test_the_floors_printed_are_those_of_the_data_config(tmp_path, monkeypatch, capsys):
    path = csv(tmp_path)
    floors_main(monkeypatch, "timeseries_elec", "data=csv_timeseries", f"data.path={path}", "data.time_column=time",
                "data.target=load", "data.features=[temp]", "data.window=12", "data.season=24",
                "data.splits=[0.6,0.2,0.2]", "data.lags=3", "data.predict=residual", "data.residual_parts=2")
    out = capsys.readouterr().out
    want = dm(path, lags=3, predict="residual", residual_parts=2).floors()
    assert len(want) == 4
    for name, f in want.items():
        assert f"| {name} | {f['test/mse']:.5f} |" in out
    with pytest.raises(SystemExit, match="not a forecasting experiment"):
        floors_main(monkeypatch, "mnist_mlp")
