"""Layer-by-layer local backward (``model.backward=layer``) against the joint step (``joint``).

The layer-by-layer step takes each layer's gradient while only that layer's graph is alive; the loss it
returns hands those gradients to the trainer's backward pass. Its losses, diagnostics, gradients and running
statistics must be the joint step's: bit for bit where the two compute the same operations, and to float
rounding where the joint step batches layers of one width into one ReCo call.
"""

from __future__ import annotations

import pytest
import torch

from bsd.build import build_ae, build_image, build_seq
from bsd.config import model_config
from bsd.rules.local import LayerGrads

IMAGE = {
    "mlp": {"widths": [24, 16, 16]},  # two hidden layers of one width: the joint step batches their ReCo
    "cnn": {"channels": [4, 6], "fc": [16]},
}


def _case(name: str, backward: str, **extra):
    """Network, inputs and targets of one case, the same for both modes."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    if name in IMAGE:
        net = build_image(model_config(name, T=3, backward=backward, **IMAGE[name], **extra), (1, 12, 12), 10)
        return net, torch.rand(64, 1, 12, 12, generator=g), torch.randint(0, 10, (64,), generator=g)
    if name == "ae":
        net = build_ae(model_config("ae", T=2, channels=[2, 4], latent=6, backward=backward, **extra), (1, 8, 8))
        return net, torch.rand(32, 1, 8, 8, generator=g), None
    reco = {"on": "spikes", "center": "batch", "lam": 0.4, "time_path": "forward", "through_time": 6,
            **extra.pop("reco", {})}
    if name == "text":
        net = build_seq(model_config("rnn", T=2, widths=[12, 10], backward=backward, reco=reco, **extra), 7, 7,
                        "classify")
        ids = torch.randint(0, 7, (32, 6), generator=g)
        return net, torch.nn.functional.one_hot(ids, 7).float(), torch.randint(0, 7, (32, 6), generator=g)
    cfg = model_config("rnn", T=2, widths=[12, 10], backward=backward, reco={**reco, "margin": "code"},
                       code={"kind": "population", "dim": 8, "shape": "ramp"}, **extra)
    return build_seq(cfg, 4, 1, "regress"), torch.randn(32, 6, 4, generator=g), torch.randn(32, 6, generator=g)


def _step(name: str, backward: str, **extra):
    """One step's loss, diagnostics, gradients (by parameter name) and buffers after the backward pass."""
    (stack, code, rule), x, y = _case(name, backward, **extra)
    stack.train()
    loss, logs = rule.loss(stack, code, x, y)
    loss.backward()
    grads = {k: p.grad.clone() for k, p in stack.named_parameters() if p.grad is not None}
    return loss.detach(), {k: float(v) for k, v in logs.items()}, grads, dict(stack.named_buffers())


def _assert_same_step(name: str, exact: bool, **extra) -> None:
    loss_j, logs_j, grads_j, bufs_j = _step(name, "joint", **extra)
    loss_l, logs_l, grads_l, bufs_l = _step(name, "layer", **extra)
    tol = {"rtol": 0, "atol": 0} if exact else {"rtol": 1e-5, "atol": 1e-6}
    torch.testing.assert_close(loss_l, loss_j, **tol)
    assert logs_l.keys() == logs_j.keys()
    for k in logs_j:
        assert logs_l[k] == pytest.approx(logs_j[k], rel=tol["rtol"], abs=tol["atol"]), k
    assert grads_l.keys() == grads_j.keys() and grads_j
    scale = max(float(g.abs().max()) for g in grads_j.values())
    for k, g in grads_j.items():  # a bias before a batch norm has a zero gradient up to rounding: absolute at scale
        torch.testing.assert_close(grads_l[k], g, rtol=tol["rtol"], atol=tol["atol"] * scale, msg=k)
    for k, b in bufs_j.items():  # running statistics are updated once per step, as in the joint step
        torch.testing.assert_close(bufs_l[k], b, rtol=0, atol=0, msg=k)


@pytest.mark.parametrize("reco", [
    {},  # the default: ReCo on centred firing rates
    {"on": "voltage", "center": "none"},  # the paper's voltages
    {"margin": "code", "center": "push", "same_class": "negative"},
])
def test_the_mlp_step_layer_by_layer_equals_the_joint_step(reco):
    _assert_same_step("mlp", exact=False, reco=reco)


@pytest.mark.parametrize("reco", [{}, {"on": "voltage", "center": "none", "pool": None}])
def test_the_cnn_step_layer_by_layer_equals_the_joint_step_bit_for_bit(reco):
    _assert_same_step("cnn", exact=True, reco=reco)


@pytest.mark.parametrize("extra", [
    {},  # the default: frequency-aware ReCo on voltages, image margins
    {"image_readout": 0.5, "decoder_match": 0.3},
    {"reco": {"on": "spikes", "center": "batch", "frequency": {"enabled": False}, "pool": 2},
     "image_readout": 0.5, "decoder_match": 0.3},
])
def test_the_autoencoder_step_layer_by_layer_equals_the_joint_step_bit_for_bit(extra):
    _assert_same_step("ae", exact=True, **extra)


@pytest.mark.parametrize("task", ["text", "forecast"])
@pytest.mark.parametrize("reco", [
    {},  # credit along each layer's own forward simulation
    {"time_path": "rest", "through_time": 2},
    {"on": "voltage", "center": "none", "time_path": "rest", "through_time": 0},
])
def test_the_rnn_step_layer_by_layer_equals_the_joint_step_bit_for_bit(task, reco):
    _assert_same_step(task, exact=True, reco=reco)


def test_the_returned_loss_hands_each_parameter_its_collected_gradient_times_the_incoming_one():
    a, b = torch.nn.Parameter(torch.tensor([1.0, 2.0])), torch.nn.Parameter(torch.tensor(3.0))
    grads = LayerGrads()
    grads.add(0, (a * a).sum(), [a])
    grads.add(1, 5 * b, [b])
    grads.add(2, (a * b).sum(), [a])  # a second loss reaching a: its gradients add up
    loss = grads.loss([1, 0, 2])
    assert float(loss.detach()) == 5 * 3 + 5 + 9
    (0.25 * loss).backward()  # e.g. gradient accumulation over four batches
    torch.testing.assert_close(a.grad, 0.25 * (2 * a.detach() + 3.0))
    torch.testing.assert_close(b.grad, torch.tensor(0.25 * 5))
    assert b.grad is not None and a.grad.shape == a.shape


def test_a_loss_scale_gives_the_same_gradients_and_the_graph_is_freed_after_each_layer():
    w = torch.nn.Parameter(torch.randn(4, 4))
    x = torch.randn(8, 4)
    plain, scaled = LayerGrads(), LayerGrads(scale=1024.0)
    for grads in (plain, scaled):
        out = torch.tanh(x @ w).sum()
        grads.add(0, out, [w])
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            out.backward()
    torch.testing.assert_close(scaled.grads[w], plain.grads[w], rtol=1e-6, atol=0)


def test_the_layer_by_layer_step_is_the_default_and_back_propagation_ignores_it():
    from bsd.rules.registry import ignored_keys

    assert str(model_config("mlp").backward) == "layer"
    assert "model.backward" in ignored_keys("image", "bp_snn") and "model.backward" not in ignored_keys("image", "bsd")
    with pytest.raises(ValueError, match="backward"):
        model_config("mlp", backward="sideways")


def test_without_gradients_the_layer_by_layer_rule_returns_the_joint_loss():
    (stack, code, rule), x, y = _case("mlp", "layer")
    with torch.no_grad():
        loss, _ = rule.loss(stack, code, x, y)
    (stack, code, joint), x, y = _case("mlp", "joint")
    with torch.no_grad():
        want, _ = joint.loss(stack, code, x, y)
    assert loss.grad_fn is None
    torch.testing.assert_close(loss, want, rtol=1e-6, atol=0)
