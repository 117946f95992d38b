"""Back-propagation baselines on the same backbone (spec section 6)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..coding import LabelCode
from ..nets import Stack
from .base import Rule, forward_net, relu


class BPSNN(Rule):
    """Forward net only, end-to-end BPTT through the LIF dynamics with surrogate gradients."""

    name = "bp_snn"
    criteria = ("C4",)

    def loss(self, stack: Stack, code: LabelCode, x: torch.Tensor, y: torch.Tensor):  # noqa: D102
        trace = forward_net(stack, self.encode(stack, x), self.activation)
        ce = F.cross_entropy(code.logits(trace.out.mean(0)), y)
        return ce, {"loss/concept": ce.detach()}


class ANNVariant:
    """Mixin turning a BP-on-SNN rule into its ANN twin: ReLU instead of LIF, one time step."""

    name = "bp_ann"
    criteria = ()
    activation = staticmethod(relu)

    @property
    def T(self) -> int:  # noqa: D102
        return 1


class BPANN(ANNVariant, BPSNN):
    """The same architecture with ReLU instead of LIF and a single time step."""
