"""Bidirectional Spike-based Distillation (spec sections 2-4).

One step: forward stream (no graph) -> backward stream (no graph, once per distinct
label code) -> each layer builds its own loss graph from its own, detached, time-reduced
inputs -> weighted sum. With ``model.reco.on=spikes`` the two streams themselves keep each
layer's graph (every layer's input detached), so the firing rates are not simulated twice.
No gradient can cross a layer because no layer's loss graph contains another layer's parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

from ..coding import LabelCode
from ..compact import SpikeMeanStore
from ..config.parts import FrequencyConfig
from ..dist import distributed, gather_rows
from ..losses import (
    center_batch,
    code_cosines,
    decorrelation_loss,
    frequency_split,
    grouped_reco_terms,
    unique_reco_terms,
)
from ..nets import Stack
from .base import Rule, forward_net, hidden_weight
from .local import LayerGrads, local_hidden, own_parameters
from .registry import register

#: ``margin(v, band)``: the push margins of the pairs a layer compares (``model.reco.margin=code``), given
#: that layer's reduced voltage ``v [steps*B, ...]`` and the band (None, 0 = low, 1 = high)
MarginFn = Callable[[torch.Tensor, int | None], torch.Tensor]


@register("image", "bsd")
class BSD(Rule):
    """Forward and backward spiking nets distilled layer by layer with ReCo."""

    name = "bsd"
    #: every loss reaches one layer's parameters only (clipping: ``model.optimizer.clip_local``)
    layer_local = True
    criteria = ("C1", "C2", "C3", "C4", "C5")
    #: losses whose gradient is a signed error (reported, spec C5)
    signed_losses = ("concept cross-entropy",)
    #: config keys bsd never reads
    ignored_keys = ("model.bp_credit",)

    @property
    def frequency(self) -> FrequencyConfig | None:
        """Frequency-aware ReCo's settings where they apply (the autoencoder's image-shaped layers), else None."""
        return None

    def backward_stream(self, stack: Stack, code: LabelCode, labels: torch.Tensor, counts: torch.Tensor,
                        local: bool = False):
        """Recall net from the concept codes of ``labels`` (one row per distinct label).

        Returns ``inputs_above[i]`` (spikes of layer i+1 reaching layer i, i = 0..L-1), the
        apical norm statistics of each hidden layer (weighted by ``counts``) and ``own`` (see
        :meth:`stream_down`).
        """
        return self.stream_down(stack, code(labels, self.T), counts, local)

    def stream_down(self, stack: Stack, top: torch.Tensor, counts: torch.Tensor | None = None, local: bool = False):
        """Backward (recall) stream from what drives the top ``[T, N, ...]`` down to layer 0.

        No graph is kept unless grad is enabled. Returns ``(inputs_above, apical_stats, own)`` as
        :meth:`backward_stream`; ``local``: each layer receives its input detached and ``own[i]`` holds
        hidden layer i's apically driven spikes with that layer's graph only (otherwise all None).
        """
        s = top
        n = stack.depth
        above: list[torch.Tensor | None] = [None] * n
        own: list[torch.Tensor | None] = [None] * n
        stats: list = [None] * (n + 1)
        for i in range(n - 1, 0, -1):
            above[i] = s
            layer = stack.layers[i]
            v_hat, stats[i] = layer.apical_voltage(s, counts)
            s = layer.lif(v_hat)
            if local:
                own[i], s = s, s.detach()
        above[0] = s
        return above, stats, own

    def streams_from_labels(self, stack: Stack, s0: torch.Tensor, code: LabelCode, labels: torch.Tensor,
                            counts: torch.Tensor):
        """Both streams for one classifier step, the backward one driven by the codes of ``labels``.

        Returns ``(forward trace, inputs_above, apical_stats, own_above)`` (see :meth:`_streams`).
        """
        return self._streams(stack, s0, lambda local: self.backward_stream(stack, code, labels, counts, local))

    def streams_from_top(self, stack: Stack, s0: torch.Tensor, top: torch.Tensor,
                         counts: torch.Tensor | None = None):
        """Both streams for one step whose backward stream starts from the spikes ``top`` (the autoencoder's image).

        Returns ``(forward trace, inputs_above, apical_stats, own_above)`` (see :meth:`_streams`).
        """
        return self._streams(stack, s0, lambda local: self.stream_down(stack, top, counts, local))

    def _streams(self, stack: Stack, s0: torch.Tensor, down):
        """Forward net on ``s0`` and the backward stream ``down(local)``.

        With ``model.reco.on=spikes`` each hidden layer keeps its own graph (inputs detached; the
        forward trace's ``own`` and ``own_above``), otherwise nothing keeps a graph.
        """
        local = self.cfg.reco.on == "spikes"
        with torch.set_grad_enabled(local and torch.is_grad_enabled()):
            return (forward_net(stack, s0, local=local), *down(local))

    def _reduce(self, s: torch.Tensor, store: SpikeMeanStore | None = None) -> torch.Tensor:
        """Time-reduced presynaptic input: mean over T, or all steps folded (per_step).

        ``store``: ``s`` holds 0/1 spikes and the loss graph may keep their mean as uint8 counts.
        """
        if self.cfg.reduce_T == "mean":
            return _time_mean(s, store)
        return s.reshape(-1, *s.shape[2:])

    @property
    def layer_by_layer(self) -> bool:
        """Whether :meth:`loss` takes each layer's gradient in turn (``model.backward=layer``, gradients enabled)."""
        return self.cfg.backward == "layer" and torch.is_grad_enabled()

    def loss(self, stack: Stack, code: LabelCode, x: torch.Tensor, y: torch.Tensor, grad_scale: float = 1.0
             ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The sum of :meth:`layer_losses` and their diagnostics.

        With ``model.backward=layer`` the layers' gradients are taken one layer at a time (:meth:`local_step`;
        ``grad_scale``: the trainer's loss scale) and the returned loss hands them to the backward pass.
        """
        if self.layer_by_layer:
            return self.local_step(stack, code, x, y, grad_scale)
        losses, logs = self.layer_losses(stack, code, x, y)
        return sum(losses.values()), logs

    def label_targets(self, code: LabelCode, x: torch.Tensor, y: torch.Tensor):
        """The distinct targets of the whole batch and how this process's samples map onto them.

        Returns ``(uniq, inv, counts, own_counts, margin)``: the distinct labels of every process's batch, each
        local sample's row among them, each row's count over the whole batch and over this process's samples,
        and the push margins of ``model.reco.margin=code`` (or None).
        """
        y_all, offset = gather_rows(y)
        uniq, inv_all = torch.unique(y_all, return_inverse=True)
        counts = torch.bincount(inv_all, minlength=uniq.numel())
        inv = inv_all[offset:offset + len(y)]  # this process's samples: rows of the distinct targets
        own_counts = counts if len(y) == len(y_all) else torch.bincount(inv, minlength=uniq.numel())
        margin = None
        if self.cfg.reco.margin == "code":  # each sample against each distinct target: the cosine of their codes
            m = code_cosines(code.vectors(y).to(x.dtype), code.vectors(uniq).to(x.dtype))

            def margin(v, band):
                return m
        return uniq, inv, counts, own_counts, margin

    def local_step(self, stack: Stack, code: LabelCode, x: torch.Tensor, y: torch.Tensor, grad_scale: float = 1.0
                   ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """:meth:`loss` layer by layer: the backward stream without a graph, then one layer's graph at a time.

        The recall loss, each hidden layer's ReCo (:func:`local_hidden`) and the concept loss are differentiated
        as soon as they are built; the values and gradients are those of the joint step.
        """
        cfg, n = self.cfg, stack.depth
        s0 = self.encode(stack, x)
        uniq, inv, counts, own_counts, margin = self.label_targets(code, x, y)
        with torch.no_grad():
            above, a_stats, _ = self.backward_stream(stack, code, uniq, counts)
        grads, logs = LayerGrads(grad_scale), {}
        with SpikeMeanStore(self.T) as store:
            mse = grouped_mse(stack.stimulus.apical(_time_mean(above[0], store)), x, inv, own_counts)
            grads.add(0, cfg.loss_weights.recall * mse, own_parameters(stack.stimulus))
        s = local_hidden(self, stack, s0, above, a_stats, counts, inv, y, grads, logs, margin)
        with SpikeMeanStore(self.T) as store:
            ce = F.cross_entropy(code.logits(stack.concept.basal(_time_mean(s, store))), y)
            grads.add(n, cfg.loss_weights.concept * ce, own_parameters(stack.concept))
        logs["loss/concept"], logs["loss/recall"] = ce.detach(), mse.detach()
        return grads.loss([*range(1, n), 0, n]), logs

    def layer_losses(self, stack: Stack, code: LabelCode, x: torch.Tensor, y: torch.Tensor
                     ) -> tuple[dict[int, torch.Tensor], dict[str, torch.Tensor]]:
        """Weighted local loss of every layer 0..L (each touches only that layer's parameters)."""
        cfg, n = self.cfg, stack.depth
        s0 = self.encode(stack, x)
        # the backward stream runs on the distinct targets of the whole batch (every process of a distributed run)
        uniq, inv, counts, own_counts, margin = self.label_targets(code, x, y)
        fwd, above, a_stats, own_above = self.streams_from_labels(stack, s0, code, uniq, counts)
        with SpikeMeanStore(self.T) as store:
            losses, logs = self.hidden_losses(stack, fwd, above, a_stats, counts, inv, y, store, margin, own_above)
            logits = code.logits(stack.concept.basal(_time_mean(fwd.inputs[-1], store)))
            ce = F.cross_entropy(logits, y)
            mse = grouped_mse(stack.stimulus.apical(_time_mean(above[0], store)), x, inv, own_counts)
        losses[0], losses[n] = cfg.loss_weights.recall * mse, cfg.loss_weights.concept * ce
        logs["loss/concept"], logs["loss/recall"] = ce.detach(), mse.detach()
        return losses, logs

    def hidden_losses(self, stack: Stack, fwd, above: list, a_stats: list, counts: torch.Tensor | None,
                      inv: torch.Tensor | None, labels: torch.Tensor | None, store: SpikeMeanStore | None = None,
                      margin: MarginFn | None = None, own_above: list | None = None,
                      keep: dict | None = None, offset: int = 0, layers: Sequence[int] | None = None
                      ) -> tuple[dict[int, torch.Tensor], dict[str, torch.Tensor]]:
        """Weighted ReCo loss of every hidden layer 1..L-1 (or of ``layers``) and its diagnostics.

        The backward stream ran once per distinct target (``inv`` maps samples to its rows,
        ``counts`` weights them) or once per sample (``inv`` None). ``labels`` (or None) feeds
        ReCo's ``same_class`` handling. Image-shaped layers use frequency-aware ReCo when
        ``freq_cutoff`` is set. ``store`` (optional) keeps the saved spike means compact; it is
        told which inputs are spikes: the outputs of hidden layers in either stream. ``margin``
        (optional) gives each layer's push margins (``model.reco.margin=code``). With
        ``model.reco.on=spikes`` the streams must have run with ``local`` (:meth:`streams`): ReCo
        compares ``fwd.own`` with ``own_above``. ``keep`` (optional dict) receives each layer's
        ``(v, v_hat)`` as ReCo sees them before centring (time-reduced, normalised, pooled). ``layers``: the
        hidden layers to compute (the layer-by-layer step passes one at a time; the streams' other entries may
        be None).
        """
        cfg, n = self.cfg, stack.depth
        steps = self.T if cfg.reduce_T == "per_step" else 1
        same_class = cfg.reco.same_class if labels is not None else "negative"
        w = None if counts is None else counts.repeat(steps)
        logs: dict[str, torch.Tensor] = {}
        losses: dict[int, torch.Tensor] = {}
        vs, plain, banded = {}, {}, {}
        # model.reco.center: batch compares centred voltages; push: the pull sees the raw voltages, the
        # push the centred ones (a pattern shared by every sample is pulled but never pushed away)
        center, pairs_for = cfg.reco.center, {}
        for i in range(1, n) if layers is None else layers:
            layer = stack.layers[i]
            if cfg.reco.on == "spikes":  # local graph through this layer's own LIF (surrogate), kept by the streams
                if fwd.own is None or own_above is None or own_above[i] is None:
                    raise ValueError("model.reco.on=spikes needs the streams run with local=True (BSD.streams)")
                v, v_hat = self._reduce(fwd.own[i - 1]), self._reduce(own_above[i])
            else:
                v = layer.basal_reduced(self._reduce(fwd.inputs[i - 1], store if i > 1 else None), fwd.stats[i - 1])
                v_hat = layer.apical_reduced(self._reduce(above[i], store if i < n - 1 else None), a_stats[i], w)
            if cfg.reco.pool is not None and v.dim() == 4:  # model.reco.pool: compare maps pooled to k x k
                k = (min(int(cfg.reco.pool), v.shape[-2]), min(int(cfg.reco.pool), v.shape[-1]))
                if k != tuple(v.shape[-2:]):  # a map no larger than k x k is compared as it is
                    v, v_hat = F.adaptive_avg_pool2d(v, k), F.adaptive_avg_pool2d(v_hat, k)
            raw = (v, v_hat)
            if keep is not None:
                keep[i] = raw
            # the forward side holds this process's rows (centred over every process's), the backward side the batch's
            centred = ((center_batch(v, steps, sync=True), center_batch(v_hat, steps, counts)) if center != "none"
                       else raw)
            vs[i] = centred[0] if center == "batch" else v
            pairs_for[i] = (centred if center == "batch" else raw, centred)  # (pull pair, push pair)
        for i, (pull_pair, push_pair) in pairs_for.items():
            if self.frequency is not None and pull_pair[0].dim() == 4:
                banded[i] = self._banded_terms(pull_pair, push_pair, labels, same_class, steps, inv, counts, margin,
                                               offset)
            else:
                plain[i] = (pull_pair, push_pair)
        terms = _layer_terms({i: p for i, (p, _) in plain.items()}, labels, same_class, steps, inv, counts, margin,
                             offset)
        if center == "push":
            pushes = _layer_terms({i: q for i, (_, q) in plain.items()}, labels, same_class, steps, inv, counts,
                                  margin, offset)
            terms = {i: (terms[i][0], pushes[i][1]) for i in terms}
        for i, v in vs.items():
            if i in banded:
                (pl, ql), (ph, qh) = banded[i]
                pull, push = pl + ph, ql + qh
                f = self.frequency
                li = pl + f.lam_low * ql + f.w_high * (ph + f.lam_high * qh)
            else:
                pull, push = terms[i]
                li = pull + cfg.reco.lam * push
            if cfg.decorrelation > 0:
                if distributed():
                    raise ValueError("model.decorrelation > 0 decorrelates units over the batch; it is implemented "
                                     "for one process only (set it to 0 or run without data parallelism)")
                dec = decorrelation_loss(v)
                li = li + cfg.decorrelation * dec
                logs[f"decor/{i}"] = dec.detach()
            losses[i] = hidden_weight(cfg.loss_weights.hidden, i, n - 1) * li
            logs[f"reco/pull_{i}"], logs[f"reco/push_{i}"] = pull.detach(), push.detach()
            rows = inv
            if rows is None and above[i - 1].shape[1] != fwd.inputs[i].shape[1]:  # this process's share of the batch
                rows = torch.arange(offset, offset + fwd.inputs[i].shape[1], device=fwd.inputs[i].device)
            logs[f"rate/fwd_{i}"], logs[f"rate/bwd_{i}"], logs[f"hamming/{i}"] = spike_agreement(
                fwd.inputs[i], above[i - 1], rows)
        return losses, logs

    def _banded_terms(self, pull_pair, push_pair, labels, same_class, steps, inv, counts, margin=None, offset=0):
        """Frequency-aware ReCo terms ``((pull_low, push_low), (pull_high, push_high))`` of one layer.

        With ``margin``, each band's pushes start at the margins of that band.
        """
        cut = self.frequency.cutoff

        def band_terms(pair):
            (vl, vh), (hl, hh) = frequency_split(pair[0], cut), frequency_split(pair[1], cut)
            m_low, m_high = (None, None) if margin is None else (margin(pair[0], 0), margin(pair[0], 1))
            return (_terms(vl, hl, labels, same_class, steps, inv, counts, m_low, offset),
                    _terms(vh, hh, labels, same_class, steps, inv, counts, m_high, offset))

        low, high = band_terms(pull_pair)
        if push_pair is pull_pair:
            return low, high
        push_low, push_high = band_terms(push_pair)
        return (low[0], push_low[1]), (high[0], push_high[1])


def _layer_terms(pairs: dict[int, tuple[torch.Tensor, torch.Tensor]], labels: torch.Tensor | None, same_class: str,
                 steps: int, inv: torch.Tensor | None, counts: torch.Tensor | None, margin: MarginFn | None = None,
                 offset: int = 0
                 ) -> dict[int, tuple[torch.Tensor, torch.Tensor]]:
    """ReCo terms of every layer's ``(v, v_hat)``; layers of one width share one batched call.

    Batching only changes how the work is dispatched: each layer's terms depend on its own
    tensors alone (the other layers' entries of the batched gradient are exactly zero). With
    distinct targets (``inv``) the margins are the same for every layer, so batching keeps them.
    """
    def m(v):
        return None if margin is None else margin(v, None)
    if inv is None:
        return {i: _terms(v, h, labels, same_class, steps, inv, counts, m(v), offset) for i, (v, h) in pairs.items()}
    by_width: dict[int, list[int]] = {}
    for i, (v, _) in pairs.items():
        by_width.setdefault(v[0].numel(), []).append(i)
    out = {}
    for d, idx in by_width.items():
        first = pairs[idx[0]][0]
        if len(idx) == 1:
            out[idx[0]] = _terms(*pairs[idx[0]], labels, same_class, steps, inv, counts, m(first))
            continue
        b = first.shape[0] // steps
        v = torch.stack([pairs[i][0].reshape(steps, b, d) for i in idx]).reshape(len(idx) * steps, b, d)
        h = torch.stack([pairs[i][1].reshape(steps, -1, d) for i in idx]).reshape(len(idx) * steps, -1, d)
        pull, push = unique_reco_terms(v, h, inv, counts, same_class, per_group=True, push_margin=m(first))
        pull, push = pull.reshape(len(idx), steps).mean(1), push.reshape(len(idx), steps).mean(1)
        out.update({i: (pull[k], push[k]) for k, i in enumerate(idx)})
    return out


def _time_mean(s: torch.Tensor, store: SpikeMeanStore | None = None) -> torch.Tensor:
    """Mean over T of ``[T, N, ...]``, marked in ``store`` as spikes if given."""
    if s.stride(0) == 0:  # a constant (direct-coded) stimulus: no copy
        return s[0]
    m = s.mean(0)
    return store.mark(m) if store is not None else m


@torch.no_grad()
def spike_agreement(s_fwd: torch.Tensor, s_bwd: torch.Tensor, inv: torch.Tensor | None
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Firing rates of the two streams and the fraction of (step, sample, unit) where they agree.

    ``s_fwd`` is ``[T, B, ...]``; ``s_bwd`` is ``[T, B, ...]``, or ``[T, U, ...]`` with one row per
    distinct target when ``inv [B]`` maps samples to rows. With distinct rows the streams are not expanded:
    for 0/1 spikes the disagreements are ``sum s_fwd + sum s_bwd[inv] - 2 sum s_fwd s_bwd[inv]``, whose last
    term reads each sample's spikes in common with every distinct row off one batched matmul.
    """
    if inv is None:
        return s_fwd.mean(), s_bwd.mean(), (s_fwd == s_bwd).float().mean()
    T, B = s_fwd.shape[:2]
    f, b = s_fwd.reshape(T, B, -1), s_bwd.reshape(T, s_bwd.shape[1], -1)
    n = f.numel()
    fired_f = f.sum()
    fired_b = b.sum((0, 2)) @ torch.bincount(inv, minlength=b.shape[1]).to(b.dtype)
    common = torch.bmm(f, b.transpose(1, 2)).gather(2, inv.reshape(1, B, 1).expand(T, B, 1)).sum()
    return fired_f / n, fired_b / n, 1 - (fired_f + fired_b - 2 * common) / n


def grouped_mse(recon: torch.Tensor, x: torch.Tensor, inv: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """``mse(recon[inv], x)`` from the ``U`` distinct rows ``recon [U, ...]`` without expanding them.

    ``sum_k |r_inv(k) - x_k|^2 = sum_u counts_u |r_u|^2 - 2 sum_u r_u . X_u + sum_k |x_k|^2`` with
    ``X_u`` the sum of the samples mapped to row ``u``; the graph keeps ``[U, D]`` tensors only.
    """
    r = recon.reshape(recon.shape[0], -1)
    xf = x.reshape(x.shape[0], -1).to(r.dtype)
    xs = r.new_zeros(r.shape).index_add_(0, inv, xf.detach())
    sq = (r.square().sum(1) * counts.to(r.dtype)).sum() - 2 * (r * xs).sum() + xf.square().sum()
    return sq.clamp(min=0) / xf.numel()


def _terms(v: torch.Tensor, v_hat: torch.Tensor, labels: torch.Tensor | None, same_class: str, steps: int,
           inv: torch.Tensor | None, counts: torch.Tensor | None, margin: torch.Tensor | None = None,
           offset: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """ReCo terms per time step (``steps`` folded into the rows) averaged over steps.

    ``margin``: push margins ``[B, B]`` (one target per sample) or ``[B, U]`` (distinct targets). With one
    target per sample (``inv`` None) ``v_hat`` may hold the whole batch of a distributed run, ``v`` its rows from
    ``offset`` on (``labels`` are then the whole batch's).
    """
    b = v.shape[0] // steps
    vg = v.reshape(steps, b, -1)
    if inv is None:
        n = v_hat.shape[0] // steps
        lab = None if labels is None else labels[:n].reshape(1, n).expand(steps, n)
        return grouped_reco_terms(vg, v_hat.reshape(steps, n, -1), lab, same_class,
                                  push_margin=None if margin is None else margin.unsqueeze(0), offset=offset)
    return unique_reco_terms(vg, v_hat.reshape(steps, -1, vg.shape[-1]), inv, counts, same_class, push_margin=margin)
