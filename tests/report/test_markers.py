"""Marker blocks in other pages: tables of an experiment's configurations and the README's task table."""

import pytest

from bsd.report import find_runs, main
from bsd.report.markers import MarkerError, refresh
from bsd.report.page import task_rows
from tests.report.helpers import default, write_run

END = "<!-- report:end -->"


@pytest.fixture
def rows(tmp_path):
    root = tmp_path / "results"
    lam = default("mnist_mlp", "bsd", "model.reco.lam")
    for seed in (0, 1):
        write_run(root, "mnist_mlp", "bsd", seed, {"test/acc": 0.95 + seed / 100}, best_val_acc=0.94,
                  criteria=["C1", "C2", "C3", "C4", "C5"])
        write_run(root, "mnist_mlp", "bp_ann", seed, {"test/acc": 0.98}, best_val_acc=0.97, criteria=[])
    write_run(root, "mnist_mlp", "bsd", 0, {"test/acc": 0.90}, variant="lam_low", model={"reco": {"lam": lam / 2}},
              best_val_acc=0.89)
    write_run(root, "mnist_mlp", "bsd", 0, {"test/acc": 0.91}, variant="wide", model={"widths": [64]},
              best_val_acc=0.9)
    return task_rows(find_runs([root]))


def test_a_table_marker_lists_the_defaults_then_the_chosen_rows(rows):
    page = f"# Page\n\n<!-- report:table experiment=mnist_mlp variants=lam* -->\nold text\n{END}\n\nafter\n"
    out = refresh(page, "docs/experiments/mlp.md", rows)
    lines = out.splitlines()
    assert lines[:3] == ["# Page", "", "<!-- report:table experiment=mnist_mlp variants=lam* -->"]
    assert lines[-3:] == [END, "", "after"] and "old text" not in out
    body = [x for x in lines if x.startswith("| bsd") or x.startswith("| bp_")]
    assert [x.split(" | ")[:3] for x in body] == [["| bsd", "default", "-"], ["| bp_ann", "default", "-"],
                                                  ["| bsd", body[2].split(" | ")[1], "lam_low"]]
    assert "| 95.50 ± 0.71 |" in body[0] and "| 94.00 ± 0.00 |" in body[0]  # test and best validation
    assert refresh(out, "x.md", rows) == out  # refreshing twice changes nothing


def test_keys_rules_and_metric_filter_the_table(rows):
    page = f"<!-- report:table experiment=mnist_mlp keys=model.widths rules=bsd metric=test/acc -->\n{END}\n"
    out = refresh(page, "p.md", rows)
    assert "| rule | configuration | variant | test/acc | seeds |" in out
    assert "`model.widths=[64]`" in out and "lam_low" not in out and "bp_ann" not in out


def test_markers_in_code_fences_are_left_alone(rows):
    page = f"```\n<!-- report:table experiment=nope -->\n{END}\n```\n"
    assert refresh(page, "p.md", rows) == page


@pytest.mark.parametrize(("page", "message"), [
    ("<!-- report:table experiment=mnist_mlp colour=red -->\n" + END, "p.md:1: unknown attribute 'colour=red'"),
    ("x\n<!-- report:table variants=a -->\n" + END, "p.md:2: report:table needs experiment=NAME"),
    ("<!-- report:table experiment=nope -->\n" + END, "p.md:1: no runs of experiment 'nope'"),
    ("<!-- report:table experiment=mnist_mlp -->\ntext\n", "p.md:1: report:table has no closing"),
    ("<!-- report:tabel experiment=mnist_mlp -->\n" + END, "p.md:1: unknown marker report:tabel"),
    (END + "\n", "p.md:1: <!-- report:end --> without an opening"),
    ("<!-- report:table experiment=mnist_mlp metric=test/bleu -->\n" + END, "p.md:1: no run of 'mnist_mlp' recorded"),
])
def test_bad_markers_name_the_file_and_line(rows, page, message):
    with pytest.raises(MarkerError, match=message):
        refresh(page, "p.md", rows)


def test_the_readme_task_table_takes_the_headline_numbers(rows):
    out = refresh(f"<!-- report:tasks -->\n{END}\n", "README.md", rows)
    assert ("| experiment | data | metric | bsd | bp_snn | bp_ann | criteria (bsd / bp_snn / bp_ann) | "
            "epochs · seeds · device | command |") in out
    assert ("| mnist_mlp | MNIST | test acc % | 95.50 ± 0.71 | - | 98.00 ± 0.00 | C1–C5 / - / — | 2 · 2 · cpu | "
            "`python src/train.py +experiment=mnist_mlp` |") in out


def test_a_baseline_on_another_budget_is_marked(tmp_path):
    root = tmp_path / "results"
    for seed in (0, 1):
        write_run(root, "mnist_mlp", "bsd", seed, {"test/acc": 0.95}, criteria=["C1", "C2", "C3", "C4", "C5"])
        write_run(root, "mnist_mlp", "bp_ann", seed + 1, {"test/acc": 0.98}, device="NVIDIA H200", criteria=[])
    out = refresh(f"<!-- report:tasks -->\n{END}\n", "README.md", task_rows(find_runs([root])))
    assert "| 95.00 ± 0.00 | - | 98.00 ± 0.00 † |" in out


def test_the_task_table_names_a_capped_epoch(tmp_path):
    root = tmp_path / "results"
    for rule in ("bsd", "bp_snn", "bp_ann"):
        write_run(root, "mnist_cnn", rule, 0, {"test/acc": 0.95}, arch="cnn", epochs=1,
                  trainer={"limit_train_batches": 0.25})
    out = refresh(f"<!-- report:tasks -->\n{END}\n", "README.md", task_rows(find_runs([root])))
    assert "| 1 (25 % of batches) · 1 · cpu |" in out


def test_the_command_refreshes_pages_beside_the_output_and_the_readme(rows, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "docs" / "experiments").mkdir(parents=True)
    page = tmp_path / "docs" / "experiments" / "mlp.md"
    page.write_text(f"<!-- report:table experiment=mnist_mlp -->\n{END}\n")
    (tmp_path / "README.md").write_text(f"intro\n<!-- report:tasks -->\n{END}\n")
    main(["results", "--out", "docs/results.md"])
    assert "| bsd | default |" in page.read_text() and "| mnist_mlp | MNIST |" in (tmp_path / "README.md").read_text()
    first = {p: p.read_bytes() for p in (page, tmp_path / "README.md", tmp_path / "docs" / "results.md")}
    main(["results", "--out", "docs/results.md", "--check"])
    main(["results", "--out", "docs/results.md"])
    assert {p: p.read_bytes() for p in first} == first  # byte-identical on a second run
    assert "/tmp" not in first[tmp_path / "docs" / "results.md"].decode()  # no absolute paths
    page.write_text(f"<!-- report:table experiment=nope -->\n{END}\n")
    with pytest.raises(SystemExit, match="docs/experiments/mlp.md:1: no runs of experiment 'nope'"):
        main(["results", "--out", "docs/results.md"])
