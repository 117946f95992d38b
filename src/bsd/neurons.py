"""Leaky integrate-and-fire neurons and surrogate spike functions.

Layout is time first: a multi-step tensor is ``[T, B, ...]``. State is explicit
(:class:`LIFState`), as in Norse: :func:`lif_step` advances one step, :class:`LIF`
runs a whole sequence (the multi-step mode of SpikingJelly); with autograd, :class:`LIF` keeps all
T steps as one graph node with a hand-written backward pass (``graph="fused"``), checked against
autograd through every :func:`lif_step` (``graph="stepwise"``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

RESETS = ("hard", "soft")
#: how a run with autograd keeps the LIF's graph: one node for all steps, or autograd through every step
GRAPHS = ("fused", "stepwise")


class _Spike(torch.autograd.Function):
    """Heaviside step forward; the subclass's ``surrogate_grad(x, alpha)`` backward."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, alpha: float) -> torch.Tensor:  # noqa: D102
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        return (x >= 0).to(x.dtype)

    @classmethod
    def backward(cls, ctx, grad: torch.Tensor):  # noqa: D102
        (x,) = ctx.saved_tensors
        return grad * cls.surrogate_grad(x, ctx.alpha), None


class _SpikeATan(_Spike):
    """Derivative of (1/pi)·atan(pi/2·alpha·x) + 1/2."""

    @staticmethod
    def surrogate_grad(x: torch.Tensor, alpha: float) -> torch.Tensor:  # noqa: D102
        y = x * (math.pi / 2 * alpha)
        return y.mul_(y).add_(1.0).reciprocal_().mul_(alpha / 2)  # in place: one new tensor instead of four


class _SpikeSigmoid(_Spike):
    """Derivative of sigmoid(alpha·x)."""

    @staticmethod
    def surrogate_grad(x: torch.Tensor, alpha: float) -> torch.Tensor:  # noqa: D102
        s = torch.sigmoid(alpha * x)
        return alpha * s * (1 - s)


_SPIKES = {"atan": _SpikeATan, "sigmoid": _SpikeSigmoid}  # surrogate name -> spike function
SURROGATES = tuple(_SPIKES)


class _LIFSequence(torch.autograd.Function):
    """All T steps of :func:`lif_step` as one autograd node (the graph path of :meth:`LIF.run`).

    The forward pass is the arithmetic of :func:`lif_step`, bit for bit; the backward pass runs the
    same recurrence in reverse (through the reset too, as autograd through :func:`lif_step` does).
    It keeps one float (the membrane potential) per unit and step, and one byte (the spike) with hard
    reset, where the step-by-step graph keeps three floats (one with soft reset), and it builds one node
    instead of a few per step (``model.neuron.graph``: ``fused``, the default, or ``stepwise``).
    """

    @staticmethod
    def forward(ctx, v, u0, s0, threshold: float, beta: float, hard: bool, surrogate: str, alpha: float):  # noqa: D102
        us = torch.empty_like(v, memory_format=torch.contiguous_format)  # membrane potential of each step
        spikes = torch.empty_like(us)
        keep = torch.empty_like(us[0]) if hard else None
        for t in range(v.shape[0]):
            u, prev = (us[t - 1], spikes[t - 1]) if t else (u0, s0)
            if u is None:  # from rest: u_0 = v_0 (beta * 0 * (1 - 0) + v_0, bit for bit)
                us[t].copy_(v[t])
            elif hard:  # beta * u * (1 - s) + v, as the no-graph loop computes it (float masks: no bool kernels)
                torch.add(prev, -1.0, out=keep).mul_(-beta)
                torch.mul(u, keep, out=us[t]).add_(v[t])
            else:  # beta * (u - theta * s) + v
                torch.sub(u, prev, alpha=threshold, out=us[t]).mul_(beta).add_(v[t])
            torch.ge(us[t], threshold, out=spikes[t])
        ctx.save_for_backward(us, spikes.bool() if hard else None, u0 if u0 is not None and hard else None,
                              s0 if s0 is not None and hard else None)
        ctx.conf = (threshold, beta, hard, _SPIKES[surrogate].surrogate_grad, alpha)
        ctx.has_u0, ctx.has_s0 = u0 is not None, s0 is not None
        ctx.set_materialize_grads(False)  # an unused final membrane costs no pass of zeros
        return spikes, us[-1].clone()

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, g_out, g_last):  # noqa: D102
        us, fired, u0, s0 = ctx.saved_tensors
        threshold, beta, hard, sg, alpha = ctx.conf
        g_v = torch.empty_like(us)
        slope = sg(us - threshold, alpha)  # the surrogate derivative of every step at once
        last = us.shape[0] - 1
        # dL/du_t = (dL/ds_t + du_{t+1}/ds_t dL/du_{t+1}) sg(u_t - theta) + du_{t+1}/du_t dL/du_{t+1}, with
        # u_{t+1} = beta u_t (1 - s_t) + v (hard) or beta (u_t - theta s_t) + v (soft); at the last step the
        # second path is the gradient of the returned final membrane
        if g_out is None:
            g_out = torch.zeros_like(us)
        torch.mul(g_out[last], slope[last], out=g_v[last])
        if g_last is not None:
            g_v[last].add_(g_last)
        if hard and last:  # beta where silent, 0 where it fired (a byte view converts far faster than bool)
            keep = fired[:-1].view(torch.uint8).to(us.dtype).mul_(-beta).add_(beta)
        for t in range(last - 1, -1, -1):
            g, g_next = g_v[t], g_v[t + 1]
            if hard:
                torch.addcmul(g_out[t], us[t], g_next, value=-beta, out=g).mul_(slope[t])
                g.add_(g_next * keep[t])
            else:
                torch.add(g_out[t], g_next, alpha=-beta * threshold, out=g).mul_(slope[t]).add_(g_next, alpha=beta)
        g_u0 = g_s0 = None
        if ctx.has_u0 and ctx.needs_input_grad[1]:
            g_u0 = g_v[0] * (beta * (1.0 - s0) if hard else beta)
        if ctx.has_s0 and ctx.needs_input_grad[2]:
            g_s0 = -(beta * u0 if hard else beta * threshold) * g_v[0]
        return g_v, g_u0, g_s0, None, None, None, None, None


def spike_fn(x: torch.Tensor, surrogate: str = "atan", alpha: float = 2.0) -> torch.Tensor:
    """Heaviside step ``x >= 0`` whose gradient is the chosen surrogate."""
    if surrogate in _SPIKES:
        return _SPIKES[surrogate].apply(x, alpha)
    raise ValueError(f"unknown surrogate {surrogate!r}; choose one of {SURROGATES}")


@dataclass
class LIFState:
    """Membrane potential and last spikes of a population (explicit state).

    ``a``: the adaptation trace of an adaptive population (``model.neuron.adapt``; None: none, or still at rest).
    """

    u: torch.Tensor
    s: torch.Tensor
    a: torch.Tensor | None = None

    @classmethod
    def zeros_like(cls, x: torch.Tensor) -> LIFState:
        """Resting state shaped like one time step ``x``."""
        return cls(torch.zeros_like(x), torch.zeros_like(x))


def lif_step(
    v: torch.Tensor,
    state: LIFState,
    threshold: float,
    beta: float,
    reset: str = "hard",
    surrogate: str = "atan",
    alpha: float = 2.0,
) -> LIFState:
    """Advance a LIF population by one step driven by input voltage ``v``.

    ``u_t = beta·u_{t-1}·(1 - s_{t-1}) + v_t`` (hard reset) or
    ``u_t = beta·(u_{t-1} - theta·s_{t-1}) + v_t`` (soft reset); ``s_t = H(u_t - theta)``.
    """
    if reset == "hard":
        u = beta * state.u * (1.0 - state.s) + v
    elif reset == "soft":
        u = beta * (state.u - threshold * state.s) + v
    else:
        raise ValueError(f"unknown reset {reset!r}; choose one of {RESETS}")
    if torch.is_grad_enabled() and u.requires_grad:
        s = spike_fn(u - threshold, surrogate, alpha)
    else:  # no graph: a plain comparison is cheaper than the autograd Function
        s = (u >= threshold).to(u.dtype)
    return LIFState(u, s)


class LIF(nn.Module):
    """Multi-step LIF: maps input voltages ``[T, B, ...]`` to spikes ``[T, B, ...]`` of 0/1."""

    def __init__(
        self,
        threshold: float = 0.6,
        beta: float = 0.5,
        reset: str = "hard",
        surrogate: str = "atan",
        alpha: float = 2.0,
        compile: bool = False,
        graph: str = "fused",
    ) -> None:
        super().__init__()
        if graph not in GRAPHS:
            raise ValueError(f"model.neuron.graph must be one of {GRAPHS}, got {graph!r}")
        if threshold <= 0:
            raise ValueError(f"model.neuron.threshold must be > 0, got {threshold}")
        if not 0.0 <= beta <= 1.0:
            raise ValueError(f"model.neuron.beta must be in [0, 1], got {beta}")
        if reset not in RESETS:
            raise ValueError(f"model.neuron.reset must be one of {RESETS}, got {reset!r}")
        if surrogate not in SURROGATES:
            raise ValueError(f"model.neuron.surrogate must be one of {SURROGATES}, got {surrogate!r}")
        self.threshold, self.beta, self.reset = threshold, beta, reset
        self.surrogate, self.alpha = surrogate, alpha
        self.compile, self.graph = compile, graph

    def forward(self, v: torch.Tensor, state: LIFState | None = None) -> torch.Tensor:
        """Run the neuron over the leading time axis of ``v`` from ``state`` (rest if None)."""
        spikes, _ = self.run(v, state)
        return spikes

    def run(self, v: torch.Tensor, state: LIFState | None = None) -> tuple[torch.Tensor, LIFState]:
        """Like :meth:`forward` but also return the final state (for recurrent use)."""
        if not (torch.is_grad_enabled() and v.requires_grad):
            if self.compile:
                u0 = state.u if state is not None else torch.zeros_like(v[0])
                s0 = state.s if state is not None else torch.zeros_like(v[0])
                out, u = _compiled_sequence()(v, u0, s0, self.threshold, self.beta, self.reset == "hard")
                return out, LIFState(u, out[-1])
            return self._run_no_graph(v, state)
        if self.graph == "stepwise":  # the reference: autograd through every operation of lif_step
            st = state if state is not None else LIFState.zeros_like(v[0])
            out = []
            for t in range(v.shape[0]):
                st = lif_step(v[t], st, self.threshold, self.beta, self.reset, self.surrogate, self.alpha)
                out.append(st.s)
            return torch.stack(out), st
        u0, s0 = (state.u, state.s) if state is not None else (None, None)
        out, u = _LIFSequence.apply(v, u0, s0, self.threshold, self.beta, self.reset == "hard",
                                    self.surrogate, self.alpha)
        return out, LIFState(u, out[-1])

    def _run_no_graph(self, v: torch.Tensor, state: LIFState | None) -> tuple[torch.Tensor, LIFState]:
        """:meth:`run` without autograd: the same arithmetic in place, bit for bit (the fast path)."""
        u = state.u.clone() if state is not None else torch.zeros_like(v[0])
        prev = state.s if state is not None else None
        out = torch.empty_like(v)
        keep = torch.empty_like(u)
        for t in range(v.shape[0]):
            if prev is not None:
                if self.reset == "hard":  # beta * u * (1 - s): u times beta where silent, 0 where it fired
                    torch.add(prev, -1.0, out=keep).mul_(-self.beta)
                    u.mul_(keep)
                else:  # beta * (u - theta * s)
                    u.sub_(prev, alpha=self.threshold).mul_(self.beta)
            u.add_(v[t])
            prev = torch.ge(u, self.threshold, out=out[t])
        return out, LIFState(u, out[-1])

    def extra_repr(self) -> str:  # noqa: D102
        return (f"threshold={self.threshold}, beta={self.beta}, reset={self.reset}, surrogate={self.surrogate}, "
                f"graph={self.graph}")


def _lif_sequence(v: torch.Tensor, u: torch.Tensor, s: torch.Tensor, threshold: float, beta: float, hard: bool
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """The LIF recurrence of :func:`lif_step` over ``v [T, ...]`` as one pure function (for ``torch.compile``)."""
    outs = []
    for t in range(v.shape[0]):
        u = (beta * u * (1.0 - s) if hard else beta * (u - threshold * s)) + v[t]
        s = (u >= threshold).to(v.dtype)
        outs.append(s)
    return torch.stack(outs), u


_COMPILED: list = []


def _compiled_sequence():
    """``torch.compile`` of :func:`_lif_sequence`, built on first use (``model.neuron.compile=true``).

    One fused kernel for all T steps instead of a few small operations per step; the first call
    per shape pays the compilation (tens of seconds on CPU; see docs/performance.md).
    """
    if not _COMPILED:
        _COMPILED.append(torch.compile(_lif_sequence, dynamic=True))
    return _COMPILED[0]
