"""Per-layer loss weights under AdamW: with layer-local losses they only rescale Adam's epsilon.

Layer i's parameters receive the gradient of layer i's loss alone (C2), so a weight w_i scales that
gradient by w_i; Adam divides it by the root of its own running square, which scales by w_i too. The update is
then Adam's with ``eps / w_i`` on layer i's parameters. With a power-of-two weight every product and sum is
scaled exactly, so the two runs agree bit for bit. A gradient that crossed layers would break the identity.
"""

import pytest
import torch

from bsd.coding import LabelCode
from bsd.config import model_config
from bsd.nets import build_stack, cnn_stages, mlp_stages
from bsd.rules import make_rule
from bsd.tasks.base import adamw

LIF = {"threshold": 0.6, "beta": 0.5}
EPS = 1e-8


def _train(
    arch: str, w_hidden: float, hidden_eps: float, clip: float | None = None, steps: int = 4
) -> list[torch.Tensor]:
    """``steps`` AdamW steps of one small stack; the hidden layers' parameters get ``hidden_eps``."""
    torch.manual_seed(0)
    if arch == "mlp":
        stack = build_stack((64,), mlp_stages([32, 24, 16]), 10, LIF)
        shape = (64,)
    else:
        stack = build_stack((1, 12, 12), cnn_stages([4, 6], [16]), 10, LIF)
        shape = (1, 12, 12)
    learn = make_rule(
        "image",
        "bsd",
        model_config("mlp", T=4, loss_weights={"hidden": w_hidden}, reco={"on": "spikes", "center": "batch"}),
    )
    hidden = {id(p) for layer in stack.hidden for p in layer.parameters()}
    groups = [
        {"params": [p for p in stack.parameters() if id(p) in hidden], "eps": hidden_eps},
        {"params": [p for p in stack.parameters() if id(p) not in hidden], "eps": EPS},
    ]
    opt = adamw(groups, lr=3e-3, weight_decay=1e-2)
    g = torch.Generator().manual_seed(1)
    for _ in range(steps):
        x = torch.rand(32, *shape, generator=g)
        y = torch.randint(0, 10, (32,), generator=g)
        loss, _ = learn.loss(stack, LabelCode(10), x, y)
        opt.zero_grad()
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(stack.parameters(), clip)
        opt.step()
    return [p.detach().clone() for p in stack.parameters()]


def _same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return all(torch.equal(p, q) for p, q in zip(a, b, strict=True))


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_a_hidden_loss_weight_is_adams_epsilon_divided_by_it(arch):
    weighted = _train(arch, w_hidden=4.0, hidden_eps=EPS)
    assert _same(weighted, _train(arch, w_hidden=1.0, hidden_eps=EPS / 4))
    # the control: the weight does change training when epsilon is left alone (small gradients feel it)
    assert not _same(weighted, _train(arch, w_hidden=1.0, hidden_eps=EPS))


def test_joint_gradient_clipping_makes_the_weight_matter_beyond_epsilon():
    """Clipping the norm of all gradients together couples the layers: the weight then changes every layer's step."""
    weighted = _train("mlp", w_hidden=4.0, hidden_eps=EPS, clip=1e-3)
    assert not _same(weighted, _train("mlp", w_hidden=1.0, hidden_eps=EPS / 4, clip=1e-3))
