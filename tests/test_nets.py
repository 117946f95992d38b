import pytest
import torch

from bsd.nets import build_stack, cnn_stages, mlp_stages

LIF = {"threshold": 0.6, "beta": 0.5}


def test_mlp_shapes_and_roles():
    stack = build_stack((784,), mlp_stages([256] * 5), 10, LIF)
    assert stack.depth == 6 and len(stack.hidden) == 5
    assert stack.stimulus.basal is None and stack.concept.apical is None
    assert stack.layers[3].basal.weight.shape == (256, 256) and stack.stimulus.apical.weight.shape == (784, 256)


def test_cnn_forward_and_mirror_shapes():
    stack = build_stack((1, 28, 28), cnn_stages([64, 128, 64], [256]), 10, LIF)
    shapes = [(1, 28, 28), (64, 14, 14), (128, 7, 7), (64, 3, 3), (256,), (10,)]
    assert [layer.shape for layer in stack.layers] == shapes
    s = torch.rand(2, 1, 28, 28)
    for i, layer in enumerate(stack.layers[1:], start=1):
        s = layer.basal(s)
        assert s.shape[1:] == stack.layers[i].shape
    for i in range(stack.depth - 1, -1, -1):
        above = torch.rand(2, *stack.layers[i + 1].shape)
        assert stack.layers[i].apical(above).shape[1:] == stack.layers[i].shape


@pytest.mark.parametrize(("stages", "match"), [
    ([("fc", 0)], "positive"),
    ([("conv", 8)] * 6, "too many conv"),
    ([("fc", 8), ("conv", 8)], "cannot follow"),
])
def test_widths_that_do_not_fit_the_data(stages, match):
    shape = (1, 28, 28) if stages[0][0] == "conv" or stages[-1][0] == "conv" else (784,)
    with pytest.raises(ValueError, match=match):
        build_stack(shape, stages, 10, LIF)


def test_empty_width_lists():
    with pytest.raises(ValueError, match="model.widths"):
        mlp_stages([])
    with pytest.raises(ValueError, match="model.channels"):
        cnn_stages([], [256])


def test_autoencoder_stages_mirror_the_encoder_and_end_on_the_image():
    from bsd.nets import autoencoder_stages

    stages = autoencoder_stages((1, 28, 28), [16, 32], 20)
    assert stages == [("conv", 16), ("conv", 32), ("fc", 20), ("map", (32, 7, 7)), ("up", 16)]
    stack = build_stack((1, 28, 28), stages, 1, LIF, out_kind="up")
    assert stack.concept.shape == (1, 28, 28)
    with pytest.raises(ValueError, match="divisible"):
        autoencoder_stages((1, 28, 28), [8, 8, 8], 20)
    with pytest.raises(ValueError, match="up stage"):
        build_stack((784,), [("up", 4)], 10, LIF)


def test_upsample_by_integer_factors_equals_nearest_interpolation():
    import torch.nn.functional as F

    from bsd.layers import Upsample

    x = torch.randn(3, 4, 7, 5)
    for size in [(14, 10), (21, 5), (9, 11)]:
        assert torch.equal(Upsample(size)(x), F.interpolate(x, size=size, mode="nearest"))
