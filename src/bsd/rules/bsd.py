"""Bidirectional Spike-based Distillation (spec sections 2-4).

One step: forward stream (no graph) -> backward stream (no graph, once per distinct
label code) -> each layer builds its own loss graph from its own, detached, time-reduced
inputs -> weighted sum. No gradient can cross a layer because no layer's loss graph
contains another layer's parameters.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..coding import LabelCode
from ..losses import decorrelation_loss, frequency_split, reco_terms
from ..nets import Stack
from .base import Rule, forward_net


class BSD(Rule):
    """Forward and backward spiking nets distilled layer by layer with ReCo."""

    name = "bsd"
    criteria = ("C1", "C2", "C3", "C4", "C5")
    #: losses whose gradient is a signed error (reported, spec C5)
    signed_losses = ("concept cross-entropy",)

    def backward_stream(self, stack: Stack, code: LabelCode, labels: torch.Tensor, counts: torch.Tensor):
        """Recall net from the concept codes of ``labels`` (one row per distinct label).

        Returns ``inputs_above[i]`` (spikes of layer i+1 reaching layer i, i = 0..L-1) and
        the apical norm statistics of each hidden layer (weighted by ``counts``).
        """
        return self.stream_down(stack, code(labels, self.T), counts)

    def stream_down(self, stack: Stack, top: torch.Tensor, counts: torch.Tensor | None = None):
        """Backward (recall) stream from what drives the top ``[T, N, ...]`` down to layer 0.

        No graph is kept unless grad is enabled. Returns ``(inputs_above, apical_stats)`` as
        :meth:`backward_stream`.
        """
        s = top
        n = stack.depth
        above: list[torch.Tensor | None] = [None] * n
        stats: list = [None] * (n + 1)
        for i in range(n - 1, 0, -1):
            above[i] = s
            layer = stack.layers[i]
            v_hat, stats[i] = layer.apical_voltage(s, counts)
            s = layer.lif(v_hat)
        above[0] = s
        return above, stats

    def _reduce(self, s: torch.Tensor) -> torch.Tensor:
        """Time-reduced presynaptic spikes: mean over T, or all steps folded (per_step)."""
        return s.mean(0) if self.cfg.reduce_T == "mean" else s.reshape(-1, *s.shape[2:])

    def loss(self, stack: Stack, code: LabelCode, x: torch.Tensor, y: torch.Tensor):  # noqa: D102
        losses, logs = self.layer_losses(stack, code, x, y)
        return sum(losses.values()), logs

    def layer_losses(self, stack: Stack, code: LabelCode, x: torch.Tensor, y: torch.Tensor
                     ) -> tuple[dict[int, torch.Tensor], dict[str, torch.Tensor]]:
        """Weighted local loss of every layer 0..L (each touches only that layer's parameters)."""
        cfg, n = self.cfg, stack.depth
        s0 = self.encode(stack, x)
        uniq, inv = torch.unique(y, return_inverse=True)
        counts = torch.bincount(inv, minlength=uniq.numel())
        with torch.no_grad():
            fwd = forward_net(stack, s0)
            above, a_stats = self.backward_stream(stack, code, uniq, counts)
        losses, logs = self.hidden_losses(stack, fwd, above, a_stats, counts, inv, y)
        logits = code.logits(stack.concept.basal(fwd.inputs[-1].mean(0)))
        ce = F.cross_entropy(logits, y)
        recon = stack.stimulus.apical(above[0].mean(0))[inv]
        mse = F.mse_loss(recon.reshape(x.shape[0], -1), x.reshape(x.shape[0], -1))
        losses[0], losses[n] = cfg.w_recall * mse, cfg.w_concept * ce
        logs["loss/concept"], logs["loss/recall"] = ce.detach(), mse.detach()
        return losses, logs

    def hidden_losses(self, stack: Stack, fwd, above: list, a_stats: list, counts: torch.Tensor | None,
                      inv: torch.Tensor | None, labels: torch.Tensor | None
                      ) -> tuple[dict[int, torch.Tensor], dict[str, torch.Tensor]]:
        """Weighted ReCo loss of every hidden layer 1..L-1 and its diagnostics.

        The backward stream ran once per distinct target (``inv`` maps samples to its rows,
        ``counts`` weights them) or once per sample (``inv`` None). ``labels`` (or None) feeds
        ReCo's ``same_class`` handling. Image-shaped layers use frequency-aware ReCo when
        ``freq_cutoff`` is set.
        """
        cfg, T, n = self.cfg, self.T, stack.depth
        per_step = cfg.reduce_T == "per_step"
        steps = T if per_step else 1
        if labels is not None and per_step:
            labels = labels.repeat(steps)
        logs: dict[str, torch.Tensor] = {}
        losses: dict[int, torch.Tensor] = {}
        for i, layer in enumerate(stack.hidden, start=1):
            w = None if counts is None else (counts.repeat(steps) if per_step else counts)
            if cfg.reco_on == "spikes":  # local graph through this layer's own LIF (surrogate)
                v = self._reduce(layer.lif(layer.basal_voltage(fwd.inputs[i - 1], update_running=False)[0]))
                v_hat = self._reduce(layer.lif(layer.apical_voltage(above[i], counts, update_running=False)[0]))
            else:
                v = layer.basal_reduced(self._reduce(fwd.inputs[i - 1]), fwd.stats[i - 1])
                v_hat = layer.apical_reduced(self._reduce(above[i]), a_stats[i], w)
            if inv is not None:
                v_hat = _gather(v_hat, inv, counts.numel(), steps)
            if cfg.freq_cutoff is not None and v.dim() == 4:
                (pl, ql), (ph, qh) = _per_step_frequency_terms(v, v_hat, labels, cfg.same_class, steps,
                                                               cfg.freq_cutoff)
                pull, push = pl + ph, ql + qh
                li = pl + cfg.lam_low * ql + ph + cfg.lam_high * qh
            else:
                pull, push = _per_step_terms(v, v_hat, labels, cfg.same_class, steps)
                li = pull + cfg.lam * push
            if cfg.decorrelation > 0:
                dec = decorrelation_loss(v)
                li = li + cfg.decorrelation * dec
                logs[f"decor/{i}"] = dec.detach()
            losses[i] = cfg.hidden_weight(i, n - 1) * li
            logs[f"reco/pull_{i}"], logs[f"reco/push_{i}"] = pull.detach(), push.detach()
            with torch.no_grad():  # cheap reductions, no spike history kept
                s_fwd = fwd.inputs[i]
                s_bwd = above[i - 1] if inv is None else above[i - 1][:, inv]
                logs[f"rate/fwd_{i}"], logs[f"rate/bwd_{i}"] = s_fwd.mean(), s_bwd.mean()
                logs[f"hamming/{i}"] = (s_fwd == s_bwd).float().mean()
        return losses, logs


def _gather(v_hat: torch.Tensor, inv: torch.Tensor, n_uniq: int, steps: int) -> torch.Tensor:
    """Expand per-distinct-label rows to per-sample rows (per time step when folded)."""
    if steps == 1:
        return v_hat[inv]
    v = v_hat.reshape(steps, n_uniq, *v_hat.shape[1:])[:, inv]
    return v.reshape(-1, *v.shape[2:])


def _per_step_terms(v, v_hat, labels, same_class: str, steps: int):
    if steps == 1:
        return reco_terms(v, v_hat, labels, same_class)
    b = v.shape[0] // steps
    terms = [reco_terms(v[t * b:(t + 1) * b], v_hat[t * b:(t + 1) * b], None if labels is None else labels[:b],
                        same_class) for t in range(steps)]
    return sum(t[0] for t in terms) / steps, sum(t[1] for t in terms) / steps


def _per_step_frequency_terms(v, v_hat, labels, same_class: str, steps: int, cutoff: float):
    """``((pull_low, push_low), (pull_high, push_high))``: ReCo terms of each spatial-frequency band."""
    vl, vh = frequency_split(v, cutoff)
    hl, hh = frequency_split(v_hat, cutoff)
    return (_per_step_terms(vl, hl, labels, same_class, steps), _per_step_terms(vh, hh, labels, same_class, steps))
