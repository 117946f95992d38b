"""Bidirectional Spike-based Distillation on the spiking RNN: ReCo per sequence position, layer by layer.

The forward stream runs without a graph (or, with ``model.reco.time_path=forward``, with each layer's own graph);
the backward stream maps each position's target code through ``Theta`` to the apical voltages (once per distinct
code). Each hidden layer builds its own loss from its own detached, time-reduced inputs (the stimulus or the spikes
below, and its own spikes one step earlier); no gradient crosses layers. With ``model.reco.through_time = k`` that
loss also reaches the layer's own weights at the ``k`` positions before, through its own recurrence
(:meth:`SeqBSD.credited_previous`); with ``model.reco.time_path = forward`` ReCo reads the forward stream's own
rates and the credit runs back through that simulation inside each layer, cut every ``k + 1`` positions
(:meth:`SeqBSD.run_local`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..coding import GatedCode, day_bins, week_bins
from ..config import RnnConfig
from ..dist import batch_mean, gather_rows
from ..losses import code_cosines, code_push_weight, decorrelation_loss, grouped_reco_terms
from ..recurrent import NO_FEEDBACK, RecurrentLayer, SeqStack
from .base import hidden_weight
from .local import LayerGrads, own_parameters
from .registry import register
from .seq import SeqRule, previous_position, previous_step, reduce_positions


def credits_through_time(cfg: RnnConfig) -> bool:
    """Whether bsd's credit steps back through a layer's recurrence (between positions or between steps)."""
    r = cfg.reco
    return bool(r.through_time) or (r.time_path == "forward" and cfg.T > 1)


@register("seq", "bsd")
class SeqBSD(SeqRule):
    """Forward and backward spiking RNNs distilled layer by layer with ReCo, per position."""

    name = "bsd"
    #: every loss reaches one layer's parameters only (clipping: ``model.optimizer.clip_local``)
    layer_local = True
    ignored_keys = ("model.bp_credit",)
    signed_losses = ("readout cross-entropy (text) / MSE (time series)",)

    @property
    def criteria(self) -> tuple[str, ...]:
        """The criteria this rule meets with its settings (:meth:`criteria_of`)."""
        return self.criteria_of(self.cfg)

    @classmethod
    def criteria_of(cls, cfg: RnnConfig) -> tuple[str, ...]:
        """C1-C5; without C1 when credit steps back in time through ``W_h``'s own transpose.

        Credit runs back through the recurrence with ``model.reco.through_time >= 1``, and on the forward path
        (``time_path = forward``) also between the ``T > 1`` steps of one position; through ``W_h`` itself
        (``time_feedback = transport``) that is a weight transport inside the layer. The spec's per-position ReCo and
        ``time_feedback = random`` need none.
        """
        transport = credits_through_time(cfg) and cfg.reco.time_feedback == "transport"
        return ("C2", "C3", "C4", "C5") if transport else ("C1", "C2", "C3", "C4", "C5")

    @property
    def credits_through_time(self) -> bool:
        """Whether a gradient steps back through the layer's recurrence (between positions or between steps)."""
        return credits_through_time(self.cfg)

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

        ``random``: a fixed random matrix, drawn once per layer from ``index``, scaled to ``W_h``'s current norm;
        ``trace``: :data:`NO_FEEDBACK` (credit steps back through each unit's own membrane only).
        """
        if self.cfg.reco.time_feedback == "transport":
            return None
        if self.cfg.reco.time_feedback == "trace":  # only each unit's own membrane carries credit back in time
            return NO_FEEDBACK
        w = layer.recurrent.weight
        key = (index, str(w.device), w.dtype)
        if key not in self._feedback:
            g = torch.Generator().manual_seed(7919 + index)
            b = torch.randn(w.shape, generator=g)
            self._feedback[key] = (b / b.norm()).to(device=w.device, dtype=w.dtype)
        return self._feedback[key] * w.detach().norm()

    def loss(self, stack, code, x, y, grad_scale: float = 1.0):
        """The sum of :meth:`layer_losses` and their diagnostics.

        With ``model.backward=layer`` (gradients enabled) one layer's graph at a time (:meth:`local_step`;
        ``grad_scale``: the trainer's loss scale).
        """
        if self.cfg.backward == "layer" and torch.is_grad_enabled():
            return self.local_step(stack, code, x, y, grad_scale)
        losses, logs = self.layer_losses(stack, code, x, y)
        return sum(losses.values()), logs

    def step_targets(self, stack: SeqStack, code, x: torch.Tensor, y: torch.Tensor) -> _Step:
        """What every layer's loss of one step shares: targets, their groups and margins, gates, the backward stream.

        The backward stream runs without a graph on the targets of the whole batch (every process of a distributed
        run); this process's samples are its rows from ``offset`` on.
        """
        cfg = self.cfg
        B, P = y.shape[:2]
        y_all, offset = gather_rows(y)
        x_all = x if len(y_all) == B else gather_rows(x)[0]
        n_all = y_all.shape[0]
        flat = y_all.transpose(0, 1).reshape(P * n_all, *y.shape[2:])  # position-major ([P*B, K]: aux horizons)
        if self.task == "classify":
            uniq, inv = torch.unique(flat, return_inverse=True)
            counts = torch.bincount(inv, minlength=uniq.numel())
        else:
            uniq, inv, counts = flat, torch.arange(flat.shape[0], device=flat.device), None
        bins = self.context_bins(code, x_all)
        groups = (code.group(flat) if bins is None else code.group(flat, bins)).reshape(P, n_all)
        rows = slice(offset, offset + B)
        push_w = margin = None
        if cfg.reco.push_weight != "uniform" or cfg.reco.margin != "zero":
            codes = (code.vectors(flat) if bins is None else code.vectors(flat, bins)).reshape(P, n_all, -1)
            codes = codes.to(x.dtype)
            if cfg.reco.push_weight == "code":  # pairs pushed by how far apart their targets' codes are
                push_w = code_push_weight(codes)[:, rows]
            if cfg.reco.margin == "code":  # pushes start at the cosine of the two targets' codes, centred over
                # the position's batch where ReCo compares centred voltages or rates (as the autoencoder's images)
                c = codes - codes.mean(1, keepdim=True) if cfg.reco.center != "none" else codes
                margin = code_cosines(c[:, rows], c)
        gates = [self.unit_gates(x, layer.units, i) for i, layer in enumerate(stack.hidden)] if self.gated else None
        gates_all = gates
        if gates is not None and n_all != B:
            gates_all = [self.unit_gates(x_all, layer.units, i) for i, layer in enumerate(stack.hidden)]
        feedbacks = [self.time_feedback(layer, i) if self.credits_through_time else None
                     for i, layer in enumerate(stack.hidden, start=1)]
        return _Step(B, P, n_all, offset, rows, uniq, inv, counts, bins, groups, push_w, margin, gates, gates_all,
                     feedbacks)

    def _above(self, stack: SeqStack, code, t: _Step) -> list[torch.Tensor]:
        """The backward stream of step ``t``, without a graph."""
        with torch.no_grad():
            flat_gates = None if t.gates is None else [g.reshape(t.P * t.n_all, -1) for g in t.gates_all]
            return self.backward_stream(stack, code, t.uniq, t.counts, t.bins, flat_gates)

    def layer_losses(self, stack: SeqStack, code, x: torch.Tensor, y: torch.Tensor
                     ) -> tuple[dict[int, torch.Tensor], dict[str, torch.Tensor]]:
        """Weighted local loss of every layer 0..L (each touches only that layer's parameters)."""
        cfg, n = self.cfg, stack.depth
        t = self.step_targets(stack, code, x, y)
        along = cfg.reco.time_path == "forward"  # each layer's ReCo reads, and credits along, its own simulation
        if along:
            spikes, volts = self.run_local(stack, x, t.gates, t.feedbacks)
        else:
            with torch.no_grad():
                spikes, _ = self.run(stack, x, gates=t.gates)
            volts = [None] * n
        above = self._above(stack, code, t)
        losses: dict[int, torch.Tensor] = {}
        logs: dict[str, torch.Tensor] = {}
        for i, layer in enumerate(stack.hidden, start=1):
            losses[i] = self.hidden_loss(layer, i, n, t, spikes[i - 1], spikes[i], volts[i], above, logs)
        losses[0], losses[n] = self.edge_losses(stack, t, spikes, above, y, logs)
        return losses, logs

    def local_step(self, stack: SeqStack, code, x: torch.Tensor, y: torch.Tensor, grad_scale: float = 1.0
                   ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """:meth:`loss` layer by layer, with the values and gradients of :meth:`layer_losses`.

        Each hidden layer is simulated (with its own graph where ReCo credits along it), its loss differentiated
        and its graph freed before the next layer runs (:mod:`bsd.rules.local`).
        """
        cfg, n = self.cfg, stack.depth
        t = self.step_targets(stack, code, x, y)
        along = cfg.reco.time_path == "forward"
        s = self.encode(x)
        above = self._above(stack, code, t)
        grads, logs = LayerGrads(grad_scale), {}
        spikes = [s]
        for i, layer in enumerate(stack.hidden, start=1):
            gate = None if t.gates is None else t.gates[i - 1].repeat_interleave(self.T, 0)
            v = None
            if along:  # as run_local, one layer
                cut = self.T * (cfg.reco.through_time + 1)
                out, v, _ = layer.simulate(s, None, self.soma(layer), gate, cut, t.feedbacks[i - 1],
                                           keep_voltage=cfg.reco.on == "voltage")
            else:
                with torch.no_grad():
                    out, _ = layer.run(s, None, self.soma(layer), gate, 0)
            grads.add(i, self.hidden_loss(layer, i, n, t, s, out, v, above, logs), own_parameters(layer))
            s = out.detach()
            spikes.append(s)
            del out, v
        recall, top = self.edge_losses(stack, t, spikes, above, y, logs)
        grads.add(0, recall, own_parameters(stack.stimulus))
        grads.add(n, top, own_parameters(stack.readout))
        return grads.loss([*range(1, n), 0, n]), logs

    def hidden_loss(self, layer: RecurrentLayer, i: int, n: int, t: _Step, s_below: torch.Tensor,
                    s_own: torch.Tensor, volts: torch.Tensor | None, above: list[torch.Tensor], logs: dict
                    ) -> torch.Tensor:
        """Weighted ReCo loss of hidden layer ``i`` from the spikes below and its own (``[P*T, B, ...]``).

        ``s_own`` (and ``volts``, its normalised basal voltages) carry the layer's graph on the forward time path;
        ``above`` is the backward stream.
        """
        cfg, T, P, n_all = self.cfg, self.T, t.P, t.n_all
        gates, gates_all = t.gates, t.gates_all
        v_hat = layer.apical_voltage(above[i], t.counts, update_running=False)[t.inv].reshape(P, n_all, -1)
        if cfg.reco.time_path == "forward":  # the forward stream's own rates (or voltages), with their graph
            v = reduce_positions(s_own if cfg.reco.on == "spikes" else volts, T)
            if cfg.reco.on == "spikes":
                v_hat = self.own_rates(layer, v_hat)
        else:
            s_in = reduce_positions(s_below, T)
            s_prev = reduce_positions(previous_step(s_own), T)
            feedback = t.feedbacks[i - 1]
            if cfg.reco.through_time:  # the gradient also reaches this layer's weights at earlier positions
                s_prev = self.credited_previous(layer, s_in, s_prev, None if gates is None else gates[i - 1],
                                                feedback)
            v = layer.basal_reduced(s_in, s_prev, feedback)  # [P, B, H]
            if cfg.reco.on == "spikes":  # each dendrite's voltage held for T steps through the layer's own LIF
                v, v_hat = self.own_rates(layer, v, tonic=True), self.own_rates(layer, v_hat)
        if gates is not None:  # a unit closed at a position is silent there, whichever dendrite drives it
            v, v_hat = v * gates[i - 1], v_hat * gates_all[i - 1]
        if cfg.reco.free_units:  # the last units are free: no target, trained only by credit through time
            keep = layer.units - round(cfg.reco.free_units * layer.units)
            v, v_hat = v[..., :keep], v_hat[..., :keep]
        if cfg.reco.center != "none":  # per position, over the batch (push: for the push term only)
            vc, hc = v - batch_mean(v, 1, sync=True), v_hat - v_hat.mean(1, keepdim=True)
            if cfg.reco.center == "batch":
                v, v_hat = vc, hc
        pull, push = grouped_reco_terms(v, v_hat, t.groups, cfg.reco.same_class, cfg.reco.axis, t.push_w, t.margin,
                                        t.offset)
        if cfg.reco.center == "push":
            push = grouped_reco_terms(vc, hc, t.groups, cfg.reco.same_class, cfg.reco.axis, t.push_w, t.margin,
                                      t.offset)[1]
        li = pull + cfg.reco.lam * push
        if cfg.decorrelation > 0:  # lateral: the layer's own basal voltages, units decorrelated over the batch
            if n_all != t.B:
                raise ValueError("model.decorrelation > 0 decorrelates units over the batch; it is implemented "
                                 "for one process only (set it to 0 or run without data parallelism)")
            dec = decorrelation_loss(v.reshape(-1, v.shape[-1]))
            li = li + cfg.decorrelation * dec
            logs[f"decor/{i}"] = dec.detach()
        logs[f"reco/pull_{i}"], logs[f"reco/push_{i}"] = pull.detach(), push.detach()
        logs[f"rate/fwd_{i}"], logs[f"rate/bwd_{i}"] = s_own.detach().mean(), above[i - 1].mean()
        return hidden_weight(cfg.loss_weights.hidden, i, n - 1) * li

    def edge_losses(self, stack: SeqStack, t: _Step, spikes: list[torch.Tensor], above: list[torch.Tensor],
                    y: torch.Tensor, logs: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """Weighted recall loss of the stimulus layer and readout loss of the top (the only signed loss)."""
        cfg = self.cfg
        top = self.top_loss(self.readout(stack, [s.detach() for s in spikes]), y)
        recon = stack.stimulus.apical(above[0])[t.inv].reshape(t.P, t.n_all, -1)[:, t.rows]
        recall = F.mse_loss(recon, reduce_positions(spikes[0], self.T))
        logs["loss/concept"], logs["loss/recall"] = top.detach(), recall.detach()
        return cfg.loss_weights.recall * recall, cfg.loss_weights.concept * top


@dataclass
class _Step:
    """What the layer losses of one sequence step share (:meth:`SeqBSD.step_targets`)."""

    B: int  # this process's samples
    P: int  # positions
    n_all: int  # samples of the whole batch (every process)
    offset: int  # where this process's samples start among them
    rows: slice
    uniq: torch.Tensor  # the targets the backward stream runs on (distinct codes for text, every one for forecasts)
    inv: torch.Tensor  # each (position, sample)'s row among them
    counts: torch.Tensor | None
    bins: torch.Tensor | None  # context bins of a GatedCode
    groups: torch.Tensor  # [P, n_all] the target group of each (position, sample)
    push_w: torch.Tensor | None
    margin: torch.Tensor | None
    gates: list[torch.Tensor] | None  # this process's unit gates, per hidden layer
    gates_all: list[torch.Tensor] | None  # the whole batch's
    feedbacks: list[torch.Tensor | None]
