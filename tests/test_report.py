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


def _seq_run(root, exp, rule, seed, test, floors, sample=None, limit=1.0, variant=None, best=None, width=512, T=4,
             batch=None, data=None, reco=None, code=None, epochs=1):
    tag = "".join(map(str, data.values())) if data else ""
    tag += "".join(map(str, reco.values())) if reco else ""
    tag += "".join(map(str, code.values())) if code else ""
    tag += f"T{T}" if T != 4 else ""
    d = root / exp / rule / f"seed{seed}{variant or ''}" / f"w{width}{batch or ''}{tag}e{epochs}"
    d.mkdir(parents=True)
    cfg = {"experiment_name": exp, "seed": seed, "model": {"arch": "rnn", "rule": rule, "widths": [width], "T": T},
           "trainer": {"limit_train_batches": limit}}
    if reco:
        cfg["model"]["reco"] = reco
    if code:
        cfg["model"]["code"] = code
    if batch:
        cfg["data"] = {"batch_size": batch}
    if data:
        cfg["data"] = {**cfg.get("data", {}), **data}
    (d / "config_resolved.yaml").write_text(yaml.safe_dump(cfg))
    m = {"experiment": exp, "rule": rule, "seed": seed, "epochs": epochs, "test": test, "floors": floors,
         "variant": variant,
         "time_per_epoch_s": 10.0, "device": "cpu", "command": "python src/train.py +experiment=" + exp}
    if isinstance(best, dict):  # written since 2026-12-02
        m["best_val"] = best
    elif best is not None:  # written before
        m["best_val_acc"] = best
    if sample:
        m["sample"] = {"prompt": "ROMEO:\n", "temperature": 0.8, "text": sample}
    (d / "metrics.json").write_text(json.dumps(m))


def test_sequence_tables_show_floors_ratios_and_samples(tmp_path):
    ngram = {"2-gram": {"test/acc": 0.26}, "3-gram": {"test/acc": 0.41}}
    _seq_run(tmp_path, "text_char", "bsd", 0, {"test/acc": 0.45, "test/bpc": 2.5}, ngram, sample="Thou art")
    _seq_run(tmp_path, "text_char", "bp_snn", 0, {"test/acc": 0.50, "test/bpc": 2.1}, ngram, limit=100)
    fl = {"last value": {"test/mse": 0.028, "test/mae": 114.0, "test/rmse": 151.0},
          "linear AR (least squares)": {"test/mse": 0.004, "test/mae": 45.0, "test/rmse": 60.0}}
    _seq_run(tmp_path, "timeseries_elec", "bsd", 0, {"test/mse": 0.010, "test/mae": 70.0, "test/rmse": 90.0}, fl)
    _seq_run(tmp_path, "timeseries_elec", "bp_ann", 0, {"test/mse": 0.008, "test/mae": 60.0, "test/rmse": 80.0}, fl)
    _seq_run(tmp_path, "timeseries_elec", "bsd", 0, {"test/mse": 0.02}, fl, variant="epochs5", best=0.03)
    _seq_run(tmp_path, "timeseries_elec", "bsd", 0, {"test/mse": 0.03}, fl, variant="short")
    _seq_run(tmp_path, "text_char", "bsd", 0, {"test/acc": 0.40}, ngram, variant="small")
    _seq_run(tmp_path, "text_char", "bsd", 0, {"test/acc": 0.42}, ngram, variant="long",
             best={"metric": "val/acc", "mode": "max", "value": 0.43})
    _seq_run(tmp_path, "text_char", "bsd", 1, {"test/acc": 0.42}, ngram, variant="long",
             best={"metric": "val/acc", "mode": "max", "value": 0.43})
    text = render(find_runs([tmp_path]), [str(tmp_path)])
    lines = text.splitlines()
    assert any(x.startswith("| timeseries_elec | epochs5 | bsd | 0.02000 |") and "| 0.03000 |" in x for x in lines)
    assert any(x.startswith("| text_char | long | bsd | 42.00 ± 0.00 | 2 |") and "| 43.00 ± 0.00 |" in x for x in lines)
    bsd = next(x for x in lines if x.startswith("| bsd | rnn 512 T4 | 45.00"))
    assert "2.500" in bsd and "-5.00" in bsd and "| all |" in bsd
    assert any(x.startswith("| bp_snn |") and "| 100 |" in x for x in lines)
    assert any(x.startswith("| 3-gram count model (floor)") and "41.00" in x for x in lines)
    assert "ROMEO:\nThou art" in text
    fc = next(x for x in lines if x.startswith("| bsd | rnn 512 T4 | 0.01000"))
    assert "| 1.25 |" in fc  # MSE ratio to bp_ann
    assert "The linear AR (least squares) floor (MSE 0.00400) beats `bsd`" in text
    assert "The last value floor" not in text
    assert "- Best `bsd` ablation (table below): `long` (2 seeds), 42.00 % test; floors it beats: 2-gram (26.00), " \
           "3-gram (41.00)." in text
    assert "- Best `bsd` ablation (table below): `epochs5` (1 seed), MSE 0.02000 (2.50 x the best default `bp_ann` " \
           "MSE)." in text
    assert "Best `bp_ann` ablation" not in text


def test_commands_pin_the_shape_of_rows_from_an_earlier_default(tmp_path):
    from bsd.report import commands, variant_table

    ngram = {"3-gram": {"test/acc": 0.41}}
    for seed in (0, 1):
        _seq_run(tmp_path, "text_char", "bsd", seed, {"test/acc": 0.41}, ngram, width=1024, T=1)
    _seq_run(tmp_path, "text_char", "bsd", 0, {"test/acc": 0.34}, ngram)  # the earlier default: 512 units, T = 4
    _seq_run(tmp_path, "timeseries_elec", "bsd", 0, {"test/mse": 0.03}, {})
    lines = commands(find_runs([tmp_path])).splitlines()
    assert "- text_char / bsd (rnn 1024 T1) (seeds [0, 1]): `python src/train.py +experiment=text_char " \
           "'model.widths=[1024]' model.T=1 model.reco.on=voltage model.reco.center=none " \
           "model.reco.through_time=0 model.reco.time_path=rest model.reco.lam=0.05`" in lines
    assert "- text_char / bsd (rnn 512 T4) (seeds [0]): `python src/train.py +experiment=text_char " \
           "'model.widths=[512]' model.T=4 model.reco.on=voltage model.reco.center=none " \
           "model.reco.through_time=0 model.reco.time_path=rest model.reco.lam=0.05`" in lines
    assert "- timeseries_elec / bsd (seeds [0]): `python src/train.py +experiment=timeseries_elec" \
           " model.reco.on=voltage model.reco.center=none model.reco.through_time=0 model.reco.time_path=rest" \
           " model.reco.lam=0.05`" in lines
    # runs from before model.reco.through_time existed reproduce with the spec's 0, whatever today's default
    # an ablation that already names T gets only the width pinned
    _seq_run(tmp_path, "text_char", "bsd", 0, {"test/acc": 0.35}, ngram, variant="T2", T=2)
    p = next(tmp_path.rglob("seed0T2/w512T2e1/metrics.json"))
    p.write_text(p.read_text().replace("+experiment=text_char", "+experiment=text_char model.T=2"))
    row = next(x for x in variant_table(find_runs([tmp_path])).splitlines() if "| T2 |" in x)
    assert "`python src/train.py +experiment=text_char model.T=2 'model.widths=[512]' model.reco.on=voltage " \
           "model.reco.center=none model.reco.through_time=0 model.reco.time_path=rest model.reco.lam=0.05` |" in row


def test_rows_that_differ_only_in_batch_size_are_kept_apart_and_pinned(tmp_path):
    from bsd.report import commands

    ngram = {"3-gram": {"test/acc": 0.41}}
    _seq_run(tmp_path, "text_char", "bsd", 0, {"test/acc": 0.40}, ngram, width=1024, T=1, batch=128)
    _seq_run(tmp_path, "text_char", "bsd", 0, {"test/acc": 0.42}, ngram, width=1024, T=1, batch=64)
    runs = find_runs([tmp_path])
    assert {m["_arch"] for m in runs} == {"rnn 1024 T1 b128", "rnn 1024 T1 b64"}
    lines = commands(runs).splitlines()
    for b in (128, 64):
        assert f"- text_char / bsd (rnn 1024 T1 b{b}) (seeds [0]): `python src/train.py +experiment=text_char " \
               f"'model.widths=[1024]' model.T=1 data.batch_size={b} model.reco.on=voltage " \
               "model.reco.center=none model.reco.through_time=0 model.reco.time_path=rest " \
               "model.reco.lam=0.05`" in lines
    from bsd.report import text_table

    rows = [r for r in text_table(runs).splitlines() if r.startswith("| bsd |")]
    assert sorted(r.split(" | ")[1:3] for r in rows) == [["rnn 1024 T1 b128", "40.00"], ["rnn 1024 T1 b64", "42.00"]]


def test_forecast_rows_name_their_inputs_and_target_and_are_pinned(tmp_path):
    from bsd.report import commands

    _seq_run(tmp_path, "timeseries_elec", "bsd", 0, {"test/mse": 0.03}, {}, width=256, batch=128,
             data={"window": 48})  # a run from before data.lags and data.predict existed
    _seq_run(tmp_path, "timeseries_elec", "bsd", 0, {"test/mse": 0.005}, {}, width=256, batch=128,
             data={"window": 48, "lags": 48, "predict": "change"})
    runs = find_runs([tmp_path])
    assert {m["_arch"] for m in runs} == {"rnn 256 T4 b128", "rnn 256 T4 b128 lags48 change"}
    from bsd.report import arch_label
    text = {"model": {"arch": "rnn", "rule": "bsd", "widths": [1024], "T": 1},
            "data": {"batch_size": 64, "seq_len": 50, "context": 4}}
    assert arch_label(text) == "rnn 1024 T1 b64 ctx4"
    text["model"]["readout_skip"] = True
    assert arch_label(text) == "rnn 1024 T1 b64 ctx4 skip"
    forecast = {"model": {"arch": "rnn", "rule": "bsd", "widths": [256], "T": 4},
                "data": {"batch_size": 128, "lags": 48, "predict": "residual"}}
    assert arch_label(forecast) == "rnn 256 T4 b128 lags48 residual"
    forecast["data"]["residual_parts"] = 16
    assert arch_label(forecast) == "rnn 256 T4 b128 lags48 residual16"
    from bsd.report import arch_overrides
    forecast["data"]["window"] = 48
    assert arch_overrides(forecast)["data.residual_ridge"] == "data.residual_ridge=0"  # runs from before the key
    forecast["data"]["residual_ridge"] = 3e-4
    assert arch_label(forecast) == "rnn 256 T4 b128 lags48 residual16r0.0003"
    assert arch_overrides(forecast)["data.residual_ridge"] == "data.residual_ridge=0.0003"
    assert arch_overrides(forecast)["data.residual_days"] == "data.residual_days=1"  # runs from before the key
    assert arch_overrides(forecast)["data.residual_smooth"] == "data.residual_smooth=0"
    forecast["data"].update(residual_ridge=0, residual_days=7, residual_smooth=3e-3)
    assert arch_label(forecast) == "rnn 256 T4 b128 lags48 residual16d7s0.003"
    assert arch_overrides(forecast)["data.residual_smooth"] == "data.residual_smooth=0.003"
    del forecast["data"]["residual_ridge"], forecast["data"]["residual_days"], forecast["data"]["residual_smooth"]
    forecast["model"]["context_gate"], forecast["data"]["feature_lags"] = 8, 48
    assert arch_label(forecast) == "rnn 256 T4 b128 lags48 residual16 flags48 gate8"
    forecast["model"]["gate_planes"] = 2
    assert arch_label(forecast) == "rnn 256 T4 b128 lags48 residual16 flags48 gate8 planes2"
    forecast["model"]["gate_seed"] = 3
    assert arch_label(forecast) == "rnn 256 T4 b128 lags48 residual16 flags48 gate8 planes2s3"
    forecast["model"]["recurrent_gain"] = 0.0
    assert arch_label(forecast).endswith("planes2s3 norec")
    forecast["model"]["recurrent_gain"] = 0.1
    assert "norec" not in arch_label(forecast)
    lines = commands(runs).splitlines()
    assert any(x.startswith("- timeseries_elec / bsd (rnn 256 T4 b128) ") and x.endswith(
        "data.batch_size=128 data.lags=0 data.predict=level model.reco.on=voltage model.reco.center=none "
        "model.reco.through_time=0 model.reco.time_path=rest model.reco.lam=0.05`") for x in lines)
    assert any(x.startswith("- timeseries_elec / bsd (rnn 256 T4 b128 lags48 change) ") and x.endswith(
        "data.lags=48 data.predict=change model.reco.on=voltage model.reco.center=none model.reco.through_time=0 "
        "model.reco.time_path=rest model.reco.lam=0.05`")
        for x in lines)


def test_forecast_rows_on_rates_keep_their_own_row_and_ratio(tmp_path):
    """A bsd forecaster on centred rates (the default since 2026-12-01) does not replace the voltage rows."""
    from bsd.report import forecast_table

    data = {"window": 48, "lags": 48, "predict": "change"}
    for rule, mse in (("bsd", 0.004), ("bp_ann", 0.001)):
        _seq_run(tmp_path, "timeseries_elec", rule, 0, {"test/mse": mse}, {}, width=256, data=data)
    _seq_run(tmp_path, "timeseries_elec", "bsd", 0, {"test/mse": 0.0035}, {}, width=256, data=data,
             reco={"on": "spikes", "center": "batch"})
    rows = forecast_table(find_runs([tmp_path])).splitlines()
    old = next(r for r in rows if r.startswith("| bsd |"))
    new = next(r for r in rows if r.startswith("| bsd (centred rates) |"))
    assert "| 4.00 |" in old and "| 3.50 |" in new
    assert rows.index(old) < rows.index(new) < rows.index(next(r for r in rows if r.startswith("| bp_ann |")))


def test_a_spiking_rule_run_at_two_T_gets_a_row_per_T_and_bp_ann_one_row(tmp_path):
    """The forecaster's T changed on 2026-12-04: bp_snn at T = 1 does not hide the T = 4 run of the same seed."""
    from bsd.report import forecast_table

    data = {"window": 48, "lags": 48, "predict": "residual"}
    for rule, T, mse in (("bp_snn", 4, 0.0011), ("bp_snn", 1, 0.0013), ("bp_ann", 1, 0.001)):
        _seq_run(tmp_path, "timeseries_elec", rule, 0, {"test/mse": mse}, {}, width=256, T=T, data=data)
    rows = forecast_table(find_runs([tmp_path])).splitlines()
    assert any(r.startswith("| bp_snn (T4) | rnn 256 T4 lags48 residual | 0.00110 |") and "| 1.10 |" in r for r in rows)
    assert any(r.startswith("| bp_snn (T1) | rnn 256 T1 lags48 residual | 0.00130 |") and "| 1.30 |" in r for r in rows)
    assert sum(r.startswith("| bp_ann |") for r in rows) == 1


def test_forecast_rows_of_another_target_code_or_push_keep_their_own_row_and_pinned_command(tmp_path):
    """The forecaster's default of 2026-12-03 (ramp code, λ 0.2) does not merge with the rows before it."""
    from bsd.report import forecast_table, pinned_command, shapes_by_experiment

    data = {"window": 48, "lags": 48, "predict": "change"}
    for shape, lam, mse, gate in (("gaussian", 0.05, 0.0034, {}), ("ramp", 0.2, 0.0030, {}),
                                  ("ramp", 0.2, 0.0015, {"context_bins": 8, "context_assign": True})):
        _seq_run(tmp_path, "timeseries_elec", "bsd", 0, {"test/mse": mse}, {}, width=256, data=data,
                 reco={"on": "spikes", "center": "batch", "lam": lam},
                 code={"kind": "population", "shape": shape, **gate})
    runs = find_runs([tmp_path])
    rows = forecast_table(runs).splitlines()
    assert any(r.startswith("| bsd (centred rates, gaussian code, λ 0.05) |") and "0.0034" in r for r in rows)
    assert any(r.startswith("| bsd (centred rates, ramp code, λ 0.2) |") and "0.0030" in r for r in rows)
    assert any(r.startswith("| bsd (centred rates, ramp code, λ 0.2, 8 day blocks assigned) |") and "0.0015" in r
               for r in rows)
    shapes = shapes_by_experiment(runs)
    cmds = sorted(pinned_command(m, shapes) for m in runs)
    assert "model.code.shape=gaussian model.reco.lam=0.05 model.code.context_bins=0" in cmds[0]
    assert cmds[1].endswith("model.code.shape=ramp model.reco.lam=0.2 model.code.context_bins=0 "
                            "model.code.context_assign=false")
    assert cmds[2].endswith("model.code.context_bins=8 model.code.context_assign=true")


def test_ablations_of_one_name_but_different_shapes_keep_their_own_rows(tmp_path):
    from bsd.report import variant_table

    _seq_run(tmp_path, "timeseries_elec", "bsd", 0, {"test/mse": 0.025}, {}, width=256, batch=128,
             variant="epochs5", data={"window": 48})
    _seq_run(tmp_path, "timeseries_elec", "bsd", 0, {"test/mse": 0.0037}, {}, width=256, batch=128,
             variant="epochs5", data={"window": 48, "lags": 48, "predict": "change"})
    _seq_run(tmp_path, "timeseries_elec", "bsd", 0, {"test/mse": 0.03}, {}, width=256, batch=128, variant="T8",
             data={"window": 48})
    rows = [x for x in variant_table(find_runs([tmp_path])).splitlines() if x.startswith("| timeseries_elec")]
    assert [r.split(" | ")[1:4] for r in rows] == [
        ["epochs5 (rnn 256 b128 lags48 change)", "bsd", "0.00370"], ["epochs5 (rnn 256 b128)", "bsd", "0.02500"],
        ["T8", "bsd", "0.03000"]]


def test_ablations_of_one_name_but_different_epochs_keep_their_own_rows(tmp_path):
    """A one-epoch screen (e.g. on a GPU) never averages into the two-epoch runs of the same variant name."""
    from bsd.report import variant_table

    for seed, mse in ((0, 0.0014), (1, 0.0016)):
        _seq_run(tmp_path, "timeseries_elec", "bsd", seed, {"test/mse": mse}, {}, width=256, variant="hgate8", epochs=2)
    _seq_run(tmp_path, "timeseries_elec", "bsd", 0, {"test/mse": 0.0020}, {}, width=256, variant="hgate8", epochs=1)
    _seq_run(tmp_path, "timeseries_elec", "bsd", 0, {"test/mse": 0.0030}, {}, width=256, variant="T8", epochs=1)
    rows = [x.split(" | ")[1:6] for x in variant_table(find_runs([tmp_path])).splitlines()
            if x.startswith("| timeseries_elec")]
    assert rows == [["hgate8 (2 ep)", "bsd", "0.00150 ± 0.00014", "2", "2"],
                    ["hgate8 (1 ep)", "bsd", "0.00200", "1", "1"], ["T8", "bsd", "0.00300", "1", "1"]]


def test_generation_table_shows_fid_ratio_feature_net_and_grid_links(tmp_path):
    from bsd.report import generation_table

    for rule, fid in (("bsd", 90.0), ("bp_ann", 60.0)):
        d = tmp_path / "res" / "mnist_ae" / rule / "seed0"
        (d / "grids").mkdir(parents=True)
        (d / "grids" / "final.png").write_bytes(b"png")
        cfg = {"experiment_name": "mnist_ae", "seed": 0, "model": {"arch": "ae", "rule": rule, "channels": [16, 32],
                                                                     "latent": 32, "T": 8}}
        (d / "config_resolved.yaml").write_text(yaml.safe_dump(cfg))
        m = {"experiment": "mnist_ae", "rule": rule, "seed": 0, "dataset": "mnist", "epochs": 3, "device": "cpu",
             "test": {"test/mse": 0.02, "test/fid_recon": fid / 3, "test/fid_samples": fid},
             "generation": {"feature_net_test_acc": 0.9864, "feature_net_command": "python -m bsd.fid --data mnist"}}
        (d / "metrics.json").write_text(json.dumps(m))
    text = generation_table(find_runs([tmp_path / "res"]), tmp_path / "docs")
    bsd = next(line for line in text.splitlines() if "| bsd |" in line)
    assert "ae c16-32 z32 T8" in bsd and "90.00" in bsd and "| 1.50 |" in bsd
    assert "[png](../res/mnist_ae/bsd/seed0/grids/final.png)" in bsd
    assert "98.64 %" in text and "python -m bsd.fid --data mnist" in text
    assert "| acc 98.64 % |" in bsd  # a run from before fingerprints names its network by its accuracy
    ann = next(line for line in text.splitlines() if "| bp_ann |" in line)
    assert "T1" in ann and "| 1.00 |" in ann


def test_generation_rows_scored_by_different_feature_nets_are_kept_apart(tmp_path):
    from bsd.report import generation_table

    runs = (("bsd", 0, 90.0, "aaa111", None), ("bp_ann", 0, 60.0, "aaa111", None), ("bsd", 1, 300.0, "bbb222", None),
            ("bp_ann", 1, 100.0, "bbb222", None), ("bsd", 0, 70.0, "aaa111", "current"),
            ("bp_ann", 0, 56.0, "aaa111", "current"))
    for rule, seed, fid, sha, space in runs:
        d = tmp_path / "res" / str(space) / "mnist_ae" / rule / f"seed{seed}"
        d.mkdir(parents=True)
        model = {"arch": "ae", "rule": rule, "channels": [16, 32], "latent": 32, "T": 8}
        if space:
            model["latent_space"] = space
        cfg = {"experiment_name": "mnist_ae", "seed": seed, "model": model}
        (d / "config_resolved.yaml").write_text(yaml.safe_dump(cfg))
        m = {"experiment": "mnist_ae", "rule": rule, "seed": seed, "dataset": "mnist", "epochs": 3, "device": "cpu",
             "test": {"test/mse": 0.02, "test/fid_recon": fid / 3, "test/fid_samples": fid},
             "generation": {"feature_net_test_acc": 0.98 if sha == "aaa111" else 0.99, "feature_net_sha256": sha,
                            "feature_net_command": "python -m bsd.fid --data mnist"}}
        (d / "metrics.json").write_text(json.dumps(m))
    text = generation_table(find_runs([tmp_path / "res"]), tmp_path / "docs")
    bsd = [line for line in text.splitlines() if "| bsd |" in line]
    # one row per network and prior, each seed alone (never the mean 195 of both), each ratio against its own bp_ann
    assert len(bsd) == 3 and not any("195.00" in line for line in bsd)
    assert any("| 70.00 | 1.25 | gaussian on current | aaa111 | 1 |" in line for line in bsd)
    assert any("| 90.00 | 1.50 | gaussian on rate | aaa111 | 1 |" in line for line in bsd)
    assert any("| 300.00 | 3.00 | gaussian on rate | bbb222 | 1 |" in line for line in bsd)
    assert "`aaa111` (MNIST)" in text and "`bbb222` (MNIST)" in text and "99.00 %" in text


def test_time_to_target_rows(tmp_path):
    from bsd.report import time_to_target_table

    _run(tmp_path, "mnist_mlp", "bp_snn", 0, 0.98, variant="time_to_target")
    _run(tmp_path, "mnist_mlp", "bsd", 0, 0.95, variant="time_to_target")
    for rule, res in (("bp_snn", {"reached": True, "train_time_s": 61.4, "epoch": 0, "step": 351, "best": 0.981}),
                      ("bsd", {"reached": False, "best": 0.953})):
        p = tmp_path / "mnist_mlp" / rule / "seed0_time_to_target" / "metrics.json"
        m = json.loads(p.read_text())
        m.update(time_to_target={"metric": "val/acc", "target": 0.97, **res}, epoch_times_s=[50.0, 52.0])
        p.write_text(json.dumps(m))
    text = time_to_target_table(find_runs([tmp_path]))
    bp = next(line for line in text.splitlines() if "| bp_snn |" in line)
    bsd = next(line for line in text.splitlines() if "| bsd |" in line)
    assert "val/acc >= 97 %" in bp and "| yes | 61 | 0, 351 | 98.10 | 98.00 |" in bp
    assert "| no | - (trained 102 s) | - | 95.30 | 95.00 |" in bsd
    assert "## Time to accuracy" in render(find_runs([tmp_path]), [str(tmp_path)])
    assert time_to_target_table([]) == ""


def test_autoencoder_rows_of_an_earlier_default_are_pinned(tmp_path):
    from bsd.report import commands

    def ae_run(rule, latent, lr, reco, **extra):
        d = tmp_path / "mnist_ae" / rule / f"z{latent}"
        d.mkdir(parents=True)
        cfg = {"experiment_name": "mnist_ae", "seed": 0,
               "model": {"arch": "ae", "rule": rule, "channels": [16, 32], "latent": latent, "T": 8,
                         "optimizer": {"lr": lr}, "reco": reco, **extra}}
        (d / "config_resolved.yaml").write_text(yaml.safe_dump(cfg))
        m = {"experiment": "mnist_ae", "rule": rule, "seed": 0, "epochs": 3, "device": "cpu",
             "test": {"test/mse": 0.03, "test/fid_samples": 500.0},
             "command": f"python src/train.py +experiment=mnist_ae model.rule={rule} model.optimizer.lr={lr}"}
        (d / "metrics.json").write_text(json.dumps(m))

    ae_run("bsd", 32, 0.01, {"frequency": {"lam_high": 0.1}})  # from before model.reco.margin existed
    ae_run("bsd", 128, 0.003, {"margin": "code", "frequency": {"lam_high": 0.5}})
    ae_run("bp_ann", 128, 0.003, {})
    ae_run("bsd", 64, 0.003, {"margin": "code", "frequency": {"lam_high": 1.0}}, decoder_match=10.0,
           latent_prior="gmm", latent_components=4, latent_space="current")
    runs = find_runs([tmp_path])
    assert {m["_arch"] for m in runs} == {"ae c16-32 z32 T8", "ae c16-32 z128 T8", "ae c16-32 z128 T1",
                                          "ae c16-32 z64 T8 match10"}
    lines = commands(runs).splitlines()
    old = next(x for x in lines if x.startswith("- mnist_ae / bsd (ae c16-32 z32 T8)"))
    assert old.endswith("model.optimizer.lr=0.01 'model.channels=[16,32]' model.latent=32 model.latent_space=rate "
                        "model.latent_prior=gaussian model.reco.margin=zero model.reco.frequency.lam_high=0.1`")
    new = next(x for x in lines if x.startswith("- mnist_ae / bsd (ae c16-32 z128 T8)"))
    assert ("model.latent=128 model.latent_space=rate model.latent_prior=gaussian model.reco.margin=code "
            "model.reco.frequency.lam_high=0.5`") in new
    assert "(gaussian on rate, FID network -)" in new  # the row names its prior (and no recorded network)
    assert new.count("model.optimizer.lr=") == 1
    ann = next(x for x in lines if x.startswith("- mnist_ae / bp_ann"))
    assert "model.latent=128" in ann and "model.reco.margin" not in ann
    mix = next(x for x in lines if x.startswith("- mnist_ae / bsd (ae c16-32 z64 T8 match10)"))
    assert "model.latent_prior=gmm model.latent_components=4" in mix and "(gmm:4 on current, " in mix


def test_cnn_bsd_commands_pin_what_reco_compares(tmp_path):
    """Rows from before the CNN default moved to centred firing rates keep a command that reproduces them."""
    from bsd.report import commands

    def cnn_run(rule, reco, variant=None, extra="", **model):
        d = tmp_path / "mnist_cnn" / rule / f"seed0{variant or ''}"
        d.mkdir(parents=True)
        cfg = {"experiment_name": "mnist_cnn", "seed": 0, "variant": variant,
               "model": {"arch": "cnn", "rule": rule, "channels": [64, 128, 64], "fc": [256], "reco": reco, **model}}
        (d / "config_resolved.yaml").write_text(yaml.safe_dump(cfg))
        m = {"experiment": "mnist_cnn", "rule": rule, "seed": 0, "epochs": 3, "device": "cpu", "variant": variant,
             "test": {"test/acc": 0.97},
             "command": f"python src/train.py +experiment=mnist_cnn model.rule={rule}{extra}"}
        (d / "metrics.json").write_text(json.dumps(m))

    cnn_run("bsd", {True: "voltage"})  # an unquoted `on:` key, as YAML 1.1 wrote it before 2026-12-01
    cnn_run("bp_snn", {True: "voltage"})
    lines = commands(find_runs([tmp_path])).splitlines()
    bsd = next(x for x in lines if x.startswith("- mnist_cnn / bsd"))
    assert bsd.endswith("model.reco.on=voltage model.reco.center=none model.reco.pool=null`")
    # the reset of every spiking rule is pinned (soft for mnist_cnn since 2026-12-04; hard when the key is missing)
    assert next(x for x in lines if x.startswith("- mnist_cnn / bp_snn")).endswith(
        "model.rule=bp_snn model.neuron.reset=hard`")
    assert "model.neuron.reset=hard model.reco.on=voltage" in bsd
    cnn_run("bp_ann", {})
    ann = next(x for x in commands(find_runs([tmp_path])).splitlines() if x.startswith("- mnist_cnn / bp_ann"))
    assert ann.endswith("model.rule=bp_ann`")
    cnn_run("bsd", {"on": "spikes", "center": "batch", "pool": 4}, variant="new")
    from bsd.report import variant_table
    row = next(x for x in variant_table(find_runs([tmp_path])).splitlines() if "| new |" in x)
    assert "model.reco.on=spikes model.reco.center=batch model.reco.pool=4`" in row
    # a variant whose setting became the default (DEFAULT_VARIANTS) also stands in the main table, with its label;
    # other variants do not
    from bsd.report import classification_table
    cnn_run("bsd", {"on": "spikes", "center": "batch", "pool": 4}, variant="soft", neuron={"reset": "soft"},
            extra=" variant=soft resume=out/checkpoints/last.ckpt")  # resumed: its command trains from scratch
    runs = find_runs([tmp_path])
    main = classification_table(runs)
    assert "| mnist_cnn | cnn c64-128-64 fc256 | bsd | centred rates, 4x4, soft reset | 97.00 |" in main
    assert "| new |" not in main and "centred rates, 4x4 |" not in main
    soft = next(x for x in commands(runs).splitlines() if "soft reset" in x)
    assert "model.rule=bsd variant=soft model.neuron.reset=soft" in soft and "resume=" not in soft


def test_bsd_rows_of_another_reco_setting_keep_their_own_row_and_gap(tmp_path):
    from bsd.report import classification_table

    for seed, acc in ((0, 0.95), (1, 0.96)):
        _run(tmp_path, "mnist_mlp", "bsd", seed, acc)  # the paper's voltages (no reco key at all)
    _run(tmp_path, "mnist_mlp", "bp_snn", 0, 0.98)
    d = tmp_path / "new" / "mnist_mlp" / "bsd" / "seed0"
    d.mkdir(parents=True)
    cfg = {"experiment_name": "mnist_mlp", "seed": 0,
           "model": {"arch": "mlp", "rule": "bsd", "widths": [64, 64], "reco": {"on": "spikes", "center": "batch"}}}
    (d / "config_resolved.yaml").write_text(yaml.safe_dump(cfg))
    (d / "metrics.json").write_text(json.dumps({"experiment": "mnist_mlp", "rule": "bsd", "seed": 0, "epochs": 2,
                                                "test": {"test/acc": 0.975}, "device": "cpu", "command": "x"}))
    rows = [r for r in classification_table(find_runs([tmp_path])).splitlines() if "| bsd |" in r]
    assert len(rows) == 2
    old = next(r for r in rows if "| voltages |" in r)
    new = next(r for r in rows if "| centred rates |" in r)
    assert "95.50 ± 0.71" in old and "-2.50" in old
    assert "97.50" in new and "| 1 |" in new and "-0.50" in new
    from bsd.report import commands

    cmds = commands(find_runs([tmp_path])).splitlines()
    old_cmd = next(x for x in cmds if x.startswith("- mnist_mlp / bsd") and "voltages" in x)
    assert old_cmd.endswith("model.reco.on=voltage model.reco.center=none`")  # no pool key for the MLP
    new_cmd = next(x for x in cmds if x.startswith("- mnist_mlp / bsd") and "centred rates" in x)
    assert new_cmd.endswith("x model.reco.on=spikes model.reco.center=batch`")


def test_prior_screens_show_each_priors_ratio_and_grid_links(tmp_path):
    from bsd.report import find_prior_screens, prior_table

    screen = tmp_path / "results" / "day" / "screen"
    (screen / "grids").mkdir(parents=True)
    (screen / "grids" / "mnist_bsd_gmm10_seed3.png").write_bytes(b"png")  # a screen of seed 3 names its grids
    (screen / "grids" / "mnist_bp_ann_encoded_regular.png").write_bytes(b"png")
    run = tmp_path / "run"  # the run a row scored names its FID network
    run.mkdir()
    (run / "metrics.json").write_text(json.dumps({"seed": 3, "generation": {"feature_net_sha256": "abc123def456"}}))
    rows = [{"data": "mnist", "rule": r, "prior": p, "fid_samples": f, "run": str(run)}
            for r, p, f in [("bsd", "gaussian", 450.0), ("bp_ann", "gaussian", 300.0), ("bsd", "gmm:10", 320.0),
                            ("bp_ann", "gmm:10", 128.0)]]  # screens before --sampling: bernoulli
    rows += [{"data": "mnist", "rule": r, "prior": "encoded", "sampling": "regular", "fid_samples": f}
             for r, f in [("bsd", 200.0), ("bp_ann", 20.0)]]
    (screen / "priors.json").write_text(json.dumps({"command": "python scripts/prior_screen.py X", "rows": rows}))
    screens = find_prior_screens([tmp_path / "results"])
    assert len(screens) == 1 and len(screens[0]["rows"]) == 6
    table = prior_table(screens, tmp_path / "docs")
    assert "| MNIST | gaussian | bernoulli | 450.0 | 300.0 | 1.50 | 3 | abc123def456 | - | - |" in table
    link = "[png](../results/day/screen/grids/mnist_bsd_gmm10_seed3.png)"
    assert f"| MNIST | gmm:10 | bernoulli | 320.0 | 128.0 | 2.50 | 3 | abc123def456 | {link} | - |" in table
    link = "[png](../results/day/screen/grids/mnist_bp_ann_encoded_regular.png)"
    assert f"| MNIST | encoded | regular | 200.0 | 20.0 | 10.00 | - | - | - | {link} |" in table
    assert "Command: `python scripts/prior_screen.py X`" in table


def test_a_rerun_of_a_seed_replaces_the_earlier_run_in_the_table_and_its_command(tmp_path):
    from bsd.report import commands

    _run(tmp_path / "a-day", "mnist_mlp", "bp_snn", 0, 0.90)
    _run(tmp_path / "b-later", "mnist_mlp", "bp_snn", 0, 0.95)
    newer = tmp_path / "b-later" / "mnist_mlp" / "bp_snn" / "seed0" / "metrics.json"
    m = json.loads(newer.read_text())
    m["command"] = "python x seed=0 trainer.max_epochs=10"
    newer.write_text(json.dumps(m))
    runs = find_runs([tmp_path])
    page = render(runs, [str(tmp_path)])
    assert "| 95.00 | 1 |" in page and "90.00" not in page
    assert "(seeds [0]): `python x seed=0 trainer.max_epochs=10`" in commands(runs)


def test_weight_averaged_runs_get_their_own_row_and_a_paired_table(tmp_path):
    """A run with ema.decay is labelled by its averaging and its test is paired with its own raw weights."""
    from bsd.report import classification_table, weight_average_table

    _run(tmp_path, "mnist_cnn", "bsd", 0, 0.9898)
    for seed, (avg, raw) in enumerate(((0.9905, 0.9898), (0.9901, 0.9902))):
        d = tmp_path / "ema" / "mnist_cnn" / "bsd" / f"seed{seed}"
        d.mkdir(parents=True)
        cfg = {"experiment_name": "mnist_cnn", "seed": seed, "ema": {"decay": 0.999, "start_epoch": 5},
               "model": {"arch": "mlp", "rule": "bsd", "widths": [64, 64]}}
        (d / "config_resolved.yaml").write_text(yaml.safe_dump(cfg))
        (d / "metrics.json").write_text(json.dumps({
            "experiment": "mnist_cnn", "rule": "bsd", "seed": seed, "epochs": 10, "device": "cpu", "command": "c",
            "test": {"test/acc": avg, "test_raw/acc": raw}}))
    runs = find_runs([tmp_path])
    rows = [r for r in classification_table(runs).splitlines() if "| bsd |" in r]
    assert len(rows) == 2  # the averaged runs do not merge into the plain row
    ema_row = next(r for r in rows if "EMA 0.999 from epoch 5" in r)
    assert "99.03 ± 0.03" in ema_row and "| 2 |" in ema_row
    table = weight_average_table(runs).splitlines()
    assert any("| 0 | 10 | 99.05 | 98.98 | +0.07 |" in r for r in table)
    assert any("| 1 | 10 | 99.01 | 99.02 | -0.01 |" in r for r in table)
    mean = next(r for r in table if "mean of 2" in r)
    assert "99.03 ± 0.03" in mean and "99.00 ± 0.03" in mean and "+0.03" in mean
    assert weight_average_table([r for r in runs if "test_raw/acc" not in r["test"]]) == ""


def test_soft_reset_classifier_runs_get_their_own_row():
    """A bsd classifier whose LIF resets by subtraction is not merged with the hard-reset runs."""
    from bsd.report import reco_label

    cfg = {"model": {"arch": "cnn", "rule": "bsd", "reco": {"on": "spikes", "center": "batch", "pool": 4},
                     "neuron": {"reset": "hard"}}}
    assert reco_label(cfg) == "centred rates, 4x4"
    cfg["model"]["neuron"]["reset"] = "soft"
    assert reco_label(cfg) == "centred rates, 4x4, soft reset"
    cfg["model"]["rule"] = "bp_snn"
    assert reco_label(cfg) == ""


def test_credit_through_time_labels_the_bsd_row_not_the_shape():
    """bsd with model.reco.through_time gets its own row but the same network shape, so its gap to bp_snn is shown."""
    from bsd.report import arch_label, reco_label

    cfg = {"model": {"arch": "rnn", "rule": "bsd", "widths": [1024], "T": 1,
                     "reco": {"on": "spikes", "center": "batch", "through_time": 1}}, "data": {"batch_size": 64}}
    assert reco_label(cfg) == "centred rates, 1 position back"
    assert arch_label(cfg) == "rnn 1024 T1 b64"
    cfg["model"]["reco"].update(through_time=4, time_feedback="random")
    assert reco_label(cfg) == "centred rates, 4 positions back (random feedback)"
    cfg["model"]["reco"] = {"on": "voltage", "center": "none", "through_time": 2}
    assert reco_label(cfg) == "voltages, 2 positions back"
    cfg["model"]["reco"]["through_time"] = 0
    assert reco_label(cfg) == ""  # the rnn's voltage rows from before the key existed
    cfg["model"]["rule"], cfg["model"]["reco"]["through_time"] = "bp_snn", 3
    assert reco_label(cfg) == ""


def test_credit_along_the_forward_stream_is_labelled_by_where_it_is_cut():
    from bsd.report import reco_label, setting_overrides

    cfg = {"model": {"arch": "rnn", "rule": "bsd", "T": 1, "reco": {"on": "spikes", "center": "batch",
                                                                    "through_time": 99, "time_path": "forward"}},
           "data": {"seq_len": 50}}
    assert reco_label(cfg) == "centred rates, forward stream through the sequence"
    assert setting_overrides(cfg)["model.reco.time_path"] == "model.reco.time_path=forward"
    cfg["model"]["reco"]["through_time"] = 0
    assert reco_label(cfg) == "centred rates, forward stream, cut every 1 position"
    cfg["model"]["reco"].update(through_time=4, time_feedback="random")
    assert reco_label(cfg) == "centred rates, forward stream, cut every 5 positions (random feedback)"
    del cfg["model"]["reco"]["time_path"]  # runs from before the key: the rest path
    assert setting_overrides(cfg)["model.reco.time_path"] == "model.reco.time_path=rest"
    assert setting_overrides(cfg)["model.reco.lam"] == "model.reco.lam=0.05"  # text's λ before 2026-12-05
    cfg["model"]["reco"].update(time_path="forward", through_time=50, lam=0.2, time_feedback="transport")
    assert reco_label(cfg) == "centred rates, λ 0.2, forward stream through the sequence"
    assert setting_overrides(cfg)["model.reco.lam"] == "model.reco.lam=0.2"
