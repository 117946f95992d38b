"""Learning rules for the spiking autoencoder (image -> latent -> image), spec section 5, AE row.

``bsd``: the forward net carries the image up to the reconstruction, the backward net carries
the image (the target) down from the top through the mirrored layers; every hidden layer
distils with ReCo (frequency-aware on image-shaped layers), the top layer with MSE to the
image, the stimulus layer recalls the image from the backward spikes (MSE). ``bp_snn`` and
``bp_ann`` train the forward net end to end on the reconstruction MSE.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from ..config.parts import FrequencyConfig
from ..dist import gather_rows
from ..layers import apply_folded
from ..losses import code_cosines, frequency_split
from ..nets import Stack
from .base import Activation, Rule, forward_net, spiking
from .bp import BP_IGNORED, ANNVariant
from .bsd import BSD, MarginFn
from .local import LayerGrads, local_hidden, own_parameters
from .registry import register

LATENT_SAMPLING = ("bernoulli", "regular")
#: what the latent prior is fitted to: ``rate`` (the latent layer's time-mean spikes, or ReLU outputs) or
#: ``current`` (its time-mean basal voltage, before the soma: samples drive the latent LIF, or ReLU, themselves)
LATENT_SPACES = ("rate", "current")


def latent_index(stack: Stack) -> int:
    """Index of the latent layer: the one fully connected (1-D) hidden layer of the autoencoder."""
    flat = [i for i, layer in enumerate(stack.hidden, start=1) if len(layer.shape) == 1]
    if len(flat) != 1:
        raise ValueError(f"an autoencoder stack has exactly one fully connected hidden layer, found {len(flat)}")
    return flat[0]


def readout_layers(stack: Stack) -> list[int]:
    """Indices of the image-shaped decoder layers (above the latent, below the top)."""
    k = latent_index(stack)
    return [i for i in range(k + 1, stack.depth) if len(stack.layers[i].shape) == 3]


def attach_readouts(stack: Stack) -> Stack:
    """Give each image-shaped decoder layer its own readout: a 1x1 conv from its channels to the image's.

    Used by ``model.image_readout > 0``; the layer owns the readout, so its loss stays local (C2).
    """
    for i in readout_layers(stack):
        stack.layers[i].readout = torch.nn.Conv2d(stack.layers[i].shape[0], stack.in_shape[0], 1)
    return stack


def run_layers(stack: Stack, s: torch.Tensor, first: int, last: int, act: Activation) -> torch.Tensor:
    """Spikes (or activations) of layer ``last`` given the input ``s [T, B, ...]`` of layer ``first``."""
    for layer in stack.layers[first:last + 1]:
        v, _ = layer.basal_voltage(s, update_running=False)
        s = act(layer, v)
    return s


def rates_to_spikes(rates: torch.Tensor, T: int, kind: str, generator: torch.Generator | None = None
                    ) -> torch.Tensor:
    """Rates ``[B, D]`` in [0, 1] to 0/1 spike trains ``[T, B, D]``.

    ``bernoulli``: independent draws per step; ``regular``: round(rate * T) evenly spaced spikes.
    """
    r = rates.clamp(0, 1)
    if kind == "bernoulli":
        u = torch.rand((T, *r.shape), generator=generator, device=r.device)
        return (u < r).to(r.dtype)
    if kind == "regular":
        t = torch.arange(1, T + 1, device=r.device, dtype=r.dtype).reshape(T, *([1] * r.dim()))
        count = torch.floor(t * r + 0.5) - torch.floor((t - 1) * r + 0.5)
        return (count > 0).to(r.dtype)
    raise ValueError(f"model.latent_sampling must be one of {LATENT_SAMPLING}, got {kind!r}")


def image_margins(x: torch.Tensor, cutoff: float | None, centred: bool = False, rows: slice | None = None
                  ) -> MarginFn:
    """Push margins of ``model.reco.margin=code`` for an autoencoder, whose target codes are the images.

    For an image-shaped layer ``[C, h, w]``: the cosines between the images ``x [B, C', H, W]``
    average-pooled to ``h x w`` (and, for a band of frequency-aware ReCo, split into the same band),
    so a layer compares its voltages against the targets' similarity at its own resolution and band;
    ``centred`` (pushes on batch-centred maps, ``model.reco.center=batch|push``): of the batch-centred
    images. For a fully connected layer (whose normalised voltages are centred over the batch): the
    cosines between the batch-centred images. Computed once per shape and band. ``rows``: the images of this
    process's samples among ``x`` (the whole batch of a distributed run), giving ``[b, B]`` margins.
    """
    cache: dict[tuple, torch.Tensor] = {}

    def margin(v: torch.Tensor, band: int | None) -> torch.Tensor:
        key = (tuple(v.shape[1:]), band)
        if key not in cache:
            if v.dim() == 4:
                z = F.adaptive_avg_pool2d(x, v.shape[-2:]) if x.shape[-2:] != v.shape[-2:] else x
                z = z - z.mean(0) if centred else z
                if band is not None:
                    z = frequency_split(z, cutoff)[band]
                z = z.reshape(z.shape[0], -1)
            else:
                z = x.reshape(x.shape[0], -1)
                z = z - z.mean(0)
            cache[key] = code_cosines(z) if rows is None else code_cosines(z[rows], z)
        return cache[key]

    return margin


class AEMixin:
    """What every autoencoder rule shares: reconstruction, latents, decoding of latents."""

    task = "reconstruct"
    activation: Activation

    def reconstruct(self: Rule, stack: Stack, x: torch.Tensor) -> torch.Tensor:
        """Forward-net reconstruction ``[B, C, H, W]`` (time-averaged top voltage)."""
        return forward_net(stack, self.encode(stack, x), self.activation).out.mean(0)

    @torch.no_grad()
    def layer_rates(self: Rule, stack: Stack, x: torch.Tensor, k: int) -> torch.Tensor:
        """Time-averaged output of forward layer ``k`` (firing rates, or ReLU outputs) for images ``x``."""
        return run_layers(stack, self.encode(stack, x), 1, k, self.activation).mean(0)

    @torch.no_grad()
    def latent_currents(self: Rule, stack: Stack, x: torch.Tensor) -> torch.Tensor:
        """Time-mean basal voltage ``[B, D]`` of the latent layer for images ``x`` (what its soma receives)."""
        k = latent_index(stack)
        s = run_layers(stack, self.encode(stack, x), 1, k - 1, self.activation)
        v, _ = stack.layers[k].basal_voltage(s, update_running=False)
        return v.mean(0)

    def latent(self: Rule, stack: Stack, x: torch.Tensor) -> torch.Tensor:
        """Latent code ``[B, D]``: time-averaged spikes (firing rates) of the latent layer, or its ReLU output."""
        return self.layer_rates(stack, x, latent_index(stack))

    @torch.no_grad()
    def decode(self: Rule, stack: Stack, z: torch.Tensor, sampling: str = "bernoulli",
               generator: torch.Generator | None = None, space: str = "rate") -> torch.Tensor:
        """Images ``[B, C, H, W]`` from latent codes ``z [B, D]``.

        ``space = rate``: ``z`` are rates, turned into spike trains by ``sampling``; ``current``: ``z`` are
        latent basal voltages, held for T steps and passed through the latent layer's LIF soma (ReLU).
        """
        k = latent_index(stack)
        if space not in LATENT_SPACES:
            raise ValueError(f"model.latent_space must be one of {LATENT_SPACES}, got {space!r}")
        if space == "current":
            steps = self.T if self.activation is spiking else 1
            s = self.activation(stack.layers[k], z.unsqueeze(0).repeat(steps, *([1] * z.dim())))
        elif self.activation is spiking:
            s = rates_to_spikes(z, self.T, sampling, generator)
        else:
            s = z.clamp(min=0).unsqueeze(0)
        s = run_layers(stack, s, k + 1, stack.depth - 1, self.activation)
        return apply_folded(stack.concept.basal, s).mean(0)


@register("ae", "bsd")
class AEBSD(AEMixin, BSD):
    """BSD on the autoencoder: ReCo per hidden layer against the backward net driven by the image."""

    signed_losses = ("reconstruction MSE (top)", "recall MSE (stimulus)")

    @property
    def frequency(self) -> FrequencyConfig | None:
        """``model.reco.frequency`` when enabled (frequency-aware ReCo on image-shaped layers), else None."""
        f = self.cfg.reco.frequency
        return f if f.enabled else None

    def image_targets(self, stack: Stack, x: torch.Tensor):
        """The stimulus and the backward stream's top for this step, and this process's share of the batch.

        Returns ``(s0, top, rows, offset, margin)``: the backward stream runs on the images of the whole batch
        (every process of a distributed run); ``rows`` (None in one process) picks this process's samples.
        """
        s0 = self.encode(stack, x)
        x_all, offset = gather_rows(x)
        top = s0 if len(x_all) == len(x) else self.encode(stack, x_all)
        rows = None if len(x_all) == len(x) else slice(offset, offset + len(x))
        margin = None
        if self.cfg.reco.margin == "code":
            cut = None if self.frequency is None else self.frequency.cutoff
            margin = image_margins(x_all.reshape(x_all.shape[0], *stack.in_shape), cut,
                                   centred=self.cfg.reco.center != "none", rows=rows)
        return s0, top, rows, offset, margin

    def _own_rows(self, pairs: dict, rows: slice | None) -> dict:
        """``pairs`` with each backward side cut to this process's rows (what each layer is matched against)."""
        if rows is None:
            return pairs
        steps = self.T if self.cfg.reduce_T == "per_step" else 1
        return {i: (v, h.reshape(steps, -1, *h.shape[1:])[:, rows].reshape(v.shape)) for i, (v, h) in pairs.items()}

    def _top_losses(self, stack: Stack, top_in: torch.Tensor, above0: torch.Tensor, x: torch.Tensor,
                    rows: slice | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Reconstruction MSE of the concept layer and recall MSE of the stimulus layer (unweighted)."""
        out = stack.concept.basal(top_in.mean(0))
        mse = F.mse_loss(out, x.reshape(out.shape))
        recon = stack.stimulus.apical(above0.mean(0))
        return mse, F.mse_loss(recon if rows is None else recon[rows], x.reshape(out.shape))

    def layer_losses(self, stack: Stack, code, x: torch.Tensor, y: torch.Tensor):  # noqa: D102
        cfg, n = self.cfg, stack.depth
        s0, top, rows, offset, margin = self.image_targets(stack, x)
        fwd, above, a_stats, own_above = self.streams_from_top(stack, s0, top)
        pairs: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        losses, logs = self.hidden_losses(stack, fwd, above, a_stats, None, None, None, margin=margin,
                                          own_above=own_above, keep=pairs, offset=offset)
        pairs = self._own_rows(pairs, rows)
        mse, recall = self._top_losses(stack, fwd.inputs[-1], above[0], x, rows)
        losses[0], losses[n] = cfg.loss_weights.recall * recall, cfg.loss_weights.concept * mse
        logs["loss/recon"], logs["loss/recall"] = mse.detach(), recall.detach()
        if cfg.image_readout > 0:
            self.add_readout_losses(stack, fwd, x, losses, logs, pairs)
        if cfg.decoder_match > 0:
            self.add_match_losses(stack, pairs, losses, logs)
        return losses, logs

    def local_step(self, stack: Stack, code, x: torch.Tensor, y: torch.Tensor, grad_scale: float = 1.0):
        """:meth:`layer_losses` summed, layer by layer (``model.backward=layer``; see :meth:`BSD.local_step`)."""
        cfg, n = self.cfg, stack.depth
        s0, top, rows, offset, margin = self.image_targets(stack, x)
        with torch.no_grad():
            above, a_stats, _ = self.stream_down(stack, top)
        grads, logs = LayerGrads(grad_scale), {}
        recon = stack.stimulus.apical(above[0].mean(0))
        recall = F.mse_loss(recon if rows is None else recon[rows], x.reshape(x.shape[0], *stack.in_shape))
        grads.add(0, cfg.loss_weights.recall * recall, own_parameters(stack.stimulus))

        def extra(i, fwd, pairs, losses, lg):
            pairs = self._own_rows(pairs, rows)
            if cfg.image_readout > 0 and i in readout_layers(stack):
                self.add_readout_losses(stack, fwd, x, losses, lg, pairs, layers=(i,))
            if cfg.decoder_match > 0 and i > latent_index(stack):
                self.add_match_losses(stack, pairs, losses, lg, layers=(i,))

        s = local_hidden(self, stack, s0, above, a_stats, None, None, None, grads, logs, margin, offset, extra)
        out = stack.concept.basal(s.mean(0))
        mse = F.mse_loss(out, x.reshape(out.shape))
        grads.add(n, cfg.loss_weights.concept * mse, own_parameters(stack.concept))
        logs["loss/recon"], logs["loss/recall"] = mse.detach(), recall.detach()
        return grads.loss([*range(1, n), 0, n]), logs

    def add_match_losses(self, stack: Stack, pairs: dict, losses: dict, logs: dict,
                         layers: Sequence[int] | None = None) -> None:
        """Add ``model.decoder_match`` x each decoder layer's match MSE to that layer's loss.

        The MSE between what the layer's ReCo compares (``pairs[i]``: its time-reduced, normalised
        basal and apical voltages, or rates with ``model.reco.on=spikes``), the apical side detached:
        the forward decoder follows the backward net's image-driven voltages in size as well as in
        direction (ReCo's cosines see only the direction). Layers above the latent, below the top (or those
        of them in ``layers``).
        """
        for i in range(latent_index(stack) + 1, stack.depth):
            if layers is not None and i not in layers:
                continue
            v, v_hat = pairs[i]
            r = F.mse_loss(v, v_hat.detach())
            losses[i] = losses[i] + self.cfg.decoder_match * r
            logs[f"loss/match_{i}"] = r.detach()

    def add_readout_losses(self, stack: Stack, fwd, x: torch.Tensor, losses: dict, logs: dict,
                           pairs: dict | None = None, layers: Sequence[int] | None = None) -> None:
        """Add ``model.image_readout`` x each decoder layer's readout MSE to that layer's loss.

        The layer's 1x1 readout of its own basal voltage predicts the image pooled to its resolution;
        the graph starts at the layer's own W (its input spikes carry none). Where ReCo compared the
        unpooled voltages, ``pairs`` (from :meth:`hidden_losses`) already holds them. ``layers``: only those.
        """
        reuse = pairs is not None and self.cfg.reco.on == "voltage" and self.cfg.reco.pool is None
        img = x.reshape(x.shape[0], *stack.in_shape)
        for i in readout_layers(stack) if layers is None else [j for j in readout_layers(stack) if j in layers]:
            layer = stack.layers[i]
            if not hasattr(layer, "readout"):
                raise ValueError("model.image_readout > 0 needs the stack built with attach_readouts")
            if reuse:
                v = pairs[i][0]
            else:
                v = layer.basal_reduced(self._reduce(fwd.inputs[i - 1]).detach(), fwd.stats[i - 1])
            target = F.adaptive_avg_pool2d(img, v.shape[-2:])
            r = F.mse_loss(layer.readout(v), target.expand(v.shape[0] // img.shape[0], *target.shape)
                           .reshape(-1, *target.shape[1:]))
            losses[i] = losses[i] + self.cfg.image_readout * r
            logs[f"loss/readout_{i}"] = r.detach()


@register("ae", "bp_snn")
class AEBPSNN(AEMixin, Rule):
    """The forward net end to end with BPTT and surrogate gradients on the reconstruction MSE."""

    name = "bp_snn"
    criteria = ("C4",)
    ignored_keys = BP_IGNORED

    def loss(self, stack: Stack, code, x: torch.Tensor, y: torch.Tensor):  # noqa: D102
        out = self.reconstruct(stack, x)
        mse = F.mse_loss(out, x.reshape(out.shape))
        return mse, {"loss/recon": mse.detach()}


@register("ae", "bp_ann")
class AEBPANN(ANNVariant, AEBPSNN):
    """The same autoencoder with ReLU instead of LIF and one time step."""

