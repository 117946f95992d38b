"""Feedback alignment (``fa``) and direct feedback alignment (``dfa``) on the spiking backbone.

Both train the forward net alone, with surrogate gradients through each layer's LIF, and replace the
transposed forward weights of back-propagation by fixed random matrices drawn once from
``model.fa.seed`` (they share no tensor with the forward weights and are never trained):

- ``fa`` (Lillicrap et al. 2016): the error at layer i+1 reaches layer i through ``B_{i+1}`` (the shape of
  ``W_{i+1}``), one layer at a time: ``delta_i = B_{i+1}^T delta_{i+1}``, then through layer i's own norm and
  surrogate spike derivative.
- ``dfa`` (Nøkland 2016): the output error ``e = dCE/dy`` reaches every hidden layer i at once through its
  own ``D_i`` (from the concept layer's width to layer i's units); layer i learns from
  ``L_i = sum(mean_t(s_i) * (D_i e))`` with its input detached, so no gradient crosses a layer.
"""

from __future__ import annotations

import math
from functools import partial

import torch
import torch.nn.functional as F

from ..coding import LabelCode
from ..layers import apply_folded
from ..nets import Stack
from .base import Rule, forward_net
from .bp import BP_IGNORED
from .registry import register
from .signals import draw_feedback, feedback_map, random_matrix, value_with_gradient


class _RandomFeedback(Rule):
    """What fa and dfa share: the forward net's loss, and fixed random matrices drawn per stack and device."""

    signed_losses = ("concept cross-entropy", "its error, sent down through the random feedback")
    ignored_keys = (*BP_IGNORED, "model.optimizer.clip_local")  # fa clips one norm, as back-propagation
    reads = ("model.fa",)
    criteria = ("C1", "C4")
    feedback_trained = False

    def __init__(self, cfg) -> None:
        super().__init__(cfg)
        self._feedback: dict[tuple[int, str], list[dict[str, torch.Tensor]]] = {}

    def feedback(self, stack: Stack) -> list[dict[str, torch.Tensor]]:
        """The fixed matrices of ``stack``, one dict per layer (drawn on first use; ``model.fa.seed``)."""
        w = stack.concept.basal
        key = (id(stack), str(next(w.parameters()).device))
        if key not in self._feedback:
            self._feedback[key] = self.draw(stack)
        return self._feedback[key]

    def draw(self, stack: Stack) -> list[dict[str, torch.Tensor]]:
        """One dict of fixed tensors per layer 0..L."""
        raise NotImplementedError

    def feedback_tensors(self, stack: Stack) -> list[torch.Tensor]:  # noqa: D102
        return [t for d in self.feedback(stack) for t in d.values()]


@register("image", "fa")
class FA(_RandomFeedback):
    """Feedback alignment: back-propagation through time inside each layer, fixed random matrices between layers."""

    name = "fa"

    def draw(self, stack: Stack) -> list[dict[str, torch.Tensor]]:  # noqa: D102
        f = self.cfg.fa
        # layer 1 reads the stimulus: no error is sent below it
        return [{} if i < 2 else draw_feedback(layer.basal, f.seed, f.scale, i) for i, layer in enumerate(stack.layers)]

    def loss(self, stack: Stack, code: LabelCode, x: torch.Tensor, y: torch.Tensor):  # noqa: D102
        fb = self.feedback(stack)
        s = self.encode(stack, x)
        for i, layer in enumerate(stack.hidden, start=1):
            if i == 1:  # the stimulus carries no gradient: the map needs no feedback
                v, _ = layer.basal_voltage(s)
            else:
                v, _ = layer.basal_norm.simulate(apply_folded(partial(feedback_map, layer.basal, feedback=fb[i]), s))
            s = layer.lif(v)
        out = apply_folded(partial(feedback_map, stack.concept.basal, feedback=fb[-1]), s)
        ce = F.cross_entropy(code.logits(out.mean(0)), y)
        return ce, {"loss/concept": ce.detach()}


@register("image", "dfa")
class DFA(_RandomFeedback):
    """Direct feedback alignment: the output error projected straight to every hidden layer."""

    name = "dfa"
    #: every loss reaches one layer's parameters only (clipping: ``model.optimizer.clip_local``)
    layer_local = True
    ignored_keys = BP_IGNORED
    signed_losses = ("concept cross-entropy", "its error, broadcast to every hidden layer")

    def draw(self, stack: Stack) -> list[dict[str, torch.Tensor]]:  # noqa: D102
        f, d_out = self.cfg.fa, stack.concept.shape[0]
        like = next(stack.concept.parameters())
        # one matrix [units, D_L] per hidden layer: the error of the D_L output units to each of its units
        return [{}, *({"weight": random_matrix((math.prod(layer.shape), d_out), d_out, f.seed, f.scale, i, like)}
                      for i, layer in enumerate(stack.hidden, start=1)), {}]

    def layer_losses(self, stack: Stack, code: LabelCode, x: torch.Tensor, y: torch.Tensor):  # noqa: D102
        fb = self.feedback(stack)
        trace = forward_net(stack, self.encode(stack, x), local=True)
        out = stack.concept.basal(trace.inputs[-1].mean(0))  # the concept layer reads detached spikes
        ce = F.cross_entropy(code.logits(out), y)
        (e,) = torch.autograd.grad(ce, out, retain_graph=True)  # the output error dCE/dy, [B, D_L]
        losses = {stack.depth: ce}
        for i, own in enumerate(trace.own, start=1):
            teach = (e.detach() @ fb[i]["weight"].T).reshape(e.shape[0], *own.shape[2:])
            losses[i] = (own.mean(0) * teach).sum()
        return losses, {"loss/concept": ce.detach()}

    def loss(self, stack: Stack, code: LabelCode, x: torch.Tensor, y: torch.Tensor):  # noqa: D102
        losses, logs = self.layer_losses(stack, code, x, y)
        n = stack.depth
        return value_with_gradient(losses[n], *(losses[i] for i in range(1, n))), logs
