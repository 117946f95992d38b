"""The results page's accuracy-against-plausibility section and its figure; the headline at the shared budget."""

from bsd.report import find_runs, group_rows
from bsd.report.criteria import comparison_rows, comparison_table, criteria_figure
from bsd.report.tables import headline_table
from bsd.report.tasks import TASKS
from tests.report.helpers import write_run

ACC = {"bsd": 0.96, "bp_snn": 0.97, "bp_ann": 0.975, "fa": 0.961, "pc": 0.973}


def _runs(tmp_path):
    for rule, acc in ACC.items():
        for seed in (0, 1):
            write_run(tmp_path, "mnist_mlp", rule, seed, {"test/acc": acc + seed / 1000}, epochs=1,
                      trainer={"max_epochs": 1}, variant="ep1")
    for seed in (0, 1, 2):  # bsd and bp_snn also at today's default budget: their headline rows
        for rule in ("bsd", "bp_snn"):
            write_run(tmp_path, "mnist_mlp", rule, seed, {"test/acc": 0.98}, epochs=5)
    return group_rows(find_runs([tmp_path]))


def test_every_rule_at_the_budget_most_rules_share_sorted_by_criteria_met(tmp_path):
    comp = comparison_rows(_runs(tmp_path))
    rows = comp["mnist_mlp"]
    assert [r.rule for r in rows] == ["bsd", "fa", "bp_snn", "pc", "bp_ann"] and {r.epochs for r in rows} == {1}
    table = comparison_table(comp)
    assert "| mnist_mlp | 1 | bsd | C1–C5 | 5 | 96.05 ± 0.07 |" in table
    assert "| mnist_mlp | 1 | bp_ann | — | 0 |" in table
    png = criteria_figure(comp, tmp_path / "fig" / "criteria.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_comparison_rules_are_compared_with_the_baselines_at_the_budget_they_share(tmp_path):
    rows = _runs(tmp_path)
    task = next(t for t in TASKS if t.name == "classification")
    table = headline_table(task, rows, tmp_path)
    fa = next(line for line in table.splitlines() if "| fa |" in line)
    assert "| -0.90 | -1.40 |" in fa  # against the one-epoch rows of bp_snn and bp_ann, not their five epochs
