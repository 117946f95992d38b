"""Stimulus encoders, concept (label) codes and cosine decoding."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

ENCODERS = ("direct", "bernoulli", "population")
CODES = ("one_hot", "random_binary")


def encode_stimulus(x: torch.Tensor, T: int, kind: str = "direct") -> torch.Tensor:
    """Turn a batch ``[B, ...]`` with values in [0, 1] into ``[T, B, ...]``.

    ``direct`` repeats the analog value as a constant current; ``bernoulli`` draws
    0/1 spikes with probability equal to the value at every step.
    """
    if T < 1:
        raise ValueError(f"model.T must be >= 1, got {T}")
    rep = x.unsqueeze(0).expand(T, *x.shape)
    if kind == "direct":
        return rep
    if kind == "bernoulli":
        return torch.bernoulli(rep.clamp(0, 1))
    if kind == "population":
        raise ValueError("model.encoder=population codes analog sequence features (model=rnn); "
                         "images use direct or bernoulli")
    raise ValueError(f"model.encoder must be one of {ENCODERS}, got {kind!r}")


class LabelCode(nn.Module):
    """Fixed binary concept code per class: a ``[C, D]`` buffer of 0/1.

    ``one_hot`` has ``D = C``; ``random_binary`` draws each bit with probability
    ``density`` from a seeded generator (codes are distinct and never all-zero).
    """

    def __init__(self, num_classes: int, kind: str = "one_hot", dim: int | None = None,
                 density: float = 0.5, seed: int = 0) -> None:
        super().__init__()
        if kind == "one_hot":
            codes = torch.eye(num_classes)
        elif kind == "random_binary":
            d = dim or num_classes
            g = torch.Generator().manual_seed(seed)
            for _ in range(1000):
                codes = (torch.rand(num_classes, d, generator=g) < density).float()
                if codes.sum(1).min() > 0 and torch.unique(codes, dim=0).shape[0] == num_classes:
                    break
            else:  # pragma: no cover - only for absurd (dim, density)
                raise ValueError(f"cannot draw {num_classes} distinct codes of width {d}")
        else:
            raise ValueError(f"model.code.kind must be one of {CODES}, got {kind!r}")
        self.kind = kind
        self.register_buffer("codes", codes)

    @property
    def dim(self) -> int:
        """Width of the concept layer."""
        return self.codes.shape[1]

    def forward(self, y: torch.Tensor, T: int) -> torch.Tensor:
        """Concept spikes ``[T, B, D]`` for labels ``y`` (the code repeated over T)."""
        c = self.codes[y]
        return c.unsqueeze(0).expand(T, *c.shape)

    def vectors(self, y: torch.Tensor) -> torch.Tensor:
        """``[N] -> [N, D]`` code of each label."""
        return self.codes[y]

    def group(self, y: torch.Tensor) -> torch.Tensor:
        """The label itself (the "class" used by ReCo's ``same_class`` handling)."""
        return y

    def logits(self, out: torch.Tensor) -> torch.Tensor:
        """Class scores of output ``[B, D]``: the output itself for one-hot, else cosine to each code."""
        if self.kind == "one_hot":
            return out
        return cosine_scores(out, self.codes)


def cosine_scores(out: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
    """Cosine similarity ``[B, C]`` of each output row to each class code."""
    return F.normalize(out, dim=1, eps=1e-8) @ F.normalize(codes, dim=1, eps=1e-8).T


def cosine_decode(out: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
    """Predicted class: argmax of cosine similarity to the class codes."""
    return cosine_scores(out, codes).argmax(dim=1)


class PopulationCode(nn.Module):
    """Code for a continuous (normalised) target: ``dim`` Gaussian tuning curves evenly spread over ``[lo, hi]``.

    A value drives the backward net's top layer as an analog current ``[N, dim]`` in [0, 1]
    (values outside the range saturate at the end curves). ``group`` bins a value to its
    nearest centre, which serves as the "class" for ReCo's ``same_class`` handling.
    ``shape = ramp`` uses sigmoid steps at the same centres instead of bumps (a thermometer
    code: every unit's drive grows with the value, as a linear map of the input can).
    ``targets = K > 1`` codes ``K`` values side by side (``[N, K] -> [N, K * dim]``, e.g. a forecast's
    auxiliary horizons); ``group`` then bins the first.
    """

    kind = "population"
    SHAPES = ("gaussian", "ramp")

    def __init__(self, dim: int = 32, lo: float = -3.0, hi: float = 3.0, shape: str = "gaussian",
                 targets: int = 1) -> None:
        super().__init__()
        if targets < 1:
            raise ValueError(f"a population code needs at least one target, got {targets}")
        self.targets = int(targets)
        if shape not in self.SHAPES:
            raise ValueError(f"model.code.shape must be one of {self.SHAPES}, got {shape!r}")
        self.shape = shape
        if dim < 2:
            raise ValueError(f"model.code.dim must be >= 2 for a population code, got {dim}")
        if not hi > lo:
            raise ValueError(f"model.code.lo must be below model.code.hi, got {lo} and {hi}")
        self.register_buffer("centers", torch.linspace(lo, hi, dim))
        self.width = (hi - lo) / (dim - 1)
        self.lo, self.hi = lo, hi

    @property
    def dim(self) -> int:
        """Width of the code (all targets together)."""
        return self.centers.numel() * self.targets

    def vectors(self, y: torch.Tensor) -> torch.Tensor:
        """``[N] -> [N, dim]`` tuning-curve activations (``[N, K] -> [N, K * curves]`` for ``K`` targets)."""
        y = y.clamp(self.lo, self.hi).unsqueeze(-1)
        z = (y - self.centers) / self.width
        v = torch.exp(-0.5 * z ** 2) if self.shape == "gaussian" else torch.sigmoid(2.0 * z)
        return v.flatten(-2) if self.targets > 1 else v

    def group(self, y: torch.Tensor) -> torch.Tensor:
        """Index of the nearest centre of every value (of the first target's, for several)."""
        if self.targets > 1:
            y = y[..., 0]
        return (y.unsqueeze(-1) - self.centers).abs().argmin(-1)
