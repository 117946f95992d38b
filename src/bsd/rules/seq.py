"""Learning rules for spiking RNNs (text, time series) over one :class:`~bsd.recurrent.SeqStack`.

Batches are ``x [B, P, F]`` (one input step per position) and targets ``y [B, P]``: the next
token's index (``task = classify``) or a normalised value (``task = regress``; ``[B, P, K]`` with
a forecast's auxiliary horizons, the scored one first). Every
position is simulated for ``T`` spiking steps with the membrane carried across positions.

``bsd``: the forward stream runs without a graph; the backward stream maps each position's
target code through ``Theta`` to the apical voltages (once per distinct code). Each hidden
layer then builds its own loss graph from its own detached, time-reduced inputs (the
stimulus or the spikes below, and its own spikes one step earlier), ReCo per position; with
``model.reco.through_time = k`` (our extension) that loss also reaches the layer's own weights at the ``k``
positions before, through its own recurrence (:meth:`SeqBSD.credited_previous`); with
``model.reco.time_path = forward`` ReCo reads the forward stream's own rates instead, and the credit runs back
through that simulation inside each layer, cut every ``k + 1`` positions (:meth:`SeqBSD.run_local`).
``bp_snn`` back-propagates through the whole sequence; ``bp_ann`` is the same recurrence
with ReLU and one step per position. With ``model.bp_credit = position`` (our extension) either rule's
gradient stops at each position's carried state, the credit structure of bsd's per-position ReCo.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from ..coding import GatedCode, PopulationCode, day_bins, encode_stimulus, week_bins
from ..config import RnnConfig
from ..losses import code_cosines, code_push_weight, decorrelation_loss, grouped_reco_terms
from ..neurons import LIFState
from ..recurrent import RecurrentLayer, SeqStack
from .base import hidden_weight
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


@register("seq", "bsd")
class SeqBSD(SeqRule):
    """Forward and backward spiking RNNs distilled layer by layer with ReCo, per position."""

    name = "bsd"
    ignored_keys = ("model.bp_credit",)
    signed_losses = ("readout cross-entropy (text) / MSE (time series)",)

    @property
    def criteria(self) -> tuple[str, ...]:
        """C1-C5; without C1 when credit steps back in time through ``W_h``'s own transpose.

        ``model.reco.through_time >= 1`` with ``time_feedback = transport`` is a weight transport inside the layer;
        the spec's per-position ReCo and ``time_feedback = random`` need none.
        """
        transport = self.cfg.reco.through_time and self.cfg.reco.time_feedback == "transport"
        return ("C2", "C3", "C4", "C5") if transport else ("C1", "C2", "C3", "C4", "C5")

    def context_bins(self, code, x: torch.Tensor) -> torch.Tensor | None:
        """``[P*B]`` (position-major) context bin of every input step for a :class:`GatedCode`, else None.

        The part of the day (``context = day``), that and weekday / weekend (``week``), or the side of the code's
        random hyperplanes (``halfspace``).
        """
        if not isinstance(code, GatedCode):
            return None
        xs = x.transpose(0, 1).reshape(-1, x.shape[-1])
        if code.context == "halfspace":
            return code.halfspace_bins(xs)
        if self.day_columns is None:
            raise ValueError("model.code.context_bins needs the input's time of day (columns tod_sin and tod_cos, "
                             "data.calendar=true)")
        cols = [xs[:, c] for c in self.day_columns]
        if code.context == "week":
            if len(cols) < 4:
                raise ValueError("model.code.context=week needs the day of week too (columns dow_sin and dow_cos)")
            return week_bins(*cols[:4], code.bins)
        return day_bins(cols[0], cols[1], code.bins)

    def backward_stream(self, stack: SeqStack, code, targets: torch.Tensor, counts: torch.Tensor | None,
                        bins: torch.Tensor | None = None, gates: list[torch.Tensor] | None = None
                        ) -> list[torch.Tensor]:
        """Time-reduced input of every apical dendrite: ``above[i]`` reaches layer ``i`` (0 = stimulus recall).

        The target code drives the top hidden layer; each hidden layer's backward spikes
        (``T`` steps of its apical voltage) drive the layer below. ``bins``: the context of each target
        (:meth:`context_bins`), for a :class:`GatedCode`. ``gates``: each hidden layer's unit gates ``[N, H]`` in
        the order of ``targets`` (``model.context_gate``).
        """
        s = (code.vectors(targets) if bins is None else code.vectors(targets, bins))
        s = s.to(stack.readout.basal.weight.dtype)
        n = stack.depth
        above: list[torch.Tensor] = [s] * n
        for i in range(n - 1, 0, -1):
            above[i] = s
            layer = stack.layers[i]
            v_hat = layer.apical_voltage(s, counts)
            s = self.own_rates(layer, v_hat)
            if gates is not None:  # a closed unit is silent in the backward net too
                s = s * gates[i - 1]
        above[0] = s
        return above

    def own_rates(self, layer: RecurrentLayer, v: torch.Tensor, tonic: bool = False) -> torch.Tensor:
        """Firing rate of ``layer``'s LIF driven ``T`` steps from rest by the voltages ``v [P, B, H]``.

        The graph runs through this layer's own LIF only (surrogate gradient), as for the classifiers'
        ``model.reco.on=spikes``; ``tonic`` adds the layer's tonic drive, as the forward stream's soma does
        (the backward stream's LIF has none). From rest at each position, unlike the forward stream, whose
        membrane is carried across positions.
        """
        if tonic and layer.has_tonic:
            v = v + layer.tonic
        return layer.lif(v.unsqueeze(0).expand(self.T, *v.shape)).mean(0)

    def credited_previous(self, layer: RecurrentLayer, s_in: torch.Tensor, s_prev: torch.Tensor,
                          gate: torch.Tensor | None, feedback: torch.Tensor | None) -> torch.Tensor:
        """``s_prev [P, B, H]`` (the layer's own detached spikes one step earlier) with a gradient path into the past.

        ``model.reco.through_time = k``: the value stays the forward stream's spikes; the gradient flows through
        the layer's rates at the previous position, recomputed from its own detached inputs through its own LIF
        (surrogate), whose recurrent input is built the same way, ``k`` positions deep. So a position's ReCo also
        trains ``W_x`` and ``W_h`` at the ``k`` positions before it, within the layer. With ``T > 1`` the value
        also holds the position's own earlier steps; the gradient treats it as the previous position's rate.
        """
        h = s_prev
        for _ in range(self.cfg.reco.through_time):
            r = self.own_rates(layer, layer.basal_reduced(s_in, h, feedback), tonic=True)
            if gate is not None:
                r = r * gate
            r = previous_position(r)
            h = s_prev + (r - r.detach())
        return h

    def run_local(self, stack: SeqStack, x: torch.Tensor, gates: list[torch.Tensor] | None,
                  feedbacks: Sequence[torch.Tensor | None]) -> tuple[list[torch.Tensor], list[torch.Tensor | None]]:
        """:meth:`run` with each hidden layer's graph through its own simulation (``model.reco.time_path=forward``).

        Every layer receives the spikes below detached, so its graph reaches only its own weights; inside it the
        gradient runs back through the membrane and the spikes of every step, cut every ``through_time + 1``
        positions. Returns the stimulus and each layer's spikes ``[P*T, B, H]`` (index 0 = stimulus) and each
        layer's normalised basal voltages (None at index 0, and everywhere unless ReCo reads voltages).
        """
        s = self.encode(x)
        spikes: list[torch.Tensor] = [s]
        volts: list[torch.Tensor | None] = [None]
        for i, layer in enumerate(stack.hidden):
            gate = None if gates is None else gates[i].repeat_interleave(self.T, 0)
            cut = self.T * (self.cfg.reco.through_time + 1)
            s, v, _ = layer.simulate(s.detach(), None, self.soma(layer), gate, cut, feedbacks[i],
                                     keep_voltage=self.cfg.reco.on == "voltage")
            spikes.append(s)
            volts.append(v)
        return spikes, volts

    def time_feedback(self, layer: RecurrentLayer, index: int) -> torch.Tensor | None:
        """The matrix credit steps back through (``model.reco.time_feedback``), or None for ``W_h`` itself.

        ``random``: a fixed random matrix, drawn once per layer from ``index``, scaled to ``W_h``'s current norm.
        """
        if self.cfg.reco.time_feedback == "transport":
            return None
        w = layer.recurrent.weight
        key = (index, str(w.device), w.dtype)
        if key not in self._feedback:
            g = torch.Generator().manual_seed(7919 + index)
            b = torch.randn(w.shape, generator=g)
            self._feedback[key] = (b / b.norm()).to(device=w.device, dtype=w.dtype)
        return self._feedback[key] * w.detach().norm()

    def loss(self, stack, code, x, y):  # noqa: D102
        losses, logs = self.layer_losses(stack, code, x, y)
        return sum(losses.values()), logs

    def layer_losses(self, stack: SeqStack, code, x: torch.Tensor, y: torch.Tensor
                     ) -> tuple[dict[int, torch.Tensor], dict[str, torch.Tensor]]:
        """Weighted local loss of every layer 0..L (each touches only that layer's parameters)."""
        cfg, T, n = self.cfg, self.T, stack.depth
        B, P = y.shape[:2]
        flat = y.transpose(0, 1).reshape(P * B, *y.shape[2:])  # position-major [P*B] ([P*B, K]: aux horizons)
        if self.task == "classify":
            uniq, inv = torch.unique(flat, return_inverse=True)
            counts = torch.bincount(inv, minlength=uniq.numel())
        else:
            uniq, inv, counts = flat, torch.arange(flat.shape[0], device=flat.device), None
        bins = self.context_bins(code, x)
        groups = (code.group(flat) if bins is None else code.group(flat, bins)).reshape(P, B)
        push_w = margin = None
        if cfg.reco.push_weight != "uniform" or cfg.reco.margin != "zero":
            codes = (code.vectors(flat) if bins is None else code.vectors(flat, bins)).reshape(P, B, -1).to(x.dtype)
            if cfg.reco.push_weight == "code":  # pairs pushed by how far apart their targets' codes are
                push_w = code_push_weight(codes)
            if cfg.reco.margin == "code":  # pushes start at the cosine of the two targets' codes, centred over
                # the position's batch where ReCo compares centred voltages or rates (as the autoencoder's images)
                margin = code_cosines(codes - codes.mean(1, keepdim=True) if cfg.reco.center != "none" else codes)
        gates = [self.unit_gates(x, layer.units, i) for i, layer in enumerate(stack.hidden)] if self.gated else None
        along = cfg.reco.time_path == "forward"  # each layer's ReCo reads, and credits along, its own simulation
        feedbacks = [self.time_feedback(layer, i) if cfg.reco.through_time else None
                     for i, layer in enumerate(stack.hidden, start=1)]
        if along:
            spikes, volts = self.run_local(stack, x, gates, feedbacks)
        with torch.no_grad():
            if not along:
                spikes, _ = self.run(stack, x, gates=gates)
            flat_gates = None if gates is None else [g.reshape(P * B, -1) for g in gates]  # regress: uniq = flat
            above = self.backward_stream(stack, code, uniq, counts, bins, flat_gates)
        losses: dict[int, torch.Tensor] = {}
        logs: dict[str, torch.Tensor] = {}
        for i, layer in enumerate(stack.hidden, start=1):
            v_hat = layer.apical_voltage(above[i], counts, update_running=False)[inv].reshape(P, B, -1)
            if along:  # the forward stream's own rates (or voltages), with their graph through the layer's past
                v = reduce_positions(spikes[i] if cfg.reco.on == "spikes" else volts[i], T)
                if cfg.reco.on == "spikes":
                    v_hat = self.own_rates(layer, v_hat)
            else:
                s_in = reduce_positions(spikes[i - 1], T)
                s_prev = reduce_positions(previous_step(spikes[i]), T)
                feedback = feedbacks[i - 1]
                if cfg.reco.through_time:  # the gradient also reaches this layer's weights at earlier positions
                    s_prev = self.credited_previous(layer, s_in, s_prev, None if gates is None else gates[i - 1],
                                                    feedback)
                v = layer.basal_reduced(s_in, s_prev, feedback)  # [P, B, H]
                if cfg.reco.on == "spikes":  # each dendrite's voltage held for T steps through the layer's own LIF
                    v, v_hat = self.own_rates(layer, v, tonic=True), self.own_rates(layer, v_hat)
            if gates is not None:  # a unit closed at a position is silent there, whichever dendrite drives it
                v, v_hat = v * gates[i - 1], v_hat * gates[i - 1]
            if cfg.reco.free_units:  # the last units are free: no target, trained only by credit through time
                keep = layer.units - round(cfg.reco.free_units * layer.units)
                v, v_hat = v[..., :keep], v_hat[..., :keep]
            if cfg.reco.center != "none":  # per position, over the batch (push: for the push term only)
                vc, hc = v - v.mean(1, keepdim=True), v_hat - v_hat.mean(1, keepdim=True)
                if cfg.reco.center == "batch":
                    v, v_hat = vc, hc
            pull, push = grouped_reco_terms(v, v_hat, groups, cfg.reco.same_class, cfg.reco.axis, push_w, margin)
            if cfg.reco.center == "push":
                push = grouped_reco_terms(vc, hc, groups, cfg.reco.same_class, cfg.reco.axis, push_w, margin)[1]
            li = pull + cfg.reco.lam * push
            if cfg.decorrelation > 0:  # lateral: the layer's own basal voltages, units decorrelated over the batch
                dec = decorrelation_loss(v.reshape(-1, v.shape[-1]))
                li = li + cfg.decorrelation * dec
                logs[f"decor/{i}"] = dec.detach()
            losses[i] = hidden_weight(cfg.loss_weights.hidden, i, n - 1) * li
            logs[f"reco/pull_{i}"], logs[f"reco/push_{i}"] = pull.detach(), push.detach()
            logs[f"rate/fwd_{i}"], logs[f"rate/bwd_{i}"] = spikes[i].detach().mean(), above[i - 1].mean()
        top = self.top_loss(self.readout(stack, [s.detach() for s in spikes]), y)
        recon = stack.stimulus.apical(above[0])[inv].reshape(P, B, -1)
        recall = F.mse_loss(recon, reduce_positions(spikes[0], T))
        losses[0], losses[n] = cfg.loss_weights.recall * recall, cfg.loss_weights.concept * top
        logs["loss/concept"], logs["loss/recall"] = top.detach(), recall.detach()
        return losses, logs


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


SEQ_RULES: dict[str, type[SeqRule]] = {"bsd": SeqBSD, "bp_snn": SeqBPSNN, "bp_ann": SeqBPANN}

