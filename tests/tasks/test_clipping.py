"""``trainer.gradient_clip_val`` under ``model.optimizer.clip_local``: one norm, one per layer, or none."""

import lightning as L
import pytest
import torch

from bsd.config import compose, to_objects
from bsd.tasks import ClassifyModule

CLIP = 1e-3


def _module(rule: str, scope: str) -> tuple[ClassifyModule, torch.optim.Optimizer]:
    cfg = to_objects(compose(["+experiment=mnist_mlp", f"model.rule={rule}", "model.widths=[24,16]", "model.T=4",
                              f"model.optimizer.clip_local={scope}"]))
    torch.manual_seed(0)
    module = ClassifyModule(cfg.model, [1, 8, 8], 10)
    module.trainer = L.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False,
                               enable_model_summary=False)
    g = torch.Generator().manual_seed(1)
    loss, _ = module.rule.loss(module.stack, module.code, torch.rand(16, 1, 8, 8, generator=g),
                               torch.randint(0, 10, (16,), generator=g))
    loss.backward()
    opt = torch.optim.SGD([p for p in module.stack.parameters() if p.requires_grad], lr=0.1)
    return module, opt


def _norm(params) -> float:
    return float(torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in params if p.grad is not None])))


def _grads(module) -> list[torch.Tensor]:
    return [p.grad.clone() for p in module.stack.parameters() if p.grad is not None]


def test_every_parameter_belongs_to_a_layer():
    module, _ = _module("bsd", "layer")
    owned = {id(p) for layer in module.stack.layers for p in layer.parameters()}
    assert {id(p) for p in module.stack.parameters()} == owned


def test_layer_scope_clips_each_layer_as_if_it_were_alone():
    module, opt = _module("bsd", "layer")
    before = _grads(module)
    expect = {}
    for i, layer in enumerate(module.stack.layers):
        own = [p.grad.clone() for p in layer.parameters() if p.grad is not None]
        n = float(torch.linalg.vector_norm(torch.stack([g.norm() for g in own]))) if own else 0.0
        expect[i] = [g * min(1.0, CLIP / (n + 1e-6)) for g in own]
    assert _norm(module.stack.parameters()) > 3 * CLIP  # clipping has work to do
    module.configure_gradient_clipping(opt, CLIP, "norm")
    for i, layer in enumerate(module.stack.layers):
        got = [p.grad for p in layer.parameters() if p.grad is not None]
        for g, e in zip(got, expect[i], strict=True):
            torch.testing.assert_close(g, e)
        if got:
            assert _norm(layer.parameters()) <= CLIP * 1.0001
    assert not all(torch.equal(a, b) for a, b in zip(before, _grads(module), strict=True))


def test_all_scope_clips_one_norm_and_off_leaves_the_gradients():
    module, opt = _module("bsd", "all")
    module.configure_gradient_clipping(opt, CLIP, "norm")
    assert _norm(module.stack.parameters()) == pytest.approx(CLIP, rel=1e-3)
    module, opt = _module("bsd", "off")
    before = _grads(module)
    module.configure_gradient_clipping(opt, CLIP, "norm")
    assert all(torch.equal(a, b) for a, b in zip(before, _grads(module), strict=True))


def test_back_propagation_always_clips_the_norm_over_all_gradients():
    module, opt = _module("bp_snn", "layer")
    norms = [_norm(layer.parameters()) for layer in module.stack.layers if any(p.grad is not None for p in
                                                                               layer.parameters())]
    module.configure_gradient_clipping(opt, CLIP, "norm")
    assert _norm(module.stack.parameters()) == pytest.approx(CLIP, rel=1e-3)
    assert len(norms) > 1


def test_a_wrong_scope_is_refused():
    with pytest.raises(Exception, match="clip_local"):
        to_objects(compose(["+experiment=mnist_mlp", "model.optimizer.clip_local=sometimes"]))


def test_a_run_with_per_layer_clipping_trains(tmp_path):
    from bsd.train import run
    from tests.test_train import SMALL

    m = run(compose(["+experiment=mnist_mlp", *SMALL, "data.train_subset=3000", "trainer.limit_test_batches=2",
                     "model.optimizer.clip_local=layer"]), tmp_path)
    assert m["test"]["test/acc"] > 0.2  # ten classes: chance is 0.1
