"""``python -m bsd.report.compact``: keeps what the report reads, idempotent, the report unchanged."""

import json
import shutil

import pytest
import yaml

from bsd.report import find_runs, render, unfinished_runs, val_curve
from bsd.report.compact import compact, main
from tests.conftest import ROOT
from tests.report.helpers import write_run


def _full_run(root, seed=0, finished=True):
    d = write_run(root, "mnist_ae", "bsd", seed, {"test/mse": 0.02} if finished else None, arch="ae",
                  curve=[0.5, 0.25])
    for f in (".hydra/config.yaml", ".hydra/overrides.yaml", "csv/hparams.yaml", "train.log",
              "checkpoints/last.ckpt", "grids/epoch_000.png", "grids/final.png", "rasters/raster_epoch000.png",
              "sample.txt"):
        (d / f).parent.mkdir(parents=True, exist_ok=True)
        (d / f).write_bytes(b"x" * 100)
    return d


def test_a_run_keeps_its_metrics_config_curve_and_final_grid(tmp_path, capsys):
    d = _full_run(tmp_path / "runs")
    config = yaml.safe_load((d / "config_resolved.yaml").read_text())
    stopped = _full_run(tmp_path / "runs", seed=1, finished=False)
    (tmp_path / "runs" / "session.log").write_text("log")
    before = render(find_runs([tmp_path / "runs"]), "cmd", unfinished_runs([tmp_path / "runs"]))
    main([str(tmp_path / "runs")])
    out = capsys.readouterr().out
    assert "train.log" in out and "MiB before" in out
    assert sorted(p.relative_to(d).as_posix() for p in d.rglob("*") if p.is_file()) == [
        "grids/final.png", "metrics.json"]
    assert sorted(p.name for p in stopped.rglob("*") if p.is_file()) == ["config_resolved.yaml", "curve.csv",
                                                                         "final.png"]
    assert not (tmp_path / "runs" / "session.log").exists()
    assert json.loads((d / "metrics.json").read_text())["curve"] == {"epoch": [0, 1], "step": [9, 19],
                                                                   "val/acc": [0.5, 0.25]}
    assert json.loads((d / "metrics.json").read_text())["config"] == config
    assert val_curve(d) == val_curve(stopped) == [50.0, 25.0]
    assert render(find_runs([tmp_path / "runs"]), "cmd", unfinished_runs([tmp_path / "runs"])) == before
    removed, size, after = compact(tmp_path / "runs")
    assert removed == [] and size == after  # idempotent


def test_a_committed_run_is_already_compact(tmp_path):
    src = next(p.parent for p in sorted((ROOT / "results").rglob("metrics.json")))
    shutil.copytree(src, tmp_path / "run")
    files = {p: p.read_bytes() for p in (tmp_path / "run").rglob("*") if p.is_file()}
    removed, _, _ = compact(tmp_path)
    assert removed == [] and {p: p.read_bytes() for p in (tmp_path / "run").rglob("*") if p.is_file()} == files
    assert val_curve(tmp_path / "run", find_runs([tmp_path])[0]["_monitor"][0])


def test_it_refuses_a_repository_or_a_folder_without_runs(tmp_path):
    with pytest.raises(SystemExit, match="no runs"):
        compact(tmp_path)
    (tmp_path / "pyproject.toml").write_text("")
    with pytest.raises(SystemExit, match="looks like a repository"):
        compact(tmp_path)
