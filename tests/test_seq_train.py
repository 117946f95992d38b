"""End to end through the entry point: generic text and CSV data, floors, samples, rule choice."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from bsd.config import to_objects
from bsd.tasks import ForecastModule, TextModule, build_module
from bsd.train import run
from tests.conftest import compose

FAST = ["trainer.max_epochs=1", "logger=none", "trainer.enable_progress_bar=false", "model.widths=[32]"]


def daily_load_csv(tmp_path: Path, seed: int) -> Path:
    """600 half-hourly rows of a daily sine with noise, column `mw`, time stamps in `ts`."""
    n = 600
    t = pd.date_range("2021-01-01", periods=n, freq="30min")
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"ts": t, "mw": 100 + 20 * np.sin(np.arange(n) * 2 * np.pi / 48) + rng.normal(0, 1, n)})
    p = tmp_path / "load.csv"
    df.to_csv(p, index=False)
    return p


@pytest.fixture
def text_file(tmp_path: Path) -> Path:
    p = tmp_path / "corpus.txt"
    p.write_text("to be or not to be, that is the question.\n" * 120, encoding="utf-8")
    return p


@pytest.mark.parametrize("rule", ["bsd", "bp_snn", "bp_ann"])
def test_text_file_trains_writes_floors_and_a_sample(text_file, tmp_path, rule):
    cfg = compose(["+experiment=text_char", "data=text_file", f"data.path={text_file}", "data.seq_len=20",
                   f"model.rule={rule}", "sample.length=40", *FAST])
    m = run(cfg, tmp_path / "run")
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert 0 <= saved["test"]["test/acc"] <= 1 and saved["test"]["test/bpc"] > 0
    assert set(saved["floors"]) == {"2-gram", "3-gram", "4-gram"}
    assert saved["floors"]["4-gram"]["test/acc"] > 0.9  # the text repeats: a 4-gram model nearly solves it
    assert len(m["sample"]["text"]) == 40 and (tmp_path / "run" / "sample.txt").is_file()
    assert saved["monitor"] == ["val/acc", "max"]


def test_bsd_learns_a_repetitive_text_beyond_the_unigram(text_file, tmp_path):
    cfg = compose(["+experiment=text_char", "data=text_file", f"data.path={text_file}", "data.seq_len=20",
                   "trainer.max_epochs=10", "model.optimizer.lr=0.01", "logger=none",
                   "trainer.enable_progress_bar=false",
                   "model.widths=[64]", "sample.length=0", "data.batch_size=32"])
    m = run(cfg, tmp_path / "run")
    text = text_file.read_text()
    unigram = max(text.count(c) for c in set(text)) / len(text)
    assert m["test"]["test/acc"] > unigram + 0.2, m["test"]


def test_generation_from_a_checkpoint_continues_the_prompt(text_file, tmp_path, capsys):
    from bsd.generate import main as generate

    cfg = compose(["+experiment=text_char", "data=text_file", f"data.path={text_file}", "data.seq_len=20",
                   "sample.length=0", *FAST])
    run(cfg, tmp_path / "run")
    ckpt = tmp_path / "run" / "checkpoints" / "last.ckpt"
    module = TextModule.load_from_checkpoint(ckpt)
    out = module.generate("to be", 25, temperature=0.0)
    assert len(out) == 25 and set(out) <= set(module.vocab) - {module.vocab[0]}  # never <unk>
    assert out == module.generate("to be", 25, temperature=0.0)  # greedy decoding is deterministic
    capsys.readouterr()
    generate([str(ckpt), "--prompt", "to be", "--length", "25", "--temperature", "0", "--out",
              str(tmp_path / "g.txt")])
    assert capsys.readouterr().out.strip() == ("to be" + out).strip()
    assert (tmp_path / "g.txt").read_text() == "to be" + out


def test_generation_refuses_a_missing_or_non_text_checkpoint(tmp_path, capsys):
    from bsd.generate import main as generate

    with pytest.raises(SystemExit) as e:
        generate([str(tmp_path / "none.ckpt")])
    assert e.value.code == 2 and "does not exist" in capsys.readouterr().err
    torch.save({"state_dict": {}, "hyper_parameters": {"model": {"arch": "mlp"}, "num_classes": 10}},
               tmp_path / "mlp.ckpt")
    with pytest.raises(SystemExit):
        generate([str(tmp_path / "mlp.ckpt")])
    assert "neither a text model nor an image generation model (it is 'mlp')" in capsys.readouterr().err
    torch.save({"hyper_parameters": {}}, tmp_path / "bare.ckpt")
    with pytest.raises(SystemExit):
        generate([str(tmp_path / "bare.ckpt")])
    assert "not a Lightning checkpoint" in capsys.readouterr().err
    (tmp_path / "junk.ckpt").write_bytes(b"not a checkpoint")
    with pytest.raises(SystemExit):
        generate([str(tmp_path / "junk.ckpt")])
    assert "not a readable checkpoint" in capsys.readouterr().err


def test_context_characters_train_and_generate(text_file, tmp_path):
    cfg = compose(["+experiment=text_char", "data=text_file", f"data.path={text_file}", "data.seq_len=20",
                   "data.context=3", "sample.length=30", *FAST])
    m = run(cfg, tmp_path / "run")
    assert len(m["sample"]["text"]) == 30
    module = TextModule.load_from_checkpoint(tmp_path / "run" / "checkpoints" / "last.ckpt")
    V = len(module.vocab)
    assert module.context == 3 and module.stack.hidden[0].basal.in_features == 3 * V
    x = module._context_ids([5, 6, 7, 8])
    assert x.tolist() == [[[5, 0, 0], [6, 5, 0], [7, 6, 5], [8, 7, 6]]]
    oh = module.inputs(x)
    assert oh.shape == (1, 4, 3 * V) and oh[0, 3, 8] == 1 and oh[0, 3, V + 7] == 1 and oh[0, 3, 2 * V + 6] == 1
    assert oh[0, 0, V:].sum() == 2 and oh[0, 0, V] == oh[0, 0, 2 * V] == 1  # <unk> (0) before the start
    out = module.generate("to be", 20, temperature=0.0)
    assert out == module.generate("to be", 20, temperature=0.0) and len(out) == 20


def test_csv_timeseries_trains_and_reports_units(tmp_path):
    n = 600
    t = pd.date_range("2021-01-01", periods=n, freq="30min")
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"ts": t, "mw": 100 + 20 * np.sin(np.arange(n) * 2 * np.pi / 48) + rng.normal(0, 1, n),
                       "temp": rng.normal(15, 2, n)})
    p = tmp_path / "load.csv"
    df.to_csv(p, index=False)
    cfg = compose(["+experiment=timeseries_elec", "data=csv_timeseries", f"data.path={p}", "data.time_column=ts",
                   "data.target=mw", "data.features=[temp]", "data.window=24", *FAST])
    m = run(cfg, tmp_path / "run")
    assert set(m["test"]) == {"test/mse", "test/mae", "test/rmse"}
    assert m["test"]["test/rmse"] >= m["test"]["test/mae"] > 0
    # the experiment's residual target adds the linear map it leaves out to the floors (one per half-hour and day
    # of the week, tied)
    assert set(m["floors"]) == {"last value", "seasonal naive", "linear AR (least squares)",
                                "linear map of the input step, 48 parts of the day, 7 day groups, smooth 0.003"}
    assert m["monitor"] == ["val/mse", "min"]


def test_rnn_with_image_data_and_mlp_with_text_are_refused(text_file, tmp_path):
    with pytest.raises(ValueError, match="model=rnn does not train on image data; for image data use model=ae"):
        build_module(to_objects(compose(["+experiment=mnist_mlp", "model=rnn"])), type("D", (), {"kind": "image"})())
    cfg = compose(["+experiment=mnist_mlp", "data=text_file", f"data.path={text_file}"])
    with pytest.raises(ValueError, match="model=mlp does not train on text data; for text data use model=rnn"):
        run(cfg, tmp_path / "x")


def test_stateful_evaluation_carries_the_state_between_batches(text_file, tmp_path):
    cfg = compose(["+experiment=text_char", "data=text_file", f"data.path={text_file}", "data.seq_len=20",
                   "data.eval_streams=2", "sample.length=0", "model.recurrent_gain=1.0", "data.batch_size=16",
                   *FAST])
    run(cfg, tmp_path / "run")
    module = TextModule.load_from_checkpoint(tmp_path / "run" / "checkpoints" / "last.ckpt").eval()
    assert module.stateful_eval
    from bsd.data.text import TextDataModule

    dm = TextDataModule("text_file", str(text_file), seq_len=20, eval_streams=2, context=cfg.data.context)
    (x1, _), (x2, _) = list(dm.test_dataloader())[:2]
    module._states = None
    module.eval_output(x1)
    carried = module.eval_output(x2)
    module._states = None
    fresh = module.eval_output(x2)
    assert not torch.equal(carried, fresh)  # the second chunk depends on the first one's final state


def test_change_forecasts_are_scored_on_the_level(tmp_path):
    """A forecaster that outputs no change scores exactly the last-value floor (metrics on the level)."""
    p = daily_load_csv(tmp_path, seed=1)
    cfg = compose(["+experiment=timeseries_elec", "data=csv_timeseries", f"data.path={p}", "data.time_column=ts",
                   "data.target=mw", "data.window=24", "data.predict=change", *FAST])
    from hydra.utils import instantiate

    dm = instantiate(cfg.data)
    module = build_module(to_objects(cfg), dm)
    assert module.level_scale == pytest.approx(dm.change_scale) and module.level_scale < 0.5
    with torch.no_grad():
        module.stack.readout.basal.weight.zero_()
        module.stack.readout.basal.bias.zero_()
    module.eval()
    for x, y in dm.test_dataloader():
        module.update(module.test_metrics, "test/", x, y)
    got = {k: float(v) for k, v in module.test_metrics.compute().items()}
    floor = dm.floors()["last value"]
    for k in ("test/mse", "test/mae", "test/rmse"):
        assert got[k] == pytest.approx(floor[k], rel=1e-4)


def cfg_overrides(p: Path) -> list[str]:
    """A CSV forecast of the column `mw` from its own history, one day of 24 steps."""
    return ["+experiment=timeseries_elec", "data=csv_timeseries", f"data.path={p}", "data.time_column=ts",
            "data.target=mw", "data.features=[]", "data.window=24"]


def test_adaptive_hidden_units_train_along_the_forward_path(tmp_path):
    p = daily_load_csv(tmp_path, seed=2)
    cfg = compose([*cfg_overrides(p), "model.neuron.adapt=0.5", "model.neuron.adapt_tau=16", *FAST])
    m = run(cfg, tmp_path / "run")
    assert 0 < m["test"]["test/mse"] < m["floors"]["last value"]["test/mse"]
    module = ForecastModule.load_from_checkpoint(tmp_path / "run" / "checkpoints" / "last.ckpt")
    layer = module.stack.hidden[0]
    assert layer.adapt == 0.5 and abs(layer.adapt_decay - np.exp(-1 / 16)) < 1e-12
    with pytest.raises(ValueError, match="model.neuron.adapt must be >= 0"):
        run(compose([*cfg_overrides(p), "model.neuron.adapt=-1", *FAST]), tmp_path / "bad")


def test_credit_between_the_steps_of_a_position_is_reported_without_c1(text_file, tmp_path):
    """time_path=forward with through_time=0 and T > 1 still steps back through W_h inside a position."""
    base = ["+experiment=text_char", "data=text_file", f"data.path={text_file}", "data.seq_len=20",
            "sample.length=0", "model.reco.time_path=forward", "model.reco.through_time=0", "model.T=2",
            "trainer.fast_dev_run=true", "logger=none", "model.widths=[32]"]
    m = run(compose([*base, "model.reco.time_feedback=transport"]), tmp_path / "transport")
    assert m["criteria"] == ["C2", "C3", "C4", "C5"]
    for feedback in ("random", "trace"):
        m = run(compose([*base, f"model.reco.time_feedback={feedback}"]), tmp_path / feedback)
        assert m["criteria"] == ["C1", "C2", "C3", "C4", "C5"]


def test_the_specs_direct_code_drives_the_forecasters_backward_net_with_the_value(tmp_path):
    """model.code.kind=direct: the target value itself is the top current of the backward net (the spec's)."""
    from bsd.coding import DirectCode

    p = daily_load_csv(tmp_path, seed=3)
    cfg = compose([*cfg_overrides(p), "model.code.kind=direct", *FAST])
    m = run(cfg, tmp_path / "run")
    assert 0 < m["test"]["test/mse"] < m["floors"]["last value"]["test/mse"]
    module = ForecastModule.load_from_checkpoint(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)
    assert isinstance(module.code, DirectCode) and module.stack.hidden[-1].apical.in_features == 1
    y = torch.tensor([0.5, -1.0])
    assert torch.equal(module.code.vectors(y), y[:, None]) and module.code.group(y).tolist() == [0, 1]
