import math

import pytest
import torch

from bsd.losses import decorrelation_loss, frequency_reco_loss, frequency_split, reco_loss, reco_terms


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
