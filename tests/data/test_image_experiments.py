"""The colour-image experiments run end to end on small files in the official layouts."""

import json
import subprocess
import sys

import pytest

from bsd.train import run
from tests.conftest import ROOT, compose
from tests.data import image_files as f


def test_cifar10_cnn_fast_dev_run_on_the_official_binary_layout(tmp_path):
    """The command a user runs, on a folder laid out as cifar-10-binary.tar.gz unpacks (5,050 training images, so
    the default 5,000 validation images can be carved)."""
    f.write_cifar10_bin(tmp_path / "data", per_batch=1010, n_test=100)
    res = subprocess.run([sys.executable, "src/train.py", "+experiment=cifar10_cnn",
                          f"data.data_dir={tmp_path / 'data'}", "trainer.fast_dev_run=true", "logger=none",
                          "trainer.enable_progress_bar=false", f"data.cache_dir={tmp_path / 'cache'}",
                          f"hydra.run.dir={tmp_path / 'run'}"], cwd=ROOT, capture_output=True, text=True,
                         timeout=300, check=False)
    assert res.returncode == 0, res.stderr[-3000:]
    m = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert m["dataset"] == "cifar10" and m["arch"] == "cnn" and m["T"] == 4 and 0 <= m["test"]["test/acc"] <= 1


@pytest.mark.parametrize("exp, writer, extra", [
    ("cifar100_cnn", f.write_cifar100_py, ["data.label=coarse"]),
    ("svhn_cnn", f.write_svhn, []),
    ("tinyimagenet_cnn", f.write_tiny_imagenet, []),
])
def test_the_other_image_experiments_run_on_fixture_files(tmp_path, exp, writer, extra):
    writer(tmp_path / "data")
    cfg = compose([f"+experiment={exp}", f"data.data_dir={tmp_path / 'data'}", "trainer.fast_dev_run=true",
                   "logger=none", "trainer.enable_progress_bar=false", f"data.cache_dir={tmp_path / 'cache'}",
                   "data.val_size=2", "data.batch_size=4", "data.eval_batch_size=4", *extra])
    m = run(cfg, tmp_path / "run")
    assert 0 <= m["test"]["test/acc"] <= 1 and m["T"] == 4


@pytest.mark.parametrize("exp", ["cifar10_cnn", "cifar100_cnn", "svhn_cnn", "tinyimagenet_cnn"])
def test_image_experiments_use_the_papers_cnn(exp):
    cfg = compose([f"+experiment={exp}"])
    m = cfg.model
    assert (m.arch, m.T, m.neuron.threshold, m.reco.lam, cfg.data.batch_size, m.norm) == ("cnn", 4, 0.6, 0.6, 128,
                                                                                         True)
    assert list(m.channels) == [64, 128, 64] and list(m.fc) == [256] and cfg.trainer.gradient_clip_val > 0
    assert cfg.data.normalize and cfg.data.shift > 0 and cfg.data.flip == (exp != "svhn_cnn")
