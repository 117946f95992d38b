"""The fast BSD path (no-graph simulation, time-reduced loss graphs, backward stream once per label)
against a plain reference written straight from the spec: every stream simulated per sample and per
time step with a full graph, standard BatchNorm over all steps, losses on the mean over T."""

import pytest
import torch
import torch.nn.functional as F

from bsd.coding import LabelCode
from bsd.config import model_config
from bsd.losses import grouped_reco_terms, reco_terms
from bsd.nets import build_stack, cnn_stages, mlp_stages
from bsd.rules import make_rule


def _bn(norm, v):
    """Standard training-mode BatchNorm over (T, B, space) of [T, B, C, ...], graph through the statistics."""
    if not norm.enabled:
        return v
    dims = [0, 1] + list(range(3, v.dim()))
    mean, var = v.mean(dims, keepdim=True), v.var(dims, unbiased=False, keepdim=True)
    shape = (1, 1, -1) + (1,) * (v.dim() - 3)
    return (v - mean) / torch.sqrt(var + norm.eps) * norm.weight.reshape(shape) + norm.bias.reshape(shape)


def _per_step(mod, s):
    return torch.stack([mod(s[t]) for t in range(s.shape[0])])


def reference_losses(stack, code, rule, x, y):
    cfg, T, n = rule.cfg, rule.T, stack.depth
    s = x.reshape(x.shape[0], *stack.in_shape).unsqueeze(0).expand(T, *x.shape[:1], *stack.in_shape)
    fwd_in, fwd_v = [], []
    for layer in stack.hidden:
        fwd_in.append(s.detach())
        v = _bn(layer.basal_norm, _per_step(layer.basal, s.detach()))
        fwd_v.append(v)
        s = layer.lif(v.detach())
    fwd_in.append(s.detach())
    b = code(y, T)  # every sample's own backward stream
    apical = [None] * n
    for i in range(n - 1, 0, -1):
        layer = stack.layers[i]
        apical[i] = _bn(layer.apical_norm, _per_step(layer.apical, b.detach()))
        b = layer.lif(apical[i].detach())
    losses = {}
    for i in range(1, n):
        pull, push = reco_terms(fwd_v[i - 1].mean(0), apical[i].mean(0), y, cfg.reco.same_class)
        losses[i] = pull + cfg.reco.lam * push
    losses[n] = F.cross_entropy(_per_step(stack.concept.basal, fwd_in[-1]).mean(0), y)
    recon = _per_step(stack.stimulus.apical, b.detach()).mean(0)
    losses[0] = F.mse_loss(recon.reshape(len(x), -1), x.reshape(len(x), -1))
    return losses


def make(arch, norm):
    torch.manual_seed(0)
    lif = {"threshold": 0.6, "beta": 0.5}
    if arch == "mlp":
        stack = build_stack((48,), mlp_stages([40, 32, 24]), 10, lif, norm=norm)
        x = torch.rand(64, 48)
    else:
        stack = build_stack((1, 12, 12), cnn_stages([6, 8], [16]), 10, lif, norm=norm)
        x = torch.rand(64, 1, 12, 12)
    for m in stack.modules():  # non-trivial affine parameters
        if hasattr(m, "weight") and m.weight is not None and m.weight.dim() == 1:
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.normal_(0, 0.2)
    y = torch.randint(0, 10, (64,))
    return (
        stack,
        LabelCode(10),
        make_rule("image", "bsd", model_config("mlp", T=4, reco={"on": "voltage", "center": "none"})),
        x,
        y,
    )


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
@pytest.mark.parametrize("norm", [True, False])
def test_losses_match_the_reference(arch, norm):
    stack, code, rule, x, y = make(arch, norm)
    fast, _ = rule.layer_losses(stack, code, x, y)
    ref = reference_losses(stack, code, rule, x, y)
    for i in ref:
        assert fast[i].item() == pytest.approx(ref[i].item(), rel=1e-4, abs=1e-6), f"layer {i}"


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
@pytest.mark.parametrize("norm", [True, False])
def test_gradients_match_the_reference(arch, norm):
    stack, code, rule, x, y = make(arch, norm)
    params = [p for p in stack.parameters()]
    fast, _ = rule.layer_losses(stack, code, x, y)
    g_fast = torch.autograd.grad(sum(fast.values()), params, allow_unused=True)
    g_ref = torch.autograd.grad(sum(reference_losses(stack, code, rule, x, y).values()), params, allow_unused=True)
    for p, ga, gb in zip(params, g_fast, g_ref, strict=True):
        a = torch.zeros_like(p) if ga is None else ga
        b = torch.zeros_like(p) if gb is None else gb
        if not norm:  # without BatchNorm the fast path is exact
            assert torch.allclose(a, b, rtol=1e-4, atol=1e-6)
        else:  # with it, only the variance's gradient is estimated from the time-reduced batch
            cos = F.cosine_similarity(a.flatten(), b.flatten(), dim=0)
            tiny = max(a.norm(), b.norm()) < 1e-5  # e.g. a bias right before BatchNorm: zero up to rounding
            assert cos > 0.99 or tiny, f"{tuple(p.shape)}: cosine {cos:.4f}"


def test_recall_mse_from_distinct_rows_equals_the_expanded_mse():
    from bsd.rules.bsd import grouped_mse

    torch.manual_seed(0)
    y = torch.randint(0, 6, (50,))
    uniq, inv = torch.unique(y, return_inverse=True)
    counts = torch.bincount(inv)
    recon = torch.rand(len(uniq), 1, 5, 5, dtype=torch.float64, requires_grad=True)
    x = torch.rand(50, 1, 5, 5, dtype=torch.float64)
    fast, ref = grouped_mse(recon, x, inv, counts), F.mse_loss(recon[inv], x)
    assert fast.item() == pytest.approx(ref.item(), rel=1e-10)
    assert torch.allclose(torch.autograd.grad(fast, recon)[0], torch.autograd.grad(ref, recon)[0])


def test_spike_agreement_from_distinct_rows_equals_the_expanded_streams():
    from bsd.rules.bsd import spike_agreement

    torch.manual_seed(0)
    inv = torch.randint(0, 4, (30,))
    a = (torch.rand(3, 30, 8) < 0.4).float()
    b = (torch.rand(3, 4, 8) < 0.4).float()
    fast = spike_agreement(a, b, inv)
    ref = (a.mean(), b[:, inv].mean(), (a == b[:, inv]).float().mean())
    assert all(torch.allclose(p, q) for p, q in zip(fast, ref, strict=True))


@pytest.mark.parametrize("steps", [1, 3])
def test_layers_of_one_width_batched_give_each_layer_its_own_terms(steps):
    """ReCo of equal-width layers computed in one call equals per-layer calls, and the batched
    gradient of one layer's terms reaches only that layer's tensors."""
    from bsd.rules.bsd import _layer_terms, _terms

    torch.manual_seed(0)
    y = torch.randint(0, 5, (24,))
    uniq, inv = torch.unique(y, return_inverse=True)
    counts = torch.bincount(inv)
    u = len(uniq)
    pairs = {
        i: (torch.randn(steps * 24, 16, requires_grad=True), torch.randn(steps * u, 16, requires_grad=True))
        for i in (1, 2, 3)
    }
    pairs[4] = (torch.randn(steps * 24, 9, requires_grad=True), torch.randn(steps * u, 9, requires_grad=True))
    batched = _layer_terms(pairs, y, "ignore", steps, inv, counts)
    for i, (v, h) in pairs.items():
        alone = _terms(v, h, y, "ignore", steps, inv, counts)
        assert all(torch.allclose(p, q, atol=1e-6) for p, q in zip(batched[i], alone, strict=True)), i
    grads = torch.autograd.grad(sum(batched[2]), [t for pair in pairs.values() for t in pair], allow_unused=True)
    for (i, _), g in zip([(i, k) for i in pairs for k in range(2)], grads, strict=True):
        assert (g is not None and g.abs().sum() > 0) if i == 2 else (g is None or not g.any()), i


def seq_reference_losses(stack, code, rule, x, y):
    """Sequence BSD from the spec, plainly: every step simulated in a Python loop, every sample's
    own backward stream, per-step basal voltages with a graph averaged over each position's T steps."""
    from bsd.neurons import LIFState, lif_step
    from bsd.rules.seq import reduce_positions

    cfg, T, n = rule.cfg, rule.T, stack.depth
    B, P = y.shape
    s = rule.encode(x)
    spikes = [s]
    for layer in stack.hidden:
        lif, out = layer.lif, []
        state = LIFState.zeros_like(layer.basal(s[0]))
        for k in range(s.shape[0]):
            v = layer.basal_norm(layer.basal(s[k]) + layer.recurrent(state.s)).detach()
            state = lif_step(v, state, lif.threshold, lif.beta, lif.reset)
            out.append(state.s)
        s = torch.stack(out)
        spikes.append(s)
    flat = y.transpose(0, 1).reshape(-1)
    b = code.vectors(flat).float()
    above = [None] * n
    for i in range(n - 1, 0, -1):
        above[i] = b
        layer = stack.layers[i]
        v_hat = layer.apical_norm(layer.apical(b)).detach()
        b = layer.lif(v_hat.unsqueeze(0).expand(T, *v_hat.shape)).mean(0)
    above[0] = b
    losses = {}
    groups = code.group(flat).reshape(P, B)
    for i, layer in enumerate(stack.hidden, start=1):
        prev = torch.cat([torch.zeros_like(spikes[i][:1]), spikes[i][:-1]])
        per_step = torch.stack(
            [layer.basal(spikes[i - 1][k]) + layer.recurrent(prev[k]) for k in range(spikes[i].shape[0])]
        )
        v = layer.basal_norm(reduce_positions(per_step, T))
        v_hat = layer.apical_norm(layer.apical(above[i])).reshape(P, B, -1)
        pull, push = grouped_reco_terms(v, v_hat, groups, cfg.reco.same_class)
        losses[i] = pull + cfg.reco.lam * push
    losses[n] = rule.top_loss(stack.readout.basal(reduce_positions(spikes[-1], T)), y)
    recon = stack.stimulus.apical(above[0]).reshape(P, B, -1)
    losses[0] = F.mse_loss(recon, reduce_positions(spikes[0], T))
    return losses


@pytest.mark.parametrize("task", ["classify", "regress"])
@pytest.mark.parametrize("norm", ["none", "layer"])
def test_recurrent_fast_path_matches_the_reference(task, norm):
    """The RNN fast path (no-graph simulation, one backward stream per distinct target, loss graph
    on each position's time-reduced inputs) gives the reference's losses and gradients."""
    from bsd.coding import PopulationCode
    from bsd.recurrent import SeqStack

    torch.manual_seed(0)
    lif = {"threshold": 0.6, "beta": 0.5}
    if task == "classify":
        code = LabelCode(7)
        x = F.one_hot(torch.randint(0, 7, (10, 6)), 7).float()
        y = torch.randint(0, 7, (10, 6))
        stack = SeqStack(7, [16, 12], 7, 7, lif, norm=norm)
    else:
        code = PopulationCode(8)
        x, y = torch.randn(10, 6, 4), torch.randn(10, 6)
        stack = SeqStack(4, [16, 12], 1, code.dim, lif, norm=norm)
    rule = make_rule("seq", "bsd", model_config("rnn", T=3, reco={"lam": 0.4}), task)
    params = list(stack.parameters())
    fast, _ = rule.layer_losses(stack, code, x, y)
    ref = seq_reference_losses(stack, code, rule, x, y)
    for i in ref:
        assert fast[i].item() == pytest.approx(ref[i].item(), rel=1e-4, abs=1e-6), f"layer {i}"
    g_fast = torch.autograd.grad(sum(fast.values()), params, allow_unused=True)
    g_ref = torch.autograd.grad(sum(ref.values()), params, allow_unused=True)
    for p, ga, gb in zip(params, g_fast, g_ref, strict=True):
        a = torch.zeros_like(p) if ga is None else ga
        b = torch.zeros_like(p) if gb is None else gb
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-6), tuple(p.shape)
