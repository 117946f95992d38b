import json

import pytest
import yaml
from omegaconf import OmegaConf

from bsd.sweep import Sweep, SweepConfigError, fixed_args, main, validate
from tests.conftest import compose

TINY = ["data.train_subset=128", "data.val_size=200", "trainer.limit_val_batches=1", "trainer.limit_test_batches=1",
        "trainer.max_epochs=1", "model.widths=[32]", "trainer.enable_progress_bar=false"]
BASE = {"program": "src/train.py", "method": "grid", "metric": {"name": "val/acc", "goal": "maximize"},
        "command": ["${env}", "python", "${program}", "+experiment=mnist_mlp", "logger=none", "${args_no_hyphens}"]}


def write(tmp_path, **params):
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump({**BASE, "parameters": params}))
    return p


@pytest.mark.parametrize(("sweep", "message"), [
    ({**BASE, "method": "annealing", "parameters": {"model.T": {"values": [2]}}}, "method"),
    ({**BASE, "metric": {"name": "val/f1"}, "parameters": {"model.T": {"values": [2]}}}, "never logged"),
    ({**BASE, "parameters": {"model.tau": {"values": [2]}}}, "'model.tau' is not a key"),
    ({**BASE, "parameters": {"+model.T": {"values": [2]}}}, "not a key"),
    ({**BASE, "parameters": {"model.reco.same_class": {"values": ["not valid"]}}}, "space"),
    ({**BASE, "parameters": {"model.widths": {"values": ["[1,"]}}}, "the config refuses the value '\\[1,'"),
    ({**BASE, "parameters": {"model.T": {"values": [0, 1]}}}, "model.T must be >= 1"),
])
def test_bad_sweeps_are_refused_before_any_trial(sweep, message):
    with pytest.raises(SweepConfigError, match=message):
        validate(sweep, [])


def test_grid_sweep_runs_records_failures_and_resumes(tmp_path, capsys):
    # data.val_size=100000 passes the config checks but the run stops with an error when the data is read (more
    # validation images than training images): recorded as failed, the sweep goes on
    path = write(tmp_path, **{"data.val_size": {"values": [100000, 500, 400]}})
    out = tmp_path / "runs"
    main([str(path), "--count", "2", "--dir", str(out), *TINY])
    state = json.loads((out / "state.json").read_text())
    assert [t["state"] for t in state] == ["failed", "finished"]
    assert state[1]["params"] == {"data.val_size": 500} and 0 <= state[1]["metric"] <= 1
    first = (out / "trial001" / "metrics.json").stat().st_mtime_ns
    # an interrupted trial (left 'running') is redone; finished ones are not
    state.append({"name": "trial002", "params": {"data.val_size": 400}, "state": "running"})
    (out / "state.json").write_text(json.dumps(state))
    main([str(path), "--count", "3", "--dir", str(out), *TINY])
    state = json.loads((out / "state.json").read_text())
    assert [t["state"] for t in state] == ["failed", "finished", "finished"]
    assert (out / "trial001" / "metrics.json").stat().st_mtime_ns == first
    table = capsys.readouterr().out
    assert "| 1 |" in table and "| - | trial000 | - | failed |" in table


def test_committed_sweeps_propose_composable_configs(tmp_path):
    from tests.test_sweeps import SWEEPS

    for path in SWEEPS:
        s = Sweep(path, tmp_path / path.stem, [])
        validate(s.sweep, [])
        for _ in range(3):
            params = s.propose()
            assert set(params) == set(s.sweep["parameters"])
            cfg = compose([*fixed_args(s.sweep), *(f"{k}={v}" for k, v in params.items())])
            for k, v in params.items():
                assert OmegaConf.select(cfg, k) == pytest.approx(v)
