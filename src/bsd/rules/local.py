"""Layer-by-layer local backward: each layer's gradient is taken, and its graph freed, before the next is built.

A rule whose losses are layer-local (``bsd``) needs no graph through the whole network. With
``model.backward=layer`` it builds one layer's graph, takes that layer's gradient with
:func:`torch.autograd.grad` and drops the graph before it simulates the next layer, so the memory kept for
backward is one layer's, whatever the depth. The step still returns one loss for the trainer's single
backward pass: :class:`LayerGrads` collects the gradients and :meth:`LayerGrads.loss` returns a scalar whose
value is the sum of the layer losses and whose gradient with respect to each parameter is the gradient
collected for it. Lightning's backward, gradient clipping, loss scaling, gradient accumulation and DDP's
gradient averaging therefore see the gradients of the joint step.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Sequence

import torch
from torch import nn

from ..compact import SpikeMeanStore
from .base import ForwardTrace


class _Collected(torch.autograd.Function):
    """``total`` as a node of the graph whose backward hands each parameter its collected gradient.

    ``forward(total, grads, *params)``: the value is ``total`` (detached); the gradient with respect to
    ``params[k]`` is ``grads[k]`` times the incoming gradient (1, or a loss scale, or 1 / accumulation steps).
    The gradients are kept on the node, not saved as tensors: they are the parameters' gradients themselves
    (the ``.grad`` every rule holds), not activations kept for a backward pass.
    """

    @staticmethod
    def forward(ctx, total: torch.Tensor, grads: tuple[torch.Tensor, ...], *params: torch.Tensor
                ) -> torch.Tensor:  # noqa: D102
        ctx.grads = grads
        return total.detach().clone()

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, g: torch.Tensor):  # noqa: D102
        grads, ctx.grads = ctx.grads, None
        if g.numel() == 1 and float(g) == 1.0:  # the plain backward pass: the gradients themselves, no copy
            return (None, None, *grads)
        return (None, None, *(gr * g.to(gr.dtype) for gr in grads))


_PARAMS: weakref.WeakKeyDictionary[nn.Module, tuple[tuple, tuple[nn.Parameter, ...]]] = weakref.WeakKeyDictionary()


def own_parameters(module: nn.Module) -> tuple[nn.Parameter, ...]:
    """``module.parameters()``, listed once per module (walking the module tree every step costs milliseconds).

    Listed again when the module's own children or parameters change (e.g. a readout attached to a layer).
    """
    key = (tuple(module._modules.items()), tuple(module._parameters.items()))
    hit = _PARAMS.get(module)
    if hit is None or hit[0] != key:
        hit = _PARAMS[module] = (key, tuple(module.parameters()))
    return hit[1]


class LayerGrads:
    """Collects each layer's loss and its gradient, taken while that layer's graph is alive.

    ``scale``: the loss is multiplied by it before differentiating and the gradients are divided by it
    afterwards (the trainer's loss scale under float16 mixed precision, so small gradients do not underflow).
    """

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = float(scale)
        self.values: dict[int, torch.Tensor] = {}
        self.grads: dict[nn.Parameter, torch.Tensor] = {}

    def add(self, index: int, loss: torch.Tensor, params: Iterable[nn.Parameter]) -> None:
        """Record layer ``index``'s ``loss`` and add its gradient with respect to ``params``; frees its graph."""
        self.values[index] = loss.detach()
        params = [p for p in params if p.requires_grad]
        if not params or not loss.requires_grad:
            return
        grads = torch.autograd.grad(loss * self.scale if self.scale != 1.0 else loss, params, allow_unused=True)
        for p, g in zip(params, grads, strict=True):
            if g is None:
                continue
            gp = g / self.scale if self.scale != 1.0 else g
            self.grads[p] = self.grads[p] + gp if p in self.grads else gp

    def loss(self, order: Sequence[int]) -> torch.Tensor:
        """The step's loss: the layer losses summed in ``order``; its backward pass delivers the collected gradients."""
        total = self.values[order[0]]
        for i in order[1:]:
            total = total + self.values[i]
        if not self.grads:
            return total
        params = tuple(self.grads)
        return _Collected.apply(total, tuple(self.grads[p] for p in params), *params)


def local_hidden(rule, stack, s: torch.Tensor, above: list, a_stats: list, counts: torch.Tensor | None,
                 inv: torch.Tensor | None, labels: torch.Tensor | None, grads: LayerGrads, logs: dict,
                 margin=None, offset: int = 0, extra: Callable | None = None) -> torch.Tensor:
    """The forward stream of a ``bsd`` rule layer by layer, each hidden layer's loss differentiated in turn.

    ``s``: the stimulus ``[T, B, ...]``; ``above``, ``a_stats``: the backward stream, run before without a graph
    (:meth:`BSD.stream_down`). Hidden layer ``i`` is simulated on the detached spikes below; with ReCo on
    rates (``model.reco.on=spikes``) its graph runs through its own map, norm and LIF, and its apical side is
    simulated again with a graph from the detached spikes above (``U`` distinct rows; running statistics
    untouched: the graph-free pass updated them). Its ReCo (:meth:`BSD.hidden_losses`) and ``extra(i, fwd,
    pairs, losses, logs)`` (losses a subclass adds to layer ``i``) go to ``grads``, which takes the gradient and
    frees the graph before layer ``i + 1`` is simulated. Returns the top hidden layer's spikes (the concept
    layer's input). The values are those of the joint step: the same simulation, operation for operation.
    """
    n = stack.depth
    on_spikes = rule.cfg.reco.on == "spikes"
    fwd = ForwardTrace(None, [None] * n, [None] * (n - 1), [None] * (n - 1))
    own_above: list[torch.Tensor | None] = [None] * n
    for i in range(1, n):
        layer = stack.layers[i]
        fwd.inputs[i - 1] = s
        with torch.set_grad_enabled(on_spikes and torch.is_grad_enabled()):
            v, fwd.stats[i - 1] = layer.basal_voltage(s)
            out = layer.lif(v)
            if on_spikes:
                v_hat, _ = layer.apical_voltage(above[i], counts, update_running=False)
                own_above[i] = layer.lif(v_hat)
        fwd.own[i - 1] = out
        s = fwd.inputs[i] = out.detach()
        pairs: dict = {}
        with SpikeMeanStore(rule.T) as store:
            losses, lg = rule.hidden_losses(stack, fwd, above, a_stats, counts, inv, labels, store, margin,
                                            own_above, keep=pairs, offset=offset, layers=(i,))
            if extra is not None:
                extra(i, fwd, pairs, losses, lg)
            grads.add(i, losses[i], own_parameters(layer))
        logs.update(lg)
        del v, out, pairs, losses
        if on_spikes:
            del v_hat
        fwd.inputs[i - 1] = fwd.own[i - 1] = own_above[i] = above[i - 1] = None  # nothing of layer i stays
    return s
