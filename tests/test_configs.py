"""Every experiment composes, and every one survives a fast_dev_run through the real entry point."""

from pathlib import Path

import pytest

from bsd.train import run
from tests.conftest import CONF, compose

EXPERIMENTS = sorted(p.stem for p in (CONF / "experiment").glob("*.yaml"))
IMAGE = [e for e in EXPERIMENTS if e.split("_")[0] in ("mnist", "fmnist") and not e.endswith("_ae")]
SEQUENCE = ["text_char", "timeseries_elec"]
GENERATION = ["mnist_ae", "fmnist_ae"]


def test_the_four_classification_experiments_exist():
    assert {"mnist_mlp", "mnist_cnn", "fmnist_mlp", "fmnist_cnn"} <= set(EXPERIMENTS)


@pytest.mark.parametrize("name", IMAGE)
def test_experiment_composes_with_paper_settings(name):
    cfg = compose([f"+experiment={name}"])
    assert cfg.experiment_name == name
    m = cfg.model
    assert (m.T, m.neuron.threshold, m.reco.lam, cfg.data.batch_size) == (4, 0.6, 0.6, 128)
    assert cfg.trainer.gradient_clip_val > 0
    assert cfg.data.name == ("fashion_mnist" if name.startswith("fmnist") else "mnist")
    assert m.arch == name.split("_")[1]


@pytest.mark.parametrize("name", SEQUENCE)
def test_sequence_experiments_use_the_spiking_rnn(name):
    cfg = compose([f"+experiment={name}"])
    m = cfg.model
    # both train bsd with layer-local credit along each layer's own forward simulation through the whole sequence
    T, batch = {"text_char": (1, 64), "timeseries_elec": (4, 32)}[name]
    span = cfg.data.seq_len if name == "text_char" else cfg.data.window
    assert (m.arch, m.T, m.neuron.threshold, cfg.data.batch_size) == ("rnn", T, 0.6, batch)
    assert m.reco.time_path == "forward" and m.reco.through_time == span  # no cut inside a sequence
    assert m.reco.lam == {"text_char": 0.4, "timeseries_elec": 0.2}[name]
    assert m.reco.time_feedback == {"text_char": "trace", "timeseries_elec": "transport"}[name]
    assert cfg.data.get("context", 1) == {"text_char": 4, "timeseries_elec": 1}[name]
    assert cfg.data.name == {"text_char": "shakespeare", "timeseries_elec": "vic_elec"}[name]
    assert (m.code.kind == "population") == (name == "timeseries_elec")
    if name == "timeseries_elec":  # the day's demand at every step, a linear map's residual as target
        assert (cfg.data.lags, cfg.data.predict, m.reco.lam, m.code.shape) == (48, "residual", 0.2, "ramp")
        # the residual of one map per half-hour and day of the week, neighbours tied
        d = cfg.data
        assert (d.residual_parts, d.residual_days, d.residual_ridge, d.residual_smooth) == (48, 7, 0.0, 3e-3)
    csv = compose(["+experiment=timeseries_elec", "data=csv_timeseries", "data.window=24"]).data
    assert (csv.predict, csv.lags) == ("residual", 24)  # lags follow the window of a user's series


@pytest.mark.parametrize("name", GENERATION)
def test_generation_experiments_use_the_spiking_autoencoder_at_T8(name):
    cfg = compose([f"+experiment={name}"])
    m = cfg.model
    assert (m.arch, m.T, m.neuron.threshold, cfg.data.batch_size) == ("ae", 8, 0.6, 128)
    assert m.reco.frequency.enabled and m.reco.frequency.lam_high > m.reco.frequency.lam_low
    assert cfg.data.name == ("fashion_mnist" if name.startswith("fmnist") else "mnist")


def test_overrides_compose_beside_an_experiment():
    cfg = compose(["+experiment=mnist_cnn", "model.rule=bp_snn", "seed=3", "logger=wandb", "model.T=8"])
    assert (cfg.model.rule, cfg.seed, cfg.logger.kind, cfg.model.T, cfg.model.arch) == ("bp_snn", 3, "wandb", 8, "cnn")


#: experiments on files users bring (no package ships them): tests/data/test_image_experiments.py runs each on
#: small files in the official layout
USER_FILES = ["cifar10_cnn", "cifar100_cnn", "svhn_cnn", "tinyimagenet_cnn"]


@pytest.mark.parametrize("name", [e for e in EXPERIMENTS if e not in USER_FILES])
def test_fast_dev_run(name, tmp_path: Path):
    if name.startswith("fmnist") and not Path("/usr/share/datasets/fashion-mnist").is_dir():
        pytest.skip("Fashion-MNIST Debian package not installed (make install-data as root)")
    extra = ["generation.fid.enabled=false", "generation.n_fit=256"] if name in GENERATION else []
    cfg = compose([f"+experiment={name}", "trainer.fast_dev_run=true", "logger=none",
                   "trainer.enable_progress_bar=false", *extra])
    m = run(cfg, tmp_path)
    key = "test/mse" if name.startswith("timeseries") or name in GENERATION else "test/acc"
    assert m["test"][key] >= 0.0


SCREENS = sorted(p.stem for p in (CONF / "screen").glob("*.yaml"))
#: values standing in for the keys a run derives from its series (bsd.data.derive), so that the rest is checked
STAND_IN = {"data.window": 24, "data.season": 24, "data.lags": 24, "data.residual_parts": 24, "data.residual_days": 2,
            "model.code.lo": -3.0, "model.code.hi": 3.0}


@pytest.mark.parametrize("name", SCREENS)
def test_every_screen_composes_and_every_point_of_its_grid_is_a_valid_config(name):
    """A screen is a multirun config: each combination its sweeper expands to composes and passes the checks."""
    import itertools

    from omegaconf import OmegaConf

    from bsd.config import to_objects

    text = (CONF / "screen" / f"{name}.yaml").read_text()
    run_line = next(line for line in text.splitlines() if line.startswith("# Run:"))
    experiment = run_line.split("+experiment=")[1].split()[0]
    cfg = compose([f"+experiment={experiment}", f"+screen={name}"])
    assert cfg.variant == name
    from hydra.core.override_parser.overrides_parser import OverridesParser

    params = OmegaConf.to_container(OmegaConf.load(CONF / "screen" / f"{name}.yaml"))["hydra"]["sweeper"]["params"]
    parsed = OverridesParser.create().parse_overrides([f"{k}={v}" for k, v in params.items()])
    grid = [[f"{o.key_or_group}={v}" for v in o.sweep_string_iterator()] if o.is_sweep_override()
            else [f"{o.key_or_group}={o.get_value_element_as_str()}"] for o in parsed]
    from bsd.data import derive

    for point in itertools.islice(itertools.product(*grid), 200):
        cfg = compose([f"+experiment={experiment}", f"+screen={name}", *point])
        for key in derive.unset(cfg):
            OmegaConf.update(cfg, key, STAND_IN[key], merge=False)
        to_objects(cfg)
