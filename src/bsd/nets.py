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


def _basal(below: Shape, kind: str, width: int) -> tuple[nn.Module, Shape]:
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
        return nn.Sequential(Upsample(own[1:]), nn.Conv2d(above[0], own[0], 3, padding=1))
    if len(own) == 3:
        return nn.Sequential(nn.Linear(above[0], math.prod(own)), nn.Unflatten(1, own))
    return nn.Linear(math.prod(above), own[0]) if len(above) == 1 else nn.Sequential(nn.Flatten(),
                                                                                    nn.Linear(math.prod(above), own[0]))


def build_stack(in_shape: Sequence[int], stages: Sequence[tuple[str, int]], out_dim: int, lif_kwargs: dict,
                norm: bool = True) -> Stack:
    """Build layers 0..L from the input shape, hidden ``stages`` [(kind, width)], and concept width."""
    for kind, width in stages:
        if kind not in ("conv", "fc"):
            raise ValueError(f"model: unknown stage kind {kind!r} (use conv or fc)")
        if int(width) < 1:
            raise ValueError(f"model.widths / model.channels must be positive integers, got {width}")
    if out_dim < 1:
        raise ValueError(f"concept layer width must be >= 1, got {out_dim}")
    shapes: list[Shape] = [tuple(in_shape)]
    basals: list[nn.Module] = []
    for kind, width in [*stages, ("fc", out_dim)]:
        mod, shape = _basal(shapes[-1], kind, int(width))
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
