"""Every committed sweep YAML is well formed and each of its values composes into a Hydra config."""

from pathlib import Path

import pytest
import yaml
from omegaconf import OmegaConf

from tests.conftest import ROOT, compose

SWEEPS = sorted((ROOT / "sweeps").glob("*.yaml"))


def _experiment(sweep: dict) -> str:
    return next(a for a in sweep["command"] if str(a).startswith("+experiment="))


@pytest.mark.parametrize("path", SWEEPS, ids=lambda p: p.stem)
def test_sweep_is_well_formed(path: Path):
    s = yaml.safe_load(path.read_text())
    assert s["method"] in ("grid", "random", "bayes")
    assert s["command"][-1] == "${args_no_hyphens}" and s["program"] == "src/train.py"
    assert s["metric"]["name"] in ("val/acc", "test/acc", "train/loss", "val/mse")
    for name, spec in s["parameters"].items():
        assert not name.startswith("+"), name
        for v in spec.get("values", []):
            assert " " not in str(v), f"{name}: value {v!r} has a space"


@pytest.mark.parametrize("path", SWEEPS, ids=lambda p: p.stem)
def test_every_swept_value_composes(path: Path):
    s = yaml.safe_load(path.read_text())
    exp = _experiment(s)
    for name, spec in s["parameters"].items():
        values = spec.get("values") or [spec["min"], spec["max"]]
        for v in values:
            cfg = compose([exp, f"{name}={v}"])
            assert OmegaConf.select(cfg, name) == pytest.approx(v), name
