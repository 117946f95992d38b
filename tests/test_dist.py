"""Data parallelism: two gloo processes of batch 64 compute the losses and gradients of one process of batch 128.

Each worker builds the same network (same seed), takes its half of the batch, computes every layer's local loss
and the gradients of their sum, and averages the gradients across processes as DDP does; the test compares with
one process on the whole batch, for the MLP, the CNN, the RNN (text and forecast) and the autoencoder, and checks
that no gradient crosses a layer under data parallelism (C2).
"""

from __future__ import annotations

import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from bsd.build import build_ae, build_image, build_seq
from bsd.config import model_config
from tests.rules import assert_losses_are_local

B = 128


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _case(name: str):
    """Network, target code, rule, inputs and targets of one case (the same in every process)."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    if name in ("mlp", "cnn", "mlp_voltage", "mlp_bp_snn"):  # bsd on rates (the default), on voltages; BP
        arch = "cnn" if name == "cnn" else "mlp"
        extra = {"reco": {"on": "voltage", "center": "none"}} if name == "mlp_voltage" else {}
        rule = "bp_snn" if name == "mlp_bp_snn" else "bsd"
        shape = {"widths": [24, 16]} if arch == "mlp" else {"channels": [4, 6], "fc": [16]}
        cfg = model_config(arch, rule=rule, T=3, **shape, **extra)
        net = build_image(cfg, (1, 12, 12), 10)
        x = torch.rand(B, 1, 12, 12, generator=g)
        y = torch.randint(0, 10, (B,), generator=g)
        return net, x, y
    if name == "ae":
        cfg = model_config("ae", T=2, channels=[2, 4], latent=6)
        net = build_ae(cfg, (1, 8, 8))
        return net, torch.rand(B, 1, 8, 8, generator=g), None
    if name == "text":
        cfg = model_config("rnn", T=2, widths=[12], reco={"on": "spikes", "center": "batch", "lam": 0.4,
                                                          "time_path": "forward", "through_time": 6})
        net = build_seq(cfg, 7, 7, "classify")
        ids = torch.randint(0, 7, (B, 6), generator=g)
        return net, torch.nn.functional.one_hot(ids, 7).float(), torch.randint(0, 7, (B, 6), generator=g)
    cfg = model_config("rnn", T=2, widths=[12], reco={"on": "spikes", "center": "batch", "lam": 0.2,
                                                      "margin": "code"},
                       code={"kind": "population", "dim": 8, "shape": "ramp"})
    net = build_seq(cfg, 4, 1, "regress")
    return net, torch.randn(B, 6, 4, generator=g), torch.randn(B, 6, generator=g)


def _step(name: str, rows: slice | None = None, check_local: bool = False):
    net, x, y = _case(name)
    stack, code, rule = net
    if rows is not None:
        x, y = x[rows], (None if y is None else y[rows])
    stack.train()
    try:
        losses, _ = rule.layer_losses(stack, code, x, y)
    except NotImplementedError:  # back-propagation: one loss for the whole stack
        losses = {0: rule.loss(stack, code, x, y)[0]}
    if check_local:
        assert_losses_are_local(stack, losses)
    total = sum(losses.values())
    params = [p for p in stack.parameters() if p.requires_grad]
    grads = torch.autograd.grad(total, params, allow_unused=True)
    grads = [torch.zeros_like(p) if gr is None else gr for p, gr in zip(params, grads, strict=True)]
    return {k: v.detach() for k, v in losses.items()}, grads


def _layer_step(name: str, rows: slice | None = None):
    """One step as training takes it with ``model.backward=layer``: the rule's loss, then its backward pass."""
    net, x, y = _case(name)
    stack, code, rule = net
    rule.cfg.backward = "layer"
    if rows is not None:
        x, y = x[rows], (None if y is None else y[rows])
    stack.train()
    loss, _ = rule.loss(stack, code, x, y)
    loss.backward()
    params = [p for p in stack.parameters() if p.requires_grad]
    return {0: loss.detach()}, [torch.zeros_like(p) if p.grad is None else p.grad.clone() for p in params]


def _worker(rank: int, world: int, port: int, name: str, out: str, layer: bool = False) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    try:
        per = B // world
        rows = slice(rank * per, (rank + 1) * per)
        if layer:
            losses, grads = _layer_step(name, rows)
        else:
            losses, grads = _step(name, rows, check_local=(name != "mlp_bp_snn"))
        for gr in grads:  # DDP's reduction: the mean over processes
            dist.all_reduce(gr)
            gr.div_(world)
        loss_t = torch.stack([losses[k] for k in sorted(losses)])
        dist.all_reduce(loss_t)
        if rank == 0:
            torch.save({"losses": loss_t / world, "grads": grads}, out)
        dist.barrier()
    finally:
        dist.destroy_process_group()


@pytest.mark.parametrize("name", ["mlp", "mlp_voltage", "cnn", "mlp_bp_snn", "text", "forecast", "ae"])
def test_two_processes_of_half_the_batch_give_the_losses_and_gradients_of_one(name, tmp_path):
    out = tmp_path / "ddp.pt"
    mp.spawn(_worker, args=(2, _free_port(), name, str(out)), nprocs=2, join=True)
    got = torch.load(out, weights_only=True)
    losses, grads = _step(name)
    want = torch.stack([losses[k] for k in sorted(losses)])
    torch.testing.assert_close(got["losses"], want, rtol=1e-4, atol=1e-6)
    assert len(got["grads"]) == len(grads)
    for a, b in zip(got["grads"], grads, strict=True):  # float32 sums in another order; a bias before a batch
        # norm has a zero gradient up to rounding, so the tolerance is absolute at the scale of the largest gradient
        scale = max(float(g.abs().max()) for g in grads)
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-4 * scale)


@pytest.mark.parametrize("name", ["mlp", "cnn", "text", "ae"])
def test_two_processes_stepping_layer_by_layer_give_the_joint_step_of_one(name, tmp_path):
    """model.backward=layer: the normalisation and centring sums across processes run layer by layer, in one order."""
    out = tmp_path / "ddp.pt"
    mp.spawn(_worker, args=(2, _free_port(), name, str(out), True), nprocs=2, join=True)
    got = torch.load(out, weights_only=True)
    losses, grads = _step(name)
    rule = _case(name)[0][2]
    assert str(rule.cfg.backward) == "layer"  # the default; _step takes the joint step's layer losses
    torch.testing.assert_close(got["losses"][0], sum(losses.values()), rtol=1e-4, atol=1e-6)
    scale = max(float(g.abs().max()) for g in grads)
    for a, b in zip(got["grads"], grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-4 * scale)


def _ddp_cli(tmp_path, experiment: str, *extra: str):
    import subprocess
    import sys

    from tests.conftest import ROOT

    cmd = [sys.executable, str(ROOT / "src" / "train.py"), f"+experiment={experiment}", "trainer=ddp_cpu",
           "trainer.limit_train_batches=3", "trainer.limit_val_batches=2", "trainer.limit_test_batches=2",
           "trainer.max_epochs=1", "trainer.enable_progress_bar=false", "logger=csv", f"hydra.run.dir={tmp_path}",
           *extra]
    return subprocess.run(cmd, check=False, capture_output=True, text=True, cwd=ROOT, timeout=600)


def test_trainer_ddp_cpu_trains_with_two_processes_and_writes_one_set_of_outputs(tmp_path):
    import json

    res = _ddp_cli(tmp_path, "mnist_mlp", "model.widths=[64]", "data.train_subset=1024")
    assert res.returncode == 0, res.stderr[-3000:]
    m = json.loads((tmp_path / "metrics.json").read_text())
    assert m["processes"] == 2 and m["epochs"] == 1 and 0 <= m["test"]["test/acc"] <= 1
    assert len(list(tmp_path.rglob("metrics.json"))) == 1 and (tmp_path / "train_ddp_process_1.log").exists()


@pytest.mark.slow
@pytest.mark.parametrize(("experiment", "extra"), [
    ("text_char", ["model.widths=[64]", "data.train_subset=256"]),
    ("timeseries_elec", ["model.widths=[32]"]),
    ("mnist_ae", ["generation.fid.n_samples=200", "generation.n_fit=256"]),
])
def test_every_task_trains_under_ddp_cpu(tmp_path, experiment, extra):
    import json

    res = _ddp_cli(tmp_path, experiment, *extra)
    assert res.returncode == 0, res.stderr[-3000:]
    assert json.loads((tmp_path / "metrics.json").read_text())["processes"] == 2


def test_a_batch_the_processes_cannot_share_evenly_is_refused(tmp_path):
    res = _ddp_cli(tmp_path, "mnist_mlp", "data.batch_size=127", "model.widths=[16]", "data.train_subset=512")
    assert res.returncode != 0
    assert "data.batch_size=127 is the batch of one step over all 2 processes" in res.stderr
