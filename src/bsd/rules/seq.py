"""Learning rules for spiking RNNs (text, time series) over one :class:`~bsd.recurrent.SeqStack`.

Batches are ``x [B, P, F]`` (one input step per position) and targets ``y [B, P]``: the next
token's index (``task = classify``) or a normalised value (``task = regress``; ``[B, P, K]`` with
a forecast's auxiliary horizons, the scored one first). Every
position is simulated for ``T`` spiking steps with the membrane carried across positions.

``bsd`` is in :mod:`bsd.rules.seq_bsd`. ``bp_snn`` back-propagates through the whole sequence; ``bp_ann`` is the
same recurrence with ReLU and one step per position. With ``model.bp_credit = position`` (our extension) either rule's
gradient stops at each position's carried state, the credit structure of bsd's per-position ReCo.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from ..coding import PopulationCode, day_bins, encode_stimulus
from ..config import RnnConfig
from ..neurons import LIFState
from ..recurrent import RecurrentLayer, SeqStack
from .bp import ANN_IGNORED, BP_IGNORED
from .registry import register

TASKS = ("classify", "regress")


def reduce_positions(s: torch.Tensor, T: int) -> torch.Tensor:
    """``[P*T, B, ...] -> [P, B, ...]``: mean over each position's ``T`` steps."""
    return s.reshape(s.shape[0] // T, T, *s.shape[1:]).mean(1)


def previous_position(r: torch.Tensor) -> torch.Tensor:
    """``[P, B, ...]`` shifted one position later (zeros at the first): what position ``p`` got from ``p - 1``."""
    return torch.cat([torch.zeros_like(r[:1]), r[:-1]])


def previous_step(s: torch.Tensor, first: torch.Tensor | None = None) -> torch.Tensor:
    """Spikes one step earlier (``first``, or zeros, before the first step)."""
    head = torch.zeros_like(s[:1]) if first is None else first.unsqueeze(0)
    return torch.cat([head, s[:-1]])


class SeqRule(abc.ABC):
    """A way to train a :class:`SeqStack` on next-step targets."""

    name = "rule"
    criteria: tuple[str, ...] = ()
    signed_losses: tuple[str, ...] = ("all (back-propagation through the sequence)",)
    spiking = True

    def __init__(self, cfg: RnnConfig, task: str, input_code: PopulationCode | None = None,
                 day_columns: tuple[int, ...] | None = None, gate_bins: int = 0, gate_planes: int = 0,
                 gate_seed: int = 0, gate_columns: tuple[int, ...] | None = None, gate_offset: bool = False) -> None:
        if task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {task!r}")
        if cfg.encoder == "population" and input_code is None:
            raise ValueError("model.encoder=population needs an input population code")
        self.cfg, self.task, self.input_code = cfg, task, input_code
        #: the input columns holding the sine and cosine of the time of day (for a :class:`GatedCode`)
        self.day_columns = day_columns
        #: K >= 2: hidden unit j is silent outside the part of the day j mod K (``model.context_gate``); 0: off
        self.gate_bins = int(gate_bins)
        if self.gate_bins and (day_columns is None or task != "regress"):
            raise ValueError("model.context_gate needs a forecast whose input holds the time of day (tod_sin, tod_cos)")
        #: m >= 1: hidden unit j is also silent unless the input step lies on side pattern (j // K) mod 2^m of its own
        #: m fixed random hyperplanes (``model.gate_planes``, drawn with ``model.gate_seed``)
        self.gate_planes, self.gate_seed = int(gate_planes), int(gate_seed)
        if self.gate_planes < 0 or (self.gate_planes and task != "regress"):
            raise ValueError(f"model.gate_planes must be >= 0 and needs a forecast, got {gate_planes} for {task!r}")
        #: the input columns the planes read (None: all) and whether each plane passes through a random point
        #: (drawn from N(0, 1) in those normalised columns) instead of the origin
        self.gate_columns, self.gate_offset = gate_columns, bool(gate_offset)
        self._planes: dict[tuple, tuple[torch.Tensor, torch.Tensor]] = {}
        self._feedback: dict[tuple, torch.Tensor] = {}  # model.reco.time_feedback=random, per layer and device

    @property
    def T(self) -> int:
        """Spiking steps per sequence position."""
        return int(self.cfg.T)

    def soma(self, layer: RecurrentLayer):
        """The layer's step function for this rule."""
        return layer.lif_soma if self.spiking else layer.relu_soma

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, P, F] -> [P*T, B, F]``: each position's input held for ``T`` steps."""
        xs = x.transpose(0, 1)  # [P, B, F]
        kind = self.cfg.encoder
        if kind == "population":  # every analog feature becomes K tuning-curve currents in [0, 1]
            xs = self.input_code.vectors(xs).flatten(-2)
            kind = "direct"
        s = encode_stimulus(xs, self.T, kind)  # [T, P, B, F]
        return s.transpose(0, 1).reshape(-1, *xs.shape[1:])

    @property
    def gated(self) -> bool:
        """Whether hidden units are gated by the input step (``model.context_gate`` or ``model.gate_planes``)."""
        return bool(self.gate_bins or self.gate_planes)

    def planes(self, layer: int, features: int, units: int, device: torch.device | str | None = None,
               dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
        """Normals ``[F, units * m]`` and offsets ``[units * m]``: unit ``j``'s planes are columns ``j*m .. j*m+m-1``.

        ``F`` counts the columns the planes read. Offsets are zero for planes through the origin, else ``-w . p`` for
        a point ``p`` drawn from N(0, 1). Drawn on the CPU from ``model.gate_seed`` and the layer index, so the same
        config rebuilds the same gates; kept per device and dtype, so a training step copies nothing.
        """
        key = (layer, features, units, str(device), dtype)
        if key not in self._planes:
            g = torch.Generator().manual_seed(self.gate_seed * 1009 + layer)
            w = torch.randn(features, units * self.gate_planes, generator=g)
            b = torch.zeros(units * self.gate_planes)
            if self.gate_offset:
                b = -(w * torch.randn(features, units * self.gate_planes, generator=g)).sum(0)
            self._planes[key] = (w.to(device=device, dtype=dtype), b.to(device=device, dtype=dtype))
        return self._planes[key]

    def unit_gates(self, x: torch.Tensor, units: int, layer: int = 0) -> torch.Tensor | None:
        """``[P, B, units]`` 0/1 gates of hidden layer ``layer`` (0-based) from each position's input step, or None.

        ``model.context_gate = K``: unit ``j`` is open in part ``j mod K`` of the day (from the step's ``tod_sin`` /
        ``tod_cos`` columns). ``model.gate_planes = m``: unit ``j`` is also open only where the step lies on side
        pattern ``(j // K) mod 2^m`` (K = 1 without the day gate) of its own ``m`` random hyperplanes through the
        origin (or a random point: ``model.gate_offset``) of the normalised input step, or of its columns
        ``model.gate_features``: a gated linear network's halfspace contexts.
        """
        if not self.gated:
            return None
        xs = x.transpose(0, 1)  # [P, B, F]
        j = torch.arange(units, device=x.device)
        open_ = torch.ones((), dtype=torch.bool, device=x.device)
        if self.gate_bins:
            part = day_bins(xs[..., self.day_columns[0]], xs[..., self.day_columns[1]], self.gate_bins)
            open_ = part.unsqueeze(-1) == j % self.gate_bins
        if self.gate_planes:
            m = self.gate_planes
            z = xs if self.gate_columns is None else xs[..., list(self.gate_columns)]
            w, b = self.planes(layer, z.shape[-1], units, x.device, xs.dtype)
            sides = (z @ w + b > 0).reshape(*xs.shape[:2], units, m)
            pattern = (sides.to(torch.int32) << torch.arange(m, device=x.device, dtype=torch.int32)).sum(-1)
            open_ = open_ & (pattern == (j // max(self.gate_bins, 1)) % (1 << m))
        return open_.to(x.dtype)

    def run(self, stack: SeqStack, x: torch.Tensor, states: list[LIFState] | None = None,
            gates: list[torch.Tensor] | None = None) -> tuple[list[torch.Tensor], list[LIFState]]:
        """Stimulus and spikes of every hidden layer ``[P*T, B, ...]`` (index 0 = stimulus) and final states.

        ``gates``: each hidden layer's :meth:`unit_gates` when the caller has them already (else computed here).
        """
        s = self.encode(x)
        spikes, new_states = [s], []
        for i, layer in enumerate(stack.hidden):
            gate = self.unit_gates(x, layer.units, i) if gates is None else gates[i]
            if gate is not None:  # each position's gate held for its T steps
                gate = gate.repeat_interleave(self.T, 0)
            s, st = layer.run(s, None if states is None else states[i], self.soma(layer), gate,
                              self.T if self.cfg.bp_credit == "position" else 0)
            spikes.append(s)
            new_states.append(st)
        return spikes, new_states

    def readout(self, stack: SeqStack, spikes: Sequence[torch.Tensor]) -> torch.Tensor:
        """Per-position output ``[P, B, O]`` from the last hidden layer's spikes (mean over each position's steps).

        ``spikes`` as :meth:`run` returns them (index 0: the stimulus, -1: the top hidden layer). With
        ``stack.readout_skip`` the readout also reads the stimulus, the same tensor layer 1 receives.
        """
        s = reduce_positions(spikes[-1], self.T)
        if stack.readout_skip:
            s = torch.cat([s, reduce_positions(spikes[0], self.T).to(s.dtype)], -1)
        return stack.readout.basal(s)

    def top_loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Cross-entropy over tokens or MSE on the value(s), averaged over positions and batch.

        Forecast targets ``[B, P, K]`` (auxiliary horizons) train all ``K`` outputs, each weighted alike.
        """
        yt = y.transpose(0, 1)
        if self.task == "classify":
            return F.cross_entropy(out.reshape(-1, out.shape[-1]), yt.reshape(-1))
        if yt.dim() == 3:
            return F.mse_loss(out, yt.to(out.dtype))
        return F.mse_loss(out[..., 0], yt.to(out.dtype))

    @abc.abstractmethod
    def loss(self, stack: SeqStack, code, x: torch.Tensor, y: torch.Tensor
             ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Training loss of one batch and a dict of cheap diagnostics."""

    @torch.no_grad()
    def predict(self, stack: SeqStack, x: torch.Tensor) -> torch.Tensor:
        """Output ``[B, P, O]`` of the forward net at every position."""
        spikes, _ = self.run(stack, x)
        return self.readout(stack, spikes).transpose(0, 1)


@register("seq", "bp_snn")
class SeqBPSNN(SeqRule):
    """The forward spiking RNN only, back-propagation through the whole sequence (surrogate gradients)."""

    name = "bp_snn"
    criteria = ("C4",)
    ignored_keys = (*BP_IGNORED, "model.code")

    def loss(self, stack, code, x, y):  # noqa: D102
        spikes, _ = self.run(stack, x)
        top = self.top_loss(self.readout(stack, spikes), y)
        return top, {"loss/concept": top.detach()}


@register("seq", "bp_ann")
class SeqBPANN(SeqBPSNN):
    """The same recurrence with ReLU and one step per position."""

    name = "bp_ann"
    criteria = ()
    ignored_keys = (*ANN_IGNORED, "model.code")
    spiking = False

    @property
    def T(self) -> int:  # noqa: D102
        return 1


