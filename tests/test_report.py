import json

import yaml

from bsd.report import find_runs, main, render, unfinished_runs


def _run(root, exp, rule, seed, acc, widths=(64, 64), curve=(0.5, 0.6), metrics=True, variant=None):
    d = root / exp / rule / f"seed{seed}{'_' + variant if variant else ''}"
    (d / "csv").mkdir(parents=True)
    cfg = {"experiment_name": exp, "seed": seed, "variant": variant, "trainer": {"max_epochs": 9},
           "model": {"arch": "mlp", "rule": rule, "widths": list(widths)}}
    (d / "config_resolved.yaml").write_text(yaml.safe_dump(cfg))
    (d / "csv" / "metrics.csv").write_text("epoch,val/acc\n" + "".join(f"{i},{v}\n" for i, v in enumerate(curve)))
    if metrics:
        m = {"experiment": exp, "rule": rule, "seed": seed, "dataset": "mnist", "variant": variant, "epochs": 2,
             "test": {"test/acc": acc}, "time_per_epoch_s": 3.0, "device": "cpu", "command": f"python x seed={seed}"}
        (d / "metrics.json").write_text(json.dumps(m))


def test_table_means_stds_and_gaps(tmp_path):
    for seed, acc in ((1, 0.90), (2, 0.92)):
        _run(tmp_path, "mnist_mlp", "bsd", seed, acc)
    _run(tmp_path, "mnist_mlp", "bp_snn", 1, 0.95)
    _run(tmp_path, "mnist_mlp", "bp_ann", 1, 0.97, widths=(128,))  # another architecture: its own row, no gap
    _run(tmp_path, "mnist_mlp", "bsd", 5, None, metrics=False, curve=(0.3, 0.45, 0.4))
    _run(tmp_path, "mnist_mlp", "bsd", 1, 0.91, variant="wide")
    text = render(find_runs([tmp_path]), [str(tmp_path)], unfinished_runs([tmp_path]))
    row = next(line for line in text.splitlines() if "| mnist_mlp | mlp 64x2 | bsd |" in line)
    assert "91.00 ± 1.41" in row and "| 2 |" in row and "-4.00" in row
    ann = next(line for line in text.splitlines() if "| bp_ann |" in line and "## " not in line)
    assert "mlp 128" in ann and "97.00" in ann
    assert "30.0 45.0 40.0" in text and "| 3 / 9 |" in text and "45.00" in text
    assert "| wide | bsd | 91.00 |" in text


def test_main_refuses_an_empty_folder(tmp_path):
    try:
        main([str(tmp_path), "--out", str(tmp_path / "r.md")])
    except SystemExit as e:
        assert "no metrics.json" in str(e)
    else:
        raise AssertionError("expected an error")
