"""Options of the bsd rule beyond the paper: ReCo on batch-centred voltages, fixed apical weights."""

import pytest
import torch

from bsd.ae_module import build_ae_from_config
from bsd.coding import LabelCode
from bsd.module import build_from_config, rule_config
from bsd.seq_module import build_seq_from_config
from tests.conftest import compose
from tests.rules import assert_losses_are_local
from tests.rules.test_plausibility import make
from tests.rules.test_seq import make as make_seq


def assert_refused(experiment: str, cfg, match: str) -> None:
    """Building ``experiment``'s model from ``cfg`` stops with a ValueError matching ``match``."""
    with pytest.raises(ValueError, match=match):
        if experiment == "mnist_ae":
            build_ae_from_config(cfg.model, (1, 28, 28))
        else:
            build_from_config(cfg.model, (1, 28, 28), 10)


def _terms(arch, center, term="pull"):
    stack, code, rule, x, y = make(arch, reco_center=center)
    stack.train()
    _, logs = rule.layer_losses(stack, code, x, y)
    return torch.stack([logs[f"reco/{term}_{i}"] for i in range(1, stack.depth)])


@pytest.mark.parametrize("center", ["batch", "push"])
@pytest.mark.parametrize("term", ["pull", "push"])
def test_centring_is_a_no_op_where_batch_norm_already_centres_every_unit(center, term):
    assert torch.allclose(_terms("mlp", "none", term), _terms("mlp", center, term), atol=1e-5)


def test_centring_changes_the_terms_of_conv_maps():
    conv, fc = slice(0, 2), slice(2, None)  # two conv layers; the fc layer is centred by its batch norm
    none, batch, push = ({t: _terms("cnn", c, t) for t in ("pull", "push")} for c in ("none", "batch", "push"))
    for t in ("pull", "push"):
        assert not torch.allclose(none[t][conv], batch[t][conv], atol=1e-3)
        assert torch.allclose(none[t][fc], batch[t][fc], atol=1e-5)
    assert torch.allclose(push["pull"], none["pull"])  # center=push: raw pull, centred push
    assert torch.allclose(push["push"], batch["push"])


def test_centring_of_the_frequency_bands_follows_the_same_rule():
    kw = dict(freq_cutoff=0.25)
    logs = {}
    for c in ("none", "batch", "push"):
        stack, code, rule, x, y = make("cnn", reco_center=c, **kw)
        logs[c] = rule.layer_losses(stack, code, x, y)[1]
    assert torch.allclose(logs["push"]["reco/pull_1"], logs["none"]["reco/pull_1"])
    assert torch.allclose(logs["push"]["reco/push_1"], logs["batch"]["reco/push_1"])
    assert not torch.allclose(logs["none"]["reco/push_1"], logs["batch"]["reco/push_1"])


def test_unknown_center_is_refused():
    with pytest.raises(ValueError, match="model.reco.center"):
        make("mlp", reco_center="sample")


def test_seq_centring_keeps_losses_local_and_splits_pull_and_push_like_the_stack():
    logs = {}
    for c in ("none", "batch", "push"):
        stack, code, rule, x, y = make_seq("regress", center=c, norm="batch")
        losses, logs[c] = rule.layer_losses(stack, code, x, y)
        assert_losses_are_local(stack, losses)
    for i in (1, 2):
        assert torch.allclose(logs["push"][f"reco/pull_{i}"], logs["none"][f"reco/pull_{i}"])
        assert torch.allclose(logs["push"][f"reco/push_{i}"], logs["batch"][f"reco/push_{i}"])


@pytest.mark.parametrize("experiment", ["mnist_mlp", "text_char", "mnist_ae"])
def test_fixed_theta_freezes_the_hidden_apical_weights_only(experiment):
    shape = "model.channels=[4, 4]" if experiment == "mnist_ae" else "model.widths=[16]"
    cfg = compose([f"+experiment={experiment}", "model.reco.theta=fixed", shape])
    if experiment == "text_char":
        stack, _, _ = build_seq_from_config(cfg.model, 10, 10, "classify")
    elif experiment == "mnist_ae":
        stack, _ = build_ae_from_config(cfg.model, (1, 28, 28))
    else:
        stack, _, _ = build_from_config(cfg.model, (1, 28, 28), 10)
    frozen = {id(p) for layer in stack.hidden for p in layer.apical_parameters()}
    assert frozen
    for p in stack.parameters():
        assert p.requires_grad == (id(p) not in frozen)
    assert all(p.requires_grad for p in stack.stimulus.apical_parameters())  # recall stays learned


def test_learned_theta_is_the_default_and_unknown_modes_are_refused():
    cfg = compose(["+experiment=mnist_mlp"])
    stack, _, _ = build_from_config(cfg.model, (1, 28, 28), 10)
    assert all(p.requires_grad for p in stack.parameters())
    cfg = compose(["+experiment=mnist_mlp", "model.reco.theta=frozen"])
    with pytest.raises(ValueError, match="model.reco.theta"):
        build_from_config(cfg.model, (1, 28, 28), 10)


@pytest.mark.parametrize("experiment", ["mnist_mlp", "mnist_ae"])
def test_code_weighted_push_is_refused_outside_the_rnn(experiment):
    cfg = compose([f"+experiment={experiment}", "model.reco.push_weight=code"])
    assert_refused(experiment, cfg, "push_weight='code' is implemented for model=rnn only")
    cfg = compose(["+experiment=timeseries_elec", "model.reco.push_weight=code", "model.widths=[16]"])
    assert build_seq_from_config(cfg.model, 5, 1, "regress")[2].cfg.push_weight == "code"


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_a_code_margin_with_one_hot_labels_is_same_class_ignore(arch):
    """Codes of one label have cosine 1 (never pushed), of two labels 0 (the paper's hinge)."""
    out = {}
    for margin, same_class in (("zero", "ignore"), ("code", "negative")):
        stack, code, rule, x, y = make(arch, push_margin=margin, same_class=same_class)
        losses, logs = rule.layer_losses(stack, code, x, y)
        assert_losses_are_local(stack, losses)
        out[margin] = torch.stack([logs[f"reco/{t}_{i}"] for t in ("pull", "push") for i in range(1, stack.depth)])
    assert torch.allclose(out["zero"], out["code"], atol=1e-6)


def test_a_code_margin_with_random_binary_codes_pushes_less():
    push = {}
    for margin in ("zero", "code"):
        stack, _, rule, x, y = make("mlp", push_margin=margin)
        code = LabelCode(10, "random_binary", 10, 0.5, 0)  # the stack's concept layer is 10 wide
        logs = rule.layer_losses(stack, code, x, y)[1]
        push[margin] = torch.stack([logs[f"reco/push_{i}"] for i in range(1, stack.depth)])
    assert (push["code"] < push["zero"]).all()


def test_pooling_compares_conv_maps_pooled_and_leaves_fc_layers_alone():
    plain, pooled = _terms("cnn", "none"), None
    stack, code, rule, x, y = make("cnn", reco_pool=1, reco_on="spikes")
    losses, logs = rule.layer_losses(stack, code, x, y)
    assert_losses_are_local(stack, losses)
    spikes = make("cnn", reco_on="spikes")
    ref = spikes[2].layer_losses(*spikes[:2], *spikes[3:])[1]
    pooled = torch.stack([logs[f"reco/pull_{i}"] for i in range(1, stack.depth)])
    whole = torch.stack([ref[f"reco/pull_{i}"] for i in range(1, stack.depth)])
    assert not torch.allclose(pooled[:2], whole[:2])  # two conv layers: pooled maps agree differently
    assert torch.allclose(pooled[2:], whole[2:])      # the fc layer is not pooled
    assert plain.shape == pooled.shape
    mlp = _terms("mlp", "none")
    stack, code, rule, x, y = make("mlp", reco_pool=2)
    got = rule.layer_losses(stack, code, x, y)[1]
    assert torch.allclose(torch.stack([got[f"reco/pull_{i}"] for i in range(1, stack.depth)]), mlp)


def test_pooling_is_refused_with_frequency_aware_reco_and_below_one():
    with pytest.raises(ValueError, match="model.reco.pool"):
        make("cnn", reco_pool=2, freq_cutoff=0.25)
    with pytest.raises(ValueError, match="model.reco.pool"):
        make("cnn", reco_pool=0)


def test_margin_and_pool_reach_the_rule_from_the_config():
    cfg = compose(["+experiment=mnist_cnn", "model.reco.margin=code", "model.reco.pool=2", "model.reco.on=spikes"])
    rule = build_from_config(cfg.model, (1, 28, 28), 10)[2]
    assert (rule.cfg.push_margin, rule.cfg.reco_pool, rule.cfg.reco_on) == ("code", 2, "spikes")
    cfg = compose(["+experiment=mnist_ae", "model.reco.margin=code"])
    assert build_ae_from_config(cfg.model, (1, 28, 28))[1].cfg.push_margin == "code"
    cfg = compose(["+experiment=timeseries_elec", "model.reco.margin=code", "model.widths=[16]"])
    assert build_seq_from_config(cfg.model, 5, 1, "regress")[2].cfg.push_margin == "code"
    assert build_from_config(compose(["+experiment=mnist_mlp"]).model, (1, 28, 28), 10)[2].cfg.push_margin == "zero"


def test_maps_no_larger_than_the_pool_grid_are_compared_as_they_are():
    # the 12 x 12 input gives conv maps of 6 x 6 and 3 x 3: a grid of 3 pools only the first
    got = {}
    for pool in (None, 3, 6):
        stack, code, rule, x, y = make("cnn", reco_pool=pool, reco_on="spikes")
        got[pool] = rule.layer_losses(stack, code, x, y)[1]
    assert torch.equal(got[6]["reco/pull_1"], got[None]["reco/pull_1"])
    assert not torch.equal(got[3]["reco/pull_1"], got[None]["reco/pull_1"])
    assert torch.equal(got[3]["reco/pull_2"], got[None]["reco/pull_2"])


def test_the_forecasters_codes_follow_their_config():
    """model.input_code.shape reaches the input code (it was ignored before 2026-12-03); aux horizons widen the code."""
    cfg = compose(["+experiment=timeseries_elec", "model.widths=[16]", "model.encoder=population",
                   "model.input_code.dim=4", "model.input_code.shape=ramp"])
    stack, code, rule = build_seq_from_config(cfg.model, 5, 3, "regress")
    assert rule.input_code.shape == "ramp" and rule.input_code.dim == 4
    assert code.targets == 3 and code.dim == 3 * int(cfg.model.code.dim)
    assert stack.readout.basal.out_features == 3


def test_the_forecasters_readout_skip_follows_its_config_and_refuses_a_non_boolean():
    cfg = compose(["+experiment=timeseries_elec", "model.widths=[16]", "model.readout_skip=true"])
    stack, _, _ = build_seq_from_config(cfg.model, 5, 1, "regress")
    assert stack.readout_skip and stack.readout.basal.in_features == 16 + 5
    cfg = compose(["+experiment=timeseries_elec", "model.widths=[16]"])
    assert build_seq_from_config(cfg.model, 5, 1, "regress")[0].readout.basal.in_features == 16
    cfg = compose(["+experiment=timeseries_elec", "model.widths=[16]", "model.readout_skip=maybe"])
    with pytest.raises(ValueError, match="model.readout_skip must be true or false"):
        build_seq_from_config(cfg.model, 5, 1, "regress")


def test_the_forecasters_context_bins_gate_its_code_by_the_time_of_day_and_refuse_what_cannot_work():
    from bsd.coding import GatedCode

    cols = ["Demand", "Temperature", "Holiday", "tod_sin", "tod_cos", "dow_sin", "dow_cos"]
    cfg = compose(["+experiment=timeseries_elec", "model.widths=[16]", "model.code.context_bins=8"])
    stack, code, rule = build_seq_from_config(cfg.model, 7, 1, "regress", cols)
    assert isinstance(code, GatedCode) and code.dim == 8 * int(cfg.model.code.dim)
    assert stack.hidden[-1].apical.in_features == code.dim and rule.day_columns == (3, 4)
    assert not isinstance(build_seq_from_config(compose(["+experiment=timeseries_elec", "model.widths=[16]"]).model,
                                                7, 1, "regress", cols)[1], GatedCode)  # off by default
    with pytest.raises(ValueError, match="tod_sin and tod_cos"):
        build_seq_from_config(cfg.model, 3, 1, "regress", cols[:3])
    with pytest.raises(ValueError, match="set it to 0 for text"):
        build_seq_from_config(compose(["+experiment=text_char", "model.code.context_bins=8"]).model, 7, 7, "classify")
    cfg = compose(["+experiment=timeseries_elec", "model.widths=[16]", "model.code.context_bins=8",
                   "model.code.context_keep=true"])
    assert build_seq_from_config(cfg.model, 7, 1, "regress", cols)[1].dim == 9 * int(cfg.model.code.dim)
    cfg = compose(["+experiment=timeseries_elec", "model.widths=[16]", "model.code.context_bins=8",
                   "model.code.context_assign=true"])
    stack, code, _ = build_seq_from_config(cfg.model, 7, 1, "regress", cols)
    assert torch.equal(stack.hidden[-1].apical_mask, code.unit_mask(16))
    assert build_seq_from_config(compose(["+experiment=timeseries_elec", "model.widths=[16]"]).model, 7, 1,
                                 "regress", cols)[0].hidden[-1].apical_mask is None  # off by default
    with pytest.raises(ValueError, match="context_assign=true assigns units"):
        build_seq_from_config(compose(["+experiment=timeseries_elec", "model.code.context_assign=true"]).model, 7, 1,
                              "regress", cols)
    cfg = compose(["+experiment=timeseries_elec", "model.widths=[16]", "model.code.context_bins=8",
                   "model.code.context=week"])
    assert build_seq_from_config(cfg.model, 7, 1, "regress", cols)[2].day_columns == (3, 4, 5, 6)
    with pytest.raises(ValueError, match="dow_sin and dow_cos"):
        build_seq_from_config(cfg.model, 5, 1, "regress", cols[:5])
    cfg = compose(["+experiment=timeseries_elec", "model.widths=[16]", "model.code.context_bins=4",
                   "model.code.context=halfspace"])
    _, code, rule = build_seq_from_config(cfg.model, 3, 1, "regress", cols[:3])  # no time of day needed
    assert code.context == "halfspace" and code.planes.shape == (3, 2) and rule.day_columns is None
    for bad in ("1", "-2", "2.5", "true"):
        c = compose(["+experiment=timeseries_elec", "model.widths=[16]", f"model.code.context_bins={bad}"])
        with pytest.raises(ValueError, match="context_bins"):
            build_seq_from_config(c.model, 7, 1, "regress", cols)


def test_the_forecasters_context_gate_is_built_for_every_rule_and_refuses_what_cannot_work():
    cols = ["Demand", "Temperature", "Holiday", "tod_sin", "tod_cos", "dow_sin", "dow_cos"]
    for rule in ("bsd", "bp_snn", "bp_ann"):
        cfg = compose(["+experiment=timeseries_elec", "model.widths=[16]", "model.context_gate=4",
                       f"model.rule={rule}"])
        _, _, r = build_seq_from_config(cfg.model, 7, 1, "regress", cols)
        assert r.gate_bins == 4 and r.day_columns == (3, 4)
    off = build_seq_from_config(compose(["+experiment=timeseries_elec", "model.widths=[16]"]).model, 7, 1,
                                "regress", cols)[2]
    assert off.gate_bins == 0 and off.unit_gates(torch.zeros(2, 3, 7), 16) is None  # off by default
    cfg = compose(["+experiment=timeseries_elec", "model.widths=[16]", "model.context_gate=4"])
    with pytest.raises(ValueError, match="model.context_gate needs the input columns tod_sin and tod_cos"):
        build_seq_from_config(cfg.model, 3, 1, "regress", cols[:3])
    with pytest.raises(ValueError, match="set it to 0 for text"):
        build_seq_from_config(compose(["+experiment=text_char", "model.context_gate=4"]).model, 7, 7, "classify")
    for bad in ("1", "-2", "2.5", "true"):
        c = compose(["+experiment=timeseries_elec", "model.widths=[16]", f"model.context_gate={bad}"])
        with pytest.raises(ValueError, match="model.context_gate must be 0"):
            build_seq_from_config(c.model, 7, 1, "regress", cols)


def test_the_forecasters_halfspace_gates_are_built_from_the_config_and_refuse_what_cannot_work():
    cols = ["Demand", "Temperature", "Holiday", "tod_sin", "tod_cos", "dow_sin", "dow_cos"]
    cfg = compose(["+experiment=timeseries_elec", "model.widths=[16]", "model.gate_planes=2", "model.gate_seed=5",
                   "model.rule=bp_ann"])
    _, _, r = build_seq_from_config(cfg.model, 3, 1, "regress", cols[:3])  # no calendar needed without the day gate
    assert r.gated and r.gate_planes == 2 and r.gate_seed == 5 and r.gate_bins == 0
    with pytest.raises(ValueError, match="set it to 0 for text"):
        build_seq_from_config(compose(["+experiment=text_char", "model.gate_planes=1"]).model, 7, 7, "classify")
    for bad in ("-1", "9", "1.5", "true"):
        c = compose(["+experiment=timeseries_elec", "model.widths=[16]", f"model.gate_planes={bad}"])
        with pytest.raises(ValueError, match="model.gate_planes must be an integer in 0..8"):
            build_seq_from_config(c.model, 7, 1, "regress", cols)
    c = compose(["+experiment=timeseries_elec", "model.widths=[16]", "model.gate_planes=1", "model.gate_seed=x"])
    with pytest.raises(ValueError, match="model.gate_seed must be an integer"):
        build_seq_from_config(c.model, 7, 1, "regress", cols)


def test_halfspace_gates_read_named_columns_and_refuse_unknown_ones():
    cols = ["Demand", "Temperature", "Holiday", "tod_sin", "tod_cos", "dow_sin", "dow_cos"]
    cfg = compose(["+experiment=timeseries_elec", "model.widths=[16]", "model.gate_planes=1",
                   "model.gate_features=[Temperature,Demand]", "model.gate_offset=true"])
    _, _, r = build_seq_from_config(cfg.model, 7, 1, "regress", cols)
    assert r.gate_columns == (1, 0) and r.gate_offset
    bad = compose(["+experiment=timeseries_elec", "model.widths=[16]", "model.gate_planes=1",
                   "model.gate_features=[Pressure]"])
    with pytest.raises(ValueError, match=r"model.gate_features names \['Pressure'\]"):
        build_seq_from_config(bad.model, 7, 1, "regress", cols)
    bad = compose(["+experiment=timeseries_elec", "model.widths=[16]", "model.gate_planes=1", "model.gate_offset=2"])
    with pytest.raises(ValueError, match="model.gate_offset must be true or false"):
        build_seq_from_config(bad.model, 7, 1, "regress", cols)


@pytest.mark.parametrize("experiment", ["mnist_mlp", "mnist_ae"])
def test_credit_through_time_is_refused_outside_the_rnn(experiment):
    cfg = compose([f"+experiment={experiment}", "+model.reco.through_time=2"])
    assert_refused(experiment, cfg, "through_time=2 trains a recurrence through time")
    cfg = compose(["+experiment=text_char", "model.reco.through_time=2", "model.reco.time_feedback=random"])
    assert rule_config(cfg.model).through_time == 2 and rule_config(cfg.model).time_feedback == "random"
    cfg = compose([f"+experiment={experiment}", "+model.reco.time_path=forward"])
    assert_refused(experiment, cfg, "time_path=forward reads a recurrence's own simulation")
    cfg = compose(["+experiment=timeseries_elec", "model.reco.time_path=forward"])
    assert rule_config(cfg.model).time_path == "forward"


@pytest.mark.parametrize("experiment", ["mnist_mlp", "mnist_ae"])
def test_per_position_bp_credit_is_refused_outside_the_rnn(experiment):
    cfg = compose([f"+experiment={experiment}", "+model.bp_credit=position"])
    assert_refused(experiment, cfg, "bp_credit=position sets how far back-propagation reaches")
    cfg = compose(["+experiment=timeseries_elec", "model.rule=bp_ann", "model.bp_credit=position"])
    assert rule_config(cfg.model).bp_credit == "position"
