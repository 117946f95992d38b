"""The five plausibility criteria of spec section 7, each checked on MLP and CNN stacks."""

import pytest
import torch

from bsd.coding import LabelCode
from bsd.config import model_config
from bsd.nets import build_stack, cnn_stages, mlp_stages
from bsd.rules import make_rule
from tests.rules import assert_losses_are_local

LIF = {"threshold": 0.6, "beta": 0.5}


def make(arch: str, encoder: str = "direct", reduce_T: str = "mean", **reco):
    torch.manual_seed(0)
    if arch == "mlp":
        stack = build_stack((64,), mlp_stages([32, 24, 16]), 10, LIF)
        x = torch.rand(24, 64)
    else:
        stack = build_stack((1, 12, 12), cnn_stages([4, 6], [16]), 10, LIF)
        x = torch.rand(24, 1, 12, 12)
    y = torch.arange(24) % 10
    cfg = model_config("mlp", T=4, encoder=encoder, reduce_T=reduce_T, reco={"on": "voltage", "center": "none", **reco})
    return stack, LabelCode(10), make_rule("image", "bsd", cfg), x, y


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_c1_forward_and_backward_weights_are_separate_and_both_trained(arch):
    stack, code, rule, x, y = make(arch)
    basal = [p for layer in stack.layers for p in layer.basal_parameters()]
    apical = [p for layer in stack.layers for p in layer.apical_parameters()]
    assert not {id(p) for p in basal} & {id(p) for p in apical}
    assert not {p.data_ptr() for p in basal} & {p.data_ptr() for p in apical}
    before = [p.detach().clone() for p in basal + apical]
    opt = torch.optim.SGD(stack.parameters(), lr=0.1)
    loss, _ = rule.loss(stack, code, x, y)
    loss.backward()
    opt.step()
    changed = [not torch.equal(b, p) for b, p in zip(before, basal + apical, strict=True)]
    weights = [p.dim() > 1 for p in basal + apical]
    assert all(c for c, w in zip(changed, weights, strict=True) if w), "every W and Theta must change after a step"


@pytest.mark.parametrize("arch,reco_pool", [("mlp", None), ("cnn", None), ("cnn", 2)])
@pytest.mark.parametrize("reco_on", ["voltage", "spikes"])
@pytest.mark.parametrize("reduce_T", ["mean", "per_step"])
@pytest.mark.parametrize("reco_center", ["none", "batch"])
def test_c2_each_layer_loss_only_reaches_its_own_parameters(arch, reco_pool, reco_on, reduce_T, reco_center):
    stack, code, rule, x, y = make(arch, on=reco_on, reduce_T=reduce_T, center=reco_center, pool=reco_pool)
    losses, _ = rule.layer_losses(stack, code, x, y)
    assert sorted(losses) == list(range(stack.depth + 1))
    assert_losses_are_local(stack, losses)


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_c2_local_streams_keep_one_layers_graph_per_output_and_pass_on_plain_spikes(arch):
    """model.reco.on=spikes: the streams keep each layer's graph, as the same spikes simulated without one."""
    from bsd.rules import forward_net

    stack, code, rule, x, y = make(arch, on="spikes")
    uniq, inv = torch.unique(y, return_inverse=True)
    counts = torch.bincount(inv)
    s0 = rule.encode(stack, x)
    fwd, above, _, own_above = rule.streams_from_labels(stack, s0, code, uniq, counts)
    with torch.no_grad():
        ref = forward_net(stack, s0)
        ref_above, _, none = rule.backward_stream(stack, code, uniq, counts)
    assert all(o is None for o in none)
    for i, layer in enumerate(stack.hidden, start=1):
        for own, passed, plain, params in (
            (fwd.own[i - 1], fwd.inputs[i], ref.inputs[i], layer.basal_parameters()),
            (own_above[i], above[i - 1], ref_above[i - 1], layer.apical_parameters()),
        ):
            assert torch.equal(own, plain) and torch.equal(passed, plain) and not passed.requires_grad
            mine = list(params)
            others = [p for p in stack.parameters() if all(p is not q for q in mine)]
            g = torch.autograd.grad(own.sum(), mine + others, allow_unused=True, retain_graph=True)
            assert any(t is not None and torch.count_nonzero(t) > 0 for t in g[: len(mine)])
            assert all(t is None or torch.count_nonzero(t) == 0 for t in g[len(mine) :])


def test_c2_check_can_fail_back_propagation_crosses_layers():
    """The same check flags bp_snn: its concept loss reaches the first layer."""
    stack, code, _, x, y = make("mlp")
    loss, _ = make_rule("image", "bp_snn", model_config("mlp", T=4, reco={"on": "voltage", "center": "none"})).loss(
        stack, code, x, y
    )
    g = torch.autograd.grad(loss, stack.layers[1].basal.weight)[0]
    assert torch.count_nonzero(g) > 0


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_c3_one_call_computes_both_streams_and_one_step_updates_all(arch):
    stack, code, rule, x, y = make(arch)
    calls = {"basal": 0, "apical": 0}
    for layer in stack.layers:
        if layer.basal is not None:
            layer.basal.register_forward_hook(lambda *a: calls.__setitem__("basal", calls["basal"] + 1))
        if layer.apical is not None:
            layer.apical.register_forward_hook(lambda *a: calls.__setitem__("apical", calls["apical"] + 1))
    loss, _ = rule.loss(stack, code, x, y)
    assert calls["basal"] > 0 and calls["apical"] > 0
    loss.backward()
    assert all(p.grad is not None for layer in stack.layers for p in layer.parameters() if p.dim() > 1)


def _capture_inputs(stack):
    seen = []
    for i, layer in enumerate(stack.layers):
        for kind in ("basal", "apical"):
            mod = getattr(layer, kind)
            if mod is not None:
                mod.register_forward_pre_hook(lambda m, inp, i=i, kind=kind: seen.append((i, kind, inp[0].detach())))
    return seen


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
@pytest.mark.parametrize("encoder", ["direct", "bernoulli"])
def test_c4_only_binary_spikes_pass_between_layers(arch, encoder):
    stack, code, rule, x, y = make(arch, encoder=encoder)
    seen = _capture_inputs(stack)
    rule.loss(stack, code, x, y)
    rule.predict(stack, code, x)
    assert seen
    for i, kind, t in seen:
        from_stimulus = kind == "basal" and i == 1
        if from_stimulus and encoder == "direct":
            continue  # the analog stimulus drives layer 1 only (spec 4.2, `direct` code)
        if t.dim() > 0 and t.is_floating_point():
            # time-reduced inputs of the loss graph are means of 0/1 spike trains: k/T exactly
            k = t * rule.T
            assert torch.allclose(k, k.round(), atol=1e-4), f"layer {i} {kind} input is not made of spikes"
            assert t.min() >= 0 and t.max() <= 1


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_c4_simulated_spike_trains_hold_only_zero_and_one(arch):
    stack, code, rule, x, y = make(arch)
    from bsd.rules import forward_net

    trace = forward_net(stack, rule.encode(stack, x))
    for s in trace.inputs[1:]:
        assert set(s.unique().tolist()) <= {0.0, 1.0}
    uniq, inv = torch.unique(y, return_inverse=True)
    above, _, _ = rule.backward_stream(stack, code, uniq, torch.bincount(inv))
    for s in above:
        assert set(s.unique().tolist()) <= {0.0, 1.0}


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_c5_teaching_signals_come_from_non_negative_spike_inputs(arch):
    stack, code, rule, x, y = make(arch)
    seen = _capture_inputs(stack)
    losses, _ = rule.layer_losses(stack, code, x, y)
    assert all(t.min() >= 0 for i, kind, t in seen if kind == "apical")  # apical voltages are driven by spikes
    for i in range(1, stack.depth):
        assert losses[i].item() >= 0  # ReCo is a sum of squares
    assert rule.criteria == ("C1", "C2", "C3", "C4", "C5")
    assert rule.signed_losses == ("concept cross-entropy",)
