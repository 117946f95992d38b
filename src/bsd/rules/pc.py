"""Predictive coding (``pc``) on the ANN form of the backbone (ReLU, one step), as in the paper's row.

Supervised predictive coding (Whittington & Bogacz 2017, with a cross-entropy top as in Millidge et al.):
each hidden layer l holds an activity ``x_l`` (a voltage); layer l - 1 predicts it as
``mu_l = norm_l(W_l relu(x_{l-1}))`` (layer 1 from the clamped stimulus), the prediction error is
``eps_l = x_l - mu_l`` and the label is clamped at the top through ``CE(W_L relu(x_{L-1}), y)``. The energy

    F = sum_l 1/2 |eps_l|^2 + CE(W_L relu(x_{L-1}), y)

is first minimised over the activities (``model.pc.steps`` steps of size ``model.pc.inference_lr``, starting
from the feed-forward pass: the inference phase), then each layer's weights descend their own term of F
with the activities held (the learning phase): ``dW_l ~ eps_l relu(x_{l-1})^T`` through the layer's own norm,
a product of the layer's prediction error and its input. Inference reads the forward weights transposed
(weight transport), so pc meets C2 only.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..coding import LabelCode
from ..nets import Stack
from .base import Rule
from .bp import ANN_IGNORED, ANNVariant
from .registry import register


@register("image", "pc")
class PC(ANNVariant, Rule):
    """Inference of the hidden activities to equilibrium, then local updates from the prediction errors."""

    name = "pc"
    #: every loss reaches one layer's parameters only (clipping: ``model.optimizer.clip_local``)
    layer_local = True
    criteria = ("C2",)
    signed_losses = ("concept cross-entropy", "every layer's prediction error (signed, also in the inference)")
    ignored_keys = ANN_IGNORED
    reads = ("model.pc",)

    def feedback_tensors(self, stack: Stack) -> list[torch.Tensor]:
        """The inference sends the errors down through the forward weights (weight transport)."""
        return [p for layer in stack.layers for p in layer.basal_parameters()]

    def infer(self, stack: Stack, code: LabelCode, x: torch.Tensor, y: torch.Tensor
              ) -> tuple[torch.Tensor, list[torch.Tensor], list, list[torch.Tensor], torch.Tensor]:
        """The inference phase.

        Returns the stimulus, the activities at equilibrium, the feed-forward norm statistics, the
        feed-forward activities and the energy at every step ``[steps + 1]``.
        """
        cfg = self.cfg.pc
        x0 = self.encode(stack, x)[0]
        hidden = stack.hidden
        with torch.no_grad():  # the feed-forward pass: predictions from the stimulus up, errors zero
            feed, stats, h = [], [], x0
            for i, layer in enumerate(hidden):
                v, st = layer.basal_voltage((h if i == 0 else torch.relu(h)).unsqueeze(0))
                feed.append(v[0])
                stats.append(st)
                h = v[0]
        acts = [v.clone().requires_grad_() for v in feed]
        energies = []
        with torch.enable_grad():
            for k in range(cfg.steps + 1):
                energy = self.energy(stack, code, feed[0], acts, stats, y)
                energies.append(energy.detach())
                if k == cfg.steps:
                    break
                grads = torch.autograd.grad(energy, acts)
                with torch.no_grad():
                    for a, g in zip(acts, grads, strict=True):
                        a.sub_(cfg.inference_lr * g)
        return x0, [a.detach() for a in acts], stats, feed, torch.stack(energies)

    @staticmethod
    def energy(stack: Stack, code: LabelCode, mu1: torch.Tensor, acts: list[torch.Tensor], stats: list,
               y: torch.Tensor) -> torch.Tensor:
        """F summed over the batch, each layer's prediction with the feed-forward norm statistics held."""
        total = 0.5 * (acts[0] - mu1).square().sum()  # layer 1's prediction is fixed: the stimulus is clamped
        for i, layer in enumerate(stack.hidden[1:], start=1):
            mu = layer.basal_norm(layer.basal(torch.relu(acts[i - 1])), stats[i])
            total = total + 0.5 * (acts[i] - mu).square().sum()
        logits = code.logits(stack.concept.basal(torch.relu(acts[-1])))
        return total + F.cross_entropy(logits, y, reduction="sum")

    def layer_losses(self, stack: Stack, code: LabelCode, x: torch.Tensor, y: torch.Tensor):  # noqa: D102
        x0, acts, stats, feed, energies = self.infer(stack, code, x, y)
        losses = {}
        for i, layer in enumerate(stack.hidden, start=1):
            inp = x0 if i == 1 else torch.relu(acts[i - 2])
            mu = layer.basal_reduced(inp, stats[i - 1])
            losses[i] = 0.5 * (acts[i - 1] - mu).square().sum(tuple(range(1, mu.dim()))).mean()
        ce = F.cross_entropy(code.logits(stack.concept.basal(torch.relu(acts[-1]))), y)
        losses[stack.depth] = ce
        logs = {"loss/concept": ce.detach(), "pc/energy_start": energies[0] / len(y),
                "pc/energy_end": energies[-1] / len(y)}
        return losses, logs

    def loss(self, stack: Stack, code: LabelCode, x: torch.Tensor, y: torch.Tensor):  # noqa: D102
        losses, logs = self.layer_losses(stack, code, x, y)
        return sum(losses.values()), logs
