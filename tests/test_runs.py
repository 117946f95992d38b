"""Run outputs: checkpoints are never half-written, even where Lightning's own writer would leave one."""

import errno
import os
import shutil

import pytest
import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

from bsd.runs import AtomicCheckpointIO, git_commit


def _cross_device_and_a_kill_halfway(monkeypatch):
    """The temp file lives on another filesystem (a rename fails with EXDEV) and the copy dies halfway."""
    real_rename = os.rename

    def rename(src, dst, *a, **kw):
        if str(dst).endswith(".ckpt") and not str(src).startswith(os.path.dirname(str(dst))):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real_rename(src, dst, *a, **kw)

    def copy_half(src, dst, *a, **kw):
        data = open(src, "rb").read()  # noqa: SIM115
        with open(dst, "wb") as f:
            f.write(data[: len(data) // 2])
        raise KeyboardInterrupt("killed during the copy")

    monkeypatch.setattr(os, "rename", rename)
    monkeypatch.setattr(shutil, "copy2", copy_half)
    monkeypatch.setattr(shutil, "copyfile", copy_half)


def test_lightnings_writer_truncates_a_checkpoint_killed_during_a_cross_device_move(tmp_path, monkeypatch):
    """Lightning puts its temp file in the system temp folder and moves it in place: across filesystems the move
    is a copy, and a kill during the copy leaves a truncated checkpoint (why ``AtomicCheckpointIO`` stays)."""
    path = tmp_path / "last.ckpt"
    TorchCheckpointIO().save_checkpoint({"state_dict": {"w": torch.zeros(1000)}, "epoch": 1}, path)
    with monkeypatch.context() as m:
        _cross_device_and_a_kill_halfway(m)
        with pytest.raises(KeyboardInterrupt):
            TorchCheckpointIO().save_checkpoint({"state_dict": {"w": torch.ones(1000)}, "epoch": 2}, path)
    with pytest.raises(Exception):  # noqa: B017, PT011 - any read error: the file is cut short
        torch.load(path, weights_only=True)


def test_our_writer_is_whole_across_devices_and_keeps_the_old_file_when_killed(tmp_path, monkeypatch):
    path = tmp_path / "last.ckpt"
    io = AtomicCheckpointIO()
    io.save_checkpoint({"state_dict": {"w": torch.zeros(1000)}, "epoch": 1}, path)
    with monkeypatch.context() as m:
        _cross_device_and_a_kill_halfway(m)  # the temp file sits beside the target: no copy, one rename
        io.save_checkpoint({"state_dict": {"w": torch.ones(1000)}, "epoch": 2}, path)
    assert torch.load(path, weights_only=True)["epoch"] == 2
    real_save = torch.save

    def killed(obj, f, *a, **kw):
        real_save(obj, f, *a, **kw)
        with open(f, "r+b") as h:
            h.truncate(100)
        raise KeyboardInterrupt("killed while writing")

    monkeypatch.setattr(torch, "save", killed)
    with pytest.raises(KeyboardInterrupt):
        io.save_checkpoint({"state_dict": {"w": torch.ones(1000)}, "epoch": 3}, path)
    assert torch.load(path, weights_only=True)["epoch"] == 2
    assert not list(tmp_path.glob(".*tmp"))  # no leftovers


def test_the_commit_of_the_checkout_is_recorded():
    sha = git_commit()
    assert sha is None or len(sha.split("+")[0]) == 40


class _Payload:
    """An object whose unpickling would create a file (what a crafted checkpoint would run)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_crafted_pickle_checkpoint_is_refused_without_running_its_payload(tmp_path, capsys):
    from bsd.generate import main as generate
    from bsd.runs import load_checkpoint

    marker = tmp_path / "payload_ran"
    bad = tmp_path / "crafted.ckpt"
    torch.save({"state_dict": {}, "hyper_parameters": {"x": _Payload(marker)}}, bad)
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        load_checkpoint(bad)
    with pytest.raises(SystemExit):
        generate([str(bad), "--n", "2", "--out", str(tmp_path / "out")])
    assert "not a readable checkpoint" in capsys.readouterr().err
    assert not marker.exists()
