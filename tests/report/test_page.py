"""The results page: headline tables, screens, the other sections, and the committed page regenerated unchanged."""

import json

import pytest

from bsd.report import find_prior_screens, find_runs, main, render, unfinished_runs
from bsd.report.sections import prior_table, time_to_target, weight_average
from tests.conftest import ROOT
from tests.report.helpers import write_run


def _lines(text: str, start: str) -> list[str]:
    return [x for x in text.splitlines() if x.startswith(start)]


def test_headline_means_stds_gaps_screens_and_stopped_runs(tmp_path):
    for seed, acc in ((1, 0.90), (2, 0.92)):
        write_run(tmp_path, "mnist_mlp", "bsd", seed, {"test/acc": acc}, best_val_acc=acc - 0.01)
    write_run(tmp_path, "mnist_mlp", "bp_snn", 1, {"test/acc": 0.95})
    write_run(tmp_path, "mnist_mlp", "bp_ann", 1, {"test/acc": 0.97}, model={"widths": [128]})  # not the default
    write_run(tmp_path, "mnist_mlp", "bsd", 5, None, curve=[0.3, 0.45, 0.4], trainer={"max_epochs": 9})
    write_run(tmp_path, "mnist_mlp", "bsd", 1, {"test/acc": 0.91}, variant="wide")
    text = render(find_runs([tmp_path]), "cmd", unfinished_runs([tmp_path]))
    (bsd,) = _lines(text, "| mnist_mlp | bsd | 9")
    assert "| 91.00 ± 1.41 | -4.00 |  | 90.00 ± 1.41 | 2 | 2 |" in bsd  # no default bp_ann row: no gap to it
    (ann,) = _lines(text, "| bp_ann | model.widths=[128] | - | - | 97.00 |")
    assert "`python src/train.py +experiment=mnist_mlp model.rule=bp_ann seed=1 'model.widths=[128]'`" in ann
    assert _lines(text, "| bsd | default | wide | - | 91.00 | 1 |")  # a rerun of seed 1 under another name
    (stop,) = _lines(text, "| mnist_mlp | bsd | default | - | 5 |")
    assert "| 3 / 9 | val/acc | 30.0 45.0 40.0 | 45.00 |" in stop
    assert "20" not in text.split("## Today")[0].replace("20 ", "")  # no dates in the prose


def test_main_refuses_an_empty_folder(tmp_path):
    with pytest.raises(SystemExit, match="no metrics.json"):
        main([str(tmp_path), "--out", str(tmp_path / "r.md"), "--pages"])


def test_sequence_tables_show_floors_ratios_bits_and_samples(tmp_path):
    ngram = {"2-gram": {"test/acc": 0.26}, "3-gram": {"test/acc": 0.41}}
    sample = {"prompt": "ROMEO:\n", "temperature": 0.8, "text": "Thou art"}
    write_run(tmp_path, "text_char", "bsd", 0, {"test/acc": 0.45, "test/bpc": 2.5}, arch="rnn", floors=ngram,
              sample=sample)
    write_run(tmp_path, "text_char", "bp_snn", 0, {"test/acc": 0.50, "test/bpc": 2.1}, arch="rnn", floors=ngram)
    write_run(tmp_path, "text_char", "bp_snn", 1, {"test/acc": 0.40, "test/bpc": 3.1}, arch="rnn", floors=ngram,
              trainer={"limit_train_batches": 100})
    fl = {"last value": {"test/mse": 0.028, "test/mae": 114.0, "test/rmse": 151.0},
          "linear AR (least squares)": {"test/mse": 0.020, "test/mae": 100.0, "test/rmse": 140.0}}
    mon = {"monitor": ["val/mse", "min"]}
    write_run(tmp_path, "timeseries_elec", "bsd", 0, {"test/mse": 0.010, "test/mae": 70.0, "test/rmse": 90.0},
              arch="rnn", floors=fl, **mon)
    write_run(tmp_path, "timeseries_elec", "bp_ann", 0, {"test/mse": 0.008, "test/mae": 60.0, "test/rmse": 80.0},
              arch="rnn", floors=fl, best_val={"metric": "val/mse", "mode": "min", "value": 0.007}, **mon)
    text = render(find_runs([tmp_path]), "cmd")
    (bsd,) = _lines(text, "| text_char | bsd |")
    assert "| 45.00 | 2.500 | -5.00 |" in bsd
    assert _lines(text, "| text_char | 3-gram (floor) | 41.00 | - |")
    assert _lines(text, "| bp_snn | default | - | - | 40.00 | 3.100 | 1 | 2 | 100 |")
    assert "```text\nROMEO:\nThou art\n```" in text
    (fc,) = _lines(text, "| timeseries_elec | bsd |")
    assert "| 0.010000 | 0.500 | 70.0 | 90.0 | 1.25 |" in fc  # skill: 1 - 0.010 / 0.020 (the linear floor)
    (ann,) = _lines(text, "| timeseries_elec | bp_ann |")
    assert "| 1.00 | 0.007000 |" in ann
    assert _lines(text, "| timeseries_elec | last value (floor) | 0.028000 | - | 114.0 | 151.0 |")


def test_autoencoder_rows_split_by_fid_network_and_link_their_grids(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for seed, net in ((0, "aaa"), (1, "bbb")):
        d = write_run(tmp_path / "results", "mnist_ae", "bsd", seed, {"test/fid_samples": 300.0 + seed,
                                                                       "test/mse": 0.02}, arch="ae",
                      generation={"feature_net_sha256": net, "feature_net_test_acc": 0.99,
                                  "feature_net_command": "python -m bsd.fid --data mnist"})
        (d / "grids").mkdir()
        (d / "grids" / "final.png").write_bytes(b"png")
    text = render(find_runs(["results"]), "cmd", link_base=tmp_path / "docs")
    (head,) = _lines(text, "| mnist_ae | bsd |")  # seeds scored by different networks are not averaged
    assert "| 301.00 |" in head and "| bbb |" in head
    (other,) = _lines(text, "| bsd | default | - |")
    assert "| 300.00 |" in other and "| aaa |" in other
    assert "(../results/mnist_ae/bsd/seed" in text and "![mnist_ae bsd]" in text
    assert "- FID network `aaa` (MNIST): BP-trained CNN classifier, test accuracy 99.00 %" in text


def test_weight_averaging_is_paired_within_each_run(tmp_path):
    for seed, (avg, raw) in enumerate(((0.9905, 0.9898), (0.9901, 0.9902))):
        write_run(tmp_path, "mnist_cnn", "bsd", seed, {"test/acc": avg, "test_raw/acc": raw}, arch="cnn",
                  cfg={"ema": {"decay": 0.999}}, epochs=10)
    runs = find_runs([tmp_path])
    table = weight_average(runs).splitlines()
    assert any("| 0 | 10 | 99.05 | 98.98 | +0.07 |" in r for r in table)
    mean = next(r for r in table if "mean of 2" in r)
    assert "99.03 ± 0.03" in mean and "99.00 ± 0.03" in mean and "+0.03" in mean
    assert weight_average([m for m in runs if m["seed"] == 7]) == ""


def test_time_to_target_rows(tmp_path):
    r = {"metric": "val/acc", "target": 0.97, "mode": "max", "reached": True, "train_time_s": 61.2, "epoch": 0,
         "step": 351, "best": 0.981}
    write_run(tmp_path, "mnist_mlp", "bp_snn", 0, {"test/acc": 0.98}, time_to_target=r)
    write_run(tmp_path, "mnist_mlp", "bsd", 0, {"test/acc": 0.95}, epoch_times_s=[50.0, 52.0],
              time_to_target={**r, "reached": False, "best": 0.953})
    table = time_to_target(find_runs([tmp_path]))
    assert "| val/acc >= 97 | yes | 61 | 0, 351 | 98.10 | 98.00 |" in table
    assert "| no | - (trained 102 s) | - | 95.30 | 95.00 |" in table
    assert time_to_target([]) == ""


def test_prior_screens_show_each_priors_ratio_and_grid_links(tmp_path):
    screen = tmp_path / "results" / "day" / "screen"
    (screen / "grids").mkdir(parents=True)
    (screen / "grids" / "mnist_bsd_gmm10_seed3.png").write_bytes(b"png")  # a screen of seed 3 names its grids
    run = tmp_path / "results" / "day" / "run"
    run.mkdir()
    (run / "metrics.json").write_text(json.dumps({"seed": 3, "generation": {"feature_net_sha256": "abc123"}}))
    rows = [{"data": "mnist", "rule": r, "prior": p, "fid_samples": f, "run": "results/day/run"}
            for r, p, f in [("bsd", "gaussian", 450.0), ("bp_ann", "gaussian", 300.0), ("bsd", "gmm:10", 320.0),
                            ("bp_ann", "gmm:10", 128.0)]]
    (screen / "priors.json").write_text(json.dumps({"command": "python prior_screen X", "rows": rows}))
    screens = find_prior_screens([tmp_path / "results"])
    table = prior_table(screens, tmp_path / "docs")
    assert "| MNIST | gaussian | bernoulli | 450.0 | 300.0 | 1.50 | 3 | abc123 | - | - |" in table
    link = "[png](../results/day/screen/grids/mnist_bsd_gmm10_seed3.png)"
    assert f"| MNIST | gmm:10 | bernoulli | 320.0 | 128.0 | 2.50 | 3 | abc123 | {link} | - |" in table
    assert "Commands: `python prior_screen X`" in table


def test_the_committed_results_page_is_regenerated_unchanged(monkeypatch):
    """``python -m bsd.report results --out docs/results.md`` reproduces the committed page byte for byte."""
    monkeypatch.chdir(ROOT)
    main(["results", "--out", "docs/results.md", "--pages", "--check"])
