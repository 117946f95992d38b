"""Reward-modulated STDP (``rstdp``) on the spiking backbone: a three-factor rule, no gradient anywhere.

Every synapse keeps an eligibility trace of its own pre- and postsynaptic spike timing over the T steps of
a sample (traces ``x_pre(t) = b_pre x_pre(t-1) + s_pre(t)``, ``y_post`` alike, ``b = exp(-1/tau)``):

    e = sum_t [ s_post(t) x_pre(t)  -  a_minus y_post(t-1) s_pre(t) ]    pre before (or with) post: potentiation;
                                                                         post before pre: depression

and a third factor, one value per sample and postsynaptic unit, turns it into a change:

- concept layer (winner-take-all, the class read out): ``dW_L = lr m e`` with a signed reward per output unit.
  ``output=margin``: the target's units fire and get +1, every other unit whose voltage comes within
  ``margin`` of the target's fires and gets -1 (nothing changes when the target leads by the margin);
  ``sign``: the same with the winner alone and no margin; ``reward``: the global reward ``R = +1`` (right)
  or ``-1`` (wrong) on the winner's units;
- hidden layers: lateral inhibition leaves the ``winners`` most depolarised units of each sample (of each
  position in a conv layer), which fire through the sample as the winner does above; their eligibility is
  built from the presynaptic trace against its mean over the batch (a heterosynaptic depression, so inputs
  active on every sample do not grow), and each unit's step is ``hidden_lr`` of its weight norm, which the
  change keeps (weight normalisation). The modulator is one value per sample, the same for every hidden unit:
  ``hidden=one`` (plain STDP; the reward acts on the concept layer) or ``reward`` (``R - <R>``, the
  reward against the batch's mean).

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


def unit_norms(w: torch.Tensor) -> torch.Tensor:
    """The norm of each output unit's (or channel's) incoming weights, shaped to broadcast over ``w``."""
    return w.flatten(1).norm(dim=1).reshape(-1, *([1] * (w.dim() - 1)))


def renormalised(w: torch.Tensor, delta: torch.Tensor) -> torch.Tensor:
    """The change that moves ``w`` along ``delta`` scaled by each unit's weight norm, then back to that norm."""
    n0 = unit_norms(w)
    new = w + n0 * delta
    return new * (n0 / unit_norms(new).clamp_min(1e-12)) - w


def winners(layer, pre: torch.Tensor, k: int) -> torch.Tensor:
    """Lateral inhibition: 1 for the ``k`` units (channels, at each position) of highest mean voltage, for all T."""
    v, _ = layer.basal_voltage(pre, update_running=False)
    vm = v.mean(0)
    top = vm.topk(min(k, vm.shape[1]), dim=1).indices
    mask = torch.zeros_like(vm).scatter_(1, top, 1.0)
    return mask.unsqueeze(0).expand(pre.shape[0], *mask.shape)


def output_modulators(c, code: LabelCode, out_v: torch.Tensor, pred: torch.Tensor, y: torch.Tensor):
    """The concept layer's modulator ``[B, D]`` and the units that fire through the sample ``[B, D]``."""
    won, wanted = code.vectors(pred).to(out_v.dtype), code.vectors(y).to(out_v.dtype)
    if c.output == "sign":  # +1 on the target's units, -1 on a wrong winner's: zero when right
        return wanted - won, torch.maximum(wanted, won)
    if c.output == "margin":  # -1 on every other unit within the margin of the target's voltage, +1 on the target's
        target_v = (out_v * wanted).sum(1, keepdim=True) / wanted.sum(1, keepdim=True)
        near = ((out_v > target_v - c.margin) & (wanted == 0)).to(out_v.dtype)
        any_near = (near.sum(1, keepdim=True) > 0).to(out_v.dtype)
        return wanted * any_near - near, torch.maximum(wanted * any_near, near)
    return ((pred == y).to(out_v.dtype) * 2 - 1).unsqueeze(1) * won, won  # reward: the winner's units only


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
        out_v = fwd.out.mean(0)
        pred = code.logits(out_v).argmax(1)
        correct = pred == y
        reward = correct.to(x.dtype) * 2 - 1
        out = Plasticity(correct=correct)
        n, b = stack.depth, len(y)
        hidden_m = reward - reward.mean() if c.hidden == "reward" else torch.ones_like(reward)
        for i, layer in enumerate(stack.layers[1:], start=1):
            pre = fwd.inputs[i - 1]
            pre = pre.expand(self.T, *pre.shape[1:]) if pre.stride(0) == 0 else pre
            if i < n:
                m, post = hidden_m, winners(layer, pre, c.winners)
                mod = m.reshape(1, b, *([1] * (post.dim() - 2)))
                lr = c.hidden_lr
            else:
                m, post = output_modulators(c, code, out_v, pred, y)
                post = post.unsqueeze(0).expand(self.T, -1, -1)
                mod, lr = m.unsqueeze(0), c.lr
            out.modulators[i], out.activity[i] = m, (pre, post)
            if lr == 0:
                continue
            x_pre = trace(pre, c.tau_pre)
            y_prev = trace(post, c.tau_post)
            y_prev = torch.cat([torch.zeros_like(y_prev[:1]), y_prev[:-1]])
            if i < n:  # presynaptic activity against its mean over the batch (a heterosynaptic depression)
                x_pre, pre_s = x_pre - x_pre.mean(1, keepdim=True), pre - pre.mean(1, keepdim=True)
            else:
                pre_s = pre
            elig = weight_eligibility(layer.basal, [fold(x_pre), fold(pre_s)],
                                      [fold(mod * post), fold(mod * y_prev)], [1.0, -c.a_minus])
            if i < n:  # each unit's step relative to its weight norm, which the change keeps
                scale = lr / (b * self.T * x_pre.flatten(2).norm(dim=2).mean().clamp_min(1e-8))
                params = params_by_name(layer.basal)
                out.deltas[i] = {k: renormalised(params[k], scale * d) for k, d in elig.items()}
            else:
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
