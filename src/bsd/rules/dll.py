"""Dendritic Localized Learning (``dll``; Lv et al., ICML 2025) on the ANN form of the backbone (ReLU, one step).

Each hidden layer i is a population of pyramidal neurons with three compartments:

    basal   v_i  = norm_i(W_i r_{i-1})            bottom-up, r = relu(v) the rate sent up
    apical  a_i  = Theta_i xi_{i+1}               top-down, through its own weights (no bias)
    soma    xi_i = clip(relu'(v_i) * a_i)          the neuron's local error: where the apical input
                                                   asks the soma to move its basal potential

with the label clamped at the top: ``xi_L = -dCE/dy`` (one-hot minus the softmax for one-hot codes). Both
weights learn from quantities at their own synapses, in the same step as the forward pass:

    dW_i     ~ xi_i r_{i-1}^T                     (through layer i's own norm: the surrogate loss -sum(xi_i v_i))
    dTheta_i = theta_lr xi_i xi_{i+1}^T / B        (Hebbian between the error it delivers and the error it causes)

``model.dll.clip`` bounds every local error (the reference code's 50). W's change reaches the optimiser as a
surrogate loss (:mod:`bsd.rules.signals`); Theta's Hebbian change is applied in place at its own rate
``model.dll.theta_lr`` (the reference code trains Theta ten times slower than W), since the shared AdamW
step would move both at the same rate whatever their scales.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..coding import LabelCode
from ..nets import Stack
from .base import Rule
from .bp import ANN_IGNORED, ANNVariant
from .registry import register
from .signals import params_by_name, update_loss, value_with_gradient, weight_eligibility


def linear_part(module: torch.nn.Module, e: torch.Tensor) -> torch.Tensor:
    """``module(e) - module(0)``: the apical map without its bias (an error of zero drives nothing)."""
    return module(e) - module(torch.zeros_like(e[:1]))


@register("image", "dll")
class DLL(ANNVariant, Rule):
    """Local errors in each neuron's apical compartment, W and Theta learned from them."""

    name = "dll"
    #: every loss reaches one layer's parameters only (clipping: ``model.optimizer.clip_local``)
    layer_local = True
    criteria = ("C1", "C2", "C3")
    signed_losses = ("concept cross-entropy", "every layer's local error (signed, analog)")
    ignored_keys = ANN_IGNORED
    reads = ("model.dll",)

    @property
    def feedback_trained(self) -> bool:  # noqa: D102
        return self.cfg.dll.theta_lr > 0

    def feedback_tensors(self, stack: Stack) -> list[torch.Tensor]:
        """The apical weights Theta of the hidden layers (their norms and biases are not used)."""
        return [m.weight for layer in stack.hidden for m in layer.apical.modules()
                if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d))]

    def signals(self, stack: Stack, code: LabelCode, x: torch.Tensor, y: torch.Tensor):
        """Forward pass and local errors: ``(W surrogate losses {i: L_i}, Theta changes {i: {name: d}}, logs)``."""
        cfg, b = self.cfg.dll, len(y)
        h = self.encode(stack, x)
        volts = []
        for layer in stack.hidden:  # every layer's graph reaches its own W and norm only
            v, _ = layer.basal_voltage(h.detach())
            volts.append(v[0])
            h = torch.relu(v).detach()
        out = stack.concept.basal(h[0])
        ce = F.cross_entropy(code.logits(out), y, reduction="sum")
        (g,) = torch.autograd.grad(ce, out, retain_graph=True)
        errors = [-g.detach()]  # xi_L: each sample's own error, not divided by the batch size
        with torch.no_grad():
            for i in range(stack.depth - 1, 0, -1):  # the apical compartments, from the top down
                apical = linear_part(stack.layers[i].apical, errors[0])
                errors.insert(0, ((volts[i - 1] > 0) * apical).clamp(-cfg.clip, cfg.clip))
        losses = {stack.depth: ce / b}
        theta = {}
        for i, layer in enumerate(stack.hidden, start=1):
            losses[i] = -(errors[i - 1] * volts[i - 1]).sum() / b
            if cfg.theta_lr > 0:  # d sum(xi_i * Theta xi_{i+1}) / dTheta = xi_i xi_{i+1}^T
                d = weight_eligibility(layer.apical, [errors[i]], [errors[i - 1]], [1.0])
                theta[i] = {k: (cfg.theta_lr / b) * v for k, v in d.items()}
        logs = {"loss/concept": (ce / b).detach(),
                **{f"dll/error_{i}": errors[i - 1].abs().mean() for i in range(1, stack.depth)}}
        return losses, theta, logs

    def layer_losses(self, stack: Stack, code: LabelCode, x: torch.Tensor, y: torch.Tensor):
        """Each layer's loss: W's surrogate plus Theta's change as a surrogate loss (training applies it in place)."""
        losses, theta, logs = self.signals(stack, code, x, y)
        for i, d in theta.items():
            params = params_by_name(stack.layers[i].apical)
            losses[i] = losses[i] + sum(update_loss(params[k], v) for k, v in d.items())
        return losses, logs

    def loss(self, stack: Stack, code: LabelCode, x: torch.Tensor, y: torch.Tensor):  # noqa: D102
        losses, theta, logs = self.signals(stack, code, x, y)
        with torch.no_grad():
            for i, d in theta.items():
                params = params_by_name(stack.layers[i].apical)
                for k, v in d.items():
                    params[k].add_(v)
        n = stack.depth
        return value_with_gradient(losses[n], *(losses[i] for i in range(1, n))), logs
