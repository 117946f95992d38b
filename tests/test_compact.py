import pytest
import torch

from bsd.compact import SpikeMeanStore, observe_saved


def _grad_of_linear(s_mean, lin, store=None):
    if store is None:
        out = lin(s_mean)
    else:
        with store:
            out = lin(store.mark(s_mean))
    return torch.autograd.grad(out.square().sum(), lin.weight)[0]


@pytest.mark.parametrize("T", [3, 4, 7])
def test_spike_means_are_kept_as_uint8_and_restored_bit_for_bit(T):
    torch.manual_seed(0)
    lin = torch.nn.Linear(20, 5)
    s_mean = (torch.rand(T, 16, 20) < 0.4).float().mean(0)
    seen = []
    with observe_saved(seen.append):
        g_store = _grad_of_linear(s_mean, lin, SpikeMeanStore(T))
    assert torch.equal(g_store, _grad_of_linear(s_mean, lin))
    assert any(t.dtype == torch.uint8 and t.shape == (16, 20) for t in seen)
    assert not any(t.dtype == torch.float32 and t.shape == (16, 20) for t in seen)


def test_unmarked_tensors_and_long_simulations_are_left_alone():
    torch.manual_seed(0)
    lin = torch.nn.Linear(8, 3)
    x = torch.rand(4, 8)
    seen = []
    with observe_saved(seen.append), SpikeMeanStore(4):
        lin(x).sum()  # not marked: saved as it is
    with observe_saved(seen.append), SpikeMeanStore(300) as store:  # counts would not fit a byte
        lin(store.mark(x)).sum()
    assert [t.dtype for t in seen] == [torch.float32, torch.float32]


def test_bsd_gradients_are_unchanged_by_the_compact_store(monkeypatch):
    from bsd.coding import LabelCode
    from bsd.config import model_config
    from bsd.nets import build_stack, mlp_stages
    from bsd.rules import bsd as bsd_rule
    from bsd.rules import make_rule

    torch.manual_seed(0)
    stack = build_stack((30,), mlp_stages([24, 24, 16]), 10, {"threshold": 0.6, "beta": 0.5})
    rule = make_rule("image", "bsd", model_config("mlp", T=5, reco={"on": "voltage", "center": "none"}))
    x, y = torch.rand(32, 30), torch.randint(0, 10, (32,))
    params = list(stack.parameters())
    g_store = torch.autograd.grad(rule.loss(stack, LabelCode(10), x, y)[0], params, allow_unused=True)
    monkeypatch.setattr(bsd_rule.SpikeMeanStore, "mark", lambda self, t: t)  # nothing compacted
    g_plain = torch.autograd.grad(rule.loss(stack, LabelCode(10), x, y)[0], params, allow_unused=True)
    for a, b in zip(g_store, g_plain, strict=True):
        assert (a is None and b is None) or torch.equal(a, b)
