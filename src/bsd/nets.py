"""Builders that turn an architecture config into a stack of pyramidal layers.

The same stack serves every learning rule: ``bsd`` uses both dendrites of every layer,
``bp_snn`` and ``bp_ann`` only the basal path (the forward net).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from torch import nn

from .layers import PyramidalLayer, Upsample
from .neurons import LIF

Shape = tuple[int, ...]


class Stack(nn.Module):
    """Layers 0..L: ``layers[0]`` is the stimulus (recall) layer, ``layers[-1]`` the concept layer."""

    def __init__(self, layers: Sequence[PyramidalLayer], in_shape: Shape) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.in_shape = tuple(in_shape)

    @property
    def depth(self) -> int:
        """Number of weight layers L (basal maps W_1..W_L)."""
        return len(self.layers) - 1

    @property
    def hidden(self) -> list[PyramidalLayer]:
        """Layers 1..L-1."""
        return list(self.layers[1:-1])

    @property
    def concept(self) -> PyramidalLayer:
        """Layer L."""
        return self.layers[-1]

    @property
    def stimulus(self) -> PyramidalLayer:
        """Layer 0."""
        return self.layers[0]


def _basal(below: Shape, kind: str, width: int | Sequence[int]) -> tuple[nn.Module, Shape]:
    if kind == "up":
        if len(below) != 3:
            raise ValueError("model: an up stage (upsample x2 + conv) must follow an image-shaped layer")
        c, h, w = below
        return nn.Sequential(Upsample((2 * h, 2 * w)), nn.Conv2d(c, int(width), 3, padding=1)), (int(width), 2 * h,
                                                                                                  2 * w)
    if kind == "map":  # fully connected onto an image-shaped layer (C, H, W)
        shape = tuple(int(d) for d in width)
        return nn.Sequential(*([nn.Flatten()] if len(below) > 1 else []), nn.Linear(math.prod(below),
                                                                                     math.prod(shape)),
                             nn.Unflatten(1, shape)), shape
    if kind == "conv":
        if len(below) != 3:
            raise ValueError("model.arch: a conv stage cannot follow a fully connected one")
        c, h, w = below
        if h < 2 or w < 2:
            raise ValueError(f"model.channels: too many conv+pool stages for the input; the map is already {h}x{w}")
        return nn.Sequential(nn.Conv2d(c, width, 3, padding=1), nn.AvgPool2d(2)), (width, h // 2, w // 2)
    mods: list[nn.Module] = [nn.Flatten()] if len(below) > 1 else []
    mods.append(nn.Linear(math.prod(below), width))
    return (nn.Sequential(*mods) if len(mods) > 1 else mods[0]), (width,)


def _apical(above: Shape, own: Shape) -> nn.Module:
    if len(own) == 3 and len(above) == 3:
        if above[1] > own[1]:  # mirror of an up stage: conv + average pool back to this layer's size
            return nn.Sequential(nn.Conv2d(above[0], own[0], 3, padding=1), nn.AdaptiveAvgPool2d(own[1:]))
        return nn.Sequential(Upsample(own[1:]), nn.Conv2d(above[0], own[0], 3, padding=1))
    if len(own) == 3:
        return nn.Sequential(nn.Linear(above[0], math.prod(own)), nn.Unflatten(1, own))
    return nn.Linear(math.prod(above), own[0]) if len(above) == 1 else nn.Sequential(nn.Flatten(),
                                                                                    nn.Linear(math.prod(above), own[0]))


STAGE_KINDS = ("conv", "fc", "up", "map")


def build_stack(in_shape: Sequence[int], stages: Sequence[tuple[str, object]], out_dim: int, lif_kwargs: dict,
                norm: bool = True, out_kind: str = "fc") -> Stack:
    """Build layers 0..L from the input shape, hidden ``stages`` [(kind, width)], and the concept stage.

    Stage kinds: ``conv`` (conv3x3 + 2x2 average pool), ``up`` (x2 nearest upsample + conv3x3),
    ``fc`` (fully connected), ``map`` (fully connected onto an image shape ``(C, H, W)``). The
    concept layer is ``(out_kind, out_dim)``: ``fc`` for classifiers, ``up`` for an image decoder.
    """
    for kind, width in [*stages, (out_kind, out_dim)]:
        if kind not in STAGE_KINDS:
            raise ValueError(f"model: unknown stage kind {kind!r} (use one of {STAGE_KINDS})")
        sizes = width if kind == "map" else [width]
        if any(int(d) < 1 for d in sizes):
            raise ValueError(f"model.widths / model.channels / model.latent must be positive integers, got {width}")
    shapes: list[Shape] = [tuple(in_shape)]
    basals: list[nn.Module] = []
    for kind, width in [*stages, (out_kind, out_dim)]:
        mod, shape = _basal(shapes[-1], kind, width if kind == "map" else int(width))
        basals.append(mod)
        shapes.append(shape)
    n = len(shapes)
    layers = []
    for i, shape in enumerate(shapes):
        basal = basals[i - 1] if i > 0 else None
        apical = _apical(shapes[i + 1], shape) if i < n - 1 else None
        hidden = 0 < i < n - 1
        layers.append(PyramidalLayer(shape, basal, apical, LIF(**lif_kwargs), norm_basal=norm and hidden,
                                     norm_apical=norm and hidden))
    return Stack(layers, in_shape)


def mlp_stages(widths: Sequence[int]) -> list[tuple[str, int]]:
    """Hidden stages of an MLP: one fully connected layer per width."""
    if len(widths) < 1:
        raise ValueError("model.widths must list at least one hidden width")
    return [("fc", w) for w in widths]


def cnn_stages(channels: Sequence[int], fc: Sequence[int]) -> list[tuple[str, int]]:
    """Hidden stages of a CNN: conv3x3 + 2x2 average pool per channel count, then fully connected widths."""
    if len(channels) < 1:
        raise ValueError("model.channels must list at least one conv stage")
    return [("conv", c) for c in channels] + [("fc", w) for w in fc]


def autoencoder_stages(in_shape: Sequence[int], channels: Sequence[int], latent: int) -> list[tuple[str, object]]:
    """Hidden stages of a conv autoencoder mirrored around a fully connected latent layer.

    Conv+pool per channel count, the latent layer, a fully connected map back onto the last conv
    shape, then x2 up stages mirroring the encoder.

    The concept stage is ``("up", in_channels)``: the image itself.
    """
    if len(channels) < 1:
        raise ValueError("model.channels must list at least one conv stage")
    c, h, w = in_shape
    if h % 2 ** len(channels) or w % 2 ** len(channels):
        raise ValueError(f"model.channels: {len(channels)} conv+pool stages need the image size ({h}x{w}) to be "
                         f"divisible by {2 ** len(channels)}")
    k = 2 ** len(channels)
    enc = [("conv", ch) for ch in channels]
    dec: list[tuple[str, object]] = [("map", (channels[-1], h // k, w // k))]
    dec += [("up", ch) for ch in reversed(channels[:-1])]
    return [*enc, ("fc", latent), *dec]
