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
    from bsd.rules import RuleConfig, make_rule

    torch.manual_seed(0)
    x, y = torch.rand(32, 12), torch.arange(32) % 3
    means = []
    for reco_on in ("voltage", "spikes"):
        torch.manual_seed(1)
        stack = build_stack((12,), mlp_stages([8, 8]), 3, LIF)
        make_rule("bsd", RuleConfig(T=4, reco_on=reco_on)).loss(stack, LabelCode(3), x, y)
        means.append(stack.layers[2].basal_norm.running_mean.clone())
    assert torch.allclose(means[0], means[1])
