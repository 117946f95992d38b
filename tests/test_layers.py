import pytest
import torch

from bsd.layers import VoltageNorm, apply_folded
from bsd.nets import build_stack, mlp_stages

LIF = {"threshold": 0.6, "beta": 0.5}


def test_reduced_normalisation_equals_mean_of_simulated_normalisation():
    """The fast path's identity: mean_t norm(W s_t) == norm(W mean_t s_t) with the simulation's statistics."""
    torch.manual_seed(0)
    stack = build_stack((12,), mlp_stages([8]), 3, LIF)
    layer = stack.layers[1]
    layer.basal_norm.weight.data.uniform_(0.5, 2)
    layer.basal_norm.bias.data.normal_()
    s = (torch.rand(4, 16, 12) < 0.3).float()
    v, stats = layer.basal_voltage(s)
    reduced = layer.basal_reduced(s.mean(0), stats)
    assert torch.allclose(v.mean(0), reduced, atol=1e-5)


def test_weighted_statistics_equal_statistics_of_expanded_rows():
    torch.manual_seed(0)
    rows = torch.randn(5, 7, 3, 4)  # [N unique, C, H, W]
    counts = torch.tensor([3, 1, 4, 2, 5])
    expanded = rows.repeat_interleave(counts, dim=0)
    m1, v1 = VoltageNorm.batch_stats(rows, counts)
    m2, v2 = VoltageNorm.batch_stats(expanded)
    assert torch.allclose(m1, m2, atol=1e-6) and torch.allclose(v1, v2, atol=1e-5)


def test_running_statistics_are_used_in_eval():
    norm = VoltageNorm(3)
    v = torch.randn(2, 50, 3) * 4 + 10
    for _ in range(200):
        norm.simulate(v)
    norm.eval()
    out, stats = norm.simulate(v)
    assert stats is None
    assert out.mean().abs() < 0.05 and (out.std() - 1).abs() < 0.05


def test_folding_applies_a_map_per_step():
    lin = torch.nn.Linear(3, 2)
    x = torch.randn(4, 5, 3)
    assert torch.allclose(apply_folded(lin, x)[2], lin(x[2]))


def test_loss_graph_through_spikes_does_not_update_running_statistics_twice():
    from bsd.coding import LabelCode
    from bsd.config import model_config
    from bsd.rules import make_rule

    torch.manual_seed(0)
    x, y = torch.rand(32, 12), torch.arange(32) % 3
    means = []
    for reco_on in ("voltage", "spikes"):
        torch.manual_seed(1)
        stack = build_stack((12,), mlp_stages([8, 8]), 3, LIF)
        make_rule("image", "bsd", model_config("mlp", T=4, reco={"on": reco_on, "center": "none"})).loss(
            stack, LabelCode(3), x, y
        )
        means.append(stack.layers[2].basal_norm.running_mean.clone())
    assert torch.allclose(means[0], means[1])


def _composed_reduced(norm, v, stats, row_weight):
    """The loss-graph normalisation written with plain autograd ops (what the closed-form node replaces)."""
    mean, var = norm.batch_stats(v, row_weight)
    var = var + (stats[1] - var).detach()
    return norm(v, (mean, var))


@pytest.mark.parametrize("shape", [(12, 5), (12, 3, 4, 4)])
@pytest.mark.parametrize("weighted", [False, True])
def test_reduced_norm_node_matches_its_composition(shape, weighted):
    torch.manual_seed(0)
    norm = VoltageNorm(shape[1]).double()
    norm.weight.data.uniform_(0.5, 1.5)
    norm.bias.data.normal_()
    v = (torch.randn(*shape, dtype=torch.float64) * 2 + 1).requires_grad_()
    stats = (torch.randn(shape[1], dtype=torch.float64), torch.rand(shape[1], dtype=torch.float64) + 0.5)
    rw = torch.randint(1, 5, (shape[0],)) if weighted else None
    a, b = norm.reduced(v, stats, rw), _composed_reduced(norm, v, stats, rw)
    g = torch.randn_like(a)
    params = (v, norm.weight, norm.bias)
    assert torch.allclose(a, b)
    for ga, gb in zip(torch.autograd.grad(a, params, g), torch.autograd.grad(b, params, g), strict=True):
        assert torch.allclose(ga, gb)


def test_constant_input_is_mapped_once_with_the_same_result():
    """A direct-coded stimulus (expanded over T) gives the voltages, statistics and running
    statistics of T materialised copies."""
    torch.manual_seed(0)
    stacks = [build_stack((12,), mlp_stages([8]), 3, LIF) for _ in range(2)]
    stacks[1].load_state_dict(stacks[0].state_dict())
    x = torch.rand(16, 12)
    expanded = x.unsqueeze(0).expand(4, 16, 12)
    v_once, st_once = stacks[0].layers[1].basal_voltage(expanded)
    v_full, st_full = stacks[1].layers[1].basal_voltage(expanded.contiguous())
    assert v_once.shape == v_full.shape == (4, 16, 8)
    assert torch.allclose(v_once, v_full, atol=1e-6)
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(st_once, st_full, strict=True))
    n0, n1 = stacks[0].layers[1].basal_norm, stacks[1].layers[1].basal_norm
    assert torch.allclose(n0.running_var, n1.running_var) and torch.allclose(n0.running_mean, n1.running_mean)


@pytest.mark.parametrize("shape", [(3, 5, 4), (2, 4, 3, 5, 5)])
@pytest.mark.parametrize("weighted", [False, True])
def test_simulated_norm_node_matches_its_composition(shape, weighted):
    """With a graph, VoltageNorm.simulate is one node: the composed form's values bit for bit, its gradients."""
    torch.manual_seed(0)
    norm = VoltageNorm(shape[2]).double()
    with torch.no_grad():
        norm.weight.uniform_(0.5, 1.5)
        norm.bias.uniform_(-0.5, 0.5)
    v = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    rw = torch.randint(1, 5, (shape[1],)) if weighted else None
    g = torch.randn(*shape, dtype=torch.float64)
    out, stats = norm.simulate(v, rw, update_running=False)
    fused = torch.autograd.grad(out, [v, norm.weight, norm.bias], g)
    w = None if rw is None else rw.repeat(shape[0])
    stats_ref = VoltageNorm.batch_stats(v.reshape(-1, *shape[2:]), w)
    ref = apply_folded(lambda z: norm(z, stats_ref), v)
    assert torch.equal(out, ref)
    for a, b in zip(fused, torch.autograd.grad(ref, [v, norm.weight, norm.bias], g), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
    assert out.grad_fn.next_functions[0][0].name() == "_SimulatedNormBackward"  # under the unfolding view
