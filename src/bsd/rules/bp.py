"""Back-propagation baselines on the same backbone (spec section 6)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..coding import LabelCode
from ..nets import Stack
from .base import Rule, forward_net, relu
from .registry import register

#: config keys back-propagation never reads (bsd's local losses and their weights)
BP_IGNORED = ("model.reco", "model.loss_weights.hidden", "model.loss_weights.recall", "model.decorrelation",
              "model.image_readout", "model.decoder_match", "model.backward")
#: what the ANN twin ignores besides: the spiking dynamics
ANN_IGNORED = (*BP_IGNORED, "model.T", "model.neuron.threshold", "model.neuron.beta", "model.neuron.reset",
               "model.neuron.surrogate", "model.neuron.alpha", "model.neuron.compile", "model.neuron.graph",
               "model.neuron.adapt", "model.neuron.adapt_tau", "model.reduce_T", "model.latent_sampling")


@register("image", "bp_snn")
class BPSNN(Rule):
    """Forward net only, end-to-end BPTT through the LIF dynamics with surrogate gradients."""

    name = "bp_snn"
    criteria = ("C4",)
    ignored_keys = BP_IGNORED

    def feedback_tensors(self, stack: Stack) -> list[torch.Tensor]:
        """Back-propagation sends the error down through the forward weights themselves (weight transport)."""
        return [p for layer in stack.layers for p in layer.basal_parameters()]

    def loss(self, stack: Stack, code: LabelCode, x: torch.Tensor, y: torch.Tensor):  # noqa: D102
        trace = forward_net(stack, self.encode(stack, x), self.activation)
        ce = F.cross_entropy(code.logits(trace.out.mean(0)), y)
        return ce, {"loss/concept": ce.detach()}


class ANNVariant:
    """Mixin turning a BP-on-SNN rule into its ANN twin: ReLU instead of LIF, one time step."""

    name = "bp_ann"
    criteria = ()
    ignored_keys = ANN_IGNORED
    activation = staticmethod(relu)

    @property
    def T(self) -> int:  # noqa: D102
        return 1


@register("image", "bp_ann")
class BPANN(ANNVariant, BPSNN):
    """The same architecture with ReLU instead of LIF and a single time step."""
