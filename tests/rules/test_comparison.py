"""The paper's comparison rules (fa, dfa, pc, dll, rstdp): they learn, their settings are typed and checked, and
a rule asked for a backbone it is not defined on stops before any data work."""

import subprocess
import sys

import pytest
import torch

from bsd.coding import LabelCode
from bsd.config import model_config
from bsd.nets import build_stack, cnn_stages, mlp_stages
from bsd.rules import ignored_keys, lookup, make_rule
from bsd.rules.rstdp import output_modulators, trace
from tests.conftest import ROOT

NEW = ("fa", "dfa", "pc", "dll", "rstdp")
LIF = {"threshold": 0.6, "beta": 0.5}
#: settings of a tiny problem: the rules' rates scaled to a few dozen steps
FAST = {"rstdp": {"rstdp": {"lr": 0.05, "hidden_lr": 1e-4}}}


def blobs(n: int, dim: int = 64, classes: int = 4, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A small real-valued problem: noisy copies of one random prototype in [0, 1]^dim per class."""
    g = torch.Generator().manual_seed(seed)
    protos = torch.rand(classes, dim, generator=g)
    y = torch.arange(n) % classes
    x = (protos[y] + 0.25 * torch.randn(n, dim, generator=g)).clamp(0, 1)
    return x, y


def train(name: str, arch: str = "mlp", steps: int = 40, seed: int = 0):
    """Train rule ``name`` on the blobs; the loss and accuracy before and after, on held-out samples."""
    torch.manual_seed(seed)
    x, y = blobs(640)
    if arch == "mlp":
        stack = build_stack((64,), mlp_stages([48, 32]), 4, LIF)
    else:
        x = x.reshape(-1, 1, 8, 8)
        stack = build_stack((1, 8, 8), cnn_stages([4], [24]), 4, LIF)
    code = LabelCode(4)
    rule = make_rule("image", name, model_config(arch, T=4, rule=name, **FAST.get(name, {})))
    opt = torch.optim.AdamW([p for p in stack.parameters() if p.requires_grad], lr=3e-3)
    xt, yt = x[512:], y[512:]

    def evaluate():
        stack.eval()
        acc = (rule.predict(stack, code, xt).argmax(1) == yt).float().mean().item()
        stack.train()
        return acc

    acc0, losses = evaluate(), []
    for k in range(steps):
        i = (k * 32) % 512
        opt.zero_grad(set_to_none=True)
        loss, logs = rule.loss(stack, code, x[i:i + 32], y[i:i + 32])
        assert torch.isfinite(loss)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return acc0, evaluate(), losses


@pytest.mark.parametrize("name", NEW)
def test_every_new_rule_learns_a_small_problem(name):
    acc0, acc, losses = train(name)
    first, last = sum(losses[:8]) / 8, sum(losses[-8:]) / 8
    assert last < first, f"{name}: loss {first:.3f} -> {last:.3f}"
    assert acc >= 0.75 and acc > acc0 + 0.2, f"{name}: accuracy {acc0:.2f} -> {acc:.2f}"


@pytest.mark.parametrize("name", NEW)
def test_every_new_rule_trains_the_cnn(name):
    acc0, acc, losses = train(name, "cnn", steps=25)
    assert acc > acc0 + 0.15, f"{name}: accuracy {acc0:.2f} -> {acc:.2f}"


def test_random_feedback_is_drawn_from_its_seed_and_never_trained():
    x, y = blobs(32)
    stacks = [build_stack((64,), mlp_stages([48, 32]), 4, LIF) for _ in range(2)]
    a = make_rule("image", "dfa", model_config("mlp", rule="dfa"))
    b = make_rule("image", "dfa", model_config("mlp", rule="dfa"))
    c = make_rule("image", "dfa", model_config("mlp", rule="dfa", fa={"seed": 1}))
    fa, fb, fc = (r.feedback_tensors(s) for r, s in ((a, stacks[0]), (b, stacks[1]), (c, stacks[0])))
    assert all(torch.equal(p, q) for p, q in zip(fa, fb, strict=True))
    assert not any(torch.equal(p, q) for p, q in zip(fa, fc, strict=True))
    assert not any(t.requires_grad for t in fa)


def test_pc_inference_lowers_the_energy_and_its_updates_follow_the_prediction_errors():
    torch.manual_seed(0)
    x, y = blobs(32)
    stack = build_stack((64,), mlp_stages([48, 32]), 4, LIF)
    rule = make_rule("image", "pc", model_config("mlp", rule="pc", pc={"steps": 30, "inference_lr": 0.1}))
    _, acts, _, feed, energies = rule.infer(stack, LabelCode(4), x, y)
    assert energies[-1] < energies[0] and torch.all(energies[1:] <= energies[:-1] + 1e-4)
    # inference starts from the feed-forward pass (zero prediction errors): the clamped label moves every layer
    assert all(not torch.equal(a, f) for a, f in zip(acts, feed, strict=True))
    losses, _ = rule.layer_losses(stack, LabelCode(4), x, y)
    assert all(losses[i] > 0 for i in (1, 2))


def test_rstdp_traces_and_in_place_changes():
    s = torch.tensor([[1.0], [0.0], [1.0]])
    b = torch.exp(torch.tensor(-0.5)).item()
    assert torch.allclose(trace(s, 2.0).flatten(), torch.tensor([1.0, b, b * b + 1.0]))
    torch.manual_seed(0)
    x, y = blobs(32)
    stack = build_stack((64,), mlp_stages([48, 32]), 4, LIF)
    rule = make_rule("image", "rstdp", model_config("mlp", rule="rstdp", rstdp={"hidden_lr": 1e-3}))
    before = [p.detach().clone() for p in stack.parameters()]
    loss, _ = rule.loss(stack, LabelCode(4), x, y)
    assert not loss.grad_fn and loss.requires_grad  # a value without a path to the weights
    changed = {n for (n, p), b0 in zip(stack.named_parameters(), before, strict=True) if not torch.equal(p, b0)}
    assert changed == {f"layers.{i}.basal.weight" for i in (1, 2, 3)}  # weights only, every layer


def test_rstdp_hidden_stdp_changes_only_the_winners_synapses_and_keeps_each_units_weight_norm():
    """Lateral inhibition: only the ``winners`` most depolarised units of each sample change (two samples here:
    at most six units per layer); each changed unit keeps the norm of its incoming weights (weight normalisation)."""
    torch.manual_seed(0)
    x, y = blobs(2)
    stack = build_stack((64,), mlp_stages([48, 32]), 4, LIF)
    rule = make_rule("image", "rstdp", model_config("mlp", rule="rstdp", rstdp={"winners": 3, "hidden_lr": 0.1}))
    p = rule.plasticity(stack, LabelCode(4), x, y)
    for i in (1, 2):
        w, d, post = stack.layers[i].basal.weight, p.deltas[i]["weight"], p.activity[i][1]
        assert torch.equal(post.sum(-1), torch.full((4, 2), 3.0))  # three winners per sample, at every step
        moved = d.abs().sum(1) > 0
        assert 0 < int(moved.sum()) <= 6 and not (moved & (post.amax((0, 1)) == 0)).any()
        assert torch.allclose((w + d).norm(dim=1), w.norm(dim=1), rtol=1e-5)


def test_rstdp_hidden_stdp_at_the_default_rate_learns_the_blobs(monkeypatch):
    monkeypatch.setitem(FAST, "rstdp", {"rstdp": {"lr": 0.05}})  # hidden_lr, winners: the defaults
    acc0, acc, _ = train("rstdp")
    assert acc >= 0.75 and acc > acc0 + 0.2, f"accuracy {acc0:.2f} -> {acc:.2f}"


def test_rstdp_margin_readout_pushes_every_wrong_unit_near_the_target_and_rests_beyond_the_margin():
    cfg = model_config("mlp", rule="rstdp", rstdp={"margin": 1.0}).rstdp
    code = LabelCode(4)
    out_v = torch.tensor([[2.0, 1.5, 0.2, 3.0],   # target 0: unit 3 above it, unit 1 within the margin
                          [4.0, 0.5, 2.9, 1.0]])  # target 0 leads by more than the margin: no change
    y = torch.tensor([0, 0])
    m, post = output_modulators(cfg, code, out_v, out_v.argmax(1), y)
    assert torch.equal(m, torch.tensor([[1.0, -1.0, 0.0, -1.0], [0.0, 0.0, 0.0, 0.0]]))
    assert torch.equal(post, torch.tensor([[1.0, 1.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0]]))
    sign = model_config("mlp", rule="rstdp", rstdp={"output": "sign"}).rstdp
    m, _ = output_modulators(sign, code, out_v, out_v.argmax(1), y)
    assert torch.equal(m, torch.tensor([[1.0, 0.0, 0.0, -1.0], [0.0, 0.0, 0.0, 0.0]]))


# ---- settings and refusals -------------------------------------------------------------------------------
@pytest.mark.parametrize("override,key", [
    ({"pc": {"steps": 0}}, "model.pc.steps"),
    ({"pc": {"inference_lr": 0.0}}, "model.pc.inference_lr"),
    ({"rstdp": {"tau_pre": -1.0}}, "model.rstdp.tau_pre"),
    ({"rstdp": {"tau_post": 0.0}}, "model.rstdp.tau_post"),
    ({"rstdp": {"hidden_lr": -1e-3}}, "model.rstdp.hidden_lr"),
    ({"rstdp": {"winners": 0}}, "model.rstdp.winners"),
    ({"rstdp": {"margin": -0.5}}, "model.rstdp.margin"),
    ({"dll": {"clip": 0.0}}, "model.dll.clip"),
    ({"dll": {"theta_lr": -1.0}}, "model.dll.theta_lr"),
    ({"fa": {"scale": 0.0}}, "model.fa.scale"),
])
@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_invalid_inner_settings_are_refused_by_name(override, key, arch):
    with pytest.raises(ValueError, match=key.replace(".", r"\.")):
        model_config(arch, **override)


def test_the_rule_settings_exist_on_the_image_backbones_only():
    from omegaconf.errors import ConfigKeyError

    for arch in ("ae", "rnn"):
        with pytest.raises(ConfigKeyError):
            model_config(arch, "pc.steps=3")


def test_each_rule_ignores_the_settings_of_the_others_but_not_its_own():
    settings = {"model.fa", "model.pc", "model.dll", "model.rstdp"}
    own = {"fa": {"model.fa"}, "dfa": {"model.fa"}, "pc": {"model.pc"}, "dll": {"model.dll"},
           "rstdp": {"model.rstdp"}, "bsd": set(), "bp_snn": set(), "bp_ann": set()}
    for name, reads in own.items():
        ign = set(ignored_keys("image", name))
        assert settings - reads <= ign and not reads & ign, name
    assert "model.reco" in set(ignored_keys("image", "pc")) and "model.optimizer" in set(ignored_keys("image", "rstdp"))


@pytest.mark.parametrize("name", NEW)
def test_a_rule_asked_for_a_backbone_it_lacks_names_the_rule_the_backbone_and_where_it_is_defined(name):
    for family, arch in (("ae", "model=ae"), ("seq", "model=rnn")):
        with pytest.raises(ValueError) as err:
            lookup(family, name)
        msg = str(err.value)
        assert f"model.rule='{name}'" in msg and arch in msg and "model=cnn, model=mlp" in msg, msg


def test_rstdp_on_the_autoencoder_stops_on_the_command_line_before_any_data(tmp_path):
    res = subprocess.run([sys.executable, "src/train.py", "+experiment=mnist_ae", "model.rule=rstdp",
                          "data.data_dir=/no/such/folder", f"hydra.run.dir={tmp_path}"],
                         check=False, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 2, res.stderr[-2000:]
    assert "model.rule='rstdp' is not defined on the spiking autoencoder (model=ae)" in res.stderr
    assert "rstdp is defined on model=cnn, model=mlp" in res.stderr and "Traceback" not in res.stderr
