"""Image generation end to end: training writes grids and FID numbers; the generation command; bad input."""

import json
from pathlib import Path

import pytest
import torch

from bsd.generate import main as generate
from bsd.train import run
from tests.conftest import compose

SMALL = ["+experiment=mnist_ae", "model.channels=[4,8]", "model.latent=8", "model.T=2", "data.train_subset=512",
         "data.val_size=256", "generation.n_fit=256", "generation.fid.n_samples=500", "trainer.limit_test_batches=1",
         "logger=none", "trainer.enable_progress_bar=false"]


@pytest.fixture(scope="module")
def ae_run(tmp_path_factory, mnist_feature_net):
    out = tmp_path_factory.mktemp("ae") / "run"
    cfg = compose([*SMALL, "trainer.max_epochs=2", f"generation.fid.features={mnist_feature_net[0]}"])
    return out, run(cfg, out)


def test_training_writes_grids_fid_and_the_latent_prior(ae_run):
    out, m = ae_run
    saved = json.loads((out / "metrics.json").read_text())
    t = saved["test"]
    assert t["test/mse"] > 0 and t["test/fid_recon"] > 0 and t["test/fid_samples"] > 0
    assert t["test/fid_n_samples"] == 500
    assert saved["monitor"] == ["val/mse", "min"] and saved["generation"]["feature_net_test_acc"] > 0.85
    assert saved["best_val"]["metric"] == "val/mse" and 0 < saved["best_val"]["value"] < 1
    assert {"grids/epoch_000.png", "grids/epoch_001.png", "grids/final.png"} <= set(saved["generation"]["grids"])
    ckpt = torch.load(out / "checkpoints" / "best.ckpt", weights_only=False)
    model = ckpt["hyper_parameters"]["model"]
    k = model["latent_components"] if model["latent_prior"] == "gmm" else 1
    assert bool(ckpt["state_dict"]["latent_fitted"]) and ckpt["state_dict"]["prior_chols"].shape == (k, 8, 8)
    assert not any(k.startswith("_fid") or "feature" in k for k in ckpt["state_dict"])  # FID nets stay out


def test_the_run_records_its_feature_networks_fingerprint(ae_run, mnist_feature_net):
    from bsd.fid import load_feature_net

    out, _ = ae_run
    saved = json.loads((out / "metrics.json").read_text())["generation"]
    assert saved["feature_net_sha256"] == load_feature_net(mnist_feature_net[0], "mnist")[1]["sha256"]


def test_the_prior_screen_scores_priors_on_rates_and_on_currents(ae_run, tmp_path):
    from bsd.probes import prior_screen as screen

    out, _ = ae_run
    rows = screen.screen(out, ["gaussian", "encoded"], 300, tmp_path / "grids", spaces=("rate", "current"))
    assert [(r["prior"], r["sampling"]) for r in rows] == [("gaussian", "bernoulli"), ("encoded", "bernoulli"),
                                                          ("gaussian", "lif"), ("encoded", "lif")]
    assert all(r["fid_samples"] > 0 and r["n"] == 300 for r in rows)
    assert (tmp_path / "grids" / "mnist_bsd_gaussian_lif.png").is_file()
    # a run that recorded another FID network than the file now at its path is refused
    import shutil

    other = tmp_path / "other"
    shutil.copytree(out, other)
    saved = json.loads((other / "metrics.json").read_text())
    saved["generation"]["feature_net_sha256"] = "000000000000"
    (other / "metrics.json").write_text(json.dumps(saved))
    with pytest.raises(SystemExit, match="not the one the run recorded"):
        screen.screen(other, ["gaussian"], 300, tmp_path / "grids")


def test_generation_command_writes_n_images(ae_run, tmp_path, capsys):
    out, _ = ae_run
    generate([str(out / "checkpoints" / "best.ckpt"), "--n", "5", "--out", str(tmp_path / "gen"), "--data", "mnist"])
    files = sorted(p.name for p in (tmp_path / "gen").glob("*.png"))
    assert files == ["grid.png", *[f"sample_{i:04d}.png" for i in range(5)]]
    assert "wrote 5 images" in capsys.readouterr().out
    # the default prior samples latent currents: no spike-train sampling to choose
    with pytest.raises(SystemExit):
        generate([str(out / "checkpoints" / "best.ckpt"), "--n", "2", "--out", str(tmp_path / "g2"), "--sampling",
                  "regular"])
    assert "leave --sampling out" in capsys.readouterr().err and not (tmp_path / "g2").exists()


def test_generation_command_refuses_the_wrong_checkpoint(ae_run, tmp_path, capsys):
    out, _ = ae_run
    ckpt = out / "checkpoints" / "best.ckpt"
    with pytest.raises(SystemExit):
        generate([str(ckpt), "--n", "2", "--out", str(tmp_path / "g"), "--data", "fashion_mnist"])
    assert "trained on 'mnist', not 'fashion_mnist'" in capsys.readouterr().err
    # same file, hyper-parameters saying another shape
    bad = torch.load(ckpt, weights_only=False)
    bad["hyper_parameters"]["model"]["latent"] = 12
    torch.save(bad, tmp_path / "edited.ckpt")
    with pytest.raises(SystemExit):
        generate([str(tmp_path / "edited.ckpt"), "--n", "2", "--out", str(tmp_path / "g")])
    assert "do not fit the autoencoder" in capsys.readouterr().err
    # a classifier checkpoint
    cls = compose(["+experiment=mnist_mlp", "model.widths=[16]", "data.train_subset=256", "trainer.max_epochs=1",
                   "logger=none", "trainer.enable_progress_bar=false", "trainer.limit_val_batches=1",
                   "trainer.limit_test_batches=1"])
    run(cls, tmp_path / "cls")
    with pytest.raises(SystemExit):
        generate([str(tmp_path / "cls" / "checkpoints" / "best.ckpt"), "--n", "2", "--out", str(tmp_path / "g")])
    assert "neither a text model nor an image generation model" in capsys.readouterr().err
    from bsd.generate import load_image_model

    with pytest.raises(ValueError, match="not an image generation model"):
        load_image_model(tmp_path / "cls" / "checkpoints" / "best.ckpt")
    assert not (tmp_path / "g").exists()


def test_a_missing_feature_network_stops_before_training(tmp_path):
    cfg = compose([*SMALL, f"generation.fid.features={tmp_path / 'nope.pt'}"])
    with pytest.raises(FileNotFoundError, match="python -m bsd.fid --data mnist"):
        run(cfg, tmp_path / "run")
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_the_autoencoder_refuses_sequence_data(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text("abc " * 500)
    cfg = compose(["+experiment=mnist_ae", "data=text_file", f"data.path={p}", "logger=none"])
    with pytest.raises(ValueError, match="model=ae does not train on text data"):
        run(cfg, tmp_path / "run")


def test_the_autoencoder_learns_more_than_the_mean_image(tmp_path):
    """bp_ann (default widths) on 4000 real digits for five epochs beats predicting the mean training image."""
    keep = [o for o in SMALL if not o.startswith(("data.train_subset", "model.channels", "model.latent"))]
    cfg = compose([*keep, "data.train_subset=4000", "model.rule=bp_ann", "trainer.max_epochs=5",
                   "generation.fid.enabled=false", "model.optimizer.lr=3e-3"])
    m = run(cfg, Path(tmp_path) / "run")
    from bsd.data import ImageDataModule

    dm = ImageDataModule("mnist", train_subset=4000, val_size=256)
    dm.setup()
    x = dm.splits["train"][torch.arange(4000)][0]
    xt = dm.splits["test"][torch.arange(1000)][0]
    mean_mse = ((xt - x.mean(0)) ** 2).mean().item()
    assert m["test"]["test/mse"] < 0.7 * mean_mse, (m["test"], mean_mse)
