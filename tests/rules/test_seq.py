"""Sequence rules: plausibility (C1, C2, C4) for the spiking RNN, and what BP does differently."""

import pytest
import torch

from bsd.coding import LabelCode, PopulationCode
from bsd.config import model_config
from bsd.recurrent import SeqStack
from bsd.rules import make_rule
from bsd.rules.seq import previous_step, reduce_positions
from tests.rules import assert_losses_are_local

LIF = {"threshold": 0.6, "beta": 0.5}


def make(
    task="classify",
    widths=(16, 12),
    rule="bsd",
    T=3,
    axis="sample",
    center="none",
    norm="layer",
    decorrelation=0.0,
    push_weight="uniform",
    margin="zero",
    on="voltage",
):
    torch.manual_seed(0)
    if task == "classify":
        V = 7
        code = LabelCode(V)
        x = torch.nn.functional.one_hot(torch.randint(0, V, (10, 6)), V).float()
        y = torch.randint(0, V, (10, 6))
        stack = SeqStack(V, list(widths), V, V, LIF, norm=norm)
    else:
        code = PopulationCode(8)
        x = torch.randn(10, 6, 4)
        y = torch.randn(10, 6)
        stack = SeqStack(4, list(widths), 1, code.dim, LIF, norm=norm)
    return (
        stack,
        code,
        make_rule(
            "seq",
            rule,
            model_config(
                "rnn",
                T=T,
                decorrelation=decorrelation,
                reco={
                    "lam": 0.1,
                    "axis": axis,
                    "center": center,
                    "push_weight": push_weight,
                    "margin": margin,
                    "on": on,
                },
            ),
            task,
        ),
        x,
        y,
    )


def test_reduce_positions_and_previous_step():
    s = torch.arange(12.0).reshape(6, 2, 1)  # 3 positions x T=2
    assert torch.equal(reduce_positions(s, 2)[:, 0, 0], torch.tensor([1.0, 5.0, 9.0]))
    p = previous_step(s)
    assert torch.equal(p[0], torch.zeros(2, 1)) and torch.equal(p[1:], s[:-1])


@pytest.mark.parametrize(
    "task,axis,decorrelation,push_weight,margin,on,center",
    [
        ("classify", "sample", 0.0, "uniform", "zero", "voltage", "none"),
        ("regress", "sample", 0.0, "uniform", "zero", "voltage", "none"),
        ("regress", "unit", 0.0, "uniform", "zero", "voltage", "none"),
        ("regress", "sample", 0.5, "uniform", "zero", "voltage", "none"),
        ("regress", "sample", 0.0, "code", "zero", "voltage", "none"),
        ("regress", "sample", 0.0, "uniform", "code", "voltage", "none"),
        ("classify", "sample", 0.0, "uniform", "zero", "spikes", "batch"),
        ("regress", "sample", 0.0, "uniform", "code", "spikes", "batch"),
    ],
)
def test_c1_and_c2_each_layer_loss_reaches_only_its_own_parameters(
    task, axis, decorrelation, push_weight, margin, on, center
):
    stack, code, rule, x, y = make(
        task, axis=axis, decorrelation=decorrelation, push_weight=push_weight, margin=margin, on=on, center=center
    )
    losses, _ = rule.layer_losses(stack, code, x, y)
    assert sorted(losses) == list(range(stack.depth + 1))
    assert_losses_are_local(stack, losses)
    for layer in stack.hidden:  # W_x, W_h and Theta are separate tensors and all receive gradient
        ids = [id(p) for p in layer.basal_parameters()] + [id(p) for p in layer.apical_parameters()]
        assert len(ids) == len(set(ids))
    total = sum(losses.values())
    total.backward()
    for layer in stack.hidden:
        for w in (layer.basal.weight, layer.recurrent.weight, layer.apical.weight):
            assert w.grad is not None and torch.count_nonzero(w.grad) > 0


def test_bp_snn_gradient_crosses_layers_and_time():
    stack, code, rule, x, y = make(rule="bp_snn")
    loss, _ = rule.loss(stack, code, x, y)
    g = torch.autograd.grad(loss, [stack.hidden[0].basal.weight, stack.hidden[0].recurrent.weight])
    assert all(torch.count_nonzero(t) > 0 for t in g)


def test_c4_spikes_between_layers_are_binary_and_bp_ann_is_not_spiking():
    stack, code, rule, x, y = make()
    spikes, _ = rule.run(stack, x)
    for s in spikes[1:]:
        assert set(s.unique().tolist()) <= {0.0, 1.0}
    above = rule.backward_stream(stack, code, torch.arange(7), None)
    for a in above[:-1]:  # time-reduced backward spikes: multiples of 1/T
        assert torch.allclose(a * rule.T, (a * rule.T).round(), atol=1e-5)
    _, code2, ann, x2, _ = make(rule="bp_ann")
    assert ann.T == 1
    acts, _ = ann.run(stack, x2)
    assert len(acts[1].unique()) > 2


def test_positions_are_simulated_for_T_steps_each():
    stack, code, rule, x, y = make(T=3)
    spikes, _ = rule.run(stack, x)
    assert spikes[1].shape[0] == x.shape[1] * 3
    assert rule.predict(stack, x).shape == (10, 6, 7)


def test_regress_targets_go_through_a_population_code():
    code = PopulationCode(8, -2, 2)
    v = code.vectors(torch.tensor([-2.0, 0.0, 5.0]))
    assert v.shape == (3, 8) and v[0].argmax() == 0 and v[2].argmax() == 7
    assert torch.equal(code.group(torch.tensor([-2.0, 2.0])), torch.tensor([0, 7]))
    with pytest.raises(ValueError, match="code.dim"):
        PopulationCode(1)


def test_several_targets_share_one_population_code_and_train_every_output():
    code = PopulationCode(8, -2, 2, shape="ramp", targets=3)
    y = torch.tensor([[-2.0, 0.0, 2.0], [1.0, 1.0, -1.0]])
    v = code.vectors(y)
    one = PopulationCode(8, -2, 2, shape="ramp")
    assert code.dim == 24 and v.shape == (2, 24) and torch.allclose(v[:, 8:16], one.vectors(y[:, 1]))
    assert torch.equal(code.group(y), one.group(y[:, 0]))  # same_class bins follow the scored target
    torch.manual_seed(0)
    x, yk = torch.randn(10, 6, 4), torch.randn(10, 6, 3)
    stack = SeqStack(4, [16, 12], 3, code.dim, LIF, norm="batch")
    rule = make_rule(
        "seq", "bsd", model_config("rnn", T=3, reco={"lam": 0.1, "on": "spikes", "center": "batch"}), "regress"
    )
    losses, _ = rule.layer_losses(stack, code, x, yk)
    assert_losses_are_local(stack, losses)
    out = rule.readout(stack, rule.run(stack, x)[0])
    for k in range(3):  # the readout's MSE covers every horizon's output
        yk2 = yk.clone()
        yk2[..., k] += 1.0
        assert not torch.allclose(rule.top_loss(out, yk2), rule.top_loss(out, yk))
    bp = make_rule("seq", "bp_snn", model_config("rnn", T=3, reco={"lam": 0.6}), "regress")
    assert torch.isfinite(bp.loss(stack, code, x, yk)[0])
    with pytest.raises(ValueError, match="target"):
        PopulationCode(8, targets=0)


def test_ramp_population_code_is_a_thermometer():
    code = PopulationCode(8, -2, 2, shape="ramp")
    y = torch.linspace(-3, 3, 61)
    v = code.vectors(y)
    assert (v.diff(dim=0) >= 0).all() and (v.diff(dim=0).sum(0) > 0).all()  # every unit grows with the value
    assert torch.allclose(code.vectors(code.centers)[range(8), range(8)], torch.full((8,), 0.5))
    assert torch.equal(code.group(y), PopulationCode(8, -2, 2).group(y))  # same bins as the bumps
    with pytest.raises(ValueError, match="code.shape"):
        PopulationCode(8, shape="box")


def test_unsupported_options_are_refused():
    with pytest.raises(ValueError, match="reduce_T"):
        make_rule("seq", "bsd", model_config("rnn", reduce_T="per_step", reco={"lam": 0.6}), "classify")
    with pytest.raises(ValueError, match="task"):
        make_rule("seq", "bsd", model_config("rnn", reco={"lam": 0.6}), "segment")


def test_reco_over_units_changes_the_hidden_losses_only():
    stack, code, rule, x, y = make("regress")
    _, _, unit_rule, _, _ = make("regress", axis="unit")
    by_sample, _ = rule.layer_losses(stack, code, x, y)
    by_unit, _ = unit_rule.layer_losses(stack, code, x, y)
    assert torch.allclose(by_sample[0], by_unit[0]) and torch.allclose(by_sample[3], by_unit[3])
    assert not torch.allclose(by_sample[1], by_unit[1])
    with pytest.raises(ValueError, match="reco.axis"):
        model_config("rnn", reco={"axis": "time", "lam": 0.6})


def test_decorrelation_adds_the_units_correlation_of_each_hidden_layer_only():
    stack, code, rule, x, y = make("regress")
    _, _, dec_rule, _, _ = make("regress", decorrelation=0.5)
    plain, _ = rule.layer_losses(stack, code, x, y)
    dec, logs = dec_rule.layer_losses(stack, code, x, y)
    for i in (1, 2):
        assert torch.allclose(dec[i] - plain[i], 0.5 * logs[f"decor/{i}"]) and logs[f"decor/{i}"] > 0
    assert torch.allclose(dec[0], plain[0]) and torch.allclose(dec[3], plain[3])


def test_code_push_weights_equal_ignore_for_one_hot_codes_and_ease_near_values():
    stack, code, rule, x, y = make("classify")
    _, _, soft, _, _ = make("classify", push_weight="code")
    a, la = rule.layer_losses(stack, code, x, y)
    b, lb = soft.layer_losses(stack, code, x, y)
    for i in a:  # one-hot codes: 1 - cos is 0 for the same label and 1 otherwise, i.e. same_class=ignore
        assert torch.allclose(a[i], b[i])
    stack, code, rule, x, y = make("regress")
    _, _, soft, _, _ = make("regress", push_weight="code")
    _, la = rule.layer_losses(stack, code, x, y)
    _, lb = soft.layer_losses(stack, code, x, y)
    assert torch.equal(la["reco/pull_1"], lb["reco/pull_1"])
    assert 0 < lb["reco/push_1"] < la["reco/push_1"]  # overlapping population codes are pushed less
    with pytest.raises(ValueError, match="push_weight"):
        model_config("rnn", reco={"push_weight": "soft", "lam": 0.6})


def test_a_code_margin_pushes_near_values_less_and_leaves_the_pull_alone():
    terms = {}
    for margin in ("zero", "code"):
        stack, code, rule, x, y = make("regress", margin=margin)
        terms[margin] = rule.layer_losses(stack, code, x, y)[1]
    for i in (1, 2):
        assert torch.equal(terms["code"][f"reco/pull_{i}"], terms["zero"][f"reco/pull_{i}"])
        assert terms["code"][f"reco/push_{i}"] < terms["zero"][f"reco/push_{i}"]


@pytest.mark.parametrize("center", ["none", "batch"])
def test_a_code_margin_compares_codes_centred_as_reco_compares_the_layer(monkeypatch, center):
    import bsd.rules.seq_bsd as seq
    from bsd.losses import code_cosines

    seen = []
    real = seq.grouped_reco_terms

    def spy(v, v_hat, labels, same_class, axis, push_w, margin, offset=0):
        seen.append(margin)
        return real(v, v_hat, labels, same_class, axis, push_w, margin, offset)

    monkeypatch.setattr(seq, "grouped_reco_terms", spy)
    stack, code, rule, x, y = make("regress", margin="code", on="spikes", center=center)
    rule.layer_losses(stack, code, x, y)
    codes = code.vectors(y.transpose(0, 1).reshape(-1)).reshape(y.shape[1], y.shape[0], -1)
    if center == "batch":  # centred rates are compared: so are the codes, and unlike pairs get negative margins
        codes = codes - codes.mean(1, keepdim=True)
    want = code_cosines(codes)
    assert len(seen) == 2 and all(torch.allclose(m, want) for m in seen)
    assert (want.min() < 0) == (center == "batch")


def test_reco_on_own_rates_changes_the_hidden_terms_only():
    """model.reco.on=spikes compares the rates each dendrite drives through the layer's own LIF."""
    _, _, volt, x, y = make()
    stack, code, spk, _, _ = make(on="spikes")
    lv, gv = volt.layer_losses(stack, code, x, y)
    ls, gs = spk.layer_losses(stack, code, x, y)
    assert ls[0].item() == pytest.approx(lv[0].item()) and ls[3].item() == pytest.approx(lv[3].item())
    assert gs["reco/pull_1"].item() != pytest.approx(gv["reco/pull_1"].item())
    rates = spk.own_rates(stack.hidden[0], torch.randn(2, 5, 16))
    assert torch.equal(rates * 3, (rates * 3).round()) and rates.min() >= 0 and rates.max() <= 1  # counts / T


@pytest.mark.parametrize("rule_name", ["bsd", "bp_snn", "bp_ann"])
def test_readout_skip_reads_the_stimulus_beside_the_top_spikes(rule_name):
    torch.manual_seed(0)
    code, x, y = PopulationCode(8), torch.randn(10, 6, 4), torch.randn(10, 6)
    stack = SeqStack(4, [16], 1, code.dim, LIF, norm="batch", readout_skip=True)
    assert stack.readout.basal.in_features == 16 + 4
    rule = make_rule(
        "seq", rule_name, model_config("rnn", T=3, reco={"lam": 0.1, "on": "spikes", "center": "batch"}), "regress"
    )
    spikes, _ = rule.run(stack, x)
    w, b = stack.readout.basal.weight, stack.readout.basal.bias
    top, stim = reduce_positions(spikes[-1], rule.T), reduce_positions(spikes[0], rule.T)
    want = top @ w[:, :16].T + stim @ w[:, 16:].T + b
    assert torch.allclose(rule.readout(stack, spikes), want, atol=1e-6)
    with torch.no_grad():  # the stimulus columns matter: zeroing them changes the forecast
        w[:, 16:] = 0
    assert not torch.allclose(rule.readout(stack, spikes), want, atol=1e-4)
    if rule_name == "bsd":  # still one local loss per layer (C2): the readout's MSE reaches W_L only
        losses, _ = rule.layer_losses(stack, code, x, y)
        assert_losses_are_local(stack, losses)


def test_day_bins_split_the_day_into_equal_consecutive_parts():
    from bsd.coding import day_bins

    day = torch.arange(48) / 48.0  # the half-hours of one day
    b = day_bins(torch.sin(2 * torch.pi * day), torch.cos(2 * torch.pi * day), 8)
    assert torch.equal(b, torch.arange(48) // 6)


def test_a_gated_code_puts_the_target_in_its_bins_block_and_keeps_the_losses_local():
    from bsd.coding import GatedCode

    base = PopulationCode(8, shape="ramp")
    code = GatedCode(base, 4)
    y, bins = torch.tensor([0.5, 0.5, -1.0]), torch.tensor([0, 3, 3])
    v = code.vectors(y, bins).reshape(3, 4, 8)
    assert torch.allclose(v[0, 0], base.vectors(y)[0]) and torch.equal(v[1, 3], v[0, 0])
    assert v[0, 1:].abs().sum() == 0 and v[1, :3].abs().sum() == 0
    assert code.group(y, bins).unique().numel() == 3  # the same value in two bins is two groups
    kept = GatedCode(base, 4, keep_base=True)
    assert kept.dim == 5 * 8 and torch.equal(kept.vectors(y, bins)[:, 8:], code.vectors(y, bins))
    assert torch.allclose(kept.vectors(y, bins)[:, :8], base.vectors(y))
    # a forecaster whose first two input columns are the time of day's sine and cosine
    torch.manual_seed(0)
    phase = torch.rand(10, 6) * 2 * torch.pi
    x = torch.cat([torch.sin(phase)[..., None], torch.cos(phase)[..., None], torch.randn(10, 6, 2)], -1)
    stack = SeqStack(4, [16, 12], 1, code.dim, LIF, norm="batch")
    rule = make_rule(
        "seq",
        "bsd",
        model_config("rnn", T=3, reco={"lam": 0.1, "on": "spikes", "center": "batch"}),
        "regress",
        day_columns=(0, 1),
    )
    losses, _ = rule.layer_losses(stack, code, x, torch.randn(10, 6))
    assert_losses_are_local(stack, losses)
    bins = rule.context_bins(code, x)
    assert bins.shape == (60,) and bins.unique().numel() > 1
    with pytest.raises(ValueError, match="time of day"):
        make_rule("seq", "bsd", model_config("rnn", T=3, reco={"lam": 0.6}), "regress").context_bins(code, x)


def test_an_assigned_theta_gives_each_unit_the_target_of_its_own_block_only():
    from bsd.coding import GatedCode

    code = GatedCode(PopulationCode(8, shape="ramp"), 4)
    mask = code.unit_mask(10)
    assert mask.shape == (10, 32) and torch.equal(mask.sum(1), torch.full((10,), 8.0))
    assert torch.equal(mask[5, 8:16], torch.ones(8)) and mask[5, :8].sum() == 0  # unit 5 -> block 1
    stack = SeqStack(4, [10], 1, code.dim, LIF, norm="none")
    top = stack.hidden[-1]
    top.restrict_apical(mask)
    assert (top.apical.weight[mask == 0] == 0).all()
    y, bins = torch.tensor([0.3, 0.3]), torch.tensor([1, 2])
    v = top.apical_voltage(code.vectors(y, bins))
    bias = top.apical.bias.detach()
    # a sample in block 1 drives only the units of block 1 (1, 5, 9) beyond their bias, and only those learn from it
    assert torch.allclose(v[0, [0, 2, 3, 4, 6, 7, 8]], bias[[0, 2, 3, 4, 6, 7, 8]])
    assert not torch.allclose(v[0, [1, 5, 9]], bias[[1, 5, 9]])
    v[0].sum().backward()
    g = top.apical.weight.grad
    assert (g[mask == 0] == 0).all() and g[[1, 5, 9]].abs().sum() > 0 and g[[0, 2, 3]].abs().sum() == 0
    with pytest.raises(ValueError, match="apical mask of shape"):
        top.restrict_apical(mask[:, :8])
    kept = GatedCode(PopulationCode(8, shape="ramp"), 4, keep_base=True).unit_mask(10)
    assert torch.equal(kept[:, :8], torch.ones(10, 8)) and torch.equal(kept[:, 8:], mask)


def test_halfspace_contexts_are_the_sides_of_fixed_random_hyperplanes():
    from bsd.coding import GatedCode

    base = PopulationCode(8, shape="ramp")
    code = GatedCode(base, 8, context="halfspace", in_dim=5, seed=3)
    again = GatedCode(base, 8, context="halfspace", in_dim=5, seed=3)
    assert code.planes.shape == (5, 3) and torch.equal(code.planes, again.planes)  # rebuilt, not learned
    x = torch.randn(400, 5)
    bins = code.halfspace_bins(x)
    side = (x @ code.planes > 0).long()
    assert torch.equal(bins, side[:, 0] + 2 * side[:, 1] + 4 * side[:, 2])
    assert bins.unique().numel() == 8 and torch.equal(code.halfspace_bins(-x), 7 - bins)  # opposite sides
    rule = make_rule(
        "seq", "bsd", model_config("rnn", T=2, reco={"lam": 0.6}), "regress"
    )  # no time-of-day columns needed
    xs = x.reshape(20, 20, 5)
    assert torch.equal(rule.context_bins(code, xs), code.halfspace_bins(xs.transpose(0, 1).reshape(-1, 5)))
    with pytest.raises(ValueError, match="power of two"):
        GatedCode(base, 6, context="halfspace", in_dim=5)
    with pytest.raises(ValueError, match="model.code.context must be one of"):
        GatedCode(base, 8, context="month", in_dim=5)


def test_week_bins_split_weekdays_and_weekends_into_parts_of_the_day():
    import pandas as pd

    from bsd.coding import GatedCode, week_bins
    from bsd.data.series_sources import calendar_features

    t = pd.date_range("2024-01-01", periods=48 * 7, freq="30min")  # a Monday at midnight, then one week
    c = torch.tensor(calendar_features(t))
    b = week_bins(c[:, 0], c[:, 1], c[:, 2], c[:, 3], 8).reshape(7, 48)
    parts = torch.arange(48) // 12
    assert torch.equal(b[:5], parts.expand(5, 48)) and torch.equal(b[5:], (parts + 4).expand(2, 48))
    code = GatedCode(PopulationCode(8, shape="ramp"), 8, context="week")
    rule = make_rule("seq", "bsd", model_config("rnn", T=2, reco={"lam": 0.6}), "regress", day_columns=(0, 1, 2, 3))
    assert torch.equal(
        rule.context_bins(code, c.float().reshape(7, 48, 4)), b.reshape(7, 48).transpose(0, 1).reshape(-1)
    )
    with pytest.raises(ValueError, match="dow_sin and dow_cos"):
        make_rule(
            "seq", "bsd", model_config("rnn", T=2, reco={"lam": 0.6}), "regress", day_columns=(0, 1)
        ).context_bins(code, c.float().reshape(7, 48, 4))
    with pytest.raises(ValueError, match="even context_bins"):
        GatedCode(PopulationCode(8), 5, context="week")


@pytest.mark.parametrize("rule_name", ["bsd", "bp_snn", "bp_ann"])
def test_a_context_gate_silences_each_unit_outside_its_part_of_the_day(rule_name):
    torch.manual_seed(0)
    K, H = 4, 12
    phase = torch.rand(10, 6) * 2 * torch.pi
    x = torch.cat([torch.sin(phase)[..., None], torch.cos(phase)[..., None], torch.randn(10, 6, 2)], -1)
    code = PopulationCode(8, shape="ramp")
    stack = SeqStack(4, [H], 1, code.dim, {**LIF, "reset": "soft"}, norm="batch")
    rule = make_rule(
        "seq",
        rule_name,
        model_config("rnn", T=3, reco={"lam": 0.1, "on": "spikes", "center": "batch"}),
        "regress",
        day_columns=(0, 1),
        gate_bins=K,
    )
    gate = rule.unit_gates(x, H)  # [P, B, H]
    from bsd.coding import day_bins

    part = day_bins(torch.sin(phase), torch.cos(phase), K).transpose(0, 1)  # [P, B]
    assert gate.shape == (6, 10, H)
    assert torch.equal(gate, (part[..., None] == torch.arange(H) % K).float())
    assert torch.equal(gate.sum(-1), torch.full((6, 10), H / K))  # three units open per step
    spikes, _ = rule.run(stack, x)
    closed = gate.repeat_interleave(rule.T, 0) == 0
    assert spikes[1].sum() > 0 and (spikes[1][closed] == 0).all()
    # samples all in part 0: only units 0, 4, 8 may learn anything from them
    x0 = x.clone()
    x0[..., 0], x0[..., 1] = 0.3, 1.0
    stack.zero_grad()
    loss, _ = rule.loss(stack, code, x0, torch.randn(10, 6))
    loss.backward()
    g = stack.hidden[0].basal.weight.grad
    assert g[[0, 4, 8]].abs().sum() > 0 and (g[[1, 2, 3, 5, 6, 7, 9, 10, 11]] == 0).all()
    assert (stack.readout.basal.weight.grad[0, [1, 2, 3]] == 0).all()  # closed units never reach the readout


def test_a_context_gate_needs_the_time_of_day():
    with pytest.raises(ValueError, match="model.context_gate needs"):
        make_rule("seq", "bsd", model_config("rnn", T=2, reco={"lam": 0.6}), "regress", gate_bins=4)
    with pytest.raises(ValueError, match="model.context_gate needs"):
        make_rule(
            "seq", "bsd", model_config("rnn", T=2, reco={"lam": 0.6}), "classify", day_columns=(0, 1), gate_bins=4
        )


@pytest.mark.parametrize("rule_name", ["bsd", "bp_snn", "bp_ann"])
def test_halfspace_gates_open_each_unit_on_its_own_side_of_its_own_planes(rule_name):
    torch.manual_seed(1)
    K, m, H, F = 2, 2, 16, 5
    phase = torch.rand(9, 7) * 2 * torch.pi
    x = torch.cat([torch.sin(phase)[..., None], torch.cos(phase)[..., None], torch.randn(9, 7, F - 2)], -1)
    stack = SeqStack(F, [H], 1, 8, {**LIF, "reset": "soft"}, norm="batch")
    rule = make_rule(
        "seq",
        rule_name,
        model_config("rnn", T=2, reco={"lam": 0.1, "on": "spikes", "center": "batch"}),
        "regress",
        day_columns=(0, 1),
        gate_bins=K,
        gate_planes=m,
        gate_seed=3,
    )
    gate = rule.unit_gates(x, H)
    from bsd.coding import day_bins

    w = rule.planes(0, F, H)[0].reshape(F, H, m)
    part = day_bins(torch.sin(phase), torch.cos(phase), K).transpose(0, 1)  # [P, B]
    xs = x.transpose(0, 1)
    for j in (0, 5, 11):  # unit j: part j mod K of the day, side pattern (j // K) mod 2^m of its own two planes
        side = (xs @ w[:, j] > 0).long()  # [P, B, m]
        want = (part == j % K) & ((side[..., 0] + 2 * side[..., 1]) == (j // K) % 4)
        assert torch.equal(gate[..., j], want.float())
    # every step opens exactly one of each K * 2^m = 8 consecutive units' contexts only if their planes agree; the
    # planes differ per unit, so the count varies, but no step opens a unit of another part of the day
    assert ((gate * (part[..., None] != torch.arange(H) % K)) == 0).all() and 0 < gate.mean() < 0.5
    # the same seed rebuilds the same gates; another seed or layer draws other planes
    again = make_rule(
        "seq",
        rule_name,
        model_config("rnn", T=2, reco={"lam": 0.6}),
        "regress",
        day_columns=(0, 1),
        gate_bins=K,
        gate_planes=m,
        gate_seed=3,
    )
    assert torch.equal(again.unit_gates(x, H), gate)
    assert not torch.equal(rule.planes(1, F, H)[0], rule.planes(0, F, H)[0])
    spikes, _ = rule.run(stack, x)
    assert spikes[1].sum() > 0 and (spikes[1][gate.repeat_interleave(rule.T, 0) == 0] == 0).all()
    # planes alone (no day gate) need no calendar columns
    alone = make_rule("seq", rule_name, model_config("rnn", T=2, reco={"lam": 0.6}), "regress", gate_planes=1)
    g1 = alone.unit_gates(x, H)
    w1 = alone.planes(0, F, H)[0]  # [F, H]: one plane per unit, unit j open on side j mod 2
    assert torch.equal(g1, ((xs @ w1 > 0).long() == torch.arange(H) % 2).float())


def test_halfspace_gates_refuse_text_and_bad_counts():
    with pytest.raises(ValueError, match="model.gate_planes must be >= 0 and needs a forecast"):
        make_rule("seq", "bsd", model_config("rnn", T=2, reco={"lam": 0.6}), "classify", gate_planes=2)
    with pytest.raises(ValueError, match="model.gate_planes must be >= 0"):
        make_rule("seq", "bsd", model_config("rnn", T=2, reco={"lam": 0.6}), "regress", gate_planes=-1)


def test_halfspace_gates_can_read_chosen_columns_through_random_points():
    torch.manual_seed(2)
    H, F = 12, 4
    x = torch.randn(5, 3, F)
    rule = make_rule(
        "seq",
        "bsd",
        model_config("rnn", T=2, reco={"lam": 0.6}),
        "regress",
        gate_planes=1,
        gate_seed=4,
        gate_columns=(2,),
        gate_offset=True,
    )
    w, b = rule.planes(0, 1, H)  # one column read: each unit's plane is a threshold on column 2
    assert w.shape == (1, H) and b.shape == (H,) and (b != 0).all()
    gate = rule.unit_gates(x, H)
    xs = x.transpose(0, 1)[..., 2:3]  # [P, B, 1]
    assert torch.equal(gate, ((xs * w + b > 0).long() == torch.arange(H) % 2).float())
    # the other columns do not matter
    y = x.clone()
    y[..., [0, 1, 3]] = torch.randn(5, 3, 3)
    assert torch.equal(rule.unit_gates(y, H), gate)
    origin = make_rule(
        "seq",
        "bsd",
        model_config("rnn", T=2, reco={"lam": 0.6}),
        "regress",
        gate_planes=1,
        gate_seed=4,
        gate_columns=(2,),
    )
    assert (origin.planes(0, 1, H)[1] == 0).all()  # through the origin unless asked otherwise


@pytest.mark.parametrize("rule_name", ["bsd", "bp_snn", "bp_ann"])
def test_without_recurrence_no_rule_trains_w_h(rule_name):
    torch.manual_seed(0)
    code = PopulationCode(8)
    stack = SeqStack(4, [12], 1, code.dim, LIF, norm="batch", recurrent_gain=0.0)
    rule = make_rule("seq", rule_name, model_config("rnn", T=3, reco={"lam": 0.1}), "regress")
    loss, _ = rule.loss(stack, code, torch.randn(10, 6, 4), torch.randn(10, 6))
    loss.backward()
    assert stack.hidden[0].recurrent.weight.grad is None and stack.hidden[0].basal.weight.grad.abs().sum() > 0


def _hidden_grads(rule, stack, code, x, y):
    stack.zero_grad()
    losses, _ = rule.layer_losses(stack, code, x, y)
    values = {i: float(v.detach()) for i, v in losses.items()}
    sum(losses.values()).backward()
    layer = stack.hidden[0]
    return values, layer.basal.weight.grad.clone(), layer.recurrent.weight.grad.clone()


@pytest.mark.parametrize("task,T", [("regress", 3), ("classify", 1)])
def test_credit_through_time_keeps_the_losses_and_local_but_trains_earlier_positions(task, T):
    stack, code, _, x, y = make(task, widths=(12,), T=T, on="spikes", center="batch", norm="batch")
    grads = {}
    for k, feedback in [(0, "transport"), (1, "transport"), (3, "transport"), (3, "random")]:
        cfg = model_config(
            "rnn",
            T=T,
            reco={"lam": 0.1, "on": "spikes", "center": "batch", "through_time": k, "time_feedback": feedback},
        )
        rule = make_rule("seq", "bsd", cfg, task)
        losses, _ = rule.layer_losses(stack, code, x, y)
        assert_losses_are_local(stack, losses)  # no gradient crosses layers, through time or not
        grads[k, feedback] = _hidden_grads(rule, stack, code, x, y)
    base = grads[0, "transport"]
    for key, (values, g_x, g_h) in grads.items():
        assert values == pytest.approx(base[0], rel=1e-6), key  # the forward values are the spikes', whatever k
        if key != (0, "transport"):
            assert not torch.allclose(g_x, base[1]), key  # earlier positions' W_x now get credit
            assert not torch.allclose(g_h, base[2]), key
    assert not torch.allclose(grads[1, "transport"][1], grads[3, "transport"][1])
    assert not torch.allclose(grads[3, "transport"][1], grads[3, "random"][1])


def test_credit_through_time_reaches_back_exactly_k_positions():
    """Position 4's ReCo alone: with k = 2 its gradient reaches W_x through positions 3 and 2, not 1 or 0."""
    stack, code, _, x, y = make("regress", widths=(12,), T=1, on="spikes", center="batch", norm="batch")
    layer = stack.hidden[0]
    rule = make_rule(
        "seq", "bsd", model_config("rnn", T=1, reco={"on": "spikes", "through_time": 2, "lam": 0.6}), "regress"
    )
    spikes, _ = rule.run(stack, x)
    s_in = reduce_positions(spikes[0], 1).requires_grad_(True)
    h = rule.credited_previous(layer, s_in, reduce_positions(previous_step(spikes[1]), 1), None, None)
    v = layer.basal_reduced(s_in, h)
    (g,) = torch.autograd.grad(v[4].square().sum(), s_in)
    reached = g.abs().sum((1, 2)) > 0
    assert reached.tolist() == [False, False, True, True, True, False]


def _forward_path(T=1, k=0, on="spikes", feedback="transport", task="regress", widths=(12, 10)):
    stack, code, _, x, y = make(task, widths=widths, T=T, on=on, center="batch", norm="batch")
    cfg = model_config(
        "rnn",
        T=T,
        reco={
            "lam": 0.1,
            "on": on,
            "center": "batch",
            "through_time": k,
            "time_feedback": feedback,
            "time_path": "forward",
        },
    )
    return stack, code, make_rule("seq", "bsd", cfg, task), x, y


@pytest.mark.parametrize("on,T,task", [("spikes", 1, "regress"), ("spikes", 3, "regress"), ("voltage", 2, "classify")])
def test_forward_time_path_runs_the_forward_stream_itself_and_stays_local(on, T, task):
    stack, code, rule, x, y = _forward_path(T=T, k=2, on=on, task=task)
    spikes, volts = rule.run_local(stack, x, None, [None, None])
    ref, _ = rule.run(stack, x)  # the no-graph forward stream (evaluation is the same code)
    for a, b in zip(spikes, ref, strict=True):
        assert torch.equal(a.detach(), b)  # the values ReCo reads are the forward stream's, carried membrane included
    assert (volts[1] is not None) == (on == "voltage") and volts[0] is None
    losses, _ = rule.layer_losses(stack, code, x, y)
    assert_losses_are_local(stack, losses)  # no gradient crosses layers


def test_forward_time_path_credits_back_to_the_cut_every_k_plus_1_positions():
    """Position 4's voltage reaches back to the start of its block of k + 1 positions (k = 2: blocks 0-2 and 3-5)."""
    torch.manual_seed(0)
    stack = SeqStack(4, [12], 1, PopulationCode(8).dim, LIF, norm="batch", recurrent_gain=1.0)
    x = torch.randn(10, 6, 4)
    for k, first in [(0, 4), (2, 3), (5, 0), (50, 0)]:
        rule = make_rule(
            "seq",
            "bsd",
            model_config("rnn", T=2, reco={"on": "spikes", "through_time": k, "time_path": "forward", "lam": 0.6}),
            "regress",
        )
        s_in = rule.encode(x).requires_grad_(True)
        layer = stack.hidden[0]
        _, v, _ = layer.simulate(s_in, None, layer.lif_soma, None, rule.T * (k + 1), keep_voltage=True)
        (g,) = torch.autograd.grad(v[8:10].square().sum(), s_in)  # position 4's two steps
        reached = (g.abs().sum((1, 2)) > 0).reshape(6, 2).any(1)
        assert reached.tolist() == [p >= first and p <= 4 for p in range(6)], k


def test_forward_time_path_trains_earlier_positions_unlike_per_position():
    grads = {}
    for k, feedback in [(0, "transport"), (3, "transport"), (3, "random")]:
        stack, code, rule, x, y = _forward_path(k=k, feedback=feedback, widths=(12,))
        stack.hidden[0].recurrent.weight.data.mul_(10.0)  # a recurrence loud enough to carry credit
        values, g_x, g_h = _hidden_grads(rule, stack, code, x, y)
        grads[k, feedback] = values, g_x, g_h
    base = grads[0, "transport"]
    for key, (values, g_x, g_h) in grads.items():
        assert values == pytest.approx(base[0], rel=1e-6), key  # the cut changes the credit, not the values
    assert not torch.allclose(grads[3, "transport"][1], base[1])
    assert not torch.allclose(grads[3, "transport"][1], grads[3, "random"][1])


def test_forward_time_path_is_checked():
    with pytest.raises(ValueError, match="reco.time_path"):
        model_config("rnn", reco={"time_path": "backward", "lam": 0.6})


def test_random_time_feedback_sends_the_gradient_through_its_own_matrix():
    from bsd.recurrent import feedback_linear

    torch.manual_seed(0)
    h = torch.randn(5, 3, 4, requires_grad=True)
    w = torch.randn(6, 4, requires_grad=True)
    b = torch.randn(6, 4)
    g = torch.randn(5, 3, 6)
    out = feedback_linear(h, w, b)
    assert torch.allclose(out, h @ w.t())
    gh, gw = torch.autograd.grad(out, (h, w), g)
    assert torch.allclose(gh, g @ b) and torch.allclose(gw, torch.einsum("pbo,pbi->oi", g, h), atol=1e-6)
    gh_t, gw_t = torch.autograd.grad(feedback_linear(h, w, None), (h, w), g)  # transport: W itself
    assert torch.allclose(gh_t, g @ w) and torch.allclose(gw_t, gw, atol=1e-6)


def test_credit_through_time_settings_are_checked():
    with pytest.raises(ValueError, match="through_time"):
        model_config("rnn", reco={"through_time": -1, "lam": 0.6})
    with pytest.raises(ValueError, match="time_feedback"):
        model_config("rnn", reco={"through_time": 1, "time_feedback": "mirror", "lam": 0.6})


@pytest.mark.parametrize("rule_name", ["bp_snn", "bp_ann"])
def test_per_position_bp_credit_stops_the_gradient_at_each_positions_carried_state(rule_name):
    torch.manual_seed(0)
    stack = SeqStack(4, [12], 1, PopulationCode(8).dim, LIF, norm="layer", recurrent_gain=1.0)
    x = torch.randn(10, 6, 4, requires_grad=True)
    outs, grads = {}, {}
    for credit in ("sequence", "position"):
        rule = make_rule(
            "seq", rule_name, model_config("rnn", rule=rule_name, T=3, bp_credit=credit, reco={"lam": 0.6}), "regress"
        )
        out = rule.readout(stack, rule.run(stack, x)[0])  # [P, B, 1]
        (grads[credit],) = torch.autograd.grad(out[-1].sum(), x)
        outs[credit] = out.detach()
    assert torch.equal(outs["sequence"], outs["position"])  # the forward values are the same
    assert grads["sequence"][:, :-1].abs().sum() > 0  # through time: earlier inputs get credit
    assert grads["position"][:, :-1].abs().sum() == 0 and grads["position"][:, -1].abs().sum() > 0


def test_per_position_bp_credit_is_checked_and_not_for_bsd():
    with pytest.raises(ValueError, match="bp_credit"):
        model_config("rnn", T=1, bp_credit="window", reco={"lam": 0.6})
    with pytest.raises(ValueError, match="bsd's own setting is model.reco.through_time"):
        make_rule("seq", "bsd", model_config("rnn", T=1, bp_credit="position", reco={"lam": 0.6}), "regress")


def test_credit_through_w_h_transposed_gives_up_c1_and_random_feedback_keeps_it():
    def crit(k, feedback="transport"):
        return make_rule(
            "seq",
            "bsd",
            model_config("rnn", T=1, reco={"through_time": k, "time_feedback": feedback, "lam": 0.6}),
            "classify",
        ).criteria

    assert crit(0) == ("C1", "C2", "C3", "C4", "C5") and crit(2, "random") == crit(0)
    assert crit(1) == ("C2", "C3", "C4", "C5")


def test_free_units_have_no_target_and_learn_only_through_time():
    stack, code, _, x, y = make("regress", widths=(12,), T=2, on="spikes", center="batch", norm="batch")
    stack.hidden[0].recurrent.weight.data.mul_(10.0)  # a recurrence loud enough to carry credit
    cfg = model_config(
        "rnn",
        T=2,
        reco={
            "lam": 0.1,
            "on": "spikes",
            "center": "batch",
            "through_time": 5,
            "time_path": "forward",
            "free_units": 0.25,
        },
    )
    rule = make_rule("seq", "bsd", cfg, "regress")
    losses, _ = rule.layer_losses(stack, code, x, y)
    assert_losses_are_local(stack, losses)
    stack.zero_grad()
    losses[1].backward()
    layer = stack.hidden[0]
    assert layer.apical.weight.grad[:9].abs().sum() > 0 and layer.apical.weight.grad[9:].abs().sum() == 0  # no target
    assert layer.basal.weight.grad[9:].abs().sum() > 0  # what they carry to the ReCo units later is credited
    # the loss reads the first 9 units only: the same layer with every unit in ReCo gives another value
    every = make_rule(
        "seq",
        "bsd",
        model_config(
            "rnn", T=2, reco={"lam": 0.1, "on": "spikes", "center": "batch", "through_time": 5, "time_path": "forward"}
        ),
        "regress",
    )
    assert float(every.layer_losses(stack, code, x, y)[0][1]) != pytest.approx(float(losses[1]))
    with pytest.raises(ValueError, match="free_units"):
        model_config("rnn", reco={"free_units": 1.0, "through_time": 1, "lam": 0.6})
    with pytest.raises(ValueError, match="through_time >= 1"):
        model_config("rnn", reco={"free_units": 0.5, "lam": 0.6})


@pytest.mark.parametrize(("path", "k", "T", "feedback", "c1"), [
    ("forward", 0, 2, "transport", False),  # credit runs between the two steps of a position through W_h itself
    ("forward", 0, 2, "random", True),
    ("forward", 0, 1, "transport", True),   # one step per position and a cut at every position: no credit in time
    ("forward", 3, 1, "transport", False),
    ("rest", 0, 2, "transport", True),      # the spec's per-position ReCo
    ("rest", 2, 1, "transport", False),
    ("rest", 2, 1, "random", True),
    ("forward", 0, 2, "trace", True),      # between the steps of a position: each unit's own membrane only
    ("forward", 6, 1, "trace", True),      # through the whole sequence: an eligibility trace, no matrix
])
def test_c1_reported_is_c1_by_behaviour_the_recurrent_weight_never_carries_credit(path, k, T, feedback, c1):
    """The rule's reported C1 agrees with its graph: no layer's loss sends a gradient back through W_h."""
    from tests.rules import weights_carrying_credit

    torch.manual_seed(0)
    cfg = model_config("rnn", T=T, reco={"lam": 0.1, "on": "spikes", "center": "batch", "time_path": path,
                                         "through_time": k, "time_feedback": feedback})
    stack = SeqStack(7, [12], 7, 7, LIF, norm="batch", recurrent_gain=1.0)
    rule = make_rule("seq", "bsd", cfg, "classify")
    x = torch.nn.functional.one_hot(torch.randint(0, 7, (10, 6)), 7).float()
    losses, _ = rule.layer_losses(stack, LabelCode(7), x, torch.randint(0, 7, (10, 6)))
    layer = stack.hidden[0]
    carried = weights_carrying_credit(losses[1], {"W_h": layer.recurrent.weight, "W_x": layer.basal.weight})
    assert ("C1" in rule.criteria) == c1
    assert ("W_h" not in carried) == c1, carried
    assert "W_x" not in carried  # the input map's credit never goes below the layer (C2)


def test_the_trace_credits_earlier_inputs_through_the_membrane_alone():
    """time_feedback=trace: a position's ReCo trains W_x on earlier inputs through each unit's own membrane.

    With the membrane carried over positions (``through_time`` = the length) the gradient differs from the one cut
    at every position, and no gradient reaches the spikes that W_h reads (their feedback is detached).
    """
    def grads(k: int, feedback: str):
        torch.manual_seed(0)
        cfg = model_config("rnn", T=1, reco={"lam": 0.1, "on": "spikes", "center": "batch", "time_path": "forward",
                                             "through_time": k, "time_feedback": feedback})
        stack = SeqStack(7, [12], 7, 7, LIF, norm="batch", recurrent_gain=1.0)
        rule = make_rule("seq", "bsd", cfg, "classify")
        g = torch.Generator().manual_seed(1)
        x = torch.nn.functional.one_hot(torch.randint(0, 7, (10, 6), generator=g), 7).float()
        losses, _ = rule.layer_losses(stack, LabelCode(7), x, torch.randint(0, 7, (10, 6), generator=g))
        layer = stack.hidden[0]
        return torch.autograd.grad(losses[1], [layer.basal.weight, layer.recurrent.weight])

    cut, trace, transport = grads(0, "trace"), grads(6, "trace"), grads(6, "transport")
    assert not torch.allclose(cut[0], trace[0]) and not torch.allclose(trace[0], transport[0])
    assert all(torch.isfinite(t).all() and t.abs().sum() > 0 for t in trace)
