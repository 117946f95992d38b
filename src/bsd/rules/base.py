"""What every learning rule shares: the forward net, stimulus coding, prediction."""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from ..coding import LabelCode, encode_stimulus
from ..config import ModelConfig
from ..layers import Stats, apply_folded
from ..nets import Stack

Activation = Callable[[object, torch.Tensor], torch.Tensor]


def hidden_weight(weights: Sequence[float] | float, i: int, n: int) -> float:
    """Weight of hidden layer ``i`` (1-based) among ``n`` from ``model.loss_weights.hidden`` (a number or a list)."""
    if isinstance(weights, (int, float)):
        return float(weights)
    w = list(weights)
    if len(w) != n:
        raise ValueError(f"model.loss_weights.hidden lists {len(w)} weights but the net has {n} hidden layers")
    return float(w[i - 1])


def spiking(layer, v: torch.Tensor) -> torch.Tensor:
    """The layer's LIF soma: voltages to 0/1 spikes."""
    return layer.lif(v)


def relu(layer, v: torch.Tensor) -> torch.Tensor:
    """Non-spiking stand-in (BP on ANN)."""
    return torch.relu(v)


@dataclass
class ForwardTrace:
    """What one pass of the forward (perception) net produced."""

    out: torch.Tensor  # concept voltage [T, B, D_L]
    inputs: list[torch.Tensor]  # input of layer i (i = 1..L), [T, B, ...]
    stats: list[Stats | None]  # basal norm statistics of hidden layers
    #: ``local`` runs: output of hidden layer i (i = 1..L-1) at ``own[i - 1]``, with that layer's graph only
    own: list[torch.Tensor] | None = None


def forward_net(stack: Stack, s0: torch.Tensor, act: Activation = spiking, local: bool = False) -> ForwardTrace:
    """Run the forward net on stimulus ``s0 [T, B, ...]``; graph only if grad is enabled.

    ``local``: every layer receives its input detached, so each hidden layer's output (kept in
    ``own``) carries a graph through that layer alone; what passes on to the next layer has none.
    """
    s = s0
    inputs, stats, own = [], [], []
    for layer in stack.hidden:
        inputs.append(s)
        v, st = layer.basal_voltage(s)
        stats.append(st)
        s = act(layer, v)
        if local:
            own.append(s)
            s = s.detach()
    inputs.append(s)
    with torch.set_grad_enabled(torch.is_grad_enabled() and not local):  # local: the concept's loss has its own
        out = apply_folded(stack.concept.basal, s)
    return ForwardTrace(out, inputs, stats, own if local else None)


class Rule(abc.ABC):
    """A way to train a :class:`Stack`. Subclasses implement :meth:`loss`."""

    name = "rule"
    #: plausibility criteria (C1..C5) the rule meets, for reports
    criteria: tuple[str, ...] = ()
    #: losses whose gradient is a signed error (spec C5 asks to report them)
    signed_losses: tuple[str, ...] = ("all (end-to-end back-propagation)",)
    #: config key prefixes this rule never reads (the report leaves them out of a row's label)
    ignored_keys: tuple[str, ...] = ()
    #: the rule's own settings (e.g. ``model.pc``); every other rule of the family ignores them
    reads: tuple[str, ...] = ()
    #: whether the feedback path (:meth:`feedback_tensors`) is trained (C1: W and Theta both learn)
    feedback_trained: bool = True
    activation: Activation = staticmethod(spiking)
    family = ""

    def __init__(self, cfg: ModelConfig) -> None:
        self.cfg = cfg

    @property
    def T(self) -> int:
        """Simulation steps used by this rule."""
        return int(self.cfg.T)

    def encode(self, stack: Stack, x: torch.Tensor) -> torch.Tensor:
        """Stimulus ``[B, ...]`` to ``[T, B, *in_shape]``."""
        x = x.reshape(x.shape[0], *stack.in_shape)
        return encode_stimulus(x, self.T, self.cfg.encoder)

    @abc.abstractmethod
    def loss(self, stack: Stack, code: LabelCode, x: torch.Tensor, y: torch.Tensor
             ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Training loss of one batch and a dict of cheap diagnostics."""

    def layer_losses(self, stack: Stack, code: LabelCode, x: torch.Tensor, y: torch.Tensor
                     ) -> tuple[dict[int, torch.Tensor], dict[str, torch.Tensor]]:
        """Each layer's own loss ``{i: L_i}`` (rules with layer-local losses; the C2 check reads it)."""
        raise NotImplementedError(f"rule {self.name!r} has no layer-local losses")

    def feedback_tensors(self, stack: Stack) -> list[torch.Tensor]:
        """The tensors that carry teaching signals down the stack (C1: none may share storage with a W).

        By default the backward net: every layer's apical map Theta and its normalisation.
        """
        return [p for layer in stack.layers for p in layer.apical_parameters()]

    @torch.no_grad()
    def predict(self, stack: Stack, code: LabelCode, x: torch.Tensor) -> torch.Tensor:
        """Class scores ``[B, C]`` from the forward net alone."""
        trace = forward_net(stack, self.encode(stack, x), self.activation)
        return code.logits(trace.out.mean(0))
