"""Spiking recurrent layers for sequences (spec section 5, RNN row).

Each sequence position is one group of ``T`` spiking steps; the membrane state is carried
across positions, so a sequence of ``P`` positions is simulated as ``P*T`` steps (time first,
``[P*T, B, H]``). With ``T = 1`` every position is a single step.

A :class:`RecurrentLayer` owns its basal weights ``W_x`` (from the layer below) and ``W_h``
(from its own previous spikes), its apical weights ``Theta`` (from the layer above or the
target code), a normalisation per dendrite and its soma (LIF, or ReLU for ``bp_ann``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .dist import mean_var, world
from .layers import PyramidalLayer, VoltageNorm
from .nets import Stack
from .neurons import LIF, LIFState, lif_step, spike_fn

NORMS = ("batch", "layer", "none")


class UnitNorm(nn.Module):
    """Per-sample normalisation across the units of a population (gain and bias learned).

    Unlike BatchNorm it needs no batch, so the same net runs with batch size 1 when it
    generates text or forecasts one stream.
    """

    def __init__(self, units: int, enabled: bool = True, eps: float = 1e-5) -> None:
        super().__init__()
        self.units, self.enabled, self.eps = units, enabled, eps
        if enabled:
            self.weight = nn.Parameter(torch.ones(units))
            self.bias = nn.Parameter(torch.zeros(units))

    def forward(self, v: torch.Tensor) -> torch.Tensor:  # noqa: D102
        if not self.enabled:
            return v
        return F.layer_norm(v, (self.units,), self.weight, self.bias, self.eps)


Soma = Callable[[torch.Tensor, LIFState], LIFState]


class _FeedbackLinear(torch.autograd.Function):
    """``h @ W.T`` whose gradient with respect to ``h`` goes through ``B`` instead of ``W`` (feedback alignment)."""

    @staticmethod
    def forward(ctx, h: torch.Tensor, weight: torch.Tensor, feedback: torch.Tensor) -> torch.Tensor:  # noqa: D102
        ctx.save_for_backward(h, feedback)
        return h @ weight.t()

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # noqa: D102
        h, feedback = ctx.saved_tensors
        grad_h = grad @ feedback if ctx.needs_input_grad[0] else None
        grad_w = (grad.reshape(-1, grad.shape[-1]).t() @ h.reshape(-1, h.shape[-1])
                  if ctx.needs_input_grad[1] else None)
        return grad_h, grad_w, None


def feedback_linear(h: torch.Tensor, weight: torch.Tensor, feedback: torch.Tensor | None) -> torch.Tensor:
    """``h @ weight.T``; with ``feedback`` (same shape as ``weight``) the gradient reaching ``h`` uses it instead.

    An empty ``feedback`` (:data:`NO_FEEDBACK`) sends no gradient to ``h`` at all (``weight`` is still trained).
    """
    if feedback is None:
        return F.linear(h, weight)
    if feedback.numel() == 0:
        return F.linear(h.detach(), weight)
    return _FeedbackLinear.apply(h, weight, feedback)


#: the ``feedback`` of :func:`feedback_linear` that sends no gradient back through the matrix
NO_FEEDBACK = torch.empty(0)


class RecurrentLayer(nn.Module):
    """Hidden population ``i``: ``v = norm(W_x s_below + W_h s_own[prev step])``, then the soma."""

    def __init__(self, below: int, units: int, above: int, lif: LIF, norm: str = "layer",
                 recurrent_gain: float = 0.1, bias_spread: float = 0.0, adapt: float = 0.0,
                 adapt_tau: float = 48.0) -> None:
        super().__init__()
        if norm not in NORMS:
            raise ValueError(f"model.norm must be one of {NORMS} for the rnn, got {norm!r}")
        if recurrent_gain < 0:
            raise ValueError(f"model.recurrent_gain must be >= 0, got {recurrent_gain}")
        if bias_spread < 0:
            raise ValueError(f"model.neuron.bias_spread must be >= 0, got {bias_spread}")
        if adapt < 0:
            raise ValueError(f"model.neuron.adapt must be >= 0 (0: no adaptation), got {adapt}")
        if not adapt_tau > 0:
            raise ValueError(f"model.neuron.adapt_tau must be > 0 spiking steps, got {adapt_tau}")
        # spike-frequency adaptation (an adaptive threshold, as in LSNNs): each unit's threshold rises by `adapt`
        # times a trace of its own spikes that decays with time constant `adapt_tau` steps, a slow state beside the
        # membrane that the layer carries across positions. 0: the plain LIF
        self.adapt, self.adapt_decay = float(adapt), math.exp(-1.0 / adapt_tau)
        # a fixed tonic current per unit, evenly spread over [-bias_spread, bias_spread] in random order:
        # units of one population then fire at different levels of the same drive (heterogeneous
        # excitability), so their rates tile a range instead of all switching at one threshold. A private
        # generator keeps the global random stream (weight init) as it was; the buffer is rebuilt, not saved.
        spread = torch.linspace(-bias_spread, bias_spread, units) if units > 1 else torch.zeros(units)
        order = torch.randperm(units, generator=torch.Generator().manual_seed(units))
        self.register_buffer("tonic", spread[order], persistent=False)
        self.has_tonic = bias_spread > 0  # skip the add on the hot path when every unit's current is zero
        self.units = units
        self.basal = nn.Linear(below, units)  # W_x
        self.recurrent = nn.Linear(units, units, bias=False)  # W_h
        with torch.no_grad():  # keep the recurrent drive from drowning the input at the start
            self.recurrent.weight.mul_(recurrent_gain)
        # gain 0: no recurrence at all (W_h stays zero and is not trained; the membrane still carries over)
        self.recurrent.weight.requires_grad_(recurrent_gain > 0)
        self.apical = nn.Linear(above, units)  # Theta
        # optional fixed 0/1 connectivity of Theta (restrict_apical); rebuilt from the config, not saved
        self.register_buffer("apical_mask", None, persistent=False)
        self.norm = norm
        if norm == "batch":
            self.basal_norm, self.apical_norm = VoltageNorm(units), VoltageNorm(units)
        else:
            self.basal_norm = UnitNorm(units, norm == "layer")
            self.apical_norm = UnitNorm(units, norm == "layer")
        self.lif = lif

    # ---- simulation ------------------------------------------------------------------
    def lif_soma(self, v: torch.Tensor, state: LIFState) -> LIFState:
        """One LIF step (0/1 spikes; surrogate gradient only when a graph is being built).

        With ``adapt > 0`` the threshold is ``theta + adapt * a``, where the trace
        ``a_t = d a_{t-1} + (1 - d) s_{t-1}`` (``d = exp(-1 / adapt_tau)``) follows the unit's own spikes; a soft
        reset subtracts the threshold the previous spike crossed.
        """
        n = self.lif
        v = v + self.tonic if self.has_tonic else v
        if not self.adapt:
            return lif_step(v, state, n.threshold, n.beta, n.reset, n.surrogate, n.alpha)
        a_prev = state.a if state.a is not None else torch.zeros_like(state.u)
        a = self.adapt_decay * a_prev + (1.0 - self.adapt_decay) * state.s
        if n.reset == "hard":
            u = n.beta * state.u * (1.0 - state.s) + v
        else:
            u = n.beta * (state.u - (n.threshold + self.adapt * a_prev) * state.s) + v
        x = u - (n.threshold + self.adapt * a)
        s = spike_fn(x, n.surrogate, n.alpha) if torch.is_grad_enabled() and x.requires_grad else (x >= 0).to(u.dtype)
        return LIFState(u, s, a)

    def relu_soma(self, v: torch.Tensor, state: LIFState) -> LIFState:
        """Non-spiking stand-in for ``bp_ann``: the activation is the state."""
        a = torch.relu(v + self.tonic if self.has_tonic else v)
        return LIFState(a, a)

    def run(self, s_below: torch.Tensor, state: LIFState | None = None, soma: Soma | None = None,
            gate: torch.Tensor | None = None, detach_every: int = 0) -> tuple[torch.Tensor, LIFState]:
        """Simulate ``[K, B, D_below]`` step by step from ``state``; returns spikes ``[K, B, H]`` and the last state.

        With ``norm = batch`` each step is normalised with that step's batch statistics in
        training (the running statistics, updated once per call, in evaluation). ``gate [K, B, H]`` of 0/1
        closes units: a closed unit gets no current and emits no spike at that step (its membrane only leaks).
        ``detach_every = T > 0``: the carried state (membrane and spikes) is detached before every ``T``-th step, so a
        gradient never flows from one position of ``T`` steps into the one before (``model.bp_credit=position``).
        """
        spikes, _, state = self.simulate(s_below, state, soma, gate, detach_every)
        return spikes, state

    def simulate(self, s_below: torch.Tensor, state: LIFState | None = None, soma: Soma | None = None,
                 gate: torch.Tensor | None = None, detach_every: int = 0, feedback: torch.Tensor | None = None,
                 keep_voltage: bool = False) -> tuple[torch.Tensor, torch.Tensor | None, LIFState]:
        """:meth:`run`, also returning the normalised basal voltage of every step ``[K, B, H]`` if ``keep_voltage``.

        ``feedback [H, H]``: the matrix a gradient steps back through in place of ``W_h`` (as in
        :meth:`basal_reduced`; the forward values are ``W_h``'s).
        """
        soma = soma or self.lif_soma
        drive = self.basal(s_below)  # W_x for every step at once
        if state is None:
            z = drive.new_zeros(drive.shape[1:])
            state = LIFState(z, z)
        batch_stats = self.norm == "batch" and self.training
        means, vars_ = [], []
        out, volts = [], []
        for k in range(drive.shape[0]):
            if detach_every and k and k % detach_every == 0:
                state = LIFState(state.u.detach(), state.s.detach(), None if state.a is None else state.a.detach())
            v = drive[k] + (self.recurrent(state.s) if feedback is None
                            else feedback_linear(state.s, self.recurrent.weight, feedback))
            if batch_stats:  # the forward stream's rows: over every process of a distributed run
                st = VoltageNorm.batch_stats(v, sync=True)
                means.append(st[0])
                vars_.append(st[1])
                v = self.basal_norm(v, st)
            else:
                v = self.basal_norm(v)
            if keep_voltage:
                volts.append(v)
            if gate is None:
                state = soma(v, state)
            else:
                state = soma(v * gate[k], state)
                state = LIFState(state.u, state.s * gate[k], state.a)
            out.append(state.s)
        if means:
            self._update_running(self.basal_norm, torch.stack(means).mean(0), torch.stack(vars_).mean(0),
                                 drive.shape[1] * world()[1])
        return torch.stack(out), torch.stack(volts) if keep_voltage else None, state

    @staticmethod
    @torch.no_grad()
    def _update_running(norm: VoltageNorm, mean: torch.Tensor, var: torch.Tensor, n: int) -> None:
        norm.running_mean.lerp_(mean.detach(), norm.momentum)
        norm.running_var.lerp_(var.detach() * n / max(n - 1, 1), norm.momentum)

    # ---- loss graph ------------------------------------------------------------------
    def basal_reduced(self, s_below: torch.Tensor, s_prev: torch.Tensor,
                      feedback: torch.Tensor | None = None) -> torch.Tensor:
        """Normalised basal voltage ``[P, B, H]`` of time-reduced inputs (mean over each position's steps).

        ``mean_t(W_x s_t + W_h h_{t-1}) = W_x mean_t(s_t) + W_h mean_t(h_{t-1})`` exactly; the
        normalisation is applied to that mean (batch statistics per position in training). ``feedback``
        (``[H, H]``): the matrix through which a gradient reaches ``s_prev`` in place of ``W_h`` (see
        ``model.reco.time_feedback``).
        """
        v = self.basal(s_below) + feedback_linear(s_prev, self.recurrent.weight, feedback)
        if self.norm != "batch":
            return self.basal_norm(v)
        if not self.training:
            return self.basal_norm(v.reshape(-1, v.shape[-1])).reshape(v.shape)
        mean, var = mean_var(v, [1], sync=True, keepdim=True)
        nb = self.basal_norm
        return (v - mean) * torch.rsqrt(var + nb.eps) * nb.weight + nb.bias

    def apical_voltage(self, s_above: torch.Tensor, row_weight: torch.Tensor | None = None,
                       update_running: bool = True) -> torch.Tensor:
        """Normalised apical voltage ``[N, H]`` from the time-reduced spikes or code above.

        With ``norm = batch`` rows can carry weights (a stream run once per distinct target).
        """
        if self.apical_mask is None:
            v = self.apical(s_above)
        else:
            v = F.linear(s_above, self.apical.weight * self.apical_mask, self.apical.bias)
        if self.norm != "batch":
            return self.apical_norm(v)
        if not self.training:
            return self.apical_norm(v)
        mean, var = VoltageNorm.batch_stats(v, row_weight)
        if update_running:
            self._update_running(self.apical_norm, mean, var, v.shape[0])
        return self.apical_norm(v, (mean, var))

    @torch.no_grad()
    def restrict_apical(self, mask: torch.Tensor) -> None:
        """Fix which inputs of ``Theta`` each unit reads: ``mask [units, above]`` of 0/1 (the others stay zero)."""
        if mask.shape != self.apical.weight.shape:
            raise ValueError(f"apical mask of shape {tuple(mask.shape)} for Theta of shape "
                             f"{tuple(self.apical.weight.shape)}")
        self.apical_mask = mask.to(self.apical.weight.dtype)
        self.apical.weight.mul_(self.apical_mask)

    def basal_parameters(self) -> list[nn.Parameter]:
        """W_x, W_h and the basal normalisation."""
        return [*self.basal.parameters(), *self.recurrent.parameters(), *self.basal_norm.parameters()]

    def apical_parameters(self) -> list[nn.Parameter]:
        """Theta and the apical normalisation."""
        return [*self.apical.parameters(), *self.apical_norm.parameters()]


class SeqStack(Stack):
    """Layers 0..L of a spiking RNN: stimulus (recall ``Theta_0`` only), recurrent hidden layers, readout ``W_L``.

    With ``readout_skip`` the readout ``W_L`` reads the stimulus beside the top hidden layer's spikes
    (a skip connection: a linear map of the input plus one of the spikes).
    """

    def __init__(self, in_dim: int, widths: Sequence[int], out_dim: int, code_dim: int, lif_kwargs: dict,
                 norm: str = "layer", recurrent_gain: float = 0.1, bias_spread: float = 0.0,
                 readout_skip: bool = False, adapt: float = 0.0, adapt_tau: float = 48.0) -> None:
        widths = [int(w) for w in widths]
        if not widths or min(widths) < 1:
            raise ValueError(f"model.widths must list at least one positive width, got {widths}")
        if in_dim < 1 or out_dim < 1 or code_dim < 1:
            raise ValueError(f"input, output and code widths must be >= 1, got {in_dim}, {out_dim}, {code_dim}")
        dims = [in_dim, *widths]
        hidden = [RecurrentLayer(dims[i], dims[i + 1], (widths + [code_dim])[i + 1], LIF(**lif_kwargs), norm,
                                 recurrent_gain, bias_spread, adapt, adapt_tau) for i in range(len(widths))]
        stimulus = PyramidalLayer((in_dim,), None, nn.Linear(widths[0], in_dim), LIF(**lif_kwargs), False, False)
        reads = widths[-1] + (in_dim if readout_skip else 0)
        readout = PyramidalLayer((out_dim,), nn.Linear(reads, out_dim), None, LIF(**lif_kwargs), False, False)
        super().__init__([stimulus, *hidden, readout], (in_dim,))
        self.in_dim, self.out_dim, self.code_dim = in_dim, out_dim, code_dim
        self.readout_skip = bool(readout_skip)

    @property
    def readout(self) -> PyramidalLayer:
        """Layer L (its basal map reads the last hidden layer)."""
        return self.layers[-1]
