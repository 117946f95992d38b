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


class DirectCode(nn.Module):
    """The spec's code for a continuous target: the (normalised) value itself, an analog current ``[N, K]``.

    ``targets = K`` values side by side (a forecast's auxiliary horizons). Every sample is its own "class" for
    ReCo's ``same_class`` handling (``group``): no two values are treated as the same target.
    """

    kind = "direct"

    def __init__(self, targets: int = 1) -> None:
        super().__init__()
        if targets < 1:
            raise ValueError(f"a direct code needs at least one target, got {targets}")
        self.targets = int(targets)

    @property
    def dim(self) -> int:
        """Width of the code: one current per target."""
        return self.targets

    def vectors(self, y: torch.Tensor) -> torch.Tensor:
        """``[N] -> [N, 1]`` (``[N, K]`` for ``K`` targets, unchanged)."""
        return y if self.targets > 1 else y.unsqueeze(-1)

    def group(self, y: torch.Tensor) -> torch.Tensor:
        """A distinct group per value (``[N]`` from ``[N]`` or ``[N, K]``)."""
        return torch.arange(y.shape[0], device=y.device)


#: what selects a :class:`GatedCode`'s block: the input step's part of the day (``day``), the part of the day and
#: whether it falls on a weekend (``week``: ``bins / 2`` parts, weekdays first), or the side of ``log2(bins)`` fixed
#: random hyperplanes through the origin of the (normalised) input step (``halfspace``)
CONTEXTS = ("day", "week", "halfspace")


class GatedCode(nn.Module):
    """A population code placed in one of ``bins`` blocks, chosen per sample by a context bin (our extension).

    ``vectors(y, bins) -> [N, bins * base.dim]``: the base code of ``y`` in block ``bins[n]``, zeros elsewhere.
    For the forecaster the context is the time-of-day bin of the input step, so every hidden unit's apical
    target (through ``Theta``) belongs mostly to one part of the day, and the unit is asked to follow the
    target there only: a gating that a unit fed a linear drive of the time of day can learn. ``group`` (the
    "class" of ReCo's ``same_class`` handling) is the base group within the block. ``keep_base`` puts the
    ungated code in front of the blocks as well (``[N, (bins + 1) * base.dim]``), so two samples with near targets
    in different bins still have similar codes.
    """

    kind = "population"

    def __init__(self, base: PopulationCode, bins: int, keep_base: bool = False, context: str = "day",
                 in_dim: int | None = None, seed: int = 0) -> None:
        super().__init__()
        if bins < 2:
            raise ValueError(f"model.code.context_bins must be 0 (off) or >= 2, got {bins}")
        if context not in CONTEXTS:
            raise ValueError(f"model.code.context must be one of {CONTEXTS}, got {context!r}")
        self.base, self.bins, self.keep_base, self.context = base, int(bins), bool(keep_base), context
        self.register_buffer("planes", None, persistent=False)
        if context == "week" and bins % 2:
            raise ValueError(f"model.code.context=week needs an even context_bins (parts of the day x weekday / "
                             f"weekend), got {bins}")
        if context == "halfspace":
            k = int(bins).bit_length() - 1
            if 1 << k != bins:
                raise ValueError(f"model.code.context=halfspace needs context_bins to be a power of two (2^k for k "
                                 f"hyperplanes), got {bins}")
            if not in_dim:
                raise ValueError("model.code.context=halfspace needs the input width")
            g = torch.Generator().manual_seed(int(seed))  # fixed hyperplanes, rebuilt from the config
            self.planes = torch.randn(int(in_dim), k, generator=g)

    def halfspace_bins(self, x: torch.Tensor) -> torch.Tensor:
        """``[N, F] -> [N]``: which side of each fixed random hyperplane through the origin ``x`` lies on, as bits."""
        bits = (x.to(self.planes.dtype) @ self.planes > 0).long()
        return (bits << torch.arange(bits.shape[-1], device=x.device)).sum(-1)

    @property
    def dim(self) -> int:
        """Width of the code: one block of the base code per bin (and one more with ``keep_base``)."""
        return self.base.dim * (self.bins + self.keep_base)

    def vectors(self, y: torch.Tensor, bins: torch.Tensor) -> torch.Tensor:
        """``[N] (or [N, K]), [N] -> [N, bins * base.dim]`` (``(bins + 1) * base.dim`` with ``keep_base``)."""
        v = self.base.vectors(y)
        gate = F.one_hot(bins.long(), self.bins).to(v.dtype)
        gated = (gate.unsqueeze(-1) * v.unsqueeze(-2)).flatten(-2)
        return torch.cat([v, gated], -1) if self.keep_base else gated

    def unit_mask(self, units: int) -> torch.Tensor:
        """``[units, dim]`` 0/1: unit ``j`` reads only block ``j mod bins`` (and the ungated code with ``keep_base``).

        Through a Theta restricted this way every unit's apical target is zero outside its own part of the day.
        """
        m = torch.zeros(units, self.dim)
        d, off = self.base.dim, self.base.dim * self.keep_base
        for j in range(units):
            b = j % self.bins
            m[j, off + b * d: off + (b + 1) * d] = 1.0
        if self.keep_base:
            m[:, :d] = 1.0
        return m

    def group(self, y: torch.Tensor, bins: torch.Tensor) -> torch.Tensor:
        """Nearest centre of the (first) target, distinct per bin."""
        return bins.long() * self.base.centers.numel() + self.base.group(y)


def week_bins(day_sin: torch.Tensor, day_cos: torch.Tensor, week_sin: torch.Tensor, week_cos: torch.Tensor,
              bins: int) -> torch.Tensor:
    """Index in ``[0, bins)``: the part of the day (``bins / 2`` parts), plus ``bins / 2`` on Saturdays and Sundays.

    The week's phase is ``(day of week + time of day) / 7`` with Monday = 0 (the calendar features' convention).
    """
    half = bins // 2
    weekday = day_bins(week_sin, week_cos, 7)
    return day_bins(day_sin, day_cos, half) + half * (weekday >= 5).long()


def day_bins(sin: torch.Tensor, cos: torch.Tensor, bins: int) -> torch.Tensor:
    """Index in ``[0, bins)`` of the part of the day whose phase has sine ``sin`` and cosine ``cos``."""
    phase = torch.remainder(torch.atan2(sin, cos) / (2 * torch.pi), 1.0)
    return (phase * bins + 1e-6).floor().long().clamp_max(bins - 1)
