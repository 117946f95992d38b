"""Spiking recurrent layers: state carried across positions, binary spikes, batch-free evaluation."""

import pytest
import torch

from bsd.neurons import LIF
from bsd.recurrent import RecurrentLayer, SeqStack, UnitNorm


def layer(norm="batch", gain=0.5):
    torch.manual_seed(0)
    return RecurrentLayer(5, 16, 7, LIF(0.6, 0.5), norm, recurrent_gain=gain)


@pytest.mark.parametrize("norm", ["batch", "layer", "none"])
def test_state_carried_across_calls_equals_one_long_run(norm):
    lay = layer(norm).eval()
    x = torch.rand(12, 3, 5)
    whole, _ = lay.run(x)
    a, st = lay.run(x[:5])
    b, _ = lay.run(x[5:], st)
    assert torch.equal(torch.cat([a, b]), whole)
    assert set(whole.unique().tolist()) <= {0.0, 1.0} and whole.sum() > 0


def test_the_recurrence_matters():
    lay = layer("none", gain=1.0).eval()
    x = torch.rand(8, 4, 5)
    with_rec, _ = lay.run(x)
    with torch.no_grad():
        lay.recurrent.weight.zero_()
    without, _ = lay.run(x)
    assert not torch.equal(with_rec, without)


def test_batch_norm_uses_running_statistics_in_evaluation_so_batch_size_one_works():
    lay = layer("batch")
    x = torch.rand(6, 32, 5)
    lay.train()
    lay.run(x)  # updates the running statistics once
    assert not torch.equal(lay.basal_norm.running_mean, torch.zeros(16))
    lay.eval()
    full, _ = lay.run(x)
    one, _ = lay.run(x[:, :1])
    assert torch.equal(full[:, :1], one)


def test_reduced_basal_voltage_is_the_mean_of_the_step_voltages_without_norm():
    lay = layer("none")
    s_in = (torch.rand(8, 3, 5) > 0.5).float()
    s_prev = (torch.rand(8, 3, 16) > 0.5).float()
    per_step = lay.basal(s_in) + lay.recurrent(s_prev)
    reduced = lay.basal_reduced(s_in.mean(0, keepdim=True), s_prev.mean(0, keepdim=True))
    assert torch.allclose(reduced[0], per_step.mean(0), atol=1e-6)


def test_unit_norm_normalises_each_sample_across_units():
    n = UnitNorm(10)
    v = torch.randn(4, 10) * 5 + 3
    out = n(v)
    assert torch.allclose(out.mean(-1), torch.zeros(4), atol=1e-5)
    assert torch.allclose(out.std(-1, unbiased=False), torch.ones(4), atol=1e-3)


def test_stack_layout_and_bad_widths():
    s = SeqStack(5, [8, 6], 3, 4, {"threshold": 0.6, "beta": 0.5})
    assert s.depth == 3 and len(s.hidden) == 2
    assert s.stimulus.apical.out_features == 5 and s.readout.basal.in_features == 6
    assert s.hidden[-1].apical.in_features == 4 and s.hidden[0].apical.in_features == 6
    with pytest.raises(ValueError, match="widths"):
        SeqStack(5, [], 3, 4, {})
    with pytest.raises(ValueError, match="model.norm"):
        RecurrentLayer(5, 4, 3, LIF(), "group")
    with pytest.raises(ValueError, match="recurrent_gain"):
        RecurrentLayer(5, 4, 3, LIF(), "batch", recurrent_gain=-1)


def test_tonic_bias_spread_tiles_a_range_without_touching_the_weight_init():
    torch.manual_seed(0)
    plain = RecurrentLayer(5, 16, 7, LIF(0.6, 0.5), "none")
    torch.manual_seed(0)
    spread = RecurrentLayer(5, 16, 7, LIF(0.6, 0.5), "none", bias_spread=1.0)
    assert torch.equal(plain.basal.weight, spread.basal.weight)  # the global random stream is untouched
    assert torch.count_nonzero(plain.tonic) == 0
    assert torch.allclose(spread.tonic.sort().values, torch.linspace(-1, 1, 16))
    assert torch.equal(spread.tonic, RecurrentLayer(5, 16, 7, LIF(0.6, 0.5), "none", bias_spread=1.0).tonic)
    assert "tonic" not in spread.state_dict()  # rebuilt from the config, so older checkpoints still load
    x = torch.rand(6, 4, 5)
    a, _ = plain.eval().run(x)
    b, _ = spread.eval().run(x)
    assert not torch.equal(a, b)  # the same drive now crosses threshold at different levels per unit
    assert set(b.unique().tolist()) <= {0.0, 1.0}
    with pytest.raises(ValueError, match="bias_spread"):
        RecurrentLayer(5, 16, 7, LIF(0.6, 0.5), "none", bias_spread=-0.5)


def test_gain_zero_removes_the_recurrence_and_freezes_it():
    lay = layer("none", gain=0.0).eval()
    assert not lay.recurrent.weight.requires_grad and (lay.recurrent.weight == 0).all()
    x = torch.rand(8, 4, 5)
    perm = torch.randperm(8)
    out, _ = lay.run(x, soma=lay.relu_soma)  # no membrane: each step depends on its own input only
    shuffled, _ = lay.run(x[perm], soma=lay.relu_soma)
    assert torch.equal(out[perm], shuffled)
    assert layer("none", gain=0.5).recurrent.weight.requires_grad


def test_adaptation_raises_the_threshold_of_a_busy_unit_and_is_carried_across_calls():
    torch.manual_seed(0)
    plain = RecurrentLayer(5, 16, 7, LIF(0.6, 0.5, reset="soft"), "none", recurrent_gain=0.0).eval()
    torch.manual_seed(0)
    adaptive = RecurrentLayer(5, 16, 7, LIF(0.6, 0.5, reset="soft"), "none", recurrent_gain=0.0,
                              adapt=1.0, adapt_tau=8.0).eval()
    assert torch.equal(plain.basal.weight, adaptive.basal.weight)  # no extra parameter, the same init
    x = torch.rand(1, 4, 5).expand(40, 4, 5)  # a constant drive
    sp, _ = plain.run(x)
    sa, state = adaptive.run(x)
    assert set(sa.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(sp[0], sa[0])  # at rest the trace is zero: the first step is the plain LIF's
    # a unit that keeps firing raises its own threshold, so late steps fire less than the plain LIF's and than early
    assert sa[20:].mean() < sp[20:].mean() and sa[20:].mean() < sa[:5].mean()
    assert state.a is not None and state.a.min() >= 0 and state.a.max() <= 1
    # the trace is state: two halves run with the carried state give the whole run, bit for bit
    first, mid = adaptive.run(x[:15])
    second, _ = adaptive.run(x[15:], mid)
    assert torch.equal(torch.cat([first, second]), sa)
    dropped, _ = adaptive.run(x[15:], type(mid)(mid.u, mid.s))  # without the trace the second half differs
    assert not torch.equal(dropped, second)
    with pytest.raises(ValueError, match="adapt"):
        RecurrentLayer(5, 16, 7, LIF(), "none", adapt=-1.0)
    with pytest.raises(ValueError, match="adapt_tau"):
        RecurrentLayer(5, 16, 7, LIF(), "none", adapt=1.0, adapt_tau=0.0)


def test_adaptation_passes_credit_through_its_trace():
    # beta 0 and no W_h: the membrane forgets every step, so only the adaptation trace links a step to earlier inputs
    def grad_of_last_step(adapt):
        torch.manual_seed(0)
        lay = RecurrentLayer(5, 8, 3, LIF(0.6, 0.0, reset="soft"), "none", recurrent_gain=0.0, adapt=adapt,
                             adapt_tau=8.0)
        x = (torch.rand(12, 2, 5) + 0.5).requires_grad_(True)
        s, _ = lay.run(x)
        s[-1].sum().backward()
        return x.grad
    assert torch.count_nonzero(grad_of_last_step(0.0)[:-1]) == 0
    assert torch.count_nonzero(grad_of_last_step(0.5)[:-1]) > 0
