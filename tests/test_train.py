"""End-to-end runs through the Hydra config and the training entry point (small budgets)."""

import csv
import json
import subprocess
import sys
import time

import pytest
import torch

from bsd.tasks import BSDModule
from bsd.train import run
from tests.conftest import REFUSED, ROOT, compose

SMALL = ["data.train_subset=384", "data.val_size=500", "trainer.limit_val_batches=1", "trainer.limit_test_batches=1",
         "trainer.max_epochs=1", "trainer.enable_progress_bar=false", "model.widths=[64,64]", "logger=none"]


def test_mlp_run_writes_outputs(tmp_path):
    cfg = compose(["+experiment=mnist_mlp", *SMALL])
    m = run(cfg, tmp_path)
    assert (tmp_path / "config_resolved.yaml").is_file()
    assert (tmp_path / "checkpoints" / "last.ckpt").is_file() and (tmp_path / "checkpoints" / "best.ckpt").is_file()
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["rule"] == "bsd" and saved["experiment"] == "mnist_mlp" and saved["dataset"] == "mnist"
    assert 0.0 <= saved["test"]["test/acc"] <= 1.0 and "val/acc" in saved["val"]
    # one epoch: the best monitored value is that epoch's validation accuracy
    assert saved["best_val"]["metric"] == "val/acc" and saved["best_val"]["mode"] == "max"
    assert saved["best_val"]["value"] == pytest.approx(saved["val"]["val/acc"], abs=1e-6)
    assert saved["wall_time_s"] > 0 and saved["peak_rss_mb"] > 0 and len(saved["epoch_times_s"]) == 1
    assert m["criteria"] == ["C1", "C2", "C3", "C4", "C5"]
    assert not list(tmp_path.rglob("*.tmp"))


@pytest.mark.parametrize("rule", ["bp_snn", "bp_ann"])
def test_baseline_rules_run_on_the_same_architecture(tmp_path, rule):
    m = run(compose(["+experiment=mnist_mlp", f"model.rule={rule}", *SMALL]), tmp_path)
    assert m["rule"] == rule and m["T"] == (1 if rule == "bp_ann" else 4)


def test_resume_continues_epochs_and_optimizer_state(tmp_path):
    first = tmp_path / "a"
    run(compose(["+experiment=mnist_mlp", *SMALL]), first)
    ckpt = torch.load(first / "checkpoints" / "last.ckpt", weights_only=False)
    assert ckpt["epoch"] == 0 and ckpt["optimizer_states"][0]["state"]
    second = tmp_path / "b"  # a run resumed by a checkpoint's path goes on in that checkpoint's own directory
    m = run(compose(["+experiment=mnist_mlp", *SMALL, "trainer.max_epochs=2", f"resume={first}/checkpoints/last.ckpt"]),
            second)
    assert m["epochs"] == 2 and len(m["epoch_times_s"]) == 1  # one more epoch, not two
    assert (first / "metrics.json").exists() and not (second / "metrics.json").exists()
    resumed = torch.load(first / "checkpoints" / "last.ckpt", weights_only=False)
    step0 = ckpt["optimizer_states"][0]["state"][0]["step"]
    assert resumed["optimizer_states"][0]["state"][0]["step"] > step0 and resumed["global_step"] > ckpt["global_step"]
    # extending max_epochs leaves the cosine schedule as it was planned
    assert resumed["lr_schedulers"][0]["T_max"] == ckpt["lr_schedulers"][0]["T_max"]


def test_resuming_into_the_same_directory_keeps_the_csv_history(tmp_path):
    """A resumed run appends to its metrics.csv (Lightning's CSV writer would delete the earlier epochs)."""
    base = ["+experiment=mnist_mlp", *[o for o in SMALL if not o.startswith("logger")], "logger=csv"]
    run(compose(base), tmp_path)
    run(compose([*base, "trainer.max_epochs=2", f"resume={tmp_path}/checkpoints/last.ckpt"]), tmp_path)
    with open(tmp_path / "csv" / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted({r["epoch"] for r in rows if r.get("val/acc")}) == ["0", "1"]
    # a fresh run into a used directory still starts a fresh log
    run(compose(base), tmp_path)
    with open(tmp_path / "csv" / "metrics.csv", newline="") as f:
        assert sorted({r["epoch"] for r in csv.DictReader(f) if r.get("val/acc")}) == ["0"]


def test_csv_and_wandb_offline_loggers(tmp_path, monkeypatch):
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.netrc: no login
    base = ["+experiment=mnist_mlp", *[o for o in SMALL if not o.startswith("logger")]]
    run(compose([*base, "logger=csv"]), tmp_path / "csv")
    assert (tmp_path / "csv" / "csv" / "metrics.csv").is_file()
    run(compose([*base, "logger=wandb"]), tmp_path / "wb")
    runs = list((tmp_path / "wb" / "wandb").glob("offline-run-*"))
    assert len(runs) == 1 and list(runs[0].glob("run-*.wandb"))
    assert list((runs[0] / "files" / "media" / "images" / "spikes").glob("*.png"))  # spike raster logged
    keys = (b"rate/val_1", b"energy/snn_over_ann", b"train/hamming/1", b"align/W1_Theta0T")
    log = runs[0] / next(runs[0].glob("run-*.wandb")).name
    # wandb's writer (a separate service process) may still be flushing the records when finish() returns: once in
    # a clean-clone CI run (2026-12-05) the file held only its 7-byte header at this point, so allow it some seconds
    deadline = time.monotonic() + 30
    while not all(k in (history := log.read_bytes()) for k in keys) and time.monotonic() < deadline:
        time.sleep(0.5)
    for key in keys:
        assert key in history, key  # spike statistics are in the offline run's records


def test_nan_loss_stops_before_checkpoints_are_touched(tmp_path, monkeypatch):
    cfg = compose(["+experiment=mnist_mlp", *SMALL])
    run(cfg, tmp_path)
    last = tmp_path / "checkpoints" / "last.ckpt"
    before = last.read_bytes()
    from bsd.rules.bsd import BSD

    orig = BSD.loss

    def nan_loss(self, *a):
        loss, logs = orig(self, *a)
        return loss * float("nan"), logs

    monkeypatch.setattr(BSD, "loss", nan_loss)
    from bsd.tasks import NonFiniteLossError

    with pytest.raises(NonFiniteLossError, match="model.optimizer.lr"):
        run(cfg, tmp_path)
    assert last.read_bytes() == before


def _cli(*args, timeout=240):
    cmd = [sys.executable, str(ROOT / "src" / "train.py"), *args]
    return subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=timeout, cwd=ROOT)


#: bad overrides and what the refusal must name: wrong types, unknown keys, values outside a key's choices (Hydra,
#: when it composes), ranges (the schemas' checks) and a rule the family does not have (the registry)
BAD_OVERRIDES = [
    ("model.reco.lam=abc", ["model.reco.lam"]),
    ("data.batch_size=abc", ["data.batch_size"]),
    ("model.T=2.5", ["model.T"]),
    ("trainer.max_epochs=x", ["trainer.max_epochs"]),
    ("model.neuron.reset=medium", ["model.neuron.reset", "hard, soft"]),
    ("model.reco.on=currents", ["model.reco.on", "voltage, spikes"]),
    ("logger.kind=tensorboard", ["logger.kind", "csv, wandb, none"]),
    ("model.bogus=1", ["model.bogus"]),
    ("model.reco.axis=unit", ["model.reco.axis"]),
    ("model.reco.through_time=2", ["model.reco.through_time"]),
    ("model.rule=hebbian", ["model.rule='hebbian'", "['bp_ann', 'bp_snn', 'bsd', 'dfa', 'dll', 'fa', 'pc', 'rstdp']"]),
    ("model.T=0", ["model.T must be >= 1"]),
    ("model.neuron.threshold=0", ["model.neuron.threshold must be > 0"]),
    ("model.reco.lam=-0.1", ["model.reco.lam must be >= 0"]),
    ("model.optimizer.lr=0", ["model.optimizer.lr must be > 0"]),
    ("model.widths=[]", ["model.widths must list at least one"]),
    ("ema.decay=1.5", ["ema.decay must lie in (0, 1)"]),
    ("trainer.limit_train_batches=abc", ["trainer.limit_train_batches"]),
]


@pytest.mark.parametrize(("override", "words"), BAD_OVERRIDES, ids=[o for o, _ in BAD_OVERRIDES])
def test_bad_overrides_are_refused_by_name_before_any_data(override, words):
    from bsd.config import to_objects
    from bsd.rules import family_of, lookup

    with pytest.raises(REFUSED) as err:
        conf = to_objects(compose(["+experiment=mnist_mlp", override]))
        lookup(family_of(conf.model.arch), conf.model.rule)
    text = f"{err.value} {err.value.__cause__ or ''}"
    assert all(w in text for w in words), text


def _cli(*args, timeout=240):
    cmd = [sys.executable, str(ROOT / "src" / "train.py"), *args]
    return subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=timeout, cwd=ROOT)


@pytest.mark.parametrize(("override", "message"), [
    ("model.reco.lam=abc", "full_key: model.reco.lam"),
    ("data.batch_size=abc", "full_key: data.batch_size"),
    ("model.T=2.5", "full_key: model.T"),
    ("model.rule=hebbian", "model.rule='hebbian' is not defined on the image classifiers (model=cnn, model=mlp)"),
])
def test_bad_input_stops_on_the_command_line_with_a_clear_message(tmp_path, override, message):
    res = _cli("+experiment=mnist_mlp", override, f"hydra.run.dir={tmp_path}/run", "logger=none")
    assert res.returncode != 0, res.stderr[-2000:]
    assert message in res.stderr and "Traceback" not in res.stderr, res.stderr[-2000:]
    assert not (tmp_path / "run" / "checkpoints").exists() and not (tmp_path / "run" / "metrics.json").exists()


def test_a_data_dir_that_does_not_exist_stops_the_run_naming_it(tmp_path):
    from bsd.data import DataSourceError

    cfg = compose(["+experiment=mnist_mlp", *SMALL, "data.data_dir=/nonexistent/dir", "trainer.limit_train_batches=1"])
    with pytest.raises(DataSourceError, match="data.data_dir='/nonexistent/dir' does not exist"):
        run(cfg, tmp_path)
    assert not (tmp_path / "checkpoints").exists() and not (tmp_path / "metrics.json").exists()


def test_unknown_experiment_lists_the_known_ones(tmp_path):
    res = _cli("+experiment=mnist_transformer", f"hydra.run.dir={tmp_path}")
    assert res.returncode != 0
    assert "experiment/mnist_transformer" in res.stderr and "mnist_mlp" in res.stderr


def test_missing_fashion_dataset_is_explained(tmp_path, monkeypatch):
    from bsd.data import DataSourceError, sources

    monkeypatch.setattr(sources, "DEBIAN_DIRS", {"fashion_mnist": str(tmp_path / "absent")})
    cfg = compose(["+experiment=fmnist_mlp", *SMALL, f"data.data_dir={tmp_path}/none",
                   f"data.cache_dir={tmp_path}/cache", "data.allow_hub=false"])
    with pytest.raises(DataSourceError, match="apt-get install dataset-fashion-mnist"):
        run(cfg, tmp_path / "run")
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_hydra_multirun_over_seeds_and_rules_aggregates(tmp_path):
    from bsd.report import find_runs, render

    res = _cli("-m", "+experiment=mnist_mlp", "seed=1,2", "model.rule=bsd,bp_ann", "data.train_subset=128",
               "trainer.limit_val_batches=1", "trainer.limit_test_batches=1", "trainer.max_epochs=1",
               "model.widths=[32]", "logger=none", "trainer.enable_progress_bar=false", f"hydra.sweep.dir={tmp_path}")
    assert res.returncode == 0, res.stderr[-2000:]
    runs = find_runs([tmp_path])
    assert sorted((m["rule"], m["seed"]) for m in runs) == [("bp_ann", 1), ("bp_ann", 2), ("bsd", 1), ("bsd", 2)]
    text = render(runs, [str(tmp_path)])
    assert "| bsd | data.train_subset=128, model.widths=[32] | - |" in text


@pytest.mark.parametrize("target", [0.0, 1.01])
def test_time_to_target_is_recorded(tmp_path, target):
    m = run(compose(["+experiment=mnist_mlp", "model.rule=bp_ann", *SMALL, "trainer.max_epochs=2",
                     "trainer.val_check_interval=0.5", f"time_to_target.target={target}"]), tmp_path)
    r = json.loads((tmp_path / "metrics.json").read_text())["time_to_target"]
    assert r == m["time_to_target"] and r["metric"] == "val/acc" and r["target"] == target
    assert 0.0 <= r["best"] <= 1.0
    assert len(m["epoch_times_s"]) == 2  # one time per epoch, not per validation pass
    if target == 0.0:  # reached at the first validation, after some training
        assert r["reached"] and r["epoch"] == 0 and r["step"] > 0 and 0 < r["train_time_s"] <= r["wall_time_s"]
    else:
        assert not r["reached"] and "train_time_s" not in r


def test_weight_average_is_what_validation_checkpoints_and_test_see(tmp_path, monkeypatch):
    plain, averaged = tmp_path / "plain", tmp_path / "ema"
    run(compose(["+experiment=mnist_mlp", *SMALL]), plain)
    tested = []
    monkeypatch.setattr(BSDModule, "on_test_start",
                        lambda self: tested.append({k: v.clone() for k, v in self.state_dict().items()}))
    m = run(compose(["+experiment=mnist_mlp", *SMALL, "ema.decay=0.5"]), averaged)
    assert m["ema_decay"] == 0.5
    raw = torch.load(plain / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    ckpt = torch.load(averaged / "checkpoints" / "best.ckpt", weights_only=False)
    # training is untouched: the raw weights of the averaged run are those of the plain run, step for step
    assert ckpt["current_model_state"].keys() == raw.keys()
    for k, v in raw.items():
        assert torch.equal(ckpt["current_model_state"][k], v), k
    # what the checkpoint (and so the test) holds is the average, which lags the raw weights
    floats = [k for k, v in raw.items() if v.is_floating_point() and "weight" in k]
    assert floats and any(not torch.allclose(ckpt["state_dict"][k], raw[k]) for k in floats)
    # the test ran on the average from the best checkpoint, then on that checkpoint's raw weights
    assert len(tested) == 2 and all(torch.equal(tested[0][k], ckpt["state_dict"][k]) for k in floats)
    assert all(torch.equal(tested[1][k], ckpt["current_model_state"][k]) for k in floats)
    assert 0 <= m["test"]["test_raw/acc"] <= 1 and 0 <= m["test"]["test/acc"] <= 1


def test_weight_average_is_refused_outside_the_classifiers(tmp_path):
    with pytest.raises(ValueError, match="ema.decay is supported for the image classifiers"):
        run(compose(["+experiment=mnist_ae", "ema.decay=0.9", "logger=none"]), tmp_path)
    assert not (tmp_path / "checkpoints").exists()


def test_resuming_an_averaged_run_restores_the_average_and_the_raw_weights(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    run(compose(["+experiment=mnist_mlp", *SMALL, "ema.decay=0.5"]), first)
    before = torch.load(first / "checkpoints" / "last.ckpt", weights_only=False)
    m = run(compose(["+experiment=mnist_mlp", *SMALL, "ema.decay=0.5", "trainer.max_epochs=2",
                     f"resume={first}/checkpoints/last.ckpt"]), second)
    after = torch.load(first / "checkpoints" / "last.ckpt", weights_only=False)  # resumed in its own directory
    assert m["epochs"] == 2 and after["global_step"] > before["global_step"]
    k = next(k for k, v in before["state_dict"].items() if v.is_floating_point() and "weight" in k)
    # one more epoch of averaging with decay 0.5 moves the average towards the raw weights, from where it was
    a0, w1, a1 = before["state_dict"][k], after["current_model_state"][k], after["state_dict"][k]
    assert not torch.equal(a1, a0) and (a1 - w1).norm() < (a0 - w1).norm()


def test_weight_average_waits_for_its_start_epoch(tmp_path):
    plain, waiting = tmp_path / "plain", tmp_path / "wait"
    run(compose(["+experiment=mnist_mlp", *SMALL]), plain)
    m = run(compose(["+experiment=mnist_mlp", *SMALL, "ema.decay=0.5", "ema.start_epoch=1"]), waiting)
    raw = torch.load(plain / "checkpoints" / "best.ckpt", weights_only=False)["state_dict"]
    ckpt = torch.load(waiting / "checkpoints" / "best.ckpt", weights_only=False)
    # the one epoch ran before the start: no average yet, so checkpoint and test hold the raw weights
    assert "current_model_state" not in ckpt and "test_raw/acc" not in m["test"]
    assert all(torch.equal(ckpt["state_dict"][k], v) for k, v in raw.items())
    with pytest.raises(ValueError, match="ema.start_epoch must be >= 0"):
        run(compose(["+experiment=mnist_mlp", *SMALL, "ema.decay=0.5", "ema.start_epoch=-1"]), tmp_path / "bad")


def test_callbacks_from_the_config_group_join_the_run(tmp_path):
    """callbacks=[early_stopping,lr_monitor]: Lightning's EarlyStopping on the task's metric and the LR monitor."""
    from lightning.pytorch.callbacks import LearningRateMonitor

    seen = []
    cfg = compose(["+experiment=mnist_mlp", *SMALL, "trainer.max_epochs=2", "logger=csv", "trainer.log_every_n_steps=1",
                   "callbacks=[early_stopping,lr_monitor]", "callbacks.early_stopping.patience=1"])
    assert set(cfg.callbacks) == {"early_stopping", "lr_monitor"}
    from bsd.callbacks import TaskEarlyStopping

    orig = TaskEarlyStopping.setup

    def setup(self, trainer, pl_module, stage):
        orig(self, trainer, pl_module, stage)
        seen.append((self.monitor, self.mode, self.patience,
                     any(isinstance(c, LearningRateMonitor) for c in trainer.callbacks)))

    TaskEarlyStopping.setup = setup
    try:
        m = run(cfg, tmp_path)
    finally:
        TaskEarlyStopping.setup = orig
    assert seen and seen[0] == ("val/acc", "max", 1, True)
    rows = list(csv.DictReader((tmp_path / "csv" / "metrics.csv").open()))
    assert any(k.startswith("lr-") for k in rows[0]) and m["epochs"] >= 1
