import math

import pytest
import torch

from bsd.losses import (
    center_batch,
    decorrelation_loss,
    frequency_reco_loss,
    frequency_split,
    grouped_reco_terms,
    reco_loss,
    reco_terms,
)


def test_reco_is_zero_for_aligned_orthogonal_pairs():
    v = torch.eye(4) * 3.0
    assert reco_loss(v, v * 0.5).item() == pytest.approx(0.0, abs=1e-6)


def test_reco_matches_a_hand_computation():
    v = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    vh = torch.tensor([[1.0, 1.0], [0.0, 1.0]])
    c = torch.tensor([[1 / math.sqrt(2), 0.0], [1.0, 1 / math.sqrt(2)]])
    pull = ((1 - c.diagonal()) ** 2).sum() / 2
    push = (c[0, 1].clamp(min=0) ** 2 + c[1, 0].clamp(min=0) ** 2) / 2
    p, q = reco_terms(v, vh, same_class="negative")
    assert p.item() == pytest.approx(pull.item()) and q.item() == pytest.approx(push.item())
    assert reco_loss(v, vh, lam=0.6, same_class="negative").item() == pytest.approx((pull + 0.6 * push).item())


def test_anticorrelated_negatives_cost_nothing():
    v = torch.tensor([[1.0, 0.0], [-1.0, 0.0]])
    _, push = reco_terms(v, v, same_class="negative")
    assert push.item() == 0.0


def test_same_class_modes():
    v = torch.tensor([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0]])
    vh = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    y = torch.tensor([0, 0, 1])
    _, push_neg = reco_terms(v, vh, y, "negative")
    _, push_ign = reco_terms(v, vh, y, "ignore")
    pull_pos, _ = reco_terms(v, vh, y, "positive")
    pull_ign, _ = reco_terms(v, vh, y, "ignore")
    assert push_neg > push_ign == pytest.approx(0.0, abs=1e-7)
    assert pull_pos >= pull_ign
    with pytest.raises(ValueError, match="same_class"):
        reco_terms(v, vh, y, "both")


def test_reco_is_scale_invariant_and_batch_normalised():
    torch.manual_seed(0)
    v, vh = torch.randn(8, 5), torch.randn(8, 5)
    assert reco_loss(v * 7, vh).item() == pytest.approx(reco_loss(v, vh).item(), rel=1e-5)
    # duplicating the batch keeps the pull term per sample
    p1, _ = reco_terms(v, vh)
    p2, _ = reco_terms(torch.cat([v, v]), torch.cat([vh, vh]))
    assert p2.item() == pytest.approx(p1.item(), rel=1e-5)


def test_frequency_split_sums_back_and_separates_bands():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 16, 16)
    low, high = frequency_split(x, 0.3)
    assert torch.allclose(low + high, x, atol=1e-5)
    flat = torch.ones(1, 1, 8, 8)
    lo, hi = frequency_split(flat, 0.3)
    assert torch.allclose(lo, flat, atol=1e-5) and hi.abs().max() < 1e-5
    assert frequency_reco_loss(x, x.clone(), labels=None).item() >= 0


def test_decorrelation_detects_redundant_units():
    torch.manual_seed(0)
    z = torch.randn(4096, 4)
    assert decorrelation_loss(z).item() < 0.01
    redundant = torch.cat([z[:, :1]] * 4, dim=1)
    assert decorrelation_loss(redundant).item() == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("mode", ["negative", "ignore", "positive"])
def test_reco_against_distinct_targets_equals_the_expanded_form(mode):
    """Values and gradients of ReCo computed from one row per distinct target equal those of
    the plain form with every sample's own (repeated) target row."""
    from bsd.losses import grouped_reco_terms, unique_reco_terms

    torch.manual_seed(0)
    g, b, u, d = 3, 40, 7, 16
    inv = torch.randint(0, u, (b,))
    inv[:u] = torch.arange(u)
    counts = torch.bincount(inv, minlength=u)
    v = torch.randn(g, b, d, dtype=torch.float64, requires_grad=True)
    vh = torch.randn(g, u, d, dtype=torch.float64, requires_grad=True)
    fast = unique_reco_terms(v, vh, inv, counts, mode)
    ref = grouped_reco_terms(v, vh[:, inv], inv.expand(g, b), mode)
    for a, r in zip(fast, ref, strict=True):
        assert a.item() == pytest.approx(r.item(), rel=1e-10)
    g_fast = torch.autograd.grad(fast[0] + 0.6 * fast[1], (v, vh))
    g_ref = torch.autograd.grad(ref[0] + 0.6 * ref[1], (v, vh))
    assert all(torch.allclose(x, y) for x, y in zip(g_fast, g_ref, strict=True))
    per_group = unique_reco_terms(v, vh, inv, counts, mode, per_group=True)
    assert per_group[0].shape == (g,) and per_group[0].mean().item() == pytest.approx(fast[0].item())
    inv9 = inv[:9]
    counts9 = torch.bincount(inv9, minlength=u)
    small = (v[:1, :9].detach().requires_grad_(), vh[:1].detach().requires_grad_())
    assert torch.autograd.gradcheck(lambda a, c: unique_reco_terms(a, c, inv9, counts9, mode), small)


def test_reco_over_units_sees_the_magnitude_that_the_per_sample_cosine_misses():
    torch.manual_seed(0)
    u = torch.rand(32) + 0.5                     # one direction for every sample: a 1-D target
    y = torch.rand(64) + 0.1                     # positive magnitudes
    v_hat = y[:, None] * u                       # apical voltages on a line through the origin
    v = y.flip(0)[:, None] * u                   # basal voltages on that line, magnitudes scrambled
    pull_sample, _ = grouped_reco_terms(v[None], v_hat[None], axis="sample")
    pull_unit, _ = grouped_reco_terms(v[None], v_hat[None], axis="unit")
    assert pull_sample < 1e-10                   # every cosine is 1: the scrambling is invisible
    assert pull_unit > 0.5                       # each unit's voltage no longer follows its target
    aligned, _ = grouped_reco_terms((3 * v_hat + 1)[None], v_hat[None], axis="unit")
    assert aligned < 1e-10                       # a per-unit affine map with positive gain is aligned


def test_reco_over_units_pushes_redundant_units():
    torch.manual_seed(0)
    a, b = torch.randn(128, 1), torch.randn(128, 1)
    same = torch.cat([a, a], 1)                  # two units coding one thing
    distinct = torch.cat([a, b], 1)
    _, push_same = grouped_reco_terms(same[None], same[None], axis="unit")
    _, push_distinct = grouped_reco_terms(distinct[None], distinct[None], axis="unit")
    assert push_same > 0.9 and push_distinct < 0.1
    with pytest.raises(ValueError, match="reco.axis"):
        grouped_reco_terms(same[None], same[None], axis="batch")


def test_center_batch_with_row_weights_equals_centring_the_expanded_batch():
    torch.manual_seed(0)
    rows, inv = torch.randn(2 * 3, 4, 5), torch.tensor([0, 2, 2, 1, 2, 0, 0])  # 2 steps x 3 distinct rows
    counts = torch.bincount(inv, minlength=3)
    got = center_batch(rows, steps=2, weight=counts).reshape(2, 3, 4, 5)[:, inv]
    full = rows.reshape(2, 3, 4, 5)[:, inv]
    want = full - full.mean(1, keepdim=True)
    assert torch.allclose(got, want, atol=1e-6)
    plain = center_batch(full.reshape(14, 4, 5), steps=2).reshape(2, 7, 4, 5)
    assert torch.allclose(plain, want, atol=1e-6)


def test_centring_hides_a_pattern_every_sample_shares_from_reco():
    """A shared map (the digit-centre blob) makes unrelated samples look alike to the cosine."""
    torch.manual_seed(0)
    shared = 5 * torch.randn(1, 64)
    own = torch.randn(16, 64)
    v, v_hat = shared + own, shared + torch.randn(16, 64)  # apical: the shared map plus unrelated detail
    pull, push = reco_terms(v, v_hat, same_class="negative")
    assert pull < 0.01 and push > 5  # looks aligned, yet every other sample looks aligned too
    pull_c, push_c = reco_terms(center_batch(v), center_batch(v_hat), same_class="negative")
    assert pull_c > 0.8  # centred, nothing about the sample itself agrees
    assert push_c < 0.2


def test_code_push_weight_is_one_minus_the_code_cosine():
    from bsd.coding import PopulationCode
    from bsd.losses import code_push_weight
    code = PopulationCode(16)
    y = torch.tensor([[0.0, 0.05, 2.5, 0.0]])
    w = code_push_weight(code.vectors(y))
    assert w.shape == (1, 4, 4) and torch.allclose(torch.diagonal(w[0]), torch.zeros(4), atol=1e-6)
    assert w[0, 0, 3] < 1e-6 and w[0, 0, 1] < w[0, 0, 2]  # equal values: no push; near values: less than far
    assert torch.allclose(w[0, 0, 2], torch.tensor(1.0), atol=1e-3)  # codes that do not overlap: a full push
    v, h = torch.randn(1, 4, 8), torch.randn(1, 4, 8)
    _, full = grouped_reco_terms(v, h, same_class="negative")
    _, weighted = grouped_reco_terms(v, h, same_class="negative", push_weight=torch.ones(1, 4, 4))
    assert torch.allclose(full, weighted)
    with pytest.raises(ValueError, match="axis=sample"):
        grouped_reco_terms(v, h, axis="unit", push_weight=w)


def test_a_code_margin_moves_the_push_hinge_to_the_targets_cosine():
    """margin=code: a layer that reproduces its own targets exactly pays no push, whatever their overlap."""
    from bsd.losses import code_cosines
    torch.manual_seed(0)
    targets = torch.rand(1, 6, 20) + 0.2            # positive, overlapping target voltages
    v = 2.5 * targets                               # every sample aligned with its own target
    _, plain = grouped_reco_terms(v, targets, same_class="negative")
    _, hinged = grouped_reco_terms(v, targets, same_class="negative", push_margin=code_cosines(targets))
    assert plain > 0.5 and hinged < 1e-10           # the paper's hinge punishes the overlap itself
    collapsed = targets[:, :1].expand(1, 6, 20)     # every sample on one target: more alike than the targets
    _, pushed = grouped_reco_terms(collapsed, targets, same_class="negative", push_margin=code_cosines(targets))
    assert pushed > 0.005
    zero = torch.zeros(1, 6, 6)
    assert torch.equal(grouped_reco_terms(v, targets, same_class="negative", push_margin=zero)[1], plain)
    with pytest.raises(ValueError, match="axis=sample"):
        grouped_reco_terms(v, targets, axis="unit", push_margin=zero)


def test_a_code_margin_with_one_hot_codes_is_same_class_ignore():
    from bsd.losses import code_cosines
    torch.manual_seed(0)
    y = torch.randint(0, 4, (1, 24))
    codes = torch.eye(4)[y]
    v, h = torch.randn(1, 24, 12), torch.randn(1, 24, 12)
    ignore = grouped_reco_terms(v, h, y, same_class="ignore")
    hinged = grouped_reco_terms(v, h, y, same_class="negative", push_margin=code_cosines(codes))
    assert torch.allclose(ignore[1], hinged[1], atol=1e-6) and torch.equal(ignore[0], hinged[0])


def test_a_code_margin_against_distinct_targets_equals_the_expanded_form():
    """The B x U form with margins: the values and gradients of the plain B x B form (random binary codes)."""
    from bsd.losses import code_cosines, unique_reco_terms
    torch.manual_seed(1)
    g, b, u, d = 2, 30, 5, 10
    inv = torch.randint(0, u, (b,))
    inv[:u] = torch.arange(u)
    counts = torch.bincount(inv, minlength=u)
    codes = (torch.rand(u, 8) < 0.5).double() + torch.eye(u, 8, dtype=torch.float64)
    margin = code_cosines(codes[inv], codes)                       # [B, U]
    v = torch.randn(g, b, d, dtype=torch.float64, requires_grad=True)
    vh = torch.randn(g, u, d, dtype=torch.float64, requires_grad=True)
    fast = unique_reco_terms(v, vh, inv, counts, "negative", push_margin=margin)
    ref = grouped_reco_terms(v, vh[:, inv], inv.expand(g, b), "negative", push_margin=margin[:, inv][None])
    for a, r in zip(fast, ref, strict=True):
        assert a.item() == pytest.approx(r.item(), rel=1e-10)
    assert fast[1] < unique_reco_terms(v, vh, inv, counts, "negative")[1]
    g_fast = torch.autograd.grad(fast[0] + 0.6 * fast[1], (v, vh))
    g_ref = torch.autograd.grad(ref[0] + 0.6 * ref[1], (v, vh))
    assert all(torch.allclose(x, y) for x, y in zip(g_fast, g_ref, strict=True))
    small = (v[:1, :9].detach().requires_grad_(), vh[:1].detach().requires_grad_())
    inv9 = inv[:9]
    assert torch.autograd.gradcheck(
        lambda a, c: unique_reco_terms(a, c, inv9, torch.bincount(inv9, minlength=u), "negative",
                                       push_margin=margin[:9]), small)
