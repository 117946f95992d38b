"""A killed run resumes exactly: SIGKILL after a checkpoint written during an epoch, then resume=auto, gives the
weights and test metrics of a run that was never interrupted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from tests.conftest import ROOT

SMALL = ["+experiment=mnist_mlp", "model.widths=[128]", "data.train_subset=3072", "data.val_size=500",
         "trainer.max_epochs=2", "trainer.limit_val_batches=1", "trainer.limit_test_batches=2", "logger=csv",
         "trainer.enable_progress_bar=false", "threads=1", "seed=3", "checkpoint.every_n_steps=3",
         "checkpoint.every_minutes=null"]


def _cmd(run_dir, *extra):
    return [sys.executable, str(ROOT / "src" / "train.py"), *SMALL, f"hydra.run.dir={run_dir}", *extra]


def _weights(run_dir):
    sd = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    return {k: v for k, v in sd.items() if v.is_floating_point()}


def test_a_run_killed_during_an_epoch_resumes_to_the_same_weights_and_metrics(tmp_path):
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    subprocess.run(_cmd(whole), check=True, capture_output=True, cwd=ROOT, timeout=600)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(_cmd(killed), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    mid = killed / "checkpoints" / "mid.ckpt"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if mid.is_file() and torch.load(mid, weights_only=True)["global_step"] >= 9:  # well inside epoch 0
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    if (killed / "metrics.json").exists():
        pytest.skip("the run finished before it could be killed (machine too fast for this test's budget)")
    stopped_at = torch.load(mid, weights_only=True)["global_step"]
    res = subprocess.run(_cmd(killed, "resume=auto"), check=False, capture_output=True, text=True, cwd=ROOT,
                         timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    a, b = json.loads((whole / "metrics.json").read_text()), json.loads((killed / "metrics.json").read_text())
    assert b["epochs"] == a["epochs"] and 0 < stopped_at
    assert a["test"] == b["test"], (a["test"], b["test"])
    wa, wb = _weights(whole), _weights(killed)
    assert wa.keys() == wb.keys()
    assert all(torch.equal(wa[k], wb[k]) for k in wa), [k for k in wa if not torch.equal(wa[k], wb[k])][:5]


def test_resume_refuses_a_missing_checkpoint_and_one_of_another_experiment(tmp_path):
    from bsd.resume import resolve_resume

    with pytest.raises(FileNotFoundError, match="resume=.*no such checkpoint"):
        resolve_resume(str(tmp_path / "none.ckpt"), tmp_path, "mnist_mlp", "mlp")
    (tmp_path / "checkpoints").mkdir()
    other = tmp_path / "checkpoints" / "last.ckpt"
    torch.save({"state_dict": {}, "bsd": {"experiment": "text_char", "arch": "rnn"}}, other)
    with pytest.raises(ValueError, match="experiment 'text_char', not 'mnist_mlp'"):
        resolve_resume(str(other), tmp_path, "mnist_mlp", "mlp")
    assert resolve_resume("auto", tmp_path, "text_char", "rnn") == str(other)
    assert resolve_resume("auto", tmp_path / "fresh", "mnist_mlp", "mlp") is None  # nothing to resume: a new run
