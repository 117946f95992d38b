"""Reward-modulated STDP (``rstdp``) on the spiking backbone: a three-factor rule, no gradient anywhere.

Every synapse keeps an eligibility trace of its own pre- and postsynaptic spike timing over the T steps of
a sample (traces ``x_pre(t) = b_pre x_pre(t-1) + s_pre(t)``, ``y_post`` alike, ``b = exp(-1/tau)``):

    e = sum_t [ s_post(t) x_pre(t)  -  a_minus y_post(t-1) s_pre(t) ]    pre before (or with) post: potentiation;
                                                                         post before pre: depression

and a global reward ``R = +1`` (the sample was classified right) or ``-1`` (wrong) turns it into a change:

- concept layer (winner-take-all): lateral inhibition leaves one winner, the class read out (its code's
  units fire for the whole sample, the others stay silent); ``dW_L = lr R e``;
- hidden layers: ``dW_i = hidden_lr (R - <R>) e_i`` with ``<R>`` the batch's mean reward (the expected
  reward, so a layer does not drift where reward is as expected).

The changes are applied to the weights in place inside :meth:`RSTDP.loss` (the synapses change while the
sample is presented: there is no optimiser step), which returns the batch's error rate as its loss, a
value without a graph to the weights. Only weights learn; biases and norms keep their initial values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from ..coding import LabelCode
from ..nets import Stack
from .base import Rule, forward_net
from .bp import BP_IGNORED
from .registry import register
from .signals import params_by_name, update_loss, weight_eligibility


def fold(t: torch.Tensor) -> torch.Tensor:
    """``[T, B, ...] -> [T * B, ...]``."""
    return t.reshape(-1, *t.shape[2:])


def trace(s: torch.Tensor, tau: float) -> torch.Tensor:
    """Low-pass trace ``x(t) = exp(-1/tau) x(t-1) + s(t)`` of ``[T, ...]`` (from zero)."""
    b = math.exp(-1.0 / tau)
    out = torch.empty_like(s)
    acc = torch.zeros_like(s[0])
    for t in range(s.shape[0]):
        acc = acc * b + s[t]
        out[t] = acc
    return out


@dataclass
class Plasticity:
    """One batch's weight changes and the signals that made them (the plausibility tests read them)."""

    #: layer index -> {parameter name in that layer's basal map: change}
    deltas: dict[int, dict[str, torch.Tensor]] = field(default_factory=dict)
    #: layer index -> the modulator each sample's synapses received in that layer, ``[B]``
    modulators: dict[int, torch.Tensor] = field(default_factory=dict)
    #: layer index -> (presynaptic, postsynaptic) activity ``[T, B, ...]`` the eligibility was built from
    activity: dict[int, tuple[torch.Tensor, torch.Tensor]] = field(default_factory=dict)
    correct: torch.Tensor | None = None


@register("image", "rstdp")
class RSTDP(Rule):
    """Eligibility traces of spike timing, turned into weight changes by a global reward."""

    name = "rstdp"
    criteria = ("C1", "C2", "C3", "C4", "C5")
    signed_losses = ("none; the reward is one global value per sample (+1 right, -1 wrong)",)
    ignored_keys = (*BP_IGNORED, "model.loss_weights", "model.optimizer", "model.neuron.surrogate",
                    "model.neuron.alpha", "model.neuron.graph", "model.reduce_T")
    reads = ("model.rstdp",)
    feedback_trained = False

    def feedback_tensors(self, stack: Stack) -> list[torch.Tensor]:
        """None: no teaching signal travels down the stack, only the global reward."""
        return []

    @torch.no_grad()
    def plasticity(self, stack: Stack, code: LabelCode, x: torch.Tensor, y: torch.Tensor) -> Plasticity:
        """The weight changes of one batch (nothing is applied here)."""
        c = self.cfg.rstdp
        fwd = forward_net(stack, self.encode(stack, x))
        pred = code.logits(fwd.out.mean(0)).argmax(1)
        correct = pred == y
        reward = correct.to(x.dtype) * 2 - 1
        out = Plasticity(correct=correct)
        n, b = stack.depth, len(y)
        won, wanted = code.vectors(pred).to(x.dtype), code.vectors(y).to(x.dtype)
        for i, layer in enumerate(stack.layers[1:], start=1):
            pre = fwd.inputs[i - 1]
            if i < n:
                post, m = fwd.inputs[i], reward - reward.mean()
                mod = m.reshape(1, b, *([1] * (post.dim() - 2)))
            else:  # winner-take-all: the winner's units fire through the sample (the teacher drives the target's)
                if c.output == "sign":  # +1 on the target's units, -1 on a wrong winner's: zero when right
                    m = wanted - won
                    post = torch.maximum(wanted, won).unsqueeze(0).expand(self.T, -1, -1)
                else:  # the global reward on the winner's units
                    m = reward.unsqueeze(1) * won
                    post = won.unsqueeze(0).expand(self.T, -1, -1)
                mod = m.unsqueeze(0)
            lr = c.lr if i == n else c.hidden_lr
            out.modulators[i], out.activity[i] = m, (pre, post)
            if lr == 0:
                continue
            y_post = trace(post, c.tau_post)
            y_prev = torch.cat([torch.zeros_like(y_post[:1]), y_post[:-1]])
            pre_t = pre.expand(self.T, *pre.shape[1:]) if pre.stride(0) == 0 else pre
            elig = weight_eligibility(layer.basal, [fold(trace(pre_t, c.tau_pre)), fold(pre_t)],
                                      [fold(mod * post), fold(mod * y_prev)], [1.0, -c.a_minus])
            out.deltas[i] = {k: (lr / b) * d for k, d in elig.items()}
        return out

    def layer_losses(self, stack: Stack, code: LabelCode, x: torch.Tensor, y: torch.Tensor):
        """Each layer's changes as a surrogate loss ``-sum(dW * W)`` (the C2 check; training applies them in place)."""
        p = self.plasticity(stack, code, x, y)
        losses = {}
        for i, d in p.deltas.items():
            params = params_by_name(stack.layers[i].basal)
            losses[i] = sum(update_loss(params[k], v) for k, v in d.items())
        return losses, {"rstdp/error": 1 - p.correct.float().mean()}

    def loss(self, stack: Stack, code: LabelCode, x: torch.Tensor, y: torch.Tensor):  # noqa: D102
        p = self.plasticity(stack, code, x, y)
        with torch.no_grad():
            for i, d in p.deltas.items():
                params = params_by_name(stack.layers[i].basal)
                for k, v in d.items():
                    params[k].add_(v)
        err = 1 - p.correct.float().mean()
        # the error rate as the loss: a leaf with no path to the weights, so the optimiser leaves them alone
        return err.clone().requires_grad_(), {"rstdp/error": err}
