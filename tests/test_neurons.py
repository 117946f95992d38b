import math

import pytest
import torch

from bsd.neurons import LIF, LIFState, lif_step, spike_fn


def test_hard_reset_dynamics_by_hand():
    lif = LIF(threshold=1.0, beta=0.5, reset="hard")
    v = torch.tensor([[0.6], [0.6], [0.6], [0.0]])  # [T, B=1]
    # u: 0.6 -> 0.9 -> 1.05 (spike) -> 0 * 0.5 + 0 = 0
    assert lif(v).flatten().tolist() == [0.0, 0.0, 1.0, 0.0]


def test_soft_reset_keeps_the_excess():
    lif = LIF(threshold=1.0, beta=1.0, reset="soft")
    v = torch.tensor([[1.5], [0.0], [0.6]])
    # u: 1.5 (spike) -> 1.5 - 1 = 0.5 -> 0.5 + 0.6 = 1.1 (spike)
    assert lif(v).flatten().tolist() == [1.0, 0.0, 1.0]


def test_spikes_are_binary_and_state_is_explicit():
    v = torch.randn(6, 32, 17)
    s, st = LIF(0.6, 0.5).run(v)
    assert set(s.unique().tolist()) <= {0.0, 1.0}
    assert isinstance(st, LIFState) and st.u.shape == (32, 17)
    # running in two halves from the carried state equals one run
    s1, st1 = LIF(0.6, 0.5).run(v[:3])
    s2, _ = LIF(0.6, 0.5).run(v[3:], st1)
    assert torch.equal(torch.cat([s1, s2]), s)


@pytest.mark.parametrize(("surrogate", "expected"), [("atan", 1.0), ("sigmoid", 0.5)])
def test_surrogate_gradient_at_threshold(surrogate, expected):
    x = torch.zeros(1, requires_grad=True)
    spike_fn(x, surrogate, alpha=2.0).sum().backward()
    assert math.isclose(x.grad.item(), expected, rel_tol=1e-6)


def test_lif_step_gradient_flows_only_with_graph():
    v = torch.full((4,), 0.7, requires_grad=True)
    st = lif_step(v, LIFState.zeros_like(v), threshold=0.6, beta=0.5)
    st.s.sum().backward()
    assert v.grad is not None and (v.grad > 0).all()


@pytest.mark.parametrize("kwargs", [{"threshold": 0.0}, {"threshold": -1.0}, {"beta": 1.5}, {"reset": "none"},
                                    {"surrogate": "relu"}, {"graph": "tape"}])
def test_bad_neuron_settings_are_rejected(kwargs):
    with pytest.raises(ValueError, match="model.neuron"):
        LIF(**kwargs)


@pytest.mark.parametrize("reset", ["hard", "soft"])
@pytest.mark.parametrize("with_state", [False, True])
def test_no_graph_run_is_bit_identical_to_the_graph_run(reset, with_state):
    """The in-place fast path (used by BSD's streams) does the same arithmetic as the autograd path."""
    torch.manual_seed(0)
    lif = LIF(threshold=0.6, beta=0.7, reset=reset)
    v = torch.randn(7, 5, 33)
    state = LIFState(torch.randn(5, 33), (torch.rand(5, 33) > 0.5).float()) if with_state else None
    s_graph, st_graph = lif.run(v.clone().requires_grad_(), state)
    with torch.no_grad():
        s_fast, st_fast = lif.run(v, state)
    assert torch.equal(s_graph.detach(), s_fast)
    assert torch.equal(st_graph.u.detach(), st_fast.u) and torch.equal(st_graph.s.detach(), st_fast.s)
    assert s_fast.sum() > 0 and (s_fast == 0).any()  # the case is not degenerate


@pytest.mark.slow
def test_compiled_no_graph_run_gives_the_same_spikes():
    """model.neuron.compile=true: torch.compile's fused loop matches the eager loop (slow: compiles)."""
    torch.manual_seed(0)
    v = torch.randn(6, 4, 32)
    for reset in ("hard", "soft"):
        with torch.no_grad():
            eager, st_e = LIF(reset=reset).run(v)
            fused, st_f = LIF(reset=reset, compile=True).run(v)
        assert torch.equal(eager, fused) and torch.allclose(st_e.u, st_f.u, atol=1e-6)


@pytest.mark.parametrize("reset", ["hard", "soft"])
@pytest.mark.parametrize("surrogate", ["atan", "sigmoid"])
@pytest.mark.parametrize("with_state", [False, True])
def test_fused_graph_run_matches_step_by_step_autograd(reset, surrogate, with_state):
    """LIF.run's one-node graph (``graph=fused``): the same spikes and final state, and the gradients of
    autograd through every lif_step (``graph=stepwise``): inputs, initial membrane and spikes, a loss on
    the final membrane too."""
    torch.manual_seed(1)
    kw = dict(threshold=0.6, beta=0.7, reset=reset, surrogate=surrogate, alpha=3.0)
    lif, reference = LIF(**kw), LIF(**kw, graph="stepwise")
    v = torch.randn(6, 4, 9, dtype=torch.float64)
    u0 = torch.randn(4, 9, dtype=torch.float64)
    s0 = (torch.rand(4, 9) > 0.5).double()
    w = torch.randn(6, 4, 9, dtype=torch.float64)  # a loss that weighs every spike differently
    grads = []
    for run in (lif.run, reference.run):
        leaves = [v.clone().requires_grad_(), u0.clone().requires_grad_(), s0.clone().requires_grad_()]
        state = LIFState(leaves[1], leaves[2]) if with_state else None
        s, st = run(leaves[0], state)
        ((s * w).sum() + (st.u ** 2).sum() + 0.5 * st.s.sum()).backward()
        grads.append((s.detach(), st.u.detach(), [g.grad for g in (leaves if with_state else leaves[:1])]))
    (s_f, u_f, g_f), (s_r, u_r, g_r) = grads
    assert torch.equal(s_f, s_r) and torch.equal(u_f, u_r)
    assert s_r.sum() > 0 and (s_r == 0).any()
    for a, b in zip(g_f, g_r, strict=True):
        assert b.abs().max() > 0
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_fused_graph_run_keeps_one_float_and_one_byte_per_step():
    """What the graph keeps for backward: the membrane (float) and the spikes (bool) of each step."""
    lif = LIF()
    v = torch.randn(4, 8, 16, requires_grad=True)
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t) or t, lambda t: t):
        lif(v)
    assert sorted((str(t.dtype), tuple(t.shape)) for t in saved) == [
        ("torch.bool", (4, 8, 16)), ("torch.float32", (4, 8, 16))]


@pytest.mark.parametrize("reset", ["hard", "soft"])
def test_fused_graph_gradient_through_the_final_membrane_alone(reset):
    """A loss on the final state only (no gradient reaches the spikes' output) still matches autograd."""
    torch.manual_seed(2)
    x = torch.randn(5, 3, 7, dtype=torch.float64)
    grads = []
    for graph in ("fused", "stepwise"):
        v = x.clone().requires_grad_()
        _, st = LIF(reset=reset, graph=graph).run(v)
        (st.u ** 2).sum().backward()
        grads.append(v.grad)
    assert grads[1].abs().max() > 0
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-12, atol=1e-12)


def test_the_graph_setting_reaches_every_neuron_from_the_config():
    from bsd.build import build_image
    from tests.conftest import REFUSED, model_of

    for graph in ("fused", "stepwise"):
        stack = build_image(model_of(["+experiment=mnist_mlp", f"model.neuron.graph={graph}"]), (1, 28, 28), 10).stack
        assert {layer.lif.graph for layer in stack.hidden} == {graph}
    with pytest.raises(REFUSED, match="model.neuron.graph"):
        model_of(["+experiment=mnist_mlp", "model.neuron.graph=tape"])
