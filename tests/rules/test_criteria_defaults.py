"""Every criterion bsd reports, checked by what one training step does on each experiment's shipped defaults.

C1: no layer's loss sends a gradient back through a forward weight (autograd's graph, walked from the loss).
C2: each layer's loss reaches only its own parameters. C4: what enters every W and Theta is 0/1 spikes (or their
means over T), except the analog signals the README names. C5: what drives the apical dendrites (the teaching
signal of a hidden layer) is non-negative, and each hidden loss is a non-negative distance.
"""

from __future__ import annotations

import pytest
import torch
from hydra.utils import instantiate

from bsd.config import CONF_DIR, compose, to_objects
from bsd.data import derive
from bsd.data.image_sources import SPECS
from bsd.rules.registry import criteria_for, family_of
from bsd.tasks import AutoencoderModule, ClassifyModule, build_module
from tests.rules import assert_losses_are_local, weights_carrying_credit

#: the colour-image CNNs run the mnist_cnn code path on wider maps: checked with the slow tests
COLOUR = {"cifar10_cnn", "cifar100_cnn", "svhn_cnn", "tinyimagenet_cnn"}
EXPERIMENTS = [pytest.param(e, marks=pytest.mark.slow) if e in COLOUR else e
               for e in sorted(p.stem for p in (CONF_DIR / "experiment").glob("*.yaml"))]
#: data settings that only change the target series (the criteria are the model's), for a fast setup
LIGHT_DATA = {e: ["data.residual_parts=1", "data.residual_days=1", "data.residual_smooth=0"]
              for e in ("timeseries_elec", "timeseries")}
SHAPES = {"mnist": ((1, 28, 28), 10), "fashion_mnist": ((1, 28, 28), 10),
          **{k: (s.shape, s.classes) for k, s in SPECS.items()}}


def _step(exp: str):
    """The shipped default of ``exp`` (bsd): its module, one batch of the right shape and the rule's inputs."""
    raw = compose([f"+experiment={exp}", "model.rule=bsd", *LIGHT_DATA.get(exp, [])])
    if derive.unset(raw):  # settings the series decides, as a run derives them (bsd.train.run)
        derive.fill(raw, instantiate(raw.data))
    cfg = to_objects(raw)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    arch = cfg.model.arch
    if arch in ("mlp", "cnn", "ae"):
        shape, classes = SHAPES[cfg.data.name]
        x = torch.rand(4, *shape, generator=g)
        if arch == "ae":
            return AutoencoderModule(cfg.model, list(shape), cfg.data.name), x, None, cfg
        return ClassifyModule(cfg.model, list(shape), classes), x, torch.arange(4) % classes, cfg
    dm = instantiate(cfg.data)
    dm.setup("fit")
    x, y = next(iter(dm.train_dataloader()))
    module = build_module(cfg, dm)
    return module, module.inputs(x[:4]), y[:4], cfg


def _spiky(t: torch.Tensor, T: int) -> bool:
    """0/1 spikes or means of T of them: values k / T in [0, 1]."""
    k = t.double() * T
    return bool(t.min() >= 0 and t.max() <= 1 and torch.allclose(k, k.round(), atol=1e-4))


@pytest.fixture(scope="module", params=EXPERIMENTS)
def shipped(request):
    module, x, y, cfg = _step(request.param)
    module.train()
    seen: list[tuple[int, str, torch.Tensor]] = []
    hooks = []
    for i, layer in enumerate(module.stack.layers):
        for kind in ("basal", "apical", "recurrent"):
            mod = getattr(layer, kind, None)
            if isinstance(mod, torch.nn.Module):
                hooks.append(mod.register_forward_pre_hook(
                    lambda m, inp, i=i, kind=kind: seen.append((i, kind, inp[0].detach()))))
    losses, _ = module.rule.layer_losses(module.stack, module.code, x, y)
    for h in hooks:
        h.remove()
    crit = criteria_for(family_of(cfg.model.arch), "bsd", cfg.model)
    return request.param, module, losses, seen, crit, cfg


def test_c1_matches_the_graph(shipped):
    exp, module, losses, _, crit, _ = shipped
    weights = {}
    for i, layer in enumerate(module.stack.layers):
        for kind in ("basal", "recurrent"):
            mod = getattr(layer, kind, None)
            if isinstance(mod, torch.nn.Module):
                weights.update({f"{kind}{i}.{k}": p for k, p in mod.named_parameters() if p.dim() > 1})
    carried = set().union(*(weights_carrying_credit(li, weights) for li in losses.values() if li.requires_grad))
    assert ("C1" in crit) == (not carried), f"{exp}: reports {crit}, forward weights on a feedback path: {carried}"


def test_c2_every_loss_reaches_its_own_layer_only(shipped):
    exp, module, losses, _, crit, _ = shipped
    assert "C2" in crit
    assert_losses_are_local(module.stack, {i: li for i, li in losses.items() if li.requires_grad})


def test_c4_only_spikes_enter_weights_but_the_named_analog_signals(shipped):
    exp, module, _, seen, crit, cfg = shipped
    assert "C4" in crit and seen
    T, top = int(cfg.model.T), module.stack.depth - 1
    for i, kind, t in seen:
        if kind == "basal" and i == 1:
            continue  # the stimulus (direct-coded images, characters, series) drives layer 1
        if kind == "apical" and i == top:
            continue  # the target's code (the autoencoder's image, the forecaster's population code) at the top
        if kind == "apical" and i == 0:
            if cfg.model.arch != "ae":
                assert _spiky(t, T), f"{exp}: layer 0's recall input is not spikes"
            continue
        assert _spiky(t, T), f"{exp}: the {kind} input of layer {i} is not spikes or their mean"


def test_c5_teaching_signals_are_unsigned(shipped):
    exp, module, losses, seen, crit, _ = shipped
    assert "C5" in crit
    assert all(t.min() >= 0 for i, kind, t in seen if kind == "apical"), f"{exp}: a signed apical drive"
    assert all(float(losses[i].detach()) >= -1e-6 for i in range(1, module.stack.depth) if i in losses)
