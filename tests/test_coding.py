import pytest
import torch

from bsd.coding import LabelCode, cosine_decode, encode_stimulus


def test_direct_encoding_repeats_the_analog_input():
    x = torch.rand(3, 5)
    s = encode_stimulus(x, 4, "direct")
    assert s.shape == (4, 3, 5) and torch.equal(s[2], x)


def test_bernoulli_encoding_is_binary_with_the_right_rate():
    torch.manual_seed(0)
    x = torch.full((2000,), 0.3)
    s = encode_stimulus(x, 8, "bernoulli")
    assert set(s.unique().tolist()) <= {0.0, 1.0}
    assert abs(s.mean().item() - 0.3) < 0.02


def test_bad_T_and_encoder():
    with pytest.raises(ValueError, match="model.T"):
        encode_stimulus(torch.rand(2, 2), 0)
    with pytest.raises(ValueError, match="model.encoder"):
        encode_stimulus(torch.rand(2, 2), 2, "latency")


def test_one_hot_code_and_decoding():
    code = LabelCode(10)
    y = torch.tensor([3, 7])
    s = code(y, 4)
    assert s.shape == (4, 2, 10) and s[1, 1, 7] == 1 and s.sum() == 8
    scores = torch.randn(5, 10)
    assert torch.equal(cosine_decode(scores, code.codes), scores.argmax(1))


def test_random_binary_codes_are_distinct_binary_and_seeded():
    a, b = LabelCode(10, "random_binary", dim=32, seed=1), LabelCode(10, "random_binary", dim=32, seed=1)
    assert torch.equal(a.codes, b.codes) and a.dim == 32
    assert torch.unique(a.codes, dim=0).shape[0] == 10
    assert set(a.codes.unique().tolist()) <= {0.0, 1.0}
    # decoding a noisy copy of each code recovers its class
    noisy = a.codes + 0.1 * torch.randn_like(a.codes)
    assert torch.equal(cosine_decode(noisy, a.codes), torch.arange(10))


def test_unknown_code():
    with pytest.raises(ValueError, match="model.code.kind"):
        LabelCode(10, "gray")
