"""Options of the bsd rule beyond the paper: ReCo on batch-centred voltages, fixed apical weights, and the
forecaster's codes and gates, each built from the typed config and refused by name where it cannot work."""

import pytest
import torch

from bsd.build import build_ae, build_image, build_seq
from bsd.coding import LabelCode
from bsd.config import model_config
from bsd.config.parts import FrequencyConfig
from bsd.rules.bsd import BSD
from tests.conftest import REFUSED, model_of
from tests.rules import assert_losses_are_local
from tests.rules.test_plausibility import make
from tests.rules.test_seq import make as make_seq

COLS = ["Demand", "Temperature", "Holiday", "tod_sin", "tod_cos", "dow_sin", "dow_cos"]


def seq(overrides: list[str], in_dim: int = 7, outputs: int = 1, task: str = "regress", cols=COLS):
    """The forecaster's (or text model's) stack, code and rule from composed overrides."""
    return build_seq(model_of(overrides), in_dim, outputs, task, cols)


def assert_refused(overrides: list[str], match: str, build=None) -> None:
    """Composing ``overrides`` (or building their model with ``build``) stops with a message matching ``match``."""
    with pytest.raises(REFUSED, match=match):
        m = model_of(overrides)
        if build is not None:
            build(m)


def _terms(arch, center, term="pull"):
    stack, code, rule, x, y = make(arch, center=center)
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


class BandedBSD(BSD):
    """bsd with frequency-aware ReCo on a classifier's conv maps (the autoencoder's banded terms)."""

    frequency = FrequencyConfig(cutoff=0.25)


def test_centring_of_the_frequency_bands_follows_the_same_rule():
    logs = {}
    for c in ("none", "batch", "push"):
        stack, code, rule, x, y = make("cnn", center=c)
        logs[c] = BandedBSD(rule.cfg).layer_losses(stack, code, x, y)[1]
    assert torch.allclose(logs["push"]["reco/pull_1"], logs["none"]["reco/pull_1"])
    assert torch.allclose(logs["push"]["reco/push_1"], logs["batch"]["reco/push_1"])
    assert not torch.allclose(logs["none"]["reco/push_1"], logs["batch"]["reco/push_1"])


def test_unknown_center_is_refused():
    with pytest.raises(ValueError, match="reco.center"):
        make("mlp", center="sample")


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
    m = model_of([f"+experiment={experiment}", "model.reco.theta=fixed", shape])
    if experiment == "text_char":
        stack = build_seq(m, 10, 10, "classify").stack
    elif experiment == "mnist_ae":
        stack = build_ae(m, (1, 28, 28)).stack
    else:
        stack = build_image(m, (1, 28, 28), 10).stack
    frozen = {id(p) for layer in stack.hidden for p in layer.apical_parameters()}
    assert frozen
    for p in stack.parameters():
        assert p.requires_grad == (id(p) not in frozen)
    assert all(p.requires_grad for p in stack.stimulus.apical_parameters())  # recall stays learned


def test_learned_theta_is_the_default_and_unknown_modes_are_refused():
    stack = build_image(model_of(["+experiment=mnist_mlp"]), (1, 28, 28), 10).stack
    assert all(p.requires_grad for p in stack.parameters())
    assert_refused(["+experiment=mnist_mlp", "model.reco.theta=frozen"], "model.reco.theta")


@pytest.mark.parametrize("experiment", ["mnist_mlp", "mnist_ae"])
def test_rnn_only_keys_are_refused_by_name_outside_the_rnn(experiment):
    for key in (
        "model.reco.push_weight=code",
        "model.reco.axis=unit",
        "model.reco.through_time=2",
        "model.reco.time_path=forward",
        "model.bp_credit=position",
        "model.context_gate=4",
    ):
        assert_refused([f"+experiment={experiment}", key], key.split("=")[0])
    cfg = model_of(["+experiment=timeseries_elec", "model.reco.push_weight=code", "model.widths=[16]"])
    assert build_seq(cfg, 5, 1, "regress").rule.cfg.reco.push_weight == "code"


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_a_code_margin_with_one_hot_labels_is_same_class_ignore(arch):
    """Codes of one label have cosine 1 (never pushed), of two labels 0 (the paper's hinge)."""
    out = {}
    for margin, same_class in (("zero", "ignore"), ("code", "negative")):
        stack, code, rule, x, y = make(arch, margin=margin, same_class=same_class)
        losses, logs = rule.layer_losses(stack, code, x, y)
        assert_losses_are_local(stack, losses)
        out[margin] = torch.stack([logs[f"reco/{t}_{i}"] for t in ("pull", "push") for i in range(1, stack.depth)])
    assert torch.allclose(out["zero"], out["code"], atol=1e-6)


def test_a_code_margin_with_random_binary_codes_pushes_less():
    push = {}
    for margin in ("zero", "code"):
        stack, _, rule, x, y = make("mlp", margin=margin)
        code = LabelCode(10, "random_binary", 10, 0.5, 0)  # the stack's concept layer is 10 wide
        logs = rule.layer_losses(stack, code, x, y)[1]
        push[margin] = torch.stack([logs[f"reco/push_{i}"] for i in range(1, stack.depth)])
    assert (push["code"] < push["zero"]).all()


def test_pooling_compares_conv_maps_pooled_and_leaves_fc_layers_alone():
    plain, pooled = _terms("cnn", "none"), None
    stack, code, rule, x, y = make("cnn", pool=1, on="spikes")
    losses, logs = rule.layer_losses(stack, code, x, y)
    assert_losses_are_local(stack, losses)
    spikes = make("cnn", on="spikes")
    ref = spikes[2].layer_losses(*spikes[:2], *spikes[3:])[1]
    pooled = torch.stack([logs[f"reco/pull_{i}"] for i in range(1, stack.depth)])
    whole = torch.stack([ref[f"reco/pull_{i}"] for i in range(1, stack.depth)])
    assert not torch.allclose(pooled[:2], whole[:2])  # two conv layers: pooled maps agree differently
    assert torch.allclose(pooled[2:], whole[2:])  # the fc layer is not pooled
    assert plain.shape == pooled.shape
    mlp = _terms("mlp", "none")
    stack, code, rule, x, y = make("mlp", pool=2)
    got = rule.layer_losses(stack, code, x, y)[1]
    assert torch.allclose(torch.stack([got[f"reco/pull_{i}"] for i in range(1, stack.depth)]), mlp)


def test_pooling_is_refused_with_frequency_aware_reco_and_below_one():
    with pytest.raises(ValueError, match="model.reco.pool"):
        model_config("ae", reco={"pool": 2})
    with pytest.raises(ValueError, match="model.reco.pool"):
        make("cnn", pool=0)
    assert model_config("ae", reco={"pool": 2, "frequency": {"enabled": False}}).reco.pool == 2


def test_margin_and_pool_reach_the_rule_from_the_config():
    m = model_of(["+experiment=mnist_cnn", "model.reco.margin=code", "model.reco.pool=2", "model.reco.on=spikes"])
    rule = build_image(m, (1, 28, 28), 10).rule
    assert (rule.cfg.reco.margin, rule.cfg.reco.pool, rule.cfg.reco.on) == ("code", 2, "spikes")
    m = model_of(["+experiment=mnist_ae", "model.reco.margin=code"])
    assert build_ae(m, (1, 28, 28)).rule.cfg.reco.margin == "code"
    assert (
        seq(
            ["+experiment=timeseries_elec", "model.reco.margin=code", "model.widths=[16]"], 5, cols=None
        ).rule.cfg.reco.margin
        == "code"
    )
    assert build_image(model_of(["+experiment=mnist_mlp"]), (1, 28, 28), 10).rule.cfg.reco.margin == "zero"


def test_maps_no_larger_than_the_pool_grid_are_compared_as_they_are():
    # the 12 x 12 input gives conv maps of 6 x 6 and 3 x 3: a grid of 3 pools only the first
    got = {}
    for pool in (None, 3, 6):
        stack, code, rule, x, y = make("cnn", pool=pool, on="spikes")
        got[pool] = rule.layer_losses(stack, code, x, y)[1]
    assert torch.equal(got[6]["reco/pull_1"], got[None]["reco/pull_1"])
    assert not torch.equal(got[3]["reco/pull_1"], got[None]["reco/pull_1"])
    assert torch.equal(got[3]["reco/pull_2"], got[None]["reco/pull_2"])


def test_the_forecasters_codes_follow_their_config():
    """model.input_code.shape reaches the input code; aux horizons widen the code."""
    m = model_of(
        [
            "+experiment=timeseries_elec",
            "model.widths=[16]",
            "model.encoder=population",
            "model.input_code.dim=4",
            "model.input_code.shape=ramp",
        ]
    )
    stack, code, rule = build_seq(m, 5, 3, "regress")
    assert rule.input_code.shape == "ramp" and rule.input_code.dim == 4
    assert code.targets == 3 and code.dim == 3 * m.code.dim
    assert stack.readout.basal.out_features == 3


def test_the_forecasters_readout_skip_follows_its_config_and_refuses_a_non_boolean():
    stack = seq(["+experiment=timeseries_elec", "model.widths=[16]", "model.readout_skip=true"], 5).stack
    assert stack.readout_skip and stack.readout.basal.in_features == 16 + 5
    assert seq(["+experiment=timeseries_elec", "model.widths=[16]"], 5).stack.readout.basal.in_features == 16
    assert_refused(["+experiment=timeseries_elec", "model.readout_skip=maybe"], "model.readout_skip")


def test_the_forecasters_context_bins_gate_its_code_by_the_time_of_day_and_refuse_what_cannot_work():
    from bsd.coding import GatedCode

    base = ["+experiment=timeseries_elec", "model.widths=[16]"]
    m = model_of([*base, "model.code.context_bins=8"])
    stack, code, rule = build_seq(m, 7, 1, "regress", COLS)
    assert isinstance(code, GatedCode) and code.dim == 8 * m.code.dim
    assert stack.hidden[-1].apical.in_features == code.dim and rule.day_columns == (3, 4)
    assert not isinstance(seq(base).code, GatedCode)  # off by default
    with pytest.raises(ValueError, match="tod_sin and tod_cos"):
        build_seq(m, 3, 1, "regress", COLS[:3])
    with pytest.raises(ValueError, match="set it to 0 for text"):
        build_seq(model_of(["+experiment=text_char", "model.code.context_bins=8"]), 7, 7, "classify")
    m = model_of([*base, "model.code.context_bins=8", "model.code.context_keep=true"])
    assert build_seq(m, 7, 1, "regress", COLS).code.dim == 9 * m.code.dim
    stack, code, _ = seq([*base, "model.code.context_bins=8", "model.code.context_assign=true"])
    assert torch.equal(stack.hidden[-1].apical_mask, code.unit_mask(16))
    assert seq(base).stack.hidden[-1].apical_mask is None  # off by default
    assert_refused(
        ["+experiment=timeseries_elec", "model.code.context_assign=true"], "context_assign=true assigns units"
    )
    m = model_of([*base, "model.code.context_bins=8", "model.code.context=week"])
    assert build_seq(m, 7, 1, "regress", COLS).rule.day_columns == (3, 4, 5, 6)
    with pytest.raises(ValueError, match="dow_sin and dow_cos"):
        build_seq(m, 5, 1, "regress", COLS[:5])
    _, code, rule = seq([*base, "model.code.context_bins=4", "model.code.context=halfspace"], 3, cols=COLS[:3])
    assert code.context == "halfspace" and code.planes.shape == (3, 2) and rule.day_columns is None
    for bad in ("1", "-2", "2.5", "true"):
        assert_refused([*base, f"model.code.context_bins={bad}"], "context_bins")


def test_the_forecasters_context_gate_is_built_for_every_rule_and_refuses_what_cannot_work():
    base = ["+experiment=timeseries_elec", "model.widths=[16]"]
    for rule in ("bsd", "bp_snn", "bp_ann"):
        r = seq([*base, "model.context_gate=4", f"model.rule={rule}"]).rule
        assert r.gate_bins == 4 and r.day_columns == (3, 4)
    off = seq(base).rule
    assert off.gate_bins == 0 and off.unit_gates(torch.zeros(2, 3, 7), 16) is None  # off by default
    with pytest.raises(ValueError, match="model.context_gate needs the input columns tod_sin and tod_cos"):
        seq([*base, "model.context_gate=4"], 3, cols=COLS[:3])
    with pytest.raises(ValueError, match="set it to 0 for text"):
        build_seq(model_of(["+experiment=text_char", "model.context_gate=4"]), 7, 7, "classify")
    for bad in ("1", "-2", "2.5", "true"):
        assert_refused([*base, f"model.context_gate={bad}"], "model.context_gate")


def test_the_forecasters_halfspace_gates_are_built_from_the_config_and_refuse_what_cannot_work():
    base = ["+experiment=timeseries_elec", "model.widths=[16]"]
    r = seq([*base, "model.gate_planes=2", "model.gate_seed=5", "model.rule=bp_ann"], 3, cols=COLS[:3]).rule
    assert r.gated and r.gate_planes == 2 and r.gate_seed == 5 and r.gate_bins == 0  # no calendar needed
    with pytest.raises(ValueError, match="set it to 0 for text"):
        build_seq(model_of(["+experiment=text_char", "model.gate_planes=1"]), 7, 7, "classify")
    for bad in ("-1", "9", "1.5", "true"):
        assert_refused([*base, f"model.gate_planes={bad}"], "model.gate_planes")
    assert_refused([*base, "model.gate_planes=1", "model.gate_seed=x"], "model.gate_seed")


def test_halfspace_gates_read_named_columns_and_refuse_unknown_ones():
    base = ["+experiment=timeseries_elec", "model.widths=[16]", "model.gate_planes=1"]
    r = seq([*base, "model.gate_features=[Temperature,Demand]", "model.gate_offset=true"]).rule
    assert r.gate_columns == (1, 0) and r.gate_offset
    with pytest.raises(ValueError, match=r"model.gate_features names \['Pressure'\]"):
        seq([*base, "model.gate_features=[Pressure]"])
    assert_refused([*base, "model.gate_offset=maybe"], "model.gate_offset")


def test_credit_through_time_and_bp_credit_reach_the_rnn_rules():
    m = model_of(["+experiment=text_char", "model.reco.through_time=2", "model.reco.time_feedback=random"])
    assert m.reco.through_time == 2 and m.reco.time_feedback == "random"
    assert model_of(["+experiment=timeseries_elec", "model.reco.time_path=forward"]).reco.time_path == "forward"
    assert (
        model_of(["+experiment=timeseries_elec", "model.rule=bp_ann", "model.bp_credit=position"]).bp_credit
        == "position"
    )
    assert_refused(["+experiment=timeseries_elec", "model.bp_credit=position"], "bsd's own setting")
