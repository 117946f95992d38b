"""Row labels: the difference between a run's stored config and today's default of its experiment."""

import pytest

from bsd.report import find_runs
from bsd.report.labels import diff, flatten, label, run_diff, split_budget, value
from tests.report.helpers import default, write_run


def test_flatten_reads_a_yaml_1_1_on_key_and_keeps_lists():
    assert flatten({"model": {"reco": {True: "voltage", "lam": 0.2}, "widths": [1, 2]}, "x": {}}) == {
        "model.reco.on": "voltage", "model.reco.lam": 0.2, "model.widths": [1, 2], "x": {}}


def test_a_missing_key_is_todays_default_and_removed_keys_and_housekeeping_are_ignored():
    d = {"model.reco.lam": 0.6, "model.T": 4, "seed": 0, "trainer.max_epochs": 5, "data.path": None}
    cfg = {"model": {"reco": {"lam": 0.6}, "gone": 3}, "seed": 7, "variant": "x", "logger": {"kind": "csv"},
           "data": {"path": None}}
    assert diff(cfg, d) == {}  # T missing = default; gone: not in today's default; seed, variant: housekeeping
    cfg["model"]["reco"]["lam"], cfg["model"]["T"] = 0.2, 1
    assert diff(cfg, d) == {"model.T": 1, "model.reco.lam": 0.2}
    assert diff(cfg, d, ignored=("model.reco",)) == {"model.T": 1}  # a rule that never reads model.reco


def test_types_are_compared_strictly_and_numbers_by_value():
    d = {"a": 1, "b": True, "c": [1, 2]}
    assert diff({"a": 1.0, "b": True, "c": [1.0, 2]}, d) == {}
    assert diff({"a": True, "b": 1, "c": [1]}, d) == {"a": True, "b": 1, "c": [1]}


def test_budget_keys_are_split_off_the_label():
    keys, budget = split_budget({"trainer.max_epochs": 3, "trainer.limit_train_batches": 100, "model.T": 1,
                                 "trainer.max_time": "00:00:10:00"})
    assert keys == {"model.T": 1} and set(budget) == {"trainer.max_epochs", "trainer.limit_train_batches",
                                                      "trainer.max_time"}


def test_labels_are_sorted_compact_overrides():
    assert label({}) == "default"
    assert label({"model.reco.lam": 0.2, "data.residual_parts": 1}) == "data.residual_parts=1, model.reco.lam=0.2"
    assert [value(v) for v in (None, True, [256, 256], 3e-4, "spikes")] == ["null", "true", "[256,256]", "0.0003",
                                                                             "spikes"]


def test_run_diff_composes_todays_default_of_the_experiment():
    lam = default("mnist_mlp", "bsd", "model.reco.lam")
    cfg = {"experiment_name": "mnist_mlp", "seed": 3, "model": {"arch": "mlp", "rule": "bsd", "reco": {"lam": lam}}}
    assert run_diff(cfg) == {}
    cfg["model"]["reco"]["lam"] = lam + 0.1
    cfg["trainer"] = {"max_epochs": default("mnist_mlp", "bsd", "trainer.max_epochs") + 1}
    assert set(run_diff(cfg)) == {"model.reco.lam", "trainer.max_epochs"}


@pytest.mark.parametrize("rule", ["bp_snn", "bp_ann"])
def test_back_propagation_rows_ignore_keys_their_rule_never_reads(rule):
    lam = default("mnist_mlp", "bsd", "model.reco.lam")
    cfg = {"experiment_name": "mnist_mlp", "model": {"arch": "mlp", "rule": rule, "reco": {"lam": lam + 0.1}}}
    assert run_diff(cfg) == {}


def test_runs_carry_label_budget_and_device(tmp_path):
    lam = default("mnist_mlp", "bsd", "model.reco.lam")
    write_run(tmp_path, "mnist_mlp", "bsd", 0, {"test/acc": 0.9}, model={"reco": {"lam": lam + 0.1}},
              trainer={"max_epochs": 99, "limit_train_batches": 100}, device="NVIDIA H100")
    (m,) = find_runs([tmp_path])
    assert m["_label"] == f"model.reco.lam={lam + 0.1}"
    assert m["_budget"] == {"trainer.max_epochs": 99, "trainer.limit_train_batches": 100}
    assert m["_batches"] == "100" and m["_device"] == "gpu"


def test_a_run_of_an_experiment_todays_conf_lacks_is_labelled_not_fatal(tmp_path):
    write_run(tmp_path, "retired_experiment", "bsd", 0, {"test/acc": 0.9})
    (m,) = find_runs([tmp_path])
    assert m["_label"].startswith("(no default: cannot compose today's default of +experiment=retired_experiment")


def test_clipping_is_compared_as_what_the_run_did():
    """bsd with no clip at all equals clip_local=off; back-propagation never reads clip_local."""
    from bsd.report.labels import run_diff

    base = {"experiment_name": "text_char", "model": {"arch": "rnn", "rule": "bsd"}}
    assert run_diff({**base, "trainer": {"gradient_clip_val": None}}) == {}
    assert run_diff({**base, "trainer": {"gradient_clip_val": 1.0},
                     "model": {"arch": "rnn", "rule": "bsd", "optimizer": {"clip_local": "layer"}}}) == {
        "model.optimizer.clip_local": "layer", "trainer.gradient_clip_val": 1.0}
    bp = {"experiment_name": "text_char", "model": {"arch": "rnn", "rule": "bp_snn"}}
    assert run_diff({**bp, "trainer": {"gradient_clip_val": None}}) == {"trainer.gradient_clip_val": None}
    assert run_diff({**bp, "model": {"arch": "rnn", "rule": "bp_snn", "optimizer": {"clip_local": "all"}}}) == {}


def test_a_forecast_labels_neither_its_series_nor_what_it_derived_from_it(tmp_path):
    derived = {"data.window": 24, "data.season": 24, "data.lags": 24, "data.residual_parts": 12,
               "data.residual_days": 2, "model.code.lo": -2.1, "model.code.hi": 2.4}
    data = {"name": "csv", "path": "/somewhere/load.csv", "time_column": "when", "target": "value", "window": 24,
            "season": 24, "lags": 24, "residual_parts": 12, "residual_days": 2}
    write_run(tmp_path, "timeseries", "bsd", 0, {"test/mse": 0.1}, arch="rnn", data=data,
              model={"code": {"lo": -2.1, "hi": 2.4}, "reco": {"through_time": 24}}, dataset="csv", derived=derived,
              name="a")
    write_run(tmp_path, "timeseries", "bsd", 0, {"test/mse": 0.1}, arch="rnn", data=data,
              model={"code": {"lo": -2.1, "hi": 2.4}, "reco": {"through_time": 6}}, dataset="csv", derived=derived,
              name="c")
    write_run(tmp_path, "timeseries", "bsd", 0, {"test/mse": 0.1}, arch="rnn",
              data={"name": "pedestrian_sensor", "target": "Southern Cross Station", "window": 12},
              dataset="pedestrian_sensor", derived={"data.season": 24}, name="b")
    a, c, b = sorted(find_runs([tmp_path]), key=lambda m: (m["dataset"], len(m["_diff"])))
    # the credit's reach follows the derived window by default; a reach of its own is a setting
    assert a["_label"] == "default" and a["_series"] == "load.csv: value"
    assert c["_label"] == "model.reco.through_time=6"
    # a window given by hand is a setting of its own; the sensor is the series
    assert b["_label"] == "data.window=12" and b["_series"] == "Melbourne pedestrian counts: Southern Cross Station"
