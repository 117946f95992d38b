"""The five plausibility criteria of spec section 7, checked on MLP and CNN stacks for every image rule.

Each rule declares the criteria it meets (``Rule.criteria``); the generic checks run on every registered
image rule for the criteria it claims, and the rules that do not claim one show that its check can fail.
"""

import pytest
import torch

from bsd.coding import LabelCode
from bsd.config import model_config
from bsd.nets import build_stack, cnn_stages, mlp_stages
from bsd.rules import all_rules, make_rule
from tests.rules import (
    assert_feedback_is_separate,
    assert_losses_are_local,
    capture_inputs,
    non_binary_inputs,
    one_step,
    weights_carrying_credit,
)

LIF = {"threshold": 0.6, "beta": 0.5}
#: every registered image rule (the registry's table, loaded)
IMAGE_RULES = sorted(n for f, n in all_rules() if f == "image")
#: settings under which every rule trains every layer on the tiny stacks (rstdp's hidden layers included)
RULE_SETTINGS = {"rstdp": {"rstdp": {"hidden_lr": 1e-2, "lr": 1e-2, "winners": 2}}}


def _stack(arch: str):
    torch.manual_seed(0)
    if arch == "mlp":
        return build_stack((64,), mlp_stages([32, 24, 16]), 10, LIF), torch.rand(24, 64)
    return build_stack((1, 12, 12), cnn_stages([4, 6], [16]), 10, LIF), torch.rand(24, 1, 12, 12)


def make(arch: str, encoder: str = "direct", reduce_T: str = "mean", **reco):
    stack, x = _stack(arch)
    y = torch.arange(24) % 10
    cfg = model_config("mlp", T=4, encoder=encoder, reduce_T=reduce_T, reco={"on": "voltage", "center": "none", **reco})
    return stack, LabelCode(10), make_rule("image", "bsd", cfg), x, y


def make_any(arch: str, name: str, **fields):
    """A tiny stack of ``arch``, its code, rule ``name`` (with ``fields`` and ``RULE_SETTINGS``) and a batch."""
    stack, x = _stack(arch)
    y = torch.arange(24) % 10
    cfg = model_config(arch, T=4, rule=name, **{**RULE_SETTINGS.get(name, {}), **fields})
    return stack, LabelCode(10), make_rule("image", name, cfg), x, y


def rules_claiming(criterion: str) -> list[str]:
    return [n for n in IMAGE_RULES if criterion in make_any("mlp", n)[2].criteria]


def test_every_image_rule_declares_criteria_and_signed_losses():
    assert {"bsd", "bp_snn", "bp_ann", "fa", "dfa", "pc", "dll", "rstdp"} <= set(IMAGE_RULES)
    for n in IMAGE_RULES:
        rule = make_any("mlp", n)[2]
        assert set(rule.criteria) <= {"C1", "C2", "C3", "C4", "C5"} and list(rule.criteria) == sorted(rule.criteria)
        assert isinstance(rule.signed_losses, tuple) and rule.signed_losses


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
@pytest.mark.parametrize("name", rules_claiming("C1"))
def test_c1_every_claiming_rule_keeps_its_feedback_apart_and_trains_both_sides(arch, name):
    """No tensor of the feedback path shares storage with a forward weight; one step trains W (and a learned
    feedback); a fixed feedback stays as drawn."""
    stack, code, rule, x, y = make_any(arch, name)
    forward = [p for layer in stack.layers for p in layer.basal_parameters() if p.dim() > 1]
    feedback = rule.feedback_tensors(stack)
    assert_feedback_is_separate(forward, feedback)
    fb = [t for t in feedback if t.dim() > 1]  # the weights (a norm's gain and shift aside)
    fb_before = [t.detach().clone() for t in fb]
    changed = one_step(stack, code, rule, x, y, forward)
    assert all(changed), f"{name}: every forward weight must change after one step"
    fb_changed = [not torch.equal(b, t) for b, t in zip(fb_before, fb, strict=True)]
    assert all(fb_changed) if rule.feedback_trained else not any(fb_changed)


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
@pytest.mark.parametrize("name", rules_claiming("C1"))
def test_c1_no_gradient_passes_through_a_forward_weight(arch, name):
    """By behaviour: walking each claiming rule's loss graph, no forward weight sends a gradient anywhere but to
    itself (no ``grad @ W`` towards the layer below); rstdp keeps no graph at all."""
    stack, code, rule, x, y = make_any(arch, name)
    weights = {f"W{i}.{k}": p for i, layer in enumerate(stack.layers) if layer.basal is not None
               for k, p in layer.basal.named_parameters() if p.dim() > 1}
    loss, _ = rule.loss(stack, code, x, y)
    assert not weights_carrying_credit(loss, weights)


def test_c1_check_can_fail_weight_transport_and_a_feedback_that_views_w():
    """bp_snn sends its error down through W itself; fa with its feedback replaced by views of W is flagged."""
    stack, code, rule, x, y = make_any("mlp", "bp_snn")
    forward = [p for layer in stack.layers for p in layer.basal_parameters() if p.dim() > 1]
    with pytest.raises(AssertionError, match="shares storage"):
        assert_feedback_is_separate(forward, rule.feedback_tensors(stack))
    weights = {f"W{i}": layer.basal.weight for i, layer in enumerate(stack.layers) if layer.basal is not None}
    assert weights_carrying_credit(rule.loss(stack, code, x, y)[0], weights) == {"W2", "W3", "W4"}
    stack, code, fa, x, y = make_any("mlp", "fa")
    forward = [p for layer in stack.layers for p in layer.basal_parameters() if p.dim() > 1]
    fb = fa.feedback(stack)
    for d, layer in zip(fb, stack.layers, strict=True):
        for k in d:
            d[k] = layer.basal.weight.detach()  # "feedback" that is W: weight transport in disguise
    with pytest.raises(AssertionError, match="shares storage"):
        assert_feedback_is_separate(forward, fa.feedback_tensors(stack))


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
@pytest.mark.parametrize("name", rules_claiming("C2"))
def test_c2_every_claiming_rule_gives_each_layer_a_loss_that_reaches_only_its_own_parameters(arch, name):
    stack, code, rule, x, y = make_any(arch, name)
    losses, _ = rule.layer_losses(stack, code, x, y)
    assert set(range(1, stack.depth + 1)) <= set(losses), f"{name}: every weight layer needs its own loss"
    assert_losses_are_local(stack, losses)


@pytest.mark.parametrize("name", ["fa", "bp_snn"])
def test_c2_check_flags_an_error_sent_down_through_the_layers(name):
    """fa's error goes down layer by layer (through fixed matrices): its loss reaches layer 1, so it is not local."""
    stack, code, rule, x, y = make_any("mlp", name)
    loss, _ = rule.loss(stack, code, x, y)
    with pytest.raises(AssertionError, match="reaches layer 1"):
        assert_losses_are_local(stack, {stack.depth: loss})


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


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
@pytest.mark.parametrize("name", rules_claiming("C3"))
def test_c3_every_claiming_rule_trains_every_weight_it_learns_in_one_call_and_one_step(arch, name):
    """One ``loss`` call (forward and teaching signals together) and one optimiser step change every forward
    weight and every learned feedback weight: no second phase, no second step."""
    stack, code, rule, x, y = make_any(arch, name)
    weights = [p for layer in stack.layers for p in layer.basal_parameters() if p.dim() > 1]
    if rule.feedback_trained:
        weights += [t for t in rule.feedback_tensors(stack) if t.dim() > 1]
    assert all(one_step(stack, code, rule, x, y, weights))


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
@pytest.mark.parametrize("encoder", ["direct", "bernoulli"])
@pytest.mark.parametrize("name", rules_claiming("C4"))
def test_c4_only_binary_spikes_pass_between_layers(arch, encoder, name):
    """Every input of every W and Theta, in training and prediction, is 0/1 or a time mean of 0/1 trains (k/T),
    except the direct-coded stimulus at layer 1 (spec 4.2)."""
    stack, code, rule, x, y = make_any(arch, name, encoder=encoder)
    seen = capture_inputs(stack)
    rule.loss(stack, code, x, y)
    rule.predict(stack, code, x)
    assert seen
    assert not non_binary_inputs(seen, rule.T, skip_stimulus=encoder == "direct")


def test_c4_check_can_fail_the_ann_twin_passes_analog_rates():
    stack, code, rule, x, y = make_any("mlp", "bp_ann", encoder="bernoulli")
    seen = capture_inputs(stack)
    rule.loss(stack, code, x, y)
    assert non_binary_inputs(seen, rule.T, skip_stimulus=False)


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
@pytest.mark.parametrize("name", rules_claiming("C5"))
def test_c5_no_signed_signal_travels_down_the_feedback_path(arch, name):
    """Whatever drives an apical dendrite (a teaching signal from above) is a non-negative spike train."""
    stack, code, rule, x, y = make_any(arch, name)
    seen = capture_inputs(stack)
    rule.loss(stack, code, x, y)
    assert all(t.min() >= 0 for i, kind, t in seen if kind == "apical")


def test_c5_check_can_fail_dll_sends_signed_errors_to_the_apical_dendrites():
    stack, code, rule, x, y = make_any("mlp", "dll")
    seen = capture_inputs(stack)
    rule.loss(stack, code, x, y)
    assert any(t.min() < 0 for i, kind, t in seen if kind == "apical")


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_c5_bsd_teaching_signals_come_from_non_negative_spike_inputs(arch):
    stack, code, rule, x, y = make(arch)
    losses, _ = rule.layer_losses(stack, code, x, y)
    for i in range(1, stack.depth):
        assert losses[i].item() >= 0  # ReCo is a sum of squares
    assert rule.criteria == ("C1", "C2", "C3", "C4", "C5")
    assert rule.signed_losses == ("concept cross-entropy",)


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
@pytest.mark.parametrize("hidden", ["one", "reward"])
def test_c5_rstdp_hidden_layers_learn_from_one_global_value_per_sample(arch, hidden):
    """rstdp's hidden synapses see only their own spikes (the winners of lateral inhibition) and one value per
    sample, the same for every unit of every hidden layer (1, or the reward against its mean); changing which wrong
    class a sample carries changes nothing."""
    stack, code, rule, x, y = make_any(arch, "rstdp", rstdp={**RULE_SETTINGS["rstdp"]["rstdp"], "hidden": hidden})
    p = rule.plasticity(stack, code, x, y)
    mods = [p.modulators[i] for i in range(1, stack.depth)]
    assert all(m.shape == (len(y),) and torch.equal(m, mods[0]) for m in mods)
    assert all(a.min() >= 0 and b.min() >= 0 for a, b in p.activity.values())  # spikes (and the stimulus)
    wrong = ~p.correct
    pred = code.logits(rule_out(stack, rule, x)).argmax(1)
    y2 = torch.where(wrong, (pred + 1 + (y + 3) % 9) % 10, y)  # another wrong class (never the prediction)
    assert not torch.equal(y2, y)
    q = rule.plasticity(stack, code, x, y2)
    assert torch.equal(q.correct, p.correct)
    for i in range(1, stack.depth):
        for k, d in p.deltas[i].items():
            assert torch.equal(d, q.deltas[i][k])


def rule_out(stack, rule, x):
    from bsd.rules import forward_net

    with torch.no_grad():
        return forward_net(stack, rule.encode(stack, x)).out.mean(0)
