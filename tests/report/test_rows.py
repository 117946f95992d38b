"""Rows: one run per seed, reruns under other names kept apart, commands and criteria."""

import json

from bsd.report import find_runs, group_rows
from bsd.report.rows import command, criteria_text, run_criteria
from tests.report.helpers import default, write_run


def test_a_rerun_of_a_seed_replaces_the_earlier_run(tmp_path):
    write_run(tmp_path / "a-day", "mnist_mlp", "bp_snn", 0, {"test/acc": 0.90})
    write_run(tmp_path / "b-later", "mnist_mlp", "bp_snn", 0, {"test/acc": 0.95})
    write_run(tmp_path / "b-later", "mnist_mlp", "bp_snn", 1, {"test/acc": 0.97})
    (row,) = group_rows(find_runs([tmp_path]))
    assert row.seeds == [0, 1] and row.values("test/acc", 100) == [95.0, 97.0]


def test_runs_of_one_seed_under_other_variant_names_keep_their_own_rows(tmp_path):
    for seed in (0, 1):
        write_run(tmp_path, "mnist_mlp", "bsd", seed, {"test/acc": 0.90 + seed / 100})
    write_run(tmp_path, "mnist_mlp", "bsd", 0, {"test/acc": 0.80}, variant="again")  # the same config, rerun
    write_run(tmp_path, "mnist_mlp", "bsd", 2, {"test/acc": 0.70}, variant="third", epochs=5)  # another budget
    rows = group_rows(find_runs([tmp_path]))
    assert [(r.label, r.variants, r.seeds, r.epochs) for r in rows] == [
        ("default", "-", [0, 1], 2), ("default", "again", [0], 2), ("default", "third", [2], 5)]


def test_rows_split_by_device_class_and_batches(tmp_path):
    write_run(tmp_path, "mnist_mlp", "bp_ann", 0, {"test/acc": 0.9})
    write_run(tmp_path, "mnist_mlp", "bp_ann", 1, {"test/acc": 0.9}, device="NVIDIA H200")
    write_run(tmp_path, "mnist_mlp", "bp_ann", 2, {"test/acc": 0.9}, trainer={"limit_train_batches": 100})
    assert sorted((r.device, r.batches) for r in group_rows(find_runs([tmp_path]))) == [
        ("cpu", "100"), ("cpu", "all"), ("gpu", "all")]


def test_commands_drop_housekeeping_and_pin_what_differs_from_todays_default(tmp_path):
    lam = default("mnist_mlp", "bsd", "model.reco.lam")
    write_run(tmp_path, "mnist_mlp", "bsd", 0, {"test/acc": 0.9}, model={"reco": {"lam": lam + 0.1}},
              trainer={"max_epochs": 77}, variant="soft",
              command="python src/train.py +experiment=mnist_mlp seed=0 threads=1 logger=csv "
                      "trainer.enable_progress_bar=false hydra.run.dir=results/x variant=soft "
                      "resume=out/checkpoints/last.ckpt data.data_dir=.devdata/mnist 'model.widths=[64]'")
    (m,) = find_runs([tmp_path])
    assert command(m) == ("python src/train.py +experiment=mnist_mlp seed=0 variant=soft 'model.widths=[64]' "
                          f"model.reco.lam={lam + 0.1} trainer.max_epochs=77")


def test_recorded_overrides_make_the_command(tmp_path):
    write_run(tmp_path, "mnist_mlp", "bsd", 0, {"test/acc": 0.9}, model={"widths": [64, 64]},
              overrides=["+experiment=mnist_mlp", "model.widths=[64,64]", "hydra.run.dir=/abs/path", "seed=0"],
              git_commit="abc")
    (m,) = find_runs([tmp_path])
    assert command(m) == "python src/train.py +experiment=mnist_mlp 'model.widths=[64,64]' seed=0"


def test_criteria_are_derived_else_the_recorded_ones():
    from bsd.report.runs import derived_criteria

    assert criteria_text(["C1", "C2", "C3", "C4", "C5"]) == "C1–C5"
    assert criteria_text(["C2", "C3", "C4", "C5"]) == "C2–C5"
    assert criteria_text(["C1", "C2", "C4"]) == "C1–C2, C4"
    assert criteria_text(["C4"]) == "C4" and criteria_text([]) == "—" and criteria_text(None) == "?"
    assert run_criteria({"criteria": ["C4"], "arch": "mlp", "rule": "bsd"}) == ["C4"]  # no config: as recorded
    assert run_criteria({"arch": "mlp", "rule": "bp_snn"}) is None
    assert derived_criteria({"model": {"arch": "mlp", "rule": "bp_snn"}}) == ["C4"]
    assert derived_criteria({"model": {"arch": "mlp", "rule": "bp_ann"}}) == []
    assert derived_criteria({"model": {"arch": "mlp", "rule": "nope"}}) is None


def test_a_row_names_the_criteria_of_its_runs(tmp_path):
    write_run(tmp_path, "mnist_mlp", "bsd", 0, {"test/acc": 0.9}, criteria=["C1", "C2", "C3", "C4", "C5"])
    p = write_run(tmp_path, "mnist_mlp", "bp_ann", 0, {"test/acc": 0.9}) / "metrics.json"
    m = json.loads(p.read_text())
    assert "criteria" not in m
    rows = {r.rule: r for r in group_rows(find_runs([tmp_path]))}
    assert rows["bsd"].criteria == "C1–C5" and rows["bp_ann"].criteria == "—"


def test_a_spiking_rule_at_two_T_gets_two_rows_and_bp_ann_one(tmp_path):
    """bp_ann never reads model.T (it runs one step), so its runs at any stored T share a row."""
    T = default("timeseries_elec", "bp_snn", "model.T")
    for rule in ("bp_snn", "bp_ann"):
        for seed, t in ((0, T), (1, T + 1)):
            write_run(tmp_path, "timeseries_elec", rule, seed, {"test/mse": 0.001}, arch="rnn", model={"T": t})
    rows = group_rows(find_runs([tmp_path]))
    assert sorted((r.rule, r.label) for r in rows) == [("bp_ann", "default"), ("bp_snn", "default"),
                                                       ("bp_snn", f"model.T={T + 1}")]


def test_criteria_are_derived_from_each_runs_config_with_todays_code(tmp_path):
    """A run that recorded C1 while its credit stepped back through W_h itself is reported C2-C5."""
    from bsd.report.rows import run_criteria
    from bsd.report.runs import find_runs

    transport = {"T": 1, "reco": {"through_time": 2, "time_path": "rest", "time_feedback": "transport"}}
    write_run(tmp_path, "text_char", "bsd", 0, {"test/acc": 0.4}, arch="rnn", model=transport,
              criteria=["C1", "C2", "C3", "C4", "C5"])
    write_run(tmp_path, "text_char", "bp_snn", 0, {"test/acc": 0.5}, arch="rnn", criteria=["C4"], name="bp")
    by_rule = {m["rule"]: run_criteria(m) for m in find_runs([tmp_path])}
    assert by_rule == {"bsd": ["C2", "C3", "C4", "C5"], "bp_snn": ["C4"]}


def test_the_headline_takes_the_budget_every_rule_shares(tmp_path):
    """bsd has 10 epochs on three seeds alone and 1 epoch beside both baselines: the shared budget wins."""
    from bsd.report.tables import headline, on_equal_terms

    for seed in (0, 1, 2):
        write_run(tmp_path, "mnist_cnn", "bsd", seed, {"test/acc": 0.99}, arch="cnn", epochs=10)
        for rule in ("bsd", "bp_snn", "bp_ann"):
            write_run(tmp_path, "mnist_cnn", rule, seed, {"test/acc": 0.97}, arch="cnn", epochs=1, variant="equal")
    write_run(tmp_path, "mnist_cnn", "bp_ann", 5, {"test/acc": 0.995}, arch="cnn", epochs=15, device="NVIDIA H200")
    head = headline(group_rows(find_runs([tmp_path])))
    assert {rule: (r.epochs, r.seeds) for (_, rule), r in head.items()} == {
        "bsd": (1, [0, 1, 2]), "bp_snn": (1, [0, 1, 2]), "bp_ann": (1, [0, 1, 2])}
    assert all(on_equal_terms(r, head) for r in head.values())


def test_the_comparison_rules_do_not_move_the_headline_budget(tmp_path):
    """Five comparison rules at 1 epoch beside bsd at 1 epoch: the headline stays on the budget bsd and BP share."""
    from bsd.report.tables import headline

    for rule in ("bsd", "bp_snn", "bp_ann"):
        write_run(tmp_path, "mnist_mlp", rule, 0, {"test/acc": 0.98}, epochs=5)
    for rule in ("bsd", "fa", "dfa", "pc", "dll", "rstdp"):
        write_run(tmp_path, "mnist_mlp", rule, 0, {"test/acc": 0.9}, epochs=1, variant="rules")
    head = headline(group_rows(find_runs([tmp_path])))
    assert {rule: r.epochs for (_, rule), r in head.items() if rule in ("bsd", "bp_snn", "bp_ann")} == {
        "bsd": 5, "bp_snn": 5, "bp_ann": 5}


def test_without_a_shared_budget_each_rule_keeps_its_best_row_marked_unequal(tmp_path):
    from bsd.report.tables import headline, on_equal_terms

    write_run(tmp_path, "mnist_mlp", "bsd", 0, {"test/acc": 0.95})
    write_run(tmp_path, "mnist_mlp", "bsd", 1, {"test/acc": 0.95})
    write_run(tmp_path, "mnist_mlp", "bp_snn", 1, {"test/acc": 0.97}, device="NVIDIA H200")
    write_run(tmp_path, "mnist_mlp", "bp_ann", 1, {"test/acc": 0.97})  # the same budget, other seeds
    head = headline(group_rows(find_runs([tmp_path])))
    assert head[("mnist_mlp", "bp_snn")].device == "gpu" and head[("mnist_mlp", "bsd")].seeds == [0, 1]
    assert [on_equal_terms(head[("mnist_mlp", r)], head) for r in ("bsd", "bp_snn", "bp_ann")] == [True, False, False]
